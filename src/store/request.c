/*
 * store/request.c — what preservation requests (src/request/, issue 20)
 * keep in the store besides their objects: the Ed25519 signing keys of the
 * node's 24/7 contact points (migration 13), secret halves kept as hex like
 * the node secret and removed from backups made without secrets.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_request[] =
        "CREATE TABLE request_keys ("
        "  org TEXT NOT NULL,"
        "  public_key TEXT NOT NULL," /* 64 hex digits */
        "  secret_key TEXT,"          /* 128 hex digits; NULL in a copy without secrets */
        "  created INTEGER NOT NULL,"
        "  retired INTEGER NOT NULL DEFAULT 0," /* µs, 0: the org's current key */
        "  PRIMARY KEY (org, public_key)) WITHOUT ROWID;";

/* The same on PostgreSQL (docs/architecture.md, "Two engines"). */
const char store__pg_schema_request[] = "CREATE TABLE request_keys ("
                                        "  org TEXT NOT NULL,"
                                        "  public_key TEXT NOT NULL,"
                                        "  secret_key TEXT,"
                                        "  created BIGINT NOT NULL,"
                                        "  retired BIGINT NOT NULL DEFAULT 0,"
                                        "  PRIMARY KEY (org, public_key));";

enum tix_err store_request_key_add(struct store *s, const char *org, const unsigned char pk[32],
                                   const unsigned char sk[64], int64_t now_us,
                                   struct tix_error *err)
{
	char pkhex[65], skhex[129];
	struct db_stmt *st;
	enum tix_err e = TIX_OK;

	sodium_bin2hex(pkhex, sizeof(pkhex), pk, 32);
	sodium_bin2hex(skhex, sizeof(skhex), sk, 64);
	if ((st = store__stmt(s,
	                      "UPDATE request_keys SET retired = ?2 WHERE org = ?1 AND retired = 0",
	                      NULL, err)) == NULL)
		goto fail;
	db_bind_text(st, 1, org, -1);
	db_bind_int64(st, 2, now_us > 0 ? now_us : 1);
	if (db_step(st) != DB_DONE) {
		e = store__fail(s, err, "retiring the contact point's key");
		goto out;
	}
	if ((st = store__stmt(s,
	                      "INSERT INTO request_keys (org, public_key, secret_key, created)"
	                      " VALUES (?1, ?2, ?3, ?4)",
	                      NULL, err)) == NULL)
		goto fail;
	db_bind_text(st, 1, org, -1);
	db_bind_text(st, 2, pkhex, -1);
	db_bind_text(st, 3, skhex, -1);
	db_bind_int64(st, 4, now_us);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "storing the contact point's key");
	db_reset(st);
	db_clear_bindings(st);
	goto out;
fail:
	e = err ? err->code : TIX_ESTORE;
out:
	sodium_memzero(skhex, sizeof(skhex));
	return e;
}

enum tix_err store_request_key_get(struct store *s, const char *org, unsigned char pk[32],
                                   unsigned char sk[64], struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT public_key, secret_key FROM request_keys"
	                                 " WHERE org = ?1 AND retired = 0",
	                                 NULL, err);
	enum tix_err e = TIX_OK;
	size_t len = 0;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, org, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *p = db_column_text(st, 0, NULL);
		const char *k = db_column_text(st, 1, NULL);

		if (k == NULL)
			e = tix_error_set(err, TIX_ENOTFOUND, org,
			                  "this store holds no secret key for the contact point "
			                  "(a copy made without secrets)");
		else if (p == NULL || strlen(p) != 64 || strlen(k) != 128 ||
		         sodium_hex2bin(pk, 32, p, 64, NULL, &len, NULL) != 0 || len != 32 ||
		         sodium_hex2bin(sk, 64, k, 128, NULL, &len, NULL) != 0 || len != 64)
			e = tix_error_set(err, TIX_ESTORE, org,
			                  "the contact point's key is damaged");
	} else if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, org,
		                  "no signing key for this organisation on this node "
		                  "(tix request contact add --org %s ...)",
		                  org);
	} else {
		e = store__fail(s, err, "reading the contact point's key");
	}
	db_reset(st);
	db_clear_bindings(st);
	return e;
}
