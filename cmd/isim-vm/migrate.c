/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm migrate"

void vm_migrate_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME --to HOST:PORT [--max-bandwidth BYTES] [--timeout SECONDS]\n"
		   "       [--state-dir DIR]\n"
		   "\n"
		   "Move the running VM NAME, memory and disk, to the QEMU that `isim-vm receive\n"
		   "NAME --listen HOST:PORT` started on the other host from this VM's\n"
		   "description. The guest runs on there; here its QEMU ends and the VM is\n"
		   "stopped, the operation recording where it went. The migration is complete\n"
		   "only once the receiving QEMU has loaded all of it and runs the guest; one\n"
		   "that fails (the receiver ends, or refuses a VM that differs from its own\n"
		   "description) leaves the VM running here, as it was. Progress on standard\n"
		   "error when it is a terminal. Prints {\"name\", \"to\", \"status\", \"seconds\",\n"
		   "\"transferred\", \"remaining\", \"downtime_ms\", \"state\"}.\n"
		   "\n"
		   "  -t, --to HOST:PORT        where the receiving QEMU listens\n"
		   "  -b, --max-bandwidth BYTES at most this many bytes a second (K, M, G: powers of\n"
		   "                            1024; default 10 Gbit/s)\n"
		   "      --timeout SECONDS     give up (and stay here) after this long (default 600)\n" VM_USAGE_COMMON
		   "  -h, --help                this text\n"
		   "  -V, --version             print the version\n"
		   "\n"
		   "Exit status: 0 migrated, 1 the migration failed (the VM still runs here),\n"
		   "64 usage (or the VM has external snapshots), 66 no such VM, 69 it is stopped\n"
		   "or paused, or its QEMU cannot be reached.\n");
}

/* QEMU's default is 128 MiB/s; the link is the limit, not QEMU. */
#define BANDWIDTH_DEFAULT (10000000000ull / 8)
/* QEMU takes at most SIZE_MAX / 1000 (migration/options, max-bandwidth). */
#define BANDWIDTH_MAX 18446744073709ull

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The capabilities a migration sets: events, so that its end is told at
 * once; block, so that the disk goes along (the receiver has an empty
 * overlay on the same image, and block-incremental sends only what the
 * overlay holds); return-path, so that the source is done only when the
 * destination says it loaded everything (QEMU's migration_completion waits
 * for its SHUT message), not once the last byte left: without it, a
 * destination that refuses the device state at the end (a description
 * that differs) leaves the source believing it completed. */
static const char *const caps_set[] = { "events", "block", "return-path" };
#define NCAPS (sizeof(caps_set) / sizeof(caps_set[0]))

/* What the VM's QEMU had before, to be put back after a failure: a
 * source left with block migration on refuses snapshots ("Block
 * migration and snapshots are incompatible"). */
struct saved {
	bool caps[NCAPS];
	bool block_incremental;
	double max_bandwidth;
};

static cJSON *caps_args(const bool *state)
{
	cJSON *args = cJSON_CreateObject(), *caps = cJSON_AddArrayToObject(args, "capabilities");
	size_t i;

	for (i = 0; caps && i < NCAPS; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "capability", caps_set[i]);
		cJSON_AddBoolToObject(c, "state", state[i]);
		cJSON_AddItemToArray(caps, c);
	}
	return args;
}

static int save_settings(struct isim_qmp *q, struct saved *s, struct isim_error *err)
{
	cJSON *caps = NULL, *params = NULL;
	const cJSON *c, *v;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->max_bandwidth = 128 << 20;
	if (isim_qmp_execute(q, "query-migrate-capabilities", NULL, &caps, VM_QMP_TIMEOUT_MS, err) < 0 ||
	    isim_qmp_execute(q, "query-migrate-parameters", NULL, &params, VM_QMP_TIMEOUT_MS, err) < 0) {
		cJSON_Delete(caps);
		return -1;
	}
	cJSON_ArrayForEach (c, caps) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "capability");

		for (i = 0; cJSON_IsString(n) && i < NCAPS; i++) {
			if (!strcmp(n->valuestring, caps_set[i]))
				s->caps[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "state"));
		}
	}
	s->block_incremental = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "block-incremental"));
	v = cJSON_GetObjectItemCaseSensitive(params, "max-bandwidth");
	if (cJSON_IsNumber(v))
		s->max_bandwidth = v->valuedouble;
	cJSON_Delete(caps);
	cJSON_Delete(params);
	return 0;
}

static int set_settings(struct isim_qmp *q, const bool *caps, bool block_incremental, double bandwidth,
			struct isim_error *err)
{
	cJSON *args = caps_args(caps);
	int r;

