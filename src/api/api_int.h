/*
 * api/api_int.h — what the files of src/api/ share and nobody else sees:
 * making answers, and the search resource.
 */
#ifndef TIX_API_INT_H
#define TIX_API_INT_H

#include "api/api.h"

/* What the policy decides on for a hit: its type and recorded audience
 * (api.c; api_may_read and the effective TLP of every listing use it). */
struct policy_object api_policy_object(const struct store_value_hit *h);

void api_answer_error(struct api_response *resp, int status, const char *title, const char *detail);
/* Answers 200 with v (which stays the caller's). */
void api_answer_json(struct api_response *resp, const json_t *v);
/* GET /api/v1/search (search.c). */
void api_search_answer(struct store *s, const struct api_reader *r, const struct api_query *q,
                       struct api_response *resp);

/* GET /api/v1/library/search (library.c). */
void api_library_answer(struct store *s, const struct api_reader *r, const struct api_request *req,
                        struct api_response *resp);

/* GET /api/v1/summary and /api/v1/objects/{id} (overview.c). */
void api_summary_answer(struct store *s, const struct api_reader *r, struct api_response *resp);
void api_object_answer(struct store *s, const struct api_reader *r, const char *id,
                       struct api_response *resp);

/* GET /api/v1/objects/{id}/relationships and .../versions (overview.c):
 * 404 when the caller may not read the object. */
void api_relationships_answer(struct store *s, const struct api_reader *r, const char *id,
                              struct api_response *resp);
void api_versions_answer(struct store *s, const struct api_reader *r, const char *id,
                         struct api_response *resp);

/* GET /api/v1/admin/{collections,peers,audit} (admin.c): 403 for any but
 * the admin role; the audit only of an object r may read. */
void api_admin_answer(struct store *s, const struct api_reader *r, const struct api_request *req,
                      const char *what, struct api_response *resp);

/* GET /api/v1/me, POST /api/v1/patterns/check and POST /api/v1/import
 * (console.c). */
void api_me_answer(const struct api_reader *r, const struct auth_principal *who,
                   struct api_response *resp);
void api_pattern_check_answer(const char *body, size_t len, struct api_response *resp);
void api_import_answer(const struct api_request *req, struct api_response *resp);

/* GET /api/v1/drills and /api/v1/drills/{id}/score (drills.c); rest is
 * the path after "drills". 403 for any but the admin role. */
void api_drills_answer(struct store *s, const struct api_request *req, const char *rest,
                       struct api_response *resp);

/* An If-None-Match list (weak tags compare too, "*" matches all) that
 * holds etag: shared by the feeds and the console's files (feeds.c). */
int api_none_match(const char *if_none_match, const char *etag);

#endif
