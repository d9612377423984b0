/*
 * fuzz/fuzz_match_scan.c — libFuzzer target for the match scanners: the
 * input is a log (text, JSON lines or Zeek TSV, chosen by its first byte),
 * fed in two pieces so lines cross calls, against a small fixed index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"

static struct match_index *x;

static int on_hit(void *arg, const struct match_hit *h)
{
	(void)arg;
	return h->value[0] == '\0'; /* never: a value is never empty */
}

static void build(void)
{
	static const char *const pats[] = {
	        "[ipv4-addr:value = '1.2.3.4']",
	        "[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']",
	        "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
	        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
	        "[url:value = 'http://evil.example/x']",
	        "[email-addr:value = 'a@evil.example']",
	        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
	};
	struct match_builder *b = match_builder_new(NULL);
	struct tix_error err;

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", "indicator", "id",
		                      "indicator--00000000-0000-4000-8000-000000000001", "pattern",
		                      pats[i], "pattern_type", "stix");

		match_builder_add(b, o, 0, &err);
		json_decref(o);
	}
	x = match_builder_finish(b, &err);
	if (x == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct match_scan_opts o = {MATCH_FORMAT_AUTO, 0, 1, 512};
	struct match_scanner *s;
	size_t half;

	if (x == NULL)
		build();
	if (size == 0)
		return 0;
	o.format = (enum match_format)(data[0] % 4);
	o.subdomains = data[0] & 4;
	data++;
	size--;
	s = match_scanner_new(x, &o, on_hit, NULL);
	if (s == NULL)
		return 0;
	half = size / 2;
	match_scanner_feed(s, (const char *)data, half);
	match_scanner_feed(s, (const char *)data + half, size - half);
	match_scanner_end(s);
	match_scanner_free(s);
	return 0;
}
