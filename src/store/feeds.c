/*
 * store/feeds.c — what the feeds (src/api/feeds.c, `tix feed`) need of the
 * store: how far a collection and the sightings have changed (for ETags; the
 * sightings' counter of migration 19), and the named feeds operators define
 * (migration 11). Written on the engine layer (db.h): every statement here
 * runs unchanged on SQLite and PostgreSQL.
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

/* The same on PostgreSQL (docs/architecture.md, "Two engines"). */
const char store__pg_schema_named_feeds[] = "CREATE TABLE feeds ("
                                            "  name TEXT PRIMARY KEY,"
                                            "  collection TEXT NOT NULL,"
                                            "  format TEXT NOT NULL,"
                                            "  options TEXT NOT NULL,"
                                            "  created BIGINT NOT NULL);";

enum tix_err store_collection_version(struct store *s, const struct store_collection *c,
                                      int64_t *last_added, int64_t *members, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s,
	        "SELECT coalesce(max(date_added), 0), count(*) FROM collection_objects WHERE ckey = ?1",
	        NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, c->key);
	if (db_step(st) == DB_ROW) {
		*last_added = db_column_int64(st, 0);
		*members = db_column_int64(st, 1);
	} else {
		e = store__fail(s, err, "reading a collection's version");
	}
	db_reset(st);
	return e;
}

/* Migration 19 (issue 15): the sightings' counter, one text for both
 * engines. An existing store starts it at 0: its feeds' old ETags were made
 * of other numbers. */
const char store__schema_sightings_version[] =
        "INSERT INTO meta (key, value) VALUES ('sightings_version', '0');";

enum tix_err store_sightings_version(struct store *s, int64_t *version, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'sightings_version'", NULL,
	        err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (db_step(st) == DB_ROW)
		*version = db_column_int64(st, 0);
	else
		e = store__fail(s, err, "reading the sightings' version");
	db_reset(st);
	return e;
}

/* One statement for either engine (its ?1 a key when it has one), reset
 * and stepped. */
static enum tix_err bump(struct store *s, const char *sql, int64_t key, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, sql, NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (key > 0)
		db_bind_int64(st, 1, key);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "counting a change of the sightings");
	db_reset(st);
	return e;
}

enum tix_err store__sightings_moved(struct store *s, struct tix_error *err)
{
	return bump(s, STORE_SIGHTINGS_BUMP, 0, err);
}

enum tix_err store__sighting_member_moved(struct store *s, int64_t vid, struct tix_error *err)
{
	return bump(
	        s, STORE_SIGHTINGS_BUMP " AND EXISTS (SELECT 1 FROM sighting_index WHERE vid = ?1)",
	        vid, err);
}

enum tix_err store__sightings_collection_moved(struct store *s, int64_t ckey, struct tix_error *err)
{
	return bump(s,
	            STORE_SIGHTINGS_BUMP
	            " AND EXISTS (SELECT 1 FROM collection_objects m"
	            " JOIN sighting_index x ON x.vid = m.vid WHERE m.ckey = ?1)",
	            ckey, err);
}

enum tix_err store_feed_put(struct store *s, const struct store_feed *f, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s,
	        "INSERT INTO feeds (name, collection, format, options, created) VALUES (?1, ?2, ?3, ?4, "
	        "?5) ON CONFLICT (name) DO UPDATE SET collection = excluded.collection, format = "
	        "excluded.format, options = excluded.options",
	        NULL, err);
	struct tix_time now;
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	tix_time_now(&now);
	db_bind_text(st, 1, f->name, -1);
	db_bind_text(st, 2, f->collection, -1);
	db_bind_text(st, 3, f->format, -1);
	db_bind_text(st, 4, f->options, -1);
	db_bind_int64(st, 5, tix_time_to_us(&now));
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "saving a feed");
	db_reset(st);
	return e;
}

/* Copies text column col into out (size bytes), or dflt when it is NULL. */
static void text_of(struct db_stmt *st, int col, char *out, size_t size, const char *dflt)
{
	const char *v = db_column_text(st, col, NULL);

	snprintf(out, size, "%s", v ? v : dflt);
}

static void feed_of(struct db_stmt *st, struct store_feed *f)
{
	memset(f, 0, sizeof(*f));
	text_of(st, 0, f->name, sizeof(f->name), "");
	text_of(st, 1, f->collection, sizeof(f->collection), "");
	text_of(st, 2, f->format, sizeof(f->format), "");
	text_of(st, 3, f->options, sizeof(f->options), "{}");
	f->created = db_column_int64(st, 4);
}

enum tix_err store_feed_get(struct store *s, const char *name, struct store_feed *out,
                            struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT name, collection, format, options, created FROM feeds WHERE name = ?1",
	        NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, name, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		feed_of(st, out);
	else if (rc == DB_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, "feed", "no feed named '%s'", name);
	else
		e = store__fail(s, err, "reading a feed");
	db_reset(st);
	return e;
}

enum tix_err store_feed_list(struct store *s, int (*cb)(void *, const struct store_feed *),
                             void *arg, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT name, collection, format, options, created FROM feeds ORDER BY name",
	        NULL, err);
	struct store_feed f;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	while ((rc = db_step(st)) == DB_ROW) {
		feed_of(st, &f);
		if (cb(arg, &f) != 0)
			break;
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing feeds");
	db_reset(st);
	return e;
}

enum tix_err store_feed_delete(struct store *s, const char *name, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, "DELETE FROM feeds WHERE name = ?1", NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, name, -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "removing a feed");
	else if (db_changes(store__engine(s)) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, "feed", "no feed named '%s'", name);
	db_reset(st);
	return e;
}
