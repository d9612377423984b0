/*
 * request/directory.c — the 24/7 directory (Budapest Convention Article 35):
 * each contact point an identity (TLP:AMBER, so only its own node passes it
 * on) whose versions are each signed by the key of the version before, so a
 * key change is a version signed by the old key.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"

#define AMBER_MARKING "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

static void contact_id(const char *org, char out[128])
{
	static const struct tix_uuid ns = {{0x0a, 0x69, 0x43, 0xcd, 0x37, 0x92, 0x59, 0x01, 0xba,
	                                    0x16, 0xe2, 0xb5, 0x2b, 0xca, 0x40, 0x34}};
	char name[200], us[37];
	struct tix_uuid u;

	snprintf(name, sizeof(name), "tix-contact-point:%s", org);
	tix_uuid_v5(&ns, name, strlen(name), &u);
	snprintf(out, 128, "identity--%s", tix_uuid_format(&u, us));
}

static int country_ok(const char *s)
{
	return s && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

static void join(const json_t *list, char *out, size_t size)
{
	size_t i, n = 0;
	json_t *x;

	out[0] = '\0';
	json_array_foreach (list, i, x)
		if (json_string_value(x) && n < size)
			n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "," : "",
			                      json_string_value(x));
}

/* Sorts versions (and owners alongside) by modified. */
static void by_modified(json_t *vs, json_t *owners)
{
	size_t n = json_array_size(vs);

	for (size_t i = 1; i < n; i++)
		for (size_t j = i;
		     j > 0 && request__us(request__str(json_array_get(vs, j - 1), "modified")) >
		                      request__us(request__str(json_array_get(vs, j), "modified"));
		     j--) {
			json_t *a = json_incref(json_array_get(vs, j - 1));
			json_t *o = json_incref(json_array_get(owners, j - 1));

			json_array_set(vs, j - 1, json_array_get(vs, j));
			json_array_set_new(vs, j, a);
			json_array_set(owners, j - 1, json_array_get(owners, j));
			json_array_set_new(owners, j, o);
		}
}

/* The verified history of org's entry: *good is how many versions, from
 * the first, verify (each signed by the key of the one before, written by
 * org itself). */
static enum tix_err history(const struct request_ctx *c, const char *org, json_t **vs, size_t *good,
                            struct request_contact *out, struct tix_error *err)
{
	json_t *owners = NULL, *v;
	char id[128], prevkey[64] = "";
	enum tix_err e;
	size_t i;

	memset(out, 0, sizeof(*out));
	*good = 0;
	contact_id(org, id);
	if ((e = request__versions(c, id, vs, &owners, err)) != TIX_OK)
		return e;
	if (json_array_size(*vs) == 0) {
		json_decref(owners);
		json_decref(*vs);
		*vs = NULL;
		return tix_error_set(
		        err, TIX_ENOTFOUND, org,
		        "no contact point in the 24/7 directory for this organisation");
	}
	by_modified(*vs, owners);
	snprintf(out->org, sizeof(out->org), "%s", org);
	snprintf(out->id, sizeof(out->id), "%s", id);
	out->verified = 1;
	json_array_foreach (*vs, i, v) {
		const json_t *cp = json_object_get(v, "tix_contact_point");
		const char *owner = json_string_value(json_array_get(owners, i));
		const char *key = request__str(cp, "public_key");
		unsigned char pk[32], signer[32];
		char signer64[64];
		struct tix_error verr;

		tix_error_clear(&verr);
		if (!owner || strcmp(owner, org) != 0 || !request__str(cp, "organisation") ||
		    strcmp(request__str(cp, "organisation"), org) != 0) {
			snprintf(out->problem, sizeof(out->problem),
			         "version %zu was not written by %s itself", i + 1, org);
			break;
		}
		if (request__key_parse(key, pk) != 0 || !country_ok(request__str(cp, "country"))) {
			snprintf(out->problem, sizeof(out->problem),
			         "version %zu: malformed public_key or country", i + 1);
			break;
		}
		if (request_check_signature(v, signer, &verr) != TIX_OK) {
			snprintf(out->problem, sizeof(out->problem), "version %zu: %s", i + 1,
			         verr.msg);
			break;
		}
		request__key_b64(signer, signer64);
		/* The first version is signed by its own key; every later one
		 * by the key of the version before: a key change is signed by
		 * the old key. */
		if (strcmp(signer64, i == 0 ? key : prevkey) != 0) {
			snprintf(out->problem, sizeof(out->problem),
			         "version %zu is not signed by the key of the version before",
			         i + 1);
			break;
		}
		snprintf(prevkey, sizeof(prevkey), "%s", key);
		snprintf(out->country, sizeof(out->country), "%s", request__str(cp, "country"));
		snprintf(out->public_key, sizeof(out->public_key), "%s", key);
		snprintf(out->hours, sizeof(out->hours), "%s",
		         request__str(cp, "hours") ? request__str(cp, "hours") : "");
		join(json_object_get(cp, "languages"), out->languages, sizeof(out->languages));
		join(json_object_get(cp, "channels"), out->channels, sizeof(out->channels));
		out->modified_us = request__us(request__str(v, "modified"));
		*good = i + 1;
	}
	out->versions = json_array_size(*vs);
	if (*good < out->versions)
		out->verified = 0;
	if (*good == 0)
		out->country[0] = '\0';
	{
		unsigned char pk[32], sk[64];

		out->local = store_request_key_get(c->s, org, pk, sk, NULL) == TIX_OK;
		sodium_memzero(sk, sizeof(sk));
	}
	json_decref(owners);
	return TIX_OK;
}

