/* SPDX-License-Identifier: MIT */
/* Provenance statements: the vector statement names the vector image, not
 * another one, and malformed statements are told apart from mismatches. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/json.h"
#include "isim/provenance.h"
#include "testutil.h"

static char vectors[PATH_MAX];

static void test_vector_statement(void **state)
{
	char path[PATH_MAX + 64];
	uint8_t digest[ISIM_SHA256_BYTES];
	struct isim_verdict v;
	struct isim_error err;
	cJSON *stmt = NULL;

	(void)state;
	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/image.provenance.json", vectors);
	assert_int_equal(isim_json_load_file(path, &stmt, &err), 0);
	snprintf(path, sizeof(path), "%s/image.bin", vectors);
	assert_int_equal(isim_sha256_file(path, digest, &err), 0);
	assert_int_equal(isim_provenance_match(stmt, digest, &v, &err), 0);
	assert_true(v.ok);
	assert_string_equal(v.reason, "");

	/* One bit of the image changed: a verdict, not a malformed input. */
	digest[31] ^= 1;
	assert_int_equal(isim_provenance_match(stmt, digest, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_false(v.ok);
	assert_string_equal(v.reason, "/subject: subject sha256 "
				      "510b126e1d4ced49107fe4ab03ee54cb1c8e4caf6064e1dd29c48d4a3e74c38b "
				      "does not match the image's sha256 "
				      "510b126e1d4ced49107fe4ab03ee54cb1c8e4caf6064e1dd29c48d4a3e74c38a");
	cJSON_Delete(stmt);
}

static void test_malformed(void **state)
{
	static const char ok_pred[] = "\"predicateType\":\"https://slsa.dev/provenance/v1\","
				      "\"predicate\":{\"buildDefinition\":{\"buildType\":\"b\"},"
				      "\"runDetails\":{\"builder\":{\"id\":\"i\"}}}";
	static const struct {
		const char *text, *pointer, *msg;
	} cases[] = {
		{ "[]", "", "expected an in-toto Statement object" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v0.1\"}", "/_type",
		  "expected \"https://in-toto.io/Statement/v1\"" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\"}", "/predicateType", "expected a non-empty string" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\",\"predicate\":[]}",
		  "/predicate", "expected an object" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v1\","
		  "\"predicate\":{}}",
		  "/predicate/buildDefinition", "expected an object (SLSA Provenance v1)" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v1\","
		  "\"predicate\":{\"buildDefinition\":{\"buildType\":\"b\"},\"runDetails\":{\"builder\":{}}}}",
		  "/predicate/runDetails/builder/id", "expected a string" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\",\"subject\":[]}", "/subject",
		  "expected a non-empty list" },
		{ "{\"_type\":\"https://in-toto.io/Statement/"
		  "v1\",\"predicateType\":\"x\",\"subject\":[{\"name\":\"a\"}]}",
		  "/subject/0/digest", "expected an object of digests" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"x\","
		  "\"subject\":[{\"digest\":{\"sha256\":\"ABC\"}}]}",
		  "/subject/0/digest/sha256", "expected 64 lowercase hexadecimal digits" },
	};
	uint8_t digest[ISIM_SHA256_BYTES] = { 0 };
	struct isim_verdict v;
	struct isim_error err;
	char text[1024];
	cJSON *stmt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stmt = cJSON_Parse(cases[i].text);
		assert_non_null(stmt);
		isim_error_clear(&err);
		assert_int_equal(isim_provenance_match(stmt, digest, &v, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_false(v.ok);
		assert_string_equal(err.pointer, cases[i].pointer);
		assert_string_equal(err.msg, cases[i].msg);
		cJSON_Delete(stmt);
	}
	/* A statement whose only digest is another algorithm's names nothing
	 * we can check. */
	snprintf(text, sizeof(text),
		 "{\"_type\":\"https://in-toto.io/Statement/v1\",%s,\"subject\":[{\"digest\":{\"sha512\":\"00\"}}]}",
		 ok_pred);
	stmt = cJSON_Parse(text);
	isim_error_clear(&err);
	assert_int_equal(isim_provenance_match(stmt, digest, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_false(v.ok);
	assert_string_equal(v.reason, "/subject: no subject has a sha256 digest");
	cJSON_Delete(stmt);
	/* The second subject may be the one that matches. */
	snprintf(text, sizeof(text),
		 "{\"_type\":\"https://in-toto.io/Statement/v1\",%s,\"subject\":["
		 "{\"digest\":{\"sha256\":\"%064d\"}},{\"digest\":{\"sha256\":\"%063d1\"}}]}",
		 ok_pred, 1, 0);
	stmt = cJSON_Parse(text);
	digest[31] = 1;
	assert_int_equal(isim_provenance_match(stmt, digest, &v, &err), 0);
	assert_true(v.ok);
	cJSON_Delete(stmt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_statement),
		cmocka_unit_test(test_malformed),
	};

	if (snprintf(vectors, sizeof(vectors), "%s/provenance", tu_vectors()) >= (int)sizeof(vectors))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
