/*
 * cli/cmd_peer.c — `tix peer add|list|remove|status`: the peers this node
 * federates with, their credentials (read from stdin, never printed) and
 * the state of their cursors.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "sync/sync.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix peer add NAME --url DISCOVERY_URL --remote-collection ID\n"
	        "                --local-collection ID (--user U --password-stdin | --key-stdin)\n"
	        "                --direction pull|push|both [--interval SECONDS] [--org ORG]\n"
	        "                [--ca-file F] [--limit-rate BYTES_PER_S]\n"
	        "       tix peer add NAME --kind misp-feed --url URL/manifest.json\n"
	        "                --local-collection ID --org ORG [--key-stdin]\n"
	        "                [--interval SECONDS] [--ca-file F] [--limit-rate BYTES_PER_S]\n"
	        "       tix peer list [--json]\n"
	        "       tix peer remove NAME\n"
	        "       tix peer status [NAME] [--json]\n\n"
	        "A peer is another TAXII 2.1 server (tix or not). `tix sync` pulls its remote\n"
	        "collection into the local one and pushes what the sharing policy lets this\n"
	        "node send to the peer's organisation (--org). The password or API key is read\n"
	        "from the first line of standard input and kept in the store (readable only\n"
	        "by its owner); it is never printed or logged.\n\n"
	        "  --kind K         taxii (the default) or misp-feed: a MISP feed (manifest.json,\n"
	        "                   <uuid>.json, hashes.csv), pulled event by event; pull only,\n"
	        "                   --key-stdin optional (sent as `Authorization: KEY`)\n"
	        "  --interval S     seconds between runs under `tix serve --sync` (default 300)\n"
	        "  --org ORG        the peer's organisation: owner of what is pulled, audience\n"
	        "                   of what is pushed (without it only TLP:CLEAR is pushed)\n"
	        "  --ca-file F      CA certificates to verify the peer's TLS certificate\n"
	        "  --limit-rate N   at most N bytes per second each way (K, M suffixes)\n");
}

/* The first line of stdin, without its newline. */
static int read_secret(char *out, size_t size)
{
	size_t n;

	if (fgets(out, (int)size, stdin) == NULL)
		return -1;
	n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n == size - 1)
		return -1; /* too long */
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

