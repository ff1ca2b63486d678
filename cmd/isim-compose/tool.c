/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "compose.h"

/* No subcommands yet: composing is the tool's one job, --list a flag. */
static const struct isim_tool tool = {
	.prog = "isim-compose",
	.cmds = NULL,
	.ncmds = 0,
	.usage = compose_usage,
	.fallback = compose_main,
	.fallback_name = "compose",
	.fallback_words = true,
};

int isim_compose_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
