/*
 * Unit tests for store/values.c: values indexed in the write's own
 * transaction (a rolled-back write leaves none), CIDR containment both
 * ways, only the latest version found (through the objects table and from
 * the index's own audience and latest flag alike), the rows following late
 * markings, migration 16 indexing what was stored before it, sightings per
 * indicator, the rebuild (`tix reindex`) giving the same index, refused
 * values counted; the sightings' counter of the feeds' ETags moving with
 * every write that changes the sightings a reader may count, and only then.
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
#include "core/core.h"
#include "stix/stix.h"
#include "store/store.h"
#include "values/values.h"

static int setup(void **state)
{
	return test_store_setup(state, "values");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

#define IND(n) "indicator--0000000" n "-1111-4111-8111-111111111111"

/* Writes text as owner, into c when given (its source digest recorded
 * when digest), in a transaction of its own, committed or rolled back:
 * stored when new, linked to c when stored before (store_put does both).
 * Returns store_put's *added (STORE_LINKED: linked to c only). */
static int write_as(struct store *s, const char *text, const char *owner,
                    const struct store_collection *c, int digest, int commit)
{
	json_t *o = json_loads(text, 0, NULL);
	struct store_source src;
	struct stix_meta m;
	struct tix_error err;
	int added = -1;

	assert_non_null(o);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	if (digest)
		store_source_digest(text, strlen(text), &src);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	if (store_put(s, &m, text, strlen(text), owner, c, digest ? &src : NULL, &added, &err) !=
	    TIX_OK)
		fail_msg("store_put: %s", err.msg);
	if (commit)
		assert_int_equal(store_commit(s, &err), TIX_OK);
	else
		store_rollback(s);
	json_decref(o);
	return added;
}

/* Stores an indicator version with this pattern, as owner. */
static void put_ind(struct store *s, const char *id, const char *modified, const char *pattern,
                    const char *owner, int commit)
{
	char text[2048];

	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
	         "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	         "\"pattern\":\"%s\",\"pattern_type\":\"stix\","
	         "\"valid_from\":\"2026-01-01T00:00:00Z\"}",
	         id, modified, pattern);
	write_as(s, text, owner, NULL, 0, commit);
}

struct found {
	char ids[16][64];
	int64_t vids[16];
	char owners[16][32];
	unsigned flags[16];
	size_t n;
};

static int on_hit(void *arg, const struct store_value_hit *h)
{
	struct found *f = arg;

	if (f->n < 16) {
		snprintf(f->ids[f->n], sizeof(f->ids[0]), "%s", h->id ? h->id : "");
		snprintf(f->owners[f->n], sizeof(f->owners[0]), "%s",
		         h->aud.owner_org ? h->aud.owner_org : "");
		f->flags[f->n] = h->aud.tlp_flags;
		f->vids[f->n++] = h->vid;
	}
	return 0;
}

/* The versions found carrying value, through the objects table; the
 * index alone (its audience and latest flag) must find the same. */
static struct found find(struct store *s, const char *value)
{
	struct found f, g;
	struct values_item v;
	char buf[VALUES_MAX_LEN + 64];
	const char *why;
	struct store_value_find q = {&v, 0, 0, on_hit, &f, 0, NULL};
	struct tix_error err;
	int stopped;

	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	assert_int_equal(values_classify(value, strlen(value), &v, buf, sizeof(buf), &why), 0);
	assert_int_equal(store_values_find(s, &q, &stopped, &err), TIX_OK);
	q.arg = &g;
	q.index_only = 1;
	assert_int_equal(store_values_find(s, &q, &stopped, &err), TIX_OK);
	assert_int_equal(g.n, f.n);
	for (size_t i = 0; i < f.n; i++) {
		assert_int_equal(g.vids[i], f.vids[i]);
		assert_string_equal(g.owners[i], f.owners[i]);
		assert_int_equal(g.flags[i], f.flags[i]);
		assert_string_equal(g.ids[i], ""); /* no objects row was read */
	}
	return f;
}

