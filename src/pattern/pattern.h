/*
 * pattern.h — the STIX patterning language (STIX 2.1 section 9): parsing
 * and checking patterns, evaluating them against observed data, and
 * extracting the simple comparisons an index can look up.
 *
 * Invariants:
 * - A struct pattern is immutable once parsed, so one may be shared by
 *   threads that only read it (matching, atoms, printing).
 * - Parsing is bounded: a pattern longer than PATTERN_MAX_LEN bytes, nested
 *   deeper than PATTERN_MAX_DEPTH, or with an object path longer than
 *   PATTERN_MAX_PATH_STEPS is rejected with a message, never a crash.
 * - Matching is bounded: regular expressions run under PCRE2 match, depth
 *   and heap limits, and the search for observations that satisfy the
 *   pattern stops after a budget of steps (it then reports that it gave up).
 * - Parse errors start their message with "column N: " (or "line L,
 *   column N: " when the pattern has several lines), N counting characters
 *   from 1; pattern_error_pos() reads the position back.
 * - Strings returned by the pattern (atoms, ids) are borrowed from the
 *   object they come from and live as long as it does.
 * See docs/pattern.md for the semantics chosen where the spec is silent.
 */
#ifndef TIX_PATTERN_H
#define TIX_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

/* ---- limits ------------------------------------------------------------ */

#define PATTERN_MAX_LEN        (1u << 20) /* bytes of pattern text */
#define PATTERN_MAX_DEPTH      64         /* nested ( and [, and stacked qualifiers */
#define PATTERN_MAX_PATH_STEPS 64         /* steps of one object path */
#define PATTERN_MAX_REPEATS    10000      /* largest n of REPEATS n TIMES */

/* Defaults of struct pattern_match_opts (0 there means these). */
#define PATTERN_REGEX_MATCH_LIMIT 1000000u  /* pcre2_set_match_limit */
#define PATTERN_REGEX_DEPTH_LIMIT 10000u    /* pcre2_set_depth_limit */
#define PATTERN_REGEX_HEAP_LIMIT  16384u    /* pcre2_set_heap_limit, KiB */
#define PATTERN_MAX_STEPS         20000000u /* evaluation budget */

/* ---- parsing ------------------------------------------------------------ */

/* The grammar differs slightly between STIX 2.0 and 2.1 (docs/pattern.md). */
enum pattern_version { PATTERN_V21 = 0, PATTERN_V20 = 1 };

/* "2.0" gives PATTERN_V20; NULL and anything else give PATTERN_V21 (an
 * indicator's pattern_version defaults to the 2.1 grammar). */
enum pattern_version pattern_version_from_string(const char *s);

struct pattern;

/* Parses text[0..len) (UTF-8). Returns a new pattern (pattern_free), or NULL
 * with err set: TIX_EPARSE for an invalid pattern (the message says where and
 * what was expected), TIX_ETOOBIG over the limits, TIX_ENOMEM. Besides the
 * grammar this checks what the OASIS pattern validator checks: constants
 * (timestamps, hex, base64), known hash values (e.g. an MD5 is 32 hex
 * digits), regular expressions that PCRE2 cannot compile, and, in 2.1, two
 * qualifiers of one kind on one bracketed observation expression. */
struct pattern *pattern_parse(const char *text, size_t len, enum pattern_version version,
                              struct tix_error *err);
void pattern_free(struct pattern *p);

enum pattern_version pattern_get_version(const struct pattern *p);

/* Reads the position from a parse error's message. Returns 0 and sets *line
 * and *column (both from 1), or -1 when the message has no position. */
int pattern_error_pos(const struct tix_error *err, unsigned *line, unsigned *column);

/* Checks the object types and property names a parsed pattern references,
 * as the STIX 2.1 validator does for indicators: a type must be a built-in
 * SCO or a well-formed custom type name (a-z, 0-9, '-', 3 to 250
 * characters), a property of a custom type or unknown to a built-in one must
 * be a well-formed name (a-z, 0-9, '_', 3 to 250). Those are errors
 * (TIX_EINVAL). Custom names without the x- / x_ prefix are only warnings:
 * when `warnings` is not NULL each is appended to it as one line. */
enum tix_err pattern_check_names(const struct pattern *p, struct tix_buf *warnings,
                                 struct tix_error *err);

/* The hook for stix_validate_opts.check_pattern: parses a NUL-terminated
 * pattern with the grammar named by pattern_version (see
 * pattern_version_from_string) and checks its names. Returns TIX_OK or the
 * error of the first problem. */
enum tix_err pattern_check(const char *pattern, const char *pattern_version, struct tix_error *err);

/* ---- printing ------------------------------------------------------------ */

/* Appends the pattern in canonical form: one space around operators,
 * parentheses only where the text had them, constants re-escaped. Parsing
 * the result gives the same pattern again. */
enum tix_err pattern_format(const struct pattern *p, struct tix_buf *out);

/* Appends the parsed tree, one node a line, indented by depth, for people
 * (`tix pattern explain`). */
enum tix_err pattern_explain(const struct pattern *p, struct tix_buf *out);

/* ---- atoms ---------------------------------------------------------------- */

