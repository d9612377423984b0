/*
 * tests/unit/formats/test_formats.c — the MISP, CSV and list readers without
 * a store: the objects and ids they write, the records they refuse and the
 * line or JSON path they name, format detection and the --map parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "formats/formats.h"
#include "stix/stix.h"

struct said {
	char last[700];
	size_t n;
};

static void remember(void *ctx, int is_error, const char *where, const char *msg)
{
	struct said *s = ctx;

	(void)is_error;
	snprintf(s->last, sizeof(s->last), "%s: %s", where, msg);
	s->n++;
}

/* Converts and parses the bundle; returns its objects (caller decrefs). */
static json_t *misp(const char *text, struct formats_log *log)
{
	struct tix_buf out;
	struct tix_error err;
	size_t count = 99;
	json_t *b;

	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	assert_int_equal(
	        formats_misp_to_stix(text, strlen(text), "t.json", &out, &count, log, &err),
	        TIX_OK);
	b = stix_json_parse(tix_buf_str(&out), tix_buf_len(&out), "out", &err);
	assert_non_null(b);
	tix_buf_release(&out);
	assert_int_equal(json_array_size(json_object_get(b, "objects")), count);
	json_incref(json_object_get(b, "objects"));
	{
		json_t *objs = json_object_get(b, "objects");

		json_decref(b);
		return objs;
	}
}

static const json_t *find(const json_t *objs, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach (objs, i, o)
		if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0)
			return o;
	return NULL;
}

static void misp_attribute_to_ids_gives_observable_indicator_and_relationship(void **state)
{
	struct said s = {"", 0};
	struct formats_log log = {remember, &s, 0, 0};
	json_t *objs;
	const json_t *ind;

	(void)state;
	objs = misp(
	        "{\"Event\":{\"uuid\":\"d402185f-c129-4f65-8678-43edb2cee1cf\",\"info\":\"e\","
	        "\"timestamp\":\"1603642920\",\"Orgc\":{\"name\":\"MISP-Project\",\"uuid\":"
	        "\"a0c22599-9e58-4da4-96ac-7051603fa951\"},\"Attribute\":[{\"uuid\":"
	        "\"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f\",\"type\":\"AS\",\"value\":\"AS174\","
	        "\"category\":\"Network activity\",\"to_ids\":true,\"timestamp\":\"1603642920\"}]}}",
	        &log);
	assert_int_equal(log.errors, 0);
	/* identity, grouping, observed-data, SCO, indicator, relationship */
	assert_int_equal(json_array_size(objs), 6);
	assert_non_null(find(objs, "identity--a0c22599-9e58-4da4-96ac-7051603fa951"));
	assert_non_null(find(objs, "grouping--d402185f-c129-4f65-8678-43edb2cee1cf"));
	assert_non_null(find(objs, "autonomous-system--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"));
	ind = find(objs, "indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f");
	assert_non_null(ind);
	assert_string_equal(json_string_value(json_object_get(ind, "created")),
	                    "2020-10-25T16:22:00.000Z");
	/* the id MISP's export derives (misp_attributes_to_stix21.json, "AS") */
	assert_non_null(find(objs, "relationship--860e90aa-53db-5b32-b295-3c3926c82f10"));
	json_decref(objs);
}

static void misp_refusals_name_the_attribute(void **state)
{
	struct said s = {"", 0};
	struct formats_log log = {remember, &s, 0, 0};
	json_t *objs;

	(void)state;
	objs = misp(
	        "{\"response\":{\"Attribute\":[{\"uuid\":\"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f\","
	        "\"type\":\"domain|ip\",\"value\":\"no-bar\",\"timestamp\":\"1\"}]}}",
	        &log);
	assert_int_equal(log.errors, 1);
	assert_non_null(strstr(s.last, "t.json: response.Attribute[0]: value 'no-bar'"));
	assert_int_equal(json_array_size(objs), 0);
	json_decref(objs);
	log.errors = 0;
	objs = misp("{\"Attribute\":[{\"uuid\":\"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f\","
	            "\"type\":\"iban\",\"value\":\"DE00\",\"timestamp\":\"1\"}]}",
	            &log);
	assert_int_equal(log.errors, 0);
	assert_int_equal(log.warnings, 1);
	assert_non_null(find(objs, "x-misp-object-iban--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"));
	json_decref(objs);
}

static void misp_not_misp_is_an_error(void **state)
{
	struct formats_log log = {NULL, NULL, 0, 0};
	struct tix_buf out;
	struct tix_error err;
	size_t n;

	(void)state;
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	assert_int_equal(formats_misp_to_stix("{\"type\":\"x\"}", 12, "x", &out, &n, &log, &err),
	                 TIX_EINVAL);
	assert_int_equal(formats_misp_to_stix("{\"Event\":", 9, "x", &out, &n, &log, &err),
	                 TIX_EPARSE);
	tix_buf_release(&out);
}

