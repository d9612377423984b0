/*
 * cli/cmd_serve.c — `tix serve`: reads the options (and an optional config
 * file), opens the store once to migrate it and read the node secret, then
 * runs the TAXII 2.1 server until SIGTERM; on SIGHUP re-reads the config
 * file for the server to apply (the settings that can change live).
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
#include "drill/drill.h"
#include "http/http.h"
#include "match/match.h"
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
	        "                 [--insecure-no-policy] [--correlate-cap N] [--warninglists P]\n"
	        "                 [--page-bytes N] [--check]\n\n"
	        "Serves the store over TAXII 2.1 at /taxii2/ (discovery) and /api1/ (the API\n"
	        "root) until SIGTERM or SIGINT, which finish the requests in progress first.\n"
	        "SIGHUP re-reads the config file and the TLS certificate and key, keeping\n"
	        "connections (what applies live: tix-serve(8)).\n\n"
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
	        "  --page-bytes N       bytes of one TAXII page at most (K, M; default 0: no\n"
	        "                       bound): a page ends before the object that would pass\n"
	        "                       it, with more and next (a single larger object goes\n"
	        "                       alone); clients may ask less with page_bytes=N; with\n"
	        "                       --sync, also asked of the peers\n"
	        "  --correlate-cap N    objects /api/v1/correlate lists per value (default 100);\n"
	        "                       a value in more is answered with a count and a flag\n"
	        "  --warninglists P     MISP warninglists: correlation marks their values\n"
	        "  --body-budget N      POST bodies buffered at once, node-wide (default 256M);\n"
	        "                       past it (or a principal's share) 503 with Retry-After\n"
	        "  --body-share N       of which one principal may hold (default a quarter)\n"
	        "  --principal-requests N  requests of one principal (an account, or a source\n"
	        "                       prefix without one) that run at once; more only while\n"
	        "                       cores are idle and none waits; the others wait their\n"
	        "                       turn (default: half the cores, at least 1)\n"
	        "  --cache N            per worker thread, memory for recent GET answers,\n"
	        "                       reused until anything is written (default 32M; 0: off)\n"
	        "  --access-log DEST    one line per request: a file, '-' for stderr (the\n"
	        "                       default) or 'off'\n"
	        "  --default-tlp LEVEL  TLP of objects without a TLP marking: clear, green,\n"
	        "                       amber, amber+strict or red (default: the node setting,\n"
	        "                       `tix admin node set --default-tlp L`, else amber)\n"
	        "  --anonymous-read     callers without credentials may read TLP:CLEAR objects\n"
	        "                       (default: the node setting, `tix admin node set\n"
	        "                       --anonymous-read on|off`, else off)\n");
	fputs("  --sync               also run the peers (`tix peer`) on their intervals, as\n"
	      "                       `tix sync` does, stopping with the server\n"
	      "  --log-format F       text (the default) or json: the access log and messages\n"
	      "                       as one JSON object per line, each request with its id\n"
	      "                       (also the X-Request-Id header and TAXII errors' error_id)\n"
	      "  --no-metrics         do not answer GET /metrics (Prometheus text format;\n"
	      "                       by default answered to loopback callers only)\n"
	      "  --match-stats DIR    GET /metrics also shows the counters `tix match\n"
	      "                       --stats-file DIR/NAME.prom` writes (tix_match_*)\n"
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
	      "                       `tix config check` validates it; see tix.conf(5)\n",
	      f);
}

struct serve_opts {
	char listen[256], db[4096], tls_cert[4096], tls_key[4096], access_log[4096];
	char title[256], description[512], contact[256], metrics_key_file[4096];
	char match_stats[4096];
	unsigned threads, max_connections, idle_timeout, principal_requests;
	size_t max_body, page_size, page_max, page_bytes, cache_bytes, examine_max, body_budget,
	        body_share;
	size_t correlate_cap;
	char warninglists[1024];
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
	int enabled; /* --sync */
	/* The drills' clock (docs/drill.md): due injects of running
	 * exercises published every second. */
	pthread_t drill_thread;
	int drill_started;
};

