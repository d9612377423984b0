/*
 * bench/match/gen.c — the deterministic input of the match benchmark:
 * N indicators (40% IPv4, 35% domains, 20% SHA-256, 5% URLs) as a STIX
 * bundle and as a grep pattern file, and a log of proxy, DNS and JSON lines
 * where about 0.1% of lines carry an indicator (some only as a subdomain)
 * and as many carry a near miss. Prints the planted truth.
 *
 * usage: tix-bench-match-gen DIR N LOG_MB
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x1234567887654321ULL;

static uint64_t next(void) /* splitmix64 */
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(next() % n);
}

static void label(char *out, int n)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (int i = 0; i < n; i++)
		out[i] = a[i == 0 ? below(26) : below(36)];
	out[n] = '\0';
}

static const char *const tlds[] = {"com", "net", "org", "info", "biz", "ru", "cn", "de", "io"};

enum { K_IP, K_DOMAIN, K_HASH, K_URL };

struct ind {
	int kind;
	char v[96];
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t *ips;
static size_t nips;

static int is_ind_ip(uint32_t a)
{
	return bsearch(&a, ips, nips, sizeof(*ips), cmp_u32) != NULL;
}

static uint32_t ind_ip(void)
{
	for (;;) {
		uint32_t a = (uint32_t)next();
		unsigned o = a >> 24;

		/* public unicast, and never 100.64/10, where the background is */
		if (o == 0 || o == 10 || o == 127 || o >= 224 || o == 100)
			continue;
		return a;
	}
}

/* Reads up to four dot-separated decimal numbers of s into o (each stops at
 * 100000); returns how many it read, as sscanf's "%u.%u.%u.%u" would. */
static int parse_ip4(const char *s, unsigned o[4])
{
	int n = 0;

	while (n < 4 && *s >= '0' && *s <= '9') {
		unsigned v = 0;

		while (*s >= '0' && *s <= '9' && v < 100000)
			v = v * 10 + (unsigned)(*s++ - '0');
		o[n++] = v;
		if (*s != '.')
			break;
		s++;
	}
	return n;
}

static void ipstr(uint32_t a, char *out)
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void bg_host(char *out) /* 12-character labels: never an indicator's */
{
	char l[16];

	label(l, 12);
	snprintf(out, 128, "%s%s.%s", below(2) ? "www." : "", l, tlds[below(9)]);
}

static void bg_ip(char *out) /* 100.64.0.0/10 */
{
	ipstr(0x64400000u | (uint32_t)below(1u << 22), out);
}

static void line_proxy(FILE *f, uint64_t t, const char *host, const char *url, const char *ip,
                       const char *extra)
{
	char src[20], path[40];

	snprintf(src, sizeof(src), "10.%u.%u.%u", below(256), below(256), below(254) + 1);
	label(path, 10);
	if (url)
		fprintf(f,
		        "%" PRIu64
		        ".%03u %u %s TCP_MISS/200 %u GET %s - HIER_DIRECT/%s text/html%s%s\n",
		        t, below(1000), below(5000), src, below(100000), url, ip, extra ? " " : "",
		        extra ? extra : "");
	else
		fprintf(f,
		        "%" PRIu64
		        ".%03u %u %s TCP_MISS/200 %u GET http://%s/%s/index.html?id=%u - "
		        "HIER_DIRECT/%s text/html%s%s\n",
		        t, below(1000), below(5000), src, below(100000), host, path, below(100000),
		        ip, extra ? " " : "", extra ? extra : "");
}

static void line_dns(FILE *f, uint64_t t, const char *host)
{
	fprintf(f,
	        "27-Nov-2026 %02u:%02u:%02u.%03u queries: info: client @0x7f%08x 10.%u.%u.%u#%u "
	        "(%s): query: %s IN A +E(0) (10.0.0.53)\n",
	        (unsigned)(t / 3600 % 24), (unsigned)(t / 60 % 60), (unsigned)(t % 60), below(1000),
	        below(0x7fffffff), below(256), below(256), below(254) + 1, 1024 + below(60000),
	        host, host);
}

static void line_json(FILE *f, uint64_t t, const char *host, const char *ip, const char *sha)
{
	fprintf(f,
	        "{\"timestamp\":\"2026-11-27T%02u:%02u:%02u.%06u+0000\",\"flow_id\":%" PRIu64
	        ",\"event_type\":\"%s\",\"src_ip\":\"10.%u.%u.%u\",\"src_port\":%u,\"dest_ip\":\"%s\","
	        "\"dest_port\":%u,\"proto\":\"TCP\",\"http\":{\"hostname\":\"%s\",\"url\":\"/\","
	        "\"http_user_agent\":\"Mozilla/5.0\",\"status\":200,\"length\":%u}",
	        (unsigned)(t / 3600 % 24), (unsigned)(t / 60 % 60), (unsigned)(t % 60),
	        below(1000000), next() >> 12, sha ? "fileinfo" : "http", below(256), below(256),
	        below(254) + 1, 1024 + below(60000), ip, below(2) ? 80 : 443, host, below(100000));
	if (sha)
		fprintf(f, ",\"fileinfo\":{\"filename\":\"/x.exe\",\"sha256\":\"%s\",\"size\":%u}",
		        sha, below(1000000));
	fputs("}\n", f);
}

int main(int argc, char **argv)
{
	char path[4096], host[128], ip[32], url[256], tmp[256];
	size_t n, planted = 0, sub = 0, near = 0, lines = 0;
	uint64_t want, t = 1790000000;
	struct ind *ind;
	FILE *fb, *fp, *fl;
	long pos;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DIR N LOG_MB\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	want = strtoull(argv[3], NULL, 10) << 20;
	ind = calloc(n, sizeof(*ind));
	ips = calloc(n, sizeof(*ips));
	if (ind == NULL || ips == NULL)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned r = (unsigned)(i % 20); /* 8 IPv4, 7 domains, 4 hashes, 1 URL of 20 */
		char l1[16], l2[16];

		label(l1, 9);
		if (r < 8) {
			ind[i].kind = K_IP;
			ips[nips++] = ind_ip();
			ipstr(ips[nips - 1], ind[i].v);
		} else if (r < 15) {
			ind[i].kind = K_DOMAIN;
			snprintf(ind[i].v, sizeof(ind[i].v), "%s.%s", l1, tlds[below(9)]);
		} else if (r < 19) {
			ind[i].kind = K_HASH;
			for (int k = 0; k < 64; k++)
				ind[i].v[k] = "0123456789abcdef"[below(16)];
		} else {
			ind[i].kind = K_URL;
			label(l2, 8);
			snprintf(ind[i].v, sizeof(ind[i].v), "http://%s.%s/%s/payload.php", l1,
			         tlds[below(9)], l2);
		}
	}
	qsort(ips, nips, sizeof(*ips), cmp_u32);

