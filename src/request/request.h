/*
 * request.h — cross-border preservation requests between 24/7 contact
 * points (Budapest Convention Articles 29, 30 and 35): the
 * x-tix-preservation-request object and its response, their life cycle,
 * the Ed25519 signature over a canonical form on every transition, and the
 * 24/7 directory of contact points as STIX identities (docs/preservation.md).
 *
 * Each party writes only its own object (the ownership rule of
 * docs/policy.md holds): the requesting contact point the request
 * (draft, sent, extended, mla-linked), the requested one the response
 * (acknowledged, executed, partially-disclosed, declined). Together their
 * versions form one chain: every transition carries its sequence number and
 * the BLAKE2b hash of the one before, and is signed by the acting party.
 * Both are TLP:RED with the two organisations as the only recipients.
 */
#ifndef TIX_REQUEST_H
#define TIX_REQUEST_H

#include <jansson.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

#define REQUEST_TYPE  "x-tix-preservation-request"
#define RESPONSE_TYPE "x-tix-preservation-response"
/* UUIDv5 of https://tix/preservation-request in the URL namespace. */
#define REQUEST_EXT "extension-definition--0b430715-9fc3-5e2b-8e28-167a5367ad16"
/* UUIDv5 of https://tix/contact-point in the URL namespace. */
#define CONTACT_EXT "extension-definition--0a6943cd-3792-5901-ba16-e2b52bca4034"

#define REQUEST_DAY_US       ((int64_t)86400 * 1000000)
#define REQUEST_PERIOD_US    (60 * REQUEST_DAY_US) /* Article 29(7): at least 60 days */
#define REQUEST_REMIND_US    (7 * REQUEST_DAY_US)  /* reminder before the end */
#define REQUEST_ACK_DUE_US   REQUEST_DAY_US        /* reminder while unacknowledged */
#define REQUEST_MAX_TEMPLATE (256 * 1024)

/* What every call needs: the store, the collection requests and directory
 * entries are written to, the clock (µs; TIX_NOW in tests) and who runs
 * the command (for the audit log). */
struct request_ctx {
	struct store *s;
	const struct store_collection *collection;
	int64_t now_us;
	const char *actor;
};

/* The extension-definitions of docs/preservation.md (new references). */
json_t *request_extension_definitions(void);

/* ---- the template (Article 29(2)) ----------------------------------------- */

/* Parses a template: a JSON object with requesting_authority, offence,
 * summary, data, relationship, custodian, necessity, mla_intent (true),
 * case_reference, identifiers (a non-empty list) and optionally urgency and
 * languages. Every missing or malformed field is refused with its name and
 * the Article 29(2) point it serves. Returns the checked fields (defaults
 * filled in) as a new object, or NULL with err set. */
json_t *request_template_parse(const char *data, size_t len, const char *source,
                               struct tix_error *err);
/* The same checks on a parsed object (e.g. a stored request). */
enum tix_err request_template_check(const json_t *t, const char *where, struct tix_error *err);

/* ---- the life cycle ------------------------------------------------------- */

/* A request as its chain says it is now. */
struct request_status {
	char id[128];
	char state[32]; /* draft, sent, acknowledged, executed, partially-disclosed,
	                   declined, extended, expired */
	char requesting_org[128], requested_org[128];
	char requesting_country[3], requested_country[3];
	char case_reference[256];
	char chain_state[32]; /* the last transition's state (expired is the clock's) */
	char turn[128];       /* the organisation expected to act next, or "" */
	char next_country[3]; /* a disclosure's next country (Article 30), or "" */
	char mla_reference[256];
	char preceding[128]; /* the request this one follows (Article 30), or "" */
	int64_t sent_us, acknowledged_us, executed_us, preserve_until_us, last_us;
	size_t transitions;
	int verified;      /* every signature and link of the chain holds */
	char problem[600]; /* why not, when not */
};

/* Writes a new request from tmpl to the contact point of to_country in
 * the directory (or to_org when given), signed by as_org, sent at once
 * unless draft. follow, when not NULL, is a partially-disclosed request
 * as_org made: the new request goes to its disclosure's next country, with
 * the template's fields of that request (tmpl may then be NULL) and the
 * disclosed identifiers (Article 30). id_out gets the new id. */
enum tix_err request_new(const struct request_ctx *c, const json_t *tmpl, const char *to_country,
                         const char *to_org, const char *as_org, int draft, const char *follow,
                         char id_out[128], struct tix_error *err);

