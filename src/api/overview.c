/*
 * api/overview.c — the JSON the console reads beside search and
 * correlation: GET /api/v1/summary (objects by type, TLP and organisation,
 * what arrived in the last 24 h, additions per day) and GET
 * /api/v1/objects/{id} (its latest version). Every object passes
 * api_may_read first: what the caller may not read is neither counted nor shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define RECENT_LISTED 20
#define DAYS          14
#define DAY_US        (INT64_C(86400) * 1000000)

struct recent {
	int64_t date_added;
	char id[300];
	char type[64];
	char org[128];
	const char *tlp;
	char *name;
};

struct summing {
	const struct api_reader *r;
	int64_t now_us;
	int64_t total, recent_count;
	int64_t days[DAYS];
	json_t *by_type, *by_tlp, *by_org;
	struct recent recent[RECENT_LISTED];
	size_t nrecent;
};

static void bump(json_t *map, const char *key)
{
	json_t *n = json_object_get(map, key);

	if (n)
		json_integer_set(n, json_integer_value(n) + 1);
	else
		json_object_set_new(map, key, json_integer(1));
}

static const char *tlp_of(const struct api_reader *r, const struct store_value_hit *h)
{
	struct policy_object o = api_policy_object(h);

	return stix_tlp_name(policy_effective_tlp(&r->node, &o));
}

static void keep_recent(struct summing *x, const struct store_value_hit *h, const char *tlp)
{
	struct recent *slot = NULL;

	if (x->nrecent < RECENT_LISTED) {
		slot = &x->recent[x->nrecent++];
	} else {
		for (size_t i = 0; i < RECENT_LISTED; i++)
			if (slot == NULL || x->recent[i].date_added < slot->date_added)
				slot = &x->recent[i];
		if (slot->date_added > h->date_added)
			return;
	}
	memset(slot, 0, sizeof(*slot));
	slot->date_added = h->date_added;
	snprintf(slot->id, sizeof(slot->id), "%s", h->id);
	snprintf(slot->type, sizeof(slot->type), "%s", h->type);
	snprintf(slot->org, sizeof(slot->org), "%s", h->aud.owner_org ? h->aud.owner_org : "");
	slot->tlp = tlp;
}

struct naming {
	const struct api_reader *r;
	struct recent *x;
};

/* The name (or value) of a listed object, read once the 20 are known (not
 * for every candidate of the walk). */
static int name_of(void *arg, const struct store_value_hit *h)
{
	struct naming *n = arg;
	json_t *body;
	const char *name;

	if (!api_may_read(n->r, h))
		return 0;
	body = json_loadb(h->body, h->body_len, 0, NULL);
	name = json_string_value(json_object_get(body, "name"));
	if (name == NULL)
		name = json_string_value(json_object_get(body, "value"));
	if (name) {
		size_t len = strnlen(name, 200);

		/* Cut before a character, never inside one (JSON takes only
		 * whole UTF-8: the name would be lost). */
		while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
		n->x->name = strndup(name, len);
	} else {
		n->x->name = NULL;
	}
	json_decref(body);
	return 1;
}

static int on_object(void *arg, const struct store_value_hit *h)
{
	struct summing *x = arg;
	const char *tlp;
	int64_t age;

	if (!api_may_read(x->r, h))
		return 0; /* never counted */
	tlp = tlp_of(x->r, h);
	x->total++;
	bump(x->by_type, h->type);
	bump(x->by_tlp, tlp);
	bump(x->by_org, h->aud.owner_org && h->aud.owner_org[0] ? h->aud.owner_org : "(none)");
	age = x->now_us - h->date_added;
	if (age >= 0 && age < DAYS * DAY_US)
		x->days[DAYS - 1 - age / DAY_US]++;
	if (age < DAY_US) {
		x->recent_count++;
		keep_recent(x, h, tlp);
	}
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct recent *x = a, *y = b;

	return x->date_added < y->date_added ? 1 : x->date_added > y->date_added ? -1 : 0;
}

