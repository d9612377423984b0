/*
 * match/index.c — compiles active indicators into one flat image of
 * open-addressing hash tables (strings by 64-bit hash, IPv4 by address),
 * sorted CIDR arrays and a string pool; writes it, maps it back and checks
 * every offset of a loaded image before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "match/match_int.h"
#include "pattern/pattern.h"

/* ---- the builder ------------------------------------------------------ */

struct bstr {
	uint64_t hash;
	uint32_t ind;
	size_t val; /* value bytes in the builder's vals */
	uint16_t len;
	uint8_t kind;
};

#define VEC(T)                                                                                     \
	struct {                                                                                   \
		T *v;                                                                              \
		size_t n, cap;                                                                     \
	}

struct bind {
	unsigned char uuid[16];
	uint32_t name, pattern, wl; /* pool offsets, 0 for none */
	uint8_t meta, version;
};

/* Feeds repeat the same timestamps (one valid_from for a whole batch):
 * the last text parsed and its value are remembered. */
struct time_memo {
	char text[64];
	size_t n;
	int ok;
	int64_t us;
};

struct match_builder {
	const struct match_warninglists *warn;
	struct tix_buf pool; /* becomes the image's pool: names, patterns, list names */
	struct tix_buf vals; /* string values until they are written as records */
	VEC(struct bind) ind;
	VEC(struct bstr) str;
	VEC(struct match__ip4) ip4;
	VEC(struct match__cidr4) cidr4;
	VEC(struct match__cidr6) cidr6;
	size_t values, nconfirm, nflag;
	int has_suffix;
	int oom;
	struct time_memo memo[2]; /* valid_from, valid_until */
};

#define PUSH(vec, item)                                                                            \
	do {                                                                                       \
		if ((vec).n == (vec).cap) {                                                        \
			size_t nc_ = (vec).cap ? (vec).cap * 2 : 64;                               \
			void *nv_ = realloc((vec).v, nc_ * sizeof(*(vec).v));                      \
			if (nv_ == NULL) {                                                         \
				b->oom = 1;                                                        \
				break;                                                             \
			}                                                                          \
			(vec).v = nv_;                                                             \
			(vec).cap = nc_;                                                           \
		}                                                                                  \
		(vec).v[(vec).n++] = (item);                                                       \
	} while (0)

struct match_builder *match_builder_new(const struct match_warninglists *warn)
{
	struct match_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->warn = warn;
	match__init_scan_tables();
	tix_buf_init(&b->pool, (size_t)UINT32_MAX - 1);
	tix_buf_init(&b->vals, TIX_BUF_UNLIMITED);
	if (tix_buf_addc(&b->pool, '\0') != TIX_OK) { /* offset 0 means "none" */
		free(b);
		return NULL;
	}
	return b;
}

void match_builder_free(struct match_builder *b)
{
	if (b == NULL)
		return;
	tix_buf_release(&b->pool);
	tix_buf_release(&b->vals);
	free(b->ind.v);
	free(b->str.v);
	free(b->ip4.v);
	free(b->cidr4.v);
	free(b->cidr6.v);
	free(b);
}

/* Appends bytes (and a NUL) to the pool; returns the offset or 0. */
static uint32_t pool_add(struct match_builder *b, const void *p, size_t n)
{
	size_t off = b->pool.len;

	if (tix_buf_add(&b->pool, p, n) != TIX_OK || tix_buf_addc(&b->pool, '\0') != TIX_OK) {
		b->oom = 1;
		return 0;
	}
	return (uint32_t)off;
}

#define MAX_MARKINGS 16

/* What the index needs of an indicator; strings are not NUL-terminated. */
struct fields {
	const char *id, *type, *pattern, *ptype, *pver, *name, *valid_from, *valid_until;
	size_t id_len, type_len, pattern_len, ptype_len, pver_len, name_len, vf_len, vu_len;
	int revoked;
	const char *marking[MAX_MARKINGS];
	size_t marking_len[MAX_MARKINGS];
	size_t nmarkings;
};

