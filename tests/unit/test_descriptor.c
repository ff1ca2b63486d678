/* SPDX-License-Identifier: MIT */
/* Node descriptors: what a signer attests verifies, and every change to a
 * field, a wrong or revoked signer, and a time outside the validity window
 * are refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/descriptor.h"

static const char descriptor_text[] =
	"{\"node_id\":\"node-a\","
	"\"identity\":{\"wg_public_key\":\"mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=\","
	"\"ed25519_public_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"},"
	"\"endpoints\":{\"rendezvous_ipv6\":\"fe80::1\",\"wireguard\":\"[2001:db8::1]:51820\","
	"\"control_mtls\":\"[2001:db8::1]:8443\"},"
	"\"allowed_ips\":[\"10.100.0.5/32\",\"fd00:100::5/128\"],"
	"\"issued_at\":\"2026-01-01T00:00:00Z\",\"expires_at\":\"2026-01-02T00:00:00Z\"}";

static uint8_t pk[32], sk[64];
static const uint8_t keyid[ISIM_MS_KEYID_BYTES] = { 0x71, 0x02, 0xe9, 0x18, 0x3a, 0xb0, 0x4e, 0x2c };
static bool revoked;
static bool broken; /* the signers cannot be looked up at all */

static int lookup(void *ctx, const uint8_t id[static ISIM_MS_KEYID_BYTES], uint8_t out[static 32],
		  struct isim_error *err)
{
	char hex[ISIM_MS_KEYID_HEX];

	(void)ctx;
	isim_ms_keyid_hex(id, hex);
	if (broken)
		return isim_error_set(err, ISIM_ERR_CONFIG, "trusted signers cannot be read");
	if (memcmp(id, keyid, sizeof(keyid)) != 0)
		return isim_error_set(err, ISIM_ERR_REFUSED, "key %s is not a trusted signer", hex);
	if (revoked)
		return isim_error_set(err, ISIM_ERR_REFUSED, "key %s is revoked", hex);
	memcpy(out, pk, 32);
	return 0;
}

static time_t at(const char *s)
{
	time_t t = 0;

	assert_int_equal(isim_parse_rfc3339(s, &t), 0);
	return t;
}

static cJSON *signed_descriptor(void)
{
	struct isim_error err;
	cJSON *d = cJSON_Parse(descriptor_text);

	assert_non_null(d);
	isim_error_clear(&err);
	assert_int_equal(isim_descriptor_sign(d, sk, keyid, &err), 0);
	return d;
}

static int verify(const cJSON *d, const char *when, struct isim_verdict *v, struct isim_error *err)
{
	isim_error_clear(err);
	return isim_descriptor_verify(NULL, d, at(when), lookup, NULL, v, err);
}

