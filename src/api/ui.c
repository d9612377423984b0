/*
 * api/ui.c — serves the console's static files at /ui/ from the table the
 * build made of web/ (ETag and 304, immutable caching of hashed names,
 * gzip made once at start, a strict CSP on every answer), and the small
 * parsers of its sign-in: the JSON body and the session cookie's shape.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/ui.h"

#define UI_CSP                                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

#define MAX_FILES 64

/* The gzip of each file (NULL when it would not be smaller), made once. */
static unsigned char *gz[MAX_FILES];
static size_t gz_len[MAX_FILES];
static char gz_etag[MAX_FILES][48];
static pthread_once_t gz_once = PTHREAD_ONCE_INIT;

static void compress_all(void)
{
	for (size_t i = 0; i < ui_nfiles && i < MAX_FILES; i++) {
		const struct ui_file *f = &ui_files[i];

		/* made once: the smallest form */
		if (api_gzip(f->data, f->len, 9, &gz[i], &gz_len[i]) != 0)
			continue;
		/* Another representation, another tag: "<tag>-gz". */
		snprintf(gz_etag[i], sizeof(gz_etag[i]), "%.*s-gz\"", (int)strlen(f->etag) - 1,
		         f->etag);
	}
}

void ui_init(void)
{
	pthread_once(&gz_once, compress_all);
}

void ui_security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
}

static struct MHD_Response *text_answer(int status, const char *text, int *out_status)
{
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

	if (r == NULL)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ui_security_headers(r);
	*out_status = status;
	return r;
}

struct MHD_Response *ui_static_answer(const char *method, const char *path,
                                      const char *accept_encoding, const char *if_none_match,
                                      int *status)
{
	const char *name;
	const struct ui_file *f = NULL;
	struct MHD_Response *r;
	const unsigned char *data;
	const char *etag;
	size_t i, len;
	int zip;

	ui_init();
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		r = text_answer(405, "the console's files are read with GET\n", status);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return r;
	}
	if (strcmp(path, "/ui") == 0) {
		r = text_answer(301, "moved to /ui/\n", status);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, UI_PREFIX);
		return r;
	}
	name = path + strlen(UI_PREFIX);
	if (*name == '\0')
		name = "index.html";
	for (i = 0; i < ui_nfiles; i++)
		if (strcmp(ui_files[i].name, name) == 0) {
			f = &ui_files[i];
			break;
		}
	if (f == NULL)
		return text_answer(404, "no such file of the console\n", status);
	zip = i < MAX_FILES && gz[i] && api_wants_gzip(accept_encoding);
	data = zip ? gz[i] : f->data;
	len = zip ? gz_len[i] : f->len;
	etag = zip ? gz_etag[i] : f->etag;
	if (if_none_match && api_none_match(if_none_match, etag)) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		*status = 304;
	} else {
		r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
		                                    MHD_RESPMEM_PERSISTENT);
		*status = 200;
		if (r) {
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
			if (zip)
				MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
				                        "gzip");
		}
	}
	if (r == NULL)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	ui_security_headers(r);
	return r;
}

/* ---- sign-in -------------------------------------------------------------------- */

static int msg_set(char *msg, size_t size, const char *text)
{
	snprintf(msg, size, "%s", text);
	return -1;
}

int ui_signin_parse(const char *body, size_t len, char user[UI_MAX_USER + 1],
                    char password[UI_MAX_PASSWORD + 1], char *msg, size_t msgsize)
{
	json_error_t jerr;
	json_t *v, *u, *p;
	const char *key;
	json_t *member;
	size_t ulen, plen;
	int rc = -1;

	user[0] = password[0] = '\0';
	if (len > UI_MAX_SIGNIN)
		return msg_set(msg, msgsize, "the sign-in body is larger than 4096 bytes");
	if ((v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(msg, msgsize, "the sign-in body is not JSON: %s (column %d)", jerr.text,
		         jerr.column);
		return -1;
	}
	if (!json_is_object(v)) {
		msg_set(msg, msgsize, "the sign-in body is not a JSON object");
		goto out;
	}
	json_object_foreach (v, key, member) {
		if (strcmp(key, "username") != 0 && strcmp(key, "password") != 0) {
			snprintf(msg, msgsize,
			         "unknown member \"%.40s\" (username and password only)", key);
			goto out;
		}
	}
	u = json_object_get(v, "username");
	p = json_object_get(v, "password");
	if (!json_is_string(u) || !json_is_string(p)) {
		msg_set(msg, msgsize, "username and password are both needed, as strings");
		goto out;
	}
	ulen = json_string_length(u);
	plen = json_string_length(p);
	if (ulen == 0 || ulen > UI_MAX_USER) {
		msg_set(msg, msgsize, "the user name is empty or longer than 127 bytes");
		goto out;
	}
	if (plen == 0 || plen > UI_MAX_PASSWORD) {
		msg_set(msg, msgsize, "the password is empty or longer than 512 bytes");
		goto out;
	}
	for (size_t i = 0; i < ulen; i++) {
		unsigned char c = (unsigned char)json_string_value(u)[i];

		if (c < 0x20 || c == 0x7f || c == ':') {
			msg_set(msg, msgsize, "the user name holds a control character or ':'");
			goto out;
		}
	}
	if (memchr(json_string_value(p), '\0', plen) != NULL) {
		msg_set(msg, msgsize, "the password holds a NUL byte");
		goto out;
	}
	memcpy(user, json_string_value(u), ulen + 1);
	memcpy(password, json_string_value(p), plen + 1);
	rc = 0;
out:
	json_decref(v); /* jansson does not wipe: the body's copy is the caller's */
	return rc;
}

int ui_cookie_well_formed(const char *value)
{
	size_t n = 0;

	if (value == NULL)
		return 0;
	for (; value[n]; n++) {
		char c = value[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
		if (n > 43)
			return 0;
	}
	return n == 43;
}

void ui_cookie_header(const char *token, long max_age_s, int tls, char *out, size_t size)
{
	snprintf(out, size, "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%ld%s", UI_COOKIE,
	         token ? token : "", token ? max_age_s : 0L, tls ? "; Secure" : "");
}
