/*
 * values/values.h — observable values and their one normal form: domains,
 * e-mail addresses, URLs, hashes, IP addresses and ranges. Shared by the
 * matcher and every module that compares or indexes values (docs/match.md,
 * "Normalisation"); no state, safe from any thread.
 */
#ifndef TIX_VALUES_H
#define TIX_VALUES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Each writes at most n (or the stated cap) bytes to out and returns the
 * length written, or -1 when the text is not such a value. */

/* Lowercase, without one trailing dot; labels of letters, digits, '-' and
 * '_', at least two labels, the last not all digits. */
int values_norm_domain(const char *s, size_t n, char *out);
/* local@domain with the local part lowercased and the domain normalised. */
int values_norm_email(const char *s, size_t n, char *out);
/* scheme://host[:port]/path?query with scheme and host lowercased and the
 * default port dropped; cap is the size of out. */
int values_norm_url(const char *s, size_t n, char *out, size_t cap);
/* A hex MD5/SHA-1/SHA-256/SHA-512 digest: its bytes in out, the count
 * returned (16, 20, 32 or 64). */
int values_hex_hash(const char *s, size_t n, unsigned char out[64]);
/* Dotted-quad IPv4 (host byte order) and textual IPv6; 0 or -1. */
int values_parse_ip4(const char *s, size_t n, uint32_t *addr);
int values_parse_ip6(const char *s, size_t n, unsigned char addr[16]);
/* "a.b.c.d/p", "x::/p" or a bare address (p = 32 / 128); addr holds an
 * IPv4 address in its first four bytes. Returns 4, 6 or -1. */
int values_parse_cidr(const char *s, size_t n, unsigned char addr[16], unsigned *plen);

/* The value of a hex digit, or -1; inline, for the hot loops. */
static inline int values_hexval(unsigned char c)
{
	if ((unsigned)c - '0' < 10u)
		return c - '0';
	c |= 0x20;
	if ((unsigned)c - 'a' < 6u)
		return c - 'a' + 10;
	return -1;
}

#endif
