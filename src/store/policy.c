/*
 * store/policy.c — what the sharing policy needs stored: migration 4 (each
 * version's resolved TLP, flags, sharing group, recipients and origin;
 * sharing groups; the audit table), node settings, and the judgement of
 * marking references that are not TLP ids (held definitions or unknown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The TLP level of a marking id, in SQL (TLP 2.0 and 1.0 ids), NULL for others. */
#define TLP_CASE(x) "(CASE " x STORE_TLP_WHEN " END)"

const char store__schema_policy[] =
        "ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT -1;"
        "ALTER TABLE objects ADD COLUMN tlp_flags INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE objects ADD COLUMN sharing_group TEXT;"
        "ALTER TABLE objects ADD COLUMN recipients TEXT;"
        "ALTER TABLE objects ADD COLUMN origin_node TEXT;"
        "ALTER TABLE orgs ADD COLUMN sector TEXT NOT NULL DEFAULT '';"
        "CREATE TABLE sharing_groups ("
        "  gkey INTEGER PRIMARY KEY,"
        "  name TEXT NOT NULL UNIQUE,"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE sharing_group_members ("
        "  gkey INTEGER NOT NULL REFERENCES sharing_groups (gkey) ON DELETE CASCADE,"
        "  org TEXT NOT NULL," /* a name: possibly an organisation of another node */
        "  PRIMARY KEY (gkey, org)) WITHOUT ROWID;"
        "CREATE INDEX sharing_group_members_org ON sharing_group_members (org);"
        "CREATE TABLE audit ("
        "  seq INTEGER PRIMARY KEY,"
        "  at INTEGER NOT NULL,"
        "  action TEXT NOT NULL,"
        "  actor TEXT NOT NULL,"
        "  org TEXT NOT NULL,"
        "  objects TEXT NOT NULL," /* "\nid\nid\n" */
        "  detail TEXT NOT NULL,"
        "  hash BLOB NOT NULL);"
        /* Versions stored before: resolve their markings as store_put would. */
        "UPDATE objects SET tlp = coalesce((SELECT max(" TLP_CASE(
                "j.value") ") FROM json_each(objects.body, '$.object_marking_refs') j), -1)"
                           " WHERE json_type(body, '$.object_marking_refs') = 'array';"
                           "UPDATE objects SET tlp_flags = tlp_flags | 1 WHERE json_type(body, "
                           "'$.object_marking_refs') = 'array' AND (SELECT count(DISTINCT " TLP_CASE(
                                   "j.value") ") FROM json_each(objects.body, "
                                              "'$.object_marking_refs') j) > 1;"
                                              "UPDATE objects SET tlp_flags = tlp_flags | 2 WHERE "
                                              "json_type(body, '$.object_marking_refs') = 'array' "
                                              "AND EXISTS (SELECT 1 FROM json_each(objects.body, "
                                              "'$.object_marking_refs') j WHERE " TLP_CASE(
                                                      "j.value") " IS NULL AND NOT EXISTS (SELECT "
                                                                 "1 FROM objects d WHERE d.id = "
                                                                 "j.value AND d.type = "
                                                                 "'marking-definition'));"
                                                                 "UPDATE objects SET tlp_flags = tlp_flags | 4"
                                                                 " WHERE json_type(body, '$.granular_markings') IS NOT NULL;"
                                                                 "UPDATE objects SET sharing_group = json_extract(body, '$.tix_sharing_group')"
                                                                 " WHERE json_type(body, '$.tix_sharing_group') = 'text';"
                                                                 "UPDATE objects SET recipients = char(10) || (SELECT group_concat(value, char(10))"
                                                                 " FROM json_each(objects.body, '$.tix_recipients')) || char(10)"
                                                                 " WHERE json_type(body, '$.tix_recipients') = 'array';";

/* ---- markings ------------------------------------------------------------ */

unsigned store_marking_flags(struct store *s, const struct stix_meta *m)
{
	unsigned flags = m->tlp_flags;
	const json_t *v;
	size_t i;

	json_array_foreach (m->marking_refs, i, v) {
		const char *id = json_string_value(v);
		struct db_stmt *st;
		enum db_rc rc;

		if (id == NULL || stix_tlp_of_marking(id) != STIX_TLP_UNSET)
			continue;
		/* A definition the node holds (a statement, say) does not change
		 * the audience; one it has never seen cannot be honoured, so the
		 * object is held back as AMBER+STRICT. */
		st = store__stmt(
		        s,
		        "SELECT 1 FROM objects WHERE id = ?1 AND type = 'marking-definition'"
		        " LIMIT 1",
		        NULL, NULL);
		if (st == NULL) {
			flags |= STIX_TLPF_UNKNOWN;
			continue;
		}
		db_bind_text(st, 1, id, -1);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_ROW)
			flags |= STIX_TLPF_UNKNOWN;
	}
	return flags;
}

/* "\nA\nB\n" from the recipients list; NULL when there are none. Caller frees. */
char *store__recipients_text(const json_t *list)
{
	struct tix_buf b;
	const json_t *v;
	size_t i;

	if (list == NULL || json_array_size(list) == 0)
		return NULL;
	tix_buf_init(&b, 1 << 20);
	tix_buf_addc(&b, '\n');
	json_array_foreach (list, i, v) {
		const char *o = json_string_value(v);

		if (o && *o && !strchr(o, '\n')) {
			tix_buf_adds(&b, o);
			tix_buf_addc(&b, '\n');
		}
	}
	return tix_buf_detach(&b, NULL);
}

/* ---- node settings -------------------------------------------------------- */

