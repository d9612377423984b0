/*
 * api/api.h — the JSON API beside TAXII (/api/v1/, docs/api.md): search,
 * correlation and sightings, each answer through the sharing policy: what
 * the caller may not read is neither shown nor counted. The same functions
 * answer `tix correlate`, `tix search` and `tix get --sightings`. No HTTP
 * library type crosses this interface.
 */
#ifndef TIX_API_H
#define TIX_API_H

#include <jansson.h>

#include "auth/auth.h"
#include "core/core.h"
#include "policy/policy.h"
#include "store/store.h"

#define API_PREFIX "/api/v1/"

#define API_MAX_GROUPS 32
/* Defaults of struct api_limits (0 there means these). */
#define API_CORRELATE_CAP    100  /* objects listed per value; more: a count and a flag */
#define API_CORRELATE_BUDGET 1000 /* index hits a search examines per value */
#define API_MAX_QUERY        1024 /* bytes of a search or value parameter */
#define API_SEARCH_LIMIT     100  /* results of one search by default */
#define API_SEARCH_MAX       1000 /* the most a search may ask for */

/* Who reads: the operator (everything) or a principal under the policy. */
struct api_reader {
	int operator;
	struct policy_node node;
	struct policy_principal pp;
	int64_t org_key;
	int reads_all_collections;              /* an administrator */
	const struct values_decay_model *decay; /* scores of indicators; NULL: the defaults */
	const char *groups[API_MAX_GROUPS + 1];
	char group_names[API_MAX_GROUPS][128];
	char org[128];
};

/* The operator's view (no policy but drill isolation: no exercise's
 * objects, as their exercise is not known from a value hit). */
void api_reader_operator(struct api_reader *r);
/* The view of an analyst of org (`--as-org`): TIX_ENOTFOUND for no such
 * organisation. */
enum tix_err api_reader_org(struct store *s, const struct policy_node *node, const char *org,
                            struct api_reader *r, struct tix_error *err);
/* The view of an authenticated caller (NULL: anonymous). */
enum tix_err api_reader_principal(struct store *s, const struct policy_node *node,
                                  const struct auth_principal *who, struct api_reader *r,
                                  struct tix_error *err);
/* 1 when r may read the hit. */
int api_may_read(const struct api_reader *r, const struct store_value_hit *h);

/* TIX_OK when r may read the latest version of id, else TIX_ENOTFOUND. */
enum tix_err api_object_readable(struct store *s, const struct api_reader *r, const char *id,
                                 struct tix_error *err);

/* The name of the warninglist holding a value (of a STIX type), or NULL. */
typedef const char *(*api_warned_fn)(void *arg, const char *stix_type, const char *value,
                                     size_t len);

struct values_decay_model;

struct api_limits {
	size_t correlate_cap;    /* 0: API_CORRELATE_CAP */
	size_t correlate_budget; /* index hits examined per value; 0: 10 x the cap */
	api_warned_fn warned;    /* or NULL */
	void *warned_arg;
	const struct values_decay_model *decay; /* scores; NULL: the defaults */
};

/* The objects sharing a value (VALUE a domain, address, range, URL,
 * e-mail address or hash), grouped by organisation, newest first, with
 * their sighting counts. *out is a new JSON object. TIX_EINVAL when the
 * text is not such a value (err says why). */
enum tix_err api_correlate_value(struct store *s, const struct api_reader *r, const char *value,
                                 size_t len, const struct api_limits *lim, json_t **out,
                                 struct tix_error *err);
/* The same for each value object id carries; TIX_ENOTFOUND when r may not
 * read it (or it is not there: the two are not told apart). */
enum tix_err api_correlate_id(struct store *s, const struct api_reader *r, const char *id,
                              const struct api_limits *lim, json_t **out, struct tix_error *err);
/* The sightings of id r may read, and their aggregate: count, first and
 * last seen, by organisation and by sensor. */
enum tix_err api_sightings(struct store *s, const struct api_reader *r, const char *id,
                           json_t **out, struct tix_error *err);
/* The total of that aggregate alone (for exports): count, first and last
 * seen (µs; all 0 when r may read none), one indexed lookup of id. */
struct api_sighting_sum {
	int64_t count, first, last;
};
struct api_sighting_sum api_sighting_sum(struct store *s, const struct api_reader *r,
                                         const char *id);
/* The same, remembering the last id asked: a feed's filter (--min-sightings)
 * and its writer (the aggregate it carries) ask for one indicator in turn,
 * and the store is read once. Zero it, then set s and r. */
