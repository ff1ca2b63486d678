/* SPDX-License-Identifier: MIT */
/* The passkey benchmark's two halves, each timed in one process:
 *
 *   passkey_parts parts N DB ASSERTION.json COSE_KEY
 *       the bare cost of a login's parts, N times: SHA-256 of
 *       clientDataJSON, one OpenSSL ECDSA verify of the signature, one
 *       SQLite read and one write (a transaction) on DB
 *   passkey_parts login FILE...
 *       the relying party's login-verify (pk_login_verify) on each FILE
 *       (each an answer to a fresh challenge), on one open state, as a
 *       server that keeps its databases open runs it: the text parsed,
 *       the ceremony verified, taken, recorded in passkey.db and appended
 *       to the audit log (durably), and the reply formatted
 *
 * Each prints the median microseconds of one iteration on stdout. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "isim-passkey/passkey.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/json.h"
#include "isim/webauthn.h"

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t *field(const cJSON *resp, const char *name, size_t *n)
{
	uint8_t *p = NULL;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(resp, name);

	if (!cJSON_IsString(it) || !isim_wa_b64url_decode(it->valuestring, 1 << 16, &p, n)) {
		fprintf(stderr, "passkey_parts: no %s\n", name);
		exit(1);
	}
	return p;
}

static int parts(long n, const char *db_path, const char *file, const char *key_b64)
{
	struct isim_error err;
	struct isim_wa_status st;
	struct isim_wa_key key;
	cJSON *doc = NULL;
	const cJSON *resp;
	uint8_t *cd, *ad, *sig, *id, *msg;
	size_t cdn, adn, sign, idn;
	sqlite3 *db;
	sqlite3_stmt *rd, *wr;
	double *t = calloc((size_t)n, sizeof(double));
	long i;

	isim_error_clear(&err);
	if (!t || isim_json_load_file(file, &doc, &err) < 0 || !pk_key_parse(key_b64, &key, &st))
		return 1;
	resp = cJSON_GetObjectItemCaseSensitive(doc, "response");
	cd = field(resp, "clientDataJSON", &cdn);
	ad = field(resp, "authenticatorData", &adn);
	sig = field(resp, "signature", &sign);
	id = field(doc, "rawId", &idn);
	msg = malloc(adn + 32);
	if (!msg || sqlite3_open(db_path, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT sign_count FROM credentials WHERE id = ?1", -1, &rd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE credentials SET last_used_at = ?2 WHERE id = ?1", -1, &wr, NULL) !=
		    SQLITE_OK)
		return 1;
	memcpy(msg, ad, adn);
	for (i = 0; i < n; i++) {
		double t0 = now_us();
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (isim_sha256(cd, cdn, msg + adn) < 0 || !ctx ||
		    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key.pkey) != 1 ||
		    EVP_DigestVerify(ctx, sig, sign, msg, adn + 32) != 1)
			return fprintf(stderr, "passkey_parts: the signature does not verify\n"), 1;
		EVP_MD_CTX_free(ctx);
		sqlite3_bind_blob(rd, 1, id, (int)idn, SQLITE_STATIC);
		if (sqlite3_step(rd) != SQLITE_ROW)
			return fprintf(stderr, "passkey_parts: no such credential\n"), 1;
		sqlite3_reset(rd);
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_blob(wr, 1, id, (int)idn, SQLITE_STATIC);
		sqlite3_bind_int64(wr, 2, (sqlite3_int64)i);
		if (sqlite3_step(wr) != SQLITE_DONE || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return fprintf(stderr, "passkey_parts: %s\n", sqlite3_errmsg(db)), 1;
		sqlite3_reset(wr);
		t[i] = now_us() - t0;
	}
	printf("%.1f\n", median(t, (size_t)n));
	return 0;
}

static int login(int nfiles, char *files[])
{
	struct pk_rp rp = { 0 };
	struct pk_ctx c;
	struct isim_wa_status st;
	double *t = calloc((size_t)nfiles, sizeof(double));
	char **text = calloc((size_t)nfiles, sizeof(char *));
	int i, rc;

	if (!t || !text)
		return 1;
	/* Each file in memory first: the text a server would have been sent. */
	for (i = 0; i < nfiles; i++) {
		struct isim_error err;
		size_t len;

		isim_error_clear(&err);
		if (isim_file_read(files[i], 1 << 16, &text[i], &len, &err) < 0)
			return fprintf(stderr, "passkey_parts: cannot read %s: %s\n", files[i], err.msg), 1;
	}
	rc = pk_open(&c, "passkey_parts", &rp, true);
	if (rc)
		return rc;
	for (i = 0; i < nfiles; i++) {
		double t0 = now_us();
		cJSON *doc = cJSON_Parse(text[i]), *out = NULL;
		char *reply;

		rc = doc ? pk_login_verify(&c, doc, &out, &st) : 65;
		reply = out ? cJSON_PrintUnformatted(out) : NULL;
		t[i] = now_us() - t0;
		if (rc || !reply)
			return fprintf(stderr, "passkey_parts: login-verify of %s: %d %s\n", files[i], rc, st.msg), 1;
		free(reply);
		cJSON_Delete(out);
		cJSON_Delete(doc);
		free(text[i]);
	}
	pk_close(&c);
	printf("%.1f\n", median(t, (size_t)nfiles));
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 6 && !strcmp(argv[1], "parts"))
		return parts(atol(argv[2]), argv[3], argv[4], argv[5]);
	if (argc > 2 && !strcmp(argv[1], "login"))
		return login(argc - 2, argv + 2);
	fprintf(stderr, "usage: passkey_parts parts N DB ASSERTION.json COSE_KEY | login FILE...\n");
	return 64;
}
