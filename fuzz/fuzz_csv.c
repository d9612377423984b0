/*
 * fuzz/fuzz_csv.c — libFuzzer target for the CSV and list readers: any
 * bytes give a bundle that parses as JSON, with the records counted.
 */
#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tix_buf *out, size_t n)
{
	struct tix_error err;
	json_t *b = stix_json_parse(tix_buf_str(out), tix_buf_len(out), "out", &err);

	if (b == NULL || json_array_size(json_object_get(b, "objects")) != n)
		__builtin_trap();
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct formats_log log = {NULL, NULL, 0, 0};
	struct formats_text_opts o = {0};
	struct tix_error err;
	struct tix_buf out;
	size_t n;

	o.tlp = STIX_TLP_AMBER;
	o.timestamp = "2024-01-01T00:00:00.000Z";
	o.source_name = "fuzz";
	o.observables = size > 0 && (data[0] & 1);
	o.header = size > 0 && (data[0] & 2);
	o.map.value = 2;
	o.map.type = 1;
	o.map.first_seen = 3;
	o.map.labels = 4;
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	if (formats_csv_to_stix((const char *)data, size, "fuzz", &o, &out, &n, &log, &err) ==
	    TIX_OK)
		check(&out, n);
	tix_buf_reset(&out);
	o.type = FV_DOMAIN;
	if (formats_list_to_stix((const char *)data, size, "fuzz", &o, &out, &n, &log, &err) ==
	    TIX_OK)
		check(&out, n);
	tix_buf_release(&out);
	return 0;
}
