/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "common/paths.h"
#include "common/secret.h"
#include "isim/audit.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/sde.h"
#include "passkey.h"

/* Version 1. A user has a random handle (section 5.4.3: not personally
 * identifying); a credential its public key as the COSE_Key the
 * authenticator sent, its counter and flags; a challenge is pending until
 * taken; a session is known by the SHA-256 of its token only; ceremonies
 * is the history, kept here until the audit log takes it over. */
static const char *const migrations[] = {
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" display_name TEXT NOT NULL,"
	" handle BLOB NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE credentials ("
	" id BLOB PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" public_key BLOB NOT NULL,"
	" alg INTEGER NOT NULL,"
	" sign_count INTEGER NOT NULL,"
	" user_verified INTEGER NOT NULL,"
	" backup_eligible INTEGER NOT NULL,"
	" backed_up INTEGER NOT NULL,"
	" transports TEXT NOT NULL,"
	" fmt TEXT NOT NULL,"
	" aaguid TEXT NOT NULL,"
	" possibly_cloned INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" last_used_at INTEGER);"
	"CREATE INDEX credentials_user ON credentials (user_id);"
	"CREATE TABLE challenges ("
	" challenge BLOB PRIMARY KEY,"
	" kind TEXT NOT NULL CHECK (kind IN ('register', 'login')),"
	" user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,"
	" uv_required INTEGER NOT NULL,"
	" algs TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	" token_sha256 BLOB PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" credential_id BLOB NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL);"
	"CREATE TABLE ceremonies ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" user_id INTEGER,"
	" credential_id BLOB,"
	" ok INTEGER NOT NULL,"
	" reason TEXT,"
	" message TEXT);",
};

static const struct isim_db_schema schema = {
	.name = "isim-passkey",
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(migrations[0]),
	.persist_wal = 1,
};

int pk_rp_option(const char *prog, void *opts, int c, const char *arg)
{
	struct pk_rp *rp = opts;

	switch (c) {
	case PK_OPT_STATE_DIR:
		return isim_opt_once(prog, "--state-dir", &rp->state_dir, arg) ? ISIM_EXIT_USAGE : 1;
	case PK_OPT_RP_ID:
		if (!*arg)
			return isim_bad_value(prog, "--rp-id", arg, "a domain");
		return isim_opt_once(prog, "--rp-id", &rp->rp_id, arg) ? ISIM_EXIT_USAGE : 1;
	case PK_OPT_ORIGIN:
		if (rp->norigins == PK_MAX_LIST)
			return isim_usage_error(prog, "--origin given more than %d times", PK_MAX_LIST);
		if (!*arg)
			return isim_bad_value(prog, "--origin", arg, "an origin");
		rp->origins[rp->norigins++] = arg;
		return 1;
	}
	return 0;
}

int pk_db_fail(struct pk_ctx *c, const struct isim_error *err)
{
	if (c->db)
		isim_db_rollback(c->db);
	return isim_fail(c->prog, err);
}

void pk_close(struct pk_ctx *c)
{
	if (c->db)
		isim_db_close(c->db);
	c->db = NULL;
	isim_audit_close(c->audit);
	c->audit = NULL;
	cJSON_Delete(c->audit_rec);
	c->audit_rec = NULL;
}

int pk_commit(struct pk_ctx *c)
{
	struct isim_error err;
	char path[4200];

	isim_error_clear(&err);
	if (isim_db_commit(c->db, &err) < 0)
		return pk_db_fail(c, &err);
	if (!c->audit_rec)
		return 0;
	if ((!c->audit && (isim_audit_path(c->rp->state_dir, path, sizeof(path), &err) < 0 ||
			   isim_audit_open(path, true, &c->audit, &err) < 0)) ||
	    isim_audit_append(c->audit, "passkey", c->audit_rec, NULL, &err) < 0) {
		char msg[2400];

		isim_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s: warning: the audit log does not have this ceremony: %s\n", c->prog, msg);
	}
	cJSON_Delete(c->audit_rec);
	c->audit_rec = NULL;
	return 0;
}

