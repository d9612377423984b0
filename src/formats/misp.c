/*
 * formats/misp.c — MISP JSON (events, the REST {"response":…} lists, loose
 * attributes and objects) to STIX 2.1, shaped and identified as MISP's own
 * STIX 2.1 export shapes them (docs/formats.md has the table), so the same
 * event arriving as MISP JSON and as MISP's STIX is stored once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats_int.h"
#include "stix/stix.h"

#define ID_MAX 320

/* What the objects of one event share. */
struct misp_event {
	const char *creator; /* identity id, or NULL for loose attributes/objects */
	json_t *markings;    /* TLP marking ids from the event's tags (array) */
	json_t *refs;        /* the grouping's object_refs, or NULL */
	json_t *pending;     /* objects written after the grouping, or NULL */
	json_t *seen;        /* ids already written for this event */
	/* MISP distribution 4: the sharing group the event (or the attribute
	 * being written) is for, or NULL; carried as tix_sharing_group on the
	 * AMBER objects (docs/policy.md) */
	const char *sharing_group, *attr_sharing_group;
};

struct misp_conv {
	struct fmt_bundle b;
	struct formats_log *log;
	const char *source;
	enum tix_err e; /* the first write failure; sticky */
};

/* One attribute's common facts. */
struct misp_attr {
	const char *uuid, *type, *category, *value, *comment, *relation;
	int to_ids;
	int64_t ts, first_seen, last_seen;
};

static void where_of(const struct misp_conv *c, const char *path, char *out, size_t size)
{
	snprintf(out, size, "%s: %s", c->source, path);
}

static void warn(struct misp_conv *c, const char *path, const char *fmt, const char *a,
                 const char *b)
{
	char w[400];

	where_of(c, path, w, sizeof(w));
	formats_say(c->log, 0, w, fmt, a, b);
}

static void refuse(struct misp_conv *c, const char *path, const char *fmt, const char *a,
                   const char *b)
{
	char w[400];

	where_of(c, path, w, sizeof(w));
	formats_say(c->log, 1, w, fmt, a, b);
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int bool_of(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v))
		return strcmp(json_string_value(v), "1") == 0 ||
		       strcasecmp(json_string_value(v), "true") == 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return 0;
}

static int is_uuid(const char *s)
{
	struct tix_uuid u;

	return s && tix_uuid_parse(s, &u) == TIX_OK;
}

/* Writes obj to the bundle (once per id in an event, whose grouping lists it). */
/* The audience MISP's distribution gives where no tlp: tag does: 0 (the
 * organisation only) AMBER+STRICT, 4 (a sharing group) AMBER for that
 * group; 1-3 and 5 leave it to the tags, the event, or the node's default.
 * Returns the markings (new reference) or NULL, and *group. */
static json_t *distribution_markings(const json_t *o, const char **group)
{
	const json_t *d = json_object_get(o, "distribution");
	const char *sg = str_of(json_object_get(o, "SharingGroup"), "name");
	long dist = json_is_integer(d)  ? (long)json_integer_value(d)
	            : json_is_string(d) ? strtol(json_string_value(d), NULL, 10)
	                                : -1;

	*group = NULL;
	if (dist == 0)
		return json_pack("[s]", stix_tlp_marking_id(STIX_TLP_AMBER_STRICT));
	if (dist == 4 && sg && *sg && strlen(sg) <= 127 && strchr(sg, '\n') == NULL) {
		*group = sg;
		return json_pack("[s]", stix_tlp_marking_id(STIX_TLP_AMBER));
	}
	if (dist == 4) /* a sharing group we cannot name: no wider than its owner */
		return json_pack("[s]", stix_tlp_marking_id(STIX_TLP_AMBER_STRICT));
	return NULL;
}

/* An AMBER object of a sharing group's event says which group (tix policy). */
static void apply_sharing_group(json_t *obj, const char *sg)
{
	const json_t *m = json_object_get(obj, "object_marking_refs");

	if (sg && json_array_size(m) == 1 &&
	    stix_tlp_of_marking(json_string_value(json_array_get(m, 0))) == STIX_TLP_AMBER) {
		json_object_set_new(obj, STIX_TIX_SHARING_GROUP, json_string(sg));
		json_object_set_new(obj, "extensions",
		                    json_pack("{s:{s:s}}", STIX_TIX_POLICY_EXT, "extension_type",
		                              "toplevel-property-extension"));
	}
}

static void emit(struct misp_conv *c, struct misp_event *ev, json_t *obj)
{
	const char *id = str_of(obj, "id");

	apply_sharing_group(obj,
	                    ev->attr_sharing_group ? ev->attr_sharing_group : ev->sharing_group);

	if (ev->pending == NULL) {
		if (c->e == TIX_OK)
			c->e = fmt_bundle_add(&c->b, obj);
		else
			json_decref(obj);
		return;
	}
	if (id && json_object_get(ev->seen, id)) {
		json_decref(obj);
		return;
	}
	if (id) {
		/* the id's markings, for the relationships to it (references) */
		json_t *m = json_object_get(obj, "object_marking_refs");

		json_object_set_new(ev->seen, id, m ? json_incref(m) : json_true());
		if (ev->refs)
			json_array_append_new(ev->refs, json_string(id));
	}
	if (ev->refs == NULL) {
		json_array_append_new(ev->pending, obj); /* held for the caller */
		return;
	}
	/* written at once (the grouping, which needs every id, comes last), so
	 * memory holds the ids of an event, not its objects */
	if (c->e == TIX_OK)
		c->e = fmt_bundle_add(&c->b, obj);
	else
		json_decref(obj);
}

static json_t *sdo_new(const char *type, const char *id, const struct misp_event *ev, int64_t ts)
{
	json_t *o = json_object();
	char t[32];

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	if (ev->creator)
		json_object_set_new(o, "created_by_ref", json_string(ev->creator));
	json_object_set_new(o, "created", json_string(fmt_time(ts, 1, t)));
	json_object_set_new(o, "modified", json_string(t));
	return o;
}

static json_t *sco_new(const char *type, const char *uuid)
{
	json_t *o = json_object();
	char id[ID_MAX];

	snprintf(id, sizeof(id), "%s--%s", type, uuid);
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	return o;
}

static void labels_markings(json_t *o, json_t *labels, const json_t *markings)
{
	if (labels && json_array_size(labels) > 0)
		json_object_set(o, "labels", labels);
	if (markings && json_array_size(markings) > 0)
		json_object_set(o, "object_marking_refs", (json_t *)markings);
}

/* Tags: tlp:* (TLP 1.0 names mapped to 2.0) to marking ids, the rest to labels. */
static void read_tags(const json_t *tags, json_t *labels, json_t **markings)
{
	size_t i;
	json_t *t;

	json_array_foreach (tags, i, t) {
		const char *name = str_of(t, "name");
		int tlp;

		if (name == NULL && json_is_string(t))
			name = json_string_value(t);
		if (name == NULL || *name == '\0')
			continue;
		if (strncasecmp(name, "tlp:", 4) == 0) {
			tlp = strcasecmp(name + 4, "white") == 0 ? STIX_TLP_CLEAR
			                                         : stix_tlp_parse(name + 4);
			if (tlp != -1) {
				const char *id = stix_tlp_marking_id(tlp);
				size_t j;
				json_t *m;
				int dup = 0;

				if (*markings == NULL)
					*markings = json_array();
				json_array_foreach (*markings, j, m)
					dup |= strcmp(json_string_value(m), id) == 0;
				if (!dup)
					json_array_append_new(*markings, json_string(id));
				continue;
			}
		}
		json_array_append_new(labels, json_string(name));
	}
}

static void add_cmp(struct tix_buf *pat, const char *path, const char *value)
{
	if (tix_buf_len(pat) > 0)
		tix_buf_adds(pat, " AND ");
	tix_buf_adds(pat, path);
	tix_buf_adds(pat, " = ");
	fmt_pattern_string(pat, value);
}

/* MISP hash attribute types and the STIX hash names (the open vocabulary's
 * spelling where it has one). */
static const struct {
	const char *misp, *stix;
} hash_names[] = {
        {"md5", "MD5"},
        {"sha1", "SHA-1"},
        {"sha224", "SHA224"},
        {"sha256", "SHA-256"},
        {"sha384", "SHA384"},
        {"sha512", "SHA-512"},
        {"sha512/224", "SHA512-224"}, /* MISP writes SHA224 here, losing which */
        {"sha512/256", "SHA512-256"},
        {"sha3-224", "SHA3224"}, /* MISP's spelling */
        {"sha3-256", "SHA3-256"},
        {"sha3-384", "SHA3384"},
        {"sha3-512", "SHA3-512"},
        {"ssdeep", "SSDEEP"},
        {"tlsh", "TLSH"},
        {"authentihash", "AUTHENTIHASH"},
        {"imphash", "IMPHASH"},
        {"pehash", "PEHASH"},
        {"telfhash", "TELFHASH"},
        {"vhash", "VHASH"},
};

static const char *hash_name(const char *misp)
{
	for (size_t i = 0; i < sizeof(hash_names) / sizeof(hash_names[0]); i++)
		if (strcmp(misp, hash_names[i].misp) == 0)
			return hash_names[i].stix;
	return NULL;
}

