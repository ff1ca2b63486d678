/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "isim/error.h"
#include "isim/utf8.h"

void isim_error_clear(struct isim_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int isim_error_setv(struct isim_error *err, enum isim_err kind, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->kind = kind ? kind : ISIM_ERR_INTERNAL;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int isim_error_set(struct isim_error *err, enum isim_err kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	isim_error_setv(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int isim_error_errno(struct isim_error *err, enum isim_err kind, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	isim_error_setv(err, kind, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

void isim_error_at(struct isim_error *err, const char *path, int line, int column)
{
	if (!err)
		return;
	if (path)
		snprintf(err->path, sizeof(err->path), "%s", path);
	err->line = line;
	err->column = column;
}

void isim_error_pointer(struct isim_error *err, const char *pointer)
{
	if (err)
		snprintf(err->pointer, sizeof(err->pointer), "%s", pointer ? pointer : "");
}

void isim_sanitize(char *dst, size_t size, const char *src)
{
	size_t i = 0, o = 0;

	if (!size)
		return;
	while (src[i] && o + 1 < size) {
		unsigned char c = (unsigned char)src[i];
		uint32_t cp;
		size_t k;

		/* C1 controls (U+0080 to U+009F) in UTF-8: xterm obeys U+009B
		 * as CSI just as it does ESC [. */
		if (c == 0xc2) {
			k = isim_utf8_next(src + i, strnlen(src + i, 2), &cp);
			if (cp >= 0x80 && cp <= 0x9f) {
				dst[o++] = '?';
				i += k;
				continue;
			}
		}
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		i++;
	}
	dst[o] = '\0';
}

void isim_error_format(const struct isim_error *err, char *buf, size_t size)
{
	char raw[2200];
	size_t n = 0;

	raw[0] = '\0';
	if (err->path[0]) {
		n += snprintf(raw + n, sizeof(raw) - n, "%s:", err->path);
		if (err->line > 0 && n < sizeof(raw))
			n += snprintf(raw + n, sizeof(raw) - n, "%d:", err->line);
		if (err->line > 0 && err->column > 0 && n < sizeof(raw))
			n += snprintf(raw + n, sizeof(raw) - n, "%d:", err->column);
		if (n < sizeof(raw))
			n += snprintf(raw + n, sizeof(raw) - n, " ");
	}
	if (err->pointer[0] && n < sizeof(raw))
		n += snprintf(raw + n, sizeof(raw) - n, "%s: ", err->pointer);
	if (n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - n, "%s", err->msg[0] ? err->msg : "unknown error");
	isim_sanitize(buf, size, raw);
}

int isim_error_at_pointer(struct isim_error *err, enum isim_err kind, const char *pointer, const char *fmt, ...)
{
	va_list ap;

	isim_error_pointer(err, pointer);
	va_start(ap, fmt);
	isim_error_setv(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

const char *isim_err_name(enum isim_err kind)
{
	static const char *const names[] = {
		[ISIM_ERR_NONE] = "none",
		[ISIM_ERR_REFUSED] = "refused",
		[ISIM_ERR_USAGE] = "usage",
		[ISIM_ERR_DATA] = "data",
		[ISIM_ERR_NOINPUT] = "noinput",
		[ISIM_ERR_UNAVAILABLE] = "unavailable",
		[ISIM_ERR_INTERNAL] = "internal",
		[ISIM_ERR_CANTCREATE] = "cantcreate",
		[ISIM_ERR_IO] = "io",
		[ISIM_ERR_PERM] = "perm",
		[ISIM_ERR_CONFIG] = "config",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "internal";
}
