/*
 * tests/unit/store/test_pg_store.c — the store on a real PostgreSQL
 * (tools/pg.sh run, issue 18): the whole migration list applied to a new
 * database gives the tables, columns and indexes of the SQLite schema, a
 * second run changes nothing, a newer schema is refused, servers starting
 * together migrate one after the other; and the store
 * functions of the modules written on db.h (accounts, policy, sessions,
 * request, ownership, route, sync, taxii, reports, audit, values and its
 * text search (through api_search too); the sightings' counter of feeds.c; the core of sqlite.c)
 * give the same answers on both, backup does what each engine allows, a peer changed or removed
 * moves the data version a second handle sees, and two handles writing at once give unique,
 * increasing date_added stamps that a reader paging by date_added sees each once; paged reads
 * (db_set_paged) hold a page, not the result, reset and lost mid-cursor.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "../tmpdir.h"
#include "api/api.h"
#include "stix/stix.h"
#include "store/store_int.h"
#include "values/values.h"

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
	if ((the_fixture.pg = store_open(pg_url, NULL, &err)) == NULL) {
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
	f->pg = store_open(pg_url, NULL, &err);
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
	assert_null(store_open(pg_url, NULL, &err));
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

	o->s = store_open(pg_url, NULL, &o->err);
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
	int claimed = -2;

	memset(&m, 0, sizeof(m));
	m.id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
	m.type = "indicator";
	snprintf(m.created, sizeof(m.created), "2024-01-01T00:00:00.000000000Z");
	snprintf(m.modified, sizeof(m.modified), "2024-01-01T00:00:00.000000000Z");
	m.version = "2024-01-01T00:00:00.000Z";
	m.created_by_ref = "identity--0c4ea3ba-f0d2-4b17-a1bf-1c0b9a0e6f02";
	assert_int_equal(store_id_stored(s, m.id), 0);
	assert_int_equal(store__check_write(s, &m, "acme", 1, &err), TIX_OK);
	assert_int_equal(store__claim_owner(s, &m, "acme", &claimed, &err), TIX_OK);
	assert_int_equal(claimed, 1);
	assert_int_equal(store__claim_owner(s, &m, "beta", &claimed, &err), TIX_OK);
	assert_int_equal(claimed, 0); /* kept: acme's */
	assert_int_equal(store__record_owner(s, &m, "beta", claimed, &err), TIX_OK);
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
	assert_int_equal(store__record_owner(s, &md, "acme", 1, &err), TIX_OK);
	assert_int_equal(store_unknown_markings(s, &n, &err), TIX_OK);
	assert_int_equal(n, 0);
	/* a claim the clock refused, allowed by the time the version was
	 * stored: the owner's row is written with the version */
	m.id = "indicator--5b0c8a57-6a2e-4f7e-9d55-3b1f4c2a9e10";
	assert_int_equal(store_id_stored(s, m.id), 0);
	assert_int_equal(store__record_owner(s, &m, "acme", -1, &err), TIX_OK);
	assert_int_equal(store_id_stored(s, m.id), 1);
	assert_int_equal(store__check_write(s, &m, "beta", 1, &err), TIX_EDENIED);
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

/* One version seeded by hand (objects and its membership), on either
 * engine: the write path (store_put, sqlite.c) is not on db.h yet. The
 * membership's audience rows are written as store_put's do, by the
 * audience index's helper (audience.c), on both engines. Returns the vid. */
static int64_t seed(struct store *s, int64_t ckey, const char *id, const char *spec,
                    const char *modified, int64_t added, int superseded, int tlp, const char *owner)
{
	struct db *db = store__engine(s);
	struct db_stmt *st;
	struct tix_error err;
	char type[32], body[128];
	int64_t vid;

	snprintf(type, sizeof(type), "%.*s", (int)(strchr(id, '-') - id), id);
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"modified\":\"%s\"}", id, modified);
	assert_int_equal(
	        db_prepare(db,
	                   "INSERT INTO objects (id, type, spec_version, created, modified,"
	                   " version, date_added, tlp, owner_org, body)"
	                   " VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6, ?7, ?8) RETURNING vid",
	                   NULL, &st),
	        DB_OK);
	db_bind_text(st, 1, id, -1);
	db_bind_text(st, 2, type, -1);
	db_bind_text_or_null(st, 3, spec);
	db_bind_text(st, 4, modified, -1);
	db_bind_int64(st, 5, added);
	db_bind_int64(st, 6, tlp);
	db_bind_text(st, 7, owner, -1);
	db_bind_text(st, 8, body, -1);
	assert_int_equal(db_step(st), DB_ROW);
	vid = db_column_int64(st, 0);
	db_finalize(st);
	assert_int_equal(
	        db_prepare(db,
	                   "INSERT INTO collection_objects (ckey, vid, date_added, superseded)"
	                   " VALUES (?1, ?2, ?3, ?4)",
	                   NULL, &st),
	        DB_OK);
	db_bind_int64(st, 1, ckey);
	db_bind_int64(st, 2, vid);
	db_bind_int64(st, 3, added);
	db_bind_int64(st, 4, superseded);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(store__audience_added(s, added, &err), TIX_OK);
	return vid;
}

struct page {
	char out[512];
	size_t bodies; /* rows whose body is their own */
};

static int page_cb(void *arg, const struct store_taxii_row *r)
{
	struct page *p = arg;
	size_t n = strlen(p->out);
	char want[128];

	snprintf(p->out + n, sizeof(p->out) - n, "%s %lld%s;", r->id, (long long)r->date_added,
	         r->spec_version ? "" : " (2.0)");
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"modified\":\"%s\"}", r->id, r->version);
	if (r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0)
		p->bodies++;
	return 0;
}

static int not_malware(void *arg, const struct store_taxii_row *r)
{
	(void)arg;
	return strcmp(r->type, "malware") != 0;
}

/* Runs f (its resume pointed at *resume) and returns the page's rows. */
static const char *page(struct store *s, struct store_taxii_filter *f, int *more, int64_t *resume)
{
	static struct page p;
	struct tix_error err;
	size_t rows;

	memset(&p, 0, sizeof(p));
	f->resume = resume;
	if (store_taxii_select(s, f, page_cb, &p, more, &err) != TIX_OK)
		fail_msg("store_taxii_select: %s", err.msg);
	rows = 0;
	for (const char *c = p.out; *c; c++)
		rows += *c == ';';
	assert_int_equal(p.bodies, rows);
	return p.out;
}

#define V1 "2024-01-01T00:00:00.000000000Z"
#define V2 "2024-01-02T00:00:00.000000000Z"
#define V3 "2024-01-03T00:00:00.000000000Z"

/* The TAXII queries (taxii.c): a collection's versions in date_added
 * order, paged by limit and the cursor, filtered by id, type,
 * spec_version and match[version], by the policy's keep and within the
 * examined-rows budget, through the reader's audience keys; the read
 * transaction; deletion from a collection, with the superseded flags made
 * again; the status resources of POSTs. */
static void taxii_on(struct store *s)
{
	struct tix_error err;
	struct store_collection c, c2;
	struct store_taxii_filter f;
	struct store_reader acme = {"acme", NULL, 0, STIX_TLP_AMBER, 0};
	struct store_reader beta = {"beta", NULL, 1, STIX_TLP_AMBER, 0};
	struct store_reader nobody = {NULL, NULL, 0, STIX_TLP_AMBER, 0};
	const char *ind_a[] = {"indicator--a", NULL}, *mal_b[] = {"malware--b", NULL};
	const char *tool_e[] = {"tool--e", NULL};
	const char *types[] = {"indicator", "tool", NULL}, *v20[] = {"2.0", NULL};
	const char *v21[] = {"2.1", NULL}, *v3[] = {V3, NULL};
	char out[512], *body = NULL;
	int more = -1, begun;
	int64_t resume = -1, user_key = 0;
	size_t removed = 99;

	assert_int_equal(store_collection_create(s, "intel", NULL, &c, &err), TIX_OK);
	assert_int_equal(store_collection_create(s, "other", NULL, &c2, &err), TIX_OK);
	/* indicator--a in two versions (the first superseded), a malware, a
	 * STIX 2.0 identity, a version in the other collection only, a tool
	 * in both; CLEAR, GREEN, RED and AMBER. */
	seed(s, c.key, "indicator--a", "2.1", V1, 1001, 1, STIX_TLP_CLEAR, "acme");
	seed(s, c.key, "malware--b", "2.1", V2, 1002, 0, STIX_TLP_GREEN, "beta");
	seed(s, c.key, "indicator--a", "2.1", V3, 1003, 0, STIX_TLP_CLEAR, "acme");
	seed(s, c.key, "identity--c", NULL, V1, 1004, 0, STIX_TLP_RED, "beta");
	seed(s, c2.key, "indicator--d", "2.1", V1, 1005, 0, STIX_TLP_CLEAR, "acme");
	{
		int64_t vid = seed(s, c.key, "tool--e", "2.1", V2, 1006, 0, STIX_TLP_AMBER, "beta");
		struct db_stmt *st;

		/* tool--e is in the other collection too (added later there). */
		assert_int_equal(db_prepare(store__engine(s),
		                            "INSERT INTO collection_objects (ckey, vid, date_added)"
		                            " VALUES (?1, ?2, 1007)",
		                            NULL, &st),
		                 DB_OK);
		db_bind_int64(st, 1, c2.key);
		db_bind_int64(st, 2, vid);
		assert_int_equal(db_step(st), DB_DONE);
		db_finalize(st);
		assert_int_equal(store__audience_added(s, 1007, &err), TIX_OK);
	}
	/* The keys are those the triggers of migrations 7 and 17 made, on both. */
	rows_text(store__engine(s),
	          "SELECT CAST(date_added AS TEXT), key FROM collection_audience"
	          " ORDER BY date_added, key",
	          out, sizeof(out));
	assert_string_equal(out,
	                    "1001 clear\n1001 org:acme\n1002 all\n1002 org:beta\n"
	                    "1003 clear\n1003 org:acme\n1004 org:beta\n1005 clear\n"
	                    "1005 org:acme\n1006 all\n1006 org:beta\n1007 all\n1007 org:beta\n");

	/* The latest versions of the collection, no limit. */
	memset(&f, 0, sizeof(f));
	f.collection = &c;
	assert_string_equal(
	        page(s, &f, &more, &resume),
	        "malware--b 1002;indicator--a 1003;identity--c 1004 (2.0);tool--e 1006;");
	assert_int_equal(more, 0);
	assert_int_equal(resume, 1006);
	/* Two a page: the cursor goes on after the last row handed out. */
	f.limit = 2;
	assert_string_equal(page(s, &f, &more, &resume), "malware--b 1002;indicator--a 1003;");
	assert_int_equal(more, 1);
	assert_int_equal(resume, 1003);
	f.added_after = resume;
	assert_string_equal(page(s, &f, &more, &resume), "identity--c 1004 (2.0);tool--e 1006;");
	assert_int_equal(more, 0);
	f.added_after = 1006;
	assert_string_equal(page(s, &f, &more, &resume), "");
	assert_int_equal(more, 0);
	assert_int_equal(resume, 1006);
	f.added_after = 0;
	f.limit = 0;

	/* match[version]: all, first, one given, first and last. */
	f.version_all = 1;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "indicator--a 1001;malware--b 1002;indicator--a 1003;"
	                    "identity--c 1004 (2.0);tool--e 1006;");
	f.version_all = 0;
	f.version_first = 1;
	assert_string_equal(
	        page(s, &f, &more, &resume),
	        "indicator--a 1001;malware--b 1002;identity--c 1004 (2.0);tool--e 1006;");
	f.version_last = 1;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "indicator--a 1001;malware--b 1002;indicator--a 1003;"
	                    "identity--c 1004 (2.0);tool--e 1006;");
	f.version_first = f.version_last = 0;
	f.versions = v3;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1003;");
	f.versions = NULL;

	/* match[id] (the ids' versions found and sorted), paged too. */
	f.ids = ind_a;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1003;");
	f.version_all = 1;
	f.limit = 1;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1001;");
	assert_int_equal(more, 1);
	f.added_after = resume;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1003;");
	assert_int_equal(more, 0);
	f.ids = NULL;
	f.version_all = 0;
	f.limit = 0;
	f.added_after = 0;

	/* match[type], match[spec_version] ("2.0" also takes objects without one). */
	f.types = types;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1003;tool--e 1006;");
	f.types = NULL;
	f.spec_versions = v20;
	assert_string_equal(page(s, &f, &more, &resume), "identity--c 1004 (2.0);");
	f.spec_versions = v21;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "malware--b 1002;indicator--a 1003;tool--e 1006;");
	f.spec_versions = NULL;

	/* The policy's keep and the examined-rows budget: the superseded row
	 * and the one keep refuses count, so the page is empty, more is 1 and
	 * the walk goes on after the last row examined. */
	f.keep = not_malware;
	f.limit = 10;
	f.budget = 2;
	assert_string_equal(page(s, &f, &more, &resume), "");
	assert_int_equal(more, 1);
	assert_int_equal(resume, 1002);
	f.added_after = resume;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "indicator--a 1003;identity--c 1004 (2.0);");
	assert_int_equal(more, 1);
	assert_int_equal(resume, 1004);
	f.budget = 0;
	f.added_after = 0;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "indicator--a 1003;identity--c 1004 (2.0);tool--e 1006;");
	assert_int_equal(more, 0);
	f.keep = NULL;
	f.limit = 0;

	/* Through the audience keys: acme reads CLEAR and its own; beta, a
	 * reader of the collection, GREEN, group-less AMBER and its own, each
	 * row once though two of its keys name it. Anonymous callers without
	 * anonymous reads: nothing examined. */
	f.reader = &acme;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1003;");
	f.reader = &beta;
	assert_string_equal(
	        page(s, &f, &more, &resume),
	        "malware--b 1002;indicator--a 1003;identity--c 1004 (2.0);tool--e 1006;");
	f.version_all = 1;
	f.limit = 2;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--a 1001;malware--b 1002;");
	assert_int_equal(more, 1);
	f.version_all = 0;
	f.limit = 0;
	f.reader = &nobody;
	assert_string_equal(page(s, &f, &more, &resume), "");
	assert_int_equal(more, 0);
	f.reader = NULL;
	f.collection = &c2;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--d 1005;tool--e 1007;");
	f.collection = &c;

	/* One read transaction: not begun again inside itself. */
	begun = store_read_begin(s);
	assert_int_equal(begun, 1);
	assert_int_equal(store_read_begin(s), 0);
	assert_string_equal(
	        page(s, &f, &more, &resume),
	        "malware--b 1002;indicator--a 1003;identity--c 1004 (2.0);tool--e 1006;");
	store_read_end(s, 0); /* not the one who began it: still open */
	assert_int_equal(store_read_begin(s), 0);
	store_read_end(s, begun);
	begun = store_read_begin(s);
	assert_int_equal(begun, 1);
	store_read_end(s, begun);

	/* Deleting indicator--a's latest version: the earlier one is the
	 * latest again, and the version, in no collection now, leaves the store. */
	f.ids = ind_a;
	f.versions = v3;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	f.ids = NULL;
	f.versions = NULL;
	assert_string_equal(
	        page(s, &f, &more, &resume),
	        "indicator--a 1001;malware--b 1002;identity--c 1004 (2.0);tool--e 1006;");
	rows_text(store__engine(s),
	          "SELECT modified FROM objects WHERE id = 'indicator--a' ORDER BY modified", out,
	          sizeof(out));
	assert_string_equal(out, V1 "\n");
	/* Only the owner's versions, when asked. */
	f.ids = mal_b;
	f.delete_owner = "acme";
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 0);
	f.delete_owner = "beta";
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	f.delete_owner = NULL;
	/* A version still in another collection stays in the store. */
	f.ids = tool_e;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	f.ids = NULL;
	assert_string_equal(page(s, &f, &more, &resume),
	                    "indicator--a 1001;identity--c 1004 (2.0);");
	f.collection = &c2;
	assert_string_equal(page(s, &f, &more, &resume), "indicator--d 1005;tool--e 1007;");
	f.collection = &c;
	rows_text(store__engine(s), "SELECT id FROM objects ORDER BY id", out, sizeof(out));
	assert_string_equal(out, "identity--c\nindicator--a\nindicator--d\ntool--e\n");

	/* Status resources: kept, read back with their caller; older than
	 * STORE_STATUS_KEEP_US, dropped by the next one saved. */
	rows_text(store__engine(s),
	          "INSERT INTO taxii_status (id, user_key, created, body)"
	          " VALUES ('old', 1, 1, '{}') RETURNING id",
	          out, sizeof(out));
	assert_int_equal(store_status_get(s, "old", &body, &user_key, &err), TIX_OK);
	free(body);
	assert_int_equal(store_status_put(s, "s1", 7, "{\"status\":\"complete\"}", &err), TIX_OK);
	assert_int_equal(store_status_get(s, "s1", &body, &user_key, &err), TIX_OK);
	assert_string_equal(body, "{\"status\":\"complete\"}");
	assert_int_equal(user_key, 7);
	free(body);
	assert_int_equal(store_status_get(s, "old", &body, &user_key, &err), TIX_ENOTFOUND);
	assert_null(body);
	assert_int_equal(store_status_get(s, "nope", &body, &user_key, &err), TIX_ENOTFOUND);
	assert_int_equal(store_status_put(s, "s1", 7, "{}", &err), TIX_ESTORE); /* one per id */
}