static void hash_path(const char *obj, const char *name, char *out, size_t size)
{
	int plain = 1;

	for (const char *p = name; *p; p++)
		plain &= isalnum((unsigned char)*p) != 0;
	snprintf(out, size, plain ? "%s:hashes.%s" : "%s:hashes.'%s'", obj, name);
}

static void add_hash(json_t *sco, struct tix_buf *pat, const char *obj, const char *name,
                     const char *value)
{
	json_t *h = json_object_get(sco, "hashes");
	char path[96];

	if (h == NULL) {
		h = json_object();
		json_object_set_new(sco, "hashes", h);
	}
	json_object_set_new(h, name, json_string(value));
	hash_path(obj, name, path, sizeof(path));
	add_cmp(pat, path, value);
}

static const char *ip_type(const char *v)
{
	return strchr(v, ':') ? "ipv6-addr" : "ipv4-addr";
}

enum map_kind { MAP_OBSERVABLE, MAP_PATTERN_ONLY, MAP_RULE, MAP_SDO, MAP_UNKNOWN, MAP_BAD };

/* Splits "a|b" into two strings in buf. 0, or -1 when there is no '|'. */
static int split2(const char *v, char *buf, size_t size, const char **a, const char **b)
{
	const char *bar = strchr(v, '|');

	if (bar == NULL || strlen(v) >= size)
		return -1;
	memcpy(buf, v, strlen(v) + 1);
	buf[bar - v] = '\0';
	*a = buf;
	*b = buf + (bar - v) + 1;
	return 0;
}

static int parse_port(const char *s, long *port)
{
	char *end;

	*port = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && *port >= 0 && *port <= 65535 ? 0 : -1;
}

/* Maps one attribute value of a known type: the SCOs (main one first) go
 * to scos, the pattern comparisons to pat. *why says what is wrong for MAP_BAD. */
static enum map_kind map_value(const char *type, const char *value, const char *uuid, json_t *scos,
                               struct tix_buf *pat, const char **why)
{
	static char split[4096];
	const char *a, *b, *hn;
	json_t *o, *o2;
	char path[128], ref[ID_MAX];
	long port;

	*why = NULL;
	if (strcmp(type, "domain") == 0 || strcmp(type, "hostname") == 0) {
		o = sco_new("domain-name", uuid);
		json_object_set_new(o, "value", json_string(value));
		json_array_append_new(scos, o);
		add_cmp(pat, "domain-name:value", value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "url") == 0 || strcmp(type, "link") == 0 || strcmp(type, "uri") == 0) {
		o = sco_new("url", uuid);
		json_object_set_new(o, "value", json_string(value));
		json_array_append_new(scos, o);
		add_cmp(pat, "url:value", value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "email") == 0 || strcmp(type, "email-addr") == 0) {
		o = sco_new("email-addr", uuid);
		json_object_set_new(o, "value", json_string(value));
		json_array_append_new(scos, o);
		add_cmp(pat, "email-addr:value", value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "email-src") == 0 || strcmp(type, "email-dst") == 0) {
		int src = type[6] == 's';

		o = sco_new("email-message", uuid);
		o2 = sco_new("email-addr", uuid);
		json_object_set_new(o2, "value", json_string(value));
		json_object_set_new(o, "is_multipart", json_false());
		if (src)
			json_object_set(o, "from_ref", json_object_get(o2, "id"));
		else {
			json_t *to = json_array();

			json_array_append(to, json_object_get(o2, "id"));
			json_object_set_new(o, "to_refs", to);
		}
		json_array_append_new(scos, o);
		json_array_append_new(scos, o2);
		add_cmp(pat,
		        src ? "email-message:from_ref.value" : "email-message:to_refs[*].value",
		        value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "email-subject") == 0 || strcmp(type, "email-message-id") == 0) {
		int subj = type[6] == 's';

		o = sco_new("email-message", uuid);
		json_object_set_new(o, "is_multipart", json_false());
		json_object_set_new(o, subj ? "subject" : "message_id", json_string(value));
		json_array_append_new(scos, o);
		add_cmp(pat, subj ? "email-message:subject" : "email-message:message_id", value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "email-body") == 0 || strcmp(type, "email-header") == 0 ||
	    strcmp(type, "email-reply-to") == 0 || strcmp(type, "email-x-mailer") == 0) {
		o = sco_new("email-message", uuid);
		json_object_set_new(o, "is_multipart", json_false());
		if (type[6] == 'b') {
			json_object_set_new(o, "body", json_string(value));
			add_cmp(pat, "email-message:body", value);
		} else if (type[6] == 'h') {
			json_object_set_new(o, "received_lines", json_pack("[s]", value));
			add_cmp(pat, "email-message:received_lines[*]", value);
		} else {
			const char *h = type[6] == 'r' ? "Reply-To" : "X-Mailer";

			json_object_set_new(o, "additional_header_fields",
			                    json_pack("{s:s}", h, value));
			snprintf(path, sizeof(path), "email-message:additional_header_fields.'%s'",
			         h);
			add_cmp(pat, path, value);
		}
		json_array_append_new(scos, o);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "regkey") == 0 || strcmp(type, "regkey|value") == 0) {
		static const char *const hives[][2] = {{"HKLM", "HKEY_LOCAL_MACHINE"},
		                                       {"HKCU", "HKEY_CURRENT_USER"},
		                                       {"HKCR", "HKEY_CLASSES_ROOT"},
		                                       {"HKU", "HKEY_USERS"},
		                                       {"HKCC", "HKEY_CURRENT_CONFIG"}};
		char key[4096];
		const char *data = NULL;

		a = value;
		if (type[6] == '|') {
			if (split2(value, split, sizeof(split), &a, &data) != 0) {
				*why = "a regkey|value value is 'KEY|DATA'";
				return MAP_BAD;
			}
		}
		snprintf(key, sizeof(key), "%s", a);
		/* STIX 2.1 6.13: the hive is never abbreviated */
		for (size_t h = 0; h < sizeof(hives) / sizeof(hives[0]); h++) {
			size_t n = strlen(hives[h][0]);

			if (strncasecmp(a, hives[h][0], n) == 0 && (a[n] == '\\' || a[n] == '\0')) {
				snprintf(key, sizeof(key), "%s%s", hives[h][1], a + n);
				break;
			}
		}
		o = sco_new("windows-registry-key", uuid);
		json_object_set_new(o, "key", json_string(key));
		add_cmp(pat, "windows-registry-key:key", key);
		if (data) {
			json_object_set_new(o, "values", json_pack("[{s:s}]", "data", data));
			add_cmp(pat, "windows-registry-key:values[*].data", data);
		}
		json_array_append_new(scos, o);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "filename") == 0) {
		o = sco_new("file", uuid);
		json_object_set_new(o, "name", json_string(value));
		json_array_append_new(scos, o);
		add_cmp(pat, "file:name", value);
		return MAP_OBSERVABLE;
	}
	if ((hn = hash_name(type)) != NULL) {
		o = sco_new("file", uuid);
		add_hash(o, pat, "file", hn, value);
		json_array_append_new(scos, o);
		return MAP_OBSERVABLE;
	}
	if (strncmp(type, "filename|", 9) == 0 && (hn = hash_name(type + 9)) != NULL) {
		if (split2(value, split, sizeof(split), &a, &b) != 0) {
			*why = "a filename|hash value is 'NAME|HASH'";
			return MAP_BAD;
		}
		o = sco_new("file", uuid);
		json_object_set_new(o, "name", json_string(a));
		add_cmp(pat, "file:name", a);
		add_hash(o, pat, "file", hn, b);
		json_array_append_new(scos, o);
		return MAP_OBSERVABLE;
	}
	if (strncmp(type, "x509-fingerprint-", 17) == 0 && (hn = hash_name(type + 17)) != NULL) {
		o = sco_new("x509-certificate", uuid);
		add_hash(o, pat, "x509-certificate", hn, value);
		json_array_append_new(scos, o);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "ip-src") == 0 || strcmp(type, "ip-dst") == 0 ||
	    strcmp(type, "ip-src|port") == 0 || strcmp(type, "ip-dst|port") == 0) {
		const char *side = type[3] == 's' ? "src" : "dst";
		const char *ip = value;

		port = -1;
		if (strchr(type, '|')) {
			if (split2(value, split, sizeof(split), &a, &b) != 0 ||
			    parse_port(b, &port) != 0) {
				*why = "an ip|port value is 'IP|PORT' with a port 0..65535";
				return MAP_BAD;
			}
			ip = a;
		}
		o = sco_new("network-traffic", uuid);
		o2 = sco_new(ip_type(ip), uuid);
		json_object_set_new(o2, "value", json_string(ip));
		snprintf(path, sizeof(path), "%s_ref", side);
		json_object_set(o, path, json_object_get(o2, "id"));
		snprintf(path, sizeof(path), "network-traffic:%s_ref.type", side);
		add_cmp(pat, path, ip_type(ip));
		snprintf(path, sizeof(path), "network-traffic:%s_ref.value", side);
		add_cmp(pat, path, ip);
		if (port >= 0) {
			char num[16];

			snprintf(path, sizeof(path), "%s_port", side);
			json_object_set_new(o, path, json_integer(port));
			snprintf(path, sizeof(path), "network-traffic:%s_port", side);
			snprintf(num, sizeof(num), "%ld", port);
			add_cmp(pat, path, num);
		}
		json_object_set_new(o, "protocols", json_pack("[s]", "tcp"));
		json_array_append_new(scos, o);
		json_array_append_new(scos, o2);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "domain|ip") == 0 || strcmp(type, "hostname|port") == 0) {
		int dip = type[0] == 'd';

		if (split2(value, split, sizeof(split), &a, &b) != 0 ||
		    (!dip && parse_port(b, &port) != 0)) {
			*why = dip ? "a domain|ip value is 'DOMAIN|IP'"
			           : "a hostname|port value is 'HOST|PORT' with a port 0..65535";
			return MAP_BAD;
		}
		o = sco_new("domain-name", uuid);
		json_object_set_new(o, "value", json_string(a));
		add_cmp(pat, "domain-name:value", a);
		json_array_append_new(scos, o);
		if (dip) {
			o2 = sco_new(ip_type(b), uuid);
			json_object_set_new(o2, "value", json_string(b));
			json_object_set_new(o, "resolves_to_refs",
			                    json_pack("[O]", json_object_get(o2, "id")));
			add_cmp(pat, "domain-name:resolves_to_refs[*].value", b);
		} else {
			o2 = sco_new("network-traffic", uuid);
			json_object_set(o2, "dst_ref", json_object_get(o, "id"));
			json_object_set_new(o2, "dst_port", json_integer(port));
			json_object_set_new(o2, "protocols", json_pack("[s]", "tcp"));
			add_cmp(pat, "network-traffic:dst_port", b);
		}
		json_array_append_new(scos, o2);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "AS") == 0) {
		const char *d = value;
		char *end;
		long long n;

		if (strncasecmp(d, "AS", 2) == 0)
			d += 2;
		n = strtoll(d, &end, 10);
		if (*d == '\0' || *end != '\0' || n < 0 || n > 4294967295LL) {
			*why = "an AS value is a number, with or without 'AS'";
			return MAP_BAD;
		}
		o = sco_new("autonomous-system", uuid);
		json_object_set_new(o, "number", json_integer(n));
		json_array_append_new(scos, o);
		snprintf(ref, sizeof(ref), "%lld", n);
		if (tix_buf_len(pat) > 0)
			tix_buf_adds(pat, " AND ");
		tix_buf_addf(pat, "autonomous-system:number = %s", ref);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "mac-address") == 0 || strcmp(type, "mutex") == 0) {
		const char *st = type[0] == 'm' ? (type[1] == 'a' ? "mac-addr" : "mutex")
		                                : "windows-registry-key";
		const char *prop = type[0] == 'm' ? (type[1] == 'a' ? "value" : "name") : "key";

		o = sco_new(st, uuid);
		json_object_set_new(o, prop, json_string(value));
		json_array_append_new(scos, o);
		snprintf(path, sizeof(path), "%s:%s", st, prop);
		add_cmp(pat, path, value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "github-username") == 0) {
		o = sco_new("user-account", uuid);
		json_object_set_new(o, "account_login", json_string(value));
		json_object_set_new(o, "account_type", json_string("github"));
		json_array_append_new(scos, o);
		add_cmp(pat, "user-account:account_type", "github");
		add_cmp(pat, "user-account:account_login", value);
		return MAP_OBSERVABLE;
	}
	if (strcmp(type, "user-agent") == 0) {
		add_cmp(pat,
		        "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
		        value);
		return MAP_PATTERN_ONLY;
	}
	if (strcmp(type, "http-method") == 0) {
		add_cmp(pat, "network-traffic:extensions.'http-request-ext'.request_method", value);
		return MAP_PATTERN_ONLY;
	}
	if (strcmp(type, "port") == 0 || strcmp(type, "size-in-bytes") == 0) {
		if (parse_port(value, &port) != 0 && type[0] == 'p') {
			*why = "a port is a number 0..65535";
			return MAP_BAD;
		}
		add_cmp(pat, type[0] == 'p' ? "network-traffic:dst_port" : "file:size", value);
		return MAP_PATTERN_ONLY;
	}
	if (strcmp(type, "yara") == 0 || strcmp(type, "snort") == 0 || strcmp(type, "sigma") == 0 ||
	    strcmp(type, "suricata") == 0) {
		tix_buf_adds(pat, value);
		return MAP_RULE;
	}
	if (strcmp(type, "vulnerability") == 0 || strcmp(type, "campaign-name") == 0)
		return MAP_SDO;
	return MAP_UNKNOWN;
}

