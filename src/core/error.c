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

/* Edit distance between a and b (both short option names). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *tix_nearest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(word);

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, names[i]);

		/* A prefix of a longer name ("--coll") is a near miss too. */
		if (len >= 3 && strncmp(names[i], word, len) == 0)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	/* Close enough to be a typo: at most a third of the letters wrong. */
	return best && best_d <= (len < 6 ? 2 : len / 3) ? best : NULL;
}
