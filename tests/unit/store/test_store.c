/*
 * Unit tests for store/sqlite.c through store.h: schema creation, versions
 * keyed by (id, modified), unique increasing date_added, transactions that
 * roll back cleanly, queries (latest/all versions, types, added_after,
 * collections), statistics, integrity check and persistence across reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../store_fixture.h"
#include "../tmpdir.h"
#include "core/core.h"
#include "stix/stix.h"
#include "store/store.h"

#define IND_A "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define IND_B "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca8"
#define MAL_A "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
#define IDT_A "identity--311b2d2d-f010-4473-83ec-1edf84858f4c"

#define T1 "2016-04-06T20:03:48.000Z"
#define T2 "2016-05-01T10:00:00.000Z"
#define T3 "2017-01-01T00:00:00.000Z"

static int setup(void **state)
{
	return test_store_setup(state, "store");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

/* ---- helpers ------------------------------------------------------------ */

/* The JSON text of a version. */
static void obj_text(char *out, size_t size, const char *id, const char *created,
                     const char *modified)
{
	size_t tl = (size_t)(strstr(id, "--") - id);

	snprintf(out, size,
	         "{\"type\":\"%.*s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"%s\","
	         "\"modified\":\"%s\",\"name\":\"v %s\"}",
	         (int)tl, id, id, created, modified, modified);
}

/* Stores one version (inside the caller's transaction); returns *added. */
static int put_in(struct store *s, const char *id, const char *created, const char *modified,
                  const struct store_collection *c)
{
	char text[1024];
	json_t *o;
	json_error_t je;
	struct stix_meta m;
	struct tix_error err;
	int added = -1;

	obj_text(text, sizeof(text), id, created, modified);
	o = json_loads(text, 0, &je);
	assert_non_null(o);
	tix_error_clear(&err);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	if (store_put(s, &m, text, strlen(text), "acme", c, NULL, &added, &err) != TIX_OK) {
		json_decref(o);
		fail_msg("store_put: %s: %s", err.where, err.msg);
	}
	json_decref(o);
	return added;
}

static int put(struct store *s, const char *id, const char *created, const char *modified)
{
	return put_in(s, id, created, modified, NULL);
}

static void begin(struct store *s)
{
	struct tix_error err;

	if (store_begin(s, &err) != TIX_OK)
		fail_msg("store_begin: %s", err.msg);
}

static void commit(struct store *s)
{
	struct tix_error err;

	if (store_commit(s, &err) != TIX_OK)
		fail_msg("store_commit: %s", err.msg);
}

#define MAXROWS 32

struct rows {
	size_t n;
	struct {
		char id[128];
		char type[64];
		char modified[32];
		int64_t date_added;
		char body[1024];
		size_t body_len;
	} r[MAXROWS];
};

static int collect(void *arg, const struct store_row *row)
{
	struct rows *rs = arg;

	if (rs->n >= MAXROWS)
		return 1;
	snprintf(rs->r[rs->n].id, sizeof(rs->r[0].id), "%s", row->id);
	snprintf(rs->r[rs->n].type, sizeof(rs->r[0].type), "%s", row->type);
	snprintf(rs->r[rs->n].modified, sizeof(rs->r[0].modified), "%s", row->modified);
	rs->r[rs->n].date_added = row->date_added;
	snprintf(rs->r[rs->n].body, sizeof(rs->r[0].body), "%.*s", (int)row->body_len, row->body);
	rs->r[rs->n].body_len = row->body_len;
	rs->n++;
	return 0;
}

static void query(struct store *s, const struct store_query *q, struct rows *rs)
{
	struct tix_error err;

	memset(rs, 0, sizeof(*rs));
	if (store_query(s, q, collect, rs, &err) != TIX_OK)
		fail_msg("store_query: %s", err.msg);
}

static void query_all(struct store *s, int all_versions, struct rows *rs)
{
	struct store_query q = {0};

	q.all_versions = all_versions;
	query(s, &q, rs);
}

