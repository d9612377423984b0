/*
 * api/search.c — search by value (the correlation index) and by text over
 * names, descriptions and labels (FTS5, or PostgreSQL's tsvector), filtered
 * by type, label, organisation, TLP and time; every result through the
 * sharing policy. Answers `tix search` and GET /api/v1/search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "values/values.h"

struct searching {
	struct store *s;
	const struct api_reader *r;
	const struct api_query *q;
	int tlp; /* wanted level, or -1 */
	json_t *results;
	size_t n;
	int full;
	const char *how; /* "value" or "text" */
	int64_t now_us;
	int64_t seen[API_SEARCH_MAX * 2 + 2];
	size_t nseen;
};

static int has_label(const json_t *obj, const char *label)
{
	const json_t *l;
	size_t i;

	json_array_foreach (json_object_get(obj, "labels"), i, l)
		if (json_is_string(l) && strcasecmp(json_string_value(l), label) == 0)
			return 1;
	return 0;
}

static int type_wanted(const struct api_query *q, const char *type)
{
	if (q->ntypes == 0)
		return 1;
	for (size_t i = 0; i < q->ntypes; i++)
		if (strcmp(q->types[i], type) == 0)
			return 1;
	return 0;
}

static int on_result(void *arg, const struct store_value_hit *h)
{
	struct searching *x = arg;
	struct policy_object o = api_policy_object(h);
	int tlp = policy_effective_tlp(&x->r->node, &o);
	json_t *body, *res;
	const char *name;
	double score = -1;

	for (size_t i = 0; i < x->nseen; i++)
		if (x->seen[i] == h->vid)
			return 0;
	if (!type_wanted(x->q, h->type) ||
	    (x->q->org && !(h->aud.owner_org && strcmp(x->q->org, h->aud.owner_org) == 0)))
		return 0;
	if (x->tlp >= 0 && tlp != x->tlp)
		return 0;
	if (!api_may_read(x->r, h))
		return 0; /* neither listed nor counted */
	if ((body = json_loadb(h->body, h->body_len, 0, NULL)) == NULL)
		return 0;
	if (x->q->since_us) {
		struct tix_time t;
		const char *m = json_string_value(json_object_get(body, "modified"));

		if (m == NULL)
			m = json_string_value(json_object_get(body, "created"));
		if (m == NULL || tix_time_parse(m, &t, NULL) != TIX_OK ||
		    tix_time_to_us(&t) < x->q->since_us) {
			json_decref(body);
			return 0;
		}
	}
	if (x->q->label && !has_label(body, x->q->label)) {
		json_decref(body);
		return 0;
	}
	if (strcmp(h->type, "indicator") == 0) {
		score = api_indicator_score(x->s, x->r, x->r->decay, body, x->now_us);
		if (x->q->min_score >= 0 && score < x->q->min_score) {
			json_decref(body);
			return 0;
		}
	} else if (x->q->min_score >= 0) {
		json_decref(body);
		return 0; /* only indicators have a score */
	}
	if (x->n == x->q->limit) {
		json_decref(body);
		x->full = 1;
		return 1;
	}
	name = json_string_value(json_object_get(body, "name"));
	res = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "id", h->id, "type", h->type, "match",
	                x->how, "org",
	                h->aud.owner_org ? json_string(h->aud.owner_org) : json_null(), "country",
	                h->country && h->country[0] ? json_string(h->country) : json_null(), "tlp",
	                stix_tlp_name(tlp));
	if (name)
		json_object_set_new(res, "name", json_string(name));
	if (json_object_get(body, "modified"))
		json_object_set(res, "modified", json_object_get(body, "modified"));
	if (json_object_get(body, "labels"))
		json_object_set(res, "labels", json_object_get(body, "labels"));
	if (score >= 0)
		json_object_set_new(res, "score", json_real((double)(int)(score * 10 + 0.5) / 10));
	json_decref(body);
	json_array_append_new(x->results, res);
	x->seen[x->nseen++] = h->vid;
	x->n++;
	return 0;
}

