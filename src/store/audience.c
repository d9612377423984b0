/*
 * store/audience.c — the audience index: for each collection membership, the
 * keys naming who could read it ("clear", "all", "org:NAME", ...), computed in C
 * and written by the store's write paths on both engines, so a TAXII page for a
 * principal walks only rows it might see (docs/architecture.md).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Migration 7 (after the ownership migration 6). collection_audience holds one row per
 * (membership, key); its triggers kept it exact until migration 20 made
 * the write paths write it (below). */
const char store__schema_audience[] =
        "CREATE TABLE collection_audience ("
        "  ckey INTEGER NOT NULL,"
        "  key TEXT NOT NULL,"
        "  date_added INTEGER NOT NULL,"
        "  PRIMARY KEY (ckey, key, date_added)) WITHOUT ROWID;"
        "CREATE INDEX collection_audience_added ON collection_audience (date_added);"
        "INSERT OR IGNORE INTO collection_audience (ckey, key, date_added)"
        " SELECT m.ckey, j.value, m.date_added FROM collection_objects m"
        " JOIN objects o ON o.vid = m.vid, json_each(tix_audience(o.tlp, o.tlp_flags,"
        " o.owner_org, o.sharing_group, o.recipients)) j;"
        "CREATE TRIGGER collection_audience_add AFTER INSERT ON collection_objects BEGIN"
        " INSERT OR IGNORE INTO collection_audience (ckey, key, date_added)"
        " SELECT new.ckey, j.value, new.date_added FROM objects o,"
        " json_each(tix_audience(o.tlp, o.tlp_flags, o.owner_org, o.sharing_group,"
        " o.recipients)) j WHERE o.vid = new.vid; END;"
        "CREATE TRIGGER collection_audience_drop AFTER DELETE ON collection_objects BEGIN"
        " DELETE FROM collection_audience WHERE date_added = old.date_added; END;"
        "CREATE TRIGGER collection_audience_change AFTER UPDATE OF tlp, tlp_flags, owner_org,"
        " sharing_group, recipients ON objects BEGIN"
        " DELETE FROM collection_audience WHERE date_added IN"
        " (SELECT date_added FROM collection_objects WHERE vid = new.vid);"
        " INSERT OR IGNORE INTO collection_audience (ckey, key, date_added)"
        " SELECT m.ckey, j.value, m.date_added FROM collection_objects m,"
        " json_each(tix_audience(new.tlp, new.tlp_flags, new.owner_org, new.sharing_group,"
        " new.recipients)) j WHERE m.vid = new.vid; END;"
        /* The audit anchors peers send (audit.c): the last few per peer,
         * and what was wrong with the latest that did not follow. */
        "CREATE TABLE peer_anchors ("
        "  peer TEXT NOT NULL,"
        "  seq INTEGER NOT NULL,"
        "  hash TEXT NOT NULL,"
        "  received INTEGER NOT NULL,"
        "  PRIMARY KEY (peer, seq)) WITHOUT ROWID;"
        "CREATE TABLE peer_anchor_problems ("
        "  peer TEXT PRIMARY KEY,"
        "  problem TEXT NOT NULL,"
        "  at INTEGER NOT NULL);";

/* The same on PostgreSQL: the tables only (the rows are written from C,
 * migration 20). */
const char store__pg_schema_audience[] =
        "CREATE TABLE collection_audience ("
        "  ckey BIGINT NOT NULL,"
        "  key TEXT NOT NULL,"
        "  date_added BIGINT NOT NULL,"
        "  PRIMARY KEY (ckey, key, date_added));"
        "CREATE INDEX collection_audience_added ON collection_audience (date_added);"
        "CREATE TABLE peer_anchors ("
        "  peer TEXT NOT NULL,"
        "  seq BIGINT NOT NULL,"
        "  hash TEXT NOT NULL,"
        "  received BIGINT NOT NULL,"
        "  PRIMARY KEY (peer, seq));"
        "CREATE TABLE peer_anchor_problems ("
        "  peer TEXT PRIMARY KEY,"
        "  problem TEXT NOT NULL,"
        "  at BIGINT NOT NULL);";

