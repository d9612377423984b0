/*
 * Unit tests for core/buf.c: the bounded string builder grows as needed,
 * refuses to pass its limit (leaving its contents untouched), formats,
 * escapes JSON strings and hands its bytes over on detach.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

static void test_empty_buffer_reads_as_empty_string(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_string_equal(tix_buf_str(&b), "");
	assert_int_equal(tix_buf_len(&b), 0);
	tix_buf_release(&b);
	tix_buf_release(NULL); /* accepted, does nothing */
}

static void test_grows_past_initial_capacity(void **state)
{
	struct tix_buf b;
	char expect[10001];

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	for (int i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);

		expect[i] = c;
		assert_int_equal(tix_buf_addc(&b, c), TIX_OK);
	}
	expect[10000] = '\0';
	assert_int_equal(tix_buf_len(&b), 10000);
	assert_string_equal(tix_buf_str(&b), expect);
	/* Always NUL-terminated, so strlen agrees with len. */
	assert_int_equal(strlen(tix_buf_str(&b)), 10000);
	tix_buf_release(&b);
}

static void test_add_and_adds_append_in_order(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "hello"), TIX_OK);
	assert_int_equal(tix_buf_add(&b, ", world!!!", 7), TIX_OK);
	assert_int_equal(tix_buf_add(&b, NULL, 0), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "hello, world");
	assert_int_equal(tix_buf_len(&b), 12);
	tix_buf_release(&b);
}

static void test_embedded_nul_is_kept(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_add(&b, "a\0b", 3), TIX_OK);
	assert_int_equal(tix_buf_len(&b), 3);
	assert_memory_equal(tix_buf_str(&b), "a\0b", 4);
	tix_buf_release(&b);
}

static void test_reset_empties_but_stays_usable(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "something long enough to allocate"), TIX_OK);
	tix_buf_reset(&b);
	assert_int_equal(tix_buf_len(&b), 0);
	assert_string_equal(tix_buf_str(&b), "");
	assert_int_equal(tix_buf_adds(&b, "again"), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "again");
	tix_buf_release(&b);
}

static void test_limit_allows_exactly_limit_bytes(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, 10);
	assert_int_equal(tix_buf_adds(&b, "0123456789"), TIX_OK);
	assert_int_equal(tix_buf_len(&b), 10);
	assert_string_equal(tix_buf_str(&b), "0123456789");
	/* One more byte is refused and nothing changes. */
	assert_int_equal(tix_buf_addc(&b, 'x'), TIX_ETOOBIG);
	assert_int_equal(tix_buf_len(&b), 10);
	assert_string_equal(tix_buf_str(&b), "0123456789");
	tix_buf_release(&b);
}

static void test_refusal_leaves_contents_unchanged(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, 16);
	assert_int_equal(tix_buf_adds(&b, "hello"), TIX_OK);

	assert_int_equal(tix_buf_adds(&b, "this is far too long"), TIX_ETOOBIG);
	assert_string_equal(tix_buf_str(&b), "hello");
	assert_int_equal(tix_buf_len(&b), 5);

	assert_int_equal(tix_buf_add(&b, "0123456789AB", 12), TIX_ETOOBIG);
	assert_string_equal(tix_buf_str(&b), "hello");

	assert_int_equal(tix_buf_addf(&b, "%s-%d", "number", 1234567), TIX_ETOOBIG);
	assert_string_equal(tix_buf_str(&b), "hello");
	assert_int_equal(tix_buf_len(&b), 5);

	assert_int_equal(tix_buf_reserve(&b, 12), TIX_ETOOBIG);
	assert_int_equal(tix_buf_reserve(&b, SIZE_MAX), TIX_ETOOBIG);
	assert_string_equal(tix_buf_str(&b), "hello");

	/* What still fits is accepted after a refusal. */
	assert_int_equal(tix_buf_adds(&b, " world"), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "hello world");
	tix_buf_release(&b);
}

static void test_zero_limit_refuses_everything(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, 0);
	assert_int_equal(tix_buf_addc(&b, 'a'), TIX_ETOOBIG);
	assert_int_equal(tix_buf_len(&b), 0);
	assert_string_equal(tix_buf_str(&b), "");
	tix_buf_release(&b);
}

static void test_addf_formats_and_appends(void **state)
{
	struct tix_buf b;
	char longer[301];

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "n="), TIX_OK);
	assert_int_equal(tix_buf_addf(&b, "%d, s=%s, x=%04x", -42, "str", 0xbeef), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "n=-42, s=str, x=beef");

	/* A formatted piece longer than the current capacity. */
	memset(longer, 'z', 300);
	longer[300] = '\0';
	assert_int_equal(tix_buf_addf(&b, "[%s]", longer), TIX_OK);
	assert_int_equal(tix_buf_len(&b), 20 + 302);
	assert_int_equal(tix_buf_str(&b)[20], '[');
	assert_int_equal(tix_buf_str(&b)[321], ']');
	assert_int_equal(tix_buf_str(&b)[322], '\0');
	tix_buf_release(&b);
}

