/* SPDX-License-Identifier: MIT */
/*
 * A VM's disk as a chain of qcow2 layers, for external snapshots. The
 * bottom is disk.qcow2, the overlay create makes on the image; an external
 * snapshot freezes the top layer (it is only read from then on) and puts a
 * new, empty layer-ID.qcow2 over it, which the VM's record names as its
 * top. No file is renamed while it is part of the chain: a running QEMU
 * reopens a layer by the name it opened it with (read-only once it is
 * frozen, read-write to stream into it), and that name must still be the
 * same file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "isim/buf.h"
#include "isim/db.h"
#include "isim/json.h"
#include "isim/run.h"
#include "vm.h"

int vm_layer_path(const struct vm *v, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", v->dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* qemu-img ARGS; 0, or an exit code with qemu-img's reason said. */
static int qemu_img(struct vm_ctx *c, const char *const *argv, struct isim_buf *out)
{
	struct isim_run r = { .argv = argv, .out = out };
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) < 0) {
		isim_print_error(c->prog, &err);
		return err.kind == ISIM_ERR_UNAVAILABLE ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
	}
	return 0;
}

/* A new top at path, backed by the layer called backing (a name in the
 * VM's folder, which is how the new file records it), of the VM's size:
 * the backing file is not opened, as a running QEMU may hold it. */
static int new_top(struct vm_ctx *c, const struct vm *v, const char *path, const char *backing)
{
	char size[32];
	const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
			       "-b",	   backing,  "-u", path, size,	  NULL };

	snprintf(size, sizeof(size), "%llu", (unsigned long long)v->disk_size);
	return qemu_img(c, argv, NULL);
}

int vm_disk_nodes(struct vm_ctx *c, struct isim_qmp *q, char (*nodes)[VM_NODE_MAX], size_t max, size_t *n)
{
	struct isim_error err;
	cJSON *g = NULL;
	const cJSON *e, *nd, *edges, *list;
	double at = -1;
	int rc = ISIM_EXIT_VERDICT;

	*n = 0;
	isim_error_clear(&err);
	/* The one query that names the nodes and their edges both. */
	if (isim_qmp_execute(q, "x-debug-query-block-graph", NULL, &g, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		return ISIM_EXIT_VERDICT;
	}
	list = cJSON_GetObjectItemCaseSensitive(g, "nodes");
	edges = cJSON_GetObjectItemCaseSensitive(g, "edges");
	cJSON_ArrayForEach (nd, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(nd, "name"),
			    *id = cJSON_GetObjectItemCaseSensitive(nd, "id");

		if (cJSON_IsString(name) && !strcmp(name->valuestring, VM_DISK_DEVICE) && cJSON_IsNumber(id))
			at = id->valuedouble;
	}
	/* From the device down: its root, then each layer's backing. */
	for (const char *edge = "root"; at >= 0 && *n < max; edge = "backing") {
		double next = -1;

		cJSON_ArrayForEach (e, edges) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "parent"),
				    *ch = cJSON_GetObjectItemCaseSensitive(e, "child"),
				    *en = cJSON_GetObjectItemCaseSensitive(e, "name");

			if (cJSON_IsNumber(p) && p->valuedouble == at && cJSON_IsString(en) &&
			    !strcmp(en->valuestring, edge) && cJSON_IsNumber(ch))
				next = ch->valuedouble;
		}
		at = next;
		cJSON_ArrayForEach (nd, list) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(nd, "name"),
				    *id = cJSON_GetObjectItemCaseSensitive(nd, "id");

			if (next >= 0 && cJSON_IsNumber(id) && id->valuedouble == next && cJSON_IsString(name) &&
			    strlen(name->valuestring) < VM_NODE_MAX)
				snprintf(nodes[(*n)++], VM_NODE_MAX, "%s", name->valuestring);
		}
	}
	if (*n)
		rc = 0;
	else
		fprintf(stderr, "%s: VM: QEMU shows no disk on device %s\n", c->prog, VM_DISK_DEVICE);
	cJSON_Delete(g);
	return rc;
}

