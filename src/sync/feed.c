/*
 * sync/feed.c — the pull of a MISP feed peer: manifest.json, hashes.csv
 * where served, then each event whose manifest timestamp is newer than its
 * stored cursor, checked, mapped to STIX as `tix import` maps MISP, and
 * stored with its cursor in one transaction; a bad event is refused whole.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "sync/sync_int.h"

/* The first problem the manifest reader reported, for the peer's status. */
struct feed_log {
	char first[300];
	size_t n;
};

static void feed_say(void *ctx, int is_error, const char *where, const char *msg)
{
	struct feed_log *fl = ctx;

	if (!is_error)
		return;
	if (fl->n++ == 0)
		snprintf(fl->first, sizeof(fl->first), "%s: %s", where, msg);
	tix_log_warn("sync: %s: %s", where, msg);
}

int sync_misp_keep_created(struct store *s, json_t *obj, const char *owner)
{
	const char *id = json_string_value(json_object_get(obj, "id"));
	const char *created = json_string_value(json_object_get(obj, "created"));
	const char *modified = json_string_value(json_object_get(obj, "modified"));
	struct tix_time have, mine, mod;
	char stored[64], text[32];

	if (id == NULL || created == NULL || tix_time_parse(created, &mine, NULL) != TIX_OK)
		return 0;
	if (store_object_created(s, id, owner, stored, sizeof(stored), NULL) != TIX_OK)
		return -1;
	if (stored[0] == '\0' || tix_time_parse(stored, &have, NULL) != TIX_OK ||
	    tix_time_cmp(&have, &mine) == 0)
		return 0;
	if (modified && tix_time_parse(modified, &mod, NULL) == TIX_OK &&
	    tix_time_cmp(&have, &mod) > 0)
		return 0; /* older than what is stored: the write rules decide */
	tix_time_format(&have, have.nsec % 1000000 == 0 ? 3 : 9, text);
	json_object_set_new(obj, "created", json_string(text));
	return 1;
}

struct feed_run {
	struct run *r;
	char *hashes; /* hashes.csv as served, or NULL */
	size_t hashes_len;
	size_t refused;
	char first_refusal[400];
	struct stix_problems probs;
	struct tix_buf body, bundle;
};

static void refuse(struct feed_run *f, const char *uuid, const char *fmt, ...) TIX_PRINTF(3, 4);

/* One event refused: nothing of it is stored, the reason is kept for
 * `tix peer status` and counted. */
static void refuse(struct feed_run *f, const char *uuid, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tix_log_warn("sync: peer %s: event %s refused: %s", f->r->peer.name, uuid, why);
	if (f->refused++ == 0)
		snprintf(f->first_refusal, sizeof(f->first_refusal), "event %s refused: %s", uuid,
		         why);
}

/* A timestamp as MISP writes them: a number or a string of digits. */
static int64_t misp_timestamp(const json_t *v)
{
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v)) {
		char *end;
		long long t = strtoll(json_string_value(v), &end, 10);

		return *end == '\0' && end != json_string_value(v) ? (int64_t)t : -1;
	}
	return -1;
}

/* Checks a fetched event against what the feed said about it: its uuid,
 * its timestamp, and (when hashes.csv lists it) that every hash listed is
 * of a value the event holds. 0, or -1 with the event refused. */
