/*
 * Unit tests for stix/reader.c (and the limits of stix/json.c it relies on):
 * bundles, arrays and single objects stream their objects with JSON paths;
 * malformed, duplicate-keyed, invalid-UTF-8, too-deep or trailing-garbage
 * input is refused with an error that says where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "stix/stix.h"
#include "stix/stix_int.h"

#define BUNDLE_ID "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"
#define IND_ID    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define MAL_ID    "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
#define IDT_ID    "identity--311b2d2d-f010-4473-83ec-1edf84858f4c"

#define MAXOBJ 16

/* What reading a whole document gave. */
struct result {
	enum tix_err open_rc; /* stix_reader_open */
	enum tix_err rc;      /* the last stix_reader_next */
	enum stix_doc_kind kind;
	size_t n; /* objects read */
	char paths[MAXOBJ][48];
	char ids[MAXOBJ][128];
	char bundle_id[128];
	struct tix_error err;
};

static void read_doc_len(const char *doc, size_t len, struct result *res)
{
	struct stix_reader *r = NULL;
	json_t *obj;
	const char *path;

	memset(res, 0, sizeof(*res));
	tix_error_clear(&res->err);
	res->open_rc = stix_reader_open(doc, len, "test.json", &r, &res->err);
	if (res->open_rc != TIX_OK) {
		assert_null(r);
		res->rc = res->open_rc;
		return;
	}
	assert_non_null(r);
	res->kind = stix_reader_kind(r);
	if (stix_reader_bundle_id(r))
		snprintf(res->bundle_id, sizeof(res->bundle_id), "%s", stix_reader_bundle_id(r));
	for (;;) {
		res->rc = stix_reader_next(r, &obj, &path, &res->err);
		if (res->rc != TIX_OK) {
			assert_null(obj);
			break;
		}
		if (obj == NULL)
			break;
		assert_true(json_is_object(obj));
		assert_true(res->n < MAXOBJ);
		snprintf(res->paths[res->n], sizeof(res->paths[0]), "%s", path);
		snprintf(res->ids[res->n], sizeof(res->ids[0]), "%s",
		         json_string_value(json_object_get(obj, "id"))
		                 ? json_string_value(json_object_get(obj, "id"))
		                 : "");
		res->n++;
		json_decref(obj);
	}
	if (res->rc == TIX_OK) {
		/* The end is sticky, and the offset is the whole document. */
		assert_int_equal(stix_reader_next(r, &obj, &path, &res->err), TIX_OK);
		assert_null(obj);
		assert_int_equal(stix_reader_offset(r), len);
	}
	stix_reader_close(r);
}

static void read_doc(const char *doc, struct result *res)
{
	read_doc_len(doc, strlen(doc), res);
}

/* The line of an error's "SOURCE:LINE:COLUMN" where, or -1. */
static int where_line(const struct tix_error *err)
{
	int line, col;
	char tail;

	if (strncmp(err->where, "test.json:", 10) != 0)
		return -1;
	// NOLINTNEXTLINE(cert-err34-c): our own "file:line:col"
	if (sscanf(err->where + 10, "%d:%d%c", &line, &col, &tail) != 2 || col < 1)
		return -1;
	return line;
}

/* ---- the three kinds of document ----------------------------------------- */

static void test_bundle_streams_objects_with_paths(void **state)
{
	static const char doc[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [\n"
	        "  {\"type\": \"indicator\", \"id\": \"" IND_ID "\"},\n"
	        "  {\"type\": \"malware\", \"id\": \"" MAL_ID
	        "\", \"nested\": {\"a\": [1, 2, {\"b\": \"]}\"}]}},\n"
	        "  {\"type\": \"identity\", \"id\": \"" IDT_ID "\"}\n"
	        "]}\n";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.kind, STIX_DOC_BUNDLE);
	assert_string_equal(res.bundle_id, BUNDLE_ID);
	assert_int_equal(res.n, 3);
	assert_string_equal(res.paths[0], "objects[0]");
	assert_string_equal(res.paths[1], "objects[1]");
	assert_string_equal(res.paths[2], "objects[2]");
	assert_string_equal(res.ids[0], IND_ID);
	assert_string_equal(res.ids[1], MAL_ID);
	assert_string_equal(res.ids[2], IDT_ID);
}

static void test_bundle_members_in_any_order(void **state)
{
	static const char doc[] =
	        "{\"objects\": [{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}],"
	        " \"id\": \"" BUNDLE_ID "\", \"type\": \"bundle\", \"x_custom\": {\"k\": [1]}}";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.kind, STIX_DOC_BUNDLE);
	assert_string_equal(res.bundle_id, BUNDLE_ID);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.paths[0], "objects[0]");
}

