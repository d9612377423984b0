/*
 * values/normalise.c — the one normal form of each kind of observable value
 * (domains, e-mail addresses, URLs, hashes, IP addresses and ranges), shared
 * by the matcher, its warninglists and every other module that compares
 * values, so that equal things compare equal (docs/match.md, "Normalisation").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "values/values.h"

/* Per byte: its lowercase form (ASCII only), and whether it may be in a
 * label (1) and is a letter (2). Constant, so no set-up and no race. */
static const unsigned char lower_tab[256] = {
        0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  16,  17,
        18,  19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,
        36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,
        54,  55,  56,  57,  58,  59,  60,  61,  62,  63,  64,  97,  98,  99,  100, 101, 102, 103,
        104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
        122, 91,  92,  93,  94,  95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107,
        108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
        126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,
        144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161,
        162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179,
        180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197,
        198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215,
        216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233,
        234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251,
        252, 253, 254, 255,
};
static const unsigned char label_tab[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 0, 0, 0, 0, 1, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Lowercase, without one trailing dot; labels of letters, digits, '-' and
 * '_', at least two labels, the last not all digits. out holds n bytes. */
int values_norm_domain(const char *s, size_t n, char *out)
{
	size_t label = 0, dots = 0;
	unsigned alpha_last = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned k;

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			dots++;
			alpha_last = 0;
			out[i] = '.';
			continue;
		}
		k = label_tab[c];
		if (!k || ++label > 63)
			return -1;
		alpha_last |= k & 2;
		out[i] = (char)lower_tab[c];
	}
	if (label == 0 || dots == 0 || !alpha_last)
		return -1;
	return (int)n;
}

int values_norm_email(const char *s, size_t n, char *out)
{
	const char *at = memchr(s, '@', n);
	size_t local;
	int d;

	if (at == NULL || at == s || n > 320)
		return -1;
	local = (size_t)(at - s);
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || strchr("._%+-=!#$&'*/?^`{|}~", c)) || c == '\0')
			return -1;
		out[i] = (char)tolower(c);
	}
	out[local] = '@';
	d = values_norm_domain(at + 1, n - local - 1, out + local + 1);
	return d < 0 ? -1 : (int)local + 1 + d;
}

/* scheme://[userinfo@]host[:port][/path][?query][#fragment]: the scheme
 * and host lowercased, a trailing dot of the host, the default port of
 * http (80) and https (443) and the fragment dropped, an empty path made
 * "/". Everything else is kept byte for byte. */
