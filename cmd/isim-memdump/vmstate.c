/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/paths.h"
#include "dump.h"
#include "isim/file.h"
#include "isim/json.h"

/* isim-vm's state, read the way isim-vm(1) describes it: STATE/vm.db's
 * table vms (name, uuid, config JSON, state, pid) and each VM's folder
 * STATE/vms/NAME with its QMP socket and lock. Read only, never migrated:
 * that file is isim-vm's. */

const char *memdump_state_dir(const char *opt)
{
	return isim_path_resolve(opt, "ISIM_STATE_DIR", MEMDUMP_STATE_DIR_DEFAULT);
}

static int take_lock(const char *path, int *out, struct isim_error *err)
{
	struct stat a, b;
	int fd;

	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			isim_error_at(err, path, 0, 0);
			return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot open the VM's lock");
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				isim_error_at(err, path, 0, 0);
				isim_error_errno(err, ISIM_ERR_IO, errno, "cannot lock");
				close(fd);
				return -1;
			}
		}
		/* isim-vm destroy removes the file it held: ours only if the
		 * name still leads to it (as isim-vm's own vm_lock checks). */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
}

static const char *text_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int read_row(const char *db_path, const char *name, struct memdump_vm *vm, struct isim_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	cJSON *cfg = NULL;
	const cJSON *mem;
	const char *state, *config;
	pid_t pid;
	int ret = -1, rc;

	rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 10000);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT uuid, config, state, pid FROM vms WHERE name = ?", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		isim_error_at(err, db_path, 0, 0);
		isim_error_set(err, ISIM_ERR_CONFIG, "cannot read isim-vm's state: %s",
			       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		isim_error_at(err, db_path, 0, 0);
		isim_error_set(err, ISIM_ERR_NOINPUT, "no VM '%s'", name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		isim_error_at(err, db_path, 0, 0);
		isim_error_set(err, ISIM_ERR_IO, "cannot read VM '%s': %s", name, sqlite3_errmsg(db));
		goto out;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->uuid, sizeof(vm->uuid), "%s", (const char *)sqlite3_column_text(st, 0));
	config = (const char *)sqlite3_column_text(st, 1);
	state = (const char *)sqlite3_column_text(st, 2);
	pid = (pid_t)sqlite3_column_int64(st, 3);
	if (!config || isim_json_parse(config, strlen(config), "vm.db", &cfg, err) < 0 || !cJSON_IsObject(cfg)) {
		isim_error_at(err, db_path, 0, 0);
		isim_error_set(err, ISIM_ERR_CONFIG, "VM '%s': its configuration is corrupt", name);
		goto out;
	}
	snprintf(vm->image, sizeof(vm->image), "%s", text_of(cfg, "image"));
	mem = cJSON_GetObjectItemCaseSensitive(cfg, "memory_mib");
	vm->memory_mib = cJSON_IsNumber(mem) && mem->valuedouble > 0 ? (unsigned)mem->valuedouble : 0;
	if (!state || !strcmp(state, "stopped") || pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
		isim_error_set(err, ISIM_ERR_UNAVAILABLE, "VM '%s' is not running (isim-vm start %s)", name, name);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(cfg);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

int memdump_vm_find(const char *state_dir, const char *name, struct memdump_vm *vm, struct isim_error *err)
{
	char db_path[4200], lock[4200];

	memset(vm, 0, sizeof(*vm));
	vm->lock_fd = -1;
	if (isim_pathf(db_path, sizeof(db_path), err, "%s/vm.db", state_dir) < 0 ||
	    isim_pathf(lock, sizeof(lock), err, "%s/vms/%s.lock", state_dir, name) < 0 ||
	    isim_pathf(vm->qmp, sizeof(vm->qmp), err, "%s/vms/%s/qmp.sock", state_dir, name) < 0)
		return -1;
	if (access(db_path, F_OK) < 0) {
		isim_error_at(err, db_path, 0, 0);
		return isim_error_set(err, ISIM_ERR_NOINPUT,
				      "no VM '%s' (no isim-vm state here; --qmp names a QEMU isim-vm did not start)",
				      name);
	}
	/* Looked up before the lock, so that a name that is no VM's leaves
	 * no lock file behind; read again under it, as it stands now. */
	if (read_row(db_path, name, vm, err) < 0 || take_lock(lock, &vm->lock_fd, err) < 0 ||
	    read_row(db_path, name, vm, err) < 0) {
		memdump_vm_release(vm);
		return -1;
	}
	return 0;
}

void memdump_vm_release(struct memdump_vm *vm)
{
	if (vm->lock_fd >= 0)
		close(vm->lock_fd);
	vm->lock_fd = -1;
}
