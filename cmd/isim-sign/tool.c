/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "sign.h"

#define PROG "isim-sign"

static const struct {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *summary;
} cmds[] = {
	{ "keygen", sign_keygen_main, "make a key pair (minisign's formats): PATH and PATH.pub" },
	{ "sign", sign_files_main, "sign files: FILE.sig in minisign's format (the default command)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " COMMAND [options] [ARG...]\n"
		   "       " PROG " [-k KEY] [options] FILE...     (the same as '" PROG " sign')\n"
		   "\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n"
		   "'" PROG " COMMAND --help' describes a command. -h, --help: this text;\n"
		   "-V, --version: the version. Exit status: see isim-sign(1) and isim(7).\n");
}

int isim_sign_main(int argc, char *argv[])
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
	/* Options first and no command: signing, as minisign users expect. A
	 * bare word is never taken for a file, so that adding a command later
	 * cannot change what an existing script does. */
	if (argv[1][0] == '-')
		return sign_files_main(argc, argv);
	return isim_usage_error(PROG, "unknown command '%s' (to sign a file of that name: '" PROG " sign %s')",
				argv[1], argv[1]);
}
