/*
 * cli/cmd_correlate.c — `tix correlate VALUE|ID`: the other objects that
 * share a value, grouped by organisation, newest first, as the operator or
 * (--as-org) an organisation sees them; and `tix reindex`, which rebuilds
 * the value, sighting and text indexes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "match/match.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix correlate [--db PATH] [--as-org ORG] [--json] [--cap N]\n"
	        "                     [--warninglists DIR|FILE]... VALUE|ID\n\n"
	        "The objects that carry VALUE (a domain, an address or CIDR range, a URL, an\n"
	        "e-mail address, an MD5/SHA-1/SHA-256/SHA-512 hash), or any value of object\n"
	        "ID, grouped by owning organisation (and its country), newest first, each with\n"
	        "its sighting count. A range finds the addresses inside it and an address the\n"
	        "ranges holding it.\n\n"
	        "  --as-org ORG     only what ORG may read under the sharing policy; without it\n"
	        "                   the operator sees everything\n"
	        "  --json           one JSON document (the answer of GET /api/v1/correlate)\n"
	        "  --cap N          list at most N objects per value (default %d); a value in\n"
	        "                   more is answered with its count and over_correlated\n"
	        "  --warninglists P mark values on these MISP warninglists\n",
	        API_CORRELATE_CAP);
}

static const char *warned(void *arg, const char *stix_type, const char *value, size_t len)
{
	return match_warninglists_hit(arg, stix_type, value, len);
}

static int is_stix_id(const char *s)
{
	const char *d = strstr(s, "--");

	return d != NULL && d > s && strlen(d + 2) == 36;
}

static void print_value(const json_t *v)
{
	const json_t *groups = json_object_get(v, "organisations"), *g;
	const char *wl = json_string_value(json_object_get(v, "warninglist"));
	size_t i;

	printf("%s (%s): %lld object%s%s%s%s%s\n", json_string_value(json_object_get(v, "value")),
	       json_string_value(json_object_get(v, "kind")),
	       (long long)json_integer_value(json_object_get(v, "count")),
	       json_integer_value(json_object_get(v, "count")) == 1 ? "" : "s",
	       json_is_true(json_object_get(v, "count_exact")) ? "" : " or more",
	       json_is_true(json_object_get(v, "over_correlated"))
	               ? ", over-correlated (not listed)"
	               : "",
	       wl ? ", on warninglist " : "", wl ? wl : "");
	json_array_foreach (groups, i, g) {
		const json_t *objs = json_object_get(g, "objects"), *o;
		const char *org = json_string_value(json_object_get(g, "org"));
		const char *cc = json_string_value(json_object_get(g, "country"));
		size_t k;

		printf("  %s%s%s%s\n", org ? org : "(no organisation)", cc ? " (" : "",
		       cc ? cc : "", cc ? ")" : "");
		json_array_foreach (objs, k, o) {
			const char *name = json_string_value(json_object_get(o, "name"));
			const char *mod = json_string_value(json_object_get(o, "modified"));

			printf("    %s  %s%s%s%s  sightings %lld\n", mod ? mod : "-",
			       json_string_value(json_object_get(o, "id")), name ? "  \"" : "",
			       name ? name : "", name ? "\"" : "",
			       (long long)json_integer_value(json_object_get(o, "sightings")));
		}
	}
}

int cmd_correlate(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"as-org", required_argument, NULL, 'o'},
	        {"json", no_argument, NULL, 'j'},
	        {"cap", required_argument, NULL, 'c'},
	        {"warninglists", required_argument, NULL, 'w'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *as_org = NULL, *what;
	struct match_warninglists *wl = NULL;
	struct api_limits lim = {0};
	struct api_reader r;
	struct policy_node node;
	struct tix_error err;
	struct store *s;
	json_t *out = NULL;
	int ch, json = 0, rc = EXIT_OK_;
	enum tix_err e;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'o': as_org = optarg; break;
		case 'j': json = 1; break;
		case 'c': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end != '\0' || n == 0 || n > 100000) {
				fprintf(stderr,
				        "tix correlate: --cap: a number from 1 to 100000\n");
				match_warninglists_free(wl);
				return EXIT_USAGE;
			}
			lim.correlate_cap = n;
			break;
		}
		case 'w':
			if (wl == NULL && (wl = match_warninglists_new()) == NULL)
				return EXIT_SYSTEM;
			if (match_warninglists_load(wl, optarg, &err) != TIX_OK) {
				cli_print_error("correlate", &err);
				match_warninglists_free(wl);
				return EXIT_INVALID;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK_;
		default:
			usage(stderr);
			match_warninglists_free(wl);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		match_warninglists_free(wl);
		return EXIT_USAGE;
	}
	what = argv[optind];
	if (wl) {
		lim.warned = warned;
		lim.warned_arg = wl;
	}
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL) {
		match_warninglists_free(wl);
		return EXIT_SYSTEM;
	}
	if (as_org) {
		if (cli_policy_node(s, &node) != 0) {
			rc = EXIT_SYSTEM;
			goto out;
		}
		if ((e = api_reader_org(s, &node, as_org, &r, &err)) != TIX_OK) {
			if (e == TIX_ENOTFOUND)
				fprintf(stderr, "tix correlate: no organisation \"%s\"\n", as_org);
			else
				cli_print_error("correlate", &err);
			rc = e == TIX_ENOTFOUND ? EXIT_INVALID : EXIT_SYSTEM;
			goto out;
		}
	} else {
		api_reader_operator(&r);
	}
	if (is_stix_id(what))
		e = api_correlate_id(s, &r, what, &lim, &out, &err);
	else
		e = api_correlate_value(s, &r, what, strlen(what), &lim, &out, &err);
	if (e != TIX_OK) {
		if (e == TIX_ENOTFOUND)
			fprintf(stderr, "tix correlate: %s: no such object\n", what);
		else
			cli_print_error("correlate", &err);
		rc = cli_exit_code(e);
		goto out;
	}
	if (json) {
		json_dumpf(out, stdout, JSON_COMPACT);
		fputc('\n', stdout);
	} else if (json_object_get(out, "values")) {
		const json_t *v;
		size_t i;

		json_array_foreach (json_object_get(out, "values"), i, v)
			print_value(v);
		if (json_array_size(json_object_get(out, "values")) == 0)
			printf("%s carries no indexed value\n", what);
	} else {
		print_value(out);
	}
out:
	json_decref(out);
	store_close(s);
	match_warninglists_free(wl);
	return rc;
}

static void reindex_usage(FILE *f)
{
	fprintf(f, "usage: tix reindex [--db PATH]\n\n"
	           "Rebuilds the value index of correlation, the sightings per indicator and the\n"
	           "text index of search from every stored version, in one transaction (a\n"
	           "server may go on serving meanwhile; its writes wait).\n");
}

int cmd_reindex(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct store_reindex_counts c;
	struct tix_error err;
	const char *db = NULL;
	struct store *s;
	int ch;
	enum tix_err e;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'h': reindex_usage(stdout); return EXIT_OK_;
		default: reindex_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		reindex_usage(stderr);
		return EXIT_USAGE;
	}
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	e = store_values_reindex(s, &c, &err);
	store_close(s);
	if (e != TIX_OK) {
		cli_print_error("reindex", &err);
		return cli_exit_code(e);
	}
	printf("%lld versions, %lld values indexed, %lld malformed values left out\n",
	       (long long)c.versions, (long long)c.values, (long long)c.refused);
	return EXIT_OK_;
}
