/* SPDX-License-Identifier: MIT */
/* in-toto statements: their members and order, the test-result predicate
 * made from a TAP report, and a published statement whose minisign
 * signature and DSSE envelope verify with the signer's public key (and
 * stop verifying once the statement changes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/dsse.h"
#include "isim/file.h"
#include "isim/intoto.h"
#include "isim/json.h"
#include "isim/tap.h"
#include "testutil.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *str(const cJSON *o, const char *pointer)
{
	const cJSON *v = isim_json_pointer_get((cJSON *)o, pointer);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_statement(void **state)
{
	const struct isim_intoto_subject subj[] = { { "x.qcow2", SHA_A }, { "y.iso", SHA_B } };
	struct isim_error err;
	cJSON *pred = cJSON_CreateObject(), *st = NULL;
	char *text;

	(void)state;
	isim_error_clear(&err);
	assert_non_null(pred);
	assert_non_null(cJSON_AddStringToObject(pred, "k", "v"));
	assert_int_equal(isim_intoto_statement(subj, 2, "https://example.org/p/v1", pred, &st, &err), 0);
	text = cJSON_PrintUnformatted(st);
	assert_string_equal(text, "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":["
				  "{\"name\":\"x.qcow2\",\"digest\":{\"sha256\":\"" SHA_A "\"}},"
				  "{\"name\":\"y.iso\",\"digest\":{\"sha256\":\"" SHA_B "\"}}],"
				  "\"predicateType\":\"https://example.org/p/v1\",\"predicate\":{\"k\":\"v\"}}");
	free(text);
	cJSON_Delete(st);

	/* A digest that is not SHA-256 hex is refused, the predicate freed. */
	{
		const struct isim_intoto_subject bad = { "x", "ABC" };

		pred = cJSON_CreateObject();
		assert_int_equal(isim_intoto_statement(&bad, 1, "t", pred, &st, &err), -1);
		assert_null(st);
		assert_int_equal(err.kind, ISIM_ERR_USAGE);
		assert_int_equal(isim_intoto_statement(subj, 0, "t", cJSON_CreateObject(), &st, &err), -1);
	}
}

static void test_test_result(void **state)
{
	static const char console[] = "noise\r\nSELFTEST BEGIN\n"
				      "# selftest base/boot begin\nok 1 - up\nok 2 - net\n1..2\n"
				      "# selftest base/boot end ok\n"
				      "# selftest vpn/wg begin\nnot ok 1 - handshake\n1..1\n"
				      "# selftest vpn/wg end failed\n"
				      "# selftests: 2 run, 1 failed\nSELFTEST END status=1\n";
	const struct isim_intoto_subject conf = { "x.provenance.json", SHA_B };
	struct isim_error err;
	cJSON *report = NULL, *pred = NULL;
	const cJSON *v;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_tap_parse(console, strlen(console), &report, &err), 0);
	assert_int_equal(isim_intoto_test_result(false, &conf, 1, report, &pred, &err), 0);
	assert_string_equal(str(pred, "/result"), "FAILED");
	assert_string_equal(str(pred, "/configuration/0/name"), "x.provenance.json");
	assert_string_equal(str(pred, "/configuration/0/digest/sha256"), SHA_B);
	v = cJSON_GetObjectItemCaseSensitive(pred, "passedTests");
	assert_int_equal(cJSON_GetArraySize(v), 1);
	assert_string_equal(str(pred, "/passedTests/0"), "base/boot");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pred, "warnedTests")), 0);
	assert_string_equal(str(pred, "/failedTests/0"), "vpn/wg");
	cJSON_Delete(pred);
	assert_int_equal(isim_intoto_test_result(true, NULL, 0, report, &pred, &err), 0);
	assert_string_equal(str(pred, "/result"), "PASSED");
	cJSON_Delete(pred);
	cJSON_Delete(report);
}

static struct isim_ms_seckey *key(struct isim_ms_pubkey *pk)
{
	uint8_t seed[32], keyid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;

	memset(seed, 7, sizeof(seed));
	assert_int_equal(isim_ms_seckey_from_seed(seed, keyid, &sk, &err), 0);
	isim_ms_seckey_pubkey(sk, pk);
	return sk;
}

static void test_write(void **state)
{
	const char *dir = *state;
	const struct isim_intoto_subject subj = { "x.qcow2", SHA_A };
	char path[PATH_MAX], sig_path[PATH_MAX + 8], dsse_path[PATH_MAX], *text, *back = NULL, *envtext = NULL;
	struct isim_ms_pubkey pk, other;
	struct isim_ms_seckey *sk = key(&pk), *sk2;
	struct isim_intoto_out o = { 0 };
	struct isim_ms_sig sig;
	struct isim_dsse env = { 0 };
	struct isim_error err;
	cJSON *st = NULL;
	size_t len, envlen;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/x.selftest.json", dir);
	snprintf(sig_path, sizeof(sig_path), "%s.sig", path);
	snprintf(dsse_path, sizeof(dsse_path), "%s/x.selftest.dsse.json", dir);
	assert_int_equal(isim_intoto_statement(&subj, 1, ISIM_INTOTO_TEST_RESULT_V01, cJSON_CreateObject(), &st, &err),
			 0);
	text = isim_intoto_text(st);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');

	/* Unsigned: the statement alone. */
	o.path = path;
	assert_int_equal(isim_intoto_write(&o, text, &err), 0);
	assert_int_equal(access(sig_path, F_OK), -1);
	assert_int_equal(unlink(path), 0);

	o.sk = sk;
	o.sig_path = sig_path;
	o.dsse_path = dsse_path;
	o.when = 1700000000;
	o.comment = "signature from a test";
	assert_int_equal(isim_intoto_write(&o, text, &err), 0);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &back, &len, &err), 0);
	assert_string_equal(back, text);

	assert_int_equal(isim_ms_sig_load(sig_path, &sig, &err), 0);
	assert_string_equal(sig.trusted, "timestamp:1700000000\tfile:x.selftest.json\thashed");
	assert_string_equal(sig.comment, "signature from a test");
	assert_int_equal(isim_ms_verify_file(&pk, &sig, path, &err), 0);

	assert_int_equal(isim_file_read(dsse_path, ISIM_FILE_MAX, &envtext, &envlen, &err), 0);
	assert_int_equal(isim_dsse_parse(envtext, envlen, dsse_path, &env, &err), 0);
	assert_string_equal(env.payload_type, ISIM_INTOTO_PAYLOAD_TYPE);
	assert_int_equal(env.payload_len, strlen(text));
	assert_memory_equal(env.payload, text, env.payload_len);
	assert_true(isim_dsse_verify(&env, 0, pk.pk));

	/* Another key does not verify them; a changed statement fails. */
	{
		uint8_t seed[32] = { 9 }, keyid[8] = { 9 };

		assert_int_equal(isim_ms_seckey_from_seed(seed, keyid, &sk2, &err), 0);
		isim_ms_seckey_pubkey(sk2, &other);
		isim_ms_seckey_free(sk2);
		assert_false(isim_dsse_verify(&env, 0, other.pk));
		back[10] ^= 1;
		assert_int_equal(isim_ms_verify_data(&pk, &sig, back, len, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_REFUSED);
	}

	/* A key without paths to write to is refused. */
	o.dsse_path = NULL;
	assert_int_equal(isim_intoto_sign(&o, text, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);

	isim_dsse_free(&env);
	free(envtext);
	free(back);
	free(text);
	cJSON_Delete(st);
	isim_ms_seckey_free(sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statement),
		cmocka_unit_test(test_test_result),
		cmocka_unit_test_setup_teardown(test_write, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
