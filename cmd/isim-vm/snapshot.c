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
/* A snapshot job of a booted guest takes a second or two under TCG. */
#define JOB_TIMEOUT_MS 600000

void vm_snapshot_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " create NAME [TAG] [--state-dir DIR]\n"
		"       " PROG " list NAME [--state-dir DIR]\n"
		"       " PROG " revert NAME TAG [--force] [--state-dir DIR]\n"
		"       " PROG " delete NAME TAG [--state-dir DIR]\n"
		"\n"
		"Internal snapshots of the VM NAME's disk, inside its qcow2 overlay: of a\n"
		"running VM with its memory and devices (QMP snapshot-save), so that a revert\n"
		"resumes it where it was; of a stopped one the disk alone (qemu-img). TAG\n"
		"defaults to snap-YYYYMMDDTHHMMSSZ. Reverting a running VM loses what it did\n"
		"since, and is refused without --force; a snapshot without memory is reverted\n"
		"with the VM stopped. create, revert and delete print the snapshot, list all\n"
		"of them: {\"tag\", \"created_at\", \"vmstate\", \"vmstate_size\", \"parent\"}.\n"
		"\n"
		"  -f, --force            revert a running VM\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"Exit status: 0, 1 QEMU or qemu-img refused (the reason on stderr), 64 usage\n"
		"(a running VM without --force), 66 no such VM or snapshot, 69 the VM is\n"
		"paused or its QEMU is unreachable, 73 TAG exists, 78 the state is corrupt.\n");
}

struct snap {
	char tag[128];
	int64_t created_at;
	bool vmstate;
	int64_t vmstate_size;
	char parent[128];
};

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

static int snap_get(struct vm_ctx *c, const char *vm, const char *tag, struct snap *s, bool *found)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	int rc = 0;

	*found = false;
	isim_error_clear(&err);
	if (isim_db_prepare(
		    c->db,
		    "SELECT tag, created_at, vmstate, vmstate_size, parent FROM snapshots WHERE vm = ? AND tag = ?",
		    &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(s, 0, sizeof(*s));
		snprintf(s->tag, sizeof(s->tag), "%s", (const char *)sqlite3_column_text(st, 0));
		s->created_at = sqlite3_column_int64(st, 1);
		s->vmstate = sqlite3_column_int(st, 2);
		s->vmstate_size = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			snprintf(s->parent, sizeof(s->parent), "%s", (const char *)sqlite3_column_text(st, 4));
		*found = true;
	}
	sqlite3_finalize(st);
	return rc;
}

static cJSON *snap_json(const struct snap *s)
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
	cJSON_AddBoolToObject(o, "vmstate", s->vmstate);
	cJSON_AddNumberToObject(o, "vmstate_size", (double)s->vmstate_size);
	if (s->parent[0])
		cJSON_AddStringToObject(o, "parent", s->parent);
	else
		cJSON_AddNullToObject(o, "parent");
	return o;
}

/* The snapshot last made or reverted to: the next one's parent. */
static void latest(struct vm_ctx *c, const char *vm, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;

	out[0] = '\0';
	isim_error_clear(&err);
	if (isim_db_prepare(
		    c->db,
		    "SELECT detail FROM ops WHERE vm = ? AND ok = 1 AND op IN ('snapshot create', 'snapshot revert') "
		    "ORDER BY seq DESC LIMIT 1",
		    &st, &err) < 0)
		return;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* qemu-img snapshot -c|-a|-d TAG on a stopped VM's disk. */
static int offline(struct vm_ctx *c, const struct vm *v, const char *flag, const char *tag)
{
	const char *argv[] = { "qemu-img", "snapshot", flag, tag, v->disk, NULL };
	struct isim_run r = { .argv = argv };
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) < 0) {
		isim_print_error(c->prog, &err);
		return err.kind == ISIM_ERR_UNAVAILABLE ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
	}
	return 0;
}

