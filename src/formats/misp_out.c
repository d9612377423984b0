/*
 * formats/misp_out.c — STIX 2.1 to MISP events, the inverse of misp.c: a
 * report or grouping becomes an event with the attributes, objects,
 * galaxies and sightings it refers to; loose indicators and observables
 * are grouped into one event per day. Values come from the patterns and
 * SCOs, MISP types from the misp:type labels MISP's export (and tix) write.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats_int.h"
#include "stix/stix.h"

struct formats_misp_out {
	struct formats_misp_source src;
	formats_misp_event_fn each;
	void *ctx;
	/* what the event being written refers to: id -> object, or null
	 * for what the reader may not see (freed after each event) */
	json_t *cache;
	char day[11];  /* the day being gathered, or "" */
	json_t *loose; /* its objects' ids */
	char name[160];
	int stopped;
};

const char *const formats_misp_loose_types[] = {
        "indicator",    "observed-data", "sighting", "attack-pattern",   "intrusion-set",
        "threat-actor", "malware",       "tool",     "course-of-action", NULL};

struct formats_misp_out *formats_misp_out_new(const char *loose_name,
                                              const struct formats_misp_source *src,
                                              formats_misp_event_fn each, void *ctx)
{
	struct formats_misp_out *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->src = *src;
	w->each = each;
	w->ctx = ctx;
	w->cache = json_object();
	w->loose = json_array();
	snprintf(w->name, sizeof(w->name), "%s", loose_name ? loose_name : "tix");
	return w;
}

void formats_misp_out_free(struct formats_misp_out *w)
{
	if (w == NULL)
		return;
	json_decref(w->cache);
	json_decref(w->loose);
	free(w);
}

/* The object id, as the reader may see it (through the caller's source,
 * once per event), or NULL. */
static const json_t *fetch(struct formats_misp_out *w, const char *id)
{
	json_t *o;

	if (id == NULL || *id == '\0')
		return NULL;
	if ((o = json_object_get(w->cache, id)) == NULL) {
		o = w->src.get(w->src.ctx, id);
		json_object_set_new(w->cache, id, o ? o : json_null());
		o = json_object_get(w->cache, id);
	}
	return json_is_null(o) ? NULL : o;
}

/* ---- small readers ------------------------------------------------------- */

static const char *sv(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *uuid_of(const char *id)
{
	const char *d = id ? strstr(id, "--") : NULL;

	return d ? d + 2 : "";
}

/* The value of label `misp:KEY="VALUE"`, into out; NULL when absent. */
static const char *misp_label(const json_t *o, const char *key, char *out, size_t size)
{
	size_t i, kl = strlen(key);
	json_t *l;

	json_array_foreach (json_object_get(o, "labels"), i, l) {
		const char *s = json_string_value(l);
		size_t n;

		if (s && strncmp(s, "misp:", 5) == 0 && strncmp(s + 5, key, kl) == 0 &&
		    s[5 + kl] == '=' && s[6 + kl] == '"' && (n = strlen(s)) > 8 + kl &&
		    s[n - 1] == '"') {
			snprintf(out, size, "%.*s", (int)(n - 8 - kl), s + 7 + kl);
			return out;
		}
	}
	return NULL;
}

static int64_t unix_of(const json_t *o, const char *key)
{
	struct tix_time t;
	const char *s = sv(o, key);

	if (s == NULL || tix_time_parse(s, &t, NULL) != TIX_OK)
		return 0;
	return t.sec;
}

static json_t *num_string(int64_t n)
{
	char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)n);
	return json_string(b);
}

/* Tags from labels (misp:* and the converter's own left out) and TLP markings. */
static json_t *tags_of(const json_t *o, const json_t *skip_markings)
{
	json_t *tags = json_array(), *l;
	size_t i;

	json_array_foreach (json_object_get(o, "labels"), i, l) {
		const char *s = json_string_value(l);

		if (s == NULL || strncmp(s, "misp:", 5) == 0 || strcmp(s, "Threat-Report") == 0)
			continue;
		json_array_append_new(tags, json_pack("{s:s}", "name", s));
	}
	if (!json_equal(json_object_get(o, "object_marking_refs"), (json_t *)skip_markings))
		json_array_foreach (json_object_get(o, "object_marking_refs"), i, l) {
			int tlp = stix_tlp_of_marking(json_string_value(l));
			char name[40];

			if (tlp == STIX_TLP_UNSET)
				continue;
			snprintf(name, sizeof(name), "tlp:%s", stix_tlp_name(tlp));
			json_array_append_new(tags, json_pack("{s:s}", "name", name));
		}
	return tags;
}

/* The comparisons of a simple pattern: [(path, value)], values unescaped. */
static json_t *comparisons(const char *p)
{
	json_t *out = json_array();
	const char *s = p;

	while (s && (s = strstr(s, " = ")) != NULL) {
		const char *start = s, *v = s + 3;
		struct tix_buf val;

		while (start > p && start[-1] != ' ')
			start--;
		while (*start == '[' || *start == '(')
			start++;
		tix_buf_init(&val, 1 << 20);
		if (*v == '\'') {
			for (v++; *v && *v != '\''; v++) {
				if (*v == '\\' && v[1])
					v++;
				tix_buf_addc(&val, *v);
			}
		} else
			while (*v && (isdigit((unsigned char)*v) || *v == '-'))
				tix_buf_addc(&val, *v++);
		json_array_append_new(
		        out, json_pack("[s#s]", start, (int)(s - start), tix_buf_str(&val)));
		tix_buf_release(&val);
		s = v;
	}
	return out;
}

