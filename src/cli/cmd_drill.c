/*
 * cli/cmd_drill.c — `tix drill`: cyber drills on the real exchange (load,
 * new, start, pause, status, logs, score, purge; docs/drill.md). Every
 * command on an exercise first publishes the injects that are due.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "drill/drill.h"

#define SCENARIO_MAX (64u << 20)

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix drill COMMAND [--db PATH] ...\n\n"
	        "  load FILE [--org ORG]     check and load a scenario (CEXF with tix's\n"
	        "                            extensions); prints the exercise id last\n"
	        "  new --out FILE            write a starter scenario that loads\n"
	        "  start ID [--now]          start (now, or at exercise.x_tix_start); resumes\n"
	        "                            a paused exercise\n"
	        "  pause ID | status ID      pause the clock | the exercise and its injects\n"
	        "  tick ID                   publish the injects that are due (tix serve and\n"
	        "                            any command on the exercise do this too)\n"
	        "  logs ID --team NAME --out FILE [--delay SECONDS]\n"
	        "                            the team's proxy/DNS/eve lines, values planted\n"
	        "  score ID [--csv F] [--svg F]  the scoreboard per team\n"
	        "  purge ID                  remove every object of the exercise (audit kept)\n\n"
	        "TIX_NOW=TIMESTAMP sets the drill's clock (tests). See docs/drill.md.\n");
}

struct opts {
	const char *db, *out, *team, *csv, *svg, *org;
	long delay;
	int now;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},    {"out", required_argument, NULL, 'o'},
	        {"team", required_argument, NULL, 't'},  {"csv", required_argument, NULL, 'c'},
	        {"svg", required_argument, NULL, 's'},   {"org", required_argument, NULL, 'g'},
	        {"delay", required_argument, NULL, 'D'}, {"now", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	int ch;
	char *end;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 'o': o->out = optarg; break;
		case 't': o->team = optarg; break;
		case 'c': o->csv = optarg; break;
		case 's': o->svg = optarg; break;
		case 'g': o->org = optarg; break;
		case 'D':
			o->delay = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->delay < 0 ||
			    o->delay > 86400 * 365) {
				fprintf(stderr, "tix drill: --delay: seconds, 0 or more\n");
				return -1;
			}
			break;
		case 'n': o->now = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

static int fail(struct tix_error *err)
{
	cli_print_error("drill", err);
	return err->code == TIX_EUSAGE ? EXIT_USAGE : cli_exit_code(err->code);
}

static int do_new(const struct drill_ctx *c, const struct opts *o)
{
	json_t *sc;
	int r;

	if (o->out == NULL) {
		fprintf(stderr, "tix drill new: --out FILE\n");
		return EXIT_USAGE;
	}
	sc = drill_starter(c->now_us);
	if (sc == NULL)
		return EXIT_SYSTEM;
	r = json_dump_file(sc, o->out, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(sc);
	if (r != 0) {
		fprintf(stderr, "tix drill new: cannot write %s\n", o->out);
		return EXIT_SYSTEM;
	}
	printf("wrote %s\n", o->out);
	return 0;
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		fprintf(stderr, "tix drill: cannot write %s\n", path);
	return f;
}

static int close_out(FILE *f, const char *path, int rc)
{
	if (f && fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "tix drill: cannot write %s\n", path);
		return EXIT_SYSTEM;
	}
	return rc;
}

static int on_exercise(struct drill_ctx *c, const struct opts *o, const char *cmd, const char *id)
{
	struct tix_error err;
	size_t n = 0;
	int rc = 0;

	tix_error_clear(&err);
	if (strcmp(cmd, "start") == 0) {
		if (drill_start(c, id, o->now, &err) != TIX_OK)
			return fail(&err);
	} else if (strcmp(cmd, "pause") == 0) {
		if (drill_tick(c, id, &n, &err) != TIX_OK || drill_pause(c, id, &err) != TIX_OK)
			return fail(&err);
	}
	/* A purge publishes nothing first: its one transaction is all it writes. */
	if (strcmp(cmd, "purge") != 0 && drill_tick(c, id, &n, &err) != TIX_OK)
		return fail(&err);
	if (n)
		fprintf(stderr, "tix drill: %zu inject%s published\n", n, n == 1 ? "" : "s");
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "start") == 0 || strcmp(cmd, "pause") == 0) {
		if (drill_status(c, id, stdout, &err) != TIX_OK)
			return fail(&err);
	} else if (strcmp(cmd, "purge") == 0) {
		if (drill_purge(c, id, &n, &err) != TIX_OK)
			return fail(&err);
		printf("purged %s: %zu versions removed\n", id, n);
	} else if (strcmp(cmd, "logs") == 0) {
		FILE *f;

		if (o->team == NULL || o->out == NULL) {
			fprintf(stderr, "tix drill logs: ID --team NAME --out FILE\n");
			return EXIT_USAGE;
		}
		if ((f = open_out(o->out)) == NULL)
			return EXIT_SYSTEM;
		rc = drill_logs(c, id, o->team, (int64_t)o->delay * 1000000, f, &err) == TIX_OK
		             ? 0
		             : fail(&err);
		rc = close_out(f, o->out, rc);
	} else if (strcmp(cmd, "score") == 0) {
		FILE *csv = o->csv ? open_out(o->csv) : NULL;
		FILE *svg = o->svg ? open_out(o->svg) : NULL;

		if ((o->csv && csv == NULL) || (o->svg && svg == NULL))
			rc = EXIT_SYSTEM;
		else if (drill_score(c, id, stdout, csv, svg, NULL, &err) != TIX_OK)
			rc = fail(&err);
		rc = close_out(csv, o->csv, rc);
		rc = close_out(svg, o->svg, rc);
	}
	return rc;
}

