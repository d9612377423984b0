/*
 * pattern/eval.c — does a pattern match a set of observed-data? Each [ ] is
 * evaluated against every observation, then a backtracking search binds them
 * to distinct observations under the operators and qualifiers. Paths, LIKE,
 * regexes and the search share one step budget, so no input runs unbounded.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

/* Most observation binds one match may need (REPEATS multiply): the search
 * recurses once per bind. */
#define MAX_WIDTH 1024

/* ---- the observations ------------------------------------------------------ */

struct pobs {
	json_t *sdo;
	const char *id;
	struct tix_time first, last;
	uint64_t count; /* number_observed */
	json_t *scope;  /* reference -> object: what this observation may follow */
	size_t order;   /* input order */
};

struct pattern_observations {
	json_t *byid; /* id -> object, for 2.1 object_refs */
	json_t *sdos; /* observed-data, input order */
	struct pobs *v;
	size_t n;
	int sealed;
};

struct pattern_observations *pattern_observations_new(void)
{
	struct pattern_observations *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->byid = json_object();
	o->sdos = json_array();
	if (o->byid == NULL || o->sdos == NULL) {
		pattern_observations_free(o);
		return NULL;
	}
	return o;
}

void pattern_observations_free(struct pattern_observations *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++)
		json_decref(o->v[i].scope);
	free(o->v);
	json_decref(o->byid);
	json_decref(o->sdos);
	free(o);
}

static enum tix_err add_object(struct pattern_observations *o, json_t *obj, const char *where,
                               struct tix_error *err)
{
	const char *type, *id;

	if (!json_is_object(obj))
		return tix_error_set(err, TIX_EINVAL, where, "not a JSON object");
	type = json_string_value(json_object_get(obj, "type"));
	id = json_string_value(json_object_get(obj, "id"));
	if (id && json_object_get(o->byid, id) == NULL && json_object_set(o->byid, id, obj) != 0)
		return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	if (type && strcmp(type, "observed-data") == 0 && json_array_append(o->sdos, obj) != 0)
		return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	return TIX_OK;
}

static enum tix_err add_bundle_or_object(struct pattern_observations *o, json_t *v,
                                         const char *where, struct tix_error *err)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	json_t *objs;
	char path[64];
	size_t i;
	json_t *x;
	enum tix_err e;

	if (type == NULL || strcmp(type, "bundle") != 0)
		return add_object(o, v, where, err);
	objs = json_object_get(v, "objects");
	if (objs == NULL)
		return TIX_OK;
	if (!json_is_array(objs))
		return tix_error_set(err, TIX_EINVAL, where, "a bundle's objects must be an array");
	json_array_foreach (objs, i, x) {
		snprintf(path, sizeof(path), "%s%sobjects[%zu]", where, *where ? "." : "", i);
		if ((e = add_object(o, x, path, err)) != TIX_OK)
			return e;
	}
	return TIX_OK;
}

enum tix_err pattern_observations_add(struct pattern_observations *o, json_t *doc,
                                      struct tix_error *err)
{
	char path[32];
	size_t i;
	json_t *x;
	enum tix_err e;

	if (o->sealed)
		return tix_error_set(err, TIX_EINVAL, NULL, "the observations are sealed");
	if (json_is_object(doc))
		return add_bundle_or_object(o, doc, "", err);
	if (!json_is_array(doc))
		return tix_error_set(
		        err, TIX_EINVAL, NULL,
		        "expected a bundle, an array of bundles or objects, or an object");
	json_array_foreach (doc, i, x) {
		snprintf(path, sizeof(path), "[%zu]", i);
		if ((e = add_bundle_or_object(o, x, path, err)) != TIX_OK)
			return e;
	}
	return TIX_OK;
}

