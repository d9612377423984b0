/*
 * api/drills.c — GET /api/v1/drills and /api/v1/drills/{id}/score: the
 * organiser node's cyber drills (src/drill) and their scoreboards for the
 * console's #/drills page; the admin role only (docs/api.md).
 */
#include <string.h>

#include "api/api_int.h"
#include "drill/drill.h"

static int add_drill(void *arg, const struct store_drill *d)
{
	json_t *list = arg;
	char when[32];

	when[0] = '\0';
	if (d->started_us)
		tix_time_format_us(d->started_us, 0, when);
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", d->id, "name",
	                                      d->name, "state", d->state, "collection",
	                                      d->collection, "started", when[0] ? when : NULL));
	return 0;
}

void api_drills_answer(struct store *s, const struct api_request *req, const char *rest,
                       struct api_response *resp)
{
	struct drill_ctx c = {s, 0, NULL, NULL};
	struct tix_error err;
	char id[64];
	size_t n;
	json_t *out;

	/* The scoreboard tells how each team did: for the organiser's
	 * administrators, not for the teams. */
	if (req->who == NULL || req->who->role != STORE_ROLE_ADMIN) {
		api_answer_error(resp, 403, "Forbidden", "the drills' scoreboards are for admins");
		return;
	}
	if (req->nparams) {
		api_answer_error(resp, 400, "Bad request", "no parameters");
		return;
	}
	tix_error_clear(&err);
	if (*rest == '\0') {
		json_t *list = json_array();

		if (store_drill_list(s, add_drill, list, &err) != TIX_OK) {
			json_decref(list);
			api_answer_error(resp, 500, "Internal error", err.msg);
			return;
		}
		out = json_pack("{s:o}", "drills", list);
		api_answer_json(resp, out);
		json_decref(out);
		return;
	}
	n = strcspn(rest + 1, "/");
	if (rest[0] != '/' || n == 0 || n >= sizeof(id) || strcmp(rest + 1 + n, "/score") != 0) {
		api_answer_error(resp, 404, "Not found", "no such resource");
		return;
	}
	memcpy(id, rest + 1, n);
	id[n] = '\0';
	out = json_object();
	if (drill_score(&c, id, NULL, NULL, NULL, out, &err) != TIX_OK) {
		if (err.code == TIX_ENOTFOUND)
			api_answer_error(resp, 404, "Not found", "no such exercise");
		else
			api_answer_error(resp, 500, "Internal error", err.msg);
	} else {
		api_answer_json(resp, out);
	}
	json_decref(out);
}
