/*
 * cli/cmd_config.c — tix.conf for the command line: which file is read
 * (--config, $TIX_CONFIG, /etc/tix/tix.conf), the store it names for every
 * command, its [peer NAME] settings laid over the stored peers, and `tix
 * config check`, which validates a file and prints the effective settings.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "values/values.h"

static struct conf loaded;
static int load_state; /* 0: not yet, 1: loaded (maybe empty), -1: invalid */

static void print_problem(void *arg, const char *where, const char *reason)
{
	(void)arg;
	fprintf(stderr, "tix: %s: %s\n", where, reason);
}

const char *cli_config_path(const char *opt, int *chosen)
{
	const char *env = getenv("TIX_CONFIG");

	*chosen = 1;
	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	*chosen = 0;
	return CONF_DEFAULT_PATH;
}

int cli_config_use(const char *opt)
{
	struct tix_error err;
	int chosen;
	const char *path = cli_config_path(opt, &chosen);

	if (load_state != 0)
		conf_release(&loaded);
	load_state = 1;
	memset(&loaded, 0, sizeof(loaded));
	/* The default file is optional; one that was asked for is not. */
	if (!chosen && access(path, F_OK) != 0)
		return 0;
	tix_error_clear(&err);
	if (conf_load(path, &loaded, print_problem, NULL, &err) != TIX_OK) {
		if (err.code == TIX_EIO || err.code == TIX_ENOMEM)
			cli_print_error(NULL, &err);
		else
			fprintf(stderr, "tix: %s: refused; nothing of it is used\n", path);
		load_state = -1;
		return -1;
	}
	return 0;
}

const struct conf *cli_config(void)
{
	if (load_state == 0 && cli_config_use(NULL) != 0)
		return NULL;
	return load_state > 0 ? &loaded : NULL;
}

const char *cli_db_path(const char *opt)
{
	const char *env = getenv("TIX_DB");
	const struct conf *c;
	const struct conf_entry *e;

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	if ((c = cli_config()) == NULL) {
		/* Never fall back to another store than the one configured. */
		fprintf(stderr, "tix: fix the configuration, or name the store with --db\n");
		exit(EXIT_USAGE);
	}
	e = conf_find(c, "store", "", "path");
	return e ? e->value : conf_setting_find("store", "path")->def;
}

int cli_config_apply_peers(struct store *s)
{
	const struct conf *c = cli_config();
	char done[4096] = "";
	int rc = 0;

	if (c == NULL)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->entries[i].name;
		struct store_peer p;
		struct tix_error err;
		const struct conf_entry *e;
		char mark[80];

		if (strcmp(c->entries[i].section, "peer") != 0)
			continue;
		snprintf(mark, sizeof(mark), "\n%s\n", name);
		if (strstr(done, mark))
			continue;
		if (strlen(done) + strlen(mark) < sizeof(done))
			snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s", mark);
		tix_error_clear(&err);
		if (store_peer_get(s, name, &p, &err) != TIX_OK) {
			fprintf(stderr,
			        "tix: %s:%d: [peer %s] is not in the store: add it (and its key) with "
			        "`tix peer add %s ... --key-stdin`; its settings here are not used\n",
			        c->path, c->entries[i].line, name, name);
			continue;
		}
#define SET_STR(field, key)                                                                        \
	if ((e = conf_find(c, "peer", name, key)) != NULL)                                         \
	snprintf(p.field, sizeof(p.field), "%s", e->value)
		SET_STR(url, "url");
		SET_STR(remote_collection, "remote-collection");
		SET_STR(local_collection, "local-collection");
		SET_STR(org, "org");
		SET_STR(ca_file, "ca-file");
#undef SET_STR
		if ((e = conf_find(c, "peer", name, "direction")) != NULL)
			p.direction = strcmp(e->value, "pull") == 0 ? STORE_PEER_PULL
			              : strcmp(e->value, "push") == 0
			                      ? STORE_PEER_PUSH
			                      : STORE_PEER_PULL | STORE_PEER_PUSH;
		if (strcmp(p.kind, "misp-feed") == 0 && p.direction != STORE_PEER_PULL) {
			fprintf(stderr,
			        "tix: %s:%d: [peer %s] is a MISP feed: pull-only, direction %s is "
			        "not used\n",
			        c->path, c->entries[i].line, name, e ? e->value : "");
			p.direction = STORE_PEER_PULL;
		}
		if ((e = conf_find(c, "peer", name, "interval")) != NULL) {
			unsigned long u = 0;

			conf_parse_uint(e->value, 1, 604800, &u);
			p.interval = (int64_t)u;
		}
		if ((e = conf_find(c, "peer", name, "limit-rate")) != NULL) {
			size_t z = 0;

			conf_parse_size(e->value, &z);
			p.limit_rate = (int64_t)z;
		}
		if (store_peer_update(s, &p, &err) != TIX_OK) {
			cli_print_error(NULL, &err);
			rc = -1;
		}
		sodium_memzero(p.secret, sizeof(p.secret));
	}
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tix config check [--config FILE]\n\n"
	           "Reads the configuration (FILE, else $TIX_CONFIG, else /etc/tix/tix.conf),\n"
	           "checks every line (unknown sections and keys, values of the wrong type or\n"
	           "out of range, keys set twice, settings that conflict) and prints each\n"
	           "problem as FILE:LINE: reason, exit 1; or prints the effective settings,\n"
	           "each with where it comes from, exit 0. See tix.conf(5).\n");
}

