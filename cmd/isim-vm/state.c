/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/json.h"
#include "vm.h"

/* Version 1: a row a VM, its configuration as JSON; every operation with
 * its time and result. */
static const char *const migrations[] = {
	"CREATE TABLE vms ("
	" name TEXT PRIMARY KEY,"
	" uuid TEXT NOT NULL UNIQUE,"
	" config TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('stopped', 'running', 'paused')),"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" started_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE ops ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" vm TEXT NOT NULL,"
	" op TEXT NOT NULL,"
	" ok INTEGER NOT NULL,"
	" detail TEXT);"
	"CREATE INDEX ops_vm ON ops (vm, seq);",
	/* Version 2: internal snapshots of a VM's disk (and memory). */
	"CREATE TABLE snapshots ("
	" vm TEXT NOT NULL REFERENCES vms (name) ON DELETE CASCADE,"
	" tag TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" vmstate INTEGER NOT NULL,"
	" vmstate_size INTEGER NOT NULL DEFAULT 0,"
	" parent TEXT,"
	" PRIMARY KEY (vm, tag));",
	/* Version 3: external snapshots, each a frozen layer of the disk, in
	 * the order they were taken (rowid); layer: the file a snapshot is
	 * in, NULL for the disk's top (disk.qcow2). */
	"ALTER TABLE snapshots ADD COLUMN external INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE snapshots ADD COLUMN layer TEXT;",
};

static const struct isim_db_schema schema = {
	.name = "isim-vm",
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(migrations[0]),
};

int vm_option(const char *prog, void *opts, int c, const char *arg)
{
	struct vm_opts *o = opts;

	if (c == VM_OPT_STATE_DIR)
		return isim_opt_once(prog, "--state-dir", &o->state_dir, arg) ? ISIM_EXIT_USAGE : 1;
	return 0;
}

bool vm_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return false;
	}
	return true;
}

const char *vm_state_name(enum vm_state s)
{
	return s == VM_RUNNING ? "running" : s == VM_PAUSED ? "paused" : "stopped";
}

static enum vm_state state_of(const char *s)
{
	return !strcmp(s, "running") ? VM_RUNNING : !strcmp(s, "paused") ? VM_PAUSED : VM_STOPPED;
}

int64_t vm_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- the state ------------------------------------------------------------ */

int vm_init(struct vm_ctx *c, const char *prog, const struct vm_opts *o)
{
	const char *dir = isim_path_resolve(o->state_dir, "ISIM_STATE_DIR", VM_STATE_DIR_DEFAULT);

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->lock_fd = -1;
	if (snprintf(c->state_dir, sizeof(c->state_dir), "%s", dir) >= (int)sizeof(c->state_dir)) {
		fprintf(stderr, "%s: --state-dir: the path is too long\n", prog);
		return ISIM_EXIT_USAGE;
	}
	return 0;
}

int vm_open(struct vm_ctx *c, const char *prog, const struct vm_opts *o, bool create)
{
	struct isim_error err;
	char path[4200];
	struct stat st;
	int rc;

	if ((rc = vm_init(c, prog, o)))
		return rc;
	isim_error_clear(&err);
	if (isim_pathf(path, sizeof(path), &err, "%s/" VM_DIR, c->state_dir) < 0)
		return isim_fail(prog, &err);
	if (create && isim_mkdirs(path, 0700) < 0) {
		fprintf(stderr, "%s: %s: cannot create the state folder: %s\n", prog, path, strerror(errno));
		return errno == EACCES || errno == EROFS ? ISIM_EXIT_CANTCREAT : ISIM_EXIT_IOERR;
	}
	if (!create && stat(path, &st) < 0) {
		/* No state yet: no VM either. */
		if (errno == ENOENT)
			return 0;
	}
	if (isim_pathf(path, sizeof(path), &err, "%s/" VM_DB_NAME, c->state_dir) < 0)
		return isim_fail(prog, &err);
	if (isim_db_open(path, &schema, create, &c->db, &err) < 0) {
		if (err.kind == ISIM_ERR_NOINPUT && !create)
			return 0;
		return isim_fail(prog, &err);
	}
	return 0;
}

