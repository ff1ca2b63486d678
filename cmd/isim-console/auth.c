/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/db.h"
#include "isim/json.h"
#include "isim/utf8.h"
#include "isim/webauthn.h"

/* The ceremonies run in isim-passkey, the relying party; the console
 * hands it the browser's JSON and keeps only what the cookie needs. */

#define COOKIE_ATTRS "; Path=/api" CON_API_PREFIX "; HttpOnly; Secure; SameSite=Strict"

/* Console user names: what a person types and a URL or log keeps plain. */
static bool username_ok(const char *s)
{
	return con_name_ok(s, 1, 64, true, "._@+-");
}

/* isim-passkey SUB with the relying party's options and more; stdin in;
 * its JSON in *out: 0 ok, 1 refused (reason in *out), -1 after a response. */
static int passkey(struct con *c, const char *sub, const char *const *more, const struct isim_buf *in, cJSON **out)
{
	const char *argv[24] = { "isim-passkey", sub, "--rp-id", c->cfg.rp_id, "--state-dir", c->cfg.state_dir };
	struct isim_buf o = { 0 };
	struct isim_error err;
	size_t n = 6;
	int rc;

	isim_error_clear(&err);
	*out = NULL;
	if (!strcmp(sub, "register-verify") || !strcmp(sub, "login-verify")) {
		argv[n++] = "--origin";
		argv[n++] = c->cfg.origin;
	}
	while (more && *more && n < sizeof(argv) / sizeof(argv[0]) - 1)
		argv[n++] = *more++;
	argv[n] = NULL;
	rc = con_tool(c, argv, in, &o, &err);
	if (rc == 0 || rc == 1) {
		if (o.oom || isim_json_parse(o.s ? o.s : "", o.len, "isim-passkey's output", out, &err) < 0)
			rc = -1;
	} else if (rc > 1) {
		isim_print_error(CON_PROG, &err);
		rc = -1;
	}
	if (o.s)
		sodium_memzero(o.s, o.len);
	free(o.s);
	if (rc == 1 && !cJSON_IsObject(*out))
		rc = -1;
	if (rc < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		if (err.kind)
			return con_fail(c, &err);
		return con_error(c, 400, "malformed", NULL, "The credential is not one the relying party can read.");
	}
	return rc;
}

static const char *reason_of(const cJSON *o)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "reason");

	return cJSON_IsString(r) ? r->valuestring : "refused";
}

static const char *message_of(const cJSON *o)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "message");

	return cJSON_IsString(r) ? r->valuestring : "The ceremony was refused.";
}

/* An options ceremony's answer: {"publicKey": out}, or the refusal, the
 * reason taken mapped to status and console reason. out is taken. */
static int options_reply(struct con *c, int rc, cJSON *out, const char *taken, int status, const char *reason,
			 const char *field)
{
	cJSON *o;

	if (rc == 1) {
		if (!strcmp(reason_of(out), taken))
			rc = con_error(c, status, reason, field, "%s", message_of(out));
		else
			rc = con_error(c, 400, reason_of(out), NULL, "%s", message_of(out));
		cJSON_Delete(out);
		return rc;
	}
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToObject(o, "publicKey", out)) {
		cJSON_Delete(out);
		cJSON_Delete(o);
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	}
	return con_json(c, 200, o, NULL);
}

static bool rate_ok(struct con *c)
{
	if (con_rate_take(c, "auth"))
		return true;
	con_error(c, 429, "rate_limited", NULL, "Too many sign-in requests from %.64s; wait a minute.", c->req.remote);
	return false;
}

/* The body as it came, for isim-passkey's stdin. */
static struct isim_buf body_buf(const struct con *c)
{
	struct isim_buf b = { .s = c->req.body, .len = c->req.body_len, .cap = c->req.body_len };

	return b;
}

/* A session token from out (removed from it): the cookie, and the console's
 * note of whether a login (an assertion, not a registration) verified the
 * user. 0 or -1 after a response. */
