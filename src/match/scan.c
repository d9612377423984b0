/*
 * match/scan.c — finds indicator values in log lines: a tokenizer for text
 * (IPv4/IPv6 addresses, domains, URLs, hashes, e-mail addresses, never
 * inside a longer token), a field-aware JSON-lines walker and a Zeek TSV
 * reader. Candidates are batched and their table slots prefetched before
 * the lookups, because past the tokenizer random reads into a table larger
 * than the cache are what costs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "match/match_int.h"
#include "pattern/pattern.h"

#define BATCH         256
#define SCRATCH_BYTES (1u << 20)
#define MAX_ZEEK_COLS 256
#define MAX_JSON_PATH 1024
#define MAX_LINE_HITS 32

enum { CK_IP4 = 10, CK_IP6 = 11, CK_SUFFIX_WALK = 12 };

struct cand {
	uint64_t hash, line, offset;
	uint32_t vo, lo; /* value (to report), lookup bytes: scratch offsets */
	uint32_t fo;     /* field name, or UINT32_MAX */
	uint16_t vlen, llen;
	uint8_t kind; /* MK_* or CK_* */
	uint32_t ip4;
};

struct match_scanner {
	const struct match_index *x;
	struct match_scan_opts o;
	match_hit_cb cb;
	void *arg;
	int stop;
	/* the input */
	enum match_format fmt;
	char *carry;
	size_t carry_len;
	uint64_t carry_off;
	int skipping;
	uint64_t line, consumed;
	/* Zeek TSV */
	char zsep;
	char *zcols; /* the #fields line, NUL-separated */
	const char *zfield[MAX_ZEEK_COLS];
	size_t nzfield;
	/* the batch */
	struct cand c[BATCH];
	/* opts.line_keys: the time and key of each line candidates of the
	 * batch came from (in line order), and of the line being read */
	struct line_info {
		uint64_t line;
		int64_t time_us;
		uint64_t key;
	} li[BATCH], cur_li;
	size_t nli, li_pos;
	size_t nc;
	char *scratch;
	size_t sused;
	uint32_t cur_field;
	/* the line being resolved */
	uint64_t hit_line, counted_line;
	uint32_t line_hits[MAX_LINE_HITS];
	size_t nline_hits;
	/* patterns of indicators that need confirming, parsed on first use */
	struct pattern **conf;
	char *unesc; /* JSON string values without escapes */
	struct match_scan_stats st;
};

int match_format_parse(const char *s, enum match_format *out)
{
	static const char *const names[] = {"auto", "text", "jsonl", "zeek"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum match_format)i;
			return 0;
		}
	return -1;
}

struct match_scanner *match_scanner_new(const struct match_index *x,
                                        const struct match_scan_opts *opts, match_hit_cb cb,
                                        void *arg)
{
	struct match_scanner *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->x = x;
	s->o = *opts;
	if (s->o.max_line == 0)
		s->o.max_line = MATCH_DEFAULT_MAX_LINE;
	s->cb = cb;
	s->arg = arg;
	match__init_scan_tables();
	s->carry = malloc(s->o.max_line + 1);
	s->unesc = malloc(s->o.max_line + 1);
	s->scratch = malloc(SCRATCH_BYTES);
	s->conf = calloc(x->h->n_confirm + 1, sizeof(*s->conf));
	if (s->carry == NULL || s->unesc == NULL || s->scratch == NULL || s->conf == NULL) {
		match_scanner_free(s);
		return NULL;
	}
	match_scanner_begin(s);
	return s;
}

void match_scanner_free(struct match_scanner *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; s->conf && i < s->x->h->n_confirm; i++)
		if (s->conf[i] != (void *)s)
			pattern_free(s->conf[i]);
	free(s->conf);
	free(s->carry);
	free(s->unesc);
	free(s->scratch);
	free(s->zcols);
	free(s);
}

void match_scanner_begin(struct match_scanner *s)
{
	s->fmt = s->o.format;
	s->carry_len = 0;
	s->skipping = 0;
	s->line = 0;
	s->consumed = 0;
	s->zsep = '\t';
	s->nzfield = 0;
	s->cur_field = UINT32_MAX;
	s->hit_line = 0;
	s->counted_line = 0;
	s->nline_hits = 0;
}

void match_scanner_get_stats(const struct match_scanner *s, struct match_scan_stats *st)
{
	*st = s->st;
}

/* ---- resolving a batch --------------------------------------------------- */

struct found_ctx {
	struct match_scanner *s;
	const struct cand *c;
};

/* An observation holding the one value, for the pattern evaluator. */
static json_t *observation_of(const struct cand *c, const char *value)
{
	const char *type = c->kind == CK_IP4     ? "ipv4-addr"
	                   : c->kind == CK_IP6   ? "ipv6-addr"
	                   : c->kind == MK_URL   ? "url"
	                   : c->kind == MK_EMAIL ? "email-addr"
	                   : c->kind == MK_HASH  ? "file"
	                                         : "domain-name";
	char id[128];
	json_t *sco, *od;

	snprintf(id, sizeof(id), "%s--00000000-0000-4000-8000-000000000000", type);
	if (c->kind == MK_HASH) {
		size_t n = strlen(value);
		const char *alg = n == 32   ? "MD5"
		                  : n == 40 ? "SHA-1"
		                  : n == 64 ? "SHA-256"
		                            : "SHA-512";

		sco = json_pack("{s:s, s:s, s:{s:s}}", "type", type, "id", id, "hashes", alg,
		                value);
	} else {
		sco = json_pack("{s:s, s:s, s:s}", "type", type, "id", id, "value", value);
	}
	od = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[s]}", "type", "observed-data",
	               "spec_version", "2.1", "id",
	               "observed-data--00000000-0000-4000-8000-000000000001", "created",
	               "2000-01-01T00:00:00Z", "modified", "2000-01-01T00:00:00Z", "first_observed",
	               "2000-01-01T00:00:00Z", "last_observed", "2000-01-01T00:00:00Z",
	               "number_observed", 1, "object_refs", id);
	if (sco == NULL || od == NULL) {
		json_decref(sco);
		json_decref(od);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:[o,o]}", "type", "bundle", "id",
	                 "bundle--00000000-0000-4000-8000-000000000002", "objects", od, sco);
}

