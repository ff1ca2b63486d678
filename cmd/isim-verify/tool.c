/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "verify.h"

#define PROG "isim-verify"

static const struct {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *summary;
} cmds[] = {
	{ "file", verify_file_main, "check a file's minisign signature (FILE.sig) against trusted signers" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " COMMAND [options] [ARG...]\n"
		   "\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n"
		   "'" PROG " COMMAND --help' describes a command. -h, --help: this text;\n"
		   "-V, --version: the version. Each command prints a JSON verdict; exit\n"
		   "status 0 valid, 1 not valid, 64 and up could not check (isim(7)).\n");
}

int isim_verify_main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return ISIM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return isim_close_stdout(PROG);
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf(PROG " %s\n", ISIM_VERSION);
		return isim_close_stdout(PROG);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return isim_usage_error(PROG, "unknown command '%s'", argv[1]);
}
