/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/db.h"
#include "isim/json.h"
#include "isim/run.h"
#include "isim/sde.h"

#define MAX_HOOKS 32

/* Names a handle may not take: they are the service's own, or every
 * mail system's (RFC 2142). */
static const char *const reserved[] = {
	"abuse",      "admin", "api",	   "auth", "console", "dns", "ftp",	  "hostmaster", "imap",
	"info",	      "mail",  "matrix",   "mx",   "noc",     "ns",  "ns1",	  "ns2",	"pop",
	"postmaster", "root",  "security", "smtp", "support", "vpn", "webmaster", "wg",		"www",
};

/* 3-32 characters of a-z and 0-9, with hyphens inside (a DNS label that
 * is also a Matrix localpart and an S3 bucket name part): NULL, or why not. */
static const char *handle_refusal(const char *h)
{
	size_t n = strlen(h), i;

	if (n < 3 || n > 32)
		return "A handle is 3 to 32 characters.";
	if (!con_name_ok(h, n, n, false, "-"))
		return "A handle has only a-z, 0-9 and hyphens.";
	if (h[0] == '-' || h[n - 1] == '-')
		return "A handle does not start or end with a hyphen.";
	if (strstr(h, "--"))
		return "A handle has no two hyphens in a row.";
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(h, reserved[i]))
			return "That handle is reserved.";
	return NULL;
}

/* The identity's names, as the hooks and the page see them. */
static cJSON *identity_doc(const struct con *c, const char *handle)
{
	cJSON *o = cJSON_CreateObject();
	char buf[512];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "user", c->s.user);
	cJSON_AddStringToObject(o, "handle", handle);
	snprintf(buf, sizeof(buf), "%s.%s", handle, c->cfg.base_domain);
	cJSON_AddStringToObject(o, "subdomain", buf);
	snprintf(buf, sizeof(buf), "@%s:%s", handle, c->cfg.matrix_domain);
	cJSON_AddStringToObject(o, "matrix_id", buf);
	snprintf(buf, sizeof(buf), "isim-%s", handle);
	cJSON_AddStringToObject(o, "bucket", buf);
	cJSON_AddStringToObject(o, "base_domain", c->cfg.base_domain);
	cJSON_AddStringToObject(o, "matrix_domain", c->cfg.matrix_domain);
	return o;
}

void con_add_time(cJSON *o, const char *name, sqlite3_stmt *q, int col)
{
	char buf[32];

	if (sqlite3_column_type(q, col) == SQLITE_NULL ||
	    isim_rfc3339((time_t)sqlite3_column_int64(q, col), buf, sizeof(buf)) < 0)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, buf);
}

static void add_text(cJSON *o, const char *name, sqlite3_stmt *q, int col)
{
	if (sqlite3_column_type(q, col) == SQLITE_NULL)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(q, col));
}

cJSON *con_identity_json(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *o = NULL, *p, *steps, *s;
	char handle[64];

	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "SELECT handle, created_at FROM identities WHERE user_id = ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return cJSON_CreateNull();
	}
	snprintf(handle, sizeof(handle), "%s", (const char *)sqlite3_column_text(q, 0));
	o = identity_doc(c, handle);
	if (!o)
		goto fail;
	cJSON_DeleteItemFromObjectCaseSensitive(o, "user");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "base_domain");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "matrix_domain");
	con_add_time(o, "created_at", q, 1);
	sqlite3_finalize(q);
	q = NULL;
	p = cJSON_AddObjectToObject(o, "provisioning");
	if (isim_db_prepare(c->db, "SELECT state, started_at, ended_at FROM provisions WHERE user_id = ?1", &q, &err) <
	    0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		add_text(p, "state", q, 0);
		con_add_time(p, "started_at", q, 1);
		con_add_time(p, "ended_at", q, 2);
	} else {
		cJSON_AddStringToObject(p, "state", "none");
	}
	sqlite3_finalize(q);
	q = NULL;
	steps = cJSON_AddArrayToObject(p, "steps");
	if (isim_db_prepare(c->db,
			    "SELECT name, state, message, result, started_at, ended_at FROM provision_steps"
			    " WHERE user_id = ?1 ORDER BY seq",
			    &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		cJSON *res = NULL;

		s = cJSON_CreateObject();
		cJSON_AddItemToArray(steps, s);
		add_text(s, "name", q, 0);
		add_text(s, "state", q, 1);
		add_text(s, "message", q, 2);
		if (sqlite3_column_type(q, 3) != SQLITE_NULL)
			res = cJSON_Parse((const char *)sqlite3_column_text(q, 3));
		cJSON_AddItemToObject(s, "result", res ? res : cJSON_CreateNull());
		con_add_time(s, "started_at", q, 4);
		con_add_time(s, "ended_at", q, 5);
	}
	sqlite3_finalize(q);
	return o;
fail:
	sqlite3_finalize(q);
	if (err.kind)
		isim_print_error(CON_PROG, &err);
	cJSON_Delete(o);
	return NULL;
}

