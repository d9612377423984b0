/*
 * cli/cmd_export.c — `tix export`: writes stored objects as one STIX 2.1
 * bundle on stdout, streamed row by row so memory stays constant whatever
 * the store's size.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_TYPES 64

static void usage(FILE *f)
{
	fprintf(f, "usage: tix export [--db PATH] [--type T]... [--added-after TIMESTAMP]\n"
	           "                  [--collection NAME|ID] [--all-versions]\n\n"
	           "Writes a STIX 2.1 bundle to standard output: the latest version of each\n"
	           "object, in the order the node added them.\n\n"
	           "  --type T          only objects of type T (repeatable)\n"
	           "  --added-after TS  only versions added after TS (RFC 3339, e.g.\n"
	           "                    2026-01-01T00:00:00Z; in a collection, added to it)\n"
	           "  --collection C    only objects of collection C (title or id)\n"
	           "  --all-versions    every stored version, not only the latest\n");
}

struct export_state {
	FILE *out;
	size_t n;
	int failed;
};

static int write_row(void *arg, const struct store_row *row)
{
	struct export_state *x = arg;

	if (fputs(x->n ? ",\n" : "\n", x->out) == EOF ||
	    fwrite(row->body, 1, row->body_len, x->out) != row->body_len) {
		x->failed = 1;
		return 1;
	}
	x->n++;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"type", required_argument, NULL, 't'},
	        {"added-after", required_argument, NULL, 'a'},
	        {"collection", required_argument, NULL, 'c'},
	        {"all-versions", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *types[MAX_TYPES + 1] = {NULL};
	const char *db = NULL, *collection = NULL;
	struct store_query q = {0};
	struct store_collection coll;
	struct export_state x = {stdout, 0, 0};
	struct tix_error err;
	struct tix_uuid u;
	struct store *s;
	char us[37];
	int ch, ntypes = 0, rc = 0;
	enum tix_err e;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 't':
			if (ntypes == MAX_TYPES) {
				fprintf(stderr, "tix export: at most %d --type options\n",
				        MAX_TYPES);
				return EXIT_USAGE;
			}
			types[ntypes++] = optarg;
			break;
		case 'a': {
			struct tix_time t;

			if (tix_time_parse(optarg, &t, &err) != TIX_OK) {
				fprintf(stderr, "tix export: --added-after: %s\n", err.msg);
				return EXIT_USAGE;
			}
			q.added_after = tix_time_to_us(&t);
			break;
		}
		case 'c': collection = optarg; break;
		case 'v': q.all_versions = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tix export: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	q.types = ntypes ? types : NULL;
	if ((s = cli_open_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	if (collection) {
		if ((e = store_collection_get(s, collection, 0, &coll, &err)) != TIX_OK) {
			cli_print_error("export", &err);
			store_close(s);
			return cli_exit_code(e);
		}
		q.collection = &coll;
	}
	if (tix_uuid_v4(&u) != TIX_OK) {
		fprintf(stderr, "tix export: no randomness for the bundle id\n");
		store_close(s);
		return EXIT_SYSTEM;
	}
	fprintf(stdout, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[",
	        tix_uuid_format(&u, us));
	e = store_query(s, &q, write_row, &x, &err);
	fputs(x.n ? "\n]}\n" : "]}\n", stdout);
	if (e != TIX_OK) {
		cli_print_error("export", &err);
		rc = EXIT_SYSTEM;
	}
	if (fflush(stdout) != 0 || x.failed) {
		fprintf(stderr, "tix export: writing the output failed\n");
		rc = EXIT_SYSTEM;
	}
	store_close(s);
	return rc;
}
