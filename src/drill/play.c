/*
 * drill/play.c — an exercise played on its clock: start, pause, the injects
 * published when due (by `tix serve` and every `tix drill` call) into the
 * exercise collection with the exercise's marking and x_tix_exercise;
 * status; purge (docs/drill.md).
 */
#include <stdlib.h>
#include <string.h>

#include "drill/drill_int.h"

#define US 1000000LL

static int add_pub(void *arg, const char *inject, int64_t at)
{
	struct drill_run *r = arg;

	if (r->npub == r->cappub) {
		size_t cap = r->cappub ? 2 * r->cappub : 16;
		struct drill_pub *p = realloc(r->pub, cap * sizeof(*p));

		if (p == NULL) {
			r->npub = SIZE_MAX; /* out of memory: drill__open says so */
			return 1;
		}
		r->pub = p;
		r->cappub = cap;
	}
	snprintf(r->pub[r->npub].inject, sizeof(r->pub[r->npub].inject), "%s", inject);
	r->pub[r->npub++].at = at;
	return 0;
}

static int cmp_pub(const void *a, const void *b)
{
	return strcmp(((const struct drill_pub *)a)->inject, ((const struct drill_pub *)b)->inject);
}

enum tix_err drill__open(const struct drill_ctx *c, const char *id, struct drill_run *r,
                         struct tix_error *err)
{
	enum tix_err e;

	memset(r, 0, sizeof(*r));
	if ((e = store_drill_get(c->s, id, &r->d, err)) != TIX_OK)
		return e;
	r->sc = stix_json_parse(r->d.scenario, strlen(r->d.scenario), "scenario", err);
	if (r->sc == NULL) {
		store_drill_release(&r->d);
		return err ? err->code : TIX_ESTORE;
	}
	if ((e = store_drill_published_list(c->s, r->d.id, add_pub, r, err)) == TIX_OK &&
	    r->npub == SIZE_MAX)
		e = tix_error_set(err, TIX_ENOMEM, id, "out of memory");
	if (e != TIX_OK) {
		drill__close(r);
		return e;
	}
	if (r->npub > 1)
		qsort(r->pub, r->npub, sizeof(*r->pub), cmp_pub);
	return TIX_OK;
}

void drill__close(struct drill_run *r)
{
	json_decref(r->sc);
	store_drill_release(&r->d);
	free(r->pub);
	r->sc = NULL;
	r->pub = NULL;
}

static void ns_of(const struct drill_run *r, struct tix_uuid *ns)
{
	if (tix_uuid_parse(r->d.id, ns) != TIX_OK)
		memset(ns, 0, sizeof(*ns));
}

void drill__object_id(const struct drill_run *r, const char *scenario_id, char out[128])
{
	const char *dd = strstr(scenario_id, "--");
	struct tix_uuid ns, u;
	char us[37];

	ns_of(r, &ns);
	tix_uuid_v5(&ns, scenario_id, strlen(scenario_id), &u);
	tix_uuid_format(&u, us);
	snprintf(out, 128, "%.*s--%s", dd ? (int)(dd - scenario_id) : 0, scenario_id, us);
}

static void marking_id(const struct drill_run *r, char out[128])
{
	drill__object_id(r, "marking-definition--exercise", out);
}

int64_t drill__published_at(const struct drill_run *r, const char *inject)
{
	struct drill_pub key = {"", 0};
	const struct drill_pub *p;

	if (inject == NULL || r->npub == 0)
		return 0;
	snprintf(key.inject, sizeof(key.inject), "%s", inject);
	p = bsearch(&key, r->pub, r->npub, sizeof(*r->pub), cmp_pub);
	return p ? p->at : 0;
}

/* Is s an id of an object of the scenario's STIX payloads? */
static int scenario_id(const json_t *sc, const char *s)
{
	const json_t *p, *o;
	size_t i, j;

	if (s == NULL || strstr(s, "--") == NULL)
		return 0;
	json_array_foreach (json_object_get(sc, "inject_payloads"), i, p)
		json_array_foreach (json_object_get(json_object_get(p, "parameters"), "objects"), j,
		                    o)
			if (drill__str(o, "id") && strcmp(drill__str(o, "id"), s) == 0)
				return 1;
	return 0;
}