static void kill_chain(json_t *o, const char *phase)
{
	if (phase && *phase)
		json_object_set_new(o, "kill_chain_phases",
		                    json_pack("[{s:s,s:s}]", "kill_chain_name", "misp-category",
		                              "phase_name", phase));
}

static json_t *indicator_new(const struct misp_event *ev, const char *uuid, int64_t ts,
                             const char *comment, const char *pattern, const char *ptype,
                             int64_t first, int64_t last, const char *phase)
{
	char id[ID_MAX], t[32];
	json_t *o;

	snprintf(id, sizeof(id), "indicator--%s", uuid);
	o = sdo_new("indicator", id, ev, ts);
	if (comment && *comment)
		json_object_set_new(o, "description", json_string(comment));
	json_object_set_new(o, "pattern", json_string(pattern));
	json_object_set_new(o, "pattern_type", json_string(ptype));
	json_object_set_new(o, "pattern_version", json_string("2.1"));
	json_object_set_new(o, "valid_from", json_string(fmt_time(first >= 0 ? first : ts, 0, t)));
	if (last >= 0 && last > (first >= 0 ? first : ts))
		json_object_set_new(o, "valid_until", json_string(fmt_time(last, 0, t)));
	kill_chain(o, phase);
	return o;
}

static json_t *observed_new(const struct misp_event *ev, const char *uuid, int64_t ts,
                            int64_t first, int64_t last, const json_t *scos)
{
	char id[ID_MAX], t[32];
	json_t *o, *refs = json_array(), *s;
	size_t i;

	snprintf(id, sizeof(id), "observed-data--%s", uuid);
	o = sdo_new("observed-data", id, ev, ts);
	json_object_set_new(o, "first_observed",
	                    json_string(fmt_time(first >= 0 ? first : ts, 0, t)));
	json_object_set_new(o, "last_observed", json_string(fmt_time(last >= 0 ? last : ts, 0, t)));
	json_object_set_new(o, "number_observed", json_integer(1));
	json_array_foreach (scos, i, s)
		json_array_append(refs, json_object_get(s, "id"));
	json_object_set_new(o, "object_refs", refs);
	return o;
}

static json_t *based_on(const char *ind, const char *od, int64_t ts, const struct misp_event *ev)
{
	char name[2 * ID_MAX], id[ID_MAX];
	struct misp_event plain = *ev;
	json_t *o;

	snprintf(name, sizeof(name), "%s - based-on - %s", ind, od);
	fmt_id5("relationship", name, id, sizeof(id));
	plain.creator = NULL; /* MISP's relationships carry no created_by_ref */
	o = sdo_new("relationship", id, &plain, ts);
	json_object_set_new(o, "relationship_type", json_string("based-on"));
	json_object_set_new(o, "source_ref", json_string(ind));
	json_object_set_new(o, "target_ref", json_string(od));
	return o;
}

/* Observed-data with its SCOs, and with to_ids an indicator based on it. */
static void emit_shapes(struct misp_conv *c, struct misp_event *ev, const char *uuid, int64_t ts,
                        int64_t first, int64_t last, json_t *scos, const char *pattern,
                        const char *comment, const char *phase, json_t *labels,
                        const json_t *markings)
{
	json_t *od = NULL, *s;
	size_t i;
	char odid[ID_MAX] = "";

	if (json_array_size(scos) > 0) {
		od = observed_new(ev, uuid, ts, first, last, scos);
		labels_markings(od, labels, markings);
		snprintf(odid, sizeof(odid), "%s", str_of(od, "id"));
		emit(c, ev, od);
		json_array_foreach (scos, i, s) {
			labels_markings(s, NULL, markings);
			emit(c, ev, json_incref(s));
		}
	}
	if (pattern && *pattern) {
		json_t *ind =
		        indicator_new(ev, uuid, ts, comment, pattern, "stix", first, last, phase);
		char iid[ID_MAX];

		labels_markings(ind, labels, markings);
		snprintf(iid, sizeof(iid), "%s", str_of(ind, "id"));
		emit(c, ev, ind);
		if (*odid) {
			/* the relationship is seen by whoever sees its ends */
			json_t *rel = based_on(iid, odid, ts, ev);

			labels_markings(rel, NULL, markings);
			emit(c, ev, rel);
		}
	}
}

static int custom_type_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200)
		return 0;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
			return 0;
	return name[0] != '-' && name[n - 1] != '-' && strstr(name, "--") == NULL;
}

