/*
 * store/accounts.c — organisations, users, API keys and collection grants:
 * the accounts a TAXII server authenticates against. Only digests of
 * secrets are stored (src/auth makes them).
 */
#include <string.h>

#include "store/store_int.h"

const char store__schema_accounts[] =
	"CREATE TABLE orgs ("
	"  okey INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  country TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  ukey INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  okey INTEGER NOT NULL REFERENCES orgs (okey) ON DELETE CASCADE,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'reader', 'sensor')),"
	"  password_hash TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX users_org ON users (okey);"
	"CREATE TABLE api_keys ("
	"  kkey INTEGER PRIMARY KEY,"
	"  key_id TEXT NOT NULL UNIQUE,"
	"  hash BLOB NOT NULL,"
	"  ukey INTEGER NOT NULL REFERENCES users (ukey) ON DELETE CASCADE,"
	"  created INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX api_keys_user ON api_keys (ukey);"
	"CREATE TABLE collection_grants ("
	"  ckey INTEGER NOT NULL REFERENCES collections (ckey) ON DELETE CASCADE,"
	"  okey INTEGER NOT NULL REFERENCES orgs (okey) ON DELETE CASCADE,"
	"  can_read INTEGER NOT NULL,"
	"  can_write INTEGER NOT NULL,"
	"  PRIMARY KEY (ckey, okey)) WITHOUT ROWID;";
