/*
 * policy/policy.c — the one decision on reading, writing, deleting and
 * forwarding objects (TLP 2.0, sharing groups, roles, ownership; an object
 * whose granular markings hide anything is withheld whole). Cheap integer and string checks only:
 * it runs for every row every read path returns.
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

int policy_exercise_admits(const char *asked, const struct policy_object *o)
{
	if (!(o->flags & STIX_TLPF_EXERCISE))
		return 1;
	return asked != NULL && o->exercise != NULL && strcmp(asked, o->exercise) == 0;
}

int policy_may_read_level(const struct policy_node *n, const struct policy_principal *p,
                          const struct policy_object *o, int tlp)
{
	if (!policy_exercise_admits(p->exercise, o))
		return 0;
	if (p->role == POLICY_ANONYMOUS || !has_org(p->org))
		return tlp == STIX_TLP_CLEAR && n->anonymous_read;
	if (p->role == POLICY_SENSOR && (o->type == NULL || strcmp(o->type, "indicator") != 0))
		return 0;
	return audience_has(p->org, p->groups, p->collection_reader, o, tlp);
}

/* The levels of o's granular markings (bit l: level l is used). */
static unsigned granular_levels(const struct policy_object *o)
{
	return (o->flags >> STIX_TLPF_GRANULAR_SHIFT) & 31u;
}

int policy_may_read(const struct policy_node *n, const struct policy_principal *p,
                    const struct policy_object *o)
{
	unsigned levels = granular_levels(o);

	if (!policy_may_read_level(n, p, o, policy_effective_tlp(n, o)))
		return 0;
	/* Whole or nothing: never a body that differs from the stored one
	 * under the same id and modified. */
	for (int l = STIX_TLP_CLEAR; l <= STIX_TLP_RED; l++)
		if ((levels & (1u << l)) && !policy_may_read_level(n, p, o, l))
			return 0;
	return 1;
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

static int may_forward_level(const struct policy_peer *peer, const struct policy_object *o, int tlp)
{
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

int policy_may_forward(const struct policy_node *n, const struct policy_peer *peer,
                       const struct policy_object *o)
{
	unsigned levels = granular_levels(o);

	if (!policy_exercise_admits(peer->exercise, o))
		return 0;
	if (!may_forward_level(peer, o, policy_effective_tlp(n, o)))
		return 0;
	for (int l = STIX_TLP_CLEAR; l <= STIX_TLP_RED; l++)
		if ((levels & (1u << l)) && !may_forward_level(peer, o, l))
			return 0;
	return 1;
}
