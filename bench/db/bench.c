/*
 * bench/db/bench.c — the store's engine layer (src/store/db.h) against raw
 * SQLite calls in the same run, and PostgreSQL through the same layer:
 * inserts in one transaction, a paged scan reading every body, point lookups.
 * Usage: tix-bench-db SQLITE_PATH [POSTGRES_URL] [ROWS] [ROUNDS]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"

#define PAGE 500

static char body[640];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "tix-bench-db: %s: %s\n", what, msg);
	exit(1);
}

/* A deterministic key order for the lookups. */
static int64_t key_at(int64_t i, int64_t rows)
{
	return (i * 7919) % rows + 1;
}

struct figures {
	double insert, scan, lookup; /* per second */
};

/* ---- raw SQLite, the baseline ------------------------------------------ */

static sqlite3_stmt *raw_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(db));
	return st;
}

static struct figures raw_round(const char *path, int64_t rows)
{
	struct figures f;
	sqlite3 *db;
	sqlite3_stmt *st;
	double t;
	int64_t last = 0, seen = 0;
	size_t bytes = 0;

	remove(path);
	/* Opened as db.h opens it: no mutex (one thread), the same time-out. */
	if (sqlite3_open_v2(path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 10000);
	sqlite3_exec(db,
	             "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	             "CREATE TABLE rows (k INTEGER PRIMARY KEY, body TEXT NOT NULL)",
	             NULL, NULL, NULL);
	t = now();
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	st = raw_prepare(db, "INSERT INTO rows (k, body) VALUES (?1, ?2)");
	for (int64_t k = 1; k <= rows; k++) {
		sqlite3_bind_int64(st, 1, k);
		sqlite3_bind_text(st, 2, body, (int)sizeof(body) - 1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	f.insert = (double)rows / (now() - t);

	t = now();
	st = raw_prepare(db, "SELECT k, body FROM rows WHERE k > ?1 ORDER BY k LIMIT 500");
	for (;;) {
		int got = 0;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, last);
		while (sqlite3_step(st) == SQLITE_ROW) {
			last = sqlite3_column_int64(st, 0);
			bytes += (size_t)sqlite3_column_bytes(st, 1) +
			         (sqlite3_column_text(st, 1)[0] == '{' ? 0 : 1);
			got++;
		}
		seen += got;
		if (got < PAGE)
			break;
	}
	sqlite3_finalize(st);
	f.scan = (double)seen / (now() - t);
	if (seen != rows || bytes != (size_t)rows * (sizeof(body) - 1))
		die("scan", "wrong rows");

	t = now();
	st = raw_prepare(db, "SELECT body FROM rows WHERE k = ?1");
	for (int64_t i = 0; i < rows; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, key_at(i, rows));
		if (sqlite3_step(st) != SQLITE_ROW)
			die("lookup", sqlite3_errmsg(db));
		bytes += (size_t)sqlite3_column_bytes(st, 0);
	}
	sqlite3_finalize(st);
	f.lookup = (double)rows / (now() - t);
	sqlite3_close(db);
	return f;
}

/* ---- through db.h -------------------------------------------------------- */

static struct figures db_round(const char *target, int64_t rows)
{
	struct figures f;
	struct tix_error err;
	struct db *db;
	struct db_stmt *st;
	double t;
	int64_t last = 0, seen = 0;
	size_t bytes = 0, len;

	if (!db_target_is_pg(target))
		remove(target);
	if ((db = db_open(target, DB_OPEN_CREATE, &err)) == NULL)
		die(target, err.msg);
	if (db_exec(db,
	            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	            "CREATE TABLE rows (k INTEGER PRIMARY KEY, body TEXT NOT NULL)",
	            "DROP TABLE IF EXISTS rows;"
	            "CREATE TABLE rows (k BIGINT PRIMARY KEY, body TEXT NOT NULL)") != DB_OK)
		die("schema", db_errmsg(db));
	t = now();
	db_begin(db, 1);
	for (int64_t k = 1; k <= rows; k++) {
		st = db_cached(db, "INSERT INTO rows (k, body) VALUES (?1, ?2)", NULL);
		db_bind_int64(st, 1, k);
		db_bind_text(st, 2, body, -1);
		if (db_step(st) != DB_DONE)
			die("insert", db_errmsg(db));
	}
	if (db_commit(db) != DB_OK)
		die("commit", db_errmsg(db));
	f.insert = (double)rows / (now() - t);

