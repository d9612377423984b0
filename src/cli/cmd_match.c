/*
 * cli/cmd_match.c — `tix match`: compiles the store's active indicators (or
 * loads a compiled index file), scans log files, globs, gzip files and
 * stdin with the match module, prints one JSON line per match and a
 * summary, and records sightings of what matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "api/api.h"
#include "cli/cli.h"
#include "match/match.h"
#include "pattern/pattern.h"
#include "stix/stix.h"
#include "sync/sync.h"
#include "values/values.h"

#define READ_CHUNK  ((size_t)1 << 20)
#define MAX_INPUTS  4096
#define FOLLOW_POLL 250000 /* microseconds */
#define STATS_EVERY 10.0   /* seconds between --stats-file writes with --follow */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix match [--db PATH | --index FILE | --bundle FILE...] [--subdomains]\n"
	        "                 [--format auto|text|jsonl|zeek] [--threads N] [--follow]\n"
	        "                 [--warninglists DIR|FILE]... [--no-warninglists] [--list-flagged]\n"
	        "                 [--index-out FILE] [--sightings [--sensor NAME] [--collection C]]\n"
	        "                 [--report URL] [--min-score S] [--stats-file FILE]\n"
	        "                 [--quiet] [--max-line N] [--exercise ID] FILE...|-\n\n"
	        "Finds the values of active STIX indicators (not revoked, inside valid_from /\n"
	        "valid_until, pattern_type stix) in logs: plain text, JSON lines (Suricata\n"
	        "eve.json, Zeek JSON) and Zeek TSV; files, globs, gzip files and stdin (-).\n"
	        "Prints one JSON line per match and a summary on stderr. Exit 0 when\n"
	        "something matched, 1 when nothing did, 2 on a usage error or a failed\n"
	        "report, 3 when a FILE cannot be read. See docs/match.md.\n\n"
	        "  --db PATH            the store to read indicators from (default $TIX_DB\n"
	        "                       or ./var/tix.db)\n"
	        "  --index FILE         use a compiled index file instead of a store\n"
	        "  --bundle FILE        read indicators from a STIX bundle instead of a store\n"
	        "                       (repeatable)\n"
	        "  --index-out FILE     write the compiled index to FILE (then scan any FILEs)\n"
	        "  --subdomains         a.b.evil.example matches evil.example (as DNS RPZ)\n"
	        "  --format F           how to read the logs (default auto, per file)\n"
	        "  --threads N          scan a large regular file with N threads (default:\n"
	        "                       the number of cores)\n"
	        "  --follow             keep reading the (last) FILE as it grows, across rotation\n"
	        "  --warninglists P     MISP warninglists: flag indicators on them and\n"
	        "                       suppress their matches (repeatable)\n"
	        "  --no-warninglists    report matches of flagged indicators too\n"
	        "  --list-flagged       print the flagged indicators on stderr\n"
	        "  --sightings          record one STIX sighting per indicator, sensor and day (of\n"
	        "                       the log lines' own timestamps) in the store; re-scanning\n"
	        "                       lines counted before changes nothing, new lines raise\n"
	        "                       count and move last_seen in a new version\n"
	        "  --sensor NAME        the identity named in where_sighted_refs (default: the\n"
	        "                       host name)\n"
	        "  --min-score S        from a store: leave out indicators whose decay score\n"
	        "                       (0-100, docs/decay.md) is below S; indicators `tix\n"
	        "                       expire` marked are always left out\n"
	        "  --exercise ID        drill exercise ID's indicators too (left out otherwise),\n"
	        "                       its sightings marked as that exercise's (docs/drill.md)\n"
	        "  --collection C       store the sightings (and the sensor) in collection C, so\n"
	        "                       TAXII serves them\n"
	        "  --report URL         post the sightings to the TAXII 2.1 collection at URL\n"
	        "                       (.../collections/ID/) instead of the store; the key\n"
	        "                       comes from $TIX_API_KEY, or $TIX_USER and $TIX_PASSWORD;\n"
	        "                       retried with back-off, the status followed to the end\n"
	        "  --ca-file FILE       with --report: the CA certificates to check the node's\n"
	        "                       HTTPS certificate against (default: the system's)\n"
	        "  --stats-file FILE    write the counters (lines, bytes, matches, skipped\n"
	        "                       lines) to FILE in the Prometheus text format, every\n"
	        "                       10 s with --follow and at the end; `tix serve\n"
	        "                       --match-stats DIR` adds DIR/*.prom to GET /metrics\n"
	        "  --quiet              no match lines, only the summary and exit code\n"
	        "  --max-line N         skip lines longer than N bytes (default 1M)\n");
}

/* --sightings: each matched (indicator, line), with the line's own time
 * (or the scan's) and the key of its bytes. */
struct seen_line {
	uint32_t ind;
	int64_t time_us;
	uint64_t key;
};

struct sight_log {
	struct seen_line *v;
	size_t n, cap;
	int oom;
	int64_t scan_us; /* the time of lines that say none */
};

struct run {
	const struct match_index *x;
	struct match_scan_opts so;
	const char *source;
	int quiet;
	FILE *out;
	struct tix_buf line;
	struct sight_log *sl; /* NULL unless --sightings */
	uint64_t hits;
	uint64_t line_add, offset_add; /* when a part of a file is scanned alone */
	/* --stats-file: the counters so far, written every STATS_EVERY s */
	const char *stats_file;
	struct cli_match_stats ms;
	double scan_started, stats_last;
};

/* Set by SIGINT or SIGTERM: --follow then ends as if its input had. */
static volatile sig_atomic_t stop_following;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_following = 1;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void format_hit(struct tix_buf *b, const struct match_index *x, const char *source,
                       const struct match_hit *h)
{
	struct match_indicator ind;

	match_index_indicator(x, h->indicator, &ind);
	tix_buf_reset(b);
	tix_buf_adds(b, "{\"source\":");
	tix_buf_add_json_string(b, source);
	tix_buf_addf(b, ",\"line\":%llu,\"offset\":%llu,\"field\":", (unsigned long long)h->line,
	             (unsigned long long)h->offset);
	if (h->field)
		tix_buf_add_json_string(b, h->field);
	else
		tix_buf_adds(b, "null");
	tix_buf_adds(b, ",\"value\":");
	tix_buf_add_json_string(b, h->value);
	tix_buf_adds(b, ",\"indicator\":");
	tix_buf_add_json_string(b, ind.id);
	tix_buf_adds(b, ",\"name\":");
	tix_buf_add_json_string(b, ind.name);
	tix_buf_adds(b, ",\"tlp\":");
	if (ind.tlp)
		tix_buf_add_json_string(b, ind.tlp);
	else
		tix_buf_adds(b, "null");
	if (h->flagged) {
		tix_buf_adds(b, ",\"warninglist\":");
		tix_buf_add_json_string(b, ind.warninglist ? ind.warninglist : "");
	}
	tix_buf_adds(b, "}\n");
}

