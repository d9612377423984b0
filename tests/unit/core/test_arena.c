/*
 * Unit tests for core/arena.c: the bump allocator hands out aligned,
 * non-overlapping memory for many small requests, serves requests larger
 * than a block, copies strings, and frees everything in one release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/core.h"

#define ALIGN _Alignof(max_align_t)

static void test_many_small_allocations_aligned_and_distinct(void **state)
{
	enum { N = 2000 };
	static unsigned char *p[N];
	static size_t sz[N];
	struct tix_arena a;

	(void)state;
	tix_arena_init(&a, 256);
	for (size_t i = 0; i < N; i++) {
		sz[i] = 1 + i % 37;
		p[i] = tix_arena_alloc(&a, sz[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % ALIGN, 0);
		memset(p[i], (int)(i & 0xff), sz[i]);
	}
	/* Had any two allocations overlapped, a later memset would have
	 * overwritten an earlier one's pattern. */
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < sz[i]; j++)
			if (p[i][j] != (unsigned char)(i & 0xff))
				fail_msg("allocation %zu was overwritten at byte %zu", i, j);
	tix_arena_release(&a);
}

static void test_zero_size_gives_distinct_pointers(void **state)
{
	struct tix_arena a;
	void *x, *y;

	(void)state;
	tix_arena_init(&a, 0); /* default block size */
	x = tix_arena_alloc(&a, 0);
	y = tix_arena_alloc(&a, 0);
	assert_non_null(x);
	assert_non_null(y);
	assert_ptr_not_equal(x, y);
	tix_arena_release(&a);
}

static void test_oversized_allocation(void **state)
{
	struct tix_arena a;
	unsigned char *small1, *big, *small2;
	const size_t bigsz = 1 << 20;

	(void)state;
	tix_arena_init(&a, 1024);
	small1 = tix_arena_alloc(&a, 16);
	assert_non_null(small1);
	memset(small1, 0x11, 16);

	big = tix_arena_alloc(&a, bigsz);
	assert_non_null(big);
	assert_int_equal((uintptr_t)big % ALIGN, 0);
	memset(big, 0x22, bigsz); /* the whole of it is usable (ASan checks) */

	/* Small allocations keep working after the big one. */
	small2 = tix_arena_alloc(&a, 16);
	assert_non_null(small2);
	memset(small2, 0x33, 16);

	for (size_t i = 0; i < 16; i++) {
		assert_int_equal(small1[i], 0x11);
		assert_int_equal(small2[i], 0x33);
	}
	assert_int_equal(big[0], 0x22);
	assert_int_equal(big[bigsz - 1], 0x22);
	tix_arena_release(&a);
}

static void test_exactly_block_size_and_first_oversized(void **state)
{
	struct tix_arena a;
	unsigned char *x, *y;

	(void)state;
	tix_arena_init(&a, 512);
	x = tix_arena_alloc(&a, 4096); /* oversized as the very first request */
	assert_non_null(x);
	memset(x, 1, 4096);
	y = tix_arena_alloc(&a, 512); /* exactly a block */
	assert_non_null(y);
	memset(y, 2, 512);
	assert_int_equal(x[4095], 1);
	assert_int_equal(y[0], 2);
	tix_arena_release(&a);
}

static void test_strdup_and_strndup(void **state)
{
	struct tix_arena a;
	const char *src = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
	char *d, *e, *f;

	(void)state;
	tix_arena_init(&a, 64);
	d = tix_arena_strdup(&a, src);
	assert_non_null(d);
	assert_ptr_not_equal(d, src);
	assert_string_equal(d, src);

	e = tix_arena_strndup(&a, src, 9);
	assert_string_equal(e, "indicator");

	f = tix_arena_strdup(&a, "");
	assert_non_null(f);
	assert_string_equal(f, "");

	/* Copies are independent of each other. */
	d[0] = 'X';
	assert_string_equal(e, "indicator");
	tix_arena_release(&a);
}

static void test_release_twice_and_reuse(void **state)
{
	struct tix_arena a;
	char *s;

	(void)state;
	tix_arena_init(&a, 128);
	assert_non_null(tix_arena_alloc(&a, 100));
	tix_arena_release(&a);
	tix_arena_release(&a); /* a released arena is empty, not dangling */
	s = tix_arena_strdup(&a, "again");
	assert_string_equal(s, "again");
	tix_arena_release(&a);
	tix_arena_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_many_small_allocations_aligned_and_distinct),
	        cmocka_unit_test(test_zero_size_gives_distinct_pointers),
	        cmocka_unit_test(test_oversized_allocation),
	        cmocka_unit_test(test_exactly_block_size_and_first_oversized),
	        cmocka_unit_test(test_strdup_and_strndup),
	        cmocka_unit_test(test_release_twice_and_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