void vm_unlock(struct vm_ctx *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
}

void vm_close(struct vm_ctx *c)
{
	vm_unlock(c);
	sqlite3_finalize(c->migrated);
	c->migrated = NULL;
	isim_audit_close(c->audit);
	c->audit = NULL;
	isim_db_close(c->db);
	c->db = NULL;
}

int vm_lock(struct vm_ctx *c, const char *name)
{
	struct isim_error err;
	struct stat a, b;

	vm_unlock(c);
	if (!c->db) {
		fprintf(stderr, "%s: no VM '%s'\n", c->prog, name);
		return ISIM_EXIT_NOINPUT;
	}
	isim_error_clear(&err);
	if (isim_pathf(c->lock_path, sizeof(c->lock_path), &err, "%s/" VM_DIR "/%s.lock", c->state_dir, name) < 0)
		return isim_fail(c->prog, &err);
	for (;;) {
		c->lock_fd = open(c->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (c->lock_fd < 0) {
			fprintf(stderr, "%s: %s: cannot open the VM's lock: %s\n", c->prog, c->lock_path,
				strerror(errno));
			return errno == EACCES || errno == EROFS ? ISIM_EXIT_CANTCREAT : ISIM_EXIT_IOERR;
		}
		/* Two commands on one VM take turns; on two VMs they do not wait. */
		while (flock(c->lock_fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "%s: %s: cannot lock: %s\n", c->prog, c->lock_path, strerror(errno));
				return ISIM_EXIT_IOERR;
			}
		}
		/* The holder before may have removed the file (vm_unlock_remove):
		 * the lock is ours only if the name still leads to it. */
		if (fstat(c->lock_fd, &a) == 0 && stat(c->lock_path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return 0;
		close(c->lock_fd);
		c->lock_fd = -1;
	}
}

void vm_unlock_remove(struct vm_ctx *c)
{
	if (c->lock_fd < 0)
		return;
	unlink(c->lock_path);
	vm_unlock(c);
}

int vm_paths(const struct vm_ctx *c, const char *name, struct vm *v)
{
	struct sockaddr_un sun;
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_pathf(v->dir, sizeof(v->dir), &err, "%s/" VM_DIR "/%s", c->state_dir, name) < 0 ||
	    isim_pathf(v->disk, sizeof(v->disk), &err, "%s/disk.qcow2", v->dir) < 0 ||
	    isim_pathf(v->seed, sizeof(v->seed), &err, "%s/cidata.iso", v->dir) < 0 ||
	    isim_pathf(v->qmp, sizeof(v->qmp), &err, "%s/qmp.sock", v->dir) < 0 ||
	    isim_pathf(v->serial, sizeof(v->serial), &err, "%s/console.sock", v->dir) < 0 ||
	    isim_pathf(v->console, sizeof(v->console), &err, "%s/console.log", v->dir) < 0 ||
	    isim_pathf(v->log, sizeof(v->log), &err, "%s/qemu.log", v->dir) < 0) {
		fprintf(stderr, "%s: --state-dir: the path is too long\n", c->prog);
		return ISIM_EXIT_USAGE;
	}
	if (strlen(v->serial) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: %s: the state folder is too deep for a unix socket's path (%zu bytes at most)\n",
			c->prog, v->serial, sizeof(sun.sun_path) - 1);
		return ISIM_EXIT_USAGE;
	}
	if (strchr(v->dir, ',')) {
		fprintf(stderr, "%s: %s: QEMU cannot take a path with a comma\n", c->prog, v->dir);
		return ISIM_EXIT_USAGE;
	}
	return 0;
}

/* ---- rows ------------------------------------------------------------------- */

