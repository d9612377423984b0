/*
 * fuzz/fuzz_config.c — libFuzzer target for the tix.conf parser: sections,
 * `key = value` lines, quoting, every value check and the conflict checks.
 * Any input must give either entries that all pass their own checks, or a
 * FILE:LINE reason — never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *arg, const char *where, const char *reason)
{
	size_t *n = arg;

	if (where[0] == '\0' || reason[0] == '\0')
		abort(); /* every problem says where and why */
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct tix_error err;
	size_t problems = 0;
	char why[1200];

	tix_error_clear(&err);
	if (conf_parse((const char *)data, size, "fuzz.conf", &c, count, &problems, &err) ==
	    TIX_OK) {
		if (problems != 0)
			abort();
		for (size_t i = 0; i < c.n; i++) {
			const struct conf_entry *e = &c.entries[i];

			/* What was accepted passes its own check again, and is found. */
			if (conf_check_value(e->setting, e->value, why, sizeof(why)) != 0 ||
			    conf_find(&c, e->section, e->name, e->setting->key) != e)
				abort();
		}
		conf_release(&c);
	} else if (problems == 0 || strncmp(err.where, "fuzz.conf", 9) != 0) {
		abort();
	}
	return 0;
}
