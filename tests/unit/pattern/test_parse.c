/*
 * Unit tests for pattern/lexer.c, parse.c and print.c: the whole grammar is
 * accepted, constants decode as the spec says, every kind of bad input is
 * rejected with the column and what was expected, the limits hold, and the
 * canonical text parses back to itself.
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

static struct pattern *parse_v(const char *text, enum pattern_version v, struct tix_error *err)
{
	tix_error_clear(err);
	return pattern_parse(text, strlen(text), v, err);
}

#define ACCEPT(text)              accept_(text, PATTERN_V21, __LINE__)
#define ACCEPT_V(text, v)         accept_(text, v, __LINE__)
#define REJECT(text, col, s)      reject_(text, PATTERN_V21, col, s, __LINE__)
#define REJECT_V(text, v, col, s) reject_(text, v, col, s, __LINE__)

static void accept_(const char *text, enum pattern_version v, int line)
{
	struct tix_error err;
	struct pattern *p = parse_v(text, v, &err);

	if (p == NULL)
		fail_msg("line %d: rejected %s: %s", line, text, err.msg);
	pattern_free(p);
}

/* Rejected, at (1-based) column col, with a message containing needle. */
static void reject_(const char *text, enum pattern_version v, unsigned col, const char *needle,
                    int line)
{
	struct tix_error err;
	struct pattern *p = parse_v(text, v, &err);
	unsigned l, c;

	if (p != NULL) {
		pattern_free(p);
		fail_msg("line %d: accepted %s", line, text);
	}
	if (col) {
		if (pattern_error_pos(&err, &l, &c) != 0)
			fail_msg("line %d: no position in '%s'", line, err.msg);
		if (c != col)
			fail_msg("line %d: column %u, expected %u: %s", line, c, col, err.msg);
	}
	if (needle && strstr(err.msg, needle) == NULL)
		fail_msg("line %d: '%s' not in '%s'", line, needle, err.msg);
}

static char *format(const char *text, enum pattern_version v)
{
	struct tix_error err;
	struct pattern *p = parse_v(text, v, &err);
	struct tix_buf b;

	if (p == NULL)
		fail_msg("rejected %s: %s", text, err.msg);
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(pattern_format(p, &b), TIX_OK);
	pattern_free(p);
	return tix_buf_detach(&b, NULL);
}

/* The only atom of a one-comparison pattern. */
static void one_atom(const char *text, enum pattern_lit kind, const char *value, size_t len)
{
	struct tix_error err;
	struct pattern *p = parse_v(text, PATTERN_V21, &err);
	struct pattern_atoms *a;

	if (p == NULL)
		fail_msg("rejected %s: %s", text, err.msg);
	a = pattern_atoms_extract(p, &err);
	assert_non_null(a);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->atoms[0].kind, kind);
	assert_int_equal(a->atoms[0].value_len, len);
	assert_memory_equal(a->atoms[0].value, value, len);
	pattern_atoms_free(a);
	pattern_free(p);
}

