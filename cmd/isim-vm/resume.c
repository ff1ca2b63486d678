/* SPDX-License-Identifier: MIT */
#include "vm.h"

void vm_resume_usage(FILE *f)
{
	fprintf(f, "usage: isim-vm resume NAME [--state-dir DIR]\n"
		   "\n"
		   "Run the paused VM NAME's CPUs again (QMP cont). Prints the VM.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 69 it is not running, 78 the\n"
		   "state is corrupt.\n");
}

int vm_resume_main(int argc, char *argv[])
{
	return vm_set_running("isim-vm resume", argc, argv, true);
}
