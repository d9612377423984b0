/*
 * route/feeds.c — report rows in IntelMQ's fields: the classification
 * vocabulary (taxonomy and type, as IntelMQ's harmonisation has it), the
 * per-feed column mappings (the shipped Shadowserver shapes are mappings
 * in the same text form an operator writes), and the reader that turns a
 * CSV row into a checked, normalised event.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "route/route.h"
#include "values/values.h"

/* ---- classification ------------------------------------------------------ */

static const struct {
	const char *type, *taxonomy;
} classes[] = {
        {"spam", "abusive-content"},
        {"harmful-speech", "abusive-content"},
        {"violence", "abusive-content"},
        {"infected-system", "malicious-code"},
        {"c2-server", "malicious-code"},
        {"malware-distribution", "malicious-code"},
        {"malware-configuration", "malicious-code"},
        {"scanner", "information-gathering"},
        {"sniffing", "information-gathering"},
        {"social-engineering", "information-gathering"},
        {"ids-alert", "intrusion-attempts"},
        {"brute-force", "intrusion-attempts"},
        {"exploit", "intrusion-attempts"},
        {"privileged-account-compromise", "intrusions"},
        {"unprivileged-account-compromise", "intrusions"},
        {"application-compromise", "intrusions"},
        {"system-compromise", "intrusions"},
        {"burglary", "intrusions"},
        {"ddos", "availability"},
        {"dos", "availability"},
        {"outage", "availability"},
        {"sabotage", "availability"},
        {"unauthorised-information-access", "information-content-security"},
        {"unauthorised-information-modification", "information-content-security"},
        {"data-loss", "information-content-security"},
        {"data-leak", "information-content-security"},
        {"unauthorized-use-of-resources", "fraud"},
        {"copyright", "fraud"},
        {"masquerade", "fraud"},
        {"phishing", "fraud"},
        {"weak-crypto", "vulnerable"},
        {"ddos-amplifier", "vulnerable"},
        {"potentially-unwanted-accessible", "vulnerable"},
        {"information-disclosure", "vulnerable"},
        {"vulnerable-system", "vulnerable"},
        {"other", "other"},
        {"undetermined", "other"},
        {"test", "test"},
};

#define NCLASSES    (sizeof(classes) / sizeof(classes[0]))
#define CLASS_SLOTS 128 /* a power of two, more than twice NCLASSES */

static unsigned class_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & (CLASS_SLOTS - 1);
}

/* The index of type in classes[], or -1: an open-addressing table of the
 * constant vocabulary, filled on first use (the same every time). */
static int class_index(const char *type)
{
	static signed char slots[CLASS_SLOTS];
	static int ready;

	if (!ready) {
		memset(slots, -1, sizeof(slots));
		for (size_t i = 0; i < NCLASSES; i++) {
			unsigned h = class_hash(classes[i].type);

			while (slots[h] >= 0)
				h = (h + 1) & (CLASS_SLOTS - 1);
			slots[h] = (signed char)i;
		}
		ready = 1;
	}
	for (unsigned h = class_hash(type); slots[h] >= 0; h = (h + 1) & (CLASS_SLOTS - 1))
		if (strcmp(classes[slots[h]].type, type) == 0)
			return slots[h];
	return -1;
}

static const char *taxonomy_of(const char *type)
{
	int i = class_index(type);

	return i < 0 ? NULL : classes[i].taxonomy;
}

/* ---- the fields routing reads -------------------------------------------- */

enum core {
	F_FEED,
	F_TAXONOMY,
	F_TYPE,
	F_IDENTIFIER,
	F_TSRC,
	F_TOBS,
	F_IP,
	F_FQDN,
	F_URL,
	F_ACCOUNT,
	F_ASN,
	F_PORT,
	F_NCORE
};

static const char *const core_names[F_NCORE] = {
        "feed.name",           "classification.taxonomy",
        "classification.type", "classification.identifier",
        "time.source",         "time.observation",
        "source.ip",           "source.fqdn",
        "source.url",          "source.account",
        "source.asn",          "source.port",
};

static int core_of(const char *field)
{
	for (int i = 0; i < F_NCORE; i++)
		if (strcmp(core_names[i], field) == 0)
			return i;
	return -1;
}

