/* SPDX-License-Identifier: MIT */
/* isim-verify in-process: its command lines, a file signature that holds
 * and one that does not, and the exit codes of isim(7) for each (the
 * interop with minisign and the other commands at length are in
 * tests/integration/sign.sh and attest.sh); the verdict printer every
 * subcommand shares, and where the trusted signers directory comes from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/paths.h"
#include "common/verdict.h"
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
	/* Every command answers --version and --help the same way. */
	{ { "file", "--version" }, 0, NULL, "isim-verify 0." },
	{ { "descriptor", "-V" }, 0, NULL, "isim-verify 0." },
	{ { "dsse", "--help" }, 0, NULL, "usage: isim-verify dsse" },
	{ { "provenance", "-h" }, 0, NULL, "usage: isim-verify provenance" },
	{ { "dsse", "--frob", "x" },
	  64,
	  "isim-verify dsse: bad option '--frob' (unknown, or missing its value) (see isim-verify dsse --help)\n",
	  NULL },
	{ { "--frob" }, 64, "isim-verify: bad option '--frob' (unknown, or missing its value)", NULL },
	{ { "file" }, 64, "isim-verify file: no FILE to verify (see isim-verify file --help)\n", NULL },
	/* The trust options mean the same in every command. */
	{ { "file", "--trust", "/t", "--pub", "k.pub", "f" },
	  64,
	  "isim-verify file: --trust and --pub exclude each other (see isim-verify file --help)\n",
	  NULL },
	{ { "descriptor", "-d", "/t", "-p", "k.pub" },
	  64,
	  "isim-verify descriptor: --trust and --pub exclude each other (see isim-verify descriptor --help)\n",
	  NULL },
	{ { "dsse", "--pub", "a.pub", "--pub", "b.pub" },
	  64,
	  "isim-verify dsse: --pub given twice (see isim-verify dsse --help)\n",
	  NULL },
	{ { "provenance", "--trust", "/t", "--trust", "/u", "x.qcow2" },
	  64,
	  "isim-verify provenance: --trust given twice (see isim-verify provenance --help)\n",
	  NULL },
};

static void test_calls(void **state)
{
	(void)state;
	tu_run_cases(isim_verify_main, "isim-verify", cases, sizeof(cases) / sizeof(cases[0]));
}

/* A verdict that cannot be written: exit 74, and one message naming
 * stdout, not two. */
static void test_stdout_full(void **state)
{
	const char *dir = *state;
	struct isim_ms_seckey *sk = NULL;
	struct isim_ms_pubkey pk;
	struct isim_ms_sig sig;
	struct isim_error err;
	char pub[512], *text;
	size_t len;
	int n;
	char *argv[] = { (char *)"isim-verify", (char *)"file", (char *)"--pub", NULL, NULL, NULL };
	struct tu_run r;

	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_new(&sk, &err), 0);
	isim_ms_seckey_pubkey(sk, &pk);
	n = isim_ms_pubkey_format(&pk, pub, sizeof(pub));
	assert_true(n > 0);
	tu_write(dir, "k.pub", pub);
	tu_write(dir, "a.txt", "signed\n");
	assert_int_equal(isim_ms_sign_file(sk, tu_path(dir, "a.txt"), "t", NULL, &sig, &err), 0);
	text = isim_ms_sig_format(&sig, &len);
	assert_non_null(text);
	tu_write(dir, "a.txt.sig", text);
	free(text);
	isim_ms_seckey_free(sk);

	argv[3] = strdup(tu_path(dir, "k.pub"));
	argv[4] = strdup(tu_path(dir, "a.txt"));
	r = tu_call(isim_verify_main, 5, argv);
	assert_int_equal(r.code, 0);
	tu_run_free(&r);
	r = tu_call_full(isim_verify_main, 5, argv);
	assert_int_equal(r.code, 74);
	assert_string_equal(r.err, "isim-verify file: cannot write to stdout: No space left on device\n");
	tu_run_free(&r);
	free(argv[3]);
	free(argv[4]);
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

/* The one verdict printer: "ok" first, then the fields in the order the
 * command lists them, empty verdict fields as null, and the exit code of
 * the verdict (or of the error that kept it from being made). */
static struct isim_verdict shown;
static const struct isim_vfield *shown_fields;
static const struct isim_error *shown_err;

static int show(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	if (shown_err)
		return isim_verdict_print_error("isim-test", &shown, shown_err, shown_fields);
	return isim_verdict_print("isim-test", &shown, shown_fields);
}

static int tell(int argc, char *argv[])
{
	(void)argc;
	return isim_verdict_tell("isim-test", argv[0], &shown);
}

