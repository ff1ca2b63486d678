/* SPDX-License-Identifier: MIT */
/* struct isim_buf: text grows as appended, ownership passes with take, and
 * a failure is sticky so that callers check once at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/buf.h"

static void test_empty_take(void **state)
{
	struct isim_buf b = { 0 };
	char *s;

	(void)state;
	s = isim_buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
}

static void test_append_kinds(void **state)
{
	struct isim_buf b = { 0 };
	char *s;

	(void)state;
	isim_buf_puts(&b, "name: ");
	isim_buf_printf(&b, "%s-%03d", "node", 7);
	isim_buf_putn(&b, "\nIGNORED", 1);
	isim_buf_puts(&b, "");
	isim_buf_printf(&b, "%s", "");
	assert_false(b.oom);
	assert_int_equal(b.len, strlen("name: node-007\n"));
	s = isim_buf_take(&b);
	assert_string_equal(s, "name: node-007\n");
	free(s);
}

static void test_growth(void **state)
{
	struct isim_buf b = { 0 };
	char expected[20000], *s;
	size_t i, n = 0;

	(void)state;
	/* Past the first allocation and several doublings, one byte and one
	 * formatted chunk at a time; the text stays NUL-terminated throughout. */
	for (i = 0; i < 3000; i++) {
		isim_buf_putn(&b, "abcdefg" + i % 7, 1);
		expected[n++] = "abcdefg"[i % 7];
		assert_int_equal(b.s[b.len], '\0');
		if (i % 100 == 0) {
			isim_buf_printf(&b, "[%zu]", i);
			n += (size_t)snprintf(expected + n, sizeof(expected) - n, "[%zu]", i);
		}
	}
	assert_int_equal(b.len, n);
	assert_true(b.cap > b.len);
	s = isim_buf_take(&b);
	assert_memory_equal(s, expected, n);
	assert_int_equal(s[n], '\0');
	free(s);
}

static void test_long_printf(void **state)
{
	struct isim_buf b = { 0 };
	char big[5000], *s;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	isim_buf_puts(&b, "<");
	isim_buf_printf(&b, "%s>%d", big, 42);
	s = isim_buf_take(&b);
	assert_int_equal(strlen(s), 1 + strlen(big) + 3);
	assert_int_equal(s[0], '<');
	assert_string_equal(s + 1 + strlen(big), ">42");
	free(s);
}

static void test_embedded_nul(void **state)
{
	struct isim_buf b = { 0 };

	(void)state;
	isim_buf_putn(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.s, "a\0b", 4);
	isim_buf_free(&b);
}

static void test_take_resets(void **state)
{
	struct isim_buf b = { 0 };
	char *first, *second;

	(void)state;
	isim_buf_puts(&b, "first");
	first = isim_buf_take(&b);
	isim_buf_puts(&b, "second");
	second = isim_buf_take(&b);
	assert_string_equal(first, "first");
	assert_string_equal(second, "second");
	assert_ptr_not_equal(first, second);
	free(first);
	free(second);
}

/* Sizes that cannot be allocated, or whose sum would wrap around, fail
 * cleanly instead of writing past the buffer. */
static void test_overflow_refused(void **state)
{
	static const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 1, (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX - 3 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct isim_buf b = { 0 };

		isim_buf_puts(&b, "abcd");
		isim_buf_putn(&b, "x", sizes[i]);
		assert_true(b.oom);
		assert_int_equal(b.len, 4);
		assert_null(isim_buf_take(&b));
	}
}

static void test_failure_is_sticky(void **state)
{
	struct isim_buf b = { 0 };
	char *s;

	(void)state;
	isim_buf_puts(&b, "kept until");
	isim_buf_putn(&b, "x", SIZE_MAX);
	isim_buf_puts(&b, " more");
	isim_buf_printf(&b, "%d", 1);
	assert_true(b.oom);
	assert_int_equal(b.len, strlen("kept until"));
	/* take reports the failure once and frees; the buffer is then new. */
	assert_null(isim_buf_take(&b));
	assert_null(b.s);
	assert_false(b.oom);
	isim_buf_puts(&b, "again");
	s = isim_buf_take(&b);
	assert_string_equal(s, "again");
	free(s);
}

static void test_free_resets(void **state)
{
	struct isim_buf b = { 0 };

	(void)state;
	isim_buf_free(&b);
	isim_buf_puts(&b, "text");
	isim_buf_free(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	isim_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_take),	 cmocka_unit_test(test_append_kinds),
		cmocka_unit_test(test_growth),		 cmocka_unit_test(test_long_printf),
		cmocka_unit_test(test_embedded_nul),	 cmocka_unit_test(test_take_resets),
		cmocka_unit_test(test_overflow_refused), cmocka_unit_test(test_failure_is_sticky),
		cmocka_unit_test(test_free_resets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
