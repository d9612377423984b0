/*
 * Unit tests for pattern/atoms.c and pattern/check.c: the atoms a matcher
 * indexes and the "simple" verdict, and the object type and property name
 * checks `tix import` applies (the STIX validator's cases among them).
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

static struct pattern_atoms *atoms_of(const char *text, struct pattern **pp)
{
	struct tix_error err;
	struct pattern *p = pattern_parse(text, strlen(text), PATTERN_V21, &err);
	struct pattern_atoms *a;

	if (p == NULL)
		fail_msg("rejected %s: %s", text, err.msg);
	a = pattern_atoms_extract(p, &err);
	assert_non_null(a);
	*pp = p;
	return a;
}

static int is_simple(const char *text)
{
	struct pattern *p;
	struct pattern_atoms *a = atoms_of(text, &p);
	int s = a->simple;

	pattern_atoms_free(a);
	pattern_free(p);
	return s;
}

static void test_atoms_list_every_comparison(void **state)
{
	struct pattern *p;
	struct pattern_atoms *a;

	(void)state;
	a = atoms_of(
	        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6"
	        "ccdfb0019f' OR file:name IN ('a.exe', 'b.exe')] AND [NOT EXISTS "
	        "domain-name:resolves_to_refs[*].value] FOLLOWEDBY [artifact:payload_bin NOT = "
	        "b'AQID']",
	        &p);
	assert_int_equal(a->count, 5);
	assert_int_equal(a->simple, 0);
	assert_string_equal(a->atoms[0].object_type, "file");
	assert_string_equal(a->atoms[0].path, "hashes.'SHA-256'");
	assert_int_equal(a->atoms[0].op, PATTERN_OP_EQ);
	assert_int_equal(a->atoms[0].kind, PATTERN_LIT_STRING);
	assert_int_equal(a->atoms[0].value_len, 64);
	assert_int_equal(a->atoms[0].plain, 1);
	assert_int_equal(a->atoms[0].observation, 0);
	assert_int_equal(a->atoms[1].op, PATTERN_OP_IN);
	assert_string_equal(a->atoms[1].value, "a.exe");
	assert_string_equal(a->atoms[2].value, "b.exe");
	assert_int_equal(a->atoms[3].op, PATTERN_OP_EXISTS);
	assert_int_equal(a->atoms[3].negated, 1);
	assert_null(a->atoms[3].value);
	assert_int_equal(a->atoms[3].kind, PATTERN_LIT_NONE);
	assert_int_equal(a->atoms[3].plain, 0);
	assert_string_equal(a->atoms[3].path, "resolves_to_refs[*].value");
	assert_int_equal(a->atoms[3].observation, 1);
	assert_int_equal(a->atoms[4].negated, 1);
	assert_int_equal(a->atoms[4].kind, PATTERN_LIT_BINARY);
	assert_string_equal(a->atoms[4].value, "010203");
	assert_int_equal(a->atoms[4].observation, 2);
	assert_string_equal(pattern_op_name(a->atoms[4].op), "=");
	assert_string_equal(pattern_lit_name(a->atoms[4].kind), "binary");
	pattern_atoms_free(a);
	pattern_free(p);
	/* IN () has no member, hence no atom */
	a = atoms_of("[file:name IN ()]", &p);
	assert_int_equal(a->count, 0);
	pattern_atoms_free(a);
	pattern_free(p);
}

static void test_simple_patterns(void **state)
{
	(void)state;
	assert_true(is_simple("[ipv4-addr:value = '198.51.100.1']"));
	assert_true(
	        is_simple("[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'x.example']"));
	assert_true(is_simple("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] OR "
	                      "[file:name IN ('a', 'b')]"));
	assert_true(is_simple("[ipv4-addr:value ISSUBSET '198.51.100.0/24' OR ipv6-addr:value "
	                      "ISSUBSET '2001:db8::/32']"));
	assert_true(is_simple("([url:value = 'http://example.com/'])"));
	/* not decided by one lookup */
	assert_false(is_simple("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:x_y = 1]"));
	assert_false(is_simple("[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']"));
	assert_false(is_simple("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [url:value = 'x']"));
	assert_false(is_simple("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES"));
	assert_false(is_simple("[ipv4-addr:value = '1.2.3.4'] WITHIN 2 SECONDS"));
	assert_false(is_simple("[ipv4-addr:value != '1.2.3.4']"));
	assert_false(is_simple("[ipv4-addr:value NOT = '1.2.3.4']"));
	assert_false(is_simple("[file:size > 5]"));
	assert_false(is_simple("[url:value LIKE 'http%']"));
	assert_false(is_simple("[url:value MATCHES 'x']"));
	assert_false(is_simple("[network-traffic:dst_ref.value = '1.2.3.4']"));
	assert_false(is_simple("[network-traffic:protocols[0] = 'tcp']"));
	assert_false(is_simple("[ipv4-addr:value ISSUBSET 'nonsense']"));
	assert_false(is_simple("[ipv4-addr:value ISSUBSET '2001:db8::/32']"));
	assert_false(is_simple("[file:name ISSUBSET '10.0.0.0/8']"));
	assert_false(is_simple("[EXISTS file:name]"));
}

