/*
 * store/accounts.c — organisations, users, API keys and collection grants:
 * the accounts a TAXII server authenticates against. Only digests of
 * secrets are stored (src/auth makes them).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_accounts[] =
        "CREATE TABLE orgs ("
        "  okey INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  country TEXT NOT NULL DEFAULT '',"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE users ("
        "  ukey INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  okey INTEGER NOT NULL REFERENCES orgs (okey) ON DELETE CASCADE,"
        "  role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'reader', 'sensor')),"
        "  password_hash TEXT NOT NULL DEFAULT '',"
        "  created INTEGER NOT NULL);"
        "CREATE INDEX users_org ON users (okey);"
        "CREATE TABLE api_keys ("
        "  kkey INTEGER PRIMARY KEY,"
        "  key_id TEXT NOT NULL UNIQUE,"
        "  hash BLOB NOT NULL,"
        "  ukey INTEGER NOT NULL REFERENCES users (ukey) ON DELETE CASCADE,"
        "  created INTEGER NOT NULL,"
        "  last_used INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX api_keys_user ON api_keys (ukey);"
        "CREATE TABLE collection_grants ("
        "  ckey INTEGER NOT NULL REFERENCES collections (ckey) ON DELETE CASCADE,"
        "  okey INTEGER NOT NULL REFERENCES orgs (okey) ON DELETE CASCADE,"
        "  can_read INTEGER NOT NULL,"
        "  can_write INTEGER NOT NULL,"
        "  PRIMARY KEY (ckey, okey)) WITHOUT ROWID;";

/*
 * The statements on the request path (finding a user, a key, a grant) are
 * prepared once per handle: their SQL is here and sqlite.c prepares them
 * with the others (ST_USER_GET, ST_APIKEY_GET, ST_COLL_ACCESS). The rest
 * are administration, rare enough to be prepared per call.
 */
#define USER_SELECT                                                                                \
	"SELECT u.ukey, u.name, u.okey, o.name, u.role, u.password_hash"                           \
	" FROM users u JOIN orgs o ON o.okey = u.okey"
#define APIKEY_SELECT                                                                              \
	"SELECT k.kkey, k.key_id, k.hash, k.ukey, u.name, k.created, k.last_used"                  \
	" FROM api_keys k JOIN users u ON u.ukey = k.ukey"

const char store__sql_user_get[] = USER_SELECT " WHERE u.name = ?1";
const char store__sql_apikey_get[] = APIKEY_SELECT " WHERE k.key_id = ?1";
const char store__sql_coll_access[] =
        "SELECT can_read, can_write FROM collection_grants WHERE ckey = ?1 AND okey = ?2";

#define NAME_MAX_         128 /* the size of the name fields in store.h, NUL included */
#define NODE_SECRET_BYTES 32

static const char *const role_names[] = {
        [STORE_ROLE_ADMIN] = "admin",
        [STORE_ROLE_ANALYST] = "analyst",
        [STORE_ROLE_READER] = "reader",
        [STORE_ROLE_SENSOR] = "sensor",
};

#define NROLES ((int)(sizeof(role_names) / sizeof(role_names[0])))

const char *store_role_name(enum store_role r)
{
	return (int)r >= 0 && (int)r < NROLES ? role_names[r] : "unknown";
}

int store_role_parse(const char *name, enum store_role *r)
{
	for (int i = 0; name && i < NROLES; i++) {
		if (strcmp(name, role_names[i]) == 0) {
			*r = (enum store_role)i;
			return 0;
		}
	}
	return -1;
}

/* ---- helpers ------------------------------------------------------------- */

static int64_t now_us(void)
{
	struct tix_time t;

	tix_time_now(&t);
	return tix_time_to_us(&t);
}

static enum tix_err prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what,
                            struct tix_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store__db_error(s, err, what);
	}
	return TIX_OK;
}

/* Every change to the accounts is its own transaction, so that a failed
 * one leaves nothing behind; they may not nest in an import's. */
static enum tix_err tx_begin(struct store *s, struct tix_error *err)
{
	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "accounts cannot change inside an open transaction");
	return store__exec(s, "BEGIN IMMEDIATE", err);
}

