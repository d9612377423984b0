/*
 * request/request.c — preservation requests: the Article 29(2) template,
 * the request and response objects, the canonical form and Ed25519
 * signatures, and the life cycle as one verified chain of transitions.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"

#define RED_MARKING  "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define SIGN_PREFIX  "tix-preservation-v1\n"
#define MAX_VERSIONS 1000
#define MAX_TEXT     8192

/* ---- small helpers ----------------------------------------------------------- */

const char *request__str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t request__us(const char *s)
{
	struct tix_time t;

	if (s == NULL || tix_time_parse(s, &t, NULL) != TIX_OK)
		return -1;
	return tix_time_to_us(&t);
}

void request__key_b64(const unsigned char pk[32], char out[64])
{
	sodium_bin2base64(out, 64, pk, 32, sodium_base64_VARIANT_ORIGINAL);
}

int request__key_parse(const char *b64, unsigned char pk[32])
{
	size_t len = 0;

	if (b64 == NULL || strlen(b64) != 44 ||
	    sodium_base642bin(pk, 32, b64, 44, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) !=
	            0 ||
	    len != 32)
		return -1;
	return 0;
}

struct collect {
	json_t *versions, *owners;
	int failed;
};

static int collect_row(void *arg, const struct store_row *row)
{
	struct collect *k = arg;
	json_t *v = json_loadb(row->body, row->body_len, JSON_REJECT_DUPLICATES, NULL);

	if (v == NULL || json_array_size(k->versions) >= MAX_VERSIONS) {
		json_decref(v);
		k->failed = 1;
		return 1;
	}
	json_array_append_new(k->versions, v);
	json_array_append_new(k->owners,
	                      row->aud.owner_org ? json_string(row->aud.owner_org) : json_null());
	return 0;
}

enum tix_err request__versions(const struct request_ctx *c, const char *id, json_t **versions,
                               json_t **owners, struct tix_error *err)
{
	struct store_query q = {0};
	struct collect k = {json_array(), json_array(), 0};
	enum tix_err e;

	q.id = id;
	q.all_versions = 1;
	e = store_query(c->s, &q, collect_row, &k, err);
	if (e == TIX_OK && k.failed)
		e = tix_error_set(err, TIX_ESTORE, id,
		                  "a stored version is unreadable or too many");
	if (e != TIX_OK) {
		json_decref(k.versions);
		json_decref(k.owners);
		return e;
	}
	*versions = k.versions;
	if (owners)
		*owners = k.owners;
	else
		json_decref(k.owners);
	return TIX_OK;
}

static int collect_id(void *arg, const struct store_row *row)
{
	json_array_append_new(arg, json_string(row->id));
	return 0;
}

enum tix_err request__ids(const struct request_ctx *c, const char *type, json_t **ids,
                          struct tix_error *err)
{
	const char *types[2] = {type, NULL};
	struct store_query q = {0};
	enum tix_err e;

	q.types = types;
	*ids = json_array();
	if ((e = store_query(c->s, &q, collect_id, *ids, err)) != TIX_OK) {
		json_decref(*ids);
		*ids = NULL;
	}
	return e;
}

enum tix_err request__put(const struct request_ctx *c, const json_t *v, const char *owner,
                          const char *detail, const unsigned char *pk, const unsigned char *sk,
                          struct tix_error *err)
{
	struct stix_meta meta;
	struct tix_buf body, ids;
	struct store_audit_entry ae;
	enum tix_err e;
	int added = 0;

	tix_buf_init(&ids, TIX_BUF_UNLIMITED);
	if ((e = stix_prepare_write(v, &meta, &body, err)) != TIX_OK)
		goto out;
	if (tix_buf_addf(&ids, "\n%s\n", meta.id) != TIX_OK) {
		e = tix_error_set(err, TIX_ENOMEM, meta.id, "out of memory");
		goto out;
	}
	if ((e = store_begin(c->s, err)) != TIX_OK)
		goto out;
	e = store_put(c->s, &meta, tix_buf_str(&body), tix_buf_len(&body), owner, c->collection,
	              NULL, &added, err);
	if (e == TIX_OK && pk && sk)
		e = store_request_key_add(c->s, owner, pk, sk, c->now_us, err);
	if (e == TIX_OK) {
		struct tix_time now;

		tix_time_now(&now);
		ae = (struct store_audit_entry){
		        tix_time_to_us(&now), "write", c->actor ? c->actor : "operator", owner,
		        tix_buf_str(&ids),    detail};
		e = store_audit_append(c->s, &ae, 1, err);
	}
	if (e == TIX_OK)
		e = store_commit(c->s, err);
	else
		store_rollback(c->s);
out:
	tix_buf_release(&body);
	tix_buf_release(&ids);
	return e;
}

/* ---- the template ------------------------------------------------------------- */

static const struct {
	const char *key, *what;
} art29[] = {
        {"requesting_authority", "Article 29(2)(a): the authority seeking preservation"},
        {"offence", "Article 29(2)(b): the offence under investigation"},
        {"summary", "Article 29(2)(b): a brief summary of the related facts"},
        {"data", "Article 29(2)(c): the stored computer data to be preserved"},
        {"relationship", "Article 29(2)(c): the data's relationship to the offence"},
        {"custodian", "Article 29(2)(d): the custodian of the data or the location of the "
                      "computer system"},
        {"necessity", "Article 29(2)(e): the necessity of preservation"},
        {"case_reference", "the requesting authority's case reference"},
};

static const char *const identifier_kinds[] = {"account", "email", "ipv4",  "ipv6",
                                               "domain",  "url",   "phone", "device",
                                               "payment", "other", NULL};
static const char *const urgencies[] = {"normal", "urgent", "critical", NULL};

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* A non-empty text of at most max bytes without control characters but
 * line breaks and tabs. */
static int text_ok(const json_t *v, size_t max)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (s == NULL || n == 0 || n > max || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
			return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t')
			return 1;
	return 0;
}

static enum tix_err check_identifiers(const json_t *ids, const char *where, const char *key,
                                      struct tix_error *err)
{
	size_t i;
	json_t *x;

	if (ids == NULL)
		return tix_error_set(err, TIX_EINVAL, where,
		                     "%s: missing (Article 29(2)(c): the accounts, addresses and "
		                     "times naming the data)",
		                     key);
	if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > 1000)
		return tix_error_set(
		        err, TIX_EINVAL, where,
		        "%s: must be a non-empty list (at most 1000) of identifiers "
		        "(accounts, addresses, times) naming the data (Article 29(2)(c))",
		        key);
	json_array_foreach (ids, i, x) {
		const char *k;
		json_t *m;

		if (!json_is_object(x))
			return tix_error_set(err, TIX_EINVAL, where,
			                     "%s[%zu]: must be an object {\"kind\", \"value\", "
			                     "\"from\", \"to\", \"service\"}",
			                     key, i);
		json_object_foreach (x, k, m) {
			if (strcmp(k, "kind") == 0) {
				if (!in_list(json_string_value(m), identifier_kinds))
					return tix_error_set(
					        err, TIX_EINVAL, where,
					        "%s[%zu].kind: must be one of account, email, ipv4, ipv6, "
					        "domain, url, phone, device, payment, other",
					        key, i);
			} else if (strcmp(k, "value") == 0 || strcmp(k, "service") == 0) {
				if (!text_ok(m, 1024) || strchr(json_string_value(m), '\n'))
					return tix_error_set(err, TIX_EINVAL, where,
					                     "%s[%zu].%s: must be one line of text "
					                     "(1-1024 bytes)",
					                     key, i, k);
			} else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
				if (request__us(json_string_value(m)) < 0)
					return tix_error_set(err, TIX_EINVAL, where,
					                     "%s[%zu].%s: must be an RFC 3339 UTC "
					                     "timestamp (2026-01-31T12:00:00Z)",
					                     key, i, k);
			} else {
				return tix_error_set(err, TIX_EINVAL, where,
				                     "%s[%zu]: unknown key '%.60s' (kind, value, "
				                     "service, from, to)",
				                     key, i, k);
			}
		}
		if (!json_object_get(x, "kind") || !json_object_get(x, "value"))
			return tix_error_set(err, TIX_EINVAL, where,
			                     "%s[%zu]: needs \"kind\" and \"value\"", key, i);
		if (json_object_get(x, "from") && json_object_get(x, "to") &&
		    request__us(request__str(x, "from")) > request__us(request__str(x, "to")))
			return tix_error_set(err, TIX_EINVAL, where, "%s[%zu]: from is after to",
			                     key, i);
	}
	return TIX_OK;
}

