/*
 * Unit tests for the audit of large reads (store_audit_ids in
 * store/audit.c): ids kept in bounded parts, one chained entry per part
 * written in one transaction, "who has seen" finding an id in its part,
 * and a failure half-way through leaving no entry that claims a read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store_fixture.h"
#include "../tmpdir.h"
#include "core/core.h"
#include "store/store.h"

#define PART 100

static int setup(void **state)
{
	return test_store_setup(state, "auditids");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

static void id_of(int i, char out[64])
{
	snprintf(out, 64, "indicator--00000000-0000-4000-8000-%012d", i);
}

static const struct store_audit_entry tmpl = {1700000000000000, "export", "ana",
                                              "cert",           "",       "tix export"};

/* A writer given n ids, finished: what finish returned. */
static enum tix_err export_ids(struct store *s, int n, struct tix_error *err)
{
	struct store_audit_ids *w = store_audit_ids_new(&tmpl, PART, err);
	enum tix_err e;

	assert_non_null(w);
	for (int i = 0; i < n; i++) {
		char id[64];

		id_of(i, id);
		assert_int_equal(store_audit_ids_add(w, id, err), TIX_OK);
	}
	assert_int_equal(store_audit_ids_count(w), (size_t)n);
	e = store_audit_ids_finish(s, w, err);
	store_audit_ids_free(w);
	return e;
}

struct listed {
	int entries;
	size_t ids; /* ids named by the entries listed */
	char detail[8][128];
};

static int list_cb(void *arg, int64_t seq, const struct store_audit_entry *e)
{
	struct listed *l = arg;

	(void)seq;
	if (l->entries < 8)
		snprintf(l->detail[l->entries], sizeof(l->detail[0]), "%s", e->detail);
	l->entries++;
	for (const char *p = e->objects; *p; p++)
		l->ids += *p == '\n';
	if (e->objects[0])
		l->ids--; /* "\nid\nid\n": one more line break than ids */
	return 0;
}

static struct listed list(struct store *s, const char *object)
{
	struct listed l;
	struct tix_error err;

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_audit_list(s, object, 0, list_cb, &l, &err), TIX_OK);
	return l;
}

static int64_t verified(struct store *s)
{
	int64_t entries = 0, bad = 0;
	struct tix_error err;

	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), TIX_OK);
	return entries;
}

static void no_id_writes_no_entry(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;

	assert_int_equal(export_ids(f->s, 0, &err), TIX_OK);
	assert_int_equal(list(f->s, NULL).entries, 0);
	assert_int_equal(verified(f->s), 0);
}

static void exactly_one_part_is_one_entry_as_the_template(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char first[64], last[64];
	struct listed l;

	assert_int_equal(export_ids(f->s, PART, &err), TIX_OK);
	l = list(f->s, NULL);
	assert_int_equal(l.entries, 1);
	assert_int_equal(l.ids, PART);
	assert_string_equal(l.detail[0], "tix export");
	id_of(0, first);
	id_of(PART - 1, last);
	assert_int_equal(list(f->s, first).entries, 1);
	assert_int_equal(list(f->s, last).entries, 1);
	assert_int_equal(verified(f->s), 1);
}

static void one_more_than_a_part_is_two_parts_each_id_found(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct listed l;

	assert_int_equal(export_ids(f->s, PART + 1, &err), TIX_OK);
	l = list(f->s, NULL);
	assert_int_equal(l.entries, 2);
	assert_int_equal(l.ids, PART + 1);
	assert_string_equal(l.detail[0], "tix export (part 1 of 2)");
	assert_string_equal(l.detail[1], "tix export (part 2 of 2)");
	for (int i = 0; i <= PART; i++) {
		char id[64];

		id_of(i, id);
		l = list(f->s, id);
		assert_int_equal(l.entries, 1);
		assert_string_equal(l.detail[0], i < PART ? "tix export (part 1 of 2)"
		                                          : "tix export (part 2 of 2)");
	}
	assert_int_equal(verified(f->s), 2);
}

static void many_parts_round_trip_through_the_file(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct listed l;
	char id[64];

	assert_int_equal(export_ids(f->s, 7 * PART + 3, &err), TIX_OK);
	l = list(f->s, NULL);
	assert_int_equal(l.entries, 8);
	assert_int_equal(l.ids, 7 * PART + 3);
	id_of(5 * PART + 17, id);
	l = list(f->s, id);
	assert_int_equal(l.entries, 1);
	assert_string_equal(l.detail[0], "tix export (part 6 of 8)");
	assert_int_equal(verified(f->s), 8);
}

