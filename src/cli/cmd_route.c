/*
 * cli/cmd_route.c — `tix route import|unrouted|digest|load-asn|sent|feeds`:
 * report rows routed to the constituents that own them, stored as STIX,
 * unrouted rows kept with their reason, and digests written or handed to
 * the local MTA with `sendmail -t` (docs/route.md).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "formats/formats.h"
#include "route/route.h"

#define MAX_FIELDS     256
#define RECORD_MAX     (1 << 16)
#define MAX_REPORTED   100
#define DEFAULT_COLL   "route-reports"
#define UNROUTED_BYTES 4096
#define BATCH          20000 /* rows a transaction */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix route import --feed NAME [--mapping FILE] [--org ORG]\n"
	        "                        [--collection C] [--dry-run] FILE...\n"
	        "       tix route unrouted [--reason R] [--json]\n"
	        "       tix route digest --since DURATION [--constituent NAME] [--out DIR] [--send]\n"
	        "                        [--from ADDR] [--now TIME]\n"
	        "       tix route load-asn FILE        the prefix-to-ASN table (replaced whole)\n"
	        "       tix route sent [--json]        the digests sent: to whom, what, when\n"
	        "       tix route feeds                the shipped feed mappings\n\n"
	        "import reads CSV report rows (a header of IntelMQ field names, or a feed's\n"
	        "column mapping: a shipped one named by --feed, or --mapping FILE), routes\n"
	        "each to the constituent owning its address (longest prefix, then ASN, then\n"
	        "registrable domain) and stores it as a TLP:AMBER x-tix-report for that\n"
	        "constituent's organisation (owned by --org, in --collection, default\n" DEFAULT_COLL
	        "). Rows that cannot be routed are kept: `tix route unrouted` lists them with\n"
	        "the reason (no-owner, ambiguous, malformed, no-contact). Exit 1 when a row\n"
	        "was not routed.\n"
	        "digest aggregates each constituent's reports imported in the last DURATION\n"
	        "(30m, 24h, 7d) that no digest has carried: one row per address,\n"
	        "classification and day. --out writes NAME.csv and NAME.txt (the mail body)\n"
	        "per constituent; --send mails each to its contacts with sendmail -t\n"
	        "($TIX_SENDMAIL, else sendmail on PATH, else /usr/sbin/sendmail), records it\n"
	        "and never sends those reports again.\n");
}

static int64_t now_us(void)
{
	struct tix_time t;

	tix_time_now(&t);
	return tix_time_to_us(&t);
}

static const char *operator_name(void)
{
	const char *who = getenv("USER");

	return who && *who ? who : "operator";
}

/* ---- import ------------------------------------------------------------------ */

struct import {
	const char *feed_name, *org, *collection;
	const struct route_feed *feed;
	int dry_run;
	struct store *s;
	struct store_collection coll;
	struct route_table *table;
	int64_t now;
	size_t rows, routed, added, reasons[5], printed;
	struct tix_buf body;
	struct stix_problems probs;
};

static void say_row(struct import *im, const char *file, size_t line, enum route_reason r,
                    const char *detail)
{
	if (im->printed++ < MAX_REPORTED)
		fprintf(stderr, "%s:%zu: %s: %s\n", file, line, route_reason_name(r), detail);
}

/* Keeps a row that cannot be routed, with the reason (not in a dry run). */
static enum tix_err keep_unrouted(struct import *im, const char *file, size_t line,
                                  enum route_reason reason, const char *detail, const char *key,
                                  const char *rec, size_t reclen, struct tix_error *err)
{
	char row[UNROUTED_BYTES + 1], ukey[80];
	struct store_route_unrouted u;
	size_t n = reclen;

	im->reasons[reason]++;
	say_row(im, file, line, reason, detail);
	if (im->dry_run)
		return TIX_OK;
	while (n > 0 && (rec[n - 1] == '\n' || rec[n - 1] == '\r'))
		n--;
	if (n > UNROUTED_BYTES)
		n = UNROUTED_BYTES;
	/* invalid UTF-8 is kept as '?' so the listing stays text */
	for (size_t i = 0; i < n; i++)
		row[i] = rec[i] == '\0' ? '?' : rec[i];
	row[n] = '\0';
	if (!formats_utf8_ok(row, n))
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)row[i] >= 0x80)
				row[i] = '?';
	if (key == NULL) {
		struct tix_uuid ns, uu;
		char uuid[37];

		tix_uuid_parse("1b8e0c6a-5d0f-5b7e-9f0e-7d6c2b1a4e93", &ns);
		tix_uuid_v5(&ns, row, n, &uu);
		snprintf(ukey, sizeof(ukey), "row--%s", tix_uuid_format(&uu, uuid));
		key = ukey;
	}
	u = (struct store_route_unrouted){
	        key,    im->feed_name, file,          route_reason_name(reason),
	        detail, row,           (int64_t)line, im->now};
	return store_route_unrouted_add(im->s, &u, err);
}

