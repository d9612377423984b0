/*
 * route/route.h — constituency routing (docs/route.md): report rows in
 * IntelMQ's fields (through a per-feed column mapping) are routed to the
 * constituent owning the address (longest prefix, then the ASN of the
 * operator's prefix-to-ASN table, then the registrable domain through the
 * Public Suffix List), stored as TLP:AMBER STIX for that constituent's
 * organisation, and mailed as aggregated digests.
 */
#ifndef TIX_ROUTE_H
#define TIX_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/* ---- values (src/route/values.c) ---------------------------------------- */

/* "a.b.c.d/p" or "x::/p" (a bare address is a /32 or /128) with no host
 * bits set; lo, hi and plen filled. 0, or -1 with msg saying why. */
int route_range_parse(const char *text, struct store_route_range *r, char *msg, size_t msgsize);
/* Sets hi (and clears lo's host bits) from lo, family and plen. */
void route_range_complete(struct store_route_range *r);
/* "a.b.c.d/p" or "x::/p" of a range, into out (64 bytes). */
const char *route_range_format(const struct store_route_range *r, char out[64]);
/* "64500" or "AS64500" (1..4294967294); 0 or -1. */
int route_asn_parse(const char *s, int64_t *asn);
/* A domain name in its one form: internationalised names to their A-labels
 * (UTS #46, via ICU), lowercase, no trailing dot. out holds 254 bytes.
 * Returns the length, or -1 when it is not a domain name. */
int route_domain_norm(const char *s, size_t n, char out[254]);
/* An e-mail address fit for a To: header: local@domain of the characters
 * values_norm_email allows, nothing else (no spaces, quotes, CR, LF). */
int route_email_norm(const char *s, char out[321]);
/* A constituent name: 1-64 of A-Z a-z 0-9 . _ - (it is put in file names
 * and mail subjects). */
int route_name_ok(const char *s);
/* The sharing group of an organisation's reports: "route:ORG". */
void route_group_of(const char *org, char *out, size_t size);

/* A prefix-to-ASN table in the common text forms, one prefix a line:
 * "PREFIX/LEN ASN" (RIR and BGP dumps) or "ADDRESS LEN ASN" (RouteViews'
 * pfx2as), white space between, '#' comments; a set of origins ("64500_64501",
 * "64500,64501", "{64500,64501}") counts as its first. Each good line goes
 * to add, each bad one to bad (line number and why). Returns the number of
 * good lines. */
size_t route_asn_table_parse(const char *text, size_t len,
                             void (*add)(void *, const struct store_route_range *, int64_t),
                             void (*bad)(void *, size_t line, const char *why), void *arg);

/* ---- the routing table (src/route/table.c) ------------------------------- */

enum route_reason {
	ROUTE_OK = 0,
	ROUTE_NO_OWNER,   /* no range, ASN or domain of any constituent covers it */
	ROUTE_AMBIGUOUS,  /* two constituents claim it equally */
	ROUTE_MALFORMED,  /* the row itself is wrong */
	ROUTE_NO_CONTACT, /* its owner has no contact to tell */
};
const char *route_reason_name(enum route_reason r); /* "no-owner", ... */

struct route_owner {
	int64_t key; /* store key of the constituent */
	const char *name, *org;
	size_t contacts;
};

struct route_table;
/* Reads the constituents, their ranges, ASNs and domains and the
 * prefix-to-ASN table from the store, and opens the Public Suffix List
 * (Debian's publicsuffix data, read at run time). */
enum tix_err route_table_load(struct store *s, struct route_table **out, struct tix_error *err);
/* The same from nothing, for tests and the benchmark: add, then finish. */
struct route_table *route_table_new(void);
int route_table_add_owner(struct route_table *t, const struct route_owner *o); /* its index */
void route_table_add_range(struct route_table *t, int owner, const struct store_route_range *r);
void route_table_add_asn(struct route_table *t, int owner, int64_t asn);
void route_table_add_domain(struct route_table *t, int owner, const char *domain);
void route_table_add_pfx2asn(struct route_table *t, const struct store_route_range *r, int64_t asn);
enum tix_err route_table_finish(struct route_table *t, struct tix_error *err);
void route_table_free(struct route_table *t);
size_t route_table_owners(const struct route_table *t);

/* ---- report rows (src/route/feeds.c) -------------------------------------- */

/* A column mapping: which IntelMQ field each column of a feed's CSV holds,
 * and fields every row of the feed has (classification of a report type).
 * The text form (one a line; docs/route.md):
 *     column COLUMN FIELD      e.g.  column ip source.ip
 *     set FIELD VALUE          e.g.  set classification.type vulnerable-system
 * with '#' comments. */
