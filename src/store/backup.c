/*
 * store/backup.c — copies of the store: `tix backup` (SQLite's online backup
 * API, one consistent moment while the server writes; a store on PostgreSQL
 * is refused, naming pg_dump), `tix restore` (the copy checked, then written
 * into the store in one transaction) and the checks of `tix verify-store`.
 * Every statement goes through db.h; only the page copy is SQLite's own API.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* The engine check of this file: the backup API and SQLite's integrity
 * checks exist only on SQLite. A store on PostgreSQL is copied by pg_dump
 * and checked by the server (and pg_amcheck). */
static int store_on_sqlite(struct store *s)
{
	return db_engine(store__engine(s)) == DB_SQLITE;
}

/* Runs sql on a connection of the copy's; TIX_ESTORE at path with SQLite's message. */
static enum tix_err copy_exec(struct db *db, const char *path, const char *sql, const char *what,
                              struct tix_error *err)
{
	if (db_exec(db, sql, NULL) == DB_OK)
		return TIX_OK;
	return tix_error_set(err, TIX_ESTORE, path, "%s: %s", what, db_errmsg(db));
}

/* Copies all of src into dst in one step (a consistent snapshot of src:
 * one read transaction; in WAL mode writers go on meanwhile). Both are
 * SQLite connections: the only use of SQLite's own API in this file. */
static enum tix_err copy_db(struct db *dst_db, struct db *src_db, const char *where,
                            struct tix_error *err)
{
	sqlite3 *dst = db_sqlite(dst_db), *src = db_sqlite(src_db);
	sqlite3_backup *b;
	int rc;

	if (dst == NULL || src == NULL)
		return tix_error_set(err, TIX_ESTORE, where, "the copy needs two SQLite databases");
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL)
		return tix_error_set(err, TIX_ESTORE, where, "cannot start the copy: %s",
		                     sqlite3_errmsg(dst));
	for (int tries = 0;; tries++) {
		rc = sqlite3_backup_step(b, -1);
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 200) {
			sqlite3_sleep(50);
			continue;
		}
		break;
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return tix_error_set(err, TIX_ESTORE, where, "the copy failed: %s",
		                     sqlite3_errstr(rc));
	if ((sqlite3_errcode(dst) & 0xff) != SQLITE_OK &&
	    (sqlite3_errcode(dst) & 0xff) != SQLITE_DONE)
		return tix_error_set(err, TIX_ESTORE, where, "the copy failed: %s",
		                     sqlite3_errmsg(dst));
	return TIX_OK;
}

static enum tix_err fsync_path(const char *path, int dir, struct tix_error *err)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		return tix_error_set(err, TIX_EIO, path, "cannot sync: %s", strerror(saved));
	}
	close(fd);
	return TIX_OK;
}

/* Writes the store's audit key into the copy's meta (audit_key). */
static enum tix_err keep_audit_key(struct store *s, struct db *d, const char *dest,
                                   struct tix_error *err)
{
	unsigned char key[32];
	char hexkey[65];
	struct db_stmt *st = NULL;
	enum tix_err e;
	enum db_rc rc;

	if ((e = store__audit_key(s, key, err)) != TIX_OK)
		return e;
	sodium_bin2hex(hexkey, sizeof(hexkey), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (db_prepare(d, "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_key', ?1)", NULL,
	               &st) != DB_OK) {
		sodium_memzero(hexkey, sizeof(hexkey));
		return tix_error_set(err, TIX_ESTORE, dest, "keeping the audit key: %s",
		                     db_errmsg(d));
	}
	db_bind_text(st, 1, hexkey, -1);
	rc = db_step(st);
	db_finalize(st);
	sodium_memzero(hexkey, sizeof(hexkey));
	if (rc != DB_DONE)
		return tix_error_set(err, TIX_ESTORE, dest, "keeping the audit key: %s",
		                     db_errmsg(d));
	return TIX_OK;
}

/* A store on PostgreSQL is backed up by PostgreSQL's own tools: the
 * command for this store's database (its password never shown). */
static enum tix_err refuse_pg_backup(struct store *s, const char *dest, struct tix_error *err)
{
	return tix_error_set(err, TIX_EINVAL, dest,
	                     "the store is on PostgreSQL, which tix backup cannot copy: run "
	                     "pg_dump --format=custom --file='%s' '%s' (the password from "
	                     "PGPASSWORD or ~/.pgpass); the dump holds the node secret, so keep "
	                     "it as safe as the database; pg_restore puts it back",
	                     dest, db_target(store__engine(s)));
}

enum tix_err store_backup(struct store *s, const char *dest, int with_secret, struct tix_error *err)
{
	char tmp[4200], dir[4200], *slash;
	struct db *d = NULL;
	enum tix_err e;

