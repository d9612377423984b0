/*
 * api/routes.c — the resources under /api/v1/ (docs/api.md): parameters
 * read and bounded here (api_query_parse, api_fts_expression: both fuzzed),
 * answers made by api.c and search.c, JSON out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

void api_response_init(struct api_response *r)
{
	memset(r, 0, sizeof(*r));
	tix_buf_init(&r->body, TIX_BUF_UNLIMITED);
	tix_buf_init(&r->audit_ids, TIX_BUF_UNLIMITED);
}

void api_response_release(struct api_response *r)
{
	tix_buf_release(&r->body);
	tix_buf_release(&r->audit_ids);
}

void api_answer_error(struct api_response *resp, int status, const char *title, const char *detail)
{
	json_t *e = json_pack("{s:s, s:s}", "title", title, "description", detail ? detail : "");
	char *text;

	if (e == NULL && detail != NULL) {
		/* The detail quotes the caller's input, which need not be UTF-8: say it
		 * in ASCII, each other byte as '?', rather than answer nothing. */
		char safe[512];
		size_t i;

		for (i = 0; i < sizeof(safe) - 1 && detail[i] != '\0'; i++)
			safe[i] = (detail[i] >= 0x20 && detail[i] < 0x7f) ? detail[i] : '?';
		safe[i] = '\0';
		e = json_pack("{s:s, s:s}", "title", title, "description", safe);
	}
	text = json_dumps(e, JSON_COMPACT);

	resp->status = status;
	tix_buf_reset(&resp->body);
	if (text)
		tix_buf_adds(&resp->body, text);
	free(text);
	json_decref(e);
}

void api_answer_json(struct api_response *resp, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);

	if (text == NULL) {
		api_answer_error(resp, 500, "Internal error", "out of memory");
		return;
	}
	resp->status = 200;
	tix_buf_reset(&resp->body);
	tix_buf_adds(&resp->body, text);
	free(text);
}

/* ---- parameters -------------------------------------------------------------- */

static int valid_type_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 250)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

enum tix_err api_query_parse(const struct api_param *params, size_t n, struct api_query *q,
                             struct tix_error *err)
{
	memset(q, 0, sizeof(*q));
	q->limit = API_SEARCH_LIMIT;
	q->min_score = -1;
	for (size_t i = 0; i < n; i++) {
		const char *k = params[i].key, *v = params[i].value ? params[i].value : "";
		const char **one = NULL;

		if (k == NULL)
			continue;
		if (strlen(v) > API_MAX_QUERY)
			return tix_error_set(err, TIX_EINVAL, k, "longer than %d bytes",
			                     API_MAX_QUERY);
		if (strcmp(k, "q") == 0)
			one = &q->q;
		else if (strcmp(k, "value") == 0)
			one = &q->value;
		else if (strcmp(k, "id") == 0)
			one = &q->id;
		else if (strcmp(k, "org") == 0)
			one = &q->org;
		else if (strcmp(k, "tlp") == 0)
			one = &q->tlp;
		else if (strcmp(k, "label") == 0)
			one = &q->label;
		if (one) {
			if (*one)
				return tix_error_set(err, TIX_EINVAL, k, "given twice");
			*one = v;
		} else if (strcmp(k, "type") == 0) {
			if (q->ntypes == API_MAX_TYPES)
				return tix_error_set(err, TIX_EINVAL, k, "at most %d types",
				                     API_MAX_TYPES);
			if (!valid_type_name(v))
				return tix_error_set(
				        err, TIX_EINVAL, k,
				        "not a STIX type name (a-z, 0-9, '-', 3 to 250)");
			q->types[q->ntypes++] = v;
		} else if (strcmp(k, "since") == 0) {
			struct tix_time t;

			if (q->since_us)
				return tix_error_set(err, TIX_EINVAL, k, "given twice");
			if (tix_time_parse(v, &t, NULL) != TIX_OK)
				return tix_error_set(err, TIX_EINVAL, k,
				                     "not an RFC 3339 timestamp");
			q->since_us = tix_time_to_us(&t);
			if (q->since_us <= 0)
				q->since_us = 1;
		} else if (strcmp(k, "min_score") == 0) {
			char *end;
			unsigned long l = strtoul(v, &end, 10);

			if (q->min_score >= 0)
				return tix_error_set(err, TIX_EINVAL, k, "given twice");
			if (v[0] < '0' || v[0] > '9' || *end != '\0' || l > 100)
				return tix_error_set(err, TIX_EINVAL, k, "a number from 0 to 100");
			q->min_score = (int)l;
		} else if (strcmp(k, "limit") == 0) {
			char *end;
			unsigned long l = strtoul(v, &end, 10);

			if (v[0] < '0' || v[0] > '9' || *end != '\0' || l == 0 ||
			    l > API_SEARCH_MAX)
				return tix_error_set(err, TIX_EINVAL, k, "a number from 1 to %d",
				                     API_SEARCH_MAX);
			q->limit = l;
		} else {
			return tix_error_set(err, TIX_EINVAL, k, "unknown parameter");
		}
	}
	if (q->tlp && strcmp(q->tlp, "clear") != 0 && strcmp(q->tlp, "green") != 0 &&
	    strcmp(q->tlp, "amber") != 0 && strcmp(q->tlp, "amber+strict") != 0 &&
	    strcmp(q->tlp, "red") != 0)
		return tix_error_set(err, TIX_EINVAL, "tlp",
		                     "one of clear, green, amber, amber+strict, red");
	return TIX_OK;
}

