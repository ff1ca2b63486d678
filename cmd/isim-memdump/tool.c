/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "dump.h"
#include "log.h"

/* `isim-memdump VM ...` dumps: dump is the fallback, for a bare word too. */
static const struct isim_cmd cmds[] = {
	{ "dump", memdump_dump_main, "dump a VM's memory, hashed in flight, with a signed record", memdump_dump_usage },
	{ "verify", memdump_verify_main, "check a dump against its record, its signer and the audit log",
	  memdump_verify_usage },
	{ "log", memdump_log_main, "the audit log: list, show, verify, export, checkpoint", memdump_log_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-memdump",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.fallback = memdump_dump_main,
	.fallback_name = "dump",
	.fallback_words = true,
	.epilog = "Exit status: see isim-memdump(1).",
};

int isim_memdump_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
