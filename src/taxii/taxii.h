/*
 * taxii.h — the TAXII 2.1 API as plain functions: a request in (method,
 * path, query parameters, the headers TAXII cares about, body, the
 * authenticated caller), a response out (status, body, TAXII headers). No
 * HTTP library type crosses this interface, so the same code can sit
 * behind libmicrohttpd, a test harness or another server.
 */
#ifndef TIX_TAXII_H
#define TIX_TAXII_H

#include <stdint.h>

#include "auth/auth.h"
#include "core/core.h"
#include "policy/policy.h"
#include "stix/stix.h"
#include "store/store.h"

#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
/* Rows a listing examines at most, by default: a short page with a next
 * token when they run out before the page fills (docs/architecture.md). */
#define TAXII_EXAMINE_MAX 2000

/* Read-only after start-up; shared by every worker thread. */
struct taxii_config {
	const char *title; /* of the discovery resource */
	const char *description;
	const char *contact;
	const char *api_root;      /* name of the one API root, e.g. "api1" */
	size_t max_content_length; /* bytes of a POST body (413 above) */
	size_t page_default;       /* objects per page when the client gives no limit */
	size_t page_max;           /* the most a client may ask for */
	size_t examine_max;        /* rows a listing examines at most (0: TAXII_EXAMINE_MAX) */
	size_t page_bytes;         /* bytes of a listing answer at most (0: no bound) */
	unsigned char secret[32];  /* signs pagination tokens (store_node_secret) */
	stix_pattern_check_fn check_pattern; /* validation of posted indicators, or NULL */
	struct policy_node policy;           /* default TLP, anonymous reading */
	/* Which of policy follow the node settings in the store while serving
	 * (TAXII_LIVE_*): re-read whenever the store's data version changes,
	 * so `tix admin node set` applies to the next request. A setting given
	 * on the command line is fixed. */
	unsigned policy_live;
	/* Benchmarks only (`tix serve --insecure-no-policy`, loopback only):
	 * every collection reader reads every object. Never in production. */
	int policy_off;
	struct store_audit_queue *audit; /* reads are logged here; NULL: not logged */
};

struct taxii_param {
	const char *key;
	const char *value;
};

struct taxii_request {
	const char *method;
	const char *path; /* decoded, without the query string */
	const struct taxii_param *params;
	size_t nparams;
	const char *accept; /* header values, or NULL when absent */
	const char *content_type;
	const char *base_url; /* "https://host:port", for absolute URLs */
	const char *body;
	size_t body_len;
	const struct auth_principal *who; /* NULL: not authenticated (anonymous) */
	const char *client;               /* the peer address, for the audit log, or NULL */
	int auth_failed;                  /* credentials were sent and refused: never anonymous */
	int precheck; /* the body is not read yet: check only what the headers decide */
	/* The store's data version (store_audit_queue_data_version) when the
	 * request began, before its credential was checked; 0: taxii_handle
	 * reads it. */
	uint64_t data_version;
};

struct taxii_response {
	int status;
	struct tix_buf body;       /* JSON */
	char date_added_first[32]; /* X-TAXII-Date-Added-First, or "" */
	char date_added_last[32];
	const char *allow;        /* Allow header with 405, or NULL */
	int authenticate;         /* send WWW-Authenticate (401) */
	struct tix_buf audit_ids; /* "\nid\nid\n": the objects this answer reveals */
	const char *content_type; /* NULL: TAXII's media type (the MISP feed sets its own) */
};

void taxii_response_init(struct taxii_response *r);
void taxii_response_release(struct taxii_response *r);

/* A cache of recent GET answers, for one thread (not thread-safe). An
 * answer is reused only for the same caller, path, query and base URL, and
 * only while store_data_version() says nothing was written since: sensors
 * polling the same page cost a lookup, not a query. */
struct taxii_cache;

struct taxii_cache *taxii_cache_new(size_t max_bytes);
void taxii_cache_free(struct taxii_cache *c);
/* The same cache for an answer made beside TAXII (the JSON API's summary):
 * key holds everything the answer depends on besides the data (the
 * caller's view; never a key TAXII's own answers use), version is
 * store_data_version() when it was made. get: 1 and resp filled (body,
 * status, audit ids, media type) when cached at that version; put keeps
 * only 200 answers. c may be NULL (no cache). */
