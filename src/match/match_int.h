/*
 * match/match_int.h — what the files of src/match share: the index image
 * layout, value normalisation and hashing. Only the files of src/match include it.
 */
#ifndef TIX_MATCH_INT_H
#define TIX_MATCH_INT_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "match/match.h"
#include "stix/raw.h"
#include "values/mix.h"
#include "values/values.h"

#define MATCH_MAGIC   "TIXMIDX"
#define MATCH_VERSION 1u
#define MATCH_ENDIAN  0x01020304u

/* Kinds of string values in the hash table. */
enum { MK_DOMAIN = 1, MK_SUFFIX = 2, MK_URL = 3, MK_EMAIL = 4, MK_HASH = 5 };

/* Bits of the per-indicator meta byte: TLP in the low 3 bits. */
#define MM_TLP_MASK 7u
#define MM_FLAGGED  8u
#define MM_CONFIRM  16u

#define MATCH_IND_BYTES 20 /* uuid[16], name_off u32 */

/* The image header; every section is 8-byte aligned. */
struct match__header {
	char magic[8];
	uint32_t version, endian;
	uint64_t size;
	uint32_t n_ind, n_values, str_cap, ip4_cap;
	uint32_t n_cidr4, n_cidr6, n_confirm, n_flag;
	uint32_t has_suffix, pad;
	uint64_t cidr4_plens;    /* bit p: some IPv4 range has prefix length p */
	uint64_t cidr6_plens[3]; /* bits 0..128 */
	uint64_t ind_off, meta_off, str_off, ip4_off, cidr4_off, cidr6_off, confirm_off, flag_off;
	uint64_t pool_off, pool_size;
};

struct match__slot {
	uint32_t tag; /* high half of the value's hash */
	uint32_t off; /* pool record: ind u32, kind u8, len u16, bytes; 0 = empty */
};
struct match__ip4 {
	uint32_t addr;
	uint32_t ind1; /* indicator + 1; 0 = empty */
};
struct match__cidr4 {
	uint32_t net, plen, ind;
};
struct match__cidr6 {
	uint8_t net[16];
	uint32_t plen, ind;
};
struct match__ref {
	uint32_t ind, off, aux; /* confirm: pattern text, version; flag: list name */
};

struct match_index {
	const unsigned char *base;
	size_t size;
	int mapped; /* munmap rather than free */
	const struct match__header *h;
	const unsigned char *ind, *meta, *pool;
	const struct match__slot *str;
	const struct match__ip4 *ip4;
	const struct match__cidr4 *cidr4;
	const struct match__cidr6 *cidr6;
	const struct match__ref *confirm, *flag;
	/* A blocked Bloom filter over the keys of the string and IPv4 tables,
	 * derived from them when the index is checked (never stored): a
	 * lookup whose key is not in it reads no table slot. 1 << filter_bits
	 * words, 8 to 16 bits per key: 1 to 2 MiB for 1M values, where the
	 * tables take 16 (scan.c prefetches its words, then the slots). */
	uint64_t *filter;
	unsigned filter_bits;
};

static inline uint64_t match__mix(uint64_t x)
{
	return values_mix64(x);
}

static inline uint64_t match__hash(unsigned kind, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)kind << 56) ^ n, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x2127599bf4325c37ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0x2127599bf4325c37ULL;
	return match__mix(h);
}

static inline uint32_t match__ip4_slot(uint32_t addr, uint32_t mask)
{
	return (uint32_t)(match__mix(addr) & mask);
}

/* The filter keys: the slot's tag for a string (the high half of its
 * hash), the high half of the address's mix for an IPv4 address (whose
 * low bits choose its slot). */
static inline uint32_t match__ip4_key(uint32_t addr)
{
	return (uint32_t)(match__mix(addr) >> 32);
}

/* The filter word of a key (w) and the three bits the key sets in it: no
 * value of the tables has the key unless all three are set there. */
static inline uint64_t match__filter_word(const struct match_index *x, uint32_t key, size_t *w)
{
	uint64_t g = (uint64_t)key * 0x9e3779b97f4a7c15ULL;

	*w = (size_t)(g >> (64 - x->filter_bits)) & (((size_t)1 << x->filter_bits) - 1);
	return (1ULL << ((g >> 14) & 63)) | (1ULL << ((g >> 20) & 63)) | (1ULL << ((g >> 26) & 63));
}

/* Builds the byte tables of the tokenizer. Called by every constructor,
 * before any thread can use them. */
void match__init_scan_tables(void);

/* Set to make the scanners use the reference tokenizer, which reads
 * spans and pieces in separate passes (scan.c; the tests compare). */
extern int match__reference_tokenizer;

struct pattern_atoms;
/* The warninglist name of the first equality atom on a list, or NULL. */
const char *match__warninglists_check_atoms(const struct match_warninglists *w,
                                            const struct pattern_atoms *a);

/* Lookups (index.c). Each calls fn for every indicator the value hits.
 * The caller tests the filter first (match__filter_word): a string it
 * lacks is not looked up; for an address, in_table says whether the
 * address table may hold it (the ranges are searched either way). */
typedef void (*match__found_fn)(void *arg, uint32_t ind);
void match__lookup_str(const struct match_index *x, unsigned kind, const void *v, size_t n,
                       uint64_t h, match__found_fn fn, void *arg);
void match__lookup_ip4(const struct match_index *x, uint32_t addr, int in_table, match__found_fn fn,
                       void *arg);
void match__lookup_ip6(const struct match_index *x, const unsigned char addr[16],
                       match__found_fn fn, void *arg);
/* The pattern text and version of an indicator that needs confirming, or NULL. */
const char *match__confirm_pattern(const struct match_index *x, uint32_t ind, unsigned *version);
unsigned match__meta(const struct match_index *x, uint32_t ind);

#endif
