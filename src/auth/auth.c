/*
 * auth/auth.c — checks HTTP credentials against the accounts in the store:
 * argon2id passwords, API keys kept only as keyed BLAKE2b digests, a short
 * cache so that a repeated valid credential costs one hash instead of an
 * argon2id, and per-name and per-address limits on failed attempts.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/auth.h"

#define MAX_HEADER       1024 /* bytes of an Authorization value we look at */
#define MAX_PASSWORD     512  /* longer ones could not fit in MAX_HEADER */
#define KEY_PREFIX       "tix_"
#define KEY_PREFIX_LEN   4
#define KEY_ID_LEN       12 /* lowercase base32: 60 random bits */
#define KEY_SECRET_BYTES 32
#define KEY_SECRET_LEN   43 /* base64url of 32 bytes, no padding */
#define KEY_LEN          (KEY_PREFIX_LEN + KEY_ID_LEN + 1 + KEY_SECRET_LEN)

#define DEFAULT_TTL_US    (60 * INT64_C(1000000))
#define DEFAULT_FAILURES  10
#define DEFAULT_WINDOW_US (60 * INT64_C(1000000))
#define DEFAULT_IDLE_US   (3600 * INT64_C(1000000))
#define DEFAULT_MAX_US    (12 * 3600 * INT64_C(1000000))
/* A session's last use is written at most this often. */
#define SESSION_TOUCH_US (60 * INT64_C(1000000))
/* argon2id takes 64 MiB per check: at most this many run at once, so a
 * burst of attempts cannot take all the memory. */
#define MAX_HASHING 4

/* Both tables are set-associative: a keyed digest picks a set, and within a
 * set the least useful way is replaced. The key is random per process, so a
 * caller cannot aim at one set. */
#define CACHE_SETS 128
#define CACHE_WAYS 4
#define LIMIT_SETS 512
#define LIMIT_WAYS 8
/* A source prefix (IPv4 /24, IPv6 /64) may fail this many times the
 * per-address limit in a window. */
#define PREFIX_FACTOR 16

struct cache_entry {
	unsigned char digest[32]; /* keyed BLAKE2b of the credential */
	int64_t expires;          /* monotonic µs; 0 = free */
	struct auth_principal p;
	unsigned char hash_digest[16]; /* password: keyed BLAKE2b of the stored hash */
};

struct limit_entry {
	unsigned char digest[16]; /* keyed BLAKE2b of "u" name or "a" address */
	int64_t start;            /* monotonic µs the window began; 0 = free */
	unsigned failures;
	unsigned limit; /* failures at which it locks */
};

struct auth {
	pthread_mutex_t mu; /* guards everything below that changes */
	pthread_cond_t hashing_done;
	unsigned hashing;       /* argon2id checks running */
	unsigned long verifies; /* argon2id checks done (for the tests) */
	int64_t ttl_us;         /* <= 0: nothing is cached */
	unsigned max_failures;
	int64_t window_us;
	int64_t session_idle_us, session_max_us;
	unsigned char node_secret[32];           /* the key of API-key digests */
	unsigned char local_key[32];             /* the key of cache and limit digests */
	char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown users */
	struct cache_entry cache[CACHE_SETS][CACHE_WAYS];
	/* Users, and addresses with their prefixes, in tables of their own:
	 * a flood of one kind never displaces a counter of the other. */
	struct limit_entry user_limits[LIMIT_SETS][LIMIT_WAYS];
	struct limit_entry limits[LIMIT_SETS][LIMIT_WAYS];
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Never 0, which marks a free entry. */
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + 1;
}

