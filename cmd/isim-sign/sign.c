/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "isim/sde.h"
#include "sign.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-k KEY] [-x SIGFILE] [-t COMMENT] [-c COMMENT] [--password-fd N] FILE...\n"
		"\n"
		"Sign each FILE with the secret key KEY into FILE.sig, in minisign's format\n"
		"(prehashed Ed25519 with a trusted comment), and print one JSON line per\n"
		"file: {\"file\", \"signature\", \"key_id\", \"trusted_comment\"}.\n"
		"\n"
		"  -k, --sign-key KEY         secret key file (default $ISIM_SIGN_KEY; --key is\n"
		"                             the same)\n"
		"  -x, --sig-file SIGFILE     write the signature there (one FILE only)\n"
		"  -t, --trusted-comment TEXT signed comment (default\n"
		"                             \"timestamp:<SOURCE_DATE_EPOCH or now>\\tfile:<name>\\thashed\")\n"
		"  -c, --comment TEXT         unsigned comment line\n"
		"      --password-fd N        read the key's password from descriptor N\n"
		"  -h, --help                 this text\n"
		"  -V, --version              print the version\n"
		"\n"
		"Exit status: 0 signed, 64 usage, 65 bad key, 66 missing input, 73/74 cannot\n"
		"write, 77 key file open to others or wrong password; see isim(7).\n",
		prog);
}

void sign_files_usage(FILE *f)
{
	usage(f, "isim-sign sign");
}

static int print_result(const char *file, const char *sigpath, const struct isim_ms_sig *sig)
{
	char hex[ISIM_MS_KEYID_HEX];
	cJSON *o = cJSON_CreateObject();
	int ret = -1;

	isim_ms_keyid_hex(sig->keyid, hex);
	if (o && cJSON_AddStringToObject(o, "file", file) && cJSON_AddStringToObject(o, "signature", sigpath) &&
	    cJSON_AddStringToObject(o, "key_id", hex) && cJSON_AddStringToObject(o, "trusted_comment", sig->trusted))
		ret = isim_json_write_line(stdout, o);
	cJSON_Delete(o);
	return ret;
}

/* Write each signature in place (atomically) and report it. */
static int write_all(const char *prog, char **files, int n, const char *sigfile, const struct isim_ms_sig *sigs)
{
	struct isim_error err;
	char *text, *path;
	size_t len;
	int i, r;

	isim_error_clear(&err);
	for (i = 0; i < n; i++) {
		if (sigfile)
			path = strdup(sigfile);
		else if (asprintf(&path, "%s.sig", files[i]) < 0)
			path = NULL;
		text = isim_ms_sig_format(&sigs[i], &len);
		if (!path || !text) {
			free(path);
			free(text);
			isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
			return isim_fail(prog, &err);
		}
		r = isim_file_write_atomic(path, text, len, 0644, &err);
		free(text);
		if (r == 0 && print_result(files[i], path, &sigs[i]) < 0) {
			free(path);
			return isim_stdout_error(prog);
		}
		free(path);
		if (r < 0)
			return isim_fail(prog, &err);
	}
	return isim_close_stdout(prog);
}

static int sign_all(const char *prog, const char *key, int pwfd, char **files, int n, const char *trusted,
		    const char *comment, struct isim_ms_sig *sigs)
{
	char tc[ISIM_MS_TRUSTED_MAX + 1];
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	time_t now;
	int i, ret = -1;

	isim_error_clear(&err);
	if (isim_secret_protect(&err) < 0 || isim_sde_now(getenv("SOURCE_DATE_EPOCH"), &now, NULL, &err) < 0 ||
	    isim_secret_key_open(key, pwfd, &sk, &err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!trusted && isim_ms_default_trusted_comment(now, files[i], tc, sizeof(tc), &err) < 0)
			goto out;
		if (isim_ms_sign_file(sk, files[i], trusted ? trusted : tc, comment, &sigs[i], &err) < 0)
			goto out;
	}
	ret = 0;
out:
	isim_ms_seckey_free(sk);
	return ret < 0 ? isim_fail(prog, &err) : 0;
}

int sign_files_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_KEY,
		{ "sig-file", required_argument, NULL, 'x' },
		{ "trusted-comment", required_argument, NULL, 't' },
		{ "comment", required_argument, NULL, 'c' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = strcmp(argv[0], "sign") == 0 ? "isim-sign sign" : "isim-sign";
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_getopt g = {
		.prog = prog, .shortopts = "k:x:t:c:hV", .longopts = opts, .usage_as = usage, .key = &key
	};
	const char *sigfile = NULL, *trusted = NULL, *comment = NULL;
	struct isim_ms_sig *sigs = NULL;
	int c, n, ret;

	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'x':
			if (isim_opt_once(prog, "--sig-file", &sigfile, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 't':
			if (isim_opt_once(prog, "--trusted-comment", &trusted, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'c':
			if (isim_opt_once(prog, "--comment", &comment, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	n = argc - optind;
	if (isim_key_finish(prog, &key, true))
		return ISIM_EXIT_USAGE;
	if (n < 1)
		return isim_usage_error(prog, "no FILE to sign");
	if (sigfile && n > 1)
		return isim_usage_error(prog, "--sig-file goes with one FILE only, got %d", n);
	if (trusted && !isim_ms_comment_ok(trusted, ISIM_MS_TRUSTED_MAX))
		return isim_usage_error(prog, "--trusted-comment must be one line of at most %d bytes",
					ISIM_MS_TRUSTED_MAX);
	if (comment && !isim_ms_comment_ok(comment, ISIM_MS_COMMENT_MAX))
		return isim_usage_error(prog, "--comment must be one line of at most %d bytes", ISIM_MS_COMMENT_MAX);
	sigs = calloc((size_t)n, sizeof(*sigs));
	if (!sigs)
		return ISIM_EXIT_SOFTWARE;
	/* Every file is signed before any signature is written, so a missing
	 * file or a wrong password leaves no output at all. */
	ret = sign_all(prog, key.path, key.password_fd, argv + optind, n, trusted, comment, sigs);
	if (ret == 0)
		ret = write_all(prog, argv + optind, n, sigfile, sigs);
	free(sigs);
	return ret;
}
