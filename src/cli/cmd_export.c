/*
 * cli/cmd_export.c — `tix export`: writes stored objects as one STIX 2.1
 * bundle on stdout, streamed row by row so memory stays constant whatever
 * the store's size; or, with a feed --format, the indicators as the file a
 * defence loads (Suricata, Zeek, RPZ, nft, ipset, hosts, CSV, list).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "stix/stix_types.h"
#include "formats/formats.h"
#include "values/values.h"
#include "match/match.h"

#define MAX_TYPES        64
#define EXPORT_CACHE_KIB 2048

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tix export [--db PATH] [--type T]... [--added-after TIMESTAMP]\n"
	        "                  [--collection NAME|ID] [--all-versions]\n"
	        "                  [--as-org ORG | --for-peer ORG | --public] [--exercise ID]\n\n"
	        "Writes a STIX 2.1 bundle to standard output: the latest version of each\n"
	        "object, in the order the node added them.\n\n"
	        "  --type T          only objects of type T (repeatable); a T that is not a\n"
	        "                    STIX 2.1 type nor stored is a usage error\n"
	        "  --added-after TS  only versions added after TS (RFC 3339, e.g.\n"
	        "                    2026-01-01T00:00:00Z; in a collection, added to it)\n"
	        "  --collection C    only objects of collection C (title or id)\n"
	        "  --exercise ID     drill exercise ID's objects too (left out otherwise;\n"
	        "                    docs/drill.md)\n"
	        "  --all-versions    every stored version, not only the latest\n"
	        "  --as-org ORG      only what ORG may read under the sharing policy (its\n"
	        "                    sharing groups; with --collection, its grant there\n"
	        "                    makes it part of the community for GREEN and AMBER);\n"
	        "                    an object with granular markings it may not see is\n"
	        "                    withheld whole: a feed for that audience\n"
	        "  --for-peer ORG    only what this node may send to a peer node of ORG\n"
	        "                    (policy_may_forward: never RED beyond its recipients,\n"
	        "                    never AMBER+STRICT beyond its owner, AMBER and RED only\n"
	        "                    from the node they were written on)\n"
	        "  --public          only TLP:CLEAR objects (what anyone may read)\n"
	        "  --stix-version 2.1  STIX 2.0 objects (stored as they came) written as 2.1:\n"
	        "                    spec_version, millisecond times, observed-data's objects\n"
	        "                    as top-level SCOs with object_refs (docs/conformance.md)\n"
	        "  --include-inactive  also indicators that are revoked, past valid_until or\n"
	        "                    marked by `tix expire` (left out by default, but not\n"
	        "                    from --all-versions: the history)\n"
	        "  --min-score S     leave out indicators whose decay score is below S (0-100)\n"
	        "  --min-sightings N  leave out indicators with fewer than N sightings (the sum\n"
	        "                    of their count) that the export's reader may read\n"
	        "  --format stix|misp  a STIX 2.1 bundle (default), or MISP events\n"
	        "                    ({\"response\":[{\"Event\":…}]}: reports and groupings as\n"
	        "                    events, loose indicators one event per day; docs/formats.md)\n"
	        "  --format suricata|suricata-dataset|zeek|rpz|nft|ipset|hosts|csv|list\n"
	        "                    the live indicators (not revoked, not expired) as the file\n"
	        "                    a defence loads (docs/feeds.md); what a format cannot carry\n"
	        "                    is left out and counted on standard error by reason\n"
	        "  --warninglists P  leave out values on these MISP warninglists (a list.json\n"
	        "                    or a directory of them; repeatable), each reported\n"
	        "  --output PATH     write the feed to PATH (replaced atomically) instead of\n"
	        "                    standard output; for suricata-dataset a directory for\n"
	        "                    SET.rules and its data files (required)\n"
	        "  --subdomains      every domain also covers the names below it\n"
	        "  --rpz-zone NAME   the RPZ's origin (rpz.tix.)\n"
	        "  --rpz-policy P    nxdomain (default), nodata, passthru, drop, tcp-only or\n"
	        "                    cname:DOMAIN\n"
	        "  --serial N        the RPZ's SOA serial (default: the time, in seconds)\n"
	        "  --address A       hosts: the address listed names map to (0.0.0.0)\n"
	        "  --set-name NAME   nft table and sets, ipset sets, dataset files (tix)\n"
	        "  --source TEXT     zeek meta.source and the start of suricata msg (tix)\n"
	        "  --report          every value left out on standard error, not only the\n"
	        "                    warninglist hits and the counts\n\n"
	        "Without --as-org or --public the operator exports with the node's full\n"
	        "rights. Every export is recorded in the audit log.\n");
}

struct export_state {
	FILE *out;
	size_t n;
	int failed;
	int filtered; /* --as-org, --for-peer or --public */
	int for_peer;
	const char *exercise; /* --exercise: that drill exercise's objects too */
	struct policy_node node;
	struct policy_principal who;
	/* The exported ids for the audit log, kept in bounded parts
	 * (store_audit_ids): memory stays flat however many are exported. */
	struct store_audit_ids *audit;
	int upgrade;                   /* --stix-version 2.1 */
	struct formats_misp_out *misp; /* --format misp: the event writer */
	/* what write_row does with a row the reader may see, for the MISP
	 * writer (misp_take): the query's own filters first (misp_row) */
	const struct store_query *q;
	enum { MISP_GET, MISP_PROBE, MISP_COLLECT, MISP_HEAD, MISP_LOOSE } misp_mode;
	json_t *misp_got; /* MISP_GET: the last version seen; MISP_COLLECT: a list */
	int misp_seen;    /* MISP_PROBE: one was seen */
	struct tix_error misp_err;
	int misp_failed;
	struct tix_buf upgraded;
	/* indicators revoked, past valid_until, expired, below min_score: out */
	int include_inactive;
	double min_score;      /* < 0: none */
	int64_t min_sightings; /* 0: none */
	struct store *s;
	struct store_id_set expired; /* tix expire marked them */
	int64_t now_us;
	struct values_decay_model model;
	struct formats_feed *feed; /* --format suricata, zeek, rpz, …: the feed writer */
	/* whose view scores indicators (--min-score) and counts sightings:
	 * the export's reader, never more than it may read */
	const struct api_reader *reader;
	struct api_sighting_memo *seen; /* the same reader, for --min-sightings */
};