struct route_feed;
/* A shipped mapping (the Shadowserver report shapes), or NULL. */
const struct route_feed *route_feed_shipped(const char *name);
/* The names of the shipped mappings, NULL-terminated. */
const char *const *route_feed_names(void);
/* Parses a mapping's text; NULL with msg ("LINE: why") when it is wrong. */
struct route_feed *route_feed_parse(const char *text, size_t len, char *msg, size_t msgsize);
void route_feed_free(struct route_feed *f);

/* One routed-to-be event in IntelMQ's fields, normalised. Strings point
 * into the reader's buffers: valid until the next row. */
struct route_event {
	const char *feed, *taxonomy, *type, *identifier;
	int64_t time_source, time_observation; /* µs */
	const char *ip;                        /* normalised text, or NULL */
	int family;                            /* 4 or 6 when ip */
	unsigned char addr[16];
	const char *fqdn;    /* A-label form, or NULL */
	const char *url;     /* normalised, or NULL */
	const char *account; /* or NULL */
	int64_t asn;         /* source.asn of the row, or 0 */
	int port;            /* source.port, or -1 */
	const char *address; /* what the event is about: ip, else fqdn, url, account */
	/* Every other field of the row, by its IntelMQ name when it has one,
	 * else its column name. */
	const char *const *extra_names;
	const char *const *extra_values;
	size_t nextra;
	char key[80]; /* route_event_key: x-tix-report--UUIDv5 of the feed and the fields */
};

struct route_reader;
/* For a CSV whose header is fields[0..n): each column is taken through
 * the feed's mapping (may be NULL), else as the IntelMQ field it names,
 * else kept as an extra field. NULL with msg when the header cannot give
 * the minimum fields (a time.source column, and source.ip, source.fqdn,
 * source.url or source.account). */
struct route_reader *route_reader_open(const struct route_feed *feed, const char *feed_name,
                                       const char *const *fields, int n, char *msg, size_t msgsize);
void route_reader_free(struct route_reader *r);
/* Reads one data row. now_us is time.observation when the row has none.
 * 0, or -1 with why (the row is malformed: wrong column count, bad
 * address, unknown classification, control characters, a time that is
 * not one). */
int route_reader_row(struct route_reader *r, const char *const *fields, int n, int64_t now_us,
                     struct route_event *ev, char *why, size_t whysize);

/* Fills ev->key for the row route_reader_row read last (its fields must
 * still be valid): computed only when the row is kept, not to route it. */
void route_event_key(struct route_reader *r, struct route_event *ev);

/* Which constituent owns the event and why. */
struct route_match {
	enum route_reason reason;
	const struct route_owner *owner; /* when reason is ROUTE_OK or ROUTE_NO_CONTACT */
	const char *by;                  /* "range", "asn" or "domain" */
	struct store_route_range range;  /* by range: the range */
	const char *domain;              /* by domain: the domain (the table's) */
	int64_t asn;                     /* from the prefix-to-ASN table, else the row's, or 0 */
};
void route_match_event(const struct route_table *t, const struct route_event *ev,
                       struct route_match *m);
/* What matched: "192.0.2.0/24", "AS64500" or the domain, into out. */
const char *route_match_what(const struct route_match *m, char out[80]);

/* ---- STIX and digests (src/route/report.c) ---------------------------------- */

/* The extension-definition of x-tix-report (docs/route.md), as JSON text. */
const char *route_report_extension(void);
#define ROUTE_REPORT_EXT "extension-definition--6c5b3d31-7e1d-5f0a-9a57-41c1d8f3a5e2"

/* The x-tix-report object of a routed event (m->owner set): TLP:AMBER,
 * for the sharing group of the owner's organisation only. A new reference,
 * or NULL when out of memory. */
struct json_t;
struct json_t *route_report_stix(const struct route_event *ev, const struct route_match *m);

/* A digest's CSV (header and one line per aggregated row). */
void route_digest_csv_header(struct tix_buf *out);
void route_digest_csv_row(struct tix_buf *out, const struct store_route_agg *a);
/* The mail body in lang where a template exists, else English. */
struct route_digest_summary {
	const char *constituent, *org;
	int64_t since, until; /* µs */
	int64_t rows, reports;
	/* per classification type, in order: up to 64 */
	const char *types[64];
	int64_t type_reports[64];
	size_t ntypes;
};
void route_digest_body(struct tix_buf *out, const char *lang, const struct route_digest_summary *d);
/* The subject line (only the constituent's checked name and numbers). */
void route_digest_subject(char *out, size_t size, const struct route_digest_summary *d);
/* A whole mail for `sendmail -t`: headers built only from checked values
 * (from, the contacts, the subject), the body, and the CSV attached in
 * base64 as NAME.csv. */
enum tix_err route_digest_mail(struct tix_buf *out, const char *from, const char *const *to,
                               size_t nto, const char *subject, const char *body,
                               const char *csv_name, const char *csv, size_t csv_len);

#endif
