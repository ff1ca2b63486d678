/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/buf.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/utf8.h"
#include "passkey.h"

#define PROG_OPT "isim-passkey register-options"
#define PROG_VER "isim-passkey register-verify"

/* What registration offers (issue: ES256, EdDSA, RS256), most wanted first. */
static const int64_t offered[] = { ISIM_COSE_ES256, ISIM_COSE_EDDSA, ISIM_COSE_RS256 };

void pk_register_options_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_OPT " --user NAME [--display-name TEXT] [--rp-name TEXT]\n"
		   "       [--user-verification required|preferred|discouraged]\n"
		   "       [--resident-key required|preferred|discouraged] [--attestation none|direct]\n"
		   "       [--new-user] [--rp-id ID] [--state-dir DIR]\n"
		   "\n"
		   "Make the user when new (a random 16-byte handle), issue a registration\n"
		   "challenge (32 random bytes, 5 minutes), and print the\n"
		   "PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create(),\n"
		   "excluding the user's credentials.\n"
		   "\n"
		   "      --user NAME          the user's name (1 to 64 bytes of UTF-8)\n"
		   "      --display-name TEXT  shown by the authenticator (default NAME)\n"
		   "      --rp-name TEXT       the relying party's name (default \"infrasim\")\n"
		   "      --user-verification  default preferred; required makes verify refuse UV 0\n"
		   "      --resident-key       default preferred (a discoverable credential)\n"
		   "      --attestation        default none\n"
		   "      --new-user           refuse (reason user_exists) a NAME that has a\n"
		   "                           credential or a registration under way\n" PK_USAGE_RP
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 1 refused (--new-user), 64 usage, 73/74 the state cannot be\n"
		   "written.\n");
}

void pk_register_verify_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_VER " [--origin ORIGIN]... [--rp-id ID] [--state-dir DIR]\n"
		   "       [--attestation-roots PEMFILE] [--require-attestation]\n"
		   "       [--accept-unverified-attestation] [--session] < credential.json\n"
		   "\n"
		   "Verify the RegistrationResponseJSON on stdin against the challenge it\n"
		   "answers (taken, so used once even when refused) and store the credential\n"
		   "for the challenge's user. Prints {ok, reason, message, user, credential_id,\n"
		   "alg, alg_name, sign_count, fmt, attestation_type, attestation_trusted, aaguid,\n"
		   "user_present, user_verified, backup_eligible, backed_up, transports}; with\n"
		   "--session also a session opened for the user, as login-verify opens one\n"
		   "(session, expires_at).\n"
		   "\n" PK_USAGE_RP "      --attestation-roots PEMFILE  check x5c chains against these roots\n"
		   "      --require-attestation        refuse what no root vouches for\n"
		   "      --accept-unverified-attestation  take other formats unchecked\n"
		   "      --session            open a session (24 hours) when the credential is stored\n"
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0 stored, 1 refused (reason says why), 64 usage, 65 stdin is not\n"
		   "JSON, 73/74 the state cannot be written.\n");
}

static bool pref_ok(const char *s)
{
	return !strcmp(s, "required") || !strcmp(s, "preferred") || !strcmp(s, "discouraged");
}

/* The user named, made when new: 0 and *id, 1 when new_user and the name is
 * taken (a credential, or a registration challenge not yet expired: the
 * sweep ran before), or an exit code. */
static int user_get_or_make(struct pk_ctx *c, const char *name, const char *display, bool new_user, int64_t *id,
			    uint8_t handle[static PK_HANDLE_BYTES])
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	int rc;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "SELECT id, handle, EXISTS (SELECT 1 FROM credentials WHERE user_id = users.id)"
			    " OR EXISTS (SELECT 1 FROM challenges WHERE user_id = users.id AND kind = 'register')"
			    " FROM users WHERE name = ?1",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && new_user && sqlite3_column_int(q, 2)) {
		sqlite3_finalize(q);
		return 1;
	}
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 1) == PK_HANDLE_BYTES) {
		*id = sqlite3_column_int64(q, 0);
		memcpy(handle, sqlite3_column_blob(q, 1), PK_HANDLE_BYTES);
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot read the users", &err);
		return pk_db_fail(c, &err);
	}
	randombytes_buf(handle, PK_HANDLE_BYTES);
	if (isim_db_prepare(c->db, "INSERT INTO users (name, display_name, handle, created_at) VALUES (?1, ?2, ?3, ?4)",
			    &q, &err) < 0)
		return pk_db_fail(c, &err);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, display, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, handle, PK_HANDLE_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, c->now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the user", &err);
		return pk_db_fail(c, &err);
	}
	*id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