static void *drill_thread(void *arg)
{
	struct serve_sync *ss = arg;
	struct drill_ctx c = {NULL, 0, "tix serve", NULL};
	struct drill_clock clock = {{NULL, 0, 0}, {NULL, 0, 0}};
	struct tix_error err;
	size_t n;

	if ((c.s = cli_open_store(ss->db)) == NULL)
		return NULL;
	while (!ss->stop) {
		if (cli_clock_now("serve", &c.now_us) != 0)
			break;
		tix_error_clear(&err);
		if (drill_tick_all(&c, &clock, &n, &err) != TIX_OK)
			tix_log_error("drill: %s: %s", err.where, err.msg);
		else if (n > 0)
			fprintf(stderr, "tix serve: drill: published %zu inject%s\n", n,
			        n == 1 ? "" : "s");
		for (int i = 0; i < 10 && !ss->stop; i++)
			usleep(100000);
	}
	drill_clock_release(&clock);
	store_close(c.s);
	return NULL;
}

static void *sync_thread(void *arg)
{
	struct serve_sync *ss = arg;

	cli_sync_loop(ss->db, &ss->cfg, NULL);
	return NULL;
}

static const char *serve_warned(void *arg, const char *stix_type, const char *value, size_t len)
{
	return match_warninglists_hit(arg, stix_type, value, len);
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
	else if (strcmp(key, "match-stats") == 0)
		STR(match_stats);
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
	else if (strcmp(key, "principal-requests") == 0)
		o->principal_requests = (unsigned)u;
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
	else if (strcmp(key, "page-bytes") == 0)
		o->page_bytes = z;
	else if (strcmp(key, "correlate-cap") == 0)
		o->correlate_cap = u;
	else if (strcmp(key, "warninglists") == 0)
		STR(warninglists);
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

/* Everything `tix serve` started from, for composing the settings again
 * on SIGHUP: the config file is re-read, the command line still wins. */
struct serve_gen {
	struct serve_opts o;
	struct serve_gen *older;
};
struct serve_reload {
	const char *config_path;
	int config_chosen; /* named by --config or $TIX_CONFIG: it must exist */
	const char **keys, **values;
	int n;
	struct serve_opts cur;          /* the settings composed last */
	struct policy_node node_policy; /* the node settings read at the start */
	struct serve_gen *gens;         /* each reload's settings, freed at the end */
};

/* The settings: the table's defaults, then the config file's [serve] and
 * [policy] (c may be NULL), then the command line; 0, or -1 with a
 * message. */
static int compose_opts(struct serve_opts *o, const struct conf *c, const char **keys,
                        const char **values, int n)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->default_tlp = o->anonymous_read = -1;
	/* The defaults, from the one table of settings (tix.conf(5)). */
	for (const struct conf_setting *cs = conf_settings; cs->key; cs++)
		if (strcmp(cs->section, "serve") == 0 && cs->def[0])
			set_option(o, cs->key, cs->def, "default");
	/* Twice the cores, at least 4: a thread busy storing a large POST
	 * leaves others to answer reads (SQLite WAL lets them read meanwhile). */
	o->threads = cores > 1 && cores < 32 ? 2 * (unsigned)cores : 4;
	if (o->threads < 4)
		o->threads = 4;
	/* Half the cores, at least 1: one principal's requests leave the other
	 * half of the machine to everyone else. */
	o->principal_requests = cores > 3 ? (unsigned)(cores / 2) : 1;
	for (size_t i = 0; c && i < c->n; i++) {
		const struct conf_entry *ce = &c->entries[i];
		char where[1100];

		if (strcmp(ce->section, "serve") != 0 && strcmp(ce->section, "policy") != 0)
			continue;
		snprintf(where, sizeof(where), "%s:%d", c->path, ce->line);
		if (set_option(o, ce->setting->key, ce->value, where) != 0)
			return -1;
	}
	for (int i = 0; i < n; i++)
		if (set_option(o, keys[i], values[i], "command line") != 0)
			return -1;
	if (o->page_size > o->page_max)
		o->page_size = o->page_max;
	return 0;
}

