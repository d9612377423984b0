/*
 * cli/cmd_backup.c — `tix backup FILE`, `tix restore FILE` and `tix
 * verify-store`: consistent copies of a store (also while it serves), a
 * store put back from one, and the checks an operator runs on either.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"

static void usage_backup(FILE *f)
{
	fprintf(f, "usage: tix backup [--db PATH] [--with-secret] FILE\n\n"
	           "Writes a consistent copy of the store to FILE, a new file (mode 0600; an\n"
	           "existing file is never overwritten), with SQLite's online backup API: safe\n"
	           "while `tix serve` reads and writes. The copy appears under its name only\n"
	           "when complete.\n\n"
	           "  --with-secret  keep the node secret in the copy. Without it (the default)\n"
	           "                 the copy cannot check API keys: a store restored from it\n"
	           "                 makes a new secret and every API key is issued again;\n"
	           "                 passwords work as before. A copy with the secret is as\n"
	           "                 sensitive as the store: keep it encrypted.\n");
}

static void usage_restore(FILE *f)
{
	fprintf(f, "usage: tix restore [--db PATH] [--force] FILE\n\n"
	           "Puts the store back from FILE (made by `tix backup`): the copy is checked\n"
	           "(SQLite's integrity check, a schema this tix can read) and written into the\n"
	           "store in one transaction, then migrated to this tix's schema. Stop `tix\n"
	           "serve` first. A store that is not empty is replaced only with --force.\n"
	           "When FILE holds no node secret a new one is made and the API keys of the\n"
	           "copy, which can no longer be checked, are removed and listed: issue new\n"
	           "ones with `tix admin key add --user NAME`.\n");
}

static void usage_verify(FILE *f)
{
	fprintf(f, "usage: tix verify-store [--db PATH]\n\n"
	           "Checks a store without changing it: SQLite's integrity check and its\n"
	           "foreign keys, the schema version, and the audit log's hash chain. Exit 0\n"
	           "when all is well, 1 naming each problem, 3 when the store cannot be opened.\n");
}

/* Parses [--db PATH] [--help] and the flag `flag` (NULL: none). Returns
 * -1 to go on, else an exit code. */
static int parse(int argc, char **argv, const char *flag, void (*usage)(FILE *), const char **db,
                 int *flag_set, int nargs)
{
	const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"help", no_argument, NULL, 'h'},
	        {flag ? flag : "help", no_argument, NULL, flag ? 'f' : 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': *db = optarg; break;
		case 'f': *flag_set = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != nargs) {
		fprintf(stderr, "tix %s: %s\n", argv[0],
		        nargs ? "needs one FILE" : "takes no arguments");
		usage(stderr);
		return EXIT_USAGE;
	}
	*db = cli_db_path(*db);
	return -1;
}

/* An existing store, never created by a command that only reads it. */
static struct store *open_existing(const char *cmd, const char *db)
{
	struct store_options so = {0, 0};
	struct tix_error err;
	struct store *s;

	/* A URL names a database, not a file: store_open says whether it can. */
	if (!store_path_is_url(db) && access(db, F_OK) != 0) {
		fprintf(stderr, "tix %s: %s: no store there: %s\n", cmd, db, strerror(errno));
		return NULL;
	}
	tix_error_clear(&err);
	if ((s = store_open(db, &so, &err)) == NULL)
		cli_print_error(cmd, &err);
	return s;
}

static void audit(struct store *s, const char *cmd, const char *detail)
{
	struct store_audit_entry ae;
	struct tix_error err;
	struct tix_time now;
	const char *who = getenv("USER");

	tix_time_now(&now);
	ae = (struct store_audit_entry){
	        tix_time_to_us(&now), "admin", who && *who ? who : "operator", "", "", detail};
	if (store_audit_append(s, &ae, 1, &err) != TIX_OK)
		cli_print_error(cmd, &err);
}

int cmd_backup(int argc, char **argv)
{
	const char *db = NULL, *file;
	struct tix_error err;
	struct store *s;
	char detail[4200];
	struct stat st;
	int with_secret = 0, rc;

	if ((rc = parse(argc, argv, "with-secret", usage_backup, &db, &with_secret, 1)) >= 0)
		return rc;
	file = argv[optind];
	if ((s = open_existing("backup", db)) == NULL)
		return EXIT_SYSTEM;
	tix_error_clear(&err);
	if (store_backup(s, file, with_secret, &err) != TIX_OK) {
		cli_print_error("backup", &err);
		store_close(s);
		return err.code == TIX_EEXIST ? EXIT_INVALID : EXIT_SYSTEM;
	}
	snprintf(detail, sizeof(detail), "tix backup %s%s", file,
	         with_secret ? " --with-secret" : "");
	audit(s, "backup", detail);
	store_close(s);
	fprintf(stderr, "tix backup: %s: %lld bytes, %s\n", file,
	        stat(file, &st) == 0 ? (long long)st.st_size : -1LL,
	        with_secret ? "with the node secret (keep it as safe as the store)"
	                    : "without the node secret (API keys must be issued again after a "
	                      "restore; --with-secret keeps them)");
	return 0;
}

struct dead_keys {
	struct tix_buf ids; /* NUL-separated key ids */
	struct tix_buf text;
	size_t n;
};

