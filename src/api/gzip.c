/*
 * api/gzip.c — gzip on the wire, one copy for every answer tix serves
 * (TAXII and the JSON API through http.c, the console's files, the feeds):
 * whether the client takes it, and a buffer compressed whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/api.h"

int api_wants_gzip(const char *ae)
{
	const char *g = ae ? strstr(ae, "gzip") : NULL;

	if (g == NULL)
		return 0;
	g += 4;
	while (*g == ' ')
		g++;
	if (*g == ';') {
		const char *qv = strstr(g, "q=");

		if (qv && (qv[2] == '0' && (qv[3] == '\0' || qv[3] == ',' ||
		                            (qv[3] == '.' && strspn(qv + 4, "0") > 0 &&
		                             (qv[4 + strspn(qv + 4, "0")] == '\0' ||
		                              qv[4 + strspn(qv + 4, "0")] == ',')))))
			return 0;
	}
	return 1;
}

int api_gzip(const void *data, size_t len, int level, unsigned char **out, size_t *out_len)
{
	z_stream z;
	uLong bound;
	unsigned char *buf;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (len > (size_t)UINT32_MAX - 1024)
		return -1;
	bound = compressBound((uLong)len) + 32; /* + the gzip header and trailer */
	if ((buf = malloc(bound)) == NULL)
		return -1;
	memset(&z, 0, sizeof(z));
	/* 16 + 15: a gzip wrapper around a 32 KiB window */
	if (deflateInit2(&z, level, Z_DEFLATED, 16 + 15, level >= 9 ? 9 : 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(buf);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out >= len) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = z.total_out;
	return 0;
}