static void canonical(const char *ts, char out[32])
{
	struct tix_time t;

	assert_int_equal(tix_time_parse(ts, &t, NULL), TIX_OK);
	tix_time_canonical(&t, out);
}

/* ---- opening ----------------------------------------------------------- */

/* store_has_version for an indicator version (id, canonical modified). */
static int has(struct store *s, const char *id, const char *modified)
{
	struct stix_meta m;

	memset(&m, 0, sizeof(m));
	m.id = id;
	m.type = "indicator";
	snprintf(m.created, sizeof(m.created), "%s", modified);
	snprintf(m.modified, sizeof(m.modified), "%s", modified);
	return store_has_version(s, &m, NULL);
}

/* The store's own check finds nothing wrong. On PostgreSQL store_check
 * refuses instead (backup.c: SQLite's integrity and foreign-key checks do
 * not apply; the message names pg_amcheck), and says so. */
static void check_ok(const struct fixture *f)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (!f->pg) {
		assert_int_equal(store_check(f->s, &err), TIX_OK);
		return;
	}
	assert_int_equal(store_check(f->s, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "pg_amcheck"));
}

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	struct rows rs;

	assert_true(store_schema_version() >= 1);
	if (!f->pg)
		assert_int_equal(stat(f->path, &st), 0);
	check_ok(f);
	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 0);

	/* The store records the schema version this build writes (SQLite's
	 * user_version; PostgreSQL's stand-in in meta). */
	assert_int_equal(test_store_int(f, "PRAGMA user_version",
	                                "SELECT CAST(value AS BIGINT) FROM meta"
	                                " WHERE key = 'schema_version'"),
	                 store_schema_version());
}

static void test_open_without_create_needs_existing_file(void **state)
{
	struct fixture *f = *state;
	struct store_options opts = {0, 0};
	struct tix_error err;
	char missing[160];
	struct stat st;
	struct store *s;

	snprintf(missing, sizeof(missing), "%s/missing.db", f->dir);
	tix_error_clear(&err);
	assert_null(store_open(missing, &opts, &err));
	assert_int_not_equal(err.code, TIX_OK);
	assert_int_not_equal(stat(missing, &st), 0);

	/* The existing store opens without create. */
	s = store_open(f->path, &opts, &err);
	assert_non_null(s);
	store_close(s);
}

/* ---- writing ----------------------------------------------------------- */

static void test_put_then_query_finds_it(void **state)
{
	struct fixture *f = *state;
	struct rows rs;
	char text[1024], c1[32];

	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	commit(f->s);

	obj_text(text, sizeof(text), IND_A, T1, T1);
	canonical(T1, c1);
	query_all(f->s, 0, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, IND_A);
	assert_string_equal(rs.r[0].type, "indicator");
	assert_string_equal(rs.r[0].modified, c1);
	assert_string_equal(rs.r[0].body, text);
	assert_int_equal(rs.r[0].body_len, strlen(text));
	assert_true(rs.r[0].date_added > 0);

	assert_int_equal(has(f->s, IND_A, c1), 1);
	assert_int_equal(has(f->s, IND_A, "2016-04-06T20:03:48.000000001Z"), 0);
	assert_int_equal(has(f->s, IND_B, c1), 0);
}

static void test_same_version_twice_is_not_added(void **state)
{
	struct fixture *f = *state;
	struct rows before, after;

	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	assert_int_equal(put(f->s, IND_A, T1, T1), 0); /* same transaction */
	commit(f->s);
	query_all(f->s, 1, &before);
	assert_int_equal(before.n, 1);

	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 0); /* a later transaction */
	/* Same instant written with another precision: the same version. */
	assert_int_equal(put(f->s, IND_A, T1, "2016-04-06T20:03:48Z"), 0);
	assert_int_equal(put(f->s, IND_A, T1, "2016-04-06T20:03:48.000000Z"), 0);
	commit(f->s);
	query_all(f->s, 1, &after);
	assert_int_equal(after.n, 1);
	assert_int_equal(after.r[0].date_added, before.r[0].date_added);
	assert_string_equal(after.r[0].body, before.r[0].body);
}

