/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/webauthn.h"

static const char *alg_name(int64_t alg)
{
	switch (alg) {
	case -7:
		return "ES256";
	case -8:
		return "EdDSA";
	case -257:
		return "RS256";
	default:
		return "other";
	}
}

int con_me(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *o = cJSON_CreateObject(), *u, *s, *pks, *id;
	int rc;

	isim_error_clear(&err);
	if (!o)
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	u = cJSON_AddObjectToObject(o, "user");
	cJSON_AddStringToObject(u, "name", c->s.user);
	cJSON_AddStringToObject(u, "display_name", c->s.display);
	s = cJSON_AddObjectToObject(o, "session");
	pks = cJSON_AddArrayToObject(o, "passkeys");
	if (con_pk_query(c,
			 "SELECT u.created_at, ?2, ?3, c.id, c.alg, c.created_at, c.last_used_at, c.backed_up"
			 " FROM users u LEFT JOIN credentials c ON c.user_id = u.id WHERE u.id = ?1"
			 " ORDER BY c.created_at",
			 &q, &err) < 0) {
		cJSON_Delete(o);
		return con_fail(c, &err);
	}
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_int64(q, 2, c->s.created_at);
	sqlite3_bind_int64(q, 3, c->s.expires_at);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		cJSON *p;
		char *cid;

		if (!cJSON_GetObjectItemCaseSensitive(u, "created_at")) {
			con_add_time(u, "created_at", q, 0);
			con_add_time(s, "created_at", q, 1);
			con_add_time(s, "expires_at", q, 2);
			cJSON_AddBoolToObject(s, "user_verified", c->s.user_verified);
		}
		if (sqlite3_column_type(q, 3) == SQLITE_NULL)
			continue;
		p = cJSON_CreateObject();
		cid = isim_wa_b64url_encode(sqlite3_column_blob(q, 3), (size_t)sqlite3_column_bytes(q, 3));
		if (!p || !cid || !cJSON_AddItemToArray(pks, p)) {
			cJSON_Delete(p);
			free(cid);
			rc = SQLITE_NOMEM;
			break;
		}
		cJSON_AddStringToObject(p, "credential_id", cid);
		free(cid);
		cJSON_AddStringToObject(p, "alg_name", alg_name(sqlite3_column_int64(q, 4)));
		con_add_time(p, "created_at", q, 5);
		con_add_time(p, "last_used_at", q, 6);
		cJSON_AddBoolToObject(p, "backed_up", sqlite3_column_int(q, 7) != 0);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(o);
		return con_error(c, 500, "internal", NULL, "The passkeys cannot be read.");
	}
	id = con_identity_json(c);
	if (!id) {
		cJSON_Delete(o);
		return con_error(c, 500, "internal", NULL, "The identity cannot be read.");
	}
	cJSON_AddItemToObject(o, "identity", id);
	return con_json(c, 200, o, NULL);
}
