/* SPDX-License-Identifier: MIT */
#include "console.h"

int main(int argc, char *argv[])
{
	return isim_console_main(argc, argv);
}
