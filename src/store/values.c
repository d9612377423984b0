/*
 * store/values.c — the correlation index (issue 15): every observable value
 * a stored version carries (as src/values extracts and normalises it), its
 * addresses and ranges by network address so containment is a range scan,
 * the sightings per indicator and the text of names, descriptions and
 * labels (FTS5); written in the transaction that stores the version. Each
 * value row carries its version's audience and whether it is the latest
 * version, so counting a popular value never reads the objects table.
 * value_index has two levels (migration 21): a large store writes a small
 * staging table, merged into the main one in key order past a bound.
 * On the engine layer (db.h), one text for both engines where they agree;
 * the text search is FTS5 on SQLite, a tsvector on PostgreSQL (store_text_search).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "values/values.h"

/* Migration 10. value_index keeps one 64-bit key per (value, version):
 * the version's row (vid) gives its owner, time and audience, so the
 * index itself stays a few bytes per value. */
const char store__schema_values[] =
        "CREATE TABLE value_index ("
        "  vkey INTEGER NOT NULL,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (vkey, vid)) WITHOUT ROWID;"
        "CREATE INDEX value_index_vid ON value_index (vid);"
        /* net: the family (4 or 6) as one byte, then the masked address */
        "CREATE TABLE value_ip ("
        "  net BLOB NOT NULL,"
        "  plen INTEGER NOT NULL,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (net, plen, vid)) WITHOUT ROWID;"
        "CREATE INDEX value_ip_vid ON value_ip (vid);"
        "CREATE TABLE sighting_index ("
        "  vid INTEGER PRIMARY KEY REFERENCES objects (vid) ON DELETE CASCADE,"
        "  sighting_of TEXT NOT NULL,"
        "  sensor TEXT NOT NULL,"
        "  count INTEGER NOT NULL,"
        "  first_seen INTEGER NOT NULL,"
        "  last_seen INTEGER NOT NULL);"
        "CREATE INDEX sighting_index_of ON sighting_index (sighting_of);"
        "CREATE VIRTUAL TABLE text_index USING fts5("
        "  name, description, labels, tokenize = 'unicode61 remove_diacritics 2');"
        "CREATE TRIGGER objects_text_gone AFTER DELETE ON objects BEGIN"
        "  DELETE FROM text_index WHERE rowid = old.vid; END;"
        /* tix match --sightings: the log lines each sighting counted */
        "CREATE TABLE sighting_lines ("
        "  sighting TEXT NOT NULL,"
        "  line_key INTEGER NOT NULL,"
        "  PRIMARY KEY (sighting, line_key)) WITHOUT ROWID;"
        /* tix expire: indicators whose decay score fell below the floor */
        "CREATE TABLE indicator_expired ("
        "  id TEXT PRIMARY KEY,"
        "  at INTEGER NOT NULL,"
        "  score REAL NOT NULL) WITHOUT ROWID;"
        "INSERT INTO meta (key, value) VALUES ('values_refused', '0');";

/* The audience of a version as one text, so equal audiences share a row
 * of value_audiences: everything policy_may_read reads of an object but
 * whether the reader reads a collection holding it. */
#define AUDIENCE_SIG(o)                                                                            \
	"quote(" o ".type) || ',' || quote(" o ".tlp) || ',' || quote(" o ".tlp_flags) || ',' ||"  \
	" quote(" o ".owner_org) || ',' || quote(" o ".sharing_group) || ',' || quote(" o          \
	".recipients) || ',' || quote(" o ".origin_node)"
#define AUDIENCE_COLS(o)                                                                           \
	o ".type, " o ".tlp, " o ".tlp_flags, " o ".owner_org, " o ".sharing_group, " o            \
	  ".recipients, " o ".origin_node"
#define AUDIENCE_NAMES "type, tlp, tlp_flags, owner_org, sharing_group, recipients, origin_node"
#define SIG_NEW        AUDIENCE_SIG("new")
#define SIG_OLD        AUDIENCE_SIG("old")
#define SIG_O          AUDIENCE_SIG("o")
#define COLS_NEW       AUDIENCE_COLS("new")
#define COLS_O         AUDIENCE_COLS("o")
/* Each owner's copy of an observable (its key starts with '#') is always
 * the latest; any other version when none of its object is newer. */
#define NOT_OBSERVABLE(m) "substr(" m ", 1, 1) <> '#'"
/* The newest version of object id that is not an observable's copy. */
#define NEWEST_OF(id)                                                                              \
	"(SELECT vid FROM objects WHERE id = " id " AND substr(modified, 1, 1) <> '#'"             \
	" ORDER BY modified DESC LIMIT 1)"
#define NEWEST_LEFT NEWEST_OF("old.id")

/* Migration 16 (issue 15): the value rows again, each with its version's
 * audience (a key into value_audiences) and a latest flag, kept when a
 * newer version is stored (store__index_version, in C: a trigger's
 * sub-program and list costs 4 times the object's own insert), when a
 * version is deleted or its audience resolved again (the triggers below);
 * sqlite.c then rebuilds the index (migration 10's tables are replaced). */
const char store__schema_value_audiences[] =
        "DROP TABLE value_index; DROP TABLE value_ip;"
        "CREATE TABLE value_audiences ("
        "  akey INTEGER PRIMARY KEY,"
        "  sig TEXT NOT NULL UNIQUE,"
        "  type TEXT, tlp INTEGER, tlp_flags INTEGER, owner_org TEXT, sharing_group TEXT,"
        "  recipients TEXT, origin_node TEXT);"
        "CREATE TABLE value_index ("
        "  vkey INTEGER NOT NULL,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  aud INTEGER NOT NULL,"
        "  latest INTEGER NOT NULL,"
        "  PRIMARY KEY (vkey, vid)) WITHOUT ROWID;"
        "CREATE INDEX value_index_vid ON value_index (vid);"
        "CREATE TABLE value_ip ("
        "  net BLOB NOT NULL,"
        "  plen INTEGER NOT NULL,"
        "  vid INTEGER NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  aud INTEGER NOT NULL,"
        "  latest INTEGER NOT NULL,"
        "  PRIMARY KEY (net, plen, vid)) WITHOUT ROWID;"
        "CREATE INDEX value_ip_vid ON value_ip (vid);"
        /* a version deleted: the newest one left is the latest */
        "CREATE TRIGGER objects_value_gone AFTER DELETE ON objects"
        " WHEN substr(old.modified, 1, 1) <> '#' BEGIN"
        "  UPDATE value_index SET latest = 1 WHERE NOT latest AND vid = " NEWEST_LEFT ";"
        "  UPDATE value_ip SET latest = 1 WHERE NOT latest AND vid = " NEWEST_LEFT ";"
        " END;"
        /* a version's audience resolved again (a late marking definition) */
        "CREATE TRIGGER objects_value_audience AFTER UPDATE OF type, tlp, tlp_flags,"
        " owner_org, sharing_group, recipients, origin_node ON objects"
        " WHEN " SIG_NEW " IS NOT " SIG_OLD " BEGIN"
        "  INSERT OR IGNORE INTO value_audiences (sig, " AUDIENCE_NAMES ")"
        "   VALUES (" SIG_NEW ", " COLS_NEW ");"
        "  UPDATE value_index SET aud = (SELECT akey FROM value_audiences WHERE sig = " SIG_NEW ")"
        "   WHERE vid = new.vid;"
        "  UPDATE value_ip SET aud = (SELECT akey FROM value_audiences WHERE sig = " SIG_NEW ")"
        "   WHERE vid = new.vid;"
        " END;";

