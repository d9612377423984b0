/*
 * Unit tests for store/accounts.c through store.h: organisations, users,
 * API keys, collections and grants, with their errors (taken names,
 * missing references, bad names), the cascade when an organisation goes,
 * and the node secret kept across reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store_fixture.h"
#include "../tmpdir.h"
#include "core/core.h"
#include "stix/stix.h"
#include "store/store.h"

static int setup(void **state)
{
	return test_store_setup(state, "acct");
}

static int teardown(void **state)
{
	return test_store_teardown(state);
}

/* ---- helpers ------------------------------------------------------------ */

#define OK(call)                                                                                   \
	do {                                                                                       \
		struct tix_error err_;                                                             \
		tix_error_clear(&err_);                                                            \
		if ((call) != TIX_OK)                                                              \
			fail_msg("%s: %s", #call, err_.msg);                                       \
	} while (0)

/* The calls below pass &err_ through this name. */
#define E (&err_)

static void org(struct store *s, const char *name)
{
	OK(store_org_add(s, name, NULL, E));
}

static void user(struct store *s, const char *name, const char *o, enum store_role role)
{
	OK(store_user_add(s, name, o, role, "$argon2id$fake", E));
}

static void key(struct store *s, const char *u, const char *id)
{
	unsigned char h[32];

	memset(h, id[0], sizeof(h));
	OK(store_apikey_add(s, u, id, h, E));
}

struct names {
	size_t n;
	char v[16][128];
};

static int org_names(void *arg, const struct store_org *o)
{
	struct names *ns = arg;

	snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", o->name);
	return ns->n == 16;
}

static int user_names(void *arg, const struct store_user *u)
{
	struct names *ns = arg;

	snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", u->name);
	return ns->n == 16;
}

static int key_ids(void *arg, const struct store_apikey *k)
{
	struct names *ns = arg;

	snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", k->key_id);
	return ns->n == 16;
}

static int coll_titles(void *arg, const struct store_collection_info *c)
{
	struct names *ns = arg;

	snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s:%d%d", c->title, c->can_read, c->can_write);
	return ns->n == 16;
}

/* What a query of one number gives, read behind the store's back. */
static int count(const struct fixture *f, const char *sql)
{
	return (int)test_store_int(f, sql, NULL);
}

/* ---- roles --------------------------------------------------------------- */

static void test_role_names_round_trip(void **state)
{
	enum store_role r;

	(void)state;
	for (int i = STORE_ROLE_ADMIN; i <= STORE_ROLE_SENSOR; i++) {
		assert_int_equal(store_role_parse(store_role_name((enum store_role)i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(store_role_name(STORE_ROLE_SENSOR), "sensor");
	assert_int_equal(store_role_parse("Admin", &r), -1);
	assert_int_equal(store_role_parse("", &r), -1);
	assert_int_equal(store_role_parse(NULL, &r), -1);
}

/* ---- organisations ------------------------------------------------------- */

static void test_org_add_get_list_remove(void **state)
{
	struct fixture *f = *state;
	struct store_org o;
	struct names ns = {0};
	struct tix_error err;

	OK(store_org_add(f->s, "police", "de", E));
	org(f->s, "acme");
	OK(store_org_get(f->s, "police", &o, E));
	assert_string_equal(o.name, "police");
	assert_string_equal(o.country, "DE");
	assert_true(o.key > 0);
	OK(store_org_list(f->s, org_names, &ns, E));
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.v[0], "acme"); /* name order */
	assert_string_equal(ns.v[1], "police");

	OK(store_org_remove(f->s, "acme", E));
	assert_int_equal(store_org_get(f->s, "acme", &o, &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no organisation 'acme'");
}

static void test_org_errors(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char longname[200];

	org(f->s, "acme");
	assert_int_equal(store_org_add(f->s, "acme", NULL, &err), TIX_EEXIST);
	assert_string_equal(err.msg, "organisation 'acme' already exists");
	assert_int_equal(store_org_remove(f->s, "nobody", &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no organisation 'nobody'");

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(store_org_add(f->s, "", NULL, &err), TIX_EINVAL);
	assert_int_equal(store_org_add(f->s, longname, NULL, &err), TIX_EINVAL);
	assert_int_equal(store_org_add(f->s, "a,b", NULL, &err), TIX_EINVAL);
	assert_int_equal(store_org_add(f->s, "tab\there", NULL, &err), TIX_EINVAL);
	assert_int_equal(store_org_add(f->s, "x", "DEU", &err), TIX_EINVAL);
	assert_int_equal(store_org_add(f->s, "x", "1A", &err), TIX_EINVAL);
	/* Nothing of the refused ones was stored. */
	assert_int_equal(count(f, "SELECT count(*) FROM orgs"), 1);
}

/* ---- users ---------------------------------------------------------------- */

static void test_user_add_get_list_remove(void **state)
{
	struct fixture *f = *state;
	struct store_user u;
	struct store_org o;
	struct names ns = {0};
	struct tix_error err;

	org(f->s, "acme");
	OK(store_user_add(f->s, "zoe", "acme", STORE_ROLE_SENSOR, NULL, E));
	user(f->s, "alice", "acme", STORE_ROLE_ANALYST);
	OK(store_user_get(f->s, "alice", &u, E));
	OK(store_org_get(f->s, "acme", &o, E));
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.org, "acme");
	assert_int_equal(u.org_key, o.key);
	assert_int_equal(u.role, STORE_ROLE_ANALYST);
	assert_string_equal(u.password_hash, "$argon2id$fake");
	OK(store_user_get(f->s, "zoe", &u, E));
	assert_int_equal(u.role, STORE_ROLE_SENSOR);
	assert_string_equal(u.password_hash, ""); /* keys only */

	OK(store_user_list(f->s, user_names, &ns, E));
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.v[0], "alice");
	assert_string_equal(ns.v[1], "zoe");

	OK(store_user_remove(f->s, "zoe", E));
	assert_int_equal(store_user_get(f->s, "zoe", &u, &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no user 'zoe'");
	/* The cached statement is reusable after a miss. */
	OK(store_user_get(f->s, "alice", &u, E));
}

static void test_user_errors(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;

	org(f->s, "acme");
	user(f->s, "alice", "acme", STORE_ROLE_READER);
	assert_int_equal(store_user_add(f->s, "alice", "acme", STORE_ROLE_READER, NULL, &err),
	                 TIX_EEXIST);
	assert_string_equal(err.msg, "user 'alice' already exists");
	assert_int_equal(store_user_add(f->s, "bob", "nope", STORE_ROLE_READER, NULL, &err),
	                 TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no organisation 'nope'");
	assert_int_equal(store_user_add(f->s, "a:b", "acme", STORE_ROLE_READER, NULL, &err),
	                 TIX_EINVAL);
	assert_int_equal(store_user_add(f->s, "", "acme", STORE_ROLE_READER, NULL, &err),
	                 TIX_EINVAL);
	assert_int_equal(store_user_add(f->s, "bob", "acme", (enum store_role)9, NULL, &err),
	                 TIX_EINVAL);
	assert_int_equal(store_user_remove(f->s, "bob", &err), TIX_ENOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM users"), 1);
}

/* ---- API keys --------------------------------------------------------------- */

static void test_apikey_add_get_touch_list_remove(void **state)
{
	struct fixture *f = *state;
	struct store_apikey k;
	struct names ns = {0};
	struct tix_error err;
	unsigned char h[32];

	org(f->s, "acme");
	user(f->s, "alice", "acme", STORE_ROLE_ANALYST);
	user(f->s, "bob", "acme", STORE_ROLE_SENSOR);
	key(f->s, "alice", "aaaaaaaaaaaa");
	key(f->s, "bob", "bbbbbbbbbbbb");
	key(f->s, "bob", "cccccccccccc");

	OK(store_apikey_get(f->s, "bbbbbbbbbbbb", &k, E));
	memset(h, 'b', sizeof(h));
	assert_memory_equal(k.hash, h, sizeof(h));
	assert_string_equal(k.user, "bob");
	assert_true(k.created > 0);
	assert_int_equal(k.last_used, 0);
	OK(store_apikey_touch(f->s, "bbbbbbbbbbbb", 12345, E));
	OK(store_apikey_get(f->s, "bbbbbbbbbbbb", &k, E));
	assert_int_equal(k.last_used, 12345);

	OK(store_apikey_list(f->s, NULL, key_ids, &ns, E));
	assert_int_equal(ns.n, 3);
	memset(&ns, 0, sizeof(ns));
	OK(store_apikey_list(f->s, "bob", key_ids, &ns, E));
	assert_int_equal(ns.n, 2);
	assert_int_equal(store_apikey_list(f->s, "nobody", key_ids, &ns, &err), TIX_ENOTFOUND);

	OK(store_apikey_remove(f->s, "cccccccccccc", E));
	assert_int_equal(store_apikey_get(f->s, "cccccccccccc", &k, &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no API key 'cccccccccccc'");
	assert_int_equal(store_apikey_remove(f->s, "cccccccccccc", &err), TIX_ENOTFOUND);
	assert_int_equal(store_apikey_touch(f->s, "cccccccccccc", 1, &err), TIX_ENOTFOUND);
}

static void test_apikey_errors(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	unsigned char h[32] = {0};

	org(f->s, "acme");
	user(f->s, "alice", "acme", STORE_ROLE_ANALYST);
	key(f->s, "alice", "aaaaaaaaaaaa");
	assert_int_equal(store_apikey_add(f->s, "alice", "aaaaaaaaaaaa", h, &err), TIX_EEXIST);
	assert_string_equal(err.msg, "API key 'aaaaaaaaaaaa' already exists");
	assert_int_equal(store_apikey_add(f->s, "nobody", "dddddddddddd", h, &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no user 'nobody'");
	assert_int_equal(store_apikey_add(f->s, "alice", "", h, &err), TIX_EINVAL);
	assert_int_equal(count(f, "SELECT count(*) FROM api_keys"), 1);
}

static void test_user_removal_takes_its_keys(void **state)
{
	struct fixture *f = *state;
	struct store_apikey k;
	struct tix_error err;

	org(f->s, "acme");
	user(f->s, "alice", "acme", STORE_ROLE_ANALYST);
	key(f->s, "alice", "aaaaaaaaaaaa");
	OK(store_user_remove(f->s, "alice", E));
	assert_int_equal(store_apikey_get(f->s, "aaaaaaaaaaaa", &k, &err), TIX_ENOTFOUND);
}

/* ---- the cascade -------------------------------------------------------------- */

static void test_org_removal_cascades(void **state)
{
	struct fixture *f = *state;
	struct store_collection c;
	struct store_user u;
	struct store_apikey k;
	struct tix_error err;

	org(f->s, "acme");
	org(f->s, "other");
	user(f->s, "alice", "acme", STORE_ROLE_ANALYST);
	user(f->s, "olga", "other", STORE_ROLE_ADMIN);
	key(f->s, "alice", "aaaaaaaaaaaa");
	key(f->s, "olga", "oooooooooooo");
	OK(store_collection_create(f->s, "feed", NULL, &c, E));
	OK(store_collection_grant(f->s, &c, "acme", 1, 1, E));
	OK(store_collection_grant(f->s, &c, "other", 1, 0, E));

	OK(store_org_remove(f->s, "acme", E));
	assert_int_equal(store_user_get(f->s, "alice", &u, &err), TIX_ENOTFOUND);
	assert_int_equal(store_apikey_get(f->s, "aaaaaaaaaaaa", &k, &err), TIX_ENOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM collection_grants"), 1);
	/* What belongs to others stays, and so does the collection. */
	OK(store_user_get(f->s, "olga", &u, E));
	OK(store_apikey_get(f->s, "oooooooooooo", &k, E));
	OK(store_collection_get(f->s, "feed", 0, &c, E));
}

/* ---- the node secret ------------------------------------------------------------ */

static void test_node_secret_stable_across_reopen(void **state)
{
	struct fixture *f = *state;
	unsigned char a[32], b[32], zero[32] = {0};
	struct tix_error err;

	OK(store_node_secret(f->s, a, E));
	assert_memory_not_equal(a, zero, sizeof(a));
	OK(store_node_secret(f->s, b, E));
	assert_memory_equal(a, b, sizeof(a));
	store_close(f->s);
	f->s = store_open(f->path, NULL, &err);
	assert_non_null(f->s);
	memset(b, 0, sizeof(b));
	OK(store_node_secret(f->s, b, E));
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(count(f, "SELECT length(value) FROM meta WHERE key = 'node_secret'"), 64);
}

static void test_node_secret_differs_between_stores(void **state)
{
	struct fixture *f = *state;
	unsigned char a[32], b[32];
	struct store *other;
	struct tix_error err;

	other = store_open(test_store_other(f), NULL, &err);
	assert_non_null(other);
	OK(store_node_secret(f->s, a, E));
	OK(store_node_secret(other, b, E));
	assert_memory_not_equal(a, b, sizeof(a));
	store_close(other);
}

/* ---- collections and grants ------------------------------------------------------ */

static void test_collection_create_and_errors(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, found;
	struct tix_uuid u;
	struct tix_error err;
	char title[300];

	OK(store_collection_create(f->s, "feed", "all of it", &c, E));
	assert_true(c.key > 0);
	assert_string_equal(c.title, "feed");
	assert_int_equal(tix_uuid_parse(c.id, &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 4);
	OK(store_collection_get(f->s, c.id, 0, &found, E));
	assert_int_equal(found.key, c.key);

	assert_int_equal(store_collection_create(f->s, "feed", NULL, &found, &err), TIX_EEXIST);
	assert_string_equal(err.msg, "collection 'feed' already exists");
	assert_int_equal(store_collection_create(f->s, "", NULL, &found, &err), TIX_EINVAL);
	memset(title, 't', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	assert_int_equal(store_collection_create(f->s, title, NULL, &found, &err), TIX_EINVAL);
	assert_int_equal(store_collection_create(f->s, "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", NULL,
	                                         &found, &err),
	                 TIX_EINVAL);
	assert_int_equal(count(f, "SELECT count(*) FROM collections"), 1);
}

static void test_grants(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, ghost;
	struct store_org acme, other;
	struct tix_error err;
	struct names ns = {0};
	int r = -1, w = -1;

	org(f->s, "acme");
	org(f->s, "other");
	OK(store_org_get(f->s, "acme", &acme, E));
	OK(store_org_get(f->s, "other", &other, E));
	OK(store_collection_create(f->s, "b-feed", NULL, &c, E));
	OK(store_collection_create(f->s, "a-feed", NULL, &ghost, E));

	OK(store_collection_access(f->s, &c, acme.key, &r, &w, E));
	assert_int_equal(r, 0);
	assert_int_equal(w, 0);
	OK(store_collection_grant(f->s, &c, "acme", 1, 0, E));
	OK(store_collection_access(f->s, &c, acme.key, &r, &w, E));
	assert_int_equal(r, 1);
	assert_int_equal(w, 0);
	/* A later grant replaces the earlier one. */
	OK(store_collection_grant(f->s, &c, "acme", 0, 1, E));
	OK(store_collection_access(f->s, &c, acme.key, &r, &w, E));
	assert_int_equal(r, 0);
	assert_int_equal(w, 1);
	OK(store_collection_access(f->s, &c, other.key, &r, &w, E));
	assert_int_equal(r + w, 0);

	/* In title order, with acme's grants; all_access reports everything. */
	OK(store_collection_list(f->s, acme.key, 0, coll_titles, &ns, E));
	assert_int_equal(ns.n, 2);
	assert_string_equal(ns.v[0], "a-feed:00");
	assert_string_equal(ns.v[1], "b-feed:01");
	memset(&ns, 0, sizeof(ns));
	OK(store_collection_list(f->s, 0, 1, coll_titles, &ns, E));
	assert_string_equal(ns.v[0], "a-feed:11");

	/* Neither read nor write: the grant goes. */
	OK(store_collection_grant(f->s, &c, "acme", 0, 0, E));
	OK(store_collection_access(f->s, &c, acme.key, &r, &w, E));
	assert_int_equal(r + w, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM collection_grants"), 0);

	assert_int_equal(store_collection_grant(f->s, &c, "nope", 1, 1, &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no organisation 'nope'");
	OK(store_collection_remove(f->s, "a-feed", E));
	assert_int_equal(store_collection_grant(f->s, &ghost, "acme", 1, 1, &err), TIX_ENOTFOUND);
}

static void test_collection_remove_keeps_objects(void **state)
{
	struct fixture *f = *state;
	static const char body[] =
	        "{\"type\":\"identity\",\"spec_version\":\"2.1\","
	        "\"id\":\"identity--311b2d2d-f010-4473-83ec-1edf84858f4c\","
	        "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
	        "\"name\":\"x\",\"identity_class\":\"organization\"}";
	struct store_collection c;
	struct stix_meta m;
	struct tix_error err;
	json_t *o;
	int added = 0;

	org(f->s, "acme");
	OK(store_collection_create(f->s, "feed", NULL, &c, E));
	OK(store_collection_grant(f->s, &c, "acme", 1, 1, E));
	o = json_loads(body, 0, NULL);
	assert_non_null(o);
	OK(stix_meta_get(o, &m, E));
	OK(store_begin(f->s, E));
	OK(store_put(f->s, &m, body, strlen(body), "acme", &c, NULL, &added, E));
	OK(store_commit(f->s, E));
	json_decref(o);
	assert_int_equal(added, 1);

	OK(store_collection_remove(f->s, c.id, E)); /* by id */
	assert_int_equal(store_collection_get(f->s, "feed", 0, &c, &err), TIX_ENOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM collection_objects"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM collection_grants"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM objects"), 1);
	assert_int_equal(store_collection_remove(f->s, "feed", &err), TIX_ENOTFOUND);
	assert_string_equal(err.msg, "no collection 'feed'");
}

/* ---- transactions ------------------------------------------------------------------ */

static void test_changes_refused_inside_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;

	OK(store_begin(f->s, E));
	assert_int_equal(store_org_add(f->s, "acme", NULL, &err), TIX_ESTORE);
	store_rollback(f->s);
	org(f->s, "acme"); /* and fine afterwards */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_role_names_round_trip),
	        T(test_org_add_get_list_remove),
	        T(test_org_errors),
	        T(test_user_add_get_list_remove),
	        T(test_user_errors),
	        T(test_apikey_add_get_touch_list_remove),
	        T(test_apikey_errors),
	        T(test_user_removal_takes_its_keys),
	        T(test_org_removal_cascades),
	        T(test_node_secret_stable_across_reopen),
	        T(test_node_secret_differs_between_stores),
	        T(test_collection_create_and_errors),
	        T(test_grants),
	        T(test_collection_remove_keeps_objects),
	        T(test_changes_refused_inside_a_transaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