static int str_is(const char *s, size_t n, const char *lit)
{
	return s != NULL && strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static unsigned tlp_of(const struct fields *f)
{
	static const struct {
		const char *id;
		unsigned tlp;
	} known[] = {
	        {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", 1}, /* 2.0 CLEAR */
	        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", 1}, /* 1.0 WHITE */
	        {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 2},
	        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", 2},
	        {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 3},
	        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", 3},
	        {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 4},
	        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 5},
	        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", 5},
	};
	unsigned best = 0;

	for (size_t i = 0; i < f->nmarkings; i++)
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (str_is(f->marking[i], f->marking_len[i], known[k].id) &&
			    known[k].tlp > best)
				best = known[k].tlp;
	return best;
}

static void add_str(struct match_builder *b, unsigned kind, const void *v, size_t n, uint32_t ind)
{
	struct bstr e;

	if (n > 0xffff)
		return;
	e.hash = match__hash(kind, v, n);
	e.ind = ind;
	e.len = (uint16_t)n;
	e.kind = (uint8_t)kind;
	e.val = b->vals.len;
	if (tix_buf_add(&b->vals, v, n) != TIX_OK) {
		b->oom = 1;
		return;
	}
	PUSH(b->str, e);
	b->values++;
}

static void add_cidr(struct match_builder *b, const struct values_item *v, uint32_t ind)
{
	const unsigned char *a = v->addr;
	unsigned plen = v->plen;

	if (v->family == 4) {
		uint32_t addr =
		        (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

		if (plen == 32) {
			struct match__ip4 e = {addr, ind + 1};

			PUSH(b->ip4, e);
		} else {
			struct match__cidr4 e = {addr, plen, ind};

			PUSH(b->cidr4, e);
		}
		b->values++;
	} else {
		struct match__cidr6 e;

		memcpy(e.net, a, 16);
		e.plen = plen;
		e.ind = ind;
		PUSH(b->cidr6, e);
		b->values++;
	}
}

/* Adds the index entries of one atom (its value as src/values extracts
 * it, the one extractor); returns 1 when it added some. */
static int add_atom(struct match_builder *b, const struct pattern_atom *a, uint32_t ind)
{
	static const unsigned kinds[] = {
	        [VALUES_DOMAIN] = MK_DOMAIN,
	        [VALUES_EMAIL] = MK_EMAIL,
	        [VALUES_URL] = MK_URL,
	        [VALUES_HASH] = MK_HASH,
	        [VALUES_DOMAIN_SUFFIX] = MK_SUFFIX,
	};
	char buf[4096];
	struct values_item v;
	const char *why;
	size_t before = b->values;

	if (values_from_atom(a, &v, buf, sizeof(buf), &why) <= 0)
		return 0;
	if (v.kind == VALUES_IP) {
		add_cidr(b, &v, ind);
	} else {
		add_str(b, kinds[v.kind], v.bytes, v.len, ind);
		if (v.kind == VALUES_DOMAIN_SUFFIX)
			b->has_suffix = 1;
	}
	return b->values > before;
}

/* Most feeds' patterns are one comparison in canonical form,
 * "[T:P = 'V']": those are read here without the parser (the index takes
 * the same atom from them). Returns 0 for anything else, which the parser
 * then reads; so only the forms below are taken, a hash only with the
 * number of digits its algorithm has (as the parser checks). */
static int fast_atom(const char *t, size_t n, struct pattern_atom *a)
{
	static const struct {
		const char *type, *path;
		size_t hex; /* digits of a hash; 0 for a value */
	} forms[] = {
	        {"ipv4-addr", "value", 0},      {"ipv6-addr", "value", 0},
	        {"domain-name", "value", 0},    {"url", "value", 0},
	        {"email-addr", "value", 0},     {"file", "hashes.'SHA-256'", 64},
	        {"file", "hashes.'SHA-1'", 40}, {"file", "hashes.MD5", 32},
	        {"file", "hashes.'MD5'", 32},   {"file", "hashes.'SHA-512'", 128},
	};
	const char *colon, *eq, *v, *end = t + n;

	if (n < 10 || t[0] != '[' || memcmp(end - 2, "']", 2) != 0)
		return 0;
	colon = memchr(t, ':', n);
	eq = colon ? memchr(colon, ' ', (size_t)(end - colon)) : NULL;
	if (eq == NULL || end - eq < 6 || memcmp(eq, " = '", 4) != 0)
		return 0;
	v = eq + 4;
	for (const char *q = v; q < end - 2; q++)
		if (*q == '\'' || *q == '\\' || (unsigned char)*q < 0x20)
			return 0;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t tl = strlen(forms[i].type), pl = strlen(forms[i].path), vl;

		if ((size_t)(colon - t - 1) != tl || memcmp(t + 1, forms[i].type, tl) != 0 ||
		    (size_t)(eq - colon - 1) != pl || memcmp(colon + 1, forms[i].path, pl) != 0)
			continue;
		vl = (size_t)(end - 2 - v);
		if (vl == 0)
			return 0;
		if (forms[i].hex) {
			if (vl != forms[i].hex)
				return 0;
			for (size_t k = 0; k < vl; k++)
				if (values_hexval((unsigned char)v[k]) < 0)
					return 0;
		}
		memset(a, 0, sizeof(*a));
		a->object_type = forms[i].type;
		a->path = forms[i].path;
		a->op = PATTERN_OP_EQ;
		a->kind = PATTERN_LIT_STRING;
		a->value = v;
		a->value_len = vl;
		a->plain = 1;
		return 1;
	}
	return 0;
}

/* The 36 characters of a UUID (8-4-4-4-12 hex digits, either case), as
 * tix_uuid_parse reads them, without a copy. 0 or -1. */
static int uuid_of(const char *s, struct tix_uuid *u)
{
	int j = 0;

	for (int i = 0; i < 36; i += 2) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			i--; /* the next pair starts one byte on */
			continue;
		}
		hi = values_hexval((unsigned char)s[i]);
		lo = values_hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		u->b[j++] = (uint8_t)(hi << 4 | lo);
	}
	return j == 16 ? 0 : -1;
}

