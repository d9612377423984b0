/*
 * Unit tests for store/policy.c and store/audit.c: the audience a version
 * is stored with (TLP resolved at write time, unknown and contradictory
 * markings, recipients, sharing group), sharing groups and settings, and
 * the audit log's hash chain: any edited, deleted, reordered or cut-off
 * entry is found by store_audit_verify.
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
#include "stix/stix.h"
#include "store/db.h"
#include "store/store.h"

#define RED   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" /* TLP 1.0 */
#define STMT  "marking-definition--3b4dfb6a-7e2d-4c5c-9a5a-2d4e1d6b8c11"
#define GONE  "marking-definition--00000000-0000-4000-8000-000000000001"

static int setup(void **state)
{
	return test_store_setup(state, "policy");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

static void put_json(struct store *s, const char *text, const char *owner)
{
	struct tix_error err;
	struct stix_meta m;
	json_t *v = json_loads(text, 0, NULL);
	int added;

	assert_non_null(v);
	assert_int_equal(stix_meta_get(v, &m, &err), TIX_OK);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_put(s, &m, text, strlen(text), owner, NULL, NULL, &added, &err),
	                 TIX_OK);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	json_decref(v);
}

struct seen {
	int tlp;
	unsigned flags;
	char owner[64], group[64], recipients[128];
	int n;
};

static int grab(void *arg, const struct store_row *row)
{
	struct seen *w = arg;

	w->tlp = row->aud.tlp;
	w->flags = row->aud.tlp_flags;
	snprintf(w->owner, sizeof(w->owner), "%s", row->aud.owner_org ? row->aud.owner_org : "");
	snprintf(w->group, sizeof(w->group), "%s",
	         row->aud.sharing_group ? row->aud.sharing_group : "");
	snprintf(w->recipients, sizeof(w->recipients), "%s",
	         row->aud.recipients ? row->aud.recipients : "");
	w->n++;
	return 0;
}

static struct seen audience(struct store *s, const char *id)
{
	struct store_query q = {0};
	struct tix_error err;
	struct seen w;

	memset(&w, 0, sizeof(w));
	q.id = id;
	assert_int_equal(store_query(s, &q, grab, &w, &err), TIX_OK);
	assert_int_equal(w.n, 1);
	return w;
}

#define IND(n, refs, extra)                                                                        \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"                    \
	"00000000-0000-4000-8000-00000000000" n "\",\"created\":\"2024-01-01T00:00:00Z\","         \
	"\"modified\":\"2024-01-01T00:00:00Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","     \
	"\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"" refs extra "}"
#define ID(n) "indicator--00000000-0000-4000-8000-00000000000" n

static void tlp_is_resolved_when_a_version_is_written(void **state)
{
	struct fixture *f = *state;
	struct seen w;

	put_json(f->s, IND("1", "", ""), "cert");
	put_json(f->s,
	         IND("2", ",\"object_marking_refs\":[\"" RED "\"]",
	             ",\"tix_recipients\":[\"bank\",\"police\"]"),
	         "cert");
	put_json(f->s, IND("3", ",\"object_marking_refs\":[\"" WHITE "\"]", ""), NULL);
	put_json(f->s,
	         IND("4", ",\"object_marking_refs\":[\"" GREEN "\",\"" RED "\"]",
	             ",\"tix_sharing_group\":\"banks\""),
	         "cert");
	w = audience(f->s, ID("1"));
	assert_int_equal(w.tlp, STIX_TLP_UNSET);
	assert_string_equal(w.owner, "cert");
	w = audience(f->s, ID("2"));
	assert_int_equal(w.tlp, STIX_TLP_RED);
	assert_string_equal(w.recipients, "\nbank\npolice\n");
	w = audience(f->s, ID("3"));
	assert_int_equal(w.tlp, STIX_TLP_CLEAR);
	assert_string_equal(w.owner, "");
	w = audience(f->s, ID("4"));
	assert_int_equal(w.tlp, STIX_TLP_RED);
	assert_true(w.flags & STIX_TLPF_CONTRADICTORY);
	assert_string_equal(w.group, "banks");
}

