/*
 * core/time.c — RFC 3339 timestamps as STIX 2.1 uses them (section 2.16):
 * UTC with a literal "Z", optional fractional seconds, strict calendar
 * checks. The canonical form (9 fractional digits) sorts as time does.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

/* H. Hinnant's days_from_civil. */
int64_t tix_days_from_civil(int64_t y, unsigned m, unsigned d)
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

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, unsigned m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n decimal digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum tix_err tix_time_parse(const char *s, struct tix_time *t, struct tix_error *err)
{
	int y, mo, d, h, mi, se, nd = 0;
	int32_t ns = 0;
	const char *p;

	if (s == NULL)
		return tix_error_set(err, TIX_EPARSE, NULL, "not a timestamp");
	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		goto bad_format;
	p = s + 19;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (nd == 9)
				return tix_error_set(err, TIX_EPARSE, NULL,
				                     "'%.64s' has more than 9 fractional digits",
				                     s);
			ns = ns * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			goto bad_format;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		goto bad_format;
	if (mo < 1 || mo > 12)
		return tix_error_set(err, TIX_EPARSE, NULL, "'%.64s': month out of range", s);
	if (d < 1 || d > days_in_month(y, (unsigned)mo))
		return tix_error_set(err, TIX_EPARSE, NULL, "'%.64s': day out of range for month",
		                     s);
	if (h > 23 || mi > 59 || se > 59)
		return tix_error_set(err, TIX_EPARSE, NULL, "'%.64s': time of day out of range", s);
	for (int i = nd; i < 9; i++)
		ns *= 10;
	t->sec =
	        tix_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	t->nsec = ns;
	t->digits = (int8_t)nd;
	return TIX_OK;
bad_format:
	return tix_error_set(err, TIX_EPARSE, NULL,
	                     "'%.64s' is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)", s);
}

int tix_time_cmp(const struct tix_time *a, const struct tix_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

/* n decimal digits of v, zero-padded, at out (no terminator). */
static void put_digits(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* The general form, for years outside 0000-9999 (snprintf's %04d). */
static char *format_slow(int y, unsigned m, unsigned d, int64_t rem, int32_t frac, int ndigits,
                         char out[32])
{
	int n = snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d", y, m, d, (int)(rem / 3600),
	                 (int)(rem / 60 % 60), (int)(rem % 60));

	if (ndigits > 0 && n > 0 && n < 20) {
		char f[12];

		if (ndigits > 9)
			ndigits = 9;
		snprintf(f, sizeof(f), "%09d", (int)frac);
		n += snprintf(out + n, (size_t)(32 - n), ".%.*s", ndigits, f);
	}
	if (n > 0 && n < 31)
		snprintf(out + n, (size_t)(32 - n), "Z");
	return out;
}

char *tix_time_format(const struct tix_time *t, int ndigits, char out[32])
{
	int64_t days = t->sec / 86400, rem = t->sec % 86400;
	int y;
	unsigned m, d;
	int n;
	int32_t frac = t->nsec;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999 || frac < 0 || frac > 999999999)
		return format_slow(y, m, d, rem, frac, ndigits, out);
	/* The digits written directly: every stored version's canonical
	 * times come through here (snprintf was 2% of an import). */
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(rem / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(rem % 60), 2);
	n = 19;
	if (ndigits > 0) {
		char f[9];

		if (ndigits > 9)
			ndigits = 9;
		put_digits(f, (unsigned)frac, 9);
		out[n++] = '.';
		memcpy(out + n, f, (size_t)ndigits);
		n += ndigits;
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return out;
}

char *tix_time_canonical(const struct tix_time *t, char out[32])
{
	return tix_time_format(t, 9, out);
}

void tix_time_now(struct tix_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (int32_t)ts.tv_nsec;
	t->digits = 6;
}

int64_t tix_time_to_us(const struct tix_time *t)
{
	return t->sec * 1000000 + t->nsec / 1000;
}

void tix_time_from_us(int64_t us, struct tix_time *t)
{
	int64_t s = us / 1000000, r = us % 1000000;

	if (r < 0) {
		r += 1000000;
		s--;
	}
	t->sec = s;
	t->nsec = (int32_t)(r * 1000);
	t->digits = 6;
}

char *tix_time_format_us(int64_t us, int digits, char out[32])
{
	struct tix_time t;

	tix_time_from_us(us, &t);
	return tix_time_format(&t, digits, out);
}