/* The store a reloaded configuration names, as cli_db_path finds it. */
static void reload_db_path(struct serve_opts *o, const struct conf *c)
{
	const char *env = getenv("TIX_DB");
	const struct conf_entry *e = conf_find(c, "store", "", "path");

	if (o->db[0])
		return;
	snprintf(o->db, sizeof(o->db), "%s",
	         env && *env ? env
	         : e         ? e->value
	                     : conf_setting_find("store", "path")->def);
}

static void reload_problem(void *arg, const char *where, const char *reason)
{
	(void)arg;
	tix_log_error("reload: %s: %s", where, reason);
}

/* The policy settings as at the start: given ones are fixed, the others
 * follow the node settings in the store. */
static void apply_policy(const struct serve_opts *o, const struct policy_node *node,
                         struct taxii_config *cfg)
{
	cfg->policy = *node;
	cfg->policy_live = TAXII_LIVE_DEFAULT_TLP | TAXII_LIVE_ANONYMOUS_READ;
	if (o->default_tlp >= 0) {
		cfg->policy.default_tlp = o->default_tlp;
		cfg->policy_live &= ~(unsigned)TAXII_LIVE_DEFAULT_TLP;
	}
	if (o->anonymous_read >= 0) {
		cfg->policy.anonymous_read = o->anonymous_read;
		cfg->policy_live &= ~(unsigned)TAXII_LIVE_ANONYMOUS_READ;
	}
}

/* The settings of a reload that apply live, into h and cfg (the ones in
 * force); those that need a restart are reported and keep their value. */
static void reload_settings(const struct serve_reload *r, struct serve_opts *o,
                            struct http_options *h, struct taxii_config *cfg)
{
	const struct serve_opts *cur = &r->cur;

#define KEEP_STR(field, key)                                                                       \
	if (strcmp(o->field, cur->field) != 0) {                                                   \
		tix_log_warn("reload: needs a restart: %s (keeping '%s')", key, cur->field);       \
		snprintf(o->field, sizeof(o->field), "%s", cur->field);                            \
	}
#define KEEP(field, key)                                                                           \
	if (o->field != cur->field) {                                                              \
		tix_log_warn("reload: needs a restart: %s (keeping the running value)", key);      \
		o->field = cur->field;                                                             \
	}
	KEEP_STR(listen, "listen");
	KEEP_STR(db, "db");
	KEEP(threads, "threads");
	KEEP(max_connections, "max-connections");
	KEEP(idle_timeout, "idle-timeout");
	KEEP(insecure, "insecure-http");
	KEEP(no_policy, "insecure-no-policy");
	KEEP(sync, "sync");
	KEEP(log_json, "log-format");
#undef KEEP
#undef KEEP_STR
	/* HTTP to HTTPS and back, stderr/off to a file and back: a restart. */
	if (!o->tls_cert[0] != !cur->tls_cert[0] || !o->tls_key[0] != !cur->tls_key[0]) {
		tix_log_warn("reload: needs a restart: %s (keeping the running value)",
		             cur->tls_cert[0] ? "tls-cert" : "tls-cert/tls-key");
		memcpy(o->tls_cert, cur->tls_cert, sizeof(o->tls_cert));
		memcpy(o->tls_key, cur->tls_key, sizeof(o->tls_key));
	}
	{
		int was_file =
		        strcmp(cur->access_log, "-") != 0 && strcmp(cur->access_log, "off") != 0;
		int is_file = strcmp(o->access_log, "-") != 0 && strcmp(o->access_log, "off") != 0;

		if (was_file != is_file ||
		    (!is_file && strcmp(o->access_log, cur->access_log) != 0)) {
			tix_log_warn("reload: needs a restart: access-log (keeping '%s')",
			             cur->access_log);
			memcpy(o->access_log, cur->access_log, sizeof(o->access_log));
		}
		h->access_log_path = was_file ? o->access_log : NULL;
	}
	h->tls_cert = o->tls_cert[0] ? o->tls_cert : NULL;
	h->tls_key = o->tls_key[0] ? o->tls_key : NULL;
	h->cache_bytes = o->cache_bytes;
	h->body_budget = o->body_budget;
	h->body_share = o->body_share;
	h->principal_requests = o->principal_requests;
	h->metrics = o->metrics;
	h->match_stats_dir = o->match_stats[0] ? o->match_stats : NULL;
	cfg->title = o->title;
	cfg->description = o->description;
	cfg->contact = o->contact;
	cfg->max_content_length = o->max_body;
	cfg->page_default = o->page_size;
	cfg->page_max = o->page_max;
	cfg->examine_max = o->examine_max;
	cfg->page_bytes = o->page_bytes;
	apply_policy(o, &r->node_policy, cfg);
}

