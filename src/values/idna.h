/*
 * values/idna.h — internationalised domain names as ASCII (punycode).
 */
#ifndef TIX_VALUES_IDNA_H
#define TIX_VALUES_IDNA_H

#include <stddef.h>

/* A UTF-8 domain as ASCII: ICU's UTS #46 mapping to A-labels ("xn--"
 * punycode, RFC 3492) when it has a non-ASCII byte, then values_norm_domain.
 * Returns the length written to out (cap bytes, NUL-terminated), or -1
 * (bad UTF-8, too long, not a domain). */
int values_domain_ascii(const char *s, size_t n, char *out, size_t cap);

#endif
