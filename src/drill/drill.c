/*
 * drill/drill.c — a cyber drill's scenario (CEXF with tix's extensions,
 * docs/drill.md) checked whole before anything is stored, loaded, and
 * played: its timed STIX injects published, on the drill's clock, into the
 * exercise collection, each marked as exercise data; purged whole after.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill_int.h"
#include "values/values.h"

/* ---- the scenario's shape ---------------------------------------------------- */

static const char *const top_keys[] = {"exercise", "inject_flow", "inject_payloads", "injects",
                                       NULL};
static const char *const exercise_keys[] = {
        "description", "expanded",       "meta", "name",        "namespace",
        "tags",        "total_duration", "uuid", "valid_until", "version",
        "x_tix_start", "x_tix_teams",    NULL};
static const char *const flow_keys[] = {
        "description", "inject_uuid", "reporting_callback", "requirements", "sequence",
        "timing",      NULL};
static const char *const timing_keys[] = {"triggered_at", NULL};
static const char *const payload_keys[] = {"name", "parameters", "type", "uuid", NULL};
static const char *const inject_keys[] = {"action",
                                          "action_payload_resource_uuid",
                                          "inject_evaluation",
                                          "name",
                                          "target_tool",
                                          "uuid",
                                          "x_tix_expect",
                                          NULL};
static const char *const expect_keys[] = {"indicator", "value", "kind", "teams", "window", NULL};
static const char *const kinds[] = {"domain", "ipv4", "url", NULL};

static int in_list(const char *const *list, const char *k)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], k) == 0)
			return 1;
	return 0;
}

static enum tix_err known_keys(const json_t *o, const char *const *keys, const char *where,
                               struct tix_error *err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return tix_error_set(err, TIX_EINVAL, where, "not a JSON object");
	json_object_foreach ((json_t *)o, k, v) {
		(void)v;
		if (!in_list(keys, k))
			return tix_error_set(err, TIX_EINVAL, where,
			                     "unknown field '%s' (CEXF and docs/drill.md name the "
			                     "fields a scenario may have)",
			                     k);
	}
	return TIX_OK;
}

const char *drill__str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

const json_t *drill__find(const json_t *list, const char *uuid)
{
	const json_t *v;
	size_t i;

	json_array_foreach (list, i, v) {
		const char *u = drill__str(v, "uuid");

		if (u && uuid && strcmp(u, uuid) == 0)
			return v;
	}
	return NULL;
}

double drill__at(const json_t *flow_step)
{
	const json_t *t = json_object_get(json_object_get(flow_step, "timing"), "triggered_at");
	double v = json_is_number(t) ? json_number_value(t) : 0.0;

	/* drill_parse refuses more; a scenario an older tix stored may hold
	 * more, and the µs clock must not overflow on it */
	return v >= 0 ? (v <= DRILL_MAX_OFFSET ? v : DRILL_MAX_OFFSET) : 0.0;
}

static enum tix_err check_objects(const json_t *objs, const char *where, struct tix_error *err)
{
	struct stix_validate_opts vopts = {0, NULL};
	const json_t *v;
	size_t i;

	if (!json_is_array(objs) || json_array_size(objs) == 0)
		return tix_error_set(err, TIX_EINVAL, where,
		                     "an x-tix-stix payload has parameters.objects: a non-empty "
		                     "array of STIX objects");
	json_array_foreach (objs, i, v) {
		struct stix_problems probs;
		char path[160];
		size_t bad;

		snprintf(path, sizeof(path), "%s.objects[%zu]", where, i);
		stix_problems_init(&probs);
		bad = stix_validate(v, path, &vopts, &probs);
		if (bad > 0) {
			tix_error_set(err, TIX_EINVAL, path, "not valid STIX: %s",
			              probs.count ? probs.msgs[0] : "invalid");
			stix_problems_release(&probs);
			return TIX_EINVAL;
		}
		stix_problems_release(&probs);
		if (drill__str(v, STIX_TIX_EXERCISE))
			return tix_error_set(err, TIX_EINVAL, path,
			                     "x_tix_exercise is set when the inject is published");
	}
	return TIX_OK;
}

/* An id among the payload's objects. */
static int has_object(const json_t *payload, const char *id)
{
	const json_t *v;
	size_t i;

	json_array_foreach (json_object_get(json_object_get(payload, "parameters"), "objects"), i,
	                    v) {
		const char *o = drill__str(v, "id");

		if (o && id && strcmp(o, id) == 0)
			return 1;
	}
	return 0;
}

/* s is a UUID ("8-4-4-4-12" hex digits). */
static int is_uuid(const char *s)
{
	struct tix_uuid u;

	return s && strlen(s) == 36 && tix_uuid_parse(s, &u) == TIX_OK;
}

