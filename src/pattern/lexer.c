/*
 * pattern/lexer.c — splits STIX pattern text into the tokens of the ANTLR
 * grammar (STIXPattern.g4), longest match first, and rejects malformed
 * constants (timestamps, hex, base64, strings) where they start, with a
 * message saying what is wrong instead of ANTLR's "extraneous input".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

size_t pattern__utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0) {
		*cp = 0;
		return 0;
	}
	if (u[0] < 0x80 || n < 2) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		*cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
		return 2;
	}
	if ((u[0] & 0xf0) == 0xe0 && n >= 3) {
		*cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) |
		      (u[2] & 0x3f);
		return 3;
	}
	if (n >= 4) {
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
		      ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
		return 4;
	}
	*cp = u[0];
	return 1;
}

size_t pattern__check_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = u[i];
		size_t n;
		uint32_t cp, min;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}

enum tix_err pattern__error_at(const char *s, size_t len, size_t off, struct tix_error *err,
                               const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	char msg[400];
	va_list ap;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line == 1)
		return tix_error_set(err, TIX_EPARSE, NULL, "column %u: %s", col, msg);
	return tix_error_set(err, TIX_EPARSE, NULL, "line %u, column %u: %s", line, col, msg);
}

/* The white space of the grammar's WS rule. */
static size_t space_len(const char *s, size_t n)
{
	uint32_t cp;
	size_t k;

	switch (s[0]) {
	case ' ':
	case '\t':
	case '\r':
	case '\n':
	case '\v':
	case '\f': return 1;
	default: break;
	}
	if ((unsigned char)s[0] < 0x80)
		return 0;
	k = pattern__utf8_next(s, n, &cp);
	if (cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
		return k;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '-';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_b64(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
	       c == '/';
}

static const struct {
	const char *word;
	enum pattern__tok tok;
} keywords[] = {
        {"AND", T_AND},
        {"OR", T_OR},
        {"NOT", T_NOT},
        {"FOLLOWEDBY", T_FOLLOWEDBY},
        {"LIKE", T_LIKE},
        {"MATCHES", T_MATCHES},
        {"ISSUPERSET", T_ISSUPERSET},
        {"ISSUBSET", T_ISSUBSET},
        {"EXISTS", T_EXISTS},
        {"LAST", T_LAST},
        {"IN", T_IN},
        {"START", T_START},
        {"STOP", T_STOP},
        {"SECONDS", T_SECONDS},
        {"WITHIN", T_WITHIN},
        {"REPEATS", T_REPEATS},
        {"TIMES", T_TIMES},
};

/* A quoted string starting at s[0] == '\''. Returns its length including
 * the quotes, or 0 with err set. */
static size_t lex_string(struct pattern__lexer *lx, size_t start, struct tix_error *err)
{
	size_t i = start + 1;

	while (i < lx->len) {
		char c = lx->s[i];

		if (c == '\'')
			return i + 1 - start;
		if (c == '\\') {
			if (i + 1 >= lx->len)
				break;
			if (lx->s[i + 1] != '\'' && lx->s[i + 1] != '\\') {
				uint32_t cp;
				size_t k = pattern__utf8_next(lx->s + i + 1, lx->len - i - 1, &cp);

				pattern__error_at(lx->s, lx->len, i, err,
				                  "'\\%.*s' is not an escape: a string may only "
				                  "escape a quote (\\') or a backslash (\\\\)",
				                  (int)k, lx->s + i + 1);
				return 0;
			}
			i += 2;
			continue;
		}
		i++;
	}
	pattern__error_at(lx->s, lx->len, start, err, "unterminated string: no closing quote");
	return 0;
}

/* Where the closing quote of a prefixed constant is, for messages; the
 * offset of the end of the text when there is none. */
static size_t closing_quote(const struct pattern__lexer *lx, size_t from)
{
	const char *q = memchr(lx->s + from, '\'', lx->len - from);

	return q ? (size_t)(q - lx->s) : lx->len;
}

static size_t lex_hex(struct pattern__lexer *lx, size_t start, struct tix_error *err)
{
	size_t i = start + 2, n = 0, end = closing_quote(lx, i);
	int shown = (int)(end - start + 1 > 60 ? 60 : end - start + 1);

	if (end >= lx->len) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "unterminated hex constant: no closing quote");
		return 0;
	}
	for (; i < end; i++, n++) {
		if (!is_hex(lx->s[i])) {
			pattern__error_at(lx->s, lx->len, start, err,
			                  "%.*s is not a hex constant: '%c' is not a hex digit",
			                  shown, lx->s + start, lx->s[i]);
			return 0;
		}
	}
	if (n % 2) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "%.*s is not a hex constant: it needs an even number of hex "
		                  "digits (two per octet)",
		                  shown, lx->s + start);
		return 0;
	}
	return end + 1 - start;
}