enum tix_err request_template_check(const json_t *t, const char *where, struct tix_error *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_object(t))
		return tix_error_set(err, TIX_EINVAL, where, "a template is a JSON object");
	for (i = 0; i < sizeof(art29) / sizeof(art29[0]); i++) {
		v = json_object_get(t, art29[i].key);
		if (v == NULL)
			return tix_error_set(err, TIX_EINVAL, where, "%s: missing (%s)",
			                     art29[i].key, art29[i].what);
		if (!text_ok(v, MAX_TEXT))
			return tix_error_set(err, TIX_EINVAL, where,
			                     "%s: must be non-empty text of at most %d bytes (%s)",
			                     art29[i].key, MAX_TEXT, art29[i].what);
	}
	v = json_object_get(t, "mla_intent");
	if (!json_is_true(v))
		return tix_error_set(
		        err, TIX_EINVAL, where,
		        "mla_intent: %s (Article 29(2)(f): the requesting party intends "
		        "to submit a request for mutual assistance; it must be true)",
		        v ? "is not true" : "missing");
	if (check_identifiers(json_object_get(t, "identifiers"), where, "identifiers", err) !=
	    TIX_OK)
		return err ? err->code : TIX_EINVAL;
	v = json_object_get(t, "urgency");
	if (v && !in_list(json_string_value(v), urgencies))
		return tix_error_set(err, TIX_EINVAL, where,
		                     "urgency: must be normal, urgent or critical");
	v = json_object_get(t, "languages");
	if (v) {
		json_t *l;

		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 20)
			return tix_error_set(
			        err, TIX_EINVAL, where,
			        "languages: must be a non-empty list of language codes");
		json_array_foreach (v, i, l) {
			const char *s = json_string_value(l);
			size_t n = s ? strlen(s) : 0;
			int ok = n >= 2 && n <= 8;

			for (size_t j = 0; ok && j < n; j++)
				ok = (s[j] >= 'a' && s[j] <= 'z') || (j > 1 && s[j] == '-');
			if (!ok)
				return tix_error_set(err, TIX_EINVAL, where,
				                     "languages[%zu]: not a language code (en, de, "
				                     "pt-br)",
				                     i);
		}
	}
	return TIX_OK;
}

static int template_key(const char *k)
{
	for (size_t i = 0; i < sizeof(art29) / sizeof(art29[0]); i++)
		if (strcmp(k, art29[i].key) == 0)
			return 1;
	return strcmp(k, "mla_intent") == 0 || strcmp(k, "identifiers") == 0 ||
	       strcmp(k, "urgency") == 0 || strcmp(k, "languages") == 0;
}

json_t *request_template_parse(const char *data, size_t len, const char *source,
                               struct tix_error *err)
{
	json_t *t, *out = NULL, *v;
	const char *k;

	if (len > REQUEST_MAX_TEMPLATE) {
		tix_error_set(err, TIX_ETOOBIG, source, "a template is at most %d bytes",
		              REQUEST_MAX_TEMPLATE);
		return NULL;
	}
	if ((t = stix_json_parse(data, len, source, err)) == NULL)
		return NULL;
	if (!json_is_object(t)) {
		tix_error_set(err, TIX_EINVAL, source, "a template is a JSON object");
		goto out;
	}
	json_object_foreach (t, k, v) {
		if (!template_key(k)) {
			tix_error_set(
			        err, TIX_EINVAL, source,
			        "unknown key '%.80s' (a template has requesting_authority, "
			        "offence, summary, data, relationship, custodian, necessity, "
			        "mla_intent, case_reference, identifiers, urgency, languages)",
			        k);
			goto out;
		}
	}
	if (request_template_check(t, source, err) != TIX_OK)
		goto out;
	out = json_deep_copy(t);
	if (out && !json_object_get(out, "urgency"))
		json_object_set_new(out, "urgency", json_string("normal"));
	if (out && !json_object_get(out, "languages"))
		json_object_set_new(out, "languages", json_pack("[s]", "en"));
out:
	json_decref(t);
	return out;
}

json_t *request_extension_definitions(void)
{
	return json_pack(
	        "[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s,s]},"
	        " {s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s,s]}]",
	        "type", "extension-definition", "spec_version", "2.1", "id", REQUEST_EXT, "created",
	        "2026-12-01T00:00:00.000Z", "modified", "2026-12-01T00:00:00.000Z", "name",
	        "tix preservation request", "description",
	        "Expedited preservation requests between 24/7 contact points (Budapest Convention "
	        "Articles 29, 30 and 35): x-tix-preservation-request (the request, written by the "
	        "requesting contact point) and x-tix-preservation-response (its answer, written by "
	        "the requested one), each version a signed transition.",
	        "schema", "https://github.com/tix/docs/preservation.md", "version", "1.0.0",
	        "extension_types", "new-sdo", "extension_properties", "tix_transition",
	        "tix_signature",
	        /* the directory */
	        "type", "extension-definition", "spec_version", "2.1", "id", CONTACT_EXT, "created",
	        "2026-12-01T00:00:00.000Z", "modified", "2026-12-01T00:00:00.000Z", "name",
	        "tix 24/7 contact point", "description",
	        "A 24/7 contact point (Budapest Convention Article 35) published as an identity: "
	        "its country, public signing key, languages, hours and channels; each version "
	        "signed by the key of the version before.",
	        "schema", "https://github.com/tix/docs/preservation.md", "version", "1.0.0",
	        "extension_types", "toplevel-property-extension", "extension_properties",
	        "tix_contact_point", "tix_signature");
}

/* ---- canonical form and signatures ----------------------------------------- */

enum tix_err request_canonical(const json_t *obj, int with_signature, struct tix_buf *out)
{
	json_t *copy = json_copy((json_t *)obj);
	char *text;
	enum tix_err e;

	if (copy == NULL)
		return TIX_ENOMEM;
	if (!with_signature)
		json_object_del(copy, "tix_signature");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (text == NULL)
		return TIX_ENOMEM;
	tix_buf_reset(out);
	e = tix_buf_adds(out, SIGN_PREFIX);
	if (e == TIX_OK)
		e = tix_buf_adds(out, text);
	free(text);
	return e;
}

