/*
 * fuzz/fuzz_misp_hashes.c — libFuzzer target for the hashes.csv reader of
 * MISP feeds (formats_misp_hashes_for): any bytes, every line checked.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *set = json_object();
	size_t n = formats_misp_hashes_for((const char *)data, size,
	                                   "5f0a1c2e-0a6b-4d1e-9c0a-00000000000a", set);
	const char *k;
	json_t *v;

	if (n < json_object_size(set))
		__builtin_trap(); /* every member came from a line naming the uuid */
	json_object_foreach (set, k, v) {
		for (size_t i = 0; k[i]; i++)
			if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f')) ||
			    i >= 32)
				__builtin_trap(); /* lowercase md5 only */
	}
	json_decref(set);
	return 0;
}
