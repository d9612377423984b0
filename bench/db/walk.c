/*
 * bench/db/walk.c — the memory of one big read on PostgreSQL (issue 18, paged
 * reads): ROWS indicators of about 600 bytes written by one server-side
 * INSERT (no client memory), then walked by day (store_walk_by_day, what MISP
 * out streams with) and the process's peak RSS printed before and after.
 * Usage: tix-bench-walk POSTGRES_URL [ROWS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "store/store_int.h"

static long max_rss_kb(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static int count_cb(void *arg, const struct store_row *row)
{
	(void)row;
	++*(long long *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const ind[] = {"indicator", NULL};
	struct tix_error err;
	struct store *s;
	struct db_stmt *st;
	struct timespec t0, t1;
	long long rows = argc > 2 ? strtoll(argv[2], NULL, 10) : 100000, seen = 0;
	long before;

	if (argc < 2) {
		fprintf(stderr, "usage: tix-bench-walk POSTGRES_URL [ROWS]\n");
		return 2;
	}
	if ((s = store_open(argv[1], NULL, &err)) == NULL) {
		fprintf(stderr, "tix-bench-walk: %s\n", err.msg);
		return 1;
	}
	if (db_prepare(
	            store__engine(s),
	            "INSERT INTO objects (vid, id, type, created, modified, version, date_added,"
	            " body, tlp, owner_org)"
	            " SELECT i, 'indicator--' || i, 'indicator',"
	            " '2024-01-0' || (i % 9 + 1) || 'T00:00:00Z', 'm', 'm', i,"
	            " '{\"type\":\"indicator\",\"name\":\"' || repeat('x', 560) || '\",\"n\":' || i"
	            " || '}', 1, 'acme' FROM generate_series(1, CAST(?1 AS bigint)) i"
	            " ON CONFLICT DO NOTHING",
	            NULL, &st) != DB_OK ||
	    db_bind_int64(st, 1, rows) != DB_OK || db_step(st) != DB_DONE) {
		fprintf(stderr, "tix-bench-walk: filling: %s\n", db_errmsg(store__engine(s)));
		return 1;
	}
	db_finalize(st);
	before = max_rss_kb();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_walk_by_day(s, NULL, NULL, ind, NULL, count_cb, &seen, &err) != TIX_OK) {
		fprintf(stderr, "tix-bench-walk: walking: %s\n", err.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rows %lld peak_rss_kb_before %ld peak_rss_kb_after %ld walk_s %.3f\n", seen, before,
	       max_rss_kb(),
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	store_close(s);
	return 0;
}