struct rows_out {
	char text[512];
	int stop_after; /* the callback stops after this many rows (0: never) */
	int n;
	int full; /* each row's body, TLP and owner too */
};

static int report_row_cb(void *arg, const struct store_row *r)
{
	struct rows_out *o = arg;
	size_t n = strlen(o->text);

	if (o->full)
		snprintf(o->text + n, sizeof(o->text) - n, "%s %s %lld %.*s %d %s;", r->id,
		         r->modified, (long long)r->date_added, (int)r->body_len, r->body,
		         r->aud.tlp, r->aud.owner_org ? r->aud.owner_org : "NULL");
	else
		snprintf(o->text + n, sizeof(o->text) - n, "%s %s %lld;", r->id, r->modified,
		         (long long)r->date_added);
	return ++o->n == o->stop_after;
}

static int day_cb(void *arg, const char *day)
{
	struct rows_out *o = arg;
	size_t n = strlen(o->text);

	snprintf(o->text + n, sizeof(o->text) - n, "%s;", day);
	return ++o->n == o->stop_after;
}

/* One version in objects (and in collection ckey when m_added is not 0),
 * its refs indexed by reports.c as the write path does. */
static void put_version(struct store *s, int64_t vid, const char *id, const char *type,
                        const char *created, const char *modified, int64_t added, const char *body,
                        int64_t ckey, int64_t m_added)
{
	struct stix_meta m;
	struct tix_error err;
	struct db_stmt *q;

	assert_int_equal(
	        db_prepare(store__engine(s),
	                   "INSERT INTO objects (vid, id, type, created, modified, version,"
	                   " date_added, body, tlp, owner_org)"
	                   " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, 1, 'acme')",
	                   NULL, &q),
	        DB_OK);
	db_bind_int64(q, 1, vid);
	db_bind_text(q, 2, id, -1);
	db_bind_text(q, 3, type, -1);
	db_bind_text(q, 4, created, -1);
	db_bind_text(q, 5, modified, -1);
	db_bind_int64(q, 6, added);
	db_bind_text(q, 7, body, -1);
	assert_int_equal(db_step(q), DB_DONE);
	db_finalize(q);
	if (m_added) {
		assert_int_equal(db_prepare(store__engine(s),
		                            "INSERT INTO collection_objects (ckey, vid, date_added)"
		                            " VALUES (?1, ?2, ?3)",
		                            NULL, &q),
		                 DB_OK);
		db_bind_int64(q, 1, ckey);
		db_bind_int64(q, 2, vid);
		db_bind_int64(q, 3, m_added);
		assert_int_equal(db_step(q), DB_DONE);
		db_finalize(q);
	}
	memset(&m, 0, sizeof(m));
	m.type = type; /* no object: store__index_refs reads the body */
	assert_int_equal(store__index_refs(s, vid, &m, body, strlen(body), &err), TIX_OK);
}

/* What MISP out streams with (reports.c): the refs index of reports,
 * groupings, sightings and relationships; the latest version of an id (in
 * a collection, in the store, one per organisation for an observable);
 * which reports and groupings list an id and the sightings of it; objects
 * walked by the day of created; the days. The objects are seeded with
 * plain INSERTs through the engine on both (the core's write path,
 * sqlite.c, is not on db.h yet), their refs by store__index_refs. */
