/*
 * cli/cmd_constituent.c — `tix constituent add|list|remove|import`: the
 * organisations' networks, ASNs and domains that constituency routing sends
 * reports to, and whom to tell (docs/route.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/formats.h"
#include "route/route.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix constituent add NAME --org ORG --contact EMAIL... [--range CIDR...]\n"
	        "                           [--asn N...] [--domain D...] [--lang L] [--pgp-key FILE]\n"
	        "       tix constituent list [--json] [NAME]\n"
	        "       tix constituent remove NAME\n"
	        "       tix constituent import FILE.csv\n\n"
	        "A constituent is a part of an organisation that owns address ranges\n"
	        "(IPv4, IPv6), ASNs and domains; reports about them are routed to it and\n"
	        "mailed to its contacts (tix route). Each list option repeats or takes\n"
	        "several values. An organisation may own several constituents.\n"
	        "import reads a CSV with the header name,org,contacts,ranges,asns,domains,lang\n"
	        "(lists separated by spaces or ';') and adds or replaces each row's\n"
	        "constituent, all or nothing. Every command takes --db PATH.\n");
}

/* One constituent being built from options or a CSV row. */
struct def {
	char name[128], org[128], lang[16];
	char *pgp_key;
	char **contacts, **domains;
	size_t ncontacts, ndomains;
	struct store_route_range *ranges;
	int64_t *asns;
	size_t nranges, nasns;
	char group[160];
};

static void def_free(struct def *d)
{
	for (size_t i = 0; i < d->ncontacts; i++)
		free(d->contacts[i]);
	for (size_t i = 0; i < d->ndomains; i++)
		free(d->domains[i]);
	free(d->contacts);
	free(d->domains);
	free(d->ranges);
	free(d->asns);
	free(d->pgp_key);
	memset(d, 0, sizeof(*d));
}

static int grow(void **v, size_t n, size_t size)
{
	void *p = realloc(*v, (n + 1) * size);

	if (p == NULL)
		return -1;
	*v = p;
	return 0;
}

/* Adds one value of a list option; -1 with msg when it is not one. */
static int def_add(struct def *d, const char *opt, const char *v, char *msg, size_t msgsize)
{
	if (strcmp(opt, "contact") == 0) {
		char e[321];

		if (route_email_norm(v, e) < 0) {
			snprintf(msg, msgsize, "--contact '%.80s' is not an e-mail address", v);
			return -1;
		}
		if (grow((void **)&d->contacts, d->ncontacts, sizeof(char *)) != 0 ||
		    (d->contacts[d->ncontacts] = strdup(e)) == NULL)
			goto oom;
		d->ncontacts++;
	} else if (strcmp(opt, "range") == 0) {
		struct store_route_range r;

		if (route_range_parse(v, &r, msg, msgsize) != 0)
			return -1;
		if (grow((void **)&d->ranges, d->nranges, sizeof(r)) != 0)
			goto oom;
		d->ranges[d->nranges++] = r;
	} else if (strcmp(opt, "asn") == 0) {
		int64_t a;

		if (route_asn_parse(v, &a) != 0) {
			snprintf(msg, msgsize, "--asn '%.80s' is not an AS number (1-4294967294)",
			         v);
			return -1;
		}
		if (grow((void **)&d->asns, d->nasns, sizeof(a)) != 0)
			goto oom;
		d->asns[d->nasns++] = a;
	} else if (strcmp(opt, "domain") == 0) {
		char dom[254];
		int n = route_domain_norm(v, strlen(v), dom);

		if (n < 0) {
			snprintf(msg, msgsize, "--domain '%.80s' is not a domain name", v);
			return -1;
		}
		dom[n] = '\0';
		if (grow((void **)&d->domains, d->ndomains, sizeof(char *)) != 0 ||
		    (d->domains[d->ndomains] = strdup(dom)) == NULL)
			goto oom;
		d->ndomains++;
	}
	return 0;
oom:
	snprintf(msg, msgsize, "out of memory");
	return -1;
}