/* SIGHUP (http_options.on_reload): the config file read again, the
 * settings composed as at the start; a file that is refused (FILE:LINE:
 * reason in the log) changes nothing. */
static int serve_reload(void *arg, struct http_options *h, struct taxii_config *cfg)
{
	struct serve_reload *r = arg;
	struct serve_gen *g;
	struct conf conf;
	struct tix_error err;
	int have = 0;

	memset(&conf, 0, sizeof(conf));
	if (r->config_path && (r->config_chosen || access(r->config_path, F_OK) == 0)) {
		tix_error_clear(&err);
		if (conf_load(r->config_path, &conf, reload_problem, NULL, &err) != TIX_OK) {
			if (err.code == TIX_EIO || err.code == TIX_ENOMEM)
				tix_log_error("reload: %s: %s", err.where, err.msg);
			tix_log_error("reload: %s: refused; nothing of it is used", r->config_path);
			return -1;
		}
		have = 1;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		if (have)
			conf_release(&conf);
		return -1;
	}
	if (compose_opts(&g->o, have ? &conf : NULL, r->keys, r->values, r->n) != 0) {
		if (have)
			conf_release(&conf);
		free(g);
		return -1;
	}
	reload_db_path(&g->o, have ? &conf : NULL);
	if (have)
		conf_release(&conf);
	reload_settings(r, &g->o, h, cfg);
	h->metrics_key_set = 0;
	if (g->o.metrics && g->o.metrics_key_file[0]) {
		if (read_metrics_key(g->o.metrics_key_file, h->metrics_key_digest) != 0) {
			free(g);
			return -1;
		}
		h->metrics_key_set = 1;
	}
	g->older = r->gens;
	r->gens = g;
	r->cur = g->o;
	return 0;
}