/* Commits when e is TIX_OK, rolls back otherwise; returns the outcome. */
static enum tix_err tx_end(struct store *s, enum tix_err e, struct tix_error *err)
{
	if (e == TIX_OK && (e = store__exec(s, "COMMIT", err)) == TIX_OK)
		return TIX_OK;
	store__exec(s, "ROLLBACK", NULL);
	return e;
}

/* Names are what operators type and what the TAXII server shows: 1 to 127
 * bytes without control characters, and none of the bytes in `forbidden`
 * (a user name cannot hold the ':' that ends it in HTTP Basic; an
 * organisation cannot hold the ',' that separates lists of them). */
static enum tix_err check_name(const char *kind, const char *name, const char *forbidden,
                               struct tix_error *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return tix_error_set(err, TIX_EINVAL, "", "%s name is empty", kind);
	if (n >= NAME_MAX_)
		return tix_error_set(err, TIX_EINVAL, "", "%s name has %zu bytes, more than %d",
		                     kind, n, NAME_MAX_ - 1);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return tix_error_set(err, TIX_EINVAL, "",
			                     "%s name contains a control character", kind);
		if (forbidden && strchr(forbidden, *p))
			return tix_error_set(err, TIX_EINVAL, "", "%s name may not contain '%c'",
			                     kind, *p);
	}
	return TIX_OK;
}

/* Runs a write statement; a UNIQUE violation means "name is taken", a
 * foreign key violation "what it refers to does not exist". */
static enum tix_err step_write(struct store *s, sqlite3_stmt *st, const char *kind,
                               const char *name, const char *what, struct tix_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return TIX_OK;
	switch (sqlite3_extended_errcode(s->db)) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return tix_error_set(err, TIX_EEXIST, "", "%s '%s' already exists", kind, name);
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return tix_error_set(err, TIX_ENOTFOUND, "", "%s '%s' refers to something missing",
		                     kind, name);
	default: return store__db_error(s, err, what);
	}
}

/* The key of a row found by name: TIX_ENOTFOUND "no <kind> '<name>'". */
static enum tix_err find_key(struct store *s, const char *sql, const char *kind, const char *name,
                             int64_t *key, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = prepare(s, sql, &st, "looking up a name", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*key = sqlite3_column_int64(st, 0);
		e = TIX_OK;
	} else if (rc == SQLITE_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no %s '%s'", kind, name);
	} else {
		e = store__db_error(s, err, "looking up a name");
	}
out:
	sqlite3_finalize(st);
	return e;
}

static enum tix_err org_key(struct store *s, const char *name, int64_t *key, struct tix_error *err)
{
	return find_key(s, "SELECT okey FROM orgs WHERE name = ?1", "organisation", name, key, err);
}

static enum tix_err user_key(struct store *s, const char *name, int64_t *key, struct tix_error *err)
{
	return find_key(s, "SELECT ukey FROM users WHERE name = ?1", "user", name, key, err);
}

/* Runs a DELETE by name in its own transaction; TIX_ENOTFOUND when no row
 * went. */
