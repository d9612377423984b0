/*
 * http/http.c — libmicrohttpd adapter for the TAXII module: one access
 * handler that gathers a request (headers, query, body within limits),
 * authenticates it, hands it to taxii_handle with the worker thread's own
 * store handle, and queues the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/feeds.h"
#include "api/ui.h"
#include "http/http.h"
#include "http/metrics.h"

#define MAX_PARAMS       256
#define FAIL_PREFIXES    256
#define FAIL_INTERVAL_US (10 * INT64_C(1000000))

/* The settings a request reads, swapped whole on a reload (SIGHUP): a
 * request takes the current one on its first call and keeps it to the
 * end. A replaced one is kept (on the older list) until the server stops,
 * so no request can ever read freed settings; reloads are rare and each
 * is a few hundred bytes. */
struct live {
	struct http_options opts;
	struct taxii_config cfg;
	unsigned long generation; /* 0 at the start, one more each reload */
	struct live *older;
};

/* The TLS certificate chain and key handed to GnuTLS at each handshake
 * (MHD_OPTION_HTTPS_CERT_CALLBACK): the current one is published
 * atomically; replaced ones are kept, as struct live, until the end. */
#define TLS_CHAIN_MAX 16
struct tls_creds {
	gnutls_pcert_st chain[TLS_CHAIN_MAX];
	unsigned nchain;
	gnutls_privkey_t key;
	struct tls_creds *older;
};
static _Atomic(struct tls_creds *) tls_current;

struct server {
	const struct http_options *opts; /* as started: the settings a reload cannot change */
	const struct taxii_config *cfg;
	_Atomic(struct live *) live;
	struct auth *auth;
	char base_url[300];
	int tls;
	pthread_mutex_t lock; /* guards stores[] and the body budget */
	struct store **stores;
	struct taxii_cache **caches; /* one per worker thread, beside its store */
	size_t nstores, capstores;
	struct api_feeds *feeds; /* GET /feeds/ (src/api/feeds.c): the ETags served */
	/* Bytes of POST bodies being buffered, in all and per principal (an
	 * open-addressing table larger than the connection limit, so it never
	 * fills; a slot whose bytes fall to 0 is free again). */
	size_t body_budget, body_share, body_bytes;
	struct body_share {
		int64_t user_key;
		size_t bytes;
	} * shares;
	size_t nshares;
	/* Turns: the requests of each principal that run at once (its share,
	 * principal_requests, and beyond it while cores would be idle), and
	 * those that wait, suspended, first come first served. The same kind
	 * of table as the shares (a slot with nothing running is free again);
	 * under lock. Every waiting request is also on one node-wide queue in
	 * the order they came, whose head is the oldest. */
	struct turns {
		uint64_t principal;
		unsigned running;
		struct req_state *first, *last; /* waiting */
	} * turns;
	size_t nturns;
	unsigned cores;            /* fewer run: one may run beyond its share (cores, < threads) */
	unsigned running;          /* requests running with a turn, of all principals */
	size_t waiting;            /* requests waiting, of all principals */
	size_t waiting_principals; /* principals with a request waiting */
	struct req_state *oldest, *newest; /* every waiting request, in the order they came */
	int stopping;                      /* every request runs at once: the server is stopping */
	/* Failed authentications of the current interval per source prefix:
	 * the first of each prefix is logged as it happens, the rest as one
	 * count when the interval ends (a flood is a few audit rows). */
	int64_t fail_since; /* monotonic µs; 0: none counted */
	int64_t fail_since_wall;
	struct fail_count {
		char prefix[64];
		unsigned long more;
	} fails[FAIL_PREFIXES];
	size_t nfails;
	unsigned long fail_other; /* failures from prefixes beyond FAIL_PREFIXES */
};

/* What one request gathers across the access handler's calls. */
struct req_state {
	const struct live *live; /* the settings of this request, from its first call */
	struct tix_buf body;
	int too_big;
	int discard;     /* a body on a request that takes none: read, not kept */
	int authed;      /* the headers were authenticated on the first call */
	int auth_failed; /* ... and credentials were sent and refused */
	struct auth_principal who;
	int by_cookie;                    /* who came from a console session cookie */
	int signin;                       /* POST /ui/session: the body is a sign-in */
	char session[AUTH_TOKEN_LEN + 1]; /* that cookie's token */
	char csrf[AUTH_TOKEN_LEN + 1];    /* ... and its CSRF token */
	size_t reserved;                  /* bytes of the body budget this request holds */
	size_t discarded;                 /* bytes of an oversized body read and dropped */
	int status;
	size_t bytes;
	struct timespec started;
	char user[128];
	char request_id[17]; /* random, per request: X-Request-Id, error_id, the logs */
	char method[16];
	char url[256];
	/* Its turn (server.turns): none yet, waiting (suspended), or running. */
	enum { TURN_NONE, TURN_WAITING, TURN_RUNNING } turn;
	uint64_t principal;
	unsigned share; /* its principal's share, as the request began (principal_requests) */
	struct MHD_Connection *conn;
	struct req_state *next_waiting;  /* of its principal */
	struct req_state *older, *newer; /* the node-wide queue */
};

/* Each worker thread opens the store once and keeps it: SQLite handles are
 * not shared between threads here. The server closes them all at the end. */
static _Thread_local struct store *thread_store;
static _Thread_local struct taxii_cache *thread_cache;
static _Thread_local unsigned long thread_cache_gen; /* the settings its answers were made with */
static _Thread_local size_t thread_slot;             /* its index in srv->stores/caches */

/* After a reload the thread's cache is made again (empty, in the new size):
 * its answers were made with the old settings (page size, policy). Only
 * this thread ever uses it, so the old one can go at once. */
static void worker_cache_renew(struct server *srv, const struct live *live)
{
	size_t bytes = live->opts.cache_bytes;
	struct taxii_cache *c = bytes ? taxii_cache_new(bytes) : NULL;

	pthread_mutex_lock(&srv->lock);
	taxii_cache_free(srv->caches[thread_slot]);
	srv->caches[thread_slot] = thread_cache = c;
	thread_cache_gen = live->generation;
	pthread_mutex_unlock(&srv->lock);
}

/* The cache a request of these settings may use: none for a request that
 * began before a reload this thread has seen (its answers are of the old
 * settings). */
static struct taxii_cache *worker_cache(const struct live *live)
{
	return live->generation == thread_cache_gen ? thread_cache : NULL;
}

static struct store *worker_store(struct server *srv, const struct live *live,
                                  struct tix_error *err)
{
	struct store *s;

	if (thread_store) {
		if (live->generation > thread_cache_gen)
			worker_cache_renew(srv, live);
		/* PostgreSQL stopped or restarted since: connect again, or 503. */
		if (store_reconnect(thread_store, err) != TIX_OK)
			return NULL;
		return thread_store;
	}
	if ((s = store_open(srv->opts->db_path, NULL, err)) == NULL)
		return NULL;
	pthread_mutex_lock(&srv->lock);
	if (srv->nstores == srv->capstores) {
		size_t ncap = srv->capstores ? srv->capstores * 2 : 16;
		struct store **n = realloc(srv->stores, ncap * sizeof(*n));
		struct taxii_cache **nc = n ? realloc(srv->caches, ncap * sizeof(*nc)) : NULL;

		if (n)
			srv->stores = n;
		if (nc == NULL) {
			pthread_mutex_unlock(&srv->lock);
			store_close(s);
			tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
			return NULL;
		}
		srv->caches = nc;
		srv->capstores = ncap;
	}
	srv->stores[srv->nstores] = s;
	thread_slot = srv->nstores;
	thread_cache_gen = live->generation;
	srv->caches[srv->nstores++] = thread_cache =
	        live->opts.cache_bytes ? taxii_cache_new(live->opts.cache_bytes) : NULL;
	pthread_mutex_unlock(&srv->lock);
	thread_store = s;
	return s;
}

struct query_params {
	struct taxii_param p[MAX_PARAMS];
	size_t n;
	int overflow;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct query_params *ps = cls;

	(void)kind;
	if (ps->n == MAX_PARAMS) {
		ps->overflow = 1;
		return MHD_NO;
	}
	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value;
	ps->n++;
	return MHD_YES;
}

