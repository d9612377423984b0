/*
 * store/db_sqlite.c — the SQLite engine of db.h: opening a file, scripts,
 * preparing and the meaning of SQLite's result codes. Binding, stepping and
 * reading go straight to SQLite from db.c (no copies).
 */
#include <sqlite3.h>
#include <string.h>

#include "store/db_int.h"

enum db_rc db__sqlite_rc(struct db *db, int rc)
{
	enum db_rc r;

	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_OK;
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY: r = DB_UNIQUE; break;
	case SQLITE_CONSTRAINT_FOREIGNKEY: r = DB_FOREIGN_KEY; break;
	case SQLITE_NOMEM: r = DB_NOMEM; break;
	default:
		r = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? DB_BUSY : DB_ERROR;
	}
	return db__fail(db, r, "%s", db->sq ? sqlite3_errmsg(db->sq) : sqlite3_errstr(rc));
}

enum db_rc db__sqlite_open(struct db *db, const char *path, unsigned flags)
{
	int f = (flags & DB_OPEN_READONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	        SQLITE_OPEN_NOMUTEX;
	int rc;

	if ((flags & DB_OPEN_CREATE) && !(flags & DB_OPEN_READONLY))
		f |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db->sq, f, NULL);
	if (db->sq == NULL)
		return db__fail(db, DB_NOMEM, "out of memory");
	if (rc != SQLITE_OK)
		return db__sqlite_rc(db, rc);
	sqlite3_extended_result_codes(db->sq, 1);
	/* A writer waits for another process's transaction to end. */
	sqlite3_busy_timeout(db->sq, 10000);
	return DB_OK;
}

void db__sqlite_close(struct db *db)
{
	sqlite3_close(db->sq);
	db->sq = NULL;
}

enum db_rc db__sqlite_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->sq, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		enum db_rc r = db__sqlite_rc(db, sqlite3_extended_errcode(db->sq));

		if (msg)
			db__fail(db, r, "%s", msg);
		sqlite3_free(msg);
		return r == DB_OK ? db__fail(db, DB_ERROR, "%s", sqlite3_errstr(rc)) : r;
	}
	return DB_OK;
}

enum db_rc db__sqlite_prepare(struct db_stmt *st, const char *sql, int persistent)
{
	int rc = sqlite3_prepare_v3(st->db->sq, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
	                            &st->sq, NULL);

	if (rc != SQLITE_OK)
		return db__sqlite_rc(st->db, rc);
	if (st->sq == NULL) /* only a comment or white space */
		return db__fail(st->db, DB_ERROR, "no statement in '%.60s'", sql);
	return DB_OK;
}

void db__sqlite_finalize(struct db_stmt *st)
{
	sqlite3_finalize(st->sq);
	st->sq = NULL;
}
