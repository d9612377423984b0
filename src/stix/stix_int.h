/*
 * stix_int.h — helpers shared by the files of src/stix/ and its unit tests;
 * not part of the module's public interface.
 */
#ifndef TIX_STIX_INT_H
#define TIX_STIX_INT_H

#include "core/core.h"

int stix__valid_type_name(const char *s);
int stix__parse_identifier(const char *s, size_t *type_len, struct tix_uuid *u);
int stix__valid_lang(const char *s);

#endif
