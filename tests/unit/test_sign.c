/* SPDX-License-Identifier: MIT */
/* isim-sign in-process: the command line it shares with the other tools
 * (cmd/common: --version and --help on each command, one-line usage
 * errors, the signing key's options and ISIM_SIGN_KEY, a full stdout).
 * Signatures at length, and minisign interop, are in
 * tests/integration/sign.sh. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim-sign/sign.h"
#include "testutil.h"

#define MAX_ARGS 10

static int nargs(char **argv, const char *const *args)
{
	int argc = 0;

	argv[argc++] = (char *)"isim-sign";
	for (; args && *args && argc < MAX_ARGS; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return argc;
}

static struct tu_run sign(const char *const *args)
{
	char *argv[MAX_ARGS + 1];
	int argc = nargs(argv, args);

	return tu_call(isim_sign_main, argc, argv);
}

static struct tu_run sign_full(const char *const *args)
{
	char *argv[MAX_ARGS + 1];
	int argc = nargs(argv, args);

	return tu_call_full(isim_sign_main, argc, argv);
}

/* Each test works in a fresh folder holding an unencrypted key k (k.pub)
 * and a file a.txt. */
static int setup(void **state)
{
	static const char *const keygen[] = { "keygen", "-W", "-o", "k", NULL };
	struct tu_where *w = tu_enter_tmpdir();
	struct tu_run r;

	r = sign(keygen);
	assert_int_equal(r.code, 0);
	tu_run_free(&r);
	tu_write(".", "a.txt", "a file to sign\n");
	unsetenv("ISIM_SIGN_KEY");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	unsetenv("ISIM_SIGN_KEY");
	tu_leave_tmpdir(*state);
	return 0;
}

static const struct call_case {
	const char *args[MAX_ARGS];
	int code;
	const char *err; /* in stderr, or NULL */
	const char *out; /* in stdout, or NULL */
} cases[] = {
	{ { "--version" }, 0, NULL, "isim-sign 0." },
	{ { "sign", "--version" }, 0, NULL, "isim-sign 0." },
	{ { "keygen", "-V" }, 0, NULL, "isim-sign 0." },
	{ { "dsse", "--version" }, 0, NULL, "isim-sign 0." },
	{ { "descriptor", "--version" }, 0, NULL, "isim-sign 0." },
	{ { "sign", "--help" }, 0, NULL, "usage: isim-sign sign [-k KEY]" },
	{ { "keygen", "-h" }, 0, NULL, "usage: isim-sign keygen -o PATH" },
	{ { "dsse", "--help" }, 0, NULL, "  -k, --sign-key KEY" },
	{ { "descriptor", "--help" }, 0, NULL, "usage: isim-sign descriptor" },
	{ { NULL }, 64, "isim-sign: no command given; usage: isim-sign COMMAND", NULL },
	{ { "a.txt" }, 64, "isim-sign: unknown command 'a.txt'", NULL },
	{ { "sign", "--frob", "a.txt" },
	  64,
	  "isim-sign sign: bad option '--frob' (unknown, or missing its value) (see isim-sign sign --help)\n",
	  NULL },
	{ { "--frob", "a.txt" },
	  64,
	  "isim-sign: bad option '--frob' (unknown, or missing its value) (see isim-sign --help)\n",
	  NULL },
	{ { "sign", "-k", "k", "--key", "k", "a.txt" }, 64, "isim-sign sign: --sign-key given twice", NULL },
	{ { "dsse", "--sign-key", "k", "-k", "k", "--type", "t", "a.txt" }, 64, "--sign-key given twice", NULL },
	{ { "sign", "-k", "k", "--password-fd", "x1", "a.txt" },
	  64,
	  "isim-sign sign: --password-fd: 'x1' is not a descriptor number (0 to 1023) (see isim-sign sign --help)\n",
	  NULL },
	{ { "keygen", "-o", "k3", "--password-fd", "1024" },
	  64,
	  "isim-sign keygen: --password-fd: '1024' is not a descriptor number (0 to 1023)",
	  NULL },
	{ { "descriptor", "-k", "k", "--password-fd", "3", "--password-fd", "3" },
	  64,
	  "--password-fd given twice",
	  NULL },
	{ { "sign", "a.txt" }, 64, "isim-sign sign: no secret key: give -k KEY or set ISIM_SIGN_KEY", NULL },
	{ { "dsse", "--type", "t", "a.txt" }, 64, "isim-sign dsse: no secret key", NULL },
	{ { "descriptor", "a.json" }, 64, "isim-sign descriptor: no secret key", NULL },
	/* -k, --sign-key and --key are one option in every command. */
	{ { "sign", "--key", "k", "-x", "a1.sig", "a.txt" }, 0, NULL, "\"signature\":\"a1.sig\"" },
	{ { "sign", "--sign-key", "k", "-x", "a2.sig", "a.txt" }, 0, NULL, "\"signature\":\"a2.sig\"" },
	{ { "-k", "k", "-x", "a3.sig", "a.txt" }, 0, NULL, "\"signature\":\"a3.sig\"" },
	{ { "dsse", "--sign-key", "k", "--type", "text/plain", "a.txt" }, 0, NULL, "\"payloadType\":" },
	{ { "dsse", "--key", "k", "--type", "text/plain", "a.txt" }, 0, NULL, "\"payloadType\":" },
};

