/* SPDX-License-Identifier: MIT */
#ifndef ISIM_JSON_H
#define ISIM_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "isim/error.h"

/* Parse one JSON document strictly, as I-JSON (RFC 7493) with the checks
 * isim_jcs_parse lists: no trailing garbage, no duplicate object keys
 * (RFC 8259 section 4 leaves them undefined; we refuse them), no invalid
 * UTF-8, no number beyond a double. On error, err names path, line and
 * column (ISIM_ERR_DATA). name is used in messages only. */
int isim_json_parse(const char *text, size_t len, const char *name, cJSON **out,
		    struct isim_error *err) ISIM_MUST_CHECK;
int isim_json_load_file(const char *path, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* A JSON Lines reader (jsonlines.org): one JSON value on each line, parsed
 * as isim_json_parse does. A line ends at '\n' (a '\r' before it is white
 * space); the last one may lack it. Empty lines, and lines longer than
 * ISIM_JSONL_MAX bytes, are errors. After an error the next call reads on
 * from the following line, so a caller may skip bad records. */
#define ISIM_JSONL_MAX (1u << 20)

struct isim_jsonl {
	FILE *f;
	const char *name; /* used in messages; the caller keeps it */
	int line;	  /* of the record last read */
	char *buf;
	size_t cap;
};

void isim_jsonl_init(struct isim_jsonl *r, FILE *f, const char *name);
/* 1 with the next record in *out, 0 at the end of input, -1 with err naming
 * name:line:column. */
int isim_jsonl_next(struct isim_jsonl *r, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_jsonl_free(struct isim_jsonl *r);

/* Output keeps every number exact: each is written in the shortest form
 * that reads back to the same double (as ECMAScript and RFC 8785 write
 * numbers), where cJSON alone would round to 15 digits.
 *
 * Write doc to f as one indented document ending in a newline. */
int isim_json_write(FILE *f, const cJSON *doc) ISIM_MUST_CHECK;
/* Write doc to f as one JSON Lines record and flush it. */
int isim_json_write_line(FILE *f, const cJSON *doc) ISIM_MUST_CHECK;
/* Indented text of doc ending in a newline; free() it. NULL on no memory. */
char *isim_json_text(const cJSON *doc);

/* Append one RFC 6901 reference token (escaping '~' and '/') to the pointer
 * in buf. Returns false, buf unchanged, if it would not fit. */
bool isim_json_pointer_push(char *buf, size_t size, const char *token);
bool isim_json_pointer_push_index(char *buf, size_t size, int index);
/* The value at pointer in doc, or NULL. */
cJSON *isim_json_pointer_get(cJSON *doc, const char *pointer);

/* True when the number is integral and exactly representable. */
bool isim_json_is_integer(const cJSON *item);

#endif