static cJSON *config_json(const struct vm *v)
{
	cJSON *o = cJSON_CreateObject(), *fw, *f;
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "image", v->image);
	cJSON_AddNumberToObject(o, "memory_mib", v->memory_mib);
	cJSON_AddNumberToObject(o, "cpus", v->cpus);
	cJSON_AddNumberToObject(o, "disk_size", (double)v->disk_size);
	cJSON_AddStringToObject(o, "accel", v->accel);
	cJSON_AddStringToObject(o, "network", v->net);
	if (v->top[0])
		cJSON_AddStringToObject(o, "top", v->top);
	if (v->tap[0])
		cJSON_AddStringToObject(o, "tap", v->tap);
	fw = cJSON_AddArrayToObject(o, "forwards");
	for (i = 0; fw && i < v->nforwards; i++) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "protocol", v->forwards[i].udp ? "udp" : "tcp");
		cJSON_AddStringToObject(f, "host_addr", v->forwards[i].host_addr);
		cJSON_AddNumberToObject(f, "host_port", v->forwards[i].host_port);
		cJSON_AddNumberToObject(f, "guest_port", v->forwards[i].guest_port);
		cJSON_AddItemToArray(fw, f);
	}
	return o;
}

static const char *text_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int config_read(struct vm_ctx *c, struct vm *v, const char *text)
{
	struct isim_error err;
	const cJSON *fw, *f;
	cJSON *o = NULL;

	isim_error_clear(&err);
	if (isim_json_parse(text, strlen(text), VM_DB_NAME, &o, &err) < 0 || !cJSON_IsObject(o)) {
		fprintf(stderr, "%s: %s/" VM_DB_NAME ": VM '%s': its configuration is corrupt\n", c->prog, c->state_dir,
			v->name);
		cJSON_Delete(o);
		return ISIM_EXIT_CONFIG;
	}
	snprintf(v->image, sizeof(v->image), "%s", text_of(o, "image"));
	v->memory_mib = (unsigned)num_of(o, "memory_mib");
	v->cpus = (unsigned)num_of(o, "cpus");
	v->disk_size = (uint64_t)num_of(o, "disk_size");
	snprintf(v->accel, sizeof(v->accel), "%s", text_of(o, "accel"));
	snprintf(v->net, sizeof(v->net), "%s", text_of(o, "network"));
	snprintf(v->tap, sizeof(v->tap), "%s", text_of(o, "tap"));
	/* The disk's top layer, when external snapshots put one over
	 * disk.qcow2: a file of the VM's folder, named as layer.c names them. */
	snprintf(v->top, sizeof(v->top), "%s", text_of(o, "top"));
	if (v->top[0] && (strncmp(v->top, "layer-", 6) || strchr(v->top, '/') ||
			  isim_pathf(v->disk, sizeof(v->disk), &err, "%s/%s", v->dir, v->top) < 0)) {
		fprintf(stderr, "%s: %s/" VM_DB_NAME ": VM '%s': its disk's top layer '%s' is not one of its files\n",
			c->prog, c->state_dir, v->name, v->top);
		cJSON_Delete(o);
		return ISIM_EXIT_CONFIG;
	}
	v->nforwards = 0;
	fw = cJSON_GetObjectItemCaseSensitive(o, "forwards");
	cJSON_ArrayForEach (f, fw) {
		struct vm_forward *w;

		if (v->nforwards == VM_FORWARDS_MAX)
			break;
		w = &v->forwards[v->nforwards++];
		w->udp = !strcmp(text_of(f, "protocol"), "udp");
		snprintf(w->host_addr, sizeof(w->host_addr), "%s", text_of(f, "host_addr"));
		w->host_port = (uint16_t)num_of(f, "host_port");
		w->guest_port = (uint16_t)num_of(f, "guest_port");
	}
	cJSON_Delete(o);
	return 0;
}

static int db_fail(struct vm_ctx *c, const char *what)
{
	struct isim_error err;

	isim_error_clear(&err);
	isim_db_error(c->db, what, &err);
	return isim_fail(c->prog, &err);
}