static uint32_t set_of(const unsigned char *digest, uint32_t nsets)
{
	return ((uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16 |
	        (uint32_t)digest[3] << 24) %
	       nsets;
}

/* ---- setting up -------------------------------------------------------- */

struct auth *auth_new(struct store *s, const struct auth_options *opts, struct tix_error *err)
{
	unsigned char pw[16];
	char pw_hex[33];
	struct auth *a;

	if (sodium_init() < 0) {
		tix_error_set(err, TIX_EIO, "auth", "libsodium could not start");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		tix_error_set(err, TIX_ENOMEM, "auth", "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		tix_error_set(err, TIX_EIO, "auth", "cannot create a mutex");
		return NULL;
	}
	if (pthread_cond_init(&a->hashing_done, NULL) != 0) {
		pthread_mutex_destroy(&a->mu);
		free(a);
		tix_error_set(err, TIX_EIO, "auth", "cannot create a condition variable");
		return NULL;
	}
	a->ttl_us = opts && opts->cache_ttl_us ? opts->cache_ttl_us : DEFAULT_TTL_US;
	a->max_failures = opts && opts->max_failures ? opts->max_failures : DEFAULT_FAILURES;
	a->window_us =
	        opts && opts->failure_window_us > 0 ? opts->failure_window_us : DEFAULT_WINDOW_US;
	a->session_idle_us =
	        opts && opts->session_idle_us > 0 ? opts->session_idle_us : DEFAULT_IDLE_US;
	a->session_max_us =
	        opts && opts->session_max_us > 0 ? opts->session_max_us : DEFAULT_MAX_US;
	if (store_node_secret(s, a->node_secret, err) != TIX_OK)
		goto fail;
	if (tix_random(a->local_key, sizeof(a->local_key)) != TIX_OK ||
	    tix_random(pw, sizeof(pw)) != TIX_OK) {
		tix_error_set(err, TIX_EIO, "auth", "no randomness");
		goto fail;
	}
	/* A hash of a password nobody knows, with the parameters real ones
	 * have, so an unknown user costs what a known one does. */
	sodium_bin2hex(pw_hex, sizeof(pw_hex), pw, sizeof(pw));
	if (crypto_pwhash_str(a->dummy_hash, pw_hex, strlen(pw_hex),
	                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		tix_error_set(err, TIX_ENOMEM, "auth", "out of memory hashing a password");
		goto fail;
	}
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(pw_hex, sizeof(pw_hex));
	return a;
fail:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(pw_hex, sizeof(pw_hex));
	auth_free(a);
	return NULL;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	pthread_cond_destroy(&a->hashing_done);
	pthread_mutex_destroy(&a->mu);
	sodium_memzero(a, sizeof(*a)); /* keys, and the principals cached */
	free(a);
}

#ifdef TIX_UNITTEST
unsigned long auth__verify_count(struct auth *a)
{
	unsigned long n;

	pthread_mutex_lock(&a->mu);
	n = a->verifies;
	pthread_mutex_unlock(&a->mu);
	return n;
}
#endif

/* ---- the cache (a->mu held) ------------------------------------------- */

static int cache_get(struct auth *a, const unsigned char digest[32], int64_t now,
                     struct auth_principal *p, unsigned char hash_digest[16])
{
	struct cache_entry *set = a->cache[set_of(digest, CACHE_SETS)];

	for (int i = 0; i < CACHE_WAYS; i++) {
		if (set[i].expires > now && sodium_memcmp(set[i].digest, digest, 32) == 0) {
			*p = set[i].p;
			memcpy(hash_digest, set[i].hash_digest, 16);
			return 1;
		}
	}
	return 0;
}

static void cache_put(struct auth *a, const unsigned char digest[32], int64_t now,
                      const struct auth_principal *p, const unsigned char hash_digest[16])
{
	struct cache_entry *set = a->cache[set_of(digest, CACHE_SETS)];
	struct cache_entry *victim = &set[0];

	if (a->ttl_us <= 0)
		return;
	/* The same credential, else a free or expired way, else the one that
	 * expires first. */
	for (int i = 0; i < CACHE_WAYS; i++) {
		if (set[i].expires > now && sodium_memcmp(set[i].digest, digest, 32) == 0) {
			victim = &set[i];
			break;
		}
		if (set[i].expires <= now) {
			victim = &set[i];
			continue;
		}
		if (victim->expires > now && set[i].expires < victim->expires)
			victim = &set[i];
	}
	memcpy(victim->digest, digest, 32);
	victim->expires = now + a->ttl_us;
	victim->p = *p;
	memcpy(victim->hash_digest, hash_digest, 16);
}

/* ---- failure limits (a->mu held) --------------------------------------- */

static void limit_digest(struct auth *a, char kind, const char *name, unsigned char out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, a->local_key, sizeof(a->local_key), 16);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)name, strlen(name));
	crypto_generichash_final(&st, out, 16);
}

/* How much an entry is worth keeping: free or expired 0; else its
 * failures; a locked entry (at its own limit) is never given up (-1). */
static long limit_worth(const struct auth *a, const struct limit_entry *e, int64_t now)
{
	if (e->start == 0 || now - e->start >= a->window_us)
		return 0;
	return e->failures >= e->limit ? -1 : (long)e->failures + 1;
}

/* The counter of digest (kind 'u': the user table, else the address
 * table); with create, a fresh one when there is none, replacing the way
 * of its set with the fewest failures, never one at or past limit: a
 * flood of new names cannot erase a lock. NULL when every way is locked. */