/* Answers shorter than this are sent uncompressed (one packet anyway). */
#define GZIP_MIN_BYTES 1024

static enum MHD_Result send_response(struct MHD_Connection *c, struct req_state *st,
                                     struct taxii_response *r)
{
	struct MHD_Response *resp;
	size_t len;
	char *body;
	enum MHD_Result ret;

	int zipped = 0, varies;

	/* What failed because the database went away (PostgreSQL stopped or
	 * restarted; an account lookup included) is its unavailability, not
	 * the request's fault: 503, and the next request connects again. */
	if ((r->status >= 500 || r->status == 401) && r->status != 503 && thread_store &&
	    store_lost(thread_store)) {
		taxii_error(r, 503, "Service unavailable",
		            "the database is unavailable (its connection was lost); retry shortly");
		r->authenticate = 0;
	}
	/* A TAXII error names its request (error_id), as the logs do. */
	if (r->status >= 400)
		http_error_set_id(&r->body, st->request_id);
	body = tix_buf_detach(&r->body, &len);
	/* gzip for clients that take it (tix sync asks): a page of objects
	 * shrinks about tenfold, what a 64 kbit/s link needs. Level 1: most of
	 * the saving for little of the CPU. Small answers go as they are. */
	varies = len >= GZIP_MIN_BYTES;
	if (varies && api_wants_gzip(MHD_lookup_connection_value(
	                      c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		unsigned char *z;
		size_t zlen;

		if (api_gzip(body, len, 1, &z, &zlen) == 0) {
			free(body);
			body = (char *)z;
			len = zlen;
			zipped = 1;
		}
	}

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        r->content_type ? r->content_type : TAXII_MEDIA_TYPE);
	if (zipped)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (varies)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(resp, "X-Request-Id", st->request_id);
	if (r->date_added_first[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-First", r->date_added_first);
	if (r->date_added_last[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", r->date_added_last);
	if (r->authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"tix\", Bearer realm=\"tix\"");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "2");
	st->status = r->status;
	st->bytes = len;
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct req_state *st, int status,
                                  const char *title, const char *msg)
{
	struct taxii_response r;
	enum MHD_Result ret;

	taxii_response_init(&r);
	taxii_error(&r, status, title, "%s", msg);
	ret = send_response(c, st, &r);
	taxii_response_release(&r);
	return ret;
}

static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(out, size, "-");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
		          (socklen_t)size);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
		          (socklen_t)size);
}

/* The scheme and authority clients used, for the absolute URLs of the
 * discovery resource: the Host header when it looks like one. */
static void base_url(struct server *srv, struct MHD_Connection *c, char *out, size_t size)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (host && *host && strlen(host) < 256 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
	            strlen(host))
		snprintf(out, size, "%s://%s", srv->tls ? "https" : "http", host);
	else
		snprintf(out, size, "%s", srv->base_url);
}

/* A peer node's audit anchor (X-Tix-Audit-Anchor, sent by `tix sync` on
 * every request of a run): kept in the store (written only when it is not
 * the newest kept already). */
static void keep_anchor(struct MHD_Connection *c, struct store *s, const struct auth_principal *who)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Tix-Audit-Anchor");
	char peer[64];
	struct tix_error err;
	struct tix_time now;
	int problem = 0;

	if (a == NULL || strlen(a) > 100 ||
	    store_peer_by_org(s, who->org, peer, sizeof(peer), &err) != TIX_OK)
		return;
	tix_time_now(&now);
	if (store_peer_anchor_put(s, peer, a, tix_time_to_us(&now), &problem, &err) != TIX_OK) {
		tix_log_info("peer %s: audit anchor not kept: %s", peer, err.msg);
		return;
	}
	if (problem)
		tix_log_warn("peer %s: its audit chain went backwards or forked (tix peer status)",
		             peer);
}

/* The share and turn tables are open-addressed with linear probing. An
 * entry that empties is removed by moving the later entries of its run
 * back (Knuth's algorithm R), so every lookup ends at the first empty slot
 * instead of scanning the whole table for a principal that is not there.
 * Nothing keeps a pointer to a slot outside the server lock, so moving
 * entries is safe. */
static size_t slot_home(uint64_t key, size_t n)
{
	return (size_t)(key * 0x9E3779B97F4A7C15u >> 32) % n;
}

static void slot_remove(void *base, size_t size, size_t n, size_t hole,
                        uint64_t (*key_of)(const void *), int (*used)(const void *))
{
	unsigned char *b = base;

	for (size_t j = (hole + 1) % n; used(b + j * size); j = (j + 1) % n) {
		size_t h = slot_home(key_of(b + j * size), n);

		/* j may fill the hole unless its home lies cyclically in (hole, j] */
		if (hole <= j ? (hole < h && h <= j) : (hole < h || h <= j))
			continue;
		memcpy(b + hole * size, b + j * size, size);
		hole = j;
	}
	memset(b + hole * size, 0, size);
}

static uint64_t share_key(const void *e)
{
	return (uint64_t)((const struct body_share *)e)->user_key;
}

static int share_used(const void *e)
{
	return ((const struct body_share *)e)->bytes > 0;
}

/* The principal's slot in the share table (found, or the empty one where
 * it goes), under lock. */
static struct body_share *share_of(struct server *srv, int64_t user_key)
{
	size_t i = slot_home((uint64_t)user_key, srv->nshares);

	for (size_t n = 0; n < srv->nshares; n++, i = (i + 1) % srv->nshares) {
		struct body_share *b = &srv->shares[i];

		if (b->bytes == 0 || b->user_key == user_key)
			return b;
	}
	return NULL;
}

/* Reserves n bytes of the body budget for user_key; 0 when granted. */
static int body_reserve(struct server *srv, int64_t user_key, size_t n)
{
	struct body_share *b;
	int ok = 0;

	pthread_mutex_lock(&srv->lock);
	b = share_of(srv, user_key);
	if (b && srv->body_bytes + n <= srv->body_budget && b->bytes + n <= srv->body_share) {
		b->user_key = user_key;
		b->bytes += n;
		srv->body_bytes += n;
		ok = 1;
	}
	pthread_mutex_unlock(&srv->lock);
	return ok ? 0 : -1;
}

static void body_release(struct server *srv, int64_t user_key, size_t n)
{
	struct body_share *b;

	pthread_mutex_lock(&srv->lock);
	b = share_of(srv, user_key);
	if (b && b->bytes > 0 && b->user_key == user_key) {
		b->bytes -= n <= b->bytes ? n : b->bytes;
		if (b->bytes == 0)
			slot_remove(srv->shares, sizeof(*b), srv->nshares,
			            (size_t)(b - srv->shares), share_key, share_used);
	}
	srv->body_bytes -= n <= srv->body_bytes ? n : srv->body_bytes;
	pthread_mutex_unlock(&srv->lock);
}

/* Who a request is, for taking turns: its account, or when it has none its
 * source prefix (a /24 or a /64), in a space of its own. */