static int tlp_level(const char *name)
{
	static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};

	for (int i = 0; i < 5; i++)
		if (name && strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

enum tix_err api_search(struct store *s, const struct api_reader *r, const struct api_query *q,
                        json_t **out, struct tix_error *err)
{
	struct searching *x;
	struct tix_buf expr;
	const char *text = q->q ? q->q : "";
	int more = 0, stopped = 0;
	enum tix_err e = TIX_OK;
	char since[40] = "";

	if (text[0] == '\0' && q->label == NULL)
		return tix_error_set(err, TIX_EINVAL, "q", "give something to search for");
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, "search", "out of memory");
	x->s = s;
	x->r = r;
	x->q = q;
	x->tlp = q->tlp ? tlp_level(q->tlp) : -1;
	{
		struct tix_time now;

		tix_time_now(&now);
		x->now_us = tix_time_to_us(&now);
	}
	x->results = json_array();
	tix_buf_init(&expr, 1 << 16);
	/* a value: the objects carrying it first */
	if (text[0]) {
		struct values_item v;
		char buf[VALUES_MAX_LEN + 64];
		const char *why;

		if (values_classify(text, strlen(text), &v, buf, sizeof(buf), &why) == 0) {
			struct store_value_find f = {
			        &v, r->org_key, API_CORRELATE_BUDGET, on_result, x, 0, NULL};

			x->how = "value";
			e = store_values_find(s, &f, &stopped, err);
		}
	}
	/* then the text */
	if (e == TIX_OK && !x->full) {
		struct store_text_query tq = {0};

		if (text[0]) {
			e = api_fts_expression(text, strlen(text), &expr, err);
			if (e == TIX_EINVAL && x->n > 0) { /* a value with no words: fine */
				e = TIX_OK;
				goto done;
			}
		} else {
			/* a label alone: its words as a phrase in the labels column */
			struct tix_buf words;

			tix_buf_init(&words, 1 << 16);
			e = api_fts_expression(q->label, strlen(q->label), &words, err);
			if (e == TIX_OK) {
				tix_buf_adds(&expr, "labels : \"");
				for (const char *p = tix_buf_str(&words); *p; p++)
					if (*p != '"' && *p != '*')
						tix_buf_addc(&expr, *p);
				tix_buf_addc(&expr, '"');
			}
			tix_buf_release(&words);
		}
		if (e != TIX_OK)
			goto done;
		if (q->since_us) {
			struct tix_time t;

			tix_time_from_us(q->since_us, &t);
			tix_time_canonical(&t, since);
		}
		tq.match = tix_buf_str(&expr);
		tq.types = q->ntypes ? q->types : NULL;
		tq.org = q->org;
		tq.since_modified = since[0] ? since : NULL;
		tq.reader_org_key = r->org_key;
		x->how = "text";
		e = store_text_search(s, &tq, on_result, x, &more, err);
	}
done:
	tix_buf_release(&expr);
	if (e != TIX_OK) {
		json_decref(x->results);
		free(x);
		return e;
	}
	*out = json_pack("{s:o, s:b}", "results", x->results, "more", x->full || (more && x->n));
	free(x);
	return TIX_OK;
}

void api_search_answer(struct store *s, const struct api_reader *r, const struct api_query *q,
                       struct api_response *resp)
{
	struct tix_error err;
	json_t *out = NULL;
	enum tix_err e;

	tix_error_clear(&err);
	e = api_search(s, r, q, &out, &err);
	if (e == TIX_EINVAL) {
		api_answer_error(resp, 400, "Bad request", err.msg);
		return;
	}
	if (e != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
		return;
	}
	{
		const json_t *res;
		size_t i;

		json_array_foreach (json_object_get(out, "results"), i, res) {
			if (tix_buf_len(&resp->audit_ids) == 0)
				tix_buf_addc(&resp->audit_ids, '\n');
			tix_buf_adds(&resp->audit_ids,
			             json_string_value(json_object_get(res, "id")));
			tix_buf_addc(&resp->audit_ids, '\n');
		}
	}
	api_answer_json(resp, out);
	json_decref(out);
}
