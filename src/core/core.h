/*
 * core.h — the primitives every other module stands on: the error value,
 * a bounded string builder, an arena, RFC 3339 timestamps, UUIDs and
 * logging. Uses libc only.
 *
 * Invariants: functions that can fail return an enum tix_err (TIX_OK on
 * success) and, when given a struct tix_error, fill it with a message that
 * says where and why. Free/release functions accept NULL.
 */
#ifndef TIX_CORE_H
#define TIX_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TIX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TIX_PRINTF(a, b)
#endif

/* ---- errors ---------------------------------------------------------- */

#define TIX_ERR_MAP(X)                                                                             \
	X(OK, "success")                                                                           \
	X(ENOMEM, "out of memory")                                                                 \
	X(EPARSE, "malformed input")                                                               \
	X(EINVAL, "invalid input")                                                                 \
	X(ETOOBIG, "input too large")                                                              \
	X(ENOTFOUND, "no such object")                                                             \
	X(EEXIST, "already exists")                                                                \
	X(EDENIED, "access denied")                                                                \
	X(EUSAGE, "usage error")                                                                   \
	X(EIO, "input/output error")                                                               \
	X(ESTORE, "store error")

enum tix_err {
#define X(n, s) TIX_##n,
	TIX_ERR_MAP(X)
#undef X
};

/* An error with context: `where` names the place (a file and line, a JSON
 * path such as "objects[17].valid_from"), `msg` says what and why. */
struct tix_error {
	enum tix_err code;
	char where[160];
	char msg[512];
};

const char *tix_err_name(enum tix_err code);
void tix_error_clear(struct tix_error *err);
/* Sets err (when not NULL) and returns code, so callers can write
 * `return tix_error_set(err, TIX_EINVAL, path, "not a timestamp");`. */
enum tix_err tix_error_set(struct tix_error *err, enum tix_err code, const char *where,
                           const char *fmt, ...) TIX_PRINTF(4, 5);
/* "where: msg", or msg alone when where is empty. Returns buf. */
const char *tix_error_str(const struct tix_error *err, char *buf, size_t size);

/* The name in names[0..n) nearest to word by edit distance, when close
 * enough to be a typo of it (a third of its letters, or a prefix); NULL
 * otherwise. For "did you mean ...?" messages. */
const char *tix_nearest(const char *word, const char *const *names, size_t n);

/* ---- bounded string builder ------------------------------------------ */

/* A growable, always NUL-terminated byte string that refuses to grow past
 * `limit` bytes (TIX_ETOOBIG), so network input cannot grow it without
 * bound. Members are private: use the functions. */
struct tix_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;
};

#define TIX_BUF_UNLIMITED SIZE_MAX

void tix_buf_init(struct tix_buf *b, size_t limit);
void tix_buf_release(struct tix_buf *b);
void tix_buf_reset(struct tix_buf *b); /* len = 0, keeps the memory */
/* Makes room for `more` further bytes without adding any. */
enum tix_err tix_buf_reserve(struct tix_buf *b, size_t more);
enum tix_err tix_buf_add(struct tix_buf *b, const void *data, size_t len);
enum tix_err tix_buf_adds(struct tix_buf *b, const char *s);
enum tix_err tix_buf_addc(struct tix_buf *b, char c);
enum tix_err tix_buf_addf(struct tix_buf *b, const char *fmt, ...) TIX_PRINTF(2, 3);
enum tix_err tix_buf_vaddf(struct tix_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes and escapes included). */
enum tix_err tix_buf_add_json_string(struct tix_buf *b, const char *s);
/* Appends s as HTML/XML text and attribute values: < > & " ' escaped
 * (NULL: nothing). */
enum tix_err tix_buf_add_xml(struct tix_buf *b, const char *s);
/* Appends v as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote or a line break, or starts with a space; a value a spreadsheet
 * would read as a formula, starting = + - @, quoted with a ' before it). */
enum tix_err tix_buf_add_csv(struct tix_buf *b, const char *v);
static inline const char *tix_buf_str(const struct tix_buf *b)
{
	return b->data ? b->data : "";
}
static inline size_t tix_buf_len(const struct tix_buf *b)
{
	return b->len;
}
/* For writers that fill the buffer themselves: tix_buf_space returns the
 * room after the current contents (at least `want` bytes, or NULL when
 * that would pass the limit or memory runs out), and tix_buf_commit then
 * adds the `n` bytes written there. */
char *tix_buf_space(struct tix_buf *b, size_t want);
void tix_buf_commit(struct tix_buf *b, size_t n);
/* Replaces the old_n bytes at `at` with the n (<= old_n) bytes of data, in
 * place: a placeholder written first and filled in when known. Does
 * nothing when the range is not inside b or n > old_n. */
