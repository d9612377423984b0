/*
 * metrics.h — GET /metrics of `tix serve`, in the Prometheus text format:
 * what the HTTP side counts per request (by endpoint, method and status:
 * requests, latency histograms, bytes in and out) and what the store holds
 * (objects and versions by type, its size on disk, each peer's sync state).
 * Internal to src/http: http.c calls these two functions.
 */
#ifndef TIX_HTTP_METRICS_H
#define TIX_HTTP_METRICS_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdio.h>

#include "http/http.h"

/* 1 when line[0..n) is a tix_match_ sample of a known name in the text
 * format (what `tix serve --match-stats` takes from a sensor's file). */
int http_metrics_match_line_ok(const char *line, size_t n);

/* Counts a request that waits its turn (http.c, --principal-requests). */
void http_metrics_waited_turn(void);

/* Counts one finished request (any path; the endpoint is classified here). */
void http_metrics_observe(const char *method, const char *url, int status, size_t bytes_in,
                          size_t bytes_out, double seconds);

/* Answers GET /metrics: to loopback callers, or with metrics_key_digest
 * set (a key file was given) only to callers presenting that key as
 * "Authorization: Bearer KEY". Sets *status and *bytes for the access log. */
enum MHD_Result http_metrics_answer(struct MHD_Connection *c, struct store *s,
                                    struct store_audit_queue *audit,
                                    const struct http_options *opts, const char *client,
                                    const char *authorization, const char *method, int *status,
                                    size_t *bytes);

/* http/log.c: sets error_id of a TAXII error body (a JSON object without
 * one) to the request id; writes one access-log line as JSON. */
void http_error_set_id(struct tix_buf *body, const char *request_id);
void http_log_json(FILE *f, const char *ts, const char *request_id, const char *client,
                   const char *method, const char *path, int status, size_t bytes, double ms,
                   const char *user);

#endif
