/*
 * conf/conf.c — the tix.conf parser: sections, `key = value` lines, one
 * table of every setting with its type, range and default, and the checks
 * of values and of settings that conflict. Pure: bytes in, entries or
 * "file:line: reason" out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

#define MAX_FILE (1u << 20)
#define MAX_LINE 4096
#define NO_MAX   0UL

const struct conf_setting conf_settings[] = {
        {"store", "path", CONF_PATH, 0, NO_MAX, "./var/tix.db",
         "the store; every tix command uses it unless --db or $TIX_DB says otherwise"},
        {"serve", "listen", CONF_LISTEN, 0, NO_MAX, "127.0.0.1:8600",
         "address to listen on: HOST:PORT, [IPv6]:PORT"},
        {"serve", "tls-cert", CONF_PATH, 0, NO_MAX, "", "PEM certificate chain: serve HTTPS"},
        {"serve", "tls-key", CONF_PATH, 0, NO_MAX, "", "PEM private key of tls-cert"},
        {"serve", "insecure-http", CONF_BOOL, 0, NO_MAX, "false",
         "allow plain HTTP on a non-loopback address"},
        {"serve", "threads", CONF_UINT, 1, 1024, "",
         "worker threads (default: twice the cores, at least 4)"},
        {"serve", "max-body", CONF_SIZE, 1, NO_MAX, "16M", "largest POST body (K, M, G)"},
        {"serve", "max-connections", CONF_UINT, 1, 1000000, "1024", "open connections at most"},
        {"serve", "idle-timeout", CONF_UINT, 1, 86400, "30",
         "seconds before an idle connection is closed"},
        {"serve", "cache", CONF_SIZE, 0, NO_MAX, "32M",
         "per worker thread, memory for recent GET answers (0: off)"},
        {"serve", "access-log", CONF_STRING, 0, NO_MAX, "-",
         "one line per request: a file, - (standard error) or off"},
        {"serve", "log-format", CONF_LOG_FORMAT, 0, NO_MAX, "text",
         "the access log and messages: text, or json (one object per line)"},
        {"serve", "sync", CONF_BOOL, 0, NO_MAX, "false",
         "also run the peers on their intervals, as tix sync does"},
        {"serve", "title", CONF_STRING, 0, NO_MAX, "tix", "the discovery resource's title"},
        {"serve", "description", CONF_STRING, 0, NO_MAX, "a tix threat-information exchange node",
         "the discovery resource's description"},
        {"serve", "contact", CONF_STRING, 0, NO_MAX, "the node's operator",
         "the discovery resource's contact"},
        {"serve", "page-size", CONF_UINT, 1, 1000000, "100",
         "objects per TAXII page when the client gives no limit"},
        {"serve", "page-max", CONF_UINT, 1, 1000000, "1000", "the largest TAXII page"},
        {"serve", "page-bytes", CONF_SIZE, 0, NO_MAX, "0",
         "bytes of one TAXII page at most (0: no bound); a page ends early, with more "
         "and next, when its next object would pass it"},
        {"serve", "examine-max", CONF_UINT, 1, 1000000, "2000",
         "rows one listing page examines at most (a short page with more: true past it)"},
        {"serve", "correlate-cap", CONF_UINT, 1, 100000, "100",
         "objects /api/v1/correlate lists per value; a value in more: a count and a flag"},
        {"serve", "warninglists", CONF_PATH, 0, NO_MAX, "",
         "MISP warninglists (a list.json or a directory): correlation marks their values"},
        {"serve", "body-budget", CONF_SIZE, 1, NO_MAX, "256M",
         "POST bodies buffered at once, node-wide (past it: 503 with Retry-After)"},
        {"serve", "body-share", CONF_SIZE, 0, NO_MAX, "",
         "of body-budget, what one principal may hold (default: a quarter)"},
        {"serve", "principal-requests", CONF_UINT, 1, 4096, "",
         "requests of one principal that run at once; the rest wait their turn "
         "(default: half the cores, at least 1)"},
        {"serve", "metrics", CONF_BOOL, 0, NO_MAX, "true",
         "answer GET /metrics (Prometheus): on loopback, or to metrics-key-file's key"},
        {"serve", "match-stats", CONF_PATH, 0, NO_MAX, "",
         "a directory of tix match --stats-file files (*.prom) that GET /metrics adds"},
        {"serve", "metrics-key-file", CONF_PATH, 0, NO_MAX, "",
         "a file whose first line is the key GET /metrics needs (from any address)"},
        {"serve", "insecure-no-policy", CONF_BOOL, 0, NO_MAX, "false",
         "FOR BENCHMARKS ONLY: no TLP filtering; loopback only"},
        {"policy", "default-tlp", CONF_TLP, 0, NO_MAX, "",
         "TLP of objects without a marking (default: tix admin node set, else amber)"},
        {"policy", "anonymous-read", CONF_BOOL, 0, NO_MAX, "",
         "callers without credentials read TLP:CLEAR (default: tix admin node set, else off)"},
        {"decay", "floor", CONF_UINT, 0, 100, "20",
         "tix expire marks indicators whose decay score fell below this (0-100)"},
        {"decay", "default-confidence", CONF_UINT, 0, 100, "50",
         "the base score of an indicator without confidence"},
        {"decay", "ip-lifetime", CONF_UINT, 1, 36500, "30",
         "days until an indicator of ip values scores 0"},
        {"decay", "ip-speed", CONF_STRING, 0, NO_MAX, "2",
         "decay speed of ip indicators (0.1-10; above 1 falls fast at first)"},
        {"decay", "domain-lifetime", CONF_UINT, 1, 36500, "90",
         "days until an indicator of domain values scores 0"},
        {"decay", "domain-speed", CONF_STRING, 0, NO_MAX, "1",
         "decay speed of domain indicators (0.1-10; above 1 falls fast at first)"},
        {"decay", "url-lifetime", CONF_UINT, 1, 36500, "60",
         "days until an indicator of url values scores 0"},
        {"decay", "url-speed", CONF_STRING, 0, NO_MAX, "1",
         "decay speed of url indicators (0.1-10; above 1 falls fast at first)"},
        {"decay", "email-lifetime", CONF_UINT, 1, 36500, "180",
         "days until an indicator of email values scores 0"},
        {"decay", "email-speed", CONF_STRING, 0, NO_MAX, "1",
         "decay speed of email indicators (0.1-10; above 1 falls fast at first)"},
        {"decay", "hash-lifetime", CONF_UINT, 1, 36500, "365",
         "days until an indicator of hash values scores 0"},
        {"decay", "hash-speed", CONF_STRING, 0, NO_MAX, "0.5",
         "decay speed of hash indicators (0.1-10; above 1 falls fast at first)"},
        {"decay", "other-lifetime", CONF_UINT, 1, 36500, "180",
         "days until an indicator of other values scores 0"},
        {"decay", "other-speed", CONF_STRING, 0, NO_MAX, "1",
         "decay speed of other indicators (0.1-10; above 1 falls fast at first)"},
        {"peer", "url", CONF_URL, 0, NO_MAX, "", "the peer's TAXII discovery URL"},
        {"peer", "remote-collection", CONF_STRING, 0, NO_MAX, "", "the collection there"},
        {"peer", "local-collection", CONF_STRING, 0, NO_MAX, "", "the collection here"},
        {"peer", "direction", CONF_DIRECTION, 0, NO_MAX, "", "pull, push or both"},
        {"peer", "interval", CONF_UINT, 1, 604800, "", "seconds between runs (tix serve --sync)"},
        {"peer", "org", CONF_STRING, 0, NO_MAX, "", "the peer's organisation (policy audience)"},
        {"peer", "ca-file", CONF_PATH, 0, NO_MAX, "", "CA certificates for the peer's TLS"},
        {"peer", "limit-rate", CONF_SIZE, 0, NO_MAX, "", "bytes per second each way (0: no limit)"},
        {NULL, NULL, CONF_STRING, 0, 0, NULL, NULL},
};

/* Keys of the flat format `tix serve --config` read before sections
 * existed: they are read as [serve] keys, but for these. */
