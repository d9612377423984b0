/*
 * api/console.c — the resources the console writes with (docs/api.md):
 * GET /api/v1/me (the caller and its sharing groups), POST
 * /api/v1/patterns/check (the checker of `tix pattern check`, with the
 * error's position) and POST /api/v1/import (a STIX, MISP or CSV file
 * converted by src/formats, then written through TAXII's write path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "formats/formats.h"
#include "pattern/pattern.h"

#define IMPORT_MAX_LISTED 1000 /* records refused by the converter listed in a report */

size_t api_post_limit(const char *path, size_t max_import)
{
	if (strcmp(path, API_PREFIX "patterns/check") == 0)
		return API_MAX_PATTERN_BODY;
	if (strcmp(path, API_PREFIX "import") == 0)
		return max_import;
	return 0;
}

void api_me_answer(const struct api_reader *r, const struct auth_principal *who,
                   struct api_response *resp)
{
	json_t *groups = json_array(), *v;

	for (size_t i = 0; r->groups[i]; i++)
		json_array_append_new(groups, json_string(r->groups[i]));
	v = json_pack("{s:s, s:s, s:s, s:o}", "user", who ? who->user : "", "org",
	              who ? who->org : "", "role", who ? store_role_name(who->role) : "", "groups",
	              groups);
	if (v == NULL) {
		api_answer_error(resp, 500, "Internal error", "out of memory");
		return;
	}
	api_answer_json(resp, v);
	json_decref(v);
}

/* The message of a parse error without its "line L, column N: " prefix. */
static const char *reason_of(const char *msg)
{
	const char *c = strstr(msg, "column ");

	if (c && (c == msg || strncmp(msg, "line ", 5) == 0)) {
		const char *colon = strstr(c, ": ");

		if (colon)
			return colon + 2;
	}
	return msg;
}

