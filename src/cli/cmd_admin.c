/*
 * cli/cmd_admin.c — `tix admin`: organisations, users, API keys and
 * collections with their grants. Operators script these commands, so their
 * shapes ("tix admin OBJECT VERB ARGS") never change; options may be added.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli/cli.h"

#define MAX_PASSWORD_LINE 512 /* bytes; src/auth refuses longer passwords */
#define MAX_LIST_ORGS     64  /* organisations in one --read or --write */

/* Options. Each command accepts --db and --help, plus those in its mask. */
enum {
	O_JSON = 1 << 0,
	O_COUNTRY = 1 << 1,
	O_ORG = 1 << 2,
	O_ROLE = 1 << 3,
	O_PASSWORD_STDIN = 1 << 4,
	O_USER = 1 << 5,
	O_READ = 1 << 6,
	O_WRITE = 1 << 7,
	O_DESCRIPTION = 1 << 8,
	O_SECTOR = 1 << 9,
	O_DEFAULT_TLP = 1 << 10,
	O_ANONYMOUS = 1 << 11,
	O_SKEW = 1 << 12,
	O_FORCE = 1 << 13,
	O_REMOTE = 1 << 14,
	O_REVOKE = 1 << 15,
};

struct opts {
	const char *db, *country, *org, *role, *user, *read, *write, *description;
	const char *sector, *default_tlp, *anonymous, *skew;
	int json, password_stdin, can_read, can_write, force, remote, revoke;
	unsigned given;  /* the O_ bits seen */
	const char *arg; /* the one positional argument, when the command has one */
};

struct command;
typedef int (*run_fn)(struct store *s, const struct command *c, struct opts *o);

struct command {
	const char *object, *verb;
	unsigned allowed, required;
	int nargs;    /* positional arguments: exactly 0 or 1 */
	int rw_flags; /* --read/--write are flags, not lists */
	const char *synopsis;
	const char *text;
	run_fn run;
};

static int org_add(struct store *s, const struct command *c, struct opts *o);
static int org_list(struct store *s, const struct command *c, struct opts *o);
static int org_remove(struct store *s, const struct command *c, struct opts *o);
static int user_add(struct store *s, const struct command *c, struct opts *o);
static int user_list(struct store *s, const struct command *c, struct opts *o);
static int user_remove(struct store *s, const struct command *c, struct opts *o);
static int user_passwd(struct store *s, const struct command *c, struct opts *o);
static int key_add(struct store *s, const struct command *c, struct opts *o);
static int key_list(struct store *s, const struct command *c, struct opts *o);
static int key_remove(struct store *s, const struct command *c, struct opts *o);
static int coll_add(struct store *s, const struct command *c, struct opts *o);
static int coll_list(struct store *s, const struct command *c, struct opts *o);
static int coll_remove(struct store *s, const struct command *c, struct opts *o);
static int coll_grant(struct store *s, const struct command *c, struct opts *o);
static int group_add(struct store *s, const struct command *c, struct opts *o);
static int group_list(struct store *s, const struct command *c, struct opts *o);
static int group_remove(struct store *s, const struct command *c, struct opts *o);
static int group_member(struct store *s, const struct command *c, struct opts *o);
static int node_set(struct store *s, const struct command *c, struct opts *o);
static int node_show(struct store *s, const struct command *c, struct opts *o);