static void test_date_added_strictly_increasing(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {IND_A, IND_B, MAL_A, IDT_A};
	struct rows rs;

	begin(f->s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(put(f->s, ids[i], T1, T1), 1);
	assert_int_equal(put(f->s, IND_A, T1, T1), 0); /* a duplicate in between */
	assert_int_equal(put(f->s, IND_A, T1, T2), 1);
	commit(f->s);
	begin(f->s);
	assert_int_equal(put(f->s, IND_B, T1, T2), 1);
	assert_int_equal(put(f->s, MAL_A, T1, T1), 0);
	assert_int_equal(put(f->s, MAL_A, T1, T2), 1);
	assert_int_equal(put(f->s, IND_A, T1, T3), 1);
	commit(f->s);

	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 8);
	for (size_t i = 1; i < rs.n; i++)
		if (rs.r[i].date_added <= rs.r[i - 1].date_added)
			fail_msg("row %zu: date_added %lld after %lld", i,
			         (long long)rs.r[i].date_added, (long long)rs.r[i - 1].date_added);
	/* Rows come back in the order they were stored. */
	assert_string_equal(rs.r[0].id, IND_A);
	assert_string_equal(rs.r[3].id, IDT_A);
	assert_string_equal(rs.r[4].id, IND_A);
	assert_string_equal(rs.r[5].id, IND_B);
	assert_string_equal(rs.r[6].id, MAL_A);
	assert_string_equal(rs.r[7].id, IND_A);
}

static void test_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	struct rows rs;
	char c1[32];

	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	assert_int_equal(store_collection_get(f->s, "rolled back", 1, &c, &err), TIX_OK);
	assert_int_equal(put_in(f->s, IND_B, T1, T1, &c), 1);
	store_rollback(f->s);

	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 0);
	canonical(T1, c1);
	assert_int_equal(has(f->s, IND_A, c1), 0);
	assert_int_equal(store_collection_get(f->s, "rolled back", 0, &c, &err), TIX_ENOTFOUND);

	/* The store is usable afterwards and the version can be stored again. */
	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	commit(f->s);
	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 1);
	store_rollback(f->s); /* no transaction: nothing happens */
	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 1);
}

static void test_transaction_misuse_refused(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct stix_meta m;
	json_t *o;
	char text[1024];
	int added = 7;

	obj_text(text, sizeof(text), IND_A, T1, T1);
	o = json_loads(text, 0, NULL);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_int_equal(store_put(f->s, &m, text, strlen(text), NULL, NULL, NULL, &added, &err),
	                 TIX_ESTORE);
	assert_int_equal(added, 0);
	json_decref(o);

	assert_int_equal(store_commit(f->s, &err), TIX_ESTORE);
	begin(f->s);
	assert_int_equal(store_begin(f->s, &err), TIX_ESTORE);
	commit(f->s);
}

/* ---- reading ------------------------------------------------------------ */

static void test_latest_versus_all_versions(void **state)
{
	struct fixture *f = *state;
	struct rows rs;
	char c1[32], c3[32];

	canonical(T1, c1);
	canonical(T3, c3);
	begin(f->s);
	/* Stored out of time order: T2, T3, then the older T1. */
	assert_int_equal(put(f->s, IND_A, T1, T2), 1);
	assert_int_equal(put(f->s, IND_A, T1, T3), 1);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	assert_int_equal(put(f->s, MAL_A, T1, T1), 1);
	commit(f->s);

	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 4);

	query_all(f->s, 0, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].id, IND_A);
	assert_string_equal(rs.r[0].modified, c3);
	assert_string_equal(rs.r[1].id, MAL_A);
	assert_string_equal(rs.r[1].modified, c1);

	/* One object, every version, by id. */
	{
		struct store_query q = {0};

		q.id = IND_A;
		q.all_versions = 1;
		query(f->s, &q, &rs);
		assert_int_equal(rs.n, 3);
		q.all_versions = 0;
		query(f->s, &q, &rs);
		assert_int_equal(rs.n, 1);
		assert_string_equal(rs.r[0].modified, c3);
		q.id = IND_B;
		query(f->s, &q, &rs);
		assert_int_equal(rs.n, 0);
	}
}

