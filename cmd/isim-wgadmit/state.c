/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "isim/db.h"
#include "isim/descriptor.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/sde.h"
#include "wgadmit.h"

/* Version 1. "nodes" is why each peer is on the device; "pending" lists
 * the keys a run is about to put there before it does, so that the next
 * run can take them off again if it was killed before recording them;
 * "decisions" is the history. */
static const char *const migrations[] = {
	"CREATE TABLE nodes ("
	" dev TEXT NOT NULL,"
	" node_id TEXT NOT NULL,"
	" wg_key TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('narrow', 'admitted')),"
	" allowed_ips TEXT NOT NULL,"
	" descriptor_sha256 TEXT NOT NULL,"
	" key_id TEXT,"
	" signer TEXT,"
	" issued_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" admitted_at INTEGER NOT NULL,"
	" descriptor TEXT NOT NULL,"
	" PRIMARY KEY (dev, node_id),"
	" UNIQUE (dev, wg_key));"
	"CREATE TABLE pending ("
	" dev TEXT NOT NULL,"
	" wg_key TEXT NOT NULL,"
	" node_id TEXT NOT NULL,"
	" since INTEGER NOT NULL,"
	" PRIMARY KEY (dev, wg_key));"
	"CREATE TABLE decisions ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" dev TEXT NOT NULL,"
	" node_id TEXT,"
	" wg_key TEXT,"
	" decision TEXT NOT NULL,"
	" reason TEXT,"
	" descriptor_sha256 TEXT);",
};

static const struct isim_db_schema schema = {
	.name = "isim-wgadmit",
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(migrations[0]),
};

int wa_option(const char *prog, void *opts, int c, const char *arg)
{
	struct wa_opts *o = opts;

	switch (c) {
	case WA_OPT_DEV:
		return isim_opt_once(prog, "--dev", &o->dev, arg) ? ISIM_EXIT_USAGE : 1;
	case WA_OPT_UAPI_DIR:
		return isim_opt_once(prog, "--uapi-dir", &o->uapi_dir, arg) ? ISIM_EXIT_USAGE : 1;
	case WA_OPT_STATE_DIR:
		return isim_opt_once(prog, "--state-dir", &o->state_dir, arg) ? ISIM_EXIT_USAGE : 1;
	}
	return 0;
}

int wa_getopt(struct isim_getopt *g, struct wa_opts *o, int argc, char *argv[])
{
	return isim_getopt_shared(g, wa_option, o, argc, argv);
}

int wa_options_finish(const char *prog, const struct wa_opts *o)
{
	if (!o->dev)
		return isim_usage_error(prog, "--dev DEV is required");
	/* Before anything is opened, so that it is said as a usage error. */
	if (!isim_wg_ifname_valid(o->dev))
		return isim_bad_value(prog, "--dev", o->dev, ISIM_WG_IFNAME_RULE);
	return 0;
}

static bool key_from_b64(const char *s, uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t n;
	const char *end;

	return sodium_base642bin(key, ISIM_WG_KEY_LEN, s, strlen(s), NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) ==
		       0 &&
	       !*end && n == ISIM_WG_KEY_LEN;
}

struct cJSON *wa_prefixes_json(const struct isim_prefix *p, size_t n)
{
	char text[ISIM_PREFIX_STRLEN];
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++) {
		isim_prefix_format(&p[i], text);
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(text))) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

struct cJSON *wa_time_json(int64_t t)
{
	char text[32];

	if (!t || isim_rfc3339((time_t)t, text, sizeof(text)) < 0)
		return cJSON_CreateNull();
	return cJSON_CreateString(text);
}

int wa_parse_at(const char *s, time_t *out)
{
	int64_t ms;

	if (!isim_parse_at_ms(s, &ms) || ms < 0)
		return -1;
	*out = (time_t)(ms / 1000);
	return 0;
}

void wa_reason_word(char *reason, size_t size)
{
	char copy[ISIM_VERDICT_REASON_MAX];
	const char *word = "refused";

	snprintf(copy, sizeof(copy), "%s", reason);
	if (!strncmp(copy, "/attestation/signature", 22))
		word = "signature";
	else if (!strncmp(copy, "/attestation/key_id", 19))
		word = strstr(copy, "revoked") ? "revoked" : "untrusted";
	else if (!strncmp(copy, "/expires_at", 11))
		word = "expired";
	else if (!strncmp(copy, "/issued_at", 10))
		word = "not yet valid";
	else if (!strncmp(copy, "/attestation", 12))
		word = "unsigned";
	snprintf(reason, size, "%s: %s", word, copy);
}

