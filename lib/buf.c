/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/buf.h"

/* Room for extra more bytes and the NUL. No object may be larger than
 * PTRDIFF_MAX, so a size beyond it is refused before any arithmetic can
 * wrap. */
static bool reserve(struct isim_buf *b, size_t extra)
{
	size_t need, ncap;
	char *n;

	if (b->oom)
		return false;
	if (extra > (size_t)PTRDIFF_MAX - 1 - b->len) {
		b->oom = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > (size_t)PTRDIFF_MAX / 2 ? need : ncap * 2;
	n = realloc(b->s, ncap);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->s = n;
	b->cap = ncap;
	return true;
}

void isim_buf_putn(struct isim_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void isim_buf_puts(struct isim_buf *b, const char *s)
{
	isim_buf_putn(b, s, strlen(s));
}

void isim_buf_printf(struct isim_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		b->oom = true;
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *isim_buf_take(struct isim_buf *b)
{
	char *s;

	if (b->oom) {
		isim_buf_free(b);
		return NULL;
	}
	if (!b->s)
		reserve(b, 0);
	s = b->s;
	if (s)
		s[b->len] = '\0';
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void isim_buf_free(struct isim_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