/* Migration 21 (issue 15's flat ingest): value_index's staging level.
 * Once a store is large, each transaction's values land at random keys of
 * a tree of thousands of leaves, dirtying one page each; so a large store
 * writes them to value_stage, a tree that stays small, and moves them into
 * value_index in key order when it passes a bound (stage_merge). Every
 * reader reads both (find_sql); the latest flag and the audience are kept
 * in both (older_not_latest, the triggers here as migration 16's for the
 * main level). */
#define VALUE_STAGE_TABLE(int_type, tail)                                                          \
	"CREATE TABLE value_stage ("                                                               \
	"  vkey " int_type " NOT NULL,"                                                            \
	"  vid " int_type " NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"                  \
	"  aud " int_type " NOT NULL,"                                                             \
	"  latest " int_type " NOT NULL,"                                                          \
	"  PRIMARY KEY (vkey, vid))" tail ";"                                                      \
	"CREATE INDEX value_stage_vid ON value_stage (vid);"
const char store__schema_value_stage[] = VALUE_STAGE_TABLE("INTEGER", " WITHOUT ROWID")
        /* SQLite fires the newest trigger first: each adds the audience */
        "CREATE TRIGGER objects_stage_gone AFTER DELETE ON objects"
        " WHEN substr(old.modified, 1, 1) <> '#' BEGIN"
        "  UPDATE value_stage SET latest = 1 WHERE NOT latest AND vid = " NEWEST_LEFT ";"
        " END;"
        "CREATE TRIGGER objects_stage_audience AFTER UPDATE OF type, tlp, tlp_flags,"
        " owner_org, sharing_group, recipients, origin_node ON objects"
        " WHEN " SIG_NEW " IS NOT " SIG_OLD " BEGIN"
        "  INSERT OR IGNORE INTO value_audiences (sig, " AUDIENCE_NAMES ")"
        "   VALUES (" SIG_NEW ", " COLS_NEW ");"
        "  UPDATE value_stage SET aud = (SELECT akey FROM value_audiences WHERE sig = " SIG_NEW ")"
        "   WHERE vid = new.vid;"
        " END;";
/* PostgreSQL never had migration 16's triggers (schema_pg.c). */
const char store__pg_schema_value_stage[] = VALUE_STAGE_TABLE("BIGINT", "");

/* Migration 22 (issue 18): the triggers of migrations 10, 16 and 21 go;
 * their work is done in C on both engines, by one helper per event
 * (store__values_resync, store__values_audience_changed, below). Its step
 * rebuilds a PostgreSQL store's index, whose flags no trigger kept. */
const char store__schema_values_c[] = "DROP TRIGGER IF EXISTS objects_text_gone;"
                                      "DROP TRIGGER IF EXISTS objects_value_gone;"
                                      "DROP TRIGGER IF EXISTS objects_value_audience;"
                                      "DROP TRIGGER IF EXISTS objects_stage_gone;"
                                      "DROP TRIGGER IF EXISTS objects_stage_audience;";
/* On PostgreSQL the text search (store_text_search): text_index's tsvector
 * again, made of the words FTS5's unicode61 sees (runs of ASCII letters and
 * digits and of other characters than ASCII: every other ASCII byte
 * separates, so "evil.example" is two words, as in FTS5, not one host
 * name), each column with its weight (name A, description B, labels C) for
 * the column filter. */
#define PG_WORDS(c)                                                                                \
	"regexp_replace(coalesce(" c                                                               \
	", ''), '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+', ' ', 'g')"
#define PG_WEIGHED(c, w) "setweight(to_tsvector('simple', " PG_WORDS(c) "), '" w "')"
const char store__pg_schema_values_c[] =
        "DROP INDEX text_index_doc; ALTER TABLE text_index DROP COLUMN doc;"
        "ALTER TABLE text_index ADD COLUMN doc tsvector GENERATED ALWAYS AS (" PG_WEIGHED(
                "name",
                "A") " || " PG_WEIGHED("description",
                                       "B") " || " PG_WEIGHED("labels",
                                                              "C") ") STORED;"
                                                                   "CREATE INDEX text_index_doc ON text_index USING GIN (doc);";

/* When a version's values go to the staging level, and when it is merged:
 * versions from vid STAGE_FROM on (a smaller store writes the main level
 * directly: its tree is small enough), merged once STAGE_BOUND rows are
 * staged, counted as stage_check says (at most every STAGE_BOUND / 256
 * rows a handle stages, 1 to 256).
 * TIX_VALUE_STAGE="FROM,BOUND" sets both (tests: a tiny bound). */
#define STAGE_FROM  32768
#define STAGE_BOUND 65536

struct stage_conf {
	int64_t from, bound, every;
};

static struct stage_conf stage_conf(void)
{
	struct stage_conf c = {STAGE_FROM, STAGE_BOUND, 0};
	const char *v = getenv("TIX_VALUE_STAGE");
	char *end = NULL;

	if (v && *v) {
		long long from = strtoll(v, &end, 10), bound = c.bound;

		if (end != v && *end == ',')
			bound = strtoll(end + 1, &end, 10);
		if (*end == '\0' && from >= 0 && bound > 0) {
			c.from = from;
			c.bound = bound;
		}
	}
	c.every = c.bound / 256 < 1 ? 1 : c.bound / 256 > 256 ? 256 : c.bound / 256;
	return c;
}

/* PostgreSQL's audience text (it has no quote(); quote_nullable is its
 * literal, NULL as NULL, so equal audiences still share one text). */
#define PG_AUDIENCE_SIG(o)                                                                         \
	"quote_nullable(" o ".type) || ',' || quote_nullable(" o                                   \
	".tlp) || ',' || quote_nullable(" o ".tlp_flags) || ',' || quote_nullable(" o              \
	".owner_org) || ',' || quote_nullable(" o ".sharing_group) || ',' || quote_nullable(" o    \
	".recipients) || ',' || quote_nullable(" o ".origin_node)"
#define PG_SIG_O PG_AUDIENCE_SIG("o")
/* A version's (?1) audience key and whether it is the latest (1 or 0):
 * the expression `latest`, LATEST_O or "1" for its id's only version. */
#define AUDIENCE_OF(sig, latest)                                                                   \
	"SELECT a.akey, " latest " FROM objects o JOIN value_audiences a ON a.sig = " sig          \
	" WHERE o.vid = ?1"
#define LATEST_O                                                                                   \
	"CASE WHEN substr(o.modified, 1, 1) = '#' OR NOT EXISTS"                                   \
	" (SELECT 1 FROM objects o2 WHERE o2.id = o.id AND o2.modified >"                          \
	" o.modified) THEN 1 ELSE 0 END"

struct indexing {
	struct store *s;
	int64_t vid;
	size_t values, refused;
	enum tix_err e;
	struct tix_error *err;
	int64_t aud; /* the version's value_audiences key; 0 until looked up */
	int latest;
	int sighting; /* a row of sighting_index was written */
	int stage;    /* its values go to value_stage, not value_index */
	int only;     /* the one version of its id: the latest */
};

/* x->aud and x->latest of x->vid, the audience row added when new. */
static enum tix_err version_audience(struct indexing *x)
{
	struct db_stmt *st;

