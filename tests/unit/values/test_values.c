/*
 * Unit tests for values/extract.c: the values an object carries (pattern
 * atoms, SCO values, hashes, URLs and their hosts, addresses and ranges) in
 * the one normal form the matcher uses too; refusals of malformed values;
 * what a user's query text is taken for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values/values.h"

struct got {
	char text[16][300];
	enum values_kind kind[16];
	size_t n, refused;
};

static int on_value(void *arg, const struct values_item *v)
{
	struct got *g = arg;

	if (g->n < 16) {
		assert_true(values_format(v, g->text[g->n], sizeof(g->text[0])) > 0);
		g->kind[g->n++] = v->kind;
	}
	return 0;
}

static void on_refused(void *arg, const char *what, const char *why)
{
	struct got *g = arg;

	assert_non_null(what);
	assert_non_null(why);
	g->refused++;
}

static struct got extract(const char *json)
{
	struct got g;
	struct values_sink sink = {on_value, on_refused, &g};
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);

	memset(&g, 0, sizeof(g));
	assert_non_null(o);
	values_from_object(o, &sink);
	json_decref(o);
	return g;
}

static void test_pattern_atoms_normalised(void **state)
{
	struct got g = extract(
	        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
	        "\"[domain-name:value = 'Evil.EXAMPLE.'] OR [url:value = 'HTTP://Evil.example:80/a?b']"
	        " OR [file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']"
	        " OR [ipv4-addr:value ISSUBSET '198.51.100.77/24']"
	        " OR [email-addr:value IN ('Bob@Example.COM')]\"}");

	(void)state;
	assert_int_equal(g.n, 6); /* the URL gives its host too */
	assert_string_equal(g.text[0], "evil.example");
	assert_int_equal(g.kind[0], VALUES_DOMAIN);
	assert_string_equal(g.text[1], "http://evil.example/a?b");
	assert_string_equal(g.text[2], "evil.example");
	assert_int_equal(g.kind[2], VALUES_DOMAIN);
	assert_string_equal(g.text[3], "d41d8cd98f00b204e9800998ecf8427e");
	assert_string_equal(g.text[4], "198.51.100.0/24"); /* masked to its prefix */
	assert_string_equal(g.text[5], "bob@example.com");
	assert_int_equal(g.refused, 0);
}

static void test_negated_and_unindexable_atoms_give_nothing(void **state)
{
	struct got g = extract("{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
	                       "\"[domain-name:value != 'a.example'] OR [file:name = 'x.exe']"
	                       " OR [domain-name:value LIKE '%.b.example']\"}");

	(void)state;
	assert_int_equal(g.n, 0); /* a suffix is the matcher's only */
	g = extract("{\"type\":\"indicator\",\"pattern_type\":\"sigma\",\"pattern\":\"x\"}");
	assert_int_equal(g.n, 0);
}

static void test_scos_and_hosts(void **state)
{
	struct got g;

	(void)state;
	g = extract("{\"type\":\"ipv6-addr\",\"value\":\"2001:DB8::1\"}");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "2001:db8::1");
	g = extract("{\"type\":\"url\",\"value\":\"https://user@[2001:db8::2]:8443/p\"}");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.text[1], "2001:db8::2");
	g = extract("{\"type\":\"file\",\"hashes\":{\"SHA-256\":"
	            "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
	            "\"MD5\":\"abc\"}}");
	assert_int_equal(g.n, 1);
	assert_int_equal(g.refused, 1); /* a hash of the wrong length */
	g = extract("{\"type\":\"observed-data\",\"objects\":{\"0\":{\"type\":\"domain-name\","
	            "\"value\":\"Obs.Example\"}}}");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.text[0], "obs.example");
}

static void test_malformed_values_refused(void **state)
{
	char big[5000];
	char json[5200];
	struct got g;

	(void)state;
	g = extract("{\"type\":\"ipv4-addr\",\"value\":\"300.1.2.3\"}");
	assert_int_equal(g.n, 0);
	assert_int_equal(g.refused, 1);
	g = extract("{\"type\":\"ipv4-addr\",\"value\":\"2001:db8::1\"}"); /* not of its type */
	assert_int_equal(g.refused, 1);
	g = extract("{\"type\":\"domain-name\",\"value\":\"no spaces.example\"}");
	assert_int_equal(g.refused, 1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"type\":\"url\",\"value\":\"http://x.example/%s\"}", big);
	g = extract(json);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.refused, 1); /* absurd length */
}

/* The dotted quad the matcher reads in logs: four octets 0..255 of one to
 * three digits, nothing before or after; what is refused stays refused. */
