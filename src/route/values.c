/*
 * route/values.c — the values routing compares: network ranges as numeric
 * intervals, ASNs, domain names in their A-label form (internationalised
 * names through ICU's UTS #46), contacts fit for a mail header, and
 * constituent names. Addresses themselves are parsed by src/values.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route.h"
#include "values/idna.h"
#include "values/values.h"

/* The mask of byte i of a prefix of plen bits. */
static unsigned char mask_byte(unsigned plen, int i)
{
	unsigned bits = (unsigned)i * 8;

	return plen >= bits + 8 ? 0xff
	       : plen <= bits   ? 0
	                        : (unsigned char)(0xff << (8 - (plen - bits)));
}

void route_range_complete(struct store_route_range *r)
{
	for (int i = 0; i < (r->family == 4 ? 4 : 16); i++) {
		unsigned char m = mask_byte(r->plen, i);

		r->lo[i] &= m;
		r->hi[i] = (unsigned char)(r->lo[i] | (unsigned char)~m);
	}
}

int route_range_parse(const char *text, struct store_route_range *r, char *msg, size_t msgsize)
{
	unsigned char a[16];
	unsigned plen = 0;
	int v = values_parse_cidr(text, strlen(text), a, &plen);

	memset(r, 0, sizeof(*r));
	if (v < 0) {
		snprintf(msg, msgsize, "'%.80s' is not an address range (a.b.c.d/p or x::/p)",
		         text);
		return -1;
	}
	r->family = v;
	r->plen = plen;
	for (int i = 0; i < (v == 4 ? 4 : 16); i++) {
		if ((a[i] & (unsigned char)~mask_byte(plen, i)) != 0) {
			snprintf(msg, msgsize,
			         "'%.80s' has bits set after the prefix length (did you mean the "
			         "network address?)",
			         text);
			return -1;
		}
		r->lo[i] = a[i];
	}
	route_range_complete(r);
	return 0;
}

const char *route_range_format(const struct store_route_range *r, char out[64])
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->lo, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(out, 64, "%s/%u", a, r->plen);
	return out;
}

int route_asn_parse(const char *s, int64_t *asn)
{
	int64_t v = 0;
	size_t i = 0;

	if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		i = 2;
	if (s[i] == '\0' || strlen(s + i) > 10)
		return -1;
	for (; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 4294967294LL)
		return -1;
	*asn = v;
	return 0;
}

int route_domain_norm(const char *s, size_t n, char out[254])
{
	return values_domain_ascii(s, n, out, 254);
}

int route_email_norm(const char *s, char out[321])
{
	size_t n = strlen(s);
	int r;

	if (n == 0 || n > 320)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == '"' || s[i] == ',' || s[i] == '<' ||
		    s[i] == '>' || s[i] == '(' || s[i] == ')' || (unsigned char)s[i] >= 0x7f)
			return -1;
	r = values_norm_email(s, n, out);
	if (r < 0)
		return -1;
	out[r] = '\0';
	return r;
}

int route_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return s[0] != '.' && s[0] != '-';
}

void route_group_of(const char *org, char *out, size_t size)
{
	snprintf(out, size, "route:%s", org);
}

size_t route_asn_table_parse(const char *text, size_t len,
                             void (*add)(void *, const struct store_route_range *, int64_t),
                             void (*bad)(void *, size_t line, const char *why), void *arg)
{
	const char *p = text, *end = text + len;
	size_t line = 0, good = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		char buf[256], *w[4], *save = NULL, *tok, msg[160], pfx[160];
		size_t n = (size_t)(le - p), nw = 0;
		struct store_route_range r;
		int64_t asn;

		line++;
		p = nl ? nl + 1 : end;
		if (n >= sizeof(buf)) {
			bad(arg, line, "line longer than 255 bytes");
			continue;
		}
		memcpy(buf, le - n, n);
		buf[n] = '\0';
		if (strchr(buf, '#'))
			*strchr(buf, '#') = '\0';
		for (tok = strtok_r(buf, " \t\r", &save); tok && nw < 4;
		     tok = strtok_r(NULL, " \t\r", &save))
			w[nw++] = tok;
		if (nw == 0)
			continue;
		if (nw == 3 && strchr(w[0], '/') == NULL &&
		    strspn(w[1], "0123456789") == strlen(w[1]))
			snprintf(pfx, sizeof(pfx), "%s/%s", w[0], w[1]);
		else if (nw == 2)
			snprintf(pfx, sizeof(pfx), "%s", w[0]);
		else {
			bad(arg, line, "not 'PREFIX/LEN ASN' or 'ADDRESS LEN ASN'");
			continue;
		}
		if (route_range_parse(pfx, &r, msg, sizeof(msg)) != 0) {
			bad(arg, line, msg);
			continue;
		}
		{
			char *a = w[nw - 1];

			if (*a == '{')
				a++;
			a[strcspn(a, "_,}")] = '\0';
			if (route_asn_parse(a, &asn) != 0) {
				bad(arg, line, "the origin is not an AS number");
				continue;
			}
		}
		add(arg, &r, asn);
		good++;
	}
	return good;
}
