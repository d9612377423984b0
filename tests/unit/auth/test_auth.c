/*
 * Unit tests for auth/auth.c: passwords and API keys checked against a
 * real store, malformed headers, the credential cache (observed through the
 * argon2id counter auth__verify_count and by changing the store behind
 * it), failure limits per user and per address, and sharing one struct auth
 * between threads, console sessions (start, check, end, expiry, revocation
 * with the password, user and organisation). Built with TIX_UNITTEST; argon2id runs with its real
 * parameters, so the number of password checks is kept small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tmpdir.h"
#include "auth/auth.h"

#define PASSWORD "correct horse battery staple"

/* One argon2id hash of PASSWORD, made once for every test. */
static char password_hash[crypto_pwhash_STRBYTES];

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
	struct auth *a;
	char key[128]; /* alice's API key */
};

/* A store with organisation acme, alice (analyst, PASSWORD, one API key)
 * and keyless (sensor, no password). No struct auth yet: each test makes
 * its own with the options it needs. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tix_error err;

	if (f == NULL)
		return -1;
	if (test_tmpdir_make("auth", f->dir, sizeof(f->dir), f->path, sizeof(f->path)) != 0) {
		free(f);
		return -1;
	}
	if ((f->s = store_open(f->path, NULL, &err)) == NULL ||
	    store_org_add(f->s, "acme", "DE", &err) != TIX_OK ||
	    store_user_add(f->s, "alice", "acme", STORE_ROLE_ANALYST, password_hash, &err) !=
	            TIX_OK ||
	    store_user_add(f->s, "keyless", "acme", STORE_ROLE_SENSOR, NULL, &err) != TIX_OK ||
	    auth_new_key(f->s, "alice", f->key, sizeof(f->key), &err) != TIX_OK) {
		print_error("setup: %s\n", err.msg);
		store_close(f->s);
		test_tmpdir_remove(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	auth_free(f->a);
	store_close(f->s);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static struct auth *new_auth(struct fixture *f, int64_t ttl_us, unsigned max_failures,
                             int64_t window_us)
{
	struct auth_options o = {ttl_us, max_failures, window_us, 0, 0};
	struct tix_error err;

	auth_free(f->a);
	f->a = auth_new(f->s, &o, &err);
	if (f->a == NULL)
		fail_msg("auth_new: %s", err.msg);
	return f->a;
}

/* "Basic base64(user:password)". */
static char *basic(char *out, size_t size, const char *user, const char *password)
{
	char plain[512];
	int n = snprintf(plain, sizeof(plain), "%s:%s", user, password);

	// NOLINTNEXTLINE(bugprone-not-null-terminated-result): bin2base64 ends it
	memcpy(out, "Basic ", 6);
	sodium_bin2base64(out + 6, size - 6, (const unsigned char *)plain, (size_t)n,
	                  sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static char *bearer(char *out, size_t size, const char *key)
{
	snprintf(out, size, "Bearer %s", key);
	return out;
}

static enum tix_err check(struct fixture *f, const char *header, const char *client,
                          struct auth_principal *p)
{
	struct tix_error err;
	struct auth_principal scratch;

	tix_error_clear(&err);
	return auth_check_header(f->a, f->s, header, client, p ? p : &scratch, &err);
}

static void sql(struct fixture *f, const char *stmt)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- passwords ------------------------------------------------------------ */

static void test_password_right_wrong_unknown(void **state)
{
	struct fixture *f = *state;
	struct auth_principal p;
	struct store_user u;
	struct tix_error err;
	char h[256];

	new_auth(f, 0, 0, 0);
	assert_int_equal(check(f, basic(h, sizeof(h), "alice", PASSWORD), "10.0.0.1", &p), TIX_OK);
	assert_int_equal(store_user_get(f->s, "alice", &u, &err), TIX_OK);
	assert_int_equal(p.user_key, u.key);
	assert_string_equal(p.user, "alice");
	assert_int_equal(p.org_key, u.org_key);
	assert_string_equal(p.org, "acme");
	assert_int_equal(p.role, STORE_ROLE_ANALYST);
	assert_string_equal(p.key_id, "");
	assert_int_equal(auth__verify_count(f->a), 1);

	assert_int_equal(check(f, basic(h, sizeof(h), "alice", "wrong"), "10.0.0.1", &p),
	                 TIX_EDENIED);
	assert_string_equal(p.user, ""); /* nothing is handed out on failure */
	assert_int_equal(auth__verify_count(f->a), 2);
	/* An unknown user and a user without a password cost an argon2id check
	 * too, so timing does not tell which names exist. */
	assert_int_equal(check(f, basic(h, sizeof(h), "mallory", PASSWORD), "10.0.0.1", &p),
	                 TIX_EDENIED);
	assert_int_equal(auth__verify_count(f->a), 3);
	assert_int_equal(check(f, basic(h, sizeof(h), "keyless", ""), "10.0.0.1", &p), TIX_EDENIED);
	assert_int_equal(auth__verify_count(f->a), 4);
}

/* ---- API keys -------------------------------------------------------------- */

static void test_key_right_wrong_unknown_tampered(void **state)
{
	struct fixture *f = *state;
	struct auth_principal p;
	struct store_apikey k;
	struct tix_error err;
	char h[256], bad[128];

	new_auth(f, 0, 0, 0);
	assert_int_equal(check(f, bearer(h, sizeof(h), f->key), "10.0.0.1", &p), TIX_OK);
	assert_string_equal(p.user, "alice");
	assert_string_equal(p.org, "acme");
	assert_int_equal(p.role, STORE_ROLE_ANALYST);
	assert_memory_equal(p.key_id, f->key + 4, 12);
	assert_int_equal(strlen(p.key_id), 12);
	assert_int_equal(store_apikey_get(f->s, p.key_id, &k, &err), TIX_OK);
	assert_true(k.last_used > 0);

	/* Tampered secret: the last character changed. */
	snprintf(bad, sizeof(bad), "%s", f->key);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(check(f, bearer(h, sizeof(h), bad), "10.0.0.1", &p), TIX_EDENIED);
	/* An unknown key id, the secret intact. */
	snprintf(bad, sizeof(bad), "%s", f->key);
	bad[4] = bad[4] == 'a' ? 'b' : 'a';
	assert_int_equal(check(f, bearer(h, sizeof(h), bad), "10.0.0.1", &p), TIX_EDENIED);
	/* Not shaped like a tix key at all, or cut short. */
	assert_int_equal(check(f, "Bearer abcdef", "10.0.0.1", &p), TIX_EDENIED);
	snprintf(bad, sizeof(bad), "%.40s", f->key);
	assert_int_equal(check(f, bearer(h, sizeof(h), bad), "10.0.0.1", &p), TIX_EDENIED);
	/* Keys never cost an argon2id check. */
	assert_int_equal(auth__verify_count(f->a), 0);
}

static void test_new_key_format_and_stored_digest(void **state)
{
	struct fixture *f = *state;
	unsigned char secret[32], digest[32];
	struct store_apikey k;
	struct tix_error err;
	char key_id[13], other[128], small[16];
	size_t len = strlen(f->key);

	/* tix_<12 lowercase base32>_<43 base64url> */
	assert_int_equal(len, 60);
	assert_memory_equal(f->key, "tix_", 4);
	assert_int_equal(f->key[16], '_');
	for (int i = 4; i < 16; i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", f->key[i]));
	for (size_t i = 17; i < len; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                       "0123456789-_",
		                       f->key[i]));
	/* Only the keyed BLAKE2b-256 of the whole key is kept. */
	memcpy(key_id, f->key + 4, 12);
	key_id[12] = '\0';
	assert_int_equal(store_apikey_get(f->s, key_id, &k, &err), TIX_OK);
	assert_int_equal(store_node_secret(f->s, secret, &err), TIX_OK);
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)f->key, len, secret,
	                   sizeof(secret));
	assert_memory_equal(k.hash, digest, sizeof(digest));

	assert_int_equal(auth_new_key(f->s, "alice", other, sizeof(other), &err), TIX_OK);
	assert_string_not_equal(other, f->key);
	assert_int_equal(auth_new_key(f->s, "nobody", other, sizeof(other), &err), TIX_ENOTFOUND);
	assert_int_equal(auth_new_key(f->s, "alice", small, sizeof(small), &err), TIX_EINVAL);
}

