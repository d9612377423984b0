/*
 * cli/cmd_feed.c — `tix feed add|list|remove`: named feeds (a collection, a
 * format and its options) that `tix serve` answers at /feeds/<name> with
 * each caller's own sharing policy, for operators to hand out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/feeds.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tix feed add NAME --collection C --format F [--subdomains]\n"
	           "                [--rpz-zone NAME] [--rpz-policy P] [--address A]\n"
	           "                [--set-name NAME] [--source TEXT] [--warninglists PATH]\n"
	           "                [--min-sightings N]\n"
	           "       tix feed list [--json]\n"
	           "       tix feed remove NAME\n\n"
	           "A named feed is served by `tix serve` at /feeds/NAME (and, for\n"
	           "suricata-dataset, /feeds/NAME/FILE): the live indicators of collection C\n"
	           "that the caller (an API key or a password, as for TAXII) may read, in\n"
	           "format F (suricata, suricata-dataset, zeek, rpz, nft, ipset, hosts, csv,\n"
	           "list), with the options of `tix export` of the same names\n"
	           "(docs/feeds.md). Adding an existing NAME replaces it.\n\n"
	           "  --warninglists PATH  a list.json or a directory of them, read by the\n"
	           "                       server on the feed's first request\n"
	           "  --min-sightings N    leave out indicators with fewer than N sightings that\n"
	           "                       the caller may read (as tix export --min-sightings)\n");
}

static int name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 63 || n[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-' ||
		      n[i] == '_' || n[i] == '.'))
			return 0;
	/* a UUID names a collection in /feeds/<collection-id>/<format> */
	return !(len == 36 && n[8] == '-' && n[13] == '-' && n[18] == '-' && n[23] == '-');
}

static int feed_add(struct store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"collection", required_argument, NULL, 'c'},
	        {"format", required_argument, NULL, 'f'},
	        {"subdomains", no_argument, NULL, 's'},
	        {"rpz-zone", required_argument, NULL, 'z'},
	        {"rpz-policy", required_argument, NULL, 'p'},
	        {"address", required_argument, NULL, 'a'},
	        {"set-name", required_argument, NULL, 'n'},
	        {"source", required_argument, NULL, 'S'},
	        {"warninglists", required_argument, NULL, 'w'},
	        {"min-sightings", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *collection = NULL, *format = NULL;
	json_t *opts = json_object(), *hold = NULL;
	struct store_collection coll;
	struct store_feed f;
	struct formats_feed_opts fo;
	struct tix_error err;
	const char *wl;
	int64_t min_sightings;
	char *text;
	char msg[256];
	int ch, rc = 0;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': break;
		case 'c': collection = optarg; break;
		case 'f': format = optarg; break;
		case 's': json_object_set_new(opts, "subdomains", json_true()); break;
		case 'z': json_object_set_new(opts, "zone", json_string(optarg)); break;
		case 'p': json_object_set_new(opts, "policy", json_string(optarg)); break;
		case 'a': json_object_set_new(opts, "address", json_string(optarg)); break;
		case 'n': json_object_set_new(opts, "set_name", json_string(optarg)); break;
		case 'S': json_object_set_new(opts, "source", json_string(optarg)); break;
		case 'w': json_object_set_new(opts, "warninglists", json_string(optarg)); break;
		case 'm': {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || v < 0) {
				fprintf(stderr,
				        "tix feed add: --min-sightings: a number, 0 or more\n");
				json_decref(opts);
				return EXIT_USAGE;
			}
			if (v > 0)
				json_object_set_new(opts, "min_sightings", json_integer(v));
			break;
		}
		case 'h':
			usage(stdout);
			json_decref(opts);
			return 0;
		default:
			usage(stderr);
			json_decref(opts);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || collection == NULL || format == NULL) {
		fprintf(stderr, "tix feed add: NAME, --collection and --format are required\n");
		json_decref(opts);
		return EXIT_USAGE;
	}
	if (!name_ok(argv[optind])) {
		fprintf(stderr,
		        "tix feed add: '%s': a name of 1 to 63 lowercase letters, digits, "
		        "'-', '_' or '.' (not a UUID)\n",
		        argv[optind]);
		json_decref(opts);
		return EXIT_USAGE;
	}
	if (formats_feed_parse(format) < 0) {
		fprintf(stderr,
		        "tix feed add: --format: suricata, suricata-dataset, zeek, rpz, nft, "
		        "ipset, hosts, csv or list\n");
		json_decref(opts);
		return EXIT_USAGE;
	}
	text = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(opts);
	memset(&fo, 0, sizeof(fo));
	if (text == NULL ||
	    api_feeds_options(text, &fo, &wl, &min_sightings, &hold, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "tix feed add: %s\n", text ? msg : "out of memory");
		free(text);
		return EXIT_USAGE;
	}
	json_decref(hold);
	if (strlen(text) >= sizeof(f.options)) {
		fprintf(stderr, "tix feed add: the options are too long\n");
		free(text);
		return EXIT_USAGE;
	}
	if (store_collection_get(s, collection, 0, &coll, &err) != TIX_OK) {
		cli_print_error("feed add", &err);
		free(text);
		return cli_exit_code(err.code);
	}
	memset(&f, 0, sizeof(f));
	snprintf(f.name, sizeof(f.name), "%s", argv[optind]);
	snprintf(f.collection, sizeof(f.collection), "%s", coll.id);
	snprintf(f.format, sizeof(f.format), "%s", format);
	snprintf(f.options, sizeof(f.options), "%s", text);
	free(text);
	if (store_feed_put(s, &f, &err) != TIX_OK) {
		cli_print_error("feed add", &err);
		rc = EXIT_SYSTEM;
	} else {
		printf("feed %s: collection %s (%s), %s, served at /feeds/%s\n", f.name, coll.title,
		       coll.id, f.format, f.name);
	}
	return rc;
}

