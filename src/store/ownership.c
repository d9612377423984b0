/*
 * store/ownership.c — who may add versions of an object (docs/policy.md):
 * migration 6 (owners, per-organisation observables, late markings, the
 * report of old versions that break the rules), the write check every
 * store_put/store_link runs, and re-resolving markings that arrive late.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The TLP marking ids (TLP 2.0 and 1.0), as an SQL list. */
#define TLP_ID_IN                                                                                  \
	"('marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',"                             \
	"'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',"                              \
	"'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',"                              \
	"'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',"                              \
	"'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',"                              \
	"'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',"                              \
	"'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',"                              \
	"'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',"                              \
	"'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed')"

/* Versions flagged "unknown marking" whose marking refs are all known now
 * (TLP ids or stored marking-definitions) lose the flag. */
#define RERESOLVE_WHERE                                                                            \
	" WHERE tlp_flags & 2 <> 0 AND NOT EXISTS (SELECT 1 FROM"                                  \
	" json_each(objects.body, '$.object_marking_refs') j WHERE j.value NOT IN " TLP_ID_IN      \
	" AND NOT EXISTS (SELECT 1 FROM objects d WHERE d.id = j.value"                            \
	" AND d.type = 'marking-definition'))"

/* The same on PostgreSQL: a version's marking refs as rows of text (body
 * stays TEXT, the bytes as they came; cast where a query looks inside). */
#define PG_MARKING_REFS(o)                                                                         \
	"jsonb_array_elements_text(CASE jsonb_typeof(" o ".body::jsonb -> 'object_marking_refs')"  \
	" WHEN 'array' THEN " o ".body::jsonb -> 'object_marking_refs' END)"
#define PG_RERESOLVE_WHERE                                                                         \
	" WHERE tlp_flags & 2 <> 0 AND NOT EXISTS (SELECT 1 FROM " PG_MARKING_REFS(                \
	        "objects") " j (value) WHERE j.value NOT IN " TLP_ID_IN                            \
	                   " AND NOT EXISTS (SELECT 1 FROM objects d WHERE d.id = j.value"         \
	                   " AND d.type = 'marking-definition'))"

const char store__schema_ownership[] =
        /* The organisation that first stored an id owns it (NULL: the
         * operator, an import without --org); created and created_by_ref
         * as that first version had them. Observables are not here: each
         * organisation has its own copy. */
        "CREATE TABLE object_owners ("
        "  id TEXT PRIMARY KEY,"
        "  owner_org TEXT,"
        "  created TEXT NOT NULL,"
        "  created_by_ref TEXT) WITHOUT ROWID;"
        /* Observables (no created, no modified) are kept per organisation:
         * their version key is '#' and the owner's name. */
        "UPDATE objects SET modified = '#' || coalesce(owner_org, '') WHERE modified = '';"
        "INSERT INTO object_owners (id, owner_org, created, created_by_ref)"
        " SELECT o.id, o.owner_org, o.created, json_extract(o.body, '$.created_by_ref')"
        " FROM objects o WHERE substr(o.modified, 1, 1) <> '#' AND o.date_added ="
        " (SELECT min(o2.date_added) FROM objects o2 WHERE o2.id = o.id);"
        /* Versions stored before these rules that break them: kept and
         * reported (tix stats), never dropped. */
        "CREATE TABLE ownership_conflicts ("
        "  vid INTEGER PRIMARY KEY REFERENCES objects (vid) ON DELETE CASCADE,"
        "  reason TEXT NOT NULL);"
        "INSERT INTO ownership_conflicts (vid, reason)"
        " SELECT o.vid, CASE"
        "  WHEN o.owner_org IS NOT w.owner_org THEN 'written by '"
        "   || coalesce(o.owner_org, 'the operator') || ', but the object belongs to '"
        "   || coalesce(w.owner_org, 'the operator')"
        "  WHEN o.created <> w.created THEN 'created changed from ' || w.created"
        "  ELSE 'created_by_ref changed from ' || coalesce(w.created_by_ref, 'none') END"
        " FROM objects o JOIN object_owners w ON w.id = o.id"
        " WHERE o.owner_org IS NOT w.owner_org OR o.created <> w.created"
        " OR json_extract(o.body, '$.created_by_ref') IS NOT w.created_by_ref;"
        "CREATE INDEX objects_unknown_marking ON objects (vid) WHERE tlp_flags & 2 <> 0;"
        /* The levels granular markings use, one bit each from bit 8 (a
         * ref that is not a TLP id counts as AMBER+STRICT): readers who
         * may not see one of them get none of the object. */
        "UPDATE objects SET tlp_flags = tlp_flags | coalesce((SELECT sum(b) FROM (SELECT DISTINCT"
        " 1 << (8 + CASE json_extract(g.value, '$.marking_ref')" STORE_TLP_WHEN
        " ELSE 3 END) AS b FROM json_each(objects.body, '$.granular_markings') g"
        " WHERE json_extract(g.value, '$.marking_ref') IS NOT NULL)), 0)"
        " WHERE json_type(body, '$.granular_markings') = 'array';"
        /* Markings that arrived after the objects using them. */
        "UPDATE objects SET tlp_flags = tlp_flags & ~2" RERESOLVE_WHERE ";";

