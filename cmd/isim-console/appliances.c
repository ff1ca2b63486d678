/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/cli.h"
#include "console.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/json.h"

/* An appliance is a VM made by isim-vm from a template image and a
 * profile, and written as its appliance archive, which the user
 * downloads. The work runs after the response; the state says when it is
 * ready. */

#define ARCHIVES "console-archives"
#define NAME_MAX_LEN 32

static const struct profile {
	const char *name, *memory, *cpus;
} profiles[] = {
	{ "small", "512", "1" },
	{ "medium", "1024", "1" },
	{ "large", "2048", "2" },
};

static const struct profile *profile_get(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

static const char *templates_dir(const struct con *c, char *buf, size_t size)
{
	if (c->cfg.templates_dir)
		return c->cfg.templates_dir;
	snprintf(buf, size, "%s/templates", c->cfg.state_dir);
	return buf;
}

/* A template is NAME.qcow2 in the templates folder, NAME plain. */
static bool template_name_ok(const char *s)
{
	return con_name_ok(s, 1, 64, true, "._-") && s[0] != '.';
}

static bool appliance_name_ok(const char *s)
{
	return con_name_ok(s, 1, NAME_MAX_LEN, false, "-") && s[0] != '-';
}

static cJSON *templates_json(const struct con *c)
{
	char buf[4096], *names[256];
	const char *dir = templates_dir(c, buf, sizeof(buf));
	cJSON *a = cJSON_CreateArray();
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, i;

	if (!d)
		return a;
	while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0])) {
		size_t l = strlen(e->d_name);

		if (l > 6 && !strcmp(e->d_name + l - 6, ".qcow2")) {
			names[n] = strndup(e->d_name, l - 6);
			if (names[n] && template_name_ok(names[n]))
				n++;
			else
				free(names[n]);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), con_strcmp_ptr);
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
		free(names[i]);
	}
	return a;
}

#define APP_COLUMNS "id, name, template, profile, state, message, archive_size, archive_sha256, created_at"

static cJSON *appliance_json(sqlite3_stmt *q)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char url[96];

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(q, 0));
	cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(q, 1));
	cJSON_AddStringToObject(o, "template", (const char *)sqlite3_column_text(q, 2));
	cJSON_AddStringToObject(o, "profile", (const char *)sqlite3_column_text(q, 3));
	cJSON_AddStringToObject(o, "state", (const char *)sqlite3_column_text(q, 4));
	if (sqlite3_column_type(q, 5) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "message");
	else
		cJSON_AddStringToObject(o, "message", (const char *)sqlite3_column_text(q, 5));
	con_add_time(o, "created_at", q, 8);
	if (sqlite3_column_type(q, 7) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, "archive");
		return o;
	}
	a = cJSON_AddObjectToObject(o, "archive");
	cJSON_AddNumberToObject(a, "size", (double)sqlite3_column_int64(q, 6));
	cJSON_AddStringToObject(a, "sha256", (const char *)sqlite3_column_text(q, 7));
	snprintf(url, sizeof(url), "/api" CON_API_PREFIX "/appliances/%lld/archive",
		 (long long)sqlite3_column_int64(q, 0));
	cJSON_AddStringToObject(a, "url", url);
	return o;
}

int con_appliances_list(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	cJSON *o = cJSON_CreateObject(), *a, *p;
	size_t i;

	isim_error_clear(&err);
	if (!o)
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	a = cJSON_AddArrayToObject(o, "appliances");
	if (isim_db_prepare(c->db, "SELECT " APP_COLUMNS " FROM appliances WHERE user_id = ?1 ORDER BY id", &q, &err) <
	    0) {
		cJSON_Delete(o);
		return con_fail(c, &err);
	}
	sqlite3_bind_int64(q, 1, c->s.user_id);
	while (sqlite3_step(q) == SQLITE_ROW)
		cJSON_AddItemToArray(a, appliance_json(q));
	sqlite3_finalize(q);
	cJSON_AddItemToObject(o, "templates", templates_json(c));
	p = cJSON_AddArrayToObject(o, "profiles");
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		cJSON_AddItemToArray(p, cJSON_CreateString(profiles[i].name));
	return con_json(c, 200, o, NULL);
}

