/*
 * fuzz/fuzz_feed.c — libFuzzer target for the feed writers
 * (src/formats/feed.c and the formats beside it): the first byte picks the
 * format and options, the rest is one stored object's JSON text, read by
 * the raw field reader (or jansson) and written through pattern atoms.
 * Checks that no line a writer emits carries a raw control character.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const char *stream, const char *bytes, size_t len)
{
	(void)ctx;
	(void)stream;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];

		if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
			abort(); /* a raw control byte would change a file's meaning */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formats_feed_opts o;
	struct formats_feed_sink s = {sink, NULL};
	struct formats_feed *f;
	struct tix_error err;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.format = (enum formats_feed_format)(data[0] % FEED_NFORMATS);
	o.subdomains = data[0] & 0x80 ? 1 : 0;
	o.now_us = 1700000000000000LL;
	o.serial = 1;
	if ((f = formats_feed_new(&o, &s, &err)) == NULL)
		return 0;
	formats_feed_add(f, (const char *)data + 1, size - 1, &err);
	formats_feed_add(f, (const char *)data + 1, size - 1, &err); /* a repeat */
	formats_feed_finish(f, &err);
	formats_feed_free(f);
	return 0;
}