	if (!store_on_sqlite(s))
		return refuse_pg_backup(s, dest, err);
	if (snprintf(tmp, sizeof(tmp), "%s.partial", dest) >= (int)sizeof(tmp))
		return tix_error_set(err, TIX_EINVAL, dest, "the path is too long");
	if (access(dest, F_OK) == 0)
		return tix_error_set(err, TIX_EEXIST, dest,
		                     "exists already; a backup never overwrites a file");
	unlink(tmp); /* left by a backup that was killed */
	if ((e = store__create_private(tmp, 1, err)) != TIX_OK)
		return e;
	if ((d = db_open(tmp, 0, err)) == NULL) {
		e = TIX_ESTORE;
		goto fail;
	}
	if ((e = copy_db(d, store__engine(s), dest, err)) != TIX_OK)
		goto fail;
	/* One self-contained file (no -wal beside it). */
	if ((e = copy_exec(d, dest, "PRAGMA journal_mode = DELETE", "making the copy one file",
	                   err)) != TIX_OK)
		goto fail;
	/* Without the node secret, the copy cannot check API keys; its bytes
	 * are overwritten, not just unlinked from the table. */
	if (!with_secret &&
	    (e = copy_exec(d, dest,
	                   "PRAGMA secure_delete = ON;"
	                   "DELETE FROM meta WHERE key = 'node_secret';"
	                   "UPDATE request_keys SET secret_key = NULL",
	                   "removing the node secret from the copy", err)) != TIX_OK)
		goto fail;
	/* The audit chain's MACs stay verifiable: the copy keeps the audit key
	 * (derived from the secret, useless for API keys and page tokens). */
	if (!with_secret && (e = keep_audit_key(s, d, dest, err)) != TIX_OK)
		goto fail;
	db_close(d);
	d = NULL;
	if ((e = fsync_path(tmp, 0, err)) != TIX_OK)
		goto fail;
	/* The finished copy appears under its name at once, never half-written;
	 * a file made meanwhile is not overwritten. */
	if (link(tmp, dest) != 0) {
		e = tix_error_set(err, errno == EEXIST ? TIX_EEXIST : TIX_EIO, dest,
		                  "cannot create: %s", strerror(errno));
		goto fail;
	}
	unlink(tmp);
	snprintf(dir, sizeof(dir), "%s", dest);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	return fsync_path(dir, 1, err);
fail:
	db_close(d);
	unlink(tmp);
	return e;
}

enum tix_err store_backup_check(const char *path, struct store_backup_info *info,
                                struct tix_error *err)
{
	struct tix_error open_err;
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	const char *verdict;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	memset(info, 0, sizeof(*info));
	if (access(path, R_OK) != 0)
		return tix_error_set(err, TIX_EIO, path, "cannot read: %s", strerror(errno));
	if ((db = db_open(path, DB_OPEN_READONLY, &open_err)) == NULL)
		return tix_error_set(err, TIX_EINVAL, path, "not a SQLite file: %s", open_err.msg);
	if (db_prepare(db, "PRAGMA user_version", NULL, &st) != DB_OK || db_step(st) != DB_ROW) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", db_errmsg(db));
		goto out;
	}
	info->schema = (int)db_column_int64(st, 0);
	db_finalize(st);
	st = NULL;
	if (info->schema < 1 || info->schema > store_schema_version()) {
		e = tix_error_set(err, TIX_EINVAL, path,
		                  info->schema < 1
		                          ? "not a tix store (no schema version)"
		                          : "schema %d is newer than this tix (%d): upgrade tix",
		                  info->schema, store_schema_version());
		goto out;
	}
	if (db_prepare(db, "PRAGMA integrity_check", NULL, &st) != DB_OK) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", db_errmsg(db));
		goto out;
	}
	rc = db_step(st);
	verdict = rc == DB_ROW ? db_column_text(st, 0, NULL) : NULL;
	if (verdict == NULL || strcmp(verdict, "ok") != 0) {
		e = tix_error_set(err, TIX_EINVAL, path, "damaged: %s",
		                  verdict ? verdict : db_errmsg(db));
		goto out;
	}
	db_finalize(st);
	st = NULL;
	if (db_prepare(db, "SELECT key FROM meta WHERE key = 'node_secret'", NULL, &st) != DB_OK) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", db_errmsg(db));
		goto out;
	}
	info->has_secret = db_step(st) == DB_ROW;
