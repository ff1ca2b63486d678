/* SPDX-License-Identifier: MIT */
/* minisign public and secret keys from untrusted input: each parse either
 * fails or yields a key that formats and parses back to itself. Encrypted
 * keys are not unlocked (scrypt would only measure the fuzzer's patience). */
#include <stdlib.h>
#include <string.h>

#include "isim/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void public_key(const char *text, size_t size)
{
	struct isim_ms_pubkey pk, back;
	struct isim_error err;
	char buf[ISIM_MS_COMMENT_MAX + 128], line[ISIM_MS_PUBKEY_B64];
	int n;

	isim_error_clear(&err);
	if (isim_ms_pubkey_parse(text, size, "fuzz", &pk, &err) < 0) {
		if (!err.kind || !err.msg[0])
			abort();
		return;
	}
	n = isim_ms_pubkey_format(&pk, buf, sizeof(buf));
	if (n < 0 || isim_ms_pubkey_parse(buf, (size_t)n, "again", &back, &err) < 0 ||
	    memcmp(&pk, &back, sizeof(pk)) != 0)
		abort();
	isim_ms_pubkey_base64(&pk, line);
	if (isim_ms_pubkey_parse_base64(line, "line", &back, &err) < 0 || memcmp(back.pk, pk.pk, sizeof(pk.pk)))
		abort();
}

static void secret_key(const char *text, size_t size)
{
	struct isim_ms_seckey *sk = NULL, *back = NULL;
	struct isim_error err;
	char *again = NULL;
	size_t len;

	isim_error_clear(&err);
	if (isim_ms_seckey_parse(text, size, "fuzz", &sk, &err) < 0) {
		if (!err.kind || !err.msg[0] || sk)
			abort();
		return;
	}
	if (!sk->locked) {
		if (isim_ms_seckey_format(sk, NULL, 0, 0, 0, &again, &len, &err) < 0 ||
		    isim_ms_seckey_parse(again, len, "again", &back, &err) < 0 ||
		    memcmp(back->sk, sk->sk, sizeof(sk->sk)) != 0 || memcmp(back->keyid, sk->keyid, 8) != 0)
			abort();
		sodium_free(again);
		isim_ms_seckey_free(back);
	}
	isim_ms_seckey_free(sk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	public_key((const char *)data, size);
	secret_key((const char *)data, size);
	return 0;
}
