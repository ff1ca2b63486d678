/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "isim/audit.h"
#include "isim/buf.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/jcs.h"
#include "isim/json.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
/* Integers in the canonical forms are JSON numbers: exact up to 2^53. */
#define SAFE_MAX 9007199254740992LL
/* How far from its place verify looks for the number an entry was made
 * with, to tell a moved entry from a changed one. */
#define MOVED_WINDOW 64

/*
 * Version 1. seq is AUTOINCREMENT so that sqlite_sequence keeps the
 * highest number ever given out, which shows the newest entries removed
 * by hand. record_sha256 is derived from record, kept for find_record's
 * index; verify recomputes it.
 */
static const char *const migrations[] = {
	"CREATE TABLE entries ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" record TEXT NOT NULL,"
	" record_sha256 TEXT NOT NULL,"
	" prev TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE INDEX entries_record ON entries(record_sha256);"
	"CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only: entries are never updated'); END;"
	"CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only: entries are never deleted'); END;",
};

static const struct isim_db_schema schema = {
	.name = "audit",
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(migrations[0]),
	.persist_wal = 1,
	.durable_commits = 1,
};

#define COLUMNS "seq, at, kind, record, record_sha256, prev, hash"

struct isim_audit {
	sqlite3 *db;
	sqlite3_stmt *head, *insert, *by_record, *by_seq;
};

int isim_audit_path(const char *state_dir, char *out, size_t size, struct isim_error *err)
{
	const char *env = getenv("ISIM_STATE_DIR");
	const char *dir = state_dir ? state_dir : env && *env ? env : "/var/lib/infrasim";

	return isim_pathf(out, size, err, "%s/" ISIM_AUDIT_DB, dir);
}

