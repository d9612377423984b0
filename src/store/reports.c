/*
 * store/reports.c — the queries MISP out streams with (docs/formats.md):
 * one object's latest version by id, the reports and groupings that list
 * an id and the sightings of it (through the refs index of migration 15),
 * and the objects of the per-day events walked day by day, all without
 * holding more than one row on SQLite. On the engine layer (db.h): one text
 * for both engines but SQLite's INDEXED BY.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

/* Migration 15: what reports and groupings list and what sightings are of
 * (filled for every version written by store__index_refs, in the write's
 * transaction; dropped with the version), and objects walked by the day of
 * their created. */
const char store__schema_refs[] =
        "CREATE TABLE object_refs_index ("
        "  ref TEXT NOT NULL,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (ref, vid)) WITHOUT ROWID;"
        "CREATE INDEX object_refs_index_vid ON object_refs_index (vid);"
        "INSERT OR IGNORE INTO object_refs_index (ref, vid)"
        " SELECT j.value, o.vid FROM objects o, json_each(o.body, '$.object_refs') j"
        " WHERE o.type IN ('report', 'grouping') AND j.type = 'text';"
        "INSERT OR IGNORE INTO object_refs_index (ref, vid)"
        " SELECT json_extract(o.body, '$.sighting_of_ref'), o.vid FROM objects o"
        " WHERE o.type = 'sighting' AND json_type(o.body, '$.sighting_of_ref') = 'text';"
        "CREATE INDEX objects_day ON objects (substr(created, 1, 10), date_added);";

static enum tix_err index_ref(struct store *s, int64_t vid, const char *ref, struct tix_error *err)
{
	/* ON CONFLICT DO NOTHING, as INSERT OR IGNORE did (ref and vid are
	 * never NULL here): one text for both engines. */
	struct db_stmt *st = store__stmt(
	        s,
	        "INSERT INTO object_refs_index (ref, vid) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
	        NULL, err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, ref, -1);
	db_bind_int64(st, 2, vid);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return store__fail(s, err, "indexing what a report lists");
	}
	db_reset(st);
	return TIX_OK;
}

/* Migration 18 (issue 17's console, the relationships of an object): the
 * relationships' two ends, in the same index. */
const char store__schema_relationship_refs[] =
        "INSERT OR IGNORE INTO object_refs_index (ref, vid)"
        " SELECT json_extract(o.body, '$.source_ref'), o.vid FROM objects o"
        " WHERE o.type = 'relationship' AND json_type(o.body, '$.source_ref') = 'text';"
        "INSERT OR IGNORE INTO object_refs_index (ref, vid)"
        " SELECT json_extract(o.body, '$.target_ref'), o.vid FROM objects o"
        " WHERE o.type = 'relationship' AND json_type(o.body, '$.target_ref') = 'text';";

/* The same on PostgreSQL. */
const char store__pg_schema_relationship_refs[] =
        "INSERT INTO object_refs_index (ref, vid)"
        " SELECT o.body::jsonb ->> 'source_ref', o.vid FROM objects o"
        " WHERE o.type = 'relationship' AND jsonb_typeof(o.body::jsonb -> 'source_ref') = 'string'"
        " ON CONFLICT DO NOTHING;"
        "INSERT INTO object_refs_index (ref, vid)"
        " SELECT o.body::jsonb ->> 'target_ref', o.vid FROM objects o"
        " WHERE o.type = 'relationship' AND jsonb_typeof(o.body::jsonb -> 'target_ref') = 'string'"
        " ON CONFLICT DO NOTHING;";

/* (A trigger on objects would do this too, but costs every insert, of any
 * type, a third more time; only these four types pay here.) */
enum tix_err store__index_refs(struct store *s, int64_t vid, const struct stix_meta *m,
                               const char *body, size_t body_len, struct tix_error *err)
{
	const char *t = m->type;
	json_t *own = NULL, *r;
	const json_t *obj = m->object;
	enum tix_err e = TIX_OK;
	size_t i;

	if (t == NULL || (strcmp(t, "report") != 0 && strcmp(t, "grouping") != 0 &&
	                  strcmp(t, "sighting") != 0 && strcmp(t, "relationship") != 0))
		return TIX_OK;
	if (obj == NULL && (obj = own = json_loadb(body, body_len, 0, NULL)) == NULL)
		return TIX_OK;
	if (t[0] == 'r' && t[2] == 'l') { /* relationship: its two ends */
		const char *src = json_string_value(json_object_get(obj, "source_ref"));
		const char *tgt = json_string_value(json_object_get(obj, "target_ref"));

		if (src)
			e = index_ref(s, vid, src, err);
		if (tgt && e == TIX_OK)
			e = index_ref(s, vid, tgt, err);
	} else if (t[0] == 's') {
		const char *of = json_string_value(json_object_get(obj, "sighting_of_ref"));

		if (of)
			e = index_ref(s, vid, of, err);
	} else
		json_array_foreach (json_object_get(obj, "object_refs"), i, r)
			if (e == TIX_OK && json_is_string(r))
				e = index_ref(s, vid, json_string_value(r), err);
	json_decref(own);
	return e;
}

