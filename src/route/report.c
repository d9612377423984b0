/*
 * route/report.c — what routing writes: the x-tix-report STIX object of a
 * routed row (TLP:AMBER for its owner's organisation only) and its
 * extension-definition, and a digest's CSV, mail body (per language, English
 * always) and whole mail for `sendmail -t`, whose headers are made only of
 * checked values.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "route/route.h"
#include "stix/stix.h"

#define TIX_IDENTITY "identity--f1c5b2d8-9a3e-5c47-8e21-6d0b3a9f7c15"

const char *route_report_extension(void)
{
	return "[{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" TIX_IDENTITY "\","
	       "\"created\":\"2026-12-01T00:00:00.000Z\",\"modified\":\"2026-12-01T00:00:00.000Z\","
	       "\"name\":\"tix\",\"identity_class\":\"system\",\"object_marking_refs\":"
	       "[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"]},"
	       "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\","
	       "\"id\":\"" ROUTE_REPORT_EXT "\",\"created_by_ref\":\"" TIX_IDENTITY "\","
	       "\"created\":\"2026-12-01T00:00:00.000Z\",\"modified\":\"2026-12-01T00:00:00.000Z\","
	       "\"name\":\"tix report\",\"description\":\"One row of a report about a system of a "
	       "constituent (a Shadowserver-style CSV row or a partner's sighting) in IntelMQ's "
	       "fields, routed to the constituent that owns the address.\","
	       "\"schema\":\"https://github.com/tix/docs/route.md\",\"version\":\"1.0.0\","
	       "\"extension_types\":[\"new-sdo\"],\"object_marking_refs\":"
	       "[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"]}]";
}

json_t *route_report_stix(const struct route_event *ev, const struct route_match *m)
{
	json_t *o = json_object(), *ext = json_object(), *fields = json_object();
	char when[32], obs[32], group[160], by[120];

	tix_time_format_us(ev->time_source, 3, when);
	tix_time_format_us(ev->time_observation, 3, obs);
	route_group_of(m->owner->org, group, sizeof(group));
	{
		char what[80];

		snprintf(by, sizeof(by), "%s %s", m->by, route_match_what(m, what));
	}
	json_object_set_new(o, "type", json_string("x-tix-report"));
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "id", json_string(ev->key));
	json_object_set_new(o, "created", json_string(when));
	json_object_set_new(o, "modified", json_string(when));
	json_object_set_new(o, "object_marking_refs",
	                    json_pack("[s]", stix_tlp_marking_id(STIX_TLP_AMBER)));
	json_object_set_new(o, STIX_TIX_SHARING_GROUP, json_string(group));
	json_object_set_new(o, "feed_name", json_string(ev->feed));
	json_object_set_new(o, "classification_taxonomy", json_string(ev->taxonomy));
	json_object_set_new(o, "classification_type", json_string(ev->type));
	if (ev->identifier)
		json_object_set_new(o, "classification_identifier", json_string(ev->identifier));
	json_object_set_new(o, "time_source", json_string(when));
	json_object_set_new(o, "time_observation", json_string(obs));
	if (ev->ip)
		json_object_set_new(o, "source_ip", json_string(ev->ip));
	if (ev->fqdn)
		json_object_set_new(o, "source_fqdn", json_string(ev->fqdn));
	if (ev->url)
		json_object_set_new(o, "source_url", json_string(ev->url));
	if (ev->account)
		json_object_set_new(o, "source_account", json_string(ev->account));
	if (m->asn > 0)
		json_object_set_new(o, "source_asn", json_integer(m->asn));
	if (ev->port >= 0)
		json_object_set_new(o, "source_port", json_integer(ev->port));
	json_object_set_new(o, "constituent", json_string(m->owner->name));
	json_object_set_new(o, "constituent_org", json_string(m->owner->org));
	json_object_set_new(o, "routed_by", json_string(by));
	for (size_t i = 0; i < ev->nextra; i++) {
		/* a value that is not UTF-8 text cannot be a JSON string: the row
		 * was checked as UTF-8 already, so this only guards the API */
		json_t *v = json_string(ev->extra_values[i]);

		if (v)
			json_object_set_new(fields, ev->extra_names[i], v);
	}
	if (json_object_size(fields) > 0)
		json_object_set_new(o, "report_fields", fields);
	else
		json_decref(fields);
	json_object_set_new(ext, ROUTE_REPORT_EXT, json_pack("{s:s}", "extension_type", "new-sdo"));
	json_object_set_new(ext, STIX_TIX_POLICY_EXT,
	                    json_pack("{s:s}", "extension_type", "toplevel-property-extension"));
	json_object_set_new(o, "extensions", ext);
	return o;
}

