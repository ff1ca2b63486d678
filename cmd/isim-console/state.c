/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/audit.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/http.h"
#include "isim/run.h"
#include "isim/webauthn.h"

/* The version of passkey.db whose users and sessions are read here (the
 * console reads them; isim-passkey owns and migrates the file). */
#define PASSKEY_DB_VERSION 1

static const char *const migrations[] = {
	"CREATE TABLE identities ("
	" user_id INTEGER PRIMARY KEY," /* passkey.db users.id */
	" user TEXT NOT NULL,"
	" handle TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE provisions ("
	" user_id INTEGER PRIMARY KEY REFERENCES identities (user_id),"
	" state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),"
	" started_at INTEGER NOT NULL,"
	" ended_at INTEGER);"
	"CREATE TABLE provision_steps ("
	" user_id INTEGER NOT NULL REFERENCES identities (user_id),"
	" seq INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),"
	" message TEXT,"
	" result TEXT,"
	" started_at INTEGER,"
	" ended_at INTEGER,"
	" PRIMARY KEY (user_id, seq));"
	"CREATE TABLE peers ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" address TEXT NOT NULL UNIQUE,"
	" node_id TEXT NOT NULL UNIQUE,"
	" public_key TEXT NOT NULL,"
	" private_key BLOB," /* only when the server made the key pair */
	" state TEXT NOT NULL,"
	" reason TEXT,"
	" created_at INTEGER NOT NULL,"
	" rotated_at INTEGER,"
	" issued_at INTEGER NOT NULL," /* of its descriptor */
	" UNIQUE (user_id, name));"
	"CREATE TABLE appliances ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" vm TEXT NOT NULL UNIQUE,"
	" template TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed')),"
	" message TEXT,"
	" archive_size INTEGER,"
	" archive_sha256 TEXT,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (user_id, name));"
	"CREATE TABLE sessions ("
	" token_sha256 BLOB PRIMARY KEY," /* passkey.db's session */
	" user_verified INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL);"
	"CREATE TABLE rate ("
	" addr TEXT NOT NULL,"
	" minute INTEGER NOT NULL,"
	" n INTEGER NOT NULL,"
	" PRIMARY KEY (addr, minute)) WITHOUT ROWID;",
};

static const struct isim_db_schema schema = {
	.name = "isim-console",
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(migrations[0]),
	.persist_wal = 1,
};

int con_state_open(struct con *c, struct isim_error *err)
{
	char path[4096];

	if (isim_mkdirs(c->cfg.state_dir, 0700) < 0) {
		isim_error_at(err, c->cfg.state_dir, 0, 0);
		return isim_error_set(err, ISIM_ERR_CANTCREATE, "cannot make the state folder (ISIM_STATE_DIR)");
	}
	if (isim_pathf(path, sizeof(path), err, "%s/%s", c->cfg.state_dir, CON_DB_NAME) < 0 ||
	    isim_db_open(path, &schema, 1, &c->db, err) < 0)
		return -1;
	return 0;
}

void con_state_close(struct con *c)
{
	isim_db_close(c->db);
	c->db = NULL;
	if (c->pk)
		sqlite3_close(c->pk);
	c->pk = NULL;
}

/* passkey.db, read here and written only by isim-passkey (and logout's
 * delete of one session): 1 open, 0 when there is none yet, -1 with err. */
