/*
 * store/audit.c — the append-only audit log: every entry's hash is
 * BLAKE2b-256(previous hash || the entry's canonical bytes), so changing,
 * deleting or reordering entries breaks the chain where it happened. The
 * head (last seq and hash) is also kept in the meta table, so cutting
 * entries off the end shows too. A queue with its own thread and store
 * handle lets the TAXII server log reads without waiting for a write.
 * On the engine layer (db.h): the same statements on SQLite and PostgreSQL.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"

#define HASH_BYTES 32

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

static void put_str(crypto_generichash_state *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	put_u64(h, n);
	crypto_generichash_update(h, (const unsigned char *)(s ? s : ""), n);
}

/* key NULL: the unkeyed chain of stores before the audit key (entries up
 * to the key point); else keyed BLAKE2b under the audit key. */
static void entry_hash(const unsigned char *key, const unsigned char prev[HASH_BYTES], int64_t seq,
                       const struct store_audit_entry *e, unsigned char out[HASH_BYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, key, key ? HASH_BYTES : 0, HASH_BYTES);
	crypto_generichash_update(&h, prev, HASH_BYTES);
	put_u64(&h, (uint64_t)seq);
	put_u64(&h, (uint64_t)e->at);
	put_str(&h, e->action);
	put_str(&h, e->actor);
	put_str(&h, e->org);
	put_str(&h, e->objects);
	put_str(&h, e->detail);
	crypto_generichash_final(&h, out, HASH_BYTES);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- the audit key -------------------------------------------------------- */

/* A MAC (hex, 32 digits) under the audit key over a label, a number and
 * optional bytes: the key point and the head carry one, so neither can be
 * moved without the key. */
static void mac_hex(const unsigned char key[HASH_BYTES], const char *label, int64_t n,
                    const unsigned char *bytes, size_t len, char out[33])
{
	crypto_generichash_state h;
	unsigned char mac[16];

	crypto_generichash_init(&h, key, HASH_BYTES, sizeof(mac));
	put_str(&h, label);
	put_u64(&h, (uint64_t)n);
	if (bytes)
		crypto_generichash_update(&h, bytes, len);
	crypto_generichash_final(&h, mac, sizeof(mac));
	hex(mac, sizeof(mac), out);
}

/* Loads (once per handle) the audit key, derived from the node secret, and
 * the key point: entries after it are keyed. keyed_from is -1 when the
 * point is missing or its MAC is wrong (verify then fails). */
static enum tix_err load_key(struct store *s, struct tix_error *err)
{
	unsigned char secret[32];
	static const char label[] = "tix audit chain v1";
	struct db_stmt *st;
	enum tix_err e;
	enum db_rc rc;

	if (s->audit_key_loaded)
		return TIX_OK;
	/* A store restored from a backup without the node secret keeps the
	 * audit key of the node it came from (meta audit_key, written by
	 * store_backup), so its chain still verifies under a new secret. */
	if ((st = store__stmt(s, "SELECT value FROM meta WHERE key = 'audit_key'", NULL, err)) ==
	    NULL)
		return err ? err->code : TIX_ESTORE;
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *v = db_column_text(st, 0, NULL);
		size_t got = 0;

		if (v == NULL || strlen(v) != 2 * HASH_BYTES ||
		    sodium_hex2bin(s->audit_key, HASH_BYTES, v, 2 * HASH_BYTES, NULL, &got, NULL) !=
		            0 ||
		    got != HASH_BYTES) {
			db_reset(st);
			return tix_error_set(err, TIX_ESTORE, "audit",
			                     "the stored audit key is not 64 hexadecimal digits");
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store__fail(s, err, "reading the audit key");
	if (rc == DB_DONE) {
		if ((e = store_node_secret(s, secret, err)) != TIX_OK)
			return e;
		crypto_generichash(s->audit_key, HASH_BYTES, (const unsigned char *)label,
		                   sizeof(label) - 1, secret, sizeof(secret));
		sodium_memzero(secret, sizeof(secret));
	}
	s->audit_keyed_from = -1;
	if ((st = store__stmt(s, "SELECT value FROM meta WHERE key = 'audit_keyed_from'", NULL,
	                      err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	if ((rc = db_step(st)) == DB_ROW) {
		const char *v = db_column_text(st, 0, NULL);
		char *end = NULL, want[33];
		long long n = v ? strtoll(v, &end, 10) : -1;

		if (v && end && end != v && n >= 0 && *end == ' ') {
			mac_hex(s->audit_key, "keyed-from", n, NULL, 0, want);
			if (strlen(end + 1) == 32 && sodium_memcmp(end + 1, want, 32) == 0)
				s->audit_keyed_from = n;
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store__fail(s, err, "reading the audit key point");
	s->audit_key_loaded = 1;
	return TIX_OK;
}

static const unsigned char *key_for(const struct store *s, int64_t seq)
{
	return s->audit_keyed_from >= 0 && seq > s->audit_keyed_from ? s->audit_key : NULL;
}

enum tix_err store__audit_key(struct store *s, unsigned char key[32], struct tix_error *err)
{
	enum tix_err e = load_key(s, err);

	if (e == TIX_OK)
		memcpy(key, s->audit_key, HASH_BYTES);
	return e;
}

static enum tix_err write_head(struct store *s, int64_t seq, const unsigned char hash[HASH_BYTES],
                               struct tix_error *err);

/* The head: "SEQ HEXHASH MAC" in meta (MAC under the audit key; stores
 * before it wrote "SEQ HEXHASH"), or seq 0 and a zero hash. *mac_ok says
 * whether the MAC is there and right. */
static enum tix_err read_head_mac(struct store *s, int64_t *seq, unsigned char hash[HASH_BYTES],
                                  int *mac_ok, int lock, struct tix_error *err);

/* lock: an append's, in its write transaction. */
static enum tix_err read_head_locked(struct store *s, int64_t *seq, unsigned char hash[HASH_BYTES],
                                     int lock, struct tix_error *err)
{
	int ok;

	return read_head_mac(s, seq, hash, &ok, lock, err);
}

static enum tix_err read_head(struct store *s, int64_t *seq, unsigned char hash[HASH_BYTES],
                              struct tix_error *err)
{
	return read_head_locked(s, seq, hash, 0, err);
}

/* Migration 7 (after the ownership migration): the
 * chain so far stays as it is, unkeyed, and verifies as before; from the
 * next entry on, entries are keyed. The point and the head get MACs. Runs
 * inside the migration's transaction. */
enum tix_err store__audit_key_point(struct store *s, struct tix_error *err)
{
	unsigned char hash[HASH_BYTES];
	char v[64], mac[33];
	int64_t seq;
	struct db_stmt *st;
	enum tix_err e;

	s->audit_key_loaded = 0;
	if ((e = read_head(s, &seq, hash, err)) != TIX_OK || (e = load_key(s, err)) != TIX_OK)
		return e;
	mac_hex(s->audit_key, "keyed-from", seq, NULL, 0, mac);
	snprintf(v, sizeof(v), "%lld %s", (long long)seq, mac);
	if ((st = store__stmt(s,
	                      "INSERT INTO meta (key, value) VALUES ('audit_keyed_from', ?1)"
	                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                      NULL, err)) == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, v, -1);
	e = db_step(st) == DB_DONE ? TIX_OK : store__fail(s, err, "saving the audit key point");
	db_reset(st);
	s->audit_keyed_from = seq;
	if (e == TIX_OK)
		e = write_head(s, seq, hash, err);
	return e;
}

static enum tix_err read_head_mac(struct store *s, int64_t *seq, unsigned char hash[HASH_BYTES],
                                  int *mac_ok, int lock, struct tix_error *err)
{
	/* An append reads the head and writes the next seq: SQLite's write
	 * transaction has the store to itself (BEGIN IMMEDIATE), PostgreSQL's
	 * (READ COMMITTED) locks the head's row until it commits, so appends
	 * follow one another. FOR UPDATE is PostgreSQL's only (SQLite has no
	 * row locks), hence its own text. The head is always there on
	 * PostgreSQL: migration 7's key point writes it. */
	struct db_stmt *st = store__stmt(
	        s, "SELECT value FROM meta WHERE key = 'audit_head'",
	        lock ? "SELECT value FROM meta WHERE key = 'audit_head' FOR UPDATE" : NULL, err);
	enum db_rc rc;

	*seq = 0;
	*mac_ok = 0;
	memset(hash, 0, HASH_BYTES);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *v = db_column_text(st, 0, NULL);
		char *end = NULL;
		long long n = v ? strtoll(v, &end, 10) : 0;

		/* "SEQ HASH MAC": the sequence number, a space, the hash in hex,
		 * and (since the audit key) a space and the head's MAC */
		size_t rest = v && end ? strlen(end) : 0;

		if (v && end && end != v && n >= 0 && *end == ' ' &&
		    (rest == 1 + 2 * HASH_BYTES || rest == 2 + 2 * HASH_BYTES + 32)) {
			const char *hx = end + 1;

			*seq = n;
			for (int i = 0; i < HASH_BYTES; i++)
				hash[i] = (unsigned char)(tix_hex_value(hx[2 * i]) << 4 |
				                          tix_hex_value(hx[2 * i + 1]));
			if (rest > 1 + 2 * HASH_BYTES && s->audit_key_loaded) {
				char want[33];

				mac_hex(s->audit_key, "head", n, hash, HASH_BYTES, want);
				*mac_ok = sodium_memcmp(hx + 2 * HASH_BYTES + 1, want, 32) == 0;
			}
		}
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store__fail(s, err, "reading the audit head");
	return TIX_OK;
}

/* Answers repeat (sensors poll the same pages; cached answers are served
 * again and again): the queue's writer logs a list of objects it logged
 * recently as "=SEQ", "the objects of entry SEQ", instead of thousands of
 * bytes again. recent maps a digest of the list to the entry holding it. */
#define RECENT 256
struct recent {
	unsigned char digest[16];
	int64_t seq;
};

static enum tix_err append(struct store *s, const struct store_audit_entry *entries, size_t n,
                           struct recent *recent, struct tix_error *err);

enum tix_err store_audit_append(struct store *s, const struct store_audit_entry *entries, size_t n,
                                struct tix_error *err)
{
	return append(s, entries, n, NULL, err);
}

static enum tix_err append(struct store *s, const struct store_audit_entry *entries, size_t n,
                           struct recent *recent, struct tix_error *err)
{
	unsigned char hash[HASH_BYTES];
	int64_t seq;
	int own_tx = !s->in_tx;
	struct db_stmt *st;
	enum tix_err e;

	if (n == 0)
		return TIX_OK;
	if (own_tx && (e = store__write_begin(s, err)) != TIX_OK)
		return e;
	if ((e = load_key(s, err)) != TIX_OK ||
	    (e = read_head_locked(s, &seq, hash, 1, err)) != TIX_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct store_audit_entry ref = entries[i];
		const struct store_audit_entry *a = &entries[i];
		unsigned char dg[16];
		char same[32];

		seq++;
		if (recent && a->objects && strlen(a->objects) > 64) {
			struct recent *r;

			crypto_generichash(dg, sizeof(dg), (const unsigned char *)a->objects,
			                   strlen(a->objects), NULL, 0);
			r = &recent[(dg[0] | dg[1] << 8) % RECENT];
			if (r->seq > 0 && sodium_memcmp(r->digest, dg, sizeof(dg)) == 0) {
				snprintf(same, sizeof(same), "=%lld", (long long)r->seq);
				ref.objects = same;
				a = &ref;
			} else {
				memcpy(r->digest, dg, sizeof(dg));
				r->seq = seq;
			}
		}
		entry_hash(key_for(s, seq), hash, seq, a, hash);
		st = store__stmt(s,
		                 "INSERT INTO audit (seq, at, action, actor, org, objects, detail,"
		                 " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		                 NULL, err);
		if (st == NULL) {
			e = err ? err->code : TIX_ESTORE;
			goto out;
		}
		db_bind_int64(st, 1, seq);
		db_bind_int64(st, 2, a->at);
		db_bind_text(st, 3, a->action ? a->action : "", -1);
		db_bind_text(st, 4, a->actor ? a->actor : "", -1);
		db_bind_text(st, 5, a->org ? a->org : "", -1);
		db_bind_text(st, 6, a->objects ? a->objects : "", -1);
		db_bind_text(st, 7, a->detail ? a->detail : "", -1);
		db_bind_blob(st, 8, hash, HASH_BYTES);
		if (db_step(st) != DB_DONE) {
			e = store__fail(s, err, "appending to the audit log");
			db_reset(st);
			goto out;
		}
		db_reset(st);
	}
	e = write_head(s, seq, hash, err);
out:
	if (own_tx)
		e = store__write_end_audit(s, e, err);
	if (e != TIX_OK && recent)
		memset(recent, 0, RECENT * sizeof(*recent)); /* may name entries not kept */
	return e;
}

static enum tix_err write_head(struct store *s, int64_t seq, const unsigned char hash[HASH_BYTES],
                               struct tix_error *err)
{
	char head[2 * HASH_BYTES + 64], hx[2 * HASH_BYTES + 1], mac[33];
	struct db_stmt *st;
	enum tix_err e = TIX_OK;

	hex(hash, HASH_BYTES, hx);
	mac_hex(s->audit_key, "head", seq, hash, HASH_BYTES, mac);
	snprintf(head, sizeof(head), "%lld %s %s", (long long)seq, hx, mac);
	st = store__stmt(s,
	                 "INSERT INTO meta (key, value) VALUES ('audit_head', ?1)"
	                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                 NULL, err);
	if (st == NULL)
		return err ? err->code : TIX_ESTORE;
	db_bind_text(st, 1, head, -1);
	if (db_step(st) != DB_DONE)
		e = store__fail(s, err, "saving the audit head");
	db_reset(st);
	return e;
}

enum tix_err store_audit_anchor(struct store *s, int64_t *seq, char hash_hex[65],
                                struct tix_error *err)
{
	unsigned char hash[HASH_BYTES];
	enum tix_err e;

	if ((e = load_key(s, err)) != TIX_OK || (e = read_head(s, seq, hash, err)) != TIX_OK)
		return e;
	hex(hash, HASH_BYTES, hash_hex);
	return TIX_OK;
}

/* An entry from a statement selecting seq, at, action, actor, org,
 * objects, detail (in that order); valid until the next step. */
static struct store_audit_entry audit_entry_of(struct db_stmt *st)
{
	struct store_audit_entry a = {
	        db_column_int64(st, 1),      db_column_text(st, 2, NULL),
	        db_column_text(st, 3, NULL), db_column_text(st, 4, NULL),
	        db_column_text(st, 5, NULL), db_column_text(st, 6, NULL),
	};
	return a;
}

enum tix_err store_audit_verify(struct store *s, int64_t *entries, int64_t *bad_seq,
                                struct tix_error *err)
{
	return store_audit_verify_anchor(s, 0, NULL, entries, bad_seq, err);
}

static enum tix_err verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                                  int64_t *entries, int64_t *bad_seq, struct tix_error *err);

/* The head and the log are read in one snapshot: servers appending
 * meanwhile (a hub on PostgreSQL) neither cut nor lengthen the log that
 * is checked against its head. */
enum tix_err store_audit_verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                                       int64_t *entries, int64_t *bad_seq, struct tix_error *err)
{
	int begun = store_read_begin(s);
	enum tix_err e = verify_anchor(s, anchor_seq, anchor_hex, entries, bad_seq, err);

	store_read_end(s, begun);
	return e;
}

static enum tix_err verify_anchor(struct store *s, int64_t anchor_seq, const char *anchor_hex,
                                  int64_t *entries, int64_t *bad_seq, struct tix_error *err)
{
	unsigned char hash[HASH_BYTES] = {0}, head_hash[HASH_BYTES], calc[HASH_BYTES];
	struct db_stmt *st = NULL;
	int64_t expect = 1, head_seq;
	enum tix_err e;
	enum db_rc rc;
	int head_mac = 0, anchor_seen = 0;

	*entries = 0;
	*bad_seq = 0;
	if ((e = load_key(s, err)) != TIX_OK ||
	    (e = read_head_mac(s, &head_seq, head_hash, &head_mac, 0, err)) != TIX_OK)
		return e;
	if (s->audit_keyed_from < 0)
		return tix_error_set(err, TIX_EINVAL, "audit",
		                     "the audit key point is missing or was changed: the chain "
		                     "cannot be trusted");
	if (db_prepare(store__engine(s),
	               "SELECT seq, at, action, actor, org, objects, detail, hash FROM audit"
	               " ORDER BY seq",
	               NULL, &st) != DB_OK)
		return store__fail(s, err, "reading the audit log");
	db_set_paged(st, 1); /* the whole log, a page at a time on PostgreSQL */
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t seq = db_column_int64(st, 0);
		struct store_audit_entry a = audit_entry_of(st);
		size_t stored_len = 0;
		const void *stored = db_column_blob(st, 7, &stored_len);

		if (seq != expect) {
			*bad_seq = expect;
			e = tix_error_set(err, TIX_EINVAL, "audit",
			                  "entry %lld is missing (the next is %lld)",
			                  (long long)expect, (long long)seq);
			goto out;
		}
		entry_hash(key_for(s, seq), hash, seq, &a, calc);
		if (stored == NULL || stored_len != HASH_BYTES ||
		    sodium_memcmp(stored, calc, HASH_BYTES) != 0) {
			*bad_seq = seq;
			e = tix_error_set(
			        err, TIX_EINVAL, "audit",
			        "entry %lld was changed (or an earlier one was): its hash does"
			        " not follow from the chain",
			        (long long)seq);
			goto out;
		}
		memcpy(hash, calc, HASH_BYTES);
		if (anchor_hex && seq == anchor_seq) {
			char hx[2 * HASH_BYTES + 1];

			hex(calc, HASH_BYTES, hx);
			anchor_seen = 1;
			if (strlen(anchor_hex) != 2 * HASH_BYTES ||
			    sodium_memcmp(hx, anchor_hex, 2 * HASH_BYTES) != 0) {
				*bad_seq = seq;
				e = tix_error_set(
				        err, TIX_EINVAL, "audit",
				        "entry %lld is not the anchor given: the chain was "
				        "rewritten at or before it",
				        (long long)seq);
				goto out;
			}
		}
		(*entries)++;
		expect++;
	}
	if (rc != DB_DONE) {
		e = store__fail(s, err, "reading the audit log");
		goto out;
	}
	if (head_seq != expect - 1 || sodium_memcmp(head_hash, hash, HASH_BYTES) != 0) {
		*bad_seq = expect;
		e = tix_error_set(
		        err, TIX_EINVAL, "audit",
		        "the log ends at entry %lld but its head says %lld: entries were cut "
		        "off the end",
		        (long long)(expect - 1), (long long)head_seq);
	} else if (!head_mac) {
		*bad_seq = expect;
		e = tix_error_set(
		        err, TIX_EINVAL, "audit",
		        "the head (entry %lld) does not carry the audit key's MAC: it was "
		        "moved (entries cut off the end) or rewritten",
		        (long long)head_seq);
	} else if (anchor_hex && !anchor_seen) {
		*bad_seq = anchor_seq;
		e = tix_error_set(err, TIX_EINVAL, "audit",
		                  "the chain (%lld entries) does not contain anchor %lld: it was "
		                  "cut or rewritten",
		                  (long long)(expect - 1), (long long)anchor_seq);
	}
out:
	db_finalize(st);
	return e;
}

enum tix_err store_audit_list(struct store *s, const char *object, int64_t since,
                              int (*cb)(void *, int64_t seq, const struct store_audit_entry *),
                              void *arg, struct tix_error *err)
{
	struct db_stmt *st = NULL;
	enum tix_err e = TIX_OK;
	enum db_rc rc;

	/* Two texts: SQLite has instr and char, PostgreSQL strpos and chr, and
	 * neither the other's (a replace() both have would copy every entry's
	 * objects on SQLite). PostgreSQL is told ?1 is text: IS NULL gives it
	 * no type. */
	if (db_prepare(store__engine(s),
	               "SELECT seq, at, action, actor, org, objects, detail FROM audit"
	               " WHERE at >= ?2 AND (?1 IS NULL OR"
	               " instr(objects, char(10) || ?1 || char(10)) > 0 OR objects IN"
	               " (SELECT '=' || seq FROM audit"
	               "  WHERE instr(objects, char(10) || ?1 || char(10)) > 0))"
	               " ORDER BY seq",
	               "SELECT seq, at, action, actor, org, objects, detail FROM audit"
	               " WHERE at >= ?2 AND (CAST(?1 AS TEXT) IS NULL OR"
	               " strpos(objects, chr(10) || ?1 || chr(10)) > 0 OR objects IN"
	               " (SELECT '=' || seq FROM audit"
	               "  WHERE strpos(objects, chr(10) || ?1 || chr(10)) > 0))"
	               " ORDER BY seq",
	               &st) != DB_OK)
		return store__fail(s, err, "reading the audit log");
	db_set_paged(st, 1);
	db_bind_text_or_null(st, 1, object);
	db_bind_int64(st, 2, since);
	while ((rc = db_step(st)) == DB_ROW) {
		struct store_audit_entry a = audit_entry_of(st);

		if (cb(arg, db_column_int64(st, 0), &a) != 0)
			break;
	}
	if (rc != DB_ROW && rc != DB_DONE)
		e = store__fail(s, err, "reading the audit log");
	db_finalize(st);
	return e;
}

/* ---- the ids of a large read, in bounded parts ------------------------------- */

/* The ids of an export or a feed, gathered in parts of per_part ids: the
 * part being filled is in memory, the full ones in a temporary file
 * ("\nid\n...id\n" each), so memory stays
 * bounded however many ids (the file: each part's length as a size_t, then
 * its bytes). Nothing reaches the log before finish, which
 * writes every part as a chained entry in one transaction: a failure at
 * any point leaves no entry claiming a read. */
struct store_audit_ids {
	struct store_audit_entry tmpl; /* strings in tmpl_buf */
	char *tmpl_buf;
	size_t per_part, n, parts_spilled;
	struct tix_buf part;
	FILE *spill;
	int failed; /* an add failed: finish refuses */
};

#define AUDIT_IDS_PER_PART 20000

size_t store_audit_ids_part_size(void)
{
	const char *v = getenv("TIX_AUDIT_PART_IDS");
	char *end = NULL;
	long long n = v ? strtoll(v, &end, 10) : 0;

	return v && end && end != v && *end == '\0' && n > 0 && n <= 100000000 ? (size_t)n
	                                                                       : AUDIT_IDS_PER_PART;
}

static char *dup_into(char **p, const char *s);

struct store_audit_ids *store_audit_ids_new(const struct store_audit_entry *tmpl, size_t per_part,
                                            struct tix_error *err)
{
	struct store_audit_ids *w = calloc(1, sizeof(*w));
	size_t len = strlen(tmpl->action ? tmpl->action : "") +
	             strlen(tmpl->actor ? tmpl->actor : "") + strlen(tmpl->org ? tmpl->org : "") +
	             strlen(tmpl->detail ? tmpl->detail : "") + 5;
	char *p;

	if (w == NULL || (w->tmpl_buf = malloc(len)) == NULL) {
		free(w);
		tix_error_set(err, TIX_ENOMEM, "audit", "out of memory");
		return NULL;
	}
	p = w->tmpl_buf;
	w->tmpl.at = tmpl->at;
	w->tmpl.action = dup_into(&p, tmpl->action);
	w->tmpl.actor = dup_into(&p, tmpl->actor);
	w->tmpl.org = dup_into(&p, tmpl->org);
	w->tmpl.detail = dup_into(&p, tmpl->detail);
	w->tmpl.objects = "";
	w->per_part = per_part ? per_part : store_audit_ids_part_size();
	tix_buf_init(&w->part, TIX_BUF_UNLIMITED);
	return w;
}

/* The part in memory joins the file. */
static enum tix_err spill_part(struct store_audit_ids *w, struct tix_error *err)
{
	size_t len = tix_buf_len(&w->part);

	if (len == 0)
		return TIX_OK;
	if ((w->spill == NULL && (w->spill = tmpfile()) == NULL) ||
	    fwrite(&len, sizeof(len), 1, w->spill) != 1 ||
	    fwrite(tix_buf_str(&w->part), 1, len, w->spill) != len) {
		w->failed = 1;
		return tix_error_set(err, TIX_EIO, "audit",
		                     "cannot keep the ids read for the audit log: %s",
		                     strerror(errno));
	}
	w->parts_spilled++;
	tix_buf_reset(&w->part);
	return TIX_OK;
}

enum tix_err store_audit_ids_add(struct store_audit_ids *w, const char *id, struct tix_error *err)
{
	if (w->failed)
		return tix_error_set(err, TIX_EIO, "audit", "the ids read could not be kept");
	if (strchr(id, '\n'))
		return tix_error_set(err, TIX_EINVAL, "audit", "an id with a line break");
	if (w->n > 0 && w->n % w->per_part == 0 && spill_part(w, err) != TIX_OK)
		return TIX_EIO;
	if ((tix_buf_len(&w->part) == 0 && tix_buf_addc(&w->part, '\n') != TIX_OK) ||
	    tix_buf_adds(&w->part, id) != TIX_OK || tix_buf_addc(&w->part, '\n') != TIX_OK) {
		w->failed = 1;
		return tix_error_set(err, TIX_ENOMEM, "audit", "out of memory");
	}
	w->n++;
	return TIX_OK;
}

size_t store_audit_ids_count(const struct store_audit_ids *w)
{
	return w ? w->n : 0;
}

/* Reads the next spilled part into buf. */
static enum tix_err read_part(struct store_audit_ids *w, struct tix_buf *buf, struct tix_error *err)
{
	size_t len;
	char *space;

	tix_buf_reset(buf);
	if (fread(&len, sizeof(len), 1, w->spill) != 1 || len == 0 ||
	    (space = tix_buf_space(buf, len + 1)) == NULL || fread(space, 1, len, w->spill) != len)
		return tix_error_set(err, TIX_EIO, "audit",
		                     "cannot read back the ids kept for the audit log");
	tix_buf_commit(buf, len);
	return TIX_OK;
}

/* Writes the parts, with recent (the queue's) for "=SEQ" references. */
static enum tix_err ids_finish(struct store *s, struct store_audit_ids *w, struct recent *recent,
                               struct tix_error *err)
{
	size_t nparts = (w->n + w->per_part - 1) / w->per_part;
	struct store_audit_entry ae = w->tmpl;
	struct tix_buf spilled, detail;
	int own_tx = !s->in_tx;
	enum tix_err e = TIX_OK;

	if (w->failed)
		return tix_error_set(err, TIX_EIO, "audit", "the ids read could not be kept");
	if (w->n == 0)
		return TIX_OK;
	if (w->spill && (fflush(w->spill) != 0 || fseek(w->spill, 0, SEEK_SET) != 0))
		return tix_error_set(err, TIX_EIO, "audit",
		                     "cannot read back the ids kept for the audit log: %s",
		                     strerror(errno));
	tix_buf_init(&spilled, TIX_BUF_UNLIMITED);
	tix_buf_init(&detail, 4096);
	if (own_tx) {
		if ((e = store__write_begin(s, err)) != TIX_OK)
			goto out;
		s->in_tx = 1; /* one transaction for every part */
	}
	for (size_t i = 0; i < nparts && e == TIX_OK; i++) {
		if (i < w->parts_spilled) {
			if ((e = read_part(w, &spilled, err)) != TIX_OK)
				break;
			ae.objects = tix_buf_str(&spilled);
		} else {
			ae.objects = tix_buf_str(&w->part);
		}
		if (nparts > 1) {
			tix_buf_reset(&detail);
			tix_buf_addf(&detail, "%s (part %zu of %zu)", w->tmpl.detail, i + 1,
			             nparts);
			ae.detail = tix_buf_str(&detail);
		}
		e = append(s, &ae, 1, recent, err);
	}
	if (own_tx) {
		s->in_tx = 0;
		e = store__write_end_audit(s, e, err);
	}
out:
	if (e != TIX_OK && recent)
		memset(recent, 0, RECENT * sizeof(*recent)); /* may name entries not kept */
	tix_buf_release(&spilled);
	tix_buf_release(&detail);
	return e;
}

enum tix_err store_audit_ids_finish(struct store *s, struct store_audit_ids *w,
                                    struct tix_error *err)
{
	return ids_finish(s, w, NULL, err);
}

void store_audit_ids_free(struct store_audit_ids *w)
{
	if (w == NULL)
		return;
	if (w->spill)
		fclose(w->spill);
	tix_buf_release(&w->part);
	free(w->tmpl_buf);
	free(w);
}

/* ---- anchors from peers ------------------------------------------------------ */

static enum tix_err step_done(struct store *s, struct db_stmt *st, const char *what,
                              struct tix_error *err)
{
	enum tix_err e = db_step(st) == DB_DONE ? TIX_OK : store__fail(s, err, what);

	db_reset(st);
	return e;
}

enum tix_err store_peer_anchor_put(struct store *s, const char *peer, const char *anchor,
                                   int64_t now_us, int *problem, struct tix_error *err)
{
	char msg[400] = "", *end = NULL;
	long long seq = strtoll(anchor, &end, 10);
	const char *hx = end && *end == ':' ? end + 1 : "";
	struct db_stmt *st;
	enum tix_err e;
	int64_t max_seq = -1;

	*problem = 0;
	if (end == anchor || seq < 0 || strlen(hx) != 2 * HASH_BYTES ||
	    strspn(hx, "0123456789abcdef") != 2 * HASH_BYTES)
		return tix_error_set(err, TIX_EINVAL, peer, "'%.100s' is not an audit anchor",
		                     anchor);
	/* Every request of a sync run carries the same anchor: when it is the
	 * newest kept, there is nothing to write (no write lock taken). */
	if ((st = store__stmt(s,
	                      "SELECT 1 FROM peer_anchors WHERE peer = ?1 AND seq = ?2 AND"
	                      " hash = ?3 AND seq = (SELECT max(seq) FROM peer_anchors"
	                      " WHERE peer = ?1)",
	                      NULL, err)) == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	db_bind_int64(st, 2, seq);
	db_bind_text(st, 3, hx, -1);
	e = db_step(st) == DB_ROW ? TIX_EEXIST : TIX_OK;
	db_reset(st);
	if (e == TIX_EEXIST)
		return TIX_OK;
	if ((e = store__write_begin(s, err)) != TIX_OK)
		return e;
	if ((st = store__stmt(s,
	                      "SELECT max(seq), (SELECT hash FROM peer_anchors WHERE peer = ?1"
	                      " AND seq = ?2) FROM peer_anchors WHERE peer = ?1",
	                      NULL, err)) == NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	db_bind_text(st, 1, peer, -1);
	db_bind_int64(st, 2, seq);
	if (db_step(st) == DB_ROW) {
		const char *same = db_column_text(st, 1, NULL);

		if (db_column_type(st, 0) != DB_NULL)
			max_seq = db_column_int64(st, 0);
		if (same && strcmp(same, hx) != 0)
			snprintf(msg, sizeof(msg),
			         "its audit chain forked: entry %lld was %.16s..., now %.16s...",
			         seq, same, hx);
		else if (seq < max_seq)
			snprintf(msg, sizeof(msg),
			         "its audit chain went backwards: entry %lld after %lld was seen",
			         seq, (long long)max_seq);
	}
	db_reset(st);
	if ((st = store__stmt(s,
	                      "INSERT INTO peer_anchors (peer, seq, hash, received)"
	                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (peer, seq) DO UPDATE"
	                      " SET received = excluded.received",
	                      NULL, err)) == NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	db_bind_text(st, 1, peer, -1);
	db_bind_int64(st, 2, seq);
	db_bind_text(st, 3, hx, -1);
	db_bind_int64(st, 4, now_us);
	if ((e = step_done(s, st, "keeping a peer's anchor", err)) != TIX_OK)
		goto out;
	if ((st = store__stmt(s,
	                      "DELETE FROM peer_anchors WHERE peer = ?1 AND seq NOT IN (SELECT seq"
	                      " FROM peer_anchors WHERE peer = ?1 ORDER BY received DESC, seq DESC"
	                      " LIMIT ?2)",
	                      NULL, err)) == NULL) {
		e = TIX_ESTORE;
		goto out;
	}
	db_bind_text(st, 1, peer, -1);
	db_bind_int64(st, 2, STORE_PEER_ANCHORS);
	if ((e = step_done(s, st, "dropping old anchors", err)) != TIX_OK)
		goto out;
	if (msg[0]) {
		*problem = 1;
		if ((st = store__stmt(s,
		                      "INSERT INTO peer_anchor_problems (peer, problem, at)"
		                      " VALUES (?1, ?2, ?3) ON CONFLICT (peer) DO UPDATE"
		                      " SET problem = excluded.problem, at = excluded.at",
		                      NULL, err)) == NULL) {
			e = TIX_ESTORE;
			goto out;
		}
		db_bind_text(st, 1, peer, -1);
		db_bind_text(st, 2, msg, -1);
		db_bind_int64(st, 3, now_us);
		e = step_done(s, st, "recording a peer's anchor problem", err);
	}
out:
	return store__write_end(s, e, err);
}

/* The text of the first row sql (?1 = peer) gives, into out ("" when none). */
static enum tix_err peer_text(struct store *s, const char *sql, const char *peer, char *out,
                              size_t size, const char *what, struct tix_error *err)
{
	struct db_stmt *st = store__stmt(s, sql, NULL, err);
	enum db_rc rc;

	out[0] = '\0';
	if (st == NULL)
		return TIX_ESTORE;
	db_bind_text(st, 1, peer, -1);
	if ((rc = db_step(st)) == DB_ROW)
		snprintf(out, size, "%s", db_column_text(st, 0, NULL));
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store__fail(s, err, what);
	return TIX_OK;
}

enum tix_err store_peer_anchor_status(struct store *s, const char *peer, char *last, size_t lsize,
                                      char *problem, size_t psize, struct tix_error *err)
{
	enum tix_err e;

	problem[0] = '\0';
	if ((e = peer_text(s,
	                   "SELECT seq || ':' || hash FROM peer_anchors WHERE peer = ?1"
	                   " ORDER BY received DESC, seq DESC LIMIT 1",
	                   peer, last, lsize, "reading a peer's anchors", err)) != TIX_OK)
		return e;
	return peer_text(s, "SELECT problem FROM peer_anchor_problems WHERE peer = ?1", peer,
	                 problem, psize, "reading a peer's anchor problem", err);
}

/* ---- the queue -------------------------------------------------------------- */

#define QUEUE_MAX 4096 /* entries waiting; beyond this, pushing waits */

struct qentry {
	struct store_audit_entry e;
	char *buf;                   /* the strings of e, one allocation */
	struct store_audit_ids *ids; /* or the ids of a large read (e unused) */
};

struct store_audit_queue {
	pthread_mutex_t mu;
	pthread_cond_t wake, room;
	pthread_t thread;
	struct store *s;
	struct qentry *q, *spare; /* filled by pushers; the one the writer last emptied */
	size_t n, cap;
	int stop, failed;
	/* Entries taken, written, and lost to a failed write (under mu); the
	 * difference of the first and the others is the depth GET /metrics shows. */
	uint64_t pushed, logged, lost;
	struct recent recent[RECENT]; /* the writer thread's only */
	/* The writer's connection, shared with store_audit_queue_data_version
	 * under db_mu: the data_version it last showed, and how many times it
	 * moved (commits of others than the writer). */
	pthread_mutex_t db_mu;
	uint64_t seen_dv;
	_Atomic uint64_t data_epoch;
};

static void *writer(void *arg)
{
	struct store_audit_queue *aq = arg;
	struct store_audit_entry *es = malloc(aq->cap * sizeof(*es));
	struct tix_error err;

	pthread_mutex_lock(&aq->mu);
	for (;;) {
		struct qentry *batch;
		size_t n;

		while (aq->n == 0 && !aq->stop)
			pthread_cond_wait(&aq->wake, &aq->mu);
		if (aq->n == 0 && aq->stop)
			break;
		/* Gather for a moment, out of the pushers' way (they signal only
		 * an empty queue): one transaction for many reads. */
		if (!aq->stop && aq->n < aq->cap / 2) {
			struct timespec pause = {0, 50 * 1000000L};

			pthread_mutex_unlock(&aq->mu);
			nanosleep(&pause, NULL);
			pthread_mutex_lock(&aq->mu);
		}
		/* Swap the buffers: pushers fill the other one meanwhile. */
		batch = aq->q;
		n = aq->n;
		aq->q = aq->spare;
		aq->spare = NULL;
		aq->n = 0;
		pthread_cond_broadcast(&aq->room);
		pthread_mutex_unlock(&aq->mu);
		size_t ok = 0, done = 0;

		pthread_mutex_lock(&aq->db_mu);
		/* PostgreSQL stopped or restarted since: connect again (or the
		 * appends below fail and say so). */
		store_reconnect(aq->s, NULL);

		/* runs of plain entries in one append; the ids of a large read
		 * in a transaction of their own */
		while (done < n) {
			size_t k = 0;

			if (batch[done].ids) {
				if (ids_finish(aq->s, batch[done].ids, aq->recent, &err) !=
				    TIX_OK) {
					tix_log_error("audit: the %zu ids of '%s' not logged: %s",
					              batch[done].ids->n,
					              batch[done].ids->tmpl.detail, err.msg);
					aq->failed = 1;
				} else {
					ok++;
				}
				store_audit_ids_free(batch[done].ids);
				done++;
				continue;
			}
			while (done + k < n && batch[done + k].ids == NULL) {
				if (es)
					es[k] = batch[done + k].e;
				k++;
			}
			if (es == NULL) {
				tix_log_error("audit: out of memory: %zu entries not logged", k);
				aq->failed = 1;
			} else if (append(aq->s, es, k, aq->recent, &err) != TIX_OK) {
				tix_log_error("audit: %zu entries not logged: %s", k, err.msg);
				aq->failed = 1;
			} else {
				ok += k;
			}
			done += k;
		}
		pthread_mutex_unlock(&aq->db_mu);
		for (size_t i = 0; i < n; i++) {
			free(batch[i].buf);
			batch[i].buf = NULL;
			batch[i].ids = NULL;
		}
		pthread_mutex_lock(&aq->mu);
		aq->logged += ok;
		aq->lost += n - ok;
		aq->spare = batch;
	}
	pthread_mutex_unlock(&aq->mu);
	free(es);
	return NULL;
}

struct store_audit_queue *store_audit_queue_open(const char *path, struct tix_error *err)
{
	struct store_audit_queue *aq = calloc(1, sizeof(*aq));

	if (aq == NULL) {
		tix_error_set(err, TIX_ENOMEM, "audit", "out of memory");
		return NULL;
	}
	aq->cap = QUEUE_MAX;
	if ((aq->q = calloc(aq->cap, sizeof(*aq->q))) == NULL ||
	    (aq->spare = calloc(aq->cap, sizeof(*aq->q))) == NULL ||
	    (aq->s = store_open(path, NULL, err)) == NULL) {
		free(aq->q);
		free(aq->spare);
		free(aq);
		return NULL;
	}
	pthread_mutex_init(&aq->mu, NULL);
	pthread_mutex_init(&aq->db_mu, NULL);
	aq->seen_dv = store_data_version(aq->s) ^ aq->s->own_commits;
	pthread_cond_init(&aq->wake, NULL);
	pthread_cond_init(&aq->room, NULL);
	if (pthread_create(&aq->thread, NULL, writer, aq) != 0) {
		store_close(aq->s);
		free(aq->q);
		free(aq->spare);
		free(aq);
		tix_error_set(err, TIX_ESTORE, "audit", "cannot start the audit writer");
		return NULL;
	}
	return aq;
}

static char *dup_into(char **p, const char *s)
{
	char *start = *p;
	size_t n = s ? strlen(s) : 0;

	memcpy(start, s ? s : "", n);
	start[n] = '\0';
	*p += n + 1;
	return start;
}

static void enqueue(struct store_audit_queue *aq, const struct qentry *qe);

void store_audit_queue_push(struct store_audit_queue *aq, const struct store_audit_entry *e)
{
	struct qentry q;
	size_t len;
	char *p;

	if (aq == NULL)
		return;
	len = strlen(e->action ? e->action : "") + strlen(e->actor ? e->actor : "") +
	      strlen(e->org ? e->org : "") + strlen(e->objects ? e->objects : "") +
	      strlen(e->detail ? e->detail : "") + 5;
	if ((q.buf = malloc(len)) == NULL) {
		tix_log_error("audit: out of memory: an entry was not logged");
		return;
	}
	p = q.buf;
	q.e.at = e->at;
	q.e.action = dup_into(&p, e->action);
	q.e.actor = dup_into(&p, e->actor);
	q.e.org = dup_into(&p, e->org);
	q.e.objects = dup_into(&p, e->objects);
	q.e.detail = dup_into(&p, e->detail);
	q.ids = NULL;
	enqueue(aq, &q);
}

void store_audit_queue_push_ids(struct store_audit_queue *aq, struct store_audit_ids *w)
{
	struct qentry q = {{0}, NULL, w};
	struct tix_error err;

	if (aq == NULL || w == NULL || w->n == 0) {
		store_audit_ids_free(w);
		return;
	}
	/* once spilled, the rest waits in the file too: queued reads hold
	 * no more than a part each */
	if (w->spill && spill_part(w, &err) != TIX_OK) {
		tix_log_error("audit: the %zu ids of '%s' not logged: %s", w->n, w->tmpl.detail,
		              err.msg);
		store_audit_ids_free(w);
		pthread_mutex_lock(&aq->mu);
		aq->pushed++;
		aq->lost++;
		aq->failed = 1;
		pthread_mutex_unlock(&aq->mu);
		return;
	}
	if (w->spill)
		tix_buf_release(&w->part);
	enqueue(aq, &q);
}

static void enqueue(struct store_audit_queue *aq, const struct qentry *qe)
{
	struct qentry q = *qe;

	pthread_mutex_lock(&aq->mu);
	while (aq->n == aq->cap || aq->q == NULL)
		pthread_cond_wait(&aq->room, &aq->mu);
	aq->q[aq->n++] = q;
	aq->pushed++;
	if (aq->n == 1) /* the writer waits only on an empty queue */
		pthread_cond_signal(&aq->wake);
	pthread_mutex_unlock(&aq->mu);
}

void store_audit_queue_get_stats(struct store_audit_queue *aq, struct store_audit_queue_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (aq == NULL)
		return;
	pthread_mutex_lock(&aq->mu);
	out->pushed = aq->pushed;
	out->logged = aq->logged;
	out->lost = aq->lost;
	out->depth = aq->pushed - aq->logged - aq->lost;
	out->capacity = aq->cap;
	out->failed = aq->failed;
	pthread_mutex_unlock(&aq->mu);
}

void store_audit_queue_close(struct store_audit_queue *aq)
{
	if (aq == NULL)
		return;
	pthread_mutex_lock(&aq->mu);
	aq->stop = 1;
	pthread_cond_signal(&aq->wake);
	pthread_mutex_unlock(&aq->mu);
	pthread_join(aq->thread, NULL);
	store_close(aq->s);
	free(aq->q);
	free(aq->spare);
	pthread_cond_destroy(&aq->wake);
	pthread_cond_destroy(&aq->room);
	pthread_mutex_destroy(&aq->mu);
	pthread_mutex_destroy(&aq->db_mu);
	free(aq);
}

uint64_t store_audit_queue_data_version(struct store_audit_queue *aq, struct store *s)
{
	uint64_t v = store_data_version(s), dv = v ^ s->own_commits;

	if (aq == NULL)
		return v;
	/* s's data_version moved: a commit by another connection, maybe only
	 * the writer's. The writer's own data_version moves for every commit
	 * but its own: if it moved too, the data may have changed. Any commit
	 * s saw was done before this check, so the witness sees it too. After
	 * a commit of s's own, the witness is asked at once, so that commit
	 * moves the number now and not again later. */
	if (dv != s->audit_seen_dv || s->own_commits != s->audit_seen_own || dv == 0) {
		pthread_mutex_lock(&aq->db_mu);
		store_reconnect(aq->s, NULL); /* as the writer does */
		uint64_t w = store_data_version(aq->s) ^ aq->s->own_commits;

		if (w != aq->seen_dv) {
			aq->seen_dv = w;
			aq->data_epoch++;
		}
		pthread_mutex_unlock(&aq->db_mu);
		s->audit_seen_dv = dv;
		s->audit_seen_own = s->own_commits;
	}
	return (aq->data_epoch + 1) << 32 ^ s->own_commits;
}