static int check_event(struct feed_run *f, const struct formats_feed_entry *ent, const char *data,
                       size_t len)
{
	struct tix_error err;
	json_t *doc = stix_json_parse(data, len, ent->uuid, &err), *ev;
	const char *uuid;
	int64_t ts;
	int rc = -1;

	if (doc == NULL) {
		char msg[200];

		refuse(f, ent->uuid, "not JSON: %s", tix_error_str(&err, msg, sizeof(msg)));
		return -1;
	}
	ev = json_object_get(doc, "Event");
	uuid = json_string_value(json_object_get(ev, "uuid"));
	if (!json_is_object(ev) || uuid == NULL) {
		refuse(f, ent->uuid, "not a MISP event ({\"Event\":{\"uuid\":...}})");
		goto out;
	}
	if (strcasecmp(uuid, ent->uuid) != 0) {
		refuse(f, ent->uuid, "the file holds event %.40s, not the one the manifest names",
		       uuid);
		goto out;
	}
	ts = misp_timestamp(json_object_get(ev, "timestamp"));
	if (ts >= 0 && ts != ent->timestamp) {
		refuse(f, ent->uuid, "the manifest says timestamp %lld, the event %lld",
		       (long long)ent->timestamp, (long long)ts);
		goto out;
	}
	if (f->hashes) {
		json_t *listed = json_object(), *held = json_object(), *m = json_object();
		struct tix_buf csv;
		const char *h;
		json_t *v;

		tix_buf_init(&csv, TIX_BUF_UNLIMITED);
		formats_misp_feed_entry(doc, m, &csv);
		formats_misp_hashes_for(tix_buf_str(&csv), tix_buf_len(&csv), ent->uuid, held);
		formats_misp_hashes_for(f->hashes, f->hashes_len, ent->uuid, listed);
		rc = 0;
		json_object_foreach (listed, h, v) {
			if (json_object_get(held, h) == NULL) {
				refuse(f, ent->uuid,
				       "hashes.csv lists %s, the md5 of no value the event holds",
				       h);
				rc = -1;
				break;
			}
		}
		tix_buf_release(&csv);
		json_decref(listed);
		json_decref(held);
		json_decref(m);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* Fetches, checks, maps and stores one event with its cursor. TIX_OK also
 * when the event was refused (f->refused counts it); an error only for
 * what stops the run (the link, the store). */
static enum tix_err pull_event(struct feed_run *f, const struct formats_feed_entry *ent,
                               struct tix_error *err)
{
	struct run *r = f->r;
	struct feed_log fl = {"", 0};
	struct formats_log log = {feed_say, &fl, 0, 0};
	struct store_peer_state next;
	char url[1400], name[48];
	json_t *bundle = NULL, *obj;
	size_t count = 0, i;
	int64_t stored = 0, rejected = 0, have = 0;
	enum tix_err e;

	snprintf(name, sizeof(name), "%s.json", ent->uuid);
	if (sync_url_resolve(r->peer.url, name, url, sizeof(url)) != 0)
		return tix_error_set(err, TIX_EINVAL, r->peer.url, "the event URL is too long");
	e = sync__http_do(&r->h, url, NULL, 0, err);
	sync__take_bytes(r);
	if (e == TIX_ETOOBIG) {
		refuse(f, ent->uuid, "%s", err->msg);
		tix_error_clear(err);
		goto counted;
	}
	if (e != TIX_OK)
		return e;
	r->res->pages++;
	if (r->h.status == 404 || r->h.status == 410) {
		refuse(f, ent->uuid, "the manifest lists it but %s is missing (HTTP %ld)", name,
		       r->h.status);
		goto counted;
	}
	if (r->h.status != 200)
		return sync__http_refused(&r->h, url, err);
	if (check_event(f, ent, tix_buf_str(&r->h.body), tix_buf_len(&r->h.body)) != 0)
		goto counted;
	tix_buf_reset(&f->bundle);
	if (formats_misp_to_stix(tix_buf_str(&r->h.body), tix_buf_len(&r->h.body), url, &f->bundle,
	                         &count, &log, err) != TIX_OK) {
		refuse(f, ent->uuid, "%s", err->msg);
		tix_error_clear(err);
		goto counted;
	}
	if (log.errors > 0) {
		refuse(f, ent->uuid, "%zu attributes cannot be mapped (first: %s)", log.errors,
		       fl.first);
		goto counted;
	}
	if ((bundle = stix_json_parse(tix_buf_str(&f->bundle), tix_buf_len(&f->bundle), url,
	                              err)) == NULL)
		return TIX_EPARSE;
	/* The event's objects and its cursor: one transaction. */
	if ((e = store_begin(r->s, err)) != TIX_OK)
		goto out;
	if ((e = store_peer_feed_get(r->s, r->peer.name, ent->uuid, &have, err)) != TIX_OK)
		goto rollback;
	if (have >= ent->timestamp) { /* another run stored it meanwhile */
		store_rollback(r->s);
		goto out;
	}
	json_array_foreach (json_object_get(bundle, "objects"), i, obj) {
		const char *type = json_string_value(json_object_get(obj, "type"));
		const char *oid = json_string_value(json_object_get(obj, "id"));
		int rc;

		/* as tix import does: a shared entity already stored stays as it is */
		if (type && oid && formats_misp_shared_entity(type) &&
		    store_id_stored(r->s, oid) == 1)
			continue;
		if (sync_misp_keep_created(r->s, obj, r->peer.org) < 0) {
			e = tix_error_set(err, TIX_ESTORE, r->peer.name,
			                  "the store could not be read");
			goto rollback;
		}
		rc = sync__ingest(r, obj, i, &f->probs, &f->body, err);
		if (rc == -2) {
			e = TIX_ESTORE;
			goto rollback;
		}
		if (rc == -1) {
			const char *id = json_string_value(json_object_get(obj, "id"));

			store_rollback(r->s);
			refuse(f, ent->uuid, "%s: %s", id ? id : "an object",
			       f->probs.count ? f->probs.msgs[0] : "refused by the write rules");
			goto counted;
		}
		stored += rc == 1;
	}
	if ((e = store_peer_feed_put(r->s, r->peer.name, ent->uuid, ent->timestamp, err)) != TIX_OK)
		goto rollback;
	next = r->st;
	next.objects_in += (int64_t)count;
	next.objects_stored += stored;
	next.bytes_in = r->st.bytes_in;
	next.bytes_out = r->st.bytes_out;
	if ((e = store_peer_state_put(r->s, r->peer.name, &next, err)) != TIX_OK)
		goto rollback;
	if ((e = store_commit(r->s, err)) != TIX_OK)
		goto out;
	r->st = next;
	r->res->objects_in += (int64_t)count;
	r->res->objects_stored += stored;
	goto out;
rollback:
	store_rollback(r->s);
	goto out;
counted:
	/* A refused event: counted (as one rejection per event), nothing stored. */
	rejected = 1;
	next = r->st;
	next.objects_rejected += rejected;
	next.bytes_in = r->st.bytes_in;
	next.bytes_out = r->st.bytes_out;
	if ((e = store_begin(r->s, err)) != TIX_OK)
		goto out;
	if ((e = store_peer_state_put(r->s, r->peer.name, &next, err)) != TIX_OK) {
		store_rollback(r->s);
		goto out;
	}
	if ((e = store_commit(r->s, err)) != TIX_OK)
		goto out;
	r->st = next;
	r->res->objects_rejected += rejected;
out:
	json_decref(bundle);
	return e;
}

enum tix_err sync__feed_pull(struct run *r, int *done, struct tix_error *err)
{
	struct feed_run f;
	struct feed_log fl = {"", 0};
	struct formats_log log = {feed_say, &fl, 0, 0};
	struct formats_feed_entry *ev = NULL;
	size_t n = 0, fetched = 0;
	char url[1400];
	enum tix_err e;

	*done = 0;
	memset(&f, 0, sizeof(f));
	f.r = r;
	stix_problems_init(&f.probs);
	tix_buf_init(&f.body, TIX_BUF_UNLIMITED);
	tix_buf_init(&f.bundle, TIX_BUF_UNLIMITED);
	e = sync__http_do(&r->h, r->peer.url, NULL, 0, err);
	sync__take_bytes(r);
	if (e != TIX_OK)
		goto out;
	if (r->h.status != 200) {
		e = sync__http_refused(&r->h, r->peer.url, err);
		goto out;
	}
	if ((e = formats_misp_manifest(tix_buf_str(&r->h.body), tix_buf_len(&r->h.body),
	                               r->peer.url, &ev, &n, &log, err)) != TIX_OK)
		goto out;
	if (fl.n > 0) {
		f.refused += fl.n;
		snprintf(f.first_refusal, sizeof(f.first_refusal), "%s", fl.first);
	}
	/* hashes.csv, where the feed serves one: checked against each event. */
	if (sync_url_resolve(r->peer.url, "hashes.csv", url, sizeof(url)) == 0) {
		e = sync__http_do(&r->h, url, NULL, 0, err);
		sync__take_bytes(r);
		if (e != TIX_OK && e != TIX_ETOOBIG)
			goto out;
		e = TIX_OK;
		tix_error_clear(err);
		if (r->h.status == 200 && !r->h.too_big) {
			f.hashes = tix_buf_detach(&r->h.body, &f.hashes_len);
			tix_buf_init(&r->h.body, r->cfg->max_page_bytes);
		}
	}
	for (size_t i = 0; i < n; i++) {
		int64_t have = 0;

		if (r->cfg->stop && *r->cfg->stop) {
			e = tix_error_set(err, TIX_EINVAL, r->peer.name, "stopped");
			goto out;
		}
		if ((e = store_peer_feed_get(r->s, r->peer.name, ev[i].uuid, &have, err)) != TIX_OK)
			goto out;
		if (have >= ev[i].timestamp)
			continue; /* stored at this timestamp or later */
		if (fetched++ >= r->cfg->max_pages) {
			e = tix_error_set(err, TIX_ETOOBIG, r->peer.name,
			                  "more than %zu events in one run: stopped (the rest next "
			                  "run)",
			                  r->cfg->max_pages);
			goto out;
		}
		if ((e = pull_event(&f, &ev[i], err)) != TIX_OK)
			goto out;
	}
	if (f.refused > 0) {
		if (f.refused > 1)
			e = tix_error_set(
			        err, TIX_EPARSE, "MISP feed",
			        "%zu events refused, nothing of them stored; the first: %s "
			        "(each is in the log)",
			        f.refused, f.first_refusal);
		else
			e = tix_error_set(err, TIX_EPARSE, "MISP feed", "%s; nothing of it stored",
			                  f.first_refusal);
		goto out;
	}
	*done = 1;
out:
	free(ev);
	free(f.hashes);
	stix_problems_release(&f.probs);
	tix_buf_release(&f.body);
	tix_buf_release(&f.bundle);
	return e;
}