/* Does the indicator's whole pattern match an observation of this value? */
static int confirm(struct match_scanner *s, uint32_t ind, const struct cand *c, const char *value)
{
	const struct match_index *x = s->x;
	uint32_t lo = 0, hi = x->h->n_confirm;
	struct tix_error err;
	struct pattern_observations *obs;
	struct pattern_result res;
	json_t *doc;
	int ok = 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->confirm[mid].ind < ind)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= x->h->n_confirm || x->confirm[lo].ind != ind)
		return 0;
	if (s->conf[lo] == NULL) {
		const char *text = (const char *)x->pool + x->confirm[lo].off;
		struct pattern *p = pattern_parse(
		        text, strlen(text), x->confirm[lo].aux ? PATTERN_V20 : PATTERN_V21, &err);

		s->conf[lo] = p ? p : (struct pattern *)(void *)s; /* s: does not parse */
	}
	if (s->conf[lo] == (void *)s)
		return 0;
	doc = observation_of(c, value);
	obs = pattern_observations_new();
	if (doc && obs && pattern_observations_add(obs, doc, &err) == TIX_OK &&
	    pattern_observations_seal(obs, &err) == TIX_OK &&
	    pattern_match(s->conf[lo], obs, NULL, &res, &err) == TIX_OK) {
		ok = res.matched;
		pattern_result_release(&res);
	}
	pattern_observations_free(obs);
	json_decref(doc);
	return ok;
}

static void found(void *arg, uint32_t ind)
{
	struct found_ctx *f = arg;
	struct match_scanner *s = f->s;
	const struct cand *c = f->c;
	unsigned meta = match__meta(s->x, ind);
	struct match_hit h;

	if (s->stop)
		return;
	if (s->hit_line != c->line) {
		s->hit_line = c->line;
		s->nline_hits = 0;
	}
	for (size_t i = 0; i < s->nline_hits; i++)
		if (s->line_hits[i] == ind)
			return; /* one report per indicator and line */
	if ((meta & MM_CONFIRM) && !confirm(s, ind, c, s->scratch + c->vo))
		return;
	if (s->nline_hits < MAX_LINE_HITS)
		s->line_hits[s->nline_hits++] = ind;
	if ((meta & MM_FLAGGED) && s->o.suppress_flagged) {
		s->st.suppressed++;
		return;
	}
	if (s->counted_line != c->line) {
		s->counted_line = c->line;
		s->st.hit_lines++;
	}
	s->st.hits++;
	h.line = c->line;
	h.offset = c->offset;
	h.field = c->fo == UINT32_MAX ? NULL : s->scratch + c->fo;
	h.value = s->scratch + c->vo;
	h.indicator = ind;
	h.flagged = (meta & MM_FLAGGED) != 0;
	h.time_us = 0;
	h.line_key = 0;
	if (s->o.line_keys) {
		while (s->li_pos < s->nli && s->li[s->li_pos].line < c->line)
			s->li_pos++;
		if (s->li_pos < s->nli && s->li[s->li_pos].line == c->line) {
			h.time_us = s->li[s->li_pos].time_us;
			h.line_key = s->li[s->li_pos].key;
		}
	}
	if (s->cb(s->arg, &h) != 0)
		s->stop = 1;
}

static void flush(struct match_scanner *s)
{
	const struct match_index *x = s->x;
	uint32_t smask = x->h->str_cap - 1, imask = x->h->ip4_cap - 1;

	const size_t nc = s->nc;
	uint64_t fm[BATCH];
	size_t fw[BATCH];
	unsigned char may[BATCH];

	/* start every random read at once: the filter words, then the table
	 * slots of the values the filter lets through; then the lookups, of
	 * those only (the tables hold no value the filter lacks) */
	for (size_t i = 0; i < nc; i++) {
		struct cand *c = &s->c[i];

		fm[i] = 0;
		fw[i] = 0;
		if (c->kind == CK_IP4)
			c->hash = match__mix(c->ip4); /* its slot and its filter key */
		if (c->kind != CK_IP6) {
			fm[i] = match__filter_word(x, (uint32_t)(c->hash >> 32), &fw[i]);
			__builtin_prefetch(&x->filter[fw[i]]);
		}
	}
	for (size_t i = 0; i < nc; i++) {
		const struct cand *c = &s->c[i];

		may[i] = fm[i] && (x->filter[fw[i]] & fm[i]) == fm[i];
		if (!may[i])
			continue;
		if (c->kind == CK_IP4) {
			if (x->h->ip4_cap)
				__builtin_prefetch(&x->ip4[c->hash & imask]);
		} else if (x->h->str_cap) {
			__builtin_prefetch(&x->str[c->hash & smask]);
		}
	}
	for (size_t i = 0; i < nc && !s->stop; i++) {
		const struct cand *c = &s->c[i];
		struct found_ctx f = {s, c};
		unsigned char bin[64];

		s->st.tokens++;
		if (c->kind == CK_IP4) {
			match__lookup_ip4(x, c->ip4, may[i], found, &f); /* and the ranges */
		} else if (c->kind == CK_IP6) {
			match__lookup_ip6(x, (const unsigned char *)s->scratch + c->lo, found, &f);
		} else if (!may[i]) {
			continue;
		} else if (c->kind == MK_HASH) {
			if (values_hex_hash(s->scratch + c->lo, c->llen, bin) > 0)
				match__lookup_str(x, MK_HASH, bin, c->llen / 2, c->hash, found, &f);
		} else {
			match__lookup_str(x, c->kind, s->scratch + c->lo, c->llen, c->hash, found,
			                  &f);
		}
	}
	s->nc = 0;
	s->sused = 0;
	s->cur_field = UINT32_MAX;
	s->nli = 0;
	s->li_pos = 0;
}