enum tix_err request_directory_get(const struct request_ctx *c, const char *org,
                                   struct request_contact *out, struct tix_error *err)
{
	json_t *vs = NULL;
	size_t good;
	enum tix_err e = history(c, org, &vs, &good, out, err);

	json_decref(vs);
	return e;
}

enum tix_err request_directory_key_ok(const struct request_ctx *c, const char *org,
                                      const unsigned char pk[32], int64_t at_us,
                                      struct tix_error *err)
{
	struct request_contact cp;
	json_t *vs = NULL;
	char want[64], t[32];
	size_t good, i;
	int seen = 0;

	if (history(c, org, &vs, &good, &cp, err) != TIX_OK)
		return tix_error_set(
		        err, TIX_EINVAL, org,
		        "signed for %s, which has no contact point in this node's 24/7 "
		        "directory",
		        org);
	request__key_b64(pk, want);
	for (i = 0; i < good; i++) {
		const char *key = request__str(
		        json_object_get(json_array_get(vs, i), "tix_contact_point"), "public_key");
		int64_t until = -1;

		if (strcmp(key, want) != 0)
			continue;
		seen = 1;
		/* Valid until a later verified version names another key. */
		for (size_t j = i + 1; j < good; j++) {
			const json_t *w = json_array_get(vs, j);

			if (strcmp(request__str(json_object_get(w, "tix_contact_point"),
			                        "public_key"),
			           want) != 0) {
				until = request__us(request__str(w, "modified"));
				break;
			}
		}
		if (until < 0 || at_us < until) {
			json_decref(vs);
			return TIX_OK;
		}
		snprintf(t, sizeof(t), "%s", "");
		tix_time_format_us(until, 3, t);
	}
	json_decref(vs);
	if (seen)
		return tix_error_set(
		        err, TIX_EINVAL, org,
		        "signed with a key %s replaced on %s (a retired key signs nothing "
		        "after the change)",
		        org, t);
	return tix_error_set(
	        err, TIX_EINVAL, org,
	        "signed by a key that is not %s's in the 24/7 directory (wrong key)%s%s", org,
	        cp.verified ? "" : "; its entry does not verify: ", cp.verified ? "" : cp.problem);
}

static json_t *split(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (a && p && *p) {
		const char *q = strchr(p, ',');
		size_t n = q ? (size_t)(q - p) : strlen(p);

		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p = q ? q + 1 : NULL;
	}
	return a;
}

/* Writes the next version of org's entry with key newpk, signed by signpk
 * / signsk (the current key; the new one for a first version). */
static enum tix_err put_entry(const struct request_ctx *c, const char *org, const json_t *cp,
                              const json_t *base, const unsigned char signpk[32],
                              const unsigned char signsk[64], const unsigned char *newpk,
                              const unsigned char *newsk, const char *detail, struct tix_error *err)
{
	char id[128], now[32], info[900];
	json_t *v;
	enum tix_err e;
	int64_t at = c->now_us / 1000 * 1000;
	int64_t last = base ? request__us(request__str(base, "modified")) : 0;

	if (base && at < last)
		return tix_error_set(err, TIX_EINVAL, "clock",
		                     "the clock is before the entry's last version");
	if (base && at == last)
		at += 1000;
	tix_time_format_us(at, 3, now);
	contact_id(org, id);
	snprintf(info, sizeof(info),
	         "24/7 contact point (Budapest Convention Art. 35), %s; hours: %s",
	         request__str(cp, "country"),
	         request__str(cp, "hours") ? request__str(cp, "hours") : "24/7");
	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:O, s:{s:{s:s}}}", "type",
	              "identity", "spec_version", "2.1", "id", id, "created",
	              base ? request__str(base, "created") : now, "modified", now, "name", org,
	              "identity_class", "organization", "contact_information", info,
	              "object_marking_refs", AMBER_MARKING, "tix_contact_point", cp, "extensions",
	              CONTACT_EXT, "extension_type", "toplevel-property-extension");
	if (v == NULL)
		return tix_error_set(err, TIX_ENOMEM, org, "out of memory");
	e = request_sign(v, signpk, signsk, err);
	if (e == TIX_OK)
		e = request__put(c, v, org, detail, newpk, newsk, err);
	json_decref(v);
	return e;
}