static void test_grammar_accepted(void **state)
{
	(void)state;
	ACCEPT("[file:size = 1]");
	ACCEPT("[file:size == 1]");
	ACCEPT("[file:size != 1 AND file:size <> 2]");
	ACCEPT("[file:size < 1 OR file:size <= 2 OR file:size > 3 OR file:size >= 4]");
	ACCEPT("[file:name NOT = 'a' AND file:size NOT > 3]");
	ACCEPT("[file:name IN ('a', 'b') AND file:size NOT IN (1, 2) AND file:x_y IN ()]");
	ACCEPT("[file:name LIKE 'a%_' AND file:name NOT MATCHES '^a.*$']");
	ACCEPT("[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR ipv6-addr:value NOT ISSUPERSET '::1']");
	ACCEPT("[EXISTS file:name AND NOT EXISTS file:size]");
	ACCEPT("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]");
	ACCEPT("[network-traffic:protocols[0] = 'tcp' AND network-traffic:protocols[-1] = 'x']");
	ACCEPT("[email-message:from_ref.value = 'a@example.com']");
	ACCEPT("[domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24']");
	ACCEPT("[file:'name' = 'a']");
	ACCEPT("[x-usb-device:usbdrive.serial_number = '575833']");
	ACCEPT("[a:b = true] AND [a:b = false] OR [a:c = -1.5] FOLLOWEDBY [a:d = .5]");
	ACCEPT("[a:b = +5] AND [a:b = -0] AND [a:b = 0] AND [a:b = 007.5]");
	ACCEPT("[a:b = h''] AND [a:b = h'00fF'] AND [a:b = b'AQID'] AND [a:b = b'AQ==']");
	ACCEPT("[a:b > t'2016-01-01T00:00:00Z'] AND [a:b < t'2016-01-01T00:00:00.123456789123Z']");
	ACCEPT("[a:b = 1] WITHIN 5 SECONDS");
	ACCEPT("[a:b = 1] WITHIN 0.5 SECONDS");
	ACCEPT("[a:b = 1] REPEATS 10000 TIMES");
	ACCEPT("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'");
	ACCEPT("[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS START t'2016-01-01T00:00:00Z' STOP "
	       "t'2017-01-01T00:00:00Z'");
	ACCEPT("(([a:b = 1] AND [a:c = 2]) OR [a:d = 3]) REPEATS 2 TIMES");
	ACCEPT("[((a:b = 1) AND (a:c = 2 OR a:d = 3))]");
	/* white space of every kind, and comments */
	ACCEPT("\t[ a:b\n=\r\n1 ]\xe3\x80\x80"
	       "AND\xc2\xa0"
	       "[a:c = 2]");
	ACCEPT("/* lead */ [a:b = 1] // trailing\n");
	ACCEPT("[a:b = 'it\\'s a \\\\ path, [not] AND a keyword']");
	ACCEPT("[a:b = 'caf\xc3\xa9 \xe2\x82\xac']");
	ACCEPT("[a:b MATCHES'^x']");
}

static void test_constants_decode(void **state)
{
	(void)state;
	one_atom("[a:b = 'it\\'s \\\\']", PATTERN_LIT_STRING, "it's \\", 6);
	one_atom("[a:b = h'00fF']", PATTERN_LIT_HEX, "00ff", 4);
	one_atom("[a:b = b'AQID']", PATTERN_LIT_BINARY, "010203", 6);
	one_atom("[a:b = b'AQ==']", PATTERN_LIT_BINARY, "01", 2);
	/* line feeds in base64 are ignored (section 9.2) */
	one_atom("[a:b = b'AQ\nID']", PATTERN_LIT_BINARY, "010203", 6);
	one_atom("[a:b = +42]", PATTERN_LIT_INT, "42", 2);
	one_atom("[a:b = -42]", PATTERN_LIT_INT, "-42", 3);
	one_atom("[a:b = 2.50]", PATTERN_LIT_FLOAT, "2.50", 4);
	one_atom("[a:b = true]", PATTERN_LIT_BOOL, "true", 4);
	one_atom("[a:b = t'2016-02-30T00:00:00Z']", PATTERN_LIT_TIMESTAMP, "2016-02-30T00:00:00Z",
	         20);
	one_atom("[a:b = '']", PATTERN_LIT_STRING, "", 0);
}

static void test_syntax_errors_point_at_the_column(void **state)
{
	(void)state;
	REJECT("", 1, "empty");
	REJECT("  \n ", 1, "empty");
	REJECT("file:size = 1280", 1, "expected '[' or '('");
	REJECT("[file:size = ]", 14, "expected a constant after '=', found ']'");
	REJECT("[file.size = 1]", 6, "expected ':' after the object type 'file'");
	REJECT("[file:hashes.MD5 = cead3f]", 20, "found 'cead3f'");
	REJECT("[file:name = 'a'", 17, "expected AND, OR or ']'");
	REJECT("[file:name = 'a']]", 18, "the end of the pattern");
	REJECT("[file:name = 'a'] and [a:b = 1]", 19, "keywords are written in capitals");
	REJECT("[a:b = 1] WITHIN 5 MINUTES", 20, "expected SECONDS");
	REJECT("[a:b = 1] WITHIN -5 SECONDS", 18, "positive number of seconds");
	REJECT("[a:b = 1] WITHIN 0 SECONDS", 18, "positive");
	REJECT("[a:b = 1] REPEATS 0 TIMES", 19, "1 to 10000");
	REJECT("[a:b = 1] REPEATS 1.5 TIMES", 19, "positive integer");
	REJECT("[a:b = 1] START '2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'", 17,
	       "a timestamp");
	REJECT("[a:b < true]", 8, "boolean has no order");
	REJECT("[a:b LIKE 5]", 11, "a string constant after LIKE");
	REJECT("[a:b IN 'x']", 9, "'(' and a list of constants");
	REJECT("[a:b IN ('x' 'y')]", 14, "',' or ')'");
	REJECT("[NOT a:b = 1]", 6, "EXISTS after NOT");
	REJECT("[a:b-c = 1]", 4, "must be quoted");
	REJECT("[a:b.c-d = 1]", 6, "must be quoted");
	REJECT("[a:b[x] = 1]", 6, "a list index or '*'");
	REJECT("[a:b =? 1]", 7, "found '?'");
	REJECT("[a:b = 1] OR", 13, "found the end of the pattern");
	REJECT("[AND:b = 1]", 2, "an object path");
	REJECT("[a:true = 1]", 4, "a property name");
	REJECT("[a:b = 1]\n  AND [c]", 0, "line 2, column 9: expected ':'");
}

