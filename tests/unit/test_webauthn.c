/* SPDX-License-Identifier: MIT */
/* lib/webauthn's parsers, table by table: deterministic CBOR (RFC 8949
 * section 4.2 and CTAP2's canonical order), base64url, authenticator data,
 * COSE keys (W3C WebAuthn Level 3 section 16's ES256 key, and each way one
 * can be wrong), and a whole ceremony from the spec's vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/hash.h"
#include "isim/webauthn.h"
#include "testutil.h"

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

struct cbor_case {
	const char *hex;
	long len; /* the item's length, or -1 refused */
	const char *why;
};

static const struct cbor_case cbor_cases[] = {
	{ "00", 1, NULL },
	{ "17", 1, NULL },
	{ "1818", 2, NULL },
	{ "1817", -1, "shortest" },	      /* 23 in two bytes */
	{ "190017", -1, "shortest" },	      /* and in three */
	{ "20", 1, NULL },		      /* -1 */
	{ "4100", 2, NULL },		      /* h'00' */
	{ "5801ff", -1, "shortest" },	      /* a one-byte string, length in a byte */
	{ "6161", 2, NULL },		      /* "a" */
	{ "61ff", -1, "UTF-8" },	      /* not UTF-8 */
	{ "5f4100ff", -1, "indefinite" },     /* indefinite byte string */
	{ "9f00ff", -1, "indefinite" },	      /* indefinite array */
	{ "bf0000ff", -1, "indefinite" },     /* indefinite map */
	{ "c100", -1, "tag" },		      /* a tag */
	{ "f93c00", -1, "float" },	      /* half float */
	{ "f7", -1, "float" },		      /* undefined */
	{ "f5", 1, NULL },		      /* true */
	{ "a201000200", 5, NULL },	      /* {1: 0, 2: 0} */
	{ "a202000100", -1, "canonical" },    /* {2: 0, 1: 0} */
	{ "a201000100", -1, "duplicate" },    /* {1: 0, 1: 0} */
	{ "a201002000", 5, NULL },	      /* {1: 0, -1: 0}: 0x01 < 0x20 */
	{ "a218180001 00", -1, "canonical" }, /* a two-byte key before a one-byte one */
	{ "82", -1, "more items" },
	{ "828100", -1, "ends" },
	{ "9a7fffffff", -1, "more items" }, /* a huge count refused before any allocation */
	{ "5a7fffffff00", -1, "truncated" },
	{ "818181818181818181818181818181818100", -1, "nests" },
	{ "0000", 1, NULL }, /* one item; the caller sees the byte after it */
	{ "", -1, "ends" },
	{ "1c", -1, "well-formed" }, /* reserved additional information */
};

static void test_cbor_check(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cbor_cases) / sizeof(cbor_cases[0]); i++) {
		const struct cbor_case *c = &cbor_cases[i];
		uint8_t buf[64];
		char hex[128];
		size_t j, k = 0, n, len = 0;
		struct isim_wa_status st;
		bool okay;

		for (j = 0; c->hex[j]; j++)
			if (c->hex[j] != ' ')
				hex[k++] = c->hex[j];
		hex[k] = '\0';
		n = unhex(hex, buf, sizeof(buf));
		okay = isim_wa_cbor_check(buf, n, &len, &st);
		if (c->len < 0 && okay)
			fail_msg("%s: accepted (%zu bytes)", c->hex, len);
		if (c->len >= 0 && !okay)
			fail_msg("%s: refused: %s", c->hex, st.msg);
		if (c->len >= 0)
			assert_int_equal(len, (size_t)c->len);
		else if (!strstr(st.msg, c->why))
			fail_msg("%s: '%s' does not say '%s'", c->hex, st.msg, c->why);
		if (!okay)
			assert_int_equal(st.reason, ISIM_WA_MALFORMED);
	}
}

static void test_b64url(void **state)
{
	uint8_t *p;
	size_t n;
	char *s;

	(void)state;
	assert_true(isim_wa_b64url_decode("AQID", 16, &p, &n));
	assert_int_equal(n, 3);
	assert_memory_equal(p, "\x01\x02\x03", 3);
	s = isim_wa_b64url_encode(p, n);
	assert_string_equal(s, "AQID");
	free(s);
	free(p);
	assert_true(isim_wa_b64url_decode("_-8", 16, &p, &n));
	assert_int_equal(n, 2);
	free(p);
	assert_false(isim_wa_b64url_decode("AQ==", 16, &p, &n)); /* padding */
	assert_false(isim_wa_b64url_decode("+/8", 16, &p, &n));	 /* standard alphabet */
	assert_false(isim_wa_b64url_decode("AR", 16, &p, &n));	 /* non-zero trailing bits */
	assert_false(isim_wa_b64url_decode("AQID AQID", 16, &p, &n));
	assert_false(isim_wa_b64url_decode("AQIDBA", 3, &p, &n)); /* over max */
	assert_true(isim_wa_b64url_decode("", 3, &p, &n));
	assert_int_equal(n, 0);
	free(p);
}

/* WebAuthn Level 3 section 16.2, "None Attestation - ES256". */
#define SPEC_KEY                                                               \
	"a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249" \
	"c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed732" \
	"90af2e2664796b9220"
#define SPEC_AUTH                                                                  \
	"bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b5590000"   \
	"00008446ccb9ab1db374750b2367ff6f3a1f0020f91f391db4c9b2fde0ea70189cba3fb6" \
	"3f579ba6122b33ad94ff3ec330084be4" SPEC_KEY

