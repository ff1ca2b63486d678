/* SPDX-License-Identifier: MIT */
/* isim-build in-process: what it says and returns for the command lines
 * and inputs it must refuse before any root file system is made (the
 * builds themselves are tests/integration/build*.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim-build/build.h"
#include "testutil.h"

static const struct tu_cmd_case cases[] = {
	{ { NULL }, 64, "isim-build: no PROFILE or DIR given", NULL },
	{ { "a", "b" }, 64, "isim-build: one PROFILE or DIR only, got 'b' too", NULL },
	{ { "--frobnicate", "x" }, 64, "isim-build: bad option", NULL },
	{ { "--size", "12Q", "x" }, 64, "isim-build: --size: '12Q' is not a size (512M, 2G, bytes)", NULL },
	{ { "--size", "0", "x" }, 64, "isim-build: --size: '0' is not a size", NULL },
	{ { "--size", "-1M", "x" }, 64, "isim-build: --size: '-1M' is not a size", NULL },
	{ { "--size", "99999999999G", "x" }, 64, "is not a size", NULL },
	{ { "-b", "debian:bookworm", "--base", "debian:bookworm", "x" }, 64, "--base given twice", NULL },
	{ { "--password-fd", "3", "x" }, 64, "isim-build: --password-fd goes with --sign-key", NULL },
	{ { "-k", "k", "--password-fd", "x1", "x" }, 64, "--password-fd: 'x1' is not a descriptor number", NULL },
	{ { "--help" }, 0, NULL, "usage: isim-build [options] PROFILE|DIR" },
	{ { "--version" }, 0, NULL, "isim-build " },
	{ { "--test", "--help" }, 0, NULL, "usage: isim-build --test [options] IMAGE" },
	{ { "--test", "missing.qcow2" }, 66, "isim-build --test: missing.qcow2: cannot open", NULL },
	{ { "--test", "--timeout", "0", "x.qcow2" }, 64, "--timeout: '0' is not 1 to 86400 seconds", NULL },
	{ { "--test", "--memory", "64", "x.qcow2" }, 64, "--memory: '64' is not 128 to 65536 MiB", NULL },
	{ { "--test", "--input", "novalue", "x.qcow2" }, 64, "--input: expected NAME=FILE, got 'novalue'", NULL },
	{ { "--test", "-i", "a=f", "-i", "a=g", "x.qcow2" }, 64, "--input a given twice", NULL },
	{ { "--test", "x.qcow2", "y.qcow2" }, 64, "one IMAGE only, got 'y.qcow2' too", NULL },
	/* isim-build test is the command --test was. */
	{ { "test", "--help" }, 0, NULL, "       isim-build test [options] IMAGE" },
	{ { "test", "-h" }, 0, NULL, "usage: isim-build --test [options] IMAGE" },
	{ { "test", "--version" }, 0, NULL, "isim-build 0." },
	{ { "test" }, 64, "isim-build test: no IMAGE given (see isim-build test --help)", NULL },
	{ { "test", "missing.qcow2" }, 66, "isim-build --test: missing.qcow2: cannot open", NULL },
	{ { "test", "--memory", "abc", "x.qcow2" },
	  64,
	  "isim-build test: --memory: 'abc' is not 128 to 65536 MiB (see isim-build test --help)",
	  NULL },
	{ { "test", "--frob", "x.qcow2" }, 64, "isim-build test: bad option '--frob'", NULL },
	{ { "test", "-k", "k", "--key", "k", "x.qcow2" }, 64, "isim-build test: --sign-key given twice", NULL },
	{ { "test", "--password-fd", "3", "x.qcow2" },
	  64,
	  "isim-build test: --password-fd goes with --sign-key",
	  NULL },
	{ { "test", "-k", "/nonexistent/k", "x.qcow2" }, 66, "/nonexistent/k", NULL },
	/* The options every tool spells the same way. */
	{ { "--key", "k", "--sign-key", "k", "x" }, 64, "isim-build: --sign-key given twice", NULL },
	{ { "--cache", "a", "--cache-dir", "b", "x" }, 64, "isim-build: --cache given twice", NULL },
	{ { "-o", "a", "--out", "b", "x" }, 64, "isim-build: --out given twice", NULL },
	{ { "--features-dir", "a", "--features-dir", "b", "x" }, 64, "isim-build: --features-dir given twice", NULL },
	{ { "--size", "12Q", "x" },
	  64,
	  "isim-build: --size: '12Q' is not a size (512M, 2G, bytes) (see isim-build --help)",
	  NULL },
	{ { "--version" }, 0, NULL, "isim-build 0." },
	{ { "-V" }, 0, NULL, "isim-build 0." },
};

