/*
 * bench/correlate/bench.c — the correlation benchmark (bench/README.md):
 * ingests generated indicators (one value each, with a skew: 1% carry one
 * of 20 hot values, Zipf-weighted, so a few values sit in thousands of
 * objects) through store_put, the same path as `tix import`, to each size in
 * turn, measuring the rate at each size (the median of its last five
 * transactions of 2,000 values, by the wall clock and by the process's CPU
 * time) against the first size's (the baseline of the same run), then
 * correlation latency at that
 * size (api_correlate_value as an organisation, through the policy).
 * With PER_OBJECT > 1 each object carries that many values (one
 * observation each, "[a] OR [b] ..."), value i of the whole run being
 * generated as the one-value run's object i: sizes, rates and queries are
 * then counted in values, so the largest size is reached in fewer objects.
 *
 *   tix-bench-correlate DB SIZE[,SIZE...] [QUERIES [PER_OBJECT [START]]]
 *
 * Prints one line per size: "size N ingest_per_s R p50_ms A p99_ms B max_ms C
 * cpu_ingest_per_s .. cpu_p99_ms .. win_ingest_per_s W win_cpu_ingest_per_s V
 * long_ingest_per_s L long_cpu_ingest_per_s M" (N and rates in generated
 * values; a URL adds its host to the index; W and V over the size's last 50
 * transactions, L and M its last 500 (or all it had), every merge among
 * them counted).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "stix/stix.h"
#include "store/store.h"

#define BATCH 2000 /* values a transaction */
#define HOT   20

