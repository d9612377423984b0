/*
 * library/library.c — x-tix-resource objects of the resource library: the
 * fields and their checks (docs/library.md), the STIX object made of them,
 * CSV rows, the one write path (validation, ownership, audit) and reviews.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/formats.h"
#include "library/library.h"
#include "stix/stix.h"
#include "store/store_library.h"

#define TLP_CLEAR_ID "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_GREEN_ID "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
/* UUIDv5 of https://tix/library: the namespace of derived resource ids. */
#define LIBRARY_NS "241ad46c-6d6b-5ced-baaf-d9222d5fd59b"

enum kind {
	K_TEXT,
	K_URL,
	K_LANGS,
	K_COUNTRIES,
	K_AUDIENCE,
	K_TOPICS,
	K_LIST,
	K_AGES,
	K_REVIEW,
	K_FILE,
	K_TLP
};

/* Every field: its STIX property, its LRMI / CSV name, its kind. */
static const struct field {
	const char *stix, *lrmi;
	enum kind kind;
} fields[] = {
        {"title", "title", K_TEXT},
        {"description", "description", K_TEXT},
        {"publisher", "publisher", K_TEXT},
        {"url", "url", K_URL},
        {"in_language", "inLanguage", K_LANGS},
        {"country", "country", K_COUNTRIES},
        {"audience", "audience", K_AUDIENCE},
        {"age_range", "ageRange", K_AGES},
        {"learning_resource_type", "learningResourceType", K_TEXT},
        {"topics", "topic", K_TOPICS},
        {"format", "format", K_TEXT},
        {"size", "size", K_TEXT},
        {"license", "licence", K_TEXT},
        {"accessibility", "accessibility", K_LIST},
        {"review_status", "reviewStatus", K_REVIEW},
        {"reviewer", "reviewer", K_TEXT},
        {"file", "file", K_FILE},
        {"tlp", "tlp", K_TLP},
        {NULL, NULL, K_TEXT},
};

static const char *const audiences[] = {"children",      "parents", "educators",   "industry",
                                        "policy-makers", "police",  "prosecutors", "judges",
                                        "cert-staff",    NULL};
static const char *const topics[] = {
        "cyberbullying",    "grooming",       "sextortion",  "privacy",         "gaming",
        "online-fraud",     "misinformation", "ai",          "reporting-abuse", "hotlines",
        "digital-literacy", "wellbeing",      "hate-speech", "security",        NULL};
static const char *const reviews[] = {"unreviewed", "approved", "needs-changes", "rejected", NULL};
/* ISO 3166-1 alpha-2, the assigned codes. */
static const char countries[] =
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
        "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
        "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
        "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
        "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
        "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
        "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
        "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
        "VN VU WF WS YE YT ZA ZM ZW ";

/* STIX common properties an object form may carry (kept or made again). */
static const char *const common[] = {"type",       "spec_version", "id",
                                     "created",    "modified",     "object_marking_refs",
                                     "extensions", "translations", "created_by_ref",
                                     NULL};

static const char *type_of(const json_t *o)
{
	const char *t = json_string_value(json_object_get(o, "type"));

	return t ? t : "";
}

static int in_list(const char *const *l, const char *s)
{
	for (size_t i = 0; l[i]; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

static const struct field *field_named(const char *name)
{
	for (const struct field *f = fields; f->stix; f++)
		if (strcmp(f->stix, name) == 0 || strcmp(f->lrmi, name) == 0 ||
		    (f->kind == K_TEXT && strcmp(f->stix, "license") == 0 &&
		     strcmp(name, "license") == 0))
			return f;
	return NULL;
}

/* ---- single values ------------------------------------------------------ */

/* Plain text: no markup (an HTML tag, comment or declaration), no control
 * characters but tab and line ends, valid UTF-8, at most 64 KiB. */
static int text_ok(const char *s, const char **why)
{
	size_t n = strlen(s);

	if (n > 65536)
		return *why = "longer than 64 KiB", 0;
	if (!formats_utf8_ok(s, n))
		return *why = "not UTF-8", 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return *why = "holds a control character", 0;
		if (*p == '<' && (isalpha(p[1]) || p[1] == '/' || p[1] == '!' || p[1] == '?'))
			return *why = "holds HTML markup; the library takes plain text (a < b is "
			              "fine, tags are refused)",
			       0;
	}
	if (strncasecmp(s, "javascript:", 11) == 0)
		return *why = "is a javascript: URL", 0;
	return 1;
}

/* A BCP 47 tag (RFC 5646 syntax: language, script, region, variants,
 * extensions, private use), in its canonical case into out. */
static int lang_ok(const char *s, char *out, size_t size)
{
	size_t n = strlen(s), pos = 0, len;
	int idx = 0, seen_region = 0, seen_script = 0, in_ext = 0;
	const char *p = s;

	if (n == 0 || n >= size || n > 64)
		return 0;
	while (*p) {
		const char *e = strchr(p, '-');

		len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || len > 8)
			return 0;
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)p[i]))
				return 0;
		if (idx == 0) {
			for (size_t i = 0; i < len; i++)
				if (!isalpha((unsigned char)p[i]))
					return 0;
			if (len < 2 || len > 3)
				return 0; /* ISO 639 (4 is reserved, 5-8 are registered: none are)
				           */
			for (size_t i = 0; i < len; i++)
				out[pos++] = (char)tolower((unsigned char)p[i]);
		} else {
			int alpha = 1, digit = 1;

			for (size_t i = 0; i < len; i++) {
				alpha &= isalpha((unsigned char)p[i]) != 0;
				digit &= isdigit((unsigned char)p[i]) != 0;
			}
			out[pos++] = '-';
			if (in_ext) {
				for (size_t i = 0; i < len; i++)
					out[pos++] = (char)tolower((unsigned char)p[i]);
			} else if (len == 1) {
				in_ext = 1;
				out[pos++] = (char)tolower((unsigned char)p[0]);
			} else if (len == 4 && alpha && !seen_script && !seen_region && idx == 1) {
				seen_script = 1;
				out[pos++] = (char)toupper((unsigned char)p[0]);
				for (size_t i = 1; i < 4; i++)
					out[pos++] = (char)tolower((unsigned char)p[i]);
			} else if (((len == 2 && alpha) || (len == 3 && digit)) && !seen_region) {
				seen_region = 1;
				for (size_t i = 0; i < len; i++)
					out[pos++] = (char)toupper((unsigned char)p[i]);
			} else if (len >= 5 || (len == 4 && isdigit((unsigned char)p[0]))) {
				for (size_t i = 0; i < len; i++)
					out[pos++] = (char)tolower((unsigned char)p[i]);
			} else {
				return 0;
			}
		}
		idx++;
		p += len;
		if (*p == '-') {
			p++;
			if (*p == '\0')
				return 0;
		}
	}
	out[pos] = '\0';
	return 1;
}

