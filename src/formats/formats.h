/*
 * formats.h — readers of the formats people share besides STIX: MISP
 * events (JSON), CSV files and plain lists of values. Pure transforms from
 * bytes to a STIX 2.1 bundle (text), which `tix import` then validates and
 * stores like any other; no store, no SQL. docs/formats.md has the tables.
 */
#ifndef TIX_FORMATS_H
#define TIX_FORMATS_H

#include <stddef.h>

#include "core/core.h"

enum formats_kind { FORMATS_AUTO, FORMATS_STIX, FORMATS_MISP, FORMATS_CSV, FORMATS_LIST };

/* "auto", "stix", "misp", "csv", "list" -> kind; -1 when none. */
int formats_kind_parse(const char *name);
const char *formats_kind_name(enum formats_kind k);

/* Guesses the format of a document from its first bytes: FORMATS_MISP for
 * JSON whose top-level (or first element's) first key is "Event",
 * "response", "Attribute" or "Object"; FORMATS_STIX for other JSON;
 * FORMATS_AUTO when it is not JSON (the caller must be told). */
enum formats_kind formats_detect(const char *data, size_t len);

/* Where a reader reports what it refused (error) or changed (warning):
 * `where` is "FILE:LINE" for text formats and "FILE: JSON.PATH" for MISP. */
struct formats_log {
	void (*say)(void *ctx, int is_error, const char *where, const char *msg);
	void *ctx;
	size_t errors, warnings;
};

void formats_say(struct formats_log *log, int is_error, const char *where, const char *fmt, ...)
        TIX_PRINTF(4, 5);

/* ---- MISP (src/formats/misp.c) --------------------------------------- */

/* Converts MISP JSON ({"Event":…}, {"response":[…]} of events, objects or
 * attributes, {"Attribute":[…]}) to a STIX 2.1 bundle appended to out, the
 * way MISP's own STIX 2.1 export does (ids from the MISP uuids). Attributes
 * that cannot be mapped are reported and left out (log->errors counts
 * them); unknown attribute types become x-misp-object-<type> custom
 * objects with a warning. Returns TIX_OK, or an error for a document that
 * is not MISP JSON at all. *count is the number of STIX objects written. */
enum tix_err formats_misp_to_stix(const char *data, size_t len, const char *source,
                                  struct tix_buf *out, size_t *count, struct formats_log *log,
                                  struct tix_error *err);

/* A MISP feed (a directory or URL with manifest.json and <uuid>.json per
 * event): the manifest's events, oldest first. Entries whose key is not a
 * UUID or whose timestamp is missing are reported and left out. */
struct formats_feed_entry {
	char uuid[37]; /* lowercase */
	int64_t timestamp;
};

enum tix_err formats_misp_manifest(const char *data, size_t len, const char *source,
                                   struct formats_feed_entry **out, size_t *n,
                                   struct formats_log *log, struct tix_error *err);

/* hashes.csv of a MISP feed ("md5,event uuid" a line, CRLF or LF):
 * adds to set (a JSON object used as a set) the lowercase md5 of every
 * line naming uuid (case-insensitive). Lines of another shape are skipped.
 * Returns the number of lines that named uuid. */
struct json_t;
size_t formats_misp_hashes_for(const char *data, size_t len, const char *uuid, struct json_t *set);

/* MISP out (src/formats/misp_out.c), streamed: STIX objects become MISP
 * events one event at a time, in constant memory (what one event refers
 * to is held while it is written, then freed). Each report or grouping is
 * an event with what it lists (indicators and observed-data as attributes,
 * observed-data labelled misp:name as objects, attack-pattern/malware/
 * threat-actor/intrusion-set/tool/course-of-action as galaxy clusters,
 * sightings on their attributes); indicators and observables no event
 * lists are one event per day of created.
 *
 * The writer never decides who sees what: every object it reads comes
 * through the caller's source, which answers only what the reader may
 * see (the sharing policy and its withholding, as for any export). */
struct formats_misp_out;
struct json_t;
/* Called with each event ({"Event":…}; borrowed) and its uuid and
 * timestamp; returning non-zero stops. */
typedef int (*formats_misp_event_fn)(void *ctx, const char *uuid, int64_t timestamp,
                                     struct json_t *event);
