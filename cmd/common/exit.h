/* SPDX-License-Identifier: MIT */
#ifndef ISIM_EXIT_H
#define ISIM_EXIT_H

#include "isim/error.h"

/* Exit codes shared by every tool (isim(7)); the numbers follow sysexits.h.
 * lib/ reports kinds of failure (enum isim_err); this is the one place
 * that turns them into exit codes. */
enum isim_exit {
	ISIM_EXIT_OK = 0,
	ISIM_EXIT_VERDICT = 1,	    /* negative verdict: bad signature, refused */
	ISIM_EXIT_USAGE = 64,	    /* command line usage error */
	ISIM_EXIT_DATAERR = 65,	    /* input data was incorrect */
	ISIM_EXIT_NOINPUT = 66,	    /* an input file did not exist or was unreadable */
	ISIM_EXIT_UNAVAILABLE = 69, /* a needed service or program is missing */
	ISIM_EXIT_SOFTWARE = 70,    /* internal error */
	ISIM_EXIT_CANTCREAT = 73,   /* cannot create an output */
	ISIM_EXIT_IOERR = 74,	    /* I/O error */
	ISIM_EXIT_NOPERM = 77,	    /* permission denied */
	ISIM_EXIT_CONFIG = 78,	    /* bad configuration */
};

/* The exit code for a kind of failure; ISIM_EXIT_SOFTWARE for NONE,
 * since a failure without a kind is a bug. */
int isim_exit_code(enum isim_err kind);

#endif