static int row_read(struct vm_ctx *c, sqlite3_stmt *st, struct vm *v)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(v->uuid, sizeof(v->uuid), "%s", (const char *)sqlite3_column_text(st, 1));
	v->state = state_of((const char *)sqlite3_column_text(st, 3));
	v->pid = (pid_t)sqlite3_column_int64(st, 4);
	v->created_at = sqlite3_column_int64(st, 5);
	v->started_at = sqlite3_column_int64(st, 6);
	if (vm_paths(c, v->name, v))
		return ISIM_EXIT_CONFIG;
	return config_read(c, v, (const char *)sqlite3_column_text(st, 2));
}

/* pid's command line, its arguments NUL-separated, into buf (size - 1
 * bytes at most, then a NUL): its length, 0 when it cannot be read (a
 * zombie, ended but not yet reaped, has an empty one). */
static size_t cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

bool vm_alive(const struct vm *v)
{
	char buf[8192];
	size_t n, i;

	if (v->pid <= 0 || (kill(v->pid, 0) < 0 && errno != EPERM))
		return false;
	n = cmdline(v->pid, buf, sizeof(buf));
	/* One string to search. */
	for (i = 0; i < n; i++) {
		if (!buf[i])
			buf[i] = ' ';
	}
	return n && strstr(buf, v->qmp) != NULL;
}

bool vm_accel_used(const struct vm *v, char *out, size_t size)
{
	char buf[8192], *arg, *end, *a;
	size_t n;
	bool machine = false;

	if (v->state == VM_STOPPED || !vm_alive(v) || !(n = cmdline(v->pid, buf, sizeof(buf))))
		return false;
	/* The accelerator isim_qemu_argv put in "-machine TYPE,accel=X". */
	for (arg = buf, end = buf + n; arg < end; arg += strlen(arg) + 1) {
		if (machine && (a = strstr(arg, ",accel=")) != NULL) {
			a += strlen(",accel=");
			snprintf(out, size, "%.*s", (int)strcspn(a, ","), a);
			return *out != '\0';
		}
		machine = !strcmp(arg, "-machine");
	}
	return false;
}

void vm_signal(const struct vm *v, int sig)
{
	/* QEMU leads a process group of its own (isim_run's detach), which
	 * whatever it started shares. */
	pid_t pg = getpgid(v->pid);

	if (pg > 1 && pg != getpgrp())
		kill(-pg, sig);
	kill(v->pid, sig);
}

/* A VM recorded as running whose QEMU has gone is stopped: say so in the
 * record, so that list never shows what is not there. */
static int check(struct vm_ctx *c, struct vm *v)
{
	int rc;

	if (v->state == VM_STOPPED || vm_alive(v))
		return 0;
	v->state = VM_STOPPED;
	v->pid = 0;
	if ((rc = vm_save(c, v, false)))
		return rc;
	vm_record(c, v->name, "ended", false,
		  "QEMU had ended without isim-vm (it was killed, crashed, or the guest powered off)");
	return 0;
}

int vm_load(struct vm_ctx *c, const char *name, struct vm *v)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	int rc;

	if (!c->db) {
		fprintf(stderr, "%s: no VM '%s'\n", c->prog, name);
		return ISIM_EXIT_NOINPUT;
	}
	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "SELECT name, uuid, config, state, pid, created_at, started_at FROM vms WHERE name = ?",
			    &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = row_read(c, st, v);
	} else if (rc == SQLITE_DONE) {
		fprintf(stderr, "%s: no VM '%s'\n", c->prog, name);
		rc = ISIM_EXIT_NOINPUT;
	} else {
		rc = db_fail(c, "cannot read a VM");
	}
	sqlite3_finalize(st);
	return rc ? rc : check(c, v);
}

int vm_take(struct vm_ctx *c, const char *name, struct vm *v)
{
	int rc;

	/* An unknown name leaves nothing behind, not even a lock's file. */
	if (!vm_exists(c, name)) {
		fprintf(stderr, "%s: no VM '%s'\n", c->prog, name);
		return ISIM_EXIT_NOINPUT;
	}
	if ((rc = vm_lock(c, name)))
		return rc;
	rc = vm_load(c, name, v);
	/* Destroyed while this command waited for it. */
	if (rc == ISIM_EXIT_NOINPUT)
		vm_unlock_remove(c);
	return rc;
}

