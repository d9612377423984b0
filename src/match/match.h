/*
 * match.h — the sensor side of tix: a compiled index of active STIX
 * indicators, and scanners that find their values in text, JSON-lines and
 * Zeek TSV logs at line rate (`tix match`, docs/match.md).
 *
 * Invariants:
 * - A struct match_index is immutable once built or loaded, so threads may
 *   share it. Its memory is one flat, position-independent blob: the same
 *   bytes are written by match_index_write() and mapped by
 *   match_index_load(), which checks every count and offset before use, so
 *   a corrupt or hostile file gives TIX_EPARSE, never a crash.
 * - A struct match_scanner is used by one thread. Its memory is bounded by
 *   max_line whatever the input: longer lines are skipped and counted.
 * - Values are compared normalised (docs/match.md): hashes as bytes, domains
 *   and e-mail addresses lowercased without a trailing dot, URLs with a
 *   lowercased scheme and host and without a default port or fragment,
 *   IP addresses as numbers.
 */
#ifndef TIX_MATCH_H
#define TIX_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

/* ---- warninglists ------------------------------------------------------- */

/* MISP warninglists (the JSON of the misp-warninglists repository): lists of
 * known-benign values (public resolvers, top sites, RFC 1918 ranges...). */
struct match_warninglists;

struct match_warninglists *match_warninglists_new(void);
void match_warninglists_free(struct match_warninglists *w);
/* Loads one list.json, or every list.json below a directory. Types string,
 * hostname, substring and cidr are used; regex lists are skipped with a
 * warning on the log. */
enum tix_err match_warninglists_load(struct match_warninglists *w, const char *path,
                                     struct tix_error *err);
size_t match_warninglists_count(const struct match_warninglists *w);
/* The name of the first list that holds value (of the given STIX type:
 * "ipv4-addr", "domain-name", "url", "file"...), or NULL. */
const char *match_warninglists_hit(const struct match_warninglists *w, const char *stix_type,
                                   const char *value, size_t len);
/* Checks the atoms of an indicator's pattern; returns the list name of the
 * first equality atom that is on a list, or NULL. */
const char *match_warninglists_check_indicator(const struct match_warninglists *w,
                                               const json_t *indicator);

/* ---- building the index ----------------------------------------------- */

struct match_builder;

enum match_add {
	MATCH_ADDED,       /* indexed */
	MATCH_INACTIVE,    /* revoked, or now is outside valid_from/valid_until */
	MATCH_NOT_STIX,    /* pattern_type is not "stix" */
	MATCH_UNINDEXABLE, /* no atom an index can look up (e.g. only MATCHES) */
	MATCH_INVALID      /* not an indicator, or its pattern does not parse */
};

/* warn may be NULL: then no indicator is flagged. */
struct match_builder *match_builder_new(const struct match_warninglists *warn);
void match_builder_free(struct match_builder *b);
/* Adds one indicator object if it is active at now_us (microseconds since
 * the epoch). Returns what happened; TIX_ENOMEM is reported as
 * MATCH_INVALID with err set. */
enum match_add match_builder_add(struct match_builder *b, const json_t *indicator, int64_t now_us,
                                 struct tix_error *err);
/* The same from the JSON text of one object, read without building a JSON
 * tree when it is plain (jansson is used otherwise). Sets *not_indicator
 * when the object is of another type (and returns MATCH_INVALID). */
enum match_add match_builder_add_raw(struct match_builder *b, const char *json, size_t len,
                                     int64_t now_us, int *not_indicator, struct tix_error *err);
/* The same from an object that starts at json, followed by more of a
 * document (up to json + avail), in one pass: when the object is plain,
 * adds it, sets *used to its length and *res, and returns 1; otherwise
 * adds nothing and returns 0 (find the object's extent, then add_raw). */
int match_builder_add_prefix(struct match_builder *b, const char *json, size_t avail,
                             int64_t now_us, size_t *used, enum match_add *res, int *not_indicator,
                             struct tix_error *err);
/* Compiles the index and frees the builder (also on failure). */
struct match_index *match_builder_finish(struct match_builder *b, struct tix_error *err);

/* ---- the index ------------------------------------------------------------ */

struct match_index;

/* Writes the index file (atomically: a temporary file renamed over path). */
enum tix_err match_index_write(const struct match_index *x, const char *path,
                               struct tix_error *err);
