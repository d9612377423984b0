/*
 * store/store_library.h — the resource library's index and block list in
 * the store (store/library.c, migration 24; src/library/ uses them).
 */
#ifndef TIX_STORE_LIBRARY_H
#define TIX_STORE_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One indexed resource: the latest version's body and its words. score:
 * lower is better (bm25 on SQLite, -ts_rank on PostgreSQL; 0 unranked). */
struct store_library_row {
	const char *id, *body, *words;
	size_t body_len;
	double score;
};
typedef int (*store_library_cb)(void *arg, const struct store_library_row *r);

/* The newest date_added (µs) indexed, 0 for none. */
enum tix_err store_library_indexed(struct store *s, int64_t *added, struct tix_error *err);
/* Sets the index row of id (inside store_begin/commit); body "" (and
 * words "") records a version seen but not listed (it failed the checks). */
enum tix_err store_library_put(struct store *s, const char *id, int64_t date_added,
                               const char *body, const char *words, struct tix_error *err);
/* Removes the rows of ids the store no longer holds (inside a transaction). */
enum tix_err store_library_prune(struct store *s, size_t *removed, struct tix_error *err);
/* *needs 1 when the index holds ids the store no longer holds, or (SQLite)
 * FTS5 rows are missing: then prune and fts_check have work to do. */
enum tix_err store_library_needs(struct store *s, int *needs, struct tix_error *err);
/* SQLite: makes the FTS5 tables again when they do not hold every row of
 * library_index (a store copied by tix migrate; inside a transaction). */
enum tix_err store_library_fts_check(struct store *s, struct tix_error *err);
/* Every indexed resource holding all of words (NULL-terminated word
 * prefixes; FTS5 unicode61 with diacritics folded, or PostgreSQL's
 * 'simple' tsvector) and of tri (strings of 3 characters or more of
 * scripts written without spaces: FTS5 trigram on SQLite; ignored on
 * PostgreSQL, where the caller's substring test is the only one), best
 * first; with neither, every resource by id. cb returns non-zero to stop. */
enum tix_err store_library_search(struct store *s, const char *const *words, const char *const *tri,
                                  store_library_cb cb, void *arg, struct tix_error *err);
/* The block list of URL hosts: add (add 1) or remove a host; the index is
 * emptied in the same transaction, so that the next search checks every
 * resource against the new list. */
enum tix_err store_library_block(struct store *s, const char *host, const char *reason,
                                 int64_t now_us, int add, struct tix_error *err);
enum tix_err store_library_blocked(struct store *s, void (*cb)(void *, const char *, const char *),
                                   void *arg, struct tix_error *err);

#endif