static int cmp_pobs(const void *a, const void *b)
{
	const struct pobs *x = a, *y = b;
	int c = tix_time_cmp(&x->first, &y->first);

	if (c == 0)
		c = tix_time_cmp(&x->last, &y->last);
	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

enum tix_err pattern_observations_seal(struct pattern_observations *o, struct tix_error *err)
{
	size_t n = json_array_size(o->sdos);

	if (o->sealed)
		return TIX_OK;
	if (o->v != NULL)
		return tix_error_set(err, TIX_EINVAL, NULL, "sealing failed before");
	if (n > 0 && (o->v = calloc(n, sizeof(*o->v))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct pobs *p = &o->v[i];
		json_t *sdo = json_array_get(o->sdos, i), *refs, *objs, *num;
		const char *id = json_string_value(json_object_get(sdo, "id"));
		struct tix_error te;

		o->n = i + 1;
		p->sdo = sdo;
		p->id = id ? id : "observed-data (no id)";
		p->order = i;
		if (tix_time_parse(json_string_value(json_object_get(sdo, "first_observed")),
		                   &p->first, &te) != TIX_OK ||
		    tix_time_parse(json_string_value(json_object_get(sdo, "last_observed")),
		                   &p->last, &te) != TIX_OK)
			return tix_error_set(err, TIX_EINVAL, p->id,
			                     "first_observed and last_observed must be timestamps");
		if (tix_time_cmp(&p->last, &p->first) < 0)
			return tix_error_set(err, TIX_EINVAL, p->id,
			                     "last_observed is before first_observed");
		num = json_object_get(sdo, "number_observed");
		if (!json_is_integer(num) || json_integer_value(num) < 1 ||
		    json_integer_value(num) > 999999999)
			return tix_error_set(
			        err, TIX_EINVAL, p->id,
			        "number_observed must be an integer from 1 to 999999999");
		p->count = (uint64_t)json_integer_value(num);
		refs = json_object_get(sdo, "object_refs");
		objs = json_object_get(sdo, "objects");
		if (json_is_array(refs)) {
			size_t k;
			json_t *r;

			if ((p->scope = json_object()) == NULL)
				return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
			json_array_foreach (refs, k, r) {
				const char *ref = json_string_value(r);
				json_t *target = ref ? json_object_get(o->byid, ref) : NULL;

				if (target && json_object_set(p->scope, ref, target) != 0)
					return tix_error_set(err, TIX_ENOMEM, NULL,
					                     "out of memory");
			}
		} else if (json_is_object(objs)) {
			p->scope = json_incref(objs);
		} else {
			p->scope = json_object();
		}
		if (p->scope == NULL)
			return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	}
	if (n > 1)
		qsort(o->v, n, sizeof(*o->v), cmp_pobs);
	o->sealed = 1;
	return TIX_OK;
}

size_t pattern_observations_count(const struct pattern_observations *o)
{
	return o->sealed ? o->n : 0;
}

const char *pattern_observations_id(const struct pattern_observations *o, size_t i)
{
	return o->sealed && i < o->n ? o->v[i].id : NULL;
}

/* ---- values and comparisons ---------------------------------------------------- */

enum vkind { V_STR, V_BYTES, V_INT, V_REAL, V_BOOL, V_OTHER };

struct val {
	enum vkind k;
	const char *s; /* V_STR, V_BYTES */
	size_t len;
	int64_t i;
	double f;
	int b;
};

#define INCOMPARABLE 2

struct ev {
	const struct pattern *p;
	const struct pattern_observations *o;
	uint64_t steps, max_steps;
	int aborted;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	size_t regex_hits;
	struct tix_buf scratch; /* decoded binary values */
	/* search */
	size_t **cands; /* per observation expression: observations, in order */
	size_t *ncands;
	uint64_t *rem;     /* per observation: how many of its number_observed are free */
	struct nstate *ns; /* per observation-level node */
	unsigned char *feasible;
	struct undo *undo;
	size_t nundo, capundo;
	struct pattern_binding *stack;
	size_t nstack;
	struct pattern_result *res;
};

static int spend(struct ev *ev, uint64_t n)
{
	ev->steps += n;
	if (ev->steps > ev->max_steps)
		ev->aborted = 1;
	return ev->aborted;
}

static int cmp_int_real(int64_t i, double d)
{
	int64_t t;
	double frac;

	if (d != d)
		return INCOMPARABLE;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (int64_t)d;
	if (i != t)
		return i < t ? -1 : 1;
	frac = d - (double)t;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

/* Compares a string with octets: the string's code points as octets when all
 * are below U+0100 (section 9.6.4), else incomparable. */
static int cmp_str_bytes(const char *s, size_t sn, const char *b, size_t bn, int str_first)
{
	unsigned char small[256], *buf = small;
	long n;
	int c;

	if (sn > sizeof(small) && (buf = malloc(sn)) == NULL)
		return INCOMPARABLE;
	n = pattern__latin1(s, sn, buf);
	c = n < 0       ? INCOMPARABLE
	    : str_first ? cmp_bytes((const char *)buf, (size_t)n, b, bn)
	                : cmp_bytes(b, bn, (const char *)buf, (size_t)n);
	if (buf != small)
		free(buf);
	return c;
}

/* -1, 0, 1 as v is below, equal to or above lit, or INCOMPARABLE. */
static int compare(struct ev *ev, const struct val *v, const struct pattern__lit *lit)
{
	switch (lit->kind) {
	case PATTERN_LIT_INT:
		if (v->k == V_INT)
			return v->i < lit->i ? -1 : v->i > lit->i;
		if (v->k == V_REAL) {
			int c = cmp_int_real(lit->i, v->f);

			return c == INCOMPARABLE ? c : -c;
		}
		return INCOMPARABLE;
	case PATTERN_LIT_FLOAT:
		if (v->k == V_INT)
			return cmp_int_real(v->i, lit->f);
		if (v->k == V_REAL)
			return v->f < lit->f    ? -1
			       : v->f > lit->f  ? 1
			       : v->f == lit->f ? 0
			                        : INCOMPARABLE;
		return INCOMPARABLE;
	case PATTERN_LIT_STRING:
		if (v->k == V_STR)
			return cmp_bytes(v->s, v->len, lit->s, lit->len);
		if (v->k == V_BYTES)
			return cmp_str_bytes(lit->s, lit->len, v->s, v->len, 0);
		return INCOMPARABLE;
	case PATTERN_LIT_BOOL:
		if (v->k == V_BOOL)
			return v->b == lit->b ? 0 : v->b < lit->b ? -1 : 1;
		return INCOMPARABLE;
	case PATTERN_LIT_HEX:
	case PATTERN_LIT_BINARY:
		if (v->k == V_BYTES)
			return cmp_bytes(v->s, v->len, lit->s, lit->len);
		if (v->k == V_STR)
			return cmp_str_bytes(v->s, v->len, lit->s, lit->len, 1);
		return INCOMPARABLE;
	case PATTERN_LIT_TIMESTAMP:
		if (v->k == V_STR && v->len < 64 && memchr(v->s, '\0', v->len) == NULL) {
			struct tix_time t;
			struct tix_error e;

			if (tix_time_parse(v->s, &t, &e) == TIX_OK)
				return tix_time_cmp(&t, &lit->t);
		}
		return INCOMPARABLE;
	case PATTERN_LIT_NONE: break;
	}
	return INCOMPARABLE;
}

/* SQL LIKE: '%' any run of characters, '_' one character (one octet when
 * octets is set: a _bin/_hex property); no escape. Linear backtracking over
 * the last '%', charged to the budget. */
static int like(struct ev *ev, const char *s, size_t sn, const char *p, size_t pn, int octets)
{
	size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
	uint32_t cp;

	while (si < sn) {
		if (spend(ev, 1))
			return 0;
		if (pi < pn && p[pi] == '%') {
			star_p = ++pi;
			star_s = si;
		} else if (pi < pn && p[pi] == '_') {
			si += octets ? 1 : pattern__utf8_next(s + si, sn - si, &cp);
			pi++;
		} else if (pi < pn && p[pi] == s[si]) {
			si++;
			pi++;
		} else if (star_p != (size_t)-1) {
			pi = star_p;
			star_s += octets ? 1 : pattern__utf8_next(s + star_s, sn - star_s, &cp);
			si = star_s;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '%')
		pi++;
	return pi == pn;
}

int pattern__cidr(const char *s, size_t len, unsigned char addr[16], unsigned *prefix)
{
	char buf[64];
	const char *slash;
	size_t alen;
	int fam;

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	alen = slash ? (size_t)(slash - buf) : len;
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		fam = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		fam = 6;
	else
		return 0;
	*prefix = fam == 4 ? 32 : 128;
	if (slash) {
		const char *d = slash + 1;
		unsigned v = 0;

		if (*d == '\0' || strlen(d) > 3)
			return 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return 0;
			v = v * 10 + (unsigned)(*d - '0');
		}
		if (v > *prefix)
			return 0;
		*prefix = v;
	}
	return fam;
}

/* Is the network (a, pa) inside (b, pb)? */
static int net_within(const unsigned char *a, unsigned pa, const unsigned char *b, unsigned pb)
{
	unsigned full = pb / 8, rest = pb % 8;

	if (pa < pb)
		return 0;
	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		return (a[full] & mask) == (b[full] & mask);
	}
	return 1;
}

static int regex(struct ev *ev, const pcre2_code *re, const char *s, size_t n)
{
	int rc;

	if (re == NULL || spend(ev, 1))
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, ev->md, ev->mc);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT) {
		/* A runaway expression: count it, and charge the budget enough
		 * that a few dozen of them end the evaluation. */
		ev->regex_hits++;
		spend(ev, ev->max_steps / 32 + 1);
	}
	return 0;
}

