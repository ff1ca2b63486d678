/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/buf.h"
#include "isim/db.h"
#include "isim/json.h"
#include "isim/run.h"
#include "vm.h"

#define PROG "isim-vm snapshot"

void vm_snapshot_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " create NAME [TAG] [--external] [--state-dir DIR]\n"
		"       " PROG " list NAME [--state-dir DIR]\n"
		"       " PROG " revert NAME TAG [--force] [--state-dir DIR]\n"
		"       " PROG " delete NAME TAG [--state-dir DIR]\n"
		"\n"
		"Snapshots of the VM NAME's disk. Internal ones live inside its qcow2 file: of a\n"
		"running VM with its memory and devices (QMP snapshot-save), so that a revert\n"
		"resumes it where it was; of a stopped one the disk alone (qemu-img). An\n"
		"--external one is a disk-only point in time as a file of its own: the disk's\n"
		"top layer is frozen as ext-TAG.qcow2 in the VM's folder and a new, empty\n"
		"disk.qcow2 over it takes the writes from then on (QMP blockdev-snapshot when\n"
		"the VM runs). TAG defaults to snap-YYYYMMDDTHHMMSSZ.\n"
		"\n"
		"Reverting a running VM loses what it did since, and is refused without\n"
		"--force; a running VM reverted to a disk-only snapshot is restarted on it.\n"
		"Reverting to an external snapshot discards the top layer, and is refused while\n"
		"a later snapshot lives there or over it (delete that first); an internal\n"
		"snapshot inside a frozen layer can be listed and deleted (VM stopped), not\n"
		"reverted to. Deleting an external snapshot folds its layer into the one over\n"
		"it (qemu-img rebase, or a QMP block-stream when the VM runs), so that the disk\n"
		"reads the same, and is refused while internal snapshots live in the layer.\n"
		"\n"
		"create, revert and delete print the snapshot, list all of them, oldest first:\n"
		"{\"tag\", \"created_at\", \"external\", \"vmstate\", \"vmstate_size\", \"layer\" (the\n"
		"file it is in: null for the top, disk.qcow2), \"size\" (an external one's file,\n"
		"in bytes on the host; an internal one's memory state), \"parent\"}.\n"
		"\n"
		"  -e, --external         a disk-only snapshot as a layer of its own\n"
		"  -f, --force            revert a running VM\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"Exit status: 0, 1 QEMU or qemu-img refused (the reason on stderr), 64 usage\n"
		"(a running VM without --force, a snapshot in the way), 66 no such VM or\n"
		"snapshot, 69 the VM is paused or its QEMU is unreachable, 73 TAG exists, 74\n"
		"the state cannot be written, 78 the state is corrupt.\n");
}

struct snap {
	char tag[128];
	int64_t created_at;
	bool external, vmstate;
	int64_t vmstate_size;
	char layer[160]; /* the file it is in; "" for the top */
	char parent[128];
};

#define SNAP_COLUMNS "tag, created_at, external, vmstate, vmstate_size, layer, parent"

static bool tag_valid(const char *t)
{
	size_t i, n = strlen(t);

	if (n < 1 || n > 100)
		return false;
	for (i = 0; i < n; i++) {
		char ch = t[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static void text_col(sqlite3_stmt *st, int i, char *out, size_t size)
{
	out[0] = '\0';
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, i));
}

/* A row of SNAP_COLUMNS. */
static void snap_row(sqlite3_stmt *st, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	text_col(st, 0, s->tag, sizeof(s->tag));
	s->created_at = sqlite3_column_int64(st, 1);
	s->external = sqlite3_column_int(st, 2);
	s->vmstate = sqlite3_column_int(st, 3);
	s->vmstate_size = sqlite3_column_int64(st, 4);
	text_col(st, 5, s->layer, sizeof(s->layer));
	text_col(st, 6, s->parent, sizeof(s->parent));
}

static int snap_get(struct vm_ctx *c, const char *vm, const char *tag, struct snap *s, bool *found)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;

	*found = false;
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE vm = ? AND tag = ?", &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snap_row(st, s);
		*found = true;
	}
	sqlite3_finalize(st);
	return 0;
}