/* IntelMQ field names: lowercase letters, digits, '_' and '.'. */
static int field_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 120 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.'))
			return 0;
	return s[n - 1] != '.';
}

/* ---- mappings ------------------------------------------------------------- */

#define MAX_MAP 128

struct route_feed {
	size_t ncols, nsets;
	char *col_name[MAX_MAP], *col_field[MAX_MAP];
	char *set_field[MAX_MAP], *set_value[MAX_MAP];
};

void route_feed_free(struct route_feed *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->ncols; i++) {
		free(f->col_name[i]);
		free(f->col_field[i]);
	}
	for (size_t i = 0; i < f->nsets; i++) {
		free(f->set_field[i]);
		free(f->set_value[i]);
	}
	free(f);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* The next white-space separated word of [*p, end), or the rest of the
 * line when rest is set. */
static size_t word(const char **p, const char *end, const char **w, int rest)
{
	const char *q = *p;
	size_t n;

	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	*w = q;
	if (rest) {
		const char *e = end;

		while (e > q && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		*p = end;
		return (size_t)(e - q);
	}
	while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
		q++;
	n = (size_t)(q - *w);
	*p = q;
	return n;
}

struct route_feed *route_feed_parse(const char *text, size_t len, char *msg, size_t msgsize)
{
	struct route_feed *f = calloc(1, sizeof(*f));
	const char *p = text, *end = text + len;
	size_t line = 0;

	if (f == NULL) {
		snprintf(msg, msgsize, "out of memory");
		return NULL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *kw, *a, *b;
		size_t kn, an, bn;

		line++;
		for (const char *q = p; q < le; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t' && *q != '\r') || *q == 0x7f) {
				snprintf(msg, msgsize, "%zu: a control character", line);
				goto bad;
			}
		kn = word(&p, le, &kw, 0);
		if (kn == 0 || kw[0] == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		an = word(&p, le, &a, 0);
		if (kn == 6 && memcmp(kw, "column", 6) == 0) {
			bn = word(&p, le, &b, 0);
			const char *extra;
			size_t xn = word(&p, le, &extra, 1);

			if (an == 0 || an > 200 || bn == 0 || xn != 0) {
				snprintf(msg, msgsize, "%zu: 'column COLUMN FIELD'", line);
				goto bad;
			}
			if (!field_name_ok(b, bn)) {
				snprintf(msg, msgsize,
				         "%zu: '%.*s' is not an IntelMQ field name (lowercase, "
				         "digits, '_' and '.')",
				         line, (int)(bn > 80 ? 80 : bn), b);
				goto bad;
			}
			if (f->ncols == MAX_MAP) {
				snprintf(msg, msgsize, "%zu: more than %d columns", line, MAX_MAP);
				goto bad;
			}
			f->col_name[f->ncols] = dupn(a, an);
			f->col_field[f->ncols] = dupn(b, bn);
			if (!f->col_name[f->ncols] || !f->col_field[f->ncols]) {
				free(f->col_name[f->ncols]);
				free(f->col_field[f->ncols]);
				snprintf(msg, msgsize, "out of memory");
				goto bad;
			}
			f->ncols++;
		} else if (kn == 3 && memcmp(kw, "set", 3) == 0) {
			bn = word(&p, le, &b, 1);
			if (!field_name_ok(a, an) || bn == 0 || bn > 200) {
				snprintf(msg, msgsize,
				         "%zu: 'set FIELD VALUE' with an IntelMQ field", line);
				goto bad;
			}
			if (f->nsets == MAX_MAP) {
				snprintf(msg, msgsize, "%zu: more than %d fields set", line,
				         MAX_MAP);
				goto bad;
			}
			f->set_field[f->nsets] = dupn(a, an);
			f->set_value[f->nsets] = dupn(b, bn);
			if (!f->set_field[f->nsets] || !f->set_value[f->nsets]) {
				free(f->set_field[f->nsets]);
				free(f->set_value[f->nsets]);
				snprintf(msg, msgsize, "out of memory");
				goto bad;
			}
			if (strcmp(f->set_field[f->nsets], "classification.type") == 0 &&
			    taxonomy_of(f->set_value[f->nsets]) == NULL) {
				snprintf(msg, msgsize, "%zu: unknown classification.type '%.80s'",
				         line, f->set_value[f->nsets]);
				f->nsets++;
				goto bad;
			}
			f->nsets++;
		} else {
			snprintf(msg, msgsize,
			         "%zu: '%.*s': a line is 'column COLUMN FIELD' or "
			         "'set FIELD VALUE'",
			         line, (int)(kn > 40 ? 40 : kn), kw);
			goto bad;
		}
		p = nl ? nl + 1 : end;
	}
	return f;
bad:
	route_feed_free(f);
	return NULL;
}

/* The shipped mappings: Shadowserver's public column names to IntelMQ's
 * fields, with the classification IntelMQ's own parser gives each report. */
#define SS_HOST                                                                                    \
	"column timestamp time.source\n"                                                           \
	"column ip source.ip\n"                                                                    \
	"column port source.port\n"                                                                \
	"column protocol protocol.transport\n"                                                     \
	"column hostname source.reverse_dns\n"                                                     \
	"column asn source.asn\n"                                                                  \
	"column geo source.geolocation.cc\n"                                                       \
	"column region source.geolocation.region\n"                                                \
	"column city source.geolocation.city\n"                                                    \
	"column naics extra.naics\n"                                                               \
	"column sic extra.sic\n"                                                                   \
	"column sector extra.sector\n"                                                             \
	"column tag extra.tag\n"                                                                   \
	"set feed.provider Shadowserver\n"

static const struct {
	const char *name, *text;
} shipped[] = {
        {"shadowserver-scan-http",
         SS_HOST "column http extra.http\ncolumn http_code extra.http_code\n"
                 "column http_reason extra.http_reason\ncolumn content_type extra.content_type\n"
                 "column server extra.server\n"
                 "set classification.type vulnerable-system\n"
                 "set classification.identifier accessible-http\n"},
        {"shadowserver-scan-ntp",
         SS_HOST "column version extra.ntp_version\ncolumn stratum extra.stratum\n"
                 "set classification.type vulnerable-system\n"
                 "set classification.identifier ntp-version\n"},
        {"shadowserver-scan-dns", SS_HOST "column dns_version extra.dns_version\n"
                                          "set classification.type vulnerable-system\n"
                                          "set classification.identifier open-dns\n"},
        {"shadowserver-scan-rdp", SS_HOST "column rdp_protocol extra.rdp_protocol\n"
                                          "set classification.type vulnerable-system\n"
                                          "set classification.identifier accessible-rdp\n"},
        {"shadowserver-scan-snmp",
         SS_HOST "column sysdesc extra.sysdesc\ncolumn sysname extra.sysname\n"
                 "set classification.type vulnerable-system\n"
                 "set classification.identifier open-snmp\n"},
        {"shadowserver-event4-sinkhole",
         "column timestamp time.source\n"
         "column protocol protocol.transport\n"
         "column src_ip source.ip\ncolumn src_port source.port\ncolumn src_asn source.asn\n"
         "column src_geo source.geolocation.cc\ncolumn src_region source.geolocation.region\n"
         "column src_city source.geolocation.city\ncolumn src_hostname source.reverse_dns\n"
         "column dst_ip destination.ip\ncolumn dst_port destination.port\n"
         "column dst_asn destination.asn\ncolumn dst_geo destination.geolocation.cc\n"
         "column infection malware.name\ncolumn family extra.malware_family\n"
         "column tag extra.tag\ncolumn http_url destination.urlpath\n"
         "column http_host destination.fqdn\ncolumn http_agent user_agent\n"
         "set feed.provider Shadowserver\n"
         "set classification.type infected-system\n"
         "set classification.identifier sinkhole\n"},
        {"shadowserver-compromised-website",
         SS_HOST "column http_host source.fqdn\ncolumn application extra.application\n"
                 "column category extra.category\ncolumn system extra.system\n"
                 "column detected_since extra.detected_since\n"
                 "column redirect_target extra.redirect_target\n"
                 "set classification.type system-compromise\n"
                 "set classification.identifier compromised-website\n"},
};

#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))

const char *const *route_feed_names(void)
{
	static const char *names[NSHIPPED + 1];

	for (size_t i = 0; i < NSHIPPED; i++)
		names[i] = shipped[i].name;
	names[NSHIPPED] = NULL;
	return names;
}

const struct route_feed *route_feed_shipped(const char *name)
{
	static struct route_feed *parsed[NSHIPPED];

	for (size_t i = 0; i < NSHIPPED; i++)
		if (strcmp(shipped[i].name, name) == 0) {
			if (parsed[i] == NULL) {
				char msg[200];

				parsed[i] = route_feed_parse(
				        shipped[i].text, strlen(shipped[i].text), msg, sizeof(msg));
			}
			return parsed[i];
		}
	return NULL;
}

/* ---- the reader ------------------------------------------------------------ */

struct route_reader {
	char *feed_name;
	int ncols;
	int *core;    /* per column: enum core, or -1 */
	char **names; /* per column: the field (or column) name */
	const struct route_feed *feed;
	int set_core[MAX_MAP];
	/* per row */
	const char **xnames, **xvalues;
	char ip[INET6_ADDRSTRLEN], fqdn[254], *url;
	size_t urlcap;
	const char *const *last_fields; /* the row last read, for its key */
	int last_n;
	struct tix_buf name;
};

void route_reader_free(struct route_reader *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	free(r->core);
	free(r->xnames);
	free(r->xvalues);
	free(r->url);
	free(r->feed_name);
	tix_buf_release(&r->name);
	free(r);
}

struct route_reader *route_reader_open(const struct route_feed *feed, const char *feed_name,
                                       const char *const *fields, int n, char *msg, size_t msgsize)
{
	struct route_reader *r = calloc(1, sizeof(*r));
	int have[F_NCORE] = {0};
	size_t nx = (size_t)n + (feed ? feed->nsets : 0) + 1;

	if (r == NULL)
		goto oom;
	tix_buf_init(&r->name, 1 << 20);
	r->feed = feed;
	r->ncols = n;
	r->urlcap = 8192;
	r->core = calloc((size_t)n + 1, sizeof(int));
	r->names = calloc((size_t)n + 1, sizeof(char *));
	r->xnames = calloc(nx, sizeof(char *));
	r->xvalues = calloc(nx, sizeof(char *));
	r->url = malloc(r->urlcap);
	r->feed_name = strdup(feed_name);
	if (!r->core || !r->names || !r->xnames || !r->xvalues || !r->url || !r->feed_name)
		goto oom;
	for (int i = 0; i < n; i++) {
		const char *name = fields[i];
		size_t k;

		while (*name == ' ')
			name++;
		for (k = 0; feed && k < feed->ncols; k++)
			if (strcmp(feed->col_name[k], name) == 0) {
				name = feed->col_field[k];
				break;
			}
		if ((r->names[i] = strdup(name)) == NULL)
			goto oom;
		{
			size_t l = strlen(r->names[i]);

			while (l > 0 && (r->names[i][l - 1] == ' ' || r->names[i][l - 1] == '\r'))
				r->names[i][--l] = '\0';
		}
		r->core[i] = core_of(r->names[i]);
		if (r->core[i] >= 0) {
			if (have[r->core[i]]) {
				snprintf(msg, msgsize, "the header names %s twice (columns)",
				         core_names[r->core[i]]);
				route_reader_free(r);
				return NULL;
			}
			have[r->core[i]] = 1;
		}
	}
	for (size_t k = 0; feed && k < feed->nsets; k++) {
		r->set_core[k] = core_of(feed->set_field[k]);
		if (r->set_core[k] >= 0)
			have[r->set_core[k]] = 1;
	}
	if (!have[F_TSRC]) {
		snprintf(msg, msgsize,
		         "no time.source column (name the columns with IntelMQ's fields, or give "
		         "the feed's mapping)");
		route_reader_free(r);
		return NULL;
	}
	if (!have[F_IP] && !have[F_FQDN] && !have[F_URL] && !have[F_ACCOUNT]) {
		snprintf(msg, msgsize,
		         "no source.ip, source.fqdn, source.url or source.account column: nothing "
		         "to route by");
		route_reader_free(r);
		return NULL;
	}
	if (!have[F_TYPE]) {
		snprintf(msg, msgsize, "no classification.type column (and the feed sets none)");
		route_reader_free(r);
		return NULL;
	}
	return r;
oom:
	snprintf(msg, msgsize, "out of memory");
	route_reader_free(r);
	return NULL;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The host of a normalised URL (scheme://[user@]host[:port]/...): into
 * out (size bytes), brackets of an IPv6 literal removed. */
static int url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://"), *e, *at;
	size_t n;

	if (h == NULL)
		return -1;
	h += 3;
	e = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(e - h));
	if (at)
		h = at + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			return -1;
		h++;
		e = rb;
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));

		if (colon)
			e = colon;
	}
	n = (size_t)(e - h);
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, h, n);
	out[n] = '\0';
	return (int)n;
}