void api_summary_answer(struct store *s, const struct api_reader *r, struct api_response *resp)
{
	struct summing x;
	struct tix_error err;
	struct tix_time now;
	json_t *out, *recent, *days;
	enum tix_err e;

	memset(&x, 0, sizeof(x));
	tix_error_clear(&err);
	tix_time_now(&now);
	x.r = r;
	x.now_us = tix_time_to_us(&now);
	x.by_type = json_object();
	x.by_tlp = json_object();
	x.by_org = json_object();
	e = store_latest_each(s, r->org_key, on_object, &x, &err);
	qsort(x.recent, x.nrecent, sizeof(x.recent[0]), newest_first);
	for (size_t i = 0; i < x.nrecent && e == TIX_OK; i++) {
		struct naming n = {r, &x.recent[i]};

		e = store_object_latest(s, x.recent[i].id, r->org_key, name_of, &n, &err);
	}
	recent = json_array();
	for (size_t i = 0; i < x.nrecent; i++) {
		char when[40];
		json_t *o;

		tix_time_format_us(x.recent[i].date_added, 3, when);
		o = json_pack("{s:s, s:s, s:s, s:s}", "id", x.recent[i].id, "type",
		              x.recent[i].type, "tlp", x.recent[i].tlp, "date_added", when);
		if (x.recent[i].org[0])
			json_object_set_new(o, "org", json_string(x.recent[i].org));
		if (x.recent[i].name)
			json_object_set_new(o, "name", json_string(x.recent[i].name));
		json_array_append_new(recent, o);
		/* What the answer reveals is audited as a read. */
		if (tix_buf_len(&resp->audit_ids) == 0)
			tix_buf_addc(&resp->audit_ids, '\n');
		tix_buf_adds(&resp->audit_ids, x.recent[i].id);
		tix_buf_addc(&resp->audit_ids, '\n');
		free(x.recent[i].name);
	}
	days = json_array();
	for (int i = 0; i < DAYS; i++)
		json_array_append_new(days, json_integer(x.days[i]));
	out = json_pack("{s:I, s:o, s:o, s:o, s:I, s:o, s:o}", "total", (json_int_t)x.total,
	                "by_type", x.by_type, "by_tlp", x.by_tlp, "by_org", x.by_org, "last_24h",
	                (json_int_t)x.recent_count, "recent", recent, "added_per_day", days);
	if (e != TIX_OK) {
		tix_buf_reset(&resp->audit_ids);
		api_answer_error(resp, 500, "Internal error", err.msg);
	} else if (out == NULL) {
		api_answer_error(resp, 500, "Internal error", "out of memory");
	} else {
		api_answer_json(resp, out);
	}
	json_decref(out);
}

struct finding_one {
	const struct api_reader *r;
	json_t *out;
};

static int on_version(void *arg, const struct store_value_hit *h)
{
	struct finding_one *f = arg;
	json_t *body;
	char when[40];

	if (!api_may_read(f->r, h))
		return 0;
	if ((body = json_loadb(h->body, h->body_len, 0, NULL)) == NULL)
		return 0;
	tix_time_format_us(h->date_added, 3, when);
	f->out = json_pack(
	        "{s:o, s:s, s:s, s:o, s:o}", "object", body, "tlp", tlp_of(f->r, h), "date_added",
	        when, "org", h->aud.owner_org ? json_string(h->aud.owner_org) : json_null(),
	        "country", h->country && h->country[0] ? json_string(h->country) : json_null());
	return 1;
}

void api_object_answer(struct store *s, const struct api_reader *r, const char *id,
                       struct api_response *resp)
{
	struct finding_one f = {r, NULL};
	struct tix_error err;
	enum tix_err e;

	tix_error_clear(&err);
	e = store_object_latest(s, id, r->org_key, on_version, &f, &err);
	if (e != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
	} else if (f.out == NULL) {
		api_answer_error(resp, 404, "Not found", "no such object");
	} else {
		api_answer_json(resp, f.out);
		tix_buf_addc(&resp->audit_ids, '\n');
		tix_buf_adds(&resp->audit_ids, id);
		tix_buf_addc(&resp->audit_ids, '\n');
	}
	json_decref(f.out);
}

/* ---- the object's relationships and versions (the object page) ------------------- */

#define RELATIONSHIPS_LISTED 200

struct relating {
	const struct api_reader *r;
	const char *id;
	json_t *list;
	size_t more;
};

static int on_relationship(void *arg, const struct store_value_hit *h)
{
	struct relating *x = arg;
	json_t *body, *o;
	const char *src, *tgt;

	if (!api_may_read(x->r, h))
		return 0;
	if (json_array_size(x->list) >= RELATIONSHIPS_LISTED) {
		x->more++;
		return 0;
	}
	if ((body = json_loadb(h->body, h->body_len, 0, NULL)) == NULL)
		return 0;
	src = json_string_value(json_object_get(body, "source_ref"));
	tgt = json_string_value(json_object_get(body, "target_ref"));
	if (src && tgt) {
		int out = strcmp(src, x->id) == 0;

		o = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s}", "id", h->id,
		              "relationship_type",
		              json_string_value(json_object_get(body, "relationship_type")),
		              "source_ref", src, "target_ref", tgt, "direction", out ? "out" : "in",
		              "other", out ? tgt : src, "tlp", tlp_of(x->r, h));
		if (o)
			json_array_append_new(x->list, o);
	}
	json_decref(body);
	return 0;
}

