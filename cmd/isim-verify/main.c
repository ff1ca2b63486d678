/* SPDX-License-Identifier: MIT */
#include "verify.h"

int main(int argc, char *argv[])
{
	return isim_verify_main(argc, argv);
}
