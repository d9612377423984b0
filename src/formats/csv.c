/*
 * formats/csv.c — CSV files (RFC 4180) and plain lists of values to STIX
 * indicators with patterns (and observed-data with --observables): a value
 * type given, mapped from a column or inferred from the value; each bad
 * record reported with its line and left out.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats_int.h"
#include "stix/stix.h"

#define MAX_FIELDS 256

static const struct {
	const char *name;
	enum formats_value_type type;
} type_names[] = {
        {"domain-name", FV_DOMAIN},
        {"domain", FV_DOMAIN},
        {"hostname", FV_DOMAIN},
        {"ipv4-addr", FV_IPV4},
        {"ipv4", FV_IPV4},
        {"ip", FV_IPV4},
        {"ip-dst", FV_IPV4},
        {"ip-src", FV_IPV4},
        {"ipv6-addr", FV_IPV6},
        {"ipv6", FV_IPV6},
        {"url", FV_URL},
        {"uri", FV_URL},
        {"link", FV_URL},
        {"email-addr", FV_EMAIL},
        {"email", FV_EMAIL},
        {"email-src", FV_EMAIL},
        {"email-dst", FV_EMAIL},
        {"file-md5", FV_MD5},
        {"md5", FV_MD5},
        {"file-sha1", FV_SHA1},
        {"sha1", FV_SHA1},
        {"sha-1", FV_SHA1},
        {"file-sha256", FV_SHA256},
        {"sha256", FV_SHA256},
        {"sha-256", FV_SHA256},
        {"file-sha512", FV_SHA512},
        {"sha512", FV_SHA512},
        {"sha-512", FV_SHA512},
};

enum formats_value_type formats_value_type_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(name, type_names[i].name) == 0)
			return type_names[i].type;
	return FV_NONE;
}

static const char *type_label(enum formats_value_type t)
{
	static const char *const n[] = {"none",        "domain-name", "ipv4-addr", "ipv6-addr",
	                                "url",         "email-addr",  "file-md5",  "file-sha1",
	                                "file-sha256", "file-sha512"};

	return n[t];
}

static int all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return i == n;
}

static int ip_ok(const char *s, int v6)
{
	char buf[64], *slash;
	unsigned char bin[16];
	long bits = -1;

	if (strlen(s) >= sizeof(buf))
		return 0;
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		char *end;

		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > (v6 ? 128 : 32))
			return 0;
	}
	return inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) == 1;
}

static int domain_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || strchr(s, '.') == NULL || s[0] == '.' || s[0] == '-')
		return 0;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_' ||
		      (unsigned char)*p >= 0x80))
			return 0;
	return 1;
}

static int value_ok(enum formats_value_type t, const char *v)
{
	const char *at;

	if (*v == '\0')
		return 0;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == ' ')
			return 0;
	switch (t) {
	case FV_DOMAIN: return domain_ok(v);
	case FV_IPV4: return ip_ok(v, 0);
	case FV_IPV6: return ip_ok(v, 1);
	case FV_URL: return strstr(v, "://") != NULL && strstr(v, "://") != v;
	case FV_EMAIL:
		at = strchr(v, '@');
		return at && at != v && strchr(at + 1, '@') == NULL && domain_ok(at + 1);
	case FV_MD5: return all_hex(v, 32);
	case FV_SHA1: return all_hex(v, 40);
	case FV_SHA256: return all_hex(v, 64);
	case FV_SHA512: return all_hex(v, 128);
	case FV_NONE: break;
	}
	return 0;
}

enum formats_value_type formats_value_type_infer(const char *v)
{
	static const enum formats_value_type order[] = {FV_MD5,    FV_SHA1,  FV_SHA256,
	                                                FV_SHA512, FV_IPV4,  FV_IPV6,
	                                                FV_URL,    FV_EMAIL, FV_DOMAIN};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (value_ok(order[i], v))
			return order[i];
	return FV_NONE;
}

int formats_csv_map_parse(const char *spec, struct formats_csv_map *map, char *msg, size_t msgsize)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	        {"type", offsetof(struct formats_csv_map, type)},
	        {"value", offsetof(struct formats_csv_map, value)},
	        {"first_seen", offsetof(struct formats_csv_map, first_seen)},
	        {"last_seen", offsetof(struct formats_csv_map, last_seen)},
	        {"description", offsetof(struct formats_csv_map, description)},
	        {"comment", offsetof(struct formats_csv_map, description)},
	        {"labels", offsetof(struct formats_csv_map, labels)},
	        {"name", offsetof(struct formats_csv_map, name)},
	};
	const char *p = spec;

	memset(map, 0, sizeof(*map));
	while (*p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		size_t klen, k;
		char *nend;
		long col;

		if (end == NULL)
			end = p + strlen(p);
		if (eq == NULL || eq > end) {
			snprintf(msg, msgsize, "'%.*s' is not KEY=COLUMN", (int)(end - p), p);
			return -1;
		}
		klen = (size_t)(eq - p);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strlen(keys[k].key) == klen && strncmp(p, keys[k].key, klen) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			snprintf(
			        msg, msgsize,
			        "unknown key '%.*s' (type, value, first_seen, last_seen, description, "
			        "labels, name)",
			        (int)klen, p);
			return -1;
		}
		col = strtol(eq + 1, &nend, 10);
		if (nend != end || col < 1 || col > MAX_FIELDS) {
			snprintf(msg, msgsize, "%.*s: a column is a number 1..%d", (int)klen, p,
			         MAX_FIELDS);
			return -1;
		}
		*(int *)(void *)((char *)map + keys[k].off) = (int)col;
		p = *end ? end + 1 : end;
	}
	if (map->value == 0) {
		snprintf(msg, msgsize, "value=N is required");
		return -1;
	}
	return 0;
}

/* ---- writing indicators --------------------------------------------------- */

