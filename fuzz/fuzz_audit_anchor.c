/*
 * fuzz/fuzz_audit_anchor.c — libFuzzer target for what a peer's
 * X-Tix-Audit-Anchor header goes through (store_peer_anchor_put: the
 * "SEQ:HASH" parser, the comparison with the anchors kept, the trimming) and
 * for the source-prefix parser of the rate limits (auth_client_prefix).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;
static char dir[64];

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], last[128], problem[400], prefix[64];
	struct tix_error err;
	int flagged = 0;

	if (store == NULL) {
		char path[96];

		snprintf(dir, sizeof(dir), "%s", "/tmp/tix-fuzz-anchor-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/tix.db", dir);
		if ((store = store_open(path, NULL, &err)) == NULL)
			abort();
		atexit(cleanup);
	}
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	auth_client_prefix(text, prefix, sizeof(prefix));
	if (strlen(prefix) >= sizeof(prefix))
		abort();
	if (store_peer_anchor_put(store, "p", text, 1, &flagged, &err) == TIX_ESTORE)
		abort();
	if (store_peer_anchor_status(store, "p", last, sizeof(last), problem, sizeof(problem),
	                             &err) != TIX_OK)
		abort();
	/* What is kept is always an anchor: digits, a colon, 64 hex digits. */
	if (last[0] && (strchr(last, ':') == NULL || strlen(strchr(last, ':') + 1) != 64))
		abort();
	return 0;
}
