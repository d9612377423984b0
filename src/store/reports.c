/*
 * store/reports.c — the queries MISP out streams with (docs/formats.md):
 * one object's latest version by id, the reports and groupings that list
 * an id and the sightings of it (through the refs index of migration 15),
 * and the objects of the per-day events walked day by day, all without
 * holding more than one row.
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
	sqlite3_stmt *st = store__cached(
	        s, "INSERT OR IGNORE INTO object_refs_index (ref, vid) VALUES (?1, ?2)", err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return store__db_error(s, err, "indexing what a report lists");
	}
	sqlite3_reset(st);
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

static enum tix_err each_row(struct store *s, sqlite3_stmt *st, store_row_cb cb, void *arg,
                             struct tix_error *err, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row row = store__row(st);

		if (cb(arg, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store__db_error(s, err, what);
	return TIX_OK;
}

enum tix_err store_latest_get(struct store *s, const struct store_collection *c, const char *id,
                              store_row_cb cb, void *arg, struct tix_error *err)
{
	/* every latest version: an observable has one per organisation that
	 * holds it (the caller keeps the last it may see, as a listing would) */
	sqlite3_stmt *st =
	        c ? store__cached(
	                    s,
	                    "SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS
	                    " FROM objects o CROSS JOIN collection_objects m"
	                    " ON m.vid = o.vid AND m.ckey = ?1 WHERE o.id = ?2" LATEST_IN_COLLECTION
	                    " ORDER BY m.date_added",
	                    err)
	          : store__cached(
	                    s,
	                    "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
	                    " FROM objects o WHERE o.id = ?2 AND ?1 IS NOT NULL" LATEST_IN_STORE
	                    " ORDER BY o.date_added",
	                    err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_int64(st, 1, c ? c->key : 1);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	return each_row(s, st, cb, arg, err, "reading an object");
}

enum tix_err store_referrers(struct store *s, const struct store_collection *c, const char *ref,
                             const char *type, store_row_cb cb, void *arg, struct tix_error *err)
{
#define REFERRERS(TYPES)                                                                           \
	"SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS                           \
	" FROM object_refs_index x CROSS JOIN objects o ON o.vid = x.vid"                          \
	" CROSS JOIN collection_objects m ON m.vid = o.vid AND m.ckey = ?1"                        \
	" WHERE x.ref = ?2 AND o.type " TYPES LATEST_IN_COLLECTION " ORDER BY m.date_added",       \
	        "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS                   \
	        " FROM object_refs_index x CROSS JOIN objects o ON o.vid = x.vid"                  \
	        " WHERE x.ref = ?2 AND o.type " TYPES " AND ?1 IS NOT NULL" LATEST_IN_STORE        \
	        " ORDER BY o.date_added"
	/* [what][in a collection or not]; NULL type: reports and groupings */
	static const char *const sql[2][2] = {{REFERRERS("IN ('report', 'grouping')")},
	                                      {REFERRERS("= ?3")}};
#undef REFERRERS
	sqlite3_stmt *st = store__cached(s, sql[type != NULL][c == NULL], err);

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	sqlite3_bind_int64(st, 1, c ? c->key : 1);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_TRANSIENT);
	if (type)
		sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT);
	return each_row(s, st, cb, arg, err, "reading what lists an object");
}

enum tix_err store_walk_by_day(struct store *s, const struct store_collection *c, const char *day,
                               const char *const *types, const char *type_prefix, store_row_cb cb,
                               void *arg, struct tix_error *err)
{
	struct tix_buf sql;
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int n = 0;

	/* Walked through objects_day: in day order without sorting (so in
	 * constant memory), each day's objects in the order they were added. */
	tix_buf_init(&sql, 1 << 16);
	tix_buf_adds(&sql, c ? "SELECT o.id, o.type, o.modified, m.date_added, o.body" AUD_COLS
	                       " FROM objects o INDEXED BY objects_day CROSS JOIN"
	                       " collection_objects m ON m.ckey = ?1 AND m.vid = o.vid WHERE 1"
	                     : "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
	                       " FROM objects o INDEXED BY objects_day WHERE ?1 IS NOT NULL");
	if (day)
		tix_buf_adds(&sql, " AND substr(o.created, 1, 10) = ?2");
	tix_buf_adds(&sql, " AND (+o.type IN (");
	for (int i = 0; types[i]; i++, n++)
		tix_buf_addf(&sql, "%s?%d", i ? ", " : "", 10 + i);
	tix_buf_adds(&sql, type_prefix ? ") OR substr(o.type, 1, length(?3)) = ?3)" : "))");
	tix_buf_adds(&sql, c ? LATEST_IN_COLLECTION : LATEST_IN_STORE);
	tix_buf_adds(&sql, " ORDER BY substr(o.created, 1, 10), o.date_added");
	if (sqlite3_prepare_v2(s->db, tix_buf_str(&sql), -1, &st, NULL) != SQLITE_OK) {
		e = store__db_error(s, err, "preparing the walk by day");
		goto out;
	}
	sqlite3_bind_int64(st, 1, c ? c->key : 1);
	if (day)
		sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
	if (type_prefix)
		sqlite3_bind_text(st, 3, type_prefix, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, 10 + i, types[i], -1, SQLITE_STATIC);
	e = each_row(s, st, cb, arg, err, "walking objects by day");
out:
	sqlite3_finalize(st);
	tix_buf_release(&sql);
	return e;
}

enum tix_err store_days(struct store *s, int (*cb)(void *arg, const char *day), void *arg,
                        struct tix_error *err)
{
	/* one index seek a day (not a walk over every object) */
	sqlite3_stmt *st = store__cached(s,
	                                 "SELECT substr(created, 1, 10) FROM objects"
	                                 " INDEXED BY objects_day WHERE substr(created, 1, 10) > ?1"
	                                 " ORDER BY substr(created, 1, 10) LIMIT 1",
	                                 err);
	char day[16] = "";
	int rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	for (;;) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		snprintf(day, sizeof(day), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		if (cb(arg, day) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store__db_error(s, err, "reading the days of objects");
	return TIX_OK;
}