/* Migration 17 (issue 21): each audience row also names its version and
 * whether a later version is in the collection too, so a TAXII page reads
 * its candidates, their versions and `superseded` from the one range it
 * walks (one seek a page), then only objects: no seek per row into the
 * membership table. The triggers of migration 7 are made again to fill
 * the two columns, and one more keeps `superseded` equal to the
 * membership's. */
const char store__schema_audience_scan[] =
        "ALTER TABLE collection_audience ADD COLUMN vid INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE collection_audience ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;"
        "UPDATE collection_audience SET (vid, superseded) = (SELECT m.vid, m.superseded"
        " FROM collection_objects m WHERE m.date_added = collection_audience.date_added);"
        "DROP TRIGGER collection_audience_add;"
        "CREATE TRIGGER collection_audience_add AFTER INSERT ON collection_objects BEGIN"
        " INSERT OR IGNORE INTO collection_audience (ckey, key, date_added, vid, superseded)"
        " SELECT new.ckey, j.value, new.date_added, new.vid, new.superseded FROM objects o,"
        " json_each(tix_audience(o.tlp, o.tlp_flags, o.owner_org, o.sharing_group,"
        " o.recipients)) j WHERE o.vid = new.vid; END;"
        "DROP TRIGGER collection_audience_change;"
        "CREATE TRIGGER collection_audience_change AFTER UPDATE OF tlp, tlp_flags, owner_org,"
        " sharing_group, recipients ON objects BEGIN"
        " DELETE FROM collection_audience WHERE date_added IN"
        " (SELECT date_added FROM collection_objects WHERE vid = new.vid);"
        " INSERT OR IGNORE INTO collection_audience (ckey, key, date_added, vid, superseded)"
        " SELECT m.ckey, j.value, m.date_added, m.vid, m.superseded FROM collection_objects m,"
        " json_each(tix_audience(new.tlp, new.tlp_flags, new.owner_org, new.sharing_group,"
        " new.recipients)) j WHERE m.vid = new.vid; END;"
        "CREATE TRIGGER collection_audience_superseded AFTER UPDATE OF superseded"
        " ON collection_objects WHEN new.superseded IS NOT old.superseded BEGIN"
        " UPDATE collection_audience SET superseded = new.superseded"
        " WHERE date_added = new.date_added; END;";

/* The same on PostgreSQL: the two columns. */
const char store__pg_schema_audience_scan[] =
        "ALTER TABLE collection_audience ADD COLUMN vid BIGINT NOT NULL DEFAULT 0;"
        "ALTER TABLE collection_audience ADD COLUMN superseded BIGINT NOT NULL DEFAULT 0;";

/* Migration 20 (issue 18): the keys are computed in C (audience_keys) and
 * written by the store's write paths, on both engines, through the helpers
 * below: a membership added, a version's audience columns changed, its
 * `superseded` changed. The triggers of migrations 7 and 17 go; a removed
 * membership takes its rows with it by the foreign key (ON DELETE CASCADE:
 * a removal from a collection, a deleted collection or version), so no
 * delete path needs a call. The table is made again for the key and filled
 * from C (store__audience_rebuild), so an old store is exact after it. The
 * SQL function tix_audience stays registered only for migrations 7 and 17
 * of a store older than them. */
#define AUDIENCE_TABLE(INT, NOROWID)                                                               \
	"CREATE TABLE collection_audience ("                                                       \
	"  ckey " INT " NOT NULL,"                                                                 \
	"  key TEXT NOT NULL,"                                                                     \
	"  date_added " INT " NOT NULL"                                                            \
	"   REFERENCES collection_objects (date_added) ON DELETE CASCADE,"                         \
	"  vid " INT " NOT NULL DEFAULT 0,"                                                        \
	"  superseded " INT " NOT NULL DEFAULT 0,"                                                 \
	"  PRIMARY KEY (ckey, key, date_added))" NOROWID ";"                                       \
	"CREATE INDEX collection_audience_added ON collection_audience (date_added);"