static void test_cose_keys(void **state)
{
	static const struct {
		const char *hex;
		enum isim_wa_reason reason;
	} cases[] = {
		{ SPEC_KEY, ISIM_WA_OK },
		/* crv P-384 with ES256 */
		{ "a5010203262002215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249"
		  "c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed732"
		  "90af2e2664796b9220",
		  ISIM_WA_ALGORITHM },
		/* y changed: off the curve */
		{ "a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249"
		  "c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed732"
		  "90af2e2664796b9221",
		  ISIM_WA_MALFORMED },
		{ "a3010103272006", ISIM_WA_MALFORMED },     /* OKP without x */
		{ "a40101032720062141", ISIM_WA_MALFORMED }, /* truncated */
		{ "a201020339fffe", ISIM_WA_ALGORITHM },     /* RS1: not supported */
		{ "a201040326", ISIM_WA_ALGORITHM },	     /* kty 4 */
		{ "a1616101", ISIM_WA_MALFORMED },	     /* a text label */
		{ "80", ISIM_WA_MALFORMED },		     /* not a map */
		{ SPEC_KEY "00", ISIM_WA_MALFORMED },	     /* trailing byte */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[256];
		size_t n = unhex(cases[i].hex, buf, sizeof(buf));
		struct isim_wa_key k;
		struct isim_wa_status st;
		bool okay = isim_wa_cose_key_parse(buf, n, &k, &st);

		if (okay != (cases[i].reason == ISIM_WA_OK) || (!okay && st.reason != cases[i].reason))
			fail_msg("case %zu: %s (%s)", i, isim_wa_reason_name(st.reason), st.msg);
		if (okay)
			assert_int_equal(k.alg, ISIM_COSE_ES256);
		isim_wa_key_free(&k);
	}
}

static void test_auth_data(void **state)
{
	uint8_t buf[512];
	size_t n = unhex(SPEC_AUTH, buf, sizeof(buf));
	struct isim_wa_auth_data ad;
	struct isim_wa_status st;
	uint8_t h[ISIM_SHA256_BYTES];

	(void)state;
	assert_true(isim_wa_auth_data_parse(buf, n, &ad, &st));
	assert_int_equal(ad.flags, 0x59);
	assert_int_equal(ad.sign_count, 0);
	assert_int_equal(ad.cred_id_len, 32);
	assert_int_equal(ad.cose_key_len, 77);
	assert_int_equal(isim_sha256("example.org", 11, h), 0);
	assert_memory_equal(ad.rp_id_hash, h, sizeof(h));
	assert_false(isim_wa_auth_data_parse(buf, n - 1, &ad, &st)); /* the key cut */
	assert_int_equal(st.reason, ISIM_WA_MALFORMED);
	buf[n] = 0xa0;
	assert_false(isim_wa_auth_data_parse(buf, n + 1, &ad, &st)); /* a byte after it */
	buf[32] |= ISIM_WA_FLAG_ED;
	assert_true(isim_wa_auth_data_parse(buf, n + 1, &ad, &st)); /* now {} extensions */
	assert_int_equal(ad.extensions_len, 1);
	buf[n] = 0x80;
	assert_false(isim_wa_auth_data_parse(buf, n + 1, &ad, &st)); /* extensions not a map */
	assert_false(isim_wa_auth_data_parse(buf, 36, &ad, &st));
	buf[32] = 0x01;
	assert_true(isim_wa_auth_data_parse(buf, 37, &ad, &st));
	assert_null(ad.cred_id);
	buf[32] = 0x11; /* BS without BE */
	assert_false(isim_wa_auth_data_parse(buf, 37, &ad, &st));
}

static void test_client_data(void **state)
{
	static const char good[] =
		"{\"type\":\"webauthn.get\",\"challenge\":\"AQID\",\"origin\":\"https://a.example\",\"other\":[1]}";
	static const char *const bad[] = {
		"{\"type\":\"webauthn.get\",\"challenge\":\"AQID\"}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"AQ==\",\"origin\":\"o\"}",
		"{\"type\":\"webauthn.get\",\"challenge\":\"AQID\",\"origin\":\"o\",\"crossOrigin\":1}",
		"{\"type\":\"webauthn.get\",\"type\":\"webauthn.get\",\"challenge\":\"AQID\",\"origin\":\"o\"}",
		"[]",
		"{\"type\":\"webauthn.get\",\"challenge\":\"AQID\",\"origin\":\"o\"} x",
	};
	struct isim_wa_client_data cd;
	struct isim_wa_status st;
	size_t i;

	(void)state;
	assert_true(isim_wa_client_data_parse((const uint8_t *)good, strlen(good), &cd, &st));
	assert_string_equal(cd.type, "webauthn.get");
	assert_int_equal(cd.challenge_len, 3);
	assert_string_equal(cd.origin, "https://a.example");
	assert_false(cd.cross_origin);
	assert_null(cd.top_origin);
	isim_wa_client_data_free(&cd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (isim_wa_client_data_parse((const uint8_t *)bad[i], strlen(bad[i]), &cd, &st))
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(st.reason, ISIM_WA_MALFORMED);
	}
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(isim_wa_reason_name(ISIM_WA_OK), "ok");
	assert_string_equal(isim_wa_reason_name(ISIM_WA_RP_ID), "rp_id");
	assert_string_equal(isim_wa_reason_name(ISIM_WA_UNKNOWN_CREDENTIAL), "unknown_credential");
	assert_string_equal(isim_wa_reason_name(ISIM_WA_USER_VERIFICATION), "user_verification");
	assert_string_equal(isim_wa_reason_name((enum isim_wa_reason)999), "internal");
	assert_string_equal(isim_wa_alg_name(ISIM_COSE_RS256), "RS256");
	assert_null(isim_wa_alg_name(-65535));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cbor_check),  cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_cose_keys),   cmocka_unit_test(test_auth_data),
		cmocka_unit_test(test_client_data), cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
