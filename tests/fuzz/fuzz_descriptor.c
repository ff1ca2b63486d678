/* SPDX-License-Identifier: MIT */
/* Node descriptors from untrusted input, as isim-verify reads them: strict
 * I-JSON parsing, then attestation checks under a fixed signer. Nothing may
 * crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "isim/descriptor.h"
#include "isim/jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const uint8_t id[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		  struct isim_error *err)
{
	(void)ctx;
	if (id[0] != 0x71)
		return isim_error_set(err, ISIM_ERR_REFUSED, "unknown signer");
	memset(pk, 0x42, 32);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_verdict v;
	struct isim_error err;
	cJSON *d;

	isim_error_clear(&err);
	if (isim_json_parse((const char *)data, size, "fuzz", &d, &err) < 0)
		return 0;
	(void)!isim_descriptor_verify(NULL, d, 1767225600, lookup, NULL, &v, &err);
	cJSON_Delete(d);
	return 0;
}
