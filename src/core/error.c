/*
 * core/error.c — the error value: a code for control flow and a message,
 * with the place it concerns, for people and logs.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static const char *const err_names[] = {
#define X(n, s) s,
        TIX_ERR_MAP(X)
#undef X
};

const char *tix_err_name(enum tix_err code)
{
	if ((size_t)code >= sizeof(err_names) / sizeof(err_names[0]))
		return "unknown error";
	return err_names[code];
}

void tix_error_clear(struct tix_error *err)
{
	if (err == NULL)
		return;
	err->code = TIX_OK;
	err->where[0] = '\0';
	err->msg[0] = '\0';
}

enum tix_err tix_error_set(struct tix_error *err, enum tix_err code, const char *where,
                           const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *tix_error_str(const struct tix_error *err, char *buf, size_t size)
{
	if (err->where[0] != '\0')
		snprintf(buf, size, "%s: %s", err->where,
		         err->msg[0] ? err->msg : tix_err_name(err->code));
	else
		snprintf(buf, size, "%s", err->msg[0] ? err->msg : tix_err_name(err->code));
	return buf;
}