/* An indicator that is no longer active (docs/decay.md): 0, or why it is
 * not — revoked or past valid_until (1), expired by decay (2), below
 * --min-score (3). */
static int inactive(struct export_state *x, const struct store_row *row)
{
	const char *id = row->id;
	json_t *o;
	int out = 0;

	if (strcmp(row->type, "indicator") != 0)
		return 0;
	if (store_id_set_has(&x->expired, id))
		return 2;
	if ((o = json_loadb(row->body, row->body_len, 0, NULL)) == NULL)
		return 0;
	if (json_is_true(json_object_get(o, "revoked"))) {
		out = 1;
	} else {
		const char *vu = json_string_value(json_object_get(o, "valid_until"));
		struct tix_time t;

		if (vu && tix_time_parse(vu, &t, NULL) == TIX_OK && tix_time_to_us(&t) <= x->now_us)
			out = 1;
	}
	if (!out && x->min_score >= 0) {
		out = api_indicator_score(x->s, x->reader, &x->model, o, x->now_us) < x->min_score
		              ? 3
		              : 0;
	}
	json_decref(o);
	return out;
}

/* --stix-version 2.1: a STIX 2.0 object as 2.1, with the SCOs of its
 * objects dictionary after it (src/formats/upgrade.c). Returns 0, or 1
 * when the object is 2.1 already and *body stands. */
static int upgrade_body(struct export_state *x, const char **body, size_t *len)
{
	json_t *v, *extra, *e;
	size_t i;

	if ((v = json_loadb(*body, *len, 0, NULL)) == NULL)
		return 1;
	extra = json_array();
	if (!formats_upgrade_to_21(v, extra)) {
		json_decref(v);
		json_decref(extra);
		return 1;
	}
	tix_buf_reset(&x->upgraded);
	stix_json_dump(v, &x->upgraded);
	json_array_foreach (extra, i, e) {
		tix_buf_adds(&x->upgraded, ",\n");
		stix_json_dump(e, &x->upgraded);
	}
	json_decref(v);
	json_decref(extra);
	*body = tix_buf_str(&x->upgraded);
	*len = tix_buf_len(&x->upgraded);
	return 0;
}

/* Notes an exported id for the audit log (every path, MISP's too, calls
 * this once per object it writes); 0, or -1 when it cannot be kept: the
 * export then fails, it must not go unrecorded. */
static int note_id(struct export_state *x, const char *id)
{
	struct tix_error err;

	if (store_audit_ids_add(x->audit, id, &err) == TIX_OK)
		return 0;
	cli_print_error("export", &err);
	x->failed = 1;
	return -1;
}

/* A row the reader may see, for the MISP writer (docs/formats.md). */
static int misp_take(struct export_state *x, const struct store_row *row, const char *body,
                     size_t len)
{
	json_t *v;
	int r = 0;

	if (x->misp_mode == MISP_PROBE) {
		x->misp_seen = 1;
		return 1;
	}
	if ((v = json_loadb(body, len, 0, NULL)) == NULL)
		return 0;
	if (note_id(x, row->id) != 0) {
		json_decref(v);
		return 1;
	}
	x->n++;
	switch (x->misp_mode) {
	case MISP_GET:
		json_decref(x->misp_got); /* the last version the reader may see */
		x->misp_got = v;
		return 0;
	case MISP_COLLECT: json_array_append(x->misp_got, v); break;
	case MISP_HEAD: r = formats_misp_out_head(x->misp, v); break;
	case MISP_LOOSE: r = formats_misp_out_loose(x->misp, v); break;
	case MISP_PROBE: break;
	}
	json_decref(v);
	return r;
}

