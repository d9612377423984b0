/*
 * tests/unit/store/test_sync_store.c — migration 5: peers, their cursors
 * (which commit or roll back with the page they follow), the outbox, and
 * the origin recorded with a received version; migration 8: peer kinds and
 * a MISP feed's per-event cursors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../store_fixture.h"
#include "store/store.h"

/* One store for the group: the cases follow each other (the first sender
 * is the one the case before recorded). */
static int setup(void **state)
{
	return test_store_setup(state, "sync");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

static void add_peer(struct store *s, const char *name, const char *org)
{
	struct store_peer p;
	struct tix_error err;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.url, sizeof(p.url), "http://127.0.0.1:1/taxii2/");
	snprintf(p.remote_collection, sizeof(p.remote_collection), "c1");
	snprintf(p.local_collection, sizeof(p.local_collection), "feed");
	snprintf(p.secret, sizeof(p.secret), "tix_secret");
	snprintf(p.org, sizeof(p.org), "%s", org);
	p.direction = STORE_PEER_PULL | STORE_PEER_PUSH;
	p.interval = 60;
	assert_int_equal(store_peer_add(s, &p, &err), TIX_OK);
}

static void peers_are_added_found_and_removed(void **state)
{
	struct fixture *f = *state;
	struct store_peer p;
	struct tix_error err;
	char name[64];

	assert_int_equal(store_schema_version() >= 5, 1);
	add_peer(f->s, "hub", "org-hub");
	assert_int_equal(store_peer_get(f->s, "hub", &p, &err), TIX_OK);
	assert_string_equal(p.secret, "tix_secret");
	assert_string_equal(p.org, "org-hub");
	assert_int_equal(p.direction, 3);
	assert_int_equal(store_peer_by_org(f->s, "org-hub", name, sizeof(name), &err), TIX_OK);
	assert_string_equal(name, "hub");
	assert_int_equal(store_peer_by_org(f->s, "org-x", name, sizeof(name), &err), TIX_ENOTFOUND);
	{
		struct store_peer dup;

		memcpy(&dup, &p, sizeof(p));
		assert_int_equal(store_peer_add(f->s, &dup, &err), TIX_EEXIST);
	}
	assert_int_equal(store_peer_remove(f->s, "hub", &err), TIX_OK);
	assert_int_equal(store_peer_get(f->s, "hub", &p, &err), TIX_ENOTFOUND);
	assert_int_equal(store_peer_remove(f->s, "hub", &err), TIX_ENOTFOUND);
}

static void a_cursor_rolls_back_with_its_page(void **state)
{
	struct fixture *f = *state;
	struct store_peer_state st;
	struct tix_error err;

	add_peer(f->s, "a", "org-a");
	assert_int_equal(store_peer_state_get(f->s, "a", &st, &err), TIX_OK);
	assert_string_equal(st.pull_after, "");
	snprintf(st.pull_after, sizeof(st.pull_after), "2026-01-01T00:00:00.000001Z");
	st.objects_in = 7;
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_state_put(f->s, "a", &st, &err), TIX_OK);
	store_rollback(f->s); /* a kill before the commit */
	assert_int_equal(store_peer_state_get(f->s, "a", &st, &err), TIX_OK);
	assert_string_equal(st.pull_after, "");
	assert_int_equal(st.objects_in, 0);
	snprintf(st.pull_after, sizeof(st.pull_after), "2026-01-01T00:00:00.000001Z");
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_state_put(f->s, "a", &st, &err), TIX_OK);
	assert_int_equal(store_commit(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_state_get(f->s, "a", &st, &err), TIX_OK);
	assert_string_equal(st.pull_after, "2026-01-01T00:00:00.000001Z");
}