enum pattern_op {
	PATTERN_OP_EQ,
	PATTERN_OP_NE,
	PATTERN_OP_LT,
	PATTERN_OP_LE,
	PATTERN_OP_GT,
	PATTERN_OP_GE,
	PATTERN_OP_IN,
	PATTERN_OP_LIKE,
	PATTERN_OP_MATCHES,
	PATTERN_OP_ISSUBSET,
	PATTERN_OP_ISSUPERSET,
	PATTERN_OP_EXISTS
};

/* The spelling of an operator in a pattern ("=", "ISSUBSET", ...). */
const char *pattern_op_name(enum pattern_op op);

enum pattern_lit {
	PATTERN_LIT_NONE, /* EXISTS has no constant */
	PATTERN_LIT_STRING,
	PATTERN_LIT_INT,
	PATTERN_LIT_FLOAT,
	PATTERN_LIT_BOOL,
	PATTERN_LIT_HEX,
	PATTERN_LIT_BINARY,
	PATTERN_LIT_TIMESTAMP
};

const char *pattern_lit_name(enum pattern_lit kind);

/* One comparison of the pattern. `value` is the constant as text: a string
 * decoded (escapes removed), a number as written without a '+', true or
 * false, the octets of a hex or binary constant as lowercase hex digits, a
 * timestamp without t''. An IN comparison gives one atom per member of its
 * set, each with op PATTERN_OP_IN. */
struct pattern_atom {
	const char *object_type; /* "file" */
	const char *path;        /* the object path after the ':', canonical:
	                            "hashes.'SHA-256'", "resolves_to_refs[*].value" */
	enum pattern_op op;
	int negated; /* preceded by NOT */
	enum pattern_lit kind;
	const char *value;    /* NULL for EXISTS */
	size_t value_len;     /* bytes of value */
	int plain;            /* the path only names properties and dictionary
	                         keys: no list index, no reference followed */
	unsigned observation; /* which [ ] it is in: 0 for the first in the text */
};

/* The atoms of a pattern, and whether the pattern is "simple": a
 * disjunction (OR, inside or between observation expressions) of
 * un-negated plain atoms that are equality (=, IN) or, on an ipv4-addr or
 * ipv6-addr value, ISSUBSET with a valid CIDR, without qualifiers. For a
 * simple pattern an index of the observed (type, path, value) tuples
 * decides the match alone. */
struct pattern_atoms {
	struct pattern_atom *atoms;
	size_t count;
	int simple;
	/* The pattern is a disjunction (OR, inside or between observation
	 * expressions) of comparisons of any operator, without AND,
	 * FOLLOWEDBY or qualifiers: each atom stands for the pattern alone
	 * (what a feed of values can express; src/formats/feed.c). */
	int disjunctive;
};

/* Returns a new list (pattern_atoms_free) whose strings are borrowed from p,
 * or NULL on ENOMEM. */
struct pattern_atoms *pattern_atoms_extract(const struct pattern *p, struct tix_error *err);
void pattern_atoms_free(struct pattern_atoms *a);

/* ---- evaluation ------------------------------------------------------------- */

/* A set of observations: observed-data objects, each with the SCOs it
 * refers to (STIX 2.1 object_refs, resolved against every object added) or
 * embeds (STIX 2.0 "objects"). Add documents, seal, then match any number of
 * patterns against it. Not thread-safe until sealed; read-only after. */
struct pattern_observations;

struct pattern_observations *pattern_observations_new(void);
void pattern_observations_free(struct pattern_observations *o);
/* Adds the objects of one document: a bundle, a JSON array of bundles or of
 * objects, or one object. Takes its own references to what it keeps. */
enum tix_err pattern_observations_add(struct pattern_observations *o, json_t *doc,
                                      struct tix_error *err);
/* Resolves references and checks each observed-data's first_observed,
 * last_observed and number_observed. Returns TIX_EINVAL naming the first
 * bad observed-data. */
enum tix_err pattern_observations_seal(struct pattern_observations *o, struct tix_error *err);
/* The number of observed-data objects, and the id of the i-th (in time
 * order: by first_observed, then last_observed, then input order). */
size_t pattern_observations_count(const struct pattern_observations *o);
const char *pattern_observations_id(const struct pattern_observations *o, size_t i);

struct pattern_match_opts {
	uint64_t max_steps;         /* 0: PATTERN_MAX_STEPS */
	uint32_t regex_match_limit; /* 0: PATTERN_REGEX_MATCH_LIMIT */
	uint32_t regex_depth_limit; /* 0: PATTERN_REGEX_DEPTH_LIMIT */
};

/* Which observed-data an observation expression was matched with. */
struct pattern_binding {
	unsigned observation; /* the [ ] (0 for the first in the text) */
	size_t index;         /* the observed-data, for pattern_observations_id() */
};

struct pattern_result {
	int matched;
	int gave_up;                      /* the step budget ran out: not matched, not sure */
	size_t regex_limit_hits;          /* regex matches stopped by the PCRE2 limits
	                                     (counted as not matching) */
	struct pattern_binding *bindings; /* one satisfying assignment, in the
	                                     order the search made it */
	size_t nbindings;
};

void pattern_result_release(struct pattern_result *r);

/* Does p match the sealed observations? Fills res (release it). Returns
 * TIX_OK whatever the verdict; an error only for ENOMEM or an unsealed set. */
enum tix_err pattern_match(const struct pattern *p, const struct pattern_observations *o,
                           const struct pattern_match_opts *opts, struct pattern_result *res,
                           struct tix_error *err);

#endif
