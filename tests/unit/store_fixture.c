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

/* Skips the whole run (ctest's SKIP_RETURN_CODE): it was meant for
 * PostgreSQL, which cannot run here; never run on SQLite in its place. */
static void skip_run(const char *why)
{
	fprintf(stderr, "store tests on PostgreSQL skipped: %s\n", why);
	exit(77);
}

/* The PostgreSQL database the tests run on, or NULL for SQLite:
 * TIX_TEST_STORE_URL, else TIX_TEST_PG_URL (tools/pg.sh run), else the
 * url file of the server in TIX_TEST_PG_DIR (the one the *_pg ctest runs
 * share, tests/unit/store/pg_server.sh), read once. */
static const char *pg_base(void)
{
	static char from_dir[1024];
	const char *url = getenv("TIX_TEST_STORE_URL");
	const char *dir = getenv("TIX_TEST_PG_DIR");
	char file[512], why[512];
	FILE *fp;

	if (url == NULL || url[0] == '\0')
		url = getenv("TIX_TEST_PG_URL");
	if (url && url[0])
		return url;
	if (getenv("TIX_TEST_PG_SKIP"))
		skip_run(getenv("TIX_TEST_PG_SKIP"));
	if (dir == NULL || dir[0] == '\0')
		return NULL;
	if (from_dir[0])
		return from_dir;
	snprintf(file, sizeof(file), "%s/skip", dir);
	if ((fp = fopen(file, "r")) != NULL) {
		if (fgets(why, sizeof(why), fp) == NULL)
			snprintf(why, sizeof(why), "%s", file);
		fclose(fp);
		skip_run(why);
	}
	snprintf(file, sizeof(file), "%s/url", dir);
	if ((fp = fopen(file, "r")) == NULL) {
		fprintf(stderr, "store tests: no PostgreSQL URL in %s\n", file);
		exit(1);
	}
	if (fgets(from_dir, sizeof(from_dir), fp) == NULL)
		from_dir[0] = '\0';
	fclose(fp);
	if (from_dir[0] == '\0') {
		fprintf(stderr, "store tests: %s is empty\n", file);
		exit(1);
	}
	from_dir[strcspn(from_dir, "\r\n")] = '\0';
	return from_dir;
}

int test_store_on_pg(void)
{
	return pg_base() != NULL;
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