static void print_setting(const struct conf_setting *s, const struct conf_entry *e,
                          const char *path)
{
	char line[1200], origin[1100];
	const char *v = e ? e->value : s->def;

	if (e)
		snprintf(origin, sizeof(origin), "%s:%d", path, e->line);
	else if (s->def[0])
		snprintf(origin, sizeof(origin), "default");
	else if (strcmp(s->section, "peer") == 0)
		snprintf(origin, sizeof(origin), "not set: the stored peer's value");
	else
		snprintf(origin, sizeof(origin), "not set: %s", s->help);
	/* Quoted when spaces at either end would be lost. */
	if (v[0] == ' ' || (v[0] && v[strlen(v) - 1] == ' '))
		snprintf(line, sizeof(line), "%s = \"%s\"", s->key, v);
	else
		snprintf(line, sizeof(line), "%s = %s", s->key, v);
	if (!e && !s->def[0])
		snprintf(line, sizeof(line), "# %s =", s->key);
	printf("%-44s # %s\n", line, origin);
}

int cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *opt = NULL, *path;
	const struct conf *c;
	int ch, chosen, warned = 0;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': opt = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || strcmp(argv[optind], "check") != 0) {
		fprintf(stderr, "tix config: the command is `tix config check`\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	path = cli_config_path(opt, &chosen);
	if (cli_config_use(opt) != 0)
		return access(path, R_OK) == 0 ? EXIT_INVALID : EXIT_SYSTEM;
	c = cli_config();
	if (c->path[0] == '\0')
		printf("# %s does not exist: the defaults apply\n", path);
	else
		printf("# %s is valid; the effective settings (command-line options win)\n", path);
	for (const char *const *sec = (const char *const[]){"store", "serve", "policy", NULL}; *sec;
	     sec++) {
		printf("\n[%s]\n", *sec);
		for (const struct conf_setting *s = conf_settings; s->key; s++)
			if (strcmp(s->section, *sec) == 0)
				print_setting(s, conf_find(c, *sec, "", s->key), c->path);
	}
	for (size_t i = 0; i < c->n; i++) {
		int first = 1;

		if (strcmp(c->entries[i].section, "peer") != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			first &= !(strcmp(c->entries[j].section, "peer") == 0 &&
			           strcmp(c->entries[j].name, c->entries[i].name) == 0);
		if (!first)
			continue;
		printf("\n[peer %s]   # credentials: `tix peer add %s ... --key-stdin`\n",
		       c->entries[i].name, c->entries[i].name);
		for (const struct conf_setting *s = conf_settings; s->key; s++) {
			const struct conf_entry *e;

			if (strcmp(s->section, "peer") != 0)
				continue;
			e = conf_find(c, "peer", c->entries[i].name, s->key);
			print_setting(s, e, c->path);
		}
	}
	/* Files the server will need: a warning, as the check may run as
	 * another user than the server. */
	for (int k = 0; k < 2; k++) {
		const struct conf_entry *e = conf_find(c, "serve", "", k ? "tls-key" : "tls-cert");

		if (e && access(e->value, R_OK) != 0) {
			fprintf(stderr, "tix config: warning: %s:%d: %s: cannot read it: %s\n",
			        c->path, e->line, e->value, strerror(errno));
			warned = 1;
		}
	}
	(void)warned;
	return 0;
}

int cli_decay_model(struct values_decay_model *m)
{
	static const char *const kinds[VALUES_KINDS] = {
	        [0] = "other",
	        [VALUES_DOMAIN] = "domain",
	        [VALUES_EMAIL] = "email",
	        [VALUES_URL] = "url",
	        [VALUES_HASH] = "hash",
	        [VALUES_IP] = "ip",
	        [VALUES_DOMAIN_SUFFIX] = "domain",
	};
	const struct conf *c = cli_config();
	const struct conf_entry *e;
	char key[64];

	values_decay_defaults(m);
	if (c == NULL)
		return 0;
	if ((e = conf_find(c, "decay", "", "floor")) != NULL)
		m->floor = strtod(e->value, NULL);
	if ((e = conf_find(c, "decay", "", "default-confidence")) != NULL)
		m->default_confidence = (int)strtol(e->value, NULL, 10);
	for (int k = 0; k < VALUES_KINDS; k++) {
		snprintf(key, sizeof(key), "%s-lifetime", kinds[k]);
		if ((e = conf_find(c, "decay", "", key)) != NULL)
			m->rule[k].lifetime_days = strtod(e->value, NULL);
		snprintf(key, sizeof(key), "%s-speed", kinds[k]);
		if ((e = conf_find(c, "decay", "", key)) != NULL) {
			char *end;
			double v = strtod(e->value, &end);

			if (end == e->value || *end != '\0' || !(v >= 0.1 && v <= 10)) {
				fprintf(stderr, "tix: %s:%d: [decay] %s: a number from 0.1 to 10\n",
				        c->path, e->line, key);
				return -1;
			}
			m->rule[k].speed = v;
		}
	}
	return 0;
}
