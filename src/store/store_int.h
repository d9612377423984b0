/*
 * store_int.h — what the files of src/store/ share and nobody else sees:
 * the store handle's layout and the SQL helpers.
 */
#ifndef TIX_STORE_INT_H
#define TIX_STORE_INT_H

#include <sqlite3.h>

#include "store/db_int.h"
#include "store/store.h"

/* The prepared statements of sqlite.c, made once per handle. */
enum {
	ST_HAS,
	ST_INSERT,
	ST_VID,
	ST_MEMBER,
	ST_GET_STAMP,
	ST_FIND_SOURCE,
	ST_ADD_SOURCE,
	ST_SET_STAMP,
	ST_USER_GET,    /* accounts.c: the request path of src/auth */
	ST_APIKEY_GET,  /* accounts.c */
	ST_COLL_ACCESS, /* accounts.c */
	ST_DATA_VERSION,
	ST_COUNT
};

/* Statements whose SQL is built per query (src/store/taxii.c) are kept
 * here by their text, so a repeated query shape is prepared once. */
#define STORE_QCACHE 16
struct store_qcache {
	char *sql;
	sqlite3_stmt *st;
	uint64_t last_used;
};

/* Per-thread: SQLite connections are not shared between threads here. */
struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int in_tx;
	int64_t last_stamp;   /* within a transaction: the last stamp handed out */
	int64_t saved_stamp;  /* the value in the meta table at the first stamp */
	int stamp_loaded;     /* the transaction has read it (at its first stamp;
	                       * on PostgreSQL under the date_added lock) */
	uint64_t own_commits; /* write transactions this handle committed */
	/* audit.c: the data_version and own_commits last checked with the
	 * audit writer's connection (store_audit_queue_data_version) */
	uint64_t audit_seen_dv, audit_seen_own;
	struct store_qcache qcache[STORE_QCACHE];
	uint64_t qclock;
	int64_t skew_us; /* how far modified may be ahead of the clock (µs) */
	/* The last version store_has_version found absent inside this
	 * transaction, valid while the connection has changed no row since
	 * (sqlite3_total_changes64), so store_put_from need not look again. */
	int absent_valid;
	int64_t absent_changes;
	char absent_id[256];
	char absent_key[160];
	/* audit.c: the audit key (from the node secret) and the key point */
	int audit_key_loaded;
	unsigned char audit_key[32];
	int64_t audit_keyed_from;
	/* The engine layer over db (issue 18), for the modules already
	 * written on db.h (see store__stmt); all zero until first used. */
	struct db eng;
	struct db_stmt eng_st[STORE_QCACHE];
	struct db_stmt eng_held[ST_COUNT]; /* views of st[] (store__held) */
	/* A store on PostgreSQL (store_open of a postgresql:// URL): its
	 * db.h connection and statement cache; db is NULL then. */
	struct db *pg;
	uint64_t pg_dv_misses; /* store__pg_data_version's failed reads */
	/* store__pg_version_added: versions this handle stored since its
	 * statistics were last found fresh, and when to look again; both as
	 * they were at the write transaction's BEGIN (a rollback puts them
	 * back: its versions are gone); write transactions begun, and the one
	 * whose ANALYZE gave up on a table another session held (none again
	 * before the next) */
	int64_t pg_added, pg_stats_check_at, pg_added_begun, pg_check_begun;
	uint64_t pg_writes, pg_analyse_put_off;
	/* values.c: the value rows every handle of the process had staged
	 * when this one last counted value_stage, how many more before it
	 * counts again, and the bound that count was for */
	int64_t stage_mark, stage_wait, stage_bound;
};

/* ---- the engine layer (db.h; docs/architecture.md, "Two engines") ----
 * Modules written on db.h take their statements here: the one from the
 * handle's cache for this SQL (pg: PostgreSQL's text when it differs),
 * reset and with no bindings, NULL with err set on failure. */
struct db_stmt *store__stmt(struct store *s, const char *sqlite, const char *pg,
                            struct tix_error *err);
/* store_data_version's number on PostgreSQL, before this handle's own
 * commits are mixed in: the meta row 'data_version' (31 bits), which every
 * commit of store__write_end moves, on any connection. */
uint64_t store__pg_data_version(struct store *s);
enum tix_err store__pg_version_added(struct store *s, struct tix_error *err);
/* The connection under s, for db_changes and db_errmsg. */
struct db *store__engine(struct store *s);
/* TIX_ESTORE "what: the engine's message" (after a failed db_step). */
enum tix_err store__fail(struct store *s, struct tix_error *err, const char *what);
/* One of the statements sqlite.c prepares once per handle (ST_USER_GET,
 * ...): reset it before binding; never finalise it. NULL with err set. */