static int seen_cmp(const void *a, const void *b)
{
	const struct seen_line *x = a, *y = b;
	int64_t dx = x->time_us / 86400000000LL, dy = y->time_us / 86400000000LL;

	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->time_us < y->time_us ? -1 : x->time_us > y->time_us;
}

/* Sorts by (indicator, day, line key) and keeps one entry of each. */
static void seen_compact(struct sight_log *sl)
{
	size_t k = 0;

	qsort(sl->v, sl->n, sizeof(*sl->v), seen_cmp);
	for (size_t i = 0; i < sl->n; i++)
		if (k == 0 || sl->v[i].ind != sl->v[k - 1].ind ||
		    sl->v[i].key != sl->v[k - 1].key ||
		    sl->v[i].time_us / 86400000000LL != sl->v[k - 1].time_us / 86400000000LL)
			sl->v[k++] = sl->v[i];
	sl->n = k;
}

static void note_hit(struct run *r, const struct match_hit *h)
{
	struct sight_log *sl = r->sl;

	r->hits++;
	if (sl == NULL || sl->oom)
		return;
	if (sl->n == sl->cap) {
		if (sl->n >= ((size_t)1 << 22))
			seen_compact(sl); /* the same lines again (a file re-read) take no room */
		if (sl->n == sl->cap) {
			size_t nc = sl->cap ? sl->cap * 2 : 1024;
			void *nv = realloc(sl->v, nc * sizeof(*sl->v));

			if (nv == NULL) {
				sl->oom = 1;
				return;
			}
			sl->v = nv;
			sl->cap = nc;
		}
	}
	sl->v[sl->n].ind = h->indicator;
	sl->v[sl->n].time_us = h->time_us > 0 ? h->time_us : sl->scan_us;
	sl->v[sl->n].key = h->line_key;
	sl->n++;
}

static int on_hit(void *arg, const struct match_hit *h)
{
	struct run *r = arg;
	struct match_hit h2 = *h;

	note_hit(r, h);
	if (r->quiet)
		return 0;
	h2.line += r->line_add;
	h2.offset += r->offset_add;
	format_hit(&r->line, r->x, r->source, &h2);
	fwrite(tix_buf_str(&r->line), 1, tix_buf_len(&r->line), r->out);
	return 0;
}

/* ---- building the index ---------------------------------------------------- */

struct build {
	struct match_builder *b;
	int64_t now;
	size_t seen, added, inactive, not_stix, unindexable, invalid;
	/* from a store: indicators `tix expire` marked, and --min-score */
	struct store *s;
	struct store_id_set expired; /* tix expire marked them */
	size_t decayed;
	double min_score; /* < 0: none */
	struct values_decay_model model;
	struct api_reader reader;
	const char *exercise; /* --exercise: that drill exercise's indicators too */
	struct tix_error err;
	int oom;
};

static void count_add(struct build *bd, enum match_add r);

static void build_add(struct build *bd, const json_t *obj)
{
	const char *type = json_string_value(json_object_get(obj, "type"));

	if (type == NULL || strcmp(type, "indicator") != 0)
		return;
	count_add(bd, match_builder_add(bd->b, obj, bd->now, &bd->err));
}

static void count_add(struct build *bd, enum match_add r)
{
	bd->seen++;
	switch (r) {
	case MATCH_ADDED: bd->added++; break;
	case MATCH_INACTIVE: bd->inactive++; break;
	case MATCH_NOT_STIX: bd->not_stix++; break;
	case MATCH_UNINDEXABLE: bd->unindexable++; break;
	default:
		if (bd->err.code == TIX_ENOMEM)
			bd->oom = 1;
		bd->invalid++;
		break;
	}
}

static int decayed(struct build *bd, const struct store_row *row)
{
	const char *id = row->id;
	json_t *o;
	double score;

	if (store_id_set_has(&bd->expired, id))
		return 1;
	if (bd->min_score < 0)
		return 0;
	if ((o = json_loadb(row->body, row->body_len, 0, NULL)) == NULL)
		return 0;
	score = api_indicator_score(bd->s, &bd->reader, &bd->model, o, bd->now);
	json_decref(o);
	return score < bd->min_score;
}

static int build_row(void *arg, const struct store_row *row)
{
	struct build *bd = arg;
	int other;
	enum match_add r;
	struct policy_object o = {row->type, row->aud.tlp, row->aud.tlp_flags, NULL, NULL, NULL,
	                          1,         NULL};
	char ex[64];

	if (row->aud.tlp_flags & STIX_TLPF_EXERCISE)
		o.exercise = stix_exercise_of(row->body, row->body_len, ex, sizeof(ex));
	if (!policy_exercise_admits(bd->exercise, &o))
		return 0; /* drill data, for who asks for its exercise (docs/drill.md) */
	if ((bd->expired.n || bd->min_score >= 0) && decayed(bd, row)) {
		bd->seen++;
		bd->decayed++;
		return 0;
	}
	r = match_builder_add_raw(bd->b, row->body, row->body_len, bd->now, &other, &bd->err);

	if (!other)
		count_add(bd, r);
	return bd->oom;
}

/* Reads indicators from a STIX bundle (or array) file, mapped: each
 * object's bytes go to the builder without a JSON tree when they can. */
static enum tix_err build_bundle(struct build *bd, const char *path, struct tix_error *err)
{
	struct stix_reader *r = NULL;
	struct stat st;
	void *m = NULL;
	enum tix_err e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return tix_error_set(err, TIX_EINVAL, path, "not a regular, non-empty file");
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return tix_error_set(err, TIX_EIO, path, "cannot map: %s", strerror(errno));
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	if ((e = stix_reader_open(m, (size_t)st.st_size, path, &r, err)) == TIX_OK) {
		for (;;) {
			const char *raw, *p;
			size_t rawlen, used;
			int other;
			enum match_add a;

			/* one pass over a plain object: the builder finds its end */
			if (stix_reader_kind(r) != STIX_DOC_OBJECT) {
				e = stix_reader_head(r, &raw, &rawlen, err);
				if (e != TIX_OK || raw == NULL)
					break;
				if (match_builder_add_prefix(bd->b, raw, rawlen, bd->now, &used, &a,
				                             &other, &bd->err)) {
					if (!other)
						count_add(bd, a);
					e = stix_reader_skip_len(r, used, err);
					if (e != TIX_OK || bd->oom)
						break;
					continue;
				}
			}
			e = stix_reader_peek(r, &raw, &rawlen, &p, err);
			if (e != TIX_OK || raw == NULL)
				break;
			if (rawlen > 0) {
				a = match_builder_add_raw(bd->b, raw, rawlen, bd->now, &other,
				                          &bd->err);

				if (!other)
					count_add(bd, a);
				e = stix_reader_skip(r, err);
			} else {
				json_t *obj;

				e = stix_reader_take(r, &obj, err);
				if (e == TIX_OK) {
					build_add(bd, obj);
					json_decref(obj);
				}
			}
			if (e != TIX_OK || bd->oom)
				break;
		}
	}
	stix_reader_close(r);
	munmap(m, (size_t)st.st_size);
	return e;
}

