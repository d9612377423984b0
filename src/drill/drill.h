/*
 * drill.h — cyber drills on the real exchange (issue 23, docs/drill.md): a
 * scenario in MISP's Common Exercise Format with tix's extensions (timed
 * STIX injects, expected detections), loaded, played on a clock, published
 * into an exercise collection, scored from the sightings that come back.
 */
#ifndef TIX_DRILL_H
#define TIX_DRILL_H

#include <stdio.h>

#include "core/core.h"
#include "stix/stix.h"
#include "store/drill.h"

#define DRILL_EXTENSION_DEFAULT_WINDOW 3600 /* seconds, when x_tix_expect names none */
#define DRILL_MAX_EXPECT               256  /* expected detections per scenario */
/* The longest triggered_at and window a scenario may give (seconds): a
 * year's drill, and every time computed from them fits in µs. */
#define DRILL_MAX_OFFSET (366 * 86400)

/* What every call needs: the store, the clock (µs; TIX_NOW in tests) and
 * who runs it (for the audit log). */
struct drill_ctx {
	struct store *s;
	int64_t now_us;
	const char *actor;
	const char *org; /* the organiser's organisation (owner of the injects), or NULL */
};

/* Checks a scenario (the text of a CEXF file with tix's extensions) and
 * returns it parsed, or NULL with err saying why (unknown fields, injects
 * out of order, missing payloads, a schedule in the past, ...). Nothing is
 * stored. */
json_t *drill_parse(const char *text, size_t len, int64_t now_us, struct tix_error *err);

/* Loads a checked scenario: the exercise, its collection; the id in out. */
enum tix_err drill_load(const struct drill_ctx *c, const char *text, size_t len, char out[64],
                        struct tix_error *err);

/* A starter scenario that loads (starting an hour after now_us). */
json_t *drill_starter(int64_t now_us);

/* start (now when at_now, else at the scenario's x_tix_start), pause. */
enum tix_err drill_start(const struct drill_ctx *c, const char *id, int at_now,
                         struct tix_error *err);
enum tix_err drill_pause(const struct drill_ctx *c, const char *id, struct tix_error *err);

/* Publishes every inject that is due and not yet published; *n how many. */
enum tix_err drill_tick(const struct drill_ctx *c, const char *id, size_t *n,
                        struct tix_error *err);

/* drill_tick on every running exercise (the clock of `tix serve`), each on
 * its own: an exercise that fails is logged (tix_log_error, naming it) and
 * the others are still ticked; an error only when the exercises cannot be
 * listed. */
struct drill_ids {
	char (*id)[64];
	size_t n, cap;
};
/* What the clock remembers between ticks: the running exercises whose
 * injects have all gone out (they are not read again), and those whose
 * last tick failed (logged when they begin to fail and when they publish
 * again, not once a second). Zeroed to start. */
struct drill_clock {
	struct drill_ids done, failing;
};
enum tix_err drill_tick_all(const struct drill_ctx *c, struct drill_clock *clock, size_t *n,
                            struct tix_error *err);
void drill_clock_release(struct drill_clock *clock);

/* The exercise's state and each inject's time and whether it went out. */
enum tix_err drill_status(const struct drill_ctx *c, const char *id, FILE *out,
                          struct tix_error *err);

/* Removes every object of the exercise from the store (audit kept). */
enum tix_err drill_purge(const struct drill_ctx *c, const char *id, size_t *removed,
                         struct tix_error *err);

/* Writes team's log lines (proxy, DNS and Suricata eve) with the expected
 * values planted at their injects' times (plus delay_us: a sensor that
 * saw them late). */
enum tix_err drill_logs(const struct drill_ctx *c, const char *id, const char *team,
                        int64_t delay_us, FILE *out, struct tix_error *err);

/* The scoreboard: a table to out, and a CSV, an SVG and into the object
 * js (exercise, name, state, teams[]: per team its counts and injects[])
 * when not NULL. */
enum tix_err drill_score(const struct drill_ctx *c, const char *id, FILE *out, FILE *csv, FILE *svg,
                         json_t *js, struct tix_error *err);

#endif