/* The first tag that sql (binding the VM and then arg, when not NULL)
 * selects, into out; "" when none. */
static void first_tag(struct vm_ctx *c, const char *sql, const char *vm, const char *arg, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;

	out[0] = '\0';
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, sql, &st, &err) < 0)
		return;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	if (arg)
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		text_col(st, 0, out, size);
	sqlite3_finalize(st);
}

/* The external snapshot whose layer holds s (s internal), into out. */
static void frozen_by(struct vm_ctx *c, const char *vm, const struct snap *s, char *out, size_t size)
{
	first_tag(c, "SELECT tag FROM snapshots WHERE vm = ? AND external = 1 AND layer = ?", vm, s->layer, out, size);
}

/* How many layers down from the top the external snapshot tag's is (1:
 * right under it), and the file over it; 0 if tag is not external. */
static size_t depth_of(struct vm_ctx *c, const struct vm *v, const char *tag, char *child, size_t size)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	size_t depth = 0, n = 0;
	bool seen = false;

	snprintf(child, size, "%s", vm_layer_top(v));
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "SELECT tag, layer FROM snapshots WHERE vm = ? AND external = 1 ORDER BY rowid DESC",
			    &st, &err) < 0)
		return 0;
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		if (!strcmp((const char *)sqlite3_column_text(st, 0), tag)) {
			depth = n;
			seen = true;
			break;
		}
		text_col(st, 1, child, size);
	}
	sqlite3_finalize(st);
	return seen ? depth : 0;
}

static cJSON *snap_json(const struct vm *v, const struct snap *s)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];
	time_t tt = (time_t)s->created_at;
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, "tag", s->tag);
	cJSON_AddStringToObject(o, "created_at", t);
	cJSON_AddBoolToObject(o, "external", s->external);
	cJSON_AddBoolToObject(o, "vmstate", s->vmstate);
	cJSON_AddNumberToObject(o, "vmstate_size", (double)s->vmstate_size);
	if (s->layer[0])
		cJSON_AddStringToObject(o, "layer", s->layer);
	else
		cJSON_AddNullToObject(o, "layer");
	cJSON_AddNumberToObject(o, "size", (double)(s->external ? vm_layer_size(v, s->layer) : s->vmstate_size));
	if (s->parent[0])
		cJSON_AddStringToObject(o, "parent", s->parent);
	else
		cJSON_AddNullToObject(o, "parent");
	return o;
}

/* The snapshot last made or reverted to: the next one's parent. */
static void latest(struct vm_ctx *c, const char *vm, char *out, size_t size)
{
	first_tag(c,
		  "SELECT detail FROM ops WHERE vm = ? AND ok = 1 AND op IN ('snapshot create', 'snapshot revert') "
		  "ORDER BY seq DESC LIMIT 1",
		  vm, NULL, out, size);
}

/* qemu-img snapshot -c|-a|-d TAG on a stopped VM's layer (its top when
 * layer is ""). */
static int offline(struct vm_ctx *c, const struct vm *v, const char *flag, const char *tag, const char *layer)
{
	char path[4400];
	const char *argv[] = { "qemu-img", "snapshot", flag, tag, path, NULL };
	struct isim_run r = { .argv = argv };
	struct isim_error err;

	if (vm_layer_path(v, layer[0] ? layer : vm_layer_top(v), path, sizeof(path)) < 0)
		return ISIM_EXIT_SOFTWARE;
	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) < 0) {
		isim_print_error(c->prog, &err);
		return err.kind == ISIM_ERR_UNAVAILABLE ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
	}
	return 0;
}

/* An internal snapshot job (snapshot-save, -load, -delete) on the disk's
 * top layer, wherever external snapshots have put it. */