/* ---- candidates ------------------------------------------------------------ */

/* Room for one more candidate with n bytes of scratch; flushes when full.
 * A flush forgets the current field, which the caller copies again. */
static int room(struct match_scanner *s, size_t n)
{
	if (s->nc < BATCH && s->sused + n + 2 <= SCRATCH_BYTES)
		return 1;
	flush(s);
	return n + 2 <= SCRATCH_BYTES;
}

struct tokctx {
	uint64_t line, base; /* line number, input offset of the line start */
	const char *line_start;
	const char *field; /* NULL in text */
	size_t field_len;
};

static uint32_t field_off(struct match_scanner *s, const struct tokctx *t)
{
	if (t->field == NULL)
		return UINT32_MAX;
	if (s->cur_field == UINT32_MAX) {
		s->cur_field = (uint32_t)s->sused;
		memcpy(s->scratch + s->sused, t->field, t->field_len);
		s->scratch[s->sused + t->field_len] = '\0';
		s->sused += t->field_len + 1;
	}
	return s->cur_field;
}

static struct cand *new_cand(struct match_scanner *s, const struct tokctx *t, const char *at,
                             size_t vbytes, unsigned kind)
{
	struct cand *c;

	if (!room(s, vbytes + (t->field ? t->field_len + 1 : 0)))
		return NULL;
	c = &s->c[s->nc++];
	if (s->o.line_keys && (s->nli == 0 || s->li[s->nli - 1].line != t->line) && s->nli < BATCH)
		s->li[s->nli++] = s->cur_li;
	c->fo = field_off(s, t);
	c->line = t->line;
	c->offset = t->base + (uint64_t)(at - t->line_start);
	c->kind = (uint8_t)kind;
	c->vo = (uint32_t)s->sused;
	return c;
}

static void emit_ip4(struct match_scanner *s, const struct tokctx *t, const char *at, const char *p,
                     size_t n, uint32_t addr)
{
	struct cand *c = new_cand(s, t, at, n + 1, CK_IP4);

	if (c == NULL)
		return;
	memcpy(s->scratch + c->vo, p, n);
	s->scratch[c->vo + n] = '\0';
	s->sused += n + 1;
	c->ip4 = addr;
	c->vlen = (uint16_t)n;
}

static void emit_ip6(struct match_scanner *s, const struct tokctx *t, const char *at, const char *p,
                     size_t n, const unsigned char a[16])
{
	struct cand *c = new_cand(s, t, at, n + 1 + 16 + 8, CK_IP6);
	char txt[64];

	if (c == NULL)
		return;
	/* the value as the canonical text (RFC 5952), then the 16 bytes */
	if (inet_ntop(AF_INET6, a, txt, sizeof(txt)) == NULL)
		snprintf(txt, sizeof(txt), "%.*s", (int)n, p);
	n = strlen(txt);
	memcpy(s->scratch + c->vo, txt, n + 1);
	c->vlen = (uint16_t)n;
	c->lo = (uint32_t)(c->vo + n + 1);
	memcpy(s->scratch + c->lo, a, 16);
	s->sused += n + 1 + 16;
}

/* A string candidate whose value is already normalised in scratch at vo. */
static void emit_str(struct match_scanner *s, const struct tokctx *t, const char *at,
                     const char *norm, size_t n, unsigned kind)
{
	struct cand *c = new_cand(s, t, at, n + 1, kind);

	if (c == NULL)
		return;
	memcpy(s->scratch + c->vo, norm, n);
	s->scratch[c->vo + n] = '\0';
	s->sused += n + 1;
	c->vlen = c->llen = (uint16_t)n;
	c->lo = c->vo;
	if (kind == MK_HASH) {
		unsigned char bin[64];
		int b = values_hex_hash(norm, n, bin);

		c->hash = match__hash(MK_HASH, bin, (size_t)(b > 0 ? b : 0));
	} else {
		c->hash = match__hash(kind, norm, n);
	}
}

/* A domain: the exact name, then, when some indicator asks for it or the
 * operator does, each parent name (a suffix at a label boundary). */
static void emit_domain(struct match_scanner *s, const struct tokctx *t, const char *at,
                        const char *norm, size_t n)
{
	uint32_t vo;
	uint16_t vlen = (uint16_t)n;

	emit_str(s, t, at, norm, n, MK_DOMAIN);
	if (!s->x->h->has_suffix && !s->o.subdomains)
		return;
	if (s->nc == 0)
		return;
	vo = s->c[s->nc - 1].vo;
	for (size_t i = 0; i < n; i++) {
		size_t rest;

		if (norm[i] != '.')
			continue;
		rest = n - i - 1;
		if (memchr(norm + i + 1, '.', rest) == NULL)
			break; /* a top-level domain alone is never indexed */
		for (int pass = 0; pass < 2; pass++) {
			unsigned kind = pass == 0 ? MK_SUFFIX : MK_DOMAIN;
			struct cand *c;

			if (pass == 0 && !s->x->h->has_suffix)
				continue;
			if (pass == 1 && !s->o.subdomains)
				continue;
			if (s->nc == BATCH ||
			    s->sused + (t->field ? t->field_len + 1 : 0) + 2 > SCRATCH_BYTES)
				return; /* the value would be flushed away: stop walking */
			c = new_cand(s, t, at, 0, kind);
			if (c == NULL)
				return;
			c->vo = vo;
			c->vlen = vlen;
			c->lo = (uint32_t)(vo + i + 1);
			c->llen = (uint16_t)rest;
			c->hash = match__hash(kind, norm + i + 1, rest);
		}
	}
}

