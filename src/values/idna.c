/*
 * values/idna.c — internationalised domain names as ASCII: ICU's UTS #46
 * (non-transitional) A-labels ("xn--" punycode, RFC 3492), then the one
 * normal form of values_norm_domain. For every module whose targets read
 * ASCII names only (feeds, constituency routing).
 */
#include "values/idna.h"

#include <unicode/uidna.h>

#include "values/values.h"

int values_domain_ascii(const char *s, size_t n, char *out, size_t cap)
{
	char tmp[256];
	int len;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80) {
			UErrorCode status = U_ZERO_ERROR;
			UIDNAInfo info = UIDNA_INFO_INITIALIZER;
			UIDNA *idna;
			int32_t alen;

			if (n > 1024)
				return -1;
			idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII, &status);
			if (U_FAILURE(status))
				return -1;
			alen = uidna_nameToASCII_UTF8(idna, s, (int32_t)n, tmp,
			                              (int32_t)sizeof(tmp), &info, &status);
			uidna_close(idna);
			if (U_FAILURE(status) || info.errors != 0 || alen <= 0 ||
			    alen >= (int32_t)sizeof(tmp))
				return -1;
			s = tmp;
			n = (size_t)alen;
			break;
		}
	if (n >= cap)
		return -1;
	if ((len = values_norm_domain(s, n, out)) >= 0)
		out[len] = '\0';
	return len;
}
