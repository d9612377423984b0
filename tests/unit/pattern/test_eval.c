/*
 * Unit tests for pattern/eval.c: every operator and constant kind, paths and
 * references, the same-object rule, observation operators and qualifiers over
 * first/last_observed and number_observed, 2.0 and 2.1 observed data, and the
 * limits that keep a hostile pattern from running long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

/* An observed-data with embedded (2.0 style) objects. */
#define OD(id, first, last, n, objects)                                                            \
	"{\"type\": \"observed-data\", \"id\": \"observed-data--" id                               \
	"\", \"first_observed\": \"" first "\", \"last_observed\": \"" last                        \
	"\", \"number_observed\": " #n ", \"objects\": " objects "}"

#define T0 "2020-01-01T00:00:00Z"

static const char file_obs[] = "[" OD(
        "1", T0, T0, 1,
        "{\"0\": {\"type\": \"file\", \"name\": \"evil.exe\", \"size\": 1024,"
        " \"x_ratio\": 1.5, \"x_flag\": true, \"mime_type\": \"text/plain\","
        " \"hashes\": {\"MD5\": \"cead3f77f6cda6ec00f57d76c9a6879f\","
        " \"SHA-256\": \"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f\"},"
        " \"magic_number_hex\": \"ffD8\", \"created\": \"2014-01-13T07:03:17.5Z\","
        " \"x_words\": [\"alpha\", \"beta\", \"gamma\"], \"x_text\": \"line1\\nline2\","
        " \"x_unicode\": \"caf\\u00e9 \\u20ac\", \"x_nested\": {\"a\": [{\"b\": 7}]}},"
        " \"1\": {\"type\": \"artifact\", \"payload_bin\": \"dGhpcyBpcyBhIHRlc3Q=\"},"
        " \"2\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.7\"},"
        " \"3\": {\"type\": \"ipv6-addr\", \"value\": \"2001:db8::1\"},"
        " \"4\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.0/27\"}}") "]";

static struct pattern_observations *observations(const char *json)
{
	struct pattern_observations *o = pattern_observations_new();
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);
	struct tix_error err;

	if (doc == NULL)
		fail_msg("bad fixture JSON: %s at %d", jerr.text, jerr.column);
	assert_non_null(o);
	assert_int_equal(pattern_observations_add(o, doc, &err), TIX_OK);
	assert_int_equal(pattern_observations_seal(o, &err), TIX_OK);
	json_decref(doc);
	return o;
}

/* 1 when text matches the observations, 0 when not; fails the test on a
 * parse error or when the evaluation gave up. */
static int matches_v(const char *text, const char *json, enum pattern_version v,
                     struct pattern_result *keep)
{
	struct pattern_observations *o = observations(json);
	struct pattern_result res;
	struct tix_error err;
	struct pattern *p = pattern_parse(text, strlen(text), v, &err);
	int m;

	if (p == NULL)
		fail_msg("rejected %s: %s", text, err.msg);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_OK);
	if (res.gave_up)
		fail_msg("gave up on %s", text);
	m = res.matched;
	if (keep)
		*keep = res;
	else
		pattern_result_release(&res);
	pattern_free(p);
	pattern_observations_free(o);
	return m;
}

#define MATCH(text, json)   assert_int_equal(matches_v(text, json, PATTERN_V21, NULL), 1)
#define NOMATCH(text, json) assert_int_equal(matches_v(text, json, PATTERN_V21, NULL), 0)

