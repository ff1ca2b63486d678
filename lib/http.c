/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "isim/http.h"

bool isim_http_cookie(const char *header, const char *name, char *out, size_t size)
{
	const char *p = header;
	size_t nl = strlen(name);

	while (p && *p) {
		const char *end;
		size_t vl;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ";");
		if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			vl = (size_t)(end - p) - nl - 1;
			if (vl >= size)
				return false;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

const char *isim_http_query(const char *query, const char *name, char *buf, size_t size)
{
	const char *p = query;
	size_t nl = strlen(name);

	while (p && *p) {
		const char *end = p + strcspn(p, "&");

		if ((size_t)(end - p) > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			const char *s = p + nl + 1;
			size_t o = 0;

			while (s < end) {
				int ch;

				if (o + 1 >= size)
					return NULL;
				if (*s == '%') {
					if (end - s < 3 || hexval(s[1]) < 0 || hexval(s[2]) < 0)
						return NULL;
					ch = hexval(s[1]) * 16 + hexval(s[2]);
					if (!ch)
						return NULL;
					s += 3;
				} else {
					ch = *s == '+' ? ' ' : *s;
					s++;
				}
				buf[o++] = (char)ch;
			}
			buf[o] = '\0';
			return buf;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}
