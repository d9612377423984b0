/*
 * stix/validate.c — checks one STIX object against the STIX 2.1 MUST rules:
 * the common properties of section 3.2, each type's properties as
 * described in stix_types.c, and the cross-property rules the tables cannot
 * express (ordering of timestamps, mutually exclusive properties, ...).
 * Every problem is reported with the JSON path of the property.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_int.h"
#include "stix/stix_types.h"

struct vctx {
	const struct stix_validate_opts *opts;
	struct stix_problems *out;
	size_t before;
	int stix20; /* no spec_version: a STIX 2.0 object, read leniently */
	/* Inside observed-data's (2.0, deprecated in 2.1) objects dictionary,
	 * references are the dictionary's keys ("src_ref": "0", 2.1 section 2.13). */
	const json_t *local_objects;
};

/* The JSON path of the value being checked, as a chain of stack nodes
 * that is only turned into text when a problem is recorded: validating a
 * valid object formats nothing. */
struct vpath {
	const struct vpath *up;
	const char *name; /* a property name, or NULL for a list index */
	size_t index;
};

#define VP(up, n)  (&(const struct vpath){(up), (n), 0})
#define VPI(up, i) (&(const struct vpath){(up), NULL, (i)})

static size_t vpath_format(const struct vpath *p, char *buf, size_t size)
{
	size_t n = 0;
	int w;

	if (p == NULL)
		return 0;
	n = vpath_format(p->up, buf, size);
	if (n >= size)
		return n;
	if (p->name == NULL)
		w = snprintf(buf + n, size - n, "[%zu]", p->index);
	else
		w = snprintf(buf + n, size - n, "%s%s", n && *p->name ? "." : "", p->name);
	return w < 0 ? n : n + (size_t)w;
}

/* ---- problems -------------------------------------------------------- */

void stix_problems_init(struct stix_problems *p)
{
	memset(p, 0, sizeof(*p));
	p->limit = 20;
}

void stix_problems_reset(struct stix_problems *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->msgs[i]);
	for (size_t i = 0; i < p->nwarns; i++)
		free(p->warns[i]);
	p->count = 0;
	p->nwarns = 0;
	p->dropped = 0;
}

void stix_problems_release(struct stix_problems *p)
{
	if (p == NULL)
		return;
	stix_problems_reset(p);
	free(p->msgs);
	free(p->warns);
	p->msgs = NULL;
	p->warns = NULL;
	p->cap = 0;
	p->warncap = 0;
}

/* Moves the problems of scratch into p's warnings (up to p's limit). */
static void problems_to_warnings(struct stix_problems *p, struct stix_problems *scratch)
{
	for (size_t i = 0; i < scratch->count; i++) {
		if (p->nwarns >= p->limit)
			break;
		if (p->nwarns == p->warncap) {
			size_t ncap = p->warncap ? p->warncap * 2 : 4;
			char **nw = realloc(p->warns, ncap * sizeof(*nw));

			if (nw == NULL)
				break;
			p->warns = nw;
			p->warncap = ncap;
		}
		p->warns[p->nwarns++] = scratch->msgs[i];
		scratch->msgs[i] = NULL;
	}
	stix_problems_release(scratch);
}

static void problem(struct vctx *c, const struct vpath *path, const char *fmt, ...)
        TIX_PRINTF(3, 4);

static void problem(struct vctx *c, const struct vpath *path, const char *fmt, ...)
{
	struct stix_problems *p = c->out;
	char msg[640];
	size_t len;
	va_list ap;

	if (p->count >= p->limit) {
		p->dropped++;
		return;
	}
	/* vpath_format returns the length the whole path would have; a path
	 * longer than the buffer (hostile property names) is cut there. */
	len = vpath_format(path, msg, sizeof(msg) - 3);
	if (len > sizeof(msg) - 4)
		len = sizeof(msg) - 4;
	if (len > 0) {
		msg[len++] = ':';
		msg[len++] = ' ';
		msg[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	va_end(ap);
	if (p->count == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		char **nm = realloc(p->msgs, ncap * sizeof(*nm));

		if (nm == NULL) {
			p->dropped++;
			return;
		}
		p->msgs = nm;
		p->cap = ncap;
	}
	if ((p->msgs[p->count] = strdup(msg)) == NULL)
		p->dropped++;
	else
		p->count++;
}

/* ---- lexical checks --------------------------------------------------- */

/* Section 3.1: type names are 3-250 of a-z 0-9 '-', start with a letter,
 * do not end with '-' and have no "--". */
int stix__valid_type_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 3 || n > 250 || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (ch == '-' && s[i + 1] == '-')
			return 0;
	}
	return 1;
}

/* Section 3.1: property names are 3-250 of a-z 0-9 '_', starting with a
 * letter ("id" is the one shorter name). */
static int valid_prop_name(const char *s)
{
	size_t n = strlen(s), i;

	if (strcmp(s, "id") == 0)
		return 1;
	if (n < 3 || n > 250 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* "type--UUID" with an RFC 4122 UUID (version 1-5, variant 10). On success
 * *type_len is the length of the type part. */
int stix__parse_identifier(const char *s, size_t *type_len, struct tix_uuid *u)
{
	const char *sep = strstr(s, "--");
	char type[251];
	size_t tl;
	int ver;

	if (sep == NULL || (tl = (size_t)(sep - s)) == 0 || tl > 250)
		return 0;
	memcpy(type, s, tl);
	type[tl] = '\0';
	if (!stix__valid_type_name(type) || strlen(sep + 2) != 36 ||
	    tix_uuid_parse(sep + 2, u) != TIX_OK)
		return 0;
	ver = tix_uuid_version(u);
	if (ver < 1 || ver > 5)
		return 0;
	if (type_len)
		*type_len = tl;
	return 1;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int valid_base64(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '=') {
			pad++;
			if (i < n - 2)
				return 0;
		} else if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		                    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) {
			return 0;
		}
	}
	return 1;
}

/* An absolute URI (RFC 3986): a scheme, ':', and no spaces or controls. */
static int valid_uri(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
		    *p == '^' || *p == '`' || *p == '{' || *p == '|' || *p == '}' || *p == 0x7f)
			return 0;
	return 1;
}

/* Dictionary keys (section 2.3): 1-250 ASCII letters, digits, '-', '_'. */
static int valid_dict_key(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 250)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* ISO 639-1 codes, for the primary subtag of an RFC 5646 tag. */
static const char iso639_1[] =
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
        "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
        "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
        "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
        "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl "
        "sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
        "vi vo wa wo xh yi yo za zh zu ";

/* A commonly used subset of ISO 639-2/3 three-letter codes (those without
 * a two-letter code, plus the bibliographic and terminology forms of the
 * most used languages). */
