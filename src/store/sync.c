/*
 * store/sync.c — what federation keeps in the store: migration 5 (peers,
 * their credentials, the durable pull and push cursors with counters, and
 * the outbox of versions a peer refused, to be sent again) and migration 8
 * (peer kinds, a MISP feed's per-event cursors). On the engine layer (db.h):
 * one text for both engines, peers."user" quoted (a reserved word on PostgreSQL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void copy_col(struct db_stmt *st, int col, char *out, size_t size)
{
	const char *v = db_column_text(st, col, NULL);

	snprintf(out, size, "%s", v ? v : "");
}

/* Steps a write to its end: TIX_OK, or TIX_ENOTFOUND naming name when it
 * changed no row and must have. */
static enum tix_err step_write(struct store *s, struct db_stmt *st, const char *name,
                               const char *none, const char *what, struct tix_error *err)
{
	enum tix_err e = TIX_OK;

	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, what);
	else if (none && db_changes(store__engine(s)) == 0)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "%s", none);
	db_reset(st);
	return e;
}

/* The administration's statements (rare) are prepared per call, as
 * before, so they do not push the hot ones out of the cache. */
static struct db_stmt *prepare(struct store *s, const char *sql, const char *what,
                               struct tix_error *err)
{
	struct db_stmt *st = NULL;

	if (db_prepare(store__engine(s), sql, NULL, &st) != DB_OK) {
		store__fail(s, err, what);
		return NULL;
	}
	return st;
}

/* A peer changed or removed is a write transaction of its own
 * (store__write_begin/end), so it counts for store_data_version on the
 * handle that made it too: the answer caches keyed by it (the peer a
 * caller is, its listing) see it at once. */
enum tix_err store_peer_update(struct store *s, const struct store_peer *p, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "peers cannot change inside a transaction");
	if ((e = store__write_begin(s, err)) != TIX_OK)
		return e;
	if ((st = prepare(
	             s,
	             "UPDATE peers SET url = ?2, remote_collection = ?3, local_collection = ?4,"
	             " direction = ?5, interval = ?6, org = ?7, ca_file = ?8, limit_rate = ?9"
	             " WHERE name = ?1",
	             "changing a peer", err)) == NULL)
		return store__write_end(s, TIX_ESTORE, err);
	db_bind_text(st, 1, p->name, -1);
	db_bind_text(st, 2, p->url, -1);
	db_bind_text(st, 3, p->remote_collection, -1);
	db_bind_text(st, 4, p->local_collection, -1);
	db_bind_int64(st, 5, p->direction);
	db_bind_int64(st, 6, p->interval);
	db_bind_text(st, 7, p->org, -1);
	db_bind_text(st, 8, p->ca_file, -1);
	db_bind_int64(st, 9, p->limit_rate);
	e = step_write(s, st, p->name, "no peer of this name", "changing a peer", err);
	db_finalize(st);
	return store__write_end(s, e, err);
}