static const struct command commands[] = {
        {"org", "add", O_COUNTRY | O_SECTOR, 0, 1, 0,
         "org add NAME [--country CC] [--sector SECTOR]",
         "Adds an organisation. CC is an ISO 3166-1 alpha-2 country code; SECTOR is\n"
         "free text (e.g. finance, energy, government).\n",
         org_add},
        {"org", "list", O_JSON, 0, 0, 0, "org list [--json]", "Lists the organisations.\n",
         org_list},
        {"org", "remove", O_FORCE, 0, 1, 0, "org remove NAME [--force]",
         "Removes an organisation. When it still has users, API keys or collection\n"
         "grants, it is refused with what would go, unless --force is given: then\n"
         "they are removed with it. The objects it wrote stay.\n",
         org_remove},
        {"user", "add", O_ORG | O_ROLE | O_PASSWORD_STDIN, O_ORG | O_ROLE, 1, 0,
         "user add NAME --org ORG --role admin|analyst|reader|sensor [--password-stdin]",
         "Adds a user to an organisation. With --password-stdin the password is the\n"
         "first line of standard input (its newline removed; it may not be empty) and\n"
         "is stored only as an argon2id hash. Without it the user has no password and\n"
         "can only use API keys.\n",
         user_add},
        {"user", "list", O_JSON, 0, 0, 0, "user list [--json]",
         "Lists the users with their organisation and role.\n", user_list},
        {"user", "remove", 0, 0, 1, 0, "user remove NAME",
         "Removes a user and the user's API keys.\n", user_remove},
        {"user", "passwd", O_PASSWORD_STDIN, O_PASSWORD_STDIN, 1, 0,
         "user passwd NAME --password-stdin",
         "Sets a user's password to the first line of standard input (its newline\n"
         "removed; it may not be empty), stored only as an argon2id hash. The old\n"
         "password is refused from the next request on; API keys stay valid.\n",
         user_passwd},
        {"key", "add", O_USER, O_USER, 0, 0, "key add --user NAME",
         "Makes a new API key for a user and prints it on standard output, alone on its\n"
         "line. It is shown this once: only a keyed digest of it is stored.\n",
         key_add},
        {"key", "list", O_USER | O_JSON, 0, 0, 0, "key list [--user NAME] [--json]",
         "Lists API keys (their public ids, never the secrets), of one user or all.\n", key_list},
        {"key", "remove", 0, 0, 1, 0, "key remove KEY_ID",
         "Revokes an API key (a server may accept it until its cache entry expires).\n",
         key_remove},
        {"collection", "add", O_READ | O_WRITE | O_DESCRIPTION, 0, 1, 0,
         "collection add TITLE [--read ORG[,ORG...]] [--write ORG[,ORG...]] "
         "[--description TEXT]",
         "Creates a collection and prints its id. --read and --write grant those\n"
         "organisations reading and writing; they are separate, so an organisation\n"
         "may write without reading (a sensor that only reports).\n",
         coll_add},
        {"collection", "list", O_JSON, 0, 0, 0, "collection list [--json]",
         "Lists the collections with the organisations that may read and write them.\n", coll_list},
        {"collection", "remove", 0, 0, 1, 0, "collection remove ID|TITLE",
         "Removes a collection and its grants. The objects stay in the store.\n", coll_remove},
        {"collection", "grant", O_ORG | O_READ | O_WRITE | O_REVOKE, O_ORG, 1, 1,
         "collection grant ID|TITLE --org ORG --read|--write|--read --write|--revoke",
         "Sets what ORG may do with a collection, replacing its earlier grant: --read,\n"
         "--write or both; --revoke takes its access away. One of them is required.\n",
         coll_grant},
        {"group", "add", 0, 0, 1, 0, "group add NAME",
         "Adds a sharing group: a named set of organisations, which may be\n"
         "organisations of other nodes (named as they are named there). An AMBER\n"
         "object whose tix_sharing_group names it is readable by its members only.\n",
         group_add},
        {"group", "list", O_JSON, 0, 0, 0, "group list [--json]",
         "Lists the sharing groups and their members.\n", group_list},
        {"group", "remove", 0, 0, 1, 0, "group remove NAME",
         "Removes a sharing group. AMBER objects naming it are then readable by their\n"
         "owner only (a group that does not exist has no members).\n",
         group_remove},
        {"group", "member-add", O_ORG | O_REMOTE, O_ORG, 1, 0,
         "group member-add NAME --org ORG [--remote]",
         "Adds an organisation of this node to a sharing group; an organisation that\n"
         "does not exist here is refused (a typo would share nothing), unless --remote\n"
         "says it is an organisation of another node, named as it is named there.\n",
         group_member},
        {"group", "member-remove", O_ORG, O_ORG, 1, 0, "group member-remove NAME --org ORG",
         "Removes an organisation from a sharing group.\n", group_member},
        {"node", "set", O_DEFAULT_TLP | O_ANONYMOUS | O_SKEW, 0, 0, 0,
         "node set [--default-tlp clear|green|amber|amber+strict|red] [--anonymous-read on|off]"
         " [--modified-skew SECONDS]",
         "Sets the node's sharing policy: the TLP of objects without a TLP marking\n"
         "(amber unless set), and whether callers without credentials may read TLP:CLEAR\n"
         "objects (off unless set). `tix serve` reads them when it starts.\n",
         node_set},
        {"node", "show", O_JSON, 0, 0, 0, "node show [--json]",
         "Shows the node's sharing-policy settings.\n", node_show},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_one(FILE *f, const struct command *c)
{
	fprintf(f, "usage: tix admin %s [--db PATH]\n", c->synopsis);
}

/* Every command, or those of one object. */
static void usage(FILE *f, const char *object)
{
	int first = 1;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (object && strcmp(object, commands[i].object) != 0)
			continue;
		fprintf(f, "%s tix admin %s\n", first ? "usage:" : "      ", commands[i].synopsis);
		first = 0;
	}
	fprintf(f, "\nManages who may use this node: organisations, their users (roles admin,\n"
	           "analyst, reader, sensor), users' API keys, and which organisations may read\n"
	           "and write each collection. Every command takes --db PATH and --help; list\n"
	           "commands print a table, or JSON with --json. Exit codes: 0 ok, 1 invalid\n"
	           "input, not found or already exists, 2 usage, 3 store or system error.\n");
}

static void help_one(const struct command *c)
{
	usage_one(stdout, c);
	printf("\n%s", c->text);
}

/* Maps errors to exit codes: a name that is taken is invalid input too. */
static int exit_code(enum tix_err e)
{
	return e == TIX_EEXIST || e == TIX_EDENIED ? EXIT_INVALID : cli_exit_code(e);
}

static int fail(const struct command *c, const struct tix_error *err)
{
	char label[64];

	snprintf(label, sizeof(label), "admin %s %s", c->object, c->verb);
	cli_print_error(label, err);
	return exit_code(err->code);
}

static int usage_error(const struct command *c, const char *fmt, const char *what)
{
	fprintf(stderr, "tix admin %s %s: ", c->object, c->verb);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	usage_one(stderr, c);
	return EXIT_USAGE;
}