static int set_ip(struct route_reader *r, struct route_event *ev, const char *v)
{
	uint32_t a4;
	size_t n = strlen(v);

	if (values_parse_ip4(v, n, &a4) == 0) {
		ev->family = 4;
		memset(ev->addr, 0, 16);
		ev->addr[0] = (unsigned char)(a4 >> 24);
		ev->addr[1] = (unsigned char)(a4 >> 16);
		ev->addr[2] = (unsigned char)(a4 >> 8);
		ev->addr[3] = (unsigned char)a4;
	} else if (values_parse_ip6(v, n, ev->addr) == 0) {
		ev->family = 6;
	} else {
		return -1;
	}
	inet_ntop(ev->family == 4 ? AF_INET : AF_INET6, ev->addr, r->ip, sizeof(r->ip));
	ev->ip = r->ip;
	return 0;
}

int route_reader_row(struct route_reader *r, const char *const *fields, int n, int64_t now_us,
                     struct route_event *ev, char *why, size_t whysize)
{
	const char *core[F_NCORE] = {0};
	size_t nx = 0;
	int64_t sec;
	memset(ev, 0, sizeof(*ev));
	ev->port = -1;
	if (n != r->ncols) {
		snprintf(why, whysize, "%d columns, the header has %d", n, r->ncols);
		return -1;
	}
	for (size_t k = 0; r->feed && k < r->feed->nsets; k++) {
		if (r->set_core[k] >= 0)
			core[r->set_core[k]] = r->feed->set_value[k];
		else {
			r->xnames[nx] = r->feed->set_field[k];
			r->xvalues[nx++] = r->feed->set_value[k];
		}
	}
	for (int i = 0; i < n; i++) {
		const char *v = fields[i];

		if (*v == '\0')
			continue;
		if (r->core[i] >= 0) {
			if (has_control(v)) {
				snprintf(why, whysize, "%s: a control character", r->names[i]);
				return -1;
			}
			core[r->core[i]] = v;
		} else {
			r->xnames[nx] = r->names[i];
			r->xvalues[nx++] = v;
		}
	}
	ev->extra_names = r->xnames;
	ev->extra_values = r->xvalues;
	ev->nextra = nx;
	ev->feed = r->feed_name;
	ev->identifier = core[F_IDENTIFIER];
	if (core[F_TYPE] == NULL) {
		snprintf(why, whysize, "no classification.type");
		return -1;
	}
	if ((ev->taxonomy = taxonomy_of(core[F_TYPE])) == NULL) {
		snprintf(why, whysize, "unknown classification.type '%.80s'", core[F_TYPE]);
		return -1;
	}
	ev->type = core[F_TYPE];
	if (core[F_TAXONOMY] && strcmp(core[F_TAXONOMY], ev->taxonomy) != 0) {
		snprintf(why, whysize,
		         "classification.taxonomy '%.80s' is not that of type %s (%s)",
		         core[F_TAXONOMY], ev->type, ev->taxonomy);
		return -1;
	}
	if (core[F_TSRC] == NULL || formats_parse_when(core[F_TSRC], &sec) != 0 || sec < 0) {
		snprintf(why, whysize, "time.source '%.80s' is not a time",
		         core[F_TSRC] ? core[F_TSRC] : "");
		return -1;
	}
	if (sec > now_us / 1000000 + 86400) {
		snprintf(why, whysize, "time.source '%.80s' is more than a day ahead",
		         core[F_TSRC]);
		return -1;
	}
	ev->time_source = sec * 1000000;
	ev->time_observation = now_us;
	if (core[F_TOBS]) {
		if (formats_parse_when(core[F_TOBS], &sec) != 0 || sec < 0) {
			snprintf(why, whysize, "time.observation '%.80s' is not a time",
			         core[F_TOBS]);
			return -1;
		}
		ev->time_observation = sec * 1000000;
	}
	if (core[F_IP] && set_ip(r, ev, core[F_IP]) != 0) {
		snprintf(why, whysize, "source.ip '%.80s' is not an IP address", core[F_IP]);
		return -1;
	}
	if (core[F_FQDN]) {
		int l = route_domain_norm(core[F_FQDN], strlen(core[F_FQDN]), r->fqdn);

		if (l < 0) {
			snprintf(why, whysize, "source.fqdn '%.80s' is not a domain name",
			         core[F_FQDN]);
			return -1;
		}
		r->fqdn[l] = '\0';
		ev->fqdn = r->fqdn;
	}
	if (core[F_URL]) {
		char host[256];
		int l = values_norm_url(core[F_URL], strlen(core[F_URL]), r->url, r->urlcap);

		if (l < 0 || (size_t)l >= r->urlcap ||
		    url_host((r->url[l] = '\0', r->url), host, sizeof(host)) < 0) {
			snprintf(why, whysize, "source.url '%.80s' is not a URL", core[F_URL]);
			return -1;
		}
		ev->url = r->url;
		if (ev->ip == NULL && set_ip(r, ev, host) == 0) {
			/* an address as the host */
		} else if (ev->fqdn == NULL && ev->ip == NULL) {
			int dl = route_domain_norm(host, strlen(host), r->fqdn);

			if (dl < 0) {
				snprintf(why, whysize,
				         "source.url '%.80s': the host is not a domain name",
				         core[F_URL]);
				return -1;
			}
			r->fqdn[dl] = '\0';
			ev->fqdn = r->fqdn;
		}
	}
	if (core[F_ACCOUNT]) {
		const char *at = strrchr(core[F_ACCOUNT], '@');

		ev->account = core[F_ACCOUNT];
		if (at && ev->fqdn == NULL && ev->ip == NULL) {
			int dl = route_domain_norm(at + 1, strlen(at + 1), r->fqdn);

			if (dl >= 0) {
				r->fqdn[dl] = '\0';
				ev->fqdn = r->fqdn;
			}
		}
	}
	if (core[F_ASN] && route_asn_parse(core[F_ASN], &ev->asn) != 0) {
		snprintf(why, whysize, "source.asn '%.80s' is not an AS number", core[F_ASN]);
		return -1;
	}
	if (core[F_PORT]) {
		char *end;
		long p = strtol(core[F_PORT], &end, 10);

		if (*end != '\0' || end == core[F_PORT] || p < 0 || p > 65535) {
			snprintf(why, whysize, "source.port '%.80s' is not a port", core[F_PORT]);
			return -1;
		}
		ev->port = (int)p;
	}
	/* What the row is about: the field it gave, not one derived from
	 * another (the host of a URL, the domain of an account). */
	ev->address = core[F_IP]     ? ev->ip
	              : core[F_FQDN] ? ev->fqdn
	              : ev->url      ? ev->url
	                             : ev->account;
	if (ev->address == NULL) {
		snprintf(why, whysize, "no source.ip, source.fqdn, source.url or source.account");
		return -1;
	}
	r->last_fields = fields;
	r->last_n = n;
	return 0;
}

void route_event_key(struct route_reader *r, struct route_event *ev)
{
	static const struct tix_uuid ns = {{0x1b, 0x8e, 0x0c, 0x6a, 0x5d, 0x0f, 0x5b, 0x7e, 0x9f,
	                                    0x0e, 0x7d, 0x6c, 0x2b, 0x1a, 0x4e, 0x93}};
	struct tix_uuid u;
	char uuid[37];

	/* The row's identity: the feed and every field as read (so the same
	 * row imported again is the same report, and one kept once). */
	tix_buf_reset(&r->name);
	tix_buf_adds(&r->name, r->feed_name);
	for (int i = 0; i < r->last_n; i++) {
		tix_buf_addc(&r->name, '\x1f');
		tix_buf_adds(&r->name, r->last_fields[i]);
	}
	tix_uuid_v5(&ns, tix_buf_str(&r->name), tix_buf_len(&r->name), &u);
	memcpy(ev->key, "x-tix-report--", 14);
	memcpy(ev->key + 14, tix_uuid_format(&u, uuid), 37);
}