static struct limit_entry *limit_find(struct auth *a, char kind, const unsigned char digest[16],
                                      int64_t now, int create, unsigned limit)
{
	struct limit_entry *set =
	        (kind == 'u' ? a->user_limits : a->limits)[set_of(digest, LIMIT_SETS)];
	struct limit_entry *victim = NULL, *e = NULL;

	for (int i = 0; i < LIMIT_WAYS && e == NULL; i++) {
		long w = limit_worth(a, &set[i], now);

		if (set[i].start != 0 && memcmp(set[i].digest, digest, 16) == 0)
			e = &set[i];
		else if (w >= 0 && (victim == NULL || w < limit_worth(a, victim, now)))
			victim = &set[i];
	}
	if (e == NULL) {
		if (!create || victim == NULL)
			return NULL;
		e = victim;
		memcpy(e->digest, digest, 16);
		e->start = 0;
		e->limit = limit;
	}
	if (e->start == 0 || now - e->start >= a->window_us) {
		e->start = now;
		e->failures = 0;
	}
	return e;
}

/* Seconds until the counter lets attempts through again, or 0 when it
 * does now. */
static int64_t limit_wait(struct auth *a, char kind, const unsigned char digest[16], int64_t now,
                          unsigned limit)
{
	struct limit_entry *e = limit_find(a, kind, digest, now, 0, limit);

	if (e == NULL || e->failures < limit)
		return 0;
	return (e->start + a->window_us - now + 999999) / 1000000;
}

/* One more failure (an attempt in progress) on a counter; its window start. */
static int64_t limit_count(struct auth *a, char kind, const unsigned char digest[16], int64_t now,
                           unsigned limit)
{
	struct limit_entry *le = limit_find(a, kind, digest, now, 1, limit);

	if (le == NULL)
		return 0;
	le->failures++;
	return le->start;
}

/* Takes back an attempt that did not fail, if its window is still the one
 * it was counted in. */
static void limit_uncount(struct auth *a, char kind, const unsigned char digest[16], int64_t now,
                          int64_t start, unsigned limit)
{
	struct limit_entry *le = limit_find(a, kind, digest, now, 0, limit);

	if (le && start != 0 && le->start == start && le->failures > 0)
		le->failures--;
}

void auth_client_prefix(const char *client, char *out, size_t size)
{
	struct in6_addr a6;
	struct in_addr a4;
	char text[INET6_ADDRSTRLEN];

	if (strncmp(client, "::ffff:", 7) == 0 && strchr(client, '.'))
		client += 7; /* an IPv4-mapped address is its IPv4 address */
	if (inet_pton(AF_INET, client, &a4) == 1) {
		unsigned char *b = (unsigned char *)&a4;

		snprintf(out, size, "%u.%u.%u.0/24", b[0], b[1], b[2]);
	} else if (inet_pton(AF_INET6, client, &a6) == 1) {
		memset(a6.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a6, text, sizeof(text));
		snprintf(out, size, "%s/64", text);
	} else {
		snprintf(out, size, "%s", client);
	}
}

/* ---- checking a credential --------------------------------------------- */

/* One argon2id verification, at most MAX_HASHING at a time. 1 when the
 * password matches. */