/* Checks the single values and fills the group; 0 or -1 with msg. */
static int def_check(struct def *d, char *msg, size_t msgsize)
{
	if (!route_name_ok(d->name)) {
		snprintf(msg, msgsize,
		         "'%.80s': a constituent name has 1-64 of A-Z a-z 0-9 . _ - (it names "
		         "files and mail subjects)",
		         d->name);
		return -1;
	}
	if (d->org[0] == '\0') {
		snprintf(msg, msgsize, "%s: --org ORG is required", d->name);
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)d->org; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ',') {
			snprintf(msg, msgsize,
			         "%s: an organisation name holds no control character or ','",
			         d->name);
			return -1;
		}
	if (d->lang[0]) {
		size_t n = strlen(d->lang);

		if (n < 2 || n > 3 || strspn(d->lang, "abcdefghijklmnopqrstuvwxyz") != n) {
			snprintf(msg, msgsize, "%s: --lang is a language code such as en, de, fr",
			         d->name);
			return -1;
		}
	}
	route_group_of(d->org, d->group, sizeof(d->group));
	return 0;
}

static struct store_constituent_def def_view(const struct def *d)
{
	struct store_constituent_def v = {0};

	v.name = d->name;
	v.org = d->org;
	v.lang = d->lang;
	v.pgp_key = d->pgp_key;
	v.group = d->group;
	v.contacts = (const char *const *)d->contacts;
	v.ncontacts = d->ncontacts;
	v.ranges = d->ranges;
	v.nranges = d->nranges;
	v.asns = d->asns;
	v.nasns = d->nasns;
	v.domains = (const char *const *)d->domains;
	v.ndomains = d->ndomains;
	return v;
}

/* Says what will not work yet: an organisation the node does not know (its
 * reports are mailed but nobody reads them over TAXII), no contact (its
 * reports are kept as unrouted). Each constituent by name up to a few,
 * then a count. */
struct warned {
	size_t no_org, no_contact;
};

static void warn_org(struct store *s, const struct def *d, struct warned *w)
{
	struct store_org o;
	struct tix_error err;

	if (store_org_get(s, d->org, &o, &err) != TIX_OK && w->no_org++ < 10)
		fprintf(stderr,
		        "tix constituent: %s: warning: '%s' is no organisation of this node: its "
		        "reports are mailed, but nobody can read them over TAXII until `tix admin "
		        "org add %s`\n",
		        d->name, d->org, d->org);
	if (d->ncontacts == 0 && w->no_contact++ < 10)
		fprintf(stderr,
		        "tix constituent: %s: warning: no contact: reports routed to it are kept as "
		        "unrouted (no-contact) until one is added\n",
		        d->name);
}

static void warned_total(const struct warned *w)
{
	if (w->no_org > 10)
		fprintf(stderr,
		        "tix constituent: warning: %zu constituents name organisations this "
		        "node does not have\n",
		        w->no_org);
	if (w->no_contact > 10)
		fprintf(stderr, "tix constituent: warning: %zu constituents have no contact\n",
		        w->no_contact);
}

static int constituent_add(int argc, char **argv, const char *db)
{
	static const char *const opts[] = {"org",    "contact", "range",  "asn",
	                                   "domain", "lang",    "pgp-key"};
	struct def d = {0};
	const char *cur = NULL, *pgp = NULL;
	char msg[300];
	struct store *s;
	struct store_constituent_def v;
	struct tix_error err;
	int rc = EXIT_USAGE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--", 2) == 0) {
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			size_t k;

			for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
				if (strlen(opts[k]) == n && memcmp(opts[k], a + 2, n) == 0)
					break;
			if (k == sizeof(opts) / sizeof(opts[0])) {
				char word[64];
				const char *near;

				snprintf(word, sizeof(word), "%.*s", (int)(n > 60 ? 60 : n), a + 2);
				near = tix_nearest(word, opts, sizeof(opts) / sizeof(opts[0]));
				fprintf(stderr, "tix constituent add: unknown option '%s'%s%s%s\n",
				        a, near ? " (did you mean --" : "", near ? near : "",
				        near ? "?)" : "");
				goto out;
			}
			cur = opts[k];
			if (eq == NULL) {
				if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
					fprintf(stderr, "tix constituent add: --%s needs a value\n",
					        cur);
					goto out;
				}
				a = argv[++i];
			} else {
				a = eq + 1;
			}
		} else if (cur == NULL) {
			if (d.name[0]) {
				fprintf(stderr, "tix constituent add: one NAME ('%s' and '%s')\n",
				        d.name, a);
				goto out;
			}
			snprintf(d.name, sizeof(d.name), "%s", a);
			continue;
		}
		/* a value of cur; list options take the words that follow too */
		if (strcmp(cur, "org") == 0 || strcmp(cur, "lang") == 0 ||
		    strcmp(cur, "pgp-key") == 0) {
			if (strcmp(cur, "org") == 0)
				snprintf(d.org, sizeof(d.org), "%s", a);
			else if (strcmp(cur, "lang") == 0)
				snprintf(d.lang, sizeof(d.lang), "%s", a);
			else
				pgp = a;
			cur = NULL;
			continue;
		}
		if (def_add(&d, cur, a, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "tix constituent add: %s\n", msg);
			rc = EXIT_INVALID;
			goto out;
		}
	}
	if (d.name[0] == '\0') {
		usage(stderr);
		goto out;
	}
	if (def_check(&d, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "tix constituent add: %s\n", msg);
		rc = EXIT_INVALID;
		goto out;
	}
	if (pgp) {
		size_t len;

		tix_error_clear(&err);
		if (cli_read_input(pgp, 1 << 16, &d.pgp_key, &len, &err) != TIX_OK) {
			cli_print_error("constituent add", &err);
			rc = EXIT_INVALID;
			goto out;
		}
		if (strstr(d.pgp_key, "-----BEGIN PGP PUBLIC KEY BLOCK-----") == NULL ||
		    strlen(d.pgp_key) != len) {
			fprintf(stderr,
			        "tix constituent add: %s: not an ASCII-armoured PGP public key\n",
			        pgp);
			rc = EXIT_INVALID;
			goto out;
		}
	}
	if ((s = cli_open_store(cli_db_path(db))) == NULL) {
		rc = EXIT_SYSTEM;
		goto out;
	}
	v = def_view(&d);
	tix_error_clear(&err);
	if (store_constituent_put(s, &v, 1, 0, &err) != TIX_OK) {
		cli_print_error("constituent add", &err);
		rc = cli_exit_code(err.code);
	} else {
		struct warned w = {0, 0};

		warn_org(s, &d, &w);
		printf("constituent %s added (organisation %s): %zu contacts, %zu ranges, %zu ASNs, "
		       "%zu domains\n",
		       d.name, d.org, d.ncontacts, d.nranges, d.nasns, d.ndomains);
		rc = 0;
	}
	store_close(s);