int vm_load_all(struct vm_ctx *c, struct vm **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	struct vm *all = NULL;
	size_t cap = 0, i;
	int rc = 0, s;

	*out = NULL;
	*n = 0;
	if (!c->db)
		return 0;
	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "SELECT name, uuid, config, state, pid, created_at, started_at FROM vms ORDER BY name", &st,
			    &err) < 0)
		return isim_fail(c->prog, &err);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			struct vm *m = realloc(all, (cap = cap ? cap * 2 : 16) * sizeof(*all));

			if (!m) {
				fprintf(stderr, "%s: out of memory\n", c->prog);
				rc = ISIM_EXIT_SOFTWARE;
				break;
			}
			all = m;
		}
		if ((rc = row_read(c, st, &all[*n])))
			break;
		(*n)++;
	}
	if (!rc && s != SQLITE_DONE)
		rc = db_fail(c, "cannot read the VMs");
	sqlite3_finalize(st);
	for (i = 0; !rc && i < *n; i++)
		rc = check(c, &all[i]);
	if (rc) {
		free(all);
		*n = 0;
		return rc;
	}
	*out = all;
	return 0;
}

int vm_save(struct vm_ctx *c, const struct vm *v, bool insert)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	cJSON *cfg = config_json(v);
	char *text = cfg ? isim_json_print(cfg, false) : NULL;
	int rc = 0;

	cJSON_Delete(cfg);
	if (!text) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		return ISIM_EXIT_SOFTWARE;
	}
	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    insert ? "INSERT INTO vms (config, state, pid, created_at, started_at, name, uuid) "
				     "VALUES (?, ?, ?, ?, ?, ?, ?)"
				   : "UPDATE vms SET config = ?, state = ?, pid = ?, created_at = ?, started_at = ? "
				     "WHERE name = ? AND uuid = ?",
			    &st, &err) < 0) {
		free(text);
		return isim_fail(c->prog, &err);
	}
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, vm_state_name(v->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, v->pid);
	sqlite3_bind_int64(st, 4, v->created_at);
	sqlite3_bind_int64(st, 5, v->started_at);
	sqlite3_bind_text(st, 6, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, v->uuid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
			fprintf(stderr, "%s: a VM '%s' exists already\n", c->prog, v->name);
			rc = ISIM_EXIT_CANTCREAT;
		} else {
			rc = db_fail(c, "cannot record the VM");
		}
	}
	sqlite3_finalize(st);
	free(text);
	return rc;
}

int vm_delete(struct vm_ctx *c, const char *name)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	int rc = 0;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "DELETE FROM vms WHERE name = ?", &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c, "cannot delete the VM");
	sqlite3_finalize(st);
	return rc;
}

/* Whether the query (one text parameter) finds a row; its first column
 * into out when out is not NULL. */
static bool find_row(struct vm_ctx *c, const char *sql, const char *param, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	bool found;

	if (!c->db)
		return false;
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, sql, &st, &err) < 0)
		return false;
	sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found && out)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return found;
}

bool vm_exists(struct vm_ctx *c, const char *name)
{
	return find_row(c, "SELECT name FROM vms WHERE name = ?", name, NULL, 0);
}

bool vm_uuid_taken(struct vm_ctx *c, const char *uuid, char *name, size_t size)
{
	return find_row(c, "SELECT name FROM vms WHERE uuid = ?", uuid, name, size);
}

/* The operation in the audit log too, which every tool appends to. */
static void audit(struct vm_ctx *c, const char *name, const char *op, bool ok, const char *detail)
{
	struct isim_error err;
	char path[4200];
	cJSON *rec;

	isim_error_clear(&err);
	if (!c->audit_tried) {
		c->audit_tried = true;
		if (isim_audit_path(c->state_dir, path, sizeof(path), &err) < 0 ||
		    isim_audit_open(path, true, &c->audit, &err) < 0)
			c->audit = NULL;
	}
	if (!c->audit || !(rec = cJSON_CreateObject()))
		return;
	if (cJSON_AddStringToObject(rec, "vm", name) && cJSON_AddStringToObject(rec, "op", op) &&
	    cJSON_AddBoolToObject(rec, "ok", ok) &&
	    (detail ? cJSON_AddStringToObject(rec, "detail", detail) != NULL
		    : cJSON_AddNullToObject(rec, "detail") != NULL) &&
	    isim_audit_append(c->audit, "vm", rec, NULL, &err) < 0)
		isim_error_clear(&err); /* vm.db has it; the command goes on */
	cJSON_Delete(rec);
}