/* Every reference to an object of the scenario renamed to its id in this exercise. */
static void rename_refs(const struct drill_run *r, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	char id[128];

	if (json_is_object(v)) {
		json_object_foreach (v, k, x) {
			if (json_is_string(x) && scenario_id(r->sc, json_string_value(x))) {
				drill__object_id(r, json_string_value(x), id);
				json_object_set_new(v, k, json_string(id));
			} else {
				rename_refs(r, x);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, x) {
			if (json_is_string(x) && scenario_id(r->sc, json_string_value(x))) {
				drill__object_id(r, json_string_value(x), id);
				json_array_set_new(v, i, json_string(id));
			} else {
				rename_refs(r, x);
			}
		}
	}
}

static enum tix_err put(const struct drill_ctx *c, const struct store_collection *col, json_t *v,
                        struct tix_buf *ids, struct tix_error *err)
{
	struct stix_meta meta;
	struct tix_buf body;
	enum tix_err e;
	int added = 0;

	if ((e = stix_meta_get(v, &meta, err)) != TIX_OK)
		return e;
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	if (stix_json_dump(v, &body) != TIX_OK) {
		tix_buf_release(&body);
		return tix_error_set(err, TIX_ENOMEM, meta.id, "out of memory");
	}
	e = store_put(c->s, &meta, tix_buf_str(&body), tix_buf_len(&body), c->org, col, NULL,
	              &added, err);
	if (e == TIX_OK)
		tix_buf_addf(ids, "%s\n", meta.id);
	tix_buf_release(&body);
	return e;
}

static json_t *marking(const struct drill_run *r, const char *created)
{
	char id[128], statement[400];

	marking_id(r, id);
	snprintf(statement, sizeof(statement),
	         "EXERCISE %s (%.200s): drill data, not for production", r->d.id, r->d.name);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:s}", "type",
	                 "marking-definition", "spec_version", "2.1", "id", id, "created", created,
	                 "name", "tix exercise", "definition_type", "statement", "definition",
	                 "statement", statement, STIX_TIX_EXERCISE, r->d.id);
}

/* One inject out: the marking (first time), then its payload's objects.
 * The record that it went out comes first: when another transaction (a
 * `tix drill` command beside the server's clock) recorded it already,
 * *added is 0 and nothing is published twice. */
static enum tix_err publish(const struct drill_ctx *c, struct drill_run *r, const json_t *inject,
                            int64_t due_us, int *added, struct tix_error *err)
{
	const json_t *payload = drill__find(json_object_get(r->sc, "inject_payloads"),
	                                    drill__str(inject, "action_payload_resource_uuid"));
	const json_t *o;
	struct store_collection col;
	struct tix_buf ids;
	char when[32], mid[128], id[128], detail[256];
	enum tix_err e;
	size_t i;
	json_t *m;

	if ((e = store_drill_published_add(c->s, r->d.id, drill__str(inject, "uuid"), due_us, added,
	                                   err)) != TIX_OK ||
	    !*added)
		return e;
	if ((e = store_collection_get(c->s, r->d.collection, 0, &col, err)) != TIX_OK)
		return e;
	tix_time_format_us(r->d.started_us, 3, when);
	tix_buf_init(&ids, TIX_BUF_UNLIMITED);
	tix_buf_addc(&ids, '\n');
	m = marking(r, when);
	e = m ? put(c, &col, m, &ids, err)
	      : tix_error_set(err, TIX_ENOMEM, "drill", "out of memory");
	json_decref(m);
	marking_id(r, mid);
	tix_time_format_us(due_us, 3, when);
	if (payload && strcmp(drill__str(payload, "type"), "x-tix-stix") == 0)
		json_array_foreach (
		        json_object_get(json_object_get(payload, "parameters"), "objects"), i, o) {
			json_t *v = json_deep_copy(o);
			json_t *refs;

			if (e != TIX_OK || v == NULL)
				break;
			rename_refs(r, v);
			drill__object_id(r, drill__str(o, "id"), id);
			json_object_set_new(v, "id", json_string(id));
			if (json_object_get(v, "created"))
				json_object_set_new(v, "created", json_string(when));
			if (json_object_get(v, "modified"))
				json_object_set_new(v, "modified", json_string(when));
			refs = json_object_get(v, "object_marking_refs");
			if (!json_is_array(refs)) {
				refs = json_array();
				json_object_set_new(v, "object_marking_refs", refs);
			}
			json_array_append_new(refs, json_string(mid));
			json_object_set_new(v, STIX_TIX_EXERCISE, json_string(r->d.id));
			e = put(c, &col, v, &ids, err);
			json_decref(v);
		}
	if (e == TIX_OK) {
		struct store_audit_entry ae;

		snprintf(detail, sizeof(detail), "drill %s inject %s (%.100s) due %s", r->d.id,
		         drill__str(inject, "uuid"),
		         drill__str(inject, "name") ? drill__str(inject, "name") : "", when);
		ae = (struct store_audit_entry){c->now_us,
		                                "write",
		                                c->actor ? c->actor : "operator",
		                                c->org ? c->org : "",
		                                tix_buf_str(&ids),
		                                detail};
		e = store_audit_append(c->s, &ae, 1, err);
	}
	tix_buf_release(&ids);
	return e;
}

