/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/db.h"
#include "isim/hash.h"
#include "passkey.h"

#define PROG_CHECK "isim-passkey session-check"
#define PROG_REVOKE "isim-passkey session-revoke"
#define PROG_CREDS "isim-passkey credentials"

void pk_session_check_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_CHECK " [--rp-id ID] [--state-dir DIR] < {\"session\": TOKEN}\n"
		   "\n"
		   "Whether the session token on stdin (never in argv) is one login-verify\n"
		   "opened, not revoked and not expired. Prints {ok, reason, message, user,\n"
		   "user_handle, credential_id, created_at, expires_at}.\n"
		   "\n" PK_USAGE_RP "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0 valid, 1 not (reason session or expired), 64 usage, 65 stdin\n"
		   "is not {\"session\": TOKEN}.\n");
}

void pk_session_revoke_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_REVOKE " [--rp-id ID] [--state-dir DIR] < {\"session\": TOKEN}\n"
		   "       " PROG_REVOKE " --all --user NAME [--rp-id ID] [--state-dir DIR]\n"
		   "\n"
		   "End the session whose token is on stdin, or with --all every session of the\n"
		   "user. Prints {ok, reason, message, revoked} (how many ended).\n"
		   "\n"
		   "      --all --user NAME    every session of NAME\n" PK_USAGE_RP
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 1 no such session (reason session), 64 usage, 65 bad stdin.\n");
}

void pk_credentials_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_CREDS " [--user NAME] [--rp-id ID] [--state-dir DIR]\n"
		   "\n"
		   "The registered credentials, of NAME or of everyone: {\"credentials\": [{user,\n"
		   "user_handle, credential_id, alg, alg_name, sign_count, user_verified,\n"
		   "backup_eligible, backed_up, transports, fmt, aaguid, possibly_cloned,\n"
		   "created_at, last_used_at}]}.\n"
		   "\n"
		   "      --user NAME          only NAME's\n" PK_USAGE_RP "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 1 no such user (reason unknown_user), 64 usage.\n");
}

/* stdin's {"session": TOKEN}: the token's SHA-256. 0 or an exit code. */
static int read_token(const char *prog, uint8_t h[static ISIM_SHA256_BYTES])
{
	cJSON *doc = NULL;
	const cJSON *it;
	uint8_t *tok = NULL;
	size_t n = 0;
	int rc;

	rc = pk_read_stdin(prog, &doc);
	if (rc)
		return rc;
	it = cJSON_GetObjectItemCaseSensitive(doc, "session");
	if (!cJSON_IsObject(doc) || cJSON_GetArraySize(doc) != 1 || !cJSON_IsString(it) ||
	    !isim_wa_b64url_decode(it->valuestring, PK_TOKEN_BYTES, &tok, &n) || n != PK_TOKEN_BYTES) {
		fprintf(stderr, "%s: stdin: not {\"session\": TOKEN} with a token of %d bytes in base64url\n", prog,
			PK_TOKEN_BYTES);
		rc = ISIM_EXIT_DATAERR;
	} else if (isim_sha256(tok, n, h) < 0) {
		rc = ISIM_EXIT_SOFTWARE;
	}
	if (tok)
		sodium_memzero(tok, n);
	free(tok);
	if (it && cJSON_IsString(it))
		sodium_memzero(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(doc);
	return rc;
}

int pk_session_check_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_CHECK, .shortopts = "hV", .longopts = opts, .usage = pk_session_check_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct isim_wa_status st = { 0 };
	struct isim_error err;
	uint8_t h[ISIM_SHA256_BYTES];
	sqlite3_stmt *q = NULL;
	cJSON *o = NULL;
	int opt, rc;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_CHECK, "unexpected argument '%.64s' (the token is read from stdin)",
					argv[optind]);
	rc = read_token(PROG_CHECK, h);
	if (rc)
		return rc;
	rc = pk_open(&c, PROG_CHECK, &rp, false);
	if (rc)
		return rc;
	if (isim_db_prepare(c.db,
			    "SELECT u.name, u.handle, s.credential_id, s.created_at, s.expires_at FROM sessions s"
			    " JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?1",
			    &q, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	sqlite3_bind_blob(q, 1, h, sizeof(h), SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		isim_wa_fail(&st, ISIM_WA_SESSION, "No such session: never opened, revoked, or long expired.");
		rc = pk_print_refusal(PROG_CHECK, &st);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		isim_db_error(c.db, "cannot read the sessions", &err);
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	if (sqlite3_column_int64(q, 4) <= c.now) {
		isim_wa_fail(&st, ISIM_WA_EXPIRED, "The session expired (sessions last %d hours).",
			     PK_SESSION_TTL / 3600);
		rc = pk_print_refusal(PROG_CHECK, &st);
		goto out;
	}
	o = cJSON_CreateObject();
	if (!o)
		goto oom;
	cJSON_AddTrueToObject(o, "ok");
	cJSON_AddNullToObject(o, "reason");
	cJSON_AddNullToObject(o, "message");
	cJSON_AddStringToObject(o, "user", (const char *)sqlite3_column_text(q, 0));
	if (!pk_add_b64(o, "user_handle", sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1)) ||
	    !pk_add_b64(o, "credential_id", sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2)))
		goto oom;
	pk_add_time(o, "created_at", sqlite3_column_int64(q, 3));
	pk_add_time(o, "expires_at", sqlite3_column_int64(q, 4));
	sqlite3_finalize(q);
	q = NULL;
	pk_close(&c);
	return pk_print(PROG_CHECK, o);
oom:
	fprintf(stderr, PROG_CHECK ": out of memory\n");
	rc = ISIM_EXIT_SOFTWARE;
out:
	cJSON_Delete(o);
	sqlite3_finalize(q);
	pk_close(&c);
	return rc;
}

