/*
 * library/search.c — search of the resource library in every script: the
 * query split into words (FTS5 unicode61, diacritics folded) and strings
 * of scripts written without spaces (Thai, CJK: trigram, and a substring
 * test), filters and facets by audience, language, country, topic and
 * licence; the index brought up to date from the store first.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "library/library.h"
#include "store/store_library.h"

#define MAX_TERMS 16

/* One code point at *p (advanced), or -1 for a malformed sequence. */
static long utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	long c;
	int n;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0)
		c = s[0] & 0x1f, n = 1;
	else if ((s[0] & 0xf0) == 0xe0)
		c = s[0] & 0x0f, n = 2;
	else if ((s[0] & 0xf8) == 0xf0)
		c = s[0] & 0x07, n = 3;
	else {
		*p = s + 1;
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p = s + i;
			return -1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return c;
}

/* Separators: ASCII other than letters and digits, Unicode spaces and the
 * punctuation of the scripts tested (CJK, Arabic, Devanagari, Thai). */
static int separator(long c)
{
	if (c < 0x80)
		return !isalnum((int)c);
	return c == 0xa0 || (c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x3003) ||
	       (c >= 0x3008 && c <= 0x3011) || (c >= 0xff01 && c <= 0xff0f) || c == 0xff1a ||
	       c == 0xff1b || c == 0xff1f || c == 0x060c || c == 0x061b || c == 0x061f ||
	       c == 0x06d4 || c == 0x0964 || c == 0x0965 || c == 0x0e2f || c == 0x0e5a ||
	       c == 0x0e5b || c == 0xab || c == 0xbb || c == 0xbf || c == 0xa1;
}

