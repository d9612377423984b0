/*
 * store/engine.c — the store's seam to the engine layer (db.h): on SQLite
 * sqlite.c owns the connection and its statement cache and the modules see
 * them through db.h views; a store on PostgreSQL (store_open of a URL) has
 * a db.h connection and its cache; transactions and the data version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct db *store__engine(struct store *s)
{
	if (s->pg)
		return s->pg;
	/* A view of the store's own connection: it owns nothing, so it is
	 * never closed (store_close closes the connection). */
	if (s->eng.sq == NULL) {
		s->eng.engine = DB_SQLITE;
		s->eng.borrowed = 1; /* statements come from store__stmt */
		s->eng.sq = s->db;
	}
	return &s->eng;
}

struct db_stmt *store__stmt(struct store *s, const char *sqlite, const char *pg,
                            struct tix_error *err)
{
	sqlite3_stmt *st;

	if (s->pg) {
		struct db_stmt *p = db_cached(s->pg, sqlite, pg);

		if (p == NULL)
			db_error(s->pg, err, "preparing a query");
		return p;
	}
	if ((st = store__cached(s, sqlite, err)) == NULL)
		return NULL;
	/* The statement's slot in the cache gives its db.h view. */
	for (int i = 0; i < STORE_QCACHE; i++) {
		if (s->qcache[i].st == st) {
			struct db_stmt *v = &s->eng_st[i];

			v->db = store__engine(s);
			v->sq = st;
			v->cached = 1;
			return v;
		}
	}
	tix_error_set(err, TIX_ESTORE, "store", "a cached statement is not in the cache");
	return NULL;
}

struct db_stmt *store__held(struct store *s, int which, struct tix_error *err)
{
	struct db_stmt *v = &s->eng_held[which];

	if (s->pg)
		return store__stmt(s, store__held_sql[which], store__held_pg_sql[which], err);
	v->db = store__engine(s);
	v->sq = s->st[which];
	v->cached = 1;
	return v;
}

struct store_audience store__db_audience(struct db_stmt *st, int col)
{
	struct store_audience a = {
	        (int)db_column_int64(st, col),     (unsigned)db_column_int64(st, col + 1),
	        db_column_text(st, col + 2, NULL), db_column_text(st, col + 3, NULL),
	        db_column_text(st, col + 4, NULL), db_column_text(st, col + 5, NULL),
	};
	return a;
}

struct store_row store__db_row(struct db_stmt *st)
{
	size_t len = 0;
	const char *body = db_column_text(st, 4, &len);
	struct store_row row = {
	        db_column_text(st, 0, NULL),
	        db_column_text(st, 1, NULL),
	        db_column_text(st, 2, NULL),
	        db_column_int64(st, 3),
	        body,
	        len,
	        store__db_audience(st, 5),
	};
	return row;
}

enum tix_err store__fail(struct store *s, struct tix_error *err, const char *what)
{
	return db_error(store__engine(s), err, what);
}

/* PostgreSQL has no PRAGMA data_version: the meta row 'data_version'
 * stands for it (docs/architecture.md, "Two engines"), moved by every write
 * transaction that commits through store__write_end, last before its
 * COMMIT so that its row lock is held only while the commit is made. Made
 * by the first commit that moves it (migrating a new database). */
#define PG_DATA_VERSION_BUMP                                                                       \
	"INSERT INTO meta (key, value) VALUES ('data_version', '1') ON CONFLICT (key)"             \
	" DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)"

enum tix_err store__write_begin(struct store *s, struct tix_error *err)
{
	if (s->pg == NULL)
		return store__exec(s, "BEGIN IMMEDIATE", err);
	if (db_begin(s->pg, 1) != DB_OK)
		return store__fail(s, err, "beginning a transaction");
	s->pg_writes++;
	s->pg_added_begun = s->pg_added;
	s->pg_check_begun = s->pg_stats_check_at;
	return TIX_OK;
}

/* A write transaction on PostgreSQL ended without its commit: the versions
 * it stored are not in the tables, nor what its ANALYZE found of them. */
static void pg_write_undone(struct store *s)
{
	s->pg_added = s->pg_added_begun;
	s->pg_stats_check_at = s->pg_check_begun;
}

