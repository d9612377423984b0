/*
 * Unit tests for values/seen.c (the exact set in bounded memory) and
 * values/idna.c: every repeat is caught and nothing new is taken for a
 * repeat, also across the runs in the temporary file and their merges;
 * IDNs become A-labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "values/idna.h"
#include "values/seen.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 200,000 adds with a table of 500 keys: a third repeat a key of any age,
 * some are small (0 too) and repeat each other; random 64-bit keys are new
 * (a collision among 10^5 of them: about 10^-9). */
static void test_repeats_caught_across_runs(void **state)
{
	enum { N = 200000 };
	uint64_t *added = malloc(N * sizeof(*added));
	unsigned char small_seen[1000] = {0};
	size_t nadded = 0, max_runs = 0;
	struct values_seen *s = values_seen_new(500);

	(void)state;
	assert_non_null(added);
	assert_non_null(s);
	for (size_t i = 0; i < N; i++) {
		uint64_t r = next_rand(), k;
		int want;

		if (nadded && r % 3 == 0) {
			k = added[(r >> 8) % nadded]; /* a repeat */
			want = 0;
		} else if (r % 7 == 1) {
			k = (r >> 20) % 1000;
			want = !small_seen[k];
			small_seen[k] = 1;
		} else {
			k = next_rand() | 1000000; /* never one of the small keys */
			want = 1;
		}
		assert_int_equal(values_seen_add(s, k), want);
		if (want)
			added[nadded++] = k;
		if (values_seen_runs(s) > max_runs)
			max_runs = values_seen_runs(s);
	}
	assert_int_equal(values_seen_count(s), nadded);
	assert_true(max_runs >= 2); /* the file was used, and merged */
	assert_true(max_runs < 16);
	/* every key is still known, the oldest too */
	for (size_t i = 0; i < nadded; i++)
		assert_int_equal(values_seen_add(s, added[i]), 0);
	values_seen_clear(s);
	assert_int_equal(values_seen_count(s), 0);
	assert_int_equal(values_seen_runs(s), 0);
	assert_int_equal(values_seen_add(s, added[0]), 1);
	assert_int_equal(values_seen_add(s, added[0]), 0);
	values_seen_free(s);
	free(added);
}

static void test_hash_is_stable(void **state)
{
	(void)state;
	/* sids derive from it: a change would renumber every deployed rule */
	assert_true(values_seen_hash("a", "b", "c") == values_seen_hash("a", "b", "c"));
	assert_true(values_seen_hash("ab", "", "c") != values_seen_hash("a", "b", "c"));
	assert_true(values_seen_hash(NULL, NULL, NULL) == values_seen_hash("", "", ""));
	/* FNV-1a 64 with a 0xff after each part, computed by hand (python) */
	assert_true(values_seen_hash("indicator--x", "dns.query", "evil.example") ==
	            0xc97612afb3c7b90cull);
}

static void test_idn_to_a_labels(void **state)
{
	char out[254];

	(void)state;
	assert_int_equal(values_domain_ascii("B\xc3\xbc"
	                                     "cher.Example",
	                                     15, out, sizeof(out)),
	                 21);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_true(values_domain_ascii("evil.example.", 13, out, sizeof(out)) > 0);
	assert_string_equal(out, "evil.example");
	assert_int_equal(values_domain_ascii("\xff\xfe.example", 10, out, sizeof(out)), -1);
	assert_int_equal(values_domain_ascii("a b.example", 11, out, sizeof(out)), -1);
	assert_int_equal(values_domain_ascii("evil.example", 12, out, 5), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_repeats_caught_across_runs),
	        cmocka_unit_test(test_hash_is_stable),
	        cmocka_unit_test(test_idn_to_a_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
