/*
 * sync_int.h — what the files of src/sync/ share: the HTTP client that
 * sync.c drives (client.c). Nobody outside src/sync/ includes this.
 */
#ifndef TIX_SYNC_INT_H
#define TIX_SYNC_INT_H

#include <curl/curl.h>

#include "sync/sync.h"

struct sync_http {
	CURL *curl;
	struct curl_slist *hdrs_get, *hdrs_post;
	const struct sync_config *cfg;
	struct tix_buf body;         /* the last answer's body, bounded by max_page_bytes */
	long status;                 /* its HTTP status */
	char date_added_last[64];    /* its X-TAXII-Date-Added-Last, or "" */
	int64_t bytes_in, bytes_out; /* on the wire, headers included, every attempt */
	int too_big;
	char errbuf[CURL_ERROR_SIZE];
};

enum tix_err sync__http_open(struct sync_http *h, const struct store_peer *p,
                             const struct sync_config *cfg, struct tix_error *err);
void sync__http_close(struct sync_http *h);
/* GET url, or POST body when body is not NULL. Transient failures (no
 * connection, a cut, a time-out, 5xx, 408, 429) are retried with back-off
 * up to cfg->attempts times. TIX_OK when an answer arrived (h->status says
 * which); TIX_EIO when every attempt failed; TIX_ETOOBIG when the answer
 * passed max_page_bytes; TIX_EINVAL when stopped. */
enum tix_err sync__http_do(struct sync_http *h, const char *url, const char *body, size_t len,
                           struct tix_error *err);
/* Sleeps seconds, waking early when cfg->stop is set; 0, or -1 when stopped. */
int sync__sleep(const struct sync_config *cfg, double seconds);

#endif
