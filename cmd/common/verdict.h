/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CMD_VERDICT_H
#define ISIM_CMD_VERDICT_H

#include "isim/error.h"
#include "isim/verdict.h"

/*
 * A verdict on stdout: one JSON object a line, "ok" first, then the fields
 * the command lists, in its order, so that scripts can rely on them with
 * jq. A field is either the command's own (a string, or a number) or one of
 * the verdict's (key_id, signer, reason), placed where the list names it.
 * The verdict's empty strings print as null, as does the reason of a
 * verdict that is ok.
 */

enum isim_vfield_type {
	ISIM_VF_END = 0,
	ISIM_VF_TEXT,	/* text, null when NULL */
	ISIM_VF_SOME,	/* text, null when NULL or "" */
	ISIM_VF_NUMBER, /* number */
	ISIM_VF_BOOL,	/* true or false */
	ISIM_VF_KEY_ID, /* the verdict's key_id */
	ISIM_VF_SIGNER, /* the verdict's signer */
	ISIM_VF_REASON, /* the verdict's reason */
};

struct isim_vfield {
	enum isim_vfield_type type;
	const char *name;
	const char *text;
	long long number;
};

#define ISIM_VF_STR(n, s)                 \
	{                                 \
		ISIM_VF_TEXT, (n), (s), 0 \
	}
#define ISIM_VF_STR_OR_NULL(n, s)         \
	{                                 \
		ISIM_VF_SOME, (n), (s), 0 \
	}
#define ISIM_VF_NUM(n, x)                      \
	{                                      \
		ISIM_VF_NUMBER, (n), NULL, (x) \
	}
#define ISIM_VF_BOOLEAN(n, x)                        \
	{                                            \
		ISIM_VF_BOOL, (n), NULL, (x) ? 1 : 0 \
	}
#define ISIM_VF_OWN(t)             \
	{                          \
		(t), NULL, NULL, 0 \
	}
#define ISIM_VF_LAST                       \
	{                                  \
		ISIM_VF_END, NULL, NULL, 0 \
	}

/* Print v with fields (ending in ISIM_VF_LAST; NULL: key_id, signer,
 * reason). Returns the exit code: 0 when v is ok, 1 when it is refused,
 * ISIM_EXIT_IOERR (said on stderr) when stdout cannot be written. */
int isim_verdict_print(const char *prog, const struct isim_verdict *v, const struct isim_vfield *fields);
/* For a check that could not be made but still owes a line (a line of a
 * stream, a malformed document): v refused with err's reason. Returns the
 * exit code of err's kind (or ISIM_EXIT_IOERR); telling err on stderr is
 * the caller's choice. */
int isim_verdict_print_error(const char *prog, const struct isim_verdict *v, const struct isim_error *err,
			     const struct isim_vfield *fields);
/* For a command whose stdout is not the verdict (isim-verify dsse prints
 * the payload): a refused v is said on stderr as "prog: path: reason".
 * Returns 0 when v is ok, 1 otherwise. */
int isim_verdict_tell(const char *prog, const char *path, const struct isim_verdict *v);
/* The exit code of several checks, the one so far and the next's: an error
 * that stopped a check outranks a negative verdict (1), which outranks 0;
 * between errors, the first stands. */
int isim_exit_worse(int so_far, int next);

#endif
