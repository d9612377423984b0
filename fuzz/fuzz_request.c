/*
 * fuzz/fuzz_request.c — libFuzzer target for preservation requests: the
 * Article 29(2) template parser and the chain verifier (what a hostile
 * peer's request versions go through), over a store in a temporary file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "request/request.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store_once(void)
{
	static struct store *s;
	static char path[] = "/tmp/tix-fuzz-request-XXXXXX";

	if (s == NULL) {
		struct store_options o = {1, 0};
		int fd = mkstemp(path);

		if (fd < 0)
			abort();
		close(fd);
		unlink(path);
		struct tix_error err;

		if ((s = store_open(path, &o, &err)) == NULL)
			abort();
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_ctx c = {store_once(), NULL, 1767225600000000, "fuzz"};
	struct request_status st;
	struct tix_error err;
	json_t *t = request_template_parse((const char *)data, size, "fuzz", &err);
	json_t *v;

	/* What the parser accepts passes the checks, with defaults filled. */
	if (t && (request_template_check(t, "fuzz", NULL) != TIX_OK ||
	          !json_object_get(t, "urgency") || !json_object_get(t, "languages")))
		__builtin_trap();
	json_decref(t);
	v = stix_json_parse((const char *)data, size, "fuzz", &err);
	if (v == NULL)
		return 0;
	if (json_is_object(v)) {
		json_t *a = json_pack("[O]", v);

		json_decref(v);
		v = a;
	}
	if (json_is_array(v) && request_verify(&c, v, &st, &err) == TIX_OK && !st.verified &&
	    st.transitions > 0)
		__builtin_trap(); /* a chain that verifies says so */
	json_decref(v);
	return 0;
}
