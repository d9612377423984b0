/*
 * db.h — the SQL engine under the store (issue 18): one small interface over
 * SQLite (db_sqlite.c) and PostgreSQL on libpq (db_pg.c), so the store's
 * logic is written once and only its SQL text differs. Only src/store/ sees it.
 *
 * Statements use SQLite's placeholders (?, ?NNN); on PostgreSQL they become
 * $NNN once, at prepare. A statement may give a second text for PostgreSQL
 * where the dialects differ (docs/architecture.md, "Two engines").
 *
 * Lifetimes follow SQLite's: bound text and blobs must stay valid until the
 * statement is stepped to its end or reset (they are not copied); a column's
 * pointer is valid until the next db_step, db_reset or db_finalize.
 */
#ifndef TIX_STORE_DB_H
#define TIX_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

enum db_engine { DB_SQLITE, DB_POSTGRES };

/* What a call did. Every failure leaves its message in db_errmsg. */
enum db_rc {
	DB_OK = 0,
	DB_ROW,         /* db_step: a row is ready to read */
	DB_DONE,        /* db_step: the statement has run to its end */
	DB_ERROR,       /* any other failure (SQL, types, ranges) */
	DB_UNIQUE,      /* a unique or primary key constraint refused the row */
	DB_FOREIGN_KEY, /* a foreign key refused the row (what it refers to is missing) */
	DB_BUSY,        /* locked, a serialisation failure or a deadlock: retry the transaction */
	DB_LOST,        /* the connection is gone (server stopped, backend killed):
	                 * answer 503; db_reconnect (or close and open again) when it returns */
	DB_NOMEM
};

/* The type of a column's value in the current row. */
enum db_type { DB_NULL, DB_INTEGER, DB_FLOAT, DB_TEXT, DB_BLOB };

struct db;
struct db_stmt;
/* The engines' own handles (sqlite3 and PGconn are typedefs of these). */
struct sqlite3;
struct pg_conn;

#define DB_OPEN_CREATE   1u /* SQLite: create the file when missing */
#define DB_OPEN_READONLY 2u /* SQLite: read only (a backup being checked) */

/* "postgresql://..." or "postgres://..." opens PostgreSQL (a libpq URL);
 * anything else is an SQLite path (":memory:" too). NULL with err set
 * (TIX_ESTORE, the engine's message; never a password) when it cannot
 * connect. */
struct db *db_open(const char *target, unsigned flags, struct tix_error *err);
void db_close(struct db *db);
/* 1 when target names a PostgreSQL database. */
int db_target_is_pg(const char *target);
enum db_engine db_engine(const struct db *db);
/* The native handles, for what only one engine has (SQLite's backup API
 * and SQL functions): NULL on the other engine. */
struct sqlite3 *db_sqlite(struct db *db);
struct pg_conn *db_pg(struct db *db);
/* The target with any password replaced by "***", for messages. */
const char *db_target(const struct db *db);

/* The last failure's message (the engine's own, passwords removed) and code. */
const char *db_errmsg(const struct db *db);
enum db_rc db_errcode(const struct db *db);
/* Sets err to TIX_ESTORE "what: message" and returns TIX_ESTORE. */
enum tix_err db_error(struct db *db, struct tix_error *err, const char *what);

/* After DB_LOST: connects again with the same target. Statements survive
 * (PostgreSQL prepares them again on their next step); an open transaction
 * is gone. SQLite connections are never lost: DB_OK. Success clears the
 * last failure (db_errcode is DB_OK again). */
enum db_rc db_reconnect(struct db *db);
/* 0 when an idle connection is known to be gone: on PostgreSQL what the
 * server sent meanwhile is read first, without waiting, so a server that
 * stopped or restarted (and closed the connection) is found before a
 * query fails on it. 1 otherwise (SQLite: always). */
int db_alive(struct db *db);

/* Runs a script of one or more statements without results (schemas,
 * migrations, settings); pg, when not NULL, is PostgreSQL's text. No
 * placeholders. */
enum db_rc db_exec(struct db *db, const char *sqlite, const char *pg);

/* Transactions. A write transaction takes SQLite's write lock at once
 * (BEGIN IMMEDIATE); on PostgreSQL it is READ COMMITTED and the store locks
 * what it must. A read transaction is one consistent snapshot on both
 * (PostgreSQL: REPEATABLE READ, READ ONLY). */
