/*
 * api/feeds.h — the feeds for sensors and resolvers that poll: GET
 * /feeds/<collection-id>/<format>[/<file>] and GET /feeds/<name> (a named
 * feed of `tix feed`), answered with the caller's sharing policy
 * (authenticated as TAXII is), an ETag and If-None-Match (304 when nothing
 * changed), gzip when asked, and a body streamed page by page in constant
 * memory (docs/feeds.md).
 */
#ifndef TIX_API_FEEDS_H
#define TIX_API_FEEDS_H

#include <microhttpd.h>

#include "formats/formats.h"
#include "taxii/taxii.h"

/* What the server keeps between requests: the ETags of the feeds served
 * (shared by the worker threads, locked inside), warninglists loaded. */
struct api_feeds;

struct api_feeds *api_feeds_new(void);
void api_feeds_free(struct api_feeds *f);

struct api_feeds_request {
	const char *method;                /* "GET" or "HEAD" */
	const char *path;                  /* starts with "/feeds/" */
	const struct taxii_request *taxii; /* the caller, for the policy */
	const char *accept_encoding;       /* or NULL */
	const char *if_none_match;         /* or NULL */
};

/* Answers one request: returns the response to queue (a 200 with its
 * streamed body, or a 304) and sets *status; or NULL with the refusal
 * (401, 403, 404, 405, 500) in err_resp. s belongs to the calling thread,
 * which also runs the body's reader. */
struct MHD_Response *api_feeds_answer(struct api_feeds *f, const struct taxii_config *cfg,
                                      struct store *s, const struct api_feeds_request *req,
                                      int *status, struct taxii_response *err_resp);

/* The options of a named feed (a JSON object: zone, policy, serial,
 * address, set_name, source, subdomains, warninglists, min_sightings) into
 * o, *warninglists and *min_sightings (0: none), whose strings point into
 * *hold (json_decref it after o's last use). 0, or -1 with msg. */
int api_feeds_options(const char *json, struct formats_feed_opts *o, const char **warninglists,
                      int64_t *min_sightings, struct json_t **hold, char *msg, size_t msgsize);

#endif
