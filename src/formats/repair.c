/*
 * formats/repair.c — `tix import --repair`: fixes, in place, the faults of
 * STIX objects that do not change what they say (empty optional lists,
 * empty custom strings, white space around URLs), as found in ATT&CK
 * releases, and names each repair. Everything else is left for the
 * validator to refuse.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "formats/formats_int.h"

/* Lists the spec requires (removing them would only change the error). */
static int required_list(const char *key)
{
	return strcmp(key, "object_refs") == 0 || strcmp(key, "extension_types") == 0 ||
	       strcmp(key, "protocols") == 0;
}

static void note(json_t *done, const char *path, const char *key, const char *what)
{
	char msg[700];

	snprintf(msg, sizeof(msg), "%s%s%s: %s", path, *path ? "." : "", key, what);
	json_array_append_new(done, json_string(msg));
}

static int has_outer_space(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]));
}

static json_t *trimmed(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	while (n > i && isspace((unsigned char)s[n - 1]))
		n--;
	return json_stringn(s + i, n - i);
}

static void repair_value(json_t *v, const char *path, int top_url, json_t *done);

static void repair_object(json_t *o, const char *path, int top_url, json_t *done)
{
	const char *key;
	json_t *v;
	void *tmp;
	char sub[600];

	json_object_foreach_safe(o, tmp, key, v)
	{
		if (json_is_array(v) && json_array_size(v) == 0 && !required_list(key)) {
			note(done, path, key, "empty list removed");
			json_object_del(o, key);
			continue;
		}
		if (json_is_string(v) && json_string_length(v) == 0 && strncmp(key, "x_", 2) == 0) {
			note(done, path, key, "empty custom string removed");
			json_object_del(o, key);
			continue;
		}
		if (json_is_string(v) &&
		    (strcmp(key, "url") == 0 || (top_url && strcmp(key, "value") == 0)) &&
		    has_outer_space(json_string_value(v))) {
			note(done, path, key, "white space around the URL removed");
			json_object_set_new(o, key, trimmed(json_string_value(v)));
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		repair_value(v, sub, 0, done);
	}
}

static void repair_value(json_t *v, const char *path, int top_url, json_t *done)
{
	size_t i;
	json_t *e;
	char sub[600];

	if (json_is_object(v))
		repair_object(v, path, top_url, done);
	else if (json_is_array(v))
		json_array_foreach (v, i, e) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			repair_value(e, sub, 0, done);
		}
}

size_t formats_repair(json_t *obj, json_t *done)
{
	size_t before = json_array_size(done);
	const char *type = json_string_value(json_object_get(obj, "type"));

	if (json_is_object(obj))
		repair_object(obj, "", type && strcmp(type, "url") == 0, done);
	return json_array_size(done) - before;
}
