/*
 * Unit tests for stix/validate.c and stix/scoid.c: valid STIX 2.1 objects
 * pass; each broken MUST rule is reported with the JSON path of the
 * property at fault; deterministic SCO ids and the metadata the store
 * indexes come out as the spec says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "stix/stix.h"

/* ---- fixtures (spec_version 2.1 throughout: 2.0 objects are read leniently) */

#define TS        "\"created\": \"2016-04-06T20:03:48.000Z\", \"modified\": \"2016-04-06T20:03:48.000Z\""
#define IND_ID    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define MAL_ID    "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
#define IDT_ID    "identity--311b2d2d-f010-4473-83ec-1edf84858f4c"
#define SIG_ID    "sighting--ee20065d-2555-424f-ad9e-0f8428623c75"
#define TLP_GREEN "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define EXTDEF    "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"

static const char indicator[] =
        "{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"" IND_ID "\", " TS ","
        " \"created_by_ref\": \"" IDT_ID "\","
        " \"indicator_types\": [\"malicious-activity\"], \"name\": \"Poison Ivy Malware\","
        " \"pattern\": \"[file:hashes.'SHA-256' = "
        "'4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']\","
        " \"pattern_type\": \"stix\", \"valid_from\": \"2016-01-01T00:00:00Z\","
        " \"object_marking_refs\": [\"" TLP_GREEN "\"]}";

static const char identity[] =
        "{\"type\": \"identity\", \"spec_version\": \"2.1\", \"id\": \"" IDT_ID "\","
        " \"created\": \"2015-12-21T19:59:11.000Z\", \"modified\": \"2015-12-21T19:59:11.000Z\","
        " \"name\": \"Cole Powers\", \"identity_class\": \"individual\", \"lang\": \"en-US\","
        " \"confidence\": 100}";

static const char relationship[] =
        "{\"type\": \"relationship\", \"spec_version\": \"2.1\","
        " \"id\": \"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad\", " TS ","
        " \"relationship_type\": \"indicates\", \"source_ref\": \"" IND_ID "\","
        " \"target_ref\": \"" MAL_ID "\"}";

static const char sighting[] =
        "{\"type\": \"sighting\", \"spec_version\": \"2.1\", \"id\": \"" SIG_ID "\", " TS ","
        " \"first_seen\": \"2015-12-21T19:00:00Z\", \"last_seen\": \"2015-12-21T19:00:00Z\","
        " \"count\": 50, \"sighting_of_ref\": \"" IND_ID "\","
        " \"where_sighted_refs\": [\"" IDT_ID "\"]}";

static const char malware[] =
        "{\"type\": \"malware\", \"spec_version\": \"2.1\", \"id\": \"" MAL_ID "\", " TS ","
        " \"name\": \"Cryptolocker\", \"malware_types\": [\"ransomware\"], \"is_family\": false,"
        " \"kill_chain_phases\": [{\"kill_chain_name\": \"lockheed-martin-cyber-kill-chain\","
        " \"phase_name\": \"installation\"}],"
        " \"external_references\": [{\"source_name\": \"cve\", \"external_id\": "
        "\"CVE-2016-1234\"}]}";

static const char file_sco[] =
        "{\"type\": \"file\", \"spec_version\": \"2.1\","
        " \"id\": \"file--e277603e-1060-5ad4-9937-c26c97f1ca68\", \"name\": \"foo.dll\","
        " \"hashes\": {\"SHA-256\": "
        "\"bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c\"}, \"size\": 25536}";

static const char ipv4[] = "{\"type\": \"ipv4-addr\", \"spec_version\": \"2.1\","
                           " \"id\": \"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\", "
                           "\"value\": \"198.51.100.3\"}";

/* Exactly as in section 7.2.1.4 of the spec. */
static const char tlp_green[] = "{\n"
                                "  \"type\": \"marking-definition\",\n"
                                "  \"spec_version\": \"2.1\",\n"
                                "  \"id\": \"" TLP_GREEN "\",\n"
                                "  \"created\": \"2017-01-20T00:00:00.000Z\",\n"
                                "  \"definition_type\": \"tlp\",\n"
                                "  \"name\": \"TLP:GREEN\",\n"
                                "  \"definition\": {\n"
                                "    \"tlp\": \"green\"\n"
                                "  }\n"
                                "}";