static int in_time(struct time_memo *m, const char *s, size_t n, int64_t now_us, int before)
{
	char buf[64];
	struct tix_time t;
	struct tix_error e;

	if (s == NULL)
		return 1;
	if (n >= sizeof(buf))
		return 0;
	if (m->n != n || memcmp(m->text, s, n) != 0) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		m->ok = tix_time_parse(buf, &t, &e) == TIX_OK;
		m->us = m->ok ? tix_time_to_us(&t) : 0;
		memcpy(m->text, s, n);
		m->n = n;
	}
	if (!m->ok)
		return 0;
	return before ? m->us <= now_us : now_us < m->us;
}

static enum match_add add_fields(struct match_builder *b, const struct fields *f, int64_t now_us,
                                 struct tix_error *err)
{
	struct tix_uuid u;
	struct pattern *p;
	struct pattern_atoms *atoms;
	struct bind bi;
	size_t mark_str = b->str.n, mark_ip4 = b->ip4.n, mark_c4 = b->cidr4.n, mark_c6 = b->cidr6.n,
	       mark_values = b->values;
	uint32_t idx = (uint32_t)b->ind.n;
	int any = 0, has_suffix = b->has_suffix;
	const char *wl;
	enum pattern_version ver = PATTERN_V21;
	struct {
		struct pattern_atoms atoms;
		struct pattern_atom atom;
	} fast;

	if (f->id == NULL || f->id_len != 47 || memcmp(f->id, "indicator--", 11) != 0 ||
	    f->pattern == NULL)
		return MATCH_INVALID;
	if (uuid_of(f->id + 11, &u) != 0)
		return MATCH_INVALID;
	if (f->revoked || !in_time(&b->memo[0], f->valid_from, f->vf_len, now_us, 1) ||
	    !in_time(&b->memo[1], f->valid_until, f->vu_len, now_us, 0))
		return MATCH_INACTIVE;
	if (!str_is(f->ptype, f->ptype_len, "stix"))
		return MATCH_NOT_STIX;
	if (str_is(f->pver, f->pver_len, "2.0"))
		ver = PATTERN_V20;
	if (fast_atom(f->pattern, f->pattern_len, &fast.atom)) {
		p = NULL;
		atoms = &fast.atoms;
		fast.atoms.atoms = &fast.atom;
		fast.atoms.count = 1;
		fast.atoms.simple = 1;
	} else {
		p = pattern_parse(f->pattern, f->pattern_len, ver, err);
		if (p == NULL)
			return MATCH_INVALID;
		atoms = pattern_atoms_extract(p, err);
		if (atoms == NULL) {
			pattern_free(p);
			return MATCH_INVALID;
		}
	}
	for (size_t i = 0; i < atoms->count; i++)
		any |= add_atom(b, &atoms->atoms[i], idx);
	memset(&bi, 0, sizeof(bi));
	memcpy(bi.uuid, u.b, 16);
	bi.meta = (uint8_t)tlp_of(f);
	if (any && f->name && f->name_len)
		bi.name = pool_add(b, f->name, f->name_len);
	if (any && !atoms->simple) {
		bi.meta |= MM_CONFIRM;
		bi.pattern = pool_add(b, f->pattern, f->pattern_len);
		bi.version = (uint8_t)ver;
		b->nconfirm++;
	}
	if (any && b->warn && (wl = match__warninglists_check_atoms(b->warn, atoms)) != NULL) {
		bi.meta |= MM_FLAGGED;
		bi.wl = pool_add(b, wl, strlen(wl));
		b->nflag++;
	}
	if (p) {
		pattern_atoms_free(atoms);
		pattern_free(p);
	}
	if (any)
		PUSH(b->ind, bi);
	if (b->oom) {
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		return MATCH_INVALID;
	}
	if (!any) { /* drop whatever half-entries there were */
		b->str.n = mark_str;
		b->ip4.n = mark_ip4;
		b->cidr4.n = mark_c4;
		b->cidr6.n = mark_c6;
		b->values = mark_values;
		b->has_suffix = has_suffix;
		return MATCH_UNINDEXABLE;
	}
	return MATCH_ADDED;
}

static void jfield(const json_t *obj, const char *key, const char **s, size_t *n)
{
	const json_t *v = json_object_get(obj, key);

	*s = json_string_value(v);
	*n = *s ? json_string_length(v) : 0;
}

enum match_add match_builder_add(struct match_builder *b, const json_t *indicator, int64_t now_us,
                                 struct tix_error *err)
{
	struct fields f;
	const json_t *refs = json_object_get(indicator, "object_marking_refs"), *r;
	size_t i;

	memset(&f, 0, sizeof(f));
	jfield(indicator, "id", &f.id, &f.id_len);
	jfield(indicator, "type", &f.type, &f.type_len);
	jfield(indicator, "pattern", &f.pattern, &f.pattern_len);
	jfield(indicator, "pattern_type", &f.ptype, &f.ptype_len);
	jfield(indicator, "pattern_version", &f.pver, &f.pver_len);
	jfield(indicator, "name", &f.name, &f.name_len);
	jfield(indicator, "valid_from", &f.valid_from, &f.vf_len);
	jfield(indicator, "valid_until", &f.valid_until, &f.vu_len);
	f.revoked = json_is_true(json_object_get(indicator, "revoked"));
	json_array_foreach (refs, i, r) {
		if (f.nmarkings < MAX_MARKINGS && json_is_string(r)) {
			f.marking[f.nmarkings] = json_string_value(r);
			f.marking_len[f.nmarkings++] = json_string_length(r);
		}
	}
	return add_fields(b, &f, now_us, err);
}