static int has(const struct found *f, const char *id)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->ids[i], id) == 0)
			return 1;
	return 0;
}

static void test_cidr_containment_both_ways(void **state)
{
	struct fixture *fx = *state;
	struct found f;

	put_ind(fx->s, IND("1"), "2026-01-01T00:00:00.000Z",
	        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "bank", 1);
	put_ind(fx->s, IND("2"), "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.7']",
	        "cert", 1);
	put_ind(fx->s, IND("3"), "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.101.7']",
	        "cert", 1);
	put_ind(fx->s, IND("4"), "2026-01-01T00:00:00.000Z",
	        "[ipv6-addr:value ISSUBSET '2001:db8::/32']", "cert", 1);
	/* the address finds the range holding it, and itself */
	f = find(fx->s, "198.51.100.7");
	assert_int_equal(f.n, 2);
	assert_true(has(&f, IND("1")) && has(&f, IND("2")));
	/* the range finds the address inside it, not the one outside */
	f = find(fx->s, "198.51.100.0/24");
	assert_int_equal(f.n, 2);
	assert_false(has(&f, IND("3")));
	/* a wider range finds both; a narrower one the /24 holding it */
	assert_int_equal(find(fx->s, "198.51.0.0/16").n, 3);
	f = find(fx->s, "198.51.100.128/25");
	assert_int_equal(f.n, 1);
	assert_true(has(&f, IND("1")));
	f = find(fx->s, "2001:db8:1::5");
	assert_int_equal(f.n, 1);
	assert_int_equal(find(fx->s, "2001:db9::1").n, 0);
	assert_int_equal(find(fx->s, "198.51.100.7/32").n, 2); /* the same as the address */
}

static void test_same_transaction_and_latest_version(void **state)
{
	struct fixture *fx = *state;

	put_ind(fx->s, IND("5"), "2026-01-01T00:00:00.000Z", "[domain-name:value = 'Gone.Example']",
	        "bank", 0);
	assert_int_equal(find(fx->s, "gone.example").n, 0); /* rolled back with the write */
	put_ind(fx->s, IND("5"), "2026-01-01T00:00:00.000Z", "[domain-name:value = 'old.example']",
	        "bank", 1);
	assert_int_equal(find(fx->s, "OLD.example").n, 1);
	put_ind(fx->s, IND("5"), "2026-02-01T00:00:00.000Z", "[domain-name:value = 'new.example']",
	        "bank", 1);
	assert_int_equal(find(fx->s, "old.example").n, 0); /* a later version dropped it */
	assert_int_equal(find(fx->s, "new.example").n, 1);
}

static void put_text(struct store *s, const char *text, const char *owner)
{
	json_t *o = json_loads(text, 0, NULL);
	struct stix_meta m;
	struct tix_error err;
	int added;

	assert_non_null(o);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	if (store_put(s, &m, text, strlen(text), owner, NULL, NULL, &added, &err) != TIX_OK)
		fail_msg("store_put: %s", err.msg);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	json_decref(o);
}

#define LATE_MARKING "marking-definition--3f0c5ec4-7e2d-4c5e-9d2a-5b1e7a0c9d11"

/* The audience and latest flag each value row carries (what correlation
 * counts from, never reading the objects table) follow the versions: an
 * older version arriving after a newer one is not the latest, and a marking
 * definition stored after the objects using it changes their rows too. */
