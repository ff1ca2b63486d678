/* SPDX-License-Identifier: MIT */
#ifndef ISIM_JCS_H
#define ISIM_JCS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "isim/buf.h"
#include "isim/error.h"
#include "isim/json.h"

/*
 * RFC 8785 JSON Canonicalization Scheme, the byte form that signatures over
 * JSON documents cover.
 *
 * Input is read with the strict reader of json.h and refused, never
 * normalised, where it is not I-JSON. Excess precision is rounded (RFC 8785
 * section 3.2.2 reads 333333333.33333329 as 333333333.3333333), and
 * noncharacters such as U+FFFF are kept, as the reference implementation
 * does. Errors are as json.h describes them.
 */

/* Arrays and objects nest at most this deep; the outermost is level 1. */
#define ISIM_JCS_MAX_DEPTH ISIM_JSON_MAX_DEPTH

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
/* The same of an object without its first member called name (a signed
 * document without its signature), as if that member were deleted. */
int isim_jcs_from_cjson_without(const cJSON *v, const char *name, struct isim_buf *out,
				struct isim_error *err) ISIM_MUST_CHECK;

#endif
