/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SCHEMA_H
#define ISIM_SCHEMA_H

#include <cjson/cJSON.h>

#include "isim/error.h"

/* How deep subschemas may nest in a schema document, and how many schemas
 * one validation may be inside of at once (each $ref counts). Past either,
 * the schema is refused (ISIM_ERR_CONFIG) rather than the stack risked. */
#define ISIM_SCHEMA_MAX_DEPTH 128

/* Validate instance against a JSON Schema (draft 2020-12, the keywords
 * listed in isim-formats(5)). 0 when valid. When not, -1 with err->kind
 * ISIM_ERR_DATA, err->pointer the RFC 6901 pointer of the failing value
 * and err->msg naming the keyword and what was expected, e.g.
 * "maximum: 70000 is greater than 65535". A schema that cannot be used
 * (bad $ref, bad regex, wrong keyword type) is ISIM_ERR_CONFIG, its message
 * starting "schema #/json/pointer/in/the/schema: ". On success err is left
 * as it was. */
int isim_schema_validate(const cJSON *schema, const cJSON *instance, struct isim_error *err) ISIM_MUST_CHECK;

/* A schema checked once and kept ready for many instances: its $ref and
 * $dynamicRef resolved, its patterns compiled. The cJSON tree must outlive
 * it and is never modified. Not to be used by two threads at once. */
struct isim_schema;

/* 0 and *out set, or -1 with err set (ISIM_ERR_CONFIG for a schema that
 * cannot be used, ISIM_ERR_INTERNAL when out of memory). */
int isim_schema_compile(const cJSON *schema, struct isim_schema **out, struct isim_error *err) ISIM_MUST_CHECK;
/* As isim_schema_validate, with a compiled schema. */
int isim_schema_check(const struct isim_schema *schema, const cJSON *instance, struct isim_error *err) ISIM_MUST_CHECK;
void isim_schema_free(struct isim_schema *schema);

#endif