/* The third part's insert fails (a trigger the test puts on the real
 * table): the two written before it are rolled back with it, the head
 * stays, the chain verifies, and a later export chains on as usual. */
static void a_failure_half_way_leaves_no_part(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char id[64];

	assert_int_equal(export_ids(f->s, 3, &err), TIX_OK); /* one entry before */
	store_close(f->s);
	test_store_exec(f,
	                "CREATE TRIGGER fail_part_3 BEFORE INSERT ON audit"
	                " WHEN NEW.detail LIKE '%(part 3 of %' BEGIN"
	                " SELECT RAISE(ABORT, 'the disk is full'); END;",
	                "CREATE FUNCTION fail_part_3() RETURNS trigger LANGUAGE plpgsql AS $$"
	                " BEGIN IF NEW.detail LIKE '%(part 3 of %' THEN"
	                " RAISE EXCEPTION 'the disk is full'; END IF; RETURN NEW; END $$;"
	                "CREATE TRIGGER fail_part_3 BEFORE INSERT ON audit"
	                " FOR EACH ROW EXECUTE FUNCTION fail_part_3();");
	assert_non_null(f->s = store_open(f->path, NULL, &err));
	assert_int_not_equal(export_ids(f->s, 4 * PART, &err), TIX_OK);
	assert_non_null(strstr(err.msg, "the disk is full"));
	assert_int_equal(list(f->s, NULL).entries, 1);
	id_of(PART + 5, id); /* in part 2, which was written before the failure */
	assert_int_equal(list(f->s, id).entries, 0);
	assert_int_equal(verified(f->s), 1);
	store_close(f->s);
	test_store_exec(f, "DROP TRIGGER fail_part_3",
	                "DROP TRIGGER fail_part_3 ON audit; DROP FUNCTION fail_part_3()");
	assert_non_null(f->s = store_open(f->path, NULL, &err));
	assert_int_equal(export_ids(f->s, 2 * PART, &err), TIX_OK);
	assert_int_equal(verified(f->s), 3);
}

/* Inside the caller's transaction the parts go with it: rolled back, no
 * entry. */
static void inside_a_transaction_the_parts_share_its_fate(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;

	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(export_ids(f->s, 3 * PART, &err), TIX_OK);
	store_rollback(f->s);
	assert_int_equal(list(f->s, NULL).entries, 0);
	assert_int_equal(verified(f->s), 0);
}

static void an_id_with_a_line_break_is_refused(void **state)
{
	struct tix_error err;
	struct store_audit_ids *w = store_audit_ids_new(&tmpl, PART, &err);

	(void)state;
	assert_non_null(w);
	assert_int_equal(store_audit_ids_add(w, "indicator--x\nforged", &err), TIX_EINVAL);
	assert_int_equal(store_audit_ids_count(w), 0);
	store_audit_ids_free(w);
}

/* Through the server's queue: a writer of several parts handed over,
 * between plain entries; every id found, the chain intact. */
static void the_queue_writes_the_parts_it_is_handed(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store_audit_queue *q = store_audit_queue_open(f->path, &err);
	struct store_audit_entry plain = {1700000000000000,   "read", "ana", "cert",
	                                  "\nindicator--1\n", "GET"};
	char id[64];

	assert_non_null(q);
	for (int round = 0; round < 3; round++) {
		struct store_audit_ids *w = store_audit_ids_new(&tmpl, PART, &err);

		assert_non_null(w);
		for (int i = 0; i < 3 * PART + 1; i++) {
			id_of(i, id);
			assert_int_equal(store_audit_ids_add(w, id, &err), TIX_OK);
		}
		store_audit_queue_push(q, &plain);
		store_audit_queue_push_ids(q, w);
	}
	store_audit_queue_close(q);
	assert_int_equal(verified(f->s), 3 * (1 + 4));
	id_of(2 * PART + 9, id);
	assert_int_equal(list(f->s, id).entries, 3); /* the later rounds by reference */
	assert_int_equal(list(f->s, "indicator--1").entries, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(no_id_writes_no_entry),
	        T(exactly_one_part_is_one_entry_as_the_template),
	        T(one_more_than_a_part_is_two_parts_each_id_found),
	        T(many_parts_round_trip_through_the_file),
	        T(a_failure_half_way_leaves_no_part),
	        T(inside_a_transaction_the_parts_share_its_fate),
	        T(an_id_with_a_line_break_is_refused),
	        T(the_queue_writes_the_parts_it_is_handed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
