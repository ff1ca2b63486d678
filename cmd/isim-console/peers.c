/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qrencode.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/db.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "isim/prefix.h"
#include "isim/sde.h"
#include "isim/wg.h"

/* A peer is one of the user's devices: a WireGuard key, an address of the
 * mesh's network, and a node descriptor the console signs for it, which
 * isim-wgadmit admits on the gateway's device under its usual rules (host
 * routes first, the descriptor verified, then the ranges). */

#define KEEPALIVE 25
/* The descriptors the console signs last this long; rotating re-signs. */
#define DESCRIPTOR_DAYS 365
#define PEER_NAME_MAX 32

static bool peer_name_ok(const char *s)
{
	return con_name_ok(s, 1, PEER_NAME_MAX, true, " ._-") && s[0] != ' ' && s[strlen(s) - 1] != ' ';
}

static bool wg_key_ok(const char *s)
{
	uint8_t k[ISIM_WG_KEY_LEN];

	return isim_wg_key_parse(s, k);
}

/* A key pair made here (the browser asked for one): Curve25519, the
 * secret clamped as RFC 7748 §5 and WireGuard's `wg genkey` do. pub and
 * priv are base64; priv is secret memory. */
static int wg_keypair(char pub[static 45], char *priv)
{
	uint8_t *sk = sodium_malloc(32), pk[32];

	if (!sk)
		return -1;
	randombytes_buf(sk, 32);
	sk[0] &= 248;
	sk[31] = (uint8_t)((sk[31] & 127) | 64);
	if (crypto_scalarmult_base(pk, sk) < 0) {
		sodium_free(sk);
		return -1;
	}
	isim_wg_key_b64(sk, priv);
	isim_wg_key_b64(pk, pub);
	sodium_free(sk);
	return 0;
}

/* The mesh's network and the gateway's own address (its first host). */
static int mesh_net(const struct con *c, struct isim_prefix *net)
{
	const char *why;

	if (isim_prefix_parse(c->cfg.mesh_cidr, false, net, &why) < 0 || net->family != AF_INET || net->len > 30) {
		fprintf(stderr, CON_PROG ": CONSOLE_MESH_CIDR '%.64s' is not an IPv4 network of 4 addresses or more\n",
			c->cfg.mesh_cidr);
		return -1;
	}
	return 0;
}

/* The first free address of the network for a new peer, past the network
 * address and the gateway's: 1 and buf, 0 when none is left, -1. */
static int free_address(struct con *c, char *buf, size_t size, struct isim_error *err)
{
	struct isim_prefix net;
	sqlite3_stmt *q = NULL;
	uint32_t base, count, i;
	int found = 0;

	if (mesh_net(c, &net) < 0)
		return isim_error_set(err, ISIM_ERR_CONFIG, "CONSOLE_MESH_CIDR is not usable");
	memcpy(&base, net.addr, 4);
	base = ntohl(base);
	count = net.len == 0 ? 0xffffffffu : (1u << (32 - net.len));
	if (isim_db_prepare(c->db, "SELECT 1 FROM peers WHERE address = ?1", &q, err) < 0)
		return -1;
	for (i = 2; i + 1 < count && !found; i++) {
		struct in_addr a = { .s_addr = htonl(base + i) };

		inet_ntop(AF_INET, &a, buf, (socklen_t)size);
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, buf, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_DONE)
			found = 1;
	}
	sqlite3_finalize(q);
	return found;
}

/* The peer's descriptor, signed with the control plane's key (isim-sign),
 * then admitted (isim-wgadmit). 0 admitted, 1 refused (why in *why), -1
 * after a response. */