/* A new layer's name, never one used before in this folder. */
static void layer_name(char *out, size_t size)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(out, size, "layer-%llx.qcow2",
		 (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
}

const char *vm_layer_top(const struct vm *v)
{
	return v->top[0] ? v->top : "disk.qcow2";
}

int vm_layer_freeze(struct vm_ctx *c, const struct vm *v, struct isim_qmp *q, char *top, size_t size)
{
	char path[4400], node[VM_NODE_MAX], nodes[1][VM_NODE_MAX];
	struct isim_error err;
	cJSON *add = NULL, *file, *snap = NULL;
	size_t n;
	int rc;

	if (q && (rc = vm_disk_nodes(c, q, nodes, 1, &n)))
		return rc;
	layer_name(top, size);
	if (vm_layer_path(v, top, path, sizeof(path)) < 0)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = new_top(c, v, path, vm_layer_top(v))))
		goto undo;
	if (!q)
		return 0;
	/* A running QEMU: the new layer opened as a node of its own, then put
	 * over the top, which QEMU then only reads. */
	snprintf(node, sizeof(node), "%.*s", (int)(strlen(top) - strlen(".qcow2")), top);
	rc = ISIM_EXIT_SOFTWARE;
	add = cJSON_CreateObject();
	snap = cJSON_CreateObject();
	if (!add || !snap || !cJSON_AddStringToObject(add, "driver", "qcow2") ||
	    !cJSON_AddStringToObject(add, "node-name", node) || !(file = cJSON_AddObjectToObject(add, "file")) ||
	    !cJSON_AddStringToObject(file, "driver", "file") || !cJSON_AddStringToObject(file, "filename", path) ||
	    !cJSON_AddNullToObject(add, "backing") || !cJSON_AddStringToObject(snap, "node", nodes[0]) ||
	    !cJSON_AddStringToObject(snap, "overlay", node))
		goto undo;
	isim_error_clear(&err);
	rc = ISIM_EXIT_VERDICT;
	if (isim_qmp_execute(q, "blockdev-add", add, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		goto undo;
	}
	if (isim_qmp_execute(q, "blockdev-snapshot", snap, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		cJSON_Delete(snap);
		snap = cJSON_CreateObject();
		if (snap && cJSON_AddStringToObject(snap, "node-name", node) &&
		    isim_qmp_execute(q, "blockdev-del", snap, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
			isim_error_clear(&err); /* the node stays unused until QEMU ends */
		goto undo;
	}
	cJSON_Delete(add);
	cJSON_Delete(snap);
	return 0;
undo:
	cJSON_Delete(add);
	cJSON_Delete(snap);
	(void)unlink(path);
	return rc;
}

int vm_layer_revert(struct vm_ctx *c, const struct vm *v, const char *layer, char *top, size_t size)
{
	char path[4400];
	int rc;

	layer_name(top, size);
	if (vm_layer_path(v, top, path, sizeof(path)) < 0)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = new_top(c, v, path, layer)))
		(void)unlink(path);
	return rc;
}

/* What the layer at path names as its backing file, as it is written in
 * it (a name in the VM's folder, or the image's path). */
static int backing_of(struct vm_ctx *c, const char *path, char *out, size_t size)
{
	const char *argv[] = { "qemu-img", "info", "-U", "--output=json", path, NULL };
	struct isim_buf o = { 0 };
	struct isim_error err;
	const cJSON *b;
	cJSON *doc = NULL;
	int rc;

	if ((rc = qemu_img(c, argv, &o)))
		return rc;
	isim_error_clear(&err);
	rc = ISIM_EXIT_VERDICT;
	if (isim_json_parse(o.s ? o.s : "", o.len, "qemu-img info", &doc, &err) < 0)
		isim_print_error(c->prog, &err);
	else if (!cJSON_IsString(b = cJSON_GetObjectItemCaseSensitive(doc, "backing-filename")) ||
		 strlen(b->valuestring) >= size)
		fprintf(stderr, "%s: %s: qemu-img names no backing file\n", c->prog, path);
	else {
		snprintf(out, size, "%s", b->valuestring);
		rc = 0;
	}
	cJSON_Delete(doc);
	isim_buf_free(&o);
	return rc;
}

int vm_layer_drop(struct vm_ctx *c, const struct vm *v, struct isim_qmp *q, const char *layer, const char *child,
		  size_t depth)
{
	char path[4400], under[4400], parent[4096];
	char nodes[VM_LAYERS_MAX + 2][VM_NODE_MAX];
	size_t n;
	cJSON *args;
	int rc;

	if (vm_layer_path(v, layer, path, sizeof(path)) < 0 || vm_layer_path(v, child, under, sizeof(under)) < 0)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = backing_of(c, path, parent, sizeof(parent))))
		return rc;
	if (!q) {
		/* Safe mode: what the child reads through the layer is copied
		 * into it, so that it shows the same disk without it. */
		const char *argv[] = { "qemu-img", "rebase", "-q",   "-f",  "qcow2", "-F",
				       "qcow2",	   "-b",     parent, under, NULL };

		if ((rc = qemu_img(c, argv, NULL)))
			return rc;
	} else {
		/* The same in QEMU: a stream into the child, from the layer,
		 * down to the layer's own backing; the child's file then names
		 * that backing as it is named in the layer. */
		if ((rc = vm_disk_nodes(c, q, nodes, VM_LAYERS_MAX + 2, &n)))
			return rc;
		if (depth + 1 >= n) {
			fprintf(stderr, "%s: VM '%s': QEMU's disk has %zu layers, fewer than its snapshots say\n",
				c->prog, v->name, n);
			return ISIM_EXIT_CONFIG;
		}
		args = cJSON_CreateObject();
		if (!args || !cJSON_AddStringToObject(args, "job-id", "isim-stream") ||
		    !cJSON_AddStringToObject(args, "device", nodes[depth - 1]) ||
		    !cJSON_AddStringToObject(args, "base-node", nodes[depth + 1]) ||
		    !cJSON_AddStringToObject(args, "backing-file", parent) ||
		    !cJSON_AddFalseToObject(args, "auto-dismiss")) {
			cJSON_Delete(args);
			return ISIM_EXIT_SOFTWARE;
		}
		if ((rc = vm_job(c, q, "block-stream", "isim-stream", args)))
			return rc;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		fprintf(stderr, "%s: %s: %s (left behind)\n", c->prog, path, strerror(errno));
	return 0;
}

