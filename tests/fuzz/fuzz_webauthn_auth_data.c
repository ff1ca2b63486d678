/* SPDX-License-Identifier: MIT */
/* Authenticator data from untrusted input: a parse either fails with a
 * reason or accounts for every byte (header, attested credential data,
 * extensions); the COSE key it finds parses or is refused, never crashes. */
#include <stdlib.h>

#include "isim/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_wa_auth_data ad;
	struct isim_wa_status st;
	struct isim_wa_key k;
	size_t sum;

	if (!isim_wa_auth_data_parse(data, size, &ad, &st)) {
		if (st.reason != ISIM_WA_MALFORMED || !st.msg[0])
			abort();
		return 0;
	}
	sum = 37 + (ad.cred_id ? 18 + ad.cred_id_len + ad.cose_key_len : 0) + ad.extensions_len;
	if (sum != size || !!ad.cred_id != !!(ad.flags & ISIM_WA_FLAG_AT) ||
	    !!ad.extensions != !!(ad.flags & ISIM_WA_FLAG_ED))
		abort();
	if (ad.cose_key && isim_wa_cose_key_parse(ad.cose_key, ad.cose_key_len, &k, &st))
		isim_wa_key_free(&k);
	return 0;
}
