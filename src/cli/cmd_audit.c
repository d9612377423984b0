/*
 * cli/cmd_audit.c — `tix audit verify` recomputes the audit log's hash
 * chain and names the first entry changed, missing or reordered; `tix
 * audit show` lists entries, e.g. every read of one object ("who has seen
 * this").
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix audit verify [--db PATH] [--anchor SEQ:HASH]\n"
	        "       tix audit anchor [--db PATH]\n"
	        "       tix audit show [--db PATH] [--object ID] [--since TIMESTAMP] [--json]\n\n"
	        "The audit log records every read and write of objects over TAXII, every\n"
	        "export, every authentication failure and every administrative change, each\n"
	        "entry chained to the one before by a BLAKE2b hash.\n\n"
	        "  verify          exit 0 when the chain is whole; 1 naming the first entry\n"
	        "                  that was changed, deleted or moved\n"
	        "  --anchor SEQ:HASH  and the chain still holds that entry with that hash\n"
	        "                  (an anchor printed earlier, or one a peer keeps)\n"
	        "  anchor          print the head, SEQ:HASH, to keep elsewhere\n"
	        "  show            the entries, oldest first\n"
	        "  --object ID     only entries about object ID (who has seen it)\n"
	        "  --since TS      only entries at or after TS (RFC 3339)\n"
	        "  --json          one JSON object per line; \"objects\" is an array of ids;\n"
	        "                  when they are those of entry SEQ (a repeated answer) it\n"
	        "                  is empty and \"objects_of\" is SEQ\n");
}

struct show {
	int json;
	const char *object;
	size_t n;
};

static int print_entry(void *arg, int64_t seq, const struct store_audit_entry *e)
{
	struct show *sh = arg;
	struct tix_time t;
	char ts[32];
	size_t nobj = 0;

	for (const char *p = e->objects; p && *p; p++)
		nobj += *p == '\n';
	nobj = nobj ? nobj - 1 : 0;
	tix_time_from_us(e->at, &t);
	tix_time_format(&t, 6, ts);
	if (sh->json) {
		json_t *objs = json_array();
		json_t *v = json_pack("{sIssssssssssso}", "seq", (json_int_t)seq, "at", ts,
		                      "action", e->action, "actor", e->actor, "org", e->org,
		                      "detail", e->detail, "objects", objs);

		if (e->objects && e->objects[0] == '=') {
			json_object_set_new(v, "objects_of",
			                    json_integer(strtoll(e->objects + 1, NULL, 10)));
		} else {
			/* "\nID\nID\n" */
			for (const char *p = e->objects; p && *p;) {
				size_t n = strcspn(p, "\n");

				if (n > 0)
					json_array_append_new(objs, json_stringn(p, n));
				p += n;
				if (*p == '\n')
					p++;
			}
		}
		if (v) {
			json_dumpf(v, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(v);
		}
	} else {
		char what[48];

		if (e->objects &&
		    e->objects[0] == '=') /* the objects of an earlier entry (a repeated answer) */
			snprintf(what, sizeof(what), "objects of #%s", e->objects + 1);
		else
			snprintf(what, sizeof(what), "%zu object%s", nobj, nobj == 1 ? "" : "s");
		printf("%-8lld %s %-12s %-16s %-16s %-18s %s\n", (long long)seq, ts, e->action,
		       e->actor[0] ? e->actor : "-", e->org[0] ? e->org : "-", what, e->detail);
	}
	sh->n++;
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"object", required_argument, NULL, 'o'},
	        {"since", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {"anchor", required_argument, NULL, 'a'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct show sh = {0, NULL, 0};
	const char *db = NULL, *verb;
	struct tix_error err;
	int64_t since = 0, entries = 0, bad = 0, anchor_seq = 0;
	const char *anchor = NULL, *anchor_hex = NULL;
	struct store *s;
	int ch, rc = 0;

	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'o': sh.object = optarg; break;
		case 'j': sh.json = 1; break;
		case 's': {
			struct tix_time t;

			if (tix_time_parse(optarg, &t, &err) != TIX_OK) {
				fprintf(stderr, "tix audit: --since: %s\n", err.msg);
				return EXIT_USAGE;
			}
			since = tix_time_to_us(&t);
			break;
		}
		case 'a': {
			char *end = NULL;
			long long n = strtoll(optarg, &end, 10);

			anchor = optarg;
			if (end == optarg || n < 0 || *end != ':' || strlen(end + 1) != 64 ||
			    strspn(end + 1, "0123456789abcdef") != 64) {
				fprintf(stderr,
				        "tix audit: --anchor: '%.100s' is not SEQ:HASH (as "
				        "`tix audit anchor` prints it)\n",
				        optarg);
				return EXIT_USAGE;
			}
			anchor_seq = n;
			anchor_hex = end + 1;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	verb = argv[optind];
	if (strcmp(verb, "verify") != 0 && strcmp(verb, "show") != 0 &&
	    strcmp(verb, "anchor") != 0) {
		fprintf(stderr, "tix audit: '%s' is not verify, show or anchor\n", verb);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	if (strcmp(verb, "anchor") == 0) {
		int64_t seq;
		char hx[65];

		if (store_audit_anchor(s, &seq, hx, &err) != TIX_OK) {
			cli_print_error("audit", &err);
			rc = EXIT_SYSTEM;
		} else {
			printf("%lld:%s\n", (long long)seq, hx);
		}
	} else if (strcmp(verb, "verify") == 0) {
		enum tix_err e = anchor ? store_audit_verify_anchor(s, anchor_seq, anchor_hex,
		                                                    &entries, &bad, &err)
		                        : store_audit_verify(s, &entries, &bad, &err);

		if (e == TIX_OK && anchor) {
			printf("audit log intact: %lld entries, holding anchor %s\n",
			       (long long)entries, anchor);
		} else if (e == TIX_OK) {
			printf("audit log intact: %lld entries\n", (long long)entries);
		} else if (e == TIX_EINVAL) {
			fprintf(stderr, "tix audit verify: BROKEN at entry %lld: %s\n",
			        (long long)bad, err.msg);
			rc = EXIT_INVALID;
		} else {
			cli_print_error("audit", &err);
			rc = EXIT_SYSTEM;
		}
	} else if (store_audit_list(s, sh.object, since, print_entry, &sh, &err) != TIX_OK) {
		cli_print_error("audit", &err);
		rc = EXIT_SYSTEM;
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	store_close(s);
	return rc;
}
