/* SPDX-License-Identifier: MIT */
#ifndef ISIM_ERROR_H
#define ISIM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes shared by every tool (isim(7)); the numbers follow sysexits.h. */
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

/* Where an error is, and what it is. Library functions fill one of these
 * and return; only cmd/ turns it into a message and an exit code. */
struct isim_error {
	int code;	   /* an enum isim_exit value, never 0 once set */
	int line;	   /* 1-based; 0 when unknown */
	int column;	   /* 1-based; 0 when unknown */
	char path[512];	   /* file the error is in, "" when none */
	char pointer[512]; /* RFC 6901 JSON pointer of the value, "" when none */
	char msg[1024];	   /* what is wrong, without the location */
};

#define ISIM_MUST_CHECK __attribute__((warn_unused_result))
#define ISIM_PRINTF(f, a) __attribute__((format(printf, f, a)))

void isim_error_clear(struct isim_error *err);

/* Set code and message, keeping any path/line/pointer already set; returns
 * -1 so callers can write `return isim_error_set(err, ...);`. err may be NULL. */
int isim_error_set(struct isim_error *err, int code, const char *fmt, ...) ISIM_PRINTF(3, 4);
int isim_error_setv(struct isim_error *err, int code, const char *fmt, va_list ap) ISIM_PRINTF(3, 0);
/* As isim_error_set, appending ": strerror(errnum)". */
int isim_error_errno(struct isim_error *err, int code, int errnum, const char *fmt, ...) ISIM_PRINTF(4, 5);

void isim_error_at(struct isim_error *err, const char *path, int line, int column);
void isim_error_pointer(struct isim_error *err, const char *pointer);
/* isim_error_pointer, then isim_error_set: an error about the value at
 * pointer. Returns -1. */
int isim_error_at_pointer(struct isim_error *err, int code, const char *pointer, const char *fmt, ...)
	ISIM_PRINTF(4, 5);

/* "path:line:column: pointer: msg" with the parts that are known, control
 * characters replaced, into buf (always NUL-terminated). */
void isim_error_format(const struct isim_error *err, char *buf, size_t size);

/* Copy src into dst (size bytes), replacing control characters (C0, DEL,
 * and C1 as UTF-8) with '?', so untrusted text cannot drive a terminal. */
void isim_sanitize(char *dst, size_t size, const char *src);

#endif
