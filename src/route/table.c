/*
 * route/table.c — the routing table in memory: the constituents' ranges and
 * the prefix-to-ASN table as sorted numeric intervals (longest prefix by
 * binary search and a walk up the enclosing prefixes), owners by ASN and by
 * domain in hash tables, and the Public Suffix List (libpsl) that bounds a
 * domain's walk at its registrable domain.
 */
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route.h"

__extension__ typedef unsigned __int128 u128;

#define AMBIGUOUS (-2)

struct ival {
	u128 lo, hi;
	int64_t val; /* owner index, AMBIGUOUS, or an ASN */
	int64_t parent;
	unsigned plen;
};

struct ivals {
	struct ival *v;
	size_t n, cap;
	/* the first addresses alone, for a cache-friendly binary search:
	 * 32 bits for IPv4, 128 for IPv6 */
	uint32_t *lo4;
	u128 *lo6;
};

struct slot {
	const char *name; /* domains; NULL: an ASN slot or empty */
	int64_t key;      /* ASN, or the name's hash */
	int owner;        /* index, AMBIGUOUS; -1 empty */
};

struct hmap {
	struct slot *s;
	size_t n, cap; /* cap: a power of two */
};

struct route_table {
	struct route_owner *owners;
	size_t nowners, owners_cap;
	struct ivals ranges[2], pfx2asn[2]; /* [0] IPv4, [1] IPv6 */
	struct hmap asns, domains;
	struct tix_arena arena;
	psl_ctx_t *psl;
	int failed; /* out of memory while adding */
};

static u128 key_of(int family, const unsigned char *b)
{
	u128 k = 0;

	for (int i = 0; i < (family == 4 ? 4 : 16); i++)
		k = k << 8 | b[i];
	return k;
}

static void ivals_add(struct route_table *t, struct ivals *iv, const struct store_route_range *r,
                      int64_t val)
{
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 256;
		struct ival *v = realloc(iv->v, cap * sizeof(*v));

		if (v == NULL) {
			t->failed = 1;
			return;
		}
		iv->v = v;
		iv->cap = cap;
	}
	iv->v[iv->n++] =
	        (struct ival){key_of(r->family, r->lo), key_of(r->family, r->hi), val, -1, r->plen};
}

static int ival_cmp(const void *a, const void *b)
{
	const struct ival *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1; /* the enclosing prefix first */
	return 0;
}

/* Sorts, merges equal prefixes (two owners: ambiguous; ASN table: the
 * last) and links each prefix to the one enclosing it. Prefixes are
 * either nested or disjoint, so a stack finds the parents. */
static int ivals_finish(struct ivals *iv, int owners, int family)
{
	size_t o = 0, depth = 0;
	int64_t *stack;

	if (iv->n == 0)
		return 0;
	qsort(iv->v, iv->n, sizeof(iv->v[0]), ival_cmp);
	for (size_t i = 0; i < iv->n; i++) {
		if (o > 0 && iv->v[o - 1].lo == iv->v[i].lo && iv->v[o - 1].hi == iv->v[i].hi) {
			if (iv->v[o - 1].val != iv->v[i].val)
				iv->v[o - 1].val = owners ? AMBIGUOUS : iv->v[i].val;
			continue;
		}
		iv->v[o++] = iv->v[i];
	}
	iv->n = o;
	if ((stack = malloc(iv->n * sizeof(*stack))) == NULL)
		return -1;
	for (size_t i = 0; i < iv->n; i++) {
		while (depth > 0 && iv->v[stack[depth - 1]].hi < iv->v[i].lo)
			depth--;
		iv->v[i].parent = depth > 0 ? stack[depth - 1] : -1;
		stack[depth++] = (int64_t)i;
	}
	free(stack);
	if (family == 4) {
		if ((iv->lo4 = malloc(iv->n * sizeof(*iv->lo4))) == NULL)
			return -1;
		for (size_t i = 0; i < iv->n; i++)
			iv->lo4[i] = (uint32_t)iv->v[i].lo;
	} else {
		if ((iv->lo6 = malloc(iv->n * sizeof(*iv->lo6))) == NULL)
			return -1;
		for (size_t i = 0; i < iv->n; i++)
			iv->lo6[i] = iv->v[i].lo;
	}
	return 0;
}

