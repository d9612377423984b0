/*
 * stix/tlp.c — what an object's markings say about its audience: the TLP
 * level of its object_marking_refs (TLP 2.0 ids, TLP 1.0 ids mapped to
 * 2.0), contradictions between them, and the tix policy extension's
 * recipients and sharing group. Resolved once, when a version is written.
 */
#include <string.h>
#include <strings.h>

#include "stix/stix.h"

static const struct {
	const char *id;
	int tlp;
} tlp_ids[] = {
        /* TLP 2.0 (../shared/specs/tlp-2.0.md) */
        {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", STIX_TLP_CLEAR},
        {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", STIX_TLP_GREEN},
        {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", STIX_TLP_AMBER},
        {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", STIX_TLP_AMBER_STRICT},
        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", STIX_TLP_RED},
        /* TLP 1.0: WHITE is CLEAR, the others their 2.0 namesakes */
        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", STIX_TLP_CLEAR},
        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", STIX_TLP_GREEN},
        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", STIX_TLP_AMBER},
        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", STIX_TLP_RED},
};

static const char *const tlp_names[] = {"clear", "green", "amber", "amber+strict", "red"};

const char *stix_tlp_marking_id(int tlp)
{
	if (tlp < STIX_TLP_CLEAR || tlp > STIX_TLP_RED)
		return NULL;
	return tlp_ids[tlp].id; /* the TLP 2.0 rows come first, in level order */
}

int stix_tlp_of_marking(const char *id)
{
	if (id == NULL)
		return STIX_TLP_UNSET;
	for (size_t i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++)
		if (strcmp(id, tlp_ids[i].id) == 0)
			return tlp_ids[i].tlp;
	return STIX_TLP_UNSET;
}

const char *stix_tlp_name(int tlp)
{
	return tlp >= STIX_TLP_CLEAR && tlp <= STIX_TLP_RED ? tlp_names[tlp] : "unset";
}

int stix_tlp_parse(const char *name)
{
	if (name == NULL)
		return -1;
	if (strncasecmp(name, "TLP:", 4) == 0)
		name += 4;
	if (strcasecmp(name, "white") == 0)
		return STIX_TLP_CLEAR;
	for (int i = 0; i <= STIX_TLP_RED; i++)
		if (strcasecmp(name, tlp_names[i]) == 0)
			return i;
	return -1;
}

void stix_tlp_resolve(const json_t *obj, struct stix_meta *m)
{
	const json_t *refs = json_object_get(obj, "object_marking_refs");
	const json_t *v;
	size_t i;

	m->tlp = STIX_TLP_UNSET;
	m->tlp_flags = 0;
	m->marking_refs = json_is_array(refs) ? refs : NULL;
	json_array_foreach (m->marking_refs, i, v) {
		int t = stix_tlp_of_marking(json_string_value(v));

		if (t == STIX_TLP_UNSET)
			continue; /* judged by the store: a definition it holds, or unknown */
		if (m->tlp != STIX_TLP_UNSET && m->tlp != t)
			m->tlp_flags |= STIX_TLPF_CONTRADICTORY;
		if (t > m->tlp)
			m->tlp = t;
	}
	if (json_object_get(obj, "granular_markings")) {
		json_array_foreach (json_object_get(obj, "granular_markings"), i, v) {
			const char *ref = json_string_value(json_object_get(v, "marking_ref"));
			int t;

			if (ref == NULL)
				continue; /* a language marking: not about access */
			t = stix_tlp_of_marking(ref);
			m->tlp_flags |= STIX_TLPF_GRANULAR_LEVEL(
			        t == STIX_TLP_UNSET ? STIX_TLP_AMBER_STRICT : t);
		}
		m->tlp_flags |= STIX_TLPF_GRANULAR;
	}
	if (json_is_string(json_object_get(obj, STIX_TIX_EXERCISE)))
		m->tlp_flags |= STIX_TLPF_EXERCISE;
	m->sharing_group = json_string_value(json_object_get(obj, STIX_TIX_SHARING_GROUP));
	v = json_object_get(obj, STIX_TIX_RECIPIENTS);
	m->recipients = json_is_array(v) ? v : NULL;
}

const char *stix_exercise_of(const char *body, size_t len, char *out, size_t size)
{
	static const char key[] = "\"" STIX_TIX_EXERCISE "\"";
	const char *end, *p = body;
	size_t n = 0;

	if (body == NULL || size == 0)
		return NULL;
	end = body + len;
	while (p + sizeof(key) - 1 <= end) {
		const char *hit = memchr(p, '"', (size_t)(end - p));

		if (hit == NULL || hit + sizeof(key) - 1 > end)
			return NULL;
		if (memcmp(hit, key, sizeof(key) - 1) != 0) {
			p = hit + 1;
			continue;
		}
		p = hit + sizeof(key) - 1;
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= end || *p != ':') {
			continue; /* a value that reads "x_tix_exercise", not the key */
		}
		p++;
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= end || *p != '"')
			return NULL;
		for (p++; p < end && *p != '"' && *p != '\\'; p++)
			if (n + 1 < size)
				out[n++] = *p;
		if (p >= end || *p != '"' || n == 0)
			return NULL;
		out[n] = '\0';
		return out;
	}
	return NULL;
}