static uint64_t principal_of(const struct req_state *st, const char *client)
{
	char prefix[64];
	uint64_t h = 0xcbf29ce484222325u;

	if (st->user[0])
		return (uint64_t)st->who.user_key & ~((uint64_t)1 << 63);
	auth_client_prefix(client, prefix, sizeof(prefix));
	for (const char *p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3u;
	return h | (uint64_t)1 << 63;
}

static uint64_t turns_key(const void *e)
{
	return ((const struct turns *)e)->principal;
}

static int turns_used(const void *e)
{
	return ((const struct turns *)e)->running > 0;
}

/* The principal's slot in the turn table (found, or the empty one where it
 * goes), under lock. */
static struct turns *turns_of(struct server *srv, uint64_t principal)
{
	size_t i = slot_home(principal, srv->nturns);

	for (size_t n = 0; n < srv->nturns; n++, i = (i + 1) % srv->nturns) {
		struct turns *t = &srv->turns[i];

		if (t->running == 0 || t->principal == principal)
			return t;
	}
	return NULL;
}

/* Puts st at the end of its principal's queue t and of the node-wide one,
 * under lock. */
static void queue_locked(struct server *srv, struct turns *t, struct req_state *st)
{
	st->turn = TURN_WAITING;
	st->next_waiting = NULL;
	if (t->last)
		t->last->next_waiting = st;
	else {
		t->first = st;
		srv->waiting_principals++;
	}
	t->last = st;
	st->newer = NULL;
	st->older = srv->newest;
	if (srv->newest)
		srv->newest->newer = st;
	else
		srv->oldest = st;
	srv->newest = st;
	srv->waiting++;
}

/* Takes st off its principal's queue t (when it is there) and off the
 * node-wide one, under lock. */
static void unqueue_locked(struct server *srv, struct turns *t, struct req_state *st)
{
	struct req_state **pp = &t->first, *prev = NULL;

	while (*pp && *pp != st) {
		prev = *pp;
		pp = &(*pp)->next_waiting;
	}
	if (*pp == NULL)
		return;
	*pp = st->next_waiting;
	if (t->last == st)
		t->last = prev;
	if (t->first == NULL)
		srv->waiting_principals--;
	if (st->older)
		st->older->newer = st->newer;
	else
		srv->oldest = st->newer;
	if (st->newer)
		st->newer->older = st->older;
	else
		srv->newest = st->older;
	st->older = st->newer = NULL;
	srv->waiting--;
}

/* Resumes w, the first waiting request of t, with a turn of its own
 * (running counts it), under lock. */
static void resume_locked(struct server *srv, struct turns *t, struct req_state *w)
{
	unqueue_locked(srv, t, w);
	t->running++;
	srv->running++;
	w->turn = TURN_RUNNING;
	MHD_resume_connection(w->conn);
}

/* Work conserving: while fewer requests run than there are cores and the
 * requests that wait are all of one principal (over its share: no one else
 * waits), the oldest of them is resumed beyond that share. As soon as a
 * second principal waits, no one is resumed beyond a share. Under lock. */
static void resume_beyond_shares_locked(struct server *srv)
{
	while (!srv->stopping && srv->running < srv->cores && srv->waiting_principals == 1) {
		struct req_state *w = srv->oldest;
		struct turns *t = turns_of(srv, w->principal);

		if (t == NULL || t->principal != w->principal)
			break; /* cannot be: a principal that waits runs its share */
		resume_locked(srv, t, w);
	}
}

/* 1 when the request may run now; 0 when it waits its turn: then its
 * connection is suspended, to be resumed by turn_end of another request.
 * A principal's requests within its share run at once; beyond it only
 * while cores would otherwise be idle (fewer requests run than there are
 * cores) and no request waits; otherwise they wait, so no partner's loop
 * of requests can keep everyone else's waiting. Running requests are
 * never preempted: a principal's requests beyond its share end as they
 * would, and meanwhile everyone else's within their share start at once. */
static int turn_begin(struct server *srv, struct MHD_Connection *c, struct req_state *st,
                      const char *client, unsigned limit)
{
	struct turns *t;
	int run = 1;

	if (st->turn == TURN_RUNNING)
		return 1;
	st->principal = principal_of(st, client);
	st->share = limit ? limit : 1;
	st->conn = c;
	pthread_mutex_lock(&srv->lock);
	t = turns_of(srv, st->principal);
	if (t == NULL || srv->stopping) {
		st->turn = TURN_NONE; /* no table slot (it never fills) or stopping: run */
	} else if (t->running < st->share || (srv->running < srv->cores && srv->waiting == 0)) {
		t->principal = st->principal;
		t->running++;
		srv->running++;
		st->turn = TURN_RUNNING;
	} else {
		queue_locked(srv, t, st);
		/* Under the lock, so turn_end cannot resume it before it is
		 * suspended. */
		MHD_suspend_connection(c);
		http_metrics_waited_turn();
		run = 0;
	}
	pthread_mutex_unlock(&srv->lock);
	return run;
}

/* The request's work is done (its answer queued) or it ended: within its
 * principal's share the turn goes to the principal's first waiting
 * request, which is resumed; then whoever may run beyond a share is. */
static void turn_end(struct server *srv, struct req_state *st)
{
	struct turns *t;

	if (st->turn == TURN_WAITING) {
		/* Ended while it waited (it cannot, suspended; but if it did, no
		 * queue may keep a pointer to it). */
		pthread_mutex_lock(&srv->lock);
		t = turns_of(srv, st->principal);
		if (t && t->principal == st->principal)
			unqueue_locked(srv, t, st);
		st->turn = TURN_NONE;
		resume_beyond_shares_locked(srv);
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	if (st->turn != TURN_RUNNING)
		return;
	st->turn = TURN_NONE;
	pthread_mutex_lock(&srv->lock);
	srv->running--;
	t = turns_of(srv, st->principal);
	if (t && t->running > 0 && t->principal == st->principal) {
		struct req_state *w = t->first;

		t->running--;
		if (w && t->running < st->share)
			resume_locked(srv, t, w); /* the turn passes */
		else if (t->running == 0)
			slot_remove(srv->turns, sizeof(*t), srv->nturns, (size_t)(t - srv->turns),
			            turns_key, turns_used);
	}
	resume_beyond_shares_locked(srv);
	pthread_mutex_unlock(&srv->lock);
}

/* Before the server stops: every waiting request is resumed (and runs). */
static void turns_release_all(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	for (size_t i = 0; i < srv->nturns; i++) {
		struct turns *t = &srv->turns[i];

		while (t->first) {
			struct req_state *w = t->first;

			t->first = w->next_waiting;
			w->turn = TURN_NONE;
			w->older = w->newer = NULL;
			MHD_resume_connection(w->conn);
		}
		t->last = NULL;
	}
	srv->oldest = srv->newest = NULL;
	srv->waiting = srv->waiting_principals = 0;
	pthread_mutex_unlock(&srv->lock);
}

static int64_t mono_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + 1;
}

static void push_audit(struct server *srv, const char *action, const char *detail)
{
	struct store_audit_entry ae;
	struct tix_time now;

	tix_time_now(&now);
	ae = (struct store_audit_entry){tix_time_to_us(&now), action, "", "", "", detail};
	store_audit_queue_push(srv->cfg->audit, &ae);
}

/* Writes the counts of the interval that ended (srv->lock held). */
static void fail_flush_locked(struct server *srv, int64_t now, int force)
{
	char detail[300], since[40];
	struct tix_time t;

	if (srv->fail_since == 0 || (!force && now - srv->fail_since < FAIL_INTERVAL_US))
		return;
	tix_time_from_us(srv->fail_since_wall, &t);
	tix_time_format(&t, 3, since);
	for (size_t i = 0; i < srv->nfails; i++) {
		if (srv->fails[i].more == 0)
			continue;
		snprintf(detail, sizeof(detail),
		         "%lu more failed authentications from %s in %lld s since %s",
		         srv->fails[i].more, srv->fails[i].prefix,
		         (long long)((now - srv->fail_since) / 1000000), since);
		push_audit(srv, "auth-failures", detail);
	}
	if (srv->fail_other) {
		snprintf(detail, sizeof(detail),
		         "%lu failed authentications from other prefixes in %lld s since %s",
		         srv->fail_other, (long long)((now - srv->fail_since) / 1000000), since);
		push_audit(srv, "auth-failures", detail);
	}
	srv->nfails = 0;
	srv->fail_other = 0;
	srv->fail_since = 0;
}

/* A failed authentication: logged in full when it is its prefix's first in
 * the interval, else counted. */
static void fail_record(struct server *srv, const char *client, const char *detail)
{
	char prefix[64];
	int64_t now = mono_now_us();
	size_t i;

	auth_client_prefix(client, prefix, sizeof(prefix));
	pthread_mutex_lock(&srv->lock);
	fail_flush_locked(srv, now, 0);
	if (srv->fail_since == 0) {
		struct tix_time t;

		tix_time_now(&t);
		srv->fail_since = now;
		srv->fail_since_wall = tix_time_to_us(&t);
	}
	for (i = 0; i < srv->nfails && strcmp(srv->fails[i].prefix, prefix) != 0; i++)
		;
	if (i < srv->nfails) {
		srv->fails[i].more++;
	} else if (srv->nfails < FAIL_PREFIXES) {
		snprintf(srv->fails[i].prefix, sizeof(srv->fails[i].prefix), "%s", prefix);
		srv->fails[i].more = 0;
		srv->nfails++;
		push_audit(srv, "auth-failure", detail);
	} else {
		srv->fail_other++;
	}
	pthread_mutex_unlock(&srv->lock);
}

/* Authenticates the request from its Authorization header, once per
 * request; a failure is written to the audit log. TIX_ETOOBIG: the
 * credential or the address is locked out (err says until when). */
static enum tix_err authenticate(struct server *srv, struct MHD_Connection *c, struct store *s,
                                 struct req_state *st, uint64_t version, const char *method,
                                 const char *url, const char *client, struct tix_error *err)
{
	const char *authz =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	enum tix_err e;

	const char *cookie = NULL;

	if (st->authed)
		return TIX_OK;
	st->authed = 1;
	/* The console's session cookie, when there is no Authorization (a
	 * sign-in ignores it); an ill-shaped one is not looked up. */
	if (authz == NULL && !st->signin &&
	    (cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, UI_COOKIE)) != NULL) {
		if (ui_cookie_well_formed(cookie) &&
		    auth_check_session(srv->auth, s, cookie, &st->who, st->csrf, err) == TIX_OK) {
			st->by_cookie = 1;
			snprintf(st->session, sizeof(st->session), "%s", cookie);
			snprintf(st->user, sizeof(st->user), "%s", st->who.user);
			return TIX_OK;
		}
		/* Ended or expired: refused as a wrong credential is, but not
		 * counted against the address (a token cannot be guessed). */
		st->auth_failed = 1;
		memset(&st->who, 0, sizeof(st->who));
		tix_log_info("%s: session cookie refused", client);
		return TIX_OK;
	}
	if (authz == NULL)
		return TIX_OK;
	e = auth_check_header_at(srv->auth, s, version, authz, client, &st->who, err);
	if (e == TIX_ETOOBIG) {
		st->authed = 0;
		return e;
	}
	if (e == TIX_OK) {
		snprintf(st->user, sizeof(st->user), "%s", st->who.user);
	} else if (store_lost(s)) {
		/* Not the credential's fault: answered 503 (send_response),
		 * not counted against the address. */
		st->auth_failed = 1;
	} else {
		char detail[600];

		st->auth_failed = 1;
		/* The header itself is never logged: it holds the credential. */
		tix_log_info("%s: authentication failed: %s", client, err->msg);
		snprintf(detail, sizeof(detail), "%s %.200s from %s: %.300s", method, url, client,
		         err->msg);
		fail_record(srv, client, detail);
	}
	return TIX_OK;
}

