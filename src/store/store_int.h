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
	ST_COUNT
};

/* Per-thread: SQLite connections are not shared between threads here. */
struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int in_tx;
	int64_t last_stamp;  /* within a transaction: the last stamp handed out */
	int64_t saved_stamp; /* the value in the meta table at begin */
};

enum tix_err store__db_error(struct store *s, struct tix_error *err, const char *what);
enum tix_err store__exec(struct store *s, const char *sql, struct tix_error *err);

/* The accounts schema, one migration (src/store/accounts.c). */
extern const char store__schema_accounts[];
/* The SQL of the accounts statements cached in the handle (accounts.c). */
extern const char store__sql_user_get[];
extern const char store__sql_apikey_get[];
extern const char store__sql_coll_access[];

#endif
