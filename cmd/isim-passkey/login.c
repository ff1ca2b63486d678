/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/db.h"
#include "isim/hash.h"
#include "passkey.h"

#define PROG_OPT "isim-passkey login-options"
#define PROG_VER "isim-passkey login-verify"

void pk_login_options_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_OPT " [--user NAME] [--user-verification required|preferred|discouraged]\n"
		   "       [--rp-id ID] [--state-dir DIR]\n"
		   "\n"
		   "Issue a login challenge (32 random bytes, 5 minutes) and print the\n"
		   "PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get(): with\n"
		   "--user, allowCredentials lists that user's credentials; without, it is empty\n"
		   "and any user's discoverable credential answers.\n"
		   "\n"
		   "      --user NAME          the user who signs in\n"
		   "      --user-verification  default preferred; required makes verify refuse UV 0\n" PK_USAGE_RP
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 1 no such user (reason unknown_user), 64 usage, 73/74 the\n"
		   "state cannot be written.\n");
}

void pk_login_verify_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_VER " [--origin ORIGIN]... [--rp-id ID] [--state-dir DIR] < assertion.json\n"
		   "\n"
		   "Verify the AuthenticationResponseJSON on stdin against the challenge it\n"
		   "answers (taken, so used once even when refused) and the stored credential;\n"
		   "store its new counter and flags and open a session (24 hours). Prints {ok,\n"
		   "reason, message, user, user_handle, credential_id, sign_count, user_present,\n"
		   "user_verified, backup_eligible, backed_up, session, expires_at}; session is\n"
		   "the token, shown this once (the state keeps its SHA-256).\n"
		   "\n" PK_USAGE_RP "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0 signed in, 1 refused (reason says why), 64 usage, 65 stdin is\n"
		   "not JSON, 73/74 the state cannot be written.\n");
}

