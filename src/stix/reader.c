/*
 * stix/reader.c — reads a document (bundle, JSON array of objects, or one
 * object) as a stream: the outer structure is walked here and each object
 * is parsed by jansson on its own, so a 1 GB bundle never becomes one
 * 5 GB tree in memory.
 */
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_int.h"

struct stix_reader {
	const char *data;
	size_t len;
	const char *source;
	enum stix_doc_kind kind;
	char *bundle_id;
	size_t pos;   /* next array element, or end */
	size_t index; /* index of the next element */
	int done;
	int base_depth;        /* nesting levels above each element */
	int has_cur;           /* an element has been peeked at and not taken */
	int compact;           /* the element parsed last has no white space between tokens */
	size_t rel_off;        /* the bytes before it the caller released (stix_reader_release) */
	int rel_line, rel_col; /* the line and column at rel_off */
	size_t cur_start;      /* its first byte */
	size_t cur_end;        /* one past its last byte, or 0 when not scanned */
	json_t *single;        /* the DOC_OBJECT value, until handed out */
	char path[48];
};

static size_t skip_ws(const char *d, size_t len, size_t pos)
{
	while (pos < len && (d[pos] == ' ' || d[pos] == '\t' || d[pos] == '\n' || d[pos] == '\r'))
		pos++;
	return pos;
}

/* Line and column (1-based, columns in characters) of byte offset `off`,
 * counted on from byte `from` at *line and *col. */
