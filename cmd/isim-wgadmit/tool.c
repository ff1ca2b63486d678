/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "wgadmit.h"

static const struct isim_cmd cmds[] = {
	{ "admit", wa_admit_main,
	  "admit peers from their signed node descriptors: narrow, verify, then widen or remove", wa_admit_usage },
	{ "show", wa_show_main, "the device's peers and what admitted them, as JSON", wa_show_usage },
	{ "sweep", wa_sweep_main, "remove peers whose descriptor expired or whose signer was revoked", wa_sweep_usage },
	{ "remove", wa_remove_main, "remove admitted nodes from the device", wa_remove_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-wgadmit",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "State: $ISIM_STATE_DIR/" WA_DB_NAME " (default " WA_STATE_DIR_DEFAULT
		  "). Exit status: see isim-wgadmit(1).",
};

int isim_wgadmit_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
