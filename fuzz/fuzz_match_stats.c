/*
 * fuzz/fuzz_match_stats.c — libFuzzer target for the line check of `tix serve
 * --match-stats`: whatever a file in that directory holds, a line that
 * passes is one tix_match_ sample on one line, printable, with a number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;

	if (http_metrics_match_line_ok(line, size)) {
		if (size < 12 || memcmp(line, "tix_match_", 10) != 0)
			abort();
		for (size_t i = 0; i < size; i++)
			if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
				abort();
		if (!strchr("0123456789.", line[size - 1]) && line[size - 1] != 'e' &&
		    line[size - 1] != 'E' && line[size - 1] != '+' && line[size - 1] != '-')
			abort();
	}
	return 0;
}
