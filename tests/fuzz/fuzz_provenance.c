/* SPDX-License-Identifier: MIT */
/* Provenance statements from untrusted input: parse and match against a
 * fixed digest; nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "isim/json.h"
#include "isim/provenance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t digest[ISIM_SHA256_BYTES] = { 0x51, 0x0b, 0x12, 0x6e };
	struct isim_verdict v;
	struct isim_error err;
	cJSON *stmt = NULL;

	isim_error_clear(&err);
	if (isim_json_parse((const char *)data, size, "fuzz", &stmt, &err) < 0)
		return 0;
	(void)!isim_provenance_match(stmt, digest, &v, &err);
	cJSON_Delete(stmt);
	return 0;
}