static const char *cmp_value(const json_t *cmps, const char *path_end)
{
	size_t i, pl = strlen(path_end);
	json_t *c;

	json_array_foreach (cmps, i, c) {
		const char *p = json_string_value(json_array_get(c, 0));
		size_t n = strlen(p);

		if (n >= pl && strcmp(p + n - pl, path_end) == 0)
			return json_string_value(json_array_get(c, 1));
	}
	return NULL;
}

static const struct {
	const char *stix, *misp;
} hashes[] = {
        {"MD5", "md5"},
        {"SHA-1", "sha1"},
        {"SHA224", "sha224"},
        {"SHA-256", "sha256"},
        {"SHA384", "sha384"},
        {"SHA-512", "sha512"},
        {"SHA3224", "sha3-224"},
        {"SHA3-256", "sha3-256"},
        {"SHA3384", "sha3-384"},
        {"SHA3-512", "sha3-512"},
        {"SSDEEP", "ssdeep"},
        {"TLSH", "tlsh"},
        {"SHA512-224", "sha512/224"},
        {"SHA512-256", "sha512/256"},
        {"IMPHASH", "imphash"},
        {"AUTHENTIHASH", "authentihash"},
        {"PEHASH", "pehash"},
        {"TELFHASH", "telfhash"},
        {"VHASH", "vhash"},
};

static const char *misp_hash(const char *stix)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strcmp(hashes[i].stix, stix) == 0)
			return hashes[i].misp;
	return NULL;
}

static const char *stix_hash(const char *misp)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strcmp(hashes[i].misp, misp) == 0)
			return hashes[i].stix;
	return NULL;
}

/* The MISP type of a one-comparison pattern without a misp:type label. */
static const char *type_of_path(const char *path, char *buf, size_t size)
{
	static const struct {
		const char *path, *type;
	} paths[] = {{"domain-name:value", "domain"},
	             {"ipv4-addr:value", "ip-dst"},
	             {"ipv6-addr:value", "ip-dst"},
	             {"url:value", "url"},
	             {"email-addr:value", "email-src"},
	             {"email-message:from_ref.value", "email-src"},
	             {"email-message:subject", "email-subject"},
	             {"file:name", "filename"},
	             {"mutex:name", "mutex"},
	             {"mac-addr:value", "mac-address"},
	             {"windows-registry-key:key", "regkey"},
	             {"autonomous-system:number", "AS"}};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(path, paths[i].path) == 0)
			return paths[i].type;
	if (strncmp(path, "file:hashes.", 12) == 0) {
		snprintf(buf, size, "%s", path + 12);
		if (buf[0] == '\'') {
			memmove(buf, buf + 1, strlen(buf));
			if (*buf)
				buf[strlen(buf) - 1] = '\0';
		}
		return misp_hash(buf);
	}
	return NULL;
}

/* An attribute's value from its indicator's comparisons, by MISP type. */
static int value_from_pattern(const char *type, const json_t *cmps, char *out, size_t size)
{
	const char *a = NULL, *b = NULL, *h;

	if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0)
		a = cmp_value(cmps, "_ref.value");
	else if (strcmp(type, "ip-src|port") == 0 || strcmp(type, "ip-dst|port") == 0)
		a = cmp_value(cmps, "_ref.value"), b = cmp_value(cmps, "_port");
	else if (strcmp(type, "domain|ip") == 0)
		a = cmp_value(cmps, "domain-name:value"),
		b = cmp_value(cmps, "resolves_to_refs[*].value");
	else if (strcmp(type, "hostname|port") == 0)
		a = cmp_value(cmps, "domain-name:value"), b = cmp_value(cmps, "dst_port");
	else if (strncmp(type, "filename|", 9) == 0 && (h = stix_hash(type + 9)) != NULL) {
		char path[64];

		snprintf(path, sizeof(path), strchr(h, '-') ? ".'%s'" : ".%s", h);
		a = cmp_value(cmps, "file:name"), b = cmp_value(cmps, path);
	} else if (strcmp(type, "github-username") == 0)
		a = cmp_value(cmps, "account_login");
	else if (strcmp(type, "regkey|value") == 0)
		a = cmp_value(cmps, ":key"), b = cmp_value(cmps, ".data");
	else if (strcmp(type, "AS") == 0) {
		a = cmp_value(cmps, "autonomous-system:number");
		if (a == NULL)
			return -1;
		snprintf(out, size, "AS%s", a);
		return 0;
	} else if (json_array_size(cmps) > 0)
		a = json_string_value(json_array_get(json_array_get(cmps, 0), 1));
	if (a == NULL || (strchr(type, '|') && b == NULL))
		return -1;
	snprintf(out, size, b ? "%s|%s" : "%s", a, b ? b : "");
	return 0;
}

/* ---- the SCOs an observed-data refers to ------------------------------- */

static const json_t *sco_of_type(struct formats_misp_out *w, const json_t *od, const char *type)
{
	size_t i;
	json_t *r;

	json_array_foreach (json_object_get(od, "object_refs"), i, r) {
		const json_t *o = fetch(w, json_string_value(r));

		if (o && strcmp(sv(o, "type"), type) == 0)
			return o;
	}
	return NULL;
}

