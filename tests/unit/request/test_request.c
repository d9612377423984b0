/*
 * tests/unit/request/test_request.c — preservation requests: the canonical
 * form and Ed25519 signatures, the Article 29(2) template, the contact
 * points' keys (migration 13), and a chain written, verified and broken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../tmpdir.h"
#include "request/request.h"

static const char tmpl_text[] =
        "{\"requesting_authority\":\"NBI\",\"offence\":\"fraud\",\"summary\":\"phishing\","
        "\"data\":\"mailbox\",\"relationship\":\"sent it\",\"custodian\":\"Mail GmbH\","
        "\"necessity\":\"deletion\",\"mla_intent\":true,\"case_reference\":\"HU-1\","
        "\"identifiers\":[{\"kind\":\"email\",\"value\":\"a@example.de\"}]}";

static void canonical_ignores_order_and_signature(void **state)
{
	json_t *a = json_loads("{\"b\":1,\"a\":{\"y\":\"\\u00e9\",\"x\":[1,2]}}", 0, NULL);
	json_t *b = json_loads("{\"a\":{\"x\":[1,2],\"y\":\"\\u00e9\"},\"tix_signature\":{},"
	                       "\"b\":1}",
	                       0, NULL);
	struct tix_buf x, y;

	(void)state;
	tix_buf_init(&x, TIX_BUF_UNLIMITED);
	tix_buf_init(&y, TIX_BUF_UNLIMITED);
	assert_int_equal(request_canonical(a, 0, &x), TIX_OK);
	assert_int_equal(request_canonical(b, 0, &y), TIX_OK);
	assert_string_equal(tix_buf_str(&x), tix_buf_str(&y));
	assert_string_equal(
	        tix_buf_str(&x),
	        "tix-preservation-v1\n{\"a\":{\"x\":[1,2],\"y\":\"\xc3\xa9\"},\"b\":1}");
	tix_buf_release(&x);
	tix_buf_release(&y);
	json_decref(a);
	json_decref(b);
}

static void signatures_detect_changes(void **state)
{
	unsigned char pk[32], sk[64], pk2[32], sk2[64], got[32];
	json_t *o = json_pack("{s:s, s:s}", "id", "x-tix-preservation-request--1", "summary", "s");
	json_t *sig;
	struct tix_error err;

	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(request_sign(o, pk, sk, &err), TIX_OK);
	assert_int_equal(request_check_signature(o, got, &err), TIX_OK);
	assert_memory_equal(got, pk, 32);
	/* A changed field. */
	json_object_set_new(o, "summary", json_string("t"));
	assert_int_equal(request_check_signature(o, got, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "does not verify"));
	json_object_set_new(o, "summary", json_string("s"));
	assert_int_equal(request_check_signature(o, got, &err), TIX_OK);
	/* Another key named: the signature is not its. */
	{
		char k[64];

		sodium_bin2base64(k, sizeof(k), pk2, 32, sodium_base64_VARIANT_ORIGINAL);
		sig = json_object_get(o, "tix_signature");
		json_object_set_new(sig, "key", json_string(k));
		assert_int_equal(request_check_signature(o, got, &err), TIX_EINVAL);
		json_object_set_new(sig, "key", json_string("short"));
		assert_int_equal(request_check_signature(o, got, &err), TIX_EINVAL);
		assert_non_null(strstr(err.msg, "malformed"));
	}
	json_object_del(o, "tix_signature");
	assert_int_equal(request_check_signature(o, got, &err), TIX_EINVAL);
	json_decref(o);
}

static void template_fields(void **state)
{
	static const char *const keys[] = {
	        "requesting_authority", "offence",    "summary",   "data",
	        "relationship",         "custodian",  "necessity", "case_reference",
	        "identifiers",          "mla_intent", NULL};
	struct tix_error err;
	json_t *t = request_template_parse(tmpl_text, strlen(tmpl_text), "t", &err);

	(void)state;
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "urgency")), "normal");
	assert_string_equal(json_string_value(json_array_get(json_object_get(t, "languages"), 0)),
	                    "en");
	for (int i = 0; keys[i]; i++) {
		json_t *c = json_deep_copy(t);
		char *text;

		json_object_del(c, keys[i]);
		text = json_dumps(c, 0);
		assert_null(request_template_parse(text, strlen(text), "t", &err));
		assert_non_null(strstr(err.msg, keys[i]));
		assert_non_null(strstr(err.msg, "missing"));
		free(text);
		json_decref(c);
	}
	json_decref(t);
	assert_null(request_template_parse("[1]", 3, "t", &err));
	assert_null(request_template_parse("{\"offense\":1}", 13, "t", &err));
	assert_non_null(strstr(err.msg, "unknown key 'offense'"));
}