static const char custom[] =
        "{\"type\": \"x-acme-widget\", \"spec_version\": \"2.1\","
        " \"id\": \"x-acme-widget--4527e5de-8572-446a-a57a-706f15467461\", " TS ","
        " \"name\": \"gizmo\", \"x_acme_colour\": \"red\", \"size_ref\": \"" IDT_ID "\"}";

static const char location[] =
        "{\"type\": \"location\", \"spec_version\": \"2.1\","
        " \"id\": \"location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64\", " TS ","
        " \"region\": \"south-eastern-asia\", \"country\": \"th\"}";

static const char artifact[] =
        "{\"type\": \"artifact\", \"spec_version\": \"2.1\","
        " \"id\": \"artifact--6f437177-6e48-4cf8-9d9e-872a2bddd641\","
        " \"mime_type\": \"application/octet-stream\", \"payload_bin\": \"aGVsbG8gd29ybGQ=\"}";

static const char mac[] = "{\"type\": \"mac-addr\", \"spec_version\": \"2.1\","
                          " \"id\": \"mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00\", \"value\": "
                          "\"d2:fb:49:24:37:18\"}";

static const char observed[] =
        "{\"type\": \"observed-data\", \"spec_version\": \"2.1\","
        " \"id\": \"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf\", " TS ","
        " \"first_observed\": \"2015-12-21T19:00:00Z\", \"last_observed\": "
        "\"2015-12-21T19:00:00Z\","
        " \"number_observed\": 50,"
        " \"object_refs\": [\"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\"]}";

static const char software[] =
        "{\"type\": \"software\", \"spec_version\": \"2.1\","
        " \"id\": \"software--a1827f6d-ca53-4605-9e93-4316cd22a00a\", \"name\": \"Word\","
        " \"languages\": [\"en\", \"fr\"]}";

/* ---- helpers ------------------------------------------------------------- */

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (v == NULL)
		fail_msg("fixture does not parse: %s (line %d)", je.text, je.line);
	return v;
}

/* A copy of base with key set to value (value is stolen; NULL deletes). */
static json_t *with(const char *base, const char *key, json_t *value)
{
	json_t *o = load(base);

	if (value)
		assert_int_equal(json_object_set_new(o, key, value), 0);
	else
		json_object_del(o, key);
	return o;
}

static json_t *with_json(const char *base, const char *key, const char *value_json)
{
	json_error_t je;
	json_t *v = json_loads(value_json, JSON_DECODE_ANY, &je);

	if (v == NULL)
		fail_msg("value does not parse: %s", value_json);
	return with(base, key, v);
}

static void dump_problems(const struct stix_problems *p)
{
	for (size_t i = 0; i < p->count; i++)
		print_error("  problem: %s\n", p->msgs[i]);
}

static void expect_valid(const char *name, const char *text)
{
	json_t *o = load(text);
	struct stix_problems p;
	size_t n;

	stix_problems_init(&p);
	n = stix_validate(o, "objects[0]", NULL, &p);
	if (n != 0) {
		dump_problems(&p);
		stix_problems_release(&p);
		json_decref(o);
		fail_msg("%s: %zu problem(s), wanted none", name, n);
	}
	assert_int_equal(p.count, 0);
	stix_problems_release(&p);
	json_decref(o);
}

/* Validates obj (consumed) at path "objects[0]" and asserts that a problem
 * is reported for `where` (the message starts "WHERE: ") whose text
 * contains `word` (when not NULL). */
static void expect_problem(json_t *obj, const char *where, const char *word)
{
	struct stix_problems p;
	size_t n, wl = strlen(where);
	int found = 0;

	stix_problems_init(&p);
	n = stix_validate(obj, "objects[0]", NULL, &p);
	assert_int_equal(n, p.count + p.dropped);
	for (size_t i = 0; i < p.count; i++) {
		const char *m = p.msgs[i];

		if (strncmp(m, where, wl) == 0 && m[wl] == ':' && m[wl + 1] == ' ' &&
		    (word == NULL || strstr(m + wl, word) != NULL))
			found = 1;
	}
	if (!found) {
		dump_problems(&p);
		stix_problems_release(&p);
		json_decref(obj);
		fail_msg("no problem '%s: ...%s...' among %zu", where, word ? word : "", n);
	}
	stix_problems_release(&p);
	json_decref(obj);
}