static int job(struct vm_ctx *c, struct isim_qmp *q, const char *command, const char *tag, bool vmstate)
{
	char top[1][VM_NODE_MAX], id[160];
	cJSON *args, *dev;
	size_t n;
	int rc;

	if ((rc = vm_disk_nodes(c, q, top, 1, &n)))
		return rc;
	snprintf(id, sizeof(id), "isim-%s", tag);
	args = cJSON_CreateObject();
	if (!args || !cJSON_AddStringToObject(args, "job-id", id) || !cJSON_AddStringToObject(args, "tag", tag) ||
	    (vmstate && !cJSON_AddStringToObject(args, "vmstate", top[0])) ||
	    !(dev = cJSON_AddArrayToObject(args, "devices")) ||
	    !cJSON_AddItemToArray(dev, cJSON_CreateString(top[0]))) {
		cJSON_Delete(args);
		return ISIM_EXIT_SOFTWARE;
	}
	return vm_job(c, q, command, id, args);
}

/* The size of a snapshot's memory state, as qemu-img sees the disk. */
static int64_t vmstate_size(const struct vm *v, const char *tag)
{
	const char *argv[] = { "qemu-img", "info", "-U", "--output=json", v->disk, NULL };
	struct isim_buf out = { 0 };
	struct isim_run r = { .argv = argv, .out = &out };
	struct isim_error err;
	const cJSON *s;
	cJSON *doc = NULL;
	int64_t size = 0;

	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) == 0 && out.s && isim_json_parse(out.s, out.len, "qemu-img", &doc, &err) == 0) {
		cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(doc, "snapshots")) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name"),
				    *z = cJSON_GetObjectItemCaseSensitive(s, "vm-state-size");

			if (cJSON_IsString(n) && !strcmp(n->valuestring, tag) && cJSON_IsNumber(z))
				size = (int64_t)z->valuedouble;
		}
	}
	cJSON_Delete(doc);
	isim_buf_free(&out);
	return size;
}

/* Run sql, binding the VM to ?1 and a and b, when not NULL, to ?2 and ?3:
 * 0 or -1 with err. */
