/*
 * cli/cmd_import.c — `tix import`: validates STIX documents and stores
 * their objects, one transaction per file, so a file is stored whole or
 * not at all (unless --skip-invalid asks to keep the valid part).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/formats.h"
#include "match/match.h"
#include "pattern/pattern.h"
#include "sync/sync.h"

#define DEFAULT_MAX_SIZE ((size_t)1 << 30)
#define MAX_REPORTED     50 /* invalid objects described in full per file */
/* The page cache while one file is imported: half the file's size, and
 * half of what the import has given back of the file's bytes so far
 * (release_read), between the store's usual 16 MiB and 1 GiB. A stored
 * object's entries in the random-key indexes (id, owner, source digest,
 * modified, values) take about 0.6 of its bytes: with half the file alone
 * a 1M-object file missed the cache on most inserts near its end, each miss
 * a read back through a WAL as large as the file. Memory stays within the
 * file plus half of it (as before), as every byte given back pays for the
 * half byte of cache that replaces it. */
#define IMPORT_CACHE_KIB_MIN STORE_CACHE_KIB
#define IMPORT_CACHE_KIB_MAX (1024 * 1024)
/* The file's bytes already imported are given back this many at a time. */
#define RELEASE_STEP ((size_t)8 << 20)

static int import_cache_kib(size_t len, size_t released)
{
	size_t kib = len / 2 / 1024 + released / 2 / 1024;

	return kib < IMPORT_CACHE_KIB_MIN   ? IMPORT_CACHE_KIB_MIN
	       : kib > IMPORT_CACHE_KIB_MAX ? IMPORT_CACHE_KIB_MAX
	                                    : (int)kib;
}

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
	int repair;               /* --repair */
	const char *repairs_path; /* --repairs FILE, else standard error */
	FILE *repairs;
	size_t repaired;
	enum formats_kind format;      /* --format (auto unless told) */
	struct formats_text_opts text; /* --format csv|list */
	int have_map;
	int from_misp; /* this file was converted from MISP (convert_input) */
};

struct import_counts {
	size_t objects, added, unchanged, invalid;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix import [--db PATH] [--collection NAME|ID] [--org NAME]\n"
	        "                  [--skip-invalid [--rejects FILE]] [--strict] [--max-size N]\n"
	        "                  [--quiet] [--format auto|stix|misp|csv|list] [--repair]\n"
	        "                  FILE...|DIR|-\n\n"
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
	        "                   or a directory of them; repeatable)\n"
	        "  --format F       auto (default: STIX or MISP JSON by content), stix, misp,\n"
	        "                   csv or list (docs/formats.md)\n"
	        "  --map type=N,value=N[,first_seen=N,last_seen=N,description=N,labels=N,name=N]\n"
	        "                   CSV columns (1-based); the type is inferred where not mapped\n"
	        "  --header         CSV: the first record is a header\n"
	        "  --delimiter C    CSV: the field separator (default ',')\n"
	        "  --type T         list (and CSV without a type column): domain-name, ipv4-addr,\n"
	        "                   ipv6-addr, url, email-addr, file-md5, file-sha1, file-sha256\n"
	        "  --observables    CSV/list: also write observed-data with the observable\n"
	        "  --source NAME    CSV/list: the source, recorded on each indicator (created_by_ref)\n"
	        "  --tlp LEVEL      CSV/list: mark each object clear|green|amber|amber+strict|red\n"
	        "  --repair         fix what does not change meaning (empty optional lists and\n"
	        "                   custom strings removed, URLs trimmed), one JSON line per\n"
	        "                   repaired object on standard error (or --repairs FILE)\n");
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

struct convert_ctx {
	struct import_opts *o;
	const char *file;
	size_t shown;
};

static void convert_say(void *ctx, int is_error, const char *where, const char *msg)
{
	struct convert_ctx *cc = ctx;

	if (cc->shown++ < MAX_REPORTED)
		fprintf(stderr, "%s: %s%s\n", where, is_error ? "" : "warning: ", msg);
	if (is_error && cc->o->rejects) {
		json_t *line = json_pack("{s:s,s:s,s:[s]}", "file", cc->file, "path", where,
		                         "errors", msg);

		json_dumpf(line, cc->o->rejects, JSON_COMPACT);
		fputc('\n', cc->o->rejects);
		json_decref(line);
	}
}

