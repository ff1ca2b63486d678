/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "verify.h"

static const struct isim_cmd cmds[] = {
	{ "file", verify_file_main, "check a file's minisign signature (FILE.sig) against trusted signers" },
	{ "descriptor", verify_descriptor_main, "check signed node descriptors (one, or a JSON Lines stream)" },
	{ "dsse", verify_dsse_main, "check a DSSE envelope and print its payload" },
	{ "provenance", verify_provenance_main, "check an image's signed provenance statement" },
};

static const struct isim_tool tool = {
	.prog = "isim-verify",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "Each command prints a JSON verdict;\nexit status 0 valid, 1 not valid, 64 and up could not check "
		  "(isim(7)).",
};

int isim_verify_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
