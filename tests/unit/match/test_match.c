/*
 * Unit tests for src/match: every kind of indicator value, tokens inside
 * longer tokens, IPv6 forms, CIDR boundaries, URL normalisation, the three
 * log formats, bad input, warninglists, and the index file (round trip, and
 * corrupt files rejected without a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/match.h"
#include "match/match_int.h" /* match__reference_tokenizer, for the differential test */

/* xorshift64*: a small seeded generator, so a failing case repeats. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}
#include "../tmpdir.h"

#define NOW_US ((int64_t)1800000000 * 1000000) /* 2027-01-15 */

static const char *const patterns[] = {
        "[ipv4-addr:value = '72.191.13.1']",     /* 0 */
        "[domain-name:value = 'Evil.Example.']", /* 1 */
        "[domain-name:value = 'wild.example' OR domain-name:value LIKE '%.wild.example']",
        "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']",
        "[url:value = 'HTTP://Bad.Example:80/x?y=1#frag']",                        /* 4 */
        "[ipv4-addr:value ISSUBSET '10.20.0.0/16']",                               /* 5 */
        "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']",                          /* 6 */
        "[email-addr:value = 'Phish@Evil.Example']",                               /* 7 */
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",                  /* 8 */
        "[ipv6-addr:value = '2001:db8::1']",                                       /* 9 */
        "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']", /* 10 */
        "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",                         /* 11 */
        "[file:name MATCHES '^x']",       /* 12: unindexable */
        "[ipv4-addr:value = '10.1.2.3']", /* 13: rfc1918 */
};
#define NPAT (sizeof(patterns) / sizeof(patterns[0]))

static json_t *indicator(unsigned i, const char *pattern)
{
	char id[64];

	snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012u", i);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
	                 "spec_version", "2.1", "id", id, "created", "2024-01-01T00:00:00Z",
	                 "modified", "2024-01-01T00:00:00Z", "name", "n", "pattern", pattern,
	                 "pattern_type", "stix", "valid_from", "2024-01-01T00:00:00Z");
}

static struct match_index *build(const struct match_warninglists *wl)
{
	struct match_builder *b = match_builder_new(wl);
	struct tix_error err;
	struct match_index *x;

	assert_non_null(b);
	for (unsigned i = 0; i < NPAT; i++) {
		json_t *o = indicator(i, patterns[i]);
		enum match_add r = match_builder_add(b, o, NOW_US, &err);

		if (r != (i == 12 ? MATCH_UNINDEXABLE : MATCH_ADDED))
			fail_msg("pattern %u: %d %s", i, (int)r, err.msg);
		json_decref(o);
	}
	x = match_builder_finish(b, &err);
	if (x == NULL)
		fail_msg("finish: %s", err.msg);
	return x;
}

/* What a scan found: "line:id-suffix:value:field" lines. */
struct found {
	char text[8192];
	size_t len;
	unsigned n;
};

static int collect(void *arg, const struct match_hit *h)
{
	struct found *f = arg;
	int w = snprintf(f->text + f->len, sizeof(f->text) - f->len, "%llu:%s:%s%s%s\n",
	                 (unsigned long long)h->line, "i", h->value, h->field ? "@" : "",
	                 h->field ? h->field : "");

	(void)w;
	f->len = strlen(f->text);
	f->n++;
	return 0;
}

static struct match_scan_stats scan(const struct match_index *x, enum match_format fmt,
                                    int subdomains, const char *text, struct found *f)
{
	struct match_scan_opts o = {fmt, subdomains, 1, 0, 0, 0};
	struct match_scanner *s;
	struct match_scan_stats st;

	memset(f, 0, sizeof(*f));
	s = match_scanner_new(x, &o, collect, f);
	assert_non_null(s);
	match_scanner_begin(s);
	/* fed in small pieces, so lines cross calls */
	for (size_t i = 0, n = strlen(text); i < n; i += 7)
		match_scanner_feed(s, text + i, n - i < 7 ? n - i : 7);
	match_scanner_end(s);
	match_scanner_get_stats(s, &st);
	match_scanner_free(s);
	return st;
}

static void has(const struct found *f, const char *needle)
{
	if (strstr(f->text, needle) == NULL)
		fail_msg("expected %s in:\n%s", needle, f->text);
}

