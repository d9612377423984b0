/*
 * Unit tests for core/time.c: RFC 3339 timestamps as STIX uses them —
 * strict parsing with messages that say what is wrong, formatting at a
 * given precision, the sortable canonical form, and microsecond conversion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/core.h"

/* 2016-05-12T08:17:27Z */
#define T0 INT64_C(1463041047)

static void parse_ok(const char *s, struct tix_time *t)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (tix_time_parse(s, t, &err) != TIX_OK)
		fail_msg("'%s' rejected: %s", s, err.msg);
}

/* Asserts s is rejected with TIX_EPARSE and a message containing `want`
 * and quoting the input. */
static void parse_bad(const char *s, const char *want)
{
	struct tix_error err;
	struct tix_time t;

	tix_error_clear(&err);
	assert_int_equal(tix_time_parse(s, &t, &err), TIX_EPARSE);
	assert_int_equal(err.code, TIX_EPARSE);
	if (strstr(err.msg, want) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", s, err.msg, want);
	if (strstr(err.msg, s) == NULL)
		fail_msg("'%s': message '%s' does not quote the input", s, err.msg);
}

static void test_parse_whole_seconds(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("2016-05-12T08:17:27Z", &t);
	assert_int_equal(t.sec, T0);
	assert_int_equal(t.nsec, 0);
	assert_int_equal(t.digits, 0);
	assert_string_equal(tix_time_format(&t, 0, out), "2016-05-12T08:17:27Z");
	parse_ok("1970-01-01T00:00:00Z", &t);
	assert_int_equal(t.sec, 0);
}

static void test_millisecond_round_trip(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("2016-05-12T08:17:27.123Z", &t);
	assert_int_equal(t.sec, T0);
	assert_int_equal(t.nsec, 123000000);
	assert_int_equal(t.digits, 3);
	assert_string_equal(tix_time_format(&t, 3, out), "2016-05-12T08:17:27.123Z");
	assert_string_equal(tix_time_format(&t, t.digits, out), "2016-05-12T08:17:27.123Z");

	/* Leading zeros in the fraction matter. */
	parse_ok("2016-05-12T08:17:27.007Z", &t);
	assert_int_equal(t.nsec, 7000000);
	assert_string_equal(tix_time_format(&t, 3, out), "2016-05-12T08:17:27.007Z");
}

static void test_microsecond_round_trip(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("2016-05-12T08:17:27.123456Z", &t);
	assert_int_equal(t.nsec, 123456000);
	assert_int_equal(t.digits, 6);
	assert_string_equal(tix_time_format(&t, 6, out), "2016-05-12T08:17:27.123456Z");
	/* Formatting at a lower precision truncates, never rounds up. */
	assert_string_equal(tix_time_format(&t, 3, out), "2016-05-12T08:17:27.123Z");
}

static void test_nanosecond_and_canonical_form(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("2016-05-12T08:17:27.123456789Z", &t);
	assert_int_equal(t.nsec, 123456789);
	assert_int_equal(t.digits, 9);
	assert_string_equal(tix_time_canonical(&t, out), "2016-05-12T08:17:27.123456789Z");

	parse_ok("2016-05-12T08:17:27.1Z", &t);
	assert_int_equal(t.digits, 1);
	assert_string_equal(tix_time_canonical(&t, out), "2016-05-12T08:17:27.100000000Z");
	parse_ok("2016-05-12T08:17:27Z", &t);
	assert_string_equal(tix_time_canonical(&t, out), "2016-05-12T08:17:27.000000000Z");
	assert_int_equal(strlen(out), 30);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_canonical_form_sorts_like_time(void **state)
{
	/* Mixed precisions whose text order is NOT their time order. */
	static const char *const in[] = {
	        "2016-05-12T08:17:27Z",           "2016-05-12T08:17:27.1Z",
	        "2016-05-12T08:17:27.09Z",        "2016-05-12T08:17:27.000001Z",
	        "2016-05-12T08:17:27.999999999Z", "2016-05-12T08:17:28Z",
	        "1999-12-31T23:59:59.5Z",         "2100-01-01T00:00:00.000Z",
	        "1969-12-31T23:59:59.999Z",       "2016-05-12T08:17:27.100Z",
	};
	const size_t n = sizeof(in) / sizeof(in[0]);
	struct tix_time t[sizeof(in) / sizeof(in[0])];
	char c[sizeof(in) / sizeof(in[0])][32];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		parse_ok(in[i], &t[i]);
		tix_time_canonical(&t[i], c[i]);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (sign(strcmp(c[i], c[j])) != tix_time_cmp(&t[i], &t[j]))
				fail_msg("%s vs %s: byte order disagrees with time order", c[i],
				         c[j]);
}

static void test_compare(void **state)
{
	struct tix_time a, b;

	(void)state;
	parse_ok("2016-05-12T08:17:27.1Z", &a);
	parse_ok("2016-05-12T08:17:27.100000Z", &b);
	assert_int_equal(tix_time_cmp(&a, &b), 0); /* precision does not matter */
	parse_ok("2016-05-12T08:17:27.100000001Z", &b);
	assert_int_equal(tix_time_cmp(&a, &b), -1);
	assert_int_equal(tix_time_cmp(&b, &a), 1);
	parse_ok("2016-05-12T08:17:26.999999999Z", &b);
	assert_int_equal(tix_time_cmp(&a, &b), 1);
	parse_ok("2017-01-01T00:00:00Z", &b);
	assert_int_equal(tix_time_cmp(&a, &b), -1);
	assert_int_equal(tix_time_cmp(&a, &a), 0);
}

static void test_leap_years(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("2016-02-29T00:00:00Z", &t);
	assert_string_equal(tix_time_format(&t, 0, out), "2016-02-29T00:00:00Z");
	parse_ok("2000-02-29T12:00:00.000Z", &t); /* divisible by 400 */
	assert_string_equal(tix_time_format(&t, 3, out), "2000-02-29T12:00:00.000Z");
	parse_bad("2017-02-29T00:00:00Z", "day out of range");
	parse_bad("1900-02-29T00:00:00Z", "day out of range"); /* divisible by 100 */
	parse_ok("2017-02-28T23:59:59Z", &t);
}

static void test_rejects_out_of_range_fields(void **state)
{
	(void)state;
	parse_bad("2016-13-01T00:00:00Z", "month out of range");
	parse_bad("2016-00-10T00:00:00Z", "month out of range");
	parse_bad("2016-04-31T00:00:00Z", "day out of range");
	parse_bad("2016-01-00T00:00:00Z", "day out of range");
	parse_bad("2016-01-32T00:00:00Z", "day out of range");
	parse_bad("2016-01-01T24:00:00Z", "time of day out of range");
	parse_bad("2016-01-01T23:60:00Z", "time of day out of range");
	parse_bad("2016-12-31T23:59:60Z", "time of day out of range"); /* no leap seconds */
}

static void test_rejects_bad_syntax(void **state)
{
	const char *shape = "not an RFC 3339 timestamp";

	(void)state;
	parse_bad("2016-01-01t00:00:00Z", shape);
	parse_bad("2016-01-01T00:00:00z", shape);
	parse_bad("2016-01-01T00:00:00+01:00", shape);
	parse_bad("2016-01-01T00:00:00.000+00:00", shape);
	parse_bad("2016-01-01T00:00:00", shape);
	parse_bad("2016-01-01T00:00:00.123", shape);
	parse_bad("2016-01-01T00:00:00.Z", shape);
	parse_bad("2016-01-01 00:00:00Z", shape);
	parse_bad("2016-1-01T00:00:00Z", shape);
	parse_bad("2016-01-01T00:00:00ZZ", shape);
	parse_bad("2016-01-01T00:00:00.1a2Z", shape);
	parse_bad("", shape);
	parse_bad("yesterday", shape);
}

static void test_rejects_more_than_nine_fraction_digits(void **state)
{
	struct tix_time t;

	(void)state;
	parse_bad("2016-01-01T00:00:00.1234567890Z", "more than 9 fractional digits");
	parse_ok("2016-01-01T00:00:00.123456789Z", &t);
}

static void test_null_and_no_error_struct(void **state)
{
	struct tix_time t;

	(void)state;
	assert_int_equal(tix_time_parse(NULL, &t, NULL), TIX_EPARSE);
	assert_int_equal(tix_time_parse("2016-13-01T00:00:00Z", &t, NULL), TIX_EPARSE);
}

static void test_microseconds_conversion(void **state)
{
	struct tix_time t;
	char out[32];
	const int64_t us = T0 * 1000000 + 123456;

	(void)state;
	tix_time_from_us(us, &t);
	assert_int_equal(t.sec, T0);
	assert_int_equal(t.nsec, 123456000);
	assert_string_equal(tix_time_format(&t, 6, out), "2016-05-12T08:17:27.123456Z");
	assert_int_equal(tix_time_to_us(&t), us);

	/* Nanoseconds below a microsecond are dropped, not rounded. */
	parse_ok("2016-05-12T08:17:27.123456999Z", &t);
	assert_int_equal(tix_time_to_us(&t), us);

	tix_time_from_us(0, &t);
	assert_string_equal(tix_time_format(&t, 6, out), "1970-01-01T00:00:00.000000Z");
}

static void test_before_1970(void **state)
{
	struct tix_time t;
	char out[32];

	(void)state;
	parse_ok("1969-12-31T23:59:59.999Z", &t);
	assert_int_equal(t.sec, -1);
	assert_int_equal(t.nsec, 999000000);
	assert_string_equal(tix_time_format(&t, 3, out), "1969-12-31T23:59:59.999Z");
	assert_int_equal(tix_time_to_us(&t), -1000);

	tix_time_from_us(-1, &t);
	assert_string_equal(tix_time_format(&t, 6, out), "1969-12-31T23:59:59.999999Z");
	assert_int_equal(tix_time_to_us(&t), -1);

	parse_ok("1960-02-29T13:14:15.5Z", &t);
	assert_string_equal(tix_time_format(&t, 1, out), "1960-02-29T13:14:15.5Z");
	parse_ok("1601-01-01T00:00:00Z", &t);
	assert_string_equal(tix_time_format(&t, 0, out), "1601-01-01T00:00:00Z");
	parse_ok("0001-01-01T00:00:00Z", &t);
	assert_string_equal(tix_time_format(&t, 0, out), "0001-01-01T00:00:00Z");
	parse_ok("9999-12-31T23:59:59.999999999Z", &t);
	assert_string_equal(tix_time_canonical(&t, out), "9999-12-31T23:59:59.999999999Z");
}

static void test_format_us(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(tix_time_format_us(1000000LL * 86400 + 123456, 0, out),
	                    "1970-01-02T00:00:00Z");
	assert_string_equal(tix_time_format_us(1000000LL * 86400 + 123456, 3, out),
	                    "1970-01-02T00:00:00.123Z");
	assert_string_equal(tix_time_format_us(-1, 6, out), "1969-12-31T23:59:59.999999Z");
}

static void test_now_is_plausible(void **state)
{
	struct tix_time now, y2020;

	(void)state;
	tix_time_now(&now);
	parse_ok("2020-01-01T00:00:00Z", &y2020);
	assert_int_equal(tix_time_cmp(&now, &y2020), 1);
	assert_in_range(now.nsec, 0, 999999999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_whole_seconds),
	        cmocka_unit_test(test_format_us),
	        cmocka_unit_test(test_millisecond_round_trip),
	        cmocka_unit_test(test_microsecond_round_trip),
	        cmocka_unit_test(test_nanosecond_and_canonical_form),
	        cmocka_unit_test(test_canonical_form_sorts_like_time),
	        cmocka_unit_test(test_compare),
	        cmocka_unit_test(test_leap_years),
	        cmocka_unit_test(test_rejects_out_of_range_fields),
	        cmocka_unit_test(test_rejects_bad_syntax),
	        cmocka_unit_test(test_rejects_more_than_nine_fraction_digits),
	        cmocka_unit_test(test_null_and_no_error_struct),
	        cmocka_unit_test(test_microseconds_conversion),
	        cmocka_unit_test(test_before_1970),
	        cmocka_unit_test(test_now_is_plausible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
