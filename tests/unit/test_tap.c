/* SPDX-License-Identifier: MIT */
/* Selftest reports read from a serial console: a table of logs, as the
 * guest prints them amid the kernel's and services' messages, with the
 * report each must give and whether it counts as passed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/buf.h"
#include "isim/tap.h"
#include "testutil.h"

/* What a one-selftest run of base-minimal prints around its tests. */
#define BEGIN "SELFTEST BEGIN\n# selftest base-minimal/test_base begin\n"
#define END(verdict, status)                                                                \
	"# selftest base-minimal/test_base end " verdict "\n# selftests: 1 run, 0 failed\n" \
	"SELFTEST END status=" status "\n"
#define TWO_OK "ok 1 - loopback is up\nok 2 - IPv6 is enabled\n1..2\n"

/* The report of BEGIN TWO_OK END("ok", "0"), member for member. */
#define TWO_OK_REPORT                                                                                               \
	"{'complete': true, 'status': 0, 'passed': 2, 'failed': 0, 'skipped': 0, 'selftests': [{'feature': "        \
	"'base-minimal', 'name': 'test_base', 'ok': true, 'plan': 2, 'passed': 2, 'failed': 0, 'skipped': 0, "      \
	"'tests': [{'number': 1, 'ok': true, 'skip': false, 'description': 'loopback is up'}, {'number': 2, 'ok': " \
	"true, 'skip': false, 'description': 'IPv6 is enabled'}]}]}"

/* JSON text with ' for ", parsed. */
static cJSON *json(const char *text)
{
	char *s = strdup(text), *p;
	cJSON *v;

	assert_non_null(s);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = cJSON_Parse(s);
	if (!v)
		fail_msg("bad expected JSON: %s", s);
	free(s);
	return v;
}

/* Each member want names has the same value in got; arrays have as many
 * elements, each within its counterpart. */
static bool within(const cJSON *want, const cJSON *got)
{
	const cJSON *w, *g;

	if (cJSON_IsObject(want)) {
		if (!cJSON_IsObject(got))
			return false;
		cJSON_ArrayForEach (w, want) {
			if (!within(w, cJSON_GetObjectItemCaseSensitive(got, w->string)))
				return false;
		}
		return true;
	}
	if (cJSON_IsArray(want)) {
		if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got))
			return false;
		for (w = want->child, g = got->child; w; w = w->next, g = g->next)
			if (!within(w, g))
				return false;
		return true;
	}
	return got && cJSON_Compare(want, got, true);
}

static cJSON *parse(const char *text, size_t len)
{
	struct isim_error err;
	cJSON *report = NULL;

	isim_error_clear(&err);
	if (isim_tap_parse(text, len, &report, &err) < 0)
		fail_msg("isim_tap_parse: %s", tu_msg(&err));
	assert_non_null(report);
	return report;
}

struct tap_case {
	const char *what;
	const char *log;
	size_t len; /* 0: strlen(log) */
	const char *want;
	bool passed;
};

