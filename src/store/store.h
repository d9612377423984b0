/*
 * store.h — persistence of STIX object versions and TAXII collections.
 *
 * The only interface to storage: no caller sees SQL or the backend (SQLite
 * today, PostgreSQL later). Every version of an object is kept, keyed by
 * (id, modified); each stored version and each collection membership gets
 * a server-assigned date_added that is unique and increasing across the
 * node. Writes happen inside store_begin()/store_commit(), one transaction
 * per import, so a failed import leaves the store exactly as it was.
 *
 * A struct store is not thread-safe: open one per thread. Pointers in the
 * rows handed to callbacks are valid only during the callback.
 */
#ifndef TIX_STORE_H
#define TIX_STORE_H

#include <stdint.h>

#include "core/core.h"
#include "stix/stix.h"

struct store;

struct store_options {
	int create;  /* create the file and schema when missing (default 1) */
	int durable; /* fsync every commit (synchronous=FULL); default: a commit
	                survives a crash of the process, not of the machine */
};

/* Non-zero when path is a database URL (scheme://…, e.g. postgresql://)
 * rather than a file: no directory is made for it, and store_open refuses
 * a scheme other than PostgreSQL's instead of making a file named after it. */
int store_path_is_url(const char *path);

/* Opens (and, unless told not to, creates and migrates) the store: a
 * postgresql:// or postgres:// URL (libpq's) opens that PostgreSQL
 * database (which must exist; opts->create and opts->durable are SQLite's),
 * anything else is an SQLite file. A URL's password never appears in err. */
struct store *store_open(const char *path, const struct store_options *opts, struct tix_error *err);
void store_close(struct store *s);
/* 1 when s is on PostgreSQL, 0 on SQLite. */
int store_is_postgres(const struct store *s);
/* The store's name for messages: path on SQLite, the URL with its
 * password replaced on PostgreSQL. */
const char *store_name(const struct store *s, const char *path);
/* 1 when the last failure on s was its connection to PostgreSQL going
 * away (the server stopped or restarted): what failed is answered 503 and
 * store_reconnect makes the connection again. 0 on SQLite. */
int store_lost(struct store *s);
/* A server's handle at the start of a request: TIX_OK when its connection
 * is good, or was lost and has just been made again; TIX_ESTORE "the
 * database is unavailable: …" (libpq's message) while it cannot be. A
 * transaction the lost connection had is gone: it was never committed, so
 * never acknowledged. SQLite: always TIX_OK. */
enum tix_err store_reconnect(struct store *s, struct tix_error *err);

/* The schema version this build writes. */
int store_schema_version(void);

/* ---- writing ----------------------------------------------------------- */

enum tix_err store_begin(struct store *s, struct tix_error *err);
enum tix_err store_commit(struct store *s, struct tix_error *err);
void store_rollback(struct store *s);

/* 1 when the version (id, canonical modified) is stored, 0 when not,
 * negative on a store error. An observable is stored once per owner: 1
 * only when owner_org's copy is there. */
int store_has_version(struct store *s, const struct stix_meta *m, const char *owner_org);
/* 1 when some version of id is stored (any owner; observables excluded),
 * 0 when none, -1 on a store error. */
int store_id_stored(struct store *s, const char *id);

struct store_collection {
	int64_t key; /* internal key */
	char id[64]; /* UUID, as TAXII names collections */
	char title[256];
};

/* Finds a collection by id or title; with create, makes one titled
 * name_or_id when none matches (never for a string shaped like a UUID). */
enum tix_err store_collection_get(struct store *s, const char *name_or_id, int create,
                                  struct store_collection *out, struct tix_error *err);

/* A digest of the exact bytes an object arrived as. A node that is sent
 * the same bytes again (a feed re-published whole, a file imported twice)
 * can then skip parsing and validating them: they were valid before. */
struct store_source {
	unsigned char digest[16]; /* BLAKE2b-128 */
};

void store_source_digest(const void *bytes, size_t len, struct store_source *out);
/* 1 and *vid when these bytes were stored before as owner_org's version
 * (of an object owner_org owns), 0 when not, negative on a store error. */
int store_find_source(struct store *s, const struct store_source *src, const char *owner_org,
                      int64_t *vid);
/* Adds a stored version (by the vid store_find_source gave) to a
 * collection; *added is 0 when it was already a member. */
enum tix_err store_collection_add(struct store *s, const struct store_collection *c, int64_t vid,
                                  int *added, struct tix_error *err);

/* Stores one validated version. body is its JSON text. owner_org names the
 * organisation that wrote it (may be NULL: the operator). The write rules
 * (docs/policy.md) are checked first: an id belongs to the organisation
 * that first stored it, created and created_by_ref never change, modified
 * is at most the node's skew ahead of its clock; a write that breaks one
 * fails with TIX_EDENIED (err->where the id, err->msg why) and changes
 * nothing. An observable is kept once per owner, with its own body. When collection is not NULL the
 * version is added to it. src, when not NULL, records the bytes the object
 * arrived as (see store_find_source). *added is set to 1 when a new version was stored,
 * STORE_LINKED when it was stored before and only joined collection (as
 * by store_link), 0 when it was already there (nothing changes then, not
 * even date_added). The version is not looked for first when m->id is new
 * (the owner's row written is the proof), so a caller need not ask
 * store_has_version unless it saves serialising the body. */
#define STORE_LINKED 2
enum tix_err store_put(struct store *s, const struct stix_meta *meta, const char *body,
                       size_t body_len, const char *owner_org,
                       const struct store_collection *collection, const struct store_source *src,
                       int *added, struct tix_error *err);

/* store_put for a version received from a peer: origin_node names the
 * peer that vouched for it (recorded so that it is never sent back there
 * and so that policy_may_forward knows this node is not its origin). */
enum tix_err store_put_from(struct store *s, const struct stix_meta *meta, const char *body,
                            size_t body_len, const char *owner_org, const char *origin_node,
                            const struct store_collection *collection,
                            const struct store_source *src, int *added, struct tix_error *err);

/* For a version already stored (store_has_version said so): records src
 * and adds it to collection, either of which may be NULL. *added is 1 when
 * it joined the collection. Cheaper than store_put: no body is needed.
 * The write rules are checked as by store_put (TIX_EDENIED). */
