/*
 * cli/cmd_migrate.c — `tix migrate --to TARGET`: the store (--db, $TIX_DB,
 * the configuration) copied into an empty store on SQLite or PostgreSQL,
 * with each table's row counts and digest on both sides printed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tix migrate [--db PATH] --to TARGET\n\n"
	           "Copies every table of the store (--db, $TIX_DB or the configuration's)\n"
	           "into TARGET, a PostgreSQL URL (postgresql://USER@HOST/DB, the password from\n"
	           "PGPASSWORD or ~/.pgpass) or an SQLite file, which must be empty: it is\n"
	           "created and migrated to this tix's schema when new. One snapshot of the\n"
	           "store, one transaction on TARGET. Each table's rows are then read back\n"
	           "from TARGET: its row counts and BLAKE2b digests on both sides are printed\n"
	           "(TABLE SOURCE-ROWS TARGET-ROWS DIGEST), and any difference rolls the copy\n"
	           "back. The node secret goes with the copy: API keys, passwords and the\n"
	           "audit chain work on TARGET as before. Stop `tix serve` first.\n\n"
	           "Exit 0 when copied and verified; 1 when TARGET is not empty or its schema\n"
	           "differs; 2 usage; 3 a store error or a copy that differs.\n");
}

static int print_table(void *arg, const struct store_copy_table *t)
{
	char hex[65];
	int same = t->rows_source == t->rows_target &&
	           memcmp(t->digest_source, t->digest_target, sizeof(t->digest_source)) == 0;

	(void)arg;
	sodium_bin2hex(hex, sizeof(hex), t->digest_source, sizeof(t->digest_source));
	printf("%-24s %10" PRId64 " %10" PRId64 " %s%s\n", t->name, t->rows_source, t->rows_target,
	       hex, same ? "" : " DIFFERS");
	if (!same) {
		sodium_bin2hex(hex, sizeof(hex), t->digest_target, sizeof(t->digest_target));
		printf("%-24s %10s %10s %s (target)\n", "", "", "", hex);
	}
	return 0;
}

int cmd_migrate(int argc, char **argv)
{
	const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"to", required_argument, NULL, 't'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct store_options keep = {0, 0}, create = {1, 0};
	const char *db = NULL, *to = NULL;
	struct store *src = NULL, *dst = NULL;
	struct tix_error err;
	int ch, rc = 0;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 't': to = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc != optind || to == NULL || to[0] == '\0') {
		fprintf(stderr, "tix migrate: %s\n",
		        to ? "takes no arguments" : "needs --to TARGET");
		usage(stderr);
		return EXIT_USAGE;
	}
	db = cli_db_path(db);
	if (strcmp(db, to) == 0) {
		fprintf(stderr, "tix migrate: the target is the store itself\n");
		return EXIT_USAGE;
	}
	if (!store_path_is_url(db) && access(db, F_OK) != 0) {
		fprintf(stderr, "tix migrate: %s: no store there: %s\n", db, strerror(errno));
		return EXIT_SYSTEM;
	}
	tix_error_clear(&err);
	if ((src = store_open(db, &keep, &err)) == NULL) {
		cli_print_error("migrate", &err);
		return EXIT_SYSTEM;
	}
	if (!store_path_is_url(to) && cli_make_store_dir(to) != 0) {
		store_close(src);
		return EXIT_SYSTEM;
	}
	if ((dst = store_open(to, &create, &err)) == NULL) {
		cli_print_error("migrate", &err);
		store_close(src);
		return EXIT_SYSTEM;
	}
	if (store_copy(src, dst, print_table, NULL, &err) != TIX_OK) {
		cli_print_error("migrate", &err);
		rc = err.code == TIX_ESTORE || err.code == TIX_ENOMEM ? EXIT_SYSTEM : EXIT_INVALID;
	} else {
		fprintf(stderr,
		        "tix migrate: copied into %s; every table's rows and digest are the same "
		        "on both sides\n",
		        store_path_is_url(to) ? "the PostgreSQL database" : to);
	}
	store_close(dst);
	store_close(src);
	return rc;
}