enum tix_err request_sign(json_t *obj, const unsigned char pk[32], const unsigned char sk[64],
                          struct tix_error *err)
{
	unsigned char sig[crypto_sign_BYTES];
	char sigb64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char key[64];
	struct tix_buf b;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	if (request_canonical(obj, 0, &b) != TIX_OK) {
		tix_buf_release(&b);
		return tix_error_set(err, TIX_ENOMEM, "sign", "out of memory");
	}
	crypto_sign_detached(sig, NULL, (const unsigned char *)tix_buf_str(&b), tix_buf_len(&b),
	                     sk);
	tix_buf_release(&b);
	sodium_bin2base64(sigb64, sizeof(sigb64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	request__key_b64(pk, key);
	json_object_set_new(
	        obj, "tix_signature",
	        json_pack("{s:s, s:s, s:s}", "alg", "ed25519", "key", key, "value", sigb64));
	return TIX_OK;
}

enum tix_err request_check_signature(const json_t *obj, unsigned char pk[32], struct tix_error *err)
{
	const json_t *sg = json_object_get(obj, "tix_signature");
	const char *id = request__str(obj, "id");
	const char *val = request__str(sg, "value");
	unsigned char sig[crypto_sign_BYTES];
	struct tix_buf b;
	size_t len = 0;
	int ok;

	if (!json_is_object(sg))
		return tix_error_set(err, TIX_EINVAL, id ? id : "version", "is not signed");
	if (!request__str(sg, "alg") || strcmp(request__str(sg, "alg"), "ed25519") != 0 ||
	    request__key_parse(request__str(sg, "key"), pk) != 0 || val == NULL ||
	    sodium_base642bin(sig, sizeof(sig), val, strlen(val), NULL, &len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != sizeof(sig))
		return tix_error_set(err, TIX_EINVAL, id ? id : "version",
		                     "tix_signature is malformed (alg ed25519, key and value in "
		                     "base64)");
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	if (request_canonical(obj, 0, &b) != TIX_OK) {
		tix_buf_release(&b);
		return tix_error_set(err, TIX_ENOMEM, "verify", "out of memory");
	}
	ok = crypto_sign_verify_detached(sig, (const unsigned char *)tix_buf_str(&b),
	                                 tix_buf_len(&b), pk) == 0;
	tix_buf_release(&b);
	if (!ok)
		return tix_error_set(
		        err, TIX_EINVAL, id ? id : "version",
		        "the signature does not verify (forged, or a field was changed "
		        "after signing)");
	return TIX_OK;
}

static enum tix_err version_hash(const json_t *v, char out[65])
{
	unsigned char h[32];
	struct tix_buf b;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	if (request_canonical(v, 1, &b) != TIX_OK) {
		tix_buf_release(&b);
		return TIX_ENOMEM;
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)tix_buf_str(&b), tix_buf_len(&b),
	                   NULL, 0);
	tix_buf_release(&b);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return TIX_OK;
}

/* ---- the life cycle ------------------------------------------------------------- */

enum party { REQUESTER, REQUESTED };

/* In every state exactly one party may act (the requested one until it
 * executed or disclosed, the requester before sending and after), so the two
 * nodes, each acting for its own party, never write two versions after the
 * same one: the chain cannot fork. Disclosing (Article 30) executes the
 * preservation too, as an alternative to executing. */
static const struct rule {
	const char *verb;   /* the command: tix request VERB */
	const char *action; /* tix_transition.action */
	enum party party;
	const char *from[6]; /* "" for a new request */
	const char *to;      /* NULL: the state stays */
} rules[] = {
        {"draft", "draft", REQUESTER, {""}, "draft"},
        {"send", "sent", REQUESTER, {"", "draft"}, "sent"},
        {"ack", "acknowledged", REQUESTED, {"sent"}, "acknowledged"},
        {"execute", "executed", REQUESTED, {"acknowledged"}, "executed"},
        {"disclose", "partially-disclosed", REQUESTED, {"acknowledged"}, "partially-disclosed"},
        {"decline", "declined", REQUESTED, {"sent", "acknowledged"}, "declined"},
        {"extend",
         "extended",
         REQUESTER,
         {"executed", "partially-disclosed", "extended"},
         "extended"},
        {"mla", "mla-linked", REQUESTER, {"executed", "partially-disclosed", "extended"}, NULL},
};

static const struct rule *rule_by(const char *name, int by_verb)
{
	for (size_t i = 0; name && i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(by_verb ? rules[i].verb : rules[i].action, name) == 0)
			return &rules[i];
	return NULL;
}

static int rule_allows(const struct rule *r, const char *state)
{
	for (size_t i = 0; i < 6 && r->from[i]; i++)
		if (strcmp(r->from[i], state) == 0)
			return 1;
	return 0;
}

static int preserving(const char *state)
{
	return strcmp(state, "executed") == 0 || strcmp(state, "partially-disclosed") == 0 ||
	       strcmp(state, "extended") == 0;
}

static void response_id(const char *request_id, char out[128])
{
	static const struct tix_uuid ns = {{0x0b, 0x43, 0x07, 0x15, 0x9f, 0xc3, 0x5e, 0x2b, 0x8e,
	                                    0x28, 0x16, 0x7a, 0x53, 0x67, 0xad, 0x16}};
	struct tix_uuid u;
	char us[37];

	tix_uuid_v5(&ns, request_id, strlen(request_id), &u);
	snprintf(out, 128, RESPONSE_TYPE "--%s", tix_uuid_format(&u, us));
}

/* The properties of a request that never change after it was made. */
static const char *const fixed_props[] = {"requesting_authority",
                                          "offence",
                                          "summary",
                                          "data",
                                          "relationship",
                                          "custodian",
                                          "necessity",
                                          "mla_intent",
                                          "case_reference",
                                          "identifiers",
                                          "urgency",
                                          "languages",
                                          "requesting_contact",
                                          "requesting_country",
                                          "requested_contact",
                                          "requested_country",
                                          "preceding_request_ref",
                                          "created",
                                          NULL};

/* Both absent, or equal. */
static int same_prop(const json_t *a, const json_t *b)
{
	return (a == NULL && b == NULL) || (a && b && json_equal((json_t *)a, (json_t *)b));
}

static int seq_of(const json_t *v)
{
	json_int_t n =
	        json_integer_value(json_object_get(json_object_get(v, "tix_transition"), "seq"));

	return n > 0 && n <= MAX_VERSIONS ? (int)n : 0;
}

/* Orders versions (and owners alongside) by their sequence number. */
static void sort_chain(json_t *vs, json_t *owners)
{
	size_t n = json_array_size(vs);

	for (size_t i = 1; i < n; i++)
		for (size_t j = i;
		     j > 0 && seq_of(json_array_get(vs, j - 1)) > seq_of(json_array_get(vs, j));
		     j--) {
			json_t *a = json_incref(json_array_get(vs, j - 1));

			json_array_set(vs, j - 1, json_array_get(vs, j));
			json_array_set_new(vs, j, a);
			if (owners) {
				json_t *o = json_incref(json_array_get(owners, j - 1));

				json_array_set(owners, j - 1, json_array_get(owners, j));
				json_array_set_new(owners, j, o);
			}
		}
}

static int recipients_are(const json_t *v, const char *a, const char *b)
{
	const json_t *r = json_object_get(v, "tix_recipients");
	const json_t *m = json_object_get(v, "object_marking_refs");
	const char *r0 = json_string_value(json_array_get(r, 0));
	const char *r1 = json_string_value(json_array_get(r, 1));

	if (json_array_size(m) != 1 || !json_string_value(json_array_get(m, 0)) ||
	    strcmp(json_string_value(json_array_get(m, 0)), RED_MARKING) != 0)
		return 0;
	if (b == NULL)
		return json_array_size(r) == 1 && r0 && strcmp(r0, a) == 0;
	return json_array_size(r) == 2 && r0 && r1 &&
	       ((strcmp(r0, a) == 0 && strcmp(r1, b) == 0) ||
	        (strcmp(r0, b) == 0 && strcmp(r1, a) == 0));
}

static void copy_str(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s ? s : "");
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		tix_error_set(err, TIX_EINVAL, where, __VA_ARGS__);                                \
		goto fail;                                                                         \
	} while (0)

/* Checks a whole chain (sorted, from its first transition) and computes
 * the request's status; owners (when not NULL) are the owners the store
 * recorded for each version. */
static enum tix_err walk(const struct request_ctx *c, const json_t *vs, const json_t *owners,
                         struct request_status *st, struct tix_error *err)
{
	const json_t *first = json_array_get(vs, 0);
	char prevhash[65] = "", rid[128], where[160];
	const char *state = "";
	size_t i, shared = 0;
	json_t *v;

