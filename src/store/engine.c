/*
 * store/engine.c — the store's seam to the engine layer (db.h) while the
 * conversion of issue 18 goes on: sqlite.c still owns the SQLite connection
 * and its statement cache, and converted modules reach both through db.h.
 */
#include <string.h>

#include "store/store_int.h"

struct db *store__engine(struct store *s)
{
	/* A view of the store's own connection: it owns nothing, so it is
	 * never closed (store_close closes the connection). */
	if (s->eng.sq == NULL) {
		s->eng.engine = DB_SQLITE;
		s->eng.borrowed = 1; /* statements come from store__stmt */
		s->eng.sq = s->db;
	}
	return &s->eng;
}

struct db_stmt *store__stmt(struct store *s, const char *sqlite, const char *pg,
                            struct tix_error *err)
{
	sqlite3_stmt *st;

	(void)pg; /* the PostgreSQL backend is not selectable yet */
	if ((st = store__cached(s, sqlite, err)) == NULL)
		return NULL;
	/* The statement's slot in the cache gives its db.h view. */
	for (int i = 0; i < STORE_QCACHE; i++) {
		if (s->qcache[i].st == st) {
			struct db_stmt *v = &s->eng_st[i];

			v->db = store__engine(s);
			v->sq = st;
			v->cached = 1;
			return v;
		}
	}
	tix_error_set(err, TIX_ESTORE, "store", "a cached statement is not in the cache");
	return NULL;
}

enum tix_err store__fail(struct store *s, struct tix_error *err, const char *what)
{
	return db_error(store__engine(s), err, what);
}