static int write_row(void *arg, const struct store_row *row)
{
	struct export_state *x = arg;
	const char *body = row->body;
	size_t len = row->body_len;
	char ex[64];
	struct policy_object o = {row->type,
	                          row->aud.tlp,
	                          row->aud.tlp_flags,
	                          row->aud.owner_org,
	                          row->aud.sharing_group,
	                          row->aud.recipients,
	                          row->aud.origin_node == NULL,
	                          NULL};

	if (row->aud.tlp_flags & STIX_TLPF_EXERCISE)
		o.exercise = stix_exercise_of(row->body, row->body_len, ex, sizeof(ex));
	/* Drill data only for who asked for its exercise (docs/drill.md). */
	if (!policy_exercise_admits(x->exercise, &o))
		return 0;
	if (x->filtered) {
		if (x->for_peer) {
			struct policy_peer peer = {x->who.org, x->who.groups,
			                           x->who.collection_reader, x->exercise};

			if (!policy_may_forward(&x->node, &peer, &o))
				return 0;
		} else if (!policy_may_read(&x->node, &x->who, &o)) {
			return 0;
		}
	}
	if (!x->include_inactive) {
		int why = inactive(x, row);

		/* After the policy, so nothing hidden is counted. A feed
		 * counts what it leaves out, by reason: revoked and expired
		 * indicators are its own to judge; decay is told. */
		if (why && x->feed && why > 1) {
			formats_feed_skip(x->feed, row->id, why == 2 ? FR_DECAYED : FR_LOW_SCORE);
			return 0;
		}
		if (why && !x->feed)
			return 0;
	}
	/* after the policy too: only what the reader may read is counted */
	if (x->min_sightings > 0 && strcmp(row->type, "indicator") == 0 &&
	    api_sighting_sum_memo(x->seen, row->id).count < x->min_sightings) {
		if (x->feed)
			formats_feed_skip(x->feed, row->id, FR_SIGHTINGS);
		return 0;
	}

	if (x->upgrade)
		upgrade_body(x, &body, &len);
	if (x->feed) {
		struct tix_error err;

		tix_error_clear(&err);
		if (note_id(x, row->id) != 0)
			return 1;
		x->n++;
		if (formats_feed_add(x->feed, body, len, &err) != TIX_OK) {
			x->failed = 1;
			return 1;
		}
		return 0;
	}
	if (x->misp)
		return misp_take(x, row, body, len);
	if (fputs(x->n ? ",\n" : "\n", x->out) == EOF || fwrite(body, 1, len, x->out) != len) {
		x->failed = 1;
		return 1;
	}
	if (note_id(x, row->id) != 0)
		return 1;
	x->n++;
	return 0;
}

struct misp_writing {
	FILE *out;
	size_t n;
};

static int write_event(void *ctx, const char *uuid, int64_t ts, json_t *event)
{
	struct misp_writing *mw = ctx;

	(void)uuid;
	(void)ts;
	fputs(mw->n++ ? ",\n" : "\n", mw->out);
	return json_dumpf(event, mw->out, JSON_COMPACT) != 0;
}

/* The MISP writer reads through the export's own filters (--type,
 * --added-after) and write_row's policy decision, like every exported row. */
static int misp_row(void *arg, const struct store_row *row)
{
	struct export_state *x = arg;
	const char *const *t = x->q->types;

	if (x->q->added_after > 0 && row->date_added <= x->q->added_after)
		return 0;
	if (t && t[0]) {
		while (*t && strcmp(*t, row->type) != 0)
			t++;
		if (*t == NULL)
			return 0;
	}
	return write_row(x, row);
}

static void misp_fail(struct export_state *x, const struct tix_error *err)
{
	if (!x->misp_failed)
		x->misp_err = *err;
	x->misp_failed = 1;
}

static json_t *misp_get(void *ctx, const char *id)
{
	struct export_state *x = ctx;
	int mode = x->misp_mode;
	json_t *got = x->misp_got, *v;
	struct tix_error err;

	x->misp_mode = MISP_GET;
	x->misp_got = NULL;
	if (store_latest_get(x->s, x->q->collection, id, misp_row, x, &err) != TIX_OK)
		misp_fail(x, &err);
	v = x->misp_got;
	x->misp_got = got;
	x->misp_mode = mode;
	return v;
}

static int misp_listed(void *ctx, const char *id)
{
	struct export_state *x = ctx;
	int mode = x->misp_mode, seen = 0;
	struct tix_error err;

	x->misp_mode = MISP_PROBE;
	x->misp_seen = 0;
	if (store_referrers(x->s, x->q->collection, id, NULL, misp_row, x, &err) != TIX_OK)
		misp_fail(x, &err);
	seen = x->misp_seen;
	x->misp_mode = mode;
	return seen;
}