/* ---- malformed headers ------------------------------------------------------ */

static void test_malformed_headers(void **state)
{
	struct fixture *f = *state;
	static const unsigned char nul[] = "ali\0ce:pw";
	char h[2048], b64[128];
	struct tix_error err;
	struct auth_principal p;

	new_auth(f, 0, 0, 0);
	assert_int_equal(check(f, NULL, NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "YWxpY2U6cHc=", NULL, &p), TIX_EINVAL); /* no scheme */
	assert_int_equal(check(f, "Digest YWxpY2U6cHc=", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "Basic", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "Basic    ", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "Basic !!!!", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "Basic YWxpY2U6cHc", NULL, &p), TIX_EINVAL); /* no padding */
	assert_int_equal(check(f, "Basic YWxp Y2U6cHc=", NULL, &p), TIX_EINVAL);
	assert_int_equal(check(f, "Basic YWxpY2U=", NULL, &p), TIX_EINVAL); /* "alice" */
	assert_int_equal(check(f, "Basic OnB3", NULL, &p), TIX_EINVAL);     /* ":pw" */
	sodium_bin2base64(b64, sizeof(b64), nul, sizeof(nul) - 1, sodium_base64_VARIANT_ORIGINAL);
	snprintf(h, sizeof(h), "Basic %s", b64);
	assert_int_equal(check(f, h, NULL, &p), TIX_EINVAL); /* a NUL byte */
	memcpy(h, "Basic ", 6);
	memset(h + 6, 'A', sizeof(h) - 7);
	h[sizeof(h) - 1] = '\0';
	tix_error_clear(&err);
	assert_int_equal(auth_check_header(f->a, f->s, h, NULL, &p, &err), TIX_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 1024"));
	/* None of them reached argon2id or counted as a failure. */
	assert_int_equal(auth__verify_count(f->a), 0);
	/* Scheme names are case-insensitive; white space around is allowed. */
	basic(b64, sizeof(b64), "alice", PASSWORD);
	assert_int_equal(check(f, b64, NULL, &p), TIX_OK);
	snprintf(h, sizeof(h), " \tbasic  %s  ", b64 + 6);
	assert_int_equal(check(f, h, NULL, &p), TIX_OK);
}

/* ---- the cache --------------------------------------------------------------- */

static void test_cache_saves_the_argon2id(void **state)
{
	struct fixture *f = *state;
	struct auth_principal p;
	char h[256];

	new_auth(f, 0, 0, 0); /* the default TTL, 60 s */
	basic(h, sizeof(h), "alice", PASSWORD);
	assert_int_equal(check(f, h, "10.0.0.1", &p), TIX_OK);
	assert_int_equal(auth__verify_count(f->a), 1);
	assert_int_equal(check(f, h, "10.0.0.2", &p), TIX_OK);
	assert_string_equal(p.user, "alice");
	assert_int_equal(auth__verify_count(f->a), 1);
	/* A wrong password is never answered from the cache. */
	assert_int_equal(check(f, basic(h, sizeof(h), "alice", "wrong"), "10.0.0.1", &p),
	                 TIX_EDENIED);
	assert_int_equal(auth__verify_count(f->a), 2);
}

static void test_cache_follows_changes_to_the_account(void **state)
{
	struct fixture *f = *state;
	struct auth_principal p;
	char h[256];

	new_auth(f, 0, 0, 0); /* the default TTL, 60 s */
	basic(h, sizeof(h), "alice", PASSWORD);
	assert_int_equal(check(f, h, NULL, &p), TIX_OK);
	assert_int_equal(p.role, STORE_ROLE_ANALYST);
	/* A new role applies to the very next request, still without argon2id. */
	sql(f, "UPDATE users SET role = 'reader' WHERE name = 'alice'");
	assert_int_equal(check(f, h, NULL, &p), TIX_OK);
	assert_int_equal(p.role, STORE_ROLE_READER);
	assert_int_equal(auth__verify_count(f->a), 1);
	/* A changed password is noticed at once: the old one is refused. */
	sql(f, "UPDATE users SET password_hash = '' WHERE name = 'alice'");
	assert_int_equal(check(f, h, NULL, &p), TIX_EDENIED);
	assert_int_equal(auth__verify_count(f->a), 2);
}

static void test_removed_key_refused_at_once(void **state)
{
	struct fixture *f = *state;
	struct auth_principal p;
	struct tix_error err;
	char h[256];

	new_auth(f, 0, 0, 0); /* the default TTL, 60 s */
	bearer(h, sizeof(h), f->key);
	assert_int_equal(check(f, h, NULL, &p), TIX_OK);
	assert_int_equal(check(f, h, NULL, &p), TIX_OK); /* now cached */
	assert_int_equal(store_apikey_remove(f->s, p.key_id, &err), TIX_OK);
	/* Revocation does not wait for the cache entry to expire. */
	assert_int_equal(check(f, h, NULL, &p), TIX_EDENIED);
}

static void test_removed_user_refused_without_cache(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	char h[256];

	new_auth(f, -1, 0, 0); /* no cache */
	bearer(h, sizeof(h), f->key);
	assert_int_equal(check(f, h, NULL, NULL), TIX_OK);
	assert_int_equal(store_user_remove(f->s, "alice", &err), TIX_OK);
	assert_int_equal(check(f, h, NULL, NULL), TIX_EDENIED);
}

/* ---- failure limits ------------------------------------------------------------ */

static void test_rate_limit_per_user_and_address(void **state)
{
	struct fixture *f = *state;
	struct tix_error err;
	struct auth_principal p;
	char h[256], right[256];

	new_auth(f, 0, 3, 0); /* 3 failures per 60 s */
	basic(right, sizeof(right), "alice", PASSWORD);
	for (int i = 0; i < 3; i++)
		assert_int_equal(check(f, basic(h, sizeof(h), "alice", "guess"), "10.0.0.1", &p),
		                 TIX_EDENIED);
	assert_int_equal(auth__verify_count(f->a), 3);
	/* Now even the right password is refused, before any argon2id. */
	tix_error_clear(&err);
	assert_int_equal(auth_check_header(f->a, f->s, right, "10.0.0.1", &p, &err), TIX_ETOOBIG);
	assert_non_null(strstr(err.msg, "too many failed attempts; try again in "));
	/* The same user from elsewhere: limited by name. */
	assert_int_equal(check(f, right, "10.0.0.2", &p), TIX_ETOOBIG);
	/* Another user from the same address: limited by address. */
	assert_int_equal(check(f, basic(h, sizeof(h), "keyless", "x"), "10.0.0.1", &p),
	                 TIX_ETOOBIG);
	assert_int_equal(check(f, bearer(h, sizeof(h), f->key), "10.0.0.1", &p), TIX_ETOOBIG);
	assert_int_equal(auth__verify_count(f->a), 3);
	/* Others are not affected. */
	assert_int_equal(check(f, bearer(h, sizeof(h), f->key), "10.0.0.2", &p), TIX_OK);
}

static void test_rate_limit_window_ends(void **state)
{
	struct fixture *f = *state;
	char h[256];

	new_auth(f, 0, 2, 1000000); /* 2 failures per second */
	assert_int_equal(check(f, "Bearer tix_aaaaaaaaaaaa_nope", "10.0.0.9", NULL), TIX_EDENIED);
	assert_int_equal(check(f, "Bearer tix_aaaaaaaaaaaa_nope", "10.0.0.9", NULL), TIX_EDENIED);
	bearer(h, sizeof(h), f->key);
	assert_int_equal(check(f, h, "10.0.0.9", NULL), TIX_ETOOBIG);
	sleep_ms(1100);
	assert_int_equal(check(f, h, "10.0.0.9", NULL), TIX_OK);
}

static void test_successes_do_not_count_as_failures(void **state)
{
	struct fixture *f = *state;
	char h[256];

	new_auth(f, -1, 2, 0); /* no cache, 2 failures allowed */
	bearer(h, sizeof(h), f->key);
	for (int i = 0; i < 10; i++)
		assert_int_equal(check(f, h, "10.0.0.1", NULL), TIX_OK);
	assert_int_equal(check(f, "Bearer tix_aaaaaaaaaaaa_nope", "10.0.0.1", NULL), TIX_EDENIED);
	assert_int_equal(check(f, h, "10.0.0.1", NULL), TIX_OK);
}

/* ---- making credentials ----------------------------------------------------------- */

static void test_hash_password(void **state)
{
	char out[256], big[600], small[32];
	struct tix_error err;

	(void)state;
	assert_int_equal(auth_hash_password("", out, sizeof(out), &err), TIX_EINVAL);
	assert_int_equal(auth_hash_password("pw", small, sizeof(small), &err), TIX_EINVAL);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(auth_hash_password(big, out, sizeof(out), &err), TIX_EINVAL);
	/* The hash made for the fixtures: argon2id, interactive limits. */
	assert_memory_equal(password_hash, "$argon2id$", 10);
	assert_null(strstr(password_hash, PASSWORD));
	assert_int_equal(crypto_pwhash_str_needs_rehash(password_hash,
	                                                crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                                crypto_pwhash_MEMLIMIT_INTERACTIVE),
	                 0);
}

/* ---- threads -------------------------------------------------------------------- */

struct worker {
	struct fixture *f;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct tix_error err;
	struct store *s = store_open(w->f->path, NULL, &err); /* a handle per thread */
	struct auth_principal p;
	char h[256], client[32];

	if (s == NULL)
		return NULL;
	bearer(h, sizeof(h), w->f->key);
	for (int i = 0; i < 200; i++) {
		snprintf(client, sizeof(client), "10.1.%d.%d", i % 7, i);
		if (auth_check_header(w->f->a, s, h, client, &p, &err) == TIX_OK &&
		    strcmp(p.user, "alice") == 0)
			w->ok++;
		auth_check_header(w->f->a, s, "Bearer tix_aaaaaaaaaaaa_nope", client, &p, &err);
	}
	store_close(s);
	return NULL;
}

static void test_threads_share_one_auth(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];

	new_auth(f, 0, 1000, 0);
	for (int i = 0; i < 4; i++) {
		w[i].f = f;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 200);
	}
}