static const char *ref_value(struct formats_misp_out *w, const char *id, const char *key)
{
	return sv(fetch(w, id), key);
}

/* An attribute's value from the SCOs of its observed-data. */
static int value_from_scos(struct formats_misp_out *w, const json_t *od, const char *type,
                           char *out, size_t size)
{
	const json_t *o;
	const char *a = NULL, *h;
	char b[32] = "";

	if (strcmp(type, "domain") == 0 || strcmp(type, "hostname") == 0)
		a = sv(sco_of_type(w, od, "domain-name"), "value");
	else if (strcmp(type, "url") == 0 || strcmp(type, "link") == 0 || strcmp(type, "uri") == 0)
		a = sv(sco_of_type(w, od, "url"), "value");
	else if (strcmp(type, "email") == 0 || strcmp(type, "email-src") == 0 ||
	         strcmp(type, "email-dst") == 0)
		a = sv(sco_of_type(w, od, "email-addr"), "value");
	else if (strcmp(type, "email-subject") == 0)
		a = sv(sco_of_type(w, od, "email-message"), "subject");
	else if (strcmp(type, "email-message-id") == 0)
		a = sv(sco_of_type(w, od, "email-message"), "message_id");
	else if (strcmp(type, "email-body") == 0)
		a = sv(sco_of_type(w, od, "email-message"), "body");
	else if (strcmp(type, "filename") == 0)
		a = sv(sco_of_type(w, od, "file"), "name");
	else if ((h = stix_hash(type)) != NULL)
		a = sv(json_object_get(sco_of_type(w, od, "file"), "hashes"), h);
	else if (strncmp(type, "x509-fingerprint-", 17) == 0 && (h = stix_hash(type + 17)) != NULL)
		a = sv(json_object_get(sco_of_type(w, od, "x509-certificate"), "hashes"), h);
	else if (strncmp(type, "filename|", 9) == 0 && (h = stix_hash(type + 9)) != NULL) {
		o = sco_of_type(w, od, "file");
		a = sv(o, "name");
		snprintf(out, size, "%s|%s", a ? a : "",
		         sv(json_object_get(o, "hashes"), h) ? sv(json_object_get(o, "hashes"), h)
		                                             : "");
		return a ? 0 : -1;
	} else if (strncmp(type, "ip-", 3) == 0) {
		o = sco_of_type(w, od, "network-traffic");
		a = ref_value(w, sv(o, type[3] == 's' ? "src_ref" : "dst_ref"), "value");
		if (strchr(type, '|') &&
		    json_is_integer(json_object_get(o, type[3] == 's' ? "src_port" : "dst_port")))
			snprintf(b, sizeof(b), "%lld",
			         (long long)json_integer_value(json_object_get(
			                 o, type[3] == 's' ? "src_port" : "dst_port")));
	} else if (strcmp(type, "domain|ip") == 0) {
		o = sco_of_type(w, od, "domain-name");
		a = sv(o, "value");
		snprintf(out, size, "%s|%s", a ? a : "",
		         ref_value(w,
		                   json_string_value(json_array_get(
		                           json_object_get(o, "resolves_to_refs"), 0)),
		                   "value")
		                 ? ref_value(w,
		                             json_string_value(json_array_get(
		                                     json_object_get(o, "resolves_to_refs"), 0)),
		                             "value")
		                 : "");
		return a ? 0 : -1;
	} else if (strcmp(type, "AS") == 0) {
		o = sco_of_type(w, od, "autonomous-system");
		if (!json_is_integer(json_object_get(o, "number")))
			return -1;
		snprintf(out, size, "AS%lld",
		         (long long)json_integer_value(json_object_get(o, "number")));
		return 0;
	} else if (strcmp(type, "mac-address") == 0)
		a = sv(sco_of_type(w, od, "mac-addr"), "value");
	else if (strcmp(type, "mutex") == 0)
		a = sv(sco_of_type(w, od, "mutex"), "name");
	else if (strcmp(type, "regkey") == 0)
		a = sv(sco_of_type(w, od, "windows-registry-key"), "key");
	else if (strcmp(type, "github-username") == 0)
		a = sv(sco_of_type(w, od, "user-account"), "account_login");
	if (a == NULL)
		return -1;
	snprintf(out, size, *b ? "%s|%s" : "%s", a, b);
	return 0;
}

/* ---- attributes, objects, galaxies ------------------------------------- */

static json_t *attribute_new(const json_t *src, const char *uuid, const char *type,
                             const char *category, const char *value, int to_ids,
                             const json_t *event_markings)
{
	json_t *a = json_object();
	const char *d = sv(src, "description");

	json_object_set_new(a, "uuid", json_string(uuid));
	json_object_set_new(a, "type", json_string(type));
	json_object_set_new(a, "category", json_string(category ? category : "Other"));
	json_object_set_new(a, "value", json_string(value));
	json_object_set_new(a, "to_ids", json_boolean(to_ids));
	json_object_set_new(a, "timestamp", num_string(unix_of(src, "modified")));
	if (d && *d)
		json_object_set_new(a, "comment", json_string(d));
	else if (sv(src, "x_misp_comment"))
		json_object_set(a, "comment", json_object_get(src, "x_misp_comment"));
	json_object_set_new(a, "Tag", tags_of(src, event_markings));
	if (json_array_size(json_object_get(a, "Tag")) == 0)
		json_object_del(a, "Tag");
	return a;
}

