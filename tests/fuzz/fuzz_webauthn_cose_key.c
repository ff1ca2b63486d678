/* SPDX-License-Identifier: MIT */
/* COSE keys from untrusted input: a parse fails with a reason, or yields a
 * key of a supported algorithm under which a fixed signature over a fixed
 * message does not verify (it would be a forgery), as DER SPKI too. */
#include <stdlib.h>

#include "isim/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t msg[] = "a message no fuzzed key has signed";
	static const uint8_t sig[64] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	struct isim_wa_status st;
	struct isim_wa_key k;

	if (isim_wa_cose_key_parse(data, size, &k, &st)) {
		if (!isim_wa_alg_supported(k.alg))
			abort();
		if (isim_wa_key_verify(&k, msg, sizeof(msg), sig, k.alg == ISIM_COSE_EDDSA ? 64 : 8, &st))
			abort();
		isim_wa_key_free(&k);
	} else if (!st.reason || !st.msg[0]) {
		abort();
	}
	if (isim_wa_spki_key_parse(data, size, &k, &st))
		isim_wa_key_free(&k);
	return 0;
}
