/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SCHEMAS_H
#define ISIM_SCHEMAS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "isim/error.h"

/* The JSON Schemas of schemas/, built into every program (the makefile
 * generates the table from the folder), so that a program validates with
 * the schemas it was built with wherever it runs. */
struct isim_schema_file {
	const char *name; /* "feature.schema.json" */
	const unsigned char *text;
	size_t len;
};

/* Ends with a row whose name is NULL. */
extern const struct isim_schema_file isim_schema_files[];

/* The built-in schemas/NAME, or NULL when there is none. */
const struct isim_schema_file *isim_schema_builtin(const char *name);

/* The schema NAME parsed: from dir/NAME when dir is given, else the built-in
 * one. A schema file that is missing is ISIM_ERR_NOINPUT; one that does not
 * parse, ISIM_ERR_CONFIG. */
int isim_schema_load(const char *dir, const char *name, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

#endif
