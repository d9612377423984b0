/*
 * formats/feed.c — the core of the feed writers: which indicators are live
 * (not revoked, within valid_from/valid_until), which of their pattern's
 * comparisons a feed of values can carry (pattern atoms, values.h), and
 * the buffered streams the writers in suricata.c, zeek.c, rpz.c, nft.c and
 * lists.c fill. Pure: JSON text in, bytes to a sink out; no store.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats/feed_int.h"
#include "pattern/pattern.h"
#include "stix/raw.h"
#include "stix/stix.h"
#include "values/idna.h"
#include "values/values.h"

#define FLUSH_AT (16u * 1024u)

static const struct {
	const char *name, *media;
	const struct feed_writer *w;
} formats[FEED_NFORMATS] = {
        [FEED_SURICATA] = {"suricata", "text/plain; charset=utf-8", &feed_suricata_writer},
        [FEED_SURICATA_DATASET] = {"suricata-dataset", "text/plain; charset=utf-8",
                                   &feed_suricata_dataset_writer},
        [FEED_ZEEK] = {"zeek", "text/tab-separated-values; charset=utf-8", &feed_zeek_writer},
        [FEED_RPZ] = {"rpz", "text/dns", &feed_rpz_writer},
        [FEED_NFT] = {"nft", "text/plain; charset=utf-8", &feed_nft_writer},
        [FEED_IPSET] = {"ipset", "text/plain; charset=utf-8", &feed_ipset_writer},
        [FEED_HOSTS] = {"hosts", "text/plain; charset=utf-8", &feed_hosts_writer},
        [FEED_CSV] = {"csv", "text/csv; charset=utf-8; header=present", &feed_csv_writer},
        [FEED_LIST] = {"list", "text/plain; charset=utf-8", &feed_list_writer},
};

int formats_feed_parse(const char *name)
{
	for (int i = 0; i < FEED_NFORMATS; i++)
		if (name && strcmp(name, formats[i].name) == 0)
			return i;
	return -1;
}

const char *formats_feed_name(enum formats_feed_format f)
{
	return (unsigned)f < FEED_NFORMATS ? formats[f].name : "?";
}

const char *formats_feed_media_type(enum formats_feed_format f)
{
	return (unsigned)f < FEED_NFORMATS ? formats[f].media : "text/plain";
}

const char *formats_feed_reason_text(enum formats_feed_reason r)
{
	static const char *const text[FR_NREASONS] = {
	        [FR_NOT_INDICATOR] = "not an indicator",
	        [FR_REVOKED] = "revoked",
	        [FR_EXPIRED] = "expired (valid_until passed)",
	        [FR_NOT_YET] = "not yet valid (valid_from ahead)",
	        [FR_NOT_STIX] = "pattern_type is not stix",
	        [FR_BAD_PATTERN] = "pattern does not parse",
	        [FR_COMBINED] = "pattern combines comparisons (AND, FOLLOWEDBY or a qualifier)",
	        [FR_NEGATED] = "negated comparison (NOT)",
	        [FR_REGEX] = "regular expression (MATCHES)",
	        [FR_OPERATOR] = "comparison the format cannot express",
	        [FR_KIND] = "kind of value the format cannot carry",
	        [FR_BAD_VALUE] = "value refused (would break the format's syntax)",
	        [FR_WARNINGLIST] = "on a warninglist",
	        [FR_DUPLICATE] = "already written for another indicator",
	        [FR_DECAYED] = "expired by its decay score (tix expire)",
	        [FR_LOW_SCORE] = "decay score below --min-score",
	        [FR_SIGHTINGS] = "fewer sightings than --min-sightings",
	};
	return (unsigned)r < FR_NREASONS ? text[r] : "?";
}

const char *feed_kind_stix_type(enum feed_kind k)
{
	switch (k) {
	case FK_DOMAIN:
	case FK_SUBDOMAINS: return "domain-name";
	case FK_IPV4: return "ipv4-addr";
	case FK_IPV6: return "ipv6-addr";
	case FK_URL: return "url";
	case FK_EMAIL: return "email-addr";
	default: return "file";
	}
}

int formats_feed_carries_sightings(enum formats_feed_format format)
{
	return format == FEED_CSV || format == FEED_SURICATA || format == FEED_ZEEK;
}

void feed_seen_times(const struct feed_indicator *ind, int digits, char first[32], char last[32])
{
	struct tix_time t;

	*first = *last = '\0';
	if (ind->sightings <= 0)
		return;
	tix_time_from_us(ind->first_seen_us, &t);
	tix_time_format(&t, digits, first);
	tix_time_from_us(ind->last_seen_us, &t);
	tix_time_format(&t, digits, last);
}

const char *feed_kind_name(enum feed_kind k)
{
	static const char *const n[] = {"domain", "subdomains", "ipv4", "ipv6",   "url",
	                                "email",  "md5",        "sha1", "sha256", "sha512"};
	return n[k];
}

/* ---- output ------------------------------------------------------------------ */

