/*
 * pattern/atoms.c — the comparisons of a pattern as flat (type, path,
 * operator, value) tuples for the matcher's index, and the test of whether
 * an index lookup alone decides the pattern ("simple").
 */
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

struct walk {
	struct pattern_atoms *a; /* NULL while counting */
	size_t count, bytes;
	char *pool; /* hex renderings of binary values */
	unsigned obs;
};

/* Bytes of pool a constant needs (hex and binary are rendered as hex). */
static size_t pool_bytes(const struct pattern__lit *lit)
{
	return lit->kind == PATTERN_LIT_HEX || lit->kind == PATTERN_LIT_BINARY ? lit->len * 2 + 1
	                                                                       : 0;
}

static void put(struct walk *w, const struct pattern__test *t, const struct pattern__lit *lit)
{
	static const char hex[] = "0123456789abcdef";
	struct pattern_atom *at;

	if (w->a == NULL) {
		w->count++;
		w->bytes += lit ? pool_bytes(lit) : 0;
		return;
	}
	at = &w->a->atoms[w->a->count++];
	at->object_type = t->type;
	at->path = t->path_text;
	at->op = t->op;
	at->negated = t->negated;
	at->plain = t->plain;
	at->observation = w->obs;
	at->kind = lit ? lit->kind : PATTERN_LIT_NONE;
	if (lit == NULL)
		return;
	switch (lit->kind) {
	case PATTERN_LIT_STRING:
		at->value = lit->s;
		at->value_len = lit->len;
		break;
	case PATTERN_LIT_HEX:
	case PATTERN_LIT_BINARY:
		at->value = w->pool;
		for (size_t i = 0; i < lit->len; i++) {
			*w->pool++ = hex[(unsigned char)lit->s[i] >> 4];
			*w->pool++ = hex[(unsigned char)lit->s[i] & 15];
		}
		*w->pool++ = '\0';
		at->value_len = lit->len * 2;
		break;
	case PATTERN_LIT_TIMESTAMP:
		at->value = lit->text + 2;
		at->value_len = lit->text_len - 3;
		break;
	default:
		at->value = lit->text;
		at->value_len = lit->text_len;
		break;
	}
}

/* Recursion is bounded by the tree's height. */
static void walk(struct walk *w, const struct pattern__node *n)
{
	const struct pattern__test *t;

	if (n->kind == PN_OBS)
		w->obs = n->u.obs;
	if (n->kind != PN_TEST) {
		for (unsigned i = 0; i < n->nkids; i++)
			walk(w, n->kids[i]);
		return;
	}
	t = &n->u.test;
	if (t->op == PATTERN_OP_IN) {
		for (size_t i = 0; i < t->nset; i++)
			put(w, t, &t->set[i]);
	} else {
		put(w, t, t->op == PATTERN_OP_EXISTS ? NULL : &t->lit);
	}
}

static int simple_test(const struct pattern__test *t)
{
	unsigned char addr[16];
	unsigned prefix;

	if (t->negated || !t->plain)
		return 0;
	if (t->op == PATTERN_OP_EQ || t->op == PATTERN_OP_IN)
		return 1;
	return t->op == PATTERN_OP_ISSUBSET &&
	       (strcmp(t->type, "ipv4-addr") == 0 || strcmp(t->type, "ipv6-addr") == 0) &&
	       strcmp(t->path_text, "value") == 0 &&
	       pattern__cidr(t->lit.s, t->lit.len, addr, &prefix) == (t->type[3] == '4' ? 4 : 6);
}

static int simple(const struct pattern__node *n)
{
	switch (n->kind) {
	case PN_OBS: return simple(n->kids[0]);
	case PN_OBS_OR:
	case PN_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			if (!simple(n->kids[i]))
				return 0;
		return 1;
	case PN_TEST: return simple_test(&n->u.test);
	default: return 0; /* AND, FOLLOWEDBY, qualifiers */
	}
}

static int disjunctive(const struct pattern__node *n)
{
	switch (n->kind) {
	case PN_OBS: return disjunctive(n->kids[0]);
	case PN_OBS_OR:
	case PN_OR:
		for (unsigned i = 0; i < n->nkids; i++)
			if (!disjunctive(n->kids[i]))
				return 0;
		return 1;
	case PN_TEST: return 1;
	default: return 0; /* AND, FOLLOWEDBY, qualifiers */
	}
}

struct pattern_atoms *pattern_atoms_extract(const struct pattern *p, struct tix_error *err)
{
	struct walk w = {NULL, 0, 0, NULL, 0};
	struct pattern_atoms *a;

	walk(&w, p->root);
	a = malloc(sizeof(*a) + w.count * sizeof(*a->atoms) + w.bytes);
	if (a == NULL) {
		tix_error_set(err, TIX_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	memset(a, 0, sizeof(*a) + w.count * sizeof(*a->atoms));
	a->atoms = (struct pattern_atom *)(a + 1);
	w.a = a;
	w.pool = (char *)(a->atoms + w.count);
	walk(&w, p->root);
	a->simple = simple(p->root);
	a->disjunctive = disjunctive(p->root);
	return a;
}

void pattern_atoms_free(struct pattern_atoms *a)
{
	free(a);
}