/* ---- the text tokenizer --------------------------------------------------- */

enum {
	C_SEP = 1,
	C_DIGIT = 2,
	C_HEX = 4,
	C_ALPHA = 8,
	C_DOT = 16,
	C_COLON = 32,
	C_AT = 64,
	C_PIECE = 128,
	C_NUMDOT = 256,
	C_V6 = 512,
	C_BRK = 1024,       /* neither a separator nor part of a piece ('/', '=', '#', ...) */
	C_NOTNUMDOT = 2048, /* the complements of C_NUMDOT, C_HEX and C_V6, so that or-ing */
	C_NOTHEX = 4096,    /* the classes of a piece's bytes also says whether all of */
	C_NOTV6 = 8192,     /* them are in these */
	C_JSCALAR = 16384   /* a byte of a JSON number or literal: [A-Za-z0-9+.-] */
};

static uint16_t cls[256];
static int cls_ready;

void match__init_scan_tables(void)
{
	if (cls_ready)
		return;
	cls_ready = 1;
	for (int c = 0; c < 256; c++) {
		uint16_t k = 0;

		if (isxdigit(c) || c == ':' || c == '.')
			k |= C_V6;
		if (isdigit(c) || c == '.')
			k |= C_NUMDOT;
		if (c <= ' ' || c >= 0x7f || strchr("\"'<>(){}[]|\\^`,;", c))
			k |= C_SEP;
		if (isdigit(c))
			k |= C_DIGIT | C_HEX | C_PIECE;
		if (isalpha(c) && c < 0x7f)
			k |= C_ALPHA | C_PIECE;
		if (isxdigit(c) && !isdigit(c))
			k |= C_HEX;
		if (c == '.')
			k |= C_DOT | C_PIECE;
		if (c == ':')
			k |= C_COLON | C_PIECE;
		if (c == '@')
			k |= C_AT | C_PIECE;
		if (c == '-' || c == '_' || c == '%' || c == '+')
			k |= C_PIECE;
		if (!(k & (C_SEP | C_PIECE)))
			k |= C_BRK;
		if (!(k & C_NUMDOT))
			k |= C_NOTNUMDOT;
		if (!(k & C_HEX))
			k |= C_NOTHEX;
		if (!(k & C_V6))
			k |= C_NOTV6;
		if ((k & (C_ALPHA | C_DIGIT)) || c == '-' || c == '+' || c == '.')
			k |= C_JSCALAR;
		cls[c] = k;
	}
}

/* One piece without ':' and '@': an IPv4 address, a hash or a domain. */
static void classify(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n,
                     unsigned all, unsigned any)
{
	char norm[256];
	uint32_t a4;
	int k;

	while (n > 0 && p[n - 1] == '.') /* the end of a sentence */
		n--;
	if (n < 4)
		return;
	if (all & C_NUMDOT) {
		/* four numbers of one to three digits: 7 to 15 bytes */
		if ((any & C_DOT) && n >= 7 && n <= 15 && values_parse_ip4(p, n, &a4) == 0)
			emit_ip4(s, t, p, p, n, a4);
		if (any & C_DOT)
			return;
		/* digits only: a number, or a hash without a letter */
	}
	if ((all & C_HEX) && !(any & C_DOT) && (n == 32 || n == 40 || n == 64 || n == 128)) {
		char low[128];

		for (size_t i = 0; i < n; i++)
			low[i] = (char)tolower((unsigned char)p[i]);
		emit_str(s, t, p, low, n, MK_HASH);
		return;
	}
	if ((any & C_DOT) && (any & C_ALPHA) && n < sizeof(norm) &&
	    (k = values_norm_domain(p, n, norm)) > 0)
		emit_domain(s, t, p, norm, (size_t)k);
}

/* Whether p[0..n) holds two ':' or more. */
static int two_colons(const char *p, size_t n)
{
	const char *c = memchr(p, ':', n);

	return c != NULL && memchr(c + 1, ':', n - (size_t)(c - p) - 1) != NULL;
}

/* A piece whose byte classes are known: all, and-ed; any, or-ed. */
static void piece_classes(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n,
                          unsigned all, unsigned any)
{
	char norm[512];
	unsigned char a6[16];
	int k;

	if (!(any & (C_DOT | C_COLON | C_AT)) && n < 32)
		return;
	if (any & C_AT) {
		if (n < sizeof(norm) && (k = values_norm_email(p, n, norm)) > 0)
			emit_str(s, t, p, norm, (size_t)k, MK_EMAIL);
		return;
	}
	/* an IPv6 address: hex digits, ':' (two or more) and '.' only */
	if ((any & C_COLON) && (all & C_V6) && two_colons(p, n) &&
	    values_parse_ip6(p, n, a6) == 0) {
		if (s->x->h->n_cidr6)
			emit_ip6(s, t, p, p, n, a6);
		return;
	}
	if (any & C_COLON) { /* host:port, or parts of something else */
		const char *q = p, *e = p + n;

		while (q < e) { /* parts are short: one loop finds the ':' and the classes */
			const char *c = q;
			unsigned a2 = 0xffff, y2 = 0;

			for (; c < e && *c != ':'; c++) {
				a2 &= cls[(unsigned char)*c];
				y2 |= cls[(unsigned char)*c];
			}
			if (c > q)
				classify(s, t, q, (size_t)(c - q), a2, y2);
			q = c + 1;
		}
		return;
	}
	classify(s, t, p, n, all, any);
}