static void flush_stream(struct formats_feed *f, size_t i)
{
	if (f->failed || (tix_buf_len(&f->out[i]) == 0 && !f->finishing))
		return;
	if (f->sink.write(f->sink.ctx, i ? f->stream_name[i] : NULL, tix_buf_str(&f->out[i]),
	                  tix_buf_len(&f->out[i])) != 0)
		f->failed = 1;
	tix_buf_reset(&f->out[i]);
}

void feed_stream(struct formats_feed *f, size_t i, const char *name)
{
	f->stream_name[i] = name;
	if (i + 1 > f->nstreams)
		f->nstreams = i + 1;
}

void feed_put(struct formats_feed *f, size_t stream, const char *s, size_t n)
{
	if (tix_buf_add(&f->out[stream], s, n) != TIX_OK)
		f->failed = 1;
	if (tix_buf_len(&f->out[stream]) >= FLUSH_AT)
		flush_stream(f, stream);
}

void feed_puts(struct formats_feed *f, size_t stream, const char *s)
{
	feed_put(f, stream, s, strlen(s));
}

void feed_printf(struct formats_feed *f, size_t stream, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tix_buf_vaddf(&f->out[stream], fmt, ap) != TIX_OK)
		f->failed = 1;
	va_end(ap);
	if (tix_buf_len(&f->out[stream]) >= FLUSH_AT)
		flush_stream(f, stream);
}

static int repeat_in(struct formats_feed *f, struct values_seen **set, const struct feed_value *v,
                     const char *salt)
{
	int r;

	if (*set == NULL && (*set = values_seen_new(0)) == NULL) {
		f->failed = 1;
		return 0;
	}
	r = values_seen_add(*set, values_seen_hash(feed_kind_name(v->kind), v->text, salt));
	if (r < 0)
		f->failed = 1;
	return r == 0;
}

int feed_repeat(struct formats_feed *f, const struct feed_value *v, const char *salt)
{
	return repeat_in(f, &f->seen, v, salt);
}

int feed_repeat_here(struct formats_feed *f, const struct feed_value *v)
{
	return repeat_in(f, &f->mine, v, NULL);
}

/* ---- options ---------------------------------------------------------------- */

static int name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || (i > 0 && s[i] == '-')))
			return 0;
	return 1;
}

int formats_feed_check_opts(const struct formats_feed_opts *o, char *msg, size_t msgsize)
{
	char buf[256];

	if (o->zone) {
		size_t n = strlen(o->zone);

		if (n >= sizeof(buf) || values_norm_domain(o->zone, n, buf) < 0) {
			snprintf(msg, msgsize, "--zone '%s' is not a domain name", o->zone);
			return -1;
		}
	}
	if (o->policy) {
		static const char *const known[] = {"nxdomain", "nodata", "passthru", "drop",
		                                    "tcp-only"};
		int ok = 0;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(o->policy, known[i]) == 0;
		if (strncmp(o->policy, "cname:", 6) == 0 && strlen(o->policy + 6) < sizeof(buf))
			ok = values_norm_domain(o->policy + 6, strlen(o->policy + 6), buf) > 0;
		if (!ok) {
			snprintf(msg, msgsize,
			         "--rpz-policy '%s': nxdomain, nodata, passthru, drop, tcp-only or "
			         "cname:DOMAIN",
			         o->policy);
			return -1;
		}
	}
	if (o->address) {
		unsigned char a[16];
		unsigned plen;

		if (strchr(o->address, '/') ||
		    values_parse_cidr(o->address, strlen(o->address), a, &plen) < 0) {
			snprintf(msg, msgsize, "--address '%s' is not an IP address", o->address);
			return -1;
		}
	}
	if (o->set_name && !name_ok(o->set_name, 24)) {
		snprintf(msg, msgsize,
		         "--set-name '%s': 1 to 24 letters, digits, '_' or '-' (not first)",
		         o->set_name);
		return -1;
	}
	if (o->source && strlen(o->source) > 128) {
		snprintf(msg, msgsize, "--source: at most 128 bytes");
		return -1;
	}
	return 0;
}

