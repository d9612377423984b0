/*
 * tests/unit/store/test_pg_store.c — the store on a real PostgreSQL
 * (tools/pg.sh run, issue 18): the whole migration list applied to a new
 * database gives the tables, columns and indexes of the SQLite schema, a
 * second run changes nothing, a newer schema is refused, servers starting
 * together migrate one after the other; and the store
 * functions of the modules written on db.h (accounts, policy, sessions,
 * request, ownership, route, sync; the sightings' counter of feeds.c) give
 * the same answers on both, and a peer changed or removed moves the data
 * version a second handle sees.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../tmpdir.h"
#include "stix/stix.h"
#include "store/store_int.h"

static const char *pg_url; /* TIX_TEST_PG_URL, from tools/pg.sh */

struct fixture {
	char dir[256], path[300];
	struct store *sq, *pg;
};

/* Runs sql on PostgreSQL on a connection of its own. */
static void pg_exec(const char *sql)
{
	struct tix_error err;
	struct db *db = db_open(pg_url, 0, &err);

	if (db == NULL)
		fail_msg("cannot connect: %s", err.msg);
	if (db_exec(db, sql, NULL) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_close(db);
}

static struct fixture the_fixture; /* the test's stores (setup) */

static int setup(void **state)
{
	struct tix_error err;

	memset(&the_fixture, 0, sizeof(the_fixture));
	/* A new database for each test: the schema emptied. */
	pg_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	if (test_tmpdir_make("pgstore", the_fixture.dir, sizeof(the_fixture.dir), the_fixture.path,
	                     sizeof(the_fixture.path)) != 0)
		return -1;
	if ((the_fixture.sq = store_open(the_fixture.path, NULL, &err)) == NULL) {
		fprintf(stderr, "SQLite store: %s\n", err.msg);
		return -1;
	}
	if ((the_fixture.pg = store__open_pg(pg_url, &err)) == NULL) {
		fprintf(stderr, "PostgreSQL store: %s: %s\n", err.where, err.msg);
		return -1;
	}
	*state = &the_fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->sq);
	store_close(f->pg);
	f->sq = f->pg = NULL;
	test_tmpdir_remove(f->dir);
	return 0;
}

/* Every row of a query of one or two text columns, one line each. */
static void rows_text(struct db *db, const char *sql, char *out, size_t size)
{
	struct db_stmt *st;
	size_t n = 0;
	enum db_rc rc;

	out[0] = '\0';
	if (db_prepare(db, sql, NULL, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	while ((rc = db_step(st)) == DB_ROW) {
		const char *a = db_column_text(st, 0, NULL);
		const char *b = db_column_count(st) > 1 ? db_column_text(st, 1, NULL) : NULL;

		n += (size_t)snprintf(out + n, size - n, "%s%s%s\n", a ? a : "NULL", b ? " " : "",
		                      b ? b : "");
		assert_true(n < size);
	}
	assert_int_equal(rc, DB_DONE);
	db_finalize(st);
}

/* The tables, their columns and the named indexes of each schema, in one
 * text each. FTS5's table (text_index) is a table with a tsvector on
 * PostgreSQL: its name is compared, its columns and shadow tables not. */
#define CATALOG_SIZE 32768
static void sqlite_catalog(struct store *s, char *out)
{
	struct db *db = store__engine(s);
	size_t n;

	rows_text(db,
	          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
	          " AND name NOT GLOB 'text_index_*' ORDER BY name",
	          out, CATALOG_SIZE);
	n = strlen(out);
	rows_text(db,
	          "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p"
	          " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'"
	          " AND m.name NOT GLOB 'text_index*' ORDER BY m.name, p.name",
	          out + n, CATALOG_SIZE - n);
	n = strlen(out);
	rows_text(db,
	          "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
	          " ORDER BY name",
	          out + n, CATALOG_SIZE - n);
}

static void pg_catalog(struct store *s, char *out)
{
	struct db *db = store__engine(s);
	size_t n;

	rows_text(db,
	          "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'"
	          " ORDER BY tablename::text COLLATE \"C\"",
	          out, CATALOG_SIZE);
	n = strlen(out);
	rows_text(db,
	          "SELECT table_name::text, column_name::text FROM information_schema.columns"
	          " WHERE table_schema = 'public' AND table_name::text <> 'text_index'"
	          " ORDER BY table_name::text COLLATE \"C\", column_name::text COLLATE \"C\"",
	          out + n, CATALOG_SIZE - n);
	n = strlen(out);
	/* Indexes PostgreSQL names itself (primary keys, UNIQUE) left out, and
	 * the tsvector's GIN index, which stands for FTS5's own. */
	rows_text(db,
	          "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'"
	          " AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'"
	          " AND indexname <> 'text_index_doc' ORDER BY indexname::text COLLATE \"C\"",
	          out + n, CATALOG_SIZE - n);
}

static void test_every_migration_has_postgresql_text(void **state)
{
	char missing[512] = "";
	size_t n = 0;

	(void)state;
	assert_int_equal(store__nmigrations, store_schema_version());
	for (int i = 0; i < store__nmigrations; i++) {
		assert_non_null(store__migrations[i].sqlite);
		if (store__migrations[i].pg == NULL)
			n += (size_t)snprintf(missing + n, sizeof(missing) - n, " %d", i + 1);
	}
	/* A version missing here is one PostgreSQL cannot reach. */
	assert_string_equal(missing, "");
}

static void test_schema_matches_sqlite(void **state)
{
	struct fixture *f = *state;
	char *sq = malloc(CATALOG_SIZE), *pg = malloc(CATALOG_SIZE), v[32];

	assert_non_null(sq);
	assert_non_null(pg);
	sqlite_catalog(f->sq, sq);
	pg_catalog(f->pg, pg);
	/* Some of each, so that an empty catalogue cannot pass. */
	assert_non_null(strstr(sq, "\nobjects\n"));
	assert_non_null(strstr(pg, "objects body\n"));
	assert_non_null(strstr(pg, "\nobjects_day\n"));
	assert_string_equal(pg, sq);
	/* Both at the same version: the list's length. */
	rows_text(store__engine(f->pg), "SELECT value FROM meta WHERE key = 'schema_version'", v,
	          sizeof(v));
	assert_int_equal(strtol(v, NULL, 10), store_schema_version());
	rows_text(store__engine(f->sq), "PRAGMA user_version", v, sizeof(v));
	assert_int_equal(strtol(v, NULL, 10), store_schema_version());
	free(sq);
	free(pg);
}

static void test_migrating_again_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char *before = malloc(CATALOG_SIZE), *after = malloc(CATALOG_SIZE);
	char meta_before[4096], meta_after[4096];
	struct tix_error err;
	struct store_org o;

	assert_non_null(before);
	assert_non_null(after);
	assert_int_equal(store_org_add(f->pg, "acme", "", &err), TIX_OK);
	pg_catalog(f->pg, before);
	rows_text(store__engine(f->pg), "SELECT key, value FROM meta ORDER BY key COLLATE \"C\"",
	          meta_before, sizeof(meta_before));
	store_close(f->pg);
	f->pg = store__open_pg(pg_url, &err);
	assert_non_null(f->pg);
	pg_catalog(f->pg, after);
	rows_text(store__engine(f->pg), "SELECT key, value FROM meta ORDER BY key COLLATE \"C\"",
	          meta_after, sizeof(meta_after));
	assert_string_equal(after, before);
	assert_string_equal(meta_after, meta_before);
	assert_int_equal(store_org_get(f->pg, "acme", &o, &err), TIX_OK);
	free(before);
	free(after);
}

static void test_newer_schema_refused(void **state)
{
	struct tix_error err;
	char sql[128], want[128];

	(void)state;
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = 'schema_version'",
	         store_schema_version() + 1);
	pg_exec(sql);
	memset(&err, 0, sizeof(err));
	assert_null(store__open_pg(pg_url, &err));
	snprintf(want, sizeof(want), "schema version %d is newer than this tix (%d)",
	         store_schema_version() + 1, store_schema_version());
	assert_non_null(strstr(err.msg, want));
}

