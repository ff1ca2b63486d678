/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/catalog.h"
#include "isim/descriptor.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "sign.h"

#define PROG "isim-sign descriptor"
#define SCHEMA_FILE "node-descriptor.schema.json"

void sign_descriptor_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-k KEY] [--password-fd N] [--stream] [FILE]\n"
		   "\n"
		   "Attest node descriptors (FILE, or standard input): each is checked against\n"
		   "" SCHEMA_FILE " (built into the program), then gets an \"attestation\" with the key id of\n"
		   "KEY and an Ed25519 signature over its RFC 8785 form without the\n"
		   "attestation; an attestation already there is replaced. Prints the signed\n"
		   "descriptor.\n"
		   "\n"
		   "  -k, --sign-key KEY     secret key (minisign format; default $ISIM_SIGN_KEY;\n"
		   "                         --key is the same)\n"
		   "      --password-fd N    read the key's password from descriptor N\n"
		   "  -s, --stream           JSON Lines in and out, one descriptor a line\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 signed, 64 usage, 65 malformed descriptor (nothing is\n"
		   "printed for it), 66 missing file, 77 key not readable or wrong password.\n");
}

/* 0, -1 with err set, or ISIM_EXIT_IOERR when stdout failed (told). */
static int sign_one(const struct isim_schema *schema, const struct isim_ms_seckey *sk, cJSON *doc, bool line,
		    struct isim_error *err)
{
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "attestation");
	if (isim_schema_check(schema, doc, err) < 0)
		return -1;
	if (isim_descriptor_sign(doc, sk->sk, sk->keyid, err) < 0)
		return -1;
	if ((line ? isim_json_write_line(stdout, doc) : isim_json_write(stdout, doc)) < 0)
		return isim_stdout_error(PROG);
	return 0;
}

int sign_descriptor_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_KEY,
		{ "stream", no_argument, NULL, 's' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "k:shV", .longopts = opts, .usage = sign_descriptor_usage, .key = &key
	};
	const char *path, *name;
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	struct isim_descriptor_schema schema = { 0 };
	cJSON *doc = NULL;
	bool stream = false;
	int c, ret = 0, got;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 's':
			stream = true;
			break;
		}
	}
	if (isim_key_finish(PROG, &key, true))
		return ISIM_EXIT_USAGE;
	if (argc - optind > 1)
		return isim_usage_error(PROG, "one FILE at most, got %d", argc - optind);
	path = optind < argc ? argv[optind] : "-";
	name = strcmp(path, "-") ? path : "<stdin>";
	/* Only the schema built into the program: what is signed must not
	 * depend on files the signer cannot check. */
	if (isim_descriptor_schema_load(NULL, &schema, &err) < 0)
		return isim_fail(PROG, &err);
	if (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (!stream) {
		got = isim_json_load_file(path, &doc, &err);
		if (got == 0)
			got = sign_one(schema.schema, sk, doc, false, &err);
		if (got == ISIM_EXIT_IOERR) {
			ret = got;
		} else if (got < 0) {
			isim_error_at(&err, name, err.line, err.column);
			ret = isim_fail(PROG, &err);
		}
		cJSON_Delete(doc);
	} else {
		FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
		struct isim_jsonl rd;

		if (!in) {
			isim_error_at(&err, path, 0, 0);
			isim_error_errno(&err, ISIM_ERR_NOINPUT, errno, "cannot open");
			ret = isim_fail(PROG, &err);
			goto out;
		}
		isim_jsonl_init(&rd, in, name);
		while ((got = isim_jsonl_next(&rd, &doc, &err)) != 0) {
			if (got > 0)
				got = sign_one(schema.schema, sk, doc, true, &err);
			cJSON_Delete(doc);
			doc = NULL;
			if (got == ISIM_EXIT_IOERR) {
				ret = got;
				break;
			}
			if (got < 0)
				isim_error_at(&err, name, rd.line, 0);
			if (err.kind) {
				/* A malformed line is skipped and told; others stop. */
				c = isim_fail(PROG, &err);
				if (c != ISIM_EXIT_DATAERR) {
					ret = c;
					break;
				}
				ret = c;
				isim_error_clear(&err);
			}
		}
		isim_jsonl_free(&rd);
		if (in != stdin)
			fclose(in);
	}
out:
	isim_ms_seckey_free(sk);
	isim_descriptor_schema_free(&schema);
	c = isim_close_stdout(PROG);
	return c ? c : ret;
}
