/*
 * cli/cmd_search.c — `tix search QUERY`: objects by value and by text
 * (names, descriptions, labels), filtered by type, label, organisation, TLP
 * and time, as the operator or (--as-org) an organisation sees them.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix search [--db PATH] [--type T]... [--label L] [--org O] [--tlp L]\n"
	        "                  [--since TS] [--limit N] [--as-org ORG] [--json] QUERY\n\n"
	        "Finds objects by value (QUERY a domain, address, range, URL, e-mail address\n"
	        "or hash: the objects carrying it, first) and by text: the words of QUERY in\n"
	        "names, descriptions and labels (case and diacritics folded), best first.\n\n"
	        "  --type T     only objects of type T (repeatable)\n"
	        "  --label L    only objects labelled L (QUERY may then be \"\")\n"
	        "  --org O      only objects owned by organisation O\n"
	        "  --tlp L      only objects whose TLP is L (clear, green, amber, amber+strict,\n"
	        "               red; unmarked ones count at the node's default)\n"
	        "  --since TS   only versions modified at or after TS (RFC 3339)\n"
	        "  --limit N    at most N results (default %d, at most %d)\n"
	        "  --as-org ORG only what ORG may read under the sharing policy; without it the\n"
	        "               operator sees everything\n"
	        "  --json       one JSON object per line\n",
	        API_SEARCH_LIMIT, API_SEARCH_MAX);
}

int cmd_search(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"type", required_argument, NULL, 't'},
	        {"label", required_argument, NULL, 'l'},
	        {"org", required_argument, NULL, 'o'},
	        {"tlp", required_argument, NULL, 'T'},
	        {"since", required_argument, NULL, 's'},
	        {"limit", required_argument, NULL, 'n'},
	        {"as-org", required_argument, NULL, 'a'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct api_param params[API_MAX_TYPES + 16];
	size_t np = 0;
	const char *db = NULL, *as_org = NULL;
	struct api_query q;
	struct api_reader r;
	struct policy_node node;
	struct tix_error err;
	struct store *s;
	json_t *out = NULL;
	const json_t *res;
	size_t i;
	int ch, json = 0, rc = EXIT_OK_;
	enum tix_err e;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		const char *key = NULL;

		switch (ch) {
		case 'd': db = optarg; continue;
		case 'a': as_org = optarg; continue;
		case 'j': json = 1; continue;
		case 'h': usage(stdout); return EXIT_OK_;
		case 't': key = "type"; break;
		case 'l': key = "label"; break;
		case 'o': key = "org"; break;
		case 'T': key = "tlp"; break;
		case 's': key = "since"; break;
		case 'n': key = "limit"; break;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (np == sizeof(params) / sizeof(params[0]) - 1) {
			fprintf(stderr, "tix search: too many options\n");
			return EXIT_USAGE;
		}
		params[np].key = key;
		params[np++].value = optarg;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	params[np].key = "q";
	params[np++].value = argv[optind];
	/* The same checks as GET /api/v1/search: bounds, names, timestamps. */
	if (api_query_parse(params, np, &q, &err) != TIX_OK) {
		fprintf(stderr, "tix search: --%s: %s\n",
		        strcmp(err.where, "q") == 0 ? "QUERY" : err.where, err.msg);
		return EXIT_USAGE;
	}
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	if (cli_policy_node(s, &node) != 0) {
		store_close(s);
		return EXIT_SYSTEM;
	}
	if (as_org) {
		if ((e = api_reader_org(s, &node, as_org, &r, &err)) != TIX_OK) {
			if (e == TIX_ENOTFOUND)
				fprintf(stderr, "tix search: no organisation \"%s\"\n", as_org);
			else
				cli_print_error("search", &err);
			store_close(s);
			return e == TIX_ENOTFOUND ? EXIT_INVALID : EXIT_SYSTEM;
		}
	} else {
		api_reader_operator(&r);
		r.node = node; /* for the TLP of unmarked objects */
	}
	if ((e = api_search(s, &r, &q, &out, &err)) != TIX_OK) {
		cli_print_error("search", &err);
		store_close(s);
		return e == TIX_EINVAL ? EXIT_USAGE : EXIT_SYSTEM;
	}
	json_array_foreach (json_object_get(out, "results"), i, res) {
		if (json) {
			json_dumpf(res, stdout, JSON_COMPACT);
			fputc('\n', stdout);
		} else {
			const char *name = json_string_value(json_object_get(res, "name"));
			const char *org = json_string_value(json_object_get(res, "org"));

			printf("%s\t%s\t%s\t%s\t%s\n",
			       json_string_value(json_object_get(res, "id")),
			       json_string_value(json_object_get(res, "tlp")), org ? org : "-",
			       json_string_value(json_object_get(res, "match")), name ? name : "");
		}
	}
	if (json_array_size(json_object_get(out, "results")) == 0)
		rc = EXIT_INVALID;
	else if (json_is_true(json_object_get(out, "more")))
		fprintf(stderr, "tix search: more results than --limit\n");
	json_decref(out);
	store_close(s);
	return rc;
}
