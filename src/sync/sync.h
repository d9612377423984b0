/*
 * sync.h — federation: keeps this node and its peers (any TAXII 2.1
 * server) current with each other, through slow links that drop.
 *
 * Guarantees (docs/sync.md):
 *   - pull walks the peer's objects endpoint with added_after and next;
 *     each page's objects and the cursor past them commit in one
 *     transaction, so a run killed at any moment resumes after the last
 *     stored page and fetches no stored page again;
 *   - every received object is validated as a local write, stored once
 *     per (id, modified) whoever sends it, owned by the peer's
 *     organisation and recorded as received from that peer;
 *   - push sends versions added to the local collection since the push
 *     cursor, only what policy_may_forward allows, never a version
 *     received from that same peer, in bundles bounded in bytes and
 *     count; the cursor moves only past versions the peer acknowledged
 *     or that are kept in the peer's outbox to be sent again;
 *   - every answer is bounded (bytes per page, pages per run, repeated
 *     next tokens, `more` without objects); a peer that misbehaves is
 *     marked failing with its last error and local data stays as it was.
 *
 * A run uses one store handle and is not thread-safe; run peers one after
 * another or give each thread its own handle.
 */
#ifndef TIX_SYNC_H
#define TIX_SYNC_H

#include <signal.h>
#include <stdint.h>

#include "core/core.h"
#include "policy/policy.h"
#include "stix/stix.h"
#include "store/store.h"

#define SYNC_MAX_PAGE_BYTES ((size_t)64 << 20)

struct sync_config {
	stix_pattern_check_fn check_pattern; /* validation of received indicators */
	struct policy_node policy;           /* the node's sharing-policy settings */
	int policy_fixed;        /* given on the command line: the loop does not re-read them */
	size_t page_limit;       /* objects asked per page (default 1000) */
	size_t max_page_bytes;   /* answer size limit (default 64 MiB) */
	size_t page_bytes;       /* bytes asked per pulled page (0: no bound, the default) */
	size_t max_pages;        /* per pull run (default 100000) */
	size_t push_max_objects; /* per bundle (default 1000) */
	size_t push_max_bytes;   /* per bundle (default 8 MiB) */
	int attempts;            /* per request, transient failures (default 6) */
	long connect_timeout;    /* seconds (default 10) */
	long low_speed_time;     /* abort below 1 byte/s this long (default 30) */
	double backoff_base;     /* seconds (default 0.5) */
	double backoff_max;      /* seconds (default 30) */
	const volatile sig_atomic_t *stop; /* set to stop between requests, or NULL */
};

/* What a TAXII server's status resource said of one POST. */
struct sync_post_result {
	long http_status; /* of the last answer */
	int complete;     /* the status said "complete" */
	int64_t successes, failures, pendings;
	int64_t bytes_out; /* sent, headers included, every attempt */
	char status_id[128];
	char first_failure[320]; /* "ID: message" of the first failure, or "" */
};

/* POSTs one TAXII 2.1 envelope (body, len) to the objects endpoint of the
 * collection at collection_url (http[s]://HOST/ROOT/collections/ID/,
 * "objects/" added) with the client the peers use: p's credentials (Basic
 * when p->user is set, else a Bearer key in p->secret) and CA file,
 * bounded answers, retries with back-off on transient failures, then the
 * status resource followed while pending. TIX_OK when a status was read
 * (its counts in *out, failures included); TIX_ETOOBIG on 413; TIX_EIO
 * with the HTTP status and an excerpt of the server's answer otherwise;
 * TIX_EINVAL for a URL that is not a collection's. */
enum tix_err sync_post_objects(const struct store_peer *p, const struct sync_config *cfg,
                               const char *collection_url, const char *body, size_t len,
                               struct sync_post_result *out, struct tix_error *err);

/* Initialises libcurl once per process, before any thread runs a peer. */
void sync_global_init(void);

/* Fills the defaults above. */
void sync_config_init(struct sync_config *c);

/* What one run did (also added to the peer's stored counters). */
struct sync_result {
	int64_t pages, objects_in, objects_stored, objects_rejected;
	int64_t objects_out, objects_refused, objects_skipped;
	int64_t bytes_in, bytes_out;
	int converged; /* pulled to the end and pushed everything, outbox empty */
};

/* Runs one peer: pull then push, as its direction says (do_pull/do_push
 * narrow it further). TIX_OK when the run finished; the peer's state
 * records failures either way (last_error, failing). */
enum tix_err sync_peer_run(struct store *s, const struct sync_config *cfg, const char *peer,
                           int do_pull, int do_push, struct sync_result *res,
                           struct tix_error *err);

/* MISP gives every object of a changed event (and the identity of its
 * organisation, in each event) the event's timestamp as created; STIX
 * keeps created across versions (the ownership rule refuses a change). So
 * an object of MISP origin that owner already holds takes the created of
 * the stored versions. 1 when obj was changed, 0 when not, -1 on a store
 * error (src/sync/feed.c; used by the feed pull and `tix import`). */
struct json_t;
int sync_misp_keep_created(struct store *s, struct json_t *obj, const char *owner);

/* ---- pure parts (src/sync/page.c), unit-tested and fuzzed -------------- */

/* One TAXII envelope page: `more`, `next` and the objects. */
struct sync_page {
	json_t *root;          /* owns everything below; sync_page_release frees */
	int more;              /* 1 when the server says more objects follow */
	const char *next;      /* the next token, or NULL */
	const json_t *objects; /* an array (possibly empty), never NULL after success */
};

/* Parses an envelope: a JSON object, `more` a boolean when present,
 * `next` a string when present, `objects` an array of objects when
 * present. TIX_EPARSE with err saying what is wrong. */
enum tix_err sync_page_parse(const char *data, size_t len, struct sync_page *out,
                             struct tix_error *err);
void sync_page_release(struct sync_page *p);

/* Seconds to wait before attempt number `attempt` (1 = the first retry):
 * base * 2^(attempt-1), at most max, scaled by a jitter factor in
 * [0.5, 1.0) taken from rnd (uniform over 0..UINT32_MAX). */
double sync_backoff_delay(double base, double max, int attempt, uint32_t rnd);

/* A TAXII envelope being filled for a POST, bounded in bytes and count. */
struct sync_bundle {
	struct tix_buf buf;
	size_t count, max_count, max_bytes;
};

void sync_bundle_init(struct sync_bundle *b, size_t max_count, size_t max_bytes);
void sync_bundle_release(struct sync_bundle *b);
void sync_bundle_reset(struct sync_bundle *b);
/* Adds one object's JSON text. TIX_ETOOBIG when it does not fit (the
 * bundle is then unchanged); an empty bundle takes any single object, so
 * no object is ever impossible to send. */
enum tix_err sync_bundle_add(struct sync_bundle *b, const char *json, size_t len);
/* Closes the envelope and returns its text ({"objects":[...]}) and length.
 * Nothing may be added after this until sync_bundle_reset. */
const char *sync_bundle_finish(struct sync_bundle *b, size_t *len);

/* Remembers next tokens seen in one walk, to detect a server that repeats
 * one (which would loop forever). */
struct sync_seen {
	uint64_t *h;
	size_t n, cap;
};

void sync_seen_release(struct sync_seen *s);
/* 1 when token was seen before, 0 when new (and now remembered), -1 on ENOMEM. */
int sync_seen_check(struct sync_seen *s, const char *token);

/* Resolves ref (absolute http(s) URL, absolute path, or relative path)
 * against base into out. 0, or -1 when it does not fit. */
int sync_url_resolve(const char *base, const char *ref, char *out, size_t size);

#endif
