/* SPDX-License-Identifier: MIT */
/* DSSE envelopes: the encoding the signature covers, the envelope made by
 * an independent signer, our own round trip, and what is refused. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/dsse.h"
#include "isim/file.h"
#include "testutil.h"

static char vectors[PATH_MAX];

static char *vector(const char *name, size_t *len)
{
	struct isim_error err;
	char path[PATH_MAX + 64], *text = NULL;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/%s", vectors, name);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, len, &err), 0);
	return text;
}

static void hex_key(const char *name, uint8_t out[32])
{
	size_t len, bin;
	char *hex = vector(name, &len);

	assert_int_equal(sodium_hex2bin(out, 32, hex, strcspn(hex, "\n"), NULL, &bin, NULL), 0);
	(void)len;
	assert_int_equal(bin, 32);
	free(hex);
}

static void test_pae(void **state)
{
	struct isim_buf b = { 0 };
	static const char expected[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

	(void)state;
	isim_dsse_pae("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &b);
	assert_false(b.oom);
	assert_int_equal(b.len, strlen(expected));
	assert_memory_equal(b.s, expected, b.len);
	isim_buf_free(&b);
}

/* The envelope of tests/vectors/provenance was made by another signer. */
static void test_independent_envelope(void **state)
{
	struct isim_dsse env;
	struct isim_error err;
	uint8_t pk[32], wrong[32];
	size_t len, slen;
	char *text = vector("image.provenance.dsse.json", &len);
	char *statement = vector("image.provenance.json", &slen);

	(void)state;
	hex_key("dsse-ed25519.pub.hex", pk);
	isim_error_clear(&err);
	assert_int_equal(isim_dsse_parse(text, len, "image.provenance.dsse.json", &env, &err), 0);
	assert_string_equal(env.payload_type, "application/vnd.in-toto+json");
	assert_int_equal(env.nsigs, 1);
	assert_string_equal(env.sigs[0].keyid, "");
	assert_int_equal(env.payload_len, slen);
	assert_memory_equal(env.payload, statement, slen);
	assert_true(isim_dsse_verify(&env, 0, pk));
	memcpy(wrong, pk, 32);
	wrong[0] ^= 1;
	assert_false(isim_dsse_verify(&env, 0, wrong));
	assert_false(isim_dsse_verify(&env, 1, pk));
	isim_dsse_free(&env);
	free(text);

	/* The same envelope with another payloadType must not verify. */
	text = vector("image.provenance.dsse.bad-type.json", &len);
	assert_int_equal(isim_dsse_parse(text, len, "bad-type.json", &env, &err), 0);
	assert_string_not_equal(env.payload_type, "application/vnd.in-toto+json");
	assert_false(isim_dsse_verify(&env, 0, pk));
	isim_dsse_free(&env);
	free(text);
	free(statement);
}

static void test_round_trip(void **state)
{
	uint8_t seed[32], pk[32], sk[64];
	static const char payload[] = "{\"hello\":\"world\"}\n";
	struct isim_dsse env;
	struct isim_error err;
	char *out = NULL, *p;

	(void)state;
	hex_key("dsse-ed25519.seed.hex", seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	isim_error_clear(&err);
	assert_int_equal(isim_dsse_sign("application/json", (const uint8_t *)payload, strlen(payload), sk,
					"2C4EB03A18E90271", &out, &err),
			 0);
	/* Members in the order of the specification. */
	assert_true(strstr(out, "\"payloadType\"") < strstr(out, "\"payload\":"));
	assert_true(strstr(out, "\"payload\":") < strstr(out, "\"signatures\""));
	assert_int_equal(isim_dsse_parse(out, strlen(out), "out", &env, &err), 0);
	assert_string_equal(env.sigs[0].keyid, "2C4EB03A18E90271");
	assert_string_equal((char *)env.payload, payload);
	assert_true(isim_dsse_verify(&env, 0, pk));
	env.payload[3] ^= 0x20;
	assert_false(isim_dsse_verify(&env, 0, pk));
	isim_dsse_free(&env);

	/* A flipped bit in the signature. */
	p = strstr(out, "\"sig\":");
	assert_non_null(p);
	p = strchr(p + 6, '"') + 1;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(isim_dsse_parse(out, strlen(out), "out", &env, &err), 0);
	assert_false(isim_dsse_verify(&env, 0, pk));
	isim_dsse_free(&env);
	free(out);
	sodium_memzero(sk, sizeof(sk));
}

static void test_refused(void **state)
{
	static const struct {
		const char *text, *pointer, *msg;
	} cases[] = {
		{ "[]", "", "expected a DSSE envelope object" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[],\"x\":1}", "",
		  "unknown member 'x' (expected payloadType, payload, signatures)" },
		{ "{\"payload\":\"\",\"signatures\":[]}", "/payloadType", "missing payloadType" },
		{ "{\"payloadType\":\"\",\"payload\":\"\",\"signatures\":[]}", "/payloadType",
		  "expected a non-empty string" },
		{ "{\"payloadType\":\"t\",\"payload\":5,\"signatures\":[]}", "/payload", "expected a base64 string" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[]}", "/signatures",
		  "expected a non-empty list" },
		{ "{\"payloadType\":\"t\",\"payload\":\"a$==\",\"signatures\":[{\"sig\":\"\"}]}", "/payload",
		  "not valid base64 (or larger than 64 MiB)" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":\"AAAA\"}]}", "/signatures/0/sig",
		  "expected the base64 text of a 64-byte Ed25519 signature" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"keyid\":1,\"sig\":\"\"}]}",
		  "/signatures/0/keyid", "expected a string" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"keyid\":\"k\"}]}", "/signatures/0/sig",
		  "missing signature" },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":\"\",\"cert\":\"\"}]}",
		  "/signatures/0", "unknown member 'cert' (expected keyid, sig)" },
	};
	struct isim_dsse env;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		isim_error_clear(&err);
		assert_int_equal(isim_dsse_parse(cases[i].text, strlen(cases[i].text), "env.json", &env, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(err.path, "env.json");
		assert_string_equal(err.pointer, cases[i].pointer);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(env.payload_type);
	}
	/* Malformed JSON is the JSON parser's message, with a position. */
	isim_error_clear(&err);
	assert_int_equal(isim_dsse_parse("{\"payloadType\":", 15, "env.json", &env, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(err.line, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_independent_envelope),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	if (snprintf(vectors, sizeof(vectors), "%s/provenance", tu_vectors()) >= (int)sizeof(vectors))
		return 1;
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
