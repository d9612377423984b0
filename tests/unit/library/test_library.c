/*
 * tests/unit/library/test_library.c — the resource library's checks: the
 * fields of a resource (title, BCP 47, ISO 3166, audiences, topics, plain
 * text, URLs and the block list), CSV rows, the query's terms by script,
 * and a resource stored and found again (migration 24's index).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../tmpdir.h"
#include "library/library.h"
#include "store/store_library.h"

static const struct library_ctx ctx0 = {NULL, NULL, "cert", 1796000000000000, "test"};

static json_t *make(const char *json, struct tix_error *err)
{
	json_t *in = json_loads(json, 0, NULL), *o;

	assert_non_null(in);
	o = library_resource_make(&ctx0, in, NULL, NULL, err);
	json_decref(in);
	return o;
}

static void refused(const char *json, const char *why)
{
	struct tix_error err;
	json_t *o = make(json, &err);

	if (o != NULL)
		fail_msg("not refused: %s", json);
	if (strstr(err.msg, why) == NULL)
		fail_msg("%s: '%s' not in '%s'", json, why, err.msg);
}

static void fields_are_checked_and_normalised(void **state)
{
	struct tix_error err;
	json_t *o;

	(void)state;
	o = make("{\"title\":\"Guide\",\"inLanguage\":\"PT-br; sr-latn-RS ;zh-Hant\","
	         "\"country\":\"ke;BR\",\"audience\":\"Policy makers;CERT staff\","
	         "\"topic\":\"online fraud;X-Sexting\",\"url\":\"https://a.example/x\","
	         "\"licence\":\"CC-BY-4.0\",\"ageRange\":\"8-12\",\"title@fr\":\"Guide FR\"}",
	         &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")), LIBRARY_TYPE);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "in_language"), 0)),
	                    "pt-BR");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "in_language"), 1)),
	                    "sr-Latn-RS");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "country"), 0)),
	                    "KE");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "audience"), 0)),
	                    "policy-makers");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "topics"), 1)),
	                    "x-sexting");
	assert_string_equal(json_string_value(json_object_get(o, "license")), "CC-BY-4.0");
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(o, "translations"), "fr"), "title")),
	        "Guide FR");
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0)),
	        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
	json_decref(o);
	/* the same org and URL: the same id (an import made again makes versions) */
	{
		json_t *a = make("{\"title\":\"A\",\"url\":\"https://a.example/x\"}", &err);
		json_t *b = make("{\"title\":\"B\",\"url\":\"https://a.example/x\"}", &err);

		assert_string_equal(json_string_value(json_object_get(a, "id")),
		                    json_string_value(json_object_get(b, "id")));
		json_decref(a);
		json_decref(b);
	}
}

static void bad_fields_are_refused_with_the_reason(void **state)
{
	(void)state;
	refused("{\"description\":\"no title\"}", "title: missing");
	refused("{\"title\":\"  \"}", "title: missing");
	refused("{\"title\":\"A\",\"inLanguage\":\"english\"}", "not a BCP 47");
	refused("{\"title\":\"A\",\"inLanguage\":\"en--GB\"}", "not a BCP 47");
	refused("{\"title\":\"A\",\"inLanguage\":\"en-GB-US\"}", "not a BCP 47");
	refused("{\"title\":\"A\",\"country\":\"UK\"}", "not an ISO 3166-1");
	refused("{\"title\":\"A\",\"country\":\"KEN\"}", "not an ISO 3166-1");
	refused("{\"title\":\"A\",\"audience\":\"hackers\"}", "audience: 'hackers'");
	refused("{\"title\":\"A\",\"topic\":\"gambling\"}", "not in the topic list");
	refused("{\"title\":\"A\",\"description\":\"<script>x</script>\"}", "HTML markup");
	refused("{\"title\":\"A\",\"publisher\":\"<!-- x -->\"}", "HTML markup");
	refused("{\"title\":\"A\",\"title@de\":\"<b>x</b>\"}", "HTML markup");
	refused("{\"title\":\"A\\u0007\"}", "control character");
	refused("{\"title\":\"A\",\"url\":\"file:///etc/passwd\"}", "only http://");
	refused("{\"title\":\"A\",\"url\":\"https://\"}", "no host");
	refused("{\"title\":\"A\",\"url\":\"https://a.example/<x>\"}", "angle bracket");
	refused("{\"title\":\"A\",\"url\":\"https://bad%2eexample/\"}", "xn--");
	refused("{\"title\":\"A\",\"url\":\"https://b\u00e4d.example/\"}", "xn--");
	refused("{\"title\":\"A\",\"tlp\":\"amber\"}", "clear or green");
	refused("{\"title\":\"A\",\"colour\":\"red\"}", "'colour' is not a field");
	refused("{\"title\":\"A\",\"file\":\"../x\"}", "plain file name");
	refused("{\"title\":\"A\",\"ageRange\":\"12-8\"}", "FROM-TO");
	refused("{\"title\":\"A\",\"type\":\"indicator\"}", "a resource is an x-tix-resource");
	refused("{\"title\":\"A\",\"object_marking_refs\":[\"marking-definition--"
	        "e828b379-4e03-4974-9ac4-e53a884c97c1\"]}",
	        "TLP:CLEAR or TLP:GREEN");
	{
		struct tix_error err;
		json_t *o = make("{\"title\":\"1 < 2 & 3 > 2\"}", &err);

		assert_non_null(o); /* a < b is text, not markup */
		json_decref(o);
	}
}

