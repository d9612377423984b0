/*
 * api/api.c — correlation and sightings over the value index, and the
 * /api/v1/ resources: every hit passes api_may_read (policy_may_read on the
 * version's recorded audience) before it is listed, counted or lets its
 * organisation be named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "values/values.h"

/* ---- readers ------------------------------------------------------------ */

void api_reader_operator(struct api_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->operator= 1;
}

static int add_group(void *arg, const char *group)
{
	struct api_reader *r = arg;
	size_t n = 0;

	while (r->groups[n])
		n++;
	if (n == API_MAX_GROUPS)
		return 1;
	snprintf(r->group_names[n], sizeof(r->group_names[n]), "%s", group);
	r->groups[n] = r->group_names[n];
	r->groups[n + 1] = NULL;
	return 0;
}

static enum tix_err reader_for(struct store *s, const struct policy_node *node, const char *org,
                               enum policy_role role, struct api_reader *r, struct tix_error *err)
{
	struct store_org o;
	enum tix_err e;

	memset(r, 0, sizeof(*r));
	r->node = *node;
	r->pp.role = role;
	r->pp.groups = r->groups;
	if (org == NULL || org[0] == '\0')
		return TIX_OK; /* anonymous, or no organisation: CLEAR at most */
	if ((e = store_org_get(s, org, &o, err)) != TIX_OK)
		return e;
	snprintf(r->org, sizeof(r->org), "%s", org);
	r->pp.org = r->org;
	r->org_key = o.key;
	return store_org_groups(s, org, add_group, r, err);
}

enum tix_err api_reader_org(struct store *s, const struct policy_node *node, const char *org,
                            struct api_reader *r, struct tix_error *err)
{
	return reader_for(s, node, org, POLICY_ANALYST, r, err);
}

enum tix_err api_reader_principal(struct store *s, const struct policy_node *node,
                                  const struct auth_principal *who, struct api_reader *r,
                                  struct tix_error *err)
{
	enum policy_role role = POLICY_ANONYMOUS;
	enum tix_err e;

	if (who) {
		switch (who->role) {
		case STORE_ROLE_ADMIN: role = POLICY_ADMIN; break;
		case STORE_ROLE_ANALYST: role = POLICY_ANALYST; break;
		case STORE_ROLE_READER: role = POLICY_READER; break;
		case STORE_ROLE_SENSOR: role = POLICY_SENSOR; break;
		}
	}
	e = reader_for(s, node, who ? who->org : NULL, role, r, err);
	r->reads_all_collections = who && who->role == STORE_ROLE_ADMIN;
	return e;
}

struct policy_object api_policy_object(const struct store_value_hit *h)
{
	return (struct policy_object){h->type,
	                              h->aud.tlp,
	                              h->aud.tlp_flags,
	                              h->aud.owner_org,
	                              h->aud.sharing_group,
	                              h->aud.recipients,
	                              h->aud.origin_node == NULL,
	                              NULL};
}

int api_may_read(const struct api_reader *r, const struct store_value_hit *h)
{
	struct policy_principal p;
	struct policy_object o = api_policy_object(h);

	if (r->operator)
		return policy_exercise_admits(r->pp.exercise, &o); /* drill data: docs/drill.md */
	p = r->pp;
	p.collection_reader = r->reads_all_collections || h->collection_reader;
	return policy_may_read(&r->node, &p, &o);
}

/* ---- correlation ---------------------------------------------------------- */

/* A set of vids (open addressing), so a version found twice (an address
 * inside two ranges of one object) is counted once. */
struct vidset {
	int64_t *v;
	size_t cap, n;
};

