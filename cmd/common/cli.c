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
