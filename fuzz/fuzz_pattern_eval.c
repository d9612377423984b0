/*
 * fuzz/fuzz_pattern_eval.c — libFuzzer target for the pattern evaluator on
 * untrusted observations: the input is a pattern, a NUL byte, then a JSON
 * document of observed-data (bundle, array or object) that is loaded,
 * sealed (references resolved, times checked) and matched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pattern_match_opts opts = {200000, 20000, 1000};
	struct pattern_observations *o = NULL;
	struct pattern_result res;
	struct tix_error err;
	struct pattern *p = NULL;
	const uint8_t *nul = memchr(data, '\0', size);
	json_t *doc = NULL;

	if (nul == NULL)
		return 0;
	p = pattern_parse((const char *)data, (size_t)(nul - data), PATTERN_V21, &err);
	if (p == NULL)
		return 0;
	doc = json_loadb((const char *)nul + 1, size - (size_t)(nul - data) - 1,
	                 JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL)
		goto out;
	if ((o = pattern_observations_new()) == NULL)
		goto out;
	if (pattern_observations_add(o, doc, &err) != TIX_OK ||
	    pattern_observations_seal(o, &err) != TIX_OK)
		goto out;
	if (pattern_match(p, o, &opts, &res, &err) == TIX_OK) {
		if (res.matched && pattern_observations_count(o) == 0)
			abort(); /* a match needs an observation */
		pattern_result_release(&res);
	}
out:
	pattern_observations_free(o);
	json_decref(doc);
	pattern_free(p);
	return 0;
}
