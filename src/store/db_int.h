/*
 * db_int.h — what db.c and the two engines (db_sqlite.c, db_pg.c) share:
 * the connection and statement layouts and each engine's functions, which
 * db.c calls by the connection's engine.
 */
#ifndef TIX_STORE_DB_INT_H
#define TIX_STORE_DB_INT_H

#include "store/db.h"

struct sqlite3_stmt;
struct pg_result;

/* One bound PostgreSQL parameter (SQLite binds straight into its statement). */
struct db_param {
	char num[32]; /* an integer or a double as text */
	char *owned;  /* a copy: text given with its length (libpq wants a NUL), *_copy */
	size_t owned_cap;
};

struct db_stmt {
	struct db *db;
	int cached; /* belongs to db's cache */
	/* SQLite */
	struct sqlite3_stmt *sq;
	/* PostgreSQL: a server-side prepared statement named name */
	char name[24];
	char *pgsql;  /* the text with $N placeholders */
	uint64_t gen; /* the connection generation it was prepared on */
	int nparams;
	struct db_param *params;
	const char **values;
	int *lengths, *formats;
	struct pg_result *res; /* the result being read, NULL before the first step */
	int row, nrows, ncols;
	unsigned char **blobs; /* bytea columns of the current row, decoded */
	size_t *blob_lens;
	/* PostgreSQL, db_set_paged: read through a server-side cursor, res
	 * holding one FETCH of at most DB_PAGE_ROWS rows */
	int paged;
	int cursor;    /* a cursor is open: its name is cursor_name */
	int hold;      /* it was declared WITH HOLD (outside a transaction) */
	int last_page; /* res is the cursor's last page (a short one) */
	char cursor_name[24];
	uint64_t cursor_gen; /* the connection generation it was declared on */
	uint64_t cursor_txn; /* and the transaction (db->txn), when not held */
};

#define DB_CACHE 64
struct db_cache_entry {
	char *key; /* the engine's text */
	uint64_t hash;
	struct db_stmt *st;
	uint64_t last_used;
};

struct db {
	enum db_engine engine;
	int borrowed; /* a view of a connection someone else closes: no cache */
	struct sqlite3 *sq;
	struct pg_conn *pg;
	char *shown;       /* the target, passwords replaced */
	char *secrets[4];  /* the password(s) of a URL, as written and decoded */
	uint64_t gen;      /* PostgreSQL: bumped by each reconnect */
	int pg_ending;     /* PostgreSQL: the server sent FATAL while idle (db_alive) */
	int pg_begin_read; /* PostgreSQL: a read transaction begun, its BEGIN not sent yet */
	int pg_read;       /* PostgreSQL: the transaction open is a read transaction */
	int pg_commit_out; /* PostgreSQL: a read's COMMIT sent, its result not read yet */
	uint64_t names;    /* PostgreSQL: statements named so far */
	int64_t changes;   /* PostgreSQL: db_changes */
	uint64_t txn;      /* PostgreSQL: bumped when a transaction begins or ends */
	int64_t rows_peak; /* PostgreSQL: the most rows one result held (db_rows_peak) */
	enum db_rc errcode;
	char errmsg[512];
	struct db_cache_entry cache[DB_CACHE];
	uint64_t clock;
};

/* Records a failure (the message scrubbed of db's secrets); returns rc. */
enum db_rc db__fail(struct db *db, enum db_rc rc, const char *fmt, ...) TIX_PRINTF(3, 4);
/* Replaces every secret of db in buf, in place, with "***" (shorter
 * secrets with as many '*'). */
void db__scrub(const struct db *db, char *buf);

enum db_rc db__sqlite_open(struct db *db, const char *path, unsigned flags);
void db__sqlite_close(struct db *db);
enum db_rc db__sqlite_exec(struct db *db, const char *sql);
enum db_rc db__sqlite_prepare(struct db_stmt *st, const char *sql, int persistent);
void db__sqlite_finalize(struct db_stmt *st);
enum db_rc db__sqlite_rc(struct db *db, int rc);

enum db_rc db__pg_open(struct db *db, const char *url);
void db__pg_close(struct db *db);
enum db_rc db__pg_reconnect(struct db *db);
int db__pg_alive(struct db *db);
enum db_rc db__pg_exec(struct db *db, const char *sql);
enum db_rc db__pg_begin(struct db *db, int write);
enum db_rc db__pg_end(struct db *db, const char *sql);
int db__pg_in_transaction(struct db *db);
enum db_rc db__pg_prepare(struct db_stmt *st, const char *sql);
void db__pg_finalize(struct db_stmt *st);
enum db_rc db__pg_bind(struct db_stmt *st, int i, const char *v, size_t len, int fmt, int copy);
enum db_rc db__pg_step(struct db_stmt *st);
void db__pg_reset(struct db_stmt *st);
enum db_type db__pg_column_type(struct db_stmt *st, int i);
const char *db__pg_value(struct db_stmt *st, int i, size_t *len);
const void *db__pg_blob(struct db_stmt *st, int i, size_t *len);

#endif