struct db_stmt *store__held(struct store *s, int which, struct tix_error *err);
/* A write transaction of its own (the accounts' changes): begins one, and
 * ends it, committing when e is TIX_OK and rolling back otherwise; returns
 * the outcome. Commits count for store_data_version (on PostgreSQL they
 * move the meta row 'data_version' too, which other handles read). */
enum tix_err store__write_begin(struct store *s, struct tix_error *err);
enum tix_err store__write_end(struct store *s, enum tix_err e, struct tix_error *err);
/* store__write_end for a transaction that changed only the audit log (an
 * append in a transaction of its own): on PostgreSQL it does not move the
 * meta row 'data_version', which no cache needs for the audit log, so that
 * the audit entries of reads (one per TAXII GET) do not empty the answer
 * caches of every server on the database. (SQLite's PRAGMA data_version,
 * not tix's to move, leaves such commits to store_audit_queue_data_version.) */
enum tix_err store__write_end_audit(struct store *s, enum tix_err e, struct tix_error *err);

/* The migration list (sqlite.c), one entry per schema version for both
 * engines. pg NULL: not yet on PostgreSQL. step: C run after the SQL, on
 * the store being migrated (NULL: none). */
struct store_migration {
	const char *sqlite;
	const char *pg;
	enum tix_err (*step)(struct store *s, struct tix_error *err);
};
extern const struct store_migration store__migrations[];
extern const int store__nmigrations;
/* Brings s's schema to the newest version, in one write transaction. */
enum tix_err store__migrate(struct store *s, struct tix_error *err);
/* The same with the n entries of list (unit_store_pg: a list with an entry
 * not yet on PostgreSQL). */
enum tix_err store__migrate_list(struct store *s, const struct store_migration *list, int n,
                                 struct tix_error *err);
/* The SQL of the statements of sqlite.c kept per handle, by ST_*. */
extern const char *const store__held_sql[ST_COUNT];
/* PostgreSQL's texts of those that differ, NULL where the text is the same. */
extern const char *const store__held_pg_sql[ST_COUNT];

/* The CASE arms giving a TLP marking id's level in SQL (TLP 2.0 and 1.0
 * ids): 0 clear/white, 1 green, 2 amber, 3 amber+strict, 4 red. */
#define STORE_TLP_WHEN                                                                             \
	" WHEN 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487' THEN 0"                  \
	" WHEN 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9' THEN 0"                  \
	" WHEN 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb' THEN 1"                  \
	" WHEN 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da' THEN 1"                  \
	" WHEN 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421' THEN 2"                  \
	" WHEN 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82' THEN 2"                  \
	" WHEN 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003' THEN 3"                  \
	" WHEN 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1' THEN 4"                  \
	" WHEN 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed' THEN 4"

/* ---- ownership (ownership.c) ---- */
#define STORE_DEFAULT_SKEW_US ((int64_t)24 * 3600 * 1000000)
/* Migration 6: owners, per-organisation observables, late markings. */
extern const char store__schema_ownership[];
/* A cyber-observable (no created, no modified): kept per organisation. */
int store__is_observable(const struct stix_meta *m);
/* The version key of objects.modified: m->modified, or for an observable
 * '#' and the owner's name (buf holds it). */
const char *store__version_key(const struct stix_meta *m, const char *owner, char *buf,
                               size_t size);
/* Reads the node settings the write rules need (at store_begin). */
void store__load_write_rules(struct store *s);
/* TIX_OK when owner may write this version of m->id; TIX_EDENIED with the
 * reason (another organisation's id, created or created_by_ref changed,
 * modified too far ahead when new_version) otherwise. */
enum tix_err store__check_write(struct store *s, const struct stix_meta *m, const char *owner,
                                int new_version, struct tix_error *err);
/* For a version about to be stored, before anything says whether it is
 * new: the owner's row written at once when m->id has none and m may make
 * one (not an observable, modified within the clock's skew). *claimed 1:
 * the row was written here, so m->id had no version: m is new, its only
 * one, nobody else's, with no earlier version to agree with, and needs no
 * other check. 0: m->id has its owner's row already (or m is an
 * observable, which has none); -1: not tried, the clock refused m just now.
 * Not 1: the caller asks whether m is new and calls store__check_write. */
enum tix_err store__claim_owner(struct store *s, const struct stix_meta *m, const char *owner,
                                int *claimed, struct tix_error *err);
/* After a new version was stored, with store__claim_owner's *claimed: the
 * owner's row, the only time it is written, when the claim was not tried
 * (the clock, since moved on, allowed m to store__check_write); a
 * marking-definition re-resolves the versions that refer to it. */