static void unknown_markings_are_flagged_held_definitions_are_not(void **state)
{
	struct fixture *f = *state;
	struct seen w;

	put_json(f->s,
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" STMT "\","
	         "\"created\":\"2024-01-01T00:00:00Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"Copyright CERT\"}}",
	         "cert");
	put_json(f->s, IND("5", ",\"object_marking_refs\":[\"" STMT "\",\"" GREEN "\"]", ""),
	         "cert");
	put_json(f->s, IND("6", ",\"object_marking_refs\":[\"" GONE "\"]", ""), "cert");
	w = audience(f->s, ID("5"));
	assert_int_equal(w.tlp, STIX_TLP_GREEN);
	assert_false(w.flags & STIX_TLPF_UNKNOWN);
	w = audience(f->s, ID("6"));
	assert_true(w.flags & STIX_TLPF_UNKNOWN);
}

static void sharing_groups_and_settings(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char v[32];

	assert_int_equal(store_group_add(f->s, "banks", &err), TIX_OK);
	assert_int_equal(store_group_add(f->s, "banks", &err), TIX_EEXIST);
	assert_int_equal(store_group_member(f->s, "banks", "bank-of-x", 1, &err), TIX_OK);
	assert_int_equal(store_group_member(f->s, "nope", "bank-of-x", 1, &err), TIX_ENOTFOUND);
	assert_int_equal(store_group_member(f->s, "banks", "a,b", 1, &err), TIX_EINVAL);
	assert_int_equal(store_group_member(f->s, "banks", "bank-of-y", 0, &err), TIX_ENOTFOUND);
	assert_int_equal(store_setting_get(f->s, "default_tlp", v, sizeof(v), &err), TIX_ENOTFOUND);
	assert_int_equal(store_setting_set(f->s, "default_tlp", "green", &err), TIX_OK);
	assert_int_equal(store_setting_get(f->s, "default_tlp", v, sizeof(v), &err), TIX_OK);
	assert_string_equal(v, "green");
	assert_int_equal(store_group_remove(f->s, "banks", &err), TIX_OK);
	assert_int_equal(store_group_remove(f->s, "banks", &err), TIX_ENOTFOUND);
}

/* A store of schema 3 (before the policy) with marked objects in it is
 * resolved by migration 4 as store_put would have done. The v3 store is
 * made by taking a v4 one back (dropping what migration 4 added). */

/* What migrations 19 down to 6 added, undone (the tables, triggers, index
 * and meta keys of 13 requests, 12 routing, 11 feeds, 10 values, 8 feeds of
 * MISP, 7 audience, 6 ownership; 14 the console's sessions; 15 the refs
 * index of MISP out; 16 the value index's audiences; 17 the audience index's
 * versions; 19 the sightings' counter; the audience index made again from C,
 * whose triggers are gone): the one list both old-store tests
 * start from, so a new migration adds its drops here once. */
/* Migration 21: value_index's staging level (values.c); its triggers, and
 * those of migrations 16 and 10, went in migration 22 (nothing to undo). */
/* Migration 23's tables (drills): every undo below goes back before 23 too. */
#define UNDO_MIGRATION_23 "DROP TABLE drill_published; DROP TABLE drill_exercises;"
#define UNDO_MIGRATION_21 UNDO_MIGRATION_23 "DROP TABLE value_stage;"
/* Migration 24: the resource library's index and block list (library.c). */
#define UNDO_MIGRATION_24                                                                          \
	"DROP TABLE library_index; DROP TABLE text_index_library;"                                 \
	"DROP TABLE text_index_library_tri; DROP TABLE library_blocked;"
/* Migration 18 only adds rows to object_refs_index (the two ends of
 * relationships): dropped with it below. */
#define UNDO_MIGRATIONS_21_TO_6                                                                    \
	UNDO_MIGRATION_24                                                                          \
	UNDO_MIGRATION_21                                                                          \
	"DELETE FROM meta WHERE key = 'sightings_version';"                                        \
	"DROP TABLE value_audiences;"                                                              \
	"DROP TABLE object_refs_index; DROP INDEX objects_day;"                                    \
	"DROP TRIGGER sessions_password_changed; DROP TABLE sessions;"                             \
	"DROP TABLE text_index; DROP TABLE value_index;"                                           \
	"DROP TABLE value_ip; DROP TABLE sighting_index; DROP TABLE indicator_expired;"            \
	"DROP TABLE sighting_lines;"                                                               \
	"DELETE FROM meta WHERE key = 'values_refused';"                                           \
	"DROP TABLE feeds;"                                                                        \
	"DROP TABLE request_keys;"                                                                 \
	"DROP TABLE route_contacts; DROP TABLE route_ranges; DROP TABLE route_asns;"               \
	"DROP TABLE route_domains; DROP TABLE route_reports; DROP TABLE route_unrouted;"           \
	"DROP TABLE route_digests; DROP TABLE route_pfx2asn; DROP TABLE route_constituents;"       \
	"DROP TABLE peer_feed_events; ALTER TABLE peers DROP COLUMN kind;"                         \
	"DROP TABLE collection_audience;"                                                          \
	"DROP TABLE peer_anchors; DROP TABLE peer_anchor_problems;"                                \
	"DELETE FROM meta WHERE key IN ('audit_keyed_from', 'audit_head');"                        \
	"DROP TABLE ownership_conflicts; DROP TABLE object_owners;"                                \
	"DROP INDEX objects_unknown_marking;"