/* A migration added without PostgreSQL's text ({sqlite, NULL, NULL}, as
 * migrations written before this list took one): PostgreSQL stops before
 * it, saying which, and keeps the version it reached. */
static void test_entry_not_yet_on_postgresql_refused(void **state)
{
	struct fixture *f = *state;
	struct store_migration *list = calloc((size_t)store__nmigrations + 1, sizeof(*list));
	struct tix_error err;
	char want[96], v[32];

	assert_non_null(list);
	memcpy(list, store__migrations, (size_t)store__nmigrations * sizeof(*list));
	list[store__nmigrations].sqlite = "CREATE TABLE later (a INTEGER)";
	memset(&err, 0, sizeof(err));
	assert_int_equal(store__migrate_list(f->pg, list, store__nmigrations + 1, &err),
	                 TIX_ESTORE);
	snprintf(want, sizeof(want), "schema version %d is not yet on PostgreSQL",
	         store__nmigrations + 1);
	assert_non_null(strstr(err.msg, want));
	rows_text(store__engine(f->pg), "SELECT value FROM meta WHERE key = 'schema_version'", v,
	          sizeof(v));
	assert_int_equal(strtol(v, NULL, 10), store__nmigrations);
	rows_text(store__engine(f->pg), "SELECT count(*) FROM pg_tables WHERE tablename = 'later'",
	          v, sizeof(v));
	assert_string_equal(v, "0\n");
	/* SQLite takes it. */
	assert_int_equal(store__migrate_list(f->sq, list, store__nmigrations + 1, &err), TIX_OK);
	rows_text(store__engine(f->sq), "PRAGMA user_version", v, sizeof(v));
	assert_int_equal(strtol(v, NULL, 10), store__nmigrations + 1);
	free(list);
}

struct opener {
	struct store *s;
	struct tix_error err;
};

static void *open_pg(void *arg)
{
	struct opener *o = arg;

	o->s = store__open_pg(pg_url, &o->err);
	return NULL;
}

/* Servers starting together on a new database: one migrates, the others
 * wait for it (the advisory lock) and find the schema made; without the
 * lock the second would fail on a table that already exists. */
static void test_concurrent_migrations_one_after_the_other(void **state)
{
	struct opener o[4];
	pthread_t t[4];
	char v[32];

	(void)state;
	pg_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_pg, &o[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		if (o[i].s == NULL)
			fail_msg("opener %d: %s", i, o[i].err.msg);
	}
	rows_text(store__engine(o[0].s), "SELECT value FROM meta WHERE key = 'schema_version'", v,
	          sizeof(v));
	assert_int_equal(strtol(v, NULL, 10), store_schema_version());
	for (int i = 0; i < 4; i++)
		store_close(o[i].s);
}

static int count_cb(void *arg, const struct store_apikey *k)
{
	(void)k;
	++*(int *)arg;
	return 0;
}

static int org_cb(void *arg, const struct store_org *o)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s/%s;", o->name, o->country);
	return 0;
}

static int user_cb(void *arg, const struct store_user *u)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s@%s/%s;", u->name, u->org, store_role_name(u->role));
	return 0;
}

static int member_cb(void *arg, const char *group, const char *org)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s:%s;", group, org ? org : "-");
	return 0;
}

