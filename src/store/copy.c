/*
 * store/copy.c — `tix migrate`: every table of one store copied into an empty
 * store on the other engine (or the same), table by table in key order with
 * paged reads, in one transaction on the target, then verified by per-table
 * row counts and BLAKE2b digests over an engine-independent row encoding.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define COPY_MAX_TABLES 128
#define COPY_MAX_COLS   48
#define COPY_MAX_FKS    8
#define COPY_NAME       64
#define COPY_SQL        4096

struct copy_col {
	char name[COPY_NAME];
	int pk;   /* position in the primary key, from 1; 0: not in it */
	int text; /* PostgreSQL text: ordered COLLATE "C" (SQLite's BINARY) */
};

struct copy_table {
	char name[COPY_NAME];
	int ncols;
	struct copy_col col[COPY_MAX_COLS];
	int nfks;
	char fk[COPY_MAX_FKS][COPY_NAME]; /* the tables its rows refer to */
	int placed;
};

struct copy_catalog {
	int n;
	struct copy_table t[COPY_MAX_TABLES];
};

/* The full-text table is no plain table on SQLite (FTS5, its rows keyed
 * by rowid) and a table keyed by vid with a generated tsvector on
 * PostgreSQL: both are read and written as (key, name, description,
 * labels), copied last (its rows refer to versions). */
#define FTS_TABLE "text_index"
/* meta rows that belong to the engine, not to the store (PostgreSQL's
 * stand-ins for PRAGMA user_version and data_version): never copied. */
#define META_OWN "key NOT IN ('schema_version', 'data_version')"

static const char *const catalog_sql =
        "SELECT m.name, p.name, p.pk, 0 FROM sqlite_master m, pragma_table_info(m.name) p"
        " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name NOT GLOB 'text_index*'"
        " ORDER BY m.name, p.cid";
static const char *const catalog_pg =
        "SELECT c.relname::text, a.attname::text,"
        " COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k (a, n)"
        " WHERE k.a = a.attnum), 0),"
        " CASE WHEN a.atttypid IN (25, 1043) THEN 1 ELSE 0 END"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid"
        " LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0"
        " AND NOT a.attisdropped AND a.attgenerated = '' AND c.relname <> 'text_index'"
        " ORDER BY c.relname::text COLLATE \"C\", a.attnum";
static const char *const fks_sql =
        "SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
        " WHERE m.type = 'table'";
static const char *const fks_pg =
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE c.contype = 'f' AND n.nspname = current_schema()";

static struct copy_table *find_table(struct copy_catalog *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->t[i].name, name) == 0)
			return &c->t[i];
	return NULL;
}

static const struct copy_col *find_col(const struct copy_table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->col[i].name, name) == 0)
			return &t->col[i];
	return NULL;
}