/* ---- parsing ------------------------------------------------------------ */

/* Options that take a value in some command: needed to find OBJECT and VERB
 * among the arguments when options come first. */
static int takes_value(const char *a)
{
	static const char *const with_value[] = {
	        "--db",          "--country",        "--org",
	        "--role",        "--user",           "--read",
	        "--write",       "--description",    "--sector",
	        "--default-tlp", "--anonymous-read", "--modified-skew"};

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (strcmp(a, with_value[i]) == 0)
			return 1;
	return 0;
}

static int parse(const struct command *c, int argc, char **argv, struct opts *o)
{
	static const struct option lists[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {"json", no_argument, NULL, 'j'},
	        {"country", required_argument, NULL, 'c'},
	        {"org", required_argument, NULL, 'o'},
	        {"role", required_argument, NULL, 'r'},
	        {"password-stdin", no_argument, NULL, 'p'},
	        {"user", required_argument, NULL, 'u'},
	        {"read", required_argument, NULL, 'R'},
	        {"write", required_argument, NULL, 'W'},
	        {"description", required_argument, NULL, 'D'},
	        {"sector", required_argument, NULL, 's'},
	        {"default-tlp", required_argument, NULL, 'T'},
	        {"anonymous-read", required_argument, NULL, 'A'},
	        {"modified-skew", required_argument, NULL, 'K'},
	        {"force", no_argument, NULL, 'f'},
	        {"remote", no_argument, NULL, 'm'},
	        {NULL, 0, NULL, 0},
	};
	static const struct option flags[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {"org", required_argument, NULL, 'o'},
	        {"read", no_argument, NULL, 'R'},
	        {"write", no_argument, NULL, 'W'},
	        {"revoke", no_argument, NULL, 'X'},
	        {NULL, 0, NULL, 0},
	};
	enum store_role role;
	unsigned bit;
	int ch, idx;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, c->rw_flags ? flags : lists, &idx)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; continue;
		case 'h': help_one(c); return -1;
		case 'j':
			bit = O_JSON;
			o->json = 1;
			break;
		case 'c':
			bit = O_COUNTRY;
			o->country = optarg;
			break;
		case 'o':
			bit = O_ORG;
			o->org = optarg;
			break;
		case 'r':
			bit = O_ROLE;
			o->role = optarg;
			break;
		case 'p':
			bit = O_PASSWORD_STDIN;
			o->password_stdin = 1;
			break;
		case 'u':
			bit = O_USER;
			o->user = optarg;
			break;
		case 'R': /* a list in `collection add`, a flag in `grant` */
			bit = O_READ;
			o->read = optarg;
			o->can_read = 1;
			break;
		case 'W':
			bit = O_WRITE;
			o->write = optarg;
			o->can_write = 1;
			break;
		case 'D':
			bit = O_DESCRIPTION;
			o->description = optarg;
			break;
		case 's':
			bit = O_SECTOR;
			o->sector = optarg;
			break;
		case 'T':
			bit = O_DEFAULT_TLP;
			o->default_tlp = optarg;
			if (stix_tlp_parse(optarg) < 0)
				return usage_error(c, "--default-tlp '%s' is not a TLP level",
				                   optarg);
			break;
		case 'K': {
			char *end;
			long long v = strtoll(optarg, &end, 10);

			bit = O_SKEW;
			o->skew = optarg;
			if (*end != '\0' || end == optarg || v < 0 || v > 10LL * 365 * 86400)
				return usage_error(
				        c,
				        "--modified-skew '%s' is not a number of seconds "
				        "(0 to ten years)",
				        optarg);
			break;
		}
		case 'A':
			bit = O_ANONYMOUS;
			o->anonymous = optarg;
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return usage_error(c, "--anonymous-read '%s' is not on or off",
				                   optarg);
			break;
		case 'f':
			bit = O_FORCE;
			o->force = 1;
			break;
		case 'm':
			bit = O_REMOTE;
			o->remote = 1;
			break;
		case 'X':
			bit = O_REVOKE;
			o->revoke = 1;
			break;
		default: usage_one(stderr, c); return EXIT_USAGE;
		}
		if (!(c->allowed & bit))
			return usage_error(c, "option --%s does not apply here",
			                   (c->rw_flags ? flags : lists)[idx].name);
		o->given |= bit;
	}
	if (argc - optind != c->nargs)
		return usage_error(c, "%s", c->nargs ? "needs one argument" : "takes no arguments");
	o->arg = c->nargs ? argv[optind] : NULL;
	if ((o->given & c->required) != c->required) {
		unsigned missing = c->required & ~o->given;

		return usage_error(c, "%s is required",
		                   missing & O_ORG              ? "--org"
		                   : missing & O_ROLE           ? "--role"
		                   : missing & O_PASSWORD_STDIN ? "--password-stdin"
		                                                : "--user");
	}
	if (c->allowed & O_REVOKE) {
		if (o->revoke && (o->can_read || o->can_write))
			return usage_error(c, "%s", "--revoke excludes --read and --write");
		if (!o->revoke && !o->can_read && !o->can_write)
			return usage_error(
			        c, "%s", "say what ORG may do: --read, --write, both, or --revoke");
	}
	/* Option values are checked before the store is opened. */
	if (o->role && store_role_parse(o->role, &role) != 0)
		return usage_error(c, "--role '%s' is not admin, analyst, reader or sensor",
		                   o->role);
	if (o->country && o->country[0] &&
	    (strlen(o->country) != 2 || !isalpha((unsigned char)o->country[0]) ||
	     !isalpha((unsigned char)o->country[1])))
		return usage_error(c, "--country '%s' is not a two-letter country code",
		                   o->country);
	return 0;
}