	for (int pass = 0; pass < 2; pass++) {
		st = x->only ? store__stmt(x->s, AUDIENCE_OF(SIG_O, "1"),
		                           AUDIENCE_OF(PG_SIG_O, "1"), x->err)
		             : store__stmt(x->s, AUDIENCE_OF(SIG_O, LATEST_O),
		                           AUDIENCE_OF(PG_SIG_O, LATEST_O), x->err);
		if (st == NULL)
			return x->err ? x->err->code : TIX_ESTORE;
		db_bind_int64(st, 1, x->vid);
		if (db_step(st) == DB_ROW) {
			x->aud = db_column_int64(st, 0);
			x->latest = (int)db_column_int64(st, 1);
		}
		db_reset(st);
		if (x->aud || pass)
			break;
		st = store__stmt(x->s,
		                 "INSERT OR IGNORE INTO value_audiences (sig, " AUDIENCE_NAMES
		                 ") SELECT " SIG_O ", " COLS_O " FROM objects o WHERE o.vid = ?1",
		                 "INSERT INTO value_audiences (sig, " AUDIENCE_NAMES
		                 ") SELECT " PG_SIG_O ", " COLS_O
		                 " FROM objects o WHERE o.vid = ?1 ON CONFLICT DO NOTHING",
		                 x->err);
		if (st == NULL)
			return x->err ? x->err->code : TIX_ESTORE;
		db_bind_int64(st, 1, x->vid);
		if (db_step(st) != DB_DONE) {
			db_reset(st);
			return store__fail(x->s, x->err, "recording an audience");
		}
		db_reset(st);
	}
	if (x->aud == 0)
		return tix_error_set(x->err, TIX_ESTORE, "store", "indexing a version not stored");
	return TIX_OK;
}

static int put_value(void *arg, const struct values_item *v)
{
	struct indexing *x = arg;
	struct db_stmt *st;
	unsigned char net[17];

	if (x->aud == 0 && (x->e = version_audience(x)) != TIX_OK)
		return 1;
	if (v->kind == VALUES_IP) {
		st = store__stmt(x->s,
		                 "INSERT INTO value_ip (net, plen, vid, aud, latest)"
		                 " VALUES (?1, ?2, ?3, ?4, ?5)"
		                 " ON CONFLICT DO NOTHING",
		                 NULL, x->err);
		if (st == NULL)
			goto fail;
		net[0] = (unsigned char)v->family;
		memcpy(net + 1, v->addr, v->len);
		db_bind_blob(st, 1, net, v->len + 1);
		db_bind_int64(st, 2, (int64_t)v->plen);
		db_bind_int64(st, 3, x->vid);
		db_bind_int64(st, 4, x->aud);
		db_bind_int64(st, 5, x->latest);
	} else {
		st = store__stmt(x->s,
		                 x->stage ? "INSERT INTO value_stage (vkey, vid, aud, latest)"
		                            " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"
		                          : "INSERT INTO value_index (vkey, vid, aud, latest)"
		                            " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
		                 NULL, x->err);
		if (st == NULL)
			goto fail;
		db_bind_int64(st, 1, (int64_t)values_key(v));
		db_bind_int64(st, 2, x->vid);
		db_bind_int64(st, 3, x->aud);
		db_bind_int64(st, 4, x->latest);
	}
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		x->e = store__fail(x->s, x->err, "indexing a value");
		return 1;
	}
	db_reset(st);
	x->values++;
	return 0;
fail:
	x->e = x->err ? x->err->code : TIX_ESTORE;
	return 1;
}

static void count_refused(void *arg, const char *what, const char *why)
{
	struct indexing *x = arg;

	(void)what;
	(void)why;
	x->refused++;
}

static int64_t time_us(const json_t *v, int64_t dflt)
{
	struct tix_time t;

	if (json_is_string(v) && tix_time_parse(json_string_value(v), &t, NULL) == TIX_OK)
		return tix_time_to_us(&t);
	return dflt;
}

static enum tix_err index_sighting(struct indexing *x, const json_t *obj)
{
	const char *of = json_string_value(json_object_get(obj, "sighting_of_ref"));
	const char *sensor =
	        json_string_value(json_array_get(json_object_get(obj, "where_sighted_refs"), 0));
	const json_t *c = json_object_get(obj, "count");
	int64_t first = time_us(json_object_get(obj, "first_seen"),
	                        time_us(json_object_get(obj, "created"), 0));
	int64_t last = time_us(json_object_get(obj, "last_seen"), first);
	struct db_stmt *st;

	if (of == NULL)
		return TIX_OK;
	/* PostgreSQL has no INSERT OR REPLACE: its upsert (no trigger on
	 * sighting_index, so SQLite's replace is the same change). */
	st = store__stmt(x->s,
	                 "INSERT OR REPLACE INTO sighting_index (vid, sighting_of, sensor, count,"
	                 " first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                 "INSERT INTO sighting_index (vid, sighting_of, sensor, count, first_seen,"
	                 " last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (vid) DO UPDATE"
	                 " SET sighting_of = excluded.sighting_of, sensor = excluded.sensor,"
	                 " count = excluded.count, first_seen = excluded.first_seen,"
	                 " last_seen = excluded.last_seen",
	                 x->err);
	if (st == NULL)
		return x->err ? x->err->code : TIX_ESTORE;
	db_bind_int64(st, 1, x->vid);
	db_bind_text(st, 2, of, -1);
	db_bind_text(st, 3, sensor ? sensor : "", -1);
	db_bind_int64(st, 4, json_is_integer(c) ? json_integer_value(c) : 1);
	db_bind_int64(st, 5, first);
	db_bind_int64(st, 6, last);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return store__fail(x->s, x->err, "indexing a sighting");
	}
	db_reset(st);
	x->sighting = 1;
	return TIX_OK;
}

/* The searchable text of a version: name, description (or a note's
 * content, an opinion's explanation) and labels. */
static enum tix_err index_text(struct indexing *x, const json_t *obj)
{
	const char *name = json_string_value(json_object_get(obj, "name"));
	const char *desc = json_string_value(json_object_get(obj, "description"));
	const json_t *labels = json_object_get(obj, "labels"), *l;
	struct tix_buf lb;
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	size_t i;

	if (desc == NULL)
		desc = json_string_value(json_object_get(obj, "content"));
	if (desc == NULL)
		desc = json_string_value(json_object_get(obj, "explanation"));
	if (name == NULL && desc == NULL && !json_is_array(labels))
		return TIX_OK;
	tix_buf_init(&lb, 1 << 20);
	json_array_foreach (labels, i, l) {
		if (json_is_string(l)) {
			if (tix_buf_len(&lb))
				tix_buf_addc(&lb, ' ');
			tix_buf_adds(&lb, json_string_value(l));
		}
	}
	/* FTS5's row is its rowid; PostgreSQL's text_index keys it by vid. */
	st = store__stmt(x->s,
	                 "INSERT INTO text_index (rowid, name, description, labels)"
	                 " VALUES (?1, ?2, ?3, ?4)",
	                 "INSERT INTO text_index (vid, name, description, labels)"
	                 " VALUES (?1, ?2, ?3, ?4)",
	                 x->err);
	if (st == NULL) {
		tix_buf_release(&lb);
		return x->err ? x->err->code : TIX_ESTORE;
	}
	db_bind_int64(st, 1, x->vid);
	db_bind_text(st, 2, name ? name : "", -1);
	db_bind_text(st, 3, desc ? desc : "", -1);
	db_bind_text(st, 4, tix_buf_len(&lb) ? tix_buf_str(&lb) : "", -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(x->s, x->err, "indexing text");
	db_reset(st);
	tix_buf_release(&lb);
	return e;
}

static enum tix_err add_refused(struct store *s, size_t n, struct tix_error *err)
{
	struct db_stmt *st;