/* Stores one validated STIX object owned by owner (NULL: the operator). */
static enum tix_err put_object(struct import *im, json_t *obj, const char *owner, int *added,
                               struct tix_error *err)
{
	struct stix_validate_opts vopts = {0, NULL};
	struct stix_meta meta;
	enum tix_err e;

	*added = 0;
	stix_problems_reset(&im->probs);
	if (stix_validate(obj, "", &vopts, &im->probs) > 0)
		return tix_error_set(err, TIX_EINVAL, json_string_value(json_object_get(obj, "id")),
		                     "%s", im->probs.msgs[0]);
	if ((e = stix_meta_get(obj, &meta, err)) != TIX_OK)
		return e;
	if (store_has_version(im->s, &meta, owner) == 1)
		return store_link(im->s, &meta, owner, &im->coll, NULL, added, err);
	tix_buf_reset(&im->body);
	if (stix_json_dump(obj, &im->body) != TIX_OK)
		return tix_error_set(err, TIX_ENOMEM, "route", "out of memory");
	return store_put(im->s, &meta, tix_buf_str(&im->body), tix_buf_len(&im->body), owner,
	                 &im->coll, NULL, added, err);
}

static enum tix_err put_extension(struct import *im, struct tix_error *err)
{
	const char *text = route_report_extension();
	json_t *arr = stix_json_parse(text, strlen(text), "route", err), *o;
	enum tix_err e = TIX_OK;
	size_t i;
	int added;

	if (arr == NULL)
		return TIX_EINVAL;
	json_array_foreach (arr, i, o)
		if (e == TIX_OK)
			e = put_object(im, o, NULL, &added, err);
	json_decref(arr);
	return e;
}

/* Routes and stores one row; a store error is returned, everything about
 * the row itself is kept as unrouted. */
static enum tix_err import_row(struct import *im, struct route_reader *rd, const char *file,
                               size_t line, const char *const *fields, int nf, const char *rec,
                               size_t reclen, struct tix_error *err)
{
	struct route_event ev;
	struct route_match m;
	char why[400];
	json_t *obj;
	int added = 0;
	enum tix_err e;

	im->rows++;
	if (route_reader_row(rd, fields, nf, im->now, &ev, why, sizeof(why)) != 0)
		return keep_unrouted(im, file, line, ROUTE_MALFORMED, why, NULL, rec, reclen, err);
	route_match_event(im->table, &ev, &m);
	if (!im->dry_run)
		route_event_key(rd, &ev);
	if (m.reason != ROUTE_OK) {
		char what[80];

		if (m.reason == ROUTE_NO_CONTACT)
			snprintf(why, sizeof(why), "%s: owned by %s (%s %s), which has no contact",
			         ev.address, m.owner->name, m.by, route_match_what(&m, what));
		else if (m.reason == ROUTE_AMBIGUOUS)
			snprintf(why, sizeof(why), "%s: several constituents own the same %s",
			         ev.address, m.by);
		else
			snprintf(why, sizeof(why), "%s: no constituent owns it%s", ev.address,
			         m.asn > 0 ? " (nor its ASN)" : "");
		return keep_unrouted(im, file, line, m.reason, why, ev.key, rec, reclen, err);
	}
	im->routed++;
	if (im->dry_run)
		return TIX_OK;
	if ((obj = route_report_stix(&ev, &m)) == NULL)
		return tix_error_set(err, TIX_ENOMEM, "route", "out of memory");
	e = put_object(im, obj, im->org, &added, err);
	json_decref(obj);
	if (e == TIX_EINVAL || e == TIX_EDENIED) {
		char detail[700];

		snprintf(detail, sizeof(detail), "%s: %s", err->where, err->msg);
		tix_error_clear(err);
		im->routed--;
		return keep_unrouted(im, file, line, ROUTE_MALFORMED, detail, ev.key, rec, reclen,
		                     err);
	}
	if (e != TIX_OK)
		return e;
	{
		struct store_route_report r = {ev.key,  ev.feed,        ev.taxonomy,
		                               ev.type, ev.address,     m.owner->key,
		                               m.asn,   ev.time_source, im->now};
		int indexed = 0;

		if ((e = store_route_report_add(im->s, &r, &indexed, err)) != TIX_OK)
			return e;
		im->added += (size_t)(indexed || added);
	}
	return TIX_OK;
}