int cmd_admin(int argc, char **argv)
{
	const struct command *c = NULL;
	const char *object = NULL, *verb = NULL;
	struct opts o;
	struct store *s;
	char **args = NULL, label[64];
	int obj_at = -1, verb_at = -1, help = 0, nargs = 0, rc;

	/* Find OBJECT and VERB wherever the options put them. */
	for (int i = 1; i < argc && verb_at < 0; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
			i += takes_value(argv[i]);
			continue;
		}
		if (obj_at < 0)
			obj_at = i;
		else
			verb_at = i;
	}
	object = obj_at > 0 ? argv[obj_at] : NULL;
	verb = verb_at > 0 ? argv[verb_at] : NULL;
	for (size_t i = 0; object && verb && i < NCOMMANDS; i++)
		if (strcmp(object, commands[i].object) == 0 && strcmp(verb, commands[i].verb) == 0)
			c = &commands[i];
	if (c == NULL) {
		int known = 0;

		for (size_t i = 0; object && i < NCOMMANDS; i++)
			known |= strcmp(object, commands[i].object) == 0;
		if (help && (object == NULL || (known && verb == NULL))) {
			usage(stdout, object);
			return 0;
		}
		if (object && !known)
			fprintf(stderr,
			        "tix admin: '%s' is not one of org, user, key, collection, group, "
			        "node\n",
			        object);
		else if (verb)
			fprintf(stderr, "tix admin %s: '%s' is not a command\n", object, verb);
		usage(stderr, known ? object : NULL);
		return EXIT_USAGE;
	}

	/* The command's own arguments: everything but OBJECT and VERB. */
	if ((args = calloc((size_t)argc + 1, sizeof(*args))) == NULL) {
		fprintf(stderr, "tix admin: out of memory\n");
		return EXIT_SYSTEM;
	}
	snprintf(label, sizeof(label), "tix admin %s %s", c->object, c->verb);
	args[nargs++] = label;
	for (int i = 1; i < argc; i++)
		if (i != obj_at && i != verb_at)
			args[nargs++] = argv[i];
	memset(&o, 0, sizeof(o));
	if ((rc = parse(c, nargs, args, &o)) != 0) {
		free(args);
		return rc < 0 ? 0 : rc;
	}
	if ((s = cli_open_store(cli_db_path(o.db))) == NULL) {
		free(args);
		return EXIT_SYSTEM;
	}
	rc = c->run(s, c, &o);
	if (rc == 0 && strcmp(c->verb, "list") != 0 && strcmp(c->verb, "show") != 0) {
		/* Every administrative change is audited (never the password). */
		struct store_audit_entry ae;
		struct tix_error err;
		struct tix_time now;
		char detail[1024];
		const char *who = getenv("USER");

		/* What changed, never a password (it is read from stdin). */
		snprintf(detail, sizeof(detail),
		         "tix admin %s %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s", c->object,
		         c->verb, o.arg ? " " : "", o.arg ? o.arg : "", o.org ? " --org " : "",
		         o.org ? o.org : "", o.role ? " --role " : "", o.role ? o.role : "",
		         o.user ? " --user " : "", o.user ? o.user : "",
		         c->rw_flags && o.can_read ? " --read" : "",
		         c->rw_flags && o.can_write ? " --write" : "",
		         !c->rw_flags && o.read ? " --read " : "",
		         !c->rw_flags && o.read ? o.read : "",
		         !c->rw_flags && o.write ? " --write " : "",
		         !c->rw_flags && o.write ? o.write : "",
		         o.default_tlp ? " --default-tlp " : "", o.default_tlp ? o.default_tlp : "",
		         o.anonymous ? " --anonymous-read " : "", o.anonymous ? o.anonymous : "",
		         o.sector ? " --sector " : "", o.sector ? o.sector : "",
		         o.skew ? " --modified-skew " : "", o.skew ? o.skew : "");
		if (o.force || o.remote || o.revoke)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s%s",
			         o.force ? " --force" : "", o.remote ? " --remote" : "",
			         o.revoke ? " --revoke" : "");
		tix_time_now(&now);
		ae = (struct store_audit_entry){tix_time_to_us(&now),
		                                "admin",
		                                who && *who ? who : "operator",
		                                "",
		                                "",
		                                detail};
		if (store_audit_append(s, &ae, 1, &err) != TIX_OK) {
			cli_print_error("admin", &err);
			rc = EXIT_SYSTEM;
		}
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = EXIT_SYSTEM;
	store_close(s);
	free(args);
	return rc;
}

/* ---- helpers ------------------------------------------------------------ */

static void print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(v);
}

