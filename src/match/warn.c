/*
 * match/warn.c — MISP warninglists: lists of values that look like
 * indicators but are benign (resolvers, top sites, private ranges, empty
 * file hashes). Loaded from list.json files; asked whether an indicator's
 * values are on one, so its matches can be flagged and suppressed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "match/match_int.h"
#include "pattern/pattern.h"

enum { WT_IP = 1, WT_DOMAIN = 2, WT_URL = 4, WT_HASH = 8, WT_EMAIL = 16, WT_ALL = 31 };
enum { WK_STRING, WK_HOSTNAME, WK_SUBSTRING };

struct wstr {
	char *value;
	uint16_t list;
	uint8_t kind;
};
struct wcidr {
	uint8_t net[16];
	uint8_t fam, plen;
	uint16_t list;
};
struct wlist {
	char *name;
	unsigned types;
};

struct match_warninglists {
	struct wlist *lists;
	size_t nlists;
	struct wstr *str; /* string and hostname, sorted by value once sealed */
	size_t nstr, capstr;
	struct wstr *sub;
	size_t nsub, capsub;
	struct wcidr *cidr; /* sorted by (fam, plen, net) */
	size_t ncidr, capcidr;
	int sorted;
};

struct match_warninglists *match_warninglists_new(void)
{
	match__init_scan_tables();
	return calloc(1, sizeof(struct match_warninglists));
}

void match_warninglists_free(struct match_warninglists *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nlists; i++)
		free(w->lists[i].name);
	for (size_t i = 0; i < w->nstr; i++)
		free(w->str[i].value);
	for (size_t i = 0; i < w->nsub; i++)
		free(w->sub[i].value);
	free(w->lists);
	free(w->str);
	free(w->sub);
	free(w->cidr);
	free(w);
}

size_t match_warninglists_count(const struct match_warninglists *w)
{
	return w->nlists;
}

static unsigned types_of(const json_t *attrs)
{
	static const struct {
		const char *misp;
		unsigned t;
	} map[] = {
	        {"ip-src", WT_IP},      {"ip-dst", WT_IP},       {"domain|ip", WT_IP | WT_DOMAIN},
	        {"ip", WT_IP},          {"hostname", WT_DOMAIN}, {"domain", WT_DOMAIN},
	        {"url", WT_URL},        {"uri", WT_URL},         {"link", WT_URL},
	        {"md5", WT_HASH},       {"sha1", WT_HASH},       {"sha256", WT_HASH},
	        {"sha512", WT_HASH},    {"email", WT_EMAIL},     {"email-src", WT_EMAIL},
	        {"email-dst", WT_EMAIL}};
	unsigned t = 0;
	size_t i;
	const json_t *a;

	if (!json_is_array(attrs) || json_array_size(attrs) == 0)
		return WT_ALL;
	json_array_foreach (attrs, i, a) {
		const char *s = json_string_value(a);

		for (size_t k = 0; s && k < sizeof(map) / sizeof(map[0]); k++)
			if (strcmp(s, map[k].misp) == 0 ||
			    (strncmp(s, map[k].misp, strlen(map[k].misp)) == 0 &&
			     s[strlen(map[k].misp)] == '|'))
				t |= map[k].t;
	}
	return t ? t : WT_ALL;
}

static char *lower_dup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	if (n > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	return d;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;

	if (n < *cap)
		return 0;
	nv = realloc(*v, (*cap ? *cap * 2 : 256) * elem);
	if (nv == NULL)
		return -1;
	*v = nv;
	*cap = *cap ? *cap * 2 : 256;
	return 0;
}