static void test_equality_and_order(void **state)
{
	(void)state;
	MATCH("[file:name = 'evil.exe']", file_obs);
	NOMATCH("[file:name = 'Evil.exe']", file_obs);
	MATCH("[file:name != 'good.exe']", file_obs);
	NOMATCH("[file:name != 'evil.exe']", file_obs);
	MATCH("[file:name NOT = 'good.exe']", file_obs);
	MATCH("[file:size = 1024]", file_obs);
	MATCH("[file:size = 1024.0]", file_obs);
	NOMATCH("[file:x_ratio = 1]", file_obs); /* 1.5 is not 1 (section 9.2) */
	MATCH("[file:x_ratio > 1 AND file:x_ratio < 2 AND file:x_ratio >= 1.5]", file_obs);
	MATCH("[file:size > 1023 AND file:size >= 1024 AND file:size <= 1024 AND file:size < 1025]",
	      file_obs);
	NOMATCH("[file:size > 1024]", file_obs);
	MATCH("[file:size NOT > 1024]", file_obs);
	MATCH("[file:x_flag = true]", file_obs);
	NOMATCH("[file:x_flag = false]", file_obs);
	/* strings order by code point, longer after its prefix (section 9.6.2) */
	MATCH("[file:name > 'evil' AND file:name < 'evil.exf' AND file:name < 'f']", file_obs);
	MATCH("[file:x_unicode > 'cafe' AND file:x_unicode < 'caf\xc3\xb2']", file_obs);
}

static void test_incomparable_types(void **state)
{
	(void)state;
	/* a string constant against an integer: false, but != is true */
	NOMATCH("[file:size = '1024']", file_obs);
	MATCH("[file:size != '1024']", file_obs);
	NOMATCH("[file:size < '2000']", file_obs);
	NOMATCH("[file:name = 5]", file_obs);
	NOMATCH("[file:x_nested = 1]", file_obs);
	MATCH("[file:x_nested != 1]", file_obs);
	NOMATCH("[file:x_flag = 1]", file_obs);
}

static void test_absent_properties_are_false(void **state)
{
	(void)state;
	NOMATCH("[file:x_missing = 'a']", file_obs);
	NOMATCH("[file:x_missing != 'a']", file_obs);
	NOMATCH("[file:x_missing NOT = 'a']", file_obs);
	NOMATCH("[file:x_missing NOT IN ('a')]", file_obs);
	NOMATCH("[directory:path = 'x']", file_obs);
	MATCH("[EXISTS file:name]", file_obs);
	NOMATCH("[EXISTS file:x_missing]", file_obs);
	MATCH("[NOT EXISTS file:x_missing]", file_obs);
	NOMATCH("[NOT EXISTS file:name]", file_obs);
	NOMATCH("[NOT EXISTS directory:path]", file_obs); /* no directory at all */
	MATCH("[EXISTS file:hashes.MD5 AND EXISTS file:x_words[2]]", file_obs);
	NOMATCH("[EXISTS file:x_words[3]]", file_obs);
}

static void test_in_like_matches(void **state)
{
	(void)state;
	MATCH("[file:name IN ('a', 'evil.exe')]", file_obs);
	NOMATCH("[file:name IN ('a', 'b')]", file_obs);
	NOMATCH("[file:name IN ()]", file_obs);
	MATCH("[file:name NOT IN ('a', 'b')]", file_obs);
	MATCH("[file:size IN (1, 1024.0, 'x')]", file_obs);
	MATCH("[file:name LIKE 'evil%']", file_obs);
	MATCH("[file:name LIKE '%.exe']", file_obs);
	MATCH("[file:name LIKE 'e_il.%']", file_obs);
	MATCH("[file:name LIKE '%%i%e%']", file_obs);
	NOMATCH("[file:name LIKE 'evil']", file_obs); /* LIKE matches the whole value */
	NOMATCH("[file:name LIKE 'EVIL%']", file_obs);
	MATCH("[file:x_unicode LIKE 'caf_ _']", file_obs); /* '_' is one character */
	NOMATCH("[file:x_unicode LIKE 'caf__ _']", file_obs);
	MATCH("[file:name MATCHES 'vil']", file_obs); /* a search, not a full match */
	MATCH("[file:name MATCHES '^evil\\\\.exe$']", file_obs);
	NOMATCH("[file:name MATCHES '^vil']", file_obs);
	MATCH("[file:x_text MATCHES 'line1.line2']", file_obs); /* DOTALL */
	MATCH("[file:x_unicode MATCHES '^caf. .$']", file_obs); /* code points */
	MATCH("[file:x_unicode MATCHES '^\\\\w+ ']", file_obs); /* Unicode \w */
	NOMATCH("[file:size MATCHES '1024']", file_obs);        /* not a string */
	MATCH("[file:name NOT MATCHES '^x']", file_obs);
	/* NFC (9.6): x_unicode holds a precomposed é; a decomposed one (e and
	 * U+0301) in the pattern matches it under LIKE and MATCHES, not under = */
	MATCH("[file:x_unicode LIKE 'cafe\xcc\x81 %']", file_obs);
	MATCH("[file:x_unicode MATCHES '^cafe\xcc\x81 ']", file_obs);
	MATCH("[file:x_unicode LIKE 'caf_ %']", file_obs); /* one character after NFC */
	NOMATCH("[file:x_unicode = 'cafe\xcc\x81 \xe2\x82\xac']", file_obs);
}