static const struct tap_case tap_cases[] = {
	{ "a clean run", BEGIN TWO_OK END("ok", "0"), 0, TWO_OK_REPORT, true },
	{ "CR LF line ends",
	  "SELFTEST BEGIN\r\n# selftest base-minimal/test_base begin\r\nok 1 - loopback is up\r\nok 2 - IPv6 is "
	  "enabled\r\n1..2\r\n# selftest base-minimal/test_base end ok\r\n# selftests: 1 run, 0 failed\r\nSELFTEST END "
	  "status=0\r\n",
	  0, TWO_OK_REPORT, true },
	{ "kernel messages and look-alikes before SELFTEST BEGIN",
	  "[    0.000000] Linux version 6.1.0-18-cloud-amd64\n[    1.204518] EXT4-fs (vda2): mounted filesystem\n"
	  "# selftest fake/early begin\nok 1 - not a selftest yet\nnot ok 2 - nor this\n1..9\n"
	  "# selftest fake/early end failed\nSELFTEST END status=1\n" BEGIN TWO_OK END("ok", "0"),
	  0, TWO_OK_REPORT, true },
	{ "what a service printed without a newline before SELFTEST BEGIN",
	  " * Starting infrasim-selftest ...SELFTEST BEGIN\n# selftest base-minimal/test_base begin\n" TWO_OK END("ok",
														  "0"),
	  0, TWO_OK_REPORT, true },
	{ "console noise between the tests",
	  BEGIN "[   12.345678] random: crng init done\nok 1 - loopback is up\n * Starting sshd ... [ ok ]\n"
		"okay, this is noise\nok 2 - IPv6 is enabled\n[   13.000001] virtio_net virtio0 eth0: link up\n"
		"1..2\n" END("ok", "0"),
	  0, TWO_OK_REPORT, true },
	{ "a test not ok",
	  BEGIN
	  "ok 1 - loopback is up\nnot ok 2 - sshd is running\nok 3 - sshd refuses passwords\n1..3\n" END("failed", "1"),
	  0,
	  "{'complete': true, 'status': 1, 'passed': 2, 'failed': 1, 'skipped': 0, 'selftests': [{'feature': "
	  "'base-minimal', 'name': 'test_base', 'ok': false, 'plan': 3, 'passed': 2, 'failed': 1, 'skipped': 0, "
	  "'tests': [{'number': 1, 'ok': true, 'skip': false, 'description': 'loopback is up'}, {'number': 2, 'ok': "
	  "false, 'skip': false, 'description': 'sshd is running'}, {'number': 3, 'ok': true, 'skip': false, "
	  "'description': 'sshd refuses passwords'}]}]}",
	  false },
	{ "a skipped test",
	  BEGIN "ok 1 - loopback is up\nok 2 - the Tailscale node is up # SKIP no tailscaled in this image\n"
		"ok 3 - IPv6 is enabled # skip no IPv6 here\n1..3\n" END("ok", "0"),
	  0,
	  "{'complete': true, 'status': 0, 'passed': 1, 'failed': 0, 'skipped': 2, 'selftests': [{'ok': true, "
	  "'plan': 3, 'passed': 1, 'failed': 0, 'skipped': 2, 'tests': [{'number': 1, 'ok': true, 'skip': false}, "
	  "{'number': 2, 'ok': true, 'skip': true, 'description': 'the Tailscale node is up'}, {'number': 3, 'ok': "
	  "true, 'skip': true, 'description': 'IPv6 is enabled'}]}]}",
	  true },
	{ "a '#' that is not a SKIP directive", BEGIN "ok 1 - port 22 # the default\n1..1\n" END("ok", "0"), 0,
	  "{'skipped': 0, 'passed': 1, 'selftests': [{'ok': true, 'tests': [{'skip': false, 'description': 'port "
	  "22'}]}]}",
	  true },
	{ "a test with no number or description", BEGIN "ok\nok -\n1..2\n" END("ok", "0"), 0,
	  "{'passed': 2, 'selftests': [{'ok': true, 'plan': 2, 'tests': [{'number': null, 'ok': true, 'description': "
	  "''}, {'number': null, 'description': ''}]}]}",
	  true },
	{ "no SELFTEST END: the guest stopped",
	  BEGIN TWO_OK "# selftest base-minimal/test_base end ok\n[  300.000000] reboot: Power down\n", 0,
	  "{'complete': false, 'status': null, 'passed': 2, 'failed': 0, 'selftests': [{'name': 'test_base', "
	  "'ok': true, 'plan': 2, 'passed': 2}]}",
	  false },
	{ "no SELFTEST END, and the selftest cut short", BEGIN "ok 1 - loopback is up\n", 0,
	  "{'complete': false, 'status': null, 'passed': 1, 'selftests': [{'ok': false, 'plan': null, 'passed': 1, "
	  "'tests': [{'number': 1, 'description': 'loopback is up'}]}]}",
	  false },
	{ "never began", "[    0.000000] Linux version 6.1.0\nKernel panic - not syncing: VFS\n", 0,
	  "{'complete': false, 'status': null, 'passed': 0, 'failed': 0, 'skipped': 0, 'selftests': []}", false },
	{ "a plan with more tests than ran",
	  BEGIN "ok 1 - loopback is up\nok 2 - IPv6 is enabled\n1..3\n" END("ok", "0"), 0,
	  "{'complete': true, 'status': 0, 'passed': 2, 'failed': 0, 'selftests': [{'ok': false, 'plan': 3, "
	  "'passed': 2, 'failed': 0, 'skipped': 0}]}",
	  false },
	{ "a plan with fewer tests than ran",
	  BEGIN "ok 1 - loopback is up\nok 2 - IPv6 is enabled\n1..1\n" END("ok", "0"), 0,
	  "{'selftests': [{'ok': false, 'plan': 1, 'passed': 2}]}", false },
	{ "no plan", BEGIN "ok 1 - loopback is up\n" END("ok", "0"), 0,
	  "{'passed': 1, 'selftests': [{'ok': true, 'plan': null, 'passed': 1}]}", true },
	{ "an empty selftest", BEGIN "1..0\n" END("ok", "0"), 0,
	  "{'complete': true, 'status': 0, 'passed': 0, 'selftests': [{'ok': false, 'plan': 0, 'passed': 0, "
	  "'failed': 0, 'skipped': 0, 'tests': []}]}",
	  false },
	{ "a selftest that ended failed with every test ok", BEGIN TWO_OK END("failed", "1"), 0,
	  "{'complete': true, 'status': 1, 'passed': 2, 'failed': 0, 'selftests': [{'ok': false, 'plan': 2, "
	  "'passed': 2, 'failed': 0}]}",
	  false },
	{ "every test ok but the guest's status is not 0", BEGIN TWO_OK END("ok", "1"), 0,
	  "{'complete': true, 'status': 1, 'selftests': [{'ok': true}]}", false },
	{ "SELFTEST END without a status", BEGIN TWO_OK "# selftest base-minimal/test_base end ok\nSELFTEST END\n", 0,
	  "{'complete': true, 'status': null, 'selftests': [{'ok': true}]}", false },
	{ "no end line before the next begin",
	  "SELFTEST BEGIN\n# selftest base-minimal/test_base begin\nok 1 - loopback is up\n1..1\n"
	  "# selftest vpn-wireguard/test_wg begin\nok 1 - wg0 is up\nnot ok 2 - a peer answers\n1..2\n"
	  "# selftest vpn-wireguard/test_wg end failed\n# selftests: 2 run, 1 failed\nSELFTEST END status=1\n",
	  0,
	  "{'complete': true, 'status': 1, 'passed': 2, 'failed': 1, 'skipped': 0, 'selftests': [{'feature': "
	  "'base-minimal', 'name': 'test_base', 'ok': false, 'plan': 1, 'passed': 1, 'failed': 0, 'tests': "
	  "[{'number': 1, 'description': 'loopback is up'}]}, {'feature': 'vpn-wireguard', 'name': 'test_wg', 'ok': "
	  "false, 'plan': 2, 'passed': 1, 'failed': 1, 'tests': [{'number': 1, 'ok': true, 'description': 'wg0 is "
	  "up'}, {'number': 2, 'ok': false, 'description': 'a peer answers'}]}]}",
	  false },
	{ "two selftests that pass",
	  "SELFTEST BEGIN\n# selftest base-minimal/test_base begin\n" TWO_OK
	  "# selftest base-minimal/test_base end ok\n# selftest base-minimal/test_inputs begin\nok 1 - a # SKIP "
	  "no input\n1..1\n# selftest base-minimal/test_inputs end ok\n# selftests: 2 run, 0 failed\n"
	  "SELFTEST END status=0\n",
	  0,
	  "{'complete': true, 'status': 0, 'passed': 2, 'failed': 0, 'skipped': 1, 'selftests': [{'name': "
	  "'test_base', 'ok': true, 'passed': 2}, {'name': 'test_inputs', 'ok': true, 'passed': 0, 'skipped': 1}]}",
	  true },
	{ "what comes after SELFTEST END is not read",
	  BEGIN TWO_OK END("ok", "0") "# selftest late/test begin\nnot ok 1 - too late\n1..1\n", 0,
	  "{'passed': 2, 'failed': 0, 'selftests': [{'name': 'test_base', 'ok': true}]}", true },
	{ "a begin line without FEATURE/NAME is not a selftest",
	  BEGIN TWO_OK "# selftest base-minimal/test_base end ok\n# selftest nameless begin\nok 1 - orphan\n1..1\n"
		       "SELFTEST END status=0\n",
	  0, "{'passed': 2, 'selftests': [{'name': 'test_base', 'ok': true}]}", true },
	{ "NUL bytes in the console",
	  BEGIN "ok 1 - loop\0back is up\n\0\0\0\nok 2 - IPv6 is enabled\n1..2\n" END("ok", "0"),
	  sizeof(BEGIN "ok 1 - loop\0back is up\n\0\0\0\nok 2 - IPv6 is enabled\n1..2\n" END("ok", "0")) - 1,
	  "{'complete': true, 'status': 0, 'passed': 2, 'selftests': [{'ok': true, 'tests': [{'description': "
	  "'loop?back is up'}, {'description': 'IPv6 is enabled'}]}]}",
	  true },
	{ "an empty log", "", 0,
	  "{'complete': false, 'status': null, 'passed': 0, 'failed': 0, 'skipped': 0, 'selftests': []}", false },
};

