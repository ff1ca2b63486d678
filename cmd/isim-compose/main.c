/* SPDX-License-Identifier: MIT */
#include "compose.h"

int main(int argc, char *argv[])
{
	return isim_compose_main(argc, argv);
}