static int vidset_add(struct vidset *s, int64_t vid)
{
	size_t i;

	if (s->n * 2 >= s->cap) {
		struct vidset t = {NULL, s->cap ? s->cap * 2 : 256, 0};

		if ((t.v = calloc(t.cap, sizeof(*t.v))) == NULL)
			return -1;
		for (size_t k = 0; k < s->cap; k++)
			if (s->v[k])
				vidset_add(&t, s->v[k]);
		free(s->v);
		*s = t;
	}
	for (i = (size_t)((uint64_t)vid * 0x9e3779b97f4a7c15ull >> 20) & (s->cap - 1); s->v[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->v[i] == vid)
			return 0;
	s->v[i] = vid;
	s->n++;
	return 1;
}

/* The sightings of an object r may read: their total count and the
 * latest last_seen. */
struct counting {
	const struct api_reader *r;
	struct api_sighting_sum sum;
};

/* One readable sighting row into a total: the one copy of the arithmetic
 * the API's aggregate, scores and exports share. */
static void sum_row(struct api_sighting_sum *t, const struct store_sighting_row *row)
{
	if (t->count == 0 || row->first_seen < t->first)
		t->first = row->first_seen;
	if (t->count == 0 || row->last_seen > t->last)
		t->last = row->last_seen;
	t->count += row->count;
}

static int count_sighting(void *arg, const struct store_sighting_row *row)
{
	struct counting *c = arg;

	if (api_may_read(c->r, &row->hit))
		sum_row(&c->sum, row);
	return 0;
}

struct api_sighting_sum api_sighting_sum(struct store *s, const struct api_reader *r,
                                         const char *id)
{
	struct counting c = {r, {0, 0, 0}};

	if (id == NULL || store_sightings_of(s, id, r->org_key, count_sighting, &c, NULL) != TIX_OK)
		c.sum.count = c.sum.first = c.sum.last = 0;
	return c.sum;
}

struct api_sighting_sum api_sighting_sum_memo(struct api_sighting_memo *m, const char *id)
{
	if (strcmp(m->id, id) != 0) {
		m->sum = api_sighting_sum(m->s, m->r, id);
		snprintf(m->id, sizeof(m->id), "%s", strlen(id) < sizeof(m->id) ? id : "");
	}
	return m->sum;
}

static double score_seen(const struct values_decay_model *m, const json_t *ind, int64_t now_us,
                         int64_t last_seen);

struct listed {
	int64_t vid;
	char *id, *type, *name, *owner, *country, *modified, *body;
	size_t body_len;
	int64_t date_added;
	double score;      /* indicators; else -1 */
	int64_t sightings; /* their count, of those the reader may read */
};

struct correlating {
	struct store *s;
	int64_t now_us;
	const struct api_reader *r;
	size_t cap;
	struct vidset seen;
	size_t count; /* readable hits */
	struct listed *list;
	size_t nlist;
	int oom;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A hit from the index alone (its version's audience): counted when the
 * policy lets the reader read it, its vid kept while it may be listed. */
static int on_hit(void *arg, const struct store_value_hit *h)
{
	struct correlating *c = arg;
	int added;

	if (!api_may_read(c->r, h))
		return 0; /* neither shown nor counted */
	if ((added = vidset_add(&c->seen, h->vid)) <= 0) {
		c->oom |= added < 0;
		return added < 0;
	}
	c->count++;
	if (c->nlist <= c->cap)
		c->list[c->nlist++].vid = h->vid;
	return 0;
}

/* The row of a listed version: the policy decides again on the object's
 * own row before anything of it is shown. */
static int fill_listed(void *arg, const struct store_value_hit *h)
{
	struct correlating *c = arg;
	struct listed *l = &c->list[c->nlist];

	if (!api_may_read(c->r, h))
		return 0;
	memset(l, 0, sizeof(*l));
	l->vid = h->vid;
	l->id = strdup(h->id);
	l->type = strdup(h->type);
	l->owner = dup_or_null(h->aud.owner_org);
	l->country = dup_or_null(h->country);
	l->body = malloc(h->body_len + 1);
	if (l->body) {
		memcpy(l->body, h->body, h->body_len);
		l->body[h->body_len] = '\0';
		l->body_len = h->body_len;
	}
	l->date_added = h->date_added;
	l->score = -1;
	c->nlist++;
	if (l->id == NULL || l->type == NULL || l->body == NULL)
		c->oom = 1;
	return 1;
}

/* The listed vids' rows, in place of the vids (those the policy refuses
 * on their own row dropped, and no longer counted). */
static enum tix_err fill_list(struct correlating *c, struct tix_error *err)
{
	size_t n = c->nlist;
	enum tix_err e = TIX_OK;

	c->nlist = 0;
	for (size_t i = 0; i < n && e == TIX_OK && !c->oom; i++) {
		size_t before = c->nlist; /* <= i: slot i's vid is read first */
		int64_t vid = c->list[i].vid;

		e = store_object_version(c->s, vid, c->r->org_key, fill_listed, c, err);
		if (e == TIX_OK && c->nlist == before)
			c->count--;
	}
	for (size_t i = c->nlist; i < n; i++)
		memset(&c->list[i], 0, sizeof(c->list[i]));
	return e;
}

/* The name, modified, sightings and score of a listed object, from its
 * body and one walk of its sightings. */
static void listed_details(struct correlating *c, struct listed *l)
{
	json_t *body = json_loadb(l->body, l->body_len, 0, NULL);
	struct api_sighting_sum seen = api_sighting_sum(c->s, c->r, l->id);

	l->name = dup_or_null(json_string_value(json_object_get(body, "name")));
	l->modified = dup_or_null(json_string_value(json_object_get(body, "modified")));
	l->sightings = seen.count;
	l->score = strcmp(l->type, "indicator") == 0 && body
	                   ? score_seen(c->r->decay, body, c->now_us, seen.last)
	                   : -1;
	json_decref(body);
}

static void listed_free(struct correlating *c)
{
	for (size_t i = 0; i <= c->cap; i++) {
		free(c->list[i].id);
		free(c->list[i].type);
		free(c->list[i].name);
		free(c->list[i].owner);
		free(c->list[i].country);
		free(c->list[i].modified);
		free(c->list[i].body);
	}
	free(c->list);
	free(c->seen.v);
}

static int newest_first(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	return x->date_added < y->date_added ? 1 : x->date_added > y->date_added ? -1 : 0;
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static enum tix_err correlate_item(struct store *s, const struct api_reader *r,
                                   const struct values_item *v, const char *exclude_id,
                                   const struct api_limits *lim, json_t **out,
                                   struct tix_error *err)
{
	struct correlating c;
	struct store_value_find f;
	char text[VALUES_MAX_LEN * 2 + 64];
	const char *wl = NULL;
	json_t *res, *groups;
	int stopped = 0;
	enum tix_err e;

	memset(&c, 0, sizeof(c));
	c.s = s;
	{
		struct tix_time now;

		tix_time_now(&now);
		c.now_us = tix_time_to_us(&now);
	}
	c.r = r;
	c.cap = lim && lim->correlate_cap ? lim->correlate_cap : API_CORRELATE_CAP;
	if ((c.list = calloc(c.cap + 1, sizeof(*c.list))) == NULL)
		return tix_error_set(err, TIX_ENOMEM, "correlate", "out of memory");
	f.value = v;
	f.reader_org_key = r->org_key;
	f.budget = lim && lim->correlate_budget ? lim->correlate_budget : 10 * c.cap;
	f.cb = on_hit;
	f.arg = &c;
	f.index_only = 1;
	f.exclude_id = exclude_id;
	e = store_values_find(s, &f, &stopped, err);
	if (e == TIX_OK && c.count <= c.cap)
		e = fill_list(&c, err);
	if (e == TIX_OK && c.oom)
		e = tix_error_set(err, TIX_ENOMEM, "correlate", "out of memory");
	if (e != TIX_OK) {
		listed_free(&c);
		return e;
	}
	if (values_format(v, text, sizeof(text)) < 0)
		text[0] = '\0';
	if (lim && lim->warned)
		wl = lim->warned(lim->warned_arg, v->stix_type, text, strlen(text));
	res = json_pack("{s:s, s:s, s:I, s:b, s:b}", "value", text, "kind",
	                values_kind_name(v->kind), "count", (json_int_t)c.count, "count_exact",
	                !stopped, "over_correlated", c.count > c.cap);
	json_object_set_new(res, "warninglist", wl ? json_string(wl) : json_null());
	groups = json_array();
	if (c.count <= c.cap) {
		/* Newest first; the organisations in the order of their newest object. */
		qsort(c.list, c.nlist, sizeof(*c.list), newest_first);
		for (size_t i = 0; i < c.nlist; i++)
			listed_details(&c, &c.list[i]);
		for (size_t i = 0; i < c.nlist; i++) {
			json_t *g = NULL, *objs, *o;
			size_t k;

			json_array_foreach (groups, k, g) {
				if (same(json_string_value(json_object_get(g, "org")),
				         c.list[i].owner))
					break;
				g = NULL;
			}
			if (g == NULL) {
				g = json_pack("{s:o, s:o, s:[]}", "org",
				              c.list[i].owner ? json_string(c.list[i].owner)
				                              : json_null(),
				              "country",
				              c.list[i].country && c.list[i].country[0]
				                      ? json_string(c.list[i].country)
				                      : json_null(),
				              "objects");
				json_array_append_new(groups, g);
			}
			objs = json_object_get(g, "objects");
			o = json_pack("{s:s, s:s}", "id", c.list[i].id, "type", c.list[i].type);
			if (c.list[i].name)
				json_object_set_new(o, "name", json_string(c.list[i].name));
			if (c.list[i].modified)
				json_object_set_new(o, "modified", json_string(c.list[i].modified));
			json_object_set_new(o, "sightings", json_integer(c.list[i].sightings));
			if (c.list[i].score >= 0)
				json_object_set_new(
				        o, "score",
				        json_real((double)(int)(c.list[i].score * 10 + 0.5) / 10));
			json_array_append_new(objs, o);
		}
	}
	json_object_set_new(res, "organisations", groups);
	listed_free(&c);
	*out = res;
	return TIX_OK;
}

enum tix_err api_correlate_value(struct store *s, const struct api_reader *r, const char *value,
                                 size_t len, const struct api_limits *lim, json_t **out,
                                 struct tix_error *err)
{
	struct values_item v;
	char buf[VALUES_MAX_LEN + 64];
	const char *why;
	enum tix_err e;
	int snap;

	if (values_classify(value, len, &v, buf, sizeof(buf), &why) != 0)
		return tix_error_set(err, TIX_EINVAL, "value", "%s", why);
	snap = store_snapshot_begin(s);
	e = correlate_item(s, r, &v, NULL, lim, out, err);
	store_snapshot_end(s, snap);
	return e;
}

struct by_id {
	struct store *s;
	const struct api_reader *r;
	const char *id;
	const struct api_limits *lim;
	json_t *values;
	int readable;
	enum tix_err e;
	struct tix_error *err;
	size_t given;
};

static int correlate_one(void *arg, const struct values_item *v)
{
	struct by_id *b = arg;
	json_t *res = NULL;

	if (b->given++ >= 64)
		return 1; /* an object with more values than this is answered in part */
	if ((b->e = correlate_item(b->s, b->r, v, b->id, b->lim, &res, b->err)) != TIX_OK ||
	    res == NULL)
		return 1;
	json_array_append_new(b->values, res);
	return 0;
}

static int object_values(void *arg, const struct store_value_hit *h)
{
	struct by_id *b = arg;
	struct values_sink sink = {correlate_one, NULL, b};
	json_t *obj;

	if (!api_may_read(b->r, h))
		return 0;
	b->readable = 1;
	if ((obj = json_loadb(h->body, h->body_len, 0, NULL)) == NULL)
		return 0;
	values_from_object(obj, &sink);
	json_decref(obj);
	return b->e != TIX_OK;
}

enum tix_err api_correlate_id(struct store *s, const struct api_reader *r, const char *id,
                              const struct api_limits *lim, json_t **out, struct tix_error *err)
{
	struct by_id b = {s, r, id, lim, json_array(), 0, TIX_OK, err, 0};
	int snap = store_snapshot_begin(s);
	enum tix_err e = store_object_latest(s, id, r->org_key, object_values, &b, err);

	store_snapshot_end(s, snap);
	if (e == TIX_OK)
		e = b.e;
	if (e == TIX_OK && !b.readable)
		e = tix_error_set(err, TIX_ENOTFOUND, id, "no such object");
	if (e != TIX_OK) {
		json_decref(b.values);
		return e;
	}
	*out = json_pack("{s:s, s:o, s:b}", "id", id, "values", b.values, "values_truncated",
	                 b.given > 64);
	return TIX_OK;
}

struct readable {
	const struct api_reader *r;
	int yes;
};

static int check_readable(void *arg, const struct store_value_hit *h)
{
	struct readable *x = arg;

	x->yes |= api_may_read(x->r, h);
	return x->yes;
}

enum tix_err api_object_readable(struct store *s, const struct api_reader *r, const char *id,
                                 struct tix_error *err)
{
	struct readable x = {r, 0};
	enum tix_err e = store_object_latest(s, id, r->org_key, check_readable, &x, err);

	if (e == TIX_OK && !x.yes)
		e = tix_error_set(err, TIX_ENOTFOUND, id, "no such object");
	return e;
}

/* ---- sightings ------------------------------------------------------------- */

struct sighting_agg {
	const struct api_reader *r;
	json_t *list, *by_org, *by_sensor;
	struct api_sighting_sum t;
};

static void bump(json_t *map, const char *key, int64_t count, int64_t first, int64_t last)
{
	json_t *e = json_object_get(map, key);
	char f[32], l[32];

	tix_time_format_us(first, 3, f);
	tix_time_format_us(last, 3, l);
	if (e == NULL) {
		json_object_set_new(map, key,
		                    json_pack("{s:I, s:s, s:s, s:I, s:I}", "count",
		                              (json_int_t)count, "first_seen", f, "last_seen", l,
		                              "_f", (json_int_t)first, "_l", (json_int_t)last));
		return;
	}
	json_object_set_new(e, "count",
	                    json_integer(json_integer_value(json_object_get(e, "count")) + count));
	if (first < json_integer_value(json_object_get(e, "_f"))) {
		json_object_set_new(e, "_f", json_integer(first));
		json_object_set_new(e, "first_seen", json_string(f));
	}
	if (last > json_integer_value(json_object_get(e, "_l"))) {
		json_object_set_new(e, "_l", json_integer(last));
		json_object_set_new(e, "last_seen", json_string(l));
	}
}

static int add_sighting(void *arg, const struct store_sighting_row *row)
{
	struct sighting_agg *a = arg;
	char f[32], l[32];

	if (!api_may_read(a->r, &row->hit))
		return 0;
	tix_time_format_us(row->first_seen, 3, f);
	tix_time_format_us(row->last_seen, 3, l);
	json_array_append_new(a->list,
	                      json_pack("{s:s, s:o, s:s, s:I, s:s, s:s}", "id", row->hit.id, "org",
	                                row->hit.aud.owner_org ? json_string(row->hit.aud.owner_org)
	                                                       : json_null(),
	                                "sensor", row->sensor, "count", (json_int_t)row->count,
	                                "first_seen", f, "last_seen", l));
	bump(a->by_org, row->hit.aud.owner_org ? row->hit.aud.owner_org : "", row->count,
	     row->first_seen, row->last_seen);
	bump(a->by_sensor, row->sensor, row->count, row->first_seen, row->last_seen);
	sum_row(&a->t, row);
	return 0;
}

static void strip_private(json_t *map)
{
	const char *k;
	json_t *e;

	json_object_foreach (map, k, e) {
		json_object_del(e, "_f");
		json_object_del(e, "_l");
	}
}

enum tix_err api_sightings(struct store *s, const struct api_reader *r, const char *id,
                           json_t **out, struct tix_error *err)
{
	struct sighting_agg a = {r, json_array(), json_object(), json_object(), {0, 0, 0}};
	enum tix_err e;
	json_t *agg;

	/* The object itself must be readable: otherwise it is not there. */
	if ((e = api_object_readable(s, r, id, err)) != TIX_OK)
		goto fail;
	e = store_sightings_of(s, id, r->org_key, add_sighting, &a, err);
	if (e != TIX_OK)
		goto fail;
	strip_private(a.by_org);
	strip_private(a.by_sensor);
	agg = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)a.t.count, "by_organisation",
	                a.by_org, "by_sensor", a.by_sensor);
	if (a.t.count > 0) {
		char f[32], l[32];

		tix_time_format_us(a.t.first, 3, f);
		tix_time_format_us(a.t.last, 3, l);
		json_object_set_new(agg, "first_seen", json_string(f));
		json_object_set_new(agg, "last_seen", json_string(l));
	}
	*out = json_pack("{s:s, s:o, s:o}", "id", id, "aggregate", agg, "sightings", a.list);
	return TIX_OK;
fail:
	json_decref(a.list);
	json_decref(a.by_org);
	json_decref(a.by_sensor);
	return e;
}

/* ---- decay ------------------------------------------------------------------ */

static int first_kind(void *arg, const struct values_item *v)
{
	*(int *)arg = (int)v->kind;
	return 1;
}

static int64_t time_of(const json_t *v)
{
	struct tix_time t;

	if (json_is_string(v) && tix_time_parse(json_string_value(v), &t, NULL) == TIX_OK)
		return tix_time_to_us(&t);
	return 0;
}

/* The score of ind with last_seen the latest of its readable sightings. */
static double score_seen(const struct values_decay_model *m, const json_t *ind, int64_t now_us,
                         int64_t last_seen)
{
	struct values_decay_model dflt;
	int kind = 0;
	struct values_sink sink = {first_kind, NULL, &kind};
	const json_t *conf = json_object_get(ind, "confidence");
	int64_t ref = time_of(json_object_get(ind, "valid_from")), t, until;
	double base;

	if (m == NULL) {
		values_decay_defaults(&dflt);
		m = &dflt;
	}
	if (json_is_true(json_object_get(ind, "revoked")))
		return 0;
	until = time_of(json_object_get(ind, "valid_until"));
	if (until && until <= now_us)
		return 0;
	base = json_is_integer(conf) ? (double)json_integer_value(conf) : m->default_confidence;
	if (base > 100)
		base = 100;
	values_from_object(ind, &sink);
	if ((t = time_of(json_object_get(ind, "modified"))) > ref)
		ref = t;
	if (last_seen > ref)
		ref = last_seen; /* a fresh sighting raises it */
	if (kind < 0 || kind >= VALUES_KINDS)
		kind = 0;
	return values_decay_score(&m->rule[kind], base, (double)(now_us - ref) / 86400e6);
}

double api_indicator_score(struct store *s, const struct api_reader *r,
                           const struct values_decay_model *m, const json_t *ind, int64_t now_us)
{
	return score_seen(
	        m, ind, now_us,
	        api_sighting_sum(s, r, json_string_value(json_object_get(ind, "id"))).last);
}
