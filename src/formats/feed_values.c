/*
 * formats/feed_values.c — helpers of the feed writers that belong with the
 * observable values (to fold into src/values/ later): internationalised
 * domains as ASCII (punycode, RFC 3492) and a set of 64-bit value hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/feed_int.h"
#include "values/values.h"

uint64_t feed_hash(const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 3; i++) {
		for (const char *s = parts[i] ? parts[i] : ""; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 1099511628211ull;
		}
		h ^= 0xff;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

int feed_seen_add(struct feed_seen *s, uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if ((s->n + 1) * 4 > s->cap * 3) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *nv = calloc(ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		for (size_t k = 0; k < s->cap; k++)
			if (s->v[k]) {
				for (i = (size_t)(s->v[k] & (ncap - 1)); nv[i];
				     i = (i + 1) & (ncap - 1))
					;
				nv[i] = s->v[k];
			}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	for (i = (size_t)(h & (s->cap - 1)); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 0;
	s->v[i] = h;
	s->n++;
	return 1;
}

void feed_seen_release(struct feed_seen *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* One UTF-8 code point from s[*i..n); -1 on a bad sequence (overlong,
 * surrogate, beyond U+10FFFF, truncated). */
static long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	long cp;
	int more;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		cp = c & 0x1f;
		more = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		cp = c & 0x0f;
		more = 2;
	} else if (c >= 0xf0 && c <= 0xf4) {
		cp = c & 0x07;
		more = 3;
	} else {
		return -1;
	}
	if (*i + (size_t)more >= n)
		return -1;
	for (int k = 1; k <= more; k++) {
		if ((s[*i + (size_t)k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + (size_t)k] & 0x3f);
	}
	if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += (size_t)more + 1;
	return cp;
}

static char digit(unsigned long d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static unsigned long adapt(unsigned long delta, unsigned long npoints, int first)
{
	unsigned long k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

/* RFC 3492 encoding of one label's code points; appends to out. -1 when
 * it does not fit. */
static int punycode(const long *cp, size_t ncp, char *out, size_t *o, size_t cap)
{
	unsigned long n = 128, delta = 0, bias = 72, h, b = 0;

	for (size_t j = 0; j < ncp; j++)
		if (cp[j] < 128) {
			if (*o + 1 >= cap)
				return -1;
			out[(*o)++] = (char)cp[j];
			b++;
		}
	h = b;
	if (b > 0) {
		if (*o + 1 >= cap)
			return -1;
		out[(*o)++] = '-';
	}
	while (h < ncp) {
		unsigned long m = 0x10ffff + 1;

		for (size_t j = 0; j < ncp; j++)
			if ((unsigned long)cp[j] >= n && (unsigned long)cp[j] < m)
				m = (unsigned long)cp[j];
		delta += (m - n) * (h + 1);
		n = m;
		for (size_t j = 0; j < ncp; j++) {
			if ((unsigned long)cp[j] < n)
				delta++;
			if ((unsigned long)cp[j] == n) {
				unsigned long q = delta;

				for (unsigned long k = 36;; k += 36) {
					unsigned long t = k <= bias        ? 1
					                  : k >= bias + 26 ? 26
					                                   : k - bias;

					if (q < t)
						break;
					if (*o + 1 >= cap)
						return -1;
					out[(*o)++] = digit(t + (q - t) % (36 - t));
					q = (q - t) / (36 - t);
				}
				if (*o + 1 >= cap)
					return -1;
				out[(*o)++] = digit(q);
				bias = adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		n++;
	}
	return 0;
}

static int domain_ascii(const char *s, size_t n, char *out, size_t cap)
{
	char ascii[512];
	size_t o = 0, i = 0;
	int any = 0;

	for (size_t k = 0; k < n; k++)
		any |= (unsigned char)s[k] >= 0x80;
	if (!any) {
		if (n >= cap)
			return -1;
		return values_norm_domain(s, n, out);
	}
	while (i < n) {
		long cp[64];
		size_t ncp = 0, start = i;
		int wide = 0;

		while (i < n && s[i] != '.') {
			long c = utf8_next((const unsigned char *)s, n, &i);

			if (c < 0 || ncp == 64)
				return -1;
			if (c >= 'A' && c <= 'Z')
				c += 32;
			wide |= c >= 128;
			cp[ncp++] = c;
		}
		if (ncp == 0 && i < n)
			return -1;
		if (wide) {
			if (o + 4 >= sizeof(ascii))
				return -1;
			memcpy(ascii + o, "xn--", 4);
			o += 4;
			if (punycode(cp, ncp, ascii, &o, sizeof(ascii)) != 0)
				return -1;
		} else {
			if (o + (i - start) >= sizeof(ascii))
				return -1;
			memcpy(ascii + o, s + start, i - start);
			o += i - start;
		}
		if (i < n) {
			if (o + 1 >= sizeof(ascii))
				return -1;
			ascii[o++] = '.';
			i++;
		}
	}
	if (o >= cap)
		return -1;
	return values_norm_domain(ascii, o, out);
}

int feed_domain_ascii(const char *s, size_t n, char *out, size_t cap)
{
	int len = cap > 0 ? domain_ascii(s, n, out, cap - 1) : -1;

	if (len >= 0)
		out[len] = '\0';
	return len;
}