static enum tix_err check(const char *text, struct tix_buf *warnings, struct tix_error *err)
{
	struct pattern *p = pattern_parse(text, strlen(text), PATTERN_V21, err);
	enum tix_err e;

	if (p == NULL)
		fail_msg("rejected %s: %s", text, err->msg);
	e = pattern_check_names(p, warnings, err);
	pattern_free(p);
	return e;
}

static void test_names_as_the_validator_checks_them(void **state)
{
	struct tix_error err;
	struct tix_buf w;

	(void)state;
	tix_buf_init(&w, TIX_BUF_UNLIMITED);
	/* the STIX validator's own cases (validator_inline_v21 132 to 150) */
	assert_int_equal(pattern_check("[file:hashes.\"SHA-256\" = 'aec0']", NULL, &err),
	                 TIX_EPARSE);
	assert_non_null(strstr(err.msg, "column 14"));
	assert_int_equal(check("[ab:yz = 'something']", NULL, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "'ab' is not a valid observable type name"));
	assert_non_null(strstr(err.msg, "column 2"));
	assert_int_equal(check("[f:name = 'something']", NULL, &err), TIX_EINVAL);
	assert_int_equal(check("[file:n = 'something']", NULL, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "'n' is not a valid observable property name"));
	assert_non_null(strstr(err.msg, "column 7:"));
	assert_int_equal(check("[foo:name = 'something']", &w, &err), TIX_OK);
	assert_non_null(strstr(tix_buf_str(&w), "custom observable type 'foo'"));
	assert_non_null(strstr(tix_buf_str(&w), "custom property 'name' of 'foo'"));
	tix_buf_reset(&w);
	assert_int_equal(check("[x-x-foo:x_x_name = 'something']", &w, &err), TIX_OK);
	assert_int_equal(tix_buf_len(&w), 0);
	assert_int_equal(check("[file:x_x_name = 'something']", &w, &err), TIX_OK);
	assert_int_equal(tix_buf_len(&w), 0);
	/* built-in types with their own and the common properties */
	assert_int_equal(
	        check("[file:name = 'a' AND file:hashes.MD5 = "
	              "'cead3f77f6cda6ec00f57d76c9a6879f' AND file:extensions.'ntfs-ext'.sid"
	              " = 'x' AND file:defanged = false]",
	              &w, &err),
	        TIX_OK);
	assert_int_equal(tix_buf_len(&w), 0);
	assert_int_equal(check("[network-traffic:dst_ref.value = '1.2.3.4' AND "
	                       "windows-registry-key:values[*].name = 'x']",
	                       &w, &err),
	                 TIX_OK);
	assert_int_equal(tix_buf_len(&w), 0);
	/* a well-formed unknown property of a built-in type: a warning only */
	assert_int_equal(check("[file:file_name = 'a']", &w, &err), TIX_OK);
	assert_non_null(strstr(tix_buf_str(&w), "'file_name'"));
	/* names the validator refuses outright */
	assert_int_equal(check("[x_whatever:detected = 1]", NULL, &err), TIX_EINVAL);
	assert_int_equal(check("[File:name = 'a']", NULL, &err), TIX_EINVAL);
	assert_int_equal(check("[x--y:name = 'a']", NULL, &err), TIX_EINVAL);
	assert_int_equal(check("[x-foo:'Name' = 'a']", NULL, &err), TIX_EINVAL);
	assert_int_equal(check("[x-foo:'some-name' = 'a']", NULL, &err), TIX_EINVAL);
	/* the hook for stix_validate: grammar by pattern_version */
	assert_int_equal(
	        pattern_check("[file:name = 'a'] REPEATS 1 TIMES REPEATS 2 TIMES", "2.0", &err),
	        TIX_OK);
	assert_int_equal(
	        pattern_check("[file:name = 'a'] REPEATS 1 TIMES REPEATS 2 TIMES", NULL, &err),
	        TIX_EPARSE);
	assert_int_equal(pattern_check("[file:name = 'a']", "2.1", NULL), TIX_OK);
	assert_int_equal(pattern_check(NULL, NULL, &err), TIX_EINVAL);
	tix_buf_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_atoms_list_every_comparison),
	        cmocka_unit_test(test_simple_patterns),
	        cmocka_unit_test(test_names_as_the_validator_checks_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
