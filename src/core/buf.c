/*
 * core/buf.c — a bounded, growable string builder. The limit set at init is
 * the most it will ever hold, so untrusted input cannot make it grow
 * without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void tix_buf_init(struct tix_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void tix_buf_release(struct tix_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void tix_buf_reset(struct tix_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for `more` bytes plus the terminating NUL. */
static enum tix_err buf_grow(struct tix_buf *b, size_t more)
{
	size_t need, ncap;
	char *nd;

	if (more > b->limit || b->len > b->limit - more)
		return TIX_ETOOBIG;
	need = b->len + more + 1;
	if (need <= b->cap)
		return TIX_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	nd = realloc(b->data, ncap);
	if (nd == NULL)
		return TIX_ENOMEM;
	b->data = nd;
	b->cap = ncap;
	return TIX_OK;
}

enum tix_err tix_buf_reserve(struct tix_buf *b, size_t more)
{
	return buf_grow(b, more);
}

enum tix_err tix_buf_add(struct tix_buf *b, const void *data, size_t len)
{
	enum tix_err e = buf_grow(b, len);

	if (e != TIX_OK)
		return e;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return TIX_OK;
}

enum tix_err tix_buf_adds(struct tix_buf *b, const char *s)
{
	return tix_buf_add(b, s, strlen(s));
}

enum tix_err tix_buf_addc(struct tix_buf *b, char c)
{
	return tix_buf_add(b, &c, 1);
}

enum tix_err tix_buf_vaddf(struct tix_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	enum tix_err e;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return TIX_EINVAL;
	if ((e = buf_grow(b, (size_t)n)) != TIX_OK)
		return e;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return TIX_OK;
}

enum tix_err tix_buf_addf(struct tix_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum tix_err e;

	va_start(ap, fmt);
	e = tix_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return e;
}

enum tix_err tix_buf_add_json_string(struct tix_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	enum tix_err e = tix_buf_addc(b, '"');
	const unsigned char *p;

	for (p = (const unsigned char *)s; e == TIX_OK && *p; p++) {
		switch (*p) {
		case '"': e = tix_buf_add(b, "\\\"", 2); break;
		case '\\': e = tix_buf_add(b, "\\\\", 2); break;
		case '\n': e = tix_buf_add(b, "\\n", 2); break;
		case '\r': e = tix_buf_add(b, "\\r", 2); break;
		case '\t': e = tix_buf_add(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
				e = tix_buf_add(b, u, 6);
			} else {
				e = tix_buf_addc(b, (char)*p);
			}
		}
	}
	return e == TIX_OK ? tix_buf_addc(b, '"') : e;
}

enum tix_err tix_buf_add_xml(struct tix_buf *b, const char *s)
{
	enum tix_err e = TIX_OK;

	for (; e == TIX_OK && s && *s; s++) {
		switch (*s) {
		case '<': e = tix_buf_adds(b, "&lt;"); break;
		case '>': e = tix_buf_adds(b, "&gt;"); break;
		case '&': e = tix_buf_adds(b, "&amp;"); break;
		case '"': e = tix_buf_adds(b, "&quot;"); break;
		case '\'': e = tix_buf_adds(b, "&#39;"); break;
		default: e = tix_buf_addc(b, *s);
		}
	}
	return e;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, its
 * quotes doubled. */
static enum tix_err csv_quoted(struct tix_buf *b, const char *prefix, const char *v)
{
	enum tix_err e = tix_buf_addc(b, '"');

	if (e == TIX_OK)
		e = tix_buf_adds(b, prefix);
	for (; e == TIX_OK && *v; v++)
		e = *v == '"' ? tix_buf_add(b, "\"\"", 2) : tix_buf_addc(b, *v);
	return e == TIX_OK ? tix_buf_addc(b, '"') : e;
}

enum tix_err tix_buf_add_csv(struct tix_buf *b, const char *v)
{
	if (v == NULL)
		v = "";
	/* A value a spreadsheet would read as a formula (an account such as
	 * "=cmd|..." reported by a partner) is written as text. */
	if (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')
		return csv_quoted(b, "'", v);
	if (strpbrk(v, ",\"\r\n") == NULL && v[0] != ' ')
		return tix_buf_adds(b, v);
	return csv_quoted(b, "", v);
}

char *tix_buf_space(struct tix_buf *b, size_t want)
{
	if (buf_grow(b, want) != TIX_OK)
		return NULL;
	return b->data + b->len;
}

void tix_buf_replace(struct tix_buf *b, size_t at, size_t old_n, const void *data, size_t n)
{
	/* Only in place: the bytes replaced lie inside, the new ones no more. */
	if (b->data == NULL || at > b->len || old_n > b->len - at || n > old_n)
		return;
	memcpy(b->data + at, data, n);
	if (n < old_n) {
		memmove(b->data + at + n, b->data + at + old_n, b->len - at - old_n);
		b->len -= old_n - n;
		b->data[b->len] = '\0';
	}
}

void tix_buf_commit(struct tix_buf *b, size_t n)
{
	/* n never exceeds what tix_buf_space made room for. */
	if (b->data == NULL || b->len + n >= b->cap)
		return;
	b->len += n;
	b->data[b->len] = '\0';
}

char *tix_buf_detach(struct tix_buf *b, size_t *len)
{
	char *d = b->data;

	if (d == NULL)
		d = calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}