void api_pattern_check_answer(const char *body, size_t len, struct api_response *resp)
{
	json_error_t jerr;
	json_t *in, *text, *ver, *out = NULL, *warns;
	struct pattern *p = NULL;
	struct tix_error err;
	struct tix_buf warnings, canon;
	const char *key;
	json_t *member;
	unsigned line, column;

	tix_error_clear(&err);
	tix_buf_init(&warnings, TIX_BUF_UNLIMITED);
	tix_buf_init(&canon, TIX_BUF_UNLIMITED);
	if ((in = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		char msg[300];

		snprintf(msg, sizeof(msg), "the body is not JSON: %s (column %d)", jerr.text,
		         jerr.column);
		api_answer_error(resp, 400, "Bad request", msg);
		return;
	}
	json_object_foreach (in, key, member) {
		if (strcmp(key, "pattern") != 0 && strcmp(key, "pattern_version") != 0) {
			api_answer_error(resp, 400, "Bad request",
			                 "the body holds pattern and pattern_version only");
			goto out;
		}
	}
	text = json_object_get(in, "pattern");
	ver = json_object_get(in, "pattern_version");
	if (!json_is_object(in) || !json_is_string(text) || (ver && !json_is_string(ver))) {
		api_answer_error(resp, 400, "Bad request",
		                 "give {\"pattern\": TEXT} (and \"pattern_version\": \"2.0\" or "
		                 "\"2.1\")");
		goto out;
	}
	/* As `tix pattern check` and every write check it: the grammar and
	 * constants, then the object types and property names. */
	p = pattern_parse(json_string_value(text), json_string_length(text),
	                  pattern_version_from_string(json_string_value(ver)), &err);
	if (p == NULL || pattern_check_names(p, &warnings, &err) != TIX_OK) {
		if (err.code == TIX_ENOMEM) {
			api_answer_error(resp, 500, "Internal error", "out of memory");
			goto out;
		}
		out = json_pack("{s:b, s:{s:s, s:s}}", "valid", 0, "error", "message", err.msg,
		                "reason", reason_of(err.msg));
		if (out && pattern_error_pos(&err, &line, &column) == 0) {
			json_object_set_new(json_object_get(out, "error"), "line",
			                    json_integer(line));
			json_object_set_new(json_object_get(out, "error"), "column",
			                    json_integer(column));
		}
	} else {
		warns = json_array();
		for (const char *w = tix_buf_str(&warnings), *nl; *w; w = nl + 1) {
			if ((nl = strchr(w, '\n')) == NULL)
				break;
			json_array_append_new(warns, json_stringn(w, (size_t)(nl - w)));
		}
		pattern_format(p, &canon);
		out = json_pack("{s:b, s:o, s:s}", "valid", 1, "warnings", warns, "canonical",
		                tix_buf_str(&canon));
	}
	if (out == NULL)
		api_answer_error(resp, 500, "Internal error", "out of memory");
	else
		api_answer_json(resp, out);
out:
	pattern_free(p);
	json_decref(out);
	json_decref(in);
	tix_buf_release(&warnings);
	tix_buf_release(&canon);
}

/* ---- import ---------------------------------------------------------------------- */

struct import_log {
	json_t *refused, *warnings;
	size_t more;
};

static void import_say(void *ctx, int is_error, const char *where, const char *msg)
{
	struct import_log *l = ctx;
	json_t *list = is_error ? l->refused : l->warnings;

	if (json_array_size(list) >= IMPORT_MAX_LISTED) {
		l->more++;
		return;
	}
	json_array_append_new(list, json_pack("{s:s, s:s}", "where", where, "reason", msg));
}

struct import_params {
	const char *collection, *format, *name, *map, *header, *delimiter, *tlp, *file_time;
};

static int import_params_read(const struct api_request *req, struct import_params *ip, char *msg,
                              size_t size)
{
	memset(ip, 0, sizeof(*ip));
	for (size_t i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key, *v = req->params[i].value;
		const char **one = NULL;

		if (k == NULL)
			continue;
		if (strcmp(k, "collection") == 0)
			one = &ip->collection;
		else if (strcmp(k, "format") == 0)
			one = &ip->format;
		else if (strcmp(k, "name") == 0)
			one = &ip->name;
		else if (strcmp(k, "map") == 0)
			one = &ip->map;
		else if (strcmp(k, "header") == 0)
			one = &ip->header;
		else if (strcmp(k, "delimiter") == 0)
			one = &ip->delimiter;
		else if (strcmp(k, "tlp") == 0)
			one = &ip->tlp;
		else if (strcmp(k, "file_time") == 0)
			one = &ip->file_time;
		if (one == NULL) {
			snprintf(msg, size, "%.60s: unknown parameter", k);
			return -1;
		}
		if (*one) {
			snprintf(msg, size, "%s: given twice", k);
			return -1;
		}
		if (v == NULL || strlen(v) > 200) {
			snprintf(msg, size, "%s: empty or longer than 200 bytes", k);
			return -1;
		}
		*one = v;
	}
	if (ip->collection == NULL || ip->collection[0] == '\0' ||
	    strcspn(ip->collection, "/?#%") != strlen(ip->collection)) {
		snprintf(msg, size, "collection: the id of a collection you may write is needed");
		return -1;
	}
	return 0;
}

/* The per-object report: TAXII's successes and failures as accepted and
 * refused objects, beside what the converter refused. */
static json_t *import_report(const char *format, size_t converted, struct import_log *log,
                             int status, json_t *answer)
{
	json_t *objects = json_array(), *e;
	size_t i, accepted = 0, refused = 0;
	json_t *rep;

	json_array_foreach (json_object_get(answer, "successes"), i, e) {
		json_t *o =
		        json_pack("{s:O?, s:O?, s:s}", "id", json_object_get(e, "id"), "version",
		                  json_object_get(e, "version"), "result", "accepted");

		if (json_object_get(e, "message"))
			json_object_set(o, "message", json_object_get(e, "message"));
		json_array_append_new(objects, o);
		accepted++;
	}
	json_array_foreach (json_object_get(answer, "failures"), i, e) {
		json_array_append_new(objects,
		                      json_pack("{s:O?, s:O?, s:s, s:O?}", "id",
		                                json_object_get(e, "id"), "version",
		                                json_object_get(e, "version"), "result", "refused",
		                                "message", json_object_get(e, "message")));
		refused++;
	}
	rep = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:O, s:O, s:I}", "format", format,
	                "converted", (json_int_t)converted, "total",
	                (json_int_t)json_integer_value(json_object_get(answer, "total_count")),
	                "accepted", (json_int_t)accepted, "refused", (json_int_t)refused, "objects",
	                objects, "records_refused", log->refused, "warnings", log->warnings,
	                "not_listed", (json_int_t)log->more);
	if (rep && status != 202) {
		/* TAXII refused the whole write (no grant, too large, ...) */
		json_object_set_new(rep, "taxii_status", json_integer(status));
		json_object_set(rep, "error", answer ? answer : json_null());
	}
	return rep;
}

/* Wraps what the STIX reader takes besides a bundle (a JSON array of
 * objects, or one object) as an envelope, in out. 0, or -1: not JSON. */
static int stix_envelope(const char *data, size_t len, struct tix_buf *out, char *msg, size_t size)
{
	json_error_t jerr;
	json_t *v = json_loadb(data, len, 0, &jerr), *env;
	char *text;

	if (v == NULL) {
		snprintf(msg, size, "the file is not JSON: %s (line %d, column %d)", jerr.text,
		         jerr.line, jerr.column);
		return -1;
	}
	if (json_is_array(v))
		env = json_pack("{s:O}", "objects", v);
	else if (json_is_object(v) && json_object_get(v, "objects") == NULL)
		env = json_pack("{s:[O]}", "objects", v);
	else
		env = json_incref(v);
	text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	json_decref(v);
	if (text == NULL) {
		snprintf(msg, size, "out of memory");
		return -1;
	}
	tix_buf_adds(out, text);
	free(text);
	return 0;
}