static int argon2_verify(struct auth *a, const char *hash, const char *pw, size_t len)
{
	int ok;

	pthread_mutex_lock(&a->mu);
	while (a->hashing >= MAX_HASHING)
		pthread_cond_wait(&a->hashing_done, &a->mu);
	a->hashing++;
	a->verifies++;
	pthread_mutex_unlock(&a->mu);
	ok = crypto_pwhash_str_verify(hash, pw, len) == 0;
	pthread_mutex_lock(&a->mu);
	a->hashing--;
	pthread_cond_signal(&a->hashing_done);
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static void principal_of(const struct store_user *u, const char *key_id, struct auth_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->user_key = u->key;
	snprintf(p->user, sizeof(p->user), "%s", u->name);
	p->org_key = u->org_key;
	snprintf(p->org, sizeof(p->org), "%s", u->org);
	p->role = u->role;
	snprintf(p->key_id, sizeof(p->key_id), "%s", key_id ? key_id : "");
}

/* An unknown user, or one without a password, costs an argon2id check of
 * the dummy hash, so the time taken does not tell which names exist. */
/* A keyed digest of a stored password hash, kept in the cache so that a
 * changed password is noticed without keeping the hash itself. */
static void hash_digest_of(struct auth *a, const char *hash, unsigned char out[16])
{
	crypto_generichash(out, 16, (const unsigned char *)hash, strlen(hash), a->local_key,
	                   sizeof(a->local_key));
}

static enum tix_err check_password(struct auth *a, struct store *s, const char *user,
                                   const char *pw, size_t pw_len, struct auth_principal *p,
                                   unsigned char hdigest[16], struct tix_error *err)
{
	struct store_user u;
	struct tix_error lerr;
	enum tix_err e;
	int known, ok;

	e = store_user_get(s, user, &u, &lerr);
	if (e != TIX_OK && e != TIX_ENOTFOUND) {
		if (err)
			*err = lerr;
		return e;
	}
	known = e == TIX_OK && u.password_hash[0] != '\0';
	ok = argon2_verify(a, known ? u.password_hash : a->dummy_hash, pw, pw_len);
	if (known && ok) {
		principal_of(&u, NULL, p);
		hash_digest_of(a, u.password_hash, hdigest);
	}
	sodium_memzero(&u, sizeof(u));
	if (!(known && ok))
		return tix_error_set(err, TIX_EDENIED, "auth", "wrong user name or password");
	return TIX_OK;
}

static int base32_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

static int base64url_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* "tix_<12 base32>_<43 base64url>". */
static int key_well_formed(const char *t, size_t len)
{
	if (len != KEY_LEN || memcmp(t, KEY_PREFIX, KEY_PREFIX_LEN) != 0 ||
	    t[KEY_PREFIX_LEN + KEY_ID_LEN] != '_')
		return 0;
	for (size_t i = KEY_PREFIX_LEN; i < KEY_PREFIX_LEN + KEY_ID_LEN; i++)
		if (!base32_char(t[i]))
			return 0;
	for (size_t i = KEY_PREFIX_LEN + KEY_ID_LEN + 1; i < len; i++)
		if (!base64url_char(t[i]))
			return 0;
	return 1;
}

static int64_t wall_us(void)
{
	struct tix_time t;

	tix_time_now(&t);
	return tix_time_to_us(&t);
}

static enum tix_err check_key(struct auth *a, struct store *s, const char *token, size_t len,
                              struct auth_principal *p, struct tix_error *err)
{
	unsigned char digest[32];
	char key_id[KEY_ID_LEN + 1];
	struct store_apikey k;
	struct store_user u;
	struct tix_error lerr;
	enum tix_err e;

	if (!key_well_formed(token, len))
		return tix_error_set(err, TIX_EDENIED, "auth", "not a tix API key");
	memcpy(key_id, token + KEY_PREFIX_LEN, KEY_ID_LEN);
	key_id[KEY_ID_LEN] = '\0';
	if ((e = store_apikey_get(s, key_id, &k, &lerr)) == TIX_ENOTFOUND)
		return tix_error_set(err, TIX_EDENIED, "auth", "unknown API key");
	if (e != TIX_OK)
		goto store_error;
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)token, len,
	                   a->node_secret, sizeof(a->node_secret));
	if (sodium_memcmp(digest, k.hash, sizeof(digest)) != 0) {
		sodium_memzero(digest, sizeof(digest));
		return tix_error_set(err, TIX_EDENIED, "auth", "wrong API key");
	}
	sodium_memzero(digest, sizeof(digest));
	if ((e = store_user_get(s, k.user, &u, &lerr)) == TIX_ENOTFOUND)
		return tix_error_set(err, TIX_EDENIED, "auth", "unknown API key");
	if (e != TIX_OK)
		goto store_error;
	principal_of(&u, key_id, p);
	sodium_memzero(&u, sizeof(u));
	/* Only recorded when the key is checked, not on every cached use:
	 * last_used is as fresh as the cache's TTL. */
	if (store_apikey_touch(s, key_id, wall_us(), &lerr) != TIX_OK)
		tix_log_debug("auth: cannot record the use of key %s: %s", key_id, lerr.msg);
	return TIX_OK;
store_error:
	if (err)
		*err = lerr;
	return e;
}

/* A cached principal is still checked against the store (one indexed
 * lookup, no argon2id): a removed key or user, or a changed password, is
 * refused at once, and a changed role or organisation applies at once. */
static int still_valid(struct auth *a, struct store *s, struct auth_principal *p,
                       const unsigned char hdigest[16])
{
	struct store_apikey k;
	struct store_user u;
	struct tix_error lerr;
	unsigned char now_digest[16];
	char key_id[sizeof(p->key_id)];
	int ok = 0;

	memcpy(key_id, p->key_id, sizeof(key_id));
	if (key_id[0]) {
		if (store_apikey_get(s, key_id, &k, &lerr) != TIX_OK || k.user_key != p->user_key)
			return 0;
		if (store_user_get(s, k.user, &u, &lerr) != TIX_OK)
			return 0;
		ok = u.key == p->user_key;
	} else {
		if (store_user_get(s, p->user, &u, &lerr) != TIX_OK || u.password_hash[0] == '\0')
			return 0;
		hash_digest_of(a, u.password_hash, now_digest);
		ok = u.key == p->user_key && sodium_memcmp(now_digest, hdigest, 16) == 0;
	}
	if (ok)
		principal_of(&u, key_id[0] ? key_id : NULL, p);
	sodium_memzero(&u, sizeof(u));
	return ok;
}