enum tix_err request_contact_put(const struct request_ctx *c, const char *org, const char *country,
                                 const char *languages, const char *hours, const char *channels,
                                 struct request_contact *out, struct tix_error *err)
{
	struct request_contact cur;
	struct store_org o;
	unsigned char pk[32], sk[64];
	char key[64], detail[300];
	json_t *vs = NULL, *cp = NULL, *base = NULL, *old;
	size_t good = 0;
	int fresh = 0;
	enum tix_err e;

	if ((e = store_org_get(c->s, org, &o, err)) != TIX_OK)
		return tix_error_set(err, e, org,
		                     "no such organisation on this node (tix admin org add %s)",
		                     org);
	e = history(c, org, &vs, &good, &cur, NULL);
	if (e == TIX_OK && !cur.verified)
		e = tix_error_set(err, TIX_EINVAL, org, "its directory entry does not verify: %s",
		                  cur.problem);
	else if (e == TIX_OK && !cur.local)
		e = tix_error_set(err, TIX_EDENIED, org,
		                  "its directory entry comes from another node; only that node "
		                  "changes it");
	else if (e == TIX_ENOTFOUND)
		e = TIX_OK;
	if (e != TIX_OK)
		goto out;
	base = good ? json_array_get(vs, good - 1) : NULL;
	old = json_object_get(base, "tix_contact_point");
	if (!country)
		country = request__str(old, "country");
	if (!country_ok(country)) {
		e = tix_error_set(err, TIX_EUSAGE, "--country",
		                  "must be an ISO 3166-1 alpha-2 code in capitals (DE, HU)");
		goto out;
	}
	if (base == NULL) {
		crypto_sign_keypair(pk, sk);
		fresh = 1;
	} else if ((e = store_request_key_get(c->s, org, pk, sk, err)) != TIX_OK) {
		goto out;
	}
	request__key_b64(pk, key);
	cp = json_pack("{s:s, s:s, s:s}", "organisation", org, "country", country, "public_key",
	               key);
	if (languages)
		json_object_set_new(cp, "languages", split(languages));
	else if (json_object_get(old, "languages"))
		json_object_set(cp, "languages", json_object_get(old, "languages"));
	else
		json_object_set_new(cp, "languages", json_pack("[s]", "en"));
	if (hours || request__str(old, "hours"))
		json_object_set_new(cp, "hours",
		                    json_string(hours ? hours : request__str(old, "hours")));
	else
		json_object_set_new(cp, "hours", json_string("24/7"));
	if (channels)
		json_object_set_new(cp, "channels", split(channels));
	else if (json_object_get(old, "channels"))
		json_object_set(cp, "channels", json_object_get(old, "channels"));
	if (json_array_size(json_object_get(cp, "languages")) == 0 ||
	    (json_object_get(cp, "channels") &&
	     json_array_size(json_object_get(cp, "channels")) == 0)) {
		e = tix_error_set(err, TIX_EUSAGE, org,
		                  "--languages and --channels name at least one");
		goto out;
	}
	snprintf(detail, sizeof(detail), "tix request contact add --org %s --country %s", org,
	         country);
	e = put_entry(c, org, cp, base, pk, sk, fresh ? pk : NULL, fresh ? sk : NULL, detail, err);
	if (e == TIX_OK && out)
		e = request_directory_get(c, org, out, err);
out:
	sodium_memzero(sk, sizeof(sk));
	json_decref(vs);
	json_decref(cp);
	return e;
}

enum tix_err request_contact_rotate(const struct request_ctx *c, const char *org,
                                    struct request_contact *out, struct tix_error *err)
{
	struct request_contact cur;
	unsigned char oldpk[32], oldsk[64], pk[32], sk[64];
	char key[64], oldkey[64], detail[300];
	json_t *vs = NULL, *cp = NULL;
	size_t good = 0;
	enum tix_err e;