/* 1 when the request comes from a page of this node: its Origin (or, with
 * none, its Referer) is the node's own scheme and authority. */
static int same_origin(struct server *srv, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer");
	char base[300];
	size_t n;

	base_url(srv, c, base, sizeof(base));
	n = strlen(base);
	if (origin)
		return strcasecmp(origin, base) == 0;
	return referer && strncasecmp(referer, base, n) == 0 && referer[n] == '/';
}

/* A request authenticated by the session cookie that changes anything
 * must carry the session's CSRF token and come from the node's own pages:
 * else it is refused (1), with a 403 queued. */
static int csrf_refused(struct server *srv, struct MHD_Connection *c, struct req_state *st,
                        const char *method, enum MHD_Result *ret)
{
	const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, UI_CSRF_HEADER);

	if (!st->by_cookie || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	    strcmp(method, "OPTIONS") == 0)
		return 0;
	if (auth_csrf_equal(st->csrf, given) && same_origin(srv, c))
		return 0;
	tix_log_info("%s %s by %s: refused, no CSRF token or another origin", method, st->url,
	             st->user);
	*ret = send_error(c, st, 403, "Forbidden",
	                  "a change made with the console's session needs its X-CSRF-Token "
	                  "and a request from this node's pages");
	return 1;
}

/* An answer of the session resource: JSON, never cached, with the cookie
 * to set (or NULL). */
