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

static int dump_cb(const char *buf, size_t size, void *data)
{
	return tix_buf_add(data, buf, size) == TIX_OK ? 0 : -1;
}

enum tix_err stix_json_dump(const json_t *obj, struct tix_buf *out)
{
	if (json_dump_callback(obj, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
		return TIX_ENOMEM;
	return TIX_OK;
}
