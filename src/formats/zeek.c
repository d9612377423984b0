/*
 * formats/zeek.c — Zeek Intel framework files: a "#fields" header and one
 * tab-separated line per value (indicator, indicator_type, meta.source,
 * meta.desc (with the reader's sighting aggregate), meta.url), free text
 * escaped as Zeek's ASCII reader reads it.
 */
#include <stdio.h>
#include <string.h>

#include "formats/feed_int.h"

/* A meta field: control bytes, tab, backslash and a leading '-' or '('
 * (Zeek's unset and empty markers) as \xNN; "-" when empty (unset). */
static void zeek_text(struct formats_feed *f, const char *s)
{
	char hx[5];

	if (*s == '\0') {
		feed_put(f, 0, "-", 1);
		return;
	}
	for (const char *p = s; *p;) {
		unsigned char c = (unsigned char)*p;
		size_t run = 0;

		if (c < 0x20 || c == 0x7f || c == '\\' || (p == s && (c == '-' || c == '('))) {
			snprintf(hx, sizeof(hx), "\\x%02x", c);
			feed_put(f, 0, hx, 4);
			p++;
			continue;
		}
		while (p[run] && (unsigned char)p[run] >= 0x20 && p[run] != 0x7f && p[run] != '\\')
			run++;
		feed_put(f, 0, p, run);
		p += run;
	}
}

/* meta.desc: "NAME (ID, TLP:T, sightings N, first_seen TS, last_seen TS)",
 * without the name "ID, ...": the TLP when marked, the aggregate of the
 * sightings the reader may read when there is one (times in seconds, UTC). */
static const char *zeek_desc(const struct feed_indicator *ind, char *desc, size_t size)
{
	char seen[128] = "";

	if (ind->sightings > 0) {
		char first[32], last[32];

		feed_seen_times(ind, 0, first, last);
		snprintf(seen, sizeof(seen), ", sightings %lld, first_seen %s, last_seen %s",
		         (long long)ind->sightings, first, last);
	}
	snprintf(desc, size, "%.800s%s%s%s%s%s%s", ind->name, *ind->name ? " (" : "", ind->id,
	         *ind->tlp ? ", TLP:" : "", ind->tlp, seen, *ind->name ? ")" : "");
	return desc;
}

static enum tix_err zeek_begin(struct formats_feed *f)
{
	feed_puts(f, 0, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
	return TIX_OK;
}

static int zeek_value(struct formats_feed *f, const struct feed_indicator *ind,
                      const struct feed_value *v, const char **detail)
{
	const char *type, *text = v->text;
	char desc[1024];

	switch (v->kind) {
	case FK_DOMAIN: type = "Intel::DOMAIN"; break;
	case FK_IPV4:
	case FK_IPV6:
		type = v->plen == (v->kind == FK_IPV4 ? 32u : 128u) ? "Intel::ADDR"
		                                                    : "Intel::SUBNET";
		break;
	case FK_URL:
		type = "Intel::URL";
		text = v->text + v->host;
		break; /* no scheme */
	case FK_EMAIL: type = "Intel::EMAIL"; break;
	case FK_MD5:
	case FK_SHA1:
	case FK_SHA256: type = "Intel::FILE_HASH"; break;
	case FK_SUBDOMAINS:
		*detail = "Zeek's Intel framework matches names exactly, not the names below one";
		return FR_KIND;
	default: *detail = "Zeek hashes files with MD5, SHA-1 and SHA-256 only"; return FR_KIND;
	}
	feed_puts(f, 0, text);
	feed_put(f, 0, "\t", 1);
	feed_puts(f, 0, type);
	feed_put(f, 0, "\t", 1);
	zeek_text(f, f->o.source);
	feed_put(f, 0, "\t", 1);
	zeek_text(f, zeek_desc(ind, desc, sizeof(desc)));
	feed_put(f, 0, "\t", 1);
	zeek_text(f, ind->url);
	feed_put(f, 0, "\n", 1);
	return 0;
}

const struct feed_writer feed_zeek_writer = {zeek_begin, zeek_value, NULL, NULL};
