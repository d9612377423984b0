/*
 * pattern/print.c — writes a parsed pattern back out: the canonical text
 * (which parses to the same tree, a property the fuzzer checks) and the
 * indented tree `tix pattern explain` shows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

/* A tix_buf that remembers its first failure, so the printers can write
 * freely and check once. */
struct out {
	struct tix_buf *b;
	enum tix_err e;
};

static void o_add(struct out *o, const char *s, size_t n)
{
	if (o->e == TIX_OK)
		o->e = tix_buf_add(o->b, s, n);
}

static void o_adds(struct out *o, const char *s)
{
	o_add(o, s, strlen(s));
}

static void o_addc(struct out *o, char c)
{
	o_add(o, &c, 1);
}

static void o_addf(struct out *o, const char *fmt, ...) TIX_PRINTF(2, 3);

static void o_addf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (o->e == TIX_OK)
		o->e = tix_buf_vaddf(o->b, fmt, ap);
	va_end(ap);
}

const char *pattern_op_name(enum pattern_op op)
{
	switch (op) {
	case PATTERN_OP_EQ: return "=";
	case PATTERN_OP_NE: return "!=";
	case PATTERN_OP_LT: return "<";
	case PATTERN_OP_LE: return "<=";
	case PATTERN_OP_GT: return ">";
	case PATTERN_OP_GE: return ">=";
	case PATTERN_OP_IN: return "IN";
	case PATTERN_OP_LIKE: return "LIKE";
	case PATTERN_OP_MATCHES: return "MATCHES";
	case PATTERN_OP_ISSUBSET: return "ISSUBSET";
	case PATTERN_OP_ISSUPERSET: return "ISSUPERSET";
	case PATTERN_OP_EXISTS: return "EXISTS";
	}
	return "?";
}

const char *pattern_lit_name(enum pattern_lit kind)
{
	switch (kind) {
	case PATTERN_LIT_NONE: return "none";
	case PATTERN_LIT_STRING: return "string";
	case PATTERN_LIT_INT: return "integer";
	case PATTERN_LIT_FLOAT: return "float";
	case PATTERN_LIT_BOOL: return "boolean";
	case PATTERN_LIT_HEX: return "hex";
	case PATTERN_LIT_BINARY: return "binary";
	case PATTERN_LIT_TIMESTAMP: return "timestamp";
	}
	return "?";
}

static void add_lit(struct out *out, const struct pattern__lit *lit)
{
	o_add(out, lit->text, lit->text_len);
}

static void add_test(struct out *out, const struct pattern__test *t)
{
	if (t->op == PATTERN_OP_EXISTS) {
		o_addf(out, "%sEXISTS %s:%s", t->negated ? "NOT " : "", t->type, t->path_text);
		return;
	}
	o_addf(out, "%s:%s %s%s ", t->type, t->path_text, t->negated ? "NOT " : "",
	       pattern_op_name(t->op));
	if (t->op == PATTERN_OP_IN) {
		o_addc(out, '(');
		for (size_t i = 0; i < t->nset; i++) {
			if (i)
				o_adds(out, ", ");
			add_lit(out, &t->set[i]);
		}
		o_addc(out, ')');
		return;
	}
	add_lit(out, &t->lit);
}

/* Recursion is bounded by the tree's height, which PATTERN_MAX_DEPTH bounds. */
static void format_node(struct out *out, const struct pattern__node *n)
{
	const char *sep = NULL;

	for (unsigned i = 0; i < n->paren; i++)
		o_addc(out, '(');
	switch (n->kind) {
	case PN_OBS:
		o_addc(out, '[');
		format_node(out, n->kids[0]);
		o_addc(out, ']');
		break;
	case PN_OBS_AND:
	case PN_AND: sep = " AND "; break;
	case PN_OBS_OR:
	case PN_OR: sep = " OR "; break;
	case PN_FOLLOWEDBY: sep = " FOLLOWEDBY "; break;
	case PN_WITHIN:
		format_node(out, n->kids[0]);
		o_addf(out, " WITHIN %.*s SECONDS", (int)n->u.within.text_len, n->u.within.text);
		break;
	case PN_REPEATS:
		format_node(out, n->kids[0]);
		o_addf(out, " REPEATS %u TIMES", (unsigned)n->u.repeats.n);
		break;
	case PN_STARTSTOP:
		format_node(out, n->kids[0]);
		o_adds(out, " START ");
		add_lit(out, &n->u.ss.start);
		o_adds(out, " STOP ");
		add_lit(out, &n->u.ss.stop);
		break;
	case PN_TEST: add_test(out, &n->u.test); break;
	}
	if (sep) {
		for (unsigned i = 0; i < n->nkids; i++) {
			if (i)
				o_adds(out, sep);
			format_node(out, n->kids[i]);
		}
	}
	for (unsigned i = 0; i < n->paren; i++)
		o_addc(out, ')');
}