/* The most specific prefix holding a, or NULL. */
static const struct ival *ivals_find(const struct ivals *iv, u128 a)
{
	size_t lo = 0, hi = iv->n;
	int64_t i;

	if (iv->lo4) {
		uint32_t a4 = (uint32_t)a;

		while (lo < hi) { /* the first lo > a */
			size_t mid = lo + (hi - lo) / 2;

			if (iv->lo4[mid] <= a4)
				lo = mid + 1;
			else
				hi = mid;
		}
	} else if (iv->lo6) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (iv->lo6[mid] <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
	} else {
		return NULL;
	}
	if (lo == 0)
		return NULL;
	for (i = (int64_t)lo - 1; i >= 0; i = iv->v[i].parent)
		if (iv->v[i].hi >= a)
			return &iv->v[i];
	return NULL;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint64_t hash_int(int64_t k)
{
	uint64_t x = (uint64_t)k;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static struct slot *hmap_find(const struct hmap *m, const char *name, int64_t key)
{
	uint64_t h = name ? hash_str(name) : hash_int(key);

	if (m->cap == 0)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct slot *s = &m->s[i];

		if (s->owner == -1)
			return s;
		if (name ? (s->key == (int64_t)h && strcmp(s->name, name) == 0) : s->key == key)
			return s;
	}
}

static void hmap_put(struct route_table *t, struct hmap *m, const char *name, int64_t key,
                     int owner)
{
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct hmap bigger = {calloc(cap, sizeof(struct slot)), 0, cap};

		if (bigger.s == NULL) {
			t->failed = 1;
			return;
		}
		for (size_t i = 0; i < cap; i++)
			bigger.s[i].owner = -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].owner != -1) {
				struct slot *d = hmap_find(&bigger, m->s[i].name,
				                           m->s[i].name ? 0 : m->s[i].key);

				*d = m->s[i];
				bigger.n++;
			}
		free(m->s);
		*m = bigger;
	}
	s = hmap_find(m, name, key);
	if (s->owner != -1) {
		if (s->owner != owner)
			s->owner = AMBIGUOUS;
		return;
	}
	if (name) {
		s->name = tix_arena_strdup(&t->arena, name);
		s->key = (int64_t)hash_str(name);
		if (s->name == NULL) {
			t->failed = 1;
			return;
		}
	} else {
		s->name = NULL;
		s->key = key;
	}
	s->owner = owner;
	m->n++;
}

struct route_table *route_table_new(void)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (t)
		tix_arena_init(&t->arena, 1 << 16);
	return t;
}

void route_table_free(struct route_table *t)
{
	if (t == NULL)
		return;
	for (int f = 0; f < 2; f++) {
		for (int k = 0; k < 2; k++) {
			struct ivals *iv = k ? &t->pfx2asn[f] : &t->ranges[f];

			free(iv->v);
			free(iv->lo4);
			free(iv->lo6);
		}
	}
	free(t->asns.s);
	free(t->domains.s);
	free(t->owners);
	if (t->psl)
		psl_free(t->psl);
	tix_arena_release(&t->arena);
	free(t);
}

size_t route_table_owners(const struct route_table *t)
{
	return t->nowners;
}

int route_table_add_owner(struct route_table *t, const struct route_owner *o)
{
	struct route_owner *n;

	if (t->nowners == t->owners_cap) {
		size_t cap = t->owners_cap ? t->owners_cap * 2 : 64;
		struct route_owner *v = realloc(t->owners, cap * sizeof(*v));

		if (v == NULL) {
			t->failed = 1;
			return -1;
		}
		t->owners = v;
		t->owners_cap = cap;
	}
	n = &t->owners[t->nowners];
	n->key = o->key;
	n->contacts = o->contacts;
	n->name = tix_arena_strdup(&t->arena, o->name);
	n->org = tix_arena_strdup(&t->arena, o->org);
	if (n->name == NULL || n->org == NULL) {
		t->failed = 1;
		return -1;
	}
	return (int)t->nowners++;
}

void route_table_add_range(struct route_table *t, int owner, const struct store_route_range *r)
{
	if (owner >= 0)
		ivals_add(t, &t->ranges[r->family == 6], r, owner);
}