static void piece(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	unsigned all = 0xffff, any = 0;

	while (n > 0 && p[n - 1] == '.') /* the end of a sentence */
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned c = cls[(unsigned char)p[i]];

		all &= c;
		any |= c;
	}
	piece_classes(s, t, p, n, all, any);
}

static void url(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	char norm[4096];
	int k;
	size_t ho, hl;
	const char *h;

	while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ':'))
		n--;
	if (n >= sizeof(norm) ||
	    (k = values_norm_url_host(p, n, norm, sizeof(norm), &ho, &hl)) <= 0)
		return;
	emit_str(s, t, p, norm, (size_t)k, MK_URL);
	/* and the host, as a domain or an address */
	h = norm + ho;
	if (*h == '[') {
		unsigned char a6[16];

		if (hl >= 2 && values_parse_ip6(h + 1, hl - 2, a6) == 0 && s->x->h->n_cidr6)
			emit_ip6(s, t, p, h + 1, hl - 2, a6);
		return;
	}
	{
		unsigned all = 0xffff, any = 0;
		struct tokctx th = *t;

		for (size_t i = 0; i < hl; i++) {
			all &= cls[(unsigned char)h[i]];
			any |= cls[(unsigned char)h[i]];
		}
		/* h points into norm: the host's offset is where it starts in the
		 * line, ho bytes after the scheme's first letter */
		th.line_start = h;
		th.base = t->base + (uint64_t)(p + ho - t->line_start);
		classify(s, &th, h, hl, all, any);
	}
}

/* One span (between separators) that holds '.', ':' or '@', or is long
 * enough for a hash: a URL when "scheme://" is in it, else its pieces.
 * has_colon: whether the span holds a ':'. */
/* A span with "://" at sch: the URL from its scheme on; 0 when the
 * scheme is not one (the caller then reads the span's pieces). */
static int span_url(struct match_scanner *s, const struct tokctx *t, const char *span,
                    const char *p, const char *sch)
{
	const char *b = sch;

	if (sch == NULL || sch == span)
		return 0;
	while (b > span &&
	       (isalnum((unsigned char)b[-1]) || b[-1] == '+' || b[-1] == '-' || b[-1] == '.'))
		b--;
	while (b < sch && !isalpha((unsigned char)*b))
		b++;
	if (b >= sch)
		return 0;
	url(s, t, b, (size_t)(p - b));
	return 1;
}

static void span(struct match_scanner *s, const struct tokctx *t, const char *span, const char *p,
                 int has_colon)
{
	const char *q, *sch = NULL;

	if (has_colon) /* spans are short: a plain loop rather than memchr */
		for (q = span; q + 3 <= p; q++)
			if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
				sch = q;
				break;
			}
	if (span_url(s, t, span, p, sch))
		return;
	for (q = span; q < p;) {
		const char *r = q;

		while (r < p && (cls[(unsigned char)*r] & C_PIECE))
			r++;
		if (r - q >= 4)
			piece(s, t, q, (size_t)(r - q));
		q = r + 1;
	}
}

/* The reference tokenizer: splits text into spans between separators one
 * byte at a time. tokenize() below must find the same spans; the unit
 * tests and the fuzz target compare the two (match__reference_tokenizer). */
static void tokenize_bytes(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	const char *e = p + n;

	while (p < e) {
		const char *sp;
		unsigned any = 0, k;

		while (p < e && (cls[(unsigned char)*p] & C_SEP))
			p++;
		sp = p;
		while (p < e && !((k = cls[(unsigned char)*p]) & C_SEP)) {
			any |= k;
			p++;
		}
		if (p - sp < 4 || (!(any & (C_DOT | C_COLON | C_AT)) && p - sp < 32))
			continue;
		span(s, t, sp, p, (any & C_COLON) != 0);
	}
}

int match__reference_tokenizer;

#define MAX_SPAN_PIECES 32

struct piece_at {
	const char *p;
	size_t n;
	unsigned all, any;
};

/* Splits text into spans between separators and spans into pieces in one
 * pass over the bytes, noting each piece's byte classes on the way, so
 * that a piece is read again only to be parsed. Most spans of a log
 * (words, numbers, times) hold no '.', ':' or '@' and are shorter than a
 * hash: they are dropped at their end. Finds what tokenize_bytes finds
 * (the unit tests and the fuzz target compare the two). */