void vm_record(struct vm_ctx *c, const char *name, const char *op, bool ok, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;

	if (!c->db)
		return;
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "INSERT INTO ops (at, vm, op, ok, detail) VALUES (?, ?, ?, ?, ?)", &st, &err) < 0)
		return;
	sqlite3_bind_int64(st, 1, vm_now());
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, ok);
	if (detail)
		sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
	/* The record is history; a command does not fail for want of it. */
	(void)sqlite3_step(st);
	sqlite3_finalize(st);
	audit(c, name, op, ok, detail);
}

/* ---- the machine --------------------------------------------------------------- */

void vm_machine(const struct vm *v, struct vm_machine *w)
{
	size_t i, x = 0;

	memset(w, 0, sizeof(*w));
	w->drives[0] = (struct isim_qemu_drive){ .path = v->disk, .format = "qcow2", .node_name = VM_DISK_NODE };
	w->drives[1] = (struct isim_qemu_drive){ .path = v->seed, .format = "raw", .readonly = true };
	/* "auto" is for vm_start_qemu to resolve (isim_kvm_usable); until then TCG,
	 * which works everywhere. */
	w->m.accel = !strcmp(v->accel, "kvm") ? "kvm" : "tcg";
	w->m.memory_mib = v->memory_mib;
	w->m.cpus = v->cpus;
	w->m.drives = w->drives;
	w->m.ndrives = 2;
	w->m.serial = ISIM_QEMU_SERIAL_SOCKET_LOG;
	w->m.serial_path = v->serial;
	w->m.serial_log = v->console;
	w->m.qmp = v->qmp;
	if (!strcmp(v->net, "none")) {
		w->m.no_network = true;
	} else if (!strcmp(v->net, "tap")) {
		w->m.no_network = true;
		snprintf(w->tap_arg, sizeof(w->tap_arg), "tap,id=net0,ifname=%s,script=no,downscript=no", v->tap);
		w->extra[x++] = "-netdev";
		w->extra[x++] = w->tap_arg;
		w->extra[x++] = "-device";
		w->extra[x++] = "virtio-net-pci,netdev=net0,romfile=";
	} else {
		for (i = 0; i < v->nforwards; i++) {
			w->fw[i].udp = v->forwards[i].udp;
			w->fw[i].host_addr = v->forwards[i].host_addr[0] ? v->forwards[i].host_addr : NULL;
			w->fw[i].host_port = v->forwards[i].host_port;
			w->fw[i].guest_port = v->forwards[i].guest_port;
		}
		w->nic.no_rom = true;
		w->nic.forwards = w->fw;
		w->nic.nforwards = v->nforwards;
		w->m.nics = &w->nic;
		w->m.nnics = 1;
	}
	w->extra[x] = NULL;
	w->m.extra = w->extra;
}

int vm_qmp(struct vm_ctx *c, const struct vm *v, struct isim_qmp **out)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_qmp_connect(v->qmp, VM_QMP_TIMEOUT_MS, out, &err) < 0) {
		fprintf(stderr, "%s: VM '%s': cannot reach its QEMU: %s\n", c->prog, v->name, err.msg);
		return ISIM_EXIT_UNAVAILABLE;
	}
	return 0;
}

static bool gone_within(const struct vm *v, int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };
	int waited;

	for (waited = 0; waited <= ms; waited += 50) {
		if (!vm_alive(v))
			return true;
		nanosleep(&ts, NULL);
	}
	return !vm_alive(v);
}

