/* SPDX-License-Identifier: MIT */
/* JSON Schema validation of untrusted schemas and instances: the input is
 * a schema, a NUL or a newline, then an instance. Whatever the schema says,
 * validation must end, without crashing or leaking, in one of the three
 * documented outcomes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = data;
	struct isim_error err;
	cJSON *schema, *inst;
	size_t n;
	int r;

	while (cut < data + size && *cut != '\0' && *cut != '\n')
		cut++;
	n = (size_t)(cut - data);
	schema = cJSON_ParseWithLength((const char *)data, n);
	inst = cut < data + size ? cJSON_ParseWithLength((const char *)cut + 1, size - n - 1) : NULL;
	if (schema && inst) {
		isim_error_clear(&err);
		r = isim_schema_validate(schema, inst, &err);
		if (r != 0 && err.kind != ISIM_ERR_DATA && err.kind != ISIM_ERR_CONFIG)
			abort();
		if (r == 0 && err.kind != 0)
			abort();
	}
	cJSON_Delete(schema);
	cJSON_Delete(inst);
	return 0;
}
