/*
 * api/library.c — GET /api/v1/library/search: the resource library's
 * search (src/library) over the JSON API, each resource through the
 * sharing policy as every other answer of the API, with the same
 * authentication; the resources it reveals go to the audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "library/library.h"

struct reading {
	struct store *s;
	const struct api_reader *r;
};

static int may_read(void *arg, const char *id)
{
	const struct reading *x = arg;
	struct tix_error err;

	return x->r->operator|| api_object_readable(x->s, x->r, id, &err) == TIX_OK;
}

void api_library_answer(struct store *s, const struct api_reader *r, const struct api_request *req,
                        struct api_response *resp)
{
	struct library_query q = {0};
	struct reading x = {s, r};
	int seen_facets = 0;
	struct tix_error err;
	json_t *out = NULL;
	const json_t *res;
	enum tix_err e;
	size_t i;

	tix_error_clear(&err);
	for (i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key, *v = req->params[i].value;
		const char **one = NULL, *facets = NULL, *limit = NULL;
		char msg[128];

		if (strcmp(k, "q") == 0)
			one = &q.text;
		else if (strcmp(k, "audience") == 0)
			one = &q.audience;
		else if (strcmp(k, "lang") == 0)
			one = &q.lang;
		else if (strcmp(k, "country") == 0)
			one = &q.country;
		else if (strcmp(k, "topic") == 0)
			one = &q.topic;
		else if (strcmp(k, "license") == 0)
			one = &q.license;
		else if (strcmp(k, "facets") == 0)
			one = &facets;
		else if (strcmp(k, "limit") == 0)
			one = &limit;
		if (one == NULL) {
			api_answer_error(resp, 400, "Bad request",
			                 "unknown parameter (q, audience, lang, country, topic, "
			                 "license, facets, limit)");
			return;
		}
		/* as every query of the API (routes.c): each parameter once */
		if (*one != NULL || (one == &facets && seen_facets) || (one == &limit && q.limit)) {
			snprintf(msg, sizeof(msg), "%s: given twice", k);
			api_answer_error(resp, 400, "Bad request", msg);
			return;
		}
		*one = v;
		if (facets) {
			seen_facets = 1;
			q.facets = strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
		} else if (limit) {
			char *end = NULL;
			unsigned long n = strtoul(v, &end, 10);

			if (v[0] < '0' || v[0] > '9' || *end || n == 0 || n > 1000) {
				api_answer_error(resp, 400, "Bad request", "limit: 1 to 1000");
				return;
			}
			q.limit = n;
		}
	}
	q.may_read = may_read;
	q.arg = &x;
	e = library_search(s, &q, &out, &err);
	if (e == TIX_EINVAL) {
		char msg[400];

		/* the parameter, and why (never its value: it may not be UTF-8) */
		snprintf(msg, sizeof(msg), "%s: %s", err.where, err.msg);
		api_answer_error(resp, 400, "Bad request", msg);
		return;
	}
	if (e != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
		return;
	}
	json_array_foreach (json_object_get(out, "results"), i, res) {
		if (tix_buf_len(&resp->audit_ids) == 0)
			tix_buf_addc(&resp->audit_ids, '\n');
		tix_buf_adds(&resp->audit_ids, json_string_value(json_object_get(res, "id")));
		tix_buf_addc(&resp->audit_ids, '\n');
	}
	api_answer_json(resp, out);
	json_decref(out);
}