static int import_file(struct import *im, const char *file)
{
	char *data = NULL, *buf = NULL, msg[400];
	const char *p, *end, *fields[MAX_FIELDS];
	size_t len, line = 1;
	struct route_reader *rd = NULL;
	struct tix_error err;
	int rc = EXIT_SYSTEM, in_tx = 0;
	size_t batched = 0;
	enum tix_err e = TIX_OK;

	tix_error_clear(&err);
	if (cli_read_input(file, (size_t)1 << 34, &data, &len, &err) != TIX_OK) {
		cli_print_error("route import", &err);
		return cli_exit_code(err.code);
	}
	if ((buf = malloc(RECORD_MAX)) == NULL)
		goto out;
	p = formats_skip_bom(data, &len);
	end = p + len;
	{
		size_t lines = 0;
		const char *why = NULL, *rec = p;
		int nf = formats_csv_record(&p, end, ',', buf, RECORD_MAX, fields, MAX_FIELDS,
		                            &lines, &why);

		line += lines;
		if (nf <= 0 || !formats_utf8_ok(rec, (size_t)(p - rec))) {
			fprintf(stderr, "tix route import: %s:1: %s\n", file,
			        nf == 0  ? "empty file: a header naming the columns is needed"
			        : nf < 0 ? why
			                 : "the header is not UTF-8");
			rc = EXIT_INVALID;
			goto out;
		}
		if ((rd = route_reader_open(im->feed, im->feed_name, fields, nf, msg,
		                            sizeof(msg))) == NULL) {
			fprintf(stderr, "tix route import: %s:1: %s\n", file, msg);
			rc = EXIT_INVALID;
			goto out;
		}
	}
	if (!im->dry_run) {
		if (store_begin(im->s, &err) != TIX_OK)
			goto fail;
		in_tx = 1;
		if (put_extension(im, &err) != TIX_OK)
			goto fail;
	}
	for (;;) {
		size_t start = line, lines = 0;
		const char *why = NULL, *rec = p;
		int nf = formats_csv_record(&p, end, ',', buf, RECORD_MAX, fields, MAX_FIELDS,
		                            &lines, &why);

		line += lines;
		if (nf == 0)
			break;
		if (nf == 1 && fields[0][0] == '\0')
			continue; /* a blank line */
		if (nf > 0 && !formats_utf8_ok(rec, (size_t)(p - rec)))
			nf = -1, why = "not UTF-8 (re-encode the file as UTF-8)";
		if (nf < 0) {
			im->rows++;
			e = keep_unrouted(im, file, start, ROUTE_MALFORMED, why, NULL, rec,
			                  (size_t)(p - rec), &err);
		} else {
			e = import_row(im, rd, file, start, fields, nf, rec, (size_t)(p - rec),
			               &err);
		}
		if (e != TIX_OK)
			goto fail;
		/* Commits every BATCH rows: a file of millions of rows does not
		 * grow one transaction (and the write-ahead log) without bound.
		 * Rows are reports once (deterministic ids), so importing the
		 * file again after a failure completes it. */
		if (in_tx && ++batched >= BATCH) {
			if (store_commit(im->s, &err) != TIX_OK) {
				in_tx = 0;
				goto fail;
			}
			in_tx = 0;
			if (store_begin(im->s, &err) != TIX_OK)
				goto fail;
			in_tx = 1;
			batched = 0;
		}
	}
	if (in_tx) {
		struct store_audit_entry ae = {
		        now_us(), "write", operator_name(), im->org ? im->org : "", "", NULL};
		char detail[600];

		snprintf(detail, sizeof(detail),
		         "tix route import --feed %s %s: %zu rows, %zu routed", im->feed_name, file,
		         im->rows, im->routed);
		ae.detail = detail;
		if (store_audit_append(im->s, &ae, 1, &err) != TIX_OK)
			goto fail;
		in_tx = 0; /* a failed commit rolls back itself */
		if (store_commit(im->s, &err) != TIX_OK)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	cli_print_error("route import", &err);
	if (in_tx)
		store_rollback(im->s);
	rc = cli_exit_code(err.code);
	if (rc == 0)
		rc = EXIT_SYSTEM;
out:
	route_reader_free(rd);
	free(buf);
	free(data);
	return rc;
}

static int route_import(int argc, char **argv, const char *db)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"feed", required_argument, NULL, 'f'},
	        {"mapping", required_argument, NULL, 'm'},
	        {"org", required_argument, NULL, 'o'},
	        {"collection", required_argument, NULL, 'c'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct import im;
	struct route_feed *own = NULL;
	const char *mapping = NULL;
	struct tix_error err;
	int ch, rc = 0;

	memset(&im, 0, sizeof(im));
	im.collection = DEFAULT_COLL;
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'f': im.feed_name = optarg; break;
		case 'm': mapping = optarg; break;
		case 'o': im.org = optarg; break;
		case 'c': im.collection = optarg; break;
		case 'n': im.dry_run = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (im.feed_name == NULL || optind >= argc) {
		fprintf(stderr, "tix route import: --feed NAME and at least one FILE are needed\n");
		return EXIT_USAGE;
	}
	if (strlen(im.feed_name) > 100 || strpbrk(im.feed_name, "\r\n\t,\"") ||
	    im.feed_name[0] == '\0') {
		fprintf(stderr,
		        "tix route import: --feed: a name of 1-100 bytes without ',', quotes "
		        "or control characters\n");
		return EXIT_USAGE;
	}
	tix_error_clear(&err);
	if (mapping) {
		char *text = NULL, msg[300];
		size_t len;

		if (cli_read_input(mapping, 1 << 20, &text, &len, &err) != TIX_OK) {
			cli_print_error("route import", &err);
			return cli_exit_code(err.code);
		}
		own = route_feed_parse(text, len, msg, sizeof(msg));
		free(text);
		if (own == NULL) {
			fprintf(stderr, "tix route import: %s:%s\n", mapping, msg);
			return EXIT_INVALID;
		}
		im.feed = own;
	} else {
		im.feed = route_feed_shipped(im.feed_name);
	}
	if (im.dry_run)
		im.s = cli_open_existing_store(cli_db_path(db));
	else
		im.s = cli_open_store(cli_db_path(db));
	if (im.s == NULL) {
		route_feed_free(own);
		return EXIT_SYSTEM;
	}
	if ((!im.dry_run &&
	     store_collection_get(im.s, im.collection, 1, &im.coll, &err) != TIX_OK) ||
	    route_table_load(im.s, &im.table, &err) != TIX_OK) {
		cli_print_error("route import", &err);
		store_close(im.s);
		route_feed_free(own);
		return cli_exit_code(err.code) ? cli_exit_code(err.code) : EXIT_SYSTEM;
	}
	if (route_table_owners(im.table) == 0)
		fprintf(stderr, "tix route import: warning: no constituents (tix constituent add): "
		                "every row is kept as unrouted\n");
	tix_buf_init(&im.body, 1 << 24);
	stix_problems_init(&im.probs);
	im.now = now_us();
	for (int i = optind; i < argc && rc == 0; i++) {
		size_t rows = im.rows, routed = im.routed, added = im.added;
		size_t before[5];

		memcpy(before, im.reasons, sizeof(before));
		rc = import_file(&im, argv[i]);
		if (rc == 0)
			printf("%s: %zu rows: %zu routed (%zu new)%s%s, unrouted: %zu no-owner, %zu "
			       "ambiguous, %zu malformed, %zu no-contact\n",
			       argv[i], im.rows - rows, im.routed - routed, im.added - added,
			       im.dry_run ? "" : " into ",
			       im.dry_run ? " (dry run)" : im.coll.title,
			       im.reasons[ROUTE_NO_OWNER] - before[ROUTE_NO_OWNER],
			       im.reasons[ROUTE_AMBIGUOUS] - before[ROUTE_AMBIGUOUS],
			       im.reasons[ROUTE_MALFORMED] - before[ROUTE_MALFORMED],
			       im.reasons[ROUTE_NO_CONTACT] - before[ROUTE_NO_CONTACT]);
	}
	if (im.printed > MAX_REPORTED)
		fprintf(stderr,
		        "tix route import: %zu more rows not listed here (tix route unrouted)\n",
		        im.printed - MAX_REPORTED);
	if (rc == 0 && im.routed < im.rows)
		rc = EXIT_INVALID;
	stix_problems_release(&im.probs);
	tix_buf_release(&im.body);
	route_table_free(im.table);
	store_close(im.s);
	route_feed_free(own);
	return rc;
}

