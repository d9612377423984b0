/*
 * store/taxii.c — the queries behind the TAXII 2.1 endpoints: one
 * collection's versions filtered by id, type, spec_version and
 * match[version], in date_added order with a cursor; deletion from a
 * collection; and the status resources of POST requests.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Values bound in the order their '?' appear in the SQL. */
struct binds {
	const char *text[512];
	int64_t num[512];
	int is_text[512];
	int n;
};

static void bind_text(struct binds *b, const char *v)
{
	if (b->n < 512) {
		b->text[b->n] = v;
		b->is_text[b->n++] = 1;
	}
}

static void bind_num(struct binds *b, int64_t v)
{
	if (b->n < 512) {
		b->num[b->n] = v;
		b->is_text[b->n++] = 0;
	}
}

static int count(const char *const *l)
{
	int n = 0;

	while (l && l[n])
		n++;
	return n;
}

/* Appends " AND col IN (?, ?, ...)" for a list. */
static void in_list(struct tix_buf *sql, struct binds *b, const char *col, const char *const *l)
{
	tix_buf_addf(sql, " AND %s IN (", col);
	for (int i = 0; l[i]; i++) {
		tix_buf_adds(sql, i ? ", ?" : "?");
		bind_text(b, l[i]);
	}
	tix_buf_adds(sql, ")");
}

/* The conditions on ids, types, spec_version and match[version], each
 * " AND ...", over membership m and version o. */
static enum tix_err filter_conditions(const struct store_taxii_filter *f, int with_ids,
                                      struct tix_buf *sql, struct binds *b, struct tix_error *err)
{
	int nv = count(f->versions), any_version;

	if (count(f->ids) + count(f->types) + count(f->spec_versions) + nv > 400)
		return tix_error_set(err, TIX_ETOOBIG, "match", "too many values to match");
	if (with_ids && f->ids && f->ids[0])
		in_list(sql, b, "o.id", f->ids);
	if (f->types && f->types[0])
		in_list(sql, b, "o.type", f->types);
	if (f->spec_versions && f->spec_versions[0]) {
		int with20 = 0;

		tix_buf_adds(sql, " AND (o.spec_version IN (");
		for (int i = 0; f->spec_versions[i]; i++) {
			tix_buf_adds(sql, i ? ", ?" : "?");
			bind_text(b, f->spec_versions[i]);
			if (strcmp(f->spec_versions[i], "2.0") == 0)
				with20 = 1;
		}
		tix_buf_adds(sql, with20 ? ") OR o.spec_version IS NULL)" : "))");
	}
	if (f->version_all)
		return TIX_OK;
	any_version = f->version_first || nv > 0;
	tix_buf_adds(sql, " AND (0");
	if (f->version_last || !any_version)
		tix_buf_adds(sql, " OR m.superseded = 0");
	if (f->version_first)
		tix_buf_adds(sql,
		             " OR NOT EXISTS (SELECT 1 FROM objects o2 JOIN collection_objects m2"
		             " ON m2.vid = o2.vid AND m2.ckey = m.ckey"
		             " WHERE o2.id = o.id AND o2.modified < o.modified)");
	if (nv > 0) {
		tix_buf_adds(sql, " OR o.modified IN (");
		for (int i = 0; i < nv; i++) {
			tix_buf_adds(sql, i ? ", ?" : "?");
			bind_text(b, f->versions[i]);
		}
		tix_buf_adds(sql, ")");
	}
	tix_buf_adds(sql, ")");
	return TIX_OK;
}

/* The WHERE clause of delete. */
static enum tix_err build_where(const struct store_taxii_filter *f, struct tix_buf *sql,
                                struct binds *b, struct tix_error *err)
{
	if (f->collection == NULL)
		return tix_error_set(err, TIX_EINVAL, "store", "a TAXII query needs a collection");
	tix_buf_adds(sql, " WHERE m.ckey = ? AND m.date_added > ?");
	bind_num(b, f->collection->key);
	bind_num(b, f->added_after);
	return filter_conditions(f, 1, sql, b, err);
}

