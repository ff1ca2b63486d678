/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm show"

void vm_show_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--state-dir DIR]\n"
		   "\n"
		   "Print the VM NAME as one JSON object: what isim-vm list shows, and \"uuid\",\n"
		   "\"disk_size\", \"accel\" (as configured: auto, kvm or tcg), \"accel_used\" (what\n"
		   "its QEMU uses: kvm or tcg; null when stopped), \"network\", \"forwards\"\n"
		   "[{\"protocol\", \"host_addr\", \"host_port\", \"guest_port\"}], its files (\"disk\",\n"
		   "\"seed\", \"qmp\", \"console\", \"console_log\"), and its last 20 \"operations\"\n"
		   "[{\"at\", \"op\", \"ok\", \"detail\"}].\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 78 the state is corrupt.\n");
}

int vm_show_main(int argc, char *argv[])
{
	static const struct option opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name;
	int rc;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if (!(rc = vm_one_name(PROG, argc, argv, "hV", opts, vm_show_usage, &o, &name)) &&
	    !(rc = vm_open(&c, PROG, &o, false)) && !(rc = vm_load(&c, name, v)))
		rc = vm_print(PROG, vm_json(&c, v, true));
	vm_close(&c);
	free(v);
	return rc;
}
