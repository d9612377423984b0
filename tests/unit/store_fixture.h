/*
 * store_fixture.h — the cmocka fixture of the store's unit tests: a fresh
 * store in a fresh temporary directory per test, closed and removed after.
 */
#ifndef TIX_TEST_STORE_FIXTURE_H
#define TIX_TEST_STORE_FIXTURE_H

struct store;

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

/* The bodies of a cmocka setup and teardown: tag names the directory
 * (/tmp/tix-ut-TAG-XXXXXX); a store that cannot be opened is reported and
 * fails the setup. */
int test_store_setup(void **state, const char *tag);
int test_store_teardown(void **state);

#endif
