/*
 * stix.h — STIX 2.1 objects: reading documents (bundles, arrays, single
 * objects) as a stream of jansson objects, validating them against the
 * spec's MUST rules, deterministic SCO ids, and the metadata the store
 * indexes.
 *
 * Objects are jansson json_t values; the caller owns the references it is
 * handed (json_decref). Messages name the JSON path of the problem, e.g.
 * "objects[17].valid_from: '2016-13-01T00:00:00Z': month out of range".
 */
#ifndef TIX_STIX_H
#define TIX_STIX_H

#include <jansson.h>

#include "core/core.h"

/* Nesting deeper than this (counting the document's own levels) is
 * rejected before validation. */
#define STIX_MAX_DEPTH 64

/* ---- JSON ------------------------------------------------------------ */

/* Parses one JSON value from data[0..len) with duplicate keys rejected,
 * invalid UTF-8 rejected, and depth limited to STIX_MAX_DEPTH. On error
 * err->where is "SOURCE:LINE:COLUMN". Returns a new reference or NULL. */
json_t *stix_json_parse(const char *data, size_t len, const char *source, struct tix_error *err);

/* Serialises compactly, keeping key order. Returns TIX_OK or TIX_ENOMEM. */
enum tix_err stix_json_dump(const json_t *obj, struct tix_buf *out);

/* Appends valid JSON text without the white space between its tokens: the
 * compact form of a value parsed from these very bytes, with its keys in
 * the order written, at a fraction of the cost of serialising the parsed
 * value again. raw must be valid JSON (it was parsed). */
enum tix_err stix_json_minify(const char *raw, size_t len, struct tix_buf *out);

/* Depth of a JSON value (a scalar is 1). Stops counting at limit + 1. */
int stix_json_depth(const json_t *v, int limit);

/* ---- reading documents ------------------------------------------------ */

enum stix_doc_kind { STIX_DOC_BUNDLE, STIX_DOC_ARRAY, STIX_DOC_OBJECT };

/* Streams the objects of a document held in memory, one at a time, so a
 * bundle of any size is read in memory proportional to its largest
 * object. The buffer must outlive the reader. */
struct stix_reader;

enum tix_err stix_reader_open(const char *data, size_t len, const char *source,
                              struct stix_reader **out, struct tix_error *err);
void stix_reader_close(struct stix_reader *r);
enum stix_doc_kind stix_reader_kind(const struct stix_reader *r);
/* The bundle's id, or NULL. */
const char *stix_reader_bundle_id(const struct stix_reader *r);
/* How far into the document the reader has got, in bytes. */
size_t stix_reader_offset(const struct stix_reader *r);
/* Two-step reading, for callers that can decide from an object's bytes
 * alone (say, that exactly these bytes were stored before) whether to parse
 * it. peek finds the next object without parsing it: *raw and *rawlen are
 * its bytes (*rawlen is 0 when its extent cannot be known without parsing,
 * *raw NULL at the end). take then parses it as next does, or skip moves
 * past it unparsed (only when *rawlen was not 0). */
enum tix_err stix_reader_peek(struct stix_reader *r, const char **raw, size_t *rawlen,
                              const char **path, struct tix_error *err);
enum tix_err stix_reader_take(struct stix_reader *r, json_t **obj, struct tix_error *err);
enum tix_err stix_reader_skip(struct stix_reader *r, struct tix_error *err);
/* 1 when the object take gave last has no white space between its tokens:
 * its bytes (peek's) are then its compact form already (what
 * stix_json_minify would make of them); 0 when not, or not known. */
int stix_reader_compact(const struct stix_reader *r);
/* The caller gives back the document's first upto bytes (at most the
 * offset): the reader never reads them again, and errors still say their
 * line and column. */
