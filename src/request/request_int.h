/*
 * request_int.h — what request.c and directory.c share and nobody else
 * sees: JSON and time helpers, reading an object's versions, and the one
 * write path (validation, the store's write rules, the audit entry).
 */
#ifndef TIX_REQUEST_INT_H
#define TIX_REQUEST_INT_H

#include "request/request.h"

/* A string member of o, or NULL. */
const char *request__str(const json_t *o, const char *key);
/* The timestamp s in µs, or -1 when it is not one. */
int64_t request__us(const char *s);
/* The versions of one object id the store holds (any collection) as a new
 * array of objects, and their recorded owners (a new array of strings or
 * nulls), in date_added order. */
enum tix_err request__versions(const struct request_ctx *c, const char *id, json_t **versions,
                               json_t **owners, struct tix_error *err);
/* The ids of the latest versions of objects of type, as a new array. */
enum tix_err request__ids(const struct request_ctx *c, const char *type, json_t **ids,
                          struct tix_error *err);
/* Validates v and stores it as owner's version in the context's
 * collection, with an audit entry (detail), in one transaction; a new
 * signing key (pk, sk, when not NULL) is stored in the same one. */
enum tix_err request__put(const struct request_ctx *c, const json_t *v, const char *owner,
                          const char *detail, const unsigned char *pk, const unsigned char *sk,
                          struct tix_error *err);
/* Base64 (the original alphabet) of a 32-byte key, and back. */
void request__key_b64(const unsigned char pk[32], char out[64]);
int request__key_parse(const char *b64, unsigned char pk[32]);

#endif
