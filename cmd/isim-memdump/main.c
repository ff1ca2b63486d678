/* SPDX-License-Identifier: MIT */
#include "log.h"

int main(int argc, char *argv[])
{
	return isim_memdump_main(argc, argv);
}
