/*
 * store/feeds.c — what the feeds (src/api/feeds.c, `tix feed`) need of the
 * store: how far a collection has changed (for ETags), and the named feeds
 * operators define (migration 11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_named_feeds[] = "CREATE TABLE feeds ("
                                         "  name TEXT PRIMARY KEY,"
                                         "  collection TEXT NOT NULL,"
                                         "  format TEXT NOT NULL,"
                                         "  options TEXT NOT NULL,"
                                         "  created INTEGER NOT NULL);";

enum tix_err store_collection_version(struct store *s, const struct store_collection *c,
                                      int64_t *last_added, int64_t *members, struct tix_error *err)
{
	sqlite3_stmt *st = store__cached(
	        s,
	        "SELECT coalesce(max(date_added), 0), count(*) FROM collection_objects WHERE ckey = ?1",
	        err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_int64(st, 1, c->key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*last_added = sqlite3_column_int64(st, 0);
		*members = sqlite3_column_int64(st, 1);
	} else {
		e = store__db_error(s, err, "reading a collection's version");
	}
	sqlite3_reset(st);
	return e;
}

enum tix_err store_feed_put(struct store *s, const struct store_feed *f, struct tix_error *err)
{
	sqlite3_stmt *st = store__cached(
	        s,
	        "INSERT INTO feeds (name, collection, format, options, created) VALUES (?1, ?2, ?3, ?4, "
	        "?5) ON CONFLICT (name) DO UPDATE SET collection = excluded.collection, format = "
	        "excluded.format, options = excluded.options",
	        err);
	struct tix_time now;
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	tix_time_now(&now);
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->format, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->options, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, tix_time_to_us(&now));
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "saving a feed");
	sqlite3_reset(st);
	return e;
}

static void feed_of(sqlite3_stmt *st, struct store_feed *f)
{
	const char *v;

	memset(f, 0, sizeof(*f));
	v = (const char *)sqlite3_column_text(st, 0);
	snprintf(f->name, sizeof(f->name), "%s", v ? v : "");
	v = (const char *)sqlite3_column_text(st, 1);
	snprintf(f->collection, sizeof(f->collection), "%s", v ? v : "");
	v = (const char *)sqlite3_column_text(st, 2);
	snprintf(f->format, sizeof(f->format), "%s", v ? v : "");
	v = (const char *)sqlite3_column_text(st, 3);
	snprintf(f->options, sizeof(f->options), "%s", v ? v : "{}");
	f->created = sqlite3_column_int64(st, 4);
}

enum tix_err store_feed_get(struct store *s, const char *name, struct store_feed *out,
                            struct tix_error *err)
{
	sqlite3_stmt *st = store__cached(
	        s, "SELECT name, collection, format, options, created FROM feeds WHERE name = ?1",
	        err);
	enum tix_err e = TIX_OK;
	int rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		feed_of(st, out);
	else if (rc == SQLITE_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, "feed", "no feed named '%s'", name);
	else
		e = store__db_error(s, err, "reading a feed");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_feed_list(struct store *s, int (*cb)(void *, const struct store_feed *),
                             void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = store__cached(
	        s, "SELECT name, collection, format, options, created FROM feeds ORDER BY name",
	        err);
	struct store_feed f;
	enum tix_err e = TIX_OK;
	int rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		feed_of(st, &f);
		if (cb(arg, &f) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing feeds");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_feed_delete(struct store *s, const char *name, struct tix_error *err)
{
	sqlite3_stmt *st = store__cached(s, "DELETE FROM feeds WHERE name = ?1", err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "removing a feed");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, "feed", "no feed named '%s'", name);
	sqlite3_reset(st);
	return e;
}