	memset(st, 0, sizeof(*st));
	snprintf(where, sizeof(where), "%s", first ? "version 1" : "request");
	if (first == NULL)
		FAIL("no versions");
	if (!request__str(first, "type") || strcmp(request__str(first, "type"), REQUEST_TYPE) != 0)
		FAIL("the first transition must be the request itself (" REQUEST_TYPE ")");
	copy_str(st->id, sizeof(st->id), request__str(first, "id"));
	if (strncmp(st->id, REQUEST_TYPE "--", strlen(REQUEST_TYPE) + 2) != 0)
		FAIL("is not a preservation request id");
	snprintf(where, sizeof(where), "%.120s version 1", st->id);
	copy_str(st->requesting_org, sizeof(st->requesting_org),
	         request__str(first, "requesting_contact"));
	copy_str(st->requested_org, sizeof(st->requested_org),
	         request__str(first, "requested_contact"));
	copy_str(st->requesting_country, sizeof(st->requesting_country),
	         request__str(first, "requesting_country"));
	copy_str(st->requested_country, sizeof(st->requested_country),
	         request__str(first, "requested_country"));
	copy_str(st->case_reference, sizeof(st->case_reference),
	         request__str(first, "case_reference"));
	copy_str(st->preceding, sizeof(st->preceding),
	         request__str(first, "preceding_request_ref"));
	if (!st->requesting_org[0] || !st->requested_org[0] ||
	    strcmp(st->requesting_org, st->requested_org) == 0)
		FAIL("requesting_contact and requested_contact must name two organisations");
	if (strlen(st->requesting_country) != 2 || strlen(st->requested_country) != 2)
		FAIL("requesting_country and requested_country must be ISO 3166-1 alpha-2 codes");
	if (request_template_check(first, where, err) != TIX_OK)
		goto fail;
	response_id(st->id, rid);

	json_array_foreach (vs, i, v) {
		const json_t *tr = json_object_get(v, "tix_transition");
		const char *action = request__str(tr, "action");
		const char *by = request__str(tr, "by");
		const char *owner = owners ? json_string_value(json_array_get(owners, i)) : NULL;
		const struct rule *r = rule_by(action, 0);
		const char *party;
		unsigned char pk[32];
		int64_t at = request__us(request__str(v, "modified"));
		int seq = seq_of(v);

		snprintf(where, sizeof(where), "%.120s version %zu", st->id, i + 1);
		if (!json_is_object(tr) || r == NULL || by == NULL || !request__str(tr, "prev"))
			FAIL("tix_transition is missing or malformed (seq, action, state, by, prev)");
		if (r->party == REQUESTER) {
			if (strcmp(request__str(v, "type") ? request__str(v, "type") : "",
			           REQUEST_TYPE) != 0 ||
			    strcmp(request__str(v, "id") ? request__str(v, "id") : "", st->id) != 0)
				FAIL("belongs to another request (%.100s)",
				     request__str(v, "id") ? request__str(v, "id") : "?");
			for (size_t k = 0; i > 0 && fixed_props[k]; k++)
				if (!same_prop(json_object_get(v, fixed_props[k]),
				               json_object_get(first, fixed_props[k])))
					FAIL("%s differs from the request as it was made (a request "
					     "never changes)",
					     fixed_props[k]);
		} else if (strcmp(request__str(v, "type") ? request__str(v, "type") : "",
		                  RESPONSE_TYPE) != 0 ||
		           strcmp(request__str(v, "id") ? request__str(v, "id") : "", rid) != 0 ||
		           strcmp(request__str(v, "request_ref") ? request__str(v, "request_ref")
		                                                 : "",
		                  st->id) != 0) {
			FAIL("belongs to another request (%.100s)",
			     request__str(v, "request_ref") ? request__str(v, "request_ref")
			                                    : request__str(v, "id"));
		}
		if (strcmp(action, "draft") == 0) {
			/* Drafts stay on their node (RED to the requester alone):
			 * seq 0, outside the chain the two parties share. */
			if (!json_is_integer(json_object_get(tr, "seq")) ||
			    json_integer_value(json_object_get(tr, "seq")) != 0 || shared > 0 ||
			    request__str(tr, "prev")[0])
				FAIL("a draft has seq 0 and comes before the request is sent");
		} else if (seq != (int)shared + 1) {
			FAIL("seq %d where %zu was expected (a version replayed, reordered or missing)",
			     seq, shared + 1);
		}
		if (strcmp(request__str(tr, "prev"), prevhash) != 0)
			FAIL("its prev does not name the version before (replayed, reordered or a "
			     "version is missing)");
		party = r->party == REQUESTER ? st->requesting_org : st->requested_org;
		if (strcmp(by, party) != 0)
			FAIL("%s by %.100s: only %s (the %s contact point) does that", action, by,
			     party, r->party == REQUESTER ? "requesting" : "requested");
		if (owner && strcmp(owner, by) != 0)
			FAIL("was written on this node for %.100s, not by %.100s (a peer must be added "
			     "with --org naming its contact point)",
			     owner, by);
		if (!recipients_are(v, st->requesting_org,
		                    strcmp(action, "draft") == 0 ? NULL : st->requested_org))
			FAIL("must be TLP:RED with exactly the two contact points' organisations as "
			     "tix_recipients%s",
			     strcmp(action, "draft") == 0 ? " (a draft: only the requesting one)"
			                                  : "");
		if (at < 0 || at <= st->last_us)
			FAIL("its modified is not after the transition before");
		if (!rule_allows(r, state))
			FAIL("%s cannot follow %s", action, state[0] ? state : "nothing");
		if (preserving(state) && at >= st->preserve_until_us &&
		    strcmp(action, "mla-linked") != 0)
			FAIL("%s after the preservation ended (%s)", action,
			     tix_time_format_us(st->preserve_until_us, 3, (char[32]){0}));
		if (!request__str(tr, "state") ||
		    strcmp(request__str(tr, "state"), r->to ? r->to : state) != 0)
			FAIL("its state is not %s", r->to ? r->to : state);
		if (request_check_signature(v, pk, err) != TIX_OK)
			goto fail_where;
		if (request_directory_key_ok(c, by, pk, at, err) != TIX_OK)
			goto fail_where;
		/* What the transition does. */
		if (strcmp(action, "sent") == 0) {
			st->sent_us = at;
		} else if (strcmp(action, "acknowledged") == 0) {
			st->acknowledged_us = at;
		} else if (strcmp(action, "declined") == 0) {
			if (!text_ok(json_object_get(tr, "reason"), MAX_TEXT))
				FAIL("a decline gives its reason");
		} else if (strcmp(action, "executed") == 0 ||
		           (strcmp(action, "partially-disclosed") == 0 && st->executed_us == 0)) {
			st->executed_us = at;
			st->preserve_until_us = at + REQUEST_PERIOD_US;
		} else if (strcmp(action, "extended") == 0) {
			st->preserve_until_us += REQUEST_PERIOD_US;
		} else if (strcmp(action, "mla-linked") == 0) {
			if (!text_ok(json_object_get(tr, "mla_reference"), 255))
				FAIL("mla-linked names the mutual-assistance request (mla_reference)");
			copy_str(st->mla_reference, sizeof(st->mla_reference),
			         request__str(tr, "mla_reference"));
		}
		if (strcmp(action, "partially-disclosed") == 0) {
			const json_t *d = json_object_get(tr, "disclosure");
			const char *nc = request__str(d, "next_country");

			if (!nc || strlen(nc) != 2)
				FAIL("a disclosure names the next country (Article 30)");
			if (json_object_get(d, "traffic") &&
			    check_identifiers(json_object_get(d, "traffic"), where, "traffic",
			                      err) != TIX_OK)
				goto fail_where;
			copy_str(st->next_country, sizeof(st->next_country), nc);
		}
		if (preserving(r->to ? r->to : state)) {
			const char *pus = request__str(tr, "preserve_until");

			if (pus == NULL || request__us(pus) != st->preserve_until_us)
				FAIL("preserve_until must be %s",
				     tix_time_format_us(st->preserve_until_us, 3, (char[32]){0}));
		}
		if (r->to)
			state = r->to;
		st->last_us = at;
		if (strcmp(action, "draft") != 0) {
			st->transitions = ++shared;
			if (version_hash(v, prevhash) != TIX_OK)
				FAIL("out of memory");
		}
	}
	copy_str(st->state, sizeof(st->state), state);
	copy_str(st->chain_state, sizeof(st->chain_state), state);
	if (preserving(state) && c->now_us >= st->preserve_until_us)
		copy_str(st->state, sizeof(st->state), "expired");
	/* Whose move it is: the requested party's while unanswered, else the
	 * requester's (to send a draft, or to extend a preservation). */
	if (strcmp(st->state, "sent") == 0 || strcmp(st->state, "acknowledged") == 0)
		copy_str(st->turn, sizeof(st->turn), st->requested_org);
	else if (strcmp(st->state, "draft") == 0 || preserving(st->state))
		copy_str(st->turn, sizeof(st->turn), st->requesting_org);
	st->verified = 1;
	return TIX_OK;
fail_where:
	if (err) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		tix_error_set(err, err->code == TIX_ENOMEM ? TIX_ENOMEM : TIX_EINVAL, where, "%s",
		              msg);
	}
fail:
	st->verified = 0;
	if (err)
		snprintf(st->problem, sizeof(st->problem), "%s: %s", err->where, err->msg);
	return err ? err->code : TIX_EINVAL;
}