static int country_ok(const char *s, char out[3])
{
	char look[4];

	if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
		return 0;
	out[0] = (char)toupper((unsigned char)s[0]);
	out[1] = (char)toupper((unsigned char)s[1]);
	out[2] = '\0';
	snprintf(look, sizeof(look), "%s ", out);
	for (const char *p = countries; *p; p += 3)
		if (strncmp(p, look, 3) == 0)
			return 1;
	return 0;
}

/* A controlled term: lowercased, spaces and underscores as '-'. */
static void slug(const char *s, char *out, size_t size)
{
	size_t n = 0;

	while (*s == ' ')
		s++;
	for (; *s && n + 1 < size; s++)
		out[n++] = *s == ' ' || *s == '_' ? '-' : (char)tolower((unsigned char)*s);
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

static int slug_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

/* 1 when the last label of host is a number as a browser reads one (the
 * WHATWG URL standard's "ends in a number": decimal digits, or 0x and hex
 * digits), so that the browser takes the whole host for an IPv4 address. */
static int ends_in_a_number(const char *host)
{
	const char *last = strrchr(host, '.');

	last = last ? last + 1 : host;
	if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
		return strspn(last + 2, "0123456789abcdefABCDEF") == strlen(last + 2);
	return *last && strspn(last, "0123456789") == strlen(last);
}

/* An address host in the one form the block list compares: IPv6 as
 * inet_ntop writes it; IPv4 only as four decimal numbers, since a browser
 * also reads 0x7f000001, 2130706433, 127.1 or 0177.0.0.1 as 127.0.0.1 and
 * such a spelling would pass an entry it does not equal. 0, or -1. */
static int address_host(char *host, size_t size, int v6, const char **why)
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];
	char canon[INET6_ADDRSTRLEN];

	if (v6) {
		if (inet_pton(AF_INET6, host, a) != 1)
			return *why = "has a host in [ ] that is not an IPv6 address", -1;
		/* ::ffff:a.b.c.d is a.b.c.d to a browser: compared as that */
		if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0
		            ? !inet_ntop(AF_INET, a + 12, canon, sizeof(canon))
		            : !inet_ntop(AF_INET6, a, canon, sizeof(canon)))
			return *why = "has a host in [ ] that is not an IPv6 address", -1;
	} else if (!ends_in_a_number(host)) {
		return 0;
	} else if (inet_pton(AF_INET, host, a) != 1 ||
	           !inet_ntop(AF_INET, a, canon, sizeof(canon)) || strcmp(canon, host) != 0) {
		return *why = "has a host that a browser reads as an IPv4 address but that is not "
		              "written as four decimal numbers (write it as a.b.c.d)",
		       -1;
	}
	if (strlen(canon) >= size)
		return *why = "has a host too long", -1;
	memcpy(host, canon, strlen(canon) + 1);
	return 0;
}

int library_url_host(const char *url, char *host, size_t size, const char **why)
{
	const char *p, *end, *at;
	size_t n;
	int v6 = 0;

	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return *why = "only http:// and https:// URLs are taken", -1;
	for (const unsigned char *q = (const unsigned char *)url; *q; q++)
		if (*q <= ' ' || *q == 0x7f || *q == '"' || *q == '<' || *q == '>' || *q == '\\')
			return *why = "holds a space, a quote, an angle bracket or a control "
			              "character",
			       -1;
	end = p + strcspn(p, "/?#");
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at)
		p = at + 1; /* user information: the host is what follows it */
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			return *why = "has an unclosed [ in its host", -1;
		n = (size_t)(rb - p - 1);
		p++;
		v6 = 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		n = (size_t)((colon ? colon : end) - p);
	}
	while (n && p[n - 1] == '.')
		n--;
	if (n == 0)
		return *why = "has no host", -1;
	if (n >= size)
		return *why = "has a host too long", -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		/* as the block list compares it: no percent-encoding, no other
		 * characters a browser would map to these (IDNs as xn--) */
		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != ':')
			return *why = "has a host of other characters than letters, digits, '-' and "
			              "'.' (write a non-ASCII name as xn--)",
			       -1;
		host[i] = (char)tolower(ch);
	}
	host[n] = '\0';
	return address_host(host, size, v6, why);
}

