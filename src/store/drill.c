/*
 * store/drill.c — what cyber drills (src/drill/, issue 23) keep in the
 * store besides their objects: each exercise loaded (its scenario, state
 * and clock; migration 23) and which of its injects were published when.
 */
#include <stdlib.h>
#include <string.h>

#include "store/drill.h"
#include "store/store_int.h"

const char store__schema_drill[] = "CREATE TABLE drill_exercises ("
                                   "  id TEXT PRIMARY KEY,"
                                   "  name TEXT NOT NULL,"
                                   "  scenario TEXT NOT NULL,"
                                   "  state TEXT NOT NULL,"
                                   "  collection TEXT NOT NULL,"
                                   "  scheduled INTEGER NOT NULL,"
                                   "  started INTEGER NOT NULL DEFAULT 0,"
                                   "  paused_at INTEGER NOT NULL DEFAULT 0,"
                                   "  paused_total INTEGER NOT NULL DEFAULT 0,"
                                   "  purged INTEGER NOT NULL DEFAULT 0,"
                                   "  created INTEGER NOT NULL);"
                                   "CREATE TABLE drill_published ("
                                   "  exercise TEXT NOT NULL,"
                                   "  inject TEXT NOT NULL,"
                                   "  at INTEGER NOT NULL,"
                                   "  PRIMARY KEY (exercise, inject));";

/* The same on PostgreSQL (docs/architecture.md, "Two engines"). */
const char store__pg_schema_drill[] = "CREATE TABLE drill_exercises ("
                                      "  id TEXT PRIMARY KEY,"
                                      "  name TEXT NOT NULL,"
                                      "  scenario TEXT NOT NULL,"
                                      "  state TEXT NOT NULL,"
                                      "  collection TEXT NOT NULL,"
                                      "  scheduled BIGINT NOT NULL,"
                                      "  started BIGINT NOT NULL DEFAULT 0,"
                                      "  paused_at BIGINT NOT NULL DEFAULT 0,"
                                      "  paused_total BIGINT NOT NULL DEFAULT 0,"
                                      "  purged BIGINT NOT NULL DEFAULT 0,"
                                      "  created BIGINT NOT NULL);"
                                      "CREATE TABLE drill_published ("
                                      "  exercise TEXT NOT NULL,"
                                      "  inject TEXT NOT NULL,"
                                      "  at BIGINT NOT NULL,"
                                      "  PRIMARY KEY (exercise, inject));";

#define DRILL_COLS                                                                                 \
	"id, name, scenario, state, collection, scheduled, started, paused_at, paused_total,"      \
	" purged, created"

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