struct formats_misp_source {
	/* The latest version of id the reader may see (a new reference), or NULL. */
	struct json_t *(*get)(void *ctx, const char *id);
	/* 1 when a report or grouping the reader may see lists id. */
	int (*listed)(void *ctx, const char *id);
	/* Calls each(arg, sighting) for the sightings of id the reader may see
	 * (borrowed), in the order they were added. */
	void (*sightings)(void *ctx, const char *id, void (*each)(void *arg, struct json_t *s),
	                  void *arg);
	void *ctx;
};
/* loose_name names the per-day events (the collection's title; "tix"). */
struct formats_misp_out *formats_misp_out_new(const char *loose_name,
                                              const struct formats_misp_source *src,
                                              formats_misp_event_fn each, void *ctx);
/* A report or grouping (borrowed): its event, written at once. Non-zero
 * when each stopped. */
int formats_misp_out_head(struct formats_misp_out *w, struct json_t *head);
/* A candidate for the per-day events (borrowed), in order of the day of
 * its created: kept when it is of a type those events carry and no report
 * or grouping lists it; a day's event is written when the next day starts.
 * Non-zero when each stopped. */
int formats_misp_out_loose(struct formats_misp_out *w, struct json_t *obj);
/* Writes the last day's event. Non-zero when each stopped. */
int formats_misp_out_finish(struct formats_misp_out *w);
void formats_misp_out_free(struct formats_misp_out *w);
/* The types formats_misp_out_loose keeps (NULL-terminated; and every
 * x-misp-object-<type>). */
extern const char *const formats_misp_loose_types[];
/* The uuid of the per-day event of day ("YYYY-MM-DD"). out: 37 bytes. */
void formats_misp_loose_uuid(const char *loose_name, const char *day, char out[37]);

/* A MISP feed's files from events: the manifest entry of an event (uuid ->
 * Orgc, Tag, info, date, analysis, threat_level_id, timestamp) added to
 * manifest, and the hashes.csv lines ("md5(value),event uuid", one per
 * attribute value and per half of a composite one) appended to csv. */
void formats_misp_feed_entry(const struct json_t *event, struct json_t *manifest,
                             struct tix_buf *csv);
/* MD5 in lowercase hex (hashes.csv names values by it; not for security). */
void formats_md5_hex(const void *data, size_t len, char out[33]);

/* ---- CSV and lists (src/formats/csv.c) ------------------------------- */

/* The value types of --type and of the CSV type column. */
enum formats_value_type {
	FV_NONE,
	FV_DOMAIN,
	FV_IPV4,
	FV_IPV6,
	FV_URL,
	FV_EMAIL,
	FV_MD5,
	FV_SHA1,
	FV_SHA256,
	FV_SHA512,
};

/* "domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "file-md5",
 * "file-sha1", "file-sha256", "file-sha512" and the usual aliases (domain,
 * ip, ip-dst, md5, sha256, …). FV_NONE when unknown. */
enum formats_value_type formats_value_type_parse(const char *name);
/* The type a value looks like (FV_NONE when it looks like none). */
enum formats_value_type formats_value_type_infer(const char *value);

/* Columns are 1-based; 0 is "not mapped". */
struct formats_csv_map {
	int type, value, first_seen, last_seen, description, labels, name;
};

struct formats_text_opts {
	int header;                   /* CSV: the first record is a header */
	char delimiter;               /* CSV: ',' unless told */
	struct formats_csv_map map;   /* CSV */
	enum formats_value_type type; /* list: the type of every line; CSV: FV_NONE */
	int observables;              /* also write observed-data with the SCO */
	const char *source_name;      /* --source: recorded on each object */
	int tlp;                      /* STIX_TLP_* or STIX_TLP_UNSET */
	const char *timestamp;        /* created/modified/valid_from unless first_seen */
};

/* Parses "type=1,value=2,first_seen=4" into map. 0, or -1 with msg set. */
int formats_csv_map_parse(const char *spec, struct formats_csv_map *map, char *msg, size_t msgsize);

/* CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM)
 * or a list (one value a line; blank lines and '#' comments skipped) to a
 * bundle of indicators with patterns (and observed-data with SCOs when
 * opts->observables). Each bad record is reported with its line and left
 * out. Ids are UUIDv5 over the source name and the pattern, so importing
 * the same file again changes nothing. */
enum tix_err formats_csv_to_stix(const char *data, size_t len, const char *source,
                                 const struct formats_text_opts *opts, struct tix_buf *out,
                                 size_t *count, struct formats_log *log, struct tix_error *err);
