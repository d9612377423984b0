/*
 * store/db_pg.c — the PostgreSQL engine of db.h on libpq: a connection from
 * a URL, server-side prepared statements (PQprepare, once per connection and
 * prepared again after a reconnect), paged reads through server-side cursors,
 * text parameters and results (bytea in binary), and SQLSTATEs turned into
 * db.h's codes.
 */
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_int.h"

/* Type oids (src/include/catalog/pg_type.h; fixed since PostgreSQL 7). */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700
};

/* Notices ("table does not exist, skipping") are not errors: not printed.
 * A FATAL one came while the connection was idle: the server is ending it
 * (shutting down, the backend terminated), which db_alive reports. */
static void quiet(void *arg, const PGresult *r)
{
	struct db *db = arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);

	if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
		db->pg_ending = 1;
}

/* Records the failure of a call that gave result r (NULL: none). Only the
 * primary message: DETAIL lines quote the rows' values, which must not reach
 * a client in an error. */
static enum db_rc fail(struct db *db, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	enum db_rc rc = DB_ERROR;

	if (msg == NULL || msg[0] == '\0')
		msg = r ? PQresultErrorMessage(r) : NULL;
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(db->pg);
	if (PQstatus(db->pg) == CONNECTION_BAD ||
	    (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)))
		rc = DB_LOST; /* connection exceptions; the server shutting down */
	else if (state && strcmp(state, "23505") == 0)
		rc = DB_UNIQUE;
	else if (state && strcmp(state, "23503") == 0)
		rc = DB_FOREIGN_KEY;
	else if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	                   strcmp(state, "55P03") == 0))
		rc = DB_BUSY;
	else if (r == NULL)
		rc = DB_NOMEM;
	return db__fail(db, rc, "%s", msg && msg[0] ? msg : "unknown PostgreSQL error");
}

enum db_rc db__pg_open(struct db *db, const char *url)
{
	/* Defaults first: the URL (expanded from dbname) overrides them. */
	static const char *const keys[] = {"connect_timeout", "application_name", "client_encoding",
	                                   "dbname", NULL};
	const char *const vals[] = {"10", "tix", "UTF8", url, NULL};

	if ((db->pg = PQconnectdbParams(keys, vals, 1)) == NULL)
		return db__fail(db, DB_NOMEM, "out of memory");
	if (PQstatus(db->pg) != CONNECTION_OK)
		return db__fail(db, DB_ERROR, "%s", PQerrorMessage(db->pg));
	PQsetNoticeReceiver(db->pg, quiet, db);
	db->gen = 1;
	return DB_OK;
}

void db__pg_close(struct db *db)
{
	PQfinish(db->pg);
	db->pg = NULL;
}

enum db_rc db__pg_reconnect(struct db *db)
{
	PQreset(db->pg);
	db->pg_ending = 0;
	db->pg_begin_read = db->pg_read = db->pg_commit_out = 0; /* gone with the connection */
	db->gen++; /* the server forgot every prepared statement */
	if (PQstatus(db->pg) != CONNECTION_OK)
		return db__fail(db, DB_LOST, "%s", PQerrorMessage(db->pg));
	return DB_OK;
}

static void settle(struct db *db);

int db__pg_alive(struct db *db)
{
	settle(db);
	/* libpq's socket is non-blocking: this reads only what has come and
	 * never waits. A server ending the connection sends a FATAL message
	 * (PQisBusy hands it to quiet, as the connection is idle), then the
	 * end of the stream (a failed read). */
	if (PQstatus(db->pg) != CONNECTION_OK || PQconsumeInput(db->pg) != 1)
		return 0;
	(void)PQisBusy(db->pg);
	return !db->pg_ending && PQstatus(db->pg) == CONNECTION_OK;
}

#define BEGIN_READ "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* Reads the result of a read transaction's COMMIT sent by db__pg_end,
 * before the connection is used again. A read-only transaction has
 * nothing to lose: a COMMIT that failed means a lost connection, which
 * the next call finds. */
static void settle(struct db *db)
{
	PGresult *r;

	if (!db->pg_commit_out)
		return;
	db->pg_commit_out = 0;
	while ((r = PQgetResult(db->pg)) != NULL)
		PQclear(r);
}