static int in_pattern(const json_t *cmps, const char *value)
{
	size_t i;
	json_t *c;

	json_array_foreach (cmps, i, c)
		if (strcmp(json_string_value(json_array_get(c, 1)), value) == 0)
			return 1;
	return 0;
}

static void object_attr(json_t *list, const char *ouuid, const char *uuid, const char *rel,
                        const char *type, const char *value, const json_t *cmps, int64_t ts)
{
	char u[37], name[600];

	if (value == NULL)
		return;
	if (uuid == NULL) {
		snprintf(name, sizeof(name), "%s %s %s", ouuid, rel, value);
		fmt_uuid5(name, u);
		uuid = u;
	}
	json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:b,s:o,s:s}", "uuid", uuid,
	                                      "object_relation", rel, "type", type, "value", value,
	                                      "to_ids", in_pattern(cmps, value), "timestamp",
	                                      num_string(ts), "category", "Other"));
}

/* A MISP object from observed-data labelled misp:name (and its indicator). */
static json_t *object_from_observed(struct formats_misp_out *w, const json_t *od, const char *name,
                                    const json_t *ind)
{
	char meta[200];
	const char *ouuid = uuid_of(sv(od, "id"));
	int64_t ts = unix_of(od, "modified");
	json_t *attrs = json_array(), *r, *cmps = comparisons(ind ? sv(ind, "pattern") : NULL);
	size_t i;

	json_array_foreach (json_object_get(od, "object_refs"), i, r) {
		const char *rid = json_string_value(r), *t, *k;
		const json_t *o = fetch(w, rid), *v;
		int own = strcmp(uuid_of(rid), ouuid) == 0;

		if (o == NULL)
			continue;
		t = sv(o, "type");
		if (strcmp(t, "file") == 0) {
			json_object_foreach ((json_t *)json_object_get(o, "hashes"), k, v)
				if (misp_hash(k))
					object_attr(attrs, ouuid, own ? NULL : uuid_of(rid),
					            misp_hash(k), misp_hash(k),
					            json_string_value(v), cmps, ts);
			object_attr(attrs, ouuid, NULL, "filename", "filename", sv(o, "name"), cmps,
			            ts);
			if (json_is_integer(json_object_get(o, "size"))) {
				char n[24];

				snprintf(n, sizeof(n), "%lld",
				         (long long)json_integer_value(json_object_get(o, "size")));
				object_attr(attrs, ouuid, NULL, "size-in-bytes", "size-in-bytes", n,
				            cmps, ts);
			}
		} else if (strcmp(t, "directory") == 0)
			object_attr(attrs, ouuid, uuid_of(rid), "path", "text", sv(o, "path"), cmps,
			            ts);
		else if (strcmp(t, "email-message") == 0) {
			size_t j;
			json_t *x;

			if (sv(o, "from_ref"))
				object_attr(attrs, ouuid, uuid_of(sv(o, "from_ref")), "from",
				            "email-src", ref_value(w, sv(o, "from_ref"), "value"),
				            cmps, ts);
			json_array_foreach (json_object_get(o, "to_refs"), j, x)
				object_attr(attrs, ouuid, uuid_of(json_string_value(x)), "to",
				            "email-dst",
				            ref_value(w, json_string_value(x), "value"), cmps, ts);
			json_array_foreach (json_object_get(o, "cc_refs"), j, x)
				object_attr(attrs, ouuid, uuid_of(json_string_value(x)), "cc",
				            "email-dst",
				            ref_value(w, json_string_value(x), "value"), cmps, ts);
			object_attr(attrs, ouuid, NULL, "subject", "email-subject",
			            sv(o, "subject"), cmps, ts);
			object_attr(attrs, ouuid, NULL, "message-id", "email-message-id",
			            sv(o, "message_id"), cmps, ts);
		} else if (strcmp(t, "domain-name") == 0)
			object_attr(attrs, ouuid, uuid_of(rid), "domain", "domain", sv(o, "value"),
			            cmps, ts);
		else if (strcmp(t, "ipv4-addr") == 0 || strcmp(t, "ipv6-addr") == 0)
			object_attr(attrs, ouuid, uuid_of(rid), "ip", "ip-dst", sv(o, "value"),
			            cmps, ts);
		else if (strcmp(t, "url") == 0)
			object_attr(attrs, ouuid, own ? NULL : uuid_of(rid), "url", "url",
			            sv(o, "value"), cmps, ts);
		else if (strcmp(t, "user-account") == 0) {
			object_attr(attrs, ouuid, NULL, "username", "text", sv(o, "user_id"), cmps,
			            ts);
			object_attr(attrs, ouuid, NULL, "password", "text", sv(o, "credential"),
			            cmps, ts);
		} else if (strcmp(t, "mutex") == 0)
			object_attr(attrs, ouuid, own ? NULL : uuid_of(rid), "name", "mutex",
			            sv(o, "name"), cmps, ts);
		if (strcmp(t, "email-addr") != 0 &&
		    !(strncmp(t, "ipv", 3) == 0 && strcmp(name, "domain-ip") != 0))
			json_object_foreach ((json_t *)o, k, v)
				if (strncmp(k, "x_misp_", 7) == 0 && json_is_string(v))
					object_attr(attrs, ouuid, NULL, k + 7, "text",
					            json_string_value(v), cmps, ts);
	}
	/* in the order of the indicator's comparisons (MISP's order, which the
	 * import follows), the others after them */
	{
		json_t *sorted = json_array(), *a;
		size_t k;

		json_array_foreach (cmps, k, r) {
			size_t j;

			json_array_foreach (attrs, j, a)
				if (json_object_get(a, "placed") == NULL &&
				    strcmp(sv(a, "value"),
				           json_string_value(json_array_get(r, 1))) == 0) {
					json_object_set_new(a, "placed", json_true());
					json_array_append(sorted, a);
					break;
				}
		}
		json_array_foreach (attrs, k, a) {
			if (json_object_get(a, "placed"))
				json_object_del(a, "placed");
			else
				json_array_append(sorted, a);
		}
		json_decref(attrs);
		attrs = sorted;
	}
	json_decref(cmps);
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", name, "meta-category",
	                 misp_label(od, "meta-category", meta, sizeof(meta)) ? meta : "misc",
	                 "uuid", ouuid, "timestamp", num_string(ts), "Attribute", attrs);
}