/* ---- unrouted ---------------------------------------------------------------- */

struct unrouted_out {
	int json;
	json_t *all;
	size_t n;
};

static int print_unrouted(void *arg, const struct store_route_unrouted *u)
{
	struct unrouted_out *o = arg;
	char when[32];
	struct tix_time t;

	tix_time_from_us(u->at, &t);
	tix_time_format(&t, 0, when);
	o->n++;
	if (o->json)
		json_array_append_new(o->all,
		                      json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "key", u->key,
		                                "feed", u->feed, "source", u->source, "line",
		                                (json_int_t)u->line, "reason", u->reason, "detail",
		                                u->detail, "row", u->row, "at", when));
	else
		printf("%s  %-10s %s:%lld (%s): %s\n    %s\n", when, u->reason, u->source,
		       (long long)u->line, u->feed, u->detail, u->row);
	return 0;
}

static int route_unrouted(int argc, char **argv, const char *db)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"reason", required_argument, NULL, 'r'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct unrouted_out o = {0, NULL, 0};
	const char *reason = NULL;
	struct tix_error err;
	struct store *s;
	int ch, rc = 0;

	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'r': reason = optarg; break;
		case 'j': o.json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (reason && strcmp(reason, "no-owner") != 0 && strcmp(reason, "ambiguous") != 0 &&
	    strcmp(reason, "malformed") != 0 && strcmp(reason, "no-contact") != 0) {
		fprintf(stderr, "tix route unrouted: --reason is no-owner, ambiguous, malformed or "
		                "no-contact\n");
		return EXIT_USAGE;
	}
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	o.all = json_array();
	tix_error_clear(&err);
	if (store_route_unrouted_list(s, reason, print_unrouted, &o, &err) != TIX_OK) {
		cli_print_error("route unrouted", &err);
		rc = EXIT_SYSTEM;
	} else if (o.json) {
		json_dumpf(o.all, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (o.n == 0) {
		printf("no unrouted rows\n");
	}
	json_decref(o.all);
	store_close(s);
	return rc;
}

/* ---- load-asn ---------------------------------------------------------------- */

struct asn_load {
	struct store_route_range *r;
	int64_t *asn;
	size_t n, cap, bad;
	const char *file;
	int oom;
};

static void asn_add(void *arg, const struct store_route_range *r, int64_t asn)
{
	struct asn_load *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		void *a = realloc(l->r, cap * sizeof(*l->r)), *b;

		if (a == NULL) {
			l->oom = 1;
			return;
		}
		l->r = a;
		if ((b = realloc(l->asn, cap * sizeof(*l->asn))) == NULL) {
			l->oom = 1;
			return;
		}
		l->asn = b;
		l->cap = cap;
	}
	l->r[l->n] = *r;
	l->asn[l->n++] = asn;
}