static void test_type_filter(void **state)
{
	struct fixture *f = *state;
	static const char *const some[] = {"indicator", "identity", NULL};
	static const char *const none[] = {"tool", NULL};
	static const char *const mal[] = {"malware", NULL};
	struct store_query q = {0};
	struct rows rs;

	begin(f->s);
	put(f->s, IND_A, T1, T1);
	put(f->s, MAL_A, T1, T1);
	put(f->s, IDT_A, T1, T1);
	put(f->s, IND_B, T1, T1);
	commit(f->s);

	q.types = some;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 3);
	for (size_t i = 0; i < rs.n; i++)
		assert_true(strcmp(rs.r[i].type, "indicator") == 0 ||
		            strcmp(rs.r[i].type, "identity") == 0);
	q.types = mal;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, MAL_A);
	q.types = none;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 0);
}

static void test_added_after(void **state)
{
	struct fixture *f = *state;
	struct store_query q = {0};
	struct rows rs;
	int64_t first, second;

	begin(f->s);
	put(f->s, IND_A, T1, T1);
	commit(f->s);
	query_all(f->s, 1, &rs);
	first = rs.r[0].date_added;

	begin(f->s);
	put(f->s, IND_B, T1, T1);
	put(f->s, MAL_A, T1, T1);
	commit(f->s);

	q.all_versions = 1;
	q.added_after = first;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].id, IND_B);
	assert_string_equal(rs.r[1].id, MAL_A);
	second = rs.r[0].date_added;

	q.added_after = second;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, MAL_A);

	q.added_after = rs.r[0].date_added;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 0);

	q.added_after = first - 1;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 3);
}

static int stop_after_one(void *arg, const struct store_row *row)
{
	(void)row;
	(*(int *)arg)++;
	return 1;
}

static void test_callback_can_stop(void **state)
{
	struct fixture *f = *state;
	struct store_query q = {0};
	struct tix_error err;
	int calls = 0;

	begin(f->s);
	put(f->s, IND_A, T1, T1);
	put(f->s, IND_B, T1, T1);
	commit(f->s);
	assert_int_equal(store_query(f->s, &q, stop_after_one, &calls, &err), TIX_OK);
	assert_int_equal(calls, 1);
}

/* ---- collections -------------------------------------------------------- */

static void test_collection_create_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, by_title, by_id;
	struct tix_error err;
	struct tix_uuid u;

	tix_error_clear(&err);
	assert_int_equal(store_collection_get(f->s, "Intel feed", 0, &c, &err), TIX_ENOTFOUND);
	assert_int_equal(store_collection_get(f->s, "Intel feed", 1, &c, &err), TIX_OK);
	assert_string_equal(c.title, "Intel feed");
	assert_int_equal(strlen(c.id), 36);
	assert_int_equal(tix_uuid_parse(c.id, &u), TIX_OK);

	assert_int_equal(store_collection_get(f->s, "Intel feed", 0, &by_title, &err), TIX_OK);
	assert_int_equal(by_title.key, c.key);
	assert_string_equal(by_title.id, c.id);
	assert_string_equal(by_title.title, "Intel feed");

	assert_int_equal(store_collection_get(f->s, c.id, 0, &by_id, &err), TIX_OK);
	assert_int_equal(by_id.key, c.key);
	assert_string_equal(by_id.title, "Intel feed");

	/* With create, an existing title is found, not duplicated. */
	assert_int_equal(store_collection_get(f->s, "Intel feed", 1, &by_title, &err), TIX_OK);
	assert_int_equal(by_title.key, c.key);

	/* Titles are matched exactly. */
	assert_int_equal(store_collection_get(f->s, "intel feed", 0, &by_title, &err),
	                 TIX_ENOTFOUND);
}

