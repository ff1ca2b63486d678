/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"

void isim_print_error(const char *prog, const struct isim_error *err)
{
	char buf[2400];

	isim_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s: %s\n", prog, buf);
}

int isim_usage_error(const char *prog, const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	isim_sanitize(msg, sizeof(msg), raw);
	fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, msg, prog);
	return ISIM_EXIT_USAGE;
}

int isim_bad_option(const char *prog, char *const argv[], int opt)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	if (opt > 0 && opt < 128 && arg && arg[0] == '-' && arg[1] != '-')
		return isim_usage_error(prog, "bad option '-%c' (unknown, or missing its value)", opt);
	return isim_usage_error(prog, "bad option '%s' (unknown, or missing its value)", arg ? arg : "?");
}

int isim_close_stdout(const char *prog)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "%s: cannot write standard output: %s\n", prog, strerror(errno ? errno : EIO));
	return ISIM_EXIT_IOERR;
}

int isim_fail(const char *prog, const struct isim_error *err)
{
	isim_print_error(prog, err);
	return isim_exit_code(err->kind);
}

static void tool_usage(const struct isim_tool *t, FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [options] [ARG...]\n%s\nCommands:\n", t->prog, t->synopsis ? t->synopsis : "");
	for (i = 0; i < t->ncmds; i++)
		fprintf(f, "  %-11s %s\n", t->cmds[i].name, t->cmds[i].summary);
	fprintf(f,
		"\n'%s COMMAND --help' describes a command. -h, --help: this text;\n"
		"-V, --version: the version.%s%s\n",
		t->prog, t->epilog ? " " : "", t->epilog ? t->epilog : "");
}

int isim_tool_main(const struct isim_tool *t, int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		tool_usage(t, stderr);
		return ISIM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		tool_usage(t, stdout);
		return isim_close_stdout(t->prog);
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", t->prog, ISIM_VERSION);
		return isim_close_stdout(t->prog);
	}
	for (i = 0; i < t->ncmds; i++)
		if (!strcmp(argv[1], t->cmds[i].name))
			return t->cmds[i].fn(argc - 1, argv + 1);
	if (t->fallback && argv[1][0] == '-')
		return t->fallback(argc, argv);
	/* A bare word is never taken for the fallback's argument, so that
	 * adding a command later cannot change what a script does. */
	if (t->fallback)
		return isim_usage_error(t->prog, "unknown command '%s' (to %s a file of that name: '%s %s %s')",
					argv[1], t->fallback_name, t->prog, t->fallback_name, argv[1]);
	return isim_usage_error(t->prog, "unknown command '%s'", argv[1]);
}

int isim_opt_once(const char *prog, const char *name, const char **slot, const char *value)
{
	if (*slot)
		return isim_usage_error(prog, "%s given twice", name);
	*slot = value;
	return 0;
}

int isim_exit_code(enum isim_err kind)
{
	switch (kind) {
	case ISIM_ERR_REFUSED:
		return ISIM_EXIT_VERDICT;
	case ISIM_ERR_USAGE:
		return ISIM_EXIT_USAGE;
	case ISIM_ERR_DATA:
		return ISIM_EXIT_DATAERR;
	case ISIM_ERR_NOINPUT:
		return ISIM_EXIT_NOINPUT;
	case ISIM_ERR_UNAVAILABLE:
		return ISIM_EXIT_UNAVAILABLE;
	case ISIM_ERR_CANTCREATE:
		return ISIM_EXIT_CANTCREAT;
	case ISIM_ERR_IO:
		return ISIM_EXIT_IOERR;
	case ISIM_ERR_PERM:
		return ISIM_EXIT_NOPERM;
	case ISIM_ERR_CONFIG:
		return ISIM_EXIT_CONFIG;
	case ISIM_ERR_NONE:
	case ISIM_ERR_INTERNAL:
		break;
	}
	return ISIM_EXIT_SOFTWARE;
}