static const struct {
	const char *key, *section, *as;
} flat_keys[] = {
        {"db", "store", "path"},
        {"default-tlp", "policy", "default-tlp"},
        {"anonymous-read", "policy", "anonymous-read"},
};

/* Keys that would hold secrets: refused with where secrets go instead. */
static const char *const secret_keys[] = {"key", "api-key", "password", "secret", "token", "user"};

static const char *const sections[] = {"store", "serve", "policy", "peer", "decay"};

const struct conf_setting *conf_setting_find(const char *section, const char *key)
{
	for (const struct conf_setting *s = conf_settings; s->key; s++)
		if (strcmp(s->section, section) == 0 && strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

const char *conf_nearest_key(const char *section, const char *key)
{
	const char *names[64];
	size_t n = 0;

	for (const struct conf_setting *s = conf_settings; s->key && n < 64; s++)
		if (strcmp(s->section, section) == 0)
			names[n++] = s->key;
	return tix_nearest(key, names, n);
}

int conf_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1"};
	static const char *const no[] = {"false", "off", "no", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

int conf_parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < min || (max != NO_MAX && n > max) || n > 0xffffffffUL)
		return -1;
	*out = (unsigned long)n;
	return 0;
}

int conf_parse_size(const char *v, size_t *out)
{
	unsigned long long n;
	unsigned shift = 0;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -1;
	switch (*end) {
	case 'k':
	case 'K': shift = 10; break;
	case 'm':
	case 'M': shift = 20; break;
	case 'g':
	case 'G': shift = 30; break;
	default: break;
	}
	if (shift)
		end++;
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end != '\0' || n > (~0ULL >> 1) >> shift || (n << shift) > (size_t)-1)
		return -1;
	*out = (size_t)(n << shift);
	return 0;
}