enum tix_err store_drill_add(struct store *s, const struct store_drill *d, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e;

	st = store__stmt(s,
	                 "INSERT INTO drill_exercises (" DRILL_COLS ")"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	                 NULL, err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, d->id, -1);
	db_bind_text(st, 2, d->name, -1);
	db_bind_text(st, 3, d->scenario, -1);
	db_bind_text(st, 4, d->state, -1);
	db_bind_text(st, 5, d->collection, -1);
	db_bind_int64(st, 6, d->scheduled_us);
	db_bind_int64(st, 7, d->started_us);
	db_bind_int64(st, 8, d->paused_at_us);
	db_bind_int64(st, 9, d->paused_total_us);
	db_bind_int64(st, 10, d->purged_us);
	db_bind_int64(st, 11, d->created_us);
	e = db_step(st) == DB_DONE ? TIX_OK : store__fail(s, err, "storing an exercise");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

static void from_row(struct db_stmt *st, struct store_drill *d)
{
	memset(d, 0, sizeof(*d));
	copy(d->id, sizeof(d->id), db_column_text(st, 0, NULL));
	copy(d->name, sizeof(d->name), db_column_text(st, 1, NULL));
	d->scenario = strdup(db_column_text(st, 2, NULL) ? db_column_text(st, 2, NULL) : "");
	copy(d->state, sizeof(d->state), db_column_text(st, 3, NULL));
	copy(d->collection, sizeof(d->collection), db_column_text(st, 4, NULL));
	d->scheduled_us = db_column_int64(st, 5);
	d->started_us = db_column_int64(st, 6);
	d->paused_at_us = db_column_int64(st, 7);
	d->paused_total_us = db_column_int64(st, 8);
	d->purged_us = db_column_int64(st, 9);
	d->created_us = db_column_int64(st, 10);
}

enum tix_err store_drill_get(struct store *s, const char *id, struct store_drill *out,
                             struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT " DRILL_COLS " FROM drill_exercises WHERE id = ?1", NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		from_row(st, out);
		if (out->scenario == NULL)
			e = tix_error_set(err, TIX_ENOMEM, id, "out of memory");
	} else if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, id,
		                  "no exercise with this id (tix drill load)");
	} else {
		e = store__fail(s, err, "reading an exercise");
	}
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_drill_of_collection(struct store *s, const char *collection_id, char out[64],
                                       struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT id FROM drill_exercises WHERE collection = ?1 AND purged = 0", NULL,
	        err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	out[0] = '\0';
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, collection_id, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		copy(out, 64, db_column_text(st, 0, NULL));
	else if (rc == DB_DONE)
		e = TIX_ENOTFOUND;
	else
		e = store__fail(s, err, "reading an exercise");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

void store_drill_release(struct store_drill *d)
{
	free(d->scenario);
	d->scenario = NULL;
}

enum tix_err store_drill_update(struct store *s, const struct store_drill *d, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "UPDATE drill_exercises SET state = ?2, started = ?3,"
	                                 " paused_at = ?4, paused_total = ?5, purged = ?6"
	                                 " WHERE id = ?1",
	                                 NULL, err);
	enum tix_err e;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, d->id, -1);
	db_bind_text(st, 2, d->state, -1);
	db_bind_int64(st, 3, d->started_us);
	db_bind_int64(st, 4, d->paused_at_us);
	db_bind_int64(st, 5, d->paused_total_us);
	db_bind_int64(st, 6, d->purged_us);
	e = db_step(st) == DB_DONE ? TIX_OK : store__fail(s, err, "updating an exercise");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_drill_published_add(struct store *s, const char *exercise, const char *inject,
                                       int64_t at_us, int *added, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "INSERT INTO drill_published (exercise, inject, at)"
	                                 " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	                                 NULL, err);
	enum tix_err e;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, exercise, -1);
	db_bind_text(st, 2, inject, -1);
	db_bind_int64(st, 3, at_us);
	e = db_step(st) == DB_DONE ? TIX_OK : store__fail(s, err, "recording a published inject");
	if (added)
		*added = e == TIX_OK && db_changes(store__engine(s)) > 0;
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_drill_published_list(struct store *s, const char *exercise,
                                        int (*cb)(void *, const char *, int64_t), void *arg,
                                        struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT inject, at FROM drill_published"
	                                 " WHERE exercise = ?1 ORDER BY at, inject",
	                                 NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, exercise, -1);
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL), db_column_int64(st, 1)))
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing published injects");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_drill_list(struct store *s, int (*cb)(void *, const struct store_drill *),
                              void *arg, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT " DRILL_COLS " FROM drill_exercises"
	                                 " WHERE state <> 'purged' ORDER BY created, id",
	                                 NULL, err);
	struct store_drill d;
	enum tix_err e = TIX_OK;
	enum db_rc rc = DB_DONE;
	int stop = 0;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	while (!stop && (rc = db_step(st)) == DB_ROW) {
		from_row(st, &d);
		if (d.scenario == NULL) {
			e = tix_error_set(err, TIX_ENOMEM, "drill", "out of memory");
			break;
		}
		stop = cb(arg, &d);
		store_drill_release(&d);
	}
	if (e == TIX_OK && !stop && rc != DB_DONE)
		e = store__fail(s, err, "listing exercises");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_drill_running(struct store *s, int (*cb)(void *, const char *id), void *arg,
                                 struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT id FROM drill_exercises WHERE state = 'running'"
	                                 " ORDER BY created, id",
	                                 NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL) ? db_column_text(st, 0, NULL) : ""))
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing running exercises");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}