/* ---- console sessions ---------------------------------------------------- */

static enum tix_err session(struct fixture *f, const char *token, struct auth_principal *p,
                            char *csrf)
{
	struct tix_error err;

	tix_error_clear(&err);
	return auth_check_session(f->a, f->s, token, p, csrf, &err);
}

static void start(struct fixture *f, const char *user, char *token, char *csrf)
{
	struct auth_principal p;
	struct tix_error err;

	assert_int_equal(auth_check_password(f->a, f->s, user, PASSWORD, "192.0.2.1", &p, &err),
	                 TIX_OK);
	assert_int_equal(auth_session_start(f->a, f->s, &p, token, csrf, &err), TIX_OK);
}

static void test_session_is_the_users_principal(void **state)
{
	struct fixture *f = *state;
	char token[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1], csrf2[AUTH_TOKEN_LEN + 1];
	char h[256];
	struct auth_principal by_session, by_key;
	struct tix_error err;
	sqlite3 *db;
	sqlite3_stmt *st;

	new_auth(f, 0, 0, 0);
	start(f, "alice", token, csrf);
	assert_int_equal(strlen(token), AUTH_TOKEN_LEN);
	assert_int_equal(strlen(csrf), AUTH_TOKEN_LEN);
	assert_string_not_equal(token, csrf);
	assert_int_equal(session(f, token, &by_session, csrf2), TIX_OK);
	assert_true(auth_csrf_equal(csrf, csrf2));
	assert_int_equal(check(f, bearer(h, sizeof(h), f->key), NULL, &by_key), TIX_OK);
	assert_int_equal(by_session.user_key, by_key.user_key);
	assert_int_equal(by_session.org_key, by_key.org_key);
	assert_int_equal(by_session.role, by_key.role);
	assert_string_equal(by_session.org, "acme");
	/* The store holds the keyed digest, never the token. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT digest FROM sessions", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), 32);
	assert_memory_not_equal(sqlite3_column_blob(st, 0), token, 32);
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* A changed byte, a short one, a CSRF token as session: no one. */
	token[5] = token[5] == 'A' ? 'B' : 'A';
	assert_int_equal(session(f, token, &by_session, NULL), TIX_EDENIED);
	assert_int_equal(session(f, "short", &by_session, NULL), TIX_EDENIED);
	assert_int_equal(session(f, csrf, &by_session, NULL), TIX_EDENIED);
	assert_false(auth_csrf_equal(csrf, "AAAA"));
	assert_false(auth_csrf_equal(csrf, NULL));
	/* Wrong password: no session to start. */
	assert_int_equal(auth_check_password(f->a, f->s, "alice", "wrong", NULL, &by_key, &err),
	                 TIX_EDENIED);
	assert_int_equal(auth_check_password(f->a, f->s, "a:b", "x", NULL, &by_key, &err),
	                 TIX_EINVAL);
}

