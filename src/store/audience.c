/*
 * store/audience.c — the audience index: for each collection membership,
 * the few keys naming who could read it ("clear", "all", "unset",
 * "unset-group", "org:NAME", "group:NAME"), so a TAXII page for a principal
 * walks only rows that principal might see (docs/architecture.md).
 */
#include <string.h>

#include "store/store_int.h"

/* Migration 7 (after the ownership migration 6). collection_audience holds one row per
 * (membership, key); triggers keep it exact on every insert and delete of
 * a membership and on every change of a version's audience columns, so no
 * write path needs to know it exists. */
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

/* The same on PostgreSQL: the tables only. The SQL function and the
 * triggers become C that writes a membership's keys with it, on both
 * engines, when audience.c is converted (docs/architecture.md, "Two
 * engines"); until then nothing fills collection_audience on PostgreSQL. */
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

/* The same on PostgreSQL: the two columns (no trigger fills them there
 * yet: see store__pg_schema_audience). */
const char store__pg_schema_audience_scan[] =
        "ALTER TABLE collection_audience ADD COLUMN vid BIGINT NOT NULL DEFAULT 0;"
        "ALTER TABLE collection_audience ADD COLUMN superseded BIGINT NOT NULL DEFAULT 0;";

static void add_key(struct tix_buf *b, const char *prefix, const char *name, size_t len)
{
	char key[160];

	if (len > sizeof(key) - 16)
		len = sizeof(key) - 16;
	snprintf(key, sizeof(key), "%s%.*s", prefix, (int)len, name);
	tix_buf_adds(b, tix_buf_len(b) > 1 ? "," : "");
	tix_buf_add_json_string(b, key);
}

/* The keys of one version, as a JSON array: a superset of the principals
 * policy_may_read admits (src/policy/policy.c), never fewer. The owner and
 * every RED recipient read it whatever the level; otherwise the level
 * decides, and an unknown marking makes it AMBER+STRICT at least. */
static void audience_keys(int tlp, unsigned flags, const char *owner, const char *group,
                          const char *recipients, struct tix_buf *out)
{
	int unknown = (flags & STIX_TLPF_UNKNOWN) != 0;
	int has_group = group && group[0];

	tix_buf_addc(out, '[');
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
	tix_buf_addc(out, ']');
}

static void sql_audience(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct tix_buf b;
	int tlp = STIX_TLP_UNSET;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL)
		tlp = sqlite3_value_int(argv[0]);
	tix_buf_init(&b, 1 << 20);
	audience_keys(tlp, (unsigned)sqlite3_value_int(argv[1]),
	              (const char *)sqlite3_value_text(argv[2]),
	              (const char *)sqlite3_value_text(argv[3]),
	              (const char *)sqlite3_value_text(argv[4]), &b);
	sqlite3_result_text(ctx, tix_buf_str(&b), (int)tix_buf_len(&b), SQLITE_TRANSIENT);
	tix_buf_release(&b);
}

int store__audience_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "tix_audience", 5,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                               sql_audience, NULL, NULL);
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
