/*
 * fuzz/fuzz_api_query.c — libFuzzer target for the /api/v1/ parameters:
 * api_query_parse over "key=value" lines, api_fts_expression over the
 * search text and values_classify over the correlation value. Accepted
 * parameters must be within their bounds and every FTS expression only
 * quoted words — never a crash, never FTS5 syntax let through.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "values/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 40

static void check_fts(const char *text, size_t len)
{
	struct tix_buf out;
	struct tix_error err;

	tix_buf_init(&out, 1 << 16);
	if (api_fts_expression(text, len, &out, &err) == TIX_OK) {
		const char *p = tix_buf_str(&out), *e = p + tix_buf_len(&out);
		size_t words = 0;

		/* "w"* "w"* ...: each word quoted, no quote inside, one space between */
		while (p < e) {
			const char *q;

			if (*p != '"' || (q = memchr(p + 1, '"', (size_t)(e - p - 1))) == NULL ||
			    q == p + 1)
				abort();
			words++;
			p = q + 1;
			if (p >= e || *p++ != '*')
				abort();
			if (p < e && *p++ != ' ')
				abort();
		}
		if (words == 0 || words > 16)
			abort();
	}
	tix_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct api_param params[MAX_LINES];
	struct api_query q;
	struct tix_error err;
	size_t n = 0;
	char *line, *save = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_fts((const char *)data, size);
	for (line = strtok_r(text, "\n", &save); line && n < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		params[n].key = line;
		params[n].value = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		n++;
	}
	if (api_query_parse(params, n, &q, &err) == TIX_OK) {
		if (q.ntypes > API_MAX_TYPES || q.limit == 0 || q.limit > API_SEARCH_MAX)
			abort();
		for (size_t i = 0; i < q.ntypes; i++)
			if (strlen(q.types[i]) > 250)
				abort();
		if (q.q) {
			if (strlen(q.q) > API_MAX_QUERY)
				abort();
			check_fts(q.q, strlen(q.q));
		}
		if (q.value) {
			struct values_item v;
			char buf[VALUES_MAX_LEN + 64], out[VALUES_MAX_LEN * 2 + 64];
			const char *why;

			if (values_classify(q.value, strlen(q.value), &v, buf, sizeof(buf), &why) ==
			            0 &&
			    values_format(&v, out, sizeof(out)) < 0)
				abort();
		}
	} else if (err.msg[0] == '\0') {
		abort(); /* a refusal says why */
	}
	free(text);
	return 0;
}
