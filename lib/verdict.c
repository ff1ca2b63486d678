/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "isim/verdict.h"

void isim_verdict_init(struct isim_verdict *v)
{
	memset(v, 0, sizeof(*v));
}

void isim_verdict_accept(struct isim_verdict *v)
{
	v->ok = true;
	v->reason[0] = '\0';
}

int isim_verdict_refuse(struct isim_verdict *v, const char *pointer, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	v->ok = false;
	if (pointer && *pointer)
		n = snprintf(v->reason, sizeof(v->reason), "%s: ", pointer);
	if (n < 0 || (size_t)n >= sizeof(v->reason))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(v->reason + n, sizeof(v->reason) - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

void isim_verdict_reason_of(const struct isim_error *err, char *buf, size_t size)
{
	if (err->pointer[0])
		snprintf(buf, size, "%s: %s", err->pointer, err->msg);
	else
		snprintf(buf, size, "%s", err->msg);
}

int isim_verdict_refuse_error(struct isim_verdict *v, const struct isim_error *err)
{
	v->ok = false;
	isim_verdict_reason_of(err, v->reason, sizeof(v->reason));
	return 0;
}