static void line_col(const char *d, size_t len, size_t from, size_t off, int *line, int *col)
{
	size_t i;

	if (off > len)
		off = len;
	for (i = from; i < off; i++) {
		if (d[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)d[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static enum tix_err fail_at(struct stix_reader *r, size_t off, struct tix_error *err,
                            enum tix_err code, const char *what)
{
	char where[160];
	int line, col;

	line = 1;
	col = 1;
	if (off >= r->rel_off) { /* released bytes are never read again */
		line = r->rel_line;
		col = r->rel_col;
		line_col(r->data, r->len, r->rel_off, off, &line, &col);
	}
	snprintf(where, sizeof(where), "%s:%d:%d", r->source, line, col);
	return tix_error_set(err, code, where, "%s", what);
}

/* Parses one JSON value starting at *pos and advances *pos past it. */
static json_t *parse_at(struct stix_reader *r, size_t *pos, int depth_left, struct tix_error *err)
{
	json_error_t je;
	json_t *v;
	char msg[256];
	size_t used;

	if ((v = stix__json_fast_object(r->data + *pos, r->len - *pos, depth_left, &used,
	                                &r->compact)) != NULL) {
		*pos += used;
		return v;
	}
	r->compact = 0;
	v = json_loadb(r->data + *pos, r->len - *pos,
	               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s",
		         strstr(je.text, "unable to decode byte") ? "invalid UTF-8"
		                                                  : "malformed JSON",
		         je.text);
		fail_at(r, *pos + (size_t)(je.position > 0 ? je.position : 0), err, TIX_EPARSE,
		        msg);
		return NULL;
	}
	if (stix_json_depth(v, depth_left) > depth_left) {
		json_decref(v);
		snprintf(msg, sizeof(msg), "JSON nested deeper than %d levels", STIX_MAX_DEPTH);
		fail_at(r, *pos, err, TIX_EINVAL, msg);
		return NULL;
	}
	*pos += (size_t)je.position;
	return v;
}

/* memchr(p, '"', n), eight bytes a step: the strings of a bundle are
 * mostly short, where a call to memchr costs more than the search. */
static const char *find_quote(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, q;

		memcpy(&w, p + i, 8);
		q = w ^ (ones * '"');
		q = (q - ones) & ~q & highs;
		if (q)
			break; /* the byte loop below finds which (any byte order) */
	}
	for (; i < n; i++)
		if (p[i] == '"')
			return p + i;
	return NULL;
}

/* Skips a JSON value structurally (strings and brackets only) and returns
 * the offset past it, or 0 when the document ends first. The elements are
 * parsed properly later; this only finds where the array ends. */
static size_t skip_value(const char *d, size_t len, size_t pos)
{
	int depth = 0;

	for (; pos < len; pos++) {
		char c = d[pos];

		if (c == '"') {
			/* Strings are most of a bundle: jump from quote to quote. */
			for (;;) {
				const char *q = find_quote(d + pos + 1, len - pos - 1);
				size_t bs = 0;

				if (q == NULL)
					return 0;
				pos = (size_t)(q - d);
				while (d[pos - 1 - bs] == '\\')
					bs++;
				if (bs % 2 == 0)
					break;
			}
			if (depth == 0)
				return pos + 1;
		} else if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				return pos + 1;
			if (depth < 0)
				return 0;
		} else if (depth == 0 &&
		           (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r')) {
			return pos;
		}
	}
	return depth == 0 ? pos : 0;
}

/* The array of elements ends at pos: a bare array must end the document. */
static enum tix_err end_array(struct stix_reader *r, size_t pos, struct tix_error *err)
{
	r->done = 1;
	r->pos = pos;
	if (r->kind == STIX_DOC_ARRAY) {
		pos = skip_ws(r->data, r->len, pos);
		if (pos != r->len)
			return fail_at(r, pos, err, TIX_EPARSE,
			               "malformed JSON: end of file expected");
	}
	return TIX_OK;
}

/* Walks the members of a top-level object. Every member but a
 * bundle-shaped "objects" array is parsed into `env`; for that array, its
 * start is remembered and it is skipped. */
static enum tix_err scan_envelope(struct stix_reader *r, json_t *env, size_t *objects_at,
                                  struct tix_error *err)
{
	size_t pos = skip_ws(r->data, r->len, r->pos) + 1; /* past '{' */
	int first = 1;

	*objects_at = 0;
	for (;;) {
		json_t *k, *v;
		const char *key;

		pos = skip_ws(r->data, r->len, pos);
		if (pos < r->len && r->data[pos] == '}' && first) {
			pos++;
			break;
		}
		if (pos >= r->len || r->data[pos] != '"')
			return fail_at(r, pos, err, TIX_EPARSE,
			               "malformed JSON: expected a string key");
		if ((k = parse_at(r, &pos, 1, err)) == NULL)
			return err->code;
		key = json_string_value(k);
		pos = skip_ws(r->data, r->len, pos);
		if (pos >= r->len || r->data[pos] != ':') {
			json_decref(k);
			return fail_at(r, pos, err, TIX_EPARSE, "malformed JSON: expected ':'");
		}
		pos = skip_ws(r->data, r->len, pos + 1);
		if (json_object_get(env, key) != NULL ||
		    (strcmp(key, "objects") == 0 && *objects_at != 0)) {
			char msg[200];

			snprintf(msg, sizeof(msg),
			         "malformed JSON: duplicate object key \"%.100s\"", key);
			json_decref(k);
			return fail_at(r, pos, err, TIX_EPARSE, msg);
		}
		if (strcmp(key, "objects") == 0 && pos < r->len && r->data[pos] == '[') {
			*objects_at = pos;
			pos = skip_value(r->data, r->len, pos);
			if (pos == 0) {
				json_decref(k);
				return fail_at(r, r->len, err, TIX_EPARSE,
				               "malformed JSON: the objects array is not closed");
			}
		} else {
			if ((v = parse_at(r, &pos, STIX_MAX_DEPTH - 1, err)) == NULL) {
				json_decref(k);
				return err->code;
			}
			json_object_set_new(env, key, v);
		}
		json_decref(k);
		first = 0;
		pos = skip_ws(r->data, r->len, pos);
		if (pos < r->len && r->data[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < r->len && r->data[pos] == '}') {
			pos++;
			break;
		}
		return fail_at(r, pos, err, TIX_EPARSE, "malformed JSON: expected ',' or '}'");
	}
	pos = skip_ws(r->data, r->len, pos);
	if (pos != r->len)
		return fail_at(r, pos, err, TIX_EPARSE, "malformed JSON: end of file expected");
	return TIX_OK;
}

static int is_bundle_id(const char *s)
{
	struct tix_uuid u;

	return s && strncmp(s, "bundle--", 8) == 0 && tix_uuid_parse(s + 8, &u) == TIX_OK;
}

enum tix_err stix_reader_open(const char *data, size_t len, const char *source,
                              struct stix_reader **out, struct tix_error *err)
{
	struct stix_reader *r;
	json_t *env = NULL;
	size_t objects_at;
	enum tix_err e;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, source, "out of memory");
	r->data = data;
	r->len = len;
	r->rel_line = r->rel_col = 1;
	r->source = source ? source : "<input>";
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3; /* a UTF-8 byte-order mark, which RFC 8259 lets us ignore */
	r->pos = skip_ws(data, len, r->pos);
	if (r->pos >= len) {
		e = fail_at(r, r->pos, err, TIX_EPARSE,
		            "empty document: expected a STIX bundle, "
		            "an array of objects or one object");
		goto fail;
	}
	if (data[r->pos] == '[') {
		r->kind = STIX_DOC_ARRAY;
		r->base_depth = 1;
		r->pos++;
	} else if (data[r->pos] == '{') {
		if ((env = json_object()) == NULL) {
			e = tix_error_set(err, TIX_ENOMEM, source, "out of memory");
			goto fail;
		}
		if ((e = scan_envelope(r, env, &objects_at, err)) != TIX_OK)
			goto fail;
		if (json_is_string(json_object_get(env, "type")) &&
		    strcmp(json_string_value(json_object_get(env, "type")), "bundle") == 0) {
			const char *id = json_string_value(json_object_get(env, "id"));
			/* Other members are custom properties of the bundle: kept
			 * out of the store, as a bundle is only a wrapper. */
			if (!is_bundle_id(id)) {
				e = tix_error_set(err, TIX_EINVAL, r->source,
				                  id ? "bundle id '%.80s' is not bundle--UUID"
				                     : "the bundle has no id%.0s",
				                  id ? id : "");
				goto fail;
			}
			if (json_object_get(env, "objects") != NULL) {
				e = tix_error_set(err, TIX_EINVAL, r->source,
				                  "objects: must be an array of STIX objects");
				goto fail;
			}
			r->kind = STIX_DOC_BUNDLE;
			r->base_depth = 2;
			if ((r->bundle_id = strdup(id)) == NULL) {
				e = tix_error_set(err, TIX_ENOMEM, source, "out of memory");
				goto fail;
			}
			if (objects_at == 0)
				r->done = 1;
			else
				r->pos = objects_at + 1;
		} else {
			size_t pos = r->pos;

			/* Parsed here, not with stix_json_parse, so that error
			 * positions count from the start of the file. */
			r->kind = STIX_DOC_OBJECT;
			r->single = parse_at(r, &pos, STIX_MAX_DEPTH, err);
			if (r->single == NULL) {
				e = err->code;
				goto fail;
			}
		}
	} else {
		e = fail_at(r, r->pos, err, TIX_EINVAL,
		            "expected a STIX bundle, an array of objects or one object");
		goto fail;
	}
	json_decref(env);
	*out = r;
	return TIX_OK;
fail:
	json_decref(env);
	stix_reader_close(r);
	return e;
}

void stix_reader_close(struct stix_reader *r)
{
	if (r == NULL)
		return;
	json_decref(r->single);
	free(r->bundle_id);
	free(r);
}

enum stix_doc_kind stix_reader_kind(const struct stix_reader *r)
{
	return r->kind;
}

size_t stix_reader_offset(const struct stix_reader *r)
{
	return r->kind == STIX_DOC_OBJECT || r->done ? r->len : r->pos;
}

const char *stix_reader_bundle_id(const struct stix_reader *r)
{
	return r->bundle_id;
}

/* Moves past the separator after an element that ends at pos. */
static enum tix_err advance(struct stix_reader *r, size_t pos, struct tix_error *err)
{
	pos = skip_ws(r->data, r->len, pos);
	if (pos < r->len && r->data[pos] == ',') {
		r->pos = pos + 1;
		return TIX_OK;
	}
	if (pos < r->len && r->data[pos] == ']')
		return end_array(r, pos + 1, err);
	return fail_at(r, pos, err, TIX_EPARSE, "malformed JSON: expected ',' or ']'");
}

/* r->path = "objects[i]" (a bundle) or "[i]": once per element, so by
 * hand rather than with snprintf. */
static void set_path(struct stix_reader *r)
{
	char digits[24];
	size_t nd = 0, o = 0;
	size_t i = r->index;

	do {
		digits[nd++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	if (r->kind == STIX_DOC_BUNDLE) {
		memcpy(r->path, "objects", 7);
		o = 7;
	}
	r->path[o++] = '[';
	while (nd)
		r->path[o++] = digits[--nd];
	r->path[o++] = ']';
	r->path[o] = '\0';
}

enum tix_err stix_reader_peek(struct stix_reader *r, const char **raw, size_t *rawlen,
                              const char **path, struct tix_error *err)
{
	size_t pos, end;

	*raw = NULL;
	*rawlen = 0;
	*path = r->path;
	if (r->has_cur) {
		*raw = r->data + r->cur_start;
		*rawlen = r->cur_end ? r->cur_end - r->cur_start : 0;
		return TIX_OK;
	}
	if (r->done)
		return TIX_OK;
	if (r->kind == STIX_DOC_OBJECT) {
		r->path[0] = '\0';
		r->cur_start = skip_ws(r->data, r->len, r->pos);
		end = r->len;
		while (end > r->cur_start && strchr(" \t\r\n", r->data[end - 1]))
			end--;
		r->cur_end = end;
	} else {
		pos = skip_ws(r->data, r->len, r->pos);
		if (r->index == 0 && pos < r->len && r->data[pos] == ']') {
			enum tix_err e = end_array(r, pos + 1, err);

			return e;
		}
		set_path(r);
		r->cur_start = pos;
		/* The extent of an object is found by a structural scan; anything
		 * else is left for the parser to judge (extent 0). */
		r->cur_end =
		        pos < r->len && r->data[pos] == '{' ? skip_value(r->data, r->len, pos) : 0;
	}
	r->has_cur = 1;
	*raw = r->data + r->cur_start;
	*rawlen = r->cur_end ? r->cur_end - r->cur_start : 0;
	return TIX_OK;
}

enum tix_err stix_reader_head(struct stix_reader *r, const char **raw, size_t *avail,
                              struct tix_error *err)
{
	size_t pos;

	*raw = NULL;
	*avail = 0;
	if (r->has_cur || r->kind == STIX_DOC_OBJECT)
		return tix_error_set(err, TIX_EINVAL, r->source, "head: not between elements");
	if (r->done)
		return TIX_OK;
	pos = skip_ws(r->data, r->len, r->pos);
	if (r->index == 0 && pos < r->len && r->data[pos] == ']')
		return end_array(r, pos + 1, err);
	r->pos = pos;
	*raw = r->data + pos;
	*avail = r->len - pos;
	return TIX_OK;
}

enum tix_err stix_reader_skip_len(struct stix_reader *r, size_t len, struct tix_error *err)
{
	if (r->has_cur || r->kind == STIX_DOC_OBJECT || r->done || len == 0 ||
	    len > r->len - r->pos)
		return tix_error_set(err, TIX_EINVAL, r->source, "skip_len: no such element");
	r->index++;
	return advance(r, r->pos + len, err);
}

void stix_reader_release(struct stix_reader *r, size_t upto)
{
	if (upto > r->pos)
		upto = r->pos;
	if (upto <= r->rel_off)
		return;
	line_col(r->data, r->len, r->rel_off, upto, &r->rel_line, &r->rel_col);
	r->rel_off = upto;
}

int stix_reader_compact(const struct stix_reader *r)
{
	return r->compact;
}

enum tix_err stix_reader_take(struct stix_reader *r, json_t **obj, struct tix_error *err)
{
	size_t pos;
	json_t *v;

	*obj = NULL;
	if (!r->has_cur)
		return tix_error_set(err, TIX_EINVAL, r->source, "no element to take");
	r->has_cur = 0;
	if (r->kind == STIX_DOC_OBJECT) {
		*obj = r->single;
		r->single = NULL;
		r->done = 1;
		return TIX_OK;
	}
	pos = r->cur_start;
	if ((v = parse_at(r, &pos, STIX_MAX_DEPTH - r->base_depth, err)) == NULL)
		return err->code;
	if (!json_is_object(v)) {
		json_decref(v);
		return tix_error_set(err, TIX_EINVAL, r->path, "not a JSON object");
	}
	if (r->cur_end && pos != r->cur_end) {
		json_decref(v);
		return fail_at(r, pos, err, TIX_EPARSE, "malformed JSON");
	}
	r->index++;
	if (advance(r, pos, err) != TIX_OK) {
		json_decref(v);
		return err->code;
	}
	*obj = v;
	return TIX_OK;
}

enum tix_err stix_reader_skip(struct stix_reader *r, struct tix_error *err)
{
	if (!r->has_cur || r->cur_end == 0)
		return tix_error_set(err, TIX_EINVAL, r->source, "no scanned element to skip");
	r->has_cur = 0;
	if (r->kind == STIX_DOC_OBJECT) {
		r->done = 1;
		return TIX_OK;
	}
	r->index++;
	return advance(r, r->cur_end, err);
}

enum tix_err stix_reader_next(struct stix_reader *r, json_t **obj, const char **path,
                              struct tix_error *err)
{
	const char *raw;
	size_t rawlen;
	enum tix_err e;

	*obj = NULL;
	if ((e = stix_reader_peek(r, &raw, &rawlen, path, err)) != TIX_OK || raw == NULL)
		return e;
	return stix_reader_take(r, obj, err);
}