static void test_binary_hex_and_strings(void **state)
{
	(void)state;
	/* section 9.6.4's own example */
	NOMATCH("[artifact:payload_bin = 'dGhpcyBpcyBhIHRlc3Q=']", file_obs);
	MATCH("[artifact:payload_bin = 'this is a test']", file_obs);
	MATCH("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", file_obs);
	MATCH("[artifact:payload_bin = h'7468697320697320612074657374']", file_obs);
	MATCH("[artifact:payload_bin > 'this is a tesa' AND artifact:payload_bin < 'this is a "
	      "test!']",
	      file_obs);
	/* a code point above U+00FF cannot be an octet: false, but != is true */
	NOMATCH("[artifact:payload_bin = 'this \xe2\x82\xac a test']", file_obs);
	MATCH("[artifact:payload_bin != 'this \xe2\x82\xac a test']", file_obs);
	MATCH("[artifact:payload_bin MATCHES '^this\\\\x20is']", file_obs);
	MATCH("[artifact:payload_bin LIKE '%'] OR [file:name = 'evil.exe']", file_obs);
	/* LIKE on _bin/_hex compares octets, as = and MATCHES do (issue 14) */
	MATCH("[artifact:payload_bin LIKE '%']", file_obs);
	MATCH("[artifact:payload_bin LIKE 'this is a%']", file_obs);
	MATCH("[artifact:payload_bin LIKE 'this_is_a_test']", file_obs);
	NOMATCH("[artifact:payload_bin LIKE 'this is']", file_obs);
	NOMATCH("[artifact:payload_bin LIKE '%\xe2\x82\xac%']", file_obs); /* above U+00FF */
	MATCH("[file:magic_number_hex LIKE '\xc3\xbf_']", file_obs);       /* U+00FF, 0xd8 */
	NOMATCH("[file:magic_number_hex LIKE '\xc3\xbf']", file_obs);
	/* _hex properties are octets, in any case of digits */
	MATCH("[file:magic_number_hex = h'ffd8']", file_obs);
	MATCH("[file:magic_number_hex = b'/9g=']", file_obs);
	NOMATCH("[file:magic_number_hex = h'ffd9']", file_obs);
	MATCH("[file:magic_number_hex < h'ffd9' AND file:magic_number_hex > h'ff']", file_obs);
	/* a hex constant against a string property compares its code points */
	MATCH("[file:mime_type = h'746578742f706c61696e']", file_obs);
}

static void test_timestamps(void **state)
{
	(void)state;
	MATCH("[file:created = t'2014-01-13T07:03:17.500Z']", file_obs);
	MATCH("[file:created > t'2014-01-13T07:03:17Z' AND file:created < t'2014-01-13T07:03:18Z']",
	      file_obs);
	NOMATCH("[file:created = t'2014-01-13T07:03:17Z']", file_obs);
	NOMATCH("[file:name > t'2014-01-13T07:03:17Z']", file_obs); /* not a timestamp */
	/* as a string it is compared as a string */
	NOMATCH("[file:created = '2014-01-13T07:03:17.500Z']", file_obs);
	MATCH("[file:created = '2014-01-13T07:03:17.5Z']", file_obs);
}

