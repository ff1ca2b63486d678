/* SPDX-License-Identifier: MIT */
#include "passkey.h"

int main(int argc, char *argv[])
{
	return isim_passkey_main(argc, argv);
}
