/* SPDX-License-Identifier: MIT */
#ifndef ISIM_HTTP_H
#define ISIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* The parts of an HTTP request a CGI program reads from its environment
 * (RFC 3875): cookies and the query string. Pure parsers of untrusted
 * text; nothing here allocates. */

/* The value of the cookie name in a Cookie header (RFC 6265 §5.4: pairs
 * separated by "; "), copied into out with its NUL: true; false when
 * there is none, or when its value does not fit in size. */
bool isim_http_cookie(const char *header, const char *name, char *out, size_t size);

/* The value of name in a query string (application/x-www-form-urlencoded:
 * '&'-separated, '+' a space, %XX a byte), decoded into buf with its NUL,
 * or NULL when it is not there, is malformed (a bad %-escape, a NUL byte)
 * or does not fit. */
const char *isim_http_query(const char *query, const char *name, char *buf, size_t size);

#endif
