/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "isim/hash.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "isim/provenance.h"
#include "isim/trust.h"
#include "verify.h"

#define PROG "isim-verify provenance"

void verify_provenance_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--trust DIR | --pub KEY.pub] [--statement FILE] [-x SIG] IMAGE\n"
		   "\n"
		   "Check IMAGE's provenance: the statement (NAME.provenance.json beside\n"
		   "IMAGE, NAME being IMAGE's file name without its extension) is signed by a\n"
		   "trusted signer that is not revoked (STATEMENT.sig, else STATEMENT.minisig),\n"
		   "is an in-toto Statement v1, and names IMAGE's SHA-256 as its subject.\n"
		   "Prints a JSON verdict {\"ok\", \"image\", \"sha256\", \"statement\", \"signature\",\n"
		   "\"key_id\", \"predicate_type\", \"reason\"}.\n"
		   "\n"
		   "  -d, --trust DIR        trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                         $ISIM_TRUST_DIR, else " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "  -p, --pub KEY.pub      trust this one public key instead\n"
		   "  -S, --statement FILE   the statement, when it is elsewhere\n"
		   "  -x, --sig-file SIG     its signature, when it is elsewhere\n"
		   "  -h, --help             this text\n"
		   "\n"
		   "Exit status: 0 verified, 1 not (see \"reason\"), 64 usage, 65 malformed\n"
		   "statement or signature, 66 missing file, 78 bad trusted signers directory.\n");
}

/* dir/name.ext -> dir/name.provenance.json */
static char *statement_path(const char *image)
{
	const char *slash = strrchr(image, '/'), *base = slash ? slash + 1 : image, *dot = strrchr(base, '.');
	size_t n = dot && dot != base ? (size_t)(dot - image) : strlen(image);
	char *out = NULL;

	if (asprintf(&out, "%.*s.provenance.json", (int)n, image) < 0)
		return NULL;
	return out;
}

struct verdict {
	const char *image, *statement, *signature;
	char sha256[ISIM_SHA256_HEX];
	char key_id[ISIM_MS_KEYID_HEX];
	const char *predicate_type;
};

static int print_verdict(const struct verdict *v, const char *reason)
{
	cJSON *o = cJSON_CreateObject();
	int ret = -1;

#define STR_OR_NULL(k, s) ((s) && *(s) ? cJSON_AddStringToObject(o, k, s) : cJSON_AddNullToObject(o, k))
	if (o && cJSON_AddBoolToObject(o, "ok", !reason) && cJSON_AddStringToObject(o, "image", v->image) &&
	    STR_OR_NULL("sha256", v->sha256) && cJSON_AddStringToObject(o, "statement", v->statement) &&
	    cJSON_AddStringToObject(o, "signature", v->signature) && STR_OR_NULL("key_id", v->key_id) &&
	    STR_OR_NULL("predicate_type", v->predicate_type) && STR_OR_NULL("reason", reason))
		ret = isim_json_write_line(stdout, o);
#undef STR_OR_NULL
	cJSON_Delete(o);
	return ret;
}

/* The error for a verdict that could not be printed: only the reason,
 * not the statement's path. */
static int stdout_failed(struct isim_error *err)
{
	int e = errno;

	isim_error_clear(err);
	return isim_error_errno(err, ISIM_ERR_IO, e, "cannot write to stdout");
}

static int check(const struct isim_trust *t, struct verdict *v, struct isim_error *err)
{
	const struct isim_trust_key *signer = NULL;
	uint8_t digest[ISIM_SHA256_BYTES];
	struct isim_ms_sig *sig = NULL;
	cJSON *stmt = NULL;
	const cJSON *ptype;
	int ret = -1;

	sig = malloc(sizeof(*sig));
	if (!sig)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_ms_sig_load(v->signature, sig, err) < 0)
		goto out;
	isim_ms_keyid_hex(sig->keyid, v->key_id);
	/* The small statement first: a forged one costs no hashing. */
	if (isim_trust_verify_file(t, sig, v->statement, &signer, err) < 0)
		goto out;
	if (isim_json_load_file(v->statement, &stmt, err) < 0)
		goto out;
	ptype = cJSON_GetObjectItemCaseSensitive(stmt, "predicateType");
	v->predicate_type = cJSON_IsString(ptype) ? ptype->valuestring : NULL;
	if (isim_sha256_file(v->image, digest, err) < 0)
		goto out;
	isim_hex(digest, sizeof(digest), v->sha256);
	isim_error_at(err, v->statement, 0, 0);
	if (isim_provenance_match(stmt, digest, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0 || err->kind == ISIM_ERR_REFUSED) {
		char reason[1600];

		if (err->kind != ISIM_ERR_REFUSED) {
			cJSON_Delete(stmt);
			free(sig);
			return -1;
		}
		snprintf(reason, sizeof(reason), "%s%s%s", err->pointer, err->pointer[0] ? ": " : "", err->msg);
		if (print_verdict(v, reason) < 0)
			ret = stdout_failed(err);
	} else if (print_verdict(v, NULL) < 0) {
		ret = stdout_failed(err);
	}
	v->predicate_type = NULL;
	cJSON_Delete(stmt);
	free(sig);
	return ret;
}

int verify_provenance_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 'd' },
		{ "pub", required_argument, NULL, 'p' },
		{ "statement", required_argument, NULL, 'S' },
		{ "sig-file", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *pub = NULL, *stmt_opt = NULL, *sig_opt = NULL;
	char *stmt = NULL, *sig = NULL;
	struct verdict v = { 0 };
	struct isim_trust *t = NULL;
	struct isim_error err;
	int c, ret;

	isim_error_clear(&err);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:p:S:x:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (isim_opt_once(PROG, "--trust", &dir, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'p':
			if (isim_opt_once(PROG, "--pub", &pub, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'S':
			if (isim_opt_once(PROG, "--statement", &stmt_opt, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'x':
			if (isim_opt_once(PROG, "--sig-file", &sig_opt, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'h':
			verify_provenance_usage(stdout);
			return isim_close_stdout(PROG);
		default:
			return isim_bad_option(PROG, argv, optopt);
		}
	}
	if (argc - optind != 1)
		return isim_usage_error(PROG, argc == optind ? "no IMAGE given" : "one IMAGE only, got %d",
					argc - optind);
	if (dir && pub)
		return isim_usage_error(PROG, "--trust and --pub exclude each other");
	v.image = argv[optind];
	stmt = stmt_opt ? strdup(stmt_opt) : statement_path(v.image);
	sig = stmt ? (sig_opt ? strdup(sig_opt) : isim_ms_sig_path(stmt)) : NULL;
	if (!stmt || !sig) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		ret = isim_fail(PROG, &err);
		goto out;
	}
	v.statement = stmt;
	v.signature = sig;
	if (isim_trust_open(dir, pub, &t, &err) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	if (check(t, &v, &err) < 0 && err.kind != ISIM_ERR_REFUSED) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	ret = err.kind == ISIM_ERR_REFUSED ? ISIM_EXIT_VERDICT : 0;
	c = isim_close_stdout(PROG);
	if (c)
		ret = c;
out:
	isim_trust_free(t);
	free(stmt);
	free(sig);
	return ret;
}