int wa_print_line(const char *prog, struct cJSON *obj)
{
	if (!obj) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return ISIM_EXIT_SOFTWARE;
	}
	if (isim_json_write_line(stdout, obj) < 0 || fflush(stdout) == EOF) {
		cJSON_Delete(obj);
		return isim_stdout_error(prog);
	}
	cJSON_Delete(obj);
	return 0;
}

/* ---- rows ---------------------------------------------------------------- */

void wa_node_clear(struct wa_node *n)
{
	free(n->allowed);
	free(n->signer);
	memset(n, 0, sizeof(*n));
}

/* Two open-addressing tables of row numbers + 1 (0: empty), by node id
 * and by key, so that a run over ten thousand rows looks each up in
 * constant time. An entry is a hint: lookups compare the row itself, so
 * an entry left by a row that changed its key, or went, is skipped. */
static size_t hash_id(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t hash_key(const uint8_t *k)
{
	size_t h;

	memcpy(&h, k, sizeof(h)); /* keys are uniformly random */
	return h;
}

static void slot_put(size_t *t, size_t cap, size_t h, size_t row)
{
	size_t i;

	for (i = h & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
		if (t[i] == row + 1)
			return;
	t[i] = row + 1;
}

static int index_grow(struct wa_ctx *c)
{
	size_t cap = c->hcap ? 2 * c->hcap : 256, i;
	size_t *id = calloc(cap, sizeof(*id)), *key = calloc(cap, sizeof(*key));

	if (!id || !key) {
		free(id);
		free(key);
		return -1;
	}
	free(c->by_id);
	free(c->by_key);
	c->by_id = id;
	c->by_key = key;
	c->hcap = cap;
	c->hused = 0;
	for (i = 0; i < c->nnodes; i++) {
		if (c->nodes[i].node_id[0]) {
			slot_put(id, cap, hash_id(c->nodes[i].node_id), i);
			slot_put(key, cap, hash_key(c->nodes[i].key), i);
			c->hused++;
		}
	}
	return 0;
}

int wa_node_index(struct wa_ctx *c, const struct wa_node *n)
{
	size_t row = (size_t)(n - c->nodes);

	if (2 * (c->hused + 1) > c->hcap && index_grow(c) < 0)
		return -1;
	slot_put(c->by_id, c->hcap, hash_id(n->node_id), row);
	slot_put(c->by_key, c->hcap, hash_key(n->key), row);
	c->hused++;
	return 0;
}

struct wa_node *wa_node_by_id(const struct wa_ctx *c, const char *node_id)
{
	size_t i, r;

	if (!c->hcap)
		return NULL;
	for (i = hash_id(node_id) & (c->hcap - 1); (r = c->by_id[i]); i = (i + 1) & (c->hcap - 1)) {
		if (!c->nodes[r - 1].gone && !strcmp(c->nodes[r - 1].node_id, node_id))
			return &c->nodes[r - 1];
	}
	return NULL;
}

struct wa_node *wa_node_by_key(const struct wa_ctx *c, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t i, r;

	if (!c->hcap)
		return NULL;
	for (i = hash_key(key) & (c->hcap - 1); (r = c->by_key[i]); i = (i + 1) & (c->hcap - 1)) {
		if (!c->nodes[r - 1].gone && !memcmp(c->nodes[r - 1].key, key, ISIM_WG_KEY_LEN))
			return &c->nodes[r - 1];
	}
	return NULL;
}

struct wa_node *wa_node_add(struct wa_ctx *c)
{
	struct wa_node *n;

	if (c->nnodes == c->capnodes) {
		size_t cap = c->capnodes ? 2 * c->capnodes : 64;

		n = realloc(c->nodes, cap * sizeof(*n));
		if (!n)
			return NULL;
		c->nodes = n;
		c->capnodes = cap;
	}
	n = &c->nodes[c->nnodes++];
	memset(n, 0, sizeof(*n));
	return n;
}

static int prefixes_text(const struct isim_prefix *p, size_t n, char **out)
{
	char text[ISIM_PREFIX_STRLEN];
	struct isim_buf b = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		isim_prefix_format(&p[i], text);
		isim_buf_printf(&b, "%s%s", i ? " " : "", text);
	}
	if (!n)
		isim_buf_puts(&b, "");
	*out = isim_buf_take(&b);
	return *out ? 0 : -1;
}

static int prefixes_parse(const char *s, struct isim_prefix **out, size_t *n)
{
	char *copy = strdup(s), *tok, *save = NULL;
	struct isim_prefix *p = NULL, *q;
	const char *why;
	size_t k = 0;
	int ret = -1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		q = realloc(p, (k + 1) * sizeof(*p));
		if (!q)
			goto out;
		p = q;
		if (isim_prefix_parse(tok, false, &p[k], &why) < 0)
			goto out;
		k++;
	}
	*out = p;
	*n = k;
	p = NULL;
	ret = 0;
out:
	free(p);
	free(copy);
	return ret;
}

