/*
 * fuzz/fuzz_match_scan.c — libFuzzer target for the match scanners: the
 * input is a log (text, JSON lines or Zeek TSV, chosen by its first byte),
 * fed in two pieces so lines cross calls, against a small fixed index;
 * once with the one-pass tokenizer and once with the reference one, which
 * must find the same hits (abort otherwise).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"
#include "match/match_int.h"

static struct match_index *x;

/* A digest of the hits in order: line, offset, indicator, value, field. */
static int on_hit(void *arg, const struct match_hit *h)
{
	uint64_t *d = arg;
	const char *f = h->field ? h->field : "";

	*d = (*d ^ h->line) * 0x100000001b3ULL;
	*d = (*d ^ h->offset) * 0x100000001b3ULL;
	*d = (*d ^ h->indicator) * 0x100000001b3ULL;
	for (const char *c = h->value; *c; c++)
		*d = (*d ^ (unsigned char)*c) * 0x100000001b3ULL;
	for (const char *c = f; *c; c++)
		*d = (*d ^ (unsigned char)*c) * 0x100000001b3ULL;
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
	struct match_scan_opts o = {
	        MATCH_FORMAT_AUTO, 0, 1, 512, 1, 0}; /* line_keys: the log times too */
	struct match_scanner *s;
	size_t half;
	uint64_t digest[2] = {0, 0}, tokens[2] = {0, 0};

	if (x == NULL)
		build();
	if (size == 0)
		return 0;
	o.format = (enum match_format)(data[0] % 4);
	o.subdomains = data[0] & 4;
	data++;
	size--;
	half = size / 2;
	for (int ref = 0; ref < 2; ref++) {
		struct match_scan_stats st;

		match__reference_tokenizer = ref;
		s = match_scanner_new(x, &o, on_hit, &digest[ref]);
		if (s == NULL)
			return 0;
		match_scanner_feed(s, (const char *)data, half);
		match_scanner_feed(s, (const char *)data + half, size - half);
		match_scanner_end(s);
		match_scanner_get_stats(s, &st);
		tokens[ref] = st.tokens;
		match_scanner_free(s);
	}
	match__reference_tokenizer = 0;
	if (digest[0] != digest[1] || tokens[0] != tokens[1])
		abort(); /* the tokenizers disagree */
	return 0;
}
