/*
 * cli/cmd_pattern.c — `tix pattern check|explain|match`: validates a STIX
 * pattern (pointing at the column of the first problem), shows how it
 * parsed and what an index could look up, and evaluates it against
 * observed data with grep's exit codes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pattern/pattern.h"

#define MATCH_MAX_SIZE ((size_t)1 << 30)

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix pattern check [--stix-version 2.0|2.1] [--syntax-only] [--quiet] PATTERN\n"
	        "       tix pattern explain [--stix-version 2.0|2.1] PATTERN\n"
	        "       tix pattern match [--stix-version 2.0|2.1] [--max-size N] PATTERN FILE\n\n"
	        "STIX patterning (STIX 2.1 section 9). PATTERN '-' reads it from standard input.\n\n"
	        "  check     exit 0 when PATTERN is valid; else print the error with a caret\n"
	        "            under its column and exit 1. Object types and property names\n"
	        "            are checked as `tix import` checks them, unless --syntax-only.\n"
	        "  explain   print the canonical pattern, its tree and its atoms (the\n"
	        "            comparisons an index can look up).\n"
	        "  match     evaluate PATTERN against FILE: a STIX bundle, or a JSON array\n"
	        "            of bundles or objects, holding observed-data and the objects\n"
	        "            they refer to (object_refs) or embed (STIX 2.0 \"objects\").\n"
	        "            Prints the observed-data each observation expression was\n"
	        "            matched with. Exit 0 on a match, 1 on none, 2 when the pattern\n"
	        "            or the data is invalid or the evaluation gave up (as grep).\n\n"
	        "  --stix-version V  the grammar of STIX 2.0 or 2.1 (default 2.1)\n"
	        "  --syntax-only     check only the grammar and constants, not the names\n"
	        "  --quiet           print nothing when the pattern is valid\n"
	        "  --max-size N      refuse a FILE larger than N bytes (default 1G)\n");
}

/* Prints the error and, when it has a position, the line of the pattern
 * with a caret under the column (tabs kept so the caret lines up). */
static void show_error(const char *text, size_t len, const struct tix_error *err)
{
	unsigned line, column;
	const char *start = text, *end;

	fprintf(stderr, "tix pattern: %s\n", err->msg);
	if (pattern_error_pos(err, &line, &column) != 0)
		return;
	for (unsigned l = 1; l < line; l++) {
		const char *nl = memchr(start, '\n', len - (size_t)(start - text));

		if (nl == NULL)
			return;
		start = nl + 1;
	}
	end = memchr(start, '\n', len - (size_t)(start - text));
	if (end == NULL)
		end = text + len;
	if (end - start > 2000)
		return; /* a caret under a very long line helps nobody */
	fprintf(stderr, "  %.*s\n  ", (int)(end - start), start);
	for (const char *p = start; column > 1 && p < end; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		fputc(*p == '\t' ? '\t' : ' ', stderr);
		column--;
	}
	fputs("^\n", stderr);
}

static int read_pattern(const char *arg, char **buf, const char **text, size_t *len)
{
	struct tix_error err;

	tix_error_clear(&err);
	*buf = NULL;
	if (strcmp(arg, "-") != 0) {
		*text = arg;
		*len = strlen(arg);
		return 0;
	}
	if (cli_read_input("-", PATTERN_MAX_LEN, buf, len, &err) != TIX_OK) {
		if (err.code == TIX_ETOOBIG)
			fprintf(stderr,
			        "tix pattern: the pattern has more than the limit of %u bytes\n",
			        PATTERN_MAX_LEN);
		else
			cli_print_error("pattern", &err);
		return -1;
	}
	*text = *buf;
	return 0;
}

static void print_atoms(const struct pattern_atoms *a)
{
	printf("atoms: %zu, %s\n", a->count,
	       a->simple ? "simple (an index lookup decides the pattern)"
	                 : "not simple (an index lookup can only preselect)");
	for (size_t i = 0; i < a->count; i++) {
		const struct pattern_atom *at = &a->atoms[i];

		printf("  #%u %s:%s %s%s", at->observation + 1, at->object_type, at->path,
		       at->negated ? "NOT " : "", pattern_op_name(at->op));
		if (at->kind == PATTERN_LIT_STRING) {
			/* quoted as in a pattern, so the value's edges show */
			fputs(" '", stdout);
			for (size_t k = 0; k < at->value_len; k++) {
				if (at->value[k] == '\'' || at->value[k] == '\\')
					fputc('\\', stdout);
				fputc(at->value[k], stdout);
			}
			printf("' (%s)", pattern_lit_name(at->kind));
		} else if (at->value) {
			printf(" %.*s (%s)", (int)at->value_len, at->value,
			       pattern_lit_name(at->kind));
		}
		printf("%s\n", at->plain ? "" : "  [path follows a list or reference]");
	}
}

static int do_explain(const struct pattern *p)
{
	struct pattern_atoms *atoms;
	struct tix_error err;
	struct tix_buf out;
	int rc = EXIT_SYSTEM;

	tix_error_clear(&err);
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	if ((atoms = pattern_atoms_extract(p, &err)) == NULL) {
		cli_print_error("pattern", &err);
		goto out;
	}
	if (pattern_format(p, &out) != TIX_OK || tix_buf_addc(&out, '\n') != TIX_OK ||
	    pattern_explain(p, &out) != TIX_OK) {
		fprintf(stderr, "tix pattern: out of memory\n");
		goto out;
	}
	fputs(tix_buf_str(&out), stdout);
	print_atoms(atoms);
	rc = 0;
out:
	pattern_atoms_free(atoms);
	tix_buf_release(&out);
	return rc;
}