/* s is a STIX id of type: "type--" and a UUID. */
static int is_stix_id(const char *s, const char *type)
{
	size_t n = strlen(type);

	return s && strncmp(s, type, n) == 0 && strncmp(s + n, "--", 2) == 0 && is_uuid(s + n + 2);
}

/* The planted value is one of its kind, as the matcher reads it: a domain
 * or URL its normaliser accepts, an IPv4 address inet_pton reads. */
static int value_of_kind(const char *kind, const char *v)
{
	size_t n = strlen(v);
	char *buf = malloc(2 * n + 64);
	struct in_addr a;
	int ok = 0;

	if (buf == NULL)
		return 0;
	if (strcmp(kind, "domain") == 0)
		ok = values_norm_domain(v, n, buf) >= 0;
	else if (strcmp(kind, "url") == 0)
		ok = values_norm_url(v, n, buf, 2 * n + 64) >= 0;
	else if (strcmp(kind, "ipv4") == 0)
		ok = inet_pton(AF_INET, v, &a) == 1;
	free(buf);
	return ok;
}

static enum tix_err check_expect(const json_t *x, const json_t *payload, const json_t *teams,
                                 const char *where, struct tix_error *err)
{
	const json_t *t;
	size_t i;
	enum tix_err e;
	char path[160];

	snprintf(path, sizeof(path), "%s.x_tix_expect", where);
	if ((e = known_keys(x, expect_keys, path, err)) != TIX_OK)
		return e;
	if (payload == NULL ||
	    strcmp(drill__str(payload, "type") ? drill__str(payload, "type") : "", "x-tix-stix") !=
	            0)
		return tix_error_set(err, TIX_EINVAL, path,
		                     "expected detections need an x-tix-stix payload");
	if (!is_stix_id(drill__str(x, "indicator"), "indicator"))
		return tix_error_set(err, TIX_EINVAL, path,
		                     "indicator: a STIX indicator id (indicator--UUID)");
	if (!has_object(payload, drill__str(x, "indicator")))
		return tix_error_set(err, TIX_EINVAL, path,
		                     "indicator '%s' is not among the payload's objects",
		                     drill__str(x, "indicator") ? drill__str(x, "indicator") : "");
	if (drill__str(x, "value") == NULL || drill__str(x, "value")[0] == '\0' ||
	    strpbrk(drill__str(x, "value"), " \t\r\n\"") != NULL)
		return tix_error_set(err, TIX_EINVAL, path,
		                     "value: the observable planted in the logs (no spaces)");
	if (drill__str(x, "kind") == NULL || !in_list(kinds, drill__str(x, "kind")))
		return tix_error_set(err, TIX_EINVAL, path, "kind: domain, ipv4 or url");
	if (!value_of_kind(drill__str(x, "kind"), drill__str(x, "value")))
		return tix_error_set(err, TIX_EINVAL, path, "value '%s' is not a valid %s",
		                     drill__str(x, "value"), drill__str(x, "kind"));
	if (json_object_get(x, "window") &&
	    (!json_is_integer(json_object_get(x, "window")) ||
	     json_integer_value(json_object_get(x, "window")) <= 0 ||
	     json_integer_value(json_object_get(x, "window")) > DRILL_MAX_OFFSET))
		return tix_error_set(err, TIX_EINVAL, path,
		                     "window: whole seconds, 1 to %d (366 days)", DRILL_MAX_OFFSET);
	if (!json_is_array(json_object_get(x, "teams")) ||
	    json_array_size(json_object_get(x, "teams")) == 0)
		return tix_error_set(err, TIX_EINVAL, path,
		                     "teams: the teams expected to detect it");
	json_array_foreach (json_object_get(x, "teams"), i, t) {
		const json_t *u;
		size_t j;
		int found = 0;

		json_array_foreach (teams, j, u)
			found |= json_is_string(t) && json_equal((json_t *)t, (json_t *)u);
		if (!found)
			return tix_error_set(err, TIX_EINVAL, path,
			                     "team '%s' is not in exercise.x_tix_teams",
			                     json_is_string(t) ? json_string_value(t) : "?");
	}
	return TIX_OK;
}

static enum tix_err check_exercise(const json_t *ex, int64_t now_us, struct tix_error *err)
{
	const json_t *t, *v;
	size_t i;
	enum tix_err e;