static void asn_bad(void *arg, size_t line, const char *why)
{
	struct asn_load *l = arg;

	if (l->bad++ < MAX_REPORTED)
		fprintf(stderr, "%s:%zu: %s\n", l->file, line, why);
}

static int route_load_asn(int argc, char **argv, const char *db)
{
	struct asn_load l = {0};
	struct tix_error err;
	struct store *s;
	char *data = NULL;
	size_t len;
	int rc = 0;

	if (argc != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	l.file = argv[1];
	tix_error_clear(&err);
	if (cli_read_input(argv[1], (size_t)1 << 32, &data, &len, &err) != TIX_OK) {
		cli_print_error("route load-asn", &err);
		return cli_exit_code(err.code);
	}
	route_asn_table_parse(data, len, asn_add, asn_bad, &l);
	free(data);
	if (l.bad && !l.oom) {
		fprintf(stderr, "tix route load-asn: %s: %zu bad lines; the table is unchanged\n",
		        argv[1], l.bad);
		rc = EXIT_INVALID;
	} else if (l.oom || (s = cli_open_store(cli_db_path(db))) == NULL) {
		rc = EXIT_SYSTEM;
	} else {
		if (store_route_asn_load(s, l.r, l.asn, l.n, &err) != TIX_OK) {
			cli_print_error("route load-asn", &err);
			rc = EXIT_SYSTEM;
		} else {
			printf("%zu prefixes loaded from %s\n", l.n, argv[1]);
		}
		store_close(s);
	}
	free(l.r);
	free(l.asn);
	return rc;
}

/* ---- digest ---------------------------------------------------------------- */

/* "30m", "24h", "7d", "3600s" or seconds. 0, or -1. */
static int parse_duration(const char *s, int64_t *us)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	int64_t mult = 1;

	if (end == s || v <= 0 || v > 100LL * 365 * 86400)
		return -1;
	if (*end == 's' || *end == '\0')
		mult = 1;
	else if (*end == 'm')
		mult = 60;
	else if (*end == 'h')
		mult = 3600;
	else if (*end == 'd')
		mult = 86400;
	else if (*end == 'w')
		mult = 7 * 86400;
	else
		return -1;
	if (*end && end[1] != '\0')
		return -1;
	*us = (int64_t)v * mult * 1000000;
	return 0;
}

struct digest_run {
	struct store *s;
	int64_t since, until;
	const char *out_dir, *from;
	int send, failed;
	size_t constituents, sent, problems;
};

struct digest_one {
	struct tix_buf csv;
	struct route_digest_summary sum;
	char **contacts;
	size_t ncontacts;
	int oom;
};

static int agg_row(void *arg, const struct store_route_agg *a)
{
	struct digest_one *d = arg;
	size_t i;

	route_digest_csv_row(&d->csv, a);
	d->sum.rows++;
	d->sum.reports += a->count;
	for (i = 0; i < d->sum.ntypes; i++)
		if (strcmp(d->sum.types[i], a->type) == 0)
			break;
	if (i == d->sum.ntypes && i < 64) {
		char *t = strdup(a->type);

		if (t == NULL) {
			d->oom = 1;
			return 1;
		}
		d->sum.types[d->sum.ntypes++] = t;
		d->sum.type_reports[i] = 0;
	}
	if (i < 64)
		d->sum.type_reports[i] += a->count;
	return 0;
}

