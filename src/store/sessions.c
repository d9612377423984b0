/*
 * store/sessions.c — the console's sign-in sessions (migration 14): only a
 * keyed digest of each session token is kept, with its user, when it began,
 * was last used and ends. A session goes with its user (and so with the
 * organisation) and whenever the user's password changes.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_sessions[] =
        "CREATE TABLE sessions ("
        "  digest BLOB PRIMARY KEY," /* keyed BLAKE2b-256 of the token */
        "  ukey INTEGER NOT NULL REFERENCES users (ukey) ON DELETE CASCADE,"
        "  created INTEGER NOT NULL,"                /* µs */
        "  last_used INTEGER NOT NULL,"              /* µs */
        "  expires INTEGER NOT NULL) WITHOUT ROWID;" /* µs: the absolute end */
        "CREATE INDEX sessions_user ON sessions (ukey);"
        "CREATE TRIGGER sessions_password_changed AFTER UPDATE OF password_hash ON users"
        "  WHEN OLD.password_hash IS NOT NEW.password_hash"
        "  BEGIN DELETE FROM sessions WHERE ukey = NEW.ukey; END;";

/* The same on PostgreSQL (docs/architecture.md, "Two engines"). */
const char store__pg_schema_sessions[] =
        "CREATE TABLE sessions ("
        "  digest BYTEA PRIMARY KEY,"
        "  ukey BIGINT NOT NULL REFERENCES users (ukey) ON DELETE CASCADE,"
        "  created BIGINT NOT NULL,"
        "  last_used BIGINT NOT NULL,"
        "  expires BIGINT NOT NULL);"
        "CREATE INDEX sessions_user ON sessions (ukey);"
        /* SQLite's trigger as a function and a trigger. */
        "CREATE FUNCTION tix_sessions_password_changed() RETURNS trigger LANGUAGE plpgsql"
        " AS $$BEGIN DELETE FROM sessions WHERE ukey = NEW.ukey; RETURN NULL; END$$;"
        "CREATE TRIGGER sessions_password_changed AFTER UPDATE OF password_hash ON users"
        "  FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)"
        "  EXECUTE FUNCTION tix_sessions_password_changed();";

enum tix_err store_session_add(struct store *s, const unsigned char digest[32], int64_t user_key,
                               int64_t now_us, int64_t expires_us, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "INSERT INTO sessions (digest, ukey, created, last_used,"
	                                 " expires) VALUES (?1, ?2, ?3, ?3, ?4)",
	                                 NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_blob(st, 1, digest, 32);
	db_bind_int64(st, 2, user_key);
	db_bind_int64(st, 3, now_us);
	db_bind_int64(st, 4, expires_us);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "starting a session");
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_session_get(struct store *s, const unsigned char digest[32],
                               struct store_session *out, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT x.ukey, u.name, x.created, x.last_used, x.expires"
	                                 " FROM sessions x JOIN users u ON u.ukey = x.ukey"
	                                 " WHERE x.digest = ?1",
	                                 NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	memset(out, 0, sizeof(*out));
	db_bind_blob(st, 1, digest, 32);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *name = db_column_text(st, 1, NULL);

		out->user_key = db_column_int64(st, 0);
		snprintf(out->user, sizeof(out->user), "%s", name ? name : "");
		out->created = db_column_int64(st, 2);
		out->last_used = db_column_int64(st, 3);
		out->expires = db_column_int64(st, 4);
	} else if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, "session", "no such session");
	} else {
		e = store__fail(s, err, "reading a session");
	}
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

/* One statement with a digest and a time (when_us < 0: it has no ?2,
 * which PostgreSQL would refuse to bind). */
static enum tix_err run(struct store *s, const char *sql, const unsigned char *digest,
                        int64_t when_us, const char *what, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, sql, NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (digest)
		db_bind_blob(st, 1, digest, 32);
	if (when_us >= 0)
		db_bind_int64(st, 2, when_us);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, what);
	db_reset(st);
	db_clear_bindings(st);
	return e;
}

enum tix_err store_session_touch(struct store *s, const unsigned char digest[32], int64_t now_us,
                                 struct tix_error *err)
{
	return run(s, "UPDATE sessions SET last_used = ?2 WHERE digest = ?1", digest, now_us,
	           "recording a session's use", err);
}

enum tix_err store_session_remove(struct store *s, const unsigned char digest[32],
                                  struct tix_error *err)
{
	return run(s, "DELETE FROM sessions WHERE digest = ?1", digest, -1, "ending a session",
	           err);
}

enum tix_err store_sessions_expire(struct store *s, int64_t now_us, int64_t idle_us,
                                   struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "DELETE FROM sessions WHERE expires <= ?1 OR last_used <= ?1 - ?2", NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, now_us);
	db_bind_int64(st, 2, idle_us);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "ending expired sessions");
	db_reset(st);
	return e;
}
