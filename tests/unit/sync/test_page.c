/*
 * tests/unit/sync/test_page.c — the parts of federation that need no
 * network: envelope parsing (and what it refuses), back-off delays,
 * bounded push bundles, repeated next tokens, URL resolution.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sync/sync.h"

static enum tix_err parse(const char *s, struct sync_page *p, struct tix_error *err)
{
	return sync_page_parse(s, strlen(s), p, err);
}

static void page_reads_more_next_and_objects(void **state)
{
	struct sync_page p;
	struct tix_error err;

	(void)state;
	assert_int_equal(
	        parse("{\"more\":true,\"next\":\"abc\",\"objects\":[{\"id\":\"x\"},{}]}", &p, &err),
	        TIX_OK);
	assert_int_equal(p.more, 1);
	assert_string_equal(p.next, "abc");
	assert_int_equal(json_array_size(p.objects), 2);
	sync_page_release(&p);
	/* An empty envelope is an empty last page. */
	assert_int_equal(parse("{}", &p, &err), TIX_OK);
	assert_int_equal(p.more, 0);
	assert_null(p.next);
	assert_int_equal(json_array_size(p.objects), 0);
	sync_page_release(&p);
}

static void page_refuses_what_is_not_an_envelope(void **state)
{
	static const char *bad[] = {
	        "",
	        "[]",
	        "{\"more\":\"yes\"}",
	        "{\"next\":5}",
	        "{\"next\":\"\"}",
	        "{\"objects\":{}}",
	        "{\"objects\":[1]}",
	        "{\"objects\":[{}], \"objects\":[]}", /* duplicate key */
	        "{\"more\":false,\"objects\":[{\"a\":1},{\"b\"",
	};
	struct sync_page p;
	struct tix_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tix_error_clear(&err);
		assert_int_not_equal(parse(bad[i], &p, &err), TIX_OK);
		assert_null(p.root);
		assert_true(err.msg[0] != '\0');
	}
}

static void backoff_doubles_up_to_the_cap_with_jitter(void **state)
{
	(void)state;
	/* rnd 0: the lower half; rnd max: almost the full delay. */
	assert_float_equal(sync_backoff_delay(0.5, 30, 1, 0), 0.25, 1e-9);
	assert_float_equal(sync_backoff_delay(0.5, 30, 2, 0), 0.5, 1e-9);
	assert_float_equal(sync_backoff_delay(0.5, 30, 4, 0), 2.0, 1e-9);
	assert_float_equal(sync_backoff_delay(0.5, 30, 50, 0), 15.0, 1e-9);
	assert_true(sync_backoff_delay(0.5, 30, 50, 0xffffffffu) < 30.0);
	assert_true(sync_backoff_delay(0.5, 30, 50, 0xffffffffu) > 29.9);
	for (uint32_t r = 0; r < 1000; r++) {
		double d = sync_backoff_delay(1, 8, 3, r * 4294967u);

		assert_true(d >= 2.0 && d < 4.0);
	}
}

static void bundle_is_bounded_in_count_and_bytes(void **state)
{
	struct sync_bundle b;
	const char *text;
	size_t len;
	char obj[100];

	(void)state;
	memset(obj, 'x', sizeof(obj));
	obj[0] = '"';
	obj[99] = '"';
	sync_bundle_init(&b, 3, 1000);
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_OK);
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_OK);
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_OK);
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_ETOOBIG); /* count */
	text = sync_bundle_finish(&b, &len);
	assert_int_equal(len, strlen("{\"objects\":[") + 3 * 100 + 2 + 2);
	assert_int_equal(strlen(text), len);
	json_decref(json_loads(text, 0, NULL)); /* valid JSON (checked below) */
	{
		json_t *v = json_loads(text, 0, NULL);

		assert_non_null(v);
		assert_int_equal(json_array_size(json_object_get(v, "objects")), 3);
		json_decref(v);
	}
	sync_bundle_reset(&b);
	/* bytes: 12 + 100 + 2 = 114; a second one makes 215 > 200 */
	b.max_bytes = 200;
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_OK);
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_ETOOBIG);
	sync_bundle_reset(&b);
	/* An object larger than the limit still goes, alone. */
	b.max_bytes = 50;
	assert_int_equal(sync_bundle_add(&b, obj, 100), TIX_OK);
	assert_int_equal(sync_bundle_add(&b, obj, 2), TIX_ETOOBIG);
	sync_bundle_reset(&b);
	text = sync_bundle_finish(&b, &len);
	assert_string_equal(text, "{\"objects\":[]}");
	sync_bundle_release(&b);
}

static void seen_detects_a_repeated_token(void **state)
{
	struct sync_seen s = {0};
	char tok[32];

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		assert_int_equal(sync_seen_check(&s, tok), 0);
	}
	assert_int_equal(sync_seen_check(&s, "token-0"), 1);
	assert_int_equal(sync_seen_check(&s, "token-499"), 1);
	assert_int_equal(sync_seen_check(&s, "token-500"), 0);
	sync_seen_release(&s);
}

static void urls_resolve_like_a_browser(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(sync_url_resolve("http://h:1/taxii2/", "/api1/", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h:1/api1/");
	assert_int_equal(sync_url_resolve("http://h:1/taxii2/", "api1/", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h:1/taxii2/api1/");
	assert_int_equal(sync_url_resolve("http://h:1/taxii2/", "https://x/r/", out, sizeof(out)),
	                 0);
	assert_string_equal(out, "https://x/r/");
	assert_int_equal(sync_url_resolve("http://h:1", "/api1/", out, sizeof(out)), 0);
	assert_string_equal(out, "http://h:1/api1/");
	assert_int_equal(sync_url_resolve("http://h:1/taxii2/", "/api1/", out, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(page_reads_more_next_and_objects),
	        cmocka_unit_test(page_refuses_what_is_not_an_envelope),
	        cmocka_unit_test(backoff_doubles_up_to_the_cap_with_jitter),
	        cmocka_unit_test(bundle_is_bounded_in_count_and_bytes),
	        cmocka_unit_test(seen_detects_a_repeated_token),
	        cmocka_unit_test(urls_resolve_like_a_browser),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