static const char *const galaxy_sdos[] = {"attack-pattern",
                                          "intrusion-set",
                                          "threat-actor",
                                          "malware",
                                          "tool",
                                          "course-of-action",
                                          NULL};

static int is_galaxy_sdo(const char *t)
{
	for (int i = 0; galaxy_sdos[i]; i++)
		if (strcmp(t, galaxy_sdos[i]) == 0)
			return 1;
	return 0;
}

static void galaxy_add(json_t *galaxies, const json_t *o)
{
	char gname[200], gtype[200], value[600];
	const char *ext = NULL;
	json_t *g = NULL, *x, *meta = json_object(), *refs = json_array(), *cl;
	size_t i;

	if (!misp_label(o, "galaxy-type", gtype, sizeof(gtype)))
		snprintf(gtype, sizeof(gtype), "stix-2.1-%s", sv(o, "type"));
	if (!misp_label(o, "galaxy-name", gname, sizeof(gname)))
		snprintf(gname, sizeof(gname), "STIX 2.1 %s", sv(o, "type"));
	json_array_foreach (json_object_get(o, "external_references"), i, x) {
		if (sv(x, "external_id") && ext == NULL)
			ext = sv(x, "external_id");
		if (sv(x, "url"))
			json_array_append(refs, json_object_get(x, "url"));
	}
	snprintf(value, sizeof(value), ext && strncmp(gtype, "mitre-", 6) == 0 ? "%s - %s" : "%s",
	         sv(o, "name") ? sv(o, "name") : "", ext ? ext : "");
	if (ext)
		json_object_set_new(meta, "external_id", json_string(ext));
	if (json_array_size(refs))
		json_object_set(meta, "refs", refs);
	if (json_array_size(json_object_get(o, "aliases")))
		json_object_set(meta, "synonyms", json_object_get(o, "aliases"));
	if (json_array_size(json_object_get(o, "kill_chain_phases"))) {
		json_t *kc = json_array();

		json_array_foreach (json_object_get(o, "kill_chain_phases"), i, x) {
			char s[300];

			snprintf(s, sizeof(s), "%s:%s", sv(x, "kill_chain_name"),
			         sv(x, "phase_name"));
			json_array_append_new(kc, json_string(s));
		}
		json_object_set_new(meta, "kill_chain", kc);
	}
	json_decref(refs);
	cl = json_pack("{s:s,s:s,s:s,s:o}", "uuid", uuid_of(sv(o, "id")), "type", gtype, "value",
	               value, "meta", meta);
	if (sv(o, "description"))
		json_object_set(cl, "description", json_object_get(o, "description"));
	json_array_foreach (galaxies, i, x)
		if (strcmp(sv(x, "type"), gtype) == 0)
			g = x;
	if (g == NULL) {
		g = json_pack("{s:s,s:s,s:[]}", "name", gname, "type", gtype, "GalaxyCluster");
		json_array_append_new(galaxies, g);
	}
	json_array_append_new(json_object_get(g, "GalaxyCluster"), cl);
}

/* ---- events ---------------------------------------------------------------- */

static int has_misp_name(const json_t *o)
{
	char b[8];

	return misp_label(o, "name", b, sizeof(b)) != NULL;
}

static void attach_sightings(struct formats_misp_out *w, json_t *attrs, json_t *sightings)
{
	size_t i, j;
	json_t *s, *a;

	json_array_foreach (sightings, i, s) {
		const char *target = uuid_of(sv(s, "sighting_of_ref"));

		json_array_foreach (attrs, j, a) {
			json_t *entry, *list;
			const json_t *org;

			if (strcmp(sv(a, "uuid"), target) != 0)
				continue;
			entry = json_pack(
			        "{s:s,s:o,s:s}", "uuid", target, "date_sighting",
			        num_string(unix_of(s, "first_seen") ? unix_of(s, "first_seen")
			                                            : unix_of(s, "created")),
			        "type",
			        sv(s, "x_misp_sighting_type") ? sv(s, "x_misp_sighting_type")
			                                      : "0");
			if (sv(s, "description"))
				json_object_set(entry, "source", json_object_get(s, "description"));
			org = fetch(w, json_string_value(json_array_get(
			                       json_object_get(s, "where_sighted_refs"), 0)));
			if (org)
				json_object_set_new(
				        entry, "Organisation",
				        json_pack("{s:s,s:s}", "uuid", uuid_of(sv(org, "id")),
				                  "name", sv(org, "name") ? sv(org, "name") : ""));
			if ((list = json_object_get(a, "Sighting")) == NULL) {
				list = json_array();
				json_object_set_new(a, "Sighting", list);
			}
			json_array_append_new(list, entry);
		}
	}
}

