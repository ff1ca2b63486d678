/* SPDX-License-Identifier: MIT */
/* isim-verify in-process: its command lines, a file signature that holds
 * and one that does not, and the exit codes of isim(7) for each (the
 * interop with minisign and the other commands at length are in
 * tests/integration/sign.sh and attest.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim-verify/verify.h"
#include "isim/minisign.h"
#include "testutil.h"

static struct tu_run verify(const char *const *args)
{
	char *argv[12];
	int argc = 0;

	argv[argc++] = (char *)"isim-verify";
	for (; args && *args && argc < 11; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return tu_call(isim_verify_main, argc, argv);
}

static const struct tu_cmd_case cases[] = {
	{ { NULL }, 64, "usage: isim-verify COMMAND", NULL },
	{ { "frob" }, 64, "isim-verify: unknown command 'frob'", NULL },
	{ { "fil" }, 64, "isim-verify: unknown command 'fil'", NULL },
	{ { "--version" }, 0, NULL, "isim-verify " },
	{ { "--help" }, 0, NULL, "provenance  check an image's signed provenance statement" },
	{ { "file", "--pub", "/nonexistent.pub", "/nonexistent" },
	  66,
	  "/nonexistent.pub: cannot open public key",
	  NULL },
	{ { "provenance", "--pub", "/nonexistent.pub", "/nonexistent.qcow2" }, 66, "/nonexistent", NULL },
};

static void test_calls(void **state)
{
	(void)state;
	tu_run_cases(isim_verify_main, "isim-verify", cases, sizeof(cases) / sizeof(cases[0]));
}

/* A key made here, a file signed with it: valid (0, ok true); the file
 * changed: not valid (1, ok false, a reason); a malformed signature: 65. */
static void test_file_verdicts(void **state)
{
	const char *dir = *state;
	struct isim_ms_seckey *sk = NULL;
	struct isim_ms_pubkey pk;
	struct isim_ms_sig sig;
	struct isim_error err;
	char pub_text[ISIM_MS_COMMENT_MAX + 100], pub[PATH_MAX], file[PATH_MAX], sigp[PATH_MAX];
	char *sig_text;
	size_t len;
	int n;
	struct tu_run r;
	const char *data = "a file to check\n";

	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_new(&sk, &err), 0);
	isim_ms_seckey_pubkey(sk, &pk);
	snprintf(pk.comment, sizeof(pk.comment), "test key");
	n = isim_ms_pubkey_format(&pk, pub_text, sizeof(pub_text));
	assert_true(n > 0);
	tu_write(dir, "k.pub", pub_text);
	tu_write(dir, "a.txt", data);
	assert_int_equal(isim_ms_sign_data(sk, data, strlen(data), "timestamp:0\tfile:a.txt\thashed", "c", &sig, &err),
			 0);
	isim_ms_seckey_free(sk);
	sig_text = isim_ms_sig_format(&sig, &len);
	assert_non_null(sig_text);
	tu_write(dir, "a.txt.sig", sig_text);
	free(sig_text);
	snprintf(pub, sizeof(pub), "%s", tu_path(dir, "k.pub"));
	snprintf(file, sizeof(file), "%s", tu_path(dir, "a.txt"));
	snprintf(sigp, sizeof(sigp), "%s", tu_path(dir, "a.txt.sig"));

	{
		const char *args[] = { "file", "--pub", pub, file, NULL };

		r = verify(args);
		assert_int_equal(r.code, 0);
		assert_non_null(strstr(r.out, "\"ok\":true"));
		tu_run_free(&r);

		tu_write(dir, "a.txt", "a file to check!\n");
		r = verify(args);
		assert_int_equal(r.code, 1);
		assert_non_null(strstr(r.out, "\"ok\":false"));
		assert_non_null(strstr(r.out, "\"reason\":"));
		tu_run_free(&r);

		tu_write(dir, "a.txt.sig", "untrusted comment: x\nnot base64 at all\n");
		r = verify(args);
		assert_int_equal(r.code, 65);
		assert_non_null(strstr(r.err, sigp));
		assert_string_equal(r.out, "");
		tu_run_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),
		cmocka_unit_test_setup_teardown(test_file_verdicts, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