/* The exercise's clock: µs since its start, pauses left out. */
static int64_t elapsed(const struct drill_ctx *c, const struct store_drill *d)
{
	int64_t now = strcmp(d->state, "paused") == 0 ? d->paused_at_us : c->now_us;

	return now - d->started_us - d->paused_total_us;
}

/* Whether an inject is due and not yet published: without one, no write
 * transaction (the server asks every second). */
static int any_due(const struct drill_ctx *c, const struct drill_run *r)
{
	const json_t *step;
	size_t i;

	json_array_foreach (json_object_get(r->sc, "inject_flow"), i, step) {
		if ((int64_t)(drill__at(step) * (double)US) > elapsed(c, &r->d))
			return 0;
		if (!drill__published_at(r, drill__str(step, "inject_uuid")))
			return 1;
	}
	return 0;
}

/* Every flow step's inject out (as drill__open read them). */
static int all_published(const struct drill_run *r)
{
	const json_t *step;
	size_t i;

	json_array_foreach (json_object_get(r->sc, "inject_flow"), i, step)
		if (!drill__published_at(r, drill__str(step, "inject_uuid")))
			return 0;
	return 1;
}

/* drill_tick; *finished (when not NULL) set to 1 when the exercise is
 * running and every inject of it had gone out already. */
static enum tix_err tick(const struct drill_ctx *c, const char *id, size_t *n, int *finished,
                         struct tix_error *err)
{
	struct drill_run r;
	const json_t *step;
	enum tix_err e;
	size_t i;

	*n = 0;
	if ((e = drill__open(c, id, &r, err)) != TIX_OK)
		return e;
	if (finished)
		*finished = strcmp(r.d.state, "running") == 0 && all_published(&r);
	if ((strcmp(r.d.state, "running") != 0 && strcmp(r.d.state, "paused") != 0) ||
	    !any_due(c, &r)) {
		drill__close(&r);
		return TIX_OK;
	}
	if ((e = store_begin(c->s, err)) != TIX_OK) {
		drill__close(&r);
		return e;
	}
	/* The state again, now that the store is ours: a purge or pause that
	 * committed since it was read stops this tick. */
	{
		struct store_drill now;

		if ((e = store_drill_get(c->s, id, &now, err)) != TIX_OK ||
		    strcmp(now.state, r.d.state) != 0 ||
		    now.paused_total_us != r.d.paused_total_us) {
			store_drill_release(&now);
			store_rollback(c->s);
			drill__close(&r);
			return e;
		}
		store_drill_release(&now);
	}
	json_array_foreach (json_object_get(r.sc, "inject_flow"), i, step) {
		int64_t at = (int64_t)(drill__at(step) * (double)US);
		const char *iu = drill__str(step, "inject_uuid");
		int added = 0;

		if (at > elapsed(c, &r.d))
			break; /* in time order: the rest are later */
		if (drill__published_at(&r, iu))
			continue;
		e = publish(c, &r, drill__find(json_object_get(r.sc, "injects"), iu),
		            r.d.started_us + r.d.paused_total_us + at, &added, err);
		if (e != TIX_OK)
			break;
		*n += added ? 1u : 0u;
	}
	if (e == TIX_OK)
		e = store_commit(c->s, err);
	else
		store_rollback(c->s);
	drill__close(&r);
	return e;
}

enum tix_err drill_tick(const struct drill_ctx *c, const char *id, size_t *n, struct tix_error *err)
{
	return tick(c, id, n, NULL, err);
}

static int ids_add(struct drill_ids *l, const char *id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char(*ids)[64] = realloc(l->id, cap * sizeof(*ids));

		if (ids == NULL)
			return 1;
		l->id = ids;
		l->cap = cap;
	}
	snprintf(l->id[l->n++], 64, "%s", id);
	return 0;
}