int con_identity_create(struct con *c)
{
	static const char *const members[] = { "handle", NULL };
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	const char *handle, *why;
	cJSON *o, *id;
	int rc;

	isim_error_clear(&err);
	if (!con_body_object(c) || !con_members_only(c, members) || !con_member_string(c, "handle", 64, true, &handle))
		return 0;
	why = handle_refusal(handle);
	if (why)
		return con_error(c, 400, "handle", "/handle", "'%.64s': %s", handle, why);
	if (isim_db_prepare(c->db, "INSERT INTO identities (user_id, user, handle, created_at) VALUES (?1, ?2, ?3, ?4)",
			    &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_text(q, 2, c->s.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, handle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, c->now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_CONSTRAINT) {
		bool mine = false;

		if (isim_db_prepare(c->db, "SELECT 1 FROM identities WHERE user_id = ?1", &q, &err) == 0) {
			sqlite3_bind_int64(q, 1, c->s.user_id);
			mine = sqlite3_step(q) == SQLITE_ROW;
			sqlite3_finalize(q);
		}
		if (mine)
			return con_error(c, 409, "identity_exists", NULL, "You have an identity already.");
		return con_error(c, 409, "handle_taken", "/handle", "The handle '%.64s' is taken.", handle);
	}
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the identity", &err);
		return con_fail(c, &err);
	}
	con_audit(c, "identity.create", true, cJSON_CreateString(handle));
	id = con_identity_json(c);
	o = cJSON_CreateObject();
	if (!id || !o) {
		cJSON_Delete(id);
		cJSON_Delete(o);
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	}
	cJSON_AddItemToObject(o, "identity", id);
	return con_json(c, 201, o, NULL);
}

/* The hooks: executable files of the folder, in name order, without
 * dotfiles and the package manager's leftovers. The count, or -1. */
static int hooks_list(const char *dir, char *names[static MAX_HOOKS])
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < MAX_HOOKS) {
		struct stat st;

		if (e->d_name[0] == '.' || strchr(e->d_name, '~') || strstr(e->d_name, ".dpkg-"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), con_strcmp_ptr);
	return n;
}

/* The step's name: the file's without a leading "NN-". */
static const char *step_name(const char *file)
{
	const char *p = file;

	while (*p >= '0' && *p <= '9')
		p++;
	return p != file && *p == '-' && p[1] ? p + 1 : file;
}

/* One line of text a hook said, fit for a page: printable, at most 200
 * bytes. */
static void clean_message(char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	if (n > 200)
		s[200] = '\0';
}

static void step_update(struct con *c, int seq, const char *state, const char *message, const char *result)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "UPDATE provision_steps SET state = ?3, message = ?4, result = ?5,"
			    " started_at = CASE WHEN ?3 = 'running' THEN ?6 ELSE started_at END,"
			    " ended_at = CASE WHEN ?3 IN ('done', 'failed') THEN ?6 ELSE NULL END"
			    " WHERE user_id = ?1 AND seq = ?2",
			    &q, &err) < 0) {
		isim_print_error(CON_PROG, &err);
		return;
	}
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_int(q, 2, seq);
	sqlite3_bind_text(q, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, message, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, result, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, (int64_t)time(NULL));
	if (sqlite3_step(q) != SQLITE_DONE)
		fprintf(stderr, CON_PROG ": cannot record a provisioning step: %s\n", sqlite3_errmsg(c->db));
	sqlite3_finalize(q);
}

/* The worker, after the response: each hook in turn, with the identity on
 * stdin; the first failure ends the run. */
static void provision_run(struct con *c, char **hooks, int n, const char *identity)
{
	struct isim_buf in = { .s = (char *)identity, .len = strlen(identity) };
	char path[4096], secs[16], msg[512];
	bool failed = false;
	sqlite3_stmt *q = NULL;
	struct isim_error err;
	int i;

	snprintf(secs, sizeof(secs), "%ld", c->cfg.hook_timeout);
	for (i = 0; i < n && !failed; i++) {
		const char *argv[] = { "timeout", "--kill-after=5", secs, path, NULL };
		struct isim_buf out = { 0 };
		cJSON *res = NULL;
		char *rtext = NULL;
		int rc;

		isim_error_clear(&err);
		snprintf(path, sizeof(path), "%s/%s", c->cfg.provision_dir, hooks[i]);
		step_update(c, i, "running", NULL, NULL);
		rc = con_tool(c, argv, &in, &out, &err);
		if (rc == 0) {
			if (out.len && !out.oom && isim_json_parse(out.s, out.len, "hook output", &res, &err) == 0 &&
			    cJSON_IsObject(res))
				rtext = cJSON_PrintUnformatted(res);
			step_update(c, i, "done", NULL, rtext);
		} else {
			const char *m = strstr(err.msg, " exited with status ");

			if (rc == 124)
				snprintf(msg, sizeof(msg), "The hook took longer than %ld seconds and was stopped.",
					 c->cfg.hook_timeout);
			else if (m && (m = strstr(m, ": ")))
				snprintf(msg, sizeof(msg), "%.500s", m + 2);
			else if (rc > 0)
				snprintf(msg, sizeof(msg), "The hook failed (exit %d).", rc);
			else
				snprintf(msg, sizeof(msg), "The hook could not run: %.400s", err.msg);
			clean_message(msg);
			fprintf(stderr, CON_PROG ": provisioning %s: %s: %s\n", c->s.user, hooks[i], msg);
			step_update(c, i, "failed", msg, NULL);
			failed = true;
		}
		free(rtext);
		cJSON_Delete(res);
		free(out.s);
	}
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "UPDATE provisions SET state = ?2, ended_at = ?3 WHERE user_id = ?1", &q, &err) ==
	    0) {
		sqlite3_bind_int64(q, 1, c->s.user_id);
		sqlite3_bind_text(q, 2, failed ? "failed" : "done", -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
		sqlite3_step(q);
		sqlite3_finalize(q);
	}
	con_audit(c, "identity.provisioned", !failed, NULL);
}