static int copy_opt(char *dst, size_t size, const char *v, const char *what)
{
	if (strlen(v) >= size || v[0] == '\0') {
		fprintf(stderr, "tix peer: %s: 1 to %zu bytes\n", what, size - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int peer_add(struct store *s, const char *db, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"url", required_argument, NULL, 'u'},
	        {"remote-collection", required_argument, NULL, 'r'},
	        {"local-collection", required_argument, NULL, 'l'},
	        {"user", required_argument, NULL, 'U'},
	        {"password-stdin", no_argument, NULL, 'p'},
	        {"key-stdin", no_argument, NULL, 'k'},
	        {"direction", required_argument, NULL, 'D'},
	        {"interval", required_argument, NULL, 'i'},
	        {"org", required_argument, NULL, 'o'},
	        {"ca-file", required_argument, NULL, 'c'},
	        {"limit-rate", required_argument, NULL, 'L'},
	        {"kind", required_argument, NULL, 'K'},
	        {NULL, 0, NULL, 0},
	};
	struct store_peer p;
	struct store_collection coll;
	struct tix_error err;
	int ch, pw = 0, key = 0, rc = EXIT_USAGE;
	char *end;
	size_t rate;
	enum tix_err e;

	memset(&p, 0, sizeof(p));
	p.interval = 300;
	memcpy(p.kind, "taxii", sizeof("taxii"));
	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': break;
		case 'u':
			if (copy_opt(p.url, sizeof(p.url), optarg, "--url") != 0)
				goto out;
			if (strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "https://", 8) != 0) {
				fprintf(stderr, "tix peer: --url: an http:// or https:// URL\n");
				goto out;
			}
			{
				/* Credentials in the URL would end up in messages and
				 * logs: they go on stdin. */
				const char *host = strstr(optarg, "://") + 3;
				size_t auth = strcspn(host, "/?#");

				if (memchr(host, '@', auth) != NULL) {
					fprintf(stderr,
					        "tix peer: --url: no user or password in the URL; "
					        "use --user with --password-stdin, or --key-stdin\n");
					goto out;
				}
			}
			break;
		case 'r':
			if (copy_opt(p.remote_collection, sizeof(p.remote_collection), optarg,
			             "--remote-collection") != 0)
				goto out;
			break;
		case 'l':
			if (copy_opt(p.local_collection, sizeof(p.local_collection), optarg,
			             "--local-collection") != 0)
				goto out;
			break;
		case 'U':
			if (copy_opt(p.user, sizeof(p.user), optarg, "--user") != 0)
				goto out;
			break;
		case 'p': pw = 1; break;
		case 'k': key = 1; break;
		case 'D':
			if (strcmp(optarg, "pull") == 0)
				p.direction = STORE_PEER_PULL;
			else if (strcmp(optarg, "push") == 0)
				p.direction = STORE_PEER_PUSH;
			else if (strcmp(optarg, "both") == 0)
				p.direction = STORE_PEER_PULL | STORE_PEER_PUSH;
			else {
				fprintf(stderr, "tix peer: --direction: pull, push or both\n");
				goto out;
			}
			break;
		case 'i':
			p.interval = strtoll(optarg, &end, 10);
			if (*end || p.interval < 1 || p.interval > 86400 * 7) {
				fprintf(stderr, "tix peer: --interval: 1 to 604800 seconds\n");
				goto out;
			}
			break;
		case 'o':
			if (copy_opt(p.org, sizeof(p.org), optarg, "--org") != 0)
				goto out;
			break;
		case 'c':
			if (copy_opt(p.ca_file, sizeof(p.ca_file), optarg, "--ca-file") != 0)
				goto out;
			break;
		case 'L':
			if (cli_parse_size(optarg, &rate) != 0 || rate == 0) {
				fprintf(stderr,
				        "tix peer: --limit-rate: a number of bytes per second\n");
				goto out;
			}
			p.limit_rate = (int64_t)rate;
			break;
		case 'K':
			if (strcmp(optarg, "taxii") != 0 && strcmp(optarg, "misp-feed") != 0) {
				fprintf(stderr, "tix peer: --kind: taxii or misp-feed\n");
				goto out;
			}
			snprintf(p.kind, sizeof(p.kind), "%s", optarg);
			break;
		default: usage(stderr); goto out;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "tix peer add: give exactly one NAME\n");
		goto out;
	}
	if (copy_opt(p.name, sizeof(p.name), argv[optind], "NAME") != 0)
		goto out;
	if (strcmp(p.kind, "misp-feed") == 0) {
		if (p.direction & STORE_PEER_PUSH) {
			fprintf(stderr,
			        "tix peer add: a MISP feed is pull-only: --direction push or "
			        "both is refused (leave --direction out, or give pull)\n");
			goto out;
		}
		if (p.remote_collection[0] || pw || p.user[0]) {
			fprintf(stderr,
			        "tix peer add: a MISP feed takes no --remote-collection, "
			        "--user or --password-stdin (its key, if any: --key-stdin)\n");
			goto out;
		}
		if (!p.url[0] || !p.local_collection[0] || !p.org[0]) {
			fprintf(stderr, "tix peer add: a MISP feed needs --url, --local-collection "
			                "and --org (the owner of what is pulled)\n");
			goto out;
		}
		p.direction = STORE_PEER_PULL;
		if (key && read_secret(p.secret, sizeof(p.secret)) != 0) {
			fprintf(stderr,
			        "tix peer add: no API key on standard input (one line, at most %zu "
			        "bytes)\n",
			        sizeof(p.secret) - 2);
			rc = EXIT_INVALID;
			goto out;
		}
		goto checked;
	}
	if (!p.url[0] || !p.remote_collection[0] || !p.local_collection[0] || !p.direction) {
		fprintf(stderr, "tix peer add: --url, --remote-collection, --local-collection and "
		                "--direction are required\n");
		goto out;
	}
	if (pw + key != 1 || (pw && !p.user[0]) || (key && p.user[0])) {
		fprintf(stderr, "tix peer add: give --user U --password-stdin, or --key-stdin\n");
		goto out;
	}
	if (read_secret(p.secret, sizeof(p.secret)) != 0) {
		fprintf(stderr,
		        "tix peer add: no %s on standard input (one line, at most %zu "
		        "bytes)\n",
		        pw ? "password" : "API key", sizeof(p.secret) - 2);
		rc = EXIT_INVALID;
		goto out;
	}
