/*
 * formats/suricata.c — Suricata rules: one rule per indicator value and
 * protocol Suricata can inspect (DNS query, TLS SNI, HTTP host and URI, IP),
 * with a sid derived from the indicator id and the value (stable across
 * refreshes), rev from the version and the id and TLP in metadata; and
 * Suricata datasets (rules that load data files, and the files).
 */
#include <stdio.h>
#include <string.h>

#include "formats/feed_int.h"

#define SID_BASE  1000000000u
#define SID_RANGE 3000000000u

/* A sid for (indicator, rule kind, value), unique in this feed: on a
 * collision the next free one (in feed order, so stable while the order is). */
static unsigned sid_of(struct formats_feed *f, const char *id, const char *kind, const char *v)
{
	uint64_t h = values_seen_hash(id, kind, v);
	unsigned sid = SID_BASE + (unsigned)(h % SID_RANGE);
	int r;

	if (f->sids == NULL && (f->sids = values_seen_new(0)) == NULL) {
		f->failed = 1;
		return sid;
	}
	while ((r = values_seen_add(f->sids, sid)) == 0)
		sid = sid + 1 >= SID_BASE + SID_RANGE ? SID_BASE : sid + 1;
	if (r < 0)
		f->failed = 1;
	return sid;
}

/* msg text: letters, digits and a few safe marks; anything else '_'. */
static int msg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(" -_.:/@+()[]=,#*", c));
}

static void msg_text(struct formats_feed *f, const char *s, size_t max)
{
	size_t i = 0;

	while (i < max && s[i]) {
		size_t run = 0;

		while (i + run < max && s[i + run] && msg_char(s[i + run]))
			run++;
		feed_put(f, 0, s + i, run);
		i += run;
		if (i < max && s[i]) {
			feed_put(f, 0, "_", 1);
			i++;
		}
	}
}

static int content_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~/=&%?!$()*+,@[]", c));
}

/* content:"…": bytes other than letters, digits and -._~/=&%?!$()*+,@[] as
 * |xx| (so no quote, semicolon, backslash or pipe is ever written raw). */
static void content(struct formats_feed *f, const char *s, size_t n)
{
	char hx[8];

	feed_puts(f, 0, "content:\"");
	for (size_t i = 0; i < n;) {
		size_t run = 0;

		while (i + run < n && content_char((unsigned char)s[i + run]))
			run++;
		feed_put(f, 0, s + i, run);
		i += run;
		if (i < n) {
			snprintf(hx, sizeof(hx), "|%02x|", (unsigned char)s[i]);
			feed_put(f, 0, hx, 4);
			i++;
		}
	}
	feed_puts(f, 0, "\"; ");
}

static void head(struct formats_feed *f, const char *proto_dir, const struct feed_indicator *ind,
                 const char *what, const char *value)
{
	feed_printf(f, 0, "alert %s (msg:\"", proto_dir);
	msg_text(f, f->o.source, 32);
	feed_puts(f, 0, " ");
	msg_text(f, what, 32);
	feed_puts(f, 0, " ");
	msg_text(f, value, 200);
	if (*ind->name) {
		feed_puts(f, 0, " - ");
		msg_text(f, ind->name, 120);
	}
	feed_puts(f, 0, "\"; ");
}

static void tail(struct formats_feed *f, const struct feed_indicator *ind, const char *kind,
                 const char *value)
{
	feed_printf(f, 0, "metadata:tix_id %s", ind->id);
	if (*ind->tlp)
		feed_printf(f, 0, ", tlp %s", ind->tlp);
	if (ind->sightings > 0) { /* the reader's aggregate; no ',' or ';' in the values */
		char first[32], last[32];

		feed_seen_times(ind, 0, first, last);
		feed_printf(f, 0, ", tix_sightings %lld, tix_first_seen %s, tix_last_seen %s",
		            (long long)ind->sightings, first, last);
	}
	feed_printf(f, 0, "; sid:%u; rev:%lld;)\n", sid_of(f, ind->id, kind, value),
	            (long long)(ind->modified_s > 0 ? ind->modified_s : 1));
}

