/* SPDX-License-Identifier: MIT */
/* The baseline of the descriptor stream benchmark: the bare Ed25519
 * verifications a stream of signed descriptors contains, and nothing else.
 *
 *   ed25519_verify prepare SIGNED.jsonl KEY.pub OUT.bin
 *       writes, for each descriptor, the bytes its attestation signs (the
 *       canonical form without the attestation) and its signature
 *   ed25519_verify verify OUT.bin
 *       verifies them all; exit 1 if any does not verify */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/descriptor.h"
#include "isim/json.h"
#include "isim/minisign.h"

static int die(const char *what, const struct isim_error *err)
{
	char buf[2400];

	if (err) {
		isim_error_format(err, buf, sizeof(buf));
		fprintf(stderr, "ed25519_verify: %s: %s\n", what, buf);
	} else {
		fprintf(stderr, "ed25519_verify: %s\n", what);
	}
	return 1;
}

static int prepare(const char *in, const char *pub, const char *out)
{
	struct isim_ms_pubkey pk;
	struct isim_error err;
	struct isim_jsonl rd;
	FILE *f = fopen(in, "r"), *o = fopen(out, "wb");
	cJSON *doc;
	int got;

	isim_error_clear(&err);
	if (!f || !o)
		return die("cannot open input or output", NULL);
	if (isim_ms_pubkey_load(pub, &pk, &err) < 0)
		return die(pub, &err);
	fwrite(pk.pk, 1, sizeof(pk.pk), o);
	isim_jsonl_init(&rd, f, in);
	while ((got = isim_jsonl_next(&rd, &doc, &err)) > 0) {
		const cJSON *att = cJSON_GetObjectItemCaseSensitive(doc, "attestation");
		const cJSON *sig64 = cJSON_GetObjectItemCaseSensitive(att, "signature");
		struct isim_buf payload = { 0 };
		uint8_t sig[crypto_sign_BYTES];
		size_t siglen;
		uint32_t n;

		if (!cJSON_IsString(sig64) ||
		    sodium_base642bin(sig, sizeof(sig), sig64->valuestring, strlen(sig64->valuestring), NULL, &siglen,
				      NULL, sodium_base64_VARIANT_ORIGINAL) < 0 ||
		    siglen != sizeof(sig))
			return die("a descriptor without a valid attestation", NULL);
		if (isim_descriptor_payload(doc, &payload, &err) < 0)
			return die(in, &err);
		n = (uint32_t)payload.len;
		fwrite(&n, sizeof(n), 1, o);
		fwrite(payload.s, 1, payload.len, o);
		fwrite(sig, 1, sizeof(sig), o);
		isim_buf_free(&payload);
		cJSON_Delete(doc);
	}
	isim_jsonl_free(&rd);
	fclose(f);
	if (got < 0)
		return die(in, &err);
	return fclose(o) == 0 ? 0 : die("cannot write output", NULL);
}

static int verify(const char *in)
{
	static uint8_t msg[1 << 16];
	uint8_t pk[32], sig[crypto_sign_BYTES];
	FILE *f = fopen(in, "rb");
	uint32_t n;
	long count = 0, bad = 0;

	if (!f || fread(pk, 1, sizeof(pk), f) != sizeof(pk))
		return die("cannot read the prepared file", NULL);
	while (fread(&n, sizeof(n), 1, f) == 1) {
		if (n > sizeof(msg) || fread(msg, 1, n, f) != n || fread(sig, 1, sizeof(sig), f) != sizeof(sig))
			return die("truncated prepared file", NULL);
		if (crypto_sign_verify_detached(sig, msg, n, pk) != 0)
			bad++;
		count++;
	}
	fclose(f);
	if (bad)
		fprintf(stderr, "ed25519_verify: %ld of %ld do not verify\n", bad, count);
	return bad ? 1 : 0;
}

int main(int argc, char *argv[])
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 5 && !strcmp(argv[1], "prepare"))
		return prepare(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "verify"))
		return verify(argv[2]);
	fprintf(stderr, "usage: ed25519_verify prepare SIGNED.jsonl KEY.pub OUT.bin | verify OUT.bin\n");
	return 64;
}