enum tix_err store_peer_add(struct store *s, const struct store_peer *p, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e;
	enum db_rc rc;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "peers cannot change inside a transaction");
	if ((e = store__write_begin(s, err)) != TIX_OK)
		return e;
	st = NULL;
	/* A name taken is expected: ON CONFLICT, so no failed statement ends
	 * PostgreSQL's transaction; no row back is "exists". */
	if ((st = prepare(s,
	                  "INSERT INTO peers (name, url, remote_collection, local_collection,"
	                  " \"user\", secret, direction, interval, org, ca_file, limit_rate,"
	                  " created, kind)"
	                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?12)"
	                  " ON CONFLICT (name) DO NOTHING RETURNING name",
	                  "adding a peer", err)) == NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	db_bind_text(st, 1, p->name, -1);
	db_bind_text(st, 2, p->url, -1);
	db_bind_text(st, 3, p->remote_collection, -1);
	db_bind_text(st, 4, p->local_collection, -1);
	db_bind_text(st, 5, p->user, -1);
	db_bind_text(st, 6, p->secret, -1);
	db_bind_int64(st, 7, p->direction);
	db_bind_int64(st, 8, p->interval);
	db_bind_text(st, 9, p->org, -1);
	db_bind_text(st, 10, p->ca_file, -1);
	db_bind_int64(st, 11, p->limit_rate);
	db_bind_text(st, 12, p->kind[0] ? p->kind : "taxii", -1);
	db_bind_int64(st, 13, (int64_t)time(NULL) * 1000000); /* whole seconds, as before */
	rc = db_step(st);
	if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_EEXIST, p->name, "a peer of this name exists");
		goto out;
	}
	if (rc != DB_ROW) {
		e = store__fail(s, err, "adding a peer");
		goto out;
	}
	db_finalize(st);
	if ((st = prepare(s, "INSERT INTO peer_state (peer) VALUES (?1)", "adding a peer", err)) ==
	    NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	db_bind_text(st, 1, p->name, -1);
	e = step_write(s, st, p->name, NULL, "adding a peer", err);
out:
	db_finalize(st);
	return store__write_end(s, e, err);
}

#define PEER_COLS                                                                                  \
	"name, url, remote_collection, local_collection, \"user\", secret, direction, interval,"   \
	" org, ca_file, limit_rate, kind"

static void fill_peer(struct db_stmt *st, struct store_peer *p)
{
	memset(p, 0, sizeof(*p));
	copy_col(st, 0, p->name, sizeof(p->name));
	copy_col(st, 1, p->url, sizeof(p->url));
	copy_col(st, 2, p->remote_collection, sizeof(p->remote_collection));
	copy_col(st, 3, p->local_collection, sizeof(p->local_collection));
	copy_col(st, 4, p->user, sizeof(p->user));
	copy_col(st, 5, p->secret, sizeof(p->secret));
	p->direction = (int)db_column_int64(st, 6);
	p->interval = db_column_int64(st, 7);
	copy_col(st, 8, p->org, sizeof(p->org));
	copy_col(st, 9, p->ca_file, sizeof(p->ca_file));
	p->limit_rate = db_column_int64(st, 10);
	copy_col(st, 11, p->kind, sizeof(p->kind));
}

