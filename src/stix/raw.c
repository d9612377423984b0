/*
 * stix/raw.c — a few top-level fields of a stored object read straight from
 * its JSON text (no tree, no copies): the one reader the matcher's index
 * and the feeds use before falling back to jansson for anything not plain.
 */
#include "stix/raw.h"

#define ws stix_raw_ws

static int is(const char *s, size_t n, const char *lit, size_t litn)
{
	return n == litn && memcmp(s, lit, n) == 0;
}

/* A string at p without escapes (an escape sends the caller to jansson). */
static const char *plain_string(const char *p, const char *e, const char **s, size_t *n)
{
	const char *q;

	if (p >= e || *p != '"')
		return NULL;
	q = stix_raw_str_stop(p + 1, (size_t)(e - p - 1));
	if (q >= e || *q != '"')
		return NULL;
	*s = p + 1;
	*n = (size_t)(q - p - 1);
	return q + 1;
}

/* Past a JSON value that is not read (p at its first byte): up to the next
 * ',' or '}' at this level, nested objects and arrays skipped whole. */
static const char *skip_value(const char *p, const char *e)
{
	int depth = 0;

	while (p < e) {
		if (*p == '"') {
			for (p++; p < e; p++) {
				p = stix_raw_str_stop(p, (size_t)(e - p));
				if (p >= e || *p == '"')
					break;
				if (*p == '\\')
					p++;
			}
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
		p++;
	}
	return NULL;
}

size_t stix_raw_fields(const char *json, size_t len, const char *const *keys, size_t nkeys,
                       struct stix_raw_fields *f)
{
	const char *p = json, *e = json + len;

	memset(f, 0, sizeof(*f));
	if (nkeys > STIX_RAW_MAX_KEYS)
		return 0;
	p = ws(p, e);
	if (p >= e || *p != '{')
		return 0;
	p = ws(p + 1, e);
	while (p < e && *p != '}') {
		const char *k, *v;
		size_t kn, vn;
		int done = 0;

		if ((p = plain_string(p, e, &k, &kn)) == NULL)
			return 0;
		p = ws(p, e);
		if (p >= e || *p != ':')
			return 0;
		p = ws(p + 1, e);
		for (size_t i = 0; i < nkeys && !done; i++) {
			if (!is(k, kn, keys[i], strlen(keys[i])))
				continue;
			if ((p = plain_string(p, e, &v, &vn)) == NULL)
				return 0;
			f->v[i].s = v;
			f->v[i].n = vn;
			done = 1;
		}
		if (!done && is(k, kn, "revoked", 7)) {
			if (e - p >= 4 && memcmp(p, "true", 4) == 0)
				f->revoked = 1;
			else if (!(e - p >= 5 && memcmp(p, "false", 5) == 0))
				return 0;
		}
		if (!done && is(k, kn, "external_references", 19))
			f->external_references = 1;
		if (!done && is(k, kn, "object_marking_refs", 19)) {
			if (p >= e || *p != '[')
				return 0;
			p = ws(p + 1, e);
			while (p < e && *p != ']') {
				if ((p = plain_string(p, e, &v, &vn)) == NULL ||
				    f->nmarks == STIX_RAW_MAX_MARKS)
					return 0;
				f->marks[f->nmarks].s = v;
				f->marks[f->nmarks++].n = vn;
				p = ws(p, e);
				if (p < e && *p == ',')
					p = ws(p + 1, e);
				else if (p < e && *p != ']')
					return 0;
			}
			if (p >= e)
				return 0;
			p++;
			done = 1;
		}
		if (!done && (p = skip_value(p, e)) == NULL)
			return 0;
		p = ws(p, e);
		if (p < e && *p == ',')
			p = ws(p + 1, e);
		else if (p < e && *p != '}')
			return 0;
	}
	if (p >= e)
		return 0;
	return (size_t)(p + 1 - json);
}