static void detect_by_content(void **state)
{
	(void)state;
	assert_int_equal(formats_detect("{\"Event\":{}}", 12), FORMATS_MISP);
	assert_int_equal(formats_detect("\xEF\xBB\xBF {\n \"response\":[]}", 19), FORMATS_MISP);
	assert_int_equal(formats_detect("[{\"Event\":{}}]", 14), FORMATS_MISP);
	assert_int_equal(formats_detect("{\"type\":\"bundle\"}", 17), FORMATS_STIX);
	assert_int_equal(formats_detect("[]", 2), FORMATS_STIX);
	assert_int_equal(formats_detect("evil.example\n", 13), FORMATS_AUTO);
	assert_int_equal(formats_detect("", 0), FORMATS_AUTO);
}

static void csv_map_parses_and_refuses(void **state)
{
	struct formats_csv_map m;
	char msg[200];

	(void)state;
	assert_int_equal(formats_csv_map_parse("type=1,value=2,first_seen=4", &m, msg, sizeof(msg)),
	                 0);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.value, 2);
	assert_int_equal(m.first_seen, 4);
	assert_int_equal(formats_csv_map_parse("type=1", &m, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "value=N"));
	assert_int_equal(formats_csv_map_parse("value=0", &m, msg, sizeof(msg)), -1);
	assert_int_equal(formats_csv_map_parse("colour=3,value=1", &m, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "colour"));
	assert_int_equal(formats_csv_map_parse("value=1x", &m, msg, sizeof(msg)), -1);
}

static void value_types_are_inferred(void **state)
{
	(void)state;
	assert_int_equal(formats_value_type_infer("1.2.3.4"), FV_IPV4);
	assert_int_equal(formats_value_type_infer("10.0.0.0/8"), FV_IPV4);
	assert_int_equal(formats_value_type_infer("2001:db8::1"), FV_IPV6);
	assert_int_equal(formats_value_type_infer("https://a.example/"), FV_URL);
	assert_int_equal(formats_value_type_infer("a@b.example"), FV_EMAIL);
	assert_int_equal(formats_value_type_infer("b.example"), FV_DOMAIN);
	assert_int_equal(formats_value_type_infer("44d88612fea8a8f36de82e1278abb02f"), FV_MD5);
	assert_int_equal(formats_value_type_infer("not a value"), FV_NONE);
	assert_int_equal(formats_value_type_infer("1.2.3.4/33"), FV_NONE);
	assert_int_equal(formats_value_type_parse("file-sha256"), FV_SHA256);
	assert_int_equal(formats_value_type_parse("nonsense"), FV_NONE);
}

static size_t csv(const char *text, const struct formats_text_opts *o, struct said *s,
                  size_t *errors)
{
	struct formats_log log = {remember, s, 0, 0};
	struct tix_buf out;
	struct tix_error err;
	size_t n = 0;

	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	assert_int_equal(formats_csv_to_stix(text, strlen(text), "f.csv", o, &out, &n, &log, &err),
	                 TIX_OK);
	{
		json_t *b = stix_json_parse(tix_buf_str(&out), tix_buf_len(&out), "o", &err);

		assert_non_null(b);
		json_decref(b);
	}
	tix_buf_release(&out);
	*errors = log.errors;
	return n;
}

static void csv_quoting_and_line_numbers(void **state)
{
	struct formats_text_opts o = {0};
	struct said s = {"", 0};
	size_t errors;

	(void)state;
	o.map.value = 2;
	o.tlp = STIX_TLP_UNSET;
	o.timestamp = "2024-01-01T00:00:00.000Z";
	assert_int_equal(csv("x,a.example\r\n\"multi\nline\",b.example\n\"q\"\"d\",c.example\n", &o,
	                     &s, &errors),
	                 3);
	assert_int_equal(errors, 0);
	/* the record after a two-line one starts on line 4 */
	assert_int_equal(
	        csv("x,a.example\n\"multi\nline\",b.example\nx,nope nope\n", &o, &s, &errors), 2);
	assert_int_equal(errors, 1);
	assert_non_null(strstr(s.last, "f.csv:4:"));
	/* a lone CR as the last byte ends the record (fuzz_csv found a read past it) */
	assert_int_equal(csv("x,a.example\r", &o, &s, &errors), 1);
	assert_int_equal(csv("x\n", &o, &s, &errors), 0);
	assert_non_null(strstr(s.last, "f.csv:1: 1 columns, the map needs 2"));
}

