/*
 * fuzz/fuzz_match_index.c — libFuzzer target for loading a compiled match
 * index: any bytes must be rejected with an error or give an index that
 * scans without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

static int on_hit(void *arg, const struct match_hit *h)
{
	struct match_indicator ind;

	memset(&ind, 0, sizeof(ind));
	match_index_indicator(arg, h->indicator, &ind);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char log[] = "1.2.3.4 a.evil.example 10.1.1.1 2001:db8::1 "
	                          "http://evil.example/x a@evil.example\n"
	                          "d41d8cd98f00b204e9800998ecf8427e\n";
	struct match_scan_opts o = {MATCH_FORMAT_TEXT, 1, 1, 0, 0, 0};
	struct tix_error err;
	struct match_index *x = match_index_from_memory(data, size, &err);
	struct match_scanner *s;
	struct match_index_stats st;

	if (x == NULL)
		return 0;
	match_index_get_stats(x, &st);
	s = match_scanner_new(x, &o, on_hit, x);
	if (s) {
		match_scanner_feed(s, log, sizeof(log) - 1);
		match_scanner_end(s);
		match_scanner_free(s);
	}
	match_index_free(x);
	return 0;
}