bool isim_audit_kind_valid(const char *kind)
{
	size_t i, n = strlen(kind);

	if (n == 0 || n > 63 || kind[0] == ' ' || kind[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++)
		if (kind[i] < 0x20 || kind[i] > 0x7e)
			return false;
	return true;
}

static bool hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static void entry_zero(struct isim_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
}

void isim_audit_entry_free(struct isim_audit_entry *e)
{
	if (!e)
		return;
	free(e->record);
	e->record = NULL;
}

static int oom(struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

int isim_audit_digest(const struct isim_audit_entry *e, int64_t seq, const char *record_sha256, char out[static 65],
		      struct isim_error *err)
{
	struct isim_buf b = { 0 };
	cJSON *o = cJSON_CreateObject();
	int ret = -1;

	/* RFC 8785 sorts the members: at, kind, prev, record_sha256, seq. */
	if (!o || !cJSON_AddNumberToObject(o, "at", (double)e->at) || !cJSON_AddStringToObject(o, "kind", e->kind) ||
	    !cJSON_AddStringToObject(o, "prev", e->prev) ||
	    !cJSON_AddStringToObject(o, "record_sha256", record_sha256) ||
	    !cJSON_AddNumberToObject(o, "seq", (double)seq)) {
		oom(err);
		goto out;
	}
	if (isim_jcs_from_cjson(o, &b, err) < 0)
		goto out;
	if (b.oom || isim_sha256_hex(b.s, b.len, out) < 0) {
		oom(err);
		goto out;
	}
	ret = 0;
out:
	isim_buf_free(&b);
	cJSON_Delete(o);
	return ret;
}

/* ---- opening ---------------------------------------------------------- */

static int exec(sqlite3 *db, const char *sql, const char *what, struct isim_error *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return isim_db_error(db, what, err);
	return 0;
}

int isim_audit_open(const char *path, bool create, struct isim_audit **out, struct isim_error *err)
{
	struct isim_audit *a = NULL;
	char dir[4096];
	const char *slash;
	int r;

	*out = NULL;
	slash = strrchr(path, '/');
	if (create && slash && slash != path) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return isim_error_set(err, ISIM_ERR_DATA, "path too long: %.64s...", path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		r = isim_mkdirs(dir, 0700);
		if (r < 0) {
			isim_error_at(err, dir, 0, 0);
			return isim_error_errno(err, r == -EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, -r,
						"cannot create the state folder");
		}
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return oom(err);
	if (isim_db_open(path, &schema, create, &a->db, err) < 0)
		goto fail;
	/* An append is durable once it returns: in WAL mode, FULL syncs the
	 * log at every commit (NORMAL, isim_db_open's, may lose the last). */
	if (exec(a->db, "PRAGMA synchronous = FULL", "cannot set synchronous", err) < 0)
		goto fail;
	if (isim_db_prepare(a->db, "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1", &a->head, err) < 0 ||
	    isim_db_prepare(a->db, "INSERT INTO entries (" COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)", &a->insert, err) <
		    0 ||
	    isim_db_prepare(a->db, "SELECT " COLUMNS " FROM entries WHERE record_sha256 = ? ORDER BY seq LIMIT 1",
			    &a->by_record, err) < 0 ||
	    isim_db_prepare(a->db, "SELECT " COLUMNS " FROM entries WHERE seq = ?", &a->by_seq, err) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	isim_error_at(err, path, 0, 0);
	isim_audit_close(a);
	return -1;
}

void isim_audit_close(struct isim_audit *a)
{
	if (!a)
		return;
	sqlite3_finalize(a->head);
	sqlite3_finalize(a->insert);
	sqlite3_finalize(a->by_record);
	sqlite3_finalize(a->by_seq);
	isim_db_close(a->db);
	free(a);
}

/* ---- rows ------------------------------------------------------------- */

static bool copy_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *s;
	int n;

	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return false;
	s = sqlite3_column_text(st, col);
	n = sqlite3_column_bytes(st, col);
	if (!s || n < 0 || (size_t)n >= size || strlen((const char *)s) != (size_t)n)
		return false;
	memcpy(dst, s, (size_t)n + 1);
	return true;
}

/* A row into e: 0, 1 with why filled when a column is not as an
 * append writes it (a log edited by hand), -1 on no memory. */
static int row_entry(sqlite3_stmt *st, struct isim_audit_entry *e, char *why, size_t size, struct isim_error *err)
{
	const unsigned char *rec;
	int n;

	entry_zero(e);
	e->seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER || sqlite3_column_int64(st, 1) < 0 ||
	    sqlite3_column_int64(st, 1) > SAFE_MAX) {
		snprintf(why, size, "its time is not a number of seconds");
		return 1;
	}
	e->at = sqlite3_column_int64(st, 1);
	if (!copy_text(st, 2, e->kind, sizeof(e->kind)) || !isim_audit_kind_valid(e->kind)) {
		snprintf(why, size, "its kind is not 1 to 63 printable characters");
		return 1;
	}
	if (!copy_text(st, 4, e->record_sha256, sizeof(e->record_sha256)) || !hex64(e->record_sha256)) {
		snprintf(why, size, "its record_sha256 is not 64 hexadecimal digits");
		return 1;
	}
	if (!copy_text(st, 5, e->prev, sizeof(e->prev)) || !hex64(e->prev)) {
		snprintf(why, size, "its prev is not 64 hexadecimal digits");
		return 1;
	}
	if (!copy_text(st, 6, e->hash, sizeof(e->hash)) || !hex64(e->hash)) {
		snprintf(why, size, "its hash is not 64 hexadecimal digits");
		return 1;
	}
	if (sqlite3_column_type(st, 3) != SQLITE_TEXT) {
		snprintf(why, size, "its record is not text");
		return 1;
	}
	rec = sqlite3_column_text(st, 3);
	n = sqlite3_column_bytes(st, 3);
	if (!rec || strlen((const char *)rec) != (size_t)n) {
		snprintf(why, size, "its record holds a NUL byte");
		return 1;
	}
	e->record = malloc((size_t)n + 1);
	if (!e->record)
		return oom(err);
	memcpy(e->record, rec, (size_t)n + 1);
	return 0;
}

/* A row for a caller that reads the log (not verify): a malformed one is
 * an error naming it. */
static int read_row(sqlite3_stmt *st, struct isim_audit_entry *e, struct isim_error *err)
{
	char why[256];
	int r = row_entry(st, e, why, sizeof(why), err);

	if (r > 0)
		isim_error_set(err, ISIM_ERR_CONFIG, "entry %" PRId64 " is malformed: %s (see isim-memdump log verify)",
			       e->seq, why);
	if (r != 0) {
		isim_audit_entry_free(e);
		return -1;
	}
	return 0;
}

static int head(struct isim_audit *a, int64_t *seq, char hash[static 65], struct isim_error *err)
{
	int rc;

	sqlite3_reset(a->head);
	rc = sqlite3_step(a->head);
	*seq = 0;
	memcpy(hash, ZERO_HASH, 65);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(a->head, 0);
		if (!copy_text(a->head, 1, hash, 65) || !hex64(hash)) {
			sqlite3_reset(a->head);
			return isim_error_set(err, ISIM_ERR_CONFIG,
					      "entry %" PRId64 " is malformed: its hash is not 64 hexadecimal digits",
					      *seq);
		}
		rc = sqlite3_step(a->head);
	}
	sqlite3_reset(a->head);
	if (rc != SQLITE_DONE)
		return isim_db_error(a->db, "cannot read the audit log", err);
	return 0;
}

int isim_audit_head(struct isim_audit *a, int64_t *seq, char hash[static 65], struct isim_error *err)
{
	return head(a, seq, hash, err);
}

/* ---- appending -------------------------------------------------------- */

/* Append an entry whose record is already canonical (text, len), at time
 * at (-1: now). With expect_hash, only onto that head (seq expect_seq):
 * 1 when the head is another. */
static int append_text(struct isim_audit *a, const char *kind, const char *text, size_t len, int64_t at,
		       int64_t expect_seq, const char *expect_hash, struct isim_audit_entry *out,
		       struct isim_error *err)
{
	struct isim_audit_entry e;
	int64_t last;
	int rc;

	entry_zero(&e);
	if (len > ISIM_AUDIT_RECORD_MAX)
		return isim_error_set(err, ISIM_ERR_DATA, "the record is %zu bytes in RFC 8785 form, more than %u", len,
				      ISIM_AUDIT_RECORD_MAX);
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	if (isim_sha256_hex(text, len, e.record_sha256) < 0)
		return oom(err);
	/* BEGIN IMMEDIATE takes the write lock before the head is read, so
	 * that two appenders serialize and the chain stays a line. */
	if (isim_db_begin(a->db, err) < 0)
		return -1;
	if (head(a, &last, e.prev, err) < 0)
		goto fail;
	if (last >= SAFE_MAX) {
		isim_error_set(err, ISIM_ERR_DATA, "the audit log is full");
		goto fail;
	}
	if (expect_hash && (last != expect_seq || strcmp(e.prev, expect_hash))) {
		isim_db_rollback(a->db);
		return 1;
	}
	e.seq = last + 1;
	e.at = at >= 0 ? at : (int64_t)time(NULL);
	if (isim_audit_digest(&e, e.seq, e.record_sha256, e.hash, err) < 0)
		goto fail;
	sqlite3_reset(a->insert);
	sqlite3_clear_bindings(a->insert);
	if (sqlite3_bind_int64(a->insert, 1, e.seq) != SQLITE_OK ||
	    sqlite3_bind_int64(a->insert, 2, e.at) != SQLITE_OK ||
	    sqlite3_bind_text(a->insert, 3, e.kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(a->insert, 4, text, (int)len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(a->insert, 5, e.record_sha256, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(a->insert, 6, e.prev, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(a->insert, 7, e.hash, -1, SQLITE_STATIC) != SQLITE_OK) {
		isim_db_error(a->db, "cannot append to the audit log", err);
		goto fail;
	}
	rc = sqlite3_step(a->insert);
	sqlite3_reset(a->insert);
	sqlite3_clear_bindings(a->insert);
	if (rc != SQLITE_DONE) {
		isim_db_error(a->db, "cannot append to the audit log", err);
		goto fail;
	}
	if (isim_db_commit(a->db, err) < 0)
		return -1;
	if (out) {
		*out = e;
		out->record = malloc(len + 1);
		if (!out->record)
			return oom(err); /* appended all the same */
		memcpy(out->record, text, len);
		out->record[len] = '\0';
	}
	return 0;
fail:
	isim_db_rollback(a->db);
	return -1;
}

int isim_audit_append(struct isim_audit *a, const char *kind, const cJSON *record, struct isim_audit_entry *out,
		      struct isim_error *err)
{
	struct isim_buf b = { 0 };
	int ret;

	if (out)
		entry_zero(out);
	if (!kind || !isim_audit_kind_valid(kind))
		return isim_error_set(err, ISIM_ERR_USAGE, "kind '%.80s' is not 1 to 63 printable characters",
				      kind ? kind : "");
	if (!cJSON_IsObject(record)) {
		isim_error_pointer(err, "");
		return isim_error_set(err, ISIM_ERR_DATA, "an audit record is a JSON object");
	}
	if (isim_jcs_from_cjson(record, &b, err) < 0)
		return -1;
	if (b.oom) {
		isim_buf_free(&b);
		return oom(err);
	}
	ret = append_text(a, kind, b.s, b.len, -1, 0, NULL, out, err);
	isim_buf_free(&b);
	return ret;
}

/* ---- reading ---------------------------------------------------------- */

static int find_one(struct isim_audit *a, sqlite3_stmt *st, struct isim_audit_entry *out, struct isim_error *err)
{
	int rc = sqlite3_step(st), ret;

	if (rc == SQLITE_DONE) {
		ret = 0;
	} else if (rc == SQLITE_ROW) {
		ret = read_row(st, out, err) < 0 ? -1 : 1;
	} else {
		ret = isim_db_error(a->db, "cannot read the audit log", err);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int isim_audit_find_record(struct isim_audit *a, const char *record_sha256, struct isim_audit_entry *out,
			   struct isim_error *err)
{
	char want[65];
	size_t i;

	entry_zero(out);
	if (!record_sha256 || strlen(record_sha256) != 64)
		return isim_error_set(err, ISIM_ERR_USAGE, "a record's SHA-256 is 64 hexadecimal digits");
	for (i = 0; i <= 64; i++)
		want[i] = (char)(record_sha256[i] >= 'A' && record_sha256[i] <= 'F' ? record_sha256[i] + 32
										    : record_sha256[i]);
	if (!hex64(want))
		return isim_error_set(err, ISIM_ERR_USAGE, "a record's SHA-256 is 64 hexadecimal digits");
	if (sqlite3_bind_text(a->by_record, 1, want, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return isim_db_error(a->db, "cannot read the audit log", err);
	return find_one(a, a->by_record, out, err);
}

int isim_audit_get(struct isim_audit *a, int64_t seq, struct isim_audit_entry *out, struct isim_error *err)
{
	entry_zero(out);
	if (sqlite3_bind_int64(a->by_seq, 1, seq) != SQLITE_OK)
		return isim_db_error(a->db, "cannot read the audit log", err);
	return find_one(a, a->by_seq, out, err);
}

int isim_audit_each(struct isim_audit *a, int64_t from, const char *kind,
		    int (*fn)(void *ctx, const struct isim_audit_entry *e), void *ctx, struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	struct isim_audit_entry e;
	int rc, ret = -1;

	if (isim_db_prepare(a->db,
			    kind ? "SELECT " COLUMNS " FROM entries WHERE seq >= ? AND kind = ? ORDER BY seq"
				 : "SELECT " COLUMNS " FROM entries WHERE seq >= ? ORDER BY seq",
			    &st, err) < 0)
		return -1;
	if (sqlite3_bind_int64(st, 1, from) != SQLITE_OK ||
	    (kind && sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC) != SQLITE_OK)) {
		isim_db_error(a->db, "cannot read the audit log", err);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_row(st, &e, err) < 0)
			goto out;
		rc = fn(ctx, &e);
		isim_audit_entry_free(&e);
		if (rc) {
			ret = rc;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(a->db, "cannot read the audit log", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* ---- the export line -------------------------------------------------- */

cJSON *isim_audit_entry_json(const struct isim_audit_entry *e)
{
	cJSON *o = cJSON_CreateObject(), *rec = NULL;
	struct isim_error err;

	if (!o)
		return NULL;
	/* The record as it is stored: an edited one that is no longer JSON
	 * is shown as its text, for verify to name. */
	if (e->record && isim_json_parse(e->record, strlen(e->record), NULL, &rec, &err) < 0)
		rec = cJSON_CreateString(e->record);
	if (!rec || !cJSON_AddNumberToObject(o, "seq", (double)e->seq) ||
	    !cJSON_AddNumberToObject(o, "at", (double)e->at) || !cJSON_AddStringToObject(o, "kind", e->kind) ||
	    !cJSON_AddItemToObject(o, "record", rec)) {
		cJSON_Delete(rec);
		cJSON_Delete(o);
		return NULL;
	}
	if (!cJSON_AddStringToObject(o, "record_sha256", e->record_sha256) ||
	    !cJSON_AddStringToObject(o, "prev", e->prev) || !cJSON_AddStringToObject(o, "hash", e->hash)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int member_int(const cJSON *doc, const char *name, int64_t lo, int64_t *out, struct isim_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	char ptr[32];

	snprintf(ptr, sizeof(ptr), "/%s", name);
	if (!v)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "'%s' is missing", name);
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < (double)lo ||
	    v->valuedouble > (double)SAFE_MAX)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "'%s' is not an integer from %" PRId64 " to 2^53",
					     name, lo);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int member_hex(const cJSON *doc, const char *name, char out[static 65], struct isim_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	char ptr[32];

	snprintf(ptr, sizeof(ptr), "/%s", name);
	if (!v)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "'%s' is missing", name);
	if (!cJSON_IsString(v) || strlen(v->valuestring) != 64 || !hex64(v->valuestring))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr,
					     "'%s' is not 64 lower-case hexadecimal digits (a SHA-256)", name);
	memcpy(out, v->valuestring, 65);
	return 0;
}

int isim_audit_entry_from_json(const cJSON *doc, struct isim_audit_entry *out, struct isim_error *err)
{
	static const char *const names[] = { "seq", "at", "kind", "record", "record_sha256", "prev", "hash" };
	const cJSON *m, *kind, *rec;
	struct isim_buf b = { 0 };
	size_t i;

	entry_zero(out);
	if (!cJSON_IsObject(doc))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "", "an audit log entry is a JSON object");
	cJSON_ArrayForEach (m, doc) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(m->string, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return isim_error_at_pointer(err, ISIM_ERR_DATA, "", "unknown member '%.64s'", m->string);
	}
	if (member_int(doc, "seq", 1, &out->seq, err) < 0 || member_int(doc, "at", 0, &out->at, err) < 0)
		return -1;
	kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	if (!kind)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/kind", "'kind' is missing");
	if (!cJSON_IsString(kind) || !isim_audit_kind_valid(kind->valuestring))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/kind", "'kind' is not 1 to 63 printable characters");
	snprintf(out->kind, sizeof(out->kind), "%s", kind->valuestring);
	if (member_hex(doc, "record_sha256", out->record_sha256, err) < 0 ||
	    member_hex(doc, "prev", out->prev, err) < 0 || member_hex(doc, "hash", out->hash, err) < 0)
		return -1;
	rec = cJSON_GetObjectItemCaseSensitive(doc, "record");
	if (!rec)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/record", "'record' is missing");
	if (!cJSON_IsObject(rec))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/record", "'record' is not a JSON object");
	if (isim_jcs_from_cjson(rec, &b, err) < 0) {
		char inner[sizeof(err->pointer)];

		if (!err)
			return -1;
		snprintf(inner, sizeof(inner), "/record%.*s", (int)(sizeof(inner) - 8), err->pointer);
		isim_error_pointer(err, inner);
		return -1;
	}
	if (b.oom)
		return oom(err);
	out->record = isim_buf_take(&b);
	return 0;
}

int isim_audit_entry_parse(const char *text, size_t len, const char *name, struct isim_audit_entry *out,
			   struct isim_error *err)
{
	cJSON *doc = NULL;
	int ret;

	entry_zero(out);
	if (isim_json_parse(text, len, name, &doc, err) < 0)
		return -1;
	ret = isim_audit_entry_from_json(doc, out, err);
	if (ret < 0 && name)
		isim_error_at(err, name, err->line, err->column);
	cJSON_Delete(doc);
	return ret;
}

/* ---- checkpoints ------------------------------------------------------ */

int isim_audit_checkpoint(struct isim_audit *a, const uint8_t sk[static 64],
			  const uint8_t keyid[static ISIM_MS_KEYID_BYTES], struct isim_audit_entry *out,
			  struct isim_error *err)
{
	struct isim_buf b = { 0 };
	char hash[65];
	cJSON *rec = NULL;
	int64_t seq, at;
	int ret = -1;

	if (out)
		entry_zero(out);
	/* The head is read again inside the append's transaction; a
	 * checkpoint whose head moved meanwhile is made again. */
	for (int tries = 0; tries < 100; tries++) {
		if (head(a, &seq, hash, err) < 0)
			goto out;
		cJSON_Delete(rec);
		rec = cJSON_CreateObject();
		if (!rec || !cJSON_AddNumberToObject(rec, "seq", (double)seq) ||
		    !cJSON_AddStringToObject(rec, "hash", hash) ||
		    !cJSON_AddNumberToObject(rec, "at", (double)(at = (int64_t)time(NULL)))) {
			oom(err);
			goto out;
		}
		/* Signed as node descriptors are: Ed25519 over the RFC 8785
		 * form without "attestation", {"key_id", "signature"} added. */
		if (isim_descriptor_sign(rec, sk, keyid, err) < 0)
			goto out;
		isim_buf_free(&b);
		memset(&b, 0, sizeof(b));
		if (isim_jcs_from_cjson(rec, &b, err) < 0)
			goto out;
		if (b.oom) {
			oom(err);
			goto out;
		}
		ret = append_text(a, ISIM_AUDIT_CHECKPOINT_KIND, b.s, b.len, at, seq, hash, out, err);
		if (ret <= 0)
			goto out;
	}
	isim_error_set(err, ISIM_ERR_IO, "the audit log kept growing; no checkpoint was made");
	ret = -1;
out:
	isim_buf_free(&b);
	cJSON_Delete(rec);
	return ret < 0 ? -1 : 0;
}

/* ---- verification ----------------------------------------------------- */

struct check {
	isim_signer_lookup_fn lookup;
	void *ctx;
	const struct isim_audit_entry *anchor;
	bool anchor_seen;
	int64_t next;  /* the seq the next entry must have */
	char prev[65]; /* and its prev */
	struct isim_audit_report *r;
};

static int finding(struct check *c, int64_t seq, const char *fmt, ...) ISIM_PRINTF(3, 4);
static int finding(struct check *c, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	c->r->ok = false;
	c->r->seq = seq;
	va_start(ap, fmt);
	vsnprintf(c->r->what, sizeof(c->r->what), fmt, ap);
	va_end(ap);
	return 1;
}

static void utc(int64_t at, char *buf, size_t size)
{
	struct tm tm;
	time_t t = (time_t)at;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "@%" PRId64, at);
}

/* Whether e's hash is that of e made as entry seq, its record unchanged. */
static int made_as(const struct isim_audit_entry *e, int64_t seq, bool *yes, struct isim_error *err)
{
	char rs[65], h[65];

	*yes = false;
	if (isim_sha256_hex(e->record, strlen(e->record), rs) < 0)
		return oom(err);
	if (isim_audit_digest(e, seq, rs, h, err) < 0)
		return -1;
	*yes = !strcmp(rs, e->record_sha256) && !strcmp(h, e->hash);
	return 0;
}

/* seq where c->next is due; next_seq the entry after it (-1: none). */
static int check_gap(struct check *c, int64_t seq, int64_t next_seq)
{
	if (seq < c->next && c->next == 1)
		return finding(c, seq, "entry %" PRId64 " was inserted: entries are numbered from 1", seq);
	if (seq < c->next)
		return finding(c, seq, "entry %" PRId64 " is out of order: it comes after entry %" PRId64, seq,
			       c->next - 1);
	if (seq == c->next + 1 && next_seq == c->next)
		return finding(c, c->next, "entries %" PRId64 " and %" PRId64 " were swapped (reordered)", c->next,
			       seq);
	if (seq > c->next && next_seq >= c->next && next_seq < seq)
		return finding(c, c->next,
			       "entry %" PRId64 " is out of order: entry %" PRId64 " comes before it (reordered)",
			       c->next, seq);
	if (seq == c->next + 1)
		return finding(c, c->next, "entry %" PRId64 " was removed: the log goes on at entry %" PRId64, c->next,
			       seq);
	if (seq > c->next)
		return finding(c, c->next,
			       "entries %" PRId64 " to %" PRId64 " were removed: the log goes on at entry %" PRId64,
			       c->next, seq - 1, seq);
	return 0;
}

/* e is not what its hash says: say how, looking at where else it would
 * fit and at the entry after it. */
static int diagnose(struct check *c, const struct isim_audit_entry *e, const struct isim_audit_entry *next,
		    const char *rs, struct isim_error *err)
{
	int64_t s = e->seq, j;
	bool yes = false, next_here = false, next_after = false;
	char h[65];
	int d;

	if (next && made_as(next, s, &next_here, err) < 0)
		return -1;
	/* Made as another entry: moved here. */
	for (d = 1; d <= MOVED_WINDOW; d++) {
		for (int sign = 1; sign >= -1; sign -= 2) {
			j = s + sign * d;
			if (j < 1 || j > SAFE_MAX)
				continue;
			if (made_as(e, j, &yes, err) < 0)
				return -1;
			if (!yes)
				continue;
			if (j == s - 1)
				return finding(c, j,
					       "entry %" PRId64 " was inserted: entry %" PRId64
					       " holds the entry made as %" PRId64,
					       j, s, j);
			if (j < s)
				return finding(c, j,
					       "entries %" PRId64 " to %" PRId64 " were inserted: entry %" PRId64
					       " holds the entry made as %" PRId64,
					       j, s - 1, s, j);
			if (j == s + 1 && next_here)
				return finding(c, s, "entries %" PRId64 " and %" PRId64 " were swapped (reordered)", s,
					       s + 1);
			if (next && made_as(next, j + 1, &next_after, err) < 0)
				return -1;
			if (next_after && j == s + 1)
				return finding(c, s,
					       "entry %" PRId64
					       " was removed and the entries after it renumbered: entry %" PRId64
					       " holds the entry made as %" PRId64,
					       s, s, j);
			if (next_after)
				return finding(c, s,
					       "entries %" PRId64 " to %" PRId64
					       " were removed and the entries after them renumbered: entry %" PRId64
					       " holds the entry made as %" PRId64,
					       s, j - 1, s, j);
			return finding(c, s,
				       "entry %" PRId64 " holds the entry made as %" PRId64 ": entries were reordered",
				       s, j);
		}
	}
	/* Its place taken: the entry after it was made here. */
	if (next_here)
		return finding(c, s,
			       "entry %" PRId64 " was inserted: entry %" PRId64 " holds the entry made as %" PRId64, s,
			       s + 1, s);
	if (strcmp(rs, e->record_sha256)) {
		if (isim_audit_digest(e, s, e->record_sha256, h, err) < 0)
			return -1;
		if (!strcmp(h, e->hash))
			return finding(c, s,
				       "entry %" PRId64 " was changed: its record is not the one its hash covers "
				       "(its SHA-256 is %.12s..., the entry says %.12s...)",
				       s, rs, e->record_sha256);
		return finding(c, s, "entry %" PRId64 " was changed: its record and hash do not match", s);
	}
	return finding(c, s, "entry %" PRId64 " was changed: its hash does not match its contents", s);
}

static const char *text_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool int_of(const cJSON *o, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)SAFE_MAX ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

static bool only_members(const cJSON *o, const char *const *names, size_t n)
{
	const cJSON *m;
	size_t i, count = 0;

	cJSON_ArrayForEach (m, o) {
		for (i = 0; i < n; i++)
			if (!strcmp(m->string, names[i]))
				break;
		if (i == n)
			return false;
		count++;
	}
	return count == n;
}

/* A checkpoint's record (label names it in findings): 0 when it states
 * the head before e and a trusted signer signed it. */
static int check_checkpoint(struct check *c, const struct isim_audit_entry *e, const char *label, bool count,
			    struct isim_error *err)
{
	static const char *const top[] = { "seq", "hash", "at", "attestation" };
	static const char *const att_names[] = { "key_id", "signature" };
	const cJSON *att;
	const char *id, *sig64, *hash, *end;
	uint8_t keyid[ISIM_MS_KEYID_BYTES], pk[32], sig[crypto_sign_BYTES];
	char key_hex[ISIM_MS_KEYID_HEX];
	struct isim_buf payload = { 0 };
	struct isim_error why;
	cJSON *rec = NULL;
	int64_t seq, at;
	size_t siglen;
	int ret = -1, ok;

	isim_error_clear(&why);
	if (isim_json_parse(e->record, strlen(e->record), NULL, &rec, &why) < 0 || !cJSON_IsObject(rec) ||
	    !only_members(rec, top, 4)) {
		ret = finding(c, e->seq,
			      "%s is not a checkpoint: its record is not {\"seq\", \"hash\", \"at\", \"attestation\"}",
			      label);
		goto out;
	}
	att = cJSON_GetObjectItemCaseSensitive(rec, "attestation");
	hash = text_of(rec, "hash");
	if (!int_of(rec, "seq", &seq) || !int_of(rec, "at", &at) || !hash || !cJSON_IsObject(att) ||
	    !only_members(att, att_names, 2)) {
		ret = finding(c, e->seq, "%s is not a checkpoint: its record's members are not of their types", label);
		goto out;
	}
	if (seq != e->seq - 1 || strcmp(hash, e->prev)) {
		ret = finding(c, e->seq,
			      "%s states entry %" PRId64 " as the head, not the entry before it (%" PRId64 ")", label,
			      seq, e->seq - 1);
		goto out;
	}
	if (at != e->at) {
		ret = finding(c, e->seq, "%s: its record's time is not the entry's", label);
		goto out;
	}
	id = text_of(att, "key_id");
	sig64 = text_of(att, "signature");
	if (!id || !isim_ms_keyid_parse(id, keyid)) {
		ret = finding(c, e->seq, "%s: its key_id is not 16 hexadecimal digits", label);
		goto out;
	}
	isim_ms_keyid_hex(keyid, key_hex);
	if (!sig64 ||
	    sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &siglen, &end,
			      sodium_base64_VARIANT_ORIGINAL) < 0 ||
	    *end || siglen != sizeof(sig)) {
		ret = finding(c, e->seq, "%s: its signature is not the base64 text of 64 bytes", label);
		goto out;
	}
	if (!c->lookup) {
		ret = isim_error_set(err, ISIM_ERR_USAGE, "%s is signed, and no trusted signers were given", label);
		goto out;
	}
	if (c->lookup(c->ctx, keyid, pk, &why) < 0) {
		if (why.kind != ISIM_ERR_REFUSED) {
			if (err)
				*err = why;
			goto out;
		}
		ret = finding(c, e->seq, "%s is signed by an untrusted key: %s", label, why.msg);
		goto out;
	}
	if (isim_descriptor_payload(rec, &payload, err) < 0)
		goto out;
	if (payload.oom) {
		oom(err);
		goto out;
	}
	ok = crypto_sign_verify_detached(sig, (const uint8_t *)payload.s, payload.len, pk) == 0;
	if (!ok) {
		ret = finding(c, e->seq, "%s: its signature by %s does not verify", label, key_hex);
		goto out;
	}
	if (count) {
		c->r->checkpoints++;
		c->r->checkpoint_seq = e->seq;
		c->r->checkpoint_at = e->at;
		memcpy(c->r->checkpoint_key, key_hex, sizeof(key_hex));
	}
	ret = 0;
out:
	isim_buf_free(&payload);
	cJSON_Delete(rec);
	return ret;
}

/* One entry, with the one after it (NULL at the end): 0 when it holds,
 * 1 with the finding in the report, -1 with err. */
static int check_entry(struct check *c, const struct isim_audit_entry *e, const struct isim_audit_entry *next,
		       struct isim_error *err)
{
	char rs[65], h[65], label[64];
	int r;

	if ((r = check_gap(c, e->seq, next ? next->seq : -1)))
		return r;
	if (isim_sha256_hex(e->record, strlen(e->record), rs) < 0)
		return oom(err);
	if (isim_audit_digest(e, e->seq, rs, h, err) < 0)
		return -1;
	if (strcmp(rs, e->record_sha256) || strcmp(h, e->hash))
		return diagnose(c, e, next, rs, err);
	if (strcmp(e->prev, c->prev)) {
		if (e->seq == 1)
			return finding(c, 1, "entry 1 was changed: its prev is not 64 zeros");
		return finding(c, e->seq - 1,
			       "entry %" PRId64 " was changed, or entry %" PRId64
			       " replaced: the prev of entry %" PRId64 " is not the hash of entry %" PRId64,
			       e->seq - 1, e->seq, e->seq, e->seq - 1);
	}
	if (!strcmp(e->kind, ISIM_AUDIT_CHECKPOINT_KIND)) {
		snprintf(label, sizeof(label), "entry %" PRId64 " (a checkpoint)", e->seq);
		if ((r = check_checkpoint(c, e, label, true, err)))
			return r;
	}
	if (c->anchor && e->seq == c->anchor->seq) {
		if (strcmp(e->hash, c->anchor->hash))
			return finding(c, e->seq,
				       "entry %" PRId64 " is not the one the saved checkpoint holds: the log was "
				       "rewritten from there",
				       e->seq);
		c->anchor_seen = true;
	}
	c->next = e->seq + 1;
	memcpy(c->prev, e->hash, sizeof(c->prev));
	c->r->entries++;
	c->r->head_seq = e->seq;
	memcpy(c->r->head_hash, e->hash, sizeof(c->r->head_hash));
	return 0;
}

static int check_begin(struct check *c, const struct isim_audit_entry *anchor, isim_signer_lookup_fn lookup, void *ctx,
		       struct isim_audit_report *r, struct isim_error *err)
{
	char label[96];
	bool yes;

	memset(r, 0, sizeof(*r));
	memcpy(r->head_hash, ZERO_HASH, 65);
	r->ok = true;
	memset(c, 0, sizeof(*c));
	c->lookup = lookup;
	c->ctx = ctx;
	c->anchor = anchor;
	c->next = 1;
	c->r = r;
	memcpy(c->prev, ZERO_HASH, 65);
	if (!anchor)
		return 0;
	snprintf(label, sizeof(label), "the saved checkpoint (entry %" PRId64 ")", anchor->seq);
	if (strcmp(anchor->kind, ISIM_AUDIT_CHECKPOINT_KIND))
		return finding(c, anchor->seq, "%s is of kind '%s', not a checkpoint", label, anchor->kind);
	if (made_as(anchor, anchor->seq, &yes, err) < 0)
		return -1;
	if (!yes)
		return finding(c, anchor->seq, "%s was changed: its hash does not match its contents", label);
	return check_checkpoint(c, anchor, label, false, err);
}

/* "entry 5 is" or "entries 5 to 7 are", into buf. */
static const char *missing(int64_t from, int64_t to, char *buf, size_t size)
{
	if (from == to)
		snprintf(buf, size, "entry %" PRId64 " is", from);
	else
		snprintf(buf, size, "entries %" PRId64 " to %" PRId64 " are", from, to);
	return buf;
}

static int check_end(struct check *c, int64_t highest)
{
	char when[32], which[64];
	int64_t last = c->r->head_seq;

	if (c->anchor && !c->anchor_seen && last < c->anchor->seq) {
		utc(c->anchor->at, when, sizeof(when));
		return finding(c, last + 1,
			       "%s missing: the log ends at entry %" PRId64
			       ", yet it held the checkpoint of %s, entry %" PRId64 " (truncated)",
			       missing(last + 1, c->anchor->seq, which, sizeof(which)), last, when, c->anchor->seq);
	}
	if (highest > last)
		return finding(c, last + 1,
			       "%s missing: the log ends at entry %" PRId64 ", yet it once reached entry %" PRId64
			       " (truncated)",
			       missing(last + 1, highest, which, sizeof(which)), last, highest);
	return 0;
}

int isim_audit_verify(struct isim_audit *a, const struct isim_audit_entry *anchor, isim_signer_lookup_fn lookup,
		      void *ctx, struct isim_audit_report *report, struct isim_error *err)
{
	struct slot {
		struct isim_audit_entry e;
		int64_t seq;
		int bad;
		char why[256];
	} slots[2];
	struct slot *cur = &slots[0], *nxt = &slots[1], *t;
	sqlite3_stmt *st = NULL;
	struct check c;
	bool have = false;
	int64_t highest = 0;
	int rc, r = 0, ret = -1;

	memset(slots, 0, sizeof(slots));
	if ((r = check_begin(&c, anchor, lookup, ctx, report, err)))
		return r < 0 ? -1 : 0;
	if (isim_db_prepare(a->db, "SELECT " COLUMNS " FROM entries ORDER BY seq", &st, err) < 0)
		return -1;
	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			isim_db_error(a->db, "cannot read the audit log", err);
			goto out;
		}
		if (rc == SQLITE_ROW) {
			isim_audit_entry_free(&nxt->e);
			nxt->bad = row_entry(st, &nxt->e, nxt->why, sizeof(nxt->why), err);
			nxt->seq = sqlite3_column_int64(st, 0);
			if (nxt->bad < 0)
				goto out;
		}
		if (have) {
			if (cur->bad) {
				bool moved = false;

				r = check_gap(&c, cur->seq, rc == SQLITE_ROW ? nxt->seq : -1);
				if (!r && rc == SQLITE_ROW && !nxt->bad && made_as(&nxt->e, cur->seq, &moved, err) < 0)
					r = -1;
				if (!r && moved)
					r = finding(&c, cur->seq,
						    "entry %" PRId64 " was inserted: entry %" PRId64
						    " holds the entry made as %" PRId64,
						    cur->seq, nxt->seq, cur->seq);
				if (!r)
					r = finding(&c, cur->seq, "entry %" PRId64 " was changed: %s", cur->seq,
						    cur->why);
			} else {
				r = check_entry(&c, &cur->e, rc == SQLITE_ROW && !nxt->bad ? &nxt->e : NULL, err);
			}
			if (r)
				break;
		}
		if (rc == SQLITE_DONE)
			break;
		t = cur;
		cur = nxt;
		nxt = t;
		have = true;
	}
	if (r < 0)
		goto out;
	if (r == 0) {
		sqlite3_finalize(st);
		st = NULL;
		/* The highest number ever given out (AUTOINCREMENT). */
		if (isim_db_prepare(a->db, "SELECT seq FROM sqlite_sequence WHERE name = 'entries'", &st, err) < 0)
			goto out;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			highest = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE) {
			isim_db_error(a->db, "cannot read the audit log", err);
			goto out;
		}
		check_end(&c, highest);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	isim_audit_entry_free(&slots[0].e);
	isim_audit_entry_free(&slots[1].e);
	return ret;
}

int isim_audit_verify_export(FILE *f, const char *name, const struct isim_audit_entry *anchor,
			     isim_signer_lookup_fn lookup, void *ctx, struct isim_audit_report *report,
			     struct isim_error *err)
{
	struct isim_audit_entry slots[2], *cur = &slots[0], *nxt = &slots[1], *t;
	struct isim_jsonl rd;
	struct check c;
	cJSON *doc = NULL;
	bool have = false;
	int got, r = 0, ret = -1;

	memset(slots, 0, sizeof(slots));
	if ((r = check_begin(&c, anchor, lookup, ctx, report, err)))
		return r < 0 ? -1 : 0;
	isim_jsonl_init(&rd, f, name);
	for (;;) {
		got = isim_jsonl_next(&rd, &doc, err);
		if (got < 0)
			goto out;
		if (got > 0) {
			isim_audit_entry_free(nxt);
			r = isim_audit_entry_from_json(doc, nxt, err);
			cJSON_Delete(doc);
			doc = NULL;
			if (r < 0) {
				isim_error_at(err, name, rd.line, 0);
				goto out;
			}
		}
		if (have && (r = check_entry(&c, cur, got > 0 ? nxt : NULL, err)))
			break;
		if (got == 0)
			break;
		t = cur;
		cur = nxt;
		nxt = t;
		have = true;
	}
	if (r < 0)
		goto out;
	if (r == 0)
		check_end(&c, 0);
	ret = 0;
out:
	isim_jsonl_free(&rd);
	isim_audit_entry_free(&slots[0]);
	isim_audit_entry_free(&slots[1]);
	return ret;
}