/* Base64 of RFC 4648 in groups of four, '=' padding only at the end, at least
 * one group (as the grammar says). Line feeds (and CR LF) are ignored, as
 * section 9.2 requires. */
static size_t lex_binary(struct pattern__lexer *lx, size_t start, struct tix_error *err)
{
	size_t i = start + 2, n = 0, pad = 0, end = closing_quote(lx, i);
	int shown = (int)(end - start + 1 > 60 ? 60 : end - start + 1);
	const char *why = NULL;

	if (end >= lx->len) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "unterminated binary constant: no closing quote");
		return 0;
	}
	for (; i < end && why == NULL; i++) {
		char c = lx->s[i];

		if (c == '\n' || (c == '\r' && i + 1 < end && lx->s[i + 1] == '\n'))
			continue;
		if (c == '=') {
			pad++;
			n++;
		} else if (is_b64(c) && pad == 0) {
			n++;
		} else {
			why = pad ? "'=' may only pad the end"
			          : "it has a character that is not base64";
		}
	}
	if (why == NULL && n == 0)
		why = "it is empty";
	if (why == NULL && (n % 4 || pad > 2))
		why = "base64 comes in groups of four characters";
	if (why) {
		pattern__error_at(lx->s, lx->len, start, err, "%.*s is not a binary constant: %s",
		                  shown, lx->s + start, why);
		return 0;
	}
	return end + 1 - start;
}

/* Two digits in [lo, hi] at s. */
static int two(const char *s, int lo, int hi)
{
	int v;

	if (!is_digit(s[0]) || !is_digit(s[1]))
		return 0;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi;
}

/* t'YYYY-MM-DDTHH:MM:SS[.f+]Z' with the grammar's ranges (day 01..31 in any
 * month, second 00..60); calendar checks are not the grammar's business. */
static size_t lex_timestamp(struct pattern__lexer *lx, size_t start, struct tix_error *err)
{
	size_t end = closing_quote(lx, start + 2), n;
	const char *t = lx->s + start + 2, *why = NULL;
	int shown = (int)(end - start + 1 > 60 ? 60 : end - start + 1);

	if (end >= lx->len) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "unterminated timestamp constant: no closing quote");
		return 0;
	}
	n = end - start - 2;
	if (n < 20 || !is_digit(t[0]) || !is_digit(t[1]) || !is_digit(t[2]) || !is_digit(t[3]) ||
	    t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
		why = "the form is YYYY-MM-DDTHH:MM:SS[.fraction]Z";
	else if (!two(t + 5, 1, 12))
		why = "the month must be 01 to 12";
	else if (!two(t + 8, 1, 31))
		why = "the day must be 01 to 31";
	else if (!two(t + 11, 0, 23))
		why = "the hour must be 00 to 23";
	else if (!two(t + 14, 0, 59))
		why = "the minute must be 00 to 59";
	else if (!two(t + 17, 0, 60))
		why = "the second must be 00 to 60";
	else {
		size_t i = 19;

		if (t[i] == '.') {
			i++;
			if (!is_digit(t[i]))
				why = "a '.' must be followed by digits";
			while (i < n && is_digit(t[i]))
				i++;
		}
		if (why == NULL && (i + 1 != n || t[i] != 'Z'))
			why = "it must end with Z (UTC)";
	}
	if (why) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "%.*s is not a timestamp constant: %s", shown, lx->s + start,
		                  why);
		return 0;
	}
	return end + 1 - start;
}

/* Numbers: IntPos '+'? ('0' | [1-9][0-9]*), FloatPos '+'? [0-9]* '.' [0-9]+,
 * and the negative forms with '-'. Returns the length, 0 when s[start] does
 * not start a number, or (size_t)-1 with err set. */
static size_t lex_number(struct pattern__lexer *lx, size_t start, struct pattern__token *tok,
                         struct tix_error *err)
{
	size_t i = start, d0;

	if (lx->s[i] == '+' || lx->s[i] == '-') {
		tok->neg = lx->s[i] == '-';
		i++;
	}
	d0 = i;
	while (i < lx->len && is_digit(lx->s[i]))
		i++;
	if (i + 1 < lx->len && lx->s[i] == '.' && is_digit(lx->s[i + 1])) {
		i++;
		while (i < lx->len && is_digit(lx->s[i]))
			i++;
		tok->t = T_FLOAT;
		return i - start;
	}
	if (i == d0)
		return 0;
	if (lx->s[d0] == '0' && i - d0 > 1) {
		pattern__error_at(lx->s, lx->len, start, err,
		                  "'%.*s' is not a number: an integer has no leading zeros",
		                  (int)(i - start > 40 ? 40 : i - start), lx->s + start);
		return (size_t)-1;
	}
	tok->t = T_INT;
	return i - start;
}

