/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CLI_SECRET_H
#define ISIM_CLI_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "isim/error.h"
#include "isim/minisign.h"

/* For tools about to hold a secret key: no core file (RLIMIT_CORE 0), and
 * not dumpable, so neither a crash nor another process of the same user
 * (ptrace, /proc/PID/mem) can read the key out of memory. */
int isim_secret_protect(struct isim_error *err) ISIM_MUST_CHECK;

/* Parse a --password-fd value: a decimal descriptor number, 0 to 1023. */
bool isim_parse_fd(const char *s, int *fd);

/* Read a password into sodium_malloc'd memory (*out, NUL-terminated, freed
 * with sodium_free). fd >= 0: one line from fd (its LF, or CR LF, dropped).
 * fd < 0: from the controlling terminal, without echo, after prompt; with
 * confirm, twice, and they must match. No terminal is ISIM_EXIT_USAGE. */
int isim_password_read(int fd, const char *prompt, bool confirm, char **out, size_t *len,
		       struct isim_error *err) ISIM_MUST_CHECK;

/* Load a secret key, unlocking it with a password (from password_fd, or
 * the terminal) when it has one. */
int isim_secret_key_open(const char *path, int password_fd, struct isim_ms_seckey **out,
			 struct isim_error *err) ISIM_MUST_CHECK;

#endif