	if (n == 0)
		return TIX_OK;
	st = store__stmt(s,
	                 "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + ?1 AS TEXT)"
	                 " WHERE key = 'values_refused'",
	                 NULL, err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, (int64_t)n);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return store__fail(s, err, "counting refused values");
	}
	db_reset(st);
	return TIX_OK;
}

static enum tix_err index_object(struct indexing *x, const json_t *obj)
{
	struct values_sink sink = {put_value, count_refused, x};
	const char *type = json_string_value(json_object_get(obj, "type"));
	enum tix_err e;

	values_from_object(obj, &sink);
	if (x->e != TIX_OK)
		return x->e;
	if (type && strcmp(type, "sighting") == 0 && (e = index_sighting(x, obj)) != TIX_OK)
		return e;
	return index_text(x, obj);
}

/* A new version of id, newer than others stored before it: their values
 * are no longer the latest. */
static enum tix_err older_not_latest(struct store *s, const struct stix_meta *m,
                                     struct tix_error *err)
{
	struct db_stmt *older =
	        store__stmt(s,
	                    "SELECT vid FROM objects WHERE id = ?1 AND modified < ?2"
	                    " AND " NOT_OBSERVABLE("modified"),
	                    NULL, err);
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc = DB_DONE;

	if (older == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(older, 1, m->id, -1);
	db_bind_text(older, 2, m->modified, -1);
	while (e == TIX_OK && (rc = db_step(older)) == DB_ROW) {
		static const char *const mark[] = {
		        "UPDATE value_index SET latest = 0 WHERE vid = ?1 AND latest <> 0",
		        "UPDATE value_stage SET latest = 0 WHERE vid = ?1 AND latest <> 0",
		        "UPDATE value_ip SET latest = 0 WHERE vid = ?1 AND latest <> 0"};

		for (int t = 0; t < 3 && e == TIX_OK; t++) {
			st = store__stmt(s, mark[t], NULL, err);
			if (st == NULL) {
				e = err ? err->code : TIX_ESTORE;
				break;
			}
			db_bind_int64(st, 1, db_column_int64(older, 0));
			if (db_step(st) != DB_DONE)
				e = store__fail(s, err, "marking older values");
			db_reset(st);
		}
	}
	if (e == TIX_OK && rc != DB_DONE)
		e = store__fail(s, err, "finding older versions");
	db_reset(older);
	return e;
}

/* Moves every staged row into value_index, in key order, so the merge
 * writes each leaf of the main tree once, however many rows land in it. */
static enum tix_err stage_merge(struct store *s, struct tix_error *err)
{
	static const char *const sql[] = {
	        "INSERT INTO value_index (vkey, vid, aud, latest) SELECT vkey, vid, aud, latest"
	        " FROM value_stage WHERE TRUE ORDER BY vkey, vid ON CONFLICT DO NOTHING",
	        "DELETE FROM value_stage"};

	for (int i = 0; i < 2; i++) {
		struct db_stmt *st = store__stmt(s, sql[i], NULL, err);

		if (st == NULL)
			return err ? err->code : TIX_ESTORE;
		if (db_step(st) != DB_DONE) {
			db_reset(st);
			return store__fail(s, err, "merging the staged values");
		}
		db_reset(st);
	}
	return TIX_OK;
}

/* The value rows every handle of the process staged: the store's pace.
 * With one handle per server thread, a handle waiting for its own rows
 * alone let the staging level grow by a wait per handle between counts. */
static _Atomic int64_t staged_rows;

/* After a version staged `staged` rows: counts the staging level, and
 * merges it when it holds c->bound rows or more (counted no further), once
 * the handles of the process have staged, since this handle last counted,
 * half the rows that count left to the bound (at least c->every): a count
 * reads up to c->bound rows, so it is not made for every few versions. */
static enum tix_err stage_check(struct store *s, size_t staged, const struct stage_conf *c,
                                struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	int64_t n = 0, all = atomic_fetch_add(&staged_rows, (int64_t)staged) + (int64_t)staged;

	if (all - s->stage_mark < s->stage_wait && s->stage_bound == c->bound)
		return TIX_OK;
	st = store__stmt(s, "SELECT count(*) FROM (SELECT 1 FROM value_stage LIMIT ?1) t", NULL,
	                 err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, c->bound);
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return store__fail(s, err, "counting the staged values");
	}
	n = db_column_int64(st, 0);
	db_reset(st);
	if (n >= c->bound) {
		e = stage_merge(s, err);
		n = 0;
	}
	s->stage_mark = all;
	s->stage_bound = c->bound;
	s->stage_wait = (c->bound - n) / 2 > c->every ? (c->bound - n) / 2 : c->every;
	return e;
}

/* Whether the store has migration 21's staging level (*yes): a PostgreSQL
 * store always (it is made by the whole list at once). */
static enum tix_err stage_exists(struct store *s, int *yes, struct tix_error *err)
{
	struct db_stmt *st;

	*yes = 1;
	if (s->pg)
		return TIX_OK;
	st = store__stmt(s, "SELECT count(*) FROM sqlite_master WHERE name = 'value_stage'", NULL,
	                 err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return store__fail(s, err, "reading the schema");
	}
	*yes = db_column_int64(st, 0) != 0;
	db_reset(st);
	return TIX_OK;
}

enum tix_err store__index_version(struct store *s, int64_t vid, const struct stix_meta *m,
                                  const char *body, size_t body_len, int only,
                                  struct tix_error *err)
{
	struct stage_conf c = stage_conf();
	struct indexing x = {s, vid, 0, 0, TIX_OK, err, 0, 0, 0, vid >= c.from, only};
	json_t *own = NULL;
	const json_t *obj = m->object;
	enum tix_err e;

	if (!only && !store__is_observable(m) && (e = older_not_latest(s, m, err)) != TIX_OK)
		return e;

	if (obj == NULL) {
		if ((own = json_loadb(body, body_len, 0, NULL)) == NULL)
			return TIX_OK; /* the store holds what it was given; nothing to index */
		obj = own;
	}
	e = index_object(&x, obj);
	json_decref(own);
	if (e == TIX_OK)
		e = add_refused(s, x.refused, err);
	if (e == TIX_OK && x.sighting)
		e = store__sightings_moved(s, err);
	if (e == TIX_OK && x.stage)
		e = stage_check(s, x.values, &c, err);
	return e;
}

/* ---- the index's events ------------------------------------------------ */

/* Runs each statement of sql, ?1 bound to vid and ?2 to aud when given (> 0). */
static enum tix_err run_each(struct store *s, const char *const *sql, size_t n, int64_t vid,
                             int64_t aud, const char *what, struct tix_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct db_stmt *st = store__stmt(s, sql[i], NULL, err);
		enum db_rc rc;

		if (st == NULL)
			return err ? err->code : TIX_ESTORE;
		if (vid > 0)
			db_bind_int64(st, 1, vid);
		if (aud > 0)
			db_bind_int64(st, 2, aud);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return store__fail(s, err, what);
	}
	return TIX_OK;
}

enum tix_err store__values_resync(struct store *s, struct tix_error *err)
{
#define NEWEST_DOOMED " AND vid IN (SELECT " NEWEST_OF("d.id") " FROM doomed_ids d)"
	static const char *const latest[] = {
	        "UPDATE value_index SET latest = 1 WHERE latest = 0" NEWEST_DOOMED,
	        "UPDATE value_stage SET latest = 1 WHERE latest = 0" NEWEST_DOOMED,
	        "UPDATE value_ip SET latest = 1 WHERE latest = 0" NEWEST_DOOMED,
	        /* FTS5's rows have no foreign key (PostgreSQL's go by theirs) */
	        ("DELETE FROM text_index WHERE rowid IN (SELECT d.vid FROM doomed d"
	         " WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.vid = d.vid))")};
#undef NEWEST_DOOMED

