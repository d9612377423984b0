/*
 * api/feeds.c — GET /feeds/<collection-id>/<format>[/<file>] and
 * /feeds/<name>: a collection's live indicators in a defence's own format
 * (src/formats/feed.c), read page by page through the TAXII read path's
 * policy decision (taxii_reader_page) and streamed, gzip-compressed when
 * asked; an ETag that changes only when the answer would, and 304s.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <zlib.h>

#include "api/api_int.h"
#include "api/feeds.h"
#include "match/match.h"
#include "store/store.h"

#define PAGE_ROWS    1000
#define MAX_ETAGS    256
#define MAX_WLISTS   8
#define STREAM_CHUNK (64 * 1024)

/* How far what a feed is made of has changed: its collection (newest
 * membership, count) and the sightings its aggregates count (the store's
 * counter: store_sightings_version). Equal versions, equal feeds. */
struct feed_version {
	int64_t last_added, members;
	int64_t sightings;
};

/* What an ETag stands for: the feed's version, the serial written into it
 * (rpz) and until when the lifecycle of its indicators keeps it as it is. */
struct etag_entry {
	char key[1400];
	struct feed_version v;
	uint32_t serial;
	int64_t valid_until_us; /* 0: not known yet (the first answer is streaming) */
	char etag[48];
	uint64_t used;
};

struct wlist {
	char path[1024];
	struct match_warninglists *w;
};

struct api_feeds {
	pthread_mutex_t lock;
	struct etag_entry *etags;
	size_t netags;
	uint64_t clock;
	struct wlist wl[MAX_WLISTS];
	size_t nwl;
};

struct api_feeds *api_feeds_new(void)
{
	struct api_feeds *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	if ((f->etags = calloc(MAX_ETAGS, sizeof(*f->etags))) == NULL) {
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void api_feeds_free(struct api_feeds *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nwl; i++)
		match_warninglists_free(f->wl[i].w);
	pthread_mutex_destroy(&f->lock);
	free(f->etags);
	free(f);
}

/* ---- named feeds' options -------------------------------------------------------- */

int api_feeds_options(const char *text, struct formats_feed_opts *o, const char **warninglists,
                      int64_t *min_sightings, json_t **hold, char *msg, size_t msgsize)
{
	static const char *const keys[] = {"zone",         "policy", "address",
	                                   "set_name",     "source", "subdomains",
	                                   "warninglists", "serial", "min_sightings"};
	json_t *v = json_loads(text, 0, NULL), *x;
	const char *k;

	*hold = NULL;
	*warninglists = NULL;
	*min_sightings = 0;
	if (!json_is_object(v)) {
		snprintf(msg, msgsize, "the feed's options are not a JSON object");
		json_decref(v);
		return -1;
	}
	json_object_foreach (v, k, x) {
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[i], k) != 0; i++)
			;
		if (i == sizeof(keys) / sizeof(keys[0]) ||
		    (strcmp(k, "subdomains") == 0 ? !json_is_boolean(x)
		     : strcmp(k, "serial") == 0   ? !json_is_integer(x)
		     : strcmp(k, "min_sightings") == 0
		             ? !json_is_integer(x) || json_integer_value(x) < 0
		             : !json_is_string(x))) {
			snprintf(msg, msgsize,
			         "the feed's option '%s' is unknown or of the wrong type", k);
			json_decref(v);
			return -1;
		}
	}
	o->zone = json_string_value(json_object_get(v, "zone"));
	o->policy = json_string_value(json_object_get(v, "policy"));
	o->address = json_string_value(json_object_get(v, "address"));
	o->set_name = json_string_value(json_object_get(v, "set_name"));
	o->source = json_string_value(json_object_get(v, "source"));
	o->subdomains = json_is_true(json_object_get(v, "subdomains"));
	*warninglists = json_string_value(json_object_get(v, "warninglists"));
	*min_sightings = json_integer_value(json_object_get(v, "min_sightings"));
	if (formats_feed_check_opts(o, msg, msgsize) != 0) {
		json_decref(v);
		return -1;
	}
	*hold = v;
	return 0;
}

