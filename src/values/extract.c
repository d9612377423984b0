/*
 * values/extract.c — the values an object carries (indicator pattern atoms,
 * SCO values, hashes, URLs and their hosts, addresses and ranges), each in
 * the normal form of normalise.c: the one extractor shared by the matcher's
 * index, the store's correlation index and the correlation queries.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "pattern/pattern.h"
#include "values/mix.h"
#include "values/values.h"

const char *values_kind_name(enum values_kind k)
{
	switch (k) {
	case VALUES_DOMAIN: return "domain";
	case VALUES_EMAIL: return "email";
	case VALUES_URL: return "url";
	case VALUES_HASH: return "hash";
	case VALUES_IP: return "ip";
	case VALUES_DOMAIN_SUFFIX: return "domain-suffix";
	}
	return "?";
}

/* FNV-1a over the kind and the bytes, then a 64-bit finaliser (MurmurHash3's
 * fmix64) so that near values spread over the whole key space. */
uint64_t values_key(const struct values_item *v)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h ^= (uint64_t)v->kind;
	h *= 0x100000001b3ull;
	for (size_t i = 0; i < v->len; i++) {
		h ^= v->bytes[i];
		h *= 0x100000001b3ull;
	}
	return values_mix64(h);
}

/* An address or range in *out, masked to its prefix. */
static int ip_item(const char *s, size_t n, struct values_item *out)
{
	unsigned char a[16];
	unsigned plen;
	int fam = values_parse_cidr(s, n, a, &plen);

	if (fam < 0)
		return -1;
	memset(out->addr, 0, sizeof(out->addr));
	for (unsigned i = 0; i < (fam == 4 ? 4u : 16u); i++) {
		unsigned keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;

		out->addr[i] = (unsigned char)(a[i] & (0xff00u >> keep));
	}
	out->kind = VALUES_IP;
	out->family = fam;
	out->plen = plen;
	out->bytes = out->addr;
	out->len = fam == 4 ? 4 : 16;
	out->stix_type = fam == 4 ? "ipv4-addr" : "ipv6-addr";
	return 0;
}

/* The value of a SCO type's "value" property (ipv4-addr, ipv6-addr,
 * domain-name, url, email-addr). 1, 0 (not such a type) or -1 (*why). */
static int sco_value(const char *type, const char *s, size_t n, struct values_item *out, char *buf,
                     size_t cap, const char **why)
{
	int k;

	if (n > VALUES_MAX_LEN) {
		*why = "longer than 2048 bytes";
		return -1;
	}
	if (strcmp(type, "ipv4-addr") == 0 || strcmp(type, "ipv6-addr") == 0) {
		if (ip_item(s, n, out) != 0 ||
		    (strcmp(type, "ipv4-addr") == 0) != (out->family == 4)) {
			*why = "not an address or CIDR range of its type";
			return -1;
		}
		return 1;
	}
	if (strcmp(type, "domain-name") == 0) {
		if (n > cap || (k = values_norm_domain(s, n, buf)) <= 0) {
			*why = "not a domain name";
			return -1;
		}
		out->kind = VALUES_DOMAIN;
	} else if (strcmp(type, "url") == 0) {
		if ((k = values_norm_url(s, n, buf, cap)) <= 0) {
			*why = "not a URL";
			return -1;
		}
		out->kind = VALUES_URL;
	} else if (strcmp(type, "email-addr") == 0) {
		if (n > cap || (k = values_norm_email(s, n, buf)) <= 0) {
			*why = "not an e-mail address";
			return -1;
		}
		out->kind = VALUES_EMAIL;
	} else {
		return 0;
	}
	out->bytes = (const unsigned char *)buf;
	out->len = (size_t)k;
	out->stix_type = type;
	return 1;
}

static int hash_value(const char *type, const char *s, size_t n, struct values_item *out, char *buf,
                      size_t cap, const char **why)
{
	int k;

	if (cap < 64 || (k = values_hex_hash(s, n, (unsigned char *)buf)) <= 0) {
		*why = "not a hash of 32, 40, 64 or 128 hex digits";
		return -1;
	}
	out->kind = VALUES_HASH;
	out->bytes = (const unsigned char *)buf;
	out->len = (size_t)k;
	out->stix_type = type;
	return 1;
}

