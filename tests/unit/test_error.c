/* SPDX-License-Identifier: MIT */
/* struct isim_error: how an error reads once formatted, what each setter
 * keeps, and that untrusted text cannot reach a terminal as control codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "isim/error.h"
#include "testutil.h"

struct format_case {
	const char *path;
	int line, column;
	const char *pointer;
	const char *msg;
	const char *expected;
};

/* Every combination of known parts, in the one message grammar. */
static const struct format_case format_cases[] = {
	{ "profiles/x.yaml", 12, 3, "/features/1", "feature 'vpn' is not defined",
	  "profiles/x.yaml:12:3: /features/1: feature 'vpn' is not defined" },
	{ "profiles/x.yaml", 12, 3, "", "bad", "profiles/x.yaml:12:3: bad" },
	{ "profiles/x.yaml", 12, 0, "", "bad", "profiles/x.yaml:12: bad" },
	{ "profiles/x.yaml", 0, 7, "", "bad", "profiles/x.yaml: bad" },
	{ "profiles/x.yaml", 0, 0, "/a", "bad", "profiles/x.yaml: /a: bad" },
	{ "", 0, 0, "/a/b~1c", "bad", "/a/b~1c: bad" },
	{ "", 4, 2, "", "bad", "bad" },
	{ "", 0, 0, "", "", "unknown error" },
	{ "x.json", 1, 1, "", "", "x.json:1:1: unknown error" },
};

static void test_format_parts(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const struct format_case *c = &format_cases[i];
		struct isim_error err;

		isim_error_clear(&err);
		isim_error_at(&err, c->path, c->line, c->column);
		isim_error_pointer(&err, c->pointer);
		snprintf(err.msg, sizeof(err.msg), "%s", c->msg);
		assert_string_equal(tu_msg(&err), c->expected);
	}
}

static void test_set_keeps_location(void **state)
{
	struct isim_error err;

	(void)state;
	isim_error_clear(&err);
	isim_error_at(&err, "a.yaml", 3, 9);
	isim_error_pointer(&err, "/name");
	assert_int_equal(isim_error_set(&err, ISIM_ERR_DATA, "expected %s, got %d", "a string", 42), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(tu_msg(&err), "a.yaml:3:9: /name: expected a string, got 42");

	/* A later message replaces the text but not where it is. */
	isim_error_set(&err, ISIM_ERR_CONFIG, "second");
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_string_equal(tu_msg(&err), "a.yaml:3:9: /name: second");

	/* A NULL path keeps the file and moves the position. */
	isim_error_at(&err, NULL, 5, 1);
	assert_string_equal(tu_msg(&err), "a.yaml:5:1: /name: second");
	isim_error_pointer(&err, NULL);
	assert_string_equal(tu_msg(&err), "a.yaml:5:1: second");
}

static void test_code_never_zero(void **state)
{
	struct isim_error err;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(err.kind, 0);
	isim_error_set(&err, 0, "oops");
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
}

static void test_null_error(void **state)
{
	(void)state;
	/* Callers that do not want details pass NULL; nothing breaks. */
	assert_int_equal(isim_error_set(NULL, ISIM_ERR_DATA, "x"), -1);
	assert_int_equal(isim_error_errno(NULL, ISIM_ERR_IO, EIO, "x"), -1);
	isim_error_at(NULL, "p", 1, 1);
	isim_error_pointer(NULL, "/a");
	isim_error_clear(NULL);
}

static void test_errno_suffix(void **state)
{
	struct isim_error err;
	char expected[256];

	(void)state;
	isim_error_clear(&err);
	isim_error_at(&err, "/etc/infrasim/x.conf", 0, 0);
	assert_int_equal(isim_error_errno(&err, ISIM_ERR_NOINPUT, ENOENT, "cannot open"), -1);
	snprintf(expected, sizeof(expected), "/etc/infrasim/x.conf: cannot open: %s", strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
}

static void test_long_message_truncated(void **state)
{
	struct isim_error err;
	char big[3000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	isim_error_clear(&err);
	isim_error_set(&err, ISIM_ERR_DATA, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	isim_error_at(&err, big, 1, 2);
	assert_int_equal(strlen(err.path), sizeof(err.path) - 1);
	isim_error_pointer(&err, big);
	assert_int_equal(strlen(err.pointer), sizeof(err.pointer) - 1);
	/* All three parts at their longest still format whole. */
	assert_int_equal(strlen(tu_msg(&err)), (sizeof(err.path) - 1) + strlen(":1:2: ") + (sizeof(err.pointer) - 1) +
						       2 + (sizeof(err.msg) - 1));
}

static void test_format_small_buffer(void **state)
{
	struct isim_error err;
	char buf[8];

	(void)state;
	isim_error_clear(&err);
	isim_error_at(&err, "file.yaml", 10, 2);
	isim_error_set(&err, ISIM_ERR_DATA, "message");
	memset(buf, 'Z', sizeof(buf));
	isim_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "file.ya");
	isim_error_format(&err, buf, 1);
	assert_string_equal(buf, "");
}

struct sanitize_case {
	const char *in;
	const char *out;
};

static const struct sanitize_case sanitize_cases[] = {
	{ "plain text", "plain text" },
	{ "\x1b[31mred\x1b[0m", "?[31mred?[0m" },
	{ "line\nbreak\r\ttab", "line?break??tab" },
	{ "bell\a del\x7f", "bell? del?" },
	/* UTF-8 text is kept... */
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
	/* ...but not the C1 controls it can encode: U+009B is CSI in xterm. */
	{ "\xc2\x9b"
	  "31mred",
	  "?31mred" },
	{ "\xc2\x85next line", "?next line" },
	{ "\xc2\xa0nbsp", "\xc2\xa0nbsp" },
	{ "", "" },
};

static void test_sanitize(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sanitize_cases) / sizeof(sanitize_cases[0]); i++) {
		char out[64];

		isim_sanitize(out, sizeof(out), sanitize_cases[i].in);
		assert_string_equal(out, sanitize_cases[i].out);
	}
}

static void test_sanitize_bounds(void **state)
{
	char out[4] = "abc";

	(void)state;
	isim_sanitize(out, 0, "xyz");
	assert_string_equal(out, "abc");
	isim_sanitize(out, 1, "xyz");
	assert_string_equal(out, "");
	isim_sanitize(out, sizeof(out), "\x1bxyzw");
	assert_string_equal(out, "?xy");
	/* A C1 control cut by the end of the buffer is still not let through. */
	isim_sanitize(out, 3, "a\xc2\x9b");
	assert_string_equal(out, "a?");
}

static void test_format_sanitizes_every_part(void **state)
{
	struct isim_error err;

	(void)state;
	isim_error_clear(&err);
	isim_error_at(&err, "evil\x1b]0;title\a.yaml", 1, 1);
	isim_error_pointer(&err, "/k\n");
	isim_error_set(&err, ISIM_ERR_DATA, "value '%s'", "\x1b[2J");
	assert_string_equal(tu_msg(&err), "evil?]0;title?.yaml:1:1: /k?: value '?[2J'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parts),	    cmocka_unit_test(test_set_keeps_location),
		cmocka_unit_test(test_code_never_zero),	    cmocka_unit_test(test_null_error),
		cmocka_unit_test(test_errno_suffix),	    cmocka_unit_test(test_long_message_truncated),
		cmocka_unit_test(test_format_small_buffer), cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_bounds),	    cmocka_unit_test(test_format_sanitizes_every_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