static int check_listen(const char *v)
{
	const char *colon;
	unsigned long port;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close == v + 1 || close[1] != ':')
			return -1;
		colon = close + 1;
	} else if ((colon = strrchr(v, ':')) == NULL || colon == v) {
		return -1;
	}
	return conf_parse_uint(colon + 1, 1, 65535, &port);
}

int conf_check_value(const struct conf_setting *s, const char *v, char *why, size_t size)
{
	static const char *const tlps[] = {"clear", "white",        "green",
	                                   "amber", "amber+strict", "red"};
	unsigned long u;
	size_t z;
	int b;

	switch (s->type) {
	case CONF_STRING: return 0;
	case CONF_PATH:
		if (v[0] != '\0')
			return 0;
		snprintf(why, size, "%s needs a file name", s->key);
		return -1;
	case CONF_BOOL:
		if (conf_parse_bool(v, &b) == 0)
			return 0;
		snprintf(why, size, "%s is true or false (on/off, yes/no, 1/0), not '%s'", s->key,
		         v);
		return -1;
	case CONF_UINT:
		if (conf_parse_uint(v, s->min, s->max, &u) == 0)
			return 0;
		snprintf(why, size, "%s is a whole number from %lu to %lu, not '%s'", s->key,
		         s->min, s->max, v);
		return -1;
	case CONF_SIZE:
		if (conf_parse_size(v, &z) == 0 && z >= s->min)
			return 0;
		snprintf(why, size, "%s is a size in bytes%s (e.g. 16M, 512K), not '%s'", s->key,
		         s->min ? " over 0" : "", v);
		return -1;
	case CONF_TLP:
		for (size_t i = 0; i < sizeof(tlps) / sizeof(tlps[0]); i++)
			if (strcmp(v, tlps[i]) == 0)
				return 0;
		snprintf(why, size, "%s is clear, green, amber, amber+strict or red, not '%s'",
		         s->key, v);
		return -1;
	case CONF_LISTEN:
		if (check_listen(v) == 0)
			return 0;
		snprintf(why, size, "%s is HOST:PORT or [IPv6]:PORT, not '%s'", s->key, v);
		return -1;
	case CONF_URL:
		if ((strncmp(v, "http://", 7) == 0 && v[7]) ||
		    (strncmp(v, "https://", 8) == 0 && v[8]))
			return 0;
		snprintf(why, size, "%s is an http:// or https:// URL, not '%s'", s->key, v);
		return -1;
	case CONF_LOG_FORMAT:
		if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0)
			return 0;
		snprintf(why, size, "%s is text or json, not '%s'", s->key, v);
		return -1;
	case CONF_DIRECTION:
		if (strcmp(v, "pull") == 0 || strcmp(v, "push") == 0 || strcmp(v, "both") == 0)
			return 0;
		snprintf(why, size, "%s is pull, push or both, not '%s'", s->key, v);
		return -1;
	}
	snprintf(why, size, "unknown type");
	return -1;
}