/* The stored chain of a request: both objects' versions in chain order. */
static enum tix_err load_chain(const struct request_ctx *c, const char *id, json_t **vs,
                               json_t **owners, struct tix_error *err)
{
	json_t *rv = NULL, *ro = NULL, *pv = NULL, *po = NULL;
	char rid[128];
	enum tix_err e;

	if (id == NULL || strncmp(id, REQUEST_TYPE "--", strlen(REQUEST_TYPE) + 2) != 0 ||
	    strlen(id) > 100)
		return tix_error_set(err, TIX_EINVAL, id ? id : "request",
		                     "not a preservation request id (" REQUEST_TYPE "--UUID)");
	if ((e = request__versions(c, id, &rv, &ro, err)) != TIX_OK)
		return e;
	response_id(id, rid);
	if ((e = request__versions(c, rid, &pv, &po, err)) != TIX_OK) {
		json_decref(rv);
		json_decref(ro);
		return e;
	}
	json_array_extend(rv, pv);
	json_array_extend(ro, po);
	json_decref(pv);
	json_decref(po);
	sort_chain(rv, ro);
	*vs = rv;
	*owners = ro;
	return TIX_OK;
}

static int is_party(const struct request_status *st, const char *org)
{
	return org && (strcmp(st->requesting_org, org) == 0 || strcmp(st->requested_org, org) == 0);
}

/* The parties of a stored request as its first version names them, even
 * when its chain does not verify. */
static void parties(const json_t *vs, struct request_status *st)
{
	const json_t *first = json_array_get(vs, 0);

	if (!st->requesting_org[0])
		copy_str(st->requesting_org, sizeof(st->requesting_org),
		         request__str(first, "requesting_contact"));
	if (!st->requested_org[0])
		copy_str(st->requested_org, sizeof(st->requested_org),
		         request__str(first, "requested_contact"));
	if (!st->id[0])
		copy_str(st->id, sizeof(st->id), request__str(first, "id"));
	if (!st->case_reference[0])
		copy_str(st->case_reference, sizeof(st->case_reference),
		         request__str(first, "case_reference"));
}

enum tix_err request_load(const struct request_ctx *c, const char *id, const char *as_org,
                          json_t **versions, struct request_status *st, struct tix_error *err)
{
	json_t *vs = NULL, *owners = NULL;
	struct tix_error werr;
	enum tix_err e;

	if ((e = load_chain(c, id, &vs, &owners, err)) != TIX_OK)
		return e;
	tix_error_clear(&werr);
	walk(c, vs, owners, st, &werr);
	parties(vs, st);
	json_decref(owners);
	if (json_array_size(vs) == 0 || (as_org && !is_party(st, as_org))) {
		/* The same answer whether it exists or not: a third party
		 * learns nothing. */
		json_decref(vs);
		return tix_error_set(err, TIX_ENOTFOUND, id,
		                     "no such request that %s is a party to",
		                     as_org ? as_org : "anyone");
	}
	if (versions)
		*versions = vs;
	else
		json_decref(vs);
	return TIX_OK;
}

enum tix_err request_list(const struct request_ctx *c, const char *as_org,
                          int (*cb)(void *, const struct request_status *), void *arg,
                          struct tix_error *err)
{
	json_t *ids, *x;
	enum tix_err e;
	size_t i;

	if ((e = request__ids(c, REQUEST_TYPE, &ids, err)) != TIX_OK)
		return e;
	json_array_foreach (ids, i, x) {
		struct request_status st;

		if (request_load(c, json_string_value(x), as_org, NULL, &st, NULL) != TIX_OK)
			continue;
		if (cb(arg, &st) != 0)
			break;
	}
	json_decref(ids);
	return TIX_OK;
}

/* ---- writing transitions ---------------------------------------------------------- */

static json_t *red_recipients(const char *a, const char *b)
{
	return b ? json_pack("[s,s]", a, b) : json_pack("[s]", a);
}