static int block_one(void *arg, const char *host)
{
	return library_host_matches(host, arg);
}

static void hosts_and_the_block_list(void **state)
{
	char host[256];
	const char *why = NULL;
	struct tix_error err;
	json_t *in, *o;

	(void)state;
	assert_int_equal(library_url_host("HTTPS://user:pw@Sub.Bad.Example.:8443/p?q#f", host,
	                                  sizeof(host), &why),
	                 0);
	assert_string_equal(host, "sub.bad.example");
	assert_int_equal(library_url_host("http://[2001:db8::1]:80/", host, sizeof(host), &why), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(
	        library_url_host("http://good.example@bad.example/", host, sizeof(host), &why), 0);
	assert_string_equal(host, "bad.example");
	assert_true(library_host_matches("sub.bad.example", "bad.example"));
	assert_true(library_host_matches("bad.example", "bad.example"));
	assert_false(library_host_matches("notbad.example", "bad.example"));
	assert_false(library_host_matches("bad.example.org", "bad.example"));
	in = json_loads("{\"title\":\"A\",\"url\":\"https://www.BAD.example/x\"}", 0, NULL);
	o = library_resource_make(&ctx0, in, block_one, (void *)"bad.example", &err);
	assert_null(o);
	assert_non_null(strstr(err.msg, "www.bad.example is on the library's block list"));
	json_decref(in);
}

/* A browser reads 0x7f000001, 2130706433, 127.1 and 0177.0.0.1 all as
 * 127.0.0.1: such a host is refused (it would pass a block of 127.0.0.1),
 * a dotted quad kept, an IPv6 address compared in one form. */
static void address_hosts_in_one_form(void **state)
{
	static const char *const refused_hosts[] = {
	        "http://0x7f000001/", "http://2130706433/", "http://127.1/",
	        "http://0177.0.0.1/", "http://127.0.0.01/", "http://evil.example.0x10/",
	        "http://256.1.1.1/",  "http://[not:v6]/",
	};
	char host[256];
	const char *why = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(refused_hosts) / sizeof(refused_hosts[0]); i++) {
		why = NULL;
		assert_int_equal(library_url_host(refused_hosts[i], host, sizeof(host), &why), -1);
		assert_non_null(why);
	}
	assert_int_equal(library_url_host("http://127.0.0.1:8080/x", host, sizeof(host), &why), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(library_url_host("http://[2001:DB8:0:0::1]/", host, sizeof(host), &why),
	                 0);
	assert_string_equal(host, "2001:db8::1");
	/* an IPv4-mapped address is the IPv4 address to a browser */
	assert_int_equal(library_url_host("http://[::ffff:127.0.0.1]/", host, sizeof(host), &why),
	                 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(library_url_host("http://[::FFFF:7f00:1]/", host, sizeof(host), &why), 0);
	assert_string_equal(host, "127.0.0.1");
	/* a name whose last label has letters is a name, digits elsewhere or not */
	assert_int_equal(library_url_host("http://1.2.3.example/", host, sizeof(host), &why), 0);
	assert_string_equal(host, "1.2.3.example");
}

static void csv_rows_take_a_header_and_lists(void **state)
{
	static const char text[] = "\xef\xbb\xbftitle,inLanguage,topic,title@fr\r\n"
	                           "\"Guide, \"\"quoted\"\"\",en;fr,privacy;gaming,Le guide\r\n"
	                           "\r\n"
	                           "Second,th,,\r\n";
	struct tix_error err;
	json_t *rows = library_csv_rows(text, sizeof(text) - 1, "t.csv", &err), *o;

	(void)state;
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "title")),
	                    "Guide, \"quoted\"");
	assert_null(json_object_get(json_array_get(rows, 1), "topic")); /* empty: left out */
	json_object_del(json_array_get(rows, 0), "__line");
	o = library_resource_make(&ctx0, json_array_get(rows, 0), NULL, NULL, &err);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "topics")), 2);
	json_decref(o);
	json_decref(rows);
	assert_null(library_csv_rows("title,colour\nA,b\n", 17, "t.csv", &err));
	assert_non_null(strstr(err.msg, "'colour' is not a field"));
	assert_null(library_csv_rows("title,title\nA,b\n", 16, "t.csv", &err));
	assert_null(library_csv_rows("title\n\"open\n", 12, "t.csv", &err));
	assert_null(library_csv_rows("title\nA,B\n", 10, "t.csv", &err));
	assert_non_null(strstr(err.where, "t.csv:2"));
	assert_null(library_csv_rows("title\n\xff\n", 8, "t.csv", &err));
}