	r = isim_qmp_execute(q, "migrate-set-capabilities", args, NULL, VM_QMP_TIMEOUT_MS, err);
	cJSON_Delete(args);
	if (r < 0)
		return -1;
	args = cJSON_CreateObject();
	cJSON_AddBoolToObject(args, "block-incremental", block_incremental);
	cJSON_AddNumberToObject(args, "max-bandwidth", bandwidth);
	r = isim_qmp_execute(q, "migrate-set-parameters", args, NULL, VM_QMP_TIMEOUT_MS, err);
	cJSON_Delete(args);
	return r;
}

static bool final(const char *status)
{
	return !strcmp(status, "completed") || !strcmp(status, "failed") || !strcmp(status, "cancelled");
}

/* query-migrate: its answer into *info (the one before freed), its status
 * into *status. 0 or -1 with err. */
static int query(struct isim_qmp *q, cJSON **info, const char **status, struct isim_error *err)
{
	const cJSON *st;

	cJSON_Delete(*info);
	*info = NULL;
	if (isim_qmp_execute(q, "query-migrate", NULL, info, VM_QMP_TIMEOUT_MS, err) < 0)
		return -1;
	st = cJSON_GetObjectItemCaseSensitive(*info, "status");
	*status = cJSON_IsString(st) ? st->valuestring : "unknown";
	return 0;
}

/* Wait up to ms for v's QEMU to end, looking often: a migration is timed
 * to its end. */
static bool ended_within(const struct vm *v, int ms)
{
	struct timespec tick = { 0, 2 * 1000000L };
	int waited;

	for (waited = 0; waited < ms; waited += 2) {
		if (!vm_alive(v))
			return true;
		nanosleep(&tick, NULL);
	}
	return !vm_alive(v);
}