enum tix_err store__record_owner(struct store *s, const struct stix_meta *m, const char *owner,
                                 int claimed, struct tix_error *err);

/* Creates path with mode 0600 (whatever the umask) when it does not exist;
 * with exclusive, an existing path is an error (TIX_EEXIST). */
enum tix_err store__create_private(const char *path, int exclusive, struct tix_error *err);
enum tix_err store__db_error(struct store *s, struct tix_error *err, const char *what);
enum tix_err store__exec(struct store *s, const char *sql, struct tix_error *err);
/* A prepared, reset statement for sql from the handle's cache (prepared
 * on first use). The statement belongs to the cache: reset, never finalise. */
sqlite3_stmt *store__cached(struct store *s, const char *sql, struct tix_error *err);

/* Marks superseded versions after vid joined collection ckey (sqlite.c). */
enum tix_err store__mark_superseded(struct store *s, int64_t ckey, int64_t vid,
                                    struct tix_error *err);

/* The accounts schema, one migration (src/store/accounts.c). */
extern const char store__schema_accounts[];
/* The audience columns of objects o, in store_audience's order, and
 * reading them from column col on (engine.c). */
#define AUD_COLS ", o.tlp, o.tlp_flags, o.owner_org, o.sharing_group, o.recipients, o.origin_node"
/* A store_row from a statement selecting id, type, modified, date_added,
 * body, then AUD_COLS, on either engine (engine.c); valid until the next
 * step. */
struct store_row store__db_row(struct db_stmt *st);
struct store_audience store__db_audience(struct db_stmt *st, int col);

/* Migration 4: the sharing policy's columns and tables (policy.c). */
extern const char store__schema_policy[];
/* Migration 5: federation peers, cursors, outboxes (sync.c). */
extern const char store__schema_sync[];
extern const char store__schema_feed[];
extern const char store__schema_peer_errors[];
/* Migration 10 (values.c): the value, sighting and text indexes. */
extern const char store__schema_values[];
/* Migration 16: the value rows with their version's audience (values.c). */
extern const char store__schema_value_audiences[];
/* Migration 21: value_index's staging level (values.c), both engines. */
extern const char store__schema_value_stage[], store__pg_schema_value_stage[];
/* Rebuilds those indexes from every version, inside the caller's
 * transaction (migration 10, `tix reindex`). */
enum tix_err store__values_rebuild(struct store *s, struct store_reindex_counts *c,
                                   struct tix_error *err);
/* Migration 22: migration 10's, 16's and 21's triggers dropped (values.c). */
extern const char store__schema_values_c[], store__pg_schema_values_c[];
/* The value index's events, one helper each (values.c), called where the
 * triggers fired. store_taxii_delete removed versions (those of its
 * temporary table doomed no longer in objects) of the ids in doomed_ids:
 * the newest version left of each is the latest, their text rows go. */
enum tix_err store__values_resync(struct store *s, struct tix_error *err);
/* Version vid's audience columns changed (a late marking): its value rows
 * get the audience key of its columns now. */
enum tix_err store__values_audience_changed(struct store *s, int64_t vid, struct tix_error *err);
/* Indexes the values, sighting and text of version vid (values.c). only:
 * vid is the one version of its id (its first, or an observable's copy),
 * so it is the latest and no older one's values change. */
enum tix_err store__index_version(struct store *s, int64_t vid, const struct stix_meta *m,
                                  const char *body, size_t body_len, int only,
                                  struct tix_error *err);
/* The named feeds of `tix feed` (feeds.c). */
extern const char store__schema_named_feeds[];
/* Migration 19: the sightings' counter (meta 'sightings_version', read by
 * store_sightings_version; feeds.c). It moves in the transaction of every
 * write that adds, changes or removes a row of sighting_index or a
 * collection's membership of an indexed sighting: what a reader may count of
 * the sightings changes with those only. STORE_SIGHTINGS_BUMP is its UPDATE
 * (both engines), for the SQL scripts that add a condition of their own. */
extern const char store__schema_sightings_version[];
#define STORE_SIGHTINGS_BUMP                                                                       \
	"UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT)"                          \
	" WHERE key = 'sightings_version'"
/* Moves it. */
enum tix_err store__sightings_moved(struct store *s, struct tix_error *err);
/* Moves it when version vid is an indexed sighting (a membership of vid
 * added or removed). */
enum tix_err store__sighting_member_moved(struct store *s, int64_t vid, struct tix_error *err);
/* Moves it when collection ckey holds an indexed sighting (before the
 * collection is removed, or when its grants change). */
