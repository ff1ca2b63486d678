/* SPDX-License-Identifier: MIT */
/* WebAuthn attestation objects from untrusted input: CBOR the checker
 * passes loads with libcbor and serializes back to the same bytes (the
 * encoding is deterministic, so there is one); a whole registration with the
 * input as its attestation object must not crash, and since no input can
 * sign a fixed clientDataJSON for a key it does not hold, a packed or
 * fido-u2f statement never verifies. */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "isim/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char client_data[] = "{\"type\":\"webauthn.create\",\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAA\","
				  "\"origin\":\"https://example.org\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t challenge[16];
	static const char *const origins[] = { "https://example.org" };
	struct isim_wa_status st;
	struct isim_wa_att_obj ao;
	struct isim_wa_registration r = { 0 };
	struct isim_wa_expect e = {
		.challenge = challenge,
		.challenge_len = sizeof(challenge),
		.origins = origins,
		.norigins = 1,
		.rp_id = "example.org",
		.up_optional = true,
	};
	struct isim_wa_reg_result res;
	struct cbor_load_result lr;
	cbor_item_t *item;
	unsigned char *back = NULL;
	size_t n = 0, cap = 0, len;

	if (isim_wa_cbor_check(data, size, &n, &st)) {
		if (n == 0 || n > size)
			abort();
		item = cbor_load(data, n, &lr);
		if (!item || lr.read != n)
			abort();
		len = cbor_serialize_alloc(item, &back, &cap);
		if (len != n || memcmp(back, data, n))
			abort();
		free(back);
		cbor_decref(&item);
	} else if (st.reason != ISIM_WA_MALFORMED || !st.msg[0]) {
		abort();
	}
	if (isim_wa_att_obj_parse(data, size, &ao, &st))
		isim_wa_att_obj_free(&ao);
	else if (!st.msg[0])
		abort();
	r.att_obj = (uint8_t *)data;
	r.att_obj_len = size;
	r.client_data = (uint8_t *)client_data;
	r.client_data_len = sizeof(client_data) - 1;
	if (isim_wa_att_obj_parse(data, size, &ao, &st)) {
		struct isim_wa_auth_data ad;

		if (isim_wa_auth_data_parse(ao.auth_data, ao.auth_data_len, &ad, &st) && ad.cred_id) {
			r.raw_id = (uint8_t *)ad.cred_id;
			r.raw_id_len = ad.cred_id_len;
			if (isim_wa_verify_registration(&r, &e, &res, &st)) {
				if (strcmp(res.fmt, "none"))
					abort();
				isim_wa_reg_result_free(&res);
			}
		}
		isim_wa_att_obj_free(&ao);
	}
	return 0;
}