/* Who MISP may pass it on to: TLP:CLEAR all communities, GREEN this
 * community, anything else (or unmarked) the receiving organisation only. */
static const char *distribution_of(const json_t *o)
{
	int tlp = STIX_TLP_UNSET;
	size_t i;
	json_t *r;

	json_array_foreach (o ? json_object_get(o, "object_marking_refs") : NULL, i, r) {
		int t = stix_tlp_of_marking(json_string_value(r));

		if (t > tlp)
			tlp = t;
	}
	return tlp == STIX_TLP_CLEAR ? "3" : tlp == STIX_TLP_GREEN ? "1" : "0";
}

static int has_uuid(const json_t *list, const char *uuid)
{
	size_t i;
	json_t *x;

	json_array_foreach (list, i, x)
		if (sv(x, "uuid") && strcmp(sv(x, "uuid"), uuid) == 0)
			return 1;
	return 0;
}

/* Relationships from a MISP object to something else of the event become
 * that object's ObjectReferences (MISP's own import reads them so). */
static void object_references(json_t *objects, const json_t *attrs, const json_t *galaxies,
                              const json_t *rels)
{
	size_t i, j;
	json_t *r, *o, *g;

	json_array_foreach (rels, i, r) {
		const char *src = uuid_of(sv(r, "source_ref")), *tgt = uuid_of(sv(r, "target_ref"));
		int known = has_uuid(attrs, tgt) || has_uuid(objects, tgt);

		json_array_foreach (galaxies, j, g)
			known |= has_uuid(json_object_get(g, "GalaxyCluster"), tgt);
		if (!known || strcmp(src, tgt) == 0)
			continue;
		json_array_foreach (objects, j, o) {
			json_t *list;

			if (strcmp(sv(o, "uuid"), src) != 0)
				continue;
			if ((list = json_object_get(o, "ObjectReference")) == NULL) {
				list = json_array();
				json_object_set_new(o, "ObjectReference", list);
			}
			json_array_append_new(list,
			                      json_pack("{s:s,s:s,s:s,s:s,s:o}", "uuid",
			                                uuid_of(sv(r, "id")), "object_uuid", src,
			                                "referenced_uuid", tgt, "relationship_type",
			                                sv(r, "relationship_type"), "timestamp",
			                                num_string(unix_of(r, "modified"))));
			break;
		}
	}
}

