/*
 * cli/cmd_library.c — `tix library`: the resource library (issue 24,
 * docs/library.md): add, import (CSV or STIX), list, show, review, export,
 * search with facets, offline packs, and the block list of URL hosts.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "library/library.h"
#include "stix/stix.h"
#include "store/store_library.h"

#define DEFAULT_COLLECTION "library"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix library COMMAND [--db PATH] ...\n\n"
	        "  add FILE.json | add --title T [--url U] [--lang L;L] [--country C;C]\n"
	        "      [--audience A;A] [--topic T;T] [--description D] [--publisher P]\n"
	        "      [--license L] [--org ORG]        one resource (or a list in FILE.json)\n"
	        "  import FILE.csv | FILE.json [--org ORG]   a header row naming the fields,\n"
	        "      lists separated by ';'; or STIX (a bundle of x-tix-resource objects)\n"
	        "  list [--json]                      every resource\n"
	        "  show ID [--json]                   a resource and its reviews\n"
	        "  review ID --org ORG --status approved|needs-changes|rejected [--comment C]\n"
	        "  export                             the resources as a STIX bundle\n"
	        "  search [QUERY] [--audience A] [--lang L] [--country C] [--topic T]\n"
	        "      [--license L] [--facets] [--json] [--limit N]\n"
	        "  pack [--lang L] [--audience A] [--files DIR] --out DIR   an offline package\n"
	        "  unpack DIR [--org ORG]             load a package\n"
	        "  block HOST [--reason TEXT] | unblock HOST | blocked   the URL block list\n"
	        "  extension                          the extension-definitions (JSON)\n\n"
	        "Resources are written to the collection --collection (default '" DEFAULT_COLLECTION
	        "'),\nTLP:CLEAR unless --tlp green. See docs/library.md.\n");
}

struct opts {
	const char *db, *org, *collection, *title, *url, *lang, *country, *audience, *topic,
	        *description, *publisher, *license, *status, *comment, *out, *files, *reason, *tlp;
	size_t limit;
	int json, facets;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"org", required_argument, NULL, 'o'},
	        {"collection", required_argument, NULL, 'c'},
	        {"title", required_argument, NULL, 'T'},
	        {"url", required_argument, NULL, 'u'},
	        {"lang", required_argument, NULL, 'l'},
	        {"country", required_argument, NULL, 'C'},
	        {"audience", required_argument, NULL, 'a'},
	        {"topic", required_argument, NULL, 't'},
	        {"description", required_argument, NULL, 'D'},
	        {"publisher", required_argument, NULL, 'p'},
	        {"license", required_argument, NULL, 'L'},
	        {"licence", required_argument, NULL, 'L'},
	        {"status", required_argument, NULL, 's'},
	        {"comment", required_argument, NULL, 'm'},
	        {"out", required_argument, NULL, 'O'},
	        {"files", required_argument, NULL, 'F'},
	        {"reason", required_argument, NULL, 'r'},
	        {"tlp", required_argument, NULL, 'P'},
	        {"limit", required_argument, NULL, 'n'},
	        {"json", no_argument, NULL, 'j'},
	        {"facets", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 'o': o->org = optarg; break;
		case 'c': o->collection = optarg; break;
		case 'T': o->title = optarg; break;
		case 'u': o->url = optarg; break;
		case 'l': o->lang = optarg; break;
		case 'C': o->country = optarg; break;
		case 'a': o->audience = optarg; break;
		case 't': o->topic = optarg; break;
		case 'D': o->description = optarg; break;
		case 'p': o->publisher = optarg; break;
		case 'L': o->license = optarg; break;
		case 's': o->status = optarg; break;
		case 'm': o->comment = optarg; break;
		case 'O': o->out = optarg; break;
		case 'F': o->files = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'P': o->tlp = optarg; break;
		case 'n': {
			char *end = NULL;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v == 0 || v > 100000) {
				fprintf(stderr, "tix library: --limit: 1 to 100000\n");
				return -1;
			}
			o->limit = v;
			break;
		}
		case 'j': o->json = 1; break;
		case 'f': o->facets = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

static int fail(const char *cmd, struct tix_error *err)
{
	cli_print_error(cmd, err);
	return err->code == TIX_EUSAGE ? EXIT_USAGE : cli_exit_code(err->code);
}

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	printf("\n");
}

static void print_list(const json_t *v)
{
	size_t i;
	const json_t *x;

	json_array_foreach (v, i, x)
		printf("%s%s", i ? ";" : "", json_string_value(x));
}

static void print_line(const json_t *r)
{
	const char *url = json_string_value(json_object_get(r, "url"));

	printf("%s  %s  [", json_string_value(json_object_get(r, "id")),
	       json_string_value(json_object_get(r, "title")));
	print_list(json_object_get(r, "in_language"));
	printf("]");
	if (url)
		printf("  %s", url);
	printf("\n");
}

/* Reads FILE: JSON (an object of fields, a list of them, a STIX bundle or
 * object) or CSV; returns the inputs as a new array. */