struct formats_feed *formats_feed_new(const struct formats_feed_opts *o,
                                      const struct formats_feed_sink *sink, struct tix_error *err)
{
	struct formats_feed *f;
	char msg[256];

	if ((unsigned)o->format >= FEED_NFORMATS || formats_feed_check_opts(o, msg, sizeof(msg))) {
		tix_error_set(err, TIX_EUSAGE, "feed", "%s",
		              (unsigned)o->format >= FEED_NFORMATS ? "unknown format" : msg);
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		tix_error_set(err, TIX_ENOMEM, "feed", "out of memory");
		return NULL;
	}
	f->o = *o;
	if (f->o.zone == NULL)
		f->o.zone = "rpz.tix.";
	if (f->o.policy == NULL)
		f->o.policy = "nxdomain";
	if (f->o.address == NULL)
		f->o.address = "0.0.0.0";
	if (f->o.set_name == NULL)
		f->o.set_name = "tix";
	if (f->o.source == NULL)
		f->o.source = "tix";
	f->sink = *sink;
	f->w = formats[o->format].w;
	f->nstreams = 1;
	for (size_t i = 0; i < FEED_MAX_STREAMS; i++)
		tix_buf_init(&f->out[i], TIX_BUF_UNLIMITED);
	for (size_t i = 0; i < 2; i++)
		tix_buf_init(&f->batch[i], TIX_BUF_UNLIMITED);
	tix_buf_init(&f->arena, TIX_BUF_UNLIMITED);
	if (f->w->begin && f->w->begin(f) != TIX_OK)
		f->failed = 1;
	return f;
}

void formats_feed_free(struct formats_feed *f)
{
	if (f == NULL)
		return;
	if (f->w->release)
		f->w->release(f);
	for (size_t i = 0; i < FEED_MAX_STREAMS; i++)
		tix_buf_release(&f->out[i]);
	for (size_t i = 0; i < 2; i++)
		tix_buf_release(&f->batch[i]);
	tix_buf_release(&f->arena);
	values_seen_free(f->seen);
	values_seen_free(f->sids);
	values_seen_free(f->mine);
	free(f);
}

const struct formats_feed_stats *formats_feed_get_stats(const struct formats_feed *f)
{
	return &f->st;
}

enum tix_err formats_feed_finish(struct formats_feed *f, struct tix_error *err)
{
	if (f->w->end && f->w->end(f) != TIX_OK)
		f->failed = 1;
	/* nothing more is written: the no-repeat sets go before the caller
	 * writes its audit entry, so the two never add up */
	values_seen_free(f->seen);
	values_seen_free(f->sids);
	values_seen_free(f->mine);
	f->seen = f->sids = f->mine = NULL;
	f->finishing = 1; /* every file of the feed is written, even empty */
	for (size_t i = 0; i < f->nstreams; i++)
		flush_stream(f, i);
	if (f->failed) {
		tix_error_set(err, TIX_EIO, "feed", "writing the feed failed");
		return TIX_EIO;
	}
	return TIX_OK;
}

/* ---- indicators --------------------------------------------------------------- */

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void left_out(struct formats_feed *f, const char *id, enum formats_feed_reason r,
                     const char *detail)
{
	f->st.values[r]++;
	if (f->o.report)
		f->o.report(f->o.report_ctx, id, r, detail ? detail : "");
}

/* valid_from / valid_until against now; notes the next boundary. */
static int64_t time_us(const char *s)
{
	struct tix_time t;
	struct tix_error e;

	if (*s == '\0' || tix_time_parse(s, &t, &e) != TIX_OK)
		return 0;
	return tix_time_to_us(&t);
}

