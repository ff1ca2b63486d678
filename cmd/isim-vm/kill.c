/* SPDX-License-Identifier: MIT */
#include "vm.h"

void vm_kill_usage(FILE *f)
{
	fprintf(f, "usage: isim-vm kill NAME [--state-dir DIR]\n"
		   "\n"
		   "End the VM NAME's QEMU at once (SIGKILL to its process group), as pulling\n"
		   "the power cord would. Prints the VM, with \"stopped_by\": SIGKILL, or\n"
		   "ended (it was not running).\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 78 the state is corrupt.\n");
}

int vm_kill_main(int argc, char *argv[])
{
	return vm_halt("isim-vm kill", argc, argv, true);
}