static void tokenize(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	const char *e = p + n;
	struct piece_at pc[MAX_SPAN_PIECES];
	/* where p[n] is a separator (a line's '\n' or '\r', a JSON string's
	 * closing quote, a copy's sentinel: p[n] is always readable), the loop
	 * over a piece's bytes stops there without testing for the end */
	const int stops = (cls[(unsigned char)*e] & C_SEP) != 0;

	if (match__reference_tokenizer) {
		tokenize_bytes(s, t, p, n);
		return;
	}
	while (p < e) {
		const char *sp, *sch = NULL;
		unsigned any = 0;
		size_t np = 0;
		int over = 0;

		while (p < e && (cls[(unsigned char)*p] & C_SEP))
			p++;
		if (p >= e)
			break;
		sp = p;
		for (;;) { /* the pieces of the span, and the bytes between them */
			const char *q = p;
			unsigned acc = 0, k = C_SEP;

			if (stops) { /* the classes of a piece's bytes, or-ed */
				while (!((k = cls[(unsigned char)*p]) & (C_SEP | C_BRK))) {
					acc |= k;
					p++;
				}
			} else {
				while (p < e && !((k = cls[(unsigned char)*p]) & (C_SEP | C_BRK))) {
					acc |= k;
					p++;
				}
			}
			any |= acc;
			/* a piece under 32 bytes without '.' or '@' yields nothing
			 * unless it may be an IPv6 address (':' and hex digits only):
			 * piece_classes would drop it, so it is not noted */
			if (p - q >= 4 && (p - q >= 32 || (acc & (C_DOT | C_AT)) ||
			                   ((acc & C_COLON) && !(acc & C_NOTV6)))) {
				if (np < MAX_SPAN_PIECES)
					pc[np++] = (struct piece_at){
					        q, (size_t)(p - q),
					        ((acc & C_NOTNUMDOT) ? 0u : (unsigned)C_NUMDOT) |
					                ((acc & C_NOTHEX) ? 0u : (unsigned)C_HEX) |
					                ((acc & C_NOTV6) ? 0u : (unsigned)C_V6),
					        acc};
				else
					over = 1;
			}
			if (p >= e || (k & C_SEP))
				break;
			/* a byte between pieces: "://" when the piece ends with ':' */
			if (!sch && p > q && p[-1] == ':' && *p == '/' && e - p > 1 && p[1] == '/')
				sch = p - 1;
			p++;
		}
		if (p - sp < 4 || (!(any & (C_DOT | C_COLON | C_AT)) && p - sp < 32))
			continue;
		if (over) { /* too many pieces to note: read them again */
			span(s, t, sp, p, (any & C_COLON) != 0);
			continue;
		}
		if (span_url(s, t, sp, p, sch))
			continue;
		for (size_t i = 0; i < np; i++) {
			if (pc[i].p[pc[i].n - 1] == '.') { /* the end of a sentence: trimmed */
				piece(s, t, pc[i].p, pc[i].n);
				continue;
			}
			piece_classes(s, t, pc[i].p, pc[i].n, pc[i].all, pc[i].any);
		}
	}
}

/* ---- JSON lines ------------------------------------------------------------- */

/* Decodes a JSON string body (without quotes) into out; -1 if invalid.
 * \u escapes give UTF-8, which the tokenizer treats as a separator. */
static long unescape(const char *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\') {
			out[o++] = p[i];
			continue;
		}
		if (++i >= n)
			return -1;
		switch (p[i]) {
		case 'n':
		case 't':
		case 'r':
		case 'b':
		case 'f': out[o++] = ' '; break;
		case 'u':
			if (i + 4 >= n)
				return -1;
			{
				unsigned v = 0;

				for (int k = 1; k <= 4; k++) {
					int d = tix_hex_value(p[i + k]);

					if (d < 0)
						return -1;
					v = v << 4 | (unsigned)d;
				}
				out[o++] = v < 0x80 && v >= 0x20 ? (char)v : ' ';
				i += 4;
			}
			break;
		default: out[o++] = p[i]; break;
		}
	}
	return (long)o;
}

struct jw {
	struct match_scanner *s;
	struct tokctx t;
	const char *p, *e;
	char path[MAX_JSON_PATH];
	size_t plen;
	int depth;
};

static inline int jws(struct jw *w)
{
	if (w->p < w->e && (unsigned char)*w->p > ' ') /* most often: no white space */
		return 1;
	while (w->p < w->e && (*w->p == ' ' || *w->p == '\t' || *w->p == '\r' || *w->p == '\n'))
		w->p++;
	return w->p < w->e;
}

/* The end of the string whose opening quote is at w->p; sets *esc. Eight
 * bytes a step: the strings of a log line are short, too short for memchr. */
static const char *jstr_end(struct jw *w, int *esc)
{
	const char *q = w->p + 1;

	*esc = 0;
	while (q < w->e) {
		q = stix_raw_str_stop(q, (size_t)(w->e - q)); /* a '"', '\\' or control byte */
		if (q >= w->e)
			break;
		if (*q == '"')
			return q;
		if (*q == '\\') {
			*esc = 1;
			q++;
		}
		q++;
	}
	return NULL;
}

static int jvalue(struct jw *w);

static void set_field(struct jw *w)
{
	w->t.field = w->path;
	w->t.field_len = w->plen;
	w->s->cur_field = UINT32_MAX;
}

static int jstring_value(struct jw *w)
{
	int esc;
	const char *end = jstr_end(w, &esc);

	if (end == NULL)
		return -1;
	set_field(w);
	if (end - w->p - 1 < 4) {
		/* too short for any value (tokenize drops spans under 4 bytes) */
	} else if (!esc) {
		tokenize(w->s, &w->t, w->p + 1, (size_t)(end - w->p - 1));
	} else {
		long n = unescape(w->p + 1, (size_t)(end - w->p - 1), w->s->unesc);
		struct tokctx t2 = w->t;

		if (n < 0)
			return -1;
		w->s->unesc[n] = ' '; /* a separator after the text (tokenize) */
		/* offsets inside an escaped value point at its opening quote */
		t2.line_start = w->s->unesc;
		t2.base = w->t.base + (uint64_t)(w->p - w->t.line_start);
		tokenize(w->s, &t2, w->s->unesc, (size_t)n);
	}
	w->p = end + 1;
	return 0;
}

static int jobject(struct jw *w)
{
	size_t saved = w->plen;

	if (++w->depth > 64)
		return -1;
	w->p++; /* { */
	if (!jws(w))
		return -1;
	if (*w->p == '}') {
		w->p++;
		w->depth--;
		return 0;
	}
	for (;;) {
		int esc;
		const char *end;
		size_t klen;

		if (!jws(w) || *w->p != '"' || (end = jstr_end(w, &esc)) == NULL)
			return -1;
		klen = (size_t)(end - w->p - 1);
		w->plen = saved;
		if (saved + 1 + klen < sizeof(w->path)) {
			if (saved)
				w->path[w->plen++] = '.';
			memcpy(w->path + w->plen, w->p + 1, klen);
			w->plen += klen;
		}
		w->p = end + 1;
		if (!jws(w) || *w->p != ':')
			return -1;
		w->p++;
		if (jvalue(w) != 0)
			return -1;
		if (!jws(w))
			return -1;
		if (*w->p == ',') {
			w->p++;
			continue;
		}
		if (*w->p != '}')
			return -1;
		w->p++;
		w->plen = saved;
		w->depth--;
		return 0;
	}
}