static void test_uuid_shaped_unknown_name_not_created(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	static const char *const names[] = {"4527e5de-8572-446a-a57a-706f15467461",
	                                    "4527E5DE-8572-446A-A57A-706F15467461"};

	for (size_t i = 0; i < 2; i++) {
		tix_error_clear(&err);
		assert_int_equal(store_collection_get(f->s, names[i], 1, &c, &err), TIX_ENOTFOUND);
		assert_int_equal(err.code, TIX_ENOTFOUND);
		assert_int_equal(store_collection_get(f->s, names[i], 0, &c, &err), TIX_ENOTFOUND);
	}
	assert_int_equal(store_collection_get(f->s, "", 1, &c, &err), TIX_ENOTFOUND);
}

static void test_collection_membership(void **state)
{
	struct fixture *f = *state;
	struct store_collection a, b;
	struct store_query q = {0};
	struct tix_error err;
	struct rows rs;
	char c1[32], c2[32];

	canonical(T1, c1);
	canonical(T2, c2);
	assert_int_equal(store_collection_get(f->s, "feed-a", 1, &a, &err), TIX_OK);
	assert_int_equal(store_collection_get(f->s, "feed-b", 1, &b, &err), TIX_OK);
	assert_true(a.key != b.key);

	begin(f->s);
	assert_int_equal(put_in(f->s, IND_A, T1, T1, &a), 1);
	assert_int_equal(put_in(f->s, MAL_A, T1, T1, &b), 1);
	assert_int_equal(put(f->s, IDT_A, T1, T1), 1);
	assert_int_equal(put(f->s, IND_A, T1, T2), 1); /* newer version, in no collection */
	commit(f->s);

	q.collection = &a;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, IND_A);
	/* The latest version the collection holds, not the store's latest. */
	assert_string_equal(rs.r[0].modified, c1);

	q.collection = &b;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, MAL_A);

	/* An already stored version can join another collection... */
	begin(f->s);
	put_in(f->s, IND_A, T1, T1, &b);
	/* ...but joining one it is already in changes nothing. */
	assert_int_equal(put_in(f->s, MAL_A, T1, T1, &b), 0);
	commit(f->s);
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(rs.r[0].id, MAL_A);
	assert_string_equal(rs.r[1].id, IND_A);
	assert_true(rs.r[1].date_added > rs.r[0].date_added);

	/* The store as a whole still has each version once. */
	q.collection = NULL;
	q.all_versions = 1;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 4);
	q.all_versions = 0;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 3);
	for (size_t i = 0; i < rs.n; i++)
		if (strcmp(rs.r[i].id, IND_A) == 0)
			assert_string_equal(rs.r[i].modified, c2);
}

static void test_collection_added_after(void **state)
{
	struct fixture *f = *state;
	struct store_collection a;
	struct store_query q = {0};
	struct tix_error err;
	struct rows rs;

	assert_int_equal(store_collection_get(f->s, "feed", 1, &a, &err), TIX_OK);
	begin(f->s);
	put_in(f->s, IND_A, T1, T1, &a);
	commit(f->s);
	q.collection = &a;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);

	begin(f->s);
	put_in(f->s, IND_B, T1, T1, &a);
	commit(f->s);
	q.added_after = rs.r[0].date_added;
	query(f->s, &q, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].id, IND_B);
}

static void test_collection_title_length(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	char title[300];

	memset(title, 't', 255);
	title[255] = '\0';
	assert_int_equal(store_collection_get(f->s, title, 1, &c, &err), TIX_OK);
	assert_string_equal(c.title, title);
	title[255] = 't';
	title[256] = '\0';
	tix_error_clear(&err);
	assert_int_equal(store_collection_get(f->s, title, 1, &c, &err), TIX_EINVAL);
}