static void reports_on(struct store *s)
{
	static const char *const types[] = {"indicator", "report", "grouping", "sighting", NULL};
	static const char *const no_types[] = {NULL};
	static const char *const ind[] = {"indicator", NULL};
	struct store_collection c;
	struct rows_out o;
	struct tix_error err;
	struct stix_meta m;
	char out[256];
	const char *r1 = "{\"type\":\"report\",\"object_refs\":[\"indicator--a\",\"indicator--b\","
	                 "\"indicator--a\",5]}";

	assert_int_equal(store_collection_create(s, "reports", NULL, &c, &err), TIX_OK);
	put_version(s, 1, "indicator--a", "indicator", "2024-01-01T00:00:00Z", "m1", 10,
	            "{\"n\":1}", c.key, 110);
	put_version(s, 2, "indicator--a", "indicator", "2024-01-01T00:00:00Z", "m2", 20,
	            "{\"n\":2}", 0, 0);
	put_version(s, 3, "report--r1", "report", "2024-01-02T00:00:00Z", "m1", 30, r1, c.key, 130);
	put_version(s, 4, "report--r1", "report", "2024-01-02T00:00:00Z", "m2", 40,
	            "{\"object_refs\":[\"indicator--b\"]}", c.key, 140);
	put_version(s, 5, "grouping--g1", "grouping", "2024-01-03T00:00:00Z", "m1", 50,
	            "{\"object_refs\":[\"indicator--a\"]}", c.key, 150);
	put_version(s, 6, "sighting--s1", "sighting", "2024-01-02T00:00:00Z", "m1", 60,
	            "{\"sighting_of_ref\":\"indicator--a\"}", 0, 0);
	put_version(s, 7, "sighting--s2", "sighting", "2024-01-03T00:00:00Z", "m1", 70,
	            "{\"sighting_of_ref\":\"indicator--a\"}", c.key, 170);
	put_version(s, 8, "relationship--l1", "relationship", "2024-01-01T00:00:00Z", "m1", 80,
	            "{\"source_ref\":\"indicator--a\",\"target_ref\":\"malware--x\"}", c.key, 180);
	put_version(s, 9, "x-misp-object-o1", "x-misp-object-o1", "2024-01-02T00:00:00Z", "m1", 90,
	            "{}", c.key, 190);
	put_version(s, 10, "identity--i", "identity", "2024-01-05T00:00:00Z", "m1", 100, "{}", 0,
	            0);
	/* an observable: one version per organisation, no created */
	put_version(s, 11, "domain-name--d", "domain-name", "", "#acme", 101, "{}", 0, 0);
	put_version(s, 12, "domain-name--d", "domain-name", "", "#beta", 102, "{}", 0, 0);

	/* The index: a ref listed twice once, a non-string ref left out, the
	 * same version indexed again changes nothing; a relationship's ends. */
	memset(&m, 0, sizeof(m));
	m.type = "report";
	assert_int_equal(store__index_refs(s, 3, &m, r1, strlen(r1), &err), TIX_OK);
	rows_text(store__engine(s),
	          "SELECT ref, CAST(vid AS TEXT) FROM object_refs_index ORDER BY vid, ref", out,
	          sizeof(out));
	assert_string_equal(out, "indicator--a 3\nindicator--b 3\nindicator--b 4\nindicator--a 5\n"
	                         "indicator--a 6\nindicator--a 7\nindicator--a 8\nmalware--x 8\n");

	/* The latest version of an id: the collection's (v2 is not in it), the
	 * store's, both organisations' of an observable, none of an unknown. */
	memset(&o, 0, sizeof(o));
	o.full = 1;
	assert_int_equal(store_latest_get(s, &c, "indicator--a", report_row_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "indicator--a m1 110 {\"n\":1} 1 acme;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_latest_get(s, NULL, "indicator--a", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "indicator--a m2 20;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_latest_get(s, NULL, "domain-name--d", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "domain-name--d #acme 101;domain-name--d #beta 102;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_latest_get(s, &c, "domain-name--d", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "");

	/* Which reports and groupings list an id: only latest versions (r1's
	 * m2 no longer lists indicator--a); sightings of it; relationships by
	 * either end; a callback that stops. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_referrers(s, &c, "indicator--a", NULL, report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "grouping--g1 m1 150;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_referrers(s, NULL, "indicator--b", NULL, report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "report--r1 m2 40;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_referrers(s, &c, "indicator--a", "report", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "");
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	        store_referrers(s, &c, "indicator--a", "sighting", report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "sighting--s2 m1 170;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	        store_referrers(s, NULL, "indicator--a", "sighting", report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "sighting--s1 m1 60;sighting--s2 m1 70;");
	memset(&o, 0, sizeof(o));
	o.stop_after = 1;
	assert_int_equal(
	        store_referrers(s, NULL, "indicator--a", "sighting", report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "sighting--s1 m1 60;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	        store_referrers(s, NULL, "malware--x", "relationship", report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "relationship--l1 m1 80;");

	/* Walked by day: by created's day, then as added (to the collection);
	 * latest versions of the types and the prefix only. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_walk_by_day(s, &c, NULL, types, "x-misp-", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "indicator--a m1 110;report--r1 m2 140;x-misp-object-o1 m1 190;"
	                            "grouping--g1 m1 150;sighting--s2 m1 170;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	        store_walk_by_day(s, NULL, "2024-01-02", types, NULL, report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "report--r1 m2 40;sighting--s1 m1 60;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_walk_by_day(s, &c, "2024-01-02", no_types, "x-misp-", report_row_cb,
	                                   &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "x-misp-object-o1 m1 190;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_walk_by_day(s, NULL, NULL, ind, NULL, report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "indicator--a m2 20;");
	memset(&o, 0, sizeof(o));
	o.stop_after = 2;
	assert_int_equal(store_walk_by_day(s, &c, NULL, types, "x-misp-", report_row_cb, &o, &err),
	                 TIX_OK);
	assert_string_equal(o.text, "indicator--a m1 110;report--r1 m2 140;");

	/* The days objects were created on, in order (none for no created);
	 * a callback that stops. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_days(s, day_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "2024-01-01;2024-01-02;2024-01-03;2024-01-05;");
	memset(&o, 0, sizeof(o));
	o.stop_after = 2;
	assert_int_equal(store_days(s, day_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "2024-01-01;2024-01-02;");

	/* The index follows its versions out. */
	rows_text(store__engine(s), "DELETE FROM objects WHERE vid = 8 RETURNING id", out,
	          sizeof(out));
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	        store_referrers(s, NULL, "malware--x", "relationship", report_row_cb, &o, &err),
	        TIX_OK);
	assert_string_equal(o.text, "");
	rows_text(store__engine(s), "SELECT CAST(count(*) AS TEXT) FROM object_refs_index", out,
	          sizeof(out));
	assert_string_equal(out, "6\n");
}

/* ---- the audit log (audit.c) ---- */

struct audit_out {
	char text[1024];
	int stop_after; /* the callback stops after this many entries (0: never) */
	int n;
};

static int audit_cb(void *arg, int64_t seq, const struct store_audit_entry *a)
{
	struct audit_out *o = arg;
	size_t n = strlen(o->text);
	char objects[256];
	size_t k = 0;

	/* the objects' line breaks shown as '|' */
	for (const char *c = a->objects; *c && k + 1 < sizeof(objects); c++)
		objects[k++] = *c == '\n' ? '|' : *c;
	objects[k] = '\0';
	snprintf(o->text + n, sizeof(o->text) - n, "%lld %lld %s %s %s %s %s\n", (long long)seq,
	         (long long)a->at, a->action, a->actor, a->org, objects, a->detail);
	return ++o->n == o->stop_after;
}

static const char *audit_show(struct store *s, const char *object, int64_t since, int stop_after)
{
	static struct audit_out o;
	struct tix_error err;

	memset(&o, 0, sizeof(o));
	o.stop_after = stop_after;
	assert_int_equal(store_audit_list(s, object, since, audit_cb, &o, &err), TIX_OK);
	return o.text;
}

/* Another handle on s's store, as a second server process would have. */
static struct store *audit_reopen(struct store *s)
{
	struct tix_error err;
	struct store *o = db_engine(store__engine(s)) == DB_POSTGRES
	                          ? store_open(pg_url, NULL, &err)
	                          : store_open(sqlite3_db_filename(s->db, "main"), NULL, &err);

	if (o == NULL)
		fail_msg("opening the store again: %s", err.msg);
	return o;
}

#define AUDIT_RACE 25
struct audit_racer {
	struct store *s;
	int failed; /* appends refused */
	char msg[256];
};

/* Appends AUDIT_RACE entries one at a time, each in its own transaction. */
static void *audit_race(void *arg)
{
	struct audit_racer *r = arg;
	const struct store_audit_entry e = {600, "read", "racer", "", "", "GET"};
	struct tix_error err;

	for (int i = 0; i < AUDIT_RACE; i++) {
		if (store_audit_append(r->s, &e, 1, &err) != TIX_OK) {
			r->failed++;
			snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
		}
	}
	return NULL;
}

/* Runs one statement of plain SQL on the store's connection (a tamperer's). */
static void audit_sql(struct store *s, const char *sql)
{
	struct db_stmt *st;

	assert_int_equal(db_prepare(store__engine(s), sql, NULL, &st), DB_OK);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
}

/* The tamper-evident audit log: entries appended (alone, in a batch, a
 * large read in parts), shown by object and from a time on, the chain
 * verified and checked against an anchor; a row changed by plain SQL, a
 * row removed and the end cut off are each found and named; an audited
 * TAXII deletion commits its entry with it; peers' anchors are kept, and
 * a fork or a step back recorded. */
static void audit_on(struct store *s)
{
	const struct store_audit_entry batch[] = {
	        {100, "write", "alice", "acme", "\nindicator--a\nmalware--b\n", "tix import"},
	        {200, "read", "bob", "beta", "\nindicator--a\n", "GET /objects/"},
	        {300, "read", "bob", "beta", "=1", "GET /objects/ (the objects of entry 1)"},
	};
	const struct store_audit_entry del = {400,    "delete",      "carol",
	                                      "acme", "\ntool--t\n", "DELETE /objects/tool--t/"};
	const struct store_audit_entry tmpl = {500, "export", "dave", "", NULL, "tix export"};
	const char *ids[] = {"x--1", "x--2", "x--3", "x--4", "x--5"};
	const char *tool_t[] = {"tool--t", NULL}, *none[] = {"tool--none", NULL};
	struct store_audit_ids *w;
	struct store_collection c;
	struct store_taxii_filter f;
	struct tix_error err;
	char anchor[65], hx[65], last[128], problem[400], put[128];
	int64_t seq = -1, entries = -1, bad = -1;
	size_t removed = 0;
	int problem_seen = -1;

	/* A new store: an empty chain that verifies, its head at 0. */
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	assert_int_equal(entries, 0);
	assert_int_equal(store_audit_anchor(s, &seq, anchor, &err), TIX_OK);
	assert_int_equal(seq, 0);
	assert_string_equal(anchor,
	                    "0000000000000000000000000000000000000000000000000000000000000000");

	/* One entry, then a batch of two, each in a transaction of its own. */
	assert_int_equal(store_audit_append(s, batch, 1, &err), TIX_OK);
	assert_int_equal(store_audit_anchor(s, &seq, anchor, &err), TIX_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(strlen(anchor), 64);
	assert_int_equal(store_audit_append(s, batch + 1, 2, &err), TIX_OK);
	assert_int_equal(store_audit_append(s, batch, 0, &err), TIX_OK); /* nothing */

	/* Shown in order; by object (entry 3 holds entry 1's objects); from a
	 * time on; the callback may stop early. */
	assert_string_equal(audit_show(s, NULL, 0, 0),
	                    "1 100 write alice acme |indicator--a|malware--b| tix import\n"
	                    "2 200 read bob beta |indicator--a| GET /objects/\n"
	                    "3 300 read bob beta =1 GET /objects/ (the objects of entry 1)\n");
	assert_string_equal(audit_show(s, "malware--b", 0, 0),
	                    "1 100 write alice acme |indicator--a|malware--b| tix import\n"
	                    "3 300 read bob beta =1 GET /objects/ (the objects of entry 1)\n");
	assert_string_equal(audit_show(s, "indicator--a", 150, 0),
	                    "2 200 read bob beta |indicator--a| GET /objects/\n"
	                    "3 300 read bob beta =1 GET /objects/ (the objects of entry 1)\n");
	assert_string_equal(audit_show(s, "indicator", 0, 0), ""); /* whole ids only */
	assert_string_equal(audit_show(s, NULL, 250, 0),
	                    "3 300 read bob beta =1 GET /objects/ (the objects of entry 1)\n");
	assert_string_equal(audit_show(s, NULL, 0, 1),
	                    "1 100 write alice acme |indicator--a|malware--b| tix import\n");

	/* The chain verifies, and holds the anchor taken at entry 1. */
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	assert_int_equal(entries, 3);
	assert_int_equal(bad, 0);
	assert_int_equal(store_audit_verify_anchor(s, 1, anchor, &entries, &bad, &err), TIX_OK);
	hx[0] = anchor[0] == '0' ? '1' : '0';
	memcpy(hx + 1, anchor + 1, 64);
	assert_int_equal(store_audit_verify_anchor(s, 1, hx, &entries, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(err.msg, "entry 1 is not the anchor given"));

	/* A large read in parts of two ids: three entries, in one transaction. */
	assert_non_null(w = store_audit_ids_new(&tmpl, 2, &err));
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_audit_ids_add(w, ids[i], &err), TIX_OK);
	assert_int_equal(store_audit_ids_finish(s, w, &err), TIX_OK);
	store_audit_ids_free(w);
	assert_string_equal(audit_show(s, NULL, 450, 0),
	                    "4 500 export dave  |x--1|x--2| tix export (part 1 of 3)\n"
	                    "5 500 export dave  |x--3|x--4| tix export (part 2 of 3)\n"
	                    "6 500 export dave  |x--5| tix export (part 3 of 3)\n");
	assert_string_equal(audit_show(s, "x--4", 0, 0),
	                    "5 500 export dave  |x--3|x--4| tix export (part 2 of 3)\n");

	/* An audited TAXII deletion: the entry commits with it; none when
	 * nothing was deleted. */
	assert_int_equal(store_collection_create(s, "audited", NULL, &c, &err), TIX_OK);
	seed(s, c.key, "tool--t", "2.1", V1, 2001, 0, STIX_TLP_CLEAR, "acme");
	memset(&f, 0, sizeof(f));
	f.collection = &c;
	f.audit = &del;
	f.ids = none;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 0);
	f.ids = tool_t;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	assert_string_equal(audit_show(s, "tool--t", 0, 0),
	                    "7 400 delete carol acme |tool--t| DELETE /objects/tool--t/\n");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	assert_int_equal(entries, 7);

	/* Two handles appending at once (two servers on one database): each
	 * append follows the last (on PostgreSQL the head's row is locked),
	 * none is refused and the chain holds them all. */
	{
		struct audit_racer r[2] = {{audit_reopen(s), 0, ""}, {audit_reopen(s), 0, ""}};
		pthread_t t[2];

		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, audit_race, &r[i]), 0);
		for (int i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			store_close(r[i].s);
			assert_string_equal(r[i].msg, "");
			assert_int_equal(r[i].failed, 0);
		}
	}
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	assert_int_equal(entries, 7 + 2 * AUDIT_RACE);

	/* A row changed by plain SQL: verify names it. */
	audit_sql(s, "UPDATE audit SET actor = 'mallory' WHERE seq = 2");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 2);
	assert_int_equal(entries, 1);
	assert_non_null(strstr(err.msg, "entry 2 was changed"));
	audit_sql(s, "UPDATE audit SET actor = 'bob' WHERE seq = 2");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	/* Its hash changed instead: the same. */
	audit_sql(s,
	          "UPDATE audit SET hash = (SELECT hash FROM audit WHERE seq = 3) WHERE seq = 5");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 5);
	assert_non_null(strstr(err.msg, "entry 5 was changed"));
	/* A row removed, and the last one cut off. */
	audit_sql(s, "DELETE FROM audit WHERE seq = 4");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(err.msg, "entry 4 is missing"));
	audit_sql(s, "DELETE FROM audit WHERE seq >= 4");
	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(err.msg, "entries were cut off the end"));

	/* Peers' anchors: the newest kept; a step back and a fork recorded. */
	snprintf(put, sizeof(put), "5:%.64s",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(store_peer_anchor_put(s, "hub", put, 10, &problem_seen, &err), TIX_OK);
	assert_int_equal(problem_seen, 0);
	assert_int_equal(store_peer_anchor_put(s, "hub", put, 11, &problem_seen, &err), TIX_OK);
	assert_int_equal(problem_seen, 0);
	assert_int_equal(store_peer_anchor_status(s, "hub", last, sizeof(last), problem,
	                                          sizeof(problem), &err),
	                 TIX_OK);
	assert_string_equal(last, put);
	assert_string_equal(problem, "");
	snprintf(put, sizeof(put), "3:%.64s",
	         "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_int_equal(store_peer_anchor_put(s, "hub", put, 12, &problem_seen, &err), TIX_OK);
	assert_int_equal(problem_seen, 1);
	assert_int_equal(store_peer_anchor_status(s, "hub", last, sizeof(last), problem,
	                                          sizeof(problem), &err),
	                 TIX_OK);
	assert_string_equal(last, put);
	assert_string_equal(problem, "its audit chain went backwards: entry 3 after 5 was seen");
	snprintf(put, sizeof(put), "5:%.64s",
	         "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	assert_int_equal(store_peer_anchor_put(s, "hub", put, 13, &problem_seen, &err), TIX_OK);
	assert_int_equal(problem_seen, 1);
	assert_int_equal(store_peer_anchor_status(s, "hub", last, sizeof(last), problem,
	                                          sizeof(problem), &err),
	                 TIX_OK);
	assert_string_equal(problem, "its audit chain forked: entry 5 was aaaaaaaaaaaaaaaa..., now "
	                             "cccccccccccccccc...");
	assert_int_equal(store_peer_anchor_put(s, "hub", "5:zz", 14, &problem_seen, &err),
	                 TIX_EINVAL);
	assert_int_equal(store_peer_anchor_status(s, "nobody", last, sizeof(last), problem,
	                                          sizeof(problem), &err),
	                 TIX_OK);
	assert_string_equal(last, "");
	assert_string_equal(problem, "");
}

/* ---- backup.c: what `tix backup` offers on each engine ---- */

static int path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* On SQLite: a copy of mode 0600 without the node secret but with the audit
 * key (or with the secret), never over a file; the store keeps its secret
 * and passes SQLite's checks. */
static void backup_sqlite(struct fixture *f)
{
	struct store_backup_info info;
	struct tix_error err;
	unsigned char secret[32];
	char dest[400], full[400], partial[420], out[256];
	struct db *copy;
	struct stat st;
	size_t problems = 99;

	snprintf(dest, sizeof(dest), "%s/copy.db", f->dir);
	snprintf(full, sizeof(full), "%s/full.db", f->dir);
	snprintf(partial, sizeof(partial), "%s.partial", dest);
	assert_int_equal(store_node_secret(f->sq, secret, &err), TIX_OK);
	assert_int_equal(store_backup(f->sq, dest, 0, &err), TIX_OK);
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_false(path_exists(partial));
	assert_int_equal(store_backup_check(dest, &info, &err), TIX_OK);
	assert_int_equal(info.schema, store_schema_version());
	assert_int_equal(info.has_secret, 0);
	if ((copy = db_open(dest, DB_OPEN_READONLY, &err)) == NULL)
		fail_msg("%s", err.msg);
	rows_text(copy, "SELECT key FROM meta WHERE key IN ('audit_key', 'node_secret')", out,
	          sizeof(out));
	db_close(copy);
	assert_string_equal(out, "audit_key\n");
	assert_int_equal(store_backup(f->sq, dest, 0, &err), TIX_EEXIST);
	assert_int_equal(store_backup(f->sq, full, 1, &err), TIX_OK);
	assert_int_equal(store_backup_check(full, &info, &err), TIX_OK);
	assert_int_equal(info.has_secret, 1);
	assert_int_equal(store_has_node_secret(f->sq), 1);
	assert_int_equal(store_check_report(f->sq, NULL, NULL, &problems, &err), TIX_OK);
	assert_int_equal(problems, 0);
}

/* On PostgreSQL: refused, naming the pg_dump command for this database,
 * with no file made and the store as it was; the SQLite checks are
 * refused too, naming pg_amcheck. */
static void backup_pg_refused(struct fixture *f)
{
	struct tix_error err;
	unsigned char secret[32];
	char dest[400], partial[420], want[1200], before[512], after[512];
	const char *url = db_target(store__engine(f->pg));
	size_t problems = 99;

	snprintf(dest, sizeof(dest), "%s/pg-copy.db", f->dir);
	snprintf(partial, sizeof(partial), "%s.partial", dest);
	snprintf(want, sizeof(want), "pg_dump --format=custom --file='%s' '%s'", dest, url);
	assert_int_equal(store_node_secret(f->pg, secret, &err), TIX_OK);
	rows_text(store__engine(f->pg), "SELECT key, value FROM meta ORDER BY key", before,
	          sizeof(before));
	for (int with_secret = 0; with_secret < 2; with_secret++) {
		tix_error_clear(&err);
		assert_int_equal(store_backup(f->pg, dest, with_secret, &err), TIX_EINVAL);
		if (strstr(err.msg, want) == NULL)
			fail_msg("no \"%s\" in: %s", want, err.msg);
		assert_non_null(strstr(err.msg, "node secret"));
		assert_false(path_exists(dest));
		assert_false(path_exists(partial));
	}
	rows_text(store__engine(f->pg), "SELECT key, value FROM meta ORDER BY key", after,
	          sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(store_has_node_secret(f->pg), 1);
	assert_int_equal(store_check_report(f->pg, NULL, NULL, &problems, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "pg_amcheck"));
	assert_int_equal(problems, 0);
}

static void test_backup(void **state)
{
	backup_sqlite(*state);
	backup_pg_refused(*state);
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
	        s->pg ? store_open(pg_url, NULL, &err) : store_open(the_fixture.path, NULL, &err);

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

/* One version of an object, stored by a plain INSERT (put_version) and
 * indexed by store__index_version as store_put would. */
static void index_version(struct store *s, int64_t vid, const char *id, const char *type,
                          const char *modified, const char *body)
{
	struct stix_meta m;
	struct tix_error err;

	put_version(s, vid, id, type, modified, modified, vid * 10, body, 0, 0);
	memset(&m, 0, sizeof(m));
	memset(&err, 0, sizeof(err));
	m.id = id;
	m.type = type;
	snprintf(m.created, sizeof(m.created), "%s", modified);
	snprintf(m.modified, sizeof(m.modified), "%s", modified);
	m.version = m.modified;
	if (store__index_version(s, vid, &m, body, strlen(body), 0, &err) != TIX_OK)
		fail_msg("indexing %s: %s", id, err.msg);
}

struct hits_out {
	char text[512];
	size_t n;
};

/* "vid type id|- reader;" per hit. */
static int hit_cb(void *arg, const struct store_value_hit *h)
{
	struct hits_out *o = arg;

	o->n += (size_t)snprintf(o->text + o->n, sizeof(o->text) - o->n, "%lld %s %s %d;",
	                         (long long)h->vid, h->type, h->id ? h->id : "-",
	                         h->collection_reader);
	assert_true(o->n < sizeof(o->text));
	assert_true(h->aud.owner_org && strcmp(h->aud.owner_org, "acme") == 0);
	return 0;
}

/* The hits of store_values_find for what a user typed, each through cb. */
static const char *find_with(struct store *s, const char *what, int64_t reader, int index_only,
                             const char *exclude, int (*cb)(void *, const struct store_value_hit *),
                             struct hits_out *o)
{
	struct values_item v;
	char buf[256];
	const char *why;
	struct store_value_find f;
	struct tix_error err;
	int stopped;

	memset(o, 0, sizeof(*o));
	assert_int_equal(values_classify(what, strlen(what), &v, buf, sizeof(buf), &why), 0);
	memset(&f, 0, sizeof(f));
	f.value = &v;
	f.reader_org_key = reader;
	f.cb = cb;
	f.arg = o;
	f.index_only = index_only;
	f.exclude_id = exclude;
	if (store_values_find(s, &f, &stopped, &err) != TIX_OK)
		fail_msg("finding %s: %s", what, err.msg);
	assert_int_equal(stopped, 0);
	return o->text;
}

/* The hits of store_values_find for what a user typed. */
static const char *find_text(struct store *s, const char *what, int64_t reader, int index_only,
                             const char *exclude, struct hits_out *o)
{
	return find_with(s, what, reader, index_only, exclude, hit_cb, o);
}

struct sightings_out {
	char text[256];
	size_t n;
	int64_t sum;
};

static int sighting_cb(void *arg, const struct store_sighting_row *r)
{
	struct sightings_out *o = arg;

	o->n += (size_t)snprintf(o->text + o->n, sizeof(o->text) - o->n, "%s %s %lld %lld;",
	                         r->hit.id, r->sensor, (long long)r->count,
	                         (long long)r->last_seen);
	assert_true(o->n < sizeof(o->text)); /* cut: the next append would write past it */
	o->sum += r->count;
	return 0;
}

static int expired_cb(void *arg, const char *id)
{
	struct hits_out *o = arg;

	o->n += (size_t)snprintf(o->text + o->n, sizeof(o->text) - o->n, "%s;", id);
	assert_true(o->n < sizeof(o->text));
	return 0;
}

/* The lookups of one store after values_on's versions were indexed. */
static void values_lookups(struct store *s, int64_t reader)
{
	struct hits_out o;
	struct sightings_out so;
	struct tix_error err;

	/* by value: the latest version only (indicator--a's first is not) */
	assert_string_equal(find_text(s, "evil.example", reader, 0, NULL, &o),
	                    "3 indicator indicator--b 1;");
	assert_string_equal(find_text(s, "EVIL.example.", reader, 1, NULL, &o), "3 indicator - 1;");
	assert_string_equal(find_text(s, "good.example", reader, 0, NULL, &o),
	                    "2 indicator indicator--a 0;");
	assert_string_equal(find_text(s, "evil.example", 0, 0, "indicator--b", &o), "");
	/* CIDR: the addresses and ranges inside one, newest first... */
	assert_string_equal(find_text(s, "10.0.0.0/8", reader, 0, NULL, &o),
	                    "3 indicator indicator--b 1;2 indicator indicator--a 0;");
	assert_string_equal(find_text(s, "10.1.2.0/24", reader, 0, NULL, &o),
	                    "3 indicator indicator--b 1;2 indicator indicator--a 0;");
	assert_string_equal(find_text(s, "10.1.3.0/24", reader, 0, NULL, &o),
	                    "2 indicator indicator--a 0;");
	/* ...and the ranges holding an address, shortest prefix first (v1's
	 * 10.1.2.3 itself is not the latest) */
	assert_string_equal(find_text(s, "10.1.2.3", reader, 0, NULL, &o),
	                    "2 indicator indicator--a 0;3 indicator indicator--b 1;");
	assert_string_equal(find_text(s, "10.1.2.3", reader, 0, "indicator--a", &o),
	                    "3 indicator indicator--b 1;");
	assert_string_equal(find_text(s, "10.2.0.1", reader, 0, NULL, &o), "");
	assert_string_equal(find_text(s, "2001:db8::1", reader, 1, NULL, &o), "3 indicator - 1;");
	assert_string_equal(find_text(s, "2001:db9::1", reader, 1, NULL, &o), "");

	/* the sightings of an indicator, most recently seen first, and their sum */
	memset(&so, 0, sizeof(so));
	assert_int_equal(store_sightings_of(s, "indicator--b", reader, sighting_cb, &so, &err),
	                 TIX_OK);
	assert_string_equal(so.text, "sighting--s2 identity--x 4 1704240000000000;"
	                             "sighting--s1 identity--y 3 1704153600000000;");
	assert_int_equal(so.sum, 7);
	memset(&so, 0, sizeof(so));
	assert_int_equal(store_sightings_of(s, "indicator--a", reader, sighting_cb, &so, &err),
	                 TIX_OK);
	assert_string_equal(so.text, "");

	/* a version as a hit; an object's latest */
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_object_version(s, 1, reader, hit_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "1 indicator indicator--a 0;");
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_object_latest(s, "indicator--a", reader, hit_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "2 indicator indicator--a 0;");
}

/* The value index (values.c): values, addresses and ranges of indicators
 * indexed with their audience and latest flag, found by value and by CIDR
 * both ways, sightings and their counts, refused values counted, the index
 * rebuilt gives the same answers; the text index filled (searched on
 * SQLite only: FTS5), expired indicators. */
static void values_on(struct store *s)
{
	struct store_collection c;
	struct store_reindex_counts rc;
	struct hits_out o;
	struct tix_error err;
	struct store_text_query q;
	int64_t refused = -1, reader;
	int more, added, begun;
	char out[256], sql[160];

	/* a reader of collection "v" (which holds indicator--b) */
	assert_int_equal(store_collection_create(s, "v", NULL, &c, &err), TIX_OK);
	exec_on(s, "INSERT INTO orgs (okey, name, created) VALUES (77, 'reader-org', 0)");
	reader = 77;
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_grants (ckey, okey, can_read, can_write)"
	         " VALUES (%lld, 77, 1, 0)",
	         (long long)c.key);
	exec_on(s, sql);

	index_version(s, 1, "indicator--a", "indicator", "2024-01-01T00:00:00.000Z",
	              "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"Evil host\","
	              "\"pattern\":\"[ipv4-addr:value = '10.1.2.3'] OR"
	              " [domain-name:value = 'evil.example']\"}");
	index_version(
	        s, 2, "indicator--a", "indicator", "2024-01-02T00:00:00.000Z",
	        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"Evil range\","
	        "\"pattern\":\"[ipv4-addr:value = '10.1.0.0/16'] OR"
	        " [domain-name:value = 'good.example'] OR [ipv4-addr:value = '10.300.0.1']\"}");
	index_version(
	        s, 3, "indicator--b", "indicator", "2024-01-01T00:00:00.000Z",
	        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"labels\":[\"botnet\"],"
	        "\"pattern\":\"[domain-name:value = 'evil.example'] AND"
	        " [ipv4-addr:value = '10.1.2.0/24'] AND [ipv6-addr:value = '2001:db8::/32']\"}");
	index_version(
	        s, 4, "sighting--s1", "sighting", "2024-01-01T00:00:00.000Z",
	        "{\"type\":\"sighting\",\"sighting_of_ref\":\"indicator--b\",\"count\":3,"
	        "\"where_sighted_refs\":[\"identity--y\"],"
	        "\"first_seen\":\"2024-01-01T00:00:00Z\",\"last_seen\":\"2024-01-02T00:00:00Z\"}");
	index_version(s, 5, "sighting--s2", "sighting", "2024-01-01T00:00:00.000Z",
	              "{\"type\":\"sighting\",\"sighting_of_ref\":\"indicator--b\",\"count\":4,"
	              "\"where_sighted_refs\":[\"identity--x\"],"
	              "\"first_seen\":\"2024-01-03T00:00:00Z\"}");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_objects (ckey, vid, date_added) VALUES (%lld, 3, 31)",
	         (long long)c.key);
	exec_on(s, sql);

	/* each value once per version, the older version's no longer latest */
	rows_text(
	        store__engine(s),
	        "SELECT CAST(vid AS TEXT), CAST(latest AS TEXT) FROM value_index ORDER BY vid, vkey",
	        out, sizeof(out));
	assert_string_equal(out, "1 0\n2 1\n3 1\n");
	rows_text(store__engine(s),
	          "SELECT CAST(vid AS TEXT), CAST(latest AS TEXT) FROM value_ip ORDER BY vid, plen",
	          out, sizeof(out));
	assert_string_equal(out, "1 0\n2 1\n3 1\n3 1\n");
	rows_text(store__engine(s), "SELECT CAST(count(*) AS TEXT) FROM value_audiences", out,
	          sizeof(out));
	assert_string_equal(out, "1\n"); /* the indicators' (sightings carry no value) */
	rows_text(store__engine(s), "SELECT CAST(count(*) AS TEXT) FROM text_index", out,
	          sizeof(out));
	assert_string_equal(out, "3\n"); /* the indicators': a name or labels */
	assert_int_equal(store_values_refused(s, &refused, &err), TIX_OK);
	assert_int_equal(refused, 1); /* 10.300.0.1 */

	values_lookups(s, reader);

	/* rebuilt from the objects: the same index and answers */
	begun = store_snapshot_begin(s);
	assert_int_equal(begun, 1);
	assert_int_equal(store_snapshot_begin(s), 0); /* one already open */
	store_snapshot_end(s, begun);
	if (store_values_reindex(s, &rc, &err) != TIX_OK)
		fail_msg("reindexing: %s", err.msg);
	assert_int_equal(rc.versions, 5);
	assert_int_equal(rc.refused, 1);
	assert_int_equal(store_values_refused(s, &refused, &err), TIX_OK);
	assert_int_equal(refused, 1);
	values_lookups(s, reader);

	/* the text search: FTS5 on SQLite, the tsvector on PostgreSQL */
	memset(&q, 0, sizeof(q));
	q.match = "evil";
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_text_search(s, &q, hit_cb, &o, &more, &err), TIX_OK);
	assert_string_equal(o.text, "2 indicator indicator--a 0;");

	/* expired indicators: once each */
	assert_int_equal(store_indicator_expire(s, "indicator--b", 5, 0.1, &added, &err), TIX_OK);
	assert_int_equal(added, 1);
	assert_int_equal(store_indicator_expire(s, "indicator--b", 6, 0.1, &added, &err), TIX_OK);
	assert_int_equal(added, 0);
	assert_int_equal(store_indicator_expire(s, "indicator--a", 6, 0.2, &added, &err), TIX_OK);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_indicators_expired(s, expired_cb, &o, &err), TIX_OK);
	assert_string_equal(o.text, "indicator--a;indicator--b;");
}