int library_host_matches(const char *host, const char *entry)
{
	size_t h = strlen(host), e = strlen(entry);

	if (e == 0 || e > h)
		return 0;
	if (strcasecmp(host + (h - e), entry) != 0)
		return 0;
	return h == e || host[h - e - 1] == '.';
}

enum tix_err library_query_check(const struct library_query *q, struct tix_error *err)
{
	char buf[128];
	const char *why = NULL;

	if (q->text && !formats_utf8_ok(q->text, strlen(q->text)))
		return tix_error_set(err, TIX_EINVAL, "query", "not UTF-8");
	if (q->audience &&
	    (!formats_utf8_ok(q->audience, strlen(q->audience)) || strlen(q->audience) >= 64 ||
	     (slug(q->audience, buf, sizeof(buf)), !in_list(audiences, buf))))
		return tix_error_set(err, TIX_EINVAL, "audience",
		                     "one of children, parents, educators, industry, "
		                     "policy-makers, police, prosecutors, judges, cert-staff");
	if (q->lang && !lang_ok(q->lang, buf, sizeof(buf)))
		return tix_error_set(err, TIX_EINVAL, "lang",
		                     "not a BCP 47 language tag (en, pt-BR, sr-Latn, zh-Hant)");
	if (q->country && !country_ok(q->country, buf))
		return tix_error_set(err, TIX_EINVAL, "country",
		                     "not an ISO 3166-1 alpha-2 country code (KE, BR, TH)");
	if (q->topic && (!formats_utf8_ok(q->topic, strlen(q->topic)) || strlen(q->topic) >= 64 ||
	                 (slug(q->topic, buf, sizeof(buf)),
	                  !in_list(topics, buf) && !(strncmp(buf, "x-", 2) == 0 && slug_ok(buf)))))
		return tix_error_set(err, TIX_EINVAL, "topic",
		                     "not in the topic list (docs/library.md) nor a topic of "
		                     "one's own (x-...)");
	if (q->license && (!text_ok(q->license, &why) || strlen(q->license) > 256))
		return tix_error_set(err, TIX_EINVAL, "license", "%s",
		                     why ? why : "longer than 256 bytes");
	return TIX_OK;
}

/* ---- the object ----------------------------------------------------------- */

static int fail_at(struct tix_error *err, const char *where, const char *fmt, ...) TIX_PRINTF(3, 4);
static int fail_at(struct tix_error *err, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tix_error_set(err, TIX_EINVAL, where, "%s", msg);
	return -1;
}
#define FAIL(...) fail_at(err, where, __VA_ARGS__)

/* The items of a list field: an array of strings, or text split on ';'
 * (surrounding spaces dropped, empty items left out), as a new array. */
static json_t *items_of(const json_t *v)
{
	json_t *a = json_array();

	if (json_is_array(v)) {
		size_t i;
		const json_t *x;

		json_array_foreach (v, i, x) {
			if (!json_is_string(x)) {
				json_decref(a);
				return NULL;
			}
			json_array_append(a, (json_t *)x);
		}
		return a;
	}
	if (!json_is_string(v)) {
		json_decref(a);
		return NULL;
	}
	for (const char *p = json_string_value(v); *p;) {
		size_t len = strcspn(p, ";");
		const char *q = p, *e = p + len;

		while (q < e && isspace((unsigned char)*q))
			q++;
		while (e > q && isspace((unsigned char)e[-1]))
			e--;
		if (e > q)
			json_array_append_new(a, json_stringn(q, (size_t)(e - q)));
		p += len;
		if (*p == ';')
			p++;
	}
	return a;
}

