/*
 * stix/scoid.c — deterministic ids of cyber-observables (STIX 2.1 sections
 * 2.9 and 3.4): UUIDv5 in the STIX namespace over the canonical JSON
 * (RFC 8785) of the ID-contributing properties; and the metadata of a
 * version that the store indexes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_types.h"

static const struct tix_uuid stix_namespace = {{0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                                0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7}};

int stix_is_sco_type(const char *type)
{
	const struct stix_type *t = stix_type_find(type);

	return t != NULL && t->category == SC_SCO;
}

/* Of a hashes dictionary only one hash contributes, the first present of
 * MD5, SHA-1, SHA-256, SHA-512, else the first in key order. */
static json_t *one_hash(const json_t *hashes)
{
	static const char *const pref[] = {"MD5", "SHA-1", "SHA-256", "SHA-512", NULL};
	const char *k, *best = NULL;
	json_t *v, *out;

	for (int i = 0; pref[i] && !best; i++)
		if (json_object_get(hashes, pref[i]))
			best = pref[i];
	if (best == NULL) {
		json_object_foreach ((json_t *)hashes, k, v) {
			(void)v;
			if (best == NULL || strcmp(k, best) < 0)
				best = k;
		}
	}
	if (best == NULL || (out = json_object()) == NULL)
		return NULL;
	json_object_set(out, best, json_object_get(hashes, best));
	return out;
}

enum tix_err stix_sco_compute_id(const json_t *obj, char *out, size_t size)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	const struct stix_type *t = type ? stix_type_find(type) : NULL;
	json_t *name;
	char *text;
	struct tix_uuid u;
	char us[37];
	int any = 0;

	if (t == NULL || t->category != SC_SCO || t->id_contrib == NULL)
		return TIX_ENOTFOUND;
	if ((name = json_object()) == NULL)
		return TIX_ENOMEM;
	for (const char *const *p = t->id_contrib; *p; p++) {
		json_t *v = json_object_get(obj, *p);

		if (v == NULL)
			continue;
		if (strcmp(*p, "hashes") == 0 && json_is_object(v)) {
			json_t *h = one_hash(v);

			if (h)
				json_object_set_new(name, *p, h);
		} else {
			json_object_set(name, *p, v);
		}
		any = 1;
	}
	if (!any) {
		json_decref(name);
		return TIX_ENOTFOUND;
	}
	text = json_dumps(name, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(name);
	if (text == NULL)
		return TIX_ENOMEM;
	tix_uuid_v5(&stix_namespace, text, strlen(text), &u);
	free(text);
	snprintf(out, size, "%s--%s", type, tix_uuid_format(&u, us));
	return TIX_OK;
}

enum tix_err stix_sco_ensure_id(json_t *obj, struct tix_error *err)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	char id[300], us[37];
	struct tix_uuid u;
	enum tix_err e;

	if (json_object_get(obj, "id") != NULL || type == NULL || !stix_is_sco_type(type))
		return TIX_OK;
	e = stix_sco_compute_id(obj, id, sizeof(id));
	if (e == TIX_ENOTFOUND) {
		if (tix_uuid_v4(&u) != TIX_OK)
			return tix_error_set(err, TIX_EIO, NULL, "no randomness for a UUIDv4");
		snprintf(id, sizeof(id), "%s--%s", type, tix_uuid_format(&u, us));
	} else if (e != TIX_OK) {
		return tix_error_set(err, e, NULL, "cannot compute the id of a %s", type);
	}
	if (json_object_set_new(obj, "id", json_string(id)) != 0)
		return tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
	return TIX_OK;
}

enum tix_err stix_meta_get(const json_t *obj, struct stix_meta *m, struct tix_error *err)
{
	struct tix_time t;
	const char *s;

	memset(m, 0, sizeof(*m));
	m->object = obj;
	m->id = json_string_value(json_object_get(obj, "id"));
	m->type = json_string_value(json_object_get(obj, "type"));
	m->spec_version = json_string_value(json_object_get(obj, "spec_version"));
	/* A top-level cyber-observable is a STIX 2.1 object (2.0 had them only
	 * inside observed-data), whose spec_version is optional. */
	if (m->spec_version == NULL && m->type && stix_is_sco_type(m->type))
		m->spec_version = "2.1";
	m->revoked = json_is_true(json_object_get(obj, "revoked"));
	m->created_by_ref = json_string_value(json_object_get(obj, "created_by_ref"));
	if (m->id == NULL || m->type == NULL)
		return tix_error_set(err, TIX_EINVAL, NULL, "object without id or type");
	if ((s = json_string_value(json_object_get(obj, "created"))) &&
	    tix_time_parse(s, &t, NULL) == TIX_OK)
		tix_time_canonical(&t, m->created);
	m->version = json_string_value(json_object_get(obj, "created"));
	if ((s = json_string_value(json_object_get(obj, "modified"))) &&
	    tix_time_parse(s, &t, NULL) == TIX_OK) {
		tix_time_canonical(&t, m->modified);
		m->version = s;
	} else {
		memcpy(m->modified, m->created, sizeof(m->modified));
	}
	if (m->version == NULL || m->modified[0] == '\0')
		m->version = "";
	stix_tlp_resolve(obj, m);
	return TIX_OK;
}
