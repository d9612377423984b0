/*
 * fuzz/fuzz_sync_page.c — libFuzzer target for what a peer sends a
 * puller: the TAXII envelope parser (more, next, objects) and the
 * repeated-token check the pull walk applies to each page.
 */
#include <stddef.h>
#include <stdint.h>

#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_page p;
	struct sync_seen seen = {0};
	struct tix_error err;

	if (sync_page_parse((const char *)data, size, &p, &err) == TIX_OK) {
		if (p.next) {
			sync_seen_check(&seen, p.next);
			if (sync_seen_check(&seen, p.next) != 1)
				__builtin_trap(); /* a token just seen must be found */
		}
		for (size_t i = 0; i < json_array_size(p.objects); i++)
			if (!json_is_object(json_array_get(p.objects, i)))
				__builtin_trap(); /* the parser promised objects only */
		sync_page_release(&p);
	}
	sync_seen_release(&seen);
	return 0;
}
