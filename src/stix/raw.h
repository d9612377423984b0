/*
 * stix/raw.h — reading a few top-level fields of a stored STIX object's
 * JSON text without building a tree (the matcher's index and the feeds
 * read millions): plain strings only; anything else goes to jansson.
 */
#ifndef TIX_STIX_RAW_H
#define TIX_STIX_RAW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first byte of p[0..n) that is '"', '\\' or a control byte (< 0x20),
 * or p + n: sixteen bytes a step with SSE2 (part of every x86-64), else
 * eight bytes a step. */
static inline const char *stix_raw_str_stop(const char *p, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
	              ctl = _mm_set1_epi8(0x1f);

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i m = _mm_or_si128(
		        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
		        _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits)
			return p + i + (unsigned)__builtin_ctz(bits);
	}
#else
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, q, b, c;

		memcpy(&w, p + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		c = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
		c &= highs;
		if (c)
			break; /* the byte loop below finds which (any byte order) */
	}
#endif
	for (; i < n; i++)
		if (p[i] == '"' || p[i] == '\\' || (unsigned char)p[i] < 0x20)
			return p + i;
	return p + n;
}

/* Past JSON whitespace. */
static inline const char *stix_raw_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A string field's bytes inside the JSON text (no escapes, so as they
 * are); s is NULL when the object has no such field. */
struct stix_raw_str {
	const char *s;
	size_t n;
};

#define STIX_RAW_MAX_KEYS  16
#define STIX_RAW_MAX_MARKS 16

struct stix_raw_fields {
	struct stix_raw_str v[STIX_RAW_MAX_KEYS];      /* by the caller's keys */
	int revoked;                                   /* "revoked": true */
	struct stix_raw_str marks[STIX_RAW_MAX_MARKS]; /* object_marking_refs */
	size_t nmarks;
	int external_references; /* the object has some (not read) */
};

/* Reads the string fields named keys[0..nkeys) (at most STIX_RAW_MAX_KEYS),
 * "revoked" and "object_marking_refs" of the JSON object at json, which may
 * be followed by more text before json + len. Returns the object's length
 * in bytes, or 0 when it is not plain and a JSON parser must read it: not
 * an object, an escape or control byte in a key or in a string read, a
 * named field that is not a string, revoked not true/false, more than
 * STIX_RAW_MAX_MARKS markings, or malformed. */
size_t stix_raw_fields(const char *json, size_t len, const char *const *keys, size_t nkeys,
                       struct stix_raw_fields *out);

#endif