static void test_two_handles_share_the_stamp(void **state)
{
	struct fixture *f = *state;
	struct store *s2;
	struct tix_error err;
	struct rows rs;

	s2 = store_open(f->path, NULL, &err);
	assert_non_null(s2);
	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 1);
	commit(f->s);
	begin(s2);
	assert_int_equal(put(s2, IND_A, T1, T1), 0); /* seen through the other handle */
	assert_int_equal(put(s2, IND_B, T1, T1), 1);
	commit(s2);
	begin(f->s);
	assert_int_equal(put(f->s, MAL_A, T1, T1), 1);
	commit(f->s);
	store_close(s2);

	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 3);
	assert_string_equal(rs.r[0].id, IND_A);
	assert_string_equal(rs.r[1].id, IND_B);
	assert_string_equal(rs.r[2].id, MAL_A);
	assert_true(rs.r[0].date_added < rs.r[1].date_added);
	assert_true(rs.r[1].date_added < rs.r[2].date_added);
}

/* ---- statistics, integrity, persistence ---------------------------------- */

struct stats {
	int ntypes, ncolls;
	char types[8][32];
	int64_t objects[8], versions[8];
	char titles[8][64];
	int64_t cobjects[8];
};

static void on_type(void *arg, const struct store_type_count *c)
{
	struct stats *st = arg;

	if (st->ntypes < 8) {
		snprintf(st->types[st->ntypes], sizeof(st->types[0]), "%s", c->type);
		st->objects[st->ntypes] = c->objects;
		st->versions[st->ntypes] = c->versions;
		st->ntypes++;
	}
}

static void on_collection(void *arg, const struct store_collection_count *c)
{
	struct stats *st = arg;

	if (st->ncolls < 8) {
		snprintf(st->titles[st->ncolls], sizeof(st->titles[0]), "%s", c->title);
		st->cobjects[st->ncolls] = c->objects;
		st->ncolls++;
	}
}

static void test_stats_counts(void **state)
{
	struct fixture *f = *state;
	struct store_collection a, b;
	struct tix_error err;
	struct stats st;
	struct store_stats_cb cb = {on_type, on_collection, &st};

	assert_int_equal(store_collection_get(f->s, "alpha", 1, &a, &err), TIX_OK);
	assert_int_equal(store_collection_get(f->s, "beta", 1, &b, &err), TIX_OK);
	begin(f->s);
	put_in(f->s, IND_A, T1, T1, &a);
	put_in(f->s, IND_A, T1, T2, &a);
	put_in(f->s, IND_A, T1, T3, NULL);
	put_in(f->s, IND_B, T1, T1, &a);
	put_in(f->s, MAL_A, T1, T1, NULL);
	commit(f->s);

	memset(&st, 0, sizeof(st));
	assert_int_equal(store_stats(f->s, &cb, &err), TIX_OK);
	assert_int_equal(st.ntypes, 2);
	assert_string_equal(st.types[0], "indicator");
	assert_int_equal(st.objects[0], 2);
	assert_int_equal(st.versions[0], 4);
	assert_string_equal(st.types[1], "malware");
	assert_int_equal(st.objects[1], 1);
	assert_int_equal(st.versions[1], 1);

	assert_int_equal(st.ncolls, 2);
	assert_string_equal(st.titles[0], "alpha");
	assert_int_equal(st.cobjects[0], 2); /* objects, not versions */
	assert_string_equal(st.titles[1], "beta");
	assert_int_equal(st.cobjects[1], 0);

	/* Callbacks may be left out. */
	cb.collection = NULL;
	memset(&st, 0, sizeof(st));
	assert_int_equal(store_stats(f->s, &cb, &err), TIX_OK);
	assert_int_equal(st.ntypes, 2);
	assert_int_equal(st.ncolls, 0);
}

