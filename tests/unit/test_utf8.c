/* SPDX-License-Identifier: MIT */
/* RFC 3629 UTF-8: every boundary of the well-formed ranges (Unicode table
 * 3-7), the reason and place of each fault, maximal-subpart replacement,
 * code point counts, and the reference JCS texts read as well-formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/file.h"
#include "isim/utf8.h"

struct decode_case {
	const char *in;
	size_t len;
	uint32_t cp;  /* ISIM_UTF8_BAD when ill-formed */
	size_t taken; /* bytes isim_utf8_next consumes */
};

static const struct decode_case decode_cases[] = {
	{ "\x00", 1, 0x00, 1 },
	{ "\x7f", 1, 0x7f, 1 },
	{ "\xc2\x80", 2, 0x80, 2 },
	{ "\xdf\xbf", 2, 0x7ff, 2 },
	{ "\xe0\xa0\x80", 3, 0x800, 3 },
	{ "\xed\x9f\xbf", 3, 0xd7ff, 3 },
	{ "\xee\x80\x80", 3, 0xe000, 3 },
	{ "\xef\xbf\xbf", 3, 0xffff, 3 }, /* a noncharacter, yet well-formed */
	{ "\xf0\x90\x80\x80", 4, 0x10000, 4 },
	{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff, 4 },
	/* Faults: the length is the maximal subpart. */
	{ "\x80", 1, ISIM_UTF8_BAD, 1 },
	{ "\xbf", 1, ISIM_UTF8_BAD, 1 },
	{ "\xc0\x80", 2, ISIM_UTF8_BAD, 1 },	     /* overlong U+0000 */
	{ "\xc1\xbf", 2, ISIM_UTF8_BAD, 1 },	     /* overlong U+007F */
	{ "\xe0\x9f\xbf", 3, ISIM_UTF8_BAD, 1 },     /* overlong U+07FF */
	{ "\xed\xa0\x80", 3, ISIM_UTF8_BAD, 1 },     /* U+D800 */
	{ "\xed\xbf\xbf", 3, ISIM_UTF8_BAD, 1 },     /* U+DFFF */
	{ "\xf0\x8f\xbf\xbf", 4, ISIM_UTF8_BAD, 1 }, /* overlong U+FFFF */
	{ "\xf4\x90\x80\x80", 4, ISIM_UTF8_BAD, 1 }, /* U+110000 */
	{ "\xf5\x80\x80\x80", 4, ISIM_UTF8_BAD, 1 },
	{ "\xf8\x88\x80\x80\x80", 5, ISIM_UTF8_BAD, 1 },
	{ "\xff", 1, ISIM_UTF8_BAD, 1 },
	{ "\xc2", 1, ISIM_UTF8_BAD, 1 },
	{ "\xc2\x41", 2, ISIM_UTF8_BAD, 1 },
	{ "\xe0\xa0", 2, ISIM_UTF8_BAD, 2 },
	{ "\xe0\xa0\x41", 3, ISIM_UTF8_BAD, 2 },
	{ "\xf0\x90\x80", 3, ISIM_UTF8_BAD, 3 },
	{ "\xf4\x8f\xbf\x41", 4, ISIM_UTF8_BAD, 3 },
};

static void test_next(void **state)
{
	size_t i, got;
	uint32_t cp;

	(void)state;
	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *c = &decode_cases[i];

		got = isim_utf8_next(c->in, c->len, &cp);
		if (cp != c->cp || got != c->taken)
			fail_msg("case %zu: got U+%04X in %zu bytes, expected U+%04X in %zu", i, cp, got, c->cp,
				 c->taken);
		assert_int_equal(isim_utf8_valid(c->in, c->len), c->cp != ISIM_UTF8_BAD);
	}
	assert_int_equal(isim_utf8_next("", 0, &cp), 0);
}

struct check_case {
	const char *in;
	size_t len;
	long at;
	const char *why;
};

static const struct check_case check_cases[] = {
	{ "plain ascii", 11, -1, NULL },
	{ "caf\xc3\xa9 \xf0\x9f\x98\x82", 10, -1, NULL },
	{ "", 0, -1, NULL },
	{ "ab\x80", 3, 2, "invalid UTF-8 byte 0x80 (continuation byte without a lead byte)" },
	{ "a\xc0\xaf", 3, 1, "invalid UTF-8 byte 0xC0 (overlong encoding)" },
	{ "\xfe", 1, 0, "invalid UTF-8 byte 0xFE (never used in UTF-8)" },
	{ "\xf5\x80\x80\x80", 4, 0, "invalid UTF-8 byte 0xF5 (code point beyond U+10FFFF)" },
	{ "xyz\xe2\x82", 5, 3, "truncated UTF-8 sequence starting with 0xE2" },
	{ "\xe2\x82z", 3, 0, "truncated UTF-8 sequence starting with 0xE2" },
	{ "a\xed\xa0\x80", 4, 2, "invalid UTF-8 byte 0xA0 after 0xED (surrogate encoded in UTF-8)" },
	{ "\xf4\x90\x80\x80", 4, 1, "invalid UTF-8 byte 0x90 after 0xF4 (code point beyond U+10FFFF)" },
	{ "\xe0\x80\x80", 3, 1, "invalid UTF-8 byte 0x80 after 0xE0 (overlong encoding)" },
	{ "\xf0\x80\x80\x80", 4, 1, "invalid UTF-8 byte 0x80 after 0xF0 (overlong encoding)" },
	/* U+0000 inside is well-formed; the length is what counts. */
	{ "a\0b", 3, -1, NULL },
};