int values_from_atom(const struct pattern_atom *a, struct values_item *out, char *buf, size_t cap,
                     const char **why)
{
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (a->negated || !a->plain || a->kind != PATTERN_LIT_STRING || a->value == NULL)
		return 0;
	if (a->op == PATTERN_OP_EQ || a->op == PATTERN_OP_IN) {
		if (strcmp(a->path, "value") == 0)
			return sco_value(a->object_type, a->value, a->value_len, out, buf, cap,
			                 why);
		if ((strcmp(a->object_type, "file") == 0 ||
		     strcmp(a->object_type, "artifact") == 0) &&
		    strncmp(a->path, "hashes.", 7) == 0)
			return hash_value("file", a->value, a->value_len, out, buf, cap, why);
		return 0;
	}
	if (a->op == PATTERN_OP_ISSUBSET && strcmp(a->path, "value") == 0 &&
	    (strcmp(a->object_type, "ipv4-addr") == 0 || strcmp(a->object_type, "ipv6-addr") == 0))
		return sco_value(a->object_type, a->value, a->value_len, out, buf, cap, why);
	if (a->op == PATTERN_OP_LIKE && strcmp(a->object_type, "domain-name") == 0 &&
	    strcmp(a->path, "value") == 0 && a->value_len > 2 && memcmp(a->value, "%.", 2) == 0 &&
	    memchr(a->value + 2, '%', a->value_len - 2) == NULL &&
	    memchr(a->value + 2, '_', a->value_len - 2) == NULL && a->value_len - 2 <= cap) {
		int k = values_norm_domain(a->value + 2, a->value_len - 2, buf);

		if (k <= 0)
			return 0;
		out->kind = VALUES_DOMAIN_SUFFIX;
		out->bytes = (const unsigned char *)buf;
		out->len = (size_t)k;
		out->stix_type = "domain-name";
		return 1;
	}
	return 0;
}

/* A URL's host as a domain or an address (the index finds a URL by it). */
static int give_url_host(const struct values_item *url, const struct values_sink *sink)
{
	const unsigned char *p = url->bytes, *e = url->bytes + url->len, *h, *he;
	struct values_item host;
	char buf[256];
	int k;

	for (h = p; h + 2 < e && !(h[0] == ':' && h[1] == '/' && h[2] == '/'); h++)
		;
	if (h + 2 >= e)
		return 0;
	h += 3;
	for (he = h; he < e && *he != '/' && *he != '?' && *he != '#'; he++)
		;
	for (const unsigned char *q = h; q < he; q++)
		if (*q == '@')
			h = q + 1; /* user info */
	memset(&host, 0, sizeof(host));
	if (h < he && *h == '[') { /* [v6]:port */
		const unsigned char *rb = memchr(h, ']', (size_t)(he - h));

		if (rb == NULL || ip_item((const char *)h + 1, (size_t)(rb - h - 1), &host) != 0)
			return 0;
		return sink->value(sink->arg, &host);
	}
	for (const unsigned char *q = h; q < he; q++)
		if (*q == ':') {
			he = q;
			break;
		}
	if (he - h <= 0 || (size_t)(he - h) > sizeof(buf))
		return 0;
	if (ip_item((const char *)h, (size_t)(he - h), &host) == 0)
		return sink->value(sink->arg, &host);
	if ((k = values_norm_domain((const char *)h, (size_t)(he - h), buf)) <= 0)
		return 0;
	host.kind = VALUES_DOMAIN;
	host.bytes = (const unsigned char *)buf;
	host.len = (size_t)k;
	host.stix_type = "domain-name";
	return sink->value(sink->arg, &host);
}

/* Gives one value (and a URL's host); counts it in *given. Non-zero: stop. */
static int give(const struct values_item *v, const struct values_sink *sink, int *given)
{
	int stop = sink->value(sink->arg, v);

	(*given)++;
	if (!stop && v->kind == VALUES_URL)
		stop = give_url_host(v, sink);
	return stop;
}

static void refuse(const struct values_sink *sink, const char *what, const char *why)
{
	if (sink->refused)
		sink->refused(sink->arg, what, why);
}

int values_from_pattern(const char *pattern, size_t len, const char *pattern_version,
                        const struct values_sink *sink)
{
	struct tix_error err;
	struct pattern *p;
	struct pattern_atoms *atoms;
	int given = 0;

	p = pattern_parse(pattern, len, pattern_version_from_string(pattern_version), &err);
	if (p == NULL)
		return -1;
	if ((atoms = pattern_atoms_extract(p, &err)) == NULL) {
		pattern_free(p);
		return -1;
	}
	for (size_t i = 0; i < atoms->count; i++) {
		struct values_item v;
		char buf[VALUES_MAX_LEN + 64];
		const char *why;
		int r = values_from_atom(&atoms->atoms[i], &v, buf, sizeof(buf), &why);

		if (r < 0)
			refuse(sink, "pattern", why);
		else if (r > 0 && v.kind != VALUES_DOMAIN_SUFFIX && give(&v, sink, &given))
			break;
	}
	pattern_atoms_free(atoms);
	pattern_free(p);
	return given;
}