static enum tix_err load_file(struct match_warninglists *w, const char *path, struct tix_error *err)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je), *list, *v;
	const char *type, *name;
	uint16_t li;
	size_t i;
	struct wlist *nl;

	if (doc == NULL)
		return tix_error_set(err, TIX_EPARSE, path, "line %d: %s", je.line, je.text);
	type = json_string_value(json_object_get(doc, "type"));
	name = json_string_value(json_object_get(doc, "name"));
	list = json_object_get(doc, "list");
	if (type == NULL || !json_is_array(list)) {
		json_decref(doc);
		return tix_error_set(err, TIX_EINVAL, path,
		                     "not a MISP warninglist: needs \"type\" and a \"list\" array");
	}
	if (strcmp(type, "regex") == 0) {
		tix_log(TIX_LOG_WARN, "%s: regex warninglists are not used", path);
		json_decref(doc);
		return TIX_OK;
	}
	if (w->nlists >= UINT16_MAX ||
	    (nl = realloc(w->lists, (w->nlists + 1) * sizeof(*w->lists))) == NULL) {
		json_decref(doc);
		return tix_error_set(err, TIX_ENOMEM, path, "out of memory");
	}
	w->lists = nl;
	li = (uint16_t)w->nlists;
	w->lists[li].name = strdup(name ? name : path);
	w->lists[li].types = types_of(json_object_get(doc, "matching_attributes"));
	if (w->lists[li].name == NULL) {
		json_decref(doc);
		return tix_error_set(err, TIX_ENOMEM, path, "out of memory");
	}
	w->nlists++;
	w->sorted = 0;
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || *s == '\0')
			continue;
		if (strcmp(type, "cidr") == 0) {
			struct wcidr c;
			unsigned char a[16];
			unsigned plen;
			int fam = values_parse_cidr(s, strlen(s), a, &plen);

			if (fam < 0)
				continue;
			memset(&c, 0, sizeof(c));
			for (unsigned k = 0; k < 16; k++) {
				unsigned keep = plen >= (k + 1) * 8 ? 8
				                : plen > k * 8      ? plen - k * 8
				                                    : 0;

				c.net[k] = (uint8_t)(a[k] & (0xff00u >> keep));
			}
			c.fam = (uint8_t)fam;
			c.plen = (uint8_t)plen;
			c.list = li;
			if (grow((void **)&w->cidr, &w->capcidr, w->ncidr, sizeof(c)) != 0)
				goto oom;
			w->cidr[w->ncidr++] = c;
		} else {
			int sub = strcmp(type, "substring") == 0;
			struct wstr e = {lower_dup(s), li,
			                 (uint8_t)(sub                             ? WK_SUBSTRING
			                           : strcmp(type, "hostname") == 0 ? WK_HOSTNAME
			                                                           : WK_STRING)};

			if (e.value == NULL)
				goto oom;
			if (sub ? grow((void **)&w->sub, &w->capsub, w->nsub, sizeof(e))
			        : grow((void **)&w->str, &w->capstr, w->nstr, sizeof(e))) {
				free(e.value);
				goto oom;
			}
			if (sub)
				w->sub[w->nsub++] = e;
			else
				w->str[w->nstr++] = e;
		}
	}
	json_decref(doc);
	return TIX_OK;
oom:
	json_decref(doc);
	return tix_error_set(err, TIX_ENOMEM, path, "out of memory");
}

static int cmp_wstr(const void *a, const void *b)
{
	const struct wstr *x = a, *y = b;
	int c = strcmp(x->value, y->value);

	return c ? c : (int)x->list - (int)y->list;
}

static int cmp_wcidr(const void *a, const void *b)
{
	const struct wcidr *x = a, *y = b;

	if (x->fam != y->fam)
		return x->fam - y->fam;
	if (x->plen != y->plen)
		return x->plen - y->plen;
	return memcmp(x->net, y->net, 16);
}

enum tix_err match_warninglists_load(struct match_warninglists *w, const char *path,
                                     struct tix_error *err)
{
	struct stat st;
	enum tix_err rc = TIX_OK;

	if (stat(path, &st) != 0)
		return tix_error_set(err, TIX_EIO, path, "cannot read: %s", strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		char sub[4096];
		size_t before = w->nlists;

		if (d == NULL)
			return tix_error_set(err, TIX_EIO, path, "cannot read: %s",
			                     strerror(errno));
		while (rc == TIX_OK && (de = readdir(d)) != NULL) {
			struct stat s2;

			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			if (stat(sub, &s2) != 0)
				continue;
			if (S_ISDIR(s2.st_mode))
				rc = match_warninglists_load(w, sub, err);
			else if (strcmp(de->d_name, "list.json") == 0)
				rc = load_file(w, sub, err);
		}
		closedir(d);
		if (rc == TIX_OK && w->nlists == before)
			tix_log(TIX_LOG_WARN, "%s: no list.json found", path);
	} else {
		rc = load_file(w, path, err);
	}
	if (w->nstr)
		qsort(w->str, w->nstr, sizeof(*w->str), cmp_wstr);
	if (w->ncidr)
		qsort(w->cidr, w->ncidr, sizeof(*w->cidr), cmp_wcidr);
	return rc;
}

/* The first list holding value exactly (kinds: mask of 1<<WK_*), of types t. */
static const char *find_str(const struct match_warninglists *w, const char *v, unsigned kinds,
                            unsigned t)
{
	size_t lo = 0, hi = w->nstr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(w->str[mid].value, v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < w->nstr && strcmp(w->str[lo].value, v) == 0; lo++)
		if ((kinds & 1u << w->str[lo].kind) && (w->lists[w->str[lo].list].types & t))
			return w->lists[w->str[lo].list].name;
	return NULL;
}

