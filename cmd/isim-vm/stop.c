/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

void vm_stop_usage(FILE *f)
{
	fprintf(f, "usage: isim-vm stop NAME [--timeout SECONDS] [--state-dir DIR]\n"
		   "\n"
		   "Stop the VM NAME: an ACPI power-button press, so that the guest shuts down\n"
		   "cleanly; if QEMU has not ended after --timeout, QMP quit, then SIGTERM,\n"
		   "then SIGKILL. Prints the VM, with \"stopped_by\": powerdown, quit, SIGTERM,\n"
		   "SIGKILL, or ended (it was not running).\n"
		   "\n"
		   "  -t, --timeout SECONDS  how long the guest has to power off (default 60)\n" VM_USAGE_COMMON
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 78 the state is corrupt.\n");
}

int vm_halt(const char *prog, int argc, char *argv[], bool kill_it)
{
	static const struct option stop_opts[] = {
		VM_LONGOPTS,
		{ "timeout", required_argument, NULL, 't' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	static const struct option kill_opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct isim_getopt g = { .prog = prog,
				 .shortopts = kill_it ? "hV" : "t:hV",
				 .longopts = kill_it ? kill_opts : stop_opts,
				 .usage = kill_it ? vm_kill_usage : vm_stop_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name, *timeout = NULL, *how;
	long secs = 60;
	cJSON *doc;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = { VM_ARG_TEXT('t', "--timeout", &timeout), VM_ARG_END };

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if ((rc = vm_timeout_arg(prog, timeout, &secs)))
		goto out;
	if ((rc = vm_open(&c, prog, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (kill_it) {
		how = "ended";
		if (vm_alive(v)) {
			vm_signal(v, SIGKILL);
			how = "SIGKILL";
		}
	} else {
		how = vm_stop_qemu(&c, v, (int)secs * 1000);
	}
	if (v->state != VM_STOPPED) {
		v->state = VM_STOPPED;
		v->pid = 0;
		if ((rc = vm_save(&c, v, false)))
			goto out;
	}
	vm_record(&c, name, kill_it ? "kill" : "stop", true, how);
	doc = vm_json(&c, v, true);
	if (doc)
		cJSON_AddStringToObject(doc, "stopped_by", how);
	rc = vm_print(prog, doc);
out:
	vm_close(&c);
	free(v);
	return rc;
}

int vm_stop_main(int argc, char *argv[])
{
	return vm_halt("isim-vm stop", argc, argv, false);
}