static void a_feed_cursor_is_per_event_and_rolls_back_with_it(void **state)
{
	struct fixture *f = *state;
	struct store_peer p;
	struct tix_error err;
	int64_t ts = -1;

	add_peer(f->s, "t", "org-t");
	assert_int_equal(store_peer_get(f->s, "t", &p, &err), TIX_OK);
	assert_string_equal(p.kind, "taxii"); /* the default */
	snprintf(p.name, sizeof(p.name), "feed");
	snprintf(p.kind, sizeof(p.kind), "misp-feed");
	p.direction = STORE_PEER_PULL;
	assert_int_equal(store_peer_add(f->s, &p, &err), TIX_OK);
	assert_int_equal(store_peer_get(f->s, "feed", &p, &err), TIX_OK);
	assert_string_equal(p.kind, "misp-feed");
	assert_int_equal(store_peer_feed_get(f->s, "feed", "u1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 0);
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_feed_put(f->s, "feed", "u1", 1700000000, &err), TIX_OK);
	store_rollback(f->s); /* killed before the event's commit */
	assert_int_equal(store_peer_feed_get(f->s, "feed", "u1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 0);
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_feed_put(f->s, "feed", "u1", 1700000000, &err), TIX_OK);
	assert_int_equal(store_peer_feed_put(f->s, "feed", "u1", 1700000900, &err), TIX_OK);
	assert_int_equal(store_commit(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_feed_get(f->s, "feed", "u1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 1700000900);
	assert_int_equal(store_peer_feed_get(f->s, "t", "u1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 0); /* per peer */
	assert_int_equal(store_peer_remove(f->s, "feed", &err), TIX_OK);
	assert_int_equal(store_peer_feed_get(f->s, "feed", "u1", &ts, &err), TIX_OK);
	assert_int_equal(ts, 0); /* gone with its peer */
}

static int count_row(void *arg, const struct store_row *row)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static void origin_is_recorded_and_the_outbox_holds_refused_versions(void **state)
{
	struct fixture *f = *state;
	const char *text = "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":"
	                   "\"malware--6b0b2a6c-f1b9-4b2e-9a39-2b8f4f0b5a11\",\"created\":"
	                   "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
	                   "\"name\":\"m\",\"is_family\":false}";
	json_t *obj = json_loads(text, 0, NULL);
	struct stix_meta meta;
	struct store_collection c;
	struct store_peer_state st;
	struct tix_error err;
	int added = 0, n = 0;

	add_peer(f->s, "b", "org-b");
	assert_non_null(obj);
	assert_int_equal(stix_meta_get(obj, &meta, &err), TIX_OK);
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_collection_get(f->s, "feed", 1, &c, &err), TIX_OK);
	assert_int_equal(store_put_from(f->s, &meta, text, strlen(text), "org-b", "b", &c, NULL,
	                                &added, &err),
	                 TIX_OK);
	assert_int_equal(added, 1);
	/* The same version from a peer of another organisation: the id is
	 * org-b's, so it is refused; from one vouching for org-b: stored once. */
	assert_int_equal(store_put_from(f->s, &meta, text, strlen(text), "org-c", "c", &c, NULL,
	                                &added, &err),
	                 TIX_EDENIED);
	assert_non_null(strstr(err.msg, "belongs to another organisation"));
	assert_int_equal(store_put_from(f->s, &meta, text, strlen(text), "org-b", "c", &c, NULL,
	                                &added, &err),
	                 TIX_OK);
	assert_int_equal(added, 0);
	assert_int_equal(store_peer_outbox_put(f->s, "b", meta.id, meta.modified, "refused", &err),
	                 TIX_OK);
	assert_int_equal(store_peer_outbox_put(f->s, "b", meta.id, meta.modified, "again", &err),
	                 TIX_OK);
	assert_int_equal(store_commit(f->s, &err), TIX_OK);
	{
		struct store_query q = {0};

		q.collection = &c;
		q.all_versions = 1;
		assert_int_equal(store_query(f->s, &q, count_row, &n, &err), TIX_OK);
		assert_int_equal(n, 1);
	}
	assert_int_equal(store_peer_state_get(f->s, "b", &st, &err), TIX_OK);
	assert_int_equal(st.outbox, 1);
	n = 0;
	assert_int_equal(store_peer_outbox_list(f->s, "b", count_row, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_begin(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_outbox_done(f->s, "b", meta.id, meta.modified, &err), TIX_OK);
	assert_int_equal(store_commit(f->s, &err), TIX_OK);
	assert_int_equal(store_peer_state_get(f->s, "b", &st, &err), TIX_OK);
	assert_int_equal(st.outbox, 0);
	json_decref(obj);
}

static int origin_row(void *arg, const struct store_row *row)
{
	snprintf(arg, 64, "%s", row->aud.origin_node ? row->aud.origin_node : "(none)");
	return 0;
}

static void the_first_sender_is_the_recorded_origin(void **state)
{
	struct fixture *f = *state;
	struct store_query q = {0};
	struct tix_error err;
	char origin[64] = "";

	q.id = "malware--6b0b2a6c-f1b9-4b2e-9a39-2b8f4f0b5a11";
	q.all_versions = 1;
	assert_int_equal(store_query(f->s, &q, origin_row, origin, &err), TIX_OK);
	assert_string_equal(origin, "b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(peers_are_added_found_and_removed),
	        cmocka_unit_test(a_cursor_rolls_back_with_its_page),
	        cmocka_unit_test(origin_is_recorded_and_the_outbox_holds_refused_versions),
	        cmocka_unit_test(the_first_sender_is_the_recorded_origin),
	        cmocka_unit_test(a_feed_cursor_is_per_event_and_rolls_back_with_it),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