static void migration_4_resolves_versions_stored_before(void **state)
{
	struct fixture *f = *state;
	struct seen w;

	test_store_sqlite_only(f, TEST_NO_OLD_PG_SCHEMA);

	put_json(f->s,
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" STMT "\","
	         "\"created\":\"2024-01-01T00:00:00Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"Copyright CERT\"}}",
	         "cert");
	put_json(f->s,
	         IND("1", ",\"object_marking_refs\":[\"" RED "\"]",
	             ",\"tix_recipients\":[\"bank\",\"police\"]"),
	         "cert");
	put_json(f->s,
	         IND("2", ",\"object_marking_refs\":[\"" GREEN "\",\"" WHITE "\"]",
	             ",\"tix_sharing_group\":\"banks\""),
	         "cert");
	put_json(f->s, IND("3", ",\"object_marking_refs\":[\"" STMT "\",\"" GONE "\"]", ""),
	         "cert");
	put_json(f->s, IND("4", "", ""), "cert");
	store_close(f->s);
	test_store_exec(
	        f,
	        /* back to schema 3: without migrations 9 to 13, migration 8's table and column, 7's
	           index, 6's and 5's tables, then 4's */
	        UNDO_MIGRATIONS_21_TO_6
	        "DROP TABLE peer_outbox; DROP TABLE peer_state; DROP TABLE peers;"
	        "DROP TABLE audit; DROP TABLE sharing_group_members; DROP TABLE sharing_groups;"
	        "ALTER TABLE objects DROP COLUMN tlp; ALTER TABLE objects DROP COLUMN tlp_flags;"
	        "ALTER TABLE objects DROP COLUMN sharing_group;"
	        "ALTER TABLE objects DROP COLUMN recipients;"
	        "ALTER TABLE objects DROP COLUMN origin_node; ALTER TABLE orgs DROP COLUMN sector;"
	        "PRAGMA user_version = 3;",
	        NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_non_null(f->s);
	w = audience(f->s, ID("1"));
	assert_int_equal(w.tlp, STIX_TLP_RED);
	assert_string_equal(w.recipients, "\nbank\npolice\n");
	w = audience(f->s, ID("2"));
	assert_int_equal(w.tlp, STIX_TLP_GREEN);
	assert_true(w.flags & STIX_TLPF_CONTRADICTORY);
	assert_string_equal(w.group, "banks");
	w = audience(f->s, ID("3"));
	assert_int_equal(w.tlp, STIX_TLP_UNSET);
	assert_true(w.flags & STIX_TLPF_UNKNOWN);
	w = audience(f->s, ID("4"));
	assert_int_equal(w.tlp, STIX_TLP_UNSET);
	assert_int_equal(w.flags, 0);
	assert_string_equal(w.owner, "cert");
}

static int count_hit(void *arg, const struct store_value_hit *h)
{
	(void)h;
	(*(int *)arg)++;
	return 0;
}

/* Migration 18 puts the two ends of the relationships stored before it in
 * the refs index; a relationship written after it is indexed by its write. */
static void migration_18_indexes_relationships_stored_before(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char sql[512];
	int n = 0;

	test_store_sqlite_only(f, TEST_NO_OLD_PG_SCHEMA);

#define REL(n, src, tgt)                                                                           \
	"{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--"              \
	"00000000-0000-4000-8000-00000000000" n "\",\"created\":\"2024-01-01T00:00:00Z\","         \
	"\"modified\":\"2024-01-01T00:00:00Z\",\"relationship_type\":\"related-to\","              \
	"\"source_ref\":\"" src "\",\"target_ref\":\"" tgt "\"}"
	put_json(f->s, IND("1", "", ""), "cert");
	put_json(f->s, IND("2", "", ""), "cert");
	put_json(f->s, REL("1", ID("1"), ID("2")), "cert");
	store_close(f->s);
	/* back to before migration 18 (17: nothing after it changed these rows): its rows
	 * gone, 19's counter and 20's table */
	snprintf(sql, sizeof(sql),
	         UNDO_MIGRATION_24 UNDO_MIGRATION_21
	         "DELETE FROM object_refs_index WHERE vid IN (SELECT vid FROM"
	         " objects WHERE type = 'relationship');"
	         " DELETE FROM meta WHERE key = 'sightings_version';"
	         " PRAGMA user_version = %d;",
	         17);
	test_store_exec(f, sql, NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_non_null(f->s);
	assert_int_equal(store_relationships_of(f->s, ID("1"), 0, count_hit, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_relationships_of(f->s, ID("2"), 0, count_hit, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
	/* and one written now: from its source only, once */
	put_json(f->s, REL("2", ID("2"), "malware--00000000-0000-4000-8000-000000000009"), "cert");
	n = 0;
	assert_int_equal(store_relationships_of(f->s, ID("2"), 0, count_hit, &n, &err), TIX_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(store_relationships_of(f->s, ID("1"), 0, count_hit, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
#undef REL
}

/* ---- audit ------------------------------------------------------------------ */

static void log_entries(struct store *s, int n)
{
	struct tix_error err;

	for (int i = 0; i < n; i++) {
		char objs[64];
		struct store_audit_entry e = {
		        1700000000000000 + i, i % 2 ? "read" : "write", "ana", "cert", objs,
		        "GET /api1/..."};

		snprintf(objs, sizeof(objs), "\n%s\n", i % 3 ? ID("1") : ID("2"));
		assert_int_equal(store_audit_append(s, &e, 1, &err), TIX_OK);
	}
}

static int64_t verify(struct store *s, enum tix_err want)
{
	int64_t entries = 0, bad = 0;
	struct tix_error err;

	assert_int_equal(store_audit_verify(s, &entries, &bad, &err), want);
	return want == TIX_OK ? entries : bad;
}

static int count_cb(void *arg, int64_t seq, const struct store_audit_entry *e)
{
	(void)seq;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void an_intact_log_verifies_and_answers_who_has_seen(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	int n = 0;

	assert_int_equal(verify(f->s, TIX_OK), 0);
	log_entries(f->s, 30);
	assert_int_equal(verify(f->s, TIX_OK), 30);
	assert_int_equal(store_audit_list(f->s, ID("2"), 0, count_cb, &n, &err), TIX_OK);
	assert_int_equal(n, 10);
	n = 0;
	assert_int_equal(store_audit_list(f->s, NULL, 1700000000000020, count_cb, &n, &err),
	                 TIX_OK);
	assert_int_equal(n, 10);
}

static void an_edited_entry_is_found(void **state)
{
	struct fixture *f = *state;

	log_entries(f->s, 20);
	store_close(f->s);
	test_store_exec(f, "UPDATE audit SET actor = 'nobody' WHERE seq = 7", NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_int_equal(verify(f->s, TIX_EINVAL), 7);
}

static void a_deleted_entry_is_found(void **state)
{
	struct fixture *f = *state;

	log_entries(f->s, 20);
	store_close(f->s);
	test_store_exec(f, "DELETE FROM audit WHERE seq = 12", NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_int_equal(verify(f->s, TIX_EINVAL), 12);
}

static void renumbered_or_reordered_entries_are_found(void **state)
{
	struct fixture *f = *state;

	log_entries(f->s, 20);
	store_close(f->s);
	/* swap the contents of entries 4 and 5 */
	test_store_exec(f,
	                "UPDATE audit SET seq = -4 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE "
	                "seq = 5; UPDATE audit SET seq = 5 WHERE seq = -4;",
	                NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_int_equal(verify(f->s, TIX_EINVAL), 4);
}

static void entries_cut_off_the_end_are_found(void **state)
{
	struct fixture *f = *state;

	log_entries(f->s, 20);
	store_close(f->s);
	test_store_exec(f, "DELETE FROM audit WHERE seq > 17", NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_int_equal(verify(f->s, TIX_EINVAL), 18);
}

static void a_rewritten_hash_is_found(void **state)
{
	struct fixture *f = *state;

	log_entries(f->s, 5);
	store_close(f->s);
	test_store_exec(f, "UPDATE audit SET hash = zeroblob(32) WHERE seq = 3",
	                "UPDATE audit SET hash = decode(repeat('00', 32), 'hex') WHERE seq = 3");
	f->s = store_open(f->path, NULL, NULL);
	assert_int_equal(verify(f->s, TIX_EINVAL), 3);
}

static void the_queue_writes_everything_pushed_before_close(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store_audit_queue *q = store_audit_queue_open(f->path, &err);

	assert_non_null(q);
	for (int i = 0; i < 5000; i++) {
		struct store_audit_entry e = {1700000000000000 + i, "read", "ana", "cert",
		                              "\n" ID("1") "\n",    "GET"};

		store_audit_queue_push(q, &e);
	}
	store_audit_queue_close(q);
	assert_int_equal(verify(f->s, TIX_OK), 5000);
}

static int count_refs(void *arg, int64_t seq, const struct store_audit_entry *e)
{
	int *n = arg;

	(void)seq;
	n[0]++;
	n[1] += e->objects[0] == '=';
	return 0;
}

static void repeated_answers_are_logged_by_reference_and_still_found(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store_audit_queue *q = store_audit_queue_open(f->path, &err);
	int n[2] = {0, 0};

	assert_non_null(q);
	for (int i = 0; i < 300; i++) {
		struct store_audit_entry e = {1700000000000000 + i,
		                              "read",
		                              "ana",
		                              "cert",
		                              "\n" ID("1") "\n" ID("2") "\n" ID("3") "\n",
		                              "GET"};

		store_audit_queue_push(q, &e);
	}
	store_audit_queue_close(q);
	assert_int_equal(verify(f->s, TIX_OK), 300);
	assert_int_equal(store_audit_list(f->s, ID("2"), 0, count_refs, n, &err), TIX_OK);
	assert_int_equal(n[0], 300);
	assert_int_equal(n[1], 299); /* all but the first name it by reference */
}

/* The write rules in the store: an id is its first writer's; created and
 * created_by_ref never change; modified at most the skew ahead; an
 * observable is kept per organisation. */
static enum tix_err try_put(struct store *s, const char *text, const char *owner, int *added,
                            struct tix_error *err)
{
	struct stix_meta m;
	json_t *v = json_loads(text, 0, NULL);
	enum tix_err e;

	assert_non_null(v);
	if (stix_sco_ensure_id(v, NULL) != TIX_OK || stix_meta_get(v, &m, err) != TIX_OK)
		fail_msg("not an object: %s", text);
	assert_int_equal(store_begin(s, err), TIX_OK);
	e = store_put(s, &m, text, strlen(text), owner, NULL, NULL, added, err);
	if (e == TIX_OK)
		assert_int_equal(store_commit(s, err), TIX_OK);
	else
		store_rollback(s);
	json_decref(v);
	return e;
}

#define IND_AT(modified, extra)                                                                    \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" ID(                           \
	        "7") "\","                                                                         \
	             "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"" modified "\","         \
	             "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":\"stix\","    \
	             "\"valid_from\":\"2024-01-01T00:00:00Z\"" extra "}"
#define CBR ",\"created_by_ref\":\"identity--00000000-0000-4000-8000-0000000000aa\""
#define IP(extra)                                                                                  \
	"{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"value\":\"192.0.2.7\"" extra "}"

static int count_versions(void *arg, const struct store_row *row)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static void an_id_belongs_to_its_first_writer(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct store_query q = {0};
	int added = 0, n = 0;

	assert_int_equal(try_put(f->s, IND_AT("2024-01-01T00:00:00Z", CBR), "cert", &added, &err),
	                 TIX_OK);
	/* another organisation, the operator, another version or the same one */
	assert_int_equal(try_put(f->s, IND_AT("2024-02-01T00:00:00Z", CBR), "bank", &added, &err),
	                 TIX_EDENIED);
	assert_string_equal(err.where, ID("7"));
	assert_non_null(strstr(err.msg, "belongs to another organisation; publish your own"));
	assert_int_equal(try_put(f->s, IND_AT("2024-01-01T00:00:00Z", CBR), "bank", &added, &err),
	                 TIX_EDENIED);
	assert_int_equal(try_put(f->s, IND_AT("2024-02-01T00:00:00Z", CBR), NULL, &added, &err),
	                 TIX_EDENIED);
	/* the owner: created_by_ref kept, modified not far ahead */
	assert_int_equal(try_put(f->s, IND_AT("2024-02-01T00:00:00Z", ""), "cert", &added, &err),
	                 TIX_EDENIED);
	assert_non_null(strstr(err.msg, "created_by_ref does not change"));
	assert_int_equal(try_put(f->s, IND_AT("9999-12-31T23:59:59Z", CBR), "cert", &added, &err),
	                 TIX_EDENIED);
	assert_non_null(strstr(err.msg, "ahead of this node's clock"));
	assert_int_equal(try_put(f->s, IND_AT("2024-02-01T00:00:00Z", CBR), "cert", &added, &err),
	                 TIX_OK);
	assert_int_equal(added, 1);
	q.id = ID("7");
	q.all_versions = 1;
	assert_int_equal(store_query(f->s, &q, count_versions, &n, &err), TIX_OK);
	assert_int_equal(n, 2);
	/* observables: one copy per organisation, each its own body */
	assert_int_equal(try_put(f->s, IP(",\"x_a\":1"), "cert", &added, &err), TIX_OK);
	assert_int_equal(added, 1);
	assert_int_equal(try_put(f->s, IP(",\"x_b\":2"), "bank", &added, &err), TIX_OK);
	assert_int_equal(added, 1);
	assert_int_equal(try_put(f->s, IP(",\"x_b\":3"), "bank", &added, &err), TIX_OK);
	assert_int_equal(added, 0);
	n = 0;
	q.id = NULL;
	{
		static const char *const ips[] = {"ipv4-addr", NULL};

		q.types = ips;
		assert_int_equal(store_query(f->s, &q, count_versions, &n, &err), TIX_OK);
		assert_int_equal(n, 2);
		n = 0;
		q.all_versions = 0; /* the latest: both copies, neither supersedes the other */
		assert_int_equal(store_query(f->s, &q, count_versions, &n, &err), TIX_OK);
		assert_int_equal(n, 2);
	}
}

/* A store of schema 5 (before ownership): migration 6 assigns owners,
 * keys observables per organisation, re-resolves markings that are known
 * now, records granular levels and reports versions breaking the rule. */
static int conflict_seen(void *arg, const char *id, const char *version, const char *reason)
{
	int *n = arg;

	assert_string_equal(id, ID("1"));
	assert_string_equal(version, "2024-03-01T00:00:00Z");
	assert_non_null(strstr(reason, "written by bank, but the object belongs to cert"));
	(*n)++;
	return 0;
}

static void migration_6_brings_old_stores_under_the_rules(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct seen w;
	int64_t unknown = -1;
	int n = 0, added = 0;

	test_store_sqlite_only(f, TEST_NO_OLD_PG_SCHEMA);

	put_json(f->s, IND("1", "", ""), "cert");
	put_json(f->s,
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" STMT "\","
	         "\"created\":\"2024-01-01T00:00:00Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"Copyright CERT\"}}",
	         "cert");
	put_json(f->s, IND("2", ",\"object_marking_refs\":[\"" GREEN "\",\"" STMT "\"]", ""),
	         "cert");
	put_json(f->s,
	         IND("3", ",\"object_marking_refs\":[\"" GREEN "\"]",
	             ",\"description\":\"d\",\"granular_markings\":[{\"selectors\":"
	             "[\"description\"],\"marking_ref\":\"" RED "\"}]"),
	         "cert");
	assert_int_equal(try_put(f->s, IP(""), "cert", &added, &err), TIX_OK);
	store_close(f->s);
	test_store_exec(
	        f,
	        /* back to schema 5: what migration 6 added and changed, and what a
	         * schema 5 store allowed (another organisation's version of cert's
	         * object; markings judged when the objects came), after what
	         * migrations 7 to 13 added */
	        "ALTER TABLE peer_state DROP COLUMN errors;" UNDO_MIGRATIONS_21_TO_6
	        "UPDATE objects SET modified = '' WHERE modified LIKE '#%';"
	        "UPDATE objects SET tlp_flags = tlp_flags & 7;"
	        "UPDATE objects SET tlp_flags = tlp_flags | 2 WHERE id = '" ID(
	                "2") "';"
	                     "INSERT INTO objects (id, type, spec_version, created, modified, version, date_added,"
	                     " owner_org, body) SELECT id, type, spec_version, created,"
	                     " '2024-03-01T00:00:00.000000000Z', '2024-03-01T00:00:00Z', date_added + 1000000,"
	                     " 'bank', body FROM objects WHERE id = '" ID(
	                             "1") "';"
	                                  "PRAGMA user_version = 5;",
	        NULL);
	f->s = store_open(f->path, NULL, &err);
	assert_non_null(f->s);
	assert_int_equal(store_ownership_conflicts(f->s, conflict_seen, &n, &err), TIX_OK);
	assert_int_equal(n, 1);
	w = audience(f->s, ID("2"));
	assert_false(w.flags & STIX_TLPF_UNKNOWN);
	assert_int_equal(store_unknown_markings(f->s, &unknown, &err), TIX_OK);
	assert_int_equal(unknown, 0);
	w = audience(f->s, ID("3"));
	assert_true(w.flags & STIX_TLPF_GRANULAR_LEVEL(STIX_TLP_RED));
	/* owners: cert's id stays cert's; cert's observable copy is keyed */
	assert_int_equal(try_put(f->s,
	                         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" ID(
	                                 "1") "\",\"created\":\"2024-01-01T00:00:00Z\","
	                                      "\"modified\":\"2024-04-01T00:00:00Z\",\"pattern\":"
	                                      "\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":"
	                                      "\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	                         "bank", &added, &err),
	                 TIX_EDENIED);
	assert_int_equal(try_put(f->s, IP(""), "cert", &added, &err), TIX_OK);
	assert_int_equal(added, 0); /* cert's copy, found under its key */
	assert_int_equal(try_put(f->s, IP(""), "bank", &added, &err), TIX_OK);
	assert_int_equal(added, 1);
}

static void put_in(struct store *s, const struct store_collection *c, const char *text,
                   const char *owner)
{
	struct tix_error err;
	struct stix_meta m;
	json_t *v = json_loads(text, 0, NULL);
	int added;

	assert_non_null(v);
	assert_int_equal(stix_meta_get(v, &m, &err), TIX_OK);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_put(s, &m, text, strlen(text), owner, c, NULL, &added, &err),
	                 TIX_OK);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	json_decref(v);
}

static int page_ids(void *arg, const struct store_taxii_row *r)
{
	size_t n = strlen(arg);

	snprintf((char *)arg + n, 1024 - n, "%.*s;", 1, r->id + strlen(r->id) - 1);
	return 0;
}

/* Each reader's listing of c through the audience index (no keep: the
 * index's candidates themselves), one line per reader. */
static void pages_of(struct store *s, const char *title, char out[1024])
{
	static const char *const banks[] = {"banks", NULL};
	const struct store_reader readers[] = {
	        {"cert", NULL, 0, STIX_TLP_AMBER, 0},   {"bank", NULL, 0, STIX_TLP_AMBER, 0},
	        {"other", banks, 0, STIX_TLP_AMBER, 0}, {"other", NULL, 1, STIX_TLP_AMBER, 0},
	        {"other", NULL, 1, STIX_TLP_GREEN, 0},  {NULL, NULL, 0, STIX_TLP_CLEAR, 1},
	};
	struct store_collection c;
	struct tix_error err;

	out[0] = '\0';
	assert_int_equal(store_collection_get(s, title, 0, &c, &err), TIX_OK);
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		struct store_taxii_filter f;
		int more = -1;

		memset(&f, 0, sizeof(f));
		f.collection = &c;
		f.reader = &readers[i];
		f.version_all = 1;
		assert_int_equal(store_taxii_select(s, &f, page_ids, out, &more, &err), TIX_OK);
		snprintf(out + strlen(out), 1024 - strlen(out), "\n");
	}
}

static void audience_rows(const struct fixture *f, char out[4096])
{
	struct tix_error err;
	struct db_stmt *st;
	struct db *db;
	size_t n = 0;

	out[0] = '\0';
	assert_non_null(db = db_open(f->path, 0, &err));
	assert_int_equal(db_prepare(db,
	                            "SELECT ckey, key, date_added, vid, superseded FROM"
	                            " collection_audience ORDER BY date_added, key",
	                            NULL, &st),
	                 DB_OK);
	while (db_step(st) == DB_ROW)
		n += (size_t)snprintf(
		        out + n, 4096 - n, "%lld %s %lld %lld %lld\n",
		        (long long)db_column_int64(st, 0), db_column_text(st, 1, NULL),
		        (long long)db_column_int64(st, 2), (long long)db_column_int64(st, 3),
		        (long long)db_column_int64(st, 4));
	assert_true(n < 4096);
	db_finalize(st);
	db_close(db);
}

/* A store from before the audience index was written from C (its table
 * without the foreign key, its rows made by triggers: here stale ones) is
 * made exact by the migration that made it so: the same rows as the write
 * paths make, the same listing for every kind of reader. */
static void old_audience_index_is_made_again_on_upgrade(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct tix_error err;
	char rows[4096], rows2[4096], pages[1024], pages2[1024], sql[1024];

	test_store_sqlite_only(f, TEST_NO_OLD_PG_SCHEMA);

	assert_int_equal(store_collection_create(f->s, "shared", NULL, &c, &err), TIX_OK);
	put_in(f->s, &c,
	       IND("1", ",\"object_marking_refs\":[\"" RED "\"]",
	           ",\"tix_recipients\":[\"bank\",\"police\"]"),
	       "cert");
	put_in(f->s, &c,
	       IND("2", ",\"object_marking_refs\":[\"" GREEN "\"]",
	           ",\"tix_sharing_group\":\"banks\""),
	       "cert");
	put_in(f->s, &c, IND("3", ",\"object_marking_refs\":[\"" GONE "\"]", ""), "cert");
	put_in(f->s, &c, IND("4", "", ",\"tix_sharing_group\":\"banks\""), "cert");
	put_in(f->s, &c, IND("5", ",\"object_marking_refs\":[\"" WHITE "\"]", ""), NULL);
	put_in(f->s, &c, IND_AT("2024-01-01T00:00:00Z", ""), "cert");
	put_in(f->s, &c, IND_AT("2024-02-01T00:00:00Z", ""), "cert");
	pages_of(f->s, "shared", pages);
	store_close(f->s);
	audience_rows(f, rows);
	assert_non_null(strstr(rows, " org:police "));
	assert_non_null(strstr(rows, " unset-group "));
	assert_non_null(strstr(rows, " clear "));
	/* The schema before migration 20 (19): the previous audience table, its
	 * rows stale, and migration 21's staging level undone. */
	snprintf(sql, sizeof(sql),
	         UNDO_MIGRATION_24 UNDO_MIGRATION_21
	         "DROP TABLE collection_audience;"
	         "CREATE TABLE collection_audience (ckey INTEGER NOT NULL, key TEXT NOT NULL,"
	         " date_added INTEGER NOT NULL, vid INTEGER NOT NULL DEFAULT 0,"
	         " superseded INTEGER NOT NULL DEFAULT 0,"
	         " PRIMARY KEY (ckey, key, date_added)) WITHOUT ROWID;"
	         "CREATE INDEX collection_audience_added ON collection_audience (date_added);"
	         "INSERT INTO collection_audience VALUES (1, 'all', 1, 1, 0);"
	         "PRAGMA user_version = %d;",
	         19);
	test_store_exec(f, sql, NULL);
	f->s = store_open(f->path, NULL, NULL);
	assert_non_null(f->s);
	pages_of(f->s, "shared", pages2);
	assert_string_equal(pages2, pages);
	store_close(f->s);
	audience_rows(f, rows2);
	assert_string_equal(rows2, rows);
	f->s = store_open(f->path, NULL, NULL);
	assert_non_null(f->s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(tlp_is_resolved_when_a_version_is_written),
	        T(unknown_markings_are_flagged_held_definitions_are_not),
	        T(sharing_groups_and_settings),
	        T(migration_4_resolves_versions_stored_before),
	        T(migration_18_indexes_relationships_stored_before),
	        T(an_id_belongs_to_its_first_writer),
	        T(migration_6_brings_old_stores_under_the_rules),
	        T(an_intact_log_verifies_and_answers_who_has_seen),
	        T(an_edited_entry_is_found),
	        T(a_deleted_entry_is_found),
	        T(renumbered_or_reordered_entries_are_found),
	        T(entries_cut_off_the_end_are_found),
	        T(a_rewritten_hash_is_found),
	        T(the_queue_writes_everything_pushed_before_close),
	        T(repeated_answers_are_logged_by_reference_and_still_found),
	        T(old_audience_index_is_made_again_on_upgrade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