/* Maps an index file read-only and checks it. */
struct match_index *match_index_load(const char *path, struct tix_error *err);
/* Checks and copies an index image held in memory (for tests and fuzzing). */
struct match_index *match_index_from_memory(const void *data, size_t len, struct tix_error *err);
void match_index_free(struct match_index *x);

struct match_index_stats {
	size_t indicators; /* indexed indicators */
	size_t values;     /* indexed values (an IN set gives several) */
	size_t ipv4, cidr, strings, confirm;
	size_t flagged; /* indicators on a warninglist */
	size_t bytes;   /* size of the index image */
};
void match_index_get_stats(const struct match_index *x, struct match_index_stats *st);

struct match_indicator {
	char id[64];             /* "indicator--<uuid>" */
	const char *name;        /* "" when it has none */
	const char *tlp;         /* "clear", "green", "amber", "amber+strict", "red" or NULL */
	const char *warninglist; /* the list it hit, or NULL */
};
size_t match_index_count(const struct match_index *x);
void match_index_indicator(const struct match_index *x, uint32_t i, struct match_indicator *out);

/* ---- log timestamps (logtime.c) ------------------------------------------------ */

/* The time a log line says it was written, in µs since the epoch, or 0 when
 * it says none: nginx/Apache combined "[10/Oct/2026:13:55:36 -0700]", syslog
 * (RFC 5424, or RFC 3164 "Oct 11 22:14:15" in now_us's year, the year
 * before when that is more than a day ahead), ISO 8601 at the start (no
 * zone: UTC), JSON lines' "timestamp" (Suricata EVE), "ts" (Zeek; a string
 * or epoch seconds), "@timestamp", "time". */
int64_t match_log_time(const char *line, size_t n, int64_t now_us);
/* Epoch seconds with an optional fraction ("1700000000.123456"), as µs; 0
 * when it is not such a number. */
int64_t match_epoch_time(const char *s, size_t n);

/* ---- scanning ------------------------------------------------------------------ */

enum match_format { MATCH_FORMAT_AUTO, MATCH_FORMAT_TEXT, MATCH_FORMAT_JSONL, MATCH_FORMAT_ZEEK };

/* "auto", "text", "jsonl", "zeek"; returns -1 for anything else. */
int match_format_parse(const char *s, enum match_format *out);

struct match_hit {
	uint64_t line;     /* from 1 */
	uint64_t offset;   /* byte offset of the value in the input (0-based) */
	const char *field; /* JSON key path or Zeek field name; NULL for text */
	const char *value; /* the normalised value that matched (NUL-terminated) */
	uint32_t indicator;
	int flagged; /* the indicator is on a warninglist (reported only with
	                suppress_flagged off) */
	/* With match_scan_opts.line_keys (else 0): */
	int64_t time_us;   /* the time the line says (match_log_time), 0: none */
	uint64_t line_key; /* a 64-bit digest of the line's bytes */
};

/* Return non-zero to stop scanning. */
typedef int (*match_hit_cb)(void *arg, const struct match_hit *hit);

#define MATCH_DEFAULT_MAX_LINE ((size_t)1 << 20)

struct match_scan_opts {
	enum match_format format;
	int subdomains;       /* a.b.evil.example matches evil.example */
	int suppress_flagged; /* drop matches of indicators on a warninglist */
	size_t max_line;      /* 0: MATCH_DEFAULT_MAX_LINE */
	int line_keys;        /* fill match_hit.time_us and line_key (for sightings) */
	int64_t now_us;       /* for years syslog lines leave out (line_keys) */
};

struct match_scan_stats {
	uint64_t lines, bytes, hits, hit_lines, suppressed;
	uint64_t long_lines, binary_lines, bad_utf8_lines, bad_json_lines;
	uint64_t tokens; /* candidate values looked up */
};

struct match_scanner;

struct match_scanner *match_scanner_new(const struct match_index *x,
                                        const struct match_scan_opts *opts, match_hit_cb cb,
                                        void *arg);
void match_scanner_free(struct match_scanner *s);
/* Starts a new input: line numbers and offsets restart, the format is
 * detected again when it is auto. */
void match_scanner_begin(struct match_scanner *s);
/* Scans the next bytes of the input; a line may span calls. Returns 1 when
 * the callback asked to stop, 0 otherwise. */
int match_scanner_feed(struct match_scanner *s, const char *data, size_t len);
/* Ends the input: scans a last line without a newline. */
int match_scanner_end(struct match_scanner *s);
/* Counters summed over every input since match_scanner_new. */
void match_scanner_get_stats(const struct match_scanner *s, struct match_scan_stats *st);

#endif
