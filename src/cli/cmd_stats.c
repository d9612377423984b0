/*
 * cli/cmd_stats.c — `tix stats`: what the store holds, by type, with
 * version and collection counts; as a table or as JSON.
 */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tix stats [--db PATH] [--json]\n\n"
	           "Counts stored objects and versions by type, and objects per collection.\n");
}

struct stats_state {
	int json;
	struct tix_buf coll_lines; /* the table's collection part, printed after the totals */
	json_t *types, *collections;
	int64_t objects, versions;
	size_t ncollections;
};

static void on_type(void *arg, const struct store_type_count *c)
{
	struct stats_state *st = arg;

	st->objects += c->objects;
	st->versions += c->versions;
	if (st->json) {
		json_t *t = json_pack("{sIsI}", "objects", (json_int_t)c->objects, "versions",
		                      (json_int_t)c->versions);
		json_object_set_new(st->types, c->type, t);
	} else {
		printf("  %-24s %10lld %10lld\n", c->type, (long long)c->objects,
		       (long long)c->versions);
	}
}

static void on_collection(void *arg, const struct store_collection_count *c)
{
	struct stats_state *st = arg;

	st->ncollections++;
	if (st->json) {
		json_array_append_new(st->collections,
		                      json_pack("{sssssI}", "id", c->id, "title", c->title,
		                                "objects", (json_int_t)c->objects));
	} else {
		if (st->ncollections == 1)
			tix_buf_adds(&st->coll_lines, "\ncollections:\n");
		tix_buf_addf(&st->coll_lines, "  %-36s %10lld  %s\n", c->id, (long long)c->objects,
		             c->title);
	}
}

/* A version stored before schema 6 that breaks the ownership rule. */
static int on_conflict(void *arg, const char *id, const char *version, const char *reason)
{
	json_array_append_new(*(json_t **)arg, json_pack("{ssssss}", "id", id, "version", version,
	                                                 "reason", reason));
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"db", required_argument, NULL, 'd'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct stats_state st = {0};
	struct store_stats_cb cb = {on_type, on_collection, &st};
	json_t *conflicts = NULL;
	int64_t unknown = 0, values_refused = 0;
	struct tix_error err;
	const char *db = NULL, *path;
	struct store *s;
	int ch, rc = 0;

	tix_error_clear(&err);
	tix_buf_init(&st.coll_lines, TIX_BUF_UNLIMITED);
	optind = 0;
	while ((ch = cli_getopt(argc, argv, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'j': st.json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	path = cli_db_path(db);
	if ((s = cli_open_existing_store(path)) == NULL)
		return EXIT_SYSTEM;
	conflicts = json_array();
	if (st.json) {
		st.types = json_object();
		st.collections = json_array();
	} else {
		printf("store %s (schema %d)\n\n  %-24s %10s %10s\n", store_name(s, path),
		       store_schema_version(), "type", "objects", "versions");
	}
	if (store_stats(s, &cb, &err) != TIX_OK ||
	    store_unknown_markings(s, &unknown, &err) != TIX_OK ||
	    store_values_refused(s, &values_refused, &err) != TIX_OK ||
	    store_ownership_conflicts(s, on_conflict, &conflicts, &err) != TIX_OK) {
		cli_print_error("stats", &err);
		rc = EXIT_SYSTEM;
	} else if (st.json) {
		json_t *out = json_pack(
		        "{sssisIsIsososIsIso}", "store", path, "schema", store_schema_version(),
		        "objects", (json_int_t)st.objects, "versions", (json_int_t)st.versions,
		        "types", st.types, "collections", st.collections, "unknown_markings",
		        (json_int_t)unknown, "values_refused", (json_int_t)values_refused,
		        "ownership_conflicts", conflicts);
		conflicts = NULL;
		st.types = st.collections = NULL;
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		printf("  %-24s %10lld %10lld\n", "total", (long long)st.objects,
		       (long long)st.versions);
		fputs(tix_buf_str(&st.coll_lines), stdout);
		printf("\n  versions referring to an unknown marking: %lld\n", (long long)unknown);
		printf("  values left out of the correlation index (malformed): %lld\n",
		       (long long)values_refused);
		if (json_array_size(conflicts) > 0) {
			size_t i;
			json_t *v;

			printf("  versions from before schema 6 that break the ownership rule: %zu\n",
			       json_array_size(conflicts));
			json_array_foreach (conflicts, i, v)
				printf("    %s %s: %s\n",
				       json_string_value(json_object_get(v, "id")),
				       json_string_value(json_object_get(v, "version")),
				       json_string_value(json_object_get(v, "reason")));
		}
	}
	json_decref(conflicts);
	tix_buf_release(&st.coll_lines);
	json_decref(st.types);
	json_decref(st.collections);
	store_close(s);
	return rc;
}
