/*
 * fuzz/fuzz_misp.c — libFuzzer target for MISP input: event JSON to a STIX
 * bundle (which must then parse as JSON), and the feed manifest reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/formats.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formats_log log = {NULL, NULL, 0, 0};
	struct formats_feed_entry *e = NULL;
	struct tix_error err;
	struct tix_buf out;
	size_t n;

	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	if (formats_misp_to_stix((const char *)data, size, "fuzz", &out, &n, &log, &err) ==
	    TIX_OK) {
		json_t *b = stix_json_parse(tix_buf_str(&out), tix_buf_len(&out), "out", &err);

		if (b == NULL || json_array_size(json_object_get(b, "objects")) != n)
			__builtin_trap(); /* the writer promised a bundle of n objects */
		json_decref(b);
	}
	tix_buf_release(&out);
	if (formats_misp_manifest((const char *)data, size, "fuzz", &e, &n, &log, &err) == TIX_OK)
		free(e);
	return 0;
}
