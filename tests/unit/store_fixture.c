/*
 * store_fixture.c — a fresh store in a fresh temporary directory for each
 * unit test that needs one (see store_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/core.h"
#include "store/store.h"
#include "store_fixture.h"
#include "tmpdir.h"

int test_store_setup(void **state, const char *tag)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tix_error err;

	if (f == NULL)
		return -1;
	if (test_tmpdir_make(tag, f->dir, sizeof(f->dir), f->path, sizeof(f->path)) != 0) {
		free(f);
		return -1;
	}
	tix_error_clear(&err);
	if ((f->s = store_open(f->path, NULL, &err)) == NULL) {
		print_error("store_open: %s: %s\n", err.where, err.msg);
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int test_store_teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}