/* Run a snapshot job over QMP and wait for it to conclude: 0, or 1 with
 * QEMU's reason (a job's error is only in query-jobs). */
static int job(struct vm_ctx *c, struct isim_qmp *q, const char *command, const char *tag, bool vmstate)
{
	struct isim_error err;
	cJSON *args = cJSON_CreateObject(), *dev, *ev = NULL, *jobs = NULL, *a = NULL;
	const cJSON *j;
	char id[160];
	int rc = ISIM_EXIT_VERDICT;

	snprintf(id, sizeof(id), "isim-%s", tag);
	if (!args)
		return ISIM_EXIT_SOFTWARE;
	cJSON_AddStringToObject(args, "job-id", id);
	cJSON_AddStringToObject(args, "tag", tag);
	if (vmstate)
		cJSON_AddStringToObject(args, "vmstate", VM_DISK_NODE);
	dev = cJSON_AddArrayToObject(args, "devices");
	cJSON_AddItemToArray(dev, cJSON_CreateString(VM_DISK_NODE));
	isim_error_clear(&err);
	if (isim_qmp_execute(q, command, args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		goto out;
	}
	for (;;) {
		const cJSON *d;

		cJSON_Delete(ev);
		ev = NULL;
		if (isim_qmp_wait_event(q, "JOB_STATUS_CHANGE", JOB_TIMEOUT_MS, &ev, &err) < 0) {
			isim_print_error(c->prog, &err);
			goto out;
		}
		d = cJSON_GetObjectItemCaseSensitive(ev, "data");
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "id")) &&
		    !strcmp(cJSON_GetObjectItemCaseSensitive(d, "id")->valuestring, id) &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "status")) &&
		    !strcmp(cJSON_GetObjectItemCaseSensitive(d, "status")->valuestring, "concluded"))
			break;
	}
	if (isim_qmp_execute(q, "query-jobs", NULL, &jobs, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		goto out;
	}
	rc = 0;
	cJSON_ArrayForEach (j, jobs) {
		const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id"),
			    *e = cJSON_GetObjectItemCaseSensitive(j, "error");

		if (cJSON_IsString(jid) && !strcmp(jid->valuestring, id) && cJSON_IsString(e)) {
			fprintf(stderr, "%s: VM %s: %s\n", c->prog, command, e->valuestring);
			rc = ISIM_EXIT_VERDICT;
		}
	}
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "id", id);
	if (isim_qmp_execute(q, "job-dismiss", a, NULL, VM_QMP_TIMEOUT_MS, &err) < 0 && !rc) {
		isim_print_error(c->prog, &err);
		rc = ISIM_EXIT_VERDICT;
	}
out:
	cJSON_Delete(a);
	cJSON_Delete(jobs);
	cJSON_Delete(ev);
	cJSON_Delete(args);
	return rc;
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

static int do_create(struct vm_ctx *c, struct vm *v, const char *tag, struct snap *s)
{
	struct isim_qmp *q = NULL;
	sqlite3_stmt *st = NULL;
	struct isim_error err;
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
	if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-c", tag);
	} else {
		s->vmstate = true;
		if (!(rc = vm_qmp(c, v, &q)))
			rc = job(c, q, "snapshot-save", tag, true);
		isim_qmp_close(q);
	}
	if (rc) {
		vm_record(c, v->name, "snapshot create", false, tag);
		return rc;
	}
	s->vmstate_size = s->vmstate ? vmstate_size(v, tag) : 0;
	isim_error_clear(&err);
	if (isim_db_prepare(c->db,
			    "INSERT INTO snapshots (vm, tag, created_at, vmstate, vmstate_size, parent) VALUES (?, ?, "
			    "?, ?, ?, ?)",
			    &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->created_at);
	sqlite3_bind_int(st, 4, s->vmstate);
	sqlite3_bind_int64(st, 5, s->vmstate_size);
	if (s->parent[0])
		sqlite3_bind_text(st, 6, s->parent, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		isim_db_error(c->db, "cannot record the snapshot", &err);
		rc = isim_fail(c->prog, &err);
	}
	sqlite3_finalize(st);
	if (!rc)
		vm_record(c, v->name, "snapshot create", true, tag);
	return rc;
}

