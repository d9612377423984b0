/*
 * formats/rpz.c — a DNS Response Policy Zone (RPZ) zone file: SOA and NS,
 * then one QNAME trigger per listed name ("*.name" for the names below it)
 * and rpz-ip triggers for addresses, each with the configured action.
 */
#include <stdio.h>
#include <string.h>

#include "formats/feed_int.h"

static const char *action_of(const char *policy, char *buf, size_t size)
{
	if (strcmp(policy, "nodata") == 0)
		return "*.";
	if (strcmp(policy, "passthru") == 0)
		return "rpz-passthru.";
	if (strcmp(policy, "drop") == 0)
		return "rpz-drop.";
	if (strcmp(policy, "tcp-only") == 0)
		return "rpz-tcp-only.";
	if (strncmp(policy, "cname:", 6) == 0) {
		size_t n = strlen(policy + 6);

		snprintf(buf, size, "%s%s", policy + 6, n && policy[5 + n] == '.' ? "" : ".");
		return buf;
	}
	return "."; /* nxdomain */
}

static size_t zone_len(const struct formats_feed *f)
{
	size_t n = strlen(f->o.zone);

	return n && f->o.zone[n - 1] == '.' ? n - 1 : n;
}

static enum tix_err rpz_begin(struct formats_feed *f)
{
	size_t zl = zone_len(f);

	feed_printf(f, 0,
	            "; DNS Response Policy Zone written by tix (policy %s)\n"
	            "$TTL 300\n"
	            "$ORIGIN %.*s.\n"
	            "@\tSOA\tlocalhost. hostmaster.localhost. %u 3600 600 604800 300\n"
	            "@\tNS\tlocalhost.\n",
	            f->o.policy, (int)zl, f->o.zone, (unsigned)f->o.serial);
	return TIX_OK;
}

static int rpz_value(struct formats_feed *f, const struct feed_indicator *ind,
                     const struct feed_value *v, const char **detail)
{
	char owner[600], act[300];
	const char *action = action_of(f->o.policy, act, sizeof(act));

	(void)ind;
	if (v->kind == FK_DOMAIN || v->kind == FK_SUBDOMAINS) {
		snprintf(owner, sizeof(owner), "%s%s", v->kind == FK_SUBDOMAINS ? "*." : "",
		         v->text);
	} else if (v->kind == FK_IPV4) {
		snprintf(owner, sizeof(owner), "%u.%u.%u.%u.%u.rpz-ip", v->plen, v->addr[3],
		         v->addr[2], v->addr[1], v->addr[0]);
	} else if (v->kind == FK_IPV6) {
		size_t o = (size_t)snprintf(owner, sizeof(owner), "%u", v->plen);

		for (int g = 7; g >= 0; g--)
			o += (size_t)snprintf(owner + o, sizeof(owner) - o, ".%x",
			                      (unsigned)v->addr[2 * g] << 8 | v->addr[2 * g + 1]);
		snprintf(owner + o, sizeof(owner) - o, ".rpz-ip");
	} else {
		*detail = "an RPZ holds names and addresses only";
		return FR_KIND;
	}
	if (strlen(owner) + 1 + zone_len(f) > 253) {
		*detail = "the name with the zone's origin is longer than 253 bytes";
		return FR_BAD_VALUE;
	}
	{
		struct feed_value key = *v;

		key.text = owner;
		if (feed_repeat(f, &key, "rpz"))
			return FR_DUPLICATE;
	}
	feed_printf(f, 0, "%s\tCNAME\t%s\n", owner, action);
	return 0;
}

const struct feed_writer feed_rpz_writer = {rpz_begin, rpz_value, NULL, NULL};