static int jarray(struct jw *w)
{
	if (++w->depth > 64)
		return -1;
	w->p++;
	if (!jws(w))
		return -1;
	if (*w->p == ']') {
		w->p++;
		w->depth--;
		return 0;
	}
	for (;;) {
		if (jvalue(w) != 0 || !jws(w))
			return -1;
		if (*w->p == ',') {
			w->p++;
			continue;
		}
		if (*w->p != ']')
			return -1;
		w->p++;
		w->depth--;
		return 0;
	}
}

static int jvalue(struct jw *w)
{
	if (!jws(w))
		return -1;
	switch (*w->p) {
	case '{': return jobject(w);
	case '[': return jarray(w);
	case '"': return jstring_value(w);
	default:
		/* numbers and literals: skip them */
		while (w->p < w->e && (cls[(unsigned char)*w->p] & C_JSCALAR))
			w->p++;
		return 0;
	}
}

static int scan_json(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	struct jw w;

	w.s = s;
	w.t = *t;
	w.p = p;
	w.e = p + n;
	w.plen = 0;
	w.depth = 0;
	if (!jws(&w) || *w.p != '{' || jobject(&w) != 0 || jws(&w)) {
		w.t.field = NULL;
		return -1;
	}
	s->cur_field = UINT32_MAX;
	return 0;
}

/* ---- Zeek TSV -------------------------------------------------------------- */

static void zeek_header(struct match_scanner *s, const char *p, size_t n)
{
	if (n > 11 && memcmp(p, "#separator ", 11) == 0) {
		if (n >= 15 && p[11] == '\\' && p[12] == 'x') {
			int hi = tix_hex_value(p[13]), lo = tix_hex_value(p[14]);

			if (hi >= 0 && lo >= 0)
				s->zsep = (char)(hi << 4 | lo);
		} else {
			s->zsep = p[11];
		}
	} else if (n > 8 && memcmp(p, "#fields", 7) == 0 && p[7] == s->zsep) {
		char *cols = realloc(s->zcols, n);

		if (cols == NULL)
			return;
		s->zcols = cols;
		memcpy(cols, p + 8, n - 8);
		cols[n - 8] = '\0';
		s->nzfield = 0;
		for (char *c = cols; c && s->nzfield < MAX_ZEEK_COLS;) {
			char *sep = strchr(c, s->zsep);

			s->zfield[s->nzfield++] = c;
			if (sep)
				*sep = '\0';
			c = sep ? sep + 1 : NULL;
		}
	}
}

static void scan_zeek(struct match_scanner *s, const struct tokctx *t, const char *p, size_t n)
{
	const char *e = p + n;
	size_t col = 0;
	char name[32];

	while (p <= e) {
		const char *sep = memchr(p, s->zsep, (size_t)(e - p));
		size_t len = sep ? (size_t)(sep - p) : (size_t)(e - p);
		struct tokctx t2 = *t;

		if (!(len == 1 && *p == '-') && !(len == 7 && memcmp(p, "(empty)", 7) == 0) &&
		    len) {
			if (col < s->nzfield) {
				t2.field = s->zfield[col];
			} else {
				snprintf(name, sizeof(name), "%zu", col + 1);
				t2.field = name;
			}
			t2.field_len = strlen(t2.field);
			s->cur_field = UINT32_MAX;
			tokenize(s, &t2, p, len);
			s->cur_field = UINT32_MAX;
		}
		col++;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
}

/* ---- lines ---------------------------------------------------------------------- */

static int valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* One pass over the line: bit 1 when it has a NUL byte, bit 2 when it has
 * a byte over 0x7f. Sixteen bytes a step with SSE2, else eight. */
static unsigned line_bytes(const char *p, size_t n)
{
	const uint64_t highs = 0x8080808080808080ULL;
	uint64_t acc = 0, zero = 0;
	size_t i = 0;
#if defined(__SSE2__)
	__m128i vacc = _mm_setzero_si128(), vmin = _mm_set1_epi8(-1);

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		vacc = _mm_or_si128(vacc, v);
		vmin = _mm_min_epu8(vmin, v);
	}
	acc = (unsigned)_mm_movemask_epi8(vacc) ? highs : 0;
	zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(vmin, _mm_setzero_si128())) ? highs : 0;
#else
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
		zero |= (w - ones) & ~w & highs;
	}
#endif
	for (; i < n; i++) {
		acc |= (unsigned char)p[i];
		zero |= p[i] == '\0' ? highs : 0;
	}
	return (zero ? 1u : 0u) | ((acc & highs) ? 2u : 0u);
}

/* The end of the line at p (its '\n', or NULL when p[0..n) has none), and in
 * *bytes what line_bytes says of the bytes before it: one pass for both. */
static const char *line_end(const char *p, size_t n, unsigned *bytes)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	unsigned z = 0, h = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
		unsigned zm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
		unsigned hm = (unsigned)_mm_movemask_epi8(v);

		if (m) {
			unsigned before = (m & (0u - m)) - 1;

			z |= zm & before;
			h |= hm & before;
			*bytes = (z ? 1u : 0u) | (h ? 2u : 0u);
			return p + i + (unsigned)__builtin_ctz(m);
		}
		z |= zm;
		h |= hm;
	}
	for (; i < n && p[i] != '\n'; i++) {
		z |= p[i] == '\0';
		h |= (unsigned char)p[i] >> 7;
	}
	*bytes = (z ? 1u : 0u) | (h ? 2u : 0u);
	return i < n ? p + i : NULL;