static void test_check_ok_after_writes(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;

	begin(f->s);
	put(f->s, IND_A, T1, T1);
	put(f->s, IND_A, T1, T2);
	commit(f->s);
	tix_error_clear(&err);
	check_ok(f);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, again;
	struct tix_error err;
	struct rows before, after;
	int64_t last;

	assert_int_equal(store_collection_get(f->s, "kept", 1, &c, &err), TIX_OK);
	begin(f->s);
	put_in(f->s, IND_A, T1, T1, &c);
	put(f->s, MAL_A, T1, T1);
	commit(f->s);
	query_all(f->s, 1, &before);
	assert_int_equal(before.n, 2);

	store_close(f->s);
	f->s = store_open(f->path, NULL, &err);
	assert_non_null(f->s);

	query_all(f->s, 1, &after);
	assert_int_equal(after.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(after.r[i].id, before.r[i].id);
		assert_string_equal(after.r[i].body, before.r[i].body);
		assert_int_equal(after.r[i].date_added, before.r[i].date_added);
	}
	assert_int_equal(store_collection_get(f->s, "kept", 0, &again, &err), TIX_OK);
	assert_string_equal(again.id, c.id);
	check_ok(f);

	/* Storing the same version again still adds nothing; a new version
	 * gets a date_added after everything stored before the reopen. */
	last = after.r[1].date_added;
	begin(f->s);
	assert_int_equal(put(f->s, IND_A, T1, T1), 0);
	assert_int_equal(put(f->s, IND_B, T1, T1), 1);
	commit(f->s);
	query_all(f->s, 1, &after);
	assert_int_equal(after.n, 3);
	assert_string_equal(after.r[2].id, IND_B);
	assert_true(after.r[2].date_added > last);
}