static int load_rows(struct wa_ctx *c, struct isim_error *err)
{
	static const char sql[] = "SELECT node_id, wg_key, state, allowed_ips, descriptor_sha256, key_id, signer,"
				  " issued_at, expires_at, admitted_at FROM nodes WHERE dev = ?1 ORDER BY node_id";
	sqlite3_stmt *st = NULL;
	struct wa_node *n;
	const char *s;
	int rc, ret = -1;

	if (isim_db_prepare(c->db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = wa_node_add(c);
		if (!n) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		s = (const char *)sqlite3_column_text(st, 0);
		snprintf(n->node_id, sizeof(n->node_id), "%s", s ? s : "");
		s = (const char *)sqlite3_column_text(st, 1);
		if (!s || !key_from_b64(s, n->key) ||
		    prefixes_parse((const char *)sqlite3_column_text(st, 3), &n->allowed, &n->nallowed) < 0) {
			isim_error_set(err, ISIM_ERR_CONFIG, "node '%.64s' has a malformed row", n->node_id);
			goto out;
		}
		s = (const char *)sqlite3_column_text(st, 2);
		n->state = s && !strcmp(s, "admitted") ? WA_ADMITTED : WA_NARROW;
		s = (const char *)sqlite3_column_text(st, 4);
		snprintf(n->digest, sizeof(n->digest), "%s", s ? s : "");
		s = (const char *)sqlite3_column_text(st, 5);
		snprintf(n->key_id, sizeof(n->key_id), "%s", s ? s : "");
		s = (const char *)sqlite3_column_text(st, 6);
		n->signer = s ? strdup(s) : NULL;
		n->issued_at = sqlite3_column_int64(st, 7);
		n->expires_at = sqlite3_column_int64(st, 8);
		n->admitted_at = sqlite3_column_int64(st, 9);
		if (wa_node_index(c, n) < 0) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot read the state", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Statement which of c (sql), prepared on its first use: once a node, a
 * statement's preparing would be most of its cost. The caller resets it
 * (done) after its step. */
static int stmt(struct wa_ctx *c, int which, const char *sql, sqlite3_stmt **st, struct isim_error *err)
{
	if (!c->stmts[which] && isim_db_prepare(c->db, sql, &c->stmts[which], err) < 0)
		return -1;
	*st = c->stmts[which];
	return 0;
}

static void done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

int wa_db_put(struct wa_ctx *c, const struct wa_node *n, const char *descriptor, struct isim_error *err)
{
	static const char sql[] = "INSERT OR REPLACE INTO nodes (dev, node_id, wg_key, state, allowed_ips,"
				  " descriptor_sha256, key_id, signer, issued_at, expires_at, admitted_at, descriptor)"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	sqlite3_stmt *st = NULL;
	char key[45], *allowed = NULL;
	int ret = -1;

	isim_wg_key_b64(n->key, key);
	if (prefixes_text(n->allowed, n->nallowed, &allowed) < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (stmt(c, WA_STMT_PUT, sql, &st, err) < 0)
		goto out;
	/* A row of another node with this key (rotated away in this run)
	 * goes first: keys are unique. */
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->state == WA_ADMITTED ? "admitted" : "narrow", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, allowed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->digest, -1, SQLITE_STATIC);
	if (n->key_id[0])
		sqlite3_bind_text(st, 7, n->key_id, -1, SQLITE_STATIC);
	if (n->signer)
		sqlite3_bind_text(st, 8, n->signer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, n->issued_at);
	sqlite3_bind_int64(st, 10, n->expires_at);
	sqlite3_bind_int64(st, 11, n->admitted_at);
	sqlite3_bind_text(st, 12, descriptor ? descriptor : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		isim_db_error(c->db, "cannot record the node", err);
		goto out;
	}
	ret = 0;
out:
	done(st);
	free(allowed);
	return ret;
}

static int exec_dev(struct wa_ctx *c, const char *sql, const char *arg, const char *what, struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (isim_db_prepare(c->db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	if (arg)
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		isim_db_error(c->db, what, err);
	else
		ret = 0;
	sqlite3_finalize(st);
	return ret;
}

int wa_db_delete(struct wa_ctx *c, const char *node_id, struct isim_error *err)
{
	return exec_dev(c, "DELETE FROM nodes WHERE dev = ?1 AND node_id = ?2", node_id, "cannot delete the node", err);
}

int wa_db_clear_pending(struct wa_ctx *c, struct isim_error *err)
{
	return exec_dev(c, "DELETE FROM pending WHERE dev = ?1", NULL, "cannot clear pending keys", err);
}

int wa_db_pending(struct wa_ctx *c, const uint8_t key[static ISIM_WG_KEY_LEN], const char *node_id,
		  struct isim_error *err)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO pending (dev, wg_key, node_id, since) VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = NULL;
	char k[45];
	int ret = -1;

	isim_wg_key_b64(key, k);
	if (stmt(c, WA_STMT_PENDING, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		isim_db_error(c->db, "cannot record a pending key", err);
	else
		ret = 0;
	done(st);
	return ret;
}

int wa_db_decide(struct wa_ctx *c, const char *node_id, const uint8_t *key, const char *decision, const char *reason,
		 const char *digest, struct isim_error *err)
{
	static const char sql[] =
		"INSERT INTO decisions (at, dev, node_id, wg_key, decision, reason, descriptor_sha256)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = NULL;
	char k[45];
	int ret = -1;

	if (stmt(c, WA_STMT_DECIDE, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, c->dev, -1, SQLITE_STATIC);
	if (node_id)
		sqlite3_bind_text(st, 3, node_id, -1, SQLITE_STATIC);
	if (key) {
		isim_wg_key_b64(key, k);
		sqlite3_bind_text(st, 4, k, -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(st, 5, decision, -1, SQLITE_STATIC);
	if (reason && *reason)
		sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	if (digest && *digest)
		sqlite3_bind_text(st, 7, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		isim_db_error(c->db, "cannot record the decision", err);
	else
		ret = 0;
	done(st);
	return ret;
}

/* ---- the device ---------------------------------------------------------- */

static int apply_failed(struct wa_ctx *c, struct isim_error *err)
{
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	isim_error_set(err, err->kind, "%s: cannot change the device: %s", c->dev, msg);
	return isim_fail(c->prog, err);
}

int wa_apply_begin(struct wa_ctx *c, const struct isim_wg_peer *changes, size_t n, int *ticket)
{
	struct isim_error err;

	isim_error_clear(&err);
	return isim_wg_set_begin(c->wg, changes, n, ticket, &err) < 0 ? apply_failed(c, &err) : 0;
}

int wa_apply_end(struct wa_ctx *c, int ticket)
{
	struct isim_error err;

	isim_error_clear(&err);
	return isim_wg_set_end(c->wg, ticket, &err) < 0 ? apply_failed(c, &err) : 0;
}

int wa_apply(struct wa_ctx *c, const struct isim_wg_peer *changes, size_t n)
{
	int ticket, rc = wa_apply_begin(c, changes, n, &ticket);

	return rc ? rc : wa_apply_end(c, ticket);
}

static bool same_prefixes(const struct isim_prefix *a, size_t na, const struct isim_prefix *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && !isim_prefix_equal(&a[i], &b[j]); j++)
			;
		if (j == nb)
			return false;
	}
	return true;
}

/* The keys an earlier run recorded as pending, which it may have put on
 * the device and not recorded after. */
static int pending_keys(struct wa_ctx *c, uint8_t (**keys)[ISIM_WG_KEY_LEN], size_t *n, struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	uint8_t(*k)[ISIM_WG_KEY_LEN] = NULL, (*q)[ISIM_WG_KEY_LEN];
	size_t m = 0;
	const char *s;
	int rc, ret = -1;

	if (isim_db_prepare(c->db, "SELECT wg_key FROM pending WHERE dev = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		q = realloc(k, (m + 1) * sizeof(*k));
		if (!q) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		k = q;
		if (s && key_from_b64(s, k[m]))
			m++;
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot read the state", err);
		goto out;
	}
	*keys = k;
	*n = m;
	k = NULL;
	ret = 0;
out:
	free(k);
	sqlite3_finalize(st);
	return ret;
}

/* Roll the device back to what the state last recorded: pending keys that
 * no row owns come off, rows whose peer is gone go, and a peer whose
 * AllowedIPs differ from its row's gets the row's again. One device change,
 * then one transaction; both are idempotent, so a run killed between them
 * is finished by the next. */
static int reconcile(struct wa_ctx *c)
{
	struct isim_error err;
	uint8_t(*pend)[ISIM_WG_KEY_LEN] = NULL;
	size_t npend = 0, nch = 0, i;
	struct isim_wg_peer *ch = NULL, *p;
	struct wa_node *n;
	bool *fixed = NULL;
	int ret = ISIM_EXIT_SOFTWARE, rc;

	isim_error_clear(&err);
	if (pending_keys(c, &pend, &npend, &err) < 0)
		return isim_fail(c->prog, &err);
	ch = calloc(npend + c->nnodes + 1, sizeof(*ch));
	fixed = calloc(c->nnodes + 1, sizeof(*fixed));
	if (!ch || !fixed) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		goto out;
	}
	for (i = 0; i < npend; i++) {
		n = wa_node_by_key(c, pend[i]);
		if (n || !isim_wg_device_peer(c->device, pend[i]))
			continue;
		memcpy(ch[nch].public_key, pend[i], ISIM_WG_KEY_LEN);
		ch[nch++].flags = ISIM_WG_PEER_REMOVE;
	}
	for (i = 0; i < c->nnodes; i++) {
		n = &c->nodes[i];
		p = isim_wg_device_peer(c->device, n->key);
		if (!p) {
			n->gone = true;
			continue;
		}
		if (same_prefixes(p->allowed, p->nallowed, n->allowed, n->nallowed))
			continue;
		memcpy(ch[nch].public_key, n->key, ISIM_WG_KEY_LEN);
		ch[nch].flags = ISIM_WG_PEER_REPLACE_ALLOWED | ISIM_WG_PEER_UPDATE_ONLY;
		ch[nch].allowed = n->allowed;
		ch[nch++].nallowed = n->nallowed;
		fixed[i] = true;
	}
	rc = wa_apply(c, ch, nch);
	if (rc) {
		ret = rc;
		goto out;
	}
	if (!npend && !nch) {
		for (i = 0; i < c->nnodes && !c->nodes[i].gone; i++)
			;
		if (i == c->nnodes) {
			ret = 0;
			goto out;
		}
	}
	if (isim_db_begin(c->db, &err) < 0)
		goto fail;
	for (i = 0; i < nch; i++) {
		if (ch[i].flags & ISIM_WG_PEER_REMOVE &&
		    wa_db_decide(c, NULL, ch[i].public_key, "reconciled", "an unrecorded peer was taken off the device",
				 NULL, &err) < 0)
			goto fail;
	}
	for (i = 0; i < c->nnodes; i++) {
		n = &c->nodes[i];
		if (n->gone && (wa_db_delete(c, n->node_id, &err) < 0 ||
				wa_db_decide(c, n->node_id, n->key, "reconciled", "the peer is no longer on the device",
					     n->digest, &err) < 0))
			goto fail;
		if (fixed[i] &&
		    wa_db_decide(c, n->node_id, n->key, "reconciled",
				 "the peer's AllowedIPs were set back to its recorded grant", n->digest, &err) < 0)
			goto fail;
	}
	if (wa_db_clear_pending(c, &err) < 0 || isim_db_commit(c->db, &err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	isim_db_rollback(c->db);
	ret = isim_fail(c->prog, &err);
out:
	free(pend);
	free(ch);
	free(fixed);
	return ret;
}

/* The state folder: made when create, and a folder. 0 or an exit code. */
static int state_dir(const char *prog, const char *dir, bool create)
{
	struct isim_error err;
	struct stat st;
	int r;

	isim_error_clear(&err);
	isim_error_at(&err, dir, 0, 0);
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT && !create)
			return 0;
		if (errno != ENOENT) {
			isim_error_errno(&err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, errno,
					 "cannot use the state folder");
			return isim_fail(prog, &err);
		}
		r = isim_mkdirs(dir, 0755);
		if (r < 0) {
			isim_error_errno(&err, r == -EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, -r,
					 "cannot create the state folder");
			return isim_fail(prog, &err);
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		isim_error_set(&err, ISIM_ERR_CANTCREATE, "the state folder is %s, not a folder",
			       isim_file_type_name(st.st_mode));
		return isim_fail(prog, &err);
	}
	return 0;
}

/* Commands that change the device take turns: one holds DIR/wgadmit.lock
 * from before it reads the device until it has recorded what it did. A
 * separate file, because closing any descriptor of the database itself
 * would drop SQLite's own locks. */
static int lock_state(struct wa_ctx *c, const char *dir)
{
	struct isim_error err;
	char path[4096];

	isim_error_clear(&err);
	if (isim_pathf(path, sizeof(path), &err, "%s/%s", dir, WA_LOCK_NAME) < 0)
		return isim_fail(c->prog, &err);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0) {
		isim_error_at(&err, path, 0, 0);
		isim_error_errno(&err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, errno, "cannot open");
		return isim_fail(c->prog, &err);
	}
	while (flock(c->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			isim_error_at(&err, path, 0, 0);
			isim_error_errno(&err, ISIM_ERR_IO, errno, "cannot lock");
			return isim_fail(c->prog, &err);
		}
	}
	return 0;
}

int wa_open(struct wa_ctx *c, const char *prog, const struct wa_opts *o, bool create, bool fix)
{
	const char *dir = isim_path_resolve(o->state_dir, "ISIM_STATE_DIR", WA_STATE_DIR_DEFAULT);
	const char *uapi = isim_path_resolve(o->uapi_dir, "ISIM_WG_UAPI_DIR", ISIM_WG_UAPI_DIR);
	char path[4096];
	struct isim_error err;
	int rc;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->lock_fd = -1;
	isim_error_clear(&err);
	snprintf(c->dev, sizeof(c->dev), "%s", o->dev);
	/* The device first: a name that is none changes nothing. */
	if (isim_wg_open(o->dev, uapi, &c->wg, &err) < 0)
		return isim_fail(prog, &err);
	rc = state_dir(prog, dir, create);
	if (rc)
		return rc;
	if (fix && access(dir, F_OK) == 0) {
		rc = lock_state(c, dir);
		if (rc)
			return rc;
	}
	if (isim_wg_get(c->wg, &c->device, &err) < 0)
		return isim_fail(prog, &err);
	isim_wg_device_sort(c->device);
	if (isim_pathf(path, sizeof(path), &err, "%s/%s", dir, WA_DB_NAME) < 0 ||
	    isim_db_open(path, &schema, create, &c->db, &err) < 0) {
		/* A state not made yet is an empty one to read. */
		if (err.kind == ISIM_ERR_NOINPUT && !create)
			return 0;
		return isim_fail(prog, &err);
	}
	if (load_rows(c, &err) < 0)
		return isim_fail(prog, &err);
	return fix ? reconcile(c) : 0;
}

int wa_db_descriptor(struct wa_ctx *c, const char *node_id, char **out, struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *s;
	int rc, ret = -1;

	*out = NULL;
	if (stmt(c, WA_STMT_DESCRIPTOR, "SELECT descriptor FROM nodes WHERE dev = ?1 AND node_id = ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, node_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s = (const char *)sqlite3_column_text(st, 0);
		*out = strdup(s ? s : "");
		if (!*out)
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		else
			ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		isim_db_error(c->db, "cannot read the state", err);
	}
	done(st);
	return ret;
}

void wa_close(struct wa_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		wa_node_clear(&c->nodes[i]);
	free(c->nodes);
	free(c->by_id);
	free(c->by_key);
	for (i = 0; i < WA_NSTMTS; i++)
		sqlite3_finalize(c->stmts[i]);
	isim_db_close(c->db);
	isim_wg_device_free(c->device);
	isim_wg_close(c->wg);
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* and with it the lock */
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}
