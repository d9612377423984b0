/*
 * Unit tests for src/policy: the TLP 2.0 / sharing group / role rules case
 * by case, bad input (unknown markings, contradictions, principals without
 * an organisation), forwarding, redaction under granular markings, and a
 * property-based test: tens of thousands of random objects and principals
 * (seeded, deterministic) checked against an independent statement of the
 * rules and against invariants no read may break.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static const struct policy_node node = {STIX_TLP_AMBER, 0};
static const struct policy_node open_node = {STIX_TLP_AMBER, 1};
static const char *const bank_groups[] = {"banks", NULL};
static const char *const no_groups[] = {NULL};

/* A principal as a compound literal, to pass by address. */
#define WHO(r, org, groups, reader) (&(struct policy_principal){r, org, groups, reader, NULL})

static struct policy_principal who(enum policy_role r, const char *org, const char *const *groups,
                                   int reader)
{
	struct policy_principal p = {r, org, groups, reader, NULL};
	return p;
}

static struct policy_object obj(int tlp, const char *owner)
{
	struct policy_object o = {"indicator", tlp, 0, owner, NULL, NULL, 1, NULL};
	return o;
}

static void clear_is_for_everyone_anonymous_only_when_enabled(void **state)
{
	struct policy_object o = obj(STIX_TLP_CLEAR, "cert");
	struct policy_principal anon = who(POLICY_ANONYMOUS, NULL, NULL, 0);

	(void)state;
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "other", no_groups, 0), &o));
	assert_false(policy_may_read(&node, &anon, &o));
	assert_true(policy_may_read(&open_node, &anon, &o));
	o.tlp = STIX_TLP_GREEN;
	assert_false(policy_may_read(&open_node, &anon, &o));
}

static void green_is_for_the_collection_community(void **state)
{
	struct policy_object o = obj(STIX_TLP_GREEN, "cert");

	(void)state;
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 0), &o));
	/* the caller (src/taxii) says who is in the community; the role adds nothing */
	assert_false(policy_may_read(&node, WHO(POLICY_ADMIN, "hub", no_groups, 0), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_ANALYST, "cert", no_groups, 0), &o));
}

static void amber_goes_to_the_sharing_group_or_the_collection(void **state)
{
	struct policy_object o = obj(STIX_TLP_AMBER, "cert");

	(void)state;
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	o.group = "banks";
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "telco", no_groups, 1), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", bank_groups, 0), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "cert", no_groups, 0), &o));
}

static void amber_strict_is_for_the_owner_only(void **state)
{
	struct policy_object o = obj(STIX_TLP_AMBER_STRICT, "cert");

	(void)state;
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "cert", no_groups, 0), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_ADMIN, "bank", bank_groups, 1), &o));
	o.owner = NULL; /* nobody owns it: nobody reads it */
	assert_false(policy_may_read(&node, WHO(POLICY_ADMIN, "cert", bank_groups, 1), &o));
}

static void red_is_for_named_recipients_and_the_owner(void **state)
{
	struct policy_object o = obj(STIX_TLP_RED, "cert");

	(void)state;
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "bank", bank_groups, 1), &o));
	o.recipients = "\nbank\npolice\n";
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 0), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "police", no_groups, 0), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "cert", no_groups, 0), &o));
	/* names are whole: neither prefixes nor suffixes match */
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "ban", no_groups, 1), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "bankx", no_groups, 1), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "lice", no_groups, 1), &o));
}

static void unmarked_objects_take_the_node_default(void **state)
{
	struct policy_object o = obj(STIX_TLP_UNSET, "cert");
	struct policy_node red = {STIX_TLP_RED, 0}, clear = {STIX_TLP_CLEAR, 1};

	(void)state;
	assert_int_equal(policy_effective_tlp(&node, &o), STIX_TLP_AMBER);
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_false(policy_may_read(&red, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_true(policy_may_read(&clear, WHO(POLICY_ANONYMOUS, NULL, NULL, 0), &o));
}

static void unknown_markings_are_amber_strict_at_least(void **state)
{
	struct policy_object o = obj(STIX_TLP_CLEAR, "cert");

	(void)state;
	o.flags = STIX_TLPF_UNKNOWN;
	assert_int_equal(policy_effective_tlp(&node, &o), STIX_TLP_AMBER_STRICT);
	assert_false(policy_may_read(&open_node, WHO(POLICY_ANONYMOUS, NULL, NULL, 0), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "bank", bank_groups, 1), &o));
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "cert", no_groups, 0), &o));
	o.tlp = STIX_TLP_RED; /* more restrictive already: stays RED */
	assert_int_equal(policy_effective_tlp(&node, &o), STIX_TLP_RED);
}