static void test_close_with_open_transaction_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct rows rs;

	begin(f->s);
	put(f->s, IND_A, T1, T1);
	store_close(f->s); /* no commit */
	f->s = store_open(f->path, NULL, &err);
	assert_non_null(f->s);
	query_all(f->s, 1, &rs);
	assert_int_equal(rs.n, 0);
	store_close(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- the latest version in a collection, under random changes ---------------- */

struct latest_state {
	char ids[64][80];
	char versions[64][40];
	size_t n;
};

static int collect_latest(void *arg, const struct store_taxii_row *r)
{
	struct latest_state *ls = arg;

	if (ls->n < 64) {
		snprintf(ls->ids[ls->n], sizeof(ls->ids[0]), "%s", r->id);
		snprintf(ls->versions[ls->n], sizeof(ls->versions[0]), "%s", r->version);
		ls->n++;
	}
	return 0;
}

/* Random versions of a few objects go into a collection in random order and
 * random versions are deleted from it; after every step, the TAXII query's
 * "latest version of each object in this collection" (kept by a flag on
 * memberships) must equal the latest among what remains. */
static void test_collection_latest_follows_random_changes(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[] = {
	        "indicator--00000000-0000-4000-8000-000000000001",
	        "indicator--00000000-0000-4000-8000-000000000002",
	        "indicator--00000000-0000-4000-8000-000000000003",
	};
	int member[3][6] = {{0}}; /* is version v of object i in the collection? */
	struct store_collection c;
	struct tix_error err;
	unsigned seed = 12345;

	begin(f->s);
	assert_int_equal(store_collection_get(f->s, "random", 1, &c, &err), TIX_OK);
	commit(f->s);
	for (int step = 0; step < 200; step++) {
		struct store_taxii_filter q;
		struct latest_state ls;
		int i, v, more, expected = 0;
		char mod[40];

		seed = seed * 1103515245u + 12345u;
		i = (int)((seed >> 8) % 3);
		v = (int)((seed >> 12) % 6);
		snprintf(mod, sizeof(mod), "2020-01-0%dT00:00:00.000Z", v + 1);
		if (((seed >> 20) % 3) != 0) {
			begin(f->s);
			put_in(f->s, ids[i], "2020-01-01T00:00:00.000Z", mod, &c);
			commit(f->s);
			member[i][v] = 1;
		} else {
			struct store_taxii_filter df;
			const char *one[2] = {ids[i], NULL};
			char canon[32];
			const char *vers[2] = {canon, NULL};
			struct tix_time t;
			size_t removed;

			assert_int_equal(tix_time_parse(mod, &t, NULL), TIX_OK);
			tix_time_canonical(&t, canon);
			memset(&df, 0, sizeof(df));
			df.collection = &c;
			df.ids = one;
			df.versions = vers;
			assert_int_equal(store_taxii_delete(f->s, &df, &removed, &err), TIX_OK);
			assert_int_equal(removed, (size_t)member[i][v]);
			member[i][v] = 0;
		}
		memset(&q, 0, sizeof(q));
		memset(&ls, 0, sizeof(ls));
		q.collection = &c;
		assert_int_equal(store_taxii_select(f->s, &q, collect_latest, &ls, &more, &err),
		                 TIX_OK);
		for (int k = 0; k < 3; k++) {
			int last = -1, found = 0;
			char want[40];

			for (int w = 0; w < 6; w++)
				if (member[k][w])
					last = w;
			if (last < 0)
				continue;
			expected++;
			snprintf(want, sizeof(want), "2020-01-0%dT00:00:00.000Z", last + 1);
			for (size_t r = 0; r < ls.n; r++)
				if (strcmp(ls.ids[r], ids[k]) == 0) {
					assert_string_equal(ls.versions[r], want);
					found++;
				}
			assert_int_equal(found, 1);
		}
		assert_int_equal((int)ls.n, expected);
	}
}

/* A POST's status can be read back by id; statuses older than
 * STORE_STATUS_KEEP_US are dropped when a new one is saved. */
static void test_status_kept_then_dropped(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char *body = NULL;
	int64_t user = 0;

	assert_int_equal(store_status_put(f->s, "s-old", 7, "{\"n\":1}", &err), TIX_OK);
	assert_int_equal(store_status_get(f->s, "s-old", &body, &user, &err), TIX_OK);
	assert_string_equal(body, "{\"n\":1}");
	assert_int_equal(user, 7);
	free(body);
	assert_int_equal(store_status_get(f->s, "s-none", &body, &user, &err), TIX_ENOTFOUND);
	/* Age the first one past the keeping time, from another connection. */
	test_store_exec(f, "UPDATE taxii_status SET created = created - 8 * 86400000000", NULL);
	assert_int_equal(store_status_put(f->s, "s-new", 7, "{\"n\":2}", &err), TIX_OK);
	assert_int_equal(store_status_get(f->s, "s-old", &body, &user, &err), TIX_ENOTFOUND);
	assert_int_equal(store_status_get(f->s, "s-new", &body, &user, &err), TIX_OK);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_open_creates_schema),
	        T(test_open_without_create_needs_existing_file),
	        T(test_put_then_query_finds_it),
	        T(test_same_version_twice_is_not_added),
	        T(test_date_added_strictly_increasing),
	        T(test_rollback_leaves_nothing),
	        T(test_transaction_misuse_refused),
	        T(test_latest_versus_all_versions),
	        T(test_type_filter),
	        T(test_added_after),
	        T(test_callback_can_stop),
	        T(test_collection_create_and_lookup),
	        T(test_uuid_shaped_unknown_name_not_created),
	        T(test_collection_membership),
	        T(test_status_kept_then_dropped),
	        T(test_collection_latest_follows_random_changes),
	        T(test_collection_added_after),
	        T(test_collection_title_length),
	        T(test_two_handles_share_the_stamp),
	        T(test_stats_counts),
	        T(test_check_ok_after_writes),
	        T(test_reopen_keeps_data),
	        T(test_close_with_open_transaction_rolls_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
