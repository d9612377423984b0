/*
 * stix/json.c — jansson with the limits hostile input needs: duplicate keys
 * and invalid UTF-8 rejected, nesting depth capped, and errors that say
 * where (line and column) and what.
 */
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_int.h"

int stix_json_depth(const json_t *v, int limit)
{
	int max = 0, d;
	size_t i;
	const char *k;
	json_t *c;

	if (limit < 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, k, c) {
			d = stix_json_depth(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, c) {
			d = stix_json_depth(c, limit - 1);
			if (d > max)
				max = d;
			if (max > limit)
				break;
		}
	} else {
		return 1;
	}
	return max + 1;
}

json_t *stix_json_parse(const char *data, size_t len, const char *source, struct tix_error *err)
{
	json_error_t je;
	json_t *v;
	char where[160];

	v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (v == NULL) {
		snprintf(where, sizeof(where), "%s:%d:%d", source ? source : "<input>", je.line,
		         je.column);
		tix_error_set(err, TIX_EPARSE, where, "%s: %s",
		              strstr(je.text, "unable to decode byte") ? "invalid UTF-8"
		                                                       : "malformed JSON",
		              je.text);
		return NULL;
	}
	if (stix_json_depth(v, STIX_MAX_DEPTH) > STIX_MAX_DEPTH) {
		json_decref(v);
		tix_error_set(err, TIX_EINVAL, source ? source : "<input>",
		              "JSON nested deeper than %d levels", STIX_MAX_DEPTH);
		return NULL;
	}
	return v;
}

enum tix_err stix_json_dump(const json_t *obj, struct tix_buf *out)
{
	size_t want = 4096, n;
	char *space;

	/* json_dumpb writes into the buffer in one go (a callback per token is
	 * several times slower); when the room was too small it says how much
	 * is needed, and the second try fits. */
	for (int tries = 0; tries < 2; tries++) {
		if ((space = tix_buf_space(out, want)) == NULL)
			return TIX_ENOMEM;
		n = json_dumpb(obj, space, want, JSON_COMPACT | JSON_ENCODE_ANY);
		if (n == 0)
			return TIX_ENOMEM;
		if (n <= want) {
			tix_buf_commit(out, n);
			return TIX_OK;
		}
		want = n;
	}
	return TIX_ENOMEM;
}

enum tix_err stix_json_minify(const char *raw, size_t len, struct tix_buf *out)
{
	char *dst = tix_buf_space(out, len);
	size_t n = 0, i = 0;

	if (dst == NULL)
		return TIX_ENOMEM;
	while (i < len) {
		char c = raw[i];

		if (c == '"') {
			/* Copy a string whole, escapes included. */
			size_t start = i++;

			while (i < len && raw[i] != '"')
				i += raw[i] == '\\' ? 2 : 1;
			if (i >= len)
				return TIX_EPARSE;
			i++;
			memcpy(dst + n, raw + start, i - start);
			n += i - start;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
		} else {
			dst[n++] = c;
			i++;
		}
	}
	tix_buf_commit(out, n);
	return TIX_OK;
}

/* ---- the fast path of reading an object ---------------------------------
 * jansson's own parser reads a byte at a time through a stream (about 160
 * instructions a byte, a third of an import). The common shape of a STIX
 * object (ASCII strings with the short escapes, integers, true, false,
 * null, objects and arrays) is parsed here straight into the same jansson
 * values, in the same key order. Anything else (non-ASCII bytes, \u
 * escapes, reals, long integers, duplicate keys, too deep, malformed) is
 * left to jansson: the caller parses the object again with json_loadb,
 * which gives the value or the error exactly as before. */

struct fast {
	const char *p, *end;
	char *buf; /* unescaped strings */
	size_t cap;
	int spaced; /* white space seen between tokens */
};

static json_t *fast_value(struct fast *f, int depth_left);

static void fast_ws(struct fast *f)
{
	const char *p = f->p;

	while (p < f->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	f->spaced |= p != f->p;
	f->p = p;
}

/* The string at f->p (its opening quote): its bytes in *s and *len, in
 * the input when it has no escape, else in f->buf. 0: not on this path. */
static int fast_string(struct fast *f, const char **s, size_t *len)
{
	const char *q = ++f->p, *start = q;
	size_t n = 0;

	for (; q < f->end; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '"') {
			*s = start;
			*len = (size_t)(q - start);
			f->p = q + 1;
			return 1;
		}
		if (c == '\\')
			break;
		if (c < 0x20 || c >= 0x80)
			return 0;
	}
	if (q >= f->end)
		return 0;
	/* escapes: unescaped into f->buf */
	for (q = start; q < f->end; q++) {
		unsigned char c = (unsigned char)*q;

		if (n + 1 >= f->cap) {
			size_t cap = f->cap ? 2 * f->cap : 256;
			char *b = realloc(f->buf, cap);

			if (b == NULL)
				return 0;
			f->buf = b;
			f->cap = cap;
		}
		if (c == '"') {
			*s = f->buf;
			*len = n;
			f->p = q + 1;
			return 1;
		}
		if (c < 0x20 || c >= 0x80)
			return 0;
		if (c == '\\') {
			if (++q >= f->end)
				return 0;
			switch (*q) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			default: return 0; /* \u and anything invalid: jansson's */
			}
		}
		f->buf[n++] = (char)c;
	}
	return 0;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits (no overflow), not followed by a
 * fraction or an exponent. */
