/*
 * store_int.h — what the files of src/store/ share and nobody else sees:
 * the store handle's layout and the SQL helpers.
 */
#ifndef TIX_STORE_INT_H
#define TIX_STORE_INT_H

#include <sqlite3.h>

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
	int64_t saved_stamp;  /* the value in the meta table at begin */
	uint64_t own_commits; /* write transactions this handle committed */
	struct store_qcache qcache[STORE_QCACHE];
	uint64_t qclock;
};

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
 * reading them from column col on (sqlite.c). */
#define AUD_COLS ", o.tlp, o.tlp_flags, o.owner_org, o.sharing_group, o.recipients, o.origin_node"
struct store_audience store__audience(sqlite3_stmt *st, int col);
/* A store_row from a statement selecting id, type, modified, date_added,
 * body, then AUD_COLS (sqlite.c); valid until the next step. */
struct store_row store__row(sqlite3_stmt *st);

/* Migration 4: the sharing policy's columns and tables (policy.c). */
extern const char store__schema_policy[];
/* Migration 5: federation peers, cursors, outboxes (sync.c). */
extern const char store__schema_sync[];
/* "\nA\nB\n" of a recipients list, or NULL (caller frees; policy.c). */
char *store__recipients_text(const json_t *list);

/* The SQL of the accounts statements cached in the handle (accounts.c). */
extern const char store__sql_user_get[];
extern const char store__sql_apikey_get[];
extern const char store__sql_coll_access[];

#endif