static enum match_add add_slow(struct match_builder *b, const char *json, size_t len,
                               int64_t now_us, int *not_indicator, struct tix_error *err)
{
	json_error_t je;
	json_t *obj = json_loadb(json, len, 0, &je);
	enum match_add r;
	const char *type;

	if (obj == NULL)
		return MATCH_INVALID;
	type = json_string_value(json_object_get(obj, "type"));
	if (type == NULL || strcmp(type, "indicator") != 0) {
		*not_indicator = 1;
		json_decref(obj);
		return MATCH_INVALID;
	}
	r = match_builder_add(b, obj, now_us, err);
	json_decref(obj);
	return r;
}

/* Reads the fields the index needs from the JSON text of one object that
 * starts at json (and may be followed by more text before json + len).
 * Returns the bytes of the object, or 0 when it is not plain and jansson
 * must read it (stix_raw_fields). */
static size_t raw_fields(const char *json, size_t len, struct fields *f)
{
	static const char *const keys[] = {
	        "id",   "type",       "pattern",    "pattern_type", "pattern_version",
	        "name", "valid_from", "valid_until"};
	struct stix_raw_fields r;
	size_t used = stix_raw_fields(json, len, keys, sizeof(keys) / sizeof(keys[0]), &r);

	memset(f, 0, sizeof(*f));
	if (used == 0)
		return 0;
	f->id = r.v[0].s;
	f->id_len = r.v[0].n;
	f->type = r.v[1].s;
	f->type_len = r.v[1].n;
	f->pattern = r.v[2].s;
	f->pattern_len = r.v[2].n;
	f->ptype = r.v[3].s;
	f->ptype_len = r.v[3].n;
	f->pver = r.v[4].s;
	f->pver_len = r.v[4].n;
	f->name = r.v[5].s;
	f->name_len = r.v[5].n;
	f->valid_from = r.v[6].s;
	f->vf_len = r.v[6].n;
	f->valid_until = r.v[7].s;
	f->vu_len = r.v[7].n;
	f->revoked = r.revoked;
	for (size_t i = 0; i < r.nmarks && i < MAX_MARKINGS; i++) {
		f->marking[i] = r.marks[i].s;
		f->marking_len[i] = r.marks[i].n;
	}
	f->nmarkings = r.nmarks < MAX_MARKINGS ? r.nmarks : MAX_MARKINGS;
	return used;
}

static enum match_add add_parsed(struct match_builder *b, const struct fields *f, int64_t now_us,
                                 int *not_indicator, struct tix_error *err)
{
	if (!str_is(f->type, f->type_len, "indicator")) {
		*not_indicator = 1;
		return MATCH_INVALID;
	}
	return add_fields(b, f, now_us, err);
}

enum match_add match_builder_add_raw(struct match_builder *b, const char *json, size_t len,
                                     int64_t now_us, int *not_indicator, struct tix_error *err)
{
	struct fields f;
	size_t used;

	*not_indicator = 0;
	used = raw_fields(json, len, &f);
	/* only whitespace may follow the object */
	if (used == 0 || stix_raw_ws(json + used, json + len) != json + len)
		return add_slow(b, json, len, now_us, not_indicator, err);
	return add_parsed(b, &f, now_us, not_indicator, err);
}

int match_builder_add_prefix(struct match_builder *b, const char *json, size_t avail,
                             int64_t now_us, size_t *used, enum match_add *res, int *not_indicator,
                             struct tix_error *err)
{
	struct fields f;

	*not_indicator = 0;
	*used = raw_fields(json, avail, &f);
	if (*used == 0)
		return 0;
	*res = add_parsed(b, &f, now_us, not_indicator, err);
	return 1;
}

/* ---- compiling ----------------------------------------------------------- */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint32_t table_cap(size_t n)
{
	size_t cap = 16;

	while (cap * 5 < n * 8) /* load at most 5/8 */
		cap *= 2;
	return (uint32_t)cap;
}

static int cmp_c4(const void *a, const void *b)
{
	const struct match__cidr4 *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->net < y->net ? -1 : x->net > y->net;
}

static int cmp_c6(const void *a, const void *b)
{
	const struct match__cidr6 *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return memcmp(x->net, y->net, 16);
}

static int check_image(struct match_index *x, struct tix_error *err);

/* An index over img (from malloc, 8-byte aligned), which it then owns
 * (freed also on failure). */
static struct match_index *adopt(unsigned char *img, size_t len, struct tix_error *err)
{
	struct match_index *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		free(img);
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		return NULL;
	}
	x->base = img;
	x->size = len;
	if (check_image(x, err) != 0) {
		match_index_free(x);
		return NULL;
	}
	return x;
}

struct match_index *match_builder_finish(struct match_builder *b, struct tix_error *err)
{
	struct match__header h;
	unsigned char *img;
	size_t off, nrecs_bytes = 0;
	uint32_t strcap, ip4cap;
	struct match__ref *refs;

