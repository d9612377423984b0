/*
 * http/http.c — libmicrohttpd adapter for the TAXII module: one access
 * handler that gathers a request (headers, query, body within limits),
 * authenticates it, hands it to taxii_handle with the worker thread's own
 * store handle, and queues the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http.h"

#define MAX_PARAMS 256

struct server {
	const struct http_options *opts;
	const struct taxii_config *cfg;
	struct auth *auth;
	char base_url[300];
	int tls;
	pthread_mutex_t lock; /* guards stores[] */
	struct store **stores;
	struct taxii_cache **caches; /* one per worker thread, beside its store */
	size_t nstores, capstores;
};

/* What one request gathers across the access handler's calls. */
struct req_state {
	struct tix_buf body;
	int too_big;
	size_t discarded; /* bytes of an oversized body read and dropped */
	int status;
	size_t bytes;
	struct timespec started;
	char user[128];
	char method[16];
	char url[256];
};

/* Each worker thread opens the store once and keeps it: SQLite handles are
 * not shared between threads here. The server closes them all at the end. */
static _Thread_local struct store *thread_store;
static _Thread_local struct taxii_cache *thread_cache;

static struct store *worker_store(struct server *srv, struct tix_error *err)
{
	struct store *s;

	if (thread_store)
		return thread_store;
	if ((s = store_open(srv->opts->db_path, NULL, err)) == NULL)
		return NULL;
	pthread_mutex_lock(&srv->lock);
	if (srv->nstores == srv->capstores) {
		size_t ncap = srv->capstores ? srv->capstores * 2 : 16;
		struct store **n = realloc(srv->stores, ncap * sizeof(*n));
		struct taxii_cache **nc = n ? realloc(srv->caches, ncap * sizeof(*nc)) : NULL;

		if (n)
			srv->stores = n;
		if (nc == NULL) {
			pthread_mutex_unlock(&srv->lock);
			store_close(s);
			tix_error_set(err, TIX_ENOMEM, "http", "out of memory");
			return NULL;
		}
		srv->caches = nc;
		srv->capstores = ncap;
	}
	srv->stores[srv->nstores] = s;
	srv->caches[srv->nstores++] = thread_cache =
	        srv->opts->cache_bytes ? taxii_cache_new(srv->opts->cache_bytes) : NULL;
	pthread_mutex_unlock(&srv->lock);
	thread_store = s;
	return s;
}

struct params {
	struct taxii_param p[MAX_PARAMS];
	size_t n;
	int overflow;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct params *ps = cls;

	(void)kind;
	if (ps->n == MAX_PARAMS) {
		ps->overflow = 1;
		return MHD_NO;
	}
	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value;
	ps->n++;
	return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct req_state *st,
                                     struct taxii_response *r)
{
	struct MHD_Response *resp;
	size_t len;
	char *body = tix_buf_detach(&r->body, &len);
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        r->content_type ? r->content_type : TAXII_MEDIA_TYPE);
	if (r->date_added_first[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-First", r->date_added_first);
	if (r->date_added_last[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", r->date_added_last);
	if (r->authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"tix\", Bearer realm=\"tix\"");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	st->status = r->status;
	st->bytes = len;
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct req_state *st, int status,
                                  const char *title, const char *msg)
{
	struct taxii_response r;
	enum MHD_Result ret;

	taxii_response_init(&r);
	taxii_error(&r, status, title, "%s", msg);
	ret = send_response(c, st, &r);
	taxii_response_release(&r);
	return ret;
}

static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(out, size, "-");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
		          (socklen_t)size);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
		          (socklen_t)size);
}

/* The scheme and authority clients used, for the absolute URLs of the
 * discovery resource: the Host header when it looks like one. */
