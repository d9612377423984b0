/*
 * bench/pattern/bench.c — the pattern benchmark (bench/README.md): how fast
 * tix parses STIX patterns and evaluates them against observed data, each
 * beside its baseline measured in the same run: jansson parsing the same
 * number of JSON documents of equivalent content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pattern/pattern.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

/* CPU time of this process: unlike wall time, it does not count the time
 * other processes on a busy machine take from this one. */
static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct lines {
	char *data;
	char **v;
	size_t *len;
	size_t n;
};

/* Reads a file of lines (without their '\n'). */
static int read_lines(const char *path, struct lines *l)
{
	FILE *f = fopen(path, "rb");
	size_t size, cap = 0;
	long end;

	memset(l, 0, sizeof(*l));
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "bench: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	size = (size_t)end;
	l->data = malloc(size + 1);
	if (l->data == NULL || fread(l->data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	l->data[size] = '\0';
	for (char *p = l->data, *nl; p < l->data + size; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(l->data + size - p))) == NULL)
			nl = l->data + size;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 1024;
			l->v = realloc(l->v, cap * sizeof(*l->v));
			l->len = realloc(l->len, cap * sizeof(*l->len));
			if (l->v == NULL || l->len == NULL)
				return -1;
		}
		*nl = '\0';
		l->v[l->n] = p;
		l->len[l->n++] = (size_t)(nl - p);
	}
	return 0;
}

static void free_lines(struct lines *l)
{
	free(l->data);
	free(l->v);
	free(l->len);
}

int main(int argc, char **argv)
{
	struct lines pats, pjson, ojson;
	struct pattern_observations *obs;
	struct pattern **parsed;
	struct tix_error err;
	json_error_t jerr;
	json_t *doc;
	size_t neval, nobs, matched = 0, pairs, failed = 0;
	double t0, parse_s, base_parse_s, eval_s, base_eval_s;

	if (argc != 6) {
		fprintf(stderr,
		        "usage: tix-bench-pattern PATTERNS.txt PATTERNS.jsonl OBSERVED.json "
		        "OBSERVED.jsonl NEVAL\n");
		return EXIT_USAGE;
	}
	if (read_lines(argv[1], &pats) || read_lines(argv[2], &pjson) ||
	    read_lines(argv[4], &ojson))
		return EXIT_INPUT;
	neval = (size_t)strtoul(argv[5], NULL, 10);
	if (neval > pats.n)
		neval = pats.n;

	/* parse rate: every pattern parsed and freed */
	t0 = now_s();
	for (size_t i = 0; i < pats.n; i++) {
		struct pattern *p = pattern_parse(pats.v[i], pats.len[i], PATTERN_V21, &err);

		if (p == NULL)
			failed++;
		pattern_free(p);
	}
	parse_s = now_s() - t0;
	if (failed) {
		fprintf(stderr, "bench: %zu patterns did not parse\n", failed);
		return EXIT_INPUT;
	}
	/* baseline: the equivalent JSON documents parsed and freed */
	t0 = now_s();
	for (size_t i = 0; i < pjson.n; i++) {
		json_t *j = json_loadb(pjson.v[i], pjson.len[i], 0, &jerr);

		if (j == NULL)
			failed++;
		json_decref(j);
	}
	base_parse_s = now_s() - t0;

	/* evaluation: the first NEVAL patterns against every observed-data */
	if ((doc = json_load_file(argv[3], 0, &jerr)) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", argv[3], jerr.text);
		return EXIT_INPUT;
	}
	obs = pattern_observations_new();
	if (obs == NULL || pattern_observations_add(obs, doc, &err) != TIX_OK ||
	    pattern_observations_seal(obs, &err) != TIX_OK) {
		fprintf(stderr, "bench: observations: %s\n", err.msg);
		return EXIT_INPUT;
	}
	json_decref(doc);
	nobs = pattern_observations_count(obs);
	parsed = calloc(neval ? neval : 1, sizeof(*parsed));
	for (size_t i = 0; i < neval; i++)
		parsed[i] = pattern_parse(pats.v[i], pats.len[i], PATTERN_V21, &err);
	t0 = now_s();
	for (size_t i = 0; i < neval; i++) {
		struct pattern_result res;

		if (pattern_match(parsed[i], obs, NULL, &res, &err) != TIX_OK || res.gave_up)
			failed++;
		matched += res.matched;
		pattern_result_release(&res);
	}
	eval_s = now_s() - t0;
	pairs = neval * nobs;
	/* baseline: as many observed-data documents (each with its SCOs)
	 * parsed by jansson as pattern-observation pairs were evaluated */
	t0 = now_s();
	for (size_t i = 0; i < pairs; i++) {
		size_t k = i % ojson.n;
		json_t *j = json_loadb(ojson.v[k], ojson.len[k], 0, &jerr);

		json_decref(j);
	}
	base_eval_s = now_s() - t0;

	printf("patterns %zu\n", pats.n);
	printf("parse_per_s %.0f\n", (double)pats.n / parse_s);
	printf("baseline_parse_per_s %.0f\n", (double)pjson.n / base_parse_s);
	printf("evaluated_patterns %zu\n", neval);
	printf("observed_data %zu\n", nobs);
	printf("matched %zu\n", matched);
	printf("eval_pairs_per_s %.0f\n", (double)pairs / eval_s);
	printf("baseline_eval_per_s %.0f\n", (double)pairs / base_eval_s);
	if (failed)
		fprintf(stderr, "bench: %zu failures\n", failed);
	for (size_t i = 0; i < neval; i++)
		pattern_free(parsed[i]);
	free(parsed);
	pattern_observations_free(obs);
	free_lines(&pats);
	free_lines(&pjson);
	free_lines(&ojson);
	return failed ? EXIT_INPUT : EXIT_OK;
}