	if ((e = history(c, org, &vs, &good, &cur, err)) != TIX_OK)
		return e;
	if (!cur.verified || !cur.local) {
		e = tix_error_set(err, TIX_EINVAL, org, "%s",
		                  !cur.verified ? "its directory entry does not verify"
		                                : "its directory entry comes from another node");
		goto out;
	}
	if ((e = store_request_key_get(c->s, org, oldpk, oldsk, err)) != TIX_OK)
		goto out;
	request__key_b64(oldpk, oldkey);
	if (strcmp(oldkey, cur.public_key) != 0) {
		e = tix_error_set(err, TIX_ESTORE, org,
		                  "the key this node holds is not the one the directory publishes");
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	request__key_b64(pk, key);
	cp = json_deep_copy(json_object_get(json_array_get(vs, good - 1), "tix_contact_point"));
	json_object_set_new(cp, "public_key", json_string(key));
	json_object_set_new(cp, "previous_key", json_string(oldkey));
	snprintf(detail, sizeof(detail), "tix request contact rotate-key --org %s", org);
	/* Signed by the old key: whoever trusted it follows the change. */
	e = put_entry(c, org, cp, json_array_get(vs, good - 1), oldpk, oldsk, pk, sk, detail, err);
	if (e == TIX_OK && out)
		e = request_directory_get(c, org, out, err);
out:
	sodium_memzero(oldsk, sizeof(oldsk));
	sodium_memzero(sk, sizeof(sk));
	json_decref(vs);
	json_decref(cp);
	return e;
}

/* The organisations named by the node's contact-point identities. */
static enum tix_err contact_orgs(const struct request_ctx *c, json_t **orgs, struct tix_error *err)
{
	json_t *ids, *x;
	enum tix_err e;
	size_t i;

	if ((e = request__ids(c, "identity", &ids, err)) != TIX_OK)
		return e;
	*orgs = json_array();
	json_array_foreach (ids, i, x) {
		json_t *vs = NULL;
		const char *org;
		char want[128];
		size_t j;
		json_t *v;

		if (request__versions(c, json_string_value(x), &vs, NULL, NULL) != TIX_OK)
			continue;
		json_array_foreach (vs, j, v) {
			org = request__str(json_object_get(v, "tix_contact_point"), "organisation");
			if (org == NULL)
				continue;
			contact_id(org, want);
			if (strcmp(want, json_string_value(x)) == 0) {
				json_array_append_new(*orgs, json_string(org));
				break;
			}
		}
		json_decref(vs);
	}
	json_decref(ids);
	return TIX_OK;
}

enum tix_err request_directory_list(const struct request_ctx *c,
                                    int (*cb)(void *, const struct request_contact *), void *arg,
                                    struct tix_error *err)
{
	json_t *orgs, *x;
	enum tix_err e;
	size_t i;

	if ((e = contact_orgs(c, &orgs, err)) != TIX_OK)
		return e;
	json_array_foreach (orgs, i, x) {
		struct request_contact cp;

		if (request_directory_get(c, json_string_value(x), &cp, NULL) == TIX_OK &&
		    cb(arg, &cp) != 0)
			break;
	}
	json_decref(orgs);
	return TIX_OK;
}

enum tix_err request_directory_find(const struct request_ctx *c, const char *country,
                                    struct request_contact *out, struct tix_error *err)
{
	json_t *orgs, *x;
	char names[600] = "";
	size_t i, found = 0, n = 0;
	enum tix_err e;

	if (!country_ok(country))
		return tix_error_set(err, TIX_EUSAGE, "--to",
		                     "must be an ISO 3166-1 alpha-2 code in capitals (DE, HU)");
	if ((e = contact_orgs(c, &orgs, err)) != TIX_OK)
		return e;
	json_array_foreach (orgs, i, x) {
		struct request_contact cp;

		if (request_directory_get(c, json_string_value(x), &cp, NULL) != TIX_OK ||
		    !cp.verified || strcmp(cp.country, country) != 0)
			continue;
		if (found++ == 0)
			*out = cp;
		if (n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
			                      cp.org);
	}
	json_decref(orgs);
	if (found == 0)
		return tix_error_set(err, TIX_ENOTFOUND, country,
		                     "no verified contact point for this country in the 24/7 "
		                     "directory (tix request directory)");
	if (found > 1)
		return tix_error_set(err, TIX_EINVAL, country,
		                     "several contact points: %s (name one with --to-org)", names);
	return TIX_OK;
}