static void principals_without_an_organisation_read_only_clear(void **state)
{
	struct policy_object o = obj(STIX_TLP_GREEN, "");

	(void)state;
	/* e.g. the account of an organisation removed meanwhile */
	assert_false(policy_may_read(&open_node, WHO(POLICY_ANALYST, "", no_groups, 1), &o));
	assert_false(policy_may_read(&open_node, WHO(POLICY_ANALYST, NULL, no_groups, 1), &o));
	o.tlp = STIX_TLP_CLEAR;
	assert_false(policy_may_read(&node, WHO(POLICY_ANALYST, "", no_groups, 1), &o));
	assert_false(policy_may_write(WHO(POLICY_ADMIN, "", no_groups, 1), "indicator", NULL, 1));
}

static void sensors_read_indicators_and_write_sightings(void **state)
{
	struct policy_object o = obj(STIX_TLP_GREEN, "cert");
	struct policy_principal s = who(POLICY_SENSOR, "bank", no_groups, 1);

	(void)state;
	assert_true(policy_may_read(&node, &s, &o));
	o.type = "malware";
	assert_false(policy_may_read(&node, &s, &o));
	assert_true(policy_may_write(&s, "sighting", NULL, 1));
	assert_true(policy_may_write(&s, "observed-data", NULL, 1));
	assert_false(policy_may_write(&s, "indicator", NULL, 1));
	assert_true(policy_may_write(&s, "identity", "system", 1));
	assert_false(policy_may_write(&s, "identity", "organization", 1));
	assert_false(policy_may_write(&s, "identity", NULL, 1));
	assert_false(policy_may_write(WHO(POLICY_READER, "bank", no_groups, 1), "identity",
	                              "system", 1));
	assert_false(policy_may_write(&s, "sighting", NULL, 0));
	assert_false(
	        policy_may_write(WHO(POLICY_READER, "bank", no_groups, 1), "sighting", NULL, 1));
	assert_true(
	        policy_may_write(WHO(POLICY_ANALYST, "bank", no_groups, 1), "indicator", NULL, 1));
	assert_false(policy_may_write(WHO(POLICY_ANONYMOUS, NULL, NULL, 1), "indicator", NULL, 1));
}

static void forwarding_keeps_red_and_amber_strict_home(void **state)
{
	struct policy_object o = obj(STIX_TLP_RED, "cert");
	struct policy_peer bank = {"bank", bank_groups, 1, NULL},
	                   cert = {"cert", no_groups, 0, NULL};

	(void)state;
	assert_false(policy_may_forward(&node, &bank, &o));
	assert_true(policy_may_forward(&node, &cert, &o)); /* back to its owner */
	o.recipients = "\nbank\n";
	assert_true(policy_may_forward(&node, &bank, &o));
	o.local = 0; /* a recipient does not pass RED on */
	assert_false(policy_may_forward(&node, &bank, &o));
	o = obj(STIX_TLP_AMBER_STRICT, "cert");
	assert_false(policy_may_forward(&node, &bank, &o));
	o = obj(STIX_TLP_AMBER, "cert");
	o.group = "banks";
	assert_true(policy_may_forward(&node, &bank, &o));
	o.local = 0;
	assert_false(policy_may_forward(&node, &bank, &o));
	o = obj(STIX_TLP_GREEN, "cert");
	o.local = 0;
	assert_true(policy_may_forward(&node, &bank, &o)); /* GREEN travels in its community */
	bank.collection_reader = 0;
	assert_false(policy_may_forward(&node, &bank, &o));
	o.tlp = STIX_TLP_CLEAR;
	assert_true(policy_may_forward(&node, &bank, &o));
}

