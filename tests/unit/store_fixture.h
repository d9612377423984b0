/*
 * store_fixture.h — the cmocka fixture of the store's unit tests: a fresh
 * store per test, closed and removed after. On SQLite a file in a fresh
 * temporary directory; on PostgreSQL (TIX_TEST_STORE_URL, or the
 * TIX_TEST_PG_URL tools/pg.sh sets) a fresh schema of that database.
 */
#ifndef TIX_TEST_STORE_FIXTURE_H
#define TIX_TEST_STORE_FIXTURE_H

#include <stdint.h>

struct store;

struct fixture {
	char dir[64];
	/* What store_open opens again: the file, or the URL that selects the
	 * test's own schema (options=-csearch_path=...). */
	char path[1024];
	struct store *s;
	int pg;           /* 1 on PostgreSQL */
	char schema[64];  /* PostgreSQL: the test's schema */
	char other[1024]; /* test_store_other: a second fresh store's target */
	char other_schema[64];
};

/* The bodies of a cmocka setup and teardown: tag names the directory
 * (/tmp/tix-ut-TAG-XXXXXX) and the schema (tix_ut_TAG_N); a store that
 * cannot be opened is reported and fails the setup. */
int test_store_setup(void **state, const char *tag);
int test_store_teardown(void **state);

/* 1 when the store tests run on PostgreSQL (the URL is set). */
int test_store_on_pg(void);

/* The target of a second fresh, empty store beside f's (a file in f's
 * directory; a schema of its own on PostgreSQL), removed with f. */
const char *test_store_other(struct fixture *f);

/* Runs a script on f's store through a connection of its own (the
 * store's engine layer), for what a test does behind the store's back:
 * tampering with rows, old schemas. pg is PostgreSQL's text (NULL: the
 * same). Fails the test when it fails. */
void test_store_exec(const struct fixture *f, const char *sqlite, const char *pg);
/* The first column of the first row of a query on f's store, as above
 * (0 when there is no row). */
int64_t test_store_int(const struct fixture *f, const char *sqlite, const char *pg);

/* For a case whose assertion is about SQLite itself (its file, an old
 * SQLite schema being migrated): on PostgreSQL it is skipped (cmocka's
 * skip), the reason printed. */
void test_store_sqlite_only(const struct fixture *f, const char *why);

/* Why the migration cases are SQLite's only: they rewind an SQLite store to
 * an older schema, and no PostgreSQL store is older than the migration list
 * (its texts leave out what converts older rows: src/store/sqlite.c). */
#define TEST_NO_OLD_PG_SCHEMA "no PostgreSQL store has an older schema to migrate from"

#endif
