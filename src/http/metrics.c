/*
 * http/metrics.c — the counters behind GET /metrics (lock-free atomics,
 * updated by every worker thread when a request completes) and the answer
 * in the Prometheus text exposition format 0.0.4, with the store's figures
 * read on each scrape.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>

#include "http/metrics.h"
#include "store/store.h"
#include "taxii/taxii.h"

enum endpoint {
	EP_DISCOVERY,
	EP_API_ROOT,
	EP_COLLECTIONS,
	EP_COLLECTION,
	EP_OBJECTS,
	EP_OBJECT,
	EP_VERSIONS,
	EP_MANIFEST,
	EP_STATUS,
	EP_METRICS,
	EP_OTHER,
	EP_COUNT
};

static const char *const endpoint_names[EP_COUNT] = {
        "discovery", "api_root", "collections", "collection", "objects", "object",
        "versions",  "manifest", "status",      "metrics",    "other"};

enum { M_GET, M_HEAD, M_POST, M_DELETE, M_OTHER, M_COUNT };
static const char *const method_names[M_COUNT] = {"GET", "HEAD", "POST", "DELETE", "other"};

/* The statuses tix answers with; anything else is counted as "other". */
static const int statuses[] = {200, 202, 206, 304, 400, 401, 403, 404, 405,
                               406, 413, 415, 416, 422, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Latency buckets, seconds (upper bounds; +Inf is the count). */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct {
	atomic_uint_fast64_t requests[EP_COUNT][M_COUNT][NSTATUS];
	atomic_uint_fast64_t latency_bucket[EP_COUNT][NBUCKETS];
	atomic_uint_fast64_t latency_count[EP_COUNT];
	atomic_uint_fast64_t latency_sum_us[EP_COUNT];
	atomic_uint_fast64_t bytes_in[EP_COUNT], bytes_out[EP_COUNT];
	atomic_uint_fast64_t rejected_too_big, rejected_rate_limited, auth_failures;
	atomic_uint_fast64_t waited_turn;
} m;

void http_metrics_waited_turn(void)
{
	atomic_fetch_add_explicit(&m.waited_turn, 1, memory_order_relaxed);
}

/* /api1/collections/ID/objects/ID/versions/ and the rest, by shape. */
static enum endpoint classify(const char *url)
{
	const char *p, *parts[8];
	size_t n = 0, lens[8];

	if (strcmp(url, "/metrics") == 0)
		return EP_METRICS;
	if (strcmp(url, "/taxii2/") == 0 || strcmp(url, "/taxii2") == 0)
		return EP_DISCOVERY;
	for (p = url; *p && n < 8;) {
		size_t l;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		l = strcspn(p, "/");
		parts[n] = p;
		lens[n++] = l;
		p += l;
	}
#define IS(i, s) (lens[i] == strlen(s) && strncmp(parts[i], s, lens[i]) == 0)
	if (n == 0 || !IS(0, "api1"))
		return EP_OTHER;
	if (n == 1)
		return EP_API_ROOT;
	if (IS(1, "status"))
		return n == 3 ? EP_STATUS : EP_OTHER;
	if (!IS(1, "collections"))
		return EP_OTHER;
	if (n == 2)
		return EP_COLLECTIONS;
	if (n == 3)
		return EP_COLLECTION;
	if (IS(3, "manifest"))
		return n == 4 ? EP_MANIFEST : EP_OTHER;
	if (!IS(3, "objects"))
		return EP_OTHER;
	if (n == 4)
		return EP_OBJECTS;
	if (n == 5)
		return EP_OBJECT;
	return n == 6 && IS(5, "versions") ? EP_VERSIONS : EP_OTHER;
#undef IS
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

static int method_index(const char *method)
{
	for (int i = 0; i < M_OTHER; i++)
		if (strcmp(method, method_names[i]) == 0)
			return i;
	return M_OTHER;
}

void http_metrics_observe(const char *method, const char *url, int status, size_t bytes_in,
                          size_t bytes_out, double seconds)
{
	enum endpoint ep = classify(url);
	uint64_t us = seconds > 0 ? (uint64_t)(seconds * 1e6) : 0;

	atomic_fetch_add_explicit(&m.requests[ep][method_index(method)][status_index(status)], 1,
	                          memory_order_relaxed);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (seconds <= buckets[i])
			atomic_fetch_add_explicit(&m.latency_bucket[ep][i], 1,
			                          memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_count[ep], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.latency_sum_us[ep], us, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.bytes_in[ep], bytes_in, memory_order_relaxed);
	atomic_fetch_add_explicit(&m.bytes_out[ep], bytes_out, memory_order_relaxed);
	if (status == 413)
		atomic_fetch_add_explicit(&m.rejected_too_big, 1, memory_order_relaxed);
	else if (status == 429)
		atomic_fetch_add_explicit(&m.rejected_rate_limited, 1, memory_order_relaxed);
	else if (status == 401)
		atomic_fetch_add_explicit(&m.auth_failures, 1, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(struct tix_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			tix_buf_addc(b, '\\');
		if (*v == '\n') {
			tix_buf_adds(b, "\\n");
			continue;
		}
		tix_buf_addc(b, *v);
	}
}

static void store_type(void *arg, const struct store_type_count *c)
{
	struct tix_buf *b = arg;

	tix_buf_adds(b, "tix_store_objects{type=\"");
	label(b, c->type);
	tix_buf_addf(b, "\"} %lld\n", (long long)c->objects);
	tix_buf_adds(b, "tix_store_versions{type=\"");
	label(b, c->type);
	tix_buf_addf(b, "\"} %lld\n", (long long)c->versions);
}

struct peers {
	struct store *s;
	struct tix_buf *b;
};

static int peer_line(void *arg, const struct store_peer *p)
{
	struct peers *ps = arg;
	struct store_peer_state st;
	struct tix_error err;
	struct tix_buf *b = ps->b;

	if (store_peer_state_get(ps->s, p->name, &st, &err) != TIX_OK)
		return 0;
#define PEER(metric, value)                                                                        \
	do {                                                                                       \
		tix_buf_adds(b, metric "{peer=\"");                                                \
		label(b, p->name);                                                                 \
		tix_buf_addf(b, "\"} %lld\n", (long long)(value));                                 \
	} while (0)
	PEER("tix_peer_objects_in_total", st.objects_in);
	PEER("tix_peer_objects_stored_total", st.objects_stored);
	PEER("tix_peer_objects_rejected_total", st.objects_rejected);
	PEER("tix_peer_objects_out_total", st.objects_out);
	PEER("tix_peer_bytes_in_total", st.bytes_in);
	PEER("tix_peer_bytes_out_total", st.bytes_out);
	PEER("tix_peer_last_attempt_timestamp_seconds", st.last_attempt / 1000000);
	PEER("tix_peer_last_success_timestamp_seconds", st.last_success / 1000000);
	PEER("tix_peer_failing", st.failing);
	PEER("tix_peer_errors_total", st.errors);
	PEER("tix_peer_outbox", st.outbox);
#undef PEER
	return 0;
}

static void match_stats(struct tix_buf *b, const char *dir);

static void render(struct tix_buf *b, struct store *s, const char *db_path,
                   struct store_audit_queue *audit, const char *match_dir)
{
	static const char *const peer_help[][2] = {
	        {"tix_peer_objects_in_total", "counter"},
	        {"tix_peer_objects_stored_total", "counter"},
	        {"tix_peer_objects_rejected_total", "counter"},
	        {"tix_peer_objects_out_total", "counter"},
	        {"tix_peer_bytes_in_total", "counter"},
	        {"tix_peer_bytes_out_total", "counter"},
	        {"tix_peer_last_attempt_timestamp_seconds", "gauge"},
	        {"tix_peer_last_success_timestamp_seconds", "gauge"},
	        {"tix_peer_failing", "gauge"},
	        {"tix_peer_errors_total", "counter"},
	        {"tix_peer_outbox", "gauge"},
	};
	struct store_stats_cb cb = {store_type, NULL, b};
	struct peers ps = {s, b};
	struct tix_error err;
	struct stat st;
	long long disk = 0;

	tix_buf_adds(b, "# HELP tix_http_requests_total HTTP requests answered, by endpoint, "
	                "method and status.\n# TYPE tix_http_requests_total counter\n");
	for (int e = 0; e < EP_COUNT; e++)
		for (int me = 0; me < M_COUNT; me++)
			for (size_t si = 0; si < NSTATUS; si++) {
				uint64_t v = get(&m.requests[e][me][si]);

				if (v == 0)
					continue;
				tix_buf_addf(
				        b,
				        "tix_http_requests_total{endpoint=\"%s\",method=\"%s\","
				        "status=\"",
				        endpoint_names[e], method_names[me]);
				if (si < NSTATUS - 1)
					tix_buf_addf(b, "%d", statuses[si]);
				else
					tix_buf_adds(b, "other");
				tix_buf_addf(b, "\"} %llu\n", (unsigned long long)v);
			}
	tix_buf_adds(b, "# HELP tix_http_request_duration_seconds Time from the request's "
	                "first byte to its answer, by endpoint.\n"
	                "# TYPE tix_http_request_duration_seconds histogram\n");
	for (int e = 0; e < EP_COUNT; e++) {
		uint64_t count = get(&m.latency_count[e]);

		if (count == 0)
			continue;
		for (size_t i = 0; i < NBUCKETS; i++)
			tix_buf_addf(b,
			             "tix_http_request_duration_seconds_bucket{endpoint=\"%s\","
			             "le=\"%g\"} %llu\n",
			             endpoint_names[e], buckets[i],
			             (unsigned long long)get(&m.latency_bucket[e][i]));
		tix_buf_addf(
		        b,
		        "tix_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} "
		        "%llu\n"
		        "tix_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
		        "tix_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
		        endpoint_names[e], (unsigned long long)count, endpoint_names[e],
		        (double)get(&m.latency_sum_us[e]) / 1e6, endpoint_names[e],
		        (unsigned long long)count);
	}
	tix_buf_adds(b, "# HELP tix_http_request_bytes_total Bytes of request bodies, by "
	                "endpoint.\n# TYPE tix_http_request_bytes_total counter\n");
	for (int e = 0; e < EP_COUNT; e++)
		if (get(&m.latency_count[e]))
			tix_buf_addf(b, "tix_http_request_bytes_total{endpoint=\"%s\"} %llu\n",
			             endpoint_names[e], (unsigned long long)get(&m.bytes_in[e]));
	tix_buf_adds(b, "# HELP tix_http_response_bytes_total Bytes of answers, by endpoint.\n"
	                "# TYPE tix_http_response_bytes_total counter\n");
	for (int e = 0; e < EP_COUNT; e++)
		if (get(&m.latency_count[e]))
			tix_buf_addf(b, "tix_http_response_bytes_total{endpoint=\"%s\"} %llu\n",
			             endpoint_names[e], (unsigned long long)get(&m.bytes_out[e]));
	tix_buf_addf(b,
	             "# HELP tix_http_rejected_total Requests refused before the TAXII layer, by "
	             "reason.\n# TYPE tix_http_rejected_total counter\n"
	             "tix_http_rejected_total{reason=\"body_too_large\"} %llu\n"
	             "tix_http_rejected_total{reason=\"rate_limited\"} %llu\n"
	             "tix_http_rejected_total{reason=\"unauthenticated\"} %llu\n",
	             (unsigned long long)get(&m.rejected_too_big),
	             (unsigned long long)get(&m.rejected_rate_limited),
	             (unsigned long long)get(&m.auth_failures));
	tix_buf_addf(b,
	             "# HELP tix_http_waited_turn_total Requests that waited their turn "
	             "(beyond --principal-requests while the cores were busy or others waited).\n"
	             "# TYPE tix_http_waited_turn_total counter\ntix_http_waited_turn_total %llu\n",
	             (unsigned long long)get(&m.waited_turn));
	{
		uint64_t r[TAXII_REJECT_COUNT];
		struct store_audit_queue_stats aq;

		taxii_rejects_get(r);
		tix_buf_adds(b,
		             "# HELP tix_taxii_objects_rejected_total Objects of POSTed envelopes "
		             "refused, by reason.\n"
		             "# TYPE tix_taxii_objects_rejected_total counter\n");
		for (int i = 0; i < TAXII_REJECT_COUNT; i++)
			tix_buf_addf(b, "tix_taxii_objects_rejected_total{reason=\"%s\"} %llu\n",
			             taxii_reject_names[i], (unsigned long long)r[i]);
		uint64_t hits, misses;

		taxii_cache_counts_get(&hits, &misses);
		tix_buf_addf(b,
		             "# HELP tix_taxii_cache_answers_total GETs the answer cache answered "
		             "(hit) or could not, the store having changed or the answer being "
		             "new (miss).\n"
		             "# TYPE tix_taxii_cache_answers_total counter\n"
		             "tix_taxii_cache_answers_total{result=\"hit\"} %llu\n"
		             "tix_taxii_cache_answers_total{result=\"miss\"} %llu\n",
		             (unsigned long long)hits, (unsigned long long)misses);
		store_audit_queue_get_stats(audit, &aq);
		tix_buf_addf(
		        b,
		        "# HELP tix_audit_queue_depth Audit entries waiting to be written.\n"
		        "# TYPE tix_audit_queue_depth gauge\ntix_audit_queue_depth %llu\n"
		        "# HELP tix_audit_queue_capacity Entries the audit queue holds before "
		        "writers wait.\n"
		        "# TYPE tix_audit_queue_capacity gauge\ntix_audit_queue_capacity %zu\n"
		        "# HELP tix_audit_entries_total Audit entries written to the log.\n"
		        "# TYPE tix_audit_entries_total counter\ntix_audit_entries_total %llu\n"
		        "# HELP tix_audit_entries_lost_total Audit entries lost to a failed "
		        "write (logged as errors).\n"
		        "# TYPE tix_audit_entries_lost_total counter\n"
		        "tix_audit_entries_lost_total %llu\n",
		        (unsigned long long)aq.depth, aq.capacity, (unsigned long long)aq.logged,
		        (unsigned long long)aq.lost);
	}
	/* The store, read now: objects and versions by type (their rate is the
	 * ingest rate), its files' size, the peers. */
	tix_buf_adds(b, "# HELP tix_store_objects Objects stored, by type.\n"
	                "# TYPE tix_store_objects gauge\n"
	                "# HELP tix_store_versions Object versions stored, by type.\n"
	                "# TYPE tix_store_versions gauge\n");
	tix_error_clear(&err);
	if (store_stats(s, &cb, &err) != TIX_OK)
		tix_buf_addf(b, "# store_stats failed: %s\n", err.msg);
	for (const char *const *ext = (const char *const[]){"", "-wal", "-shm", NULL}; *ext;
	     ext++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s%s", db_path, *ext);
		if (stat(path, &st) == 0)
			disk += (long long)st.st_size;
	}
	tix_buf_addf(b,
	             "# HELP tix_store_size_bytes The store's files on disk (with -wal and -shm).\n"
	             "# TYPE tix_store_size_bytes gauge\ntix_store_size_bytes %lld\n",
	             disk);
	for (size_t i = 0; i < sizeof(peer_help) / sizeof(peer_help[0]); i++)
		tix_buf_addf(b, "# TYPE %s %s\n", peer_help[i][0], peer_help[i][1]);
	store_peer_list(s, peer_line, &ps, &err);
	if (match_dir && *match_dir)
		match_stats(b, match_dir);
}

/* `tix serve --match-stats DIR`: the sample lines of DIR/NAME.prom, as `tix
 * match --stats-file` writes them. Only tix_match_ samples in the text
 * format pass (a file there cannot add other metrics or break the answer);
 * the HELP and TYPE lines are this list's, written once for every file. */
static const char *const match_help[][3] = {
        {"tix_match_indicators", "gauge", "Indicators in the sensor's index."},
        {"tix_match_files_total", "counter", "Inputs scanned."},
        {"tix_match_lines_total", "counter", "Log lines scanned."},
        {"tix_match_bytes_total", "counter", "Log bytes scanned."},
        {"tix_match_matches_total", "counter", "Indicator values found."},
        {"tix_match_matched_lines_total", "counter", "Lines with a match."},
        {"tix_match_suppressed_total", "counter", "Matches suppressed by warninglists."},
        {"tix_match_values_looked_up_total", "counter", "Candidate values looked up."},
        {"tix_match_skipped_lines_total", "counter", "Lines skipped, by reason."},
        {"tix_match_scan_seconds_total", "counter", "Seconds spent scanning."},
        {"tix_match_updated_timestamp_seconds", "gauge", "When the sensor last wrote its file."},
};

int http_metrics_match_line_ok(const char *line, size_t n)
{
	size_t i = 0, name;

	if (n < 12 || n > 400 || strncmp(line, "tix_match_", 10) != 0)
		return 0;
	for (i = 10; i < n && ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '_'); i++)
		;
	name = i;
	for (size_t k = 0; k < sizeof(match_help) / sizeof(match_help[0]); k++)
		if (strlen(match_help[k][0]) == name && strncmp(line, match_help[k][0], name) == 0)
			goto known;
	return 0;
known:
	if (i < n && line[i] == '{') {
		int quoted = 0;

		for (i++; i < n && (quoted || line[i] != '}'); i++) {
			if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e ||
			    line[i] == '\\')
				return 0;
			if (line[i] == '"')
				quoted = !quoted;
		}
		if (i == n)
			return 0;
		i++;
	}
	if (i >= n || line[i++] != ' ' || i == n)
		return 0;
	for (; i < n; i++) /* strchr would find the terminator of a NUL byte */
		if (line[i] == '\0' || !strchr("0123456789.eE+-", line[i]))
			return 0;
	return 1;
}

static void match_stats(struct tix_buf *b, const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	unsigned long rejected = 0;
	char buf[65536];

	for (size_t k = 0; k < sizeof(match_help) / sizeof(match_help[0]); k++)
		tix_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", match_help[k][0], match_help[k][2],
		             match_help[k][0], match_help[k][1]);
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm), got;
		char path[4400];
		FILE *f;

		if (l > 5 && strcmp(nm + l - 5, ".prom") == 0 && nm[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, nm) < (int)sizeof(path) &&
		    (f = fopen(path, "r")) != NULL) {
			got = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[got] = '\0';
			for (char *p = buf, *e; *p; p = *e ? e + 1 : e) {
				e = p + strcspn(p, "\n");
				if (e == p)
					continue;
				if (http_metrics_match_line_ok(p, (size_t)(e - p))) {
					tix_buf_add(b, p, (size_t)(e - p));
					tix_buf_addc(b, '\n');
				} else {
					rejected++;
				}
			}
		}
		free(names[i]);
	}
	free(names);
	tix_buf_addf(b,
	             "# HELP tix_match_stats_rejected_lines_total Lines of --match-stats files "
	             "that were not tix_match_ samples (left out).\n"
	             "# TYPE tix_match_stats_rejected_lines_total gauge\n"
	             "tix_match_stats_rejected_lines_total %lu\n",
	             rejected);
}

