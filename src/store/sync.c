/*
 * store/sync.c — what federation keeps in the store: migration 5 (peers,
 * their credentials, the durable pull and push cursors with counters, and
 * the outbox of versions a peer refused, to be sent again) and migration 8
 * (peer kinds, a MISP feed's per-event cursors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

const char store__schema_sync[] =
        "CREATE TABLE peers ("
        "  name TEXT PRIMARY KEY,"
        "  url TEXT NOT NULL,"
        "  remote_collection TEXT NOT NULL,"
        "  local_collection TEXT NOT NULL,"
        "  user TEXT NOT NULL,"   /* "" with an API key */
        "  secret TEXT NOT NULL," /* password or API key: usable, so not hashed */
        "  direction INTEGER NOT NULL,"
        "  interval INTEGER NOT NULL,"
        "  org TEXT NOT NULL,"
        "  ca_file TEXT NOT NULL,"
        "  limit_rate INTEGER NOT NULL,"
        "  created INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX peers_org ON peers (org);"
        "CREATE TABLE peer_state ("
        "  peer TEXT PRIMARY KEY REFERENCES peers (name) ON DELETE CASCADE,"
        "  pull_after TEXT NOT NULL DEFAULT '',"
        "  pull_base TEXT NOT NULL DEFAULT '',"
        "  pull_next TEXT NOT NULL DEFAULT '',"
        "  push_cursor INTEGER NOT NULL DEFAULT 0,"
        "  objects_in INTEGER NOT NULL DEFAULT 0,"
        "  objects_stored INTEGER NOT NULL DEFAULT 0,"
        "  objects_rejected INTEGER NOT NULL DEFAULT 0,"
        "  objects_out INTEGER NOT NULL DEFAULT 0,"
        "  bytes_in INTEGER NOT NULL DEFAULT 0,"
        "  bytes_out INTEGER NOT NULL DEFAULT 0,"
        "  last_attempt INTEGER NOT NULL DEFAULT 0,"
        "  last_success INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT NOT NULL DEFAULT '',"
        "  failing INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
        "CREATE TABLE peer_outbox ("
        "  peer TEXT NOT NULL REFERENCES peers (name) ON DELETE CASCADE,"
        "  id TEXT NOT NULL,"
        "  modified TEXT NOT NULL,"
        "  attempts INTEGER NOT NULL DEFAULT 1,"
        "  error TEXT NOT NULL DEFAULT '',"
        "  PRIMARY KEY (peer, id, modified)) WITHOUT ROWID;";

const char store__schema_feed[] =
        "ALTER TABLE peers ADD COLUMN kind TEXT NOT NULL DEFAULT 'taxii';"
        "CREATE TABLE peer_feed_events ("
        "  peer TEXT NOT NULL REFERENCES peers (name) ON DELETE CASCADE,"
        "  uuid TEXT NOT NULL,"
        "  timestamp INTEGER NOT NULL," /* the manifest's, of the version stored */
        "  PRIMARY KEY (peer, uuid)) WITHOUT ROWID;";

/* Migration 8 -> 9: failed attempts counted per peer (GET /metrics). */
const char store__schema_peer_errors[] =
        "ALTER TABLE peer_state ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;";

static enum tix_err prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what,
                            struct tix_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store__db_error(s, err, what);
	}
	return TIX_OK;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	snprintf(out, size, "%s", v ? v : "");
}

enum tix_err store_peer_update(struct store *s, const struct store_peer *p, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "peers cannot change inside a transaction");
	if ((e = prepare(s,
	                 "UPDATE peers SET url = ?2, remote_collection = ?3, local_collection = ?4,"
	                 " direction = ?5, interval = ?6, org = ?7, ca_file = ?8, limit_rate = ?9"
	                 " WHERE name = ?1",
	                 &st, "changing a peer", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->remote_collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->local_collection, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, p->direction);
	sqlite3_bind_int64(st, 6, p->interval);
	sqlite3_bind_text(st, 7, p->org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, p->ca_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, p->limit_rate);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "changing a peer");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, p->name, "no peer of this name");