static void misp_sightings(void *ctx, const char *id, void (*each)(void *, json_t *), void *arg)
{
	struct export_state *x = ctx;
	int mode = x->misp_mode;
	json_t *got = x->misp_got, *list = json_array(), *v;
	struct tix_error err;
	size_t i;

	/* gathered first: each may ask the store again */
	x->misp_mode = MISP_COLLECT;
	x->misp_got = list;
	if (store_referrers(x->s, x->q->collection, id, "sighting", misp_row, x, &err) != TIX_OK)
		misp_fail(x, &err);
	x->misp_got = got;
	x->misp_mode = mode;
	json_array_foreach (list, i, v)
		each(arg, v);
	json_decref(list);
}

/* --format misp: the reports and groupings as they were added, an event
 * each, then the per-day events day by day; one event in memory at a time. */
static enum tix_err export_misp(struct export_state *x, const char *loose_name,
                                struct tix_error *err)
{
	static const char *const heads[] = {"report", "grouping", NULL};
	struct misp_writing mw = {x->out, 0};
	struct formats_misp_source src = {misp_get, misp_listed, misp_sightings, x};
	struct store_query hq = *x->q;
	enum tix_err e;

	if ((x->misp = formats_misp_out_new(loose_name, &src, write_event, &mw)) == NULL)
		return tix_error_set(err, TIX_ENOMEM, "export", "out of memory");
	fputs("{\"response\":[", x->out);
	hq.types = heads;
	x->misp_mode = MISP_HEAD;
	e = store_query(x->s, &hq, misp_row, x, err);
	x->misp_mode = MISP_LOOSE;
	if (e == TIX_OK && !x->misp_failed)
		e = store_walk_by_day(x->s, x->q->collection, NULL, formats_misp_loose_types,
		                      "x-misp-object-", misp_row, x, err);
	if (e == TIX_OK && !x->misp_failed)
		formats_misp_out_finish(x->misp);
	if (e == TIX_OK && x->misp_failed)
		e = tix_error_set(err, x->misp_err.code, "export", "%s", x->misp_err.msg);
	fputs(mw.n ? "\n]}\n" : "]}\n", x->out);
	formats_misp_out_free(x->misp);
	x->misp = NULL;
	return e;
}

struct gcollect {
	const char **g;
	char (*names)[128];
	size_t *n;
};

static int collect_group(void *arg, const char *group)
{
	struct gcollect *gc = arg;

	if (*gc->n == 64)
		return 1;
	snprintf(gc->names[*gc->n], 128, "%s", group);
	gc->g[*gc->n] = gc->names[*gc->n];
	(*gc->n)++;
	return 0;
}

/* Whether a --type names something that can be stored: a STIX 2.1 object
 * type, or a type with objects in this store (a custom type). */
struct type_seen {
	const char *type;
	int seen;
};

static void note_type(void *arg, const struct store_type_count *c)
{
	struct type_seen *ts = arg;

	ts->seen |= strcmp(c->type, ts->type) == 0;
}

static int check_type(struct store *s, const char *type)
{
	const struct stix_type *t = stix_type_find(type);
	const char *names[256], *near;
	struct type_seen ts = {type, 0};
	struct store_stats_cb cb = {note_type, NULL, &ts};
	struct tix_error err;
	size_t n = 0;

	if (t && t->category != SC_EXTENSION && t->category != SC_EMBEDDED)
		return 0;
	tix_error_clear(&err);
	if (store_stats(s, &cb, &err) == TIX_OK && ts.seen)
		return 0;
	for (size_t i = 0; i < stix_builtin_ntypes && n < 256; i++)
		if (stix_builtin_types[i]->category != SC_EXTENSION &&
		    stix_builtin_types[i]->category != SC_EMBEDDED)
			names[n++] = stix_builtin_types[i]->name;
	near = tix_nearest(type, names, n);
	fprintf(stderr, "tix export: --type '%s' is not a STIX 2.1 object type%s%s%s\n", type,
	        near ? "; did you mean " : " and no stored object has it", near ? near : "",
	        near ? "?" : "");
	return -1;
}

/* ---- feeds ------------------------------------------------------------------------ */

/* Where a feed goes: standard output, or files written beside their final
 * names and renamed over them when the feed is complete. */
struct feed_out {
	const char *path; /* NULL: stdout */
	int dir;          /* path is the suricata-dataset directory */
	const char *set;  /* the set name (the rules file's name) */
	struct {
		char final[4096], tmp[4096];
		FILE *f;
	} files[8];
	size_t nfiles;
	int failed;
};