static const char *time_text(int64_t us, char out[32])
{
	struct tix_time t;

	if (us == 0)
		return NULL;
	tix_time_from_us(us, &t);
	return tix_time_format(&t, 0, out);
}

/* Splits "a,b,c" into at most max names (pointers into buf). -1 when an
 * item is empty or there are too many. */
static int split_orgs(const char *list, char *buf, size_t size, char **names, int max)
{
	int n = 0;

	if (list == NULL)
		return 0;
	if (strlen(list) >= size)
		return -1;
	memcpy(buf, list, strlen(list) + 1);
	for (char *p = buf;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p == '\0' || n == max)
			return -1;
		names[n++] = p;
		if (comma == NULL)
			return n;
		p = comma + 1;
	}
}

static int in_list(char **names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* The first line of standard input, its newline (and a CR before it)
 * removed. Read with read(2), so no stdio buffer keeps a copy. */
static enum tix_err read_password(char *buf, size_t size, struct tix_error *err)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	for (;;) {
		r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return tix_error_set(err, TIX_EIO, "", "cannot read the password: %s",
			                     strerror(errno));
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 >= size)
			return tix_error_set(err, TIX_EINVAL, "",
			                     "the password is longer than %zu bytes", size - 1);
		buf[n++] = ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return tix_error_set(err, TIX_EINVAL, "",
		                     "the password on standard input is empty");
	if (memchr(buf, '\0', n) != NULL)
		return tix_error_set(err, TIX_EINVAL, "", "the password contains a NUL byte");
	return TIX_OK;
}

/* ---- organisations ------------------------------------------------------ */

