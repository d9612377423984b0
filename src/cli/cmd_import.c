/*
 * cli/cmd_import.c — `tix import`: validates STIX documents and stores
 * their objects, one transaction per file, so a file is stored whole or
 * not at all (unless --skip-invalid asks to keep the valid part).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "match/match.h"
#include "pattern/pattern.h"

#define DEFAULT_MAX_SIZE ((size_t)1 << 30)
#define MAX_REPORTED     50 /* invalid objects described in full per file */

struct import_opts {
	const char *collection;
	const char *org;
	int skip_invalid;
	const char *rejects_path;
	FILE *rejects;
	size_t max_size;
	int strict;
	int quiet;
	struct match_warninglists *warn; /* --warninglists, or NULL */
	size_t flagged;
};

struct import_counts {
	size_t objects, added, unchanged, invalid;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix import [--db PATH] [--collection NAME|ID] [--org NAME]\n"
	        "                  [--skip-invalid [--rejects FILE]] [--strict] [--max-size N]\n"
	        "                  [--quiet] FILE...|-\n\n"
	        "Validates each FILE (a STIX 2.1 bundle, a JSON array of objects, or one object;\n"
	        "'-' reads standard input) and stores its objects. A file is atomic: if any object\n"
	        "is invalid, each is reported and nothing from that file is stored.\n\n"
	        "  --collection C   also add the objects to collection C (a title or an id;\n"
	        "                   a new title creates the collection)\n"
	        "  --org NAME       record NAME as the organisation that wrote these versions\n"
	        "  --skip-invalid   store the valid objects and skip the invalid ones\n"
	        "  --rejects FILE   with --skip-invalid, write each rejected object and its\n"
	        "                   reasons to FILE as JSON lines\n"
	        "  --strict         also enforce SHOULD rules (UUIDv4 ids, known hash names)\n"
	        "  --max-size N     refuse files larger than N bytes (default 1G; K, M, G)\n"
	        "  --quiet          print only errors\n"
	        "  --warninglists P warn about each indicator on a MISP warninglist (a list.json\n"
	        "                   or a directory of them; repeatable)\n");
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_reject(struct import_opts *o, const char *file, const char *path,
                         const json_t *obj, const char *const *msgs, size_t n)
{
	json_t *line, *errs;

	if (o->rejects == NULL)
		return;
	line = json_object();
	errs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(errs, json_string(msgs[i]));
	json_object_set_new(line, "file", json_string(file));
	json_object_set_new(line, "path", json_string(path));
	json_object_set_new(line, "errors", errs);
	json_object_set(line, "object", (json_t *)obj);
	json_dumpf(line, o->rejects, JSON_COMPACT);
	fputc('\n', o->rejects);
	json_decref(line);
}

/* Imports one file. Returns an exit code. */
static int import_file(struct store *s, struct import_opts *o, const char *file,
                       struct import_counts *total)
{
	const char *name = strcmp(file, "-") == 0 ? "<stdin>" : file;
	struct import_counts c = {0, 0, 0, 0};
	struct stix_validate_opts vopts = {o->strict, pattern_check};
	struct stix_problems probs;
	struct stix_reader *r = NULL;
	struct store_collection coll, *collp = NULL;
	struct tix_error err;
	struct tix_buf body, ids; /* ids: "\nID\nID\n", the versions added, for the audit log */
	char *data = NULL;
	size_t len;
	int rc = EXIT_SYSTEM, in_tx = 0, progress = isatty(2) && !o->quiet;
	double started = now_seconds(), last_progress = started;
	enum tix_err e;