/* ---- the core (sqlite.c): writes, reads, stamps ------------------------ */

/* A STIX version's text and meta, for store_put. */
struct version {
	char text[512];
	json_t *o;
	struct stix_meta m;
};

static void version_make(struct version *v, const char *id, const char *modified)
{
	struct tix_error err;
	json_error_t je;

	snprintf(v->text, sizeof(v->text),
	         "{\"type\":\"%.*s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"%s\","
	         "\"modified\":\"%s\",\"name\":\"v %s\"}",
	         (int)(strstr(id, "--") - id), id, id, V1, modified, modified);
	if ((v->o = json_loads(v->text, 0, &je)) == NULL)
		fail_msg("%s: %s", v->text, je.text);
	if (stix_meta_get(v->o, &v->m, &err) != TIX_OK)
		fail_msg("%s: %s", v->text, err.msg);
}

/* Stores one version inside the caller's transaction; returns *added. */
static int store_version(struct store *s, const char *id, const char *modified, const char *owner,
                         const struct store_collection *c, const struct store_source *src)
{
	struct version v;
	struct tix_error err;
	int added = -1;

	version_make(&v, id, modified);
	if (store_put(s, &v.m, v.text, strlen(v.text), owner, c, src, &added, &err) != TIX_OK)
		fail_msg("store_put %s: %s", id, err.msg);
	json_decref(v.o);
	return added;
}