static const struct match_warninglists *warninglists_of(struct api_feeds *f, const char *path,
                                                        struct tix_error *err)
{
	const struct match_warninglists *w = NULL;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->nwl && w == NULL; i++)
		if (strcmp(f->wl[i].path, path) == 0)
			w = f->wl[i].w;
	if (w == NULL && f->nwl < MAX_WLISTS) {
		struct match_warninglists *n = match_warninglists_new();

		if (n && match_warninglists_load(n, path, err) == TIX_OK) {
			snprintf(f->wl[f->nwl].path, sizeof(f->wl[0].path), "%s", path);
			f->wl[f->nwl++].w = n;
			w = n;
		} else {
			match_warninglists_free(n);
		}
	} else if (w == NULL) {
		tix_error_set(err, TIX_ETOOBIG, "feeds", "too many warninglist paths in use");
	}
	pthread_mutex_unlock(&f->lock);
	return w;
}

static const char *exclude_listed(void *ctx, const char *stix_type, const char *value, size_t len)
{
	return match_warninglists_hit(ctx, stix_type, value, len);
}

/* ---- ETags ---------------------------------------------------------------------------- */

/* The feed's version, from this thread's memo while the handle has seen
 * no commit since (store_data_version is per connection): the two queries
 * run once per commit, not once per request. */
static _Thread_local struct {
	struct store *s;
	int64_t ckey;
	uint64_t dv;
	struct feed_version v;
} memo[8];
static _Thread_local unsigned memo_next;

static enum tix_err feed_version(struct store *s, const struct store_collection *c,
                                 struct feed_version *v, struct tix_error *err)
{
	uint64_t dv = store_data_version(s);
	unsigned i;
	enum tix_err e;

	for (i = 0; i < 8; i++)
		if (memo[i].s == s && memo[i].ckey == c->key && memo[i].dv == dv) {
			*v = memo[i].v;
			return TIX_OK;
		}
	if ((e = store_collection_version(s, c, &v->last_added, &v->members, err)) != TIX_OK ||
	    (e = store_sightings_version(s, &v->sightings, err)) != TIX_OK)
		return e;
	i = memo_next++ % 8;
	memo[i].s = s;
	memo[i].ckey = c->key;
	memo[i].dv = dv;
	memo[i].v = *v;
	return TIX_OK;
}

/* The ETag and serial of the answer for key now: the entry's while the
 * feed's version is as it was and no valid_from/valid_until has passed
 * since; else a new one. */
static void etag_for(struct api_feeds *f, const char *key, const struct feed_version *v,
                     int64_t now_us, char etag[48], uint32_t *serial)
{
	struct etag_entry *e = NULL, *old = NULL;
	unsigned char h[16];
	char hex[33];

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->netags; i++)
		if (strcmp(f->etags[i].key, key) == 0)
			e = &f->etags[i];
	if (e && memcmp(&e->v, v, sizeof(*v)) == 0 && e->valid_until_us != 0 &&
	    (e->valid_until_us < 0 || now_us < e->valid_until_us)) {
		e->used = ++f->clock;
		memcpy(etag, e->etag, 48);
		*serial = e->serial;
		pthread_mutex_unlock(&f->lock);
		return;
	}
	if (e == NULL) {
		if (f->netags < MAX_ETAGS) {
			e = &f->etags[f->netags++];
		} else {
			for (size_t i = 0; i < f->netags; i++)
				if (old == NULL || f->etags[i].used < old->used)
					old = &f->etags[i];
			e = old;
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	{
		uint32_t s = (uint32_t)(now_us / 1000000);

		e->serial = e->serial && s <= e->serial ? e->serial + 1 : s;
	}
	e->v = *v;
	e->valid_until_us = 0; /* known when this answer is complete */
	e->used = ++f->clock;
	{
		char seed[1600];

		snprintf(seed, sizeof(seed), "%s|%lld|%lld|%lld|%u", key, (long long)v->last_added,
		         (long long)v->members, (long long)v->sightings, e->serial);
		crypto_generichash(h, sizeof(h), (const unsigned char *)seed, strlen(seed), NULL,
		                   0);
	}
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(e->etag, sizeof(e->etag), "\"%s\"", hex);
	memcpy(etag, e->etag, 48);
	*serial = e->serial;
	pthread_mutex_unlock(&f->lock);
}

/* Once an answer is complete: its ETag holds until next_change (-1: no
 * valid_from or valid_until ahead). */
static void etag_done(struct api_feeds *f, const char *key, const char *etag, int64_t next_change)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->netags; i++)
		if (strcmp(f->etags[i].key, key) == 0 && strcmp(f->etags[i].etag, etag) == 0)
			f->etags[i].valid_until_us = next_change ? next_change : -1;
	pthread_mutex_unlock(&f->lock);
}