cJSON *pk_credential_descriptors(struct pk_ctx *c, int64_t user_id)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *a = cJSON_CreateArray(), *d, *t;
	char *id, *copy, *tok, *save;
	int rc;

	isim_error_clear(&err);
	if (!a ||
	    isim_db_prepare(c->db, "SELECT id, transports FROM credentials WHERE user_id = ?1 ORDER BY created_at", &q,
			    &err) < 0) {
		cJSON_Delete(a);
		if (err.kind)
			isim_print_error(c->prog, &err);
		return NULL;
	}
	sqlite3_bind_int64(q, 1, user_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		d = cJSON_CreateObject();
		id = isim_wa_b64url_encode(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
		copy = strdup((const char *)sqlite3_column_text(q, 1));
		if (!d || !id || !copy || !cJSON_AddItemToArray(a, d)) {
			cJSON_Delete(d);
			free(id);
			free(copy);
			rc = SQLITE_NOMEM;
			break;
		}
		cJSON_AddStringToObject(d, "type", "public-key");
		cJSON_AddStringToObject(d, "id", id);
		t = cJSON_AddArrayToObject(d, "transports");
		for (tok = strtok_r(copy, " ", &save); t && tok; tok = strtok_r(NULL, " ", &save))
			cJSON_AddItemToArray(t, cJSON_CreateString(tok));
		free(id);
		free(copy);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "%s: cannot read the credentials: %s\n", c->prog, sqlite3_errmsg(c->db));
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

int pk_register_options_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		{ "user", required_argument, NULL, PK_OPT_USER },
		{ "display-name", required_argument, NULL, PK_OPT_DISPLAY_NAME },
		{ "rp-name", required_argument, NULL, PK_OPT_RP_NAME },
		{ "user-verification", required_argument, NULL, PK_OPT_UV },
		{ "resident-key", required_argument, NULL, PK_OPT_RESIDENT_KEY },
		{ "attestation", required_argument, NULL, PK_OPT_ATTESTATION },
		{ "new-user", no_argument, NULL, PK_OPT_NEW_USER },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_OPT, .shortopts = "hV", .longopts = opts, .usage = pk_register_options_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct pk_challenge ch = { 0 };
	struct isim_error err;
	const char *user = NULL, *display = NULL, *rp_name = NULL, *uv = NULL, *rk = NULL, *att = NULL;
	uint8_t handle[PK_HANDLE_BYTES];
	cJSON *o = NULL, *p, *s, *ex;
	bool new_user = false;
	size_t i;
	int opt, rc;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		switch (opt) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case PK_OPT_USER:
			rc = isim_opt_once(PROG_OPT, "--user", &user, optarg);
			break;
		case PK_OPT_DISPLAY_NAME:
			rc = isim_opt_once(PROG_OPT, "--display-name", &display, optarg);
			break;
		case PK_OPT_RP_NAME:
			rc = isim_opt_once(PROG_OPT, "--rp-name", &rp_name, optarg);
			break;
		case PK_OPT_UV:
			rc = isim_opt_once(PROG_OPT, "--user-verification", &uv, optarg);
			if (!rc && !pref_ok(uv))
				rc = isim_bad_value(PROG_OPT, "--user-verification", uv,
						    "required, preferred or discouraged");
			break;
		case PK_OPT_RESIDENT_KEY:
			rc = isim_opt_once(PROG_OPT, "--resident-key", &rk, optarg);
			if (!rc && !pref_ok(rk))
				rc = isim_bad_value(PROG_OPT, "--resident-key", rk,
						    "required, preferred or discouraged");
			break;
		case PK_OPT_ATTESTATION:
			rc = isim_opt_once(PROG_OPT, "--attestation", &att, optarg);
			if (!rc && strcmp(att, "none") && strcmp(att, "direct"))
				rc = isim_bad_value(PROG_OPT, "--attestation", att, "none or direct");
			break;
		case PK_OPT_NEW_USER:
			new_user = true;
			rc = 0;
			break;
		default:
			rc = ISIM_EXIT_USAGE;
		}
		if (rc)
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG_OPT, "unexpected argument '%.64s'", argv[optind]);
	if (!user)
		return isim_usage_error(PROG_OPT, "--user NAME is required");
	/* Section 5.4.3: name and displayName are at most 64 bytes here. */
	if (!*user || strlen(user) > 64 || !isim_utf8_valid(user, strlen(user)))
		return isim_bad_value(PROG_OPT, "--user", user, "1 to 64 bytes of UTF-8");
	if (display && (strlen(display) > 64 || !isim_utf8_valid(display, strlen(display))))
		return isim_bad_value(PROG_OPT, "--display-name", display, "at most 64 bytes of UTF-8");
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
	rc = user_get_or_make(&c, user, display ? display : user, new_user, &ch.user_id, handle);
	if (rc == 1) {
		struct isim_wa_status st = { 0 };

		isim_db_rollback(c.db);
		isim_wa_fail(&st, ISIM_WA_USER_EXISTS, "The name '%.64s' is taken.", user);
		rc = pk_print_refusal(PROG_OPT, &st);
		goto out;
	}
	if (rc)
		goto out;
	ch.uv_required = uv && !strcmp(uv, "required");
	for (i = 0; i < sizeof(offered) / sizeof(offered[0]); i++)
		ch.algs[ch.nalgs++] = offered[i];
	rc = pk_challenge_issue(&c, "register", &ch);
	if (rc)
		goto out;
	ex = pk_credential_descriptors(&c, ch.user_id);
	if (!ex) {
		rc = ISIM_EXIT_IOERR;
		goto out;
	}
	if (isim_db_commit(c.db, &err) < 0) {
		cJSON_Delete(ex);
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	o = cJSON_CreateObject();
	if (!o) {
		cJSON_Delete(ex);
		goto oom;
	}
	p = cJSON_AddObjectToObject(o, "rp");
	cJSON_AddStringToObject(p, "id", rp.rp_id);
	cJSON_AddStringToObject(p, "name", rp_name ? rp_name : "infrasim");
	p = cJSON_AddObjectToObject(o, "user");
	if (!pk_add_b64(p, "id", handle, sizeof(handle)))
		goto oom;
	cJSON_AddStringToObject(p, "name", user);
	cJSON_AddStringToObject(p, "displayName", display ? display : user);
	if (!pk_add_b64(o, "challenge", ch.value, sizeof(ch.value)))
		goto oom;
	p = cJSON_AddArrayToObject(o, "pubKeyCredParams");
	for (i = 0; p && i < ch.nalgs; i++) {
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "public-key");
		cJSON_AddNumberToObject(s, "alg", (double)ch.algs[i]);
		cJSON_AddItemToArray(p, s);
	}
	cJSON_AddNumberToObject(o, "timeout", PK_CHALLENGE_TTL * 1000);
	cJSON_AddItemToObject(o, "excludeCredentials", ex);
	p = cJSON_AddObjectToObject(o, "authenticatorSelection");
	cJSON_AddStringToObject(p, "residentKey", rk ? rk : "preferred");
	cJSON_AddBoolToObject(p, "requireResidentKey", rk && !strcmp(rk, "required"));
	cJSON_AddStringToObject(p, "userVerification", uv ? uv : "preferred");
	cJSON_AddStringToObject(o, "attestation", att ? att : "none");
	pk_close(&c);
	return pk_print(PROG_OPT, o);