static enum tix_err write_end(struct store *s, enum tix_err e, int move, struct tix_error *err)
{
	if (s->pg == NULL) {
		if (e == TIX_OK && (e = store__exec(s, "COMMIT", err)) == TIX_OK)
			return TIX_OK;
		store__exec(s, "ROLLBACK", NULL);
		return e;
	}
	if (e == TIX_OK) {
		struct db_stmt *st = move ? db_cached(s->pg, PG_DATA_VERSION_BUMP, NULL) : NULL;

		if (move && (st == NULL || db_step(st) != DB_DONE))
			e = store__fail(s, err, "moving the data version");
		else if (db_commit(s->pg) == DB_OK) {
			s->own_commits++;
			return TIX_OK;
		} else
			e = store__fail(s, err, "committing");
	}
	db_rollback(s->pg);
	pg_write_undone(s);
	return e;
}

enum tix_err store__write_end(struct store *s, enum tix_err e, struct tix_error *err)
{
	return write_end(s, e, 1, err);
}

enum tix_err store__write_end_audit(struct store *s, enum tix_err e, struct tix_error *err)
{
	return write_end(s, e, 0, err);
}

uint64_t store__pg_data_version(struct store *s)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'data_version'", NULL, NULL);
	uint64_t v = 0;
	enum db_rc rc = st ? db_step(st) : DB_ERROR;

	if (rc == DB_ROW)
		v = (uint64_t)db_column_int64(st, 0) & 0x7fffffffu;
	else if (rc != DB_DONE) /* not known: a number not given before, that no cache trusts */
		v = 0x80000000u | (++s->pg_dv_misses & 0x7fffffffu);
	if (st)
		db_reset(st);
	return v;
}

/* PostgreSQL plans a statement from the statistics ANALYZE left, and a
 * handle's prepared statements keep their plan until those change. Tables
 * that the statistics call empty (a new database, or one whose only rows
 * were rolled back and vacuumed: pullers killed in their first
 * transaction) then get plans that scan whole tables per row as they fill
 * inside one transaction, which no autovacuum sees: a 5,000-object pull ran
 * for minutes, one superseding UPDATE nested scans of objects over every
 * membership (issue 18). So a handle that has stored at least as many
 * versions as the statistics count (PG_STATS_FLOOR at least) analyses the
 * tables a version is written to, inside its transaction (ANALYZE counts
 * the transaction's own rows, and every plan over them is made again): at
 * most a few times a run, the table doubling in between, and never for a
 * small write to a large store. The write holds the date_added lock, so two
 * handles never analyse at once.
 *
 * ANALYZE waits for a lock on each table that conflicts with another
 * session's ANALYZE, VACUUM, CREATE INDEX or LOCK TABLE: waiting there
 * would hold up the write (and the date_added lock every other writer
 * waits for) for as long as that session keeps it. So it waits
 * PG_ANALYSE_WAIT at most, in a savepoint: on a lock not had in time the
 * savepoint is rolled back, the write goes on with the plans it has, and
 * the next write transaction tries again (its first version). */
#define PG_STATS_FLOOR  32
#define PG_ANALYSE_WAIT "100ms"
#define PG_RELTUPLES                                                                               \
	"SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = CAST('objects' AS regclass)"
#define PG_ANALYZE                                                                                 \
	"ANALYZE objects, collection_objects, collection_audience, object_owners, value_index,"    \
	" value_ip, value_stage, text_index, object_refs_index, sighting_index, source_digests"
/* The transaction's lock_timeout, and PG_ANALYSE_WAIT for the savepoint */
#define PG_ANALYSE_LOCK_WAIT                                                                       \
	"SELECT current_setting('lock_timeout'), set_config('lock_timeout', '" PG_ANALYSE_WAIT     \
	"', true)"
#define PG_LOCK_WAIT_BACK "SELECT set_config('lock_timeout', ?1, true)"

static enum tix_err pg_reltuples(struct store *s, int64_t *n, struct tix_error *err)
{
	struct db_stmt *st = db_cached(s->pg, PG_RELTUPLES, NULL);
	enum db_rc rc = st ? db_step(st) : DB_ERROR;

