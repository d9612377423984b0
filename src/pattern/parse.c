/*
 * pattern/parse.c — recursive descent over STIXPattern.g4 with one token of
 * lookahead, building pattern_int.h's tree in an arena; also checks what the
 * OASIS validator checks (hashes, 2.1 duplicate qualifiers) and compiles
 * MATCHES regexes, so a pattern that parses can run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern/pattern_int.h"

struct parser {
	struct pattern *p;
	struct pattern__lexer lx;
	struct pattern__token tok; /* the lookahead */
	struct tix_error *err;
	unsigned nest; /* open ( and [ */
	struct pattern__node **obs;
	unsigned nobs, capobs;
};

/* ---- helpers -------------------------------------------------------------- */

static void *alloc0(struct parser *ps, size_t size)
{
	void *m = tix_arena_alloc(&ps->p->arena, size);

	if (m == NULL) {
		tix_error_set(ps->err, TIX_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	memset(m, 0, size);
	return m;
}

static enum tix_err fail(struct parser *ps, size_t off, const char *fmt, ...) TIX_PRINTF(3, 4);

static enum tix_err fail(struct parser *ps, size_t off, const char *fmt, ...)
{
	char msg[360];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pattern__error_at(ps->lx.s, ps->lx.len, off, ps->err, "%s", msg);
}

static int advance(struct parser *ps)
{
	return pattern__lex(&ps->lx, &ps->tok, ps->err) == TIX_OK ? 0 : -1;
}

/* The lookahead as a message shows it: 'text' (at most ~40 bytes, cut at a
 * character boundary) or "the end of the pattern". */
static const char *found(struct parser *ps, char *buf, size_t size)
{
	size_t n = ps->tok.len;

	if (ps->tok.t == T_EOF)
		return "the end of the pattern";
	if (n > 40) {
		n = 40;
		while (n > 0 && ((unsigned char)ps->lx.s[ps->tok.off + n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(buf, size, "'%.*s%s'", (int)n, ps->lx.s + ps->tok.off,
	         n < ps->tok.len ? "..." : "");
	return buf;
}

/* A hint when a lowercase word looks like a keyword. */
static const char *keyword_hint(struct parser *ps)
{
	static const char *const words[] = {
	        "and",     "or",     "not",      "followedby", "like",  "matches",
	        "in",      "within", "repeats",  "times",      "start", "stop",
	        "seconds", "exists", "issubset", "issuperset", NULL};

	if (ps->tok.t != T_IDENT)
		return "";
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		if (n == ps->tok.len && strncasecmp(words[i], ps->lx.s + ps->tok.off, n) == 0)
			return " (keywords are written in capitals)";
	}
	return "";
}

static enum tix_err expected(struct parser *ps, const char *what)
{
	char buf[80];

	return fail(ps, ps->tok.off, "expected %s, found %s%s", what, found(ps, buf, sizeof(buf)),
	            keyword_hint(ps));
}

static struct pattern__node *new_node(struct parser *ps, enum pattern__kind kind)
{
	struct pattern__node *n = alloc0(ps, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	if (pattern__is_obs_level(kind))
		n->id = ps->p->nonodes++;
	return n;
}

/* Appends kid to n->kids, growing the array in the arena (doubling, so the
 * waste stays under half). */
static int add_kid(struct parser *ps, struct pattern__node *n, struct pattern__node *kid)
{
	if (n->nkids == 0 || (n->nkids >= 2 && (n->nkids & (n->nkids - 1)) == 0)) {
		/* the array holds 2, 4, 8, ... and is full */
		unsigned cap = n->nkids ? n->nkids * 2 : 2;
		struct pattern__node **k = alloc0(ps, cap * sizeof(*k));

		if (k == NULL)
			return -1;
		if (n->nkids)
			memcpy(k, n->kids, n->nkids * sizeof(*k));
		n->kids = k;
	}
	kid->parent = n;
	kid->pos = n->nkids;
	n->kids[n->nkids++] = kid;
	if (kid->depth > n->depth)
		n->depth = kid->depth;
	return 0;
}

/* Adds one level of nesting to n (a parenthesis, a bracket, a qualifier). */
static int deepen(struct parser *ps, struct pattern__node *n, size_t off)
{
	if (++n->depth > PATTERN_MAX_DEPTH) {
		fail(ps, off, "nested deeper than %d levels (parentheses, brackets and qualifiers)",
		     PATTERN_MAX_DEPTH);
		ps->err->code = TIX_ETOOBIG;
		return -1;
	}
	return 0;
}

static int open_nest(struct parser *ps)
{
	if (++ps->nest > PATTERN_MAX_DEPTH) {
		fail(ps, ps->tok.off, "nested deeper than %d levels (parentheses and brackets)",
		     PATTERN_MAX_DEPTH);
		ps->err->code = TIX_ETOOBIG;
		return -1;
	}
	return 0;
}

/* ---- constants ------------------------------------------------------------ */

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Text the lexer accepted as a timestamp (without t''). The grammar allows
 * 30 February; it counts as 1 March, as the day arithmetic gives. */
static void timestamp_value(const char *t, size_t n, struct tix_time *out)
{
	int32_t ns = 0;
	int digits = 0;

	out->sec =
	        tix_days_from_civil(num(t, 4), (unsigned)num(t + 5, 2), (unsigned)num(t + 8, 2)) *
	                86400 +
	        num(t + 11, 2) * 3600 + num(t + 14, 2) * 60 + num(t + 17, 2);
	if (n > 20 && t[19] == '.') {
		for (size_t i = 20; i < n && t[i] != 'Z'; i++) {
			if (digits < 9) {
				ns = ns * 10 + (t[i] - '0');
				digits++;
			}
		}
	}
	out->digits = (int8_t)digits;
	while (digits++ < 9)
		ns *= 10;
	out->nsec = ns;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes the lookahead (a constant token) into lit. */
static int literal(struct parser *ps, struct pattern__lit *lit)
{
	const char *t = ps->lx.s + ps->tok.off;
	size_t n = ps->tok.len;
	char *s;

	memset(lit, 0, sizeof(*lit));
	if (*t == '+')
		t++, n--;
	lit->text = t;
	lit->text_len = n;
	switch (ps->tok.t) {
	case T_INT: {
		char buf[32];
		char *end;

		errno = 0;
		if (n < sizeof(buf)) {
			memcpy(buf, t, n);
			buf[n] = '\0';
			lit->i = strtoll(buf, &end, 10);
		}
		if (n >= sizeof(buf) || errno == ERANGE) {
			fail(ps, ps->tok.off,
			     "%.*s is out of range: integers are 64-bit (STIX integers are smaller "
			     "still)",
			     (int)(n > 40 ? 40 : n), t);
			return -1;
		}
		lit->kind = PATTERN_LIT_INT;
		break;
	}
	case T_FLOAT: {
		char *buf = alloc0(ps, n + 1);

		if (buf == NULL)
			return -1;
		memcpy(buf, t, n);
		lit->f = strtod(buf, NULL);
		lit->kind = PATTERN_LIT_FLOAT;
		break;
	}
	case T_BOOL:
		lit->kind = PATTERN_LIT_BOOL;
		lit->b = *t == 't';
		break;
	case T_STRING:
		if ((s = alloc0(ps, n)) == NULL)
			return -1;
		for (size_t i = 1; i + 1 < n; i++) {
			if (t[i] == '\\')
				i++;
			s[lit->len++] = t[i];
		}
		lit->s = s;
		lit->kind = PATTERN_LIT_STRING;
		break;
	case T_HEX:
		if ((s = alloc0(ps, n / 2 + 1)) == NULL)
			return -1;
		for (size_t i = 2; i + 1 < n; i += 2)
			s[lit->len++] = (char)(tix_hex_value(t[i]) << 4 | tix_hex_value(t[i + 1]));
		lit->s = s;
		lit->kind = PATTERN_LIT_HEX;
		break;
	case T_BINARY: {
		unsigned acc = 0, bits = 0;

		if ((s = alloc0(ps, n)) == NULL)
			return -1;
		for (size_t i = 2; i + 1 < n; i++) {
			int v = b64val(t[i]);

			if (v < 0)
				continue; /* padding, line feeds */
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				s[lit->len++] = (char)((acc >> bits) & 0xff);
			}
		}
		lit->s = s;
		lit->kind = PATTERN_LIT_BINARY;
		break;
	}
	case T_TIMESTAMP:
		timestamp_value(t + 2, n - 3, &lit->t);
		lit->kind = PATTERN_LIT_TIMESTAMP;
		break;
	default: expected(ps, "a constant"); return -1;
	}
	return 0;
}

static int is_literal(enum pattern__tok t)
{
	return t == T_INT || t == T_FLOAT || t == T_STRING || t == T_HEX || t == T_BINARY ||
	       t == T_TIMESTAMP || t == T_BOOL;
}

/* ---- hash values (as the OASIS pattern validator checks them) ------------- */

static const struct {
	const char *name; /* uppercase, without '-' */
	int len[6];       /* accepted hex lengths; {0} for SSDEEP */
	const char *desc;
} hash_forms[] = {
        {"MD5", {32}, "32 hex digits"},
        {"MD6", {32, 40, 56, 64, 96, 128}, "32, 40, 56, 64, 96 or 128 hex digits"},
        {"RIPEMD160", {40}, "40 hex digits"},
        {"SHA1", {40}, "40 hex digits"},
        {"SHA224", {56}, "56 hex digits"},
        {"SHA256", {64}, "64 hex digits"},
        {"SHA384", {96}, "96 hex digits"},
        {"SHA512", {128}, "128 hex digits"},
        {"SHA3224", {56}, "56 hex digits"},
        {"SHA3256", {64}, "64 hex digits"},
        {"SHA3384", {96}, "96 hex digits"},
        {"SHA3512", {128}, "128 hex digits"},
        {"SSDEEP", {0}, "1 to 128 characters of A-Z, a-z, 0-9, '/', '+', ':' and '.'"},
        {"WHIRLPOOL", {128}, "128 hex digits"},
};

static int hash_ok(int form, const char *v, size_t n)
{
	if (hash_forms[form].len[0] == 0) {
		if (n < 1 || n > 128)
			return 0;
		for (size_t i = 0; i < n; i++) {
			char c = v[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '/' || c == '+' || c == ':' ||
			      c == '.'))
				return 0;
		}
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9')))
			return 0;
	}
	for (int k = 0; k < 6 && hash_forms[form].len[k]; k++)
		if ((size_t)hash_forms[form].len[k] == n)
			return 1;
	return 0;
}

/* A string compared with =, != or IN to a known hash of a "hashes"
 * dictionary must have that hash's form. */
static int check_hash(struct parser *ps, const struct pattern__test *t,
                      const struct pattern__lit *lit)
{
	const struct pattern__step *last = &t->steps[t->nsteps - 1];
	char name[32];
	size_t n = 0;
	int in_hashes = 0;

	if (lit->kind != PATTERN_LIT_STRING || last->kind != PS_KEY)
		return 0;
	for (unsigned i = 0; i + 1 < t->nsteps; i++)
		if (t->steps[i].kind == PS_KEY && strcmp(t->steps[i].key, "hashes") == 0)
			in_hashes = 1;
	if (!in_hashes)
		return 0;
	for (const char *k = last->key; *k && n + 1 < sizeof(name); k++)
		if (*k != '-')
			name[n++] = (char)(*k >= 'a' && *k <= 'z' ? *k - 32 : *k);
	name[n] = '\0';
	for (size_t f = 0; f < sizeof(hash_forms) / sizeof(hash_forms[0]); f++) {
		if (strcmp(name, hash_forms[f].name) != 0 || hash_ok((int)f, lit->s, lit->len))
			continue;
		fail(ps, (size_t)(lit->text - ps->lx.s),
		     "'%.*s' is not a valid %s hash: %s expected",
		     (int)(lit->len > 60 ? 60 : lit->len), lit->s, last->key, hash_forms[f].desc);
		return -1;
	}
	return 0;
}

/* ---- regular expressions ---------------------------------------------------- */

long pattern__latin1(const char *s, size_t len, unsigned char *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t cp;

		i += pattern__utf8_next(s + i, len - i, &cp);
		if (cp > 0xff)
			return -1;
		out[n++] = (unsigned char)cp;
	}
	return (long)n;
}

static pcre2_code *compile(struct parser *ps, const char *re, size_t len, uint32_t flags,
                           size_t off)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	struct pattern__regex *r;
	PCRE2_SIZE eoff = 0;
	pcre2_code *code;
	int ec = 0;

	if (cc == NULL) {
		tix_error_set(ps->err, TIX_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	pcre2_set_parens_nest_limit(cc, 250);
	code = pcre2_compile((PCRE2_SPTR)re, len, flags | PCRE2_DOTALL | PCRE2_NEVER_BACKSLASH_C,
	                     &ec, &eoff, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL) {
		PCRE2_UCHAR msg[200];

		if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "unknown error");
		fail(ps, off,
		     "the regular expression does not compile: %s (at character %zu of it)",
		     (const char *)msg, (size_t)eoff + 1);
		return NULL;
	}
	if ((r = alloc0(ps, sizeof(*r))) == NULL) {
		pcre2_code_free(code);
		return NULL;
	}
	r->code = code;
	r->next = ps->p->regexes;
	ps->p->regexes = r;
	return code;
}

static int compile_regex(struct parser *ps, struct pattern__test *t)
{
	size_t off = (size_t)(t->lit.text - ps->lx.s);
	unsigned char *bin;
	long n;

	t->re = compile(ps, t->lit.s, t->lit.len, PCRE2_UTF | PCRE2_UCP, off);
	if (t->re == NULL)
		return -1;
	if (!t->binary)
		return 0;
	/* Binary values are matched octet by octet: the regex's code points
	 * become octets when they can (section 9.6.4). */
	if ((bin = alloc0(ps, t->lit.len + 1)) == NULL)
		return -1;
	n = pattern__latin1(t->lit.s, t->lit.len, bin);
	if (n >= 0 && (t->re_bin = compile(ps, (const char *)bin, (size_t)n, 0, off)) == NULL)
		return -1;
	return 0;
}

/* ---- object paths ------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int path_key(struct parser *ps, struct pattern__step *st)
{
	struct pattern__lit lit;

	st->kind = PS_KEY;
	if (ps->tok.t == T_STRING) {
		if (literal(ps, &lit) != 0)
			return -1;
		st->quoted = 1;
		st->key = lit.s;
	} else {
		char *k = alloc0(ps, ps->tok.len + 1);

		if (k == NULL)
			return -1;
		memcpy(k, ps->lx.s + ps->tok.off, ps->tok.len);
		st->key = k;
	}
	return advance(ps);
}

static int parse_path(struct parser *ps, struct pattern__test *t)
{
	struct pattern__step steps[PATTERN_MAX_PATH_STEPS];
	struct tix_buf text;
	unsigned n = 0;
	char *type;
	int ret = -1;

	tix_buf_init(&text, PATTERN_MAX_LEN);
	t->offset = ps->tok.off;
	if (ps->tok.t != T_IDENT) {
		expected(ps, "an object path (type:property)");
		goto out;
	}
	if ((type = alloc0(ps, ps->tok.len + 1)) == NULL)
		goto out;
	memcpy(type, ps->lx.s + ps->tok.off, ps->tok.len);
	t->type = type;
	if (advance(ps) != 0)
		goto out;
	if (ps->tok.t != T_COLON) {
		char what[120];

		snprintf(what, sizeof(what), "':' after the object type '%.60s'", type);
		expected(ps, what);
		goto out;
	}
	if (advance(ps) != 0)
		goto out;
	memset(steps, 0, sizeof(steps));
	t->prop_offset = ps->tok.off;
	if (ps->tok.t == T_IDENT && ps->tok.hyphen) {
		fail(ps, ps->tok.off, "a property name with '-' must be quoted: '%.*s'",
		     (int)(ps->tok.len > 60 ? 60 : ps->tok.len), ps->lx.s + ps->tok.off);
		goto out;
	}
	if (ps->tok.t != T_IDENT && ps->tok.t != T_STRING) {
		expected(ps, "a property name after ':'");
		goto out;
	}
	for (;;) {
		if (n > 0 && ps->tok.t != T_DOT && ps->tok.t != T_LBRACK)
			break;
		if (n == PATTERN_MAX_PATH_STEPS) {
			fail(ps, ps->tok.off, "the object path has more than %d steps",
			     PATTERN_MAX_PATH_STEPS);
			ps->err->code = TIX_ETOOBIG;
			goto out;
		}
		if (n == 0 || ps->tok.t == T_DOT) {
			if (n > 0) {
				if (advance(ps) != 0)
					goto out;
				if (ps->tok.t == T_IDENT && ps->tok.hyphen) {
					fail(ps, ps->tok.off,
					     "a property name with '-' must be quoted: '%.*s'",
					     (int)(ps->tok.len > 60 ? 60 : ps->tok.len),
					     ps->lx.s + ps->tok.off);
					goto out;
				}
				if (ps->tok.t != T_IDENT && ps->tok.t != T_STRING) {
					expected(ps, "a property name or a quoted key after '.'");
					goto out;
				}
				tix_buf_addc(&text, '.');
			}
			tix_buf_add(&text, ps->lx.s + ps->tok.off, ps->tok.len);
			if (path_key(ps, &steps[n]) != 0)
				goto out;
		} else if (ps->tok.t == T_LBRACK) {
			if (advance(ps) != 0)
				goto out;
			if (ps->tok.t == T_STAR) {
				steps[n].kind = PS_STAR;
				tix_buf_adds(&text, "[*]");
			} else if (ps->tok.t == T_INT) {
				struct pattern__lit lit;

				if (literal(ps, &lit) != 0)
					goto out;
				steps[n].kind = PS_INDEX;
				steps[n].index = lit.i;
				tix_buf_addf(&text, "[%lld]", (long long)lit.i);
			} else {
				expected(ps, "a list index or '*' after '['");
				goto out;
			}
			if (advance(ps) != 0)
				goto out;
			if (ps->tok.t != T_RBRACK) {
				expected(ps, "']' after the list index");
				goto out;
			}
			if (advance(ps) != 0)
				goto out;
		}
		n++;
	}
	if ((t->steps = alloc0(ps, n * sizeof(*t->steps))) == NULL)
		goto out;
	memcpy(t->steps, steps, n * sizeof(*t->steps));
	t->nsteps = n;
	t->plain = 1;
	for (unsigned i = 0; i < n; i++) {
		if (steps[i].kind != PS_KEY || (i + 1 < n && (ends_with(steps[i].key, "_ref") ||
		                                              ends_with(steps[i].key, "_refs"))))
			t->plain = 0;
	}
	for (unsigned i = n; i-- > 0;) {
		if (steps[i].kind == PS_KEY) {
			t->binary =
			        ends_with(steps[i].key, "_bin") || ends_with(steps[i].key, "_hex");
			break;
		}
	}
	if (tix_buf_addc(&text, '\0') != TIX_OK ||
	    (t->path_text = tix_arena_strdup(&ps->p->arena, text.data)) == NULL) {
		tix_error_set(ps->err, TIX_ENOMEM, NULL, "out of memory");
		goto out;
	}
	ret = 0;
out:
	tix_buf_release(&text);
	return ret;
}

/* ---- expressions ---------------------------------------------------------------- */

/* sub (op sub)*, flattened into one n-ary node: AND and OR are associative,
 * and the evaluator reads an n-ary FOLLOWEDBY as the grammar's left
 * associative chain (each operand follows all those before it). */
static struct pattern__node *parse_nary(struct parser *ps, enum pattern__tok op,
                                        enum pattern__kind kind,
                                        struct pattern__node *(*sub)(struct parser *))
{
	struct pattern__node *first, *n;

	if ((first = sub(ps)) == NULL)
		return NULL;
	if (ps->tok.t != op)
		return first;
	if ((n = new_node(ps, kind)) == NULL || add_kid(ps, n, first) != 0)
		return NULL;
	while (ps->tok.t == op) {
		struct pattern__node *k;

		if (advance(ps) != 0 || (k = sub(ps)) == NULL || add_kid(ps, n, k) != 0)
			return NULL;
	}
	return n;
}

/* ---- comparison expressions ----------------------------------------------------- */

static struct pattern__node *parse_cmp_or(struct parser *ps);

/* "(" inner ")" at either level of the grammar (comparison expressions
 * inside brackets, observation expressions outside): the nesting depth is
 * counted and the parentheses recorded on the node. */
static struct pattern__node *
parse_group(struct parser *ps, struct pattern__node *(*inner)(struct parser *), const char *want)
{
	struct pattern__node *n;
	size_t open = ps->tok.off;

	if (open_nest(ps) != 0 || advance(ps) != 0)
		return NULL;
	if ((n = inner(ps)) == NULL)
		return NULL;
	if (ps->tok.t != T_RPAREN) {
		expected(ps, want);
		return NULL;
	}
	ps->nest--;
	n->paren++;
	if (deepen(ps, n, open) != 0 || advance(ps) != 0)
		return NULL;
	return n;
}

static struct pattern__node *parse_test(struct parser *ps)
{
	struct pattern__node *n;
	struct pattern__test *t;
	char what[80];

	if (ps->tok.t == T_LPAREN)
		return parse_group(ps, parse_cmp_or, "AND, OR or ')'");
	if ((n = new_node(ps, PN_TEST)) == NULL)
		return NULL;
	t = &n->u.test;
	if (ps->tok.t == T_NOT) {
		t->negated = 1;
		if (advance(ps) != 0)
			return NULL;
		if (ps->tok.t != T_EXISTS) {
			expected(ps, "EXISTS after NOT (to negate an operator, write NOT after the "
			             "object path)");
			return NULL;
		}
	}
	if (ps->tok.t == T_EXISTS) {
		if (advance(ps) != 0 || parse_path(ps, t) != 0)
			return NULL;
		t->op = PATTERN_OP_EXISTS;
		return n;
	}
	if (ps->tok.t != T_IDENT) {
		expected(ps, ps->lx.version == PATTERN_V21
		                     ? "an object path (type:property), '(' or EXISTS"
		                     : "an object path (type:property) or '('");
		return NULL;
	}
	if (parse_path(ps, t) != 0)
		return NULL;
	if (ps->tok.t == T_NOT) {
		t->negated = 1;
		if (advance(ps) != 0)
			return NULL;
	}
	switch (ps->tok.t) {
	case T_EQ: t->op = PATTERN_OP_EQ; break;
	case T_NEQ: t->op = PATTERN_OP_NE; break;
	case T_LT: t->op = PATTERN_OP_LT; break;
	case T_LE: t->op = PATTERN_OP_LE; break;
	case T_GT: t->op = PATTERN_OP_GT; break;
	case T_GE: t->op = PATTERN_OP_GE; break;
	case T_IN: t->op = PATTERN_OP_IN; break;
	case T_LIKE: t->op = PATTERN_OP_LIKE; break;
	case T_MATCHES: t->op = PATTERN_OP_MATCHES; break;
	case T_ISSUBSET: t->op = PATTERN_OP_ISSUBSET; break;
	case T_ISSUPERSET: t->op = PATTERN_OP_ISSUPERSET; break;
	default:
		expected(ps, t->negated ? "a comparison operator after NOT"
		                        : "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
		                          "MATCHES, ISSUBSET, ISSUPERSET)");
		return NULL;
	}
	if (advance(ps) != 0)
		return NULL;
	snprintf(what, sizeof(what), "a constant after '%s'", pattern_op_name(t->op));
	switch (t->op) {
	case PATTERN_OP_IN: {
		struct pattern__lit *set = NULL;
		size_t cap = 0;

		if (ps->tok.t != T_LPAREN) {
			expected(ps, "'(' and a list of constants after IN");
			return NULL;
		}
		if (advance(ps) != 0)
			return NULL;
		while (ps->tok.t != T_RPAREN) {
			if (t->nset > 0) {
				if (ps->tok.t != T_COMMA) {
					expected(ps, "',' or ')' in the set");
					return NULL;
				}
				if (advance(ps) != 0)
					return NULL;
			}
			if (!is_literal(ps->tok.t)) {
				expected(ps, "a constant in the set");
				return NULL;
			}
			if (t->nset == cap) {
				struct pattern__lit *bigger;

				cap = cap ? cap * 2 : 4;
				if ((bigger = alloc0(ps, cap * sizeof(*bigger))) == NULL)
					return NULL;
				/* nset > 0 means set is not NULL */
				if (t->nset)
					// NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
					memcpy(bigger, set, t->nset * sizeof(*set));
				set = bigger;
			}
			if (literal(ps, &set[t->nset]) != 0 ||
			    check_hash(ps, t, &set[t->nset]) != 0)
				return NULL;
			t->nset++;
			if (advance(ps) != 0)
				return NULL;
		}
		t->set = set;
		break;
	}
	case PATTERN_OP_LIKE:
	case PATTERN_OP_MATCHES:
	case PATTERN_OP_ISSUBSET:
	case PATTERN_OP_ISSUPERSET:
		if (ps->tok.t != T_STRING) {
			snprintf(what, sizeof(what), "a string constant after %s",
			         pattern_op_name(t->op));
			expected(ps, what);
			return NULL;
		}
		if (literal(ps, &t->lit) != 0)
			return NULL;
		if (t->op == PATTERN_OP_LIKE || t->op == PATTERN_OP_MATCHES) {
			/* 9.6: LIKE and MATCHES compare NFC text; the values are
			 * normalised when evaluated */
			size_t nl = 0;
			char *nfc = pattern__nfc(t->lit.s, t->lit.len, &nl);

			if (nfc) {
				char *copy = tix_arena_strndup(&ps->p->arena, nfc, nl);

				free(nfc);
				if (copy == NULL) {
					tix_error_set(ps->err, TIX_ENOMEM, NULL, "out of memory");
					return NULL;
				}
				t->lit.s = copy;
				t->lit.len = nl;
			}
		}
		if (t->op == PATTERN_OP_MATCHES && compile_regex(ps, t) != 0)
			return NULL;
		break;
	default:
		if (ps->tok.t == T_BOOL && t->op != PATTERN_OP_EQ && t->op != PATTERN_OP_NE) {
			fail(ps, ps->tok.off, "a boolean has no order: compare it with = or !=");
			return NULL;
		}
		if (!is_literal(ps->tok.t)) {
			expected(ps, what);
			return NULL;
		}
		if (literal(ps, &t->lit) != 0 || check_hash(ps, t, &t->lit) != 0)
			return NULL;
		break;
	}
	if (advance(ps) != 0)
		return NULL;
	return n;
}

static struct pattern__node *parse_cmp_and(struct parser *ps)
{
	return parse_nary(ps, T_AND, PN_AND, parse_test);
}

static struct pattern__node *parse_cmp_or(struct parser *ps)
{
	return parse_nary(ps, T_OR, PN_OR, parse_cmp_and);
}

/* ---- observation expressions ----------------------------------------------------- */

static struct pattern__node *parse_fb(struct parser *ps);

static struct pattern__node *parse_primary(struct parser *ps)
{
	struct pattern__node *n, *cmp;
	size_t open = ps->tok.off;

	if (ps->tok.t == T_LPAREN)
		return parse_group(ps, parse_fb, "AND, OR, FOLLOWEDBY, a qualifier or ')'");
	if (ps->tok.t != T_LBRACK) {
		expected(ps, "'[' or '(' to start an observation expression");
		return NULL;
	}
	if (open_nest(ps) != 0 || advance(ps) != 0)
		return NULL;
	if ((cmp = parse_cmp_or(ps)) == NULL)
		return NULL;
	if (ps->tok.t != T_RBRACK) {
		expected(ps, "AND, OR or ']'");
		return NULL;
	}
	ps->nest--;
	if ((n = new_node(ps, PN_OBS)) == NULL || add_kid(ps, n, cmp) != 0 ||
	    deepen(ps, n, open) != 0)
		return NULL;
	if (ps->nobs == ps->capobs) {
		unsigned cap = ps->capobs ? ps->capobs * 2 : 8;
		struct pattern__node **v = realloc(ps->obs, cap * sizeof(*v));

		if (v == NULL) {
			tix_error_set(ps->err, TIX_ENOMEM, NULL, "out of memory");
			return NULL;
		}
		ps->obs = v;
		ps->capobs = cap;
	}
	n->u.obs = ps->nobs;
	ps->obs[ps->nobs++] = n;
	if (advance(ps) != 0)
		return NULL;
	return n;
}

/* A number of seconds, exactly: integer part and nanoseconds. */
static void seconds_value(const char *t, size_t n, int64_t *sec, int32_t *nsec)
{
	size_t i = 0;
	int digits = 0;

	*sec = 0;
	*nsec = 0;
	if (i < n && t[i] == '+')
		i++;
	for (; i < n && t[i] != '.'; i++)
		*sec = *sec > INT64_MAX / 20 ? INT64_MAX / 2 : *sec * 10 + (t[i] - '0');
	if (i < n)
		i++;
	for (; i < n && digits < 9; i++, digits++)
		*nsec = *nsec * 10 + (t[i] - '0');
	while (digits++ < 9)
		*nsec *= 10;
}

static int start_stop_time(struct parser *ps, struct pattern__lit *lit, const char *after)
{
	char what[120];

	/* STIX 2.0's grammar has START and STOP take strings; producers of that
	 * time also wrote t'...'. Both are read there. */
	if (ps->tok.t == T_STRING && ps->lx.version == PATTERN_V20) {
		struct pattern__lexer lx = {NULL, 0, 0, PATTERN_V20};
		struct pattern__token tok;
		struct tix_error e;
		char buf[80];

		if (literal(ps, lit) != 0)
			return -1;
		if (lit->len + 3 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "t'%s'", lit->s);
			lx.s = buf;
			lx.len = strlen(buf);
			if (pattern__lex(&lx, &tok, &e) == TIX_OK && tok.t == T_TIMESTAMP &&
			    tok.len == lx.len) {
				timestamp_value(lit->s, lit->len, &lit->t);
				lit->kind = PATTERN_LIT_TIMESTAMP;
				return advance(ps);
			}
		}
		fail(ps, ps->tok.off, "'%.*s' is not a timestamp",
		     (int)(lit->len > 60 ? 60 : lit->len), lit->s);
		return -1;
	}
	if (ps->tok.t != T_TIMESTAMP) {
		snprintf(what, sizeof(what), "a timestamp t'YYYY-MM-DDTHH:MM:SSZ' after %s", after);
		expected(ps, what);
		return -1;
	}
	if (literal(ps, lit) != 0)
		return -1;
	return advance(ps);
}

static struct pattern__node *parse_qualified(struct parser *ps)
{
	struct pattern__node *n, *q;
	unsigned seen = 0;
	int check;

	if ((n = parse_primary(ps)) == NULL)
		return NULL;
	/* STIX 2.1: at most one qualifier of a kind on an observation expression.
	 * As the OASIS validator reads it, that binds a bracketed expression
	 * only, not a parenthesised group. */
	check = ps->lx.version == PATTERN_V21 && n->kind == PN_OBS && n->paren == 0;
	for (;;) {
		size_t at = ps->tok.off;
		enum pattern__kind kind;
		const char *name;

		if (ps->tok.t == T_WITHIN)
			kind = PN_WITHIN, name = "WITHIN";
		else if (ps->tok.t == T_REPEATS)
			kind = PN_REPEATS, name = "REPEATS";
		else if (ps->tok.t == T_START)
			kind = PN_STARTSTOP, name = "START/STOP";
		else
			return n;
		if (check && (seen & (1u << (kind - PN_WITHIN)))) {
			fail(ps, at,
			     "a second %s qualifier on one observation expression (STIX 2.1 allows "
			     "one of each kind; group with parentheses to apply another)",
			     name);
			return NULL;
		}
		seen |= 1u << (kind - PN_WITHIN);
		if ((q = new_node(ps, kind)) == NULL || advance(ps) != 0)
			return NULL;
		if (kind == PN_WITHIN) {
			if ((ps->tok.t != T_INT && ps->tok.t != T_FLOAT) || ps->tok.neg) {
				expected(ps, "a positive number of seconds after WITHIN");
				return NULL;
			}
			q->u.within.text = ps->lx.s + ps->tok.off;
			q->u.within.text_len = ps->tok.len;
			if (*q->u.within.text == '+')
				q->u.within.text++, q->u.within.text_len--;
			seconds_value(ps->lx.s + ps->tok.off, ps->tok.len, &q->u.within.sec,
			              &q->u.within.nsec);
			if (q->u.within.sec == 0 && q->u.within.nsec == 0) {
				fail(ps, ps->tok.off, "WITHIN needs a positive number of seconds");
				return NULL;
			}
			if (advance(ps) != 0)
				return NULL;
			if (ps->tok.t != T_SECONDS) {
				expected(ps, "SECONDS (the only unit) after the number");
				return NULL;
			}
		} else if (kind == PN_REPEATS) {
			struct pattern__lit lit;

			if (ps->tok.t != T_INT || ps->tok.neg) {
				expected(ps, "a positive integer after REPEATS");
				return NULL;
			}
			if (literal(ps, &lit) != 0)
				return NULL;
			if (lit.i < 1 || lit.i > PATTERN_MAX_REPEATS) {
				fail(ps, ps->tok.off, "REPEATS takes 1 to %d", PATTERN_MAX_REPEATS);
				if (lit.i > PATTERN_MAX_REPEATS)
					ps->err->code = TIX_ETOOBIG;
				return NULL;
			}
			q->u.repeats.n = (uint32_t)lit.i;
			if (advance(ps) != 0)
				return NULL;
			if (ps->tok.t != T_TIMES) {
				expected(ps, "TIMES after the number of repetitions");
				return NULL;
			}
		} else {
			if (start_stop_time(ps, &q->u.ss.start, "START") != 0)
				return NULL;
			if (ps->tok.t != T_STOP) {
				expected(ps, "STOP after the START timestamp");
				return NULL;
			}
			if (advance(ps) != 0 || start_stop_time(ps, &q->u.ss.stop, "STOP") != 0)
				return NULL;
		}
		if (kind != PN_STARTSTOP && advance(ps) != 0)
			return NULL;
		if (add_kid(ps, q, n) != 0 || deepen(ps, q, at) != 0)
			return NULL;
		n = q;
	}
}

static struct pattern__node *parse_and(struct parser *ps)
{
	return parse_nary(ps, T_AND, PN_OBS_AND, parse_qualified);
}

static struct pattern__node *parse_or(struct parser *ps)
{
	return parse_nary(ps, T_OR, PN_OBS_OR, parse_and);
}

static struct pattern__node *parse_fb(struct parser *ps)
{
	return parse_nary(ps, T_FOLLOWEDBY, PN_FOLLOWEDBY, parse_or);
}

/* ---- entry points ------------------------------------------------------------------ */

enum pattern_version pattern_version_from_string(const char *s)
{
	return s && strcmp(s, "2.0") == 0 ? PATTERN_V20 : PATTERN_V21;
}

enum pattern_version pattern_get_version(const struct pattern *p)
{
	return p->version;
}

void pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	for (struct pattern__regex *r = p->regexes; r; r = r->next)
		pcre2_code_free(r->code);
	tix_arena_release(&p->arena);
	free(p);
}

struct pattern *pattern_parse(const char *text, size_t len, enum pattern_version version,
                              struct tix_error *err)
{
	struct tix_error dummy;
	struct parser ps;
	struct pattern *p = NULL;
	size_t bad;

	if (err == NULL)
		err = &dummy;
	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	if (text == NULL)
		text = "";
	if (len > PATTERN_MAX_LEN) {
		tix_error_set(err, TIX_ETOOBIG, NULL,
		              "the pattern has %zu bytes, more than the limit of %u", len,
		              PATTERN_MAX_LEN);
		goto fail;
	}
	if ((bad = pattern__check_utf8(text, len)) < len) {
		pattern__error_at(text, len, bad, err,
		                  text[bad] ? "the pattern is not valid UTF-8"
		                            : "the pattern contains a NUL character");
		goto fail;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
		goto fail;
	}
	tix_arena_init(&p->arena, len < 512 ? 2048 : 4 * len + 1024);
	p->version = version;
	ps.p = p;
	if ((p->text = tix_arena_strndup(&p->arena, text, len)) == NULL) {
		tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
		goto fail;
	}
	p->len = len;
	ps.lx.s = p->text;
	ps.lx.len = len;
	ps.lx.version = version;
	if (advance(&ps) != 0)
		goto fail;
	if (ps.tok.t == T_EOF) {
		tix_error_set(err, TIX_EPARSE, NULL, "column 1: the pattern is empty");
		goto fail;
	}
	if ((p->root = parse_fb(&ps)) == NULL)
		goto fail;
	if (ps.tok.t != T_EOF) {
		expected(&ps,
		         "AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or the end "
		         "of the pattern");
		goto fail;
	}
	if ((p->obs = alloc0(&ps, ps.nobs * sizeof(*p->obs))) == NULL)
		goto fail;
	memcpy(p->obs, ps.obs, ps.nobs * sizeof(*p->obs));
	p->nobs = ps.nobs;
	free(ps.obs);
	return p;
fail:
	free(ps.obs);
	pattern_free(p);
	return NULL;
}

int pattern_error_pos(const struct tix_error *err, unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 0;

	if (err == NULL)
		return -1;
	/* Our own messages, from fail() above: nothing unexpected to convert. */
	// NOLINTNEXTLINE(cert-err34-c)
	if (sscanf(err->msg, "line %u, column %u:", &l, &c) == 2 ||
	    // NOLINTNEXTLINE(cert-err34-c)
	    sscanf(err->msg, "column %u:", &c) == 1) {
		if (c == 0)
			return -1;
		*line = l;
		*column = c;
		return 0;
	}
	return -1;
}
