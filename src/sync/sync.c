/*
 * sync/sync.c — one peer run: discovery, the pull walk (a page and the
 * cursor past it commit together) and the push (policy-filtered bounded
 * bundles, status checked, refused versions kept in the outbox).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync_int.h"

#define STATUS_POLLS  20
#define MAX_FAILURES  64 /* failed entries of one status resource reported in the log */
#define ERROR_EXCERPT 200

void sync_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void sync_config_init(struct sync_config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy.default_tlp = STIX_TLP_AMBER;
	c->page_limit = 1000;
	c->max_page_bytes = SYNC_MAX_PAGE_BYTES;
	c->max_pages = 100000;
	c->push_max_objects = 1000;
	c->push_max_bytes = (size_t)8 << 20;
	c->attempts = 6;
	c->connect_timeout = 10;
	c->low_speed_time = 30;
	c->backoff_base = 0.5;
	c->backoff_max = 30;
}

static int64_t now_us(void)
{
	struct tix_time t;

	tix_time_now(&t);
	return tix_time_to_us(&t);
}

/* The byte counters of the connection, moved into the state and result. */
void sync__take_bytes(struct run *r)
{
	r->st.bytes_in += r->h.bytes_in;
	r->st.bytes_out += r->h.bytes_out;
	r->res->bytes_in += r->h.bytes_in;
	r->res->bytes_out += r->h.bytes_out;
	r->h.bytes_in = r->h.bytes_out = 0;
}

/* An HTTP answer that is not the one expected, as an error with an excerpt
 * of the body (peers' error resources say why). */
enum tix_err sync__http_refused(struct sync_http *h, const char *url, struct tix_error *err)
{
	char excerpt[ERROR_EXCERPT + 1];
	size_t n = tix_buf_len(&h->body);

	if (n > ERROR_EXCERPT)
		n = ERROR_EXCERPT;
	for (size_t i = 0; i < n; i++) {
		char c = tix_buf_str(&h->body)[i];

		excerpt[i] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
	excerpt[n] = '\0';
	return tix_error_set(err, TIX_EIO, url, "HTTP %ld: %s", h->status, excerpt);
}

static enum tix_err discover(struct run *r, struct tix_error *err)
{
	json_t *d, *v;
	const char *root = NULL;
	char *esc;
	enum tix_err e;

	if ((e = sync__http_do(&r->h, r->peer.url, NULL, 0, err)) != TIX_OK)
		return e;
	if (r->h.status != 200)
		return sync__http_refused(&r->h, r->peer.url, err);
	d = stix_json_parse(tix_buf_str(&r->h.body), tix_buf_len(&r->h.body), "discovery", err);
	if (d == NULL)
		return TIX_EPARSE;
	v = json_object_get(d, "default");
	if (json_is_string(v))
		root = json_string_value(v);
	else if (json_is_array(v = json_object_get(d, "api_roots")) &&
	         json_is_string(json_array_get(v, 0)))
		root = json_string_value(json_array_get(v, 0));
	if (root == NULL ||
	    sync_url_resolve(r->peer.url, root, r->api_root, sizeof(r->api_root) - 1) != 0) {
		json_decref(d);
		return tix_error_set(err, TIX_EPARSE, r->peer.url,
		                     "the discovery resource names no usable API root");
	}
	json_decref(d);
	{
		size_t l = strlen(r->api_root); /* at most sizeof - 2: room for a '/' */

		if (l == 0 || r->api_root[l - 1] != '/') {
			r->api_root[l] = '/';
			r->api_root[l + 1] = '\0';
		}
	}
	if ((esc = curl_easy_escape(r->h.curl, r->peer.remote_collection, 0)) == NULL)
		return tix_error_set(err, TIX_ENOMEM, r->peer.name, "out of memory");
	snprintf(r->objects_url, sizeof(r->objects_url), "%scollections/%s/objects/", r->api_root,
	         esc);
	curl_free(esc);
	return TIX_OK;
}

/* ---- pull -------------------------------------------------------------------- */

int sync__prepare(const struct run *r, json_t *obj, size_t i, struct stix_problems *probs,
                  struct tix_buf *bodies, struct sync_prep *out)
{
	struct stix_validate_opts vopts = {0, r->cfg->check_pattern};
	char path[48];

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "objects[%zu]", i);
	stix_problems_reset(probs);
	if (stix_sco_ensure_id(obj, NULL) != TIX_OK ||
	    stix_validate(obj, path, &vopts, probs) > 0 ||
	    stix_meta_get(obj, &out->meta, NULL) != TIX_OK) {
		const char *id = json_string_value(json_object_get(obj, "id"));

		tix_log_warn("sync: peer %s: rejected %s: %s", r->peer.name, id ? id : path,
		             probs->count ? probs->msgs[0] : "invalid");
		return -1;
	}
	out->off = tix_buf_len(bodies);
	if (stix_json_dump(obj, bodies) != TIX_OK)
		return -2;
	out->len = tix_buf_len(bodies) - out->off;
	out->ok = 1;
	return 0;
}

int sync__store(struct run *r, const struct sync_prep *p, const char *body, struct tix_error *err)
{
	const char *owner = r->peer.org[0] ? r->peer.org : NULL;
	int added = 0;
	enum tix_err e;

	/* the body is serialised already: store_put_from finds a stored
	 * version itself (then only links it) */
	e = store_put_from(r->s, &p->meta, body, p->len, owner, r->peer.name, &r->coll, NULL,
	                   &added, err);
	if (e == TIX_EDENIED) {
		/* The write rules hold for peers too: refused and counted. */
		tix_log_warn("sync: peer %s: rejected %s: %s", r->peer.name, err->where, err->msg);
		tix_error_clear(err);
		return -1;
	}
	return e != TIX_OK ? -2 : added == 1;
}

int sync__ingest(struct run *r, json_t *obj, size_t i, struct stix_problems *probs,
                 struct tix_buf *body, struct tix_error *err)
{
	struct sync_prep p;
	int rc;