	if (rc != DB_ROW) {
		if (st)
			db_reset(st);
		return store__fail(s, err, "reading the table statistics");
	}
	*n = db_column_int64(st, 0);
	db_reset(st);
	return TIX_OK;
}

/* ANALYZE in a savepoint, waiting PG_ANALYSE_WAIT at most for each table's
 * lock: *analysed 0 when a lock was not had in time (nothing analysed). */
static enum tix_err pg_analyse(struct store *s, int *analysed, struct tix_error *err)
{
	struct db_stmt *st;
	char was[64];
	enum db_rc rc;

	*analysed = 0;
	if (db_exec(s->pg, "SAVEPOINT tix_analyse", NULL) != DB_OK)
		return store__fail(s, err, "analysing the tables");
	st = db_cached(s->pg, PG_ANALYSE_LOCK_WAIT, NULL);
	if (st == NULL || db_step(st) != DB_ROW) {
		if (st)
			db_reset(st);
		return store__fail(s, err, "analysing the tables");
	}
	snprintf(was, sizeof(was), "%s", db_column_text(st, 0, NULL));
	db_reset(st);
	rc = db_exec(s->pg, PG_ANALYZE, NULL);
	if (rc == DB_BUSY) /* lock_timeout (or a deadlock): given up */
		return db_exec(s->pg, "ROLLBACK TO SAVEPOINT tix_analyse; RELEASE tix_analyse",
		               NULL) == DB_OK
		               ? TIX_OK
		               : store__fail(s, err, "giving up analysing the tables");
	if (rc != DB_OK)
		return store__fail(s, err, "analysing the tables");
	/* the rest of the transaction waits for locks as it did before */
	if ((st = db_cached(s->pg, PG_LOCK_WAIT_BACK, NULL)) == NULL)
		return store__fail(s, err, "analysing the tables");
	db_bind_text(st, 1, was, -1);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_ROW || db_exec(s->pg, "RELEASE tix_analyse", NULL) != DB_OK)
		return store__fail(s, err, "analysing the tables");
	*analysed = 1;
	return TIX_OK;
}

enum tix_err store__pg_version_added(struct store *s, struct tix_error *err)
{
	int64_t known;
	enum tix_err e;
	int analysed;

	if (s->pg == NULL)
		return TIX_OK;
	if (s->pg_stats_check_at == 0)
		s->pg_stats_check_at = PG_STATS_FLOOR;
	if (++s->pg_added < s->pg_stats_check_at || s->pg_analyse_put_off == s->pg_writes)
		return TIX_OK;
	if ((e = pg_reltuples(s, &known, err)) != TIX_OK)
		return e;
	if (known <= s->pg_added) {
		if ((e = pg_analyse(s, &analysed, err)) != TIX_OK)
			return e;
		if (!analysed) { /* looked at again in the next transaction */
			s->pg_analyse_put_off = s->pg_writes;
			return TIX_OK;
		}
		if ((e = pg_reltuples(s, &known, err)) != TIX_OK)
			return e;
		s->pg_added = 0;
	}
	s->pg_stats_check_at = s->pg_added + (known > PG_STATS_FLOOR ? known : PG_STATS_FLOOR);
	return TIX_OK;
}

int store_is_postgres(const struct store *s)
{
	return s->pg != NULL;
}

const char *store_name(const struct store *s, const char *path)
{
	return s->pg ? db_target(s->pg) : path;
}

int store_lost(struct store *s)
{
	return s->pg && db_errcode(s->pg) == DB_LOST;
}

enum tix_err store_reconnect(struct store *s, struct tix_error *err)
{
	if (s->pg == NULL || (db_errcode(s->pg) != DB_LOST && db_alive(s->pg)))
		return TIX_OK;
	/* A transaction the connection had went with it, never committed. */
	if (s->in_tx) {
		s->in_tx = 0;
		s->last_stamp = s->saved_stamp;
		pg_write_undone(s);
	}
	if (db_reconnect(s->pg) != DB_OK)
		return tix_error_set(err, TIX_ESTORE, "store", "the database is unavailable: %s",
		                     db_errmsg(s->pg));
	return TIX_OK;
}