static void test_cidr(void **state)
{
	(void)state;
	MATCH("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", file_obs);
	MATCH("[ipv4-addr:value ISSUBSET '198.51.100.7']", file_obs); /* identical */
	MATCH("[ipv4-addr:value ISSUBSET '198.51.100.7/32']", file_obs);
	NOMATCH("[ipv4-addr:value = '198.51.100.0/27' AND ipv4-addr:value ISSUBSET "
	        "'198.51.100.0/28']",
	        file_obs);
	MATCH("[ipv4-addr:value = '198.51.100.0/27' AND ipv4-addr:value ISSUBSET "
	      "'198.51.100.0/24']",
	      file_obs);
	MATCH("[ipv4-addr:value ISSUPERSET '198.51.100.16/28']", file_obs);
	MATCH("[ipv4-addr:value ISSUBSET '0.0.0.0/0']", file_obs);
	NOMATCH("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", file_obs);
	NOMATCH("[ipv4-addr:value ISSUBSET '::/0']", file_obs); /* another family */
	NOMATCH("[ipv4-addr:value ISSUBSET 'not an address']", file_obs);
	NOMATCH("[ipv4-addr:value ISSUBSET '198.51.100.0/33']", file_obs);
	MATCH("[ipv6-addr:value ISSUBSET '2001:db8::/32']", file_obs);
	MATCH("[ipv6-addr:value ISSUBSET '2001:0db8:0000:0000:0000:0000:0000:0000/64']", file_obs);
	NOMATCH("[ipv6-addr:value ISSUBSET '2001:db9::/32']", file_obs);
	MATCH("[ipv6-addr:value NOT ISSUBSET '2001:db9::/32']", file_obs);
	MATCH("[ipv6-addr:value ISSUPERSET '2001:db8::1/128']", file_obs);
}

static void test_paths(void **state)
{
	(void)state;
	MATCH("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", file_obs);
	MATCH("[file:hashes.'SHA-256' = "
	      "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
	      file_obs);
	MATCH("[file:hashes[*] = 'cead3f77f6cda6ec00f57d76c9a6879f']", file_obs);
	MATCH("[file:x_words[0] = 'alpha' AND file:x_words[2] = 'gamma']", file_obs);
	NOMATCH("[file:x_words[1] = 'alpha']", file_obs);
	NOMATCH("[file:x_words[3] = 'alpha']", file_obs);
	NOMATCH("[file:x_words[-1] = 'gamma']", file_obs);
	MATCH("[file:x_words[*] = 'beta']", file_obs);
	/* NOT negates the whole comparison: no word is 'beta' */
	NOMATCH("[file:x_words[*] NOT = 'beta']", file_obs);
	MATCH("[file:x_words[*] != 'beta']", file_obs); /* some word is not 'beta' */
	MATCH("[file:x_nested.a[0].b = 7 AND file:x_nested.a[*].b > 6]", file_obs);
	NOMATCH("[file:x_nested.a.b = 7]", file_obs); /* a list needs an index */
	NOMATCH("[file:name.x = 'a']", file_obs);
}

