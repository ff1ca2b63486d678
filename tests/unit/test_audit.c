/* SPDX-License-Identifier: MIT */
/* The audit log: appends that chain, finds by record, triggers that refuse
 * rewrites, checkpoints, the export line, and verification naming each
 * kind of tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "isim/audit.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/jcs.h"
#include "isim/json.h"
#include "testutil.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static struct isim_ms_seckey *key(uint8_t first)
{
	uint8_t seed[crypto_sign_SEEDBYTES], keyid[ISIM_MS_KEYID_BYTES];
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;

	memset(seed, first, sizeof(seed));
	memset(keyid, first, sizeof(keyid));
	assert_int_equal(isim_ms_seckey_from_seed(seed, keyid, &sk, &err), 0);
	return sk;
}

/* Trusts the one key in ctx. */
static int lookup(void *ctx, const uint8_t keyid[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		  struct isim_error *err)
{
	const struct isim_ms_seckey *sk = ctx;

	if (memcmp(keyid, sk->keyid, ISIM_MS_KEYID_BYTES))
		return isim_error_set(err, ISIM_ERR_REFUSED, "key is not a trusted signer");
	memcpy(pk, sk->sk + 32, 32);
	return 0;
}

static cJSON *rec(const char *json)
{
	struct isim_error err;
	cJSON *doc = NULL;

	if (isim_json_parse(json, strlen(json), "test", &doc, &err) < 0)
		fail_msg("%s: %s", json, err.msg);
	return doc;
}

static struct isim_audit *open_log(const char *dir, char *path, size_t size)
{
	struct isim_audit *a = NULL;
	struct isim_error err;

	assert_int_equal(isim_audit_path(dir, path, size, &err), 0);
	if (isim_audit_open(path, true, &a, &err) < 0)
		fail_msg("open %s: %s", path, err.msg);
	return a;
}

static void add(struct isim_audit *a, const char *kind, const char *json, struct isim_audit_entry *out)
{
	struct isim_error err;
	cJSON *r = rec(json);

	if (isim_audit_append(a, kind, r, out, &err) < 0)
		fail_msg("append: %s", err.msg);
	cJSON_Delete(r);
}

static void fill(struct isim_audit *a, int n)
{
	char json[64];

	for (int i = 0; i < n; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i + 1);
		add(a, "test", json, NULL);
	}
}