	return run_each(s, latest, s->pg ? 3 : 4, 0, 0, "marking the latest values again", err);
}

enum tix_err store__values_audience_changed(struct store *s, int64_t vid, struct tix_error *err)
{
	static const char *const aud[] = {
	        "UPDATE value_index SET aud = ?2 WHERE vid = ?1 AND aud <> ?2",
	        "UPDATE value_stage SET aud = ?2 WHERE vid = ?1 AND aud <> ?2",
	        "UPDATE value_ip SET aud = ?2 WHERE vid = ?1 AND aud <> ?2"};
	struct indexing x = {s, vid, 0, 0, TIX_OK, err, 0, 0, 0, 0, 0};
	enum tix_err e;

	/* the audience row of its columns now, added when new */
	if ((e = version_audience(&x)) != TIX_OK)
		return e;
	return run_each(s, aud, 3, vid, x.aud, "moving values to a new audience", err);
}

/* ---- rebuilding --------------------------------------------------------- */

enum tix_err store__values_rebuild(struct store *s, struct store_reindex_counts *c,
                                   struct tix_error *err)
{
	static const char *const clear =
	        "DELETE FROM value_index; DELETE FROM value_ip; DELETE FROM value_audiences;"
	        " DELETE FROM sighting_index;"
	        " DELETE FROM text_index; UPDATE meta SET value = '0' WHERE key = 'values_refused'";
	struct db *db = store__engine(s);
	struct db_stmt *st = NULL;
	struct stage_conf sc = stage_conf();
	enum tix_err e;
	enum db_rc rc;
	int staging;

	memset(c, 0, sizeof(*c));
	/* migration 16's step runs before the staging level exists */
	if ((e = stage_exists(s, &staging, err)) != TIX_OK)
		return e;
	if (!staging)
		sc.from = INT64_MAX;
	if (db_exec(db, clear, NULL) != DB_OK ||
	    (staging && db_exec(db, "DELETE FROM value_stage", NULL) != DB_OK))
		return store__fail(s, err, "clearing the value index");
	if (db_prepare(db, "SELECT vid, body FROM objects ORDER BY vid", NULL, &st) != DB_OK)
		return store__fail(s, err, "reading objects to index");
	db_set_paged(st, 1); /* every object */
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t vid = db_column_int64(st, 0);
		struct indexing x = {s, vid, 0, 0, TIX_OK, err, 0, 0, 0, vid >= sc.from, 0};
		size_t len;
		const char *body = db_column_text(st, 1, &len);
		json_t *obj = body ? json_loadb(body, len, 0, NULL) : NULL;

		c->versions++;
		if (obj == NULL)
			continue;
		e = index_object(&x, obj);
		json_decref(obj);
		if (e == TIX_OK && x.stage)
			e = stage_check(s, x.values, &sc, err);
		if (e != TIX_OK) {
			db_finalize(st);
			return e;
		}
		c->values += x.values;
		c->refused += x.refused;
	}
	if (rc != DB_DONE) {
		e = store__fail(s, err, "reading objects to index");
		db_finalize(st);
		return e;
	}
	db_finalize(st);
	/* a rebuilt index starts with its staging level empty */
	if (staging && (e = stage_merge(s, err)) != TIX_OK)
		return e;
	/* the sightings were indexed again: once for all of them (before
	 * migration 19, in migration 16's step, no counter yet: no row moves) */
	if ((e = store__sightings_moved(s, err)) != TIX_OK)
		return e;
	return add_refused(s, (size_t)c->refused, err);
}

enum tix_err store_values_reindex(struct store *s, struct store_reindex_counts *c,
                                  struct tix_error *err)
{
	enum tix_err e;

	/* store_begin is SQLite's (sqlite.c, not yet on db.h): on PostgreSQL
	 * the rebuild is a write transaction of its own. */
	if (s->pg) {
		if ((e = store__write_begin(s, err)) != TIX_OK)
			return e;
		return store__write_end(s, store__values_rebuild(s, c, err), err);
	}
	if ((e = store_begin(s, err)) != TIX_OK)
		return e;
	if ((e = store__values_rebuild(s, c, err)) != TIX_OK) {
		store_rollback(s);
		return e;
	}
	return store_commit(s, err);
}

enum tix_err store_values_refused(struct store *s, int64_t *n, struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT value FROM meta WHERE key = 'values_refused'", NULL, err);

	*n = 0;
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (db_step(st) == DB_ROW)
		*n = db_column_int64(st, 0);
	db_reset(st);
	return TIX_OK;
}

/* ---- finding ---------------------------------------------------------- */

/* The columns of a hit, the reader's organisation key being the
 * placeholder reader ("?2"; each statement numbers its parameters without
 * gaps, which PostgreSQL needs to know their types). HIT_LATEST: the
 * latest version of each object (or each owner's copy of an observable). */
#define HIT_COLS(reader) HIT_COLS_OF("o.body", reader)
/* The same with another expression for the body (store_latest_each: NULL). */
#define HIT_COLS_OF(body, reader)                                                                  \
	"o.vid, o.id, o.type, o.modified, o.date_added, " body AUD_COLS                            \
	", coalesce((SELECT country FROM orgs WHERE name = o.owner_org), '')," READS_COLLECTION(   \
	        "o.vid", reader)
/* Whether the reader is granted read on a collection holding vid: 1 or 0. */
#define READS_COLLECTION(vid, reader)                                                              \
	" CASE WHEN EXISTS (SELECT 1 FROM collection_grants g WHERE g.okey = " reader              \
	" AND g.can_read <> 0 AND EXISTS"                                                          \
	" (SELECT 1 FROM collection_objects m WHERE m.ckey = g.ckey AND m.vid = " vid "))"         \
	" THEN 1 ELSE 0 END"
#define HIT_LATEST                                                                                  \
	" AND NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.id = o.id AND o2.modified > o.modified" \
	" AND substr(o.modified, 1, 1) <> '#')"

static struct store_value_hit hit_of(struct db_stmt *st)
{
	struct store_value_hit h;

	h.vid = db_column_int64(st, 0);
	h.id = db_column_text(st, 1, NULL);
	h.type = db_column_text(st, 2, NULL);
	h.modified = db_column_text(st, 3, NULL);
	h.date_added = db_column_int64(st, 4);
	h.body = db_column_text(st, 5, &h.body_len);
	if (h.body == NULL)
		h.body_len = 0;
	h.aud = store__db_audience(st, 6);
	h.country = db_column_text(st, 12, NULL);
	h.collection_reader = (int)db_column_int64(st, 13);
	return h;
}

/* Steps st (its parameters bound), handing each row on to cb as a hit
 * until cb returns non-zero (*stopped then 1); resets st. A failed step is
 * reported as an error of what. */
static enum tix_err each_hit(struct store *s, struct db_stmt *st,
                             int (*cb)(void *, const struct store_value_hit *), void *arg,
                             const char *what, int *stopped, struct tix_error *err)
{
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	*stopped = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		struct store_value_hit h = hit_of(st);

		if (cb(arg, &h) != 0) {
			*stopped = 1;
			break;
		}
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, what);
	db_reset(st);
	return e;
}

