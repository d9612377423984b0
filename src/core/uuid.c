/*
 * core/uuid.c — RFC 4122 UUIDs: random v4 ids for new objects and bundles,
 * name-based v5 ids for the deterministic SCO ids of STIX 2.1 section 3.4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/core.h"

enum tix_err tix_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return TIX_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return TIX_OK;
}

enum tix_err tix_uuid_v4(struct tix_uuid *u)
{
	enum tix_err e = tix_random(u->b, sizeof(u->b));

	if (e != TIX_OK)
		return e;
	u->b[6] = (uint8_t)((u->b[6] & 0x0F) | 0x40);
	u->b[8] = (uint8_t)((u->b[8] & 0x3F) | 0x80);
	return TIX_OK;
}

void tix_uuid_v5(const struct tix_uuid *ns, const void *name, size_t len, struct tix_uuid *u)
{
	/* SHA-1 over namespace || name. Names are canonical JSON of a few
	 * properties, so the stack buffer almost always suffices. */
	uint8_t digest[20];
	uint8_t stackbuf[1024];
	uint8_t *buf = stackbuf;

	if (len + 16 > sizeof(stackbuf)) {
		buf = malloc(len + 16);
		if (buf == NULL) {
			memset(u->b, 0, sizeof(u->b));
			return;
		}
	}
	memcpy(buf, ns->b, 16);
	memcpy(buf + 16, name, len);
	tix_sha1(buf, len + 16, digest);
	if (buf != stackbuf)
		free(buf);
	memcpy(u->b, digest, 16);
	u->b[6] = (uint8_t)((u->b[6] & 0x0F) | 0x50);
	u->b[8] = (uint8_t)((u->b[8] & 0x3F) | 0x80);
}

char *tix_uuid_format(const struct tix_uuid *u, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int i, j = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u->b[i] >> 4];
		out[j++] = hex[u->b[i] & 15];
	}
	out[j] = '\0';
	return out;
}

int tix_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum tix_err tix_uuid_parse(const char *s, struct tix_uuid *u)
{
	int i, j = 0;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return TIX_EPARSE;
			continue;
		}
		int hi = tix_hex_value(s[i]), lo;
		if (hi < 0)
			return TIX_EPARSE;
		i++;
		if (i == 8 || i == 13 || i == 18 || i == 23 || (lo = tix_hex_value(s[i])) < 0)
			return TIX_EPARSE;
		u->b[j++] = (uint8_t)(hi << 4 | lo);
	}
	return s[36] == '\0' ? TIX_OK : TIX_EPARSE;
}

int tix_uuid_version(const struct tix_uuid *u)
{
	if ((u->b[8] & 0xC0) != 0x80)
		return 0;
	return u->b[6] >> 4;
}