const char store__schema_audience_c[] =
        "DROP TRIGGER IF EXISTS collection_audience_add;"
        "DROP TRIGGER IF EXISTS collection_audience_drop;"
        "DROP TRIGGER IF EXISTS collection_audience_change;"
        "DROP TRIGGER IF EXISTS collection_audience_superseded;"
        "DROP TABLE collection_audience;" AUDIENCE_TABLE("INTEGER", " WITHOUT ROWID");
const char store__pg_schema_audience_c[] =
        "DROP TABLE collection_audience;" AUDIENCE_TABLE("BIGINT", "");

/* Appends one key, NUL-terminated (names cut to fit 159 bytes). */
static void add_key(struct tix_buf *b, const char *prefix, const char *name, size_t len)
{
	char key[160];

	if (len > sizeof(key) - 16)
		len = sizeof(key) - 16;
	snprintf(key, sizeof(key), "%s%.*s", prefix, (int)len, name);
	tix_buf_add(b, key, strlen(key) + 1);
}

/* The keys of one version, each NUL-terminated, one after the other: a
 * superset of the principals policy_may_read admits (src/policy/policy.c),
 * never fewer. The owner and every RED recipient read it whatever the
 * level; otherwise the level decides, and an unknown marking makes it
 * AMBER+STRICT at least. */
static void audience_keys(int tlp, unsigned flags, const char *owner, const char *group,
                          const char *recipients, struct tix_buf *out)
{
	int unknown = (flags & STIX_TLPF_UNKNOWN) != 0;
	int has_group = group && group[0];

	if (owner && owner[0])
		add_key(out, "org:", owner, strlen(owner));
	for (const char *p = recipients; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > 0)
			add_key(out, "org:", p, len);
		p = e ? e + 1 : p + len;
	}
	if (tlp < STIX_TLP_CLEAR || tlp > STIX_TLP_RED) {
		/* The node default decides at read time; with a group, the
		 * group's members read it when the default is AMBER. */
		if (!unknown) {
			add_key(out, has_group ? "unset-group" : "unset", "", 0);
			if (has_group)
				add_key(out, "group:", group, strlen(group));
		}
	} else if (!unknown) {
		if (tlp == STIX_TLP_CLEAR)
			add_key(out, "clear", "", 0);
		else if (tlp == STIX_TLP_GREEN || (tlp == STIX_TLP_AMBER && !has_group))
			add_key(out, "all", "", 0);
		else if (tlp == STIX_TLP_AMBER)
			add_key(out, "group:", group, strlen(group));
	}
}

/* Migrations 7 and 17 of an older store: the same keys as a JSON array. */
static void sql_audience(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct tix_buf keys, b;
	int tlp = STIX_TLP_UNSET;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL)
		tlp = sqlite3_value_int(argv[0]);
	tix_buf_init(&keys, 1 << 20);
	tix_buf_init(&b, 1 << 20);
	audience_keys(tlp, (unsigned)sqlite3_value_int(argv[1]),
	              (const char *)sqlite3_value_text(argv[2]),
	              (const char *)sqlite3_value_text(argv[3]),
	              (const char *)sqlite3_value_text(argv[4]), &keys);
	tix_buf_addc(&b, '[');
	for (size_t at = 0; at < tix_buf_len(&keys); at += strlen(tix_buf_str(&keys) + at) + 1) {
		tix_buf_adds(&b, at > 0 ? "," : "");
		tix_buf_add_json_string(&b, tix_buf_str(&keys) + at);
	}
	tix_buf_addc(&b, ']');
	sqlite3_result_text(ctx, tix_buf_str(&b), (int)tix_buf_len(&b), SQLITE_TRANSIENT);
	tix_buf_release(&keys);
	tix_buf_release(&b);
}

