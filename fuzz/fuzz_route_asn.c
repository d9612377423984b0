/*
 * fuzz/fuzz_route_asn.c — libFuzzer target for the prefix-to-ASN table
 * reader of constituency routing (route_asn_table_parse): any bytes; every
 * prefix handed out is a real interval with a valid AS number.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "route/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	size_t good, bad;
};

static void add(void *arg, const struct store_route_range *r, int64_t asn)
{
	struct count *c = arg;
	int bytes = r->family == 4 ? 4 : 16;

	if ((r->family != 4 && r->family != 6) || r->plen > (unsigned)bytes * 8 || asn < 1 ||
	    asn > 4294967294LL || memcmp(r->lo, r->hi, (size_t)bytes) > 0)
		__builtin_trap();
	c->good++;
}

static void bad(void *arg, size_t line, const char *why)
{
	struct count *c = arg;

	if (line == 0 || why == NULL || *why == '\0')
		__builtin_trap();
	c->bad++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct count c = {0, 0};
	size_t n = route_asn_table_parse((const char *)data, size, add, bad, &c);

	if (n != c.good)
		__builtin_trap();
	return 0;
}