/* ---- valid objects ------------------------------------------------------- */

static void test_valid_examples_pass(void **state)
{
	(void)state;
	expect_valid("indicator", indicator);
	expect_valid("identity", identity);
	expect_valid("relationship", relationship);
	expect_valid("sighting", sighting);
	expect_valid("malware", malware);
	expect_valid("file", file_sco);
	expect_valid("ipv4-addr", ipv4);
	expect_valid("marking-definition TLP:GREEN", tlp_green);
	expect_valid("x-acme-widget", custom);
	expect_valid("location", location);
	expect_valid("artifact", artifact);
	expect_valid("mac-addr", mac);
	expect_valid("observed-data", observed);
	expect_valid("software", software);
}

static void test_valid_variants_pass(void **state)
{
	struct stix_problems p;
	json_t *o;

	(void)state;
	stix_problems_init(&p);
	/* confidence bounds, a CIDR, an SCO without spec_version or id. */
	o = with_json(indicator, "confidence", "0");
	assert_int_equal(stix_validate(o, "", NULL, &p), 0);
	json_decref(o);
	o = with_json(indicator, "confidence", "100");
	assert_int_equal(stix_validate(o, "", NULL, &p), 0);
	json_decref(o);
	o = with_json(ipv4, "value", "\"10.2.4.0/24\"");
	assert_int_equal(stix_validate(o, "", NULL, &p), 0);
	json_decref(o);
	o = with(ipv4, "spec_version", NULL);
	assert_int_equal(stix_validate(o, "", NULL, &p), 0);
	json_decref(o);
	/* Microsecond precision for created is fine. */
	o = with_json(indicator, "created", "\"2016-04-06T20:03:48.000001Z\"");
	json_object_set_new(o, "modified", json_string("2016-04-06T20:03:48.000001Z"));
	assert_int_equal(stix_validate(o, "", NULL, &p), 0);
	json_decref(o);
	if (p.count)
		dump_problems(&p);
	assert_int_equal(p.count, 0);
	stix_problems_release(&p);
}

/* ---- invalid objects: each names the property path ------------------------ */

static void test_missing_required_property(void **state)
{
	(void)state;
	expect_problem(with(indicator, "pattern", NULL), "objects[0].pattern", "required");
	expect_problem(with(indicator, "valid_from", NULL), "objects[0].valid_from", "required");
	expect_problem(with(indicator, "created", NULL), "objects[0].created", "required");
	expect_problem(with(indicator, "id", NULL), "objects[0].id", "required");
	expect_problem(with(relationship, "target_ref", NULL), "objects[0].target_ref", "required");
	expect_problem(with(identity, "name", NULL), "objects[0].name", "required");
	expect_problem(with(ipv4, "value", NULL), "objects[0].value", "required");
	expect_problem(with(indicator, "type", NULL), "objects[0].type", "required");
}

static void test_wrong_kind_of_value(void **state)
{
	(void)state;
	expect_problem(with_json(malware, "is_family", "\"true\""), "objects[0].is_family",
	               "true or false");
	expect_problem(with_json(indicator, "revoked", "\"no\""), "objects[0].revoked", NULL);
	expect_problem(with_json(identity, "name", "42"), "objects[0].name", "string");
	expect_problem(with_json(sighting, "count", "\"50\""), "objects[0].count", "integer");
	expect_problem(with_json(file_sco, "size", "-1"), "objects[0].size", NULL);
}

static void test_bad_timestamp(void **state)
{
	json_t *o = with_json(indicator, "valid_from", "\"2016-13-01T00:00:00Z\"");
	struct stix_problems p;

	(void)state;
	/* The message of the header's own example, word for word. */
	stix_problems_init(&p);
	assert_int_equal(stix_validate(o, "objects[17]", NULL, &p), 1);
	assert_string_equal(p.msgs[0], "objects[17].valid_from: '2016-13-01T00:00:00Z': month out "
	                               "of range");
	stix_problems_release(&p);
	json_decref(o);

	expect_problem(with_json(indicator, "valid_from", "\"2016-01-01 00:00:00\""),
	               "objects[0].valid_from", NULL);
	expect_problem(with_json(indicator, "valid_from", "1451606400"), "objects[0].valid_from",
	               "timestamp");
	expect_problem(with_json(indicator, "modified", "\"2016-04-06T20:03:48.000+00:00\""),
	               "objects[0].modified", NULL);
}

