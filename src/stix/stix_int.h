/*
 * stix_int.h — helpers shared by the files of src/stix/ and its unit tests;
 * not part of the module's public interface.
 */
#ifndef TIX_STIX_INT_H
#define TIX_STIX_INT_H

#include <jansson.h>

#include "core/core.h"

int stix__valid_type_name(const char *s);
int stix__parse_identifier(const char *s, size_t *type_len, struct tix_uuid *u);
int stix__valid_lang(const char *s);
/* The JSON object at data (after white space), parsed without jansson's
 * parser when it has the common shape (json.c) and at most depth_left
 * levels as stix_json_depth counts them; *used: the bytes it took, *compact:
 * 1 when none was white space after its first token. NULL:
 * not on this path (or out of memory): parse it with jansson. */
json_t *stix__json_fast_object(const char *data, size_t len, int depth_left, size_t *used,
                               int *compact);

#endif