static const char iso639_3[] =
        "ace ach ada ady afa afh ain akk ale alt ang anp apa arc arn arp art arw ast ath aus awa "
        "bad bai bal ban bas bat bej bem ber bho bik bin bla bnt bra btk bua bug byn cad cai car "
        "cau ceb cel chb chg chk chm chn cho chp chr chy cmc cop cpe cpf cpp crh crp csb cus dak "
        "dar day del den dgr din doi dra dsb dua dum dyu efi egy eka elx enm epo ewo fan fat fil "
        "fiu fon frm fro frr frs fur gaa gay gba gem gez gil gmh goh gon gor got grb grc gsw gwi "
        "hai haw hil him hit hmn hsb hup iba ijo ilo inc ine inh ira iro jbo jpr jrb kaa kab kac "
        "kam kar kaw kbd kha khi kho kmb kok kos kpe krc krl kro kru kum kut lad lah lam lez lol "
        "loz lua lui lun luo lus mad mag mai mak man map mas mdf mdr men mga mic min mis mkh mnc "
        "mni mno moh mos mul mun mus mwl mwr myn myv nah nai nap nds new nia nic niu nog non nqo "
        "nso nub nwc nym nyn nyo nzi osa ota oto paa pag pal pam pap pau peo phi phn pon pra pro "
        "raj rap rar roa rom rup sad sah sai sal sam sas sat scn sco sel sem sga sgn shn sid sio "
        "sit sla sma smi smj smn sms snk sog son srn srr ssa suk sus sux syc syr tai tem ter tet "
        "tig tiv tkl tlh tli tmh tog tpi tsi tum tup tut tvl tyv udm uga umb und urd vai vot wak "
        "wal war was wen xal yao yap ypk zap zbl zen zgh znd zun zxx zza "
        "alb arm baq bur chi cze dut fre geo ger gre ice mac mao may per rum slo tib wel "
        "sqi hye eus mya zho ces nld fra kat deu ell isl mkd mri msa fas ron slk bod cym "
        "eng spa por rus ara hin ben jpn kor ita tur pol ukr vie tha heb swe nor dan fin hun "
        "ind tgl swa amh yor ibo hau zul xho som orm tir kin run lug lin wol ful ";

static int in_wordlist(const char *list, const char *w, size_t n)
{
	const char *p = list;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && p[n] == ' ')
			return 1;
		p++;
	}
	return 0;
}

/* RFC 5646 language tag: a known primary language subtag, then subtags of
 * 1-8 letters or digits. */
int stix__valid_lang(const char *s)
{
	char primary[9];
	size_t n = 0;
	const char *p;

	while (s[n] && s[n] != '-' && n < 8)
		n++;
	if (n < 2 || n > 8 || (s[n] && s[n] != '-'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		primary[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		if (primary[i] < 'a' || primary[i] > 'z')
			return 0;
	}
	primary[n] = '\0';
	if (n == 2 && !in_wordlist(iso639_1, primary, 2))
		return 0;
	if (n == 3 && !in_wordlist(iso639_3, primary, 3))
		return 0;
	if (n > 3 && !(primary[0] == 'x' || primary[0] == 'i')) /* registered or private use */
		return 0;
	for (p = s + n; *p;) {
		size_t k = 0;

		if (*p != '-')
			return 0;
		p++;
		while (p[k] && p[k] != '-') {
			char ch = p[k];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9')))
				return 0;
			k++;
		}
		if (k < 1 || k > 8)
			return 0;
		p += k;
	}
	return 1;
}

/* ---- references ------------------------------------------------------- */

static int category_of_type(const char *type, size_t len)
{
	char t[251];
	const struct stix_type *st;

	if (len > 250)
		return -1;
	memcpy(t, type, len);
	t[len] = '\0';
	st = stix_type_find(t);
	if (st != NULL)
		return st->category;
	if (strcmp(t, "bundle") == 0)
		return -2;
	return -1; /* custom: unknown category */
}

/* Does an identifier of type type[0..len) satisfy the allowed list? */
static int ref_allowed(const char *const *refs, const char *type, size_t len)
{
	int cat = -3;

	for (; *refs; refs++) {
		const char *r = *refs;

		if (r[0] == '@') {
			if (cat == -3)
				cat = category_of_type(type, len);
			if ((strcmp(r, "@sdo") == 0 && (cat == SC_SDO || cat == -1)) ||
			    (strcmp(r, "@sco") == 0 && (cat == SC_SCO || cat == -1)) ||
			    (strcmp(r, "@sro") == 0 && cat == SC_SRO))
				return 1;
		} else if (strlen(r) == len && memcmp(r, type, len) == 0) {
			return 1;
		}
	}
	return 0;
}

static void list_refs(char *buf, size_t size, const char *const *refs)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *refs && n + 2 < size; refs++) {
		const char *r = *refs;

		if (strcmp(r, "@sdo") == 0)
			r = "a domain object";
		else if (strcmp(r, "@sco") == 0)
			r = "a cyber-observable";
		else if (strcmp(r, "@sro") == 0)
			r = "a relationship object";
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", r);
	}
}

static void check_identifier(struct vctx *c, const struct vpath *path, const json_t *v,
                             const char *const *refs)
{
	size_t tl;
	struct tix_uuid u;
	const char *s;
	char allowed[256];

	if (!json_is_string(v)) {
		problem(c, path, "must be an identifier string (type--UUID)");
		return;
	}
	s = json_string_value(v);
	if (c->local_objects) {
		if (json_object_get(c->local_objects, s))
			return;
		if (strstr(s, "--") == NULL) {
			problem(c, path, "'%.120s' is not a key of this objects dictionary", s);
			return;
		}
	}
	if (!stix__parse_identifier(s, &tl, &u)) {
		problem(c, path, "'%.120s' is not an identifier (type--UUID, RFC 4122 UUID)", s);
		return;
	}
	if (refs && !ref_allowed(refs, s, tl)) {
		list_refs(allowed, sizeof(allowed), refs);
		problem(c, path, "'%.120s' must refer to %s", s, allowed);
	}
}

/* ---- values by kind ------------------------------------------------------ */

static void check_props(struct vctx *c, const struct vpath *path, const json_t *obj,
                        const struct stix_type *t);

static const char *const hash_names[] = {"MD5",      "SHA-1",  "SHA-256", "SHA-512", "SHA3-256",
                                         "SHA3-512", "SSDEEP", "TLSH",    NULL};

static void check_hashes(struct vctx *c, const struct vpath *path, const json_t *v)
{
	const char *k;
	json_t *h;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		problem(c, path, "must be a non-empty hashes dictionary");
		return;
	}
	json_object_foreach ((json_t *)v, k, h) {
		const char *hs = json_string_value(h);
		size_t n = hs ? strlen(hs) : 0;
		int known = 0;

		const struct vpath *sub = VP(path, k);
		if (!json_is_string(h)) {
			problem(c, sub, "hash value must be a string");
			continue;
		}
		for (int i = 0; hash_names[i]; i++)
			if (strcmp(k, hash_names[i]) == 0)
				known = 1;
		if (!known) {
			size_t kl = strlen(k);
			int ok = kl >= 3 && kl <= 250;

			for (size_t i = 0; ok && i < kl; i++)
				ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
				     (k[i] >= '0' && k[i] <= '9') || k[i] == '-' || k[i] == '_';
			if (!ok)
				problem(c, sub, "'%.80s' is not a hash algorithm name", k);
			else if (c->opts->strict)
				problem(c, sub,
				        "'%.80s' is not a hash algorithm of the "
				        "hashing-algorithm-ov",
				        k);
			continue;
		}
		if ((strcmp(k, "MD5") == 0 && !(n == 32 && is_hex(hs, n))) ||
		    (strcmp(k, "SHA-1") == 0 && !(n == 40 && is_hex(hs, n))) ||
		    ((strcmp(k, "SHA-256") == 0 || strcmp(k, "SHA3-256") == 0) &&
		     !(n == 64 && is_hex(hs, n))) ||
		    ((strcmp(k, "SHA-512") == 0 || strcmp(k, "SHA3-512") == 0) &&
		     !(n == 128 && is_hex(hs, n))) ||
		    (strcmp(k, "TLSH") == 0 && n != 70) ||
		    (strcmp(k, "SSDEEP") == 0 && (n < 1 || n > 128)))
			problem(c, sub, "'%.140s' is not a valid %s hash", hs, k);
	}
}

