/*
 * api/ui.h — the analyst console (docs/console.md): its static files, built
 * into the binary from web/ (web/embed.cmake), served at /ui/ with ETags,
 * caching headers, gzip and a strict Content-Security-Policy; and the
 * pieces of its sign-in (the body read, the cookie and answers made).
 * Sessions themselves are checked by src/auth, the cookie read by src/http.
 */
#ifndef TIX_API_UI_H
#define TIX_API_UI_H

#include <microhttpd.h>
#include <stddef.h>

#define UI_PREFIX       "/ui/"
#define UI_SESSION_PATH "/ui/session"
#define UI_COOKIE       "tix_session"
#define UI_CSRF_HEADER  "X-CSRF-Token"
#define UI_MAX_SIGNIN   4096 /* bytes of a sign-in body */
#define UI_MAX_USER     127
#define UI_MAX_PASSWORD 512

/* One file of web/ (the table is generated: ui_files.c in the build). */
struct ui_file {
	const char *name; /* as served under /ui/: "index.html", "app.<hash>.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	const char *etag; /* "\"<hex>\"": of the bytes served */
	int immutable;    /* a content-hashed name: cached for a year */
};
extern const struct ui_file ui_files[];
extern const size_t ui_nfiles;

/* Compresses the files once (gzip), before the server starts serving. */
void ui_init(void);

/* Adds the headers every console answer carries: the CSP, nosniff, no
 * framing, no referrer across origins. */
void ui_security_headers(struct MHD_Response *r);

/* GET or HEAD of a static file (path starts with "/ui"): 200, 304, 301
 * (/ui to /ui/), 404 or 405; *status set. NULL when out of memory. */
struct MHD_Response *ui_static_answer(const char *method, const char *path,
                                      const char *accept_encoding, const char *if_none_match,
                                      int *status);

/* Reads a sign-in body: a JSON object {"username": S, "password": S} (no
 * other member; a name of 1 to 127 bytes without ':' or control
 * characters, a password of 1 to 512 bytes without NUL). 0, or -1 with why
 * in msg. Fuzzed: fuzz/fuzz_ui_signin.c. */
int ui_signin_parse(const char *body, size_t len, char user[UI_MAX_USER + 1],
                    char password[UI_MAX_PASSWORD + 1], char *msg, size_t msgsize);

/* 1 when a cookie value has the shape of a session token (43 base64url
 * characters), so that nothing else reaches the store. */
int ui_cookie_well_formed(const char *value);

/* The Set-Cookie value starting a session (token NULL: ending it). */
void ui_cookie_header(const char *token, long max_age_s, int tls, char *out, size_t size);

#endif