/* Signs v as the transition (seq, action, state) of as_org after prev,
 * checks the chain with it appended, and writes it. */
static enum tix_err commit_transition(const struct request_ctx *c, json_t *vs, json_t *owners,
                                      json_t *v, json_t *tr, const char *as_org, const char *detail,
                                      struct request_status *st, struct tix_error *err)
{
	unsigned char pk[32], sk[64];
	enum tix_err e;

	json_object_set(v, "tix_transition", tr);
	if ((e = store_request_key_get(c->s, as_org, pk, sk, err)) != TIX_OK)
		return e;
	e = request_sign(v, pk, sk, err);
	sodium_memzero(sk, sizeof(sk));
	if (e != TIX_OK)
		return e;
	json_array_append(vs, v);
	json_array_append_new(owners, json_string(as_org));
	if ((e = walk(c, vs, owners, st, err)) != TIX_OK)
		return e;
	return request__put(c, v, as_org, detail, NULL, NULL, err);
}

static int64_t transition_time(const struct request_ctx *c, int64_t last_us, struct tix_error *err)
{
	char a[32], b[32];

	if (c->now_us < last_us) {
		tix_error_set(err, TIX_EINVAL, "clock",
		              "the clock (%s) is before the request's last transition (%s)",
		              tix_time_format_us(c->now_us, 3, a),
		              tix_time_format_us(last_us, 3, b));
		return -1;
	}
	/* Millisecond timestamps: two transitions in one millisecond are one
	 * millisecond apart. */
	return c->now_us / 1000 * 1000 > last_us ? c->now_us / 1000 * 1000 : last_us + 1000;
}

enum tix_err request_new(const struct request_ctx *c, const json_t *tmpl, const char *to_country,
                         const char *to_org, const char *as_org, int draft, const char *follow,
                         char id_out[128], struct tix_error *err)
{
	struct request_contact me, them = {0};
	struct request_status fst, st;
	json_t *fields = NULL, *fvs = NULL, *v = NULL, *tr = NULL, *vs = NULL, *owners = NULL;
	struct tix_uuid u;
	char us[37], now[32], detail[512];
	const char *k;
	json_t *x;
	enum tix_err e;
	int64_t at;

	if ((e = request_directory_get(c, as_org, &me, err)) != TIX_OK)
		return e;
	if (!me.local)
		return tix_error_set(
		        err, TIX_EDENIED, as_org,
		        "this node holds no signing key for %s: it acts only for its own "
		        "contact points",
		        as_org);
	if (follow) {
		/* Article 30: the disclosed traffic data names the next provider
		 * and country; the new request goes there, with the facts of
		 * the one it follows. */
		const json_t *last = NULL;
		size_t i;

		if ((e = request_load(c, follow, as_org, &fvs, &fst, err)) != TIX_OK)
			return e;
		if (!fst.verified) {
			e = tix_error_set(err, TIX_EINVAL, follow, "its chain does not verify: %s",
			                  fst.problem);
			goto out;
		}
		if (strcmp(fst.requesting_org, as_org) != 0 || !fst.next_country[0]) {
			e = tix_error_set(
			        err, TIX_EINVAL, follow,
			        "only its requesting contact point follows a request, and "
			        "only one partially disclosed (Article 30)");
			goto out;
		}
		if (to_country && strcmp(to_country, fst.next_country) != 0) {
			e = tix_error_set(err, TIX_EINVAL, follow,
			                  "the disclosure names %s as the next country, not %s",
			                  fst.next_country, to_country);
			goto out;
		}
		to_country = fst.next_country;
		json_array_foreach (fvs, i, x)
			if (strcmp(request__str(json_object_get(x, "tix_transition"), "action"),
			           "partially-disclosed") == 0)
				last = x;
		fields = json_object();
		json_object_foreach ((json_t *)(tmpl ? tmpl : json_array_get(fvs, 0)), k, x)
			if (template_key(k))
				json_object_set(fields, k, x);
		x = json_object_get(
		        json_object_get(json_object_get(last, "tix_transition"), "disclosure"),
		        "traffic");
		if (x && !tmpl)
			json_object_set(fields, "identifiers", x);
	} else {
		fields = json_deep_copy(tmpl);
	}
	if (fields == NULL || request_template_check(fields, "template", err) != TIX_OK) {
		e = fields ? err->code : tix_error_set(err, TIX_EINVAL, "template", "no template");
		goto out;
	}
	if (to_org)
		e = request_directory_get(c, to_org, &them, err);
	else if (to_country)
		e = request_directory_find(c, to_country, &them, err);
	else
		e = tix_error_set(err, TIX_EUSAGE, "request",
		                  "--to COUNTRY names the requested party");
	if (e != TIX_OK)
		goto out;
	if (!them.verified) {
		e = tix_error_set(err, TIX_EINVAL, them.org,
		                  "its directory entry does not verify: %s", them.problem);
		goto out;
	}
	if (to_country && strcmp(them.country, to_country) != 0) {
		e = tix_error_set(err, TIX_EINVAL, them.org, "is the contact point of %s, not %s",
		                  them.country, to_country);
		goto out;
	}
	if (strcmp(them.org, as_org) == 0) {
		e = tix_error_set(err, TIX_EINVAL, as_org, "a contact point does not ask itself");
		goto out;
	}
	if ((at = transition_time(c, 0, err)) < 0) {
		e = TIX_EINVAL;
		goto out;
	}
	if ((e = tix_uuid_v4(&u)) != TIX_OK) {
		tix_error_set(err, e, "request", "no randomness for the id");
		goto out;
	}
	snprintf(id_out, 128, REQUEST_TYPE "--%s", tix_uuid_format(&u, us));
	tix_time_format_us(at, 3, now);
	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s+}", "type", REQUEST_TYPE, "spec_version",
	              "2.1", "id", id_out, "created", now, "modified", now, "name",
	              "Preservation request ",
	              json_string_value(json_object_get(fields, "case_reference")));
	if (v == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, "request", "out of memory");
		goto out;
	}
	json_object_update(v, fields);
	json_object_set_new(v, "requesting_contact", json_string(as_org));
	json_object_set_new(v, "requesting_country", json_string(me.country));
	json_object_set_new(v, "requested_contact", json_string(them.org));
	json_object_set_new(v, "requested_country", json_string(them.country));
	if (follow)
		json_object_set_new(v, "preceding_request_ref", json_string(follow));
	json_object_set_new(v, "object_marking_refs", json_pack("[s]", RED_MARKING));
	json_object_set_new(v, STIX_TIX_RECIPIENTS,
	                    red_recipients(as_org, draft ? NULL : them.org));
	json_object_set_new(v, "extensions",
	                    json_pack("{s:{s:s}, s:{s:s}}", REQUEST_EXT, "extension_type",
	                              "new-sdo", STIX_TIX_POLICY_EXT, "extension_type",
	                              "toplevel-property-extension"));
	tr = json_pack("{s:i, s:s, s:s, s:s, s:s}", "seq", draft ? 0 : 1, "action",
	               draft ? "draft" : "sent", "state", draft ? "draft" : "sent", "by", as_org,
	               "prev", "");
	vs = json_array();
	owners = json_array();
	snprintf(detail, sizeof(detail), "tix request new %s --to %s --as %s%s%s", id_out,
	         them.country, as_org, follow ? " --follow " : "", follow ? follow : "");
	e = commit_transition(c, vs, owners, v, tr, as_org, detail, &st, err);