static json_t *fast_integer(struct fast *f)
{
	const char *q = f->p;
	int neg = 0, digits = 0;
	json_int_t v = 0;

	if (q < f->end && *q == '-') {
		neg = 1;
		q++;
	}
	if (q >= f->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0' && q + 1 < f->end && q[1] >= '0' && q[1] <= '9')
		return NULL;
	for (; q < f->end && *q >= '0' && *q <= '9'; q++) {
		if (++digits > 18)
			return NULL;
		v = v * 10 + (*q - '0');
	}
	if (q < f->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return NULL;
	f->p = q;
	return json_integer(neg ? -v : v);
}

static json_t *fast_literal(struct fast *f, const char *word, size_t n, json_t *v)
{
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
		return NULL;
	f->p += n;
	return v;
}

static json_t *fast_object(struct fast *f, int depth_left)
{
	json_t *o = json_object();

	f->p++; /* '{' */
	fast_ws(f);
	if (o != NULL && f->p < f->end && *f->p == '}') {
		f->p++;
		return o;
	}
	while (o != NULL) {
		const char *key;
		size_t klen;
		json_t *v;

		/* a key with escapes would live in f->buf, which the value
		 * overwrites: jansson's */
		if (f->p >= f->end || *f->p != '"' || !fast_string(f, &key, &klen) ||
		    key == f->buf || json_object_getn(o, key, klen) != NULL)
			break;
		fast_ws(f);
		if (f->p >= f->end || *f->p != ':')
			break;
		f->p++;
		fast_ws(f);
		if ((v = fast_value(f, depth_left - 1)) == NULL)
			break;
		if (json_object_setn_new_nocheck(o, key, klen, v) != 0)
			break;
		fast_ws(f);
		if (f->p < f->end && *f->p == ',') {
			f->p++;
			fast_ws(f);
			continue;
		}
		if (f->p < f->end && *f->p == '}') {
			f->p++;
			return o;
		}
		break;
	}
	json_decref(o);
	return NULL;
}

static json_t *fast_array(struct fast *f, int depth_left)
{
	json_t *a = json_array();

	f->p++; /* '[' */
	fast_ws(f);
	if (a != NULL && f->p < f->end && *f->p == ']') {
		f->p++;
		return a;
	}
	while (a != NULL) {
		json_t *v = fast_value(f, depth_left - 1);

		if (v == NULL || json_array_append_new(a, v) != 0)
			break;
		fast_ws(f);
		if (f->p < f->end && *f->p == ',') {
			f->p++;
			fast_ws(f);
			continue;
		}
		if (f->p < f->end && *f->p == ']') {
			f->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

/* depth_left as stix_json_depth counts: a scalar or an empty container
 * takes 1, a container 1 more than its deepest member. */
static json_t *fast_value(struct fast *f, int depth_left)
{
	const char *s;
	size_t n;

	if (depth_left < 1 || f->p >= f->end)
		return NULL;
	switch (*f->p) {
	case '{': return fast_object(f, depth_left);
	case '[': return fast_array(f, depth_left);
	case '"': return fast_string(f, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
	case 't': return fast_literal(f, "true", 4, json_true());
	case 'f': return fast_literal(f, "false", 5, json_false());
	case 'n': return fast_literal(f, "null", 4, json_null());
	default: return fast_integer(f);
	}
}

json_t *stix__json_fast_object(const char *data, size_t len, int depth_left, size_t *used,
                               int *compact)
{
	struct fast f = {data, data + len, NULL, 0, 0};
	json_t *v = NULL;

	fast_ws(&f);
	f.spaced = 0; /* before the object: not part of it */
	if (f.p < f.end && *f.p == '{')
		v = fast_value(&f, depth_left);
	free(f.buf);
	if (v != NULL) {
		*used = (size_t)(f.p - data);
		*compact = !f.spaced;
	}
	return v;
}