static struct tu_run shown_as(const struct isim_vfield *fields, const struct isim_error *err)
{
	char *argv[] = { (char *)"f.json", NULL };

	shown_fields = fields;
	shown_err = err;
	return tu_call(show, 1, argv);
}

static void test_verdict_printer(void **state)
{
	const struct isim_vfield fields[] = {
		ISIM_VF_STR("file", "a.txt"),
		ISIM_VF_OWN(ISIM_VF_KEY_ID),
		ISIM_VF_STR_OR_NULL("predicate_type", ""),
		ISIM_VF_STR("trusted_comment", ""),
		ISIM_VF_STR("sha256", NULL),
		ISIM_VF_NUM("line", 3),
		ISIM_VF_OWN(ISIM_VF_REASON),
		ISIM_VF_LAST,
	};
	struct isim_error err;
	char *argv[] = { (char *)"f.json", NULL };
	struct tu_run r;

	(void)state;
	isim_verdict_init(&shown);
	snprintf(shown.key_id, sizeof(shown.key_id), "0123456789ABCDEF");
	snprintf(shown.signer, sizeof(shown.signer), "trust/a.pub");
	isim_verdict_accept(&shown);
	r = shown_as(NULL, NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(
		r.out, "{\"ok\":true,\"key_id\":\"0123456789ABCDEF\",\"signer\":\"trust/a.pub\",\"reason\":null}\n");
	assert_string_equal(r.err, "");
	tu_run_free(&r);

	isim_verdict_init(&shown);
	assert_int_equal(isim_verdict_refuse(&shown, "/attestation/key_id", "key %s is revoked", "0123456789ABCDEF"),
			 0);
	r = shown_as(fields, NULL);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "{\"ok\":false,\"file\":\"a.txt\",\"key_id\":null,\"predicate_type\":null,"
				   "\"trusted_comment\":\"\",\"sha256\":null,\"line\":3,"
				   "\"reason\":\"/attestation/key_id: key 0123456789ABCDEF is revoked\"}\n");
	tu_run_free(&r);

	/* Could not check, but a line is owed: refused, with the error's
	 * reason and exit code, even if the verdict said ok. */
	isim_verdict_accept(&shown);
	isim_error_clear(&err);
	isim_error_at_pointer(&err, ISIM_ERR_DATA, "/allowed_ips", "expected an array");
	r = shown_as(fields + 5, &err);
	assert_int_equal(r.code, 65);
	assert_string_equal(r.out, "{\"ok\":false,\"line\":3,\"reason\":\"/allowed_ips: expected an array\"}\n");
	tu_run_free(&r);

	/* A command whose stdout is its payload says a refusal on stderr. */
	isim_verdict_refuse(&shown, NULL, "signature 0 verifies under no trusted key");
	r = tu_call(tell, 1, argv);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "isim-test: f.json: signature 0 verifies under no trusted key\n");
	tu_run_free(&r);
	isim_verdict_accept(&shown);
	r = tu_call(tell, 1, argv);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	tu_run_free(&r);
}

/* Option, then environment variable (when not empty), then default. */
static void test_paths(void **state)
{
	(void)state;
	assert_int_equal(unsetenv("ISIM_TEST_DIR"), 0);
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/def"), "/def");
	assert_int_equal(setenv("ISIM_TEST_DIR", "", 1), 0);
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/def"), "/def");
	assert_int_equal(setenv("ISIM_TEST_DIR", "/env", 1), 0);
	assert_string_equal(isim_path_resolve(NULL, "ISIM_TEST_DIR", "/def"), "/env");
	assert_string_equal(isim_path_resolve("/opt", "ISIM_TEST_DIR", "/def"), "/opt");
	assert_string_equal(isim_path_resolve(NULL, NULL, "/def"), "/def");
	assert_int_equal(unsetenv("ISIM_TEST_DIR"), 0);

	assert_int_equal(unsetenv(ISIM_TRUST_DIR_ENV), 0);
	assert_string_equal(isim_path_trust_dir(NULL), "/etc/infrasim/trusted-signers");
	assert_int_equal(setenv(ISIM_TRUST_DIR_ENV, "/tmp/trust", 1), 0);
	assert_string_equal(isim_path_trust_dir(NULL), "/tmp/trust");
	assert_string_equal(isim_path_trust_dir("here"), "here");
	assert_int_equal(unsetenv(ISIM_TRUST_DIR_ENV), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),
		cmocka_unit_test_setup_teardown(test_stdout_full, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_verdicts, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_verdict_printer, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
