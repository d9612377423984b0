/*
 * values/seen.c — an exact set of 64-bit keys in bounded memory: a small
 * open-addressed table of the newest keys; when it fills, its keys sorted
 * into a run in a temporary file (runs merged as they pile up, so there are
 * few), and a fixed-size blocked Bloom filter that answers most "new?"
 * questions without reading a run. Memory stays flat however many keys.
 */
#define _GNU_SOURCE /* fallocate: hand back the space of merged runs */
#include "values/seen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "values/mix.h"

#define DEFAULT_MEM_KEYS 24576u
#define BLOOM_BYTES      (1024u * 1024u) /* 8 Mi bits: 2% false positives at 1M keys */
#define BLOOM_BLOCKS     (BLOOM_BYTES / 64u)
#define BLOOM_K          5
#define BLOCK_KEYS       512u /* keys per fence (4 KiB read per lookup in a run) */
#define MERGE_KEYS       1024u
#define MAX_RUNS         24

struct run {
	off_t off;       /* where its sorted keys start in the file */
	size_t n;        /* keys */
	uint64_t *fence; /* the first key of each block of BLOCK_KEYS */
};

struct values_seen {
	uint64_t *tab; /* mixed keys; 0 is empty (mixed key 0 is has_zero) */
	size_t cap, n, max_n;
	int has_zero;
	uint64_t *bloom; /* BLOOM_BLOCKS blocks of 8 words, from the first run on */
	int fd;
	off_t end;
	struct run runs[MAX_RUNS]; /* oldest (largest) first */
	size_t nruns;
	size_t total;
	int failed;
	uint64_t block[BLOCK_KEYS];
};

uint64_t values_seen_hash(const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 3; i++) {
		for (const char *s = parts[i] ? parts[i] : ""; *s; s++) {
			h ^= (unsigned char)*s;
			h *= 1099511628211ull;
		}
		h ^= 0xff;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

struct values_seen *values_seen_new(size_t mem_keys)
{
	struct values_seen *s = calloc(1, sizeof(*s));

	const char *v = getenv("TIX_SEEN_MEM_KEYS"); /* for tests: spill early */
	char *end = NULL;
	long long n = v ? strtoll(v, &end, 10) : 0;

	if (s == NULL)
		return NULL;
	if (mem_keys == 0 && v && end != v && *end == '\0' && n > 0 && n <= 100000000)
		mem_keys = (size_t)n;
	s->max_n = mem_keys ? mem_keys : DEFAULT_MEM_KEYS;
	s->fd = -1;
	return s;
}

size_t values_seen_count(const struct values_seen *s)
{
	return s->total;
}

size_t values_seen_runs(const struct values_seen *s)
{
	return s->nruns;
}

/* ---- the Bloom filter: k bits in one 64-byte block ----------------------------- */

static void bloom_add(uint64_t *bloom, uint64_t m)
{
	uint64_t *blk = bloom + (size_t)((m >> 48) % BLOOM_BLOCKS) * 8;

	for (int i = 0; i < BLOOM_K; i++) {
		unsigned bit = (unsigned)(m >> (9 * i)) & 511u;

		blk[bit >> 6] |= 1ull << (bit & 63);
	}
}

static int bloom_has(const uint64_t *bloom, uint64_t m)
{
	const uint64_t *blk = bloom + (size_t)((m >> 48) % BLOOM_BLOCKS) * 8;

	for (int i = 0; i < BLOOM_K; i++) {
		unsigned bit = (unsigned)(m >> (9 * i)) & 511u;

		if (!(blk[bit >> 6] >> (bit & 63) & 1))
			return 0;
	}
	return 1;
}

/* ---- the file --------------------------------------------------------------------- */

static int io_all(int fd, void *buf, size_t len, off_t off, int write)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = write ? pwrite(fd, p, len, off) : pread(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += r;
	}
	return 0;
}

static int open_file(struct values_seen *s)
{
	FILE *f;

	if (s->fd >= 0)
		return 0;
	if ((f = tmpfile()) == NULL)
		return -1;
	s->fd = dup(fileno(f)); /* the file has no name: it goes with the last descriptor */
	fclose(f);
	return s->fd >= 0 ? 0 : -1;
}

/* Writes n sorted keys from the caller's batches at s->end as a new run. */
struct run_writer {
	struct values_seen *s;
	struct run r;
	size_t nfence_cap;
	uint64_t buf[MERGE_KEYS];
	size_t nbuf;
};