static void test_array_streams_objects_with_paths(void **state)
{
	static const char doc[] = "[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"},\n"
	                          " {\"type\": \"malware\", \"id\": \"" MAL_ID "\"}]";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.kind, STIX_DOC_ARRAY);
	assert_string_equal(res.bundle_id, "");
	assert_int_equal(res.n, 2);
	assert_string_equal(res.paths[0], "[0]");
	assert_string_equal(res.paths[1], "[1]");
	assert_string_equal(res.ids[1], MAL_ID);
}

static void test_single_object(void **state)
{
	static const char doc[] = "\n  {\"type\": \"indicator\", \"id\": \"" IND_ID "\","
	                          " \"labels\": [\"a\"]}\n";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.kind, STIX_DOC_OBJECT);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.paths[0], "");
	assert_string_equal(res.ids[0], IND_ID);
}

static void test_empty_bundles_and_arrays_yield_nothing(void **state)
{
	static const char *const docs[] = {
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\"}",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": []}",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [ \n ] }\n",
	        "[]",
	        " [ ]\n",
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		read_doc(docs[i], &res);
		if (res.rc != TIX_OK)
			fail_msg("document %zu: %s: %s", i, res.err.where, res.err.msg);
		assert_int_equal(res.n, 0);
	}
}

static void test_leading_bom_accepted(void **state)
{
	static const char bundle[] =
	        "\xEF\xBB\xBF{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID
	        "\", \"objects\": [{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}]}";
	static const char array[] =
	        "\xEF\xBB\xBF[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}]";
	struct result res;

	(void)state;
	read_doc(bundle, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.kind, STIX_DOC_BUNDLE);
	assert_int_equal(res.n, 1);
	read_doc(array, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.n, 1);
}

/* ---- malformed input ------------------------------------------------------ */