	tix_buf_reset(body);
	if ((rc = sync__prepare(r, obj, i, probs, body, &p)) == -2)
		tix_error_set(err, TIX_ENOMEM, r->peer.name, "out of memory");
	return rc < 0 ? rc : sync__store(r, &p, tix_buf_str(body), err);
}

/* Inside the page's transaction: the stored cursor must be the one this
 * run started from, else another run (a second `tix sync`, the server's
 * sync thread) moved it and this page must not be stored over it. */
static enum tix_err check_cursor(struct run *r, struct tix_error *err)
{
	struct store_peer_state now;
	enum tix_err e;

	if ((e = store_peer_state_get(r->s, r->peer.name, &now, err)) != TIX_OK)
		return e;
	if (strcmp(now.pull_after, r->st.pull_after) != 0 ||
	    strcmp(now.pull_next, r->st.pull_next) != 0 || now.push_cursor != r->st.push_cursor)
		return tix_error_set(err, TIX_EINVAL, r->peer.name,
		                     "another run of this peer moved its cursors: stopped");
	return TIX_OK;
}

/* Pages in a row that hold nothing but say more follows: a TAXII server
 * may end a page early (tix does when a page's examined-rows budget runs
 * out), but not forever. */
#define SYNC_EMPTY_PAGES_MAX 1000
/* Pages fetched ahead of the one being stored (each at most max_page_bytes). */
#define SYNC_AHEAD 2
/* Stored pages waiting for the fetching thread to free them: with the
 * pages ahead and the one being stored, at most four in memory. */
#define SYNC_TRASH 1
/* One transaction takes the pages already fetched, up to this many objects:
 * never waiting on the network inside it. */
#define SYNC_TX_OBJECTS 20000
/* During a pull: the write-ahead log's bound (store_set_wal_pages; 64 MiB
 * of 4 KiB pages), a checkpoint every few transactions rather than at each
 * commit; and the page cache (64 MiB), so that a transaction's pages stay
 * in memory until its commit instead of spilling into the log. bench/sync,
 * 100,000 objects: 321,000 pwrite, 170,000 pread and 67 fsync calls at
 * 5,000 objects a commit with the defaults, 126,000, 37,000 and 10 with
 * these three. Both are set back after the pull. */
#define SYNC_WAL_PAGES 16384
#define SYNC_CACHE_KIB 65536

/* One fetched page, or the error that ended the walk, handed from the
 * fetching thread to the storing one. */
struct fetched {
	enum tix_err e; /* TIX_OK: a page; else err says why the walk ends */
	struct tix_error err;
	struct sync_page pg;
	struct sync_prep *prep; /* per object of pg, made ready by the fetching thread */
	struct tix_buf bodies;  /* their texts */
	int dropped_token;      /* the stored next token was refused before it */
	char pull_after[64];    /* the cursor past this page */
	char pull_base[64];
	char pull_next[1024];
	int64_t bytes_in, bytes_out; /* on the wire since the previous item */
};

/* The fetching side of a pull: one thread walks the pages (GET, parse,
 * the envelope's checks, the cursor past each page) while the caller's
 * thread validates and stores the page before; each page and the cursor
 * past it still commit together, in order. */
struct fetcher {
	struct run *r;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fetched q[SYNC_AHEAD];
	size_t head, count;
	int ended; /* the thread pushed its last item */
	int quit;  /* the storing side stopped: fetch no more */
	/* a page stored, handed back for the fetching thread to free */
	struct fetched trash[SYNC_TRASH];
	size_t ntrash;
};

static void fetched_release(struct fetched *it)
{
	sync_page_release(&it->pg);
	free(it->prep);
	it->prep = NULL;
	tix_buf_release(&it->bodies);
}

/* Makes each object of a fetched page ready to store (sync__prepare), in
 * the fetching thread: only the store's own work is left to the storing
 * thread. TIX_OK, or TIX_ENOMEM. */
static enum tix_err prepare_page(const struct run *r, struct fetched *it,
                                 struct stix_problems *probs, struct tix_error *err)
{
	size_t n = json_array_size(it->pg.objects), i;
	json_t *obj;