struct listing {
	char out[1024];
	int64_t last;   /* the last row's date_added */
	int increasing; /* every date_added above the one before */
};

static int listing_cb(void *arg, const struct store_row *r)
{
	struct listing *l = arg;
	size_t n = strlen(l->out);

	if (r->date_added <= l->last)
		l->increasing = 0;
	l->last = r->date_added;
	snprintf(l->out + n, sizeof(l->out) - n, "%s %s%s;", r->id, r->modified,
	         strstr(r->body, r->modified) ? "" : " (not its body)");
	return 0;
}

/* store_query's rows as "id modified;" in their order. */
static const char *listing(struct store *s, const struct store_query *q, int64_t *last)
{
	static struct listing l;
	struct tix_error err;

	memset(&l, 0, sizeof(l));
	l.increasing = 1;
	if (store_query(s, q, listing_cb, &l, &err) != TIX_OK)
		fail_msg("store_query: %s", err.msg);
	assert_true(l.increasing);
	if (last)
		*last = l.last;
	return l.out;
}

static void type_count_cb(void *arg, const struct store_type_count *c)
{
	size_t n = strlen(arg);

	snprintf((char *)arg + n, 256 - n, "%s %lld %lld;", c->type, (long long)c->objects,
	         (long long)c->versions);
}

static void coll_count_cb(void *arg, const struct store_collection_count *c)
{
	size_t n = strlen(arg);

	snprintf((char *)arg + n, 256 - n, "%s %lld;", c->title, (long long)c->objects);
}

static const char *stats_text(struct store *s)
{
	static char out[256];
	struct store_stats_cb cb = {type_count_cb, coll_count_cb, out};
	struct tix_error err;

	out[0] = '\0';
	assert_int_equal(store_stats(s, &cb, &err), TIX_OK);
	return out;
}

/* The core of the store (sqlite.c) on either engine: collections found and
 * made, versions stored once, linked to collections, found by their source
 * digest (the owner's only); the latest versions or all, of the store, of
 * a collection, of one id, by type and after a date_added; a rolled back
 * write gone; a deletion; the statistics. */
static void core_on(struct store *s)
{
	struct tix_error err;
	struct store_collection c, again;
	struct store_source src;
	struct store_query q;
	struct version v;
	const char *mal[] = {"malware", NULL};
	char text[256];
	int64_t vid = -1, first = 0, last = 0;
	int added = -1;

	assert_int_equal(store_collection_get(s, "intel", 0, &c, &err), TIX_ENOTFOUND);
	assert_int_equal(store_collection_get(s, "intel", 1, &c, &err), TIX_OK);
	assert_true(c.key > 0);
	assert_string_equal(c.title, "intel");
	assert_int_equal(store_collection_get(s, c.id, 0, &again, &err), TIX_OK);
	assert_int_equal(again.key, c.key);
	assert_int_equal(store_collection_get(s, "intel", 1, &again, &err), TIX_OK);
	assert_int_equal(again.key, c.key);

	store_source_digest("bundle bytes", 12, &src);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_version(s, "indicator--1", V1, "acme", &c, &src), 1);
	assert_int_equal(store_version(s, "indicator--1", V1, "acme", &c, NULL), 0); /* stored */
	assert_int_equal(store_version(s, "indicator--1", V2, "acme", &c, NULL), 1);
	assert_int_equal(store_version(s, "malware--2", V1, "acme", NULL, NULL), 1);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	assert_int_equal(store_commit(s, &err), TIX_ESTORE); /* none open */

	version_make(&v, "indicator--1", V2);
	assert_int_equal(store_has_version(s, &v.m, "acme"), 1);
	json_decref(v.o);
	version_make(&v, "indicator--1", V3);
	assert_int_equal(store_has_version(s, &v.m, "acme"), 0);
	/* a write outside a transaction is refused */
	assert_int_equal(store_put(s, &v.m, v.text, strlen(v.text), "acme", &c, NULL, &added, &err),
	                 TIX_ESTORE);
	json_decref(v.o);
	assert_int_equal(store_find_source(s, &src, "acme", &vid), 1);
	assert_true(vid > 0);
	assert_int_equal(store_find_source(s, &src, "beta", &vid), 0);
	assert_int_equal(store_find_source(s, &src, NULL, &vid), 0);

	memset(&q, 0, sizeof(q));
	assert_string_equal(listing(s, &q, &first), "indicator--1 " V2 ";malware--2 " V1 ";");
	q.all_versions = 1;
	assert_string_equal(listing(s, &q, NULL),
	                    "indicator--1 " V1 ";indicator--1 " V2 ";malware--2 " V1 ";");
	q.types = mal;
	assert_string_equal(listing(s, &q, NULL), "malware--2 " V1 ";");
	q.types = NULL;
	q.id = "indicator--1";
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V1 ";indicator--1 " V2 ";");
	q.all_versions = 0;
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V2 ";");
	memset(&q, 0, sizeof(q));
	q.collection = &c;
	assert_string_equal(listing(s, &q, &last), "indicator--1 " V2 ";");
	q.all_versions = 1;
	assert_string_equal(listing(s, &q, &first), "indicator--1 " V1 ";indicator--1 " V2 ";");
	q.added_after = last - 1;
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V2 ";");
	q.added_after = last;
	assert_string_equal(listing(s, &q, NULL), "");

	/* linked to the collection later: after what it held */
	version_make(&v, "malware--2", V1);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_link(s, &v.m, "acme", &c, NULL, &added, &err), TIX_OK);
	assert_int_equal(added, 1);
	assert_int_equal(store_link(s, &v.m, "acme", &c, NULL, &added, &err), TIX_OK);
	assert_int_equal(added, 0);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	json_decref(v.o);
	memset(&q, 0, sizeof(q));
	q.collection = &c;
	q.added_after = last;
	assert_string_equal(listing(s, &q, NULL), "malware--2 " V1 ";");

	/* rolled back: nothing of it stays, and the next stamps go on */
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_version(s, "tool--3", V1, "acme", &c, NULL), 1);
	store_rollback(s);
	memset(&q, 0, sizeof(q));
	q.all_versions = 1;
	q.id = "tool--3";
	assert_string_equal(listing(s, &q, NULL), "");
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_version(s, "tool--3", V1, "acme", &c, NULL), 1);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	memset(&q, 0, sizeof(q));
	q.collection = &c;
	q.all_versions = 1;
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V1 ";indicator--1 " V2
	                                          ";malware--2 " V1 ";tool--3 " V1 ";");

	assert_string_equal(stats_text(s), "indicator 1 2;malware 1 1;tool 1 1;intel 3;");
	/* deleted from its one collection: gone from the store */
	{
		const char *ids[] = {"malware--2", NULL};
		struct store_taxii_filter f;
		size_t removed = 0;

		memset(&f, 0, sizeof(f));
		f.collection = &c;
		f.ids = ids;
		f.version_all = 1;
		assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
		assert_int_equal(removed, 1);
	}
	assert_string_equal(stats_text(s), "indicator 1 2;tool 1 1;intel 2;");
	snprintf(text, sizeof(text), "%s", listing(s, &(struct store_query){0}, NULL));
	assert_string_equal(text, "indicator--1 " V2 ";tool--3 " V1 ";");

	/* store_put of versions stored before, into another collection: only
	 * linked (STORE_LINKED, no new version), the older one superseded
	 * there by the newer; a new id's first version, then an older one
	 * that arrives after it: stored, and the first stays the latest */
	assert_int_equal(store_collection_get(s, "more", 1, &again, &err), TIX_OK);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_version(s, "indicator--1", V2, "acme", &again, NULL), STORE_LINKED);
	assert_int_equal(store_version(s, "indicator--1", V2, "acme", &again, NULL), 0);
	assert_int_equal(store_version(s, "indicator--1", V1, "acme", &again, NULL), STORE_LINKED);
	assert_int_equal(store_version(s, "tool--4", V2, "acme", &again, NULL), 1);
	assert_int_equal(store_version(s, "tool--4", V1, "acme", &again, NULL), 1);
	assert_int_equal(store_version(s, "tool--4", V1, "acme", &again, NULL), 0);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	memset(&q, 0, sizeof(q));
	q.collection = &again;
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V2 ";tool--4 " V2 ";");
	q.all_versions = 1;
	assert_string_equal(listing(s, &q, NULL), "indicator--1 " V2 ";indicator--1 " V1
	                                          ";tool--4 " V2 ";tool--4 " V1 ";");
	assert_string_equal(stats_text(s), "indicator 1 2;tool 2 3;intel 2;more 2;");
}

/* Two handles (two servers on one database) writing at once while a third
 * pages through the collection by date_added. */
#define STAMP_WRITES 40 /* transactions per writer */
#define STAMP_PUTS   3  /* versions per transaction */
struct stamp_writer {
	struct store *s;
	int n;
	struct store_collection c;
	char msg[256];
};

static void *stamp_write(void *arg)
{
	struct stamp_writer *w = arg;
	struct tix_error err;

	for (int t = 0; t < STAMP_WRITES && w->msg[0] == '\0'; t++) {
		if (store_begin(w->s, &err) != TIX_OK) {
			snprintf(w->msg, sizeof(w->msg), "begin: %s", err.msg);
			break;
		}
		for (int i = 0; i < STAMP_PUTS && w->msg[0] == '\0'; i++) {
			struct version v;
			char id[64];
			int added = 0;

			snprintf(id, sizeof(id), "indicator--w%d-%d-%d", w->n, t, i);
			version_make(&v, id, V1);
			if (store_put(w->s, &v.m, v.text, strlen(v.text), "acme", &w->c, NULL,
			              &added, &err) != TIX_OK ||
			    !added)
				snprintf(w->msg, sizeof(w->msg), "put %s: %s", id, err.msg);
			json_decref(v.o);
		}
		if (w->msg[0]) {
			store_rollback(w->s);
			break;
		}
		if (store_commit(w->s, &err) != TIX_OK)
			snprintf(w->msg, sizeof(w->msg), "commit: %s", err.msg);
	}
	return NULL;
}

struct stamp_reader {
	int64_t last;
	int increasing;
	size_t rows;
	char *seen; /* [writer][transaction][put] */
	int twice;
};

/* The writer, transaction and put of an id "indicator--wW-T-I", or -1. */
static long stamp_index(const char *id)
{
	const char *p = strncmp(id, "indicator--w", 12) == 0 ? id + 12 : NULL;
	long n[3];

	for (int k = 0; k < 3; k++) {
		char *end;

		if (p == NULL)
			return -1;
		n[k] = strtol(p, &end, 10);
		p = end != p && *end == (k < 2 ? '-' : '\0') ? end + 1 : NULL;
	}
	if (n[0] < 0 || n[0] >= 2 || n[1] < 0 || n[1] >= STAMP_WRITES || n[2] < 0 ||
	    n[2] >= STAMP_PUTS)
		return -1;
	return (n[0] * STAMP_WRITES + n[1]) * STAMP_PUTS + n[2];
}

static int stamp_read_cb(void *arg, const struct store_row *r)
{
	struct stamp_reader *p = arg;
	long i = stamp_index(r->id);

	if (r->date_added <= p->last)
		p->increasing = 0;
	p->last = r->date_added;
	p->rows++;
	if (i >= 0) {
		p->twice |= p->seen[i];
		p->seen[i] = 1;
	}
	return 0;
}

static void stamps_on(struct store *s)
{
	struct tix_error err;
	struct store_collection c;
	struct stamp_writer w[2];
	struct stamp_reader r;
	struct store_query q;
	char seen[2 * STAMP_WRITES * STAMP_PUTS];
	pthread_t t[2];
	int pages = 0;

	assert_int_equal(store_collection_get(s, "stamps", 1, &c, &err), TIX_OK);
	memset(seen, 0, sizeof(seen));
	memset(&r, 0, sizeof(r));
	r.increasing = 1;
	r.seen = seen;
	memset(&q, 0, sizeof(q));
	q.collection = &c;
	q.all_versions = 1;
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = audit_reopen(s);
		w[i].n = i;
		w[i].c = c;
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, stamp_write, &w[i]), 0);
	/* pages while they write, each after the last row of the one before */
	while (r.rows < sizeof(seen) && pages < 100000) {
		q.added_after = r.last;
		assert_int_equal(store_query(s, &q, stamp_read_cb, &r, &err), TIX_OK);
		pages++;
		if (w[0].msg[0] || w[1].msg[0])
			break;
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		store_close(w[i].s);
		assert_string_equal(w[i].msg, "");
	}
	q.added_after = r.last; /* and once after both ended */
	assert_int_equal(store_query(s, &q, stamp_read_cb, &r, &err), TIX_OK);
	assert_true(r.increasing);
	assert_int_equal(r.twice, 0);
	assert_int_equal(r.rows, sizeof(seen));
	for (size_t i = 0; i < sizeof(seen); i++)
		assert_int_equal(seen[i], 1);
	/* and the stamps are unique: as many as the rows */
	r.last = 0;
	r.rows = 0;
	memset(seen, 0, sizeof(seen));
	q.added_after = 0;
	assert_int_equal(store_query(s, &q, stamp_read_cb, &r, &err), TIX_OK);
	assert_int_equal(r.rows, sizeof(seen));
	assert_true(r.increasing);
}

/* ---- paged reads (db_set_paged) ------------------------------------------ */

#define MANY 100000

/* MANY indicators on nine days of created, date_added falling as vid
 * grows (so day order is neither vid's nor insertion's), by one statement
 * both engines run. */
static void put_many(struct store *s)
{
	exec_on(s,
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
	        " INSERT INTO objects (vid, id, type, created, modified, version, date_added,"
	        " body, tlp, owner_org)"
	        " SELECT i, 'indicator--' || i, 'indicator',"
	        " '2024-01-0' || (i % 9 + 1) || 'T00:00:00Z', 'm', 'm', 1000000 - i,"
	        " '{\"type\":\"indicator\",\"n\":' || i || '}', 1, 'acme' FROM n");
}

