/*
 * cli/cmd_sync.c — `tix sync`: runs the federation with each peer (pull,
 * then push) once, or on each peer's interval until SIGTERM; also the loop
 * `tix serve --sync` runs in a thread beside the TAXII server.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "taxii/taxii.h"
#include "pattern/pattern.h"
#include "sync/sync.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix sync [--db PATH] [--peer NAME] [--once] [--pull-only | --push-only]\n"
	        "                [--page-size N] [--bundle-objects N] [--bundle-bytes N]\n"
	        "                [--max-pages N] [--max-page-bytes N] [--attempts N]\n"
	        "                [--timeout SECONDS] [--page-bytes N]\n\n"
	        "Pulls each peer's remote collection into its local one, then pushes what the\n"
	        "sharing policy lets this node send to the peer (see `tix peer`). With --once,\n"
	        "one run per peer; exit 0 only when every peer converged (pulled to the end,\n"
	        "everything pushed and acknowledged), 1 when a peer failed or refused objects.\n"
	        "Without --once, each peer runs on its interval until SIGTERM or SIGINT.\n\n"
	        "  --peer NAME        only this peer\n"
	        "  --page-size N      objects asked per page (default 1000)\n"
	        "  --bundle-objects N at most N objects per pushed bundle (default 1000)\n"
	        "  --bundle-bytes N   at most N bytes per pushed bundle (default 8M)\n"
	        "  --max-pages N      at most N pages pulled per run (default 100000)\n"
	        "  --max-page-bytes N refuse answers larger than N bytes (default 64M)\n"
	        "  --page-bytes N     ask for pages of at most N bytes (K, M; for slow links:\n"
	        "                     one page fits the time-out); tix peers end a page early,\n"
	        "                     for others fewer objects are asked per page\n"
	        "  --attempts N       tries per request on transient failures (default 6)\n"
	        "  --timeout S        give up a transfer after S seconds without data (default 30)\n");
}

struct sync_opts {
	const char *db;
	const char *peer;
	int once, pull, push;
	struct sync_config cfg;
};

struct peer_names {
	char (*names)[64];
	int64_t *interval;
	size_t n, cap;
	const char *only;
};

static int collect_peer(void *arg, const struct store_peer *p)
{
	struct peer_names *pn = arg;

	if (pn->only && strcmp(pn->only, p->name) != 0)
		return 0;
	if (pn->n == pn->cap) {
		size_t cap = pn->cap ? pn->cap * 2 : 16;
		char(*nn)[64] = realloc(pn->names, cap * sizeof(*nn));
		int64_t *ni;

		if (nn == NULL)
			return 1;
		pn->names = nn;
		if ((ni = realloc(pn->interval, cap * sizeof(*ni))) == NULL)
			return 1;
		pn->interval = ni;
		pn->cap = cap;
	}
	snprintf(pn->names[pn->n], 64, "%s", p->name);
	pn->interval[pn->n] = p->interval;
	pn->n++;
	return 0;
}

static void peer_names_release(struct peer_names *pn)
{
	free(pn->names);
	free(pn->interval);
	memset(pn, 0, sizeof(*pn));
}

static int run_one(struct store *s, const struct sync_opts *o, const char *name)
{
	struct sync_result res;
	struct tix_error err;
	char msg[1024];
	enum tix_err e;

	tix_error_clear(&err);
	e = sync_peer_run(s, &o->cfg, name, o->pull, o->push, &res, &err);
	fprintf(stderr,
	        "tix sync: %s: pulled %lld objects in %lld pages (%lld new, %lld rejected); pushed "
	        "%lld (%lld refused, %lld kept home); %lld bytes in, %lld out; %s%s%s\n",
	        name, (long long)res.objects_in, (long long)res.pages,
	        (long long)res.objects_stored, (long long)res.objects_rejected,
	        (long long)res.objects_out, (long long)res.objects_refused,
	        (long long)res.objects_skipped, (long long)res.bytes_in, (long long)res.bytes_out,
	        e == TIX_OK ? (res.converged ? "converged" : "not converged (see tix peer status)")
	                    : "FAILED: ",
	        e == TIX_OK ? "" : tix_error_str(&err, msg, sizeof(msg)), "");
	return e == TIX_OK && res.converged ? 0 : 1;
}

/* When each peer runs next, by name (monotonic seconds). */
struct due {
	char name[64];
	int64_t at;
};

