/*
 * cli/cmd_get.c — `tix get ID`: prints the latest version of one object, or
 * every version (oldest first, one JSON document per line).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tix get [--db PATH] [--all-versions] [--pretty] [--sightings] ID\n\n"
	           "Prints the latest version of object ID as JSON. With --all-versions, prints\n"
	           "every stored version, oldest first, one per line. With --sightings, prints\n"
	           "the object's sightings and their aggregate (count, first and last seen, by\n"
	           "organisation and by sensor) as GET /api/v1/objects/ID/sightings answers.\n"
	           "Exit 1 when not found.\n"
	           "The operator reads with the node's full rights; each read is audited.\n");
}

struct get_state {
	int pretty;
	size_t n;
};

static int print_row(void *arg, const struct store_row *row)
{
	struct get_state *g = arg;

	if (g->pretty) {
		json_t *v = json_loadb(row->body, row->body_len, 0, NULL);

		if (v) {
			json_dumpf(v, stdout, JSON_INDENT(2));
			json_decref(v);
		}
	} else {
		fwrite(row->body, 1, row->body_len, stdout);
	}
	fputc('\n', stdout);
	g->n++;
	return 0;
}

int cmd_get(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'}, {"all-versions", no_argument, NULL, 'v'},
	        {"pretty", no_argument, NULL, 'p'},   {"sightings", no_argument, NULL, 's'},
	        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
	};
	struct store_query q = {0};
	struct get_state g = {0, 0};
	struct tix_error err;
	const char *db = NULL;
	struct store *s;
	int ch, rc, sightings = 0;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'v': q.all_versions = 1; break;
		case 'p': g.pretty = 1; break;
		case 's': sightings = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	q.id = argv[optind];
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	if (sightings) {
		struct api_reader r;
		json_t *out = NULL;
		enum tix_err e;

		api_reader_operator(&r);
		e = api_sightings(s, &r, q.id, &out, &err);
		if (e == TIX_OK) {
			json_dumpf(out, stdout, g.pretty ? JSON_INDENT(2) : JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(out);
			g.n = 1;
			rc = 0;
		} else {
			rc = e == TIX_ENOTFOUND ? 0 : EXIT_SYSTEM;
		}
	} else {
		rc = store_query(s, &q, print_row, &g, &err) == TIX_OK ? 0 : EXIT_SYSTEM;
	}
	if (rc != 0)
		cli_print_error("get", &err);
	else if (g.n == 0) {
		fprintf(stderr, "tix get: %s: no such object\n", q.id);
		rc = EXIT_INVALID;
	}
	if (g.n > 0) {
		struct store_audit_entry ae;
		struct tix_time now;
		char objs[400];
		const char *who = getenv("USER");

		snprintf(objs, sizeof(objs), "\n%s\n", q.id);
		tix_time_now(&now);
		ae = (struct store_audit_entry){tix_time_to_us(&now),
		                                "read",
		                                who && *who ? who : "operator",
		                                "",
		                                objs,
		                                "tix get"};
		if (store_audit_append(s, &ae, 1, &err) != TIX_OK) {
			cli_print_error("get", &err);
			rc = EXIT_SYSTEM;
		}
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	store_close(s);
	return rc;
}