static void on_listening(void *arg, const char *url)
{
	struct serve_sync *ss = arg;

	fprintf(stderr, "tix serve: TAXII 2.1 at %s/taxii2/ (API root %s/api1/)\n", url, url);
	if (pthread_create(&ss->drill_thread, NULL, drill_thread, ss) == 0)
		ss->drill_started = 1;
	else
		fprintf(stderr, "tix serve: could not start the drills' clock\n");
	if (ss->enabled && pthread_create(&ss->thread, NULL, sync_thread, ss) == 0) {
		ss->started = 1;
		fprintf(stderr,
		        "tix serve: syncing with peers (tix peer list) on their intervals\n");
	} else if (ss->enabled) {
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
	        {"match-stats", required_argument, NULL, 'X'},
	        {"examine-max", required_argument, NULL, 'E'},
	        {"page-bytes", required_argument, NULL, 'G'},
	        {"body-budget", required_argument, NULL, 'B'},
	        {"correlate-cap", required_argument, NULL, 'R'},
	        {"warninglists", required_argument, NULL, 'W'},
	        {"body-share", required_argument, NULL, 'U'},
	        {"principal-requests", required_argument, NULL, 'Q'},
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
	struct serve_reload rl;
	struct api_limits api_lim = {0};
	struct match_warninglists *wl = NULL;
	int ch, n = 0, rc = EXIT_SYSTEM, check = 0;

	memset(&o, 0, sizeof(o));
	memset(&rl, 0, sizeof(rl));
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
	if (compose_opts(&o, cli_config(), keys, values, n) != 0)
		return EXIT_USAGE;
	rl.config_path = cli_config_path(config, &rl.config_chosen);
	rl.keys = keys;
	rl.values = values;
	rl.n = n;
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

	/* SIGHUP is taken by the server's sigwait (a reload): blocked before
	 * any thread starts (the audit queue's, the workers'), so that none of
	 * them takes it and dies of it. */
	{
		sigset_t hup;

		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &hup, NULL);
	}
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
	/* The node settings apply live unless the configuration fixed them. */
	rl.node_policy = cfg.policy;
	apply_policy(&o, &rl.node_policy, &cfg);
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
	/* The audit writer's thread starts with SIGTERM and SIGINT blocked too:
	 * the server's sigwait takes them, and one delivered to that thread
	 * killed the server (exit -15 in test_taxii). The main thread takes
	 * them as before until it listens. */
	{
		sigset_t stop, was;

		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		pthread_sigmask(SIG_BLOCK, &stop, &was);
		cfg.audit = store_audit_queue_open(o.db, &err);
		pthread_sigmask(SIG_SETMASK, &was, NULL);
	}
	if (cfg.audit == NULL) {
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
	cfg.page_bytes = o.page_bytes;
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
	hopts.access_log_path = log && log != stderr ? o.access_log : NULL;
	hopts.insecure = o.insecure;
	hopts.cache_bytes = o.cache_bytes;
	hopts.body_budget = o.body_budget;
	hopts.body_share = o.body_share;
	hopts.principal_requests = o.principal_requests;
	hopts.on_listening = on_listening;
	hopts.metrics = o.metrics;
	hopts.match_stats_dir = o.match_stats[0] ? o.match_stats : NULL;
	hopts.log_json = o.log_json;
	tix_log_set_json(o.log_json);
	if (o.metrics && o.metrics_key_file[0] &&
	    read_metrics_key(o.metrics_key_file, hopts.metrics_key_digest) != 0)
		goto out;
	hopts.metrics_key_set = o.metrics && o.metrics_key_file[0];
	memset(&ss, 0, sizeof(ss));
	ss.db = o.db;
	hopts.arg = &ss;
	if (o.sync) {
		sync_global_init();
		ss.enabled = 1;
		sync_config_init(&ss.cfg);
		ss.cfg.check_pattern = pattern_check;
		ss.cfg.policy = cfg.policy;
		ss.cfg.policy_fixed = (cfg.policy_live & TAXII_LIVE_DEFAULT_TLP) == 0;
		ss.cfg.stop = &ss.stop;
		/* A node on a thin link bounds what it asks of its peers as it
		 * bounds its own answers. */
		ss.cfg.page_bytes = o.page_bytes;
	}
	/* SIGHUP: the configuration is read again (serve_reload). */
	rl.cur = o;
	hopts.on_reload = serve_reload;
	hopts.reload_arg = &rl;
	/* The JSON API (src/api): the correlation cap, the warninglists. */
	api_lim.correlate_cap = o.correlate_cap;
	if (o.warninglists[0]) {
		if ((wl = match_warninglists_new()) == NULL ||
		    match_warninglists_load(wl, o.warninglists, &err) != TIX_OK) {
			if (wl)
				cli_print_error("serve", &err);
			goto out;
		}
		api_lim.warned = serve_warned;
		api_lim.warned_arg = wl;
	}
	hopts.api_limits = &api_lim;
	e = http_serve(&hopts, &cfg, auth, &err);
	/* SIGTERM: the threads stop between requests (a page in progress, an
	 * exercise's tick, is either committed or not at all). */
	ss.stop = 1;
	if (ss.started)
		pthread_join(ss.thread, NULL);
	if (ss.drill_started)
		pthread_join(ss.drill_thread, NULL);
	if (e != TIX_OK) {
		cli_print_error("serve", &err);
		rc = err.code == TIX_EUSAGE ? EXIT_USAGE : EXIT_SYSTEM;
		goto out;
	}
	fprintf(stderr, "tix serve: stopped\n");
	rc = 0;
out:
	for (struct serve_gen *g = rl.gens, *older; g; g = older) {
		older = g->older;
		free(g);
	}
	store_audit_queue_close(cfg.audit);
	match_warninglists_free(wl);
	auth_free(auth);
	sodium_memzero(cfg.secret, sizeof(cfg.secret));
	if (log && log != stderr)
		fclose(log);
	return rc;
}