int pk_login_options_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		{ "user", required_argument, NULL, PK_OPT_USER },
		{ "user-verification", required_argument, NULL, PK_OPT_UV },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_OPT, .shortopts = "hV", .longopts = opts, .usage = pk_login_options_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct pk_challenge ch = { 0 };
	struct isim_wa_status st = { 0 };
	struct isim_error err;
	const char *user = NULL, *uv = NULL;
	sqlite3_stmt *q = NULL;
	cJSON *o = NULL, *allow = NULL;
	int opt, rc;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		if (opt == PK_OPT_USER)
			rc = isim_opt_once(PROG_OPT, "--user", &user, optarg);
		else if (opt == PK_OPT_UV) {
			rc = isim_opt_once(PROG_OPT, "--user-verification", &uv, optarg);
			if (!rc && strcmp(uv, "required") && strcmp(uv, "preferred") && strcmp(uv, "discouraged"))
				rc = isim_bad_value(PROG_OPT, "--user-verification", uv,
						    "required, preferred or discouraged");
		} else
			rc = ISIM_EXIT_USAGE;
		if (rc)
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_OPT, "unexpected argument '%.64s'", argv[optind]);
	rc = pk_open(&c, PROG_OPT, &rp, false);
	if (rc)
		return rc;
	if (isim_db_begin(c.db, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	rc = pk_sweep(&c);
	if (rc)
		goto out;
	if (user) {
		if (isim_db_prepare(c.db, "SELECT id FROM users WHERE name = ?1", &q, &err) < 0) {
			rc = pk_db_fail(&c, &err);
			goto out;
		}
		sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			ch.user_id = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		q = NULL;
		if (!ch.user_id) {
			isim_db_rollback(c.db);
			isim_wa_fail(&st, ISIM_WA_UNKNOWN_USER, "There is no user of that name.");
			rc = pk_print_refusal(PROG_OPT, &st);
			goto out;
		}
		allow = pk_credential_descriptors(&c, ch.user_id);
	} else {
		allow = cJSON_CreateArray();
	}
	if (!allow) {
		isim_db_rollback(c.db);
		rc = ISIM_EXIT_IOERR;
		goto out;
	}
	ch.uv_required = uv && !strcmp(uv, "required");
	rc = pk_challenge_issue(&c, "login", &ch);
	if (rc)
		goto out;
	if (isim_db_commit(c.db, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	o = cJSON_CreateObject();
	if (!o || !pk_add_b64(o, "challenge", ch.value, sizeof(ch.value))) {
		fprintf(stderr, PROG_OPT ": out of memory\n");
		rc = ISIM_EXIT_SOFTWARE;
		goto out;
	}
	cJSON_AddNumberToObject(o, "timeout", PK_CHALLENGE_TTL * 1000);
	cJSON_AddStringToObject(o, "rpId", rp.rp_id);
	cJSON_AddItemToObject(o, "allowCredentials", allow);
	allow = NULL;
	cJSON_AddStringToObject(o, "userVerification", uv ? uv : "preferred");
	pk_close(&c);
	return pk_print(PROG_OPT, o);
out:
	cJSON_Delete(allow);
	cJSON_Delete(o);
	pk_close(&c);
	return rc;
}

/* A stored credential, as login-verify needs it. */
struct stored {
	int64_t user_id;
	char user[128];
	uint8_t handle[PK_HANDLE_BYTES];
	uint8_t *key;
	size_t key_len;
	uint32_t sign_count;
	bool be, cloned;
};

/* 0 found, 1 none (st), or an exit code. */
static int stored_get(struct pk_ctx *c, const uint8_t *id, size_t n, struct stored *s, struct isim_wa_status *st)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	int rc;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "SELECT c.user_id, u.name, u.handle, c.public_key, c.sign_count, c.backup_eligible,"
			    " c.possibly_cloned FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.id = ?1",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_blob(q, 1, id, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		s->user_id = sqlite3_column_int64(q, 0);
		snprintf(s->user, sizeof(s->user), "%s", (const char *)sqlite3_column_text(q, 1));
		if (sqlite3_column_bytes(q, 2) == PK_HANDLE_BYTES)
			memcpy(s->handle, sqlite3_column_blob(q, 2), PK_HANDLE_BYTES);
		s->key_len = (size_t)sqlite3_column_bytes(q, 3);
		s->key = malloc(s->key_len ? s->key_len : 1);
		if (s->key)
			memcpy(s->key, sqlite3_column_blob(q, 3), s->key_len);
		s->sign_count = (uint32_t)sqlite3_column_int64(q, 4);
		s->be = sqlite3_column_int(q, 5);
		s->cloned = sqlite3_column_int(q, 6);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE) {
		isim_wa_fail(st, ISIM_WA_UNKNOWN_CREDENTIAL, "The credential is not registered here.");
		return 1;
	}
	if (rc != SQLITE_ROW || !s->key) {
		isim_db_error(c->db, "cannot read the credential", &err);
		return pk_db_fail(c, &err);
	}
	return 0;
}

/* The new counter and flags, when the counter is still the one read, and
 * the session, in the ceremony's transaction. 0, 1 refused (counter), or an
 * exit code. */
static int store_login(struct pk_ctx *c, const uint8_t *id, size_t n, const struct stored *s,
		       const struct isim_wa_auth_result *ar, uint8_t token[static PK_TOKEN_BYTES],
		       struct isim_wa_status *st)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	int rc;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "UPDATE credentials SET sign_count = ?2, user_verified = ?3, backup_eligible = ?4,"
			    " backed_up = ?5, last_used_at = ?6 WHERE id = ?1 AND sign_count = ?7",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_blob(q, 1, id, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, ar->sign_count);
	sqlite3_bind_int(q, 3, !!(ar->flags & ISIM_WA_FLAG_UV));
	sqlite3_bind_int(q, 4, !!(ar->flags & ISIM_WA_FLAG_BE));
	sqlite3_bind_int(q, 5, !!(ar->flags & ISIM_WA_FLAG_BS));
	sqlite3_bind_int64(q, 6, c->now);
	sqlite3_bind_int64(q, 7, s->sign_count);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the counter", &err);
		return pk_db_fail(c, &err);
	}
	if (sqlite3_changes(c->db) != 1) {
		isim_wa_fail(st, ISIM_WA_COUNTER, "The signature counter changed during the login.");
		return 1;
	}
	return pk_session_open(c, s->user_id, id, n, token);
	return 0;
}

/* Section 7.2 step 22's "possibly cloned": kept on the credential, so that
 * it stays refused until an operator looks. */
static void mark_cloned(struct pk_ctx *c, const uint8_t *id, size_t n)
{
	sqlite3_stmt *q = NULL;
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "UPDATE credentials SET possibly_cloned = 1 WHERE id = ?1", &q, &err) < 0) {
		isim_print_error(c->prog, &err);
		return;
	}
	sqlite3_bind_blob(q, 1, id, (int)n, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		fprintf(stderr, "%s: cannot mark the credential: %s\n", c->prog, sqlite3_errmsg(c->db));
	sqlite3_finalize(q);
}