static enum MHD_Result send_session(struct MHD_Connection *c, struct req_state *st, int status,
                                    json_t *v, const char *set_cookie)
{
	char *text = json_dumps(v, JSON_COMPACT);
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;

	json_decref(v);
	if (text == NULL)
		return MHD_NO;
	len = strlen(text);
	if ((r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Request-Id", st->request_id);
	if (set_cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, set_cookie);
	ui_security_headers(r);
	st->status = status;
	st->bytes = len;
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static json_t *whoami(const struct auth_principal *p, const char *csrf)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "user", p->user, "org", p->org, "role",
	                 store_role_name(p->role), "csrf", csrf);
}

/* /ui/session: POST signs in (a JSON body of username and password, checked
 * as HTTP Basic is: argon2id, limits, the failure audited), GET says who
 * the cookie is, DELETE signs out. */
static enum MHD_Result session_resource(struct server *srv, struct MHD_Connection *c,
                                        struct req_state *st, struct store *s, const char *method,
                                        const char *client)
{
	char user[UI_MAX_USER + 1], pw[UI_MAX_PASSWORD + 1], msg[300], cookie[200];
	char token[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1];
	struct auth_principal p;
	struct tix_error err;
	enum tix_err e;

	tix_error_clear(&err);
	if (strcmp(method, "GET") == 0) {
		/* Also for an API key (the console signed in with one): no CSRF
		 * token then, as nothing of the key is ambient. */
		if (!st->user[0])
			return send_error(c, st, 401, "Unauthorized", "not signed in");
		return send_session(c, st, 200, whoami(&st->who, st->by_cookie ? st->csrf : ""),
		                    NULL);
	}
	if (strcmp(method, "DELETE") == 0) {
		if (!st->by_cookie)
			return send_error(c, st, 401, "Unauthorized", "not signed in");
		if (auth_session_end(srv->auth, s, st->session, &err) != TIX_OK)
			return send_error(c, st, 500, "Internal error", err.msg);
		ui_cookie_header(NULL, 0, srv->tls, cookie, sizeof(cookie));
		return send_session(c, st, 200, json_pack("{s:b}", "signed_out", 1), cookie);
	}
	if (strcmp(method, "POST") != 0)
		return send_error(c, st, 405, "Method not allowed", "GET, POST or DELETE");
	/* Not a sign-in from another site's page (login CSRF). */
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin") && !same_origin(srv, c))
		return send_error(c, st, 403, "Forbidden", "a sign-in from another site's page");
	if (ui_signin_parse(tix_buf_str(&st->body), tix_buf_len(&st->body), user, pw, msg,
	                    sizeof(msg)) != 0) {
		sodium_memzero(pw, sizeof(pw));
		return send_error(c, st, 400, "Bad request", msg);
	}
	e = auth_check_password(srv->auth, s, user, pw, client, &p, &err);
	sodium_memzero(pw, sizeof(pw));
	if (st->body.data)
		sodium_memzero(st->body.data, st->body.len);
	if (e == TIX_ETOOBIG)
		return send_error(c, st, 429, "Too many requests", err.msg);
	if (e == TIX_EINVAL)
		return send_error(c, st, 400, "Bad request", err.msg);
	if (e != TIX_OK) {
		char detail[600];

		tix_log_info("%s: sign-in failed: %s", client, err.msg);
		snprintf(detail, sizeof(detail), "POST %s from %s: %.300s", UI_SESSION_PATH, client,
		         err.msg);
		if (e == TIX_EDENIED)
			fail_record(srv, client, detail);
		return send_error(c, st, e == TIX_EDENIED ? 401 : 500,
		                  e == TIX_EDENIED ? "Unauthorized" : "Internal error", err.msg);
	}
	if (auth_session_start(srv->auth, s, &p, token, csrf, &err) != TIX_OK)
		return send_error(c, st, 500, "Internal error", err.msg);
	snprintf(st->user, sizeof(st->user), "%s", p.user);
	ui_cookie_header(token, auth_session_max_s(srv->auth), srv->tls, cookie, sizeof(cookie));
	sodium_memzero(token, sizeof(token));
	return send_session(c, st, 200, whoami(&p, csrf), cookie);
}

/* The first call of a sign-in: its small body is read (within the body
 * budget, as anonymous), nothing else is checked yet. */
static enum MHD_Result begin_signin(struct server *srv, struct MHD_Connection *c,
                                    struct req_state *st, size_t declared)
{
	if (declared > UI_MAX_SIGNIN) {
		st->too_big = 1;
		return send_error(c, st, 413, "Payload too large",
		                  "a sign-in body is at most 4096 bytes");
	}
	if (body_reserve(srv, 0, UI_MAX_SIGNIN) != 0)
		return send_error(c, st, 503, "Service unavailable",
		                  "too many request bodies are being received; retry shortly");
	st->signin = 1;
	st->reserved = UI_MAX_SIGNIN;
	return MHD_YES;
}

/* The start of a POST's first call: the thread's store, the caller
 * authenticated, a change by cookie checked for its CSRF token and origin.
 * NULL when a refusal is queued (*ret). */
static struct store *post_caller(struct server *srv, struct MHD_Connection *c, struct req_state *st,
                                 const char *url, char client[64], enum MHD_Result *ret)
{
	struct tix_error err;
	struct store *s;

	if ((s = worker_store(srv, st->live, &err)) == NULL) {
		*ret = send_error(c, st, 503, "Service unavailable", err.msg);
		return NULL;
	}
	client_address(c, client, 64);
	tix_error_clear(&err);
	if (authenticate(srv, c, s, st, store_audit_queue_data_version(srv->cfg->audit, s), "POST",
	                 url, client, &err) == TIX_ETOOBIG) {
		*ret = send_error(c, st, 429, "Too many requests", err.msg);
		return NULL;
	}
	if (csrf_refused(srv, c, st, "POST", ret))
		return NULL;
	return s;
}

/* The end of a POST's first call: what its headers decide for TAXII (req,
 * when given: the collection, the right to write it, the media type), then
 * its declared length reserved of the body budget, or a refusal queued. */
static enum MHD_Result post_go_on(struct server *srv, struct MHD_Connection *c,
                                  struct req_state *st, struct store *s,
                                  const struct taxii_request *req, size_t declared)
{
	struct taxii_response resp;
	enum MHD_Result ret;

	if (req) {
		taxii_response_init(&resp);
		if (!taxii_precheck(&st->live->cfg, s, req, &resp)) {
			ret = send_response(c, st, &resp);
			taxii_response_release(&resp);
			return ret;
		}
		taxii_response_release(&resp);
	}
	if (body_reserve(srv, st->who.user_key, declared) != 0)
		return send_error(c, st, 503, "Service unavailable",
		                  "too many request bodies are being received; retry shortly");
	st->reserved = declared;
	return MHD_YES;
}

/* The first call of a POST: before any body byte is read, the caller is
 * authenticated and the request checked as far as its headers allow (the
 * collection, the caller's right to write it, the media type); a refusal is
 * queued at once and the body never read. A POST that may go on reserves
 * its declared length (the most allowed when undeclared) of the body
 * budget, or is told to come back later. */
static enum MHD_Result begin_post(struct server *srv, struct MHD_Connection *c,
                                  struct req_state *st, const char *url, size_t declared)
{
	struct taxii_request req;
	struct store *s;
	char client[64];
	enum MHD_Result ret;

	if ((s = post_caller(srv, c, st, url, client, &ret)) == NULL)
		return ret;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = url;
	req.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	req.content_type =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.client = client;
	req.who = st->user[0] ? &st->who : NULL;
	req.auth_failed = st->auth_failed;
	return post_go_on(srv, c, st, s, &req, declared);
}

/* The first call of a POST to the JSON API (the console's pattern check and
 * import): authenticated, its CSRF token checked, its size bounded by the
 * resource and, for an import, the caller's right to write the collection
 * checked as TAXII checks it, all before any body byte is read. A path that
 * takes no POST is answered 405 later, its body dropped. */
static enum MHD_Result begin_api_post(struct server *srv, struct MHD_Connection *c,
                                      struct req_state *st, const char *url, const char *cl)
{
	size_t limit = api_post_limit(url, st->live->cfg.max_content_length);
	size_t declared = cl ? (size_t)strtoull(cl, NULL, 10) : limit;
	struct store *s;
	char client[64];
	enum MHD_Result ret;

	if (limit == 0) {
		st->discard = 1;
		return MHD_YES;
	}
	if ((s = post_caller(srv, c, st, url, client, &ret)) == NULL)
		return ret;
	if (!st->user[0])
		return send_error(c, st, 401, "Unauthorized", "authentication required");
	if (declared > limit) {
		st->too_big = 1;
		return send_error(c, st, 413, "Payload too large",
		                  limit == API_MAX_PATTERN_BODY
		                          ? "a pattern to check is at most 1 MiB"
		                          : "the file is larger than max_content_length");
	}
	if (limit != API_MAX_PATTERN_BODY) {
		const char *cid =
		        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "collection");
		struct taxii_request req;
		char path[400];

		if (cid == NULL || strlen(cid) > 200 || strchr(cid, '/') != NULL)
			return send_error(
			        c, st, 400, "Bad request",
			        "collection: the id of a collection you may write is needed");
		snprintf(path, sizeof(path), "/%s/collections/%s/objects/", st->live->cfg.api_root,
		         cid);
		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = path;
		req.accept = TAXII_MEDIA_TYPE;
		req.content_type = TAXII_MEDIA_TYPE;
		req.client = client;
		req.who = &st->who;
		return post_go_on(srv, c, st, s, &req, declared);
	}
	return post_go_on(srv, c, st, s, NULL, declared);
}

/* POST /api/v1/import's writer: the converted file goes through TAXII's
 * own POST of the collection's objects, as the caller (api_write_fn). */
struct api_writer {
	struct req_state *st;
	struct store *s;
	const struct taxii_request *treq;
};

static void write_through_taxii(void *arg, const char *cid, const char *body, size_t len,
                                int *status, json_t **answer)
{
	struct api_writer *w = arg;
	struct taxii_config cfg = w->st->live->cfg;
	struct taxii_request req = *w->treq;
	struct taxii_response resp;
	char path[400];

	snprintf(path, sizeof(path), "/%s/collections/%s/objects/", cfg.api_root, cid);
	req.method = "POST";
	req.path = path;
	req.params = NULL;
	req.nparams = 0;
	req.accept = TAXII_MEDIA_TYPE;
	req.content_type = TAXII_MEDIA_TYPE;
	req.body = body;
	req.body_len = len;
	req.data_version = 0; /* a write may come before: taxii_handle reads it */
	/* The upload was bounded by max_content_length; what MISP or CSV
	 * became in STIX may be larger. */
	if (cfg.max_content_length < len)
		cfg.max_content_length = len;
	taxii_response_init(&resp);
	taxii_handle(&cfg, w->s, worker_cache(w->st->live), &req, &resp);
	*status = resp.status;
	*answer = json_loadb(tix_buf_str(&resp.body), tix_buf_len(&resp.body), 0, NULL);
	taxii_response_release(&resp);
}

/* A request under /api/v1/ (src/api), authenticated as TAXII is; what its
 * answer reveals is audited as a TAXII read is. */
