/*
 * sync/client.c — the libcurl side of federation: one connection per peer
 * run, TAXII headers, credentials, TLS verification, time-outs, rate
 * limits, bounded answers, and retries with exponential back-off.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sync/sync_int.h"

#define TAXII_ACCEPT "Accept: application/taxii+json;version=2.1"

int sync__sleep(const struct sync_config *cfg, double seconds)
{
	while (seconds > 0) {
		double step = seconds > 0.1 ? 0.1 : seconds;
		struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};

		if (cfg->stop && *cfg->stop)
			return -1;
		nanosleep(&ts, NULL);
		seconds -= step;
	}
	return cfg->stop && *cfg->stop ? -1 : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sync_http *h = arg;

	if (tix_buf_add(&h->body, data, size * n) != TIX_OK) {
		h->too_big = 1;
		return 0; /* curl stops the transfer: CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Lets a stop request (SIGTERM of `tix serve --sync`) end a transfer in
 * progress instead of waiting for it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	const struct sync_http *h = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return h->cfg->stop && *h->cfg->stop ? 1 : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sync_http *h = arg;
	size_t len = size * n;
	static const char name[] = "x-taxii-date-added-last:";

	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t vl = len - (sizeof(name) - 1);

		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		if (vl < sizeof(h->date_added_last)) {
			memcpy(h->date_added_last, v, vl);
			h->date_added_last[vl] = '\0';
		}
	}
	return len;
}

enum tix_err sync__http_open(struct sync_http *h, const struct store_peer *p,
                             const struct sync_config *cfg, struct tix_error *err)
{
	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	tix_buf_init(&h->body, cfg->max_page_bytes);
	if ((h->curl = curl_easy_init()) == NULL)
		return tix_error_set(err, TIX_ENOMEM, p->name, "libcurl could not start");
	if (strcmp(p->kind, "misp-feed") == 0) {
		/* A MISP feed: plain JSON, and the key as MISP sends it. */
		char auth[600];

		h->hdrs_get = curl_slist_append(NULL, "Accept: application/json");
		if (p->secret[0] && h->hdrs_get) {
			snprintf(auth, sizeof(auth), "Authorization: %s", p->secret);
			h->hdrs_get = curl_slist_append(h->hdrs_get, auth);
			explicit_bzero(auth, sizeof(auth));
		}
	} else {
		h->hdrs_get = curl_slist_append(NULL, TAXII_ACCEPT);
	}
	h->hdrs_post = curl_slist_append(NULL, TAXII_ACCEPT);
	h->hdrs_post =
	        curl_slist_append(h->hdrs_post, "Content-Type: application/taxii+json;version=2.1");
	if (h->hdrs_get == NULL || h->hdrs_post == NULL) {
		sync__http_close(h);
		return tix_error_set(err, TIX_ENOMEM, p->name, "out of memory");
	}
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time);
	/* Every encoding this libcurl decodes (gzip, deflate...): a peer that
	 * compresses saves thin links most of the bytes of a page. */
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_page_bytes);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (p->ca_file[0])
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, p->ca_file);
	if (p->limit_rate > 0) {
		curl_easy_setopt(h->curl, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)p->limit_rate);
		curl_easy_setopt(h->curl, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)p->limit_rate);
	}
	if (strcmp(p->kind, "misp-feed") == 0) {
		/* the key travels in the Authorization header set above */
	} else if (p->user[0]) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, p->user);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD, p->secret);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(h->curl, CURLOPT_XOAUTH2_BEARER, p->secret);
	}
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "tix/" TIX_VERSION);
	return TIX_OK;
}

void sync__http_close(struct sync_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl); /* curl keeps its own copies of the credentials */
	curl_slist_free_all(h->hdrs_get);
	curl_slist_free_all(h->hdrs_post);
	tix_buf_release(&h->body);
	h->curl = NULL;
	h->hdrs_get = h->hdrs_post = NULL;
}

static int transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING: /* a cut inside a compressed body */
	case CURLE_WEIRD_SERVER_REPLY: return 1;
	default: return 0;
	}
}

static int transient_status(long st)
{
	return st == 408 || st == 429 || st >= 500;
}

enum tix_err sync__http_do(struct sync_http *h, const char *url, const char *body, size_t len,
                           struct tix_error *err)
{
	const struct sync_config *cfg = h->cfg;

	for (int attempt = 0;; attempt++) {
		curl_off_t down = 0, up = 0;
		long hdr = 0, req = 0;
		CURLcode c;
		uint32_t rnd = 0;

		if (attempt > 0) {
			tix_random(&rnd, sizeof(rnd));
			if (sync__sleep(cfg, sync_backoff_delay(cfg->backoff_base, cfg->backoff_max,
			                                        attempt, rnd)) != 0)
				return tix_error_set(err, TIX_EINVAL, url, "stopped");
		}
		tix_buf_reset(&h->body);
		h->too_big = 0;
		h->status = 0;
		h->date_added_last[0] = '\0';
		h->errbuf[0] = '\0';
		curl_easy_setopt(h->curl, CURLOPT_URL, url);
		if (body) {
			curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
			curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs_post);
		} else {
			curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs_get);
		}
		c = curl_easy_perform(h->curl);
		curl_easy_getinfo(h->curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
		curl_easy_getinfo(h->curl, CURLINFO_SIZE_UPLOAD_T, &up);
		curl_easy_getinfo(h->curl, CURLINFO_HEADER_SIZE, &hdr);
		curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &req);
		h->bytes_in += (int64_t)down + hdr;
		/* curl counts a small POST body (sent with the headers) in both
		 * the request size and the upload size: count it once. */
		h->bytes_out += req >= (long)up ? (int64_t)req : (int64_t)up + req;
		if (h->too_big || c == CURLE_FILESIZE_EXCEEDED)
			return tix_error_set(err, TIX_ETOOBIG, url,
			                     "the answer is larger than %zu bytes: refused",
			                     cfg->max_page_bytes);
		if (c != CURLE_OK) {
			if (transient_curl(c) && attempt + 1 < cfg->attempts) {
				tix_log_info("sync: %s: %s; retrying", url,
				             h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
				continue;
			}
			return tix_error_set(err, TIX_EIO, url, "%s",
			                     h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
		}
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
		if (transient_status(h->status) && attempt + 1 < cfg->attempts) {
			tix_log_info("sync: %s: HTTP %ld; retrying", url, h->status);
			continue;
		}
		if (transient_status(h->status))
			return tix_error_set(err, TIX_EIO, url, "HTTP %ld after %d attempts",
			                     h->status, attempt + 1);
		return TIX_OK;
	}
}