static void set_state(struct con *c, int64_t id, const char *state, const char *message, const cJSON *made)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(made, "size");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(made, "sha256");
	struct isim_error err;
	sqlite3_stmt *q = NULL;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "UPDATE appliances SET state = ?2, message = ?3, archive_size = ?4, archive_sha256 = ?5"
			    " WHERE id = ?1",
			    &q, &err) < 0) {
		isim_print_error(CON_PROG, &err);
		return;
	}
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, message, -1, SQLITE_STATIC);
	if (cJSON_IsNumber(size) && cJSON_IsString(sha)) {
		sqlite3_bind_int64(q, 4, (int64_t)size->valuedouble);
		sqlite3_bind_text(q, 5, sha->valuestring, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		fprintf(stderr, CON_PROG ": cannot record appliance %lld: %s\n", (long long)id, sqlite3_errmsg(c->db));
	sqlite3_finalize(q);
}

/* The worker: isim-vm create, then isim-vm appliance. */
static void build(struct con *c, int64_t id, const char *vm, const char *image, const struct profile *p)
{
	char out[4096], msg[512];
	const char *create[] = { "isim-vm", "create", vm,      "--image", image,	 "--memory",	   p->memory,
				 "--cpus",  p->cpus,  "--net", "none",	  "--state-dir", c->cfg.state_dir, NULL };
	/* Signed by the control plane, when it has a key: isim-verify
	 * appliance then names the console as the signer. */
	const char *archive[] = { "isim-vm",
				  "appliance",
				  vm,
				  "-o",
				  out,
				  "--force",
				  "--state-dir",
				  c->cfg.state_dir,
				  c->cfg.sign_key ? "--sign-key" : NULL,
				  c->cfg.sign_key,
				  NULL };
	struct isim_buf b = { 0 };
	struct isim_error err;
	cJSON *made = NULL;
	int st;

	isim_error_clear(&err);
	snprintf(out, sizeof(out), "%s/" ARCHIVES, c->cfg.state_dir);
	if (isim_mkdirs(out, 0700) < 0)
		fprintf(stderr, CON_PROG ": %s: cannot make the folder\n", out);
	snprintf(out, sizeof(out), "%s/" ARCHIVES "/%s.tar.gz", c->cfg.state_dir, vm);
	st = con_tool(c, create, NULL, &b, &err);
	free(b.s);
	b = (struct isim_buf){ 0 };
	if (st == 0)
		st = con_tool(c, archive, NULL, &b, &err);
	if (st == 0 && !b.oom && isim_json_parse(b.s ? b.s : "", b.len, "isim-vm appliance", &made, &err) == 0) {
		set_state(c, id, "ready", NULL, made);
		con_audit(c, "appliance.ready", true, cJSON_Duplicate(made, 1));
	} else {
		snprintf(msg, sizeof(msg), "%.500s", err.kind ? err.msg : "isim-vm failed");
		fprintf(stderr, CON_PROG ": appliance %s: %s\n", vm, msg);
		set_state(c, id, "failed", msg, NULL);
		con_audit(c, "appliance.ready", false, cJSON_CreateString(msg));
	}
	cJSON_Delete(made);
	free(b.s);
}

int con_appliances_create(struct con *c)
{
	static const char *const members[] = { "name", "template", "profile", NULL };
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	const char *name, *tmpl, *prof;
	const struct profile *p;
	char dir[2048], image[4096], vm[64];
	struct stat st;
	int64_t id;
	int rc;

	isim_error_clear(&err);
	if (!con_body_object(c) || !con_members_only(c, members) ||
	    !con_member_string(c, "name", NAME_MAX_LEN, true, &name) ||
	    !con_member_string(c, "template", 64, true, &tmpl) || !con_member_string(c, "profile", 16, true, &prof))
		return 0;
	if (!appliance_name_ok(name))
		return con_error(c, 400, "name", "/name", "An appliance's name is 1 to %d of a-z, 0-9 and hyphens.",
				 NAME_MAX_LEN);
	p = profile_get(prof);
	if (!p)
		return con_error(c, 400, "profile", "/profile", "No profile '%.16s' (small, medium or large).", prof);
	if (!template_name_ok(tmpl))
		return con_error(c, 400, "template", "/template", "'%.64s' is not a template's name.", tmpl);
	snprintf(image, sizeof(image), "%s/%s.qcow2", templates_dir(c, dir, sizeof(dir)), tmpl);
	if (stat(image, &st) < 0 || !S_ISREG(st.st_mode))
		return con_error(c, 404, "unknown_template", "/template", "There is no template '%.64s'.", tmpl);
	if (isim_db_prepare(c->db,
			    "INSERT INTO appliances (user_id, name, vm, template, profile, state, created_at)"
			    " VALUES (?1, ?2, 'app-' || hex(randomblob(6)), ?3, ?4, 'building', ?5)",
			    &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, c->s.user_id);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, tmpl, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, prof, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, c->now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_CONSTRAINT)
		return con_error(c, 409, "name_taken", "/name", "You have an appliance called '%.32s' already.", name);
	if (rc != SQLITE_DONE) {
		isim_db_error(c->db, "cannot store the appliance", &err);
		return con_fail(c, &err);
	}
	id = sqlite3_last_insert_rowid(c->db);
	if (isim_db_prepare(c->db, "SELECT " APP_COLUMNS ", lower(vm) FROM appliances WHERE id = ?1", &q, &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return con_error(c, 500, "internal", NULL, "The appliance vanished.");
	}
	snprintf(vm, sizeof(vm), "%s", (const char *)sqlite3_column_text(q, 9));
	{
		cJSON *o = cJSON_CreateObject(), *d = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "appliance", appliance_json(q));
		sqlite3_finalize(q);
		cJSON_AddStringToObject(d, "name", name);
		cJSON_AddStringToObject(d, "vm", vm);
		cJSON_AddStringToObject(d, "template", tmpl);
		cJSON_AddStringToObject(d, "profile", prof);
		con_audit(c, "appliance.create", true, d);
		con_hold_term();
		rc = con_json(c, 202, o, NULL);
	}
	if (con_detach(c) == 0) {
		build(c, id, vm, image, p);
		_exit(0);
	}
	return rc;
}

int con_appliance_archive(struct con *c)
{
	struct isim_error err;
	sqlite3_stmt *q = NULL;
	char path[4096], hdr[512], b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	uint8_t sha[32];
	size_t hl;
	struct stat st;
	char buf[65536];
	int fd;

	isim_error_clear(&err);
	if (isim_db_prepare(
		    c->db,
		    "SELECT lower(vm), state, archive_sha256, name FROM appliances WHERE id = ?1 AND user_id = ?2", &q,
		    &err) < 0)
		return con_fail(c, &err);
	sqlite3_bind_int64(q, 1, c->req.id);
	sqlite3_bind_int64(q, 2, c->s.user_id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		return con_error(c, 404, "not_found", NULL, "You have no appliance %lld.", (long long)c->req.id);
	}
	if (strcmp((const char *)sqlite3_column_text(q, 1), "ready")) {
		sqlite3_finalize(q);
		return con_error(c, 409, "not_ready", NULL, "The appliance's archive is not ready.");
	}
	snprintf(path, sizeof(path), "%s/" ARCHIVES "/%s.tar.gz", c->cfg.state_dir,
		 (const char *)sqlite3_column_text(q, 0));
	hl = strlen((const char *)sqlite3_column_text(q, 2));
	if (hl != 64 ||
	    sodium_hex2bin(sha, sizeof(sha), (const char *)sqlite3_column_text(q, 2), 64, NULL, NULL, NULL) < 0) {
		sqlite3_finalize(q);
		return con_error(c, 500, "internal", NULL, "The archive's digest is not on record.");
	}
	sodium_bin2base64(b64, sizeof(b64), sha, sizeof(sha), sodium_base64_VARIANT_ORIGINAL);
	/* RFC 9530's Repr-Digest, and the hex a shell compares with
	 * sha256sum. */
	snprintf(hdr, sizeof(hdr),
		 "Repr-Digest: sha-256=:%s:\r\nX-Content-SHA256: %s\r\n"
		 "Content-Disposition: attachment; filename=\"%s.tar.gz\"\r\n",
		 b64, (const char *)sqlite3_column_text(q, 2), (const char *)sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		isim_error_at(&err, path, 0, 0);
		isim_error_errno(&err, ISIM_ERR_NOINPUT, errno, "cannot open the archive");
		if (fd >= 0)
			close(fd);
		return con_fail(c, &err);
	}
	con_respond_head(c, 200, "application/gzip", (size_t)st.st_size, hdr);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (con_write(c, buf, (size_t)n) < 0)
			break;
	}
	close(fd);
	return 0;
}