static enum MHD_Result api_answer(struct MHD_Connection *c, struct req_state *st, struct store *s,
                                  const struct taxii_request *treq, const struct query_params *ps)
{
	struct api_param params[MAX_PARAMS];
	struct api_request req;
	struct api_response ar;
	struct api_writer writer;
	struct taxii_response resp;
	struct policy_node node, stored;
	struct taxii_cache *cache = NULL;
	struct tix_time now;
	uint64_t version = 0;
	char key[200];
	int hit = 0;
	enum MHD_Result ret;

	for (size_t i = 0; i < ps->n; i++) {
		params[i].key = ps->p[i].key;
		params[i].value = ps->p[i].value;
	}
	memset(&req, 0, sizeof(req));
	req.method = treq->method;
	req.path = treq->path;
	req.params = params;
	req.nparams = ps->n;
	req.who = treq->who;
	req.auth_failed = treq->auth_failed;
	/* The node settings that follow the store while serving, as TAXII's do. */
	node = st->live->cfg.policy;
	if (st->live->cfg.policy_live && taxii_node_settings(s, &stored, NULL) == TIX_OK) {
		if (st->live->cfg.policy_live & TAXII_LIVE_DEFAULT_TLP)
			node.default_tlp = stored.default_tlp;
		if (st->live->cfg.policy_live & TAXII_LIVE_ANONYMOUS_READ)
			node.anonymous_read = stored.anonymous_read;
	}
	req.node = &node;
	req.limits = st->live->opts.api_limits;
	req.body = treq->body;
	req.body_len = treq->body_len;
	writer = (struct api_writer){st, s, treq};
	req.write = write_through_taxii;
	req.write_arg = &writer;
	taxii_response_init(&resp);
	resp.content_type = "application/json";
	/* The summary walks every latest object: answered from the thread's
	 * answer cache (TAXII's) while the store has not changed, per caller
	 * (user, role, organisation, the node policy it was read under) and
	 * per minute, so "last 24 h" is never more than a minute late. */
	tix_time_now(&now);
	if (strcmp(req.method, "GET") == 0 && strcmp(req.path, API_PREFIX "summary") == 0 &&
	    !req.auth_failed && (req.who || node.anonymous_read)) {
		cache = worker_cache(st->live);
		snprintf(key, sizeof(key), "api|%lld|%d|%lld|%d|%d|%lld|%s",
		         req.who ? (long long)req.who->user_key : -1LL,
		         req.who ? (int)req.who->role : -1,
		         req.who ? (long long)req.who->org_key : -1LL, (int)node.default_tlp,
		         node.anonymous_read, (long long)(tix_time_to_us(&now) / 60000000),
		         req.path);
		version = store_data_version(s);
		hit = taxii_cache_answer_get(cache, key, version, &resp);
	}
	if (!hit) {
		api_response_init(&ar);
		api_handle(s, &req, &ar);
		resp.status = ar.status;
		tix_buf_reset(&resp.body);
		tix_buf_add(&resp.body, tix_buf_str(&ar.body), tix_buf_len(&ar.body));
		tix_buf_add(&resp.audit_ids, tix_buf_str(&ar.audit_ids),
		            tix_buf_len(&ar.audit_ids));
		resp.authenticate = ar.authenticate;
		api_response_release(&ar);
		if (cache)
			taxii_cache_answer_put(cache, key, version, &resp);
	}
	if (st->live->cfg.audit && tix_buf_len(&resp.audit_ids) > 0) {
		char detail[600];
		struct store_audit_entry ae;

		snprintf(detail, sizeof(detail), "GET %s", st->url);
		ae.at = tix_time_to_us(&now);
		ae.action = "read";
		ae.actor = treq->who ? treq->who->user : "";
		ae.org = treq->who ? treq->who->org : "";
		ae.objects = tix_buf_str(&resp.audit_ids);
		ae.detail = detail;
		store_audit_queue_push(st->live->cfg.audit, &ae);
	}
	ret = send_response(c, st, &resp);
	taxii_response_release(&resp);
	return ret;
}

/* A path of the console's static files (not its session resource). */
static int is_ui_file(const char *url)
{
	return strcmp(url, "/ui") == 0 || (strncmp(url, UI_PREFIX, strlen(UI_PREFIX)) == 0 &&
	                                   strcmp(url, UI_SESSION_PATH) != 0);
}

static enum MHD_Result ui_static(struct MHD_Connection *c, struct req_state *st, const char *method,
                                 const char *url)
{
	int status = 500;
	struct MHD_Response *r = ui_static_answer(
	        method, url,
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING),
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
	        &status);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "X-Request-Id", st->request_id);
	st->status = status;
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *http_version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct req_state *st = *con_cls;
	struct taxii_request req;
	struct taxii_response resp;
	struct query_params *ps = NULL;
	struct tix_error err;
	struct store *s;
	const char *cl;
	char client[64], base[300];
	enum MHD_Result ret;
	uint64_t version;

	(void)http_version;
	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		st->live = atomic_load_explicit(&srv->live, memory_order_acquire);
		tix_buf_init(&st->body, st->live->cfg.max_content_length);
		clock_gettime(CLOCK_MONOTONIC, &st->started);
		{
			unsigned char rid[8];

			randombytes_buf(rid, sizeof(rid));
			sodium_bin2hex(st->request_id, sizeof(st->request_id), rid, sizeof(rid));
		}
		snprintf(st->method, sizeof(st->method), "%s", method);
		snprintf(st->url, sizeof(st->url), "%s", url);
		*con_cls = st;
		/* Refuse a declared oversized body before reading any of it. */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > st->live->cfg.max_content_length) {
			st->too_big = 1;
			return send_error(c, st, 413, "Payload too large",
			                  "the body is larger than max_content_length");
		}
		if (strcmp(method, "POST") == 0 &&
		    strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0)
			return begin_api_post(srv, c, st, url, cl);
		if (strcmp(method, "POST") == 0 && strcmp(url, UI_SESSION_PATH) == 0)
			return begin_signin(srv, c, st,
			                    cl ? (size_t)strtoull(cl, NULL, 10) : UI_MAX_SIGNIN);
		if (strcmp(method, "POST") == 0 &&
		    strncmp(url, API_PREFIX, strlen(API_PREFIX)) != 0 && !is_ui_file(url))
			return begin_post(srv, c, st, url,
			                  cl ? (size_t)strtoull(cl, NULL, 10)
			                     : st->live->cfg.max_content_length);
		/* Only a POST takes a body: any other is read and dropped. */
		st->discard = 1;
		/* Answer on a later call: libmicrohttpd 0.9.75 drops keep-alive
		 * when a response is queued on the first. */
		return MHD_YES;
	}
	if (st->status != 0) {
		/* Refused on the first call: nothing of the body is kept. */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* A body without a declared length that grows past the limit is
		 * read on and dropped, so the client gets its 413 when it is done;
		 * one that goes on far past the limit is cut off. */
		if (st->discard) {
			st->discarded += *upload_size;
			*upload_size = 0;
			return st->discarded > 4 * st->live->cfg.max_content_length ? MHD_NO
			                                                            : MHD_YES;
		}
		if (st->too_big || tix_buf_len(&st->body) + *upload_size > st->reserved ||
		    tix_buf_add(&st->body, upload_data, *upload_size) != TIX_OK) {
			st->too_big = 1;
			st->discarded += *upload_size;
			tix_buf_release(&st->body);
			if (st->discarded > 4 * st->live->cfg.max_content_length + (1u << 20))
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->too_big) {
		if (st->status != 0)
			return MHD_YES; /* answered on the first call */
		return send_error(c, st, 413, "Payload too large",
		                  "the body is larger than max_content_length");
	}
	if (is_ui_file(url)) /* src/api/ui.c: the console's files, no store, no account */
		return ui_static(c, st, method, url);
	if ((s = worker_store(srv, st->live, &err)) == NULL)
		return send_error(c, st, 503, "Service unavailable", err.msg);
	if ((ps = malloc(sizeof(*ps))) == NULL)
		return MHD_NO;
	ps->n = 0;
	ps->overflow = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, ps);
	if (ps->overflow) {
		free(ps);
		return send_error(c, st, 400, "Bad request", "too many query parameters");
	}
	client_address(c, client, sizeof(client));
	memset(&req, 0, sizeof(req));
	if (st->live->opts.metrics && strcmp(url, "/metrics") == 0) { /* src/http/metrics.c */
		const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                                MHD_HTTP_HEADER_AUTHORIZATION);

		free(ps);
		return http_metrics_answer(c, s, srv->cfg->audit, &st->live->opts, client, authz,
		                           method, &st->status, &st->bytes);
	}
	tix_error_clear(&err);
	/* The store's data version, read once for the request: the check of
	 * the credential and taxii_handle's memos (collections, node settings,
	 * answers) go by it. */
	version = store_audit_queue_data_version(srv->cfg->audit, s);
	/* A sign-in is no one until its body is checked (its reserved body
	 * bytes stay those of no one). */
	if (!st->signin &&
	    authenticate(srv, c, s, st, version, method, url, client, &err) == TIX_ETOOBIG) {
		free(ps);
		return send_error(c, st, 429, "Too many requests", err.msg);
	}
	if (!st->signin && csrf_refused(srv, c, st, method, &ret)) {
		free(ps);
		return ret;
	}
	if (strcmp(url, UI_SESSION_PATH) == 0) { /* the console's sign-in and sign-out */
		free(ps);
		return session_resource(srv, c, st, s, method, client);
	}
	if (!turn_begin(srv, c, st, client, st->live->opts.principal_requests)) {
		free(ps);
		return MHD_YES; /* called again when resumed */
	}
	req.who = st->user[0] ? &st->who : NULL;
	req.auth_failed = st->auth_failed;
	if (req.who)
		keep_anchor(c, s, req.who);
	base_url(srv, c, base, sizeof(base));
	req.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	req.path = url;
	req.params = ps->p;
	req.nparams = ps->n;
	req.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	req.content_type =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.base_url = base;
	req.client = client;
	req.body = tix_buf_str(&st->body);
	req.body_len = tix_buf_len(&st->body);
	req.data_version = version;
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0) { /* src/api: beside TAXII */
		ret = api_answer(c, st, s, &req, ps);
		free(ps);
		turn_end(srv, st);
		return ret;
	}
	taxii_response_init(&resp);
	if (strncmp(url, "/feeds/", 7) == 0) { /* src/api/feeds.c: streamed, not cached */
		struct api_feeds_request fr = {
		        method, url, &req,
		        MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                    MHD_HTTP_HEADER_ACCEPT_ENCODING),
		        MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                    MHD_HTTP_HEADER_IF_NONE_MATCH)};
		int status = 0;
		struct MHD_Response *fresp =
		        api_feeds_answer(srv->feeds, &st->live->cfg, s, &fr, &status, &resp);

		free(ps);
		if (fresp == NULL) {
			ret = send_response(c, st, &resp);
			taxii_response_release(&resp);
			return ret;
		}
		taxii_response_release(&resp);
		MHD_add_response_header(fresp, "X-Request-Id", st->request_id);
		st->status = status;
		ret = MHD_queue_response(c, (unsigned)status, fresp);
		MHD_destroy_response(fresp);
		return ret;
	}
	taxii_handle(&st->live->cfg, s, worker_cache(st->live), &req, &resp);
	ret = send_response(c, st, &resp);
	taxii_response_release(&resp);
	free(ps);
	turn_end(srv, st);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req_state *st = *con_cls;
	struct timespec now;
	struct tix_time t;
	char ts[32], client[64];
	double ms;

	(void)toe;
	if (st == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - st->started.tv_sec) * 1e3 +
	     (double)(now.tv_nsec - st->started.tv_nsec) / 1e6;
	http_metrics_observe(st->method, st->url, st->status,
	                     tix_buf_len(&st->body) + st->discarded, st->bytes, ms / 1e3);
	if (srv->opts->access_log) {
		tix_time_now(&t);
		tix_time_format(&t, 3, ts);
		client_address(c, client, sizeof(client));
		/* One write per line, so lines from the worker threads do not mix. */
		if (srv->opts->log_json)
			http_log_json(srv->opts->access_log, ts, st->request_id, client, st->method,
			              st->url, st->status, st->bytes, ms, st->user);
		else
			fprintf(srv->opts->access_log, "%s %s %s %s %d %zu %.1fms %s %s\n", ts,
			        client, st->method, st->url, st->status, st->bytes, ms,
			        st->request_id, st->user[0] ? st->user : "-");
	}
	turn_end(srv, st);
	if (st->reserved)
		body_release(srv, st->who.user_key, st->reserved);
	/* An interval of failures that ended is written out. */
	pthread_mutex_lock(&srv->lock);
	fail_flush_locked(srv, mono_now_us(), 0);
	pthread_mutex_unlock(&srv->lock);
	tix_buf_release(&st->body);
	free(st);
	*con_cls = NULL;
}