static int writer_flush(struct run_writer *w)
{
	size_t bytes = w->nbuf * sizeof(uint64_t);

	if (bytes && io_all(w->s->fd, w->buf, bytes,
	                    w->r.off + (off_t)((w->r.n - w->nbuf) * sizeof(uint64_t)), 1) != 0)
		return -1;
	w->nbuf = 0;
	return 0;
}

static int writer_put(struct run_writer *w, uint64_t k)
{
	if (w->r.n % BLOCK_KEYS == 0) {
		size_t i = w->r.n / BLOCK_KEYS;

		if (i == w->nfence_cap) {
			size_t ncap = w->nfence_cap ? w->nfence_cap * 2 : 16;
			uint64_t *nf = realloc(w->r.fence, ncap * sizeof(*nf));

			if (nf == NULL)
				return -1;
			w->r.fence = nf;
			w->nfence_cap = ncap;
		}
		w->r.fence[i] = k;
	}
	w->buf[w->nbuf++] = k;
	w->r.n++;
	return w->nbuf == MERGE_KEYS ? writer_flush(w) : 0;
}

/* Reads a run in order, MERGE_KEYS at a time. */
struct run_reader {
	const struct run *r;
	size_t next, nbuf, at;
	uint64_t buf[MERGE_KEYS];
};

static int reader_peek(int fd, struct run_reader *rd, uint64_t *k)
{
	if (rd->at == rd->nbuf) {
		size_t left = rd->r->n - rd->next, take = left < MERGE_KEYS ? left : MERGE_KEYS;

		if (take == 0)
			return 0;
		if (io_all(fd, rd->buf, take * sizeof(uint64_t),
		           rd->r->off + (off_t)(rd->next * sizeof(uint64_t)), 0) != 0)
			return -1;
		rd->next += take;
		rd->nbuf = take;
		rd->at = 0;
	}
	*k = rd->buf[rd->at];
	return 1;
}

static void release_space(struct values_seen *s, const struct run *r)
{
#ifdef FALLOC_FL_PUNCH_HOLE
	/* best effort: the file is only ever read where live runs are */
	(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r->off,
	                (off_t)(r->n * sizeof(uint64_t)));
#else
	(void)s;
	(void)r;
#endif
}

/* Merges the last two runs into one (their keys are disjoint). */
static int merge_last_two(struct values_seen *s)
{
	struct run_reader *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct run_writer *w = calloc(1, sizeof(*w));
	uint64_t ka = 0, kb = 0;
	int ha, hb, rc = -1;

	if (a == NULL || b == NULL || w == NULL)
		goto out;
	a->r = &s->runs[s->nruns - 2];
	b->r = &s->runs[s->nruns - 1];
	w->s = s;
	w->r.off = s->end;
	ha = reader_peek(s->fd, a, &ka);
	hb = reader_peek(s->fd, b, &kb);
	while (ha > 0 || hb > 0) {
		if (ha > 0 && (hb <= 0 || ka < kb)) {
			if (writer_put(w, ka) != 0)
				goto out;
			a->at++;
			ha = reader_peek(s->fd, a, &ka);
		} else {
			if (writer_put(w, kb) != 0)
				goto out;
			b->at++;
			hb = reader_peek(s->fd, b, &kb);
		}
		if (ha < 0 || hb < 0)
			goto out;
	}
	if (writer_flush(w) != 0)
		goto out;
	release_space(s, a->r);
	release_space(s, b->r);
	free(s->runs[s->nruns - 2].fence);
	free(s->runs[s->nruns - 1].fence);
	s->end += (off_t)(w->r.n * sizeof(uint64_t));
	s->runs[s->nruns - 2] = w->r;
	w->r.fence = NULL;
	s->nruns--;
	rc = 0;
out:
	if (w)
		free(w->r.fence);
	free(a);
	free(b);
	free(w);
	return rc;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The table's keys become a run; runs are merged while the newest is at
 * least a third of the one before it (so sizes fall geometrically and
 * there are few). */
static int spill(struct values_seen *s)
{
	struct run_writer *w;
	size_t n = 0;

	if (open_file(s) != 0)
		return -1;
	if (s->bloom == NULL && (s->bloom = calloc(BLOOM_BLOCKS * 8, sizeof(uint64_t))) == NULL)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i])
			s->tab[n++] = s->tab[i];
	qsort(s->tab, n, sizeof(uint64_t), cmp_key);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->s = s;
	w->r.off = s->end;
	for (size_t i = 0; i < n; i++) {
		bloom_add(s->bloom, s->tab[i]);
		if (writer_put(w, s->tab[i]) != 0) {
			free(w->r.fence);
			free(w);
			return -1;
		}
	}
	if (writer_flush(w) != 0) {
		free(w->r.fence);
		free(w);
		return -1;
	}
	s->end += (off_t)(n * sizeof(uint64_t));
	s->runs[s->nruns++] = w->r;
	free(w);
	memset(s->tab, 0, s->cap * sizeof(uint64_t));
	s->n = 0;
	while (s->nruns >= 2 &&
	       (s->nruns == MAX_RUNS || s->runs[s->nruns - 1].n * 3 >= s->runs[s->nruns - 2].n))
		if (merge_last_two(s) != 0)
			return -1;
	return 0;
}