enum tix_err pattern__lex(struct pattern__lexer *lx, struct pattern__token *tok,
                          struct tix_error *err)
{
	size_t n, k;
	char c;

	memset(tok, 0, sizeof(*tok));
	/* white space and comments */
	for (;;) {
		if (lx->pos >= lx->len)
			break;
		if ((k = space_len(lx->s + lx->pos, lx->len - lx->pos)) > 0) {
			lx->pos += k;
			continue;
		}
		if (lx->s[lx->pos] == '/' && lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '*') {
			const char *e = NULL;

			for (size_t i = lx->pos + 2; i + 1 < lx->len; i++) {
				if (lx->s[i] == '*' && lx->s[i + 1] == '/') {
					e = lx->s + i;
					break;
				}
			}
			if (e == NULL)
				return pattern__error_at(lx->s, lx->len, lx->pos, err,
				                         "unterminated comment: no closing */");
			lx->pos = (size_t)(e - lx->s) + 2;
			continue;
		}
		if (lx->s[lx->pos] == '/' && lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '/') {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n' &&
			       lx->s[lx->pos] != '\r')
				lx->pos++;
			continue;
		}
		break;
	}
	tok->off = lx->pos;
	if (lx->pos >= lx->len) {
		tok->t = T_EOF;
		return TIX_OK;
	}
	c = lx->s[lx->pos];
	n = 1;
	switch (c) {
	case '[': tok->t = T_LBRACK; break;
	case ']': tok->t = T_RBRACK; break;
	case '(': tok->t = T_LPAREN; break;
	case ')': tok->t = T_RPAREN; break;
	case ',': tok->t = T_COMMA; break;
	case ':': tok->t = T_COLON; break;
	case '*': tok->t = T_STAR; break;
	case '=':
		tok->t = T_EQ;
		if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '=')
			n = 2;
		break;
	case '!':
		if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '=') {
			tok->t = T_NEQ;
			n = 2;
		} else {
			tok->t = T_INVALID;
		}
		break;
	case '<':
		tok->t = T_LT;
		if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '=') {
			tok->t = T_LE;
			n = 2;
		} else if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '>') {
			tok->t = T_NEQ;
			n = 2;
		}
		break;
	case '>':
		tok->t = T_GT;
		if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '=') {
			tok->t = T_GE;
			n = 2;
		}
		break;
	case '\'':
		tok->t = T_STRING;
		if ((n = lex_string(lx, lx->pos, err)) == 0)
			return TIX_EPARSE;
		break;
	default:
		if (is_digit(c) || c == '+' || c == '-' || c == '.') {
			size_t r = lex_number(lx, lx->pos, tok, err);

			if (r == (size_t)-1)
				return TIX_EPARSE;
			if (r > 0) {
				n = r;
				break;
			}
			tok->neg = 0;
			tok->t = c == '.' ? T_DOT : T_INVALID;
			break;
		}
		if (is_ident_start(c)) {
			size_t i = lx->pos;

			if ((c == 'h' || c == 'b' || c == 't') && i + 1 < lx->len &&
			    lx->s[i + 1] == '\'') {
				n = c == 'h'   ? lex_hex(lx, i, err)
				    : c == 'b' ? lex_binary(lx, i, err)
				               : lex_timestamp(lx, i, err);
				if (n == 0)
					return TIX_EPARSE;
				tok->t = c == 'h' ? T_HEX : c == 'b' ? T_BINARY : T_TIMESTAMP;
				break;
			}
			while (i < lx->len && is_ident_char(lx->s[i])) {
				if (lx->s[i] == '-')
					tok->hyphen = 1;
				i++;
			}
			n = i - lx->pos;
			tok->t = T_IDENT;
			if (tok->hyphen)
				break;
			if ((n == 4 && memcmp(lx->s + lx->pos, "true", 4) == 0) ||
			    (n == 5 && memcmp(lx->s + lx->pos, "false", 5) == 0)) {
				tok->t = T_BOOL;
				break;
			}
			for (size_t w = 0; w < sizeof(keywords) / sizeof(keywords[0]); w++) {
				if (strlen(keywords[w].word) == n &&
				    memcmp(keywords[w].word, lx->s + lx->pos, n) == 0) {
					/* STIX 2.0 has no EXISTS: there it is a name. */
					if (keywords[w].tok == T_EXISTS &&
					    lx->version == PATTERN_V20)
						break;
					tok->t = keywords[w].tok;
					break;
				}
			}
			break;
		}
		/* Any other character: one code point the parser reports. */
		{
			uint32_t cp;

			tok->t = T_INVALID;
			n = pattern__utf8_next(lx->s + lx->pos, lx->len - lx->pos, &cp);
		}
		break;
	}
	tok->len = n;
	lx->pos += n;
	return TIX_OK;
}