static void name_rule(struct formats_feed *f, const struct feed_indicator *ind,
                      const struct feed_value *v, const char *proto, const char *buffer)
{
	char pd[64];

	snprintf(pd, sizeof(pd), "%s $HOME_NET any -> any any", proto);
	head(f, pd, ind, buffer, v->text);
	feed_printf(f, 0, "%s; ", buffer);
	if (v->kind == FK_SUBDOMAINS) {
		char dot[600];

		snprintf(dot, sizeof(dot), ".%s", v->text);
		feed_puts(f, 0, "dotprefix; ");
		content(f, dot, strlen(dot));
		feed_puts(f, 0, "endswith; nocase; ");
	} else {
		content(f, v->text, v->len);
		feed_printf(f, 0, "nocase; bsize:%zu; ", v->len);
	}
	tail(f, ind, buffer, v->kind == FK_SUBDOMAINS ? "" : v->text);
}

static int suricata_value(struct formats_feed *f, const struct feed_indicator *ind,
                          const struct feed_value *v, const char **detail)
{
	char pd[128];

	switch (v->kind) {
	case FK_DOMAIN:
	case FK_SUBDOMAINS:
		if (feed_repeat_here(f, v))
			return FR_DUPLICATE;
		name_rule(f, ind, v, "dns", "dns.query");
		name_rule(f, ind, v, "tls", "tls.sni");
		f->st.entries++; /* two rules */
		return 0;
	case FK_IPV4:
	case FK_IPV6:
		if (feed_repeat_here(f, v))
			return FR_DUPLICATE;
		snprintf(pd, sizeof(pd), "ip $HOME_NET any <> %s%s%s any",
		         v->kind == FK_IPV6 ? "[" : "", v->text, v->kind == FK_IPV6 ? "]" : "");
		head(f, pd, ind, "traffic with", v->text);
		tail(f, ind, "ip", v->text);
		return 0;
	case FK_URL:
		if (!v->http) {
			*detail = "Suricata sees only http:// URLs in clear (use the domain)";
			return FR_KIND;
		}
		if (feed_repeat_here(f, v))
			return FR_DUPLICATE;
		head(f, "http $HOME_NET any -> any any", ind, "http request for", v->text);
		feed_puts(f, 0, "flow:established,to_server; http.host; ");
		content(f, v->text + v->host, v->host_len);
		feed_printf(f, 0, "nocase; bsize:%zu; http.uri; ", v->host_len);
		content(f, v->text + v->path, v->path_len);
		feed_printf(f, 0, "bsize:%zu; ", v->path_len);
		tail(f, ind, "http", v->text);
		return 0;
	case FK_EMAIL: *detail = "no Suricata rule for e-mail addresses"; return FR_KIND;
	default:
		*detail = "file hashes go in the filemd5/filesha256 lists of suricata-dataset";
		return FR_KIND;
	}
}

static enum tix_err suricata_begin(struct formats_feed *f)
{
	feed_puts(f, 0,
	          "# Suricata rules written by tix; sids are derived from the indicator ids\n");
	return TIX_OK;
}

const struct feed_writer feed_suricata_writer = {suricata_begin, suricata_value, NULL, NULL};

/* ---- datasets ------------------------------------------------------------------- */

enum { DS_RULES, DS_DOMAINS, DS_IPV4, DS_IPV6, DS_MD5, DS_SHA1, DS_SHA256, DS_N };

static void base64(struct formats_feed *f, size_t stream, const char *s, size_t n)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned b0 = (unsigned char)s[i], b1 = i + 1 < n ? (unsigned char)s[i + 1] : 0,
		         b2 = i + 2 < n ? (unsigned char)s[i + 2] : 0;

		out[0] = tab[b0 >> 2];
		out[1] = tab[(b0 & 3) << 4 | b1 >> 4];
		out[2] = i + 1 < n ? tab[(b1 & 15) << 2 | b2 >> 6] : '=';
		out[3] = i + 2 < n ? tab[b2 & 63] : '=';
		feed_put(f, stream, out, 4);
	}
}