static void test_every_kind(void **state)
{
	struct match_index *x = build(NULL);
	struct found f;

	(void)state;
	scan(x, MATCH_FORMAT_TEXT, 0,
	     "conn 72.191.13.1:443\n"
	     "dns EVIL.example. A\n"
	     "sub x.y.wild.example\n"
	     "sha E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.\n"
	     "GET http://bad.example/x?y=1 HTTP/1.1\n"
	     "fw 10.20.7.7\n"
	     "v6 [2001:DB8:BAD:0:0::5]:80\n"
	     "from <phish@evil.EXAMPLE>\n"
	     "md5=d41d8cd98f00b204e9800998ecf8427e\n"
	     "v6 2001:0db8:0:0:0:0:0:1\n"
	     "set 192.0.2.2\n",
	     &f);
	has(&f, "1:i:72.191.13.1\n");
	has(&f, "2:i:evil.example\n");
	has(&f, "3:i:x.y.wild.example\n");
	has(&f, "4:i:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
	has(&f, "5:i:http://bad.example/x?y=1\n");
	has(&f, "6:i:10.20.7.7\n");
	has(&f, "7:i:2001:db8:bad::5\n");
	has(&f, "8:i:phish@evil.example\n");
	has(&f, "9:i:d41d8cd98f00b204e9800998ecf8427e\n");
	has(&f, "10:i:2001:db8::1\n");
	has(&f, "11:i:192.0.2.2\n");
	assert_int_equal(f.n, 11);
	match_index_free(x);
}

static void test_no_match_inside_tokens(void **state)
{
	struct match_index *x = build(NULL);
	struct found f;

	(void)state;
	scan(x, MATCH_FORMAT_TEXT, 0,
	     "172.191.13.123 72.191.13.10 72.191.13.1.5 x72.191.13.1 72.191.13.1x\n"
	     "notevil.example evil.example.com evil-example a.evil.example\n"
	     "ae3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	     "http://bad.example/x?y=12 http://bad.example/x\n"
	     "xphish@evil.example.org 10.19.255.255 10.21.0.0 wild.example.com\n"
	     "2001:db8:bae::1 2001:db8::2 a.example b.example\n",
	     &f);
	if (f.n != 0)
		fail_msg("near misses matched:\n%s", f.text);
	/* the operator's --subdomains makes a.evil.example match, only it */
	scan(x, MATCH_FORMAT_TEXT, 1, "notevil.example a.evil.example evil.example.com\n", &f);
	assert_int_equal(f.n, 1);
	has(&f, "1:i:a.evil.example\n");
	match_index_free(x);
}

static void test_cidr_boundaries(void **state)
{
	struct match_index *x = build(NULL);
	struct found f;

	(void)state;
	scan(x, MATCH_FORMAT_TEXT, 0,
	     "10.20.0.0\n10.20.255.255\n10.19.255.255\n10.21.0.0\n"
	     "2001:db8:bad::\n2001:db8:bad:ffff:ffff:ffff:ffff:ffff\n2001:db8:bac:ffff::1\n"
	     "2001:db8:bae::\n",
	     &f);
	has(&f, "1:i:10.20.0.0\n");
	has(&f, "2:i:10.20.255.255\n");
	has(&f, "5:i:2001:db8:bad::\n");
	has(&f, "6:i:2001:db8:bad:ffff:ffff:ffff:ffff:ffff\n");
	assert_int_equal(f.n, 4);
	match_index_free(x);
}

static void test_formats(void **state)
{
	struct match_index *x = build(NULL);
	struct found f;
	struct match_scan_stats st;

	(void)state;
	st = scan(
	        x, MATCH_FORMAT_AUTO, 0,
	        "{\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"72.191.13.1\",\"dns\":{\"rrname\":\"Evil.Example\"}}\n"
	        "{\"http\":{\"url\":\"http:\\/\\/bad.example\\/x?y=1\",\"tags\":[\"a\",\"192.0.2.1\"]}}\n"
	        "plain text 72.191.13.1\n"
	        "{\"unterminated\":\"evil.example\n",
	        &f);
	has(&f, "1:i:72.191.13.1@dest_ip\n");
	has(&f, "1:i:evil.example@dns.rrname\n");
	has(&f, "2:i:http://bad.example/x?y=1@http.url\n");
	has(&f, "2:i:192.0.2.1@http.tags\n");
	has(&f, "3:i:72.191.13.1\n");
	has(&f, "4:i:evil.example\n"); /* auto: not JSON, so read as text */
	assert_int_equal(st.bad_json_lines, 0);
	st = scan(x, MATCH_FORMAT_JSONL, 0, "{\"a\":\"evil.example\"\nnot json evil.example\n", &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(st.bad_json_lines, 2);

	scan(x, MATCH_FORMAT_AUTO, 0,
	     "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\n"
	     "1.0\t10.0.0.1\t72.191.13.1\t-\n"
	     "2.0\t10.0.0.2\t1.1.1.1\tevil.example\n",
	     &f);
	has(&f, "3:i:72.191.13.1@id.resp_h\n");
	has(&f, "4:i:evil.example@query\n");
	assert_int_equal(f.n, 2);
	match_index_free(x);
}

static void test_bad_input(void **state)
{
	struct match_index *x = build(NULL);
	struct match_scan_opts o = {MATCH_FORMAT_TEXT, 0, 1, 256, 0, 0};
	struct match_scanner *s;
	struct match_scan_stats st;
	struct found f;
	char big[5000];
	static const char bin[] = "72.191.13.1 \0 binary\n"
	                          "bad \xff\xfe utf8 72.191.13.1\n"
	                          "ok \xc3\xa9 72.191.13.1\n";

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(big, 'a', sizeof(big));
	s = match_scanner_new(x, &o, collect, &f);
	assert_non_null(s);
	/* a prefix in a buffer that is not a string */
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(big, "72.191.13.1 ", 12);
	match_scanner_feed(s, big, sizeof(big)); /* one line of 5000+ bytes */
	match_scanner_feed(s, "\n72.191.13.1\n", 13);
	match_scanner_feed(s, bin, sizeof(bin) - 1);
	match_scanner_end(s);
	match_scanner_get_stats(s, &st);
	assert_int_equal(st.long_lines, 1);
	assert_int_equal(st.binary_lines, 1);
	assert_int_equal(st.bad_utf8_lines, 1);
	assert_int_equal(f.n, 2);
	has(&f, "2:i:72.191.13.1\n");
	has(&f, "5:i:72.191.13.1\n");
	match_scanner_free(s);
	match_index_free(x);
}

static void test_warninglists(void **state)
{
	struct match_warninglists *wl = match_warninglists_new();
	struct tix_error err;
	struct match_index *x;
	struct match_index_stats st;
	struct match_indicator ind;
	struct found f;
	struct match_scan_stats ss;

	(void)state;
	assert_int_equal(
	        match_warninglists_load(wl, TIX_SHARED_DIR "/corpora/warninglists/rfc1918", &err),
	        TIX_OK);
	assert_non_null(match_warninglists_hit(wl, "ipv4-addr", "192.168.1.1", 11));
	assert_null(match_warninglists_hit(wl, "ipv4-addr", "192.169.1.1", 11));
	x = build(wl);
	match_index_get_stats(x, &st);
	/* 10.20.0.0/16 and 10.1.2.3 are inside 10.0.0.0/8 */
	assert_int_equal(st.flagged, 2);
	for (uint32_t i = 0; i < match_index_count(x); i++) {
		match_index_indicator(x, i, &ind);
		if (strcmp(ind.id, "indicator--00000000-0000-4000-8000-000000000013") == 0)
			assert_non_null(ind.warninglist);
		if (strcmp(ind.id, "indicator--00000000-0000-4000-8000-000000000000") == 0)
			assert_null(ind.warninglist);
	}
	ss = scan(x, MATCH_FORMAT_TEXT, 0, "10.1.2.3 72.191.13.1\n", &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(ss.suppressed, 1);
	match_index_free(x);
	match_warninglists_free(wl);
}

static void test_index_file(void **state)
{
	char dir[256], path[512], ipath[600];
	struct tix_error err;
	struct match_index *x = build(NULL), *y;
	struct found f1, f2;
	const char *log =
	        "72.191.13.1 x.wild.example 10.20.1.1 2001:db8:bad::1 phish@evil.example\n";
	FILE *fp;
	long size;
	unsigned char *img;

	(void)state;
	assert_int_equal(test_tmpdir_make("match", dir, sizeof(dir), path, sizeof(path)), 0);
	snprintf(ipath, sizeof(ipath), "%s/index.tix", dir);
	assert_int_equal(match_index_write(x, ipath, &err), TIX_OK);
	y = match_index_load(ipath, &err);
	assert_non_null(y);
	scan(x, MATCH_FORMAT_TEXT, 0, log, &f1);
	scan(y, MATCH_FORMAT_TEXT, 0, log, &f2);
	assert_int_equal(f1.n, 5);
	assert_string_equal(f1.text, f2.text);
	match_index_free(y);

	fp = fopen(ipath, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	img = malloc((size_t)size);
	assert_int_equal(fread(img, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	/* truncated anywhere: rejected */
	for (long n = 0; n < size; n += n < 256 ? 1 : 97)
		assert_null(match_index_from_memory(img, (size_t)n, &err));
	/* a wrong magic, version, size or table size: rejected */
	{
		static const size_t offs[] = {0, 8, 16, 24, 32, 36};

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			img[offs[i]] ^= 0x41;
			y = match_index_from_memory(img, (size_t)size, &err);
			assert_null(y);
			assert_int_equal(err.code, TIX_EPARSE);
			img[offs[i]] ^= 0x41;
		}
	}
	/* any byte changed: rejected, or loads and scans without a crash */
	uint64_t rng = 7; /* a fixed seed: the same 2,000 corruptions every run */
	for (int k = 0; k < 2000; k++) {
		size_t at = (size_t)(next_random(&rng) % (uint64_t)size);
		unsigned char old = img[at];

		img[at] = (unsigned char)next_random(&rng);
		y = match_index_from_memory(img, (size_t)size, &err);
		if (y) {
			scan(y, MATCH_FORMAT_TEXT, 1, log, &f2);
			match_index_free(y);
		}
		img[at] = old;
	}
	free(img);
	unlink(ipath);
	test_tmpdir_remove(dir);
	match_index_free(x);
}

static void test_inactive(void **state)
{
	struct match_builder *b = match_builder_new(NULL);
	struct tix_error err;
	json_t *o = indicator(1, "[ipv4-addr:value = '1.2.3.4']");

	(void)state;
	json_object_set_new(o, "valid_until", json_string("2025-01-01T00:00:00Z"));
	assert_int_equal(match_builder_add(b, o, NOW_US, &err), MATCH_INACTIVE);
	json_object_del(o, "valid_until");
	json_object_set_new(o, "revoked", json_true());
	assert_int_equal(match_builder_add(b, o, NOW_US, &err), MATCH_INACTIVE);
	json_object_del(o, "revoked");
	json_object_set_new(o, "pattern_type", json_string("sigma"));
	assert_int_equal(match_builder_add(b, o, NOW_US, &err), MATCH_NOT_STIX);
	json_decref(o);
	{
		const char raw[] =
		        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-"
		        "000000000001\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
		        "\"pattern_type\":\"stix\",\"valid_from\":\"2030-01-01T00:00:00Z\"}";
		int other;

		assert_int_equal(
		        match_builder_add_raw(b, raw, sizeof(raw) - 1, NOW_US, &other, &err),
		        MATCH_INACTIVE);
		assert_int_equal(other, 0);
	}
	match_builder_free(b);
}

/* One-comparison patterns are read without the parser: they must give
 * what the parser gives, and what it refuses must still be refused. */
static void test_simple_patterns_read_fast(void **state)
{
	static const struct {
		const char *pattern;
		enum match_add want;
	} cases[] = {
	        {"[file:hashes.MD5 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
	         MATCH_INVALID}, /* 64 digits are no MD5 */
	        {"[file:hashes.'SHA-256' = 'xyz0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
	         MATCH_INVALID},
	        {"[domain-name:value = 'it''s.example']", MATCH_INVALID},
	        {"[domain-name:value = 'EVIL.example']", MATCH_ADDED},
	        {"[domain-name:value =  'evil.example']",
	         MATCH_ADDED}, /* not canonical: the parser */
	        {"[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", MATCH_ADDED},
	        {"[ipv4-addr:value = '10.0.0.0/8']", MATCH_ADDED},
	        {"[x-custom:value = 'evil.example']", MATCH_UNINDEXABLE},
	};
	struct match_builder *b = match_builder_new(NULL);
	struct tix_error err;
	struct match_index *x;
	struct found f;

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = indicator(i, cases[i].pattern);
		enum match_add r = match_builder_add(b, o, NOW_US, &err);

		if (r != cases[i].want)
			fail_msg("%s: %d, expected %d", cases[i].pattern, (int)r,
			         (int)cases[i].want);
		json_decref(o);
	}
	x = match_builder_finish(b, &err);
	assert_non_null(x);
	scan(x, MATCH_FORMAT_TEXT, 0,
	     "evil.example\nDA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n10.9.9.9\n", &f);
	assert_int_equal(f.n, 4); /* two indicators on the first line */
	match_index_free(x);
}

/* Indexes with one kind of value only, or none at all, work too. */
static void test_small_indexes(void **state)
{
	static const char *const one[] = {"[domain-name:value = 'evil.example']", NULL};
	struct tix_error err;
	struct found f;

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct match_builder *b = match_builder_new(NULL);
		struct match_index *x;

		for (int i = 0; k == 0 && one[i]; i++) {
			json_t *o = indicator((unsigned)i, one[i]);

			assert_int_equal(match_builder_add(b, o, NOW_US, &err), MATCH_ADDED);
			json_decref(o);
		}
		x = match_builder_finish(b, &err);
		assert_non_null(x);
		scan(x, MATCH_FORMAT_AUTO, 1, "evil.example 1.2.3.4 2001:db8::1 a.evil.example\n",
		     &f);
		assert_int_equal(f.n, k == 0 ? 1 : 0); /* one report per indicator and line */
		assert_int_equal(match_index_count(x), k == 0 ? 1 : 0);
		match_index_free(x);
	}
}

/* ---- many values: the lookup filter never hides one ----------------------- */

struct count_hits {
	unsigned n, wrong, kind[4];
	uint32_t nind;
};

static int count_hit(void *arg, const struct match_hit *h)
{
	struct count_hits *c = arg;

	c->n++;
	c->wrong += h->indicator >= c->nind;
	c->kind[h->indicator % 4]++;
	return 0;
}

/* 20,000 IPv4 addresses, domains, SHA-256 hashes and URLs (a lookup
 * filter of thousands of words, as a real feed gives): every one is found
 * in a log, in text and in JSON, and none of the near misses beside them. */
static void test_many_values(void **state)
{
	enum { N = 20000 };
	struct match_builder *b = match_builder_new(NULL);
	struct match_index *x;
	struct tix_error err;
	struct count_hits c = {0, 0, {0, 0, 0, 0}, N};
	struct match_scan_opts o = {MATCH_FORMAT_AUTO, 0, 1, 0, 0, 0};
	struct match_scanner *s;
	char pat[256], line[512];
	size_t cap = (size_t)N * 300, len = 0;
	char *log = malloc(cap);

	(void)state;
	assert_non_null(b);
	assert_non_null(log);
	for (unsigned i = 0; i < N; i++) {
		json_t *obj;
		uint64_t r = next_random(&(uint64_t){0x1234567ULL + i});

		switch (i % 4) {
		case 0:
			snprintf(pat, sizeof(pat), "[ipv4-addr:value = '%u.%u.%u.%u']",
			         11 + (unsigned)(r % 200), (unsigned)(r >> 8) & 255,
			         (unsigned)(r >> 16) & 255, 1 + (unsigned)(r >> 24) % 250);
			break;
		case 1: snprintf(pat, sizeof(pat), "[domain-name:value = 'h%u.example']", i); break;
		case 2: /* the first of them decimal digits only, not a number */
			snprintf(pat, sizeof(pat), "[file:hashes.'SHA-256' = '%016llx%048x']",
			         i == 2 ? 1234567890123456ULL : (unsigned long long)r, i);
			break;
		default:
			snprintf(pat, sizeof(pat), "[url:value = 'http://u%u.example/p']", i);
			break;
		}
		obj = indicator(i, pat);
		assert_int_equal(match_builder_add(b, obj, NOW_US, &err), MATCH_ADDED);
		json_decref(obj);
		/* the value, then a near miss of it, in text or JSON */
		{
			const char *e = strrchr(pat, '\''), *q = e;
			int v;

			while (q[-1] != '\'')
				q--;
			v = (int)(e - q);

			if (i % 2)
				snprintf(line, sizeof(line), "x %.*s y x%.*s 1%.*s\n", v, q, v, q,
				         v, q);
			else
				snprintf(line, sizeof(line),
				         "{\"a\":\"%.*s\",\"b\":[\"%.*s0\",\"-%.*sz\"]}\n", v, q, v,
				         q, v, q);
		}
		len += (size_t)snprintf(log + len, cap - len, "%s", line);
	}
	x = match_builder_finish(b, &err);
	assert_non_null(x);
	s = match_scanner_new(x, &o, count_hit, &c);
	assert_non_null(s);
	match_scanner_feed(s, log, len);
	match_scanner_end(s);
	match_scanner_free(s);
	assert_int_equal(c.wrong, 0);
	if (c.n != N)
		fail_msg("%u of %u found: %u addresses, %u domains, %u hashes, %u URLs", c.n,
		         (unsigned)N, c.kind[0], c.kind[1], c.kind[2], c.kind[3]);
	match_index_free(x);
	free(log);
}

/* ---- the one-pass tokenizer against the byte-at-a-time reference ---------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

struct hits {
	char text[65536];
	size_t len;
};

static int collect_all(void *arg, const struct match_hit *h)
{
	struct hits *f = arg;
	int w = snprintf(f->text + f->len, sizeof(f->text) - f->len, "%llu@%llu:%u:%s:%s\n",
	                 (unsigned long long)h->line, (unsigned long long)h->offset,
	                 (unsigned)h->indicator, h->value, h->field ? h->field : "-");

	if (w > 0 && (size_t)w < sizeof(f->text) - f->len)
		f->len += (size_t)w;
	return 0;
}

static void scan_all(const struct match_index *x, enum match_format fmt, int sub, const char *text,
                     size_t n, struct hits *f, struct match_scan_stats *st)
{
	struct match_scan_opts o = {fmt, sub, 1, 20000, 0, 0};
	struct match_scanner *s;

	memset(f, 0, sizeof(*f));
	s = match_scanner_new(x, &o, collect_all, f);
	assert_non_null(s);
	match_scanner_feed(s, text, n);
	match_scanner_end(s);
	match_scanner_get_stats(s, st);
	match_scanner_free(s);
}

/* Random logs made of indicator values, near misses, separators and
 * noise, in every format: the scanners find the same hits (line, offset,
 * indicator, value, field) with the one-pass tokenizer as with the
 * reference that reads spans and pieces in separate passes. */
static void test_tokenizer_differential(void **state)
{
	static const char *const frags[] = {
	        "72.191.13.1",
	        "172.191.13.123",
	        "evil.example",
	        "EVIL.EXAMPLE.",
	        "a.wild.example",
	        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	        "http://bad.example/x?y=1",
	        "HTTP://Bad.Example:80/x?y=1#frag",
	        "10.20.7.7",
	        "[2001:db8:bad::5]:80",
	        "phish@evil.example",
	        "d41d8cd98f00b204e9800998ecf8427e",
	        "2001:db8::1",
	        "192.0.2.2",
	        "x.y",
	        "a",
	        "12:34:56.789",
	        "\"",
	        "{",
	        "}",
	        ":",
	        ",",
	        "\t",
	        " ",
	        "  ",
	        "\\",
	        "'",
	        "(",
	        ")",
	        "[",
	        "]",
	        "<",
	        ">",
	        "|",
	        ";",
	        "^",
	        "`",
	        "~",
	        "\x7f",
	        "\xc3\xa9",
	        "\xff",
	        "@",
	        ".",
	        "..",
	        "://",
	        "-",
	        "_",
	        "%",
	        "+",
	        "/",
	        "=",
	        "?",
	        "#",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	        "\"k\":\"",
	        "\",\"f.g\":\"",
	        "{\"a\":\"",
	        "\"}",
	        "abcd/",
	        "1.2.3.4/",
	        "evil.example=",
	        "x.y.z.",
	        "a:b",
	        "http:",
	        "//",
	};
	static char text[16384];
	struct match_index *x = build(NULL);
	static struct hits f1, f2;
	struct match_scan_stats st1, st2;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t n = 0, lines = 1 + rng() % 6;

		for (size_t l = 0; l < lines; l++) {
			size_t parts = rng() % 40;

			if (rng() % 3 == 0)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"m\":\"");
			for (size_t k = 0; k < parts && n + 200 < sizeof(text); k++) {
				const char *fr = frags[rng() % (sizeof(frags) / sizeof(frags[0]))];
				size_t fl = strlen(fr);

				/* a log being built, not a string */
				// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
				memcpy(text + n, fr, fl);
				n += fl;
			}
			if (text[0] == '{' && rng() % 2)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "\"}");
			text[n++] = '\n';
		}
		for (int fmt = 0; fmt < 3; fmt++) {
			int sub = (int)(rng() & 1);

			match__reference_tokenizer = 1;
			scan_all(x, (enum match_format)fmt, sub, text, n, &f1, &st1);
			match__reference_tokenizer = 0;
			scan_all(x, (enum match_format)fmt, sub, text, n, &f2, &st2);
			if (f1.len != f2.len || memcmp(f1.text, f2.text, f1.len) != 0 ||
			    st1.tokens != st2.tokens || st1.hits != st2.hits)
				fail_msg("round %d format %d: the tokenizers differ on:\n%.*s\n-- "
				         "reference:\n%s\n-- one pass:\n%s",
				         round, fmt, (int)n, text, f1.text, f2.text);
		}
	}
	match_index_free(x);
}

