/* SPDX-License-Identifier: MIT */
/* Appliance manifests from untrusted input (an archive's manifest.json):
 * parse, check against the schema and the member rules; nothing may crash
 * or leak, and what is accepted lists only safe, unique paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/appliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_appliance_manifest m;
	struct isim_error err;
	size_t i, j;

	isim_error_clear(&err);
	if (isim_appliance_manifest_parse((const char *)data, size, "fuzz", &m, &err) < 0)
		return 0;
	for (i = 0; i < m.n; i++) {
		if (!isim_appliance_path_ok(m.members[i].path) || strlen(m.members[i].sha256) != 64)
			abort();
		for (j = 0; j < i; j++)
			if (!strcmp(m.members[i].path, m.members[j].path))
				abort();
	}
	isim_appliance_manifest_free(&m);
	return 0;
}
