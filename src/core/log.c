/*
 * core/log.c — leveled logging to stderr with a UTC timestamp. The level is
 * set once at start-up (from $TIX_LOG or the CLI) and only read afterwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static int log_level = -1; /* -1: not yet read from the environment */
static int log_json;       /* one JSON object per line (tix serve --log-format json) */

void tix_log_set_json(int on)
{
	log_json = on;
}

static void log_init(void)
{
	const char *e = getenv("TIX_LOG");

	log_level = TIX_LOG_WARN;
	if (e == NULL)
		return;
	if (strcmp(e, "error") == 0)
		log_level = TIX_LOG_ERROR;
	else if (strcmp(e, "info") == 0)
		log_level = TIX_LOG_INFO;
	else if (strcmp(e, "debug") == 0)
		log_level = TIX_LOG_DEBUG;
}

void tix_log_set_level(enum tix_log_level level)
{
	log_level = (int)level;
}

enum tix_log_level tix_log_get_level(void)
{
	if (log_level < 0)
		log_init();
	return (enum tix_log_level)log_level;
}

void tix_log(enum tix_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	struct tix_time now;
	char ts[32], line[2048];
	va_list ap;
	int n;

	if ((int)level > (int)tix_log_get_level())
		return;
	tix_time_now(&now);
	tix_time_format(&now, 3, ts);
	n = log_json ? 0 : snprintf(line, sizeof(line), "%s tix %s: ", ts, names[level]);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (log_json) {
		struct tix_buf b;

		tix_buf_init(&b, 8192);
		tix_buf_addf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"message\":", ts,
		             names[level]);
		tix_buf_add_json_string(&b, line);
		tix_buf_addc(&b, '}');
		fprintf(stderr, "%s\n", tix_buf_str(&b));
		tix_buf_release(&b);
		return;
	}
	/* One write per line so lines from threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}