enum tix_err store_link(struct store *s, const struct stix_meta *meta, const char *owner_org,
                        const struct store_collection *collection, const struct store_source *src,
                        int *added, struct tix_error *err);

/* ---- reading ----------------------------------------------------------- */

/* What the store recorded about a version's audience when it was written
 * (src/policy decides from these; see docs/policy.md). */
struct store_audience {
	int tlp;                   /* STIX_TLP_*, or STIX_TLP_UNSET: the node default applies */
	unsigned tlp_flags;        /* STIX_TLPF_* */
	const char *owner_org;     /* NULL when no organisation wrote it */
	const char *sharing_group; /* NULL or a name */
	const char *recipients;    /* "\norg\norg\n", or NULL */
	const char *origin_node;   /* NULL: written on this node */
};

struct store_row {
	const char *id;
	const char *type;
	const char *modified; /* canonical form */
	int64_t date_added;   /* microseconds since the epoch */
	const char *body;
	size_t body_len;
	struct store_audience aud;
};

/* Return non-zero from the callback to stop early. */
typedef int (*store_row_cb)(void *arg, const struct store_row *row);

struct store_query {
	const char *const *types;                  /* NULL-terminated, or NULL for every type */
	const char *id;                            /* one object, or NULL */
	const struct store_collection *collection; /* or NULL for the whole store */
	int64_t added_after;                       /* microseconds; 0 for no bound */
	int all_versions;                          /* else the latest version of each object */
};

/* Streams matching versions in date_added order, in constant memory. */
enum tix_err store_query(struct store *s, const struct store_query *q, store_row_cb cb, void *arg,
                         struct tix_error *err);

struct store_type_count {
	const char *type;
	int64_t objects;
	int64_t versions;
};

struct store_collection_count {
	const char *id;
	const char *title;
	int64_t objects;
};

struct store_stats_cb {
	void (*type)(void *arg, const struct store_type_count *c);
	void (*collection)(void *arg, const struct store_collection_count *c);
	void *arg;
};

enum tix_err store_stats(struct store *s, const struct store_stats_cb *cb, struct tix_error *err);

/* Runs the backend's integrity check; TIX_OK when the store is sound. */
enum tix_err store_check(struct store *s, struct tix_error *err);

/* ---- TAXII queries (src/store/taxii.c) ---------------------------------- */

struct store_taxii_row;
struct store_audit_entry;

/* What a TAXII objects / manifest / object / versions request selects in
 * one collection. Lists are NULL-terminated; NULL means no filter. */
struct store_taxii_filter {
	const struct store_collection *collection; /* required */
	const char *const *ids;
	const char *const *types;
	const char *const *spec_versions; /* "2.0" also matches objects without one */
	/* match[version]: none set means "last" */
	int version_all, version_first, version_last;
	const char *const *versions; /* canonical timestamps (tix_time_canonical) */
	int64_t added_after;         /* membership date_added strictly after (µs) */
	size_t limit;                /* at most this many rows; 0 = no limit */
	/* When set, only rows keep() accepts are handed out or counted towards
	 * limit (the sharing policy's filter). */
	int (*keep)(void *keep_arg, const struct store_taxii_row *row);
	void *keep_arg;
	/* store_taxii_delete: appended to the audit log in the same
	 * transaction when versions go; or NULL. */
	const struct store_audit_entry *audit;
	/* store_taxii_delete: only versions this organisation owns go (an
	 * observable's copies of other organisations stay); NULL: any. */
	const char *delete_owner;
	/* When set, only rows this reader's audience keys name are examined
	 * (the audience index; keep still decides each row). */
	const struct store_reader *reader;
	/* At most this many rows examined (0: no bound). When it runs out
	 * before the page fills, *more is 1 and *resume says where to go on. */
	size_t budget;
	/* When set: the date_added the next page starts after (the last row
	 * handed out, or the last row examined when the budget ran out). */
	int64_t *resume;
};

/* Who reads, as the audience index needs it (mirrors policy_may_read). */
struct store_reader {
	const char *org;           /* NULL or "": anonymous */
	const char *const *groups; /* sharing groups naming org, NULL-terminated, or NULL */
	int collection_reader;     /* org is granted read on the collection */
	int default_tlp;           /* the node's default TLP now (STIX_TLP_*) */
	int anonymous_read;        /* the node lets anonymous callers read CLEAR */
};

struct store_taxii_row {
	const char *id;
	const char *type;
	const char *version;      /* modified, else created, as the object wrote it */
	const char *spec_version; /* NULL for STIX 2.0 objects */
	int64_t date_added;       /* when it was added to the collection (µs) */
	const char *body;
	size_t body_len;
	struct store_audience aud;
};

/* Calls cb for each selected version in date_added order; *more is set to 1
 * when rows beyond limit exist. */
enum tix_err store_taxii_select(struct store *s, const struct store_taxii_filter *f,
                                int (*cb)(void *, const struct store_taxii_row *), void *arg,
                                int *more, struct tix_error *err);
/* Removes the selected versions from the collection (limit is ignored);
 * versions left in no collection are deleted from the store. In its own
 * transaction, or inside store_begin/commit in the caller's (which then
 * commits or rolls back). */
enum tix_err store_taxii_delete(struct store *s, const struct store_taxii_filter *f,
                                size_t *removed, struct tix_error *err);

/* A read transaction of this handle's, when none is open: the statements
 * until store_read_end read one snapshot and share one lock. Returns 1
 * when it began one (hand that to store_read_end), 0 otherwise. Never
 * around a write. */
int store_read_begin(struct store *s);
void store_read_end(struct store *s, int begun);
/* A number that changes whenever the data this handle can read may have
 * changed: a commit by any connection (any thread or process) or by this
 * one. Cheap (no disk I/O; on PostgreSQL one indexed row, one round trip):
 * for caching answers. */
uint64_t store_data_version(struct store *s);
/* The handle's page cache (STORE_CACHE_KIB when opened): a long read that
 * walks the store once (tix export) needs little, and its memory then stays
 * the same whatever the store's size; a large import needs more (cmd_import). */
