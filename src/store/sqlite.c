/*
 * store/sqlite.c — the SQLite backend of store.h: WAL mode, prepared
 * statements only, every version kept under (id, modified), and a
 * node-wide increasing date_added stamp kept in the meta table so that
 * concurrent writers (serialised by BEGIN IMMEDIATE) never reuse one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* Each entry moves the schema from version i to i + 1. Never edit a
 * released entry: add a new one. */
static const char *const migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE objects ("
        "  vid INTEGER PRIMARY KEY,"
        "  id TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  spec_version TEXT,"
        "  created TEXT NOT NULL,"
        "  modified TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  date_added INTEGER NOT NULL UNIQUE,"
        "  revoked INTEGER NOT NULL DEFAULT 0,"
        "  owner_org TEXT,"
        "  body TEXT NOT NULL,"
        "  UNIQUE (id, modified));"
        "CREATE INDEX objects_type ON objects (type);"
        "CREATE INDEX objects_modified ON objects (modified);"
        "CREATE TABLE collections ("
        "  ckey INTEGER PRIMARY KEY,"
        "  id TEXT NOT NULL UNIQUE,"
        "  title TEXT NOT NULL UNIQUE,"
        "  description TEXT,"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE collection_objects ("
        "  ckey INTEGER NOT NULL REFERENCES collections (ckey) ON DELETE CASCADE,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  date_added INTEGER NOT NULL UNIQUE,"
        "  superseded INTEGER NOT NULL DEFAULT 0," /* a later version is in it too */
        "  PRIMARY KEY (ckey, vid)) WITHOUT ROWID;"
        "CREATE INDEX collection_objects_added ON collection_objects (ckey, date_added);"
        "CREATE TABLE source_digests ("
        "  digest BLOB PRIMARY KEY,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE) WITHOUT ROWID;"
        "INSERT INTO meta (key, value) VALUES ('last_stamp', '0');",
        /* 1 -> 2: accounts, keys and collection grants (src/store/accounts.c) */
        store__schema_accounts,
        /* 2 -> 3: the status resources of TAXII POST requests */
        "CREATE TABLE taxii_status ("
        "  id TEXT PRIMARY KEY,"
        "  user_key INTEGER,"
        "  created INTEGER NOT NULL,"
        "  body TEXT NOT NULL);"
        "CREATE INDEX taxii_status_created ON taxii_status (created);",
        /* 3 -> 4: the sharing policy: resolved TLP and audience per version,
         * sharing groups, the audit log (src/store/policy.c) */
        store__schema_policy,
        /* 4 -> 5: federation peers, their cursors and push outboxes (src/store/sync.c) */
        store__schema_sync,
        /* 5 -> 6: object owners, observables per organisation, late markings
         * re-resolved, old versions that break the ownership rule reported
         * (src/store/ownership.c) */
        store__schema_ownership,
        /* 6 -> 7: the audience index of TAXII listings, peers' audit anchors,
         * the audit key point (src/store/audience.c) */
        store__schema_audience,
        /* 7 -> 8: peer kinds (TAXII or MISP feed) and a MISP feed's per-event
         * cursors (src/store/sync.c) */
        store__schema_feed,
        /* 8 -> 9: failed attempts counted per peer (src/store/sync.c) */
        store__schema_peer_errors,
        /* 9 -> 10: the value index of correlation, sightings per indicator,
         * the text index (FTS5), expired indicators (src/store/values.c) */
        store__schema_values,
        /* 10 -> 11: named feeds of `tix feed`
         * (src/store/feeds.c) */
        store__schema_named_feeds,
        /* 11 -> 12: constituency routing: constituents,
         * their ranges, ASNs and domains, the prefix-to-ASN table, routed
         * reports, unrouted rows, digests sent (src/store/route.c) */
        store__schema_route,
        /* 12 -> 13: the signing keys of
         * the node's 24/7 contact points (src/store/request.c) */
        store__schema_request,
        /* 13 -> 14: the console's sign-in sessions (src/store/sessions.c) */
        store__schema_sessions,
        /* 14 -> 15: what reports, groupings and sightings refer to,
         * objects by the day of created (src/store/reports.c) */
        store__schema_refs,
        /* -> 20 (assigned to issue 17; 16 to 19 are other branches'): the
         * two ends of relationships in the refs index (src/store/reports.c) */
        store__schema_relationship_refs,
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[ST_COUNT] = {
        [ST_HAS] = "SELECT 1 FROM objects WHERE id = ?1 AND modified = ?2",
        [ST_INSERT] = ("INSERT INTO objects (id, type, spec_version, created, modified, date_added,"
                       " revoked, owner_org, body, version, tlp, tlp_flags, sharing_group,"
                       " recipients, origin_node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                       " ?11, ?12, ?13, ?14, ?15)"
                       " ON CONFLICT (id, modified) DO NOTHING"),
        [ST_VID] = "SELECT vid FROM objects WHERE id = ?1 AND modified = ?2",
        [ST_MEMBER] = ("INSERT INTO collection_objects (ckey, vid, date_added) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (ckey, vid) DO NOTHING"),
        [ST_GET_STAMP] = "SELECT value FROM meta WHERE key = 'last_stamp'",
        /* Only the writer's own versions: the bytes of another organisation's
         * object are judged as any write to its id (store__check_write). */
        [ST_FIND_SOURCE] = ("SELECT d.vid FROM source_digests d JOIN objects o ON o.vid = d.vid"
                            " LEFT JOIN object_owners w ON w.id = o.id WHERE d.digest = ?1"
                            " AND o.owner_org IS ?2 AND (w.id IS NULL OR w.owner_org IS ?2)"),
        [ST_ADD_SOURCE] = ("INSERT INTO source_digests (digest, vid) VALUES (?1, ?2)"
                           " ON CONFLICT (digest) DO NOTHING"),
        [ST_SET_STAMP] = "UPDATE meta SET value = ?1 WHERE key = 'last_stamp'",
        [ST_USER_GET] = store__sql_user_get,
        [ST_APIKEY_GET] = store__sql_apikey_get,
        [ST_COLL_ACCESS] = store__sql_coll_access,
        [ST_DATA_VERSION] = "PRAGMA data_version",
};

enum tix_err store__db_error(struct store *s, struct tix_error *err, const char *what)
{
	return tix_error_set(err, TIX_ESTORE, "store", "%s: %s", what, sqlite3_errmsg(s->db));
}

enum tix_err store__exec(struct store *s, const char *sql, struct tix_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		tix_error_set(err, TIX_ESTORE, "store", "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return TIX_ESTORE;
	}
	/* Every write transaction ends here: count it for store_data_version. */
	if (strcmp(sql, "COMMIT") == 0)
		s->own_commits++;
	return TIX_OK;
}

sqlite3_stmt *store__cached(struct store *s, const char *sql, struct tix_error *err)
{
	struct store_qcache *slot = &s->qcache[0];

	for (int i = 0; i < STORE_QCACHE; i++) {
		struct store_qcache *q = &s->qcache[i];

		if (q->sql && strcmp(q->sql, sql) == 0) {
			q->last_used = ++s->qclock;
			sqlite3_reset(q->st);
			sqlite3_clear_bindings(q->st);
			return q->st;
		}
		if (q->last_used < slot->last_used)
			slot = q;
	}
	/* Not cached: replace the least recently used entry. */
	sqlite3_finalize(slot->st);
	free(slot->sql);
	slot->st = NULL;
	slot->sql = NULL;
	slot->last_used = 0;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st, NULL) !=
	    SQLITE_OK) {
		store__db_error(s, err, "preparing a query");
		sqlite3_finalize(slot->st);
		slot->st = NULL;
		return NULL;
	}
	if ((slot->sql = strdup(sql)) == NULL) {
		sqlite3_finalize(slot->st);
		slot->st = NULL;
		tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
		return NULL;
	}
	slot->last_used = ++s->qclock;
	return slot->st;
}