static double clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* The median of the last n of k rates kept in a ring of RATES. */
#define RATES 5
static double median_rate(const double *ring, size_t k)
{
	double v[RATES] = {0};
	size_t n = k < RATES ? k : RATES;

	for (size_t i = 0; i < n; i++)
		v[i] = ring[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? v[n / 2] : 0;
}

/* The rate over the last w of k transactions kept in a ring of LONG
 * (values over their summed time), so work a store does every few dozen
 * transactions (the value index's merges) is counted, which the median of
 * RATES leaves out: WINDOW for the merges into the middle level, LONG for
 * those into the main one. */
#define WINDOW 50
#define LONG   500
static double window_rate(const double *n, const double *t, size_t k, size_t w)
{
	double sn = 0, st = 0;

	for (size_t i = 0; i < (k < w ? k : w); i++) {
		size_t j = (k - 1 - i) % LONG;

		sn += n[j];
		st += t[j];
	}
	return st > 0 ? sn / st : 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The value of object i: hot (1%, Zipf over HOT values) or its own. */
static void value_of(uint64_t i, char *type, size_t tn, char *val, size_t vn)
{
	uint64_t h = i * 0x9e3779b97f4a7c15ull;

	if (h % 100 == 0) {
		double r = (double)(rnd() % 1000000) / 1e6, sum = 0, norm = 0;
		int k;

		for (k = 1; k <= HOT; k++)
			norm += 1.0 / k;
		for (k = 1; k < HOT; k++) {
			sum += 1.0 / k / norm;
			if (r < sum)
				break;
		}
		snprintf(type, tn, "domain-name");
		snprintf(val, vn, "hot%d.example", k);
		return;
	}
	switch (i % 4) {
	case 0:
		snprintf(type, tn, "domain-name");
		snprintf(val, vn, "d%llu.example", (unsigned long long)i);
		break;
	case 1:
		snprintf(type, tn, "ipv4-addr");
		snprintf(val, vn, "%llu.%llu.%llu.%llu", (unsigned long long)(10 + (i >> 24) % 200),
		         (unsigned long long)((i >> 16) & 255),
		         (unsigned long long)((i >> 8) & 255), (unsigned long long)(i & 255));
		break;
	case 2:
		snprintf(type, tn, "file");
		snprintf(val, vn, "%016llx%016llx%016llx%016llx", (unsigned long long)i,
		         (unsigned long long)h, (unsigned long long)(h ^ 0x55),
		         (unsigned long long)i * 31);
		break;
	default:
		snprintf(type, tn, "url");
		snprintf(val, vn, "http://u%llu.example/p/%llu", (unsigned long long)(i / 7),
		         (unsigned long long)i);
		break;
	}
}

/* Object i, carrying the values i * per .. i * per + per - 1. */
static int put_one(struct store *s, uint64_t i, unsigned per)
{
	char type[32], val[160], pattern[4096], body[8192];
	const char *markings[] = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	                          "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"};
	char org[16];
	json_t *o;
	struct stix_meta m;
	struct tix_error err;
	int added, n;
	size_t pn = 0;

	for (unsigned k = 0; k < per; k++) {
		value_of(i * per + k, type, sizeof(type), val, sizeof(val));
		pn += (size_t)snprintf(
		        pattern + pn, sizeof(pattern) - pn, "%s[%s:%s = '%s']", k ? " OR " : "",
		        type, strcmp(type, "file") == 0 ? "hashes.'SHA-256'" : "value", val);
		if (pn >= sizeof(pattern))
			return -1;
	}
	snprintf(org, sizeof(org), "org%llu", (unsigned long long)(i % 5));
	n = snprintf(
	        body, sizeof(body),
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	        "\"id\":\"indicator--%08llx-0000-4000-8000-%012llx\","
	        "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
	        "\"name\":\"bench %llu\",\"pattern\":\"%s\",\"pattern_type\":\"stix\","
	        "\"valid_from\":\"2026-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]}",
	        (unsigned long long)(i >> 32), (unsigned long long)(i & 0xffffffffffffull),
	        (unsigned long long)i, pattern, markings[i % 2]);
	if (n < 0 || (size_t)n >= sizeof(body) ||
	    (o = json_loadb(body, (size_t)n, 0, NULL)) == NULL)
		return -1;
	if (stix_meta_get(o, &m, &err) != TIX_OK ||
	    store_put(s, &m, body, (size_t)n, org, NULL, NULL, &added, &err) != TIX_OK) {
		fprintf(stderr, "put: %s\n", err.msg);
		json_decref(o);
		return -1;
	}
	json_decref(o);
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct tix_error err;
	struct store *s;
	struct api_reader r;
	struct policy_node node = {STIX_TLP_AMBER, 0};
	uint64_t have = 0;
	size_t queries = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	unsigned per = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1;
	/* values a run stopped before stored already (the same PER_OBJECT):
	 * ingest goes on from there */
	uint64_t start = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
	char *sizes, *tok, *save = NULL;
	double *lat, *cpu_lat, *class_lat[3];
	size_t nclass[3] = {0, 0, 0};

	if (argc < 3) {
		fprintf(stderr,
		        "usage: tix-bench-correlate DB SIZE[,SIZE...] [QUERIES [PER_OBJECT [START]]]\n");
		return 2;
	}
	if (per < 1 || per > 32) {
		fprintf(stderr, "PER_OBJECT: 1 to 32 values\n");
		return 2;
	}
	if ((s = store_open(argv[1], NULL, &err)) == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], err.msg);
		return 1;
	}
	/* CACHE_KIB: the writer's page cache instead of STORE_CACHE_KIB, to
	 * measure how much of the ingest curve is the index outgrowing it */
	{
		const char *kib = getenv("CACHE_KIB");
		char *end = NULL;
		long n = kib ? strtol(kib, &end, 10) : 0;

		if (kib && (end == kib || *end != '\0' || n <= 0 || n > INT_MAX)) {
			fprintf(stderr, "CACHE_KIB: a positive number of KiB\n");
			return 2;
		}
		if (kib && store_set_cache_kib(s, (int)n, &err) != TIX_OK) {
			fprintf(stderr, "CACHE_KIB: %s\n", err.msg);
			return 1;
		}
	}
	if (store_org_add(s, "org0", "DE", &err) != TIX_OK && err.code != TIX_EEXIST) {
		fprintf(stderr, "org: %s\n", err.msg);
		return 1;
	}
	if (api_reader_org(s, &node, "org0", &r, &err) != TIX_OK) {
		fprintf(stderr, "reader: %s\n", err.msg);
		return 1;
	}
	have = start / per * per;
	lat = calloc(queries + 1, sizeof(*lat));
	cpu_lat = calloc(queries + 1, sizeof(*cpu_lat));
	for (int k = 0; k < 3; k++)
		class_lat[k] = calloc(queries + 1, sizeof(double));
	sizes = strdup(argv[2]);
	for (tok = strtok_r(sizes, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t target = strtoull(tok, NULL, 10);
		double t0 = 0, c0 = 0, wall[RATES], cpu[RATES];
		static double win_n[LONG], win_wall[LONG], win_cpu[LONG];
		size_t batches = 0;

		while (have < target) {
			uint64_t n = target - have < BATCH ? target - have : BATCH;

			t0 = mono();
			c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
			if (store_begin(s, &err) != TIX_OK)
				return 1;
			n = (n + per - 1) / per * per; /* whole objects */
			for (uint64_t k = 0; k < n; k += per)
				if (put_one(s, (have + k) / per, per) != 0)
					return 1;
			if (store_commit(s, &err) != TIX_OK) {
				fprintf(stderr, "commit: %s\n", err.msg);
				return 1;
			}
			have += n;
			win_n[batches % LONG] = (double)n;
			win_wall[batches % LONG] = mono() - t0;
			win_cpu[batches % LONG] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
			wall[batches % RATES] = (double)n / win_wall[batches % LONG];
			cpu[batches % RATES] = (double)n / win_cpu[batches % LONG];
			batches++;
		}
		for (size_t q = 0; q < queries && have > 0; q++) {
			char type[32], val[160];
			uint64_t pick = rnd() % 100;
			json_t *out = NULL;
			double t;

			if (pick < 5)
				snprintf(val, sizeof(val), "hot%d.example", (int)(rnd() % 3) + 1);
			else if (pick < 10)
				snprintf(val, sizeof(val), "absent%llu.example",
				         (unsigned long long)rnd() % 1000000);
			else
				value_of(rnd() % have, type, sizeof(type), val, sizeof(val));
			t = mono();
			c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
			if (api_correlate_value(s, &r, val, strlen(val), NULL, &out, &err) !=
			    TIX_OK) {
				fprintf(stderr, "correlate %s: %s\n", val, err.msg);
				return 1;
			}
			lat[q] = (mono() - t) * 1000;
			cpu_lat[q] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1000;
			class_lat[pick < 5    ? 0
			          : pick < 10 ? 2
			                      : 1][nclass[pick < 5    ? 0
			                                  : pick < 10 ? 2
			                                              : 1]++] = lat[q];
			json_decref(out);
		}
		if (have == 0 || queries == 0)
			continue;
		qsort(lat, queries, sizeof(*lat), cmp_d);
		qsort(cpu_lat, queries, sizeof(*cpu_lat), cmp_d);
		printf("size %llu ingest_per_s %.0f p50_ms %.3f p99_ms %.3f max_ms %.3f"
		       " cpu_ingest_per_s %.0f cpu_p99_ms %.3f win_ingest_per_s %.0f"
		       " win_cpu_ingest_per_s %.0f long_ingest_per_s %.0f long_cpu_ingest_per_s %.0f\n",
		       (unsigned long long)have, median_rate(wall, batches), lat[queries / 2],
		       lat[(size_t)((double)queries * 0.99)], lat[queries - 1],
		       median_rate(cpu, batches), cpu_lat[(size_t)((double)queries * 0.99)],
		       window_rate(win_n, win_wall, batches, WINDOW),
		       window_rate(win_n, win_cpu, batches, WINDOW),
		       window_rate(win_n, win_wall, batches, LONG),
		       window_rate(win_n, win_cpu, batches, LONG));
		/* by kind of value asked: the three hottest, values stored, absent */
		for (int k = 0; k < 3; k++) {
			size_t n = nclass[k];

			qsort(class_lat[k], n, sizeof(double), cmp_d);
			fprintf(stderr, "  size %llu %s: %zu queries, p50 %.3f ms, p99 %.3f ms\n",
			        (unsigned long long)have,
			        k == 0   ? "hot"
			        : k == 1 ? "stored"
			                 : "absent",
			        n, n ? class_lat[k][n / 2] : 0,
			        n ? class_lat[k][(size_t)((double)n * 0.99)] : 0);
			nclass[k] = 0;
		}
		fflush(stdout);
	}
	free(sizes);
	free(lat);
	free(cpu_lat);
	for (int k = 0; k < 3; k++)
		free(class_lat[k]);
	store_close(s);
	return 0;
}
