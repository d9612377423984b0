/*
 * fuzz/fuzz_library.c — libFuzzer target for the resource library's
 * parsers: CSV rows, each made a resource (every field's check), the input
 * as an object form, the search query's terms and its filters (the API's
 * parameters).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "library/library.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int block(void *arg, const char *host)
{
	(void)arg;
	return library_host_matches(host, "bad.example");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct library_ctx c = {NULL, NULL, "fuzz", 1767225600000000, "fuzz"};
	struct tix_error err;
	json_t *rows, *row, *in;
	size_t i;

	rows = library_csv_rows((const char *)data, size, "fuzz", &err);
	json_array_foreach (rows, i, row) {
		json_t *o;

		json_object_del(row, "__line");
		o = library_resource_make(&c, row, block, NULL, &err);
		json_decref(o);
	}
	json_decref(rows);
	if ((in = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		json_decref(library_resource_make(&c, in, block, NULL, &err));
		json_decref(in);
	}
	if (size < 4096) {
		char *text = malloc(size + 1), *w[17], *n[17], buf[8192];
		size_t nw, nn;
		const char *why;

		if (text == NULL)
			return 0;
		memcpy(text, data, size);
		text[size] = '\0';
		(void)library_terms(text, w, &nw, n, &nn, 16, buf, sizeof(buf), &why);
		{
			/* the input as each search filter (the API's parameters) */
			struct library_query q = {0};

			q.text = text;
			(void)library_query_check(&q, &err);
			q.text = NULL;
			q.audience = text;
			(void)library_query_check(&q, &err);
			q.audience = NULL;
			q.lang = text;
			(void)library_query_check(&q, &err);
			q.lang = NULL;
			q.country = text;
			(void)library_query_check(&q, &err);
			q.country = NULL;
			q.topic = text;
			(void)library_query_check(&q, &err);
			q.topic = NULL;
			q.license = text;
			(void)library_query_check(&q, &err);
		}
		free(text);
	}
	return 0;
}