void route_table_add_asn(struct route_table *t, int owner, int64_t asn)
{
	if (owner >= 0)
		hmap_put(t, &t->asns, NULL, asn, owner);
}

void route_table_add_domain(struct route_table *t, int owner, const char *domain)
{
	if (owner >= 0)
		hmap_put(t, &t->domains, domain, 0, owner);
}

void route_table_add_pfx2asn(struct route_table *t, const struct store_route_range *r, int64_t asn)
{
	ivals_add(t, &t->pfx2asn[r->family == 6], r, asn);
}

enum tix_err route_table_finish(struct route_table *t, struct tix_error *err)
{
	for (int f = 0; f < 2; f++)
		if (ivals_finish(&t->ranges[f], 1, f ? 6 : 4) != 0 ||
		    ivals_finish(&t->pfx2asn[f], 0, f ? 6 : 4) != 0)
			t->failed = 1;
	if (t->failed)
		return tix_error_set(err, TIX_ENOMEM, "route", "out of memory building the table");
	/* The newest of Debian's publicsuffix data and libpsl's built-in list. */
	if ((t->psl = psl_latest(NULL)) == NULL && (t->psl = (psl_ctx_t *)psl_builtin()) == NULL)
		return tix_error_set(err, TIX_EIO, "route",
		                     "cannot read the Public Suffix List (install Debian's "
		                     "publicsuffix package)");
	return TIX_OK;
}

/* ---- loading from the store ------------------------------------------------ */

struct loader {
	struct route_table *t;
	/* store key -> owner index: keys are dense enough for a sorted array */
	int64_t *keys;
	size_t n, cap;
};

static int owner_of(const struct loader *l, int64_t key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->keys[mid] == key)
			return (int)mid;
		if (l->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int load_owner(void *arg, const struct store_constituent *c)
{
	struct loader *l = arg;
	struct route_owner o = {c->key, c->name, c->org, c->contacts};

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		int64_t *k = realloc(l->keys, cap * sizeof(*k));

		if (k == NULL) {
			l->t->failed = 1;
			return 1;
		}
		l->keys = k;
		l->cap = cap;
	}
	l->keys[l->n++] = c->key;
	return route_table_add_owner(l->t, &o) < 0;
}

static int key_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void load_range(void *arg, int64_t ckey, const struct store_route_range *r)
{
	struct loader *l = arg;
	struct store_route_range full = *r;

	route_range_complete(&full); /* hi is not read back */
	route_table_add_range(l->t, owner_of(l, ckey), &full);
}

static void load_asn(void *arg, int64_t ckey, int64_t asn)
{
	struct loader *l = arg;

	route_table_add_asn(l->t, owner_of(l, ckey), asn);
}

static void load_domain(void *arg, int64_t ckey, const char *domain)
{
	struct loader *l = arg;

	route_table_add_domain(l->t, owner_of(l, ckey), domain);
}

static void load_pfx(void *arg, const struct store_route_range *r, int64_t asn)
{
	struct loader *l = arg;
	struct store_route_range full = *r;

	route_range_complete(&full);
	route_table_add_pfx2asn(l->t, &full, asn);
}

enum tix_err route_table_load(struct store *s, struct route_table **out, struct tix_error *err)
{
	struct loader l = {route_table_new(), NULL, 0, 0};
	struct store_constituent_parts_cb cb = {NULL, load_range, load_asn, load_domain, &l};
	enum tix_err e;