static int match_cve(const char *s)
{
	/* ^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$ */
	size_t n;

	if (strncmp(s, "CVE-", 4) != 0)
		return 0;
	for (int i = 4; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[8] != '-')
		return 0;
	s += 9;
	n = strlen(s);
	if (n < 4 || strspn(s, "0123456789") != n)
		return 0;
	return s[0] != '0' || n == 4;
}

static int match_capec(const char *s)
{
	size_t n;

	if (strncmp(s, "CAPEC-", 6) != 0)
		return 0;
	n = strlen(s + 6);
	return n > 0 && strspn(s + 6, "0123456789") == n;
}

static void check_extref(struct vctx *c, const struct vpath *path, const json_t *v)
{
	const char *src, *eid;

	if (!json_is_object(v)) {
		problem(c, path, "an external reference must be an object");
		return;
	}
	src = json_string_value(json_object_get(v, "source_name"));
	if (src == NULL)
		problem(c, VP(path, "source_name"), "is required and must be a string");
	if (!json_object_get(v, "description") && !json_object_get(v, "url") &&
	    !json_object_get(v, "external_id"))
		problem(c, path, "needs at least one of description, url or external_id");
	if (json_object_get(v, "description") && !json_is_string(json_object_get(v, "description")))
		problem(c, VP(path, "description"), "must be a string");
	if (json_object_get(v, "url")) {
		const char *u = json_string_value(json_object_get(v, "url"));

		if (u == NULL || !valid_uri(u))
			problem(c, VP(path, "url"), "'%.120s' is not a URI",
			        u ? u : "(not a string)");
	}
	if (json_object_get(v, "hashes"))
		check_hashes(c, VP(path, "hashes"), json_object_get(v, "hashes"));
	eid = json_string_value(json_object_get(v, "external_id"));
	if (json_object_get(v, "external_id") && eid == NULL)
		problem(c, VP(path, "external_id"), "must be a string");
	if (src && strcmp(src, "cve") == 0 && !(eid && match_cve(eid)))
		problem(c, VP(path, "external_id"),
		        "a 'cve' reference needs an external_id of the form CVE-YYYY-NNNN");
	if (src && eid && strcmp(src, "cve") != 0 && match_cve(eid))
		problem(c, VP(path, "source_name"), "a CVE external_id needs source_name 'cve'");
	if (src && eid && strcmp(src, "capec") != 0 && match_capec(eid))
		problem(c, VP(path, "source_name"),
		        "a CAPEC external_id needs source_name 'capec'");
	if (src && strcmp(src, "capec") == 0 && !(eid && match_capec(eid)))
		problem(c, VP(path, "external_id"),
		        "a 'capec' reference needs an external_id of the form CAPEC-N");
}

static void check_kill_chain(struct vctx *c, const struct vpath *path, const json_t *v)
{

	if (!json_is_object(v)) {
		problem(c, path, "a kill chain phase must be an object");
		return;
	}
	if (!json_is_string(json_object_get(v, "kill_chain_name")))
		problem(c, VP(path, "kill_chain_name"), "is required and must be a string");
	if (!json_is_string(json_object_get(v, "phase_name")))
		problem(c, VP(path, "phase_name"), "is required and must be a string");
}

static void check_value(struct vctx *c, const struct vpath *path, const json_t *v,
                        const struct stix_prop *p)
{
	struct tix_time t;
	struct tix_error err;
	const char *s;

	switch (p->kind) {
	case SK_STRING:
		if (!json_is_string(v)) {
			problem(c, path, "must be a string");
			return;
		}
		if (p->enums) {
			s = json_string_value(v);
			for (const char *const *e = p->enums; *e; e++)
				if (strcmp(*e, s) == 0)
					return;
			problem(c, path, "'%.120s' is not one of the values the spec allows", s);
		}
		return;
	case SK_INTEGER:
		if (!json_is_integer(v)) {
			problem(c, path, "must be an integer");
			return;
		}
		if ((p->flags & SP_RANGE) && ((double)json_integer_value(v) < p->min ||
		                              (double)json_integer_value(v) > p->max))
			problem(c, path, "%lld is outside %.0f..%.0f",
			        (long long)json_integer_value(v), p->min, p->max);
		return;
	case SK_NUMBER:
		if (!json_is_number(v)) {
			problem(c, path, "must be a number");
			return;
		}
		if ((p->flags & SP_RANGE) &&
		    (json_number_value(v) < p->min || json_number_value(v) > p->max))
			problem(c, path, "%g is outside %g..%g", json_number_value(v), p->min,
			        p->max);
		return;
	case SK_BOOLEAN:
		if (!json_is_boolean(v))
			problem(c, path, "must be true or false");
		return;
	case SK_TIMESTAMP:
		if (!json_is_string(v))
			problem(c, path, "must be a timestamp string");
		else if (tix_time_parse(json_string_value(v), &t, &err) != TIX_OK)
			problem(c, path, "%s", err.msg);
		return;
	case SK_IDENTIFIER: check_identifier(c, path, v, p->refs); return;
	case SK_HEX:
		s = json_string_value(v);
		if (s == NULL || strlen(s) % 2 != 0 || !is_hex(s, strlen(s)))
			problem(c, path, "must be a string of hexadecimal octets");
		return;
	case SK_BINARY:
		s = json_string_value(v);
		if (s == NULL || !valid_base64(s))
			problem(c, path, "must be a base64-encoded string");
		return;
	case SK_URL:
		s = json_string_value(v);
		if (s == NULL || !valid_uri(s))
			problem(c, path, "'%.120s' is not a URI", s ? s : "(not a string)");
		return;
	case SK_DICTIONARY: {
		const char *k;
		json_t *x;

		if (!json_is_object(v)) {
			problem(c, path, "must be a dictionary (JSON object)");
			return;
		}
		json_object_foreach ((json_t *)v, k, x) {
			(void)x;
			if (!valid_dict_key(k))
				problem(c, VP(path, k),
				        "dictionary keys are 1-250 ASCII letters, digits, '-' or "
				        "'_'");
		}
		return;
	}
	case SK_HASHES: check_hashes(c, path, v); return;
	case SK_KILL_CHAIN: check_kill_chain(c, path, v); return;
	case SK_EXTREF: check_extref(c, path, v); return;
	case SK_EMBEDDED:
		if (!json_is_object(v))
			problem(c, path, "must be an object");
		else if (p->sub)
			check_props(c, path, v, p->sub);
		return;
	case SK_OBJECT:
		if (!json_is_object(v))
			problem(c, path, "must be an object");
		return;
	default: return;
	}
}

