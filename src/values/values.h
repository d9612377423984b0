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

#include <jansson.h>

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
/* values_norm_url, also saying where the host is in out: *host_at, its
 * offset (the same in s: what comes before it keeps its length), and
 * *host_len, its length without the port (an IPv6 literal with brackets). */
int values_norm_url_host(const char *s, size_t n, char *out, size_t cap, size_t *host_at,
                         size_t *host_len);
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

/* ---- extraction (src/values/extract.c) ------------------------------------
 * The values an object carries, in their normal form: the one extractor the
 * matcher's index, the correlation index of the store and every export use.
 */

enum values_kind {
	VALUES_DOMAIN = 1,    /* bytes: the normal domain name */
	VALUES_EMAIL,         /* bytes: the normal address */
	VALUES_URL,           /* bytes: the normal URL */
	VALUES_HASH,          /* bytes: the digest (16, 20, 32 or 64 bytes) */
	VALUES_IP,            /* family, addr (masked to plen), plen */
	VALUES_DOMAIN_SUFFIX, /* bytes: a domain; a pattern's LIKE '%.domain' (matcher only) */
};

#define VALUES_MAX_LEN 2048 /* bytes of a value's text; longer ones are refused */

struct values_item {
	enum values_kind kind;
	const unsigned char *bytes; /* the normal form (not NUL-terminated) */
	size_t len;
	int family;             /* VALUES_IP: 4 or 6 */
	unsigned char addr[16]; /* VALUES_IP: the network address (IPv4 in the first 4) */
	unsigned plen;          /* VALUES_IP: prefix length (32 / 128 for one address) */
	const char *stix_type;  /* the SCO type it is a value of ("file" for hashes) */
};

/* Where extracted values go: value() for each (non-zero stops), refused()
 * (may be NULL) for each value that was there but is not one (what: the
 * property, why: the reason). */
struct values_sink {
	int (*value)(void *arg, const struct values_item *v);
	void (*refused)(void *arg, const char *what, const char *why);
	void *arg;
};

struct pattern_atom;

/* The value of one pattern comparison, when an index can look it up: an
 * un-negated plain equality (=, IN) on an SCO value or a file hash,
 * ISSUBSET on an address, LIKE '%.domain' as a suffix. buf (cap bytes)
 * holds the normal form. 1 when *out is filled, 0 when the atom has no
 * such value, -1 when it names one that is malformed (*why says how). */
int values_from_atom(const struct pattern_atom *a, struct values_item *out, char *buf, size_t cap,
                     const char **why);

/* The values of an indicator's STIX pattern (pattern_version "2.0" or
 * other), every atom values_from_atom takes, suffixes excluded. Returns
 * the number of values given, or -1 when the pattern does not parse. */
int values_from_pattern(const char *pattern, size_t len, const char *pattern_version,
                        const struct values_sink *sink);

/* The values of one STIX object: an indicator's pattern (pattern_type
 * stix), an SCO's value (ipv4-addr, ipv6-addr, domain-name, url and its
 * host, email-addr), hashes of file, artifact and x509-certificate, the
 * embedded objects of a STIX 2.0 observed-data. Returns the count given. */
int values_from_object(const json_t *obj, const struct values_sink *sink);

/* What a user asks about ("evil.example", "10.0.0.0/8", an MD5, a URL, an
 * address): its kind guessed from its shape and normalised into buf.
 * 0 and *out filled, or -1 with *why. */
int values_classify(const char *s, size_t n, struct values_item *out, char *buf, size_t cap,
                    const char **why);

/* The item as text: hashes in lowercase hex, addresses as inet_ntop writes
 * them with "/plen" for ranges. Returns the length, or -1 when cap is short. */
int values_format(const struct values_item *v, char *out, size_t cap);

/* A 64-bit key of (kind, bytes) for exact lookups (not for VALUES_IP,
 * which the index keeps by address so ranges can be searched). */
uint64_t values_key(const struct values_item *v);

/* ---- decay (src/values/decay.c) --------------------------------------------- */

#define VALUES_KINDS (VALUES_DOMAIN_SUFFIX + 1)

/* Lifetime τ (days) and decay speed δ of one kind of value. */
struct values_decay_rule {
	double lifetime_days, speed;
};

struct values_decay_model {
	struct values_decay_rule rule[VALUES_KINDS]; /* by enum values_kind; [0]: others */
	double floor;           /* `tix expire` marks indicators scoring below it */
	int default_confidence; /* the base of an indicator without confidence */
};

/* IP 30 days speed 2 (falls fast), URL 60/1, domain 90/1, e-mail 180/1,
 * hash 365/0.5 (holds long), others 180/1; floor 20; confidence 50. */
void values_decay_defaults(struct values_decay_model *m);
/* base × (1 − (age/τ)^(1/δ)): base at age 0, 0 from age τ on. */
double values_decay_score(const struct values_decay_rule *r, double base, double age_days);

/* "domain", "email", "url", "hash", "ip", "domain-suffix". */
const char *values_kind_name(enum values_kind k);

#endif
