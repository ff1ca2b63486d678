/* SPDX-License-Identifier: MIT */
#ifndef ISIM_ERROR_H
#define ISIM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* What kind of failure an error is. lib/ reports kinds only; cmd/common
 * maps them to exit codes (isim(7)), and the console to HTTP statuses. */
enum isim_err {
	ISIM_ERR_NONE = 0,
	ISIM_ERR_REFUSED,     /* a check came out negative (a verdict, not a failure) */
	ISIM_ERR_USAGE,	      /* the caller asked for something that cannot be done */
	ISIM_ERR_DATA,	      /* input data is incorrect */
	ISIM_ERR_NOINPUT,     /* an input does not exist or cannot be read */
	ISIM_ERR_UNAVAILABLE, /* a needed service or program is missing */
	ISIM_ERR_INTERNAL,    /* a bug, or out of memory */
	ISIM_ERR_CANTCREATE,  /* an output cannot be created */
	ISIM_ERR_IO,	      /* reading or writing failed */
	ISIM_ERR_PERM,	      /* permission denied, or unsafe permissions */
	ISIM_ERR_CONFIG,      /* configuration is incorrect */
};

/* Where an error is, and what it is. Library functions fill one of these
 * and return; only cmd/ turns it into a message and an exit code. */
struct isim_error {
	enum isim_err kind; /* never ISIM_ERR_NONE once set */
	int line;	    /* 1-based; 0 when unknown */
	int column;	    /* 1-based; 0 when unknown */
	char path[512];	    /* file the error is in, "" when none */
	char pointer[512];  /* RFC 6901 JSON pointer of the value, "" when none */
	char msg[1024];	    /* what is wrong, without the location */
};

#define ISIM_MUST_CHECK __attribute__((warn_unused_result))
#define ISIM_PRINTF(f, a) __attribute__((format(printf, f, a)))

void isim_error_clear(struct isim_error *err);

/* Set kind and message, keeping any path/line/pointer already set; returns
 * -1 so callers can write `return isim_error_set(err, ...);`. err may be NULL. */
int isim_error_set(struct isim_error *err, enum isim_err kind, const char *fmt, ...) ISIM_PRINTF(3, 4);
int isim_error_setv(struct isim_error *err, enum isim_err kind, const char *fmt, va_list ap) ISIM_PRINTF(3, 0);
/* As isim_error_set, appending ": strerror(errnum)". */
int isim_error_errno(struct isim_error *err, enum isim_err kind, int errnum, const char *fmt, ...) ISIM_PRINTF(4, 5);

void isim_error_at(struct isim_error *err, const char *path, int line, int column);
void isim_error_pointer(struct isim_error *err, const char *pointer);
/* isim_error_pointer, then isim_error_set: an error about the value at
 * pointer. Returns -1. */
int isim_error_at_pointer(struct isim_error *err, enum isim_err kind, const char *pointer, const char *fmt, ...)
	ISIM_PRINTF(4, 5);

/* "path:line:column: pointer: msg" with the parts that are known, control
 * characters replaced, into buf (always NUL-terminated). */
void isim_error_format(const struct isim_error *err, char *buf, size_t size);

/* Copy src into dst (size bytes), replacing control characters (C0, DEL,
 * and C1 as UTF-8) with '?', so untrusted text cannot drive a terminal. */
void isim_sanitize(char *dst, size_t size, const char *src);

/* A word for the kind, for logs and JSON: "data", "noinput", ... */
const char *isim_err_name(enum isim_err kind);

#endif