out:
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_peer_add(struct store *s, const struct store_peer *p, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "peers cannot change inside a transaction");
	if ((e = store__exec(s, "BEGIN IMMEDIATE", err)) != TIX_OK)
		return e;
	if ((e = prepare(s,
	                 "INSERT INTO peers (name, url, remote_collection, local_collection, user,"
	                 " secret, direction, interval, org, ca_file, limit_rate, created, kind)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                 " CAST(strftime('%s','now') AS INTEGER) * 1000000, ?12)",
	                 &st, "adding a peer", err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->remote_collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->local_collection, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, p->secret, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, p->direction);
	sqlite3_bind_int64(st, 8, p->interval);
	sqlite3_bind_text(st, 9, p->org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, p->ca_file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, p->limit_rate);
	sqlite3_bind_text(st, 12, p->kind[0] ? p->kind : "taxii", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		e = tix_error_set(err, TIX_EEXIST, p->name, "a peer of this name exists");
		goto out;
	}
	if (rc != SQLITE_DONE) {
		e = store__db_error(s, err, "adding a peer");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((e = prepare(s, "INSERT INTO peer_state (peer) VALUES (?1)", &st, "adding a peer",
	                 err)) != TIX_OK)
		goto out;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "adding a peer");
out:
	sqlite3_finalize(st);
	if (e == TIX_OK && (e = store__exec(s, "COMMIT", err)) == TIX_OK)
		return TIX_OK;
	store__exec(s, "ROLLBACK", NULL);
	return e;
}

#define PEER_COLS                                                                                  \
	"name, url, remote_collection, local_collection, user, secret, direction, interval, org,"  \
	" ca_file, limit_rate, kind"

static void fill_peer(sqlite3_stmt *st, struct store_peer *p)
{
	memset(p, 0, sizeof(*p));
	copy_col(st, 0, p->name, sizeof(p->name));
	copy_col(st, 1, p->url, sizeof(p->url));
	copy_col(st, 2, p->remote_collection, sizeof(p->remote_collection));
	copy_col(st, 3, p->local_collection, sizeof(p->local_collection));
	copy_col(st, 4, p->user, sizeof(p->user));
	copy_col(st, 5, p->secret, sizeof(p->secret));
	p->direction = sqlite3_column_int(st, 6);
	p->interval = sqlite3_column_int64(st, 7);
	copy_col(st, 8, p->org, sizeof(p->org));
	copy_col(st, 9, p->ca_file, sizeof(p->ca_file));
	p->limit_rate = sqlite3_column_int64(st, 10);
	copy_col(st, 11, p->kind, sizeof(p->kind));
}