	tix_error_clear(&err);
	stix_problems_init(&probs);
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	tix_buf_init(&ids, TIX_BUF_UNLIMITED);
	if ((e = cli_read_input(file, o->max_size, &data, &len, &err)) != TIX_OK) {
		rc = cli_exit_code(e);
		cli_print_error("import", &err);
		goto out;
	}
	if ((e = stix_reader_open(data, len, name, &r, &err)) != TIX_OK) {
		rc = cli_exit_code(e);
		cli_print_error("import", &err);
		goto out;
	}
	if (store_begin(s, &err) != TIX_OK) { /* EXIT_SYSTEM */
		cli_print_error("import", &err);
		goto out;
	}
	in_tx = 1;
	if (o->collection) {
		if ((e = store_collection_get(s, o->collection, 1, &coll, &err)) != TIX_OK) {
			rc = cli_exit_code(e);
			cli_print_error("import", &err);
			goto out;
		}
		collp = &coll;
	}
	for (;;) {
		json_t *obj;
		const char *path, *raw;
		size_t rawlen;
		struct stix_meta meta;
		struct store_source src;
		int64_t vid;
		int added, had_id;

		if ((e = stix_reader_peek(r, &raw, &rawlen, &path, &err)) != TIX_OK)
			goto bad_document;
		if (raw == NULL)
			break;
		/* Bytes stored before were valid then and are valid now: no need
		 * to parse them again (a feed re-published whole costs a digest
		 * and a lookup per object). */
		if (rawlen > 0) {
			store_source_digest(raw, rawlen, &src);
			if (store_find_source(s, &src, o->org, &vid) == 1) {
				if ((e = stix_reader_skip(r, &err)) != TIX_OK)
					goto bad_document;
				c.objects++;
				added = 0;
				if (collp &&
				    store_collection_add(s, collp, vid, &added, &err) != TIX_OK) {
					cli_print_error("import", &err);
					goto out;
				}
				if (added)
					c.added++;
				else
					c.unchanged++;
				continue;
			}
		}
		if ((e = stix_reader_take(r, &obj, &err)) != TIX_OK)
			goto bad_document;
		c.objects++;
		stix_problems_reset(&probs);
		/* The stored text is the bytes as sent, minified, unless tix
		 * changed the object (an SCO given its id). */
		had_id = json_object_get(obj, "id") != NULL;
		if (stix_sco_ensure_id(obj, &err) != TIX_OK ||
		    stix_validate(obj, path, &vopts, &probs) > 0) {
			const char *id = json_string_value(json_object_get(obj, "id"));

			c.invalid++;
			if (c.invalid <= MAX_REPORTED) {
				for (size_t i = 0; i < probs.count; i++)
					fprintf(stderr, "%s: %s%s%s%s\n", name, probs.msgs[i],
					        id ? " (" : "", id ? id : "", id ? ")" : "");
				if (probs.dropped)
					fprintf(stderr, "%s: %s: ... and %zu more problems\n", name,
					        path, probs.dropped);
			}
			write_reject(o, name, path, obj, (const char *const *)probs.msgs,
			             probs.count);
			json_decref(obj);
			continue;
		}
		if (c.invalid > 0 && !o->skip_invalid) {
			json_decref(obj); /* the file is rejected; keep validating to report all */
			continue;
		}
		if (o->warn &&
		    strcmp(json_string_value(json_object_get(obj, "type")), "indicator") == 0) {
			const char *wl = match_warninglists_check_indicator(o->warn, obj);
			const char *iname = json_string_value(json_object_get(obj, "name"));

			if (wl) {
				o->flagged++;
				fprintf(stderr,
				        "%s: warning: %s%s%s%s is on warninglist \"%s\": `tix match` "
				        "suppresses its matches\n",
				        name, json_string_value(json_object_get(obj, "id")),
				        iname ? " (" : "", iname ? iname : "", iname ? ")" : "",
				        wl);
			}
		}
		if (stix_meta_get(obj, &meta, &err) != TIX_OK) {
			json_decref(obj);
			cli_print_error("import", &err);
			goto out;
		}
		if (store_has_version(s, &meta, o->org) == 1) {
			/* Stored before in other bytes: remember these bytes too,
			 * and the collection, without serialising anything. */
			e = store_link(s, &meta, o->org, collp, rawlen > 0 ? &src : NULL, &added,
			               &err);
		} else {
			tix_buf_reset(&body);
			if ((had_id && rawlen > 0 ? stix_json_minify(raw, rawlen, &body)
			                          : stix_json_dump(obj, &body)) != TIX_OK) {
				json_decref(obj);
				tix_error_set(&err, TIX_ENOMEM, name, "out of memory");
				cli_print_error("import", &err);
				goto out;
			}
			e = store_put(s, &meta, tix_buf_str(&body), tix_buf_len(&body), o->org,
			              collp, rawlen > 0 ? &src : NULL, &added, &err);
			if (e == TIX_OK && added) {
				if (tix_buf_len(&ids) == 0)
					tix_buf_addc(&ids, '\n');
				tix_buf_adds(&ids, meta.id);
				tix_buf_addc(&ids, '\n');
			}
		}
		if (e == TIX_EDENIED) {
			/* The write rules (docs/policy.md): refused like an invalid
			 * object, with the reason; nothing of it was stored. */
			char reason[700];
			const char *msgs[1] = {reason};

			snprintf(reason, sizeof(reason), "%s: %s", err.where, err.msg);
			c.invalid++;
			if (c.invalid <= MAX_REPORTED)
				fprintf(stderr, "%s: %s: %s\n", name, path, reason);
			write_reject(o, name, path, obj, msgs, 1);
			json_decref(obj);
			continue;
		}
		json_decref(obj); /* meta borrows from obj: release it only now */
		if (e != TIX_OK) {
			cli_print_error("import", &err);
			goto out;
		}
		if (added)
			c.added++;
		else
			c.unchanged++;
		if (progress && (c.objects & 1023) == 0 && now_seconds() - last_progress > 0.5) {
			last_progress = now_seconds();
			fprintf(stderr, "\r%s: %zu objects (%.0f%%)...", name, c.objects,
			        len ? 100.0 * (double)stix_reader_offset(r) / (double)len : 100.0);
		}
	}
	if (0) {
	bad_document:
		rc = cli_exit_code(e);
		cli_print_error("import", &err);
		fprintf(stderr, "tix import: %s: rejected; nothing from this file was stored\n",
		        name);
		goto out;
	}
	if (progress && last_progress != started)
		fprintf(stderr, "\r\033[K");
	if (c.invalid > MAX_REPORTED)
		fprintf(stderr, "%s: ... %zu more invalid objects not shown\n", name,
		        c.invalid - MAX_REPORTED);
	if (c.invalid > 0 && !o->skip_invalid) {
		fprintf(stderr,
		        "tix import: %s: rejected: %zu of %zu objects invalid; nothing from this "
		        "file was stored\n",
		        name, c.invalid, c.objects);
		rc = EXIT_INVALID;
		goto out;
	}
	if (tix_buf_len(&ids) > 0) {
		/* The versions written and their audit entry commit together, as
		 * for a TAXII write. */
		struct store_audit_entry ae;
		struct tix_time now;
		char detail[1024];
		const char *who = getenv("USER");

		snprintf(detail, sizeof(detail), "tix import %s%s%s%s%s", name,
		         collp ? " --collection " : "", collp ? collp->title : "",
		         o->org ? " --org " : "", o->org ? o->org : "");
		tix_time_now(&now);
		ae = (struct store_audit_entry){
		        tix_time_to_us(&now), "write",           who && *who ? who : "operator",
		        o->org ? o->org : "", tix_buf_str(&ids), detail};
		if (store_audit_append(s, &ae, 1, &err) != TIX_OK) {
			cli_print_error("import", &err);
			goto out;
		}
	}
	if (store_commit(s, &err) != TIX_OK) {
		in_tx = 0;
		cli_print_error("import", &err);
		goto out;
	}
	in_tx = 0;
	if (!o->quiet) {
		int64_t unknown = 0;

		fprintf(stderr,
		        "%s: %zu objects: %zu added, %zu unchanged, %zu invalid skipped%s%s%s (%.2f s)\n",
		        name, c.objects, c.added, c.unchanged, c.invalid,
		        collp ? "; collection '" : "", collp ? collp->title : "", collp ? "'" : "",
		        now_seconds() - started);
		if (store_unknown_markings(s, &unknown, NULL) == TIX_OK && unknown > 0)
			fprintf(stderr,
			        "%s: %lld stored versions refer to a marking this node does not "
			        "know (readable as TLP:AMBER+STRICT at most until it arrives)\n",
			        name, (long long)unknown);
	}
	rc = 0;
out:
	if (in_tx)
		store_rollback(s);
	total->objects += c.objects;
	total->added += c.added;
	total->unchanged += c.unchanged;
	total->invalid += c.invalid;
	stix_reader_close(r);
	stix_problems_release(&probs);
	tix_buf_release(&body);
	tix_buf_release(&ids);
	free(data);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"collection", required_argument, NULL, 'c'},
	        {"org", required_argument, NULL, 'o'},
	        {"skip-invalid", no_argument, NULL, 's'},
	        {"rejects", required_argument, NULL, 'r'},
	        {"strict", no_argument, NULL, 'S'},
	        {"max-size", required_argument, NULL, 'm'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"warninglists", required_argument, NULL, 'w'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct import_opts o = {0};
	struct import_counts total = {0, 0, 0, 0};
	const char *db = NULL;
	struct store *s;
	int ch, rc = 0, stdin_seen = 0;

	o.max_size = DEFAULT_MAX_SIZE;
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'c': o.collection = optarg; break;
		case 'o': o.org = optarg; break;
		case 's': o.skip_invalid = 1; break;
		case 'r': o.rejects_path = optarg; break;
		case 'S': o.strict = 1; break;
		case 'q': o.quiet = 1; break;
		case 'w': {
			struct tix_error werr;

			if (o.warn == NULL && (o.warn = match_warninglists_new()) == NULL)
				return EXIT_SYSTEM;
			if (match_warninglists_load(o.warn, optarg, &werr) != TIX_OK) {
				cli_print_error("import", &werr);
				match_warninglists_free(o.warn);
				return EXIT_USAGE;
			}
			break;
		}
		case 'm':
			if (cli_parse_size(optarg, &o.max_size) != 0) {
				fprintf(stderr, "tix import: --max-size: '%s' is not a size\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tix import: no FILE given ('-' reads standard input)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.rejects_path && !o.skip_invalid) {
		fprintf(stderr, "tix import: --rejects goes with --skip-invalid\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0 && stdin_seen++) {
			fprintf(stderr, "tix import: '-' given more than once\n");
			return EXIT_USAGE;
		}
	if ((s = cli_open_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	if (o.rejects_path && (o.rejects = fopen(o.rejects_path, "w")) == NULL) {
		fprintf(stderr, "tix import: %s: cannot write the rejects file\n", o.rejects_path);
		store_close(s);
		return EXIT_SYSTEM;
	}
	for (int i = optind; i < argc; i++) {
		int r = import_file(s, &o, argv[i], &total);

		if (r > rc)
			rc = r;
	}
	if (argc - optind > 1 && !o.quiet)
		fprintf(stderr, "total: %zu objects: %zu added, %zu unchanged, %zu invalid\n",
		        total.objects, total.added, total.unchanged, total.invalid);
	if (o.rejects && fclose(o.rejects) != 0) {
		fprintf(stderr, "tix import: %s: writing the rejects file failed\n",
		        o.rejects_path);
		rc = EXIT_SYSTEM;
	}
	if (o.warn && !o.quiet)
		fprintf(stderr, "%zu indicators on MISP warninglists (stored, flagged)\n",
		        o.flagged);
	match_warninglists_free(o.warn);
	store_close(s);
	return rc;
}
