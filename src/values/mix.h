/*
 * values/mix.h — MurmurHash3's 64-bit finaliser (fmix64): a bijection whose
 * output bits all depend on every input bit, for the hash tables and
 * filters of the values, the matcher and the no-repeat sets.
 */
#ifndef TIX_VALUES_MIX_H
#define TIX_VALUES_MIX_H

#include <stdint.h>

static inline uint64_t values_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