/* ---- the thread's memo of checked credentials ----------------------------
 * still_valid reads the key and the user from the store (two lookups, each
 * its own read of the store) on every request. What it found is kept, per
 * worker thread, with the store's data version it was read at: while that
 * version stands (no commit by any connection or process, but the audit
 * writer's: store_audit_queue_data_version), the account is what it was,
 * and the request costs no lookup. A removed key or user, a changed
 * password, role or organisation is a commit, which moves the version: the
 * next request reads the store again. Only after a hit in the shared cache
 * (whose expiry and rate limits still apply); version 0: no memo. */
#define MEMO_WAYS 4

static _Thread_local struct memo {
	const struct auth *a;
	const struct store *s;
	uint64_t version; /* 0: free */
	unsigned char digest[32];
	struct auth_principal p;
} memo[MEMO_WAYS];
static _Thread_local unsigned memo_next;

static int memo_get(const struct auth *a, const struct store *s, uint64_t version,
                    const unsigned char digest[32], struct auth_principal *p)
{
	if (version == 0)
		return 0;
	for (int i = 0; i < MEMO_WAYS; i++) {
		const struct memo *m = &memo[i];

		if (m->version == version && m->a == a && m->s == s &&
		    sodium_memcmp(m->digest, digest, 32) == 0) {
			*p = m->p;
			return 1;
		}
	}
	return 0;
}

static void memo_put(const struct auth *a, const struct store *s, uint64_t version,
                     const unsigned char digest[32], const struct auth_principal *p)
{
	struct memo *m = &memo[memo_next++ % MEMO_WAYS];

	if (version == 0)
		return;
	m->a = a;
	m->s = s;
	m->version = version;
	memcpy(m->digest, digest, 32);
	m->p = *p;
}

enum tix_err auth_check_header(struct auth *a, struct store *s, const char *header,
                               const char *client, struct auth_principal *p, struct tix_error *err)
{
	return auth_check_header_at(a, s, 0, header, client, p, err);
}

enum tix_err auth_check_header_at(struct auth *a, struct store *s, uint64_t version,
                                  const char *header, const char *client, struct auth_principal *p,
                                  struct tix_error *err)
{
	unsigned char cache_digest[32], user_digest[16], client_digest[16], prefix_digest[16];
	unsigned char hdigest[16];
	unsigned plimit = a->max_failures * PREFIX_FACTOR;
	unsigned char decoded[MAX_HEADER + 1];
	const char *scheme, *token, *end, *user = NULL, *pw = NULL, *colon;
	size_t len, slen, tlen, dlen = 0, pw_len = 0;
	int64_t now, wait = 0, user_start = 0, client_start = 0, prefix_start = 0;
	int basic, have_client = client && client[0];
	crypto_generichash_state hs;
	enum tix_err e = TIX_EINVAL;

