/*
 * sync/page.c — the parts of federation that need no network and no
 * store: reading a peer's TAXII envelope, back-off delays, bounded push
 * bundles, repeated-token detection and URL resolution.
 */
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

enum tix_err sync_page_parse(const char *data, size_t len, struct sync_page *out,
                             struct tix_error *err)
{
	json_t *v, *objs, *o, *empty;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((out->root = stix_json_parse(data, len, "page", err)) == NULL)
		return TIX_EPARSE;
	if (!json_is_object(out->root)) {
		sync_page_release(out);
		return tix_error_set(err, TIX_EPARSE, "page",
		                     "not a TAXII envelope (a JSON object)");
	}
	v = json_object_get(out->root, "more");
	if (v != NULL && !json_is_boolean(v)) {
		sync_page_release(out);
		return tix_error_set(err, TIX_EPARSE, "page.more", "not a boolean");
	}
	out->more = json_is_true(v);
	v = json_object_get(out->root, "next");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= 1024) {
			sync_page_release(out);
			return tix_error_set(err, TIX_EPARSE, "page.next",
			                     "not a string of 1 to 1023 bytes");
		}
		out->next = json_string_value(v);
	}
	objs = json_object_get(out->root, "objects");
	if (objs == NULL) {
		/* No objects member: an empty page. Keep one in the root so the
		 * caller always gets an array it does not own. */
		empty = json_array();
		if (empty == NULL || json_object_set_new(out->root, "objects", empty) != 0) {
			sync_page_release(out);
			return tix_error_set(err, TIX_ENOMEM, "page", "out of memory");
		}
		objs = json_object_get(out->root, "objects");
	}
	if (!json_is_array(objs)) {
		sync_page_release(out);
		return tix_error_set(err, TIX_EPARSE, "page.objects", "not an array");
	}
	json_array_foreach (objs, i, o) {
		if (!json_is_object(o)) {
			sync_page_release(out);
			return tix_error_set(err, TIX_EPARSE, "page.objects",
			                     "element %zu is not an object", i);
		}
	}
	out->objects = objs;
	return TIX_OK;
}

void sync_page_release(struct sync_page *p)
{
	if (p == NULL)
		return;
	json_decref(p->root);
	memset(p, 0, sizeof(*p));
}

double sync_backoff_delay(double base, double max, int attempt, uint32_t rnd)
{
	double d = base;

	for (int i = 1; i < attempt && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* "Equal jitter": half fixed, half random, so peers that failed
	 * together do not all come back at the same moment. */
	return d * (0.5 + 0.5 * ((double)rnd / 4294967296.0));
}

void sync_bundle_init(struct sync_bundle *b, size_t max_count, size_t max_bytes)
{
	tix_buf_init(&b->buf, TIX_BUF_UNLIMITED);
	b->count = 0;
	b->max_count = max_count ? max_count : 1;
	b->max_bytes = max_bytes;
}

void sync_bundle_release(struct sync_bundle *b)
{
	tix_buf_release(&b->buf);
	b->count = 0;
}

void sync_bundle_reset(struct sync_bundle *b)
{
	tix_buf_reset(&b->buf);
	b->count = 0;
}

#define ENVELOPE_HEAD "{\"objects\":["
#define ENVELOPE_TAIL "]}"

enum tix_err sync_bundle_add(struct sync_bundle *b, const char *json, size_t len)
{
	size_t after = (b->count ? tix_buf_len(&b->buf) + 1 : strlen(ENVELOPE_HEAD)) + len +
	               strlen(ENVELOPE_TAIL);
	enum tix_err e;

	if (b->count > 0 && (b->count >= b->max_count || after > b->max_bytes))
		return TIX_ETOOBIG;
	if (b->count == 0)
		e = tix_buf_adds(&b->buf, ENVELOPE_HEAD);
	else
		e = tix_buf_addc(&b->buf, ',');
	if (e == TIX_OK)
		e = tix_buf_add(&b->buf, json, len);
	if (e != TIX_OK)
		return e;
	b->count++;
	return TIX_OK;
}

const char *sync_bundle_finish(struct sync_bundle *b, size_t *len)
{
	if (b->count == 0)
		tix_buf_adds(&b->buf, "{\"objects\":[]}");
	else
		tix_buf_adds(&b->buf, ENVELOPE_TAIL);
	*len = tix_buf_len(&b->buf);
	return tix_buf_str(&b->buf);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void sync_seen_release(struct sync_seen *s)
{
	free(s->h);
	memset(s, 0, sizeof(*s));
}

int sync_seen_check(struct sync_seen *s, const char *token)
{
	uint64_t h = fnv1a(token);

	for (size_t i = 0; i < s->n; i++)
		if (s->h[i] == h)
			return 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *n = realloc(s->h, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		s->h = n;
		s->cap = cap;
	}
	s->h[s->n++] = h;
	return 0;
}

int sync_url_resolve(const char *base, const char *ref, char *out, size_t size)
{
	const char *host, *path;
	int n;

	if (strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0) {
		n = snprintf(out, size, "%s", ref);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	host = strstr(base, "://");
	host = host ? host + 3 : base;
	path = strchr(host, '/');
	if (ref[0] == '/') {
		size_t origin = path ? (size_t)(path - base) : strlen(base);

		n = snprintf(out, size, "%.*s%s", (int)origin, base, ref);
	} else {
		const char *slash = strrchr(path ? path : "", '/');
		size_t keep = path && slash ? (size_t)(slash - base) + 1 : strlen(base);

		n = snprintf(out, size, "%.*s%s%s", (int)keep, base, path ? "" : "/", ref);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