static json_t *build_event(struct formats_misp_out *w, const char *uuid, const char *info,
                           int64_t ts, int published, const json_t *head, const json_t *refs)
{
	json_t *ev = json_object(), *attrs = json_array(), *objects = json_array();
	json_t *galaxies = json_array(), *sightings = json_array(), *r, *markings;
	json_t *rels = json_array(), *reports = json_array();
	const json_t *creator;
	size_t i;
	char date[32], cat[200], type[200], value[8192], hb[64];
	int tlp = STIX_TLP_UNSET;

	markings = head ? json_object_get(head, "object_marking_refs") : NULL;
	json_array_foreach (markings, i, r) {
		int t = stix_tlp_of_marking(json_string_value(r));

		if (t > tlp)
			tlp = t;
	}
	fmt_time(ts, 0, date);
	date[10] = '\0';
	creator = head ? fetch(w, sv(head, "created_by_ref")) : NULL;
	json_object_set_new(ev, "uuid", json_string(uuid));
	json_object_set_new(ev, "info", json_string(info));
	json_object_set_new(ev, "date", json_string(date));
	json_object_set_new(ev, "timestamp", num_string(ts));
	json_object_set_new(ev, "published", json_boolean(published));
	if (published)
		json_object_set_new(ev, "publish_timestamp",
		                    num_string(unix_of(head, "published")));
	json_object_set_new(ev, "analysis", json_string("2"));
	json_object_set_new(ev, "threat_level_id", json_string("4"));
	json_object_set_new(ev, "distribution", json_string(distribution_of(head)));
	if (head && tlp == STIX_TLP_AMBER && sv(head, STIX_TIX_SHARING_GROUP)) {
		/* a tix sharing group is MISP's distribution 4 */
		json_object_set_new(ev, "distribution", json_string("4"));
		json_object_set_new(ev, "SharingGroup",
		                    json_pack("{s:s}", "name", sv(head, STIX_TIX_SHARING_GROUP)));
	}
	if (creator && sv(creator, "name"))
		json_object_set_new(ev, "Orgc",
		                    json_pack("{s:s,s:s}", "name", sv(creator, "name"), "uuid",
		                              uuid_of(sv(creator, "id"))));
	json_object_set_new(ev, "Tag", head ? tags_of(head, NULL) : json_array());
	json_array_foreach (refs, i, r) {
		const char *rid = json_string_value(r);
		const json_t *o = fetch(w, rid);
		const char *t, *u;
		char other[320];

		if (o == NULL)
			continue;
		t = sv(o, "type");
		u = uuid_of(rid);
		if (strcmp(t, "indicator") == 0 && !has_misp_name(o)) {
			const char *ptype = sv(o, "pattern_type");
			json_t *cmps = comparisons(sv(o, "pattern"));
			const char *ty = misp_label(o, "type", type, sizeof(type));

			if (ptype && strcmp(ptype, "stix") != 0) {
				json_array_append_new(
				        attrs,
				        attribute_new(o, u, ty ? ty : ptype,
				                      misp_label(o, "category", cat, sizeof(cat)),
				                      sv(o, "pattern"), 1, markings));
			} else {
				if (ty == NULL && json_array_size(cmps) == 1)
					ty = type_of_path(json_string_value(json_array_get(
					                          json_array_get(cmps, 0), 0)),
					                  hb, sizeof(hb));
				if (ty && value_from_pattern(ty, cmps, value, sizeof(value)) == 0)
					json_array_append_new(
					        attrs, attribute_new(o, u, ty,
					                             misp_label(o, "category", cat,
					                                        sizeof(cat)),
					                             value, 1, markings));
				else
					json_array_append_new(
					        attrs,
					        attribute_new(o, u, "stix2-pattern", "Other",
					                      sv(o, "pattern"), 1, markings));
			}
			json_decref(cmps);
		} else if (strcmp(t, "observed-data") == 0) {
			char nm[200];
			const json_t *ind;

			snprintf(other, sizeof(other), "indicator--%s", u);
			ind = fetch(w, other);
			if (misp_label(o, "name", nm, sizeof(nm)))
				json_array_append_new(objects, object_from_observed(w, o, nm, ind));
			else if (ind == NULL && misp_label(o, "type", type, sizeof(type)) &&
			         value_from_scos(w, o, type, value, sizeof(value)) == 0)
				json_array_append_new(
				        attrs,
				        attribute_new(o, u, type,
				                      misp_label(o, "category", cat, sizeof(cat)),
				                      value, 0, markings));
		} else if (strncmp(t, "x-misp-object-", 14) == 0) {
			if (json_is_array(json_object_get(o, "x_misp_attributes")))
				json_array_append_new(
				        objects,
				        json_pack("{s:s,s:s,s:s,s:o,s:O}", "name", t + 14,
				                  "meta-category",
				                  sv(o, "x_misp_meta_category")
				                          ? sv(o, "x_misp_meta_category")
				                          : "misc",
				                  "uuid", u, "timestamp",
				                  num_string(unix_of(o, "modified")), "Attribute",
				                  json_object_get(o, "x_misp_attributes")));
			else if (sv(o, "x_misp_value"))
				json_array_append_new(
				        attrs, attribute_new(o, u, t + 14, sv(o, "x_misp_category"),
				                             sv(o, "x_misp_value"),
				                             misp_label(o, "to_ids", cat,
				                                        sizeof(cat)) != NULL,
				                             markings));
		} else if ((strcmp(t, "vulnerability") == 0 || strcmp(t, "campaign") == 0) &&
		           misp_label(o, "type", type, sizeof(type)) && sv(o, "name")) {
			json_array_append_new(
			        attrs, attribute_new(o, u, type,
			                             misp_label(o, "category", cat, sizeof(cat)),
			                             sv(o, "name"), 0, markings));
		} else if (is_galaxy_sdo(t))
			galaxy_add(galaxies, o);
		else if (strcmp(t, "sighting") == 0)
			json_array_append(sightings, (json_t *)o);
		else if (strcmp(t, "relationship") == 0 && sv(o, "relationship_type") &&
		         strcmp(sv(o, "relationship_type"), "based-on") != 0)
			json_array_append(rels, (json_t *)o);
		else if (strcmp(t, "note") == 0 && sv(o, "content"))
			json_array_append_new(
			        reports,
			        json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:b}", "uuid", u, "name",
			                  sv(o, "abstract") ? sv(o, "abstract") : "Report",
			                  "content", sv(o, "content"), "timestamp",
			                  num_string(unix_of(o, "modified")), "distribution",
			                  json_equal(json_object_get(o, "object_marking_refs"),
			                             markings)
			                          ? "5" /* the event's */
			                          : distribution_of(o),
			                  "sharing_group_id", "0", "deleted", 0));
	}
	attach_sightings(w, attrs, sightings);
	object_references(objects, attrs, galaxies, rels);
	json_object_set_new(ev, "Attribute", attrs);
	json_object_set_new(ev, "Object", objects);
	json_object_set_new(ev, "Galaxy", galaxies);
	if (json_array_size(reports) > 0)
		json_object_set(ev, "EventReport", reports);
	json_decref(sightings);
	json_decref(rels);
	json_decref(reports);
	return json_pack("{s:o}", "Event", ev);
}

static int is_loose_type(const char *t)
{
	for (int i = 0; formats_misp_loose_types[i]; i++)
		if (strcmp(t, formats_misp_loose_types[i]) == 0)
			return 1;
	return strncmp(t, "x-misp-object-", 14) == 0;
}

static int emit(struct formats_misp_out *w, const char *uuid, int64_t ts, json_t *ev)
{
	if (!w->stopped && w->each(w->ctx, uuid, ts, ev) != 0)
		w->stopped = 1;
	json_decref(ev);
	json_object_clear(w->cache);
	return w->stopped;
}

struct gathered {
	struct formats_misp_out *w;
	json_t *refs;
};

/* A sighting of what an event lists belongs to it, unless a report or
 * grouping lists the sighting itself (it is then that event's). */