static void test_calls(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct call_case *c = &cases[i];
		struct tu_run r = sign(c->args);

		if (r.code != c->code || (c->err && !strstr(r.err, c->err)) || (c->out && !strstr(r.out, c->out)))
			print_error("case %zu (%s ...): exit %d, stderr '%s', stdout '%s'\n", i,
				    c->args[0] ? c->args[0] : "", r.code, r.err, r.out);
		assert_int_equal(r.code, c->code);
		if (c->err)
			assert_non_null(strstr(r.err, c->err));
		if (c->out)
			assert_non_null(strstr(r.out, c->out));
		if (c->code == 64)
			assert_int_equal(tu_lines(r.err), 1);
		if (c->code)
			assert_string_equal(r.out, "");
		tu_run_free(&r);
	}
}

/* ISIM_SIGN_KEY is the key when -k is not given, in each command that
 * signs; -k wins over it; an empty one is no key. */
static void test_sign_key_env(void **state)
{
	static const char *const files[] = { "sign", "-x", "e.sig", "a.txt", NULL };
	static const char *const dsse[] = { "dsse", "--type", "text/plain", "a.txt", NULL };
	static const char *const other[] = { "sign", "-k", "nokey", "a.txt", NULL };
	struct tu_run r;

	(void)state;
	assert_int_equal(setenv("ISIM_SIGN_KEY", "k", 1), 0);
	r = sign(files);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"signature\":\"e.sig\""));
	tu_run_free(&r);
	r = sign(dsse);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"signatures\""));
	tu_run_free(&r);
	r = sign(other);
	assert_int_equal(r.code, 66);
	assert_non_null(strstr(r.err, "nokey"));
	tu_run_free(&r);
	assert_int_equal(setenv("ISIM_SIGN_KEY", "", 1), 0);
	r = sign(dsse);
	assert_int_equal(r.code, 64);
	assert_non_null(strstr(r.err, "no secret key"));
	tu_run_free(&r);
}

/* A full stdout: exit 74 and one message, "cannot write to stdout", for
 * a version line, a usage and a command's JSON alike. */
static void test_stdout_full(void **state)
{
	static const char *const version[] = { "sign", "--version", NULL };
	static const char *const help[] = { "keygen", "--help", NULL };
	static const char *const files[] = { "-k", "k", "-x", "f.sig", "a.txt", NULL };
	static const char *const dsse[] = { "dsse", "-k", "k", "--type", "text/plain", "a.txt", NULL };
	static const char *const keygen[] = { "keygen", "-W", "-o", "k4", NULL };
	struct tu_run r;

	(void)state;
	r = sign_full(version);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-sign: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	r = sign_full(help);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-sign keygen: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	r = sign_full(files);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-sign: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	r = sign_full(dsse);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-sign dsse: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	r = sign_full(keygen);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-sign keygen: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	/* The next run starts afresh: nothing left over from the failure. */
	r = sign(version);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	tu_run_free(&r);
}

/* The shared option helpers, as the commands use them. */
static void test_options(void **state)
{
	struct isim_key_opt k = ISIM_KEY_OPT_INIT;
	struct isim_dir_opts d = { 0 };
	long v;

	(void)state;
	assert_true(isim_parse_long("128", 128, 65536, &v));
	assert_int_equal(v, 128);
	assert_false(isim_parse_long("127", 128, 65536, &v));
	assert_false(isim_parse_long("12x", 0, 100, &v));
	assert_false(isim_parse_long("", 0, 100, &v));
	assert_false(isim_parse_long("99999999999999999999", 0, 100, &v));

	assert_int_equal(isim_key_option("p", &k, ISIM_OPT_PASSWORD_FD, "7"), 0);
	assert_int_equal(k.password_fd, 7);
	assert_int_equal(isim_key_option("p", &k, 'k', "key"), 0);
	assert_int_equal(isim_key_finish("p", &k, true), 0);
	assert_string_equal(k.path, "key");
	assert_int_equal(isim_dir_option("p", &d, ISIM_OPT_SCHEMAS_DIR, "s"), 0);
	assert_int_equal(isim_dir_option("p", &d, 'o', "o"), 0);
	assert_string_equal(d.schemas, "s");
	assert_string_equal(d.out, "o");
	assert_null(d.features);

	/* Not required and not given: no key, and no error. */
	k = (struct isim_key_opt)ISIM_KEY_OPT_INIT;
	assert_int_equal(isim_key_finish("p", &k, false), 0);
	assert_null(k.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_key_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_full, setup, teardown),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