struct finding {
	struct store *s;
	const struct store_value_find *f;
	size_t examined;
	int stopped;
};

/* One hit of a lookup, within the budget of hits examined. */
static int within_budget(void *arg, const struct store_value_hit *h)
{
	struct finding *w = arg;

	if (w->f->budget && w->examined >= w->f->budget)
		return 1;
	w->examined++;
	return w->f->cb(w->f->arg, h);
}

/* Runs one prepared lookup (its other parameters bound); hands its hits
 * on. Returns non-zero when the walk is over (budget, callback, error). */
static int walk(struct finding *w, struct db_stmt *st, enum tix_err *e, struct tix_error *err)
{
	int stopped;

	db_bind_int64(st, 1, w->f->reader_org_key);
	*e = each_hit(w->s, st, within_budget, w, "finding a value", &stopped, err);
	w->stopped |= stopped;
	return w->stopped || *e != TIX_OK;
}

/* The lookups of store_values_find: [index_only][value, addresses inside,
 * ranges holding]. The full ones join each row's version; the index-only
 * ones read its audience from value_audiences and never the objects table
 * (but for the collections holding it, when the reader is granted any). */
/* ?1 the reader, ?2 the id left out (or NULL), ?3... the value. A value
 * is looked up in both levels of value_index (migration 21), their rows
 * merged newest first (a compound's ORDER BY: each level in its key order,
 * never sorted whole, so a budget still stops the walk early). */
#define FIND_ROWS(cols, join, table, where)                                                        \
	"SELECT " cols " FROM " table " x " join " WHERE " where " AND x.latest <> 0 AND x.vid"    \
	" NOT IN (SELECT vid FROM objects WHERE id = ?2)"
#define FIND_SQL(cols, join, table, where)                                                         \
	FIND_ROWS(cols, join, table, where) " ORDER BY x.vid DESC"
#define FIND_LEVELS(cols, join, where)                                                             \
	FIND_ROWS(cols, join, "value_index", where)                                                \
	" UNION ALL " FIND_ROWS(cols, join, "value_stage", where) " ORDER BY 1 DESC"
#define FULL_HIT_JOIN    "JOIN objects o ON o.vid = x.vid"
#define FIND_FULL(...)   FIND_SQL_OF(HIT_COLS("?1"), FULL_HIT_JOIN, __VA_ARGS__)
#define FIND_INDEX(...)  FIND_SQL_OF(INDEX_HIT_COLS, INDEX_HIT_JOIN, __VA_ARGS__)
#define FIND_SQL_OF(...) FIND_SQL(__VA_ARGS__)
#define INDEX_HIT_JOIN   "JOIN value_audiences a ON a.akey = x.aud"
#define INDEX_HIT_COLS                                                                             \
	"x.vid, NULL, a.type, NULL, 0, NULL, a.tlp, a.tlp_flags, a.owner_org, a.sharing_group,"    \
	" a.recipients, a.origin_node, NULL," READS_COLLECTION("x.vid", "?1")
#define FIND_VALUE  "x.vkey = ?3"
#define FIND_INSIDE "value_ip", "x.net BETWEEN ?3 AND ?4 AND x.plen >= ?5"
#define FIND_HOLDS  "value_ip", "x.net = ?3 AND x.plen = ?4"

static const char *const find_sql[2][3] = {
        {FIND_LEVELS(HIT_COLS("?1"), FULL_HIT_JOIN, FIND_VALUE), FIND_FULL(FIND_INSIDE),
         FIND_FULL(FIND_HOLDS)},
        {FIND_LEVELS(INDEX_HIT_COLS, INDEX_HIT_JOIN, FIND_VALUE), FIND_INDEX(FIND_INSIDE),
         FIND_INDEX(FIND_HOLDS)},
};

static struct db_stmt *find_stmt(struct store *s, const struct store_value_find *f, int which,
                                 struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, find_sql[f->index_only != 0][which], NULL, err);

	if (st)
		db_bind_text_or_null(st, 2, f->exclude_id);
	return st;
}

enum tix_err store_values_find(struct store *s, const struct store_value_find *f, int *stopped,
                               struct tix_error *err)
{
	struct finding w = {s, f, 0, 0};
	const struct values_item *v = f->value;
	struct db_stmt *st;
	enum tix_err e = TIX_OK;

	*stopped = 0;
	if (v->kind != VALUES_IP) {
		if ((st = find_stmt(s, f, 0, err)) == NULL)
			return err ? err->code : TIX_ESTORE;
		db_bind_int64(st, 3, (int64_t)values_key(v));
		walk(&w, st, &e, err);
	} else {
		unsigned char lo[17], hi[17];
		unsigned bytes = v->family == 4 ? 4 : 16, maxp = v->family == 4 ? 32 : 128;

		/* The address or range itself and everything inside it. */
		lo[0] = hi[0] = (unsigned char)v->family;
		for (unsigned i = 0; i < bytes; i++) {
			unsigned keep = v->plen >= (i + 1) * 8 ? 8
			                : v->plen > i * 8      ? v->plen - i * 8
			                                       : 0;

			lo[1 + i] = v->addr[i];
			hi[1 + i] = (unsigned char)(v->addr[i] | (0xffu >> keep));
		}
		if ((st = find_stmt(s, f, 1, err)) == NULL)
			return err ? err->code : TIX_ESTORE;
		db_bind_blob(st, 3, lo, bytes + 1);
		db_bind_blob(st, 4, hi, bytes + 1);
		db_bind_int64(st, 5, (int64_t)v->plen);
		if (walk(&w, st, &e, err) == 0) {
			/* The ranges that hold it: one lookup per shorter prefix. */
			if ((st = find_stmt(s, f, 2, err)) == NULL)
				return err ? err->code : TIX_ESTORE;
			for (unsigned p = 0; p < v->plen && p < maxp; p++) {
				unsigned char net[17];

				net[0] = (unsigned char)v->family;
				for (unsigned i = 0; i < bytes; i++) {
					unsigned keep = p >= (i + 1) * 8 ? 8
					                : p > i * 8      ? p - i * 8
					                                 : 0;

					net[1 + i] =
					        (unsigned char)(v->addr[i] & (0xff00u >> keep));
				}
				db_bind_blob(st, 3, net, bytes + 1);
				db_bind_int64(st, 4, (int64_t)p);
				if (walk(&w, st, &e, err) != 0)
					break;
			}
		}
	}
	*stopped = w.stopped;
	return e;
}

enum tix_err store_object_version(struct store *s, int64_t vid, int64_t reader_org_key,
                                  int (*cb)(void *, const struct store_value_hit *), void *arg,
                                  struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "SELECT " HIT_COLS("?2") " FROM objects o WHERE o.vid = ?1", NULL, err);
	int stopped;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, vid);
	db_bind_int64(st, 2, reader_org_key);
	return each_hit(s, st, cb, arg, "reading a version", &stopped, err);
}

/* The hits of a query about one id (?1) for a reader (?2). */
static enum tix_err hits_of_id(struct store *s, const char *sql, const char *id,
                               int64_t reader_org_key,
                               int (*cb)(void *, const struct store_value_hit *), void *arg,
                               const char *what, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, sql, NULL, err);
	int stopped;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, id, -1);
	db_bind_int64(st, 2, reader_org_key);
	return each_hit(s, st, cb, arg, what, &stopped, err);
}

