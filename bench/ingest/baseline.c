/*
 * baseline.c — the ingest benchmark's yardsticks, to measure `tix import`
 * against: the least work an importer does with jansson (parse the whole
 * bundle, one SQLite row per object in one transaction, one prepared
 * statement), and with --json1 the bluntest one: SQLite's JSON1 splitting
 * the file into rows in one INSERT ... SELECT FROM json_each (no jansson).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <jansson.h>
#include <sqlite3.h>

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_STORE = 3 };

static double monotonic_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Microseconds since the epoch, as tix stamps date_added. */
static long long realtime_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "baseline: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Remove DB and its WAL/SHM files so every run starts from nothing. */
static void remove_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char buf[4096];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		if ((size_t)snprintf(buf, sizeof buf, "%s%s", path, suffix[i]) < sizeof buf)
			unlink(buf);
	}
}

/* The objects of a bundle, a JSON array of objects, or a single object
 * (as a one-element array, with a new reference in *owned). */
static json_t *objects_of(json_t *root, json_t **owned)
{
	*owned = NULL;
	if (json_is_array(root))
		return root;
	if (!json_is_object(root))
		return NULL;
	const char *type = json_string_value(json_object_get(root, "type"));
	if (type && strcmp(type, "bundle") == 0) {
		json_t *objs = json_object_get(root, "objects");
		return json_is_array(objs) ? objs : NULL;
	}
	*owned = json_array();
	if (*owned == NULL || json_array_append(*owned, root) != 0)
		return NULL;
	return *owned;
}

static int insert_all(sqlite3 *db, json_t *objs, size_t *count)
{
	static const char sql[] = "INSERT INTO objects(id, type, modified, date_added, body) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st = NULL;
	long long added = realtime_us(); /* unique and increasing, like tix's */
	size_t i;
	json_t *obj;

	if (exec_sql(db, "BEGIN") != 0)
		return EXIT_STORE;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline: prepare: %s\n", sqlite3_errmsg(db));
		return EXIT_STORE;
	}
	json_array_foreach (objs, i, obj) {
		const char *id = json_string_value(json_object_get(obj, "id"));
		const char *type = json_string_value(json_object_get(obj, "type"));
		const char *mod = json_string_value(json_object_get(obj, "modified"));
		if (mod == NULL)
			mod = json_string_value(json_object_get(obj, "created"));
		if (id == NULL || type == NULL) {
			fprintf(stderr, "baseline: object %zu has no id or type\n", i);
			sqlite3_finalize(st);
			return EXIT_INPUT;
		}
		char *body = json_dumps(obj, JSON_COMPACT);
		if (body == NULL) {
			fprintf(stderr, "baseline: out of memory\n");
			sqlite3_finalize(st);
			return EXIT_STORE;
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		if (mod)
			sqlite3_bind_text(st, 3, mod, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, added++);
		sqlite3_bind_text(st, 5, body, -1, free);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "baseline: insert: %s\n", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return EXIT_STORE;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	if (exec_sql(db, "COMMIT") != 0)
		return EXIT_STORE;
	*count = json_array_size(objs);
	return EXIT_OK;
}

/* The whole of FILE in memory, NUL-terminated (*len without the NUL). */
static char *read_all(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 1 << 20) {
			char *more = realloc(buf, cap + (16u << 20));
			if (more == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = more;
			cap += 16u << 20;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The JSON1 yardstick: one statement turns the file's objects into rows;
 * nothing but JSON syntax is checked. */
static int insert_json1(sqlite3 *db, const char *text, size_t len, size_t *count)
{
	static const char sql[] =
	        "INSERT INTO objects(id, type, modified, date_added, body)"
	        " SELECT value ->> 'id', value ->> 'type',"
	        "  coalesce(value ->> 'modified', value ->> 'created'), ?2 + key, value"
	        " FROM json_each(?1, CASE WHEN json_type(?1) = 'array' THEN '$'"
	        "  ELSE '$.objects' END)";
	sqlite3_stmt *st = NULL;
	int rc = EXIT_STORE;

	if (exec_sql(db, "BEGIN") != 0)
		return EXIT_STORE;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline: prepare: %s\n", sqlite3_errmsg(db));
		return EXIT_STORE;
	}
	sqlite3_bind_text64(st, 1, text, len, SQLITE_STATIC, SQLITE_UTF8);
	sqlite3_bind_int64(st, 2, realtime_us());
	if (sqlite3_step(st) != SQLITE_DONE) {
		fprintf(stderr, "baseline: json1 insert: %s\n", sqlite3_errmsg(db));
		rc = EXIT_INPUT;
	} else {
		*count = (size_t)sqlite3_changes64(db);
		rc = exec_sql(db, "COMMIT") == 0 ? EXIT_OK : EXIT_STORE;
	}
	sqlite3_finalize(st);
	return rc;
}

static int open_fresh(const char *path, sqlite3 **db)
{
	remove_db(path);
	*db = NULL;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "baseline: %s: %s\n", path,
		        *db ? sqlite3_errmsg(*db) : "cannot open");
		return -1;
	}
	if (exec_sql(*db, "PRAGMA journal_mode=WAL") != 0 ||
	    exec_sql(*db, "PRAGMA synchronous=NORMAL") != 0 ||
	    exec_sql(*db, "CREATE TABLE objects(id TEXT, type TEXT, "
	                  "modified TEXT, date_added INTEGER, body TEXT)") != 0)
		return -1;
	return 0;
}