static void granular_markings_withhold_the_whole_object(void **state)
{
	struct policy_object o = obj(STIX_TLP_GREEN, "cert");
	struct policy_peer bank = {"bank", no_groups, 1, NULL};

	(void)state;
	o.flags = STIX_TLPF_GRANULAR | STIX_TLPF_GRANULAR_LEVEL(STIX_TLP_CLEAR);
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_true(policy_may_forward(&node, &bank, &o));
	/* a RED description: the owner reads it, nobody else gets any of it */
	o.flags |= STIX_TLPF_GRANULAR_LEVEL(STIX_TLP_RED);
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "cert", no_groups, 0), &o));
	assert_false(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_false(policy_may_forward(&node, &bank, &o));
	/* ... unless it names them */
	o.recipients = "\nbank\n";
	assert_true(policy_may_read(&node, WHO(POLICY_READER, "bank", no_groups, 1), &o));
	assert_true(policy_may_forward(&node, &bank, &o));
	o.local = 0; /* received from a peer: RED never goes onward */
	assert_false(policy_may_forward(&node, &bank, &o));
}

static void deleting_is_for_the_owners_analysts_and_admins(void **state)
{
	struct policy_object o = obj(STIX_TLP_GREEN, "cert");

	(void)state;
	assert_true(policy_may_delete(WHO(POLICY_ANALYST, "cert", no_groups, 1), &o, 1));
	assert_true(policy_may_delete(WHO(POLICY_ADMIN, "cert", no_groups, 1), &o, 1));
	assert_false(policy_may_delete(WHO(POLICY_ANALYST, "cert", no_groups, 1), &o, 0));
	assert_false(policy_may_delete(WHO(POLICY_SENSOR, "cert", no_groups, 1), &o, 1));
	assert_false(policy_may_delete(WHO(POLICY_READER, "cert", no_groups, 1), &o, 1));
	assert_false(policy_may_delete(WHO(POLICY_ADMIN, "bank", no_groups, 1), &o, 1));
	assert_false(policy_may_delete(WHO(POLICY_ANALYST, "certx", no_groups, 1), &o, 1));
	o.owner = NULL; /* nobody's (imported without --org): the operator's only */
	assert_false(policy_may_delete(WHO(POLICY_ADMIN, "cert", no_groups, 1), &o, 1));
}

/* ---- property-based ------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static const char *const orgs[] = {"cert", "bank", "telco", "police", "", NULL};
static const char *const groupnames[] = {"banks", "isac", "eu", NULL};
static const char *const recipient_lists[] = {NULL, "\nbank\n", "\ncert\ntelco\n",
                                              "\npolice\nbank\nisac\n"};
static const char *const types[] = {"indicator", "malware", "sighting", "report"};

/* The rules of docs/policy.md, said again in another shape: the set of
 * organisations that may read, then membership; for one level. */
static int oracle_level(const struct policy_node *n, const struct policy_principal *p,
                        const struct policy_object *o, int level)
{
	int anonymous = p->role == POLICY_ANONYMOUS || p->org == NULL || p->org[0] == '\0';
	char needle[140];

	if (anonymous)
		return level == 0 && n->anonymous_read;
	if (p->role == POLICY_SENSOR && strcmp(o->type, "indicator") != 0)
		return 0;
	if (level == 0)
		return 1;
	if (o->owner && strcmp(o->owner, p->org) == 0)
		return 1;
	if (level == 1)
		return p->collection_reader;
	if (level == 2 && o->group == NULL)
		return p->collection_reader;
	if (level == 2) {
		for (int i = 0; p->groups && p->groups[i]; i++)
			if (strcmp(p->groups[i], o->group) == 0)
				return 1;
		return 0;
	}
	if (level == 4 && o->recipients) {
		snprintf(needle, sizeof(needle), "\n%s\n", p->org);
		return strstr(o->recipients, needle) != NULL;
	}
	return 0;
}

/* The object's level, and every level its granular markings use: all of
 * them, or nothing (never a part of an object). */