oom:
	fprintf(stderr, PROG_OPT ": out of memory\n");
	rc = ISIM_EXIT_SOFTWARE;
out:
	cJSON_Delete(o);
	pk_close(&c);
	return rc;
}

static int store_credential(struct pk_ctx *c, int64_t user_id, const struct isim_wa_registration *r,
			    const struct isim_wa_reg_result *res, struct isim_wa_status *st)
{
	struct isim_error err;
	struct isim_buf tr = { 0 };
	sqlite3_stmt *q = NULL;
	char aaguid[37];
	size_t i;
	int rc;

	isim_error_clear(&err);
	for (i = 0; i < r->ntransports; i++)
		isim_buf_printf(&tr, "%s%s", i ? " " : "", r->transports[i]);
	if (!r->ntransports)
		isim_buf_puts(&tr, "");
	if (tr.oom) {
		isim_buf_free(&tr);
		return ISIM_EXIT_SOFTWARE;
	}
	isim_wa_aaguid_text(res->aaguid, aaguid);
	if (isim_db_prepare(c->db,
			    "INSERT INTO credentials (id, user_id, public_key, alg, sign_count, user_verified,"
			    " backup_eligible, backed_up, transports, fmt, aaguid, created_at)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
			    " ON CONFLICT (id) DO NOTHING",
			    &q, &err) < 0) {
		isim_buf_free(&tr);
		return pk_db_fail(c, &err);
	}
	sqlite3_bind_blob(q, 1, res->cred_id, (int)res->cred_id_len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, user_id);
	sqlite3_bind_blob(q, 3, res->cose_key, (int)res->cose_key_len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, res->alg);
	sqlite3_bind_int64(q, 5, res->sign_count);
	sqlite3_bind_int(q, 6, !!(res->flags & ISIM_WA_FLAG_UV));
	sqlite3_bind_int(q, 7, !!(res->flags & ISIM_WA_FLAG_BE));
	sqlite3_bind_int(q, 8, !!(res->flags & ISIM_WA_FLAG_BS));
	sqlite3_bind_text(q, 9, tr.s, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 10, res->fmt, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, aaguid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 12, c->now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	isim_buf_free(&tr);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the credential", &err);
		return pk_db_fail(c, &err);
	}
	/* Section 7.1 step 26: a credential id registered before (to anyone)
	 * is refused, and the one stored is left as it was. */
	if (sqlite3_changes(c->db) == 0) {
		isim_wa_fail(st, ISIM_WA_CREDENTIAL_EXISTS, "The credential id is registered already.");
		return 1;
	}
	return 0;
}

