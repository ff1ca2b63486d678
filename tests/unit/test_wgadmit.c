/* SPDX-License-Identifier: MIT */
/* isim-wgadmit in-process: its command lines (cmd/common's --version,
 * --help and one-line usage errors, and its own options' values, said
 * before anything is opened), a missing device or input file as exit 66
 * with nothing written to the state folder, --at's times, and the words a
 * refusal's reason starts with. Admission against wireguard-go in network
 * namespaces is in tests/integration/wgadmit*.sh and wg-mesh.sh. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim-wgadmit/wgadmit.h"
#include "isim/verdict.h"
#include "testutil.h"

/* Each test runs in a fresh folder holding an empty UAPI folder u (no
 * device has a socket there) and no state folder st, which ISIM_STATE_DIR
 * names. */
static int setup(void **state)
{
	struct tu_where *w = tu_enter_tmpdir();

	assert_int_equal(mkdir("u", 0755), 0);
	assert_int_equal(setenv("ISIM_STATE_DIR", "st", 1), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	unsetenv("ISIM_STATE_DIR");
	tu_leave_tmpdir(*state);
	return 0;
}

static const struct tu_cmd_case cases[] = {
	{ { NULL }, 64, "isim-wgadmit: no command given; usage: isim-wgadmit COMMAND", NULL },
	{ { "frob" }, 64, "isim-wgadmit: unknown command 'frob'", NULL },
	{ { "--version" }, 0, NULL, "isim-wgadmit 0." },
	{ { "--help" }, 0, NULL, "sweep" },
	{ { "admit", "--version" }, 0, NULL, "isim-wgadmit 0." },
	{ { "show", "-V" }, 0, NULL, "isim-wgadmit 0." },
	{ { "admit", "--help" }, 0, NULL, "usage: isim-wgadmit admit --dev DEV" },
	{ { "show", "-h" }, 0, NULL, "usage: isim-wgadmit show --dev DEV" },
	{ { "sweep", "--help" }, 0, NULL, "usage: isim-wgadmit sweep --dev DEV" },
	{ { "remove", "--help" }, 0, NULL, "usage: isim-wgadmit remove --dev DEV" },
	{ { "admit", "--frob" },
	  64,
	  "isim-wgadmit admit: bad option '--frob' (unknown, or missing its value) (see isim-wgadmit admit --help)\n",
	  NULL },
	{ { "admit" }, 64, "isim-wgadmit admit: --dev DEV is required", NULL },
	{ { "sweep", "--dev", "wg0", "--dev", "wg1" }, 64, "isim-wgadmit sweep: --dev given twice", NULL },
	/* A name no interface can have is a usage error, whatever else is
	 * wrong (here, a trusted signers folder that does not exist). */
	{ { "admit", "--dev", "bad/name", "--trust", "nowhere" },
	  64,
	  "isim-wgadmit admit: --dev: 'bad/name' is not an interface name",
	  NULL },
	{ { "show", "--dev", "" }, 64, "isim-wgadmit show: --dev: '' is not an interface name", NULL },
	{ { "remove", "--dev", "0123456789abcdef", "n1" }, 64, "--dev: '0123456789abcdef' is not an interface", NULL },
	{ { "admit", "--dev", "wg0", "--batch", "0" }, 64, "--batch: '0' is not a number from 1 to 100000", NULL },
	{ { "admit", "--dev", "wg0", "--keepalive", "65536" },
	  64,
	  "--keepalive: '65536' is not a number of seconds from 0 to 65535",
	  NULL },
	{ { "admit", "--dev", "wg0", "-n", "10.0.0.0/33" },
	  64,
	  "--network: '10.0.0.0/33' has a prefix length over 32",
	  NULL },
	{ { "admit", "--dev", "wg0", "--at", "yesterday" }, 64, "--at 'yesterday' is not an RFC 3339 time", NULL },
	{ { "admit", "--dev", "wg0", "--narrow-only", "--no-narrow" },
	  64,
	  "--narrow-only and --no-narrow exclude each other",
	  NULL },
	{ { "remove", "--dev", "wg0" }, 64, "isim-wgadmit remove: which nodes? NODE_ID is missing", NULL },
	/* What is missing is named, with 66. */
	{ { "admit", "--dev", "wg0", "--trust", "nowhere" },
	  66,
	  "nowhere: cannot open trusted signers directory",
	  NULL },
	{ { "admit", "--narrow-only", "--dev", "wg0", "--uapi-dir", "u", "missing.jsonl" },
	  66,
	  "missing.jsonl: cannot read",
	  NULL },
	{ { "admit", "--narrow-only", "--dev", "isimnone0", "--uapi-dir", "u" },
	  66,
	  "isim-wgadmit admit: no interface 'isimnone0'",
	  NULL },
	{ { "show", "--dev", "isimnone0", "--uapi-dir", "u" },
	  66,
	  "isim-wgadmit show: no interface 'isimnone0'",
	  NULL },
	{ { "sweep", "--dev", "isimnone0", "--uapi-dir", "u", "--trust", "u" }, 66, "no interface 'isimnone0'", NULL },
	{ { "remove", "--dev", "isimnone0", "--uapi-dir", "u", "n1" }, 66, "no interface 'isimnone0'", NULL },
};

/* Every case, and none of them made the state folder: the device is
 * opened first, and a refused command line opens nothing. */
static void test_calls(void **state)
{
	struct stat st;

	(void)state;
	tu_run_cases(isim_wgadmit_main, "isim-wgadmit", cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(stat("st", &st), -1);
}

static void test_parse_at(void **state)
{
	static const char *const bad[] = {
		"", "@", "@-1", "@12x", "@99999999999999999999", "yesterday", "2026-13-01T00:00:00Z"
	};
	time_t t = 0;
	size_t i;

	(void)state;
	assert_int_equal(wa_parse_at("@0", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(wa_parse_at("@1700000000", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(wa_parse_at("2023-11-14T22:13:20Z", &t), 0);
	assert_int_equal(t, 1700000000);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		if (wa_parse_at(bad[i], &t) != -1)
			print_error("--at '%s' was taken\n", bad[i]);
		assert_int_equal(wa_parse_at(bad[i], &t), -1);
		assert_int_equal(t, 42);
	}
}

/* A verifier's reason, by the JSON pointer it starts with, gets the word
 * isim-wgadmit(1) documents in front. */
static void test_reason_word(void **state)
{
	static const struct {
		const char *reason, *want;
	} reasons[] = {
		{ "/attestation/signature: does not verify", "signature: /attestation/signature: does not verify" },
		{ "/attestation/key_id: 0123456789abcdef is revoked",
		  "revoked: /attestation/key_id: 0123456789abcdef" },
		{ "/attestation/key_id: not a trusted signer", "untrusted: /attestation/key_id: not a trusted" },
		{ "/expires_at: expired at 2020-01-01T00:00:00Z", "expired: /expires_at: expired" },
		{ "/issued_at: in the future", "not yet valid: /issued_at: in the future" },
		{ "/attestation: missing", "unsigned: /attestation: missing" },
		{ "something else", "refused: something else" },
	};
	char reason[ISIM_VERDICT_REASON_MAX + 32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		snprintf(reason, sizeof(reason), "%s", reasons[i].reason);
		wa_reason_word(reason, sizeof(reason));
		if (strncmp(reason, reasons[i].want, strlen(reasons[i].want)))
			print_error("'%s' became '%s'\n", reasons[i].reason, reason);
		assert_memory_equal(reason, reasons[i].want, strlen(reasons[i].want));
	}
	/* A reason that fills its buffer is cut, not overrun. */
	memset(reason, 'x', 40);
	reason[40] = '\0';
	wa_reason_word(reason, 20);
	assert_int_equal(strlen(reason), 19);
	assert_memory_equal(reason, "refused: xxxxxxxxxx", 19);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
		cmocka_unit_test(test_parse_at),
		cmocka_unit_test(test_reason_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