static void test_malformed_element_reports_line(void **state)
{
	static const char doc[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [\n"
	        "  {\"type\": \"indicator\", \"id\": \"" IND_ID "\"},\n"
	        "  {\"type\": \"malware\" \"id\": \"" MAL_ID "\"}\n"
	        "]}\n";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.open_rc, TIX_OK);
	assert_int_equal(res.n, 1); /* the good object came first */
	assert_int_equal(res.rc, TIX_EPARSE);
	assert_int_equal(res.err.code, TIX_EPARSE);
	if (where_line(&res.err) != 3)
		fail_msg("where is '%s', wanted test.json:3:COLUMN", res.err.where);
	assert_non_null(strstr(res.err.msg, "malformed JSON"));
}

/* Bytes the caller released (and wiped, as tix import's madvise does) are
 * not read again: a later error still says its line and column. */
static void test_released_bytes_keep_error_positions(void **state)
{
	static const char text[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [\n"
	        "  {\"type\": \"indicator\", \"id\": \"" IND_ID "\"},\n"
	        "  {\"type\": \"identity\", \"id\": \"" IDT_ID "\"},\n"
	        "  {\"type\": \"malware\" \"id\": \"" MAL_ID "\"}\n"
	        "]}\n";
	char doc[sizeof(text)];
	struct stix_reader *r = NULL;
	struct tix_error err;
	json_t *obj;
	const char *path;
	size_t upto;

	(void)state;
	memcpy(doc, text, sizeof(text));
	tix_error_clear(&err);
	assert_int_equal(stix_reader_open(doc, sizeof(text) - 1, "test.json", &r, &err), TIX_OK);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(stix_reader_next(r, &obj, &path, &err), TIX_OK);
		assert_non_null(obj);
		json_decref(obj);
	}
	upto = stix_reader_offset(r);
	stix_reader_release(r, upto);
	memset(doc, 0, upto);
	assert_int_not_equal(stix_reader_next(r, &obj, &path, &err), TIX_OK);
	assert_null(obj);
	assert_string_equal(err.where, "test.json:4:26"); /* as without the release */
	stix_reader_close(r);
}

static void test_malformed_array_element_reports_line(void **state)
{
	static const char doc[] = "[\n"
	                          "{\"type\": \"indicator\", \"id\": \"" IND_ID "\"},\n"
	                          "{\"type\": \"malware\", \"id\": }\n"
	                          "]";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.rc, TIX_EPARSE);
	if (where_line(&res.err) != 3)
		fail_msg("where is '%s', wanted test.json:3:COLUMN", res.err.where);
}

static void test_missing_comma_between_elements(void **state)
{
	static const char doc[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [\n"
	        "{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}\n"
	        "{\"type\": \"malware\", \"id\": \"" MAL_ID "\"}\n"
	        "]}";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_EPARSE);
	assert_int_equal(where_line(&res.err), 3);
}

static void test_single_object_error_line_counts_leading_lines(void **state)
{
	/* The error is on line 3 of the file, after two blank lines. */
	static const char doc[] = "\n\n{\"type\": \"x-thing\","
	                          " \"id\": \"x-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
	                          " \"objects\": [1 2]}\n";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.rc, TIX_EPARSE);
	if (where_line(&res.err) != 3)
		fail_msg("where is '%s', wanted test.json:3:COLUMN", res.err.where);
}

static void test_unclosed_and_empty_documents(void **state)
{
	static const char *const docs[] = {
	        "",
	        "   \n",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [{\"type\": \"a\"}",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\"",
	        "[{\"type\": \"indicator\"}",
	        "{\"type\": \"indicator\", \"id\": ",
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		read_doc(docs[i], &res);
		if (res.rc != TIX_EPARSE)
			fail_msg("document %zu ('%s') gave %s", i, docs[i], tix_err_name(res.rc));
	}
}

static void test_not_a_document(void **state)
{
	struct result res;

	(void)state;
	read_doc("42", &res);
	assert_int_not_equal(res.rc, TIX_OK);
	read_doc("\"bundle\"", &res);
	assert_int_not_equal(res.rc, TIX_OK);
}

static void test_duplicate_key_in_object_rejected(void **state)
{
	static const char doc[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [\n"
	        "{\"type\": \"indicator\", \"id\": \"" IND_ID
	        "\", \"name\": \"a\", \"name\": \"b\"}]}";
	static const char nested[] = "[{\"type\": \"indicator\", \"id\": \"" IND_ID
	                             "\", \"x_d\": {\"k\": 1, \"k\": 2}}]";
	static const char single[] =
	        "{\"type\": \"indicator\", \"id\": \"" IND_ID "\", \"type\": \"malware\"}";
	struct result res;

	(void)state;
	read_doc(doc, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EPARSE);
	assert_non_null(strstr(res.err.msg, "duplicate"));
	assert_int_equal(where_line(&res.err), 2);

	read_doc(nested, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EPARSE);

	read_doc(single, &res);
	assert_int_equal(res.rc, TIX_EPARSE);
	assert_non_null(strstr(res.err.msg, "duplicate"));
}

static void test_duplicate_top_level_keys_rejected(void **state)
{
	static const char objects[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\","
	        " \"objects\": [{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}],\n"
	        " \"objects\": [{\"type\": \"malware\", \"id\": \"" MAL_ID "\"}]}";
	static const char id[] = "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\","
	                         " \"id\": \"bundle--11111111-1111-4111-8111-111111111111\","
	                         " \"objects\": []}";
	struct result res;

	(void)state;
	read_doc(objects, &res);
	assert_int_equal(res.open_rc, TIX_EPARSE);
	assert_int_equal(res.n, 0);
	assert_non_null(strstr(res.err.msg, "duplicate"));
	assert_non_null(strstr(res.err.msg, "objects"));
	assert_int_equal(where_line(&res.err), 2);

	read_doc(id, &res);
	assert_int_equal(res.open_rc, TIX_EPARSE);
	assert_non_null(strstr(res.err.msg, "duplicate"));
}

static void test_invalid_utf8_rejected(void **state)
{
	static const char in_element[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": ["
	        "{\"type\": \"indicator\", \"id\": \"" IND_ID "\", \"name\": \"bad \xff byte\"}]}";
	static const char overlong[] = "[{\"type\": \"indicator\", \"name\": \"\xc0\xaf\"}]";
	static const char in_single[] = "{\"type\": \"indicator\", \"name\": \"\xed\xa0\x80\"}";
	static const char in_envelope[] = "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\","
	                                  " \"x_note\": \"\xe2\x82\", \"objects\": []}";
	struct result res;

	(void)state;
	read_doc(in_element, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EPARSE);
	read_doc(overlong, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EPARSE);
	read_doc(in_single, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EPARSE);
	read_doc(in_envelope, &res);
	assert_int_equal(res.rc, TIX_EPARSE);
}

static void test_trailing_garbage_rejected(void **state)
{
	static const char *const docs[] = {
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": []} x",
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [{\"type\": \"a\","
	        " \"id\": \"" IND_ID "\"}]}\n{}",
	        "[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}] ]",
	        "[] []",
	        "{\"type\": \"indicator\", \"id\": \"" IND_ID "\"} {\"type\": \"malware\"}",
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		read_doc(docs[i], &res);
		if (res.rc != TIX_EPARSE)
			fail_msg("document %zu gave %s after %zu objects", i, tix_err_name(res.rc),
			         res.n);
	}
}

/* ---- depth ------------------------------------------------------------- */

/* A document whose total nesting is `depth` levels: the wrapper (a bundle:
 * object + objects array; an array; or nothing), then the element object,
 * then nested arrays down to an empty one. Caller frees. */
static char *deep_doc(enum stix_doc_kind kind, int depth)
{
	const char *pre, *post;
	int wrap, arrays;
	size_t size;
	char *s, *p;

	switch (kind) {
	case STIX_DOC_BUNDLE:
		pre = "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": [";
		post = "]}";
		wrap = 2;
		break;
	case STIX_DOC_ARRAY:
		pre = "[";
		post = "]";
		wrap = 1;
		break;
	default: pre = post = ""; wrap = 0;
	}
	arrays = depth - wrap - 1;
	size = strlen(pre) + strlen(post) + 200 + 2 * (size_t)arrays;
	s = malloc(size);
	assert_non_null(s);
	p = s + snprintf(s, size,
	                 "%s{\"type\": \"x-deep\", \"id\": \"x-deep--"
	                 "8e2e2d2b-17d4-4cbf-938f-"
	                 "98ee46b3cd3f\", \"x_deep\": ",
	                 pre);
	for (int i = 0; i < arrays; i++)
		*p++ = '[';
	for (int i = 0; i < arrays; i++)
		*p++ = ']';
	snprintf(p, size - (size_t)(p - s), "}%s", post);
	return s;
}

static void check_depth(enum stix_doc_kind kind, int depth, enum tix_err want)
{
	char *doc = deep_doc(kind, depth);
	struct result res;

	read_doc(doc, &res);
	if (res.rc != want)
		fail_msg("kind %d, depth %d: got %s (%s), wanted %s", (int)kind, depth,
		         tix_err_name(res.rc), res.err.msg, tix_err_name(want));
	if (want == TIX_OK) {
		assert_int_equal(res.n, 1);
	} else {
		assert_int_equal(res.n, 0);
		assert_non_null(strstr(res.err.msg, "64"));
	}
	free(doc);
}

static void test_depth_limit(void **state)
{
	static const enum stix_doc_kind kinds[] = {STIX_DOC_BUNDLE, STIX_DOC_ARRAY,
	                                           STIX_DOC_OBJECT};

	(void)state;
	assert_int_equal(STIX_MAX_DEPTH, 64);
	for (size_t i = 0; i < 3; i++) {
		check_depth(kinds[i], 60, TIX_OK);
		check_depth(kinds[i], STIX_MAX_DEPTH, TIX_OK);
		check_depth(kinds[i], STIX_MAX_DEPTH + 1, TIX_EINVAL);
		check_depth(kinds[i], 500, TIX_EINVAL);
	}
}

static void test_json_parse_depth_and_errors(void **state)
{
	struct tix_error err;
	json_t *v;
	char doc[200];
	int i;

	(void)state;
	/* 64 nested arrays pass, 65 do not. */
	for (i = 0; i < 64; i++)
		doc[i] = '[';
	for (i = 0; i < 64; i++)
		doc[64 + i] = ']';
	v = stix_json_parse(doc, 128, "mem", &err);
	assert_non_null(v);
	assert_int_equal(stix_json_depth(v, 100), 64);
	json_decref(v);
	memmove(doc + 1, doc, 128);
	doc[0] = '[';
	doc[129] = ']';
	tix_error_clear(&err);
	assert_null(stix_json_parse(doc, 130, "mem", &err));
	assert_int_equal(err.code, TIX_EINVAL);

	tix_error_clear(&err);
	assert_null(stix_json_parse("{\"a\": 1,\n\"a\": 2}", 16, "mem", &err));
	assert_int_equal(err.code, TIX_EPARSE);
	/* "SOURCE:LINE:COLUMN": the duplicate is on line 2. */
	assert_int_equal(strncmp(err.where, "mem:2:", 6), 0);
}

/* ---- the fast path of parsing an object (json.c) ------------------------ */

/* What the fast path gives for doc must be what jansson gives: the same
 * value, keys in the same order, the same bytes taken; or nothing, and the
 * reader asks jansson. Returns whether the fast path took it. */
static int fast_same_as_jansson(const char *doc, int depth_left)
{
	size_t len = strlen(doc), used = 0;
	int compact = -1;
	json_t *fast = stix__json_fast_object(doc, len, depth_left, &used, &compact);
	json_error_t je;
	json_t *slow = json_loadb(
	        doc, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);

	if (fast != NULL) {
		char *a, *b;
		struct tix_buf m;
		size_t start;

		assert_non_null(slow);
		assert_true(stix_json_depth(slow, depth_left) <= depth_left);
		assert_true(json_equal(fast, slow));
		a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
		b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_string_equal(a, b); /* the key order too */
		free(a);
		free(b);
		assert_int_equal(used, (size_t)je.position);
		/* compact: the object's bytes are what minifying them gives */
		start = strspn(doc, " \t\r\n");
		tix_buf_init(&m, TIX_BUF_UNLIMITED);
		assert_int_equal(stix_json_minify(doc + start, used - start, &m), TIX_OK);
		assert_int_equal(compact,
		                 tix_buf_len(&m) == used - start &&
		                         memcmp(tix_buf_str(&m), doc + start, used - start) == 0);
		tix_buf_release(&m);
	}
	json_decref(fast);
	json_decref(slow);
	return fast != NULL;
}

static void test_fast_parse_matches_jansson(void **state)
{
	static const char indicator[] =
	        "{\"type\":\"indicator\",\"id\":\"" IND_ID "\",\"confidence\":85,"
	        "\"labels\":[\"a\",\"b\"],\"revoked\":false,\"x\":true,\"y\":null}";
	/* taken by the fast path */
	static const char *const taken[] = {
	        "{}",
	        " \r\n\t{ } trailing",
	        indicator,
	        "{ \"z\" : 1 , \"a\" : [ 1 , -2 , 0 , -0 , 123456789012345678 ] , \"m\" : { } }",
	        "{\"s\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\",\"e\":\"\",\"k\":[[],[{}]]}",
	        "{\"a\":{\"b\":{\"c\":[\"d\"]}}},{\"next\":1}",
	        "{\"del\":\"\x7f\"}",
	};
	/* left to jansson: what it gives (a value or an error) stands */
	static const char *const left[] = {
	        "{\"r\":1.5}",
	        "{\"r\":1e3}",
	        "{\"r\":-1E-3}",
	        "{\"big\":1234567890123456789}",
	        "{\"u\":\"\\u00e9\"}",
	        "{\"u\":\"caf\xc3\xa9\"}",
	        "{\"bad\":\"\xff\"}",
	        "{\"a\":1,\"a\":2}",
	        "{\"k\\n\":1}",
	        "{\"a\":01}",
	        "{\"a\":-}",
	        "{\"a\":truex}",
	        "{\"a\":tru}",
	        "{\"a\":[1,]}",
	        "{\"a\":1,}",
	        "{\"a\" 1}",
	        "{\"a\":\"x",
	        "{\"a\":1",
	        "{\"c\":\"\x01\"}",
	        "{\"c\":\"a\tb\"}",
	        "{\"e\":\"\\x\"}",
	        "[1]",
	        "\"s\"",
	        "",
	        "{\"a\":[1 2]}",
	        "{1:2}",
	};
	char deep[300];
	int i;

	(void)state;
	for (size_t k = 0; k < sizeof(taken) / sizeof(taken[0]); k++)
		assert_true(fast_same_as_jansson(taken[k], STIX_MAX_DEPTH));
	for (size_t k = 0; k < sizeof(left) / sizeof(left[0]); k++)
		assert_false(fast_same_as_jansson(left[k], STIX_MAX_DEPTH));
	/* depth as stix_json_depth counts it: {"a":[[...]]} with 10 arrays is
	 * 12 levels */
	i = snprintf(deep, sizeof(deep), "{\"a\":");
	for (int d = 0; d < 10; d++)
		deep[i++] = '[';
	deep[i++] = '1';
	for (int d = 0; d < 10; d++)
		deep[i++] = ']';
	deep[i++] = '}';
	deep[i] = '\0';
	assert_true(fast_same_as_jansson(deep, 12));
	assert_false(fast_same_as_jansson(deep, 11));
}

/* Objects with bytes changed at random (a fixed sequence): wherever the
 * fast path takes one, it agrees with jansson. */
static void test_fast_parse_mutations_match_jansson(void **state)
{
	static const char base[] =
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND_ID "\","
	        "\"created\":\"2024-01-02T03:04:05.678Z\",\"confidence\":70,\"labels\":"
	        "[\"malicious-activity\",\"a\\\"b\"],\"kill_chain_phases\":[{\"kill_chain_name\":"
	        "\"lockheed\",\"phase_name\":\"recon\"}],\"revoked\":false,\"x_n\":null,"
	        "\"x_i\":-12,\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\"}";
	static const char alphabet[] = "{}[]\":,\\ \t\n0123456789-.eE+tfnulrsa\x01\x7f\x80\xc3";
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	char doc[sizeof(base)];
	size_t taken = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		memcpy(doc, base, sizeof(base));
		for (int k = 0; k < 1 + round % 3; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			doc[x % (sizeof(base) - 1)] = alphabet[(x >> 32) % (sizeof(alphabet) - 1)];
		}
		taken += (size_t)fast_same_as_jansson(doc, STIX_MAX_DEPTH);
	}
	assert_true(taken > 0);
}

/* ---- envelopes and elements -------------------------------------------- */

static void test_bundle_id_required_and_checked(void **state)
{
	static const char *const docs[] = {
	        "{\"type\": \"bundle\", \"objects\": []}",
	        "{\"type\": \"bundle\", \"id\": \"bundle--1234\", \"objects\": []}",
	        ("{\"type\": \"bundle\", \"id\": \"" IND_ID "\", \"objects\": []}"),
	        "{\"type\": \"bundle\", \"id\": 7, \"objects\": []}",
	        ("{\"type\": \"bundle\", \"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56\","
	         " \"objects\": []}"),
	};
	struct result res;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		read_doc(docs[i], &res);
		if (res.open_rc != TIX_EINVAL)
			fail_msg("document %zu gave %s", i, tix_err_name(res.open_rc));
		assert_non_null(strstr(res.err.msg, "id"));
	}
	read_doc(docs[1], &res);
	assert_non_null(strstr(res.err.msg, "bundle--1234"));
}

static void test_bundle_objects_must_be_array(void **state)
{
	struct result res;

	(void)state;
	read_doc("{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": {}}", &res);
	assert_int_equal(res.open_rc, TIX_EINVAL);
	assert_non_null(strstr(res.err.msg, "objects"));
}

static void test_non_object_element_reported_with_path(void **state)
{
	static const char bundle[] =
	        "{\"type\": \"bundle\", \"id\": \"" BUNDLE_ID "\", \"objects\": "
	        "[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}, \"oops\"]}";
	static const char array[] = "[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}, 42]";
	static const char first[] = "[[]]";
	struct result res;

	(void)state;
	read_doc(bundle, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.rc, TIX_EINVAL);
	assert_string_equal(res.err.where, "objects[1]");

	read_doc(array, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.rc, TIX_EINVAL);
	assert_string_equal(res.err.where, "[1]");

	read_doc(first, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.rc, TIX_EINVAL);
	assert_string_equal(res.err.where, "[0]");
}

static void test_not_nul_terminated_buffer(void **state)
{
	/* The reader works on data[0..len) only: bytes after len are ignored. */
	static const char doc[] = "[{\"type\": \"indicator\", \"id\": \"" IND_ID "\"}]GARBAGE";
	struct result res;

	(void)state;
	read_doc_len(doc, strlen(doc) - 7, &res);
	assert_int_equal(res.rc, TIX_OK);
	assert_int_equal(res.n, 1);
}

/* The stored text of an imported object is its bytes without the white
 * space between tokens: white space inside strings, escaped quotes and
 * backslashes survive, and the result parses to the same value. */
static void test_minify_keeps_strings_whole(void **state)
{
	const char raw[] = "{ \"a\" : [ 1 , 2.5e3 ,\n\t\"x y\" ],\r\n \"b\\\"c\" :"
	                   " \"q \\\" \\\\ \\n\" , \"d\": { } }";
	struct tix_buf out;
	json_t *a, *b;

	(void)state;
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	assert_int_equal(stix_json_minify(raw, strlen(raw), &out), TIX_OK);
	assert_string_equal(tix_buf_str(&out),
	                    "{\"a\":[1,2.5e3,\"x y\"],\"b\\\"c\":\"q \\\" \\\\ \\n\",\"d\":{}}");
	a = json_loads(raw, 0, NULL);
	b = json_loads(tix_buf_str(&out), 0, NULL);
	assert_non_null(a);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	tix_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_minify_keeps_strings_whole),
	        cmocka_unit_test(test_bundle_streams_objects_with_paths),
	        cmocka_unit_test(test_bundle_members_in_any_order),
	        cmocka_unit_test(test_array_streams_objects_with_paths),
	        cmocka_unit_test(test_single_object),
	        cmocka_unit_test(test_empty_bundles_and_arrays_yield_nothing),
	        cmocka_unit_test(test_leading_bom_accepted),
	        cmocka_unit_test(test_malformed_element_reports_line),
	        cmocka_unit_test(test_released_bytes_keep_error_positions),
	        cmocka_unit_test(test_malformed_array_element_reports_line),
	        cmocka_unit_test(test_missing_comma_between_elements),
	        cmocka_unit_test(test_single_object_error_line_counts_leading_lines),
	        cmocka_unit_test(test_unclosed_and_empty_documents),
	        cmocka_unit_test(test_not_a_document),
	        cmocka_unit_test(test_duplicate_key_in_object_rejected),
	        cmocka_unit_test(test_duplicate_top_level_keys_rejected),
	        cmocka_unit_test(test_invalid_utf8_rejected),
	        cmocka_unit_test(test_trailing_garbage_rejected),
	        cmocka_unit_test(test_depth_limit),
	        cmocka_unit_test(test_json_parse_depth_and_errors),
	        cmocka_unit_test(test_fast_parse_matches_jansson),
	        cmocka_unit_test(test_fast_parse_mutations_match_jansson),
	        cmocka_unit_test(test_bundle_id_required_and_checked),
	        cmocka_unit_test(test_bundle_objects_must_be_array),
	        cmocka_unit_test(test_non_object_element_reported_with_path),
	        cmocka_unit_test(test_not_nul_terminated_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
