/* SPDX-License-Identifier: MIT */
#include "sign.h"

int main(int argc, char *argv[])
{
	return isim_sign_main(argc, argv);
}