int con_identity_provision(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	char *hooks[MAX_HOOKS], handle[64], *identity = NULL;
	cJSON *doc, *o, *id;
	int n = 0, i, rc = -1;

	isim_error_clear(&err);
	if (!con_body_object(c) || !con_members_only(c, (const char *const[]){ NULL }))
		return 0;
	if (isim_db_prepare(c->db, "SELECT handle FROM identities WHERE user_id = ?1", &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, c->s.user_id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return con_error(c, 404, "no_identity", NULL, "Choose a handle first (POST /identity).");
	}
	snprintf(handle, sizeof(handle), "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	q = NULL;
	n = hooks_list(c->cfg.provision_dir, hooks);
	if (n < 0) {
		fprintf(stderr, CON_PROG ": %s: cannot read the provisioning hooks (CONSOLE_PROVISION_DIR): %m\n",
			c->cfg.provision_dir);
		return con_error(c, 503, "unavailable", NULL, "Provisioning is not set up on this console.");
	}
	doc = identity_doc(c, handle);
	identity = doc ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	if (!identity)
		goto oom;
	if (isim_db_begin(c->db, &err) < 0)
		goto fail;
	if (isim_db_prepare(c->db, "SELECT state, started_at FROM provisions WHERE user_id = ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	/* A run is over once its hooks' time is up (each is killed at
	 * CONSOLE_HOOK_TIMEOUT, and 5 s later): a worker that died (the
	 * machine restarted, the process was killed) leaves "running" behind,
	 * which must not refuse every later run. */
	if (sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "running") &&
	    c->now - sqlite3_column_int64(q, 1) <= (int64_t)n * (c->cfg.hook_timeout + 5) + 60) {
		sqlite3_finalize(q);
		isim_db_rollback(c->db);
		rc = con_error(c, 409, "provisioning", NULL, "Provisioning is running already.");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (isim_db_prepare(c->db, "DELETE FROM provision_steps WHERE user_id = ?1", &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_step(q);
	sqlite3_finalize(q);
	q = NULL;
	if (isim_db_prepare(c->db,
			    "INSERT OR REPLACE INTO provisions (user_id, state, started_at, ended_at)"
			    " VALUES (?1, ?2, ?3, CASE WHEN ?2 = 'done' THEN ?3 END)",
			    &q, &err) < 0)
		goto fail;
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_text(q, 2, n ? "running" : "done", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, c->now);
	if (sqlite3_step(q) != SQLITE_DONE) {
		isim_db_error(c->db, "cannot start provisioning", &err);
		goto fail;
	}
	sqlite3_finalize(q);
	q = NULL;
	for (i = 0; i < n; i++) {
		if (isim_db_prepare(
			    c->db,
			    "INSERT INTO provision_steps (user_id, seq, name, state) VALUES (?1, ?2, ?3, 'pending')",
			    &q, &err) < 0)
			goto fail;
		sqlite3_bind_int64(q, 1, c->s.user_id);
		sqlite3_bind_int(q, 2, i);
		sqlite3_bind_text(q, 3, step_name(hooks[i]), -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			isim_db_error(c->db, "cannot start provisioning", &err);
			goto fail;
		}
		sqlite3_finalize(q);
		q = NULL;
	}
	if (isim_db_commit(c->db, &err) < 0)
		goto fail;
	con_audit(c, "identity.provision", true, cJSON_CreateString(handle));
	id = con_identity_json(c);
	o = cJSON_CreateObject();
	if (!id || !o) {
		cJSON_Delete(id);
		cJSON_Delete(o);
		goto oom;
	}
	cJSON_AddItemToObject(o, "provisioning", cJSON_DetachItemFromObject(id, "provisioning"));
	cJSON_Delete(id);
	con_hold_term();
	rc = con_json(c, 202, o, NULL);
	con_flush(c);
	if (!n)
		goto out;
	if (n && con_detach(c) == 0) {
		provision_run(c, hooks, n, identity);
		_exit(0);
	}
	goto out;
oom:
	rc = con_error(c, 500, "internal", NULL, "Out of memory.");
	goto out;
fail:
	sqlite3_finalize(q);
	isim_db_rollback(c->db);
	rc = con_fail(c, &err);
out:
	for (i = 0; i < n; i++)
		free(hooks[i]);
	free(identity);
	return rc;
}
