/* SPDX-License-Identifier: MIT */
#ifndef ISIM_BUF_H
#define ISIM_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "isim/error.h"

/* A growing text buffer; a failed allocation (or a format that cannot be
 * converted) sets oom and later appends do nothing, so callers check once
 * at the end. A zeroed struct is an empty buffer. */
struct isim_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void isim_buf_puts(struct isim_buf *b, const char *s);
void isim_buf_putn(struct isim_buf *b, const char *s, size_t n);
void isim_buf_printf(struct isim_buf *b, const char *fmt, ...) ISIM_PRINTF(2, 3);
/* The text (never NULL unless oom), ownership passed to the caller. */
char *isim_buf_take(struct isim_buf *b);
void isim_buf_free(struct isim_buf *b);

#endif