/* The test's operator on one value: 1, 0, or INCOMPARABLE. */
static int apply(struct ev *ev, const struct pattern__test *t, const struct val *v)
{
	int c;

	switch (t->op) {
	case PATTERN_OP_EQ: c = compare(ev, v, &t->lit); return c == INCOMPARABLE ? 0 : c == 0;
	case PATTERN_OP_NE: c = compare(ev, v, &t->lit); return c == INCOMPARABLE ? 1 : c != 0;
	case PATTERN_OP_LT:
	case PATTERN_OP_LE:
	case PATTERN_OP_GT:
	case PATTERN_OP_GE:
		c = compare(ev, v, &t->lit);
		if (c == INCOMPARABLE)
			return 0;
		return t->op == PATTERN_OP_LT   ? c < 0
		       : t->op == PATTERN_OP_LE ? c <= 0
		       : t->op == PATTERN_OP_GT ? c > 0
		                                : c >= 0;
	case PATTERN_OP_IN:
		for (size_t i = 0; i < t->nset; i++)
			if (compare(ev, v, &t->set[i]) == 0)
				return 1;
		return 0;
	case PATTERN_OP_LIKE:
		if (v->k == V_STR) {
			/* both sides in NFC (9.6): the literal was normalised when parsed */
			size_t nl = 0;
			char *nv = pattern__nfc(v->s, v->len, &nl);
			int m = nv ? like(ev, nv, nl, t->lit.s, t->lit.len, 0)
			           : like(ev, v->s, v->len, t->lit.s, t->lit.len, 0);

			free(nv);
			return m;
		}
		if (v->k == V_BYTES) {
			/* octets, as = and MATCHES compare them (9.6.3, 9.6.4): the
			 * pattern's code points become octets, or nothing matches */
			unsigned char small[256], *buf = small;
			long n;
			int m;

			if (t->lit.len > sizeof(small) && (buf = malloc(t->lit.len)) == NULL)
				return 0;
			n = pattern__latin1(t->lit.s, t->lit.len, buf);
			m = n >= 0 && like(ev, v->s, v->len, (const char *)buf, (size_t)n, 1);
			if (buf != small)
				free(buf);
			return m;
		}
		return 0;
	case PATTERN_OP_MATCHES:
		if (v->k == V_STR) {
			size_t nl = 0;
			char *nv = pattern__nfc(v->s, v->len, &nl);
			int m = nv ? regex(ev, t->re, nv, nl) : regex(ev, t->re, v->s, v->len);

			free(nv);
			return m;
		}
		if (v->k == V_BYTES)
			return regex(ev, t->re_bin, v->s, v->len);
		return 0;
	case PATTERN_OP_ISSUBSET:
	case PATTERN_OP_ISSUPERSET: {
		unsigned char a[16], b[16];
		unsigned pa, pb;
		int fa, fb;

		if (v->k != V_STR)
			return 0;
		fa = pattern__cidr(v->s, v->len, a, &pa);
		fb = pattern__cidr(t->lit.s, t->lit.len, b, &pb);
		if (fa == 0 || fa != fb)
			return 0;
		return t->op == PATTERN_OP_ISSUBSET ? net_within(a, pa, b, pb)
		                                    : net_within(b, pb, a, pa);
	}
	case PATTERN_OP_EXISTS: return 1;
	}
	return 0;
}