	if ((e = known_keys(ex, exercise_keys, "exercise", err)) != TIX_OK)
		return e;
	if (!is_uuid(drill__str(ex, "uuid")))
		return tix_error_set(err, TIX_EINVAL, "exercise.uuid", "not a UUID");
	if (drill__str(ex, "name") == NULL || drill__str(ex, "name")[0] == '\0')
		return tix_error_set(err, TIX_EINVAL, "exercise.name", "missing");
	if (json_object_get(ex, "x_tix_start")) {
		struct tix_time st;
		struct tix_error e2;

		if (drill__str(ex, "x_tix_start") == NULL ||
		    tix_time_parse(drill__str(ex, "x_tix_start"), &st, &e2) != TIX_OK)
			return tix_error_set(err, TIX_EINVAL, "exercise.x_tix_start",
			                     "not an RFC 3339 timestamp");
		if (tix_time_to_us(&st) < now_us)
			return tix_error_set(err, TIX_EINVAL, "exercise.x_tix_start",
			                     "the schedule is in the past (%s); move the start",
			                     drill__str(ex, "x_tix_start"));
	}
	t = json_object_get(ex, "x_tix_teams");
	if (t && !json_is_array(t))
		return tix_error_set(err, TIX_EINVAL, "exercise.x_tix_teams",
		                     "an array of team (organisation) names");
	json_array_foreach (t, i, v) {
		const char *n = json_string_value(v);
		int ctl = 0;

		for (const unsigned char *p = (const unsigned char *)n; p && *p; p++)
			ctl |= *p < 0x20 || *p == 0x7f;
		/* organisation names, as tix admin org add takes them */
		if (n == NULL || n[0] == '\0' || strlen(n) > 127 || ctl || strchr(n, ',') != NULL)
			return tix_error_set(err, TIX_EINVAL, "exercise.x_tix_teams",
			                     "team names are organisation names: 1 to 127 bytes, "
			                     "no control characters, no ','");
	}
	return TIX_OK;
}

json_t *drill_parse(const char *text, size_t len, int64_t now_us, struct tix_error *err)
{
	json_t *sc = stix_json_parse(text, len, "scenario", err);
	const json_t *flow, *payloads, *injects, *v, *teams;
	double last = -1;
	size_t i, expects = 0;
	char where[96];

	if (sc == NULL)
		return NULL;
	if (known_keys(sc, top_keys, "scenario", err) != TIX_OK)
		goto bad;
	for (i = 0; top_keys[i]; i++)
		if (json_object_get(sc, top_keys[i]) == NULL) {
			tix_error_set(err, TIX_EINVAL, top_keys[i], "missing (CEXF requires it)");
			goto bad;
		}
	if (check_exercise(json_object_get(sc, "exercise"), now_us, err) != TIX_OK)
		goto bad;
	teams = json_object_get(json_object_get(sc, "exercise"), "x_tix_teams");
	flow = json_object_get(sc, "inject_flow");
	payloads = json_object_get(sc, "inject_payloads");
	injects = json_object_get(sc, "injects");
	if (!json_is_array(flow) || !json_is_array(payloads) || !json_is_array(injects)) {
		tix_error_set(err, TIX_EINVAL, "scenario",
		              "inject_flow, inject_payloads and injects are arrays");
		goto bad;
	}
	json_array_foreach (payloads, i, v) {
		snprintf(where, sizeof(where), "inject_payloads[%zu]", i);
		if (known_keys(v, payload_keys, where, err) != TIX_OK)
			goto bad;
		if (!is_uuid(drill__str(v, "uuid")) || drill__str(v, "type") == NULL) {
			tix_error_set(err, TIX_EINVAL, where,
			              "a payload has a uuid (a UUID) and a type");
			goto bad;
		}
		if (drill__find(payloads, drill__str(v, "uuid")) != v) {
			tix_error_set(err, TIX_EINVAL, where, "uuid '%s' is used twice",
			              drill__str(v, "uuid"));
			goto bad;
		}
		if (strcmp(drill__str(v, "type"), "x-tix-stix") == 0 &&
		    check_objects(json_object_get(json_object_get(v, "parameters"), "objects"),
		                  where, err) != TIX_OK)
			goto bad;
	}
	json_array_foreach (injects, i, v) {
		const char *p;
		const json_t *payload;

		snprintf(where, sizeof(where), "injects[%zu]", i);
		if (known_keys(v, inject_keys, where, err) != TIX_OK)
			goto bad;
		if (!is_uuid(drill__str(v, "uuid")) ||
		    drill__find(injects, drill__str(v, "uuid")) != v) {
			tix_error_set(err, TIX_EINVAL, where,
			              "an inject has a uuid of its own (a UUID, used once)");
			goto bad;
		}
		p = drill__str(v, "action_payload_resource_uuid");
		payload = p ? drill__find(payloads, p) : NULL;
		if (p && payload == NULL) {
			tix_error_set(
			        err, TIX_EINVAL, where,
			        "action_payload_resource_uuid '%s' names no inject_payloads entry",
			        p);
			goto bad;
		}
		if (json_object_get(v, "x_tix_expect") && ++expects > DRILL_MAX_EXPECT) {
			tix_error_set(err, TIX_EINVAL, where,
			              "more than %d injects with x_tix_expect", DRILL_MAX_EXPECT);
			goto bad;
		}
		if (json_object_get(v, "x_tix_expect") &&
		    check_expect(json_object_get(v, "x_tix_expect"), payload, teams, where, err) !=
		            TIX_OK)
			goto bad;
	}
	json_array_foreach (flow, i, v) {
		const json_t *t;
		double at;

		snprintf(where, sizeof(where), "inject_flow[%zu]", i);
		if (known_keys(v, flow_keys, where, err) != TIX_OK)
			goto bad;
		if (drill__find(injects, drill__str(v, "inject_uuid")) == NULL) {
			tix_error_set(err, TIX_EINVAL, where, "inject_uuid '%s' names no inject",
			              drill__str(v, "inject_uuid") ? drill__str(v, "inject_uuid")
			                                           : "");
			goto bad;
		}
		if (json_object_get(v, "timing")) {
			snprintf(where, sizeof(where), "inject_flow[%zu].timing", i);
			if (known_keys(json_object_get(v, "timing"), timing_keys, where, err) !=
			    TIX_OK)
				goto bad;
			t = json_object_get(json_object_get(v, "timing"), "triggered_at");
			if (t && !json_is_null(t) &&
			    (!json_is_number(t) || !(json_number_value(t) >= 0) ||
			     json_number_value(t) > DRILL_MAX_OFFSET)) {
				tix_error_set(err, TIX_EINVAL, where,
				              "triggered_at: seconds after the start, 0 to %d (366 "
				              "days), or null",
				              DRILL_MAX_OFFSET);
				goto bad;
			}
		}
		at = drill__at(v);
		if (at < last) {
			snprintf(where, sizeof(where), "inject_flow[%zu]", i);
			tix_error_set(err, TIX_EINVAL, where,
			              "injects out of order: triggered_at %.0f comes after %.0f",
			              at, last);
			goto bad;
		}
		last = at;
	}
	return sc;
bad:
	json_decref(sc);
	return NULL;
}

