/*
 * cli/cmd_expire.c — `tix expire`: marks the indicators whose decay score
 * (docs/decay.md) fell below the floor, without deleting anything; marked
 * indicators leave the matcher's indexes and exports.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "values/values.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix expire [--db PATH] [--floor N] [--dry-run] [--json]\n\n"
	        "Computes each indicator's decay score (0-100: its confidence, decaying with\n"
	        "the time since valid_from, its last version or its last sighting, by the\n"
	        "lifetime and speed of its kind of value; tix.conf [decay]) and marks those\n"
	        "below the floor (default [decay] floor, 20) as expired. Nothing is deleted:\n"
	        "expired indicators stay in the store and TAXII, and leave `tix match`\n"
	        "indexes and `tix export` (unless --include-inactive). Prints what it marked.\n\n"
	        "  --floor N   the floor for this run (0-100)\n"
	        "  --dry-run   print what would be marked; mark nothing\n"
	        "  --json      one JSON object per indicator marked\n");
}

struct expiring {
	struct store *s;
	struct api_reader r;
	struct values_decay_model m;
	int64_t now_us;
	int dry_run, json;
	size_t seen, marked, already;
	struct tix_error *err;
	enum tix_err e;
	/* the ids to mark, written after the walk (the walk holds a read) */
	char (*ids)[64];
	double *scores;
	size_t n, cap;
};

static int consider(void *arg, const struct store_row *row)
{
	struct expiring *x = arg;
	json_t *o = json_loadb(row->body, row->body_len, 0, NULL);
	double score;

	if (o == NULL)
		return 0;
	x->seen++;
	score = api_indicator_score(x->s, &x->r, &x->m, o, x->now_us);
	json_decref(o);
	if (score >= x->m.floor || strlen(row->id) >= 64)
		return 0;
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		void *a = realloc(x->ids, nc * sizeof(*x->ids)), *b;

		if (a == NULL)
			return 1;
		x->ids = a;
		if ((b = realloc(x->scores, nc * sizeof(*x->scores))) == NULL)
			return 1;
		x->scores = b;
		x->cap = nc;
	}
	snprintf(x->ids[x->n], sizeof(x->ids[0]), "%s", row->id);
	x->scores[x->n++] = score;
	return 0;
}

int cmd_expire(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'}, {"floor", required_argument, NULL, 'f'},
	        {"dry-run", no_argument, NULL, 'n'},  {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
	};
	static const char *const types[] = {"indicator", NULL};
	struct expiring x;
	struct store_query q = {0};
	struct tix_error err;
	struct tix_time now;
	const char *db = NULL;
	double floor_arg = -1;
	int ch, rc = EXIT_OK_;

	memset(&x, 0, sizeof(x));
	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'f': {
			char *end;

			floor_arg = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || floor_arg < 0 || floor_arg > 100) {
				fprintf(stderr, "tix expire: --floor: a number from 0 to 100\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'n': x.dry_run = 1; break;
		case 'j': x.json = 1; break;
		case 'h': usage(stdout); return EXIT_OK_;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_decay_model(&x.m) != 0)
		return EXIT_USAGE;
	if (floor_arg >= 0)
		x.m.floor = floor_arg;
	if ((x.s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	api_reader_operator(&x.r);
	tix_time_now(&now);
	x.now_us = tix_time_to_us(&now);
	x.err = &err;
	q.types = types;
	if (store_query(x.s, &q, consider, &x, &err) != TIX_OK) {
		cli_print_error("expire", &err);
		rc = EXIT_SYSTEM;
		goto out;
	}
	if (!x.dry_run && x.n > 0) {
		if (store_begin(x.s, &err) != TIX_OK)
			goto fail;
		for (size_t i = 0; i < x.n; i++) {
			int added;

			if (store_indicator_expire(x.s, x.ids[i], x.now_us, x.scores[i], &added,
			                           &err) != TIX_OK) {
				store_rollback(x.s);
				goto fail;
			}
			if (added)
				x.marked++;
			else
				x.already++;
			x.scores[i] = added ? x.scores[i] : -1;
		}
		if (store_commit(x.s, &err) != TIX_OK)
			goto fail;
	}
	for (size_t i = 0; i < x.n; i++) {
		if (!x.dry_run && x.scores[i] < 0)
			continue; /* marked by an earlier run */
		if (x.json)
			printf("{\"id\":\"%s\",\"score\":%.1f}\n", x.ids[i], x.scores[i]);
		else
			printf("%s\t%.1f\n", x.ids[i], x.scores[i]);
	}
	fprintf(stderr,
	        "tix expire: %zu indicators scored, %zu below %.1f: %zu %s, %zu marked before\n",
	        x.seen, x.n, x.m.floor, x.dry_run ? x.n : x.marked,
	        x.dry_run ? "would be marked" : "marked", x.already);
	goto out;
fail:
	cli_print_error("expire", &err);
	rc = EXIT_SYSTEM;
out:
	free(x.ids);
	free(x.scores);
	store_close(x.s);
	return rc;
}