static int note_key(void *arg, const struct store_apikey *k)
{
	struct dead_keys *d = arg;

	tix_buf_add(&d->ids, k->key_id, strlen(k->key_id) + 1);
	tix_buf_addf(&d->text, "\n  %s (user %s)", k->key_id, k->user);
	d->n++;
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	struct store_backup_info info;
	struct dead_keys dk;
	const char *db = NULL, *file;
	unsigned char secret[32];
	struct tix_error err;
	struct store *s;
	struct stat st;
	char detail[4200];
	int force = 0, rc;

	if ((rc = parse(argc, argv, "force", usage_restore, &db, &force, 1)) >= 0)
		return rc;
	file = argv[optind];
	tix_error_clear(&err);
	if (store_backup_check(file, &info, &err) != TIX_OK) {
		cli_print_error("restore", &err);
		return cli_exit_code(err.code);
	}
	if (!force && stat(db, &st) == 0 && st.st_size > 0) {
		fprintf(stderr,
		        "tix restore: %s: a store is there already; give --force to replace it "
		        "with %s (stop `tix serve` first)\n",
		        db, file);
		return EXIT_INVALID;
	}
	if (cli_make_store_dir(db) != 0)
		return EXIT_SYSTEM;
	if (store_restore(file, db, &err) != TIX_OK) {
		cli_print_error("restore", &err);
		return cli_exit_code(err.code);
	}
	/* Migrates a copy made by an older tix. */
	if ((s = cli_open_store(db)) == NULL)
		return EXIT_SYSTEM;
	memset(&dk, 0, sizeof(dk));
	tix_buf_init(&dk.ids, TIX_BUF_UNLIMITED);
	tix_buf_init(&dk.text, TIX_BUF_UNLIMITED);
	rc = 0;
	if (!info.has_secret) {
		/* The copy's key digests were keyed with a secret that is gone:
		 * those keys can never be checked again. */
		if (store_node_secret(s, secret, &err) != TIX_OK ||
		    store_apikey_list(s, NULL, note_key, &dk, &err) != TIX_OK) {
			cli_print_error("restore", &err);
			rc = EXIT_SYSTEM;
		}
		sodium_memzero(secret, sizeof(secret));
		for (size_t at = 0; rc == 0 && at < tix_buf_len(&dk.ids);) {
			const char *id = tix_buf_str(&dk.ids) + at;

			if (store_apikey_remove(s, id, &err) != TIX_OK) {
				cli_print_error("restore", &err);
				rc = EXIT_SYSTEM;
			}
			at += strlen(id) + 1;
		}
	}
	snprintf(detail, sizeof(detail), "tix restore %s%s", file,
	         info.has_secret ? "" : " (no node secret in the copy: a new one was made)");
	audit(s, "restore", detail);
	store_close(s);
	if (rc == 0) {
		fprintf(stderr, "tix restore: %s restored from %s (schema %d%s)\n", db, file,
		        info.schema, info.schema < store_schema_version() ? ", migrated" : "");
		if (!info.has_secret)
			fprintf(stderr,
			        "tix restore: the backup held no node secret: a new one was made. "
			        "Passwords work as before; the %zu API key%s of the copy cannot be "
			        "checked any more and %s removed:%s\n"
			        "Issue new ones with `tix admin key add --user NAME`.\n",
			        dk.n, dk.n == 1 ? "" : "s", dk.n == 1 ? "was" : "were",
			        dk.n ? tix_buf_str(&dk.text) : " (none)");
	}
	tix_buf_release(&dk.ids);
	tix_buf_release(&dk.text);
	return rc;
}

static int print_problem(void *arg, const char *problem)
{
	(void)arg;
	printf("FAIL integrity: %s\n", problem);
	return 0;
}

int cmd_verify_store(int argc, char **argv)
{
	const char *db = NULL;
	struct tix_error err;
	struct store *s;
	size_t problems = 0;
	int64_t entries = 0, bad = 0;
	int unused = 0, rc, secret;
	enum tix_err e;

	if ((rc = parse(argc, argv, NULL, usage_verify, &db, &unused, 0)) >= 0)
		return rc;
	if ((s = open_existing("verify-store", db)) == NULL)
		return EXIT_SYSTEM;
	rc = 0;
	tix_error_clear(&err);
	if (store_is_postgres(s)) {
		/* store_check_report refuses, naming pg_amcheck: said, then the
		 * checks that do apply. */
		store_check_report(s, print_problem, NULL, &problems, &err);
		printf("skip integrity: %s\n", err.msg);
	} else if (store_check_report(s, print_problem, NULL, &problems, &err) != TIX_OK) {
		cli_print_error("verify-store", &err);
		store_close(s);
		return EXIT_SYSTEM;
	} else if (problems == 0)
		printf("ok   integrity: SQLite's integrity check and foreign keys\n");
	else
		rc = EXIT_INVALID;
	printf("ok   schema %d (this tix writes %d)\n", store_schema_version(),
	       store_schema_version());
	e = store_audit_verify(s, &entries, &bad, &err);
	if (e == TIX_OK) {
		printf("ok   audit log: %lld entries, the hash chain is intact\n",
		       (long long)entries);
	} else if (e == TIX_EINVAL) {
		printf("FAIL audit log: broken at entry %lld: %s\n", (long long)bad, err.msg);
		rc = EXIT_INVALID;
	} else {
		printf("FAIL audit log: %s\n", err.msg);
		rc = EXIT_INVALID;
	}
	secret = store_has_node_secret(s);
	printf("%s node secret: %s\n", secret >= 0 ? "ok  " : "FAIL",
	       secret > 0    ? "present"
	       : secret == 0 ? "none yet (made on first use; API keys need it)"
	                     : "cannot be read");
	if (secret < 0)
		rc = EXIT_INVALID;
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	if (rc == 0)
		printf("%s: the store is sound\n", store_name(s, db));
	store_close(s);
	return rc;
}
