/* SPDX-License-Identifier: MIT */
#ifndef ISIM_JCS_H
#define ISIM_JCS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "isim/buf.h"
#include "isim/error.h"

/*
 * RFC 8785 JSON Canonicalization Scheme, the byte form that signatures over
 * JSON documents cover.
 *
 * Input is read as I-JSON (RFC 7493) and refused, never normalised, when it
 * is not: duplicate member names (compared after unescaping), invalid UTF-8
 * (overlong forms, encoded surrogates, code points above U+10FFFF, truncated
 * sequences), lone surrogate escapes, numbers that overflow an IEEE-754
 * double or that are non-zero yet round to zero, unescaped control
 * characters in strings, a byte order mark, anything after the value, and
 * arrays and objects nested more than ISIM_JCS_MAX_DEPTH deep.
 *
 * Excess precision is rounded (RFC 8785 section 3.2.2 reads
 * 333333333.33333329 as 333333333.3333333), and noncharacters such as
 * U+FFFF are kept, as the reference implementation does.
 *
 * Errors carry ISIM_ERR_DATA (ISIM_ERR_INTERNAL when out of memory),
 * the name given by the caller as path, and the 1-based line and column of
 * the offending byte; columns count bytes.
 */

/* Arrays and objects nest at most this deep; the outermost is level 1. */
#define ISIM_JCS_MAX_DEPTH 256

/* Longest text isim_jcs_format_number writes, its NUL included. */
#define ISIM_JCS_NUMBER_MAX 32

/* Append the canonical form of the JSON text in[0..len) to out (no trailing
 * newline). in need not be NUL-terminated. name is used in errors only and
 * may be NULL. On error out is left as it was. */
int isim_jcs_canonicalize(const char *in, size_t len, const char *name, struct isim_buf *out,
			  struct isim_error *err) ISIM_MUST_CHECK;

/* Append the canonical form of a tree built in memory. Refused, with the
 * JSON pointer of the value in err: non-finite numbers, strings or member
 * names that are not UTF-8, duplicate member names, raw or invalid items,
 * nesting beyond ISIM_JCS_MAX_DEPTH. On error out is left as it was. */
int isim_jcs_from_cjson(const cJSON *v, struct isim_buf *out, struct isim_error *err) ISIM_MUST_CHECK;

/* Parse in[0..len) with the same checks as isim_jcs_canonicalize into a
 * cJSON tree, members in document order; free it with cJSON_Delete. A
 * string or member name holding U+0000 is refused too, as cJSON cannot hold
 * it. NULL on error. */
cJSON *isim_jcs_parse(const char *in, size_t len, const char *name, struct isim_error *err) ISIM_MUST_CHECK;

/* Write v as ECMAScript's Number.prototype.toString does (RFC 8785 section
 * 3.2.2.3) into buf, which holds ISIM_JCS_NUMBER_MAX bytes. Returns the
 * length, or -1 when v is NaN or infinite. */
int isim_jcs_format_number(double v, char buf[static ISIM_JCS_NUMBER_MAX]);

#endif