void stix_reader_release(struct stix_reader *r, size_t upto);
/* For callers that find an element's end themselves while reading it:
 * head gives the next element's first byte and the bytes left in the
 * document (*raw NULL at the end), without looking for its end; skip_len
 * then moves past an element of len bytes. Or peek, take and skip as
 * above. Only for the elements of an array (not a single object). */
enum tix_err stix_reader_head(struct stix_reader *r, const char **raw, size_t *avail,
                              struct tix_error *err);
enum tix_err stix_reader_skip_len(struct stix_reader *r, size_t len, struct tix_error *err);

/* Sets *obj to the next object (caller decrefs) and *path to its JSON path
 * ("objects[3]", "[3]" or ""), or *obj to NULL at the end. A malformed
 * element ends the stream with an error that names line and column. */
enum tix_err stix_reader_next(struct stix_reader *r, json_t **obj, const char **path,
                              struct tix_error *err);

/* ---- validation -------------------------------------------------------- */

/* The problems found in one object: each message is "PATH: what is wrong". */
struct stix_problems {
	char **msgs;
	size_t count, cap;
	size_t limit; /* stop recording after this many (default 20) */
	size_t dropped;
	/* What is accepted but worth saying, as the official validator warns
	 * (a custom _ref property that holds no identifier): same form. */
	char **warns;
	size_t nwarns, warncap;
};

void stix_problems_init(struct stix_problems *p);
void stix_problems_release(struct stix_problems *p);
void stix_problems_reset(struct stix_problems *p);

/* Checks an indicator's pattern of pattern_type "stix". Returns TIX_OK, or
 * an error whose message says what is wrong and where (the column). The
 * stix module cannot depend on the pattern module (which depends on it),
 * so the caller plugs the pattern parser in here. */
typedef enum tix_err (*stix_pattern_check_fn)(const char *pattern, const char *pattern_version,
                                              struct tix_error *err);

struct stix_validate_opts {
	int strict; /* also enforce selected SHOULD rules (UUIDv4 ids, known hash names) */
	stix_pattern_check_fn check_pattern; /* NULL: patterns are not checked */
};

/* Validates obj (a top-level STIX object; not a bundle) against the STIX
 * 2.1 MUST rules: common properties, the type's own properties and their
 * kinds, references, vocabularies that are enums, and the cross-property
 * rules. Returns the number of problems added. */
size_t stix_validate(const json_t *obj, const char *path, const struct stix_validate_opts *opts,
                     struct stix_problems *out);

/* ---- ids and metadata --------------------------------------------------- */

/* 1 when `type` names an SCO (built in, or a custom type whose
 * extension-definition says new-sco), else 0. */
int stix_is_sco_type(const char *type);

/* For an SCO without "id": computes the deterministic UUIDv5 id of section
 * 3.4 from its ID-contributing properties (or a UUIDv4 when it has none)
 * and sets it. Does nothing when the object has an id or is not an SCO. */
enum tix_err stix_sco_ensure_id(json_t *obj, struct tix_error *err);
/* Computes the deterministic id into out ("type--uuid", 300 bytes).
 * Returns TIX_ENOTFOUND when the type has no contributing property present. */
enum tix_err stix_sco_compute_id(const json_t *obj, char *out, size_t size);

/* What the store indexes about a version. Pointers borrow from the object. */
struct stix_meta {
	const char *id;
	const char *type;
	const char *spec_version; /* NULL when absent */
	char created[32];         /* canonical timestamp or "" */
	char modified[32];        /* canonical: modified, else created, else "" */
	const char *version;      /* the text of modified, else created, else "" */
	int revoked;
	const char *created_by_ref; /* NULL when absent */
	/* Who may see it (stix_tlp_resolve fills these; see src/stix/tlp.c). */
	int tlp;                    /* STIX_TLP_* of object_marking_refs, or STIX_TLP_UNSET */
	unsigned tlp_flags;         /* STIX_TLPF_* */
	const json_t *marking_refs; /* object_marking_refs (array) or NULL */
	const char *sharing_group;  /* tix extension, or NULL */
	const json_t *recipients;   /* tix extension: array of organisation names, or NULL */
	const json_t *object;       /* the object itself (stix_meta_get), or NULL */
};

