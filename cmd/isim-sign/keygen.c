/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "sign.h"

#define PROG "isim-sign keygen"

void sign_keygen_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -o PATH [-f] [-W | --password-fd N] [-c COMMENT]\n"
		   "\n"
		   "Make an Ed25519 key pair in minisign's formats: the secret key in PATH\n"
		   "(mode 0600) and the public key in PATH.pub, and print one JSON line:\n"
		   "{\"secret_key\", \"public_key\", \"key_id\", \"encrypted\", \"public_key_base64\"}.\n"
		   "The secret key is encrypted with a password (scrypt, as minisign), asked\n"
		   "twice on the terminal, unless -W or --password-fd is given.\n"
		   "\n"
		   "  -o, --out PATH        where to write the secret key\n"
		   "  -f, --force           replace existing key files\n"
		   "  -W, --no-password     leave the secret key unencrypted (for CI)\n"
		   "      --password-fd N   read the password, one line, from descriptor N\n"
		   "  -c, --comment TEXT    the public key's untrusted comment\n"
		   "                        (default \"minisign public key <KEY ID>\")\n"
		   "  -h, --help            this text\n"
		   "  -V, --version         print the version\n"
		   "\n"
		   "Exit status: 0 written, 64 usage, 73 a key file exists or cannot be\n"
		   "created; see isim(7).\n");
}

static int fail(const struct isim_error *err)
{
	isim_print_error(PROG, err);
	if (err->kind == ISIM_ERR_CANTCREATE && strstr(err->msg, "already exists"))
		fprintf(stderr, PROG ": use --force to replace it\n");
	return isim_exit_code(err->kind);
}

static int refuse_existing(const char *path, struct isim_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	isim_error_at(err, path, 0, 0);
	return isim_error_set(err, ISIM_ERR_CANTCREATE, "already exists; not replaced");
}

static int print_result(const char *sk_path, const char *pk_path, const struct isim_ms_pubkey *pk, bool encrypted)
{
	char hex[ISIM_MS_KEYID_HEX], b64[ISIM_MS_PUBKEY_B64];
	cJSON *o = cJSON_CreateObject();
	int ret = -1;

	isim_ms_keyid_hex(pk->keyid, hex);
	isim_ms_pubkey_base64(pk, b64);
	if (o && cJSON_AddStringToObject(o, "secret_key", sk_path) &&
	    cJSON_AddStringToObject(o, "public_key", pk_path) && cJSON_AddStringToObject(o, "key_id", hex) &&
	    cJSON_AddBoolToObject(o, "encrypted", encrypted) && cJSON_AddStringToObject(o, "public_key_base64", b64))
		ret = isim_json_write_line(stdout, o);
	cJSON_Delete(o);
	return ret;
}

/* Make the key pair and stage both files; nothing is in place yet. */
static int make_keys(const char *sk_path, const char *pk_path, bool nopass, int pwfd, const char *comment,
		     struct isim_staged_file *ssf, struct isim_staged_file *psf, struct isim_ms_pubkey *pk,
		     struct isim_error *err)
{
	struct isim_ms_seckey *sk = NULL;
	char *pw = NULL, *text = NULL, pub[ISIM_MS_COMMENT_MAX + 128];
	size_t pwlen = 0, tlen = 0;
	int n, ret = -1;

	if (!nopass) {
		if (isim_password_read(pwfd, "Password for the new secret key: ", true, &pw, &pwlen, err) < 0)
			goto out;
		if (pwlen == 0) {
			isim_error_set(err, ISIM_ERR_USAGE, "empty password; use -W for a key without a password");
			goto out;
		}
	}
	if (isim_ms_seckey_new(&sk, err) < 0 || isim_ms_seckey_format(sk, pw, pwlen, 0, 0, &text, &tlen, err) < 0)
		goto out;
	isim_ms_seckey_pubkey(sk, pk);
	if (comment)
		snprintf(pk->comment, sizeof(pk->comment), "%s", comment);
	n = isim_ms_pubkey_format(pk, pub, sizeof(pub));
	if (n < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "cannot format the public key");
		goto out;
	}
	if (isim_file_stage(ssf, sk_path, text, tlen, 0600, err) < 0 ||
	    isim_file_stage(psf, pk_path, pub, (size_t)n, 0644, err) < 0)
		goto out;
	ret = 0;
out:
	sodium_free(text);
	sodium_free(pw);
	isim_ms_seckey_free(sk);
	return ret;
}

static int keygen(const char *out, bool force, bool nopass, int pwfd, const char *comment)
{
	struct isim_staged_file ssf = { 0 }, psf = { 0 };
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char pub_path[4096];
	int ret;

	isim_error_clear(&err);
	if (snprintf(pub_path, sizeof(pub_path), "%s.pub", out) >= (int)sizeof(pub_path))
		return isim_usage_error(PROG, "--out: path too long");
	/* Say so before asking for a password; the commit checks again. */
	if (!force && (refuse_existing(out, &err) < 0 || refuse_existing(pub_path, &err) < 0))
		return fail(&err);
	if (isim_secret_protect(&err) < 0)
		return fail(&err);
	if (make_keys(out, pub_path, nopass, pwfd, comment, &ssf, &psf, &pk, &err) < 0)
		goto fail;
	if (isim_file_commit(&ssf, force, &err) < 0)
		goto fail;
	if (isim_file_commit(&psf, force, &err) < 0) {
		/* Never leave a secret key without its public key. */
		if (!force)
			unlink(out);
		goto fail;
	}
	if (print_result(out, pub_path, &pk, !nopass) < 0)
		return isim_stdout_error(PROG);
	return isim_close_stdout(PROG);
fail:
	ret = fail(&err);
	isim_file_abort(&ssf);
	isim_file_abort(&psf);
	return ret;
}

int sign_keygen_main(int argc, char *argv[])
{
	enum {
		OPT_PWFD = ISIM_OPT_PASSWORD_FD
	};
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-password", no_argument, NULL, 'W' },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "comment", required_argument, NULL, 'c' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "o:fWc:hV", .longopts = opts, .usage = sign_keygen_usage };
	const char *out = NULL, *comment = NULL;
	bool force = false, nopass = false;
	int c, pwfd = -1;

	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'o':
			if (isim_opt_once(PROG, "--out", &out, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'f':
			force = true;
			break;
		case 'W':
			nopass = true;
			break;
		case OPT_PWFD:
			if (pwfd >= 0)
				return isim_usage_error(PROG, "--password-fd given twice");
			if (!isim_parse_fd(optarg, &pwfd))
				return isim_bad_value(PROG, "--password-fd", optarg, "a descriptor number (0 to 1023)");
			break;
		case 'c':
			if (isim_opt_once(PROG, "--comment", &comment, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (optind != argc)
		return isim_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
	if (!out || !*out)
		return isim_usage_error(PROG, "no -o PATH for the secret key");
	if (nopass && pwfd >= 0)
		return isim_usage_error(PROG, "-W and --password-fd exclude each other");
	if (comment && !isim_ms_comment_ok(comment, ISIM_MS_COMMENT_MAX))
		return isim_usage_error(PROG, "--comment must be one line of at most %d bytes", ISIM_MS_COMMENT_MAX);
	return keygen(out, force, nopass, pwfd, comment);
}