static void test_modified_before_created(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "modified", "\"2016-04-06T20:03:47.999Z\""),
	               "objects[0].modified", "created");
}

static void test_created_without_milliseconds(void **state)
{
	json_t *o = with_json(indicator, "created", "\"2016-04-06T20:03:48Z\"");

	(void)state;
	json_object_set_new(o, "modified", json_string("2016-04-06T20:03:48.000Z"));
	expect_problem(o, "objects[0].created", "millisecond");
	expect_problem(with_json(indicator, "modified", "\"2016-04-06T20:03:48.5Z\""),
	               "objects[0].modified", "millisecond");
}

static void test_id_problems(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "id", "\"" MAL_ID "\""), "objects[0].id",
	               "indicator--");
	expect_problem(
	        with_json(indicator, "id", "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cdzz\""),
	        "objects[0].id", NULL);
	expect_problem(with_json(indicator, "id", "\"indicator--8e2e2d2b-17d4-4cbf-938f\""),
	               "objects[0].id", NULL);
	expect_problem(
	        with_json(indicator, "id", "\"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f\""),
	        "objects[0].id", NULL);
	/* The nil UUID is not an RFC 4122 UUID. */
	expect_problem(
	        with_json(indicator, "id", "\"indicator--00000000-0000-0000-0000-000000000000\""),
	        "objects[0].id", NULL);
	expect_problem(with_json(indicator, "created_by_ref", "\"identity--1234\""),
	               "objects[0].created_by_ref", NULL);
}

static void test_confidence_out_of_range(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "confidence", "101"), "objects[0].confidence", "100");
	expect_problem(with_json(indicator, "confidence", "-1"), "objects[0].confidence", NULL);
	expect_problem(with_json(indicator, "confidence", "50.5"), "objects[0].confidence", NULL);
}

static void test_empty_list(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "indicator_types", "[]"), "objects[0].indicator_types",
	               "empty");
	expect_problem(with_json(indicator, "object_marking_refs", "[]"),
	               "objects[0].object_marking_refs", "empty");
	expect_problem(with_json(custom, "x_acme_parts", "[]"), "objects[0].x_acme_parts", "empty");
}

static void test_labels_not_a_list(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "labels", "\"malicious\""), "objects[0].labels",
	               "list");
	expect_problem(with_json(indicator, "labels", "[\"ok\", 7]"), "objects[0].labels[1]",
	               "string");
}

static void test_external_reference_cve(void **state)
{
	(void)state;
	expect_problem(with_json(malware, "external_references",
	                         "[{\"source_name\": \"cve\", \"external_id\": \"CVE-16-1\"}]"),
	               "objects[0].external_references[0].external_id", "CVE");
	expect_problem(with_json(malware, "external_references",
	                         "[{\"source_name\": \"mitre\", \"url\": \"https://example.com\"},"
	                         " {\"source_name\": \"cve\"}]"),
	               "objects[0].external_references[1].external_id", NULL);
	expect_problem(with_json(malware, "external_references", "[{\"url\": \"https://x.org\"}]"),
	               "objects[0].external_references[0].source_name", "required");
}

static void test_relationship_to_sighting(void **state)
{
	(void)state;
	expect_problem(with_json(relationship, "target_ref", "\"" SIG_ID "\""),
	               "objects[0].target_ref", NULL);
	expect_problem(with_json(relationship, "source_ref", "\"" TLP_GREEN "\""),
	               "objects[0].source_ref", NULL);
	expect_problem(with_json(sighting, "where_sighted_refs", "[\"" MAL_ID "\"]"),
	               "objects[0].where_sighted_refs[0]", NULL);
}

static void test_location_with_nothing(void **state)
{
	json_t *o = load(location);

	(void)state;
	json_object_del(o, "region");
	json_object_del(o, "country");
	json_object_set_new(o, "name", json_string("somewhere"));
	expect_problem(o, "objects[0]", "region");
	expect_problem(with_json(location, "latitude", "48.8566"), "objects[0]", "longitude");
}