const char *vm_stop_qemu(struct vm_ctx *c, struct vm *v, int timeout_ms)
{
	struct isim_qmp *q = NULL;
	struct isim_error err;
	const char *how = "ended";

	if (!vm_alive(v))
		return how;
	isim_error_clear(&err);
	if (isim_qmp_connect(v->qmp, 5000, &q, &err) == 0) {
		/* ACPI first, so that the guest shuts down cleanly. */
		if (v->state == VM_PAUSED && isim_qmp_execute(q, "cont", NULL, NULL, 5000, &err) < 0)
			isim_error_clear(&err); /* powerdown will tell */
		if (isim_qmp_execute(q, "system_powerdown", NULL, NULL, 5000, &err) == 0 && gone_within(v, timeout_ms))
			how = "powerdown";
		else if (isim_qmp_execute(q, "quit", NULL, NULL, 5000, &err) == 0 && gone_within(v, 5000))
			how = "quit";
		isim_qmp_close(q);
	}
	if (!strcmp(how, "ended") && vm_alive(v)) {
		vm_signal(v, SIGTERM);
		how = "SIGTERM";
		if (!gone_within(v, 5000)) {
			vm_signal(v, SIGKILL);
			how = "SIGKILL";
			(void)gone_within(v, 5000);
		}
	}
	(void)c;
	return how;
}

/* ---- output ------------------------------------------------------------------------ */

static cJSON *time_json(int64_t t)
{
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		return cJSON_CreateNull();
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cJSON_CreateString(s);
}

static cJSON *ops_json(struct vm_ctx *c, const char *name)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	cJSON *a = cJSON_CreateArray();

	isim_error_clear(&err);
	if (!a || isim_db_prepare(c->db,
				  "SELECT at, op, ok, detail FROM (SELECT seq, at, op, ok, detail FROM ops "
				  "WHERE vm = ? ORDER BY seq DESC LIMIT 20) ORDER BY seq",
				  &st, &err) < 0)
		return a;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "at", time_json(sqlite3_column_int64(st, 0)));
		cJSON_AddStringToObject(o, "op", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddBoolToObject(o, "ok", sqlite3_column_int(st, 2));
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			cJSON_AddNullToObject(o, "detail");
		else
			cJSON_AddStringToObject(o, "detail", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddItemToArray(a, o);
	}
	sqlite3_finalize(st);
	return a;
}

/* Where a stopped VM went: the detail of a successful migrate that no
 * create, start or receive of it followed; else null. */
static cJSON *migrated_json(struct vm_ctx *c, const struct vm *v)
{
	struct isim_error err;
	sqlite3_stmt *st;
	cJSON *to = NULL;

	isim_error_clear(&err);
	if (v->state != VM_STOPPED ||
	    (!c->migrated && isim_db_prepare(c->db,
					     "SELECT op, detail FROM ops WHERE vm = ? AND ok = 1 AND op IN "
					     "('create', 'start', 'receive', 'migrate') ORDER BY seq DESC LIMIT 1",
					     &c->migrated, &err) < 0))
		return cJSON_CreateNull();
	st = c->migrated;
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "migrate") &&
	    sqlite3_column_type(st, 1) == SQLITE_TEXT) {
		const char *d = (const char *)sqlite3_column_text(st, 1);

		to = cJSON_CreateString(!strncmp(d, "to ", 3) ? d + 3 : d);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return to ? to : cJSON_CreateNull();
}