/* Sends the BEGIN of a read transaction that no statement took along. */
static enum db_rc send_begin(struct db *db)
{
	if (!db->pg_begin_read)
		return DB_OK;
	db->pg_begin_read = 0;
	return db__pg_exec(db, BEGIN_READ);
}

/* A write transaction begins at once. A read transaction's BEGIN waits
 * for its first statement and goes with it in one round trip (a pipeline,
 * in step_begun): REPEATABLE READ takes its snapshot at the first
 * statement, not at BEGIN, so what the transaction reads is the same. A
 * read that runs no statement costs no round trip. */
enum db_rc db__pg_begin(struct db *db, int write)
{
	if (write || db__pg_in_transaction(db))
		return db__pg_exec(db, write ? "BEGIN" : BEGIN_READ);
	db->pg_begin_read = db->pg_read = 1;
	db->txn++; /* as db__pg_exec counts a transaction that began */
	return DB_OK;
}

/* COMMIT or ROLLBACK; of a read transaction whose BEGIN was never sent,
 * nothing to send. */
enum db_rc db__pg_end(struct db *db, const char *sql)
{
	int read = db->pg_read;

	db->pg_read = 0;
	if (db->pg_begin_read) {
		db->pg_begin_read = 0;
		db->txn++;
		return DB_OK;
	}
	/* A read's COMMIT is sent and not waited for: the server ends the
	 * transaction at once, and its answer is read at the connection's
	 * next use (settle), while the caller answers its client. */
	settle(db);
	if (read && strcmp(sql, "COMMIT") == 0 && PQtransactionStatus(db->pg) == PQTRANS_INTRANS &&
	    PQsendQuery(db->pg, sql)) {
		db->pg_commit_out = 1;
		db->txn++;
		return DB_OK;
	}
	return db__pg_exec(db, sql);
}

enum db_rc db__pg_exec(struct db *db, const char *sql)
{
	enum db_rc sent = (settle(db), send_begin(db));
	int idle = PQtransactionStatus(db->pg) == PQTRANS_IDLE;
	PGresult *r = PQexec(db->pg, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	enum db_rc rc = sent;

	/* A transaction began or ended: the cursors of paged reads declared
	 * in the one before are gone (close_cursor). */
	if (idle != (PQtransactionStatus(db->pg) == PQTRANS_IDLE))
		db->txn++;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
		rc = fail(db, r);
	PQclear(r);
	return rc;
}

int db__pg_in_transaction(struct db *db)
{
	settle(db);
	return db->pg_begin_read || PQtransactionStatus(db->pg) != PQTRANS_IDLE;
}

/* Prepares st on the server under a fresh name. */
static enum db_rc server_prepare(struct db_stmt *st)
{
	struct db *db = st->db;
	PGresult *r;
	enum db_rc rc = DB_OK;

	settle(db);
	snprintf(st->name, sizeof(st->name), "tix%llu", (unsigned long long)++db->names);
	r = PQprepare(db->pg, st->name, st->pgsql, 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = fail(db, r);
	else
		st->gen = db->gen;
	PQclear(r);
	return rc;
}

enum db_rc db__pg_prepare(struct db_stmt *st, const char *sql)
{
	int n;

