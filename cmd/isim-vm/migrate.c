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
	fprintf(f, "usage: " PROG " NAME --to HOST:PORT [--timeout SECONDS] [--state-dir DIR]\n"
		   "\n"
		   "Move the running VM NAME, memory and disk, to the QEMU that `isim-vm receive\n"
		   "NAME --listen HOST:PORT` started on the other host from this VM's\n"
		   "description. The guest runs on there; here its QEMU ends and the VM is\n"
		   "stopped, the operation recording where it went. A migration that fails\n"
		   "leaves the VM running here, as it was. Progress on standard error when it\n"
		   "is a terminal. Prints {\"name\", \"to\", \"status\", \"seconds\",\n"
		   "\"transferred\", \"remaining\", \"downtime_ms\", \"state\"}.\n"
		   "\n"
		   "  -t, --to HOST:PORT      where the receiving QEMU listens\n"
		   "      --timeout SECONDS   give up (and stay here) after this long (default 600)\n" VM_USAGE_COMMON
		   "  -h, --help              this text\n"
		   "  -V, --version           print the version\n"
		   "\n"
		   "Exit status: 0 migrated, 1 the migration failed (the VM still runs here),\n"
		   "64 usage, 66 no such VM, 69 it is not running.\n");
}

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

static cJSON *capability(const char *name)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "capability", name);
	cJSON_AddBoolToObject(c, "state", true);
	return c;
}

int vm_migrate_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "t:hV", .longopts = opts, .usage = vm_migrate_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	struct isim_qmp *q = NULL;
	struct isim_error err;
	struct timespec tick = { 0, 50 * 1000000L };
	const char *name, *to = NULL, *timeout = NULL, *status = "failed";
	cJSON *args = NULL, *caps, *info = NULL, *doc;
	char uri[320], why[512] = "";
	bool tty = isatty(STDERR_FILENO);
	double t0, seconds;
	long secs = 600;
	int ch, rc = ISIM_EXIT_USAGE;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	while ((ch = isim_getopt_shared(&g, vm_option, &o, argc, argv)) != -1) {
		if (ch == ISIM_GETOPT_EXIT) {
			rc = g.rc;
			goto out;
		}
		if ((ch == 't' && isim_opt_once(PROG, "--to", &to, optarg)) ||
		    (ch == 'T' && isim_opt_once(PROG, "--timeout", &timeout, optarg)))
			goto out;
	}
	if (vm_name_arg(PROG, argc, argv, &name) || vm_timeout_arg(PROG, timeout, &secs))
		goto out;
	if (!to || !strchr(to, ':') || strpbrk(to, ", ") || strlen(to) > 256) {
		isim_usage_error(PROG, "--to HOST:PORT is required");
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_STOPPED) {
		fprintf(stderr, PROG ": VM '%s' is not running\n", name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if ((rc = vm_qmp(&c, v, &q)))
		goto out;
	isim_error_clear(&err);
	args = cJSON_CreateObject();
	caps = cJSON_AddArrayToObject(args, "capabilities");
	cJSON_AddItemToArray(caps, capability("events"));
	/* The disk goes along: the receiver has an empty overlay on the same
	 * image, and block-incremental sends only what the overlay holds. */
	cJSON_AddItemToArray(caps, capability("block"));
	if (isim_qmp_execute(q, "migrate-set-capabilities", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		goto qmp_fail;
	cJSON_Delete(args);
	args = cJSON_CreateObject();
	cJSON_AddBoolToObject(args, "block-incremental", true);
	/* QEMU's default is 128 MiB/s; the link is the limit, not QEMU. */
	cJSON_AddNumberToObject(args, "max-bandwidth", 10e9 / 8);
	if (isim_qmp_execute(q, "migrate-set-parameters", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		goto qmp_fail;
	cJSON_Delete(args);
	args = cJSON_CreateObject();
	snprintf(uri, sizeof(uri), "tcp:%s", to);
	cJSON_AddStringToObject(args, "uri", uri);
	t0 = now();
	if (isim_qmp_execute(q, "migrate", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		goto qmp_fail;
	for (;;) {
		const cJSON *st;

		cJSON_Delete(info);
		info = NULL;
		if (isim_qmp_execute(q, "query-migrate", NULL, &info, VM_QMP_TIMEOUT_MS, &err) < 0)
			goto qmp_fail;
		st = cJSON_GetObjectItemCaseSensitive(info, "status");
		status = cJSON_IsString(st) ? st->valuestring : "unknown";
		if (tty)
			fprintf(stderr, "\r" PROG ": %s: %s, %.0f MiB sent, %.0f MiB to go   ", name, status,
				(num(info, "ram", "transferred") + num(info, "disk", "transferred")) / 1048576,
				(num(info, "ram", "remaining") + num(info, "disk", "remaining")) / 1048576);
		if (!strcmp(status, "completed") || !strcmp(status, "failed") || !strcmp(status, "cancelled"))
			break;
		if (now() - t0 > (double)secs) {
			if (isim_qmp_execute(q, "migrate_cancel", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
				isim_error_clear(&err); /* the status will say */
			snprintf(why, sizeof(why), "not done within %ld s: cancelled", secs);
			status = "cancelled";
			break;
		}
		nanosleep(&tick, NULL);
	}
	seconds = now() - t0;
	if (tty)
		fputc('\n', stderr);
	if (strcmp(status, "completed")) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(info, "error-desc");

		if (!why[0])
			snprintf(why, sizeof(why), "%s", cJSON_IsString(e) ? e->valuestring : status);
		fprintf(stderr, PROG ": VM '%s': the migration to %s failed: %s; it still runs here\n", name, to, why);
		vm_record(&c, name, "migrate", false, why);
		rc = ISIM_EXIT_VERDICT;
		/* QEMU runs the guest again after a failed migration. */
		goto out;
	}
	/* Here the guest is stopped for good: end its QEMU. */
	if (isim_qmp_execute(q, "quit", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		vm_signal(v, SIGTERM);
	isim_qmp_close(q);
	q = NULL;
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
	isim_print_error(PROG, &err);
	vm_record(&c, name, "migrate", false, err.msg);
	rc = isim_qmp_gone(q) ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
out:
	cJSON_Delete(info);
	cJSON_Delete(args);
	isim_qmp_close(q);
	vm_close(&c);
	free(v);
	return rc;
}