/* ---- reading inputs ------------------------------------------------------- */

struct chunk_job {
	struct run r;
	const char *data;
	size_t len;
	uint64_t base_off;
	struct match_scanner *sc;
	struct tix_buf hits; /* formatted with line 0: fixed when printed */
	struct {
		uint64_t line, offset;
		uint32_t ind;
		size_t at, len;
		int64_t time_us;
		uint64_t key;
	} * rec;
	size_t nrec, caprec;
	struct match_scan_stats st;
	int oom;
	int buffered;       /* not the first part: its matches wait for the parts before */
	size_t cap;         /* PART_BUFFER_CAP, or $TIX_MATCH_PART_BUFFER for tests */
	uint64_t stop_line; /* the buffer filled up on this line: scan on from it later */
	size_t stop_off;    /* where that line starts in the part */
};

/* A part's matches wait in memory until the parts before it are printed;
 * past this much, the part stops and the rest of it is scanned after them
 * (so memory stays bounded whatever the input). */
#define PART_BUFFER_CAP ((size_t)64 << 20)

static int chunk_hit(void *arg, const struct match_hit *h)
{
	struct chunk_job *j = arg;
	struct match_hit h2 = *h;

	if (j->buffered && tix_buf_len(&j->hits) + j->nrec * sizeof(*j->rec) > j->cap) {
		size_t at = h->offset < j->len ? (size_t)h->offset : j->len;

		while (j->nrec > 0 && j->rec[j->nrec - 1].line == h->line)
			j->nrec--; /* the whole line is scanned again later */
		while (at > 0 && j->data[at - 1] != '\n')
			at--;
		j->stop_line = h->line;
		j->stop_off = at;
		return 1;
	}
	if (j->nrec == j->caprec) {
		size_t nc = j->caprec ? j->caprec * 2 : 64;
		void *nv = realloc(j->rec, nc * sizeof(*j->rec));

		if (nv == NULL) {
			j->oom = 1;
			return 1;
		}
		j->rec = nv;
		j->caprec = nc;
	}
	h2.offset += j->base_off;
	j->rec[j->nrec].line = h->line;
	j->rec[j->nrec].ind = h->indicator;
	j->rec[j->nrec].time_us = h->time_us;
	j->rec[j->nrec].key = h->line_key;
	j->rec[j->nrec].at = tix_buf_len(&j->hits);
	if (!j->r.quiet) {
		format_hit(&j->r.line, j->r.x, j->r.source, &h2);
		if (tix_buf_add(&j->hits, tix_buf_str(&j->r.line), tix_buf_len(&j->r.line)) !=
		    TIX_OK) {
			j->oom = 1;
			return 1;
		}
	}
	j->rec[j->nrec].len = tix_buf_len(&j->hits) - j->rec[j->nrec].at;
	j->nrec++;
	return 0;
}

/* Where ,"line": is in a formatted match (the source before it is a JSON
 * string, so the sequence cannot occur inside it). */
static const char *line_field(const char *txt, size_t len)
{
	for (size_t i = 0; i + 8 <= len; i++)
		if (txt[i] == ',' && memcmp(txt + i, ",\"line\":", 8) == 0)
			return txt + i;
	return txt;
}

static void *chunk_main(void *arg)
{
	struct chunk_job *j = arg;

	match_scanner_feed(j->sc, j->data, j->len);
	match_scanner_end(j->sc);
	match_scanner_get_stats(j->sc, &j->st);
	return NULL;
}

struct totals {
	struct match_scan_stats st;
	size_t files, unreadable, truncated_gz;
};

static void add_stats(struct match_scan_stats *t, const struct match_scan_stats *s)
{
	t->lines += s->lines;
	t->bytes += s->bytes;
	t->hits += s->hits;
	t->hit_lines += s->hit_lines;
	t->suppressed += s->suppressed;
	t->long_lines += s->long_lines;
	t->binary_lines += s->binary_lines;
	t->bad_utf8_lines += s->bad_utf8_lines;
	t->bad_json_lines += s->bad_json_lines;
	t->tokens += s->tokens;
}

/* A mapped regular file split at line ends over threads; matches are
 * printed in file order, with line numbers counted across the chunks. */
static int scan_mapped(struct run *r, const char *data, size_t len, int threads, struct totals *tot)
{
	struct chunk_job *jobs = calloc((size_t)threads, sizeof(*jobs));
	pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
	size_t start = 0;
	uint64_t line_base = 0;
	int n = 0, rc = 0;
	const char *part_cap_env = getenv("TIX_MATCH_PART_BUFFER"); /* tests only */

	if (jobs == NULL || tid == NULL) {
		free(jobs);
		free(tid);
		return -1;
	}
	for (int i = 0; i < threads && start < len; i++) {
		size_t end = i == threads - 1 ? len : start + (len - start) / (size_t)(threads - i);
		const char *nl;

		if (end < len && (nl = memchr(data + end, '\n', len - end)) != NULL)
			end = (size_t)(nl - data) + 1;
		else
			end = len;
		jobs[n].r = *r;
		tix_buf_init(&jobs[n].r.line, TIX_BUF_UNLIMITED);
		tix_buf_init(&jobs[n].hits, TIX_BUF_UNLIMITED);
		jobs[n].data = data + start;
		jobs[n].len = end - start;
		jobs[n].base_off = start;
		jobs[n].buffered = n > 0;
		jobs[n].cap = part_cap_env ? strtoull(part_cap_env, NULL, 10) : PART_BUFFER_CAP;
		/* the first part prints as it goes; the others wait for it */
		jobs[n].r.hits = 0;
		jobs[n].sc = n == 0 ? match_scanner_new(r->x, &r->so, on_hit, &jobs[n].r)
		                    : match_scanner_new(r->x, &r->so, chunk_hit, &jobs[n]);
		if (jobs[n].sc == NULL) {
			rc = -1;
			break;
		}
		n++;
		start = end;
	}
	for (int i = 0; rc == 0 && i < n; i++)
		if (n == 1 || pthread_create(&tid[i], NULL, chunk_main, &jobs[i]) != 0) {
			chunk_main(&jobs[i]);
			tid[i] = 0;
		}
	for (int i = 0; i < n; i++) {
		struct chunk_job *j = &jobs[i];

		if (rc == 0 && n > 1 && tid[i])
			pthread_join(tid[i], NULL);
		if (rc == 0) {
			for (size_t k = 0; k < j->nrec; k++) {
				struct match_hit h;

				h.indicator = j->rec[k].ind;
				h.time_us = j->rec[k].time_us;
				h.line_key = j->rec[k].key;
				r->hits--; /* note_hit counts it again */
				note_hit(r, &h);
				if (!r->quiet) {
					/* the chunk's line numbers start at 1: shift them */
					const char *txt = tix_buf_str(&j->hits) + j->rec[k].at;
					const char *ln = line_field(txt, j->rec[k].len);
					const char *rest =
					        memchr(ln + 8, ',',
					               j->rec[k].len - (size_t)(ln + 8 - txt));

					fwrite(txt, 1, (size_t)(ln - txt), r->out);
					fprintf(r->out, ",\"line\":%llu",
					        (unsigned long long)j->rec[k].line +
					                (unsigned long long)line_base);
					fwrite(rest, 1, j->rec[k].len - (size_t)(rest - txt),
					       r->out);
				}
				r->hits++;
			}
			if (j->oom)
				rc = -1;
			if (i == 0)
				r->hits += j->r.hits;
			if (j->stop_line == 0) {
				line_base += j->st.lines;
				add_stats(&tot->st, &j->st);
			} else {
				/* the buffer filled up: the rest of this part now, printed directly
				 */
				struct match_scanner *sc =
				        match_scanner_new(r->x, &r->so, on_hit, r);
				struct match_scan_stats st;

				if (sc == NULL) {
					rc = -1;
				} else {
					r->line_add = line_base + j->stop_line - 1;
					r->offset_add = j->base_off + j->stop_off;
					match_scanner_feed(sc, j->data + j->stop_off,
					                   j->len - j->stop_off);
					match_scanner_end(sc);
					match_scanner_get_stats(sc, &st);
					match_scanner_free(sc);
					r->line_add = r->offset_add = 0;
					st.lines += j->stop_line - 1;
					for (size_t k = 0; k < j->nrec;
					     k++) /* the lines printed before */
						st.hit_lines +=
						        k == 0 ||
						        j->rec[k].line != j->rec[k - 1].line;
					st.bytes = j->len;
					line_base += st.lines;
					add_stats(&tot->st, &st);
				}
			}
		}
		match_scanner_free(j->sc);
		tix_buf_release(&j->r.line);
		tix_buf_release(&j->hits);
		free(j->rec);
	}
	free(jobs);
	free(tid);
	return rc;
}