/* ---- loading ----------------------------------------------------------------- */

enum tix_err drill_load(const struct drill_ctx *c, const char *text, size_t len, char out[64],
                        struct tix_error *err)
{
	json_t *sc = drill_parse(text, len, c->now_us, err);
	const json_t *ex, *teams, *t;
	struct store_drill d, old;
	struct store_collection col;
	struct tix_uuid u;
	struct tix_time start;
	char title[256], detail[320], where[64];
	enum tix_err e;
	size_t i;

	if (sc == NULL)
		return err ? err->code : TIX_EINVAL;
	ex = json_object_get(sc, "exercise");
	memset(&d, 0, sizeof(d));
	/* its canonical (lowercase) form; drill_parse checked it is a UUID */
	if (tix_uuid_parse(drill__str(ex, "uuid"), &u) != TIX_OK) {
		json_decref(sc);
		return tix_error_set(err, TIX_EINVAL, "exercise.uuid", "not a UUID");
	}
	tix_uuid_format(&u, d.id);
	snprintf(d.name, sizeof(d.name), "%s", drill__str(ex, "name"));
	snprintf(d.state, sizeof(d.state), "loaded");
	if (drill__str(ex, "x_tix_start") &&
	    tix_time_parse(drill__str(ex, "x_tix_start"), &start, NULL) == TIX_OK)
		d.scheduled_us = tix_time_to_us(&start);
	d.created_us = c->now_us;
	d.scenario = (char *)text;
	snprintf(title, sizeof(title), "exercise %.8s %.200s", d.id, d.name);
	/* All or nothing: the collection, its grants, the exercise and the
	 * audit entry in one transaction. */
	if ((e = store_begin(c->s, err)) != TIX_OK) {
		json_decref(sc);
		return e;
	}
	if (store_drill_get(c->s, d.id, &old, NULL) == TIX_OK) {
		store_drill_release(&old);
		e = tix_error_set(err, TIX_EEXIST, "exercise.uuid",
		                  "exercise %s was loaded before; a new exercise needs a new uuid",
		                  d.id);
		goto out;
	}
	if (store_collection_get(c->s, title, 0, &col, NULL) == TIX_OK) {
		e = tix_error_set(err, TIX_EEXIST, title, "a collection has this title");
		goto out;
	}
	if ((e = store_collection_create(c->s, title, "drill data (tix drill, docs/drill.md)", &col,
	                                 err)) != TIX_OK)
		goto out;
	snprintf(d.collection, sizeof(d.collection), "%s", col.id);
	/* The teams read the injects and write their sightings back: each
	 * organisation of the node among them is granted both. */
	teams = json_object_get(ex, "x_tix_teams");
	json_array_foreach (teams, i, t) {
		struct store_org o;
		const char *team = json_string_value(t);

		enum tix_err found = store_org_get(c->s, team, &o, err);

		if (found == TIX_ENOTFOUND)
			continue; /* not an organisation here (docs/drill.md) */
		e = found == TIX_OK ? store_collection_grant(c->s, &col, team, 1, 1, err) : found;
		if (e != TIX_OK) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err ? err->msg : "failed");
			snprintf(where, sizeof(where), "exercise.x_tix_teams[%zu]", i);
			tix_error_set(err, e, where,
			              "granting team '%s' the exercise collection: %s", team, why);
			goto out;
		}
	}
	e = store_drill_add(c->s, &d, err);
	snprintf(detail, sizeof(detail), "drill load %s (%s) collection %s", d.id, d.name,
	         d.collection);
	if (e == TIX_OK) {
		struct store_audit_entry ae = {
		        c->now_us, "write", c->actor ? c->actor : "operator", c->org ? c->org : "",
		        "",        detail};

		e = store_audit_append(c->s, &ae, 1, err);
	}