/* A name from the catalogue, copied for use in SQL between double quotes. */
static int take_name(char *dst, const char *src)
{
	if (src == NULL || src[0] == '\0' || strlen(src) >= COPY_NAME || strchr(src, '"'))
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static enum tix_err load_catalog(struct db *db, struct copy_catalog *c, const char *side,
                                 struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum db_rc rc;

	c->n = 0;
	if (db_prepare(db, catalog_sql, catalog_pg, &st) != DB_OK)
		return db_error(db, err, "reading the tables");
	while ((rc = db_step(st)) == DB_ROW) {
		const char *tn = db_column_text(st, 0, NULL), *cn = db_column_text(st, 1, NULL);
		struct copy_table *t;

		if (c->n == 0 || tn == NULL || strcmp(c->t[c->n - 1].name, tn) != 0) {
			if (c->n == COPY_MAX_TABLES)
				goto too_many;
			memset(&c->t[c->n], 0, sizeof(c->t[c->n]));
			if (take_name(c->t[c->n].name, tn) != 0)
				goto bad_name;
			c->n++;
		}
		t = &c->t[c->n - 1];
		if (t->ncols == COPY_MAX_COLS)
			goto too_many;
		if (take_name(t->col[t->ncols].name, cn) != 0)
			goto bad_name;
		t->col[t->ncols].pk = (int)db_column_int64(st, 2);
		t->col[t->ncols].text = (int)db_column_int64(st, 3);
		t->ncols++;
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return db_error(db, err, "reading the tables");
	if (db_prepare(db, fks_sql, fks_pg, &st) != DB_OK)
		return db_error(db, err, "reading the foreign keys");
	while ((rc = db_step(st)) == DB_ROW) {
		struct copy_table *t = find_table(
		        c, db_column_text(st, 0, NULL) ? db_column_text(st, 0, NULL) : "");
		const char *parent = db_column_text(st, 1, NULL);

		if (t == NULL || parent == NULL || strcmp(parent, t->name) == 0)
			continue;
		if (t->nfks == COPY_MAX_FKS)
			goto too_many;
		if (take_name(t->fk[t->nfks], parent) != 0)
			goto bad_name;
		t->nfks++;
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return db_error(db, err, "reading the foreign keys");
	return TIX_OK;
too_many:
	db_finalize(st);
	return tix_error_set(err, TIX_EINVAL, side,
	                     "more tables or columns than tix migrate copies");
bad_name:
	db_finalize(st);
	return tix_error_set(err, TIX_EINVAL, side,
	                     "a table or column name tix migrate cannot copy");
}

/* The target has the source's tables with the same columns (by name). */
static enum tix_err same_tables(struct copy_catalog *a, struct copy_catalog *b,
                                struct tix_error *err)
{
	for (int i = 0; i < a->n; i++) {
		struct copy_table *t = &a->t[i], *u = find_table(b, t->name);

		if (u == NULL)
			return tix_error_set(err, TIX_EINVAL, "target",
			                     "has no table %s: the stores' schemas differ",
			                     t->name);
		if (u->ncols != t->ncols)
			return tix_error_set(
			        err, TIX_EINVAL, "target",
			        "table %s has %d columns, the source's %d: the stores' "
			        "schemas differ",
			        t->name, u->ncols, t->ncols);
		for (int j = 0; j < t->ncols; j++) {
			const struct copy_col *c = find_col(u, t->col[j].name);

			if (c == NULL || c->pk != t->col[j].pk)
				return tix_error_set(
				        err, TIX_EINVAL, "target",
				        "table %s: column %s differs: the stores' schemas "
				        "differ",
				        t->name, t->col[j].name);
		}
	}
	if (a->n != b->n)
		return tix_error_set(err, TIX_EINVAL, "target",
		                     "has %d tables, the source %d: the stores' schemas differ",
		                     b->n, a->n);
	return TIX_OK;
}

/* The order of the copy: every table after the tables its rows refer to,
 * by name among those ready. order[] gets indexes into c->t. */
static enum tix_err copy_order(struct copy_catalog *c, int *order, struct tix_error *err)
{
	for (int k = 0; k < c->n; k++) {
		int pick = -1;

		for (int i = 0; i < c->n && pick < 0; i++) {
			int ready = !c->t[i].placed;

			for (int f = 0; ready && f < c->t[i].nfks; f++) {
				struct copy_table *p = find_table(c, c->t[i].fk[f]);

				ready = p == NULL || p->placed;
			}
			if (ready)
				pick = i;
		}
		if (pick < 0)
			return tix_error_set(err, TIX_EINVAL, "source",
			                     "the tables' foreign keys form a cycle");
		c->t[pick].placed = 1;
		order[k] = pick;
	}
	return TIX_OK;
}

/* Appends to a fixed buffer; -1 when it is full. */
static int put(char *buf, size_t *n, const char *fmt, ...) TIX_PRINTF(3, 4);
static int put(char *buf, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *n, COPY_SQL - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= COPY_SQL - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* SELECT of t's columns in key order on engine e, whose catalogue entry
 * of t is here (for the collation of its text keys). */
static int select_sql(const struct copy_table *t, const struct copy_table *here, enum db_engine e,
                      char *buf)
{
	size_t n = 0;
	int first = 1;

	if (strcmp(t->name, FTS_TABLE) == 0) {
		snprintf(buf, COPY_SQL,
		         "SELECT %s, name, description, labels FROM text_index ORDER BY 1",
		         e == DB_SQLITE ? "rowid" : "vid");
		return 0;
	}
	if (put(buf, &n, "SELECT ") != 0)
		return -1;
	for (int i = 0; i < t->ncols; i++)
		if (put(buf, &n, "%s\"%s\"", i ? ", " : "", t->col[i].name) != 0)
			return -1;
	if (put(buf, &n, " FROM \"%s\"%s", t->name,
	        strcmp(t->name, "meta") == 0 ? " WHERE " META_OWN : "") != 0)
		return -1;
	for (int k = 1; k <= t->ncols; k++)
		for (int i = 0; i < t->ncols; i++) {
			const struct copy_col *c;

			if (t->col[i].pk != k)
				continue;
			c = find_col(here, t->col[i].name);
			if (put(buf, &n, "%s\"%s\"", first ? " ORDER BY " : ", ", t->col[i].name) !=
			            0 ||
			    put(buf, &n, "%s%s",
			        e == DB_POSTGRES && c && c->text ? " COLLATE \"C\"" : "",
			        " NULLS FIRST") != 0)
				return -1;
			first = 0;
		}
	return 0;
}

static int insert_sql(const struct copy_table *t, enum db_engine e, char *buf)
{
	size_t n = 0;
	char num[16];

	if (strcmp(t->name, FTS_TABLE) == 0) {
		snprintf(
		        buf, COPY_SQL,
		        "INSERT INTO text_index (%s, name, description, labels) VALUES (?1, ?2, ?3, ?4)",
		        e == DB_SQLITE ? "rowid" : "vid");
		return 0;
	}
	if (put(buf, &n, "INSERT INTO \"%s\" (", t->name) != 0)
		return -1;
	for (int i = 0; i < t->ncols; i++)
		if (put(buf, &n, "%s\"%s\"", i ? ", " : "", t->col[i].name) != 0)
			return -1;
	if (put(buf, &n, ") VALUES (") != 0)
		return -1;
	for (int i = 0; i < t->ncols; i++) {
		snprintf(num, sizeof(num), "?%d", i + 1);
		if (put(buf, &n, "%s%s", i ? ", " : "", num) != 0)
			return -1;
	}
	return put(buf, &n, ")");
}

size_t store__copy_encode(enum db_type type, int64_t i, double d, size_t len, unsigned char *out)
{
	uint64_t v = 0;

	switch (type) {
	case DB_NULL: out[0] = 0; return 1;
	case DB_INTEGER:
		out[0] = 1;
		v = (uint64_t)i;
		break;
	case DB_FLOAT:
		out[0] = 2;
		memcpy(&v, &d, sizeof(v));
		break;
	case DB_TEXT:
		out[0] = 3;
		v = (uint64_t)len;
		break;
	case DB_BLOB:
		out[0] = 4;
		v = (uint64_t)len;
		break;
	}
	for (int k = 0; k < 8; k++)
		out[1 + k] = (unsigned char)(v >> (56 - 8 * k));
	return 9;
}

/* Hashes column i of the current row in the canonical encoding. */
static void hash_column(crypto_generichash_state *h, struct db_stmt *st, int i)
{
	enum db_type type = db_column_type(st, i);
	unsigned char head[9];
	const void *p = NULL;
	size_t len = 0, n;

	if (type == DB_TEXT)
		p = db_column_text(st, i, &len);
	else if (type == DB_BLOB)
		p = db_column_blob(st, i, &len);
	n = store__copy_encode(type, type == DB_INTEGER ? db_column_int64(st, i) : 0,
	                       type == DB_FLOAT ? db_column_double(st, i) : 0.0, len, head);
	crypto_generichash_update(h, head, n);
	if (p && len)
		crypto_generichash_update(h, p, len);
}

static enum db_rc bind_column(struct db_stmt *ins, int k, struct db_stmt *st, int i)
{
	size_t len = 0;
	const void *p;

	switch (db_column_type(st, i)) {
	case DB_INTEGER: return db_bind_int64(ins, k, db_column_int64(st, i));
	case DB_FLOAT: return db_bind_double(ins, k, db_column_double(st, i));
	case DB_TEXT:
		p = db_column_text(st, i, &len);
		return db_bind_text(ins, k, p, (ptrdiff_t)len);
	case DB_BLOB: p = db_column_blob(st, i, &len); return db_bind_blob(ins, k, p ? p : "", len);
	default: return db_bind_null(ins, k);
	}
}

/* Reads table t of db in key order: its rows and their digest; with ins,
 * each row is also inserted by it (the copy). */
static enum tix_err read_table(struct db *db, const struct copy_table *t,
                               const struct copy_table *here, struct db *to,
                               struct store_copy_table *out, int source, struct tix_error *err)
{
	char sql[COPY_SQL];
	struct db_stmt *st = NULL, *ins = NULL;
	crypto_generichash_state h;
	int64_t rows = 0;
	enum tix_err e = TIX_OK;
	enum db_rc rc;
	int ncols = strcmp(t->name, FTS_TABLE) == 0 ? 4 : t->ncols;

	if (select_sql(t, here, db_engine(db), sql) != 0)
		return tix_error_set(err, TIX_EINVAL, t->name, "the table's statement is too long");
	if (db_prepare(db, sql, NULL, &st) != DB_OK)
		return db_error(db, err, t->name);
	db_set_paged(st, 1);
	if (to) {
		if (insert_sql(t, db_engine(to), sql) != 0) {
			db_finalize(st);
			return tix_error_set(err, TIX_EINVAL, t->name,
			                     "the table's statement is too long");
		}
		if (db_prepare(to, sql, NULL, &ins) != DB_OK) {
			db_finalize(st);
			return db_error(to, err, t->name);
		}
	}
	crypto_generichash_init(&h, NULL, 0, 32);
	while ((rc = db_step(st)) == DB_ROW) {
		for (int i = 0; i < ncols; i++)
			hash_column(&h, st, i);
		rows++;
		if (ins == NULL)
			continue;
		for (int i = 0; i < ncols; i++)
			if (bind_column(ins, i + 1, st, i) != DB_OK) {
				e = db_error(to, err, t->name);
				goto out;
			}
		if (db_step(ins) != DB_DONE) {
			e = db_error(to, err, t->name);
			goto out;
		}
		db_reset(ins);
		db_clear_bindings(ins);
	}
	if (rc != DB_DONE)
		e = db_error(db, err, t->name);
out:
	db_finalize(ins);
	db_finalize(st);
	if (source) {
		out->rows_source = rows;
		crypto_generichash_final(&h, out->digest_source, 32);
	} else {
		out->rows_target = rows;
		crypto_generichash_final(&h, out->digest_target, 32);
	}
	return e;
}

static enum tix_err schema_of(struct db *db, int *v, struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum db_rc rc;

	if (db_prepare(db, "PRAGMA user_version",
	               "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'schema_version'",
	               &st) != DB_OK)
		return db_error(db, err, "reading the schema version");
	rc = db_step(st);
	*v = rc == DB_ROW ? (int)db_column_int64(st, 0) : 0;
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return db_error(db, err, "reading the schema version");
	return TIX_OK;
}

/* The first table of the target with a row (meta aside), or NULL. */
static enum tix_err first_full(struct db *db, struct copy_catalog *c, const char **full,
                               struct tix_error *err)
{
	char sql[COPY_SQL];

	*full = NULL;
	for (int i = 0; i < c->n && *full == NULL; i++) {
		struct db_stmt *st = NULL;
		enum db_rc rc;

		if (strcmp(c->t[i].name, "meta") == 0)
			continue;
		if (strcmp(c->t[i].name, FTS_TABLE) == 0)
			snprintf(sql, sizeof(sql), "SELECT 1 FROM text_index LIMIT 1");
		else
			snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1", c->t[i].name);
		if (db_prepare(db, sql, NULL, &st) != DB_OK)
			return db_error(db, err, c->t[i].name);
		rc = db_step(st);
		db_finalize(st);
		if (rc == DB_ROW)
			*full = c->t[i].name;
		else if (rc != DB_DONE)
			return db_error(db, err, c->t[i].name);
	}
	return TIX_OK;
}

/* PostgreSQL's identity columns continue after the rows copied (SQLite's
 * AUTOINCREMENT follows the largest key inserted by itself). */
static enum tix_err pg_sequences(struct db *db, struct tix_error *err)
{
	struct db_stmt *st = NULL, *set = NULL;
	char sql[COPY_SQL], tn[COPY_NAME], cn[COPY_NAME];
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (db_prepare(db, "SELECT 1",
	               "SELECT table_name::text, column_name::text FROM information_schema.columns"
	               " WHERE table_schema = current_schema() AND is_identity = 'YES'",
	               &st) != DB_OK)
		return db_error(db, err, "reading the identity columns");
	while ((rc = db_step(st)) == DB_ROW) {
		if (take_name(tn, db_column_text(st, 0, NULL)) != 0 ||
		    take_name(cn, db_column_text(st, 1, NULL)) != 0) {
			e = tix_error_set(err, TIX_EINVAL, "target",
			                  "an identity column tix migrate "
			                  "cannot name");
			break;
		}
		snprintf(sql, sizeof(sql),
		         "SELECT setval(pg_get_serial_sequence(?1, ?2),"
		         " COALESCE((SELECT MAX(\"%s\") FROM \"%s\"), 0) + 1, false)",
		         cn, tn);
		if (db_prepare(db, sql, NULL, &set) != DB_OK) {
			e = db_error(db, err, tn);
			break;
		}
		db_bind_text(set, 1, tn, -1);
		db_bind_text(set, 2, cn, -1);
		rc = db_step(set);
		db_finalize(set);
		if (rc != DB_ROW) {
			e = db_error(db, err, tn);
			break;
		}
	}
	if (e == TIX_OK && rc != DB_DONE)
		e = db_error(db, err, "reading the identity columns");
	db_finalize(st);
	return e;
}

enum tix_err store_copy(struct store *src, struct store *dst,
                        int (*cb)(void *arg, const struct store_copy_table *t), void *arg,
                        struct tix_error *err)
{
	struct db *from = store__engine(src), *to = store__engine(dst);
	struct copy_catalog *sc = calloc(1, sizeof(*sc)), *dc = calloc(1, sizeof(*dc));
	struct store_copy_table *res = NULL;
	int order[COPY_MAX_TABLES + 1], vs = 0, vd = 0, n = 0, began_src = 0, began_dst = 0;
	const char *full = NULL, *bad = NULL;
	enum tix_err e;

	if (sc == NULL || dc == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "migrate", "out of memory");
		goto out;
	}
	if ((e = schema_of(from, &vs, err)) != TIX_OK || (e = schema_of(to, &vd, err)) != TIX_OK)
		goto out;
	if (vs != vd) {
		e = tix_error_set(err, TIX_EINVAL, "target",
		                  "schema version %d, the source's %d: both must be at the same "
		                  "version (open both with this tix, which migrates them)",
		                  vd, vs);
		goto out;
	}
	/* One consistent snapshot of the source; all of the copy or none. */
	if (db_begin(from, 0) != DB_OK) {
		e = db_error(from, err, "source");
		goto out;
	}
	began_src = 1;
	if (db_begin(to, 1) != DB_OK) {
		e = db_error(to, err, "target");
		goto out;
	}
	began_dst = 1;
	if ((e = load_catalog(from, sc, "source", err)) != TIX_OK ||
	    (e = load_catalog(to, dc, "target", err)) != TIX_OK ||
	    (e = same_tables(sc, dc, err)) != TIX_OK || (e = copy_order(sc, order, err)) != TIX_OK)
		goto out;
	/* The full-text table, last. */
	if (sc->n == COPY_MAX_TABLES) {
		e = tix_error_set(err, TIX_EINVAL, "source", "more tables than tix migrate copies");
		goto out;
	}
	memset(&sc->t[sc->n], 0, sizeof(sc->t[sc->n]));
	snprintf(sc->t[sc->n].name, COPY_NAME, "%s", FTS_TABLE);
	order[sc->n] = sc->n;
	sc->n++;
	if ((e = first_full(to, sc, &full, err)) != TIX_OK)
		goto out;
	if (full) {
		e = tix_error_set(err, TIX_EEXIST, "target",
		                  "is not empty (table %s has rows): tix migrate copies into an "
		                  "empty store only",
		                  full);
		goto out;
	}
	if ((res = calloc((size_t)sc->n, sizeof(*res))) == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "migrate", "out of memory");
		goto out;
	}
	/* The target's own meta rows (its new node secret, its empty audit
	 * chain's head) give way to the source's. */
	if (db_exec(to, "DELETE FROM meta WHERE " META_OWN, NULL) != DB_OK) {
		e = db_error(to, err, "meta");
		goto out;
	}
	for (n = 0; n < sc->n; n++) {
		const struct copy_table *t = &sc->t[order[n]];

		res[n].name = t->name;
		if ((e = read_table(from, t, t, to, &res[n], 1, err)) != TIX_OK)
			goto out;
	}
	if (db_engine(to) == DB_POSTGRES && (e = pg_sequences(to, err)) != TIX_OK)
		goto out;
	/* Verification: the target read back in the same order, in its own
	 * transaction (which sees the copy). */
	for (int i = 0; i < n; i++) {
		const struct copy_table *t = &sc->t[order[i]];
		const struct copy_table *u = find_table(dc, t->name);

		if ((e = read_table(to, t, u ? u : t, NULL, &res[i], 0, err)) != TIX_OK)
			goto out;
		if (bad == NULL && (res[i].rows_source != res[i].rows_target ||
		                    memcmp(res[i].digest_source, res[i].digest_target, 32) != 0))
			bad = t->name;
		if (cb)
			cb(arg, &res[i]);
	}
	if (bad) {
		e = tix_error_set(err, TIX_ESTORE, "target",
		                  "table %s differs from the source's after the copy: the copy is "
		                  "rolled back",
		                  bad);
		goto out;
	}
	if (db_commit(to) != DB_OK) {
		e = db_error(to, err, "committing the copy");
		goto out;
	}
	began_dst = 0;
	e = TIX_OK;
out:
	if (began_dst)
		db_rollback(to);
	if (began_src)
		db_rollback(from);
	free(res);
	free(sc);
	free(dc);
	return e;
}