enum tix_err store_peer_get(struct store *s, const char *name, struct store_peer *out,
                            struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = prepare(s, "SELECT " PEER_COLS " FROM peers WHERE name = ?1", &st,
	                 "reading a peer", err)) != TIX_OK)
		return e;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_peer(st, out);
	else if (rc == SQLITE_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	else
		e = store__db_error(s, err, "reading a peer");
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_peer_by_org(struct store *s, const char *org, char *name, size_t size,
                               struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;
	int rc;

	if (org == NULL || *org == '\0')
		return TIX_ENOTFOUND;
	/* Asked on every TAXII POST and listing: a cached statement. */
	if ((st = store__cached(s, "SELECT name FROM peers WHERE org = ?1 ORDER BY name LIMIT 1",
	                        err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_col(st, 0, name, size);
	else if (rc == SQLITE_DONE)
		e = TIX_ENOTFOUND;
	else
		e = store__db_error(s, err, "finding a peer by organisation");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_peer_remove(struct store *s, const char *name, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;

	if ((e = prepare(s, "DELETE FROM peers WHERE name = ?1", &st, "removing a peer", err)) !=
	    TIX_OK)
		return e;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "removing a peer");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_peer_list(struct store *s, int (*cb)(void *, const struct store_peer *),
                             void *arg, struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	struct store_peer p;
	enum tix_err e;
	int rc;

	if ((e = prepare(s, "SELECT " PEER_COLS " FROM peers ORDER BY name", &st, "listing peers",
	                 err)) != TIX_OK)
		return e;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_peer(st, &p);
		if (cb(arg, &p) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "listing peers");
	sqlite3_finalize(st);
	memset(&p, 0, sizeof(p)); /* the secret */
	return e;
}

enum tix_err store_peer_state_get(struct store *s, const char *name, struct store_peer_state *out,
                                  struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = prepare(s,
	                 "SELECT pull_after, pull_base, pull_next, push_cursor, objects_in,"
	                 " objects_stored, objects_rejected, objects_out, bytes_in, bytes_out,"
	                 " last_attempt, last_success, last_error, failing,"
	                 " (SELECT count(*) FROM peer_outbox b JOIN objects o ON o.id = b.id"
	                 "  AND o.modified = b.modified WHERE b.peer = ?1), errors"
	                 " FROM peer_state WHERE peer = ?1",
	                 &st, "reading a peer's state", err)) != TIX_OK)
		return e;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		copy_col(st, 0, out->pull_after, sizeof(out->pull_after));
		copy_col(st, 1, out->pull_base, sizeof(out->pull_base));
		copy_col(st, 2, out->pull_next, sizeof(out->pull_next));
		out->push_cursor = sqlite3_column_int64(st, 3);
		out->objects_in = sqlite3_column_int64(st, 4);
		out->objects_stored = sqlite3_column_int64(st, 5);
		out->objects_rejected = sqlite3_column_int64(st, 6);
		out->objects_out = sqlite3_column_int64(st, 7);
		out->bytes_in = sqlite3_column_int64(st, 8);
		out->bytes_out = sqlite3_column_int64(st, 9);
		out->last_attempt = sqlite3_column_int64(st, 10);
		out->last_success = sqlite3_column_int64(st, 11);
		copy_col(st, 12, out->last_error, sizeof(out->last_error));
		out->failing = sqlite3_column_int(st, 13);
		out->outbox = sqlite3_column_int64(st, 14);
		out->errors = sqlite3_column_int64(st, 15);
	} else if (rc == SQLITE_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	} else {
		e = store__db_error(s, err, "reading a peer's state");
	}
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_peer_state_put(struct store *s, const char *name,
                                  const struct store_peer_state *v, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;

	if ((st = store__cached(s,
	                        "UPDATE peer_state SET pull_after = ?2, pull_base = ?3,"
	                        " pull_next = ?4, push_cursor = ?5, objects_in = ?6,"
	                        " objects_stored = ?7, objects_rejected = ?8, objects_out = ?9,"
	                        " bytes_in = ?10, bytes_out = ?11, last_attempt = ?12,"
	                        " last_success = ?13, last_error = ?14, failing = ?15,"
	                        " errors = ?16"
	                        " WHERE peer = ?1",
	                        err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->pull_after, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->pull_base, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, v->pull_next, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, v->push_cursor);
	sqlite3_bind_int64(st, 6, v->objects_in);
	sqlite3_bind_int64(st, 7, v->objects_stored);
	sqlite3_bind_int64(st, 8, v->objects_rejected);
	sqlite3_bind_int64(st, 9, v->objects_out);
	sqlite3_bind_int64(st, 10, v->bytes_in);
	sqlite3_bind_int64(st, 11, v->bytes_out);
	sqlite3_bind_int64(st, 12, v->last_attempt);
	sqlite3_bind_int64(st, 13, v->last_success);
	sqlite3_bind_text(st, 14, v->last_error, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, v->failing);
	sqlite3_bind_int64(st, 16, v->errors);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "saving a peer's cursors");
	else if (sqlite3_changes(s->db) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_peer_outbox_put(struct store *s, const char *peer, const char *id,
                                   const char *modified, const char *error, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;

	if ((st = store__cached(s,
	                        "INSERT INTO peer_outbox (peer, id, modified, error)"
	                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (peer, id, modified)"
	                        " DO UPDATE SET attempts = attempts + 1, error = ?4",
	                        err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, modified, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, error ? error : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "keeping a refused version for later");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_peer_outbox_done(struct store *s, const char *peer, const char *id,
                                    const char *modified, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;

	if ((st = store__cached(
	             s, "DELETE FROM peer_outbox WHERE peer = ?1 AND id = ?2 AND modified = ?3",
	             err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, modified, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "clearing a sent version");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_peer_outbox_list(struct store *s, const char *peer, store_row_cb cb, void *arg,
                                    struct tix_error *err)
{
	sqlite3_stmt *st = NULL;
	enum tix_err e;
	int rc;

	if ((e = prepare(
	             s,
	             "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
	             " FROM peer_outbox b JOIN objects o ON o.id = b.id AND o.modified = b.modified"
	             " WHERE b.peer = ?1 ORDER BY o.date_added",
	             &st, "reading a peer's outbox", err)) != TIX_OK)
		return e;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row row = store__row(st);

		if (cb(arg, &row) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store__db_error(s, err, "reading a peer's outbox");
	sqlite3_finalize(st);
	return e;
}

enum tix_err store_peer_feed_get(struct store *s, const char *peer, const char *uuid,
                                 int64_t *timestamp, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;
	int rc;

	*timestamp = 0;
	if ((st = store__cached(
	             s, "SELECT timestamp FROM peer_feed_events WHERE peer = ?1 AND uuid = ?2",
	             err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*timestamp = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		e = store__db_error(s, err, "reading a feed event's cursor");
	sqlite3_reset(st);
	return e;
}

enum tix_err store_peer_feed_put(struct store *s, const char *peer, const char *uuid,
                                 int64_t timestamp, struct tix_error *err)
{
	sqlite3_stmt *st;
	enum tix_err e = TIX_OK;

	if ((st = store__cached(s,
	                        "INSERT INTO peer_feed_events (peer, uuid, timestamp)"
	                        " VALUES (?1, ?2, ?3) ON CONFLICT (peer, uuid)"
	                        " DO UPDATE SET timestamp = ?3",
	                        err)) == NULL)
		return TIX_ESTORE;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, timestamp);
	if (sqlite3_step(st) != SQLITE_DONE)
		e = store__db_error(s, err, "saving a feed event's cursor");
	sqlite3_reset(st);
	return e;
}