static int oracle(const struct policy_node *n, const struct policy_principal *p,
                  const struct policy_object *o)
{
	int level = o->tlp >= 0 && o->tlp <= 4 ? o->tlp : n->default_tlp;

	if ((o->flags & STIX_TLPF_UNKNOWN) && level < 3)
		level = 3;
	if (!oracle_level(n, p, o, level))
		return 0;
	for (int l = 0; l <= 4; l++)
		if ((o->flags >> 8 & 1u << l) && !oracle_level(n, p, o, l))
			return 0;
	return 1;
}

/* Deleting: the owning organisation's analysts and admins, in a collection
 * they may write; nobody for an object without an owner. */
static int oracle_delete(const struct policy_principal *p, const struct policy_object *o,
                         int writer)
{
	if (!writer || o->owner == NULL || o->owner[0] == '\0' || p->org == NULL)
		return 0;
	if (strcmp(o->owner, p->org) != 0)
		return 0;
	return p->role == POLICY_ANALYST || p->role == POLICY_ADMIN;
}

static void random_objects_and_principals_never_read_what_the_rules_forbid(void **state)
{
	const char *groupsets[4][3] = {{NULL}, {"banks", NULL}, {"isac", "eu", NULL}, {"eu", NULL}};
	long reads = 0, deletes = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		struct policy_node n = {(int)(next_rand() % 5), (int)(next_rand() % 2)};
		struct policy_object o = {
		        types[next_rand() % 4],
		        (int)(next_rand() % 7) - 1, /* -1 (unset) .. 5 (out of range) */
		        (next_rand() % 4 == 0 ? STIX_TLPF_UNKNOWN : 0) |
		                (next_rand() % 4 == 0 ? STIX_TLPF_CONTRADICTORY : 0) |
		                (next_rand() % 3 == 0 ? STIX_TLPF_GRANULAR | (next_rand() % 32) << 8
		                                      : 0),
		        next_rand() % 6 == 0 ? NULL : orgs[next_rand() % 5],
		        next_rand() % 2 ? NULL : groupnames[next_rand() % 3],
		        recipient_lists[next_rand() % 4],
		        (int)(next_rand() % 2),
		        NULL};
		struct policy_principal p = {(enum policy_role)(next_rand() % 5),
		                             orgs[next_rand() % 5], groupsets[next_rand() % 4],
		                             (int)(next_rand() % 2), NULL};
		int got, want, eff, writer;

		if (o.tlp == 5)
			o.tlp = 99; /* garbage from a damaged row: treated as unset */
		got = policy_may_read(&n, &p, &o);
		want = oracle(&n, &p, &o);
		if (got != want)
			fail_msg("case %d: got %d, want %d (tlp %d flags %u owner %s group %s "
			         "recipients %s; role %d org %s reader %d)",
			         i, got, want, o.tlp, o.flags, o.owner ? o.owner : "(null)",
			         o.group ? o.group : "(null)",
			         o.recipients ? o.recipients : "(null)", (int)p.role,
			         p.org ? p.org : "(null)", p.collection_reader);
		reads += got;
		writer = (int)(next_rand() % 2);
		if (policy_may_delete(&p, &o, writer) != oracle_delete(&p, &o, writer))
			fail_msg("case %d: delete: got %d (role %d org %s owner %s writer %d)", i,
			         policy_may_delete(&p, &o, writer), (int)p.role,
			         p.org ? p.org : "(null)", o.owner ? o.owner : "(null)", writer);
		/* Ownership: an organisation reads all of its own objects, whatever
		 * their markings and granular markings (sensors: indicators). */
		if (o.owner && o.owner[0] && p.org && strcmp(o.owner, p.org) == 0 &&
		    p.role != POLICY_ANONYMOUS &&
		    (p.role != POLICY_SENSOR || strcmp(o.type, "indicator") == 0))
			assert_true(got);
		/* Who may delete may read: an owner never deletes blind. */
		if (policy_may_delete(&p, &o, writer) && p.role != POLICY_SENSOR)
			assert_true(policy_may_read(&n, &p, &o));
		deletes += policy_may_delete(&p, &o, writer);
		eff = policy_effective_tlp(&n, &o);
		/* Invariants, whatever the rest says. */
		if (got && eff >= STIX_TLP_AMBER_STRICT &&
		    (!o.owner || strcmp(o.owner, p.org) != 0)) {
			char needle[140];

			assert_int_equal(eff, STIX_TLP_RED);
			snprintf(needle, sizeof(needle), "\n%s\n", p.org);
			assert_non_null(o.recipients);
			assert_non_null(strstr(o.recipients, needle));
		}
		if (got && (p.org == NULL || p.org[0] == '\0'))
			assert_int_equal(eff, STIX_TLP_CLEAR);
		/* Within a collection's community, raising the level never lets
		 * more in. (Outside it, an AMBER sharing group may name an
		 * organisation that GREEN, the community's level, does not reach;
		 * and RED's named recipients are not AMBER+STRICT's owner-only.) */
		if (p.collection_reader && o.tlp >= 0 && o.tlp < STIX_TLP_AMBER_STRICT && !got) {
			o.tlp++;
			assert_false(policy_may_read(&n, &p, &o));
		}
	}
	/* The generator reaches both answers often. */
	assert_true(reads > 20000 && reads < 180000);
	assert_true(deletes > 5000 && deletes < 100000);
}