out:
	def_free(&d);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

struct lister {
	struct store *s;
	int json;
	json_t *all, *cur;
	int failed;
};

static void add_str(json_t *o, const char *key, json_t *v)
{
	json_array_append_new(json_object_get(o, key), v);
}

static void part_contact(void *arg, int64_t ckey, const char *e)
{
	(void)ckey;
	add_str(((struct lister *)arg)->cur, "contacts", json_string(e));
}

static void part_range(void *arg, int64_t ckey, const struct store_route_range *r)
{
	char t[64];
	struct store_route_range full = *r;

	(void)ckey;
	route_range_complete(&full);
	add_str(((struct lister *)arg)->cur, "ranges", json_string(route_range_format(&full, t)));
}

static void part_asn(void *arg, int64_t ckey, int64_t asn)
{
	(void)ckey;
	add_str(((struct lister *)arg)->cur, "asns", json_integer(asn));
}

static void part_domain(void *arg, int64_t ckey, const char *d)
{
	(void)ckey;
	add_str(((struct lister *)arg)->cur, "domains", json_string(d));
}

static void print_list(const char *label, const json_t *a)
{
	size_t i;
	json_t *v;

	printf("  %-9s", label);
	if (json_array_size(a) == 0)
		printf(" -");
	json_array_foreach (a, i, v) {
		if (json_is_integer(v))
			printf(" %lld", (long long)json_integer_value(v));
		else
			printf(" %s", json_string_value(v));
	}
	printf("\n");
}

static int list_one(void *arg, const struct store_constituent *c)
{
	struct lister *l = arg;
	struct store_constituent_parts_cb cb = {part_contact, part_range, part_asn, part_domain, l};
	struct tix_error err;

	l->cur = json_pack("{s:s,s:s,s:s,s:b,s:[],s:[],s:[],s:[]}", "name", c->name, "org", c->org,
	                   "lang", c->lang, "pgp_key", c->has_pgp_key, "contacts", "ranges", "asns",
	                   "domains");
	if (l->cur == NULL) {
		l->failed = 1;
		return 1;
	}
	tix_error_clear(&err);
	if (store_constituent_parts(l->s, c->key, &cb, &err) != TIX_OK) {
		cli_print_error("constituent list", &err);
		l->failed = 1;
		json_decref(l->cur);
		return 1;
	}
	if (l->json) {
		json_array_append_new(l->all, l->cur);
	} else {
		printf("%s (organisation %s, language %s%s)\n", c->name, c->org, c->lang,
		       c->has_pgp_key ? ", PGP key" : "");
		print_list("contacts", json_object_get(l->cur, "contacts"));
		print_list("ranges", json_object_get(l->cur, "ranges"));
		print_list("asns", json_object_get(l->cur, "asns"));
		print_list("domains", json_object_get(l->cur, "domains"));
		json_decref(l->cur);
	}
	return 0;
}