static int coll_cb(void *arg, const struct store_collection_info *ci)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s:%d%d;", ci->title, ci->can_read, ci->can_write);
	return 0;
}

static int group_cb(void *arg, const char *group)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s;", group);
	return 0;
}

/* Accounts, grants and the node secret (accounts.c). */
static void accounts_on(struct store *s)
{
	struct tix_error err;
	struct store_org o;
	struct store_user u;
	struct store_apikey k;
	struct store_collection c1, c2;
	unsigned char hash[32], secret[32], again[32];
	char seen[256] = "";
	int n = 0, r = 0, w = 0;

	assert_int_equal(store_org_add(s, "acme", "de", &err), TIX_OK);
	assert_int_equal(store_org_add(s, "acme", "", &err), TIX_EEXIST);
	assert_int_equal(store_org_add(s, "beta", "", &err), TIX_OK);
	assert_int_equal(store_org_get(s, "acme", &o, &err), TIX_OK);
	assert_string_equal(o.country, "DE");
	assert_true(o.key > 0);
	assert_int_equal(store_user_add(s, "ana", "acme", STORE_ROLE_ANALYST, "$argon2id$x", &err),
	                 TIX_OK);
	assert_int_equal(store_user_add(s, "bob", "nobody", STORE_ROLE_READER, "", &err),
	                 TIX_ENOTFOUND);
	assert_int_equal(store_user_get(s, "ana", &u, &err), TIX_OK);
	assert_string_equal(u.org, "acme");
	assert_int_equal(u.org_key, o.key);
	assert_int_equal(u.role, STORE_ROLE_ANALYST);
	assert_string_equal(u.password_hash, "$argon2id$x");
	assert_int_equal(store_user_get(s, "bob", &u, &err), TIX_ENOTFOUND);
	/* A digest with a NUL and high bytes comes back byte for byte. */
	for (int i = 0; i < 32; i++)
		hash[i] = (unsigned char)(i * 37);
	assert_int_equal(store_apikey_add(s, "ana", "k1", hash, &err), TIX_OK);
	assert_int_equal(store_apikey_add(s, "ana", "k1", hash, &err), TIX_EEXIST);
	assert_int_equal(store_apikey_get(s, "k1", &k, &err), TIX_OK);
	assert_memory_equal(k.hash, hash, 32);
	assert_string_equal(k.user, "ana");
	assert_int_equal(store_apikey_touch(s, "k1", 123456789012345, &err), TIX_OK);
	assert_int_equal(store_apikey_get(s, "k1", &k, &err), TIX_OK);
	assert_int_equal(k.last_used, 123456789012345);
	assert_int_equal(store_apikey_touch(s, "nope", 1, &err), TIX_ENOTFOUND);
	assert_int_equal(store_apikey_list(s, NULL, count_cb, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_apikey_list(s, "ana", count_cb, &n, &err), TIX_OK);
	assert_int_equal(n, 2);
	/* New rows' keys come from RETURNING. */
	assert_int_equal(store_collection_create(s, "intel", "what we see", &c1, &err), TIX_OK);
	assert_int_equal(store_collection_create(s, "more", NULL, &c2, &err), TIX_OK);
	assert_int_equal(store_collection_create(s, "intel", NULL, &c2, &err), TIX_EEXIST);
	assert_int_equal(store_collection_create(s, "more2", NULL, &c2, &err), TIX_OK);
	assert_true(c1.key > 0 && c2.key > 0 && c1.key != c2.key);
	assert_int_equal(store_collection_grant(s, &c1, "acme", 1, 0, &err), TIX_OK);
	assert_int_equal(store_collection_grant(s, &c1, "acme", 1, 1, &err), TIX_OK);
	assert_int_equal(store_collection_grant(s, &c1, "nobody", 1, 1, &err), TIX_ENOTFOUND);
	assert_int_equal(store_collection_access(s, &c1, o.key, &r, &w, &err), TIX_OK);
	assert_true(r && w);
	assert_int_equal(store_collection_access(s, &c2, o.key, &r, &w, &err), TIX_OK);
	assert_true(!r && !w);
	assert_int_equal(store_collection_list(s, o.key, 0, coll_cb, seen, &err), TIX_OK);
	assert_string_equal(seen, "intel:11;more:00;more2:00;");
	seen[0] = '\0';
	assert_int_equal(store_org_list(s, org_cb, seen, &err), TIX_OK);
	assert_string_equal(seen, "acme/DE;beta/;");
	assert_int_equal(store_user_add(s, "cy", "beta", STORE_ROLE_SENSOR, "", &err), TIX_OK);
	seen[0] = '\0';
	assert_int_equal(store_user_list(s, user_cb, seen, &err), TIX_OK);
	assert_string_equal(seen, "ana@acme/analyst;cy@beta/sensor;");
	assert_int_equal(store_user_remove(s, "cy", &err), TIX_OK);
	assert_int_equal(store_user_remove(s, "cy", &err), TIX_ENOTFOUND);
	assert_int_equal(store_node_secret(s, secret, &err), TIX_OK);
	assert_int_equal(store_node_secret(s, again, &err), TIX_OK);
	assert_memory_equal(secret, again, 32);
	/* The organisation's users, keys and grants go with it. */
	assert_int_equal(store_org_remove(s, "acme", &err), TIX_OK);
	assert_int_equal(store_user_get(s, "ana", &u, &err), TIX_ENOTFOUND);
	assert_int_equal(store_apikey_get(s, "k1", &k, &err), TIX_ENOTFOUND);
	assert_int_equal(store_org_remove(s, "acme", &err), TIX_ENOTFOUND);
}

/* Node settings, sharing groups, sectors (policy.c). */
static void policy_on(struct store *s)
{
	struct tix_error err;
	struct store_org o;
	char v[64], groups[256] = "";

	assert_int_equal(store_org_add(s, "acme", "", &err), TIX_OK);
	assert_int_equal(store_setting_get(s, "default_tlp", v, sizeof(v), &err), TIX_ENOTFOUND);
	assert_int_equal(store_setting_set(s, "default_tlp", "amber", &err), TIX_OK);
	assert_int_equal(store_setting_set(s, "default_tlp", "green", &err), TIX_OK);
	assert_int_equal(store_setting_get(s, "default_tlp", v, sizeof(v), &err), TIX_OK);
	assert_string_equal(v, "green");
	assert_int_equal(store_setting_set(s, "default_tlp", NULL, &err), TIX_OK);
	assert_int_equal(store_setting_get(s, "default_tlp", v, sizeof(v), &err), TIX_ENOTFOUND);
	assert_int_equal(store_group_add(s, "energy", &err), TIX_OK);
	assert_int_equal(store_group_add(s, "energy", &err), TIX_EEXIST);
	assert_int_equal(store_group_add(s, "water", &err), TIX_OK);
	assert_int_equal(store_group_member(s, "water", "acme", 1, &err), TIX_OK);
	assert_int_equal(store_group_member(s, "energy", "acme", 1, &err), TIX_OK);
	assert_int_equal(store_group_member(s, "energy", "acme", 1, &err), TIX_OK);
	assert_int_equal(store_group_member(s, "none", "acme", 1, &err), TIX_ENOTFOUND);
	assert_int_equal(store_org_groups(s, "acme", group_cb, groups, &err), TIX_OK);
	assert_string_equal(groups, "energy;water;");
	assert_int_equal(store_group_add(s, "empty", &err), TIX_OK);
	groups[0] = '\0';
	assert_int_equal(store_group_list(s, member_cb, groups, &err), TIX_OK);
	assert_string_equal(groups, "empty:-;energy:acme;water:acme;");
	assert_int_equal(store_group_member(s, "water", "acme", 0, &err), TIX_OK);
	assert_int_equal(store_group_member(s, "water", "acme", 0, &err), TIX_ENOTFOUND);
	assert_int_equal(store_group_remove(s, "energy", &err), TIX_OK);
	assert_int_equal(store_group_remove(s, "energy", &err), TIX_ENOTFOUND);
	groups[0] = '\0';
	assert_int_equal(store_org_groups(s, "acme", group_cb, groups, &err), TIX_OK);
	assert_string_equal(groups, "");
	assert_int_equal(store_org_set_sector(s, "acme", "finance", &err), TIX_OK);
	assert_int_equal(store_org_set_sector(s, "nobody", "finance", &err), TIX_ENOTFOUND);
	assert_int_equal(store_org_get(s, "acme", &o, &err), TIX_OK);
	assert_string_equal(o.sector, "finance");
}

/* The console's sessions (sessions.c): a password change ends them. */
static void sessions_on(struct store *s)
{
	struct tix_error err;
	struct store_user u;
	struct store_session x;
	unsigned char d1[32], d2[32];
	const int64_t t = 1700000000000000, hour = 3600000000;

	memset(d1, 0, sizeof(d1));
	memset(d2, 0xff, sizeof(d2));
	assert_int_equal(store_org_add(s, "acme", "", &err), TIX_OK);
	assert_int_equal(store_user_add(s, "ana", "acme", STORE_ROLE_ANALYST, "h1", &err), TIX_OK);
	assert_int_equal(store_user_get(s, "ana", &u, &err), TIX_OK);
	assert_int_equal(store_session_add(s, d1, u.key, t, t + 8 * hour, &err), TIX_OK);
	assert_int_equal(store_session_add(s, d2, u.key, t, t + 8 * hour, &err), TIX_OK);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_OK);
	assert_string_equal(x.user, "ana");
	assert_int_equal(x.created, t);
	assert_int_equal(x.expires, t + 8 * hour);
	assert_int_equal(store_session_touch(s, d1, t + hour, &err), TIX_OK);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_OK);
	assert_int_equal(x.last_used, t + hour);
	/* d2 idle since t: gone after an idle hour; d1 used at t + 1 h stays. */
	assert_int_equal(store_sessions_expire(s, t + hour + hour / 2, hour, &err), TIX_OK);
	assert_int_equal(store_session_get(s, d2, &x, &err), TIX_ENOTFOUND);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_OK);
	/* The same hash again keeps the sessions; a new one ends them. */
	assert_int_equal(store_user_set_password(s, "ana", "h1", &err), TIX_OK);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_OK);
	assert_int_equal(store_user_set_password(s, "ana", "h2", &err), TIX_OK);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_ENOTFOUND);
	assert_int_equal(store_session_add(s, d1, u.key, t, t + hour, &err), TIX_OK);
	assert_int_equal(store_session_remove(s, d1, &err), TIX_OK);
	assert_int_equal(store_session_get(s, d1, &x, &err), TIX_ENOTFOUND);
}