/* Reads a whole (small) file, for the TLS certificate and key. */
static char *read_file(const char *path, struct tix_error *err)
{
	FILE *f = fopen(path, "rb");
	struct tix_buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	tix_buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (tix_buf_add(&b, chunk, n) != TIX_OK) {
			fclose(f);
			tix_buf_release(&b);
			tix_error_set(err, TIX_ETOOBIG, path, "larger than 1 MiB");
			return NULL;
		}
	fclose(f);
	return tix_buf_detach(&b, NULL);
}

static void tls_creds_free(struct tls_creds *c)
{
	for (unsigned i = 0; i < c->nchain; i++)
		gnutls_pcert_deinit(&c->chain[i]);
	if (c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

/* Reads the PEM certificate chain and key and checks that they belong
 * together; NULL with the reason (the file and GnuTLS's words) otherwise. */
static struct tls_creds *tls_creds_load(const char *cert_path, const char *key_path,
                                        struct tix_error *err)
{
	gnutls_certificate_credentials_t check = NULL;
	struct tls_creds *c = NULL;
	char *cert = NULL, *key = NULL;
	gnutls_datum_t cd, kd;
	int rc;

	if ((cert = read_file(cert_path, err)) == NULL || (key = read_file(key_path, err)) == NULL)
		goto fail;
	cd = (gnutls_datum_t){(unsigned char *)cert, (unsigned)strlen(cert)};
	kd = (gnutls_datum_t){(unsigned char *)key, (unsigned)strlen(key)};
	/* GnuTLS refuses a key that is not the certificate's here. */
	if ((rc = gnutls_certificate_allocate_credentials(&check)) < 0 ||
	    (rc = gnutls_certificate_set_x509_key_mem2(check, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL,
	                                               0)) < 0) {
		tix_error_set(err, TIX_EUSAGE, cert_path, "with the key %s: %s", key_path,
		              gnutls_strerror(rc));
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
		goto fail;
	}
	c->nchain = TLS_CHAIN_MAX;
	if ((rc = gnutls_pcert_list_import_x509_raw(c->chain, &c->nchain, &cd, GNUTLS_X509_FMT_PEM,
	                                            0)) < 0) {
		c->nchain = 0;
		tix_error_set(err, TIX_EUSAGE, cert_path, "%s", gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		tix_error_set(err, TIX_EUSAGE, key_path, "%s", gnutls_strerror(rc));
		goto fail;
	}
	gnutls_certificate_free_credentials(check);
	sodium_memzero(key, strlen(key));
	free(cert);
	free(key);
	return c;
fail:
	if (check)
		gnutls_certificate_free_credentials(check);
	if (c)
		tls_creds_free(c);
	if (key)
		sodium_memzero(key, strlen(key));
	free(cert);
	free(key);
	return NULL;
}

/* GnuTLS asks at each handshake: the credentials published last. */
static int tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                        gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct tls_creds *c = atomic_load_explicit(&tls_current, memory_order_acquire);

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (c == NULL)
		return -1;
	*pcert = c->chain;
	*pcert_length = c->nchain;
	*pkey = c->key;
	return 0;
}

/* Opens path for appending and puts it in place of fd's file (dup2 is one
 * step: a line being written goes to the old file or the new one). */
static enum tix_err reopen_log(int fd, const char *path, struct tix_error *err)
{
	int nfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (nfd < 0)
		return tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
	if (dup2(nfd, fd) < 0) {
		tix_error_set(err, TIX_EIO, path, "cannot reopen: %s", strerror(errno));
		close(nfd);
		return TIX_EIO;
	}
	close(nfd);
	return TIX_OK;
}

/* SIGHUP: the caller re-reads its configuration; the new certificate and
 * key are loaded and checked, the access log reopened, and only then are
 * the new settings published. Anything that fails leaves all as it was. */
static void reload(struct server *srv)
{
	struct live *cur = atomic_load_explicit(&srv->live, memory_order_acquire);
	struct live *next = calloc(1, sizeof(*next));
	struct tls_creds *creds = NULL;
	struct tix_error err;

	if (next == NULL) {
		tix_log_error("reload: out of memory; the settings are unchanged");
		return;
	}
	next->opts = cur->opts;
	next->cfg = cur->cfg;
	next->generation = cur->generation + 1;
	if (srv->opts->on_reload(srv->opts->reload_arg, &next->opts, &next->cfg) != 0) {
		tix_log_error("reload refused; the server keeps its settings");
		free(next);
		return;
	}
	tix_error_clear(&err);
	if (srv->tls &&
	    (creds = tls_creds_load(next->opts.tls_cert, next->opts.tls_key, &err)) == NULL) {
		tix_log_error(
		        "reload refused: %s: %s; the server keeps its settings and certificate",
		        err.where, err.msg);
		free(next);
		return;
	}
	if (srv->opts->access_log && next->opts.access_log_path &&
	    reopen_log(fileno(srv->opts->access_log), next->opts.access_log_path, &err) != TIX_OK) {
		tix_log_error("reload refused: %s: %s; the server keeps its settings", err.where,
		              err.msg);
		if (creds)
			tls_creds_free(creds);
		free(next);
		return;
	}
	if (creds) {
		creds->older = atomic_load_explicit(&tls_current, memory_order_relaxed);
		atomic_store_explicit(&tls_current, creds, memory_order_release);
	}
	pthread_mutex_lock(&srv->lock);
	srv->body_budget = next->opts.body_budget ? next->opts.body_budget : (size_t)256 << 20;
	srv->body_share = next->opts.body_share ? next->opts.body_share : srv->body_budget / 4;
	pthread_mutex_unlock(&srv->lock);
	next->older = cur;
	atomic_store_explicit(&srv->live, next, memory_order_release);
	/* At the default level (warn): the operator sees that it took. */
	tix_log_warn("reloaded: the new settings apply to new requests%s",
	             creds ? ", the new certificate to new connections" : "");
}

/* Parses "host:port", "[v6]:port" into addr. */
static enum tix_err parse_listen(const char *listen, struct sockaddr_storage *addr, int *v6,
                                 int *loopback, struct tix_error *err)
{
	char host[128];
	const char *colon, *h = listen;
	size_t hl;
	long port;
	char *end;

	memset(addr, 0, sizeof(*addr));
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h = listen + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)addr)->sin_addr) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)addr;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*v6 = 0;
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		return TIX_OK;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return TIX_OK;
	}
