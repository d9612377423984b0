/*
 * Unit tests for core/uuid.c and core/sha1.c: random v4 and name-based v5
 * UUIDs (with the STIX 2.1 deterministic-id example), strict parsing and
 * lowercase formatting, and the SHA-1 test vectors of FIPS 180.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void hex20(const uint8_t d[20], char out[41])
{
	for (int i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_v4_has_version_and_variant(void **state)
{
	struct tix_uuid u;
	char s[37];

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(tix_uuid_v4(&u), TIX_OK);
		assert_int_equal(u.b[6] >> 4, 4);
		assert_int_equal(u.b[8] & 0xC0, 0x80);
		assert_int_equal(tix_uuid_version(&u), 4);
		tix_uuid_format(&u, s);
		assert_int_equal(strlen(s), 36);
		assert_int_equal(s[14], '4');
		assert_non_null(strchr("89ab", s[19]));
	}
}

static void test_two_v4_differ(void **state)
{
	struct tix_uuid a, b;

	(void)state;
	assert_int_equal(tix_uuid_v4(&a), TIX_OK);
	assert_int_equal(tix_uuid_v4(&b), TIX_OK);
	assert_memory_not_equal(a.b, b.b, 16);
}

static void test_v5_stix_example(void **state)
{
	/* STIX 2.1 section 2.9: the ipv4-addr example's deterministic id. */
	static const char name[] = "{\"value\":\"198.51.100.3\"}";
	struct tix_uuid ns, u;
	char s[37];

	(void)state;
	assert_int_equal(tix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", &ns), TIX_OK);
	tix_uuid_v5(&ns, name, strlen(name), &u);
	assert_string_equal(tix_uuid_format(&u, s), "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	assert_int_equal(tix_uuid_version(&u), 5);
}

static void test_v5_is_deterministic_and_name_sensitive(void **state)
{
	struct tix_uuid ns, a, b, c;
	char big[4096];

	(void)state;
	assert_int_equal(tix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", &ns), TIX_OK);
	tix_uuid_v5(&ns, "x", 1, &a);
	tix_uuid_v5(&ns, "x", 1, &b);
	tix_uuid_v5(&ns, "y", 1, &c);
	assert_memory_equal(a.b, b.b, 16);
	assert_memory_not_equal(a.b, c.b, 16);

	/* A name larger than any internal stack buffer still works. */
	memset(big, 'q', sizeof(big));
	tix_uuid_v5(&ns, big, sizeof(big), &a);
	tix_uuid_v5(&ns, big, sizeof(big), &b);
	assert_memory_equal(a.b, b.b, 16);
	assert_int_equal(tix_uuid_version(&a), 5);
}

static void test_format_parse_round_trip(void **state)
{
	struct tix_uuid u, v;
	char s[37];

	(void)state;
	assert_int_equal(tix_uuid_v4(&u), TIX_OK);
	tix_uuid_format(&u, s);
	assert_int_equal(tix_uuid_parse(s, &v), TIX_OK);
	assert_memory_equal(u.b, v.b, 16);
}

static void test_parse_accepts_uppercase_formats_lowercase(void **state)
{
	struct tix_uuid u;
	char s[37];

	(void)state;
	assert_int_equal(tix_uuid_parse("28BB3599-77CD-5A82-A950-B5BC3CAF07C4", &u), TIX_OK);
	assert_string_equal(tix_uuid_format(&u, s), "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	assert_int_equal(u.b[0], 0x28);
	assert_int_equal(u.b[15], 0xc4);
	assert_int_equal(tix_uuid_parse("28bB3599-77Cd-5a82-A950-b5bc3caf07c4", &u), TIX_OK);
}

static void test_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
	        "",
	        "28bb3599-77cd-5a82-a950-b5bc3caf07c",   /* 35 characters */
	        "28bb3599-77cd-5a82-a950-b5bc3caf07c40", /* 37 characters */
	        "28bb3599-77cd-5a82-a950-b5bc3caf07c4 ", /* trailing space */
	        "28bb3599-77cd-5a82-a950-b5bc3caf07g4",  /* non-hex */
	        "z8bb3599-77cd-5a82-a950-b5bc3caf07c4",  /* non-hex first */
	        "28bb359-977cd-5a82-a950-b5bc3caf07c4",  /* hyphen moved left */
	        "28bb35997-7cd-5a82-a950-b5bc3caf07c4",  /* hyphen moved right */
	        "28bb3599-77cd5-a82-a950-b5bc3caf07c4",
	        "28bb3599-77cd-5a82-a950b-5bc3caf07c4",
	        "28bb359977cd5a82a950b5bc3caf07c4", /* no hyphens */
	        "{28bb3599-77cd-5a82-a950-b5bc3caf07c4}",
	        "28bb3599_77cd_5a82_a950_b5bc3caf07c4",
	        "28bb3599-77cd-5a82-a950--5bc3caf07c4",
	};
	struct tix_uuid u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tix_uuid_parse(bad[i], &u) != TIX_EPARSE)
			fail_msg("'%s' was accepted", bad[i]);
}

static void test_version_requires_rfc4122_variant(void **state)
{
	struct tix_uuid u;

	(void)state;
	/* Variant bits 0xx (NCS) and 111 (reserved): no RFC 4122 version. */
	assert_int_equal(tix_uuid_parse("28bb3599-77cd-4a82-0950-b5bc3caf07c4", &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 0);
	assert_int_equal(tix_uuid_parse("28bb3599-77cd-4a82-e950-b5bc3caf07c4", &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 0);
	assert_int_equal(tix_uuid_parse("28bb3599-77cd-1a82-8950-b5bc3caf07c4", &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 1);
}

static void test_random_fills_buffer(void **state)
{
	uint8_t a[64], b[64];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(tix_random(a, sizeof(a)), TIX_OK);
	assert_int_equal(tix_random(b, sizeof(b)), TIX_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(tix_random(a, 0), TIX_OK);
}

static void check_sha1(const void *data, size_t len, const char *want)
{
	uint8_t d[20];
	char hex[41];

	tix_sha1(data, len, d);
	hex20(d, hex);
	assert_string_equal(hex, want);
}

static void test_sha1_vectors(void **state)
{
	(void)state;
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	/* 56 bytes: the padding needs a second block. */
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	           "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_sha1_million_a(void **state)
{
	const size_t n = 1000000;
	char *a = malloc(n);

	(void)state;
	assert_non_null(a);
	memset(a, 'a', n);
	check_sha1(a, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
}

static void test_sha1_block_boundaries(void **state)
{
	/* Lengths around the 64-byte block and 55/56-byte padding edges. */
	static const struct {
		size_t len;
		const char *sha1;
	} v[] = {
	        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
	        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
	        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
	        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
	};
	char buf[65];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_sha1(buf, v[i].len, v[i].sha1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_v4_has_version_and_variant),
	        cmocka_unit_test(test_two_v4_differ),
	        cmocka_unit_test(test_v5_stix_example),
	        cmocka_unit_test(test_v5_is_deterministic_and_name_sensitive),
	        cmocka_unit_test(test_format_parse_round_trip),
	        cmocka_unit_test(test_parse_accepts_uppercase_formats_lowercase),
	        cmocka_unit_test(test_parse_rejects_malformed),
	        cmocka_unit_test(test_version_requires_rfc4122_variant),
	        cmocka_unit_test(test_random_fills_buffer),
	        cmocka_unit_test(test_sha1_vectors),
	        cmocka_unit_test(test_sha1_million_a),
	        cmocka_unit_test(test_sha1_block_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
