/*
 * fuzz/fuzz_auth_header.c — libFuzzer target for the Authorization header
 * parser (Basic base64 "user:password", Bearer API keys) and what follows
 * it: the rate limits, the credential cache and the key lookup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;
static char dir[64];

/* At exit: close the store and remove its directory (the WAL files stay
 * until the last handle is closed). */
static void cleanup(void)
{
	char path[96];

	store_close(store);
	store = NULL;
	for (const char *const *ext = (const char *const[]){"", "-wal", "-shm", NULL}; *ext;
	     ext++) {
		snprintf(path, sizeof(path), "%s/tix.db%s", dir, *ext);
		unlink(path);
	}
	rmdir(dir);
}
static struct auth *limited, *unlimited;
static char key[128];

static void setup(void)
{
	char path[96], hash[256];
	struct auth_options many = {0, 1000000000u, 0, 0, 0};
	struct tix_error err;

	snprintf(dir, sizeof(dir), "%s", "/tmp/tix-fuzz-auth-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/tix.db", dir);
	if ((store = store_open(path, NULL, &err)) == NULL ||
	    store_org_add(store, "acme", "DE", &err) != TIX_OK ||
	    auth_hash_password("secret", hash, sizeof(hash), &err) != TIX_OK ||
	    store_user_add(store, "alice", "acme", STORE_ROLE_ANALYST, hash, &err) != TIX_OK ||
	    auth_new_key(store, "alice", key, sizeof(key), &err) != TIX_OK ||
	    (limited = auth_new(store, NULL, &err)) == NULL ||
	    (unlimited = auth_new(store, &many, &err)) == NULL) {
		fprintf(stderr, "fuzz_auth_header setup: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
}

/* The input is the header value. A first byte 0x01 stands for "Bearer" and
 * the node's real API key, followed by the rest of the input. Basic headers
 * cost an argon2id check each (~50 ms, 64 MiB), so they go to an auth with
 * the default rate limits, which refuses most of them before that check;
 * the others to one without limits, to reach the key lookup and cache. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_principal p;
	struct tix_error err;
	const char *h;
	char *buf;
	size_t off = 0;

	if (store == NULL)
		setup();
	if ((buf = malloc(size + sizeof(key) + 8)) == NULL)
		return 0;
	if (size > 0 && data[0] == 1) {
		off = (size_t)snprintf(buf, sizeof(key) + 8, "Bearer %s", key);
		data++, size--;
	}
	memcpy(buf + off, data, size);
	buf[off + size] = '\0';
	for (h = buf; *h == ' ' || *h == '\t'; h++)
		;
	auth_check_header(strncasecmp(h, "basic", 5) == 0 ? limited : unlimited, store, buf,
	                  "192.0.2.1", &p, &err);
	free(buf);
	return 0;
}
