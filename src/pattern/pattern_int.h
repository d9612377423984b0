/*
 * pattern_int.h — what the files of src/pattern share and nothing else may
 * include: the syntax tree the parser builds and the evaluator, printer and
 * atom extractor walk.
 */
#ifndef TIX_PATTERN_INT_H
#define TIX_PATTERN_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "pattern/pattern.h"

/* Node kinds. Observation level: PN_OBS is one [ ], the others combine or
 * qualify observation expressions. Comparison level: inside one [ ]. */
enum pattern__kind {
	PN_OBS,        /* [ comparison ]: kids[0] is the comparison */
	PN_OBS_AND,    /* n-ary, in text order */
	PN_OBS_OR,     /* n-ary */
	PN_FOLLOWEDBY, /* n-ary, left associative: each kid follows all before it */
	PN_WITHIN,     /* kids[0] WITHIN u.within SECONDS */
	PN_REPEATS,    /* kids[0] REPEATS u.repeats TIMES */
	PN_STARTSTOP,  /* kids[0] START u.ss.start STOP u.ss.stop */
	PN_AND,        /* comparison AND, n-ary */
	PN_OR,         /* comparison OR, n-ary */
	PN_TEST        /* one comparison: u.test */
};

/* A constant, decoded. `text`/`text_len` is its source text (without a
 * leading '+'), used to print it back. */
struct pattern__lit {
	enum pattern_lit kind;
	int64_t i;         /* INT */
	double f;          /* FLOAT */
	int b;             /* BOOL */
	struct tix_time t; /* TIMESTAMP */
	const char *s;     /* STRING: decoded UTF-8; HEX, BINARY: the octets.
	                      Always NUL-terminated. */
	size_t len;        /* bytes of s */
	const char *text;
	size_t text_len;
};

enum pattern__step_kind { PS_KEY, PS_INDEX, PS_STAR };

struct pattern__step {
	enum pattern__step_kind kind;
	int quoted;      /* PS_KEY written as a quoted string */
	const char *key; /* PS_KEY: the name, decoded, NUL-terminated */
	int64_t index;   /* PS_INDEX (may be negative: never matches) */
};

struct pattern__test {
	const char *type;            /* object type */
	struct pattern__step *steps; /* steps[0] is the first property */
	unsigned nsteps;
	const char *path_text; /* canonical text of the path after ':' */
	int plain;             /* only keys, and none of them a reference */
	int binary;            /* the last key ends in _bin or _hex */
	enum pattern_op op;
	int negated;
	struct pattern__lit lit;  /* all but IN and EXISTS */
	struct pattern__lit *set; /* IN */
	size_t nset;
	pcre2_code *re;     /* MATCHES on a string value (UTF, UCP, DOTALL) */
	pcre2_code *re_bin; /* MATCHES on a binary value (octets, DOTALL);
	                       NULL when the regex has a code point > U+00FF */
	size_t offset;      /* byte offsets in the pattern text: of the path, */
	size_t prop_offset; /* and of its first property */
};

struct pattern__node {
	enum pattern__kind kind;
	unsigned paren; /* how many parentheses the text put around it */
	unsigned id;    /* observation-level nodes: 0..nonodes-1 */
	unsigned depth; /* nesting, as PATTERN_MAX_DEPTH counts it */
	struct pattern__node *parent;
	unsigned pos; /* index in parent->kids */
	struct pattern__node **kids;
	unsigned nkids;
	union {
		unsigned obs; /* PN_OBS: index in text order */
		struct {
			int64_t sec;
			int32_t nsec;
			const char *text;
			size_t text_len;
		} within;
		struct {
			uint32_t n;
		} repeats;
		struct {
			struct pattern__lit start, stop;
		} ss;
		struct pattern__test test;
	} u;
};

struct pattern__regex {
	pcre2_code *code;
	struct pattern__regex *next;
};

struct pattern {
	struct tix_arena arena;
	const char *text; /* a copy of the source, NUL-terminated */
	size_t len;
	enum pattern_version version;
	struct pattern__node *root;
	struct pattern__node **obs; /* the PN_OBS nodes in text order */
	unsigned nobs;
	unsigned nonodes;               /* observation-level nodes */
	struct pattern__regex *regexes; /* to free */
};

/* ---- tokens (lexer.c) ------------------------------------------------- */

enum pattern__tok {
	T_EOF,
	T_INVALID, /* one character no token starts with */
	T_LBRACK,
	T_RBRACK,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_STAR,
	T_EQ,
	T_NEQ,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_INT,
	T_FLOAT,
	T_STRING,
	T_HEX,
	T_BINARY,
	T_TIMESTAMP,
	T_BOOL,
	T_IDENT,
	/* keywords, in the order of the table in lexer.c */
	T_AND,
	T_OR,
	T_NOT,
	T_FOLLOWEDBY,
	T_LIKE,
	T_MATCHES,
	T_ISSUPERSET,
	T_ISSUBSET,
	T_EXISTS,
	T_LAST,
	T_IN,
	T_START,
	T_STOP,
	T_SECONDS,
	T_WITHIN,
	T_REPEATS,
	T_TIMES
};

struct pattern__token {
	enum pattern__tok t;
	size_t off, len; /* bytes of the token in the text */
	int neg;         /* T_INT, T_FLOAT written with '-' */
	int hyphen;      /* T_IDENT contains '-' (only object types may) */
};

struct pattern__lexer {
	const char *s;
	size_t len, pos;
	enum pattern_version version;
};

/* Reads the next token. Returns TIX_OK, or TIX_EPARSE with err saying
 * where and why (an unterminated string, a malformed constant). The text
 * must be valid UTF-8 without NUL (pattern__check_utf8). */
enum tix_err pattern__lex(struct pattern__lexer *lx, struct pattern__token *tok,
                          struct tix_error *err);

/* Returns the offset of the first byte that is not valid UTF-8 or is NUL,
 * or len when there is none. */
size_t pattern__check_utf8(const char *s, size_t len);

/* Sets err (TIX_EPARSE) to "column N: " plus the message, for the character
 * at byte offset off of s. Returns TIX_EPARSE. */
enum tix_err pattern__error_at(const char *s, size_t len, size_t off, struct tix_error *err,
                               const char *fmt, ...) TIX_PRINTF(5, 6);

/* Decodes one UTF-8 sequence of valid text at s (n bytes left); sets *cp
 * and returns its length. */
size_t pattern__utf8_next(const char *s, size_t n, uint32_t *cp);

/* Observation-level node kinds. */
static inline int pattern__is_obs_level(enum pattern__kind k)
{
	return k <= PN_STARTSTOP;
}

/* Converts UTF-8 text to Latin-1 octets when every code point is below
 * U+0100 (STIX 2.1 section 9.6.4). Returns the octet count, or -1. out must
 * hold len bytes. */
long pattern__latin1(const char *s, size_t len, unsigned char *out);
/* The NFC form of UTF-8 text s[0..n) as a new string (caller frees; its
 * length in *outlen), or NULL when s is NFC already (or cannot be read):
 * then s itself is the normal form. */
char *pattern__nfc(const char *s, size_t n, size_t *outlen);

/* Parses an IPv4 or IPv6 address with an optional /prefix. Returns 4 or 6
 * (and fills addr, prefix), or 0 when s is not one. */
int pattern__cidr(const char *s, size_t len, unsigned char addr[16], unsigned *prefix);

#endif
