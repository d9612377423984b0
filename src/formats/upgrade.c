/*
 * formats/upgrade.c — `tix export --stix-version 2.1`: STIX 2.0 objects
 * (stored as they came) rewritten as 2.1 on the way out: spec_version,
 * millisecond timestamps, the properties 2.1 made required, and
 * observed-data's objects dictionary as top-level SCOs with object_refs.
 */
#include <stdio.h>
#include <string.h>

#include "formats/formats_int.h"
#include "stix/stix.h"

/* "…:SSZ" -> "…:SS.000Z": 2.1 wants created/modified to the millisecond. */
static void millis(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	char buf[64];
	size_t n;

	if (s == NULL || strchr(s, '.') || (n = strlen(s)) < 2 || n > 40 || s[n - 1] != 'Z')
		return;
	snprintf(buf, sizeof(buf), "%.*s.000Z", (int)(n - 1), s);
	json_object_set_new(o, key, json_string(buf));
}

/* Rewrites the _ref/_refs values of o that are keys of dict to the ids in
 * ids (key -> id). Returns 0 when every such key had an id, else -1. */
static int rewrite_refs(json_t *o, const json_t *dict, const json_t *ids)
{
	const char *k;
	json_t *v;
	int ok = 0;

	json_object_foreach (o, k, v) {
		size_t kl = strlen(k);

		if (kl > 4 && strcmp(k + kl - 4, "_ref") == 0 && json_is_string(v) &&
		    json_object_get(dict, json_string_value(v))) {
			json_t *id = json_object_get(ids, json_string_value(v));

			if (id == NULL)
				ok = -1;
		} else if (kl > 5 && strcmp(k + kl - 5, "_refs") == 0 && json_is_array(v)) {
			size_t i;
			json_t *r;

			json_array_foreach (v, i, r)
				if (json_is_string(r) &&
				    json_object_get(dict, json_string_value(r)) &&
				    !json_object_get(ids, json_string_value(r)))
					ok = -1;
		} else if (json_is_object(v) && strcmp(k, "extensions") == 0) {
			const char *ek;
			json_t *ev;

			json_object_foreach (v, ek, ev)
				if (json_is_object(ev) && rewrite_refs(ev, dict, ids) != 0)
					ok = -1;
		}
	}
	if (ok != 0)
		return ok;
	json_object_foreach (o, k, v) {
		size_t kl = strlen(k);

		if (kl > 4 && strcmp(k + kl - 4, "_ref") == 0 && json_is_string(v) &&
		    json_object_get(dict, json_string_value(v)))
			json_object_set(o, k, json_object_get(ids, json_string_value(v)));
		else if (kl > 5 && strcmp(k + kl - 5, "_refs") == 0 && json_is_array(v)) {
			size_t i;
			json_t *r;

			json_array_foreach (v, i, r)
				if (json_is_string(r) &&
				    json_object_get(dict, json_string_value(r)))
					json_array_set(v, i,
					               json_object_get(ids, json_string_value(r)));
		}
	}
	return 0;
}

static void upgrade_observed(json_t *obj, json_t *extra)
{
	json_t *dict = json_object_get(obj, "objects"), *ids = json_object(), *refs = json_array();
	json_t *copy = json_deep_copy(dict), *v;
	const char *k;
	size_t left = json_object_size(copy), rounds = 0;
	static const char *const carried[] = {"object_marking_refs", "granular_markings",
	                                      STIX_TIX_SHARING_GROUP, STIX_TIX_RECIPIENTS, NULL};

	/* ids in dependence order: an SCO's id may depend on the ids it refers to */
	while (left > 0 && rounds++ <= json_object_size(copy)) {
		json_object_foreach (copy, k, v) {
			char id[300];

			if (json_object_get(ids, k) || !json_is_object(v) ||
			    rewrite_refs(v, dict, ids) != 0)
				continue;
			json_object_set_new(v, "spec_version", json_string("2.1"));
			if (stix_sco_compute_id(v, id, sizeof(id)) != TIX_OK) {
				char name[400];

				snprintf(name, sizeof(name), "%s objects %s",
				         json_string_value(json_object_get(obj, "id")), k);
				fmt_id5(json_string_value(json_object_get(v, "type")), name, id,
				        sizeof(id));
			}
			json_object_set_new(ids, k, json_string(id));
			left--;
		}
	}
	json_object_foreach (copy, k, v) {
		json_t *sco = json_object();
		const char *pk;
		json_t *pv;

		if (!json_object_get(ids, k))
			continue; /* a reference cycle: left out */
		/* type and id first, as SCOs are written */
		json_object_set(sco, "type", json_object_get(v, "type"));
		json_object_set_new(sco, "spec_version", json_string("2.1"));
		json_object_set(sco, "id", json_object_get(ids, k));
		json_object_foreach (v, pk, pv)
			if (!json_object_get(sco, pk))
				json_object_set(sco, pk, pv);
		for (int i = 0; carried[i]; i++)
			if (json_object_get(obj, carried[i]))
				json_object_set(sco, carried[i], json_object_get(obj, carried[i]));
		json_array_append(refs, json_object_get(ids, k));
		json_array_append_new(extra, sco);
	}
	json_object_del(obj, "objects");
	json_object_set_new(obj, "object_refs", refs);
	json_decref(copy);
	json_decref(ids);
}

int formats_upgrade_to_21(json_t *obj, json_t *extra)
{
	const char *t = json_string_value(json_object_get(obj, "type"));
	char type[256];

	if (!json_is_object(obj) || t == NULL || json_object_get(obj, "spec_version") ||
	    stix_is_sco_type(t) || strlen(t) >= sizeof(type))
		return 0;
	memcpy(type, t, strlen(t) + 1); /* obj is rebuilt below */
	/* spec_version right after type and id, as 2.1 writers put it */
	{
		json_t *rest = json_deep_copy(obj);
		const char *k;
		json_t *v;

		json_object_clear(obj);
		json_object_set(obj, "type", json_object_get(rest, "type"));
		json_object_set_new(obj, "spec_version", json_string("2.1"));
		json_object_foreach (rest, k, v)
			json_object_set(obj, k, v);
		json_decref(rest);
	}
	millis(obj, "created");
	millis(obj, "modified");
	if (strcmp(type, "indicator") == 0 && !json_object_get(obj, "pattern_type"))
		json_object_set_new(obj, "pattern_type", json_string("stix"));
	if (strcmp(type, "malware") == 0 && !json_object_get(obj, "is_family"))
		json_object_set_new(obj, "is_family", json_false());
	if (strcmp(type, "observed-data") == 0 && json_is_object(json_object_get(obj, "objects")))
		upgrade_observed(obj, extra);
	return 1;
}