static int admit(struct con *c, const char *node_id, const char *key, const char *address, int64_t issued, char *why,
		 size_t why_size)
{
	const char *sign[] = { "isim-sign", "descriptor", "--stream", "-k", c->cfg.sign_key, NULL };
	const char *adm[] = { "isim-wgadmit",	"admit",       "--dev",		 c->cfg.wg_dev, "--network",
			      c->cfg.mesh_cidr, "--state-dir", c->cfg.state_dir, NULL };
	struct isim_buf in = { 0 }, signed_doc = { 0 }, verdict = { 0 };
	struct isim_error err;
	char t1[32], t2[32], host[64], *text = NULL;
	cJSON *d = cJSON_CreateObject(), *id, *v = NULL;
	const cJSON *ok, *reason;
	int rc = -1, st;

	isim_error_clear(&err);
	snprintf(host, sizeof(host), "%s/32", address);
	if (!d || isim_rfc3339((time_t)issued, t1, sizeof(t1)) < 0 ||
	    isim_rfc3339((time_t)(issued + DESCRIPTOR_DAYS * 86400LL), t2, sizeof(t2)) < 0)
		goto oom;
	cJSON_AddStringToObject(d, "node_id", node_id);
	id = cJSON_AddObjectToObject(d, "identity");
	cJSON_AddStringToObject(id, "wg_public_key", key);
	/* A device has no Ed25519 key of its own here; the schema wants one,
	 * and the console that vouches for it is the honest value. */
	cJSON_AddStringToObject(id, "ed25519_public_key", c->sign_pub);
	cJSON_AddObjectToObject(d, "endpoints");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "allowed_ips"), cJSON_CreateString(host));
	cJSON_AddStringToObject(d, "issued_at", t1);
	cJSON_AddStringToObject(d, "expires_at", t2);
	text = cJSON_PrintUnformatted(d);
	if (!text)
		goto oom;
	in.s = text;
	in.len = strlen(text);
	st = con_tool(c, sign, &in, &signed_doc, &err);
	if (st != 0) {
		if (!err.kind)
			isim_error_set(&err, ISIM_ERR_INTERNAL, "isim-sign descriptor exited %d", st);
		rc = con_fail(c, &err);
		goto out;
	}
	st = con_tool(c, adm, &signed_doc, &verdict, &err);
	if (st < 0 || st > 1) {
		rc = con_fail(c, &err);
		goto out;
	}
	if (verdict.oom ||
	    isim_json_parse(verdict.s ? verdict.s : "", verdict.len, "isim-wgadmit's verdict", &v, &err) < 0) {
		rc = con_fail(c, &err);
		goto out;
	}
	ok = cJSON_GetObjectItemCaseSensitive(v, "admitted");
	reason = cJSON_GetObjectItemCaseSensitive(v, "reason");
	snprintf(why, why_size, "%s", cJSON_IsString(reason) ? reason->valuestring : "refused");
	rc = cJSON_IsTrue(ok) ? 0 : 1;
	goto out;
oom:
	rc = con_error(c, 500, "internal", NULL, "Out of memory.");
out:
	cJSON_Delete(d);
	cJSON_Delete(v);
	free(text);
	free(signed_doc.s);
	free(verdict.s);
	return rc;
}

/* The control plane's Ed25519 public key, base64, into sign_pub: from
 * the minisign public key beside CONSOLE_SIGN_KEY (KEY.pub, as isim-sign
 * keygen -o KEY writes it), unless CONSOLE_SIGN_PUB gives it. */
static bool mesh_ready(struct con *c)
{
	const char *env = getenv("CONSOLE_SIGN_PUB");
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char path[4096];

	isim_error_clear(&err);
	if (!c->cfg.wg_dev || !c->cfg.sign_key) {
		fprintf(stderr, CON_PROG ": CONSOLE_WG_DEV and CONSOLE_SIGN_KEY must be set for the mesh\n");
		goto unavailable;
	}
	if (env && *env) {
		uint8_t k[ISIM_WG_KEY_LEN];

		/* Any 32 bytes in WireGuard's base64 spelling: the same as
		 * the descriptors' key32. */
		if (!isim_wg_key_parse(env, k)) {
			fprintf(stderr, CON_PROG ": CONSOLE_SIGN_PUB is not the base64 of 32 bytes\n");
			goto unavailable;
		}
		snprintf(c->sign_pub, sizeof(c->sign_pub), "%s", env);
		return true;
	}
	snprintf(path, sizeof(path), "%s.pub", c->cfg.sign_key);
	if (isim_ms_pubkey_load(path, &pk, &err) < 0) {
		isim_print_error(CON_PROG, &err);
		fprintf(stderr, CON_PROG ": the control plane's public key is KEY.pub beside CONSOLE_SIGN_KEY, or "
					 "CONSOLE_SIGN_PUB\n");
		goto unavailable;
	}
	sodium_bin2base64(c->sign_pub, sizeof(c->sign_pub), pk.pk, sizeof(pk.pk), sodium_base64_VARIANT_ORIGINAL);
	return true;
unavailable:
	con_error(c, 503, "unavailable", NULL, "The mesh is not set up on this console.");
	return false;
}

