/*
 * cli/args.c — helpers every subcommand uses: where the store is, opening
 * it, reading input with a size limit, and turning errors into messages
 * and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "taxii/taxii.h"

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path)
{
	char dir[4096];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int cli_make_store_dir(const char *path)
{
	if (store_path_is_url(path))
		return 0; /* a database (store_open refuses a scheme it does not know) */
	if (make_parent_dirs(path) == 0)
		return 0;
	fprintf(stderr, "tix: %s: cannot create the store's directory: %s\n", path,
	        strerror(errno));
	return -1;
}

struct store *cli_open_store(const char *path)
{
	struct tix_error err;
	struct store *s;

	tix_error_clear(&err);
	if (cli_make_store_dir(path) != 0)
		return NULL;
	s = store_open(path, NULL, &err);
	if (s == NULL)
		cli_print_error(NULL, &err);
	return s;
}

struct store *cli_open_existing_store(const char *path)
{
	struct stat st;

	if (!store_path_is_url(path) && stat(path, &st) != 0 && errno == ENOENT) {
		fprintf(stderr, "tix: no store at %s (tix import or tix admin creates one)\n",
		        path);
		return NULL;
	}
	return cli_open_store(path);
}

int cli_exit_code(enum tix_err e)
{
	switch (e) {
	case TIX_OK: return 0;
	case TIX_EPARSE:
	case TIX_EINVAL:
	case TIX_ETOOBIG:
	case TIX_ENOTFOUND:
	case TIX_EEXIST:
	case TIX_EDENIED: return EXIT_INVALID;
	case TIX_EUSAGE: return EXIT_USAGE;
	default: return EXIT_SYSTEM;
	}
}

void cli_print_error(const char *cmd, const struct tix_error *err)
{
	char buf[800];

	fprintf(stderr, "tix%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "",
	        tix_error_str(err, buf, sizeof(buf)));
}

int cli_verb_operand(const char *tool, int argc, char **argv, const char **operand)
{
	*operand = NULL;
	if (optind + 1 < argc) {
		fprintf(stderr, "tix %s %s: one argument at most\n", tool, argv[0]);
		return -1;
	}
	if (optind < argc)
		*operand = argv[optind];
	return 0;
}

int cli_clock_now(const char *cmd, int64_t *now_us)
{
	const char *s = getenv("TIX_NOW");
	struct tix_time t;
	struct tix_error err;

	if (s && *s) {
		if (tix_time_parse(s, &t, &err) != TIX_OK) {
			fprintf(stderr, "tix %s: TIX_NOW: '%s': %s\n", cmd, s, err.msg);
			return -1;
		}
	} else {
		tix_time_now(&t);
	}
	*now_us = tix_time_to_us(&t);
	return 0;
}

int cli_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

enum tix_err cli_read_input(const char *path, size_t max, char **data, size_t *len,
                            struct tix_error *err)
{
	int fd = 0, is_stdin = strcmp(path, "-") == 0;
	struct stat st;
	struct tix_buf b;
	char chunk[65536];
	ssize_t n;

	*data = NULL;
	*len = 0;
	if (!is_stdin && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return tix_error_set(err, TIX_EIO, path, "is a directory");
	}
	if (!is_stdin && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
		close(fd);
		return tix_error_set(err, TIX_ETOOBIG, path,
		                     "the file has %lld bytes, over the limit of %zu (--max-size)",
		                     (long long)st.st_size, max);
	}
	tix_buf_init(&b, max);
	/* A regular file is read into one allocation of its size. */
	if (!is_stdin && S_ISREG(st.st_mode) && tix_buf_reserve(&b, (size_t)st.st_size) != TIX_OK) {
		close(fd);
		return tix_error_set(err, TIX_ENOMEM, path, "out of memory");
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tix_error_set(err, TIX_EIO, path, "read failed: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (tix_buf_add(&b, chunk, (size_t)n) != TIX_OK) {
			tix_error_set(err, TIX_ETOOBIG, is_stdin ? "<stdin>" : path,
			              "input over the limit of %zu bytes (--max-size)", max);
			goto fail;
		}
	}
	if (!is_stdin)
		close(fd);
	*data = tix_buf_detach(&b, len);
	return TIX_OK;
fail:
	if (!is_stdin)
		close(fd);
	tix_buf_release(&b);
	return err->code;
}

int cli_policy_node(struct store *s, struct policy_node *n)
{
	struct tix_error err;

	if (taxii_node_settings(s, n, &err) != TIX_OK) {
		fprintf(stderr, "tix: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int cli_getopt(int argc, char **argv, const struct option *longopts, int *longindex)
{
	const char *cmd = argv[0];
	const char *pre = strncmp(cmd, "tix", 3) == 0 ? "" : "tix ";
	int ch;

	opterr = 0;
	ch = getopt_long(argc, argv, "", longopts, longindex);
	if (ch != '?')
		return ch;
	if (optopt != 0) {
		/* A known option without its value, or an unknown short one. */
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

		for (int i = 0; longopts[i].name; i++)
			if (longopts[i].val == optopt) {
				fprintf(stderr, "%s%s: option --%s %s\n", pre, cmd,
				        longopts[i].name,
				        longopts[i].has_arg == no_argument && strchr(arg, '=')
				                ? "takes no value"
				                : "needs a value");
				return '?';
			}
		fprintf(stderr, "%s%s: unknown option '-%c'\n", pre, cmd, optopt);
		return '?';
	} else {
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
		char name[64];
		const char *names[64], *near;
		size_t n = 0, len;

		/* The name without dashes and without "=value". */
		while (*arg == '-')
			arg++;
		len = strcspn(arg, "=");
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, arg, len);
		name[len] = '\0';
		for (int i = 0; longopts[i].name && n < 64; i++)
			if (strncmp(longopts[i].name, name, len) == 0)
				names[n++] = longopts[i].name;
		if (n > 1 && len > 0) {
			fprintf(stderr, "%s%s: option --%s is ambiguous:", pre, cmd, name);
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, " --%s", names[i]);
			fputc('\n', stderr);
			return '?';
		}
		n = 0;
		for (int i = 0; longopts[i].name && n < 64; i++)
			names[n++] = longopts[i].name;
		near = tix_nearest(name, names, n);
		if (near)
			fprintf(stderr, "%s%s: unknown option '--%s'; did you mean --%s?\n", pre,
			        cmd, name, near);
		else
			fprintf(stderr, "%s%s: unknown option '--%s'\n", pre, cmd, name);
	}
	return '?';
}