	if ((st->pgsql = db_pg_placeholders(sql, &n)) == NULL)
		return db__fail(st->db, DB_ERROR,
		                "cannot prepare '%.60s': a placeholder past ?32766", sql);
	st->nparams = n;
	/* One more than needed, so that no statement asks calloc for 0. */
	if ((st->params = calloc((size_t)n + 1, sizeof(*st->params))) == NULL ||
	    (st->values = calloc((size_t)n + 1, sizeof(*st->values))) == NULL ||
	    (st->lengths = calloc((size_t)n + 1, sizeof(*st->lengths))) == NULL ||
	    (st->formats = calloc((size_t)n + 1, sizeof(*st->formats))) == NULL)
		return db__fail(st->db, DB_NOMEM, "out of memory");
	return server_prepare(st);
}

static void free_blobs(struct db_stmt *st)
{
	if (st->blobs == NULL)
		return;
	for (int i = 0; i < st->ncols; i++)
		PQfreemem(st->blobs[i]);
	memset(st->blobs, 0, (size_t)st->ncols * sizeof(*st->blobs));
}

/* Closes st's cursor while it still exists on the server: a held one until
 * the connection goes, a transaction's until the transaction ends. Not in a
 * failed transaction (CLOSE would fail; ROLLBACK removes the cursor), and
 * never so that an error ends someone's transaction. */
static void close_cursor(struct db_stmt *st)
{
	struct db *db = st->db;
	PGTransactionStatusType t;

	if (!st->cursor)
		return;
	st->cursor = 0;
	settle(db);
	t = PQtransactionStatus(db->pg);
	if (st->cursor_gen == db->gen && PQstatus(db->pg) == CONNECTION_OK &&
	    (st->hold ? t == PQTRANS_IDLE || t == PQTRANS_INTRANS
	              : t == PQTRANS_INTRANS && st->cursor_txn == db->txn)) {
		char sql[48];

		snprintf(sql, sizeof(sql), "CLOSE %s", st->cursor_name);
		PQclear(PQexec(db->pg, sql));
	}
}

void db__pg_reset(struct db_stmt *st)
{
	close_cursor(st);
	free_blobs(st);
	free(st->blobs);
	free(st->blob_lens);
	st->blobs = NULL;
	st->blob_lens = NULL;
	PQclear(st->res);
	st->res = NULL;
	st->row = st->nrows = st->ncols = 0;
}

void db__pg_finalize(struct db_stmt *st)
{
	struct db *db = st->db;

	db__pg_reset(st);
	settle(db);
	/* On a live connection the server's statement goes too (not when the
	 * connection closes anyway, or was lost: its statements went with it). */
	if (st->gen != 0 && st->gen == db->gen && PQstatus(db->pg) == CONNECTION_OK) {
		char sql[40];

		snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		PQclear(PQexec(db->pg, sql));
	}
	if (st->params)
		for (int i = 0; i < st->nparams; i++)
			free(st->params[i].owned);
	free(st->params);
	free(st->values);
	free(st->lengths);
	free(st->formats);
	free(st->pgsql);
}

enum db_rc db__pg_bind(struct db_stmt *st, int i, const char *v, size_t len, int fmt, int copy)
{
	struct db_param *p;
	int k = i - 1;