/* A check made, and its answer a refusal for exactly that reason. */
static void refused(const cJSON *d, const char *when, const char *reason)
{
	struct isim_verdict v;
	struct isim_error err;

	assert_int_equal(verify(d, when, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_false(v.ok);
	assert_string_equal(v.reason, reason);
}

static void test_keyid(void **state)
{
	char hex[ISIM_MS_KEYID_HEX];
	uint8_t id[ISIM_MS_KEYID_BYTES];

	(void)state;
	/* As minisign prints the key of tests/vectors/provenance/signer.pub. */
	isim_ms_keyid_hex(keyid, hex);
	assert_string_equal(hex, "2C4EB03A18E90271");
	assert_true(isim_ms_keyid_parse("2C4EB03A18E90271", id));
	assert_memory_equal(id, keyid, sizeof(id));
	assert_true(isim_ms_keyid_parse("2c4eb03a18e90271", id));
	assert_false(isim_ms_keyid_parse("2C4EB03A18E9027", id));
	assert_false(isim_ms_keyid_parse("2C4EB03A18E9027G", id));
	assert_false(isim_ms_keyid_parse("2C4EB03A18E902710", id));
}

static void test_rfc3339(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(isim_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T01:30:00.123+01:30", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(isim_parse_rfc3339("2025-12-31t19:00:00-05:00", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(isim_parse_rfc3339("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(isim_parse_rfc3339("2023-02-29T00:00:00Z", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-13-01T00:00:00Z", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T24:00:00Z", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T00:00:00", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T00:00:00Zx", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-01-01", &t), -1);
	assert_int_equal(isim_parse_rfc3339("2026-01-01T00:00:00.Z", &t), -1);
}

static void test_signed_verifies(void **state)
{
	struct isim_verdict v;
	struct isim_error err;
	cJSON *d = signed_descriptor();
	const cJSON *att = cJSON_GetObjectItemCaseSensitive(d, "attestation");

	(void)state;
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(att, "key_id")->valuestring, "2C4EB03A18E90271");
	assert_int_equal(verify(d, "2026-01-01T12:00:00Z", &v, &err), 0);
	assert_true(v.ok);
	assert_string_equal(v.reason, "");
	assert_string_equal(v.key_id, "2C4EB03A18E90271");
	/* Valid from issued_at up to, not including, expires_at. */
	assert_int_equal(verify(d, "2026-01-01T00:00:00Z", &v, &err), 0);
	assert_true(v.ok);
	refused(d, "2026-01-02T00:00:00Z", "/expires_at: expired at 2026-01-02T00:00:00Z");
	refused(d, "2025-12-31T23:59:59Z", "/issued_at: not valid before 2026-01-01T00:00:00Z");
	/* Member order and whitespace do not matter: the signature covers
	 * the canonical form. */
	{
		char *text = cJSON_Print(d);
		cJSON *again = cJSON_Parse(text);
		cJSON *node = cJSON_DetachItemFromObjectCaseSensitive(again, "node_id");

		cJSON_AddItemToObject(again, "node_id", node);
		assert_int_equal(verify(again, "2026-01-01T12:00:00Z", &v, &err), 0);
		assert_true(v.ok);
		cJSON_Delete(again);
		free(text);
	}
	cJSON_Delete(d);
}

/* One changed field each: all refused as a bad signature. */
static void test_forgeries(void **state)
{
	static const struct {
		const char *pointer;
		const char *value;
	} changes[] = {
		{ "node_id", "node-b" },
		{ "identity/wg_public_key", "nRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=" },
		{ "identity/ed25519_public_key", "21qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" },
		{ "endpoints/rendezvous_ipv6", "fe80::2" },
		{ "endpoints/wireguard", "[2001:db8::1]:51821" },
		{ "endpoints/control_mtls", "[2001:db8::2]:8443" },
		{ "allowed_ips/1", "fd00:100::/64" },
		{ "issued_at", "2025-01-01T00:00:00Z" },
		{ "expires_at", "2036-01-02T00:00:00Z" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		cJSON *d = signed_descriptor(), *parent = d, *item;
		char path[64], *slash, *name = path;

		snprintf(path, sizeof(path), "%s", changes[i].pointer);
		while ((slash = strchr(name, '/'))) {
			*slash = '\0';
			parent = cJSON_GetObjectItemCaseSensitive(parent, name);
			name = slash + 1;
		}
		item = cJSON_IsArray(parent) ? cJSON_GetArrayItem(parent, atoi(name))
					     : cJSON_GetObjectItemCaseSensitive(parent, name);
		assert_non_null(item);
		assert_non_null(cJSON_SetValuestring(item, changes[i].value));
		refused(d, "2026-01-01T12:00:00Z",
			"/attestation/signature: signature by 2C4EB03A18E90271 does not verify");
		cJSON_Delete(d);
	}
	/* An added member is a change too. */
	{
		cJSON *d = signed_descriptor();

		cJSON_AddBoolToObject(d, "admin", 1);
		refused(d, "2026-01-01T12:00:00Z",
			"/attestation/signature: signature by 2C4EB03A18E90271 does not verify");
		cJSON_Delete(d);
	}
}

static void test_attestation_refused(void **state)
{
	struct isim_verdict v;
	struct isim_error err;
	cJSON *d, *att;
	char *sig;

	(void)state;
	d = cJSON_Parse(descriptor_text);
	refused(d, "2026-01-01T12:00:00Z", "/attestation: the descriptor is not attested");
	assert_int_equal(verify(d, "2026-01-01T12:00:00Z", &v, &err), 0);
	assert_string_equal(v.key_id, "");
	cJSON_Delete(d);

	d = signed_descriptor();
	att = cJSON_GetObjectItemCaseSensitive(d, "attestation");
	/* One flipped bit in the signature. */
	sig = cJSON_GetObjectItemCaseSensitive(att, "signature")->valuestring;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	refused(d, "2026-01-01T12:00:00Z", "/attestation/signature: signature by 2C4EB03A18E90271 does not verify");
	cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(att, "signature"), "AAAA");
	refused(d, "2026-01-01T12:00:00Z",
		"/attestation/signature: expected the base64 text of a 64-byte Ed25519 signature");
	cJSON_Delete(d);

	d = signed_descriptor();
	att = cJSON_GetObjectItemCaseSensitive(d, "attestation");
	cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(att, "key_id"), "2C4EB03A18E90272");
	refused(d, "2026-01-01T12:00:00Z", "/attestation/key_id: key 2C4EB03A18E90272 is not a trusted signer");
	assert_int_equal(verify(d, "2026-01-01T12:00:00Z", &v, &err), 0);
	assert_string_equal(v.key_id, "2C4EB03A18E90272");
	cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(att, "key_id"), "nope");
	refused(d, "2026-01-01T12:00:00Z", "/attestation/key_id: expected 16 hexadecimal digits");
	cJSON_Delete(d);

	d = signed_descriptor();
	revoked = true;
	refused(d, "2026-01-01T12:00:00Z", "/attestation/key_id: key 2C4EB03A18E90271 is revoked");
	revoked = false;
	cJSON_Delete(d);

	/* Signed, but the window is upside down. */
	d = cJSON_Parse(descriptor_text);
	cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(d, "expires_at"), "2025-01-01T00:00:00Z");
	assert_int_equal(isim_descriptor_sign(d, sk, keyid, &err), 0);
	refused(d, "2026-01-01T12:00:00Z",
		"/expires_at: expires_at 2025-01-01T00:00:00Z is not after issued_at 2026-01-01T00:00:00Z");
	cJSON_Delete(d);
}

/* When the signers cannot be looked up, there is no verdict: -1, and the
 * lookup's error, not a refusal. */
static void test_could_not_check(void **state)
{
	struct isim_verdict v;
	struct isim_error err;
	cJSON *d = signed_descriptor();

	(void)state;
	broken = true;
	assert_int_equal(verify(d, "2026-01-01T12:00:00Z", &v, &err), -1);
	broken = false;
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_string_equal(err.msg, "trusted signers cannot be read");
	assert_false(v.ok);
	cJSON_Delete(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_signed_verifies),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_attestation_refused),
		cmocka_unit_test(test_could_not_check),
	};
	uint8_t seed[32];
	size_t i;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
