/*
 * taxii/taxii.c — the TAXII 2.1 endpoints (discovery, API root, status,
 * collections, manifest, objects, object, versions) over the store:
 * routing, content negotiation, filters, signed pagination tokens and the
 * envelopes, without any HTTP library.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/drill.h"
#include "taxii/taxii.h"
#include "formats/formats.h"

#define STIX_MEDIA_TYPE  "application/stix+json;version=2.1"
#define MAX_SEGMENTS     8
#define MAX_MATCH_VALUES 200

/* ---- responses ----------------------------------------------------------- */

void taxii_response_init(struct taxii_response *r)
{
	memset(r, 0, sizeof(*r));
	tix_buf_init(&r->body, TIX_BUF_UNLIMITED);
	tix_buf_init(&r->audit_ids, TIX_BUF_UNLIMITED);
}

void taxii_response_release(struct taxii_response *r)
{
	if (r) {
		tix_buf_release(&r->body);
		tix_buf_release(&r->audit_ids);
	}
}

void taxii_error(struct taxii_response *resp, int status, const char *title, const char *fmt, ...)
{
	char desc[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->date_added_first[0] = resp->date_added_last[0] = '\0';
	tix_buf_reset(&resp->body);
	tix_buf_adds(&resp->body, "{\"title\":");
	tix_buf_add_json_string(&resp->body, title);
	tix_buf_adds(&resp->body, ",\"description\":");
	tix_buf_add_json_string(&resp->body, desc);
	tix_buf_addf(&resp->body, ",\"http_status\":\"%d\"}", status);
}

static void set_json(struct taxii_response *resp, int status, json_t *v)
{
	tix_buf_reset(&resp->body);
	if (v == NULL || stix_json_dump(v, &resp->body) != TIX_OK) {
		taxii_error(resp, 500, "Internal error", "out of memory");
		return;
	}
	resp->status = status;
}

/* ---- content negotiation ------------------------------------------------- */

/* Does one media range of an Accept header (or a Content-Type) name TAXII
 * 2.1? with_wildcards also lets * / * and application / * through. */
static int taxii_media(const char *s, size_t n, int with_wildcards)
{
	char buf[256], *p, *q;
	int version_ok = 1;

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	p = buf;
	while (*p == ' ' || *p == '\t')
		p++;
	q = strchr(p, ';');
	if (q)
		*q++ = '\0';
	for (char *e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	while (q && *q) {
		char *next = strchr(q, ';'), *eq;

		if (next)
			*next++ = '\0';
		while (*q == ' ' || *q == '\t')
			q++;
		eq = strchr(q, '=');
		if (eq && strncasecmp(q, "version", (size_t)(eq - q)) == 0 && eq - q == 7) {
			const char *v = eq + 1;

			version_ok = strncmp(v, "2.1", 3) == 0 && (v[3] == '\0' || v[3] == ' ');
		}
		q = next;
	}
	if (strcasecmp(p, "application/taxii+json") == 0)
		return version_ok;
	return with_wildcards && (strcmp(p, "*/*") == 0 || strcasecmp(p, "application/*") == 0);
}

static int accept_ok(const char *accept)
{
	const char *p = accept;

	if (accept == NULL || *accept == '\0')
		return 1; /* no preference: anything goes (RFC 7231 5.3.2) */
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (taxii_media(p, n, 1))
			return 1;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* ---- query parameters ------------------------------------------------------ */

enum {
	F_ADDED_AFTER = 1,
	F_LIMIT = 2,
	F_NEXT = 4,
	F_ID = 8,
	F_TYPE = 16,
	F_VERSION = 32,
	F_SPEC = 64,
	F_PAGE_BYTES = 128
};

struct query {
	struct tix_arena *arena;
	int64_t added_after;
	size_t limit;
	size_t page_bytes; /* tix's page_bytes parameter, or 0 */
	const char *next;
	const char **ids, **types, **spec_versions, **versions;
	int v_all, v_first, v_last;
	int seen;
};

/* Splits "a,b,c" into a NULL-terminated list in the arena. */
static const char **split_list(struct tix_arena *a, const char *v, size_t *n)
{
	size_t count = 1, i = 0;
	const char **out;
	const char *p;

	for (p = v; *p; p++)
		if (*p == ',')
			count++;
	*n = count;
	if (count > MAX_MATCH_VALUES)
		return NULL;
	if ((out = tix_arena_alloc(a, (count + 1) * sizeof(*out))) == NULL)
		return NULL;
	for (p = v;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		out[i++] = tix_arena_strndup(a, p, len);
		if (!c)
			break;
		p = c + 1;
	}
	out[i] = NULL;
	return out;
}

static int parse_query(const struct taxii_request *req, int allowed, struct query *q,
                       struct taxii_response *resp)
{
	for (size_t i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key,
		           *v = req->params[i].value ? req->params[i].value : "";
		int flag = 0;
		const char ***list = NULL;
		size_t n;

		if (strcmp(k, "added_after") == 0)
			flag = F_ADDED_AFTER;
		else if (strcmp(k, "limit") == 0)
			flag = F_LIMIT;
		else if (strcmp(k, "next") == 0)
			flag = F_NEXT;
		else if (strcmp(k, "page_bytes") == 0)
			flag = F_PAGE_BYTES;
		else if (strcmp(k, "match[id]") == 0)
			flag = F_ID, list = &q->ids;
		else if (strcmp(k, "match[type]") == 0)
			flag = F_TYPE, list = &q->types;
		else if (strcmp(k, "match[version]") == 0)
			flag = F_VERSION, list = &q->versions;
		else if (strcmp(k, "match[spec_version]") == 0)
			flag = F_SPEC, list = &q->spec_versions;
		if (flag == 0 || !(allowed & flag))
			continue; /* fields a server does not understand MAY be ignored */
		if (q->seen & flag) {
			taxii_error(resp, 400, "Bad request", "'%.40s' may be given only once", k);
			return -1;
		}
		q->seen |= flag;
		if (flag == F_ADDED_AFTER) {
			struct tix_time t;
			struct tix_error err;

			if (tix_time_parse(v, &t, &err) != TIX_OK) {
				taxii_error(resp, 400, "Bad request", "added_after: %s", err.msg);
				return -1;
			}
			q->added_after = tix_time_to_us(&t);
		} else if (flag == F_LIMIT || flag == F_PAGE_BYTES) {
			char *end;
			unsigned long long l = strtoull(v, &end, 10);

			if (*v < '1' || *v > '9' || *end != '\0' || l == 0) {
				taxii_error(resp, 400, "Bad request",
				            "%s must be a positive integer, not '%.40s'", k, v);
				return -1;
			}
			if (flag == F_LIMIT)
				q->limit = l > SIZE_MAX ? SIZE_MAX : (size_t)l;
			else
				q->page_bytes = l > SIZE_MAX ? SIZE_MAX : (size_t)l;
		} else if (flag == F_NEXT) {
			q->next = v;
		} else {
			*list = split_list(q->arena, v, &n);
			if (*list == NULL) {
				taxii_error(resp, 400, "Bad request", "%s: at most %d values", k,
				            MAX_MATCH_VALUES);
				return -1;
			}
			for (size_t j = 0; j < n; j++) {
				if ((*list)[j][0] == '\0') {
					taxii_error(resp, 400, "Bad request", "%s: an empty value",
					            k);
					return -1;
				}
				for (size_t m = 0; m < j; m++)
					if (strcmp((*list)[j], (*list)[m]) == 0) {
						taxii_error(resp, 400, "Bad request",
						            "%s: '%.60s' given twice", k,
						            (*list)[j]);
						return -1;
					}
			}
		}
	}
	/* match[version]: all, first, last or timestamps (kept canonical). */
	if (q->versions) {
		size_t n = 0, j = 0;

		while (q->versions[n])
			n++;
		const char **ts = tix_arena_alloc(q->arena, (n + 1) * sizeof(*ts));

		if (ts == NULL) {
			taxii_error(resp, 500, "Internal error", "out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			const char *v = q->versions[i];
			struct tix_time t;
			struct tix_error err;
			char canon[32];

			if (strcmp(v, "all") == 0)
				q->v_all = 1;
			else if (strcmp(v, "first") == 0)
				q->v_first = 1;
			else if (strcmp(v, "last") == 0)
				q->v_last = 1;
			else if (tix_time_parse(v, &t, &err) == TIX_OK)
				ts[j++] = tix_arena_strdup(q->arena, tix_time_canonical(&t, canon));
			else {
				taxii_error(
				        resp, 400, "Bad request",
				        "match[version]: '%.60s' is not all, first, last or a timestamp",
				        v);
				return -1;
			}
		}
		ts[j] = NULL;
		if (q->v_all && n > 1) {
			taxii_error(resp, 400, "Bad request",
			            "match[version]=all cannot be combined with other versions");
			return -1;
		}
		q->versions = ts;
	}
	return 0;
}

/* ---- pagination tokens ------------------------------------------------------ */

/* A next token is base64url(cursor || MAC), the MAC a keyed BLAKE2b over
 * the caller, the endpoint, the query (every parameter but next and the
 * page sizes limit and page_bytes, in order) and the cursor. A token is
 * only good for the caller and the query it was made for; forged or
 * replayed elsewhere, it is refused. */
static void token_mac(const struct taxii_config *cfg, const struct taxii_request *req,
                      int64_t cursor, unsigned char mac[16])
{
	crypto_generichash_state st;
	unsigned char c[8];

	for (int i = 0; i < 8; i++)
		c[i] = (unsigned char)((uint64_t)cursor >> (8 * i));
	crypto_generichash_init(&st, cfg->secret, sizeof(cfg->secret), 16);
	int64_t user_key = req->who ? req->who->user_key : -1; /* -1: anonymous */

	crypto_generichash_update(&st, (const unsigned char *)&user_key, sizeof(user_key));
	crypto_generichash_update(&st, (const unsigned char *)req->path, strlen(req->path) + 1);
	for (size_t i = 0; i < req->nparams; i++) {
		const char *k = req->params[i].key, *v = req->params[i].value;

		if (strcmp(k, "next") == 0 || strcmp(k, "limit") == 0 ||
		    strcmp(k, "page_bytes") == 0)
			continue;
		crypto_generichash_update(&st, (const unsigned char *)k, strlen(k) + 1);
		crypto_generichash_update(&st, (const unsigned char *)(v ? v : ""),
		                          (v ? strlen(v) : 0) + 1);
	}
	crypto_generichash_update(&st, c, sizeof(c));
	crypto_generichash_final(&st, mac, 16);
}

/* The length of every next token, and the head of a page that has one. */
#define TOKEN_CHARS    (sodium_base64_ENCODED_LEN(24, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1)
#define PAGE_HEAD_MORE "{\"more\":true,\"next\":\""

static void token_make(const struct taxii_config *cfg, const struct taxii_request *req,
                       int64_t cursor, char out[64])
{
	unsigned char raw[24];

	for (int i = 0; i < 8; i++)
		raw[i] = (unsigned char)((uint64_t)cursor >> (8 * i));
	token_mac(cfg, req, cursor, raw + 8);
	sodium_bin2base64(out, 64, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int token_check(const struct taxii_config *cfg, const struct taxii_request *req,
                       const char *token, int64_t *cursor)
{
	unsigned char raw[24], mac[16];
	size_t len = 0;
	uint64_t c = 0;

	if (strlen(token) > 64 ||
	    sodium_base642bin(raw, sizeof(raw), token, strlen(token), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw))
		return -1;
	for (int i = 0; i < 8; i++)
		c |= (uint64_t)raw[i] << (8 * i);
	token_mac(cfg, req, (int64_t)c, mac);
	if (sodium_memcmp(mac, raw + 8, sizeof(mac)) != 0)
		return -1;
	*cursor = (int64_t)c;
	return 0;
}

/* ---- collections and access ---------------------------------------------------- */

#define MAX_GROUPS 64

struct access {
	struct store_collection coll;
	int can_read, can_write;
	/* The caller as the policy sees it: role, organisation, its sharing
	 * groups, and whether it is in the collection's community (granted
	 * read, or an administrator) for GREEN and group-less AMBER. */
	struct policy_principal pp;
	const char *groups[MAX_GROUPS + 1];
	char group_names[MAX_GROUPS][128];
	size_t ngroups;
	/* The peer node the caller's organisation is, or "": what the caller
	 * writes is recorded as received from that peer, and what was
	 * received from it is not listed back to it (federation, docs/sync.md). */
	char peer[64];
	/* The drill exercise whose collection this is, or "": its readers ask
	 * for that exercise, and read only its objects (docs/drill.md). */
	char exercise[64];
};

static enum policy_role policy_role_of(const struct auth_principal *who)
{
	if (who == NULL)
		return POLICY_ANONYMOUS;
	switch (who->role) {
	case STORE_ROLE_ADMIN: return POLICY_ADMIN;
	case STORE_ROLE_ANALYST: return POLICY_ANALYST;
	case STORE_ROLE_READER: return POLICY_READER;
	case STORE_ROLE_SENSOR: return POLICY_SENSOR;
	}
	return POLICY_ANONYMOUS;
}

static int add_group(void *arg, const char *group)
{
	struct access *a = arg;

	if (a->ngroups == MAX_GROUPS)
		return 1;
	snprintf(a->group_names[a->ngroups], sizeof(a->group_names[0]), "%s", group);
	a->groups[a->ngroups] = a->group_names[a->ngroups];
	a->ngroups++;
	a->groups[a->ngroups] = NULL;
	return 0;
}

/* The object's facts; its exercise read from body when it is drill data
 * (ex holds it: 64 bytes). */
static struct policy_object policy_object_of(const char *type, const struct store_audience *aud,
                                             const char *body, size_t body_len, char *ex)
{
	struct policy_object o = {type,
	                          aud->tlp,
	                          aud->tlp_flags,
	                          aud->owner_org,
	                          aud->sharing_group,
	                          aud->recipients,
	                          aud->origin_node == NULL,
	                          NULL};

	if ((aud->tlp_flags & STIX_TLPF_EXERCISE) && body)
		o.exercise = stix_exercise_of(body, body_len, ex, 64);
	return o;
}

/* The last few answers of find_collection on this thread, each for one
 * caller, collection and data version of the store: a caller reading page
 * after page costs the four lookups (the collection, its grants, the
 * organisation's groups, the peer it is) once per change of the store, not
 * once per request. Only the lookups are kept; the rights are decided from
 * them as before, and the policy still judges every row. */
#define ACCESS_MEMO 8

/* The store's data version for this thread's request, taken once when the
 * request begins and before its read transaction (so every commit it
 * counts is in what the request reads): the audit writer's commits do not
 * move it (store_audit_queue_data_version). set is 0 outside a request. */
static _Thread_local struct {
	int set;
	uint64_t v;
} req_version;

static void request_begins(const struct taxii_config *cfg, struct store *s,
                           const struct taxii_request *req)
{
	req_version.v = req->data_version ? req->data_version
	                                  : store_audit_queue_data_version(cfg->audit, s);
	req_version.set = 1;
}

static void request_ends(void)
{
	req_version.set = 0;
}

struct access_memo {
	const struct store *s;
	uint64_t version;
	int64_t user_key, org_key;
	int role, anonymous;
	char org[128], cid[64];
	struct access a;
};

static _Thread_local struct access_memo access_memo[ACCESS_MEMO];
static _Thread_local unsigned access_memo_next;

/* *to = *from, with the pointers into itself and to the caller set again. */
static void access_copy(struct access *to, const struct access *from,
                        const struct taxii_request *req)
{
	*to = *from;
	for (size_t i = 0; i < to->ngroups; i++)
		to->groups[i] = to->group_names[i];
	to->groups[to->ngroups] = NULL;
	to->pp.groups = to->groups;
	to->pp.org = req->who ? req->who->org : NULL;
	to->pp.exercise = to->exercise[0] ? to->exercise : NULL;
}

static struct access_memo *access_memo_find(const struct taxii_request *req, const struct store *s,
                                            uint64_t version, const char *cid)
{
	const struct auth_principal *w = req->who;

	for (size_t i = 0; i < ACCESS_MEMO; i++) {
		struct access_memo *m = &access_memo[i];

		if (m->s == s && m->version == version && m->anonymous == (w == NULL) &&
		    strcmp(m->cid, cid) == 0 &&
		    (w == NULL || (m->user_key == w->user_key && m->org_key == w->org_key &&
		                   m->role == (int)w->role && strcmp(m->org, w->org) == 0)))
			return m;
	}
	return NULL;
}

static void access_memo_put(const struct taxii_request *req, const struct store *s,
                            uint64_t version, const char *cid, const struct access *a)
{
	struct access_memo *m = &access_memo[access_memo_next++ % ACCESS_MEMO];
	const struct auth_principal *w = req->who;

	if (strlen(cid) >= sizeof(m->cid) || (w && strlen(w->org) >= sizeof(m->org))) {
		m->s = NULL;
		return;
	}
	m->s = s;
	m->version = version;
	m->anonymous = w == NULL;
	m->user_key = w ? w->user_key : 0;
	m->org_key = w ? w->org_key : 0;
	m->role = w ? (int)w->role : 0;
	snprintf(m->org, sizeof(m->org), "%s", w ? w->org : "");
	snprintf(m->cid, sizeof(m->cid), "%s", cid);
	access_copy(&m->a, a, req);
}

/* Finds collection cid and what the caller may do with it. 0 when found
 * and visible; otherwise the error response is set. */
static int find_collection(const struct taxii_request *req, struct store *s, const char *cid,
                           struct access *a, struct taxii_response *resp)
{
	struct tix_error err;
	enum tix_err e;
	uint64_t version = req_version.v;
	struct access_memo *memo = req_version.set ? access_memo_find(req, s, version, cid) : NULL;

	if (memo) {
		access_copy(a, &memo->a, req);
		return 0;
	}
	a->can_read = a->can_write = 0;
	a->peer[0] = '\0';
	a->exercise[0] = '\0';
	a->ngroups = 0;
	a->groups[0] = NULL;
	memset(&a->pp, 0, sizeof(a->pp));
	a->pp.role = policy_role_of(req->who);
	a->pp.groups = a->groups;
	e = store_collection_get(s, cid, 0, &a->coll, &err);
	if (e == TIX_OK && strcmp(a->coll.id, cid) != 0)
		e = TIX_ENOTFOUND; /* found by title: TAXII names collections by id */
	if (e == TIX_OK && store_drill_of_collection(s, a->coll.id, a->exercise, &err) == TIX_OK)
		a->pp.exercise = a->exercise;
	if (e == TIX_OK && req->who == NULL) {
		/* Anonymous (only when the node allows it): CLEAR objects of any
		 * collection, nothing else (the policy filters every row). */
		a->can_read = 1;
	} else if (e == TIX_OK) {
		a->pp.org = req->who->org;
		if (store_collection_access(s, &a->coll, req->who->org_key, &a->can_read,
		                            &a->can_write, &err) != TIX_OK ||
		    store_org_groups(s, req->who->org, add_group, a, &err) != TIX_OK) {
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			return -1;
		}
		if (req->who->role == STORE_ROLE_ADMIN)
			a->can_read = a->can_write = 1;
		if (store_peer_by_org(s, req->who->org, a->peer, sizeof(a->peer), &err) ==
		    TIX_ESTORE) {
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			return -1;
		}
		/* The community of GREEN and group-less AMBER: the organisations
		 * granted read, and administrators (who read every collection). */
		a->pp.collection_reader = a->can_read;
		if (req->who->role == STORE_ROLE_READER)
			a->can_write = 0;
	}
	if (e == TIX_ENOTFOUND || (e == TIX_OK && !a->can_read && !a->can_write)) {
		/* Collections one may not use are not revealed to exist. */
		taxii_error(resp, 404, "Not found", "no such collection");
		return -1;
	}
	if (e != TIX_OK) {
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
		return -1;
	}
	if (req_version.set)
		access_memo_put(req, s, version, cid, a);
	return 0;
}

static json_t *collection_json(const char *id, const char *title, const char *description,
                               int can_read, int can_write)
{
	json_t *c = json_object();

	json_object_set_new(c, "id", json_string(id));
	json_object_set_new(c, "title", json_string(title));
	if (description && *description)
		json_object_set_new(c, "description", json_string(description));
	json_object_set_new(c, "can_read", json_boolean(can_read));
	json_object_set_new(c, "can_write", json_boolean(can_write));
	json_object_set_new(c, "media_types", json_pack("[s]", STIX_MEDIA_TYPE));
	return c;
}

struct list_state {
	json_t *list;
	const char *only; /* one collection id, or NULL */
};

static int add_collection(void *arg, const struct store_collection_info *c)
{
	struct list_state *ls = arg;

	if (!c->can_read && !c->can_write)
		return 0;
	if (ls->only && strcmp(ls->only, c->id) != 0)
		return 0;
	json_array_append_new(ls->list, collection_json(c->id, c->title, c->description,
	                                                c->can_read, c->can_write));
	return 0;
}

static void get_collections(const struct taxii_request *req, struct store *s, const char *only,
                            struct taxii_response *resp)
{
	struct list_state ls = {json_array(), only};
	struct tix_error err;
	json_t *out;

	/* Anonymous callers (when allowed) see every collection, read-only:
	 * the policy lets them read only CLEAR objects in it. */
	if (store_collection_list(s, req->who ? req->who->org_key : 0,
	                          req->who == NULL || req->who->role == STORE_ROLE_ADMIN,
	                          add_collection, &ls, &err) != TIX_OK) {
		json_decref(ls.list);
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
		return;
	}
	if (only) {
		if (json_array_size(ls.list) == 0) {
			taxii_error(resp, 404, "Not found", "no such collection");
		} else {
			json_t *c = json_array_get(ls.list, 0);

			if (req->who == NULL || req->who->role == STORE_ROLE_READER)
				json_object_set_new(c, "can_write", json_false());
			set_json(resp, 200, c);
		}
		json_decref(ls.list);
		return;
	}
	out = json_object();
	if (req->who == NULL || req->who->role == STORE_ROLE_READER) {
		size_t i;
		json_t *c;

		json_array_foreach (ls.list, i, c)
			json_object_set_new(c, "can_write", json_false());
	}
	if (json_array_size(ls.list) > 0)
		json_object_set(out, "collections", ls.list);
	json_decref(ls.list);
	set_json(resp, 200, out);
	json_decref(out);
}

/* ---- objects, manifest, object, versions ----------------------------------------- */

enum listing { L_OBJECTS, L_MANIFEST, L_VERSIONS };

struct page {
	enum listing kind;
	struct tix_buf *out;
	size_t n;
	int64_t first, last;
	const struct taxii_config *cfg;
	struct access *a;
	struct tix_buf *ids; /* for the audit log */
	size_t max_bytes;    /* of the answer (0: no bound) */
	int full;            /* the page ended before a row that would pass max_bytes */
	size_t head;         /* the answer's bytes before the first row */
};

/* Room for the envelope around a listing's items:
 * {"more":true,"next":"<32 characters>","objects":[...]} */
#define PAGE_ENVELOPE_BYTES 96

/* The bytes a row adds to a listing, at most (ids and versions are
 * ASCII, checked on the way in: escaping adds nothing). */
static size_t item_bytes(enum listing kind, const struct store_taxii_row *r)
{
	switch (kind) {
	case L_OBJECTS: return r->body_len;
	case L_MANIFEST:
		return strlen(r->id) + strlen(r->version) + 2 * 32 +
		       sizeof("{\"id\":\"\",\"date_added\":\"\",\"version\":\"\","
		              "\"media_type\":\"application/stix+json;version=2.1\"}");
	case L_VERSIONS: return strlen(r->version) + 2;
	}
	return 0;
}

/* The sharing policy's filter on every row a listing reads. */
static int keep_row(void *arg, const struct store_taxii_row *r)
{
	struct page *p = arg;
	char ex[64];
	struct policy_object o = policy_object_of(r->type, &r->aud, r->body, r->body_len, ex);

	if (!policy_may_read(&p->cfg->policy, &p->a->pp, &o))
		return 0;
	/* A peer node reading is also this node forwarding: the forwarding
	 * rule must allow it too (no AMBER or RED onward from a node that is
	 * not their origin), and a peer's own objects are never echoed back. */
	if (p->a->peer[0]) {
		struct policy_peer peer = {p->a->pp.org, p->a->pp.groups,
		                           p->a->pp.collection_reader, p->a->pp.exercise};

		if (r->aud.origin_node && strcmp(r->aud.origin_node, p->a->peer) == 0)
			return 0;
		return policy_may_forward(&p->cfg->policy, &peer, &o);
	}
	return 1;
}

/* Appends an object the caller may read: always the stored body (an
 * object whose granular markings hide anything from the caller was
 * withheld whole by keep_row). */
static void add_body(struct page *p, const struct store_taxii_row *r)
{
	tix_buf_add(p->out, r->body, r->body_len);
}

static int page_row(void *arg, const struct store_taxii_row *r)
{
	struct page *p = arg;
	char ts[32];

	if (p->max_bytes && p->n > 0 &&
	    tix_buf_len(p->out) - p->head + 1 + item_bytes(p->kind, r) + PAGE_ENVELOPE_BYTES >
	            p->max_bytes) {
		p->full = 1; /* this row starts the next page */
		return 1;
	}
	if (p->n == 0)
		p->first = r->date_added;
	p->last = r->date_added;
	if (p->n++)
		tix_buf_addc(p->out, ',');
	if (tix_buf_len(p->ids) == 0)
		tix_buf_addc(p->ids, '\n');
	tix_buf_adds(p->ids, r->id);
	tix_buf_addc(p->ids, '\n');
	switch (p->kind) {
	case L_OBJECTS: add_body(p, r); break;
	case L_MANIFEST:
		tix_time_format_us(r->date_added, 6, ts);
		tix_buf_adds(p->out, "{\"id\":");
		tix_buf_add_json_string(p->out, r->id);
		tix_buf_addf(p->out, ",\"date_added\":\"%s\",\"version\":", ts);
		tix_buf_add_json_string(p->out, r->version);
		tix_buf_addf(p->out, ",\"media_type\":\"application/stix+json;version=%s\"}",
		             r->spec_version && strcmp(r->spec_version, "2.1") == 0 ? "2.1"
		                                                                    : "2.0");
		break;
	case L_VERSIONS: tix_buf_add_json_string(p->out, r->version); break;
	}
	return 0;
}

static void listing(const struct taxii_config *cfg, const struct taxii_request *req,
                    struct store *s, struct access *a, const char *oid, enum listing kind,
                    struct taxii_response *resp)
{
	struct tix_arena arena;
	struct query q;
	struct store_taxii_filter f;
	struct page p = {kind, &resp->body, 0, 0, 0, cfg, a, &resp->audit_ids, 0, 0, 0};
	const char *one[2] = {oid, NULL};
	struct tix_error err;
	int more = 0, allowed;
	int64_t cursor = 0, resume = 0;
	struct store_reader reader;
	size_t head_len = 0;
	char tok[64] = "";

	if (!a->can_read) {
		taxii_error(resp, 403, "Forbidden", "you may not read this collection");
		return;
	}
	memset(&q, 0, sizeof(q));
	tix_arena_init(&arena, 4096);
	q.arena = &arena;
	allowed = F_ADDED_AFTER | F_LIMIT | F_NEXT | F_SPEC | F_PAGE_BYTES;
	if (kind != L_VERSIONS)
		allowed |= F_VERSION;
	if (oid == NULL)
		allowed |= F_ID | F_TYPE;
	if (parse_query(req, allowed, &q, resp) != 0)
		goto out;
	if (q.next && token_check(cfg, req, q.next, &cursor) != 0) {
		taxii_error(resp, 400, "Bad request",
		            "next: not a token this server gave you for this query");
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.collection = &a->coll;
	f.ids = oid ? one : q.ids;
	f.types = q.types;
	f.spec_versions = q.spec_versions;
	f.version_all = q.v_all || kind == L_VERSIONS;
	f.version_first = q.v_first;
	f.version_last = q.v_last;
	f.versions = q.versions;
	f.added_after = q.added_after > cursor ? q.added_after : cursor;
	f.limit = q.limit ? q.limit : cfg->page_default;
	if (f.limit > cfg->page_max)
		f.limit = cfg->page_max;
	if (!cfg->policy_off) {
		f.keep = keep_row;
		f.keep_arg = &p;
		reader = (struct store_reader){a->pp.org, a->pp.groups, a->pp.collection_reader,
		                               cfg->policy.default_tlp, cfg->policy.anonymous_read};
		f.reader = &reader;
	}
	f.budget = cfg->examine_max ? cfg->examine_max : TAXII_EXAMINE_MAX;
	f.resume = &resume;
	p.max_bytes = cfg->page_bytes;
	if (q.page_bytes && (p.max_bytes == 0 || q.page_bytes < p.max_bytes))
		p.max_bytes = q.page_bytes;
	/* The rows go straight into the answer, after a head written for the
	 * usual page (more, with a next token still to be made); the head is
	 * filled in or shortened when the page is known. */
	tix_buf_reset(&resp->body);
	tix_buf_reserve(&resp->body, f.limit > 0 && f.limit < 2048 ? f.limit * 640 + 128 : 1 << 20);
	tix_buf_adds(&resp->body, PAGE_HEAD_MORE);
	for (size_t i = 0; i < TOKEN_CHARS; i++)
		tix_buf_addc(&resp->body, '-');
	tix_buf_addf(&resp->body, "\",\"%s\":[", kind == L_VERSIONS ? "versions" : "objects");
	head_len = tix_buf_len(&resp->body);
	p.head = head_len;
	if (store_taxii_select(s, &f, page_row, &p, &more, &err) != TIX_OK) {
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
		goto out;
	}
	if (p.n == 0 && oid != NULL && !q.next && !(q.seen & F_ADDED_AFTER)) {
		taxii_error(resp, 404, "Not found", "no such object in this collection");
		goto out;
	}
	resp->status = 200;
	if (p.full)
		more = 1; /* the next page starts after the last row given */
	if (more)
		token_make(cfg, req, !p.full && resume > p.last ? resume : p.last, tok);
	if (p.n == 0) {
		tix_buf_reset(&resp->body);
		tix_buf_addf(&resp->body, "{\"more\":%s", more ? "true" : "false");
		if (more)
			tix_buf_addf(&resp->body, ",\"next\":\"%s\"", tok);
		tix_buf_addc(&resp->body, '}');
		goto out;
	}
	if (more && strlen(tok) == TOKEN_CHARS) {
		tix_buf_replace(&resp->body, strlen(PAGE_HEAD_MORE), TOKEN_CHARS, tok, TOKEN_CHARS);
	} else {
		char head[128];

		if (more)
			snprintf(head, sizeof(head), "{\"more\":true,\"next\":\"%s\",\"%s\":[", tok,
			         kind == L_VERSIONS ? "versions" : "objects");
		else
			snprintf(head, sizeof(head), "{\"more\":false,\"%s\":[",
			         kind == L_VERSIONS ? "versions" : "objects");
		tix_buf_replace(&resp->body, 0, head_len, head, strlen(head));
	}
	tix_buf_adds(&resp->body, "]}");
	tix_time_format_us(p.first, 6, resp->date_added_first);
	tix_time_format_us(p.last, 6, resp->date_added_last);
out:
	tix_arena_release(&arena);
}

/* What a DELETE selects, as the caller may see it: how many versions it
 * reads, how many its organisation may delete, and the latest of those
 * (canonical and as written) and whether it is revoked. */
struct del_scan {
	struct page *pa;
	size_t readable, mine, other;
	int latest_revoked;
	char latest[32], latest_text[64];
};

static int scan_delete(void *arg, const struct store_taxii_row *r)
{
	struct del_scan *d = arg;
	char ex[64];
	struct policy_object o = policy_object_of(r->type, &r->aud, r->body, r->body_len, ex);
	struct tix_time t;
	char canon[32];

	d->readable++;
	if (!policy_may_delete(&d->pa->a->pp, &o, d->pa->a->can_write)) {
		d->other++;
		return 0;
	}
	d->mine++;
	if (tix_time_parse(r->version, &t, NULL) != TIX_OK)
		return 0; /* an observable: one copy per organisation, no versions */
	tix_time_canonical(&t, canon);
	if (strcmp(canon, d->latest) > 0) {
		json_t *v = json_loadb(r->body, r->body_len, 0, NULL);

		snprintf(d->latest, sizeof(d->latest), "%s", canon);
		snprintf(d->latest_text, sizeof(d->latest_text), "%s", r->version);
		d->latest_revoked = v && json_is_true(json_object_get(v, "revoked"));
		json_decref(v);
	}
	return 0;
}

static void delete_object(const struct taxii_config *cfg, const struct taxii_request *req,
                          struct store *s, struct access *a, const char *oid,
                          struct taxii_response *resp)
{
	struct tix_arena arena;
	struct query q;
	struct store_taxii_filter f;
	const char *one[2] = {oid, NULL};
	struct tix_error err;
	struct store_audit_entry ae;
	struct tix_time now;
	char objs[300];
	size_t removed = 0;

	if (!a->can_read || !a->can_write) {
		taxii_error(resp, 403, "Forbidden", "deleting needs read and write access");
		return;
	}
	memset(&q, 0, sizeof(q));
	tix_arena_init(&arena, 4096);
	q.arena = &arena;
	if (parse_query(req, F_VERSION | F_SPEC, &q, resp) != 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.collection = &a->coll;
	f.ids = one;
	f.spec_versions = q.spec_versions;
	/* Without match[version], every version of the object goes. */
	f.version_all = q.v_all || q.versions == NULL;
	f.version_first = q.v_first;
	f.version_last = q.v_last;
	f.versions = q.versions;
	{
		/* Deleting is the owner's right (docs/policy.md): the caller's
		 * organisation's versions go, nobody else's. A caller who can
		 * read none of the selection learns nothing (404); one who reads
		 * another organisation's object is told it may not (403). */
		struct tix_buf ids;
		struct page pa = {L_VERSIONS, NULL, 0, 0, 0, cfg, a, &ids, 0, 0, 0};
		struct del_scan all = {.pa = &pa}, sel;
		int more = 0, refused = 0;

		tix_buf_init(&ids, 1 << 20);
		sel = all;
		f.keep = keep_row;
		f.keep_arg = &pa;
		if (store_taxii_select(s, &f, scan_delete, &sel, &more, &err) != TIX_OK) {
			tix_buf_release(&ids);
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			goto out;
		}
		/* Every version of the object here, to see what would be current
		 * afterwards. */
		{
			struct store_taxii_filter every = f;

			every.version_all = 1;
			every.version_first = every.version_last = 0;
			every.versions = NULL;
			if (store_taxii_select(s, &every, scan_delete, &all, &more, &err) !=
			    TIX_OK) {
				tix_buf_release(&ids);
				taxii_error(resp, 500, "Internal error", "%s", err.msg);
				goto out;
			}
		}
		f.keep = NULL;
		tix_buf_release(&ids);
		if (sel.readable == 0) {
			taxii_error(resp, 404, "Not found", "no such object in this collection");
			goto out;
		}
		if (sel.mine == 0) {
			taxii_error(resp, 403, "Forbidden",
			            "%s: only the analysts and administrators of the organisation "
			            "that owns it may delete it",
			            oid);
			goto out;
		}
		/* Removing a revoked latest version while earlier ones stay would
		 * make an earlier version current again: only when the owner asks
		 * for exactly that, by naming the version's timestamp. */
		if (all.latest_revoked && sel.mine < all.mine &&
		    strcmp(all.latest, sel.latest) == 0) {
			refused = 1;
			for (size_t k = 0; q.versions && q.versions[k]; k++)
				if (strcmp(q.versions[k], all.latest) == 0)
					refused = 0;
		}
		if (refused) {
			taxii_error(resp, 409, "Conflict",
			            "%s: deleting the revoked version %s would make an earlier "
			            "version current again; delete every version, or name this "
			            "one with match[version]=%s if that is what you want",
			            oid, all.latest_text, all.latest_text);
			goto out;
		}
		f.delete_owner = a->pp.org;
	}
	tix_time_now(&now);
	snprintf(objs, sizeof(objs), "\n%s\n", oid);
	ae = (struct store_audit_entry){tix_time_to_us(&now), "delete", req->who->user,
	                                req->who->org,        objs,     req->path};
	f.audit = &ae;
	if (store_taxii_delete(s, &f, &removed, &err) != TIX_OK) {
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
		goto out;
	}
	if (removed == 0) {
		taxii_error(resp, 404, "Not found", "no such object in this collection");
		goto out;
	}
	resp->status = 200;
	tix_buf_reset(&resp->body);
	tix_buf_adds(&resp->body, "{}");
out:
	tix_arena_release(&arena);
}

/* ---- adding objects ----------------------------------------------------------------- */

static void add_entry(json_t *list, const char *id, const char *version, const char *message)
{
	json_t *e = json_object();

	json_object_set_new(e, "id", json_string(id ? id : ""));
	json_object_set_new(e, "version", json_string(version ? version : ""));
	if (message)
		json_object_set_new(e, "message", json_string(message));
	json_array_append_new(list, e);
}

#define UNKNOWN_MARKING                                                                            \
	"a marking this node does not know (no TLP id, no stored marking-definition): readable "   \
	"as TLP:AMBER+STRICT at most until its definition arrives"
static void route(const struct taxii_config *cfg, struct store *s, const struct taxii_request *req,
                  struct taxii_response *resp);
static const struct taxii_config *live_config(const struct taxii_config *cfg, struct store *s,
                                              struct taxii_config *copy);

/* What a POST's headers decide, before its body is read: the caller's
 * right to write and the media type. status 0: go on. */
static int post_refused(const struct taxii_request *req, struct access *a,
                        struct taxii_response *resp)
{
	if (!a->can_write) {
		taxii_error(resp, 403, "Forbidden", "you may not write to this collection");
		return 1;
	}
	if (req->content_type == NULL ||
	    !taxii_media(req->content_type, strlen(req->content_type), 0)) {
		taxii_error(resp, 415, "Unsupported media type", "send the envelope as %s",
		            TAXII_MEDIA_TYPE);
		return 1;
	}
	return 0;
}

static void post_precheck(const struct taxii_config *cfg, const struct taxii_request *req,
                          struct access *a, struct taxii_response *resp)
{
	(void)cfg;
	if (!post_refused(req, a, resp))
		resp->status = 0;
}

int taxii_precheck(const struct taxii_config *cfg_in, struct store *s,
                   const struct taxii_request *req, struct taxii_response *resp)
{
	struct taxii_request r = *req;
	struct taxii_config copy;
	const struct taxii_config *cfg = live_config(cfg_in, s, &copy);

	r.precheck = 1;
	r.body = NULL;
	r.body_len = 0;
	route(cfg, s, &r, resp);
	return resp->status == 0;
}

const char *const taxii_reject_names[TAXII_REJECT_COUNT] = {"invalid", "malformed", "role",
                                                            "write_rule"};
static atomic_uint_fast64_t rejects[TAXII_REJECT_COUNT];
static atomic_uint_fast64_t cache_hits, cache_misses;

void taxii_cache_counts_get(uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load_explicit(&cache_hits, memory_order_relaxed);
	*misses = atomic_load_explicit(&cache_misses, memory_order_relaxed);
}

void taxii_rejects_get(uint64_t out[TAXII_REJECT_COUNT])
{
	for (int i = 0; i < TAXII_REJECT_COUNT; i++)
		out[i] = atomic_load_explicit(&rejects[i], memory_order_relaxed);
}

static void count_reject(enum taxii_reject r)
{
	atomic_fetch_add_explicit(&rejects[r], 1, memory_order_relaxed);
}

static void post_objects(const struct taxii_config *cfg, const struct taxii_request *req,
                         struct store *s, struct access *a, struct taxii_response *resp)
{
	struct stix_validate_opts vopts = {0, cfg->check_pattern};
	struct stix_problems probs;
	struct tix_error err;
	struct tix_buf body;
	json_t *env = NULL, *objs, *obj, *successes, *failures, *status;
	struct tix_uuid u;
	struct tix_time now;
	char sid[37], ts[32];
	size_t i;
	int in_tx = 0;
	unsigned flags;
	enum tix_err e;
	json_t **late = NULL; /* per success: an object whose marking was unknown */
	struct tix_buf ids;
	struct store_audit_entry ae;

	if (post_refused(req, a, resp))
		return;
	if (req->body_len > cfg->max_content_length) {
		taxii_error(resp, 413, "Payload too large", "the limit is %zu bytes",
		            cfg->max_content_length);
		return;
	}
	tix_error_clear(&err);
	env = stix_json_parse(req->body, req->body_len, "body", &err);
	if (env == NULL) {
		taxii_error(resp, 400, "Bad request", "%s: %s", err.where, err.msg);
		return;
	}
	objs = json_object_get(env, "objects");
	if (!json_is_object(env) || (objs && !json_is_array(objs))) {
		json_decref(env);
		taxii_error(resp, 422, "Unprocessable content",
		            "the body must be a TAXII envelope: {\"objects\": [...]}");
		return;
	}
	stix_problems_init(&probs);
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	tix_buf_init(&ids, TIX_BUF_UNLIMITED);
	successes = json_array();
	failures = json_array();
	late = calloc(json_array_size(objs) + 1, sizeof(*late));
	tix_time_now(&now);
	if (store_begin(s, &err) != TIX_OK) {
		taxii_error(resp, 503, "Service unavailable", "%s", err.msg);
		goto out;
	}
	in_tx = 1;
	json_array_foreach (objs, i, obj) {
		char path[32];
		struct stix_meta meta;
		const char *id, *version;
		int added;

		snprintf(path, sizeof(path), "objects[%zu]", i);
		stix_problems_reset(&probs);
		if (json_is_object(obj))
			stix_sco_ensure_id(obj, NULL);
		id = json_string_value(json_object_get(obj, "id"));
		version = json_string_value(json_object_get(obj, "modified"));
		if (version == NULL)
			version = json_string_value(json_object_get(obj, "created"));
		if (stix_validate(obj, path, &vopts, &probs) > 0) {
			struct tix_buf msg;

			tix_buf_init(&msg, 4096);
			for (size_t k = 0; k < probs.count; k++)
				tix_buf_addf(&msg, "%s%s", k ? "; " : "", probs.msgs[k]);
			add_entry(failures, id, version, tix_buf_str(&msg));
			tix_buf_release(&msg);
			count_reject(TAXII_REJECT_INVALID);
			continue;
		}
		if (stix_meta_get(obj, &meta, &err) != TIX_OK) {
			add_entry(failures, id, version, err.msg);
			count_reject(TAXII_REJECT_MALFORMED);
			continue;
		}
		if (!policy_may_write(&a->pp, meta.type,
		                      json_string_value(json_object_get(obj, "identity_class")),
		                      a->can_write)) {
			add_entry(failures, meta.id, meta.version,
			          "a sensor may write only sightings, observed-data and its own "
			          "identity (identity_class \"system\")");
			count_reject(TAXII_REJECT_ROLE);
			continue;
		}
		flags = store_marking_flags(s, &meta);
		if (store_has_version(s, &meta, req->who->org) == 1) {
			e = store_link(s, &meta, req->who->org, &a->coll, NULL, &added, &err);
		} else {
			tix_buf_reset(&body);
			if (stix_json_dump(obj, &body) != TIX_OK) {
				tix_error_set(&err, TIX_ENOMEM, "body", "out of memory");
				goto store_failed;
			}
			e = store_put_from(s, &meta, tix_buf_str(&body), tix_buf_len(&body),
			                   req->who->org, a->peer[0] ? a->peer : NULL, &a->coll,
			                   NULL, &added, &err);
		}
		if (e == TIX_EDENIED) {
			/* The write rules (docs/policy.md): a failure of this object
			 * only; nothing of it was stored. */
			char reason[700];

			snprintf(reason, sizeof(reason), "%s: %s", err.where, err.msg);
			add_entry(failures, meta.id, meta.version, reason);
			count_reject(TAXII_REJECT_WRITE_RULE);
			continue;
		}
		if (e != TIX_OK)
			goto store_failed;
		/* The status says when the node holds an object back further
		 * than its markings seem to say. */
		if (flags & STIX_TLPF_UNKNOWN) {
			/* looked at again after the envelope (below) */
			if (late)
				late[json_array_size(successes)] = obj;
			add_entry(successes, meta.id, meta.version, UNKNOWN_MARKING);
		} else if (flags & STIX_TLPF_CONTRADICTORY)
			add_entry(successes, meta.id, meta.version,
			          "contradictory TLP markings: the most restrictive applies");
		else
			add_entry(successes, meta.id, meta.version, NULL);
		if (tix_buf_len(&ids) == 0)
			tix_buf_addc(&ids, '\n');
		tix_buf_adds(&ids, meta.id);
		tix_buf_addc(&ids, '\n');
	}
	/* Markings are resolved after the whole envelope: a definition later
	 * in it made an earlier object's marking known. */
	{
		size_t k;
		json_t *entry;

		json_array_foreach (successes, k, entry) {
			struct stix_meta m2;

			if (late && late[k] && stix_meta_get(late[k], &m2, NULL) == TIX_OK &&
			    !(store_marking_flags(s, &m2) & STIX_TLPF_UNKNOWN))
				json_object_del(entry, "message");
		}
	}
	tix_uuid_v4(&u);
	tix_uuid_format(&u, sid);
	tix_time_format(&now, 6, ts);
	status = json_pack("{sssssssIsIsosIsosIso}", "id", sid, "status", "complete",
	                   "request_timestamp", ts, "total_count",
	                   (json_int_t)json_array_size(objs), "success_count",
	                   (json_int_t)json_array_size(successes), "successes", successes,
	                   "failure_count", (json_int_t)json_array_size(failures), "failures",
	                   failures, "pending_count", (json_int_t)0, "pendings", json_array());
	successes = failures = NULL; /* status holds them now */
	if (status == NULL) {
		taxii_error(resp, 500, "Internal error", "out of memory");
		goto out;
	}
	set_json(resp, 202, status);
	json_decref(status);
	/* The status is saved in the same transaction as the objects: once the
	 * client has it, both are there. */
	if (store_status_put(s, sid, req->who->user_key, tix_buf_str(&resp->body), &err) != TIX_OK)
		goto store_failed;
	/* The write and its audit entry commit together. */
	ae = (struct store_audit_entry){tix_time_to_us(&now), "write",           req->who->user,
	                                req->who->org,        tix_buf_str(&ids), req->path};
	if (tix_buf_len(&ids) > 0 && store_audit_append(s, &ae, 1, &err) != TIX_OK)
		goto store_failed;
	in_tx = 0; /* store_commit rolls back itself when it fails */
	if (store_commit(s, &err) != TIX_OK)
		taxii_error(resp, 503, "Service unavailable", "could not store: %s", err.msg);
	goto out;
store_failed:
	taxii_error(resp, 503, "Service unavailable", "could not store: %s", err.msg);
out:
	if (in_tx)
		store_rollback(s);
	json_decref(successes);
	json_decref(failures);
	json_decref(env);
	free(late);
	tix_buf_release(&body);
	tix_buf_release(&ids);
	stix_problems_release(&probs);
}

/* Whether a status entry (id, version) names a stored version the reader
 * may read (an observable's version is "": any readable copy). */
struct status_look {
	const struct policy_node *node;
	const struct policy_principal *pp;
	char canon[32];
	int readable;
};

static int status_look_row(void *arg, const struct store_row *row)
{
	struct status_look *l = arg;
	char ex[64];
	struct policy_object o =
	        policy_object_of(row->type, &row->aud, row->body, row->body_len, ex);
	int same = l->canon[0] ? strcmp(row->modified, l->canon) == 0 : row->modified[0] == '#';

	if (same && policy_may_read(l->node, l->pp, &o)) {
		l->readable = 1;
		return 1;
	}
	return 0;
}

/* An administrator reading another user's status: the counts, and the
 * entries of objects it may read only (never ids of what it may not). */
static void status_for_admin(const struct taxii_config *cfg, const struct taxii_request *req,
                             struct store *s, json_t *status)
{
	static const char *const lists[] = {"successes", "failures", "pendings"};
	struct access a;
	struct policy_principal pp;
	struct tix_error err;

	memset(&a, 0, sizeof(a));
	a.groups[0] = NULL;
	if (store_org_groups(s, req->who->org, add_group, &a, &err) != TIX_OK)
		a.groups[0] = NULL;
	pp = (struct policy_principal){POLICY_ADMIN, req->who->org, a.groups, 1, NULL};
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		json_t *list = json_object_get(status, lists[k]), *kept = json_array(), *e;
		size_t i;

		json_array_foreach (list, i, e) {
			const char *id = json_string_value(json_object_get(e, "id"));
			const char *version = json_string_value(json_object_get(e, "version"));
			struct status_look look = {&cfg->policy, &pp, "", 0};
			struct store_query q = {NULL, id, NULL, 0, 1};
			struct tix_time tv;

			if (id == NULL)
				continue;
			if (version && version[0]) {
				if (tix_time_parse(version, &tv, NULL) != TIX_OK)
					continue;
				tix_time_canonical(&tv, look.canon);
			}
			if (store_query(s, &q, status_look_row, &look, &err) == TIX_OK &&
			    look.readable)
				json_array_append(kept, e);
		}
		json_object_set_new(status, lists[k], kept);
	}
}

static void get_status(const struct taxii_config *cfg, const struct taxii_request *req,
                       struct store *s, const char *sid, struct taxii_response *resp)
{
	struct tix_error err;
	char *body = NULL;
	int64_t owner = 0;
	enum tix_err e = store_status_get(s, sid, &body, &owner, &err);

	if (e == TIX_OK && owner == req->who->user_key) {
		resp->status = 200;
		tix_buf_reset(&resp->body);
		tix_buf_adds(&resp->body, body);
	} else if (e == TIX_OK && req->who->role == STORE_ROLE_ADMIN) {
		json_t *st = json_loads(body, 0, NULL);

		if (st == NULL) {
			taxii_error(resp, 500, "Internal error", "a stored status is not JSON");
		} else {
			status_for_admin(cfg, req, s, st);
			set_json(resp, 200, st);
			json_decref(st);
		}
	} else if (e == TIX_OK || e == TIX_ENOTFOUND) {
		taxii_error(resp, 404, "Not found", "no such status");
	} else {
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
	}
	free(body);
}

/* ---- the answer cache ---------------------------------------------------------------- */

#define CACHE_SLOTS 64

struct cache_entry {
	char *key;
	uint64_t hash, version;
	int status;
	char *body;
	size_t len;
	char first[32], last[32];
	char *ids;                /* the objects the answer reveals, for the audit log */
	const char *content_type; /* as the answer had it (the MISP feed's own) */
};

struct taxii_cache {
	struct cache_entry slot[CACHE_SLOTS];
	size_t bytes, max_bytes;
};

struct taxii_cache *taxii_cache_new(size_t max_bytes)
{
	struct taxii_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->max_bytes = max_bytes;
	return c;
}

static void cache_drop(struct taxii_cache *c, struct cache_entry *e)
{
	c->bytes -= e->len;
	free(e->key);
	free(e->body);
	free(e->ids);
	memset(e, 0, sizeof(*e));
}

void taxii_cache_free(struct taxii_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		cache_drop(c, &c->slot[i]);
	free(c);
}

/* FNV-1a of a key. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; key[i]; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return h;
}

/* Everything an answer depends on besides the data: the caller (its
 * access and its pagination tokens), the URL it used, path and query. */
static char *cache_key(const struct taxii_request *req, uint64_t *hash)
{
	struct tix_buf k;
	char *key;
	size_t len;

	tix_buf_init(&k, 16384);
	if (tix_buf_addf(&k, "%lld|%d|%lld|%s|%s", req->who ? (long long)req->who->user_key : -1LL,
	                 req->who ? (int)req->who->role : -1,
	                 req->who ? (long long)req->who->org_key : -1LL,
	                 req->base_url ? req->base_url : "", req->path) != TIX_OK)
		goto fail;
	for (size_t i = 0; i < req->nparams; i++)
		if (tix_buf_addf(&k, "\x01%s=%s", req->params[i].key,
		                 req->params[i].value ? req->params[i].value : "") != TIX_OK)
			goto fail;
	key = tix_buf_detach(&k, &len);
	*hash = key_hash(key);
	return key;
fail:
	tix_buf_release(&k);
	return NULL;
}

static int cache_get(struct taxii_cache *c, const char *key, uint64_t hash, uint64_t version,
                     struct taxii_response *resp)
{
	struct cache_entry *e = &c->slot[hash % CACHE_SLOTS];

	if (e->key == NULL || e->hash != hash || strcmp(e->key, key) != 0)
		return 0;
	if (e->version != version) {
		cache_drop(c, e);
		return 0;
	}
	tix_buf_reset(&resp->body);
	if (tix_buf_add(&resp->body, e->body, e->len) != TIX_OK)
		return 0;
	resp->status = e->status;
	tix_buf_reset(&resp->audit_ids);
	if (e->ids)
		tix_buf_adds(&resp->audit_ids, e->ids);
	memcpy(resp->date_added_first, e->first, sizeof(e->first));
	memcpy(resp->date_added_last, e->last, sizeof(e->last));
	resp->content_type = e->content_type;
	return 1;
}

static void cache_put(struct taxii_cache *c, char *key_take, uint64_t hash, uint64_t version,
                      const struct taxii_response *resp)
{
	struct cache_entry *e = &c->slot[hash % CACHE_SLOTS];
	size_t len = tix_buf_len(&resp->body);

	if (len > c->max_bytes / 8) {
		free(key_take);
		return;
	}
	cache_drop(c, e);
	/* Stay within the budget by emptying slots until the entry fits. */
	for (int i = 0; c->bytes + len > c->max_bytes && i < CACHE_SLOTS; i++)
		cache_drop(c, &c->slot[i]);
	if ((e->body = malloc(len ? len : 1)) == NULL) {
		free(key_take);
		return;
	}
	memcpy(e->body, tix_buf_str(&resp->body), len);
	if (tix_buf_len(&resp->audit_ids) > 0 &&
	    (e->ids = strdup(tix_buf_str(&resp->audit_ids))) == NULL) {
		free(e->body);
		e->body = NULL;
		free(key_take);
		return;
	}
	e->key = key_take;
	e->hash = hash;
	e->version = version;
	e->status = resp->status;
	e->content_type = resp->content_type;
	e->len = len;
	memcpy(e->first, resp->date_added_first, sizeof(e->first));
	memcpy(e->last, resp->date_added_last, sizeof(e->last));
	c->bytes += len;
}

int taxii_cache_answer_get(struct taxii_cache *c, const char *key, uint64_t version,
                           struct taxii_response *resp)
{
	return c && cache_get(c, key, key_hash(key), version, resp);
}

void taxii_cache_answer_put(struct taxii_cache *c, const char *key, uint64_t version,
                            const struct taxii_response *resp)
{
	char *k;

	if (c && resp->status == 200 && (k = strdup(key)) != NULL)
		cache_put(c, k, key_hash(k), version, resp);
}

/* ---- routing ----------------------------------------------------------------------- */

static int method_is(const struct taxii_request *req, const char *m)
{
	return strcmp(req->method, m) == 0;
}

static int allow(const struct taxii_request *req, struct taxii_response *resp, const char *methods)
{
	char m[16];
	const char *p = methods;

	/* methods is "GET" or "GET, POST" ...; HEAD is answered as GET by the
	 * HTTP layer. */
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n < sizeof(m)) {
			memcpy(m, p, n);
			m[n] = '\0';
			if (strcmp(m, req->method) == 0)
				return 1;
		}
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	resp->allow = methods;
	taxii_error(resp, 405, "Method not allowed", "use %s", methods);
	return 0;
}

static void route(const struct taxii_config *cfg, struct store *s, const struct taxii_request *req,
                  struct taxii_response *resp);

/* Every answer that reveals objects is logged, cached answers too. */
static void audit_read(const struct taxii_config *cfg, const struct taxii_request *req,
                       const struct taxii_response *resp)
{
	struct store_audit_entry ae;
	struct tix_time now;
	char detail[1200];

	if (cfg->audit == NULL || resp->status != 200 || tix_buf_len(&resp->audit_ids) == 0)
		return;
	tix_time_now(&now);
	snprintf(detail, sizeof(detail), "GET %s%s%s", req->path, req->client ? " from " : "",
	         req->client ? req->client : "");
	ae = (struct store_audit_entry){tix_time_to_us(&now),
	                                "read",
	                                req->who ? req->who->user : "anonymous",
	                                req->who ? req->who->org : "",
	                                tix_buf_str(&resp->audit_ids),
	                                detail};
	store_audit_queue_push(cfg->audit, &ae);
}

enum tix_err taxii_node_settings(struct store *s, struct policy_node *n, struct tix_error *err)
{
	char v[64];
	int t;
	enum tix_err e = TIX_OK;

	n->default_tlp = STIX_TLP_AMBER;
	n->anonymous_read = 0;
	if (store_setting_get(s, "default_tlp", v, sizeof(v), NULL) == TIX_OK) {
		if ((t = stix_tlp_parse(v)) < 0)
			e = tix_error_set(err, TIX_EINVAL, "default_tlp",
			                  "the node's default_tlp '%s' is not a TLP level", v);
		else
			n->default_tlp = t;
	}
	if (store_setting_get(s, "anonymous_read", v, sizeof(v), NULL) == TIX_OK)
		n->anonymous_read = strcmp(v, "on") == 0;
	return e;
}

/* This thread's view of the live node settings, and the data version it
 * was read at. */
static _Thread_local struct {
	const struct taxii_config *cfg;
	uint64_t version;
	struct policy_node node;
} live;

/* cfg, or a copy of it with the node settings as the store has them now
 * (read again only when the store's data version moved: any commit, by
 * any process). */
static const struct taxii_config *live_config(const struct taxii_config *cfg, struct store *s,
                                              struct taxii_config *copy)
{
	uint64_t v;

	if (cfg->policy_live == 0)
		return cfg;
	v = req_version.set ? req_version.v : store_audit_queue_data_version(cfg->audit, s);
	if (live.cfg != cfg || live.version != v) {
		struct policy_node n;

		/* A stored value that is not valid keeps the default. */
		(void)taxii_node_settings(s, &n, NULL);
		live.node = cfg->policy;
		if (cfg->policy_live & TAXII_LIVE_DEFAULT_TLP)
			live.node.default_tlp = n.default_tlp;
		if (cfg->policy_live & TAXII_LIVE_ANONYMOUS_READ)
			live.node.anonymous_read = n.anonymous_read;
		live.cfg = cfg;
		live.version = v;
	}
	*copy = *cfg;
	copy->policy = live.node;
	return copy;
}

void taxii_handle(const struct taxii_config *cfg_in, struct store *s, struct taxii_cache *cache,
                  const struct taxii_request *req, struct taxii_response *resp)
{
	uint64_t hash = 0, version = 0;
	char *key = NULL;
	struct taxii_config copy;
	int reading;
	const struct taxii_config *cfg;

	request_begins(cfg_in, s, req);
	/* A GET reads one snapshot in one read transaction: its statements
	 * share one lock of the store instead of taking one each. */
	reading = strcmp(req->method, "GET") == 0 && store_read_begin(s);
	cfg = live_config(cfg_in, s, &copy);

	/* Only acceptable GETs by authenticated callers (or anonymous ones
	 * the node allows) are cached; anything else takes the full path
	 * (which answers 401 or 406 itself). The key holds the caller, so one
	 * reader never gets another's answer; the MISP feed's files (its own
	 * media types) too, so a MISP instance polling the manifest costs a
	 * lookup until the store changes. */
	if (cache && (req->who || (cfg->policy.anonymous_read && !req->auth_failed)) &&
	    strcmp(req->method, "GET") == 0 &&
	    (strncmp(req->path, "/misp/", 6) == 0 || accept_ok(req->accept)) &&
	    (key = cache_key(req, &hash)) != NULL) {
		version = req_version.v;
		if (cache_get(cache, key, hash, version, resp)) {
			atomic_fetch_add_explicit(&cache_hits, 1, memory_order_relaxed);
			free(key);
			store_read_end(s, reading);
			request_ends();
			audit_read(cfg, req, resp);
			return;
		}
	}
	if (key)
		atomic_fetch_add_explicit(&cache_misses, 1, memory_order_relaxed);
	route(cfg, s, req, resp);
	store_read_end(s, reading);
	request_ends();
	if (key && resp->status == 200)
		cache_put(cache, key, hash, version, resp);
	else
		free(key);
	audit_read(cfg, req, resp);
}

/* ---- the MISP feed: /misp/<collection-id>/manifest.json, <uuid>.json,
 * hashes.csv (docs/formats.md). The collection's objects the caller may
 * read, each through the same policy filter as the TAXII listing (keep_row:
 * withheld whole under granular markings the caller may not see), as MISP
 * events (src/formats/misp_out.c), written one event at a time; one
 * <uuid>.json reads only what that event is made of. */

struct misp_feed {
	struct page *p; /* keep_row's state: the caller and the policy */
	struct store *s;
	const struct store_collection *coll;
	struct formats_misp_out *w;
	enum { MF_GET, MF_PROBE, MF_COLLECT, MF_HEAD, MF_LOOSE } mode;
	json_t *got; /* MF_GET: the last version seen; MF_COLLECT: a list */
	int seen, failed;
	struct tix_error err;
	/* the answer: one event (want), or the manifest's text and hashes.csv */
	const char *want;
	json_t *event;
	struct tix_buf *manifest, *csv;
	size_t events;
	char day[11];
};

static int misp_feed_row(void *arg, const struct store_row *r)
{
	struct misp_feed *m = arg;
	struct store_taxii_row tr = {r->id,         r->type, r->modified, NULL,
	                             r->date_added, r->body, r->body_len, r->aud};
	json_t *v;
	int stop = 0;

	if (!m->p->cfg->policy_off && !keep_row(m->p, &tr))
		return 0;
	if (m->mode == MF_PROBE) {
		m->seen = 1;
		return 1;
	}
	if ((v = json_loadb(r->body, r->body_len, 0, NULL)) == NULL)
		return 0;
	if (tix_buf_len(m->p->ids) == 0)
		tix_buf_addc(m->p->ids, '\n');
	tix_buf_adds(m->p->ids, r->id);
	tix_buf_addc(m->p->ids, '\n');
	switch (m->mode) {
	case MF_GET:
		json_decref(m->got); /* the last version the caller may see */
		m->got = v;
		return 0;
	case MF_COLLECT: json_array_append(m->got, v); break;
	case MF_HEAD: stop = formats_misp_out_head(m->w, v); break;
	case MF_LOOSE: stop = formats_misp_out_loose(m->w, v); break;
	case MF_PROBE: break;
	}
	json_decref(v);
	return stop;
}

static void misp_feed_fail(struct misp_feed *m, const struct tix_error *err)
{
	if (!m->failed)
		m->err = *err;
	m->failed = 1;
}

static json_t *misp_feed_get(void *ctx, const char *id)
{
	struct misp_feed *m = ctx;
	int mode = m->mode;
	json_t *got = m->got, *v;
	struct tix_error err;

	m->mode = MF_GET;
	m->got = NULL;
	if (store_latest_get(m->s, m->coll, id, misp_feed_row, m, &err) != TIX_OK)
		misp_feed_fail(m, &err);
	v = m->got;
	m->got = got;
	m->mode = mode;
	return v;
}

static int misp_feed_listed(void *ctx, const char *id)
{
	struct misp_feed *m = ctx;
	int mode = m->mode, seen = 0;
	struct tix_error err;

	m->mode = MF_PROBE;
	m->seen = 0;
	if (store_referrers(m->s, m->coll, id, NULL, misp_feed_row, m, &err) != TIX_OK)
		misp_feed_fail(m, &err);
	seen = m->seen;
	m->mode = mode;
	return seen;
}

static void misp_feed_sightings(void *ctx, const char *id, void (*each)(void *, json_t *),
                                void *arg)
{
	struct misp_feed *m = ctx;
	int mode = m->mode;
	json_t *got = m->got, *list = json_array(), *v;
	struct tix_error err;
	size_t i;

	/* gathered first: each may ask the store again */
	m->mode = MF_COLLECT;
	m->got = list;
	if (store_referrers(m->s, m->coll, id, "sighting", misp_feed_row, m, &err) != TIX_OK)
		misp_feed_fail(m, &err);
	m->got = got;
	m->mode = mode;
	json_array_foreach (list, i, v)
		each(arg, v);
	json_decref(list);
}

static int misp_feed_event(void *ctx, const char *uuid, int64_t ts, json_t *event)
{
	struct misp_feed *m = ctx;
	json_t *entry;

	(void)ts;
	if (m->want) {
		if (strcmp(uuid, m->want) != 0)
			return 0;
		m->event = json_incref(event);
		return 1;
	}
	/* the manifest's member for this event, written as it comes */
	entry = json_object();
	formats_misp_feed_entry(event, entry, m->csv);
	if (json_object_size(entry) == 1) {
		struct tix_buf one;
		enum tix_err e;

		/* {"uuid":{…}} -> "uuid":{…}, after a comma */
		tix_buf_init(&one, TIX_BUF_UNLIMITED);
		e = stix_json_dump(entry, &one);
		if (e == TIX_OK && m->events++)
			e = tix_buf_addc(m->manifest, ',');
		if (e == TIX_OK)
			e = tix_buf_add(m->manifest, tix_buf_str(&one) + 1, tix_buf_len(&one) - 2);
		tix_buf_release(&one);
		if (e != TIX_OK) {
			json_decref(entry);
			m->failed = 1;
			tix_error_set(&m->err, e, "misp", "out of memory");
			return 1;
		}
	}
	json_decref(entry);
	return 0;
}

static int misp_feed_day(void *ctx, const char *day)
{
	struct misp_feed *m = ctx;
	char uuid[37];

	formats_misp_loose_uuid(m->coll->title, day, uuid);
	if (strcmp(uuid, m->want) != 0)
		return 0;
	snprintf(m->day, sizeof(m->day), "%s", day);
	return 1;
}

static void misp_feed(const struct taxii_config *cfg, struct store *s,
                      const struct taxii_request *req, char **seg, int n,
                      struct taxii_response *resp)
{
	static const char *const heads[] = {"report", "grouping", NULL};
	struct access a;
	struct tix_buf items, manifest;
	struct page p = {L_OBJECTS, &items, 0, 0, 0, cfg, &a, &resp->audit_ids, 0, 0, 0};
	struct misp_feed m;
	struct formats_misp_source src = {misp_feed_get, misp_feed_listed, misp_feed_sightings, &m};
	struct store_query q;
	struct tix_error err;
	const char *file = n == 3 ? seg[2] : "";
	size_t fl = strlen(file);
	char uuid[37];
	enum tix_err e = TIX_OK;

	if (req->who == NULL && (req->auth_failed || !cfg->policy.anonymous_read)) {
		resp->authenticate = 1;
		taxii_error(resp, 401, "Unauthorized",
		            "authenticate with HTTP Basic or a Bearer key");
		return;
	}
	if (n != 3 || (strcmp(file, "manifest.json") != 0 && strcmp(file, "hashes.csv") != 0 &&
	               !(fl == 41 && strcmp(file + 36, ".json") == 0))) {
		taxii_error(resp, 404, "Not found", "no such MISP feed file");
		return;
	}
	if (!allow(req, resp, "GET") || find_collection(req, s, seg[1], &a, resp) != 0)
		return;
	if (!a.can_read) {
		taxii_error(resp, 403, "Forbidden", "you may not read this collection");
		return;
	}
	tix_buf_init(&items, TIX_BUF_UNLIMITED);
	tix_buf_init(&manifest, TIX_BUF_UNLIMITED);
	memset(&m, 0, sizeof(m));
	m.p = &p;
	m.s = s;
	m.coll = &a.coll;
	m.manifest = &manifest;
	tix_buf_reset(&resp->body);
	m.csv = file[0] == 'h' ? &resp->body : NULL;
	if ((m.w = formats_misp_out_new(a.coll.title, &src, misp_feed_event, &m)) == NULL) {
		taxii_error(resp, 500, "Internal error", "out of memory");
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.collection = &a.coll;
	q.types = heads;
	if (fl == 41) {
		/* one event: the report or grouping of that uuid, else the day
		 * whose per-day event has it */
		memcpy(uuid, file, 36);
		uuid[36] = '\0';
		m.want = uuid;
		for (int i = 0; heads[i] && m.event == NULL && !m.failed; i++) {
			char id[64];
			json_t *head;

			snprintf(id, sizeof(id), "%s--%s", heads[i], uuid);
			if ((head = misp_feed_get(&m, id)) != NULL) {
				m.mode = MF_HEAD;
				formats_misp_out_head(m.w, head);
				json_decref(head);
			}
		}
		if (m.event == NULL && !m.failed &&
		    (e = store_days(s, misp_feed_day, &m, &err)) == TIX_OK && m.day[0]) {
			m.mode = MF_LOOSE;
			e = store_walk_by_day(s, &a.coll, m.day, formats_misp_loose_types,
			                      "x-misp-object-", misp_feed_row, &m, &err);
			if (e == TIX_OK)
				formats_misp_out_finish(m.w);
		}
	} else {
		m.mode = MF_HEAD;
		e = store_query(s, &q, misp_feed_row, &m, &err);
		m.mode = MF_LOOSE;
		if (e == TIX_OK && !m.failed)
			e = store_walk_by_day(s, &a.coll, NULL, formats_misp_loose_types,
			                      "x-misp-object-", misp_feed_row, &m, &err);
		if (e == TIX_OK && !m.failed)
			formats_misp_out_finish(m.w);
	}
	if (e != TIX_OK || m.failed) {
		taxii_error(resp, 500, "Internal error", "%s", e != TIX_OK ? err.msg : m.err.msg);
		goto out;
	}
	if (fl == 41) {
		if (m.event == NULL) {
			taxii_error(resp, 404, "Not found", "no such event in this feed");
			goto out;
		}
		set_json(resp, 200, m.event);
	} else if (file[0] == 'm') {
		tix_buf_reset(&resp->body);
		tix_buf_addc(&resp->body, '{');
		tix_buf_add(&resp->body, tix_buf_str(&manifest), tix_buf_len(&manifest));
		tix_buf_addc(&resp->body, '}');
		resp->status = 200;
	} else
		resp->status = 200; /* hashes.csv: written into the body as it came */
	resp->content_type = file[0] == 'h' ? "text/csv" : "application/json";
out:
	json_decref(m.event);
	formats_misp_out_free(m.w);
	tix_buf_release(&items);
	tix_buf_release(&manifest);
}

static void route(const struct taxii_config *cfg, struct store *s, const struct taxii_request *req,
                  struct taxii_response *resp)
{
	char path[1024], *seg[MAX_SEGMENTS + 1], *p;
	int n = 0;
	struct access a;

	resp->status = 500;
	if (strlen(req->path) >= sizeof(path)) {
		taxii_error(resp, 404, "Not found", "no such resource");
		return;
	}
	memcpy(path, req->path, strlen(req->path) + 1);
	/* Split on '/', ignoring empty segments (a trailing slash is optional). */
	for (p = path; *p && n <= MAX_SEGMENTS;) {
		while (*p == '/')
			*p++ = '\0';
		if (*p == '\0')
			break;
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	if (n > MAX_SEGMENTS || n == 0) {
		taxii_error(resp, 404, "Not found", "no such resource");
		return;
	}
	if (strcmp(seg[0], "misp") == 0) {
		misp_feed(cfg, s, req, seg, n, resp); /* a MISP feed: its own media types */
		return;
	}
	if (!accept_ok(req->accept)) {
		taxii_error(resp, 406, "Not acceptable", "this server answers %s",
		            TAXII_MEDIA_TYPE);
		return;
	}
	if (req->who == NULL &&
	    (req->auth_failed || !cfg->policy.anonymous_read || !method_is(req, "GET") ||
	     (n >= 2 && strcmp(seg[1], "status") == 0))) {
		resp->authenticate = 1;
		taxii_error(resp, 401, "Unauthorized",
		            "authenticate with HTTP Basic or a Bearer key");
		return;
	}
	if (n == 1 && strcmp(seg[0], "taxii2") == 0) {
		json_t *d;
		char root[512];

		if (!allow(req, resp, "GET"))
			return;
		/* API root URLs must be absolute https URLs or relative ones
		 * (section 4.1.1): relative unless the server speaks HTTPS. */
		snprintf(root, sizeof(root), "%s/%s/",
		         req->base_url && strncmp(req->base_url, "https://", 8) == 0 ? req->base_url
		                                                                     : "",
		         cfg->api_root);
		d = json_pack("{sssssssss[s]}", "title", cfg->title, "description",
		              cfg->description, "contact", cfg->contact, "default", root,
		              "api_roots", root);
		set_json(resp, 200, d);
		json_decref(d);
		return;
	}
	if (strcmp(seg[0], cfg->api_root) != 0) {
		taxii_error(resp, 404, "Not found", "no such API root");
		return;
	}
	if (n == 1) {
		json_t *r;

		if (!allow(req, resp, "GET"))
			return;
		r = json_pack("{sssss[s]sI}", "title", cfg->title, "description", cfg->description,
		              "versions", TAXII_MEDIA_TYPE, "max_content_length",
		              (json_int_t)cfg->max_content_length);
		set_json(resp, 200, r);
		json_decref(r);
		return;
	}
	if (strcmp(seg[1], "status") == 0 && n == 3) {
		if (allow(req, resp, "GET"))
			get_status(cfg, req, s, seg[2], resp);
		return;
	}
	if (strcmp(seg[1], "collections") != 0) {
		taxii_error(resp, 404, "Not found", "no such resource");
		return;
	}
	if (n == 2) {
		if (allow(req, resp, "GET"))
			get_collections(req, s, NULL, resp);
		return;
	}
	if (n == 3) {
		if (allow(req, resp, "GET"))
			get_collections(req, s, seg[2], resp);
		return;
	}
	if (find_collection(req, s, seg[2], &a, resp) != 0)
		return;
	if (n == 4 && strcmp(seg[3], "manifest") == 0) {
		if (allow(req, resp, "GET"))
			listing(cfg, req, s, &a, NULL, L_MANIFEST, resp);
	} else if (n == 4 && strcmp(seg[3], "objects") == 0) {
		if (!allow(req, resp, "GET, POST"))
			return;
		if (method_is(req, "POST") && req->precheck)
			post_precheck(cfg, req, &a, resp);
		else if (method_is(req, "POST"))
			post_objects(cfg, req, s, &a, resp);
		else
			listing(cfg, req, s, &a, NULL, L_OBJECTS, resp);
	} else if (n == 5 && strcmp(seg[3], "objects") == 0) {
		if (!allow(req, resp, "GET, DELETE"))
			return;
		if (method_is(req, "DELETE"))
			delete_object(cfg, req, s, &a, seg[4], resp);
		else
			listing(cfg, req, s, &a, seg[4], L_OBJECTS, resp);
	} else if (n == 6 && strcmp(seg[3], "objects") == 0 && strcmp(seg[5], "versions") == 0) {
		if (allow(req, resp, "GET"))
			listing(cfg, req, s, &a, seg[4], L_VERSIONS, resp);
	} else {
		taxii_error(resp, 404, "Not found", "no such resource");
	}
}

/* ---- reading a collection for other resources (taxii.h) ---------------------------- */

struct taxii_reader {
	struct taxii_config cfg; /* with the live node settings */
	struct access a;
	struct page p; /* keep_row's argument */
	char view[1024];
};

int taxii_reader_open(const struct taxii_config *cfg_in, struct store *s,
                      const struct taxii_request *req, const char *cid, struct taxii_reader **out,
                      struct taxii_response *resp)
{
	struct taxii_config copy;
	const struct taxii_config *cfg = live_config(cfg_in, s, &copy);
	struct taxii_reader *r;
	size_t o;

	*out = NULL;
	if (req->who == NULL && (req->auth_failed || !cfg->policy.anonymous_read)) {
		resp->authenticate = 1;
		taxii_error(resp, 401, "Unauthorized",
		            "authenticate with HTTP Basic or a Bearer key");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		taxii_error(resp, 500, "Internal error", "out of memory");
		return -1;
	}
	r->cfg = *cfg;
	if (find_collection(req, s, cid, &r->a, resp) != 0) {
		free(r);
		return -1;
	}
	r->a.pp.groups = r->a.groups; /* into this copy */
	if (!r->a.can_read) {
		taxii_error(resp, 403, "Forbidden", "you may not read this collection");
		free(r);
		return -1;
	}
	r->p.cfg = &r->cfg;
	r->p.a = &r->a;
	o = (size_t)snprintf(r->view, sizeof(r->view), "%s|%s|%d|%d|%s|%d|%d|%d|%d", r->a.coll.id,
	                     r->a.pp.org ? r->a.pp.org : "", (int)r->a.pp.role,
	                     r->a.pp.collection_reader, r->a.peer, r->cfg.policy.default_tlp,
	                     r->cfg.policy.anonymous_read, r->cfg.policy_off, (int)r->a.ngroups);
	for (size_t i = 0; i < r->a.ngroups && o < sizeof(r->view); i++)
		o += (size_t)snprintf(r->view + o, sizeof(r->view) - o, "|%s", r->a.groups[i]);
	*out = r;
	return 0;
}

void taxii_reader_free(struct taxii_reader *r)
{
	free(r);
}

const char *taxii_reader_view(const struct taxii_reader *r)
{
	return r->view;
}

enum tix_err taxii_reader_page(struct taxii_reader *r, struct store *s, const char *const *types,
                               int64_t *after, size_t limit,
                               int (*cb)(void *, const struct store_taxii_row *), void *arg,
                               int *more, struct tix_error *err)
{
	struct store_taxii_filter f;
	struct store_reader reader;
	int64_t resume = *after;
	enum tix_err e;

	memset(&f, 0, sizeof(f));
	f.collection = &r->a.coll;
	f.types = types;
	f.added_after = *after;
	f.limit = limit;
	f.resume = &resume;
	if (!r->cfg.policy_off) {
		f.keep = keep_row;
		f.keep_arg = &r->p;
		reader = (struct store_reader){r->a.pp.org, r->a.pp.groups,
		                               r->a.pp.collection_reader, r->cfg.policy.default_tlp,
		                               r->cfg.policy.anonymous_read};
		f.reader = &reader;
	}
	*more = 0;
	e = store_taxii_select(s, &f, cb, arg, more, err);
	if (e == TIX_OK)
		*after = resume;
	return e;
}
