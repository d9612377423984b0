/*
 * api/admin.c — what the console's administrators' pages read (docs/api.md),
 * for the admin role only: collections with every organisation's grant, the
 * users of its organisation, the organisations and sharing groups (GET
 * /api/v1/admin/collections);
 * the peers' state (lag, errors, last audit anchor; GET /api/v1/admin/peers);
 * the audit entries naming one object it may read (GET
 * /api/v1/admin/audit?object=ID).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define AUDIT_LISTED 500 /* newest entries about one object listed */

static void time_of(int64_t us, char out[40])
{
	struct tix_time t;

	out[0] = '\0';
	if (us == 0)
		return;
	tix_time_from_us(us, &t);
	tix_time_format(&t, 3, out);
}

/* ---- collections and permissions -------------------------------------------- */

struct permissions {
	struct store *s;
	const char *org; /* the admin's: its users are listed, no one else's */
	json_t *orgs, *collections, *users, *groups;
	int64_t *org_keys;
	size_t norgs;
	struct tix_error *err;
	enum tix_err e;
};

static int on_org(void *arg, const struct store_org *o)
{
	struct permissions *p = arg;
	int64_t *k = realloc(p->org_keys, (p->norgs + 1) * sizeof(*k));

	if (k == NULL) {
		p->e = tix_error_set(p->err, TIX_ENOMEM, "organisations", "out of memory");
		return 1;
	}
	p->org_keys = k;
	p->org_keys[p->norgs++] = o->key;
	json_array_append_new(p->orgs, json_pack("{s:s, s:s, s:s}", "name", o->name, "country",
	                                         o->country, "sector", o->sector));
	return 0;
}

static int on_collection(void *arg, const struct store_collection_info *c)
{
	struct permissions *p = arg;
	struct store_collection coll;
	json_t *grants = json_array();

	memset(&coll, 0, sizeof(coll));
	if ((p->e = store_collection_get(p->s, c->id, 0, &coll, p->err)) != TIX_OK)
		return 1;
	for (size_t i = 0; i < p->norgs; i++) {
		int r = 0, w = 0;

		if ((p->e = store_collection_access(p->s, &coll, p->org_keys[i], &r, &w, p->err)) !=
		    TIX_OK)
			return 1;
		if (r || w)
			json_array_append_new(
			        grants,
			        json_pack("{s:O, s:b, s:b}", "org",
			                  json_object_get(json_array_get(p->orgs, i), "name"),
			                  "read", r, "write", w));
	}
	json_array_append_new(p->collections,
	                      json_pack("{s:s, s:s, s:s?, s:o}", "id", c->id, "title", c->title,
	                                "description", c->description, "grants", grants));
	return 0;
}

static int on_user(void *arg, const struct store_user *u)
{
	struct permissions *p = arg;

	/* Another organisation's accounts are its own affair: only the
	 * admin's organisation's, with no password hash and no key. */
	if (strcmp(u->org, p->org) != 0)
		return 0;
	json_array_append_new(p->users, json_pack("{s:s, s:s, s:s, s:b}", "name", u->name, "org",
	                                          u->org, "role", store_role_name(u->role),
	                                          "password", u->password_hash[0] != '\0'));
	return 0;
}

static int on_group(void *arg, const char *group, const char *org)
{
	struct permissions *p = arg;
	size_t n = json_array_size(p->groups);
	json_t *last = n ? json_array_get(p->groups, n - 1) : NULL;

	if (last == NULL || strcmp(json_string_value(json_object_get(last, "name")), group) != 0) {
		last = json_pack("{s:s, s:[]}", "name", group, "members");
		json_array_append_new(p->groups, last);
	}
	if (org)
		json_array_append_new(json_object_get(last, "members"), json_string(org));
	return 0;
}