enum tix_err formats_list_to_stix(const char *data, size_t len, const char *source,
                                  const struct formats_text_opts *opts, struct tix_buf *out,
                                  size_t *count, struct formats_log *log, struct tix_error *err);

/* The CSV reader itself, for readers of other row shapes (src/route):
 * one RFC 4180 record from *pp (quoted fields, doubled quotes, CRLF or LF)
 * into fields (pointers into buf, at most max). Returns the number of
 * fields, 0 at the end, -1 for a malformed record (with *why; *pp is past
 * it). *lines counts the line ends consumed. */
int formats_csv_record(const char **pp, const char *end, char delim, char *buf, size_t bufsize,
                       const char **fields, int max, size_t *lines, const char **why);
/* 1 when s[0..n) is valid UTF-8. */
int formats_utf8_ok(const void *s, size_t n);
/* data past a UTF-8 byte order mark (len shortened), or data. */
const char *formats_skip_bom(const char *data, size_t *len);
/* Seconds since the epoch from "YYYY-MM-DD[THH:MM:SS[.f]][Z|±HH:MM]",
 * "YYYY-MM-DD HH:MM:SS" or digits (Unix time). 0, or -1. */
int formats_parse_when(const char *s, int64_t *sec);

/* ---- repairs (src/formats/repair.c) ------------------------------------ */

struct json_t;
/* `tix import --repair`: removes empty optional lists and empty custom
 * (x_) strings at any depth and trims white space around URLs, in place.
 * Appends one "PATH: what was done" string per repair to done (a JSON
 * array) and returns how many. */
size_t formats_repair(struct json_t *obj, struct json_t *done);

/* ---- STIX 2.0 to 2.1 (src/formats/upgrade.c) --------------------------- */

/* Rewrites a STIX 2.0 object (no spec_version) as 2.1 in place: adds
 * spec_version, millisecond created/modified, pattern_type "stix",
 * malware is_family false, and turns observed-data's objects dictionary
 * into top-level SCOs (deterministic ids, refs rewritten, the markings
 * carried) appended to extra, with object_refs. Returns 1 when obj was
 * 2.0, 0 when it is left as it was. */
int formats_upgrade_to_21(struct json_t *obj, struct json_t *extra);

/* 1 for the types the MISP mapping makes from MISP's shared entities
 * rather than from an event's own data (the creator organisation's identity,
 * galaxy clusters' SDOs): dated by each event, so an importer writes them
 * once, from the first event naming them (docs/formats.md). */
int formats_misp_shared_entity(const char *type);

/* ---- feeds: indicators for the tools that load them (src/formats/feed.c,
 * suricata.c, zeek.c, rpz.c, nft.c, lists.c; docs/feeds.md) ------------ */

/* The formats of `tix export --format` and GET /feeds/<collection>/<format>. */
enum formats_feed_format {
	FEED_SURICATA,
	FEED_SURICATA_DATASET,
	FEED_ZEEK,
	FEED_RPZ,
	FEED_NFT,
	FEED_IPSET,
	FEED_HOSTS,
	FEED_CSV,
	FEED_LIST,
	FEED_NFORMATS
};

/* "suricata", "suricata-dataset", "zeek", "rpz", "nft", "ipset", "hosts",
 * "csv", "list" -> format; -1 for anything else. */
int formats_feed_parse(const char *name);
const char *formats_feed_name(enum formats_feed_format f);
/* The media type a feed is served as ("text/plain; charset=utf-8", "text/csv"...). */
const char *formats_feed_media_type(enum formats_feed_format f);

/* Why an indicator, or one of its values, was left out. */
enum formats_feed_reason {
	FR_NOT_INDICATOR, /* not an indicator, or no id / pattern */
	FR_REVOKED,
	FR_EXPIRED,     /* valid_until has passed */
	FR_NOT_YET,     /* valid_from is in the future */
	FR_NOT_STIX,    /* pattern_type is not "stix" */
	FR_BAD_PATTERN, /* the pattern does not parse */
	FR_COMBINED,    /* AND, FOLLOWEDBY or a qualifier: not one value alone */
	FR_NEGATED,     /* NOT */
	FR_REGEX,       /* MATCHES */
	FR_OPERATOR,    /* another operator or a property no feed carries */
	FR_KIND,        /* this format cannot carry this kind of value */
	FR_BAD_VALUE,   /* a value that would break the format's syntax, refused */
	FR_WARNINGLIST, /* on a warninglist (--warninglists) */
	FR_DUPLICATE,   /* written already for another indicator */
	FR_DECAYED,     /* its decay score fell below the floor (tix expire) */
	FR_LOW_SCORE,   /* its decay score is below --min-score */
	FR_SIGHTINGS,   /* fewer readable sightings than --min-sightings */
	FR_NREASONS
};

