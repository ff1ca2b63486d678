/* SPDX-License-Identifier: MIT */
/* The schemas built into the programs are those of schemas/, byte for
 * byte, and load without any file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/schemas.h"
#include "testutil.h"

static void test_builtin_is_schemas_folder(void **state)
{
	static const char *const names[] = { "appliance-manifest.schema.json",
					     "base.schema.json",
					     "feature.schema.json",
					     "manifest.schema.json",
					     "memdump-record.schema.json",
					     "node-descriptor.schema.json",
					     "passkey-authentication-response.schema.json",
					     "passkey-creation-options.schema.json",
					     "passkey-credentials.schema.json",
					     "passkey-expect.schema.json",
					     "passkey-registration-response.schema.json",
					     "passkey-request-options.schema.json",
					     "passkey-verdict.schema.json",
					     "profile.schema.json" };
	const char *root = getenv("ISIM_ROOT");
	char path[4096];
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct isim_schema_file *f = isim_schema_builtin(names[i]);
		char *text;

		assert_non_null(f);
		snprintf(path, sizeof(path), "%s/schemas/%s", root ? root : ".", names[i]);
		text = tu_read(path);
		assert_non_null(text);
		assert_int_equal(f->len, strlen(text));
		assert_memory_equal(f->text, text, f->len);
		free(text);
	}
	for (i = 0; isim_schema_files[i].name; i++)
		n++;
	assert_int_equal(n, sizeof(names) / sizeof(names[0]));
	assert_null(isim_schema_builtin("nosuch.schema.json"));
}

static void test_load(void **state)
{
	struct isim_error err;
	cJSON *doc = NULL;

	isim_error_clear(&err);
	assert_int_equal(isim_schema_load(NULL, "feature.schema.json", &doc, &err), 0);
	assert_true(cJSON_IsObject(doc));
	cJSON_Delete(doc);
	/* A folder given instead is read, and a broken schema there is a
	 * configuration error naming the file. */
	tu_write(*state, "feature.schema.json", "{\"type\": \n");
	assert_int_equal(isim_schema_load(*state, "feature.schema.json", &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_non_null(strstr(tu_msg(&err), "feature.schema.json"));
	isim_error_clear(&err);
	assert_int_equal(isim_schema_load(*state, "profile.schema.json", &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_is_schemas_folder),
		cmocka_unit_test_setup_teardown(test_load, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
