/*
 * sync_int.h — what the files of src/sync/ share: the HTTP client that
 * sync.c drives (client.c), the state of one peer run and the parts of
 * the TAXII pull that the MISP feed pull (feed.c) shares. Nobody outside
 * src/sync/ includes this.
 */
#ifndef TIX_SYNC_INT_H
#define TIX_SYNC_INT_H

#include <curl/curl.h>

#include "sync/sync.h"

struct sync_http {
	CURL *curl;
	struct curl_slist *hdrs_get, *hdrs_post;
	const struct sync_config *cfg;
	struct tix_buf body;         /* the last answer's body, bounded by max_page_bytes */
	long status;                 /* its HTTP status */
	char date_added_last[64];    /* its X-TAXII-Date-Added-Last, or "" */
	int64_t bytes_in, bytes_out; /* on the wire, headers included, every attempt */
	int too_big;
	char errbuf[CURL_ERROR_SIZE];
};

enum tix_err sync__http_open(struct sync_http *h, const struct store_peer *p,
                             const struct sync_config *cfg, struct tix_error *err);
void sync__http_close(struct sync_http *h);
/* GET url, or POST body when body is not NULL. Transient failures (no
 * connection, a cut, a time-out, 5xx, 408, 429) are retried with back-off
 * up to cfg->attempts times. TIX_OK when an answer arrived (h->status says
 * which); TIX_EIO when every attempt failed; TIX_ETOOBIG when the answer
 * passed max_page_bytes; TIX_EINVAL when stopped. */
enum tix_err sync__http_do(struct sync_http *h, const char *url, const char *body, size_t len,
                           struct tix_error *err);
/* Sleeps seconds, waking early when cfg->stop is set; 0, or -1 when stopped. */
int sync__sleep(const struct sync_config *cfg, double seconds);

#define MAX_GROUPS 64

struct run {
	struct store *s;
	const struct sync_config *cfg;
	struct store_peer peer;
	struct store_peer_state st;
	struct store_collection coll;
	struct sync_http h;
	struct sync_result *res;
	char api_root[1024];
	char objects_url[1400];
	/* the policy audience of pushes */
	const char *groups[MAX_GROUPS + 1];
	char group_names[MAX_GROUPS][128];
	size_t ngroups;
	struct policy_peer pp;
};

/* The byte counters of the connection, moved into the state and result. */
void sync__take_bytes(struct run *r);
/* An HTTP answer that is not the one expected, as an error with an excerpt
 * of the body. */
enum tix_err sync__http_refused(struct sync_http *h, const char *url, struct tix_error *err);
/* One received object made ready to store: validated, its metadata read
 * (borrowed from the object, which must outlive it) and its text. */
struct sync_prep {
	int ok; /* 0: invalid, refused (and logged) */
	struct stix_meta meta;
	size_t off, len; /* its text in the buffer sync__prepare appended it to */
};

/* The half of storing an object that needs no store, so it can run beside
 * the storing thread: SCO id, validation as a local write's (patterns
 * included when configured), metadata, and the compact text appended to
 * bodies. 0 ready, -1 invalid (logged), -2 out of memory. */
int sync__prepare(const struct run *r, json_t *obj, size_t i, struct stix_problems *probs,
                  struct tix_buf *bodies, struct sync_prep *out);
/* The other half, inside a transaction: the version stored (owned by the
 * peer's organisation, recorded as received from it) or, when held
 * already, only linked to the collection. 1 stored, 0 known, -1 refused by
 * the write rules (logged), -2 on a store error (err set). */
int sync__store(struct run *r, const struct sync_prep *p, const char *body, struct tix_error *err);
/* Both, one after the other; call inside a transaction. 1 stored, 0
 * known, -1 rejected, -2 on a store error. */
int sync__ingest(struct run *r, json_t *obj, size_t i, struct stix_problems *probs,
                 struct tix_buf *body, struct tix_error *err);
/* The pull of a MISP feed peer (feed.c): manifest.json, hashes.csv, then
 * each new or changed event, its objects and its cursor in one transaction. */
enum tix_err sync__feed_pull(struct run *r, int *done, struct tix_error *err);

#endif