static const char *find_cidr(const struct match_warninglists *w, const unsigned char a[16], int fam,
                             unsigned t)
{
	unsigned max = fam == 4 ? 32 : 128;

	for (unsigned p = 0; p <= max; p++) {
		struct wcidr key;
		size_t lo = 0, hi = w->ncidr;

		memset(&key, 0, sizeof(key));
		for (unsigned k = 0; k < 16; k++) {
			unsigned keep = p >= (k + 1) * 8 ? 8 : p > k * 8 ? p - k * 8 : 0;

			key.net[k] = (uint8_t)(a[k] & (0xff00u >> keep));
		}
		key.fam = (uint8_t)fam;
		key.plen = (uint8_t)p;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_wcidr(&w->cidr[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < w->ncidr && cmp_wcidr(&w->cidr[lo], &key) == 0; lo++)
			if (w->lists[w->cidr[lo].list].types & t)
				return w->lists[w->cidr[lo].list].name;
	}
	return NULL;
}

const char *match_warninglists_hit(const struct match_warninglists *w, const char *stix_type,
                                   const char *value, size_t len)
{
	char buf[2048];
	unsigned t;
	const char *hit;

	if (w == NULL || len == 0 || len >= sizeof(buf))
		return NULL;
	t = strcmp(stix_type, "ipv4-addr") == 0 || strcmp(stix_type, "ipv6-addr") == 0 ? WT_IP
	    : strcmp(stix_type, "domain-name") == 0                                    ? WT_DOMAIN
	    : strcmp(stix_type, "url") == 0                                            ? WT_URL
	    : strcmp(stix_type, "email-addr") == 0                                     ? WT_EMAIL
	                                                                               : WT_HASH;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)value[i]);
	buf[len] = '\0';
	if (len > 1 && buf[len - 1] == '.' && t == WT_DOMAIN)
		buf[len - 1] = '\0';
	if (t == WT_IP) {
		unsigned char a[16];
		unsigned plen;
		int fam = values_parse_cidr(buf, strlen(buf), a, &plen);

		if (fam > 0 && (hit = find_cidr(w, a, fam, t)) != NULL)
			return hit;
	}
	if ((hit = find_str(w, buf, 1u << WK_STRING | 1u << WK_HOSTNAME, t)) != NULL)
		return hit;
	if (t == WT_DOMAIN) /* a hostname list also covers the names below it */
		for (const char *d = strchr(buf, '.'); d; d = strchr(d + 1, '.'))
			if ((hit = find_str(w, d + 1, 1u << WK_HOSTNAME, t)) != NULL)
				return hit;
	if (t == WT_URL) { /* the host of a URL against hostname lists */
		char host[2048];
		int n = values_norm_url(buf, strlen(buf), host, sizeof(host));

		if (n > 0) {
			char *h = strstr(host, "://") + 3, *e = h + strcspn(h, ":/?");

			*e = '\0';
			if (strchr(h, '@'))
				h = strchr(h, '@') + 1;
			if ((hit = find_str(w, h, 1u << WK_HOSTNAME, WT_DOMAIN | WT_URL)) != NULL)
				return hit;
		}
	}
	for (size_t i = 0; i < w->nsub; i++)
		if ((w->lists[w->sub[i].list].types & t) && strstr(buf, w->sub[i].value))
			return w->lists[w->sub[i].list].name;
	return NULL;
}

const char *match__warninglists_check_atoms(const struct match_warninglists *w,
                                            const struct pattern_atoms *a)
{
	const char *hit = NULL;

	if (w == NULL || w->nlists == 0 || a == NULL)
		return NULL;
	for (size_t i = 0; hit == NULL && i < a->count; i++) {
		const struct pattern_atom *at = &a->atoms[i];

		if (at->negated || at->value == NULL || at->kind != PATTERN_LIT_STRING ||
		    (at->op != PATTERN_OP_EQ && at->op != PATTERN_OP_IN &&
		     at->op != PATTERN_OP_ISSUBSET))
			continue;
		hit = match_warninglists_hit(w, at->object_type, at->value, at->value_len);
	}
	return hit;
}

const char *match_warninglists_check_indicator(const struct match_warninglists *w,
                                               const json_t *indicator)
{
	const char *text = json_string_value(json_object_get(indicator, "pattern"));
	const char *ver = json_string_value(json_object_get(indicator, "pattern_version"));
	struct pattern *p;
	struct pattern_atoms *a;
	const char *hit;
	struct tix_error err;

	if (w == NULL || w->nlists == 0 || text == NULL)
		return NULL;
	p = pattern_parse(text, strlen(text), pattern_version_from_string(ver), &err);
	if (p == NULL)
		return NULL;
	a = pattern_atoms_extract(p, &err);
	hit = match__warninglists_check_atoms(w, a);
	pattern_atoms_free(a);
	pattern_free(p);
	return hit;
}
