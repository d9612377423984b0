/*
 * fuzz/fuzz_api_console.c — libFuzzer target for the bodies the console
 * POSTs: a pattern to check (api_pattern_check_answer: 200 with a verdict
 * or 400 with why, always JSON) and a STIX file to import (the envelope
 * made of it is a JSON object with objects, or a 400).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json_answer(const struct api_response *r)
{
	json_t *v = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);

	if (v == NULL || !json_is_object(v))
		abort(); /* every answer is a JSON object */
	if (r->status == 200 && json_object_get(v, "valid") == NULL &&
	    json_object_get(v, "objects") == NULL)
		abort();
	if (r->status == 400 && !json_is_string(json_object_get(v, "description")))
		abort(); /* a refusal says why */
	json_decref(v);
}

/* The writer: what the import hands on must be a TAXII envelope. */
static void take(void *arg, const char *cid, const char *body, size_t len, int *status,
                 json_t **answer)
{
	json_t *v = json_loadb(body, len, 0, NULL);

	(void)arg;
	(void)cid;
	if (v == NULL || !json_is_object(v) || json_object_get(v, "objects") == NULL)
		abort();
	json_decref(v);
	*status = 202;
	*answer = json_pack("{s:I, s:[], s:[]}", "total_count", (json_int_t)0, "successes",
	                    "failures");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_response resp;
	struct api_param params[2] = {{"collection", "c"}, {"format", "stix"}};
	struct api_request req;

	api_response_init(&resp);
	api_pattern_check_answer((const char *)data, size, &resp);
	if (resp.status != 200 && resp.status != 400 && resp.status != 500)
		abort();
	if (resp.status != 500)
		check_json_answer(&resp);
	api_response_release(&resp);

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = API_PREFIX "import";
	req.params = params;
	req.nparams = 2;
	req.body = (const char *)data;
	req.body_len = size;
	req.write = take;
	api_response_init(&resp);
	api_import_answer(&req, &resp);
	if (resp.status != 200 && resp.status != 400 && resp.status != 500)
		abort();
	if (resp.status != 500)
		check_json_answer(&resp);
	api_response_release(&resp);
	return 0;
}