static void note_change(struct formats_feed *f, int64_t at)
{
	if (at > f->o.now_us && (f->st.next_change_us == 0 || at < f->st.next_change_us))
		f->st.next_change_us = at;
}

/* A URL as feed_value: printable ASCII only (no space, quote, backslash,
 * '<', '>', '`', '{', '}', '|', '^'), host and path located. */
static int url_value(const char *s, size_t n, struct feed_value *v, char *buf, size_t cap)
{
	int len = values_norm_url(s, n, buf, cap);
	const char *h, *p;

	if (len <= 0)
		return -1;
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"'\\<>`{}|^;", c))
			return -1;
	}
	h = strstr(buf, "://") + 3;
	if (memchr(h, '@', strcspn(h, "/?")))
		h = (const char *)memchr(h, '@', strcspn(h, "/?")) + 1;
	p = h + strcspn(h, "/?");
	v->host = (size_t)(h - buf);
	v->host_len = strcspn(h, ":/?");
	v->path = (size_t)(p - buf);
	v->path_len = (size_t)len - v->path;
	v->http = strncmp(buf, "http://", 7) == 0;
	v->text = buf;
	v->len = (size_t)len;
	return 0;
}

static void cidr_text(struct feed_value *v, int fam, const unsigned char a[16], unsigned plen,
                      char *buf, size_t cap)
{
	unsigned char net[16] = {0};
	unsigned bits = fam == 4 ? 32 : 128;
	size_t o;

	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;

		net[i] = (unsigned char)(a[i] & (0xff00u >> keep));
	}
	memcpy(v->addr, net, 16);
	v->plen = plen;
	v->kind = fam == 4 ? FK_IPV4 : FK_IPV6;
	if (fam == 4)
		snprintf(buf, cap, "%u.%u.%u.%u", net[0], net[1], net[2], net[3]);
	else {
		/* RFC 5952: lowercase, the longest run of two or more zero groups as "::" */
		unsigned g[8];
		int best = -1, bestn = 0;

		for (int i = 0; i < 8; i++)
			g[i] = (unsigned)net[2 * i] << 8 | net[2 * i + 1];
		for (int i = 0; i < 8;) {
			int j = i;

			while (j < 8 && g[j] == 0)
				j++;
			if (j - i > bestn && j - i >= 2) {
				best = i;
				bestn = j - i;
			}
			i = j > i ? j : i + 1;
		}
		o = 0;
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				o += (size_t)snprintf(buf + o, cap - o, "::");
				i += bestn - 1;
				continue;
			}
			o += (size_t)snprintf(buf + o, cap - o, "%s%x",
			                      o && buf[o - 1] != ':' ? ":" : "", g[i]);
		}
	}
	o = strlen(buf);
	if (plen != bits)
		snprintf(buf + o, cap - o, "/%u", plen);
	v->text = buf;
	v->len = strlen(buf);
}

