/*
 * cli/cmd_serve.c — `tix serve`: reads the options (and an optional config
 * file), opens the store once to migrate it and read the node secret, then
 * runs the TAXII 2.1 server until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "http/http.h"
#include "pattern/pattern.h"
#include "sync/sync.h"
#include "taxii/taxii.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix serve [--listen HOST:PORT] [--db PATH] [--config FILE]\n"
	        "                 [--tls-cert FILE --tls-key FILE] [--threads N] [--max-body N]\n"
	        "                 [--max-connections N] [--idle-timeout SECONDS]\n"
	        "                 [--access-log FILE|-|off] [--insecure-http] [--cache N]\n"
	        "                 [--default-tlp LEVEL] [--anonymous-read] [--sync]\n"
	        "                 [--no-metrics] [--metrics-key-file FILE] [--log-format text|json]\n"
	        "                 [--insecure-no-policy] [--check]\n\n"
	        "Serves the store over TAXII 2.1 at /taxii2/ (discovery) and /api1/ (the API\n"
	        "root) until SIGTERM or SIGINT, which finish the requests in progress first.\n\n"
	        "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8600)\n"
	        "  --db PATH            the store (default $TIX_DB, else ./var/tix.db)\n"
	        "  --tls-cert/--tls-key PEM certificate and key: serve HTTPS\n"
	        "  --insecure-http      allow plain HTTP on a non-loopback address\n"
	        "  --threads N          worker threads (default: twice the cores, at least 4)\n"
	        "  --max-body N         largest POST body (default 16M; K, M, G)\n"
	        "  --max-connections N  open connections at most (default 1024)\n"
	        "  --idle-timeout S     close connections idle this long (default 30)\n"
	        "  --examine-max N      rows one listing page examines at most (default 2000);\n"
	        "                       past it the page is short, with more and next\n"
	        "  --body-budget N      POST bodies buffered at once, node-wide (default 256M);\n"
	        "                       past it (or a principal's share) 503 with Retry-After\n"
	        "  --body-share N       of which one principal may hold (default a quarter)\n"
	        "  --cache N            per worker thread, memory for recent GET answers,\n"
	        "                       reused until anything is written (default 32M; 0: off)\n"
	        "  --access-log DEST    one line per request: a file, '-' for stderr (the\n"
	        "                       default) or 'off'\n"
	        "  --default-tlp LEVEL  TLP of objects without a TLP marking: clear, green,\n"
	        "                       amber, amber+strict or red (default: the node setting,\n"
	        "                       `tix admin node set --default-tlp L`, else amber)\n"
	        "  --anonymous-read     callers without credentials may read TLP:CLEAR objects\n"
	        "                       (default: the node setting, `tix admin node set\n"
	        "                       --anonymous-read on|off`, else off)\n"
	        "  --sync               also run the peers (`tix peer`) on their intervals, as\n"
	        "                       `tix sync` does, stopping with the server\n"
	        "  --log-format F       text (the default) or json: the access log and messages\n"
	        "                       as one JSON object per line, each request with its id\n"
	        "                       (also the X-Request-Id header and TAXII errors' error_id)\n"
	        "  --no-metrics         do not answer GET /metrics (Prometheus text format;\n"
	        "                       by default answered to loopback callers only)\n"
	        "  --metrics-key-file F GET /metrics needs the key on F's first line (16+\n"
	        "                       bytes) as 'Authorization: Bearer KEY', from anywhere\n"
	        "  --check              check the settings and that the address is free, then\n"
	        "                       exit (0 when `tix serve` would start)\n"
	        "  --insecure-no-policy FOR BENCHMARKS ONLY: no TLP/sharing-group filtering;\n"
	        "                       refused unless listening on a loopback address\n"
	        "  --config FILE        the configuration (default $TIX_CONFIG, else\n"
	        "                       /etc/tix/tix.conf when it exists): [serve] holds the\n"
	        "                       options above without their dashes, plus title,\n"
	        "                       description, contact, page-size, page-max; [policy]\n"
	        "                       default-tlp and anonymous-read; [store] path; [peer\n"
	        "                       NAME] a peer's settings. Command-line options win.\n"
	        "                       `tix config check` validates it; see tix.conf(5)\n");
}

struct serve_opts {
	char listen[256], db[4096], tls_cert[4096], tls_key[4096], access_log[4096];
	char title[256], description[512], contact[256], metrics_key_file[4096];
	unsigned threads, max_connections, idle_timeout;
	size_t max_body, page_size, page_max, cache_bytes, examine_max, body_budget, body_share;
	int insecure;
	int default_tlp;    /* -1: the node setting */
	int anonymous_read; /* -1: the node setting */
	int no_policy;
	int sync; /* run the peers (tix sync) in a thread beside the server */
	int metrics;
	int log_json;
};