int values_norm_url_host(const char *s, size_t n, char *out, size_t cap, size_t *host_at,
                         size_t *host_len)
{
	size_t i = 0, o = 0, auth, host, hend, port = 0, pstart, end = n;
	const char *hash = memchr(s, '#', n);
	int http, https;

	if (cap < n + 1)
		return -1;
	if (hash)
		end = (size_t)(hash - s);
	while (i < end &&
	       (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i == 0 || !isalpha((unsigned char)s[0]) || i + 3 > end || memcmp(s + i, "://", 3) != 0)
		return -1;
	for (size_t k = 0; k < i; k++)
		out[o++] = (char)tolower((unsigned char)s[k]);
	http = i == 4 && memcmp(out, "http", 4) == 0;
	https = i == 5 && memcmp(out, "https", 5) == 0;
	memcpy(out + o, "://", 3);
	o += 3;
	auth = host = i + 3;
	for (pstart = auth; pstart < end && s[pstart] != '/' && s[pstart] != '?'; pstart++)
		if (s[pstart] == '@')
			host = pstart + 1;
	memcpy(out + o, s + auth, host - auth); /* user information, as it is */
	o += host - auth;
	if (host < pstart && s[host] == '[') {
		const char *rb = memchr(s + host, ']', pstart - host);

		if (rb == NULL)
			return -1;
		hend = (size_t)(rb - s) + 1;
	} else {
		const char *colon = memchr(s + host, ':', pstart - host);

		hend = colon ? (size_t)(colon - s) : pstart;
	}
	if (hend < pstart) {
		if (s[hend] != ':')
			return -1;
		port = hend + 1;
	}
	{
		size_t hl = hend;

		if (hl > host && s[hl - 1] == '.')
			hl--;
		if (hl == host)
			return -1;
		*host_at = o; /* = host: the scheme and user information keep their length */
		*host_len = hl - host;
		for (size_t k = host; k < hl; k++)
			out[o++] = (char)tolower((unsigned char)s[k]);
	}
	if (port) {
		size_t plen = pstart - port;
		int dflt = plen == 0 || (http && plen == 2 && memcmp(s + port, "80", 2) == 0) ||
		           (https && plen == 3 && memcmp(s + port, "443", 3) == 0);

		if (!dflt) {
			out[o++] = ':';
			memcpy(out + o, s + port, plen);
			o += plen;
		}
	}
	if (pstart == end || s[pstart] == '?')
		out[o++] = '/';
	memcpy(out + o, s + pstart, end - pstart);
	o += end - pstart;
	return (int)o;
}

int values_norm_url(const char *s, size_t n, char *out, size_t cap)
{
	size_t at, len;

	return values_norm_url_host(s, n, out, cap, &at, &len);
}

int values_hex_hash(const char *s, size_t n, unsigned char out[64])
{
	if (n != 32 && n != 40 && n != 64 && n != 128)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = values_hexval((unsigned char)s[i]),
		    lo = values_hexval((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

/* Four decimal octets 0..255 of one to three digits. Octet by octet, with
 * the digits unrolled: the matcher parses every dotted number of a log. */
int values_parse_ip4(const char *s, size_t n, uint32_t *addr)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	uint32_t a = 0;

	for (int k = 0; k < 4; k++) {
		unsigned v, d;

		if (p >= e || (v = (unsigned)*p - '0') > 9)
			return -1;
		p++;
		if (p < e && (d = (unsigned)*p - '0') <= 9) {
			v = v * 10 + d;
			p++;
			if (p < e && (d = (unsigned)*p - '0') <= 9) {
				v = v * 10 + d;
				p++;
				if (v > 255)
					return -1;
			}
		}
		a = a << 8 | v;
		if (k < 3) {
			if (p >= e || *p != '.')
				return -1;
			p++;
		}
	}
	if (p != e)
		return -1;
	*addr = a;
	return 0;
}

int values_parse_ip6(const char *s, size_t n, unsigned char addr[16])
{
	char tmp[64];
	size_t colons = 0, dots = 0;

	if (n < 2 || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++) {
		colons += s[i] == ':';
		dots += s[i] == '.';
	}
	/* a dot only in a trailing dotted quad: none or three (a time such as
	 * 14:13:21.692 is not worth a call to inet_pton) */
	if (colons == 0 || (dots != 0 && dots != 3))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1 ? 0 : -1;
}

int values_parse_cidr(const char *s, size_t n, unsigned char addr[16], unsigned *plen)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned max, p = 0;
	uint32_t a4;
	int v;

	if (values_parse_ip4(s, alen, &a4) == 0) {
		v = 4;
		max = 32;
		memset(addr, 0, 16);
		addr[0] = (unsigned char)(a4 >> 24);
		addr[1] = (unsigned char)(a4 >> 16);
		addr[2] = (unsigned char)(a4 >> 8);
		addr[3] = (unsigned char)a4;
	} else if (values_parse_ip6(s, alen, addr) == 0) {
		v = 6;
		max = 128;
	} else {
		return -1;
	}
	if (slash == NULL) {
		*plen = max;
		return v;
	}
	if (n - alen - 1 == 0 || n - alen - 1 > 3)
		return -1;
	for (size_t i = alen + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (unsigned)(s[i] - '0');
	}
	if (p > max)
		return -1;
	*plen = p;
	return v;
}