struct other_end {
	const struct api_reader *r;
	json_t *entry;
};

static int on_other_end(void *arg, const struct store_value_hit *h)
{
	struct other_end *x = arg;
	json_t *body;
	const char *name;

	if (!api_may_read(x->r, h))
		return 0;
	json_object_set_new(x->entry, "other_type", json_string(h->type));
	json_object_set_new(x->entry, "other_readable", json_true());
	if ((body = json_loadb(h->body, h->body_len, 0, NULL)) != NULL) {
		name = json_string_value(json_object_get(body, "name"));
		if (name == NULL)
			name = json_string_value(json_object_get(body, "value"));
		if (name)
			json_object_set_new(x->entry, "other_name", json_string(name));
		json_decref(body);
	}
	return 1;
}

static void audit_add(struct api_response *resp, const char *id)
{
	if (tix_buf_len(&resp->audit_ids) == 0)
		tix_buf_addc(&resp->audit_ids, '\n');
	tix_buf_adds(&resp->audit_ids, id);
	tix_buf_addc(&resp->audit_ids, '\n');
}

void api_relationships_answer(struct store *s, const struct api_reader *r, const char *id,
                              struct api_response *resp)
{
	struct relating x = {r, id, json_array(), 0};
	struct tix_error err;
	json_t *out, *e;
	size_t i;
	enum tix_err rc;

	tix_error_clear(&err);
	rc = api_object_readable(s, r, id, &err);
	if (rc == TIX_OK)
		rc = store_relationships_of(s, id, r->org_key, on_relationship, &x, &err);
	/* The other ends: named when the caller may read them, else only
	 * their id (which the relationship it may read holds anyway). */
	json_array_foreach (x.list, i, e) {
		struct other_end o = {r, e};

		if (rc != TIX_OK)
			break;
		json_object_set_new(e, "other_readable", json_false());
		rc = store_object_latest(s, json_string_value(json_object_get(e, "other")),
		                         r->org_key, on_other_end, &o, &err);
	}
	if (rc == TIX_ENOTFOUND) {
		api_answer_error(resp, 404, "Not found", "no such object");
	} else if (rc != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
	} else if ((out = json_pack("{s:O, s:b}", "relationships", x.list, "more", x.more > 0)) ==
	           NULL) {
		api_answer_error(resp, 500, "Internal error", "out of memory");
	} else {
		api_answer_json(resp, out);
		json_decref(out);
		json_array_foreach (x.list, i, e) {
			audit_add(resp, json_string_value(json_object_get(e, "id")));
			if (json_is_true(json_object_get(e, "other_readable")))
				audit_add(resp, json_string_value(json_object_get(e, "other")));
		}
	}
	json_decref(x.list);
}

struct versioning {
	const struct api_reader *r;
	json_t *list;
};

static int on_any_version(void *arg, const struct store_value_hit *h)
{
	struct versioning *x = arg;
	struct tix_time t;
	char when[40], modified[40];

	if (!api_may_read(x->r, h))
		return 0;
	tix_time_format_us(h->date_added, 3, when);
	/* stored in canonical form (nanoseconds): shown as STIX writes it */
	snprintf(modified, sizeof(modified), "%s", h->modified);
	if (tix_time_parse(h->modified, &t, NULL) == TIX_OK)
		tix_time_format(&t, 3, modified);
	json_array_append_new(x->list,
	                      json_pack("{s:s, s:s, s:s?, s:s}", "modified", modified, "date_added",
	                                when, "org", h->aud.owner_org, "tlp", tlp_of(x->r, h)));
	return 0;
}

void api_versions_answer(struct store *s, const struct api_reader *r, const char *id,
                         struct api_response *resp)
{
	struct versioning x = {r, json_array()};
	struct tix_error err;
	json_t *out;
	enum tix_err rc;

	tix_error_clear(&err);
	rc = api_object_readable(s, r, id, &err);
	if (rc == TIX_OK)
		rc = store_object_versions(s, id, r->org_key, on_any_version, &x, &err);
	if (rc == TIX_ENOTFOUND)
		api_answer_error(resp, 404, "Not found", "no such object");
	else if (rc != TIX_OK)
		api_answer_error(resp, 500, "Internal error", err.msg);
	else if ((out = json_pack("{s:O}", "versions", x.list)) == NULL)
		api_answer_error(resp, 500, "Internal error", "out of memory");
	else {
		api_answer_json(resp, out);
		json_decref(out);
	}
	json_decref(x.list);
}