struct listing {
	int json;
	json_t *all;
};

static int list_one(void *arg, const struct store_feed *f)
{
	struct listing *l = arg;

	if (l->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "name", f->name, "collection",
		                      f->collection, "format", f->format, "path", "");
		json_t *opts = json_loads(f->options, 0, NULL);
		char path[128];

		snprintf(path, sizeof(path), "/feeds/%s", f->name);
		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "options", opts ? opts : json_object());
		json_array_append_new(l->all, o);
	} else {
		printf("%-24s %s %-16s %s\n", f->name, f->collection, f->format, f->options);
	}
	return 0;
}

int cmd_feed(int argc, char **argv)
{
	const char *db = NULL, *sub;
	struct tix_error err;
	struct store *s;
	char label[32];
	int rc = 0, json = 0;

	tix_error_clear(&err);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[i + 1];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i] + 5;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
	}
	db = cli_db_path(db);
	snprintf(label, sizeof(label), "tix feed %s", sub);
	argv[1] = label;
	if (strcmp(sub, "add") == 0) {
		if ((s = cli_open_store(db)) == NULL)
			return EXIT_SYSTEM;
		rc = feed_add(s, argc - 1, argv + 1);
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "list") == 0) {
		struct listing l = {json, json_array()};

		if ((s = cli_open_existing_store(db)) == NULL) {
			json_decref(l.all);
			return EXIT_SYSTEM;
		}
		if (store_feed_list(s, list_one, &l, &err) != TIX_OK) {
			cli_print_error("feed list", &err);
			rc = EXIT_SYSTEM;
		} else if (json) {
			json_dumpf(l.all, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		}
		json_decref(l.all);
		store_close(s);
		return rc;
	}
	if (strcmp(sub, "remove") == 0) {
		const char *name = NULL;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--db") == 0) {
				i++;
				continue;
			}
			if (strncmp(argv[i], "--", 2) == 0 || name) {
				fprintf(stderr, "tix feed remove: unexpected argument '%s'\n",
				        argv[i]);
				return EXIT_USAGE;
			}
			name = argv[i];
		}
		if (name == NULL) {
			fprintf(stderr, "tix feed remove: NAME is required\n");
			return EXIT_USAGE;
		}
		if ((s = cli_open_store(db)) == NULL)
			return EXIT_SYSTEM;
		if (store_feed_delete(s, name, &err) != TIX_OK) {
			cli_print_error("feed remove", &err);
			rc = cli_exit_code(err.code);
		}
		store_close(s);
		return rc;
	}
	fprintf(stderr, "tix feed: '%s' is not a subcommand (add, list, remove)\n", sub);
	return EXIT_USAGE;
}
