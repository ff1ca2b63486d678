/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

void vm_pause_usage(FILE *f)
{
	fprintf(f, "usage: isim-vm pause NAME [--state-dir DIR]\n"
		   "\n"
		   "Stop the VM NAME's CPUs (QMP stop); its memory and devices stay as they\n"
		   "are until isim-vm resume. Prints the VM.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 69 it is not running, 78 the\n"
		   "state is corrupt.\n");
}

int vm_set_running(const char *prog, int argc, char *argv[], bool run)
{
	static const struct option opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	struct isim_qmp *q = NULL;
	struct isim_error err;
	const char *name;
	int rc;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_one_name(prog, argc, argv, "hV", opts, run ? vm_resume_usage : vm_pause_usage, &o, &name)))
		goto out;
	if ((rc = vm_open(&c, prog, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_STOPPED) {
		fprintf(stderr, "%s: VM '%s' is not running (isim-vm start %s)\n", prog, name, name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if (v->state != (run ? VM_RUNNING : VM_PAUSED)) {
		if ((rc = vm_qmp(&c, v, &q)))
			goto out;
		isim_error_clear(&err);
		if (isim_qmp_execute(q, run ? "cont" : "stop", NULL, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
			vm_record(&c, name, run ? "resume" : "pause", false, err.msg);
			rc = isim_fail(prog, &err);
			goto out;
		}
		v->state = run ? VM_RUNNING : VM_PAUSED;
		if ((rc = vm_save(&c, v, false)))
			goto out;
		vm_record(&c, name, run ? "resume" : "pause", true, NULL);
	}
	rc = vm_print(prog, vm_json(&c, v, true));
out:
	isim_qmp_close(q);
	vm_close(&c);
	free(v);
	return rc;
}

int vm_pause_main(int argc, char *argv[])
{
	return vm_set_running("isim-vm pause", argc, argv, false);
}