/* The transitions a party makes: "send", "ack", "execute", "disclose",
 * "decline", "extend", "mla". args holds what some need: "reason"
 * (decline: required), "next_country", "provider", "traffic" (a list of
 * identifiers; disclose), "reference" (mla). The chain must verify and the
 * transition be as_org's turn and in order; else nothing is written and err
 * says why. */
enum tix_err request_act(const struct request_ctx *c, const char *id, const char *action,
                         const char *as_org, const json_t *args, struct request_status *st,
                         struct tix_error *err);

/* The versions of a request (request and response, in chain order) as a
 * new array, and its status. TIX_ENOTFOUND when the node holds none;
 * TIX_EDENIED when as_org (when not NULL) is not one of its two parties. */
enum tix_err request_load(const struct request_ctx *c, const char *id, const char *as_org,
                          json_t **versions, struct request_status *st, struct tix_error *err);

/* Every request as_org is a party to, with its status. */
enum tix_err request_list(const struct request_ctx *c, const char *as_org,
                          int (*cb)(void *, const struct request_status *), void *arg,
                          struct tix_error *err);

/* Checks versions (one version, or a whole chain from its first
 * transition) against the node's directory: canonical form and Ed25519
 * signature, the signer's key in the directory for the acting party at that
 * time, sequence and hash links, the request's fields unchanged, the turn
 * and order of every transition. A single version is also compared with
 * the chain the node holds (a replayed or substituted version is not
 * the one there). TIX_OK with st filled, or TIX_EINVAL naming the version
 * and the reason. */
enum tix_err request_verify(const struct request_ctx *c, const json_t *versions,
                            struct request_status *st, struct tix_error *err);

/* Status lines: the reminders due for a request as seen by org (a
 * request close to the end of its preservation, one waiting for
 * acknowledgement), each to cb; returns how many. */
size_t request_reminders(const struct request_status *st, const char *org, int64_t now_us,
                         void (*cb)(void *, const char *line), void *arg);

/* ---- canonical form and signatures ---------------------------------------- */

/* The bytes signed: "tix-preservation-v1\n" and the object without
 * tix_signature, keys sorted, no white space. */
enum tix_err request_canonical(const json_t *obj, int with_signature, struct tix_buf *out);
/* Signs obj in place (sets tix_signature) with the Ed25519 key sk. */
enum tix_err request_sign(json_t *obj, const unsigned char pk[32], const unsigned char sk[64],
                          struct tix_error *err);
/* TIX_OK and pk set when tix_signature verifies under the key it names. */
enum tix_err request_check_signature(const json_t *obj, unsigned char pk[32],
                                     struct tix_error *err);

/* ---- the 24/7 directory (directory.c) ------------------------------------- */

struct request_contact {
	char org[128];
	char country[3];
	char id[128];        /* identity--… */
	char public_key[64]; /* base64 */
	char hours[128];
	char languages[256], channels[512]; /* comma-separated */
	int64_t modified_us;
	size_t versions;
	int local; /* this node holds its secret key */
	int verified;
	char problem[300];
};

/* Publishes (or updates) as a STIX identity the contact point of org: its
 * country, languages, hours and channels; makes its signing key on first
 * use. Every version is signed by the key of the version before (the
 * first by its own). */
enum tix_err request_contact_put(const struct request_ctx *c, const char *org, const char *country,
                                 const char *languages, const char *hours, const char *channels,
                                 struct request_contact *out, struct tix_error *err);
/* A key change: a new key, published in a version signed by the old one. */
enum tix_err request_contact_rotate(const struct request_ctx *c, const char *org,
                                    struct request_contact *out, struct tix_error *err);
/* Every contact point the node holds, verified. */
enum tix_err request_directory_list(const struct request_ctx *c,
                                    int (*cb)(void *, const struct request_contact *), void *arg,
                                    struct tix_error *err);
/* The verified contact point of org; TIX_ENOTFOUND when there is none. */
enum tix_err request_directory_get(const struct request_ctx *c, const char *org,
                                   struct request_contact *out, struct tix_error *err);
/* The one verified contact point of a country (ISO 3166-1 alpha-2). */
enum tix_err request_directory_find(const struct request_ctx *c, const char *country,
                                    struct request_contact *out, struct tix_error *err);
/* TIX_OK when pk was org's key in its verified directory entry at time
 * at_us (a key changed later signs nothing after the change). */
enum tix_err request_directory_key_ok(const struct request_ctx *c, const char *org,
                                      const unsigned char pk[32], int64_t at_us,
                                      struct tix_error *err);

#endif