enum tix_err store__sightings_collection_moved(struct store *s, int64_t ckey,
                                               struct tix_error *err);
/* Migration 13 (issue 20): contact points' signing keys (request.c). */
extern const char store__schema_request[];
/* Migration 23 (issue 23): cyber drills (drill.c). */
extern const char store__schema_drill[], store__pg_schema_drill[];
/* Migration 24: the resource library's index and block list (library.c). */
extern const char store__schema_library[], store__pg_schema_library[];
/* Migration 14 (issue 17): the console's sessions (sessions.c). */
extern const char store__schema_sessions[];
/* Migration 15: the refs index and objects by day (reports.c). */
extern const char store__schema_refs[];
/* What a report or grouping version lists, what a sighting is of, into the
 * refs index (reports.c; in the write's transaction). */
extern const char store__schema_relationship_refs[];
enum tix_err store__index_refs(struct store *s, int64_t vid, const struct stix_meta *m,
                               const char *body, size_t body_len, struct tix_error *err);
/* Migration 7: the audience index (audience.c); its SQL function
 * tix_audience, registered on every connection before migrating (for
 * migrations 7 and 17 of an older store). */
extern const char store__schema_audience[];
/* Migration 17 (issue 21): versions and `superseded` in the audience index (audience.c). */
extern const char store__schema_audience_scan[];
/* route.c: constituency routing */
extern const char store__schema_route[];
int store__audience_register(sqlite3 *db);
/* Migration 20 (issue 18): the audience index written from C on both
 * engines; its step fills it from every membership (audience.c). */
extern const char store__schema_audience_c[], store__pg_schema_audience_c[];
enum tix_err store__audience_rebuild(struct store *s, struct tix_error *err);
/* The audience index's events, one helper each (audience.c); a removed
 * membership's rows go by the foreign key. The membership with this
 * date_added was added: */
enum tix_err store__audience_added(struct store *s, int64_t date_added, struct tix_error *err);
/* Its `superseded` became superseded: */
enum tix_err store__audience_superseded(struct store *s, int64_t date_added, int superseded,
                                        struct tix_error *err);
/* Version vid's audience columns (tlp, tlp_flags, owner_org,
 * sharing_group, recipients) changed: */
enum tix_err store__audience_changed(struct store *s, int64_t vid, struct tix_error *err);
/* store_taxii_delete made `superseded` again in collection ckey for the
 * versions of the ids in its temporary table doomed_ids: */
enum tix_err store__audience_resync(struct store *s, int64_t ckey, struct tix_error *err);
/* Migration 7's step in C (audit.c): the audit key point and a MACed head. */
enum tix_err store__audit_key_point(struct store *s, struct tix_error *err);
/* The audit key (audit.c): derived from the node secret, or the one a
 * store restored without its secret kept (meta audit_key). */
enum tix_err store__audit_key(struct store *s, unsigned char key[32], struct tix_error *err);
/* The audience keys a reader's rows may carry; returns how many (<= max). */
#define STORE_READER_KEYS 40
size_t store__reader_keys(const struct store_reader *r, char keys[][160], size_t max);
/* "\nA\nB\n" of a recipients list, or NULL (caller frees; policy.c). */
char *store__recipients_text(const json_t *list);

/* PostgreSQL's texts of the migrations (each beside its SQLite text, or
 * in schema_pg.c until its module is on db.h). */
extern const char store__pg_schema_accounts[], store__pg_schema_policy[], store__pg_schema_sync[],
        store__pg_schema_ownership[], store__pg_schema_audience[], store__pg_schema_feed[],
        store__pg_schema_peer_errors[], store__pg_schema_values[], store__pg_schema_named_feeds[],
        store__pg_schema_route[], store__pg_schema_request[], store__pg_schema_sessions[],
        store__pg_schema_refs[], store__pg_schema_value_audiences[],
        store__pg_schema_audience_scan[], store__pg_schema_relationship_refs[];

/* The SQL of the accounts statements cached in the handle (accounts.c). */
extern const char store__sql_user_get[];
extern const char store__sql_apikey_get[];
extern const char store__sql_coll_access[];

/* copy.c: a value's canonical encoding in a table's digest (the same on
 * both engines): a tag (0 NULL, 1 integer, 2 float, 3 text, 4 blob) and 8
 * bytes big-endian (the integer, the IEEE 754 bits of the float, the
 * length of the text or blob, whose bytes follow; NULL: the tag alone).
 * Writes the head into out (9 bytes) and returns its length. */
size_t store__copy_encode(enum db_type type, int64_t i, double d, size_t len, unsigned char *out);

#endif