static int org_add(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (o->sector && (strlen(o->sector) > 63 || strchr(o->sector, '\n')))
		return usage_error(c, "--sector '%s' is longer than 63 bytes or not one line",
		                   o->sector);
	if (store_org_add(s, o->arg, o->country, &err) != TIX_OK)
		return fail(c, &err);
	if (o->sector && store_org_set_sector(s, o->arg, o->sector, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

static int print_org(void *arg, const struct store_org *org)
{
	json_t *list = arg;

	if (list) {
		json_t *o = json_pack("{ssss}", "name", org->name, "country", org->country);

		if (org->sector[0])
			json_object_set_new(o, "sector", json_string(org->sector));
		json_array_append_new(list, o);
	} else {
		printf("%-32s %-7s %s\n", org->name, org->country[0] ? org->country : "-",
		       org->sector[0] ? org->sector : "-");
	}
	return 0;
}

static int org_list(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;
	json_t *list = o->json ? json_array() : NULL;

	tix_error_clear(&err);
	if (!o->json)
		printf("%-32s %-7s %s\n", "NAME", "COUNTRY", "SECTOR");
	if (store_org_list(s, print_org, list, &err) != TIX_OK) {
		json_decref(list);
		return fail(c, &err);
	}
	if (list)
		print_json(list);
	return 0;
}

/* What removing an organisation would take with it. */
struct org_dependents {
	struct store *s;
	const char *org;
	int64_t okey;
	size_t users, keys, grants;
	struct tix_buf names; /* "user alice", "collection Phishing (read)" ... */
	enum tix_err e;
	struct tix_error *err;
};

static int count_key(void *arg, const struct store_apikey *k)
{
	struct org_dependents *d = arg;

	d->keys++;
	tix_buf_addf(&d->names, "\n  key %s (of %s)", k->key_id, k->user);
	return 0;
}

static int count_user(void *arg, const struct store_user *u)
{
	struct org_dependents *d = arg;

	if (strcmp(u->org, d->org) != 0)
		return 0;
	d->users++;
	tix_buf_addf(&d->names, "\n  user %s", u->name);
	return 0;
}

static int count_grant(void *arg, const struct store_collection_info *ci)
{
	struct org_dependents *d = arg;
	struct store_collection coll;
	int r = 0, w = 0;

	if ((d->e = store_collection_get(d->s, ci->id, 0, &coll, d->err)) != TIX_OK ||
	    (d->e = store_collection_access(d->s, &coll, d->okey, &r, &w, d->err)) != TIX_OK)
		return 1;
	if (r || w) {
		d->grants++;
		tix_buf_addf(&d->names, "\n  grant on collection %s (%s)", ci->title,
		             r && w ? "read, write"
		             : r    ? "read"
		                    : "write");
	}
	return 0;
}

/* The user names of org, for listing their keys. */
struct user_names {
	const char *org;
	struct tix_buf buf; /* NUL-separated */
};

static int collect_user(void *arg, const struct store_user *u)
{
	struct user_names *un = arg;

	if (strcmp(u->org, un->org) == 0)
		tix_buf_add(&un->buf, u->name, strlen(u->name) + 1);
	return 0;
}

static int org_remove(struct store *s, const struct command *c, struct opts *o)
{
	struct org_dependents d;
	struct user_names un;
	struct store_org org;
	struct tix_error err;
	enum tix_err e;
	int rc = 0;

	tix_error_clear(&err);
	if (store_org_get(s, o->arg, &org, &err) != TIX_OK)
		return fail(c, &err);
	memset(&d, 0, sizeof(d));
	d.s = s;
	d.org = o->arg;
	d.okey = org.key;
	d.err = &err;
	tix_buf_init(&d.names, TIX_BUF_UNLIMITED);
	un.org = o->arg;
	tix_buf_init(&un.buf, TIX_BUF_UNLIMITED);
	e = store_user_list(s, count_user, &d, &err);
	if (e == TIX_OK)
		e = store_user_list(s, collect_user, &un, &err);
	for (size_t at = 0; e == TIX_OK && at < tix_buf_len(&un.buf);) {
		const char *name = tix_buf_str(&un.buf) + at;

		e = store_apikey_list(s, name, count_key, &d, &err);
		at += strlen(name) + 1;
	}
	if (e == TIX_OK && (e = store_collection_list(s, 0, 1, count_grant, &d, &err)) == TIX_OK)
		e = d.e;
	if (e == TIX_OK && !o->force && d.users + d.keys + d.grants > 0) {
		fprintf(stderr,
		        "tix admin org remove: '%s' still has %zu user%s, %zu API key%s and %zu "
		        "collection grant%s, which would be removed with it:%s\n"
		        "Give --force to remove them all, or remove them first.\n",
		        o->arg, d.users, d.users == 1 ? "" : "s", d.keys, d.keys == 1 ? "" : "s",
		        d.grants, d.grants == 1 ? "" : "s", tix_buf_str(&d.names));
		rc = EXIT_INVALID;
	} else if (e != TIX_OK || store_org_remove(s, o->arg, &err) != TIX_OK) {
		rc = fail(c, &err);
	}
	tix_buf_release(&d.names);
	tix_buf_release(&un.buf);
	return rc;
}

/* ---- users -------------------------------------------------------------- */

static int user_add(struct store *s, const struct command *c, struct opts *o)
{
	char password[MAX_PASSWORD_LINE + 2], hash[256] = "";
	struct tix_error err;
	enum store_role role;
	enum tix_err e = TIX_OK;

	tix_error_clear(&err);
	store_role_parse(o->role, &role); /* checked by parse() */
	if (o->password_stdin) {
		e = read_password(password, sizeof(password), &err);
		if (e == TIX_OK)
			e = auth_hash_password(password, hash, sizeof(hash), &err);
		explicit_bzero(password, sizeof(password));
	}
	if (e == TIX_OK)
		e = store_user_add(s, o->arg, o->org, role, hash, &err);
	explicit_bzero(hash, sizeof(hash));
	return e == TIX_OK ? 0 : fail(c, &err);
}

static int print_user(void *arg, const struct store_user *u)
{
	json_t *list = arg;
	int has_pw = u->password_hash[0] != '\0';

	if (list)
		json_array_append_new(list, json_pack("{sssssssb}", "name", u->name, "org", u->org,
		                                      "role", store_role_name(u->role), "password",
		                                      has_pw));
	else
		printf("%-24s %-24s %-8s %s\n", u->name, u->org, store_role_name(u->role),
		       has_pw ? "yes" : "no");
	return 0;
}

static int user_list(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;
	json_t *list = o->json ? json_array() : NULL;

	tix_error_clear(&err);
	if (!o->json)
		printf("%-24s %-24s %-8s %s\n", "NAME", "ORG", "ROLE", "PASSWORD");
	if (store_user_list(s, print_user, list, &err) != TIX_OK) {
		json_decref(list);
		return fail(c, &err);
	}
	if (list)
		print_json(list);
	return 0;
}

static int user_passwd(struct store *s, const struct command *c, struct opts *o)
{
	char password[MAX_PASSWORD_LINE + 2], hash[256] = "";
	struct store_user u;
	struct tix_error err;
	enum tix_err e;

	tix_error_clear(&err);
	/* The user must exist before the password is read and hashed. */
	if ((e = store_user_get(s, o->arg, &u, &err)) == TIX_OK)
		e = read_password(password, sizeof(password), &err);
	if (e == TIX_OK)
		e = auth_hash_password(password, hash, sizeof(hash), &err);
	explicit_bzero(password, sizeof(password));
	if (e == TIX_OK)
		e = store_user_set_password(s, o->arg, hash, &err);
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(&u, sizeof(u));
	return e == TIX_OK ? 0 : fail(c, &err);
}

static int user_remove(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (store_user_remove(s, o->arg, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

/* ---- API keys ----------------------------------------------------------- */

static int key_add(struct store *s, const struct command *c, struct opts *o)
{
	char key[128];
	struct tix_error err;

	tix_error_clear(&err);
	if (auth_new_key(s, o->user, key, sizeof(key), &err) != TIX_OK)
		return fail(c, &err);
	printf("%s\n", key);
	explicit_bzero(key, sizeof(key));
	fprintf(stderr, "tix admin: a new key for '%s' is above; it is not shown again\n", o->user);
	return 0;
}

static int print_key(void *arg, const struct store_apikey *k)
{
	json_t *list = arg;
	char created[32] = "-", used[32];
	const char *u = time_text(k->last_used, used);

	time_text(k->created, created);
	if (list)
		json_array_append_new(list, json_pack("{ssssssss?}", "key_id", k->key_id, "user",
		                                      k->user, "created", created, "last_used", u));
	else
		printf("%-14s %-24s %-22s %s\n", k->key_id, k->user, created, u ? u : "never");
	return 0;
}

static int key_list(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;
	json_t *list = o->json ? json_array() : NULL;

	tix_error_clear(&err);
	if (!o->json)
		printf("%-14s %-24s %-22s %s\n", "KEY_ID", "USER", "CREATED", "LAST_USED");
	if (store_apikey_list(s, o->user, print_key, list, &err) != TIX_OK) {
		json_decref(list);
		return fail(c, &err);
	}
	if (list)
		print_json(list);
	return 0;
}

static int key_remove(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (store_apikey_remove(s, o->arg, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

/* ---- collections -------------------------------------------------------- */

static int coll_add(struct store *s, const struct command *c, struct opts *o)
{
	char rbuf[4096], wbuf[4096], *readers[MAX_LIST_ORGS], *writers[MAX_LIST_ORGS];
	char *all[2 * MAX_LIST_ORGS];
	struct store_collection coll;
	struct store_org org;
	struct tix_error err;
	int nr, nw, nall = 0;

	tix_error_clear(&err);
	if ((nr = split_orgs(o->read, rbuf, sizeof(rbuf), readers, MAX_LIST_ORGS)) < 0)
		return usage_error(c, "--read '%s' is not a list of organisations", o->read);
	if ((nw = split_orgs(o->write, wbuf, sizeof(wbuf), writers, MAX_LIST_ORGS)) < 0)
		return usage_error(c, "--write '%s' is not a list of organisations", o->write);
	for (int i = 0; i < nr + nw; i++) {
		char *name = i < nr ? readers[i] : writers[i - nr];

		if (!in_list(all, nall, name))
			all[nall++] = name;
	}
	/* Every organisation must exist before anything is created. */
	for (int i = 0; i < nall; i++)
		if (store_org_get(s, all[i], &org, &err) != TIX_OK)
			return fail(c, &err);
	if (store_collection_create(s, o->arg, o->description, &coll, &err) != TIX_OK)
		return fail(c, &err);
	for (int i = 0; i < nall; i++) {
		if (store_collection_grant(s, &coll, all[i], in_list(readers, nr, all[i]),
		                           in_list(writers, nw, all[i]), &err) != TIX_OK) {
			int rc = fail(c, &err);

			/* All or nothing: an organisation removed meanwhile. */
			store_collection_remove(s, coll.id, NULL);
			return rc;
		}
	}
	printf("%s\n", coll.id);
	return 0;
}

struct coll_list_state {
	struct store *s;
	json_t *list;
	struct {
		int64_t key;
		char name[128];
	} * orgs;
	size_t norgs, cap;
	enum tix_err e;
	struct tix_error *err;
};

static int collect_org(void *arg, const struct store_org *org)
{
	struct coll_list_state *st = arg;

	if (st->norgs == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;
		void *p = realloc(st->orgs, cap * sizeof(*st->orgs));

		if (p == NULL) {
			st->e = tix_error_set(st->err, TIX_ENOMEM, "", "out of memory");
			return 1;
		}
		st->orgs = p;
		st->cap = cap;
	}
	st->orgs[st->norgs].key = org->key;
	snprintf(st->orgs[st->norgs].name, sizeof(st->orgs[0].name), "%s", org->name);
	st->norgs++;
	return 0;
}

static int print_collection(void *arg, const struct store_collection_info *ci)
{
	struct coll_list_state *st = arg;
	struct store_collection coll;
	json_t *readers = json_array(), *writers = json_array();
	struct tix_buf r, w;
	int can_read, can_write;

	tix_buf_init(&r, TIX_BUF_UNLIMITED);
	tix_buf_init(&w, TIX_BUF_UNLIMITED);
	if ((st->e = store_collection_get(st->s, ci->id, 0, &coll, st->err)) != TIX_OK)
		goto out;
	for (size_t i = 0; i < st->norgs; i++) {
		st->e = store_collection_access(st->s, &coll, st->orgs[i].key, &can_read,
		                                &can_write, st->err);
		if (st->e != TIX_OK)
			goto out;
		if (can_read) {
			json_array_append_new(readers, json_string(st->orgs[i].name));
			tix_buf_addf(&r, "%s%s", tix_buf_len(&r) ? "," : "", st->orgs[i].name);
		}
		if (can_write) {
			json_array_append_new(writers, json_string(st->orgs[i].name));
			tix_buf_addf(&w, "%s%s", tix_buf_len(&w) ? "," : "", st->orgs[i].name);
		}
	}
	if (st->list) {
		json_array_append_new(st->list, json_pack("{ssssss?sOsO}", "id", ci->id, "title",
		                                          ci->title, "description", ci->description,
		                                          "read", readers, "write", writers));
	} else {
		printf("%-36s  %-24s %-24s %s\n", ci->id, ci->title,
		       tix_buf_len(&r) ? tix_buf_str(&r) : "-",
		       tix_buf_len(&w) ? tix_buf_str(&w) : "-");
	}
out:
	json_decref(readers);
	json_decref(writers);
	tix_buf_release(&r);
	tix_buf_release(&w);
	return st->e != TIX_OK;
}

static int coll_list(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;
	struct coll_list_state st;
	enum tix_err e;

	tix_error_clear(&err);
	memset(&st, 0, sizeof(st));
	st.s = s;
	st.err = &err;
	st.list = o->json ? json_array() : NULL;
	if ((e = store_org_list(s, collect_org, &st, &err)) == TIX_OK && (e = st.e) == TIX_OK) {
		if (!o->json)
			printf("%-36s  %-24s %-24s %s\n", "ID", "TITLE", "READ", "WRITE");
		if ((e = store_collection_list(s, 0, 1, print_collection, &st, &err)) == TIX_OK)
			e = st.e;
	}
	free(st.orgs);
	if (e != TIX_OK) {
		json_decref(st.list);
		return fail(c, &err);
	}
	if (st.list)
		print_json(st.list);
	return 0;
}

static int coll_remove(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (store_collection_remove(s, o->arg, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

static int coll_grant(struct store *s, const struct command *c, struct opts *o)
{
	struct store_collection coll;
	struct tix_error err;

	tix_error_clear(&err);
	/* --revoke is the grant of neither (parse() requires one of them). */
	if (store_collection_get(s, o->arg, 0, &coll, &err) != TIX_OK ||
	    store_collection_grant(s, &coll, o->org, o->can_read, o->can_write, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

/* ---- sharing groups and node settings --------------------------------------- */

static int group_add(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (store_group_add(s, o->arg, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

static int group_remove(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (store_group_remove(s, o->arg, &err) != TIX_OK)
		return fail(c, &err);
	return 0;
}

static int group_member(struct store *s, const struct command *c, struct opts *o)
{
	struct store_org org;
	struct tix_error err;

	tix_error_clear(&err);
	if (strcmp(c->verb, "member-add") == 0 && !o->remote &&
	    store_org_get(s, o->org, &org, &err) != TIX_OK) {
		if (err.code != TIX_ENOTFOUND)
			return fail(c, &err);
		fprintf(stderr,
		        "tix admin group member-add: no organisation '%s' on this node; add it "
		        "with `tix admin org add`, or give --remote for an organisation of another "
		        "node\n",
		        o->org);
		return EXIT_INVALID;
	}
	if (store_group_member(s, o->arg, o->org, strcmp(c->verb, "member-add") == 0, &err) !=
	    TIX_OK)
		return fail(c, &err);
	return 0;
}

struct group_print {
	json_t *list, *cur;
	char last[128];
};

static int print_group(void *arg, const char *group, const char *org)
{
	struct group_print *g = arg;

	if (g->list) {
		if (g->cur == NULL || strcmp(g->last, group) != 0) {
			g->cur = json_pack("{sss[]}", "name", group, "members");
			json_array_append_new(g->list, g->cur);
		}
		if (org)
			json_array_append_new(json_object_get(g->cur, "members"), json_string(org));
	} else {
		printf("%-32s %s\n", group, org ? org : "-");
	}
	snprintf(g->last, sizeof(g->last), "%s", group);
	return 0;
}

static int group_list(struct store *s, const struct command *c, struct opts *o)
{
	struct group_print g = {o->json ? json_array() : NULL, NULL, ""};
	struct tix_error err;

	tix_error_clear(&err);
	if (!o->json)
		printf("%-32s %s\n", "GROUP", "MEMBER");
	if (store_group_list(s, print_group, &g, &err) != TIX_OK) {
		json_decref(g.list);
		return fail(c, &err);
	}
	if (g.list)
		print_json(g.list);
	return 0;
}

static int node_set(struct store *s, const struct command *c, struct opts *o)
{
	struct tix_error err;

	tix_error_clear(&err);
	if (o->default_tlp &&
	    store_setting_set(s, "default_tlp", stix_tlp_name(stix_tlp_parse(o->default_tlp)),
	                      &err) != TIX_OK)
		return fail(c, &err);
	if (o->anonymous && store_setting_set(s, "anonymous_read", o->anonymous, &err) != TIX_OK)
		return fail(c, &err);
	if (o->skew && store_setting_set(s, "modified_skew", o->skew, &err) != TIX_OK)
		return fail(c, &err);
	fprintf(stderr, "tix admin: set. A running `tix serve` applies it to its next request,"
	                " and `tix serve --sync` or `tix sync` to the next run of each peer"
	                " (unless `tix serve` was started with --default-tlp or"
	                " --anonymous-read, which stay until it restarts)\n");
	return 0;
}

static int node_show(struct store *s, const struct command *c, struct opts *o)
{
	struct policy_node n;
	char skew[32];

	(void)c;
	if (cli_policy_node(s, &n) != 0)
		return EXIT_INVALID;
	if (store_setting_get(s, "modified_skew", skew, sizeof(skew), NULL) != TIX_OK)
		snprintf(skew, sizeof(skew), "86400"); /* the store's default: one day */
	if (o->json) {
		json_t *v = json_pack("{sssbsI}", "default_tlp", stix_tlp_name(n.default_tlp),
		                      "anonymous_read", n.anonymous_read, "modified_skew",
		                      (json_int_t)strtoll(skew, NULL, 10));

		print_json(v); /* takes v */
	} else {
		printf("default-tlp     %s\nanonymous-read  %s\nmodified-skew   %s s\n",
		       stix_tlp_name(n.default_tlp), n.anonymous_read ? "on" : "off", skew);
	}
	return 0;
}
