/*
 * cli/match_stats.c — `tix match --stats-file FILE`: the matcher's counters
 * in the Prometheus text format, written whole to FILE (through a temporary
 * file and a rename, so a reader never sees half of it) for `tix serve
 * --match-stats DIR` to add to GET /metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

/* The sensor's name as a label value: quotes, backslashes and control
 * bytes become '_' (never an escape a reader could misread). */
static void label(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '_' : *s, f);
}

int cli_match_stats_write(const char *path, const struct cli_match_stats *m)
{
	char tmp[4200];
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "tix match: --stats-file %s: %s\n", tmp, strerror(errno));
		return -1;
	}
#define SAMPLE(name, value)                                                                        \
	do {                                                                                       \
		fputs(name "{sensor=\"", f);                                                       \
		label(f, m->sensor);                                                               \
		fprintf(f, "\"} %llu\n", (unsigned long long)(value));                             \
	} while (0)
	SAMPLE("tix_match_indicators", m->indicators);
	SAMPLE("tix_match_files_total", m->files);
	SAMPLE("tix_match_lines_total", m->st.lines);
	SAMPLE("tix_match_bytes_total", m->st.bytes);
	SAMPLE("tix_match_matches_total", m->st.hits);
	SAMPLE("tix_match_matched_lines_total", m->st.hit_lines);
	SAMPLE("tix_match_suppressed_total", m->st.suppressed);
	SAMPLE("tix_match_values_looked_up_total", m->st.tokens);
#undef SAMPLE
#define SKIPPED(reason, value)                                                                     \
	do {                                                                                       \
		fputs("tix_match_skipped_lines_total{sensor=\"", f);                               \
		label(f, m->sensor);                                                               \
		fprintf(f, "\",reason=\"" reason "\"} %llu\n", (unsigned long long)(value));       \
	} while (0)
	SKIPPED("too_long", m->st.long_lines);
	SKIPPED("nul_bytes", m->st.binary_lines);
	SKIPPED("invalid_utf8", m->st.bad_utf8_lines);
	SKIPPED("not_json", m->st.bad_json_lines);
#undef SKIPPED
	fputs("tix_match_scan_seconds_total{sensor=\"", f);
	label(f, m->sensor);
	fprintf(f, "\"} %.3f\n", m->scan_seconds);
	fputs("tix_match_updated_timestamp_seconds{sensor=\"", f);
	label(f, m->sensor);
	fprintf(f, "\"} %lld\n", (long long)time(NULL));
	ok = fflush(f) == 0 && !ferror(f);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "tix match: --stats-file %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
