/*
 * http.h — the TAXII server's HTTP side on libmicrohttpd: listening (plain
 * HTTP on loopback, HTTPS through GnuTLS elsewhere), a bounded thread pool,
 * limits on bodies, headers, connections and idle time, authentication
 * headers, one access-log line per request, a reload of the settings and
 * the TLS certificate on SIGHUP, and a clean stop on SIGTERM.
 */
#ifndef TIX_HTTP_H
#define TIX_HTTP_H

#include <stdio.h>

#include "auth/auth.h"
#include "core/core.h"
#include "api/api.h"
#include "taxii/taxii.h"

struct http_options {
	const char *listen;   /* "127.0.0.1:8600", "[::1]:8600", "0.0.0.0:8600" */
	const char *db_path;  /* each worker thread opens its own handle */
	const char *tls_cert; /* PEM files, both or neither */
	const char *tls_key;
	unsigned threads; /* worker threads (the pool) */
	unsigned max_connections;
	unsigned idle_timeout_s; /* a connection idle this long is closed */
	size_t max_header_bytes; /* per-connection memory for the request head */
	FILE *access_log;        /* NULL: no access log */
	int insecure;            /* allow plain HTTP on a non-loopback address */
	size_t cache_bytes;      /* per worker thread, for recent GET answers; 0: none */
	/* POST bodies buffered at once, node-wide and per principal (0: the
	 * defaults, 256 MiB and a quarter of it); past them, 503 Retry-After. */
	size_t body_budget, body_share;
	/* Requests of one principal (an account, or a source prefix without
	 * one) that run at once; the others wait their turn, first come first
	 * served, their connections suspended (0: 1). */
	unsigned principal_requests;
	/* Called once the server listens (for printing the URL), or NULL. */
	void (*on_listening)(void *arg, const char *base_url);
	void *arg;
	/* GET /metrics (src/http/metrics.c): answered when metrics is set, to
	 * loopback callers, or with metrics_key_set only to callers presenting
	 * the key whose BLAKE2b-256 is metrics_key_digest. */
	int metrics;
	const char *match_stats_dir; /* --match-stats: the directory of tix match stats files, or
	                                NULL */
	int log_json;                /* access log as JSON lines (--log-format json) */
	int metrics_key_set;
	unsigned char metrics_key_digest[32];
	/* The file access_log was opened from, reopened on a reload (after
	 * logrotate); NULL when it is stderr or there is none. */
	const char *access_log_path;
	/* SIGHUP, or NULL to leave it alone: on_reload re-reads the settings
	 * into *next and *next_cfg (which hold the current ones; strings it
	 * sets must live until http_serve returns) and returns 0 to apply
	 * them, or -1 (the reason logged) to keep everything as it is. A
	 * reload applies to requests that start after it, the certificate and
	 * key (re-read from tls_cert/tls_key) to new connections; connections
	 * and requests in progress go on. */
	int (*on_reload)(void *arg, struct http_options *next, struct taxii_config *next_cfg);
	/* The /api/v1/ resources (src/api): the correlation cap and the
	 * warninglists; NULL: the defaults, no warninglists. */
	const struct api_limits *api_limits;
	void *reload_arg;
};

/* Serves until SIGTERM or SIGINT, then finishes the requests in progress
 * and returns TIX_OK. Returns an error without serving when the address,
 * certificate or store cannot be used. */
enum tix_err http_serve(const struct http_options *opts, const struct taxii_config *cfg,
                        struct auth *auth, struct tix_error *err);

/* Checks that listen is HOST:PORT and, with bind_it, that it can be bound
 * now (the port is free, the address is this host's): TIX_EUSAGE or
 * TIX_EIO with the reason. */
enum tix_err http_check_listen(const char *listen, int bind_it, struct tix_error *err);

#endif