/* The same on PostgreSQL, without what converts the versions stored
 * before (a new PostgreSQL database has none: sqlite.c). */
const char store__pg_schema_ownership[] =
        "CREATE TABLE object_owners ("
        "  id TEXT PRIMARY KEY,"
        "  owner_org TEXT,"
        "  created TEXT NOT NULL,"
        "  created_by_ref TEXT);"
        "CREATE TABLE ownership_conflicts ("
        "  vid BIGINT PRIMARY KEY REFERENCES objects (vid) ON DELETE CASCADE,"
        "  reason TEXT NOT NULL);"
        "CREATE INDEX objects_unknown_marking ON objects (vid) WHERE tlp_flags & 2 <> 0;";

/* After a marking-definition was stored: the versions referring to it are
 * re-resolved in the same transaction; their audience rows and value
 * rows follow, and the sightings' counter moves (who may count which sighting changed). */
static enum tix_err reresolve(struct store *s, const char *marking_id, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(
	        s,
	        "UPDATE objects SET tlp_flags = tlp_flags & ~2" RERESOLVE_WHERE
	        " AND EXISTS (SELECT 1 FROM json_each(objects.body, '$.object_marking_refs') r"
	        " WHERE r.value = ?1) RETURNING vid",
	        "UPDATE objects SET tlp_flags = tlp_flags & ~2" PG_RERESOLVE_WHERE
	        " AND EXISTS (SELECT 1 FROM " PG_MARKING_REFS(
	                "objects") " r (value) WHERE r.value = ?1) RETURNING vid",
	        err);
	int64_t *vids = NULL;
	size_t n = 0, cap = 0;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, marking_id, -1);
	/* The versions changed, kept before their audience rows follow (the
	 * update is done at its first step). */
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			int64_t *more = realloc(vids, (cap = cap ? 2 * cap : 16) * sizeof(*vids));

			if (more == NULL) {
				rc = DB_NOMEM;
				break;
			}
			vids = more;
		}
		vids[n++] = db_column_int64(st, 0);
	}
	db_reset(st);
	if (rc == DB_NOMEM)
		e = tix_error_set(err, TIX_ENOMEM, "store", "out of memory");
	else if (rc != DB_DONE)
		e = store__fail(s, err, "re-resolving markings");
	for (size_t i = 0; e == TIX_OK && i < n; i++)
		if ((e = store__audience_changed(s, vids[i], err)) == TIX_OK)
			e = store__values_audience_changed(s, vids[i], err);
	if (e == TIX_OK && n > 0)
		e = store__sightings_moved(s, err);
	free(vids);
	return e;
}

int store__is_observable(const struct stix_meta *m)
{
	return m->created[0] == '\0' && m->modified[0] == '\0' && stix_is_sco_type(m->type);
}

const char *store__version_key(const struct stix_meta *m, const char *owner, char *buf, size_t size)
{
	if (!store__is_observable(m))
		return m->modified;
	snprintf(buf, size, "#%s", owner ? owner : "");
	return buf;
}

