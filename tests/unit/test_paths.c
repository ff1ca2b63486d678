/* SPDX-License-Identifier: MIT */
/* Where the programs find their data: option, then environment, then the
 * installed folder; never the current folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/paths.h"
#include "testutil.h"

static void test_resolve_order(void **state)
{
	(void)state;
	unsetenv("ISIM_TEST_DIR");
	assert_string_equal(isim_path_resolve("/opt", "ISIM_TEST_DIR", "/default"), "/opt");
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/default"), "/default");
	assert_null(isim_path_resolve(NULL, "ISIM_TEST_DIR", NULL));
	assert_int_equal(setenv("ISIM_TEST_DIR", "/env", 1), 0);
	assert_string_equal(isim_path_resolve("/opt", "ISIM_TEST_DIR", "/default"), "/opt");
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/default"), "/env");
	/* An empty variable counts as unset. */
	assert_int_equal(setenv("ISIM_TEST_DIR", "", 1), 0);
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/default"), "/default");
	unsetenv("ISIM_TEST_DIR");
}

/* A folder named like the catalog's in the current folder is not used. */
static void test_catalog_ignores_cwd(void **state)
{
	char buf[4096], origin[4096];

	assert_non_null(getcwd(origin, sizeof(origin)));
	tu_write(*state, "features/x/feature.yaml", "name: x\n");
	tu_write(*state, "schemas/feature.schema.json", "{}\n");
	assert_int_equal(chdir(*state), 0);
	unsetenv("ISIM_FEATURES_DIR");
	unsetenv("ISIM_SCHEMAS_DIR");
	assert_string_equal(isim_path_catalog(NULL, "ISIM_FEATURES_DIR", "features", buf, sizeof(buf)),
			    ISIM_DATADIR "/features");
	assert_null(isim_path_schemas(NULL));
	assert_int_equal(setenv("ISIM_FEATURES_DIR", "/env/features", 1), 0);
	assert_string_equal(isim_path_catalog(NULL, "ISIM_FEATURES_DIR", "features", buf, sizeof(buf)),
			    "/env/features");
	assert_string_equal(isim_path_catalog("/opt/f", "ISIM_FEATURES_DIR", "features", buf, sizeof(buf)), "/opt/f");
	unsetenv("ISIM_FEATURES_DIR");
	assert_int_equal(setenv("ISIM_SCHEMAS_DIR", "/env/schemas", 1), 0);
	assert_string_equal(isim_path_schemas(NULL), "/env/schemas");
	assert_string_equal(isim_path_schemas("/opt/s"), "/opt/s");
	unsetenv("ISIM_SCHEMAS_DIR");
	assert_int_equal(chdir(origin), 0);
}

static void test_need_dir(void **state)
{
	struct isim_error err;
	char msg[4096];

	isim_error_clear(&err);
	assert_int_equal(isim_path_need_dir(*state, "features", "--features-dir", "ISIM_FEATURES_DIR", &err), 0);
	assert_int_equal(
		isim_path_need_dir("/nonexistent/features", "features", "--features-dir", "ISIM_FEATURES_DIR", &err),
		-1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(tu_msg(&err), "features folder /nonexistent/features does not exist "
					  "(set --features-dir or ISIM_FEATURES_DIR)");
	tu_write(*state, "plain", "x");
	isim_error_clear(&err);
	assert_int_equal(isim_path_need_dir(tu_path(*state, "plain"), "bases", "--bases-dir", "ISIM_BASES_DIR", &err),
			 -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(msg, sizeof(msg), "bases folder %s/plain is not a folder (set --bases-dir or ISIM_BASES_DIR)",
		 (const char *)*state);
	assert_string_equal(tu_msg(&err), msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_order),
		cmocka_unit_test_setup_teardown(test_catalog_ignores_cwd, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_need_dir, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