static void test_artifact_payload_and_url(void **state)
{
	json_t *o = with_json(artifact, "url", "\"https://example.com/a.bin\"");

	(void)state;
	json_object_set_new(
	        o, "hashes",
	        json_pack("{s:s}", "SHA-256",
	                  "bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c"));
	expect_problem(o, "objects[0]", "payload_bin");
	expect_problem(with(artifact, "payload_bin", NULL), "objects[0]", "payload_bin");
	expect_problem(with_json(artifact, "payload_bin", "\"not base64!\""),
	               "objects[0].payload_bin", "base64");
}

static void test_ipv4_values(void **state)
{
	(void)state;
	expect_problem(with_json(ipv4, "value", "\"999.1.1.1\""), "objects[0].value", "999.1.1.1");
	expect_problem(with_json(ipv4, "value", "\"1.2.3.4/33\""), "objects[0].value", NULL);
	expect_problem(with_json(ipv4, "value", "\"1.2.3\""), "objects[0].value", NULL);
	expect_problem(with_json(ipv4, "value", "\"1.2.3.4.5\""), "objects[0].value", NULL);
}

static void test_mac_addr_uppercase(void **state)
{
	(void)state;
	expect_problem(with_json(mac, "value", "\"D2:FB:49:24:37:18\""), "objects[0].value", NULL);
	expect_problem(with_json(mac, "value", "\"d2-fb-49-24-37-18\""), "objects[0].value", NULL);
}

static void test_reserved_property(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "severity", "\"high\""), "objects[0].severity",
	               "reserved");
	expect_problem(with_json(custom, "severity", "\"high\""), "objects[0].severity",
	               "reserved");
}

static void test_custom_property_names(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "x-acme-colour", "\"red\""), "objects[0].x-acme-colour",
	               NULL);
	expect_problem(with_json(indicator, "Xacme", "1"), "objects[0].Xacme", NULL);
	expect_problem(with_json(indicator, "ab", "1"), "objects[0].ab", NULL);
	/* A custom _ref property need not hold an identifier: a warning, as the
	 * official validator gives; a problem only with strict. */
	{
		struct stix_validate_opts strict = {1, NULL};
		struct stix_problems p;
		json_t *o = with_json(custom, "owner_ref", "\"nobody\"");

		stix_problems_init(&p);
		assert_int_equal(stix_validate(o, "objects[0]", NULL, &p), 0);
		assert_int_equal(p.nwarns, 1);
		assert_non_null(strstr(p.warns[0], "objects[0].owner_ref: 'nobody'"));
		stix_problems_reset(&p);
		assert_true(stix_validate(o, "objects[0]", &strict, &p) > 0);
		assert_int_equal(p.nwarns, 0);
		stix_problems_release(&p);
		json_decref(o);
	}
}

static void test_unknown_type_without_x(void **state)
{
	(void)state;
	expect_problem(with_json(custom, "type", "\"acme-widget\""), "objects[0].type",
	               "acme-widget");
	expect_problem(with_json(indicator, "type", "\"Indicator\""), "objects[0].type", NULL);
	expect_problem(with_json(indicator, "type", "\"bundle\""), "objects[0].type", "bundle");
}

static void test_extension_with_bad_type(void **state)
{
	char ext[256];

	(void)state;
	snprintf(ext, sizeof(ext), "{\"%s\": {\"extension_type\": \"new-thing\"}}", EXTDEF);
	expect_problem(with_json(indicator, "extensions", ext),
	               "objects[0].extensions." EXTDEF ".extension_type", "new-thing");
	expect_problem(with_json(indicator, "extensions", "{\"acme\": {}}"),
	               "objects[0].extensions.acme", NULL);
	/* And a good one passes. */
	snprintf(ext, sizeof(ext), "{\"%s\": {\"extension_type\": \"property-extension\"}}",
	         EXTDEF);
	{
		json_t *o = with_json(indicator, "extensions", ext);
		struct stix_problems p;

		stix_problems_init(&p);
		if (stix_validate(o, "", NULL, &p) != 0)
			dump_problems(&p);
		assert_int_equal(p.count, 0);
		stix_problems_release(&p);
		json_decref(o);
	}
}