out:
	json_decref(fields);
	json_decref(fvs);
	json_decref(v);
	json_decref(tr);
	json_decref(vs);
	json_decref(owners);
	return e;
}

enum tix_err request_act(const struct request_ctx *c, const char *id, const char *verb,
                         const char *as_org, const json_t *args, struct request_status *st,
                         struct tix_error *err)
{
	const struct rule *r = rule_by(verb, 1);
	json_t *vs = NULL, *owners = NULL, *v = NULL, *tr = NULL, *base = NULL;
	const char *party, *reason = request__str(args, "reason");
	char rid[128], now[32], pu[32], detail[600];
	struct request_status cur;
	enum tix_err e;
	int64_t at;
	size_t i;
	json_t *x;

	if (r == NULL || strcmp(verb, "draft") == 0)
		return tix_error_set(err, TIX_EUSAGE, verb ? verb : "request",
		                     "not a transition (send, ack, execute, disclose, decline, "
		                     "extend, mla)");
	if ((e = load_chain(c, id, &vs, &owners, err)) != TIX_OK)
		return e;
	walk(c, vs, owners, &cur, NULL);
	parties(vs, &cur);
	if (json_array_size(vs) == 0 || !is_party(&cur, as_org)) {
		e = tix_error_set(err, TIX_ENOTFOUND, id, "no such request that %s is a party to",
		                  as_org);
		goto out;
	}
	if (!cur.verified) {
		e = tix_error_set(err, TIX_EINVAL, id,
		                  "refused: the request's chain does not verify (%s)", cur.problem);
		goto out;
	}
	party = r->party == REQUESTER ? cur.requesting_org : cur.requested_org;
	if (strcmp(party, as_org) != 0) {
		e = tix_error_set(err, TIX_EDENIED, id,
		                  "refused: only %s (the %s contact point) may %s this request",
		                  party, r->party == REQUESTER ? "requesting" : "requested", verb);
		goto out;
	}
	if (strcmp(cur.state, "expired") == 0 && strcmp(verb, "mla") != 0) {
		e = tix_error_set(err, TIX_EINVAL, id,
		                  "refused: the preservation ended on %s (expired); an expired "
		                  "request is not acted on",
		                  tix_time_format_us(cur.preserve_until_us, 3, now));
		goto out;
	}
	if (!rule_allows(r, cur.chain_state)) {
		e = tix_error_set(err, TIX_EINVAL, id,
		                  "refused: %s cannot follow %s (the request is %s)", r->action,
		                  cur.state, cur.state);
		goto out;
	}
	if ((at = transition_time(c, cur.last_us, err)) < 0) {
		e = TIX_EINVAL;
		goto out;
	}
	tix_time_format_us(at, 3, now);
	/* The acting party's own object: its latest version, or a new response. */
	response_id(id, rid);
	json_array_foreach (vs, i, x)
		if (strcmp(request__str(x, "id"), r->party == REQUESTER ? id : rid) == 0)
			base = x;
	if (base) {
		v = json_deep_copy(base);
		json_object_set_new(v, "modified", json_string(now));
		json_object_del(v, "tix_signature");
	} else {
		v = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s+, s:s, s:[s], s:[s,s], s:{s:{s:s}, s:{s:s}}}",
		        "type", RESPONSE_TYPE, "spec_version", "2.1", "id", rid, "created", now,
		        "modified", now, "name", "Response to preservation request ",
		        cur.case_reference, "request_ref", id, "object_marking_refs", RED_MARKING,
		        STIX_TIX_RECIPIENTS, cur.requesting_org, cur.requested_org, "extensions",
		        REQUEST_EXT, "extension_type", "new-sdo", STIX_TIX_POLICY_EXT,
		        "extension_type", "toplevel-property-extension");
	}
	if (v == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, id, "out of memory");
		goto out;
	}
	if (strcmp(verb, "send") == 0)
		json_object_set_new(v, STIX_TIX_RECIPIENTS,
		                    red_recipients(cur.requesting_org, cur.requested_org));
	tr = json_pack("{s:i, s:s, s:s, s:s, s:s}", "seq", (int)cur.transitions + 1, "action",
	               r->action, "state", r->to ? r->to : cur.chain_state, "by", as_org, "prev",
	               "");
	if (tr == NULL) {
		e = tix_error_set(err, TIX_ENOMEM, id, "out of memory");
		goto out;
	}
	{
		char h[65];

		/* The first shared transition (send after a draft) starts the
		 * chain; drafts sort first, so the last version is shared. */
		h[0] = '\0';
		if (cur.transitions > 0 &&
		    version_hash(json_array_get(vs, json_array_size(vs) - 1), h) != TIX_OK) {
			e = tix_error_set(err, TIX_ENOMEM, id, "out of memory");
			goto out;
		}
		json_object_set_new(tr, "prev", json_string(h));
	}
	if (reason) {
		if (!text_ok(json_object_get(args, "reason"), MAX_TEXT)) {
			e = tix_error_set(err, TIX_EINVAL, "--reason", "must be non-empty text");
			goto out;
		}
		json_object_set(tr, "reason", json_object_get(args, "reason"));
	} else if (strcmp(verb, "decline") == 0) {
		e = tix_error_set(err, TIX_EUSAGE, id, "refused: decline needs --reason TEXT");
		goto out;
	}
	if (strcmp(verb, "mla") == 0) {
		json_t *ref = json_object_get(args, "reference");

		if (!text_ok(ref, 255)) {
			e = tix_error_set(
			        err, TIX_EUSAGE, id,
			        "refused: mla needs --reference REF (the mutual-assistance "
			        "request's reference)");
			goto out;
		}
		json_object_set(tr, "mla_reference", ref);
	}
	if (strcmp(verb, "disclose") == 0) {
		const char *nc = request__str(args, "next_country");
		json_t *d;

		if (nc == NULL || strlen(nc) != 2 || nc[0] < 'A' || nc[0] > 'Z' || nc[1] < 'A' ||
		    nc[1] > 'Z') {
			e = tix_error_set(
			        err, TIX_EUSAGE, id,
			        "refused: disclose needs --next-country CC (the country of "
			        "the next provider, Article 30)");
			goto out;
		}
		d = json_pack("{s:s}", "next_country", nc);
		if (request__str(args, "provider"))
			json_object_set(d, "provider", json_object_get(args, "provider"));
		if (json_object_get(args, "traffic")) {
			if (check_identifiers(json_object_get(args, "traffic"), "--traffic",
			                      "traffic", err) != TIX_OK) {
				json_decref(d);
				e = TIX_EINVAL;
				goto out;
			}
			json_object_set(d, "traffic", json_object_get(args, "traffic"));
		}
		json_object_set_new(tr, "disclosure", d);
	}
	{
		int64_t until = cur.preserve_until_us;

		if (strcmp(verb, "execute") == 0 ||
		    (strcmp(verb, "disclose") == 0 && !cur.executed_us))
			until = at + REQUEST_PERIOD_US;
		else if (strcmp(verb, "extend") == 0)
			until += REQUEST_PERIOD_US;
		/* An expired request is still preserving in its chain (expired
		 * is the clock's reading, not a transition). */
		if (preserving(r->to ? r->to : cur.chain_state))
			json_object_set_new(tr, "preserve_until",
			                    json_string(tix_time_format_us(until, 3, pu)));
	}
	snprintf(detail, sizeof(detail), "tix request %s %s --as %s", verb, id, as_org);
	e = commit_transition(c, vs, owners, v, tr, as_org, detail, st, err);
