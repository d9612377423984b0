/*
 * values/seen.h — an exact set of 64-bit keys in bounded memory, for the
 * writers that must never write an entry twice however many they write
 * (feed entries, Suricata sids): the newest keys in a small table, the rest
 * in sorted runs in a temporary file behind a fixed-size Bloom filter.
 */
#ifndef TIX_VALUES_SEEN_H
#define TIX_VALUES_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct values_seen;

/* A set keeping at most mem_keys keys in memory (0: $TIX_SEEN_MEM_KEYS for
 * tests, else 24,576) before it moves them to its temporary file; NULL when
 * out of memory. */
struct values_seen *values_seen_new(size_t mem_keys);
/* 1 when key was not in the set (and now is), 0 when it was, -1 when the
 * set failed (out of memory, the temporary file; errno says which). After
 * a failure every call returns -1. Every key, 0 too, is a key. */
int values_seen_add(struct values_seen *s, uint64_t key);
/* Empties the set (its file too); a small table is kept for reuse. */
void values_seen_clear(struct values_seen *s);
/* The keys in the set; the runs in the temporary file (for tests). */
size_t values_seen_count(const struct values_seen *s);
size_t values_seen_runs(const struct values_seen *s);
void values_seen_free(struct values_seen *s);

/* FNV-1a 64 over the parts (a 0xff byte after each; NULL as ""), never 0:
 * the key of an entry made of up to three strings. Stable: Suricata sids
 * are derived from it, and a refresh must not renumber them. */
uint64_t values_seen_hash(const char *a, const char *b, const char *c);

#endif
