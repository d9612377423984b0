/*
 * library.h — the resource library (issue 24, docs/library.md): child
 * online protection and capacity-building materials as x-tix-resource
 * objects (LRMI-style fields, an extension-definition), checked on the way
 * in (title, BCP 47 languages, ISO 3166 countries, plain text, http(s)
 * URLs whose host is not on the block list), reviews as each reviewing
 * organisation's own x-tix-resource-review, CSV import, search in every
 * script with facets, and offline packs (a static HTML index with its
 * search built in).
 */
#ifndef TIX_LIBRARY_H
#define TIX_LIBRARY_H

#include <jansson.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

#define LIBRARY_TYPE        "x-tix-resource"
#define LIBRARY_REVIEW_TYPE "x-tix-resource-review"
/* UUIDv5 of https://tix/resource and https://tix/resource-review (URL namespace). */
#define LIBRARY_EXT        "extension-definition--06277f08-518c-5d26-ba8f-bc645a41e1b6"
#define LIBRARY_REVIEW_EXT "extension-definition--ed782c34-9637-52fc-8d4c-c8563c97e6fe"
#define LIBRARY_MAX_INPUT  (64u << 20)

/* What every call needs: the store, the collection written to, the
 * organisation writing (NULL: the operator's), the clock (µs). */
struct library_ctx {
	struct store *s;
	const struct store_collection *collection;
	const char *org;
	int64_t now_us;
	const char *actor;
};

/* The extension-definitions of docs/library.md (a new array). */
json_t *library_extension_definitions(void);

/* Checks a resource given as fields (the names of docs/library.md, or
 * their LRMI names as CSV columns use them: inLanguage, ...; list fields
 * as arrays or as text separated by ';') or as a stored x-tix-resource,
 * and makes the STIX object of it: id kept, or derived from org and the
 * URL (or title) so an import made again makes new versions; created kept
 * from the stored version (c->s may be NULL: none). blocked(host) says
 * whether a host is on the block list (NULL: none is). Returns a new
 * object, or NULL with err naming the field and the reason. */
json_t *library_resource_make(const struct library_ctx *c, const json_t *in,
                              int (*blocked)(void *, const char *host), void *barg,
                              struct tix_error *err);

/* The node's block list, loaded (library_blocklist_free it), and its test
 * (the blocked argument of library_resource_make). */
struct library_blocklist {
	char **hosts;
	size_t n, cap;
};
enum tix_err library_blocklist_load(struct store *s, struct library_blocklist *b,
                                    struct tix_error *err);
int library_blocked(void *blocklist, const char *host);
void library_blocklist_free(struct library_blocklist *b);

/* The host of an http(s) URL, lowercased, into host; 0, or -1 with *why. */
int library_url_host(const char *url, char *host, size_t size, const char **why);
/* 1 when host is blocked by an entry (the entry itself or a name under it). */
int library_host_matches(const char *host, const char *entry);

/* Reads CSV (a header row naming the fields; lists separated by ';') into
 * an array of field objects, one per row (empty cells left out). NULL with
 * err ("line N: ...") on malformed CSV or an unknown column. */
json_t *library_csv_rows(const char *data, size_t len, const char *source, struct tix_error *err);

/* Checks and stores resources (one object, as library_resource_make
 * takes, each in turn) with the node's block list, all in one
 * transaction: any refused, none is stored (err names it, *bad its
 * index). ids, when not NULL, gets the ids written. */
enum tix_err library_put(const struct library_ctx *c, const json_t *inputs, json_t *ids,
                         size_t *bad, struct tix_error *err);

/* A review of resource id by c->org (required): status approved,
 * needs-changes or rejected, comment optional; the org's own
 * x-tix-resource-review (a new version when it reviewed before). */
enum tix_err library_review(const struct library_ctx *c, const char *id, const char *status,
                            const char *comment, char review_id[128], struct tix_error *err);

/* The latest version of id and its reviews ({"resource": ..., "reviews":
 * [...]}), or TIX_ENOTFOUND. */
enum tix_err library_show(struct store *s, const char *id, json_t **out, struct tix_error *err);

/* ---- search (search.c) ----------------------------------------------- */

struct library_query {
	const char *text; /* words, or NULL/"" for every resource */
	const char *audience, *lang, *country, *topic, *license;
	size_t limit; /* results listed (0: 50); facets count them all */
	int facets;
	/* may the caller read id (the API's policy)? NULL: yes */
	int (*may_read)(void *arg, const char *id);
	void *arg;
};

/* Checks a query's text and filters as the fields are checked (UTF-8; an
 * audience and a topic of the lists, a BCP 47 language, an assigned
 * country code, a licence of plain text): TIX_EINVAL naming the filter in
 * err->where (the value is not repeated). library_search calls it. */
enum tix_err library_query_check(const struct library_query *q, struct tix_error *err);
/* Brings the index up to date with the resources the store holds, then
 * searches: {"results": [...], "total": N, "more": bool, "facets": {...}
 * (when asked)}, best first. TIX_EINVAL for a query with no word. */
enum tix_err library_search(struct store *s, const struct library_query *q, json_t **out,
                            struct tix_error *err);
/* The words of a resource as the index holds them (a new string). */
char *library_words(const json_t *resource);
/* Splits text into the index's terms: words (unicode61) and strings of
 * scripts without spaces (nospace). Returns how many, or -1 with *why. */
int library_terms(const char *text, char **words, size_t *nw, char **nospace, size_t *nn,
                  size_t max, char *buf, size_t bufsize, const char **why);

/* ---- offline packs (pack.c) ------------------------------------------ */

/* Writes DIR/index.html (the resources of q, their search built in, no
 * network), DIR/resources.json (a STIX bundle) and DIR/files/NAME for each
 * resource whose file is in files_dir (a regular file, not a link) and whose
 * licence allows copies; never through a symbolic link inside DIR. */
enum tix_err library_pack(struct store *s, const struct library_query *q, const char *dir,
                          const char *files_dir, size_t *count, size_t *files,
                          struct tix_error *err);
/* Loads DIR/resources.json (checked as every other resource): a regular
 * file, not a link, of at most LIBRARY_MAX_INPUT bytes. */
enum tix_err library_unpack(const struct library_ctx *c, const char *dir, size_t *count,
                            struct tix_error *err);
/* 1 when a licence lets a pack carry copies (Creative Commons, public domain). */
int library_license_copies(const char *license);

#endif
