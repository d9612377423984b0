/*
 * api/api_int.h — what the files of src/api/ share and nobody else sees:
 * making answers, and the search resource.
 */
#ifndef TIX_API_INT_H
#define TIX_API_INT_H

#include "api/api.h"

void api_answer_error(struct api_response *resp, int status, const char *title, const char *detail);
/* Answers 200 with v (which stays the caller's). */
void api_answer_json(struct api_response *resp, const json_t *v);
/* GET /api/v1/search (search.c). */
void api_search_answer(struct store *s, const struct api_reader *r, const struct api_query *q,
                       struct api_response *resp);

#endif
