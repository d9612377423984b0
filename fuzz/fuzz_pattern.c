/*
 * fuzz/fuzz_pattern.c — libFuzzer target for the pattern parser and all that
 * walks its tree: name checks, atoms, printers (the canonical text must parse
 * back to itself) and the evaluator on fixed observations. The first byte
 * picks the grammar (bit 0: 2.0); the rest is the pattern.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Observations for the evaluator: 2.1 references and 2.0 embedded objects,
 * values of every JSON kind, lists, dictionaries and binary properties. */
static const char fixture[] =
        "[{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": ["
        " {\"type\": \"observed-data\", \"id\": \"observed-data--1\","
        "  \"first_observed\": \"2020-01-01T00:00:00Z\", \"last_observed\": "
        "\"2020-01-01T00:00:10Z\","
        "  \"number_observed\": 3, \"object_refs\": [\"network-traffic--1\", \"ipv4-addr--1\","
        "  \"file--1\", \"domain-name--1\"]},"
        " {\"type\": \"network-traffic\", \"id\": \"network-traffic--1\", \"src_ref\": "
        "\"ipv4-addr--1\","
        "  \"dst_port\": 443, \"protocols\": [\"tcp\", \"tls\"], \"x_ratio\": 0.5},"
        " {\"type\": \"ipv4-addr\", \"id\": \"ipv4-addr--1\", \"value\": \"198.51.100.7\"},"
        " {\"type\": \"domain-name\", \"id\": \"domain-name--1\", \"value\": \"example.com\","
        "  \"resolves_to_refs\": [\"ipv4-addr--1\", \"domain-name--1\"]},"
        " {\"type\": \"file\", \"id\": \"file--1\", \"name\": \"a.exe\", \"size\": 1024,"
        "  \"hashes\": {\"MD5\": \"cead3f77f6cda6ec00f57d76c9a6879f\"}, \"magic_number_hex\": "
        "\"ffd8\","
        "  \"x_flag\": true, \"x_list\": [[1, 2], {\"k\": \"v\"}, null], \"created\": "
        "\"2014-01-13T07:03:17Z\"}"
        "]},"
        " {\"type\": \"observed-data\", \"id\": \"observed-data--2\","
        "  \"first_observed\": \"2020-01-01T00:01:00Z\", \"last_observed\": "
        "\"2020-01-01T00:01:00Z\","
        "  \"number_observed\": 1, \"objects\": {"
        "  \"0\": {\"type\": \"artifact\", \"payload_bin\": \"dGhpcyBpcyBhIHRlc3Q=\"},"
        "  \"1\": {\"type\": \"email-message\", \"from_ref\": \"2\", \"subject\": "
        "\"caf\\u00e9\\nline\"},"
        "  \"2\": {\"type\": \"email-addr\", \"value\": \"a@example.com\"},"
        "  \"3\": {\"type\": \"ipv6-addr\", \"value\": \"2001:db8::/64\"}}}]";

static struct pattern_observations *observations(void)
{
	static struct pattern_observations *o;
	struct tix_error err;
	json_t *doc;

	if (o != NULL)
		return o;
	doc = json_loads(fixture, 0, NULL);
	o = pattern_observations_new();
	if (doc == NULL || o == NULL || pattern_observations_add(o, doc, &err) != TIX_OK ||
	    pattern_observations_seal(o, &err) != TIX_OK)
		abort();
	json_decref(doc);
	return o;
}

/* The canonical text must parse, and print the same again. */
static void round_trip(const struct pattern *p, enum pattern_version v)
{
	struct tix_buf a, b;
	struct tix_error err;
	struct pattern *q;

	tix_buf_init(&a, TIX_BUF_UNLIMITED);
	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	if (pattern_format(p, &a) != TIX_OK)
		abort();
	q = pattern_parse(tix_buf_str(&a), tix_buf_len(&a), v, &err);
	if (q == NULL) {
		fprintf(stderr, "canonical text does not parse: %s\n%s\n", err.msg,
		        tix_buf_str(&a));
		abort();
	}
	if (pattern_format(q, &b) != TIX_OK || strcmp(tix_buf_str(&a), tix_buf_str(&b)) != 0) {
		fprintf(stderr, "canonical text changes:\n%s\n%s\n", tix_buf_str(&a),
		        tix_buf_str(&b));
		abort();
	}
	pattern_free(q);
	tix_buf_release(&a);
	tix_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pattern_match_opts opts = {20000, 20000, 1000};
	enum pattern_version v;
	struct pattern_atoms *atoms;
	struct pattern_result res;
	struct tix_error err;
	struct pattern *p;
	struct tix_buf out;
	unsigned line, col;

	if (size < 1)
		return 0;
	v = (data[0] & 1) ? PATTERN_V20 : PATTERN_V21;
	p = pattern_parse((const char *)data + 1, size - 1, v, &err);
	if (p == NULL) {
		/* every syntax error says where */
		if (err.code == TIX_EPARSE && pattern_error_pos(&err, &line, &col) != 0) {
			fprintf(stderr, "no position: %s\n", err.msg);
			abort();
		}
		return 0;
	}
	round_trip(p, v);
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	pattern_explain(p, &out);
	pattern_check_names(p, &out, &err);
	tix_buf_release(&out);
	atoms = pattern_atoms_extract(p, &err);
	pattern_atoms_free(atoms);
	if (pattern_match(p, observations(), &opts, &res, &err) == TIX_OK)
		pattern_result_release(&res);
	pattern_free(p);
	return 0;
}