static FILE *feed_file(struct feed_out *o, const char *stream)
{
	char name[4096];
	size_t i;

	if (o->path == NULL && stream == NULL)
		return stdout;
	if (o->dir)
		snprintf(name, sizeof(name), "%s/%s%s", o->path, stream ? stream : o->set,
		         stream ? "" : ".rules");
	else
		snprintf(name, sizeof(name), "%s", o->path);
	for (i = 0; i < o->nfiles; i++)
		if (strcmp(o->files[i].final, name) == 0)
			return o->files[i].f;
	if (o->nfiles == 8)
		return NULL;
	snprintf(o->files[i].final, sizeof(o->files[i].final), "%s", name);
	snprintf(o->files[i].tmp, sizeof(o->files[i].tmp), "%s.tmp.%ld", name, (long)getpid());
	if ((o->files[i].f = fopen(o->files[i].tmp, "w")) == NULL) {
		fprintf(stderr, "tix export: %s: %s\n", o->files[i].tmp, strerror(errno));
		return NULL;
	}
	o->nfiles++;
	return o->files[i].f;
}

static int feed_write(void *ctx, const char *stream, const char *data, size_t len)
{
	struct feed_out *o = ctx;
	FILE *f = feed_file(o, stream);

	if (f == NULL || (len && fwrite(data, 1, len, f) != len)) {
		o->failed = 1;
		return -1;
	}
	return 0;
}

/* Writes the files out (fsync) and closes them; 0 when all went. */
static int feed_out_sync(struct feed_out *o)
{
	int rc = o->failed ? -1 : 0;

	for (size_t i = 0; i < o->nfiles; i++) {
		int bad = fflush(o->files[i].f) != 0 || fsync(fileno(o->files[i].f)) != 0;

		bad |= fclose(o->files[i].f) != 0;
		o->files[i].f = NULL;
		if (bad)
			rc = -1;
	}
	if (rc)
		o->failed = 1;
	return rc;
}

/* Renames the synced files over their final names (or removes them when
 * the feed or its audit failed). 0 when all went. */
static int feed_out_publish(struct feed_out *o, int ok)
{
	int rc = 0;

	for (size_t i = 0; i < o->nfiles; i++) {
		if (!ok || o->failed) {
			unlink(o->files[i].tmp);
			rc = -1;
		} else if (rename(o->files[i].tmp, o->files[i].final) != 0) {
			fprintf(stderr, "tix export: %s: %s\n", o->files[i].final, strerror(errno));
			unlink(o->files[i].tmp);
			rc = -1;
		}
	}
	return rc;
}

struct feed_report {
	int all;      /* --report */
	size_t shown; /* lines printed */
};

static void feed_report(void *ctx, const char *id, enum formats_feed_reason why, const char *detail)
{
	struct feed_report *r = ctx;

	if (!r->all && why != FR_WARNINGLIST)
		return;
	r->shown++;
	fprintf(stderr, "tix export: left out %s: %s%s%s\n", *id ? id : "(no id)",
	        formats_feed_reason_text(why), *detail ? ": " : "", detail);
}

static void feed_sightings(void *ctx, const char *id, int64_t *count, int64_t *first, int64_t *last)
{
	struct api_sighting_sum t = api_sighting_sum_memo(ctx, id);

	*count = t.count;
	*first = t.first;
	*last = t.last;
}

static const char *feed_exclude(void *ctx, const char *stix_type, const char *value, size_t len)
{
	return match_warninglists_hit(ctx, stix_type, value, len);
}