#define STORE_CACHE_KIB 16384
enum tix_err store_set_cache_kib(struct store *s, int kib, struct tix_error *err);
/* How many pages the write-ahead log may hold before a commit copies them
 * into the database file (a checkpoint, two fsyncs): STORE_WAL_PAGES when
 * opened (SQLite's default). A long run of commits (a federation pull)
 * checkpoints less often with more, and the copies of pages rewritten by
 * several commits coalesce; the log then grows to about that many pages.
 * Nothing on PostgreSQL. */
#define STORE_WAL_PAGES 1000
enum tix_err store_set_wal_pages(struct store *s, int pages, struct tix_error *err);

/* Status resources of POST requests, kept for later GETs for a week
 * (older ones are dropped as new ones are saved). */
#define STORE_STATUS_KEEP_US ((int64_t)7 * 24 * 3600 * 1000000)
/* Status resources of POST requests, kept for later GETs. */
enum tix_err store_status_put(struct store *s, const char *id, int64_t user_key, const char *body,
                              struct tix_error *err);
/* *body is the caller's to free. TIX_ENOTFOUND when there is none. */
enum tix_err store_status_get(struct store *s, const char *id, char **body, int64_t *user_key,
                              struct tix_error *err);

/* ---- accounts and access (src/store/accounts.c) -------------------------- */

/* Organisations own users; users have a role; API keys belong to users.
 * Collections grant read and/or write to organisations. Secrets are never
 * stored: passwords as argon2id strings, keys as keyed BLAKE2b digests
 * (both made by src/auth). Names are unique. Removing an organisation
 * removes its users, their keys and its grants. */

enum store_role { STORE_ROLE_ADMIN, STORE_ROLE_ANALYST, STORE_ROLE_READER, STORE_ROLE_SENSOR };

const char *store_role_name(enum store_role r);
/* Returns 0 and sets *r for "admin", "analyst", "reader", "sensor"; -1 otherwise. */
int store_role_parse(const char *name, enum store_role *r);

struct store_org {
	int64_t key;
	char name[128];
	char country[3]; /* ISO 3166-1 alpha-2, or "" */
	char sector[64]; /* free text (store_org_set_sector), or "" */
};

struct store_user {
	int64_t key;
	char name[128];
	int64_t org_key;
	char org[128];
	enum store_role role;
	char password_hash[192]; /* crypto_pwhash_str output, or "" (no password) */
};

struct store_apikey {
	int64_t key;
	char key_id[32];        /* the public prefix that finds the key */
	unsigned char hash[32]; /* keyed BLAKE2b-256 of the whole secret */
	int64_t user_key;
	char user[128];
	int64_t created;   /* µs since the epoch */
	int64_t last_used; /* µs, 0 = never */
};

/* Each *_add fails with TIX_EEXIST when the name is taken, TIX_ENOTFOUND
 * when a referenced org/user does not exist. They run in their own
 * transaction (do not call them inside store_begin/commit). */
enum tix_err store_org_add(struct store *s, const char *name, const char *country,
                           struct tix_error *err);
enum tix_err store_org_get(struct store *s, const char *name, struct store_org *out,
                           struct tix_error *err);
enum tix_err store_org_remove(struct store *s, const char *name, struct tix_error *err);
/* Calls cb for each organisation in name order; stop by returning non-zero. */
enum tix_err store_org_list(struct store *s, int (*cb)(void *, const struct store_org *), void *arg,
                            struct tix_error *err);

enum tix_err store_user_add(struct store *s, const char *name, const char *org,
                            enum store_role role, const char *password_hash, struct tix_error *err);
enum tix_err store_user_get(struct store *s, const char *name, struct store_user *out,
                            struct tix_error *err);
enum tix_err store_user_remove(struct store *s, const char *name, struct tix_error *err);
/* Replaces a user's password hash ("" removes the password). */
enum tix_err store_user_set_password(struct store *s, const char *name, const char *password_hash,
                                     struct tix_error *err);
enum tix_err store_user_list(struct store *s, int (*cb)(void *, const struct store_user *),
                             void *arg, struct tix_error *err);

enum tix_err store_apikey_add(struct store *s, const char *user, const char *key_id,
                              const unsigned char hash[32], struct tix_error *err);
/* Finds a key by its public key_id; TIX_ENOTFOUND when there is none. */
enum tix_err store_apikey_get(struct store *s, const char *key_id, struct store_apikey *out,
                              struct tix_error *err);
enum tix_err store_apikey_touch(struct store *s, const char *key_id, int64_t when_us,
                                struct tix_error *err);
enum tix_err store_apikey_remove(struct store *s, const char *key_id, struct tix_error *err);
/* user NULL lists every key. */
enum tix_err store_apikey_list(struct store *s, const char *user,
                               int (*cb)(void *, const struct store_apikey *), void *arg,
                               struct tix_error *err);

/* Node-wide secret bytes (created randomly on first use, kept in the meta
 * table): the key for API-key digests and for signing pagination tokens. */
enum tix_err store_node_secret(struct store *s, unsigned char out[32], struct tix_error *err);

/* Collections and grants. store_collection_get (above) finds by id or
 * title. Creating with grants: orgs are names, comma-separated lists are
 * split by the caller. */
struct store_collection_info {
	const char *id;
	const char *title;
	const char *description; /* may be NULL */
	int can_read, can_write; /* for the org asked about (see list) */
};

/* store_collection_create and _grant run in their own transaction, or
 * inside store_begin/commit in the caller's (which commits or rolls back). */
enum tix_err store_collection_create(struct store *s, const char *title, const char *description,
                                     struct store_collection *out, struct tix_error *err);
/* Sets what org may do with a collection (replacing an earlier grant). */
enum tix_err store_collection_grant(struct store *s, const struct store_collection *c,
                                    const char *org, int can_read, int can_write,
                                    struct tix_error *err);
/* Reads the grant of org (by key) on c: *can_read, *can_write (0 when none). */
enum tix_err store_collection_access(struct store *s, const struct store_collection *c,
                                     int64_t org_key, int *can_read, int *can_write,
                                     struct tix_error *err);
enum tix_err store_collection_remove(struct store *s, const char *id_or_title,
                                     struct tix_error *err);
/* Every collection in title order with the grants of org_key (all_access:
 * report can_read = can_write = 1, for administrators). */