/* The rows a walk handed out, in order: their count and a digest of their
 * ids, stamps and bodies; stops after stop_after rows when not 0. */
struct walk_sum {
	uint64_t h;
	int64_t n, stop_after;
};

static void sum_text(struct walk_sum *w, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w->h = (w->h ^ (unsigned char)t[i]) * 1099511628211u;
	w->h = (w->h ^ 0xff) * 1099511628211u;
}

static int walk_cb(void *arg, const struct store_row *row)
{
	struct walk_sum *w = arg;
	char stamp[32];

	sum_text(w, row->id, strlen(row->id));
	snprintf(stamp, sizeof(stamp), "%lld", (long long)row->date_added);
	sum_text(w, stamp, strlen(stamp));
	sum_text(w, row->body, row->body_len);
	return ++w->n == w->stop_after;
}

static struct walk_sum walk_many(struct store *s, int64_t stop_after)
{
	static const char *const ind[] = {"indicator", NULL};
	struct walk_sum w = {14695981039346656037u, 0, stop_after};
	struct tix_error err;

	assert_int_equal(store_walk_by_day(s, NULL, NULL, ind, NULL, walk_cb, &w, &err), TIX_OK);
	return w;
}

static int taxii_listing_cb(void *arg, const struct store_taxii_row *r)
{
	struct walk_sum *w = arg;
	char stamp[32];

	sum_text(w, r->id, strlen(r->id));
	snprintf(stamp, sizeof(stamp), "%lld", (long long)r->date_added);
	sum_text(w, stamp, strlen(stamp));
	sum_text(w, r->body, r->body_len);
	w->n++;
	return 0;
}

/* A TAXII listing with no limit of the MANY objects put in a collection. */
static struct walk_sum list_many(struct store *s)
{
	struct store_collection c;
	struct tix_error err;
	struct store_taxii_filter f;
	struct walk_sum w = {14695981039346656037u, 0, 0};
	char sql[160];
	int more = 1;

	assert_int_equal(store_collection_create(s, "many", NULL, &c, &err), TIX_OK);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_objects (ckey, vid, date_added)"
	         " SELECT %lld, vid, date_added FROM objects",
	         (long long)c.key);
	exec_on(s, sql);
	memset(&f, 0, sizeof(f));
	f.collection = &c;
	if (store_taxii_select(s, &f, taxii_listing_cb, &w, &more, &err) != TIX_OK)
		fail_msg("store_taxii_select: %s", err.msg);
	assert_int_equal(more, 0);
	return w;
}

/* The walk by day over 100,000 objects gives the same rows in the same
 * order on both engines, and PostgreSQL never holds more than a page of
 * them in client memory; a walk stopped part-way (its cursor closed) and
 * the next one over the same connection see everything again. So does a
 * TAXII listing with no limit of them. */
static void test_paged_walk(void **state)
{
	struct fixture *f = *state;
	struct db *pg = store__engine(f->pg);
	struct walk_sum a, b, part;

	put_many(f->sq);
	put_many(f->pg);
	a = walk_many(f->sq, 0);
	assert_int_equal(a.n, MANY);
	db_rows_peak_reset(pg);
	b = walk_many(f->pg, 0);
	assert_int_equal(b.n, MANY);
	assert_true(a.h == b.h); /* the same rows, in the same order */
	assert_true(db_rows_peak(pg) > 0);
	assert_true(db_rows_peak(pg) <= DB_PAGE_ROWS);
	/* Stopped in the middle of its third page, then whole again. */
	part = walk_many(f->pg, 2 * DB_PAGE_ROWS + 17);
	assert_int_equal(part.n, 2 * DB_PAGE_ROWS + 17);
	b = walk_many(f->pg, 0);
	assert_int_equal(b.n, MANY);
	assert_true(a.h == b.h);
	/* Inside a read transaction too (the cursor is the transaction's). */
	assert_int_equal(db_begin(pg, 0), DB_OK);
	part = walk_many(f->pg, 1500);
	assert_int_equal(part.n, 1500);
	b = walk_many(f->pg, 0);
	assert_int_equal(db_commit(pg), DB_OK);
	assert_true(a.h == b.h);
	assert_true(db_rows_peak(pg) <= DB_PAGE_ROWS);
	/* A TAXII listing with no limit: the same, a page at a time. */
	a = list_many(f->sq);
	assert_int_equal(a.n, MANY);
	db_rows_peak_reset(pg);
	b = list_many(f->pg);
	assert_int_equal(b.n, MANY);
	assert_true(a.h == b.h);
	assert_true(db_rows_peak(pg) > 0);
	assert_true(db_rows_peak(pg) <= DB_PAGE_ROWS);
}

/* How many cursors the connection holds open on the server. */
static int64_t open_cursors(struct db *db)
{
	struct db_stmt *q =
	        db_cached(db, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'tixc%'", NULL);
	int64_t n;

	assert_non_null(q);
	assert_int_equal(db_step(q), DB_ROW);
	n = db_column_int64(q, 0);
	db_reset(q);
	return n;
}

/* Counts the rows st gives from here to its end (or to stop rows), their
 * first column counting up from first. */
static int64_t step_from(struct db_stmt *st, int64_t first, int64_t stop, enum db_rc *last)
{
	int64_t n = 0;
	enum db_rc rc = DB_ROW;

	while ((stop == 0 || n < stop) && (rc = db_step(st)) == DB_ROW) {
		assert_int_equal(db_column_int64(st, 0), first + n);
		n++;
	}
	if (last)
		*last = rc;
	return n;
}

static int64_t step_rows(struct db_stmt *st, int64_t stop, enum db_rc *last)
{
	return step_from(st, 1, stop, last);
}

/* One paged statement of the engine layer, reset in the middle of a page
 * and used again, outside a transaction (a held cursor) and inside one; a
 * paged read that outlives its transaction fails clearly and works again
 * once reset; nothing is left open on the server. */
static void test_paged_reset_reused(void **state)
{
	struct fixture *f = *state;
	struct db *pg = store__engine(f->pg);
	struct db_stmt *st;
	enum db_rc rc;

	put_many(f->pg);
	assert_int_equal(db_prepare(pg,
	                            "SELECT vid, body FROM objects WHERE vid <= ?1 ORDER BY vid",
	                            NULL, &st),
	                 DB_OK);
	db_set_paged(st, 1);
	db_bind_int64(st, 1, MANY);
	assert_int_equal(step_rows(st, 1500, NULL), 1500);
	assert_int_equal(open_cursors(pg), 1);
	db_reset(st);
	assert_int_equal(open_cursors(pg), 0);
	db_rows_peak_reset(pg);
	assert_int_equal(step_rows(st, 0, &rc), MANY);
	assert_int_equal(rc, DB_DONE);
	assert_int_equal(db_rows_peak(pg), DB_PAGE_ROWS);
	assert_int_equal(open_cursors(pg), 0); /* closed at its end */
	/* In a transaction: reset in the middle, read again, then past its end. */
	assert_int_equal(db_begin(pg, 0), DB_OK);
	assert_int_equal(step_rows(st, 10, NULL), 10);
	db_reset(st);
	assert_int_equal(step_rows(st, 0, &rc), MANY);
	assert_int_equal(rc, DB_DONE);
	assert_int_equal(step_rows(st, 2, NULL), 2);
	assert_int_equal(db_commit(pg), DB_OK);
	assert_int_equal(db_step(st), DB_ERROR);
	assert_non_null(strstr(db_errmsg(pg), "past the end of the transaction"));
	db_reset(st);
	assert_int_equal(open_cursors(pg), 0);
	/* Exactly a page, then an empty result. */
	db_bind_int64(st, 1, DB_PAGE_ROWS);
	assert_int_equal(step_rows(st, 0, &rc), DB_PAGE_ROWS);
	assert_int_equal(rc, DB_DONE);
	db_bind_int64(st, 1, 0);
	assert_int_equal(step_rows(st, 0, &rc), 0);
	assert_int_equal(rc, DB_DONE);
	assert_int_equal(open_cursors(pg), 0);
	db_finalize(st);
}

/* The connection killed in the middle of a paged read: the rows of the
 * page in hand, then DB_LOST saying what was being read; after a reconnect
 * the statement reads everything again. */
static void test_paged_lost(void **state)
{
	struct fixture *f = *state;
	struct db *pg = store__engine(f->pg);
	struct tix_error err;
	struct db *other = db_open(pg_url, 0, &err);
	struct db_stmt *st, *q;
	int64_t pid;
	enum db_rc rc;

	assert_non_null(other);
	put_many(f->pg);
	q = db_cached(pg, "SELECT pg_backend_pid()", NULL);
	assert_non_null(q);
	assert_int_equal(db_step(q), DB_ROW);
	pid = db_column_int64(q, 0);
	db_reset(q);
	assert_int_equal(db_prepare(pg, "SELECT vid FROM objects ORDER BY vid", NULL, &st), DB_OK);
	db_set_paged(st, 1);
	assert_int_equal(step_rows(st, 1500, NULL), 1500);
	q = db_cached(other, "SELECT pg_terminate_backend(CAST(?1 AS integer))", NULL);
	db_bind_int64(q, 1, pid);
	assert_int_equal(db_step(q), DB_ROW);
	assert_int_equal(db_column_int64(q, 0), 1);
	db_close(other);
	/* The second page is in hand: its last 500 rows, then the loss. */
	assert_int_equal(step_from(st, 1501, 0, &rc), 500);
	assert_int_equal(rc, DB_LOST);
	assert_int_equal(db_errcode(pg), DB_LOST);
	assert_non_null(strstr(db_errmsg(pg), "paged read"));
	assert_int_equal(db_reconnect(pg), DB_OK);
	/* Not reset: it says the read cannot go on; reset: it reads again. */
	assert_int_equal(db_step(st), DB_LOST);
	db_reset(st);
	assert_int_equal(step_rows(st, 0, &rc), MANY);
	assert_int_equal(rc, DB_DONE);
	db_finalize(st);
}

static int ids_cb(void *arg, const struct store_taxii_row *r)
{
	size_t n = strlen(arg);

	snprintf((char *)arg + n, 256 - n, "%s;", r->id);
	return 0;
}

/* What reader beta reads of collection c through the audience index. */
static const char *read_as_beta(struct store *s, const struct store_collection *c)
{
	static char out[256];
	struct store_reader beta = {"beta", NULL, 1, STIX_TLP_AMBER, 0};
	struct store_taxii_filter f;
	struct tix_error err;
	int more = -1;

	memset(&f, 0, sizeof(f));
	f.collection = c;
	f.reader = &beta;
	out[0] = '\0';
	assert_int_equal(store_taxii_select(s, &f, ids_cb, out, &more, &err), TIX_OK);
	return out;
}

#define AUDIENCE_ROWS                                                                              \
	"SELECT CAST(date_added AS TEXT) || ' ' || key, CAST(superseded AS TEXT)"                  \
	" FROM collection_audience WHERE date_added > 3000 ORDER BY date_added, key"
#define LATE_MARKING "marking-definition--0c3f9e2a-55b8-4d3e-9d0e-3c8d1f1c0a77"

/* The audience index (audience.c, written from C on both engines): a
 * membership's keys as it joins; its version's keys again when they
 * change, and when its marking arrives late (the sightings' counter moves
 * too); `superseded` when a later version joins and when it leaves; the
 * rows go with the membership and with the collection. */
static void audience_on(struct store *s)
{
	struct tix_error err;
	struct store_collection c, m;
	struct store_taxii_filter f;
	struct stix_meta md;
	const char *ids[] = {"indicator--x", NULL}, *v2[] = {V2, NULL};
	char out[512];
	int64_t v1, later, before;
	size_t removed = 0;

	assert_int_equal(store_collection_create(s, "audience", NULL, &c, &err), TIX_OK);
	v1 = seed(s, c.key, "indicator--x", "2.1", V1, 3001, 0, STIX_TLP_GREEN, "acme");
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "3001 all 0\n3001 org:acme 0\n");
	assert_string_equal(read_as_beta(s, &c), "indicator--x;");
	/* Its marking is not known (yet): its owner alone reads it. */
	exec_on(s,
	        "UPDATE objects SET tlp_flags = 2, body = '{\"object_marking_refs\":[\"" LATE_MARKING
	        "\"]}' WHERE id = 'indicator--x'");
	assert_int_equal(store__audience_changed(s, v1, &err), TIX_OK);
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "3001 org:acme 0\n");
	assert_string_equal(read_as_beta(s, &c), "");
	/* The marking-definition arrives (in another collection): GREEN
	 * again, for beta too. */
	before = sightings_version_of(s);
	assert_int_equal(store_collection_create(s, "markings", NULL, &m, &err), TIX_OK);
	seed(s, m.key, LATE_MARKING, "2.1", V1, 2999, 0, STIX_TLP_CLEAR, "acme");
	exec_on(s, "UPDATE objects SET type = 'marking-definition' WHERE id = '" LATE_MARKING "'");
	memset(&md, 0, sizeof(md));
	md.id = LATE_MARKING;
	md.type = "marking-definition";
	snprintf(md.created, sizeof(md.created), "%s", V1);
	assert_int_equal(store__record_owner(s, &md, "acme", 1, &err), TIX_OK);
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "3001 all 0\n3001 org:acme 0\n");
	assert_string_equal(read_as_beta(s, &c), "indicator--x;");
	assert_int_equal(sightings_version_of(s), before + 1);
	/* A later version joins: the first one's rows are superseded. */
	later = seed(s, c.key, "indicator--x", "2.1", V2, 3002, 0, STIX_TLP_GREEN, "acme");
	assert_int_equal(store__mark_superseded(s, c.key, later, &err), TIX_OK);
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "3001 all 1\n3001 org:acme 1\n3002 all 0\n3002 org:acme 0\n");
	/* It leaves (a TAXII delete): its rows go, the first is the latest again. */
	memset(&f, 0, sizeof(f));
	f.collection = &c;
	f.ids = ids;
	f.versions = v2;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "3001 all 0\n3001 org:acme 0\n");
	/* The collection goes: its rows with it (the DELETE of
	 * store_collection_remove, whose lookup is not on db.h yet). */
	snprintf(out, sizeof(out), "DELETE FROM collections WHERE ckey = %lld", (long long)c.key);
	exec_on(s, out);
	rows_text(store__engine(s), AUDIENCE_ROWS, out, sizeof(out));
	assert_string_equal(out, "");
}