static int open_session(struct con *c, cJSON *out, bool login, char *hdr, size_t size)
{
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(out, "session");
	const cJSON *uv = cJSON_GetObjectItemCaseSensitive(out, "user_verified");
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(out, "user");
	struct isim_error err;
	uint8_t *raw = NULL, h[ISIM_SHA256_BYTES];
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int rc;

	isim_error_clear(&err);
	if (!cJSON_IsString(tok) || !isim_wa_b64url_decode(tok->valuestring, CON_TOKEN_BYTES, &raw, &n) ||
	    n != CON_TOKEN_BYTES || isim_sha256(raw, n, h) < 0) {
		free(raw);
		isim_error_set(&err, ISIM_ERR_INTERNAL, "isim-passkey opened no session");
		return con_fail(c, &err);
	}
	sodium_memzero(raw, n);
	free(raw);
	snprintf(hdr, size, "Set-Cookie: " CON_COOKIE "=%s; Max-Age=86400" COOKIE_ATTRS "\r\n", tok->valuestring);
	sodium_memzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_DeleteItemFromObjectCaseSensitive(out, "session");
	if (isim_db_prepare(c->db,
			    "INSERT OR REPLACE INTO sessions (token_sha256, user_verified, expires_at)"
			    " VALUES (?1, ?2, ?3)",
			    &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_blob(q, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_int(q, 2, login && cJSON_IsTrue(uv));
	sqlite3_bind_int64(q, 3, c->now + 86400);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot note the session", &err);
		return con_fail(c, &err);
	}
	/* A login while signed in (a step-up) replaces the session. */
	if (c->s.valid && con_session_revoke(c, &err) < 0)
		isim_print_error(CON_PROG, &err);
	if (isim_db_prepare(c->db, "DELETE FROM sessions WHERE expires_at < ?1", &q, &err) == 0) {
		sqlite3_bind_int64(q, 1, c->now);
		sqlite3_step(q);
		sqlite3_finalize(q);
	}
	/* The rest of the request is the new session's: its audit entry
	 * names the user and the session, as those of later requests do. */
	memcpy(c->s.token_sha256, h, sizeof(h));
	snprintf(c->s.user, sizeof(c->s.user), "%s", cJSON_IsString(user) ? user->valuestring : "");
	c->s.valid = true;
	return 0;
}

int con_register_options(struct con *c)
{
	static const char *const members[] = { "username", "display_name", NULL };
	const char *user, *display;
	const char *more[8];
	size_t n = 0;
	cJSON *out;
	int rc;

	if (!rate_ok(c) || !con_body_object(c) || !con_members_only(c, members) ||
	    !con_member_string(c, "username", 64, !c->s.valid, &user) ||
	    !con_member_string(c, "display_name", 64, false, &display))
		return 0;
	if (c->s.valid) {
		/* Another passkey for the user signed in. */
		if (user && strcmp(user, c->s.user))
			return con_error(c, 403, "forbidden", "/username",
					 "Signed in as %.64s, passkeys are added to that user only.", c->s.user);
		user = c->s.user;
	} else {
		if (!username_ok(user))
			return con_error(c, 400, "username", "/username",
					 "A user name is 1 to 64 letters, digits or ._@+- characters.");
		more[n++] = "--new-user";
	}
	if (display && !isim_utf8_valid(display, strlen(display)))
		return con_error(c, 400, "display_name", "/display_name", "'display_name' is not UTF-8.");
	more[n++] = "--user";
	more[n++] = user;
	if (display) {
		more[n++] = "--display-name";
		more[n++] = display;
	}
	more[n++] = "--resident-key";
	more[n++] = "required";
	more[n] = NULL;
	rc = passkey(c, "register-options", more, NULL, &out);
	if (rc < 0)
		return rc;
	return options_reply(c, rc, out, "user_exists", 409, "username_taken", "/username");
}

int con_register_verify(struct con *c)
{
	static const char *const session[] = { "--session", NULL };
	struct isim_buf in = body_buf(c);
	char hdr[256] = "";
	cJSON *out;
	int rc;

	if (!rate_ok(c) || !con_body_object(c))
		return 0;
	rc = passkey(c, "register-verify", c->s.valid ? NULL : session, &in, &out);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		con_audit(c, "passkey.register", false, cJSON_CreateString(reason_of(out)));
		rc = con_error(c, 400, reason_of(out), NULL, "%s", message_of(out));
		cJSON_Delete(out);
		return rc;
	}
	if (!c->s.valid && open_session(c, out, false, hdr, sizeof(hdr)) < 0) {
		cJSON_Delete(out);
		return -1;
	}
	con_audit(c, "passkey.register", true,
		  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out, "credential_id"), 1));
	rc = con_json(c, 200, out, hdr);
	sodium_memzero(hdr, sizeof(hdr));
	return rc;
}

int con_login_options(struct con *c)
{
	static const char *const members[] = { "username", "user_verification", NULL };
	const char *user, *uv;
	const char *more[8];
	size_t n = 0;
	cJSON *out;
	int rc;

	if (!rate_ok(c) || !con_body_object(c) || !con_members_only(c, members) ||
	    !con_member_string(c, "username", 64, false, &user) ||
	    !con_member_string(c, "user_verification", 16, false, &uv))
		return 0;
	if (user && !username_ok(user))
		return con_error(c, 400, "username", "/username",
				 "A user name is 1 to 64 letters, digits or ._@+- characters.");
	if (uv && strcmp(uv, "required") && strcmp(uv, "preferred") && strcmp(uv, "discouraged"))
		return con_error(c, 400, "user_verification", "/user_verification",
				 "'user_verification' is required, preferred or discouraged.");
	if (user) {
		more[n++] = "--user";
		more[n++] = user;
	}
	if (uv) {
		more[n++] = "--user-verification";
		more[n++] = uv;
	}
	more[n] = NULL;
	rc = passkey(c, "login-options", more, NULL, &out);
	if (rc < 0)
		return rc;
	return options_reply(c, rc, out, "unknown_user", 404, "unknown_user", "/username");
}

int con_login_verify(struct con *c)
{
	struct isim_buf in = body_buf(c);
	char hdr[256] = "";
	const cJSON *user;
	cJSON *out;
	int rc;

	if (!rate_ok(c) || !con_body_object(c))
		return 0;
	rc = passkey(c, "login-verify", NULL, &in, &out);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		con_audit(c, "passkey.login", false, cJSON_CreateString(reason_of(out)));
		rc = con_error(c, 401, reason_of(out), NULL, "%s", message_of(out));
		cJSON_Delete(out);
		return rc;
	}
	user = cJSON_GetObjectItemCaseSensitive(out, "user");
	if (open_session(c, out, true, hdr, sizeof(hdr)) < 0) {
		cJSON_Delete(out);
		return -1;
	}
	con_audit(c, "passkey.login", true, cJSON_CreateString(cJSON_IsString(user) ? user->valuestring : ""));
	rc = con_json(c, 200, out, hdr);
	sodium_memzero(hdr, sizeof(hdr));
	return rc;
}

int con_logout(struct con *c)
{
	struct isim_error err;
	cJSON *o;

	isim_error_clear(&err);
	if (!con_body_object(c))
		return 0;
	if (con_session_revoke(c, &err) < 0)
		return con_fail(c, &err);
	con_audit(c, "logout", true, NULL);
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "ok");
	return con_json(c, 200, o, "Set-Cookie: " CON_COOKIE "=; Max-Age=0" COOKIE_ATTRS "\r\n");
}