	*out = NULL;
	if (l.t == NULL)
		return tix_error_set(err, TIX_ENOMEM, "route", "out of memory");
	e = store_constituent_list(s, NULL, load_owner, &l, err);
	if (e == TIX_OK) {
		/* listed in name order: sort the keys, keeping the indexes */
		int64_t *sorted = malloc((l.n ? l.n : 1) * 2 * sizeof(int64_t));

		if (sorted == NULL) {
			e = tix_error_set(err, TIX_ENOMEM, "route", "out of memory");
		} else {
			for (size_t i = 0; i < l.n; i++) {
				sorted[2 * i] = l.keys[i];
				sorted[2 * i + 1] = (int64_t)i;
			}
			qsort(sorted, l.n, 2 * sizeof(int64_t), key_cmp);
			/* owners are re-ordered by key so owner_of's index is theirs */
			{
				struct route_owner *o = malloc((l.n ? l.n : 1) * sizeof(*o));

				if (o == NULL) {
					e = tix_error_set(err, TIX_ENOMEM, "route",
					                  "out of memory");
				} else {
					for (size_t i = 0; i < l.n; i++) {
						o[i] = l.t->owners[sorted[2 * i + 1]];
						l.keys[i] = sorted[2 * i];
					}
					memcpy(l.t->owners, o, l.n * sizeof(*o));
					free(o);
				}
			}
			free(sorted);
		}
	}
	if (e == TIX_OK)
		e = store_constituent_parts(s, 0, &cb, err);
	if (e == TIX_OK)
		e = store_route_asn_each(s, load_pfx, &l, err);
	if (e == TIX_OK)
		e = route_table_finish(l.t, err);
	free(l.keys);
	if (e != TIX_OK) {
		route_table_free(l.t);
		return e;
	}
	*out = l.t;
	return TIX_OK;
}

/* ---- matching -------------------------------------------------------------- */

const char *route_reason_name(enum route_reason r)
{
	static const char *const names[] = {"routed", "no-owner", "ambiguous", "malformed",
	                                    "no-contact"};

	return names[r];
}

static void owned(const struct route_table *t, int owner, const char *by, struct route_match *m)
{
	if (owner == AMBIGUOUS) {
		m->reason = ROUTE_AMBIGUOUS;
		m->by = by;
		return;
	}
	m->owner = &t->owners[owner];
	m->by = by;
	m->reason = m->owner->contacts > 0 ? ROUTE_OK : ROUTE_NO_CONTACT;
}

/* The most specific of the constituents' domains that name or enclose
 * fqdn, never above its registrable domain (a constituent cannot own a
 * public suffix's other registrants). */
const char *route_match_what(const struct route_match *m, char out[80])
{
	if (m->by == NULL)
		out[0] = '\0';
	else if (strcmp(m->by, "range") == 0)
		route_range_format(&m->range, out);
	else if (strcmp(m->by, "asn") == 0)
		snprintf(out, 80, "AS%lld", (long long)m->asn);
	else
		snprintf(out, 80, "%.79s", m->domain ? m->domain : "");
	return out;
}

static int domain_owner(const struct route_table *t, const char *fqdn, const char **which)
{
	const char *reg = psl_registrable_domain(t->psl, fqdn);
	const char *p = fqdn;

	if (t->domains.n == 0)
		return -1;
	for (;;) {
		const struct slot *s = hmap_find(&t->domains, p, 0);

		if (s && s->owner != -1) {
			*which = s->name;
			return s->owner;
		}
		if (reg == NULL || p >= reg)
			return -1;
		p = strchr(p, '.');
		if (p == NULL)
			return -1;
		p++;
	}
}

void route_match_event(const struct route_table *t, const struct route_event *ev,
                       struct route_match *m)
{
	memset(m, 0, sizeof(*m));
	m->reason = ROUTE_NO_OWNER;
	m->asn = ev->asn;
	if (ev->ip) {
		int f = ev->family == 6;
		u128 a = key_of(ev->family, ev->addr);
		const struct ival *r = ivals_find(&t->ranges[f], a);
		const struct ival *p = ivals_find(&t->pfx2asn[f], a);

		if (p)
			m->asn = p->val;
		if (r) {
			m->range.family = ev->family;
			m->range.plen = r->plen;
			for (int i = (f ? 15 : 3); i >= 0; i--)
				m->range.lo[i] = (unsigned char)(r->lo >> (8 * ((f ? 15 : 3) - i)));
			owned(t, (int)r->val, "range", m);
			return;
		}
	}
	if (m->asn > 0) {
		const struct slot *s = hmap_find(&t->asns, NULL, m->asn);

		if (s && s->owner != -1) {
			owned(t, s->owner, "asn", m);
			return;
		}
	}
	if (ev->fqdn) {
		const char *which = NULL;
		int o = domain_owner(t, ev->fqdn, &which);

		if (o != -1) {
			m->domain = which;
			owned(t, o, "domain", m);
		}
	}
}
