/*
 * Unit tests for match/logtime.c: the time each kind of log line says it
 * was written, against values computed by hand (UTC µs since the epoch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "match/match.h"

/* 2026-10-10T13:55:36-07:00 */
#define T_COMBINED 1791665736000000LL
/* 2026-10-11T22:14:15Z */
#define T_SYSLOG 1791756855000000LL
/* 2026-03-01T12:00:00.123Z */
#define T_ISO 1772366400123000LL
/* 2026-11-01T00:00:00Z, "now" for syslog's missing year */
#define NOW 1793491200000000LL

static int64_t at(const char *line)
{
	return match_log_time(line, strlen(line), NOW);
}

static void test_nginx_and_apache_combined(void **state)
{
	(void)state;
	assert_int_equal(at("203.0.113.9 - frank [10/Oct/2026:13:55:36 -0700] \"GET /a HTTP/1.1\" "
	                    "200 2326 \"-\" \"curl/8\""),
	                 T_COMBINED);
	assert_int_equal(
	        at("203.0.113.9 - - [12/Oct/2026:05:14:15 +0700] \"GET / HTTP/1.0\" 200 1"),
	        T_SYSLOG);
	assert_int_equal(at("x [99/Foo/2026:13:55:36 -0700] y"), 0); /* not a date */
}

static void test_syslog_both_rfcs(void **state)
{
	(void)state;
	assert_int_equal(at("Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick"),
	                 T_SYSLOG);
	assert_int_equal(at("<34>Oct 11 22:14:15 mymachine su: failed"), T_SYSLOG);
	assert_int_equal(at("Oct  1 00:00:00 host x"), 1790812800000000LL); /* space-padded day */
	/* December seen in early January: last year's */
	assert_int_equal(match_log_time("Dec 31 23:59:59 h x", 19, 1767312000000000LL),
	                 1767225599000000LL);
	assert_int_equal(at("<165>1 2026-03-01T12:00:00.123Z host app - - - msg"), T_ISO);
}

static void test_iso_8601_at_the_start(void **state)
{
	(void)state;
	assert_int_equal(at("2026-03-01T12:00:00.123Z GET evil.example"), T_ISO);
	assert_int_equal(at("2026-03-01 12:00:00,123 WARN blocked 198.51.100.7"), T_ISO);
	assert_int_equal(at("2026-03-01T14:00:00+02:00 x"), 1772366400000000LL);
	assert_int_equal(at("2026-13-01T14:00:00Z x"), 0);
}

static void test_suricata_and_zeek(void **state)
{
	(void)state;
	assert_int_equal(at("{\"timestamp\":\"2026-03-01T12:00:00.123000+0000\",\"event_type\":"
	                    "\"dns\",\"dns\":{\"rrname\":\"evil.example\"}}"),
	                 T_ISO);
	assert_int_equal(at("{\"ts\":1700000000.123456,\"uid\":\"C1\",\"query\":\"evil.example\"}"),
	                 1700000000123456LL);
	assert_int_equal(at("{\"ts\":\"2026-03-01T12:00:00.123Z\",\"query\":\"x\"}"), T_ISO);
	assert_int_equal(match_epoch_time("1700000000.123456\tC1\t10.0.0.1", 31),
	                 1700000000123456LL);
	assert_int_equal(match_epoch_time("-", 1), 0);
	assert_int_equal(at("{\"query\":\"evil.example\"}"), 0); /* none: the scan time is used */
	assert_int_equal(at("GET evil.example"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_nginx_and_apache_combined),
	        cmocka_unit_test(test_syslog_both_rfcs),
	        cmocka_unit_test(test_iso_8601_at_the_start),
	        cmocka_unit_test(test_suricata_and_zeek),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
