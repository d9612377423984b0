/*
 * fuzz/fuzz_library.c — libFuzzer target for the resource library's
 * parsers: CSV rows, each made a resource (every field's check), the input
 * as an object form, and the search query's terms.
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
		free(text);
	}
	return 0;
}