	if (b == NULL || b->oom) {
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		match_builder_free(b);
		return NULL;
	}
	for (size_t i = 0; i < b->str.n; i++)
		nrecs_bytes += 7 + b->str.v[i].len;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MATCH_MAGIC, 8);
	h.version = MATCH_VERSION;
	h.endian = MATCH_ENDIAN;
	h.n_ind = (uint32_t)b->ind.n;
	h.n_values = (uint32_t)b->values;
	h.str_cap = strcap = b->str.n ? table_cap(b->str.n) : 0;
	h.ip4_cap = ip4cap = b->ip4.n ? table_cap(b->ip4.n) : 0;
	h.n_cidr4 = (uint32_t)b->cidr4.n;
	h.n_cidr6 = (uint32_t)b->cidr6.n;
	h.n_confirm = (uint32_t)b->nconfirm;
	h.n_flag = (uint32_t)b->nflag;
	h.has_suffix = (uint32_t)b->has_suffix;
	off = align8(sizeof(h));
	h.ind_off = off;
	off = align8(off + b->ind.n * MATCH_IND_BYTES);
	h.meta_off = off;
	off = align8(off + b->ind.n);
	h.str_off = off;
	off += (size_t)strcap * sizeof(struct match__slot);
	h.ip4_off = off;
	off += (size_t)ip4cap * sizeof(struct match__ip4);
	h.cidr4_off = off;
	off += b->cidr4.n * sizeof(struct match__cidr4);
	h.cidr6_off = off = align8(off);
	off += b->cidr6.n * sizeof(struct match__cidr6);
	h.confirm_off = off = align8(off);
	off += b->nconfirm * sizeof(struct match__ref);
	h.flag_off = off = align8(off);
	off += b->nflag * sizeof(struct match__ref);
	h.pool_off = off = align8(off);
	h.pool_size = b->pool.len + nrecs_bytes + 1;
	h.size = align8(off + h.pool_size);
	if (h.pool_size >= UINT32_MAX || b->ind.n >= UINT32_MAX / 2) {
		tix_error_set(err, TIX_ETOOBIG, "match index", "more than 4 GiB of values");
		match_builder_free(b);
		return NULL;
	}
	img = calloc(1, h.size);
	if (img == NULL) {
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		match_builder_free(b);
		return NULL;
	}
	/* pool: the builder's strings, then one record per string value */
	memcpy(img + h.pool_off, b->pool.data, b->pool.len);
	{
		size_t p = b->pool.len;
		struct match__slot *slots = (struct match__slot *)(img + h.str_off);

		for (size_t i = 0; i < b->str.n; i++) {
			const struct bstr *e = &b->str.v[i];
			unsigned char *r = img + h.pool_off + p;
			uint32_t pos = (uint32_t)(e->hash & (strcap - 1));

			memcpy(r, &e->ind, 4);
			r[4] = e->kind;
			memcpy(r + 5, &e->len, 2);
			memcpy(r + 7, b->vals.data + e->val, e->len);
			while (slots[pos].off != 0)
				pos = (pos + 1) & (strcap - 1);
			slots[pos].tag = (uint32_t)(e->hash >> 32);
			slots[pos].off = (uint32_t)p;
			p += 7 + e->len;
		}
	}
	{
		struct match__ip4 *t = (struct match__ip4 *)(img + h.ip4_off);

		for (size_t i = 0; i < b->ip4.n; i++) {
			uint32_t pos = match__ip4_slot(b->ip4.v[i].addr, ip4cap - 1);

			while (t[pos].ind1 != 0)
				pos = (pos + 1) & (ip4cap - 1);
			t[pos] = b->ip4.v[i];
		}
	}
	if (b->cidr4.n) /* qsort's base may not be NULL, even for none */
		qsort(b->cidr4.v, b->cidr4.n, sizeof(*b->cidr4.v), cmp_c4);
	if (b->cidr6.n)
		qsort(b->cidr6.v, b->cidr6.n, sizeof(*b->cidr6.v), cmp_c6);
	if (b->cidr4.n)
		memcpy(img + h.cidr4_off, b->cidr4.v, b->cidr4.n * sizeof(*b->cidr4.v));
	if (b->cidr6.n)
		memcpy(img + h.cidr6_off, b->cidr6.v, b->cidr6.n * sizeof(*b->cidr6.v));
	for (size_t i = 0; i < b->cidr4.n; i++)
		h.cidr4_plens |= (uint64_t)1 << b->cidr4.v[i].plen;
	for (size_t i = 0; i < b->cidr6.n; i++)
		h.cidr6_plens[b->cidr6.v[i].plen / 64] |= (uint64_t)1 << (b->cidr6.v[i].plen % 64);
	{
		struct match__ref *conf = (struct match__ref *)(img + h.confirm_off);
		size_t nc = 0, nf = 0;

		refs = (struct match__ref *)(img + h.flag_off);
		for (size_t i = 0; i < b->ind.n; i++) {
			const struct bind *bi = &b->ind.v[i];
			unsigned char *r = img + h.ind_off + i * MATCH_IND_BYTES;

			memcpy(r, bi->uuid, 16);
			memcpy(r + 16, &bi->name, 4);
			img[h.meta_off + i] = bi->meta;
			if (bi->meta & MM_CONFIRM)
				conf[nc++] =
				        (struct match__ref){(uint32_t)i, bi->pattern, bi->version};
			if (bi->meta & MM_FLAGGED)
				refs[nf++] = (struct match__ref){(uint32_t)i, bi->wl, 0};
		}
	}
	memcpy(img, &h, sizeof(h));
	match_builder_free(b);
	return adopt(img, h.size, err); /* no copy of the whole image */
}