out:
	json_decref(vs);
	json_decref(owners);
	json_decref(v);
	json_decref(tr);
	return e;
}

/* ---- verification of copies ------------------------------------------------------------ */

static int is_draft(const json_t *v)
{
	const char *a = request__str(json_object_get(v, "tix_transition"), "action");

	return a && strcmp(a, "draft") == 0;
}

/* The stored version at v's place: the same seq in the shared chain, or
 * for a draft the same id and modified. */
static const json_t *stored_at(const json_t *stored, const json_t *v)
{
	size_t i;
	json_t *x;

	json_array_foreach (stored, i, x) {
		if (is_draft(v) != is_draft(x))
			continue;
		if (is_draft(v) ? same_prop(json_object_get(x, "modified"),
		                            json_object_get(v, "modified"))
		                : seq_of(x) == seq_of(v) && seq_of(v) > 0)
			return x;
	}
	return NULL;
}

enum tix_err request_verify(const struct request_ctx *c, const json_t *versions,
                            struct request_status *st, struct tix_error *err)
{
	json_t *vs = json_copy((json_t *)versions), *stored = NULL, *owners = NULL;
	const json_t *one;
	const char *id;
	enum tix_err e;
	size_t i;
	json_t *v;

	memset(st, 0, sizeof(*st));
	if (vs == NULL || json_array_size(vs) == 0) {
		json_decref(vs);
		return tix_error_set(err, TIX_EINVAL, "verify", "no request versions to verify");
	}
	json_array_foreach (vs, i, v)
		if (!json_is_object(v)) {
			json_decref(vs);
			return tix_error_set(err, TIX_EINVAL, "verify", "[%zu] is not an object",
			                     i);
		}
	sort_chain(vs, NULL);
	one = json_array_get(vs, 0);
	/* The request the copies belong to. */
	id = request__str(one, "type") && strcmp(request__str(one, "type"), RESPONSE_TYPE) == 0
	             ? request__str(one, "request_ref")
	             : request__str(one, "id");
	if (id && strncmp(id, REQUEST_TYPE "--", strlen(REQUEST_TYPE) + 2) == 0 &&
	    strlen(id) <= 100 && load_chain(c, id, &stored, &owners, NULL) == TIX_OK &&
	    json_array_size(stored) == 0) {
		json_decref(stored);
		json_decref(owners);
		stored = owners = NULL;
	}
	if (seq_of(one) == 1 || is_draft(one) || json_array_size(vs) > 1) {
		e = walk(c, vs, NULL, st, err);
	} else {
		/* One later version alone: its own signature and signer. */
		const json_t *tr = json_object_get(one, "tix_transition");
		const struct rule *r = rule_by(request__str(tr, "action"), 0);
		unsigned char pk[32];
		char where[160];

		snprintf(where, sizeof(where), "%.120s",
		         request__str(one, "id") ? request__str(one, "id") : "version");
		e = request_check_signature(one, pk, err);
		if (e == TIX_OK && (r == NULL || !request__str(tr, "by") || seq_of(one) == 0))
			e = tix_error_set(err, TIX_EINVAL, where,
			                  "tix_transition is missing or malformed");
		if (e == TIX_OK && stored == NULL)
			e = tix_error_set(
			        err, TIX_EINVAL, where,
			        "its request is not on this node: the signature is intact, "
			        "but who signed it cannot be checked against the chain (give "
			        "the whole chain)");
		if (e == TIX_OK) {
			struct request_status sst;

			if (walk(c, stored, owners, &sst, NULL) == TIX_OK) {
				const char *by = request__str(tr, "by");
				const char *party = r->party == REQUESTER ? sst.requesting_org
				                                          : sst.requested_org;

				if (strcmp(by, party) != 0)
					e = tix_error_set(err, TIX_EINVAL, where,
					                  "%s by %.100s: only %s does that",
					                  r->action, by, party);
				else
					e = request_directory_key_ok(
					        c, by, pk,
					        request__us(request__str(one, "modified")), err);
			}
			parties(stored, st);
			copy_str(st->state, sizeof(st->state), sst.state);
			st->verified = e == TIX_OK;
		}
	}
	/* Copies of versions the node holds must be those very versions. */
	if (e == TIX_OK && stored) {
		json_array_foreach (vs, i, v) {
			const json_t *mine = stored_at(stored, v);
			int seq = seq_of(v);
			struct tix_buf a, b;
			int same;

			if (mine == NULL)
				continue; /* newer than this node's chain */
			tix_buf_init(&a, TIX_BUF_UNLIMITED);
			tix_buf_init(&b, TIX_BUF_UNLIMITED);
			same = request_canonical(v, 1, &a) == TIX_OK &&
			       request_canonical(mine, 1, &b) == TIX_OK &&
			       tix_buf_len(&a) == tix_buf_len(&b) &&
			       memcmp(tix_buf_str(&a), tix_buf_str(&b), tix_buf_len(&a)) == 0;
			tix_buf_release(&a);
			tix_buf_release(&b);
			if (!same) {
				e = tix_error_set(
				        err, TIX_EINVAL,
				        request__str(v, "id") ? request__str(v, "id") : "version",
				        "seq %d: not the version this node holds at that place "
				        "in the chain (replayed or substituted)",
				        seq);
				st->verified = 0;
				break;
			}
		}
	}
	json_decref(vs);
	json_decref(stored);
	json_decref(owners);
	return e;
}

/* ---- reminders ---------------------------------------------------------------------------- */

size_t request_reminders(const struct request_status *st, const char *org, int64_t now_us,
                         void (*cb)(void *, const char *line), void *arg)
{
	char line[700], t[32];
	size_t n = 0;
	int requester = org && strcmp(org, st->requesting_org) == 0;

	if (!st->verified) {
		snprintf(line, sizeof(line), "reminder: %s: its signatures do not verify: %s",
		         st->id, st->problem);
		cb(arg, line);
		return 1;
	}
	if (strcmp(st->state, "sent") == 0) {
		int64_t h = (now_us - st->sent_us) / (3600 * (int64_t)1000000);

		if (!requester) {
			snprintf(
			        line, sizeof(line),
			        "reminder: %s waits for your acknowledgement since %s (tix request ack "
			        "%s --as %s)",
			        st->id, tix_time_format_us(st->sent_us, 3, t), st->id, org);
			cb(arg, line), n++;
		} else if (now_us - st->sent_us >= REQUEST_ACK_DUE_US) {
			snprintf(line, sizeof(line),
			         "reminder: %s is not acknowledged by %s after %lld hours", st->id,
			         st->requested_org, (long long)h);
			cb(arg, line), n++;
		}
	} else if (preserving(st->state) && st->preserve_until_us - now_us <= REQUEST_REMIND_US) {
		long long days = (long long)((st->preserve_until_us - now_us + REQUEST_DAY_US - 1) /
		                             REQUEST_DAY_US);

		snprintf(line, sizeof(line),
		         "reminder: %s: preservation ends %s, in %lld day%s%s%s%s", st->id,
		         tix_time_format_us(st->preserve_until_us, 3, t), days,
		         days == 1 ? "" : "s", requester ? " (tix request extend " : "",
		         requester ? st->id : "", requester ? ")" : "");
		cb(arg, line), n++;
	}
	return n;
}
