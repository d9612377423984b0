/*
 * formats/feed_int.h — what the feed writers (suricata.c, zeek.c, rpz.c,
 * nft.c, lists.c) share with the core in feed.c: the values an indicator
 * stands for, the indicator's metadata, buffered output streams, and the
 * sets (values/seen.h, bounded memory) for the formats that must not
 * repeat an entry.
 */
#ifndef TIX_FORMATS_FEED_INT_H
#define TIX_FORMATS_FEED_INT_H

#include <stdint.h>

#include "formats/formats.h"
#include "values/seen.h"

/* The kinds of value a feed can carry. */
enum feed_kind {
	FK_DOMAIN,     /* a name */
	FK_SUBDOMAINS, /* the names below a domain (LIKE '%.d', or --subdomains) */
	FK_IPV4,       /* an address or a CIDR range */
	FK_IPV6,
	FK_URL,
	FK_EMAIL,
	FK_MD5,
	FK_SHA1,
	FK_SHA256,
	FK_SHA512,
};

/* One value, normalised (values.h) and checked as safe for every writer:
 * domains are ASCII labels (punycode for IDNs), URLs and e-mail addresses
 * printable ASCII without spaces, quotes or backslashes, hashes lowercase
 * hex, addresses in canonical text ("10.0.0.0/8", "2001:db8::/32"; no
 * prefix for a single address). */
struct feed_value {
	enum feed_kind kind;
	const char *text; /* NUL-terminated */
	size_t len;
	unsigned char addr[16]; /* FK_IPV4 / FK_IPV6: the network */
	unsigned plen;          /* its prefix length (32 / 128 for one address) */
	/* FK_URL: where host and path start in text, and their lengths */
	size_t host, host_len, path, path_len;
	int http; /* FK_URL: scheme http */
};

/* What a writer may say about the indicator a value comes from; strings
 * are NUL-terminated, "" when absent, and not yet escaped for any format. */
struct feed_indicator {
	const char *id;
	const char *name;
	const char *description;
	const char *url; /* the first external reference's url */
	const char *tlp; /* "clear", "green", "amber", "amber+strict", "red" or "" */
	const char *modified;
	const char *valid_from, *valid_until;
	int64_t modified_s; /* Unix seconds of modified (rev) */
	/* its sightings the reader may read (csv, suricata, zeek: formats_feed_opts) */
	int64_t sightings, first_seen_us, last_seen_us;
};

#define FEED_MAX_STREAMS 8

struct formats_feed;

struct feed_writer {
	/* The header (every stream's); may be NULL. */
	enum tix_err (*begin)(struct formats_feed *f);
	/* Writes one value of ind, or returns a reason it cannot (FR_*) with
	 * *detail set to a short text. 0 when written. */
	int (*value)(struct formats_feed *f, const struct feed_indicator *ind,
	             const struct feed_value *v, const char **detail);
	/* The trailer (and whatever a writer held back); may be NULL. */
	enum tix_err (*end)(struct formats_feed *f);
	void (*release)(struct formats_feed *f);
};

struct formats_feed {
	struct formats_feed_opts o;
	struct formats_feed_sink sink;
	const struct feed_writer *w;
	struct formats_feed_stats st;
	struct tix_buf out[FEED_MAX_STREAMS];
	const char *stream_name[FEED_MAX_STREAMS];
	size_t nstreams;
	int failed;
	int finishing;
	char names[FEED_MAX_STREAMS][64];
	struct values_seen *seen; /* the entries written, for writers that dedupe */
	struct values_seen *sids; /* suricata: sids used */
	struct values_seen *mine; /* the values written for the indicator being added */
	/* writer state */
	struct tix_buf batch[2]; /* nft: pending elements per family */
	size_t nbatch[2];
	struct tix_buf arena; /* the fields of the indicator being written */
	char scratch[8192];
};

/* Output: appends to stream i (0 is the main one); flushed to the sink
 * in large writes. */
void feed_put(struct formats_feed *f, size_t stream, const char *s, size_t n);
void feed_puts(struct formats_feed *f, size_t stream, const char *s);
void feed_printf(struct formats_feed *f, size_t stream, const char *fmt, ...) TIX_PRINTF(3, 4);
/* Declares stream i with its file name (for suricata-dataset). */
void feed_stream(struct formats_feed *f, size_t i, const char *name);
/* 1 when this value was written before in the feed (by hash of kind, text
 * and salt), in bounded memory however many were. */
int feed_repeat(struct formats_feed *f, const struct feed_value *v, const char *salt);
/* 1 when this value was written before for the indicator being added. */
int feed_repeat_here(struct formats_feed *f, const struct feed_value *v);

extern const struct feed_writer feed_suricata_writer, feed_suricata_dataset_writer,
        feed_zeek_writer, feed_rpz_writer, feed_nft_writer, feed_ipset_writer, feed_hosts_writer,
        feed_csv_writer, feed_list_writer;

/* The STIX type of a kind ("domain-name", "ipv4-addr", "url", "file"...). */
const char *feed_kind_stix_type(enum feed_kind k);
/* A short name of a kind ("domain", "ipv4", "sha256"...). */
const char *feed_kind_name(enum feed_kind k);
/* ind's first_seen_us and last_seen_us as RFC 3339 UTC text with digits
 * (0-6) of the second's fraction; "" each when it has no sightings. */
void feed_seen_times(const struct feed_indicator *ind, int digits, char first[32], char last[32]);

#endif