static int exec_vm(struct vm_ctx *c, const char *sql, const char *vm, const char *a, const char *b,
		   struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (isim_db_prepare(c->db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	if (a)
		sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = isim_db_error(c->db, "cannot record the snapshot", err);
	sqlite3_finalize(st);
	return rc;
}

/* The snapshot's row; with an external one, the internal snapshots of the
 * layer it froze now live in that layer's file, and v's record names the
 * new top. 0 or an exit code said. */
static int insert(struct vm_ctx *c, const struct vm *v, const struct snap *s)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	int rc = ISIM_EXIT_IOERR;

	isim_error_clear(&err);
	if (isim_db_begin(c->db, &err) < 0)
		return isim_fail(c->prog, &err);
	if (s->external &&
	    exec_vm(c, "UPDATE snapshots SET layer = ?2 WHERE vm = ?1 AND external = 0 AND layer IS NULL", v->name,
		    s->layer, NULL, &err) < 0)
		goto fail;
	if (isim_db_prepare(c->db, "INSERT INTO snapshots (" SNAP_COLUMNS ", vm) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st,
			    &err) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, s->tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, s->created_at);
	sqlite3_bind_int(st, 3, s->external);
	sqlite3_bind_int(st, 4, s->vmstate);
	sqlite3_bind_int64(st, 5, s->vmstate_size);
	if (s->layer[0])
		sqlite3_bind_text(st, 6, s->layer, -1, SQLITE_STATIC);
	if (s->parent[0])
		sqlite3_bind_text(st, 7, s->parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, v->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		(void)isim_db_error(c->db, "cannot record the snapshot", &err);
	sqlite3_finalize(st);
	if (err.kind != ISIM_ERR_NONE)
		goto fail;
	if (s->external && (rc = vm_save(c, v, false)))
		goto rollback;
	if (isim_db_commit(c->db, &err) == 0)
		return 0;
fail:
	rc = isim_fail(c->prog, &err);
rollback:
	isim_db_rollback(c->db);
	return rc;
}

static int do_create(struct vm_ctx *c, struct vm *v, const char *tag, bool external, struct snap *s)
{
	struct isim_qmp *q = NULL;
	char top[64], path[4400];
	bool found;
	int rc;

	if ((rc = snap_get(c, v->name, tag, s, &found)))
		return rc;
	if (found) {
		fprintf(stderr, PROG ": VM '%s' has a snapshot '%s' already\n", v->name, tag);
		return ISIM_EXIT_CANTCREAT;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	latest(c, v->name, s->parent, sizeof(s->parent));
	s->created_at = vm_now();
	s->external = external;
	if (external) {
		if (vm_layer_count(c, v->name) >= VM_LAYERS_MAX) {
			fprintf(stderr, PROG ": VM '%s' has %d external snapshots, the most it can have\n", v->name,
				VM_LAYERS_MAX);
			return ISIM_EXIT_USAGE;
		}
		snprintf(s->layer, sizeof(s->layer), "%s", vm_layer_top(v));
		if (v->state != VM_STOPPED && (rc = vm_qmp(c, v, &q)))
			return rc;
		rc = vm_layer_freeze(c, v, q, top, sizeof(top));
	} else if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-c", tag, "");
	} else {
		s->vmstate = true;
		if (!(rc = vm_qmp(c, v, &q)))
			rc = job(c, q, "snapshot-save", tag, true);
	}
	isim_qmp_close(q);
	if (rc) {
		vm_record(c, v->name, "snapshot create", false, tag);
		return rc;
	}
	s->vmstate_size = s->vmstate ? vmstate_size(v, tag) : 0;
	if (external) {
		snprintf(v->top, sizeof(v->top), "%s", top);
		if (vm_layer_path(v, top, v->disk, sizeof(v->disk)) < 0)
			return ISIM_EXIT_SOFTWARE;
	}
	if ((rc = insert(c, v, s))) {
		if (external && v->state == VM_STOPPED && !vm_layer_path(v, top, path, sizeof(path)))
			(void)unlink(path);
		else if (external)
			fprintf(stderr, PROG ": the disk's new top layer %s is in use, but not recorded\n", top);
		return rc;
	}
	vm_record(c, v->name, "snapshot create", true, tag);
	return 0;
}

/* Whether an external snapshot s can be reverted to: no snapshot is in
 * the layers that the revert discards. */
static int ext_revertible(struct vm_ctx *c, const struct vm *v, const struct snap *s)
{
	char later[128];

	first_tag(c,
		  "SELECT tag FROM snapshots WHERE vm = ? AND (layer IS NULL OR (external = 1 AND rowid > (SELECT "
		  "rowid FROM snapshots WHERE vm = ?1 AND tag = ?2))) ORDER BY rowid LIMIT 1",
		  v->name, s->tag, later, sizeof(later));
	if (later[0]) {
		fprintf(stderr,
			PROG ": VM '%s': snapshot '%s' was taken after '%s', over its layer (delete it first)\n",
			v->name, later, s->tag);
		return ISIM_EXIT_USAGE;
	}
	return 0;
}

static int do_revert(struct vm_ctx *c, struct vm *v, const char *tag, bool force, struct snap *s)
{
	struct isim_qmp *q = NULL;
	struct isim_error err;
	char by[128];
	bool found;
	int rc;

	if ((rc = snap_get(c, v->name, tag, s, &found)))
		return rc;
	if (!found) {
		fprintf(stderr, PROG ": VM '%s' has no snapshot '%s'\n", v->name, tag);
		return ISIM_EXIT_NOINPUT;
	}
	if (!s->external && s->layer[0]) {
		frozen_by(c, v->name, s, by, sizeof(by));
		fprintf(stderr,
			PROG ": snapshot '%s' is in the layer that external snapshot '%s' froze (%s): only those of "
			     "the disk's top can be reverted to\n",
			tag, by, s->layer);
		return ISIM_EXIT_USAGE;
	}
	if (s->external && (rc = ext_revertible(c, v, s)))
		return rc;
	if (v->state != VM_STOPPED && !force) {
		fprintf(stderr, PROG ": VM '%s' is %s: reverting loses what it did since '%s' (--force to do it)\n",
			v->name, vm_state_name(v->state), tag);
		return ISIM_EXIT_USAGE;
	}
	if (s->external) {
		bool was_running = v->state != VM_STOPPED;
		char top[64], old[4200];

		if (was_running) {
			/* The guest's view of its disk is about to change under
			 * it: it is stopped, and started again on the snapshot. */
			const char *how = vm_stop_qemu(c, v, 0);

			v->state = VM_STOPPED;
			v->pid = 0;
			if ((rc = vm_save(c, v, false)))
				return rc;
			vm_record(c, v->name, "stop", true, how);
		}
		snprintf(old, sizeof(old), "%s", v->disk);
		if (!(rc = vm_layer_revert(c, v, s->layer, top, sizeof(top)))) {
			snprintf(v->top, sizeof(v->top), "%s", top);
			if (vm_layer_path(v, top, v->disk, sizeof(v->disk)) < 0)
				rc = ISIM_EXIT_SOFTWARE;
			else if (!(rc = vm_save(c, v, false)))
				(void)unlink(old);
		}
		if (!rc && was_running)
			rc = vm_start_qemu(c, v, NULL);
	} else if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-a", tag, "");
	} else if (!s->vmstate) {
		fprintf(stderr, PROG ": snapshot '%s' holds the disk only: stop VM '%s' to revert to it\n", tag,
			v->name);
		return ISIM_EXIT_USAGE;
	} else if (!(rc = vm_qmp(c, v, &q)) && !(rc = job(c, q, "snapshot-load", tag, true))) {
		/* A load leaves the machine stopped until it is told to run. */
		isim_error_clear(&err);
		if (v->state == VM_RUNNING && isim_qmp_execute(q, "cont", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
			isim_print_error(c->prog, &err);
			rc = ISIM_EXIT_VERDICT;
		}
	}
	isim_qmp_close(q);
	vm_record(c, v->name, "snapshot revert", !rc, tag);
	return rc;
}

static int do_delete(struct vm_ctx *c, struct vm *v, const char *tag, struct snap *s)
{
	struct isim_qmp *q = NULL;
	struct isim_error err;
	char in[128], child[160];
	size_t depth;
	bool found;
	int rc;

	if ((rc = snap_get(c, v->name, tag, s, &found)))
		return rc;
	if (!found) {
		fprintf(stderr, PROG ": VM '%s' has no snapshot '%s'\n", v->name, tag);
		return ISIM_EXIT_NOINPUT;
	}
	if (s->external) {
		first_tag(c, "SELECT tag FROM snapshots WHERE vm = ? AND external = 0 AND layer = ? LIMIT 1", v->name,
			  s->layer, in, sizeof(in));
		if (in[0]) {
			fprintf(stderr,
				PROG ": VM '%s': snapshot '%s' lives in the layer of '%s' (%s): delete it first\n",
				v->name, in, tag, s->layer);
			return ISIM_EXIT_USAGE;
		}
		if (!(depth = depth_of(c, v, tag, child, sizeof(child)))) {
			fprintf(stderr, PROG ": VM '%s': snapshot '%s' is not in its disk's layers\n", v->name, tag);
			return ISIM_EXIT_CONFIG;
		}
		if (v->state != VM_STOPPED && (rc = vm_qmp(c, v, &q)))
			return rc;
		rc = vm_layer_drop(c, v, q, s->layer, child, depth);
	} else if (s->layer[0] && v->state != VM_STOPPED) {
		fprintf(stderr,
			PROG ": snapshot '%s' is in a frozen layer (%s), which QEMU holds: stop VM '%s' first\n", tag,
			s->layer, v->name);
		return ISIM_EXIT_USAGE;
	} else if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-d", tag, s->layer);
	} else if (!(rc = vm_qmp(c, v, &q))) {
		rc = job(c, q, "snapshot-delete", tag, false);
	}
	isim_qmp_close(q);
	if (rc) {
		vm_record(c, v->name, "snapshot delete", false, tag);
		return rc;
	}
	isim_error_clear(&err);
	if (exec_vm(c, "DELETE FROM snapshots WHERE vm = ?1 AND tag = ?2", v->name, tag, NULL, &err) < 0)
		rc = isim_fail(c->prog, &err);
	vm_record(c, v->name, "snapshot delete", !rc, tag);
	return rc;
}

static int do_list(struct vm_ctx *c, const struct vm *v)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	cJSON *a = cJSON_CreateArray();

	isim_error_clear(&err);
	if (!a ||
	    isim_db_prepare(c->db, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE vm = ? ORDER BY created_at, rowid",
			    &st, &err) < 0) {
		cJSON_Delete(a);
		return isim_fail(c->prog, &err);
	}
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct snap s;

		snap_row(st, &s);
		cJSON_AddItemToArray(a, snap_json(v, &s));
	}
	sqlite3_finalize(st);
	return vm_print(PROG, a);
}