uint64_t store_data_version(struct store *s)
{
	sqlite3_stmt *st = s->st[ST_DATA_VERSION];
	uint64_t v = 0;

	sqlite3_reset(st);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v << 32 ^ s->own_commits;
}

enum tix_err store_set_cache_kib(struct store *s, int kib, struct tix_error *err)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib > 0 ? kib : 1);
	return store__exec(s, sql, err);
}

int store_schema_version(void)
{
	return NMIGRATIONS;
}

static enum tix_err migrate(struct store *s, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int version = 0;
	char sql[64];
	enum tix_err e;

	if ((e = store__exec(s, "BEGIN IMMEDIATE", err)) != TIX_OK)
		return e;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		e = store__db_error(s, err, "reading the schema version");
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > NMIGRATIONS) {
		e = tix_error_set(err, TIX_ESTORE, "store",
		                  "schema version %d is newer than this tix (%d): upgrade tix",
		                  version, NMIGRATIONS);
		goto out;
	}
	for (; version < NMIGRATIONS; version++) {
		if ((e = store__exec(s, migrations[version], err)) != TIX_OK)
			goto out;
		/* Issue 13's migration has one step in C: the audit key point. */
		if (migrations[version] == store__schema_audience &&
		    (e = store__audit_key_point(s, err)) != TIX_OK)
			goto out;
		/* Issue 15's: the versions stored before are indexed. */
		if (migrations[version] == store__schema_values) {
			struct store_reindex_counts c;

			if ((e = store__values_rebuild(s, &c, err)) != TIX_OK)
				goto out;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((e = store__exec(s, sql, err)) != TIX_OK)
			goto out;
	}
	return store__exec(s, "COMMIT", err);
out:
	store__exec(s, "ROLLBACK", NULL);
	return e;
}

