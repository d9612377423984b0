/*
 * store_fixture.c — a fresh store for each unit test that needs one (see
 * store_fixture.h): an SQLite file in a fresh temporary directory, or a
 * fresh schema of the PostgreSQL database the environment names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "store/db.h"
#include "store/store.h"
#include "store_fixture.h"
#include "tmpdir.h"

/* The PostgreSQL database the tests run on, or NULL for SQLite. */
static const char *pg_base(void)
{
	const char *url = getenv("TIX_TEST_STORE_URL");

	if (url == NULL || url[0] == '\0')
		url = getenv("TIX_TEST_PG_URL");
	return url && url[0] ? url : NULL;
}

int test_store_on_pg(void)
{
	const char *want = getenv("TIX_TEST_STORE_ENGINE");
	const char *skip = getenv("TIX_TEST_PG_SKIP");

	if (pg_base() != NULL)
		return 1;
	/* A run meant for PostgreSQL (tests/CMakeLists.txt) where tools/pg.sh
	 * could not start one: skipped (ctest's SKIP_RETURN_CODE), never run
	 * on SQLite in its place. */
	if (want && strcmp(want, "postgresql") == 0) {
		fprintf(stderr, "store tests on PostgreSQL skipped: %s\n",
		        skip ? skip : "no TIX_TEST_STORE_URL or TIX_TEST_PG_URL");
		exit(77);
	}
	return 0;
}

/* Runs sql on the base database (schemas made and dropped). */
static int pg_admin(const char *sql)
{
	struct tix_error err;
	struct db *db;
	enum db_rc rc;

	tix_error_clear(&err);
	if ((db = db_open(pg_base(), 0, &err)) == NULL) {
		print_error("db_open: %s\n", err.msg);
		return -1;
	}
	if ((rc = db_exec(db, sql, NULL)) != DB_OK)
		print_error("%s: %s\n", sql, db_errmsg(db));
	db_close(db);
	return rc == DB_OK ? 0 : -1;
}

/* A new schema named after tag (letters and digits kept), this process and
 * a counter, so runs sharing one database never meet; its URL into url. */
static int pg_schema(const char *tag, char *schema, size_t schema_size, char *url, size_t url_size)
{
	static unsigned counter;
	const char *base = pg_base();
	char clean[24];
	char sql[160];
	size_t n = 0;

	for (const char *p = tag; *p && n + 1 < sizeof(clean); p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			clean[n++] = *p;
	clean[n] = '\0';
	if ((size_t)snprintf(schema, schema_size, "tix_ut_%s_%ld_%u", clean, (long)getpid(),
	                     ++counter) >= schema_size ||
	    (size_t)snprintf(url, url_size, "%s%coptions=-csearch_path%%3D%s", base,
	                     strchr(base, '?') ? '&' : '?', schema) >= url_size)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	return pg_admin(sql);
}

static void pg_drop(const char *schema)
{
	char sql[160];

	if (schema[0] == '\0')
		return;
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
	(void)pg_admin(sql);
}

int test_store_setup(void **state, const char *tag)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tix_error err;

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(tag, f->dir, sizeof(f->dir), f->path, sizeof(f->path)) != 0) {
		free(f);
		return -1;
	}
	f->pg = test_store_on_pg();
	if (f->pg && pg_schema(tag, f->schema, sizeof(f->schema), f->path, sizeof(f->path)) != 0) {
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	tix_error_clear(&err);
	if ((f->s = store_open(f->path, NULL, &err)) == NULL) {
		print_error("store_open: %s: %s\n", err.where, err.msg);
		pg_drop(f->schema);
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int test_store_teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	pg_drop(f->schema);
	pg_drop(f->other_schema);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

const char *test_store_other(struct fixture *f)
{
	if (!f->pg) {
		snprintf(f->other, sizeof(f->other), "%s/other.db", f->dir);
		return f->other;
	}
	assert_int_equal(pg_schema("other", f->other_schema, sizeof(f->other_schema), f->other,
	                           sizeof(f->other)),
	                 0);
	return f->other;
}

/* A connection of its own to f's store. */
static struct db *raw_open(const struct fixture *f)
{
	struct tix_error err;
	struct db *db;

	tix_error_clear(&err);
	if ((db = db_open(f->path, 0, &err)) == NULL)
		fail_msg("db_open %s: %s", f->path, err.msg);
	return db;
}

void test_store_exec(const struct fixture *f, const char *sqlite, const char *pg)
{
	struct db *db = raw_open(f);

	if (db_exec(db, sqlite, pg) != DB_OK)
		fail_msg("%s: %s", f->pg && pg ? pg : sqlite, db_errmsg(db));
	db_close(db);
}

int64_t test_store_int(const struct fixture *f, const char *sqlite, const char *pg)
{
	struct db *db = raw_open(f);
	struct db_stmt *st;
	int64_t v = 0;
	enum db_rc rc;

	if (db_prepare(db, sqlite, pg, &st) != DB_OK)
		fail_msg("%s: %s", f->pg && pg ? pg : sqlite, db_errmsg(db));
	if ((rc = db_step(st)) == DB_ROW)
		v = db_column_int64(st, 0);
	else if (rc != DB_DONE)
		fail_msg("%s: %s", f->pg && pg ? pg : sqlite, db_errmsg(db));
	db_finalize(st);
	db_close(db);
	return v;
}

void test_store_sqlite_only(const struct fixture *f, const char *why)
{
	if (!f->pg)
		return;
	print_message("skipped on PostgreSQL: %s\n", why);
	skip();
}
