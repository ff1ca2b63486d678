/* SPDX-License-Identifier: MIT */
#ifndef ISIM_JSON_H
#define ISIM_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "isim/buf.h"
#include "isim/error.h"

/*
 * The strict reader. Input is read as I-JSON (RFC 7493) and refused, never
 * normalised, when it is not: duplicate member names (compared after
 * unescaping; RFC 8259 section 4 leaves them undefined), invalid UTF-8
 * (overlong forms, encoded surrogates, code points above U+10FFFF,
 * truncated sequences), lone surrogate escapes, numbers that overflow an
 * IEEE-754 double or that are non-zero yet round to zero, unescaped control
 * characters in strings, a byte order mark, anything after the value, and
 * arrays and objects nested more than ISIM_JSON_MAX_DEPTH deep. Excess
 * precision is rounded, as strtod rounds.
 *
 * Errors carry ISIM_ERR_DATA (ISIM_ERR_INTERNAL when out of memory), the
 * name given by the caller as path, the 1-based line and column of the
 * offending byte (columns count bytes), and the RFC 6901 pointer of the
 * value the fault is in ("" for the outermost one; a duplicate name points
 * at its member). name is used in messages only and may be NULL. text need
 * not be NUL-terminated.
 */

/* Arrays and objects nest at most this deep; the outermost is level 1. */
#define ISIM_JSON_MAX_DEPTH 256

/* Parse text[0..len) into a cJSON tree, members in document order; free it
 * with cJSON_Delete. A string or member name holding U+0000 is refused too,
 * as cJSON cannot hold it. */
int isim_json_parse(const char *text, size_t len, const char *name, cJSON **out,
		    struct isim_error *err) ISIM_MUST_CHECK;
/* isim_json_parse of a whole file, "-" being stdin. */
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

/* Every JSON writer of the tools goes through isim_json_print, which keeps
 * each number exact (written in the shortest form that reads back to the
 * same double, as ECMAScript and RFC 8785 write numbers, where cJSON alone
 * would round to 15 digits) and whose output is always UTF-8 (RFC 8259
 * section 8.1): in a member name or string that is not, each ill-formed
 * subpart is written as U+FFFD (isim_utf8_repair), so that a file name or a
 * comment taken from input is shown rather than refused. Two names that
 * differ only in their ill-formed bytes then print alike. Canonical JSON,
 * which a signature covers, refuses such strings instead (jcs.h).
 *
 * The text of doc, indented or on one line, without a newline; free() it.
 * NULL on no memory. */
char *isim_json_print(const cJSON *doc, bool formatted);
/* Write doc to f as one indented document ending in a newline. */
int isim_json_write(FILE *f, const cJSON *doc) ISIM_MUST_CHECK;
/* Write doc to f as one JSON Lines record and flush it. */
int isim_json_write_line(FILE *f, const cJSON *doc) ISIM_MUST_CHECK;
/* Indented text of doc ending in a newline; free() it. NULL on no memory. */
char *isim_json_text(const cJSON *doc);

/* A parsed document that keeps what cJSON cannot: strings with their
 * exact length, which may hold U+0000. The canonical serialiser (jcs.h)
 * works on it. off is where a value or member name starts in the text. */
enum isim_jv_type {
	ISIM_JV_NULL,
	ISIM_JV_FALSE,
	ISIM_JV_TRUE,
	ISIM_JV_NUMBER,
	ISIM_JV_STRING,
	ISIM_JV_ARRAY,
	ISIM_JV_OBJECT
};

struct isim_jmember;

struct isim_jv {
	enum isim_jv_type type;
	size_t off;
	union {
		double num;
		struct {
			char *s; /* NUL-terminated after len bytes */
			size_t len;
		} str;
		struct {
			struct isim_jv *v;
			size_t n, cap;
		} arr;
		struct {
			struct isim_jmember *m;	      /* in document order */
			struct isim_jmember **sorted; /* NULL, or an order its user chose */
			size_t n, cap;
		} obj;
	} u;
};

struct isim_jmember {
	char *name;
	size_t len;
	size_t off;
	struct isim_jv val;
};

/* Parse text[0..len) as isim_json_parse does, U+0000 in strings allowed,
 * into *root; release it with isim_jv_free. */
int isim_json_parse_tree(const char *text, size_t len, const char *name, struct isim_jv *root,
			 struct isim_error *err) ISIM_MUST_CHECK;
/* Free what v holds (v itself is the caller's) and zero it. */
void isim_jv_free(struct isim_jv *v);

/* Append s[0..n) to b as a JSON string literal with the fewest escapes
 * (RFC 8785 section 3.2.2.2): '"', '\\' and the controls, those that have
 * one by their short form, the rest as \u00xx. Bytes are copied as they
 * are, so s must be UTF-8 for the result to be. */
void isim_json_quote(struct isim_buf *b, const char *s, size_t n);
/* s[0..n) quoted as isim_json_quote does, for a message: cut on a character
 * boundary after at most max bytes and "..." added when cut, into dst
 * (size bytes, always NUL-terminated). */
void isim_json_quote_message(char *dst, size_t size, const char *s, size_t n, size_t max);

/* Append one RFC 6901 reference token (escaping '~' and '/') to the pointer
 * in buf. Returns false, buf unchanged, if it would not fit. */
bool isim_json_pointer_push(char *buf, size_t size, const char *token);
bool isim_json_pointer_push_index(char *buf, size_t size, int index);
/* The value at pointer in doc, or NULL when there is none or the pointer
 * is not well-formed (a '~' not followed by '0' or '1', an array index
 * with a leading zero or a sign). */
cJSON *isim_json_pointer_get(const cJSON *doc, const char *pointer);

/* True when the number is integral and exactly representable. */
bool isim_json_is_integer(const cJSON *item);

#endif
