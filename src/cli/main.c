/*
 * cli/main.c — the `tix` entry point: dispatches to subcommands and
 * answers --version and --help.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
} commands[] = {
        {"import", cmd_import, "validate STIX 2.1 files and store their objects"},
        {"export", cmd_export, "write stored objects as a STIX bundle"},
        {"get", cmd_get, "print one object (or all its versions)"},
        {"stats", cmd_stats, "count stored objects by type, versions and collections"},
        {"admin", cmd_admin,
         "manage organisations, users, keys, collections, sharing groups, node policy"},
        {"serve", cmd_serve, "serve the store over TAXII 2.1"},
        {"pattern", cmd_pattern, "check, explain and match STIX patterns"},
        {"audit", cmd_audit, "verify the audit log's hash chain; who has seen an object"},
        {"match", cmd_match, "find indicators in logs at line rate; record sightings"},
        {"peer", cmd_peer, "add, list, remove peers to federate with; their sync status"},
        {"sync", cmd_sync, "pull from and push to peers over TAXII 2.1 (once or on intervals)"},
        {"config", cmd_config, "check the configuration file and print the effective settings"},
        {"backup", cmd_backup, "write a consistent copy of the store (also while serving)"},
        {"restore", cmd_restore, "put the store back from a backup"},
        {"migrate", cmd_migrate, "copy the store into an empty one on PostgreSQL or SQLite"},
        {"drill", cmd_drill,
         "cyber drills: scenarios, timed injects kept out of production, scoreboards"},
        {"request", cmd_request,
         "cross-border preservation requests between 24/7 contact points; the directory"},
        {"library", cmd_library,
         "the resource library: add, import, search in every script, offline packs"},
        {"verify-store", cmd_verify_store,
         "check the store: integrity, schema, the audit log's hash chain"},
        {"correlate", cmd_correlate,
         "the objects sharing a value (or any value of an object), by organisation"},
        {"search", cmd_search, "find objects by value and by text (names, descriptions, labels)"},
        {"expire", cmd_expire, "mark indicators whose decay score fell below the floor"},
        {"reindex", cmd_reindex, "rebuild the value, sighting and text indexes"},
        {"feed", cmd_feed, "define named feeds (Suricata, Zeek, RPZ, nft...) served at /feeds/"},
        {"constituent", cmd_constituent,
         "the organisations' ranges, ASNs, domains and contacts reports are routed to"},
        {"route", cmd_route, "route report rows to their owners; unrouted rows; mail digests"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tix [--version] [--help] COMMAND [ARGS]\n\n"
	           "tix stores STIX 2.1 threat intelligence and shares it.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEvery command takes --db PATH (default $TIX_DB or ./var/tix.db) and --help.\n"
	           "Exit codes: 0 ok, 1 invalid input or nothing found, 2 usage, 3 store or "
	           "system error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("tix %s (store schema %d)\n", TIX_VERSION, store_schema_version());
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tix: '%s' is not a command; see 'tix --help'\n", argv[1]);
	return EXIT_USAGE;
}
