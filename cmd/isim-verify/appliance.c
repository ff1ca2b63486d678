/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/verdict.h"
#include "isim/appliance.h"
#include "isim/trust.h"
#include "verify.h"

#define PROG "isim-verify appliance"

void verify_appliance_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--trust DIR | --pub KEY.pub] [--allow-unsigned] FILE...\n"
		   "\n"
		   "Check each appliance archive FILE (isim-vm appliance): every entry a regular\n"
		   "file or a directory at a safe path (no '..', nothing absolute, no links),\n"
		   "once; manifest.json signed (manifest.json.minisig) by a trusted signer that\n"
		   "is not revoked; and every member the manifest lists there with its size and\n"
		   "SHA-256, and nothing else. The whole archive is read once; nothing is\n"
		   "unpacked. Prints one JSON verdict a file: {\"ok\", \"file\", \"name\", \"id\",\n"
		   "\"members\", \"signed\", \"secrets\", \"key_id\", \"signer\", \"reason\"}.\n"
		   "\n"
		   "  -d, --trust DIR         trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                          $ISIM_TRUST_DIR, else " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "  -p, --pub KEY.pub       trust this one public key instead\n"
		   "      --allow-unsigned    accept an archive without a signature (its members\n"
		   "                          are still checked against its manifest)\n"
		   "  -h, --help              this text\n"
		   "\n"
		   "Exit status: 0 every archive valid, 1 one is not (see \"reason\"), 64 usage,\n"
		   "65 not a gzip'ed tar archive, 66 missing file, 77 permission, 78 bad trusted\n"
		   "signers directory; see isim(7).\n");
}

static int verify_one(const struct isim_trust *t, const char *file, bool allow_unsigned)
{
	struct isim_appliance_report *r = malloc(sizeof(*r));
	struct isim_error err;
	int ret;

	isim_error_clear(&err);
	if (!r)
		return ISIM_EXIT_SOFTWARE;
	if (isim_appliance_check(file, t, allow_unsigned, r, &err) < 0) {
		ret = isim_fail(PROG, &err);
	} else {
		const struct isim_vfield f[] = {
			ISIM_VF_STR("file", file),
			ISIM_VF_STR_OR_NULL("name", r->name),
			ISIM_VF_STR_OR_NULL("id", r->id),
			ISIM_VF_NUM("members", (long long)r->members),
			ISIM_VF_BOOLEAN("signed", r->is_signed),
			ISIM_VF_BOOLEAN("secrets", r->secrets),
			ISIM_VF_OWN(ISIM_VF_KEY_ID),
			ISIM_VF_OWN(ISIM_VF_SIGNER),
			ISIM_VF_OWN(ISIM_VF_REASON),
			ISIM_VF_LAST,
		};

		ret = isim_verdict_print(PROG, &r->v, f);
	}
	free(r);
	return ret;
}

int verify_appliance_main(int argc, char *argv[])
{
	enum {
		O_UNSIGNED = ISIM_OPT_LOCAL
	};
	static const struct option opts[] = {
		ISIM_LONGOPTS_TRUST,
		{ "allow-unsigned", no_argument, NULL, O_UNSIGNED },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "d:p:hV", .longopts = opts, .usage = verify_appliance_usage, .trust = &trust
	};
	struct isim_trust *t = NULL;
	struct isim_error err;
	bool allow_unsigned = false;
	int c, i, r, ret = 0;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g.rc;
		if (c == O_UNSIGNED)
			allow_unsigned = true;
	}
	if (optind == argc)
		return isim_usage_error(PROG, "no FILE to verify");
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	/* Unsigned archives allowed and no trust named: without the default
	 * folder, a signed archive is refused rather than the command. */
	if (isim_trust_opt_open(&trust, &t, &err) < 0) {
		if (!allow_unsigned || trust.dir || trust.pub || err.kind != ISIM_ERR_NOINPUT)
			return isim_fail(PROG, &err);
		t = NULL;
	}
	for (i = optind; i < argc; i++)
		ret = isim_exit_worse(ret, verify_one(t, argv[i], allow_unsigned));
	isim_trust_free(t);
	r = isim_close_stdout(PROG);
	return r ? r : ret;
}