	tix_buf_init(&it->bodies, TIX_BUF_UNLIMITED);
	if (n > 0 && (it->prep = calloc(n, sizeof(*it->prep))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, r->peer.name, "out of memory");
	json_array_foreach (it->pg.objects, i, obj) {
		if (sync__prepare(r, obj, i, probs, &it->bodies, &it->prep[i]) == -2)
			return tix_error_set(err, TIX_ENOMEM, r->peer.name, "out of memory");
	}
	return TIX_OK;
}

/* Waits for room, then queues it; 0, or -1 when told to quit (it released). */
static int fetcher_push(struct fetcher *f, struct fetched *it)
{
	pthread_mutex_lock(&f->mu);
	while (f->count == SYNC_AHEAD && !f->quit) {
		if (f->ntrash > 0) { /* a page came back while waiting: free it */
			struct fetched t = f->trash[--f->ntrash];

			pthread_mutex_unlock(&f->mu);
			fetched_release(&t);
			pthread_mutex_lock(&f->mu);
			continue;
		}
		pthread_cond_wait(&f->cv, &f->mu);
	}
	if (f->quit) {
		pthread_mutex_unlock(&f->mu);
		if (it->e == TIX_OK)
			fetched_release(it);
		return -1;
	}
	f->q[(f->head + f->count) % SYNC_AHEAD] = *it;
	f->count++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* The next item (waiting for it); 1 when another is already waiting behind. */
static int fetcher_pop(struct fetcher *f, struct fetched *out)
{
	int more;

	pthread_mutex_lock(&f->mu);
	while (f->count == 0)
		pthread_cond_wait(&f->cv, &f->mu);
	*out = f->q[f->head];
	f->head = (f->head + 1) % SYNC_AHEAD;
	f->count--;
	more = f->count > 0;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return more;
}

/* Hands a stored page back to the fetching thread, which frees it (a
 * page's thousand parsed objects are a twentieth of the storing thread's
 * time); frees it here when that thread has ended or is behind. */
static void fetcher_discard(struct fetcher *f, struct fetched *it)
{
	pthread_mutex_lock(&f->mu);
	if (!f->ended && f->ntrash < SYNC_TRASH) {
		f->trash[f->ntrash++] = *it;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		return;
	}
	pthread_mutex_unlock(&f->mu);
	fetched_release(it);
}

/* Frees the pages handed back (the fetching thread, and the storing one
 * once that has ended). */
static void fetcher_empty_trash(struct fetcher *f)
{
	struct fetched t[SYNC_TRASH];
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->ntrash;
	memcpy(t, f->trash, n * sizeof(t[0]));
	f->ntrash = 0;
	pthread_mutex_unlock(&f->mu);
	for (size_t i = 0; i < n; i++)
		fetched_release(&t[i]);
}

/* Whether a page is already waiting (without waiting for one). */
static int fetcher_ready(struct fetcher *f)
{
	int ready;

	pthread_mutex_lock(&f->mu);
	ready = f->count > 0 && f->q[f->head].e == TIX_OK;
	pthread_mutex_unlock(&f->mu);
	return ready;
}

static void *fetch_pages(void *arg)
{
	struct fetcher *f = arg;
	struct run *r = f->r;
	struct store_peer_state cur = r->st; /* the cursor as the pages move it */
	struct sync_seen seen = {0};
	struct stix_problems probs;
	struct tix_buf url;
	int dropped_token = 0, dropped_now = 0;
	size_t empty_run = 0;
	int64_t bytes_in = 0, bytes_out = 0;
	size_t limit = r->cfg->page_limit;

	tix_buf_init(&url, 8192);
	stix_problems_init(&probs);
	for (size_t pages = 0;; pages++) {
		struct fetched it;
		const char *after = cur.pull_next[0] ? cur.pull_base : cur.pull_after;
		struct tix_error *err = &it.err;
		enum tix_err e;
		size_t n;
		char *esc;

		fetcher_empty_trash(f);
		memset(&it, 0, sizeof(it));
		tix_error_clear(err);
		if (r->cfg->stop && *r->cfg->stop) {
			e = tix_error_set(err, TIX_EINVAL, r->peer.name, "stopped");
			goto end;
		}
		if (empty_run >= SYNC_EMPTY_PAGES_MAX ||
		    (empty_run > 0 && pages >= r->cfg->max_pages)) {
			e = tix_error_set(err, TIX_EPARSE, r->peer.name,
			                  "stopped after %zu pages: each of the last %zu says more "
			                  "objects follow but holds none",
			                  pages, empty_run);
			goto end;
		}
		if (pages >= r->cfg->max_pages) {
			e = tix_error_set(
			        err, TIX_ETOOBIG, r->peer.name,
			        "more than %zu pages in one run: stopped (the rest next run)",
			        r->cfg->max_pages);
			goto end;
		}
		tix_buf_reset(&url);
		tix_buf_addf(&url, "%s?limit=%zu", r->objects_url, limit);
		if (r->cfg->page_bytes)
			tix_buf_addf(&url, "&page_bytes=%zu", r->cfg->page_bytes);
		if (after[0]) {
			esc = curl_easy_escape(r->h.curl, after, 0);
			tix_buf_addf(&url, "&added_after=%s", esc ? esc : "");
			curl_free(esc);
		}
		if (cur.pull_next[0]) {
			esc = curl_easy_escape(r->h.curl, cur.pull_next, 0);
			tix_buf_addf(&url, "&next=%s", esc ? esc : "");
			curl_free(esc);
		}
		e = sync__http_do(&r->h, tix_buf_str(&url), NULL, 0, err);
		bytes_in += r->h.bytes_in;
		bytes_out += r->h.bytes_out;
		r->h.bytes_in = r->h.bytes_out = 0;
		if (e != TIX_OK)
			goto end;
		if (cur.pull_next[0] && !dropped_token &&
		    (r->h.status == 400 || r->h.status == 404 || r->h.status == 410)) {
			/* The peer no longer honours the token (restarted, new
			 * secret): continue from the last stored page instead. */
			tix_log_info("sync: peer %s: next token refused; continuing from %s",
			             r->peer.name, cur.pull_after);
			cur.pull_next[0] = cur.pull_base[0] = '\0';
			dropped_token = dropped_now = 1;
			continue;
		}
		if (r->h.status != 200) {
			e = sync__http_refused(&r->h, tix_buf_str(&url), err);
			goto end;
		}
		if ((e = sync_page_parse(tix_buf_str(&r->h.body), tix_buf_len(&r->h.body), &it.pg,
		                         err)) != TIX_OK)
			goto end;
		n = json_array_size(it.pg.objects);
		if (r->cfg->page_bytes && n > 1 && tix_buf_len(&r->h.body) > r->cfg->page_bytes) {
			/* The server ignored page_bytes: ask for what fits. */
			size_t fit = r->cfg->page_bytes / (tix_buf_len(&r->h.body) / n + 1);

			limit = fit < 1 ? 1 : fit < limit ? fit : limit;
		}
		/* A short, even empty, page with a next token is allowed (a
		 * server whose examined-rows budget ran out), a run of them only
		 * up to SYNC_EMPTY_PAGES_MAX; without a token it is a lie. */
		if (it.pg.more && n == 0 && it.pg.next == NULL) {
			e = tix_error_set(err, TIX_EPARSE, tix_buf_str(&url),
			                  "the page says more objects follow but holds none");
			goto bad_page;
		}
		empty_run = n == 0 ? empty_run + 1 : 0;
		if (it.pg.more && it.pg.next && sync_seen_check(&seen, it.pg.next) != 0) {
			e = tix_error_set(err, TIX_EPARSE, tix_buf_str(&url),
			                  "the next token repeats one given before in this walk");
			goto bad_page;
		}
		snprintf(it.pull_after, sizeof(it.pull_after), "%s", cur.pull_after);
		if (r->h.date_added_last[0]) {
			struct tix_time t;

			if (tix_time_parse(r->h.date_added_last, &t, NULL) != TIX_OK) {
				e = tix_error_set(err, TIX_EPARSE, tix_buf_str(&url),
				                  "X-TAXII-Date-Added-Last is not a timestamp");
				goto bad_page;
			}
			snprintf(it.pull_after, sizeof(it.pull_after), "%s", r->h.date_added_last);
		}
		if (it.pg.more && it.pg.next == NULL &&
		    strcmp(it.pull_after, cur.pull_after) == 0) {
			e = tix_error_set(
			        err, TIX_EPARSE, tix_buf_str(&url),
			        "more objects follow but the page gives no way to reach them "
			        "(no next token, no new X-TAXII-Date-Added-Last)");
			goto bad_page;
		}
		if (it.pg.more && it.pg.next) {
			snprintf(it.pull_base, sizeof(it.pull_base), "%s",
			         cur.pull_next[0] == '\0' ? after : cur.pull_base);
			snprintf(it.pull_next, sizeof(it.pull_next), "%s", it.pg.next);
		}
		if ((e = prepare_page(r, &it, &probs, err)) != TIX_OK)
			goto bad_page;
		it.e = TIX_OK;
		it.dropped_token = dropped_now;
		it.bytes_in = bytes_in;
		it.bytes_out = bytes_out;
		dropped_now = 0;
		bytes_in = bytes_out = 0;
		snprintf(cur.pull_after, sizeof(cur.pull_after), "%s", it.pull_after);
		snprintf(cur.pull_base, sizeof(cur.pull_base), "%s", it.pull_base);
		snprintf(cur.pull_next, sizeof(cur.pull_next), "%s", it.pull_next);
		if (!it.pg.more) {
			if (fetcher_push(f, &it) == 0) {
				/* the walk's end: an item saying so follows the page */
				memset(&it, 0, sizeof(it));
				it.e = TIX_EEXIST;
				fetcher_push(f, &it);
			}
			break;
		}
		if (fetcher_push(f, &it) != 0)
			break;
		continue;
	bad_page:
		fetched_release(&it);
	end:
		it.e = e;
		it.dropped_token = dropped_now;
		it.bytes_in = bytes_in;
		it.bytes_out = bytes_out;
		fetcher_push(f, &it);
		break;
	}
	pthread_mutex_lock(&f->mu);
	f->ended = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	fetcher_empty_trash(f); /* what came back before ended was set */
	sync_seen_release(&seen);
	stix_problems_release(&probs);
	tix_buf_release(&url);
	return NULL;
}

/* The storing side's account of an item's bytes and dropped token, in
 * the state st that the next commit writes. */
static void take_item(struct run *r, struct store_peer_state *st, const struct fetched *it)
{
	st->bytes_in += it->bytes_in;
	st->bytes_out += it->bytes_out;
	r->res->bytes_in += it->bytes_in;
	r->res->bytes_out += it->bytes_out;
	if (it->dropped_token)
		st->pull_next[0] = st->pull_base[0] = '\0';
}

/* Commits the open transaction of a pull: the pages' objects, the cursor
 * past the last of them and the counters, together. */
static enum tix_err commit_pages(struct run *r, const struct store_peer_state *next, size_t pages,
                                 struct tix_error *err)
{
	enum tix_err e;

	if ((e = store_peer_state_put(r->s, r->peer.name, next, err)) != TIX_OK ||
	    (e = store_commit(r->s, err)) != TIX_OK) {
		store_rollback(r->s);
		return e;
	}
	r->res->pages += (int64_t)pages;
	r->res->objects_in += next->objects_in - r->st.objects_in;
	r->res->objects_stored += next->objects_stored - r->st.objects_stored;
	r->res->objects_rejected += next->objects_rejected - r->st.objects_rejected;
	r->st = *next;
	return TIX_OK;
}

static enum tix_err pull_pages(struct run *r, int *done, struct tix_error *err)
{
	struct fetcher f;
	struct store_peer_state next = r->st; /* what the open transaction would commit */
	struct fetched it;
	pthread_t thread;
	int in_tx = 0;
	size_t tx_objects = 0, tx_pages = 0;
	enum tix_err e = TIX_OK;

	*done = 0;
	memset(&f, 0, sizeof(f));
	f.r = r;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	if (pthread_create(&thread, NULL, fetch_pages, &f) != 0) {
		pthread_mutex_destroy(&f.mu);
		pthread_cond_destroy(&f.cv);
		return tix_error_set(err, TIX_ENOMEM, r->peer.name, "cannot start a thread");
	}
	for (;;) {
		size_t n;

		fetcher_pop(&f, &it);
		take_item(r, in_tx ? &next : &r->st, &it);
		if (it.e != TIX_OK) {
			/* the walk ended (TIX_EEXIST: every page fetched) or failed;
			 * the pages already stored are kept either way */
			if (in_tx && (e = commit_pages(r, &next, tx_pages, err)) != TIX_OK)
				break;
			if (it.e == TIX_EEXIST) {
				*done = 1;
			} else {
				e = it.e;
				*err = it.err;
			}
			break;
		}
		if (!in_tx) {
			/* The pages' objects and the cursor past them: one transaction. */
			if ((e = store_begin(r->s, err)) != TIX_OK) {
				fetched_release(&it);
				break;
			}
			in_tx = 1;
			next = r->st;
			tx_objects = tx_pages = 0;
			if ((e = check_cursor(r, err)) != TIX_OK)
				goto rollback;
		}
		n = json_array_size(it.pg.objects);
		for (size_t i = 0; i < n; i++) {
			const struct sync_prep *p = &it.prep[i];
			int rc = p->ok ? sync__store(r, p, tix_buf_str(&it.bodies) + p->off, err)
			               : -1;

			if (rc == -2) {
				e = TIX_ESTORE;
				goto rollback;
			}
			next.objects_stored += rc == 1;
			next.objects_rejected += rc == -1;
		}
		next.objects_in += (int64_t)n;
		tx_objects += n;
		tx_pages++;
		snprintf(next.pull_after, sizeof(next.pull_after), "%s", it.pull_after);
		snprintf(next.pull_base, sizeof(next.pull_base), "%s", it.pull_base);
		snprintf(next.pull_next, sizeof(next.pull_next), "%s", it.pull_next);
		fetcher_discard(&f, &it);
		/* A page already fetched joins this transaction: the store is
		 * never kept locked while the network is waited on. */
		if (tx_objects < SYNC_TX_OBJECTS && fetcher_ready(&f))
			continue;
		in_tx = 0;
		if ((e = commit_pages(r, &next, tx_pages, err)) != TIX_OK)
			break;
		continue;
	rollback:
		fetched_release(&it);
		store_rollback(r->s);
		break;
	}
	/* the bytes of pages whose transaction did not commit still count */
	if (next.bytes_in > r->st.bytes_in)
		r->st.bytes_in = next.bytes_in;
	if (next.bytes_out > r->st.bytes_out)
		r->st.bytes_out = next.bytes_out;
	pthread_mutex_lock(&f.mu);
	f.quit = 1;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
	pthread_join(thread, NULL);
	fetcher_empty_trash(&f);
	while (f.count > 0) { /* fetched but not stored */
		fetcher_pop(&f, &it);
		if (it.e == TIX_OK)
			fetched_release(&it);
	}
	pthread_mutex_destroy(&f.mu);
	pthread_cond_destroy(&f.cv);
	return e;
}

/* The walk with the write-ahead log's bound and the page cache raised
 * (SYNC_WAL_PAGES, SYNC_CACHE_KIB) and set back after: settings of this
 * handle only (its own under tix serve --sync: cli_sync_loop opens it). */
static enum tix_err pull(struct run *r, int *done, struct tix_error *err)
{
	enum tix_err e;

	*done = 0;
	if ((e = store_set_wal_pages(r->s, SYNC_WAL_PAGES, err)) != TIX_OK ||
	    (e = store_set_cache_kib(r->s, SYNC_CACHE_KIB, err)) != TIX_OK)
		goto out;
	e = pull_pages(r, done, err);
out:
	/* set back whatever happened; a failure to is the run's error only
	 * when it had none */
	if ((store_set_cache_kib(r->s, STORE_CACHE_KIB, e == TIX_OK ? err : NULL) != TIX_OK ||
	     store_set_wal_pages(r->s, STORE_WAL_PAGES, e == TIX_OK ? err : NULL) != TIX_OK) &&
	    e == TIX_OK)
		e = TIX_ESTORE;
	return e;
}

/* ---- push -------------------------------------------------------------------- */

struct sent {
	char id[300];
	char modified[32];
	int failed; /* 1: refused or pending; DROPPED: not to be sent at all */
};

#define DROPPED 2

struct batch {
	struct run *r;
	struct sync_bundle b;
	struct sent *items;
	size_t n, cap;
	int64_t scan_last; /* date_added of the last row looked at */
	int64_t skipped;
	int full;
};

static int batch_remember(struct batch *bt, const struct store_row *row)
{
	if (bt->n == bt->cap) {
		size_t cap = bt->cap ? bt->cap * 2 : 256;
		struct sent *it = realloc(bt->items, cap * sizeof(*it));

		if (it == NULL)
			return -1;
		bt->items = it;
		bt->cap = cap;
	}
	snprintf(bt->items[bt->n].id, sizeof(bt->items[0].id), "%s", row->id);
	snprintf(bt->items[bt->n].modified, sizeof(bt->items[0].modified), "%s", row->modified);
	bt->items[bt->n].failed = 0;
	bt->n++;
	return 0;
}

/* 1 when the row may go to this peer: not received from it, and allowed
 * by the sharing policy. */
static int may_send(struct run *r, const struct store_row *row)
{
	struct policy_object o = {row->type,
	                          row->aud.tlp,
	                          row->aud.tlp_flags,
	                          row->aud.owner_org,
	                          row->aud.sharing_group,
	                          row->aud.recipients,
	                          row->aud.origin_node == NULL,
	                          NULL};

	if (row->aud.origin_node && strcmp(row->aud.origin_node, r->peer.name) == 0)
		return 0; /* never back to the peer it came from */
	return policy_may_forward(&r->cfg->policy, &r->pp, &o);
}

static int batch_row(void *arg, const struct store_row *row)
{
	struct batch *bt = arg;
	enum tix_err e;

	if (!may_send(bt->r, row)) {
		bt->scan_last = row->date_added;
		bt->skipped++;
		return 0;
	}
	e = sync_bundle_add(&bt->b, row->body, row->body_len);
	if (e == TIX_ETOOBIG) {
		bt->full = 1;
		return 1; /* this row starts the next bundle */
	}
	if (e != TIX_OK || batch_remember(bt, row) != 0) {
		bt->full = -1;
		return 1;
	}
	bt->scan_last = row->date_added;
	return 0;
}

/* Marks the bundle's items the status resource lists as failures (or
 * still pending). Returns the number of successes. */
static size_t read_status(struct batch *bt, json_t *status)
{
	json_t *f, *ent;
	size_t i, ok = 0, logged = 0;
	const char *lists[2] = {"failures", "pendings"};

	for (int l = 0; l < 2; l++) {
		f = json_object_get(status, lists[l]);
		json_array_foreach (f, i, ent) {
			const char *id = json_string_value(json_object_get(ent, "id"));
			const char *ver = json_string_value(json_object_get(ent, "version"));
			const char *msg = json_string_value(json_object_get(ent, "message"));
			struct tix_time t;
			char canon[32] = "";

			if (id == NULL)
				continue;
			if (ver && tix_time_parse(ver, &t, NULL) == TIX_OK)
				tix_time_canonical(&t, canon);
			for (size_t k = 0; k < bt->n; k++)
				if (bt->items[k].failed != DROPPED &&
				    strcmp(bt->items[k].id, id) == 0 &&
				    (canon[0] == '\0' || strcmp(bt->items[k].modified, canon) == 0))
					bt->items[k].failed = 1;
			if (logged++ < MAX_FAILURES)
				tix_log_warn("sync: peer %s refused %s: %s", bt->r->peer.name, id,
				             msg ? msg : lists[l]);
		}
	}
	for (size_t k = 0; k < bt->n; k++)
		ok += !bt->items[k].failed;
	return ok;
}

/* POSTs an envelope to objects_url and follows its status resource
 * (api_root's status/ID/, polled with back-off while pending, at most
 * STATUS_POLLS times). TIX_OK with *status the last status resource read
 * (the caller's to free), or NULL when the peer answered 413. */
static enum tix_err post_and_follow(struct sync_http *h, const char *objects_url,
                                    const char *api_root, const char *body, size_t len,
                                    json_t **status_out, struct tix_error *err)
{
	json_t *status = NULL;
	enum tix_err e;

	*status_out = NULL;
	e = sync__http_do(h, objects_url, body, len, err);
	if (e != TIX_OK)
		return e;
	if (h->status == 413)
		return TIX_OK;
	if (h->status != 202 && h->status != 200)
		return sync__http_refused(h, objects_url, err);
	for (int poll = 0;; poll++) {
		const char *state, *sid;
		char url[1600];
		char *esc;

		json_decref(status);
		status = stix_json_parse(tix_buf_str(&h->body), tix_buf_len(&h->body), "status",
		                         err);
		if (status == NULL || !json_is_object(status))
			return status ? (json_decref(status),
			                 tix_error_set(err, TIX_EPARSE, objects_url,
			                               "the status resource is not a JSON object"))
			              : TIX_EPARSE;
		state = json_string_value(json_object_get(status, "status"));
		sid = json_string_value(json_object_get(status, "id"));
		if (state && strcmp(state, "complete") == 0)
			break;
		if (sid == NULL || poll >= STATUS_POLLS)
			break; /* what is still pending counts as failed: sent again later */
		if (sync__sleep(h->cfg, sync_backoff_delay(0.2, 5, poll + 1, 0x80000000u)) != 0) {
			json_decref(status);
			return tix_error_set(err, TIX_EINVAL, objects_url, "stopped");
		}
		esc = curl_easy_escape(h->curl, sid, 0);
		snprintf(url, sizeof(url), "%sstatus/%s/", api_root, esc ? esc : "");
		curl_free(esc);
		e = sync__http_do(h, url, NULL, 0, err);
		if (e != TIX_OK) {
			json_decref(status);
			return e;
		}
		if (h->status != 200) {
			json_decref(status);
			return sync__http_refused(h, url, err);
		}
	}
	*status_out = status;
	return TIX_OK;
}

/* POSTs the bundle and reads its status (polling while pending). TIX_OK
 * with the failed items marked; *too_big when the peer answered 413. */
static enum tix_err post_bundle(struct run *r, struct batch *bt, size_t *ok, int *too_big,
                                struct tix_error *err)
{
	const char *text;
	size_t len;
	json_t *status = NULL;
	enum tix_err e;

	*ok = 0;
	*too_big = 0;
	text = sync_bundle_finish(&bt->b, &len);
	e = post_and_follow(&r->h, r->objects_url, r->api_root, text, len, &status, err);
	sync__take_bytes(r);
	if (e != TIX_OK)
		return e;
	if (status == NULL) {
		*too_big = 1;
		return TIX_OK;
	}
	{
		const char *state = json_string_value(json_object_get(status, "status"));

		if (state == NULL || strcmp(state, "complete") != 0)
			/* Not complete: everything not listed as a success is
			 * treated as failed (and sent again). */
			for (size_t k = 0; k < bt->n; k++)
				if (bt->items[k].failed != DROPPED)
					bt->items[k].failed = 1;
		if (state == NULL || strcmp(state, "complete") != 0) {
			json_t *succ = json_object_get(status, "successes"), *ent;
			size_t i;

			json_array_foreach (succ, i, ent) {
				const char *id = json_string_value(json_object_get(ent, "id"));

				for (size_t k = 0; id && k < bt->n; k++)
					if (bt->items[k].failed != DROPPED &&
					    strcmp(bt->items[k].id, id) == 0)
						bt->items[k].failed = 0;
			}
		}
	}
	*ok = read_status(bt, status);
	json_decref(status);
	return TIX_OK;
}

static int outbox_row(void *arg, const struct store_row *row)
{
	struct batch *bt = arg;

	if (!may_send(bt->r, row)) {
		/* The policy changed since (a grant, a group): it stays home,
		 * and leaves the outbox (marked, cleared in commit_batch). */
		if (batch_remember(bt, row) != 0) {
			bt->full = 1;
			return 1;
		}
		bt->items[bt->n - 1].failed = DROPPED;
		bt->skipped++;
		return 0;
	}
	if (sync_bundle_add(&bt->b, row->body, row->body_len) != TIX_OK ||
	    batch_remember(bt, row) != 0) {
		bt->full = 1;
		return 1;
	}
	return 0;
}

/* Records a posted batch: refused items into the outbox, sent ones out of
 * it, and (when advance) the push cursor past the batch; one transaction. */
static enum tix_err commit_batch(struct run *r, struct batch *bt, int advance, size_t ok,
                                 struct tix_error *err)
{
	struct store_peer_state next = r->st;
	enum tix_err e;

	if ((e = store_begin(r->s, err)) != TIX_OK)
		return e;
	if ((e = check_cursor(r, err)) != TIX_OK)
		goto fail;
	for (size_t k = 0; k < bt->n; k++) {
		e = bt->items[k].failed
		            ? store_peer_outbox_put(r->s, r->peer.name, bt->items[k].id,
		                                    bt->items[k].modified, "refused", err)
		            : store_peer_outbox_done(r->s, r->peer.name, bt->items[k].id,
		                                     bt->items[k].modified, err);
		if (e != TIX_OK)
			goto fail;
	}
	if (advance)
		next.push_cursor = bt->scan_last;
	next.objects_out += (int64_t)ok;
	next.bytes_in = r->st.bytes_in;
	next.bytes_out = r->st.bytes_out;
	if ((e = store_peer_state_put(r->s, r->peer.name, &next, err)) != TIX_OK)
		goto fail;
	if ((e = store_commit(r->s, err)) != TIX_OK)
		return e;
	r->st = next;
	r->res->objects_out += (int64_t)ok;
	for (size_t k = 0; k < bt->n; k++)
		r->res->objects_refused += bt->items[k].failed == 1;
	return TIX_OK;
fail:
	store_rollback(r->s);
	return e;
}

static void batch_reset(struct batch *bt)
{
	sync_bundle_reset(&bt->b);
	bt->n = 0;
	bt->full = 0;
	bt->skipped = 0;
}

static int add_group(void *arg, const char *group)
{
	struct run *r = arg;

	if (r->ngroups == MAX_GROUPS)
		return 1;
	snprintf(r->group_names[r->ngroups], sizeof(r->group_names[0]), "%s", group);
	r->groups[r->ngroups] = r->group_names[r->ngroups];
	r->groups[++r->ngroups] = NULL;
	return 0;
}

static enum tix_err push(struct run *r, int *done, struct tix_error *err)
{
	struct batch bt;
	size_t max_objects = r->cfg->push_max_objects, max_bytes = r->cfg->push_max_bytes;
	struct store_org org;
	int can_read = 0, can_write = 0, too_big;
	size_t ok;
	enum tix_err e = TIX_OK;

	*done = 0;
	/* The peer's audience: its organisation, the sharing groups naming
	 * it here, and whether it is granted read on the collection pushed. */
	r->groups[0] = NULL;
	r->ngroups = 0;
	if (r->peer.org[0]) {
		if (store_org_get(r->s, r->peer.org, &org, NULL) == TIX_OK &&
		    (e = store_collection_access(r->s, &r->coll, org.key, &can_read, &can_write,
		                                 err)) != TIX_OK)
			return e;
		if ((e = store_org_groups(r->s, r->peer.org, add_group, r, err)) != TIX_OK)
			return e;
	}
	r->pp.org = r->peer.org[0] ? r->peer.org : NULL;
	r->pp.groups = r->groups;
	r->pp.collection_reader = can_read;

	memset(&bt, 0, sizeof(bt));
	bt.r = r;
	sync_bundle_init(&bt.b, max_objects, max_bytes);
	/* First what the peer refused before: only those are sent again. */
	batch_reset(&bt);
	if ((e = store_peer_outbox_list(r->s, r->peer.name, outbox_row, &bt, err)) != TIX_OK)
		goto out;
	if (bt.n > 0) {
		ok = 0;
		too_big = 0;
		if (bt.b.count > 0 && (e = post_bundle(r, &bt, &ok, &too_big, err)) != TIX_OK)
			goto out;
		if (too_big)
			for (size_t k = 0; k < bt.n; k++)
				if (bt.items[k].failed != DROPPED)
					bt.items[k].failed = 1;
		if ((e = commit_batch(r, &bt, 0, too_big ? 0 : ok, err)) != TIX_OK)
			goto out;
	}
	for (;;) {
		struct store_query q = {0};

		if (r->cfg->stop && *r->cfg->stop) {
			e = tix_error_set(err, TIX_EINVAL, r->peer.name, "stopped");
			break;
		}
		batch_reset(&bt);
		bt.b.max_count = max_objects;
		bt.b.max_bytes = max_bytes;
		bt.scan_last = r->st.push_cursor;
		q.collection = &r->coll;
		q.added_after = r->st.push_cursor;
		q.all_versions = 1;
		if ((e = store_query(r->s, &q, batch_row, &bt, err)) != TIX_OK)
			break;
		if (bt.full < 0) {
			e = tix_error_set(err, TIX_ENOMEM, r->peer.name, "out of memory");
			break;
		}
		r->res->objects_skipped += bt.skipped;
		if (bt.n == 0) {
			/* Only rows that stay home: move past them. */
			if (bt.scan_last != r->st.push_cursor)
				e = commit_batch(r, &bt, 1, 0, err);
			*done = 1;
			break;
		}
		if ((e = post_bundle(r, &bt, &ok, &too_big, err)) != TIX_OK)
			break;
		if (too_big && bt.n > 1) {
			/* The peer takes less at once: halve and send again. */
			max_objects = bt.n / 2;
			max_bytes = max_bytes / 2 > 4096 ? max_bytes / 2 : 4096;
			continue;
		}
		if (too_big)
			bt.items[0].failed = 1; /* one object too big for the peer: keep it */
		if ((e = commit_batch(r, &bt, 1, too_big ? 0 : ok, err)) != TIX_OK)
			break;
	}
out:
	free(bt.items);
	sync_bundle_release(&bt.b);
	if (e == TIX_OK && *done && r->st.outbox == 0) {
		struct store_peer_state s2;

		if (store_peer_state_get(r->s, r->peer.name, &s2, NULL) == TIX_OK && s2.outbox > 0)
			*done = 0; /* refused versions wait for the next run */
	}
	return e;
}

/* ---- one run -------------------------------------------------------------------- */

enum tix_err sync_peer_run(struct store *s, const struct sync_config *cfg, const char *peer,
                           int do_pull, int do_push, struct sync_result *res, struct tix_error *err)
{
	struct run *r;
	int pulled = 1, pushed = 1;
	enum tix_err e;

	memset(res, 0, sizeof(*res));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, peer, "out of memory");
	r->s = s;
	r->cfg = cfg;
	r->res = res;
	if ((e = store_peer_get(s, peer, &r->peer, err)) != TIX_OK ||
	    (e = store_peer_state_get(s, peer, &r->st, err)) != TIX_OK) {
		free(r);
		return e;
	}
	if ((e = store_collection_get(s, r->peer.local_collection, 1, &r->coll, err)) != TIX_OK)
		goto record;
	if ((e = sync__http_open(&r->h, &r->peer, cfg, err)) != TIX_OK)
		goto record;
	if (strcmp(r->peer.kind, "misp-feed") == 0) {
		/* A MISP feed: pull only, event by event (src/sync/feed.c). */
		if (do_pull && (e = sync__feed_pull(r, &pulled, err)) != TIX_OK)
			goto record;
		res->converged = pulled;
		goto record;
	}
	{
		/* Every request of the run carries this node's audit anchor: a
		 * tix peer keeps the last few and reports a chain that went
		 * backwards or forked (docs/sync.md); a plain TAXII server
		 * ignores the header. */
		char hdr[128], hx[65];
		int64_t aseq;

		if (store_audit_anchor(s, &aseq, hx, NULL) == TIX_OK) {
			snprintf(hdr, sizeof(hdr), "X-Tix-Audit-Anchor: %lld:%s", (long long)aseq,
			         hx);
			r->h.hdrs_get = curl_slist_append(r->h.hdrs_get, hdr);
			r->h.hdrs_post = curl_slist_append(r->h.hdrs_post, hdr);
		}
	}
	if ((e = discover(r, err)) != TIX_OK)
		goto record;
	sync__take_bytes(r);
	if (do_pull && (r->peer.direction & STORE_PEER_PULL) &&
	    (e = pull(r, &pulled, err)) != TIX_OK)
		goto record;
	if (do_push && (r->peer.direction & STORE_PEER_PUSH) &&
	    (e = push(r, &pushed, err)) != TIX_OK)
		goto record;
	res->converged = pulled && pushed;
record:
	sync__take_bytes(r);
	r->st.last_attempt = now_us();
	if (e == TIX_OK) {
		r->st.last_success = r->st.last_attempt;
		r->st.failing = 0;
	} else {
		char msg[sizeof(r->st.last_error)];

		r->st.failing = 1;
		snprintf(r->st.last_error, sizeof(r->st.last_error), "%s",
		         tix_error_str(err, msg, sizeof(msg)));
		tix_log_warn("sync: peer %s: %s", peer, r->st.last_error);
	}
	{
		/* The counters and the verdict; the cursors are what the last
		 * committed page or batch left (re-read, so this never moves
		 * them). */
		struct store_peer_state cur;
		struct tix_error e2;

		if (store_peer_state_get(s, peer, &cur, &e2) == TIX_OK) {
			cur.bytes_in =
			        r->st.bytes_in > cur.bytes_in ? r->st.bytes_in : cur.bytes_in;
			cur.bytes_out =
			        r->st.bytes_out > cur.bytes_out ? r->st.bytes_out : cur.bytes_out;
			cur.last_attempt = r->st.last_attempt;
			cur.last_success =
			        r->st.last_success ? r->st.last_success : cur.last_success;
			cur.failing = r->st.failing;
			if (e != TIX_OK) {
				memcpy(cur.last_error, r->st.last_error, sizeof(cur.last_error));
				cur.errors++;
			}
			store_peer_state_put(s, peer, &cur, &e2);
		}
	}
	sync__http_close(&r->h);
	{
		/* The credentials leave no copy behind in freed memory. */
		volatile char *p = (volatile char *)r->peer.secret;

		for (size_t i = 0; i < sizeof(r->peer.secret); i++)
			p[i] = 0;
	}
	free(r);
	return e;
}

enum tix_err sync_post_objects(const struct store_peer *p, const struct sync_config *cfg,
                               const char *collection_url, const char *body, size_t len,
                               struct sync_post_result *out, struct tix_error *err)
{
	char objects_url[1400], api_root[1400];
	const char *coll = NULL, *at;
	struct sync_http h;
	json_t *status = NULL, *list, *ent;
	enum tix_err e;
	size_t n = strlen(collection_url), i;

