/* SPDX-License-Identifier: MIT */
/* The console's request headers from untrusted input: a Cookie header and
 * a query string (the input split at its first NUL). Nothing may crash;
 * what is found fits its buffer and holds no NUL before its end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), out[64], q[32];
	const char *v;
	size_t n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	n = strlen(text);
	if (isim_http_cookie(text, "isim_session", out, sizeof(out)) && strlen(out) >= sizeof(out))
		abort();
	v = isim_http_query(text + (n < size ? n + 1 : n), "format", q, sizeof(q));
	if (v && (v != q || strlen(q) >= sizeof(q)))
		abort();
	free(text);
	return 0;
}