static void test_granular_marking_both_ref_and_lang(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "granular_markings",
	                         "[{\"marking_ref\": \"" TLP_GREEN "\", \"lang\": \"en\","
	                         " \"selectors\": [\"name\"]}]"),
	               "objects[0].granular_markings[0]", "marking_ref");
	expect_problem(with_json(indicator, "granular_markings",
	                         "[{\"lang\": \"en\", \"selectors\": []}]"),
	               "objects[0].granular_markings[0].selectors", NULL);
}

static void test_observed_data_objects_and_refs(void **state)
{
	(void)state;
	expect_problem(with_json(observed, "objects",
	                         "{\"0\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.3\"}}"),
	               "objects[0]", "object_refs");
	expect_problem(with(observed, "object_refs", NULL), "objects[0]", "object_refs");
}

static void test_language_code(void **state)
{
	(void)state;
	expect_problem(with_json(indicator, "lang", "\"foo\""), "objects[0].lang", "RFC 5646");
	expect_problem(with_json(indicator, "lang", "\"english\""), "objects[0].lang", NULL);
}

static void test_software_language_path(void **state)
{
	(void)state;
	expect_problem(with_json(software, "languages", "[\"en\", \"foo\"]"),
	               "objects[0].languages[1]", "foo");
}

static void test_tlp_must_be_exactly_the_spec(void **state)
{
	json_t *o = load(tlp_green);

	(void)state;
	json_object_set_new(json_object_get(o, "definition"), "tlp", json_string("red"));
	expect_problem(o, "objects[0]", "7.2.1.4");
	expect_problem(with_json(tlp_green, "created", "\"2017-01-20T00:00:00.001Z\""),
	               "objects[0]", "TLP");
}

static void test_top_level_path_is_bare(void **state)
{
	json_t *o = with(indicator, "pattern", NULL);
	struct stix_problems p;

	(void)state;
	stix_problems_init(&p);
	assert_int_equal(stix_validate(o, "", NULL, &p), 1);
	assert_string_equal(p.msgs[0], "pattern: is required");
	stix_problems_release(&p);
	json_decref(o);
}

static void test_problems_accumulate_and_are_capped(void **state)
{
	json_t *o = load(custom);
	struct stix_problems p;
	char name[16];

	(void)state;
	for (int i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "bad-%02d", i);
		json_object_set_new(o, name, json_true());
	}
	stix_problems_init(&p);
	assert_int_equal(stix_validate(o, "", NULL, &p), 25);
	assert_int_equal(p.count, 20);
	assert_int_equal(p.dropped, 5);
	/* A second object adds to the same list; the return counts only its own. */
	json_decref(o);
	o = with(indicator, "pattern", NULL);
	assert_int_equal(stix_validate(o, "", NULL, &p), 1);
	assert_int_equal(p.dropped, 6);
	stix_problems_reset(&p);
	assert_int_equal(p.count, 0);
	assert_int_equal(stix_validate(o, "", NULL, &p), 1);
	assert_int_equal(p.count, 1);
	stix_problems_release(&p);
	stix_problems_release(NULL);
	json_decref(o);
}

static void test_not_an_object(void **state)
{
	json_t *a = json_array();
	struct stix_problems p;

	(void)state;
	stix_problems_init(&p);
	assert_int_equal(stix_validate(a, "objects[3]", NULL, &p), 1);
	assert_int_equal(strncmp(p.msgs[0], "objects[3]: ", 12), 0);
	stix_problems_release(&p);
	json_decref(a);
}

/* ---- deterministic ids and metadata ------------------------------------ */

static void test_sco_compute_id_spec_example(void **state)
{
	json_t *o = load("{\"type\": \"ipv4-addr\", \"value\": \"198.51.100.3\"}");
	char id[300];

	(void)state;
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_OK);
	assert_string_equal(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	/* Properties that do not contribute do not change it. */
	json_object_set_new(o, "spec_version", json_string("2.1"));
	json_object_set_new(o, "resolves_to_refs",
	                    json_pack("[s]", "mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00"));
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_OK);
	assert_string_equal(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	json_decref(o);
}