static int is_loopback(const char *client)
{
	return strncmp(client, "127.", 4) == 0 || strcmp(client, "::1") == 0 ||
	       strncmp(client, "::ffff:127.", 11) == 0;
}

enum MHD_Result http_metrics_answer(struct MHD_Connection *c, struct store *s,
                                    struct store_audit_queue *audit,
                                    const struct http_options *opts, const char *client,
                                    const char *authorization, const char *method, int *status,
                                    size_t *bytes)
{
	struct MHD_Response *resp;
	struct tix_buf b;
	const char *type = "text/plain; charset=utf-8";
	enum MHD_Result ret;
	size_t len;
	char *body;

	tix_buf_init(&b, TIX_BUF_UNLIMITED);
	*status = 200;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*status = 405;
		tix_buf_adds(&b, "GET /metrics only\n");
	} else if (opts->metrics_key_set) {
		/* Its own key, from anywhere (loopback too: a reverse proxy on
		 * the host would otherwise hand the metrics to everyone). */
		unsigned char got[32];
		const char *k = authorization && strncasecmp(authorization, "Bearer ", 7) == 0
		                        ? authorization + 7
		                        : "";

		crypto_generichash(got, sizeof(got), (const unsigned char *)k, strlen(k), NULL, 0);
		if (sodium_memcmp(got, opts->metrics_key_digest, sizeof(got)) != 0) {
			*status = 401;
			tix_buf_adds(&b, "/metrics needs its key: Authorization: Bearer KEY\n");
		}
		sodium_memzero(got, sizeof(got));
	} else if (!is_loopback(client)) {
		*status = 403;
		tix_buf_adds(&b,
		             "/metrics is answered on loopback only (or set metrics-key-file)\n");
	}
	if (*status == 200) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		render(&b, s, opts->db_path, audit, opts->match_stats_dir);
	}
	body = tix_buf_detach(&b, &len);
	if (body == NULL) {
		body = strdup("");
		len = 0;
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (*status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"tix-metrics\"");
	*bytes = len;
	ret = MHD_queue_response(c, (unsigned)*status, resp);
	MHD_destroy_response(resp);
	return ret;
}