static int is_gzip(int fd)
{
	unsigned char m[2];

	if (pread(fd, m, 2, 0) != 2)
		return 0;
	return m[0] == 0x1f && m[1] == 0x8b;
}

/* --stats-file: the finished inputs' counters and the running scanner's. */
static int stats_write(struct run *r, const struct totals *tot, const struct match_scanner *sc)
{
	struct match_scan_stats cur;

	r->ms.st = tot->st;
	if (sc) {
		match_scanner_get_stats(sc, &cur);
		add_stats(&r->ms.st, &cur);
	}
	r->ms.files = tot->files;
	r->ms.scan_seconds = mono() - r->scan_started;
	r->stats_last = mono();
	return cli_match_stats_write(r->stats_file, &r->ms);
}

static void stats_tick(struct run *r, const struct totals *tot, const struct match_scanner *sc)
{
	if (r->stats_file && mono() - r->stats_last >= STATS_EVERY)
		stats_write(r, tot, sc);
}

/* Streams fd (gzip or not) through one scanner. With follow, keeps
 * reading at the end of the file and reopens path when it was rotated
 * (another inode, or the file shrank). */
static int scan_stream(struct run *r, const char *path, int fd, int follow, struct totals *tot)
{
	struct match_scanner *sc = match_scanner_new(r->x, &r->so, on_hit, r);
	struct match_scan_stats st;
	char *buf = malloc(READ_CHUNK);
	gzFile gz = NULL;
	int rc = 0;

	if (sc == NULL || buf == NULL) {
		match_scanner_free(sc);
		free(buf);
		close(fd);
		return -1;
	}
	if (!follow && is_gzip(fd)) {
		gz = gzdopen(fd, "rb");
		if (gz == NULL) {
			close(fd);
			rc = -1;
			goto out;
		}
		gzbuffer(gz, 256 * 1024);
	}
	for (;;) {
		ssize_t n;

		if (gz) {
			int gn = gzread(gz, buf, (unsigned)READ_CHUNK);

			if (gn < 0) {
				int e;

				fprintf(stderr, "tix match: %s: %s (the rest of it is skipped)\n",
				        r->source, gzerror(gz, &e));
				tot->truncated_gz++;
				break;
			}
			n = gn;
			if (n == 0 && !gzeof(gz))
				continue;
		} else {
			n = read(fd, buf, READ_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "tix match: %s: %s\n", r->source, strerror(errno));
				rc = -1;
				break;
			}
		}
		if (n == 0) {
			struct stat a, b;

			if (gz && gzdirect(gz) == 0) {
				/* gzread reports a truncated stream as a plain end
				 * only through gzerror's Z_BUF_ERROR */
				int e;

				gzerror(gz, &e);
				if (e == Z_BUF_ERROR) {
					fprintf(stderr, "tix match: %s: truncated gzip stream\n",
					        r->source);
					tot->truncated_gz++;
				}
			}
			if (!follow || stop_following)
				break;
			fflush(r->out);
			stats_tick(r, tot, sc);
			usleep(FOLLOW_POLL);
			if (stat(path, &b) == 0 && fstat(fd, &a) == 0 &&
			    (a.st_ino != b.st_ino || a.st_dev != b.st_dev ||
			     b.st_size < lseek(fd, 0, SEEK_CUR))) {
				int nfd = open(path, O_RDONLY | O_CLOEXEC);

				if (nfd >= 0) { /* rotated: finish the old one, go on with
					           the new */
					while ((n = read(fd, buf, READ_CHUNK)) > 0)
						match_scanner_feed(sc, buf, (size_t)n);
					close(fd);
					fd = nfd;
					match_scanner_end(sc); /* line numbers start again */
					match_scanner_begin(sc);
				}
			}
			continue;
		}
		if (match_scanner_feed(sc, buf, (size_t)n))
			break;
		if (follow) {
			fflush(r->out);
			stats_tick(r, tot, sc);
		}
	}
	match_scanner_end(sc);
out:
	if (gz)
		gzclose(gz);
	else
		close(fd);
	match_scanner_get_stats(sc, &st);
	add_stats(&tot->st, &st);
	match_scanner_free(sc);
	free(buf);
	return rc;
}

static int scan_path(struct run *r, const char *path, int threads, int follow, struct totals *tot)
{
	struct stat st;
	int fd, rc;

	r->source = strcmp(path, "-") == 0 ? "<stdin>" : path;
	tot->files++;
	if (strcmp(path, "-") == 0)
		return scan_stream(r, path, 0, 0, tot);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "tix match: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		tot->unreadable++;
		return -1;
	}
	if (!follow && S_ISREG(st.st_mode) && st.st_size > 0 && !is_gzip(fd)) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		close(fd);
		if (m == MAP_FAILED) {
			fprintf(stderr, "tix match: %s: %s\n", path, strerror(errno));
			tot->unreadable++;
			return -1;
		}
		madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
		/* small files are not worth a thread; a Zeek file's parts would
		 * lack its header */
		if ((size_t)st.st_size < ((size_t)8 << 20) || r->so.format == MATCH_FORMAT_ZEEK ||
		    (r->so.format == MATCH_FORMAT_AUTO && *(const char *)m == '#'))
			threads = 1;
		rc = scan_mapped(r, m, (size_t)st.st_size, threads, tot);
		munmap(m, (size_t)st.st_size);
		return rc;
	}
	if (follow)
		lseek(fd, 0, SEEK_SET);
	return scan_stream(r, path, fd, follow, tot);
}

