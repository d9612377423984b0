/*
 * tests/unit/store/test_copy.c — tix migrate's copy (src/store/copy.c): the
 * canonical encoding of a value in a table's digest (the same bytes from
 * either engine), a copy between two stores of the engine the tests run on
 * (two SQLite files; two schemas on PostgreSQL), a target that is not
 * empty refused, a copy that differs rolled back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../store_fixture.h"
#include "store/store_int.h"

static void test_encoding_is_tag_and_big_endian(void **state)
{
	unsigned char out[9];
	static const unsigned char one[9] = {1, 0, 0, 0, 0, 0, 0, 0, 1};
	static const unsigned char minus[9] = {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const unsigned char half[9] = {2, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0};
	static const unsigned char text[9] = {3, 0, 0, 0, 0, 0, 0, 0x01, 0x02};
	static const unsigned char blob[9] = {4, 0, 0, 0, 0, 0, 0, 0, 5};

	(void)state;
	assert_int_equal(store__copy_encode(DB_NULL, 0, 0, 0, out), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(store__copy_encode(DB_INTEGER, 1, 0, 0, out), 9);
	assert_memory_equal(out, one, 9);
	assert_int_equal(store__copy_encode(DB_INTEGER, -1, 0, 0, out), 9);
	assert_memory_equal(out, minus, 9);
	assert_int_equal(store__copy_encode(DB_FLOAT, 0, 0.5, 0, out), 9);
	assert_memory_equal(out, half, 9);
	assert_int_equal(store__copy_encode(DB_TEXT, 0, 0, 258, out), 9);
	assert_memory_equal(out, text, 9);
	assert_int_equal(store__copy_encode(DB_BLOB, 0, 0, 5, out), 9);
	assert_memory_equal(out, blob, 9);
}

struct seen {
	int tables, differ;
	int64_t orgs;
};

static int count(void *arg, const struct store_copy_table *t)
{
	struct seen *s = arg;

	s->tables++;
	if (t->rows_source != t->rows_target ||
	    memcmp(t->digest_source, t->digest_target, sizeof(t->digest_source)) != 0)
		s->differ++;
	if (strcmp(t->name, "orgs") == 0)
		s->orgs = t->rows_target;
	return 0;
}

static void test_copy_between_stores(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store *to;
	struct store_org o;
	struct seen seen = {0, 0, 0};

	assert_int_equal(store_org_add(f->s, "acme", "", &err), TIX_OK);
	assert_int_equal(store_org_add(f->s, "globex", "", &err), TIX_OK);
	to = store_open(test_store_other(f), NULL, &err); /* on the same engine */
	assert_non_null(to);
	assert_int_equal(store_copy(f->s, to, count, &seen, &err), TIX_OK);
	assert_true(seen.tables > 30);
	assert_int_equal(seen.differ, 0);
	assert_int_equal(seen.orgs, 2);
	assert_int_equal(store_org_get(to, "globex", &o, &err), TIX_OK);
	/* Not empty now: refused, nothing added. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_copy(f->s, to, NULL, NULL, &err), TIX_EEXIST);
	assert_non_null(strstr(err.msg, "is not empty"));
	store_close(to);
}

/* A target that changes what it is given (here a trigger of its own): the
 * digests differ, the copy fails and is rolled back. */
static void test_a_copy_that_differs_is_rolled_back(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store *to;
	struct store_org o;
	struct seen seen = {0, 0, 0};

	assert_int_equal(store_org_add(f->s, "acme", "", &err), TIX_OK);
	to = store_open(test_store_other(f), NULL, &err); /* on the same engine */
	assert_non_null(to);
	assert_int_equal(db_exec(store__engine(to),
	                         "CREATE TRIGGER changed AFTER INSERT ON orgs BEGIN"
	                         " UPDATE orgs SET country = 'XX' WHERE okey = new.okey; END",
	                         "CREATE FUNCTION changed() RETURNS trigger LANGUAGE plpgsql AS $$"
	                         " BEGIN UPDATE orgs SET country = 'XX' WHERE okey = NEW.okey;"
	                         " RETURN NULL; END $$;"
	                         "CREATE TRIGGER changed AFTER INSERT ON orgs"
	                         " FOR EACH ROW EXECUTE FUNCTION changed()"),
	                 DB_OK);
	memset(&err, 0, sizeof(err));
	assert_int_equal(store_copy(f->s, to, count, &seen, &err), TIX_ESTORE);
	assert_non_null(strstr(err.msg, "table orgs differs"));
	assert_int_equal(seen.differ, 1);
	assert_int_equal(store_org_get(to, "acme", &o, &err), TIX_ENOTFOUND);
	store_close(to);
}

static int setup(void **state)
{
	return test_store_setup(state, "copy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_encoding_is_tag_and_big_endian),
	        cmocka_unit_test_setup_teardown(test_copy_between_stores, setup,
	                                        test_store_teardown),
	        cmocka_unit_test_setup_teardown(test_a_copy_that_differs_is_rolled_back, setup,
	                                        test_store_teardown),
	};

	return cmocka_run_group_tests_name("store copy (tix migrate)", tests, NULL, NULL);
}