bad:
	return tix_error_set(err, TIX_EUSAGE, "--listen",
	                     "'%s' is not HOST:PORT (an IPv4 address, [IPv6] or localhost)",
	                     listen);
}

enum tix_err http_serve(const struct http_options *opts, const struct taxii_config *cfg,
                        struct auth *auth, struct tix_error *err)
{
	struct server srv;
	struct sockaddr_storage addr;
	struct MHD_Daemon *d = NULL;
	struct live *first = NULL;
	int v6 = 0, loopback = 0, sig;
	unsigned flags;
	sigset_t sigs;
	enum tix_err e;

	memset(&srv, 0, sizeof(srv));
	srv.opts = opts;
	srv.cfg = cfg;
	srv.auth = auth;
	pthread_mutex_init(&srv.lock, NULL);
	if ((first = calloc(1, sizeof(*first))) == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
		goto out;
	}
	first->opts = *opts;
	first->cfg = *cfg;
	atomic_store(&srv.live, first);
	if ((srv.feeds = api_feeds_new()) == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
		goto out;
	}
	srv.body_budget = opts->body_budget ? opts->body_budget : (size_t)256 << 20;
	srv.body_share = opts->body_share ? opts->body_share : srv.body_budget / 4;
	srv.nshares = 2 * (size_t)opts->max_connections + 16;
	srv.nturns = srv.nshares;
	{
		/* Beyond their shares requests run on the idle cores, and never on
		 * the pool's last thread: another principal's request finds one. */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		srv.cores = cores > 1 ? (unsigned)cores : 1;
		if (opts->threads <= srv.cores)
			srv.cores = opts->threads > 1 ? opts->threads - 1 : 1;
	}
	if ((srv.shares = calloc(srv.nshares, sizeof(*srv.shares))) == NULL ||
	    (srv.turns = calloc(srv.nturns, sizeof(*srv.turns))) == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
		goto out;
	}
	if ((e = parse_listen(opts->listen, &addr, &v6, &loopback, err)) != TIX_OK)
		goto out;
	srv.tls = opts->tls_cert != NULL;
	if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
		e = tix_error_set(err, TIX_EUSAGE, "serve", "--tls-cert and --tls-key go together");
		goto out;
	}
	if (!srv.tls && !loopback && !opts->insecure) {
		e = tix_error_set(err, TIX_EUSAGE, opts->listen,
		                  "plain HTTP is only served on loopback; give --tls-cert and "
		                  "--tls-key, or --insecure-http to serve it anyway");
		goto out;
	}
	if (srv.tls) {
		struct tls_creds *creds = tls_creds_load(opts->tls_cert, opts->tls_key, err);

		if (creds == NULL) {
			e = err->code;
			goto out;
		}
		atomic_store(&tls_current, creds);
	}
	snprintf(srv.base_url, sizeof(srv.base_url), "%s://%s", srv.tls ? "https" : "http",
	         opts->listen);

	/* SIGTERM and SIGINT are taken by sigwait below: block them before the
	 * worker threads start, so that they inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (opts->on_reload)
		sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
	        MHD_ALLOW_SUSPEND_RESUME;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (srv.tls)
		flags |= MHD_USE_TLS;
	if (srv.tls)
		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR,
		                     &addr, MHD_OPTION_THREAD_POOL_SIZE, opts->threads,
		                     MHD_OPTION_CONNECTION_LIMIT, opts->max_connections,
		                     MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s,
		                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->max_header_bytes,
		                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
		                     MHD_OPTION_HTTPS_CERT_CALLBACK, tls_retrieve, MHD_OPTION_END);
	else
		d = MHD_start_daemon(
		        flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, &addr,
		        MHD_OPTION_THREAD_POOL_SIZE, opts->threads, MHD_OPTION_CONNECTION_LIMIT,
		        opts->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s,
		        MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->max_header_bytes,
		        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_END);
	if (d == NULL) {
		e = tix_error_set(err, TIX_EIO, opts->listen,
		                  "cannot serve here (address in use, or a bad certificate/key)");
		goto out;
	}
	ui_init();
	if (opts->on_listening)
		opts->on_listening(opts->arg, srv.base_url);
	tix_log_info("listening on %s", srv.base_url);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		tix_log_info("signal %d (SIGHUP): reloading the configuration", sig);
		reload(&srv);
	}
	tix_log_info("signal %d: finishing requests in progress", sig);
	/* Stops accepting, lets the handlers that run finish (their writes
	 * commit before their responses are queued), and joins the threads. */
	turns_release_all(&srv);
	MHD_stop_daemon(d);
	fail_flush_locked(&srv, mono_now_us(), 1);
	e = TIX_OK;
out:
	for (size_t i = 0; i < srv.nstores; i++) {
		store_close(srv.stores[i]);
		taxii_cache_free(srv.caches[i]);
	}
	free(srv.stores);
	free(srv.caches);
	free(srv.shares);
	free(srv.turns);
	api_feeds_free(srv.feeds);
	pthread_mutex_destroy(&srv.lock);
	/* No request runs any more: every generation of settings and
	 * credentials can go. */
	for (struct live *l = atomic_load(&srv.live), *older; l; l = older) {
		older = l->older;
		free(l);
	}
	for (struct tls_creds *c = atomic_exchange(&tls_current, NULL), *older; c; c = older) {
		older = c->older;
		tls_creds_free(c);
	}
	return e;
}

enum tix_err http_check_listen(const char *listen, int bind_it, struct tix_error *err)
{
	struct sockaddr_storage addr;
	int v6 = 0, loopback = 0, fd, one = 1;
	enum tix_err e;

	if ((e = parse_listen(listen, &addr, &v6, &loopback, err)) != TIX_OK || !bind_it)
		return e;
	if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tix_error_set(err, TIX_EIO, listen, "cannot make a socket: %s",
		                     strerror(errno));
	/* As the server binds: SO_REUSEADDR, so a port in TIME_WAIT is free. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr,
	         v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) != 0) {
		e = tix_error_set(err, TIX_EIO, listen, "cannot listen here: %s", strerror(errno));
		close(fd);
		return e;
	}
	close(fd);
	return TIX_OK;
}