/* The latest version of o in the collection (?1), or in the store. */
#define LATEST_IN_COLLECTION                                                                       \
	" AND NOT EXISTS (SELECT 1 FROM collection_objects m2 JOIN objects o2 ON o2.vid = m2.vid"  \
	" WHERE m2.ckey = m.ckey AND o2.id = o.id AND o2.modified > o.modified"                    \
	" AND substr(o.modified, 1, 1) <> '#')"
#define LATEST_IN_STORE                                                                             \
	" AND NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.id = o.id AND o2.modified > o.modified" \
	" AND substr(o.modified, 1, 1) <> '#')"

/* The queries below join with CROSS JOIN and put the join conditions in
 * WHERE, which both engines accept: SQLite keeps the tables in the order
 * written (the plans these were written for), PostgreSQL plans them as
 * inner joins (its CROSS JOIN takes no ON). Without a collection, ?1 is
 * bound all the same and typed by its CAST (PostgreSQL needs a type). */

static enum tix_err each_row(struct store *s, struct db_stmt *st, store_row_cb cb, void *arg,
                             struct tix_error *err, const char *what)
{
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	while ((rc = db_step(st)) == DB_ROW) {
		struct store_row row = store__db_row(st);

		if (cb(arg, &row) != 0) {
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store__fail(s, err, what);
	db_reset(st);
	return e;
}

enum tix_err store_latest_get(struct store *s, const struct store_collection *c, const char *id,
                              store_row_cb cb, void *arg, struct tix_error *err)
{
	/* every latest version: an observable has one per organisation that
	 * holds it (the caller keeps the last it may see, as a listing would) */
	struct db_stmt *st =
	        c ? store__stmt(
	                    s,
	                    "SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS
	                    " FROM objects o CROSS JOIN collection_objects m"
	                    " WHERE m.vid = o.vid AND m.ckey = ?1 AND o.id = ?2" LATEST_IN_COLLECTION
	                    " ORDER BY m.date_added",
	                    NULL, err)
	          : store__stmt(s,
	                        "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
	                        " FROM objects o WHERE o.id = ?2"
	                        " AND CAST(?1 AS BIGINT) IS NOT NULL" LATEST_IN_STORE
	                        " ORDER BY o.date_added",
	                        NULL, err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, c ? c->key : 1);
	db_bind_text_copy(st, 2, id, -1);
	return each_row(s, st, cb, arg, err, "reading an object");
}

enum tix_err store_referrers(struct store *s, const struct store_collection *c, const char *ref,
                             const char *type, store_row_cb cb, void *arg, struct tix_error *err)
{
#define REFERRERS(TYPES)                                                                           \
	"SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS                           \
	" FROM object_refs_index x CROSS JOIN objects o CROSS JOIN collection_objects m"           \
	" WHERE o.vid = x.vid AND m.vid = o.vid AND m.ckey = ?1"                                   \
	" AND x.ref = ?2 AND o.type " TYPES LATEST_IN_COLLECTION " ORDER BY m.date_added",         \
	        "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS                   \
	        " FROM object_refs_index x CROSS JOIN objects o WHERE o.vid = x.vid"               \
	        " AND x.ref = ?2 AND o.type " TYPES                                                \
	        " AND CAST(?1 AS BIGINT) IS NOT NULL" LATEST_IN_STORE " ORDER BY o.date_added"
	/* [what][in a collection or not]; NULL type: reports and groupings */
	static const char *const sql[2][2] = {{REFERRERS("IN ('report', 'grouping')")},
	                                      {REFERRERS("= ?3")}};
#undef REFERRERS
	struct db_stmt *st = store__stmt(s, sql[type != NULL][c == NULL], NULL, err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_set_paged(st, 1); /* the sightings of an indicator are not few */
	db_bind_int64(st, 1, c ? c->key : 1);
	db_bind_text_copy(st, 2, ref, -1);
	if (type)
		db_bind_text_copy(st, 3, type, -1);
	return each_row(s, st, cb, arg, err, "reading what lists an object");
}

/* Objects walked through objects_day: SQLite is told to (INDEXED BY, its
 * own syntax and the one difference between the two texts), so the rows
 * come in day order without a sort, in constant memory; PostgreSQL's
 * planner chooses for itself, and its result comes a page at a time
 * (db_set_paged). PostgreSQL must know every parameter's type, so they are numbered
 * without gaps: ?1 the collection, then the day (?at_day), the prefix
 * (?at_prefix), each when not 0, and the types from ?at_types. */
static void walk_sql(struct tix_buf *b, int pg, const struct store_collection *c, int at_day,
                     int at_prefix, int at_types, int ntypes)
{
	tix_buf_addf(b,
	             "SELECT o.id, o.type, o.modified, %s.date_added, o.body" AUD_COLS
	             " FROM objects o%s",
	             c ? "m" : "o", pg ? "" : " INDEXED BY objects_day");
	tix_buf_adds(b, c ? " CROSS JOIN collection_objects m WHERE m.ckey = ?1 AND m.vid = o.vid"
	                  : " WHERE CAST(?1 AS BIGINT) IS NOT NULL");
	if (at_day)
		tix_buf_addf(b, " AND substr(o.created, 1, 10) = ?%d", at_day);
	tix_buf_adds(b, " AND (o.type IN (");
	for (int i = 0; i < ntypes; i++)
		tix_buf_addf(b, "%s?%d", i ? ", " : "", at_types + i);
	if (ntypes == 0) /* a list nothing is in: PostgreSQL has no empty one */
		tix_buf_adds(b, "NULL");
	if (at_prefix)
		tix_buf_addf(b, ") OR substr(o.type, 1, length(?%d)) = ?%d)", at_prefix, at_prefix);
	else
		tix_buf_adds(b, "))");
	tix_buf_adds(b, c ? LATEST_IN_COLLECTION : LATEST_IN_STORE);
	tix_buf_adds(b, " ORDER BY substr(o.created, 1, 10), o.date_added");
}

enum tix_err store_walk_by_day(struct store *s, const struct store_collection *c, const char *day,
                               const char *const *types, const char *type_prefix, store_row_cb cb,
                               void *arg, struct tix_error *err)
{
	int at_day = day ? 2 : 0;
	int at_prefix = type_prefix ? (day ? 3 : 2) : 0;
	int at_types = 2 + (day != NULL) + (type_prefix != NULL), n = 0;
	struct tix_buf sq, pg;
	struct db_stmt *st = NULL;
	enum tix_err e;

	while (types[n])
		n++;
	tix_buf_init(&sq, 1 << 16);
	tix_buf_init(&pg, 1 << 16);
	walk_sql(&sq, 0, c, at_day, at_prefix, at_types, n);
	walk_sql(&pg, 1, c, at_day, at_prefix, at_types, n);
	if (db_prepare(store__engine(s), tix_buf_str(&sq), tix_buf_str(&pg), &st) != DB_OK) {
		e = store__fail(s, err, "preparing the walk by day");
		goto out;
	}
	db_set_paged(st, 1);
	db_bind_int64(st, 1, c ? c->key : 1);
	if (day)
		db_bind_text(st, at_day, day, -1);
	if (type_prefix)
		db_bind_text(st, at_prefix, type_prefix, -1);
	for (int i = 0; i < n; i++)
		db_bind_text(st, at_types + i, types[i], -1);
	e = each_row(s, st, cb, arg, err, "walking objects by day");
out:
	db_finalize(st);
	tix_buf_release(&sq);
	tix_buf_release(&pg);
	return e;
}

enum tix_err store_days(struct store *s, int (*cb)(void *arg, const char *day), void *arg,
                        struct tix_error *err)
{
	/* one index seek a day (not a walk over every object); INDEXED BY is
	 * SQLite's alone */
#define DAYS(INDEXED)                                                                              \
	"SELECT substr(created, 1, 10) FROM objects" INDEXED                                       \
	" WHERE substr(created, 1, 10) > ?1 ORDER BY substr(created, 1, 10) LIMIT 1"
	struct db_stmt *st = store__stmt(s, DAYS(" INDEXED BY objects_day"), DAYS(""), err);
#undef DAYS
	char day[16] = "";
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	for (;;) {
		db_bind_text_copy(st, 1, day, -1);
		if ((rc = db_step(st)) != DB_ROW)
			break;
		snprintf(day, sizeof(day), "%s", db_column_text(st, 0, NULL));
		db_reset(st);
		if (cb(arg, day) != 0) {
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store__fail(s, err, "reading the days of objects");
	db_reset(st);
	return e;
}
