/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/dsse.h"
#include "isim/file.h"
#include "sign.h"

#define PROG "isim-sign dsse"

void sign_dsse_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-k KEY] [--password-fd N] --type TYPE [FILE]\n"
		   "\n"
		   "Wrap FILE (or standard input, at most 64 MiB) in a DSSE envelope signed\n"
		   "with KEY: Ed25519 over the pre-authentication encoding of TYPE and the\n"
		   "payload, keyid the key's id. Prints the envelope.\n"
		   "\n"
		   "  -k, --sign-key KEY   secret key (minisign format; default $ISIM_SIGN_KEY;\n"
		   "                       --key is the same)\n"
		   "      --password-fd N  read the key's password from descriptor N\n"
		   "  -T, --type TYPE      the payloadType, e.g. application/vnd.in-toto+json\n"
		   "  -h, --help           this text\n"
		   "  -V, --version        print the version\n"
		   "\n"
		   "Exit status: 0 signed, 64 usage, 65 payload too large, 66 missing file,\n"
		   "77 key not readable or wrong password.\n");
}

int sign_dsse_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_KEY,
		{ "type", required_argument, NULL, 'T' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "k:T:hV", .longopts = opts, .usage = sign_dsse_usage, .key = &key
	};
	const char *type = NULL, *path;
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	char hex[ISIM_MS_KEYID_HEX], *payload = NULL, *out = NULL;
	size_t len;
	int c, ret = 0;

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
	if (isim_key_finish(PROG, &key, true))
		return ISIM_EXIT_USAGE;
	if (!type || !*type)
		return isim_usage_error(PROG, "no --type given");
	if (argc - optind > 1)
		return isim_usage_error(PROG, "one FILE at most, got %d", argc - optind);
	path = optind < argc ? argv[optind] : "-";
	if (isim_file_read(path, ISIM_DSSE_PAYLOAD_MAX, &payload, &len, &err) < 0)
		return isim_fail(PROG, &err);
	if (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	isim_ms_keyid_hex(sk->keyid, hex);
	if (isim_dsse_sign(type, (const uint8_t *)payload, len, sk->sk, hex, &out, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (fputs(out, stdout) < 0) {
		ret = isim_stdout_error(PROG);
		goto out;
	}
	ret = isim_close_stdout(PROG);
out:
	isim_ms_seckey_free(sk);
	free(payload);
	free(out);
	return ret;
}
