/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/verdict.h"
#include "isim/dsse.h"
#include "isim/file.h"
#include "isim/trust.h"
#include "verify.h"

#define PROG "isim-verify dsse"

void verify_dsse_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--trust DIR | --pub KEY.pub] [--type TYPE] [FILE]\n"
		   "\n"
		   "Check a DSSE envelope (FILE, or standard input): one of its Ed25519\n"
		   "signatures over the pre-authentication encoding of payloadType and payload\n"
		   "must verify under a trusted signer's key that is not revoked. Prints the\n"
		   "payload on standard output; nothing when it does not verify.\n"
		   "\n"
		   "  -d, --trust DIR    trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                     $ISIM_TRUST_DIR, else " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "  -p, --pub KEY.pub  trust this one public key instead\n"
		   "  -T, --type TYPE    also require this payloadType\n"
		   "  -h, --help         this text\n"
		   "\n"
		   "A signature's keyid, when it is a key id (16 hex digits), picks the key;\n"
		   "an empty keyid is tried with every trusted key.\n"
		   "\n"
		   "Exit status: 0 verified, 1 not (the reason on standard error), 64 usage,\n"
		   "65 malformed envelope, 66 missing file, 78 bad trusted signers directory.\n");
}

int verify_dsse_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_TRUST,
		{ "type", required_argument, NULL, 'T' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "d:p:T:hV", .longopts = opts, .usage = verify_dsse_usage, .trust = &trust
	};
	const char *type = NULL, *path;
	struct isim_trust *t = NULL;
	struct isim_dsse env = { 0 };
	struct isim_error err;
	struct isim_verdict v;
	const char *name;
	char *text = NULL;
	size_t len;
	int c, ret;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'T':
			if (isim_opt_once(PROG, "--type", &type, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (argc - optind > 1)
		return isim_usage_error(PROG, "one FILE at most, got %d", argc - optind);
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	path = optind < argc ? argv[optind] : "-";
	if (isim_file_read(path, ISIM_DSSE_PAYLOAD_MAX * 2, &text, &len, &err) < 0)
		return isim_fail(PROG, &err);
	name = strcmp(path, "-") ? path : "<stdin>";
	if (isim_dsse_parse(text, len, name, &env, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_trust_opt_open(&trust, &t, &err) < 0 || isim_dsse_verify_trusted(&env, t, type, &v, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	/* The payload is this command's output; the verdict goes to stderr. */
	ret = isim_verdict_tell(PROG, name, &v);
	if (ret)
		goto out;
	if (fwrite(env.payload, 1, env.payload_len, stdout) != env.payload_len) {
		ret = isim_stdout_error(PROG);
		goto out;
	}
	ret = isim_close_stdout(PROG);
out:
	isim_trust_free(t);
	isim_dsse_free(&env);
	free(text);
	return ret;
}