/* ---- markings: TLP and the tix policy extension (src/stix/tlp.c) ------- */

/* TLP 2.0 levels, least restrictive first, so the most restrictive of two
 * is the larger number. */
enum stix_tlp {
	STIX_TLP_CLEAR = 0,
	STIX_TLP_GREEN = 1,
	STIX_TLP_AMBER = 2,
	STIX_TLP_AMBER_STRICT = 3,
	STIX_TLP_RED = 4,
};
#define STIX_TLP_UNSET (-1) /* no TLP marking: the node's default applies */

enum {
	STIX_TLPF_CONTRADICTORY = 1, /* several different TLP levels: the most restrictive holds */
	STIX_TLPF_UNKNOWN = 2,   /* a marking the node cannot interpret: AMBER+STRICT at least */
	STIX_TLPF_GRANULAR = 4,  /* has granular_markings */
	STIX_TLPF_EXERCISE = 16, /* drill data: has x_tix_exercise (docs/drill.md) */
};
/* The TLP levels the object's granular markings use (a marking that is not
 * a TLP id counts as AMBER+STRICT; language markings are not counted),
 * one bit per level above the flags: an object whose granular markings
 * put anything beyond a receiver is withheld from it whole. */
#define STIX_TLPF_GRANULAR_SHIFT    8
#define STIX_TLPF_GRANULAR_LEVEL(l) (1u << (STIX_TLPF_GRANULAR_SHIFT + (unsigned)(l)))

/* The extension-definition of tix's top-level policy properties. */
#define STIX_TIX_POLICY_EXT    "extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482"
#define STIX_TIX_RECIPIENTS    "tix_recipients"    /* list of organisation names (RED) */
#define STIX_TIX_SHARING_GROUP "tix_sharing_group" /* sharing group name (AMBER) */
#define STIX_TIX_EXERCISE      "x_tix_exercise"    /* the exercise a drill object belongs to */

/* The TLP level a marking-definition id stands for (TLP 2.0 ids and the
 * TLP 1.0 ids of STIX 2.1 section 7.2.1.4), or STIX_TLP_UNSET. */
int stix_tlp_of_marking(const char *id);
/* The TLP 2.0 marking-definition id of a level, or NULL. */
const char *stix_tlp_marking_id(int tlp);
/* "clear", "green", "amber", "amber+strict", "red". */
const char *stix_tlp_name(int tlp);
/* Parses those names (case-insensitive, "TLP:" prefix allowed); -1 if none. */
int stix_tlp_parse(const char *name);

/* Fills m->tlp, tlp_flags, marking_refs, sharing_group and recipients
 * from obj (stix_meta_get calls it). Marking refs that are not TLP ids are
 * left for the store to judge (it knows which definitions it holds). */
void stix_tlp_resolve(const json_t *obj, struct stix_meta *m);
/* The x_tix_exercise of a stored body (JSON text) into out (NUL-terminated,
 * cut to size); returns out, or NULL when the body names none. Cheap: for
 * the versions flagged STIX_TLPF_EXERCISE only. */
const char *stix_exercise_of(const char *body, size_t len, char *out, size_t size);

/* Fills m from a validated object. */
enum tix_err stix_meta_get(const json_t *obj, struct stix_meta *m, struct tix_error *err);

/* What a writer does before store_put with an object it made or was given:
 * validates v (MUST rules, patterns unchecked), fills m from it and dumps it
 * to body (initialised here; the caller releases it, also on error). m
 * points into v, which must outlive it. TIX_EINVAL names the first problem. */
enum tix_err stix_prepare_write(const json_t *v, struct stix_meta *m, struct tix_buf *body,
                                struct tix_error *err);

#endif
