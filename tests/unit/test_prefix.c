/* SPDX-License-Identifier: MIT */
/* IP prefixes: the forms read and refused (with the reason), the canonical
 * text, and containment, overlap and order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/prefix.h"
#include "testutil.h"

struct good_case {
	const char *in;
	int family;
	unsigned len;
	const char *canon;
};

static const struct good_case good[] = {
	{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0/8" },
	{ "10.100.0.2/32", AF_INET, 32, "10.100.0.2/32" },
	{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0/0" },
	{ "192.168.128.0/17", AF_INET, 17, "192.168.128.0/17" },
	{ "fd10:100::/64", AF_INET6, 64, "fd10:100::/64" },
	{ "::/0", AF_INET6, 0, "::/0" },
	{ "2001:DB8:0:0::1/128", AF_INET6, 128, "2001:db8::1/128" },
	{ "fe80::/10", AF_INET6, 10, "fe80::/10" },
	{ "::ffff:192.0.2.1/128", AF_INET6, 128, "::ffff:192.0.2.1/128" },
};

static const struct {
	const char *in, *why;
} bad[] = {
	{ "10.0.0.0", "has no '/' and prefix length" },
	{ "/8", "is not an IPv4 or IPv6 address before the '/'" },
	{ "10.0.0/8", "is not an IPv4 or IPv6 address before the '/'" },
	{ "010.0.0.0/8", "is not an IPv4 or IPv6 address before the '/'" },
	{ "10.0.0.0.0/8", "is not an IPv4 or IPv6 address before the '/'" },
	{ "[::1]/128", "is not an IPv4 or IPv6 address before the '/'" },
	{ " 10.0.0.0/8", "is not an IPv4 or IPv6 address before the '/'" },
	{ "fe80::1%eth0/128", "is not an IPv4 or IPv6 address before the '/'" },
	{ "10.0.0.0/", "has no decimal prefix length after the '/'" },
	{ "10.0.0.0/+8", "has no decimal prefix length after the '/'" },
	{ "10.0.0.0/-1", "has no decimal prefix length after the '/'" },
	{ "10.0.0.0/ 8", "has no decimal prefix length after the '/'" },
	{ "10.0.0.0/08", "has a prefix length with a leading zero" },
	{ "10.0.0.0/00", "has a prefix length with a leading zero" },
	{ "10.0.0.0/33", "has a prefix length over 32" },
	{ "10.0.0.0/4294967304", "has a prefix length over 32" },
	{ "::/129", "has a prefix length over 128" },
	{ "10.0.0.0/8 ", "has something other than digits after the prefix length" },
	{ "10.0.0.0/8/8", "has something other than digits after the prefix length" },
	{ "10.0.0.0/8\n", "has something other than digits after the prefix length" },
	{ "10.0.0.1/8", "has address bits set past the prefix length" },
	{ "10.128.0.0/9", "" }, /* fine: bit 9 is inside the length */
	{ "10.192.0.0/9", "has address bits set past the prefix length" },
	{ "fd10:100::1/64", "has address bits set past the prefix length" },
	{ "::1/127", "has address bits set past the prefix length" },
	{ "1.2.3.4/0", "has address bits set past the prefix length" },
};

static void test_good(void **state)
{
	char text[ISIM_PREFIX_STRLEN];
	struct isim_prefix p;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(isim_prefix_parse(good[i].in, false, &p, &why), 0);
		assert_int_equal(p.family, good[i].family);
		assert_int_equal(p.len, good[i].len);
		isim_prefix_format(&p, text);
		assert_string_equal(text, good[i].canon);
	}
}