static void test_value_rows_follow_versions_and_late_markings(void **state)
{
	struct fixture *fx = *state;
	struct found f;

	put_text(
	        fx->s,
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND(
	                "8") "\","
	                     "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-02-01T00:00:00.000Z\","
	                     "\"pattern\":\"[domain-name:value = 'late.example']\",\"pattern_type\":\"stix\","
	                     "\"valid_from\":\"2026-01-01T00:00:00Z\",\"object_marking_refs\":[\"" LATE_MARKING
	                     "\"]}",
	        "bank");
	put_ind(fx->s, IND("8"), "2026-01-01T00:00:00.000Z",
	        "[domain-name:value = 'early.example']", "bank", 1);
	assert_int_equal(find(fx->s, "early.example").n, 0); /* older, though stored later */
	f = find(fx->s, "late.example");
	assert_int_equal(f.n, 1);
	assert_true(f.flags[0] & STIX_TLPF_UNKNOWN); /* a marking the node does not know yet */
	put_text(fx->s,
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" LATE_MARKING
	         "\",\"created\":\"2026-01-01T00:00:00.000Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"Copyright bank\"}}",
	         "bank");
	f = find(fx->s, "late.example"); /* find() checks the index's rows equal the objects' */
	assert_int_equal(f.n, 1);
	assert_false(f.flags[0] & STIX_TLPF_UNKNOWN);
}

/* A store of schema 15 (migration 10's value tables, no audiences) is
 * re-indexed by migration 16: its versions correlate from the new rows.
 * Migrations 22 (the value index's triggers in C), 21 (the staging level), 20 (the audience index
 * in C), 19 (its counter) and 17 are undone first (17: its columns; migration 7's two triggers,
 * which 17 makes again, stand in as empty ones); the later migration that makes the audience index
 * again from C needs no undoing. */
static void test_migration_16_indexes_the_versions_stored_before(void **state)
{
	struct fixture *fx = *state;

	test_store_sqlite_only(fx, TEST_NO_OLD_PG_SCHEMA);

	put_ind(fx->s, IND("9"), "2026-01-01T00:00:00.000Z",
	        "[domain-name:value = 'upgrade.example'] OR [ipv4-addr:value = '192.0.2.9']",
	        "bank", 1);
	store_close(fx->s);
	test_store_exec(
	        fx,
	        "ALTER TABLE collection_audience DROP COLUMN vid;"
	        "ALTER TABLE collection_audience DROP COLUMN superseded;"
	        "CREATE TRIGGER collection_audience_add AFTER INSERT ON collection_objects"
	        " BEGIN SELECT 1; END;"
	        "CREATE TRIGGER collection_audience_change AFTER UPDATE OF tlp ON objects"
	        " BEGIN SELECT 1; END;"
	        "DROP TABLE value_stage;"
	        "DROP TABLE drill_published; DROP TABLE drill_exercises;" /* 23 */
	        /* migration 24's library tables */
	        "DROP TABLE library_index; DROP TABLE text_index_library;"
	        "DROP TABLE text_index_library_tri; DROP TABLE library_blocked;"
	        /* migration 22 dropped 21's and 16's triggers, and 10's */
	        "CREATE TRIGGER objects_text_gone AFTER DELETE ON objects BEGIN"
	        " DELETE FROM text_index WHERE rowid = old.vid; END;"
	        "DROP TABLE value_audiences; DROP TABLE value_index; DROP TABLE value_ip;"
	        "CREATE TABLE value_index (vkey INTEGER NOT NULL, vid INTEGER NOT NULL"
	        " REFERENCES objects (vid) ON DELETE CASCADE, PRIMARY KEY (vkey, vid))"
	        " WITHOUT ROWID; CREATE INDEX value_index_vid ON value_index (vid);"
	        "CREATE TABLE value_ip (net BLOB NOT NULL, plen INTEGER NOT NULL,"
	        " vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
	        " PRIMARY KEY (net, plen, vid)) WITHOUT ROWID;"
	        "CREATE INDEX value_ip_vid ON value_ip (vid);"
	        "DELETE FROM meta WHERE key = 'sightings_version'; PRAGMA user_version = 15;",
	        NULL);
	fx->s = store_open(fx->path, NULL, NULL);
	assert_non_null(fx->s);
	assert_int_equal(find(fx->s, "upgrade.example").n, 1);
	assert_int_equal(find(fx->s, "192.0.2.0/24").n, 1);
}