/* A custom object for what STIX has no shape for, as MISP writes it. */
static json_t *custom_new(const struct misp_event *ev, const char *mtype, const char *uuid,
                          int64_t ts)
{
	char type[256], id[ID_MAX];

	snprintf(type, sizeof(type), "x-misp-object-%s", mtype);
	for (char *p = type; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(id, sizeof(id), "%s--%s", type, uuid);
	return sdo_new(type, id, ev, ts);
}

static void read_attr(const json_t *a, int64_t event_ts, struct misp_attr *at)
{
	const char *fs = str_of(a, "first_seen"), *ls = str_of(a, "last_seen");

	at->uuid = str_of(a, "uuid");
	at->type = str_of(a, "type");
	at->category = str_of(a, "category");
	at->value = str_of(a, "value");
	at->comment = str_of(a, "comment");
	at->relation = str_of(a, "object_relation");
	at->to_ids = bool_of(json_object_get(a, "to_ids"));
	at->ts = fmt_unix_of(json_object_get(a, "timestamp"));
	if (at->ts < 0)
		at->ts = event_ts;
	if (fs == NULL || fmt_parse_when(fs, &at->first_seen) != 0)
		at->first_seen = -1;
	if (ls == NULL || fmt_parse_when(ls, &at->last_seen) != 0)
		at->last_seen = -1;
}

static int attr_ok(struct misp_conv *c, const struct misp_attr *at, const char *path)
{
	if (!is_uuid(at->uuid)) {
		refuse(c, path, "uuid: %s%s", at->uuid ? "not a UUID" : "missing", "");
		return 0;
	}
	if (at->type == NULL || *at->type == '\0') {
		refuse(c, path, "type: %s%s", "missing", "");
		return 0;
	}
	if (at->value == NULL) {
		refuse(c, path, "value: %s%s", "missing or not a string", "");
		return 0;
	}
	if (at->ts < 0) {
		refuse(c, path, "timestamp: %s%s", "missing or not Unix seconds", "");
		return 0;
	}
	return 1;
}

static void galaxies(struct misp_conv *c, struct misp_event *ev, const json_t *list, int64_t ts,
                     json_t *labels, const char *path);
static void sightings(struct misp_conv *c, struct misp_event *ev, const json_t *list,
                      const char *target, int64_t ts, const char *path);

static void attribute(struct misp_conv *c, struct misp_event *ev, const json_t *a, int64_t event_ts,
                      const char *path)
{
	struct misp_attr at;
	json_t *labels, *markings = NULL, *scos;
	struct tix_buf pat;
	enum map_kind k;
	const char *why;
	char lab[600];
	int known;

	if (!json_is_object(a)) {
		refuse(c, path, "an attribute is a JSON object%s%s", "", "");
		return;
	}
	if (bool_of(json_object_get(a, "deleted")))
		return;
	ev->attr_sharing_group = NULL;
	read_attr(a, event_ts, &at);
	if (!attr_ok(c, &at, path))
		return;
	labels = json_array();
	snprintf(lab, sizeof(lab), "misp:type=\"%s\"", at.type);
	json_array_append_new(labels, json_string(lab));
	if (at.category) {
		snprintf(lab, sizeof(lab), "misp:category=\"%s\"", at.category);
		json_array_append_new(labels, json_string(lab));
	}
	read_tags(json_object_get(a, "Tag"), labels, &markings);
	{
		json_t *dm = distribution_markings(a, &ev->attr_sharing_group);

		if (markings == NULL)
			markings = dm;
		else
			json_decref(dm);
	}
	if (markings == NULL && ev->markings)
		markings = json_incref(ev->markings);
	scos = json_array();
	tix_buf_init(&pat, 1 << 20);
	k = map_value(at.type, at.value, at.uuid, scos, &pat, &why);
	if (k == MAP_OBSERVABLE || k == MAP_PATTERN_ONLY) {
		struct tix_buf full;

		tix_buf_init(&full, 1 << 21);
		tix_buf_addc(&full, '[');
		tix_buf_add(&full, tix_buf_str(&pat), tix_buf_len(&pat));
		tix_buf_addc(&full, ']');
		tix_buf_release(&pat);
		pat = full;
	}
	known = k != MAP_UNKNOWN;
	if (k == MAP_PATTERN_ONLY && !at.to_ids)
		k = MAP_UNKNOWN; /* without to_ids MISP writes a custom object */
	switch (k) {
	case MAP_BAD: refuse(c, path, "value '%s': %s", at.value, why); break;
	case MAP_OBSERVABLE:
		emit_shapes(c, ev, at.uuid, at.ts, at.first_seen, at.last_seen, scos,
		            at.to_ids ? tix_buf_str(&pat) : NULL, at.comment, at.category, labels,
		            markings);
		break;
	case MAP_PATTERN_ONLY:
	case MAP_RULE: {
		json_t *ind = indicator_new(ev, at.uuid, at.ts, at.comment, tix_buf_str(&pat),
		                            k == MAP_RULE ? at.type : "stix", at.first_seen,
		                            at.last_seen, at.category);

		labels_markings(ind, labels, markings);
		emit(c, ev, ind);
		break;
	}
	case MAP_UNKNOWN:
		if (!custom_type_ok(at.type)) {
			refuse(c, path, "type '%s': %s", at.type,
			       "unknown, and not usable in a STIX type name");
			break;
		}
		{
			json_t *o = custom_new(ev, at.type, at.uuid, at.ts);

			if (!known)
				warn(c, path, "type '%s': no STIX shape; kept as %s", at.type,
				     str_of(o, "type"));
			if (at.to_ids)
				json_array_append_new(labels, json_string("misp:to_ids=\"True\""));
			labels_markings(o, labels, markings);
			if (at.category)
				json_object_set_new(o, "x_misp_category", json_string(at.category));
			if (at.comment && *at.comment)
				json_object_set_new(o, "x_misp_comment", json_string(at.comment));
			json_object_set_new(o, "x_misp_value", json_string(at.value));
			emit(c, ev, o);
		}
		break;
	case MAP_SDO: {
		int vuln = at.type[0] == 'v';
		char id[ID_MAX];
		json_t *o;

		snprintf(id, sizeof(id), "%s--%s", vuln ? "vulnerability" : "campaign", at.uuid);
		o = sdo_new(vuln ? "vulnerability" : "campaign", id, ev, at.ts);
		json_object_set_new(o, "name", json_string(at.value));
		if (at.comment && *at.comment)
			json_object_set_new(o, "description", json_string(at.comment));
		if (vuln)
			json_object_set_new(o, "external_references",
			                    json_pack("[{s:s,s:s}]", "source_name", "cve",
			                              "external_id", at.value));
		labels_markings(o, labels, markings);
		emit(c, ev, o);
		break;
	}
	}
	if (k != MAP_BAD && k != MAP_UNKNOWN) {
		char target[ID_MAX], sub[300];

		snprintf(target, sizeof(target), "%s--%s",
		         k == MAP_SDO ? (at.type[0] == 'v' ? "vulnerability" : "campaign")
		         : (at.to_ids || k == MAP_RULE) ? "indicator"
		                                        : "observed-data",
		         at.uuid);
		snprintf(sub, sizeof(sub), "%s.Sighting", path);
		if (*target)
			sightings(c, ev, json_object_get(a, "Sighting"), target, at.ts, sub);
		snprintf(sub, sizeof(sub), "%s.Galaxy", path);
		galaxies(c, ev, json_object_get(a, "Galaxy"), at.ts, NULL, sub);
	}
	tix_buf_release(&pat);
	json_decref(scos);
	json_decref(labels);
	ev->attr_sharing_group = NULL;
	json_decref(markings);
}

/* ---- MISP objects ------------------------------------------------------ */

/* Object templates STIX has one SCO for: the relation names and where they go. */
static const struct {
	const char *object, *sco, *relation, *prop, *pattern;
} one_sco[] = {
        {"credential", "user-account", "username", "user_id", "user-account:user_id"},
        {"credential", "user-account", "password", "credential", "user-account:credential"},
        {"url", "url", "url", "value", "url:value"},
        {"mutex", "mutex", "name", "name", "mutex:name"},
};

static int one_sco_template(const char *name)
{
	for (size_t i = 0; i < sizeof(one_sco) / sizeof(one_sco[0]); i++)
		if (strcmp(one_sco[i].object, name) == 0)
			return 1;
	return 0;
}

static void x_misp(json_t *o, const char *relation, const char *value)
{
	char key[200];

	snprintf(key, sizeof(key), "x_misp_%s", relation);
	for (char *p = key; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
			*p = '_';
	json_object_set_new(o, key, json_string(value));
}

/* Maps the attributes of a MISP object to SCOs and a pattern (of the to_ids
 * attributes). Returns 0, or -1 when some attribute has no STIX shape. */
static int object_shapes(struct misp_conv *c, const char *name, const char *ouuid,
                         const json_t *attrs, int64_t ts, json_t *scos, struct tix_buf *pat,
                         const char *path)
{
	json_t *a, *main_sco = NULL;
	size_t i;
	int file = strcmp(name, "file") == 0, email = strcmp(name, "email") == 0;
	int dip = strcmp(name, "domain-ip") == 0, single = one_sco_template(name);
	json_t *ips = json_array(), *domains = json_array();

	if (file || email || single) {
		main_sco = sco_new(file ? "file" : email ? "email-message" : "", ouuid);
		if (single)
			for (size_t t = 0; t < sizeof(one_sco) / sizeof(one_sco[0]); t++)
				if (strcmp(one_sco[t].object, name) == 0) {
					json_decref(main_sco);
					main_sco = sco_new(one_sco[t].sco, ouuid);
					break;
				}
		if (email)
			json_object_set_new(main_sco, "is_multipart", json_false());
		json_array_append(scos, main_sco);
	}
	json_array_foreach (attrs, i, a) {
		struct misp_attr at;
		const char *why, *hn, *rel;
		struct tix_buf ignore, *pp;
		char sub[300];

		snprintf(sub, sizeof(sub), "%s.Attribute[%zu]", path, i);
		read_attr(a, ts, &at);
		if (!json_is_object(a) || !attr_ok(c, &at, sub))
			goto refused;
		rel = at.relation ? at.relation : at.type;
		tix_buf_init(&ignore, 1 << 20);
		pp = at.to_ids ? pat : &ignore;
		if (file) {
			if ((hn = hash_name(at.type)) != NULL)
				add_hash(main_sco, pp, "file", hn, at.value);
			else if (strcmp(rel, "filename") == 0) {
				json_object_set_new(main_sco, "name", json_string(at.value));
				add_cmp(pp, "file:name", at.value);
			} else if (strcmp(rel, "size-in-bytes") == 0 &&
			           strspn(at.value, "0123456789") == strlen(at.value) &&
			           *at.value && strlen(at.value) < 16) {
				json_object_set_new(main_sco, "size",
				                    json_integer(strtoll(at.value, NULL, 10)));
				add_cmp(pp, "file:size", at.value);
			} else if (strcmp(rel, "path") == 0) {
				json_t *d = sco_new("directory", at.uuid);

				json_object_set_new(d, "path", json_string(at.value));
				json_object_set(main_sco, "parent_directory_ref",
				                json_object_get(d, "id"));
				json_array_append_new(scos, d);
				add_cmp(pp, "file:parent_directory_ref.path", at.value);
			} else
				x_misp(main_sco, rel, at.value);
		} else if (email) {
			if (strcmp(rel, "from") == 0 || strcmp(rel, "to") == 0 ||
			    strcmp(rel, "cc") == 0) {
				json_t *ad = sco_new("email-addr", at.uuid);

				json_object_set_new(ad, "value", json_string(at.value));
				if (rel[0] == 'f') {
					json_object_set(main_sco, "from_ref",
					                json_object_get(ad, "id"));
					add_cmp(pp, "email-message:from_ref.value", at.value);
				} else {
					const char *key = rel[0] == 't' ? "to_refs" : "cc_refs";
					json_t *l = json_object_get(main_sco, key);

					if (l == NULL) {
						l = json_array();
						json_object_set_new(main_sco, key, l);
					}
					json_array_append(l, json_object_get(ad, "id"));
					add_cmp(pp,
					        rel[0] == 't' ? "email-message:to_refs[*].value"
					                      : "email-message:cc_refs[*].value",
					        at.value);
				}
				json_array_append_new(scos, ad);
			} else if (strcmp(rel, "subject") == 0 || strcmp(rel, "message-id") == 0) {
				int subj = rel[0] == 's';

				json_object_set_new(main_sco, subj ? "subject" : "message_id",
				                    json_string(at.value));
				add_cmp(pp,
				        subj ? "email-message:subject" : "email-message:message_id",
				        at.value);
			} else
				x_misp(main_sco, rel, at.value);
		} else if (single) {
			size_t t;

			for (t = 0; t < sizeof(one_sco) / sizeof(one_sco[0]); t++)
				if (strcmp(one_sco[t].object, name) == 0 &&
				    strcmp(one_sco[t].relation, rel) == 0)
					break;
			if (t < sizeof(one_sco) / sizeof(one_sco[0])) {
				json_object_set_new(main_sco, one_sco[t].prop,
				                    json_string(at.value));
				add_cmp(pp, one_sco[t].pattern, at.value);
			} else
				x_misp(main_sco, rel, at.value);
		} else if (dip && (strcmp(rel, "domain") == 0 || strcmp(rel, "hostname") == 0)) {
			json_t *d = sco_new("domain-name", at.uuid);

			json_object_set_new(d, "value", json_string(at.value));
			json_array_append_new(domains, d);
			add_cmp(pp, "domain-name:value", at.value);
		} else if (dip && strcmp(rel, "ip") == 0) {
			json_t *ip = sco_new(ip_type(at.value), at.uuid);

			json_object_set_new(ip, "value", json_string(at.value));
			json_array_append_new(ips, ip);
			add_cmp(pp, "domain-name:resolves_to_refs[*].value", at.value);
		} else {
			enum map_kind k = map_value(at.type, at.value, at.uuid, scos, pp, &why);

			if (k != MAP_OBSERVABLE) {
				tix_buf_release(&ignore);
				if (k == MAP_BAD)
					refuse(c, sub, "value '%s': %s", at.value, why);
				goto refused;
			}
		}
		tix_buf_release(&ignore);
	}
	if (dip) {
		size_t j;
		json_t *d, *ip;

		json_array_foreach (ips, j, ip)
			json_array_append(scos, ip);
		json_array_foreach (domains, j, d) {
			json_t *refs = json_array();
			size_t k;

			json_array_foreach (ips, k, ip)
				json_array_append(refs, json_object_get(ip, "id"));
			if (json_array_size(refs) > 0)
				json_object_set_new(d, "resolves_to_refs", refs);
			else
				json_decref(refs);
			json_array_append(scos, d);
		}
	}
	json_decref(main_sco);
	json_decref(ips);
	json_decref(domains);
	return 0;
refused:
	json_decref(main_sco);
	json_decref(ips);
	json_decref(domains);
	return -1;
}

static void object(struct misp_conv *c, struct misp_event *ev, const json_t *o, int64_t event_ts,
                   const char *path)
{
	const char *name = str_of(o, "name"), *uuid = str_of(o, "uuid");
	const char *meta = str_of(o, "meta-category");
	const json_t *attrs = json_object_get(o, "Attribute");
	int64_t ts = fmt_unix_of(json_object_get(o, "timestamp"));
	json_t *labels, *scos, *markings = NULL;
	struct tix_buf pat;
	size_t errors = c->log->errors;
	char lab[400];

	if (!json_is_object(o) || name == NULL || !is_uuid(uuid) || !json_is_array(attrs)) {
		refuse(c, path, "an object needs a name, a uuid and an Attribute list%s%s", "", "");
		return;
	}
	if (bool_of(json_object_get(o, "deleted")))
		return;
	ev->attr_sharing_group = NULL; /* the event's applies to an object */
	if (ts < 0)
		ts = event_ts;
	labels = json_array();
	snprintf(lab, sizeof(lab), "misp:name=\"%s\"", name);
	json_array_append_new(labels, json_string(lab));
	if (meta) {
		snprintf(lab, sizeof(lab), "misp:meta-category=\"%s\"", meta);
		json_array_append_new(labels, json_string(lab));
	}
	if (ev->markings)
		markings = json_incref(ev->markings);
	scos = json_array();
	tix_buf_init(&pat, 1 << 20);
	if (object_shapes(c, name, uuid, attrs, ts, scos, &pat, path) == 0) {
		char brk[1 << 10];
		struct tix_buf full;

		tix_buf_init(&full, 1 << 21);
		if (tix_buf_len(&pat) > 0) {
			tix_buf_addc(&full, '[');
			tix_buf_add(&full, tix_buf_str(&pat), tix_buf_len(&pat));
			tix_buf_addc(&full, ']');
		}
		emit_shapes(c, ev, uuid, ts, -1, -1, scos, tix_buf_str(&full), NULL, meta, labels,
		            markings);
		tix_buf_release(&full);
		(void)brk;
	} else if (c->log->errors == errors) {
		/* no STIX shape for some attribute: one custom object, as MISP does */
		json_t *x, *list = json_array(), *a;
		size_t i;

		if (!custom_type_ok(name)) {
			refuse(c, path, "object '%s': %s", name, "not usable in a STIX type name");
		} else {
			x = custom_new(ev, name, uuid, ts);
			warn(c, path, "object '%s': no STIX shape; kept as %s", name,
			     str_of(x, "type"));
			labels_markings(x, labels, markings);
			json_array_foreach (attrs, i, a) {
				json_t *e = json_object();

				json_object_set(e, "type", json_object_get(a, "type"));
				json_object_set(e, "object_relation",
				                json_object_get(a, "object_relation"));
				json_object_set(e, "value", json_object_get(a, "value"));
				if (json_object_get(a, "uuid"))
					json_object_set(e, "uuid", json_object_get(a, "uuid"));
				if (bool_of(json_object_get(a, "to_ids")))
					json_object_set_new(e, "to_ids", json_true());
				json_array_append_new(list, e);
			}
			json_object_set_new(x, "x_misp_attributes", list);
			list = NULL;
			if (meta)
				json_object_set_new(x, "x_misp_meta_category", json_string(meta));
			emit(c, ev, x);
		}
		json_decref(list);
	}
	tix_buf_release(&pat);
	json_decref(scos);
	json_decref(labels);
	json_decref(markings);
}

/* ---- galaxies and sightings ------------------------------------------- */

static const struct {
	const char *suffix, *sdo;
} galaxy_sdos[] = {
        {"attack-pattern", "attack-pattern"},
        {"techniques", "attack-pattern"},
        {"intrusion-set", "intrusion-set"},
        {"threat-actor", "threat-actor"},
        {"activity-group", "threat-actor"},
        {"groups", "threat-actor"},
        {"malware", "malware"},
        {"malpedia", "malware"},
        {"ransomware", "malware"},
        {"banker", "malware"},
        {"backdoor", "malware"},
        {"stealer", "malware"},
        {"android", "malware"},
        {"cryptominers", "malware"},
        {"software", "malware"},
        {"tool", "tool"},
        {"rat", "tool"},
        {"botnet", "tool"},
        {"exploit-kit", "tool"},
        {"course-of-action", "course-of-action"},
        {"tds", "tool"},
};

static const char *galaxy_sdo(const char *gtype)
{
	size_t n = strlen(gtype);

	for (size_t i = 0; i < sizeof(galaxy_sdos) / sizeof(galaxy_sdos[0]); i++) {
		size_t m = strlen(galaxy_sdos[i].suffix);

		if (n >= m && strcmp(gtype + n - m, galaxy_sdos[i].suffix) == 0 &&
		    (n == m || gtype[n - m - 1] == '-'))
			return galaxy_sdos[i].sdo;
	}
	return NULL;
}

static void galaxies(struct misp_conv *c, struct misp_event *ev, const json_t *list, int64_t ts,
                     json_t *labels, const char *path)
{
	size_t i, j;
	json_t *g, *cl;

	json_array_foreach (list, i, g) {
		const char *gname = str_of(g, "name"), *gtype = str_of(g, "type");
		const char *sdo = gtype ? galaxy_sdo(gtype) : NULL;

		json_array_foreach (json_object_get(g, "GalaxyCluster"), j, cl) {
			const char *uuid = str_of(cl, "uuid"), *value = str_of(cl, "value");
			const json_t *meta = json_object_get(cl, "meta");
			const char *ext = str_of(meta, "external_id");
			char id[ID_MAX], lab[600], name[512], sub[300];
			json_t *o, *refs, *v;
			size_t k;

			if (value == NULL) {
				snprintf(sub, sizeof(sub), "%s[%zu].GalaxyCluster[%zu]", path, i,
				         j);
				refuse(c, sub, "a galaxy cluster needs a value%s%s", "", "");
				continue;
			}
			if (sdo == NULL || !is_uuid(uuid)) {
				if (labels) {
					snprintf(lab, sizeof(lab), "misp-galaxy:%s=\"%s\"",
					         gtype ? gtype : "unknown", value);
					json_array_append_new(labels, json_string(lab));
				}
				continue;
			}
			snprintf(name, sizeof(name), "%s", value);
			if (ext) {
				size_t n = strlen(name), m = strlen(ext);

				if (n > m + 3 && strcmp(name + n - m, ext) == 0 &&
				    strncmp(name + n - m - 3, " - ", 3) == 0)
					name[n - m - 3] = '\0';
			}
			snprintf(id, sizeof(id), "%s--%s", sdo, uuid);
			o = sdo_new(sdo, id, ev, ts);
			json_object_set_new(o, "name", json_string(name));
			if (str_of(cl, "description") && *str_of(cl, "description"))
				json_object_set(o, "description",
				                json_object_get(cl, "description"));
			if (strcmp(sdo, "malware") == 0)
				json_object_set_new(o, "is_family", json_false());
			if (json_array_size(json_object_get(meta, "synonyms")) > 0 &&
			    strcmp(sdo, "malware") != 0 && strcmp(sdo, "attack-pattern") != 0 &&
			    strcmp(sdo, "course-of-action") != 0) {
				json_t *al = json_array();

				json_array_foreach (json_object_get(meta, "synonyms"), k, v)
					if (json_is_string(v))
						json_array_append(al, v);
				json_object_set_new(o, "aliases", al);
			}
			if (json_array_size(json_object_get(meta, "kill_chain")) > 0) {
				json_t *kc = json_array();

				json_array_foreach (json_object_get(meta, "kill_chain"), k, v) {
					const char *s = json_string_value(v),
					           *colon = s ? strchr(s, ':') : NULL;

					if (colon && colon > s && colon[1]) {
						char chain[200];

						snprintf(chain, sizeof(chain), "%.*s",
						         (int)(colon - s), s);
						json_array_append_new(
						        kc,
						        json_pack("{s:s,s:s}", "kill_chain_name",
						                  chain, "phase_name", colon + 1));
					}
				}
				if (json_array_size(kc) > 0)
					json_object_set_new(o, "kill_chain_phases", kc);
				else
					json_decref(kc);
			}
			refs = json_array();
			snprintf(lab, sizeof(lab), "misp:galaxy-name=\"%s\"", gname ? gname : "");
			json_array_append_new(refs, json_string(lab));
			snprintf(lab, sizeof(lab), "misp:galaxy-type=\"%s\"", gtype);
			json_array_append_new(refs, json_string(lab));
			json_object_set_new(o, "labels", refs);
			refs = json_array();
			if (ext)
				json_array_append_new(refs, json_pack("{s:s,s:s}", "source_name",
				                                      "mitre-attack", "external_id",
				                                      ext));
			json_array_foreach (json_object_get(meta, "refs"), k, v)
				if (json_is_string(v))
					json_array_append_new(refs,
					                      json_pack("{s:s,s:O}", "source_name",
					                                "url", "url", v));
			if (json_array_size(refs) > 0)
				json_object_set_new(o, "external_references", refs);
			else
				json_decref(refs);
			emit(c, ev, o);
		}
	}
}

static void identity_of_org(struct misp_conv *c, struct misp_event *ev, const json_t *org,
                            int64_t ts, char *id, size_t size)
{
	const char *uuid = str_of(org, "uuid"), *name = str_of(org, "name");
	struct misp_event plain = *ev;
	json_t *o;

	*id = '\0';
	if (!is_uuid(uuid) || name == NULL || *name == '\0')
		return;
	snprintf(id, size, "identity--%s", uuid);
	plain.creator = NULL;
	o = sdo_new("identity", id, &plain, ts);
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "identity_class", json_string("organization"));
	emit(c, ev, o);
}

static void sightings(struct misp_conv *c, struct misp_event *ev, const json_t *list,
                      const char *target, int64_t ts, const char *path)
{
	size_t i;
	json_t *s;

	json_array_foreach (list, i, s) {
		int64_t when = fmt_unix_of(json_object_get(s, "date_sighting"));
		const char *uuid = str_of(s, "uuid"), *type = str_of(s, "type");
		const char *source = str_of(s, "source");
		char id[ID_MAX], name[600], org[ID_MAX], t[32], sub[300];
		json_t *o;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (when < 0) {
			refuse(c, sub, "date_sighting: %s%s", "missing or not Unix seconds", "");
			continue;
		}
		identity_of_org(c, ev, json_object_get(s, "Organisation"), ts, org, sizeof(org));
		/* what was seen, when and by whom: MISP's sighting uuid is (by the
		 * core format) the attribute's, so it adds nothing, and leaving it
		 * out keeps the id through a MISP -> tix -> MISP round trip */
		(void)uuid;
		snprintf(name, sizeof(name), "%s - %lld - %s", target, (long long)when,
		         *org     ? org
		         : source ? source
		                  : "");
		fmt_id5("sighting", name, id, sizeof(id));
		o = sdo_new("sighting", id, ev, when);
		json_object_set_new(o, "first_seen", json_string(fmt_time(when, 0, t)));
		json_object_set_new(o, "last_seen", json_string(t));
		json_object_set_new(o, "count", json_integer(1));
		json_object_set_new(o, "sighting_of_ref", json_string(target));
		if (*org)
			json_object_set_new(o, "where_sighted_refs", json_pack("[s]", org));
		if (source && *source)
			json_object_set_new(o, "description", json_string(source));
		if (type && strcmp(type, "0") != 0)
			json_object_set_new(o, "x_misp_sighting_type", json_string(type));
		if (ev->markings)
			json_object_set(o, "object_marking_refs", ev->markings);
		emit(c, ev, o);
	}
}

/* ---- events ------------------------------------------------------------ */

/* ---- object references and event reports ------------------------------ */

/* The id this event wrote for uuid (an attribute's, an object's or a
 * cluster's): the indicator where there is one, as MISP's export points its
 * relationships, else the observed-data, else any other; NULL if none. */
static const char *written_id(const struct misp_event *ev, const char *uuid, char *out, size_t size)
{
	static const char *const first[] = {"indicator", "observed-data", NULL};
	const char *k;
	json_t *v;

	if (ev->seen == NULL || uuid == NULL || *uuid == '\0')
		return NULL;
	for (int i = 0; first[i]; i++) {
		snprintf(out, size, "%s--%s", first[i], uuid);
		if (json_object_get(ev->seen, out))
			return out;
	}
	json_object_foreach ((json_t *)ev->seen, k, v) {
		const char *d = strstr(k, "--");

		(void)v;
		if (d && strcmp(d + 2, uuid) == 0 && strncmp(k, "identity--", 10) != 0 &&
		    strncmp(k, "relationship--", 14) != 0 && strncmp(k, "sighting--", 10) != 0 &&
		    strncmp(k, "note--", 6) != 0) {
			snprintf(out, size, "%s", k);
			return out;
		}
	}
	return NULL;
}

static int tlp_rank(const json_t *markings)
{
	int r = STIX_TLP_UNSET;
	size_t i;
	json_t *m;

	json_array_foreach (markings, i, m) {
		int t = stix_tlp_of_marking(json_string_value(m));

		if (t > r)
			r = t;
	}
	return r;
}

/* MISP ObjectReferences between what the event holds: a relationship each
 * (relationship--uuid5("<source> - <type> - <target>"), as MISP's export
 * derives them), marked as the stricter of its two ends, so it is seen by
 * no one who may not see both. */
static void object_references(struct misp_conv *c, struct misp_event *ev, const json_t *objects,
                              int64_t event_ts, const char *path)
{
	const json_t *o, *r;
	size_t i, j;
	char sub[400];

	json_array_foreach (objects, i, o) {
		const char *ouuid = str_of(o, "uuid");
		char src[ID_MAX];

		if (!json_is_object(o) || bool_of(json_object_get(o, "deleted")) ||
		    !json_is_array(json_object_get(o, "ObjectReference")))
			continue;
		json_array_foreach (json_object_get(o, "ObjectReference"), j, r) {
			const char *type = str_of(r, "relationship_type");
			const char *ref = str_of(r, "referenced_uuid");
			int64_t ts = fmt_unix_of(json_object_get(r, "timestamp"));
			char tgt[ID_MAX], name[3 * ID_MAX], id[ID_MAX];
			const json_t *ms, *mt;
			struct misp_event plain = *ev;
			json_t *rel;

			snprintf(sub, sizeof(sub), "%s.Object[%zu].ObjectReference[%zu]", path, i,
			         j);
			if (!json_is_object(r) || bool_of(json_object_get(r, "deleted")))
				continue;
			if (type == NULL || *type == '\0' || strlen(type) > 250 || !is_uuid(ref)) {
				warn(c, sub,
				     "a reference needs a relationship_type and a referenced_uuid%s%s",
				     "", "");
				continue;
			}
			if (written_id(ev, ouuid, src, sizeof(src)) == NULL)
				continue; /* the object itself was refused or left out */
			if (written_id(ev, ref, tgt, sizeof(tgt)) == NULL) {
				warn(c, sub, "reference to %s: not in this event; %s", ref,
				     "left out");
				continue;
			}
			snprintf(name, sizeof(name), "%s - %s - %s", src, type, tgt);
			fmt_id5("relationship", name, id, sizeof(id));
			plain.creator = NULL; /* MISP's relationships carry no created_by_ref */
			rel = sdo_new("relationship", id, &plain, ts >= 0 ? ts : event_ts);
			json_object_set_new(rel, "relationship_type", json_string(type));
			json_object_set_new(rel, "source_ref", json_string(src));
			json_object_set_new(rel, "target_ref", json_string(tgt));
			ms = json_object_get(ev->seen, src);
			mt = json_object_get(ev->seen, tgt);
			ms = json_is_array(ms) ? ms : NULL;
			mt = json_is_array(mt) ? mt : NULL;
			labels_markings(rel, NULL, tlp_rank(mt) > tlp_rank(ms) ? mt : ms);
			ev->attr_sharing_group = NULL;
			emit(c, ev, rel);
		}
	}
}

/* The ids an event report's Markdown points at: @[attribute](uuid) and
 * @[object](uuid) (with or without '!'), an object's attribute as the
 * object. */
static void report_refs(const struct misp_event *ev, const json_t *e, const char *content,
                        json_t *refs)
{
	const char *p = content;

	while ((p = strchr(p, '@')) != NULL) {
		const char *q = p + 1, *kind = NULL;
		char uuid[37], id[ID_MAX];
		size_t i, k;
		json_t *o, *a, *r;
		int dup = 0;

		p++;
		if (*q == '!')
			q++;
		if (strncmp(q, "[attribute](", 12) == 0)
			kind = "attribute", q += 12;
		else if (strncmp(q, "[object](", 9) == 0)
			kind = "object", q += 9;
		if (kind == NULL || strlen(q) < 37 || q[36] != ')')
			continue;
		memcpy(uuid, q, 36);
		uuid[36] = '\0';
		for (i = 0; i < 36; i++)
			uuid[i] = (char)tolower((unsigned char)uuid[i]);
		if (!is_uuid(uuid))
			continue;
		if (kind[0] == 'a') /* an object's attribute: the object */
			json_array_foreach (json_object_get(e, "Object"), i, o)
				json_array_foreach (json_object_get(o, "Attribute"), k, a)
					if (str_of(a, "uuid") && str_of(o, "uuid") &&
					    strcasecmp(str_of(a, "uuid"), uuid) == 0)
						snprintf(uuid, sizeof(uuid), "%s",
						         str_of(o, "uuid"));
		if (written_id(ev, uuid, id, sizeof(id)) == NULL)
			continue;
		json_array_foreach (refs, i, r)
			dup |= strcmp(json_string_value(r), id) == 0;
		if (!dup)
			json_array_append_new(refs, json_string(id));
	}
}

/* MISP EventReports: a note each (note--<uuid>, abstract <- name, content,
 * object_refs <- what its Markdown points at, else the event's report or
 * grouping), marked as the event or by the report's own distribution. */
static void event_reports(struct misp_conv *c, struct misp_event *ev, const json_t *e,
                          int64_t event_ts, int published, const char *path)
{
	const json_t *r;
	size_t i;
	char sub[400];

	json_array_foreach (json_object_get(e, "EventReport"), i, r) {
		const char *uuid = str_of(r, "uuid"), *content = str_of(r, "content");
		const char *name = str_of(r, "name");
		int64_t ts = fmt_unix_of(json_object_get(r, "timestamp"));
		char id[ID_MAX];
		json_t *note, *refs, *markings;

		snprintf(sub, sizeof(sub), "%s.EventReport[%zu]", path, i);
		if (!json_is_object(r) || bool_of(json_object_get(r, "deleted")))
			continue;
		if (!is_uuid(uuid) || content == NULL) {
			refuse(c, sub, "an event report needs a uuid and a content%s%s", "", "");
			continue;
		}
		snprintf(id, sizeof(id), "note--%s", uuid);
		note = sdo_new("note", id, ev, ts >= 0 ? ts : event_ts);
		if (name && *name)
			json_object_set_new(note, "abstract", json_string(name));
		json_object_set_new(note, "content", json_string(content));
		refs = json_array();
		report_refs(ev, e, content, refs);
		if (json_array_size(refs) == 0) {
			snprintf(id, sizeof(id), "%s--%s", published ? "report" : "grouping",
			         str_of(e, "uuid"));
			json_array_append_new(refs, json_string(id));
		}
		json_object_set_new(note, "object_refs", refs);
		markings = distribution_markings(r, &ev->attr_sharing_group);
		labels_markings(note, NULL, markings ? markings : ev->markings);
		json_decref(markings);
		emit(c, ev, note);
		ev->attr_sharing_group = NULL;
	}
}

static void flush_event(struct misp_conv *c, struct misp_event *ev, json_t *head)
{
	size_t i;
	json_t *o;

	if (head && c->e == TIX_OK)
		c->e = fmt_bundle_add(&c->b, head);
	else
		json_decref(head);
	json_array_foreach (ev->pending, i, o)
		if (c->e == TIX_OK)
			c->e = fmt_bundle_add(&c->b, json_incref(o));
}

static void event(struct misp_conv *c, const json_t *e, const char *path)
{
	const char *uuid = str_of(e, "uuid"), *info = str_of(e, "info");
	int64_t ts = fmt_unix_of(json_object_get(e, "timestamp"));
	struct misp_event ev = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	json_t *labels, *head = NULL, *idn = NULL, *a;
	char creator[ID_MAX] = "", sub[300], id[ID_MAX], t[32];
	size_t i, before;
	int published = bool_of(json_object_get(e, "published"));

	if (!json_is_object(e) || !is_uuid(uuid)) {
		refuse(c, path, "an event needs a uuid%s%s", "", "");
		return;
	}
	if (ts < 0 && fmt_parse_when(str_of(e, "date"), &ts) != 0) {
		refuse(c, path, "an event needs a timestamp (or a date)%s%s", "", "");
		return;
	}
	ev.pending = json_array();
	ev.seen = json_object();
	{
		/* the creator's identity comes first, outside the grouping, as MISP has it */
		struct misp_event top = {NULL, NULL, NULL, json_array(), json_object(), NULL, NULL};
		const json_t *orgc = json_object_get(e, "Orgc");

		identity_of_org(c, &top, orgc ? orgc : json_object_get(e, "Org"), ts, creator,
		                sizeof(creator));
		if (json_array_size(top.pending) > 0)
			idn = json_incref(json_array_get(top.pending, 0));
		json_decref(top.pending);
		json_decref(top.seen);
	}
	if (idn && c->e == TIX_OK)
		c->e = fmt_bundle_add(&c->b, idn);
	else
		json_decref(idn);
	if (*creator) {
		ev.creator = creator;
		json_object_set_new(ev.seen, creator, json_true());
	}
	ev.refs = json_array();
	labels = json_array();
	json_array_append_new(labels, json_string("Threat-Report"));
	json_array_append_new(labels, json_string("misp:tool=\"MISP-STIX-Converter\""));
	read_tags(json_object_get(e, "Tag"), labels, &ev.markings);
	{
		/* the tags' TLP wins; a sharing group applies to AMBER either way */
		json_t *dm = distribution_markings(e, &ev.sharing_group);

		if (ev.markings == NULL)
			ev.markings = dm;
		else
			json_decref(dm);
	}
	before = c->log->errors;
	json_array_foreach (json_object_get(e, "Attribute"), i, a) {
		snprintf(sub, sizeof(sub), "%s.Attribute[%zu]", path, i);
		attribute(c, &ev, a, ts, sub);
	}
	json_array_foreach (json_object_get(e, "Object"), i, a) {
		snprintf(sub, sizeof(sub), "%s.Object[%zu]", path, i);
		object(c, &ev, a, ts, sub);
	}
	snprintf(sub, sizeof(sub), "%s.Galaxy", path);
	galaxies(c, &ev, json_object_get(e, "Galaxy"), ts, labels, sub);
	object_references(c, &ev, json_object_get(e, "Object"), ts, path);
	event_reports(c, &ev, e, ts, published, path);
	(void)before;
	if (json_array_size(ev.refs) == 0) {
		warn(c, path, "event %s has nothing STIX can carry; no %s written", uuid,
		     published ? "report" : "grouping");
	} else {
		snprintf(id, sizeof(id), "%s--%s", published ? "report" : "grouping", uuid);
		head = sdo_new(published ? "report" : "grouping", id, &ev, ts);
		json_object_set_new(head, "name", json_string(info && *info ? info : uuid));
		if (published) {
			int64_t pt = fmt_unix_of(json_object_get(e, "publish_timestamp"));

			json_object_set_new(head, "report_types", json_pack("[s]", "misc"));
			json_object_set_new(head, "published",
			                    json_string(fmt_time(pt >= 0 ? pt : ts, 0, t)));
		} else
			json_object_set_new(head, "context", json_string("suspicious-activity"));
		json_object_set(head, "object_refs", ev.refs);
		labels_markings(head, labels, ev.markings);
		apply_sharing_group(head, ev.sharing_group);
	}
	flush_event(c, &ev, head);
	json_decref(labels);
	json_decref(ev.pending);
	json_decref(ev.seen);
	json_decref(ev.refs);
	json_decref(ev.markings);
}

static void loose(struct misp_conv *c, const json_t *item, const char *path)
{
	struct misp_event none = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	const json_t *v;
	json_t *a;
	size_t i;
	char sub[300];

	if ((v = json_object_get(item, "Event")) != NULL) {
		snprintf(sub, sizeof(sub), "%s.Event", path);
		event(c, v, sub);
	} else if ((v = json_object_get(item, "Object")) != NULL) {
		snprintf(sub, sizeof(sub), "%s.Object", path);
		if (json_is_array(v))
			json_array_foreach (v, i, a) {
				snprintf(sub, sizeof(sub), "%s.Object[%zu]", path, i);
				object(c, &none, a, -1, sub);
			}
		else
			object(c, &none, v, -1, sub);
	} else if ((v = json_object_get(item, "Attribute")) != NULL) {
		if (json_is_array(v))
			json_array_foreach (v, i, a) {
				snprintf(sub, sizeof(sub), "%s.Attribute[%zu]", path, i);
				attribute(c, &none, a, -1, sub);
			}
		else {
			snprintf(sub, sizeof(sub), "%s.Attribute", path);
			attribute(c, &none, v, -1, sub);
		}
	} else
		refuse(c, path, "neither an Event, an Object nor an Attribute%s%s", "", "");
}

enum tix_err formats_misp_to_stix(const char *data, size_t len, const char *source,
                                  struct tix_buf *out, size_t *count, struct formats_log *log,
                                  struct tix_error *err)
{
	struct misp_conv c;
	json_t *doc, *resp, *item;
	size_t i;
	char path[64];

	*count = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if ((doc = stix_json_parse(data, len, source, err)) == NULL)
		return TIX_EPARSE;
	c.log = log;
	c.source = source;
	c.e = fmt_bundle_open(&c.b, out);
	resp = json_object_get(doc, "response");
	if (json_is_array(doc) || json_is_array(resp)) {
		json_array_foreach (json_is_array(doc) ? doc : resp, i, item) {
			snprintf(path, sizeof(path), "%s[%zu]",
			         json_is_array(doc) ? "" : "response", i);
			loose(&c, item, path);
		}
	} else if (json_is_object(resp))
		loose(&c, resp, "response");
	else if (json_is_object(doc) &&
	         (json_object_get(doc, "Event") || json_object_get(doc, "Attribute") ||
	          json_object_get(doc, "Object")))
		loose(&c, doc, "");
	else {
		json_decref(doc);
		return tix_error_set(err, TIX_EINVAL, source,
		                     "not MISP JSON: expected {\"Event\":…}, {\"response\":[…]}, "
		                     "{\"Attribute\":[…]} or {\"Object\":…}");
	}
	json_decref(doc);
	if (c.e == TIX_OK)
		c.e = fmt_bundle_close(&c.b);
	if (c.e != TIX_OK)
		return tix_error_set(err, c.e, source, "out of memory writing the STIX bundle");
	*count = c.b.count;
	return TIX_OK;
}

/* ---- feeds ---------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
	const struct formats_feed_entry *x = a, *y = b;

	return x->timestamp < y->timestamp ? -1 : x->timestamp > y->timestamp;
}

enum tix_err formats_misp_manifest(const char *data, size_t len, const char *source,
                                   struct formats_feed_entry **out, size_t *n,
                                   struct formats_log *log, struct tix_error *err)
{
	json_t *doc, *v;
	const char *key;
	struct formats_feed_entry *list;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if ((doc = stix_json_parse(data, len, source, err)) == NULL)
		return TIX_EPARSE;
	if (!json_is_object(doc)) {
		json_decref(doc);
		return tix_error_set(err, TIX_EINVAL, source,
		                     "a MISP feed manifest is an object of event uuids");
	}
	if ((list = calloc(json_object_size(doc) + 1, sizeof(*list))) == NULL) {
		json_decref(doc);
		return tix_error_set(err, TIX_ENOMEM, source, "out of memory");
	}
	json_object_foreach (doc, key, v) {
		char w[300];
		int64_t ts = fmt_unix_of(json_object_get(v, "timestamp"));

		snprintf(w, sizeof(w), "%s: %.60s", source, key);
		if (!is_uuid(key) || strlen(key) != 36) {
			formats_say(log, 1, w, "not an event uuid; left out");
			continue;
		}
		if (ts < 0) {
			formats_say(log, 1, w, "timestamp: missing or not Unix seconds; left out");
			continue;
		}
		memcpy(list[i].uuid, key, 37);
		for (char *p = list[i].uuid; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		list[i].timestamp = ts;
		i++;
	}
	json_decref(doc);
	qsort(list, i, sizeof(*list), entry_cmp);
	*out = list;
	*n = i;
	return TIX_OK;
}

size_t formats_misp_hashes_for(const char *data, size_t len, const char *uuid, json_t *set)
{
	size_t ulen = strlen(uuid), found = 0, i = 0;

	while (i < len) {
		size_t start = i, end, comma = len;
		char md5[33], *p;

		while (i < len && data[i] != '\n')
			i++;
		end = i < len ? i : len;
		i++; /* past the newline */
		if (end > start && data[end - 1] == '\r')
			end--;
		for (size_t k = start; k < end; k++)
			if (data[k] == ',') {
				comma = k;
				break;
			}
		if (comma != start + 32 || end - comma - 1 != ulen ||
		    strncasecmp(data + comma + 1, uuid, ulen) != 0)
			continue;
		memcpy(md5, data + start, 32);
		md5[32] = '\0';
		for (p = md5; *p; p++) {
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				break;
		}
		if (*p != '\0')
			continue;
		json_object_set_new(set, md5, json_true());
		found++;
	}
	return found;
}

int formats_misp_shared_entity(const char *type)
{
	static const char *const types[] = {
	        "identity", "threat-actor",   "intrusion-set",    "malware",
	        "tool",     "attack-pattern", "course-of-action", NULL};

	for (int i = 0; types[i]; i++)
		if (strcmp(type, types[i]) == 0)
			return 1;
	return 0;
}
