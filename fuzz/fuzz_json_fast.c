/*
 * fuzz/fuzz_json_fast.c — differential libFuzzer target for the import's fast
 * JSON object parser (src/stix/json.c, stix__json_fast_object): whatever it
 * accepts, jansson (the reference it stands in for) must accept with the same
 * length and an equal value; it may decline anything, and jansson then decides.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "stix/stix.h"
#include "stix/stix_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int depth = (int)(size % 7) + 1; /* shallow limits too */
	size_t used = 0;
	int compact = 0;
	json_error_t je;
	json_t *fast, *ref;

	fast = stix__json_fast_object((const char *)data, size, depth, &used, &compact);
	if (fast == NULL)
		return 0;
	if (used > size || stix_json_depth(fast, depth) > depth)
		abort();
	ref = json_loadb((const char *)data, size,
	                 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
	if (ref == NULL || (size_t)je.position != used || !json_equal(fast, ref)) {
		fprintf(stderr, "fast parser and jansson disagree: used %zu, jansson %s at %d\n",
		        used, ref ? "ok" : je.text, je.position);
		abort();
	}
	json_decref(ref);
	json_decref(fast);
	return 0;
}
