/* SPDX-License-Identifier: MIT */
/* isim-memdump's attestation records from untrusted input, as verify reads
 * them: strict I-JSON, the schema, the record's digest and dump fields,
 * then its signature under a fixed signer. Nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/memrecord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct isim_memrecord_schema schema;
static struct isim_trust trust;
static struct isim_trust_key key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char digest[ISIM_SHA256_HEX], sha[ISIM_SHA256_HEX];
	struct isim_verdict v;
	struct isim_error err;
	uint64_t n;
	cJSON *rec;

	isim_error_clear(&err);
	if (!schema.schema) {
		if (isim_memrecord_schema_load(&schema, &err) < 0)
			abort();
		/* One trusted key, id 71..., whose signatures never verify. */
		memset(key.pk.keyid, 0x71, sizeof(key.pk.keyid));
		memset(key.pk.pk, 0x42, sizeof(key.pk.pk));
		trust.keys = &key;
		trust.nkeys = 1;
	}
	if (isim_memrecord_parse(&schema, (const char *)data, size, "fuzz", &rec, &err) < 0)
		return 0;
	(void)!isim_memrecord_digest(rec, digest, &err);
	(void)!isim_memrecord_dump(rec, &n, sha, &err);
	(void)!isim_memrecord_verify(rec, &trust, &v, &err);
	cJSON_Delete(rec);
	return 0;
}