static void test_tap_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tap_cases) / sizeof(tap_cases[0]); i++) {
		const struct tap_case *c = &tap_cases[i];
		cJSON *report = parse(c->log, c->len ? c->len : strlen(c->log)), *want = json(c->want);

		if (!within(want, report) || isim_tap_passed(report) != c->passed) {
			char *got = cJSON_PrintUnformatted(report);

			print_error("%s: got %s (passed %d)\n", c->what, got, isim_tap_passed(report));
			free(got);
		}
		assert_true(within(want, report));
		assert_int_equal(isim_tap_passed(report), c->passed);
		cJSON_Delete(want);
		cJSON_Delete(report);
	}
	print_message("# %zu console logs\n", i);
}

/* The whole report, nothing more than isim-formats(5) describes. */
static void test_tap_report_exact(void **state)
{
	static const char log[] = BEGIN TWO_OK END("ok", "0");
	cJSON *report = parse(log, sizeof(log) - 1), *want = json(TWO_OK_REPORT);

	(void)state;
	assert_true(cJSON_Compare(want, report, true));
	/* The comparison itself tells a changed value apart. */
	cJSON_ReplaceItemInObjectCaseSensitive(want, "skipped", cJSON_CreateNumber(1));
	assert_false(cJSON_Compare(want, report, true));
	assert_false(within(want, report));
	cJSON_Delete(want);
	cJSON_Delete(report);
}