/* The skew allowed for modified ahead of the clock, read at store_begin. */
void store__load_write_rules(struct store *s)
{
	char v[64];

	s->skew_us = STORE_DEFAULT_SKEW_US;
	if (store_setting_get(s, "modified_skew", v, sizeof(v), NULL) == TIX_OK) {
		char *end;
		long long secs = strtoll(v, &end, 10);

		if (*end == '\0' && secs >= 0 && secs < (1LL << 40))
			s->skew_us = (int64_t)secs * 1000000;
	}
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The spec-defined TLP marking-definitions are the same everywhere: anyone
 * may send them again (they are never anyone's intelligence). */
static int is_standard_marking(const struct stix_meta *m)
{
	return strcmp(m->type, "marking-definition") == 0 &&
	       stix_tlp_of_marking(m->id) != STIX_TLP_UNSET;
}

/* A modified more than the node's skew ahead of its clock would make the
 * version current for good: refused. */
static enum tix_err check_clock(struct store *s, const struct stix_meta *m, struct tix_error *err)
{
	enum tix_err e = TIX_OK;

	if (m->modified[0] != '\0') {
		struct tix_time now;
		char limit[32];

		tix_time_now(&now);
		tix_time_from_us(tix_time_to_us(&now) + s->skew_us, &now);
		tix_time_canonical(&now, limit);
		if (strcmp(m->modified, limit) > 0)
			e = tix_error_set(err, TIX_EDENIED, m->id,
			                  "modified %s is more than %lld seconds ahead of this "
			                  "node's clock",
			                  m->version, (long long)(s->skew_us / 1000000));
	}
	return e;
}

enum tix_err store__check_write(struct store *s, const struct stix_meta *m, const char *owner,
                                int new_version, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (store__is_observable(m))
		return TIX_OK;
	if ((st = store__stmt(s,
	                      "SELECT owner_org, created, created_by_ref FROM object_owners"
	                      " WHERE id = ?1",
	                      NULL, err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, m->id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *o = db_column_text(st, 0, NULL);
		const char *created = db_column_text(st, 1, NULL);
		const char *cbr = db_column_text(st, 2, NULL);

		if (!same(o, owner) && !is_standard_marking(m))
			e = tix_error_set(
			        err, TIX_EDENIED, m->id,
			        "belongs to another organisation; publish your own object "
			        "and relate it (derived-from, sighting, note, opinion)");
		/* the owner's stored version again (not new_version): nothing
		 * of it is written, so only a new version is held to 3.6 */
		else if (new_version && strcmp(created, m->created) != 0)
			e = tix_error_set(err, TIX_EDENIED, m->id,
			                  "created does not change across versions (STIX 2.1 "
			                  "section 3.6): the object was created %s",
			                  created);
		else if (new_version && !same(cbr, m->created_by_ref))
			e = tix_error_set(
			        err, TIX_EDENIED, m->id,
			        "created_by_ref does not change across versions (STIX 2.1 "
			        "section 3.6): the object's is %s",
			        cbr ? cbr : "absent");
	} else if (rc != DB_DONE) {
		e = store__fail(s, err, "finding an object's owner");
	}
	db_reset(st);
	if (e == TIX_OK && new_version)
		e = check_clock(s, m, err);
	return e;
}

int store_id_stored(struct store *s, const char *id)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT 1 FROM object_owners WHERE id = ?1", NULL, NULL);
	enum db_rc rc;

	if (st == NULL)
		return -1;
	db_bind_text(st, 1, id, -1);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/* The owner's row of m->id when it has none; *inserted says whether it
 * was written. */
static enum tix_err insert_owner(struct store *s, const struct stix_meta *m, const char *owner,
                                 int *inserted, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;

	*inserted = 0;
	if ((st = store__stmt(s,
	                      "INSERT INTO object_owners (id, owner_org, created, created_by_ref)"
	                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
	                      NULL, err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, m->id, -1);
	if (owner)
		db_bind_text(st, 2, owner, -1);
	db_bind_text(st, 3, m->created, -1);
	if (m->created_by_ref)
		db_bind_text(st, 4, m->created_by_ref, -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "recording an object's owner");
	else
		*inserted = db_changes(store__engine(s)) == 1;
	db_reset(st);
	return e;
}

enum tix_err store__claim_owner(struct store *s, const struct stix_meta *m, const char *owner,
                                int *claimed, struct tix_error *err)
{
	int inserted = 0;
	enum tix_err e;

	*claimed = 0;
	if (store__is_observable(m))
		return TIX_OK;
	/* Only a new version may make an owner, and only one the clock allows
	 * (refused: store__check_write gives the reason, owner's first). */
	if (check_clock(s, m, NULL) != TIX_OK) {
		*claimed = -1;
		return TIX_OK;
	}
	e = insert_owner(s, m, owner, &inserted, err);
	*claimed = inserted;
	return e;
}

enum tix_err store__record_owner(struct store *s, const struct stix_meta *m, const char *owner,
                                 int claimed, struct tix_error *err)
{
	enum tix_err e;
	int inserted;

	if (claimed < 0 && (e = insert_owner(s, m, owner, &inserted, err)) != TIX_OK)
		return e;
	return strcmp(m->type, "marking-definition") == 0 ? reresolve(s, m->id, err) : TIX_OK;
}

enum tix_err store_unknown_markings(struct store *s, int64_t *versions, struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s, "SELECT count(*) FROM objects WHERE tlp_flags & 2 <> 0", NULL, err);
	enum tix_err e = TIX_OK;

	*versions = 0;
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	if (db_step(st) == DB_ROW)
		*versions = db_column_int64(st, 0);
	else
		e = store__fail(s, err, "counting unknown markings");
	db_reset(st);
	return e;
}

enum tix_err store_ownership_conflicts(struct store *s,
                                       int (*cb)(void *, const char *id, const char *version,
                                                 const char *reason),
                                       void *arg, struct tix_error *err)
{
	struct db_stmt *st =
	        store__stmt(s,
	                    "SELECT o.id, o.version, c.reason FROM ownership_conflicts c"
	                    " JOIN objects o ON o.vid = c.vid ORDER BY o.date_added",
	                    NULL, err);
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	while ((rc = db_step(st)) == DB_ROW)
		if (cb(arg, db_column_text(st, 0, NULL), db_column_text(st, 1, NULL),
		       db_column_text(st, 2, NULL)) != 0)
			break;
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing ownership conflicts");
	db_reset(st);
	return e;
}

enum tix_err store_object_created(struct store *s, const char *id, const char *owner, char *out,
                                  size_t size, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	*out = '\0';
	if ((st = store__stmt(s, "SELECT owner_org, created FROM object_owners WHERE id = ?1", NULL,
	                      err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, id, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *o = db_column_text(st, 0, NULL);
		const char *c = db_column_text(st, 1, NULL);

		if (same(o, owner) && c)
			snprintf(out, size, "%s", c);
	} else if (rc != DB_DONE) {
		e = store__fail(s, err, "finding an object's owner");
	}
	db_reset(st);
	return e;
}