int store__audience_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "tix_audience", 5,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_audience, NULL, NULL);
}

/* Writes the rows of membership (ckey, date_added) of version vid from the
 * version's audience columns, read from columns col.. of st (tlp,
 * tlp_flags, owner_org, sharing_group, recipients). */
static enum tix_err write_keys(struct store *s, int64_t ckey, int64_t date_added, int64_t vid,
                               int64_t superseded, struct db_stmt *st, int col,
                               struct tix_error *err)
{
	struct tix_buf keys;
	struct db_stmt *ins;
	enum tix_err e = TIX_OK;
	int tlp =
	        db_column_type(st, col) == DB_NULL ? STIX_TLP_UNSET : (int)db_column_int64(st, col);

	tix_buf_init(&keys, 1 << 20);
	audience_keys(tlp, (unsigned)db_column_int64(st, col + 1),
	              db_column_text(st, col + 2, NULL), db_column_text(st, col + 3, NULL),
	              db_column_text(st, col + 4, NULL), &keys);
	if ((ins = store__stmt(
	             s,
	             "INSERT INTO collection_audience (ckey, key, date_added, vid, superseded)"
	             " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
	             NULL, err)) == NULL)
		e = err ? err->code : TIX_ESTORE;
	for (size_t at = 0; e == TIX_OK && at < tix_buf_len(&keys);
	     at += strlen(tix_buf_str(&keys) + at) + 1) {
		db_bind_int64(ins, 1, ckey);
		db_bind_text(ins, 2, tix_buf_str(&keys) + at, -1);
		db_bind_int64(ins, 3, date_added);
		db_bind_int64(ins, 4, vid);
		db_bind_int64(ins, 5, superseded);
		if (db_step(ins) != DB_DONE)
			e = store__fail(s, err, "writing the audience index");
		db_reset(ins);
	}
	tix_buf_release(&keys);
	return e;
}

#define MEMBER_AUDIENCE                                                                            \
	"SELECT m.ckey, m.date_added, m.vid, m.superseded, o.tlp, o.tlp_flags, o.owner_org,"       \
	" o.sharing_group, o.recipients FROM collection_objects m JOIN objects o ON o.vid = m.vid"

enum tix_err store__audience_added(struct store *s, int64_t date_added, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, MEMBER_AUDIENCE " WHERE m.date_added = ?1", NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, date_added);
	if ((rc = db_step(st)) == DB_ROW)
		e = write_keys(s, db_column_int64(st, 0), date_added, db_column_int64(st, 2),
		               db_column_int64(st, 3), st, 4, err);
	else if (rc != DB_DONE)
		e = store__fail(s, err, "reading a membership's audience");
	db_reset(st);
	return e;
}

enum tix_err store__audience_superseded(struct store *s, int64_t date_added, int superseded,
                                        struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s, "UPDATE collection_audience SET superseded = ?2 WHERE date_added = ?1", NULL,
	        err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, date_added);
	db_bind_int64(st, 2, superseded);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "marking superseded versions");
	db_reset(st);
	return e;
}

enum tix_err store__audience_changed(struct store *s, int64_t vid, struct tix_error *err)
{
	/* The memberships of vid by the collections' keys: one seek of
	 * (ckey, vid) per collection, not a scan of every membership. */
	struct db_stmt *st =
	        store__stmt(s,
	                    "SELECT m.date_added FROM collections c CROSS JOIN"
	                    " collection_objects m WHERE m.ckey = c.ckey AND m.vid = ?1",
	                    NULL, err);
	int64_t *added = NULL;
	size_t n = 0, cap = 0;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, vid);
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			int64_t *more = realloc(added, (cap = cap ? 2 * cap : 8) * sizeof(*added));

			if (more == NULL) {
				rc = DB_NOMEM;
				break;
			}
			added = more;
		}
		added[n++] = db_column_int64(st, 0);
	}
	db_reset(st);
	if (rc == DB_NOMEM)
		e = tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	else if (rc != DB_DONE)
		e = store__fail(s, err, "finding a version's memberships");
	for (size_t i = 0; e == TIX_OK && i < n; i++) {
		if ((st = store__stmt(s, "DELETE FROM collection_audience WHERE date_added = ?1",
		                      NULL, err)) == NULL) {
			e = err ? err->code : TIX_ESTORE;
			break;
		}
		db_bind_int64(st, 1, added[i]);
		if (db_step(st) != DB_DONE)
			e = store__fail(s, err, "clearing a membership's audience");
		db_reset(st);
		if (e == TIX_OK)
			e = store__audience_added(s, added[i], err);
	}
	free(added);
	return e;
}