static void test_bad_constants(void **state)
{
	(void)state;
	REJECT("[a:b = 'abc]", 8, "unterminated string");
	REJECT("[a:b = 'a\\nb']", 10, "is not an escape");
	REJECT("[a:b = h'abc']", 8, "even number");
	REJECT("[a:b = h'zz']", 8, "'z' is not a hex digit");
	REJECT("[a:b = h'00", 8, "unterminated hex");
	REJECT("[a:b = b'====']", 8, "not a binary constant");
	REJECT("[a:b = b'']", 8, "empty");
	REJECT("[a:b = b'AAA']", 8, "groups of four");
	REJECT("[a:b = b'AA=A']", 8, "'=' may only pad the end");
	REJECT("[a:b = b'A*AA']", 8, "not base64");
	REJECT("[a:b = t'2016-13-01T00:00:00Z']", 8, "month must be 01 to 12");
	REJECT("[a:b = t'2016-01-32T00:00:00Z']", 8, "day must be 01 to 31");
	REJECT("[a:b = t'2016-01-01T24:00:00Z']", 8, "hour must be 00 to 23");
	REJECT("[a:b = t'2016-01-01T00:60:00Z']", 8, "minute");
	REJECT("[a:b = t'2016-01-01T00:00:61Z']", 8, "second");
	REJECT("[a:b = t'2016-01-01T00:00:00']", 8, "the form is");
	REJECT("[a:b = t'2016-01-01T00:00:00.5']", 8, "end with Z");
	REJECT("[a:b = t'2016-01-01T00:00:00.Z']", 8, "followed by digits");
	REJECT("[a:b = t'2016-01-01 00:00:00Z']", 8, "the form is");
	REJECT("[a:b = t'2016-01-01T00:00:00Z", 8, "unterminated timestamp");
	REJECT("[a:b = 99999999999999999999]", 8, "out of range");
	REJECT("[a:b = 012]", 8, "leading zeros");
	REJECT("[a:b MATCHES '(ab']", 14, "does not compile");
	REJECT("[a:b MATCHES 'a{2,1}']", 14, "does not compile");
	REJECT("[file:hashes.'SHA-256' = 'f00']", 26, "not a valid SHA-256 hash");
	REJECT("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'x')]", 58,
	       "not a valid MD5 hash");
	REJECT("[file:hashes.SSDEEP = 'a b']", 23, "SSDEEP");
	/* LIKE and MATCHES on hashes are not held to the hash's form */
	ACCEPT("[file:hashes.MD5 LIKE 'cead%']");
	ACCEPT("[file:hashes.'SHA-1' = '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed']");
	ACCEPT("[file:hashes.'x-custom' = 'anything']");
}

static void test_bad_bytes(void **state)
{
	static const char nul[] = "[a:b = 'x\0y']";
	struct tix_error err;

	(void)state;
	REJECT("[a:b = '\xff']", 9, "not valid UTF-8");
	REJECT("[a:b = '\xc0\xaf']", 9, "not valid UTF-8");     /* overlong */
	REJECT("[a:b = '\xed\xa0\x80']", 9, "not valid UTF-8"); /* surrogate */
	REJECT("[a:b \xe2\x82\xac 1]", 6, "found '\xe2\x82\xac'");
	assert_null(pattern_parse(nul, sizeof(nul) - 1, PATTERN_V21, &err));
	assert_non_null(strstr(err.msg, "NUL"));
	assert_null(pattern_parse(NULL, 0, PATTERN_V21, &err));
	assert_null(pattern_parse("[a:b = 1]", 4, PATTERN_V21, NULL)); /* no error struct */
}