/* ---- checking an image ----------------------------------------------------- */

static int bad(struct tix_error *err, const char *what)
{
	tix_error_set(err, TIX_EPARSE, "match index", "corrupt index: %s", what);
	return -1;
}

static int section_ok(const struct match__header *h, uint64_t off, uint64_t count, size_t elem)
{
	return off % 8 == 0 && off >= sizeof(*h) && off <= h->size &&
	       count <= (h->size - off) / (elem ? elem : 1);
}

static int pool_str_ok(const struct match_index *x, uint32_t off)
{
	return off < x->h->pool_size; /* the pool ends with a NUL */
}

/* The lookup filter (match_int.h) of a checked image: every key of the
 * string and IPv4 tables set, so that a key it lacks is in neither. */
static int build_filter(struct match_index *x, size_t keys, struct tix_error *err)
{
	const struct match__header *h = x->h;
	size_t words;
	unsigned bits = 3; /* one 64-byte line at least (aligned_alloc) */

	while (bits < 40 && ((size_t)1 << bits) * 8 < keys) /* 64 bits a word: 8 per key */
		bits++;
	words = (size_t)1 << bits;
	x->filter_bits = bits;
	x->filter = aligned_alloc(64, words * sizeof(uint64_t));
	if (x->filter == NULL) {
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		return -1;
	}
	memset(x->filter, 0, words * sizeof(uint64_t));
	for (uint32_t i = 0; i < h->str_cap; i++)
		if (x->str[i].off != 0) {
			size_t w;
			uint64_t m = match__filter_word(x, x->str[i].tag, &w);

			x->filter[w] |= m;
		}
	for (uint32_t i = 0; i < h->ip4_cap; i++)
		if (x->ip4[i].ind1 != 0) {
			size_t w;
			uint64_t m = match__filter_word(x, match__ip4_key(x->ip4[i].addr), &w);

			x->filter[w] |= m;
		}
	return 0;
}