struct fixture {
	char dir[256], path[300];
	struct store *s;
	struct store_collection coll;
};

static int setup(void **state)
{
	static struct fixture f;
	struct tix_error err;

	memset(&f, 0, sizeof(f));
	if (test_tmpdir_make("request", f.dir, sizeof(f.dir), f.path, sizeof(f.path)) != 0)
		return -1;
	if ((f.s = store_open(f.path, NULL, &err)) == NULL)
		return -1;
	if (store_org_add(f.s, "police-hu", "HU", &err) != TIX_OK ||
	    store_org_add(f.s, "police-de", "DE", &err) != TIX_OK ||
	    store_collection_get(f.s, "preservation", 1, &f.coll, &err) != TIX_OK)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	test_tmpdir_remove(f->dir);
	return 0;
}

static void keys_retire(void **state)
{
	struct fixture *f = *state;
	unsigned char pk[32], sk[64], pk2[32], sk2[64], got[32], gsk[64];
	struct tix_error err;

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(store_request_key_get(f->s, "nobody", got, gsk, &err), TIX_ENOTFOUND);
	assert_int_equal(store_request_key_add(f->s, "org-x", pk, sk, 1, &err), TIX_OK);
	assert_int_equal(store_request_key_add(f->s, "org-x", pk2, sk2, 2, &err), TIX_OK);
	assert_int_equal(store_request_key_get(f->s, "org-x", got, gsk, &err), TIX_OK);
	assert_memory_equal(got, pk2, 32);
	assert_memory_equal(gsk, sk2, 64);
}

static void chain_written_and_checked(void **state)
{
	struct fixture *f = *state;
	struct request_ctx c = {f->s, &f->coll, 1767225600000000, "test"};
	struct request_contact cp;
	struct request_status st;
	struct tix_error err;
	json_t *t = request_template_parse(tmpl_text, strlen(tmpl_text), "t", &err), *vs, *swapped;
	char id[128];

	assert_int_equal(
	        request_contact_put(&c, "police-hu", "HU", "en,hu", NULL, "tix", &cp, &err),
	        TIX_OK);
	assert_true(cp.verified && cp.local);
	assert_int_equal(request_contact_put(&c, "police-de", "DE", NULL, NULL, NULL, &cp, &err),
	                 TIX_OK);
	assert_int_equal(request_new(&c, t, "DE", NULL, "police-hu", 0, NULL, id, &err), TIX_OK);
	c.now_us += 3600000000LL;
	assert_int_equal(request_act(&c, id, "execute", "police-de", NULL, &st, &err), TIX_EINVAL);
	assert_int_equal(request_act(&c, id, "ack", "police-hu", NULL, &st, &err), TIX_EDENIED);
	assert_int_equal(request_act(&c, id, "ack", "police-de", NULL, &st, &err), TIX_OK);
	c.now_us += 3600000000LL;
	assert_int_equal(request_act(&c, id, "execute", "police-de", NULL, &st, &err), TIX_OK);
	assert_string_equal(st.state, "executed");
	assert_true(st.preserve_until_us == c.now_us + REQUEST_PERIOD_US);
	assert_int_equal(request_load(&c, id, "police-hu", &vs, &st, &err), TIX_OK);
	assert_true(st.verified);
	assert_int_equal(json_array_size(vs), 3);
	assert_int_equal(request_verify(&c, vs, &st, &err), TIX_OK);
	assert_int_equal(st.transitions, 3);
	/* Versions in another order, or one left out: broken. */
	swapped = json_pack("[o, o, o]", json_deep_copy(json_array_get(vs, 0)),
	                    json_deep_copy(json_array_get(vs, 2)),
	                    json_deep_copy(json_array_get(vs, 1)));
	json_object_set_new(json_object_get(json_array_get(swapped, 1), "tix_transition"), "seq",
	                    json_integer(2));
	assert_int_equal(request_verify(&c, swapped, &st, &err), TIX_EINVAL);
	json_array_remove(vs, 1);
	assert_int_equal(request_verify(&c, vs, &st, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "seq 3 where 2"));
	/* A third organisation is told nothing. */
	assert_int_equal(request_load(&c, id, "bank-x", NULL, &st, &err), TIX_ENOTFOUND);
	/* Past the end: expired, extension refused. */
	c.now_us += REQUEST_PERIOD_US;
	assert_int_equal(request_act(&c, id, "extend", "police-hu", NULL, &st, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "expired"));
	json_decref(swapped);
	json_decref(vs);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(canonical_ignores_order_and_signature),
	        cmocka_unit_test(signatures_detect_changes),
	        cmocka_unit_test(template_fields),
	        cmocka_unit_test_setup_teardown(keys_retire, setup, teardown),
	        cmocka_unit_test_setup_teardown(chain_written_and_checked, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
