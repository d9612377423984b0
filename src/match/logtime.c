/*
 * match/logtime.c — when a log line says it happened: nginx/Apache combined
 * ("[10/Oct/2026:13:55:36 -0700]"), syslog (RFC 3164 "Oct 11 22:14:15", RFC
 * 5424), ISO 8601 at the start of a line, Suricata EVE "timestamp", Zeek
 * "ts" (JSON, or the epoch column of its TSV logs). Sightings take their
 * first_seen/last_seen from these (docs/match.md).
 */
#include <stdlib.h>
#include <string.h>

#include "match/match_int.h"

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *p, const char *e, int n, int *out)
{
	int v = 0;

	if (e - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static int64_t to_us(int y, int mo, int d, int h, int mi, int s, int64_t frac_us, int64_t offset_s)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return 0;
	return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s) -
	        offset_s) *
	               1000000 +
	       frac_us;
}

static int month_of(const char *p, const char *e)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	if (e - p < 3)
		return 0;
	for (int i = 0; i < 12; i++)
		if (memcmp(p, names + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/* ".123456" (any number of digits): microseconds; *p moves past it. */
static int64_t fraction(const char **p, const char *e)
{
	int64_t us = 0, scale = 100000;

	if (*p >= e || (**p != '.' && **p != ','))
		return 0;
	for ((*p)++; *p < e && **p >= '0' && **p <= '9'; (*p)++) {
		us += (**p - '0') * scale;
		scale /= 10;
	}
	return us;
}

/* "Z", "+02:00", "+0200", "-07", or nothing (UTC). */
static int64_t zone(const char *p, const char *e)
{
	int hh, mm = 0, sign;

	if (p >= e || (*p != '+' && *p != '-'))
		return 0;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (digits(p, e, 2, &hh) != 0)
		return 0;
	p += 2;
	if (p < e && *p == ':')
		p++;
	if (digits(p, e, 2, &mm) != 0)
		mm = 0;
	return sign * (hh * 3600 + mm * 60);
}

/* YYYY-MM-DD[T ]HH:MM:SS[.frac][zone] at p. */
static int64_t iso(const char *p, const char *e)
{
	int y, mo, d, h, mi, s;
	int64_t frac;

	if (digits(p, e, 4, &y) || e - p < 19 || p[4] != '-' || digits(p + 5, e, 2, &mo) ||
	    p[7] != '-' || digits(p + 8, e, 2, &d) || (p[10] != 'T' && p[10] != ' ') ||
	    digits(p + 11, e, 2, &h) || p[13] != ':' || digits(p + 14, e, 2, &mi) || p[16] != ':' ||
	    digits(p + 17, e, 2, &s))
		return 0;
	p += 19;
	frac = fraction(&p, e);
	return to_us(y, mo, d, h, mi, s, frac, zone(p, e));
}

int64_t match_epoch_time(const char *p, size_t n)
{
	const char *e = p + n;
	int64_t sec = 0;
	int nd = 0;

	for (; p < e && *p >= '0' && *p <= '9' && nd < 12; p++, nd++)
		sec = sec * 10 + (*p - '0');
	if (nd < 9 || nd > 11) /* 2001 .. 5138 */
		return 0;
	return sec * 1000000 + fraction(&p, e);
}

/* The value of "key": in a JSON line (a string or a number), or NULL. */
static const char *json_value(const char *p, const char *e, const char *key, int *quoted)
{
	size_t kl = strlen(key);

	for (const char *q = p; e - q > (ptrdiff_t)kl + 2; q++) {
		q = memchr(q, '"', (size_t)(e - q));
		if (q == NULL || e - q <= (ptrdiff_t)kl + 2)
			return NULL;
		if (memcmp(q + 1, key, kl) == 0 && q[kl + 1] == '"') {
			const char *v = q + kl + 2;

			while (v < e && (*v == ' ' || *v == ':'))
				v++;
			*quoted = v < e && *v == '"';
			return v + *quoted;
		}
	}
	return NULL;
}

/* "Oct 11 22:14:15" (the day may be space-padded): the year is now's, or
 * the one before when that would be more than a day ahead. */
static int64_t bsd_syslog(const char *p, const char *e, int64_t now_us)
{
	int mo = month_of(p, e), d, h, mi, s, y;
	int64_t t, days;

	if (mo == 0 || e - p < 15 || p[3] != ' ')
		return 0;
	p += 4;
	if (*p == ' ')
		p++;
	if (p + 1 < e && p[1] == ' ') {
		if (digits(p, e, 1, &d))
			return 0;
		p += 1;
	} else {
		if (digits(p, e, 2, &d))
			return 0;
		p += 2;
	}
	if (e - p < 9 || *p != ' ' || digits(p + 1, e, 2, &h) || p[3] != ':' ||
	    digits(p + 4, e, 2, &mi) || p[6] != ':' || digits(p + 7, e, 2, &s))
		return 0;
	/* the year of now */
	days = now_us / 86400000000LL;
	{
		int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
		unsigned doe = (unsigned)(z - era * 146097);
		unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		unsigned mp = (5 * doy + 2) / 153;

		y = (int)(yoe + era * 400 + ((mp + 3 > 12 ? mp - 9 : mp + 3) <= 2));
	}
	t = to_us(y, mo, d, h, mi, s, 0, 0);
	if (t > now_us + 86400000000LL)
		t = to_us(y - 1, mo, d, h, mi, s, 0, 0);
	return t;
}

/* "[10/Oct/2026:13:55:36 -0700]" anywhere in the line. */
static int64_t combined(const char *p, const char *e)
{
	for (const char *q = p; (q = memchr(q, '[', (size_t)(e - q))) != NULL; q++) {
		int d, mo, y, h, mi, s;

		if (e - q < 27 || digits(q + 1, e, 2, &d) || q[3] != '/' ||
		    (mo = month_of(q + 4, e)) == 0 || q[7] != '/' || digits(q + 8, e, 4, &y) ||
		    q[12] != ':' || digits(q + 13, e, 2, &h) || q[15] != ':' ||
		    digits(q + 16, e, 2, &mi) || q[18] != ':' || digits(q + 19, e, 2, &s) ||
		    q[21] != ' ')
			continue;
		return to_us(y, mo, d, h, mi, s, 0, zone(q + 22, e));
	}
	return 0;
}

int64_t match_log_time(const char *p, size_t n, int64_t now_us)
{
	const char *e = p + n, *v;
	int64_t t;
	int quoted;

	if (n == 0)
		return 0;
	if (*p == '{') { /* Suricata EVE, Zeek JSON, and others' JSON lines */
		static const char *const keys[] = {"timestamp", "ts", "@timestamp", "time"};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if ((v = json_value(p, e, keys[i], &quoted)) == NULL)
				continue;
			t = quoted ? iso(v, e) : match_epoch_time(v, (size_t)(e - v));
			if (t > 0)
				return t;
		}
		return 0;
	}
	if (*p == '<') { /* a syslog priority, then RFC 5424's version or RFC 3164 */
		const char *q = memchr(p, '>', (size_t)(e - p) < 6 ? (size_t)(e - p) : 6);

		if (q) {
			p = q + 1;
			if (e - p > 2 && p[0] >= '1' && p[0] <= '9' && p[1] == ' ')
				p += 2;
		}
	}
	if ((t = iso(p, e)) > 0 || (t = bsd_syslog(p, e, now_us)) > 0 || (t = combined(p, e)) > 0)
		return t;
	return 0;
}