/* Contact points' signing keys (request.c): a new key retires the old. */
static void request_on(struct store *s)
{
	struct tix_error err;
	unsigned char pk1[32], sk1[64], pk2[32], sk2[64], pk[32], sk[64];

	memset(pk1, 1, sizeof(pk1));
	memset(sk1, 2, sizeof(sk1));
	memset(pk2, 3, sizeof(pk2));
	memset(sk2, 4, sizeof(sk2));
	assert_int_equal(store_request_key_get(s, "acme", pk, sk, &err), TIX_ENOTFOUND);
	assert_int_equal(store_request_key_add(s, "acme", pk1, sk1, 10, &err), TIX_OK);
	assert_int_equal(store_request_key_get(s, "acme", pk, sk, &err), TIX_OK);
	assert_memory_equal(pk, pk1, 32);
	assert_memory_equal(sk, sk1, 64);
	assert_int_equal(store_request_key_add(s, "acme", pk2, sk2, 20, &err), TIX_OK);
	assert_int_equal(store_request_key_get(s, "acme", pk, sk, &err), TIX_OK);
	assert_memory_equal(pk, pk2, 32);
	assert_memory_equal(sk, sk2, 64);
}

/* Owners (ownership.c): the first writer of an id owns it; a
 * marking-definition re-resolves the versions that refer to it. */