/* ---- sightings ------------------------------------------------------------- */

static enum tix_err put_object(struct store *s, json_t *obj, const struct store_collection *coll,
                               struct tix_error *err)
{
	struct stix_validate_opts vopts = {0, pattern_check};
	struct stix_problems probs;
	struct stix_meta meta;
	struct tix_buf body;
	const char *type = json_string_value(json_object_get(obj, "type"));
	int added;
	enum tix_err e;

	stix_problems_init(&probs);
	if (stix_validate(obj, type ? type : "sighting", &vopts, &probs) > 0) {
		e = tix_error_set(err, TIX_EINVAL, type ? type : "sighting", "%s",
		                  probs.count ? probs.msgs[0] : "invalid");
		stix_problems_release(&probs);
		return e;
	}
	stix_problems_release(&probs);
	if ((e = stix_meta_get(obj, &meta, err)) != TIX_OK)
		return e;
	if (store_has_version(s, &meta, NULL) == 1)
		return store_link(s, &meta, NULL, coll, NULL, &added, err);
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	if (stix_json_dump(obj, &body) != TIX_OK) {
		tix_buf_release(&body);
		return tix_error_set(err, TIX_ENOMEM, "sighting", "out of memory");
	}
	e = store_put(s, &meta, tix_buf_str(&body), tix_buf_len(&body), NULL, coll, NULL, &added,
	              err);
	tix_buf_release(&body);
	return e;
}

static const struct tix_uuid sighting_ns = {{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80,
                                             0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};

/* The sensor's identity; its id is derived from the sensor's name, so
 * every run reuses it. */
static json_t *sensor_identity(const char *sensor, char ident[64])
{
	struct tix_uuid u;
	char us[37], name[300];

	snprintf(name, sizeof(name), "tix-sensor:%s", sensor);
	tix_uuid_v5(&sighting_ns, name, strlen(name), &u);
	snprintf(ident, 64, "identity--%s", tix_uuid_format(&u, us));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity", "spec_version",
	                 "2.1", "id", ident, "created", "2020-01-01T00:00:00.000Z", "modified",
	                 "2020-01-01T00:00:00.000Z", "name", sensor, "identity_class", "system");
}

/* One sighting per (indicator, sensor, day of the line's time): its id is
 * derived from the three, so every run finds the same one. */
static void sighting_id(const char *indicator, const char *ident, int64_t day, char out[64])
{
	struct tix_uuid u;
	char us[37], name[200], date[32];

	tix_time_format_us(day * 86400000000LL, 3, date);
	snprintf(name, sizeof(name), "tix-sighting:%s|%s|%.10s", indicator, ident, date);
	tix_uuid_v5(&sighting_ns, name, strlen(name), &u);
	snprintf(out, 64, "sighting--%s", tix_uuid_format(&u, us));
}

struct group {
	uint32_t ind;
	int64_t day;
	size_t from, to; /* entries of the sorted log */
};

/* Calls fn for each (indicator, day) of the compacted log. */
static int each_group(const struct sight_log *sl, int (*fn)(void *, const struct group *),
                      void *arg)
{
	for (size_t i = 0; i < sl->n;) {
		struct group g = {sl->v[i].ind, sl->v[i].time_us / 86400000000LL, i, i};

		while (g.to < sl->n && sl->v[g.to].ind == g.ind &&
		       sl->v[g.to].time_us / 86400000000LL == g.day)
			g.to++;
		if (fn(arg, &g) != 0)
			return -1;
		i = g.to;
	}
	return 0;
}

/* --exercise: the drill exercise the sightings belong to (docs/drill.md). */
static const char *sighting_exercise;

static json_t *sighting_object(const char *sid, const char *ind_id, const char *ident,
                               const char *created, const char *modified, int64_t count,
                               int64_t first_us, int64_t last_us)
{
	char first[32], last[32];
	json_t *o;

	tix_time_format_us(first_us, 3, first);
	tix_time_format_us(last_us, 3, last);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:[s], s:s}", "type",
	              "sighting", "spec_version", "2.1", "id", sid, "created", created, "modified",
	              modified, "first_seen", first, "last_seen", last, "sighting_of_ref", ind_id,
	              "count", (json_int_t)(count > 999999999 ? 999999999 : count),
	              "where_sighted_refs", ident, "created_by_ref", ident);
	if (o && sighting_exercise)
		json_object_set_new(o, STIX_TIX_EXERCISE, json_string(sighting_exercise));
	return o;
}

/* --report: the sightings of this run alone (the node reported to keeps
 * them; their ids are those the same lines give every time). */
struct report_build {
	const struct match_index *x;
	const struct sight_log *sl;
	const char *ident;
	char now[32];
	json_t *objs;
};

static int report_group(void *arg, const struct group *g)
{
	struct report_build *b = arg;
	struct match_indicator ind;
	char sid[64];
	json_t *o;

	match_index_indicator(b->x, g->ind, &ind);
	sighting_id(ind.id, b->ident, g->day, sid);
	o = sighting_object(sid, ind.id, b->ident, b->now, b->now, (int64_t)(g->to - g->from),
	                    b->sl->v[g->from].time_us, b->sl->v[g->to - 1].time_us);
	return o == NULL || json_array_append_new(b->objs, o) != 0;
}

/* The sighting's stored latest version: count, first/last seen, created,
 * modified (or *found 0). */
struct stored_sighting {
	int found;
	int64_t count, first_us, last_us, modified_us;
	char created[40];
};

static int64_t ts_us(const json_t *v)
{
	struct tix_time t;

	if (json_is_string(v) && tix_time_parse(json_string_value(v), &t, NULL) == TIX_OK)
		return tix_time_to_us(&t);
	return 0;
}

static int read_sighting(void *arg, const struct store_row *row)
{
	struct stored_sighting *ss = arg;
	json_t *o = json_loadb(row->body, row->body_len, 0, NULL);

	if (o == NULL)
		return 0;
	ss->found = 1;
	ss->count = json_integer_value(json_object_get(o, "count"));
	ss->first_us = ts_us(json_object_get(o, "first_seen"));
	ss->last_us = ts_us(json_object_get(o, "last_seen"));
	ss->modified_us = ts_us(json_object_get(o, "modified"));
	snprintf(ss->created, sizeof(ss->created), "%s",
	         json_string_value(json_object_get(o, "created"))
	                 ? json_string_value(json_object_get(o, "created"))
	                 : "");
	json_decref(o);
	return 1;
}

struct store_build {
	const struct match_index *x;
	const struct sight_log *sl;
	struct store *s;
	const struct store_collection *coll;
	const char *ident;
	int64_t now_us;
	size_t written, unchanged;
	struct tix_error *err;
};

/* Idempotent: only lines the sighting has not counted raise its count
 * (and move first/last seen), in a new version. */