static void test_session_ends(void **state)
{
	struct fixture *f = *state;
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1], c[AUTH_TOKEN_LEN + 1];
	struct auth_principal p;
	struct tix_error err;

	new_auth(f, 0, 0, 0);
	/* Sign-out. */
	start(f, "alice", t1, c);
	start(f, "alice", t2, c);
	assert_int_equal(auth_session_end(f->a, f->s, t1, &err), TIX_OK);
	assert_int_equal(session(f, t1, &p, NULL), TIX_EDENIED);
	assert_int_equal(session(f, t2, &p, NULL), TIX_OK); /* the other one lives */
	/* A password change ends every session of the user. */
	assert_int_equal(store_user_set_password(f->s, "alice", password_hash, &err), TIX_OK);
	assert_int_equal(session(f, t2, &p, NULL), TIX_OK); /* the same hash: no change */
	sql(f, "UPDATE users SET password_hash = password_hash || 'x' WHERE name = 'alice'");
	assert_int_equal(session(f, t2, &p, NULL), TIX_EDENIED);
	assert_int_equal(store_user_set_password(f->s, "alice", password_hash, &err), TIX_OK);
	/* The user's removal, and the organisation's. */
	start(f, "alice", t1, c);
	assert_int_equal(store_user_remove(f->s, "alice", &err), TIX_OK);
	assert_int_equal(session(f, t1, &p, NULL), TIX_EDENIED);
	assert_int_equal(
	        store_user_add(f->s, "alice", "acme", STORE_ROLE_ANALYST, password_hash, &err),
	        TIX_OK);
	start(f, "alice", t1, c);
	sql(f, "PRAGMA foreign_keys = ON; DELETE FROM orgs WHERE name = 'acme'");
	assert_int_equal(session(f, t1, &p, NULL), TIX_EDENIED);
}