enum tix_err store_setting_get(struct store *s, const char *key, char *out, size_t size,
                               struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT value FROM meta WHERE key = 'setting.' || ?1", NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, key, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(out, size, "%s", db_column_text(st, 0, NULL));
	else if (rc == DB_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, key, "not set");
	else
		e = store__fail(s, err, "reading a setting");
	db_reset(st);
	return e;
}

enum tix_err store_setting_set(struct store *s, const char *key, const char *value,
                               struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;

	st = store__stmt(s,
	                 value ? "INSERT INTO meta (key, value) VALUES ('setting.' || ?1, ?2)"
	                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
	                       : "DELETE FROM meta WHERE key = 'setting.' || ?1",
	                 NULL, err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, key, -1);
	if (value)
		db_bind_text(st, 2, value, -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "saving a setting");
	db_reset(st);
	return e;
}

/* ---- sharing groups --------------------------------------------------------- */

static enum tix_err run1(struct store *s, const char *sql, const char *a, const char *b,
                         int *changes, const char *what, struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (db_prepare(store__engine(s), sql, NULL, &st) != DB_OK)
		return store__fail(s, err, what);
	db_bind_text(st, 1, a, -1);
	if (b)
		db_bind_text(st, 2, b, -1);
	rc = db_step(st);
	if (rc != DB_DONE) {
		if (rc == DB_UNIQUE)
			e = tix_error_set(err, TIX_EEXIST, a, "already exists");
		else
			e = store__fail(s, err, what);
	} else if (changes) {
		*changes = db_changes(store__engine(s));
	}
	db_finalize(st);
	return e;
}

static enum tix_err check_group_name(const char *name, struct tix_error *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 127)
		return tix_error_set(err, TIX_EINVAL, "",
		                     "a group or organisation name has 1-127 bytes");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ',')
			return tix_error_set(err, TIX_EINVAL, name,
			                     "names may not hold control characters or ','");
	return TIX_OK;
}

enum tix_err store_group_add(struct store *s, const char *name, struct tix_error *err)
{
	struct tix_time t;
	char now[32];
	enum tix_err e;

	if ((e = check_group_name(name, err)) != TIX_OK)
		return e;
	tix_time_now(&t);
	snprintf(now, sizeof(now), "%lld", (long long)tix_time_to_us(&t));
	return run1(s, "INSERT INTO sharing_groups (name, created) VALUES (?1, CAST(?2 AS BIGINT))",
	            name, now, NULL, "adding a sharing group", err);
}

enum tix_err store_group_remove(struct store *s, const char *name, struct tix_error *err)
{
	int n = 0;
	enum tix_err e = run1(s, "DELETE FROM sharing_groups WHERE name = ?1", name, NULL, &n,
	                      "removing a sharing group", err);

	if (e == TIX_OK && n == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such sharing group");
	return e;
}

enum tix_err store_group_member(struct store *s, const char *group, const char *org, int add,
                                struct tix_error *err)
{
	int n = 0;
	enum tix_err e;

	if ((e = check_group_name(org, err)) != TIX_OK)
		return e;
	e = run1(s,
	         add ? "INSERT INTO sharing_group_members (gkey, org)"
	               " SELECT gkey, ?2 FROM sharing_groups WHERE name = ?1"
	               " ON CONFLICT DO NOTHING"
	             : "DELETE FROM sharing_group_members WHERE org = ?2"
	               " AND gkey = (SELECT gkey FROM sharing_groups WHERE name = ?1)",
	         group, org, &n, "changing a sharing group", err);
	if (e != TIX_OK)
		return e;
	if (n == 0) {
		struct db_stmt *st = NULL;
		int found = 0;

		if (db_prepare(store__engine(s), "SELECT 1 FROM sharing_groups WHERE name = ?1",
		               NULL, &st) == DB_OK) {
			db_bind_text(st, 1, group, -1);
			found = db_step(st) == DB_ROW;
		}
		db_finalize(st);
		if (!found)
			return tix_error_set(err, TIX_ENOTFOUND, group, "no such sharing group");
		if (!add)
			return tix_error_set(err, TIX_ENOTFOUND, org, "is not a member of '%s'",
			                     group);
	}
	return TIX_OK;
}

enum tix_err store_group_list(struct store *s,
                              int (*cb)(void *, const char *group, const char *org), void *arg,
                              struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (db_prepare(store__engine(s),
	               "SELECT g.name, m.org FROM sharing_groups g LEFT JOIN"
	               " sharing_group_members m ON m.gkey = g.gkey ORDER BY g.name, m.org",
	               NULL, &st) != DB_OK)
		return store__fail(s, err, "listing sharing groups");
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL), db_column_text(st, 1, NULL)) != 0)
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing sharing groups");
	db_finalize(st);
	return e;
}

enum tix_err store_org_groups(struct store *s, const char *org,
                              int (*cb)(void *, const char *group), void *arg,
                              struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s,
	                                 "SELECT g.name FROM sharing_group_members m JOIN"
	                                 " sharing_groups g ON g.gkey = m.gkey WHERE m.org = ?1"
	                                 " ORDER BY g.name",
	                                 NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, org, -1);
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL)) != 0)
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading sharing groups");
	db_reset(st);
	return e;
}

enum tix_err store_org_set_sector(struct store *s, const char *org, const char *sector,
                                  struct tix_error *err)
{
	int n = 0;
	enum tix_err e;

	if (sector == NULL || strlen(sector) > 63 || strchr(sector, '\n'))
		return tix_error_set(err, TIX_EINVAL, org,
		                     "a sector has at most 63 bytes, one line");
	e = run1(s, "UPDATE orgs SET sector = ?2 WHERE name = ?1", org, sector, &n,
	         "setting a sector", err);

	if (e == TIX_OK && n == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, org, "no such organisation");
	return e;
}
