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

	/* A type that is not UTF-8 could not be written as JSON unchanged,
	 * and the signature covers it: refused before signing. */
	out = NULL;
	assert_int_equal(
		isim_dsse_sign("application/\xff", (const uint8_t *)payload, strlen(payload), sk, NULL, &out, &err),
		-1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_string_equal(err.msg, "the payload type is not UTF-8");
	assert_null(out);
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

/* Trusted signers made here: keys 0 and 1 trusted, key 2 a stranger. */
static uint8_t tsk[3][64];
static struct isim_trust_key tkeys[3];

static void make_keys(void)
{
	uint8_t seed[32];
	size_t k;

	for (k = 0; k < 3; k++) {
		memset(seed, (int)(0x30 + k), sizeof(seed));
		crypto_sign_seed_keypair(tkeys[k].pk.pk, tsk[k], seed);
		memset(tkeys[k].pk.keyid, (int)(0xa0 + k), ISIM_MS_KEYID_BYTES);
		snprintf(tkeys[k].path, sizeof(tkeys[k].path), "trust/k%zu.pub", k);
	}
}

/* An envelope of payload "{}" of type "t" signed by key k under keyid. */
static void envelope(size_t k, const char *keyid, struct isim_dsse *env)
{
	struct isim_error err;
	char *text = NULL;

	isim_error_clear(&err);
	assert_int_equal(isim_dsse_sign("t", (const uint8_t *)"{}", 2, tsk[k], keyid, &text, &err), 0);
	assert_int_equal(isim_dsse_parse(text, strlen(text), "env.json", env, &err), 0);
	free(text);
}

static void expect_verdict(const struct isim_dsse *env, const struct isim_trust *t, const char *type, bool ok,
			   const char *reason, const char *key_id, const char *signer)
{
	struct isim_verdict v;
	struct isim_error err;

	isim_error_clear(&err);
	assert_int_equal(isim_dsse_verify_trusted(env, t, type, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	if (v.ok != ok || strcmp(v.reason, reason) != 0)
		print_error("got ok %d, reason '%s'\n", v.ok, v.reason);
	assert_int_equal(v.ok, ok);
	assert_string_equal(v.reason, reason);
	assert_string_equal(v.key_id, key_id);
	assert_string_equal(v.signer, signer);
}

/* The trust policy: a named key that is trusted and not revoked, or an
 * unnamed signature that some such key verifies; anything else refused
 * with its reason, and an envelope with nothing in it not checked at all. */
static void test_against_trusted_signers(void **state)
{
	struct isim_trust t = { .keys = tkeys, .nkeys = 2 };
	uint8_t revoked[1][ISIM_MS_KEYID_BYTES];
	struct isim_dsse env, empty = { 0 };
	struct isim_verdict v;
	struct isim_error err;

	(void)state;
	make_keys();
	snprintf(t.dir, sizeof(t.dir), "trust");
	envelope(0, "A0A0A0A0A0A0A0A0", &env);
	expect_verdict(&env, &t, NULL, true, "", "A0A0A0A0A0A0A0A0", "trust/k0.pub");
	expect_verdict(&env, &t, "t", true, "", "A0A0A0A0A0A0A0A0", "trust/k0.pub");
	expect_verdict(&env, &t, "x/y", false, "payloadType 't' is not 'x/y'", "", "");
	/* The payload changed after signing. */
	env.payload[0] = '[';
	expect_verdict(&env, &t, NULL, false, "signature 0 by A0A0A0A0A0A0A0A0 does not verify", "A0A0A0A0A0A0A0A0",
		       "trust/k0.pub");
	isim_dsse_free(&env);

	/* Named by another trusted key's id: that key is the one tried. */
	envelope(0, "A1A1A1A1A1A1A1A1", &env);
	expect_verdict(&env, &t, NULL, false, "signature 0 by A1A1A1A1A1A1A1A1 does not verify", "A1A1A1A1A1A1A1A1",
		       "trust/k1.pub");
	isim_dsse_free(&env);

	/* No keyid: every trusted key is tried. */
	envelope(1, "", &env);
	expect_verdict(&env, &t, NULL, true, "", "A1A1A1A1A1A1A1A1", "trust/k1.pub");
	isim_dsse_free(&env);
	envelope(2, "", &env);
	expect_verdict(&env, &t, NULL, false, "signature 0 verifies under no trusted key", "", "");
	isim_dsse_free(&env);

	envelope(2, "A2A2A2A2A2A2A2A2", &env);
	expect_verdict(&env, &t, NULL, false,
		       "signed by key A2A2A2A2A2A2A2A2, which is not a trusted signer (2 keys in trust)",
		       "A2A2A2A2A2A2A2A2", "");
	isim_dsse_free(&env);
	envelope(0, "sigstore-key", &env);
	expect_verdict(&env, &t, NULL, false, "signature 0: keyid 'sigstore-key' is not a key id", "", "");
	isim_dsse_free(&env);

	/* Revoked: refused when named, and not tried when unnamed. */
	memset(revoked[0], 0xa0, ISIM_MS_KEYID_BYTES);
	t.revoked = revoked;
	t.nrevoked = 1;
	envelope(0, "A0A0A0A0A0A0A0A0", &env);
	expect_verdict(&env, &t, NULL, false, "key A0A0A0A0A0A0A0A0 is revoked", "A0A0A0A0A0A0A0A0", "");
	isim_dsse_free(&env);
	envelope(0, "", &env);
	expect_verdict(&env, &t, NULL, false, "signature 0 verifies under no trusted key", "", "");
	isim_dsse_free(&env);

	/* Could not check: no verdict, an error. */
	isim_error_clear(&err);
	assert_int_equal(isim_dsse_verify_trusted(&empty, &t, NULL, &v, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_false(v.ok);
	sodium_memzero(tsk, sizeof(tsk));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_independent_envelope),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_against_trusted_signers),
	};

	if (snprintf(vectors, sizeof(vectors), "%s/provenance", tu_vectors()) >= (int)sizeof(vectors))
		return 1;
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
