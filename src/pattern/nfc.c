/*
 * pattern/nfc.c — Unicode NFC normalisation for LIKE and MATCHES (STIX 2.1
 * section 9.6: "NFC normalization is required for LIKE and MATCHES"),
 * through ICU's normaliser (Debian's libicu; docs/dependencies.md).
 * ASCII text is already NFC and is never copied.
 */
#include <stdlib.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "pattern/pattern_int.h"

static int ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

char *pattern__nfc(const char *s, size_t n, size_t *outlen)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nfc;
	UChar *u = NULL, *v = NULL;
	int32_t ul = 0, vl = 0, ol = 0;
	char *out = NULL;

	if (ascii(s, n) || n > (size_t)INT32_MAX / 4)
		return NULL;
	nfc = unorm2_getNFCInstance(&st);
	if (U_FAILURE(st))
		return NULL;
	if ((u = malloc((n + 1) * sizeof(*u))) == NULL)
		return NULL;
	u_strFromUTF8(u, (int32_t)n + 1, &ul, s, (int32_t)n, &st);
	if (U_FAILURE(st))
		goto out;
	if (unorm2_isNormalized(nfc, u, ul, &st) && U_SUCCESS(st))
		goto out; /* already NFC: the caller keeps its bytes */
	st = U_ZERO_ERROR;
	/* NFC of a UTF-16 string is at most 3 times as long */
	if ((v = malloc(((size_t)ul * 3 + 1) * sizeof(*v))) == NULL)
		goto out;
	vl = unorm2_normalize(nfc, u, ul, v, ul * 3 + 1, &st);
	if (U_FAILURE(st))
		goto out;
	if ((out = malloc((size_t)vl * 3 + 1)) == NULL)
		goto out;
	u_strToUTF8(out, vl * 3 + 1, &ol, v, vl, &st);
	if (U_FAILURE(st)) {
		free(out);
		out = NULL;
		goto out;
	}
	*outlen = (size_t)ol;
out:
	free(u);
	free(v);
	return out;
}