/* A domain found as a URL's host is reported where the host starts in the
 * line (it once came from a pointer into the normalised copy). */
static void test_url_host_offset(void **state)
{
	static const char text[] =
	        "first line\n"
	        "GET http://user@EVIL.example:8080/x?q=1 and HTTP://evil.example\n";
	struct match_index *x = build(NULL);
	static struct hits f;
	struct match_scan_stats st;
	char want[256];
	size_t at = (size_t)(strstr(text, "EVIL") - text);

	(void)state;
	/* one report per indicator and line: the first host's */
	snprintf(want, sizeof(want), "2@%zu:1:evil.example:-\n", at);
	for (int ref = 0; ref < 2; ref++) {
		match__reference_tokenizer = ref;
		scan_all(x, MATCH_FORMAT_TEXT, 0, text, strlen(text), &f, &st);
		if (strcmp(f.text, want) != 0)
			fail_msg("expected %s, got %s", want, f.text);
	}
	/* an IPv6 literal as a URL's host: '[' and ']' end spans, so the
	 * address is read as a piece of its own and reported where it starts */
	{
		static const char v6[] = "x\nGET http://u:p@[2001:DB8:BAD::5]:8080/p?q x\n";

		snprintf(want, sizeof(want), "2@%zu:6:2001:db8:bad::5:-\n",
		         (size_t)(strstr(v6, "2001") - v6));
		for (int ref = 0; ref < 2; ref++) {
			match__reference_tokenizer = ref;
			scan_all(x, MATCH_FORMAT_TEXT, 0, v6, strlen(v6), &f, &st);
			if (strcmp(f.text, want) != 0)
				fail_msg("expected %s, got %s", want, f.text);
		}
	}
	match__reference_tokenizer = 0;
	match_index_free(x);
}