static void test_sco_compute_id_several_properties(void **state)
{
	/* RFC 8785 orders the keys, whatever order the object has them in. */
	json_t *o = load(
	        "{\"type\": \"email-message\", \"subject\": \"Hello\", \"is_multipart\": false,"
	        " \"from_ref\": \"email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed\","
	        " \"body\": \"Hi there\"}");
	char id[300];

	(void)state;
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_OK);
	assert_string_equal(id, "email-message--cf5ed0e7-0922-5504-bb7e-3832fb34fce6");
	json_decref(o);

	o = load("{\"type\": \"file\", \"name\": \"foo.exe\", \"size\": 12}");
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_OK);
	assert_string_equal(id, "file--7af1312c-4402-5d2f-b169-b118d73b85c4");
	json_decref(o);
}

static void test_sco_compute_id_not_applicable(void **state)
{
	json_t *o;
	char id[300];

	(void)state;
	o = load(indicator);
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_ENOTFOUND);
	json_decref(o);
	o = load("{\"type\": \"artifact\", \"url\": \"https://example.com/x\"}");
	assert_int_equal(stix_sco_compute_id(o, id, sizeof(id)), TIX_ENOTFOUND);
	json_decref(o);
	assert_int_equal(stix_is_sco_type("ipv4-addr"), 1);
	assert_int_equal(stix_is_sco_type("indicator"), 0);
	assert_int_equal(stix_is_sco_type("archive-ext"), 0);
	assert_int_equal(stix_is_sco_type("x-unknown"), 0);
}

static void test_sco_ensure_id(void **state)
{
	struct tix_error err;
	json_t *o;
	struct tix_uuid u;
	const char *id;

	(void)state;
	tix_error_clear(&err);
	/* An SCO without an id gets its deterministic one. */
	o = load("{\"type\": \"ipv4-addr\", \"value\": \"198.51.100.3\"}");
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	                    "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	json_decref(o);

	/* An SCO with an id keeps it. */
	o = load(ipv4);
	json_object_set_new(o, "id",
	                    json_string("ipv4-addr--ff26c055-6336-4bc5-b98d-13d6226742dd"));
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	                    "ipv4-addr--ff26c055-6336-4bc5-b98d-13d6226742dd");
	json_decref(o);

	/* An indicator is left alone, even without an id. */
	o = with(indicator, "id", NULL);
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	assert_null(json_object_get(o, "id"));
	json_decref(o);
	o = load(indicator);
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	assert_string_equal(json_string_value(json_object_get(o, "id")), IND_ID);
	json_decref(o);

	/* No contributing property: a random UUIDv4 id that then validates. */
	o = load("{\"type\": \"artifact\", \"url\": \"https://example.com/x\"}");
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	id = json_string_value(json_object_get(o, "id"));
	assert_non_null(id);
	assert_int_equal(strncmp(id, "artifact--", 10), 0);
	assert_int_equal(tix_uuid_parse(id + 10, &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 4);
	json_decref(o);

	/* A type without ID-contributing properties at all (process). */
	o = load("{\"type\": \"process\", \"pid\": 1221}");
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	id = json_string_value(json_object_get(o, "id"));
	assert_non_null(id);
	assert_int_equal(strncmp(id, "process--", 9), 0);
	assert_int_equal(tix_uuid_parse(id + 9, &u), TIX_OK);
	assert_int_equal(tix_uuid_version(&u), 4);
	json_decref(o);
}

static void test_ensured_id_validates(void **state)
{
	struct tix_error err;
	struct stix_problems p;
	json_t *o = load("{\"type\": \"domain-name\", \"spec_version\": \"2.1\","
	                 " \"value\": \"example.com\"}");

	(void)state;
	assert_int_equal(stix_sco_ensure_id(o, &err), TIX_OK);
	stix_problems_init(&p);
	if (stix_validate(o, "", NULL, &p) != 0)
		dump_problems(&p);
	assert_int_equal(p.count, 0);
	stix_problems_release(&p);
	json_decref(o);
}