enum tix_err store_object_latest(struct store *s, const char *id, int64_t reader_org_key,
                                 int (*cb)(void *, const struct store_value_hit *), void *arg,
                                 struct tix_error *err)
{
	return hits_of_id(s, "SELECT " HIT_COLS("?2") " FROM objects o WHERE o.id = ?1" HIT_LATEST,
	                  id, reader_org_key, cb, arg, "reading an object", err);
}

enum tix_err store_object_versions(struct store *s, const char *id, int64_t reader_org_key,
                                   int (*cb)(void *, const struct store_value_hit *), void *arg,
                                   struct tix_error *err)
{
	return hits_of_id(s,
	                  "SELECT " HIT_COLS_OF("NULL", "?2") " FROM objects o WHERE o.id = ?1"
	                                                      " AND substr(o.modified, 1, 1) <> '#'"
	                                                      " ORDER BY o.modified, o.date_added",
	                  id, reader_org_key, cb, arg, "reading the versions of an object", err);
}

enum tix_err store_relationships_of(struct store *s, const char *id, int64_t reader_org_key,
                                    int (*cb)(void *, const struct store_value_hit *), void *arg,
                                    struct tix_error *err)
{
	return hits_of_id(
	        s,
	        "SELECT " HIT_COLS(
	                "?2") " FROM object_refs_index x CROSS JOIN objects o"
	                      " WHERE o.vid = x.vid AND x.ref = ?1 AND o.type = 'relationship'" HIT_LATEST
	                      " ORDER BY o.date_added",
	        id, reader_org_key, cb, arg, "reading the relationships of an object", err);
}

enum tix_err store_latest_each(struct store *s, int64_t reader_org_key,
                               int (*cb)(void *, const struct store_value_hit *), void *arg,
                               struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s,
	        "SELECT " HIT_COLS_OF("NULL", "?1") " FROM objects o WHERE TRUE" HIT_LATEST
	                                            " ORDER BY o.vid",
	        NULL, err);
	int stopped;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_set_paged(st, 1); /* every object */
	db_bind_int64(st, 1, reader_org_key);
	return each_hit(s, st, cb, arg, "reading the objects", &stopped, err);
}

enum tix_err store_sightings_of(struct store *s, const char *id, int64_t reader_org_key,
                                int (*cb)(void *, const struct store_sighting_row *), void *arg,
                                struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s,
	        "SELECT " HIT_COLS("?2") ", x.sensor, x.count, x.first_seen, x.last_seen"
	                                 " FROM sighting_index x JOIN objects o ON o.vid = x.vid"
	                                 " WHERE x.sighting_of = ?1" HIT_LATEST
	                                 " ORDER BY x.last_seen DESC",
	        NULL, err);
	enum db_rc rc;
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_set_paged(st, 1); /* a busy indicator's sightings are many */
	db_bind_text(st, 1, id, -1);
	db_bind_int64(st, 2, reader_org_key);
	while ((rc = db_step(st)) == DB_ROW) {
		struct store_sighting_row r;

		r.hit = hit_of(st);
		r.sensor = db_column_text(st, 14, NULL);
		r.count = db_column_int64(st, 15);
		r.first_seen = db_column_int64(st, 16);
		r.last_seen = db_column_int64(st, 17);
		if (cb(arg, &r) != 0)
			break;
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading sightings");
	db_reset(st);
	return e;
}

int store_sighting_line_add(struct store *s, const char *sighting_id, uint64_t line_key,
                            struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "INSERT INTO sighting_lines (sighting, line_key)"
	                                 " VALUES (?1, ?2) ON CONFLICT DO NOTHING",
	                                 NULL, err);
	int added;

	if (st == NULL)
		return -1;
	if (!s->in_tx) {
		tix_error_set(err, TIX_ESTORE, "store", "sighting_line_add outside a transaction");
		return -1;
	}
	db_bind_text(st, 1, sighting_id, -1);
	db_bind_int64(st, 2, (int64_t)line_key);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		store__fail(s, err, "recording a sighted line");
		return -1;
	}
	db_reset(st);
	added = db_changes(store__engine(s)) == 1;
	return added;
}

int store_snapshot_begin(struct store *s)
{
	struct db *db = store__engine(s);

	return !db_in_transaction(db) && db_begin(db, 0) == DB_OK;
}

void store_snapshot_end(struct store *s, int begun)
{
	if (begun && db_commit(store__engine(s)) != DB_OK)
		db_rollback(store__engine(s));
}

/* ---- text search ------------------------------------------------------- */

/* FTS5 on SQLite (unicode61, bm25); on PostgreSQL text_index's tsvector
 * (migration 22) and the same expression mapped to a tsquery here. */

/* A byte of a word, as api_fts_expression and PG_WORDS cut them. */
static int word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* PostgreSQL's lexemes are at most 2046 bytes (a longer word is not indexed). */
#define TS_WORD_MAX 2046

/* Appends the word of len bytes at w as a quoted lexeme with suffix, or
 * says why not: only word bytes (so no quote, backslash or operator can
 * reach the tsquery), not too long. */
static enum tix_err ts_word(const char *w, size_t len, const char *suffix, struct tix_buf *out,
                            struct tix_error *err)
{
	if (len == 0 || len > TS_WORD_MAX)
		return tix_error_set(err, TIX_EINVAL, "q", "a word of %zu bytes: 1 to %d", len,
		                     TS_WORD_MAX);
	for (size_t i = 0; i < len; i++)
		if (!word_byte((unsigned char)w[i]))
			return tix_error_set(err, TIX_EINVAL, "q",
			                     "not a word of letters and digits: %.*s", (int)len, w);
	tix_buf_addc(out, '\'');
	tix_buf_add(out, w, len);
	tix_buf_addc(out, '\'');
	tix_buf_adds(out, suffix);
	return TIX_OK;
}

/* The FTS5 expressions api_fts_expression makes, as a tsquery for
 * to_tsquery('simple', ...): "tok"* or tok* (a word starting so, in any
 * column) is 'tok':*, "tok" or tok the word itself 'tok', the words of
 * labels : "w1 w2" are 'w1':C <-> 'w2':C (one after the other in the
 * labels), all of them ANDed. Anything else (FTS5's operators, other
 * columns, NEAR, parentheses, quotes inside words) is refused with the
 * reason: this is not a parser of FTS5's whole syntax. */
static enum tix_err fts_to_tsquery(const char *m, struct tix_buf *out, struct tix_error *err)
{
	static const char labels[] = "labels : \"";
	size_t items = 0;
	enum tix_err e = TIX_OK;