int cmd_drill(int argc, char **argv)
{
	static const char *const cmds[] = {"load", "start", "pause", "status", "tick",
	                                   "logs", "score", "purge", NULL};
	struct opts o = {0};
	struct drill_ctx c = {0};
	struct tix_error err;
	const char *cmd, *arg = NULL;
	const char *who = getenv("USER");
	int rc, known = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	cmd = argv[1];
	if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (cli_verb_operand("drill", argc - 1, argv + 1, &arg) != 0)
		return EXIT_USAGE;
	if (cli_clock_now("drill", &c.now_us) != 0)
		return EXIT_USAGE;
	if (strcmp(cmd, "new") == 0)
		return do_new(&c, &o);
	for (int i = 0; cmds[i]; i++)
		known |= strcmp(cmd, cmds[i]) == 0;
	if (!known) {
		fprintf(stderr, "tix drill: '%s' is not a drill command\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (arg == NULL) {
		fprintf(stderr, "tix drill %s: %s\n", cmd,
		        strcmp(cmd, "load") == 0 ? "FILE" : "the exercise ID");
		return EXIT_USAGE;
	}
	c.actor = who && *who ? who : "operator";
	c.org = o.org;
	c.s = strcmp(cmd, "load") == 0 ? cli_open_store(cli_db_path(o.db))
	                               : cli_open_existing_store(cli_db_path(o.db));
	if (c.s == NULL)
		return EXIT_SYSTEM;
	tix_error_clear(&err);
	if (strcmp(cmd, "load") == 0) {
		char *data = NULL, id[64];
		size_t len = 0;

		if (cli_read_input(arg, SCENARIO_MAX, &data, &len, &err) != TIX_OK ||
		    drill_load(&c, data, len, id, &err) != TIX_OK) {
			rc = cli_exit_code(err.code);
			fprintf(stderr, "tix drill load: %s: %s: %s\n", arg, err.where, err.msg);
		} else {
			printf("loaded exercise %s\n", id);
		}
		free(data);
	} else {
		rc = on_exercise(&c, &o, cmd, arg);
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	store_close(c.s);
	return rc;
}