static void feed_summary(const struct formats_feed_stats *st, const char *format)
{
	fprintf(stderr,
	        "tix export: %zu indicators read, %zu written as %zu %s entries, %zu left out\n",
	        st->indicators, st->written, st->entries, format, st->left_out);
	for (int r = 0; r < FR_NREASONS; r++)
		if (st->values[r])
			fprintf(stderr, "  %zu %s\n", st->values[r],
			        formats_feed_reason_text((enum formats_feed_reason)r));
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"type", required_argument, NULL, 't'},
	        {"added-after", required_argument, NULL, 'a'},
	        {"collection", required_argument, NULL, 'c'},
	        {"all-versions", no_argument, NULL, 'v'},
	        {"as-org", required_argument, NULL, 'o'},
	        {"for-peer", required_argument, NULL, 'F'},
	        {"public", no_argument, NULL, 'P'},
	        {"stix-version", required_argument, NULL, 'S'},
	        {"format", required_argument, NULL, 'f'},
	        {"include-inactive", no_argument, NULL, 'I'},
	        {"min-score", required_argument, NULL, 'M'},
	        {"min-sightings", required_argument, NULL, 1009},
	        {"warninglists", required_argument, NULL, 'w'},
	        {"output", required_argument, NULL, 'O'},
	        {"subdomains", no_argument, NULL, 1001},
	        {"rpz-zone", required_argument, NULL, 1002},
	        {"rpz-policy", required_argument, NULL, 1003},
	        {"serial", required_argument, NULL, 1004},
	        {"address", required_argument, NULL, 1005},
	        {"set-name", required_argument, NULL, 1006},
	        {"source", required_argument, NULL, 1007},
	        {"report", no_argument, NULL, 1008},
	        {"exercise", required_argument, NULL, 1010},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *types[MAX_TYPES + 1] = {NULL};
	const char *db = NULL, *collection = NULL, *as_org = NULL;
	const char *groups[65] = {NULL};
	char group_names[64][128];
	size_t ngroups = 0;
	int public_only = 0, for_peer = 0, modes = 0, misp = 0, feed = -1, serial_set = 0;
	const char *wls[16] = {NULL}, *output = NULL;
	size_t nwls = 0;
	struct formats_feed_opts fo;
	/* the export's reader (big: not on the stack) and the last indicator
	 * whose sightings it counted */
	static struct api_reader reader;
	static struct api_sighting_memo fs;
	struct feed_out fout;
	struct feed_report frep = {0, 0};
	struct match_warninglists *wl = NULL;
	static const char *const indicator_only[] = {"indicator", NULL};
	struct store_query q = {0};
	struct store_collection coll;
	struct export_state x;
	struct tix_error err;
	struct tix_uuid u;
	struct store *s;
	char us[37];
	int ch, ntypes = 0, rc = 0, audited = 0, audit_failed = 0;
	enum tix_err e;

	tix_error_clear(&err);
	memset(&x, 0, sizeof(x));
	memset(&fo, 0, sizeof(fo));
	memset(&fout, 0, sizeof(fout));
	x.out = stdout;
	x.min_score = -1;
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 't':
			if (ntypes == MAX_TYPES) {
				fprintf(stderr, "tix export: at most %d --type options\n",
				        MAX_TYPES);
				return EXIT_USAGE;
			}
			types[ntypes++] = optarg;
			break;
		case 'a': {
			struct tix_time t;

			if (tix_time_parse(optarg, &t, &err) != TIX_OK) {
				fprintf(stderr, "tix export: --added-after: %s\n", err.msg);
				return EXIT_USAGE;
			}
			q.added_after = tix_time_to_us(&t);
			break;
		}
		case 'c': collection = optarg; break;
		case 1010: x.exercise = optarg; break;
		case 'v':
			q.all_versions = 1;
			x.include_inactive = 1; /* the history: every version as it was */
			break;
		case 'I': x.include_inactive = 1; break;
		case 'M': {
			char *end;

			x.min_score = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || x.min_score < 0 || x.min_score > 100) {
				fprintf(stderr,
				        "tix export: --min-score: a number from 0 to 100\n");
				return EXIT_USAGE;
			}
			break;
		}
		case 'o':
			as_org = optarg;
			modes++;
			break;
		case 'F':
			as_org = optarg;
			for_peer = 1;
			modes++;
			break;
		case 'P':
			public_only = 1;
			modes++;
			break;
		case 'S':
			if (strcmp(optarg, "2.1") == 0)
				x.upgrade = 1;
			else if (strcmp(optarg, "as-stored") != 0) {
				fprintf(stderr, "tix export: --stix-version: 2.1 or as-stored\n");
				return EXIT_USAGE;
			}
			break;
		case 'f':
			if (strcmp(optarg, "misp") == 0)
				misp = 1;
			else if ((feed = formats_feed_parse(optarg)) < 0 &&
			         strcmp(optarg, "stix") != 0) {
				fprintf(stderr,
				        "tix export: --format: stix, misp, suricata, "
				        "suricata-dataset, zeek, rpz, nft, ipset, hosts, csv or "
				        "list\n");
				return EXIT_USAGE;
			}
			break;
		case 'w':
			if (nwls == 16) {
				fprintf(stderr, "tix export: at most 16 --warninglists\n");
				return EXIT_USAGE;
			}
			wls[nwls++] = optarg;
			break;
		case 'O': output = optarg; break;
		case 1001: fo.subdomains = 1; break;
		case 1002: fo.zone = optarg; break;
		case 1003: fo.policy = optarg; break;
		case 1004: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || v > 4294967295ull) {
				fprintf(stderr, "tix export: --serial: a number 0 to 4294967295\n");
				return EXIT_USAGE;
			}
			fo.serial = (uint32_t)v;
			serial_set = 1;
			break;
		}
		case 1005: fo.address = optarg; break;
		case 1006: fo.set_name = optarg; break;
		case 1007: fo.source = optarg; break;
		case 1008: frep.all = 1; break;
		case 1009: {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0) {
				fprintf(stderr,
				        "tix export: --min-sightings: a number, 0 or more\n");
				return EXIT_USAGE;
			}
			x.min_sightings = (int64_t)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tix export: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (modes > 1) {
		fprintf(stderr,
		        "tix export: --as-org, --for-peer and --public exclude each other\n");
		return EXIT_USAGE;
	}
	if (feed < 0 && (nwls || output || fo.zone || fo.policy || fo.address || fo.set_name ||
	                 fo.source || fo.subdomains || serial_set || frep.all)) {
		fprintf(stderr, "tix export: --warninglists, --output and the feed options go with "
		                "a feed --format (suricata, zeek, rpz, …)\n");
		return EXIT_USAGE;
	}
	if (misp && q.all_versions) {
		fprintf(stderr, "tix export: MISP events are written from the latest version of "
		                "each object (no --all-versions)\n");
		return EXIT_USAGE;
	}
	if (feed >= 0) {
		char msg[256];
		struct tix_time now;

		fo.format = (enum formats_feed_format)feed;
		if (formats_feed_check_opts(&fo, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "tix export: %s\n", msg);
			return EXIT_USAGE;
		}
		if (misp || x.upgrade || q.all_versions) {
			fprintf(stderr,
			        "tix export: a feed is written from the latest version of each "
			        "indicator (no --all-versions, --stix-version)\n");
			return EXIT_USAGE;
		}
		if (feed == FEED_SURICATA_DATASET) {
			struct stat sb;

			if (output == NULL || stat(output, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
				fprintf(stderr,
				        "tix export: --format suricata-dataset writes several "
				        "files: --output DIR (an existing directory)\n");
				return EXIT_USAGE;
			}
			fout.dir = 1;
		}
		fout.path = output;
		fout.set = fo.set_name ? fo.set_name : "tix";
		tix_time_now(&now);
		fo.now_us = tix_time_to_us(&now);
		if (!serial_set)
			fo.serial = (uint32_t)now.sec;
		if (nwls) {
			wl = match_warninglists_new();
			for (size_t i = 0; i < nwls; i++)
				if (wl == NULL ||
				    match_warninglists_load(wl, wls[i], &err) != TIX_OK) {
					if (wl)
						cli_print_error("export", &err);
					match_warninglists_free(wl);
					return EXIT_INVALID;
				}
			fo.exclude = feed_exclude;
			fo.exclude_ctx = wl;
		}
		fo.report = feed_report;
		fo.report_ctx = &frep;
		if (ntypes == 0)
			for (int i = 0; indicator_only[i]; i++)
				types[ntypes++] = indicator_only[i];
	}
	q.types = ntypes ? types : NULL;
	if ((s = cli_open_existing_store(cli_db_path(db))) == NULL)
		return EXIT_SYSTEM;
	/* one walk in date_added order: a small page cache does, and keeps
	 * the export's memory flat from a small store to a large one */
	if (store_set_cache_kib(s, EXPORT_CACHE_KIB, &err) != TIX_OK) {
		cli_print_error("export", &err);
		store_close(s);
		return EXIT_SYSTEM;
	}
	for (int i = 0; i < ntypes; i++)
		if (check_type(s, types[i]) != 0) {
			store_close(s);
			return EXIT_USAGE;
		}
	tix_buf_init(&x.upgraded, TIX_BUF_UNLIMITED);
	if (cli_policy_node(s, &x.node) != 0) {
		store_close(s);
		return EXIT_INVALID;
	}
	if (public_only) {
		x.filtered = 1;
		x.who.role = POLICY_ANONYMOUS;
		x.node.anonymous_read = 1; /* what anyone may read, whatever the server allows */
	}
	if (collection) {
		if ((e = store_collection_get(s, collection, 0, &coll, &err)) != TIX_OK) {
			cli_print_error("export", &err);
			store_close(s);
			return cli_exit_code(e);
		}
		q.collection = &coll;
	}
	if (as_org) {
		struct store_org org;
		int can_read = 0, can_write = 0;

		x.filtered = 1;
		x.for_peer = for_peer;
		x.who.role = POLICY_ANALYST;
		x.who.org = as_org;
		x.who.exercise = x.exercise;
		x.who.groups = groups;
		if (collection && store_org_get(s, as_org, &org, &err) == TIX_OK &&
		    store_collection_access(s, &coll, org.key, &can_read, &can_write, &err) !=
		            TIX_OK) {
			cli_print_error("export", &err);
			store_close(s);
			return EXIT_SYSTEM;
		}
		x.who.collection_reader = can_read;
		for (size_t i = 0; i < 64; i++)
			groups[i] = NULL;
		{
			struct gcollect gc = {groups, group_names, &ngroups};

			if (store_org_groups(s, as_org, collect_group, &gc, &err) != TIX_OK) {
				cli_print_error("export", &err);
				store_close(s);
				return EXIT_SYSTEM;
			}
		}
	}
	if (tix_uuid_v4(&u) != TIX_OK) {
		fprintf(stderr, "tix export: no randomness for the bundle id\n");
		store_close(s);
		return EXIT_SYSTEM;
	}
	x.s = s;
	{
		struct tix_time now;

		tix_time_now(&now);
		x.now_us = tix_time_to_us(&now);
	}
	if (!x.include_inactive && (cli_decay_model(&x.model) != 0 ||
	                            store_expired_set_load(s, &x.expired, &err) != TIX_OK)) {
		cli_print_error("export", &err);
		store_close(s);
		return EXIT_SYSTEM;
	}
	if (x.min_score >= 0 || x.min_sightings > 0 || feed >= 0) {
		/* the one reader whose view scores indicators (--min-score) and
		 * counts their sightings (feeds): --as-org's (and --for-peer's)
		 * organisation, the anonymous caller for --public, else the
		 * operator. Built only then: a plain --for-peer export of an
		 * organisation unknown here is the policy filter's alone. */
		enum tix_err re;

		fs.s = s;
		fs.r = &reader;
		if (as_org)
			re = api_reader_org(s, &x.node, as_org, &reader, &err);
		else if (public_only)
			re = api_reader_principal(s, &x.node, NULL, &reader, &err);
		else
			re = (api_reader_operator(&reader), TIX_OK);
		if (re != TIX_OK) {
			cli_print_error("export", &err);
			store_id_set_release(&x.expired);
			store_close(s);
			return cli_exit_code(re);
		}
		x.reader = &reader;
		x.seen = &fs;
	}
	{
		struct store_audit_entry ae;
		struct tix_time now;
		char detail[512];
		const char *who = getenv("USER");

		snprintf(detail, sizeof(detail), "tix export%s%s%s%s%s%s%s",
		         collection ? " --collection " : "", collection ? collection : "",
		         as_org ? (for_peer ? " --for-peer " : " --as-org ") : "",
		         as_org ? as_org : "", public_only ? " --public" : "",
		         feed >= 0 ? " --format "
		         : misp    ? " --format misp"
		                   : "",
		         feed >= 0 ? formats_feed_name(fo.format) : "");
		tix_time_now(&now);
		ae = (struct store_audit_entry){
		        tix_time_to_us(&now), "export", who && *who ? who : "operator",
		        as_org ? as_org : "", "",       detail};
		if ((x.audit = store_audit_ids_new(&ae, 0, &err)) == NULL) {
			cli_print_error("export", &err);
			match_warninglists_free(wl);
			store_id_set_release(&x.expired);
			store_close(s);
			return EXIT_SYSTEM;
		}
	}
	if (feed >= 0) {
		struct formats_feed_sink sink = {feed_write, &fout};

		fo.sightings = feed_sightings;
		fo.sightings_ctx = &fs;
		if ((x.feed = formats_feed_new(&fo, &sink, &err)) == NULL) {
			cli_print_error("export", &err);
			match_warninglists_free(wl);
			store_audit_ids_free(x.audit);
			store_id_set_release(&x.expired);
			store_close(s);
			return EXIT_SYSTEM;
		}
		e = store_query(s, &q, write_row, &x, &err);
		if (e == TIX_OK && formats_feed_finish(x.feed, &err) != TIX_OK)
			x.failed = 1;
		if (feed_out_sync(&fout) != 0)
			x.failed = 1;
		/* files appear under their names only once the audit holds
		 * their reads: no feed file goes unrecorded */
		if (output && e == TIX_OK && !x.failed) {
			audited = 1;
			if (store_audit_ids_finish(s, x.audit, &err) != TIX_OK) {
				audit_failed = 1;
				x.failed = 1;
			}
		}
		if (feed_out_publish(&fout, e == TIX_OK && !x.failed) != 0)
			x.failed = 1;
		if (!x.failed)
			feed_summary(formats_feed_get_stats(x.feed), formats_feed_name(fo.format));
		formats_feed_free(x.feed);
		match_warninglists_free(wl);
	} else if (misp) {
		x.q = &q;
		e = export_misp(&x, collection ? coll.title : NULL, &err);
	} else {
		fprintf(stdout, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[",
		        tix_uuid_format(&u, us));
		e = store_query(s, &q, write_row, &x, &err);
		fputs(x.n ? "\n]}\n" : "]}\n", stdout);
	}
	if (e != TIX_OK) {
		cli_print_error("export", &err);
		rc = EXIT_SYSTEM;
	}
	if (fflush(stdout) != 0 || (x.failed && !audit_failed)) {
		fprintf(stderr, "tix export: writing the output failed\n");
		rc = EXIT_SYSTEM;
	}
	/* The audit of what was written to standard output (all of it, or
	 * as far as it went), all parts or none; a feed to --output was
	 * recorded before its files took their names, or discarded. */
	if (!audited && !(feed >= 0 && output) &&
	    store_audit_ids_finish(s, x.audit, &err) != TIX_OK)
		audit_failed = 1;
	if (audit_failed) {
		cli_print_error("export", &err);
		fprintf(stderr, "tix export: the export could not be recorded in the audit log\n");
		rc = EXIT_SYSTEM;
	}
	store_audit_ids_free(x.audit);
	tix_buf_release(&x.upgraded);
	store_id_set_release(&x.expired);
	store_close(s);
	return rc;
}