out:
	db_finalize(st);
	db_close(db);
	return e;
}

enum tix_err store_restore(const char *backup, const char *dest, struct tix_error *err)
{
	struct store_backup_info info;
	struct db *src = NULL, *dst = NULL;
	enum tix_err e;

	if (db_target_is_pg(dest))
		return tix_error_set(err, TIX_EINVAL, "store",
		                     "a store on PostgreSQL is not restored from a tix backup: "
		                     "pg_restore puts back a pg_dump of it");
	if ((e = store_backup_check(backup, &info, err)) != TIX_OK)
		return e;
	if ((e = store__create_private(dest, 0, err)) != TIX_OK)
		return e;
	if ((src = db_open(backup, DB_OPEN_READONLY, err)) == NULL ||
	    (dst = db_open(dest, 0, err)) == NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	/* The store's own journal mode, so the copy lands in one transaction
	 * that readers of dest see whole or not at all. (db_open waits 10 s
	 * for a lock, as before.) */
	if ((e = copy_exec(dst, dest, "PRAGMA journal_mode = WAL", "opening the store", err)) !=
	    TIX_OK)
		goto out;
	e = copy_db(dst, src, dest, err);
out:
	db_close(src);
	db_close(dst);
	return e;
}

enum tix_err store_check_report(struct store *s, int (*cb)(void *, const char *problem), void *arg,
                                size_t *problems, struct tix_error *err)
{
	struct db *db = store__engine(s);
	struct db_stmt *st = NULL;
	char msg[512];
	enum db_rc rc;

	*problems = 0;
	if (!store_on_sqlite(s))
		return tix_error_set(err, TIX_EINVAL, "store",
		                     "SQLite's integrity and foreign-key checks do not apply to a "
		                     "store on PostgreSQL, which enforces its foreign keys itself: "
		                     "check its pages with pg_amcheck --dbname='%s'",
		                     db_target(db));
	if (db_prepare(db, "PRAGMA integrity_check(100)", NULL, &st) != DB_OK)
		return store__fail(s, err, "checking the store");
	while ((rc = db_step(st)) == DB_ROW) {
		const char *t = db_column_text(st, 0, NULL);

		if (t && strcmp(t, "ok") != 0) {
			(*problems)++;
			cb(arg, t);
		}
	}
	if (rc != DB_DONE) {
		/* A damaged file can make the check itself fail. */
		(*problems)++;
		snprintf(msg, sizeof(msg), "the integrity check stopped: %s", db_errmsg(db));
		db_finalize(st);
		cb(arg, msg);
		return TIX_OK;
	}
	db_finalize(st);
	if (db_prepare(db, "PRAGMA foreign_key_check", NULL, &st) != DB_OK)
		return store__fail(s, err, "checking references");
	while ((rc = db_step(st)) == DB_ROW) {
		const char *table = db_column_text(st, 0, NULL),
		           *parent = db_column_text(st, 2, NULL);

		snprintf(msg, sizeof(msg), "table %s row %lld refers to a missing row of %s",
		         table ? table : "", (long long)db_column_int64(st, 1),
		         parent ? parent : "");
		(*problems)++;
		cb(arg, msg);
	}
	if (rc != DB_DONE)
		store__fail(s, err, "checking references");
	db_finalize(st);
	return rc == DB_DONE ? TIX_OK : TIX_ESTORE;
}

int store_has_node_secret(struct store *s)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT 1 FROM meta WHERE key = 'node_secret'", NULL, NULL);
	enum db_rc rc;

	if (st == NULL)
		return -1;
	rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}