/* The federation thread of `tix serve --sync`: started once the server
 * listens (so it inherits the blocked SIGTERM/SIGINT), stopped after. */
struct serve_sync {
	const char *db;
	struct sync_config cfg;
	volatile sig_atomic_t stop;
	pthread_t thread;
	int started;
};

static void *sync_thread(void *arg)
{
	struct serve_sync *ss = arg;

	cli_sync_loop(ss->db, &ss->cfg, NULL);
	return NULL;
}

/* Applies one setting of [serve] or [policy] (or the command line's
 * --db), checked by the one table of settings (src/conf); returns 0, or
 * -1 with a message. */
static int set_option(struct serve_opts *o, const char *key, const char *value, const char *where)
{
	const struct conf_setting *cs = conf_setting_find("serve", key);
	char why[1200];
	unsigned long u = 0;
	size_t z = 0;
	int b = 0;

#define STR(field) snprintf(o->field, sizeof(o->field), "%s", value)
	if (strcmp(key, "db") == 0) {
		STR(db);
		return 0;
	}
	if (cs == NULL)
		cs = conf_setting_find("policy", key);
	if (cs == NULL) {
		const char *near = conf_nearest_key("serve", key);

		fprintf(stderr, "tix serve: %s: unknown setting '%s'%s%s%s\n", where, key,
		        near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		return -1;
	}
	if (conf_check_value(cs, value, why, sizeof(why)) != 0) {
		fprintf(stderr, "tix serve: %s: %s\n", where, why);
		return -1;
	}
	conf_parse_bool(value, &b);
	conf_parse_uint(value, cs->min, cs->max, &u);
	conf_parse_size(value, &z);
	if (strcmp(key, "listen") == 0)
		STR(listen);
	else if (strcmp(key, "tls-cert") == 0)
		STR(tls_cert);
	else if (strcmp(key, "tls-key") == 0)
		STR(tls_key);
	else if (strcmp(key, "access-log") == 0)
		STR(access_log);
	else if (strcmp(key, "title") == 0)
		STR(title);
	else if (strcmp(key, "description") == 0)
		STR(description);
	else if (strcmp(key, "contact") == 0)
		STR(contact);
	else if (strcmp(key, "metrics-key-file") == 0)
		STR(metrics_key_file);
	else if (strcmp(key, "metrics") == 0)
		o->metrics = b;
	else if (strcmp(key, "log-format") == 0)
		o->log_json = strcmp(value, "json") == 0;
	else if (strcmp(key, "default-tlp") == 0)
		o->default_tlp = stix_tlp_parse(value);
	else if (strcmp(key, "anonymous-read") == 0)
		o->anonymous_read = b;
	else if (strcmp(key, "sync") == 0)
		o->sync = b;
	else if (strcmp(key, "insecure-no-policy") == 0)
		o->no_policy = b;
	else if (strcmp(key, "insecure-http") == 0)
		o->insecure = b;
	else if (strcmp(key, "max-body") == 0)
		o->max_body = z;
	else if (strcmp(key, "cache") == 0)
		o->cache_bytes = z;
	else if (strcmp(key, "threads") == 0)
		o->threads = (unsigned)u;
	else if (strcmp(key, "max-connections") == 0)
		o->max_connections = (unsigned)u;
	else if (strcmp(key, "idle-timeout") == 0)
		o->idle_timeout = (unsigned)u;
	else if (strcmp(key, "page-size") == 0)
		o->page_size = u;
	else if (strcmp(key, "page-max") == 0)
		o->page_max = u;
	else if (strcmp(key, "examine-max") == 0)
		o->examine_max = u;
	else if (strcmp(key, "body-budget") == 0)
		o->body_budget = z;
	else if (strcmp(key, "body-share") == 0)
		o->body_share = z;
#undef STR
	return 0;
}

/* The BLAKE2b-256 of the first line of path: the key of GET /metrics. */
static int read_metrics_key(const char *path, unsigned char digest[32])
{
	char line[512];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "tix serve: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n < 16) {
		fprintf(stderr,
		        "tix serve: %s: the metrics key on its first line has %zu bytes; "
		        "it needs 16 or more\n",
		        path, n);
		sodium_memzero(line, sizeof(line));
		return -1;
	}
	crypto_generichash(digest, 32, (const unsigned char *)line, n, NULL, 0);
	sodium_memzero(line, sizeof(line));
	return 0;
}