cJSON *vm_json(struct vm_ctx *c, const struct vm *v, bool full)
{
	cJSON *o = cJSON_CreateObject(), *cfg;
	char used[16];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "state", vm_state_name(v->state));
	if (v->pid && v->state != VM_STOPPED)
		cJSON_AddNumberToObject(o, "pid", v->pid);
	else
		cJSON_AddNullToObject(o, "pid");
	cJSON_AddNumberToObject(o, "memory_mib", v->memory_mib);
	cJSON_AddNumberToObject(o, "cpus", v->cpus);
	cJSON_AddStringToObject(o, "image", v->image);
	cJSON_AddItemToObject(o, "created_at", time_json(v->created_at));
	cJSON_AddItemToObject(o, "started_at", time_json(v->state != VM_STOPPED ? v->started_at : 0));
	cJSON_AddItemToObject(o, "migrated_to", migrated_json(c, v));
	if (!full)
		return o;
	cJSON_AddStringToObject(o, "uuid", v->uuid);
	cfg = config_json(v);
	if (cfg) {
		cJSON_AddItemToObject(o, "disk_size", cJSON_DetachItemFromObject(cfg, "disk_size"));
		cJSON_AddItemToObject(o, "accel", cJSON_DetachItemFromObject(cfg, "accel"));
		if (vm_accel_used(v, used, sizeof(used)))
			cJSON_AddStringToObject(o, "accel_used", used);
		else
			cJSON_AddNullToObject(o, "accel_used");
		cJSON_AddItemToObject(o, "network", cJSON_DetachItemFromObject(cfg, "network"));
		if (v->tap[0])
			cJSON_AddItemToObject(o, "tap", cJSON_DetachItemFromObject(cfg, "tap"));
		cJSON_AddItemToObject(o, "forwards", cJSON_DetachItemFromObject(cfg, "forwards"));
		cJSON_Delete(cfg);
	}
	cJSON_AddStringToObject(o, "disk", v->disk);
	cJSON_AddStringToObject(o, "seed", v->seed);
	cJSON_AddStringToObject(o, "qmp", v->qmp);
	cJSON_AddStringToObject(o, "console", v->serial);
	cJSON_AddStringToObject(o, "console_log", v->console);
	cJSON_AddItemToObject(o, "operations", ops_json(c, v->name));
	return o;
}

int vm_print(const char *prog, cJSON *doc)
{
	int rc;

	if (!doc) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return ISIM_EXIT_SOFTWARE;
	}
	rc = isim_json_write(stdout, doc) < 0 ? isim_stdout_error(prog) : isim_close_stdout(prog);
	cJSON_Delete(doc);
	return rc;
}

int vm_name_arg(const char *prog, int argc, char *argv[], const char **name)
{
	if (optind >= argc)
		return isim_usage_error(prog, "NAME is required");
	if (optind + 1 < argc)
		return isim_usage_error(prog, "unexpected argument '%.64s'", argv[optind + 1]);
	*name = argv[optind];
	if (!vm_name_valid(*name))
		return isim_bad_value(prog, "NAME", *name, VM_NAME_RULE);
	return 0;
}

bool vm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'T':
		shift += 10;
		/* fall through */
	case 'G':
		shift += 10;
		/* fall through */
	case 'M':
		shift += 10;
		/* fall through */
	case 'K':
		shift += 10;
		end++;
		break;
	}
	if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int vm_timeout_arg(const char *prog, const char *text, long *secs)
{
	if (text && !isim_parse_long(text, 0, 86400, secs))
		return isim_bad_value(prog, "--timeout", text, "seconds from 0 to 86400");
	return 0;
}

int vm_parse(struct isim_getopt *g, struct vm_opts *o, const struct vm_arg *args, int argc, char *argv[],
	     const char **name)
{
	const struct vm_arg *a;
	int c;

	while ((c = isim_getopt_shared(g, vm_option, o, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g->rc;
		for (a = args; a && a->c && a->c != c; a++)
			;
		if (!a || !a->c)
			continue;
		if (a->text && isim_opt_once(g->prog, a->name, a->text, optarg))
			return ISIM_EXIT_USAGE;
		if (a->flag)
			*a->flag = true;
		if (a->list) {
			if (*a->n == a->max)
				return isim_usage_error(g->prog, "%s: at most %zu", a->name, a->max);
			a->list[(*a->n)++] = optarg;
		}
	}
	return vm_name_arg(g->prog, argc, argv, name);
}

int vm_one_name(const char *prog, int argc, char *argv[], const char *shortopts, const struct option *longopts,
		void (*usage)(FILE *), struct vm_opts *o, const char **name)
{
	struct isim_getopt g = { .prog = prog, .shortopts = shortopts, .longopts = longopts, .usage = usage };

	return vm_parse(&g, o, NULL, argc, argv, name);
}
