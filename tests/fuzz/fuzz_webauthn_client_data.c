/* SPDX-License-Identifier: MIT */
/* clientDataJSON from untrusted input: a parse fails with a reason, or
 * yields the members a ceremony reads (type, challenge, origin). */
#include <stdlib.h>

#include "isim/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_wa_client_data cd;
	struct isim_wa_status st;

	if (!isim_wa_client_data_parse(data, size, &cd, &st)) {
		if (!st.reason || !st.msg[0])
			abort();
		return 0;
	}
	if (!cd.type || !cd.origin || (!cd.challenge && cd.challenge_len))
		abort();
	isim_wa_client_data_free(&cd);
	return 0;
}