static void add_contact(void *arg, int64_t ckey, const char *email)
{
	struct digest_one *d = arg;
	char **v = realloc(d->contacts, (d->ncontacts + 1) * sizeof(char *));

	(void)ckey;
	if (v == NULL || (v[d->ncontacts] = strdup(email)) == NULL) {
		if (v)
			d->contacts = v;
		d->oom = 1;
		return;
	}
	d->contacts = v;
	d->ncontacts++;
}

static int write_file(const char *dir, const char *name, const char *ext, const char *data,
                      size_t len)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	snprintf(tmp, sizeof(tmp), "%s.partial", path);
	if ((f = fopen(tmp, "wb")) == NULL) {
		fprintf(stderr, "tix route digest: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "tix route digest: %s: %s\n", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

/* Hands a mail to the local MTA: sendmail -t -oi, run directly (no shell),
 * the message on its standard input. 0 when it took it (exit 0). */
static int run_sendmail(const char *mail, size_t len, char *why, size_t whysize)
{
	const char *env = getenv("TIX_SENDMAIL");
	int fds[2], status;
	pid_t pid;
	size_t off = 0;
	void (*old)(int);

	if (pipe(fds) != 0) {
		snprintf(why, whysize, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whysize, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char *const args[] = {(char *)"sendmail", (char *)"-t", (char *)"-oi", NULL};

		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		if (env && *env)
			execv(env, args);
		else {
			execvp("sendmail", args);
			execv("/usr/sbin/sendmail", args);
			execv("/usr/lib/sendmail", args);
		}
		_exit(127);
	}
	close(fds[0]);
	old = signal(SIGPIPE, SIG_IGN);
	while (off < len) {
		ssize_t w = write(fds[1], mail + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	signal(SIGPIPE, old);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whysize, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, whysize, "sendmail %s %d%s",
		         WIFEXITED(status) ? "exited with" : "was killed by signal",
		         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		         WIFEXITED(status) && WEXITSTATUS(status) == 127
		                 ? " (not found: install an MTA "
		                   "or set TIX_SENDMAIL)"
		                 : "");
		return -1;
	}
	if (off < len) {
		snprintf(why, whysize, "sendmail did not read the whole message");
		return -1;
	}
	return 0;
}

static int send_digest(struct digest_run *r, const struct store_constituent *c,
                       struct digest_one *d, const char *subject, const char *body)
{
	struct tix_buf mail, rcpt;
	struct tix_error err;
	char csvname[100], why[300];
	int64_t marked = 0;
	struct store_route_digest rec;
	int rc = -1;

	snprintf(csvname, sizeof(csvname), "%s.csv", c->name);
	tix_buf_init(&mail, TIX_BUF_UNLIMITED);
	tix_buf_init(&rcpt, 1 << 20);
	for (size_t i = 0; i < d->ncontacts; i++) {
		tix_buf_adds(&rcpt, i ? "," : "");
		tix_buf_adds(&rcpt, d->contacts[i]);
	}
	if (route_digest_mail(&mail, r->from, (const char *const *)d->contacts, d->ncontacts,
	                      subject, body, csvname, tix_buf_str(&d->csv),
	                      tix_buf_len(&d->csv)) != TIX_OK) {
		fprintf(stderr, "tix route digest: %s: the mail could not be made\n", c->name);
		goto out;
	}
	rec = (struct store_route_digest){c->key,   c->name,     tix_buf_str(&rcpt),
	                                  subject,  d->sum.rows, d->sum.reports,
	                                  r->since, r->until,    now_us()};
	tix_error_clear(&err);
	/* Recorded and the reports marked first, committed only once sendmail
	 * took the mail: a failure sends nothing and marks nothing. */
	if (store_begin(r->s, &err) != TIX_OK ||
	    store_route_digest_record(r->s, &rec, &marked, &err) != TIX_OK) {
		cli_print_error("route digest", &err);
		store_rollback(r->s);
		r->failed = 1;
		goto out;
	}
	{
		struct store_audit_entry ae = {now_us(), "export", operator_name(),
		                               c->org,   "",       NULL};
		char detail[700];

		snprintf(detail, sizeof(detail), "tix route digest --send: %s to %.500s: %lld rows",
		         c->name, tix_buf_str(&rcpt), (long long)d->sum.rows);
		ae.detail = detail;
		if (store_audit_append(r->s, &ae, 1, &err) != TIX_OK) {
			cli_print_error("route digest", &err);
			store_rollback(r->s);
			r->failed = 1;
			goto out;
		}
	}
	if (run_sendmail(tix_buf_str(&mail), tix_buf_len(&mail), why, sizeof(why)) != 0) {
		fprintf(stderr, "tix route digest: %s: not sent: %s\n", c->name, why);
		store_rollback(r->s);
		r->problems++;
		goto out;
	}
	if (store_commit(r->s, &err) != TIX_OK) {
		cli_print_error("route digest", &err);
		fprintf(stderr,
		        "tix route digest: %s: the mail was handed to sendmail but could not "
		        "be recorded\n",
		        c->name);
		r->failed = 1;
		goto out;
	}
	printf("%s: sent to %s (%lld rows, %lld reports)\n", c->name, tix_buf_str(&rcpt),
	       (long long)d->sum.rows, (long long)d->sum.reports);
	r->sent++;
	rc = 0;
out:
	tix_buf_release(&mail);
	tix_buf_release(&rcpt);
	return rc;
}

static int digest_one(void *arg, const struct store_constituent *c)
{
	struct digest_run *r = arg;
	struct digest_one d;
	struct store_constituent_parts_cb cb = {add_contact, NULL, NULL, NULL, &d};
	struct tix_error err;
	struct tix_buf body;
	char subject[300];

	memset(&d, 0, sizeof(d));
	tix_buf_init(&d.csv, TIX_BUF_UNLIMITED);
	tix_buf_init(&body, 1 << 20);
	d.sum.constituent = c->name;
	d.sum.org = c->org;
	d.sum.since = r->since;
	d.sum.until = r->until;
	r->constituents++;
	route_digest_csv_header(&d.csv);
	tix_error_clear(&err);
	if (store_route_digest_rows(r->s, c->key, r->since, r->until, 1, agg_row, &d, &err) !=
	            TIX_OK ||
	    store_constituent_parts(r->s, c->key, &cb, &err) != TIX_OK) {
		cli_print_error("route digest", &err);
		r->failed = 1;
		goto out;
	}
	if (d.oom) {
		fprintf(stderr, "tix route digest: out of memory\n");
		r->failed = 1;
		goto out;
	}
	if (d.sum.rows == 0)
		goto out; /* nothing new for it */
	route_digest_body(&body, c->lang, &d.sum);
	route_digest_subject(subject, sizeof(subject), &d.sum);
	if (r->out_dir &&
	    (write_file(r->out_dir, c->name, "csv", tix_buf_str(&d.csv), tix_buf_len(&d.csv)) !=
	             0 ||
	     write_file(r->out_dir, c->name, "txt", tix_buf_str(&body), tix_buf_len(&body)) != 0)) {
		r->failed = 1;
		goto out;
	}
	if (r->send) {
		if (d.ncontacts == 0) {
			fprintf(stderr,
			        "tix route digest: %s: %lld rows but no contact to send them "
			        "to (tix constituent import to add one); not sent\n",
			        c->name, (long long)d.sum.rows);
			r->problems++;
		} else {
			send_digest(r, c, &d, subject, tix_buf_str(&body));
		}
	} else {
		printf("%s: %lld rows (%lld reports) for %zu contacts%s%s\n", c->name,
		       (long long)d.sum.rows, (long long)d.sum.reports, d.ncontacts,
		       r->out_dir ? " written to " : "", r->out_dir ? r->out_dir : "");
	}
out:
	for (size_t i = 0; i < d.sum.ntypes; i++)
		free((char *)d.sum.types[i]);
	for (size_t i = 0; i < d.ncontacts; i++)
		free(d.contacts[i]);
	free(d.contacts);
	tix_buf_release(&d.csv);
	tix_buf_release(&body);
	return r->failed;
}

static int route_digest_cmd(int argc, char **argv, const char *db)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"since", required_argument, NULL, 's'},
	        {"constituent", required_argument, NULL, 'c'},
	        {"out", required_argument, NULL, 'o'},
	        {"send", no_argument, NULL, 'S'},
	        {"from", required_argument, NULL, 'f'},
	        {"now", required_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct digest_run r;
	const char *since = NULL, *only = NULL, *now = NULL;
	char from[321];
	int64_t span;
	struct tix_error err;
	int ch, rc = 0;

	memset(&r, 0, sizeof(r));
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 's': since = optarg; break;
		case 'c': only = optarg; break;
		case 'o': r.out_dir = optarg; break;
		case 'S': r.send = 1; break;
		case 'f':
			if (route_email_norm(optarg, from) < 0) {
				fprintf(stderr,
				        "tix route digest: --from '%s' is not an e-mail address\n",
				        optarg);
				return EXIT_USAGE;
			}
			r.from = from;
			break;
		case 'n': now = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || since == NULL) {
		fprintf(stderr, "tix route digest: --since DURATION is needed (e.g. 24h)\n");
		return EXIT_USAGE;
	}
	if (parse_duration(since, &span) != 0) {
		fprintf(stderr, "tix route digest: --since '%s' is not a duration (30m, 24h, 7d)\n",
		        since);
		return EXIT_USAGE;
	}
	r.until = now_us();
	if (now) {
		struct tix_time t;

		tix_error_clear(&err);
		if (tix_time_parse(now, &t, &err) != TIX_OK) {
			fprintf(stderr, "tix route digest: --now: %s\n", err.msg);
			return EXIT_USAGE;
		}
		r.until = tix_time_to_us(&t);
	}
	r.since = r.until - span;
	if (r.out_dir) {
		struct stat st;

		if (stat(r.out_dir, &st) != 0 && mkdir(r.out_dir, 0750) != 0) {
			fprintf(stderr, "tix route digest: %s: %s\n", r.out_dir, strerror(errno));
			return EXIT_SYSTEM;
		}
	}
	if ((r.s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	tix_error_clear(&err);
	if (store_constituent_list(r.s, only, digest_one, &r, &err) != TIX_OK) {
		cli_print_error("route digest", &err);
		rc = cli_exit_code(err.code);
	} else if (r.failed) {
		rc = EXIT_SYSTEM;
	} else if (r.problems) {
		rc = EXIT_INVALID;
	}
	if (rc == 0 && r.send && r.sent == 0)
		printf("nothing to send\n");
	store_close(r.s);
	return rc;
}

/* ---- sent, feeds, dispatch -------------------------------------------------- */

static int print_sent(void *arg, const struct store_route_digest *d)
{
	json_t *all = arg;
	char sent[32], since[32], until[32];
	struct tix_time t;

	tix_time_from_us(d->sent, &t);
	tix_time_format(&t, 0, sent);
	tix_time_from_us(d->since, &t);
	tix_time_format(&t, 0, since);
	tix_time_from_us(d->until, &t);
	tix_time_format(&t, 0, until);
	if (all)
		json_array_append_new(all,
		                      json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "constituent",
		                                d->constituent, "recipients", d->recipients,
		                                "subject", d->subject, "rows", (json_int_t)d->rows,
		                                "reports", (json_int_t)d->reports, "since", since,
		                                "until", until, "sent", sent));
	else
		printf("%s  %s to %s: %lld rows, %lld reports (%s .. %s)\n", sent, d->constituent,
		       d->recipients, (long long)d->rows, (long long)d->reports, since, until);
	return 0;
}

int cmd_route(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		usage(sub ? stdout : stderr);
		return sub ? 0 : EXIT_USAGE;
	}
	argv[1] = (char *)"tix route"; /* getopt names the command so */
	if (strcmp(sub, "import") == 0)
		return route_import(argc - 1, argv + 1, NULL);
	if (strcmp(sub, "unrouted") == 0)
		return route_unrouted(argc - 1, argv + 1, NULL);
	if (strcmp(sub, "digest") == 0)
		return route_digest_cmd(argc - 1, argv + 1, NULL);
	if (strcmp(sub, "load-asn") == 0 || strcmp(sub, "sent") == 0 || strcmp(sub, "feeds") == 0) {
		const char *db = NULL;
		char *rest[4];
		int n = 0, json = 0;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
				db = argv[++i];
			else if (strncmp(argv[i], "--db=", 5) == 0)
				db = argv[i] + 5;
			else if (strcmp(argv[i], "--json") == 0)
				json = 1;
			else if (n < 3)
				rest[1 + n++] = argv[i];
			else
				n++;
		}
		rest[0] = (char *)sub;
		if (strcmp(sub, "load-asn") == 0)
			return n > 2 ? (usage(stderr), EXIT_USAGE)
			             : route_load_asn(n + 1, rest, db);
		if (n != 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (strcmp(sub, "feeds") == 0) {
			for (const char *const *f = route_feed_names(); *f; f++)
				printf("%s\n", *f);
			return 0;
		}
		{
			struct store *s = cli_open_existing_store(cli_db_path(db));
			json_t *all = json ? json_array() : NULL;
			struct tix_error err;
			int rc = 0;

			if (s == NULL) {
				json_decref(all);
				return EXIT_SYSTEM;
			}
			tix_error_clear(&err);
			if (store_route_digest_list(s, print_sent, all, &err) != TIX_OK) {
				cli_print_error("route sent", &err);
				rc = EXIT_SYSTEM;
			} else if (all) {
				json_dumpf(all, stdout, JSON_INDENT(2));
				printf("\n");
			}
			json_decref(all);
			store_close(s);
			return rc;
		}
	}
	fprintf(stderr,
	        "tix route: unknown command '%s' (import, unrouted, digest, load-asn, sent, "
	        "feeds)\n",
	        sub);
	return EXIT_USAGE;
}