/* Checks one field's value; sets the checked value in out. 0 or -1. */
static int check_field(const struct field *f, const json_t *v, json_t *out, const char *where,
                       int (*blocked)(void *, const char *), void *barg, struct tix_error *err)
{
	const char *why = NULL;

	if (f->kind == K_TEXT || f->kind == K_URL || f->kind == K_AGES || f->kind == K_REVIEW ||
	    f->kind == K_FILE || f->kind == K_TLP) {
		const char *s;
		char buf[64];

		if (json_is_integer(v) && f->kind == K_TEXT) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			json_object_set_new(out, f->stix, json_string(buf));
			return 0;
		}
		if (!json_is_string(v))
			return FAIL("%s: must be text", f->stix);
		s = json_string_value(v);
		if (f->kind == K_URL) {
			char host[256];

			if (library_url_host(s, host, sizeof(host), &why) != 0 || !text_ok(s, &why))
				return FAIL("url: '%s': %s", s, why);
			if (blocked && blocked(barg, host))
				return FAIL(
				        "url: the host %s is on the library's block list (tix "
				        "library blocked); the library links to hotlines and never "
				        "to abuse material",
				        host);
		} else if (!text_ok(s, &why)) {
			return FAIL("%s: %s", f->stix, why);
		} else if (f->kind == K_AGES) {
			char *e1 = NULL, *e2 = NULL;
			long a = isdigit((unsigned char)s[0]) ? strtol(s, &e1, 10) : -1;
			long b = a >= 0 && *e1 == '-' && isdigit((unsigned char)e1[1])
			                 ? strtol(e1 + 1, &e2, 10)
			                 : -1;

			if (a < 0 || b < a || b > 120 || *e2 != '\0')
				return FAIL("age_range: '%s': give it as FROM-TO in years (8-12)",
				            s);
		} else if (f->kind == K_REVIEW) {
			slug(s, buf, sizeof(buf));
			if (!in_list(reviews, buf))
				return FAIL(
				        "review_status: '%s': unreviewed, approved, needs-changes "
				        "or rejected",
				        s);
			s = buf;
		} else if (f->kind == K_FILE) {
			if (!*s || strchr(s, '/') || strchr(s, '\\') || s[0] == '.' ||
			    strlen(s) > 200)
				return FAIL("file: '%s': a plain file name (no directory, not "
				            "starting with '.')",
				            s);
		} else if (f->kind == K_TLP) {
			slug(s, buf, sizeof(buf));
			if (strcmp(buf, "clear") != 0 && strcmp(buf, "white") != 0 &&
			    strcmp(buf, "green") != 0)
				return FAIL(
				        "tlp: '%s': a library resource is shared: clear or green",
				        s);
			s = strcmp(buf, "green") == 0 ? "green" : "clear";
		}
		{
			/* surrounding white space dropped; nothing left: not given */
			size_t n = strlen(s);

			while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			             s[n - 1] == '\r'))
				n--;
			while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
				s++, n--;
			if (n == 0)
				return 0;
			json_object_set_new(out, f->stix, json_stringn(s, n));
		}
		return 0;
	} else {
		json_t *items = items_of(v), *checked = json_array();
		const json_t *x;
		size_t i;

		if (items == NULL) {
			json_decref(checked);
			return FAIL("%s: must be a list of text (or text separated by ';')",
			            f->stix);
		}
		json_array_foreach (items, i, x) {
			const char *s = json_string_value(x);
			char buf[128];

			switch (f->kind) {
			case K_LANGS:
				if (!lang_ok(s, buf, sizeof(buf))) {
					FAIL("in_language: '%s' is not a BCP 47 language tag "
					     "(en, pt-BR, sr-Latn, zh-Hant)",
					     s);
					json_decref(items);
					json_decref(checked);
					return -1;
				}
				break;
			case K_COUNTRIES:
				if (!country_ok(s, buf)) {
					FAIL("country: '%s' is not an ISO 3166-1 alpha-2 country "
					     "code (KE, BR, TH)",
					     s);
					json_decref(items);
					json_decref(checked);
					return -1;
				}
				break;
			case K_AUDIENCE:
				slug(s, buf, sizeof(buf));
				if (!in_list(audiences, buf)) {
					FAIL("audience: '%s': one of children, parents, educators, "
					     "industry, policy-makers, police, prosecutors, judges, "
					     "cert-staff",
					     s);
					json_decref(items);
					json_decref(checked);
					return -1;
				}
				break;
			case K_TOPICS:
				slug(s, buf, sizeof(buf));
				if (!in_list(topics, buf) &&
				    !(strncmp(buf, "x-", 2) == 0 && slug_ok(buf))) {
					FAIL("topics: '%s' is not in the topic list (docs/library.md); "
					     "a topic of your own starts with x- (x-sexting)",
					     s);
					json_decref(items);
					json_decref(checked);
					return -1;
				}
				break;
			default:
				if (!text_ok(s, &why)) {
					FAIL("%s: %s", f->stix, why);
					json_decref(items);
					json_decref(checked);
					return -1;
				}
				snprintf(buf, sizeof(buf), "%s", s);
				break;
			}
			{
				int dup = 0;
				size_t k;
				const json_t *y;

				json_array_foreach (checked, k, y)
					dup |= strcmp(json_string_value(y), buf) == 0;
				if (!dup)
					json_array_append_new(checked, json_string(buf));
			}
		}
		json_decref(items);
		if (json_array_size(checked))
			json_object_set_new(out, f->stix, checked);
		else
			json_decref(checked);
		return 0;
	}
}

/* translations: {"fr": {"title": ..., "description": ...}, ...}; CSV
 * columns title@fr and description@fr land here too. */
static int add_translation(json_t *tr, const char *lang, const char *key, const json_t *v,
                           const char *where, struct tix_error *err)
{
	char tag[72];
	const char *why = NULL;
	json_t *t;

	if (!lang_ok(lang, tag, sizeof(tag)))
		return FAIL("translations: '%s' is not a BCP 47 language tag", lang);
	if (strcmp(key, "title") != 0 && strcmp(key, "description") != 0)
		return FAIL("translations: %s: title and description only", tag);
	if (!json_is_string(v))
		return FAIL("translations: %s %s: must be text", tag, key);
	if (!text_ok(json_string_value(v), &why))
		return FAIL("translations: %s %s: %s", tag, key, why);
	if (json_string_length(v) == 0)
		return 0;
	if ((t = json_object_get(tr, tag)) == NULL) {
		t = json_object();
		json_object_set_new(tr, tag, t);
	}
	json_object_set(t, key, (json_t *)v);
	return 0;
}