/* A line of 10 KB is cut to what a line buffer holds; the lines after it
 * read as usual. */
static void test_tap_long_line(void **state)
{
	const size_t n = 10 * 1024;
	struct isim_buf b = { 0 };
	const cJSON *st, *t;
	cJSON *report;
	char *log, *desc;
	size_t len;

	(void)state;
	desc = malloc(n + 1);
	assert_non_null(desc);
	memset(desc, 'x', n);
	desc[n] = '\0';
	isim_buf_printf(&b, BEGIN "ok 1 - %s\n[ %s ]\nok 2 - IPv6 is enabled\n1..2\n" END("ok", "0"), desc, desc);
	assert_false(b.oom);
	len = b.len;
	log = isim_buf_take(&b);
	report = parse(log, len);
	st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(report, "selftests"), 0);
	assert_non_null(st);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "tests")), 2);
	t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "tests"), 0);
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "description")));
	len = strlen(cJSON_GetObjectItemCaseSensitive(t, "description")->valuestring);
	assert_true(len > 1000);
	assert_true(len < n);
	assert_int_equal(strspn(cJSON_GetObjectItemCaseSensitive(t, "description")->valuestring, "x"), len);
	t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "tests"), 1);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "description")->valuestring, "IPv6 is enabled");
	assert_true(isim_tap_passed(report));
	cJSON_Delete(report);
	free(log);
	free(desc);
}

/* isim_tap_passed on reports that did not come from the parser. */
static void test_tap_passed_shapes(void **state)
{
	static const struct {
		const char *report;
		bool passed;
	} cases[] = {
		{ "{'complete': true, 'status': 0, 'selftests': [{'ok': true}]}", true },
		{ "{'complete': true, 'status': 0, 'selftests': [{'ok': true}, {'ok': false}]}", false },
		{ "{'complete': true, 'status': 0, 'selftests': []}", false },
		{ "{'complete': true, 'status': 0}", false },
		{ "{'complete': true, 'status': '0', 'selftests': [{'ok': true}]}", false },
		{ "{'complete': 1, 'status': 0, 'selftests': [{'ok': true}]}", false },
		{ "{'status': 0, 'selftests': [{'ok': true}]}", false },
		{ "{'complete': true, 'status': 0, 'selftests': [{'ok': 'yes'}]}", false },
		{ "[]", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *r = json(cases[i].report);

		if (isim_tap_passed(r) != cases[i].passed)
			print_error("%s\n", cases[i].report);
		assert_int_equal(isim_tap_passed(r), cases[i].passed);
		cJSON_Delete(r);
	}
	assert_false(isim_tap_passed(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_table),
		cmocka_unit_test(test_tap_report_exact),
		cmocka_unit_test(test_tap_long_line),
		cmocka_unit_test(test_tap_passed_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