static int exec_now(struct pk_ctx *c, const char *sql, int64_t t, struct isim_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (isim_db_prepare(c->db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : isim_db_error(c->db, "cannot sweep the state", err);
}

int pk_open(struct pk_ctx *c, const char *prog, struct pk_rp *rp, bool need_origin)
{
	char path[4096];
	const char *dir, *env;
	struct isim_error err;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->rp = rp;
	c->now = (int64_t)time(NULL);
	isim_error_clear(&err);
	if (!rp->rp_id && (env = getenv("WEBAUTHN_RP_ID")) && *env)
		rp->rp_id = env;
	if (!rp->norigins && (env = getenv("WEBAUTHN_RP_ORIGIN")) && *env)
		rp->origins[rp->norigins++] = env;
	if (!rp->rp_id)
		return isim_usage_error(prog, "--rp-id (or WEBAUTHN_RP_ID) is required");
	if (need_origin && !rp->norigins)
		return isim_usage_error(prog, "--origin (or WEBAUTHN_RP_ORIGIN) is required");
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium cannot be initialised\n", prog);
		return ISIM_EXIT_SOFTWARE;
	}
	/* Sessions' tokens are made, printed and read here: no core file,
	 * and no other process of the same user reads them. */
	if (isim_secret_protect(&err) < 0)
		return isim_fail(prog, &err);
	dir = isim_path_resolve(rp->state_dir, "ISIM_STATE_DIR", PK_STATE_DIR_DEFAULT);
	if (isim_path_need_dir(dir, "state", "--state-dir", "ISIM_STATE_DIR", &err) < 0 ||
	    isim_pathf(path, sizeof(path), &err, "%s/%s", dir, PK_DB_NAME) < 0 ||
	    isim_db_open(path, &schema, 1, &c->db, &err) < 0)
		return isim_fail(prog, &err);
	return 0;
}

int pk_sweep(struct pk_ctx *c)
{
	struct isim_error err;

	/* Issue: challenges "expire after 5 minutes, swept" (an hour later, so
	 * that a late answer hears it expired); sessions stay a day past their
	 * end, so that checking one says it expired. */
	isim_error_clear(&err);
	if (exec_now(c, "DELETE FROM challenges WHERE expires_at <= ?1 - 3600", c->now, &err) < 0 ||
	    exec_now(c, "DELETE FROM sessions WHERE expires_at <= ?1 - 86400", c->now, &err) < 0)
		return pk_db_fail(c, &err);
	return 0;
}

static void algs_text(const int64_t *algs, size_t n, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%lld", i ? "," : "", (long long)algs[i]);
}

static void algs_parse(const char *s, struct pk_challenge *ch)
{
	char *end;

	ch->nalgs = 0;
	while (*s && ch->nalgs < PK_MAX_LIST) {
		ch->algs[ch->nalgs++] = strtoll(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
}

int pk_challenge_issue(struct pk_ctx *c, const char *kind, struct pk_challenge *ch)
{
	struct isim_error err;
	sqlite3_stmt *st = NULL;
	char algs[256];
	int rc;

	isim_error_clear(&err);
	randombytes_buf(ch->value, sizeof(ch->value));
	ch->expires_at = c->now + PK_CHALLENGE_TTL;
	algs_text(ch->algs, ch->nalgs, algs, sizeof(algs));
	if (isim_db_prepare(c->db,
			    "INSERT INTO challenges (challenge, kind, user_id, uv_required, algs, expires_at)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			    &st, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_blob(st, 1, ch->value, sizeof(ch->value), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (ch->user_id)
		sqlite3_bind_int64(st, 3, ch->user_id);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int(st, 4, ch->uv_required);
	sqlite3_bind_text(st, 5, algs, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ch->expires_at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the challenge", &err);
		return pk_db_fail(c, &err);
	}
	return 0;
}

int pk_challenge_take(struct pk_ctx *c, const char *kind, const uint8_t *client_data, size_t len,
		      struct pk_challenge *ch, struct isim_wa_status *st)
{
	struct isim_wa_client_data cd;
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	bool found = false, right_kind = false;
	int rc;

	memset(ch, 0, sizeof(*ch));
	isim_error_clear(&err);
	if (!isim_wa_client_data_parse(client_data, len, &cd, st))
		return 1;
	if (cd.challenge_len != PK_CHALLENGE_BYTES) {
		isim_wa_client_data_free(&cd);
		isim_wa_fail(st, ISIM_WA_CHALLENGE, "clientDataJSON's challenge is not one this relying party issued.");
		return 1;
	}
	memcpy(ch->value, cd.challenge, PK_CHALLENGE_BYTES);
	isim_wa_client_data_free(&cd);
	if (isim_db_prepare(c->db,
			    "DELETE FROM challenges WHERE challenge = ?1"
			    " RETURNING kind, coalesce(user_id, 0), uv_required, algs, expires_at",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_blob(q, 1, ch->value, PK_CHALLENGE_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		found = true;
		right_kind = !strcmp((const char *)sqlite3_column_text(q, 0), kind);
		ch->user_id = sqlite3_column_int64(q, 1);
		ch->uv_required = sqlite3_column_int(q, 2);
		algs_parse((const char *)sqlite3_column_text(q, 3), ch);
		ch->expires_at = sqlite3_column_int64(q, 4);
		rc = sqlite3_step(q);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot take the challenge", &err);
		return pk_db_fail(c, &err);
	}
	if (!found)
		return isim_wa_fail(st, ISIM_WA_CHALLENGE,
				    "The challenge is not pending: never issued, or used already."),
		       1;
	if (!right_kind)
		return isim_wa_fail(st, ISIM_WA_CHALLENGE, "The challenge was issued for the other ceremony."), 1;
	if (ch->expires_at <= c->now)
		return isim_wa_fail(st, ISIM_WA_EXPIRED, "The challenge expired (it lives %d seconds).",
				    PK_CHALLENGE_TTL),
		       1;
	return 0;
}

/* The audit log's record of a ceremony: {"ceremony", "rp_id", "user",
 * "credential_id", "ok", "reason", "message"}. */
static void audit_keep(struct pk_ctx *c, const char *kind, int64_t user_id, const uint8_t *cred_id, size_t cred_id_len,
		       const struct isim_wa_status *st)
{
	sqlite3_stmt *q = NULL;
	cJSON *o;
	bool named = false;

	cJSON_Delete(c->audit_rec);
	c->audit_rec = o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddStringToObject(o, "ceremony", kind);
	cJSON_AddStringToObject(o, "rp_id", c->rp->rp_id);
	if (user_id && sqlite3_prepare_v2(c->db, "SELECT name FROM users WHERE id = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, user_id);
		if (sqlite3_step(q) == SQLITE_ROW)
			named = cJSON_AddStringToObject(o, "user", (const char *)sqlite3_column_text(q, 0)) != NULL;
	}
	sqlite3_finalize(q);
	if (!named)
		cJSON_AddNullToObject(o, "user");
	if (!pk_add_b64(o, "credential_id", cred_id, cred_id_len))
		goto oom;
	cJSON_AddBoolToObject(o, "ok", st->reason == ISIM_WA_OK);
	if (st->reason == ISIM_WA_OK) {
		cJSON_AddNullToObject(o, "reason");
		cJSON_AddNullToObject(o, "message");
	} else {
		cJSON_AddStringToObject(o, "reason", isim_wa_reason_name(st->reason));
		cJSON_AddStringToObject(o, "message", st->msg);
	}
	return;
oom:
	cJSON_Delete(c->audit_rec);
	c->audit_rec = NULL;
}

void pk_record(struct pk_ctx *c, const char *kind, int64_t user_id, const uint8_t *cred_id, size_t cred_id_len,
	       const struct isim_wa_status *st)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	int rc;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "INSERT INTO ceremonies (at, kind, user_id, credential_id, ok, reason, message)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			    &q, &err) < 0) {
		isim_print_error(c->prog, &err);
		return;
	}
	sqlite3_bind_int64(q, 1, c->now);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	if (user_id)
		sqlite3_bind_int64(q, 3, user_id);
	if (cred_id)
		sqlite3_bind_blob(q, 4, cred_id, (int)cred_id_len, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, st->reason == ISIM_WA_OK);
	if (st->reason != ISIM_WA_OK) {
		sqlite3_bind_text(q, 6, isim_wa_reason_name(st->reason), -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, st->msg, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot record the ceremony", &err);
		isim_print_error(c->prog, &err);
	}
	audit_keep(c, kind, user_id, cred_id, cred_id_len, st);
}

void pk_add_time(cJSON *o, const char *name, int64_t t)
{
	char text[32];

	if (!t || isim_rfc3339((time_t)t, text, sizeof(text)) < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, text);
}
