/*
 * formats/formats.c — the parts every reader in src/formats/ uses: format
 * names and detection by content, the problem log, the streaming bundle
 * writer, MISP-namespace UUIDv5 ids, timestamps and pattern literals.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats_int.h"
#include "stix/stix.h"

static const char *const kind_names[] = {"auto", "stix", "misp", "csv", "list"};

int formats_kind_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *formats_kind_name(enum formats_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

static size_t skip_space(const char *d, size_t len, size_t i)
{
	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i;
}

enum formats_kind formats_detect(const char *data, size_t len)
{
	static const char *const misp_keys[] = {"\"Event\"", "\"response\"", "\"Attribute\"",
	                                        "\"Object\""};
	size_t i = 0;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	i = skip_space(data, len, i);
	if (i >= len || (data[i] != '{' && data[i] != '['))
		return FORMATS_AUTO;
	if (data[i] == '[') {
		i = skip_space(data, len, i + 1);
		if (i >= len || data[i] != '{')
			return FORMATS_STIX;
	}
	i = skip_space(data, len, i + 1);
	for (size_t k = 0; k < sizeof(misp_keys) / sizeof(misp_keys[0]); k++) {
		size_t n = strlen(misp_keys[k]);

		if (len - i >= n && memcmp(data + i, misp_keys[k], n) == 0)
			return FORMATS_MISP;
	}
	return FORMATS_STIX;
}

void formats_say(struct formats_log *log, int is_error, const char *where, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (is_error)
		log->errors++;
	else
		log->warnings++;
	if (log->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->say(log->ctx, is_error, where, msg);
}

enum tix_err fmt_bundle_open(struct fmt_bundle *b, struct tix_buf *out)
{
	struct tix_uuid u;
	char s[37];

	b->out = out;
	b->count = 0;
	if (tix_uuid_v4(&u) != TIX_OK)
		return TIX_EIO;
	return tix_buf_addf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[",
	                    tix_uuid_format(&u, s));
}

enum tix_err fmt_bundle_add(struct fmt_bundle *b, json_t *obj)
{
	enum tix_err e = TIX_OK;

	if (b->count > 0)
		e = tix_buf_addc(b->out, ',');
	if (e == TIX_OK)
		e = stix_json_dump(obj, b->out);
	json_decref(obj);
	if (e == TIX_OK)
		b->count++;
	return e;
}

enum tix_err fmt_bundle_close(struct fmt_bundle *b)
{
	return tix_buf_adds(b->out, "]}");
}

static const struct tix_uuid misp_namespace = {{0x76, 0xbe, 0xed, 0x5f, 0x72, 0x51, 0x45, 0x7e,
                                                0x8c, 0x2a, 0xb4, 0x5f, 0x7b, 0x58, 0x9d, 0x3d}};

void fmt_uuid5(const char *name, char out[37])
{
	struct tix_uuid u;

	tix_uuid_v5(&misp_namespace, name, strlen(name), &u);
	tix_uuid_format(&u, out);
}

void fmt_id5(const char *type, const char *name, char *out, size_t size)
{
	char u[37];

	fmt_uuid5(name, u);
	snprintf(out, size, "%s--%s", type, u);
}

int64_t fmt_unix_of(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		int64_t n = 0;

		if (*s == '\0' || strlen(s) > 15)
			return -1;
		for (; *s; s++) {
			if (!isdigit((unsigned char)*s))
				return -1;
			n = n * 10 + (*s - '0');
		}
		return n;
	}
	return -1;
}

/* n decimal digits at s into *v; 0, or -1 when they are not all digits. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int fmt_parse_when(const char *s, int64_t *sec)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		json_t *v = json_string(s);

		t = fmt_unix_of(v);
		json_decref(v);
		if (t < 0)
			return -1;
		*sec = t;
		return 0;
	}
	if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
		    p[6] != ':' || digits(p + 7, 2, &se))
			return -1;
		p += 9;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;

			if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' ||
			    digits(p + 4, 2, &om))
				return -1;
			oh *= sign;
			om *= sign;
			p += 6;
		}
	}
	if (*p != '\0' || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 59 || oh < -23 || oh > 23 || om < -59 || om > 59)
		return -1;
	t = tix_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	t -= (int64_t)oh * 3600 + (int64_t)om * 60;
	if (t < 0)
		return -1;
	*sec = t;
	return 0;
}

const char *fmt_time(int64_t sec, int ms, char out[32])
{
	struct tix_time t = {sec, 0, (int8_t)(ms ? 3 : 0)};

	return tix_time_format(&t, ms ? 3 : 0, out);
}

enum tix_err fmt_pattern_string(struct tix_buf *b, const char *value)
{
	enum tix_err e = tix_buf_addc(b, '\'');

	for (const char *p = value; e == TIX_OK && *p; p++) {
		if (*p == '\'' || *p == '\\')
			e = tix_buf_addc(b, '\\');
		if (e == TIX_OK)
			e = tix_buf_addc(b, *p);
	}
	return e == TIX_OK ? tix_buf_addc(b, '\'') : e;
}