static void collections_answer(struct store *s, const char *org, struct api_response *resp)
{
	struct tix_error err;
	struct permissions p = {s,    org, json_array(), json_array(), json_array(), json_array(),
	                        NULL, 0,   &err,         TIX_OK};
	enum tix_err e;
	json_t *out;

	tix_error_clear(&err);
	if ((e = store_org_list(s, on_org, &p, &err)) == TIX_OK && (e = p.e) == TIX_OK &&
	    (e = store_collection_list(s, 0, 1, on_collection, &p, &err)) == TIX_OK &&
	    (e = p.e) == TIX_OK && (e = store_user_list(s, on_user, &p, &err)) == TIX_OK)
		e = store_group_list(s, on_group, &p, &err);
	out = json_pack("{s:o, s:o, s:o, s:o}", "collections", p.collections, "organisations",
	                p.orgs, "users", p.users, "groups", p.groups);
	if (e != TIX_OK)
		api_answer_error(resp, 500, "Internal error", err.msg);
	else if (out == NULL)
		api_answer_error(resp, 500, "Internal error", "out of memory");
	else
		api_answer_json(resp, out);
	json_decref(out);
	free(p.org_keys);
}

/* ---- peers --------------------------------------------------------------------- */

struct peering {
	struct store *s;
	json_t *list;
	int64_t now_us;
	struct tix_error *err;
	enum tix_err e;
};

static const char *direction_of(int d)
{
	return d == (STORE_PEER_PULL | STORE_PEER_PUSH) ? "both"
	       : d == STORE_PEER_PUSH                   ? "push"
	                                                : "pull";
}

static int on_peer(void *arg, const struct store_peer *peer)
{
	struct peering *x = arg;
	struct store_peer_state st;
	char anchor[128], problem[400], ls[40], la[40];
	json_t *o;

	memset(&st, 0, sizeof(st));
	if ((x->e = store_peer_state_get(x->s, peer->name, &st, x->err)) != TIX_OK ||
	    (x->e = store_peer_anchor_status(x->s, peer->name, anchor, sizeof(anchor), problem,
	                                     sizeof(problem), x->err)) != TIX_OK)
		return 1;
	time_of(st.last_success, ls);
	time_of(st.last_attempt, la);
	/* Never its secret or user: what the page shows an administrator. */
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:s, s:I, s:I, s:I, s:I, "
	              "s:I, s:s, s:s}",
	              "name", peer->name, "kind", peer->kind, "url", peer->url, "direction",
	              direction_of(peer->direction), "org", peer->org, "local_collection",
	              peer->local_collection, "last_success", ls, "last_attempt", la, "failing",
	              st.failing, "errors", (json_int_t)st.errors, "last_error", st.last_error,
	              "objects_in", (json_int_t)st.objects_in, "objects_stored",
	              (json_int_t)st.objects_stored, "objects_rejected",
	              (json_int_t)st.objects_rejected, "objects_out", (json_int_t)st.objects_out,
	              "outbox", (json_int_t)st.outbox, "audit_anchor", anchor, "audit_problem",
	              problem);
	if (o && st.last_success)
		json_object_set_new(o, "lag_seconds",
		                    json_integer((x->now_us - st.last_success) / 1000000));
	json_array_append_new(x->list, o);
	return 0;
}

static void peers_answer(struct store *s, struct api_response *resp)
{
	struct tix_error err;
	struct tix_time now;
	struct peering x;
	enum tix_err e;
	json_t *out;

	tix_error_clear(&err);
	tix_time_now(&now);
	x = (struct peering){s, json_array(), tix_time_to_us(&now), &err, TIX_OK};
	if ((e = store_peer_list(s, on_peer, &x, &err)) == TIX_OK)
		e = x.e;
	out = json_pack("{s:o}", "peers", x.list);
	if (e != TIX_OK)
		api_answer_error(resp, 500, "Internal error", err.msg);
	else
		api_answer_json(resp, out);
	json_decref(out);
}

/* ---- audit: who has seen this object -------------------------------------------- */

struct auditing {
	json_t *entries, *who;
	size_t total;
};

