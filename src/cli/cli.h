/*
 * cli.h — what the tix subcommands share: exit codes, the store location,
 * and small helpers for reading input and reporting errors.
 */
#ifndef TIX_CLI_H
#define TIX_CLI_H

#include <stdio.h>

#include "core/core.h"
#include "match/match.h"
#include "policy/policy.h"
#include "store/store.h"

/* Exit codes, the same for every command. */
enum {
	EXIT_OK_ = 0,
	EXIT_INVALID = 1, /* invalid input, or nothing found / matched */
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3 /* store or system error */
};

/* The store path: --db, else $TIX_DB, else [store] path of the
 * configuration (cli_config), else ./var/tix.db. A configuration that is
 * refused ends the program (exit 2) rather than use another store. */
const char *cli_db_path(const char *opt);

/* ---- the configuration file (cmd_config.c, tix.conf(5)) ---- */
struct conf;
/* The file to read: opt (--config), else $TIX_CONFIG, else
 * /etc/tix/tix.conf; *chosen is 0 for the last, which may be missing. */
const char *cli_config_path(const char *opt, int *chosen);
/* Loads the configuration every later cli_config() returns. Problems are
 * printed (FILE:LINE: reason); 0, or -1 when it is refused. */
int cli_config_use(const char *opt);
/* The configuration (the default file, loaded on first use; empty when
 * it does not exist), or NULL when it was refused. */
const struct conf *cli_config(void);
/* Lays the [peer NAME] settings over the stored peers (their credentials
 * stay those of `tix peer add`). 0, or -1 on an error. */
int cli_config_apply_peers(struct store *s);
/* mkdir -p of the store's directory (0750). 0, or -1 with a message. */
int cli_make_store_dir(const char *path);
/* Opens the store, creating its directory and schema on first use.
 * Prints the error and returns NULL on failure. */
struct store *cli_open_store(const char *path);
/* For read-only commands: never creates a store. A missing path prints
 * "no store at PATH (tix import or tix admin creates one)"; NULL then
 * (the caller exits 3). */
struct store *cli_open_existing_store(const char *path);
/* Maps an error code to an exit code. */
int cli_exit_code(enum tix_err e);
/* Prints "tix CMD: where: msg" on stderr. */
void cli_print_error(const char *cmd, const struct tix_error *err);

/* Reads a whole file (or stdin for "-") up to max bytes. Caller frees. */
enum tix_err cli_read_input(const char *path, size_t max, char **data, size_t *len,
                            struct tix_error *err);
/* Parses sizes such as "16M", "1G", "4096". Returns 0 on success. */
int cli_parse_size(const char *s, size_t *out);

/* After cli_getopt over a verb's argv (argv[0] the verb): its operand in
 * *operand (NULL when none), or -1 (said on stderr as "tix TOOL VERB: one
 * argument at most") when more than one is left. */
int cli_verb_operand(const char *tool, int argc, char **argv, const char **operand);

/* The workflows' clock in µs since the epoch: TIX_NOW (an RFC 3339
 * timestamp) when set, for tests and drills, else the system's. -1 (said on
 * stderr as "tix CMD: TIX_NOW: …") when TIX_NOW is not a timestamp. */
int cli_clock_now(const char *cmd, int64_t *now_us);

/* The node's sharing-policy settings from the store (default TLP AMBER,
 * no anonymous reading unless set with `tix admin node set`). 0, or -1
 * with a message when a stored setting is invalid. */
int cli_policy_node(struct store *s, struct policy_node *n);
/* The decay model: the defaults with tix.conf's [decay] settings over
 * them (cmd_config.c); 0, or -1 with a message. */
struct values_decay_model;
int cli_decay_model(struct values_decay_model *m);

struct option;
/* getopt_long(argc, argv, "", longopts, longindex) with tix's messages: an
 * unknown option names the nearest known one ("did you mean
 * --collection?"), a missing value names the option. argv[0] is the
 * command's name as printed ("tix export"). */
int cli_getopt(int argc, char **argv, const struct option *longopts, int *longindex);

int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_correlate(int argc, char **argv); /* cmd_correlate.c */
int cmd_reindex(int argc, char **argv);   /* cmd_correlate.c */
int cmd_search(int argc, char **argv);    /* cmd_search.c */
int cmd_expire(int argc, char **argv);    /* cmd_expire.c */
int cmd_stats(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_verify_store(int argc, char **argv);
int cmd_migrate(int argc, char **argv); /* cmd_migrate.c */
/* constituency routing (cmd_constituent.c, cmd_route.c) */
int cmd_constituent(int argc, char **argv);
int cmd_route(int argc, char **argv);
/* cyber drills (cmd_drill.c) */
int cmd_drill(int argc, char **argv);
/* preservation requests (cmd_request.c) */
int cmd_request(int argc, char **argv);
/* the resource library (cmd_library.c) */
int cmd_library(int argc, char **argv);

struct sync_config;
/* Runs every peer (or only `only`) on its interval until *cfg->stop is
 * set, with its own store handle: `tix sync` without --once, and the
 * thread of `tix serve --sync`. */
int cli_sync_loop(const char *db, const struct sync_config *cfg, const char *only);

/* tix match --stats-file (match_stats.c): the counters of a run so far. */
struct cli_match_stats {
	const char *sensor;
	uint64_t indicators, files;
	struct match_scan_stats st;
	double scan_seconds;
};
int cli_match_stats_write(const char *path, const struct cli_match_stats *m);

#endif