void tix_buf_replace(struct tix_buf *b, size_t at, size_t old_n, const void *data, size_t n);
/* Hands the bytes to the caller (caller frees) and leaves b empty. */
char *tix_buf_detach(struct tix_buf *b, size_t *len);

/* ---- arena ----------------------------------------------------------- */

/* Bump allocator: many small allocations, one release. */
struct tix_arena_block;
struct tix_arena {
	struct tix_arena_block *head;
	size_t block_size;
};

void tix_arena_init(struct tix_arena *a, size_t block_size);
void tix_arena_release(struct tix_arena *a);
void *tix_arena_alloc(struct tix_arena *a, size_t size); /* NULL on ENOMEM */
char *tix_arena_strdup(struct tix_arena *a, const char *s);
char *tix_arena_strndup(struct tix_arena *a, const char *s, size_t n);

/* ---- RFC 3339 timestamps --------------------------------------------- */

/* A point in time with nanosecond resolution, UTC. `digits` remembers how
 * many fractional-second digits the text had (0..9). */
struct tix_time {
	int64_t sec; /* seconds since 1970-01-01T00:00:00Z */
	int32_t nsec;
	int8_t digits;
};

/* Parses "YYYY-MM-DDTHH:MM:SS[.f+]Z" (uppercase T and Z only, as STIX
 * requires). Seconds run 00..59: a leap second 60 is rejected, as the
 * official validator does. At most 9 fractional digits. Returns TIX_OK or TIX_EPARSE with
 * err->msg saying what is wrong. */
enum tix_err tix_time_parse(const char *s, struct tix_time *t, struct tix_error *err);
int tix_time_cmp(const struct tix_time *a, const struct tix_time *b);
/* Formats with `digits` fractional digits (0, 3, 6 or 9 typical); needs
 * 31 bytes. Returns out. */
char *tix_time_format(const struct tix_time *t, int digits, char out[32]);
/* The sortable canonical form: always 9 fractional digits, so that byte
 * order is time order. */
char *tix_time_canonical(const struct tix_time *t, char out[32]);
/* Days since 1970-01-01 of a proleptic Gregorian date (no range checks:
 * 30 February is 2 March). */
int64_t tix_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Current time. */
void tix_time_now(struct tix_time *t);
int64_t tix_time_to_us(const struct tix_time *t);
void tix_time_from_us(int64_t us, struct tix_time *t);
/* µs since the epoch formatted as tix_time_format does. Returns out. */
char *tix_time_format_us(int64_t us, int digits, char out[32]);

/* ---- UUIDs and hashing ----------------------------------------------- */

struct tix_uuid {
	uint8_t b[16];
};

enum tix_err tix_uuid_v4(struct tix_uuid *u);
void tix_uuid_v5(const struct tix_uuid *ns, const void *name, size_t len, struct tix_uuid *u);
/* Lowercase 8-4-4-4-12 form; needs 37 bytes. Returns out. */
char *tix_uuid_format(const struct tix_uuid *u, char out[37]);
/* Parses any-case 8-4-4-4-12 text of exactly 36 characters. */
enum tix_err tix_uuid_parse(const char *s, struct tix_uuid *u);
/* The version nibble (1..8), or 0 if the variant is not RFC 4122. */
int tix_uuid_version(const struct tix_uuid *u);
/* The value of a hexadecimal digit (either case), or -1. */
int tix_hex_value(char c);
/* Fills buf with len cryptographically random bytes (getrandom). */
enum tix_err tix_random(void *buf, size_t len);

/* SHA-1 (used only for UUIDv5, as RFC 4122 requires). */
void tix_sha1(const void *data, size_t len, uint8_t out[20]);

/* ---- logging ---------------------------------------------------------- */

enum tix_log_level { TIX_LOG_ERROR, TIX_LOG_WARN, TIX_LOG_INFO, TIX_LOG_DEBUG };

/* The threshold is read once from $TIX_LOG (error|warn|info|debug, default
 * warn) or set by the CLI before any thread starts. */
void tix_log_set_level(enum tix_log_level level);
/* Messages as one JSON object per line ({"time","level","message"}). */
void tix_log_set_json(int on);
enum tix_log_level tix_log_get_level(void);
void tix_log(enum tix_log_level level, const char *fmt, ...) TIX_PRINTF(2, 3);

#define tix_log_error(...) tix_log(TIX_LOG_ERROR, __VA_ARGS__)
#define tix_log_warn(...)  tix_log(TIX_LOG_WARN, __VA_ARGS__)
#define tix_log_info(...)  tix_log(TIX_LOG_INFO, __VA_ARGS__)
#define tix_log_debug(...) tix_log(TIX_LOG_DEBUG, __VA_ARGS__)

#endif
