/*
 * fuzz/fuzz_drill.c — libFuzzer target for drill scenarios (docs/drill.md):
 * the CEXF parser and checker with tix's extensions (what an organiser's
 * file goes through before anything is stored), and the reading of an
 * exercise id out of a stored body.
 */
#include <stddef.h>
#include <stdint.h>

#include "drill/drill.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tix_error err;
	char ex[64];
	json_t *sc = drill_parse((const char *)data, size, 1767225600000000, &err);

	json_decref(sc);
	(void)stix_exercise_of((const char *)data, size, ex, sizeof(ex));
	return 0;
}