static int pk_db(struct con *c, struct isim_error *err)
{
	char path[4096];
	sqlite3_stmt *q = NULL;
	int v = -1;

	if (c->pk)
		return 1;
	if (isim_pathf(path, sizeof(path), err, "%s/passkey.db", c->cfg.state_dir) < 0)
		return -1;
	if (sqlite3_open_v2(path, &c->pk, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(c->pk);
		c->pk = NULL;
		return 0;
	}
	sqlite3_busy_timeout(c->pk, 10000);
	/* As isim-passkey keeps it: the -wal file left for the next request,
	 * not removed as the last connection closes and made again by the
	 * next (which, a request a process, was every request's cost). */
	{
		int one = 1, on = 0;

		sqlite3_file_control(c->pk, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
		/* Nor checkpointed at close: isim-passkey's commits are
		 * durable in the WAL, which it empties past a size (lib/db.c,
		 * durable_commits); a checkpoint here would be a GET's two
		 * fsyncs. */
		sqlite3_db_config(c->pk, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on);
	}
	if (sqlite3_prepare_v2(c->pk, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (v == 0) {
		sqlite3_close(c->pk);
		c->pk = NULL;
		return 0;
	}
	if (v != PASSKEY_DB_VERSION) {
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_CONFIG, "version %d, not the %d this console reads", v,
				      PASSKEY_DB_VERSION);
	}
	return 1;
}

/* The cookie's token: 1 and its SHA-256, 0 when there is none. */
static int cookie_token(const char *cookie, uint8_t h[static ISIM_SHA256_BYTES])
{
	char val[64];
	uint8_t *tok = NULL;
	size_t n = 0;
	int ok;

	if (!cookie || !isim_http_cookie(cookie, CON_COOKIE, val, sizeof(val)))
		return 0;
	ok = isim_wa_b64url_decode(val, CON_TOKEN_BYTES, &tok, &n) && n == CON_TOKEN_BYTES &&
	     crypto_hash_sha256(h, tok, n) == 0;
	sodium_memzero(val, sizeof(val));
	if (tok)
		sodium_memzero(tok, n);
	free(tok);
	return ok;
}

int con_session_load(struct con *c, struct isim_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	memset(&c->s, 0, sizeof(c->s));
	if (!cookie_token(c->req.cookie, c->s.token_sha256))
		return 0;
	rc = pk_db(c, err);
	if (rc <= 0)
		return rc;
	if (sqlite3_prepare_v2(c->pk,
			       "SELECT u.id, u.name, u.display_name, s.created_at, s.expires_at FROM sessions s"
			       " JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?1",
			       -1, &q, NULL) != SQLITE_OK)
		return isim_db_error(c->pk, "cannot read the sessions", err);
	sqlite3_bind_blob(q, 1, c->s.token_sha256, ISIM_SHA256_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_int64(q, 4) > c->now) {
		c->s.valid = true;
		c->s.user_id = sqlite3_column_int64(q, 0);
		snprintf(c->s.user, sizeof(c->s.user), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(c->s.display, sizeof(c->s.display), "%s", (const char *)sqlite3_column_text(q, 2));
		c->s.created_at = sqlite3_column_int64(q, 3);
		c->s.expires_at = sqlite3_column_int64(q, 4);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(q);
		return isim_db_error(c->pk, "cannot read the sessions", err);
	}
	sqlite3_finalize(q);
	if (!c->s.valid)
		return 0;
	if (isim_db_prepare(c->db, "SELECT user_verified FROM sessions WHERE token_sha256 = ?1", &q, err) < 0)
		return -1;
	sqlite3_bind_blob(q, 1, c->s.token_sha256, ISIM_SHA256_BYTES, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		c->s.user_verified = sqlite3_column_int(q, 0) != 0;
	sqlite3_finalize(q);
	return 0;
}

int con_session_revoke(struct con *c, struct isim_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (pk_db(c, err) <= 0)
		return -1;
	if (sqlite3_prepare_v2(c->pk, "DELETE FROM sessions WHERE token_sha256 = ?1", -1, &q, NULL) != SQLITE_OK)
		return isim_db_error(c->pk, "cannot end the session", err);
	sqlite3_bind_blob(q, 1, c->s.token_sha256, ISIM_SHA256_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return isim_db_error(c->pk, "cannot end the session", err);
	/* The console's note of it too (user_verified), which would else
	 * stay until it expires. */
	if (isim_db_prepare(c->db, "DELETE FROM sessions WHERE token_sha256 = ?1", &q, err) < 0)
		return -1;
	sqlite3_bind_blob(q, 1, c->s.token_sha256, ISIM_SHA256_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return isim_db_error(c->db, "cannot end the session", err);
	return 0;
}

int con_pk_query(struct con *c, const char *sql, sqlite3_stmt **q, struct isim_error *err)
{
	int rc = pk_db(c, err);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return isim_error_set(err, ISIM_ERR_NOINPUT, "there is no passkey.db in %s", c->cfg.state_dir);
	if (sqlite3_prepare_v2(c->pk, sql, -1, q, NULL) != SQLITE_OK)
		return isim_db_error(c->pk, "cannot read passkey.db", err);
	return 0;
}

bool con_rate_take(struct con *c, const char *what)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	int64_t minute = c->now / 60, n = 0;
	char addr[96];

	isim_error_clear(&err);
	snprintf(addr, sizeof(addr), "%s %s", what, c->req.remote);
	if (isim_db_begin(c->db, &err) < 0)
		goto fail;
	if (isim_db_prepare(c->db,
			    "INSERT INTO rate (addr, minute, n) VALUES (?1, ?2, 1)"
			    " ON CONFLICT (addr, minute) DO UPDATE SET n = n + 1 RETURNING n",
			    &q, &err) < 0)
		goto fail;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, minute);
	if (sqlite3_step(q) != SQLITE_ROW) {
		isim_db_error(c->db, "cannot count the request", &err);
		goto fail;
	}
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (isim_db_prepare(c->db, "DELETE FROM rate WHERE minute < ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, minute - 1);
	sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (isim_db_commit(c->db, &err) < 0)
		goto fail;
	return n <= c->cfg.rate_limit;
fail:
	/* A limit that cannot be counted does not lock everyone out. */
	sqlite3_finalize(q);
	isim_db_rollback(c->db);
	isim_print_error(CON_PROG, &err);
	return true;
}

void con_session_hex(const struct con *c, char out[static 2 * ISIM_SHA256_BYTES + 1])
{
	if (!c->s.valid) {
		strcpy(out, "");
		return;
	}
	sodium_bin2hex(out, 2 * ISIM_SHA256_BYTES + 1, c->s.token_sha256, ISIM_SHA256_BYTES);
}

void con_audit(struct con *c, const char *action, bool ok, cJSON *detail)
{
	struct isim_error err;
	struct isim_audit *a = NULL;
	char path[4096], sess[2 * ISIM_SHA256_BYTES + 1];
	cJSON *rec = cJSON_CreateObject();

	isim_error_clear(&err);
	con_session_hex(c, sess);
	if (!rec) {
		cJSON_Delete(detail);
		return;
	}
	cJSON_AddStringToObject(rec, "action", action);
	cJSON_AddStringToObject(rec, "user", c->s.valid ? c->s.user : "");
	cJSON_AddStringToObject(rec, "session_sha256", sess);
	cJSON_AddStringToObject(rec, "remote", c->req.remote);
	cJSON_AddBoolToObject(rec, "ok", ok);
	if (detail)
		cJSON_AddItemToObject(rec, "detail", detail);
	if (isim_audit_path(c->cfg.state_dir, path, sizeof(path), &err) < 0 ||
	    isim_audit_open(path, true, &a, &err) < 0 || isim_audit_append(a, "console", rec, NULL, &err) < 0)
		isim_print_error(CON_PROG, &err);
	isim_audit_close(a);
	cJSON_Delete(rec);
}

int con_tool(struct con *c, const char *const *argv, const struct isim_buf *in, struct isim_buf *out,
	     struct isim_error *err)
{
	struct isim_run r = { .argv = argv, .in = in, .out = out };
	int status = 0;

	(void)c;
	if (isim_run(&r, &status, err) == 0)
		return 0;
	if (err->kind == ISIM_ERR_INTERNAL && status > 0 && status < 128)
		return status;
	return -1;
}

/* The signal mask before con_hold_term. */
static sigset_t term_old;
static bool term_held;

void con_hold_term(void)
{
	sigset_t term;

	if (term_held)
		return;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &term_old);
	term_held = true;
}

void con_release_term(void)
{
	if (!term_held)
		return;
	sigprocmask(SIG_SETMASK, &term_old, NULL);
	term_held = false;
}

int con_detach(struct con *c)
{
	struct isim_error err;
	pid_t pid;
	int fd;

	con_flush(c);
	con_hold_term();
	/* A connection is not to be carried across fork (SQLite's "How To
	 * Corrupt", 2.6): even left alone, the child's new connection shares
	 * its inherited file descriptors and lock state, and its writes are
	 * lost. Closed before, reopened in the worker. */
	con_state_close(c);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, CON_PROG ": cannot start the work after the response: %m\n");
		return -1;
	}
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return 1;
	}
	/* The server waits for the end of stdout: a session of its own, a
	 * grandchild that init adopts, stdin and stdout on /dev/null. */
	setsid();
	if (fork() != 0)
		_exit(0);
	sigprocmask(SIG_SETMASK, &term_old, NULL);
	term_held = false;
	/* The server may close our stderr once the response is complete: a
	 * message then fails, it does not end the work. */
	signal(SIGPIPE, SIG_IGN);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDOUT_FILENO)
			close(fd);
	}
	/* Nothing of the server's: under FastCGI its connection (and the
	 * listening socket, now replaced on 0) stay with the parent. */
	c->fcgi = NULL;
	for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
		close(fd);
	isim_error_clear(&err);
	if (con_state_open(c, &err) < 0) {
		isim_print_error(CON_PROG, &err);
		_exit(0);
	}
	return 0;
}
