/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "verify.h"

static const struct isim_cmd cmds[] = {
	{ "file", verify_file_main, "check a file's minisign signature (FILE.sig) against trusted signers",
	  verify_file_usage },
	{ "descriptor", verify_descriptor_main, "check signed node descriptors (one, or a JSON Lines stream)",
	  verify_descriptor_usage },
	{ "dsse", verify_dsse_main, "check a DSSE envelope and print its payload", verify_dsse_usage },
	{ "provenance", verify_provenance_main, "check an image's signed provenance statement",
	  verify_provenance_usage },
	{ "appliance", verify_appliance_main, "check an appliance archive: members, manifest and its signature",
	  verify_appliance_usage },
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
