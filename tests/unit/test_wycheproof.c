/* SPDX-License-Identifier: MIT */
/* Every case of Wycheproof's ed25519_test.json and x25519_test.json through
 * the libsodium calls the tools use: crypto_sign_verify_detached for
 * signatures, crypto_scalarmult for WireGuard's key agreement. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/json.h"
#include "testutil.h"

static char vectors[PATH_MAX];

static cJSON *load(const char *name)
{
	char path[PATH_MAX + 64];
	struct isim_error err;
	cJSON *doc = NULL;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/wycheproof/%s", vectors, name);
	if (isim_json_load_file(path, &doc, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return doc;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* Hex to bytes; malloc'd (at least one byte), length in *len. */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n + 1);

	assert_non_null(out);
	assert_int_equal(strlen(hex) % 2, 0);
	assert_int_equal(sodium_hex2bin(out, n + 1, hex, strlen(hex), NULL, len, NULL), 0);
	assert_int_equal(*len, n);
	return out;
}

static void test_ed25519(void **state)
{
	cJSON *doc = load("ed25519_test.json"), *g, *t;
	int valid = 0, invalid = 0, total = 0;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	cJSON_ArrayForEach (g, cJSON_GetObjectItemCaseSensitive(doc, "testGroups")) {
		size_t pklen;
		uint8_t *pk = unhex(str(cJSON_GetObjectItemCaseSensitive(g, "publicKey"), "pk"), &pklen);

		assert_int_equal(pklen, crypto_sign_PUBLICKEYBYTES);
		cJSON_ArrayForEach (t, cJSON_GetObjectItemCaseSensitive(g, "tests")) {
			const char *result = str(t, "result");
			size_t mlen, slen;
			uint8_t *msg = unhex(str(t, "msg"), &mlen), *sig = unhex(str(t, "sig"), &slen);
			/* A signature of the wrong length never reaches libsodium:
			 * the minisign and DSSE parsers refuse it first. */
			bool ok = slen == crypto_sign_BYTES && crypto_sign_verify_detached(sig, msg, mlen, pk) == 0;

			total++;
			if (!strcmp(result, "valid")) {
				if (!ok)
					fail_msg("tcId %d (%s): valid signature refused",
						 cJSON_GetObjectItemCaseSensitive(t, "tcId")->valueint,
						 str(t, "comment"));
				valid++;
			} else {
				/* ed25519_test.json has no "acceptable" case. */
				assert_string_equal(result, "invalid");
				if (ok)
					fail_msg("tcId %d (%s): invalid signature accepted",
						 cJSON_GetObjectItemCaseSensitive(t, "tcId")->valueint,
						 str(t, "comment"));
				invalid++;
			}
			free(msg);
			free(sig);
		}
		free(pk);
	}
	print_message("# ed25519: %d cases: %d valid verified, %d invalid refused\n", total, valid, invalid);
	assert_int_equal(total, cJSON_GetObjectItemCaseSensitive(doc, "numberOfTests")->valueint);
	assert_true(valid > 0 && invalid > 0);
	cJSON_Delete(doc);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t acc = 0;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/*
 * x25519_test.json has "valid" and "acceptable" cases and no "invalid" one.
 * The classes, and what we require of each:
 *   valid       the shared secret equals the expected one.
 *   acceptable with an all-zero expected secret (flags LowOrderPublic,
 *               ZeroSharedSecret: the peer sent a point of small order):
 *               crypto_scalarmult must refuse (return -1), as libsodium
 *               does, so that no tool ever keys a tunnel with a secret
 *               known to anyone (RFC 7748 section 6.1 allows the check;
 *               WireGuard makes it).
 *   acceptable otherwise (Twist, NonCanonicalPublic, EdgeCaseMultiplication,
 *               SmallPublicKey, SpecialPublicKey...): RFC 7748 defines the
 *               result (top bit masked, u reduced mod p, twist points
 *               allowed), so it must equal the expected secret.
 */
static void test_x25519(void **state)
{
	cJSON *doc = load("x25519_test.json"), *g, *t;
	int valid = 0, acc_equal = 0, acc_refused = 0, total = 0;

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	cJSON_ArrayForEach (g, cJSON_GetObjectItemCaseSensitive(doc, "testGroups")) {
		assert_string_equal(str(g, "curve"), "curve25519");
		cJSON_ArrayForEach (t, cJSON_GetObjectItemCaseSensitive(g, "tests")) {
			const char *result = str(t, "result");
			int id = cJSON_GetObjectItemCaseSensitive(t, "tcId")->valueint;
			size_t publen, privlen, shlen;
			uint8_t *pub = unhex(str(t, "public"), &publen), *priv = unhex(str(t, "private"), &privlen),
				*want = unhex(str(t, "shared"), &shlen), got[crypto_scalarmult_BYTES];
			int r;

			assert_int_equal(publen, crypto_scalarmult_BYTES);
			assert_int_equal(privlen, crypto_scalarmult_SCALARBYTES);
			assert_int_equal(shlen, crypto_scalarmult_BYTES);
			r = crypto_scalarmult(got, priv, pub);
			total++;
			if (!strcmp(result, "valid")) {
				if (r != 0 || memcmp(got, want, shlen) != 0)
					fail_msg("tcId %d (%s): valid case: r=%d or wrong secret", id,
						 str(t, "comment"), r);
				valid++;
			} else {
				assert_string_equal(result, "acceptable");
				if (all_zero(want, shlen)) {
					if (r != -1)
						fail_msg("tcId %d (%s): all-zero secret not refused", id,
							 str(t, "comment"));
					acc_refused++;
				} else {
					if (r != 0 || memcmp(got, want, shlen) != 0)
						fail_msg("tcId %d (%s): acceptable case: r=%d or wrong secret", id,
							 str(t, "comment"), r);
					acc_equal++;
				}
			}
			sodium_memzero(got, sizeof(got));
			free(pub);
			free(priv);
			free(want);
		}
	}
	print_message("# x25519: %d cases: %d valid equal, %d acceptable equal, %d acceptable with an all-zero "
		      "secret refused\n",
		      total, valid, acc_equal, acc_refused);
	assert_int_equal(total, cJSON_GetObjectItemCaseSensitive(doc, "numberOfTests")->valueint);
	assert_true(valid > 0 && acc_equal > 0 && acc_refused > 0);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_x25519),
	};

	snprintf(vectors, sizeof(vectors), "%s", tu_vectors());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