static void check_prop(struct vctx *c, const struct vpath *path, const json_t *v,
                       const struct stix_prop *p)
{
	size_t i;
	json_t *item;

	if (p->flags & SP_LIST) {
		if (!json_is_array(v)) {
			problem(c, path, "must be a list");
			return;
		}
		if (json_array_size(v) == 0) {
			problem(c, path, "must not be an empty list");
			return;
		}
		json_array_foreach (v, i, item)
			check_value(c, VPI(path, i), item, p);
		return;
	}
	check_value(c, path, v, p);
}

static int is_common_prop(const char *k);

/* Checks obj's own properties against t (required, kind, list, range,
 * vocabulary) and t's "at least one of" rule. Properties t does not name
 * are the caller's business (custom properties of top-level objects). */
static void check_props(struct vctx *c, const struct vpath *path, const json_t *obj,
                        const struct stix_type *t)
{
	size_t i;

	for (i = 0; i < t->nprops; i++) {
		const struct stix_prop *p = &t->props[i];
		const json_t *v = json_object_get(obj, p->name);

		const struct vpath *sub = VP(path, p->name);
		if (v == NULL) {
			if ((p->flags & SP_REQUIRED) && !c->stix20)
				problem(c, sub, "is required");
			continue;
		}
		check_prop(c, sub, v, p);
	}
	if (t->one_of) {
		int found = 0;
		char names[256];
		size_t n = 0;

		for (const char *const *o = t->one_of; *o; o++) {
			if (json_object_get(obj, *o))
				found = 1;
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
			                      *o);
			if (n >= sizeof(names))
				n = sizeof(names) - 1;
		}
		if (!found)
			problem(c, path, "needs at least one of: %s", names);
	}
}

static const struct stix_prop *find_prop(const struct stix_type *t, const char *name)
{
	for (size_t i = 0; t && i < t->nprops; i++)
		if (strcmp(t->props[i].name, name) == 0)
			return &t->props[i];
	return NULL;
}

/* ---- common properties ------------------------------------------------------ */

static const char *const common_props[] = {"type",
                                           "spec_version",
                                           "id",
                                           "created",
                                           "modified",
                                           "created_by_ref",
                                           "revoked",
                                           "labels",
                                           "confidence",
                                           "lang",
                                           "external_references",
                                           "object_marking_refs",
                                           "granular_markings",
                                           "extensions",
                                           "defanged",
                                           NULL};

static int is_common_prop(const char *k)
{
	/* Called for every property of every object: look only at the names
	 * that share the first letter. */
	for (int i = 0; common_props[i]; i++)
		if (common_props[i][0] == k[0] && strcmp(common_props[i], k) == 0)
			return 1;
	return 0;
}

static const char *const refs_marking[] = {"marking-definition", NULL};

static int selector_ok(const char *s)
{
	/* ^([a-z0-9_-]{3,249}(\.(\[\d+\]|[a-z0-9_-]{1,250}))*|id)$ */
	size_t n = 0;

	if (strcmp(s, "id") == 0)
		return 1;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
	       s[n] == '-')
		n++;
	if (n < 3 || n > 249)
		return 0;
	s += n;
	while (*s == '.') {
		s++;
		if (*s == '[') {
			size_t d = strspn(s + 1, "0123456789");

			if (d == 0 || s[1 + d] != ']')
				return 0;
			s += d + 2;
		} else {
			n = 0;
			while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
			       s[n] == '_' || s[n] == '-')
				n++;
			if (n < 1 || n > 250)
				return 0;
			s += n;
		}
	}
	return *s == '\0';
}

static void check_granular(struct vctx *c, const struct vpath *path, const json_t *v,
                           const char *self_id)
{
	size_t i, j;
	json_t *g, *sel;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		problem(c, path, "must be a non-empty list");
		return;
	}
	json_array_foreach (v, i, g) {
		const json_t *mref, *lang, *sels;

		const struct vpath *sub = VPI(path, i);
		if (!json_is_object(g)) {
			problem(c, sub, "a granular marking must be an object");
			continue;
		}
		mref = json_object_get(g, "marking_ref");
		lang = json_object_get(g, "lang");
		sels = json_object_get(g, "selectors");
		if ((mref == NULL) == (lang == NULL))
			problem(c, sub, "needs exactly one of marking_ref and lang");
		if (mref) {
			check_identifier(c, VP(sub, "marking_ref"), mref, refs_marking);
			if (self_id && json_is_string(mref) &&
			    strcmp(json_string_value(mref), self_id) == 0)
				problem(c, VP(sub, "marking_ref"),
				        "a marking definition cannot mark itself");
		}
		if (lang && !(json_is_string(lang) && stix__valid_lang(json_string_value(lang))))
			problem(c, VP(sub, "lang"), "is not an RFC 5646 language code");
		const struct vpath *sub2 = VP(sub, "selectors");
		if (!json_is_array(sels) || json_array_size(sels) == 0) {
			problem(c, sub2, "is required and must be a non-empty list");
			continue;
		}
		json_array_foreach (sels, j, sel) {

			if (!json_is_string(sel) || !selector_ok(json_string_value(sel)))
				problem(c, VPI(sub2, j), "is not a valid selector");
		}
	}
}

