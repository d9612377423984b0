/*
 * formats/formats_int.h — what the readers in src/formats/ share: the
 * bundle writer, MISP-style UUIDv5 ids, timestamps from Unix seconds and
 * ISO text, and pattern string literals.
 */
#ifndef TIX_FORMATS_INT_H
#define TIX_FORMATS_INT_H

#include <jansson.h>

#include "formats/formats.h"

/* Writes {"type":"bundle","id":…,"objects":[…]} into out, one object at a time. */
struct fmt_bundle {
	struct tix_buf *out;
	size_t count;
};

enum tix_err fmt_bundle_open(struct fmt_bundle *b, struct tix_buf *out);
/* Appends obj and releases the reference (also on failure). */
enum tix_err fmt_bundle_add(struct fmt_bundle *b, json_t *obj);
enum tix_err fmt_bundle_close(struct fmt_bundle *b);

/* uuid5 in MISP's namespace (76beed5f-…), which MISP's STIX export uses for
 * the ids it derives (relationships). out: 37 bytes. */
void fmt_uuid5(const char *name, char out[37]);
/* "type--uuid5(name)" into out (size bytes). */
void fmt_id5(const char *type, const char *name, char *out, size_t size);

/* Unix seconds from a JSON string of digits or an integer; -1 when neither. */
int64_t fmt_unix_of(const json_t *v);
/* Seconds from "YYYY-MM-DD[THH:MM:SS[.f]][Z|±HH:MM]", digits (Unix time)
 * or "YYYY-MM-DD HH:MM:SS". 0 on success, -1 otherwise. */
int fmt_parse_when(const char *s, int64_t *sec);
/* "2020-10-25T16:22:00.000Z" (ms = 1) or "2020-10-25T16:22:00Z". out: 32 bytes. */
const char *fmt_time(int64_t sec, int ms, char out[32]);

/* Appends 'value' as a pattern string literal (\ and ' escaped). */
enum tix_err fmt_pattern_string(struct tix_buf *b, const char *value);

#endif