/* 1 when m is in run r. */
static int run_has(struct values_seen *s, const struct run *r, uint64_t m)
{
	size_t lo = 0, hi = (r->n + BLOCK_KEYS - 1) / BLOCK_KEYS, blk, nk;

	if (r->n == 0 || m < r->fence[0])
		return 0;
	while (hi - lo > 1) { /* the last block whose first key is <= m */
		size_t mid = lo + (hi - lo) / 2;

		if (r->fence[mid] <= m)
			lo = mid;
		else
			hi = mid;
	}
	blk = lo;
	if (r->fence[blk] == m)
		return 1;
	nk = r->n - blk * BLOCK_KEYS < BLOCK_KEYS ? r->n - blk * BLOCK_KEYS : BLOCK_KEYS;
	if (io_all(s->fd, s->block, nk * sizeof(uint64_t),
	           r->off + (off_t)(blk * BLOCK_KEYS * sizeof(uint64_t)), 0) != 0)
		return -1;
	return bsearch(&m, s->block, nk, sizeof(uint64_t), cmp_key) != NULL;
}

static int grow(struct values_seen *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 16;
	uint64_t *nt = calloc(ncap, sizeof(*nt));

	if (nt == NULL)
		return -1;
	for (size_t k = 0; k < s->cap; k++)
		if (s->tab[k]) {
			size_t i = (size_t)(s->tab[k] & (ncap - 1));

			while (nt[i])
				i = (i + 1) & (ncap - 1);
			nt[i] = s->tab[k];
		}
	free(s->tab);
	s->tab = nt;
	s->cap = ncap;
	return 0;
}

int values_seen_add(struct values_seen *s, uint64_t key)
{
	uint64_t m = values_mix64(key); /* a bijection: the set stays exact */
	size_t i;

	if (s->failed)
		return -1;
	if (m == 0) { /* the one key the table cannot hold */
		if (s->has_zero)
			return 0;
		s->has_zero = 1;
		s->total++;
		return 1;
	}
	if (s->cap) {
		for (i = (size_t)(m & (s->cap - 1)); s->tab[i]; i = (i + 1) & (s->cap - 1))
			if (s->tab[i] == m)
				return 0;
	}
	if (s->nruns && bloom_has(s->bloom, m))
		for (size_t r = s->nruns; r-- > 0;) {
			int h = run_has(s, &s->runs[r], m);

			if (h < 0)
				goto fail;
			if (h)
				return 0;
		}
	if (s->n >= s->max_n && spill(s) != 0)
		goto fail;
	/* keep the load at most 3/4 */
	while ((s->n + 1) * 4 > s->cap * 3)
		if (grow(s) != 0)
			goto fail;
	for (i = (size_t)(m & (s->cap - 1)); s->tab[i]; i = (i + 1) & (s->cap - 1))
		;
	s->tab[i] = m;
	s->n++;
	s->total++;
	return 1;
fail:
	s->failed = 1;
	return -1;
}

static void drop_runs(struct values_seen *s)
{
	for (size_t i = 0; i < s->nruns; i++)
		free(s->runs[i].fence);
	s->nruns = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->end = 0;
	free(s->bloom);
	s->bloom = NULL;
}

void values_seen_clear(struct values_seen *s)
{
	drop_runs(s);
	if (s->cap > 64) {
		free(s->tab);
		s->tab = NULL;
		s->cap = 0;
	} else if (s->n) {
		memset(s->tab, 0, s->cap * sizeof(uint64_t));
	}
	s->n = 0;
	s->total = 0;
	s->has_zero = 0;
	s->failed = 0;
}

void values_seen_free(struct values_seen *s)
{
	if (s == NULL)
		return;
	drop_runs(s);
	free(s->tab);
	free(s);
}
