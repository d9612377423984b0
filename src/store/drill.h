/*
 * store/drill.h — the exercises of cyber drills (src/drill/, issue 23) as
 * the store keeps them (store/drill.c, migration 23).
 */
#ifndef TIX_STORE_DRILL_H
#define TIX_STORE_DRILL_H

#include "store/store.h"

struct store_drill {
	char id[64];         /* the scenario's exercise.uuid */
	char name[256];      /* exercise.name */
	char state[16];      /* loaded, running, paused, purged */
	char collection[64]; /* the exercise collection's id */
	char *scenario;      /* the scenario as loaded (JSON); store_drill_release frees it */
	int64_t scheduled_us, started_us, paused_at_us, paused_total_us, purged_us, created_us;
};

/* Stores a new exercise (its id loaded before: a store error; callers
 * look first, drill_load says why). */
enum tix_err store_drill_add(struct store *s, const struct store_drill *d, struct tix_error *err);
/* TIX_ENOTFOUND when there is none. */
enum tix_err store_drill_get(struct store *s, const char *id, struct store_drill *out,
                             struct tix_error *err);
void store_drill_release(struct store_drill *d);
/* Saves state, started, paused_at, paused_total and purged. */
enum tix_err store_drill_update(struct store *s, const struct store_drill *d,
                                struct tix_error *err);
/* The exercise (not purged) whose collection has this id: TIX_ENOTFOUND
 * (err untouched) when it is no exercise collection. */
enum tix_err store_drill_of_collection(struct store *s, const char *collection_id, char out[64],
                                       struct tix_error *err);
/* Records that inject was published at at_us (once): *added (when not
 * NULL) 0 when it was recorded already, by another transaction. */
enum tix_err store_drill_published_add(struct store *s, const char *exercise, const char *inject,
                                       int64_t at_us, int *added, struct tix_error *err);
/* Each published inject in time order; cb returns non-zero to stop. */
enum tix_err store_drill_published_list(struct store *s, const char *exercise,
                                        int (*cb)(void *, const char *, int64_t), void *arg,
                                        struct tix_error *err);
/* The id of each running exercise, oldest first (the serve clock's
 * per-second question: ids only, no scenario); cb returns non-zero to stop. */
enum tix_err store_drill_running(struct store *s, int (*cb)(void *, const char *id), void *arg,
                                 struct tix_error *err);
/* Each exercise not purged, oldest first; cb returns non-zero to stop. */
enum tix_err store_drill_list(struct store *s, int (*cb)(void *, const struct store_drill *),
                              void *arg, struct tix_error *err);

#endif