int pk_session_revoke_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		{ "all", no_argument, NULL, PK_OPT_ALL },
		{ "user", required_argument, NULL, PK_OPT_USER },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_REVOKE, .shortopts = "hV", .longopts = opts, .usage = pk_session_revoke_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct isim_wa_status st = { 0 };
	struct isim_error err;
	uint8_t h[ISIM_SHA256_BYTES];
	const char *user = NULL;
	bool all = false;
	sqlite3_stmt *q = NULL;
	cJSON *o;
	int opt, rc, n;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		if (opt == PK_OPT_ALL)
			all = true;
		else if (opt != PK_OPT_USER || isim_opt_once(PROG_REVOKE, "--user", &user, optarg))
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_REVOKE, "unexpected argument '%.64s' (the token is read from stdin)",
					argv[optind]);
	if (all != !!user)
		return isim_usage_error(PROG_REVOKE, "--all and --user NAME go together");
	if (!all) {
		rc = read_token(PROG_REVOKE, h);
		if (rc)
			return rc;
	}
	rc = pk_open(&c, PROG_REVOKE, &rp, false);
	if (rc)
		return rc;
	if (isim_db_begin(c.db, &err) < 0 ||
	    isim_db_prepare(c.db,
			    all ? "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?1)"
				: "DELETE FROM sessions WHERE token_sha256 = ?1",
			    &q, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	if (all)
		sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	else
		sqlite3_bind_blob(q, 1, h, sizeof(h), SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	n = sqlite3_changes(c.db);
	if (rc != SQLITE_DONE) {
		isim_db_error(c.db, "cannot revoke", &err);
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	if (isim_db_commit(c.db, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	if (!all && n == 0) {
		isim_wa_fail(&st, ISIM_WA_SESSION, "No such session: never opened, or revoked already.");
		rc = pk_print_refusal(PROG_REVOKE, &st);
		goto out;
	}
	pk_close(&c);
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddTrueToObject(o, "ok");
		cJSON_AddNullToObject(o, "reason");
		cJSON_AddNullToObject(o, "message");
		cJSON_AddNumberToObject(o, "revoked", n);
	}
	return pk_print(PROG_REVOKE, o);
out:
	pk_close(&c);
	return rc;
}

int pk_credentials_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		{ "user", required_argument, NULL, PK_OPT_USER },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_CREDS, .shortopts = "hV", .longopts = opts, .usage = pk_credentials_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct isim_wa_status st = { 0 };
	struct isim_error err;
	const char *user = NULL;
	sqlite3_stmt *q = NULL;
	cJSON *o = NULL, *list, *it, *t;
	char *copy, *tok, *save;
	int opt, rc;
	bool user_known;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		if (opt != PK_OPT_USER || isim_opt_once(PROG_CREDS, "--user", &user, optarg))
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_CREDS, "unexpected argument '%.64s'", argv[optind]);
	rc = pk_open(&c, PROG_CREDS, &rp, false);
	if (rc)
		return rc;
	user_known = !user;
	if (user) {
		if (isim_db_prepare(c.db, "SELECT 1 FROM users WHERE name = ?1", &q, &err) < 0) {
			rc = pk_db_fail(&c, &err);
			goto out;
		}
		sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
		user_known = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
		q = NULL;
	}
	if (!user_known) {
		isim_wa_fail(&st, ISIM_WA_UNKNOWN_USER, "There is no user of that name.");
		rc = pk_print_refusal(PROG_CREDS, &st);
		goto out;
	}
	if (isim_db_prepare(c.db,
			    "SELECT u.name, u.handle, c.id, c.alg, c.sign_count, c.user_verified, c.backup_eligible,"
			    " c.backed_up, c.transports, c.fmt, c.aaguid, c.possibly_cloned, c.created_at,"
			    " c.last_used_at FROM credentials c JOIN users u ON u.id = c.user_id"
			    " WHERE ?1 IS NULL OR u.name = ?1 ORDER BY u.name, c.created_at, c.id",
			    &q, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	if (user)
		sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	o = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(o, "credentials");
	if (!o || !list)
		goto oom;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		it = cJSON_CreateObject();
		if (!it || !cJSON_AddItemToArray(list, it)) {
			cJSON_Delete(it);
			goto oom;
		}
		cJSON_AddStringToObject(it, "user", (const char *)sqlite3_column_text(q, 0));
		if (!pk_add_b64(it, "user_handle", sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1)) ||
		    !pk_add_b64(it, "credential_id", sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2)))
			goto oom;
		cJSON_AddNumberToObject(it, "alg", (double)sqlite3_column_int64(q, 3));
		cJSON_AddStringToObject(it, "alg_name", isim_wa_alg_name(sqlite3_column_int64(q, 3)));
		cJSON_AddNumberToObject(it, "sign_count", (double)sqlite3_column_int64(q, 4));
		cJSON_AddBoolToObject(it, "user_verified", sqlite3_column_int(q, 5));
		cJSON_AddBoolToObject(it, "backup_eligible", sqlite3_column_int(q, 6));
		cJSON_AddBoolToObject(it, "backed_up", sqlite3_column_int(q, 7));
		t = cJSON_AddArrayToObject(it, "transports");
		copy = strdup((const char *)sqlite3_column_text(q, 8));
		if (!copy)
			goto oom;
		for (tok = strtok_r(copy, " ", &save); t && tok; tok = strtok_r(NULL, " ", &save))
			cJSON_AddItemToArray(t, cJSON_CreateString(tok));
		free(copy);
		cJSON_AddStringToObject(it, "fmt", (const char *)sqlite3_column_text(q, 9));
		cJSON_AddStringToObject(it, "aaguid", (const char *)sqlite3_column_text(q, 10));
		cJSON_AddBoolToObject(it, "possibly_cloned", sqlite3_column_int(q, 11));
		pk_add_time(it, "created_at", sqlite3_column_int64(q, 12));
		pk_add_time(it, "last_used_at", sqlite3_column_int64(q, 13));
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(c.db, "cannot read the credentials", &err);
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	sqlite3_finalize(q);
	pk_close(&c);
	return pk_print(PROG_CREDS, o);
oom:
	fprintf(stderr, PROG_CREDS ": out of memory\n");
	rc = ISIM_EXIT_SOFTWARE;
out:
	cJSON_Delete(o);
	sqlite3_finalize(q);
	pk_close(&c);
	return rc;
}

int pk_session_open(struct pk_ctx *c, int64_t user_id, const uint8_t *cred_id, size_t n,
		    uint8_t token[static PK_TOKEN_BYTES])
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	uint8_t h[ISIM_SHA256_BYTES];
	int rc;

	isim_error_clear(&err);
	randombytes_buf(token, PK_TOKEN_BYTES);
	if (isim_sha256(token, PK_TOKEN_BYTES, h) < 0) {
		fprintf(stderr, "%s: cannot hash the session token\n", c->prog);
		return ISIM_EXIT_SOFTWARE;
	}
	if (isim_db_prepare(c->db,
			    "INSERT INTO sessions (token_sha256, user_id, credential_id, created_at, expires_at)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_blob(q, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, user_id);
	sqlite3_bind_blob(q, 3, cred_id, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, c->now);
	sqlite3_bind_int64(q, 5, c->now + PK_SESSION_TTL);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the session", &err);
		return pk_db_fail(c, &err);
	}
	return 0;
}
