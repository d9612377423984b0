/*
 * policy.h — who may read, write and forward what: TLP 2.0, sharing groups
 * and roles, decided in one place. The module knows no SQL and no store:
 * callers hand it the facts (the principal, its organisation's sharing
 * groups, the object's resolved TLP, owner, recipients and group, whether
 * the principal reads the object's collection), and it answers.
 *
 * The rules (docs/policy.md):
 *   CLEAR         anyone, anonymous readers too when the node allows them;
 *   GREEN         the community: every organisation reading the collection;
 *   AMBER         the organisations of the object's sharing group, or, when
 *                 it names none, the collection's readers; never forwarded
 *                 onward by a node that is not its origin;
 *   AMBER+STRICT  the owning organisation only;
 *   RED           the organisations in the object's recipients, and the owner.
 * The owner always reads its own objects. An object with a marking the node
 * cannot interpret is at least AMBER+STRICT. Roles: readers and analysts
 * read under these rules; a sensor reads only indicators (and writes only
 * sightings and observed data); an admin has no extra read rights; a
 * principal without an organisation reads nothing but CLEAR.
 */
#ifndef TIX_POLICY_H
#define TIX_POLICY_H

#include "core/core.h"
#include "stix/stix.h"

enum policy_role {
	POLICY_ANONYMOUS = 0, /* no credentials */
	POLICY_ADMIN,
	POLICY_ANALYST,
	POLICY_READER,
	POLICY_SENSOR,
};

/* Node-wide settings, read-only after start-up. */
struct policy_node {
	int default_tlp;    /* for objects without a TLP marking (STIX_TLP_AMBER) */
	int anonymous_read; /* anonymous callers may read CLEAR objects */
};

struct policy_principal {
	enum policy_role role;
	const char *org;           /* NULL or "" for anonymous */
	const char *const *groups; /* sharing groups naming org; NULL-terminated or NULL */
	int collection_reader;     /* org is granted read on the object's collection */
	const char *exercise;      /* the drill exercise asked for (--exercise), or NULL */
};

/* What the store recorded about a version when it was written. */
struct policy_object {
	const char *type;
	int tlp;                /* STIX_TLP_* or STIX_TLP_UNSET (the node default applies) */
	unsigned flags;         /* STIX_TLPF_* */
	const char *owner;      /* owning organisation, or NULL (unknown: nobody owns it) */
	const char *group;      /* sharing group (AMBER), or NULL */
	const char *recipients; /* "\norg\norg\n" (RED), or NULL */
	int local;              /* written on this node (not received from a peer) */
	const char *exercise;   /* x_tix_exercise of a version flagged STIX_TLPF_EXERCISE
	                         * (stix_exercise_of), or NULL */
};

/* The peer a node would push to (issue 8): its organisation and the
 * sharing groups naming that organisation on this node. */
struct policy_peer {
	const char *org;
	const char *const *groups;
	int collection_reader; /* org is granted read on the collection pushed from */
	const char *exercise;  /* the drill exercise being pushed, or NULL */
};

/* Drill isolation (docs/drill.md): 1 when a reader who asked for exercise
 * asked (NULL: production, no exercise) may see o. Objects of an exercise
 * (flagged STIX_TLPF_EXERCISE) are seen only by who asked for that very
 * exercise; production objects by everyone. policy_may_read and
 * policy_may_forward decide this first; the operator's own paths (tix
 * export, tix match, feeds) ask it directly. */
int policy_exercise_admits(const char *asked, const struct policy_object *o);

/* The TLP that governs the object: its own, the node default when it has
 * none, and never less than AMBER+STRICT when a marking is unknown. */
int policy_effective_tlp(const struct policy_node *n, const struct policy_object *o);

/* 1 when p may read o, else 0. */
int policy_may_read(const struct policy_node *n, const struct policy_principal *p,
                    const struct policy_object *o);

/* 1 when p may see what is marked at level tlp inside o (granular markings
 * of o's properties use the same audience as o: owner, group, recipients). */
int policy_may_read_level(const struct policy_node *n, const struct policy_principal *p,
                          const struct policy_object *o, int tlp);

/* 1 when p may write an object of this type to a collection it may write
 * (collection_writer): readers never, sensors only sightings, observed data
 * and identities of class "system" (the sensor naming itself in a
 * sighting's where_sighted_refs; identity_class is the object's, or NULL),
 * anonymous callers never. */
int policy_may_write(const struct policy_principal *p, const char *type, const char *identity_class,
                     int collection_writer);

/* 1 when p may delete a version o of an object from a collection it may
 * write (collection_writer): only analysts and administrators of the
 * organisation that owns the object (docs/policy.md); never a sensor, a
 * reader, another organisation, or anyone for an object nobody owns. */
int policy_may_delete(const struct policy_principal *p, const struct policy_object *o,
                      int collection_writer);

/* 1 when this node may send o to peer. */
int policy_may_forward(const struct policy_node *n, const struct policy_peer *peer,
                       const struct policy_object *o);

/* "admin", "analyst", "reader", "sensor", "anonymous". */
const char *policy_role_name(enum policy_role r);

#endif
