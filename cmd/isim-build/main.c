/* SPDX-License-Identifier: MIT */
#include "build.h"

int main(int argc, char *argv[])
{
	return isim_build_main(argc, argv);
}