struct latest {
	json_t *obj;
};

static int keep_latest(void *arg, const struct store_row *row)
{
	struct latest *l = arg;

	json_decref(l->obj);
	l->obj = json_loadb(row->body, row->body_len, 0, NULL);
	return 0;
}

/* The latest stored version of id, or NULL. */
static json_t *stored(struct store *s, const char *id)
{
	struct store_query q = {0};
	struct latest l = {NULL};
	struct tix_error err;

	if (s == NULL)
		return NULL;
	q.id = id;
	if (store_query(s, &q, keep_latest, &l, &err) != TIX_OK) {
		json_decref(l.obj);
		return NULL;
	}
	return l.obj;
}

static void derived_id(const char *type, const char *a, const char *b, char out[128])
{
	struct tix_uuid ns, u;
	struct tix_buf name;
	char text[37];

	tix_uuid_parse(LIBRARY_NS, &ns);
	tix_buf_init(&name, TIX_BUF_UNLIMITED);
	tix_buf_addf(&name, "%s\n%s\n%s", type, a ? a : "", b ? b : "");
	tix_uuid_v5(&ns, tix_buf_str(&name), tix_buf_len(&name), &u);
	tix_buf_release(&name);
	snprintf(out, 128, "%s--%s", type, tix_uuid_format(&u, text));
}

/* id, created (kept from the stored version), modified, spec_version, the
 * marking and the extension, set on o. */
static int finish(const struct library_ctx *c, json_t *o, const char *type, const char *ext,
                  const char *id, const json_t *in, const char *tlp, const char *where,
                  struct tix_error *err)
{
	char now[32], t[32];
	json_t *old = stored(c->s, id);
	const char *created = json_string_value(json_object_get(in, "created"));
	const char *modified = json_string_value(json_object_get(in, "modified"));
	struct tix_time tt;

	if (created && tix_time_parse(created, &tt, NULL) != TIX_OK)
		return json_decref(old), FAIL("created: not a timestamp");
	if (modified && tix_time_parse(modified, &tt, NULL) != TIX_OK)
		return json_decref(old), FAIL("modified: not a timestamp");
	tix_time_format_us(c->now_us, 3, now);
	if (old && json_object_get(old, "created"))
		created = json_string_value(json_object_get(old, "created"));
	if (!modified) {
		modified = now;
		/* a new version is later than the stored one */
		if (old && json_string_value(json_object_get(old, "modified")) &&
		    strcmp(json_string_value(json_object_get(old, "modified")), now) >= 0) {
			const char *om = json_string_value(json_object_get(old, "modified"));

			if (tix_time_parse(om, &tt, NULL) == TIX_OK)
				modified = tix_time_format_us(tix_time_to_us(&tt) + 1000, 3, t);
		}
	}
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "created", json_string(created ? created : modified));
	json_object_set_new(o, "modified", json_string(modified));
	json_object_set_new(
	        o, "object_marking_refs",
	        json_pack("[s]", tlp && strcmp(tlp, "green") == 0 ? TLP_GREEN_ID : TLP_CLEAR_ID));
	json_object_set_new(o, "extensions",
	                    json_pack("{s:{s:s}}", ext, "extension_type", "new-sdo"));
	json_decref(old);
	return 0;
}

json_t *library_resource_make(const struct library_ctx *c, const json_t *in,
                              int (*blocked)(void *, const char *host), void *barg,
                              struct tix_error *err)
{
	const char *where = json_string_value(json_object_get(in, "id"));
	const char *key, *type = json_string_value(json_object_get(in, "type"));
	json_t *o = json_object(), *tr = json_object(), *v;
	char id[128];
	const char *tlp = NULL;

