/*
 * store/taxii.c — the queries behind the TAXII 2.1 endpoints: one
 * collection's versions filtered by id, type, spec_version and
 * match[version], in date_added order with a cursor; deletion from a
 * collection; and the status resources of POST requests. On the engine
 * layer (db.h): one text for both engines, but for the listing's ORDER BY,
 * which only PostgreSQL needs (SQLite keeps the candidates' order).
 */
#include <stdint.h>
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
	tix_buf_adds(sql, " AND (FALSE");
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

/* Runs a script (no placeholders; pg: PostgreSQL's text, or NULL). */
static enum tix_err exec(struct store *s, const char *sql, const char *pg, struct tix_error *err)
{
	if (db_exec(store__engine(s), sql, pg) != DB_OK)
		return store__fail(s, err, "deleting from a collection");
	return TIX_OK;
}

/* The cached statement for sql (pg: PostgreSQL's text when it differs, or
 * NULL), with b bound. */
static enum tix_err prepare(struct store *s, struct tix_buf *sql, struct tix_buf *pg,
                            struct binds *b, struct db_stmt **st, struct tix_error *err)
{
	if ((*st = store__stmt(s, tix_buf_str(sql), pg ? tix_buf_str(pg) : NULL, err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	for (int i = 0; i < b->n; i++) {
		if (b->is_text[i])
			db_bind_text(*st, i + 1, b->text[i], -1);
		else
			db_bind_int64(*st, i + 1, b->num[i]);
	}
	return TIX_OK;
}

/* Where the candidate rows of a listing come from, in date_added order,
 * at most a chunk at a time, each as (date_added, ckey, vid, superseded):
 * the versions of the listed ids (an index lookup each), the reader's
 * audience keys (one range each, merged: the audience rows carry the
 * version and `superseded`, so the page seeks once per key, then only
 * into objects), or the whole collection. The merge is lazy: a range
 * yields only the rows the page takes. It is UNION ALL, a merge on
 * date_added alone: a membership under two of the reader's keys comes
 * twice, one after the other (date_added is unique per membership), and
 * the loop of store_taxii_select drops the second (UNION compared every
 * column of every row to do the same). The positions of the cursor and
 * chunk binds are recorded so the next chunk rebinds them. */
struct source {
	int after[STORE_READER_KEYS + 1], chunk[STORE_READER_KEYS + 1];
	int nafter, nchunk;
};

static void source_sql(const struct store_taxii_filter *f, char keys[][160], size_t nkeys,
                       int is_pg, struct tix_buf *sql, struct binds *b, struct source *src)
{
	if (f->ids && f->ids[0]) {
		/* CROSS JOIN and "+": find the few versions of the ids by id and
		 * sort them, rather than walk the collection in date_added order
		 * looking for them. */
		tix_buf_adds(sql, "SELECT m.date_added AS date_added, m.ckey AS ckey, m.vid AS vid,"
		                  " m.superseded AS superseded FROM objects o CROSS JOIN"
		                  " collection_objects m WHERE m.vid = o.vid AND m.ckey = ?"
		                  " AND +m.date_added > ?");
		bind_num(b, f->collection->key);
		src->after[src->nafter++] = b->n;
		bind_num(b, 0);
		in_list(sql, b, "o.id", f->ids);
		tix_buf_adds(sql, " ORDER BY m.date_added + 0 LIMIT ?");
	} else if (f->reader) {
		/* PostgreSQL 15 plans a UNION ALL under ORDER BY as an Append
		 * and a sort of every row of every range (a MergeAppend of set
		 * operations is PostgreSQL 17's): each range is limited to the
		 * chunk itself, in its own parentheses (which SQLite's compound
		 * SELECT does not take), so a page reads a chunk per key. */
		/* One key is no compound: PostgreSQL refuses a parenthesised
		 * SELECT's ORDER BY beside the outer one, and needs neither. */
		/* PostgreSQL's statement is prepared once and, after five runs,
		 * planned once for any key (a generic plan): with statistics,
		 * "key = ? ... ORDER BY date_added" made it walk the date_added
		 * index and filter on the key, every row of the collection for a
		 * key that has few (4 ms a page against 0.3). There each range is
		 * the primary key's own: positioned by the row comparison
		 * (key, date_added) > (?, ?), bounded by key <= ?, in the order
		 * (key, date_added), which only that index gives. */
		int limit_each = is_pg && nkeys > 1;
		const char *range =
		        is_pg ? " WHERE ckey = ? AND (key, date_added) > (?, ?) AND key <= ?"
		              : " WHERE ckey = ? AND key = ? AND date_added > ?";

		for (size_t i = 0; i < nkeys; i++) {
			tix_buf_adds(sql, i ? " UNION ALL " : "");
			tix_buf_adds(sql, limit_each ? "(" : "");
			tix_buf_adds(
			        sql,
			        "SELECT date_added, ckey, vid, superseded FROM collection_audience");
			tix_buf_adds(sql, range);
			bind_num(b, f->collection->key);
			bind_text(b, keys[i]);
			src->after[src->nafter++] = b->n;
			bind_num(b, 0);
			if (is_pg)
				bind_text(b, keys[i]);
			if (limit_each) {
				tix_buf_adds(sql, " ORDER BY key, date_added LIMIT ?)");
				src->chunk[src->nchunk++] = b->n;
				bind_num(b, 0);
			}
		}
		tix_buf_adds(sql, is_pg && nkeys == 1 ? " ORDER BY key, date_added LIMIT ?"
		                                      : " ORDER BY 1 LIMIT ?");
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
	struct tix_buf sql, pg;
	struct binds *b = calloc(1, sizeof(*b));
	struct source src = {{0}, {0}, 0, 0};
	char keys[STORE_READER_KEYS][160];
	size_t nkeys = 0, n = 0, examined = 0;
	struct db_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int64_t chunk, after = f->added_after;
	int64_t last_out = after; /* the last row handed out */
	int is_pg = db_engine(store__engine(s)) == DB_POSTGRES;
	enum db_rc rc = DB_DONE;
	int stop = 0, by_audience = f->reader && !(f->ids && f->ids[0]);

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
	tix_buf_init(&pg, (1 << 16) + 64);
	tix_buf_adds(&sql,
	             "SELECT o.id, o.type, o.version, o.spec_version, m.date_added, o.body" AUD_COLS
	             ", (TRUE");
	if ((e = filter_conditions(f, 0, &sql, b, err)) != TIX_OK)
		goto out;
	tix_buf_adds(&sql, ") FROM (");
	source_sql(f, keys, nkeys, is_pg, &sql, b, &src);
	/* The candidates' order is the page's: CROSS JOIN keeps them the outer
	 * loop, so no sort (which would copy every body) is needed; the loop
	 * below checks that the order holds. PostgreSQL promises no order
	 * from a join: its text says it (a sort of at most a chunk). */
	tix_buf_adds(&sql, ") m CROSS JOIN objects o WHERE o.vid = m.vid");
	if (is_pg) {
		tix_buf_adds(&pg, tix_buf_str(&sql));
		tix_buf_adds(&pg, " ORDER BY m.date_added");
	}
	/* A chunk a little larger than a page: with a policy filter, some rows
	 * examined are not handed out. SQLite steps lazily, so the margin costs
	 * only the rows it reads; PostgreSQL computes and sends the whole chunk,
	 * every body: by audience keys the candidates are already the reader's
	 * (the policy drops few), so there a page and one row, and the loop
	 * reads another chunk in the rare case the page is not full. */
	chunk = f->limit > 0 ? (int64_t)f->limit + 1 : -1;
	if (chunk > 0 && f->keep && !(is_pg && by_audience))
		chunk = chunk + chunk / 2 + 16;
	for (;;) {
		int64_t got = 0, want = chunk, last = after;

		if (f->budget > 0 && (want < 0 || (size_t)want > f->budget - examined))
			want = (int64_t)(f->budget - examined);
		for (int i = 0; i < src.nafter; i++)
			b->num[src.after[i]] = after;
		/* No bound: SQLite's LIMIT -1; PostgreSQL refuses a negative one. */
		for (int i = 0; i < src.nchunk; i++)
			b->num[src.chunk[i]] = want < 0 && is_pg ? INT64_MAX : want;
		if ((e = prepare(s, &sql, is_pg ? &pg : NULL, b, &st, err)) != TIX_OK)
			goto out;
		db_set_paged(st, want < 0); /* no limit: a page at a time on PostgreSQL */
		while ((rc = db_step(st)) == DB_ROW) {
			int64_t added = db_column_int64(st, 4);

			got++;
			if (added == last && by_audience)
				continue; /* the same membership under another key */
			/* The body is read only for rows the filter keeps. */
			struct store_taxii_row row = {
			        db_column_text(st, 0, NULL),
			        db_column_text(st, 1, NULL),
			        db_column_text(st, 2, NULL),
			        db_column_text(st, 3, NULL),
			        added,
			        NULL,
			        0,
			        store__db_audience(st, 6),
			};

			if (row.date_added <= last) {
				e = tix_error_set(
				        err, TIX_ESTORE, "store",
				        "a collection's rows came out of date_added order");
				goto out;
			}
			examined++;
			last = row.date_added;
			/* drill data: the filter reads its exercise from the body
			 * (policy_exercise_admits, docs/drill.md) */
			if (row.aud.tlp_flags & STIX_TLPF_EXERCISE)
				row.body = db_column_text(st, 5, &row.body_len);
			if (db_column_int64(st, 12) == 0 ||
			    (f->keep && !f->keep(f->keep_arg, &row)))
				continue;
			row.body = db_column_text(st, 5, &row.body_len);
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
		if (rc != DB_ROW && rc != DB_DONE)
			break;
		db_reset(st);
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
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading a collection");
out:
	if (st)
		db_reset(st); /* cached: reset, not finalised */
	tix_buf_release(&sql);
	tix_buf_release(&pg);
	free(b);
	return e;
}

int store_read_begin(struct store *s)
{
	struct db *db = store__engine(s);

	if (db_in_transaction(db))
		return 0;
	return db_begin(db, 0) == DB_OK;
}

void store_read_end(struct store *s, int begun)
{
	struct db *db = store__engine(s);

	if (!begun || !db_in_transaction(db))
		return;
	if (db_commit(db) != DB_OK)
		db_rollback(db);
}

enum tix_err store_taxii_delete(struct store *s, const struct store_taxii_filter *f,
                                size_t *removed, struct tix_error *err)
{
	struct tix_buf sql;
	struct binds *b = calloc(1, sizeof(*b));
	struct db_stmt *st = NULL;
	int joined = s->in_tx; /* inside store_begin/commit: the caller's transaction */
	enum tix_err e;

	*removed = 0;
	if (b == NULL)
		return tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	tix_buf_init(&sql, 1 << 16);
	if (!joined && (e = store__write_begin(s, err)) != TIX_OK)
		goto out_free;
	/* The versions to remove, found with the same filter as a GET. Two
	 * texts: SQLite's rowid key is "INTEGER PRIMARY KEY" only, and
	 * PostgreSQL's INTEGER is 32 bits. */
	if ((e = exec(s,
	              "CREATE TEMP TABLE IF NOT EXISTS doomed (vid INTEGER PRIMARY KEY);"
	              "DELETE FROM doomed;",
	              "CREATE TEMP TABLE IF NOT EXISTS doomed (vid BIGINT PRIMARY KEY);"
	              "DELETE FROM doomed;",
	              err)) != TIX_OK)
		goto end;
	tix_buf_adds(&sql, "INSERT INTO doomed (vid) SELECT m.vid"
	                   " FROM collection_objects m JOIN objects o ON o.vid = m.vid");
	if ((e = build_where(f, &sql, b, err)) != TIX_OK)
		goto end;
	if (f->delete_owner) {
		tix_buf_adds(&sql, " AND o.owner_org = ?");
		bind_text(b, f->delete_owner);
	}
	if ((e = prepare(s, &sql, NULL, b, &st, err)) != TIX_OK)
		goto end;
	if (db_step(st) != DB_DONE) {
		e = store__fail(s, err, "selecting versions to delete");
		goto end;
	}
	db_reset(st);
	st = NULL;
	*removed = (size_t)db_changes(store__engine(s));
	tix_buf_reset(&sql);
	/* After the removal, the latest remaining version of each object
	 * touched is no longer superseded. (DISTINCT and CASE: what both
	 * engines read; the flag is an integer on both.) */
	tix_buf_addf(&sql,
	             "CREATE TEMP TABLE IF NOT EXISTS doomed_ids (id TEXT PRIMARY KEY);"
	             "DELETE FROM doomed_ids;"
	             "INSERT INTO doomed_ids SELECT DISTINCT o.id FROM objects o"
	             " WHERE o.vid IN (SELECT vid FROM doomed);"
	             /* a sighting leaves the collection (and maybe the store) */
	             STORE_SIGHTINGS_BUMP " AND EXISTS (SELECT 1 FROM doomed d"
	             " JOIN sighting_index x ON x.vid = d.vid);"
	             "DELETE FROM collection_objects WHERE ckey = %lld"
	             " AND vid IN (SELECT vid FROM doomed);"
	             "UPDATE collection_objects SET superseded = CASE WHEN EXISTS ("
	             " SELECT 1 FROM objects o, objects o2, collection_objects m2"
	             " WHERE o.vid = collection_objects.vid AND o2.id = o.id"
	             " AND o2.modified > o.modified AND substr(o.modified, 1, 1) <> '#'"
	             " AND m2.ckey = collection_objects.ckey"
	             " AND m2.vid = o2.vid) THEN 1 ELSE 0 END"
	             " WHERE ckey = %lld AND vid IN (SELECT o.vid FROM objects o"
	             " WHERE o.id IN (SELECT id FROM doomed_ids));",
	             (long long)f->collection->key, (long long)f->collection->key);
	if ((e = exec(s, tix_buf_str(&sql), NULL, err)) != TIX_OK ||
	    (e = store__audience_resync(s, f->collection->key, err)) != TIX_OK)
		goto end;
	tix_buf_reset(&sql);
	tix_buf_adds(
	        &sql,
	        /* A version leaves the store when no collection holds it, except
	         * a revoked one with an earlier version that stays: that would
	         * make the earlier one current again (tix get, export, match). */
	        "DELETE FROM objects WHERE vid IN (SELECT vid FROM doomed)"
	        " AND NOT EXISTS (SELECT 1 FROM collection_objects c WHERE c.vid = objects.vid)"
	        " AND NOT (objects.revoked = 1 AND EXISTS (SELECT 1 FROM objects e"
	        "  WHERE e.id = objects.id AND e.modified < objects.modified"
	        "  AND substr(objects.modified, 1, 1) <> '#'"
	        "  AND (e.vid NOT IN (SELECT vid FROM doomed) OR EXISTS"
	        "   (SELECT 1 FROM collection_objects c2 WHERE c2.vid = e.vid))));");
	/* the value index follows the versions that left (values.c) */
	if ((e = exec(s, tix_buf_str(&sql), NULL, err)) != TIX_OK ||
	    (e = store__values_resync(s, err)) != TIX_OK ||
	    (e = exec(s, "DELETE FROM doomed_ids; DELETE FROM doomed;", NULL, err)) != TIX_OK)
		goto end;
	if (f->audit && *removed > 0) {
		/* The deletion and its audit entry commit together. (in_tx tells
		 * store_audit_append that a transaction is open.) */
		s->in_tx = 1;
		e = store_audit_append(s, f->audit, 1, err);
		s->in_tx = joined;
	}
end:
	if (st)
		db_reset(st);
	if (joined) {
		if (e != TIX_OK)
			*removed = 0; /* the caller rolls its transaction back */
	} else if ((e = store__write_end(s, e, err)) != TIX_OK) {
		*removed = 0;
	}
out_free:
	tix_buf_release(&sql);
	free(b);
	return e;
}

enum tix_err store_status_put(struct store *s, const char *id, int64_t user_key, const char *body,
                              struct tix_error *err)
{
	struct db_stmt *st = NULL;
	struct tix_time now;
	enum tix_err e = TIX_OK;

	tix_time_now(&now);
	if (db_prepare(store__engine(s),
	               "INSERT INTO taxii_status (id, user_key, created, body)"
	               " VALUES (?1, ?2, ?3, ?4)",
	               NULL, &st) != DB_OK)
		return store__fail(s, err, "saving a status");
	db_bind_text(st, 1, id, -1);
	db_bind_int64(st, 2, user_key);
	db_bind_int64(st, 3, tix_time_to_us(&now));
	db_bind_text(st, 4, body, -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "saving a status");
	db_finalize(st);
	if (e != TIX_OK)
		return e;
	/* Statuses are kept STORE_STATUS_KEEP_US (TAXII asks for at least 24
	 * hours), then dropped here, so the table does not grow forever. */
	if ((st = store__stmt(s, "DELETE FROM taxii_status WHERE created < ?1", NULL, err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, tix_time_to_us(&now) - STORE_STATUS_KEEP_US);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "dropping old statuses");
	db_reset(st);
	return e;
}

enum tix_err store_status_get(struct store *s, const char *id, char **body, int64_t *user_key,
                              struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	*body = NULL;
	if (db_prepare(store__engine(s), "SELECT body, user_key FROM taxii_status WHERE id = ?1",
	               NULL, &st) != DB_OK)
		return store__fail(s, err, "reading a status");
	db_bind_text(st, 1, id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*body = strdup(db_column_text(st, 0, NULL));
		*user_key = db_column_int64(st, 1);
		if (*body == NULL)
			e = tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	} else if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, id, "no such status");
	} else {
		e = store__fail(s, err, "reading a status");
	}
	db_finalize(st);
	return e;
}
