/* SPDX-License-Identifier: MIT */
/* minisign signature files from untrusted input: a parse either fails with
 * a message or yields a signature that formats and parses back to itself;
 * verifying it under a fixed key must not crash (and cannot succeed). */
#include <stdlib.h>
#include <string.h>

#include "isim/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct isim_ms_sig sig, back;
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char *text;
	size_t len;

	isim_error_clear(&err);
	if (isim_ms_sig_parse((const char *)data, size, "fuzz", &sig, &err) < 0) {
		if (!err.kind || !err.msg[0])
			abort();
		return 0;
	}
	text = isim_ms_sig_format(&sig, &len);
	if (!text || isim_ms_sig_parse(text, len, "again", &back, &err) < 0 || memcmp(&sig, &back, sizeof(sig)))
		abort();
	free(text);
	/* The golden public key; a fuzzed signature by it would be a forgery. */
	if (isim_ms_pubkey_parse_base64("RWQBI0VniavN71ZG+BqbI1Mk+pSI20UHtSO8SPvmYSipvSALdAeYVKNz", "pk", &pk, &err) <
	    0)
		abort();
	memcpy(pk.keyid, sig.keyid, sizeof(pk.keyid));
	if (isim_ms_verify_data(&pk, &sig, data, size, &err) == 0)
		abort();
	return 0;
}