	if (!json_is_object(in)) {
		tix_error_set(err, TIX_EINVAL, "resource", "must be an object of fields");
		goto fail;
	}
	if (where == NULL)
		where = json_string_value(json_object_get(in, "title"));
	if (where == NULL)
		where = "resource";
	if (type && strcmp(type, LIBRARY_TYPE) != 0) {
		FAIL("type: '%s': a resource is an " LIBRARY_TYPE, type);
		goto fail;
	}
	json_object_foreach ((json_t *)in, key, v) {
		const struct field *f = field_named(key);
		const char *at = strchr(key, '@');

		if (at && (size_t)(at - key) < 16) {
			char base[16];

			memcpy(base, key, (size_t)(at - key));
			base[at - key] = '\0';
			if (add_translation(tr, at + 1, base, v, where, err) != 0)
				goto fail;
			continue;
		}
		if (strcmp(key, "translations") == 0) {
			const char *lang, *k2;
			json_t *t, *x;

			if (!json_is_object(v)) {
				FAIL("translations: an object of language tags");
				goto fail;
			}
			json_object_foreach (v, lang, t) {
				if (!json_is_object(t)) {
					FAIL("translations: %s: an object of title and description",
					     lang);
					goto fail;
				}
				json_object_foreach (t, k2, x)
					if (add_translation(tr, lang, k2, x, where, err) != 0)
						goto fail;
			}
			continue;
		}
		if (f == NULL) {
			if (in_list(common, key))
				continue;
			FAIL("'%s' is not a field of a resource (docs/library.md)", key);
			goto fail;
		}
		if (json_is_null(v))
			continue;
		if (check_field(f, v, o, where, blocked, barg, err) != 0)
			goto fail;
	}
	if (!json_string_value(json_object_get(o, "title"))) {
		tix_error_set(err, TIX_EINVAL, where, "title: missing; every resource has a title");
		goto fail;
	}
	if ((v = json_object_get(in, "object_marking_refs")) != NULL) {
		const char *m = json_string_value(json_array_get(v, 0));

		if (json_array_size(v) != 1 || m == NULL ||
		    (strcmp(m, TLP_CLEAR_ID) != 0 && strcmp(m, TLP_GREEN_ID) != 0)) {
			FAIL("object_marking_refs: a library resource is TLP:CLEAR or TLP:GREEN");
			goto fail;
		}
		tlp = strcmp(m, TLP_GREEN_ID) == 0 ? "green" : "clear";
	}
	if (json_string_value(json_object_get(o, "tlp")))
		tlp = strcmp(json_string_value(json_object_get(o, "tlp")), "green") == 0 ? "green"
		                                                                         : "clear";
	json_object_del(o, "tlp");
	if (json_object_size(tr))
		json_object_set(o, "translations", tr);
	if (json_string_value(json_object_get(in, "id"))) {
		const char *given = json_string_value(json_object_get(in, "id"));
		struct tix_uuid u;

		if (strncmp(given, LIBRARY_TYPE "--", strlen(LIBRARY_TYPE) + 2) != 0 ||
		    tix_uuid_parse(given + strlen(LIBRARY_TYPE) + 2, &u) != TIX_OK) {
			FAIL("id: '%s' is not an " LIBRARY_TYPE " id", given);
			goto fail;
		}
		snprintf(id, sizeof(id), "%s", given);
	} else {
		const char *url = json_string_value(json_object_get(o, "url"));

		derived_id(LIBRARY_TYPE, c->org,
		           url ? url : json_string_value(json_object_get(o, "title")), id);
	}
	if (finish(c, o, LIBRARY_TYPE, LIBRARY_EXT, id, in, tlp, where, err) != 0)
		goto fail;
	json_decref(tr);
	return o;
fail:
	json_decref(o);
	json_decref(tr);
	return NULL;
}

/* ---- CSV ------------------------------------------------------------------ */

#define CSV_MAX_COLS 64

json_t *library_csv_rows(const char *data, size_t len, const char *source, struct tix_error *err)
{
	const char *fields_[CSV_MAX_COLS], *why = NULL, *p, *end;
	char *buf = NULL, *names[CSV_MAX_COLS] = {0};
	size_t lines = 0, bufsize = len + 1;
	int ncols, n;
	json_t *rows = NULL;
	char where[64];

	data = formats_skip_bom(data, &len);
	p = data;
	end = data + len;
	if (!formats_utf8_ok(data, len)) {
		tix_error_set(err, TIX_EINVAL, source, "not UTF-8");
		return NULL;
	}
	if ((buf = malloc(bufsize)) == NULL) {
		tix_error_set(err, TIX_ENOMEM, source, "out of memory");
		return NULL;
	}
	ncols = formats_csv_record(&p, end, ',', buf, bufsize, fields_, CSV_MAX_COLS, &lines, &why);
	if (ncols <= 0) {
		tix_error_set(err, TIX_EINVAL, source, "line 1: %s",
		              ncols < 0 ? why : "no header row");
		goto out;
	}
	for (int i = 0; i < ncols; i++) {
		const char *at = strchr(fields_[i], '@');
		size_t base = at ? (size_t)(at - fields_[i]) : strlen(fields_[i]);
		char b[32];

		names[i] = strdup(fields_[i]);
		if (names[i] == NULL) {
			tix_error_set(err, TIX_ENOMEM, source, "out of memory");
			goto out;
		}
		if (base >= sizeof(b)) {
			tix_error_set(err, TIX_EINVAL, source, "line 1: column '%s' is not a field",
			              fields_[i]);
			goto out;
		}
		memcpy(b, fields_[i], base);
		b[base] = '\0';
		if ((at && strcmp(b, "title") != 0 && strcmp(b, "description") != 0) ||
		    (!at && field_named(b) == NULL)) {
			tix_error_set(err, TIX_EINVAL, source,
			              "line 1: column '%s' is not a field of a resource "
			              "(docs/library.md)",
			              fields_[i]);
			goto out;
		}
		for (int k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0) {
				tix_error_set(err, TIX_EINVAL, source, "line 1: column '%s' twice",
				              names[i]);
				goto out;
			}
	}
	rows = json_array();
	while (p < end) {
		size_t line = lines + 1;
		json_t *row;

		n = formats_csv_record(&p, end, ',', buf, bufsize, fields_, CSV_MAX_COLS, &lines,
		                       &why);
		if (n == 0)
			break;
		snprintf(where, sizeof(where), "%s:%zu", source, line);
		if (n < 0) {
			tix_error_set(err, TIX_EINVAL, where, "%s", why);
			goto bad;
		}
		if (n == 1 && fields_[0][0] == '\0')
			continue; /* an empty line */
		if (n > ncols) {
			tix_error_set(err, TIX_EINVAL, where, "%d fields, the header names %d", n,
			              ncols);
			goto bad;
		}
		row = json_object();
		for (int i = 0; i < n; i++)
			if (fields_[i][0])
				json_object_set_new(row, names[i], json_string(fields_[i]));
		json_object_set_new(row, "__line", json_integer((json_int_t)line));
		json_array_append_new(rows, row);
	}
	goto out;
bad:
	json_decref(rows);
	rows = NULL;
out:
	for (int i = 0; i < CSV_MAX_COLS; i++)
		free(names[i]);
	free(buf);
	return rows;
}

