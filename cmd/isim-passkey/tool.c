/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "passkey.h"

static const struct isim_cmd cmds[] = {
	{ "check-registration", pk_check_registration_main,
	  "verify one registration response against expectations, touching no state", pk_check_registration_usage },
	{ "check-assertion", pk_check_assertion_main,
	  "verify one assertion against a stored public key and counter, touching no state", pk_check_assertion_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-passkey",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "Exit status: see isim-passkey(1).",
};

int isim_passkey_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