static const char refs21[] =
        "{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": ["
        " {\"type\": \"observed-data\", \"id\": \"observed-data--a\", \"first_observed\": \"" T0
        "\", \"last_observed\": \"" T0 "\", \"number_observed\": 1, \"object_refs\": ["
        "  \"network-traffic--1\", \"ipv4-addr--1\", \"domain-name--1\", \"ipv4-addr--2\","
        "  \"email-message--1\"]},"
        " {\"type\": \"network-traffic\", \"id\": \"network-traffic--1\","
        "  \"src_ref\": \"ipv4-addr--1\", \"dst_ref\": \"ipv4-addr--2\", \"dst_port\": 443},"
        " {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--1\", \"value\": \"203.0.113.10\"},"
        " {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--2\", \"value\": \"198.51.100.58\"},"
        " {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--3\", \"value\": \"192.0.2.1\"},"
        " {\"type\": \"domain-name\", \"id\": \"domain-name--1\", \"value\": \"example.com\","
        "  \"resolves_to_refs\": [\"ipv4-addr--2\", \"ipv4-addr--3\"]},"
        " {\"type\": \"email-message\", \"id\": \"email-message--1\", \"is_multipart\": false,"
        "  \"from_ref\": \"ipv4-addr--3\"}"
        "]}";

/* Section 9.5's example: both addresses in one observation, but not
 * referenced from one network-traffic. */
static const char split21[] =
        "[" OD("b", T0, T0, 1,
               "{\"0\": {\"type\": \"network-traffic\", \"src_ref\": \"1\"},"
               " \"1\": {\"type\": \"ipv4-addr\", \"value\": \"203.0.113.10\"},"
               " \"2\": {\"type\": \"network-traffic\", \"dst_ref\": \"3\"},"
               " \"3\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.58\"}}") "]";

static void test_references(void **state)
{
	(void)state;
	MATCH("[network-traffic:src_ref.value = '203.0.113.10' AND network-traffic:dst_ref.value "
	      "= '198.51.100.58']",
	      refs21);
	MATCH("[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']", refs21);
	MATCH("[network-traffic:src_ref = 'ipv4-addr--1']", refs21); /* the reference itself */
	MATCH("[domain-name:resolves_to_refs[0].value = '198.51.100.58']", refs21);
	MATCH("[domain-name:resolves_to_refs[*].value = '198.51.100.58']", refs21);
	/* ipv4-addr--3 is not in object_refs: it cannot be followed (9.7.4) */
	NOMATCH("[domain-name:resolves_to_refs[*].value = '192.0.2.1']", refs21);
	NOMATCH("[email-message:from_ref.value = '192.0.2.1']", refs21);
	NOMATCH("[ipv4-addr:value = '192.0.2.1']", refs21);
	MATCH("[network-traffic:src_ref.value = '203.0.113.10']", split21);
	NOMATCH("[network-traffic:src_ref.value = '203.0.113.10' AND network-traffic:dst_ref.value "
	        "= '198.51.100.58']",
	        split21);
	MATCH("[network-traffic:src_ref.value = '203.0.113.10'] AND [network-traffic:dst_ref.value "
	      "= '198.51.100.58']",
	      "[" OD("b", T0, T0, 2,
	             "{\"0\": {\"type\": \"network-traffic\", \"src_ref\": \"1\"},"
	             " \"1\": {\"type\": \"ipv4-addr\", \"value\": \"203.0.113.10\"},"
	             " \"2\": {\"type\": \"network-traffic\", \"dst_ref\": \"3\"},"
	             " \"3\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.58\"}}") "]");
}

static void test_one_object_per_observation_expression(void **state)
{
	(void)state;
	/* AND of two types in one [ ] needs one object of both: never */
	NOMATCH("[file:name = 'evil.exe' AND ipv4-addr:value = '198.51.100.7']", file_obs);
	MATCH("[file:name = 'nothing' OR ipv4-addr:value = '198.51.100.7']", file_obs);
	MATCH("[(file:name = 'evil.exe' AND file:size = 1024) OR ipv4-addr:value = 'x']", file_obs);
	NOMATCH("[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '198.51.100.0/27']",
	        file_obs);
}

/* Three observations a minute apart; the second was seen twice. */
static const char timeline[] =
        "[" OD("1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1, "{\"0\": {\"type\": \"x-ev\", \"name\": \"a\"}}") "," OD(
                "2", "2020-01-01T00:01:00Z", "2020-01-01T00:01:00Z", 2,
                "{\"0\": {\"type\": \"x-ev\", \"name\": \"b\"}}") "," OD("3",
                                                                         "2020-01-01T00:02:00Z",
                                                                         "2020-01-01T00:02:30Z", 1,
                                                                         "{\"0\": {\"type\": \"x-ev\", \"name\": \"c\"}}") "]";

static void test_observation_operators(void **state)
{
	struct pattern_result res;

	(void)state;
	MATCH("[x-ev:name = 'a'] AND [x-ev:name = 'c']", timeline);
	MATCH("[x-ev:name = 'c'] AND [x-ev:name = 'a']", timeline);
	NOMATCH("[x-ev:name = 'a'] AND [x-ev:name = 'z']", timeline);
	MATCH("[x-ev:name = 'a'] OR [x-ev:name = 'z']", timeline);
	NOMATCH("[x-ev:name = 'y'] OR [x-ev:name = 'z']", timeline);
	/* AND binds different observations: a single 'a' cannot do twice */
	NOMATCH("[x-ev:name = 'a'] AND [x-ev:name = 'a']", timeline);
	/* ...but 'b' was observed twice (number_observed 2) */
	MATCH("[x-ev:name = 'b'] AND [x-ev:name = 'b']", timeline);
	MATCH("[x-ev:name = 'a'] FOLLOWEDBY [x-ev:name = 'b'] FOLLOWEDBY [x-ev:name = 'c']",
	      timeline);
	NOMATCH("[x-ev:name = 'b'] FOLLOWEDBY [x-ev:name = 'a']", timeline);
	NOMATCH("[x-ev:name = 'a'] FOLLOWEDBY [x-ev:name = 'c'] FOLLOWEDBY [x-ev:name = 'b']",
	        timeline);
	/* at the same time counts as following (>=) */
	MATCH("[x-ev:name = 'b'] FOLLOWEDBY [x-ev:name = 'b']", timeline);
	/* which observed-data each expression was matched with */
	assert_int_equal(
	        matches_v("[x-ev:name = 'c'] AND [x-ev:name = 'a']", timeline, PATTERN_V21, &res),
	        1);
	assert_int_equal(res.nbindings, 2);
	assert_int_equal(res.bindings[0].observation, 0);
	assert_int_equal(res.bindings[0].index, 2);
	assert_int_equal(res.bindings[1].observation, 1);
	assert_int_equal(res.bindings[1].index, 0);
	pattern_result_release(&res);
}

static void test_qualifiers(void **state)
{
	(void)state;
	/* WITHIN: the latest minus the earliest must be under the window */
	NOMATCH("([x-ev:name = 'a'] AND [x-ev:name = 'b']) WITHIN 60 SECONDS", timeline);
	MATCH("([x-ev:name = 'a'] AND [x-ev:name = 'b']) WITHIN 60.000000001 SECONDS", timeline);
	MATCH("([x-ev:name = 'a'] AND [x-ev:name = 'b']) WITHIN 61 SECONDS", timeline);
	NOMATCH("([x-ev:name = 'a'] AND [x-ev:name = 'c']) WITHIN 119 SECONDS", timeline);
	MATCH("([x-ev:name = 'a'] AND [x-ev:name = 'c']) WITHIN 121 SECONDS", timeline);
	/* an observation spanning a window may be taken at any instant of it */
	MATCH("([x-ev:name = 'b'] AND [x-ev:name = 'c']) WITHIN 60.5 SECONDS", timeline);
	/* REPEATS counts observations, number_observed included */
	MATCH("[x-ev:name = 'b'] REPEATS 2 TIMES", timeline);
	NOMATCH("[x-ev:name = 'b'] REPEATS 3 TIMES", timeline);
	MATCH("[x-ev:name = 'a' OR x-ev:name = 'b'] REPEATS 3 TIMES", timeline);
	MATCH("[x-ev:name LIKE '_'] REPEATS 4 TIMES", timeline);
	NOMATCH("[x-ev:name LIKE '_'] REPEATS 5 TIMES", timeline);
	NOMATCH("[x-ev:name LIKE '_'] REPEATS 4 TIMES WITHIN 120 SECONDS", timeline);
	MATCH("[x-ev:name LIKE '_'] REPEATS 4 TIMES WITHIN 121 SECONDS", timeline);
	MATCH("[x-ev:name LIKE '_'] REPEATS 3 TIMES WITHIN 61 SECONDS", timeline);
	/* section 9.5.2: the REPEATS binds only the expression before it */
	MATCH("[x-ev:name = 'a'] FOLLOWEDBY [x-ev:name = 'b'] REPEATS 2 TIMES", timeline);
	NOMATCH("([x-ev:name = 'a'] FOLLOWEDBY [x-ev:name = 'b']) REPEATS 2 TIMES", timeline);
	MATCH("([x-ev:name = 'a' OR x-ev:name = 'b'] FOLLOWEDBY [x-ev:name = 'b' OR x-ev:name = "
	      "'c']) REPEATS 2 TIMES",
	      timeline);
	/* START/STOP: some instant of the observation is >= START and < STOP */
	MATCH("[x-ev:name = 'a'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:01Z'",
	      timeline);
	NOMATCH("[x-ev:name = 'a'] START t'2019-12-31T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
	        timeline);
	MATCH("[x-ev:name = 'c'] START t'2020-01-01T00:02:30Z' STOP t'2020-01-01T00:03:00Z'",
	      timeline);
	NOMATCH("[x-ev:name = 'c'] START t'2020-01-01T00:02:31Z' STOP t'2020-01-01T00:03:00Z'",
	        timeline);
	NOMATCH("[x-ev:name = 'a'] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
	        timeline);
	MATCH("([x-ev:name = 'a'] AND [x-ev:name = 'b']) START t'2020-01-01T00:00:00Z' STOP "
	      "t'2020-01-01T00:01:01Z'",
	      timeline);
	NOMATCH("([x-ev:name = 'a'] AND [x-ev:name = 'c']) START t'2020-01-01T00:00:00Z' STOP "
	        "t'2020-01-01T00:01:01Z'",
	        timeline);
	/* qualifiers nest */
	MATCH("(([x-ev:name = 'a'] AND [x-ev:name = 'b']) WITHIN 61 SECONDS) REPEATS 1 TIMES",
	      timeline);
	NOMATCH("([x-ev:name = 'b'] WITHIN 1 SECONDS) REPEATS 3 TIMES", timeline);
}

static void test_versions_of_input(void **state)
{
	struct pattern_observations *o;
	struct tix_error err;
	json_t *doc;

	(void)state;
	/* a JSON array of bundles, and 2.0 embedded references by key */
	MATCH("[network-traffic:src_ref.value = '203.0.113.10']",
	      "[{\"type\": \"bundle\", \"id\": \"bundle--x\", \"objects\": []}, {\"type\": "
	      "\"bundle\", \"id\": \"bundle--y\", \"objects\": [" OD(
	              "c", T0, T0, 1,
	              "{\"0\": {\"type\": \"network-traffic\", \"src_ref\": \"1\"}, \"1\": {\"type\": "
	              "\"ipv4-addr\", \"value\": \"203.0.113.10\"}}") "]}]");
	assert_int_equal(
	        matches_v("[a-b:c = 1] START '2019-01-01T00:00:00Z' STOP "
	                  "'2021-01-01T00:00:00Z'",
	                  "[" OD("d", T0, T0, 1, "{\"0\": {\"type\": \"a-b\", \"c\": 1}}") "]",
	                  PATTERN_V20, NULL),
	        1);
	/* bad observed-data is an error naming it */
	o = pattern_observations_new();
	doc = json_loads("[" OD("e", T0, "2019-01-01T00:00:00Z", 1, "{}") "]", 0, NULL);
	assert_int_equal(pattern_observations_add(o, doc, &err), TIX_OK);
	assert_int_equal(pattern_observations_seal(o, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "before first_observed"));
	assert_string_equal(err.where, "observed-data--e");
	json_decref(doc);
	pattern_observations_free(o);
	o = pattern_observations_new();
	doc = json_loads("[" OD("f", T0, T0, 0, "{}") "]", 0, NULL);
	assert_int_equal(pattern_observations_add(o, doc, &err), TIX_OK);
	assert_int_equal(pattern_observations_seal(o, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "number_observed"));
	json_decref(doc);
	pattern_observations_free(o);
	o = pattern_observations_new();
	doc = json_loads("[1]", 0, NULL);
	assert_int_equal(pattern_observations_add(o, doc, &err), TIX_EINVAL);
	json_decref(doc);
	pattern_observations_free(o);
	/* nothing observed: nothing matches */
	NOMATCH("[a:b = 1]", "[]");
	NOMATCH("[NOT EXISTS a:b]", "[]");
}

static void test_hostile_patterns_stay_bounded(void **state)
{
	struct pattern_observations *o;
	struct pattern_match_opts opts = {0, 0, 0};
	struct pattern_result res;
	struct tix_error err;
	struct pattern *p;
	struct tix_buf b;
	const char *text;

	(void)state;
	/* catastrophic backtracking stops at the PCRE2 limit and does not match */
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	tix_buf_adds(&b, "[{\"type\": \"observed-data\", \"id\": \"observed-data--g\","
	                 " \"first_observed\": \"" T0 "\", \"last_observed\": \"" T0 "\","
	                 " \"number_observed\": 1, \"objects\": {\"0\": {\"type\": \"x-s\","
	                 " \"v\": \"");
	for (int i = 0; i < 5000; i++)
		tix_buf_addc(&b, 'a');
	tix_buf_adds(&b, "!\"}}}]");
	o = observations(tix_buf_str(&b));
	text = "[x-s:v MATCHES '^(a+)+$']";
	p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	assert_non_null(p);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_OK);
	assert_int_equal(res.matched, 0);
	assert_true(res.regex_limit_hits >= 1);
	pattern_result_release(&res);
	pattern_free(p);
	/* a combinatorial search runs out of its budget and says so */
	text = "([x-s:v LIKE '%'] REPEATS 30 TIMES AND [x-s:v = 'z']) WITHIN 1 SECONDS";
	p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	assert_non_null(p);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_OK);
	assert_int_equal(res.matched, 0);
	pattern_result_release(&res);
	pattern_free(p);
	pattern_observations_free(o);
	tix_buf_release(&b);

	/* many observations, an impossible combination: the budget ends it */
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	tix_buf_addc(&b, '[');
	for (int i = 0; i < 60; i++) {
		tix_buf_addf(&b,
		             "%s{\"type\": \"observed-data\", \"id\": \"observed-data--%d\","
		             " \"first_observed\": \"2020-01-01T00:00:%02dZ\", \"last_observed\":"
		             " \"2020-01-01T00:00:%02dZ\", \"number_observed\": 1, \"objects\":"
		             " {\"0\": {\"type\": \"x-s\", \"v\": %d}}}",
		             i ? "," : "", i, i, i, i);
	}
	tix_buf_addc(&b, ']');
	o = observations(tix_buf_str(&b));
	text = "([x-s:v >= 0] REPEATS 12 TIMES AND [x-s:v > 0] REPEATS 12 TIMES) WITHIN 20 SECONDS";
	p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	assert_non_null(p);
	opts.max_steps = 100000;
	assert_int_equal(pattern_match(p, o, &opts, &res, &err), TIX_OK);
	assert_int_equal(res.matched, 0);
	assert_int_equal(res.gave_up, 1);
	pattern_result_release(&res);
	pattern_free(p);
	/* too many observations for one match: not searched, reported */
	text = "([x-s:v >= 0] REPEATS 100 TIMES) REPEATS 100 TIMES";
	p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	assert_non_null(p);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_OK);
	assert_int_equal(res.gave_up, 1);
	pattern_result_release(&res);
	pattern_free(p);
	/* but a plain repeat over a big number_observed is quick */
	pattern_observations_free(o);
	tix_buf_release(&b);
	o = observations(
	        "[" OD("h", T0, T0, 999999999, "{\"0\": {\"type\": \"x-s\", \"v\": 1}}") "]");
	text = "[x-s:v = 1] REPEATS 1000 TIMES";
	p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_OK);
	assert_int_equal(res.matched, 1);
	assert_int_equal(res.nbindings, 1000);
	pattern_result_release(&res);
	pattern_free(p);
	/* unsealed observations are refused */
	pattern_observations_free(o);
	o = pattern_observations_new();
	p = pattern_parse("[a:b = 1]", 9, PATTERN_V21, &err);
	assert_int_equal(pattern_match(p, o, NULL, &res, &err), TIX_EINVAL);
	pattern_free(p);
	pattern_observations_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_equality_and_order),
	        cmocka_unit_test(test_incomparable_types),
	        cmocka_unit_test(test_absent_properties_are_false),
	        cmocka_unit_test(test_in_like_matches),
	        cmocka_unit_test(test_binary_hex_and_strings),
	        cmocka_unit_test(test_timestamps),
	        cmocka_unit_test(test_cidr),
	        cmocka_unit_test(test_paths),
	        cmocka_unit_test(test_references),
	        cmocka_unit_test(test_one_object_per_observation_expression),
	        cmocka_unit_test(test_observation_operators),
	        cmocka_unit_test(test_qualifiers),
	        cmocka_unit_test(test_versions_of_input),
	        cmocka_unit_test(test_hostile_patterns_stay_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