/* Turns MISP, CSV and list input into a STIX bundle (src/formats/), in
 * place of *data. Records it refused count as invalid objects: with any,
 * the file is rejected unless --skip-invalid. */
static enum tix_err convert_input(struct import_opts *o, const char *name, const char *file,
                                  char **data, size_t *len, struct import_counts *c,
                                  struct tix_error *err)
{
	enum formats_kind k = o->format;
	struct convert_ctx cc = {o, name, 0};
	struct formats_log log = {convert_say, &cc, 0, 0};
	struct tix_buf out;
	size_t count = 0;
	enum tix_err e;

	if (k == FORMATS_AUTO)
		k = formats_detect(*data, *len);
	if (k == FORMATS_AUTO && o->text.type == FV_NONE && !o->have_map) {
		size_t i = 0;

		while (i < *len && strchr(" \t\r\n", (*data)[i]) != NULL)
			i++;
		/* nothing, or a JSON scalar: the STIX reader says what is wrong */
		if (i == *len || strchr("0123456789-\"tfn", (*data)[i]) != NULL)
			return TIX_OK;
		return tix_error_set(err, TIX_EINVAL, name,
		                     "not JSON (STIX or MISP): for text give --format csv --map "
		                     "value=N,... or --format list --type TYPE");
	}
	if (k == FORMATS_AUTO)
		k = o->text.type != FV_NONE ? FORMATS_LIST : FORMATS_CSV;
	o->from_misp = k == FORMATS_MISP;
	if (k == FORMATS_STIX)
		return TIX_OK;
	tix_buf_init(&out, TIX_BUF_UNLIMITED);
	if (k != FORMATS_MISP && o->text.timestamp == NULL) {
		static char when[32];
		struct stat st;
		struct tix_time t;

		/* the file's time: the same file imported again changes nothing */
		if (strcmp(file, "-") != 0 && stat(file, &st) == 0)
			t = (struct tix_time){st.st_mtime, 0, 3};
		else
			tix_time_now(&t);
		t.nsec = 0;
		tix_time_format(&t, 3, when);
		o->text.timestamp = when;
	}
	if (k == FORMATS_MISP)
		e = formats_misp_to_stix(*data, *len, name, &out, &count, &log, err);
	else if (k == FORMATS_CSV)
		e = formats_csv_to_stix(*data, *len, name, &o->text, &out, &count, &log, err);
	else
		e = formats_list_to_stix(*data, *len, name, &o->text, &out, &count, &log, err);
	o->text.timestamp = NULL; /* each file its own time */
	if (e != TIX_OK) {
		tix_buf_release(&out);
		return e;
	}
	if (cc.shown > MAX_REPORTED)
		fprintf(stderr, "%s: ... %zu more problems not shown\n", name,
		        cc.shown - MAX_REPORTED);
	c->invalid += log.errors;
	if (log.errors > 0 && !o->skip_invalid) {
		fprintf(stderr,
		        "tix import: %s: rejected: %zu %s records invalid; nothing from this file was "
		        "stored\n",
		        name, log.errors, formats_kind_name(k));
		tix_buf_release(&out);
		return tix_error_set(err, TIX_EINVAL, name, "invalid records");
	}
	free(*data);
	*data = tix_buf_detach(&out, len);
	return TIX_OK;
}

/* Gives the pages of data the reader has gone past back to the system
 * (every RELEASE_STEP bytes), and half of them to the page cache
 * (import_cache_kib). Called between objects, when nothing refers to the
 * bytes behind. */
