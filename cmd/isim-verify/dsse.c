/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
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

/* 0 when signature i verifies under a usable trusted key; -1 with the
 * reason in err otherwise. */
static int check_sig(const struct isim_trust *t, const struct isim_dsse *env, size_t i, char *signer, size_t size,
		     struct isim_error *err)
{
	const struct isim_trust_key *key = NULL;
	uint8_t id[ISIM_MS_KEYID_BYTES];
	size_t k;

	if (isim_ms_keyid_parse(env->sigs[i].keyid, id)) {
		if (isim_trust_signer(t, id, &key, err) < 0)
			return -1;
		if (!isim_dsse_verify(env, i, key->pk.pk))
			return isim_error_set(err, ISIM_ERR_REFUSED, "signature %zu by %s does not verify", i,
					      env->sigs[i].keyid);
		snprintf(signer, size, "%s", key->path);
		return 0;
	}
	if (env->sigs[i].keyid[0])
		return isim_error_set(err, ISIM_ERR_REFUSED, "signature %zu: keyid '%.40s' is not a key id", i,
				      env->sigs[i].keyid);
	for (k = 0; k < t->nkeys; k++) {
		if (isim_trust_is_revoked(t, t->keys[k].pk.keyid) || !isim_dsse_verify(env, i, t->keys[k].pk.pk))
			continue;
		snprintf(signer, size, "%s", t->keys[k].path);
		return 0;
	}
	return isim_error_set(err, ISIM_ERR_REFUSED, "signature %zu verifies under no trusted key", i);
}

int verify_dsse_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 'd' },
		{ "pub", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *pub = NULL, *type = NULL, *path;
	struct isim_trust *t = NULL;
	struct isim_dsse env = { 0 };
	struct isim_error err;
	char *text = NULL, signer[4096];
	size_t len, i;
	int c, ret;

	isim_error_clear(&err);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:p:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (isim_opt_once(PROG, "--trust", &dir, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'p':
			if (isim_opt_once(PROG, "--pub", &pub, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'T':
			if (isim_opt_once(PROG, "--type", &type, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'h':
			verify_dsse_usage(stdout);
			return isim_close_stdout(PROG);
		default:
			return isim_bad_option(PROG, argv, optopt);
		}
	}
	if (argc - optind > 1)
		return isim_usage_error(PROG, "one FILE at most, got %d", argc - optind);
	if (dir && pub)
		return isim_usage_error(PROG, "--trust and --pub exclude each other");
	path = optind < argc ? argv[optind] : "-";
	if (isim_file_read(path, ISIM_DSSE_PAYLOAD_MAX * 2, &text, &len, &err) < 0)
		return isim_fail(PROG, &err);
	if (isim_dsse_parse(text, len, strcmp(path, "-") ? path : "<stdin>", &env, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_trust_open(dir, pub, &t, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (type && strcmp(type, env.payload_type) != 0) {
		isim_error_set(&err, ISIM_ERR_REFUSED, "payloadType '%.80s' is not '%.80s'", env.payload_type, type);
		ret = isim_fail(PROG, &err);
		goto out;
	}
	ret = ISIM_EXIT_VERDICT;
	for (i = 0; i < env.nsigs; i++) {
		isim_error_clear(&err);
		if (check_sig(t, &env, i, signer, sizeof(signer), &err) == 0) {
			ret = 0;
			break;
		}
	}
	if (ret) {
		isim_error_at(&err, strcmp(path, "-") ? path : "<stdin>", 0, 0);
		ret = isim_fail(PROG, &err);
		goto out;
	}
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