static void ownership_on(struct store *s)
{
	struct tix_error err;
	struct stix_meta m, md;
	char created[64];
	int64_t n = -1;

	memset(&m, 0, sizeof(m));
	m.id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
	m.type = "indicator";
	snprintf(m.created, sizeof(m.created), "2024-01-01T00:00:00.000000000Z");
	snprintf(m.modified, sizeof(m.modified), "2024-01-01T00:00:00.000000000Z");
	m.version = "2024-01-01T00:00:00.000Z";
	m.created_by_ref = "identity--0c4ea3ba-f0d2-4b17-a1bf-1c0b9a0e6f02";
	assert_int_equal(store_id_stored(s, m.id), 0);
	assert_int_equal(store__check_write(s, &m, "acme", 1, &err), TIX_OK);
	assert_int_equal(store__record_owner(s, &m, "acme", &err), TIX_OK);
	assert_int_equal(store__record_owner(s, &m, "beta", &err), TIX_OK); /* kept: acme's */
	assert_int_equal(store_id_stored(s, m.id), 1);
	assert_int_equal(store__check_write(s, &m, "acme", 1, &err), TIX_OK);
	assert_int_equal(store__check_write(s, &m, "beta", 1, &err), TIX_EDENIED);
	assert_int_equal(store__check_write(s, &m, NULL, 1, &err), TIX_EDENIED);
	assert_int_equal(store_object_created(s, m.id, "acme", created, sizeof(created), &err),
	                 TIX_OK);
	assert_string_equal(created, m.created);
	assert_int_equal(store_object_created(s, m.id, "beta", created, sizeof(created), &err),
	                 TIX_OK);
	assert_string_equal(created, "");
	memset(&md, 0, sizeof(md));
	md.id = "marking-definition--1b7a7cbd-fb2f-4a0f-9b5e-1a8f1a9b1f11";
	md.type = "marking-definition";
	snprintf(md.created, sizeof(md.created), "2024-01-01T00:00:00.000000000Z");
	snprintf(md.modified, sizeof(md.modified), "2024-01-01T00:00:00.000000000Z");
	md.version = "2024-01-01T00:00:00.000Z";
	assert_int_equal(store__record_owner(s, &md, "acme", &err), TIX_OK);
	assert_int_equal(store_unknown_markings(s, &n, &err), TIX_OK);
	assert_int_equal(n, 0);
}

static int agg_cb(void *arg, const struct store_route_agg *a)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s %s %s %lld %lld..%lld AS%lld %s;", a->day, a->address,
	         a->type, (long long)a->count, (long long)a->first, (long long)a->last,
	         (long long)a->asn, a->feeds);
	return 0;
}

static int unrouted_cb(void *arg, const struct store_route_unrouted *u)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s:%s:%lld:%s;", u->key, u->reason, (long long)u->line, u->row);
	return 0;
}

static int constituent_cb(void *arg, const struct store_constituent *c)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s/%s/%s/%d;", c->name, c->org, c->lang, c->has_pgp_key);
	return 0;
}

static void range_cb(void *arg, int64_t ckey, const struct store_route_range *r)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%lld:%d:%u.%u.%u.%u/%u;", (long long)ckey, r->family, r->lo[0],
	         r->lo[1], r->lo[2], r->lo[3], r->plen);
}

static void asn_row_cb(void *arg, const struct store_route_range *r, int64_t asn)
{
	range_cb(arg, asn, r);
}

/* Routed reports, their digest rows by day, unrouted rows (route.c). The
 * constituent is written by hand: store_constituent_put takes the store's
 * transaction (store_begin), which is not on db.h yet. */