static enum tix_err dataset_begin(struct formats_feed *f)
{
	static const char *const suffix[DS_N] = {"",    "domains", "ipv4",  "ipv6",
	                                         "md5", "sha1",    "sha256"};
	const char *t = f->o.set_name;
	static const struct {
		const char *proto_dir, *buffer, *what;
		int ds;
		const char *type;
	} rules[] = {
	        {"dns $HOME_NET any -> any any", "dns.query", "DNS query for a listed domain",
	         DS_DOMAINS, "string"},
	        {"tls $HOME_NET any -> any any", "tls.sni", "TLS SNI of a listed domain",
	         DS_DOMAINS, "string"},
	        {"http $HOME_NET any -> any any", "http.host", "HTTP host of a listed domain",
	         DS_DOMAINS, "string"},
	        {"ip $HOME_NET any -> any any", "ip.dst", "traffic to a listed IPv4 address",
	         DS_IPV4, "ipv4"},
	        {"ip any any -> $HOME_NET any", "ip.src", "traffic from a listed IPv4 address",
	         DS_IPV4, "ipv4"},
	        {"ip $HOME_NET any -> any any", "ip.dst", "traffic to a listed IPv6 address",
	         DS_IPV6, "ipv6"},
	        {"ip any any -> $HOME_NET any", "ip.src", "traffic from a listed IPv6 address",
	         DS_IPV6, "ipv6"},
	};
	static const struct {
		const char *keyword, *what;
		int ds;
	} files[] = {
	        {"filemd5", "file with a listed MD5", DS_MD5},
	        {"filesha1", "file with a listed SHA-1", DS_SHA1},
	        {"filesha256", "file with a listed SHA-256", DS_SHA256},
	};
	size_t i;

	for (i = 1; i < DS_N; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), "%s-%s.lst", t, suffix[i]);
		feed_stream(f, i, f->names[i]);
	}
	feed_printf(f, 0,
	            "# Suricata dataset rules written by tix; the data files beside them:\n"
	            "# %s, %s, %s (datasets), %s, %s, %s (file hash lists)\n",
	            f->names[DS_DOMAINS], f->names[DS_IPV4], f->names[DS_IPV6], f->names[DS_MD5],
	            f->names[DS_SHA1], f->names[DS_SHA256]);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char set[64];

		snprintf(set, sizeof(set), "%s-%s", t, suffix[rules[i].ds]);
		feed_printf(f, 0,
		            "alert %s (msg:\"%s %s\"; %s; dataset:isset,%s,type %s,load %s; "
		            "metadata:tix_feed %s; sid:%u; rev:1;)\n",
		            rules[i].proto_dir, t, rules[i].what, rules[i].buffer, set,
		            rules[i].type, f->names[rules[i].ds], t,
		            SID_BASE + (unsigned)(values_seen_hash(t, "dataset", rules[i].what) %
		                                  SID_RANGE));
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		feed_printf(f, 0,
		            "alert http any any -> any any (msg:\"%s %s\"; %s:%s; "
		            "metadata:tix_feed %s; sid:%u; rev:1;)\n",
		            t, files[i].what, files[i].keyword, f->names[files[i].ds], t,
		            SID_BASE + (unsigned)(values_seen_hash(t, "dataset", files[i].what) %
		                                  SID_RANGE));
	return TIX_OK;
}

static int dataset_value(struct formats_feed *f, const struct feed_indicator *ind,
                         const struct feed_value *v, const char **detail)
{
	int ds;

	(void)ind;
	switch (v->kind) {
	case FK_DOMAIN: ds = DS_DOMAINS; break;
	case FK_IPV4:
	case FK_IPV6:
		if (v->plen != (v->kind == FK_IPV4 ? 32u : 128u)) {
			*detail =
			        "datasets hold single addresses, not ranges (use suricata or nft)";
			return FR_KIND;
		}
		ds = v->kind == FK_IPV4 ? DS_IPV4 : DS_IPV6;
		break;
	case FK_MD5: ds = DS_MD5; break;
	case FK_SHA1: ds = DS_SHA1; break;
	case FK_SHA256: ds = DS_SHA256; break;
	case FK_SUBDOMAINS:
		*detail = "datasets match names exactly (use --format suricata)";
		return FR_KIND;
	default: *detail = "no Suricata dataset for this kind of value"; return FR_KIND;
	}
	if (feed_repeat(f, v, "dataset"))
		return FR_DUPLICATE;
	if (ds == DS_DOMAINS)
		base64(f, (size_t)ds, v->text, v->len);
	else
		feed_put(f, (size_t)ds, v->text, v->len);
	feed_put(f, (size_t)ds, "\n", 1);
	return 0;
}

const struct feed_writer feed_suricata_dataset_writer = {dataset_begin, dataset_value, NULL, NULL};
