/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "sign.h"

static const struct isim_cmd cmds[] = {
	{ "keygen", sign_keygen_main, "make a key pair (minisign's formats): PATH and PATH.pub", sign_keygen_usage },
	{ "sign", sign_files_main, "sign files: FILE.sig in minisign's format (the default command)",
	  sign_files_usage },
	{ "descriptor", sign_descriptor_main, "attest node descriptors (JSON, or JSON Lines with --stream)",
	  sign_descriptor_usage },
	{ "dsse", sign_dsse_main, "wrap a payload in a signed DSSE envelope", sign_dsse_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-sign",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.synopsis = "       isim-sign [-k KEY] [options] FILE...     (the same as 'isim-sign sign')\n",
	.epilog = "Exit status: see isim-sign(1) and isim(7).",
	/* Options first and no command: signing, as minisign users expect. */
	.fallback = sign_files_main,
	.fallback_name = "sign",
};

int isim_sign_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