static json_t *read_inputs(const char *path, struct tix_error *err)
{
	char *data = NULL;
	size_t len = 0, k = 0;
	json_t *v, *in;

	if (cli_read_input(path, LIBRARY_MAX_INPUT, &data, &len, err) != TIX_OK)
		return NULL;
	while (k < len && (data[k] == ' ' || data[k] == '\n' || data[k] == '\r' || data[k] == '\t'))
		k++;
	if (k < len && (data[k] == '{' || data[k] == '[')) {
		v = stix_json_parse(data, len, path, err);
		free(data);
		if (v == NULL)
			return NULL;
		if (json_is_array(json_object_get(v, "objects"))) {
			size_t i;
			const json_t *o;

			in = json_array();
			json_array_foreach (json_object_get(v, "objects"), i, o) {
				const char *t = json_string_value(json_object_get(o, "type"));

				if (t && strcmp(t, "extension-definition") == 0)
					continue;
				json_array_append(in, (json_t *)o);
			}
		} else if (json_is_array(v)) {
			in = json_incref(v);
		} else {
			in = json_pack("[O]", v);
		}
		json_decref(v);
		return in;
	}
	in = library_csv_rows(data, len, path, err);
	free(data);
	return in;
}

static int do_put(const struct library_ctx *c, json_t *in, const char *cmd)
{
	struct tix_error err;
	json_t *ids = json_array();
	size_t i, bad = 0;
	const json_t *id;
	int rc = 0;

	tix_error_clear(&err);
	if (library_put(c, in, ids, &bad, &err) != TIX_OK) {
		rc = fail(cmd, &err);
		fprintf(stderr, "tix %s: refused; nothing was written\n", cmd);
	} else {
		json_array_foreach (ids, i, id)
			printf("%s\n", json_string_value(id));
		fprintf(stderr, "tix %s: %zu resource%s written\n", cmd, json_array_size(ids),
		        json_array_size(ids) == 1 ? "" : "s");
	}
	json_decref(ids);
	return rc;
}

static int do_add(const struct library_ctx *c, const struct opts *o, const char *file,
                  const char *cmd)
{
	struct tix_error err;
	json_t *in;
	int rc;

	tix_error_clear(&err);
	if (file) {
		if ((in = read_inputs(file, &err)) == NULL)
			return fail(cmd, &err);
	} else {
		json_t *f = json_object();

		if (!o->title) {
			fprintf(stderr, "tix %s: FILE, or --title TITLE and the other fields\n",
			        cmd);
			json_decref(f);
			return EXIT_USAGE;
		}
#define SET(k, v)                                                                                  \
	if (v)                                                                                     \
	json_object_set_new(f, k, json_string(v))
		SET("title", o->title);
		SET("url", o->url);
		SET("in_language", o->lang);
		SET("country", o->country);
		SET("audience", o->audience);
		SET("topics", o->topic);
		SET("description", o->description);
		SET("publisher", o->publisher);
		SET("license", o->license);
		SET("tlp", o->tlp);
#undef SET
		in = json_pack("[o]", f);
	}
	rc = do_put(c, in, cmd);
	json_decref(in);
	return rc;
}

static void print_facets(const json_t *facets)
{
	const char *name;
	json_t *f;

	json_object_foreach ((json_t *)facets, name, f) {
		const char *k;
		json_t *n;

		printf("%s:", name);
		json_object_foreach (f, k, n)
			printf(" %s=%lld", k, (long long)json_integer_value(n));
		printf("\n");
	}
}