int vm_migrate_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ "max-bandwidth", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'T' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	static const bool on[NCAPS] = { true, true, true };
	struct isim_getopt g = { .prog = PROG, .shortopts = "t:b:hV", .longopts = opts, .usage = vm_migrate_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	struct isim_qmp *q = NULL;
	struct isim_error err;
	struct saved before;
	const char *name, *to = NULL, *timeout = NULL, *bw = NULL, *status = "failed";
	cJSON *args = NULL, *info = NULL, *ev = NULL, *doc;
	char uri[320], why[512] = "";
	bool tty = isatty(STDERR_FILENO), set = false, begun = false, timed_out = false;
	uint64_t bandwidth = BANDWIDTH_DEFAULT;
	double t0, seconds;
	long secs = 600, port;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = {
		VM_ARG_TEXT('t', "--to", &to),
		VM_ARG_TEXT('b', "--max-bandwidth", &bw),
		VM_ARG_TEXT('T', "--timeout", &timeout),
		VM_ARG_END,
	};

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if ((rc = vm_timeout_arg(PROG, timeout, &secs)))
		goto out;
	if (!to) {
		rc = isim_usage_error(PROG, "--to HOST:PORT is required");
		goto out;
	}
	if (!strrchr(to, ':') || strrchr(to, ':') == to || strpbrk(to, ", ") || strlen(to) > 256 ||
	    !isim_parse_long(strrchr(to, ':') + 1, 1, 65535, &port)) {
		rc = isim_bad_value(PROG, "--to", to, "HOST:PORT");
		goto out;
	}
	if (bw && (!vm_parse_size(bw, &bandwidth) || bandwidth > BANDWIDTH_MAX)) {
		rc = isim_bad_value(PROG, "--max-bandwidth", bw, "bytes a second, or with K, M or G, from 1 to 16 TiB");
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_STOPPED) {
		fprintf(stderr, PROG ": VM '%s' is not running\n", name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	/* A paused guest arrives paused, where receive recorded it running. */
	if (v->state == VM_PAUSED) {
		fprintf(stderr, PROG ": VM '%s' is paused: resume it first (isim-vm resume %s)\n", name, name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	/* Block migration sends the disk's top layer: the receiver has the
	 * image, not the frozen layers between. */
	if (vm_layer_count(&c, name)) {
		fprintf(stderr,
			PROG ": VM '%s' has external snapshots, whose layers the destination lacks: delete them "
			     "first (isim-vm snapshot delete)\n",
			name);
		rc = ISIM_EXIT_USAGE;
		goto out;
	}
	if ((rc = vm_qmp(&c, v, &q)))
		goto out;
	isim_error_clear(&err);
	if (save_settings(q, &before, &err) < 0)
		goto qmp_fail;
	set = true;
	if (set_settings(q, on, true, (double)bandwidth, &err) < 0)
		goto qmp_fail;
	args = cJSON_CreateObject();
	snprintf(uri, sizeof(uri), "tcp:%s", to);
	cJSON_AddStringToObject(args, "uri", uri);
	t0 = now();
	if (isim_qmp_execute(q, "migrate", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		goto qmp_fail;
	/* Its end is a MIGRATION event; query-migrate, for the progress and
	 * in case an event is missed, every quarter of a second. */
	for (status = "setup";;) {
		const cJSON *st;
		int r;

		cJSON_Delete(ev);
		ev = NULL;
		r = isim_qmp_wait_event(q, "MIGRATION", 250, &ev, &err);
		if (r == 0) {
			st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "data"), "status");
			begun |= cJSON_IsString(st) && !strcmp(st->valuestring, "active");
			if (cJSON_IsString(st) && final(st->valuestring))
				break;
			continue;
		}
		if (err.kind != ISIM_ERR_IO)
			goto qmp_fail;
		isim_error_clear(&err);
		if (query(q, &info, &status, &err) < 0)
			goto qmp_fail;
		begun |= !strcmp(status, "active");
		if (tty)
			fprintf(stderr, "\r" PROG ": %s: %s, %.0f MiB sent, %.0f MiB to go   ", name, status,
				(num(info, "ram", "transferred") + num(info, "disk", "transferred")) / 1048576,
				(num(info, "ram", "remaining") + num(info, "disk", "remaining")) / 1048576);
		if (final(status))
			break;
		if (now() - t0 > (double)secs) {
			if (isim_qmp_execute(q, "migrate_cancel", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
				isim_error_clear(&err); /* the status will say */
			snprintf(why, sizeof(why), "not done within %ld s: cancelled", secs);
			timed_out = true;
			break;
		}
	}
	seconds = now() - t0;
	if (tty)
		fputc('\n', stderr);
	/* The figures, and the status as QEMU has it now. */
	for (;;) {
		if (query(q, &info, &status, &err) < 0)
			goto qmp_fail;
		/* A cancel takes QEMU a moment ("cancelling"). */
		if (final(status) || now() - t0 > (double)secs + 30)
			break;
		nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
	}
	if (strcmp(status, "completed")) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(info, "error-desc");

		if (!why[0])
			snprintf(why, sizeof(why), "%s%s%s", cJSON_IsString(e) ? e->valuestring : "QEMU's status is '",
				 cJSON_IsString(e) ? "" : status, cJSON_IsString(e) ? "" : "'");
		/* Once the receiver took the connection, only it knows why. */
		fprintf(stderr, PROG ": VM '%s': the migration to %s failed: %s; it still runs here%s\n", name, to, why,
			begun && !timed_out ? " (the receiving QEMU ended, or refused a VM unlike its own: its "
					      "qemu.log there says why)"
					    : "");
		vm_record(&c, name, "migrate", false, why);
		rc = ISIM_EXIT_VERDICT;
		/* QEMU runs the guest again after a failed migration. */
		goto out;
	}
	set = false;
	/* Here the guest is stopped for good: end its QEMU. */
	if (isim_qmp_execute(q, "quit", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		vm_signal(v, SIGTERM);
	isim_qmp_close(q);
	q = NULL;
	if (!ended_within(v, 5000))
		(void)vm_stop_qemu(&c, v, 0);
	v->state = VM_STOPPED;
	v->pid = 0;
	if ((rc = vm_save(&c, v, false)))
		goto out;
	snprintf(why, sizeof(why), "to %s", to);
	vm_record(&c, name, "migrate", true, why);
	doc = cJSON_CreateObject();
	if (doc) {
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddStringToObject(doc, "to", to);
		cJSON_AddStringToObject(doc, "status", status);
		cJSON_AddNumberToObject(doc, "seconds", (double)(long)(seconds * 1000) / 1000);
		cJSON_AddNumberToObject(doc, "transferred",
					num(info, "ram", "transferred") + num(info, "disk", "transferred"));
		cJSON_AddNumberToObject(doc, "remaining",
					num(info, "ram", "remaining") + num(info, "disk", "remaining"));
		cJSON_AddNumberToObject(doc, "downtime_ms", num(info, "downtime", NULL));
		cJSON_AddStringToObject(doc, "state", "stopped");
	}
	rc = vm_print(PROG, doc);
	goto out;
qmp_fail:
	fprintf(stderr, PROG ": VM '%s': the migration to %s failed: %s\n", name, to, err.msg);
	vm_record(&c, name, "migrate", false, err.msg);
	rc = isim_qmp_gone(q) ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
out:
	/* A VM that stays here is left as it was. */
	if (set && q && !isim_qmp_gone(q)) {
		isim_error_clear(&err);
		if (set_settings(q, before.caps, before.block_incremental, before.max_bandwidth, &err) < 0)
			fprintf(stderr, PROG ": VM '%s': warning: cannot restore its migration settings: %s\n", name,
				err.msg);
	}
	cJSON_Delete(ev);
	cJSON_Delete(info);
	cJSON_Delete(args);
	isim_qmp_close(q);
	vm_close(&c);
	free(v);
	return rc;
}