/* How many rows each level of value_index holds: "main staged". */
static const char *levels(struct store *s, char *out, size_t size)
{
	rows_text(store__engine(s),
	          "SELECT CAST((SELECT count(*) FROM value_index) AS TEXT),"
	          " CAST((SELECT count(*) FROM value_stage) AS TEXT)",
	          out, size);
	return out;
}

/* value_index's two levels (migration 21), forced at tiny bounds by
 * TIX_VALUE_STAGE: the answers of values_on's versions are the same with
 * their rows in the main level, the staging level or both, before and
 * after merges and a reindex; an older version merged already loses its
 * latest flag when a newer one is staged; a value in both levels comes
 * newest first. */
static void values_staged_on(struct store *s)
{
	struct store_collection c;
	struct store_reindex_counts rc;
	struct hits_out o;
	struct tix_error err;
	int64_t reader = 77;
	char out[64], sql[160];

	assert_int_equal(store_collection_create(s, "v", NULL, &c, &err), TIX_OK);
	exec_on(s, "INSERT INTO orgs (okey, name, created) VALUES (77, 'reader-org', 0)");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_grants (ckey, okey, can_read, can_write)"
	         " VALUES (%lld, 77, 1, 0)",
	         (long long)c.key);
	exec_on(s, sql);

	/* every version staged, merged as soon as one row is: indicator--a's
	 * first version goes to the main level */
	assert_int_equal(setenv("TIX_VALUE_STAGE", "0,1", 1), 0);
	index_version(s, 1, "indicator--a", "indicator", "2024-01-01T00:00:00.000Z",
	              "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"Evil host\","
	              "\"pattern\":\"[ipv4-addr:value = '10.1.2.3'] OR"
	              " [domain-name:value = 'evil.example']\"}");
	assert_string_equal(levels(s, out, sizeof(out)), "1 0\n");
	/* the rest stays staged (a bound not reached) */
	assert_int_equal(setenv("TIX_VALUE_STAGE", "0,100", 1), 0);
	index_version(
	        s, 2, "indicator--a", "indicator", "2024-01-02T00:00:00.000Z",
	        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"Evil range\","
	        "\"pattern\":\"[ipv4-addr:value = '10.1.0.0/16'] OR"
	        " [domain-name:value = 'good.example'] OR [ipv4-addr:value = '10.300.0.1']\"}");
	index_version(
	        s, 3, "indicator--b", "indicator", "2024-01-01T00:00:00.000Z",
	        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"labels\":[\"botnet\"],"
	        "\"pattern\":\"[domain-name:value = 'evil.example'] AND"
	        " [ipv4-addr:value = '10.1.2.0/24'] AND [ipv6-addr:value = '2001:db8::/32']\"}");
	index_version(
	        s, 4, "sighting--s1", "sighting", "2024-01-01T00:00:00.000Z",
	        "{\"type\":\"sighting\",\"sighting_of_ref\":\"indicator--b\",\"count\":3,"
	        "\"where_sighted_refs\":[\"identity--y\"],"
	        "\"first_seen\":\"2024-01-01T00:00:00Z\",\"last_seen\":\"2024-01-02T00:00:00Z\"}");
	index_version(s, 5, "sighting--s2", "sighting", "2024-01-01T00:00:00.000Z",
	              "{\"type\":\"sighting\",\"sighting_of_ref\":\"indicator--b\",\"count\":4,"
	              "\"where_sighted_refs\":[\"identity--x\"],"
	              "\"first_seen\":\"2024-01-03T00:00:00Z\"}");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_objects (ckey, vid, date_added) VALUES (%lld, 3, 31)",
	         (long long)c.key);
	exec_on(s, sql);
	assert_string_equal(levels(s, out, sizeof(out)), "1 2\n");
	rows_text(store__engine(s),
	          "SELECT CAST(vid AS TEXT), CAST(latest AS TEXT) FROM value_index", out,
	          sizeof(out));
	assert_string_equal(out, "1 0\n"); /* merged, then no longer the latest */
	values_lookups(s, reader);

	/* a reindex merges what it staged: all in the main level, the same answers */
	if (store_values_reindex(s, &rc, &err) != TIX_OK)
		fail_msg("reindexing: %s", err.msg);
	assert_int_equal(rc.versions, 5);
	assert_string_equal(levels(s, out, sizeof(out)), "3 0\n");
	values_lookups(s, reader);

	/* a value in both levels: the staged newer version first */
	index_version(s, 6, "indicator--c", "indicator", "2024-01-05T00:00:00.000Z",
	              "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	              "\"pattern\":\"[domain-name:value = 'evil.example']\"}");
	assert_string_equal(levels(s, out, sizeof(out)), "3 1\n");
	assert_string_equal(find_text(s, "evil.example", reader, 0, NULL, &o),
	                    "6 indicator indicator--c 0;3 indicator indicator--b 1;");
	assert_string_equal(find_text(s, "evil.example", reader, 1, NULL, &o),
	                    "6 indicator - 0;3 indicator - 1;");
	/* a bound of 2 reached at the next staged version: merged in one go */
	assert_int_equal(setenv("TIX_VALUE_STAGE", "0,2", 1), 0);
	index_version(s, 7, "indicator--d", "indicator", "2024-01-05T00:00:00.000Z",
	              "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	              "\"pattern\":\"[domain-name:value = 'other.example']\"}");
	assert_string_equal(levels(s, out, sizeof(out)), "5 0\n");
	assert_string_equal(find_text(s, "evil.example", reader, 0, NULL, &o),
	                    "6 indicator indicator--c 0;3 indicator indicator--b 1;");
	assert_string_equal(find_text(s, "other.example", reader, 0, NULL, &o),
	                    "7 indicator indicator--d 0;");
	/* a small store (below FROM) writes the main level directly */
	assert_int_equal(setenv("TIX_VALUE_STAGE", "100,1000", 1), 0);
	index_version(s, 8, "indicator--e", "indicator", "2024-01-05T00:00:00.000Z",
	              "{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	              "\"pattern\":\"[domain-name:value = 'evil.example']\"}");
	assert_string_equal(levels(s, out, sizeof(out)), "6 0\n");
	assert_int_equal(unsetenv("TIX_VALUE_STAGE"), 0);
}

/* "vid tlp_flags;" per hit: the audience a hit carries. */
static int flags_cb(void *arg, const struct store_value_hit *h)
{
	struct hits_out *o = arg;

	o->n += (size_t)snprintf(o->text + o->n, sizeof(o->text) - o->n, "%lld %u;",
	                         (long long)h->vid, h->aud.tlp_flags);
	assert_true(o->n < sizeof(o->text));
	return 0;
}

/* How many text rows version vid has (FTS5's rowid, PostgreSQL's vid). */
static const char *text_rows(struct store *s, int64_t vid, char *out, size_t size)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT CAST(count(*) AS TEXT) FROM text_index WHERE %s = %lld",
	         s->pg ? "vid" : "rowid", (long long)vid);
	rows_text(store__engine(s), sql, out, size);
	return out;
}

/* One pass of values_events_on, its vids from base + 1, its values named
 * by tag: a version in collection c, indexed as store_put does. */
static void values_events_pass(struct store *s, const struct store_collection *c, int64_t base,
                               const char *tag, const char *marking)
{
	struct tix_error err;
	struct store_taxii_filter f;
	struct stix_meta m, md;
	struct hits_out o;
	char id[64], lid[64], dom[64], late[64], body[512], want[128], out[64], sql[128];
	const char *ids[] = {id, NULL}, *v2[] = {V2, NULL};
	size_t removed = 0;

	snprintf(id, sizeof(id), "indicator--gone-%s", tag);
	snprintf(lid, sizeof(lid), "indicator--late-%s", tag);
	snprintf(dom, sizeof(dom), "gone-%s.example", tag);
	snprintf(late, sizeof(late), "late-%s.example", tag);
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.type = "indicator";
	/* two versions of one indicator in c, each with the domain and an address */
	for (int v = 1; v <= 2; v++) {
		snprintf(
		        body, sizeof(body),
		        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"name\":\"Gone %s\","
		        "\"pattern\":\"[domain-name:value = '%s'] OR [ipv4-addr:value = '10.%d.0.1']\"}",
		        tag, dom, (int)(base / 100));
		put_version(s, base + v, id, "indicator", V1, v == 1 ? V1 : V2, base * 10 + v, body,
		            c->key, base * 10 + v);
		snprintf(m.created, sizeof(m.created), "%s", V1);
		snprintf(m.modified, sizeof(m.modified), "%s", v == 1 ? V1 : V2);
		m.version = m.modified;
		if (store__index_version(s, base + v, &m, body, strlen(body), 0, &err) != TIX_OK)
			fail_msg("indexing %s: %s", id, err.msg);
	}
	snprintf(want, sizeof(want), "%lld indicator %s 1;", (long long)base + 2, id);
	assert_string_equal(find_text(s, dom, 77, 0, NULL, &o), want);
	/* the latest version leaves (a TAXII delete): the first is the latest
	 * again, for its values and its address; the deleted one's text goes */
	memset(&f, 0, sizeof(f));
	f.collection = c;
	f.ids = ids;
	f.versions = v2;
	assert_int_equal(store_taxii_delete(s, &f, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
	snprintf(want, sizeof(want), "%lld indicator %s 1;", (long long)base + 1, id);
	assert_string_equal(find_text(s, dom, 77, 0, NULL, &o), want);
	snprintf(sql, sizeof(sql), "10.%d.0.1", (int)(base / 100));
	assert_string_equal(find_text(s, sql, 77, 0, NULL, &o), want);
	snprintf(want, sizeof(want), "%lld indicator - 1;", (long long)base + 1);
	assert_string_equal(find_text(s, dom, 77, 1, NULL, &o), want);
	assert_string_equal(text_rows(s, base + 2, out, sizeof(out)), "0\n");
	assert_string_equal(text_rows(s, base + 1, out, sizeof(out)), "1\n");

	/* a version whose marking is not known yet: its value rows' audience
	 * says so, until the marking-definition arrives */
	snprintf(body, sizeof(body),
	         "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"object_marking_refs\":"
	         "[\"%s\"],\"pattern\":\"[domain-name:value = '%s']\"}",
	         marking, late);
	put_version(s, base + 3, lid, "indicator", V1, V1, base * 10 + 3, body, c->key,
	            base * 10 + 3);
	snprintf(sql, sizeof(sql), "UPDATE objects SET tlp_flags = 2 WHERE vid = %lld",
	         (long long)base + 3);
	exec_on(s, sql);
	m.id = lid;
	snprintf(m.modified, sizeof(m.modified), "%s", V1);
	m.version = m.modified;
	if (store__index_version(s, base + 3, &m, body, strlen(body), 0, &err) != TIX_OK)
		fail_msg("indexing %s: %s", lid, err.msg);
	snprintf(want, sizeof(want), "%lld 2;", (long long)base + 3);
	assert_string_equal(find_with(s, late, 77, 1, NULL, flags_cb, &o), want);
	put_version(s, base + 4, marking, "marking-definition", V1, V1, base * 10 + 4, "{}", 0, 0);
	memset(&md, 0, sizeof(md));
	md.id = marking;
	md.type = "marking-definition";
	snprintf(md.created, sizeof(md.created), "%s", V1);
	assert_int_equal(store__record_owner(s, &md, "acme", 1, &err), TIX_OK);
	snprintf(want, sizeof(want), "%lld 0;", (long long)base + 3);
	assert_string_equal(find_with(s, late, 77, 1, NULL, flags_cb, &o), want);
	assert_string_equal(find_with(s, late, 77, 0, NULL, flags_cb, &o), want);
}

/* The value index's events, done in C on both engines where SQLite had
 * triggers (migration 22): after a TAXII delete of an object's latest
 * version, the one before is the latest again and the deleted version's
 * text row is gone; after a late marking-definition, the value rows carry
 * the version's new audience. Once in the main level, once staged. */
static void values_events_on(struct store *s)
{
	struct store_collection c;
	struct tix_error err;
	char out[64], sql[160];

	assert_int_equal(store_collection_create(s, "ev", NULL, &c, &err), TIX_OK);
	exec_on(s, "INSERT INTO orgs (okey, name, created) VALUES (77, 'reader-org', 0)");
	snprintf(sql, sizeof(sql),
	         "INSERT INTO collection_grants (ckey, okey, can_read, can_write)"
	         " VALUES (%lld, 77, 1, 0)",
	         (long long)c.key);
	exec_on(s, sql);
	values_events_pass(s, &c, 100, "main", LATE_MARKING);
	assert_string_equal(levels(s, out, sizeof(out)), "2 0\n");
	assert_int_equal(setenv("TIX_VALUE_STAGE", "0,100", 1), 0);
	values_events_pass(s, &c, 200, "staged",
	                   "marking-definition--0c3f9e2a-55b8-4d3e-9d0e-3c8d1f1c0a78");
	assert_int_equal(unsetenv("TIX_VALUE_STAGE"), 0);
	assert_string_equal(levels(s, out, sizeof(out)), "2 2\n");
}

/* The ids api_search answers for text (or a label alone), sorted (the
 * ranking differs by engine: bm25, ts_rank), as "id;id;", or its error. */
static const char *search_ids(struct store *s, const char *text, const char *label,
                              const char *type, char *out, size_t size)
{
	struct api_reader r;
	struct api_query q;
	struct tix_error err;
	json_t *res = NULL;
	const json_t *hit;
	const char *ids[16];
	size_t i, n = 0, len = 0;

	api_reader_operator(&r);
	memset(&q, 0, sizeof(q));
	q.q = text;
	q.label = label;
	q.limit = 10;
	q.min_score = -1;
	if (type) {
		q.types[0] = type;
		q.ntypes = 1;
	}
	memset(&err, 0, sizeof(err));
	out[0] = '\0';
	if (api_search(s, &r, &q, &res, &err) != TIX_OK) {
		snprintf(out, size, "error: %s", err.msg);
		return out;
	}
	json_array_foreach (json_object_get(res, "results"), i, hit)
		if (n < 16)
			ids[n++] = json_string_value(json_object_get(hit, "id"));
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(ids[b - 1], ids[b]) > 0; b--) {
			const char *t = ids[b];

			ids[b] = ids[b - 1];
			ids[b - 1] = t;
		}
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, size - len, "%s;", ids[i]);
	assert_true(len < size);
	json_decref(res);
	return out;
}