/* ---- writing --------------------------------------------------------------- */

static void add_blocked(void *arg, const char *host, const char *reason)
{
	struct library_blocklist *b = arg;

	(void)reason;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		char **h = realloc(b->hosts, cap * sizeof(*h));

		if (h == NULL)
			return;
		b->hosts = h;
		b->cap = cap;
	}
	if ((b->hosts[b->n] = strdup(host)) != NULL)
		b->n++;
}

enum tix_err library_blocklist_load(struct store *s, struct library_blocklist *b,
                                    struct tix_error *err)
{
	*b = (struct library_blocklist){0};
	return store_library_blocked(s, add_blocked, b, err);
}

int library_blocked(void *arg, const char *host)
{
	const struct library_blocklist *b = arg;

	for (size_t i = 0; i < b->n; i++)
		if (library_host_matches(host, b->hosts[i]))
			return 1;
	return 0;
}

void library_blocklist_free(struct library_blocklist *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->hosts[i]);
	free(b->hosts);
	*b = (struct library_blocklist){0};
}

static enum tix_err store_one(const struct library_ctx *c, const json_t *v, struct tix_buf *ids,
                              struct tix_error *err)
{
	struct stix_meta meta;
	struct tix_buf body;
	enum tix_err e;
	int added = 0;
	const char *id = json_string_value(json_object_get(v, "id"));

	if ((e = stix_prepare_write(v, &meta, &body, err)) != TIX_OK) {
		tix_buf_release(&body);
		return e;
	}
	e = store_put(c->s, &meta, tix_buf_str(&body), tix_buf_len(&body), c->org, c->collection,
	              NULL, &added, err);
	tix_buf_release(&body);
	if (e == TIX_OK)
		tix_buf_addf(ids, "%s\n", id);
	return e;
}

static enum tix_err audit_write(const struct library_ctx *c, const char *ids, const char *detail,
                                struct tix_error *err)
{
	struct store_audit_entry ae;
	struct tix_time now;

	tix_time_now(&now);
	ae = (struct store_audit_entry){
	        tix_time_to_us(&now), "write", c->actor ? c->actor : "operator",
	        c->org ? c->org : "", ids,     detail};
	return store_audit_append(c->s, &ae, 1, err);
}

enum tix_err library_put(const struct library_ctx *c, const json_t *inputs, json_t *ids,
                         size_t *bad, struct tix_error *err)
{
	struct library_blocklist bl = {0};
	json_t *made = json_array(), *seen = json_object();
	struct tix_buf idb;
	enum tix_err e = TIX_OK;
	const json_t *in;
	size_t i;

	tix_buf_init(&idb, TIX_BUF_UNLIMITED);
	tix_buf_addc(&idb, '\n');
	if ((e = library_blocklist_load(c->s, &bl, err)) != TIX_OK)
		goto out;
	json_array_foreach (inputs, i, in) {
		json_t *copy = json_deep_copy(in), *o;
		json_int_t line = json_integer_value(json_object_get(in, "__line"));

		json_object_del(copy, "__line");
		o = library_resource_make(c, copy, library_blocked, &bl, err);
		json_decref(copy);
		if (o == NULL) {
			if (line) {
				char w[300];

				snprintf(w, sizeof(w), "line %lld: %s", (long long)line,
				         err->where);
				snprintf(err->where, sizeof(err->where), "%s", w);
			}
			if (bad)
				*bad = i;
			e = err->code;
			goto out;
		}
		{
			/* one version per resource and write: a second one with the
			 * same id (two rows of one URL, a pack naming an object twice)
			 * would be dropped or disagree with the first */
			const char *id = json_string_value(json_object_get(o, "id"));
			const json_t *first = json_object_get(seen, id);

			if (first) {
				json_int_t at = json_integer_value(first);

				if (line)
					tix_error_set(
					        err, TIX_EINVAL, id,
					        "line %lld: the same resource as line %lld (one "
					        "id: the same url, or title when there is none); "
					        "give each once",
					        (long long)line, (long long)at);
				else
					tix_error_set(err, TIX_EINVAL, id,
					              "resource %zu: the same id as resource %lld; "
					              "give each once",
					              i + 1, (long long)at);
				json_decref(o);
				if (bad)
					*bad = i;
				e = TIX_EINVAL;
				goto out;
			}
			json_object_set_new(seen, id,
			                    json_integer(line ? line : (json_int_t)i + 1));
		}
		json_array_append_new(made, o);
	}
	if ((e = store_begin(c->s, err)) != TIX_OK)
		goto out;
	json_array_foreach (made, i, in) {
		if ((e = store_one(c, in, &idb, err)) != TIX_OK) {
			if (bad)
				*bad = i;
			break;
		}
	}
	if (e == TIX_OK)
		e = audit_write(c, tix_buf_str(&idb), "tix library: resources", err);
	if (e == TIX_OK)
		e = store_commit(c->s, err);
	else
		store_rollback(c->s);
	if (e == TIX_OK && ids)
		json_array_foreach (made, i, in)
			json_array_append(ids, json_object_get(in, "id"));
out:
	library_blocklist_free(&bl);
	json_decref(seen);
	json_decref(made);
	tix_buf_release(&idb);
	return e;
}