static int check_image(struct match_index *x, struct tix_error *err)
{
	const struct match__header *h = (const void *)x->base;
	size_t keys = 0; /* values in the string and IPv4 tables */

	if (x->size < sizeof(*h) || memcmp(h->magic, MATCH_MAGIC, 8) != 0)
		return bad(err, "not a tix match index (bad magic)");
	if (h->version != MATCH_VERSION)
		return bad(err, "unsupported version");
	if (h->endian != MATCH_ENDIAN)
		return bad(err, "written on a machine of other byte order");
	if (h->size != x->size)
		return bad(err, "size in header does not match the file");
	if ((h->cidr4_plens >> 33) != 0 || (h->cidr6_plens[2] >> 1) != 0)
		return bad(err, "prefix length out of range");
	if ((h->str_cap & (h->str_cap - 1)) != 0 || (h->ip4_cap & (h->ip4_cap - 1)) != 0)
		return bad(err, "table size not a power of two");
	if (!section_ok(h, h->ind_off, h->n_ind, MATCH_IND_BYTES) ||
	    !section_ok(h, h->meta_off, h->n_ind, 1) ||
	    !section_ok(h, h->str_off, h->str_cap, sizeof(struct match__slot)) ||
	    !section_ok(h, h->ip4_off, h->ip4_cap, sizeof(struct match__ip4)) ||
	    !section_ok(h, h->cidr4_off, h->n_cidr4, sizeof(struct match__cidr4)) ||
	    !section_ok(h, h->cidr6_off, h->n_cidr6, sizeof(struct match__cidr6)) ||
	    !section_ok(h, h->confirm_off, h->n_confirm, sizeof(struct match__ref)) ||
	    !section_ok(h, h->flag_off, h->n_flag, sizeof(struct match__ref)) ||
	    !section_ok(h, h->pool_off, h->pool_size, 1) || h->pool_size == 0 ||
	    h->pool_size >= UINT32_MAX)
		return bad(err, "section out of bounds");
	x->h = h;
	x->ind = x->base + h->ind_off;
	x->meta = x->base + h->meta_off;
	x->str = (const void *)(x->base + h->str_off);
	x->ip4 = (const void *)(x->base + h->ip4_off);
	x->cidr4 = (const void *)(x->base + h->cidr4_off);
	x->cidr6 = (const void *)(x->base + h->cidr6_off);
	x->confirm = (const void *)(x->base + h->confirm_off);
	x->flag = (const void *)(x->base + h->flag_off);
	x->pool = x->base + h->pool_off;
	if (x->pool[h->pool_size - 1] != '\0')
		return bad(err, "string pool not terminated");
	for (uint32_t i = 0; i < h->n_ind; i++) {
		uint32_t name;

		memcpy(&name, x->ind + (size_t)i * MATCH_IND_BYTES + 16, 4);
		if (!pool_str_ok(x, name) || (x->meta[i] & MM_TLP_MASK) > 5)
			return bad(err, "indicator record");
	}
	for (uint32_t i = 0; i < h->str_cap; i++) {
		uint32_t off = x->str[i].off, ind;
		uint16_t len;

		if (off == 0)
			continue;
		keys++;
		if (off > h->pool_size - 1 || h->pool_size - 1 - off < 7)
			return bad(err, "value record out of the pool");
		memcpy(&ind, x->pool + off, 4);
		memcpy(&len, x->pool + off + 5, 2);
		if (ind >= h->n_ind || len > h->pool_size - 1 - off - 7)
			return bad(err, "value record");
	}
	for (uint32_t i = 0; i < h->ip4_cap; i++) {
		if (x->ip4[i].ind1 > h->n_ind)
			return bad(err, "address record");
		keys += x->ip4[i].ind1 != 0;
	}
	for (uint32_t i = 0; i < h->n_cidr4; i++)
		if (x->cidr4[i].plen > 32 || x->cidr4[i].ind >= h->n_ind ||
		    (i && cmp_c4(&x->cidr4[i - 1], &x->cidr4[i]) > 0))
			return bad(err, "IPv4 range");
	for (uint32_t i = 0; i < h->n_cidr6; i++)
		if (x->cidr6[i].plen > 128 || x->cidr6[i].ind >= h->n_ind ||
		    (i && cmp_c6(&x->cidr6[i - 1], &x->cidr6[i]) > 0))
			return bad(err, "IPv6 range");
	for (uint32_t i = 0; i < h->n_confirm; i++)
		if (x->confirm[i].ind >= h->n_ind || !pool_str_ok(x, x->confirm[i].off) ||
		    (i && x->confirm[i - 1].ind >= x->confirm[i].ind))
			return bad(err, "pattern record");
	for (uint32_t i = 0; i < h->n_flag; i++)
		if (x->flag[i].ind >= h->n_ind || !pool_str_ok(x, x->flag[i].off) ||
		    (i && x->flag[i - 1].ind >= x->flag[i].ind))
			return bad(err, "warninglist record");
	/* a table must have an empty slot or a lookup would never stop */
	{
		uint32_t empty = 0;

		for (uint32_t i = 0; i < h->str_cap && !empty; i++)
			empty = x->str[i].off == 0;
		if (h->str_cap && !empty)
			return bad(err, "string table without an empty slot");
		for (uint32_t i = 0; i < h->ip4_cap && empty != 2; i++)
			if (x->ip4[i].ind1 == 0)
				empty = 2;
		if (h->ip4_cap && empty != 2)
			return bad(err, "address table without an empty slot");
	}
	return build_filter(x, keys, err);
}

struct match_index *match_index_from_memory(const void *data, size_t len, struct tix_error *err)
{
	struct match_index *x = calloc(1, sizeof(*x));
	void *copy;

	/* 8-byte alignment for the tables */
	if (x == NULL || (copy = aligned_alloc(8, align8(len ? len : 8))) == NULL) {
		free(x);
		tix_error_set(err, TIX_ENOMEM, "match index", "out of memory");
		return NULL;
	}
	if (len)
		memcpy(copy, data, len);
	x->base = copy;
	x->size = len;
	if (check_image(x, err) != 0) {
		match_index_free(x);
		return NULL;
	}
	return x;
}

struct match_index *match_index_load(const char *path, struct tix_error *err)
{
	struct match_index *x;
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct match__header)) {
		close(fd);
		tix_error_set(err, TIX_EPARSE, path,
		              "corrupt index: not a tix match index (too short)");
		return NULL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		tix_error_set(err, TIX_EIO, path, "cannot map: %s", strerror(errno));
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		munmap(m, (size_t)st.st_size);
		tix_error_set(err, TIX_ENOMEM, path, "out of memory");
		return NULL;
	}
	x->base = m;
	x->size = (size_t)st.st_size;
	x->mapped = 1;
	if (check_image(x, err) != 0) {
		snprintf(err->where, sizeof(err->where), "%s", path);
		match_index_free(x);
		return NULL;
	}
	return x;
}

void match_index_free(struct match_index *x)
{
	if (x == NULL)
		return;
	free(x->filter);
	if (x->mapped)
		munmap((void *)x->base, x->size);
	else
		free((void *)x->base);
	free(x);
}

enum tix_err match_index_write(const struct match_index *x, const char *path, struct tix_error *err)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return tix_error_set(err, TIX_EINVAL, path, "path too long");
	f = fopen(tmp, "wb");
	if (f == NULL)
		return tix_error_set(err, TIX_EIO, path, "cannot create: %s", strerror(errno));
	if (fwrite(x->base, 1, x->size, f) != x->size || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		return tix_error_set(err, TIX_EIO, path, "cannot write: %s", strerror(errno));
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return tix_error_set(err, TIX_EIO, path, "cannot write: %s", strerror(errno));
	}
	return TIX_OK;
}

/* ---- reading ------------------------------------------------------------------ */