enum tix_err store_collection_list(struct store *s, int64_t org_key, int all_access,
                                   int (*cb)(void *, const struct store_collection_info *),
                                   void *arg, struct tix_error *err);

/* ---- sharing policy (src/store/policy.c) ---------------------------------- */

/* m->tlp_flags plus STIX_TLPF_UNKNOWN when a marking ref is neither a TLP
 * id nor a marking-definition the store holds. store_put records this. */
unsigned store_marking_flags(struct store *s, const struct stix_meta *m);
/* How many stored versions refer to a marking the node does not know. */
enum tix_err store_unknown_markings(struct store *s, int64_t *versions, struct tix_error *err);
/* Versions stored before schema 6 that break the ownership rule (written
 * by another organisation than the id's owner, created or created_by_ref
 * changed): kept, and listed here with the reason. */
enum tix_err store_ownership_conflicts(struct store *s,
                                       int (*cb)(void *, const char *id, const char *version,
                                                 const char *reason),
                                       void *arg, struct tix_error *err);

/* Node settings (e.g. "default_tlp", "anonymous_read"), kept in the store. */
enum tix_err store_setting_get(struct store *s, const char *key, char *out, size_t size,
                               struct tix_error *err);
/* value NULL removes the setting. */
enum tix_err store_setting_set(struct store *s, const char *key, const char *value,
                               struct tix_error *err);

/* Sharing groups: named sets of organisation names (which may be
 * organisations of other nodes, so they are names, not keys). Each call is
 * its own transaction. */
enum tix_err store_group_add(struct store *s, const char *name, struct tix_error *err);
enum tix_err store_group_remove(struct store *s, const char *name, struct tix_error *err);
/* add 1 adds org to group, 0 removes it. */
enum tix_err store_group_member(struct store *s, const char *group, const char *org, int add,
                                struct tix_error *err);
/* Every group with each member (org NULL for a group without members). */
enum tix_err store_group_list(struct store *s,
                              int (*cb)(void *, const char *group, const char *org), void *arg,
                              struct tix_error *err);
/* The groups naming org. */
enum tix_err store_org_groups(struct store *s, const char *org,
                              int (*cb)(void *, const char *group), void *arg,
                              struct tix_error *err);
enum tix_err store_org_set_sector(struct store *s, const char *org, const char *sector,
                                  struct tix_error *err);

/* ---- the console's sessions (src/store/sessions.c) ------------------------- */

struct store_session {
	int64_t user_key;
	char user[128];
	int64_t created, last_used, expires; /* µs since the epoch */
};

/* Only the keyed digest of a session token is stored (src/auth makes it). */
enum tix_err store_session_add(struct store *s, const unsigned char digest[32], int64_t user_key,
                               int64_t now_us, int64_t expires_us, struct tix_error *err);
/* TIX_ENOTFOUND: no such session (ended, or its user is gone or changed
 * password). */
enum tix_err store_session_get(struct store *s, const unsigned char digest[32],
                               struct store_session *out, struct tix_error *err);
enum tix_err store_session_touch(struct store *s, const unsigned char digest[32], int64_t now_us,
                                 struct tix_error *err);
enum tix_err store_session_remove(struct store *s, const unsigned char digest[32],
                                  struct tix_error *err);
/* Removes sessions past their end or unused for idle_us. */
enum tix_err store_sessions_expire(struct store *s, int64_t now_us, int64_t idle_us,
                                   struct tix_error *err);

/* ---- federation peers (src/store/sync.c) -------------------------------- */

/* A peer node: where it is, which collections are synchronised, and the
 * credentials this node presents there. The secret must be usable, so it
 * is stored as given (protected by the store file's permissions); callers
 * never print or log it and wipe their copies. */
enum { STORE_PEER_PULL = 1, STORE_PEER_PUSH = 2 };

struct store_peer {
	char name[64];
	char kind[16];  /* "taxii" (the default) or "misp-feed" */
	char url[1024]; /* the discovery URL, or a MISP feed's manifest.json */
	char remote_collection[128];
	char local_collection[128];
	char user[128];   /* HTTP Basic user, or "" for a Bearer API key */
	char secret[512]; /* password or API key */
	int direction;    /* STORE_PEER_PULL | STORE_PEER_PUSH */
	int64_t interval; /* seconds between runs under `tix serve --sync` */
	char org[128];    /* the peer's organisation: the policy audience of pushes */
	char ca_file[1024];
	int64_t limit_rate; /* bytes per second, 0: no limit */
};

/* The durable cursors and counters of one peer. */
struct store_peer_state {
	char pull_after[64];  /* remote date_added of the last page stored, "" at first */
	char pull_base[64];   /* the added_after an unfinished walk's next token belongs to */
	char pull_next[1024]; /* that next token, or "" */
	int64_t push_cursor;  /* local date_added (µs) of the last version pushed or skipped */
	int64_t objects_in, objects_stored, objects_rejected, objects_out;
	int64_t bytes_in, bytes_out;
	int64_t last_attempt, last_success; /* µs */
	char last_error[512];
	int failing;
	int64_t errors; /* attempts that failed, ever */
	int64_t outbox; /* versions the peer refused, to be sent again (read only) */
};

/* Own transaction; TIX_EEXIST when the name is taken. */
enum tix_err store_peer_add(struct store *s, const struct store_peer *p, struct tix_error *err);
/* Changes every setting of a peer but its name and credentials (user,
 * secret): the settings of a [peer NAME] section of tix.conf. Own
 * transaction (store_data_version moves, on this handle too). */
enum tix_err store_peer_update(struct store *s, const struct store_peer *p, struct tix_error *err);
enum tix_err store_peer_get(struct store *s, const char *name, struct store_peer *out,
                            struct tix_error *err);
/* Own transaction, as store_peer_update; its state, outbox and feed
 * cursors go with it. */
enum tix_err store_peer_remove(struct store *s, const char *name, struct tix_error *err);
enum tix_err store_peer_list(struct store *s, int (*cb)(void *, const struct store_peer *),
                             void *arg, struct tix_error *err);
/* The name of a peer whose organisation is org; TIX_ENOTFOUND (without
 * touching err) when there is none. */
