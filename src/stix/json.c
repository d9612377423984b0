/*
 * stix/json.c — jansson with the limits hostile input needs: duplicate keys
 * and invalid UTF-8 rejected, nesting depth capped, and errors that say
 * where (line and column) and what.
 */
#include <string.h>

#include "stix/stix.h"

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