static void test_versions_differ(void **state)
{
	(void)state;
	/* STIX 2.1 allows one qualifier of a kind on a bracketed expression */
	REJECT("[a:b = 1] REPEATS 1 TIMES REPEATS 2 TIMES", 27, "a second REPEATS");
	REJECT("[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS", 28, "a second WITHIN");
	REJECT("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z' START "
	       "t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
	       70, "a second START/STOP");
	ACCEPT("([a:b = 1]) WITHIN 1 SECONDS WITHIN 2 SECONDS");
	ACCEPT("([a:b = 1] REPEATS 2 TIMES) REPEATS 3 TIMES");
	ACCEPT_V("[a:b = 1] REPEATS 1 TIMES REPEATS 2 TIMES", PATTERN_V20);
	/* EXISTS is 2.1 only */
	REJECT_V("[EXISTS a:b]", PATTERN_V20, 9, "expected ':'");
	ACCEPT_V("[a:EXISTS = 1]", PATTERN_V20);
	REJECT("[a:EXISTS = 1]", 4, "a property name");
	/* 2.0 also reads START/STOP timestamps written as strings */
	ACCEPT_V("[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'", PATTERN_V20);
	REJECT_V("[a:b = 1] START 'yesterday' STOP '2017-01-01T00:00:00Z'", PATTERN_V20, 17,
	         "not a timestamp");
	assert_int_equal(pattern_version_from_string("2.0"), PATTERN_V20);
	assert_int_equal(pattern_version_from_string("2.1"), PATTERN_V21);
	assert_int_equal(pattern_version_from_string(NULL), PATTERN_V21);
	assert_int_equal(pattern_version_from_string("3.0"), PATTERN_V21);
}

static char *repeat(const char *a, int n, const char *mid, const char *b)
{
	size_t la = strlen(a), lm = strlen(mid), lb = strlen(b);
	char *s = malloc(la * (size_t)n + lm + lb * (size_t)n + 1), *q = s;

	for (int i = 0; i < n; i++, q += la)
		memcpy(q, a, la);
	memcpy(q, mid, lm);
	q += lm;
	for (int i = 0; i < n; i++, q += lb)
		memcpy(q, b, lb);
	*q = '\0';
	return s;
}

static void test_limits(void **state)
{
	struct tix_error err;
	char *s;
	size_t n;
	struct pattern *p;

	(void)state;
	/* 63 parentheses around a bracket: 64 levels, the most allowed */
	s = repeat("(", 63, "[a:b = 1]", ")");
	ACCEPT(s);
	free(s);
	s = repeat("(", 64, "[a:b = 1]", ")");
	assert_null(parse_v(s, PATTERN_V21, &err));
	assert_int_equal(err.code, TIX_ETOOBIG);
	assert_non_null(strstr(err.msg, "nested deeper than 64"));
	free(s);
	s = repeat("(", 100000, "[a:b = 1]", ")"); /* no stack overflow */
	assert_null(parse_v(s, PATTERN_V21, &err));
	assert_int_equal(err.code, TIX_ETOOBIG);
	free(s);
	s = repeat("(", 100000, "", ""); /* inside brackets too */
	{
		size_t tn = strlen(s) + 16;
		char *t = malloc(tn);

		snprintf(t, tn, "[%sa:b = 1", s);
		assert_null(parse_v(t, PATTERN_V21, &err));
		assert_int_equal(err.code, TIX_ETOOBIG);
		free(t);
	}
	free(s);
	/* stacked qualifiers count as nesting (2.0 allows stacking them) */
	{
		struct tix_buf b;

		tix_buf_init(&b, TIX_BUF_UNLIMITED);
		tix_buf_adds(&b, "[a:b = 1]");
		for (int i = 0; i < 70; i++)
			tix_buf_adds(&b, " REPEATS 1 TIMES");
		assert_null(parse_v(tix_buf_str(&b), PATTERN_V20, &err));
		assert_int_equal(err.code, TIX_ETOOBIG);
		tix_buf_release(&b);
	}
	/* a long flat disjunction is fine */
	s = repeat("[a:b = 'x'] OR ", 20000, "[a:b = 'y']", "");
	ACCEPT(s);
	free(s);
	/* a long path is not */
	s = repeat(".c", 64, "", "");
	{
		size_t tn = strlen(s) + 32;
		char *t = malloc(tn);

		snprintf(t, tn, "[a:b%s = 1]", s);
		assert_null(parse_v(t, PATTERN_V21, &err));
		assert_int_equal(err.code, TIX_ETOOBIG);
		snprintf(t, tn, "[a:b%s = 1]", s + 2);
		ACCEPT(t);
		free(t);
	}
	free(s);
	/* the length limit */
	n = PATTERN_MAX_LEN + 1;
	s = malloc(n + 1);
	memset(s, ' ', n);
	memcpy(s, "[a:b = 1]", 9);
	s[n] = '\0';
	assert_null(pattern_parse(s, n, PATTERN_V21, &err));
	assert_int_equal(err.code, TIX_ETOOBIG);
	assert_non_null(p = pattern_parse(s, n - 1, PATTERN_V21, &err));
	pattern_free(p);
	free(s);
	REJECT("[a:b = 1] REPEATS 10001 TIMES", 19, "1 to 10000");
	assert_int_equal(err.code, TIX_ETOOBIG);
}