enum tix_err store_peer_by_org(struct store *s, const char *org, char *name, size_t size,
                               struct tix_error *err);
enum tix_err store_peer_state_get(struct store *s, const char *name, struct store_peer_state *out,
                                  struct tix_error *err);
/* Inside the caller's transaction when one is open: a page's objects and
 * the cursor past them commit together. */
enum tix_err store_peer_state_put(struct store *s, const char *name,
                                  const struct store_peer_state *v, struct tix_error *err);
/* The outbox: versions (id, canonical modified) a peer refused. */
enum tix_err store_peer_outbox_put(struct store *s, const char *peer, const char *id,
                                   const char *modified, const char *error, struct tix_error *err);
enum tix_err store_peer_outbox_done(struct store *s, const char *peer, const char *id,
                                    const char *modified, struct tix_error *err);
/* The created (canonical) of the object id when owner owns it, else ""
 * in out (not known, an observable, or another organisation's). */
enum tix_err store_object_created(struct store *s, const char *id, const char *owner, char *out,
                                  size_t size, struct tix_error *err);
/* A MISP feed peer's cursor for one event: the manifest timestamp of the
 * version stored (0 when none). The put belongs in the transaction that
 * stores the event's objects. */
enum tix_err store_peer_feed_get(struct store *s, const char *peer, const char *uuid,
                                 int64_t *timestamp, struct tix_error *err);
enum tix_err store_peer_feed_put(struct store *s, const char *peer, const char *uuid,
                                 int64_t timestamp, struct tix_error *err);
enum tix_err store_peer_outbox_list(struct store *s, const char *peer, store_row_cb cb, void *arg,
                                    struct tix_error *err);

/* ---- audit log (src/store/audit.c) --------------------------------------- */

/* One entry: who (actor, org) did what (action: "read", "write", "delete",
 * "auth-failure", "admin", "export") to which objects ("\nid\nid\n", or "")
 * and how (detail: the request or command). */
struct store_audit_entry {
	int64_t at; /* µs since the epoch */
	const char *action, *actor, *org, *objects, *detail;
};

/* Appends entries to the hash chain; inside the caller's transaction when
 * one is open (so a write and its audit entry commit together). */
enum tix_err store_audit_append(struct store *s, const struct store_audit_entry *entries, size_t n,
                                struct tix_error *err);
/* Recomputes the chain. TIX_OK with *entries counted, or TIX_EINVAL with
 * *bad_seq the first entry changed, missing or out of order. */
enum tix_err store_audit_verify(struct store *s, int64_t *entries, int64_t *bad_seq,
                                struct tix_error *err);
/* Entries at or after since (µs) naming object (or all when NULL). */
/* The same, and the chain must hold entry anchor_seq with hash anchor_hex
 * (64 hex digits, as store_audit_anchor gives it). */
enum tix_err store_audit_verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                                       int64_t *entries, int64_t *bad_seq, struct tix_error *err);
/* The head of the chain: its last entry's sequence number and hash. */
enum tix_err store_audit_anchor(struct store *s, int64_t *seq, char hash_hex[65],
                                struct tix_error *err);
/* An anchor ("SEQ:HASH") a peer sent: kept (the last STORE_PEER_ANCHORS
 * per peer); when it does not follow the ones kept (a lower SEQ than one
 * seen: the chain went backwards; the same SEQ with another HASH: it
 * forked) the problem is recorded for `tix peer status` and *problem set
 * to 1. Own transaction. */
#define STORE_PEER_ANCHORS 8
enum tix_err store_peer_anchor_put(struct store *s, const char *peer, const char *anchor,
                                   int64_t now_us, int *problem, struct tix_error *err);
/* The latest anchor kept for peer ("" when none) and the last problem ("" when none). */
enum tix_err store_peer_anchor_status(struct store *s, const char *peer, char *last, size_t lsize,
                                      char *problem, size_t psize, struct tix_error *err);
enum tix_err store_audit_list(struct store *s, const char *object, int64_t since,
                              int (*cb)(void *, int64_t seq, const struct store_audit_entry *),
                              void *arg, struct tix_error *err);

/* The audit of a read of many objects (`tix export`, GET /feeds/) in
 * bounded memory: ids are added one by one and kept in parts of per_part
 * ids (0: store_audit_ids_part_size()), the full parts in a temporary
 * file. finish writes one entry per part (the template's detail followed
 * by " (part I of N)" when there are several; one entry as the template
 * when there is one; none for no id), chained as any entry, all in one
 * transaction (or the caller's, when one is open): on any failure no part
 * is written, so no entry claims a read, and the caller must fail the
 * read. "Who has seen X" (store_audit_list) finds X in its part. free
 * discards a writer, finished or not. */
struct store_audit_ids;
struct store_audit_ids *store_audit_ids_new(const struct store_audit_entry *tmpl, size_t per_part,
                                            struct tix_error *err);
enum tix_err store_audit_ids_add(struct store_audit_ids *w, const char *id, struct tix_error *err);
size_t store_audit_ids_count(const struct store_audit_ids *w);
enum tix_err store_audit_ids_finish(struct store *s, struct store_audit_ids *w,
                                    struct tix_error *err);
void store_audit_ids_free(struct store_audit_ids *w);
/* 20,000 ids per part, or $TIX_AUDIT_PART_IDS (for tests: a small part
 * size makes a test of several parts need few objects). */
size_t store_audit_ids_part_size(void);

/* A thread-safe queue feeding a writer thread with its own store handle:
 * entries pushed are appended in batches within ~50 ms. close flushes. A
 * list of objects the writer logged recently is logged again as "=SEQ"
 * (the objects of entry SEQ); store_audit_list finds those entries too. */
struct store_audit_queue;
struct store_audit_queue *store_audit_queue_open(const char *path, struct tix_error *err);
void store_audit_queue_push(struct store_audit_queue *q, const struct store_audit_entry *e);
/* Hands a writer of ids to the queue (which frees it): its parts are
 * written by the writer thread, in one transaction of their own. */