static int ids_has(const struct drill_ids *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->id[i], id) == 0)
			return 1;
	return 0;
}

static void ids_release(struct drill_ids *l)
{
	free(l->id);
	memset(l, 0, sizeof(*l));
}

static int running_id(void *arg, const char *id)
{
	return ids_add(arg, id);
}

void drill_clock_release(struct drill_clock *clock)
{
	ids_release(&clock->done);
	ids_release(&clock->failing);
}

enum tix_err drill_tick_all(const struct drill_ctx *c, struct drill_clock *clock, size_t *n,
                            struct tix_error *err)
{
	struct drill_ids running = {0}, done = {0}, failing = {0};
	enum tix_err e;
	size_t i, one;

	*n = 0;
	/* The ids of the running exercises only; those whose injects have all
	 * gone out (the clock remembers them) are not read again. */
	e = store_drill_running(c->s, running_id, &running, err);
	/* Each exercise on its own: one that cannot publish (its collection
	 * removed by hand, a store error) is reported and the others go on. */
	for (i = 0; e == TIX_OK && i < running.n; i++) {
		const char *id = running.id[i];
		struct tix_error one_err;
		int finished = 0, failed_before = clock && ids_has(&clock->failing, id);

		if (clock && ids_has(&clock->done, id)) {
			ids_add(&done, id);
			continue;
		}
		tix_error_clear(&one_err);
		if (tick(c, id, &one, &finished, &one_err) != TIX_OK) {
			if (!failed_before)
				tix_log_error(
				        "drill: exercise %s: %s: %s (said again when it publishes)",
				        id, one_err.where, one_err.msg);
			ids_add(&failing, id);
		} else {
			if (failed_before)
				tix_log_error("drill: exercise %s: publishing again", id);
			*n += one;
		}
		if (finished)
			ids_add(&done, id);
	}
	/* what is remembered: the finished and the failing among the running
	 * (a purged or paused one leaves the lists) */
	if (clock && e == TIX_OK) {
		drill_clock_release(clock);
		clock->done = done;
		clock->failing = failing;
	} else {
		ids_release(&done);
		ids_release(&failing);
	}
	ids_release(&running);
	return e;
}

static enum tix_err save(const struct drill_ctx *c, const struct store_drill *d, const char *detail,
                         struct tix_error *err)
{
	struct store_audit_entry ae = {
	        c->now_us, "write", c->actor ? c->actor : "operator", c->org ? c->org : "",
	        "",        detail};
	enum tix_err e;

	if ((e = store_begin(c->s, err)) != TIX_OK)
		return e;
	e = store_drill_update(c->s, d, err);
	if (e == TIX_OK)
		e = store_audit_append(c->s, &ae, 1, err);
	if (e == TIX_OK)
		return store_commit(c->s, err);
	store_rollback(c->s);
	return e;
}

enum tix_err drill_start(const struct drill_ctx *c, const char *id, int at_now,
                         struct tix_error *err)
{
	struct store_drill d;
	char detail[160];
	enum tix_err e;

	if ((e = store_drill_get(c->s, id, &d, err)) != TIX_OK)
		return e;
	if (strcmp(d.state, "paused") == 0) {
		d.paused_total_us += c->now_us - d.paused_at_us;
		d.paused_at_us = 0;
	} else if (strcmp(d.state, "loaded") == 0) {
		if (!at_now && d.scheduled_us == 0)
			e = tix_error_set(
			        err, TIX_EUSAGE, id,
			        "the scenario names no exercise.x_tix_start: start it --now");
		else if (!at_now && d.scheduled_us < c->now_us)
			e = tix_error_set(err, TIX_EUSAGE, id,
			                  "its scheduled start has passed: start it --now");
		d.started_us = at_now ? c->now_us : d.scheduled_us;
	} else {
		e = tix_error_set(err, TIX_EUSAGE, id, "the exercise is %s", d.state);
	}
	snprintf(d.state, sizeof(d.state), "running");
	snprintf(detail, sizeof(detail), "drill start %s", id);
	if (e == TIX_OK)
		e = save(c, &d, detail, err);
	store_drill_release(&d);
	return e;
}

enum tix_err drill_pause(const struct drill_ctx *c, const char *id, struct tix_error *err)
{
	struct store_drill d;
	char detail[160];
	enum tix_err e;