static int object_values(const json_t *obj, const struct values_sink *sink, int depth)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	const json_t *v;
	struct values_item item;
	char buf[VALUES_MAX_LEN + 64];
	const char *why, *key;
	int given = 0, r;

	if (type == NULL)
		return 0;
	if (strcmp(type, "indicator") == 0) {
		const char *pt = json_string_value(json_object_get(obj, "pattern_type"));

		v = json_object_get(obj, "pattern");
		if (!json_is_string(v) || (pt && strcmp(pt, "stix") != 0))
			return 0;
		r = values_from_pattern(json_string_value(v), json_string_length(v),
		                        json_string_value(json_object_get(obj, "pattern_version")),
		                        sink);
		if (r < 0)
			refuse(sink, "pattern", "does not parse");
		return r < 0 ? 0 : r;
	}
	if (strcmp(type, "observed-data") == 0 && depth == 0) {
		const json_t *objs = json_object_get(obj, "objects"), *o;

		json_object_foreach ((json_t *)objs, key, o)
			given += object_values(o, sink, depth + 1);
		return given;
	}
	if (strcmp(type, "file") == 0 || strcmp(type, "artifact") == 0 ||
	    strcmp(type, "x509-certificate") == 0) {
		const json_t *hashes = json_object_get(obj, "hashes"), *h;

		json_object_foreach ((json_t *)hashes, key, h) {
			if (!json_is_string(h))
				continue;
			r = hash_value("file", json_string_value(h), json_string_length(h), &item,
			               buf, sizeof(buf), &why);
			if (r < 0)
				refuse(sink, "hashes", why);
			else if (give(&item, sink, &given))
				return given;
		}
		return given;
	}
	v = json_object_get(obj, "value");
	if (!json_is_string(v))
		return 0;
	r = sco_value(type, json_string_value(v), json_string_length(v), &item, buf, sizeof(buf),
	              &why);
	if (r < 0)
		refuse(sink, "value", why);
	else if (r > 0)
		give(&item, sink, &given);
	return given;
}

int values_from_object(const json_t *obj, const struct values_sink *sink)
{
	return object_values(obj, sink, 0);
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (values_hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

static int has_scheme(const char *s, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, "://", 3) == 0)
			return 1;
	return 0;
}

int values_classify(const char *s, size_t n, struct values_item *out, char *buf, size_t cap,
                    const char **why)
{
	int r;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (n == 0) {
		*why = "empty";
		return -1;
	}
	if (n > VALUES_MAX_LEN) {
		*why = "longer than 2048 bytes";
		return -1;
	}
	if (all_hex(s, n) && (n == 32 || n == 40 || n == 64 || n == 128))
		return hash_value("file", s, n, out, buf, cap, why) > 0 ? 0 : -1;
	if (ip_item(s, n, out) == 0)
		return 0;
	if (has_scheme(s, n))
		r = sco_value("url", s, n, out, buf, cap, why);
	else if (memchr(s, '@', n) != NULL)
		r = sco_value("email-addr", s, n, out, buf, cap, why);
	else
		r = sco_value("domain-name", s, n, out, buf, cap, why);
	if (r <= 0) {
		*why = "not a domain, address, range, URL, e-mail address or hash";
		return -1;
	}
	return 0;
}

int values_format(const struct values_item *v, char *out, size_t cap)
{
	int n;

	if (v->kind == VALUES_IP) {
		char a[INET6_ADDRSTRLEN];

		if (inet_ntop(v->family == 4 ? AF_INET : AF_INET6, v->addr, a, sizeof(a)) == NULL)
			return -1;
		if (v->plen == (v->family == 4 ? 32u : 128u))
			n = snprintf(out, cap, "%s", a);
		else
			n = snprintf(out, cap, "%s/%u", a, v->plen);
		return n < 0 || (size_t)n >= cap ? -1 : n;
	}
	if (v->kind == VALUES_HASH) {
		static const char hex[] = "0123456789abcdef";

		if (cap < v->len * 2 + 1)
			return -1;
		for (size_t i = 0; i < v->len; i++) {
			out[2 * i] = hex[v->bytes[i] >> 4];
			out[2 * i + 1] = hex[v->bytes[i] & 15];
		}
		out[v->len * 2] = '\0';
		return (int)(v->len * 2);
	}
	if (cap < v->len + 1)
		return -1;
	memcpy(out, v->bytes, v->len);
	out[v->len] = '\0';
	return (int)v->len;
}
