/*
 * store/backup.c — copies of the store: `tix backup` (SQLite's online backup
 * API, one consistent moment while the server writes), `tix restore` (the
 * copy checked, then written into the store in one transaction) and the
 * checks of `tix verify-store` (SQLite's integrity and foreign-key checks).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* Runs sql on a raw connection; TIX_ESTORE with SQLite's message. */
static enum tix_err raw_exec(sqlite3 *db, const char *path, const char *sql, const char *what,
                             struct tix_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return TIX_OK;
	tix_error_set(err, TIX_ESTORE, path, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return TIX_ESTORE;
}

/* Copies all of src into dst in one step (a consistent snapshot of src:
 * one read transaction; in WAL mode writers go on meanwhile). */
static enum tix_err copy_db(sqlite3 *dst, sqlite3 *src, const char *where, struct tix_error *err)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL)
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
	if (sqlite3_errcode(dst) != SQLITE_OK && sqlite3_errcode(dst) != SQLITE_DONE)
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
static enum tix_err keep_audit_key(struct store *s, sqlite3 *d, const char *dest,
                                   struct tix_error *err)
{
	unsigned char key[32];
	char hexkey[65];
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = store__audit_key(s, key, err)) != TIX_OK)
		return e;
	sodium_bin2hex(hexkey, sizeof(hexkey), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (sqlite3_prepare_v2(d,
	                       "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_key', ?1)",
	                       -1, &st, NULL) != SQLITE_OK) {
		sodium_memzero(hexkey, sizeof(hexkey));
		return tix_error_set(err, TIX_ESTORE, dest, "keeping the audit key: %s",
		                     sqlite3_errmsg(d));
	}
	sqlite3_bind_text(st, 1, hexkey, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	sodium_memzero(hexkey, sizeof(hexkey));
	if (rc != SQLITE_DONE)
		return tix_error_set(err, TIX_ESTORE, dest, "keeping the audit key: %s",
		                     sqlite3_errmsg(d));
	return TIX_OK;
}

enum tix_err store_backup(struct store *s, const char *dest, int with_secret, struct tix_error *err)
{
	char tmp[4200], dir[4200], *slash;
	sqlite3 *d = NULL;
	enum tix_err e;

	if (snprintf(tmp, sizeof(tmp), "%s.partial", dest) >= (int)sizeof(tmp))
		return tix_error_set(err, TIX_EINVAL, dest, "the path is too long");
	if (access(dest, F_OK) == 0)
		return tix_error_set(err, TIX_EEXIST, dest,
		                     "exists already; a backup never overwrites a file");
	unlink(tmp); /* left by a backup that was killed */
	if ((e = store__create_private(tmp, 1, err)) != TIX_OK)
		return e;
	if (sqlite3_open_v2(tmp, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		e = tix_error_set(err, TIX_ESTORE, tmp, "cannot open: %s",
		                  d ? sqlite3_errmsg(d) : "out of memory");
		goto fail;
	}
	if ((e = copy_db(d, s->db, dest, err)) != TIX_OK)
		goto fail;
	/* One self-contained file (no -wal beside it). */
	if ((e = raw_exec(d, dest, "PRAGMA journal_mode = DELETE", "making the copy one file",
	                  err)) != TIX_OK)
		goto fail;
	/* Without the node secret, the copy cannot check API keys; its bytes
	 * are overwritten, not just unlinked from the table. */
	if (!with_secret && (e = raw_exec(d, dest,
	                                  "PRAGMA secure_delete = ON;"
	                                  "DELETE FROM meta WHERE key = 'node_secret';"
	                                  "UPDATE request_keys SET secret_key = NULL",
	                                  "removing the node secret from the copy", err)) != TIX_OK)
		goto fail;
	/* The audit chain's MACs stay verifiable: the copy keeps the audit key
	 * (derived from the secret, useless for API keys and page tokens). */
	if (!with_secret && (e = keep_audit_key(s, d, dest, err)) != TIX_OK)
		goto fail;
	if (sqlite3_close(d) != SQLITE_OK) {
		e = tix_error_set(err, TIX_ESTORE, tmp, "closing the copy failed");
		d = NULL;
		goto fail;
	}
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
	sqlite3_close(d);
	unlink(tmp);
	return e;
}

enum tix_err store_backup_check(const char *path, struct store_backup_info *info,
                                struct tix_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int rc;

	memset(info, 0, sizeof(*info));
	if (access(path, R_OK) != 0)
		return tix_error_set(err, TIX_EIO, path, "cannot read: %s", strerror(errno));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a SQLite file: %s",
		                  db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", sqlite3_errmsg(db));
		goto out;
	}
	info->schema = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (info->schema < 1 || info->schema > store_schema_version()) {
		e = tix_error_set(err, TIX_EINVAL, path,
		                  info->schema < 1
		                          ? "not a tix store (no schema version)"
		                          : "schema %d is newer than this tix (%d): upgrade tix",
		                  info->schema, store_schema_version());
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		e = tix_error_set(err, TIX_EINVAL, path, "damaged: %s",
		                  rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
		                                   : sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT key FROM meta WHERE key = 'node_secret'", -1, &st,
	                       NULL) != SQLITE_OK) {
		e = tix_error_set(err, TIX_EINVAL, path, "not a tix store: %s", sqlite3_errmsg(db));
		goto out;
	}
	info->has_secret = sqlite3_step(st) == SQLITE_ROW;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return e;
}

enum tix_err store_restore(const char *backup, const char *dest, struct tix_error *err)
{
	struct store_backup_info info;
	sqlite3 *src = NULL, *dst = NULL;
	enum tix_err e;

	if ((e = store_backup_check(backup, &info, err)) != TIX_OK)
		return e;
	if ((e = store__create_private(dest, 0, err)) != TIX_OK)
		return e;
	if (sqlite3_open_v2(backup, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		e = tix_error_set(err, TIX_ESTORE, dest, "cannot open: %s",
		                  dst   ? sqlite3_errmsg(dst)
		                  : src ? sqlite3_errmsg(src)
		                        : "no memory");
		goto out;
	}
	sqlite3_busy_timeout(dst, 10000);
	/* The store's own journal mode, so the copy lands in one transaction
	 * that readers of dest see whole or not at all. */
	if ((e = raw_exec(dst, dest, "PRAGMA journal_mode = WAL", "opening the store", err)) !=
	    TIX_OK)
		goto out;
	e = copy_db(dst, src, dest, err);
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return e;
}

enum tix_err store_check_report(struct store *s, int (*cb)(void *, const char *problem), void *arg,
                                size_t *problems, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	char msg[512];
	int rc;

	*problems = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(100)", -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "checking the store");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (t && strcmp(t, "ok") != 0) {
			(*problems)++;
			cb(arg, t);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		/* A damaged file can make the check itself fail. */
		(*problems)++;
		snprintf(msg, sizeof(msg), "the integrity check stopped: %s",
		         sqlite3_errmsg(s->db));
		cb(arg, msg);
		return TIX_OK;
	}
	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "checking references");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(msg, sizeof(msg), "table %s row %lld refers to a missing row of %s",
		         (const char *)sqlite3_column_text(st, 0),
		         (long long)sqlite3_column_int64(st, 1),
		         (const char *)sqlite3_column_text(st, 2));
		(*problems)++;
		cb(arg, msg);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store__db_error(s, err, "checking references");
	return TIX_OK;
}

int store_has_node_secret(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int has;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM meta WHERE key = 'node_secret'", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}