static void test_reindex_gives_the_same_and_counts_refused(void **state)
{
	struct fixture *fx = *state;
	struct store_reindex_counts c;
	struct tix_error err;
	int64_t refused;

	put_ind(fx->s, IND("6"), "2026-01-01T00:00:00.000Z",
	        "[domain-name:value = 'a.example'] OR [file:hashes.MD5 = "
	        "'d41d8cd98f00b204e9800998ecf8427e']",
	        "bank", 1);
	put_ind(fx->s, IND("7"), "2026-01-01T00:00:00.000Z",
	        "[email-addr:value = 'not an address']", "bank", 1);
	assert_int_equal(store_values_refused(fx->s, &refused, &err), TIX_OK);
	assert_int_equal(refused, 1);
	assert_int_equal(store_values_reindex(fx->s, &c, &err), TIX_OK);
	assert_int_equal(c.versions, 2);
	assert_int_equal(c.values, 2);
	assert_int_equal(c.refused, 1);
	assert_int_equal(store_values_refused(fx->s, &refused, &err), TIX_OK);
	assert_int_equal(refused, 1);
	assert_int_equal(find(fx->s, "a.example").n, 1);
	assert_int_equal(find(fx->s, "D41D8CD98F00B204E9800998ECF8427E").n, 1);
}

struct sight {
	int64_t count, first;
	char sensor[64];
	size_t n;
};

static int on_sighting(void *arg, const struct store_sighting_row *r)
{
	struct sight *x = arg;

	x->count += r->count;
	x->first = r->first_seen;
	snprintf(x->sensor, sizeof(x->sensor), "%s", r->sensor);
	x->n++;
	return 0;
}

static void test_sightings_indexed_per_indicator(void **state)
{
	struct fixture *fx = *state;
	const char *text =
	        "{\"type\":\"sighting\",\"spec_version\":\"2.1\","
	        "\"id\":\"sighting--00000001-1111-4111-8111-111111111111\","
	        "\"created\":\"2026-01-02T00:00:00.000Z\",\"modified\":\"2026-01-02T00:00:00.000Z\","
	        "\"sighting_of_ref\":\"" IND(
	                "1") "\",\"count\":7,"
	                     "\"first_seen\":\"2026-01-01T10:00:00Z\",\"last_seen\":\"2026-01-01T11:00:00Z\","
	                     "\"where_sighted_refs\":[\"identity--00000001-1111-4111-8111-111111111111\"]}";
	json_t *o = json_loads(text, 0, NULL);
	struct stix_meta m;
	struct tix_error err;
	struct sight x = {0};
	int added;

	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_int_equal(store_begin(fx->s, &err), TIX_OK);
	assert_int_equal(store_put(fx->s, &m, text, strlen(text), "bank", NULL, NULL, &added, &err),
	                 TIX_OK);
	assert_int_equal(store_commit(fx->s, &err), TIX_OK);
	json_decref(o);
	assert_int_equal(store_sightings_of(fx->s, IND("1"), 0, on_sighting, &x, &err), TIX_OK);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.count, 7);
	assert_int_equal(x.first, (int64_t)1767261600 * 1000000);
	assert_string_equal(x.sensor, "identity--00000001-1111-4111-8111-111111111111");
}

/* ---- the sightings' counter of the feeds' ETags (migration 19) ---- */

#define SIGHTING_1                                                                                 \
	"{\"type\":\"sighting\",\"spec_version\":\"2.1\","                                         \
	"\"id\":\"sighting--00000002-1111-4111-8111-111111111111\","                               \
	"\"created\":\"2026-01-02T00:00:00.000Z\",\"modified\":\"2026-01-02T00:00:00.000Z\","      \
	"\"sighting_of_ref\":\"" IND("1") "\",\"count\":2}"
#define INDICATOR_8                                                                                        \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND(                                  \
	        "8") "\","                                                                                 \
	             "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\"," \
	             "\"pattern\":\"[domain-name:value = 'counter.example']\",\"pattern_type\":\"stix\","  \
	             "\"valid_from\":\"2026-01-01T00:00:00Z\"}"