int pk_register_verify_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_RP,
		{ "attestation-roots", required_argument, NULL, PK_OPT_ROOTS },
		{ "require-attestation", no_argument, NULL, PK_OPT_REQUIRE_ATT },
		{ "accept-unverified-attestation", no_argument, NULL, PK_OPT_ACCEPT_UNVERIFIED },
		{ "session", no_argument, NULL, PK_OPT_SESSION },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG_VER, .shortopts = "hV", .longopts = opts, .usage = pk_register_verify_usage
	};
	struct pk_rp rp = { 0 };
	struct pk_ctx c = { 0 };
	struct pk_challenge ch;
	struct isim_wa_registration r = { 0 };
	struct isim_wa_reg_result res = { 0 };
	struct isim_wa_status st = { 0 };
	struct isim_wa_expect e = { 0 };
	struct isim_error err;
	const char *roots = NULL, *user = NULL;
	char *pem = NULL;
	size_t pem_len = 0;
	bool require = false, unverified = false, session = false;
	uint8_t token[PK_TOKEN_BYTES];
	cJSON *doc = NULL, *o = NULL;
	sqlite3_stmt *q = NULL;
	int opt, rc, committed;

	isim_error_clear(&err);
	while ((opt = isim_getopt_shared(&g, pk_rp_option, &rp, argc, argv)) != -1) {
		switch (opt) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case PK_OPT_ROOTS:
			if (isim_opt_once(PROG_VER, "--attestation-roots", &roots, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case PK_OPT_REQUIRE_ATT:
			require = true;
			break;
		case PK_OPT_ACCEPT_UNVERIFIED:
			unverified = true;
			break;
		case PK_OPT_SESSION:
			session = true;
			break;
		default:
			return ISIM_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return isim_usage_error(PROG_VER, "unexpected argument '%.64s'", argv[optind]);
	if (require && unverified)
		return isim_usage_error(PROG_VER,
					"--require-attestation and --accept-unverified-attestation contradict");
	if (roots && isim_file_read(roots, 1u << 20, &pem, &pem_len, &err) < 0)
		return isim_fail(PROG_VER, &err);
	rc = pk_open(&c, PROG_VER, &rp, true);
	if (rc)
		goto out;
	rc = pk_read_stdin(PROG_VER, &doc);
	if (rc)
		goto out;
	/* One transaction, committed refused or not (as login-verify's). */
	if (isim_db_begin(c.db, &err) < 0) {
		rc = pk_db_fail(&c, &err);
		goto out;
	}
	rc = pk_sweep(&c);
	if (rc)
		goto out;
	if (!isim_wa_registration_from_json(doc, &r, &st)) {
		pk_record(&c, "register", 0, NULL, 0, &st);
		rc = pk_commit(&c);
		if (!rc)
			rc = pk_print_refusal(PROG_VER, &st);
		goto out;
	}
	rc = pk_challenge_take(&c, "register", r.client_data, r.client_data_len, &ch, &st);
	if (rc > 1)
		goto out;
	if (rc == 0) {
		e.challenge = ch.value;
		e.challenge_len = sizeof(ch.value);
		e.origins = rp.origins;
		e.norigins = rp.norigins;
		e.rp_id = rp.rp_id;
		e.require_uv = ch.uv_required;
		e.algs = ch.algs;
		e.nalgs = ch.nalgs;
		e.roots_pem = pem;
		e.roots_pem_len = pem_len;
		e.require_trusted = require;
		e.accept_unverified = unverified;
		rc = isim_wa_verify_registration(&r, &e, &res, &st) ? store_credential(&c, ch.user_id, &r, &res, &st)
								    : 1;
		if (rc == 0 && session)
			rc = pk_session_open(&c, ch.user_id, r.raw_id, r.raw_id_len, token);
		if (rc > 1)
			goto out;
	}
	pk_record(&c, "register", rc ? 0 : ch.user_id, r.raw_id, r.raw_id_len, &st);
	committed = pk_commit(&c);
	if (committed) {
		rc = committed;
		goto out;
	}
	if (rc) {
		rc = pk_print_refusal(PROG_VER, &st);
		goto out;
	}
	if (isim_db_prepare(c.db, "SELECT name FROM users WHERE id = ?1", &q, &err) == 0) {
		sqlite3_bind_int64(q, 1, ch.user_id);
		if (sqlite3_step(q) == SQLITE_ROW)
			user = (const char *)sqlite3_column_text(q, 0);
	}
	o = cJSON_CreateObject();
	if (!o)
		goto oom;
	cJSON_AddTrueToObject(o, "ok");
	cJSON_AddNullToObject(o, "reason");
	cJSON_AddNullToObject(o, "message");
	cJSON_AddStringToObject(o, "user", user ? user : "");
	if (!pk_add_registered(o, &res, &r))
		goto oom;
	if (session) {
		if (!pk_add_b64(o, "session", token, sizeof(token)))
			goto oom;
		pk_add_time(o, "expires_at", c.now + PK_SESSION_TTL);
	}
	rc = pk_print(PROG_VER, o);
	o = NULL;
	goto out;
oom:
	fprintf(stderr, PROG_VER ": out of memory\n");
	rc = ISIM_EXIT_SOFTWARE;
out:
	sodium_memzero(token, sizeof(token));
	sqlite3_finalize(q);
	cJSON_Delete(o);
	cJSON_Delete(doc);
	isim_wa_registration_free(&r);
	isim_wa_reg_result_free(&res);
	pk_close(&c);
	free(pem);
	return rc;
}
