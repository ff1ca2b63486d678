/* SPDX-License-Identifier: MIT */
#include "wgadmit.h"

int main(int argc, char *argv[])
{
	return isim_wgadmit_main(argc, argv);
}
