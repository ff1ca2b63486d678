/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm wait"

void vm_wait_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME --for running|stopped|TEXT [--timeout SECONDS]\n"
		   "       [--state-dir DIR]\n"
		   "\n"
		   "Wait until the VM NAME runs, until its QEMU has ended, or until its console\n"
		   "has printed a line holding TEXT since it was started (isim-build's images\n"
		   "print \"SELFTEST END\" once their selftests ran). Prints {\"name\", \"for\",\n"
		   "\"reached\", \"seconds\", \"line\"}.\n"
		   "\n"
		   "  -f, --for WHAT         running, stopped, or a line's TEXT\n"
		   "  -t, --timeout SECONDS  at most this long (default 600)\n" VM_USAGE_COMMON
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 reached, 1 not within the timeout, 64 usage, 66 no such VM,\n"
		   "69 the VM stopped while a line or running was awaited.\n");
}

struct seen {
	const char *text;
	char line[1024];
	bool found;
};

static void on_line(const char *line, void *ctx)
{
	struct seen *s = ctx;

	if (!s->found && strstr(line, s->text)) {
		snprintf(s->line, sizeof(s->line), "%s", line);
		s->found = true;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vm_wait_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "for", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "f:t:hV", .longopts = opts, .usage = vm_wait_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	struct isim_qemu_console con = { .fd = -1 };
	struct timespec tick = { 0, 100 * 1000000L };
	struct isim_error err;
	struct seen s = { 0 };
	const char *name, *what = NULL, *timeout = NULL;
	long secs = 600;
	double t0 = now();
	bool reached = false, line_mode;
	cJSON *doc;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = {
		VM_ARG_TEXT('f', "--for", &what),
		VM_ARG_TEXT('t', "--timeout", &timeout),
		VM_ARG_END,
	};

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if (!what || !*what) {
		rc = isim_usage_error(PROG, "--for running|stopped|TEXT is required");
		goto out;
	}
	if ((rc = vm_timeout_arg(PROG, timeout, &secs)))
		goto out;
	line_mode = strcmp(what, "running") && strcmp(what, "stopped");
	s.text = what;
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_load(&c, name, v)))
		goto out;
	for (;;) {
		if (!strcmp(what, "running") && v->state == VM_RUNNING) {
			reached = true;
		} else if (!strcmp(what, "stopped") && v->state == VM_STOPPED) {
			reached = true;
		} else if (line_mode) {
			isim_error_clear(&err);
			if (con.fd < 0 && isim_qemu_console_open(&con, v->console, &err) < 0)
				con.fd = -1;
			while (con.fd >= 0 && !s.found) {
				ssize_t n = isim_qemu_console_read(&con, on_line, &s, &err);

				if (n <= 0)
					break;
			}
			reached = s.found;
		}
		if (reached)
			break;
		if (v->state == VM_STOPPED && strcmp(what, "stopped") && (line_mode || now() - t0 > 5)) {
			fprintf(stderr, PROG ": VM '%s' is not running%s\n", name,
				line_mode ? ", and its console did not print that" : "");
			rc = ISIM_EXIT_UNAVAILABLE;
			goto out;
		}
		if (now() - t0 >= (double)secs)
			break;
		nanosleep(&tick, NULL);
		/* The record is read again only when it may have changed: while
		 * the VM is not running (another command may start it), or once
		 * its QEMU has gone (vm_load records that); a QEMU that runs on
		 * costs a look at /proc, not a query. */
		if ((v->state != VM_RUNNING || !vm_alive(v)) && (rc = vm_load(&c, name, v)))
			goto out;
	}
	doc = cJSON_CreateObject();
	if (doc) {
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddStringToObject(doc, "for", what);
		cJSON_AddBoolToObject(doc, "reached", reached);
		cJSON_AddNumberToObject(doc, "seconds", (double)(long)((now() - t0) * 1000) / 1000);
		if (s.found)
			cJSON_AddStringToObject(doc, "line", s.line);
		else
			cJSON_AddNullToObject(doc, "line");
	}
	rc = vm_print(PROG, doc);
	if (!rc && !reached) {
		fprintf(stderr, PROG ": VM '%s': not %s within %ld s\n", name, what, secs);
		rc = ISIM_EXIT_VERDICT;
	}
out:
	if (con.fd >= 0)
		isim_qemu_console_close(&con);
	vm_close(&c);
	free(v);
	return rc;
}