static void report(const char *name, size_t count, double t0)
{
	double secs = monotonic_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%s: %zu objects in %.3f s = %.0f objects/s, peak RSS %.1f MiB\n", name, count, secs,
	       secs > 0 ? (double)count / secs : 0.0, (double)ru.ru_maxrss / 1024.0);
}

static int main_json1(const char *file, const char *path)
{
	double t0 = monotonic_s();
	size_t len = 0, count = 0;
	char *text = read_all(file, &len);
	sqlite3 *db = NULL;
	int rc = EXIT_STORE;

	if (text == NULL) {
		fprintf(stderr, "baseline: %s: cannot read\n", file);
		return EXIT_INPUT;
	}
	if (open_fresh(path, &db) == 0)
		rc = insert_json1(db, text, len, &count);
	if (sqlite3_close(db) != SQLITE_OK && rc == EXIT_OK)
		rc = EXIT_STORE;
	free(text);
	if (rc == EXIT_OK)
		report("json1", count, t0);
	return rc;
}

int main(int argc, char **argv)
{
	int json1 = argc == 4 && strcmp(argv[1], "--json1") == 0;

	if (argc != 3 && !json1) {
		fprintf(stderr,
		        "usage: %s [--json1] BUNDLE.json DB\n"
		        "Parses BUNDLE with jansson (or with SQLite's JSON1 in one\n"
		        "INSERT ... SELECT FROM json_each, --json1) and inserts every\n"
		        "object into a fresh SQLite database DB (WAL) in one transaction.\n",
		        argc > 0 ? argv[0] : "tix-bench-ingest-baseline");
		return EXIT_USAGE;
	}
	if (json1)
		return main_json1(argv[2], argv[3]);
	const char *file = argv[1], *path = argv[2];
	double t0 = monotonic_s();

	json_error_t jerr;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fprintf(stderr, "baseline: %s:%d:%d: %s\n", file, jerr.line, jerr.column,
		        jerr.text);
		return EXIT_INPUT;
	}
	json_t *owned;
	json_t *objs = objects_of(root, &owned);
	if (objs == NULL) {
		fprintf(stderr, "baseline: %s: not a bundle, array or object\n", file);
		json_decref(root);
		return EXIT_INPUT;
	}

	sqlite3 *db = NULL;
	int rc = EXIT_STORE;
	size_t count = 0;
	if (open_fresh(path, &db) == 0)
		rc = insert_all(db, objs, &count);
	if (sqlite3_close(db) != SQLITE_OK && rc == EXIT_OK)
		rc = EXIT_STORE;
	json_decref(owned);
	json_decref(root);
	if (rc != EXIT_OK)
		return rc;

	report("baseline", count, t0);
	return EXIT_OK;
}