/* The value an atom stands for. Returns 0 with *v filled, or a reason. */
static int atom_value(const struct pattern_atom *a, struct feed_value *v, char *buf, size_t cap)
{
	unsigned char hb[64];
	int n;

	memset(v, 0, sizeof(*v));
	if (a->negated)
		return FR_NEGATED;
	if (a->op == PATTERN_OP_MATCHES)
		return FR_REGEX;
	if (!a->plain || a->kind != PATTERN_LIT_STRING || a->value == NULL)
		return FR_OPERATOR;
	if (strcmp(a->path, "value") == 0 && strcmp(a->object_type, "domain-name") == 0) {
		if (a->op == PATTERN_OP_EQ || a->op == PATTERN_OP_IN) {
			v->kind = FK_DOMAIN;
			n = values_domain_ascii(a->value, a->value_len, buf, cap);
		} else if (a->op == PATTERN_OP_LIKE && a->value_len > 2 &&
		           memcmp(a->value, "%.", 2) == 0 &&
		           !memchr(a->value + 2, '%', a->value_len - 2) &&
		           !memchr(a->value + 2, '_', a->value_len - 2)) {
			v->kind = FK_SUBDOMAINS;
			n = values_domain_ascii(a->value + 2, a->value_len - 2, buf, cap);
		} else {
			return FR_OPERATOR;
		}
		if (n <= 0)
			return FR_BAD_VALUE;
		v->text = buf;
		v->len = (size_t)n;
		return 0;
	}
	if (strcmp(a->path, "value") == 0 && (strcmp(a->object_type, "ipv4-addr") == 0 ||
	                                      strcmp(a->object_type, "ipv6-addr") == 0)) {
		unsigned char addr[16];
		unsigned plen;
		int fam;

		if (a->op != PATTERN_OP_EQ && a->op != PATTERN_OP_IN &&
		    a->op != PATTERN_OP_ISSUBSET)
			return FR_OPERATOR;
		fam = values_parse_cidr(a->value, a->value_len, addr, &plen);
		if (fam != (a->object_type[3] == '4' ? 4 : 6))
			return FR_BAD_VALUE;
		cidr_text(v, fam, addr, plen, buf, cap);
		return 0;
	}
	if (a->op != PATTERN_OP_EQ && a->op != PATTERN_OP_IN)
		return FR_OPERATOR;
	if (strcmp(a->path, "value") == 0 && strcmp(a->object_type, "url") == 0) {
		v->kind = FK_URL;
		return url_value(a->value, a->value_len, v, buf, cap) == 0 ? 0 : FR_BAD_VALUE;
	}
	if (strcmp(a->path, "value") == 0 && strcmp(a->object_type, "email-addr") == 0) {
		if (a->value_len >= cap ||
		    (n = values_norm_email(a->value, a->value_len, buf)) <= 0)
			return FR_BAD_VALUE;
		for (int i = 0; i < n; i++)
			if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f ||
			    strchr("\"'\\<>;,|", buf[i]))
				return FR_BAD_VALUE;
		buf[n] = '\0';
		v->kind = FK_EMAIL;
		v->text = buf;
		v->len = (size_t)n;
		return 0;
	}
	if ((strcmp(a->object_type, "file") == 0 || strcmp(a->object_type, "artifact") == 0) &&
	    strncmp(a->path, "hashes.", 7) == 0) {
		static const char hex[] = "0123456789abcdef";

		if ((n = values_hex_hash(a->value, a->value_len, hb)) <= 0)
			return FR_BAD_VALUE;
		v->kind = n == 16 ? FK_MD5 : n == 20 ? FK_SHA1 : n == 32 ? FK_SHA256 : FK_SHA512;
		for (int i = 0; i < n; i++) {
			buf[2 * i] = hex[hb[i] >> 4];
			buf[2 * i + 1] = hex[hb[i] & 15];
		}
		buf[2 * n] = '\0';
		v->text = buf;
		v->len = (size_t)n * 2;
		return 0;
	}
	return FR_KIND; /* a kind of observable no feed carries */
}

/* Writes one value (and, with --subdomains, the names below a domain). */
static void put_value(struct formats_feed *f, const struct feed_indicator *ind,
                      struct feed_value *v, int *wrote, int *last_reason)
{
	const char *detail = v->text, *wl;
	int r;

	if (f->o.exclude &&
	    (wl = f->o.exclude(f->o.exclude_ctx, feed_kind_stix_type(v->kind), v->text, v->len))) {
		char d[600];

		snprintf(d, sizeof(d), "%s %.400s: on warninglist '%.150s'",
		         feed_kind_name(v->kind), v->text, wl);
		left_out(f, ind->id, FR_WARNINGLIST, d);
		*last_reason = FR_WARNINGLIST;
		return;
	}
	r = f->w->value(f, ind, v, &detail);
	if (r == 0) {
		*wrote = 1;
		f->st.entries++;
	} else {
		char d[600];

		snprintf(d, sizeof(d), "%s %.400s: %s", feed_kind_name(v->kind), v->text,
		         detail && detail != v->text ? detail : formats_feed_reason_text(r));
		left_out(f, ind->id, (enum formats_feed_reason)r, d);
		*last_reason = r;
	}
	if (v->kind == FK_DOMAIN && f->o.subdomains) {
		struct feed_value sub = *v;

		sub.kind = FK_SUBDOMAINS;
		detail = sub.text;
		if (f->w->value(f, ind, &sub, &detail) == 0) {
			f->st.entries++;
			*wrote = 1;
		}
	}
}