static void route_on(struct store *s)
{
	struct tix_error err;
	struct db_stmt *st;
	char out[512] = "";
	int64_t ckey, day = 1700000000000000; /* 2023-11-14T22:13:20Z */
	int added = -1;
	struct store_route_report r = {
	        "report--1", "feed-a", "malicious-code", "infected-system", "192.0.2.1", 0, 64500,
	        day,         day};
	struct store_route_unrouted u = {"report--9", "feed-a",      "a.csv", "no-constituent",
	                                 "",          "192.0.2.9,x", 7,       day};

	assert_int_equal(db_prepare(store__engine(s),
	                            "INSERT INTO route_constituents (name, org, created)"
	                            " VALUES ('ops', 'acme', 1) RETURNING ckey",
	                            NULL, &st),
	                 DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	ckey = db_column_int64(st, 0);
	db_finalize(st);
	r.ckey = ckey;
	/* Ranges as the store keeps them (4 or 16 bytes), read back as ranges;
	 * a damaged one (3 bytes) is left out. */
	assert_int_equal(db_prepare(store__engine(s),
	                            "INSERT INTO route_ranges (ckey, family, lo, hi, plen)"
	                            " VALUES (?1, 4, ?2, ?2, 24)",
	                            NULL, &st),
	                 DB_OK);
	db_bind_int64(st, 1, ckey);
	db_bind_blob(st, 2, "\xc0\x00\x02\x00", 4);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(db_prepare(store__engine(s),
	                            "INSERT INTO route_pfx2asn (family, lo, plen, asn)"
	                            " VALUES (4, ?1, 16, 64500), (4, ?2, 8, 64501)",
	                            NULL, &st),
	                 DB_OK);
	db_bind_blob(st, 1, "\xc6\x33\x00\x00", 4);
	db_bind_blob(st, 2, "\x0a\x00\x00", 3);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	{
		struct store_constituent_parts_cb parts = {NULL, range_cb, NULL, NULL, out};
		char want[128];

		assert_int_equal(store_constituent_parts(s, ckey, &parts, &err), TIX_OK);
		assert_int_equal(store_route_asn_each(s, asn_row_cb, out, &err), TIX_OK);
		snprintf(want, sizeof(want), "%lld:4:192.0.2.0/24;64500:4:198.51.0.0/16;",
		         (long long)ckey);
		assert_string_equal(out, want);
		out[0] = '\0';
	}
	assert_int_equal(store_constituent_list(s, NULL, constituent_cb, out, &err), TIX_OK);
	assert_string_equal(out, "ops/acme/en/0;");
	assert_int_equal(store_constituent_list(s, "none", constituent_cb, out, &err),
	                 TIX_ENOTFOUND);
	assert_int_equal(store_route_unrouted_add(s, &u, &err), TIX_OK);
	u.key = "report--1";
	assert_int_equal(store_route_unrouted_add(s, &u, &err), TIX_OK);
	assert_int_equal(store_route_report_add(s, &r, &added, &err), TIX_OK);
	assert_int_equal(added, 1);
	assert_int_equal(store_route_report_add(s, &r, &added, &err), TIX_OK);
	assert_int_equal(added, 0);
	r.object_id = "report--2";
	r.feed = "feed-b";
	r.time_source = day + 60000000;
	assert_int_equal(store_route_report_add(s, &r, &added, &err), TIX_OK);
	r.object_id = "report--3";
	r.time_source = day + 86400000000; /* the next day */
	assert_int_equal(store_route_report_add(s, &r, &added, &err), TIX_OK);
	out[0] = '\0';
	assert_int_equal(store_route_digest_rows(s, ckey, 0, day * 2, 0, agg_cb, out, &err),
	                 TIX_OK);
	assert_string_equal(out, "2023-11-14 192.0.2.1 infected-system 2 "
	                         "1700000000000000..1700000060000000 AS64500 feed-a,feed-b;"
	                         "2023-11-15 192.0.2.1 infected-system 1 "
	                         "1700086400000000..1700086400000000 AS64500 feed-b;");
	/* report--1 routed now: no longer waiting. */
	out[0] = '\0';
	assert_int_equal(store_route_unrouted_list(s, NULL, unrouted_cb, out, &err), TIX_OK);
	assert_string_equal(out, "report--9:no-constituent:7:192.0.2.9,x;");
	out[0] = '\0';
	assert_int_equal(store_route_unrouted_list(s, "other", unrouted_cb, out, &err), TIX_OK);
	assert_string_equal(out, "");
}

static int peer_names_cb(void *arg, const struct store_peer *p)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s %s %s %d\n", p->name, p->kind, p->user, p->direction);
	return 0;
}

static int outbox_cb(void *arg, const struct store_row *r)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%s %s %lld %.*s %d\n", r->id, r->modified,
	         (long long)r->date_added, (int)r->body_len, r->body, r->aud.tlp);
	return 0;
}

/* Federation state (sync.c): peers added, listed, changed, found by
 * organisation and removed; cursors and counters; the outbox of refused
 * versions; a MISP feed's per-event cursors. */