enum tix_err store__audience_resync(struct store *s, int64_t ckey, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "UPDATE collection_audience SET superseded = m.superseded"
	                                 " FROM doomed_ids d, objects o, collection_objects m"
	                                 " WHERE o.id = d.id AND m.ckey = ?1 AND m.vid = o.vid"
	                                 " AND collection_audience.date_added = m.date_added"
	                                 " AND collection_audience.superseded <> m.superseded",
	                                 NULL, err);
	enum tix_err e = TIX_OK;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_int64(st, 1, ckey);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "marking superseded versions");
	db_reset(st);
	return e;
}

enum tix_err store__audience_rebuild(struct store *s, struct tix_error *err)
{
	struct db *db = store__engine(s);
	struct db_stmt *st = NULL;
	int64_t last = -1;
	enum tix_err e = TIX_OK;

	/* Paged by date_added: PostgreSQL fetches a result whole. */
	if (db_prepare(db,
	               MEMBER_AUDIENCE " WHERE m.date_added > ?1 ORDER BY m.date_added LIMIT 512",
	               NULL, &st) != DB_OK)
		return store__fail(s, err, "reading memberships");
	for (size_t rows = 1; e == TIX_OK && rows > 0;) {
		enum db_rc rc = DB_DONE;

		rows = 0;
		db_reset(st);
		db_bind_int64(st, 1, last);
		while (e == TIX_OK && (rc = db_step(st)) == DB_ROW) {
			last = db_column_int64(st, 1);
			rows++;
			e = write_keys(s, db_column_int64(st, 0), last, db_column_int64(st, 2),
			               db_column_int64(st, 3), st, 4, err);
		}
		if (e == TIX_OK && rc != DB_DONE)
			e = store__fail(s, err, "reading memberships");
	}
	db_finalize(st);
	return e;
}

/* The keys a reader's rows may carry (the mirror of audience_keys): at
 * most STORE_READER_KEYS, written into buf; returns how many. */
size_t store__reader_keys(const struct store_reader *r, char keys[][160], size_t max)
{
	size_t n = 0;
	int anon = r->org == NULL || r->org[0] == '\0';
	int def = r->default_tlp >= STIX_TLP_CLEAR && r->default_tlp <= STIX_TLP_RED
	                  ? r->default_tlp
	                  : STIX_TLP_AMBER;

#define KEY(...)                                                                                   \
	do {                                                                                       \
		if (n < max)                                                                       \
			snprintf(keys[n++], 160, __VA_ARGS__);                                     \
	} while (0)
	if (anon) {
		if (!r->anonymous_read)
			return 0;
		KEY("clear");
		if (def == STIX_TLP_CLEAR) {
			KEY("unset");
			KEY("unset-group");
		}
		return n;
	}
	KEY("clear");
	KEY("org:%s", r->org);
	for (size_t i = 0; r->groups && r->groups[i]; i++)
		KEY("group:%s", r->groups[i]);
	if (r->collection_reader)
		KEY("all");
	if (def == STIX_TLP_CLEAR || (def <= STIX_TLP_AMBER && r->collection_reader))
		KEY("unset");
	if (def == STIX_TLP_CLEAR || (def == STIX_TLP_GREEN && r->collection_reader))
		KEY("unset-group");
#undef KEY
	return n;
}