static void list_needs_a_type(void **state)
{
	struct formats_text_opts o = {0};
	struct formats_log log = {NULL, NULL, 0, 0};
	struct tix_buf out;
	struct tix_error err;
	size_t n;

	(void)state;
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	o.tlp = STIX_TLP_UNSET;
	o.timestamp = "2024-01-01T00:00:00.000Z";
	assert_int_equal(formats_list_to_stix("a.example\n", 10, "l", &o, &out, &n, &log, &err),
	                 TIX_EUSAGE);
	o.type = FV_DOMAIN;
	tix_buf_reset(&out);
	assert_int_equal(formats_list_to_stix("a.example\n#c\n\nb.example", 23, "l", &o, &out, &n,
	                                      &log, &err),
	                 TIX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(log.errors, 0);
	tix_buf_release(&out);
}

static void manifest_entries_are_checked(void **state)
{
	struct said s = {"", 0};
	struct formats_log log = {remember, &s, 0, 0};
	struct formats_feed_entry *e;
	struct tix_error err;
	size_t n;
	const char *m = "{\"5F0A1C2E-0A6B-4D1E-9C0A-00000000000B\":{\"timestamp\":\"20\"},"
	                "\"5f0a1c2e-0a6b-4d1e-9c0a-00000000000a\":{\"timestamp\":10},"
	                "\"../x\":{\"timestamp\":\"1\"},"
	                "\"5f0a1c2e-0a6b-4d1e-9c0a-00000000000c\":{}}";

	(void)state;
	assert_int_equal(formats_misp_manifest(m, strlen(m), "manifest.json", &e, &n, &log, &err),
	                 TIX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(log.errors, 2);
	assert_string_equal(e[0].uuid, "5f0a1c2e-0a6b-4d1e-9c0a-00000000000a"); /* oldest first */
	assert_string_equal(e[1].uuid, "5f0a1c2e-0a6b-4d1e-9c0a-00000000000b");
	free(e);
}

static void hashes_csv_lines_of_one_event(void **state)
{
	const char *csv =
	        "2a0f2f6d1b7c9b1f0a2d6e8c9b1a0f3e,5f0a1c2e-0a6b-4d1e-9c0a-00000000000a\r\n"
	        "2A0F2F6D1B7C9B1F0A2D6E8C9B1A0F3F,5F0A1C2E-0A6B-4D1E-9C0A-00000000000A\n"
	        "0000000000000000000000000000000,5f0a1c2e-0a6b-4d1e-9c0a-00000000000a\n"
	        "zz0f2f6d1b7c9b1f0a2d6e8c9b1a0f3e,5f0a1c2e-0a6b-4d1e-9c0a-00000000000a\n"
	        "1111111111111111111111111111111a,5f0a1c2e-0a6b-4d1e-9c0a-00000000000b\n"
	        "\n,,\n"
	        "3a0f2f6d1b7c9b1f0a2d6e8c9b1a0f3e,5f0a1c2e-0a6b-4d1e-9c0a-00000000000a";
	json_t *set = json_object();

	(void)state;
	/* two good lines, the last without its newline; short, non-hex and
	 * other events' lines left out; case folded */
	assert_int_equal(formats_misp_hashes_for(csv, strlen(csv),
	                                         "5f0a1c2e-0a6b-4d1e-9c0a-00000000000a", set),
	                 3);
	assert_int_equal(json_object_size(set), 3);
	assert_non_null(json_object_get(set, "2a0f2f6d1b7c9b1f0a2d6e8c9b1a0f3f"));
	assert_non_null(json_object_get(set, "3a0f2f6d1b7c9b1f0a2d6e8c9b1a0f3e"));
	assert_null(json_object_get(set, "1111111111111111111111111111111a"));
	assert_int_equal(
	        formats_misp_hashes_for(csv, 0, "5f0a1c2e-0a6b-4d1e-9c0a-00000000000a", set), 0);
	json_decref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(misp_attribute_to_ids_gives_observable_indicator_and_relationship),
	        cmocka_unit_test(misp_refusals_name_the_attribute),
	        cmocka_unit_test(misp_not_misp_is_an_error),
	        cmocka_unit_test(detect_by_content),
	        cmocka_unit_test(csv_map_parses_and_refuses),
	        cmocka_unit_test(value_types_are_inferred),
	        cmocka_unit_test(csv_quoting_and_line_numbers),
	        cmocka_unit_test(list_needs_a_type),
	        cmocka_unit_test(manifest_entries_are_checked),
	        cmocka_unit_test(hashes_csv_lines_of_one_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