/* ---- digests ---------------------------------------------------------------- */

void route_digest_csv_header(struct tix_buf *out)
{
	tix_buf_adds(out, "day,address,classification.taxonomy,classification.type,source.asn,"
	                  "count,time.first,time.last,feed.name\r\n");
}

void route_digest_csv_row(struct tix_buf *out, const struct store_route_agg *a)
{
	char first[32], last[32];

	tix_time_format_us(a->first, 3, first);
	tix_time_format_us(a->last, 3, last);
	tix_buf_add_csv(out, a->day);
	tix_buf_addc(out, ',');
	tix_buf_add_csv(out, a->address);
	tix_buf_addc(out, ',');
	tix_buf_add_csv(out, a->taxonomy);
	tix_buf_addc(out, ',');
	tix_buf_add_csv(out, a->type);
	tix_buf_addc(out, ',');
	if (a->asn > 0)
		tix_buf_addf(out, "%lld", (long long)a->asn);
	tix_buf_addf(out, ",%lld,%s,%s,", (long long)a->count, first, last);
	tix_buf_add_csv(out, a->feeds);
	tix_buf_adds(out, "\r\n");
}

/* The mail templates: %1$s the constituent, %2$s and %3$s the period,
 * %4$lld the reports, %5$lld the rows, %6$s the file name. */
static const struct {
	const char *lang, *intro, *by_type, *outro;
} templates[] = {
        {"en",
         "Dear %s team,\n\n"
         "between %s and %s (UTC)\n"
         "we received %lld reports about systems in your networks.\n"
         "They are aggregated into %lld rows (one per address, classification\n"
         "and day, with a count and the first and last time seen) in the\n"
         "attached file %s.\n",
         "\nReports by classification:\n",
         "\nPlease check the systems listed and fix what is found. Reply to this\n"
         "message with any question. You can also read these reports in your\n"
         "organisation's TAXII collection instead of by mail.\n"},
        {"de",
         "Sehr geehrtes %s-Team,\n\n"
         "zwischen %s und %s (UTC)\n"
         "haben wir %lld Meldungen zu Systemen in Ihren Netzen erhalten.\n"
         "Sie sind zu %lld Zeilen zusammengefasst (eine je Adresse,\n"
         "Klassifikation und Tag, mit Anzahl und erstem und letztem Zeitpunkt),\n"
         "in der angehängten Datei %s.\n",
         "\nMeldungen nach Klassifikation:\n",
         "\nBitte prüfen Sie die aufgeführten Systeme und beheben Sie die Befunde.\n"
         "Bei Fragen antworten Sie auf diese Nachricht. Sie können diese Meldungen\n"
         "auch in der TAXII-Collection Ihrer Organisation abrufen.\n"},
        {"fr",
         "Chère équipe %s,\n\n"
         "entre %s et %s (UTC),\n"
         "nous avons reçu %lld signalements concernant des systèmes de vos réseaux.\n"
         "Ils sont regroupés en %lld lignes (une par adresse, classification et\n"
         "jour, avec un nombre et la première et la dernière date) dans le\n"
         "fichier joint %s.\n",
         "\nSignalements par classification :\n",
         "\nMerci de vérifier les systèmes listés et de corriger ce qui est constaté.\n"
         "Répondez à ce message pour toute question. Vous pouvez aussi lire ces\n"
         "signalements dans la collection TAXII de votre organisation.\n"},
};