void store_audit_queue_push_ids(struct store_audit_queue *q, struct store_audit_ids *w);
void store_audit_queue_close(struct store_audit_queue *q);
/* store_data_version(s) for answer caches, without the audit log: a
 * number that changes with every commit of any connection or process but
 * the queue's own writer, whose commits (the reads it logs) change no data
 * an answer shows. The queue's connection is the witness: its data_version
 * moves with every commit but its own, and s's is checked against it only
 * when s's moved. Thread-safe; q NULL: store_data_version(s). */
uint64_t store_audit_queue_data_version(struct store_audit_queue *q, struct store *s);
/* What GET /metrics shows of the queue: entries taken, written, lost to a
 * failed write, waiting (depth: queued or being written), the bound. */
struct store_audit_queue_stats {
	uint64_t pushed, logged, lost, depth;
	size_t capacity;
	int failed;
};
void store_audit_queue_get_stats(struct store_audit_queue *q, struct store_audit_queue_stats *out);

/* ---- backups (src/store/backup.c) ---------------------------------------- */

/* Writes a copy of the store to dest, a new file (mode 0600; an existing
 * file is never overwritten): SQLite's online backup API, so the copy is
 * the store at one moment even while a server writes. The copy is written
 * as dest.partial and appears under its name only when complete. Without
 * with_secret the node secret is removed from the copy (and its bytes
 * overwritten): a store restored from it makes a new one, so API keys
 * must be issued again. */
enum tix_err store_backup(struct store *s, const char *dest, int with_secret,
                          struct tix_error *err);

struct store_backup_info {
	int schema;     /* the copy's schema version */
	int has_secret; /* it holds a node secret */
};
/* Checks that path is a tix store this build can read: a SQLite file that
 * passes the integrity check, with a schema no newer than this build's. */
enum tix_err store_backup_check(const char *path, struct store_backup_info *info,
                                struct tix_error *err);
/* Replaces the contents of the store at dest (created 0600 if missing) by
 * the copy at backup, in one transaction, after store_backup_check. Open
 * dest with store_open afterwards to migrate an older schema. */
enum tix_err store_restore(const char *backup, const char *dest, struct tix_error *err);
/* SQLite's integrity check and foreign-key check: each problem found to
 * cb; *problems counts them (store_check: the first one as an error). */
enum tix_err store_check_report(struct store *s, int (*cb)(void *, const char *problem), void *arg,
                                size_t *problems, struct tix_error *err);
/* 1 when the store holds a node secret, 0 when not, -1 on an error. */
int store_has_node_secret(struct store *s);

/* ---- tix migrate: a store copied to another engine (src/store/copy.c) ---- */

/* One table of a copy: its rows and the BLAKE2b-256 digest of its rows in
 * key order (the canonical encoding of store__copy_encode), read from the
 * source and read back from the target. */
struct store_copy_table {
	const char *name;
	int64_t rows_source, rows_target;
	unsigned char digest_source[32], digest_target[32];
};
/* Copies every table of src into dst, which must be empty (meta aside) and
 * at the same schema version: one read snapshot of src, one transaction on
 * dst, committed only when every table's count and digest read back from
 * dst equal src's (cb gets each table, then). The full-text table is copied
 * as its texts (PostgreSQL's tsvector is generated from them). TIX_EEXIST
 * for a target that is not empty, TIX_EINVAL for schemas that differ,
 * TIX_ESTORE for a copy that differs (rolled back) or a store error. */
enum tix_err store_copy(struct store *src, struct store *dst,
                        int (*cb)(void *arg, const struct store_copy_table *t), void *arg,
                        struct tix_error *err);

/* ---- correlation: the value index, sightings, text (src/store/values.c, issue 15) ---- */

/* Every stored version's observable values (src/values extracts them),
 * its sightings (sighting_of_ref, sensor, count, first/last seen) and its
 * text (name, description, labels; FTS5) are indexed by store_put in the
 * write's own transaction. The index holds the version (vid); its owner,
 * time and audience are the version's row. Only the latest version of each
 * object (each owner's copy of an observable) is ever found. */

struct values_item;

struct store_value_hit {
	int64_t vid;
	const char *id, *type, *modified;
	int64_t date_added; /* µs */
	const char *body;
	size_t body_len;
	const char *country;   /* the owner's ISO country, or "" */
	int collection_reader; /* reader_org_key reads a collection holding this version */
	struct store_audience aud;
};

struct store_value_find {
	const struct values_item *value; /* an address or range also finds the
	                                    ranges holding it and what it holds */
	int64_t reader_org_key;          /* for collection_reader (0: none) */
	size_t budget;                   /* hits examined at most (0: no bound) */
	int (*cb)(void *arg, const struct store_value_hit *h); /* non-zero stops */
	void *arg;
	int index_only;         /* hits from the index alone: vid, type, audience and
	                           collection_reader; id, modified, body and country NULL,
	                           date_added 0 (no objects row is read) */
	const char *exclude_id; /* no version of this object is found (NULL: none) */
};

/* Newest first per lookup. *stopped is 1 when the budget ran out or cb
 * stopped the walk. */
enum tix_err store_values_find(struct store *s, const struct store_value_find *f, int *stopped,
                               struct tix_error *err);
/* One read snapshot for several lookups (a correlation's count and the
 * rows it lists), unless a transaction is open: returns whether it began
 * one, to hand to store_snapshot_end. */
int store_snapshot_begin(struct store *s);
void store_snapshot_end(struct store *s, int begun);
/* The version vid as a full hit (an index-only hit's object). */
enum tix_err store_object_version(struct store *s, int64_t vid, int64_t reader_org_key,
                                  int (*cb)(void *, const struct store_value_hit *), void *arg,
                                  struct tix_error *err);
/* The latest version of id (each owner's copy of an observable). */
enum tix_err store_object_latest(struct store *s, const char *id, int64_t reader_org_key,
                                 int (*cb)(void *, const struct store_value_hit *), void *arg,
                                 struct tix_error *err);

/* Every version of id, oldest first, without its body (the console's
 * version list; each passes the caller's policy). */
enum tix_err store_object_versions(struct store *s, const char *id, int64_t reader_org_key,
                                   int (*cb)(void *, const struct store_value_hit *), void *arg,
                                   struct tix_error *err);
/* The latest version of each relationship whose source_ref or target_ref
 * is id, in the order they were added (the refs index, migration 18). */
