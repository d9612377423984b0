/*
 * core/arena.c — a bump allocator for many small allocations that share one
 * lifetime (an HTTP request, a validation pass); released in one call.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct tix_arena_block {
	struct tix_arena_block *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
};

void tix_arena_init(struct tix_arena *a, size_t block_size)
{
	a->head = NULL;
	a->block_size = block_size ? block_size : 8192;
}

void tix_arena_release(struct tix_arena *a)
{
	struct tix_arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

void *tix_arena_alloc(struct tix_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct tix_arena_block *b = a->head;
	size_t bsize;
	void *p;

	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (b == NULL || b->size - b->used < size) {
		bsize = size > a->block_size ? size : a->block_size;
		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->size = bsize;
		/* A block made for one oversized request goes second, so the
		 * current block keeps serving small requests. */
		if (a->head && size > a->block_size) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += size;
	return p;
}

char *tix_arena_strndup(struct tix_arena *a, const char *s, size_t n)
{
	char *p = tix_arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *tix_arena_strdup(struct tix_arena *a, const char *s)
{
	return tix_arena_strndup(a, s, strlen(s));
}