static void day_text(int64_t us, char out[32])
{
	char t[32];

	tix_time_format_us(us, 3, t);
	snprintf(out, 32, "%.10s %.5s", t, t + 11);
}

void route_digest_body(struct tix_buf *out, const char *lang, const struct route_digest_summary *d)
{
	size_t k = 0;
	char since[32], until[32], file[100];

	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		if (lang && strcmp(templates[i].lang, lang) == 0)
			k = i;
	day_text(d->since, since);
	day_text(d->until, until);
	snprintf(file, sizeof(file), "%s.csv", d->constituent);
	tix_buf_addf(out, templates[k].intro, d->constituent, since, until, (long long)d->reports,
	             (long long)d->rows, file);
	tix_buf_adds(out, templates[k].by_type);
	for (size_t i = 0; i < d->ntypes; i++)
		tix_buf_addf(out, "  %-40s %lld\n", d->types[i], (long long)d->type_reports[i]);
	tix_buf_adds(out, templates[k].outro);
	tix_buf_adds(out, "\n-- \ntix constituency routing\n");
}

void route_digest_subject(char *out, size_t size, const struct route_digest_summary *d)
{
	char until[32];

	day_text(d->until, until);
	snprintf(out, size, "[tix] %s: %lld reports (%lld rows) until %s UTC", d->constituent,
	         (long long)d->reports, (long long)d->rows, until);
}

/* A header value: printable ASCII only (no CR, LF or other controls). */
static int header_ok(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			return 0;
	return 1;
}

enum tix_err route_digest_mail(struct tix_buf *out, const char *from, const char *const *to,
                               size_t nto, const char *subject, const char *body,
                               const char *csv_name, const char *csv, size_t csv_len)
{
	static const char boundary[] = "=_tix_digest_boundary_=";
	char line[80];
	size_t b64len = sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL);

	if (nto == 0 || !header_ok(subject) || !header_ok(csv_name) || (from && !header_ok(from)))
		return TIX_EINVAL;
	for (size_t i = 0; i < nto; i++)
		if (!header_ok(to[i]) || strchr(to[i], ',') || strchr(to[i], ' '))
			return TIX_EINVAL;
	if (strstr(body, boundary))
		return TIX_EINVAL;
	if (from && *from)
		tix_buf_addf(out, "From: %s\n", from);
	tix_buf_adds(out, "To: ");
	for (size_t i = 0; i < nto; i++)
		tix_buf_addf(out, "%s%s", i ? ",\n " : "", to[i]);
	tix_buf_addf(out, "\nSubject: %s\n", subject);
	tix_buf_adds(out, "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n");
	tix_buf_addf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary);
	tix_buf_addf(out,
	             "--%s\nContent-Type: text/plain; charset=utf-8\n"
	             "Content-Transfer-Encoding: 8bit\n\n",
	             boundary);
	tix_buf_adds(out, body);
	tix_buf_addf(out,
	             "\n--%s\nContent-Type: text/csv; charset=utf-8; name=\"%s\"\n"
	             "Content-Disposition: attachment; filename=\"%s\"\n"
	             "Content-Transfer-Encoding: base64\n\n",
	             boundary, csv_name, csv_name);
	for (size_t i = 0; i < csv_len; i += 57) {
		size_t n = csv_len - i < 57 ? csv_len - i : 57;

		(void)b64len;
		sodium_bin2base64(line, sizeof(line), (const unsigned char *)csv + i, n,
		                  sodium_base64_VARIANT_ORIGINAL);
		tix_buf_adds(out, line);
		tix_buf_addc(out, '\n');
	}
	return tix_buf_addf(out, "--%s--\n", boundary);
}