static int do_match(const struct pattern *p, const char *file, size_t max_size)
{
	struct pattern_observations *obs = NULL;
	struct pattern_result res;
	struct tix_error err;
	json_t *doc = NULL;
	char *data = NULL;
	size_t len;
	int rc = EXIT_USAGE; /* 2: invalid data, as grep */

	tix_error_clear(&err);
	memset(&res, 0, sizeof(res));
	if (cli_read_input(file, max_size, &data, &len, &err) != TIX_OK) {
		cli_print_error("pattern", &err);
		goto out;
	}
	if ((doc = stix_json_parse(data, len, strcmp(file, "-") ? file : "<stdin>", &err)) ==
	    NULL) {
		cli_print_error("pattern", &err);
		goto out;
	}
	if ((obs = pattern_observations_new()) == NULL) {
		fprintf(stderr, "tix pattern: out of memory\n");
		goto out;
	}
	if (pattern_observations_add(obs, doc, &err) != TIX_OK ||
	    pattern_observations_seal(obs, &err) != TIX_OK ||
	    pattern_match(p, obs, NULL, &res, &err) != TIX_OK) {
		cli_print_error("pattern", &err);
		goto out;
	}
	if (res.regex_limit_hits)
		fprintf(stderr,
		        "tix pattern: warning: %zu regular expression match%s stopped at the PCRE2 "
		        "limits (counted as not matching)\n",
		        res.regex_limit_hits, res.regex_limit_hits == 1 ? "" : "es");
	if (res.gave_up) {
		fprintf(stderr,
		        "tix pattern: gave up: the evaluation needs more than its budget of "
		        "steps (or more than 1024 observations in one match)\n");
		goto out;
	}
	if (!res.matched) {
		printf("no match in %zu observed-data\n", pattern_observations_count(obs));
		rc = EXIT_INVALID;
		goto out;
	}
	printf("match\n");
	for (size_t i = 0; i < res.nbindings; i++)
		printf("  observation expression #%u: %s\n", res.bindings[i].observation + 1,
		       pattern_observations_id(obs, res.bindings[i].index));
	rc = 0;
out:
	pattern_result_release(&res);
	pattern_observations_free(obs);
	json_decref(doc);
	free(data);
	return rc;
}

int cmd_pattern(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"stix-version", required_argument, NULL, 'v'},
	        {"syntax-only", no_argument, NULL, 's'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"max-size", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	enum pattern_version version = PATTERN_V21;
	size_t max_size = MATCH_MAX_SIZE, len = 0;
	int syntax_only = 0, quiet = 0, ch, rc = EXIT_USAGE, nargs;
	struct pattern *p = NULL;
	struct tix_error err;
	struct tix_buf warnings;
	const char *sub, *text = NULL;
	char *buf = NULL;

	tix_error_clear(&err);
	tix_buf_init(&warnings, 1 << 16);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			if (strcmp(optarg, "2.0") == 0) {
				version = PATTERN_V20;
			} else if (strcmp(optarg, "2.1") == 0) {
				version = PATTERN_V21;
			} else {
				fprintf(stderr, "tix pattern: --stix-version takes 2.0 or 2.1\n");
				goto out;
			}
			break;
		case 's': syntax_only = 1; break;
		case 'q': quiet = 1; break;
		case 'm':
			if (cli_parse_size(optarg, &max_size) != 0) {
				fprintf(stderr, "tix pattern: --max-size: '%s' is not a size\n",
				        optarg);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	sub = argv[optind];
	nargs = argc - optind - 1;
	if (!((strcmp(sub, "check") == 0 && nargs == 1) ||
	      (strcmp(sub, "explain") == 0 && nargs == 1) ||
	      (strcmp(sub, "match") == 0 && nargs == 2))) {
		usage(stderr);
		goto out;
	}
	if (read_pattern(argv[optind + 1], &buf, &text, &len) != 0) {
		rc = strcmp(sub, "match") == 0 ? EXIT_USAGE : EXIT_INVALID;
		goto out;
	}
	if ((p = pattern_parse(text, len, version, &err)) == NULL ||
	    (strcmp(sub, "check") == 0 && !syntax_only &&
	     pattern_check_names(p, &warnings, &err) != TIX_OK)) {
		if (err.code == TIX_ENOMEM) {
			cli_print_error("pattern", &err);
			rc = EXIT_SYSTEM;
		} else {
			show_error(text, len, &err);
			rc = strcmp(sub, "match") == 0 ? EXIT_USAGE : EXIT_INVALID;
		}
		goto out;
	}
	if (strcmp(sub, "check") == 0) {
		for (const char *w = tix_buf_str(&warnings), *nl; *w; w = nl + 1) {
			if ((nl = strchr(w, '\n')) == NULL)
				break;
			fprintf(stderr, "tix pattern: warning: %.*s\n", (int)(nl - w), w);
		}
		if (!quiet)
			printf("valid STIX %s pattern\n", version == PATTERN_V20 ? "2.0" : "2.1");
		rc = 0;
	} else if (strcmp(sub, "explain") == 0) {
		rc = do_explain(p);
	} else {
		rc = do_match(p, argv[optind + 2], max_size);
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
out:
	pattern_free(p);
	free(buf);
	tix_buf_release(&warnings);
	return rc;
}
