/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SCHEMA_H
#define ISIM_SCHEMA_H

#include <cjson/cJSON.h>

#include "isim/error.h"

/* Validate instance against a JSON Schema (draft 2020-12, the keywords
 * listed in isim-formats(5)). 0 when valid. When not, -1 with err->code
 * ISIM_EXIT_DATAERR, err->pointer the RFC 6901 pointer of the failing value
 * and err->msg naming the keyword and what was expected, e.g.
 * "maximum: 70000 is greater than 65535". A schema that cannot be used
 * (bad $ref, bad regex, wrong keyword type) is ISIM_EXIT_CONFIG. */
int isim_schema_validate(const cJSON *schema, const cJSON *instance, struct isim_error *err) ISIM_MUST_CHECK;

#endif