static void test_meta_get(void **state)
{
	struct stix_meta m;
	struct tix_error err;
	json_t *o;

	(void)state;
	o = with_json(indicator, "modified", "\"2016-05-12T08:17:27.123Z\"");
	json_object_set_new(o, "revoked", json_true());
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_string_equal(m.id, IND_ID);
	assert_string_equal(m.type, "indicator");
	assert_string_equal(m.spec_version, "2.1");
	assert_string_equal(m.created, "2016-04-06T20:03:48.000000000Z");
	assert_string_equal(m.modified, "2016-05-12T08:17:27.123000000Z");
	assert_int_equal(m.revoked, 1);
	json_decref(o);

	/* Without modified, modified is created (a marking definition). */
	o = load(tlp_green);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_string_equal(m.created, "2017-01-20T00:00:00.000000000Z");
	assert_string_equal(m.modified, "2017-01-20T00:00:00.000000000Z");
	assert_int_equal(m.revoked, 0);
	json_decref(o);

	/* An SCO has neither created nor modified; without spec_version it is 2.1. */
	o = with(ipv4, "spec_version", NULL);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_OK);
	assert_string_equal(m.created, "");
	assert_string_equal(m.modified, "");
	assert_string_equal(m.spec_version, "2.1"); /* a top-level SCO is STIX 2.1 */
	json_decref(o);

	/* No id: refused. */
	o = with(indicator, "id", NULL);
	tix_error_clear(&err);
	assert_int_equal(stix_meta_get(o, &m, &err), TIX_EINVAL);
	json_decref(o);
}

/* Regression (found by fuzz_stix_import): a problem whose JSON path is
 * longer than the message buffer (a hostile 2,000-character hash name)
 * is reported, cut, instead of writing past the buffer. */
static void test_very_long_paths_are_cut(void **state)
{
	struct stix_problems p;
	json_t *o;
	char name[2001];

	(void)state;
	memset(name, 'H', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	o = json_pack("{sssssss{ss}}", "type", "file", "spec_version", "2.1", "id",
	              "file--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", "hashes", name, "abc");
	assert_non_null(o);
	stix_problems_init(&p);
	assert_true(stix_validate(o, "objects[0]", NULL, &p) > 0);
	assert_true(p.count > 0);
	assert_non_null(strstr(p.msgs[0], "objects[0].hashes.HHHH"));
	assert_true(strlen(p.msgs[0]) < 640);
	stix_problems_release(&p);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_very_long_paths_are_cut),
	        cmocka_unit_test(test_valid_examples_pass),
	        cmocka_unit_test(test_valid_variants_pass),
	        cmocka_unit_test(test_missing_required_property),
	        cmocka_unit_test(test_wrong_kind_of_value),
	        cmocka_unit_test(test_bad_timestamp),
	        cmocka_unit_test(test_modified_before_created),
	        cmocka_unit_test(test_created_without_milliseconds),
	        cmocka_unit_test(test_id_problems),
	        cmocka_unit_test(test_confidence_out_of_range),
	        cmocka_unit_test(test_empty_list),
	        cmocka_unit_test(test_labels_not_a_list),
	        cmocka_unit_test(test_external_reference_cve),
	        cmocka_unit_test(test_relationship_to_sighting),
	        cmocka_unit_test(test_location_with_nothing),
	        cmocka_unit_test(test_artifact_payload_and_url),
	        cmocka_unit_test(test_ipv4_values),
	        cmocka_unit_test(test_mac_addr_uppercase),
	        cmocka_unit_test(test_reserved_property),
	        cmocka_unit_test(test_custom_property_names),
	        cmocka_unit_test(test_unknown_type_without_x),
	        cmocka_unit_test(test_extension_with_bad_type),
	        cmocka_unit_test(test_granular_marking_both_ref_and_lang),
	        cmocka_unit_test(test_observed_data_objects_and_refs),
	        cmocka_unit_test(test_language_code),
	        cmocka_unit_test(test_software_language_path),
	        cmocka_unit_test(test_tlp_must_be_exactly_the_spec),
	        cmocka_unit_test(test_top_level_path_is_bare),
	        cmocka_unit_test(test_problems_accumulate_and_are_capped),
	        cmocka_unit_test(test_not_an_object),
	        cmocka_unit_test(test_sco_compute_id_spec_example),
	        cmocka_unit_test(test_sco_compute_id_several_properties),
	        cmocka_unit_test(test_sco_compute_id_not_applicable),
	        cmocka_unit_test(test_sco_ensure_id),
	        cmocka_unit_test(test_ensured_id_validates),
	        cmocka_unit_test(test_meta_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
