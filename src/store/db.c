/*
 * store/db.c — the engine layer's shared half (db.h): choosing the engine
 * from the target, the per-connection statement cache, the translation of
 * placeholders, keeping passwords out of messages, and the calls that go
 * to SQLite directly (zero copy) or to db_pg.c.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_int.h"

/* ---- errors ------------------------------------------------------------ */

void db__scrub(const struct db *db, char *buf)
{
	for (int k = 0; k < 4; k++) {
		const char *s = db->secrets[k];
		size_t n = s ? strlen(s) : 0;
		/* Never longer than the secret, so the text never grows. */
		size_t r = n < 3 ? n : 3;
		char *p;

		if (n == 0)
			continue;
		for (p = strstr(buf, s); p; p = strstr(p + r, s)) {
			memset(p, '*', r);
			memmove(p + r, p + n, strlen(p + n) + 1);
		}
	}
}

enum db_rc db__fail(struct db *db, enum db_rc rc, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	/* libpq's messages end in a newline, some span lines: one line here. */
	for (char *p = db->errmsg; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	n = strlen(db->errmsg);
	while (n > 0 && db->errmsg[n - 1] == ' ')
		db->errmsg[--n] = '\0';
	db__scrub(db, db->errmsg);
	db->errcode = rc;
	return rc;
}

const char *db_errmsg(const struct db *db)
{
	return db->errmsg[0] ? db->errmsg : "no error";
}

enum db_rc db_errcode(const struct db *db)
{
	return db->errcode;
}

enum tix_err db_error(struct db *db, struct tix_error *err, const char *what)
{
	return tix_error_set(err, TIX_ESTORE, "store", "%s: %s", what, db_errmsg(db));
}

/* ---- opening ----------------------------------------------------------- */

int db_target_is_pg(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Keeps s[0..n) as written and percent-decoded among db's secrets. */
static int add_secret(struct db *db, const char *s, size_t n)
{
	char *raw, *dec;
	size_t j = 0;
	int k = 0;

	if (n == 0)
		return 0;
	while (k < 4 && db->secrets[k])
		k++;
	if (k > 2)
		return 0;
	if ((raw = strndup(s, n)) == NULL || (dec = malloc(n + 1)) == NULL) {
		free(raw);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			dec[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			dec[j++] = s[i];
		}
	}
	dec[j] = '\0';
	db->secrets[k] = raw;
	db->secrets[k + 1] = dec;
	return 0;
}

/* The user info of a libpq URL: up to its one '@' before the query, with
 * no '/' in it. 0 when a password holds a raw '@' or '/', which libpq would
 * read as part of the host and then print in its messages. */
static int user_info(const char *url, const char **at)
{
	const char *p = strstr(url, "://") + 3;
	size_t q = strcspn(p, "?");
	const char *first = memchr(p, '@', q), *last = first;

	for (const char *c = first; c && c < p + q; c++)
		if (*c == '@')
			last = c;
	*at = last;
	return first == last && !(last && memchr(p, '/', (size_t)(last - p)));
}

/* The password of a libpq URL: in the user info, or a password= parameter. */
static int find_secrets(struct db *db, const char *url)
{
	const char *p = strstr(url, "://") + 3, *at, *q;

	if (user_info(url, &at) && at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon && add_secret(db, colon + 1, (size_t)(at - colon - 1)) != 0)
			return -1;
	}
	if ((q = strchr(p, '?')) != NULL) {
		for (q++; *q;) {
			size_t n = strcspn(q, "&");

			if (strncmp(q, "password=", 9) == 0 && add_secret(db, q + 9, n - 9) != 0)
				return -1;
			q += n;
			if (*q == '&')
				q++;
		}
	}
	return 0;
}

struct db *db_open(const char *target, unsigned flags, struct tix_error *err)
{
	struct db *db = calloc(1, sizeof(*db));
	enum db_rc rc;

	if (db == NULL) {
		tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
		return NULL;
	}
	db->engine = db_target_is_pg(target) ? DB_POSTGRES : DB_SQLITE;
	if (db->engine == DB_POSTGRES) {
		const char *at;

		if (!user_info(target, &at)) {
			tix_error_set(
			        err, TIX_ESTORE, "store",
			        "cannot open the store: the PostgreSQL URL's user or password "
			        "holds a raw '@' or '/': write them as %%40 and %%2F");
			free(db);
			return NULL;
		}
	}
	if ((db->engine == DB_POSTGRES && find_secrets(db, target) != 0) ||
	    (db->shown = strdup(target)) == NULL) {
		tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
		db_close(db);
		return NULL;
	}
	db__scrub(db, db->shown);
	rc = db->engine == DB_POSTGRES ? db__pg_open(db, target)
	                               : db__sqlite_open(db, target, flags);
	if (rc != DB_OK) {
		tix_error_set(err, rc == DB_NOMEM ? TIX_ENOMEM : TIX_ESTORE, db->shown,
		              "cannot open the store: %s", db_errmsg(db));
		db_close(db);
		return NULL;
	}
	return db;
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	db->gen = 0; /* PostgreSQL: closing drops the server's statements */
	for (int i = 0; i < DB_CACHE; i++) {
		if (db->cache[i].st)
			db->cache[i].st->cached = 0;
		db_finalize(db->cache[i].st);
		free(db->cache[i].key);
	}
	if (db->engine == DB_POSTGRES)
		db__pg_close(db);
	else
		db__sqlite_close(db);
	for (int k = 0; k < 4; k++)
		free(db->secrets[k]);
	free(db->shown);
	free(db);
}

enum db_engine db_engine(const struct db *db)
{
	return db->engine;
}

struct sqlite3 *db_sqlite(struct db *db)
{
	return db->sq;
}

struct pg_conn *db_pg(struct db *db)
{
	return db->pg;
}

const char *db_target(const struct db *db)
{
	return db->shown;
}

enum db_rc db_reconnect(struct db *db)
{
	enum db_rc rc = db->engine == DB_POSTGRES ? db__pg_reconnect(db) : DB_OK;

	if (rc == DB_OK) {
		db->errcode = DB_OK;
		db->errmsg[0] = '\0';
	}
	return rc;
}

int db_alive(struct db *db)
{
	return db->engine == DB_POSTGRES ? db__pg_alive(db) : 1;
}

/* ---- scripts and transactions ------------------------------------------ */

enum db_rc db_exec(struct db *db, const char *sqlite, const char *pg)
{
	if (db->engine == DB_POSTGRES)
		return pg && pg[0] == '\0' ? DB_OK : db__pg_exec(db, pg ? pg : sqlite);
	return sqlite[0] == '\0' ? DB_OK : db__sqlite_exec(db, sqlite);
}

enum db_rc db_begin(struct db *db, int write)
{
	if (db->engine == DB_POSTGRES)
		return db__pg_begin(db, write);
	return db__sqlite_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

enum db_rc db_commit(struct db *db)
{
	if (db->engine == DB_POSTGRES)
		return db__pg_end(db, "COMMIT");
	return db_exec(db, "COMMIT", NULL);
}

enum db_rc db_rollback(struct db *db)
{
	if (db->engine == DB_POSTGRES)
		return db__pg_end(db, "ROLLBACK");
	return db_exec(db, "ROLLBACK", NULL);
}

int db_in_transaction(struct db *db)
{
	if (db->engine == DB_POSTGRES)
		return db__pg_in_transaction(db);
	return !sqlite3_get_autocommit(db->sq);
}

/* ---- placeholders ------------------------------------------------------ */

char *db_pg_placeholders(const char *sql, int *nparams)
{
	size_t n = strlen(sql), o = 0, cap = n * 6 + 1;
	/* "?" becomes at most "$32766": 6 bytes per byte of input at worst. */
	char *out = malloc(cap);
	int max = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		char c = sql[i];

		if (c == '\'' || c == '"') { /* a string or a quoted name; '' and "" inside */
			size_t j = i + 1;

			while (j < n && !(sql[j] == c && sql[j + 1] != c))
				j += sql[j] == c ? 2 : 1;
			j = j < n ? j + 1 : n;
			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		} else if (c == '-' && sql[i + 1] == '-') {
			size_t j = i + strcspn(sql + i, "\n");

			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		} else if (c == '/' && sql[i + 1] == '*') {
			const char *end = strstr(sql + i + 2, "*/");
			size_t j = end ? (size_t)(end - sql) + 2 : n;

			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		} else if (c == '?' || (c == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9')) {
			long k = 0;
			size_t j = i + 1;

			while (j < n && sql[j] >= '0' && sql[j] <= '9' && k <= 32766)
				k = k * 10 + (sql[j++] - '0');
			if (j == i + 1)
				k = max + 1; /* a bare "?" */
			if (k < 1 || k > 32766) {
				free(out);
				return NULL;
			}
			if (k > max)
				max = (int)k;
			o += (size_t)snprintf(out + o, cap - o, "$%ld", k);
			i = j;
		} else {
			out[o++] = c;
			i++;
		}
	}
	out[o] = '\0';
	*nparams = max;
	return out;
}

/* ---- statements -------------------------------------------------------- */

static enum db_rc prepare(struct db *db, const char *sqlite, const char *pg, int persistent,
                          struct db_stmt **out)
{
	struct db_stmt *st = calloc(1, sizeof(*st));
	enum db_rc rc;

	*out = NULL;
	if (st == NULL)
		return db__fail(db, DB_NOMEM, "out of memory");
	st->db = db;
	if (db->engine == DB_POSTGRES)
		rc = db__pg_prepare(st, pg ? pg : sqlite);
	else
		rc = db__sqlite_prepare(st, sqlite, persistent);
	if (rc != DB_OK) {
		db_finalize(st);
		return rc;
	}
	*out = st;
	return DB_OK;
}

enum db_rc db_prepare(struct db *db, const char *sqlite, const char *pg, struct db_stmt **out)
{
	return prepare(db, sqlite, pg, 0, out);
}

void db_finalize(struct db_stmt *st)
{
	if (st == NULL || st->cached)
		return;
	if (st->db->engine == DB_POSTGRES)
		db__pg_finalize(st);
	else
		db__sqlite_finalize(st);
	free(st);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

struct db_stmt *db_cached(struct db *db, const char *sqlite, const char *pg)
{
	const char *key = db->engine == DB_POSTGRES && pg ? pg : sqlite;
	uint64_t h = fnv1a(key);
	struct db_cache_entry *slot = &db->cache[0];
	struct db_stmt *st;

	/* Nobody would finalise its statements before the connection closes. */
	if (db->borrowed) {
		db__fail(db, DB_ERROR, "no statement cache on a borrowed connection");
		return NULL;
	}
	for (int i = 0; i < DB_CACHE; i++) {
		struct db_cache_entry *c = &db->cache[i];

		if (c->st && c->hash == h && strcmp(c->key, key) == 0) {
			c->last_used = ++db->clock;
			db_reset(c->st);
			db_clear_bindings(c->st);
			return c->st;
		}
		if (c->last_used < slot->last_used)
			slot = &db->cache[i];
	}
	/* Not cached: replace the least recently used entry. */
	if (slot->st) {
		slot->st->cached = 0;
		db_finalize(slot->st);
	}
	free(slot->key);
	memset(slot, 0, sizeof(*slot));
	if (prepare(db, sqlite, pg, 1, &st) != DB_OK)
		return NULL;
	if ((slot->key = strdup(key)) == NULL) {
		db_finalize(st);
		db__fail(db, DB_NOMEM, "out of memory");
		return NULL;
	}
	st->cached = 1;
	slot->st = st;
	slot->hash = h;
	slot->last_used = ++db->clock;
	return st;
}

/* ---- binding ----------------------------------------------------------- */

enum db_rc db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	if (st->sq)
		return db__sqlite_rc(st->db, sqlite3_bind_int64(st->sq, i, v));
	if (i >= 1 && i <= st->nparams)
		snprintf(st->params[i - 1].num, sizeof(st->params[i - 1].num), "%lld",
		         (long long)v);
	return db__pg_bind(st, i, NULL, 0, 0, 2);
}

enum db_rc db_bind_double(struct db_stmt *st, int i, double v)
{
	if (st->sq)
		return db__sqlite_rc(st->db, sqlite3_bind_double(st->sq, i, v));
	if (i >= 1 && i <= st->nparams)
		snprintf(st->params[i - 1].num, sizeof(st->params[i - 1].num), "%.17g", v);
	return db__pg_bind(st, i, NULL, 0, 0, 2);
}

enum db_rc db_bind_text(struct db_stmt *st, int i, const char *v, ptrdiff_t len)
{
	if (v == NULL)
		return db_bind_null(st, i);
	if (st->sq)
		return db__sqlite_rc(
		        st->db,
		        sqlite3_bind_text(st->sq, i, v, len < 0 ? -1 : (int)len, SQLITE_STATIC));
	return db__pg_bind(st, i, v, len < 0 ? 0 : (size_t)len, 0, len >= 0);
}

enum db_rc db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
	if (st->sq)
		return db__sqlite_rc(
		        st->db, v || len ? sqlite3_bind_blob(st->sq, i, v, (int)len, SQLITE_STATIC)
		                         : sqlite3_bind_zeroblob(st->sq, i, 0));
	return db__pg_bind(st, i, v ? v : "", len, 1, 0);
}

enum db_rc db_bind_text_copy(struct db_stmt *st, int i, const char *v, ptrdiff_t len)
{
	if (v == NULL)
		return db_bind_null(st, i);
	if (st->sq)
		return db__sqlite_rc(
		        st->db,
		        sqlite3_bind_text(st->sq, i, v, len < 0 ? -1 : (int)len, SQLITE_TRANSIENT));
	return db__pg_bind(st, i, v, len < 0 ? strlen(v) : (size_t)len, 0, 1);
}

enum db_rc db_bind_blob_copy(struct db_stmt *st, int i, const void *v, size_t len)
{
	if (st->sq)
		return db__sqlite_rc(st->db, v || len ? sqlite3_bind_blob(st->sq, i, v, (int)len,
		                                                          SQLITE_TRANSIENT)
		                                      : sqlite3_bind_zeroblob(st->sq, i, 0));
	return db__pg_bind(st, i, v ? v : "", len, 1, 1);
}

enum db_rc db_bind_null(struct db_stmt *st, int i)
{
	if (st->sq)
		return db__sqlite_rc(st->db, sqlite3_bind_null(st->sq, i));
	return db__pg_bind(st, i, NULL, 0, 0, 0);
}

enum db_rc db_bind_text_or_null(struct db_stmt *st, int i, const char *v)
{
	return v ? db_bind_text(st, i, v, -1) : db_bind_null(st, i);
}

/* ---- stepping and reading ---------------------------------------------- */

enum db_rc db_step(struct db_stmt *st)
{
	int rc;

	if (!st->sq)
		return db__pg_step(st);
	rc = sqlite3_step(st->sq);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return db__sqlite_rc(st->db, rc);
}

void db_reset(struct db_stmt *st)
{
	if (st->sq)
		sqlite3_reset(st->sq);
	else
		db__pg_reset(st);
}

void db_set_paged(struct db_stmt *st, int on)
{
	if (!st->sq && st->paged != !!on) {
		db_reset(st); /* a read begun the other way ends here */
		st->paged = !!on;
	}
}

int64_t db_rows_peak(const struct db *db)
{
	return db->rows_peak;
}

void db_rows_peak_reset(struct db *db)
{
	db->rows_peak = 0;
}

void db_clear_bindings(struct db_stmt *st)
{
	if (st->sq) {
		sqlite3_clear_bindings(st->sq);
		return;
	}
	for (int i = 0; i < st->nparams; i++) {
		st->values[i] = NULL;
		st->lengths[i] = 0;
		st->formats[i] = 0;
	}
}

int db_column_count(struct db_stmt *st)
{
	if (st->sq)
		return sqlite3_column_count(st->sq);
	return st->res ? st->ncols : 0;
}

enum db_type db_column_type(struct db_stmt *st, int i)
{
	if (!st->sq)
		return db__pg_column_type(st, i);
	switch (sqlite3_column_type(st->sq, i)) {
	case SQLITE_INTEGER: return DB_INTEGER;
	case SQLITE_FLOAT: return DB_FLOAT;
	case SQLITE_TEXT: return DB_TEXT;
	case SQLITE_BLOB: return DB_BLOB;
	default: return DB_NULL;
	}
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
	const char *v;

	if (st->sq)
		return sqlite3_column_int64(st->sq, i);
	if ((v = db__pg_value(st, i, NULL)) == NULL)
		return 0;
	if (db__pg_column_type(st, i) == DB_INTEGER && (v[0] == 't' || v[0] == 'f'))
		return v[0] == 't'; /* a boolean */
	return strtoll(v, NULL, 10);
}

double db_column_double(struct db_stmt *st, int i)
{
	const char *v;

	if (st->sq)
		return sqlite3_column_double(st->sq, i);
	if ((v = db__pg_value(st, i, NULL)) == NULL)
		return 0;
	return strtod(v, NULL);
}

const char *db_column_text(struct db_stmt *st, int i, size_t *len)
{
	const char *v;

	if (!st->sq)
		return db__pg_value(st, i, len);
	v = (const char *)sqlite3_column_text(st->sq, i);
	if (len)
		*len = v ? (size_t)sqlite3_column_bytes(st->sq, i) : 0;
	return v;
}

const void *db_column_blob(struct db_stmt *st, int i, size_t *len)
{
	const void *v;

	if (!st->sq)
		return db__pg_blob(st, i, len);
	v = sqlite3_column_blob(st->sq, i);
	if (len)
		*len = (size_t)sqlite3_column_bytes(st->sq, i);
	/* SQLite gives NULL for an empty blob: only SQL NULL is NULL here. */
	if (v == NULL && sqlite3_column_type(st->sq, i) != SQLITE_NULL)
		v = "";
	return v;
}

int64_t db_changes(struct db *db)
{
	return db->engine == DB_POSTGRES ? db->changes : sqlite3_changes(db->sq);
}