int pk_login_verify(struct pk_ctx *c, const cJSON *doc, cJSON **out, struct isim_wa_status *st)
{
	struct pk_challenge ch;
	struct isim_wa_assertion a = { 0 };
	struct isim_wa_auth_result ar = { 0 };
	struct isim_wa_expect e = { 0 };
	struct isim_wa_key key = { 0 };
	struct stored s = { 0 };
	uint8_t token[PK_TOKEN_BYTES];
	struct isim_error err;
	cJSON *o = NULL;
	int rc;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	c->now = (int64_t)time(NULL);
	/* One transaction for the whole ceremony, committed refused or not:
	 * the challenge is used up, the record kept, and a crash leaves all
	 * of it undone rather than half. */
	isim_error_clear(&err);
	if (isim_db_begin(c->db, &err) < 0)
		return pk_db_fail(c, &err);
	rc = pk_sweep(c);
	if (rc)
		goto out;
	if (!isim_wa_assertion_from_json(doc, &a, st)) {
		rc = 1;
		goto refused;
	}
	rc = pk_challenge_take(c, "login", a.client_data, a.client_data_len, &ch, st);
	if (rc)
		goto refused;
	rc = stored_get(c, a.raw_id, a.raw_id_len, &s, st);
	if (rc)
		goto refused;
	/* Section 7.2 step 6: a login for one user takes only that user's
	 * credentials; a discoverable one's user handle must be its user's. */
	if (ch.user_id && ch.user_id != s.user_id) {
		isim_wa_fail(st, ISIM_WA_UNKNOWN_CREDENTIAL, "The credential is not the user's.");
		rc = 1;
		goto refused;
	}
	if (!ch.user_id && !a.user_handle) {
		isim_wa_fail(st, ISIM_WA_USER_HANDLE,
			     "A login without a user names it by the user handle, which is missing.");
		rc = 1;
		goto refused;
	}
	if (s.cloned) {
		isim_wa_fail(st, ISIM_WA_COUNTER,
			     "The credential is marked as possibly cloned and is refused until it is removed.");
		rc = 1;
		goto refused;
	}
	if (!isim_wa_cose_key_parse(s.key, s.key_len, &key, st)) {
		rc = 1;
		goto refused;
	}
	e.challenge = ch.value;
	e.challenge_len = sizeof(ch.value);
	e.origins = c->rp->origins;
	e.norigins = c->rp->norigins;
	e.rp_id = c->rp->rp_id;
	e.require_uv = ch.uv_required;
	e.key = &key;
	e.sign_count = s.sign_count;
	e.user_handle = s.handle;
	e.user_handle_len = sizeof(s.handle);
	if (!isim_wa_verify_assertion(&a, &e, &ar, st)) {
		if (st->reason == ISIM_WA_COUNTER)
			mark_cloned(c, a.raw_id, a.raw_id_len);
		rc = 1;
		goto refused;
	}
	/* Section 6.1.3: BE never changes for a credential; this relying party
	 * lets 0 become 1, which synced passkeys do, and nothing else. */
	if (s.be && !(ar.flags & ISIM_WA_FLAG_BE)) {
		isim_wa_fail(st, ISIM_WA_BACKUP_ELIGIBILITY,
			     "The credential was backup eligible and now says it is not.");
		rc = 1;
		goto refused;
	}
	rc = store_login(c, a.raw_id, a.raw_id_len, &s, &ar, token, st);
	if (rc)
		goto refused;
	pk_record(c, "login", s.user_id, a.raw_id, a.raw_id_len, st);
	rc = pk_commit(c);
	if (rc)
		goto out;
	o = cJSON_CreateObject();
	if (!o)
		goto oom;
	cJSON_AddTrueToObject(o, "ok");
	cJSON_AddNullToObject(o, "reason");
	cJSON_AddNullToObject(o, "message");
	cJSON_AddStringToObject(o, "user", s.user);
	if (!pk_add_b64(o, "user_handle", s.handle, sizeof(s.handle)) ||
	    !pk_add_b64(o, "credential_id", a.raw_id, a.raw_id_len))
		goto oom;
	cJSON_AddNumberToObject(o, "sign_count", ar.sign_count);
	pk_add_flags(o, ar.flags);
	if (!pk_add_b64(o, "session", token, sizeof(token)))
		goto oom;
	pk_add_time(o, "expires_at", c->now + PK_SESSION_TTL);
	*out = o;
	o = NULL;
	goto out;
refused:
	if (rc == 1) {
		pk_record(c, "login", s.user_id, a.raw_id, a.raw_id_len, st);
		rc = pk_commit(c);
		if (!rc)
			rc = 1;
	} else {
		isim_db_rollback(c->db);
	}
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", c->prog);
	rc = ISIM_EXIT_SOFTWARE;
out:
	sodium_memzero(token, sizeof(token));
	cJSON_Delete(o);
	isim_wa_assertion_free(&a);
	isim_wa_key_free(&key);
	free(s.key);
	return rc;
}

int pk_login_verify_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_VER, .shortopts = "hV", .longopts = opts, .usage = pk_login_verify_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct isim_wa_status st = { 0 };
	cJSON *doc = NULL, *o = NULL;
	int opt, rc;

	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_VER, "unexpected argument '%.64s'", argv[optind]);
	rc = pk_open(&c, PROG_VER, &rp, true);
	if (rc)
		return rc;
	rc = pk_read_stdin(PROG_VER, &doc);
	if (!rc)
		rc = pk_login_verify(&c, doc, &o, &st);
	if (rc == 0)
		rc = pk_print(PROG_VER, o);
	else if (rc == 1)
		rc = pk_print_refusal(PROG_VER, &st);
	cJSON_Delete(doc);
	pk_close(&c);
	return rc;
}