static void test_ip4_octets(void **state)
{
	static const char *const bad[] = {
	        "",          "1.2.3",     "1.2.3.4.5",  "1..2.3",     ".1.2.3",     "1.2.3.",
	        "256.1.1.1", "1.2.3.256", "1.2.3.999",  "0001.2.3.4", "1.2.3.0001", "1.2.3.4x",
	        "1.2.3.-4",  "1.2.3.4 ",  "1.2.3.4/24", "a.b.c.d",    "1.2.3.4."};
	uint32_t a = 0;

	(void)state;
	assert_int_equal(values_parse_ip4("1.2.3.4", 7, &a), 0);
	assert_int_equal(a, 0x01020304u);
	assert_int_equal(values_parse_ip4("255.255.255.255", 15, &a), 0);
	assert_int_equal(a, 0xffffffffu);
	assert_int_equal(values_parse_ip4("010.000.0.00", 12, &a), 0); /* leading zeros: decimal */
	assert_int_equal(a, 0x0a000000u);
	assert_int_equal(values_parse_ip4("10.1.2.34:80", 9, &a),
	                 0); /* the length given, no more */
	assert_int_equal(a, 0x0a010222u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = 7;
		assert_int_equal(values_parse_ip4(bad[i], strlen(bad[i]), &a), -1);
		assert_int_equal(a, 7); /* untouched */
	}
}

static void test_classify_what_a_user_asks(void **state)
{
	struct values_item v;
	char buf[VALUES_MAX_LEN + 64], text[300];
	const char *why;

	(void)state;
	assert_int_equal(values_classify("10.1.2.3", 8, &v, buf, sizeof(buf), &why), 0);
	assert_int_equal(v.kind, VALUES_IP);
	assert_int_equal(v.plen, 32);
	assert_int_equal(values_classify("10.1.2.3/8", 10, &v, buf, sizeof(buf), &why), 0);
	values_format(&v, text, sizeof(text));
	assert_string_equal(text, "10.0.0.0/8");
	assert_int_equal(values_classify("WWW.Example.com", 15, &v, buf, sizeof(buf), &why), 0);
	assert_int_equal(v.kind, VALUES_DOMAIN);
	assert_int_equal(values_classify("a@b.example", 11, &v, buf, sizeof(buf), &why), 0);
	assert_int_equal(v.kind, VALUES_EMAIL);
	assert_int_equal(values_classify("da39a3ee5e6b4b0d3255bfef95601890afd80709", 40, &v, buf,
	                                 sizeof(buf), &why),
	                 0);
	assert_int_equal(v.kind, VALUES_HASH);
	assert_int_equal(v.len, 20);
	assert_int_equal(values_classify("GREEN", 5, &v, buf, sizeof(buf), &why), -1);
	assert_non_null(why);
	assert_int_equal(values_classify("' OR 1=1 --", 11, &v, buf, sizeof(buf), &why), -1);
	assert_int_equal(values_classify("", 0, &v, buf, sizeof(buf), &why), -1);
}

static void test_keys_differ_by_kind(void **state)
{
	struct values_item a = {0}, b = {0};

	(void)state;
	a.kind = VALUES_DOMAIN;
	b.kind = VALUES_URL;
	a.bytes = b.bytes = (const unsigned char *)"x.example";
	a.len = b.len = 9;
	assert_true(values_key(&a) != values_key(&b));
	b.kind = VALUES_DOMAIN;
	assert_true(values_key(&a) == values_key(&b));
}

static void test_decay_against_hand_computed_values(void **state)
{
	struct values_decay_rule ip = {30, 2.0}, dom = {90, 1.0}, hash = {365, 0.5};
	struct values_decay_model m;

	(void)state;
	/* 80 x (1 - (7.5/30)^(1/2)) = 80 x (1 - 0.5) = 40 */
	assert_float_equal(values_decay_score(&ip, 80, 7.5), 40.0, 1e-9);
	/* 50 x (1 - 45/90) = 25 */
	assert_float_equal(values_decay_score(&dom, 50, 45), 25.0, 1e-9);
	/* 100 x (1 - (182.5/365)^2) = 75 */
	assert_float_equal(values_decay_score(&hash, 100, 182.5), 75.0, 1e-9);
	assert_float_equal(values_decay_score(&dom, 50, 0), 50.0, 1e-9);  /* fresh: the base */
	assert_float_equal(values_decay_score(&dom, 50, -3), 50.0, 1e-9); /* ahead of now */
	assert_float_equal(values_decay_score(&dom, 50, 90), 0.0, 1e-9);  /* its lifetime over */
	assert_float_equal(values_decay_score(&dom, 50, 400), 0.0, 1e-9);
	assert_float_equal(values_decay_score(&dom, 0, 1), 0.0, 1e-9);
	values_decay_defaults(&m);
	assert_float_equal(m.rule[VALUES_IP].lifetime_days, 30, 1e-9);
	assert_float_equal(m.rule[VALUES_HASH].speed, 0.5, 1e-9);
	assert_float_equal(m.floor, 20, 1e-9);
	assert_int_equal(m.default_confidence, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pattern_atoms_normalised),
	        cmocka_unit_test(test_negated_and_unindexable_atoms_give_nothing),
	        cmocka_unit_test(test_scos_and_hosts),
	        cmocka_unit_test(test_malformed_values_refused),
	        cmocka_unit_test(test_ip4_octets),
	        cmocka_unit_test(test_classify_what_a_user_asks),
	        cmocka_unit_test(test_keys_differ_by_kind),
	        cmocka_unit_test(test_decay_against_hand_computed_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