/* Run SQL on the file, as someone with the sqlite3 shell would. */
static void tamper(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static const char *const untrigger = "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;";

/* Verify path: the finding's seq (0 when ok), its sentence in what. */
static int64_t verify(const char *path, const struct isim_ms_seckey *sk, const struct isim_audit_entry *anchor,
		      char *what, size_t size)
{
	struct isim_audit *a = NULL;
	struct isim_audit_report r;
	struct isim_error err;

	if (isim_audit_open(path, false, &a, &err) < 0)
		fail_msg("open: %s", err.msg);
	if (isim_audit_verify(a, anchor, lookup, (void *)sk, &r, &err) < 0)
		fail_msg("verify: %s", err.msg);
	isim_audit_close(a);
	if (what)
		snprintf(what, size, "%s", r.what);
	return r.ok ? 0 : r.seq;
}

static void test_path(void **state)
{
	char path[256];
	struct isim_error err;

	(void)state;
	assert_int_equal(isim_audit_path("/x", path, sizeof(path), &err), 0);
	assert_string_equal(path, "/x/audit.db");
	setenv("ISIM_STATE_DIR", "/env", 1);
	assert_int_equal(isim_audit_path(NULL, path, sizeof(path), &err), 0);
	assert_string_equal(path, "/env/audit.db");
	setenv("ISIM_STATE_DIR", "", 1);
	assert_int_equal(isim_audit_path(NULL, path, sizeof(path), &err), 0);
	assert_string_equal(path, "/var/lib/infrasim/audit.db");
	unsetenv("ISIM_STATE_DIR");
	assert_int_equal(isim_audit_path("/x", path, 8, &err), -1);
}

static void test_open(void **state)
{
	char path[4200], dir[4200];
	struct isim_audit *a = NULL;
	struct isim_error err;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/deep/state", (char *)*state);
	assert_int_equal(isim_audit_path(dir, path, sizeof(path), &err), 0);
	assert_int_equal(isim_audit_open(path, false, &a, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_null(a);
	assert_int_equal(isim_audit_open(path, true, &a, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	isim_audit_close(a);
	/* Not a database. */
	assert_int_equal(isim_file_write_atomic(path, "garbage garbage garbage garbage", 31, 0600, &err), 0);
	unlink(strcat(strcpy(dir, path), "-wal"));
	unlink(strcat(strcpy(dir, path), "-shm"));
	assert_int_equal(isim_audit_open(path, false, &a, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
}

static void test_append_chain(void **state)
{
	char path[4200], h[65], rs[65];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_audit_entry e1, e2, g;
	struct isim_error err;
	int64_t seq;

	add(a, "memdump", "{\"b\":2,\"a\":[1,2.5,\"\\u00e9\"]}", &e1);
	assert_int_equal(e1.seq, 1);
	assert_string_equal(e1.kind, "memdump");
	assert_string_equal(e1.record, "{\"a\":[1,2.5,\"\xc3\xa9\"],\"b\":2}");
	assert_string_equal(e1.prev, ZEROS);
	assert_int_equal(isim_sha256_hex(e1.record, strlen(e1.record), rs), 0);
	assert_string_equal(e1.record_sha256, rs);
	assert_int_equal(isim_audit_digest(&e1, 1, rs, h, &err), 0);
	assert_string_equal(e1.hash, h);
	add(a, "memdump failed", "{}", &e2);
	assert_int_equal(e2.seq, 2);
	assert_string_equal(e2.prev, e1.hash);
	assert_int_equal(isim_audit_head(a, &seq, h, &err), 0);
	assert_int_equal(seq, 2);
	assert_string_equal(h, e2.hash);
	/* Read back as appended. */
	assert_int_equal(isim_audit_get(a, 1, &g, &err), 1);
	assert_string_equal(g.record, e1.record);
	assert_string_equal(g.hash, e1.hash);
	assert_int_equal(g.at, e1.at);
	isim_audit_entry_free(&g);
	assert_int_equal(isim_audit_get(a, 3, &g, &err), 0);
	isim_audit_close(a);
	/* Durable across opening again. */
	a = open_log(*state, path, sizeof(path));
	assert_int_equal(isim_audit_get(a, 2, &g, &err), 1);
	assert_string_equal(g.hash, e2.hash);
	isim_audit_entry_free(&g);
	isim_audit_close(a);
	assert_int_equal(verify(path, NULL, NULL, NULL, 0), 0);
	isim_audit_entry_free(&e1);
	isim_audit_entry_free(&e2);
}

/* The hash is the SHA-256 of this exact text (isim-formats(5)). */
static void test_digest_form(void **state)
{
	struct isim_audit_entry e = { .seq = 7, .at = 1767225600 };
	const char *form = "{\"at\":1767225600,\"kind\":\"a \\\"b\\\"\",\"prev\":\"" ZEROS
			   "\",\"record_sha256\":\"" ZEROS "\",\"seq\":7}";
	char want[65], got[65];
	struct isim_error err;

	(void)state;
	snprintf(e.kind, sizeof(e.kind), "a \"b\"");
	memcpy(e.prev, ZEROS, 65);
	assert_int_equal(isim_sha256_hex(form, strlen(form), want), 0);
	assert_int_equal(isim_audit_digest(&e, 7, ZEROS, got, &err), 0);
	assert_string_equal(got, want);
}

static void test_append_refuses(void **state)
{
	char path[4200], kind[80];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_audit_entry e;
	struct isim_error err;
	cJSON *arr = rec("[1]"), *ok = rec("{}"), *nan = cJSON_CreateObject();
	int64_t seq;
	char h[65];

	assert_int_equal(isim_audit_append(a, "x", arr, &e, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(isim_audit_append(a, "", ok, &e, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_audit_append(a, " x", ok, &e, &err), -1);
	assert_int_equal(isim_audit_append(a, "x\n", ok, &e, &err), -1);
	memset(kind, 'k', 64);
	kind[64] = '\0';
	assert_int_equal(isim_audit_append(a, kind, ok, &e, &err), -1);
	kind[63] = '\0';
	assert_int_equal(isim_audit_append(a, kind, ok, NULL, &err), 0);
	cJSON_AddNumberToObject(nan, "x", 0.0 / 0.0);
	assert_int_equal(isim_audit_append(a, "x", nan, &e, &err), -1);
	assert_int_equal(isim_audit_head(a, &seq, h, &err), 0);
	assert_int_equal(seq, 1);
	cJSON_Delete(arr);
	cJSON_Delete(ok);
	cJSON_Delete(nan);
	isim_audit_close(a);
}

static void test_find_record(void **state)
{
	char path[4200], upper[65];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_audit_entry e, f;
	struct isim_error err;

	fill(a, 3);
	add(a, "memdump", "{\"sha256\":\"ab\"}", &e);
	add(a, "memdump", "{\"sha256\":\"ab\"}", NULL); /* the same record again */
	assert_int_equal(isim_audit_find_record(a, e.record_sha256, &f, &err), 1);
	assert_int_equal(f.seq, 4); /* the first */
	assert_string_equal(f.record, e.record);
	isim_audit_entry_free(&f);
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(e.record_sha256[i] >= 'a' && e.record_sha256[i] <= 'f' ? e.record_sha256[i] - 32
											 : e.record_sha256[i]);
	assert_int_equal(isim_audit_find_record(a, upper, &f, &err), 1);
	isim_audit_entry_free(&f);
	assert_int_equal(isim_audit_find_record(a, ZEROS, &f, &err), 0);
	assert_int_equal(isim_audit_find_record(a, "abc", &f, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	upper[5] = 'g';
	assert_int_equal(isim_audit_find_record(a, upper, &f, &err), -1);
	isim_audit_entry_free(&e);
	isim_audit_close(a);
}

static void test_triggers(void **state)
{
	char path[4200];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	sqlite3 *db = NULL;
	char *msg = NULL;

	fill(a, 2);
	isim_audit_close(a);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE entries SET kind = 'x' WHERE seq = 1", NULL, NULL, &msg),
			     SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM entries WHERE seq = 2", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	sqlite3_close(db);
	assert_int_equal(verify(path, NULL, NULL, NULL, 0), 0);
}

/* Each kind of change by hand, with the triggers dropped: the first entry
 * that is wrong is named, and how. */
static void test_tamper(void **state)
{
	static const struct {
		const char *sql;
		int64_t seq;
		const char *says;
	} cases[] = {
		{ "UPDATE entries SET record = '{\"n\":99}' WHERE seq = 4", 4, "entry 4 was changed" },
		{ "UPDATE entries SET at = at + 1 WHERE seq = 5", 5, "entry 5 was changed" },
		{ "UPDATE entries SET kind = 'other' WHERE seq = 2", 2, "entry 2 was changed" },
		{ "UPDATE entries SET hash = 'zz' WHERE seq = 3", 3, "entry 3 was changed: its hash is not" },
		{ "DELETE FROM entries WHERE seq = 3", 3, "entry 3 was removed" },
		{ "DELETE FROM entries WHERE seq IN (3, 4, 5)", 3, "entries 3 to 5 were removed" },
		{ "DELETE FROM entries WHERE seq = 1", 1, "entry 1 was removed" },
		{ "UPDATE entries SET seq = -1 WHERE seq = 3; UPDATE entries SET seq = 3 WHERE seq = 4;"
		  "UPDATE entries SET seq = 4 WHERE seq = -1",
		  3, "entries 3 and 4 were swapped" },
		{ "UPDATE entries SET seq = -1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 6;"
		  "UPDATE entries SET seq = 6 WHERE seq = -1",
		  2, "entry 2 holds the entry made as 6: entries were reordered" },
		/* Inserted at 4, the rest renumbered. */
		{ "UPDATE entries SET seq = seq + 100 WHERE seq >= 4; UPDATE entries SET seq = seq - 99 WHERE seq >= "
		  "100;"
		  "INSERT INTO entries VALUES (4, 1, 'test', '{}', 'aa', 'bb', 'cc')",
		  4, "entry 4 was inserted" },
		/* Removed at 3, the rest renumbered. */
		{ "DELETE FROM entries WHERE seq = 3; UPDATE entries SET seq = seq - 1 WHERE seq > 3", 3,
		  "entry 3 was removed and the entries after it renumbered" },
		{ "INSERT INTO entries VALUES (0, 1, 'test', '{}', 'aa', 'bb', 'cc')", 0, "entry 0 was inserted" },
		/* The newest removed: sqlite_sequence remembers. */
		{ "DELETE FROM entries WHERE seq > 4", 5, "entries 5 to 6 are missing" },
		{ "UPDATE entries SET record = CAST(x'00' AS TEXT) WHERE seq = 2", 2, "entry 2 was changed" },
	};
	char path[4200], what[1024], copy[4300];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_error err;
	char *orig = NULL;
	size_t len;

	fill(a, 6);
	isim_audit_close(a);
	assert_int_equal(verify(path, NULL, NULL, what, sizeof(what)), 0);
	tamper(path, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(isim_file_read(path, 1 << 20, &orig, &len, &err), 0);
	snprintf(copy, sizeof(copy), "%s-wal", path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(copy);
		assert_int_equal(isim_file_write_atomic(path, orig, len, 0600, &err), 0);
		tamper(path, untrigger);
		tamper(path, cases[i].sql);
		if (verify(path, NULL, NULL, what, sizeof(what)) != cases[i].seq || !strstr(what, cases[i].says))
			fail_msg("%s: got '%s', expected entry %lld, '%s'", cases[i].sql, what, (long long)cases[i].seq,
				 cases[i].says);
	}
	free(orig);
}

/* A hash recomputed by someone who knows the form: the chain names it. */
static void test_forged(void **state)
{
	char path[4200], what[1024], sql[512], h[65], rs[65];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_audit_entry e;
	struct isim_error err;

	fill(a, 4);
	assert_int_equal(isim_audit_get(a, 2, &e, &err), 1);
	isim_audit_close(a);
	free(e.record);
	e.record = strdup("{\"n\":42}");
	assert_int_equal(isim_sha256_hex(e.record, strlen(e.record), rs), 0);
	assert_int_equal(isim_audit_digest(&e, 2, rs, h, &err), 0);
	snprintf(sql, sizeof(sql),
		 "%s UPDATE entries SET record = '%s', record_sha256 = '%s', hash = '%s' WHERE seq = 2", untrigger,
		 e.record, rs, h);
	tamper(path, sql);
	assert_int_equal(verify(path, NULL, NULL, what, sizeof(what)), 2);
	assert_non_null(strstr(what, "entry 2 was changed, or entry 3 replaced"));
	isim_audit_entry_free(&e);
}

static void test_checkpoint(void **state)
{
	char path[4200], what[1024];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_ms_seckey *sk = key(7), *other = key(8);
	struct isim_audit_entry cp, last;
	struct isim_audit_report r;
	struct isim_error err;
	cJSON *doc;

	fill(a, 3);
	assert_int_equal(isim_audit_checkpoint(a, sk->sk, sk->keyid, &cp, &err), 0);
	assert_int_equal(cp.seq, 4);
	assert_string_equal(cp.kind, "checkpoint");
	assert_int_equal(isim_json_parse(cp.record, strlen(cp.record), NULL, &doc, &err), 0);
	assert_int_equal(cJSON_GetObjectItem(doc, "seq")->valuedouble, 3);
	assert_string_equal(cJSON_GetObjectItem(doc, "hash")->valuestring, cp.prev);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "attestation"), "key_id")->valuestring,
			    "0707070707070707");
	cJSON_Delete(doc);
	fill(a, 2);
	assert_int_equal(isim_audit_verify(a, &cp, lookup, sk, &r, &err), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 6);
	assert_int_equal(r.checkpoints, 1);
	assert_int_equal(r.checkpoint_seq, 4);
	assert_string_equal(r.checkpoint_key, "0707070707070707");
	/* Another signer is refused. */
	assert_int_equal(isim_audit_verify(a, NULL, lookup, other, &r, &err), 0);
	assert_false(r.ok);
	assert_int_equal(r.seq, 4);
	assert_non_null(strstr(r.what, "untrusted"));
	/* No trust at all: cannot check. */
	assert_int_equal(isim_audit_verify(a, NULL, NULL, NULL, &r, &err), -1);
	assert_int_equal(isim_audit_get(a, 6, &last, &err), 1);
	isim_audit_close(a);
	/* The checkpoint and all after it removed, sqlite_sequence reset: the
	 * saved checkpoint shows it. */
	tamper(path, "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq >= 3;"
		     "UPDATE sqlite_sequence SET seq = 2");
	assert_int_equal(verify(path, sk, NULL, what, sizeof(what)), 0);
	assert_int_equal(verify(path, sk, &cp, what, sizeof(what)), 3);
	assert_non_null(strstr(what, "entries 3 to 4 are missing"));
	assert_non_null(strstr(what, "truncated"));
	/* A saved checkpoint that was changed is refused. */
	cp.at++;
	assert_int_equal(verify(path, sk, &cp, what, sizeof(what)), 4);
	assert_non_null(strstr(what, "saved checkpoint"));
	/* A forged checkpoint signature inside the log. */
	isim_audit_entry_free(&cp);
	isim_audit_entry_free(&last);
	isim_ms_seckey_free(sk);
	isim_ms_seckey_free(other);
}

static void test_checkpoint_bad_signature(void **state)
{
	char path[4200], what[1024], sql[2048];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_ms_seckey *sk = key(7);
	struct isim_audit_entry cp;
	struct isim_error err;
	char *p;

	fill(a, 2);
	assert_int_equal(isim_audit_checkpoint(a, sk->sk, sk->keyid, &cp, &err), 0);
	isim_audit_close(a);
	/* Change one base64 character of the signature and recompute the
	 * entry's hashes, as a forger would: the signature then fails. */
	p = strstr(cp.record, "\"signature\":\"") + 13;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(isim_sha256_hex(cp.record, strlen(cp.record), cp.record_sha256), 0);
	assert_int_equal(isim_audit_digest(&cp, cp.seq, cp.record_sha256, cp.hash, &err), 0);
	snprintf(sql, sizeof(sql),
		 "%s UPDATE entries SET record = '%s', record_sha256 = '%s', hash = '%s' WHERE seq = 3", untrigger,
		 cp.record, cp.record_sha256, cp.hash);
	tamper(path, sql);
	assert_int_equal(verify(path, sk, NULL, what, sizeof(what)), 3);
	assert_non_null(strstr(what, "does not verify"));
	isim_audit_entry_free(&cp);
	isim_ms_seckey_free(sk);
}

static int collect(void *ctx, const struct isim_audit_entry *e)
{
	FILE *f = ctx;
	cJSON *o = isim_audit_entry_json(e);

	assert_non_null(o);
	assert_int_equal(isim_json_write_line(f, o), 0);
	cJSON_Delete(o);
	return 0;
}

static void test_export(void **state)
{
	char path[4200], exp[4200];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	struct isim_ms_seckey *sk = key(7);
	struct isim_audit_entry e, back;
	struct isim_audit_report r;
	struct isim_error err;
	cJSON *doc;
	char *line;
	FILE *f;

	fill(a, 3);
	add(a, "note", "{\"text\":\"caf\\u00e9 \\\"x\\\"\",\"big\":1e300,\"neg\":-0.5}", &e);
	assert_int_equal(isim_audit_checkpoint(a, sk->sk, sk->keyid, NULL, &err), 0);
	/* One line parses back to the same entry. */
	doc = isim_audit_entry_json(&e);
	line = isim_json_print(doc, false);
	cJSON_Delete(doc);
	assert_non_null(line);
	assert_int_equal(isim_audit_entry_parse(line, strlen(line), "line", &back, &err), 0);
	assert_int_equal(back.seq, e.seq);
	assert_int_equal(back.at, e.at);
	assert_string_equal(back.kind, e.kind);
	assert_string_equal(back.record, e.record);
	assert_string_equal(back.hash, e.hash);
	isim_audit_entry_free(&back);
	free(line);
	snprintf(exp, sizeof(exp), "%s/export.jsonl", (char *)*state);
	f = fopen(exp, "w+");
	assert_non_null(f);
	assert_int_equal(isim_audit_each(a, 1, NULL, collect, f, &err), 0);
	rewind(f);
	assert_int_equal(isim_audit_verify_export(f, exp, NULL, lookup, sk, &r, &err), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.checkpoints, 1);
	fclose(f);
	isim_audit_entry_free(&e);
	isim_audit_close(a);
	isim_ms_seckey_free(sk);
}

static void test_export_reader(void **state)
{
	static const struct {
		const char *line;
		const char *says;
	} bad[] = {
		{ "[]", "is a JSON object" },
		{ "{}", "'seq' is missing" },
		{ "{\"seq\":0,\"at\":1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\"}",
		  "'seq' is not an integer" },
		{ "{\"seq\":1.5,\"at\":1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\"}",
		  "'seq' is not an integer" },
		{ "{\"seq\":1,\"at\":-1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\"}",
		  "'at' is not an integer" },
		{ "{\"seq\":1,\"at\":1,\"kind\":\"\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\"}",
		  "'kind' is not" },
		{ "{\"seq\":1,\"at\":1,\"kind\":\"k\",\"record\":[],\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\"}",
		  "'record' is not a JSON object" },
		{ "{\"seq\":1,\"at\":1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"" ZEROS "\",\"x\":1}",
		  "unknown member 'x'" },
		{ "{\"seq\":1,\"at\":1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\",\"hash\":\"ABC\"}",
		  "'hash' is not 64" },
		{ "{\"seq\":1,\"at\":1,\"kind\":\"k\",\"record\":{},\"record_sha256\":\"" ZEROS "\",\"prev\":\"" ZEROS
		  "\"}",
		  "'hash' is missing" },
		{ "{\"seq\":1,\"seq\":1}", "duplicate" },
	};
	struct isim_audit_entry e;
	struct isim_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(isim_audit_entry_parse(bad[i].line, strlen(bad[i].line), "x.jsonl", &e, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		if (!strstr(err.msg, bad[i].says))
			fail_msg("%s: '%s', expected '%s'", bad[i].line, err.msg, bad[i].says);
		assert_null(e.record);
	}
}

/* Two processes appending at once: BEGIN IMMEDIATE makes one line. */
static void test_concurrent(void **state)
{
	char path[4200];
	struct isim_audit *a = open_log(*state, path, sizeof(path));
	pid_t pid[2];
	int status, i;
	int64_t seq;
	char h[65];
	struct isim_error err;

	isim_audit_close(a);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			struct isim_audit *c = NULL;
			cJSON *r = rec("{\"from\":\"child\"}");

			if (isim_audit_open(path, false, &c, &err) < 0)
				_exit(2);
			for (int n = 0; n < 150; n++)
				if (isim_audit_append(c, "test", r, NULL, &err) < 0)
					_exit(3);
			isim_audit_close(c);
			cJSON_Delete(r);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	a = open_log(*state, path, sizeof(path));
	assert_int_equal(isim_audit_head(a, &seq, h, &err), 0);
	assert_int_equal(seq, 300);
	isim_audit_close(a);
	assert_int_equal(verify(path, NULL, NULL, NULL, 0), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		T(test_open),
		T(test_append_chain),
		cmocka_unit_test(test_digest_form),
		T(test_append_refuses),
		T(test_find_record),
		T(test_triggers),
		T(test_tamper),
		T(test_forged),
		T(test_checkpoint),
		T(test_checkpoint_bad_signature),
		T(test_export),
		cmocka_unit_test(test_export_reader),
		T(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
