/*
 * tests/unit/route/test_table.c — the routing table: longest-prefix match
 * over nested and disjoint IPv4 and IPv6 ranges against a brute-force scan
 * of random tables, equal claims as ambiguous, the prefix-to-ASN table, and
 * domains bounded by the registrable domain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route/route.h"

static struct route_table *with_owners(int n)
{
	struct route_table *t = route_table_new();
	char name[32];

	for (int i = 0; i < n; i++) {
		struct route_owner o = {i + 1, name, "org", 1};

		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(route_table_add_owner(t, &o), i);
	}
	return t;
}

static void ev_ip(struct route_event *ev, const char *ip)
{
	struct store_route_range r;
	char msg[160];

	memset(ev, 0, sizeof(*ev));
	assert_int_equal(route_range_parse(ip, &r, msg, sizeof(msg)), 0);
	ev->ip = ip;
	ev->family = r.family;
	memcpy(ev->addr, r.lo, 16);
	ev->address = ip;
}

/* Random prefixes of 10.0.0.0/8 of lengths 8..30; every address checked
 * against the most specific prefix holding it, found by scanning all. */
static void longest_prefix_matches_a_brute_force_scan(void **state)
{
	enum { N = 400, OWNERS = 50, PROBES = 20000 };
	struct store_route_range r[N];
	int owner[N];
	struct route_table *t = with_owners(OWNERS);
	unsigned seed = 7;
	char msg[160];

	(void)state;
	for (int i = 0; i < N; i++) {
		unsigned plen = 8 + (unsigned)(rand_r(&seed) % 23);
		uint32_t a = (10u << 24) | ((uint32_t)rand_r(&seed) & 0x00ffffffu);
		char text[40];

		a &= plen ? ~0u << (32 - plen) : 0;
		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
		         a & 255, plen);
		assert_int_equal(route_range_parse(text, &r[i], msg, sizeof(msg)), 0);
		owner[i] = rand_r(&seed) % OWNERS;
		route_table_add_range(t, owner[i], &r[i]);
	}
	assert_int_equal(route_table_finish(t, NULL), TIX_OK);
	for (int k = 0; k < PROBES; k++) {
		uint32_t a = (10u << 24) | ((uint32_t)rand_r(&seed) & 0x00ffffffu);
		char ip[20];
		struct route_event ev;
		struct route_match m;
		int best = -1, ambiguous = 0;

		/* probe near range edges too */
		if (k % 3 == 0) {
			const struct store_route_range *x = &r[rand_r(&seed) % N];

			a = (uint32_t)x->lo[0] << 24 | x->lo[1] << 16 | x->lo[2] << 8 | x->lo[3];
			if (k % 2)
				a = (uint32_t)x->hi[0] << 24 | x->hi[1] << 16 | x->hi[2] << 8 |
				    x->hi[3];
		}
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
		         a & 255);
		for (int i = 0; i < N; i++) {
			uint32_t lo = (uint32_t)r[i].lo[0] << 24 | r[i].lo[1] << 16 |
			              r[i].lo[2] << 8 | r[i].lo[3];
			uint32_t hi = (uint32_t)r[i].hi[0] << 24 | r[i].hi[1] << 16 |
			              r[i].hi[2] << 8 | r[i].hi[3];

			if (a < lo || a > hi)
				continue;
			if (best < 0 || r[i].plen > r[best].plen) {
				best = i;
				ambiguous = 0;
			} else if (r[i].plen == r[best].plen && owner[i] != owner[best]) {
				ambiguous = 1;
			}
		}
		ev_ip(&ev, ip);
		route_match_event(t, &ev, &m);
		if (best < 0) {
			assert_int_equal(m.reason, ROUTE_NO_OWNER);
		} else if (ambiguous) {
			assert_int_equal(m.reason, ROUTE_AMBIGUOUS);
		} else {
			assert_int_equal(m.reason, ROUTE_OK);
			assert_int_equal(m.owner->key, owner[best] + 1);
			assert_int_equal(m.range.plen, r[best].plen);
		}
	}
	route_table_free(t);
}

