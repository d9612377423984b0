/*
 * cli.h — what the tix subcommands share: exit codes, the store location,
 * and small helpers for reading input and reporting errors.
 */
#ifndef TIX_CLI_H
#define TIX_CLI_H

#include <stdio.h>

#include "core/core.h"
#include "policy/policy.h"
#include "store/store.h"

/* Exit codes, the same for every command. */
enum {
	EXIT_OK_ = 0,
	EXIT_INVALID = 1, /* invalid input, or nothing found / matched */
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3 /* store or system error */
};

/* The store path: --db, else $TIX_DB, else ./var/tix.db. */
const char *cli_db_path(const char *opt);
/* mkdir -p of the store's directory (0750). 0, or -1 with a message. */
int cli_make_store_dir(const char *path);
/* Opens the store, creating its directory and schema on first use.
 * Prints the error and returns NULL on failure. */
struct store *cli_open_store(const char *path);
/* Maps an error code to an exit code. */
int cli_exit_code(enum tix_err e);
/* Prints "tix CMD: where: msg" on stderr. */
void cli_print_error(const char *cmd, const struct tix_error *err);

/* Reads a whole file (or stdin for "-") up to max bytes. Caller frees. */
enum tix_err cli_read_input(const char *path, size_t max, char **data, size_t *len,
                            struct tix_error *err);
/* Parses sizes such as "16M", "1G", "4096". Returns 0 on success. */
int cli_parse_size(const char *s, size_t *out);

/* The node's sharing-policy settings from the store (default TLP AMBER,
 * no anonymous reading unless set with `tix admin node set`). 0, or -1
 * with a message when a stored setting is invalid. */
int cli_policy_node(struct store *s, struct policy_node *n);

struct option;
/* getopt_long(argc, argv, "", longopts, longindex) with tix's messages: an
 * unknown option names the nearest known one ("did you mean
 * --collection?"), a missing value names the option. argv[0] is the
 * command's name as printed ("tix export"). */
int cli_getopt(int argc, char **argv, const struct option *longopts, int *longindex);
/* The name in names[0..n) nearest to word (a likely typo), or NULL. */
const char *cli_nearest(const char *word, const char *const *names, size_t n);

int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_verify_store(int argc, char **argv);

struct sync_config;
/* Runs every peer (or only `only`) on its interval until *cfg->stop is
 * set, with its own store handle: `tix sync` without --once, and the
 * thread of `tix serve --sync`. */
int cli_sync_loop(const char *db, const struct sync_config *cfg, const char *only);

#endif