void api_import_answer(const struct api_request *req, struct api_response *resp)
{
	struct import_params ip;
	struct import_log l = {json_array(), json_array(), 0};
	struct formats_log log = {import_say, &l, 0, 0};
	struct formats_text_opts text;
	struct tix_error err;
	struct tix_buf out;
	enum formats_kind k = FORMATS_AUTO;
	const char *name, *data = req->body ? req->body : "";
	size_t len = req->body_len, count = 0;
	char msg[400], when[32];
	json_t *answer = NULL, *rep;
	int status = 0;
	enum tix_err e = TIX_OK;

	tix_error_clear(&err);
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	memset(&text, 0, sizeof(text));
	text.tlp = STIX_TLP_UNSET;
	if (import_params_read(req, &ip, msg, sizeof(msg)) != 0) {
		api_answer_error(resp, 400, "Bad request", msg);
		goto out;
	}
	name = ip.name ? ip.name : "upload";
	if (ip.format && strcmp(ip.format, "auto") != 0) {
		if (strcmp(ip.format, "stix") == 0)
			k = FORMATS_STIX;
		else if (strcmp(ip.format, "misp") == 0)
			k = FORMATS_MISP;
		else if (strcmp(ip.format, "csv") == 0)
			k = FORMATS_CSV;
		else {
			api_answer_error(resp, 400, "Bad request",
			                 "format: one of auto, stix, misp, csv");
			goto out;
		}
	}
	if (ip.map && formats_csv_map_parse(ip.map, &text.map, msg, sizeof(msg)) != 0) {
		api_answer_error(resp, 400, "Bad request", msg);
		goto out;
	}
	text.header = ip.header && strcmp(ip.header, "1") == 0;
	text.delimiter = ip.delimiter ? (ip.delimiter[0] == '\\' ? '\t' : ip.delimiter[0]) : ',';
	if (ip.tlp && (text.tlp = stix_tlp_parse(ip.tlp)) == -1) {
		api_answer_error(resp, 400, "Bad request",
		                 "tlp: one of clear, green, amber, amber+strict, red");
		goto out;
	}
	if (k == FORMATS_AUTO)
		k = formats_detect(data, len);
	if (k == FORMATS_AUTO)
		k = ip.map ? FORMATS_CSV : FORMATS_AUTO;
	if (k == FORMATS_AUTO) {
		api_answer_error(resp, 400, "Bad request",
		                 "the file is not STIX or MISP JSON: for CSV choose the format csv "
		                 "and say which columns hold the type and the value");
		goto out;
	}
	if (k == FORMATS_CSV && !ip.map) {
		api_answer_error(
		        resp, 400, "Bad request",
		        "CSV: say which columns hold the value (map=value=N[,type=N,...])");
		goto out;
	}
	/* A CSV's objects take the file's time (when given), so the same file
	 * imported again changes nothing, as with `tix import`. */
	{
		struct tix_time t;

		if (ip.file_time == NULL || tix_time_parse(ip.file_time, &t, NULL) != TIX_OK)
			tix_time_now(&t);
		t.nsec = 0;
		tix_time_format(&t, 3, when);
		text.timestamp = when;
	}
	if (k == FORMATS_STIX) {
		if (stix_envelope(data, len, &out, msg, sizeof(msg)) != 0) {
			api_answer_error(resp, 400, "Bad request", msg);
			goto out;
		}
	} else if (k == FORMATS_MISP) {
		e = formats_misp_to_stix(data, len, name, &out, &count, &log, &err);
	} else {
		e = formats_csv_to_stix(data, len, name, &text, &out, &count, &log, &err);
	}
	if (e != TIX_OK) {
		snprintf(msg, sizeof(msg), "%s: %s", err.where, err.msg);
		api_answer_error(resp, e == TIX_ENOMEM ? 500 : 400,
		                 e == TIX_ENOMEM ? "Internal error" : "Bad request", msg);
		goto out;
	}
	if (req->write == NULL) {
		api_answer_error(resp, 500, "Internal error", "no writer");
		goto out;
	}
	req->write(req->write_arg, ip.collection, tix_buf_str(&out), tix_buf_len(&out), &status,
	           &answer);
	if (status != 202 && status != 400 && status != 403 && status != 404 && status != 413 &&
	    status != 422) {
		snprintf(msg, sizeof(msg), "the write failed (TAXII %d): %s", status,
		         json_string_value(json_object_get(answer, "description")));
		api_answer_error(resp, status >= 500 ? status : 500, "Write failed", msg);
		goto out;
	}
	rep = import_report(formats_kind_name(k), count, &l, status, answer);
	if (rep == NULL) {
		api_answer_error(resp, 500, "Internal error", "out of memory");
		goto out;
	}
	api_answer_json(resp, rep);
	if (status != 202)
		resp->status = status;
	json_decref(rep);
out:
	json_decref(answer);
	json_decref(l.refused);
	json_decref(l.warnings);
	tix_buf_release(&out);
}