const struct conf_entry *conf_find(const struct conf *c, const char *section, const char *name,
                                   const char *key)
{
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].section, section) == 0 &&
		    strcmp(c->entries[i].name, name ? name : "") == 0 &&
		    strcmp(c->entries[i].setting->key, key) == 0)
			return &c->entries[i];
	return NULL;
}

/* The state of one parse: where problems go. */
struct parse {
	const char *path;
	conf_report_fn report;
	void *arg;
	struct tix_error *err;
	int problems;
};

static void TIX_PRINTF(3, 4) problem(struct parse *p, int line, const char *fmt, ...)
{
	char where[1100], reason[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d", p->path, line);
	else
		snprintf(where, sizeof(where), "%s", p->path);
	if (p->problems++ == 0)
		tix_error_set(p->err, TIX_EINVAL, where, "%s", reason);
	if (p->report)
		p->report(p->arg, where, reason);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r');)
		*--e = '\0';
	return s;
}

static int add_entry(struct conf *c, const struct conf_setting *s, const char *section,
                     const char *name, const char *value, int line)
{
	struct conf_entry *e;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		void *p = realloc(c->entries, cap * sizeof(*c->entries));

		if (p == NULL)
			return -1;
		c->entries = p;
		c->cap = cap;
	}
	e = &c->entries[c->n++];
	memset(e, 0, sizeof(*e));
	e->setting = s;
	snprintf(e->section, sizeof(e->section), "%s", section);
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->value, sizeof(e->value), "%s", value);
	e->line = line;
	return 0;
}

/* A [peer NAME] name: as `tix peer add` allows (1-63 bytes, no spaces,
 * brackets or control characters). */
static int peer_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 63)
		return 0;
	for (const unsigned char *q = (const unsigned char *)n; *q; q++)
		if (*q <= ' ' || *q == 0x7f || *q == '[' || *q == ']')
			return 0;
	return 1;
}

static int is_loopback(const char *listen)
{
	return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
	       strncmp(listen, "localhost:", 10) == 0;
}

/* Settings that cannot go together. */
static void check_conflicts(struct parse *p, const struct conf *c)
{
	const struct conf_entry *cert = conf_find(c, "serve", "", "tls-cert");
	const struct conf_entry *key = conf_find(c, "serve", "", "tls-key");
	const struct conf_entry *size = conf_find(c, "serve", "", "page-size");
	const struct conf_entry *max = conf_find(c, "serve", "", "page-max");
	const struct conf_entry *nopol = conf_find(c, "serve", "", "insecure-no-policy");
	const struct conf_entry *listen = conf_find(c, "serve", "", "listen");
	int b = 0;

	if (!cert != !key)
		problem(p, cert ? cert->line : key->line,
		        "%s is set but %s is not: they go together", cert ? "tls-cert" : "tls-key",
		        cert ? "tls-key" : "tls-cert");
	if (size && max) {
		unsigned long a = 0, m = 0;

		conf_parse_uint(size->value, 1, 1000000, &a);
		conf_parse_uint(max->value, 1, 1000000, &m);
		if (a > m)
			problem(p, size->line,
			        "page-size %lu is larger than page-max %lu (line %d)", a, m,
			        max->line);
	}
	if (nopol && conf_parse_bool(nopol->value, &b) == 0 && b && listen &&
	    !is_loopback(listen->value))
		problem(p, nopol->line,
		        "insecure-no-policy is for benchmarks on a loopback address, and listen "
		        "is %s (line %d)",
		        listen->value, listen->line);
	/* A peer needs enough to run; what is missing may come from the store
	 * (`tix peer add`), so only direction-dependent settings are checked. */
}