int taxii_cache_answer_get(struct taxii_cache *c, const char *key, uint64_t version,
                           struct taxii_response *resp);
void taxii_cache_answer_put(struct taxii_cache *c, const char *key, uint64_t version,
                            const struct taxii_response *resp);

enum { TAXII_LIVE_DEFAULT_TLP = 1, TAXII_LIVE_ANONYMOUS_READ = 2 };

/* Objects of POSTed envelopes refused, by reason, since the process started
 * (GET /metrics): not valid STIX 2.1, no id/type/version to file them by,
 * a type the caller's role may not write, a write rule of the store
 * (another organisation's object, a changed `created`, a clock ahead). */
enum taxii_reject {
	TAXII_REJECT_INVALID,
	TAXII_REJECT_MALFORMED,
	TAXII_REJECT_ROLE,
	TAXII_REJECT_WRITE_RULE,
	TAXII_REJECT_COUNT
};
extern const char *const taxii_reject_names[TAXII_REJECT_COUNT];
void taxii_rejects_get(uint64_t out[TAXII_REJECT_COUNT]);
/* GETs the answer cache could answer (hit) and could not (miss), since start. */
void taxii_cache_counts_get(uint64_t *hits, uint64_t *misses);

/* Reads the node settings (default TLP, anonymous reading) from the store
 * into n: AMBER and off where unset. TIX_EINVAL when a stored value is not
 * valid (n keeps the default for it). */
enum tix_err taxii_node_settings(struct store *s, struct policy_node *n, struct tix_error *err);

/* A POST whose body has not been read yet (req->body NULL): 1 when the
 * caller may send it (authenticated, may write the collection, the media
 * type is right), else 0 with the refusal (401, 403, 404, 405, 406, 415)
 * in resp, to be sent at once without reading the body. */
int taxii_precheck(const struct taxii_config *cfg, struct store *s, const struct taxii_request *req,
                   struct taxii_response *resp);

/* Answers one request. The store handle (and the cache, which may be NULL)
 * belong to the calling thread. */
void taxii_handle(const struct taxii_config *cfg, struct store *s, struct taxii_cache *cache,
                  const struct taxii_request *req, struct taxii_response *resp);

/* Fills resp with a TAXII error resource. */
void taxii_error(struct taxii_response *resp, int status, const char *title, const char *fmt, ...)
        TIX_PRINTF(4, 5);

/* ---- reading a collection for other resources (the feeds, src/api/feeds.c) ----- */

/* The caller and one collection as every TAXII read sees them: the
 * collection found by id (titles are not names here), the caller's grant,
 * role, organisation and sharing groups, the node's live policy settings. */
struct taxii_reader;

/* 0 and *out (taxii_reader_free) when the caller may read collection cid;
 * otherwise -1 with the refusal in resp, as a TAXII listing answers it:
 * 401 (not authenticated where anonymous reading is off), 404 (no such
 * collection, or one the caller may not know of), 403 (no read grant), 500. */
int taxii_reader_open(const struct taxii_config *cfg, struct store *s,
                      const struct taxii_request *req, const char *cid, struct taxii_reader **out,
                      struct taxii_response *resp);
void taxii_reader_free(struct taxii_reader *r);
/* What identifies the caller's view of the collection (organisation, role,
 * groups, grant, peer, node policy), as text, for cache keys and ETags. */
const char *taxii_reader_view(const struct taxii_reader *r);
/* The latest version of each object of the given types (NULL-terminated)
 * added to the collection after *after that the caller may read, through
 * the same policy decision as the TAXII listings (an object with granular
 * markings the caller may not see is withheld whole): cb for each, at most
 * limit rows; *after moves on, *more is 1 while rows remain. */
enum tix_err taxii_reader_page(struct taxii_reader *r, struct store *s, const char *const *types,
                               int64_t *after, size_t limit,
                               int (*cb)(void *, const struct store_taxii_row *), void *arg,
                               int *more, struct tix_error *err);

#endif
