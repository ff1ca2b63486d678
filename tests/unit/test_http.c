/* SPDX-License-Identifier: MIT */
/* The console's request parsers: the session cookie among others, and a
 * query string's value, each from a table of inputs and what they give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "isim/http.h"

static void test_cookie(void **state)
{
	static const struct {
		const char *header, *want; /* want NULL: not found */
	} cases[] = {
		{ "isim_session=abc", "abc" },
		{ "a=1; isim_session=abc; b=2", "abc" },
		{ "a=1;isim_session=x", "x" },
		{ "isim_session=", "" },
		{ "xisim_session=abc", NULL },
		{ "isim_sessionx=abc", NULL },
		{ "isim_session", NULL },
		{ "", NULL },
		{ "a=1; isim_session=0123456789abcdef", NULL }, /* does not fit in 16 */
	};
	char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool found = isim_http_cookie(cases[i].header, "isim_session", out, sizeof(out));

		assert_int_equal(found, cases[i].want != NULL);
		if (found)
			assert_string_equal(out, cases[i].want);
	}
}

static void test_query(void **state)
{
	static const struct {
		const char *query, *want;
	} cases[] = {
		{ "format=svg", "svg" },
		{ "a=b&format=conf&c", "conf" },
		{ "format=a%20b+c", "a b c" },
		{ "format=%41%42", "AB" },
		{ "format=", "" },
		{ "formats=svg", NULL },
		{ "xformat=svg", NULL },
		{ "format=%4", NULL },
		{ "format=%zz", NULL },
		{ "format=%00", NULL },
		{ "format=0123456789", NULL }, /* does not fit in 8 */
		{ "", NULL },
	};
	char buf[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v = isim_http_query(cases[i].query, "format", buf, sizeof(buf));

		if (!cases[i].want) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		assert_string_equal(v, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