enum tix_err pattern_format(const struct pattern *p, struct tix_buf *buf)
{
	struct out o = {buf, TIX_OK};

	format_node(&o, p->root);
	return o.e;
}

static void indent(struct out *out, unsigned level)
{
	for (unsigned i = 0; i < level; i++)
		o_adds(out, "  ");
}

static void explain_lit(struct out *out, const struct pattern__lit *lit)
{
	add_lit(out, lit);
	o_addf(out, " (%s", pattern_lit_name(lit->kind));
	if (lit->kind == PATTERN_LIT_HEX || lit->kind == PATTERN_LIT_BINARY)
		o_addf(out, ", %zu octet%s", lit->len, lit->len == 1 ? "" : "s");
	if (lit->kind == PATTERN_LIT_TIMESTAMP) {
		char ts[32];

		o_addf(out, ", %s", tix_time_format(&lit->t, lit->t.digits, ts));
	}
	o_addc(out, ')');
}

static void explain_node(struct out *out, const struct pattern__node *n, unsigned level)
{
	const struct pattern__test *t;

	indent(out, level);
	switch (n->kind) {
	case PN_OBS: o_addf(out, "observation #%u [ ]\n", n->u.obs + 1); break;
	case PN_OBS_AND: o_adds(out, "AND (each on a different observation)\n"); break;
	case PN_OBS_OR: o_adds(out, "OR (observations)\n"); break;
	case PN_FOLLOWEDBY: o_adds(out, "FOLLOWEDBY (each after those before it)\n"); break;
	case PN_WITHIN:
		o_addf(out, "WITHIN %.*s SECONDS\n", (int)n->u.within.text_len, n->u.within.text);
		break;
	case PN_REPEATS: o_addf(out, "REPEATS %u TIMES\n", (unsigned)n->u.repeats.n); break;
	case PN_STARTSTOP:
		o_adds(out, "START ");
		add_lit(out, &n->u.ss.start);
		o_adds(out, " STOP ");
		add_lit(out, &n->u.ss.stop);
		o_addc(out, '\n');
		break;
	case PN_AND: o_adds(out, "AND (same object)\n"); break;
	case PN_OR: o_adds(out, "OR\n"); break;
	case PN_TEST:
		t = &n->u.test;
		o_addf(out, "%s%s%s object %s, path %s", t->negated ? "NOT " : "",
		       pattern_op_name(t->op), t->op == PATTERN_OP_EXISTS ? "" : ":", t->type,
		       t->path_text);
		if (t->op == PATTERN_OP_IN) {
			o_adds(out, ", one of:\n");
			for (size_t i = 0; i < t->nset; i++) {
				indent(out, level + 1);
				explain_lit(out, &t->set[i]);
				o_addc(out, '\n');
			}
			break;
		}
		if (t->op != PATTERN_OP_EXISTS) {
			o_adds(out, ", value ");
			explain_lit(out, &t->lit);
		}
		o_addc(out, '\n');
		break;
	}
	for (unsigned i = 0; i < n->nkids; i++)
		explain_node(out, n->kids[i], level + 1);
}

enum tix_err pattern_explain(const struct pattern *p, struct tix_buf *buf)
{
	struct out o = {buf, TIX_OK};

	o_addf(&o, "STIX %s pattern, %u observation expression%s\n",
	       p->version == PATTERN_V20 ? "2.0" : "2.1", p->nobs, p->nobs == 1 ? "" : "s");
	explain_node(&o, p->root, 1);
	return o.e;
}