struct api_sighting_memo {
	struct store *s;
	const struct api_reader *r;
	char id[128]; /* "" or the id of sum */
	struct api_sighting_sum sum;
};
struct api_sighting_sum api_sighting_sum_memo(struct api_sighting_memo *m, const char *id);

/* Objects by value (q shaped as one: the correlation index) and by text
 * (FTS5 over name, description and labels), filtered by q's types, label,
 * org, tlp and since; at most q->limit results, best first. *out is
 * {"results": [...], "more": bool}. TIX_EINVAL for nothing to search. */
struct api_query;
enum tix_err api_search(struct store *s, const struct api_reader *r, const struct api_query *q,
                        json_t **out, struct tix_error *err);

/* The decay score (0-100) of an indicator now (docs/decay.md): its
 * confidence (or the model's default) as base, decaying by the rule of the
 * kind of its first value from the latest of valid_from, modified and the
 * last_seen of the sightings r may read; 0 when revoked or past
 * valid_until. */
double api_indicator_score(struct store *s, const struct api_reader *r,
                           const struct values_decay_model *m, const json_t *indicator,
                           int64_t now_us);

/* ---- HTTP ------------------------------------------------------------------- */

struct api_param {
	const char *key;
	const char *value;
};

/* Writes a TAXII envelope (or bundle) of STIX objects into collection cid
 * through the node's TAXII write path (POST .../objects/: validation,
 * roles, ownership, policy, audit), as the caller: *status is TAXII's,
 * *answer its JSON (the status resource, or an error), or NULL. Supplied by
 * the server (src/http) for POST /api/v1/import. */
typedef void (*api_write_fn)(void *arg, const char *cid, const char *body, size_t len, int *status,
                             json_t **answer);

struct api_request {
	const char *method;
	const char *path; /* decoded, starting with API_PREFIX */
	const struct api_param *params;
	size_t nparams;
	const struct auth_principal *who; /* NULL: not authenticated */
	int auth_failed;                  /* credentials were sent and refused */
	const struct policy_node *node;
	const struct api_limits *limits;
	const char *body; /* of a POST, or NULL */
	size_t body_len;
	api_write_fn write; /* POST /api/v1/import's writer, or NULL */
	void *write_arg;
};

/* The largest body a POST to path (under API_PREFIX) may send, or 0 when
 * path takes no POST: patterns/check API_MAX_PATTERN_BODY, import
 * max_import (the server's max_content_length). */
#define API_MAX_PATTERN_BODY                                                                       \
	((size_t)(1u << 20) + 4096) /* PATTERN_MAX_LEN and the JSON around it */
size_t api_post_limit(const char *path, size_t max_import);

struct api_response {
	int status;
	struct tix_buf body;      /* application/json */
	int authenticate;         /* send WWW-Authenticate (401) */
	struct tix_buf audit_ids; /* "\nid\nid\n": the objects this answer reveals */
};

void api_response_init(struct api_response *r);
void api_response_release(struct api_response *r);
/* Answers one request under API_PREFIX. */
void api_handle(struct store *s, const struct api_request *req, struct api_response *resp);

/* ---- query parameters (fuzzed: fuzz/fuzz_api_query.c) ------------------------ */

#define API_MAX_TYPES 16

struct api_query {
	const char *q, *value, *id;
	const char *types[API_MAX_TYPES + 1];
	size_t ntypes;
	const char *org, *tlp, *label;
	int64_t since_us; /* 0: none */
	size_t limit;
	int min_score; /* -1: none; else indicators scoring below are left out */
};

/* Reads and checks the parameters of /search and /correlate: lengths,
 * repeated or unknown keys, the type names, since as RFC 3339, limit.
 * TIX_EINVAL with the reason. Strings are borrowed from params. */
enum tix_err api_query_parse(const struct api_param *params, size_t n, struct api_query *q,
                             struct tix_error *err);
/* Turns free text into an FTS5 expression that only ever means "words
 * starting with each of these" ("tok"* for each token, nothing of FTS5's
 * syntax passes): at most 16 tokens of letters and digits. Returns TIX_EINVAL when no word is left.
 */
enum tix_err api_fts_expression(const char *text, size_t len, struct tix_buf *out,
                                struct tix_error *err);

/* gzip on the wire (gzip.c): 1 when Accept-Encoding takes gzip (named
 * without q=0); and data compressed whole at level (1-9) into *out (the
 * caller frees it): 0, or -1 when out of memory or when it would not be
 * smaller. */
int api_wants_gzip(const char *accept_encoding);
int api_gzip(const void *data, size_t len, int level, unsigned char **out, size_t *out_len);

#endif