enum db_rc db_begin(struct db *db, int write);
enum db_rc db_commit(struct db *db);
enum db_rc db_rollback(struct db *db);
/* 1 when a transaction is open on db (whoever began it; on PostgreSQL also
 * a failed one not yet rolled back, or a connection in an unknown state). */
int db_in_transaction(struct db *db);

/* A statement of one's own: finalise it. pg may be NULL (same text). */
enum db_rc db_prepare(struct db *db, const char *sqlite, const char *pg, struct db_stmt **out);
void db_finalize(struct db_stmt *st);
/* A reset statement with no bindings from the connection's cache, prepared
 * on first use (the cache keeps the most recently used ones): never
 * finalise it. NULL on failure (db_errmsg says why). */
struct db_stmt *db_cached(struct db *db, const char *sqlite, const char *pg);

/* Parameters count from 1, like ?1. Text with len < 0 runs to its NUL. */
enum db_rc db_bind_int64(struct db_stmt *st, int i, int64_t v);
enum db_rc db_bind_double(struct db_stmt *st, int i, double v);
enum db_rc db_bind_text(struct db_stmt *st, int i, const char *v, ptrdiff_t len);
enum db_rc db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len);
enum db_rc db_bind_null(struct db_stmt *st, int i);
/* The same with a copy of v, for buffers that go before the statement's
 * last step (a statement handed to a caller to step). */
enum db_rc db_bind_text_copy(struct db_stmt *st, int i, const char *v, ptrdiff_t len);
enum db_rc db_bind_blob_copy(struct db_stmt *st, int i, const void *v, size_t len);
/* Binds v, or NULL when v is NULL. */
enum db_rc db_bind_text_or_null(struct db_stmt *st, int i, const char *v);

/* DB_ROW, DB_DONE or a failure. */
enum db_rc db_step(struct db_stmt *st);
/* Back to before its first step; the bindings stay. */
void db_reset(struct db_stmt *st);
void db_clear_bindings(struct db_stmt *st);

/* Marks st paged (on) or not (a cached statement keeps the mark). On
 * PostgreSQL a paged statement's result comes DB_PAGE_ROWS rows at a time
 * from a server-side cursor (DECLARE ... CURSOR, FETCH), so a read of any
 * size holds one page in client memory; db_step steps across the pages.
 * Inside a transaction the cursor is the transaction's (it reads the
 * transaction's snapshot; the statement must be done or reset before the
 * transaction ends, or its next step fails); outside one it is declared
 * WITH HOLD (the server keeps the result until the statement is done or
 * reset), so the caller's own transactions are never touched. db_reset
 * closes the cursor. For the reads that can return an unbounded number of
 * rows: a read of a few rows gains nothing and costs two round trips more.
 * On SQLite, which steps row by row anyway, it changes nothing. */
#define DB_PAGE_ROWS 1000
void db_set_paged(struct db_stmt *st, int on);
/* The most rows one result held in client memory at once since the last
 * db_rows_peak_reset (PostgreSQL; always 0 on SQLite, which holds one). */
int64_t db_rows_peak(const struct db *db);
void db_rows_peak_reset(struct db *db);

/* The current row's columns, from 0. Text and blobs: a pointer (NULL for
 * NULL) and, when len is not NULL, the length in bytes; text is also
 * NUL-terminated. Numbers from text are parsed as SQLite does. */
int db_column_count(struct db_stmt *st);
enum db_type db_column_type(struct db_stmt *st, int i);
int64_t db_column_int64(struct db_stmt *st, int i);
double db_column_double(struct db_stmt *st, int i);
const char *db_column_text(struct db_stmt *st, int i, size_t *len);
const void *db_column_blob(struct db_stmt *st, int i, size_t *len);

/* Rows inserted, updated or deleted by the last such statement. New rows'
 * keys come from RETURNING (both engines), not from a "last insert id". */
int64_t db_changes(struct db *db);

/* SQLite's placeholders in sql turned into PostgreSQL's: "?" is one past
 * the highest so far, "?NNN" is $NNN; quoted strings, identifiers and
 * comments are left alone. Returns a malloc'd text and the number of
 * parameters in *nparams, or NULL (out of memory, or a ?NNN past 32766). */
char *db_pg_placeholders(const char *sql, int *nparams);

#endif
