/* SPDX-License-Identifier: MIT */
#include "vm.h"

int main(int argc, char *argv[])
{
	return isim_vm_main(argc, argv);
}
