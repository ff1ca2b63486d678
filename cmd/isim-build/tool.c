/* SPDX-License-Identifier: MIT */
#include <locale.h>

#include "build.h"
#include "common/cli.h"

static const struct isim_cmd cmds[] = {
	{ "test", build_test_main, "boot an image and run its selftests", build_test_usage },
};

static const struct isim_tool tool = {
	.prog = PROG,
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.usage = build_usage,
	/* Building is the tool's job: `isim-build PROFILE`, as it always was. */
	.fallback = build_main,
	.fallback_name = "build",
	.fallback_words = true,
};

int isim_build_main(int argc, char *argv[])
{
	/* Root file systems hold UTF-8 names, which libarchive converts
	 * through the locale. */
	setlocale(LC_CTYPE, "C.UTF-8");
	return isim_tool_main(&tool, argc, argv);
}
