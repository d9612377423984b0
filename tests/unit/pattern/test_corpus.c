/*
 * Unit test over the shared corpus of the OASIS pattern validator's cases
 * (corpora/patterns/validity.jsonl): every STIX 2.1 pattern, and every 2.0
 * one under the 2.0 grammar, is accepted or rejected as marked, and a
 * rejection points at the column the validator names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pattern/pattern.h"

#ifndef TIX_SHARED_DIR
#define TIX_SHARED_DIR "../shared"
#endif

static void run_corpus(const char *want_version)
{
	const char *dir = getenv("TIX_SHARED") ? getenv("TIX_SHARED") : TIX_SHARED_DIR;
	char path[4096], line[65536];
	size_t rows = 0, agree = 0, columns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/corpora/patterns/validity.jsonl", dir);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (set TIX_SHARED to the shared directory)", path);
	while (fgets(line, sizeof(line), f)) {
		json_error_t jerr;
		json_t *row = json_loads(line, 0, &jerr);
		const char *pattern, *version, *prefix;
		struct tix_error err;
		struct pattern *p;
		int valid;
		unsigned l, c, want_col;

		assert_non_null(row);
		pattern = json_string_value(json_object_get(row, "pattern"));
		version = json_string_value(json_object_get(row, "stix_version"));
		valid = json_is_true(json_object_get(row, "valid"));
		prefix = json_string_value(json_object_get(row, "error_prefix"));
		if (strcmp(version, want_version) != 0) {
			json_decref(row);
			continue;
		}
		rows++;
		tix_error_clear(&err);
		p = pattern_parse(pattern, strlen(pattern), pattern_version_from_string(version),
		                  &err);
		if ((p != NULL) == valid) {
			agree++;
		} else {
			print_error("disagree (%s, expected %s): %s\n  tix: %s\n", version,
			            valid ? "valid" : "invalid", pattern, p ? "valid" : err.msg);
		}
		/* "FAIL: Error found at line 1:19. ..." names a 0-based column. */
		if (!valid && p == NULL && prefix &&
		    // NOLINTNEXTLINE(cert-err34-c): the corpus's fixed text
		    sscanf(prefix, "FAIL: Error found at line 1:%u.", &want_col) == 1) {
			assert_int_equal(pattern_error_pos(&err, &l, &c), 0);
			if (c - 1 == want_col)
				columns++;
			else
				print_error("column %u, the validator says %u: %s\n  tix: %s\n",
				            c - 1, want_col, pattern, err.msg);
			assert_int_equal(c - 1, want_col);
		}
		pattern_free(p);
		json_decref(row);
	}
	fclose(f);
	print_message("STIX %s: %zu of %zu corpus patterns agree (%zu error columns checked)\n",
	              want_version, agree, rows, columns);
	assert_true(rows > 0);
	assert_int_equal(agree, rows);
}

static void test_corpus_v21(void **state)
{
	(void)state;
	run_corpus("2.1");
}

static void test_corpus_v20(void **state)
{
	(void)state;
	run_corpus("2.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_corpus_v21),
	        cmocka_unit_test(test_corpus_v20),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