const char *formats_feed_reason_text(enum formats_feed_reason r);

struct formats_feed_stats {
	size_t indicators;          /* indicators handed in */
	size_t written;             /* indicators with at least one entry written */
	size_t entries;             /* rules, records, names or set elements written */
	size_t left_out;            /* indicators that gave no entry */
	size_t values[FR_NREASONS]; /* values (or whole indicators) left out, by reason */
	/* The earliest valid_from or valid_until after now_us among the
	 * indicators seen (0: none): the feed may change then without any
	 * change to the store (for caching it). */
	int64_t next_change_us;
};

/* Where the bytes go: stream is NULL for the main output and a file name
 * ("tix-domains.lst") for the other files of suricata-dataset. Returns 0,
 * or non-zero to fail the feed (a write error). */
struct formats_feed_sink {
	int (*write)(void *ctx, const char *stream, const char *data, size_t len);
	void *ctx;
};

struct formats_feed_opts {
	enum formats_feed_format format;
	int64_t now_us;       /* lifecycle: what is valid at this time */
	uint32_t serial;      /* rpz: the SOA serial */
	const char *zone;     /* rpz: the zone's origin ("rpz.tix." when NULL) */
	const char *policy;   /* rpz: nxdomain (default), nodata, passthru, drop,
	                         tcp-only or cname:TARGET (formats_feed_check_opts) */
	const char *address;  /* hosts: the address names map to ("0.0.0.0") */
	const char *set_name; /* nft table and set prefix, ipset set prefix ("tix") */
	const char *source;   /* zeek meta.source, suricata msg ("tix") */
	int subdomains;       /* every domain also covers the names below it */
	/* Asked of every value before it is written (the warninglists): the
	 * name of the list that holds it, to leave it out, or NULL. */
	const char *(*exclude)(void *ctx, const char *stix_type, const char *value, size_t len);
	void *exclude_ctx;
	/* Told of each value or indicator left out, or NULL. */
	void (*report)(void *ctx, const char *indicator_id, enum formats_feed_reason why,
	               const char *detail);
	void *report_ctx;
	/* The sightings of an indicator its reader may read (count, first and
	 * last seen in µs; all 0 for none), asked once per indicator by the
	 * writers that carry them (csv, suricata, zeek); NULL: none. */
	void (*sightings)(void *ctx, const char *indicator_id, int64_t *count, int64_t *first_us,
	                  int64_t *last_us);
	void *sightings_ctx;
};

struct formats_feed;

/* 1 when the format carries the sighting aggregate (opts.sightings: csv,
 * suricata, zeek), 0 when it does not. */
int formats_feed_carries_sightings(enum formats_feed_format format);
/* Checks the options (zone and policy names, address, set name): 0, or -1
 * with msg set. */
int formats_feed_check_opts(const struct formats_feed_opts *o, char *msg, size_t msgsize);
/* A writer, its header written to the sink. NULL on ENOMEM or bad options. */
struct formats_feed *formats_feed_new(const struct formats_feed_opts *o,
                                      const struct formats_feed_sink *sink, struct tix_error *err);
/* One STIX object (JSON text), already through the reader's sharing
 * policy: an indicator that is active at now_us is written as the
 * entries the format can carry; anything else is counted and reported. */
enum tix_err formats_feed_add(struct formats_feed *f, const char *json, size_t len,
                              struct tix_error *err);
/* An indicator the caller left out before it reached the writer (its decay
 * score: FR_DECAYED, FR_LOW_SCORE; its sightings: FR_SIGHTINGS), counted and
 * reported as the writer's own. */
void formats_feed_skip(struct formats_feed *f, const char *indicator_id,
                       enum formats_feed_reason why);
/* Writes the trailer and flushes every stream; frees what the writer
 * remembered (its no-repeat sets). Nothing may be added after it. */
enum tix_err formats_feed_finish(struct formats_feed *f, struct tix_error *err);
const struct formats_feed_stats *formats_feed_get_stats(const struct formats_feed *f);
void formats_feed_free(struct formats_feed *f);

#endif