static void sync_on(struct store *s)
{
	struct store_peer p = {"hub",
	                       "",
	                       "https://hub.example/taxii2/",
	                       "c1",
	                       "local",
	                       "alice",
	                       "s3cret",
	                       STORE_PEER_PULL,
	                       60,
	                       "hub-org",
	                       "",
	                       0};
	struct store_peer got;
	struct store_peer_state st, st2;
	struct tix_error err;
	struct db_stmt *q;
	char out[256] = "", name[64];
	int64_t ts;

	assert_int_equal(store_peer_add(s, &p, &err), TIX_OK);
	assert_int_equal(store_peer_add(s, &p, &err), TIX_EEXIST);
	snprintf(p.name, sizeof(p.name), "feed");
	snprintf(p.kind, sizeof(p.kind), "misp-feed");
	p.user[0] = '\0';
	p.org[0] = '\0';
	assert_int_equal(store_peer_add(s, &p, &err), TIX_OK);
	assert_int_equal(store_peer_list(s, peer_names_cb, out, &err), TIX_OK);
	assert_string_equal(out, "feed misp-feed  1\nhub taxii alice 1\n");
	assert_int_equal(store_peer_get(s, "hub", &got, &err), TIX_OK);
	assert_string_equal(got.secret, "s3cret");
	assert_string_equal(got.org, "hub-org");
	assert_int_equal(got.interval, 60);
	assert_int_equal(store_peer_by_org(s, "hub-org", name, sizeof(name), &err), TIX_OK);
	assert_string_equal(name, "hub");
	assert_int_equal(store_peer_by_org(s, "none", name, sizeof(name), &err), TIX_ENOTFOUND);
	got.direction = STORE_PEER_PULL | STORE_PEER_PUSH;
	got.limit_rate = 1000;
	snprintf(got.org, sizeof(got.org), "other-org");
	assert_int_equal(store_peer_update(s, &got, &err), TIX_OK);
	assert_int_equal(store_peer_get(s, "hub", &got, &err), TIX_OK);
	assert_int_equal(got.direction, STORE_PEER_PULL | STORE_PEER_PUSH);
	assert_int_equal(got.limit_rate, 1000);
	assert_int_equal(store_peer_by_org(s, "other-org", name, sizeof(name), &err), TIX_OK);
	snprintf(got.name, sizeof(got.name), "nobody");
	assert_int_equal(store_peer_update(s, &got, &err), TIX_ENOTFOUND);

	/* Cursors and counters, as put. */
	assert_int_equal(store_peer_state_get(s, "hub", &st, &err), TIX_OK);
	assert_string_equal(st.pull_after, "");
	assert_int_equal(st.push_cursor, 0);
	snprintf(st.pull_after, sizeof(st.pull_after), "2026-01-01T00:00:00.000001Z");
	snprintf(st.pull_next, sizeof(st.pull_next), "token-2");
	snprintf(st.last_error, sizeof(st.last_error), "HTTP 503");
	st.push_cursor = 1234567890123;
	st.objects_in = 5;
	st.bytes_out = 99;
	st.failing = 1;
	st.errors = 3;
	assert_int_equal(store_peer_state_put(s, "hub", &st, &err), TIX_OK);
	assert_int_equal(store_peer_state_get(s, "hub", &st2, &err), TIX_OK);
	assert_string_equal(st2.pull_after, st.pull_after);
	assert_string_equal(st2.pull_next, "token-2");
	assert_string_equal(st2.last_error, "HTTP 503");
	assert_int_equal(st2.push_cursor, 1234567890123);
	assert_int_equal(st2.objects_in, 5);
	assert_int_equal(st2.bytes_out, 99);
	assert_int_equal(st2.failing, 1);
	assert_int_equal(st2.errors, 3);
	assert_int_equal(st2.outbox, 0);
	assert_int_equal(store_peer_state_put(s, "nobody", &st, &err), TIX_ENOTFOUND);

	/* The outbox: a refused version kept (twice: one row), listed with its
	 * body, counted; a version not stored is not counted; cleared. */
	assert_int_equal(db_prepare(store__engine(s),
	                            "INSERT INTO objects (id, type, created, modified, version,"
	                            " date_added, body) VALUES ('indicator--1', 'indicator', 'c',"
	                            " 'm1', 'm1', 42, '{\"x\":1}')",
	                            NULL, &q),
	                 DB_OK);
	assert_int_equal(db_step(q), DB_DONE);
	db_finalize(q);
	assert_int_equal(store_peer_outbox_put(s, "hub", "indicator--1", "m1", "refused", &err),
	                 TIX_OK);
	assert_int_equal(store_peer_outbox_put(s, "hub", "indicator--1", "m1", NULL, &err), TIX_OK);
	assert_int_equal(store_peer_outbox_put(s, "hub", "indicator--2", "m1", "gone", &err),
	                 TIX_OK);
	out[0] = '\0';
	assert_int_equal(store_peer_outbox_list(s, "hub", outbox_cb, out, &err), TIX_OK);
	assert_string_equal(out, "indicator--1 m1 42 {\"x\":1} -1\n");
	assert_int_equal(store_peer_state_get(s, "hub", &st2, &err), TIX_OK);
	assert_int_equal(st2.outbox, 1);
	rows_text(store__engine(s),
	          "SELECT id, CAST(attempts AS TEXT) FROM peer_outbox ORDER BY id", out,
	          sizeof(out));
	assert_string_equal(out, "indicator--1 2\nindicator--2 1\n");
	assert_int_equal(store_peer_outbox_done(s, "hub", "indicator--1", "m1", &err), TIX_OK);
	out[0] = '\0';
	assert_int_equal(store_peer_outbox_list(s, "hub", outbox_cb, out, &err), TIX_OK);
	assert_string_equal(out, "");

	/* A MISP feed's event cursors: 0 when unknown, the last put. */
	assert_int_equal(store_peer_feed_get(s, "feed", "uuid-1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 0);
	assert_int_equal(store_peer_feed_put(s, "feed", "uuid-1", 100, &err), TIX_OK);
	assert_int_equal(store_peer_feed_put(s, "feed", "uuid-1", 200, &err), TIX_OK);
	assert_int_equal(store_peer_feed_get(s, "feed", "uuid-1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 200);

	/* Removed with their state, outbox and cursors. */
	assert_int_equal(store_peer_remove(s, "hub", &err), TIX_OK);
	assert_int_equal(store_peer_remove(s, "hub", &err), TIX_ENOTFOUND);
	assert_int_equal(store_peer_get(s, "hub", &got, &err), TIX_ENOTFOUND);
	assert_int_equal(store_peer_state_get(s, "hub", &st2, &err), TIX_ENOTFOUND);
	assert_int_equal(store_peer_remove(s, "feed", &err), TIX_OK);
	rows_text(store__engine(s),
	          "SELECT 'left', CAST((SELECT count(*) FROM peer_state) + (SELECT count(*) FROM"
	          " peer_outbox) + (SELECT count(*) FROM peer_feed_events) AS TEXT)",
	          out, sizeof(out));
	assert_string_equal(out, "left 0\n");
}

/* Runs one statement on s's own connection. */
static void exec_on(struct store *s, const char *sql)
{
	struct db_stmt *q;

	if (db_prepare(store__engine(s), sql, NULL, &q) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(store__engine(s)));
	assert_int_equal(db_step(q), DB_DONE);
	db_finalize(q);
}

static int64_t sightings_version_of(struct store *s)
{
	struct tix_error err;
	int64_t v = -1;

	assert_int_equal(store_sightings_version(s, &v, &err), TIX_OK);
	return v;
}

/* The sightings' counter of the feeds' ETags (feeds.c, migration 19): 0 in
 * a new store, one row read; moved at once, for a vid only when it is an
 * indexed sighting, for a collection only when it holds one. */
static void sightings_version_on(struct store *s)
{
	struct tix_error err;

	assert_int_equal(sightings_version_of(s), 0);
	exec_on(s,
	        "INSERT INTO objects (vid, id, type, created, modified, version, date_added, body)"
	        " VALUES (7, 'indicator--1', 'indicator', 'c', 'm', 'm', 70, '{}'),"
	        " (8, 'sighting--1', 'sighting', 'c', 'm', 'm', 80, '{}')");
	exec_on(s, "INSERT INTO sighting_index (vid, sighting_of, sensor, count, first_seen,"
	           " last_seen) VALUES (8, 'indicator--1', '', 1, 0, 0)");
	exec_on(s, "INSERT INTO collections (ckey, id, title, created) VALUES"
	           " (3, 'c3', 'with', 0), (4, 'c4', 'without', 0)");
	exec_on(s, "INSERT INTO collection_objects (ckey, vid, date_added) VALUES (3, 8, 81),"
	           " (4, 7, 71)");
	assert_int_equal(store__sighting_member_moved(s, 7, &err), TIX_OK);
	assert_int_equal(store__sightings_collection_moved(s, 4, &err), TIX_OK);
	assert_int_equal(sightings_version_of(s), 0);
	assert_int_equal(store__sighting_member_moved(s, 8, &err), TIX_OK);
	assert_int_equal(sightings_version_of(s), 1);
	assert_int_equal(store__sightings_collection_moved(s, 3, &err), TIX_OK);
	assert_int_equal(sightings_version_of(s), 2);
	assert_int_equal(store__sightings_moved(s, &err), TIX_OK);
	assert_int_equal(sightings_version_of(s), 3);
}

/* Another handle on the store s is (the fixture's file or database): a
 * server's worker, or another process. */
static struct store *another_handle(struct store *s)
{
	struct tix_error err;
	struct store *o =
	        s->pg ? store__open_pg(pg_url, &err) : store_open(the_fixture.path, NULL, &err);

	if (o == NULL)
		fail_msg("a second handle: %s", err.msg);
	return o;
}

/* A peer changed or removed is a commit: the data version the answer
 * caches go by moves on the handle that wrote and on another handle, which
 * reads the change at once. */
static void peer_versions_on(struct store *s)
{
	struct store_peer p = {"hub",
	                       "",
	                       "https://hub.example/taxii2/",
	                       "c1",
	                       "local",
	                       "alice",
	                       "s3cret",
	                       STORE_PEER_PULL,
	                       60,
	                       "hub-org",
	                       "",
	                       0};
	struct store *o = another_handle(s);
	struct store_peer got;
	struct tix_error err;
	uint64_t mine, theirs;

	assert_int_equal(store_peer_add(s, &p, &err), TIX_OK);
	mine = store_data_version(s);
	theirs = store_data_version(o);
	if (s->pg ==
	    NULL) /* no write since: the same (PostgreSQL's may move with any server work) */
		assert_true(store_data_version(s) == mine && store_data_version(o) == theirs);
	p.limit_rate = 4096;
	snprintf(p.org, sizeof(p.org), "other-org");
	assert_int_equal(store_peer_update(s, &p, &err), TIX_OK);
	assert_true(store_data_version(s) != mine);
	assert_true(store_data_version(o) != theirs);
	assert_int_equal(store_peer_get(o, "hub", &got, &err), TIX_OK);
	assert_int_equal(got.limit_rate, 4096);
	assert_string_equal(got.org, "other-org");
	mine = store_data_version(s);
	theirs = store_data_version(o);
	assert_int_equal(store_peer_remove(s, "hub", &err), TIX_OK);
	assert_true(store_data_version(s) != mine);
	assert_true(store_data_version(o) != theirs);
	assert_int_equal(store_peer_get(o, "hub", &got, &err), TIX_ENOTFOUND);
	/* a change refused leaves the peers as they were */
	assert_int_equal(store_peer_update(s, &p, &err), TIX_ENOTFOUND);
	assert_int_equal(store_peer_remove(s, "hub", &err), TIX_ENOTFOUND);
	store_close(o);
}

#define ON_BOTH(fn)                                                                                \
	static void test_##fn(void **state)                                                        \
	{                                                                                          \
		struct fixture *f = *state;                                                        \
                                                                                                   \
		fn##_on(f->sq);                                                                    \
		fn##_on(f->pg);                                                                    \
	}
ON_BOTH(accounts)
ON_BOTH(policy)
ON_BOTH(sessions)
ON_BOTH(request)
ON_BOTH(ownership)
ON_BOTH(route)
ON_BOTH(sync)
ON_BOTH(sightings_version)
ON_BOTH(peer_versions)

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_migration_has_postgresql_text),
	        T(test_schema_matches_sqlite),
	        T(test_migrating_again_changes_nothing),
	        T(test_newer_schema_refused),
	        T(test_entry_not_yet_on_postgresql_refused),
	        cmocka_unit_test(test_concurrent_migrations_one_after_the_other),
	        T(test_accounts),
	        T(test_policy),
	        T(test_sessions),
	        T(test_request),
	        T(test_ownership),
	        T(test_route),
	        T(test_sync),
	        T(test_sightings_version),
	        T(test_peer_versions),
	};
	const char *skip = getenv("TIX_TEST_PG_SKIP");

	pg_url = getenv("TIX_TEST_PG_URL");
	if (pg_url && pg_url[0])
		return cmocka_run_group_tests_name("store on PostgreSQL", tests, NULL, NULL) ? 1
		                                                                             : 0;
	if (skip && skip[0]) {
		printf("store on PostgreSQL: SKIPPED: %s\n", skip);
		return 0;
	}
	fprintf(stderr, "store on PostgreSQL: no TIX_TEST_PG_URL: run this test through "
	                "`sh tools/pg.sh run` (ctest does)\n");
	return 1;
}