#else
	const char *e = memchr(p, '\n', n);

	(void)i;
	*bytes = line_bytes(p, e ? (size_t)(e - p) : n);
	return e;
#endif
}

/* One line; bytes: what line_bytes says of it, or -1 when not yet known. */
static void do_line_bytes(struct match_scanner *s, const char *p, size_t n, uint64_t off,
                          int known);

/* The line's own time (match_log_time; a Zeek log's ts column) and a
 * 64-bit key of its bytes, for sightings that count each line once. */
static void line_info(struct match_scanner *s, uint64_t line, const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	s->cur_li.line = line;
	s->cur_li.key = h ^ (h >> 29);
	s->cur_li.time_us = 0;
	if (s->fmt == MATCH_FORMAT_ZEEK && *p != '#') {
		size_t col = 0, ts = 0;
		const char *e = p + n, *f = p;

		while (ts < s->nzfield && strcmp(s->zfield[ts], "ts") != 0)
			ts++;
		if (ts == s->nzfield)
			ts = 0; /* Zeek writes ts first */
		for (; col < ts && f < e; col++) {
			const char *sep = memchr(f, s->zsep, (size_t)(e - f));

			f = sep ? sep + 1 : e;
		}
		s->cur_li.time_us = match_epoch_time(f, (size_t)(e - f));
	} else {
		s->cur_li.time_us = match_log_time(p, n, s->o.now_us);
	}
}

static void do_line(struct match_scanner *s, const char *p, size_t n, uint64_t off)
{
	do_line_bytes(s, p, n, off, -1);
}

static void do_line_bytes(struct match_scanner *s, const char *p, size_t n, uint64_t off, int known)
{
	struct tokctx t = {++s->line, off, p, NULL, 0};
	size_t mark_nc, mark_used;
	unsigned bytes;

	s->st.lines++;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	bytes = known >= 0 ? (unsigned)known : line_bytes(p, n);
	if (bytes & 1) {
		s->st.binary_lines++;
		return;
	}
	if ((bytes & 2) && !valid_utf8((const unsigned char *)p, n)) {
		s->st.bad_utf8_lines++;
		return;
	}
	/* auto: Zeek when the file starts with its header, else per line:
	 * JSON when it parses as an object, text otherwise */
	if (s->fmt == MATCH_FORMAT_AUTO && s->line == 1 && n > 10 &&
	    (memcmp(p, "#separator", 10) == 0 || memcmp(p, "#fields", 7) == 0))
		s->fmt = MATCH_FORMAT_ZEEK;
	if (s->nc + 64 > BATCH || s->sused + 2 * n + 4096 > SCRATCH_BYTES)
		flush(s);
	if (s->o.line_keys)
		line_info(s, t.line, p, n);
	mark_nc = s->nc;
	mark_used = s->sused;
	switch (s->fmt) {
	case MATCH_FORMAT_AUTO:
	case MATCH_FORMAT_JSONL:
		if (s->fmt == MATCH_FORMAT_AUTO && *p != '{') {
			tokenize(s, &t, p, n);
			break;
		}
		if (scan_json(s, &t, p, n) != 0) {
			if (s->nc >= mark_nc && s->sused >= mark_used) { /* drop what it found */
				s->nc = mark_nc;
				s->sused = mark_used;
			}
			s->cur_field = UINT32_MAX;
			if (s->fmt == MATCH_FORMAT_JSONL)
				s->st.bad_json_lines++;
			else
				tokenize(s, &t, p, n);
		}
		s->cur_field = UINT32_MAX;
		break;
	case MATCH_FORMAT_ZEEK:
		if (*p == '#')
			zeek_header(s, p, n);
		else
			scan_zeek(s, &t, p, n);
		break;
	default: tokenize(s, &t, p, n); break;
	}
}

int match_scanner_feed(struct match_scanner *s, const char *data, size_t len)
{
	size_t pos = 0;
	s->st.bytes += len;
	while (pos < len && !s->stop) {
		unsigned bytes;
		const char *nl = line_end(data + pos, len - pos, &bytes);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;

		if (s->skipping) {
			if (nl)
				s->skipping = 0, s->line++, s->st.lines++;
		} else if (s->carry_len) {
			if (s->carry_len + n > s->o.max_line) {
				s->st.long_lines++;
				s->carry_len = 0;
				if (nl)
					s->line++, s->st.lines++;
				else
					s->skipping = 1;
			} else {
				memcpy(s->carry + s->carry_len, data + pos, n);
				s->carry_len += n;
				if (nl) {
					s->carry[s->carry_len] = '\n'; /* a sentinel (tokenize) */
					do_line(s, s->carry, s->carry_len, s->carry_off);
					s->carry_len = 0;
				}
			}
		} else if (n > s->o.max_line) {
			s->st.long_lines++;
			if (nl)
				s->line++, s->st.lines++;
			else
				s->skipping = 1;
		} else if (nl) {
			do_line_bytes(s, data + pos, n, s->consumed + pos, (int)bytes);
		} else {
			memcpy(s->carry, data + pos, n);
			s->carry_len = n;
			s->carry_off = s->consumed + pos;
		}
		pos += n + (nl != NULL);
	}
	s->consumed += len;
	flush(s);
	return s->stop;
}

int match_scanner_end(struct match_scanner *s)
{
	if (s->carry_len && !s->stop) {
		s->carry[s->carry_len] = '\n'; /* a sentinel (tokenize) */
		do_line(s, s->carry, s->carry_len, s->carry_off);
	}
	s->carry_len = 0;
	s->skipping = 0;
	flush(s);
	return s->stop;
}