/* Scripts written without spaces between words. */
static int nospace(long c)
{
	return (c >= 0x0e00 && c <= 0x0eff) || (c >= 0x1000 && c <= 0x109f) ||
	       (c >= 0x1780 && c <= 0x17ff) || (c >= 0x3040 && c <= 0x30ff) ||
	       (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	       (c >= 0xf900 && c <= 0xfaff) || c >= 0x20000;
}

int library_terms(const char *text, char **words, size_t *nw, char **ns, size_t *nn, size_t max,
                  char *buf, size_t bufsize, const char **why)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t used = 0;

	*nw = *nn = 0;
	while (*p) {
		const unsigned char *start, *q;
		int no = 0;
		size_t len;
		long c;

		q = p;
		c = utf8_next(&q);
		if (c < 0)
			return *why = "the query is not UTF-8", -1;
		if (separator(c)) {
			p = q;
			continue;
		}
		start = p;
		while (*p) {
			q = p;
			c = utf8_next(&q);
			if (c < 0)
				return *why = "the query is not UTF-8", -1;
			if (separator(c))
				break;
			no |= nospace(c);
			p = q;
		}
		len = (size_t)(p - start);
		if (*nw + *nn >= max)
			return *why = "too many words (16 at most)", -1;
		if (used + len + 1 > bufsize)
			return *why = "the query is too long", -1;
		memcpy(buf + used, start, len);
		buf[used + len] = '\0';
		for (size_t i = 0; i < len; i++)
			buf[used + i] = (char)tolower((unsigned char)buf[used + i]);
		if (no)
			ns[(*nn)++] = buf + used;
		else
			words[(*nw)++] = buf + used;
		used += len + 1;
	}
	words[*nw] = NULL;
	ns[*nn] = NULL;
	return (int)(*nw + *nn);
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void add_words(struct tix_buf *b, const json_t *v)
{
	if (json_is_string(v)) {
		tix_buf_adds(b, json_string_value(v));
		tix_buf_addc(b, '\n');
	} else if (json_is_array(v)) {
		size_t i;
		const json_t *x;

		json_array_foreach (v, i, x)
			add_words(b, x);
	}
}

char *library_words(const json_t *r)
{
	static const char *const keys[] = {"title",  "description", "publisher",
	                                   "topics", "audience",    "learning_resource_type",
	                                   "format", "license",     NULL};
	struct tix_buf b;
	const char *lang;
	json_t *t;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	for (int i = 0; keys[i]; i++)
		add_words(&b, json_object_get(r, keys[i]));
	json_object_foreach (json_object_get(r, "translations"), lang, t) {
		add_words(&b, json_object_get(t, "title"));
		add_words(&b, json_object_get(t, "description"));
	}
	return tix_buf_detach(&b, NULL);
}

/* ---- the index ------------------------------------------------------------- */

static int collect_new(void *arg, const struct store_row *row)
{
	json_array_append_new(arg, json_pack("{s:s, s:I, s:s%}", "id", row->id, "added",
	                                     (json_int_t)row->date_added, "body", row->body,
	                                     row->body_len));
	return 0;
}

/* A resource that came by another way (sync, TAXII, tix import) is
 * indexed only when it passes the checks every resource written here
 * passes (its host not blocked); a version that does not takes its
 * object out of the index. */
static enum tix_err refresh(struct store *s, struct tix_error *err)
{
	const char *types[2] = {LIBRARY_TYPE, NULL};
	const struct library_ctx c = {NULL, NULL, NULL, 0, NULL};
	struct library_blocklist bl;
	struct store_query q = {0};
	json_t *rows = json_array(), *r;
	size_t i, removed = 0;
	enum tix_err e;
	int64_t since = 0;
	int needs = 0;

	if ((e = store_library_indexed(s, &since, err)) != TIX_OK)
		goto out;
	q.types = types;
	q.added_after = since;
	if ((e = store_query(s, &q, collect_new, rows, err)) != TIX_OK)
		goto out;
	if ((e = store_library_needs(s, &needs, err)) != TIX_OK)
		goto out;
	if (json_array_size(rows) == 0 && !needs)
		goto out; /* nothing to do: no write (the answer caches stay valid) */
	if ((e = library_blocklist_load(s, &bl, err)) != TIX_OK)
		goto out;
	if ((e = store_begin(s, err)) != TIX_OK) {
		library_blocklist_free(&bl);
		goto out;
	}
	json_array_foreach (rows, i, r) {
		const char *body = json_string_value(json_object_get(r, "body"));
		const char *id = json_string_value(json_object_get(r, "id"));
		json_t *o = json_loads(body, 0, NULL), *checked;
		struct tix_error why;
		char *words;

		checked = o ? library_resource_make(&c, o, library_blocked, &bl, &why) : NULL;
		words = checked ? library_words(o) : NULL;
		/* not listed: recorded as seen (so it is not read again), no words */
		e = store_library_put(s, id,
		                      (int64_t)json_integer_value(json_object_get(r, "added")),
		                      words ? body : "", words ? words : "", err);
		free(words);
		json_decref(checked);
		json_decref(o);
		if (e != TIX_OK)
			break;
	}
	library_blocklist_free(&bl);
	if (e == TIX_OK)
		e = store_library_prune(s, &removed, err);
	if (e == TIX_OK)
		e = store_library_fts_check(s, err);
	if (e == TIX_OK)
		e = store_commit(s, err);
	else
		store_rollback(s);
out:
	json_decref(rows);
	return e;
}

/* ---- searching -------------------------------------------------------------- */

struct hit {
	double score;
	json_t *o;
};

struct searching {
	const struct library_query *q;
	char **ns;
	struct hit *hits;
	size_t n, cap;
	int failed;
};

static int has(const json_t *list, const char *want, int lang)
{
	size_t i, n = strlen(want);
	const json_t *x;

	json_array_foreach (list, i, x) {
		const char *s = json_string_value(x);

		if (s == NULL)
			continue;
		if (strcasecmp(s, want) == 0)
			return 1;
		if (lang && strncasecmp(s, want, n) == 0 && s[n] == '-')
			return 1; /* --lang pt finds pt-BR */
	}
	return 0;
}

static int on_row(void *arg, const struct store_library_row *r)
{
	struct searching *x = arg;
	const struct library_query *q = x->q;
	json_t *o;

	for (size_t i = 0; x->ns[i]; i++)
		if (strstr(r->words, x->ns[i]) == NULL)
			return 0;
	if ((o = json_loadb(r->body, r->body_len, 0, NULL)) == NULL)
		return 0;
	if (json_is_true(json_object_get(o, "revoked")) ||
	    (q->audience && !has(json_object_get(o, "audience"), q->audience, 0)) ||
	    (q->lang && !has(json_object_get(o, "in_language"), q->lang, 1)) ||
	    (q->country && !has(json_object_get(o, "country"), q->country, 0)) ||
	    (q->topic && !has(json_object_get(o, "topics"), q->topic, 0)) ||
	    (q->license &&
	     (!json_string_value(json_object_get(o, "license")) ||
	      strcasecmp(json_string_value(json_object_get(o, "license")), q->license) != 0)) ||
	    (q->may_read && !q->may_read(q->arg, r->id))) {
		json_decref(o);
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct hit *h = realloc(x->hits, cap * sizeof(*h));

		if (h == NULL) {
			json_decref(o);
			x->failed = 1;
			return 1;
		}
		x->hits = h;
		x->cap = cap;
	}
	x->hits[x->n].score = r->score;
	x->hits[x->n].o = o;
	x->n++;
	return 0;
}

static int by_score(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	const char *tx = json_string_value(json_object_get(x->o, "title"));
	const char *ty = json_string_value(json_object_get(y->o, "title"));

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return strcmp(tx ? tx : "", ty ? ty : "");
}

static void count(json_t *facets, const char *name, const json_t *v)
{
	json_t *f = json_object_get(facets, name);

	if (json_is_string(v)) {
		const char *k = json_string_value(v);
		json_t *c = json_object_get(f, k);

		json_object_set_new(f, k, json_integer(c ? json_integer_value(c) + 1 : 1));
	} else if (json_is_array(v)) {
		size_t i;
		const json_t *x;

		json_array_foreach (v, i, x)
			count(facets, name, x);
	}
}

enum tix_err library_search(struct store *s, const struct library_query *q, json_t **out,
                            struct tix_error *err)
{
	char *words[MAX_TERMS + 1], *ns[MAX_TERMS + 1], *tri[MAX_TERMS + 1], buf[4096];
	size_t nw = 0, nn = 0, nt = 0, limit = q->limit ? q->limit : 50;
	struct searching x = {q, ns, NULL, 0, 0, 0};
	const char *why = NULL;
	json_t *results, *facets = NULL;
	enum tix_err e;

	words[0] = ns[0] = NULL;
	if ((e = library_query_check(q, err)) != TIX_OK)
		return e;
	if (q->text && *q->text) {
		if (library_terms(q->text, words, &nw, ns, &nn, MAX_TERMS, buf, sizeof(buf), &why) <
		    0)
			return tix_error_set(err, TIX_EINVAL, "query", "%s", why);
		if (nw + nn == 0)
			return tix_error_set(err, TIX_EINVAL, "query",
			                     "no word to search for (letters or digits)");
	}
	for (size_t i = 0; i < nn; i++)
		if (chars(ns[i]) >= 3)
			tri[nt++] = ns[i];
	tri[nt] = NULL;
	if ((e = refresh(s, err)) != TIX_OK)
		return e;
	e = store_library_search(s, (const char *const *)words, (const char *const *)tri, on_row,
	                         &x, err);
	if (e == TIX_OK && x.failed)
		e = tix_error_set(err, TIX_ENOMEM, "search", "out of memory");
	if (e != TIX_OK)
		goto out;
	if (x.n > 1)
		qsort(x.hits, x.n, sizeof(*x.hits), by_score);
	results = json_array();
	if (q->facets)
		facets = json_pack("{s:{}, s:{}, s:{}, s:{}, s:{}}", "audience", "language",
		                   "country", "topic", "license");
	for (size_t i = 0; i < x.n; i++) {
		json_t *o = x.hits[i].o;

		if (facets) {
			count(facets, "audience", json_object_get(o, "audience"));
			count(facets, "language", json_object_get(o, "in_language"));
			count(facets, "country", json_object_get(o, "country"));
			count(facets, "topic", json_object_get(o, "topics"));
			count(facets, "license", json_object_get(o, "license"));
		}
		if (i < limit)
			json_array_append(results, o);
	}
	*out = json_pack("{s:o, s:I, s:b}", "results", results, "total", (json_int_t)x.n, "more",
	                 x.n > limit);
	if (facets)
		json_object_set_new(*out, "facets", facets);
out:
	for (size_t i = 0; i < x.n; i++)
		json_decref(x.hits[i].o);
	free(x.hits);
	return e;
}