	if (i < 1 || i > st->nparams)
		return db__fail(st->db, DB_ERROR, "parameter %d is not in the statement (1..%d)", i,
		                st->nparams);
	if (len > INT_MAX)
		return db__fail(st->db, DB_ERROR, "parameter %d is too long (%zu bytes)", i, len);
	p = &st->params[k];
	st->lengths[k] = 0;
	st->formats[k] = 0;
	if (copy == 2) { /* a number, formatted into p->num */
		st->values[k] = p->num;
	} else if (v == NULL) {
		st->values[k] = NULL;
	} else if (copy) { /* a copy; text also because libpq's text parameters end in a NUL */
		if (fmt == 0 && memchr(v, '\0', len))
			return db__fail(st->db, DB_ERROR,
			                "parameter %d: PostgreSQL text cannot hold a NUL byte", i);
		if (p->owned_cap < len + 1) {
			char *n = realloc(p->owned, len + 1);

			if (n == NULL)
				return db__fail(st->db, DB_NOMEM, "out of memory");
			p->owned = n;
			p->owned_cap = len + 1;
		}
		memcpy(p->owned, v, len);
		p->owned[len] = '\0';
		st->values[k] = p->owned;
		st->lengths[k] = (int)len;
		st->formats[k] = fmt;
	} else {
		st->values[k] = v;
		st->lengths[k] = (int)len;
		st->formats[k] = fmt;
	}
	return DB_OK;
}

static int is_write(const char *status)
{
	return strncmp(status, "INSERT", 6) == 0 || strncmp(status, "UPDATE", 6) == 0 ||
	       strncmp(status, "DELETE", 6) == 0 || strncmp(status, "MERGE", 5) == 0;
}

/* The BEGIN of a read transaction and st's execution in one pipeline:
 * one round trip. NULL when the pipeline could not be sent; a failed
 * BEGIN is the result (the statement was not run). */
static PGresult *execute_begun(struct db_stmt *st)
{
	PGconn *pg = st->db->pg;
	PGresult *begin = NULL, *res = NULL, *r;

	st->db->pg_begin_read = 0;
	if (!PQenterPipelineMode(pg))
		return NULL;
	if (PQsendQueryParams(pg, BEGIN_READ, 0, NULL, NULL, NULL, NULL, 0) &&
	    PQsendQueryPrepared(pg, st->name, st->nparams, st->values, st->lengths, st->formats,
	                        0) &&
	    PQpipelineSync(pg)) {
		/* BEGIN's result, its end (NULL), the statement's, its end, the
		 * sync; a connection lost on the way ends the results early. */
		for (int i = 0; i < 8 && PQstatus(pg) == CONNECTION_OK; i++) {
			if ((r = PQgetResult(pg)) == NULL)
				continue;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				break;
			}
			if (begin == NULL)
				begin = r;
			else if (res == NULL)
				res = r;
			else
				PQclear(r);
		}
	}
	(void)PQexitPipelineMode(pg);
	if (begin && PQresultStatus(begin) != PGRES_COMMAND_OK) {
		PQclear(res);
		return begin;
	}
	PQclear(begin);
	return res;
}

static PGresult *execute(struct db_stmt *st)
{
	settle(st->db);
	if (st->db->pg_begin_read)
		return execute_begun(st);
	return PQexecPrepared(st->db->pg, st->name, st->nparams, st->values, st->lengths,
	                      st->formats, 0);
}

static void count_rows(struct db *db, int n)
{
	if (n > db->rows_peak)
		db->rows_peak = n;
}

/* Declares st's cursor (a fresh name each time: a held cursor that could
 * not be closed stays on the server until the connection goes). */
static enum db_rc declare_cursor(struct db_stmt *st)
{
	struct db *db = st->db;
	enum db_rc rc = (settle(db), send_begin(db));
	int hold = PQtransactionStatus(db->pg) == PQTRANS_IDLE;
	size_t n = strlen(st->pgsql) + 80;
	char *sql = malloc(n);
	PGresult *r;

	if (rc != DB_OK || sql == NULL) {
		free(sql);
		return rc != DB_OK ? rc : db__fail(db, DB_NOMEM, "out of memory");
	}
	snprintf(st->cursor_name, sizeof(st->cursor_name), "tixc%llu",
	         (unsigned long long)++db->names);
	snprintf(sql, n, "DECLARE %s NO SCROLL CURSOR %sFOR %s", st->cursor_name,
	         hold ? "WITH HOLD " : "", st->pgsql);
	r = PQexecParams(db->pg, sql, st->nparams, NULL, st->values, st->lengths, st->formats, 0);
	free(sql);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = fail(db, r);
	} else {
		st->cursor = 1;
		st->hold = hold;
		st->last_page = 0;
		st->cursor_gen = db->gen;
		st->cursor_txn = db->txn;
	}
	PQclear(r);
	return rc;
}

/* db_step of a paged statement: the next row of the page in hand, or the
 * next page fetched, or the end. */
static enum db_rc paged_step(struct db_stmt *st)
{
	struct db *db = st->db;
	char sql[64];
	PGresult *r;
	enum db_rc rc;

	if (!st->cursor) {
		if ((rc = declare_cursor(st)) != DB_OK)
			return rc;
	} else if (st->cursor_gen != db->gen) {
		return db__fail(db, DB_LOST,
		                "a paged read cannot go on: the connection was lost and made "
		                "again since it began (reset it and read again)");
	} else if (!st->hold && st->cursor_txn != db->txn) {
		return db__fail(db, DB_ERROR,
		                "a paged read cannot go on past the end of the transaction it "
		                "began in (reset it and read again)");
	}
	free_blobs(st);
	if (st->res && ++st->row < st->nrows)
		return DB_ROW;
	if (st->res && st->last_page) {
		db__pg_reset(st); /* the next step runs it again, as SQLite does */
		return DB_DONE;
	}
	PQclear(st->res);
	st->res = NULL;
	settle(db);
	snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM %s", DB_PAGE_ROWS, st->cursor_name);
	r = PQexec(db->pg, sql);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[sizeof(db->errmsg)];

