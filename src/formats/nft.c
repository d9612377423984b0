/*
 * formats/nft.c — firewall sets: `nft -f` input (an inet table with an
 * ipv4 and an ipv6 interval set, flushed and refilled in one transaction)
 * and `ipset restore` input (hash:net sets filled beside the live ones,
 * then swapped in). Addresses and CIDR ranges only.
 */
#include <stdio.h>
#include <string.h>

#include "formats/feed_int.h"

#define NFT_BATCH 1000

static enum tix_err nft_begin(struct formats_feed *f)
{
	const char *t = f->o.set_name;

	feed_printf(f, 0,
	            "# nftables sets written by tix: load with nft -f; match with e.g.\n"
	            "#   ip daddr @%s_v4 drop / ip6 daddr @%s_v6 drop\n"
	            "table inet %s {\n"
	            "\tset %s_v4 { type ipv4_addr; flags interval; auto-merge; }\n"
	            "\tset %s_v6 { type ipv6_addr; flags interval; auto-merge; }\n"
	            "}\n"
	            "flush set inet %s %s_v4\n"
	            "flush set inet %s %s_v6\n",
	            t, t, t, t, t, t, t, t, t);
	return TIX_OK;
}

static void nft_flush(struct formats_feed *f, int fam)
{
	if (f->nbatch[fam] == 0)
		return;
	feed_printf(f, 0, "add element inet %s %s_v%c { ", f->o.set_name, f->o.set_name,
	            fam ? '6' : '4');
	feed_put(f, 0, tix_buf_str(&f->batch[fam]), tix_buf_len(&f->batch[fam]));
	feed_puts(f, 0, " }\n");
	tix_buf_reset(&f->batch[fam]);
	f->nbatch[fam] = 0;
}

static int nft_value(struct formats_feed *f, const struct feed_indicator *ind,
                     const struct feed_value *v, const char **detail)
{
	int fam = v->kind == FK_IPV6;

	(void)ind;
	if (v->kind != FK_IPV4 && v->kind != FK_IPV6) {
		*detail = "firewall sets hold IP addresses and ranges only";
		return FR_KIND;
	}
	if (feed_repeat(f, v, NULL))
		return FR_DUPLICATE;
	if (f->nbatch[fam])
		tix_buf_adds(&f->batch[fam], ", ");
	if (tix_buf_add(&f->batch[fam], v->text, v->len) != TIX_OK)
		f->failed = 1;
	if (++f->nbatch[fam] == NFT_BATCH)
		nft_flush(f, fam);
	return 0;
}

static enum tix_err nft_end(struct formats_feed *f)
{
	nft_flush(f, 0);
	nft_flush(f, 1);
	return TIX_OK;
}

const struct feed_writer feed_nft_writer = {nft_begin, nft_value, nft_end, NULL};

/* ipset: sets of at most this many elements (the kernel's default is 65536). */
#define IPSET_MAXELEM 16777216

static enum tix_err ipset_begin(struct formats_feed *f)
{
	const char *t = f->o.set_name;

	feed_printf(f, 0,
	            "create %s-v4 hash:net family inet maxelem %d -exist\n"
	            "create %s-v6 hash:net family inet6 maxelem %d -exist\n"
	            "create %s-v4-tmp hash:net family inet maxelem %d -exist\n"
	            "create %s-v6-tmp hash:net family inet6 maxelem %d -exist\n"
	            "flush %s-v4-tmp\n"
	            "flush %s-v6-tmp\n",
	            t, IPSET_MAXELEM, t, IPSET_MAXELEM, t, IPSET_MAXELEM, t, IPSET_MAXELEM, t, t);
	return TIX_OK;
}

static int ipset_value(struct formats_feed *f, const struct feed_indicator *ind,
                       const struct feed_value *v, const char **detail)
{
	(void)ind;
	if (v->kind != FK_IPV4 && v->kind != FK_IPV6) {
		*detail = "ipsets hold IP addresses and ranges only";
		return FR_KIND;
	}
	if (v->plen == 0) {
		*detail = "a hash:net set cannot hold a /0 range";
		return FR_BAD_VALUE;
	}
	feed_printf(f, 0, "add %s-v%c-tmp %s -exist\n", f->o.set_name,
	            v->kind == FK_IPV6 ? '6' : '4', v->text);
	return 0;
}

static enum tix_err ipset_end(struct formats_feed *f)
{
	const char *t = f->o.set_name;

	feed_printf(f, 0,
	            "swap %s-v4-tmp %s-v4\n"
	            "swap %s-v6-tmp %s-v6\n"
	            "destroy %s-v4-tmp\n"
	            "destroy %s-v6-tmp\n",
	            t, t, t, t, t, t);
	return TIX_OK;
}

const struct feed_writer feed_ipset_writer = {ipset_begin, ipset_value, ipset_end, NULL};
