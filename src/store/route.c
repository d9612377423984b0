/*
 * store/route.c — the tables of constituency routing (docs/route.md):
 * constituents with their contacts, address ranges (numeric intervals),
 * ASNs and domains; the operator's prefix-to-ASN table; the index of routed
 * reports (the STIX objects themselves go through store_put); unrouted rows
 * with their reason; and the record of every digest sent.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_route[] =
        "CREATE TABLE route_constituents ("
        "  ckey INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  org TEXT NOT NULL,"
        "  lang TEXT NOT NULL DEFAULT 'en',"
        "  pgp_key TEXT,"
        "  created INTEGER NOT NULL);"
        "CREATE INDEX route_constituents_org ON route_constituents (org);"
        "CREATE TABLE route_contacts ("
        "  ckey INTEGER NOT NULL REFERENCES route_constituents (ckey) ON DELETE CASCADE,"
        "  email TEXT NOT NULL,"
        "  PRIMARY KEY (ckey, email)) WITHOUT ROWID;"
        /* lo and hi: the first and last address, 4 or 16 big-endian bytes */
        "CREATE TABLE route_ranges ("
        "  ckey INTEGER NOT NULL REFERENCES route_constituents (ckey) ON DELETE CASCADE,"
        "  family INTEGER NOT NULL,"
        "  lo BLOB NOT NULL,"
        "  hi BLOB NOT NULL,"
        "  plen INTEGER NOT NULL,"
        "  PRIMARY KEY (ckey, family, lo, plen)) WITHOUT ROWID;"
        "CREATE INDEX route_ranges_lo ON route_ranges (family, lo);"
        "CREATE TABLE route_asns ("
        "  ckey INTEGER NOT NULL REFERENCES route_constituents (ckey) ON DELETE CASCADE,"
        "  asn INTEGER NOT NULL,"
        "  PRIMARY KEY (ckey, asn)) WITHOUT ROWID;"
        "CREATE TABLE route_domains ("
        "  ckey INTEGER NOT NULL REFERENCES route_constituents (ckey) ON DELETE CASCADE,"
        "  domain TEXT NOT NULL,"
        "  PRIMARY KEY (ckey, domain)) WITHOUT ROWID;"
        "CREATE TABLE route_pfx2asn ("
        "  family INTEGER NOT NULL,"
        "  lo BLOB NOT NULL,"
        "  plen INTEGER NOT NULL,"
        "  asn INTEGER NOT NULL,"
        "  PRIMARY KEY (family, lo, plen)) WITHOUT ROWID;"
        "CREATE TABLE route_digests ("
        "  dkey INTEGER PRIMARY KEY,"
        "  ckey INTEGER REFERENCES route_constituents (ckey) ON DELETE SET NULL,"
        "  constituent TEXT NOT NULL,"
        "  recipients TEXT NOT NULL,"
        "  subject TEXT NOT NULL,"
        "  rows INTEGER NOT NULL,"
        "  reports INTEGER NOT NULL,"
        "  since INTEGER NOT NULL,"
        "  until INTEGER NOT NULL,"
        "  sent INTEGER NOT NULL);"
        "CREATE TABLE route_reports ("
        "  object_id TEXT PRIMARY KEY,"
        "  ckey INTEGER NOT NULL REFERENCES route_constituents (ckey) ON DELETE CASCADE,"
        "  feed TEXT NOT NULL,"
        "  taxonomy TEXT NOT NULL,"
        "  type TEXT NOT NULL,"
        "  address TEXT NOT NULL,"
        "  asn INTEGER,"
        "  time_source INTEGER NOT NULL,"
        "  imported INTEGER NOT NULL,"
        "  digest INTEGER REFERENCES route_digests (dkey));"
        "CREATE INDEX route_reports_ckey ON route_reports (ckey, imported);"
        "CREATE TABLE route_unrouted ("
        "  ukey TEXT PRIMARY KEY,"
        "  feed TEXT NOT NULL,"
        "  source TEXT NOT NULL,"
        "  line INTEGER NOT NULL,"
        "  reason TEXT NOT NULL,"
        "  detail TEXT NOT NULL,"
        "  row TEXT NOT NULL,"
        "  at INTEGER NOT NULL);";