		rc = fail(db, r);
		PQclear(r);
		snprintf(msg, sizeof(msg), "%s", db->errmsg);
		return db__fail(db, rc, "reading the next %d rows of a paged read: %s",
		                DB_PAGE_ROWS, msg);
	}
	st->res = r;
	st->row = 0;
	st->nrows = PQntuples(r);
	st->ncols = PQnfields(r);
	st->last_page = st->nrows < DB_PAGE_ROWS;
	count_rows(db, st->nrows);
	if (st->nrows > 0)
		return DB_ROW;
	db__pg_reset(st);
	return DB_DONE;
}

enum db_rc db__pg_step(struct db_stmt *st)
{
	struct db *db = st->db;

	if (st->paged)
		return paged_step(st);
	if (st->res == NULL) {
		PGresult *r;
		ExecStatusType s;
		enum db_rc rc;

		if (st->gen != db->gen && (rc = server_prepare(st)) != DB_OK)
			return rc;
		r = execute(st);
		s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		/* The statement went (DISCARD), or a schema change altered its
		 * result: prepare it again once, outside a transaction (inside,
		 * the failure has already ended it). */
		if (s == PGRES_FATAL_ERROR && r && PQtransactionStatus(db->pg) == PQTRANS_IDLE) {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

			if (state && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0)) {
				PQclear(r);
				if ((rc = server_prepare(st)) != DB_OK)
					return rc;
				r = execute(st);
				s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
			}
		}
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			rc = fail(db, r);
			PQclear(r);
			return rc;
		}
		if (is_write(PQcmdStatus(r)))
			db->changes = strtoll(PQcmdTuples(r), NULL, 10);
		if (s == PGRES_COMMAND_OK) {
			PQclear(r);
			return DB_DONE;
		}
		st->res = r;
		st->row = -1;
		st->nrows = PQntuples(r);
		st->ncols = PQnfields(r);
		count_rows(db, st->nrows);
	}
	free_blobs(st);
	if (++st->row < st->nrows)
		return DB_ROW;
	db__pg_reset(st); /* the next step runs it again, as SQLite does */
	return DB_DONE;
}

static int readable(const struct db_stmt *st, int i)
{
	return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < st->ncols &&
	       !PQgetisnull(st->res, st->row, i);
}

enum db_type db__pg_column_type(struct db_stmt *st, int i)
{
	if (!readable(st, i))
		return DB_NULL;
	switch (PQftype(st->res, i)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: return DB_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: return DB_FLOAT;
	case OID_BYTEA: return DB_BLOB;
	default: return DB_TEXT;
	}
}

const char *db__pg_value(struct db_stmt *st, int i, size_t *len)
{
	if (!readable(st, i)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = (size_t)PQgetlength(st->res, st->row, i);
	return PQgetvalue(st->res, st->row, i);
}

const void *db__pg_blob(struct db_stmt *st, int i, size_t *len)
{
	if (!readable(st, i) || PQftype(st->res, i) != OID_BYTEA)
		return db__pg_value(st, i, len);
	/* bytea comes as text ("\x00ff..."): decoded once per row and column. */
	if (st->blobs == NULL) {
		if ((st->blobs = calloc((size_t)st->ncols, sizeof(*st->blobs))) == NULL ||
		    (st->blob_lens = calloc((size_t)st->ncols, sizeof(*st->blob_lens))) == NULL) {
			db__fail(st->db, DB_NOMEM, "out of memory");
			goto none;
		}
	}
	if (st->blobs[i] == NULL) {
		st->blobs[i] = PQunescapeBytea(
		        (const unsigned char *)PQgetvalue(st->res, st->row, i), &st->blob_lens[i]);
		if (st->blobs[i] == NULL) {
			db__fail(st->db, DB_NOMEM, "out of memory");
			goto none;
		}
	}
	if (len)
		*len = st->blob_lens[i];
	return st->blobs[i];
none:
	if (len)
		*len = 0;
	return NULL;
}