static void gather_sighting(void *arg, json_t *s)
{
	struct gathered *g = arg;
	const char *id = sv(s, "id");
	size_t i;
	json_t *r;

	if (id == NULL || g->w->src.listed(g->w->src.ctx, id))
		return;
	json_array_foreach (g->refs, i, r)
		if (strcmp(json_string_value(r), id) == 0)
			return;
	if (json_object_get(g->w->cache, id) == NULL)
		json_object_set(g->w->cache, id, s);
	json_array_append_new(g->refs, json_string(id));
}

int formats_misp_out_head(struct formats_misp_out *w, json_t *head)
{
	const char *id = sv(head, "id"), *t = sv(head, "type");
	struct gathered g = {w, NULL};
	int64_t ts = unix_of(head, "modified");
	size_t i, n;
	json_t *ev;

	if (w->stopped)
		return 1;
	if (id == NULL || t == NULL || (strcmp(t, "report") != 0 && strcmp(t, "grouping") != 0))
		return 0;
	g.refs = json_array();
	json_array_foreach (json_object_get(head, "object_refs"), i, ev)
		if (json_is_string(ev))
			json_array_append(g.refs, ev);
	n = json_array_size(g.refs);
	if (w->src.sightings)
		for (i = 0; i < n; i++)
			w->src.sightings(w->src.ctx, json_string_value(json_array_get(g.refs, i)),
			                 gather_sighting, &g);
	ev = build_event(w, uuid_of(id), sv(head, "name") ? sv(head, "name") : "", ts, t[0] == 'r',
	                 head, g.refs);
	json_decref(g.refs);
	return emit(w, uuid_of(id), ts, ev);
}

void formats_misp_loose_uuid(const char *loose_name, const char *day, char out[37])
{
	char name[300];

	snprintf(name, sizeof(name), "tix loose %s %s", loose_name ? loose_name : "tix", day);
	fmt_uuid5(name, out);
}

int formats_misp_out_finish(struct formats_misp_out *w)
{
	char uuid[37], info[300];
	int64_t ts = 0;
	size_t i;
	json_t *id;

	if (w->stopped)
		return 1;
	if (w->day[0] == '\0')
		return 0;
	json_array_foreach (w->loose, i, id) {
		int64_t m = unix_of(json_object_get(w->cache, json_string_value(id)), "modified");

		if (m > ts)
			ts = m;
	}
	formats_misp_loose_uuid(w->name, w->day, uuid);
	snprintf(info, sizeof(info), "%s: indicators of %s", w->name, w->day);
	w->day[0] = '\0';
	id = build_event(w, uuid, info, ts, 0, NULL, w->loose);
	json_array_clear(w->loose);
	return emit(w, uuid, ts, id);
}

int formats_misp_out_loose(struct formats_misp_out *w, json_t *obj)
{
	const char *id = sv(obj, "id"), *t = sv(obj, "type");
	char d[32];

	if (w->stopped)
		return 1;
	if (id == NULL || t == NULL || !is_loose_type(t) || w->src.listed(w->src.ctx, id))
		return 0;
	fmt_time(unix_of(obj, "created"), 0, d);
	d[10] = '\0';
	if (w->day[0] && strcmp(d, w->day) != 0 && formats_misp_out_finish(w) != 0)
		return 1;
	memcpy(w->day, d, sizeof(w->day));
	/* the day's objects are held until its event is written */
	if (json_object_get(w->cache, id) == NULL)
		json_array_append_new(w->loose, json_string(id));
	json_object_set(w->cache, id, obj);
	return 0;
}

static void hash_line(struct tix_buf *csv, const char *value, const char *uuid)
{
	char md5[33];

	formats_md5_hex(value, strlen(value), md5);
	tix_buf_addf(csv, "%s,%s\n", md5, uuid);
}

static void hash_attrs(struct tix_buf *csv, const json_t *attrs, const char *uuid)
{
	size_t i;
	json_t *a;

	json_array_foreach (attrs, i, a) {
		const char *v = sv(a, "value"), *bar;

		if (v == NULL)
			continue;
		hash_line(csv, v, uuid);
		if ((bar = strchr(v, '|')) != NULL) {
			char part[4096];

			snprintf(part, sizeof(part), "%.*s", (int)(bar - v), v);
			hash_line(csv, part, uuid);
			hash_line(csv, bar + 1, uuid);
		}
	}
}

void formats_misp_feed_entry(const json_t *event, json_t *manifest, struct tix_buf *csv)
{
	const json_t *e = json_object_get(event, "Event"), *o;
	const char *uuid = sv(e, "uuid");
	json_t *m = json_object();
	static const char *const keys[] = {
	        "Orgc", "Tag", "info", "date", "analysis", "threat_level_id", "timestamp", NULL};
	size_t i;

	if (uuid == NULL) {
		json_decref(m);
		return;
	}
	for (int k = 0; keys[k]; k++)
		if (json_object_get(e, keys[k]))
			json_object_set(m, keys[k], json_object_get(e, keys[k]));
	json_object_set_new(manifest, uuid, m);
	if (csv == NULL)
		return;
	hash_attrs(csv, json_object_get(e, "Attribute"), uuid);
	json_array_foreach (json_object_get(e, "Object"), i, o)
		hash_attrs(csv, json_object_get(o, "Attribute"), uuid);
}