static int do_search(struct store *s, const struct opts *o, const char *text, int list)
{
	struct library_query q = {0};
	struct tix_error err;
	json_t *out = NULL;
	size_t i;
	const json_t *r;

	tix_error_clear(&err);
	q.text = text;
	q.audience = o->audience;
	q.lang = o->lang;
	q.country = o->country;
	q.topic = o->topic;
	q.license = o->license;
	q.limit = o->limit ? o->limit : list ? (size_t)-1 : 0;
	q.facets = o->facets;
	if (library_search(s, &q, &out, &err) != TIX_OK)
		return fail(list ? "library list" : "library search", &err);
	if (o->json) {
		print_json(out);
	} else {
		json_array_foreach (json_object_get(out, "results"), i, r)
			print_line(r);
		if (json_object_get(out, "facets"))
			print_facets(json_object_get(out, "facets"));
		printf("%lld resource%s\n",
		       (long long)json_integer_value(json_object_get(out, "total")),
		       json_integer_value(json_object_get(out, "total")) == 1 ? "" : "s");
	}
	i = json_array_size(json_object_get(out, "results"));
	json_decref(out);
	return i || list ? 0 : EXIT_INVALID;
}

static int do_show(struct store *s, const struct opts *o, const char *id)
{
	struct tix_error err;
	json_t *out = NULL, *r;
	size_t i;
	const json_t *v;

	tix_error_clear(&err);
	if (!id) {
		fprintf(stderr, "tix library show: ID\n");
		return EXIT_USAGE;
	}
	if (library_show(s, id, &out, &err) != TIX_OK)
		return fail("library show", &err);
	if (o->json) {
		print_json(out);
	} else {
		const char *k;
		json_t *x;

		r = json_object_get(out, "resource");
		json_object_foreach (r, k, x) {
			if (json_is_string(x))
				printf("%s: %s\n", k, json_string_value(x));
			else if (json_is_array(x) && json_is_string(json_array_get(x, 0))) {
				printf("%s: ", k);
				print_list(x);
				printf("\n");
			}
		}
		json_array_foreach (json_object_get(out, "reviews"), i, v)
			printf("review: %s by %s at %s%s%s\n",
			       json_string_value(json_object_get(v, "review_status")),
			       json_string_value(json_object_get(v, "reviewer")),
			       json_string_value(json_object_get(v, "modified")),
			       json_object_get(v, "comment") ? ": " : "",
			       json_object_get(v, "comment")
			               ? json_string_value(json_object_get(v, "comment"))
			               : "");
	}
	json_decref(out);
	return 0;
}

static int do_export(struct store *s)
{
	struct library_query q = {0};
	struct tix_error err;
	struct tix_uuid u;
	json_t *out = NULL, *b;
	char uuid[37], bid[64];
	struct tix_buf buf;

	tix_error_clear(&err);
	q.limit = (size_t)-1;
	if (library_search(s, &q, &out, &err) != TIX_OK)
		return fail("library export", &err);
	tix_uuid_v4(&u);
	snprintf(bid, sizeof(bid), "bundle--%s", tix_uuid_format(&u, uuid));
	b = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects",
	              library_extension_definitions());
	json_array_extend(json_object_get(b, "objects"), json_object_get(out, "results"));
	tix_buf_init(&buf, TIX_BUF_UNLIMITED);
	stix_json_dump(b, &buf);
	fwrite(tix_buf_str(&buf), 1, tix_buf_len(&buf), stdout);
	printf("\n");
	tix_buf_release(&buf);
	json_decref(b);
	json_decref(out);
	return 0;
}

static void print_blocked(void *arg, const char *host, const char *reason)
{
	(void)arg;
	printf("%s%s%s\n", host, *reason ? "  " : "", reason);
}