static void test_calls(void **state)
{
	(void)state;
	tu_run_cases(isim_build_main, "isim-build", cases, sizeof(cases) / sizeof(cases[0]));
}

/* The signing key from ISIM_SIGN_KEY when -k is not given, in the test
 * command as in isim-sign; -k still wins. */
static struct tu_run build(const char *const *args)
{
	char *argv[10];
	int argc = 0;

	argv[argc++] = (char *)"isim-build";
	for (; *args && argc < 9; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return tu_call(isim_build_main, argc, argv);
}

static void test_sign_key_env(void **state)
{
	static const char *const plain[] = { "test", "x.qcow2", NULL };
	static const char *const other[] = { "test", "-k", "/nonexistent/other", "x.qcow2", NULL };
	static const char *const pwfd[] = { "test", "--password-fd", "3", "x.qcow2", NULL };
	struct tu_run r;

	(void)state;
	assert_int_equal(setenv("ISIM_SIGN_KEY", "/nonexistent/envkey", 1), 0);
	r = build(plain);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "/nonexistent/envkey"));
	tu_run_free(&r);
	r = build(other);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "/nonexistent/other"));
	assert_null(strstr(r.err, "envkey"));
	tu_run_free(&r);
	/* --password-fd goes with the key ISIM_SIGN_KEY names, too. */
	r = build(pwfd);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "/nonexistent/envkey"));
	tu_run_free(&r);
	assert_int_equal(unsetenv("ISIM_SIGN_KEY"), 0);
}

/* A full stdout: exit 74 and one message naming stdout, for the version
 * line of the tool and of its command alike. */
static void test_stdout_full(void **state)
{
	char *argv[] = { (char *)"isim-build", (char *)"--version", NULL };
	char *argt[] = { (char *)"isim-build", (char *)"test", (char *)"--help", NULL };
	struct tu_run r;

	(void)state;
	r = tu_call_full(isim_build_main, 2, argv);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-build: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	r = tu_call_full(isim_build_main, 3, argt);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-build test: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
}

/* An image whose provenance statement is not one isim-build wrote, and
 * a test value for an input the image does not have. */
static void test_test_inputs(void **state)
{
	const char *dir = *state;
	char img[PATH_MAX], name_arg[PATH_MAX + 16];
	char *argv[6];
	struct tu_run r;

	snprintf(img, sizeof(img), "%s/x.qcow2", dir);
	tu_write(dir, "x.qcow2", "not really an image");
	argv[0] = (char *)"isim-build";
	argv[1] = (char *)"--test";
	argv[2] = img;
	argv[3] = NULL;
	r = tu_call(isim_build_main, 3, argv);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "x.provenance.json"));
	tu_run_free(&r);

	tu_write(dir, "x.provenance.json", "{\"_type\": \"https://in-toto.io/Statement/v1\"}");
	r = tu_call(isim_build_main, 3, argv);
	assert_int_equal(r.code, 65);
	assert_non_null(strstr(r.err, "/predicate/buildDefinition/externalParameters/manifest: expected the composed "
				      "manifest"));
	tu_run_free(&r);

	tu_write(dir, "x.provenance.json",
		 "{\"predicate\": {\"buildDefinition\": {\"externalParameters\": {\"manifest\": "
		 "{\"profile\": {\"name\": \"x\"}, \"inputs\": [{\"name\": \"custom_cert\", \"destination\": "
		 "\"/etc/x.pem\", \"required\": true, \"secret\": false}]}}}}}");
	r = tu_call(isim_build_main, 3, argv);
	assert_int_equal(r.code, 64);
	assert_non_null(strstr(r.err, "input 'custom_cert' is required and has no test value: give one with "
				      "--input custom_cert=FILE"));
	assert_string_equal(r.out, "");
	tu_run_free(&r);

	snprintf(name_arg, sizeof(name_arg), "nosuch=%s/x.qcow2", dir);
	argv[1] = (char *)"--test";
	argv[2] = (char *)"-i";
	argv[3] = name_arg;
	argv[4] = img;
	argv[5] = NULL;
	r = tu_call(isim_build_main, 5, argv);
	assert_int_equal(r.code, 64);
	tu_run_free(&r);
	/* Nothing but the files the test wrote: no seed, no working folder. */
	assert_int_equal(access(tu_path(dir, "x.selftest.json"), F_OK), -1);
	assert_int_equal(access(tu_path(dir, "x.console.log"), F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_sign_key_env),
		cmocka_unit_test(test_stdout_full),
		cmocka_unit_test_setup_teardown(test_test_inputs, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