static enum tix_err prepare(struct store *s, struct tix_buf *sql, struct binds *b,
                            sqlite3_stmt **st, struct tix_error *err)
{
	if ((*st = store__cached(s, tix_buf_str(sql), err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	for (int i = 0; i < b->n; i++) {
		if (b->is_text[i])
			sqlite3_bind_text(*st, i + 1, b->text[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(*st, i + 1, b->num[i]);
	}
	return TIX_OK;
}

/* Where the candidate rows of a listing come from, in date_added order,
 * at most a chunk at a time, each as (date_added, ckey, vid, superseded):
 * the versions of the listed ids (an index lookup each), the reader's
 * audience keys (one range each, merged: the audience rows carry the
 * version and `superseded`, so the page seeks once per key, then only
 * into objects), or the whole collection. The merge is lazy: a range
 * yields only the rows the page takes. The positions of the cursor and
 * chunk binds are recorded so the next chunk rebinds them. */
struct source {
	int after[STORE_READER_KEYS + 1], chunk[1];
	int nafter, nchunk;
};

static void source_sql(const struct store_taxii_filter *f, char keys[][160], size_t nkeys,
                       struct tix_buf *sql, struct binds *b, struct source *src)
{
	if (f->ids && f->ids[0]) {
		/* CROSS JOIN and "+": find the few versions of the ids by id and
		 * sort them, rather than walk the collection in date_added order
		 * looking for them. */
		tix_buf_adds(sql, "SELECT m.date_added AS date_added, m.ckey AS ckey, m.vid AS vid,"
		                  " m.superseded AS superseded FROM objects o CROSS JOIN"
		                  " collection_objects m ON m.vid = o.vid AND m.ckey = ?"
		                  " WHERE +m.date_added > ?");
		bind_num(b, f->collection->key);
		src->after[src->nafter++] = b->n;
		bind_num(b, 0);
		in_list(sql, b, "o.id", f->ids);
		tix_buf_adds(sql, " ORDER BY m.date_added + 0 LIMIT ?");
	} else if (f->reader) {
		for (size_t i = 0; i < nkeys; i++) {
			tix_buf_adds(sql, i ? " UNION " : "");
			tix_buf_adds(
			        sql,
			        "SELECT date_added, ckey, vid, superseded FROM collection_audience"
			        " WHERE ckey = ? AND key = ? AND date_added > ?");
			bind_num(b, f->collection->key);
			bind_text(b, keys[i]);
			src->after[src->nafter++] = b->n;
			bind_num(b, 0);
		}
		tix_buf_adds(sql, " ORDER BY 1 LIMIT ?");
	} else {
		tix_buf_adds(sql, "SELECT date_added, ckey, vid, superseded FROM collection_objects"
		                  " WHERE ckey = ? AND date_added > ? ORDER BY date_added LIMIT ?");
		bind_num(b, f->collection->key);
		src->after[src->nafter++] = b->n;
		bind_num(b, 0);
	}
	src->chunk[src->nchunk++] = b->n;
	bind_num(b, 0);
}

/* Reads a chunk of candidates after the cursor, tests each against the
 * filters (in SQL, as a column) and keep (in C), and goes on with the next
 * chunk until the page is full, the candidates end or the budget does:
 * the rows examined per request are bounded by the budget, whatever the
 * caller may or may not see. */
enum tix_err store_taxii_select(struct store *s, const struct store_taxii_filter *f,
                                int (*cb)(void *, const struct store_taxii_row *), void *arg,
                                int *more, struct tix_error *err)
{
	struct tix_buf sql;
	struct binds *b = calloc(1, sizeof(*b));
	struct source src = {{0}, {0}, 0, 0};
	char keys[STORE_READER_KEYS][160];
	size_t nkeys = 0, n = 0, examined = 0;
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int64_t chunk, after = f->added_after;
	int64_t last_out = after; /* the last row handed out */
	int rc = SQLITE_DONE, stop = 0;

	*more = 0;
	if (f->resume)
		*f->resume = f->added_after;
	if (b == NULL)
		return tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	if (f->collection == NULL) {
		free(b);
		return tix_error_set(err, TIX_EINVAL, "store", "a TAXII query needs a collection");
	}
	if (f->reader && !(f->ids && f->ids[0]) &&
	    (nkeys = store__reader_keys(f->reader, keys, STORE_READER_KEYS)) == 0) {
		free(b);
		return TIX_OK; /* nobody this reader could be: nothing to examine */
	}
	tix_buf_init(&sql, 1 << 16);
	tix_buf_adds(&sql,
	             "SELECT o.id, o.type, o.version, o.spec_version, m.date_added, o.body" AUD_COLS
	             ", (1");
	if ((e = filter_conditions(f, 0, &sql, b, err)) != TIX_OK)
		goto out;
	tix_buf_adds(&sql, ") FROM (");
	source_sql(f, keys, nkeys, &sql, b, &src);
	/* The candidates' order is the page's: CROSS JOIN keeps them the outer
	 * loop, so no sort (which would copy every body) is needed; the loop
	 * below checks that the order holds. */
	tix_buf_adds(&sql, ") m CROSS JOIN objects o ON o.vid = m.vid");
	/* A chunk a little larger than a page: with a policy filter, some rows
	 * examined are not handed out. */
	chunk = f->limit > 0 ? (int64_t)f->limit + 1 : -1;
	if (chunk > 0 && f->keep)
		chunk = chunk + chunk / 2 + 16;
	for (;;) {
		int64_t got = 0, want = chunk, last = after;

		if (f->budget > 0 && (want < 0 || (size_t)want > f->budget - examined))
			want = (int64_t)(f->budget - examined);
		for (int i = 0; i < src.nafter; i++)
			b->num[src.after[i]] = after;
		for (int i = 0; i < src.nchunk; i++)
			b->num[src.chunk[i]] = want;
		if ((e = prepare(s, &sql, b, &st, err)) != TIX_OK)
			goto out;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			/* The body is read only for rows the filter keeps. */
			struct store_taxii_row row = {
			        (const char *)sqlite3_column_text(st, 0),
			        (const char *)sqlite3_column_text(st, 1),
			        (const char *)sqlite3_column_text(st, 2),
			        (const char *)sqlite3_column_text(st, 3),
			        sqlite3_column_int64(st, 4),
			        NULL,
			        0,
			        store__audience(st, 6),
			};

			if (row.date_added <= last) {
				e = tix_error_set(
				        err, TIX_ESTORE, "store",
				        "a collection's rows came out of date_added order");
				goto out;
			}
			got++;
			examined++;
			last = row.date_added;
			if (sqlite3_column_int(st, 12) == 0 ||
			    (f->keep && !f->keep(f->keep_arg, &row)))
				continue;
			row.body = (const char *)sqlite3_column_text(st, 5);
			row.body_len = (size_t)sqlite3_column_bytes(st, 5);
			if (f->limit > 0 && n == f->limit) {
				*more = 1;
				stop = 1;
				break;
			}
			n++;
			last_out = row.date_added;
			if (cb(arg, &row) != 0) {
				stop = 1;
				break;
			}
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			break;
		sqlite3_reset(st);
		if (stop) {
			if (f->resume)
				*f->resume = last_out;
			break;
		}
		if (want < 0 || got < want) {
			if (f->resume)
				*f->resume = last;
			break; /* the candidates ended */
		}
		after = last;
		if (f->budget > 0 && examined >= f->budget) {
			/* A short page: the walk goes on after the last row examined. */
			*more = 1;
			if (f->resume)
				*f->resume = last;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "reading a collection");
out:
	if (st)
		sqlite3_reset(st); /* cached: reset, not finalised */
	tix_buf_release(&sql);
	free(b);
	return e;
}

int store_read_begin(struct store *s)
{
	sqlite3_stmt *st;
	int rc;

	if (!sqlite3_get_autocommit(s->db) || (st = store__cached(s, "BEGIN", NULL)) == NULL)
		return 0;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE;
}

void store_read_end(struct store *s, int begun)
{
	sqlite3_stmt *st;

	if (!begun || sqlite3_get_autocommit(s->db))
		return;
	if ((st = store__cached(s, "COMMIT", NULL)) == NULL) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_reset(st);
}

enum tix_err store_taxii_delete(struct store *s, const struct store_taxii_filter *f,
                                size_t *removed, struct tix_error *err)
{
	struct tix_buf sql;
	struct binds *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	*removed = 0;
	if (b == NULL)
		return tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	tix_buf_init(&sql, 1 << 16);
	if ((e = store__exec(s, "BEGIN IMMEDIATE", err)) != TIX_OK)
		goto out_free;
	/* The versions to remove, found with the same filter as a GET. */
	tix_buf_adds(&sql, "CREATE TEMP TABLE IF NOT EXISTS doomed (vid INTEGER PRIMARY KEY);"
	                   "DELETE FROM doomed;");
	if ((e = store__exec(s, tix_buf_str(&sql), err)) != TIX_OK)
		goto rollback;
	tix_buf_reset(&sql);
	tix_buf_adds(&sql, "INSERT INTO doomed (vid) SELECT m.vid"
	                   " FROM collection_objects m JOIN objects o ON o.vid = m.vid");
	if ((e = build_where(f, &sql, b, err)) != TIX_OK)
		goto rollback;
	if (f->delete_owner) {
		tix_buf_adds(&sql, " AND o.owner_org = ?");
		bind_text(b, f->delete_owner);
	}
	if ((e = prepare(s, &sql, b, &st, err)) != TIX_OK)
		goto rollback;
	if (sqlite3_step(st) != SQLITE_DONE) {
		e = store__db_error(s, err, "selecting versions to delete");
		goto rollback;
	}
	sqlite3_reset(st);
	st = NULL;
	*removed = (size_t)sqlite3_changes(s->db);
	tix_buf_reset(&sql);
	/* After the removal, the latest remaining version of each object
	 * touched is no longer superseded. */
	tix_buf_addf(
	        &sql,
	        "CREATE TEMP TABLE IF NOT EXISTS doomed_ids (id TEXT PRIMARY KEY);"
	        "DELETE FROM doomed_ids;"
	        "INSERT OR IGNORE INTO doomed_ids SELECT o.id FROM objects o"
	        " WHERE o.vid IN (SELECT vid FROM doomed);"
	        /* a sighting leaves the collection (and maybe the store) */
	        STORE_SIGHTINGS_BUMP " AND EXISTS (SELECT 1 FROM doomed d"
	        " JOIN sighting_index x ON x.vid = d.vid);"
	        "DELETE FROM collection_objects WHERE ckey = %lld"
	        " AND vid IN (SELECT vid FROM doomed);"
	        "UPDATE collection_objects SET superseded = EXISTS ("
	        " SELECT 1 FROM objects o, objects o2, collection_objects m2"
	        " WHERE o.vid = collection_objects.vid AND o2.id = o.id"
	        " AND o2.modified > o.modified AND substr(o.modified, 1, 1) <> '#'"
	        " AND m2.ckey = collection_objects.ckey"
	        " AND m2.vid = o2.vid)"
	        " WHERE ckey = %lld AND vid IN (SELECT o.vid FROM objects o"
	        " WHERE o.id IN (SELECT id FROM doomed_ids));"
	        "DELETE FROM doomed_ids;"
	        /* A version leaves the store when no collection holds it, except
	         * a revoked one with an earlier version that stays: that would
	         * make the earlier one current again (tix get, export, match). */
	        "DELETE FROM objects WHERE vid IN (SELECT vid FROM doomed)"
	        " AND NOT EXISTS (SELECT 1 FROM collection_objects c WHERE c.vid = objects.vid)"
	        " AND NOT (objects.revoked = 1 AND EXISTS (SELECT 1 FROM objects e"
	        "  WHERE e.id = objects.id AND e.modified < objects.modified"
	        "  AND substr(objects.modified, 1, 1) <> '#'"
	        "  AND (e.vid NOT IN (SELECT vid FROM doomed) OR EXISTS"
	        "   (SELECT 1 FROM collection_objects c2 WHERE c2.vid = e.vid))));"
	        "DELETE FROM doomed;",
	        (long long)f->collection->key, (long long)f->collection->key);
	if ((e = store__exec(s, tix_buf_str(&sql), err)) != TIX_OK)
		goto rollback;
	if (f->audit && *removed > 0) {
		/* The deletion and its audit entry commit together. (in_tx tells
		 * store_audit_append that a transaction is open.) */
		s->in_tx = 1;
		e = store_audit_append(s, f->audit, 1, err);
		s->in_tx = 0;
		if (e != TIX_OK)
			goto rollback;
	}
	e = store__exec(s, "COMMIT", err);
	if (e == TIX_OK)
		goto out_free;
rollback:
	if (st)
		sqlite3_reset(st);
	store__exec(s, "ROLLBACK", NULL);
	*removed = 0;
out_free:
	tix_buf_release(&sql);
	free(b);
	return e;
}

enum tix_err store_status_put(struct store *s, const char *id, int64_t user_key, const char *body,
                              struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct tix_time now;
	enum tix_err e = TIX_OK;

	tix_time_now(&now);
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT INTO taxii_status (id, user_key, created, body)"
	                       " VALUES (?1, ?2, ?3, ?4)",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "saving a status");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_key);
	sqlite3_bind_int64(st, 3, tix_time_to_us(&now));
	sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "saving a status");
	sqlite3_finalize(st);
	if (e != TIX_OK)
		return e;
	/* Statuses are kept STORE_STATUS_KEEP_US (TAXII asks for at least 24
	 * hours), then dropped here, so the table does not grow forever. */
	if ((st = store__cached(s, "DELETE FROM taxii_status WHERE created < ?1", err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_int64(st, 1, tix_time_to_us(&now) - STORE_STATUS_KEEP_US);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "dropping old statuses");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_status_get(struct store *s, const char *id, char **body, int64_t *user_key,
                              struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int rc;

	*body = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT body, user_key FROM taxii_status WHERE id = ?1", -1,
	                       &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "reading a status");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*body = strdup((const char *)sqlite3_column_text(st, 0));
		*user_key = sqlite3_column_int64(st, 1);
		if (*body == NULL)
			e = tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	} else if (rc == SQLITE_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, id, "no such status");
	} else {
		e = store__db_error(s, err, "reading a status");
	}
	sqlite3_finalize(st);
	return e;
}