out:
	if (e == TIX_OK)
		e = store_commit(c->s, err);
	else
		store_rollback(c->s);
	if (e == TIX_OK)
		snprintf(out, 64, "%s", d.id);
	json_decref(sc);
	return e;
}

json_t *drill_starter(int64_t now_us)
{
	struct tix_uuid u;
	char ex[37], inj[37], pay[37], ind[37], start[32], created[32];
	json_t *sc;

	tix_uuid_v4(&u);
	tix_uuid_format(&u, ex);
	tix_uuid_v4(&u);
	tix_uuid_format(&u, inj);
	tix_uuid_v4(&u);
	tix_uuid_format(&u, pay);
	tix_uuid_v4(&u);
	tix_uuid_format(&u, ind);
	tix_time_format_us(now_us + 3600 * (int64_t)1000000, 0, start);
	tix_time_format_us(now_us, 3, created);
	sc = json_pack(
	        "{s:{s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:[s,s]},"
	        " s:[{s:s, s:s, s:{s:i}}],"
	        " s:[{s:s, s:s, s:s, s:{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}}],"
	        " s:[{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:[s,s], s:i}}]}",
	        "exercise", "uuid", ex, "name", "Starter drill", "description",
	        "One timed indicator inject; two teams expected to sight it within 15 minutes",
	        "namespace", "tix", "tags", "exercise:type=\"drill\"", "total_duration", "7200",
	        "version", "1", "x_tix_start", start, "meta", "", "x_tix_teams", "team-a", "team-b",
	        "inject_flow", "description", "The C2 domain appears", "inject_uuid", inj, "timing",
	        "triggered_at", 600, "inject_payloads", "uuid", pay, "name", "c2-indicator", "type",
	        "x-tix-stix", "parameters", "objects", "type", "indicator", "spec_version", "2.1",
	        "id", "", "created", created, "modified", created, "name", "Drill C2 domain",
	        "pattern", "[domain-name:value = 'c2.drill.example']", "pattern_type", "stix",
	        "valid_from", created, "injects", "uuid", inj, "name", "C2 beacon", "action",
	        "network_connection", "action_payload_resource_uuid", pay, "target_tool", "tix",
	        "x_tix_expect", "indicator", "", "value", "c2.drill.example", "kind", "domain",
	        "teams", "team-a", "team-b", "window", 900);
	if (sc) {
		char id[64];
		json_t *ex_o = json_object_get(sc, "exercise");

		json_object_set_new(ex_o, "meta", json_pack("{s:s}", "author", "tix drill new"));
		snprintf(id, sizeof(id), "indicator--%s", ind);
		json_object_set_new(
		        json_array_get(
		                json_object_get(
		                        json_object_get(
		                                json_array_get(
		                                        json_object_get(sc, "inject_payloads"), 0),
		                                "parameters"),
		                        "objects"),
		                0),
		        "id", json_string(id));
		json_object_set_new(
		        json_object_get(json_array_get(json_object_get(sc, "injects"), 0),
		                        "x_tix_expect"),
		        "indicator", json_string(id));
	}
	return sc;
}