static int store_group(void *arg, const struct group *g)
{
	struct store_build *b = arg;
	struct match_indicator ind;
	struct stored_sighting ss = {0};
	struct store_query q = {0};
	char sid[64], created[40], modified[32];
	int64_t fresh = 0, first = 0, last = 0, mod;
	json_t *o;
	enum tix_err e;

	match_index_indicator(b->x, g->ind, &ind);
	sighting_id(ind.id, b->ident, g->day, sid);
	for (size_t i = g->from; i < g->to; i++) {
		int r = store_sighting_line_add(b->s, sid, b->sl->v[i].key, b->err);

		if (r < 0)
			return 1;
		if (r == 1) {
			int64_t t = b->sl->v[i].time_us;

			if (fresh++ == 0 || t < first)
				first = t;
			if (t > last)
				last = t;
		}
	}
	if (fresh == 0) {
		b->unchanged++;
		return 0;
	}
	q.id = sid;
	if (store_query(b->s, &q, read_sighting, &ss, b->err) != TIX_OK)
		return 1;
	mod = b->now_us;
	if (ss.found) {
		fresh += ss.count;
		if (ss.first_us && ss.first_us < first)
			first = ss.first_us;
		if (ss.last_us > last)
			last = ss.last_us;
		if (mod <= ss.modified_us)
			mod = ss.modified_us + 1000; /* a new version is later than the last */
	}
	tix_time_format_us(mod, 3, modified);
	snprintf(created, sizeof(created), "%s", ss.found && ss.created[0] ? ss.created : modified);
	o = sighting_object(sid, ind.id, b->ident, created, modified, fresh, first, last);
	if (o == NULL) {
		tix_error_set(b->err, TIX_ENOMEM, "sighting", "out of memory");
		return 1;
	}
	e = put_object(b->s, o, b->coll, b->err);
	json_decref(o);
	if (e != TIX_OK)
		return 1;
	b->written++;
	return 0;
}

/* Stores the sensor's identity and the sightings of the log in one
 * transaction, in collection (when given) so that TAXII serves them. */
static int store_sightings(const char *db, const struct match_index *x, const struct sight_log *sl,
                           const char *sensor, const char *collection, size_t *written,
                           size_t *unchanged)
{
	struct tix_error err;
	struct store_collection coll;
	struct store *s = cli_open_store(cli_db_path(db));
	struct store_build b;
	char ident[64];
	json_t *id_obj = sensor_identity(sensor, ident);

	if (s == NULL || id_obj == NULL) {
		json_decref(id_obj);
		store_close(s);
		return -1;
	}
	tix_error_clear(&err);
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.sl = sl;
	b.s = s;
	b.ident = ident;
	b.now_us = now_us();
	b.err = &err;
	if (collection) {
		if (store_collection_get(s, collection, 0, &coll, &err) != TIX_OK)
			goto fail_open;
		b.coll = &coll;
	}
	if (store_begin(s, &err) != TIX_OK)
		goto fail_open;
	if (put_object(s, id_obj, b.coll, &err) != TIX_OK || each_group(sl, store_group, &b) != 0)
		goto fail;
	if (store_commit(s, &err) != TIX_OK)
		goto fail;
	json_decref(id_obj);
	store_close(s);
	*written = b.written;
	*unchanged = b.unchanged;
	return 0;
fail:
	store_rollback(s);
fail_open:
	cli_print_error("match", &err);
	json_decref(id_obj);
	store_close(s);
	return -1;
}

/* POSTs the objects, validated, as one TAXII 2.1 envelope to the objects
 * endpoint of a collection (url, .../collections/ID/) with the sync
 * module's client: retries with back-off, the status resource followed
 * until complete, certificates checked (against ca_file when given). The
 * API key comes from $TIX_API_KEY (Bearer), user and password from
 * $TIX_USER and $TIX_PASSWORD (Basic): never from the command line, where
 * other users of the machine could read it. */
static int report_sightings(const char *url, const char *ca_file, json_t *objs)
{
	struct stix_validate_opts vopts = {0, pattern_check};
	struct stix_problems probs;
	struct store_peer peer;
	struct sync_config cfg;
	struct sync_post_result res;
	struct tix_error err;
	struct tix_buf body;
	const char *key = getenv("TIX_API_KEY"), *user = getenv("TIX_USER");
	const char *pw = getenv("TIX_PASSWORD");
	json_t *env, *obj;
	size_t i;
	int rc = -1;

	stix_problems_init(&probs);
	json_array_foreach (objs, i, obj) {
		if (stix_validate(obj, "sighting", &vopts, &probs) > 0) {
			fprintf(stderr, "tix match: invalid sighting: %s\n",
			        probs.count ? probs.msgs[0] : "?");
			stix_problems_release(&probs);
			return -1;
		}
	}
	stix_problems_release(&probs);
	memset(&peer, 0, sizeof(peer));
	snprintf(peer.name, sizeof(peer.name), "--report");
	snprintf(peer.kind, sizeof(peer.kind), "taxii");
	if (key && *key) {
		snprintf(peer.secret, sizeof(peer.secret), "%s", key);
	} else if (user && *user) {
		snprintf(peer.user, sizeof(peer.user), "%s", user);
		snprintf(peer.secret, sizeof(peer.secret), "%s", pw ? pw : "");
	}
	if (ca_file)
		snprintf(peer.ca_file, sizeof(peer.ca_file), "%s", ca_file);
	sync_global_init();
	sync_config_init(&cfg);
	tix_error_clear(&err);
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	env = json_pack("{s:O}", "objects", objs);
	if (env == NULL || stix_json_dump(env, &body) != TIX_OK) {
		fprintf(stderr, "tix match: out of memory\n");
		goto out;
	}
	if (sync_post_objects(&peer, &cfg, url, tix_buf_str(&body), tix_buf_len(&body), &res,
	                      &err) != TIX_OK) {
		fprintf(stderr, "tix match: --report %s: %s\n", err.where, err.msg);
		goto out;
	}
	fprintf(stderr,
	        "tix match: reported to %s: HTTP %ld, status %s: %lld stored, %lld failed%s\n", url,
	        res.http_status, res.status_id[0] ? res.status_id : "?", (long long)res.successes,
	        (long long)res.failures, res.complete ? "" : ", still pending");
	if (res.first_failure[0])
		fprintf(stderr, "tix match: refused: %s\n", res.first_failure);
	rc = res.failures > 0 || !res.complete ? -1 : 0;
out:
	explicit_bzero(peer.secret, sizeof(peer.secret));
	json_decref(env);
	tix_buf_release(&body);
	return rc;
}

