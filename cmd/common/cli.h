/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CLI_H
#define ISIM_CLI_H

#include "isim/error.h"

/* What every tool does at its edge: turn errors into one line on stderr
 * ("prog: path:line:column: pointer: message") and exit codes. */

void isim_print_error(const char *prog, const struct isim_error *err);
/* "prog: message" and a pointer to --help; returns ISIM_EXIT_USAGE. */
int isim_usage_error(const char *prog, const char *fmt, ...) ISIM_PRINTF(2, 3);
/* For getopt's '?' and ':' returns. */
int isim_bad_option(const char *prog, char *const argv[], int opt);
/* Flush stdout and check it, so a full disk never yields a truncated
 * document with status 0. Returns 0 or ISIM_EXIT_IOERR. */
int isim_close_stdout(const char *prog);

#endif
