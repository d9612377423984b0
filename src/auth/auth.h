/*
 * auth.h — who is calling: accounts' credentials checked against the
 * store. Passwords are argon2id (crypto_pwhash_str); API keys are long
 * random secrets "tix_<key_id>_<secret>" stored only as a keyed BLAKE2b
 * digest under the node secret, found by their key_id. Every comparison of
 * secrets is constant-time.
 *
 * An argon2id check costs ~50 ms and 64 MiB, too much for every request, so
 * a verified credential is remembered for a short time under a keyed digest
 * of the credential (never the credential itself); failed attempts are
 * rate-limited per user name and per client address. struct auth is
 * thread-safe (one per server, shared by every worker thread); the store
 * handle passed to each call belongs to the calling thread.
 */
#ifndef TIX_AUTH_H
#define TIX_AUTH_H

#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/* The authenticated caller. */
struct auth_principal {
	int64_t user_key;
	char user[128];
	int64_t org_key;
	char org[128];
	enum store_role role;
	char key_id[32]; /* the API key used, or "" for a password */
};

struct auth;

/* Zero (or opts NULL) means the default in brackets. A negative
 * cache_ttl_us caches nothing. The cache saves only the argon2id (or key
 * digest): the account is still read from the store whenever the store
 * changed since this thread last read it (auth_check_header_at), so a
 * removed user or key, or a changed password, is refused at once. */
struct auth_options {
	int64_t cache_ttl_us;      /* how long a verified credential is remembered (60 s) */
	unsigned max_failures;     /* failures per user or address per window (10) */
	int64_t failure_window_us; /* (60 s) */
	int64_t session_idle_us;   /* a console session unused this long ends (1 h) */
	int64_t session_max_us;    /* a console session ends this long after sign-in (12 h) */
};

/* The source prefix failures are also counted under: "a.b.c.0/24" for
 * IPv4 (and IPv4-mapped IPv6), "x:x:x:x::/64" for IPv6, else the text. */
void auth_client_prefix(const char *client, char *out, size_t size);

/* Reads the node secret from s. NULL on error. */
struct auth *auth_new(struct store *s, const struct auth_options *opts, struct tix_error *err);
void auth_free(struct auth *a);

/* Checks an HTTP Authorization header value ("Basic ..." or "Bearer ...").
 * client names the peer address for rate limiting. Returns TIX_OK and fills
 * p, TIX_EDENIED for wrong or unknown credentials, TIX_ETOOBIG when the
 * caller is rate-limited (answer 429), TIX_EINVAL for a malformed header. */
enum tix_err auth_check_header(struct auth *a, struct store *s, const char *header,
                               const char *client, struct auth_principal *p, struct tix_error *err);
/* The same, where version is the store's data version for this request
 * (store_audit_queue_data_version, taken before the check): while it stands,
 * a credential this thread already checked against the store is not read
 * from the store again. 0: read it (as auth_check_header does). */
enum tix_err auth_check_header_at(struct auth *a, struct store *s, uint64_t version,
                                  const char *header, const char *client, struct auth_principal *p,
                                  struct tix_error *err);

/* The same check for a user name and password given apart (the console's
 * sign-in): the same argon2id, cache, limits and answers. */
enum tix_err auth_check_password(struct auth *a, struct store *s, const char *user,
                                 const char *password, const char *client, struct auth_principal *p,
                                 struct tix_error *err);

/* ---- console sessions (docs/console.md) -------------------------------------
 * A session token is 32 random bytes in base64url (43 characters), sent as
 * a cookie; the store keeps only its BLAKE2b digest keyed with the node
 * secret, as for API keys. Its CSRF token is derived from it (a keyed
 * digest), so nothing more is stored. */
#define AUTH_TOKEN_LEN 43

/* Starts a session for p: token and csrf (AUTH_TOKEN_LEN + 1 bytes each). */
enum tix_err auth_session_start(struct auth *a, struct store *s, const struct auth_principal *p,
                                char *token, char *csrf, struct tix_error *err);
/* The principal of a session token, exactly as the user's API key would
 * give (read from the store at each request), and its CSRF token (NULL: not
 * wanted). TIX_EDENIED when the session is unknown, ended or expired. */
enum tix_err auth_check_session(struct auth *a, struct store *s, const char *token,
                                struct auth_principal *p, char *csrf, struct tix_error *err);
/* Ends the session (sign-out). */
enum tix_err auth_session_end(struct auth *a, struct store *s, const char *token,
                              struct tix_error *err);
/* Seconds a session lasts at most (for the cookie's Max-Age). */
long auth_session_max_s(const struct auth *a);
/* 1 when the two CSRF tokens are equal (in constant time). */
int auth_csrf_equal(const char *expected, const char *given);

/* Used by `tix admin`: hashes a password with argon2id (out: 128+ bytes). */
enum tix_err auth_hash_password(const char *password, char *out, size_t size,
                                struct tix_error *err);
/* Makes a new API key for user: writes the whole secret to out (shown to
 * the operator once) and stores only its digest. */
enum tix_err auth_new_key(struct store *s, const char *user, char *out, size_t size,
                          struct tix_error *err);

#ifdef TIX_UNITTEST
/* How many argon2id verifications a has run (tests only). */
unsigned long auth__verify_count(struct auth *a);
#endif

#endif