static void test_session_expires(void **state)
{
	struct fixture *f = *state;
	char t[AUTH_TOKEN_LEN + 1], c[AUTH_TOKEN_LEN + 1];
	struct auth_principal p;
	struct auth_options idle = {0, 0, 0, 200 * 1000, 0}, max = {0, 0, 0, 0, 300 * 1000};
	struct tix_error err;

	auth_free(f->a);
	assert_non_null(f->a = auth_new(f->s, &idle, &err));
	start(f, "alice", t, c);
	assert_int_equal(session(f, t, &p, NULL), TIX_OK);
	sleep_ms(300); /* unused for longer than 200 ms */
	assert_int_equal(session(f, t, &p, NULL), TIX_EDENIED);
	auth_free(f->a);
	assert_non_null(f->a = auth_new(f->s, &max, &err));
	start(f, "alice", t, c);
	for (int i = 0; i < 3; i++) { /* in use, but past 300 ms from the start */
		assert_int_equal(session(f, t, &p, NULL), TIX_OK);
		sleep_ms(70);
	}
	sleep_ms(150);
	assert_int_equal(session(f, t, &p, NULL), TIX_EDENIED);
	assert_int_equal(auth_session_max_s(f->a), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_password_right_wrong_unknown),
	        T(test_key_right_wrong_unknown_tampered),
	        T(test_new_key_format_and_stored_digest),
	        T(test_malformed_headers),
	        T(test_cache_saves_the_argon2id),
	        T(test_cache_follows_changes_to_the_account),
	        T(test_removed_key_refused_at_once),
	        T(test_removed_user_refused_without_cache),
	        T(test_rate_limit_per_user_and_address),
	        T(test_rate_limit_window_ends),
	        T(test_successes_do_not_count_as_failures),
	        cmocka_unit_test(test_hash_password),
	        T(test_threads_share_one_auth),
	        T(test_session_is_the_users_principal),
	        T(test_session_ends),
	        T(test_session_expires),
	};
	struct tix_error err;

	if (auth_hash_password(PASSWORD, password_hash, sizeof(password_hash), &err) != TIX_OK) {
		fprintf(stderr, "auth_hash_password: %s\n", err.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