static cJSON *peer_json(sqlite3_stmt *q)
{
	cJSON *p = cJSON_CreateObject();

	if (!p)
		return NULL;
	cJSON_AddNumberToObject(p, "id", (double)sqlite3_column_int64(q, 0));
	cJSON_AddStringToObject(p, "name", (const char *)sqlite3_column_text(q, 1));
	cJSON_AddStringToObject(p, "address", (const char *)sqlite3_column_text(q, 2));
	cJSON_AddStringToObject(p, "node_id", (const char *)sqlite3_column_text(q, 3));
	cJSON_AddStringToObject(p, "public_key", (const char *)sqlite3_column_text(q, 4));
	cJSON_AddBoolToObject(p, "server_key", sqlite3_column_type(q, 5) != SQLITE_NULL);
	cJSON_AddStringToObject(p, "state", (const char *)sqlite3_column_text(q, 6));
	con_add_time(p, "created_at", q, 7);
	con_add_time(p, "rotated_at", q, 8);
	return p;
}

#define PEER_COLUMNS                                                                            \
	"id, name, address, node_id, public_key, private_key IS NOT NULL AND 1 OR NULL, state," \
	" created_at, rotated_at"

/* The user's peer :id: 1 and *q on its row (PEER_COLUMNS, then
 * private_key, issued_at), 0 after a 404 (another user's is no more found
 * than one that does not exist). */
static int peer_get(struct con *c, sqlite3_stmt **q)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "SELECT " PEER_COLUMNS ", private_key, issued_at FROM peers WHERE id = ?1 AND user_id = ?2",
			    q, &err) < 0) {
		con_fail(c, &err);
		return 0;
	}
	sqlite3_bind_int64(*q, 1, c->req.id);
	sqlite3_bind_int64(*q, 2, c->s.user_id);
	if (sqlite3_step(*q) != SQLITE_ROW) {
		sqlite3_finalize(*q);
		*q = NULL;
		con_error(c, 404, "not_found", NULL, "You have no peer %lld.", (long long)c->req.id);
		return 0;
	}
	return 1;
}

int con_peers_list(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *o = cJSON_CreateObject(), *a, *g;

	isim_error_clear(&err);
	if (!o)
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	a = cJSON_AddArrayToObject(o, "peers");
	if (isim_db_prepare(c->db, "SELECT " PEER_COLUMNS " FROM peers WHERE user_id = ?1 ORDER BY id", &q, &err) < 0) {
		cJSON_Delete(o);
		return con_fail(c, &err);
	}
	sqlite3_bind_int64(q, 1, c->s.user_id);
	while (sqlite3_step(q) == SQLITE_ROW)
		cJSON_AddItemToArray(a, peer_json(q));
	sqlite3_finalize(q);
	cJSON_AddStringToObject(o, "network_cidr", c->cfg.mesh_cidr);
	g = cJSON_AddObjectToObject(o, "gateway");
	if (c->cfg.gateway)
		cJSON_AddStringToObject(g, "endpoint", c->cfg.gateway);
	else
		cJSON_AddNullToObject(g, "endpoint");
	if (getenv("CONSOLE_WG_PUBLIC_KEY"))
		cJSON_AddStringToObject(g, "public_key", getenv("CONSOLE_WG_PUBLIC_KEY"));
	else
		cJSON_AddNullToObject(g, "public_key");
	return con_json(c, 200, o, NULL);
}

/* The public key from the body, or a pair made here: 0, or -1 after a
 * response. */
static int key_from_body(struct con *c, char pub[static 45], char **priv)
{
	const char *k;

	*priv = NULL;
	if (!con_member_string(c, "public_key", 64, false, &k))
		return -1;
	if (k) {
		if (!wg_key_ok(k))
			return con_error(c, 400, "public_key", "/public_key",
					 "'public_key' is not a WireGuard key (the base64 of 32 bytes)."),
			       -1;
		snprintf(pub, 45, "%s", k);
		return 0;
	}
	*priv = sodium_malloc(45);
	if (!*priv || wg_keypair(pub, *priv) < 0) {
		sodium_free(*priv);
		*priv = NULL;
		return con_error(c, 500, "internal", NULL, "Cannot make a key pair."), -1;
	}
	return 0;
}

static int peer_respond(struct con *c, int status, int64_t id)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *o;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "SELECT " PEER_COLUMNS " FROM peers WHERE id = ?1", &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return con_error(c, 500, "internal", NULL, "The peer vanished.");
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "peer", peer_json(q));
	sqlite3_finalize(q);
	return con_json(c, status, o, NULL);
}