static void add(struct route_table *t, int owner, const char *cidr)
{
	struct store_route_range r;
	char msg[160];

	assert_int_equal(route_range_parse(cidr, &r, msg, sizeof(msg)), 0);
	route_table_add_range(t, owner, &r);
}

static const char *owner_of(struct route_table *t, const char *ip, enum route_reason *why)
{
	struct route_event ev;
	struct route_match m;

	ev_ip(&ev, ip);
	route_match_event(t, &ev, &m);
	*why = m.reason;
	return m.reason == ROUTE_OK ? m.owner->name : NULL;
}

static void ipv6_asn_and_equal_claims(void **state)
{
	struct route_table *t = with_owners(4);
	struct store_route_range r;
	enum route_reason why;
	char msg[160], what[80];
	struct route_event ev;
	struct route_match m;

	(void)state;
	add(t, 0, "2001:db8::/32");
	add(t, 1, "2001:db8:1::/48");
	add(t, 2, "2001:db8:2::/48");
	add(t, 3, "2001:db8:2::/48"); /* the same prefix twice */
	add(t, 0, "0.0.0.0/0");
	route_range_parse("2001:db9::/32", &r, msg, sizeof(msg));
	route_table_add_pfx2asn(t, &r, 64500);
	route_table_add_asn(t, 3, 64500);
	assert_int_equal(route_table_finish(t, NULL), TIX_OK);
	assert_string_equal(owner_of(t, "2001:db8:1:ffff::1", &why), "c1");
	assert_string_equal(owner_of(t, "2001:db8:3::1", &why), "c0");
	assert_null(owner_of(t, "2001:db8:2::1", &why));
	assert_int_equal(why, ROUTE_AMBIGUOUS);
	assert_string_equal(owner_of(t, "2001:db9:5::1", &why), "c3"); /* by ASN */
	assert_null(owner_of(t, "2001:dba::1", &why));
	assert_int_equal(why, ROUTE_NO_OWNER);
	assert_string_equal(owner_of(t, "203.0.113.9", &why), "c0"); /* the default route */
	ev_ip(&ev, "2001:db8:1::9");
	route_match_event(t, &ev, &m);
	assert_string_equal(route_match_what(&m, what), "2001:db8:1::/48");
	route_table_free(t);
}

static void domains_stop_at_the_registrable_domain(void **state)
{
	struct route_table *t = with_owners(3);
	struct route_event ev;
	struct route_match m;
	char d[254];

	(void)state;
	route_table_add_domain(t, 0, "example.co.uk");
	route_table_add_domain(t, 1, "shop.example.co.uk");
	route_table_add_domain(t, 2, "co.uk");
	assert_int_equal(route_table_finish(t, NULL), TIX_OK);
	memset(&ev, 0, sizeof(ev));
	ev.fqdn = "a.b.shop.example.co.uk";
	route_match_event(t, &ev, &m);
	assert_int_equal(m.reason, ROUTE_OK);
	assert_string_equal(m.owner->name, "c1");
	ev.fqdn = "www.example.co.uk";
	route_match_event(t, &ev, &m);
	assert_string_equal(m.owner->name, "c0");
	ev.fqdn = "www.other.co.uk"; /* co.uk is a public suffix: nobody owns its registrants */
	route_match_event(t, &ev, &m);
	assert_int_equal(m.reason, ROUTE_NO_OWNER);
	assert_int_equal(route_domain_norm("WWW.München.DE.", strlen("WWW.München.DE."), d), 21);
	d[21] = 0;
	assert_string_equal(d, "www.xn--mnchen-3ya.de");
	assert_int_equal(route_domain_norm("a..b", 4, d), -1);
	route_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(longest_prefix_matches_a_brute_force_scan),
	        cmocka_unit_test(ipv6_asn_and_equal_claims),
	        cmocka_unit_test(domains_stop_at_the_registrable_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