int vm_snapshot_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "external", no_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'f' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "+efhV", .longopts = opts, .usage = vm_snapshot_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *verb, *name, *tag = NULL;
	char deftag[64];
	struct snap s;
	bool force = false, external = false;
	int ch, rc = ISIM_EXIT_USAGE, nargs;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	while ((ch = isim_getopt_shared(&g, vm_option, &o, argc, argv)) != -1) {
		if (ch == ISIM_GETOPT_EXIT) {
			rc = g.rc;
			goto out;
		}
		if (ch == 'f')
			force = true;
		else if (ch == 'e')
			external = true;
	}
	/* Options may follow the verb too. */
	nargs = argc - optind;
	if (nargs < 1) {
		isim_usage_error(PROG, "create, list, revert or delete is required");
		goto out;
	}
	verb = argv[optind];
	if (strcmp(verb, "create") && strcmp(verb, "list") && strcmp(verb, "revert") && strcmp(verb, "delete")) {
		isim_usage_error(PROG, "unknown command '%.64s' (create, list, revert, delete)", verb);
		goto out;
	}
	{
		struct isim_getopt g2 = {
			.prog = PROG, .shortopts = "efhV", .longopts = opts, .usage = vm_snapshot_usage
		};
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;

		while ((ch = isim_getopt_shared(&g2, vm_option, &o, sub_argc, sub_argv)) != -1) {
			if (ch == ISIM_GETOPT_EXIT) {
				rc = g2.rc;
				goto out;
			}
			if (ch == 'f')
				force = true;
			else if (ch == 'e')
				external = true;
		}
		nargs = sub_argc - optind;
		argv = sub_argv + optind;
	}
	if (nargs < 1) {
		isim_usage_error(PROG, "%s: NAME is required", verb);
		goto out;
	}
	name = argv[0];
	tag = nargs > 1 ? argv[1] : NULL;
	if (nargs > 2 || (!strcmp(verb, "list") && nargs > 1)) {
		isim_usage_error(PROG, "%s: unexpected argument '%.64s'", verb, argv[nargs > 2 ? 2 : 1]);
		goto out;
	}
	if (!vm_name_valid(name)) {
		isim_bad_value(PROG, "NAME", name, VM_NAME_RULE);
		goto out;
	}
	if (!tag && (!strcmp(verb, "revert") || !strcmp(verb, "delete"))) {
		isim_usage_error(PROG, "%s: TAG is required", verb);
		goto out;
	}
	if (force && strcmp(verb, "revert")) {
		isim_usage_error(PROG, "--force is for revert");
		goto out;
	}
	if (external && strcmp(verb, "create")) {
		isim_usage_error(PROG, "--external is for create");
		goto out;
	}
	if (!tag && !strcmp(verb, "create")) {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(deftag, sizeof(deftag), "snap-%Y%m%dT%H%M%SZ", &tm);
		tag = deftag;
	}
	if (tag && !tag_valid(tag)) {
		isim_bad_value(PROG, "TAG", tag, "1 to 100 of A-Z, a-z, 0-9, '-', '_' and '.'");
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_PAUSED && strcmp(verb, "list")) {
		fprintf(stderr, PROG ": VM '%s' is paused (isim-vm resume %s first)\n", name, name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if (!strcmp(verb, "list"))
		rc = do_list(&c, v);
	else if (!(rc = !strcmp(verb, "create")	  ? do_create(&c, v, tag, external, &s)
			: !strcmp(verb, "revert") ? do_revert(&c, v, tag, force, &s)
						  : do_delete(&c, v, tag, &s)))
		rc = vm_print(PROG, snap_json(v, &s));
out:
	vm_close(&c);
	free(v);
	return rc;
}