#define FTS_MAX_TOKENS 16

enum tix_err api_fts_expression(const char *text, size_t len, struct tix_buf *out,
                                struct tix_error *err)
{
	size_t tokens = 0, i = 0;

	if (len > API_MAX_QUERY)
		return tix_error_set(err, TIX_EINVAL, "q", "longer than %d bytes", API_MAX_QUERY);
	while (i < len && tokens < FTS_MAX_TOKENS) {
		size_t start;

		/* A token: bytes that are letters or digits in ASCII, or any
		 * byte of a multi-byte UTF-8 character (the tokenizer folds
		 * those); everything else separates. */
		while (i < len &&
		       !((unsigned char)text[i] >= 0x80 || (text[i] >= '0' && text[i] <= '9') ||
		         ((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z')))
			i++;
		start = i;
		while (i < len &&
		       ((unsigned char)text[i] >= 0x80 || (text[i] >= '0' && text[i] <= '9') ||
		        ((text[i] | 0x20) >= 'a' && (text[i] | 0x20) <= 'z')))
			i++;
		if (i == start)
			break;
		if (tokens++)
			tix_buf_addc(out, ' ');
		/* Quoted: inside "" FTS5 reads a string, never an operator. The
		 * token holds no '"', so nothing needs escaping; the '*' after it
		 * (a prefix query: "cred" finds "credentials") is ours. */
		tix_buf_addc(out, '"');
		tix_buf_add(out, text + start, i - start);
		tix_buf_adds(out, "\"*");
	}
	if (tokens == 0)
		return tix_error_set(err, TIX_EINVAL, "q", "no word to search for");
	return TIX_OK;
}

/* ---- dispatch ------------------------------------------------------------------ */

/* The ids an answer of correlate lists, for the audit log. */
static void audit_one(const json_t *v, struct api_response *resp)
{
	const json_t *g, *o;
	size_t i, k;

	json_array_foreach (json_object_get(v, "organisations"), i, g) {
		json_array_foreach (json_object_get(g, "objects"), k, o) {
			if (tix_buf_len(&resp->audit_ids) == 0)
				tix_buf_addc(&resp->audit_ids, '\n');
			tix_buf_adds(&resp->audit_ids, json_string_value(json_object_get(o, "id")));
			tix_buf_addc(&resp->audit_ids, '\n');
		}
	}
}

static void audit_listed(const json_t *out, struct api_response *resp)
{
	const json_t *v;
	size_t i;

	if (json_object_get(out, "values") == NULL) {
		audit_one(out, resp);
		return;
	}
	json_array_foreach (json_object_get(out, "values"), i, v)
		audit_one(v, resp);
}

static void correlate(struct store *s, const struct api_reader *r, const struct api_request *req,
                      const struct api_query *q, struct api_response *resp)
{
	struct tix_error err;
	json_t *out = NULL;
	enum tix_err e;

	tix_error_clear(&err);
	if ((q->value == NULL) == (q->id == NULL)) {
		api_answer_error(resp, 400, "Bad request", "give exactly one of value= and id=");
		return;
	}
	if (q->value)
		e = api_correlate_value(s, r, q->value, strlen(q->value), req->limits, &out, &err);
	else
		e = api_correlate_id(s, r, q->id, req->limits, &out, &err);
	if (e == TIX_EINVAL)
		api_answer_error(resp, 400, "Bad request", err.msg);
	else if (e == TIX_ENOTFOUND)
		api_answer_error(resp, 404, "Not found", "no such object");
	else if (e != TIX_OK)
		api_answer_error(resp, 500, "Internal error", err.msg);
	else
		api_answer_json(resp, out);
	if (e == TIX_OK)
		audit_listed(out, resp);
	json_decref(out);
}

static void sightings(struct store *s, const struct api_reader *r, const char *id,
                      struct api_response *resp)
{
	struct tix_error err;
	json_t *out = NULL;
	enum tix_err e;

	tix_error_clear(&err);
	if (strlen(id) > 300 || strchr(id, '/') != NULL) {
		api_answer_error(resp, 404, "Not found", "no such object");
		return;
	}
	e = api_sightings(s, r, id, &out, &err);
	if (e == TIX_ENOTFOUND)
		api_answer_error(resp, 404, "Not found", "no such object");
	else if (e != TIX_OK)
		api_answer_error(resp, 500, "Internal error", err.msg);
	else
		api_answer_json(resp, out);
	json_decref(out);
}

void api_handle(struct store *s, const struct api_request *req, struct api_response *resp)
{
	const char *path = req->path + strlen(API_PREFIX);
	struct api_reader r;
	struct api_query q;
	struct tix_error err;

	tix_error_clear(&err);
	if (req->who == NULL && (req->auth_failed || !req->node->anonymous_read)) {
		resp->authenticate = 1;
		api_answer_error(resp, 401, "Unauthorized", "authentication required");
		return;
	}
	if (strcmp(req->method, "POST") == 0 && api_post_limit(req->path, 1) != 0) {
		/* The console's writes: never anonymous. */
		if (req->who == NULL) {
			resp->authenticate = 1;
			api_answer_error(resp, 401, "Unauthorized", "authentication required");
		} else if (strcmp(path, "patterns/check") == 0) {
			api_pattern_check_answer(req->body, req->body_len, resp);
		} else {
			api_import_answer(req, resp);
		}
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		api_answer_error(resp, 405, "Method not allowed",
		                 "GET, or POST of patterns/check and import only");
		return;
	}
	if (api_reader_principal(s, req->node, req->who, &r, &err) != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
		return;
	}
	r.decay = req->limits ? req->limits->decay : NULL;
	if (strncmp(path, "objects/", 8) == 0) {
		const char *id = path + 8, *slash = strchr(id, '/');
		char buf[320];

		if (slash == NULL && strlen(id) < sizeof(buf)) {
			api_object_answer(s, &r, id, resp);
			return;
		}
		if (slash == NULL || (size_t)(slash - id) >= sizeof(buf) ||
		    (strcmp(slash, "/sightings") != 0 && strcmp(slash, "/relationships") != 0 &&
		     strcmp(slash, "/versions") != 0)) {
			api_answer_error(resp, 404, "Not found", "no such resource");
			return;
		}
		memcpy(buf, id, (size_t)(slash - id));
		buf[slash - id] = '\0';
		if (slash[1] == 's')
			sightings(s, &r, buf, resp);
		else if (slash[1] == 'r')
			api_relationships_answer(s, &r, buf, resp);
		else
			api_versions_answer(s, &r, buf, resp);
		return;
	}
	if (strncmp(path, "admin/", 6) == 0) {
		api_admin_answer(s, &r, req, path + 6, resp);
		return;
	}
	if (strcmp(path, "me") == 0) {
		api_me_answer(&r, req->who, resp);
		return;
	}
	if (strcmp(path, "summary") == 0) {
		api_summary_answer(s, &r, resp);
		return;
	}
	if (strncmp(path, "drills", 6) == 0 && (path[6] == '\0' || path[6] == '/')) {
		api_drills_answer(s, req, path + 6, resp);
		return;
	}
	if (strcmp(path, "library/search") == 0) {
		api_library_answer(s, &r, req, resp);
		return;
	}
	if (api_query_parse(req->params, req->nparams, &q, &err) != TIX_OK) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s: %s", err.where, err.msg);
		api_answer_error(resp, 400, "Bad request", msg);
		return;
	}
	if (strcmp(path, "correlate") == 0)
		correlate(s, &r, req, &q, resp);
	else if (strcmp(path, "search") == 0)
		api_search_answer(s, &r, &q, resp);
	else
		api_answer_error(resp, 404, "Not found", "no such resource");
}