static void release_read(struct store *s, struct stix_reader *r, char *data, size_t len,
                         size_t *released)
{
	size_t upto = stix_reader_offset(r);
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), from, to;

	if (upto < *released + RELEASE_STEP || page == 0)
		return;
	stix_reader_release(r, upto);
	from = ((uintptr_t)data + *released + page - 1) / page * page;
	to = ((uintptr_t)data + upto) / page * page;
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED); /* zeros, if ever read */
	*released = upto;
	store_set_cache_kib(s, import_cache_kib(len, upto), NULL);
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
	size_t len, released = 0;
	int rc = EXIT_SYSTEM, in_tx = 0, progress = isatty(2) && !o->quiet;
	double started = now_seconds(), last_progress = started;
	enum tix_err e;

	tix_error_clear(&err);
	stix_problems_init(&probs);
	tix_buf_init(&body, TIX_BUF_UNLIMITED);
	tix_buf_init(&ids, TIX_BUF_UNLIMITED);
	o->from_misp = 0;
	if ((e = cli_read_input(file, o->max_size, &data, &len, &err)) != TIX_OK) {
		rc = cli_exit_code(e);
		cli_print_error("import", &err);
		goto out;
	}
	if ((e = convert_input(o, name, file, &data, &len, &c, &err)) != TIX_OK) {
		rc = e == TIX_EINVAL && c.invalid > 0 ? EXIT_INVALID : cli_exit_code(e);
		if (c.invalid == 0)
			cli_print_error("import", &err);
		goto out;
	}
	if ((e = stix_reader_open(data, len, name, &r, &err)) != TIX_OK) {
		rc = cli_exit_code(e);
		cli_print_error("import", &err);
		goto out;
	}
	/* One transaction per file: the random-key indexes it touches (id,
	 * owner, source digest, values) must stay in the page cache until the
	 * commit, or every insert reads its page back through a WAL that grows
	 * with the file (bench/ingest: 1M objects, docs/store.md). */
	if (store_set_cache_kib(s, import_cache_kib(len, 0), &err) != TIX_OK) {
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
		int added, had_id, as_sent;

		release_read(s, r, data, len, &released);
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
		if (o->from_misp) {
			/* a changed MISP event keeps its objects' first created */
			int kc = sync_misp_keep_created(s, obj, o->org);

			if (kc < 0) {
				json_decref(obj);
				tix_error_set(&err, TIX_ESTORE, name,
				              "the store could not be read");
				cli_print_error("import", &err);
				goto out;
			}
			if (kc > 0)
				rawlen = 0; /* changed: store the new text */
		}
		stix_problems_reset(&probs);
		/* The stored text is the bytes as sent, minified, unless tix
		 * changed the object (an SCO given its id). */
		had_id = json_object_get(obj, "id") != NULL;
		if (o->repair) {
			json_t *done = json_array();

			if (formats_repair(obj, done) > 0) {
				json_t *line = json_object();

				had_id = 0; /* changed: store the repaired text */
				o->repaired++;
				json_object_set_new(line, "file", json_string(name));
				json_object_set_new(line, "path", json_string(path));
				json_object_set(line, "id", json_object_get(obj, "id"));
				json_object_set(line, "repairs", done);
				json_dumpf(line, o->repairs ? o->repairs : stderr, JSON_COMPACT);
				fputc('\n', o->repairs ? o->repairs : stderr);
				json_decref(line);
			}
			json_decref(done);
		}
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
		for (size_t i = 0; i < probs.nwarns && !o->quiet; i++)
			fprintf(stderr, "%s: warning: %s (%s)\n", name, probs.warns[i],
			        json_string_value(json_object_get(obj, "id")));
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
		if (o->from_misp && formats_misp_shared_entity(meta.type) &&
		    store_id_stored(s, meta.id) == 1) {
			/* What the MISP mapping makes anew for every event that
			 * names it (the creator organisation's identity, a
			 * galaxy cluster's SDO; their created is the event's
			 * time): written once, by the first event naming it. */
			json_decref(obj);
			c.unchanged++;
			continue;
		}
		/* bytes already compact are stored as they are (they live until
		 * the file is done); others are serialised, so a version stored
		 * before in other bytes is looked for first, and only these bytes
		 * and the collection are remembered. Compact bytes go straight to
		 * store_put, which finds a stored version itself. */
		as_sent = had_id && rawlen > 0 && stix_reader_compact(r);
		if (!as_sent && store_has_version(s, &meta, o->org) == 1) {
			e = store_link(s, &meta, o->org, collp, rawlen > 0 ? &src : NULL, &added,
			               &err);
		} else {
			tix_buf_reset(&body);
			if (!as_sent &&
			    (had_id && rawlen > 0 ? stix_json_minify(raw, rawlen, &body)
			                          : stix_json_dump(obj, &body)) != TIX_OK) {
				json_decref(obj);
				tix_error_set(&err, TIX_ENOMEM, name, "out of memory");
				cli_print_error("import", &err);
				goto out;
			}
			e = store_put(s, &meta, as_sent ? raw : tix_buf_str(&body),
			              as_sent ? rawlen : tix_buf_len(&body), o->org, collp,
			              rawlen > 0 ? &src : NULL, &added, &err);
			if (e == TIX_OK && added == 1) {
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
	store_set_cache_kib(s, STORE_CACHE_KIB, NULL); /* give the file's cache back */
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

static void feed_say(void *ctx, int is_error, const char *where, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s: %s%s\n", where, is_error ? "" : "warning: ", msg);
}

/* A MISP feed directory: manifest.json, then each <uuid>.json it lists
 * whose event (grouping or report at the manifest's timestamp) is not
 * stored yet, each file atomic as any other. Returns an exit code. */
static int import_feed(struct store *s, struct import_opts *o, const char *dir,
                       struct import_counts *total)
{
	struct formats_log log = {feed_say, NULL, 0, 0};
	struct formats_feed_entry *ev = NULL;
	enum formats_kind saved = o->format;
	size_t n = 0, len, skipped = 0, missing = 0, done = 0;
	struct tix_error err;
	char path[4096], *data = NULL;
	int rc = 0;
	enum tix_err e;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if ((e = cli_read_input(path, o->max_size, &data, &len, &err)) != TIX_OK ||
	    (e = formats_misp_manifest(data, len, path, &ev, &n, &log, &err)) != TIX_OK) {
		cli_print_error("import", &err);
		free(data);
		return cli_exit_code(e);
	}
	free(data);
	if (log.errors > 0)
		rc = EXIT_INVALID;
	o->format = FORMATS_MISP;
	for (size_t i = 0; i < n; i++) {
		struct tix_time t = {ev[i].timestamp, 0, 3};
		char canon[32], id[64];
		struct stix_meta m;
		int stored;

		tix_time_canonical(&t, canon);
		memset(&m, 0, sizeof(m));
		m.id = id;
		snprintf(m.modified, sizeof(m.modified), "%s", canon);
		snprintf(id, sizeof(id), "grouping--%s", ev[i].uuid);
		m.type = "grouping";
		stored = store_has_version(s, &m, o->org) == 1;
		snprintf(id, sizeof(id), "report--%s", ev[i].uuid);
		m.type = "report";
		if (stored || store_has_version(s, &m, o->org) == 1) {
			skipped++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.json", dir, ev[i].uuid);
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "%s: the manifest lists event %s but %s.json is missing\n",
			        dir, ev[i].uuid, ev[i].uuid);
			missing++;
			if (rc < EXIT_INVALID)
				rc = EXIT_INVALID;
			continue;
		}
		{
			int r = import_file(s, o, path, total);

			if (r > rc)
				rc = r;
			done++;
		}
	}
	o->format = saved;
	if (!o->quiet)
		fprintf(stderr,
		        "%s: MISP feed: %zu events listed: %zu read, %zu already stored, %zu "
		        "missing\n",
		        dir, n, done, skipped, missing);
	free(ev);
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
	        {"format", required_argument, NULL, 'F'},
	        {"repair", no_argument, NULL, 'P'},
	        {"repairs", required_argument, NULL, 'Q'},
	        {"map", required_argument, NULL, 'M'},
	        {"header", no_argument, NULL, 'H'},
	        {"delimiter", required_argument, NULL, 'D'},
	        {"type", required_argument, NULL, 'T'},
	        {"observables", no_argument, NULL, 'O'},
	        {"source", required_argument, NULL, 'R'},
	        {"tlp", required_argument, NULL, 'L'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct import_opts o = {0};
	struct import_counts total = {0, 0, 0, 0};
	const char *db = NULL;
	struct store *s;
	int ch, rc = 0, stdin_seen = 0;

	o.max_size = DEFAULT_MAX_SIZE;
	o.text.tlp = STIX_TLP_UNSET;
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
		case 'F':
			if (formats_kind_parse(optarg) < 0) {
				fprintf(stderr,
				        "tix import: --format: '%s' is not auto, stix, misp, csv "
				        "or list\n",
				        optarg);
				return EXIT_USAGE;
			}
			o.format = (enum formats_kind)formats_kind_parse(optarg);
			break;
		case 'M': {
			char msg[200];

			if (formats_csv_map_parse(optarg, &o.text.map, msg, sizeof(msg)) != 0) {
				fprintf(stderr, "tix import: --map: %s\n", msg);
				return EXIT_USAGE;
			}
			o.have_map = 1;
			break;
		}
		case 'H': o.text.header = 1; break;
		case 'P': o.repair = 1; break;
		case 'Q': o.repairs_path = optarg; break;
		case 'D':
			if (strlen(optarg) != 1 && strcmp(optarg, "\\t") != 0) {
				fprintf(stderr, "tix import: --delimiter is one character\n");
				return EXIT_USAGE;
			}
			o.text.delimiter = optarg[0] == '\\' ? '\t' : optarg[0];
			break;
		case 'T':
			if ((o.text.type = formats_value_type_parse(optarg)) == FV_NONE) {
				fprintf(stderr,
				        "tix import: --type: '%s' is not domain-name, ipv4-addr, ipv6-addr, "
				        "url, email-addr, file-md5, file-sha1 or file-sha256\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'O': o.text.observables = 1; break;
		case 'R': o.text.source_name = optarg; break;
		case 'L':
			if ((o.text.tlp = stix_tlp_parse(optarg)) == -1) {
				fprintf(stderr,
				        "tix import: --tlp: '%s' is not clear, green, amber, "
				        "amber+strict or red\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (o.format == FORMATS_CSV && !o.have_map) {
		fprintf(stderr, "tix import: --format csv needs --map value=N[,type=N,...]\n");
		return EXIT_USAGE;
	}
	if (o.format == FORMATS_LIST && o.text.type == FV_NONE) {
		fprintf(stderr, "tix import: --format list needs --type\n");
		return EXIT_USAGE;
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
	if (o.repairs_path && !o.repair) {
		fprintf(stderr, "tix import: --repairs goes with --repair\n");
		store_close(s);
		return EXIT_USAGE;
	}
	if (o.repairs_path && (o.repairs = fopen(o.repairs_path, "w")) == NULL) {
		fprintf(stderr, "tix import: %s: cannot write the repairs file\n", o.repairs_path);
		store_close(s);
		return EXIT_SYSTEM;
	}
	if (o.rejects_path && (o.rejects = fopen(o.rejects_path, "w")) == NULL) {
		fprintf(stderr, "tix import: %s: cannot write the rejects file\n", o.rejects_path);
		store_close(s);
		return EXIT_SYSTEM;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;
		int dir =
		        strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode);
		int r;

		if (dir && o.format != FORMATS_AUTO && o.format != FORMATS_MISP) {
			fprintf(stderr,
			        "tix import: %s: a directory is read as a MISP feed (--format auto or "
			        "misp)\n",
			        argv[i]);
			r = EXIT_USAGE;
		} else
			r = dir ? import_feed(s, &o, argv[i], &total)
			        : import_file(s, &o, argv[i], &total);

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
	if (o.repair && !o.quiet)
		fprintf(stderr, "%zu objects repaired\n", o.repaired);
	if (o.repairs && fclose(o.repairs) != 0) {
		fprintf(stderr, "tix import: %s: writing the repairs file failed\n",
		        o.repairs_path);
		rc = EXIT_SYSTEM;
	}
	match_warninglists_free(o.warn);
	store_close(s);
	return rc;
}