/* If-None-Match: a list of entity tags (weak ones compare too), or "*". */
int api_none_match(const char *header, const char *etag)
{
	const char *p = header;
	size_t n = strlen(etag);

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

/* ---- the streamed body --------------------------------------------------------------- */

struct stream {
	struct api_feeds *fc;
	const struct taxii_config *cfg;
	struct store *s;
	struct taxii_reader *r;
	struct api_reader reader;      /* the same caller, for the sightings it may count */
	struct api_sighting_memo seen; /* of reader: the filter and the writer ask in turn */
	int64_t min_sightings;         /* a named feed's: indicators with fewer left out */
	struct formats_feed *feed;
	json_t *hold;
	char want[96]; /* the file of suricata-dataset, or "" for the main output */
	int gzip;
	z_stream z;
	struct tix_buf out;
	size_t off;
	int64_t after;
	int more, done, failed;
	char key[1400], etag[48];
	struct store_audit_ids *audit; /* the ids sent, for the audit log (bounded memory) */
	/* indicators `tix expire` marked (their decay score fell below the
	 * floor), in id order: left out and counted, as `tix export` does */
	struct store_id_set expired;
};

static void deflate_into(struct stream *st, const char *data, size_t len, int flush)
{
	st->z.next_in = (Bytef *)(uintptr_t)data;
	st->z.avail_in = (uInt)len;
	do {
		char *space = tix_buf_space(&st->out, STREAM_CHUNK);
		int rc;

		if (space == NULL) {
			st->failed = 1;
			return;
		}
		st->z.next_out = (Bytef *)space;
		st->z.avail_out = STREAM_CHUNK;
		rc = deflate(&st->z, flush);
		tix_buf_commit(&st->out, STREAM_CHUNK - st->z.avail_out);
		if (rc == Z_STREAM_ERROR) {
			st->failed = 1;
			return;
		}
		if (flush == Z_FINISH && rc == Z_STREAM_END)
			return;
	} while (st->z.avail_out == 0 || st->z.avail_in > 0 || flush == Z_FINISH);
}

static int sink_write(void *ctx, const char *stream, const char *data, size_t len)
{
	struct stream *st = ctx;

	if ((stream == NULL) != (st->want[0] == '\0') || (stream && strcmp(stream, st->want) != 0))
		return 0; /* another file of the feed */
	if (len == 0)
		return 0;
	if (st->gzip)
		deflate_into(st, data, len, Z_NO_FLUSH);
	else if (tix_buf_add(&st->out, data, len) != TIX_OK)
		st->failed = 1;
	return st->failed;
}

static int feed_row(void *arg, const struct store_taxii_row *row)
{
	struct stream *st = arg;
	struct tix_error err;
	const char *id = row->id;

	if (strcmp(row->type, "indicator") == 0 && store_id_set_has(&st->expired, id)) {
		formats_feed_skip(st->feed, row->id, FR_DECAYED);
		return 0;
	}
	if (st->min_sightings > 0 && strcmp(row->type, "indicator") == 0 &&
	    api_sighting_sum_memo(&st->seen, id).count < st->min_sightings) {
		formats_feed_skip(st->feed, row->id, FR_SIGHTINGS);
		return 0;
	}
	if (st->audit && store_audit_ids_add(st->audit, row->id, &err) != TIX_OK) {
		tix_log_error("feeds: %s", err.msg);
		st->failed = 1;
		return 1;
	}
	if (formats_feed_add(st->feed, row->body, row->body_len, &err) != TIX_OK) {
		st->failed = 1;
		return 1;
	}
	return 0;
}

static void finish(struct stream *st)
{
	struct tix_error err;
	const struct formats_feed_stats *fs;

	if (formats_feed_finish(st->feed, &err) != TIX_OK) {
		st->failed = 1;
		return;
	}
	if (st->gzip)
		deflate_into(st, NULL, 0, Z_FINISH);
	st->done = 1;
	fs = formats_feed_get_stats(st->feed);
	etag_done(st->fc, st->key, st->etag, fs->next_change_us);
	/* the queue writes every part of the answer in one transaction */
	store_audit_queue_push_ids(st->cfg->audit, st->audit);
	st->audit = NULL;
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char *const types[] = {"indicator", NULL};
	struct stream *st = cls;
	size_t n;

	(void)pos;
	while (tix_buf_len(&st->out) - st->off == 0) {
		struct tix_error err;

		if (st->failed)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (st->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		tix_buf_reset(&st->out);
		st->off = 0;
		if (st->more) {
			if (taxii_reader_page(st->r, st->s, types, &st->after, PAGE_ROWS, feed_row,
			                      st, &st->more, &err) != TIX_OK) {
				tix_log_error("feeds: %s", err.msg);
				st->failed = 1;
			}
		} else {
			finish(st);
		}
	}
	n = tix_buf_len(&st->out) - st->off;
	if (n > max)
		n = max;
	memcpy(buf, tix_buf_str(&st->out) + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void free_stream(void *cls)
{
	struct stream *st = cls;

	if (st == NULL)
		return;
	if (st->gzip)
		deflateEnd(&st->z);
	formats_feed_free(st->feed);
	taxii_reader_free(st->r);
	json_decref(st->hold);
	tix_buf_release(&st->out);
	store_audit_ids_free(st->audit);
	store_id_set_release(&st->expired);
	free(st);
}

/* ---- the answer ------------------------------------------------------------------------ */

static int uuid_shaped(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23
		            ? s[i] != '-'
		            : !strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

/* The data files of suricata-dataset, by the set name. */
static int dataset_file_ok(const char *set, const char *file)
{
	static const char *const kinds[] = {"domains", "ipv4", "ipv6", "md5", "sha1", "sha256"};
	char name[96];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(name, sizeof(name), "%s-%s.lst", set, kinds[i]);
		if (strcmp(name, file) == 0)
			return 1;
	}
	return 0;
}

static void stream_sightings(void *ctx, const char *id, int64_t *count, int64_t *first,
                             int64_t *last)
{
	struct stream *st = ctx;
	struct api_sighting_sum t = api_sighting_sum_memo(&st->seen, id);

	*count = t.count;
	*first = t.first;
	*last = t.last;
}

struct MHD_Response *api_feeds_answer(struct api_feeds *fc, const struct taxii_config *cfg,
                                      struct store *s, const struct api_feeds_request *req,
                                      int *status, struct taxii_response *resp)
{
	const char *rest = req->path + strlen("/feeds/");
	char seg[3][128];
	size_t nseg = 0;
	struct store_feed named;
	const char *cid, *format_name, *file = NULL, *wl_path = NULL;
	struct formats_feed_opts fo;
	struct stream *st;
	struct MHD_Response *r;
	struct tix_error err;
	struct tix_time now;
	struct feed_version ver;
	int fmt;
	json_t *hold = NULL;
	int64_t min_sightings = 0;
	char msg[256];

	*status = 0;
	memset(&named, 0, sizeof(named));
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		resp->allow = "GET, HEAD";
		taxii_error(resp, 405, "Method not allowed", "feeds are read with GET");
		return NULL;
	}
	while (*rest && nseg < 3) {
		size_t n = strcspn(rest, "/");

		if (n == 0 || n >= sizeof(seg[0]))
			break;
		memcpy(seg[nseg], rest, n);
		seg[nseg++][n] = '\0';
		rest += n;
		if (*rest == '/')
			rest++;
	}
	if (*rest || nseg == 0) {
		taxii_error(resp, 404, "Not found", "no such feed");
		return NULL;
	}
	memset(&fo, 0, sizeof(fo));
	if (uuid_shaped(seg[0], strlen(seg[0]))) { /* /feeds/<collection-id>/<format>[/<file>] */
		if (nseg < 2) {
			taxii_error(resp, 404, "Not found",
			            "name a format: /feeds/<collection>/<format>");
			return NULL;
		}
		cid = seg[0];
		format_name = seg[1];
		file = nseg == 3 ? seg[2] : NULL;
	} else { /* /feeds/<name>[/<file>] */
		if (nseg > 2 || store_feed_get(s, seg[0], &named, &err) != TIX_OK) {
			taxii_error(resp, 404, "Not found", "no such feed");
			return NULL;
		}
		cid = named.collection;
		format_name = named.format;
		file = nseg == 2 ? seg[1] : NULL;
		if (api_feeds_options(named.options, &fo, &wl_path, &min_sightings, &hold, msg,
		                      sizeof(msg)) != 0) {
			taxii_error(resp, 500, "Internal error", "feed '%s': %s", named.name, msg);
			return NULL;
		}
	}
	if ((fmt = formats_feed_parse(format_name)) < 0 ||
	    (file && (fmt != FEED_SURICATA_DATASET ||
	              !dataset_file_ok(fo.set_name ? fo.set_name : "tix", file)))) {
		json_decref(hold);
		taxii_error(
		        resp, 404, "Not found",
		        "no such feed format (suricata, suricata-dataset, zeek, rpz, nft, ipset, "
		        "hosts, csv, list)");
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		json_decref(hold);
		taxii_error(resp, 500, "Internal error", "out of memory");
		return NULL;
	}
	st->hold = hold;
	if (taxii_reader_open(cfg, s, req->taxii, cid, &st->r, resp) != 0) {
		free_stream(st);
		return NULL;
	}
	tix_error_clear(&err);
	{
		struct store_collection c;

		memset(&c, 0, sizeof(c));
		if (store_collection_get(s, cid, 0, &c, &err) != TIX_OK ||
		    feed_version(s, &c, &ver, &err) != TIX_OK ||
		    store_expired_set_load(s, &st->expired, &err) != TIX_OK) {
			free_stream(st);
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			return NULL;
		}
	}
	st->gzip = api_wants_gzip(req->accept_encoding);
	/* the number of expired marks is in the key: `tix expire` changes the
	 * feed (and so its ETag) without changing the collection */
	snprintf(st->key, sizeof(st->key), "%s|%zu|%s|%s|%s|%s|%s", taxii_reader_view(st->r),
	         st->expired.n, format_name, file ? file : "",
	         nseg && !uuid_shaped(seg[0], strlen(seg[0])) ? seg[0] : "",
	         named.options[0] && !uuid_shaped(seg[0], strlen(seg[0])) ? named.options : "",
	         st->gzip ? "gzip" : "identity");
	tix_time_now(&now);
	fo.format = (enum formats_feed_format)fmt;
	fo.now_us = tix_time_to_us(&now);
	if (!formats_feed_carries_sightings(fo.format) && min_sightings == 0)
		ver.sightings = 0; /* a new sighting changes nothing */
	etag_for(fc, st->key, &ver, fo.now_us, st->etag, &fo.serial);
	if (req->if_none_match && api_none_match(req->if_none_match, st->etag)) {
		char etag[48];

		memcpy(etag, st->etag, sizeof(etag));
		free_stream(st);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (r == NULL) {
			taxii_error(resp, 500, "Internal error", "out of memory");
			return NULL;
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding, Authorization");
		*status = 304;
		return r;
	}
	if (wl_path) {
		const struct match_warninglists *w = warninglists_of(fc, wl_path, &err);

		if (w == NULL) {
			free_stream(st);
			taxii_error(resp, 500, "Internal error", "the feed's warninglists: %s",
			            err.msg);
			return NULL;
		}
		fo.exclude = exclude_listed;
		fo.exclude_ctx = (void *)(uintptr_t)w;
	}
	snprintf(st->want, sizeof(st->want), "%s", file ? file : "");
	tix_buf_init(&st->out, TIX_BUF_UNLIMITED);
	st->fc = fc;
	st->cfg = cfg;
	st->s = s;
	st->more = 1;
	if (st->gzip &&
	    deflateInit2(&st->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		st->gzip = 0;
		free_stream(st);
		taxii_error(resp, 500, "Internal error", "gzip");
		return NULL;
	}
	if (api_reader_principal(s, &cfg->policy, req->taxii->who, &st->reader, &err) != TIX_OK) {
		free_stream(st);
		taxii_error(resp, 500, "Internal error", "%s", err.msg);
		return NULL;
	}
	st->seen.s = s;
	st->seen.r = &st->reader;
	st->min_sightings = min_sightings;
	fo.sightings = stream_sightings;
	fo.sightings_ctx = st;
	{
		struct formats_feed_sink sink = {sink_write, st};

		if ((st->feed = formats_feed_new(&fo, &sink, &err)) == NULL) {
			free_stream(st);
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			return NULL;
		}
	}
	if (cfg->audit) {
		char detail[600];
		struct store_audit_entry ae = {fo.now_us,
		                               "read",
		                               req->taxii->who ? req->taxii->who->user
		                                               : "anonymous",
		                               req->taxii->who ? req->taxii->who->org : "",
		                               "",
		                               detail};

		snprintf(detail, sizeof(detail), "GET %.300s%s%.60s", req->path,
		         req->taxii->client ? " from " : "",
		         req->taxii->client ? req->taxii->client : "");
		if ((st->audit = store_audit_ids_new(&ae, 0, &err)) == NULL) {
			free_stream(st);
			taxii_error(resp, 500, "Internal error", "%s", err.msg);
			return NULL;
		}
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_CHUNK, read_body, st,
	                                      free_stream);
	if (r == NULL) {
		free_stream(st);
		taxii_error(resp, 500, "Internal error", "out of memory");
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        file ? "text/plain; charset=utf-8" : formats_feed_media_type(fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, st->etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding, Authorization");
	if (st->gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	*status = 200;
	return r;
}
