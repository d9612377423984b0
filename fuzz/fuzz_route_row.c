/*
 * fuzz/fuzz_route_row.c — libFuzzer target for constituency routing's
 * report rows: a feed mapping (route_feed_parse) and a CSV read through it
 * (route_reader_open/route_reader_row), each good row routed and made into
 * its x-tix-report, which must then be valid STIX. The input is the
 * mapping, a line "---", then the CSV.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats/formats.h"
#include "route/route.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct route_table *table(void)
{
	static struct route_table *t;

	if (t == NULL) {
		struct route_owner a = {1, "bank-a", "bank-a", 1}, b = {2, "bank-b", "bank-b", 0};
		struct store_route_range r;
		char msg[200];
		int ia, ib;

		t = route_table_new();
		ia = route_table_add_owner(t, &a);
		ib = route_table_add_owner(t, &b);
		route_range_parse("192.0.2.0/24", &r, msg, sizeof(msg));
		route_table_add_range(t, ia, &r);
		route_range_parse("192.0.2.128/25", &r, msg, sizeof(msg));
		route_table_add_range(t, ib, &r);
		route_range_parse("2001:db8::/32", &r, msg, sizeof(msg));
		route_table_add_range(t, ia, &r);
		route_range_parse("10.0.0.0/8", &r, msg, sizeof(msg));
		route_table_add_pfx2asn(t, &r, 64500);
		route_table_add_asn(t, ib, 64500);
		route_table_add_domain(t, ia, "example.com");
		route_table_add_domain(t, ib, "shop.example.com");
		if (route_table_finish(t, NULL) != TIX_OK)
			abort();
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep = NULL, *p, *end;
	struct route_feed *feed = NULL;
	struct route_reader *rd = NULL;
	const char *fields[256];
	char msg[400], *buf = malloc(1 << 16);
	size_t lines = 0;
	struct stix_problems probs;
	struct stix_validate_opts vopts = {0, NULL};
	int nf;

	for (size_t i = 0; i + 5 <= size; i++)
		if (memcmp(text + i, "\n---\n", 5) == 0) {
			sep = text + i;
			break;
		}
	if (sep) {
		feed = route_feed_parse(text, (size_t)(sep - text), msg, sizeof(msg));
		p = sep + 5;
	} else {
		p = text;
	}
	end = text + size;
	stix_problems_init(&probs);
	nf = formats_csv_record(&p, end, ',', buf, 1 << 16, fields, 256, &lines,
	                        &(const char *){0});
	if (nf > 0 && formats_utf8_ok(text, (size_t)(p - text)))
		rd = route_reader_open(feed, "fuzz", fields, nf, msg, sizeof(msg));
	while (rd) {
		const char *why = NULL, *rec = p;
		struct route_event ev;
		struct route_match m;
		char rwhy[400];

		nf = formats_csv_record(&p, end, ',', buf, 1 << 16, fields, 256, &lines, &why);
		if (nf == 0)
			break;
		if (nf < 0 || !formats_utf8_ok(rec, (size_t)(p - rec)))
			continue;
		if (route_reader_row(rd, fields, nf, 1800000000000000LL, &ev, rwhy, sizeof(rwhy)) !=
		    0)
			continue;
		route_event_key(rd, &ev);
		if (ev.address == NULL || strncmp(ev.key, "x-tix-report--", 14) != 0)
			__builtin_trap();
		route_match_event(table(), &ev, &m);
		if (m.reason == ROUTE_OK) {
			json_t *o = route_report_stix(&ev, &m);

			stix_problems_reset(&probs);
			if (o == NULL || stix_validate(o, "", &vopts, &probs) != 0)
				__builtin_trap(); /* every routed row is a valid object */
			json_decref(o);
		}
	}
	stix_problems_release(&probs);
	route_reader_free(rd);
	route_feed_free(feed);
	free(buf);
	return 0;
}