int cmd_library(int argc, char **argv)
{
	struct opts o = {0};
	struct store_collection coll;
	struct library_ctx c = {0};
	struct tix_error err;
	struct tix_time now;
	const char *cmd, *arg = NULL;
	const char *who = getenv("USER");
	char name[64];
	int rc, writes;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	cmd = argv[1];
	if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (cli_verb_operand("library", argc - 1, argv + 1, &arg) != 0)
		return EXIT_USAGE;
	snprintf(name, sizeof(name), "library %s", cmd);
	if (strcmp(cmd, "extension") == 0) {
		json_t *x = library_extension_definitions();

		print_json(x);
		json_decref(x);
		return 0;
	}
	static const char *const known[] = {"add",     "import",  "list", "show",   "review",
	                                    "export",  "search",  "pack", "unpack", "block",
	                                    "unblock", "blocked", NULL};
	int ok = 0;

	for (int i = 0; known[i]; i++)
		ok |= strcmp(cmd, known[i]) == 0;
	if (!ok) {
		fprintf(stderr, "tix library: '%s' is not a library command\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((strcmp(cmd, "import") == 0 || strcmp(cmd, "unpack") == 0 ||
	     strcmp(cmd, "review") == 0 || strcmp(cmd, "block") == 0 ||
	     strcmp(cmd, "unblock") == 0) &&
	    !arg) {
		fprintf(stderr, "tix %s: which %s?\n", name,
		        strcmp(cmd, "import") == 0   ? "FILE"
		        : strcmp(cmd, "unpack") == 0 ? "DIR"
		        : strcmp(cmd, "review") == 0 ? "ID"
		                                     : "HOST");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "pack") == 0 && !o.out) {
		fprintf(stderr, "tix library pack: --out DIR\n");
		return EXIT_USAGE;
	}
	tix_time_now(&now);
	c.now_us = tix_time_to_us(&now);
	c.actor = who && *who ? who : "operator";
	c.org = o.org;
	writes = strcmp(cmd, "add") == 0 || strcmp(cmd, "import") == 0 ||
	         strcmp(cmd, "review") == 0 || strcmp(cmd, "unpack") == 0 ||
	         strcmp(cmd, "block") == 0 || strcmp(cmd, "unblock") == 0;
	c.s = writes ? cli_open_store(cli_db_path(o.db))
	             : cli_open_existing_store(cli_db_path(o.db));
	if (c.s == NULL)
		return EXIT_SYSTEM;
	tix_error_clear(&err);
	if (writes && strcmp(cmd, "block") != 0 && strcmp(cmd, "unblock") != 0) {
		if (store_collection_get(c.s, o.collection ? o.collection : DEFAULT_COLLECTION, 1,
		                         &coll, &err) != TIX_OK) {
			rc = fail(name, &err);
			goto out;
		}
		c.collection = &coll;
	}
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "import") == 0) {
		rc = do_add(&c, &o, arg, name);
	} else if (strcmp(cmd, "list") == 0) {
		rc = do_search(c.s, &o, NULL, 1);
	} else if (strcmp(cmd, "search") == 0) {
		rc = do_search(c.s, &o, arg, 0);
	} else if (strcmp(cmd, "show") == 0) {
		rc = do_show(c.s, &o, arg);
	} else if (strcmp(cmd, "export") == 0) {
		rc = do_export(c.s);
	} else if (strcmp(cmd, "review") == 0) {
		char rid[128];

		if (library_review(&c, arg, o.status, o.comment, rid, &err) != TIX_OK)
			rc = fail(name, &err);
		else
			printf("%s\n", rid);
	} else if (strcmp(cmd, "pack") == 0) {
		struct library_query q = {0};
		size_t n = 0, files = 0;

		q.lang = o.lang;
		q.audience = o.audience;
		q.country = o.country;
		q.topic = o.topic;
		if (library_pack(c.s, &q, o.out, o.files, &n, &files, &err) != TIX_OK)
			rc = fail(name, &err);
		else
			printf("packed %zu resource%s and %zu file%s into %s\n", n,
			       n == 1 ? "" : "s", files, files == 1 ? "" : "s", o.out);
	} else if (strcmp(cmd, "unpack") == 0) {
		size_t n = 0;

		if (library_unpack(&c, arg, &n, &err) != TIX_OK) {
			rc = fail(name, &err);
			fprintf(stderr, "tix %s: refused; nothing was written\n", name);
		} else {
			printf("unpacked %zu resource%s from %s\n", n, n == 1 ? "" : "s", arg);
		}
	} else if (strcmp(cmd, "block") == 0 || strcmp(cmd, "unblock") == 0) {
		char host[256];
		const char *why = NULL;
		struct tix_buf u;

		tix_buf_init(&u, 4096);
		tix_buf_addf(&u, "http://%s/", arg);
		if (library_url_host(tix_buf_str(&u), host, sizeof(host), &why) != 0 ||
		    strchr(arg, '/')) {
			fprintf(stderr, "tix %s: '%s' is not a host name\n", name, arg);
			rc = EXIT_USAGE;
		} else if (store_library_block(c.s, host, o.reason, c.now_us,
		                               strcmp(cmd, "block") == 0, &err) != TIX_OK) {
			rc = fail(name, &err);
		} else {
			printf("%s %s\n", strcmp(cmd, "block") == 0 ? "blocked" : "unblocked",
			       host);
		}
		tix_buf_release(&u);
	} else {
		if (store_library_blocked(c.s, print_blocked, NULL, &err) != TIX_OK)
			rc = fail(name, &err);
	}
out:
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	store_close(c.s);
	return rc;
}