static void on_listening(void *arg, const char *url)
{
	struct serve_sync *ss = arg;

	fprintf(stderr, "tix serve: TAXII 2.1 at %s/taxii2/ (API root %s/api1/)\n", url, url);
	if (ss && pthread_create(&ss->thread, NULL, sync_thread, ss) == 0) {
		ss->started = 1;
		fprintf(stderr,
		        "tix serve: syncing with peers (tix peer list) on their intervals\n");
	} else if (ss) {
		fprintf(stderr, "tix serve: could not start the sync thread\n");
	}
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"db", required_argument, NULL, 'd'},
	        {"config", required_argument, NULL, 'c'},
	        {"tls-cert", required_argument, NULL, 'C'},
	        {"tls-key", required_argument, NULL, 'K'},
	        {"threads", required_argument, NULL, 't'},
	        {"max-body", required_argument, NULL, 'b'},
	        {"max-connections", required_argument, NULL, 'm'},
	        {"idle-timeout", required_argument, NULL, 'i'},
	        {"access-log", required_argument, NULL, 'a'},
	        {"insecure-http", no_argument, NULL, 'I'},
	        {"cache", required_argument, NULL, 'H'},
	        {"default-tlp", required_argument, NULL, 'T'},
	        {"anonymous-read", no_argument, NULL, 'A'},
	        {"insecure-no-policy", no_argument, NULL, 'P'},
	        {"sync", no_argument, NULL, 'S'},
	        {"check", no_argument, NULL, 'k'},
	        {"no-metrics", no_argument, NULL, 'N'},
	        {"log-format", required_argument, NULL, 'L'},
	        {"metrics-key-file", required_argument, NULL, 'F'},
	        {"examine-max", required_argument, NULL, 'E'},
	        {"body-budget", required_argument, NULL, 'B'},
	        {"body-share", required_argument, NULL, 'U'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	/* Options from the command line are applied after the config file. */
	const char *keys[64], *values[64];
	const char *config = NULL;
	struct serve_opts o;
	struct taxii_config cfg = {0};
	struct http_options hopts;
	struct serve_sync ss;
	enum tix_err e;
	struct auth *auth = NULL;
	struct store *s;
	struct tix_error err;
	FILE *log = stderr;
	int ch, n = 0, rc = EXIT_SYSTEM, check = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&o, 0, sizeof(o));
	o.default_tlp = o.anonymous_read = -1;
	/* The defaults, from the one table of settings (tix.conf(5)). */
	for (const struct conf_setting *cs = conf_settings; cs->key; cs++)
		if (strcmp(cs->section, "serve") == 0 && cs->def[0])
			set_option(&o, cs->key, cs->def, "default");
	/* Twice the cores, at least 4: a thread busy storing a large POST
	 * leaves others to answer reads (SQLite WAL lets them read meanwhile). */
	o.threads = cores > 1 && cores < 32 ? 2 * (unsigned)cores : 4;
	if (o.threads < 4)
		o.threads = 4;
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		const char *key = NULL;

		for (int i = 0; longopts[i].name; i++)
			if (longopts[i].val == ch)
				key = longopts[i].name;
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (ch == '?' || key == NULL) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (ch == 'c') {
			config = optarg;
			continue;
		}
		if (ch == 'k') {
			check = 1;
			continue;
		}
		if (n == 64)
			return EXIT_USAGE;
		if (ch == 'N') {
			keys[n] = "metrics";
			values[n++] = "false";
			continue;
		}
		keys[n] = key;
		values[n++] = ch == 'I' || ch == 'A' || ch == 'P' || ch == 'S' ? "true" : optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "tix serve: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	/* The configuration file, then the command line. */
	if (cli_config_use(config) != 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < cli_config()->n; i++) {
		const struct conf_entry *ce = &cli_config()->entries[i];
		char where[1100];

		if (strcmp(ce->section, "serve") != 0 && strcmp(ce->section, "policy") != 0)
			continue;
		snprintf(where, sizeof(where), "%s:%d", cli_config()->path, ce->line);
		if (set_option(&o, ce->setting->key, ce->value, where) != 0)
			return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)

		if (set_option(&o, keys[i], values[i], "command line") != 0)
			return EXIT_USAGE;
	if (o.page_size > o.page_max)
		o.page_size = o.page_max;
	if (o.db[0] == '\0')
		snprintf(o.db, sizeof(o.db), "%s", cli_db_path(NULL));
	if (check) {
		/* Would `tix serve` start? The address is bound and let go, the
		 * TLS files are read; the store is not touched. */
		tix_error_clear(&err);
		if ((e = http_check_listen(o.listen, 1, &err)) != TIX_OK) {
			cli_print_error("serve", &err);
			return e == TIX_EUSAGE ? EXIT_USAGE : EXIT_SYSTEM;
		}
		for (int i = 0; i < 2; i++) {
			const char *f = i ? o.tls_key : o.tls_cert;

			if (f[0] && access(f, R_OK) != 0) {
				fprintf(stderr, "tix serve: %s: cannot read: %s\n", f,
				        strerror(errno));
				return EXIT_SYSTEM;
			}
		}
		if (!o.tls_cert[0] != !o.tls_key[0]) {
			fprintf(stderr, "tix serve: --tls-cert and --tls-key go together\n");
			return EXIT_USAGE;
		}
		printf("tix serve: %s is free; the settings are valid\n", o.listen);
		return 0;
	}
	/* A clear reason when the address cannot be used, before anything
	 * is opened. */
	tix_error_clear(&err);
	if ((e = http_check_listen(o.listen, 1, &err)) != TIX_OK) {
		cli_print_error("serve", &err);
		return e == TIX_EUSAGE ? EXIT_USAGE : EXIT_SYSTEM;
	}
	if (strcmp(o.access_log, "off") == 0)
		log = NULL;
	else if (strcmp(o.access_log, "-") != 0 && (log = fopen(o.access_log, "a")) == NULL) {
		fprintf(stderr, "tix serve: %s: %s\n", o.access_log, strerror(errno));
		return EXIT_SYSTEM;
	}
	if (log)
		setvbuf(log, NULL, _IOLBF, 0);

	/* Open the store once here: it is created and migrated before any
	 * worker thread touches it, and the node secret is read. */
	tix_error_clear(&err);
	if ((s = cli_open_store(o.db)) == NULL)
		goto out;
	if (store_node_secret(s, cfg.secret, &err) != TIX_OK ||
	    (auth = auth_new(s, NULL, &err)) == NULL) {
		cli_print_error("serve", &err);
		store_close(s);
		goto out;
	}
	if (cli_policy_node(s, &cfg.policy) != 0) {
		store_close(s);
		goto out;
	}
	/* The peers' settings of the configuration, over the stored peers. */
	if (o.sync && cli_config_apply_peers(s) != 0) {
		store_close(s);
		goto out;
	}
	store_close(s);
	/* The node settings apply live unless the command line fixed them. */
	cfg.policy_live = TAXII_LIVE_DEFAULT_TLP | TAXII_LIVE_ANONYMOUS_READ;
	if (o.default_tlp >= 0) {
		cfg.policy.default_tlp = o.default_tlp;
		cfg.policy_live &= ~(unsigned)TAXII_LIVE_DEFAULT_TLP;
	}
	if (o.anonymous_read >= 0) {
		cfg.policy.anonymous_read = o.anonymous_read;
		cfg.policy_live &= ~(unsigned)TAXII_LIVE_ANONYMOUS_READ;
	}
	if (o.no_policy) {
		if (strncmp(o.listen, "127.", 4) != 0 && strncmp(o.listen, "[::1]", 5) != 0 &&
		    strncmp(o.listen, "localhost:", 10) != 0) {
			fprintf(stderr, "tix serve: --insecure-no-policy is for benchmarks on a "
			                "loopback address only\n");
			rc = EXIT_USAGE;
			goto out;
		}
		fprintf(stderr, "tix serve: WARNING: --insecure-no-policy: TLP and sharing groups "
		                "are NOT enforced (benchmark mode)\n");
		cfg.policy_off = 1;
	}
	if ((cfg.audit = store_audit_queue_open(o.db, &err)) == NULL) {
		cli_print_error("serve", &err);
		goto out;
	}
	cfg.title = o.title;
	cfg.description = o.description;
	cfg.contact = o.contact;
	cfg.api_root = "api1";
	cfg.max_content_length = o.max_body;
	cfg.page_default = o.page_size;
	cfg.page_max = o.page_max;
	cfg.examine_max = o.examine_max;
	cfg.check_pattern = pattern_check;

	memset(&hopts, 0, sizeof(hopts));
	hopts.listen = o.listen;
	hopts.db_path = o.db;
	hopts.tls_cert = o.tls_cert[0] ? o.tls_cert : NULL;
	hopts.tls_key = o.tls_key[0] ? o.tls_key : NULL;
	hopts.threads = o.threads;
	hopts.max_connections = o.max_connections;
	hopts.idle_timeout_s = o.idle_timeout;
	hopts.max_header_bytes = 64 * 1024;
	hopts.access_log = log;
	hopts.insecure = o.insecure;
	hopts.cache_bytes = o.cache_bytes;
	hopts.body_budget = o.body_budget;
	hopts.body_share = o.body_share;
	hopts.on_listening = on_listening;
	hopts.metrics = o.metrics;
	hopts.log_json = o.log_json;
	tix_log_set_json(o.log_json);
	if (o.metrics && o.metrics_key_file[0] &&
	    read_metrics_key(o.metrics_key_file, hopts.metrics_key_digest) != 0)
		goto out;
	hopts.metrics_key_set = o.metrics && o.metrics_key_file[0];
	memset(&ss, 0, sizeof(ss));
	if (o.sync) {
		sync_global_init();
		ss.db = o.db;
		sync_config_init(&ss.cfg);
		ss.cfg.check_pattern = pattern_check;
		ss.cfg.policy = cfg.policy;
		ss.cfg.policy_fixed = (cfg.policy_live & TAXII_LIVE_DEFAULT_TLP) == 0;
		ss.cfg.stop = &ss.stop;
		hopts.arg = &ss;
	}
	/* SIGHUP would end the process: this version does not reload its
	 * settings (restart it), so a stray `kill -HUP` leaves it serving. */
	signal(SIGHUP, SIG_IGN);
	e = http_serve(&hopts, &cfg, auth, &err);
	if (ss.started) {
		/* SIGTERM: the thread stops between requests (a page in
		 * progress is either committed or not at all). */
		ss.stop = 1;
		pthread_join(ss.thread, NULL);
	}
	if (e != TIX_OK) {
		cli_print_error("serve", &err);
		rc = err.code == TIX_EUSAGE ? EXIT_USAGE : EXIT_SYSTEM;
		goto out;
	}
	fprintf(stderr, "tix serve: stopped\n");
	rc = 0;
out:
	store_audit_queue_close(cfg.audit);
	auth_free(auth);
	sodium_memzero(cfg.secret, sizeof(cfg.secret));
	if (log && log != stderr)
		fclose(log);
	return rc;
}
