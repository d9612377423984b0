/*
 * fuzz/fuzz_match_build.c — libFuzzer target for the match index builder's
 * raw reader of indicator objects: the input is the text of an object,
 * maybe followed by more of a document. Read as a prefix and as a whole
 * object, the builder must never crash, and the two reads must agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int64_t now = (int64_t)1800000000 * 1000000;
	struct match_builder *b1 = match_builder_new(NULL), *b2 = match_builder_new(NULL);
	struct tix_error err;
	struct match_index *x;
	enum match_add r1 = MATCH_INVALID, r2;
	size_t used = 0;
	int other1 = 0, other2 = 0;

	if (b1 == NULL || b2 == NULL)
		abort();
	if (match_builder_add_prefix(b1, (const char *)data, size, now, &used, &r1, &other1,
	                             &err)) {
		if (used == 0 || used > size)
			abort();
		/* the object alone, read by add_raw, gives the same answer */
		r2 = match_builder_add_raw(b2, (const char *)data, used, now, &other2, &err);
		if (r1 != r2 || other1 != other2)
			abort();
	} else {
		match_builder_add_raw(b2, (const char *)data, size, now, &other2, &err);
	}
	x = match_builder_finish(b1, &err);
	match_index_free(x);
	x = match_builder_finish(b2, &err);
	match_index_free(x);
	return 0;
}