static int64_t sightings_version(struct store *s)
{
	struct tix_error err;
	int64_t v = -1;

	assert_int_equal(store_sightings_version(s, &v, &err), TIX_OK);
	return v;
}

/* The version of text found by its source digest (how `tix import` finds
 * bytes it stored before) added to c: store_collection_add, no new version. */
static int add_by_digest(struct store *s, const char *text, const struct store_collection *c)
{
	struct store_source src;
	struct tix_error err;
	int64_t vid = 0;
	int added = -1;

	store_source_digest(text, strlen(text), &src);
	assert_int_equal(store_find_source(s, &src, "bank", &vid), 1);
	assert_int_equal(store_begin(s, &err), TIX_OK);
	assert_int_equal(store_collection_add(s, c, vid, &added, &err), TIX_OK);
	assert_int_equal(store_commit(s, &err), TIX_OK);
	return added;
}

/* Removes every version of id from c (a TAXII DELETE). */
static void delete_from(struct store *s, const char *id, const struct store_collection *c)
{
	struct store_taxii_filter df;
	const char *one[2] = {id, NULL};
	struct tix_error err;
	size_t removed = 0;

	memset(&df, 0, sizeof(df));
	df.collection = c;
	df.ids = one;
	df.version_all = 1;
	assert_int_equal(store_taxii_delete(s, &df, &removed, &err), TIX_OK);
	assert_int_equal(removed, 1);
}

/* The counter moves, in the write's own transaction, with each write that
 * changes which sightings a reader of some collection may count: a new
 * sighting, one stored before added to another collection (by store_put's
 * link or by its digest), one deleted from a collection, a reindex, a
 * collection holding one removed. It stays with everything else, so a
 * feed's ETag is kept. Read from a second handle: what a server sees. */
static void test_sightings_version_moves_with_sightings_only(void **state)
{
	struct fixture *fx = *state;
	struct store_collection a, b, c, d;
	struct store_reindex_counts rc;
	struct tix_error err;
	struct store *other = store_open(fx->path, NULL, &err);
	int64_t v;

	assert_non_null(other);
	assert_int_equal(store_begin(fx->s, &err), TIX_OK);
	assert_int_equal(store_collection_get(fx->s, "a", 1, &a, &err), TIX_OK);
	assert_int_equal(store_collection_get(fx->s, "b", 1, &b, &err), TIX_OK);
	assert_int_equal(store_collection_get(fx->s, "c", 1, &c, &err), TIX_OK);
	assert_int_equal(store_collection_get(fx->s, "d", 1, &d, &err), TIX_OK);
	assert_int_equal(store_commit(fx->s, &err), TIX_OK);
	v = sightings_version(other);
	assert_int_equal(v, 0);

	/* unrelated writes: an indicator, in a collection and then another */
	assert_int_equal(write_as(fx->s, INDICATOR_8, "bank", &a, 1, 1), 1);
	assert_int_equal(write_as(fx->s, INDICATOR_8, "bank", &b, 1, 1), STORE_LINKED);
	assert_int_equal(add_by_digest(fx->s, INDICATOR_8, &d), 1);
	assert_int_equal(sightings_version(other), v);
	/* a sighting rolled back: nothing committed, nothing moves */
	assert_int_equal(write_as(fx->s, SIGHTING_1, "bank", &a, 1, 0), 1);
	assert_int_equal(sightings_version(other), v);

	/* a new sighting */
	assert_int_equal(write_as(fx->s, SIGHTING_1, "bank", &a, 1, 1), 1);
	assert_true(sightings_version(other) > v);
	v = sightings_version(other);
	/* the same bytes again, same collection: nothing changed */
	assert_int_equal(write_as(fx->s, SIGHTING_1, "bank", &a, 1, 1), 0);
	assert_int_equal(sightings_version(other), v);
	/* the same version into a second collection, no new version: its
	 * readers count it now */
	assert_int_equal(write_as(fx->s, SIGHTING_1, "bank", &b, 1, 1), STORE_LINKED);
	assert_true(sightings_version(other) > v);
	v = sightings_version(other);
	/* and into a third by its source digest (tix import's path) */
	assert_int_equal(add_by_digest(fx->s, SIGHTING_1, &c), 1);
	assert_true(sightings_version(other) > v);
	v = sightings_version(other);
	assert_int_equal(add_by_digest(fx->s, SIGHTING_1, &c), 0);
	assert_int_equal(sightings_version(other), v);

	/* deleting the indicator from a collection: no move; the sighting: a move */
	delete_from(fx->s, IND("8"), &a);
	assert_int_equal(sightings_version(other), v);
	delete_from(fx->s, "sighting--00000002-1111-4111-8111-111111111111", &b);
	assert_true(sightings_version(other) > v);
	v = sightings_version(other);

	/* a reindex writes sighting_index again */
	assert_int_equal(store_values_reindex(fx->s, &rc, &err), TIX_OK);
	assert_true(sightings_version(other) > v);
	v = sightings_version(other);

	/* a collection removed: with no sighting in it (d), without one */
	assert_int_equal(store_collection_remove(fx->s, "d", &err), TIX_OK);
	assert_int_equal(sightings_version(other), v);
	assert_int_equal(store_collection_remove(fx->s, "c", &err), TIX_OK);
	assert_true(sightings_version(other) > v);
	store_close(other);
}

