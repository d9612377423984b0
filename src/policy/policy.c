/*
 * policy/policy.c — the one decision on reading, writing and forwarding
 * objects (TLP 2.0, sharing groups, roles), and the redaction of properties
 * under granular markings. Cheap integer and string checks only: it runs
 * for every row every read path returns.
 */
#include <string.h>

#include "policy/policy.h"

const char *policy_role_name(enum policy_role r)
{
	switch (r) {
	case POLICY_ADMIN: return "admin";
	case POLICY_ANALYST: return "analyst";
	case POLICY_READER: return "reader";
	case POLICY_SENSOR: return "sensor";
	case POLICY_ANONYMOUS: break;
	}
	return "anonymous";
}

int policy_effective_tlp(const struct policy_node *n, const struct policy_object *o)
{
	int t = o->tlp;

	if (t < STIX_TLP_CLEAR || t > STIX_TLP_RED)
		t = n->default_tlp >= STIX_TLP_CLEAR && n->default_tlp <= STIX_TLP_RED
		            ? n->default_tlp
		            : STIX_TLP_AMBER;
	if ((o->flags & STIX_TLPF_UNKNOWN) && t < STIX_TLP_AMBER_STRICT)
		t = STIX_TLP_AMBER_STRICT;
	return t;
}

static int has_org(const char *org)
{
	return org != NULL && org[0] != '\0';
}

/* Is org one of the "\n"-separated names of list ("\na\nb\n")? */
static int in_recipients(const char *list, const char *org)
{
	size_t n = strlen(org);
	const char *p = list ? strchr(list, '\n') : NULL;

	for (; p != NULL; p = strchr(p, '\n')) {
		p++;
		if (strncmp(p, org, n) == 0 && p[n] == '\n')
			return 1;
	}
	return 0;
}

static int in_groups(const char *const *groups, const char *group)
{
	for (size_t i = 0; groups && groups[i]; i++)
		if (strcmp(groups[i], group) == 0)
			return 1;
	return 0;
}

static int audience_has(const char *org, const char *const *groups, int collection_reader,
                        const struct policy_object *o, int tlp)
{
	int owner = has_org(org) && has_org(o->owner) && strcmp(org, o->owner) == 0;

	if (tlp == STIX_TLP_CLEAR)
		return 1;
	if (!has_org(org))
		return 0;
	if (owner)
		return 1;
	switch (tlp) {
	case STIX_TLP_GREEN: return collection_reader;
	case STIX_TLP_AMBER:
		if (has_org(o->group))
			return in_groups(groups, o->group);
		return collection_reader;
	case STIX_TLP_RED: return o->recipients != NULL && in_recipients(o->recipients, org);
	default: return 0; /* AMBER+STRICT: the owner only */
	}
}

int policy_may_read_level(const struct policy_node *n, const struct policy_principal *p,
                          const struct policy_object *o, int tlp)
{
	if (p->role == POLICY_ANONYMOUS || !has_org(p->org))
		return tlp == STIX_TLP_CLEAR && n->anonymous_read;
	if (p->role == POLICY_SENSOR && (o->type == NULL || strcmp(o->type, "indicator") != 0))
		return 0;
	return audience_has(p->org, p->groups, p->collection_reader, o, tlp);
}

int policy_may_read(const struct policy_node *n, const struct policy_principal *p,
                    const struct policy_object *o)
{
	return policy_may_read_level(n, p, o, policy_effective_tlp(n, o));
}

int policy_may_write(const struct policy_principal *p, const char *type, const char *identity_class,
                     int collection_writer)
{
	if (!collection_writer || !has_org(p->org))
		return 0;
	switch (p->role) {
	case POLICY_ADMIN:
	case POLICY_ANALYST: return 1;
	case POLICY_SENSOR:
		if (type == NULL)
			return 0;
		if (strcmp(type, "identity") == 0)
			return identity_class != NULL && strcmp(identity_class, "system") == 0;
		return strcmp(type, "sighting") == 0 || strcmp(type, "observed-data") == 0;
	case POLICY_READER:
	case POLICY_ANONYMOUS: break;
	}
	return 0;
}

int policy_may_delete(const struct policy_principal *p, const struct policy_object *o,
                      int collection_writer)
{
	if (!collection_writer || !has_org(p->org) || !has_org(o->owner) ||
	    strcmp(p->org, o->owner) != 0)
		return 0;
	return p->role == POLICY_ADMIN || p->role == POLICY_ANALYST;
}

int policy_may_forward(const struct policy_node *n, const struct policy_peer *peer,
                       const struct policy_object *o)
{
	int tlp = policy_effective_tlp(n, o);
	int to_owner = has_org(peer->org) && has_org(o->owner) && strcmp(peer->org, o->owner) == 0;

	if (tlp == STIX_TLP_CLEAR)
		return 1;
	if (!has_org(peer->org))
		return 0;
	if (to_owner)
		return 1; /* back to the organisation that owns it */
	switch (tlp) {
	case STIX_TLP_GREEN: return peer->collection_reader;
	case STIX_TLP_AMBER:
		/* A recipient never passes AMBER on: only its origin node does. */
		return o->local &&
		       audience_has(peer->org, peer->groups, peer->collection_reader, o, tlp);
	case STIX_TLP_RED:
		return o->local && o->recipients != NULL && in_recipients(o->recipients, peer->org);
	default: return 0;
	}
}

/* The first property name of a granular marking selector ("a.b.[0]" -> "a"). */
static int selector_root(const char *sel, char *out, size_t size)
{
	size_t n = strcspn(sel, ".[");

	if (n == 0 || n >= size)
		return -1;
	memcpy(out, sel, n);
	out[n] = '\0';
	return 0;
}

size_t policy_redact(json_t *obj, const struct policy_node *n, const struct policy_principal *p,
                     const struct policy_object *o)
{
	json_t *gms = json_object_get(obj, "granular_markings"), *gm, *sel;
	size_t i, j, removed = 0;
	char root[256];

	if (!json_is_array(gms))
		return 0;
	json_array_foreach (gms, i, gm) {
		const char *ref = json_string_value(json_object_get(gm, "marking_ref"));
		int tlp;

		if (ref == NULL) /* a language marking ("lang"): not about access */
			continue;
		tlp = stix_tlp_of_marking(ref);
		if (tlp == STIX_TLP_UNSET)
			tlp = STIX_TLP_AMBER_STRICT; /* a marking not known here: deny by default */
		if (policy_may_read_level(n, p, o, tlp))
			continue;
		json_array_foreach (json_object_get(gm, "selectors"), j, sel) {
			const char *s = json_string_value(sel);

			if (s && selector_root(s, root, sizeof(root)) == 0 &&
			    strcmp(root, "granular_markings") != 0 && strcmp(root, "id") != 0 &&
			    strcmp(root, "type") != 0 && json_object_del(obj, root) == 0)
				removed++;
		}
	}
	return removed;
}
