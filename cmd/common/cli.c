/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
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

/* Said once per run: the first failed write names the reason, and the
 * flush at exit that fails again for the same bytes stays quiet. */
static bool stdout_told;

int isim_usage_error(const char *prog, const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	isim_sanitize(msg, sizeof(msg), raw);
	fprintf(stderr, "%s: %s (see %s --help)\n", prog, msg, prog);
	return ISIM_EXIT_USAGE;
}

int isim_bad_option(const char *prog, char *const argv[], int opt)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	if (opt > 0 && opt < 128 && arg && arg[0] == '-' && arg[1] != '-')
		return isim_usage_error(prog, "bad option '-%c' (unknown, or missing its value)", opt);
	return isim_usage_error(prog, "bad option '%s' (unknown, or missing its value)", arg ? arg : "?");
}

int isim_bad_value(const char *prog, const char *option, const char *value, const char *expected)
{
	return isim_usage_error(prog, "%s: '%s' is not %s", option, value, expected);
}

int isim_stdout_error(const char *prog)
{
	int e = errno ? errno : EIO;

	if (!stdout_told)
		fprintf(stderr, "%s: cannot write to stdout: %s\n", prog, strerror(e));
	stdout_told = true;
	return ISIM_EXIT_IOERR;
}

int isim_close_stdout(const char *prog)
{
	/* glibc drops what it could not write, so the flush can succeed
	 * after an earlier write failed; that write's errno is the reason. */
	int earlier = errno;

	errno = 0;
	if (fflush(stdout) == 0) {
		if (!ferror(stdout) && !stdout_told)
			return 0;
		errno = earlier;
	}
	return isim_stdout_error(prog);
}

int isim_fail(const char *prog, const struct isim_error *err)
{
	isim_print_error(prog, err);
	return isim_exit_code(err->kind);
}

int isim_print_version(const char *tool)
{
	printf("%s %s\n", tool, ISIM_VERSION);
	return isim_close_stdout(tool);
}

static void tool_usage(const struct isim_tool *t, FILE *f)
{
	size_t i;

	if (t->usage) {
		t->usage(f);
		return;
	}
	fprintf(f, "usage: %s COMMAND [options] [ARG...]\n%s\nCommands:\n", t->prog, t->synopsis ? t->synopsis : "");
	for (i = 0; i < t->ncmds; i++)
		fprintf(f, "  %-11s %s\n", t->cmds[i].name, t->cmds[i].summary);
	fprintf(f,
		"\n'%s COMMAND --help' describes a command. -h, --help: this text;\n"
		"-V, --version: the version.%s%s\n",
		t->prog, t->epilog ? " " : "", t->epilog ? t->epilog : "");
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static bool is_version(const char *arg)
{
	return !strcmp(arg, "-V") || !strcmp(arg, "--version");
}

/* `prog CMD --help` and `prog CMD --version` are the framework's, so that
 * no command answers them differently or forgets one. */
static int run_cmd(const struct isim_tool *t, const struct isim_cmd *cmd, int argc, char *argv[])
{
	char prog[128];

	if (argc == 2 && is_version(argv[1]))
		return isim_print_version(t->prog);
	if (argc == 2 && is_help(argv[1]) && cmd->usage) {
		snprintf(prog, sizeof(prog), "%s %s", t->prog, cmd->name);
		cmd->usage(stdout);
		return isim_close_stdout(prog);
	}
	return cmd->fn(argc, argv);
}

int isim_tool_main(const struct isim_tool *t, int argc, char *argv[])
{
	size_t i;

	/* In-process callers (tests) run one tool after another. */
	stdout_told = false;
	clearerr(stdout);
	if (argc < 2 && t->fallback && t->fallback_words)
		return t->fallback(argc, argv);
	if (argc < 2)
		return isim_usage_error(t->prog, "no command given; usage: %s COMMAND [options] [ARG...]", t->prog);
	if (is_help(argv[1])) {
		tool_usage(t, stdout);
		return isim_close_stdout(t->prog);
	}
	if (is_version(argv[1]))
		return isim_print_version(t->prog);
	for (i = 0; i < t->ncmds; i++)
		if (!strcmp(argv[1], t->cmds[i].name))
			return run_cmd(t, &t->cmds[i], argc - 1, argv + 1);
	if (t->fallback && (argv[1][0] == '-' || t->fallback_words))
		return t->fallback(argc, argv);
	/* A bare word is never taken for the fallback's argument, so that
	 * adding a command later cannot change what a script does. */
	if (t->fallback)
		return isim_usage_error(t->prog, "unknown command '%s' (to %s a file of that name: '%s %s %s')",
					argv[1], t->fallback_name, t->prog, t->fallback_name, argv[1]);
	if (argv[1][0] == '-')
		return isim_usage_error(t->prog, "bad option '%s' (unknown, or missing its value)", argv[1]);
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