enum tix_err library_review(const struct library_ctx *c, const char *id, const char *status,
                            const char *comment, char review_id[128], struct tix_error *err)
{
	const char *where = id, *why = NULL;
	json_t *res, *o;
	struct tix_buf idb;
	char st[32];
	enum tix_err e;

	if (c->org == NULL || !*c->org)
		return tix_error_set(err, TIX_EUSAGE, id,
		                     "a review is an organisation's: give --org ORG");
	res = stored(c->s, id);
	if (res == NULL || strcmp(type_of(res), LIBRARY_TYPE) != 0) {
		json_decref(res);
		return tix_error_set(err, TIX_ENOTFOUND, id, "no such resource");
	}
	json_decref(res);
	slug(status ? status : "", st, sizeof(st));
	if (!in_list(reviews, st) || strcmp(st, "unreviewed") == 0)
		return FAIL("status: '%s': approved, needs-changes or rejected",
		            status ? status : ""),
		       TIX_EINVAL;
	if (comment && !text_ok(comment, &why))
		return FAIL("comment: %s", why), TIX_EINVAL;
	derived_id(LIBRARY_REVIEW_TYPE, id, c->org, review_id);
	o = json_pack("{s:s, s:s, s:s}", "resource_ref", id, "review_status", st, "reviewer",
	              c->org);
	if (comment && *comment)
		json_object_set_new(o, "comment", json_string(comment));
	if (finish(c, o, LIBRARY_REVIEW_TYPE, LIBRARY_REVIEW_EXT, review_id, NULL, "clear", where,
	           err) != 0) {
		json_decref(o);
		return TIX_EINVAL;
	}
	tix_buf_init(&idb, TIX_BUF_UNLIMITED);
	tix_buf_addc(&idb, '\n');
	if ((e = store_begin(c->s, err)) == TIX_OK) {
		e = store_one(c, o, &idb, err);
		if (e == TIX_OK)
			e = audit_write(c, tix_buf_str(&idb), "tix library review", err);
		if (e == TIX_OK)
			e = store_commit(c->s, err);
		else
			store_rollback(c->s);
	}
	tix_buf_release(&idb);
	json_decref(o);
	return e;
}

static int collect_review(void *arg, const struct store_row *row)
{
	json_t **x = arg;
	json_t *o = json_loadb(row->body, row->body_len, 0, NULL);

	if (o && json_is_string(json_object_get(o, "resource_ref")) &&
	    strcmp(json_string_value(json_object_get(o, "resource_ref")),
	           json_string_value(json_object_get(x[0], "id"))) == 0)
		json_array_append(x[1], o);
	json_decref(o);
	return 0;
}

enum tix_err library_show(struct store *s, const char *id, json_t **out, struct tix_error *err)
{
	const char *types[2] = {LIBRARY_REVIEW_TYPE, NULL};
	struct store_query q = {0};
	json_t *res = stored(s, id), *x[2];
	enum tix_err e;

	if (res == NULL || strcmp(type_of(res), LIBRARY_TYPE) != 0) {
		json_decref(res);
		return tix_error_set(err, TIX_ENOTFOUND, id, "no such resource");
	}
	x[0] = res;
	x[1] = json_array();
	q.types = types;
	if ((e = store_query(s, &q, collect_review, x, err)) != TIX_OK) {
		json_decref(res);
		json_decref(x[1]);
		return e;
	}
	*out = json_pack("{s:o, s:o}", "resource", res, "reviews", x[1]);
	return TIX_OK;
}

json_t *library_extension_definitions(void)
{
	return json_pack(
	        "[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s,"
	        "s,s,s,s,s]},"
	        " {s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s,s,s,s]}]",
	        "type", "extension-definition", "spec_version", "2.1", "id", LIBRARY_EXT, "created",
	        "2026-12-04T00:00:00.000Z", "modified", "2026-12-04T00:00:00.000Z", "name",
	        "tix library resource", "description",
	        "A child online protection or capacity-building resource (LRMI-style): title and "
	        "description with translations, publisher, url, languages (BCP 47), countries "
	        "(ISO 3166-1), audience, age range, learning resource type, topics, format, size, "
	        "licence, accessibility, review status and reviewer.",
	        "schema", "https://github.com/tix/docs/library.md", "version", "1.0.0",
	        "extension_types", "new-sdo", "extension_properties", "title", "description",
	        "translations", "publisher", "url", "in_language", "country", "audience",
	        "age_range", "learning_resource_type", "topics", "format", "size", "license",
	        "accessibility", "review_status", "reviewer", "file",
	        /* reviews */
	        "type", "extension-definition", "spec_version", "2.1", "id", LIBRARY_REVIEW_EXT,
	        "created", "2026-12-04T00:00:00.000Z", "modified", "2026-12-04T00:00:00.000Z",
	        "name", "tix library review", "description",
	        "An organisation's review of a library resource: approved, needs-changes or "
	        "rejected, with a comment; each reviewing organisation writes its own.",
	        "schema", "https://github.com/tix/docs/library.md", "version", "1.0.0",
	        "extension_types", "new-sdo", "extension_properties", "resource_ref",
	        "review_status", "reviewer", "comment");
}