/* The text search (tix search, GET /api/v1/search) on both engines: FTS5
 * on SQLite, the tsvector and the mapped tsquery on PostgreSQL give the
 * same objects for prefixes, several words (all of them), any case, words
 * inside dotted names and hyphens, a label's words as a phrase in the
 * labels only, a type; the latest version only; hostile input refused
 * with a reason, the store untouched. */
static void text_search_on(struct store *s)
{
	struct store_text_query tq;
	struct hits_out o;
	struct tix_error err;
	char out[256], *big;
	int more;

	index_version(s, 1, "indicator--t1", "indicator", V1,
	              "{\"type\":\"indicator\",\"name\":\"Evil host\",\"description\":"
	              "\"Spear-phishing from evil.example.com\",\"labels\":[\"big botnet\"]}");
	index_version(s, 2, "malware--t2", "malware", V1,
	              "{\"type\":\"malware\",\"name\":\"Credential stealer\",\"description\":"
	              "\"steals credentials and cookies\",\"labels\":[\"botnet\"]}");
	index_version(s, 3, "report--t3", "report", V1,
	              "{\"type\":\"report\",\"name\":\"Weekly\",\"description\":"
	              "\"a big botnet again\",\"labels\":[\"botnet\", \"big\"]}");
	index_version(s, 4, "indicator--t1", "indicator", V2,
	              "{\"type\":\"indicator\",\"name\":\"Evil host again\",\"description\":"
	              "\"Spear-phishing from evil.example.com\",\"labels\":[\"big botnet\"]}");
	assert_string_equal(search_ids(s, "evil", NULL, NULL, out, sizeof(out)), "indicator--t1;");
	assert_string_equal(search_ids(s, "EVIL Host", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;");
	assert_string_equal(search_ids(s, "cred", NULL, NULL, out, sizeof(out)), "malware--t2;");
	assert_string_equal(search_ids(s, "cookie steal", NULL, NULL, out, sizeof(out)),
	                    "malware--t2;");
	assert_string_equal(search_ids(s, "exam", NULL, NULL, out, sizeof(out)), "indicator--t1;");
	assert_string_equal(search_ids(s, "phishing spear", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;");
	assert_string_equal(search_ids(s, "big botnet", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;report--t3;");
	assert_string_equal(search_ids(s, "botnet", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;malware--t2;report--t3;");
	assert_string_equal(search_ids(s, "botnet", NULL, "malware", out, sizeof(out)),
	                    "malware--t2;");
	assert_string_equal(search_ids(s, "again", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;report--t3;");
	assert_string_equal(search_ids(s, "zzz", NULL, NULL, out, sizeof(out)), "");
	/* a label alone: its words one after the other in the labels (and
	 * then the label itself, search.c) */
	assert_string_equal(search_ids(s, NULL, "big botnet", NULL, out, sizeof(out)),
	                    "indicator--t1;");
	assert_string_equal(search_ids(s, NULL, "botnet", NULL, out, sizeof(out)),
	                    "malware--t2;report--t3;");
	/* FTS syntax and SQL in the words are words, nothing more */
	assert_string_equal(search_ids(s, "evil OR zzz", NULL, NULL, out, sizeof(out)), "");
	assert_string_equal(search_ids(s, "name:evil", NULL, NULL, out, sizeof(out)), "");
	assert_string_equal(search_ids(s, "\"evil*\" (host", NULL, NULL, out, sizeof(out)),
	                    "indicator--t1;");
	assert_string_equal(
	        search_ids(s, "x'); DROP TABLE objects; --", NULL, NULL, out, sizeof(out)), "");
	assert_string_equal(search_ids(s, "\\' OR 1=1 --", NULL, NULL, out, sizeof(out)), "");
	assert_string_equal(search_ids(s, "*:* & !", NULL, NULL, out, sizeof(out)),
	                    "error: no word to search for");
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	assert_string_equal(search_ids(s, big, NULL, NULL, out, sizeof(out)),
	                    "error: longer than 1024 bytes");
	free(big);
	assert_string_equal(search_ids(s, "evil", NULL, NULL, out, sizeof(out)), "indicator--t1;");

	/* the store's own expression: a word itself, not a prefix */
	memset(&tq, 0, sizeof(tq));
	tq.match = "\"credential\"";
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_text_search(s, &tq, hit_cb, &o, &more, &err), TIX_OK);
	assert_string_equal(o.text, "2 malware malware--t2 0;");
	tq.match = "cookie";
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_text_search(s, &tq, hit_cb, &o, &more, &err), TIX_OK);
	assert_string_equal(o.text, "");
	/* PostgreSQL maps those expressions only; anything else is refused */
	if (s->pg) {
		static const char *const refused[] = {"evil OR host",
		                                      "name : \"evil\"",
		                                      "\"ev'il\"*",
		                                      "(evil)",
		                                      "NEAR(evil host)",
		                                      "\"evil\"* ; DROP TABLE objects",
		                                      ""};

		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
			tq.match = refused[i];
			assert_int_equal(store_text_search(s, &tq, hit_cb, &o, &more, &err),
			                 TIX_EINVAL);
		}
		rows_text(store__engine(s), "SELECT CAST(count(*) AS TEXT) FROM objects", out,
		          sizeof(out));
		assert_string_equal(out, "4\n");
	}
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
ON_BOTH(taxii)
ON_BOTH(reports)
ON_BOTH(audit)
ON_BOTH(sightings_version)
ON_BOTH(peer_versions)
ON_BOTH(values)
ON_BOTH(core)
ON_BOTH(stamps)
ON_BOTH(audience)
ON_BOTH(values_staged)
ON_BOTH(values_events)
ON_BOTH(text_search)

/* The store's PostgreSQL connection terminated by the server (as a
 * restart does): the call on it fails, store_lost says why, store_reconnect
 * connects again and the store works; a connection terminated while idle
 * is found by store_reconnect itself, before any call fails on it. SQLite's
 * handle is never lost. */
static void terminate_others_and_wait(void)
{
	struct tix_error err;
	struct db *db = db_open(pg_url, 0, &err);
	struct db_stmt *st;
	int64_t left = 1;

	assert_non_null(db);
	assert_int_equal(db_exec(db,
	                         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	                         " WHERE datname = current_database() AND pid <> pg_backend_pid()",
	                         NULL),
	                 DB_OK);
	for (int i = 0; i < 500 && left > 0; i++) {
		struct timespec pause = {0, 10 * 1000000L};

		st = db_cached(db,
		               "SELECT count(*) FROM pg_stat_activity WHERE datname ="
		               " current_database() AND pid <> pg_backend_pid()",
		               NULL);
		assert_non_null(st);
		assert_int_equal(db_step(st), DB_ROW);
		left = db_column_int64(st, 0);
		db_reset(st);
		if (left > 0)
			nanosleep(&pause, NULL);
	}
	assert_int_equal(left, 0);
	db_close(db);
}

static void test_reconnect(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store_org o;

	assert_int_equal(store_org_add(f->pg, "acme", "GB", &err), TIX_OK);
	assert_int_equal(store_reconnect(f->pg, &err), TIX_OK); /* a good one: kept */
	assert_false(store_lost(f->pg));
	terminate_others_and_wait();
	assert_int_not_equal(store_org_get(f->pg, "acme", &o, &err), TIX_OK);
	assert_true(store_lost(f->pg));
	assert_int_equal(store_reconnect(f->pg, &err), TIX_OK);
	assert_false(store_lost(f->pg));
	assert_int_equal(store_org_get(f->pg, "acme", &o, &err), TIX_OK);
	assert_string_equal(o.country, "GB");
	/* Idle when terminated: found and made again before a call fails. */
	terminate_others_and_wait();
	assert_int_equal(store_reconnect(f->pg, &err), TIX_OK);
	if (store_org_get(f->pg, "acme", &o, &err) != TIX_OK)
		fail_msg("after an idle connection was terminated: %s", err.msg);
	assert_int_equal(store_org_add(f->pg, "beta", "FR", &err), TIX_OK);
	assert_false(store_lost(f->sq));
	assert_int_equal(store_reconnect(f->sq, &err), TIX_OK);
}

/* ---- ANALYZE and another session's lock ---------------------------------- */

#define HELD_VERSIONS 40 /* past PG_STATS_FLOOR (32): the write analyses */

/* Another session holding a lock that ANALYZE waits for (SHARE UPDATE
 * EXCLUSIVE on objects: what another ANALYZE, a VACUUM or a CREATE INDEX
 * CONCURRENTLY holds), until it sees the write's versions committed or
 * ten seconds have passed (the old writer waited for it that long). */
struct holder {
	struct db *db;
	int64_t seen; /* versions of objects committed, at the last look */
	int saw_write;
};

static int64_t count_objects(struct db *db)
{
	struct db_stmt *st = db_cached(db, "SELECT count(*) FROM objects", NULL);
	int64_t n = -1;

	if (st && db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	if (st)
		db_reset(st);
	return n;
}

static void *hold_lock(void *arg)
{
	struct holder *h = arg;
	struct timespec now, end, pause = {0, 10 * 1000000L};

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 10;
	do {
		h->seen = count_objects(h->db);
		if (h->seen >= HELD_VERSIONS) {
			h->saw_write = 1;
			break;
		}
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
	         (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	db_exec(h->db, "COMMIT", NULL); /* the lock goes */
	return NULL;
}

/* What pg_class says of objects' rows (-1: never analysed). */
static int64_t objects_reltuples(struct db *db)
{
	struct db_stmt *st = db_cached(
	        db, "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE relname = 'objects'",
	        NULL);
	int64_t n = -2;

	if (st && db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	if (st)
		db_reset(st);
	return n;
}

/* A write that reaches its ANALYZE while another session holds a lock
 * ANALYZE conflicts with commits at once, without its ANALYZE, and the
 * holder keeps its lock meanwhile: the holder sees the versions committed
 * before it lets go. The next write transaction analyses. */
static void test_analyse_gives_up_on_a_held_table(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	struct holder h;
	pthread_t t;
	char id[64];

	assert_int_equal(store_collection_get(f->pg, "held", 1, &c, &err), TIX_OK);
	memset(&h, 0, sizeof(h));
	h.db = db_open(pg_url, 0, &err);
	assert_non_null(h.db);
	assert_int_equal(
	        db_exec(h.db, "BEGIN; LOCK TABLE objects IN SHARE UPDATE EXCLUSIVE MODE", NULL),
	        DB_OK);
	assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
	assert_int_equal(store_begin(f->pg, &err), TIX_OK);
	for (int i = 0; i < HELD_VERSIONS; i++) {
		snprintf(id, sizeof(id), "indicator--held-%d", i);
		assert_int_equal(store_version(f->pg, id, V1, "acme", &c, NULL), 1);
	}
	if (store_commit(f->pg, &err) != TIX_OK)
		fail_msg("commit: %s", err.msg);
	pthread_join(t, NULL);
	if (!h.saw_write)
		fail_msg("the write committed only once the lock was let go (the holder saw %lld "
		         "versions in 10 s)",
		         (long long)h.seen);
	assert_int_equal(count_objects(h.db), HELD_VERSIONS);
	assert_true(objects_reltuples(h.db) < HELD_VERSIONS); /* not analysed */

	/* the lock gone, the next write transaction analyses them */
	assert_int_equal(store_begin(f->pg, &err), TIX_OK);
	assert_int_equal(store_version(f->pg, "indicator--held-last", V1, "acme", &c, NULL), 1);
	assert_int_equal(store_commit(f->pg, &err), TIX_OK);
	assert_int_equal(objects_reltuples(h.db), HELD_VERSIONS + 1);
	db_close(h.db);
}

/* The versions a rolled-back transaction stored are not counted towards the
 * next ANALYZE: 31 rolled back, then one committed, is not the 32 that
 * analyse a new database's tables. */
static void test_analyse_counts_only_committed_versions(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	char id[64];

	assert_int_equal(store_collection_get(f->pg, "undone", 1, &c, &err), TIX_OK);
	assert_int_equal(store_begin(f->pg, &err), TIX_OK);
	for (int i = 0; i < 31; i++) {
		snprintf(id, sizeof(id), "indicator--undone-%d", i);
		assert_int_equal(store_version(f->pg, id, V1, "acme", &c, NULL), 1);
	}
	store_rollback(f->pg);
	assert_int_equal(store_begin(f->pg, &err), TIX_OK);
	assert_int_equal(store_version(f->pg, "indicator--kept", V1, "acme", &c, NULL), 1);
	assert_int_equal(store_commit(f->pg, &err), TIX_OK);
	assert_int_equal(objects_reltuples(store__engine(f->pg)), -1);
}

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
	        T(test_taxii),
	        T(test_reports),
	        T(test_audit),
	        T(test_backup),
	        T(test_sightings_version),
	        T(test_peer_versions),
	        T(test_values),
	        T(test_core),
	        T(test_stamps),
	        T(test_paged_walk),
	        T(test_paged_reset_reused),
	        T(test_paged_lost),
	        T(test_audience),
	        T(test_values_staged),
	        T(test_reconnect),
	        T(test_values_events),
	        T(test_text_search),
	        T(test_analyse_gives_up_on_a_held_table),
	        T(test_analyse_counts_only_committed_versions),
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