static void test_addf_empty_result(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_addf(&b, "%s", ""), TIX_OK);
	assert_int_equal(tix_buf_len(&b), 0);
	assert_string_equal(tix_buf_str(&b), "");
	tix_buf_release(&b);
}

static void json_of(const char *in, char *out, size_t size)
{
	struct tix_buf b;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_add_json_string(&b, in), TIX_OK);
	assert_true(tix_buf_len(&b) < size);
	memcpy(out, tix_buf_str(&b), tix_buf_len(&b) + 1);
	tix_buf_release(&b);
}

static void test_json_string_plain_and_empty(void **state)
{
	char out[256];

	(void)state;
	json_of("", out, sizeof(out));
	assert_string_equal(out, "\"\"");
	json_of("indicator--1234", out, sizeof(out));
	assert_string_equal(out, "\"indicator--1234\"");
}

static void test_json_string_escapes_quote_and_backslash(void **state)
{
	char out[256];

	(void)state;
	json_of("say \"hi\" C:\\path\\", out, sizeof(out));
	assert_string_equal(out, "\"say \\\"hi\\\" C:\\\\path\\\\\"");
}

static void test_json_string_escapes_control_chars(void **state)
{
	char out[256];

	(void)state;
	json_of("a\nb\rc\td", out, sizeof(out));
	assert_string_equal(out, "\"a\\nb\\rc\\td\"");

	/* Other controls become \u00XX (hex digits in either case are valid JSON). */
	json_of("\x01-\x1f-\x10", out, sizeof(out));
	assert_int_equal(strcasecmp(out, "\"\\u0001-\\u001f-\\u0010\""), 0);

	/* No raw control byte survives, whatever escape is chosen. */
	json_of("\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x1b\x1e", out, sizeof(out));
	for (const char *p = out; *p; p++)
		assert_true((unsigned char)*p >= 0x20);
}

static void test_json_string_keeps_utf8_and_appends(void **state)
{
	struct tix_buf b;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "{\"name\":"), TIX_OK);
	assert_int_equal(tix_buf_add_json_string(&b, "caf\xc3\xa9 / \xe2\x82\xac"), TIX_OK);
	assert_int_equal(tix_buf_addc(&b, '}'), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "{\"name\":\"caf\xc3\xa9 / \xe2\x82\xac\"}");
	tix_buf_release(&b);
}

static void test_detach_hands_ownership(void **state)
{
	struct tix_buf b;
	size_t len = 0;
	char *s;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "owned by the caller"), TIX_OK);
	s = tix_buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "owned by the caller");
	assert_int_equal(len, 19);
	/* The buffer is left empty and can be used again independently. */
	assert_int_equal(tix_buf_len(&b), 0);
	assert_string_equal(tix_buf_str(&b), "");
	assert_int_equal(tix_buf_adds(&b, "new"), TIX_OK);
	assert_string_equal(tix_buf_str(&b), "new");
	assert_string_equal(s, "owned by the caller");
	tix_buf_release(&b);
	/* Still valid after the buffer is released: the caller owns it. */
	assert_string_equal(s, "owned by the caller");
	free(s);
}

static void test_detach_of_empty_buffer_gives_empty_string(void **state)
{
	struct tix_buf b;
	size_t len = 99;
	char *s;

	(void)state;
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	s = tix_buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	tix_buf_release(&b);

	/* len may be NULL. */
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(tix_buf_adds(&b, "x"), TIX_OK);
	s = tix_buf_detach(&b, NULL);
	assert_string_equal(s, "x");
	free(s);
	tix_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty_buffer_reads_as_empty_string),
	        cmocka_unit_test(test_grows_past_initial_capacity),
	        cmocka_unit_test(test_add_and_adds_append_in_order),
	        cmocka_unit_test(test_embedded_nul_is_kept),
	        cmocka_unit_test(test_reset_empties_but_stays_usable),
	        cmocka_unit_test(test_limit_allows_exactly_limit_bytes),
	        cmocka_unit_test(test_refusal_leaves_contents_unchanged),
	        cmocka_unit_test(test_zero_limit_refuses_everything),
	        cmocka_unit_test(test_addf_formats_and_appends),
	        cmocka_unit_test(test_addf_empty_result),
	        cmocka_unit_test(test_json_string_plain_and_empty),
	        cmocka_unit_test(test_json_string_escapes_quote_and_backslash),
	        cmocka_unit_test(test_json_string_escapes_control_chars),
	        cmocka_unit_test(test_json_string_keeps_utf8_and_appends),
	        cmocka_unit_test(test_detach_hands_ownership),
	        cmocka_unit_test(test_detach_of_empty_buffer_gives_empty_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