static const char *const ext_types[] = {
        "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};

static int is_custom_ext_name(const char *s)
{
	/* ^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-ext$ */
	size_t n = strlen(s);

	if (n < 5 || strcmp(s + n - 4, "-ext") != 0 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < n - 4; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (ch == '-' && (s[i + 1] == '-' || i + 1 == n - 4))
			return 0;
	}
	return 1;
}

/* Checks the extensions dictionary; returns the extension_type of the first
 * new-sdo/new-sco/new-sro extension-definition found, or NULL. */
static const char *check_extensions(struct vctx *c, const struct vpath *path, const json_t *v,
                                    int is_sco)
{
	const char *k, *newkind = NULL;
	json_t *e;

	if (!json_is_object(v) || json_object_size(v) == 0) {
		problem(c, path, "must be a non-empty dictionary of extensions");
		return NULL;
	}
	json_object_foreach ((json_t *)v, k, e) {
		const struct vpath *sub = VP(path, k);
		if (!json_is_object(e)) {
			problem(c, sub, "an extension must be an object");
			continue;
		}
		if (strncmp(k, "extension-definition--", 22) == 0) {
			struct tix_uuid u;
			const json_t *et = json_object_get(e, "extension_type");

			if (tix_uuid_parse(k + 22, &u) != TIX_OK)
				problem(c, sub, "is not an extension-definition identifier");
			if (et) {
				int ok = 0;

				const struct vpath *sub2 = VP(sub, "extension_type");
				if (!json_is_string(et)) {
					problem(c, sub2, "must be a string");
					continue;
				}
				for (int i = 0; ext_types[i]; i++)
					if (strcmp(ext_types[i], json_string_value(et)) == 0)
						ok = 1;
				if (!ok)
					problem(c, sub2, "'%.80s' is not an extension type",
					        json_string_value(et));
				else if (strncmp(json_string_value(et), "new-", 4) == 0 && !newkind)
					newkind = json_string_value(et);
			}
			continue;
		}
		const struct stix_type *t = stix_type_find(k);

		if (t && t->category == SC_EXTENSION) {
			if (!is_sco)
				problem(c, sub,
				        "predefined extensions belong to cyber-observables");
			else
				check_props(c, sub, e, t);
		} else if (!is_custom_ext_name(k)) {
			problem(c, sub,
			        "is neither an extension-definition id nor an extension "
			        "name ending in -ext");
		}
	}
	return newkind;
}

/* The TLP 1.0 marking definitions of the spec (section 7.2.1.4): their ids
 * may only be used with exactly this content. */
static const struct {
	const char *id, *tlp;
} tlp1[] = {
        {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "white"},
        {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"},
        {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber"},
        {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"},
};

/* The TLP 2.0 marking definitions (FIRST TLP 2.0 as a STIX 2.1 property
 * extension): the only five instances there may be. */
#define TLP2_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
static const struct {
	const char *id, *tlp, *name;
} tlp2[] = {
        {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear", "TLP:CLEAR"},
        {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green", "TLP:GREEN"},
        {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber", "TLP:AMBER"},
        {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict",
         "TLP:AMBER+STRICT"},
        {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red", "TLP:RED"},
};

static void check_tlp2(struct vctx *c, const struct vpath *path, const json_t *obj, const char *id)
{
	const json_t *ext = json_object_get(json_object_get(obj, "extensions"), TLP2_EXTENSION);
	const char *tlp, *name, *cr, *et;
	size_t i;

	if (ext == NULL)
		return;
	tlp = json_string_value(json_object_get(ext, "tlp_2_0"));
	et = json_string_value(json_object_get(ext, "extension_type"));
	name = json_string_value(json_object_get(obj, "name"));
	cr = json_string_value(json_object_get(obj, "created"));
	for (i = 0; i < sizeof(tlp2) / sizeof(tlp2[0]); i++)
		if (id && strcmp(id, tlp2[i].id) == 0)
			break;
	if (i == sizeof(tlp2) / sizeof(tlp2[0])) {
		problem(c, VP(path, "id"),
		        "TLP 2.0 markings are the five the TLP 2.0 extension defines; '%.80s' is not "
		        "one of them",
		        id ? id : "(none)");
		return;
	}
	if (tlp == NULL || strcmp(tlp, tlp2[i].tlp) != 0 || et == NULL ||
	    strcmp(et, "property-extension") != 0 || json_object_size(ext) != 2 || name == NULL ||
	    strcmp(name, tlp2[i].name) != 0 || cr == NULL ||
	    strcmp(cr, "2022-10-01T00:00:00.000Z") != 0)
		problem(c, path, "%s must be exactly as the TLP 2.0 extension defines it (%s, %s)",
		        id, tlp2[i].name, tlp2[i].tlp);
}

static void check_marking_definition(struct vctx *c, const struct vpath *path, const json_t *obj,
                                     const char *id)
{
	const char *dt = json_string_value(json_object_get(obj, "definition_type"));
	const json_t *def = json_object_get(obj, "definition");
	const json_t *oref = json_object_get(obj, "object_marking_refs");
	size_t i;
	json_t *r;

	/* A tlp-marking (definition_type "tlp") may only be one of the four
	 * the spec defines, with their exact id, colour and created. */
	if (dt && strcmp(dt, "tlp") == 0) {
		const char *tlp = json_string_value(json_object_get(def, "tlp"));
		const char *cr = json_string_value(json_object_get(obj, "created"));
		int found = 0;

		for (i = 0; i < sizeof(tlp1) / sizeof(tlp1[0]); i++)
			if (id && strcmp(id, tlp1[i].id) == 0)
				found = tlp && strcmp(tlp, tlp1[i].tlp) == 0 && cr &&
				        strcmp(cr, "2017-01-20T00:00:00.000Z") == 0 &&
				        json_object_size(def) == 1;
		if (!found)
			problem(c, path,
			        "TLP marking definitions must be exactly those the spec "
			        "defines (section 7.2.1.4)");
	}
	if (json_is_array(oref)) {

		const struct vpath *sub = VP(path, "object_marking_refs");
		json_array_foreach (oref, i, r)
			if (id && json_is_string(r) && strcmp(json_string_value(r), id) == 0)
				problem(c, VPI(sub, i), "a marking definition cannot mark itself");
	}
	if (dt == NULL && def == NULL) {
		if (json_object_get(obj, "extensions") == NULL)
			problem(c, path,
			        "a marking definition needs definition_type and definition, "
			        "or an extension that defines it");
		return;
	}
	if (dt == NULL || def == NULL) {
		problem(c, path, "definition_type and definition go together");
		return;
	}
	if (!json_is_object(def)) {
		problem(c, VP(path, "definition"), "must be an object");
		return;
	}
	if (strcmp(dt, "statement") == 0 && !json_is_string(json_object_get(def, "statement")))
		problem(c, VP(path, "definition.statement"), "is required and must be a string");
	if (strcmp(dt, "tlp") == 0) {
		const char *tlp = json_string_value(json_object_get(def, "tlp"));

		if (tlp == NULL || !(strcmp(tlp, "white") == 0 || strcmp(tlp, "green") == 0 ||
		                     strcmp(tlp, "amber") == 0 || strcmp(tlp, "red") == 0))
			problem(c, VP(path, "definition.tlp"),
			        "must be white, green, amber or red");
	}
}

/* ---- cross-property rules -------------------------------------------------- */

/* later must be >= earlier (or > with strict). */
static void check_order(struct vctx *c, const struct vpath *path, const json_t *obj,
                        const char *earlier, const char *later, int strictly)
{
	struct tix_time a, b;
	const char *sa = json_string_value(json_object_get(obj, earlier));
	const char *sb = json_string_value(json_object_get(obj, later));

	if (!sa || !sb || tix_time_parse(sa, &a, NULL) != TIX_OK ||
	    tix_time_parse(sb, &b, NULL) != TIX_OK)
		return;
	if (strictly ? tix_time_cmp(&b, &a) <= 0 : tix_time_cmp(&b, &a) < 0)
		problem(c, VP(path, later), "(%s) must be later than %s%s (%s)", sb,
		        strictly ? "" : "or equal to ", earlier, sa);
}

static int has(const json_t *o, const char *k)
{
	return json_object_get(o, k) != NULL;
}

static void check_mime(struct vctx *c, const struct vpath *path, const json_t *obj)
{
	static const char *const tops[] = {"application/", "audio/", "font/",      "image/",
	                                   "message/",     "model/", "multipart/", "text/",
	                                   "video/",       NULL};
	const char *m = json_string_value(json_object_get(obj, "mime_type"));

	if (m == NULL)
		return;
	for (int i = 0; tops[i]; i++) {
		size_t n = strlen(tops[i]);

		if (strncmp(m, tops[i], n) == 0 && m[n] != '\0' &&
		    strspn(m + n,
		           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+_-") >
		            0)
			return;
	}
	problem(c, VP(path, "mime_type"), "'%.80s' is not an IANA media type", m);
}

static int valid_ipv4(const char *s)
{
	int parts = 0;
	const char *p = s;

	for (;;) {
		size_t n = strspn(p, "0123456789");
		long v;

		if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
			return 0;
		v = strtol(p, NULL, 10);
		if (v > 255)
			return 0;
		parts++;
		p += n;
		if (parts == 4)
			break;
		if (*p != '.')
			return 0;
		p++;
	}
	if (*p == '\0')
		return 1;
	if (*p != '/')
		return 0;
	p++;
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 2 || p[n] != '\0' || (n > 1 && p[0] == '0'))
		return 0;
	return strtol(p, NULL, 10) <= 32;
}

static int valid_ipv6(const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char out[16];

	if (n >= sizeof(addr))
		return 0;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, out) != 1)
		return 0;
	if (slash) {
		const char *p = slash + 1;
		size_t d = strspn(p, "0123456789");

		if (d == 0 || d > 3 || p[d] != '\0' || (d > 1 && p[0] == '0'))
			return 0;
		return strtol(p, NULL, 10) <= 128;
	}
	return 1;
}

static int valid_mac(const char *s)
{
	if (strlen(s) != 17)
		return 0;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static int valid_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '(' || *p == ')' ||
		    *p == ',' || *p == ';' || *p == '"' || *p == '[' || *p == ']' || *p == '\\')
			return 0;
	return 1;
}

static int valid_cpe23(const char *s)
{
	/* cpe:2.3:part:vendor:product:version:update:edition:language:
	 * sw_edition:target_sw:target_hw:other — 13 fields, escapes allowed. */
	int fields = 1;

	if (strncmp(s, "cpe:2.3:", 8) != 0 || !strchr("aho*-", s[8]) || s[9] != ':')
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == ':')
			fields++;
		else if ((unsigned char)*p <= ' ')
			return 0;
	}
	return fields == 13;
}

static void check_language_content(struct vctx *c, const struct vpath *path, const json_t *obj)
{
	const json_t *contents = json_object_get(obj, "contents");
	const char *lang, *pname;
	json_t *props, *pv;

	if (!json_is_object(contents))
		return;
	json_object_foreach ((json_t *)contents, lang, props) {
		const struct vpath *sub = VP(VP(path, "contents"), lang);
		if (!valid_dict_key(lang) || !stix__valid_lang(lang))
			problem(c, sub, "keys of contents must be RFC 5646 language codes");
		if (!json_is_object(props)) {
			problem(c, sub, "must be a dictionary of translated properties");
			continue;
		}
		json_object_foreach (props, pname, pv) {
			(void)pv;
			if (!valid_prop_name(pname))
				problem(c, VP(sub, pname), "is not a valid property name");
		}
	}
}

static void check_observed_objects(struct vctx *c, const struct vpath *path, const json_t *objs)
{
	const char *k;
	json_t *o;

	if (!json_is_object(objs)) {
		problem(c, path, "must be a dictionary of cyber-observable objects");
		return;
	}
	json_object_foreach ((json_t *)objs, k, o) {
		const char *t;
		const struct stix_type *st;

		const struct vpath *sub = VP(path, k);
		if (!json_is_object(o) || !(t = json_string_value(json_object_get(o, "type")))) {
			problem(c, sub, "must be a cyber-observable object with a type");
			continue;
		}
		st = stix_type_find(t);
		if (st && st->category == SC_SCO) {
			c->local_objects = objs;
			check_props(c, sub, o, st);
			c->local_objects = NULL;
		} else if (st)
			problem(c, sub, "'%.80s' is not a cyber-observable type", t);
	}
}

static const char *const forbidden_rel_targets[] = {
        "relationship",         "sighting", "bundle", "marking-definition", "language-content",
        "extension-definition", NULL};

static void check_type_rules(struct vctx *c, const struct vpath *path, const json_t *obj,
                             const char *type, const char *id)
{

	if (strcmp(type, "indicator") == 0) {
		const char *pattern = json_string_value(json_object_get(obj, "pattern"));
		const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));

		check_order(c, path, obj, "valid_from", "valid_until", 1);
		if (c->opts->check_pattern && pattern && ptype && strcmp(ptype, "stix") == 0) {
			struct tix_error err;

			tix_error_clear(&err);
			if (c->opts->check_pattern(
			            pattern,
			            json_string_value(json_object_get(obj, "pattern_version")),
			            &err) != TIX_OK)
				problem(c, VP(path, "pattern"), "%s", err.msg);
		}
	} else if (strcmp(type, "relationship") == 0) {
		const char *rt = json_string_value(json_object_get(obj, "relationship_type"));
		static const char *const ends[] = {"source_ref", "target_ref", NULL};

		if (rt && (strlen(rt) < 1 ||
		           strspn(rt, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(rt)))
			problem(c, VP(path, "relationship_type"),
			        "'%.80s' may contain only a-z, 0-9 and '-'", rt);
		for (int i = 0; ends[i]; i++) {
			const char *r = json_string_value(json_object_get(obj, ends[i]));

			if (r == NULL)
				continue;
			for (int j = 0; forbidden_rel_targets[j]; j++) {
				size_t n = strlen(forbidden_rel_targets[j]);

				if (strncmp(r, forbidden_rel_targets[j], n) == 0 && r[n] == '-' &&
				    r[n + 1] == '-')
					problem(c, VP(path, ends[i]),
					        "relationships cannot link %ss",
					        forbidden_rel_targets[j]);
			}
		}
		check_order(c, path, obj, "start_time", "stop_time", 1);
	} else if (strcmp(type, "sighting") == 0) {
		check_order(c, path, obj, "first_seen", "last_seen", 0);
	} else if (strcmp(type, "campaign") == 0 || strcmp(type, "intrusion-set") == 0 ||
	           strcmp(type, "threat-actor") == 0 || strcmp(type, "infrastructure") == 0 ||
	           strcmp(type, "malware") == 0) {
		check_order(c, path, obj, "first_seen", "last_seen", 0);
		if (type[0] == 'm' && json_is_true(json_object_get(obj, "is_family")) &&
		    !has(obj, "name"))
			problem(c, VP(path, "name"), "is required when is_family is true");
	} else if (strcmp(type, "observed-data") == 0) {
		check_order(c, path, obj, "first_observed", "last_observed", 0);
		if (has(obj, "objects") && has(obj, "object_refs"))
			problem(c, path, "objects and object_refs cannot both be present");
		else if (!has(obj, "objects") && !has(obj, "object_refs"))
			problem(c, path, "needs object_refs (or the deprecated objects)");
		if (has(obj, "objects"))
			check_observed_objects(c, VP(path, "objects"),
			                       json_object_get(obj, "objects"));
	} else if (strcmp(type, "location") == 0) {
		int lat = has(obj, "latitude"), lon = has(obj, "longitude");

		if (!has(obj, "region") && !has(obj, "country") && !(lat && lon))
			problem(c, path,
			        "a location needs region, country, or latitude and longitude");
		if (lat != lon)
			problem(c, path, "latitude and longitude go together");
		if (has(obj, "precision") && !lat)
			problem(c, VP(path, "precision"), "needs latitude and longitude");
	} else if (strcmp(type, "marking-definition") == 0) {
		check_marking_definition(c, path, obj, id);
		check_tlp2(c, path, obj, id);
	} else if (strcmp(type, "extension-definition") == 0) {
		const json_t *types = json_object_get(obj, "extension_types");
		int toplevel = 0;
		size_t i;
		json_t *x;

		json_array_foreach (types, i, x)
			if (json_is_string(x) &&
			    strcmp(json_string_value(x), "toplevel-property-extension") == 0)
				toplevel = 1;
		if (has(obj, "extension_properties") && !toplevel)
			problem(c, VP(path, "extension_properties"),
			        "is only for toplevel-property-extension extensions");
	} else if (strcmp(type, "language-content") == 0) {
		check_language_content(c, path, obj);
	} else if (strcmp(type, "network-traffic") == 0) {
		check_order(c, path, obj, "start", "end", 0);
		if (json_is_true(json_object_get(obj, "is_active")) && has(obj, "end"))
			problem(c, VP(path, "end"), "must not be present when is_active is true");
	} else if (strcmp(type, "artifact") == 0) {
		if (has(obj, "payload_bin") == has(obj, "url"))
			problem(c, path, "an artifact needs exactly one of payload_bin and url");
		if (has(obj, "url") && !has(obj, "hashes"))
			problem(c, VP(path, "hashes"), "is required with url");
		if (has(obj, "decryption_key") && !has(obj, "encryption_algorithm"))
			problem(c, VP(path, "decryption_key"),
			        "must not be present without encryption_algorithm");
		check_mime(c, path, obj);
	} else if (strcmp(type, "email-message") == 0) {
		const json_t *mp = json_object_get(obj, "is_multipart");

		if (json_is_true(mp) && has(obj, "body"))
			problem(c, VP(path, "body"),
			        "must not be present when is_multipart is true");
		if (json_is_false(mp) && has(obj, "body_multipart"))
			problem(c, VP(path, "body_multipart"),
			        "must not be present when is_multipart is false");
	} else if (strcmp(type, "windows-registry-key") == 0) {
		const char *k = json_string_value(json_object_get(obj, "key"));
		static const char *const abbr[] = {"HKLM", "HKCC", "HKCR", "HKCU", "HKU", "hklm",
		                                   "hkcc", "hkcr", "hkcu", "hku",  NULL};

		for (int i = 0; k && abbr[i]; i++)
			if (strncmp(k, abbr[i], strlen(abbr[i])) == 0)
				problem(c, VP(path, "key"),
				        "hive names must not be abbreviated (HKEY_LOCAL_MACHINE, "
				        "not HKLM)");
	} else if (strcmp(type, "software") == 0) {
		const char *cpe = json_string_value(json_object_get(obj, "cpe"));
		const json_t *langs = json_object_get(obj, "languages");
		size_t i;
		json_t *l;

		if (cpe && !valid_cpe23(cpe))
			problem(c, VP(path, "cpe"), "'%.80s' is not a CPE 2.3 name", cpe);
		if (json_is_array(langs))
			json_array_foreach (langs, i, l)
				if (json_is_string(l) && !stix__valid_lang(json_string_value(l)))
					problem(c, VPI(VP(path, "languages"), i),
					        "'%.40s' is not an RFC 5646 language code",
					        json_string_value(l));
	} else if (strcmp(type, "ipv4-addr") == 0 || strcmp(type, "ipv6-addr") == 0 ||
	           strcmp(type, "mac-addr") == 0 || strcmp(type, "email-addr") == 0) {
		const char *v = json_string_value(json_object_get(obj, "value"));
		int ok = 1;

		if (v == NULL)
			return;
		if (type[0] == 'i' && type[3] == '4')
			ok = valid_ipv4(v);
		else if (type[0] == 'i')
			ok = valid_ipv6(v);
		else if (type[0] == 'm')
			ok = valid_mac(v);
		else
			ok = valid_email(v);
		if (!ok)
			problem(c, VP(path, "value"), "'%.120s' is not a valid %s", v, type);
	}
}

/* ---- the object ------------------------------------------------------------ */

static const char *const reserved_props[] = {"severity",      "username", "phone_number",
                                             "phone_numbers", "action",   NULL};

static size_t validate_object(const json_t *obj, const struct vpath *path,
                              const struct stix_validate_opts *opts, struct stix_problems *out)
{
	static const struct stix_validate_opts defaults = {0};
	struct vctx c = {opts ? opts : &defaults, out, out->count + out->dropped, 0, NULL};
	const char *type, *id, *k, *newkind = NULL;
	const struct stix_type *t;
	const json_t *v;
	json_t *x;
	int cat;
	size_t tl;
	struct tix_uuid u;

	if (!json_is_object(obj)) {
		problem(&c, path, "a STIX object must be a JSON object");
		return out->count + out->dropped - c.before;
	}
	type = json_string_value(json_object_get(obj, "type"));
	if (type == NULL) {
		problem(&c, VP(path, "type"), "is required and must be a string");
		return out->count + out->dropped - c.before;
	}
	if (!stix__valid_type_name(type)) {
		problem(&c, VP(path, "type"),
		        "'%.80s' is not a valid type name (3-250 of a-z, 0-9, '-')", type);
		return out->count + out->dropped - c.before;
	}
	if (strcmp(type, "bundle") == 0) {
		problem(&c, VP(path, "type"), "a bundle cannot be nested");
		return out->count + out->dropped - c.before;
	}
	t = stix_type_find(type);
	if (t && (t->category == SC_EXTENSION || t->category == SC_EMBEDDED))
		t = NULL; /* not a top-level type: treated as unknown below */

	v = json_object_get(obj, "extensions");
	if (v)
		newkind = check_extensions(&c, VP(path, "extensions"), v,
		                           t ? t->category == SC_SCO : 0);
	if (t) {
		cat = t->category;
	} else if (newkind) {
		cat = strcmp(newkind, "new-sco") == 0   ? SC_SCO
		      : strcmp(newkind, "new-sro") == 0 ? SC_SRO
		                                        : SC_SDO;
	} else if (strncmp(type, "x-", 2) == 0) {
		cat = SC_SDO; /* a custom object of the 2.0 kind */
	} else {
		problem(&c, VP(path, "type"),
		        "'%.80s' is not a STIX 2.1 type; custom types start with 'x-' or are "
		        "defined by an extension-definition (new-sdo, new-sco, new-sro)",
		        type);
		return out->count + out->dropped - c.before;
	}

	/* spec_version: required outside SCOs; absent means a STIX 2.0 object,
	 * which is read with its type's 2.1 properties but without the
	 * requirements 2.1 added. */
	v = json_object_get(obj, "spec_version");
	if (v == NULL) {
		if (cat != SC_SCO)
			c.stix20 = 1;
	} else if (json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0) {
		c.stix20 = 1;
	} else if (!json_is_string(v) || strcmp(json_string_value(v), "2.1") != 0) {
		problem(&c, VP(path, "spec_version"), "must be \"2.1\" (or \"2.0\")");
	}

	id = json_string_value(json_object_get(obj, "id"));
	const struct vpath *sub = VP(path, "id");
	if (id == NULL) {
		problem(&c, sub, "is required and must be a string");
	} else if (!stix__parse_identifier(id, &tl, &u)) {
		problem(&c, sub, "'%.120s' is not an identifier (type--UUID)", id);
	} else if (strlen(type) != tl || strncmp(id, type, tl) != 0) {
		problem(&c, sub, "'%.120s' does not start with '%s--'", id, type);
	} else if (cat == SC_SCO && t && tix_uuid_version(&u) != 4) {
		int any = 0;

		for (const char *const *p = t->id_contrib; p && *p; p++)
			if (has(obj, *p))
				any = 1;
		if (!any)
			problem(&c, sub,
			        "a %s without ID-contributing properties must have a UUIDv4 id",
			        type);
	} else if (c.opts->strict && cat != SC_SCO && tix_uuid_version(&u) != 4) {
		problem(&c, sub, "'%.120s' should use a UUIDv4", id);
	}

	if (cat != SC_SCO) {
		static const char *const ts[] = {"created", "modified", NULL};

		for (int i = 0; ts[i]; i++) {
			struct tix_time tt;
			struct tix_error err;
			const char *s;

			const struct vpath *tsub = VP(path, ts[i]);

			v = json_object_get(obj, ts[i]);
			if (v == NULL) {
				if (i == 0 || strcmp(type, "marking-definition") != 0)
					problem(&c, tsub, "is required");
				continue;
			}
			if ((s = json_string_value(v)) == NULL) {
				problem(&c, tsub, "must be a timestamp string");
			} else if (tix_time_parse(s, &tt, &err) != TIX_OK) {
				problem(&c, tsub, "%s", err.msg);
			} else if (tt.digits < 3 && !c.stix20) {
				problem(&c, tsub,
				        "'%.40s' must be precise to at least the millisecond", s);
			}
		}
		check_order(&c, path, obj, "created", "modified", 0);
		if ((v = json_object_get(obj, "revoked")) && !json_is_boolean(v))
			problem(&c, VP(path, "revoked"), "must be true or false");
	}
	if ((v = json_object_get(obj, "created_by_ref")))
		/* The spec names an identity but states no MUST on the type. */
		check_identifier(&c, VP(path, "created_by_ref"), v, NULL);
	if ((v = json_object_get(obj, "labels"))) {
		static const struct stix_prop labels = {"labels", SK_STRING, SP_LIST, NULL,
		                                        NULL,     0,         0,       NULL};

		check_prop(&c, VP(path, "labels"), v, &labels);
	}
	if ((v = json_object_get(obj, "confidence")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100))
		problem(&c, VP(path, "confidence"), "must be an integer from 0 to 100");
	if ((v = json_object_get(obj, "lang")) &&
	    !(json_is_string(v) && stix__valid_lang(json_string_value(v))))
		problem(&c, VP(path, "lang"), "is not an RFC 5646 language code");
	if ((v = json_object_get(obj, "external_references"))) {
		static const struct stix_prop er = {
		        "external_references", SK_EXTREF, SP_LIST, NULL, NULL, 0, 0, NULL};

		check_prop(&c, VP(path, "external_references"), v, &er);
	}
	if ((v = json_object_get(obj, "object_marking_refs"))) {
		static const struct stix_prop om = {"object_marking_refs",
		                                    SK_IDENTIFIER,
		                                    SP_LIST,
		                                    refs_marking,
		                                    NULL,
		                                    0,
		                                    0,
		                                    NULL};

		check_prop(&c, VP(path, "object_marking_refs"), v, &om);
	}
	if ((v = json_object_get(obj, "granular_markings")))
		check_granular(&c, VP(path, "granular_markings"), v,
		               strcmp(type, "marking-definition") == 0 ? id : NULL);
	if ((v = json_object_get(obj, "defanged")) && !json_is_boolean(v))
		problem(&c, VP(path, "defanged"), "must be true or false");

	if (t)
		check_props(&c, path, obj, t);

	/* Properties that are neither common nor the type's own are custom:
	 * their names follow section 3.1 and reserved names are refused. */
	json_object_foreach ((json_t *)obj, k, x) {
		if (is_common_prop(k) || (t && find_prop(t, k)))
			continue;
		const struct vpath *psub = VP(path, k);
		for (int i = 0; reserved_props[i]; i++)
			if (strcmp(k, reserved_props[i]) == 0)
				problem(&c, psub, "is a reserved property name");
		if (!valid_prop_name(k)) {
			problem(&c, psub,
			        "custom property names are 3-250 of a-z, 0-9 and '_', "
			        "starting with a letter");
			continue;
		}
		if (json_is_array(x) && json_array_size(x) == 0)
			problem(&c, psub, "must not be an empty list");
		size_t kl = strlen(k);
		/* Nothing in the spec makes a custom _ref property hold an
		 * identifier: the official validator warns, and so does tix
		 * (refused only with --strict). */
		int ref = kl > 4 && strcmp(k + kl - 4, "_ref") == 0;
		int refs = kl > 5 && strcmp(k + kl - 5, "_refs") == 0 && json_is_array(x);
		struct stix_problems scratch, *real = c.out;

		stix_problems_init(&scratch);
		if ((ref || refs) && !c.opts->strict)
			c.out = &scratch;
		if (ref)
			check_identifier(&c, psub, x, NULL);
		else if (refs) {
			size_t i;
			json_t *r;

			json_array_foreach (x, i, r)
				check_identifier(&c, VPI(psub, i), r, NULL);
		}
		c.out = real;
		problems_to_warnings(real, &scratch);
	}
	/* The tix policy extension's properties decide who may read: a wrong
	 * shape must be refused, never read as "no restriction". */
	if ((x = json_object_get(obj, STIX_TIX_SHARING_GROUP)) &&
	    (!json_is_string(x) || json_string_length(x) == 0 || json_string_length(x) > 127))
		problem(&c, VP(path, STIX_TIX_SHARING_GROUP),
		        "must be the name of a sharing group (1-127 bytes)");
	if ((x = json_object_get(obj, STIX_TIX_RECIPIENTS))) {
		size_t i;
		json_t *r;

		if (!json_is_array(x))
			problem(&c, VP(path, STIX_TIX_RECIPIENTS),
			        "must be a list of organisation names");
		json_array_foreach (x, i, r)
			if (!json_is_string(r) || json_string_length(r) == 0 ||
			    json_string_length(r) > 127 || strchr(json_string_value(r), '\n'))
				problem(&c, VPI(VP(path, STIX_TIX_RECIPIENTS), i),
				        "must be an organisation name (1-127 bytes, one line)");
	}
	check_type_rules(&c, path, obj, type, id);
	return out->count + out->dropped - c.before;
}

size_t stix_validate(const json_t *obj, const char *path, const struct stix_validate_opts *opts,
                     struct stix_problems *out)
{
	return validate_object(obj, VP(NULL, path ? path : ""), opts, out);
}

enum tix_err stix_prepare_write(const json_t *v, struct stix_meta *m, struct tix_buf *body,
                                struct tix_error *err)
{
	struct stix_validate_opts vopts = {0, NULL};
	struct stix_problems probs;
	const char *id = json_string_value(json_object_get(v, "id"));
	enum tix_err e;

	tix_buf_init(body, TIX_BUF_UNLIMITED);
	stix_problems_init(&probs);
	if (stix_validate(v, json_string_value(json_object_get(v, "type")), &vopts, &probs) > 0) {
		e = tix_error_set(err, TIX_EINVAL, id, "not valid STIX: %s",
		                  probs.count ? probs.msgs[0] : "invalid");
		stix_problems_release(&probs);
		return e;
	}
	stix_problems_release(&probs);
	if ((e = stix_meta_get(v, m, err)) != TIX_OK)
		return e;
	if (stix_json_dump(v, body) != TIX_OK)
		return tix_error_set(err, TIX_ENOMEM, id, "out of memory");
	return TIX_OK;
}