static void base_url(struct server *srv, struct MHD_Connection *c, char *out, size_t size)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (host && *host && strlen(host) < 256 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
	            strlen(host))
		snprintf(out, size, "%s://%s", srv->tls ? "https" : "http", host);
	else
		snprintf(out, size, "%s", srv->base_url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct req_state *st = *con_cls;
	struct taxii_request req;
	struct taxii_response resp;
	struct auth_principal who;
	struct params *ps = NULL;
	struct tix_error err;
	struct store *s;
	const char *authz, *cl;
	char client[64], base[300];
	enum MHD_Result ret;

	(void)version;
	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		tix_buf_init(&st->body, srv->cfg->max_content_length);
		clock_gettime(CLOCK_MONOTONIC, &st->started);
		snprintf(st->method, sizeof(st->method), "%s", method);
		snprintf(st->url, sizeof(st->url), "%s", url);
		*con_cls = st;
		/* Refuse a declared oversized body before reading any of it. */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_content_length) {
			st->too_big = 1;
			return send_error(c, st, 413, "Payload too large",
			                  "the body is larger than max_content_length");
		}
		/* Answer on a later call: libmicrohttpd 0.9.75 drops keep-alive
		 * when a response is queued on the first. */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* A body without a declared length that grows past the limit is
		 * read on and dropped, so the client gets its 413 when it is done;
		 * one that goes on far past the limit is cut off. */
		if (st->too_big || tix_buf_add(&st->body, upload_data, *upload_size) != TIX_OK) {
			st->too_big = 1;
			st->discarded += *upload_size;
			tix_buf_release(&st->body);
			if (st->discarded > 4 * srv->cfg->max_content_length + (1u << 20))
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->too_big) {
		if (st->status != 0)
			return MHD_YES; /* answered on the first call */
		return send_error(c, st, 413, "Payload too large",
		                  "the body is larger than max_content_length");
	}
	if ((s = worker_store(srv, &err)) == NULL)
		return send_error(c, st, 503, "Service unavailable", err.msg);
	if ((ps = malloc(sizeof(*ps))) == NULL)
		return MHD_NO;
	ps->n = 0;
	ps->overflow = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, ps);
	if (ps->overflow) {
		free(ps);
		return send_error(c, st, 400, "Bad request", "too many query parameters");
	}
	client_address(c, client, sizeof(client));
	memset(&req, 0, sizeof(req));
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz) {
		enum tix_err e = auth_check_header(srv->auth, s, authz, client, &who, &err);

		if (e == TIX_ETOOBIG) {
			free(ps);
			return send_error(c, st, 429, "Too many requests", err.msg);
		}
		if (e == TIX_OK) {
			req.who = &who;
			snprintf(st->user, sizeof(st->user), "%s", who.user);
		} else {
			struct store_audit_entry ae;
			struct tix_time now;
			char detail[600];

			req.auth_failed = 1;
			/* The header itself is never logged: it holds the credential. */
			tix_log_info("%s: authentication failed: %s", client, err.msg);
			tix_time_now(&now);
			snprintf(detail, sizeof(detail), "%s %.200s from %s: %.300s", method, url,
			         client, err.msg);
			ae = (struct store_audit_entry){
			        tix_time_to_us(&now), "auth-failure", "", "", "", detail};
			store_audit_queue_push(srv->cfg->audit, &ae);
		}
	}
	base_url(srv, c, base, sizeof(base));
	req.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	req.path = url;
	req.params = ps->p;
	req.nparams = ps->n;
	req.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	req.content_type =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.base_url = base;
	req.client = client;
	req.body = tix_buf_str(&st->body);
	req.body_len = tix_buf_len(&st->body);
	taxii_response_init(&resp);
	taxii_handle(srv->cfg, s, thread_cache, &req, &resp);
	ret = send_response(c, st, &resp);
	taxii_response_release(&resp);
	free(ps);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req_state *st = *con_cls;
	struct timespec now;
	struct tix_time t;
	char ts[32], client[64];
	double ms;

	(void)toe;
	if (st == NULL)
		return;
	if (srv->opts->access_log) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (double)(now.tv_sec - st->started.tv_sec) * 1e3 +
		     (double)(now.tv_nsec - st->started.tv_nsec) / 1e6;
		tix_time_now(&t);
		tix_time_format(&t, 3, ts);
		client_address(c, client, sizeof(client));
		/* One write per line, so lines from the worker threads do not mix. */
		fprintf(srv->opts->access_log, "%s %s %s %s %d %zu %.1fms %s\n", ts, client,
		        st->method, st->url, st->status, st->bytes, ms,
		        st->user[0] ? st->user : "-");
	}
	tix_buf_release(&st->body);
	free(st);
	*con_cls = NULL;
}