enum tix_err store__create_private(const char *path, int exclusive, struct tix_error *err)
{
	int fd;

	if (path[0] == ':') /* ":memory:" */
		return TIX_OK;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST && !exclusive)
			return TIX_OK; /* an existing store keeps the mode its operator gave it */
		return tix_error_set(err, errno == EEXIST ? TIX_EEXIST : TIX_EIO, path,
		                     "cannot create: %s", strerror(errno));
	}
	/* SQLite gives the -wal and -shm files the mode of the database
	 * file; the umask can only have taken bits away from 0600. */
	if (fchmod(fd, 0600) != 0) {
		int saved = errno;

		close(fd);
		return tix_error_set(err, TIX_EIO, path, "cannot set mode 0600: %s",
		                     strerror(saved));
	}
	close(fd);
	return TIX_OK;
}

int store_path_is_url(const char *path)
{
	const char *p = path;

	/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) then "://" */
	if (p == NULL || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

struct store *store_open(const char *path, const struct store_options *opts, struct tix_error *err)
{
	static const struct store_options defaults = {1, 0};
	struct store *s;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	if (opts == NULL)
		opts = &defaults;
	if (store_path_is_url(path)) {
		/* A URL may carry a password: name it without its user part. */
		char shown[256];
		const char *rest = strstr(path, "://") + 3;
		const char *at = strchr(rest, '@');
		const char *slash = strchr(rest, '/');

		if (at != NULL && (slash == NULL || at < slash))
			snprintf(shown, sizeof(shown), "%.*s://…@%s", (int)(rest - 3 - path), path,
			         at + 1);
		else
			snprintf(shown, sizeof(shown), "%s", path);
		tix_error_set(err, TIX_ESTORE, shown,
		              "a database URL, but this tix has only the embedded SQLite store: "
		              "give a file path (PostgreSQL is not supported yet)");
		return NULL;
	}
	if (opts->create)
		flags |= SQLITE_OPEN_CREATE;
	if (sodium_init() < 0) {
		tix_error_set(err, TIX_ESTORE, path, "libsodium could not start");
		return NULL;
	}
	/* SQLite's memory statistics take a global mutex on every allocation,
	 * which worker threads would fight over. This only takes effect
	 * before SQLite initialises, i.e. on the process's first open, which
	 * happens before any worker thread starts. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		tix_error_set(err, TIX_ENOMEM, path, "out of memory");
		return NULL;
	}
	/* A new store is created 0600 whatever the umask: it holds the
	 * intelligence and the node secret. */
	if (opts->create && store__create_private(path, 0, err) != TIX_OK)
		goto fail;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		tix_error_set(err, TIX_ESTORE, path, "cannot open the store: %s",
		              s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (store__audience_register(s->db) != SQLITE_OK) {
		tix_error_set(err, TIX_ESTORE, path, "cannot register tix_audience: %s",
		              sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (store__exec(s, "PRAGMA journal_mode = WAL", err) != TIX_OK ||
	    store__exec(s,
	                opts->durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	                err) != TIX_OK ||
	    store__exec(s,
	                "PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;"
	                "PRAGMA temp_store = MEMORY",
	                err) != TIX_OK)
		goto fail;
	if (migrate(s, err) != TIX_OK)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
		                       NULL) != SQLITE_OK) {
			store__db_error(s, err, "preparing a statement");
			goto fail;
		}
	}
	return s;
fail:
	if (err && err->where[0] == '\0')
		snprintf(err->where, sizeof(err->where), "%s", path);
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_tx)
		store_rollback(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < STORE_QCACHE; i++) {
		sqlite3_finalize(s->qcache[i].st);
		free(s->qcache[i].sql);
	}
	sqlite3_close(s->db);
	free(s);
}