static int do_revert(struct vm_ctx *c, struct vm *v, const char *tag, bool force, struct snap *s)
{
	struct isim_qmp *q = NULL;
	struct isim_error err;
	bool found;
	int rc;

	if ((rc = snap_get(c, v->name, tag, s, &found)))
		return rc;
	if (!found) {
		fprintf(stderr, PROG ": VM '%s' has no snapshot '%s'\n", v->name, tag);
		return ISIM_EXIT_NOINPUT;
	}
	if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-a", tag);
	} else if (!force) {
		fprintf(stderr, PROG ": VM '%s' is %s: reverting loses what it did since '%s' (--force to do it)\n",
			v->name, vm_state_name(v->state), tag);
		return ISIM_EXIT_USAGE;
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
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	bool found;
	int rc;

	if ((rc = snap_get(c, v->name, tag, s, &found)))
		return rc;
	if (!found) {
		fprintf(stderr, PROG ": VM '%s' has no snapshot '%s'\n", v->name, tag);
		return ISIM_EXIT_NOINPUT;
	}
	if (v->state == VM_STOPPED) {
		rc = offline(c, v, "-d", tag);
	} else {
		if (!(rc = vm_qmp(c, v, &q)))
			rc = job(c, q, "snapshot-delete", tag, false);
		isim_qmp_close(q);
	}
	if (rc) {
		vm_record(c, v->name, "snapshot delete", false, tag);
		return rc;
	}
	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "DELETE FROM snapshots WHERE vm = ? AND tag = ?", &st, &err) < 0)
		return isim_fail(c->prog, &err);
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		isim_db_error(c->db, "cannot delete the snapshot's record", &err);
		rc = isim_fail(c->prog, &err);
	}
	sqlite3_finalize(st);
	vm_record(c, v->name, "snapshot delete", !rc, tag);
	return rc;
}

static int do_list(struct vm_ctx *c, const struct vm *v)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	cJSON *a = cJSON_CreateArray();

	isim_error_clear(&err);
	if (!a || isim_db_prepare(c->db,
				  "SELECT tag, created_at, vmstate, vmstate_size, parent FROM snapshots WHERE vm = ? "
				  "ORDER BY created_at, tag",
				  &st, &err) < 0) {
		cJSON_Delete(a);
		return isim_fail(c->prog, &err);
	}
	sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct snap s = { 0 };

		snprintf(s.tag, sizeof(s.tag), "%s", (const char *)sqlite3_column_text(st, 0));
		s.created_at = sqlite3_column_int64(st, 1);
		s.vmstate = sqlite3_column_int(st, 2);
		s.vmstate_size = sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			snprintf(s.parent, sizeof(s.parent), "%s", (const char *)sqlite3_column_text(st, 4));
		cJSON_AddItemToArray(a, snap_json(&s));
	}
	sqlite3_finalize(st);
	return vm_print(PROG, a);
}

int vm_snapshot_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "force", no_argument, NULL, 'f' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "+fhV", .longopts = opts, .usage = vm_snapshot_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *verb, *name, *tag = NULL;
	char deftag[64];
	struct snap s;
	bool force = false;
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
			.prog = PROG, .shortopts = "fhV", .longopts = opts, .usage = vm_snapshot_usage
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
	else if (!(rc = !strcmp(verb, "create")	  ? do_create(&c, v, tag, &s)
			: !strcmp(verb, "revert") ? do_revert(&c, v, tag, force, &s)
						  : do_delete(&c, v, tag, &s)))
		rc = vm_print(PROG, snap_json(&s));
out:
	vm_close(&c);
	free(v);
	return rc;
}
