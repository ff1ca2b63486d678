/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "log.h"

/*
 * The commands. The memdump branch adds here, in this order, before "log":
 *   { "dump", memdump_dump_main, ..., memdump_dump_usage },
 *   { "verify", memdump_verify_main, ..., memdump_verify_usage },
 * and, in `tool` below, dump as the fallback (.fallback = memdump_dump_main,
 * .fallback_name = "dump", .fallback_words = true), so that
 * `isim-memdump VM ...` dumps.
 */
static const struct isim_cmd cmds[] = {
	{ "log", memdump_log_main, "the audit log: list, show, verify, export, checkpoint", memdump_log_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-memdump",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "Exit status: see isim-memdump(1).",
};

int isim_memdump_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