	memset(p, 0, sizeof(*p));
	if (header == NULL)
		return tix_error_set(err, TIX_EINVAL, "auth", "no credentials");
	if ((len = strnlen(header, MAX_HEADER + 1)) > MAX_HEADER)
		return tix_error_set(err, TIX_EINVAL, "auth",
		                     "the Authorization header is longer than %d bytes",
		                     MAX_HEADER);
	/* "<scheme> <token>", optional white space around them. */
	for (scheme = header; *scheme == ' ' || *scheme == '\t'; scheme++)
		;
	for (slen = 0; scheme[slen] && scheme[slen] != ' ' && scheme[slen] != '\t'; slen++)
		;
	for (token = scheme + slen; *token == ' ' || *token == '\t'; token++)
		;
	for (end = header + len; end > token && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	tlen = (size_t)(end - token);
	if (slen == 5 && strncasecmp(scheme, "basic", 5) == 0)
		basic = 1;
	else if (slen == 6 && strncasecmp(scheme, "bearer", 6) == 0)
		basic = 0;
	else
		return tix_error_set(err, TIX_EINVAL, "auth",
		                     "the Authorization scheme is neither Basic nor Bearer");
	if (tlen == 0 || memchr(token, ' ', tlen) || memchr(token, '\t', tlen))
		return tix_error_set(err, TIX_EINVAL, "auth", "malformed credentials");
	if (basic) {
		/* RFC 7617: base64("user:password"). */
		const char *b64_end = NULL;

		if (sodium_base642bin(decoded, sizeof(decoded) - 1, token, tlen, NULL, &dlen,
		                      &b64_end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    b64_end != end) {
			e = tix_error_set(err, TIX_EINVAL, "auth",
			                  "malformed base64 in Basic credentials");
			goto out;
		}
		decoded[dlen] = '\0';
		if (memchr(decoded, '\0', dlen) != NULL) {
			e = tix_error_set(err, TIX_EINVAL, "auth",
			                  "a NUL byte in Basic credentials");
			goto out;
		}
		if ((colon = memchr(decoded, ':', dlen)) == NULL ||
		    colon == (const char *)decoded) {
			e = tix_error_set(err, TIX_EINVAL, "auth",
			                  "Basic credentials are not \"user:password\"");
			goto out;
		}
		user = (const char *)decoded;
		decoded[colon - user] = '\0';
		pw = colon + 1;
		pw_len = dlen - (size_t)(pw - user);
		limit_digest(a, 'u', user, user_digest);
	}
	if (have_client) {
		char prefix[64];

		auth_client_prefix(client, prefix, sizeof(prefix));
		limit_digest(a, 'a', client, client_digest);
		limit_digest(a, 'p', prefix, prefix_digest);
	}
	crypto_generichash_init(&hs, a->local_key, sizeof(a->local_key), sizeof(cache_digest));
	crypto_generichash_update(&hs, (const unsigned char *)(basic ? "basic " : "bearer "),
	                          basic ? 6 : 7);
	crypto_generichash_update(&hs, (const unsigned char *)token, tlen);
	crypto_generichash_final(&hs, cache_digest, sizeof(cache_digest));

	/* Refused while rate-limited, before any work and even for a right
	 * credential; then the cache; then the real check. An attempt counts
	 * as a failure from its start (taken back when it succeeds), so a burst
	 * of attempts in parallel cannot pass the limit either. */
	pthread_mutex_lock(&a->mu);
	now = mono_us();
	if (have_client)
		wait = limit_wait(a, 'a', client_digest, now, a->max_failures);
	if (have_client && wait == 0)
		wait = limit_wait(a, 'p', prefix_digest, now, plimit);
	if (basic && wait == 0)
		wait = limit_wait(a, 'u', user_digest, now, a->max_failures);
	if (wait > 0) {
		pthread_mutex_unlock(&a->mu);
		e = tix_error_set(err, TIX_ETOOBIG, "auth",
		                  "too many failed attempts; try again in %lld s", (long long)wait);
		goto out;
	}
	if (cache_get(a, cache_digest, now, p, hdigest)) {
		pthread_mutex_unlock(&a->mu);
		if (memo_get(a, s, version, cache_digest, p)) {
			e = TIX_OK;
			goto out;
		}
		if (still_valid(a, s, p, hdigest)) {
			memo_put(a, s, version, cache_digest, p);
			e = TIX_OK;
			goto out;
		}
		/* Gone or changed: check the credential in full, as if uncached. */
		memset(p, 0, sizeof(*p));
		pthread_mutex_lock(&a->mu);
		now = mono_us();
	}
	if (have_client) {
		client_start = limit_count(a, 'a', client_digest, now, a->max_failures);
		prefix_start = limit_count(a, 'p', prefix_digest, now, plimit);
	}
	if (basic)
		user_start = limit_count(a, 'u', user_digest, now, a->max_failures);
	pthread_mutex_unlock(&a->mu);

	memset(hdigest, 0, sizeof(hdigest));
	if (basic)
		e = check_password(a, s, user, pw, pw_len, p, hdigest, err);
	else
		e = check_key(a, s, token, tlen, p, err);

	pthread_mutex_lock(&a->mu);
	now = mono_us();
	if (e != TIX_EDENIED) {
		/* Not a failure: take back the attempt, if its window is the same. */
		if (have_client) {
			limit_uncount(a, 'a', client_digest, now, client_start, a->max_failures);
			limit_uncount(a, 'p', prefix_digest, now, prefix_start, plimit);
		}
		if (basic)
			limit_uncount(a, 'u', user_digest, now, user_start, a->max_failures);
	}
	if (e == TIX_OK)
		cache_put(a, cache_digest, now, p, hdigest);
	pthread_mutex_unlock(&a->mu);
	if (e != TIX_OK)
		memset(p, 0, sizeof(*p));
out:
	sodium_memzero(decoded, sizeof(decoded));
	sodium_memzero(cache_digest, sizeof(cache_digest));
	sodium_memzero(&hs, sizeof(hs));
	return e;
}

enum tix_err auth_check_password(struct auth *a, struct store *s, const char *user,
                                 const char *password, const char *client, struct auth_principal *p,
                                 struct tix_error *err)
{
	/* As "Basic base64(user:password)": one path for both, so the limits,
	 * the cache and the cost are those of HTTP Basic exactly. */
	char plain[MAX_HEADER], header[MAX_HEADER + 8];
	size_t ulen = strlen(user), plen = strlen(password);
	enum tix_err e;

	memset(p, 0, sizeof(*p));
	if (ulen == 0 || strchr(user, ':') || ulen + 1 + plen > (MAX_HEADER - 8) / 4 * 3)
		return tix_error_set(err, TIX_EINVAL, "auth", "malformed credentials");
	/* Neither is a C string: plain is given with its length, header is
	 * ended by sodium_bin2base64. */
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(plain + ulen + 1, password, plen);
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(header, "Basic ", 6);
	sodium_bin2base64(header + 6, sizeof(header) - 6, (const unsigned char *)plain,
	                  ulen + 1 + plen, sodium_base64_VARIANT_ORIGINAL);
	e = auth_check_header(a, s, header, client, p, err);
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(header, sizeof(header));
	return e;
}

/* ---- console sessions ---------------------------------------------------- */

static void session_digest(const struct auth *a, const char *token, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token, AUTH_TOKEN_LEN, a->node_secret,
	                   sizeof(a->node_secret));
}

/* The CSRF token of a session: a keyed digest of its token, told apart
 * from the session digest by a prefix. */
static void session_csrf(const struct auth *a, const char *token, char *csrf)
{
	crypto_generichash_state st;
	unsigned char d[32];

	crypto_generichash_init(&st, a->node_secret, sizeof(a->node_secret), sizeof(d));
	crypto_generichash_update(&st, (const unsigned char *)"tix-csrf:", 9);
	crypto_generichash_update(&st, (const unsigned char *)token, AUTH_TOKEN_LEN);
	crypto_generichash_final(&st, d, sizeof(d));
	sodium_bin2base64(csrf, AUTH_TOKEN_LEN + 1, d, sizeof(d),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(d, sizeof(d));
}

static int token_well_formed(const char *t)
{
	if (t == NULL || strnlen(t, AUTH_TOKEN_LEN + 1) != AUTH_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < AUTH_TOKEN_LEN; i++)
		if (!base64url_char(t[i]))
			return 0;
	return 1;
}

enum tix_err auth_session_start(struct auth *a, struct store *s, const struct auth_principal *p,
                                char *token, char *csrf, struct tix_error *err)
{
	unsigned char secret[32], digest[32];
	int64_t now = wall_us();
	struct tix_error lerr;
	enum tix_err e;

	token[0] = csrf[0] = '\0';
	if (tix_random(secret, sizeof(secret)) != TIX_OK)
		return tix_error_set(err, TIX_EIO, "auth", "no randomness for a session");
	sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, secret, sizeof(secret),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	session_digest(a, token, digest);
	/* Sessions long over are cleared now and then: at each sign-in. */
	if (store_sessions_expire(s, now, a->session_idle_us, &lerr) != TIX_OK)
		tix_log_debug("auth: cannot clear ended sessions: %s", lerr.msg);
	e = store_session_add(s, digest, p->user_key, now, now + a->session_max_us, err);
	if (e == TIX_OK)
		session_csrf(a, token, csrf);
	else
		sodium_memzero(token, AUTH_TOKEN_LEN + 1);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(digest, sizeof(digest));
	return e;
}

enum tix_err auth_check_session(struct auth *a, struct store *s, const char *token,
                                struct auth_principal *p, char *csrf, struct tix_error *err)
{
	unsigned char digest[32];
	struct store_session x;
	struct store_user u;
	struct tix_error lerr;
	int64_t now = wall_us();
	enum tix_err e;

	memset(p, 0, sizeof(*p));
	if (!token_well_formed(token))
		return tix_error_set(err, TIX_EDENIED, "auth", "not a session token");
	session_digest(a, token, digest);
	e = store_session_get(s, digest, &x, &lerr);
	if (e == TIX_ENOTFOUND) {
		e = tix_error_set(err, TIX_EDENIED, "auth", "no such session (signed out?)");
		goto out;
	}
	if (e != TIX_OK) {
		if (err)
			*err = lerr;
		goto out;
	}
	if (now >= x.expires || now - x.last_used >= a->session_idle_us) {
		store_session_remove(s, digest, &lerr);
		e = tix_error_set(err, TIX_EDENIED, "auth", "the session has expired");
		goto out;
	}
	if (store_user_get(s, x.user, &u, &lerr) != TIX_OK || u.key != x.user_key) {
		e = tix_error_set(err, TIX_EDENIED, "auth", "the session's user is gone");
		goto out;
	}
	principal_of(&u, NULL, p);
	sodium_memzero(&u, sizeof(u));
	if (now - x.last_used >= SESSION_TOUCH_US &&
	    store_session_touch(s, digest, now, &lerr) != TIX_OK)
		tix_log_debug("auth: cannot record a session's use: %s", lerr.msg);
	if (csrf)
		session_csrf(a, token, csrf);
	e = TIX_OK;
out:
	sodium_memzero(digest, sizeof(digest));
	return e;
}

enum tix_err auth_session_end(struct auth *a, struct store *s, const char *token,
                              struct tix_error *err)
{
	unsigned char digest[32];
	enum tix_err e;

	if (!token_well_formed(token))
		return tix_error_set(err, TIX_EDENIED, "auth", "not a session token");
	session_digest(a, token, digest);
	e = store_session_remove(s, digest, err);
	sodium_memzero(digest, sizeof(digest));
	return e;
}

long auth_session_max_s(const struct auth *a)
{
	return (long)(a->session_max_us / 1000000);
}

int auth_csrf_equal(const char *expected, const char *given)
{
	if (expected == NULL || given == NULL ||
	    strnlen(expected, AUTH_TOKEN_LEN + 1) != AUTH_TOKEN_LEN ||
	    strnlen(given, AUTH_TOKEN_LEN + 1) != AUTH_TOKEN_LEN)
		return 0;
	return sodium_memcmp(expected, given, AUTH_TOKEN_LEN) == 0;
}

/* ---- making credentials ------------------------------------------------ */

enum tix_err auth_hash_password(const char *password, char *out, size_t size, struct tix_error *err)
{
	size_t len = password ? strlen(password) : 0;

	if (size < crypto_pwhash_STRBYTES)
		return tix_error_set(err, TIX_EINVAL, "auth", "a password hash needs %d bytes",
		                     (int)crypto_pwhash_STRBYTES);
	out[0] = '\0';
	if (len == 0)
		return tix_error_set(err, TIX_EINVAL, "auth", "the password is empty");
	if (len > MAX_PASSWORD)
		return tix_error_set(err, TIX_EINVAL, "auth",
		                     "the password is longer than %d bytes", MAX_PASSWORD);
	if (sodium_init() < 0)
		return tix_error_set(err, TIX_EIO, "auth", "libsodium could not start");
	if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return tix_error_set(err, TIX_ENOMEM, "auth", "out of memory hashing a password");
	return TIX_OK;
}

/* 12 lowercase base32 characters from 60 random bits. */
static enum tix_err new_key_id(char out[KEY_ID_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char r[8];
	uint64_t v = 0;

	if (tix_random(r, sizeof(r)) != TIX_OK)
		return TIX_EIO;
	for (int i = 0; i < 8; i++)
		v = v << 8 | r[i];
	for (int i = 0; i < KEY_ID_LEN; i++, v >>= 5)
		out[i] = alphabet[v & 31];
	out[KEY_ID_LEN] = '\0';
	return TIX_OK;
}

enum tix_err auth_new_key(struct store *s, const char *user, char *out, size_t size,
                          struct tix_error *err)
{
	unsigned char secret[KEY_SECRET_BYTES], node_secret[32], digest[32];
	char key[KEY_LEN + 2], key_id[KEY_ID_LEN + 1];
	enum tix_err e;

	if (size < KEY_LEN + 1)
		return tix_error_set(err, TIX_EINVAL, "auth", "an API key needs %d bytes",
		                     KEY_LEN + 1);
	out[0] = '\0';
	if ((e = store_node_secret(s, node_secret, err)) != TIX_OK)
		return e;
	/* A key id is 60 random bits: a clash is unlikely, but cheap to
	 * survive. */
	for (int attempt = 0; attempt < 4; attempt++) {
		if (new_key_id(key_id) != TIX_OK || tix_random(secret, sizeof(secret)) != TIX_OK) {
			e = tix_error_set(err, TIX_EIO, "auth", "no randomness for a key");
			goto out;
		}
		/* Terminated by sodium_bin2base64 below. */
		// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
		memcpy(key, KEY_PREFIX, KEY_PREFIX_LEN);
		memcpy(key + KEY_PREFIX_LEN, key_id, KEY_ID_LEN);
		key[KEY_PREFIX_LEN + KEY_ID_LEN] = '_';
		sodium_bin2base64(key + KEY_PREFIX_LEN + KEY_ID_LEN + 1, KEY_SECRET_LEN + 1, secret,
		                  sizeof(secret), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		crypto_generichash(digest, sizeof(digest), (const unsigned char *)key, KEY_LEN,
		                   node_secret, sizeof(node_secret));
		e = store_apikey_add(s, user, key_id, digest, err);
		if (e != TIX_EEXIST)
			break;
	}
	if (e == TIX_OK)
		memcpy(out, key, KEY_LEN + 1);
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(node_secret, sizeof(node_secret));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(digest, sizeof(digest));
	return e;
}
