/*
 * conf.h — tix.conf, the configuration file of a node: an INI-like text of
 * `key = value` lines in [store], [serve], [policy] and [peer NAME]
 * sections. Parsing checks every line against one table of settings (their
 * type, range and default) and the conflicts between them; nothing here
 * knows a socket or a store. Used by `tix serve`, `tix config check` and
 * the store-locating default of every command.
 */
#ifndef TIX_CONF_H
#define TIX_CONF_H

#include <stddef.h>

#include "core/core.h"

/* The file read when no --config is given: $TIX_CONFIG, else this. */
#define CONF_DEFAULT_PATH "/etc/tix/tix.conf"

enum conf_type {
	CONF_STRING,    /* one line of text */
	CONF_PATH,      /* a file name */
	CONF_BOOL,      /* true/false, on/off, yes/no, 1/0 */
	CONF_UINT,      /* decimal, within [min, max] */
	CONF_SIZE,      /* bytes, with an optional K, M or G (KiB, MiB, GiB) */
	CONF_TLP,       /* clear, green, amber, amber+strict, red (also white) */
	CONF_LISTEN,    /* HOST:PORT, [IPv6]:PORT */
	CONF_URL,       /* http:// or https:// */
	CONF_DIRECTION, /* pull, push or both */
	CONF_LOG_FORMAT /* text or json */
};

/* One known setting. */
struct conf_setting {
	const char *section; /* "store", "serve", "policy", "peer" */
	const char *key;
	enum conf_type type;
	unsigned long min, max; /* CONF_UINT, CONF_SIZE (max 0: none) */
	const char *def;        /* the default, as text; "" when it has none (or
	                           it is computed: see help) */
	const char *help;       /* one line for `tix config check` and tix.conf(5) */
};

/* Every known setting, in the order documented; ends with a NULL key. */
extern const struct conf_setting conf_settings[];

/* One line of a parsed file. */
struct conf_entry {
	const struct conf_setting *setting;
	char section[16];
	char name[64]; /* of a [peer NAME] section, else "" */
	char value[1024];
	int line;
};

struct conf {
	char path[1024];
	struct conf_entry *entries;
	size_t n, cap;
};

/* Called for every problem found ("path:line", "reason"). */
typedef void (*conf_report_fn)(void *arg, const char *where, const char *reason);

/* Parses text (len bytes; NUL bytes are refused) named path in messages.
 * Every problem goes to report (when not NULL); the first is also in err.
 * Returns TIX_OK with *out filled (conf_release it), or TIX_EINVAL when
 * anything is wrong: unknown sections or keys, values of the wrong type
 * or out of range, a key set twice, settings that conflict. */
enum tix_err conf_parse(const char *text, size_t len, const char *path, struct conf *out,
                        conf_report_fn report, void *arg, struct tix_error *err);
/* Reads and parses a file (at most 1 MiB); TIX_EIO when it cannot be read. */
enum tix_err conf_load(const char *path, struct conf *out, conf_report_fn report, void *arg,
                       struct tix_error *err);
void conf_release(struct conf *c);

/* The entry for section/name/key, or NULL when the file does not set it. */
const struct conf_entry *conf_find(const struct conf *c, const char *section, const char *name,
                                   const char *key);
/* The setting for section/key, or NULL. */
const struct conf_setting *conf_setting_find(const char *section, const char *key);

/* Value checks, shared with the command line: 0 and *out, or -1. */
int conf_parse_bool(const char *v, int *out);
int conf_parse_size(const char *v, size_t *out);
int conf_parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out);
/* 0 when v is a valid value for s; else -1 with the reason in why. */
int conf_check_value(const struct conf_setting *s, const char *v, char *why, size_t size);

/* The setting whose key is nearest to key in section (a likely typo), or NULL. */
const char *conf_nearest_key(const char *section, const char *key);

#endif
