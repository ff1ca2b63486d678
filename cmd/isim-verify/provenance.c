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

struct paths {
	const char *image, *statement, *signature;
};

/* The verdict's line: {"ok", "image", "sha256", "statement", "signature",
 * "key_id", "predicate_type", "reason"}. */
static int print(const struct paths *p, const char *sha256, const char *ptype, const struct isim_verdict *v)
{
	const struct isim_vfield f[] = {
		ISIM_VF_STR("image", p->image),
		ISIM_VF_STR_OR_NULL("sha256", sha256),
		ISIM_VF_STR("statement", p->statement),
		ISIM_VF_STR("signature", p->signature),
		ISIM_VF_OWN(ISIM_VF_KEY_ID),
		ISIM_VF_STR_OR_NULL("predicate_type", ptype),
		ISIM_VF_OWN(ISIM_VF_REASON),
		ISIM_VF_LAST,
	};

	return isim_verdict_print(PROG, v, f);
}

/* The exit code of the verdict printed, or -1 (err) when it could not check. */
static int check(const struct isim_trust *t, const struct paths *p, struct isim_error *err)
{
	uint8_t digest[ISIM_SHA256_BYTES];
	char sha256[ISIM_SHA256_HEX] = "";
	struct isim_verdict v, match;
	struct isim_ms_sig *sig = NULL;
	const char *ptype = NULL;
	cJSON *stmt = NULL;
	const cJSON *pt;
	int ret = -1;

	sig = malloc(sizeof(*sig));
	if (!sig)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_ms_sig_load(p->signature, sig, err) < 0)
		goto out;
	/* The small statement first: a forged one costs no hashing. */
	if (isim_trust_verify_file(t, sig, p->statement, &v, err) < 0)
		goto out;
	if (!v.ok) {
		ret = print(p, NULL, NULL, &v);
		goto out;
	}
	if (isim_json_load_file(p->statement, &stmt, err) < 0)
		goto out;
	pt = cJSON_GetObjectItemCaseSensitive(stmt, "predicateType");
	ptype = cJSON_IsString(pt) ? pt->valuestring : NULL;
	if (isim_sha256_file(p->image, digest, err) < 0)
		goto out;
	isim_hex(digest, sizeof(digest), sha256);
	isim_error_at(err, p->statement, 0, 0);
	if (isim_provenance_match(stmt, digest, &match, err) < 0)
		goto out;
	if (!match.ok)
		isim_verdict_refuse(&v, NULL, "%s", match.reason);
	ret = print(p, sha256, ptype, &v);
out:
	cJSON_Delete(stmt);
	free(sig);
	return ret;
}

int verify_provenance_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_TRUST,
		{ "statement", required_argument, NULL, 'S' },
		{ "sig-file", required_argument, NULL, 'x' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = { .prog = PROG,
				 .shortopts = "d:p:S:x:hV",
				 .longopts = opts,
				 .usage = verify_provenance_usage,
				 .trust = &trust };
	const char *stmt_opt = NULL, *sig_opt = NULL;
	char *stmt = NULL, *sig = NULL;
	struct paths v = { 0 };
	struct isim_trust *t = NULL;
	struct isim_error err;
	int c, ret;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'S':
			if (isim_opt_once(PROG, "--statement", &stmt_opt, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'x':
			if (isim_opt_once(PROG, "--sig-file", &sig_opt, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (argc - optind != 1)
		return isim_usage_error(PROG, argc == optind ? "no IMAGE given" : "one IMAGE only, got %d",
					argc - optind);
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
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
	if (isim_trust_opt_open(&trust, &t, &err) < 0 || (ret = check(t, &v, &err)) < 0) {
		ret = isim_fail(PROG, &err);
		goto out;
	}
	c = isim_close_stdout(PROG);
	if (c)
		ret = c;
out:
	isim_trust_free(t);
	free(stmt);
	free(sig);
	return ret;
}