	t = now();
	for (;;) {
		int got = 0;

		st = db_cached(db, "SELECT k, body FROM rows WHERE k > ?1 ORDER BY k LIMIT 500",
		               NULL);
		db_bind_int64(st, 1, last);
		while (db_step(st) == DB_ROW) {
			const char *b = db_column_text(st, 1, &len);

			last = db_column_int64(st, 0);
			bytes += len + (b[0] == '{' ? 0 : 1);
			got++;
		}
		seen += got;
		if (got < PAGE)
			break;
	}
	f.scan = (double)seen / (now() - t);
	if (seen != rows || bytes != (size_t)rows * (sizeof(body) - 1))
		die("scan", "wrong rows");

	t = now();
	for (int64_t i = 0; i < rows; i++) {
		st = db_cached(db, "SELECT body FROM rows WHERE k = ?1", NULL);
		db_bind_int64(st, 1, key_at(i, rows));
		if (db_step(st) != DB_ROW)
			die("lookup", db_errmsg(db));
		db_column_text(st, 0, &len);
		bytes += len;
	}
	f.lookup = (double)rows / (now() - t);
	if (db_engine(db) == DB_POSTGRES)
		db_exec(db, "", "DROP TABLE rows");
	db_close(db);
	return f;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { RAW, SQLITE_DB, PG_DB, MODES };

int main(int argc, char **argv)
{
	static const char *const names[MODES] = {"sqlite (raw calls)", "sqlite through db.h",
	                                         "postgresql through db.h"};
	const char *path = argc > 1 ? argv[1] : NULL;
	const char *url = argc > 2 && argv[2][0] ? argv[2] : NULL;
	int64_t rows = argc > 3 ? strtoll(argv[3], NULL, 10) : 100000;
	int rounds = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 5;
	double ins[MODES][32], scan[MODES][32], look[MODES][32], med[MODES][3];

	if (path == NULL || rows < PAGE || rounds < 1 || rounds > 32) {
		fprintf(stderr, "usage: tix-bench-db SQLITE_PATH [POSTGRES_URL] [ROWS] [ROUNDS]\n");
		return 2;
	}
	/* A JSON-looking body of an indicator's typical size. */
	memset(body, 'x', sizeof(body) - 1);
	body[0] = '{';
	body[sizeof(body) - 2] = '}';
	/* Rounds interleave the modes, each round starting with the next one,
	 * so drift on a noisy machine and the order hit all alike. */
	for (int r = 0; r < rounds; r++) {
		for (int j = 0; j < MODES; j++) {
			int m = (r + j) % MODES;
			struct figures f;

			if (m == PG_DB && url == NULL)
				continue;
			f = m == RAW ? raw_round(path, rows)
			             : db_round(m == PG_DB ? url : path, rows);
			ins[m][r] = f.insert;
			scan[m][r] = f.scan;
			look[m][r] = f.lookup;
		}
	}
	printf("%lld rows of %zu bytes, median of %d rounds (per second)\n", (long long)rows,
	       sizeof(body) - 1, rounds);
	printf("%-26s %12s %12s %12s\n", "", "insert", "scan", "lookup");
	for (int m = 0; m < MODES; m++) {
		if (m == PG_DB && url == NULL)
			continue;
		med[m][0] = median(ins[m], rounds);
		med[m][1] = median(scan[m], rounds);
		med[m][2] = median(look[m], rounds);
		printf("%-26s %12.0f %12.0f %12.0f\n", names[m], med[m][0], med[m][1], med[m][2]);
	}
	printf("%-26s %12.3f %12.3f %12.3f\n", "ratio db.h / raw (sqlite)",
	       med[SQLITE_DB][0] / med[RAW][0], med[SQLITE_DB][1] / med[RAW][1],
	       med[SQLITE_DB][2] / med[RAW][2]);
	if (url)
		printf("%-26s %12.3f %12.3f %12.3f\n", "ratio postgresql / sqlite",
		       med[PG_DB][0] / med[SQLITE_DB][0], med[PG_DB][1] / med[SQLITE_DB][1],
		       med[PG_DB][2] / med[SQLITE_DB][2]);
	remove(path);
	return 0;
}