static void test_check(void **state)
{
	char why[128];
	size_t i;
	long at;

	(void)state;
	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];

		why[0] = '\0';
		at = isim_utf8_check(c->in, c->len, why, sizeof(why));
		if (at != c->at)
			fail_msg("case %zu: fault at %ld, expected %ld (%s)", i, at, c->at, why);
		if (c->why)
			assert_string_equal(why, c->why);
	}
	/* why may be NULL, and a short buffer still gets a terminated text. */
	assert_int_equal(isim_utf8_check("\x80", 1, NULL, 0), 0);
	assert_int_equal(isim_utf8_check("\x80", 1, why, 8), 0);
	assert_string_equal(why, "invalid");
}

static void test_count(void **state)
{
	(void)state;
	assert_int_equal(isim_utf8_count("", 0), 0);
	assert_int_equal(isim_utf8_count("abc", 3), 3);
	assert_int_equal(isim_utf8_count("\xc3\xa9t\xc3\xa9", 5), 3);
	/* One character outside the BMP is one, though UTF-16 needs two. */
	assert_int_equal(isim_utf8_count("\xf0\x9f\x98\x82", 4), 1);
	/* "A" and a combining ring: two code points. */
	assert_int_equal(isim_utf8_count("A\xcc\x8a", 3), 2);
	/* Each ill-formed subpart counts as the one U+FFFD it would become. */
	assert_int_equal(isim_utf8_count("a\xe0\xa0z\x80\x80", 6), 5);
}

static void test_encode(void **state)
{
	static const uint32_t cps[] = {
		0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff
	};
	char out[4];
	uint32_t back;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		n = isim_utf8_encode(cps[i], out);
		assert_true(n >= 1 && n <= 4);
		assert_int_equal(isim_utf8_next(out, n, &back), n);
		assert_int_equal(back, cps[i]);
	}
	assert_int_equal(isim_utf8_encode(0xd800, out), 0);
	assert_int_equal(isim_utf8_encode(0xdfff, out), 0);
	assert_int_equal(isim_utf8_encode(0x110000, out), 0);
}

static void test_cut(void **state)
{
	static const char s[] = "ab\xe2\x82\xac"; /* "ab€" */

	(void)state;
	assert_int_equal(isim_utf8_cut(s, 5, 10), 5);
	assert_int_equal(isim_utf8_cut(s, 5, 5), 5);
	assert_int_equal(isim_utf8_cut(s, 5, 4), 2);
	assert_int_equal(isim_utf8_cut(s, 5, 3), 2);
	assert_int_equal(isim_utf8_cut(s, 5, 2), 2);
	assert_int_equal(isim_utf8_cut(s, 5, 0), 0);
}

static void test_repair(void **state)
{
	bool changed;
	char *r;

	(void)state;
	r = isim_utf8_repair("caf\xc3\xa9", 5, &changed);
	assert_non_null(r);
	assert_false(changed);
	assert_string_equal(r, "caf\xc3\xa9");
	free(r);

	/* Unicode 15 section 3.9's own example of maximal subparts:
	 * 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 reads as
	 * a FFFD FFFD FFFD b FFFD c FFFD FFFD d. */
	r = isim_utf8_repair("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", 13, &changed);
	assert_non_null(r);
	assert_true(changed);
	assert_string_equal(r, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "b\xef\xbf\xbd"
			       "c\xef\xbf\xbd\xef\xbf\xbd"
			       "d");
	assert_true(isim_utf8_valid(r, strlen(r)));
	free(r);

	r = isim_utf8_repair("\xed\xa0\x80", 3, NULL);
	assert_non_null(r);
	assert_string_equal(r, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(r);
}

/* Every sequence of up to three bytes: the checker, the decoder and the
 * repair agree on what is well-formed, and a repair always is. */
static void test_exhaustive(void **state)
{
	unsigned char b[3];
	uint32_t a, cp;
	size_t n, i, k;
	bool ok, changed;
	char *r;

	(void)state;
	for (n = 1; n <= 3; n++) {
		for (a = 0; a < (1u << (8 * n)); a++) {
			for (i = 0; i < n; i++)
				b[i] = (unsigned char)(a >> (8 * i));
			/* The decoder walks it whole only if the checker passes it. */
			ok = true;
			for (i = 0; i < n; i += k) {
				k = isim_utf8_next((const char *)b + i, n - i, &cp);
				if (cp == ISIM_UTF8_BAD || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
					ok = false;
			}
			assert_int_equal(ok, isim_utf8_valid((const char *)b, n));
			r = isim_utf8_repair((const char *)b, n, &changed);
			assert_non_null(r);
			assert_int_equal(changed, !ok);
			assert_true(isim_utf8_valid(r, strlen(r)));
			free(r);
		}
	}
}

/* The RFC 8785 reference outputs are raw UTF-8, the Unicode cases included. */
static void test_jcs_vectors(void **state)
{
	static const char *const names[] = { "arrays", "french", "structures", "unicode", "values", "weird" };
	const char *dir = getenv("ISIM_VECTORS");
	struct isim_error err;
	char path[1024];
	char *text, *r;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/jcs/output/%s.json", dir ? dir : "tests/vectors", names[i]);
		if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err) < 0)
			fail_msg("%s: %s", path, err.msg);
		assert_int_equal(isim_utf8_check(text, len, NULL, 0), -1);
		r = isim_utf8_repair(text, len, NULL);
		assert_non_null(r);
		assert_memory_equal(r, text, len);
		free(r);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),	   cmocka_unit_test(test_check),       cmocka_unit_test(test_count),
		cmocka_unit_test(test_encode),	   cmocka_unit_test(test_cut),	       cmocka_unit_test(test_repair),
		cmocka_unit_test(test_exhaustive), cmocka_unit_test(test_jcs_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