static void terms_split_by_script(void **state)
{
	char *w[17], *n[17], buf[1024];
	size_t nw, nn;
	const char *why = NULL;

	(void)state;
	assert_int_equal(library_terms("Protección, «línea»; 网络欺凌。ครู AI-safety", w, &nw, n,
	                               &nn, 16, buf, sizeof(buf), &why),
	                 6);
	assert_int_equal(nw, 4);
	assert_string_equal(w[0], "protección");
	assert_string_equal(w[1], "línea");
	assert_string_equal(w[2], "ai");
	assert_string_equal(w[3], "safety");
	assert_int_equal(nn, 2);
	assert_string_equal(n[0], "网络欺凌");
	assert_string_equal(n[1], "ครู");
	assert_int_equal(library_terms("\xc3", w, &nw, n, &nn, 16, buf, sizeof(buf), &why), -1);
}

static void stored_resources_are_found_and_a_refused_list_stores_nothing(void **state)
{
	char dir[512], path[600];
	struct store *s;
	struct store_collection coll;
	struct tix_error err;
	struct library_ctx c = ctx0;
	struct library_query q = {0};
	json_t *in, *out = NULL, *ids = json_array();
	size_t bad = 0;

	(void)state;
	assert_int_equal(test_tmpdir_make("library", dir, sizeof(dir), path, sizeof(path)), 0);
	assert_non_null(s = store_open(path, NULL, NULL));
	assert_int_equal(store_collection_get(s, "library", 1, &coll, &err), TIX_OK);
	c.s = s;
	c.collection = &coll;
	c.org = NULL;
	in = json_loads("[{\"title\":\"Школа без травли\",\"inLanguage\":\"ru\"},"
	                "{\"title\":\"Bezpieczeństwo w sieci\",\"inLanguage\":\"pl\"}]",
	                0, NULL);
	assert_int_equal(library_put(&c, in, ids, &bad, &err), TIX_OK);
	json_decref(in);
	q.text = "bezpieczenstwo";
	assert_int_equal(library_search(s, &q, &out, &err), TIX_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "total")), 1);
	json_decref(out);
	/* a blocked host refuses the whole list: nothing more is stored */
	assert_int_equal(store_library_block(s, "bad.example", "test", 1, 1, &err), TIX_OK);
	in = json_loads("[{\"title\":\"Fine\"},{\"title\":\"B\",\"url\":\"http://bad.example/\"}]",
	                0, NULL);
	assert_int_equal(library_put(&c, in, NULL, &bad, &err), TIX_EINVAL);
	assert_int_equal(bad, 1);
	json_decref(in);
	q.text = NULL;
	assert_int_equal(library_search(s, &q, &out, &err), TIX_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "total")), 2);
	json_decref(out);
	json_decref(ids);
	store_close(s);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(fields_are_checked_and_normalised),
	        cmocka_unit_test(bad_fields_are_refused_with_the_reason),
	        cmocka_unit_test(hosts_and_the_block_list),
	        cmocka_unit_test(address_hosts_in_one_form),
	        cmocka_unit_test(csv_rows_take_a_header_and_lists),
	        cmocka_unit_test(terms_split_by_script),
	        cmocka_unit_test(stored_resources_are_found_and_a_refused_list_stores_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
