/*
 * formats/lists.c — the simplest feeds: hosts files ("0.0.0.0 name"), CSV
 * (RFC 4180, the columns in docs/feeds.md) and plain lists of values, one
 * a line. Values are the checked ones of feed.c; free text is quoted.
 */
#include <stdio.h>
#include <string.h>

#include "formats/feed_int.h"

static int hosts_value(struct formats_feed *f, const struct feed_indicator *ind,
                       const struct feed_value *v, const char **detail)
{
	(void)ind;
	if (v->kind == FK_SUBDOMAINS) {
		*detail = "a hosts file cannot name the names below a domain";
		return FR_KIND;
	}
	if (v->kind != FK_DOMAIN) {
		*detail = "a hosts file holds domain names only";
		return FR_KIND;
	}
	if (feed_repeat(f, v, NULL))
		return FR_DUPLICATE;
	feed_puts(f, 0, f->o.address);
	feed_put(f, 0, " ", 1);
	feed_put(f, 0, v->text, v->len);
	feed_put(f, 0, "\n", 1);
	return 0;
}

static enum tix_err hosts_begin(struct formats_feed *f)
{
	feed_printf(f, 0, "# hosts file written by tix: listed names map to %s\n", f->o.address);
	return TIX_OK;
}

const struct feed_writer feed_hosts_writer = {hosts_begin, hosts_value, NULL, NULL};

static int list_value(struct formats_feed *f, const struct feed_indicator *ind,
                      const struct feed_value *v, const char **detail)
{
	(void)ind;
	(void)detail;
	if (feed_repeat(f, v, NULL))
		return FR_DUPLICATE;
	if (v->kind == FK_SUBDOMAINS)
		feed_put(f, 0, "*.", 2);
	feed_put(f, 0, v->text, v->len);
	feed_put(f, 0, "\n", 1);
	return 0;
}

const struct feed_writer feed_list_writer = {NULL, list_value, NULL, NULL};

/* One CSV field: quoted when it holds a comma, quote or line break (the
 * quote doubled); other control characters become spaces. */
static void csv_field(struct formats_feed *f, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL || *s == ' ';

	if (quote)
		feed_put(f, 0, "\"", 1);
	while (*s) {
		size_t run = 0;

		while (s[run] && s[run] != '"' && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f)
			run++;
		feed_put(f, 0, s, run);
		s += run;
		if (*s == '"')
			feed_put(f, 0, "\"\"", 2);
		else if (*s)
			feed_put(f, 0, " ", 1);
		if (*s)
			s++;
	}
	if (quote)
		feed_put(f, 0, "\"", 1);
	feed_put(f, 0, last ? "\r\n" : ",", last ? 2 : 1);
}

static enum tix_err csv_begin(struct formats_feed *f)
{
	feed_puts(f, 0,
	          "value,kind,indicator_id,name,tlp,valid_from,valid_until,modified,"
	          "sightings,first_seen,last_seen\r\n");
	return TIX_OK;
}

static int csv_value(struct formats_feed *f, const struct feed_indicator *ind,
                     const struct feed_value *v, const char **detail)
{
	(void)detail;
	csv_field(f, v->text, 0);
	csv_field(f, feed_kind_name(v->kind), 0);
	csv_field(f, ind->id, 0);
	csv_field(f, ind->name, 0);
	csv_field(f, ind->tlp, 0);
	csv_field(f, ind->valid_from, 0);
	csv_field(f, ind->valid_until, 0);
	csv_field(f, ind->modified, 0);
	{
		char n[24], first[32], last[32];

		snprintf(n, sizeof(n), "%lld", (long long)ind->sightings);
		feed_seen_times(ind, 3, first, last);
		csv_field(f, n, 0);
		csv_field(f, first, 0);
		csv_field(f, last, 1);
	}
	return 0;
}

const struct feed_writer feed_csv_writer = {csv_begin, csv_value, NULL, NULL};
