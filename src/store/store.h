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

/* Opens (and, unless told not to, creates and migrates) the store. */
struct store *store_open(const char *path, const struct store_options *opts, struct tix_error *err);
void store_close(struct store *s);

/* The schema version this build writes. */
int store_schema_version(void);

/* ---- writing ----------------------------------------------------------- */

enum tix_err store_begin(struct store *s, struct tix_error *err);
enum tix_err store_commit(struct store *s, struct tix_error *err);
void store_rollback(struct store *s);

/* 1 when the version (id, canonical modified) is stored, 0 when not,
 * negative on a store error. */
int store_has_version(struct store *s, const char *id, const char *modified);

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
/* 1 and *vid when these bytes were stored before, 0 when not, negative on
 * a store error. */
int store_find_source(struct store *s, const struct store_source *src, int64_t *vid);
/* Adds a stored version (by the vid store_find_source gave) to a
 * collection; *added is 0 when it was already a member. */
enum tix_err store_collection_add(struct store *s, const struct store_collection *c, int64_t vid,
                                  int *added, struct tix_error *err);

/* Stores one validated version. body is its JSON text. owner_org names the
 * organisation that wrote it (may be NULL). When collection is not NULL the
 * version is added to it. src, when not NULL, records the bytes the object
 * arrived as (see store_find_source). *added is set to 1 when a new version was stored,
 * 0 when it was already there (nothing changes then, not even date_added). */
enum tix_err store_put(struct store *s, const struct stix_meta *meta, const char *body,
                       size_t body_len, const char *owner_org,
                       const struct store_collection *collection, const struct store_source *src,
                       int *added, struct tix_error *err);

/* For a version already stored (store_has_version said so): records src
 * and adds it to collection, either of which may be NULL. *added is 1 when
 * it joined the collection. Cheaper than store_put: no body is needed. */
enum tix_err store_link(struct store *s, const struct stix_meta *meta,
                        const struct store_collection *collection, const struct store_source *src,
                        int *added, struct tix_error *err);

/* ---- reading ----------------------------------------------------------- */

struct store_row {
	const char *id;
	const char *type;
	const char *modified; /* canonical form */
	int64_t date_added;   /* microseconds since the epoch */
	const char *body;
	size_t body_len;
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

#endif