static int on_entry(void *arg, int64_t seq, const struct store_audit_entry *e)
{
	struct auditing *x = arg;
	char at[40], key[300];
	json_t *w;

	time_of(e->at, at);
	x->total++;
	/* Who, by user and organisation: how often and when last. */
	snprintf(key, sizeof(key), "%s\n%s\n%s", e->actor ? e->actor : "", e->org ? e->org : "",
	         e->action ? e->action : "");
	if ((w = json_object_get(x->who, key)) == NULL) {
		w = json_pack("{s:s, s:s, s:s, s:I, s:s}", "user", e->actor ? e->actor : "", "org",
		              e->org ? e->org : "", "action", e->action ? e->action : "", "times",
		              (json_int_t)0, "last", at);
		json_object_set_new(x->who, key, w);
	}
	json_object_set_new(w, "times",
	                    json_integer(json_integer_value(json_object_get(w, "times")) + 1));
	json_object_set_new(w, "last", json_string(at));
	/* the newest AUDIT_LISTED entries (they come oldest first) */
	if (json_array_size(x->entries) == AUDIT_LISTED)
		json_array_remove(x->entries, 0);
	json_array_append_new(x->entries,
	                      json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)seq,
	                                "at", at, "action", e->action ? e->action : "", "user",
	                                e->actor ? e->actor : "", "org", e->org ? e->org : "",
	                                "detail", e->detail ? e->detail : ""));
	return 0;
}

static void audit_answer(struct store *s, const struct api_reader *r, const struct api_request *req,
                         struct api_response *resp)
{
	struct auditing x = {json_array(), json_object(), 0};
	struct tix_error err;
	const char *object = NULL, *key;
	json_t *who = json_array(), *w, *out;

	tix_error_clear(&err);
	for (size_t i = 0; i < req->nparams; i++) {
		if (req->params[i].key && strcmp(req->params[i].key, "object") == 0 && !object)
			object = req->params[i].value;
		else {
			api_answer_error(resp, 400, "Bad request", "give object=ID, once");
			goto out;
		}
	}
	if (object == NULL || object[0] == '\0' || strlen(object) > 300) {
		api_answer_error(resp, 400, "Bad request", "give object=ID (who has seen it)");
		goto out;
	}
	/* Only of an object the admin may read: the admin role reads by the
	 * policy too (docs/policy.md), and who read a TLP:RED object of
	 * another organisation would tell of the object. */
	if (api_object_readable(s, r, object, &err) != TIX_OK) {
		if (err.code == TIX_ENOTFOUND)
			api_answer_error(resp, 404, "Not found", "no such object");
		else
			api_answer_error(resp, 500, "Internal error", err.msg);
		goto out;
	}
	if (store_audit_list(s, object, 0, on_entry, &x, &err) != TIX_OK) {
		api_answer_error(resp, 500, "Internal error", err.msg);
		goto out;
	}
	json_object_foreach (x.who, key, w)
		json_array_append(who, w);
	out = json_pack("{s:s, s:I, s:O, s:O}", "object", object, "total", (json_int_t)x.total,
	                "who", who, "entries", x.entries);
	api_answer_json(resp, out);
	json_decref(out);
out:
	json_decref(who);
	json_decref(x.entries);
	json_decref(x.who);
}

void api_admin_answer(struct store *s, const struct api_reader *r, const struct api_request *req,
                      const char *what, struct api_response *resp)
{
	/* Only the admin role: everyone else is told so (not 404: the page
	 * says why it shows nothing). */
	if (req->who == NULL || req->who->role != STORE_ROLE_ADMIN) {
		api_answer_error(resp, 403, "Forbidden",
		                 "the administrators' pages are for admins");
		return;
	}
	if (strcmp(what, "collections") == 0 && req->nparams == 0)
		collections_answer(s, req->who->org, resp);
	else if (strcmp(what, "peers") == 0 && req->nparams == 0)
		peers_answer(s, resp);
	else if (strcmp(what, "audit") == 0)
		audit_answer(s, r, req, resp);
	else
		api_answer_error(resp, 404, "Not found", "no such resource");
}