enum tix_err store_relationships_of(struct store *s, const char *id, int64_t reader_org_key,
                                    int (*cb)(void *, const struct store_value_hit *), void *arg,
                                    struct tix_error *err);

/* The latest version of every object, in the order they were stored (the
 * console's dashboard counts them through the policy); without its body
 * (body NULL, body_len 0), so that the walk reads no object's JSON. */
enum tix_err store_latest_each(struct store *s, int64_t reader_org_key,
                               int (*cb)(void *, const struct store_value_hit *), void *arg,
                               struct tix_error *err);

struct store_sighting_row {
	struct store_value_hit hit;           /* the sighting itself */
	const char *sensor;                   /* its first where_sighted_refs, or "" */
	int64_t count, first_seen, last_seen; /* µs */
};

/* The latest version of each sighting of id, most recently seen first. */
enum tix_err store_sightings_of(struct store *s, const char *id, int64_t reader_org_key,
                                int (*cb)(void *, const struct store_sighting_row *), void *arg,
                                struct tix_error *err);

/* `tix match --sightings`: records that the sighting counted the log line
 * with this key (inside the caller's transaction). 1 when it had not,
 * 0 when it had (re-scanned lines count once), -1 on an error. */
int store_sighting_line_add(struct store *s, const char *sighting_id, uint64_t line_key,
                            struct tix_error *err);

/* A text search: match is an FTS5 expression (the caller builds it: see
 * api_fts_expression), run over name, description and labels of the
 * latest versions, best first (bm25; on PostgreSQL ts_rank, and only the
 * expressions api_fts_expression makes are mapped: others TIX_EINVAL). At most budget index rows
 * are read (0: 10,000); *more is 1 when there may be more, or cb stopped. */
struct store_text_query {
	const char *match;
	const char *const *types;   /* NULL-terminated (at most 16), or NULL */
	const char *org;            /* owning organisation, or NULL */
	const char *since_modified; /* canonical timestamp, or NULL */
	int64_t reader_org_key;
	size_t budget;
};
enum tix_err store_text_search(struct store *s, const struct store_text_query *q,
                               int (*cb)(void *, const struct store_value_hit *), void *arg,
                               int *more, struct tix_error *err);

/* `tix expire`: id's decay score fell below the floor at at_us (kept:
 * nothing is deleted; matcher indexes and exports leave it out). *added is
 * 0 when it was marked before. */
enum tix_err store_indicator_expire(struct store *s, const char *id, int64_t at_us, double score,
                                    int *added, struct tix_error *err);
/* Every indicator marked expired, in id order. */
enum tix_err store_indicators_expired(struct store *s, int (*cb)(void *, const char *id), void *arg,
                                      struct tix_error *err);
/* Those ids as a sorted set, for the exports, feeds and the matcher to
 * leave them out: loaded whole (TIX_ENOMEM rather than a partial set),
 * looked up by binary search, released. */
struct store_id_set {
	char **ids;
	size_t n;
};
enum tix_err store_expired_set_load(struct store *s, struct store_id_set *set,
                                    struct tix_error *err);
int store_id_set_has(const struct store_id_set *set, const char *id);
void store_id_set_release(struct store_id_set *set);

struct store_reindex_counts {
	int64_t versions, values, refused;
};

/* Rebuilds the value, sighting and text indexes from every stored version,
 * in one transaction (`tix reindex`). */
enum tix_err store_values_reindex(struct store *s, struct store_reindex_counts *c,
                                  struct tix_error *err);
/* Values found malformed (not an address, a hash of the wrong length...)
 * and left out of the index since it was last rebuilt. */
enum tix_err store_values_refused(struct store *s, int64_t *n, struct tix_error *err);

/* ---- feeds for defences (issue 16; src/store/feeds.c) ----------------------- */

/* How far a collection has changed: the date_added of its newest
 * membership and how many it has (a removal lowers the count). Two equal
 * answers mean the same members. */
enum tix_err store_collection_version(struct store *s, const struct store_collection *c,
                                      int64_t *last_added, int64_t *members, struct tix_error *err);
/* How far the sightings have changed, node-wide: a counter (one row read,
 * whatever the number of sightings) that moves with every commit adding,
 * changing or removing an indexed sighting version, or adding a sighting to
 * a collection or taking it out of one (a reindex, a deletion, a collection
 * removed). Equal numbers, the same sightings in the same collections. The
 * feeds' ETags hold it, since the aggregates they carry follow any sighting
 * of their indicators that the reader may read, in whichever collection. */
enum tix_err store_sightings_version(struct store *s, int64_t *version, struct tix_error *err);

/* A named feed (`tix feed add`): a collection, a format and its options
 * (a JSON object of the `tix export` feed options), served at
 * /feeds/<name> with the caller's policy. */
struct store_feed {
	char name[64];
	char collection[64]; /* the collection's id */
	char format[32];
	char options[2048];
	int64_t created; /* µs */
};

/* Adds or replaces the feed of f->name. */
enum tix_err store_feed_put(struct store *s, const struct store_feed *f, struct tix_error *err);
/* TIX_ENOTFOUND when there is none. */
enum tix_err store_feed_get(struct store *s, const char *name, struct store_feed *out,
                            struct tix_error *err);
enum tix_err store_feed_list(struct store *s, int (*cb)(void *, const struct store_feed *),
                             void *arg, struct tix_error *err);
enum tix_err store_feed_delete(struct store *s, const char *name, struct tix_error *err);
/* ---- constituency routing (src/store/route.c, docs/route.md) ------------ */

/* A network range: the first address (lo) and the prefix length; hi is the
 * last address (the route module computes it). Bytes are big-endian, the
 * first 4 of them for IPv4 (family 4). */
struct store_route_range {
	int family; /* 4 or 6 */
	unsigned char lo[16], hi[16];
	unsigned plen;
};

/* What `tix constituent add/import` writes. Every string is checked by the
 * caller (src/route); group is the sharing group the organisation's reports
 * name (made, with org its one member, when missing). */
struct store_constituent_def {
	const char *name, *org, *lang, *pgp_key, *group;
	const char *const *contacts;
	size_t ncontacts;
	const struct store_route_range *ranges;
	size_t nranges;
	const int64_t *asns;
	size_t nasns;
	const char *const *domains;
	size_t ndomains;
};

