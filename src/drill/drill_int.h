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

/* A loaded exercise and its scenario parsed. */
struct drill_run {
	struct store_drill d;
	json_t *sc;
};
enum tix_err drill__open(const struct drill_ctx *c, const char *id, struct drill_run *r,
                         struct tix_error *err);
void drill__close(struct drill_run *r);
/* The id an object of the scenario gets in this exercise (type--UUIDv5 of
 * the exercise and the scenario's id), into out. */
void drill__object_id(const struct drill_run *r, const char *scenario_id, char out[128]);
/* When each inject was published (µs), or 0: not yet. */
int64_t drill__published_at(const struct drill_ctx *c, const struct drill_run *r,
                            const char *inject);

#endif
