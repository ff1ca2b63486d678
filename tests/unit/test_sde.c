/* SPDX-License-Identifier: MIT */
/* SOURCE_DATE_EPOCH: honoured when well formed, an error naming the value
 * when not, and the RFC 3339 text that goes into artifacts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "isim/sde.h"
#include "testutil.h"

static int unset(void **state)
{
	(void)state;
	return unsetenv("SOURCE_DATE_EPOCH");
}

static void test_unset_uses_clock(void **state)
{
	struct isim_error err;
	time_t before, t = 0, after;
	bool from_env = true;

	(void)state;
	isim_error_clear(&err);
	before = time(NULL);
	assert_int_equal(isim_sde_now(NULL, &t, &from_env, &err), 0);
	after = time(NULL);
	assert_false(from_env);
	assert_in_range(t, before, after);
	assert_int_equal(err.kind, 0);
	/* from_env is optional. */
	assert_int_equal(isim_sde_now(NULL, &t, NULL, &err), 0);
	/* The library reads no environment: the caller hands it the value. */
	assert_int_equal(setenv("SOURCE_DATE_EPOCH", "5", 1), 0);
	before = time(NULL);
	assert_int_equal(isim_sde_now(NULL, &t, &from_env, &err), 0);
	assert_false(from_env);
	assert_in_range(t, before, time(NULL));
}

struct good_case {
	const char *value;
	time_t t;
	const char *rfc3339;
};

static const struct good_case good_cases[] = {
	{ "0", 0, "1970-01-01T00:00:00Z" },
	{ "1", 1, "1970-01-01T00:00:01Z" },
	{ "1700000000", 1700000000, "2023-11-14T22:13:20Z" },
	{ "951782400", 951782400, "2000-02-29T00:00:00Z" },
	{ "0000000042", 42, "1970-01-01T00:00:42Z" },
	{ "253402300799", 253402300799LL, "9999-12-31T23:59:59Z" },
};

static void test_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		struct isim_error err;
		bool from_env = false;
		char text[21];
		time_t t = -1;

		isim_error_clear(&err);
		assert_int_equal(isim_sde_now(good_cases[i].value, &t, &from_env, &err), 0);
		assert_true(from_env);
		assert_int_equal(t, good_cases[i].t);
		assert_int_equal(isim_rfc3339(t, text, sizeof(text)), 0);
		assert_string_equal(text, good_cases[i].rfc3339);
	}
}

/* Each is refused with exit 78 and one message that quotes the value. */
static const char *const bad_values[] = {
	"",
	" 1",
	"\t1",
	"\n1",
	"1 ",
	"+1",
	"-1",
	"1.5",
	"1e9",
	"0x10",
	"12abc",
	"253402300800",
	"18446744073709551615",
	"18446744073709551616",
	"99999999999999999999999999",
};

static void test_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		struct isim_error err;
		char expected[256];
		bool from_env = true;
		time_t t = 12345;

		isim_error_clear(&err);
		assert_int_equal(isim_sde_now(bad_values[i], &t, &from_env, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_CONFIG);
		assert_false(from_env);
		assert_int_equal(t, 12345);
		snprintf(expected, sizeof(expected),
			 "SOURCE_DATE_EPOCH='%s' is not a number of seconds from 0 to 253402300799", bad_values[i]);
		/* What the user reads: control characters made visible. */
		for (char *p = expected; *p; p++)
			if (*p == '\t' || *p == '\n')
				*p = '?';
		assert_string_equal(tu_msg(&err), expected);
	}
}

static void test_long_value_quoted_short(void **state)
{
	struct isim_error err;
	char value[300];
	time_t t;

	(void)state;
	memset(value, '9', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	value[0] = 'x';
	isim_error_clear(&err);
	assert_int_equal(isim_sde_now(value, &t, NULL, &err), -1);
	assert_string_equal(tu_msg(&err), "SOURCE_DATE_EPOCH='x999999999999999999999999999999999999999' "
					  "is not a number of seconds from 0 to 253402300799");
}

static void test_rfc3339_buffer(void **state)
{
	char small[20], exact[21];

	(void)state;
	assert_int_equal(isim_rfc3339(0, small, sizeof(small)), -1);
	assert_int_equal(isim_rfc3339(86399, exact, sizeof(exact)), 0);
	assert_string_equal(exact, "1970-01-01T23:59:59Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unset_uses_clock, unset, unset),
		cmocka_unit_test_teardown(test_valid, unset),
		cmocka_unit_test_teardown(test_invalid, unset),
		cmocka_unit_test_teardown(test_long_value_quoted_short, unset),
		cmocka_unit_test(test_rfc3339_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