int cli_sync_loop(const char *db, const struct sync_config *cfg, const char *only)
{
	struct sync_opts o;
	struct peer_names pn = {0};
	struct tix_error err;
	struct store *s;
	struct due *due = NULL;
	size_t ndue = 0;

	memset(&o, 0, sizeof(o));
	o.db = db;
	o.cfg = *cfg;
	o.pull = o.push = 1;
	tix_error_clear(&err);
	if ((s = store_open(db, NULL, &err)) == NULL) {
		cli_print_error("sync", &err);
		return EXIT_SYSTEM;
	}
	while (!(cfg->stop && *cfg->stop)) {
		struct timespec now, ts = {0, 200 * 1000 * 1000};

		/* Peers added or removed while running are picked up here. */
		peer_names_release(&pn);
		pn.only = only;
		/* PostgreSQL gone away (stopped, restarted): said, and tried
		 * again on the next round, connecting again. */
		if (store_reconnect(s, &err) != TIX_OK ||
		    store_peer_list(s, collect_peer, &pn, &err) != TIX_OK) {
			cli_print_error("sync", &err);
			if (!store_lost(s))
				break;
			for (int k = 0; k < 10 && !(cfg->stop && *cfg->stop); k++)
				nanosleep(&ts, NULL);
			continue;
		}
		for (size_t i = 0; i < pn.n && !(cfg->stop && *cfg->stop); i++) {
			struct due *d = NULL;

			for (size_t k = 0; k < ndue && d == NULL; k++)
				if (strcmp(due[k].name, pn.names[i]) == 0)
					d = &due[k];
			if (d == NULL) {
				struct due *nd = realloc(due, (ndue + 1) * sizeof(*nd));

				if (nd == NULL)
					break;
				due = nd;
				d = &due[ndue++];
				snprintf(d->name, sizeof(d->name), "%s", pn.names[i]);
				d->at = 0; /* a new peer (or a restart): run it now */
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (d->at > (int64_t)now.tv_sec)
				continue;
			if (!cfg->policy_fixed) {
				/* `tix admin node set` applies from the next run. */
				struct policy_node n;

				if (taxii_node_settings(s, &n, NULL) == TIX_OK)
					o.cfg.policy = n;
			}
			run_one(s, &o, pn.names[i]);
			clock_gettime(CLOCK_MONOTONIC, &now);
			d->at = (int64_t)now.tv_sec + pn.interval[i];
		}
		/* Look again five times a second: intervals are whole seconds. */
		for (int k = 0; k < 5 && !(cfg->stop && *cfg->stop); k++)
			nanosleep(&ts, NULL);
	}
	peer_names_release(&pn);
	free(due);
	store_close(s);
	return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_sync(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"peer", required_argument, NULL, 'p'},
	        {"once", no_argument, NULL, '1'},
	        {"pull-only", no_argument, NULL, 'P'},
	        {"push-only", no_argument, NULL, 'Q'},
	        {"page-size", required_argument, NULL, 's'},
	        {"bundle-objects", required_argument, NULL, 'o'},
	        {"bundle-bytes", required_argument, NULL, 'b'},
	        {"max-pages", required_argument, NULL, 'm'},
	        {"attempts", required_argument, NULL, 'a'},
	        {"timeout", required_argument, NULL, 't'},
	        {"max-page-bytes", required_argument, NULL, 'B'},
	        {"page-bytes", required_argument, NULL, 'G'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct sync_opts o;
	struct peer_names pn = {0};
	struct tix_error err;
	struct store *s;
	size_t v;
	int ch, rc = 0;

	memset(&o, 0, sizeof(o));
	sync_config_init(&o.cfg);
	o.cfg.check_pattern = pattern_check;
	o.pull = o.push = 1;
	tix_error_clear(&err);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		int bad = 0;

		switch (ch) {
		case 'd': o.db = optarg; break;
		case 'p': o.peer = optarg; break;
		case '1': o.once = 1; break;
		case 'P': o.push = 0; break;
		case 'Q': o.pull = 0; break;
		case 's':
		case 'o':
		case 'b':
		case 'm':
		case 'a':
		case 't':
		case 'B':
		case 'G':
			if (cli_parse_size(optarg, &v) != 0 || v == 0 || v > ((size_t)1 << 40)) {
				bad = 1;
				break;
			}
			if (ch == 's')
				o.cfg.page_limit = v;
			else if (ch == 'o')
				o.cfg.push_max_objects = v;
			else if (ch == 'b')
				o.cfg.push_max_bytes = v;
			else if (ch == 'm')
				o.cfg.max_pages = v;
			else if (ch == 'B')
				o.cfg.max_page_bytes = v;
			else if (ch == 'G')
				o.cfg.page_bytes = v;
			else if (ch == 'a')
				o.cfg.attempts = v > 100 ? 100 : (int)v;
			else
				o.cfg.low_speed_time = (long)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (bad) {
			fprintf(stderr, "tix sync: '%s' is not a positive number\n", optarg);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tix sync: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o.pull && !o.push) {
		fprintf(stderr, "tix sync: --pull-only and --push-only exclude each other\n");
		return EXIT_USAGE;
	}
	sync_global_init();
	if ((s = cli_open_store(cli_db_path(o.db))) == NULL)
		return EXIT_SYSTEM;
	if (cli_policy_node(s, &o.cfg.policy) != 0) {
		store_close(s);
		return EXIT_INVALID;
	}
	/* The [peer NAME] settings of tix.conf, over the stored peers. */
	if (cli_config_apply_peers(s) != 0) {
		store_close(s);
		return EXIT_USAGE;
	}
	if (!o.once) {
		store_close(s);
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		o.cfg.stop = &stop_flag;
		return cli_sync_loop(cli_db_path(o.db), &o.cfg, o.peer);
	}
	pn.only = o.peer;
	if (store_peer_list(s, collect_peer, &pn, &err) != TIX_OK) {
		cli_print_error("sync", &err);
		store_close(s);
		return EXIT_SYSTEM;
	}
	if (o.peer && pn.n == 0) {
		fprintf(stderr, "tix sync: %s: no such peer\n", o.peer);
		rc = EXIT_INVALID;
	} else if (pn.n == 0) {
		fprintf(stderr, "tix sync: no peers (add one with `tix peer add`)\n");
	}
	for (size_t i = 0; i < pn.n; i++)
		if (run_one(s, &o, pn.names[i]) != 0)
			rc = EXIT_INVALID;
	peer_names_release(&pn);
	store_close(s);
	return rc;
}