static void test_bad(void **state)
{
	struct isim_prefix p;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (!bad[i].why[0]) {
			assert_int_equal(isim_prefix_parse(bad[i].in, false, &p, &why), 0);
			continue;
		}
		if (isim_prefix_parse(bad[i].in, false, &p, &why) != -1)
			fail_msg("'%s' was accepted", bad[i].in);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_host_bits_ok(void **state)
{
	char text[ISIM_PREFIX_STRLEN];
	struct isim_prefix p;
	const char *why;

	(void)state;
	assert_int_equal(isim_prefix_parse("10.1.2.3/8", true, &p, &why), 0);
	isim_prefix_format(&p, text);
	assert_string_equal(text, "10.0.0.0/8");
	assert_int_equal(isim_prefix_parse("fd10:100::ffff/120", true, &p, &why), 0);
	isim_prefix_format(&p, text);
	assert_string_equal(text, "fd10:100::ff00/120");
	assert_int_equal(isim_prefix_parse("1.2.3.4/0", true, &p, &why), 0);
	isim_prefix_format(&p, text);
	assert_string_equal(text, "0.0.0.0/0");
	/* the other checks still hold */
	assert_int_equal(isim_prefix_parse("10.1.2.3/08", true, &p, &why), -1);
	assert_int_equal(isim_prefix_parse("10.1.2.3/33", true, &p, &why), -1);
}

#define P tu_prefix

static void test_relations(void **state)
{
	struct isim_prefix a = P("10.0.0.0/8"), b = P("10.100.0.2/32"), c = P("11.0.0.0/8"), d = P("10.0.0.0/16"),
			   z = P("0.0.0.0/0"), v6 = P("fd10:100::/64"), v6h = P("fd10:100::2/128"), v6z = P("::/0"),
			   odd = P("10.128.0.0/9"), odd2 = P("10.0.0.0/9");

	(void)state;
	assert_true(isim_prefix_contains(&a, &b));
	assert_false(isim_prefix_contains(&b, &a));
	assert_true(isim_prefix_contains(&a, &a));
	assert_false(isim_prefix_contains(&a, &c));
	assert_true(isim_prefix_contains(&a, &d));
	assert_true(isim_prefix_contains(&z, &c));
	assert_false(isim_prefix_contains(&z, &v6));
	assert_true(isim_prefix_contains(&v6z, &v6h));
	assert_true(isim_prefix_contains(&v6, &v6h));
	assert_true(isim_prefix_contains(&a, &odd));
	assert_false(isim_prefix_contains(&odd, &odd2));
	assert_false(isim_prefix_contains(&odd2, &odd));

	assert_true(isim_prefix_overlaps(&a, &b));
	assert_true(isim_prefix_overlaps(&b, &a));
	assert_false(isim_prefix_overlaps(&a, &c));
	assert_false(isim_prefix_overlaps(&odd, &odd2));
	assert_false(isim_prefix_overlaps(&v6, &a));

	assert_true(isim_prefix_is_host(&b));
	assert_false(isim_prefix_is_host(&a));
	assert_true(isim_prefix_is_host(&v6h));
	assert_false(isim_prefix_is_host(&v6));

	assert_true(isim_prefix_equal(&a, &a));
	assert_false(isim_prefix_equal(&a, &d));
	assert_int_equal(isim_prefix_cmp(&a, &d), -1); /* same address, shorter first */
	assert_int_equal(isim_prefix_cmp(&d, &a), 1);
	assert_int_equal(isim_prefix_cmp(&a, &c), -1);
	assert_int_equal(isim_prefix_cmp(&b, &c), -1);
	assert_int_equal(isim_prefix_cmp(&a, &v6), -1); /* AF_INET before AF_INET6 */
	assert_int_equal(isim_prefix_cmp(&v6, &v6h), -1);
	assert_int_equal(isim_prefix_cmp(&a, &a), 0);
}

static int cmp(const void *a, const void *b)
{
	return isim_prefix_cmp(a, b);
}

static void test_sort(void **state)
{
	static const char *in[] = { "fd10::/16", "10.1.0.0/16", "10.0.0.0/8", "::/0", "9.0.0.0/8", "10.0.0.0/16" };
	static const char *want[] = { "9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "::/0", "fd10::/16" };
	struct isim_prefix p[6];
	char text[ISIM_PREFIX_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++)
		p[i] = P(in[i]);
	qsort(p, 6, sizeof(p[0]), cmp);
	for (i = 0; i < 6; i++) {
		isim_prefix_format(&p[i], text);
		assert_string_equal(text, want[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	  cmocka_unit_test(test_bad),  cmocka_unit_test(test_host_bits_ok),
		cmocka_unit_test(test_relations), cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