struct store_constituent {
	int64_t key;
	const char *name, *org, *lang;
	int has_pgp_key;
	size_t contacts; /* how many */
};

/* Adds n constituents in one transaction (own transaction). Without
 * replace a name that exists fails with TIX_EEXIST and nothing is added;
 * with replace its organisation, language, key and lists are replaced in
 * place (its routed reports and what digests owe it stay). */
enum tix_err store_constituent_put(struct store *s, const struct store_constituent_def *defs,
                                   size_t n, int replace, struct tix_error *err);
enum tix_err store_constituent_remove(struct store *s, const char *name, struct tix_error *err);
/* In name order; name not NULL: that one only (TIX_ENOTFOUND when none). */
enum tix_err store_constituent_list(struct store *s, const char *name,
                                    int (*cb)(void *, const struct store_constituent *), void *arg,
                                    struct tix_error *err);
/* The lists of one constituent (ckey), or of all (ckey 0), by kind; a NULL
 * member skips that kind. */
struct store_constituent_parts_cb {
	void (*contact)(void *arg, int64_t ckey, const char *email);
	void (*range)(void *arg, int64_t ckey, const struct store_route_range *r);
	void (*asn)(void *arg, int64_t ckey, int64_t asn);
	void (*domain)(void *arg, int64_t ckey, const char *domain);
	void *arg;
};
enum tix_err store_constituent_parts(struct store *s, int64_t ckey,
                                     const struct store_constituent_parts_cb *cb,
                                     struct tix_error *err);

/* The operator's prefix-to-ASN table, replaced whole (own transaction). */
enum tix_err store_route_asn_load(struct store *s, const struct store_route_range *prefixes,
                                  const int64_t *asns, size_t n, struct tix_error *err);
enum tix_err store_route_asn_each(struct store *s,
                                  void (*cb)(void *, const struct store_route_range *, int64_t),
                                  void *arg, struct tix_error *err);

/* The index of a routed report (its STIX object is stored by store_put in
 * the same transaction). *added is 0 when object_id was indexed before. */
struct store_route_report {
	const char *object_id, *feed, *taxonomy, *type, *address;
	int64_t ckey, asn, time_source, imported; /* times in µs */
};
enum tix_err store_route_report_add(struct store *s, const struct store_route_report *r, int *added,
                                    struct tix_error *err);

/* A row that could not be routed, kept for the analyst (key: the id its
 * report would have, so the same row is kept once). */
struct store_route_unrouted {
	const char *key, *feed, *source, *reason, *detail, *row;
	int64_t line, at;
};
enum tix_err store_route_unrouted_add(struct store *s, const struct store_route_unrouted *u,
                                      struct tix_error *err);
/* reason NULL: all. */
enum tix_err store_route_unrouted_list(struct store *s, const char *reason,
                                       int (*cb)(void *, const struct store_route_unrouted *),
                                       void *arg, struct tix_error *err);

/* One digest row: the reports of one address, classification and day. */
struct store_route_agg {
	const char *day, *address, *taxonomy, *type, *feeds;
	int64_t count, first, last, asn; /* first/last: time.source in µs */
};
/* The aggregated reports of ckey imported in [since, until] (µs); with
 * unsent_only, only those no digest has carried yet. */
enum tix_err store_route_digest_rows(struct store *s, int64_t ckey, int64_t since, int64_t until,
                                     int unsent_only,
                                     int (*cb)(void *, const struct store_route_agg *), void *arg,
                                     struct tix_error *err);
/* A digest sent: recorded, and the reports it carried (unsent ones of
 * ckey in [since, until]) marked, so none is sent again; *marked counts
 * them. Inside the caller's transaction. */
struct store_route_digest {
	int64_t ckey;
	const char *constituent, *recipients, *subject;
	int64_t rows, reports, since, until, sent;
};
enum tix_err store_route_digest_record(struct store *s, const struct store_route_digest *d,
                                       int64_t *marked, struct tix_error *err);
enum tix_err store_route_digest_list(struct store *s,
                                     int (*cb)(void *, const struct store_route_digest *),
                                     void *arg, struct tix_error *err);
/* ---- preservation requests (src/store/request.c, issue 20) ---------------- */

/* The Ed25519 signing keys of the 24/7 contact points this node acts for.
 * Adding a key retires the organisation's current one (kept, with the time
 * it was retired). Secret halves are kept as the node secret is (hex in
 * the store file) and removed from backups made without secrets. */
enum tix_err store_request_key_add(struct store *s, const char *org, const unsigned char pk[32],
                                   const unsigned char sk[64], int64_t now_us,
                                   struct tix_error *err);
/* The organisation's current key; TIX_ENOTFOUND when it has none here. */
enum tix_err store_request_key_get(struct store *s, const char *org, unsigned char pk[32],
                                   unsigned char sk[64], struct tix_error *err);

/* ---- what MISP out streams with (src/store/reports.c) ------------------ */

/* The latest versions of id (in collection c, or the whole store) in the
 * order they were added: one, or one per organisation holding an
 * observable. */
enum tix_err store_latest_get(struct store *s, const struct store_collection *c, const char *id,
                              store_row_cb cb, void *arg, struct tix_error *err);
/* The latest versions of type ("report", "grouping": whose object_refs
 * name ref; "sighting": whose sighting_of_ref is ref; NULL: reports and
 * groupings), in the order added. */
enum tix_err store_referrers(struct store *s, const struct store_collection *c, const char *ref,
                             const char *type, store_row_cb cb, void *arg, struct tix_error *err);
/* The latest versions of the given types (NULL-terminated) and of those
 * starting with type_prefix (or NULL), ordered by the day of created
 * ("YYYY-MM-DD"), then as added; only day's when day is not NULL. Walks an
 * index: constant memory, however many. */
enum tix_err store_walk_by_day(struct store *s, const struct store_collection *c, const char *day,
                               const char *const *types, const char *type_prefix, store_row_cb cb,
                               void *arg, struct tix_error *err);
/* Each day some object of the store was created on, in order. */
enum tix_err store_days(struct store *s, int (*cb)(void *arg, const char *day), void *arg,
                        struct tix_error *err);

#endif
