/*
 * fuzz/fuzz_stix_import.c — libFuzzer target for everything `tix import`
 * does to untrusted bytes before they reach the store: the streaming
 * document reader, SCO id assignment, validation, metadata and
 * serialisation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pattern/pattern.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stix_validate_opts opts = {0, pattern_check};
	struct stix_problems probs;
	struct stix_reader *r = NULL;
	struct tix_error err;
	struct tix_buf out;

	stix_problems_init(&probs);
	tix_buf_init(&out, 1 << 24);
	if (stix_reader_open((const char *)data, size, "fuzz", &r, &err) == TIX_OK) {
		for (int n = 0; n < 10000; n++) {
			json_t *obj = NULL;
			const char *path;
			struct stix_meta meta;

			if (stix_reader_next(r, &obj, &path, &err) != TIX_OK || obj == NULL)
				break;
			stix_problems_reset(&probs);
			opts.strict = n & 1;
			if (stix_sco_ensure_id(obj, &err) == TIX_OK &&
			    stix_validate(obj, path, &opts, &probs) == 0 &&
			    stix_meta_get(obj, &meta, &err) == TIX_OK) {
				tix_buf_reset(&out);
				stix_json_dump(obj, &out);
			}
			json_decref(obj);
		}
	}
	stix_reader_close(r);
	stix_problems_release(&probs);
	tix_buf_release(&out);
	return 0;
}