enum tix_err conf_parse(const char *text, size_t len, const char *path, struct conf *out,
                        conf_report_fn report, void *arg, struct tix_error *err)
{
	struct parse p = {path, report, arg, err, 0};
	char section[16] = "", name[64] = "", line[MAX_LINE + 2];
	int lineno = 0, in_flat = 1;
	struct {
		char name[64];
		int line;
	} peers[256] = {{"", 0}};
	size_t npeers = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "%s", path);
	if (memchr(text, '\0', len) != NULL) {
		problem(&p, 0, "contains a NUL byte: not a text file");
		return TIX_EINVAL;
	}
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		char *l, *eq, *k, *v;
		const struct conf_setting *s;
		const struct conf_entry *dup;
		char why[1200];

		lineno++;
		if (n > MAX_LINE) {
			problem(&p, lineno, "line longer than %d bytes", MAX_LINE);
			at += n + 1;
			continue;
		}
		memcpy(line, text + at, n);
		line[n] = '\0';
		at += n + 1;
		l = trim(line);
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		for (const unsigned char *q = (const unsigned char *)l; *q; q++)
			if (*q < 0x20 && *q != '\t') {
				problem(&p, lineno, "contains a control character");
				goto next;
			}
		if (*l == '[') {
			char *close = strchr(l, ']'), *sp;

			in_flat = 0;
			section[0] = name[0] = '\0';
			if (close == NULL || *trim(close + 1) != '\0') {
				problem(&p, lineno, "a section header is [NAME] or [peer NAME]");
				continue;
			}
			*close = '\0';
			l = trim(l + 1);
			if ((sp = strpbrk(l, " \t")) != NULL) {
				*sp = '\0';
				snprintf(name, sizeof(name), "%s", trim(sp + 1));
			}
			if (strcmp(l, "peer") == 0) {
				if (!peer_name_ok(name)) {
					problem(&p, lineno,
					        "[peer NAME] needs the peer's name (1-63 bytes, no spaces), "
					        "as in `tix peer add NAME`");
					continue;
				}
				for (size_t i = 0; i < npeers; i++)
					if (strcmp(peers[i].name, name) == 0) {
						problem(&p, lineno,
						        "[peer %s] again: it began at line %d",
						        name, peers[i].line);
						name[0] = '\0';
						break;
					}
				if (name[0] == '\0')
					continue;
				if (npeers < sizeof(peers) / sizeof(peers[0])) {
					snprintf(peers[npeers].name, sizeof(peers[0].name), "%s",
					         name);
					peers[npeers++].line = lineno;
				}
				snprintf(section, sizeof(section), "peer");
				continue;
			}
			if (name[0]) {
				problem(&p, lineno, "[%s] takes no name (only [peer NAME] does)",
				        l);
				name[0] = '\0';
				continue;
			}
			for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
				if (strcmp(l, sections[i]) == 0)
					snprintf(section, sizeof(section), "%s", l);
			if (section[0] == '\0') {
				const char *near = tix_nearest(l, sections, 5);

				problem(&p, lineno,
				        "unknown section [%s]%s%s%s; the sections are [store], [serve], "
				        "[policy], [decay] and [peer NAME]",
				        l, near ? " (did you mean [" : "", near ? near : "",
				        near ? "]?)" : "");
			}
			continue;
		}
		if ((eq = strchr(l, '=')) == NULL) {
			problem(&p, lineno, "expected 'key = value' or a [section]");
			continue;
		}
		*eq = '\0';
		k = trim(l);
		v = trim(eq + 1);
		/* Quotes keep spaces at either end: description = "  x  ". */
		if (v[0] == '"') {
			size_t vl = strlen(v);

			if (vl < 2 || v[vl - 1] != '"') {
				problem(&p, lineno, "the value's opening quote is not closed");
				continue;
			}
			v[vl - 1] = '\0';
			v++;
		}
		if (*k == '\0') {
			problem(&p, lineno, "a key is missing before '='");
			continue;
		}
		{
			const char *sec = section;
			const char *key = k;

			if (in_flat) {
				/* Before any section: the flat format of old `tix serve
				 * --config` files, read as [serve]. */
				sec = "serve";
				for (size_t i = 0; i < sizeof(flat_keys) / sizeof(flat_keys[0]);
				     i++)
					if (strcmp(k, flat_keys[i].key) == 0) {
						sec = flat_keys[i].section;
						key = flat_keys[i].as;
					}
			} else if (sec[0] == '\0') {
				continue; /* under an unknown section: reported there */
			}
			if (strcmp(sec, "peer") == 0)
				for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]);
				     i++)
					if (strcmp(k, secret_keys[i]) == 0) {
						problem(&p, lineno,
						        "'%s': credentials are not kept in the configuration; "
						        "give them to `tix peer add %s --key-stdin` (or "
						        "--user U --password-stdin), which keeps them in the store",
						        k, name);
						goto next;
					}
			if ((s = conf_setting_find(sec, key)) == NULL) {
				const char *near = conf_nearest_key(sec, key);

				problem(&p, lineno, "unknown key '%s' in [%s%s%s]%s%s%s", k, sec,
				        name[0] ? " " : "", name, near ? "; did you mean '" : "",
				        near ? near : "", near ? "'?" : "");
				continue;
			}
			if (strlen(v) >= sizeof(out->entries[0].value)) {
				problem(&p, lineno, "the value of %s is longer than %zu bytes", k,
				        sizeof(out->entries[0].value) - 1);
				continue;
			}
			if (conf_check_value(s, v, why, sizeof(why)) != 0) {
				problem(&p, lineno, "%s", why);
				continue;
			}
			if ((dup = conf_find(out, sec, strcmp(sec, "peer") == 0 ? name : "",
			                     key)) != NULL) {
				problem(&p, lineno, "%s is set twice: also at line %d", key,
				        dup->line);
				continue;
			}
			if (add_entry(out, s, sec, strcmp(sec, "peer") == 0 ? name : "", v,
			              lineno) != 0) {
				problem(&p, lineno, "out of memory");
				break;
			}
		}
	next:;
	}
	if (p.problems == 0)
		check_conflicts(&p, out);
	if (p.problems > 0) {
		conf_release(out);
		return TIX_EINVAL;
	}
	return TIX_OK;
}

enum tix_err conf_load(const char *path, struct conf *out, conf_report_fn report, void *arg,
                       struct tix_error *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t r;
	enum tix_err e;
	int fd;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return tix_error_set(err, TIX_EIO, path, "not a regular file");
	}
	if ((unsigned long long)st.st_size > MAX_FILE) {
		close(fd);
		return tix_error_set(err, TIX_EINVAL, path, "larger than %u bytes: not a tix.conf",
		                     MAX_FILE);
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return tix_error_set(err, TIX_ENOMEM, path, "out of memory");
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, text + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	e = conf_parse(text, len, path, out, report, arg, err);
	free(text);
	return e;
}

void conf_release(struct conf *c)
{
	free(c->entries);
	c->entries = NULL;
	c->n = c->cap = 0;
}
