/*
 * fuzz/fuzz_taxii.c — libFuzzer target for everything a TAXII request
 * carries to the taxii module: the query string (split and decoded as the
 * HTTP layer does), filters, limits, next tokens, the Accept and
 * Content-Type media types, the path, and POST bodies, run by
 * taxii_handle against a small store with one collection.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "pattern/pattern.h"
#include "taxii/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 300

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
static struct taxii_cache *cache;
static struct taxii_config cfg;
static struct auth_principal admin, reader, stranger;
static char coll_prefix[128];

static void setup(void)
{
	static const char bundle[] =
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	        "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
	        "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
	        "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\",\"pattern_type\":\"stix\","
	        "\"valid_from\":\"2020-01-01T00:00:00Z\"}";
	char path[96];
	struct store_collection c;
	struct store_user u;
	struct tix_error err;
	struct taxii_request req = {0};
	struct taxii_response resp;
	char body[1024], objects[192];

	snprintf(dir, sizeof(dir), "%s", "/tmp/tix-fuzz-taxii-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/tix.db", dir);
	if ((store = store_open(path, NULL, &err)) == NULL ||
	    store_node_secret(store, cfg.secret, &err) != TIX_OK ||
	    store_org_add(store, "acme", "DE", &err) != TIX_OK ||
	    store_org_add(store, "other", "", &err) != TIX_OK ||
	    store_user_add(store, "root", "acme", STORE_ROLE_ADMIN, "", &err) != TIX_OK ||
	    store_user_add(store, "reader", "acme", STORE_ROLE_READER, "", &err) != TIX_OK ||
	    store_user_add(store, "x", "other", STORE_ROLE_ANALYST, "", &err) != TIX_OK ||
	    store_collection_create(store, "feed", "fuzzed", &c, &err) != TIX_OK ||
	    store_collection_grant(store, &c, "acme", 1, 0, &err) != TIX_OK) {
		fprintf(stderr, "fuzz_taxii setup: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
	cfg.title = "fuzz";
	cfg.api_root = "api1";
	cfg.max_content_length = 1 << 20;
	cfg.page_default = 100;
	cfg.page_max = 1000;
	cfg.page_bytes = 16384; /* pages also end on their size */
	cfg.check_pattern = pattern_check;
	cache = taxii_cache_new(1 << 20);
	store_user_get(store, "root", &u, &err);
	admin.user_key = u.key, admin.org_key = u.org_key, admin.role = u.role;
	snprintf(admin.user, sizeof(admin.user), "root");
	snprintf(admin.org, sizeof(admin.org), "acme");
	store_user_get(store, "reader", &u, &err);
	reader.user_key = u.key, reader.org_key = u.org_key, reader.role = u.role;
	snprintf(reader.user, sizeof(reader.user), "reader");
	snprintf(reader.org, sizeof(reader.org), "acme");
	store_user_get(store, "x", &u, &err);
	stranger.user_key = u.key, stranger.org_key = u.org_key, stranger.role = u.role;
	snprintf(stranger.user, sizeof(stranger.user), "x");
	snprintf(stranger.org, sizeof(stranger.org), "other");
	snprintf(coll_prefix, sizeof(coll_prefix), "/api1/collections/%s/", c.id);

	/* One object to list, page and filter. */
	snprintf(body, sizeof(body), "{\"objects\":[%s]}", bundle);
	req.method = "POST";
	snprintf(objects, sizeof(objects), "%sobjects/", coll_prefix);
	req.path = objects;
	req.content_type = TAXII_MEDIA_TYPE;
	req.base_url = "http://127.0.0.1:1";
	req.body = body;
	req.body_len = strlen(body);
	req.who = &admin;
	taxii_response_init(&resp);
	taxii_handle(&cfg, store, NULL, &req, &resp);
	if (resp.status != 202) {
		fprintf(stderr, "fuzz_taxii setup: POST answered %d: %s\n", resp.status,
		        tix_buf_str(&resp.body));
		abort();
	}
	taxii_response_release(&resp);
}

/* Percent-decoding in place, '+' as space, as libmicrohttpd does. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && tix_hex_value(s[1]) >= 0 && tix_hex_value(s[2]) >= 0) {
			*o++ = (char)(tix_hex_value(s[1]) * 16 + tix_hex_value(s[2]));
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

/* The input: five lines (method and caller, path, query string, Accept,
 * Content-Type), then the body. A path starting with '@' is taken as
 * relative to the collection's URL; an empty header line means "absent". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *methods[] = {"GET", "POST", "DELETE", "PUT", "HEAD"};
	struct taxii_param params[MAX_FIELDS];
	struct taxii_request req = {0};
	struct taxii_response resp;
	char *buf, *line[5], *p, *path = NULL;
	size_t n = 0, np = 0;

	if (store == NULL)
		setup();
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (n = 0; n < 5; n++) {
		char *nl = memchr(p, '\n', size - (size_t)(p - buf));

		if (nl == NULL)
			break;
		*nl = '\0';
		line[n] = p;
		p = nl + 1;
	}
	if (n < 5) {
		free(buf);
		return 0;
	}
	req.method = methods[(unsigned char)line[0][0] % 5];
	switch (line[0][0] ? (unsigned char)line[0][1] % 4 : 0) {
	case 0: req.who = &admin; break;
	case 1: req.who = &reader; break;
	case 2: req.who = &stranger; break;
	default: req.who = NULL; break;
	}
	if (line[1][0] == '@') {
		size_t len = strlen(coll_prefix) + strlen(line[1]);

		if ((path = malloc(len)) == NULL) {
			free(buf);
			return 0;
		}
		snprintf(path, len, "%s%s", coll_prefix, line[1] + 1);
		req.path = path;
	} else {
		req.path = line[1];
	}
	/* key=value&key=value, split and decoded like the HTTP layer does. */
	for (char *q = line[2], *amp; q && *q && np < MAX_FIELDS; q = amp) {
		char *eq;

		if ((amp = strchr(q, '&')) != NULL)
			*amp++ = '\0';
		if ((eq = strchr(q, '=')) != NULL)
			*eq++ = '\0';
		unescape(q);
		if (eq)
			unescape(eq);
		params[np].key = q;
		params[np].value = eq;
		np++;
	}
	req.params = params;
	req.nparams = np;
	req.accept = line[3][0] ? line[3] : NULL;
	req.content_type = line[4][0] ? line[4] : NULL;
	req.base_url = "http://127.0.0.1:1";
	req.body = p;
	req.body_len = size - (size_t)(p - buf);
	taxii_response_init(&resp);
	taxii_handle(&cfg, store, (unsigned char)line[0][0] & 8 ? cache : NULL, &req, &resp);
	if (resp.status < 200 || resp.status > 599)
		abort();
	taxii_response_release(&resp);
	free(path);
	free(buf);
	return 0;
}