	while (e == TIX_OK && *m) {
		const char *end;

		if (*m == ' ') {
			m++;
			continue;
		}
		if (items++)
			tix_buf_adds(out, " & ");
		if (strncmp(m, labels, sizeof(labels) - 1) == 0) {
			size_t words = 0;

			m += sizeof(labels) - 1;
			if ((end = strchr(m, '"')) == NULL)
				return tix_error_set(err, TIX_EINVAL, "q", "a phrase not closed");
			tix_buf_addc(out, '(');
			while (e == TIX_OK && m < end) {
				const char *w = m;

				while (m < end && *m != ' ')
					m++;
				if (m > w) {
					if (words++)
						tix_buf_adds(out, " <-> ");
					e = ts_word(w, (size_t)(m - w), ":C", out, err);
				}
				while (m < end && *m == ' ')
					m++;
			}
			tix_buf_addc(out, ')');
			if (e == TIX_OK && words == 0)
				e = tix_error_set(err, TIX_EINVAL, "q", "no word to search for");
			m = end + 1;
		} else if (*m == '"' && (end = strchr(m + 1, '"')) != NULL) {
			int prefix = end[1] == '*';

			e = ts_word(m + 1, (size_t)(end - m - 1), prefix ? ":*" : "", out, err);
			m = end + 1 + prefix;
		} else if (word_byte((unsigned char)*m)) {
			const char *w = m;

			while (word_byte((unsigned char)*m))
				m++;
			/* FTS5's operators stay refused: only words are mapped */
			if ((m - w == 2 && strncmp(w, "OR", 2) == 0) ||
			    (m - w == 3 &&
			     (strncmp(w, "AND", 3) == 0 || strncmp(w, "NOT", 3) == 0)) ||
			    (m - w == 4 && strncmp(w, "NEAR", 4) == 0))
				return tix_error_set(err, TIX_EINVAL, "q", "an operator (%.*s)",
				                     (int)(m - w), w);
			e = ts_word(w, (size_t)(m - w), *m == '*' ? ":*" : "", out, err);
			m += *m == '*';
		} else {
			return tix_error_set(err, TIX_EINVAL, "q",
			                     "not a search expression of words and phrases: %.40s",
			                     m);
		}
	}
	if (e == TIX_OK && items == 0)
		e = tix_error_set(err, TIX_EINVAL, "q", "no word to search for");
	return e;
}

enum tix_err store_text_search(struct store *s, const struct store_text_query *q,
                               int (*cb)(void *, const struct store_value_hit *), void *arg,
                               int *more, struct tix_error *err)
{
	struct tix_buf sql, pg, ts;
	struct db_stmt *st = NULL;
	size_t examined = 0, budget = q->budget ? q->budget : 10000;
	int n = 3; /* ?1 the expression, ?2 the budget, ?3 the reader */
	int p_org = 0, p_since = 0, p_type = 0;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	*more = 0;
	tix_buf_init(&ts, 1 << 16);
	if (s->pg && (e = fts_to_tsquery(q->match, &ts, err)) != TIX_OK) {
		tix_buf_release(&ts);
		return e;
	}
	tix_buf_init(&sql, 1 << 14);
	tix_buf_init(&pg, 1 << 14);
	/* the best rows of the index, then their versions: bm25's rank, less
	 * is better; PostgreSQL's ts_rank negated so, ties by vid */
	tix_buf_adds(&sql, "SELECT " HIT_COLS(
	                           "?3") " FROM (SELECT rowid AS vid, rank FROM text_index"
	                                 " WHERE text_index MATCH ?1 ORDER BY rank LIMIT ?2) t");
	tix_buf_adds(&pg,
	             "SELECT " HIT_COLS("?3") " FROM (SELECT vid, -ts_rank(doc, x) AS rank"
	                                      " FROM text_index, to_tsquery('simple', ?1) x"
	                                      " WHERE doc @@ x ORDER BY rank, vid LIMIT ?2) t");
	/* the rest alike on both, parameters numbered without gaps */
	{
		struct tix_buf rest;

		tix_buf_init(&rest, 1 << 14);
		tix_buf_adds(&rest, " JOIN objects o ON o.vid = t.vid WHERE TRUE" HIT_LATEST);
		if (q->types && q->types[0]) {
			p_type = n + 1;
			tix_buf_adds(&rest, " AND o.type IN (");
			for (int i = 0; i < 16 && q->types[i]; i++)
				tix_buf_addf(&rest, "%s?%d", i ? ", " : "", ++n);
			tix_buf_adds(&rest, ")");
		}
		if (q->org) {
			p_org = ++n;
			tix_buf_addf(&rest, " AND o.owner_org = ?%d", p_org);
		}
		if (q->since_modified) {
			p_since = ++n;
			tix_buf_addf(&rest,
			             " AND o.modified >= ?%d AND substr(o.modified, 1, 1) <> '#'",
			             p_since);
		}
		tix_buf_adds(&rest, " ORDER BY t.rank, t.vid");
		tix_buf_adds(&sql, tix_buf_str(&rest));
		tix_buf_adds(&pg, tix_buf_str(&rest));
		tix_buf_release(&rest);
	}
	st = store__stmt(s, tix_buf_str(&sql), tix_buf_str(&pg), err);
	tix_buf_release(&sql);
	tix_buf_release(&pg);
	if (st == NULL) {
		tix_buf_release(&ts);
		return err ? err->code : TIX_ESTORE;
	}
	db_bind_text(st, 1, s->pg ? tix_buf_str(&ts) : q->match, -1);
	db_bind_int64(st, 2, (int64_t)budget);
	db_bind_int64(st, 3, q->reader_org_key);
	for (int i = 0; p_type && q->types && i < 16 && q->types[i]; i++)
		db_bind_text(st, p_type + i, q->types[i], -1);
	if (p_org)
		db_bind_text(st, p_org, q->org, -1);
	if (p_since)
		db_bind_text(st, p_since, q->since_modified, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		struct store_value_hit h = hit_of(st);

		examined++;
		if (cb(arg, &h) != 0) {
			*more = 1;
			break;
		}
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "searching");
	else if (rc == DB_DONE && examined >= budget)
		*more = 1;
	db_reset(st);
	tix_buf_release(&ts);
	return e;
}

/* ---- tix expire ---------------------------------------------------------- */

enum tix_err store_indicator_expire(struct store *s, const char *id, int64_t at_us, double score,
                                    int *added, struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s,
	                    "INSERT INTO indicator_expired (id, at, score) VALUES (?1, ?2,"
	                    " ?3) ON CONFLICT DO NOTHING",
	                    NULL, err);

	*added = 0;
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, id, -1);
	db_bind_int64(st, 2, at_us);
	db_bind_double(st, 3, score);
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return store__fail(s, err, "marking an indicator expired");
	}
	db_reset(st);
	*added = db_changes(store__engine(s)) == 1;
	return TIX_OK;
}

struct id_set_fill {
	struct store_id_set *set;
	size_t cap;
	int oom;
};

static int id_set_add(void *arg, const char *id)
{
	struct id_set_fill *f = arg;

	if (f->set->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		char **v = realloc(f->set->ids, cap * sizeof(*v));

		if (v == NULL)
			goto oom;
		f->set->ids = v;
		f->cap = cap;
	}
	if ((f->set->ids[f->set->n] = strdup(id)) == NULL)
		goto oom;
	f->set->n++;
	return 0;
oom:
	f->oom = 1;
	return 1;
}

enum tix_err store_expired_set_load(struct store *s, struct store_id_set *set,
                                    struct tix_error *err)
{
	struct id_set_fill f = {set, 0, 0};
	enum tix_err e;

	memset(set, 0, sizeof(*set));
	e = store_indicators_expired(s, id_set_add, &f, err);
	if (e == TIX_OK && f.oom)
		e = tix_error_set(err, TIX_ENOMEM, "expired indicators", "out of memory");
	if (e != TIX_OK)
		store_id_set_release(set);
	return e;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int store_id_set_has(const struct store_id_set *set, const char *id)
{
	return set->n && bsearch(&id, set->ids, set->n, sizeof(*set->ids), cmp_id) != NULL;
}

void store_id_set_release(struct store_id_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->ids[i]);
	free(set->ids);
	memset(set, 0, sizeof(*set));
}

enum tix_err store_indicators_expired(struct store *s, int (*cb)(void *, const char *id), void *arg,
                                      struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT id FROM indicator_expired ORDER BY id", NULL, err);
	enum db_rc rc;
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_set_paged(st, 1);
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL)) != 0)
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading expired indicators");
	db_reset(st);
	return e;
}
