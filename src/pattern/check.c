/*
 * pattern/check.c — what ingest checks in an indicator's pattern beyond its
 * syntax: the object types and property names it references, against the
 * STIX type tables, the way the STIX 2.1 validator does (MUSTs are errors,
 * custom-name conventions only warnings).
 */
#include <string.h>

#include "pattern/pattern_int.h"
#include "stix/stix_types.h"

/* Properties every SCO has (STIX 2.1 section 6.1), beyond its own. */
static const char *const common_sco_props[] = {
        "type",       "id", "spec_version", "object_marking_refs", "granular_markings", "defanged",
        "extensions", NULL};

/* ^-?[a-z0-9]+(-[a-z0-9]+)*-?$, 3 to 250 characters: the validator's test of
 * a custom observable type name. */
static int type_name_ok(const char *s)
{
	size_t n = strlen(s), i = 0, end = n;

	if (n < 3 || n > 250)
		return 0;
	if (s[0] == '-')
		i++;
	if (end > i && s[end - 1] == '-')
		end--;
	if (i >= end)
		return 0;
	for (size_t k = i; k < end; k++) {
		char c = s[k];

		if (c == '-') {
			if (k == i || s[k - 1] == '-')
				return 0;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			return 0;
		}
	}
	return s[end - 1] != '-';
}

/* ^[a-z0-9_]{3,250}$ */
static int prop_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 250)
		return 0;
	for (size_t k = 0; k < n; k++) {
		char c = s[k];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* ^x-.+-.+$ (and ^x_.+_.+$ with sep '_') */
static int custom_prefix_ok(const char *s, char sep)
{
	const char *rest;

	if (s[0] != 'x' || s[1] != sep || s[2] == '\0')
		return 0;
	rest = strchr(s + 3, sep);
	return rest != NULL && rest[1] != '\0';
}

static int builtin_prop(const struct stix_type *st, const char *name)
{
	for (size_t i = 0; i < st->nprops; i++)
		if (strcmp(st->props[i].name, name) == 0)
			return 1;
	for (int i = 0; common_sco_props[i]; i++)
		if (strcmp(common_sco_props[i], name) == 0)
			return 1;
	return 0;
}

static void warn(struct tix_buf *w, const char *fmt, const char *a, const char *b)
{
	if (w == NULL)
		return;
	tix_buf_addf(w, fmt, a, b);
	tix_buf_addc(w, '\n');
}

/* Walks the comparison tree of one observation expression. Recursion is
 * bounded by the tree's height. */
static enum tix_err check_node(const struct pattern *p, const struct pattern__node *n,
                               struct tix_buf *w, struct tix_error *err)
{
	const struct pattern__test *t;
	const struct stix_type *st;
	const char *prop;

	if (n->kind != PN_TEST) {
		for (unsigned i = 0; i < n->nkids; i++) {
			enum tix_err e = check_node(p, n->kids[i], w, err);

			if (e != TIX_OK)
				return e;
		}
		return TIX_OK;
	}
	t = &n->u.test;
	prop = t->steps[0].key;
	st = stix_type_find(t->type);
	if (st && st->category != SC_SCO)
		st = NULL;
	if (st == NULL) {
		if (!type_name_ok(t->type)) {
			pattern__error_at(p->text, p->len, t->offset, err,
			                  "'%.80s' is not a valid observable type name (3 to 250 "
			                  "characters of a-z, 0-9 and '-')",
			                  t->type);
			err->code = TIX_EINVAL;
			return TIX_EINVAL;
		}
		if (!custom_prefix_ok(t->type, '-'))
			warn(w,
			     "custom observable type '%s' does not start with 'x-' and a source%s",
			     t->type, " name (x-example-com-thing)");
	}
	if (st && builtin_prop(st, prop))
		return TIX_OK;
	if (!prop_name_ok(prop)) {
		pattern__error_at(p->text, p->len, t->prop_offset, err,
		                  "'%.80s' is not a valid observable property name (3 to 250 "
		                  "characters of a-z, 0-9 and '_')",
		                  prop);
		err->code = TIX_EINVAL;
		return TIX_EINVAL;
	}
	if (!custom_prefix_ok(prop, '_'))
		warn(w,
		     "custom property '%s' of '%s' objects does not start with 'x_' and a source "
		     "name (x_example_com_thing)",
		     prop, t->type);
	return TIX_OK;
}

enum tix_err pattern_check_names(const struct pattern *p, struct tix_buf *warnings,
                                 struct tix_error *err)
{
	struct tix_error dummy;

	if (err == NULL)
		err = &dummy;
	for (unsigned i = 0; i < p->nobs; i++) {
		enum tix_err e = check_node(p, p->obs[i]->kids[0], warnings, err);

		if (e != TIX_OK)
			return e;
	}
	return TIX_OK;
}

enum tix_err pattern_check(const char *pattern, const char *pattern_version, struct tix_error *err)
{
	struct tix_error dummy;
	struct pattern *p;
	enum tix_err e;

	if (err == NULL)
		err = &dummy;
	if (pattern == NULL)
		return tix_error_set(err, TIX_EINVAL, NULL, "no pattern");
	p = pattern_parse(pattern, strlen(pattern), pattern_version_from_string(pattern_version),
	                  err);
	if (p == NULL)
		return err->code;
	e = pattern_check_names(p, NULL, err);
	pattern_free(p);
	return e;
}