struct text_conv {
	struct fmt_bundle b;
	const struct formats_text_opts *o;
	struct formats_log *log;
	const char *source;
	char creator[80];
	enum tix_err e;
};

static void say_line(struct text_conv *c, int is_error, size_t line, const char *fmt, const char *a,
                     const char *b)
{
	char w[300];

	snprintf(w, sizeof(w), "%s:%zu", c->source, line);
	formats_say(c->log, is_error, w, fmt, a, b);
}

static void pattern_of(enum formats_value_type t, const char *v, struct tix_buf *p)
{
	static const char *const paths[] = {"",
	                                    "domain-name:value",
	                                    "ipv4-addr:value",
	                                    "ipv6-addr:value",
	                                    "url:value",
	                                    "email-addr:value",
	                                    "file:hashes.MD5",
	                                    "file:hashes.'SHA-1'",
	                                    "file:hashes.'SHA-256'",
	                                    "file:hashes.'SHA-512'"};

	tix_buf_addc(p, '[');
	tix_buf_adds(p, paths[t]);
	tix_buf_adds(p, " = ");
	fmt_pattern_string(p, v);
	tix_buf_addc(p, ']');
}

static json_t *sco_of(enum formats_value_type t, const char *v)
{
	static const char *const types[] = {"",     "domain-name", "ipv4-addr", "ipv6-addr",
	                                    "url",  "email-addr",  "file",      "file",
	                                    "file", "file"};
	static const char *const hashes[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
	json_t *o = json_object();
	char id[300];

	json_object_set_new(o, "type", json_string(types[t]));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	if (t >= FV_MD5)
		json_object_set_new(o, "hashes", json_pack("{s:s}", hashes[t - FV_MD5], v));
	else
		json_object_set_new(o, "value", json_string(v));
	if (stix_sco_compute_id(o, id, sizeof(id)) == TIX_OK)
		json_object_set_new(o, "id", json_string(id));
	return o;
}

static void common(json_t *o, const char *type, const char *id, const char *creator,
                   const char *when, int tlp)
{
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	if (creator && *creator)
		json_object_set_new(o, "created_by_ref", json_string(creator));
	json_object_set_new(o, "created", json_string(when));
	json_object_set_new(o, "modified", json_string(when));
	if (tlp != STIX_TLP_UNSET)
		json_object_set_new(o, "object_marking_refs",
		                    json_pack("[s]", stix_tlp_marking_id(tlp)));
}

/* Undoes the usual defanging: hxxp -> http, [.] and (.) -> ., [@] -> @. */
static int refang(char *v)
{
	static const struct {
		const char *from, *to;
	} subs[] = {{"[.]", "."}, {"(.)", "."}, {"[dot]", "."}, {"[@]", "@"}, {"[:]", ":"}};
	int changed = 0;
	char *p;

	if (strncasecmp(v, "hxxp", 4) == 0) {
		memcpy(v, "http", 4);
		changed = 1;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		while ((p = strstr(v, subs[i].from)) != NULL) {
			size_t fl = strlen(subs[i].from), tl = strlen(subs[i].to);

			memcpy(p, subs[i].to, tl);
			memmove(p + tl, p + fl, strlen(p + fl) + 1);
			changed = 1;
		}
	return changed;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && blank(s[n - 1]))
		s[--n] = '\0';
	while (i < n && blank(s[i]))
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
}

struct record {
	const char *type, *value, *first_seen, *last_seen, *description, *labels, *name;
};

static void record(struct text_conv *c, size_t line, const struct record *r)
{
	enum formats_value_type t = c->o->type;
	char value[4096], id[300], when[32], until[32], name[600];
	struct tix_buf pat;
	int64_t first = -1, last = -1;
	json_t *ind;

	if (r->value == NULL) {
		say_line(c, 1, line, "no value column%s%s", "", "");
		return;
	}
	if (strlen(r->value) >= sizeof(value)) {
		say_line(c, 1, line, "value longer than 4095 bytes%s%s", "", "");
		return;
	}
	memcpy(value, r->value, strlen(r->value) + 1);
	trim(value);
	if (refang(value))
		say_line(c, 0, line, "defanged value read as '%s'%s", value, "");
	if (r->type && *r->type) {
		if ((t = formats_value_type_parse(r->type)) == FV_NONE) {
			say_line(c, 1, line, "unknown type '%s'%s", r->type, "");
			return;
		}
	} else if (t == FV_NONE && (t = formats_value_type_infer(value)) == FV_NONE) {
		say_line(c, 1, line,
		         "cannot tell the type of '%s'%s; map a type column (--map type=N) or give "
		         "--type",
		         value, "");
		return;
	}
	if (!value_ok(t, value)) {
		say_line(c, 1, line, "'%s' is not a valid %s", value, type_label(t));
		return;
	}
	if (t >= FV_MD5)
		for (char *p = value; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	if (r->first_seen && *r->first_seen && fmt_parse_when(r->first_seen, &first) != 0) {
		say_line(c, 1, line, "first_seen '%s' is not a time%s", r->first_seen, "");
		return;
	}
	if (r->last_seen && *r->last_seen && fmt_parse_when(r->last_seen, &last) != 0) {
		say_line(c, 1, line, "last_seen '%s' is not a time%s", r->last_seen, "");
		return;
	}
	if (first >= 0)
		fmt_time(first, 1, when);
	else
		snprintf(when, sizeof(when), "%s", c->o->timestamp);
	tix_buf_init(&pat, 1 << 14);
	pattern_of(t, value, &pat);
	snprintf(name, sizeof(name), "%s\n%s", c->o->source_name ? c->o->source_name : "",
	         tix_buf_str(&pat));
	fmt_id5("indicator", name, id, sizeof(id));
	ind = json_object();
	common(ind, "indicator", id, c->creator, when, c->o->tlp);
	json_object_set_new(ind, "name", json_string(r->name && *r->name ? r->name : value));
	if (r->description && *r->description)
		json_object_set_new(ind, "description", json_string(r->description));
	json_object_set_new(ind, "pattern", json_string(tix_buf_str(&pat)));
	json_object_set_new(ind, "pattern_type", json_string("stix"));
	json_object_set_new(ind, "pattern_version", json_string("2.1"));
	json_object_set_new(ind, "valid_from",
	                    json_string(first >= 0 ? fmt_time(first, 0, until) : c->o->timestamp));
	if (last >= 0 && (first < 0 || last > first))
		json_object_set_new(ind, "valid_until", json_string(fmt_time(last, 0, until)));
	if (r->labels && *r->labels) {
		json_t *l = json_array();
		char buf[1024], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", r->labels);
		for (tok = strtok_r(buf, ";|", &save); tok; tok = strtok_r(NULL, ";|", &save)) {
			trim(tok);
			if (*tok)
				json_array_append_new(l, json_string(tok));
		}
		if (json_array_size(l) > 0)
			json_object_set_new(ind, "labels", l);
		else
			json_decref(l);
	}
	if (c->e == TIX_OK)
		c->e = fmt_bundle_add(&c->b, ind);
	else
		json_decref(ind);
	if (c->o->observables) {
		json_t *sco = sco_of(t, value), *od = json_object(), *rel = json_object();
		char odid[300], relid[300], rname[700];

		snprintf(rname, sizeof(rname), "observed %s", name);
		fmt_id5("observed-data", rname, odid, sizeof(odid));
		common(od, "observed-data", odid, c->creator, when, c->o->tlp);
		json_object_set_new(
		        od, "first_observed",
		        json_string(first >= 0 ? fmt_time(first, 0, until) : c->o->timestamp));
		json_object_set_new(od, "last_observed",
		                    json_string(last >= 0    ? fmt_time(last, 0, until)
		                                : first >= 0 ? fmt_time(first, 0, until)
		                                             : c->o->timestamp));
		json_object_set_new(od, "number_observed", json_integer(1));
		json_object_set_new(od, "object_refs",
		                    json_pack("[O]", json_object_get(sco, "id")));
		snprintf(rname, sizeof(rname), "%s - based-on - %s", id, odid);
		fmt_id5("relationship", rname, relid, sizeof(relid));
		common(rel, "relationship", relid, c->creator, when, c->o->tlp);
		json_object_set_new(rel, "relationship_type", json_string("based-on"));
		json_object_set_new(rel, "source_ref", json_string(id));
		json_object_set_new(rel, "target_ref", json_string(odid));
		if (c->o->tlp != STIX_TLP_UNSET)
			json_object_set_new(sco, "object_marking_refs",
			                    json_pack("[s]", stix_tlp_marking_id(c->o->tlp)));
		if (c->e == TIX_OK)
			c->e = fmt_bundle_add(&c->b, sco);
		else
			json_decref(sco);
		if (c->e == TIX_OK)
			c->e = fmt_bundle_add(&c->b, od);
		else
			json_decref(od);
		if (c->e == TIX_OK)
			c->e = fmt_bundle_add(&c->b, rel);
		else
			json_decref(rel);
	}
	tix_buf_release(&pat);
}

static enum tix_err open_conv(struct text_conv *c, const char *source,
                              const struct formats_text_opts *o, struct tix_buf *out,
                              struct formats_log *log)
{
	c->o = o;
	c->log = log;
	c->source = source;
	c->creator[0] = '\0';
	c->e = fmt_bundle_open(&c->b, out);
	if (c->e == TIX_OK && o->source_name && *o->source_name) {
		json_t *idn = json_object();
		char name[300];

		snprintf(name, sizeof(name), "source %s", o->source_name);
		fmt_id5("identity", name, c->creator, sizeof(c->creator));
		/* one fixed version: the same source names the same identity */
		common(idn, "identity", c->creator, NULL, "1970-01-01T00:00:00.000Z",
		       STIX_TLP_UNSET);
		json_object_set_new(idn, "name", json_string(o->source_name));
		json_object_set_new(idn, "identity_class", json_string("organization"));
		c->e = fmt_bundle_add(&c->b, idn);
	}
	return c->e;
}

static enum tix_err close_conv(struct text_conv *c, size_t *count, struct tix_error *err)
{
	if (c->e == TIX_OK)
		c->e = fmt_bundle_close(&c->b);
	if (c->e != TIX_OK)
		return tix_error_set(err, c->e, c->source, "out of memory writing the STIX bundle");
	*count = c->b.count;
	return TIX_OK;
}

/* 1 when s[0..n) is valid UTF-8. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		i += k + 1;
	}
	return 1;
}

static const char *skip_bom(const char *data, size_t *len)
{
	if (*len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		*len -= 3;
		return data + 3;
	}
	return data;
}

enum tix_err formats_list_to_stix(const char *data, size_t len, const char *source,
                                  const struct formats_text_opts *opts, struct tix_buf *out,
                                  size_t *count, struct formats_log *log, struct tix_error *err)
{
	struct text_conv c;
	const char *p, *end;
	size_t line = 0;
	char buf[4096];

	*count = 0;
	if (opts->type == FV_NONE)
		return tix_error_set(err, TIX_EUSAGE, source, "a list needs --type");
	p = skip_bom(data, &len);
	end = p + len;
	if (open_conv(&c, source, opts, out, log) != TIX_OK)
		return tix_error_set(err, TIX_ENOMEM, source, "out of memory");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct record r = {0};

		line++;
		if (n >= sizeof(buf)) {
			say_line(&c, 1, line, "line longer than 4095 bytes%s%s", "", "");
		} else if (!utf8_ok((const unsigned char *)p, n)) {
			say_line(&c, 1, line, "not UTF-8%s%s", "", "");
		} else if (memchr(p, '\0', n)) {
			say_line(&c, 1, line, "a NUL byte%s%s", "", "");
		} else {
			memcpy(buf, p, n);
			buf[n] = '\0';
			trim(buf);
			if (buf[0] != '\0' && buf[0] != '#') {
				r.value = buf;
				record(&c, line, &r);
			}
		}
		p = nl ? nl + 1 : end;
	}
	return close_conv(&c, count, err);
}

/* Reads one RFC 4180 record starting at *pp into fields (pointers into
 * buf). Returns the number of fields, 0 at the end, -1 on bad quoting
 * (with *why). *lines counts the line ends consumed. */
static int csv_record(const char **pp, const char *end, char delim, char *buf, size_t bufsize,
                      const char **fields, int max, size_t *lines, const char **why)
{
	const char *p = *pp;
	size_t o = 0;
	int nf = 0, bad = 0;

	if (p >= end)
		return 0;
	fields[nf++] = buf;
	for (;;) {
		if (p >= end || *p == '\n' || (*p == '\r' && (p + 1 >= end || p[1] == '\n'))) {
			if (p < end) {
				p += *p == '\r' && p + 1 < end ? 2 : 1;
				(*lines)++;
			}
			break;
		}
		if (*p == '"' && (o == 0 || buf[o - 1] == '\0') && (fields[nf - 1] == buf + o)) {
			/* a quoted field */
			p++;
			for (;;) {
				if (p >= end) {
					*why = "a quoted field is not closed";
					bad = 1;
					break;
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						if (o + 1 < bufsize)
							buf[o++] = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n')
					(*lines)++;
				if (o + 1 < bufsize)
					buf[o++] = *p;
				p++;
			}
			if (bad)
				break;
			if (p < end && *p != delim && *p != '\n' && *p != '\r') {
				*why = "text after the closing quote of a field";
				bad = 1;
				while (p < end && *p != '\n')
					p++;
				if (p < end) {
					p++;
					(*lines)++;
				}
				break;
			}
			continue;
		}
		if (*p == delim) {
			if (o + 1 < bufsize)
				buf[o++] = '\0';
			if (nf < max)
				fields[nf++] = buf + o;
			else {
				*why = "too many fields";
				bad = 1;
			}
			p++;
			continue;
		}
		if (*p == '"') {
			*why = "a quote inside an unquoted field (quote the field and double the quote)";
			bad = 1;
		}
		if (o + 1 < bufsize)
			buf[o++] = *p;
		p++;
	}
	buf[o < bufsize ? o : bufsize - 1] = '\0';
	*pp = p;
	if (o + 1 >= bufsize && !bad) {
		*why = "record longer than the limit";
		bad = 1;
	}
	return bad ? -1 : nf;
}

enum tix_err formats_csv_to_stix(const char *data, size_t len, const char *source,
                                 const struct formats_text_opts *opts, struct tix_buf *out,
                                 size_t *count, struct formats_log *log, struct tix_error *err)
{
	struct text_conv c;
	const char *p, *end, *fields[MAX_FIELDS];
	char *buf;
	size_t line = 1, bufsize = 1 << 16;
	int first = 1;
	const struct formats_csv_map *m = &opts->map;
	int maxcol = 0;

	*count = 0;
	if (m->value == 0)
		return tix_error_set(err, TIX_EUSAGE, source, "CSV needs --map value=N");
	maxcol = m->value;
	{
		const int cols[] = {m->type,        m->first_seen, m->last_seen,
		                    m->description, m->labels,     m->name};

		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			if (cols[i] > maxcol)
				maxcol = cols[i];
	}
	p = skip_bom(data, &len);
	end = p + len;
	if ((buf = malloc(bufsize)) == NULL)
		return tix_error_set(err, TIX_ENOMEM, source, "out of memory");
	if (open_conv(&c, source, opts, out, log) != TIX_OK) {
		free(buf);
		return tix_error_set(err, TIX_ENOMEM, source, "out of memory");
	}
	for (;;) {
		size_t start = line, lines = 0;
		const char *why = NULL, *rec = p;
		int nf = csv_record(&p, end, opts->delimiter ? opts->delimiter : ',', buf, bufsize,
		                    fields, MAX_FIELDS, &lines, &why);
		struct record r = {0};

		line += lines;
		if (nf == 0)
			break;
		if (!utf8_ok((const unsigned char *)rec, (size_t)(p - rec))) {
			say_line(&c, 1, start, "not UTF-8 (re-encode the file as UTF-8)%s%s", "",
			         "");
			first = 0;
			continue;
		}
		if (nf < 0) {
			say_line(&c, 1, start, "%s%s", why, "");
			first = 0;
			continue;
		}
		if (first && opts->header) {
			first = 0;
			continue;
		}
		first = 0;
		if (nf == 1 && fields[0][0] == '\0')
			continue; /* a blank line */
		if (fields[0][0] == '#')
			continue;
		if (nf < maxcol) {
			char got[16], want[16];

			snprintf(got, sizeof(got), "%d", nf);
			snprintf(want, sizeof(want), "%d", maxcol);
			say_line(&c, 1, start, "%s columns, the map needs %s", got, want);
			continue;
		}
		r.value = fields[m->value - 1];
		r.type = m->type ? fields[m->type - 1] : NULL;
		r.first_seen = m->first_seen ? fields[m->first_seen - 1] : NULL;
		r.last_seen = m->last_seen ? fields[m->last_seen - 1] : NULL;
		r.description = m->description ? fields[m->description - 1] : NULL;
		r.labels = m->labels ? fields[m->labels - 1] : NULL;
		r.name = m->name ? fields[m->name - 1] : NULL;
		record(&c, start, &r);
	}
	free(buf);
	return close_conv(&c, count, err);
}

/* ---- the reader, for other row shapes (formats.h) -------------------------- */

int formats_csv_record(const char **pp, const char *end, char delim, char *buf, size_t bufsize,
                       const char **fields, int max, size_t *lines, const char **why)
{
	return csv_record(pp, end, delim, buf, bufsize, fields, max, lines, why);
}

int formats_utf8_ok(const void *s, size_t n)
{
	return utf8_ok(s, n);
}

const char *formats_skip_bom(const char *data, size_t *len)
{
	return skip_bom(data, len);
}

int formats_parse_when(const char *s, int64_t *sec)
{
	return fmt_parse_when(s, sec);
}