enum tix_err store_peer_get(struct store *s, const char *name, struct store_peer *out,
                            struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if ((st = prepare(s, "SELECT " PEER_COLS " FROM peers WHERE name = ?1", NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, name, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		fill_peer(st, out);
	else if (rc == DB_DONE)
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	else
		e = store__fail(s, err, "reading a peer");
	db_finalize(st);
	return e;
}

enum tix_err store_peer_by_org(struct store *s, const char *org, char *name, size_t size,
                               struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if (org == NULL || *org == '\0')
		return TIX_ENOTFOUND;
	/* Asked on every TAXII POST and listing: a cached statement. */
	if ((st = store__stmt(s, "SELECT name FROM peers WHERE org = ?1 ORDER BY name LIMIT 1",
	                      NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, org, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		copy_col(st, 0, name, size);
	else if (rc == DB_DONE)
		e = TIX_ENOTFOUND;
	else
		e = store__fail(s, err, "finding a peer by organisation");
	db_reset(st);
	return e;
}

/* Its state, outbox and feed cursors cascade, in the same transaction. */
enum tix_err store_peer_remove(struct store *s, const char *name, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e;

	if (s->in_tx)
		return tix_error_set(err, TIX_ESTORE, "store",
		                     "peers cannot change inside a transaction");
	if ((e = store__write_begin(s, err)) != TIX_OK)
		return e;
	if ((st = prepare(s, "DELETE FROM peers WHERE name = ?1", "removing a peer", err)) == NULL)
		return store__write_end(s, TIX_ESTORE, err);
	db_bind_text(st, 1, name, -1);
	e = step_write(s, st, name, "no such peer", "removing a peer", err);
	db_finalize(st);
	return store__write_end(s, e, err);
}

/* The peers are few (a node's partners): one result on both engines. */
enum tix_err store_peer_list(struct store *s, int (*cb)(void *, const struct store_peer *),
                             void *arg, struct tix_error *err)
{
	struct db_stmt *st;
	struct store_peer p;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if ((st = prepare(s, "SELECT " PEER_COLS " FROM peers ORDER BY name", NULL, err)) == NULL)
		return TIX_ESTORE;
	while ((rc = db_step(st)) == DB_ROW) {
		fill_peer(st, &p);
		if (cb(arg, &p) != 0)
			break;
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "listing peers");
	db_finalize(st);
	memset(&p, 0, sizeof(p)); /* the secret */
	return e;
}

enum tix_err store_peer_state_get(struct store *s, const char *name, struct store_peer_state *out,
                                  struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if ((st = prepare(s,
	                  "SELECT pull_after, pull_base, pull_next, push_cursor, objects_in,"
	                  " objects_stored, objects_rejected, objects_out, bytes_in, bytes_out,"
	                  " last_attempt, last_success, last_error, failing,"
	                  " (SELECT count(*) FROM peer_outbox b JOIN objects o ON o.id = b.id"
	                  "  AND o.modified = b.modified WHERE b.peer = ?1), errors"
	                  " FROM peer_state WHERE peer = ?1",
	                  "reading a peer's state", err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, name, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		memset(out, 0, sizeof(*out));
		copy_col(st, 0, out->pull_after, sizeof(out->pull_after));
		copy_col(st, 1, out->pull_base, sizeof(out->pull_base));
		copy_col(st, 2, out->pull_next, sizeof(out->pull_next));
		out->push_cursor = db_column_int64(st, 3);
		out->objects_in = db_column_int64(st, 4);
		out->objects_stored = db_column_int64(st, 5);
		out->objects_rejected = db_column_int64(st, 6);
		out->objects_out = db_column_int64(st, 7);
		out->bytes_in = db_column_int64(st, 8);
		out->bytes_out = db_column_int64(st, 9);
		out->last_attempt = db_column_int64(st, 10);
		out->last_success = db_column_int64(st, 11);
		copy_col(st, 12, out->last_error, sizeof(out->last_error));
		out->failing = (int)db_column_int64(st, 13);
		out->outbox = db_column_int64(st, 14);
		out->errors = db_column_int64(st, 15);
	} else if (rc == DB_DONE) {
		e = tix_error_set(err, TIX_ENOTFOUND, name, "no such peer");
	} else {
		e = store__fail(s, err, "reading a peer's state");
	}
	db_finalize(st);
	return e;
}

enum tix_err store_peer_state_put(struct store *s, const char *name,
                                  const struct store_peer_state *v, struct tix_error *err)
{
	struct db_stmt *st;

	if ((st = store__stmt(s,
	                      "UPDATE peer_state SET pull_after = ?2, pull_base = ?3,"
	                      " pull_next = ?4, push_cursor = ?5, objects_in = ?6,"
	                      " objects_stored = ?7, objects_rejected = ?8, objects_out = ?9,"
	                      " bytes_in = ?10, bytes_out = ?11, last_attempt = ?12,"
	                      " last_success = ?13, last_error = ?14, failing = ?15,"
	                      " errors = ?16"
	                      " WHERE peer = ?1",
	                      NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, name, -1);
	db_bind_text(st, 2, v->pull_after, -1);
	db_bind_text(st, 3, v->pull_base, -1);
	db_bind_text(st, 4, v->pull_next, -1);
	db_bind_int64(st, 5, v->push_cursor);
	db_bind_int64(st, 6, v->objects_in);
	db_bind_int64(st, 7, v->objects_stored);
	db_bind_int64(st, 8, v->objects_rejected);
	db_bind_int64(st, 9, v->objects_out);
	db_bind_int64(st, 10, v->bytes_in);
	db_bind_int64(st, 11, v->bytes_out);
	db_bind_int64(st, 12, v->last_attempt);
	db_bind_int64(st, 13, v->last_success);
	db_bind_text(st, 14, v->last_error, -1);
	db_bind_int64(st, 15, v->failing);
	db_bind_int64(st, 16, v->errors);
	return step_write(s, st, name, "no such peer", "saving a peer's cursors", err);
}

enum tix_err store_peer_outbox_put(struct store *s, const char *peer, const char *id,
                                   const char *modified, const char *error, struct tix_error *err)
{
	struct db_stmt *st;

	/* peer_outbox.attempts qualified: PostgreSQL's DO UPDATE sees two. */
	if ((st = store__stmt(s,
	                      "INSERT INTO peer_outbox (peer, id, modified, error)"
	                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (peer, id, modified)"
	                      " DO UPDATE SET attempts = peer_outbox.attempts + 1,"
	                      " error = excluded.error",
	                      NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, modified, -1);
	db_bind_text(st, 4, error ? error : "", -1);
	return step_write(s, st, peer, NULL, "keeping a refused version for later", err);
}

enum tix_err store_peer_outbox_done(struct store *s, const char *peer, const char *id,
                                    const char *modified, struct tix_error *err)
{
	struct db_stmt *st;

	if ((st = store__stmt(
	             s, "DELETE FROM peer_outbox WHERE peer = ?1 AND id = ?2 AND modified = ?3",
	             NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	db_bind_text(st, 2, id, -1);
	db_bind_text(st, 3, modified, -1);
	return step_write(s, st, peer, NULL, "clearing a sent version", err);
}

/* One result on PostgreSQL (the versions one peer refused; not paged yet). */
enum tix_err store_peer_outbox_list(struct store *s, const char *peer, store_row_cb cb, void *arg,
                                    struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	if ((st = prepare(
	             s,
	             "SELECT o.id, o.type, o.modified, o.date_added, o.body" AUD_COLS
	             " FROM peer_outbox b JOIN objects o ON o.id = b.id AND o.modified = b.modified"
	             " WHERE b.peer = ?1 ORDER BY o.date_added",
	             "reading a peer's outbox", err)) == NULL)
		return TIX_ESTORE;
	db_set_paged(st, 1);
	db_bind_text(st, 1, peer, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		struct store_row row = store__db_row(st);

		if (cb(arg, &row) != 0)
			break;
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading a peer's outbox");
	db_finalize(st);
	return e;
}

enum tix_err store_peer_feed_get(struct store *s, const char *peer, const char *uuid,
                                 int64_t *timestamp, struct tix_error *err)
{
	struct db_stmt *st;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	*timestamp = 0;
	if ((st = store__stmt(
	             s, "SELECT timestamp FROM peer_feed_events WHERE peer = ?1 AND uuid = ?2",
	             NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	db_bind_text(st, 2, uuid, -1);
	rc = db_step(st);
	if (rc == DB_ROW)
		*timestamp = db_column_int64(st, 0);
	else if (rc != DB_DONE)
		e = store__fail(s, err, "reading a feed event's cursor");
	db_reset(st);
	return e;
}

enum tix_err store_peer_feed_put(struct store *s, const char *peer, const char *uuid,
                                 int64_t timestamp, struct tix_error *err)
{
	struct db_stmt *st;

	if ((st = store__stmt(s,
	                      "INSERT INTO peer_feed_events (peer, uuid, timestamp)"
	                      " VALUES (?1, ?2, ?3) ON CONFLICT (peer, uuid)"
	                      " DO UPDATE SET timestamp = excluded.timestamp",
	                      NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	db_bind_text(st, 2, uuid, -1);
	db_bind_int64(st, 3, timestamp);
	return step_write(s, st, peer, NULL, "saving a feed event's cursor", err);
}