static int b64v(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes a binary property's string (base64 for _bin, hex for _hex) into
 * the scratch buffer. Returns 0, or -1 when it is not valid. */
static int decode_binary(struct ev *ev, const char *s, size_t n, int is_hex, struct val *v)
{
	struct tix_buf *b = &ev->scratch;

	tix_buf_reset(b);
	if (tix_buf_reserve(b, n) != TIX_OK)
		return -1;
	if (is_hex) {
		if (n % 2)
			return -1;
		for (size_t i = 0; i < n; i += 2) {
			int hi = tix_hex_value(s[i]), lo = tix_hex_value(s[i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			b->data[b->len++] = (char)(hi << 4 | lo);
		}
	} else {
		unsigned acc = 0, bits = 0, pad = 0;

		for (size_t i = 0; i < n; i++) {
			int x;

			if (s[i] == '=') {
				pad++;
				continue;
			}
			if (s[i] == '\n' || s[i] == '\r')
				continue;
			if (pad || (x = b64v(s[i])) < 0)
				return -1;
			acc = (acc << 6) | (unsigned)x;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				b->data[b->len++] = (char)((acc >> bits) & 0xff);
			}
		}
	}
	v->k = V_BYTES;
	v->s = b->data;
	v->len = b->len;
	return 0;
}

/* ---- object paths ------------------------------------------------------------------ */

#define F_REF     1 /* the value is a reference (an id, or a key of "objects") */
#define F_REFLIST 2 /* the value is a list of references */

struct path_walk {
	const struct pattern__test *t;
	const struct pobs *o;
	int present; /* some value was found */
	int hit;     /* the operator held for some value */
	int last_is_hex;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static void at_value(struct ev *ev, struct path_walk *w, json_t *j)
{
	struct val v;
	int r;

	memset(&v, 0, sizeof(v));
	w->present = 1;
	if (w->t->op == PATTERN_OP_EXISTS) {
		w->hit = 1;
		return;
	}
	switch (json_typeof(j)) {
	case JSON_STRING:
		v.k = V_STR;
		v.s = json_string_value(j);
		v.len = json_string_length(j);
		if (w->t->binary && decode_binary(ev, v.s, v.len, w->last_is_hex, &v) != 0)
			v.k = V_OTHER;
		break;
	case JSON_INTEGER:
		v.k = V_INT;
		v.i = json_integer_value(j);
		break;
	case JSON_REAL:
		v.k = V_REAL;
		v.f = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v.k = V_BOOL;
		v.b = json_is_true(j);
		break;
	default: v.k = V_OTHER; break;
	}
	r = apply(ev, w->t, &v);
	if (r == 1)
		w->hit = 1;
}

/* Follows steps[i..] from j. Recursion is bounded by PATTERN_MAX_PATH_STEPS;
 * fan-out ([*], references) is charged to the budget. */
static void follow(struct ev *ev, struct path_walk *w, unsigned i, json_t *j, int flags)
{
	const struct pattern__step *st;

	if (w->hit || spend(ev, 1))
		return;
	if (i == w->t->nsteps) {
		at_value(ev, w, j);
		return;
	}
	st = &w->t->steps[i];
	switch (st->kind) {
	case PS_KEY: {
		json_t *child;
		int f = 0;

		if ((flags & F_REF) && json_is_string(j))
			j = json_object_get(w->o->scope, json_string_value(j));
		if (!json_is_object(j) || (child = json_object_get(j, st->key)) == NULL)
			return;
		if (ends_with(st->key, "_ref"))
			f = F_REF;
		else if (ends_with(st->key, "_refs"))
			f = F_REFLIST;
		w->last_is_hex = ends_with(st->key, "_hex");
		follow(ev, w, i + 1, child, f);
		return;
	}
	case PS_INDEX: {
		json_t *child;

		if (!json_is_array(j) || st->index < 0 || (size_t)st->index >= json_array_size(j))
			return;
		child = json_array_get(j, (size_t)st->index);
		follow(ev, w, i + 1, child, (flags & F_REFLIST) ? F_REF : 0);
		return;
	}
	case PS_STAR: {
		size_t k;
		const char *key;
		json_t *child;

		if (json_is_array(j)) {
			json_array_foreach (j, k, child) {
				follow(ev, w, i + 1, child, (flags & F_REFLIST) ? F_REF : 0);
				if (w->hit || ev->aborted)
					return;
			}
		} else if (json_is_object(j)) {
			/* [*] on a dictionary tries each of its values. */
			json_object_foreach (j, key, child) {
				follow(ev, w, i + 1, child, 0);
				if (w->hit || ev->aborted)
					return;
			}
		}
		return;
	}
	}
}

static int eval_test(struct ev *ev, const struct pattern__test *t, const struct pobs *o,
                     json_t *root)
{
	struct path_walk w = {t, o, 0, 0, 0};
	const char *type = json_string_value(json_object_get(root, "type"));

	if (type == NULL || strcmp(type, t->type) != 0)
		return 0;
	follow(ev, &w, 0, root, 0);
	if (ev->aborted)
		return 0;
	if (t->op == PATTERN_OP_EXISTS)
		return w.present != t->negated;
	/* An absent property makes the comparison false, whatever NOT says
	 * (section 9.6). */
	if (!w.present)
		return 0;
	return w.hit != t->negated;
}

/* The comparison tree on one object. Recursion is bounded by the tree's
 * height. */
static int eval_cmp(struct ev *ev, const struct pattern__node *n, const struct pobs *o,
                    json_t *root)
{
	switch (n->kind) {
	case PN_AND:
		for (unsigned i = 0; i < n->nkids; i++)
			if (!eval_cmp(ev, n->kids[i], o, root) || ev->aborted)
				return 0;
		return 1;
	case PN_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			if (eval_cmp(ev, n->kids[i], o, root))
				return 1;
		return 0;
	case PN_TEST: return eval_test(ev, &n->u.test, o, root);
	default: return 0;
	}
}

/* Does observation expression obs match observation o? All comparisons must
 * hold starting from one object of the observation (section 9.5). */
static int eval_obs(struct ev *ev, const struct pattern__node *obs, const struct pobs *o)
{
	const char *key;
	json_t *root;

	json_object_foreach (o->scope, key, root) {
		if (ev->aborted)
			return 0;
		if (json_is_object(root) && eval_cmp(ev, obs->kids[0], o, root))
			return 1;
	}
	return 0;
}

/* ---- the search ------------------------------------------------------------------- */

struct nstate {
	int has; /* WITHIN, FOLLOWEDBY: observations bound inside so far */
	struct tix_time max_first, min_last;
	int has_left; /* FOLLOWEDBY: the kids before the current one */
	struct tix_time left;
	size_t rep_min; /* REPEATS: the first bind of this repetition is at least this */
	int rep_first_set;
	size_t rep_first;
};

struct undo {
	unsigned id;
	struct nstate old;
};

struct k {
	int (*fn)(struct ev *, const struct k *);
	const struct pattern__node *n;
	unsigned i;
	const struct k *next;
};

static int solve(struct ev *ev, const struct pattern__node *n, const struct k *next);

/* Is (a - b) shorter than within? */
static int shorter(const struct tix_time *a, const struct tix_time *b,
                   const struct pattern__node *w)
{
	int64_t ds = a->sec - b->sec;
	int64_t dn = (int64_t)a->nsec - b->nsec;

	if (dn < 0) {
		dn += 1000000000;
		ds--;
	}
	if (ds < 0)
		return 1;
	return ds < w->u.within.sec || (ds == w->u.within.sec && dn < w->u.within.nsec);
}

static int push_undo(struct ev *ev, unsigned id)
{
	if (ev->nundo == ev->capundo) {
		size_t cap = ev->capundo ? ev->capundo * 2 : 64;
		struct undo *u = realloc(ev->undo, cap * sizeof(*u));

		if (u == NULL)
			return -1;
		ev->undo = u;
		ev->capundo = cap;
	}
	ev->undo[ev->nundo].id = id;
	ev->undo[ev->nundo].old = ev->ns[id];
	ev->nundo++;
	return 0;
}

static void merge(struct nstate *s, const struct pobs *o)
{
	if (!s->has || tix_time_cmp(&o->first, &s->max_first) > 0)
		s->max_first = o->first;
	if (!s->has || tix_time_cmp(&o->last, &s->min_last) < 0)
		s->min_last = o->last;
	s->has = 1;
}

/* Binds observation index oi to leaf. Returns 1 when every enclosing
 * qualifier and operator allows it (and records the bind), else 0, or -1
 * on ENOMEM. */
static int bind_obs(struct ev *ev, const struct pattern__node *leaf, size_t oi, size_t *undo_mark)
{
	const struct pobs *o = &ev->o->v[oi];
	const struct pattern__node *a;

	for (a = leaf->parent; a; a = a->parent) {
		const struct nstate *s = &ev->ns[a->id];

		if (a->kind == PN_WITHIN) {
			struct nstate t = *s;

			merge(&t, o);
			if (!shorter(&t.max_first, &t.min_last, a))
				return 0;
		} else if (a->kind == PN_FOLLOWEDBY) {
			if (s->has_left && tix_time_cmp(&o->last, &s->left) < 0)
				return 0;
		} else if (a->kind == PN_REPEATS) {
			if (!s->rep_first_set && oi < s->rep_min)
				return 0;
		}
	}
	*undo_mark = ev->nundo;
	for (a = leaf->parent; a; a = a->parent) {
		struct nstate *s = &ev->ns[a->id];

		if (a->kind == PN_WITHIN || a->kind == PN_FOLLOWEDBY ||
		    (a->kind == PN_REPEATS && !s->rep_first_set)) {
			if (push_undo(ev, a->id) != 0)
				return -1;
			if (a->kind == PN_REPEATS) {
				s->rep_first_set = 1;
				s->rep_first = oi;
			} else {
				merge(s, o);
			}
		}
	}
	ev->rem[oi]--;
	ev->stack[ev->nstack].observation = leaf->u.obs;
	ev->stack[ev->nstack].index = oi;
	ev->nstack++;
	return 1;
}

static void unbind_obs(struct ev *ev, size_t oi, size_t undo_mark)
{
	while (ev->nundo > undo_mark) {
		ev->nundo--;
		ev->ns[ev->undo[ev->nundo].id] = ev->undo[ev->nundo].old;
	}
	ev->rem[oi]++;
	ev->nstack--;
}

static int solve_leaf(struct ev *ev, const struct pattern__node *n, const struct k *next)
{
	const size_t *c = ev->cands[n->u.obs];
	size_t nc = ev->ncands[n->u.obs];
	struct tix_time limit;
	const struct pattern__node *a;
	int has_limit = 0;

	/* Candidates come in first_observed order: past the earliest end of
	 * an enclosing WITHIN window, none can fit any more. */
	for (a = n->parent; a; a = a->parent) {
		const struct nstate *s = &ev->ns[a->id];

		if (a->kind == PN_WITHIN && s->has) {
			struct tix_time l = s->min_last;

			l.sec += a->u.within.sec;
			l.nsec += a->u.within.nsec;
			if (l.nsec >= 1000000000) {
				l.nsec -= 1000000000;
				l.sec++;
			}
			if (!has_limit || tix_time_cmp(&l, &limit) < 0)
				limit = l;
			has_limit = 1;
		}
	}
	for (size_t j = 0; j < nc; j++) {
		size_t oi = c[j], mark = 0;
		int r;

		if (spend(ev, 1))
			return -1;
		if (has_limit && tix_time_cmp(&ev->o->v[oi].first, &limit) >= 0)
			break;
		if (ev->rem[oi] == 0)
			continue;
		r = bind_obs(ev, n, oi, &mark);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		r = next->fn(ev, next);
		unbind_obs(ev, oi, mark);
		if (r)
			return r;
	}
	return 0;
}

static int k_and(struct ev *ev, const struct k *k)
{
	struct k k2 = {k_and, k->n, k->i + 1, k->next};

	if (k->i == k->n->nkids)
		return k->next->fn(ev, k->next);
	return solve(ev, k->n->kids[k->i], &k2);
}

static int k_fb(struct ev *ev, const struct k *k)
{
	struct nstate *s = &ev->ns[k->n->id];
	struct k k2 = {k_fb, k->n, k->i + 1, k->next};
	struct tix_time left = s->left;
	int has_left = s->has_left, r;

	if (k->i == k->n->nkids)
		return k->next->fn(ev, k->next);
	/* Everything bound in the kids so far must start no later than what
	 * the next kid binds ends. */
	s->left = s->max_first;
	s->has_left = s->has;
	r = solve(ev, k->n->kids[k->i], &k2);
	s->left = left;
	s->has_left = has_left;
	return r;
}

static int k_rep(struct ev *ev, const struct k *k)
{
	struct nstate *s = &ev->ns[k->n->id];
	struct k k2 = {k_rep, k->n, k->i + 1, k->next};
	struct nstate saved = *s;
	int r;

	if (k->i == k->n->u.repeats.n)
		return k->next->fn(ev, k->next);
	/* Repetitions are interchangeable: look for them in the order of
	 * their first bound observation only. */
	s->rep_min = s->rep_first;
	s->rep_first_set = 0;
	r = solve(ev, k->n->kids[0], &k2);
	*s = saved;
	return r;
}

static int k_final(struct ev *ev, const struct k *k)
{
	struct pattern_result *res = ev->res;

	(void)k;
	res->bindings = malloc((ev->nstack ? ev->nstack : 1) * sizeof(*res->bindings));
	if (res->bindings == NULL)
		return -1;
	memcpy(res->bindings, ev->stack, ev->nstack * sizeof(*res->bindings));
	res->nbindings = ev->nstack;
	return 1;
}

/* Finds bindings for n, then calls next; returns 1 when the whole pattern
 * matched, 0 when no binding of n leads to a match, -1 when the search
 * gave up. Recursion is bounded by MAX_WIDTH binds and the tree height. */
static int solve(struct ev *ev, const struct pattern__node *n, const struct k *next)
{
	struct nstate *s = &ev->ns[n->id], saved;
	int r;

	if (!ev->feasible[n->id])
		return 0;
	switch (n->kind) {
	case PN_OBS: return solve_leaf(ev, n, next);
	case PN_OBS_AND: {
		struct k k = {k_and, n, 1, next};

		return solve(ev, n->kids[0], &k);
	}
	case PN_OBS_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			if ((r = solve(ev, n->kids[i], next)) != 0)
				return r;
		return 0;
	case PN_FOLLOWEDBY: {
		struct k k = {k_fb, n, 1, next};

		saved = *s;
		memset(s, 0, sizeof(*s));
		r = solve(ev, n->kids[0], &k);
		*s = saved;
		return r;
	}
	case PN_WITHIN:
		saved = *s;
		s->has = 0;
		r = solve(ev, n->kids[0], next);
		*s = saved;
		return r;
	case PN_REPEATS: {
		struct k k = {k_rep, n, 1, next};

		saved = *s;
		memset(s, 0, sizeof(*s));
		r = solve(ev, n->kids[0], &k);
		*s = saved;
		return r;
	}
	case PN_STARTSTOP: return solve(ev, n->kids[0], next);
	default: return 0;
	}
}

/* ---- before the search ------------------------------------------------------------- */

/* How many binds one match of n needs (saturating). */
static uint64_t width(const struct pattern__node *n)
{
	uint64_t w = 0;

	switch (n->kind) {
	case PN_OBS: return 1;
	case PN_OBS_OR:
		for (unsigned i = 0; i < n->nkids; i++) {
			uint64_t x = width(n->kids[i]);

			if (x > w)
				w = x;
		}
		return w;
	case PN_OBS_AND:
	case PN_FOLLOWEDBY:
		for (unsigned i = 0; i < n->nkids && w <= MAX_WIDTH; i++)
			w += width(n->kids[i]);
		return w;
	case PN_REPEATS: w = width(n->kids[0]); return w > MAX_WIDTH ? w : w * n->u.repeats.n;
	default: return width(n->kids[0]);
	}
}

/* Whether n can match at all, from the candidate lists alone. */
static int mark_feasible(struct ev *ev, const struct pattern__node *n)
{
	int f = 0;

	switch (n->kind) {
	case PN_OBS: f = ev->ncands[n->u.obs] > 0; break;
	case PN_OBS_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			f |= mark_feasible(ev, n->kids[i]);
		break;
	case PN_OBS_AND:
	case PN_FOLLOWEDBY:
		f = 1;
		for (unsigned i = 0; i < n->nkids; i++)
			f &= mark_feasible(ev, n->kids[i]);
		break;
	case PN_REPEATS:
		f = mark_feasible(ev, n->kids[0]);
		if (f && n->kids[0]->kind == PN_OBS) {
			uint64_t total = 0;
			unsigned o = n->kids[0]->u.obs;

			for (size_t j = 0; j < ev->ncands[o] && total < n->u.repeats.n; j++)
				total += ev->o->v[ev->cands[o][j]].count;
			f = total >= n->u.repeats.n;
		}
		break;
	default: f = mark_feasible(ev, n->kids[0]); break;
	}
	ev->feasible[n->id] = (unsigned char)f;
	return f;
}

/* May observation o sit in every START/STOP window around leaf? An
 * observation fits when some instant of [first, last] is >= START and
 * < STOP. */
static int in_windows(const struct pattern__node *leaf, const struct pobs *o)
{
	for (const struct pattern__node *a = leaf->parent; a; a = a->parent) {
		if (a->kind != PN_STARTSTOP)
			continue;
		if (tix_time_cmp(&a->u.ss.start.t, &a->u.ss.stop.t) >= 0 ||
		    tix_time_cmp(&o->first, &a->u.ss.stop.t) >= 0 ||
		    tix_time_cmp(&o->last, &a->u.ss.start.t) < 0)
			return 0;
	}
	return 1;
}

void pattern_result_release(struct pattern_result *r)
{
	if (r == NULL)
		return;
	free(r->bindings);
	memset(r, 0, sizeof(*r));
}

enum tix_err pattern_match(const struct pattern *p, const struct pattern_observations *o,
                           const struct pattern_match_opts *opts, struct pattern_result *res,
                           struct tix_error *err)
{
	struct ev ev;
	enum tix_err ret = TIX_ENOMEM;
	uint32_t mlimit = opts && opts->regex_match_limit ? opts->regex_match_limit
	                                                  : PATTERN_REGEX_MATCH_LIMIT;
	uint32_t dlimit = opts && opts->regex_depth_limit ? opts->regex_depth_limit
	                                                  : PATTERN_REGEX_DEPTH_LIMIT;
	int r;

	memset(res, 0, sizeof(*res));
	if (!o->sealed)
		return tix_error_set(err, TIX_EINVAL, NULL, "the observations are not sealed");
	memset(&ev, 0, sizeof(ev));
	ev.p = p;
	ev.o = o;
	ev.res = res;
	ev.max_steps = opts && opts->max_steps ? opts->max_steps : PATTERN_MAX_STEPS;
	tix_buf_init(&ev.scratch, TIX_BUF_UNLIMITED);
	if (width(p->root) > MAX_WIDTH) {
		res->gave_up = 1;
		ret = TIX_OK;
		goto out;
	}
	ev.md = pcre2_match_data_create(1, NULL);
	ev.mc = pcre2_match_context_create(NULL);
	ev.cands = calloc(p->nobs, sizeof(*ev.cands));
	ev.ncands = calloc(p->nobs, sizeof(*ev.ncands));
	ev.rem = calloc(o->n ? o->n : 1, sizeof(*ev.rem));
	ev.ns = calloc(p->nonodes, sizeof(*ev.ns));
	ev.feasible = calloc(p->nonodes, 1);
	ev.stack = calloc(MAX_WIDTH, sizeof(*ev.stack));
	if (!ev.md || !ev.mc || !ev.cands || !ev.ncands || !ev.rem || !ev.ns || !ev.feasible ||
	    !ev.stack)
		goto nomem;
	pcre2_set_match_limit(ev.mc, mlimit);
	pcre2_set_depth_limit(ev.mc, dlimit);
	pcre2_set_heap_limit(ev.mc, PATTERN_REGEX_HEAP_LIMIT);
	for (size_t i = 0; i < o->n; i++)
		ev.rem[i] = o->v[i].count;
	/* Which observations each observation expression matches. */
	for (unsigned k = 0; k < p->nobs && !ev.aborted; k++) {
		const struct pattern__node *leaf = p->obs[k];

		if (o->n > 0 && (ev.cands[k] = malloc(o->n * sizeof(size_t))) == NULL)
			goto nomem;
		for (size_t i = 0; i < o->n && !ev.aborted; i++)
			if (in_windows(leaf, &o->v[i]) && eval_obs(&ev, leaf, &o->v[i]))
				ev.cands[k][ev.ncands[k]++] = i;
	}
	if (!ev.aborted && mark_feasible(&ev, p->root)) {
		struct k final = {k_final, NULL, 0, NULL};

		r = solve(&ev, p->root, &final);
		if (r == 1)
			res->matched = 1;
		else if (r < 0 && !ev.aborted)
			goto nomem;
	}
	res->gave_up = ev.aborted;
	res->regex_limit_hits = ev.regex_hits;
	ret = TIX_OK;
	goto out;
nomem:
	tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	pattern_result_release(res);
out:
	pcre2_match_data_free(ev.md);
	pcre2_match_context_free(ev.mc);
	if (ev.cands)
		for (unsigned k = 0; k < p->nobs; k++)
			free(ev.cands[k]);
	free(ev.cands);
	free(ev.ncands);
	free(ev.rem);
	free(ev.ns);
	free(ev.feasible);
	free(ev.undo);
	free(ev.stack);
	tix_buf_release(&ev.scratch);
	return ret;
}
