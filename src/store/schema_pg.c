/*
 * store/schema_pg.c — PostgreSQL's text of the migrations whose modules are
 * not on db.h yet (sync.c, values.c, reports.c), for the one migration list
 * of sqlite.c. Each moves beside its SQLite text when its module converts.
 * What converts the rows of older versions is left out: sqlite.c says why.
 */
#include "store/store_int.h"

/* Migration 5 (sync.c): federation peers, their cursors and outboxes. */
const char store__pg_schema_sync[] =
        "CREATE TABLE peers ("
        "  name TEXT PRIMARY KEY,"
        "  url TEXT NOT NULL,"
        "  remote_collection TEXT NOT NULL,"
        "  local_collection TEXT NOT NULL,"
        "  \"user\" TEXT NOT NULL," /* a reserved word in PostgreSQL: quoted */
        "  secret TEXT NOT NULL,"
        "  direction BIGINT NOT NULL,"
        "  interval BIGINT NOT NULL,"
        "  org TEXT NOT NULL,"
        "  ca_file TEXT NOT NULL,"
        "  limit_rate BIGINT NOT NULL,"
        "  created BIGINT NOT NULL);"
        "CREATE INDEX peers_org ON peers (org);"
        "CREATE TABLE peer_state ("
        "  peer TEXT PRIMARY KEY REFERENCES peers (name) ON DELETE CASCADE,"
        "  pull_after TEXT NOT NULL DEFAULT '',"
        "  pull_base TEXT NOT NULL DEFAULT '',"
        "  pull_next TEXT NOT NULL DEFAULT '',"
        "  push_cursor BIGINT NOT NULL DEFAULT 0,"
        "  objects_in BIGINT NOT NULL DEFAULT 0,"
        "  objects_stored BIGINT NOT NULL DEFAULT 0,"
        "  objects_rejected BIGINT NOT NULL DEFAULT 0,"
        "  objects_out BIGINT NOT NULL DEFAULT 0,"
        "  bytes_in BIGINT NOT NULL DEFAULT 0,"
        "  bytes_out BIGINT NOT NULL DEFAULT 0,"
        "  last_attempt BIGINT NOT NULL DEFAULT 0,"
        "  last_success BIGINT NOT NULL DEFAULT 0,"
        "  last_error TEXT NOT NULL DEFAULT '',"
        "  failing BIGINT NOT NULL DEFAULT 0);"
        "CREATE TABLE peer_outbox ("
        "  peer TEXT NOT NULL REFERENCES peers (name) ON DELETE CASCADE,"
        "  id TEXT NOT NULL,"
        "  modified TEXT NOT NULL,"
        "  attempts BIGINT NOT NULL DEFAULT 1,"
        "  error TEXT NOT NULL DEFAULT '',"
        "  PRIMARY KEY (peer, id, modified));";

/* Migration 8 (sync.c): peer kinds, a MISP feed's per-event cursors. */
const char store__pg_schema_feed[] =
        "ALTER TABLE peers ADD COLUMN kind TEXT NOT NULL DEFAULT 'taxii';"
        "CREATE TABLE peer_feed_events ("
        "  peer TEXT NOT NULL REFERENCES peers (name) ON DELETE CASCADE,"
        "  uuid TEXT NOT NULL,"
        "  timestamp BIGINT NOT NULL,"
        "  PRIMARY KEY (peer, uuid));";

/* Migration 9 (sync.c): failed attempts per peer. */
const char store__pg_schema_peer_errors[] =
        "ALTER TABLE peer_state ADD COLUMN errors BIGINT NOT NULL DEFAULT 0;";

/* Migration 10 (values.c): the value, sighting and text indexes. */
const char store__pg_schema_values[] =
        "CREATE TABLE value_index ("
        "  vkey BIGINT NOT NULL,"
        "  vid BIGINT NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (vkey, vid));"
        "CREATE INDEX value_index_vid ON value_index (vid);"
        "CREATE TABLE value_ip ("
        "  net BYTEA NOT NULL,"
        "  plen BIGINT NOT NULL,"
        "  vid BIGINT NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (net, plen, vid));"
        "CREATE INDEX value_ip_vid ON value_ip (vid);"
        "CREATE TABLE sighting_index ("
        "  vid BIGINT PRIMARY KEY REFERENCES objects (vid) ON DELETE CASCADE,"
        "  sighting_of TEXT NOT NULL,"
        "  sensor TEXT NOT NULL,"
        "  count BIGINT NOT NULL,"
        "  first_seen BIGINT NOT NULL,"
        "  last_seen BIGINT NOT NULL);"
        "CREATE INDEX sighting_index_of ON sighting_index (sighting_of);"
        /* FTS5's table: a tsvector made from the three texts, with a GIN
         * index; its rows go with their version (the foreign key, where
         * SQLite has a trigger). The query syntax is mapped in values.c. */
        "CREATE TABLE text_index ("
        "  vid BIGINT PRIMARY KEY REFERENCES objects (vid) ON DELETE CASCADE,"
        "  name TEXT,"
        "  description TEXT,"
        "  labels TEXT,"
        "  doc tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(name, '') || ' '"
        "   || coalesce(description, '') || ' ' || coalesce(labels, ''))) STORED);"
        "CREATE INDEX text_index_doc ON text_index USING GIN (doc);"
        "CREATE TABLE sighting_lines ("
        "  sighting TEXT NOT NULL,"
        "  line_key BIGINT NOT NULL,"
        "  PRIMARY KEY (sighting, line_key));"
        "CREATE TABLE indicator_expired ("
        "  id TEXT PRIMARY KEY,"
        "  at BIGINT NOT NULL,"
        "  score DOUBLE PRECISION NOT NULL);"
        "INSERT INTO meta (key, value) VALUES ('values_refused', '0');";

/* Migration 16 (values.c): each value row with its version's audience
 * and latest flag. SQLite's triggers that keep them (a deleted version, a
 * late marking) become C when values.c converts. */
const char store__pg_schema_value_audiences[] =
        "DROP TABLE value_index; DROP TABLE value_ip;"
        "CREATE TABLE value_audiences ("
        "  akey BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
        "  sig TEXT NOT NULL UNIQUE,"
        "  type TEXT, tlp BIGINT, tlp_flags BIGINT, owner_org TEXT, sharing_group TEXT,"
        "  recipients TEXT, origin_node TEXT);"
        "CREATE TABLE value_index ("
        "  vkey BIGINT NOT NULL,"
        "  vid BIGINT NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  aud BIGINT NOT NULL,"
        "  latest BIGINT NOT NULL,"
        "  PRIMARY KEY (vkey, vid));"
        "CREATE INDEX value_index_vid ON value_index (vid);"
        "CREATE TABLE value_ip ("
        "  net BYTEA NOT NULL,"
        "  plen BIGINT NOT NULL,"
        "  vid BIGINT NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  aud BIGINT NOT NULL,"
        "  latest BIGINT NOT NULL,"
        "  PRIMARY KEY (net, plen, vid));"
        "CREATE INDEX value_ip_vid ON value_ip (vid);";

/* Migration 15 (reports.c): the refs index and objects by day. */
const char store__pg_schema_refs[] =
        "CREATE TABLE object_refs_index ("
        "  ref TEXT NOT NULL,"
        "  vid BIGINT NOT NULL REFERENCES objects (vid) ON DELETE CASCADE,"
        "  PRIMARY KEY (ref, vid));"
        "CREATE INDEX object_refs_index_vid ON object_refs_index (vid);"
        "CREATE INDEX objects_day ON objects (substr(created, 1, 10), date_added);";