/* Drill data (docs/drill.md): an exercise's objects reach only who asked
 * for that exercise, whatever their TLP; production objects reach everyone
 * as before. */
static void exercise_objects_only_for_their_exercise(void **state)
{
	struct policy_object o = obj(STIX_TLP_CLEAR, "cert");
	struct policy_object prod = obj(STIX_TLP_CLEAR, "cert");
	struct policy_principal p = who(POLICY_ANALYST, "bank", no_groups, 1);
	struct policy_peer peer = {"bank", no_groups, 1, NULL};

	(void)state;
	o.flags |= STIX_TLPF_EXERCISE;
	o.exercise = "11111111-1111-4111-8111-111111111111";
	assert_false(policy_may_read(&open_node, &p, &o));
	assert_false(policy_may_forward(&node, &peer, &o));
	assert_true(policy_may_read(&open_node, &p, &prod));
	p.exercise = "22222222-2222-4222-8222-222222222222";
	peer.exercise = p.exercise;
	assert_false(policy_may_read(&open_node, &p, &o));
	assert_false(policy_may_forward(&node, &peer, &o));
	p.exercise = o.exercise;
	peer.exercise = o.exercise;
	assert_true(policy_may_read(&open_node, &p, &o));
	assert_true(policy_may_forward(&node, &peer, &o));
	assert_true(policy_may_read(&open_node, &p, &prod));
	/* flagged, but its exercise unknown to the caller: withheld */
	o.exercise = NULL;
	assert_false(policy_may_read(&open_node, &p, &o));
	assert_false(policy_exercise_admits(NULL, &o));
	assert_true(policy_exercise_admits(NULL, &prod));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(exercise_objects_only_for_their_exercise),
	        cmocka_unit_test(clear_is_for_everyone_anonymous_only_when_enabled),
	        cmocka_unit_test(green_is_for_the_collection_community),
	        cmocka_unit_test(amber_goes_to_the_sharing_group_or_the_collection),
	        cmocka_unit_test(amber_strict_is_for_the_owner_only),
	        cmocka_unit_test(red_is_for_named_recipients_and_the_owner),
	        cmocka_unit_test(unmarked_objects_take_the_node_default),
	        cmocka_unit_test(unknown_markings_are_amber_strict_at_least),
	        cmocka_unit_test(principals_without_an_organisation_read_only_clear),
	        cmocka_unit_test(sensors_read_indicators_and_write_sightings),
	        cmocka_unit_test(forwarding_keeps_red_and_amber_strict_home),
	        cmocka_unit_test(granular_markings_withhold_the_whole_object),
	        cmocka_unit_test(deleting_is_for_the_owners_analysts_and_admins),
	        cmocka_unit_test(random_objects_and_principals_never_read_what_the_rules_forbid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
