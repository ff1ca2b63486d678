/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm restart"

void vm_restart_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--timeout SECONDS] [--state-dir DIR]\n"
		   "\n"
		   "Stop the VM NAME as isim-vm stop does (if it runs), then start it again\n"
		   "with a new QEMU. Prints the VM, with \"stopped_by\".\n"
		   "\n"
		   "  -t, --timeout SECONDS  how long the guest has to power off (default 60)\n" VM_USAGE_COMMON
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: as isim-vm start's.\n");
}

int vm_restart_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "timeout", required_argument, NULL, 't' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "t:hV", .longopts = opts, .usage = vm_restart_usage };
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
	if ((rc = vm_timeout_arg(PROG, timeout, &secs)))
		goto out;
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	how = vm_stop_qemu(&c, v, (int)secs * 1000);
	v->state = VM_STOPPED;
	v->pid = 0;
	if ((rc = vm_save(&c, v, false)))
		goto out;
	vm_record(&c, name, "stop", true, how);
	if ((rc = vm_start_qemu(&c, v, NULL)))
		goto out;
	doc = vm_json(&c, v, true);
	if (doc)
		cJSON_AddStringToObject(doc, "stopped_by", how);
	rc = vm_print(PROG, doc);
out:
	vm_close(&c);
	free(v);
	return rc;
}