/* The staging level with one handle per server thread: it is counted at
 * the store's pace, so with 8 handles writing in turn it stays near its
 * bound (64) and is merged there, never holding many times the bound. */
#define STAGE_HANDLES 8
static void test_stage_stays_bounded_with_many_handles(void **state)
{
	struct fixture *fx = *state;
	struct store *h[STAGE_HANDLES];
	struct tix_error err;
	const char *was = getenv("TIX_VALUE_STAGE");
	char keep[64], id[128], pattern[64];
	int64_t most = 0, n;
	struct found f;

	snprintf(keep, sizeof(keep), "%s", was ? was : "");
	assert_int_equal(setenv("TIX_VALUE_STAGE", "0,64", 1), 0);
	for (int i = 0; i < STAGE_HANDLES; i++)
		assert_non_null(h[i] = store_open(fx->path, NULL, &err));
	for (int v = 0; v < 400; v++) {
		snprintf(id, sizeof(id), "indicator--%08d-2222-4222-8222-222222222222", v);
		snprintf(pattern, sizeof(pattern), "[domain-name:value = 'h%d.example.com']", v);
		put_ind(h[v % STAGE_HANDLES], id, "2026-01-01T00:00:00.000Z", pattern, "bank", 1);
		n = test_store_int(fx, "SELECT count(*) FROM value_stage", NULL);
		if (n > most)
			most = n;
	}
	for (int i = 0; i < STAGE_HANDLES; i++)
		store_close(h[i]);
	if (was)
		setenv("TIX_VALUE_STAGE", keep, 1);
	else
		unsetenv("TIX_VALUE_STAGE");
	printf("    staged at most %lld rows (bound 64, %d handles)\n", (long long)most,
	       STAGE_HANDLES);
	assert_true(most >= 32); /* it was staged */
	assert_true(most <= 64 + 64 / 2);
	f = find(fx->s, "h399.example.com"); /* the last one, found */
	assert_int_equal(f.n, 1);
	assert_true(has(&f, "indicator--00000399-2222-4222-8222-222222222222"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_cidr_containment_both_ways, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_same_transaction_and_latest_version, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_value_rows_follow_versions_and_late_markings,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_migration_16_indexes_the_versions_stored_before, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reindex_gives_the_same_and_counts_refused,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_sightings_indexed_per_indicator, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_sightings_version_moves_with_sightings_only,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stage_stays_bounded_with_many_handles, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
