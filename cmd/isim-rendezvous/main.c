/* SPDX-License-Identifier: MIT */
#include "rendezvous.h"

int main(int argc, char *argv[])
{
	return isim_rendezvous_main(argc, argv);
}