void match_index_get_stats(const struct match_index *x, struct match_index_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->indicators = x->h->n_ind;
	st->values = x->h->n_values;
	st->cidr = x->h->n_cidr4 + x->h->n_cidr6;
	st->confirm = x->h->n_confirm;
	st->flagged = x->h->n_flag;
	st->bytes = x->size;
	for (uint32_t i = 0; i < x->h->ip4_cap; i++)
		st->ipv4 += x->ip4[i].ind1 != 0;
	for (uint32_t i = 0; i < x->h->str_cap; i++)
		st->strings += x->str[i].off != 0;
}

size_t match_index_count(const struct match_index *x)
{
	return x->h->n_ind;
}

unsigned match__meta(const struct match_index *x, uint32_t ind)
{
	return x->meta[ind];
}

static const struct match__ref *find_ref(const struct match__ref *r, uint32_t n, uint32_t ind)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r[mid].ind == ind)
			return &r[mid];
		if (r[mid].ind < ind)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void match_index_indicator(const struct match_index *x, uint32_t i, struct match_indicator *out)
{
	static const char *const tlps[] = {NULL, "clear", "green", "amber", "amber+strict", "red"};
	struct tix_uuid u;
	uint32_t name;
	const struct match__ref *r;
	char us[37];

	memcpy(u.b, x->ind + (size_t)i * MATCH_IND_BYTES, 16);
	memcpy(&name, x->ind + (size_t)i * MATCH_IND_BYTES + 16, 4);
	snprintf(out->id, sizeof(out->id), "indicator--%s", tix_uuid_format(&u, us));
	out->name = (const char *)x->pool + name;
	out->tlp = tlps[x->meta[i] & MM_TLP_MASK];
	r = find_ref(x->flag, x->h->n_flag, i);
	out->warninglist = r ? (const char *)x->pool + r->off : NULL;
}

const char *match__confirm_pattern(const struct match_index *x, uint32_t ind, unsigned *version)
{
	const struct match__ref *r = find_ref(x->confirm, x->h->n_confirm, ind);

	if (r == NULL)
		return NULL;
	*version = r->aux;
	return (const char *)x->pool + r->off;
}

void match__lookup_str(const struct match_index *x, unsigned kind, const void *v, size_t n,
                       uint64_t h, match__found_fn fn, void *arg)
{
	uint32_t mask = x->h->str_cap - 1, pos, tag = (uint32_t)(h >> 32);

	if (x->h->str_cap == 0)
		return;
	for (pos = (uint32_t)(h & mask); x->str[pos].off != 0; pos = (pos + 1) & mask) {
		const unsigned char *r;
		uint16_t len;
		uint32_t ind;

		if (x->str[pos].tag != tag)
			continue;
		r = x->pool + x->str[pos].off;
		memcpy(&len, r + 5, 2);
		if (r[4] != kind || len != n || memcmp(r + 7, v, n) != 0)
			continue;
		memcpy(&ind, r, 4);
		fn(arg, ind);
	}
}

void match__lookup_ip4(const struct match_index *x, uint32_t addr, int in_table, match__found_fn fn,
                       void *arg)
{
	uint64_t plens = x->h->cidr4_plens;

	if (x->h->ip4_cap && in_table) {
		uint32_t mask = x->h->ip4_cap - 1;

		for (uint32_t pos = match__ip4_slot(addr, mask); x->ip4[pos].ind1 != 0;
		     pos = (pos + 1) & mask)
			if (x->ip4[pos].addr == addr)
				fn(arg, x->ip4[pos].ind1 - 1);
	}
	while (plens) {
		unsigned p = (unsigned)__builtin_ctzll(plens);
		struct match__cidr4 key = {p ? addr & ~(uint32_t)0 << (32 - p) : 0, p, 0};
		uint32_t lo = 0, hi = x->h->n_cidr4;

		plens &= plens - 1;
		while (lo < hi) { /* first element >= key */
			uint32_t mid = lo + (hi - lo) / 2;

			if (cmp_c4(&x->cidr4[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < x->h->n_cidr4 && cmp_c4(&x->cidr4[lo], &key) == 0; lo++)
			fn(arg, x->cidr4[lo].ind);
	}
}

void match__lookup_ip6(const struct match_index *x, const unsigned char addr[16],
                       match__found_fn fn, void *arg)
{
	for (unsigned w = 0; w < 3; w++) {
		uint64_t plens = x->h->cidr6_plens[w];

		while (plens) {
			unsigned p = w * 64 + (unsigned)__builtin_ctzll(plens);
			struct match__cidr6 key;
			uint32_t lo = 0, hi = x->h->n_cidr6;

			plens &= plens - 1;
			for (unsigned i = 0; i < 16; i++) {
				unsigned keep = p >= (i + 1) * 8 ? 8 : p > i * 8 ? p - i * 8 : 0;

				key.net[i] = (unsigned char)(addr[i] & (0xff00u >> keep));
			}
			key.plen = p;
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (cmp_c6(&x->cidr6[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < x->h->n_cidr6 && cmp_c6(&x->cidr6[lo], &key) == 0; lo++)
				fn(arg, x->cidr6[lo].ind);
		}
	}
}
