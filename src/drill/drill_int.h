/*
 * drill_int.h — what the files of src/drill/ share: the scenario's lookups
 * and an exercise as play and scoring read it.
 */
#ifndef TIX_DRILL_INT_H
#define TIX_DRILL_INT_H

#include "drill/drill.h"

const char *drill__str(const json_t *o, const char *k);
/* The entry of list whose "uuid" is uuid, or NULL. */
const json_t *drill__find(const json_t *list, const char *uuid);
/* A flow step's timing.triggered_at (seconds; null or none: 0). */
double drill__at(const json_t *flow_step);

/* An inject that went out, and when. */
struct drill_pub {
	char inject[64];
	int64_t at;
};

/* A loaded exercise, its scenario parsed, and its published injects (read
 * once, sorted by inject). */
struct drill_run {
	struct store_drill d;
	json_t *sc;
	struct drill_pub *pub;
	size_t npub, cappub;
};
enum tix_err drill__open(const struct drill_ctx *c, const char *id, struct drill_run *r,
                         struct tix_error *err);
void drill__close(struct drill_run *r);
/* The id an object of the scenario gets in this exercise (type--UUIDv5 of
 * the exercise and the scenario's id), into out. */
void drill__object_id(const struct drill_run *r, const char *scenario_id, char out[128]);
/* When the inject was published (µs), or 0: not yet (as drill__open read
 * it). */
int64_t drill__published_at(const struct drill_run *r, const char *inject);

#endif