checked:
	for (const char *c = p.secret; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			fprintf(stderr, "tix peer add: the key holds control characters\n");
			rc = EXIT_INVALID;
			goto out;
		}
	if ((e = store_collection_get(s, p.local_collection, 0, &coll, &err)) != TIX_OK) {
		cli_print_error("peer add", &err);
		rc = cli_exit_code(e);
		goto out;
	}
	if ((e = store_peer_add(s, &p, &err)) != TIX_OK) {
		cli_print_error("peer add", &err);
		rc = cli_exit_code(e);
		goto out;
	}
	/* The store now holds a usable credential: only its owner may read
	 * it (a file's; a database's grants are its administrator's). */
	if (!store_path_is_url(db)) {
		const char *sfx[] = {"", "-wal", "-shm"};
		char path[4200];

		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s%s", db, sfx[i]);
			chmod(path, 0600);
		}
	}
	fprintf(stderr, "tix peer: added %s (%s %s, %s -> %s)\n", p.name, p.kind, p.url,
	        p.remote_collection[0] ? p.remote_collection : "events", coll.title);
	rc = 0;
out:
	explicit_bzero(p.secret, sizeof(p.secret));
	return rc;
}

static const char *direction_name(int d)
{
	return d == (STORE_PEER_PULL | STORE_PEER_PUSH) ? "both"
	       : d == STORE_PEER_PULL                   ? "pull"
	                                                : "push";
}

static void format_time(int64_t us, char out[32])
{
	struct tix_time t;

	if (us == 0) {
		snprintf(out, 32, "never");
		return;
	}
	tix_time_from_us(us, &t);
	tix_time_format(&t, 0, out);
}

struct listing {
	struct store *s;
	json_t *list;
	const char *only;
	int status;
	int found;
};

static int print_peer(void *arg, const struct store_peer *p)
{
	struct listing *l = arg;
	struct store_peer_state st;
	char anchor[128], aproblem[400];
	struct tix_error err;
	char ls[32], la[32];
	int64_t lag = 0;

	if (l->only && strcmp(l->only, p->name) != 0)
		return 0;
	l->found++;
	if (!l->status) {
		if (l->list)
			json_array_append_new(
			        l->list,
			        json_pack("{ss ss ss ss ss ss ss sI ss ss sI sb}", "name", p->name,
			                  "kind", p->kind, "url", p->url, "remote_collection",
			                  p->remote_collection, "local_collection",
			                  p->local_collection, "direction",
			                  direction_name(p->direction), "auth",
			                  p->user[0] ? "basic" : "key", "interval",
			                  (json_int_t)p->interval, "org", p->org, "ca_file",
			                  p->ca_file, "limit_rate", (json_int_t)p->limit_rate,
			                  "has_secret", p->secret[0] != '\0'));
		else
			printf("%-16s %-9s %-5s %-40s %s -> %s  org=%s  every %llds  %s%s\n",
			       p->name, p->kind, direction_name(p->direction), p->url,
			       p->remote_collection[0] ? p->remote_collection : "(events)",
			       p->local_collection, p->org[0] ? p->org : "-",
			       (long long)p->interval,
			       p->user[0] ? "user " : (p->secret[0] ? "API key" : "no key"),
			       p->user);
		return 0;
	}
	if (store_peer_state_get(l->s, p->name, &st, &err) != TIX_OK ||
	    store_peer_anchor_status(l->s, p->name, anchor, sizeof(anchor), aproblem,
	                             sizeof(aproblem), &err) != TIX_OK)
		return 0;
	if (st.last_success) {
		struct tix_time now;

		tix_time_now(&now);
		lag = (tix_time_to_us(&now) - st.last_success) / 1000000;
	}
	format_time(st.last_success, ls);
	format_time(st.last_attempt, la);
	if (l->list) {
		json_array_append_new(
		        l->list,
		        json_pack("{ss ss ss ss ss ss sI sI sI sI sI sI sI sI sI ss ss sI sb ss}",
		                  "name", p->name, "kind", p->kind, "direction",
		                  direction_name(p->direction), "pull_after", st.pull_after,
		                  "pull_next", st.pull_next[0] ? "(walk in progress)" : "",
		                  "push_cursor_time", "", "push_cursor", (json_int_t)st.push_cursor,
		                  "objects_in", (json_int_t)st.objects_in, "objects_stored",
		                  (json_int_t)st.objects_stored, "objects_rejected",
		                  (json_int_t)st.objects_rejected, "objects_out",
		                  (json_int_t)st.objects_out, "bytes_in", (json_int_t)st.bytes_in,
		                  "bytes_out", (json_int_t)st.bytes_out, "outbox",
		                  (json_int_t)st.outbox, "lag_seconds", (json_int_t)lag,
		                  "last_success", ls, "last_attempt", la, "last_attempt_us",
		                  (json_int_t)st.last_attempt, "failing", st.failing, "last_error",
		                  st.last_error));
		/* the push cursor as a timestamp */
		{
			json_t *o = json_array_get(l->list, json_array_size(l->list) - 1);
			char pc[32] = "";

			json_object_set_new(o, "errors", json_integer((json_int_t)st.errors));
			json_object_set_new(o, "audit_anchor", json_string(anchor));
			json_object_set_new(o, "audit_problem", json_string(aproblem));

			if (st.push_cursor) {
				struct tix_time t;

				tix_time_from_us(st.push_cursor, &t);
				tix_time_format(&t, 6, pc);
			}
			json_object_set_new(o, "push_cursor_time", json_string(pc));
		}
	} else {
		printf("%s (%s, %s)%s\n", p->name, p->kind, direction_name(p->direction),
		       st.failing ? "  FAILING" : "");
		if (strcmp(p->kind, "misp-feed") == 0) {
			printf("  pull cursor:   per event (the manifest's timestamps)\n");
			printf("  objects in:    %lld received, %lld stored; %lld events refused\n",
			       (long long)st.objects_in, (long long)st.objects_stored,
			       (long long)st.objects_rejected);
		} else {
			printf("  pull cursor:   %s%s\n",
			       st.pull_after[0] ? st.pull_after : "(start)",
			       st.pull_next[0] ? " (walk in progress)" : "");
			printf("  push cursor:   %lld\n", (long long)st.push_cursor);
			printf("  objects in:    %lld received, %lld stored, %lld rejected\n",
			       (long long)st.objects_in, (long long)st.objects_stored,
			       (long long)st.objects_rejected);
		}
		printf("  objects out:   %lld (outbox: %lld waiting)\n", (long long)st.objects_out,
		       (long long)st.outbox);
		printf("  bytes:         %lld in, %lld out\n", (long long)st.bytes_in,
		       (long long)st.bytes_out);
		printf("  last success:  %s\n", ls);
		if (st.last_success)
			printf("  lag:           %lld s\n", (long long)lag);
		printf("  last attempt:  %s\n", la);
		if (st.errors)
			printf("  failed:        %lld attempts in all\n", (long long)st.errors);
		if (st.last_error[0])
			printf("  last error:    %s\n", st.last_error);
		printf("  audit anchor:  %s\n", anchor[0] ? anchor : "(none received)");
		if (aproblem[0])
			printf("  AUDIT CHAIN:   %s\n", aproblem);
	}
	return 0;
}