/* Reads a whole (small) file, for the TLS certificate and key. */
static char *read_file(const char *path, struct tix_error *err)
{
	FILE *f = fopen(path, "rb");
	struct tix_buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		tix_error_set(err, TIX_EIO, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	tix_buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (tix_buf_add(&b, chunk, n) != TIX_OK) {
			fclose(f);
			tix_buf_release(&b);
			tix_error_set(err, TIX_ETOOBIG, path, "larger than 1 MiB");
			return NULL;
		}
	fclose(f);
	return tix_buf_detach(&b, NULL);
}

/* Parses "host:port", "[v6]:port" into addr. */
static enum tix_err parse_listen(const char *listen, struct sockaddr_storage *addr, int *v6,
                                 int *loopback, struct tix_error *err)
{
	char host[128];
	const char *colon, *h = listen;
	size_t hl;
	long port;
	char *end;

	memset(addr, 0, sizeof(*addr));
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h = listen + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)addr)->sin_addr) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)addr;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*v6 = 0;
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		return TIX_OK;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)addr;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		return TIX_OK;
	}
bad:
	return tix_error_set(err, TIX_EUSAGE, "--listen",
	                     "'%s' is not HOST:PORT (an IPv4 address, [IPv6] or localhost)",
	                     listen);
}

enum tix_err http_serve(const struct http_options *opts, const struct taxii_config *cfg,
                        struct auth *auth, struct tix_error *err)
{
	struct server srv;
	struct sockaddr_storage addr;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	int v6 = 0, loopback = 0, sig;
	unsigned flags;
	sigset_t sigs;
	enum tix_err e;

	memset(&srv, 0, sizeof(srv));
	srv.opts = opts;
	srv.cfg = cfg;
	srv.auth = auth;
	pthread_mutex_init(&srv.lock, NULL);
	if ((e = parse_listen(opts->listen, &addr, &v6, &loopback, err)) != TIX_OK)
		goto out;
	srv.tls = opts->tls_cert != NULL;
	if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
		e = tix_error_set(err, TIX_EUSAGE, "serve", "--tls-cert and --tls-key go together");
		goto out;
	}
	if (!srv.tls && !loopback && !opts->insecure) {
		e = tix_error_set(err, TIX_EUSAGE, opts->listen,
		                  "plain HTTP is only served on loopback; give --tls-cert and "
		                  "--tls-key, or --insecure-http to serve it anyway");
		goto out;
	}
	if (srv.tls && ((cert = read_file(opts->tls_cert, err)) == NULL ||
	                (key = read_file(opts->tls_key, err)) == NULL)) {
		e = err->code;
		goto out;
	}
	snprintf(srv.base_url, sizeof(srv.base_url), "%s://%s", srv.tls ? "https" : "http",
	         opts->listen);

	/* SIGTERM and SIGINT are taken by sigwait below: block them before the
	 * worker threads start, so that they inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (srv.tls)
		flags |= MHD_USE_TLS;
	if (srv.tls)
		d = MHD_start_daemon(
		        flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, &addr,
		        MHD_OPTION_THREAD_POOL_SIZE, opts->threads, MHD_OPTION_CONNECTION_LIMIT,
		        opts->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s,
		        MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->max_header_bytes,
		        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_HTTPS_MEM_CERT,
		        cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		d = MHD_start_daemon(
		        flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, &addr,
		        MHD_OPTION_THREAD_POOL_SIZE, opts->threads, MHD_OPTION_CONNECTION_LIMIT,
		        opts->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, opts->idle_timeout_s,
		        MHD_OPTION_CONNECTION_MEMORY_LIMIT, opts->max_header_bytes,
		        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_END);
	if (d == NULL) {
		e = tix_error_set(err, TIX_EIO, opts->listen,
		                  "cannot serve here (address in use, or a bad certificate/key)");
		goto out;
	}
	if (opts->on_listening)
		opts->on_listening(opts->arg, srv.base_url);
	tix_log_info("listening on %s", srv.base_url);
	while (sigwait(&sigs, &sig) != 0)
		;
	tix_log_info("signal %d: finishing requests in progress", sig);
	/* Stops accepting, lets the handlers that run finish (their writes
	 * commit before their responses are queued), and joins the threads. */
	MHD_stop_daemon(d);
	e = TIX_OK;
out:
	for (size_t i = 0; i < srv.nstores; i++) {
		store_close(srv.stores[i]);
		taxii_cache_free(srv.caches[i]);
	}
	free(srv.stores);
	free(srv.caches);
	pthread_mutex_destroy(&srv.lock);
	if (key)
		sodium_memzero(key, strlen(key));
	free(cert);
	free(key);
	return e;
}