/* ---- transactions and stamps ------------------------------------------- */

enum tix_err store_begin(struct store *s, struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_GET_STAMP];
	enum tix_err e;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store", "a transaction is already open");
	if ((e = store__exec(s, "BEGIN IMMEDIATE", err)) != TIX_OK)
		return e;
	s->in_tx = 1;
	sqlite3_reset(st);
	if (sqlite3_step(st) != SQLITE_ROW) {
		e = store__db_error(s, err, "reading the date_added stamp");
		sqlite3_reset(st);
		store_rollback(s);
		return e;
	}
	s->saved_stamp = s->last_stamp = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	store__load_write_rules(s);
	return TIX_OK;
}

/* The next date_added: the current time in microseconds, or one past the
 * last stamp when the clock has not moved on (or went back). */
static int64_t next_stamp(struct store *s)
{
	struct tix_time now;
	int64_t us;

	tix_time_now(&now);
	us = tix_time_to_us(&now);
	s->last_stamp = us > s->last_stamp ? us : s->last_stamp + 1;
	return s->last_stamp;
}

enum tix_err store_commit(struct store *s, struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_SET_STAMP];
	enum tix_err e;

	if (!s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store", "no transaction is open");
	if (s->last_stamp != s->saved_stamp) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, s->last_stamp);
		if (sqlite3_step(st) != SQLITE_DONE) {
			e = store__db_error(s, err, "saving the date_added stamp");
			sqlite3_reset(st);
			store_rollback(s);
			return e;
		}
		sqlite3_reset(st);
	}
	if ((e = store__exec(s, "COMMIT", err)) != TIX_OK) {
		store_rollback(s);
		return e;
	}
	s->in_tx = 0;
	return TIX_OK;
}

void store_rollback(struct store *s)
{
	if (!s->in_tx)
		return;
	store__exec(s, "ROLLBACK", NULL);
	s->in_tx = 0;
	s->last_stamp = s->saved_stamp;
}

/* ---- writing ----------------------------------------------------------- */

