/* SPDX-License-Identifier: MIT */
/* The audit log's costs, timed in-process with CLOCK_MONOTONIC (medians of
 * runs), each against a baseline measured in the same run:
 *   append DIR N RUNS   N appends (each durable: WAL, synchronous=FULL)
 *                       vs N bare INSERTs of the same rows in a table of
 *                       the same shape, each its own transaction, same
 *                       pragmas: the cost of JCS and the hash chain
 *   verify DIR N RUNS   verifying a log of N entries vs reading its rows
 * A line per figure: "NAME N median_ms baseline_ms".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "isim/audit.h"
#include "isim/hash.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "audit_bench: %s: %s\n", what, msg);
	exit(1);
}

static void rm_db(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static cJSON *record(long i)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "vm", "bench-vm");
	cJSON_AddNumberToObject(r, "i", (double)i);
	cJSON_AddStringToObject(r, "sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	return r;
}

static double time_append(const char *path, long n)
{
	struct isim_audit *a = NULL;
	struct isim_error err;
	double t;

	rm_db(path);
	if (isim_audit_open(path, true, &a, &err) < 0)
		die(path, err.msg);
	t = now_ms();
	for (long i = 0; i < n; i++) {
		cJSON *r = record(i);

		if (isim_audit_append(a, "bench", r, NULL, &err) < 0)
			die(path, err.msg);
		cJSON_Delete(r);
	}
	t = now_ms() - t;
	isim_audit_close(a);
	return t;
}

static double time_insert(const char *path, long n)
{
	const char *rec = "{\"i\":0,\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
			  "\"vm\":\"bench-vm\"}";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	double t;

	rm_db(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			 "CREATE TABLE t (seq INTEGER PRIMARY KEY, at INTEGER, kind TEXT, record TEXT, rs TEXT,"
			 " prev TEXT, hash TEXT)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, 1767225600, 'bench', ?, ?, ?, ?)", -1, &st, NULL) !=
		    SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	t = now_ms();
	for (long i = 0; i < n; i++) {
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_text(st, 2, rec, -1, SQLITE_STATIC);
		for (int c = 3; c <= 5; c++)
			sqlite3_bind_text(st, c, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", -1,
					  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(path, sqlite3_errmsg(db));
		sqlite3_reset(st);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	t = now_ms() - t;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t;
}

/* A log of n entries made fast: the rows an append would write, computed
 * with the same digest, inserted in one transaction. */
static void make_log(const char *path, long n)
{
	struct isim_audit *a = NULL;
	struct isim_audit_entry e = { 0 };
	struct isim_error err;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char rec[256];

	rm_db(path);
	if (isim_audit_open(path, true, &a, &err) < 0)
		die(path, err.msg);
	isim_audit_close(a);
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	memset(e.prev, '0', 64);
	snprintf(e.kind, sizeof(e.kind), "bench");
	e.at = 1767225600;
	for (long i = 1; i <= n; i++) {
		snprintf(rec, sizeof(rec),
			 "{\"i\":%ld,\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
			 "\"vm\":\"bench-vm\"}",
			 i);
		e.seq = i;
		if (isim_sha256_hex(rec, strlen(rec), e.record_sha256) < 0 ||
		    isim_audit_digest(&e, i, e.record_sha256, e.hash, &err) < 0)
			die(path, "digest");
		sqlite3_bind_int64(st, 1, i);
		sqlite3_bind_int64(st, 2, e.at);
		sqlite3_bind_text(st, 3, e.kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, rec, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e.record_sha256, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, e.prev, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e.hash, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die(path, sqlite3_errmsg(db));
		sqlite3_reset(st);
		memcpy(e.prev, e.hash, 65);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static double time_verify(const char *path, long n)
{
	struct isim_audit *a = NULL;
	struct isim_audit_report r;
	struct isim_error err;
	double t;

	if (isim_audit_open(path, false, &a, &err) < 0)
		die(path, err.msg);
	t = now_ms();
	if (isim_audit_verify(a, NULL, NULL, NULL, &r, &err) < 0)
		die(path, err.msg);
	t = now_ms() - t;
	if (!r.ok || r.entries != n)
		die(path, r.ok ? "wrong count" : r.what);
	isim_audit_close(a);
	return t;
}

static double time_scan(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t bytes = 0;
	double t;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT seq, at, kind, record, record_sha256, prev, hash FROM entries ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	t = now_ms();
	while (sqlite3_step(st) == SQLITE_ROW)
		for (int c = 2; c < 7; c++)
			bytes += strlen((const char *)sqlite3_column_text(st, c));
	t = now_ms() - t;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return bytes ? t : t;
}

int main(int argc, char *argv[])
{
	char path[4096], base[4096];
	double v[64], b[64];
	long n;
	int runs;

	if (argc != 5 || (strcmp(argv[1], "append") && strcmp(argv[1], "verify")))
		die("usage", "audit_bench append|verify DIR N RUNS");
	n = atol(argv[3]);
	runs = atoi(argv[4]);
	if (runs < 1 || runs > 64 || n < 1)
		die("usage", "1 to 64 runs, N >= 1");
	snprintf(path, sizeof(path), "%s/audit.db", argv[2]);
	snprintf(base, sizeof(base), "%s/baseline.db", argv[2]);
	if (!strcmp(argv[1], "append")) {
		for (int i = 0; i < runs; i++) {
			v[i] = time_append(path, n);
			b[i] = time_insert(base, n);
		}
	} else {
		make_log(path, n);
		for (int i = 0; i < runs; i++) {
			v[i] = time_verify(path, n);
			b[i] = time_scan(path);
		}
	}
	printf("%s %ld %.3f %.3f\n", argv[1], n, median(v, runs), median(b, runs));
	rm_db(path);
	rm_db(base);
	return 0;
}