static int64_t modified_seconds(const char *s)
{
	int64_t us = time_us(s);

	return us > 0 ? us / 1000000 : 0;
}

/* The fields of an indicator a feed needs, NUL-terminated ("" when absent). */
enum {
	K_ID,
	K_TYPE,
	K_PATTERN,
	K_PTYPE,
	K_PVER,
	K_NAME,
	K_DESC,
	K_MODIFIED,
	K_FROM,
	K_UNTIL,
	K_URL,
	NKEYS
};
#define MAX_MARKS 16

struct fields {
	const char *v[NKEYS];
	int revoked;
	const char *marks[MAX_MARKS];
	size_t nmarks;
};

static const char *const key_names[NKEYS] = {
        "id",   "type",        "pattern",  "pattern_type", "pattern_version",
        "name", "description", "modified", "valid_from",   "valid_until",
        NULL};

/* Reads the fields from the text without building a tree (stix_raw_fields),
 * copying them NUL-terminated into arena; 0 when the object is not plain
 * (or has external references, whose url only jansson reads here). */
static int raw_fields(const char *json, size_t len, struct tix_buf *arena, struct fields *fl)
{
	struct stix_raw_fields r;
	size_t used = stix_raw_fields(json, len, key_names, K_URL, &r), o = 0;
	char *out;

	memset(fl, 0, sizeof(*fl));
	if (used == 0 || r.external_references ||
	    stix_raw_ws(json + used, json + len) != json + len)
		return 0;
	tix_buf_reset(arena);
	if ((out = tix_buf_space(arena, len + NKEYS + MAX_MARKS + 1)) == NULL)
		return 0;
	out[o++] = '\0';
	for (int i = 0; i < NKEYS; i++) {
		if (i >= K_URL || r.v[i].s == NULL) {
			fl->v[i] = out; /* "" */
			continue;
		}
		memcpy(out + o, r.v[i].s, r.v[i].n);
		fl->v[i] = out + o;
		o += r.v[i].n;
		out[o++] = '\0';
	}
	for (size_t i = 0; i < r.nmarks && i < MAX_MARKS; i++) {
		memcpy(out + o, r.marks[i].s, r.marks[i].n);
		fl->marks[i] = out + o;
		o += r.marks[i].n;
		out[o++] = '\0';
	}
	fl->nmarks = r.nmarks < MAX_MARKS ? r.nmarks : MAX_MARKS;
	fl->revoked = r.revoked;
	tix_buf_commit(arena, o);
	return 1;
}

/* The same with jansson, for objects raw_fields does not take; the
 * strings live as long as obj. */
static void json_fields(const json_t *obj, struct fields *fl)
{
	const json_t *r, *ext;
	size_t i;

	memset(fl, 0, sizeof(*fl));
	for (int k = 0; k < NKEYS; k++)
		fl->v[k] = key_names[k] ? str_of(obj, key_names[k]) : "";
	fl->revoked = json_is_true(json_object_get(obj, "revoked"));
	json_array_foreach (json_object_get(obj, "external_references"), i, ext)
		if (*str_of(ext, "url")) {
			fl->v[K_URL] = str_of(ext, "url");
			break;
		}
	json_array_foreach (json_object_get(obj, "object_marking_refs"), i, r)
		if (json_is_string(r) && fl->nmarks < MAX_MARKS)
			fl->marks[fl->nmarks++] = json_string_value(r);
}

/* "indicator--" and a UUID's 36 characters: ids are written into rules
 * and records as they are. */
static int indicator_id_ok(const char *id)
{
	if (strlen(id) != 47 || strncmp(id, "indicator--", 11) != 0)
		return 0;
	for (size_t i = 11; i < 47; i++)
		if (!strchr("0123456789abcdefABCDEF-", id[i]))
			return 0;
	return 1;
}

void formats_feed_skip(struct formats_feed *f, const char *indicator_id,
                       enum formats_feed_reason why)
{
	f->st.indicators++;
	f->st.left_out++;
	left_out(f, indicator_id, why, NULL);
}