static void test_canonical_text_round_trips(void **state)
{
	static const char *const cases[][2] = {
	        {"[a:b=1]", "[a:b = 1]"},
	        {"[a:b==+1 AND a:c<>'x']", "[a:b = 1 AND a:c != 'x']"},
	        {"[ a:b NOT IN(1,2) ]", "[a:b NOT IN (1, 2)]"},
	        {"[NOT EXISTS a:b]", "[NOT EXISTS a:b]"},
	        {"([a:b=1]AND[a:c=2])WITHIN +5.0 SECONDS",
	         "([a:b = 1] AND [a:c = 2]) WITHIN 5.0 SECONDS"},
	        {"[a:'b'.'c-d'[*][0].e = 'it\\'s']", "[a:'b'.'c-d'[*][0].e = 'it\\'s']"},
	        {"[(a:b = 1 OR a:c = 2) AND a:d = 3]", "[(a:b = 1 OR a:c = 2) AND a:d = 3]"},
	        {"(([a:b = 1]))", "(([a:b = 1]))"},
	        {"[a:b = 1] FOLLOWEDBY ([a:c = 1] FOLLOWEDBY [a:d = 1])",
	         "[a:b = 1] FOLLOWEDBY ([a:c = 1] FOLLOWEDBY [a:d = 1])"},
	        {"[a:b = 1] /* c */ REPEATS 2 TIMES START t'2016-01-01T00:00:00Z' STOP "
	         "t'2016-01-02T00:00:00Z'",
	         "[a:b = 1] REPEATS 2 TIMES START t'2016-01-01T00:00:00Z' STOP "
	         "t'2016-01-02T00:00:00Z'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *once = format(cases[i][0], PATTERN_V21);
		char *twice = format(once, PATTERN_V21);

		assert_string_equal(once, cases[i][1]);
		assert_string_equal(twice, once);
		free(once);
		free(twice);
	}
}

static void test_explain_shows_the_tree(void **state)
{
	struct tix_error err;
	struct pattern *p;
	struct tix_buf b;

	(void)state;
	p = parse_v("([a:b = 1 OR a:c > 2] AND [a:d IN (h'ff', true)]) WITHIN 9 SECONDS",
	            PATTERN_V21, &err);
	assert_non_null(p);
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	assert_int_equal(pattern_explain(p, &b), TIX_OK);
	assert_non_null(strstr(tix_buf_str(&b), "2 observation expressions"));
	assert_non_null(strstr(tix_buf_str(&b), "  WITHIN 9 SECONDS\n    AND"));
	assert_non_null(strstr(tix_buf_str(&b), "h'ff' (hex, 1 octet)"));
	assert_non_null(strstr(tix_buf_str(&b), ">: object a, path c, value 2 (integer)"));
	tix_buf_release(&b);
	/* a full buffer is reported, not overrun */
	tix_buf_init(&b, 10);
	assert_int_equal(pattern_explain(p, &b), TIX_ETOOBIG);
	assert_int_equal(pattern_format(p, &b), TIX_ETOOBIG);
	tix_buf_release(&b);
	pattern_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_grammar_accepted),
	        cmocka_unit_test(test_constants_decode),
	        cmocka_unit_test(test_syntax_errors_point_at_the_column),
	        cmocka_unit_test(test_bad_constants),
	        cmocka_unit_test(test_bad_bytes),
	        cmocka_unit_test(test_versions_differ),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_canonical_text_round_trips),
	        cmocka_unit_test(test_explain_shows_the_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
