/* SPDX-License-Identifier: MIT */
/* isim-memdump in-process: command lines refused before anything is
 * opened, a state folder with no audit log yet, and a failed attempt,
 * which the audit log records as one entry of kind "memdump failed" that
 * log list, show and verify then agree on. No QEMU runs here:
 * tests/integration/memdump.sh dumps real guests, memdump-log.sh tampers
 * with the log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "isim-memdump/log.h"
#include "testutil.h"

struct where {
	struct tu_where *w;
	char state[PATH_MAX];
};

static int md_setup(void **state)
{
	struct where *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->w = tu_enter_tmpdir();
	assert_true(snprintf(h->state, sizeof(h->state), "%s/state", h->w->dir) < (int)sizeof(h->state));
	assert_int_equal(setenv("ISIM_STATE_DIR", h->state, 1), 0);
	*state = h;
	return 0;
}

static int md_teardown(void **state)
{
	struct where *h = *state;

	unsetenv("ISIM_STATE_DIR");
	tu_leave_tmpdir(h->w);
	free(h);
	return 0;
}

static struct tu_run md(const char *first, ...)
{
	char *argv[16] = { "isim-memdump" };
	const char *a = first;
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	while (a && argc < 15) {
		argv[argc++] = (char *)a;
		a = va_arg(ap, const char *);
	}
	va_end(ap);
	argv[argc] = NULL;
	return tu_call(isim_memdump_main, argc, argv);
}

static const struct tu_cmd_case usage_cases[] = {
	{ { "--version" }, 0, NULL, "isim-memdump 0." },
	{ { "--help" }, 0, NULL, "  log " },
	{ { "dump", "--help" }, 0, NULL, "usage: isim-memdump VM -o DUMP -k KEY" },
	{ { "log", "list", "--help" }, 0, NULL, "usage: isim-memdump log list" },
	{ { NULL }, 64, "isim-memdump: no VM given", NULL },
	{ { "dump", "--no-such-option", "x" }, 64, "isim-memdump dump: bad option '--no-such-option'", NULL },
	{ { "x1", "y1", "-o", "x.elf" }, 64, "one VM at most", NULL },
	{ { "x1", "--qmp", "q.sock", "-o", "x.elf" }, 64, "a VM name or --qmp, not both", NULL },
	{ { "x1", "-k", "k" }, 64, "no output: give -o DUMP", NULL },
	{ { "x1", "-o", "x.elf", "-k", "k", "--format", "tiff" }, 64, "--format: 'tiff'", NULL },
	{ { "log", "show", "0" }, 64, "SEQ: '0' is not an entry number", NULL },
	{ { "log", "bogus" }, 64, "bogus", NULL },
	{ { "log", "list" }, 66, "no audit log", NULL },
	{ { "log", "verify" }, 66, "no audit log", NULL },
	{ { "verify", "nonexistent.elf" }, 66, "nonexistent.elf.record.json: cannot open", NULL },
};

static void test_usage(void **state)
{
	(void)state;
	tu_run_cases(isim_memdump_main, "isim-memdump", usage_cases, sizeof(usage_cases) / sizeof(usage_cases[0]));
}

/* A dump that cannot start (no such key) leaves no dump and one entry. */
static void test_failed_attempt_logged(void **state)
{
	struct where *h = *state;
	struct tu_run r;
	struct stat st;
	cJSON *doc;

	(void)h;
	r = md("--qmp", "nonexistent.sock", "-o", "d.elf", "-k", "nonexistent.key", (char *)NULL);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "nonexistent.key"));
	assert_string_equal(r.out, "");
	tu_run_free(&r);
	assert_int_not_equal(stat("d.elf", &st), 0);
	assert_int_not_equal(stat("d.elf.record.json", &st), 0);

	r = md("log", "list", (char *)NULL);
	assert_int_equal(r.code, 0);
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(doc), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "kind")->valuestring, "memdump failed");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "seq")->valueint, 1);
	cJSON_Delete(doc);
	tu_run_free(&r);

	r = md("log", "verify", (char *)NULL);
	assert_int_equal(r.code, 0);
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ok")));
	assert_int_equal(cJSON_GetObjectItem(doc, "entries")->valueint, 1);
	cJSON_Delete(doc);
	tu_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage, md_setup, md_teardown),
		cmocka_unit_test_setup_teardown(test_failed_attempt_logged, md_setup, md_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