enum tix_err formats_feed_add(struct formats_feed *f, const char *json, size_t len,
                              struct tix_error *err)
{
	json_t *obj = NULL;
	struct fields fl;
	struct feed_indicator ind;
	struct pattern *p = NULL;
	struct pattern_atoms *atoms = NULL;
	const char *pattern, *id;
	int64_t from, until;
	int tlp = STIX_TLP_UNSET, wrote = 0;
	size_t i;
	struct tix_error perr;

	(void)err;
	f->st.indicators++;
	if (f->mine)
		values_seen_clear(f->mine);
	if (!raw_fields(json, len, &f->arena, &fl)) {
		if ((obj = json_loadb(json, len, 0, NULL)) == NULL) {
			left_out(f, "", FR_NOT_INDICATOR, "not JSON");
			goto out;
		}
		json_fields(obj, &fl);
	}
	id = fl.v[K_ID];
	pattern = fl.v[K_PATTERN];
	if (strcmp(fl.v[K_TYPE], "indicator") != 0 || !indicator_id_ok(id) || *pattern == '\0') {
		left_out(f, id, FR_NOT_INDICATOR, NULL);
		goto out;
	}
	if (fl.revoked) {
		left_out(f, id, FR_REVOKED, NULL);
		goto out;
	}
	from = time_us(fl.v[K_FROM]);
	until = time_us(fl.v[K_UNTIL]);
	note_change(f, from);
	note_change(f, until);
	if (until && until <= f->o.now_us) {
		left_out(f, id, FR_EXPIRED, fl.v[K_UNTIL]);
		goto out;
	}
	if (from > f->o.now_us) {
		left_out(f, id, FR_NOT_YET, fl.v[K_FROM]);
		goto out;
	}
	if (strcmp(fl.v[K_PTYPE], "stix") != 0) {
		left_out(f, id, FR_NOT_STIX, fl.v[K_PTYPE]);
		goto out;
	}
	p = pattern_parse(pattern, strlen(pattern), pattern_version_from_string(fl.v[K_PVER]),
	                  &perr);
	if (p == NULL || (atoms = pattern_atoms_extract(p, &perr)) == NULL) {
		left_out(f, id, FR_BAD_PATTERN, p ? "out of memory" : perr.msg);
		goto out;
	}
	if (!atoms->disjunctive) {
		left_out(f, id, FR_COMBINED, pattern);
		goto out;
	}
	memset(&ind, 0, sizeof(ind));
	ind.id = id;
	ind.name = fl.v[K_NAME];
	ind.description = fl.v[K_DESC];
	ind.modified = fl.v[K_MODIFIED];
	ind.valid_from = fl.v[K_FROM];
	ind.valid_until = fl.v[K_UNTIL];
	ind.modified_s = modified_seconds(ind.modified);
	ind.url = fl.v[K_URL];
	for (i = 0; i < fl.nmarks; i++) {
		int t = stix_tlp_of_marking(fl.marks[i]);

		if (t != STIX_TLP_UNSET && (tlp == STIX_TLP_UNSET || t > tlp))
			tlp = t;
	}
	ind.tlp = tlp == STIX_TLP_UNSET ? "" : stix_tlp_name(tlp);
	if (f->o.sightings && formats_feed_carries_sightings(f->o.format))
		f->o.sightings(f->o.sightings_ctx, id, &ind.sightings, &ind.first_seen_us,
		               &ind.last_seen_us);
	for (i = 0; i < atoms->count; i++) {
		struct feed_value v;
		int rr = atom_value(&atoms->atoms[i], &v, f->scratch, sizeof(f->scratch));
		int last_reason = 0;

		if (rr != 0) {
			char d[300];

			snprintf(d, sizeof(d), "%.60s:%.100s %s", atoms->atoms[i].object_type,
			         atoms->atoms[i].path, pattern_op_name(atoms->atoms[i].op));
			left_out(f, id, (enum formats_feed_reason)rr, d);
			continue;
		}
		put_value(f, &ind, &v, &wrote, &last_reason);
	}
out:
	if (wrote)
		f->st.written++;
	else
		f->st.left_out++;
	pattern_atoms_free(atoms);
	pattern_free(p);
	json_decref(obj);
	return f->failed ? TIX_EIO : TIX_OK;
}