int cmd_peer(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *sub;
	struct tix_error err;
	struct store *s;
	char label[32];
	int rc = 0, json = 0, ch;

	tix_error_clear(&err);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	/* --db is found by every subcommand's own parser; look for it first. */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[i + 1];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i] + 5;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "remove") != 0 &&
	    strcmp(sub, "status") != 0) {
		fprintf(stderr, "tix peer: '%s' is not a subcommand\n", sub);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Messages of the sub-parsers name the whole command. */
	snprintf(label, sizeof(label), "tix peer %s", sub);
	argv[1] = label;
	db = cli_db_path(db);
	if (strcmp(sub, "add") == 0) {
		if ((s = cli_open_store(db)) == NULL)
			return EXIT_SYSTEM;
		rc = peer_add(s, db, argc - 1, argv + 1);
		store_close(s);
		return rc;
	}
	optind = 0;
	while ((ch = cli_getopt(argc - 1, argv + 1, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	/* list and status only read: they never create a store. */
	if ((s = strcmp(sub, "remove") == 0 ? cli_open_store(db) : cli_open_existing_store(db)) ==
	    NULL)
		return EXIT_SYSTEM;
	if (strcmp(sub, "remove") == 0) {
		enum tix_err e;

		if (optind != argc - 2) {
			fprintf(stderr, "tix peer remove: give exactly one NAME\n");
			rc = EXIT_USAGE;
		} else if ((e = store_peer_remove(s, argv[optind + 1], &err)) != TIX_OK) {
			cli_print_error("peer remove", &err);
			rc = cli_exit_code(e);
		}
	} else {
		struct listing l = {s, json ? json_array() : NULL, NULL, strcmp(sub, "status") == 0,
		                    0};
		enum tix_err e;

		if (optind < argc - 1)
			l.only = argv[optind + 1];
		if ((e = store_peer_list(s, print_peer, &l, &err)) != TIX_OK) {
			cli_print_error("peer", &err);
			rc = cli_exit_code(e);
		} else if (l.only && l.found == 0) {
			fprintf(stderr, "tix peer: %s: no such peer\n", l.only);
			rc = EXIT_INVALID;
		} else if (l.list) {
			char *out = json_dumps(l.list, JSON_INDENT(2));

			if (out)
				puts(out);
			free(out);
		}
		json_decref(l.list);
	}
	store_close(s);
	return rc;
}
