/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CLI_H
#define ISIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "exit.h"
#include "isim/error.h"

/* What every tool does at its edge: turn errors into one line on stderr
 * ("prog: path:line:column: pointer: message") and exit codes. */

void isim_print_error(const char *prog, const struct isim_error *err);
/* One line, "prog: message (see prog --help)"; returns ISIM_EXIT_USAGE. */
int isim_usage_error(const char *prog, const char *fmt, ...) ISIM_PRINTF(2, 3);
/* For getopt's '?' and ':' returns. */
int isim_bad_option(const char *prog, char *const argv[], int opt);
/* An option's value that is not what it must be, said the same way by
 * every tool: "prog: --memory: 'abc' is not EXPECTED (see prog --help)".
 * Returns ISIM_EXIT_USAGE. */
int isim_bad_value(const char *prog, const char *option, const char *value, const char *expected);
/* Flush stdout and check it, so a full disk never yields a truncated
 * document with status 0. Returns 0, or ISIM_EXIT_IOERR after saying
 * "prog: cannot write to stdout: REASON" (unless that was said already). */
int isim_close_stdout(const char *prog);
/* A write to stdout failed (errno says why): say so once, whatever else
 * fails after it, and return ISIM_EXIT_IOERR. */
int isim_stdout_error(const char *prog);
/* Keep an option's value in *slot, refusing the option a second time:
 * 0, or ISIM_EXIT_USAGE after saying "NAME given twice". */
int isim_opt_once(const char *prog, const char *name, const char **slot, const char *value);
/* isim_print_error, and the exit code that goes with err. */
int isim_fail(const char *prog, const struct isim_error *err);
/* "prog VERSION" on stdout, the line every --version prints. */
int isim_print_version(const char *tool);

/* A tool made of subcommands, run as `prog COMMAND [ARG...]`. */
struct isim_cmd {
	const char *name;
	int (*fn)(int argc, char *argv[]); /* called with argv[0] the name */
	const char *summary;
	/* Its --help text; a lone --help, -h, --version or -V after the
	 * command is answered before fn is called. */
	void (*usage)(FILE *f);
};

struct isim_tool {
	const char *prog;
	const struct isim_cmd *cmds;
	size_t ncmds;
	const char *synopsis; /* extra usage lines, or NULL */
	const char *epilog;   /* after the list of commands */
	/* `prog --help`: this, else the list of commands. */
	void (*usage)(FILE *f);
	/* When argv[1] is an option and no command: run this (or NULL),
	 * the command called fallback_name, with the tool's own argv. */
	int (*fallback)(int argc, char *argv[]);
	const char *fallback_name;
	/* The fallback also takes a bare word that is no command's name,
	 * and no argument at all (the tool's one job takes operands). */
	bool fallback_words;
};

/* -h/--help, -V/--version, then the named command (exact names only). */
int isim_tool_main(const struct isim_tool *t, int argc, char *argv[]);

#endif