static int constituent_list_cmd(int argc, char **argv, const char *db, int json)
{
	struct lister l = {NULL, json, json_array(), NULL, 0};
	struct tix_error err;
	int rc = 0;

	if (argc > 2) {
		usage(stderr);
		json_decref(l.all);
		return EXIT_USAGE;
	}
	if ((l.s = cli_open_existing_store(cli_db_path(db))) == NULL) {
		json_decref(l.all);
		return EXIT_SYSTEM;
	}
	tix_error_clear(&err);
	if (store_constituent_list(l.s, argc == 2 ? argv[1] : NULL, list_one, &l, &err) != TIX_OK) {
		cli_print_error("constituent list", &err);
		rc = cli_exit_code(err.code);
	} else if (l.failed) {
		rc = EXIT_SYSTEM;
	} else if (json) {
		json_dumpf(l.all, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(l.all);
	store_close(l.s);
	return rc;
}

/* ---- import ---------------------------------------------------------------- */

enum { C_NAME, C_ORG, C_CONTACTS, C_RANGES, C_ASNS, C_DOMAINS, C_LANG, C_N };

/* Splits a list cell at spaces and ';' into def_add calls. */
static int add_cell(struct def *d, const char *opt, const char *cell, char *msg, size_t msgsize)
{
	char *copy = strdup(cell), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL) {
		snprintf(msg, msgsize, "out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, " ;\t", &save); tok && rc == 0;
	     tok = strtok_r(NULL, " ;\t", &save))
		rc = def_add(d, opt, tok, msg, msgsize);
	free(copy);
	return rc;
}

static int constituent_import(int argc, char **argv, const char *db)
{
	static const char *const cols[C_N] = {"name", "org",     "contacts", "ranges",
	                                      "asns", "domains", "lang"};
	char *data = NULL, *buf = NULL;
	size_t len, line = 1, ndefs = 0, bad = 0;
	const char *p, *end, *fields[64];
	int map[C_N], first = 1, rc = EXIT_INVALID;
	struct def *defs = NULL;
	struct store_constituent_def *views = NULL;
	struct tix_error err;
	struct store *s;

	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	tix_error_clear(&err);
	if (cli_read_input(argv[1], (size_t)1 << 30, &data, &len, &err) != TIX_OK) {
		cli_print_error("constituent import", &err);
		return cli_exit_code(err.code);
	}
	if ((buf = malloc(1 << 16)) == NULL) {
		free(data);
		return EXIT_SYSTEM;
	}
	p = formats_skip_bom(data, &len);
	end = p + len;
	for (int k = 0; k < C_N; k++)
		map[k] = -1;
	for (;;) {
		size_t start = line, lines = 0;
		const char *why = NULL, *rec = p;
		int nf = formats_csv_record(&p, end, ',', buf, 1 << 16, fields, 64, &lines, &why);
		char msg[300];
		struct def d = {0};

		line += lines;
		if (nf == 0)
			break;
		if (!formats_utf8_ok(rec, (size_t)(p - rec)))
			why = "not UTF-8", nf = -1;
		if (nf < 0) {
			fprintf(stderr, "%s:%zu: %s\n", argv[1], start, why);
			bad++;
			if (first)
				break;
			continue;
		}
		if (first) {
			first = 0;
			for (int i = 0; i < nf; i++)
				for (int k = 0; k < C_N; k++)
					if (strcmp(fields[i], cols[k]) == 0)
						map[k] = i;
			if (map[C_NAME] < 0 || map[C_ORG] < 0) {
				fprintf(stderr,
				        "%s:1: the header must name the columns: name,org and any of "
				        "contacts,ranges,asns,domains,lang\n",
				        argv[1]);
				bad++;
				break;
			}
			continue;
		}
		if (nf == 1 && fields[0][0] == '\0')
			continue;
		for (int k = 0; k < C_N; k++)
			if (map[k] >= nf) {
				fprintf(stderr, "%s:%zu: %d columns, the header has more\n",
				        argv[1], start, nf);
				bad++;
				goto next;
			}
		snprintf(d.name, sizeof(d.name), "%s", fields[map[C_NAME]]);
		snprintf(d.org, sizeof(d.org), "%s", fields[map[C_ORG]]);
		if (map[C_LANG] >= 0)
			snprintf(d.lang, sizeof(d.lang), "%s", fields[map[C_LANG]]);
		if ((map[C_CONTACTS] >= 0 &&
		     add_cell(&d, "contact", fields[map[C_CONTACTS]], msg, sizeof(msg)) != 0) ||
		    (map[C_RANGES] >= 0 &&
		     add_cell(&d, "range", fields[map[C_RANGES]], msg, sizeof(msg)) != 0) ||
		    (map[C_ASNS] >= 0 &&
		     add_cell(&d, "asn", fields[map[C_ASNS]], msg, sizeof(msg)) != 0) ||
		    (map[C_DOMAINS] >= 0 &&
		     add_cell(&d, "domain", fields[map[C_DOMAINS]], msg, sizeof(msg)) != 0) ||
		    def_check(&d, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "%s:%zu: %s\n", argv[1], start, msg);
			def_free(&d);
			bad++;
			continue;
		}
		for (size_t i = 0; i < ndefs; i++)
			if (strcmp(defs[i].name, d.name) == 0) {
				fprintf(stderr, "%s:%zu: %s is named twice\n", argv[1], start,
				        d.name);
				def_free(&d);
				bad++;
				goto next;
			}
		if (grow((void **)&defs, ndefs, sizeof(d)) != 0) {
			def_free(&d);
			rc = EXIT_SYSTEM;
			goto out;
		}
		defs[ndefs++] = d;
	next:;
	}
	if (bad) {
		fprintf(stderr, "tix constituent import: %s: %zu bad rows; nothing imported\n",
		        argv[1], bad);
		goto out;
	}
	if ((views = calloc(ndefs + 1, sizeof(*views))) == NULL) {
		rc = EXIT_SYSTEM;
		goto out;
	}
	for (size_t i = 0; i < ndefs; i++)
		views[i] = def_view(&defs[i]);
	if ((s = cli_open_store(cli_db_path(db))) == NULL) {
		rc = EXIT_SYSTEM;
		goto out;
	}
	if (store_constituent_put(s, views, ndefs, 1, &err) != TIX_OK) {
		cli_print_error("constituent import", &err);
		rc = cli_exit_code(err.code);
	} else {
		struct warned w = {0, 0};

		for (size_t i = 0; i < ndefs; i++)
			warn_org(s, &defs[i], &w);
		warned_total(&w);
		printf("%zu constituents imported from %s\n", ndefs, argv[1]);
		rc = 0;
	}
	store_close(s);
out:
	for (size_t i = 0; i < ndefs; i++)
		def_free(&defs[i]);
	free(defs);
	free(views);
	free(buf);
	free(data);
	return rc;
}

/* ---- remove and dispatch -------------------------------------------------- */

int cmd_constituent(int argc, char **argv)
{
	const char *db = NULL;
	int json = 0, n = 0;
	char **rest;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	/* --db and --json anywhere; the rest is the subcommand's */
	if ((rest = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		return EXIT_SYSTEM;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i] + 5;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			free(rest);
			return 0;
		} else
			rest[n++] = argv[i];
	}
	if (n == 0) {
		usage(stderr);
		free(rest);
		return EXIT_USAGE;
	}
	{
		int rc;
		const char *sub = rest[0];

		if (strcmp(sub, "add") == 0)
			rc = constituent_add(n, rest, db);
		else if (strcmp(sub, "list") == 0)
			rc = constituent_list_cmd(n, rest, db, json);
		else if (strcmp(sub, "import") == 0)
			rc = constituent_import(n, rest, db);
		else if (strcmp(sub, "remove") == 0) {
			struct store *s;
			struct tix_error err;

			if (n != 2) {
				usage(stderr);
				rc = EXIT_USAGE;
			} else if ((s = cli_open_existing_store(cli_db_path(db))) == NULL) {
				rc = EXIT_SYSTEM;
			} else {
				tix_error_clear(&err);
				if (store_constituent_remove(s, rest[1], &err) != TIX_OK) {
					cli_print_error("constituent remove", &err);
					rc = cli_exit_code(err.code);
				} else {
					printf("constituent %s removed\n", rest[1]);
					rc = 0;
				}
				store_close(s);
			}
		} else {
			fprintf(stderr,
			        "tix constituent: unknown command '%s' (add, list, remove, "
			        "import)\n",
			        sub);
			rc = EXIT_USAGE;
		}
		free(rest);
		return rc;
	}
}
