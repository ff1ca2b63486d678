/* SPDX-License-Identifier: MIT */
#include "rv.h"

int main(int argc, char *argv[])
{
	return isim_rendezvous_main(argc, argv);
}