/* Every prefix of an indicator object, each in a buffer of exactly its
 * length (so ASan sees a read past it), read by add_raw and add_prefix:
 * only the whole object is added. */
static void test_raw_reader_truncated(void **state)
{
	static const char obj[] =
	        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000001\","
	        "\"pattern\":\"[ipv4-addr:value = '198.51.100.9']\",\"pattern_type\":\"stix\","
	        "\"revoked\":false,\"x\":{\"a\":[1,\"}\"]},"
	        "\"object_marking_refs\":[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"]}";
	size_t full = sizeof(obj) - 1;

	(void)state;
	for (size_t len = 0; len <= full; len++) {
		struct match_builder *b = match_builder_new(NULL);
		struct tix_error err;
		char *buf = malloc(len ? len : 1);
		enum match_add r = MATCH_INVALID;
		size_t used = 0;
		int other;

		assert_non_null(b);
		assert_non_null(buf);
		memcpy(buf, obj, len);
		assert_int_equal(match_builder_add_raw(b, buf, len, NOW_US, &other, &err),
		                 len == full ? MATCH_ADDED : MATCH_INVALID);
		if (match_builder_add_prefix(b, buf, len, NOW_US, &used, &r, &other, &err)) {
			assert_int_equal(len, full);
			assert_int_equal(used, full);
			assert_int_equal(r, MATCH_ADDED);
		} else {
			assert_true(len < full);
		}
		match_index_free(match_builder_finish(b, &err));
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_kind),
	        cmocka_unit_test(test_no_match_inside_tokens),
	        cmocka_unit_test(test_cidr_boundaries),
	        cmocka_unit_test(test_formats),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_warninglists),
	        cmocka_unit_test(test_index_file),
	        cmocka_unit_test(test_inactive),
	        cmocka_unit_test(test_small_indexes),
	        cmocka_unit_test(test_many_values),
	        cmocka_unit_test(test_simple_patterns_read_fast),
	        cmocka_unit_test(test_tokenizer_differential),
	        cmocka_unit_test(test_url_host_offset),
	        cmocka_unit_test(test_raw_reader_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