/* After the scan: the sightings stored (idempotent per line) or reported. */
static int write_sightings(const struct match_index *x, struct sight_log *sl, const char *db,
                           const char *sensor, const char *collection, const char *report,
                           const char *report_ca)
{
	size_t written = 0, unchanged = 0;

	if (sl->oom) {
		fprintf(stderr, "tix match: out of memory for sightings\n");
		return -1;
	}
	seen_compact(sl);
	if (report) {
		struct report_build b = {x, sl, NULL, "", NULL};
		char ident[64];
		json_t *id_obj = sensor_identity(sensor, ident);
		int rc;

		b.ident = ident;
		tix_time_format_us(now_us(), 3, b.now);
		b.objs = json_array();
		if (id_obj == NULL || b.objs == NULL ||
		    json_array_append_new(b.objs, id_obj) != 0 ||
		    each_group(sl, report_group, &b) != 0) {
			json_decref(b.objs);
			fprintf(stderr, "tix match: out of memory\n");
			return -1;
		}
		written = json_array_size(b.objs) - 1;
		rc = report_sightings(report, report_ca, b.objs);
		json_decref(b.objs);
		if (rc == 0)
			fprintf(stderr, "tix match: %zu sightings reported as \"%s\"\n", written,
			        sensor);
		return rc;
	}
	if (store_sightings(db, x, sl, sensor, collection, &written, &unchanged) != 0)
		return -1;
	fprintf(stderr, "tix match: %zu sightings recorded as \"%s\"%s%s", written, sensor,
	        collection ? " in " : "", collection ? collection : "");
	if (unchanged)
		fprintf(stderr, " (%zu unchanged: their lines were counted before)", unchanged);
	fputc('\n', stderr);
	return 0;
}

/* ---- the command ------------------------------------------------------------- */

int cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"index", required_argument, NULL, 'i'},
	        {"index-out", required_argument, NULL, 'o'},
	        {"bundle", required_argument, NULL, 'b'},
	        {"subdomains", no_argument, NULL, 's'},
	        {"format", required_argument, NULL, 'f'},
	        {"threads", required_argument, NULL, 't'},
	        {"follow", no_argument, NULL, 'F'},
	        {"warninglists", required_argument, NULL, 'w'},
	        {"no-warninglists", no_argument, NULL, 'W'},
	        {"list-flagged", no_argument, NULL, 'L'},
	        {"sightings", no_argument, NULL, 'S'},
	        {"sensor", required_argument, NULL, 'n'},
	        {"report", required_argument, NULL, 'R'},
	        {"ca-file", required_argument, NULL, 'A'},
	        {"collection", required_argument, NULL, 'c'},
	        {"min-score", required_argument, NULL, 'M'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"max-line", required_argument, NULL, 'm'},
	        {"stats-file", required_argument, NULL, 'T'},
	        {"exercise", required_argument, NULL, 'X'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *index_in = NULL, *index_out = NULL, *sensor = NULL, *report = NULL;
	const char *bundles[64], *wls[64];
	size_t nbundles = 0, nwls = 0;
	int ch, threads = (int)sysconf(_SC_NPROCESSORS_ONLN), follow = 0, list_flagged = 0,
	        no_wl = 0, sightings = 0, rc = EXIT_INVALID;
	struct run r;
	struct sight_log slog = {0};
	const char *collection = NULL, *report_ca = NULL;
	double min_score = -1;
	struct match_index *x = NULL;
	struct match_warninglists *wl = NULL;
	struct tix_error err;
	struct totals tot;
	struct match_index_stats ist;
	double t0 = mono(), t_build, t_scan;
	size_t max_line = 0;
	char host[256];

	memset(&r, 0, sizeof(r));
	memset(&tot, 0, sizeof(tot));
	tix_error_clear(&err);
	r.so.format = MATCH_FORMAT_AUTO;
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': index_in = optarg; break;
		case 'o': index_out = optarg; break;
		case 'b':
			if (nbundles == 64)
				goto usage_err;
			bundles[nbundles++] = optarg;
			break;
		case 's': r.so.subdomains = 1; break;
		case 'f':
			if (match_format_parse(optarg, &r.so.format) != 0) {
				fprintf(stderr, "tix match: --format: auto, text, jsonl or zeek\n");
				return EXIT_USAGE;
			}
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || v < 1 || v > 256) {
				fprintf(stderr, "tix match: --threads: 1 to 256\n");
				return EXIT_USAGE;
			}
			threads = (int)v;
			break;
		}
		case 'F': follow = 1; break;
		case 'w':
			if (nwls == 64)
				goto usage_err;
			wls[nwls++] = optarg;
			break;
		case 'W': no_wl = 1; break;
		case 'L': list_flagged = 1; break;
		case 'S': sightings = 1; break;
		case 'n': sensor = optarg; break;
		case 'c': collection = optarg; break;
		case 'X': sighting_exercise = optarg; break;
		case 'M': {
			char *end;

			min_score = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || min_score < 0 || min_score > 100) {
				fprintf(stderr, "tix match: --min-score: a number from 0 to 100\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'R':
			report = optarg;
			sightings = 1;
			break;
		case 'A': report_ca = optarg; break;
		case 'q': r.quiet = 1; break;
		case 'T': r.stats_file = optarg; break;
		case 'm':
			if (cli_parse_size(optarg, &max_line) != 0 || max_line < 256 ||
			    max_line > ((size_t)1 << 30)) {
				fprintf(stderr, "tix match: --max-line: 256 to 1G\n");
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: goto usage_err;
		}
	}
	if (threads < 1)
		threads = 1;
	if ((index_in && (db || nbundles)) || (optind >= argc && index_out == NULL) ||
	    (min_score >= 0 && (index_in || nbundles)) || (index_in && nwls)) {
	usage_err:
		if (index_in && nwls)
			fprintf(stderr, "tix match: warninglists are applied when an index is "
			                "compiled: give them with --index-out, not with --index\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (follow && (argc - optind != 1 || strcmp(argv[optind], "-") == 0)) {
		fprintf(stderr, "tix match: --follow takes one FILE\n");
		return EXIT_USAGE;
	}
	if (follow) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop_signal; /* no SA_RESTART: the poll's sleep ends */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if (collection && (!sightings || report)) {
		fprintf(stderr, "tix match: --collection goes with --sightings (stored here)\n");
		return EXIT_USAGE;
	}
	r.so.suppress_flagged = !no_wl;
	r.so.line_keys = sightings;
	r.so.now_us = now_us();
	r.so.max_line = max_line;
	r.out = stdout;
	tix_buf_init(&r.line, TIX_BUF_UNLIMITED);

	/* the index */
	if (index_in) {
		x = match_index_load(index_in, &err);
		if (x == NULL) {
			cli_print_error("match", &err);
			rc = EXIT_USAGE;
			goto out;
		}
	} else {
		struct build bd;

		memset(&bd, 0, sizeof(bd));
		tix_error_clear(&bd.err);
		bd.now = now_us();
		if (nwls) {
			wl = match_warninglists_new();
			for (size_t i = 0; wl && i < nwls; i++)
				if (match_warninglists_load(wl, wls[i], &err) != TIX_OK) {
					cli_print_error("match", &err);
					rc = EXIT_USAGE;
					goto out;
				}
		}
		bd.b = match_builder_new(wl);
		if (bd.b == NULL)
			goto oom;
		if (nbundles) {
			for (size_t i = 0; i < nbundles; i++)
				if (build_bundle(&bd, bundles[i], &err) != TIX_OK) {
					match_builder_free(bd.b);
					cli_print_error("match", &err);
					rc = EXIT_USAGE;
					goto out;
				}
		} else {
			static const char *const types[] = {"indicator", NULL};
			struct store_query q = {types, NULL, NULL, 0, 0};
			struct store *s = cli_open_existing_store(cli_db_path(db));

			if (s == NULL) {
				match_builder_free(bd.b);
				rc = EXIT_SYSTEM;
				goto out;
			}
			bd.s = s;
			bd.min_score = min_score;
			bd.exercise = sighting_exercise;
			api_reader_operator(&bd.reader);
			if (cli_decay_model(&bd.model) != 0 ||
			    store_expired_set_load(s, &bd.expired, &err) != TIX_OK ||
			    store_query(s, &q, build_row, &bd, &err) != TIX_OK) {
				store_id_set_release(&bd.expired);
				store_close(s);
				match_builder_free(bd.b);
				cli_print_error("match", &err);
				rc = EXIT_USAGE;
				goto out;
			}
			store_id_set_release(&bd.expired);
			store_close(s);
		}
		if (bd.oom) {
			match_builder_free(bd.b);
			goto oom;
		}
		x = match_builder_finish(bd.b, &err);
		if (x == NULL) {
			cli_print_error("match", &err);
			rc = EXIT_USAGE;
			goto out;
		}
		fprintf(stderr,
		        "tix match: %zu indicators read: %zu indexed, %zu inactive, %zu not stix, "
		        "%zu with nothing to look up, %zu invalid",
		        bd.seen, bd.added, bd.inactive, bd.not_stix, bd.unindexable, bd.invalid);
		if (bd.decayed)
			fprintf(stderr, ", %zu expired or below --min-score", bd.decayed);
		fputc('\n', stderr);
	}
	t_build = mono() - t0;
	match_index_get_stats(x, &ist);
	fprintf(stderr,
	        "tix match: index of %zu indicators, %zu values (%zu IPv4, %zu ranges, %zu "
	        "strings, %zu confirmed by the evaluator), %zu flagged by warninglists, %zu bytes "
	        "(%.1f per indicator), ready in %.3f s\n",
	        ist.indicators, ist.values, ist.ipv4, ist.cidr, ist.strings, ist.confirm,
	        ist.flagged, ist.bytes,
	        ist.indicators ? (double)ist.bytes / (double)ist.indicators : 0.0, t_build);
	if (list_flagged)
		for (uint32_t i = 0; i < match_index_count(x); i++) {
			struct match_indicator ind;

			match_index_indicator(x, i, &ind);
			if (ind.warninglist)
				fprintf(stderr,
				        "tix match: flagged: %s%s%s%s on warninglist \"%s\"\n",
				        ind.id, *ind.name ? " (" : "", ind.name,
				        *ind.name ? ")" : "", ind.warninglist);
		}
	if (index_out) {
		if (match_index_write(x, index_out, &err) != TIX_OK) {
			cli_print_error("match", &err);
			rc = EXIT_USAGE;
			goto out;
		}
		fprintf(stderr, "tix match: index written to %s\n", index_out);
		if (optind >= argc) {
			rc = EXIT_OK_;
			goto out;
		}
	}

	/* the scan */
	r.x = x;
	if (sightings) {
		r.sl = &slog;
		slog.scan_us = now_us();
	}
	t0 = mono();
	if (r.stats_file) {
		static char stats_host[256];

		if (sensor == NULL && gethostname(stats_host, sizeof(stats_host)) != 0)
			snprintf(stats_host, sizeof(stats_host), "tix");
		stats_host[sizeof(stats_host) - 1] = '\0';
		r.ms.sensor = sensor ? sensor : stats_host;
		r.ms.indicators = match_index_count(x);
		r.scan_started = r.stats_last = t0;
	}
	{
		int errors = 0, file_errors = 0;

		for (int i = optind; i < argc; i++) {
			glob_t g;

			if (strcmp(argv[i], "-") != 0 && strpbrk(argv[i], "*?[") != NULL &&
			    access(argv[i], F_OK) != 0) {
				if (glob(argv[i], 0, NULL, &g) != 0) {
					fprintf(stderr, "tix match: %s: no such file\n", argv[i]);
					file_errors++;
					continue;
				}
				for (size_t k = 0; k < g.gl_pathc; k++)
					file_errors +=
					        scan_path(&r, g.gl_pathv[k], threads, 0, &tot) != 0;
				globfree(&g);
				continue;
			}
			file_errors += scan_path(&r, argv[i], threads, follow, &tot) != 0;
		}
		fflush(stdout);
		t_scan = mono() - t0;
		if (r.stats_file && stats_write(&r, &tot, NULL) != 0)
			errors++;
		fprintf(stderr,
		        "tix match: %zu files, %llu lines, %llu bytes in %.3f s (%.1f MB/s): %llu "
		        "matches on %llu lines",
		        tot.files, (unsigned long long)tot.st.lines,
		        (unsigned long long)tot.st.bytes, t_scan,
		        t_scan > 0 ? (double)tot.st.bytes / 1e6 / t_scan : 0.0,
		        (unsigned long long)r.hits, (unsigned long long)tot.st.hit_lines);
		if (tot.st.suppressed)
			fprintf(stderr, ", %llu suppressed by warninglists",
			        (unsigned long long)tot.st.suppressed);
		fputc('\n', stderr);
		if (tot.st.long_lines || tot.st.binary_lines || tot.st.bad_utf8_lines ||
		    tot.st.bad_json_lines || tot.truncated_gz)
			fprintf(stderr,
			        "tix match: warning: skipped %llu lines over the line limit, %llu with NUL "
			        "bytes, %llu with invalid UTF-8, %llu not JSON; %zu truncated gzip files\n",
			        (unsigned long long)tot.st.long_lines,
			        (unsigned long long)tot.st.binary_lines,
			        (unsigned long long)tot.st.bad_utf8_lines,
			        (unsigned long long)tot.st.bad_json_lines, tot.truncated_gz);
		if (sightings && r.hits) {
			if (sensor == NULL) {
				if (gethostname(host, sizeof(host)) != 0)
					snprintf(host, sizeof(host), "tix");
				host[sizeof(host) - 1] = '\0';
				sensor = host;
			}
			errors += write_sightings(x, &slog, db, sensor, collection, report,
			                          report_ca) != 0;
		}
		/* A file that cannot be read is a system error (3), as for every
		 * command; a failed report or sighting is 2. */
		rc = file_errors ? EXIT_SYSTEM
		     : errors    ? EXIT_USAGE
		     : r.hits    ? EXIT_OK_
		                 : EXIT_INVALID;
	}
	goto out;
oom:
	fprintf(stderr, "tix match: out of memory\n");
	rc = EXIT_USAGE;
out:
	free(slog.v);
	tix_buf_release(&r.line);
	match_index_free(x);
	match_warninglists_free(wl);
	return rc;
}