	snprintf(path, sizeof(path), "%s/indicators.json", argv[1]);
	fb = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/patterns.txt", argv[1]);
	fp = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/log.txt", argv[1]);
	fl = fopen(path, "w");
	if (fb == NULL || fp == NULL || fl == NULL) {
		perror(argv[1]);
		return 1;
	}
	fputs("{\"type\":\"bundle\",\"id\":\"bundle--5b1c2f0e-6b3c-4a7e-9f1d-000000000000\","
	      "\"objects\":[\n",
	      fb);
	for (size_t i = 0; i < n; i++) {
		static const char *const pat[] = {"ipv4-addr:value", "domain-name:value",
		                                  "file:hashes.'SHA-256'", "url:value"};

		fprintf(fb,
		        "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-"
		        "0000-4000-8000-%012zx\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
		        "\"2026-01-01T00:00:00Z\",\"pattern\":\"[%s = '%s']\",\"pattern_type\":\"stix\","
		        "\"valid_from\":\"2026-01-01T00:00:00Z\"}",
		        i ? ",\n" : "", (unsigned)i, i, pat[ind[i].kind], ind[i].v);
		fprintf(fp, "%s\n", ind[i].v);
	}
	fputs("\n]}\n", fb);

	while ((pos = ftell(fl)) >= 0 && (uint64_t)pos < want) {
		unsigned roll = below(100000), shape = below(3);
		const char *extra = NULL;

		t += below(3);
		lines++;
		bg_host(host);
		bg_ip(ip);
		if (roll < 100) { /* an indicator */
			struct ind *d = &ind[below((unsigned)n)];

			if (d->kind == K_DOMAIN && below(5) == 0) { /* only as a subdomain */
				snprintf(host, sizeof(host), "cdn.%s", d->v);
				sub++;
				shape = below(2) ? 1 : 0;
				if (shape == 0)
					line_proxy(fl, t, host, NULL, ip, NULL);
				else
					line_dns(fl, t, host);
				continue;
			}
			planted++;
			switch (d->kind) {
			case K_IP:
				snprintf(ip, sizeof(ip), "%s", d->v);
				shape = shape == 1 ? 0 : shape;
				break;
			case K_DOMAIN: snprintf(host, sizeof(host), "%s", d->v); break;
			case K_HASH: line_json(fl, t, host, ip, d->v); continue;
			case K_URL: line_proxy(fl, t, host, d->v, ip, NULL); continue;
			}
		} else if (roll < 200) { /* a near miss */
			struct ind *d = &ind[below((unsigned)n)];

			near++;
			switch (d->kind) {
			case K_IP: {
				uint32_t a;
				unsigned o[4] = {0, 0, 0, 0};

				parse_ip4(d->v, o);
				if (o[0] < 100 && o[3] < 10) /* 72.191.13.1 -> 172.191.13.123 */
					snprintf(tmp, sizeof(tmp), "1%u.%u.%u.%u23", o[0], o[1],
					         o[2], o[3]);
				else
					snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", o[0], o[1], o[2],
					         (o[3] + 1) % 256);
				a = 0;
				if (parse_ip4(tmp, o) == 4 && o[0] < 256 && o[3] < 256)
					a = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
				if (a && is_ind_ip(a)) {
					near--; /* by chance another indicator: plain background */
					break;
				}
				snprintf(ip, sizeof(ip), "%s", tmp);
				shape = shape == 1 ? 0 : shape;
				break;
			}
			case K_DOMAIN: snprintf(host, sizeof(host), "x%s", d->v); break;
			case K_HASH:
				snprintf(tmp, sizeof(tmp), "%sa", d->v);
				line_json(fl, t, host, ip, tmp);
				continue;
			case K_URL:
				snprintf(url, sizeof(url), "%sx", d->v);
				line_proxy(fl, t, host, url, ip, NULL);
				continue;
			}
		}
		if (shape == 0)
			line_proxy(fl, t, host, NULL, ip, extra);
		else if (shape == 1)
			line_dns(fl, t, host);
		else
			line_json(fl, t, host, ip, NULL);
	}
	fclose(fb);
	fclose(fp);
	fclose(fl);
	printf("indicators %zu\nlines %zu\nplanted %zu\nsubdomain_only %zu\nnear_misses %zu\n", n,
	       lines, planted, sub, near);
	return 0;
}