static sqlite3_stmt *prep(struct store *s, const char *sql, struct tix_error *err)
{
	return store__cached(s, sql, err);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static enum tix_err step_done(struct store *s, sqlite3_stmt *st, const char *what,
                              struct tix_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return TIX_OK;
	return store__db_error(s, err, what);
}

static int64_t now_us(void)
{
	struct tix_time t;

	tix_time_now(&t);
	return tix_time_to_us(&t);
}

static int range_bytes(int family)
{
	return family == 6 ? 16 : 4;
}

/* The body of add/replace, inside an open transaction. */
static enum tix_err put_constituent(struct store *s, const struct store_constituent_def *d,
                                    int replace, struct tix_error *err)
{
	sqlite3_stmt *st;
	int64_t ckey;
	enum tix_err e;

	ckey = 0;
	if (replace) {
		/* Replaced in place: the same key, so the index of its reports
		 * (and what digests still owe it) stays. */
		if ((st = prep(s, "SELECT ckey FROM route_constituents WHERE name = ?1", err)) ==
		    NULL)
			return TIX_ESTORE;
		sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			ckey = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (ckey) {
		static const char *const clear[] = {
		        "DELETE FROM route_contacts WHERE ckey = ?1",
		        "DELETE FROM route_ranges WHERE ckey = ?1",
		        "DELETE FROM route_asns WHERE ckey = ?1",
		        "DELETE FROM route_domains WHERE ckey = ?1",
		};

		if ((st = prep(s,
		               "UPDATE route_constituents SET org = ?2, lang = ?3, pgp_key = ?4"
		               " WHERE ckey = ?1",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_text(st, 2, d->org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->lang && *d->lang ? d->lang : "en", -1, SQLITE_STATIC);
		bind_opt_text(st, 4, d->pgp_key);
		if ((e = step_done(s, st, "replacing a constituent", err)) != TIX_OK)
			return e;
		for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
			if ((st = prep(s, clear[i], err)) == NULL)
				return TIX_ESTORE;
			sqlite3_bind_int64(st, 1, ckey);
			if ((e = step_done(s, st, "replacing a constituent", err)) != TIX_OK)
				return e;
		}
	} else {
		if ((st = prep(s,
		               "INSERT INTO route_constituents (name, org, lang, pgp_key, created)"
		               " VALUES (?1, ?2, ?3, ?4, ?5)",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, d->org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->lang && *d->lang ? d->lang : "en", -1, SQLITE_STATIC);
		bind_opt_text(st, 4, d->pgp_key);
		sqlite3_bind_int64(st, 5, now_us());
		if (sqlite3_step(st) != SQLITE_DONE) {
			int unique = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE;

			sqlite3_reset(st);
			if (unique)
				return tix_error_set(
				        err, TIX_EEXIST, d->name,
				        "a constituent of this name exists (remove it "
				        "first, or use tix constituent import to replace it)");
			return store__db_error(s, err, "adding a constituent");
		}
		sqlite3_reset(st);
		ckey = sqlite3_last_insert_rowid(s->db);
	}
	for (size_t i = 0; i < d->ncontacts; i++) {
		if ((st = prep(s,
		               "INSERT INTO route_contacts (ckey, email) VALUES (?1, ?2)"
		               " ON CONFLICT DO NOTHING",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_text(st, 2, d->contacts[i], -1, SQLITE_STATIC);
		if ((e = step_done(s, st, "adding a contact", err)) != TIX_OK)
			return e;
	}
	for (size_t i = 0; i < d->nranges; i++) {
		const struct store_route_range *r = &d->ranges[i];

		if ((st = prep(s,
		               "INSERT INTO route_ranges (ckey, family, lo, hi, plen)"
		               " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_int(st, 2, r->family);
		sqlite3_bind_blob(st, 3, r->lo, range_bytes(r->family), SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, r->hi, range_bytes(r->family), SQLITE_STATIC);
		sqlite3_bind_int(st, 5, (int)r->plen);
		if ((e = step_done(s, st, "adding a range", err)) != TIX_OK)
			return e;
	}
	for (size_t i = 0; i < d->nasns; i++) {
		if ((st = prep(s,
		               "INSERT INTO route_asns (ckey, asn) VALUES (?1, ?2)"
		               " ON CONFLICT DO NOTHING",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_int64(st, 2, d->asns[i]);
		if ((e = step_done(s, st, "adding an ASN", err)) != TIX_OK)
			return e;
	}
	for (size_t i = 0; i < d->ndomains; i++) {
		if ((st = prep(s,
		               "INSERT INTO route_domains (ckey, domain) VALUES (?1, ?2)"
		               " ON CONFLICT DO NOTHING",
		               err)) == NULL)
			return TIX_ESTORE;
		sqlite3_bind_int64(st, 1, ckey);
		sqlite3_bind_text(st, 2, d->domains[i], -1, SQLITE_STATIC);
		if ((e = step_done(s, st, "adding a domain", err)) != TIX_OK)
			return e;
	}
	/* The sharing group of the organisation's reports (docs/route.md):
	 * made with the organisation as its one member. */
	if ((st = prep(s,
	               "INSERT INTO sharing_groups (name, created) VALUES (?1, ?2)"
	               " ON CONFLICT DO NOTHING",
	               err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, d->group, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_us());
	if ((e = step_done(s, st, "adding the organisation's sharing group", err)) != TIX_OK)
		return e;
	if ((st = prep(s,
	               "INSERT INTO sharing_group_members (gkey, org)"
	               " SELECT gkey, ?2 FROM sharing_groups WHERE name = ?1"
	               " ON CONFLICT DO NOTHING",
	               err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, d->group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->org, -1, SQLITE_STATIC);
	return step_done(s, st, "adding the organisation to its sharing group", err);
}

enum tix_err store_constituent_put(struct store *s, const struct store_constituent_def *defs,
                                   size_t n, int replace, struct tix_error *err)
{
	enum tix_err e;

	if ((e = store_begin(s, err)) != TIX_OK)
		return e;
	for (size_t i = 0; i < n; i++)
		if ((e = put_constituent(s, &defs[i], replace, err)) != TIX_OK) {
			store_rollback(s);
			return e;
		}
	return store_commit(s, err);
}

enum tix_err store_constituent_remove(struct store *s, const char *name, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e;

	if ((e = store_begin(s, err)) != TIX_OK)
		return e;
	/* The digests sent stay recorded (their ckey becomes NULL); the
	 * routed reports' index goes with the constituent, the STIX objects
	 * stay in the store. */
	if ((st = prep(s, "DELETE FROM route_constituents WHERE name = ?1", err)) == NULL) {
		store_rollback(s);
		return TIX_ESTORE;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((e = step_done(s, st, "removing a constituent", err)) != TIX_OK) {
		store_rollback(s);
		return e;
	}
	if (sqlite3_changes(s->db) == 0) {
		store_rollback(s);
		return tix_error_set(err, TIX_ENOTFOUND, name, "no such constituent");
	}
	return store_commit(s, err);
}

enum tix_err store_constituent_list(struct store *s, const char *name,
                                    int (*cb)(void *, const struct store_constituent *), void *arg,
                                    struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	int rc, found = 0;

	/* Not cached: the callback runs the per-constituent queries. */
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT c.ckey, c.name, c.org, c.lang, c.pgp_key IS NOT NULL,"
	                       " (SELECT count(*) FROM route_contacts t WHERE t.ckey = c.ckey)"
	                       " FROM route_constituents c WHERE ?1 IS NULL OR c.name = ?1"
	                       " ORDER BY c.name",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "listing constituents");
	bind_opt_text(st, 1, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_constituent c = {0};

		c.key = sqlite3_column_int64(st, 0);
		c.name = (const char *)sqlite3_column_text(st, 1);
		c.org = (const char *)sqlite3_column_text(st, 2);
		c.lang = (const char *)sqlite3_column_text(st, 3);
		c.has_pgp_key = sqlite3_column_int(st, 4);
		c.contacts = (size_t)sqlite3_column_int64(st, 5);
		found = 1;
		if (cb(arg, &c))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing constituents");
	sqlite3_finalize(st);
	if (e == TIX_OK && name && !found)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such constituent");
	return e;
}

enum tix_err store_constituent_parts(struct store *s, int64_t ckey,
                                     const struct store_constituent_parts_cb *cb,
                                     struct tix_error *err)
{
	static const char *const sql[] = {
	        "SELECT ckey, email FROM route_contacts WHERE ?1 = 0 OR ckey = ?1 ORDER BY ckey, "
	        "email",
	        "SELECT ckey, family, lo, plen FROM route_ranges WHERE ?1 = 0 OR ckey = ?1"
	        " ORDER BY ckey, family, lo, plen",
	        "SELECT ckey, asn FROM route_asns WHERE ?1 = 0 OR ckey = ?1 ORDER BY ckey, asn",
	        "SELECT ckey, domain FROM route_domains WHERE ?1 = 0 OR ckey = ?1 ORDER BY ckey, "
	        "domain",
	};

	for (int k = 0; k < 4; k++) {
		sqlite3_stmt *st = NULL;
		int rc;

		if ((k == 0 && !cb->contact) || (k == 1 && !cb->range) || (k == 2 && !cb->asn) ||
		    (k == 3 && !cb->domain))
			continue;
		if (sqlite3_prepare_v2(s->db, sql[k], -1, &st, NULL) != SQLITE_OK)
			return store__db_error(s, err, "reading constituents");
		sqlite3_bind_int64(st, 1, ckey);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t key = sqlite3_column_int64(st, 0);

			if (k == 0)
				cb->contact(cb->arg, key, (const char *)sqlite3_column_text(st, 1));
			else if (k == 2)
				cb->asn(cb->arg, key, sqlite3_column_int64(st, 1));
			else if (k == 3)
				cb->domain(cb->arg, key, (const char *)sqlite3_column_text(st, 1));
			else {
				struct store_route_range r = {0};
				const void *lo = sqlite3_column_blob(st, 2);
				int n = sqlite3_column_bytes(st, 2);

				r.family = sqlite3_column_int(st, 1);
				r.plen = (unsigned)sqlite3_column_int(st, 3);
				if (lo && n == range_bytes(r.family)) {
					memcpy(r.lo, lo, (size_t)n);
					cb->range(cb->arg, key, &r);
				}
			}
		}
		if (rc != SQLITE_DONE) {
			enum tix_err e = store__db_error(s, err, "reading constituents");

			sqlite3_finalize(st);
			return e;
		}
		sqlite3_finalize(st);
	}
	return TIX_OK;
}

/* ---- the prefix-to-ASN table ------------------------------------------- */

enum tix_err store_route_asn_load(struct store *s, const struct store_route_range *prefixes,
                                  const int64_t *asns, size_t n, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e;

	if ((e = store_begin(s, err)) != TIX_OK)
		return e;
	if ((e = store__exec(s, "DELETE FROM route_pfx2asn", err)) != TIX_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((st = prep(
		             s,
		             "INSERT INTO route_pfx2asn (family, lo, plen, asn) VALUES (?1, ?2, ?3, ?4)"
		             " ON CONFLICT DO UPDATE SET asn = excluded.asn",
		             err)) == NULL) {
			e = TIX_ESTORE;
			goto fail;
		}
		sqlite3_bind_int(st, 1, prefixes[i].family);
		sqlite3_bind_blob(st, 2, prefixes[i].lo, range_bytes(prefixes[i].family),
		                  SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)prefixes[i].plen);
		sqlite3_bind_int64(st, 4, asns[i]);
		if ((e = step_done(s, st, "loading the ASN table", err)) != TIX_OK)
			goto fail;
	}
	return store_commit(s, err);
fail:
	store_rollback(s);
	return e;
}

enum tix_err store_route_asn_each(struct store *s,
                                  void (*cb)(void *, const struct store_route_range *, int64_t),
                                  void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT family, lo, plen, asn FROM route_pfx2asn", -1, &st,
	                       NULL) != SQLITE_OK)
		return store__db_error(s, err, "reading the ASN table");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_route_range r = {0};
		const void *lo = sqlite3_column_blob(st, 1);
		int n = sqlite3_column_bytes(st, 1);

		r.family = sqlite3_column_int(st, 0);
		r.plen = (unsigned)sqlite3_column_int(st, 2);
		if (lo && n == range_bytes(r.family)) {
			memcpy(r.lo, lo, (size_t)n);
			cb(arg, &r, sqlite3_column_int64(st, 3));
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? TIX_OK : store__db_error(s, err, "reading the ASN table");
}

/* ---- reports and unrouted rows ------------------------------------------ */

enum tix_err store_route_report_add(struct store *s, const struct store_route_report *r, int *added,
                                    struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e;

	*added = 0;
	if ((st = prep(s,
	               "INSERT INTO route_reports (object_id, ckey, feed, taxonomy, type, address,"
	               " asn, time_source, imported) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	               " ON CONFLICT (object_id) DO NOTHING",
	               err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, r->object_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->ckey);
	sqlite3_bind_text(st, 3, r->feed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->taxonomy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->address, -1, SQLITE_STATIC);
	if (r->asn > 0)
		sqlite3_bind_int64(st, 7, r->asn);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, r->time_source);
	sqlite3_bind_int64(st, 9, r->imported);
	if ((e = step_done(s, st, "indexing a report", err)) != TIX_OK)
		return e;
	*added = sqlite3_changes(s->db) > 0;
	/* A row that was unrouted before and routes now is no longer waiting. */
	if ((st = prep(s, "DELETE FROM route_unrouted WHERE ukey = ?1", err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, r->object_id, -1, SQLITE_STATIC);
	return step_done(s, st, "indexing a report", err);
}

enum tix_err store_route_unrouted_add(struct store *s, const struct store_route_unrouted *u,
                                      struct tix_error *err)
{
	sqlite3_stmt *st;

	if ((st = prep(s,
	               "INSERT INTO route_unrouted (ukey, feed, source, line, reason, detail, row,"
	               " at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (ukey) DO UPDATE"
	               " SET reason = excluded.reason, detail = excluded.detail,"
	               " source = excluded.source, line = excluded.line, at = excluded.at",
	               err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, u->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->feed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, u->line);
	sqlite3_bind_text(st, 5, u->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, u->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, u->row, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, u->at);
	return step_done(s, st, "keeping an unrouted row", err);
}

enum tix_err store_route_unrouted_list(struct store *s, const char *reason,
                                       int (*cb)(void *, const struct store_route_unrouted *),
                                       void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT ukey, feed, source, line, reason, detail, row, at"
	                       " FROM route_unrouted WHERE ?1 IS NULL OR reason = ?1"
	                       " ORDER BY at, source, line",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "listing unrouted rows");
	bind_opt_text(st, 1, reason);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_route_unrouted u;

		u.key = (const char *)sqlite3_column_text(st, 0);
		u.feed = (const char *)sqlite3_column_text(st, 1);
		u.source = (const char *)sqlite3_column_text(st, 2);
		u.line = sqlite3_column_int64(st, 3);
		u.reason = (const char *)sqlite3_column_text(st, 4);
		u.detail = (const char *)sqlite3_column_text(st, 5);
		u.row = (const char *)sqlite3_column_text(st, 6);
		u.at = sqlite3_column_int64(st, 7);
		if (cb(arg, &u))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		enum tix_err e = store__db_error(s, err, "listing unrouted rows");

		sqlite3_finalize(st);
		return e;
	}
	sqlite3_finalize(st);
	return TIX_OK;
}

/* ---- digests ------------------------------------------------------------ */

#define DIGEST_WHERE                                                                               \
	" WHERE ckey = ?1 AND imported >= ?2 AND imported <= ?3 AND (?4 = 0 OR digest IS NULL)"

enum tix_err store_route_digest_rows(struct store *s, int64_t ckey, int64_t since, int64_t until,
                                     int unsent_only,
                                     int (*cb)(void *, const struct store_route_agg *), void *arg,
                                     struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(
	            s->db,
	            "SELECT strftime('%Y-%m-%d', time_source / 1000000, 'unixepoch') AS day,"
	            " address, taxonomy, type, count(*), min(time_source),"
	            " max(time_source), max(asn), group_concat(DISTINCT feed) FROM route_reports" DIGEST_WHERE
	            " GROUP BY day, address, taxonomy, type ORDER BY day, address, type",
	            -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "reading a digest");
	sqlite3_bind_int64(st, 1, ckey);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	sqlite3_bind_int(st, 4, unsent_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_route_agg a;

		a.day = (const char *)sqlite3_column_text(st, 0);
		a.address = (const char *)sqlite3_column_text(st, 1);
		a.taxonomy = (const char *)sqlite3_column_text(st, 2);
		a.type = (const char *)sqlite3_column_text(st, 3);
		a.count = sqlite3_column_int64(st, 4);
		a.first = sqlite3_column_int64(st, 5);
		a.last = sqlite3_column_int64(st, 6);
		a.asn = sqlite3_column_int64(st, 7);
		a.feeds = (const char *)sqlite3_column_text(st, 8);
		if (cb(arg, &a))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		enum tix_err e = store__db_error(s, err, "reading a digest");

		sqlite3_finalize(st);
		return e;
	}
	sqlite3_finalize(st);
	return TIX_OK;
}

enum tix_err store_route_digest_record(struct store *s, const struct store_route_digest *d,
                                       int64_t *marked, struct tix_error *err)
{
	sqlite3_stmt *st;
	int64_t dkey;
	enum tix_err e;

	if (!s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "a digest is recorded in a transaction");
	if ((st = prep(s,
	               "INSERT INTO route_digests (ckey, constituent, recipients, subject, rows,"
	               " reports, since, until, sent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	               err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_int64(st, 1, d->ckey);
	sqlite3_bind_text(st, 2, d->constituent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->recipients, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, d->rows);
	sqlite3_bind_int64(st, 6, d->reports);
	sqlite3_bind_int64(st, 7, d->since);
	sqlite3_bind_int64(st, 8, d->until);
	sqlite3_bind_int64(st, 9, d->sent);
	if ((e = step_done(s, st, "recording a digest", err)) != TIX_OK)
		return e;
	dkey = sqlite3_last_insert_rowid(s->db);
	if ((st = prep(s, "UPDATE route_reports SET digest = ?5" DIGEST_WHERE, err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_int64(st, 1, d->ckey);
	sqlite3_bind_int64(st, 2, d->since);
	sqlite3_bind_int64(st, 3, d->until);
	sqlite3_bind_int(st, 4, 1);
	sqlite3_bind_int64(st, 5, dkey);
	if ((e = step_done(s, st, "recording a digest", err)) != TIX_OK)
		return e;
	*marked = sqlite3_changes(s->db);
	return TIX_OK;
}

enum tix_err store_route_digest_list(struct store *s,
                                     int (*cb)(void *, const struct store_route_digest *),
                                     void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT coalesce(ckey, 0), constituent, recipients, subject, rows,"
	                       " reports, since, until, sent FROM route_digests ORDER BY dkey",
	                       -1, &st, NULL) != SQLITE_OK)
		return store__db_error(s, err, "listing digests");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_route_digest d;

		d.ckey = sqlite3_column_int64(st, 0);
		d.constituent = (const char *)sqlite3_column_text(st, 1);
		d.recipients = (const char *)sqlite3_column_text(st, 2);
		d.subject = (const char *)sqlite3_column_text(st, 3);
		d.rows = sqlite3_column_int64(st, 4);
		d.reports = sqlite3_column_int64(st, 5);
		d.since = sqlite3_column_int64(st, 6);
		d.until = sqlite3_column_int64(st, 7);
		d.sent = sqlite3_column_int64(st, 8);
		if (cb(arg, &d))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		enum tix_err e = store__db_error(s, err, "listing digests");

		sqlite3_finalize(st);
		return e;
	}
	sqlite3_finalize(st);
	return TIX_OK;
}
