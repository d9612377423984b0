/*
 * http/log.c — the request id in what the server writes: a TAXII error
 * body's error_id, and the access log as JSON lines (--log-format json).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

void http_error_set_id(struct tix_buf *body, const char *request_id)
{
	json_t *v = json_loadb(tix_buf_str(body), tix_buf_len(body), 0, NULL);
	char *text;

	if (json_is_object(v) && json_object_get(v, "error_id") == NULL &&
	    json_object_set_new(v, "error_id", json_string(request_id)) == 0 &&
	    (text = json_dumps(v, JSON_COMPACT)) != NULL) {
		tix_buf_reset(body);
		tix_buf_adds(body, text);
		free(text);
	}
	json_decref(v);
}

void http_log_json(FILE *f, const char *ts, const char *request_id, const char *client,
                   const char *method, const char *path, int status, size_t bytes, double ms,
                   const char *user)
{
	json_t *v =
	        json_pack("{sssssssssssisIsfss?}", "time", ts, "request_id", request_id, "client",
	                  client, "method", method, "path", path, "status", status, "bytes",
	                  (json_int_t)bytes, "ms", ms, "user", user && user[0] ? user : NULL);
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	if (text)
		fprintf(f, "%s\n", text);
	free(text);
	json_decref(v);
}