static enum tix_err remove_named(struct store *s, const char *sql, const char *kind,
                                 const char *name, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = prepare(s, sql, &st, "removing", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "removing");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no %s '%s'", kind, name);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* ---- organisations ------------------------------------------------------- */

static int ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

enum tix_err store_org_add(struct store *s, const char *name, const char *country,
                           struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	char cc[3] = "";
	enum tix_err e;

	if ((e = check_name("organisation", name, ",", err)) != TIX_OK)
		return e;
	if (country && country[0]) {
		if (strlen(country) != 2 || !ascii_letter(country[0]) || !ascii_letter(country[1]))
			return tix_error_set(err, TIX_EINVAL, "",
			                     "country '%s' is not an ISO 3166-1 alpha-2 code",
			                     country);
		cc[0] = (char)(country[0] & ~0x20); /* upper case */
		cc[1] = (char)(country[1] & ~0x20);
	}
	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = prepare(s, "INSERT INTO orgs (name, country, created) VALUES (?1, ?2, ?3)", &st,
	                 "adding an organisation", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_us());
	e = step_write(s, st, "organisation", name, "adding an organisation", err);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

static void fill_org(sqlite3_stmt *st, struct store_org *o)
{
	memset(o, 0, sizeof(*o));
	o->key = sqlite3_column_int64(st, 0);
	copy_text(o->name, sizeof(o->name), st, 1);
	copy_text(o->country, sizeof(o->country), st, 2);
	copy_text(o->sector, sizeof(o->sector), st, 3);
}

enum tix_err store_org_get(struct store *s, const char *name, struct store_org *out,
                           struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((e = prepare(s, "SELECT okey, name, country, sector FROM orgs WHERE name = ?1", &st,
	                 "reading an organisation", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_org(st, out);
	else if (rc == SQLITE_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no organisation '%s'", name);
	else
		e = store__db_error(s, err, "reading an organisation");
out:
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_org_remove(struct store *s, const char *name, struct tix_error *err)
{
	/* Users, their keys and the organisation's grants go with it
	 * (ON DELETE CASCADE); the objects it wrote stay. */
	return remove_named(s, "DELETE FROM orgs WHERE name = ?1", "organisation", name, err);
}

enum tix_err store_org_list(struct store *s, int (*cb)(void *, const struct store_org *), void *arg,
                            struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct store_org o;
	enum tix_err e;
	int rc;

	if ((e = prepare(s, "SELECT okey, name, country, sector FROM orgs ORDER BY name", &st,
	                 "listing organisations", err)) != TIX_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_org(st, &o);
		if (cb(arg, &o) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing organisations");
out:
	sqlite3_finalize(st);
	return e;
}

/* ---- users --------------------------------------------------------------- */

enum tix_err store_user_add(struct store *s, const char *name, const char *org,
                            enum store_role role, const char *password_hash, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t okey = 0;
	enum tix_err e;

	if ((e = check_name("user", name, ":", err)) != TIX_OK)
		return e;
	if ((int)role < 0 || (int)role >= NROLES)
		return tix_error_set(err, TIX_EINVAL, "", "role %d does not exist", (int)role);
	if (password_hash == NULL)
		password_hash = "";
	if (strlen(password_hash) >= sizeof(((struct store_user *)0)->password_hash))
		return tix_error_set(err, TIX_EINVAL, "", "the password hash is too long");
	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = org_key(s, org, &okey, err)) != TIX_OK)
		goto out;
	if ((e = prepare(s,
	                 "INSERT INTO users (name, okey, role, password_hash, created)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5)",
	                 &st, "adding a user", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, okey);
	sqlite3_bind_text(st, 3, role_names[role], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_us());
	e = step_write(s, st, "user", name, "adding a user", err);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

static void fill_user(sqlite3_stmt *st, struct store_user *u)
{
	memset(u, 0, sizeof(*u));
	u->key = sqlite3_column_int64(st, 0);
	copy_text(u->name, sizeof(u->name), st, 1);
	u->org_key = sqlite3_column_int64(st, 2);
	copy_text(u->org, sizeof(u->org), st, 3);
	/* The CHECK constraint keeps role one of the four names. */
	store_role_parse((const char *)sqlite3_column_text(st, 4), &u->role);
	copy_text(u->password_hash, sizeof(u->password_hash), st, 5);
}

enum tix_err store_user_get(struct store *s, const char *name, struct store_user *out,
                            struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_USER_GET];
	enum tix_err e = TIX_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_user(st, out);
	else if (rc == SQLITE_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no user '%s'", name);
	else
		e = store__db_error(s, err, "reading a user");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum tix_err store_user_remove(struct store *s, const char *name, struct tix_error *err)
{
	return remove_named(s, "DELETE FROM users WHERE name = ?1", "user", name, err);
}

enum tix_err store_user_set_password(struct store *s, const char *name, const char *password_hash,
                                     struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	if (password_hash == NULL)
		password_hash = "";
	if (strlen(password_hash) >= sizeof(((struct store_user *)0)->password_hash))
		return tix_error_set(err, TIX_EINVAL, "", "the password hash is too long");
	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = prepare(s, "UPDATE users SET password_hash = ?2 WHERE name = ?1", &st,
	                 "changing a password", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "changing a password");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no user '%s'", name);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

enum tix_err store_user_list(struct store *s, int (*cb)(void *, const struct store_user *),
                             void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct store_user u;
	enum tix_err e;
	int rc;

	if ((e = prepare(s, USER_SELECT " ORDER BY u.name", &st, "listing users", err)) != TIX_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_user(st, &u);
		if (cb(arg, &u) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing users");
out:
	sqlite3_finalize(st);
	return e;
}

/* ---- API keys ------------------------------------------------------------ */

enum tix_err store_apikey_add(struct store *s, const char *user, const char *key_id,
                              const unsigned char hash[32], struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t ukey = 0;
	size_t n = key_id ? strlen(key_id) : 0;
	enum tix_err e;

	if (n == 0 || n >= sizeof(((struct store_apikey *)0)->key_id))
		return tix_error_set(err, TIX_EINVAL, "", "a key id has 1 to %zu bytes",
		                     sizeof(((struct store_apikey *)0)->key_id) - 1);
	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = user_key(s, user, &ukey, err)) != TIX_OK)
		goto out;
	if ((e = prepare(
	             s,
	             "INSERT INTO api_keys (key_id, hash, ukey, created) VALUES (?1, ?2, ?3, ?4)",
	             &st, "adding an API key", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ukey);
	sqlite3_bind_int64(st, 4, now_us());
	e = step_write(s, st, "API key", key_id, "adding an API key", err);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

static enum tix_err fill_key(struct store *s, sqlite3_stmt *st, struct store_apikey *k,
                             struct tix_error *err)
{
	memset(k, 0, sizeof(*k));
	k->key = sqlite3_column_int64(st, 0);
	copy_text(k->key_id, sizeof(k->key_id), st, 1);
	if (sqlite3_column_bytes(st, 2) != (int)sizeof(k->hash))
		return tix_error_set(err, TIX_ESTORE, "store", "API key '%s' has a damaged digest",
		                     k->key_id);
	memcpy(k->hash, sqlite3_column_blob(st, 2), sizeof(k->hash));
	k->user_key = sqlite3_column_int64(st, 3);
	copy_text(k->user, sizeof(k->user), st, 4);
	k->created = sqlite3_column_int64(st, 5);
	k->last_used = sqlite3_column_int64(st, 6);
	return TIX_OK;
}

enum tix_err store_apikey_get(struct store *s, const char *key_id, struct store_apikey *out,
                              struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_APIKEY_GET];
	enum tix_err e;
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		e = fill_key(s, st, out, err);
	else if (rc == SQLITE_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no API key '%s'", key_id);
	else
		e = store__db_error(s, err, "reading an API key");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum tix_err store_apikey_touch(struct store *s, const char *key_id, int64_t when_us,
                                struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	/* One statement: atomic on its own, and part of the caller's
	 * transaction when there is one. */
	if ((e = prepare(s, "UPDATE api_keys SET last_used = ?2 WHERE key_id = ?1", &st,
	                 "recording a key's use", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when_us);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "recording a key's use");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, "", "no API key '%s'", key_id);
out:
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_apikey_remove(struct store *s, const char *key_id, struct tix_error *err)
{
	return remove_named(s, "DELETE FROM api_keys WHERE key_id = ?1", "API key", key_id, err);
}

enum tix_err store_apikey_list(struct store *s, const char *user,
                               int (*cb)(void *, const struct store_apikey *), void *arg,
                               struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct store_apikey k;
	int64_t ukey = 0;
	enum tix_err e;
	int rc;

	if (user && (e = user_key(s, user, &ukey, err)) != TIX_OK)
		return e;
	if ((e = prepare(s,
	                 APIKEY_SELECT
	                 " WHERE ?1 IS NULL OR k.ukey = ?1 ORDER BY u.name, k.created, k.key_id",
	                 &st, "listing API keys", err)) != TIX_OK)
		goto out;
	if (user)
		sqlite3_bind_int64(st, 1, ukey);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((e = fill_key(s, st, &k, err)) != TIX_OK)
			goto out;
		if (cb(arg, &k) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing API keys");
out:
	sqlite3_finalize(st);
	return e;
}

/* ---- the node secret ----------------------------------------------------- */

/* Reads the secret into out and sets *found, or leaves *found 0 when there
 * is none yet. */
static enum tix_err read_secret(struct store *s, unsigned char out[NODE_SECRET_BYTES], int *found,
                                struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	enum tix_err e;
	int rc;

	*found = 0;
	if ((e = prepare(s, "SELECT value FROM meta WHERE key = 'node_secret'", &st,
	                 "reading the node secret", err)) != TIX_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);

		if (hex == NULL || strlen(hex) != 2 * NODE_SECRET_BYTES ||
		    sodium_hex2bin(out, NODE_SECRET_BYTES, hex, strlen(hex), NULL, &len, NULL) !=
		            0 ||
		    len != NODE_SECRET_BYTES)
			e = tix_error_set(err, TIX_ESTORE, "store", "the node secret is damaged");
		else
			*found = 1;
	} else if (rc != SQLITE_DONE) {
		e = store__db_error(s, err, "reading the node secret");
	}
out:
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_node_secret(struct store *s, unsigned char out[32], struct tix_error *err)
{
	unsigned char fresh[NODE_SECRET_BYTES];
	char hex[2 * NODE_SECRET_BYTES + 1];
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int found = 0;

	if ((e = read_secret(s, out, &found, err)) != TIX_OK || found)
		return e;
	/* First use. Two processes may get here at once: the insert keeps the
	 * first secret written and both read that one back. */
	if (tix_random(fresh, sizeof(fresh)) != TIX_OK) {
		e = tix_error_set(err, TIX_EIO, "store", "no randomness for the node secret");
		goto out;
	}
	sodium_bin2hex(hex, sizeof(hex), fresh, sizeof(fresh));
	if ((e = prepare(s,
	                 "INSERT INTO meta (key, value) VALUES ('node_secret', ?1)"
	                 " ON CONFLICT (key) DO NOTHING",
	                 &st, "creating the node secret", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		e = store__db_error(s, err, "creating the node secret");
		goto out;
	}
	if ((e = read_secret(s, out, &found, err)) == TIX_OK && !found)
		e = tix_error_set(err, TIX_ESTORE, "store", "the node secret was not kept");
out:
	sqlite3_finalize(st);
	sodium_memzero(fresh, sizeof(fresh));
	sodium_memzero(hex, sizeof(hex));
	return e;
}

/* ---- collections and grants ---------------------------------------------- */

static int looks_like_uuid(const char *s)
{
	struct tix_uuid u;

	return strlen(s) == 36 && tix_uuid_parse(s, &u) == TIX_OK;
}

enum tix_err store_collection_create(struct store *s, const char *title, const char *description,
                                     struct store_collection *out, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct tix_uuid u;
	char id[37];
	size_t n = title ? strlen(title) : 0;
	enum tix_err e;

	memset(out, 0, sizeof(*out));
	/* A title shaped like an id would make "ID|TITLE" lookups ambiguous. */
	if (n == 0 || n >= sizeof(out->title))
		return tix_error_set(err, TIX_EINVAL, "", "a collection title has 1 to %zu bytes",
		                     sizeof(out->title) - 1);
	if (looks_like_uuid(title))
		return tix_error_set(err, TIX_EINVAL, "",
		                     "a collection title may not look like a collection id");
	if (tix_uuid_v4(&u) != TIX_OK)
		return tix_error_set(err, TIX_EIO, "", "no randomness for a collection id");
	tix_uuid_format(&u, id);
	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = prepare(s,
	                 "INSERT INTO collections (id, title, description, created)"
	                 " VALUES (?1, ?2, ?3, ?4)",
	                 &st, "creating a collection", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
	if (description)
		sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, now_us());
	if ((e = step_write(s, st, "collection", title, "creating a collection", err)) != TIX_OK)
		goto out;
	out->key = sqlite3_last_insert_rowid(s->db);
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->title, sizeof(out->title), "%s", title);
out:
	sqlite3_finalize(st);
	if ((e = tx_end(s, e, err)) != TIX_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

enum tix_err store_collection_grant(struct store *s, const struct store_collection *c,
                                    const char *org, int can_read, int can_write,
                                    struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t okey = 0;
	enum tix_err e;
	int rc;

	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = org_key(s, org, &okey, err)) != TIX_OK)
		goto out;
	if ((e = prepare(s, "SELECT 1 FROM collections WHERE ckey = ?1", &st,
	                 "finding a collection", err)) != TIX_OK)
		goto out;
	sqlite3_bind_int64(st, 1, c->key);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		e = rc == SQLITE_DONE
		            ? tix_error_set(err, TIX_ENOTFOUND, "", "no collection '%s'", c->title)
		            : store__db_error(s, err, "finding a collection");
		goto out;
	}
	sqlite3_finalize(st);
	/* No access at all is no grant: the row goes. */
	if ((e = prepare(s,
	                 can_read || can_write
	                         ? "INSERT INTO collection_grants (ckey, okey, can_read, can_write)"
	                           " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ckey, okey) DO UPDATE"
	                           " SET can_read = excluded.can_read,"
	                           " can_write = excluded.can_write"
	                         : "DELETE FROM collection_grants WHERE ckey = ?1 AND okey = ?2",
	                 &st, "granting access", err)) != TIX_OK)
		goto out;
	sqlite3_bind_int64(st, 1, c->key);
	sqlite3_bind_int64(st, 2, okey);
	if (can_read || can_write) {
		sqlite3_bind_int(st, 3, can_read != 0);
		sqlite3_bind_int(st, 4, can_write != 0);
	}
	e = step_write(s, st, "grant to", org, "granting access", err);
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

enum tix_err store_collection_access(struct store *s, const struct store_collection *c,
                                     int64_t org_key, int *can_read, int *can_write,
                                     struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_COLL_ACCESS];
	enum tix_err e = TIX_OK;
	int rc;

	*can_read = *can_write = 0;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, c->key);
	sqlite3_bind_int64(st, 2, org_key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*can_read = sqlite3_column_int(st, 0) != 0;
		*can_write = sqlite3_column_int(st, 1) != 0;
	} else if (rc != SQLITE_DONE) {
		e = store__db_error(s, err, "reading a grant");
	}
	sqlite3_reset(st);
	return e;
}

enum tix_err store_collection_remove(struct store *s, const char *id_or_title,
                                     struct tix_error *err)
{
	struct store_collection c;
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	if ((e = tx_begin(s, err)) != TIX_OK)
		return e;
	if ((e = store_collection_get(s, id_or_title, 0, &c, err)) != TIX_OK) {
		if (e == TIX_ENOTFOUND)
			tix_error_set(err, TIX_ENOTFOUND, "", "no collection '%s'", id_or_title);
		goto out;
	}
	/* Memberships and grants cascade; the objects stay in the store. */
	if ((e = prepare(s, "DELETE FROM collections WHERE ckey = ?1", &st, "removing a collection",
	                 err)) != TIX_OK)
		goto out;
	sqlite3_bind_int64(st, 1, c.key);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "removing a collection");
out:
	sqlite3_finalize(st);
	return tx_end(s, e, err);
}

enum tix_err store_collection_list(struct store *s, int64_t org_key, int all_access,
                                   int (*cb)(void *, const struct store_collection_info *),
                                   void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = prepare(s,
	                 "SELECT c.id, c.title, c.description, coalesce(g.can_read, 0),"
	                 " coalesce(g.can_write, 0) FROM collections c"
	                 " LEFT JOIN collection_grants g ON g.ckey = c.ckey AND g.okey = ?1"
	                 " ORDER BY c.title",
	                 &st, "listing collections", err)) != TIX_OK)
		goto out;
	sqlite3_bind_int64(st, 1, org_key);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_collection_info ci = {
		        (const char *)sqlite3_column_text(st, 0),
		        (const char *)sqlite3_column_text(st, 1),
		        (const char *)sqlite3_column_text(st, 2),
		        all_access || sqlite3_column_int(st, 3) != 0,
		        all_access || sqlite3_column_int(st, 4) != 0,
		};

		if (cb(arg, &ci) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing collections");
out:
	sqlite3_finalize(st);
	return e;
}
