/* SPDX-License-Identifier: MIT */
/* DSSE envelopes from untrusted input: parse, and verify every signature
 * under a fixed key; nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "isim/dsse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[32] = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7 };
	struct isim_dsse env;
	struct isim_error err;
	size_t i;

	isim_error_clear(&err);
	if (isim_dsse_parse((const char *)data, size, "fuzz", &env, &err) < 0)
		return 0;
	for (i = 0; i < env.nsigs; i++)
		(void)!isim_dsse_verify(&env, i, pk);
	isim_dsse_free(&env);
	return 0;
}