	memset(out, 0, sizeof(*out));
	/* .../API-ROOT/collections/ID/[objects/]: the status resources live
	 * under API-ROOT/status/ */
	for (at = strstr(collection_url, "/collections/"); at; at = strstr(at + 1, "/collections/"))
		coll = at;
	if (coll == NULL || n >= sizeof(objects_url) - 16 ||
	    (strncmp(collection_url, "http://", 7) != 0 &&
	     strncmp(collection_url, "https://", 8) != 0))
		return tix_error_set(err, TIX_EINVAL, collection_url,
		                     "not a TAXII 2.1 collection URL "
		                     "(http[s]://HOST/API-ROOT/collections/ID/)");
	snprintf(api_root, sizeof(api_root), "%.*s/", (int)(coll - collection_url), collection_url);
	snprintf(objects_url, sizeof(objects_url), "%s%s", collection_url,
	         n && collection_url[n - 1] == '/' ? "" : "/");
	if (strstr(objects_url + (coll - collection_url), "/objects/") == NULL)
		snprintf(objects_url + strlen(objects_url),
		         sizeof(objects_url) - strlen(objects_url), "objects/");
	if ((e = sync__http_open(&h, p, cfg, err)) != TIX_OK)
		return e;
	e = post_and_follow(&h, objects_url, api_root, body, len, &status, err);
	out->http_status = h.status;
	out->bytes_out = h.bytes_out;
	if (e == TIX_OK && status == NULL)
		e = tix_error_set(err, TIX_ETOOBIG, objects_url,
		                  "HTTP 413: the envelope is too large");
	if (e == TIX_OK) {
		const char *sid = json_string_value(json_object_get(status, "id"));
		const char *state = json_string_value(json_object_get(status, "status"));

		snprintf(out->status_id, sizeof(out->status_id), "%s", sid ? sid : "");
		out->complete = state && strcmp(state, "complete") == 0;
		out->successes = json_integer_value(json_object_get(status, "success_count"));
		out->failures = json_integer_value(json_object_get(status, "failure_count"));
		out->pendings = json_integer_value(json_object_get(status, "pending_count"));
		list = json_object_get(status, "failures");
		json_array_foreach (list, i, ent) {
			const char *msg = json_string_value(json_object_get(ent, "message"));
			const char *id = json_string_value(json_object_get(ent, "id"));

			snprintf(out->first_failure, sizeof(out->first_failure), "%s: %s",
			         id ? id : "?", msg ? msg : "refused");
			break;
		}
	}
	json_decref(status);
	sync__http_close(&h);
	return e;
}