int store_has_version(struct store *s, const struct stix_meta *m, const char *owner_org)
{
	sqlite3_stmt *st = s->st[ST_HAS];
	char key[160];
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store__version_key(m, owner_org, key, sizeof(key)), -1,
	                  SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int looks_like_uuid(const char *s)
{
	struct tix_uuid u;

	return strlen(s) == 36 && tix_uuid_parse(s, &u) == TIX_OK;
}

enum tix_err store_collection_get(struct store *s, const char *name_or_id, int create,
                                  struct store_collection *out, struct tix_error *err)
{
	sqlite3_stmt *look, *st = NULL;
	enum tix_err e = TIX_ENOTFOUND;
	int rc;

	memset(out, 0, sizeof(*out));
	/* On every TAXII request: the statement is kept in the handle. */
	if ((look = store__cached(
	             s,
	             "SELECT ckey, id, title FROM collections WHERE id = ?1 OR title = ?1"
	             " ORDER BY id = ?1 DESC LIMIT 1",
	             err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_text(look, 1, name_or_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(look);
	if (rc == SQLITE_ROW) {
		out->key = sqlite3_column_int64(look, 0);
		snprintf(out->id, sizeof(out->id), "%s",
		         (const char *)sqlite3_column_text(look, 1));
		snprintf(out->title, sizeof(out->title), "%s",
		         (const char *)sqlite3_column_text(look, 2));
		e = TIX_OK;
	} else if (rc != SQLITE_DONE) {
		e = store__db_error(s, err, "looking up a collection");
	} else if (!create || looks_like_uuid(name_or_id) || name_or_id[0] == '\0') {
		e = tix_error_set(err, TIX_ENOTFOUND, name_or_id, "no such collection");
	} else {
		struct tix_uuid u;
		struct tix_time now;
		char us[37];

		sqlite3_reset(look);
		if (strlen(name_or_id) >= sizeof(out->title))
			return tix_error_set(err, TIX_EINVAL, "collection",
			                     "a title has at most %zu bytes",
			                     sizeof(out->title) - 1);
		if (tix_uuid_v4(&u) != TIX_OK)
			return tix_error_set(err, TIX_EIO, "collection", "no randomness for an id");
		tix_uuid_format(&u, us);
		tix_time_now(&now);
		if (sqlite3_prepare_v2(
		            s->db,
		            "INSERT INTO collections (id, title, created) VALUES (?1, ?2, ?3)", -1,
		            &st, NULL) != SQLITE_OK)
			return store__db_error(s, err, "creating a collection");
		sqlite3_bind_text(st, 1, us, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name_or_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, tix_time_to_us(&now));
		if (sqlite3_step(st) != SQLITE_DONE) {
			e = store__db_error(s, err, "creating a collection");
		} else {
			out->key = sqlite3_last_insert_rowid(s->db);
			snprintf(out->id, sizeof(out->id), "%s", us);
			snprintf(out->title, sizeof(out->title), "%s", name_or_id);
			e = TIX_OK;
		}
	}
	sqlite3_reset(look);
	sqlite3_finalize(st);
	return e;
}

/* Records the source digest of version vid and adds it to a collection. */
static enum tix_err link_version(struct store *s, int64_t vid,
                                 const struct store_collection *collection,
                                 const struct store_source *src, int *added, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;
	int member_added = 0;

	if (src) {
		st = s->st[ST_ADD_SOURCE];
		sqlite3_bind_blob(st, 1, src->digest, sizeof(src->digest), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, vid);
		if (sqlite3_step(st) != SQLITE_DONE)
			e = store__db_error(s, err, "recording the source digest");
		sqlite3_reset(st);
		if (e != TIX_OK)
			return e;
	}
	if (collection) {
		e = store_collection_add(s, collection, vid, &member_added, err);
		*added |= member_added;
	}
	return e;
}

enum tix_err store_put(struct store *s, const struct stix_meta *m, const char *body,
                       size_t body_len, const char *owner_org,
                       const struct store_collection *collection, const struct store_source *src,
                       int *added, struct tix_error *err)
{
	return store_put_from(s, m, body, body_len, owner_org, NULL, collection, src, added, err);
}

/* The version key of an observable copy names its owner: keep it short. */
static enum tix_err check_owner_name(const char *owner_org, struct tix_error *err)
{
	if (owner_org && strlen(owner_org) > 127)
		return tix_error_set(err, TIX_EINVAL, "store",
		                     "an organisation name has at most 127 bytes");
	return TIX_OK;
}

enum tix_err store_put_from(struct store *s, const struct stix_meta *m, const char *body,
                            size_t body_len, const char *owner_org, const char *origin_node,
                            const struct store_collection *collection,
                            const struct store_source *src, int *added, struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	char *recipients;
	char key[160];
	int64_t vid;
	enum tix_err e = TIX_OK;

	*added = 0;
	if (!s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store", "store_put outside a transaction");
	if ((e = check_owner_name(owner_org, err)) != TIX_OK ||
	    (e = store__check_write(s, m, owner_org, store_has_version(s, m, owner_org) != 1,
	                            err)) != TIX_OK)
		return e;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->type, -1, SQLITE_STATIC);
	if (m->spec_version)
		sqlite3_bind_text(st, 3, m->spec_version, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, m->created, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, store__version_key(m, owner_org, key, sizeof(key)), -1,
	                  SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, next_stamp(s));
	sqlite3_bind_int(st, 7, m->revoked);
	if (owner_org)
		sqlite3_bind_text(st, 8, owner_org, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_text64(st, 9, body, body_len, SQLITE_STATIC, SQLITE_UTF8);
	sqlite3_bind_text(st, 10, m->version ? m->version : "", -1, SQLITE_STATIC);
	/* The audience is resolved once, here, so reads compare integers. */
	sqlite3_bind_int(st, 11, m->tlp);
	sqlite3_bind_int(st, 12, (int)store_marking_flags(s, m));
	if (m->sharing_group)
		sqlite3_bind_text(st, 13, m->sharing_group, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 13);
	recipients = store__recipients_text(m->recipients);
	if (recipients)
		sqlite3_bind_text(st, 14, recipients, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 14);
	if (origin_node)
		sqlite3_bind_text(st, 15, origin_node, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 15);
	if (sqlite3_step(st) != SQLITE_DONE) {
		e = store__db_error(s, err, "storing a version");
		sqlite3_reset(st);
		free(recipients);
		return e;
	}
	sqlite3_reset(st);
	free(recipients);
	if (sqlite3_changes(s->db) == 1) {
		*added = 1;
		vid = sqlite3_last_insert_rowid(s->db);
		if ((e = store__record_owner(s, m, owner_org, err)) != TIX_OK ||
		    (e = store__index_version(s, vid, m, body, body_len, err)) != TIX_OK ||
		    (e = store__index_refs(s, vid, m, body, body_len, err)) != TIX_OK)
			return e;
		return link_version(s, vid, collection, src, added, err);
	}
	s->last_stamp--; /* the stamp was not used; hand it out again */
	return store_link(s, m, owner_org, collection, src, added, err);
}

enum tix_err store_link(struct store *s, const struct stix_meta *m, const char *owner_org,
                        const struct store_collection *collection, const struct store_source *src,
                        int *added, struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_VID];
	char key[160];
	int64_t vid;
	enum tix_err e;

	*added = 0;
	if ((e = check_owner_name(owner_org, err)) != TIX_OK ||
	    (e = store__check_write(s, m, owner_org, 0, err)) != TIX_OK)
		return e;
	if (collection == NULL && src == NULL)
		return TIX_OK;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store__version_key(m, owner_org, key, sizeof(key)), -1,
	                  SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		e = store__db_error(s, err, "finding a stored version");
		sqlite3_reset(st);
		return e;
	}
	vid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return link_version(s, vid, collection, src, added, err);
}

void store_source_digest(const void *bytes, size_t len, struct store_source *out)
{
	crypto_generichash(out->digest, sizeof(out->digest), bytes, len, NULL, 0);
}

int store_find_source(struct store *s, const struct store_source *src, const char *owner_org,
                      int64_t *vid)
{
	sqlite3_stmt *st = s->st[ST_FIND_SOURCE];
	int rc;

	sqlite3_bind_blob(st, 1, src->digest, sizeof(src->digest), SQLITE_STATIC);
	if (owner_org)
		sqlite3_bind_text(st, 2, owner_org, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*vid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

enum tix_err store_collection_add(struct store *s, const struct store_collection *c, int64_t vid,
                                  int *added, struct tix_error *err)
{
	sqlite3_stmt *st = s->st[ST_MEMBER];
	enum tix_err e = TIX_OK;

	*added = 0;
	if (!s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "collection_add outside a transaction");
	sqlite3_bind_int64(st, 1, c->key);
	sqlite3_bind_int64(st, 2, vid);
	sqlite3_bind_int64(st, 3, next_stamp(s));
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "adding a version to a collection");
	else if (sqlite3_changes(s->db) == 1)
		*added = 1;
	else
		s->last_stamp--;
	sqlite3_reset(st);
	if (e == TIX_OK && *added)
		e = store__mark_superseded(s, c->key, vid, err);
	return e;
}

/* Keeps collection_objects.superseded true exactly for the versions that
 * have a later version of the same object in the same collection, so that
 * "the latest version in this collection" needs no subquery per row. After
 * vid joined collection ckey: its earlier versions there are superseded,
 * and it is itself if a later one was there already. */
enum tix_err store__mark_superseded(struct store *s, int64_t ckey, int64_t vid,
                                    struct tix_error *err)
{
	static const char *const sql[] = {
	        "UPDATE collection_objects SET superseded = 1"
	        " WHERE ckey = ?1 AND superseded = 0 AND vid IN ("
	        "  SELECT o2.vid FROM objects o, objects o2"
	        "  WHERE o.vid = ?2 AND o2.id = o.id AND o2.modified < o.modified"
	        "  AND substr(o.modified, 1, 1) <> '#')",
	        "UPDATE collection_objects SET superseded = 1"
	        " WHERE ckey = ?1 AND vid = ?2 AND EXISTS ("
	        "  SELECT 1 FROM objects o, objects o2, collection_objects m2"
	        "  WHERE o.vid = ?2 AND o2.id = o.id AND o2.modified > o.modified"
	        "  AND substr(o.modified, 1, 1) <> '#' AND m2.ckey = ?1 AND m2.vid = o2.vid)",
	};

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = store__cached(s, sql[i], err);

		if (st == NULL)
			return err ? err->code : TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_int64(st, 2, vid);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return store__db_error(s, err, "marking superseded versions");
		}
		sqlite3_reset(st);
	}
	return TIX_OK;
}

/* ---- reading ----------------------------------------------------------- */

struct store_audience store__audience(sqlite3_stmt *st, int col)
{
	struct store_audience a = {
	        sqlite3_column_int(st, col),
	        (unsigned)sqlite3_column_int(st, col + 1),
	        (const char *)sqlite3_column_text(st, col + 2),
	        (const char *)sqlite3_column_text(st, col + 3),
	        (const char *)sqlite3_column_text(st, col + 4),
	        (const char *)sqlite3_column_text(st, col + 5),
	};
	return a;
}

struct store_row store__row(sqlite3_stmt *st)
{
	struct store_row row = {
	        (const char *)sqlite3_column_text(st, 0),
	        (const char *)sqlite3_column_text(st, 1),
	        (const char *)sqlite3_column_text(st, 2),
	        sqlite3_column_int64(st, 3),
	        (const char *)sqlite3_column_text(st, 4),
	        (size_t)sqlite3_column_bytes(st, 4),
	        store__audience(st, 5),
	};
	return row;
}

/* The versions that a later version of the same object supersedes, as
 * bits by vid: one walk of the (id, modified) index in its order, where
 * a version is superseded when the next entry has the same id. In place of
 * a probe of that index per row in date_added order (a random seek each,
 * what made a large export slow); a bit per version up to the highest one
 * superseded, nothing when every object has one version. */
struct vid_bits {
	uint64_t *w;
	size_t nw;
};

static int vid_bit(const struct vid_bits *b, int64_t vid)
{
	size_t i = (size_t)vid / 64;

	return vid >= 0 && i < b->nw && (b->w[i] >> (vid % 64) & 1);
}

static enum tix_err superseded_versions(struct store *s, struct vid_bits *b, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct tix_buf prev;
	int64_t prev_vid = -1;
	enum tix_err e = TIX_OK;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT id, vid FROM objects WHERE substr(modified, 1, 1) <> '#'"
	                       " ORDER BY id, modified",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "preparing a query");
	tix_buf_init(&prev, TIX_BUF_UNLIMITED);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		int64_t vid = sqlite3_column_int64(st, 1);

		if (prev_vid >= 0 && n == tix_buf_len(&prev) &&
		    memcmp(id, tix_buf_str(&prev), n) == 0) {
			size_t i = (size_t)prev_vid / 64;

			if (i >= b->nw) {
				size_t nw = b->nw ? 2 * b->nw : 16;
				uint64_t *w;

				if (nw <= i)
					nw = i + 1;
				if (nw > SIZE_MAX / sizeof(*w) ||
				    (w = realloc(b->w, nw * sizeof(*w))) == NULL) {
					e = tix_error_set(err, TIX_ENOMEM, "store",
					                  "out of memory");
					break;
				}
				memset(w + b->nw, 0, (nw - b->nw) * sizeof(*w));
				b->w = w;
				b->nw = nw;
			}
			b->w[i] |= (uint64_t)1 << (prev_vid % 64);
		}
		tix_buf_reset(&prev);
		if (tix_buf_add(&prev, id, n) != TIX_OK) {
			e = tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
			break;
		}
		prev_vid = vid;
	}
	if (e == TIX_OK && rc != SQLITE_DONE)
		e = store__db_error(s, err, "reading the versions");
	sqlite3_finalize(st);
	tix_buf_release(&prev);
	return e;
}

enum tix_err store_query(struct store *s, const struct store_query *q, store_row_cb cb, void *arg,
                         struct tix_error *err)
{
	struct tix_buf sql;
	struct vid_bits superseded = {NULL, 0};
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	/* the latest versions of the whole store: by the bits, and the walk
	 * and the query see one snapshot (a read transaction of their own
	 * unless the caller has one open) */
	int by_bits = !q->all_versions && !q->collection && !q->id;
	int own_read = by_bits && sqlite3_get_autocommit(s->db);
	int rc;

	tix_buf_init(&sql, 1 << 16);
	if (own_read && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		e = store__db_error(s, err, "starting a read");
		tix_buf_release(&sql);
		return e;
	}
	if (by_bits && (e = superseded_versions(s, &superseded, err)) != TIX_OK)
		goto out;
	if (q->collection)
		tix_buf_adds(&sql,
		             "SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS
		             ", o.vid FROM collection_objects m JOIN objects o ON o.vid = m.vid"
		             " WHERE m.ckey = ?1");
	else
		tix_buf_adds(&sql, "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
		                   ", o.vid FROM objects o WHERE ?1 IS NOT NULL");
	if (q->added_after > 0)
		tix_buf_adds(&sql,
		             q->collection ? " AND m.date_added > ?2" : " AND o.date_added > ?2");
	if (q->id)
		tix_buf_adds(&sql, " AND o.id = ?3");
	if (q->types && q->types[0]) {
		/* "+": not through objects_type, whose rows SQLite would have to
		 * sort (bodies and all) by date_added in memory; the walk in
		 * date_added order keeps an export's memory flat. */
		tix_buf_adds(&sql, " AND +o.type IN (");
		for (int i = 0; q->types[i]; i++)
			tix_buf_addf(&sql, "%s?%d", i ? ", " : "", 10 + i);
		tix_buf_adds(&sql, ")");
	}
	if (!q->all_versions) {
		/* in a collection, the flag kept with its members
		 * (store__mark_superseded); one object: a probe */
		if (q->collection)
			tix_buf_adds(&sql, " AND m.superseded = 0");
		else if (q->id)
			tix_buf_adds(&sql, " AND NOT EXISTS (SELECT 1 FROM objects o2"
			                   " WHERE o2.id = o.id AND o2.modified > o.modified"
			                   " AND substr(o.modified, 1, 1) <> '#')");
	}
	tix_buf_adds(&sql, q->collection ? " ORDER BY m.date_added" : " ORDER BY o.date_added");
	if (sqlite3_prepare_v2(s->db, tix_buf_str(&sql), -1, &st, NULL) != SQLITE_OK) {
		e = store__db_error(s, err, "preparing a query");
		goto out;
	}
	sqlite3_bind_int64(st, 1, q->collection ? q->collection->key : 1);
	if (q->added_after > 0)
		sqlite3_bind_int64(st, 2, q->added_after);
	if (q->id)
		sqlite3_bind_text(st, 3, q->id, -1, SQLITE_STATIC);
	for (int i = 0; q->types && q->types[i]; i++)
		sqlite3_bind_text(st, 10 + i, q->types[i], -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row row;

		if (superseded.nw && vid_bit(&superseded, sqlite3_column_int64(st, 11)))
			continue;
		row = store__row(st);
		if (cb(arg, &row) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "reading objects");
out:
	sqlite3_finalize(st);
	if (own_read)
		sqlite3_exec(s->db, "END", NULL, NULL, NULL);
	free(superseded.w);
	tix_buf_release(&sql);
	return e;
}

enum tix_err store_stats(struct store *s, const struct store_stats_cb *cb, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT type, count(DISTINCT id), count(*) FROM objects"
	                       " GROUP BY type ORDER BY type",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "counting objects");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_type_count c = {(const char *)sqlite3_column_text(st, 0),
		                             sqlite3_column_int64(st, 1),
		                             sqlite3_column_int64(st, 2)};
		if (cb->type)
			cb->type(cb->arg, &c);
	}
	if (rc != SQLITE_DONE)
		e = store__db_error(s, err, "counting objects");
	sqlite3_finalize(st);
	if (e != TIX_OK)
		return e;
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT c.id, c.title, (SELECT count(DISTINCT o.id) FROM"
	                       " collection_objects m JOIN objects o ON o.vid = m.vid"
	                       " WHERE m.ckey = c.ckey) FROM collections c ORDER BY c.title",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "counting collections");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_collection_count c = {(const char *)sqlite3_column_text(st, 0),
		                                   (const char *)sqlite3_column_text(st, 1),
		                                   sqlite3_column_int64(st, 2)};
		if (cb->collection)
			cb->collection(cb->arg, &c);
	}
	if (rc != SQLITE_DONE)
		e = store__db_error(s, err, "counting collections");
	sqlite3_finalize(st);
	return e;
}

static int first_problem(void *arg, const char *problem)
{
	char *out = arg;

	if (out[0] == '\0')
		snprintf(out, 256, "%s", problem);
	return 0;
}

enum tix_err store_check(struct store *s, struct tix_error *err)
{
	char first[256] = "";
	size_t problems = 0;
	enum tix_err e = store_check_report(s, first_problem, first, &problems, err);

	if (e == TIX_OK && problems > 0)
		e = tix_error_set(err, TIX_ESTORE, "store", "integrity check failed: %s", first);
	return e;
}
