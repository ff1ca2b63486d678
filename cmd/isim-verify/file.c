/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/verdict.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "isim/trust.h"
#include "verify.h"

#define PROG "isim-verify file"

void verify_file_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-x SIGFILE] [--trust DIR | --pub KEY.pub] FILE...\n"
		   "\n"
		   "Check each FILE's minisign signature (FILE.sig, else FILE.minisig) and its\n"
		   "trusted comment, by a key of the trusted signers directory that is not\n"
		   "revoked, or by the one public key given. Prints one JSON verdict a file:\n"
		   "{\"ok\", \"file\", \"signature\", \"key_id\", \"signer\", \"trusted_comment\", \"reason\"}.\n"
		   "\n"
		   "  -x, --sig-file SIGFILE  the signature (one FILE only)\n"
		   "  -d, --trust DIR         trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                          $ISIM_TRUST_DIR, else " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "  -p, --pub KEY.pub       trust this one public key instead\n"
		   "  -h, --help              this text\n"
		   "\n"
		   "Exit status: 0 every signature valid, 1 one is not (see \"reason\"), 64 usage,\n"
		   "65 malformed signature or key, 66 missing file, 77 permission, 78 bad\n"
		   "trusted signers directory; see isim(7).\n");
}

/* -x SIG, else FILE.sig or FILE.minisig. */
static char *sig_path(const char *file, const char *opt)
{
	return opt ? strdup(opt) : isim_ms_sig_path(file);
}

/* 0 valid, 1 a negative verdict, else an exit code for an error. */
static int verify_one(const struct isim_trust *t, const char *file, const char *opt)
{
	struct isim_ms_sig *sig = NULL;
	struct isim_verdict v;
	struct isim_error err;
	char *path = sig_path(file, opt);
	int ret;

	isim_error_clear(&err);
	sig = malloc(sizeof(*sig));
	if (!path || !sig) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_ms_sig_load(path, sig, &err) < 0 || isim_trust_verify_file(t, sig, file, &v, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	{
		const struct isim_vfield f[] = {
			ISIM_VF_STR("file", file),
			ISIM_VF_STR("signature", path),
			ISIM_VF_OWN(ISIM_VF_KEY_ID),
			ISIM_VF_OWN(ISIM_VF_SIGNER),
			/* The trusted comment is only worth reading once it has verified. */
			ISIM_VF_STR("trusted_comment", v.ok ? sig->trusted : NULL),
			ISIM_VF_OWN(ISIM_VF_REASON),
			ISIM_VF_LAST,
		};

		ret = isim_verdict_print(PROG, &v, f);
	}
out:
	free(sig);
	free(path);
	return ret;
}

int verify_file_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "sig-file", required_argument, NULL, 'x' },
		ISIM_LONGOPTS_TRUST,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "x:d:p:hV", .longopts = opts, .usage = verify_file_usage, .trust = &trust
	};
	const char *sig_file = NULL;
	struct isim_trust *t = NULL;
	struct isim_error err;
	int c, i, r, ret = 0;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'x':
			if (isim_opt_once(PROG, "--sig-file", &sig_file, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (optind == argc)
		return isim_usage_error(PROG, "no FILE to verify");
	if (sig_file && argc - optind > 1)
		return isim_usage_error(PROG, "--sig-file goes with one FILE only, got %d", argc - optind);
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	if (isim_trust_opt_open(&trust, &t, &err) < 0)
		return isim_fail(PROG, &err);
	for (i = optind; i < argc; i++)
		ret = isim_exit_worse(ret, verify_one(t, argv[i], sig_file));
	isim_trust_free(t);
	r = isim_close_stdout(PROG);
	return r ? r : ret;
}