	if ((e = store_drill_get(c->s, id, &d, err)) != TIX_OK)
		return e;
	if (strcmp(d.state, "running") != 0)
		e = tix_error_set(err, TIX_EUSAGE, id, "the exercise is %s, not running", d.state);
	d.paused_at_us = c->now_us;
	snprintf(d.state, sizeof(d.state), "paused");
	snprintf(detail, sizeof(detail), "drill pause %s", id);
	if (e == TIX_OK)
		e = save(c, &d, detail, err);
	store_drill_release(&d);
	return e;
}

enum tix_err drill_status(const struct drill_ctx *c, const char *id, FILE *out,
                          struct tix_error *err)
{
	struct drill_run r;
	const json_t *step;
	enum tix_err e;
	size_t i;
	char t[32];

	if ((e = drill__open(c, id, &r, err)) != TIX_OK)
		return e;
	fprintf(out, "exercise %s  %s  %s\ncollection %s\n", r.d.id, r.d.name, r.d.state,
	        r.d.collection);
	if (r.d.started_us)
		fprintf(out, "started %s\n", tix_time_format_us(r.d.started_us, 0, t));
	else if (r.d.scheduled_us)
		fprintf(out, "scheduled %s\n", tix_time_format_us(r.d.scheduled_us, 0, t));
	json_array_foreach (json_object_get(r.sc, "inject_flow"), i, step) {
		const char *iu = drill__str(step, "inject_uuid");
		const json_t *inj = drill__find(json_object_get(r.sc, "injects"), iu);
		int64_t pub = drill__published_at(&r, iu);
		int64_t at = (int64_t)(drill__at(step) * (double)US);

		if (pub)
			fprintf(out, "  +%6llds  published %s  %s\n", (long long)(at / US),
			        tix_time_format_us(pub, 0, t),
			        drill__str(inj, "name") ? drill__str(inj, "name") : iu);
		else if (r.d.started_us)
			fprintf(out, "  +%6llds  due %s  %s\n", (long long)(at / US),
			        tix_time_format_us(r.d.started_us + r.d.paused_total_us + at, 0, t),
			        drill__str(inj, "name") ? drill__str(inj, "name") : iu);
		else
			fprintf(out, "  +%6llds  pending  %s\n", (long long)(at / US),
			        drill__str(inj, "name") ? drill__str(inj, "name") : iu);
	}
	drill__close(&r);
	return TIX_OK;
}

enum tix_err drill_purge(const struct drill_ctx *c, const char *id, size_t *removed,
                         struct tix_error *err)
{
	struct store_drill d;
	struct store_collection col;
	struct store_taxii_filter f;
	struct store_audit_entry ae;
	char detail[200];
	enum tix_err e;

	*removed = 0;
	/* One transaction: the objects go, the exercise is marked purged and
	 * one audit entry says so, together; a clock (tix serve) ticking
	 * beside it reads the state again in its own transaction and publishes
	 * nothing into a purged exercise. */
	if ((e = store_begin(c->s, err)) != TIX_OK)
		return e;
	if ((e = store_drill_get(c->s, id, &d, err)) != TIX_OK) {
		store_rollback(c->s);
		return e;
	}
	if ((e = store_collection_get(c->s, d.collection, 0, &col, err)) == TIX_OK) {
		memset(&f, 0, sizeof(f));
		f.collection = &col;
		f.version_all = 1;
		e = store_taxii_delete(c->s, &f, removed, err);
	} else if (e == TIX_ENOTFOUND) {
		e = TIX_OK; /* the collection was removed by hand */
	}
	snprintf(detail, sizeof(detail),
	         "drill purge %s: every object of the exercise removed (%zu versions)", id,
	         *removed);
	ae = (struct store_audit_entry){
	        c->now_us, "delete", c->actor ? c->actor : "operator", c->org ? c->org : "",
	        "",        detail};
	if (e == TIX_OK) {
		snprintf(d.state, sizeof(d.state), "purged");
		d.purged_us = c->now_us;
		e = store_drill_update(c->s, &d, err);
	}
	if (e == TIX_OK)
		e = store_audit_append(c->s, &ae, 1, err);
	if (e == TIX_OK)
		e = store_commit(c->s, err);
	else
		store_rollback(c->s);
	if (e != TIX_OK)
		*removed = 0;
	store_drill_release(&d);
	return e;
}
