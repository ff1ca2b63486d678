/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "rendezvous.h"

static const struct isim_cmd cmds[] = {
	{ "addr", rendezvous_addr_main, "the rendezvous addresses of a time's slots, as JSON", rendezvous_addr_usage },
	{ "run", rendezvous_run_main, "discover the mesh's nodes on a link: signed descriptors as JSON Lines",
	  rendezvous_run_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-rendezvous",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "The mesh secret: $" RV_SECRET_ENV " (default " RV_SECRET_DEFAULT
		  "). Exit status: see isim-rendezvous(1).",
};

int isim_rendezvous_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