int vm_job(struct vm_ctx *c, struct isim_qmp *q, const char *command, const char *id, cJSON *args)
{
	struct isim_error err;
	cJSON *ev = NULL, *jobs = NULL, *a = NULL;
	const cJSON *j;
	int rc = ISIM_EXIT_VERDICT;

	isim_error_clear(&err);
	if (isim_qmp_execute(q, command, args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(c->prog, &err);
		goto out;
	}
	for (;;) {
		const cJSON *d, *jid, *st;

		cJSON_Delete(ev);
		ev = NULL;
		if (isim_qmp_wait_event(q, "JOB_STATUS_CHANGE", VM_JOB_TIMEOUT_MS, &ev, &err) < 0) {
			isim_print_error(c->prog, &err);
			goto out;
		}
		d = cJSON_GetObjectItemCaseSensitive(ev, "data");
		jid = cJSON_GetObjectItemCaseSensitive(d, "id");
		st = cJSON_GetObjectItemCaseSensitive(d, "status");
		if (cJSON_IsString(jid) && !strcmp(jid->valuestring, id) && cJSON_IsString(st) &&
		    !strcmp(st->valuestring, "concluded"))
			break;
	}
	/* A job's error is told only by query-jobs. */
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
	if (!a || !cJSON_AddStringToObject(a, "id", id))
		rc = ISIM_EXIT_SOFTWARE;
	else if (isim_qmp_execute(q, "job-dismiss", a, NULL, VM_QMP_TIMEOUT_MS, &err) < 0 && !rc) {
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

size_t vm_layer_count(struct vm_ctx *c, const char *name)
{
	sqlite3_stmt *st = NULL;
	struct isim_error err;
	size_t n = 0;

	isim_error_clear(&err);
	if (isim_db_prepare(c->db, "SELECT count(*) FROM snapshots WHERE vm = ? AND external = 1", &st, &err) < 0)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int64_t vm_layer_size(const struct vm *v, const char *layer)
{
	char path[4400];
	struct stat st;

	if (vm_layer_path(v, layer, path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return 0;
	return (int64_t)st.st_blocks * 512;
}
