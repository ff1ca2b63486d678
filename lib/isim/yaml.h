/* SPDX-License-Identifier: MIT */
#ifndef ISIM_YAML_H
#define ISIM_YAML_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "isim/error.h"

/* Limits that keep hostile YAML bounded: the node count and the bytes of
 * text (scalars, keys, pointers) after alias expansion ("billion laughs",
 * also with long scalars), and the nesting depth. */
#define ISIM_YAML_MAX_NODES 200000
#define ISIM_YAML_MAX_BYTES (64u << 20)
#define ISIM_YAML_MAX_DEPTH 64

struct isim_yaml_pos;

/* A YAML document converted to JSON, remembering where each value was. */
struct isim_doc {
	cJSON *root;
	char *path;
	struct isim_yaml_pos *pos;
	size_t npos, cap;
};

/* Parse one YAML document with the YAML 1.2 core schema: plain scalars
 * resolve to null, booleans, integers and floats; quoted ones, and those
 * tagged !!str or "!", are strings; a scalar tagged !!null, !!bool, !!int
 * or !!float must resolve to that type. Keys are always strings.
 * Refused: duplicate keys (the message gives both places), non-scalar keys,
 * merge keys, other tags, aliases to no earlier anchor or to the node they
 * are in, several documents, .inf/.nan, integers beyond 2^53 and decimal
 * integers with a leading zero (octal in YAML 1.1, decimal in 1.2:
 * ambiguous), and anything past the limits above. Empty text is null. */
int isim_yaml_parse(const char *text, size_t len, const char *name, struct isim_doc **out,
		    struct isim_error *err) ISIM_MUST_CHECK;
int isim_yaml_load_file(const char *path, struct isim_doc **out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_doc_free(struct isim_doc *doc);

/* Line and column of the value at pointer, or of its nearest ancestor that
 * has one. False when nothing is known. */
bool isim_doc_locate(const struct isim_doc *doc, const char *pointer, int *line, int *column);
/* Set err's path, line and column from the pointer err already carries. */
void isim_doc_locate_error(const struct isim_doc *doc, struct isim_error *err);

#endif