int con_peers_create(struct con *c)
{
	static const char *const members[] = { "name", "public_key", NULL };
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	const char *name;
	char pub[45], *priv = NULL, addr[64], node_id[64], why[512];
	int64_t id = 0;
	int rc = 0, found;

	isim_error_clear(&err);
	if (!con_body_object(c) || !con_members_only(c, members) ||
	    !con_member_string(c, "name", PEER_NAME_MAX, true, &name))
		return 0;
	if (!peer_name_ok(name))
		return con_error(c, 400, "name", "/name", "A peer's name is 1 to %d letters, digits, spaces or ._-.",
				 PEER_NAME_MAX);
	if (!mesh_ready(c) || key_from_body(c, pub, &priv) < 0)
		goto out;
	/* The address and the row in one transaction, so that two requests
	 * at once never take the same address. */
	if (isim_db_begin(c->db, &err) < 0)
		goto fail;
	found = free_address(c, addr, sizeof(addr), &err);
	if (found < 0)
		goto fail;
	if (!found) {
		isim_db_rollback(c->db);
		rc = con_error(c, 409, "pool_exhausted", NULL, "Every address of %s is taken.", c->cfg.mesh_cidr);
		goto out;
	}
	if (isim_db_prepare(c->db,
			    "INSERT INTO peers (user_id, name, address, node_id, public_key, private_key, state,"
			    " created_at, issued_at) VALUES (?1, ?2, ?3, '', ?4, ?5, 'pending', ?6, ?6)",
			    &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, pub, -1, SQLITE_STATIC);
	if (priv)
		sqlite3_bind_blob(q, 5, priv, (int)strlen(priv), SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 5);
	sqlite3_bind_int64(q, 6, c->now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (rc == SQLITE_CONSTRAINT) {
		isim_db_rollback(c->db);
		rc = con_error(c, 409, "name_taken", "/name", "You have a peer called '%.32s' already.", name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the peer", &err);
		goto fail;
	}
	id = sqlite3_last_insert_rowid(c->db);
	snprintf(node_id, sizeof(node_id), "console-%lld", (long long)id);
	if (isim_db_prepare(c->db, "UPDATE peers SET node_id = ?2 WHERE id = ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, node_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (rc != SQLITE_DONE || isim_db_commit(c->db, &err) < 0) {
		if (!err.kind)
			isim_db_error(c->db, "cannot store the peer", &err);
		goto fail;
	}
	rc = admit(c, node_id, pub, addr, c->now, why, sizeof(why));
	if (rc != 0) {
		/* Refused or failed: the address goes back to the pool. */
		if (isim_db_prepare(c->db, "DELETE FROM peers WHERE id = ?1", &q, &err) == 0) {
			sqlite3_bind_int64(q, 1, id);
			sqlite3_step(q);
			sqlite3_finalize(q);
			q = NULL;
		}
		con_audit(c, "peer.create", false, cJSON_CreateString(why));
		if (rc == 1)
			rc = con_error(c, 409, "admission", NULL, "The gateway refused the peer: %.300s", why);
		goto out;
	}
	if (isim_db_prepare(c->db, "UPDATE peers SET state = 'admitted' WHERE id = ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	{
		cJSON *d = cJSON_CreateObject();

		cJSON_AddNumberToObject(d, "peer", (double)id);
		cJSON_AddStringToObject(d, "node_id", node_id);
		cJSON_AddStringToObject(d, "address", addr);
		cJSON_AddStringToObject(d, "public_key", pub);
		cJSON_AddBoolToObject(d, "server_key", priv != NULL);
		con_audit(c, "peer.create", true, d);
	}
	rc = peer_respond(c, 201, id);
	goto out;
fail:
	sqlite3_finalize(q);
	isim_db_rollback(c->db);
	rc = con_fail(c, &err);
out:
	sodium_free(priv);
	return rc;
}

int con_peer_rotate(struct con *c)
{
	static const char *const members[] = { "public_key", NULL };
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	char pub[45], *priv = NULL, addr[64], node_id[64], why[512];
	int64_t issued;
	int rc = 0;

	isim_error_clear(&err);
	if (!con_body_object(c) || !con_members_only(c, members) || !peer_get(c, &q))
		return 0;
	snprintf(addr, sizeof(addr), "%s", (const char *)sqlite3_column_text(q, 2));
	snprintf(node_id, sizeof(node_id), "%s", (const char *)sqlite3_column_text(q, 3));
	/* isim-wgadmit takes a rotation only from a newer descriptor, and
	 * none issued in the future: one a second at most. */
	issued = c->now;
	if (sqlite3_column_int64(q, 10) >= issued) {
		sqlite3_finalize(q);
		return con_error(c, 409, "too_soon", NULL, "The peer's key changed this second; try again.");
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!mesh_ready(c) || key_from_body(c, pub, &priv) < 0)
		goto out;
	rc = admit(c, node_id, pub, addr, issued, why, sizeof(why));
	if (rc != 0) {
		con_audit(c, "peer.rotate", false, cJSON_CreateString(why));
		if (rc == 1)
			rc = con_error(c, 409, "admission", NULL, "The gateway refused the new key: %.300s", why);
		goto out;
	}
	if (isim_db_prepare(c->db,
			    "UPDATE peers SET public_key = ?2, private_key = ?3, rotated_at = ?4, issued_at = ?5,"
			    " state = 'admitted' WHERE id = ?1",
			    &q, &err) < 0) {
		rc = con_fail(c, &err);
		goto out;
	}
	sqlite3_bind_int64(q, 1, c->req.id);
	sqlite3_bind_text(q, 2, pub, -1, SQLITE_STATIC);
	if (priv)
		sqlite3_bind_blob(q, 3, priv, (int)strlen(priv), SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 3);
	sqlite3_bind_int64(q, 4, c->now);
	sqlite3_bind_int64(q, 5, issued);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the new key", &err);
		rc = con_fail(c, &err);
		goto out;
	}
	{
		cJSON *d = cJSON_CreateObject();

		cJSON_AddNumberToObject(d, "peer", (double)c->req.id);
		cJSON_AddStringToObject(d, "public_key", pub);
		con_audit(c, "peer.rotate", true, d);
	}
	rc = peer_respond(c, 200, c->req.id);
out:
	sodium_free(priv);
	return rc;
}

int con_peer_delete(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	char node_id[64];
	int st;
	cJSON *o;

	isim_error_clear(&err);
	if (!peer_get(c, &q))
		return 0;
	snprintf(node_id, sizeof(node_id), "%s", (const char *)sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	q = NULL;
	if (!mesh_ready(c))
		return 0;
	{
		const char *argv[] = { "isim-wgadmit", "remove",	 "--dev", c->cfg.wg_dev,
				       "--state-dir",  c->cfg.state_dir, node_id, NULL };
		struct isim_buf out = { 0 };

		/* 1: the device has no such node any more, which is the end
		 * wanted. */
		st = con_tool(c, argv, NULL, &out, &err);
		free(out.s);
		if (st < 0 || st > 1)
			return con_fail(c, &err);
	}
	if (isim_db_prepare(c->db, "DELETE FROM peers WHERE id = ?1", &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, c->req.id);
	st = sqlite3_step(q);
	sqlite3_finalize(q);
	if (st != SQLITE_DONE) {
		isim_db_error(c->db, "cannot remove the peer", &err);
		return con_fail(c, &err);
	}
	con_audit(c, "peer.remove", true, cJSON_CreateString(node_id));
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "ok");
	return con_json(c, 200, o, NULL);
}

/* The gateway's public key: CONSOLE_WG_PUBLIC_KEY, else the device's own
 * (`wg show DEV public-key`). 0, or -1 with err. */
static int gateway_key(struct con *c, char out[static 45], struct isim_error *err)
{
	const char *env = getenv("CONSOLE_WG_PUBLIC_KEY");
	const char *argv[] = { "wg", "show", c->cfg.wg_dev, "public-key", NULL };
	struct isim_buf b = { 0 };
	int st;

	if (env && wg_key_ok(env)) {
		snprintf(out, 45, "%s", env);
		return 0;
	}
	st = con_tool(c, argv, NULL, &b, err);
	if (st == 0 && b.s && b.len >= 44) {
		memcpy(out, b.s, 44);
		out[44] = '\0';
	}
	free(b.s);
	if (st != 0 || !wg_key_ok(out)) {
		if (!err->kind)
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "cannot read the public key of %s", c->cfg.wg_dev);
		return -1;
	}
	return 0;
}

/* The QR code of text as SVG (ISO/IEC 18004 through libqrencode), into
 * one buffer sized ahead, since the picture is as secret as the text. */
static char *qr_svg(const char *text, size_t *len)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	size_t cap, n;
	char *b;
	int x, y, w;

	if (!qr)
		return NULL;
	w = qr->width;
	cap = 1024 + (size_t)w * (size_t)w * 24;
	b = malloc(cap);
	if (!b) {
		QRcode_free(qr);
		return NULL;
	}
	n = (size_t)snprintf(
		b, cap,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\"><title>WireGuard configuration</title>"
		"<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		w + 8, w + 8, w + 8, w + 8);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++)
			if (qr->data[y * w + x] & 1)
				n += (size_t)snprintf(b + n, cap - n, "M%d %dh1v1h-1z", x + 4, y + 4);
	n += (size_t)snprintf(b + n, cap - n, "\"/></svg>\n");
	sodium_memzero(qr->data, (size_t)w * (size_t)w);
	QRcode_free(qr);
	*len = n;
	return b;
}

#define CONF_MAX 2048

int con_peer_config(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	char gw[45], fmt[16], name[64], hdr[256], *conf = NULL, *svg = NULL;
	size_t n = 0, svg_len = 0;
	const char *f;
	bool secret;
	int rc;

	isim_error_clear(&err);
	f = con_query(c, "format", fmt, sizeof(fmt));
	if (f && strcmp(f, "conf") && strcmp(f, "svg"))
		return con_error(c, 400, "format", NULL, "format is conf or svg, not '%.16s'.", f);
	if (!peer_get(c, &q))
		return 0;
	secret = sqlite3_column_type(q, 9) != SQLITE_NULL;
	if (secret && (!c->s.user_verified || c->now - c->s.created_at > CON_STEP_UP_SECONDS)) {
		sqlite3_finalize(q);
		return con_error(c, 403, "step_up_required", NULL,
				 "This configuration holds a private key: sign in again with your passkey (user "
				 "verification) first.");
	}
	if (!mesh_ready(c) || gateway_key(c, gw, &err) < 0) {
		sqlite3_finalize(q);
		return c->responded ? 0 : con_fail(c, &err);
	}
	/* wg-quick(8)'s format; the private key only in secret memory. */
	conf = sodium_malloc(CONF_MAX);
	if (!conf) {
		sqlite3_finalize(q);
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	}
	n += (size_t)snprintf(conf + n, CONF_MAX - n, "# %.32s: %s of the mesh %.64s\n[Interface]\n",
			      (const char *)sqlite3_column_text(q, 1), (const char *)sqlite3_column_text(q, 2),
			      c->cfg.mesh_cidr);
	if (secret)
		n += (size_t)snprintf(conf + n, CONF_MAX - n, "PrivateKey = %.44s\n",
				      (const char *)sqlite3_column_blob(q, 9));
	else
		n += (size_t)snprintf(conf + n, CONF_MAX - n,
				      "# PrivateKey = the key of your device, which never left it\n");
	n += (size_t)snprintf(conf + n, CONF_MAX - n, "Address = %s/32\n\n[Peer]\nPublicKey = %s\nAllowedIPs = %.64s\n",
			      (const char *)sqlite3_column_text(q, 2), gw, c->cfg.mesh_cidr);
	if (c->cfg.gateway)
		n += (size_t)snprintf(conf + n, CONF_MAX - n, "Endpoint = %.200s\n", c->cfg.gateway);
	n += (size_t)snprintf(conf + n, CONF_MAX - n, "PersistentKeepalive = %d\n", KEEPALIVE);
	snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	/* Recorded before the answer: the server may end a CGI once it has
	 * the whole response. */
	con_audit(c, "peer.config", true, cJSON_CreateString(name));
	if (f && !strcmp(f, "svg")) {
		svg = qr_svg(conf, &svg_len);
		if (!svg) {
			rc = con_error(c, 500, "internal", NULL, "Cannot draw the QR code.");
		} else {
			con_respond(c, 200, "image/svg+xml", NULL, svg, svg_len);
			rc = 0;
		}
	} else {
		snprintf(hdr, sizeof(hdr), "Content-Disposition: attachment; filename=\"%s.conf\"\r\n", name);
		con_respond(c, 200, "text/plain; charset=utf-8", hdr, conf, n);
		rc = 0;
	}
	sodium_free(conf);
	if (svg)
		sodium_memzero(svg, svg_len);
	free(svg);
	return rc;
}
