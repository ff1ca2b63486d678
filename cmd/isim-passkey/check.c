/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "passkey.h"

#define PROG_REG "isim-passkey check-registration"
#define PROG_ASSERT "isim-passkey check-assertion"

void pk_check_registration_usage(FILE *f)
{
	fprintf(f, "usage: " PROG_REG " --challenge B64URL [--origin ORIGIN]... [--rp-id ID]\n"
		   "       [--require-uv] [--up-optional] [--alg N]... [--allow-cross-origin]\n"
		   "       [--top-origin ORIGIN]... [--attestation-roots PEMFILE]\n"
		   "       [--attestation-time TIME] [--require-attestation]\n"
		   "       [--accept-unverified-attestation] [--expect FILE] < credential.json\n"
		   "\n"
		   "Verify one registration response (RegistrationResponseJSON on stdin, or\n"
		   "{\"credential\": ..., \"expect\": {...}}) and print one JSON line: ok, reason,\n"
		   "message, and when ok the credential to store (credential_id, public_key,\n"
		   "alg, sign_count, fmt, attestation_type, ...).\n"
		   "\n" PK_USAGE_EXPECT "      --up-optional        take a registration without user presence (UP)\n"
		   "      --alg N              a COSE algorithm offered (repeatable; default all)\n"
		   "      --attestation-roots PEMFILE  check x5c chains against these roots\n"
		   "      --attestation-time TIME      the time for the chain (RFC 3339, @SECONDS)\n"
		   "      --require-attestation        refuse what no root vouches for\n"
		   "      --accept-unverified-attestation  take formats other than none, packed\n"
		   "                           and fido-u2f unchecked\n"
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0 verified, 1 refused (reason says why), 64 usage, 65 stdin is\n"
		   "not JSON.\n");
}

void pk_check_assertion_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG_ASSERT " --challenge B64URL --public-key B64URL [--sign-count N]\n"
		"       [--credential-id B64URL] [--user-handle B64URL] [--origin ORIGIN]...\n"
		"       [--rp-id ID] [--require-uv] [--allow-cross-origin] [--top-origin ORIGIN]...\n"
		"       [--expect FILE] < assertion.json\n"
		"\n"
		"Verify one assertion (AuthenticationResponseJSON on stdin, or {\"credential\":\n"
		"..., \"expect\": {...}}) under a stored public key and counter, and print one\n"
		"JSON line: ok, reason, message, and when ok the new sign_count and flags.\n"
		"\n" PK_USAGE_EXPECT "      --public-key B64URL  the stored key, COSE_Key or DER SubjectPublicKeyInfo\n"
		"      --sign-count N       the stored signature counter (default 0)\n"
		"      --credential-id B64URL  refuse any other credential\n"
		"      --user-handle B64URL    refuse another user's handle\n"
		"  -h, --help               this text\n"
		"  -V, --version            print the version\n"
		"\n"
		"Exit status: 0 verified, 1 refused (reason says why), 64 usage, 65 stdin is\n"
		"not JSON.\n");
}

/* stdin's document: the credential, or {"credential", "expect"}. */
static int split_input(const char *prog, cJSON *doc, struct pk_expect *x, const cJSON **cred)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "credential");
	const cJSON *it;

	*cred = doc;
	if (!c)
		return 0;
	cJSON_ArrayForEach (it, doc) {
		if (strcmp(it->string, "credential") && strcmp(it->string, "expect")) {
			fprintf(stderr, "%s: stdin: member '%.64s' is neither credential nor expect\n", prog,
				it->string);
			return ISIM_EXIT_DATAERR;
		}
	}
	*cred = c;
	it = cJSON_GetObjectItemCaseSensitive(doc, "expect");
	return it ? pk_expect_json(prog, x, it, "stdin/expect") : 0;
}

static int run(const char *prog, bool assertion, const struct option *opts, void (*usage)(FILE *), int argc,
	       char *argv[])
{
	struct isim_getopt g = { .prog = prog, .shortopts = "hV", .longopts = opts, .usage = usage };
	struct pk_expect x;
	struct isim_wa_expect e;
	struct isim_wa_status st = { 0 };
	struct isim_wa_registration r = { 0 };
	struct isim_wa_assertion a = { 0 };
	struct isim_wa_reg_result rr = { 0 };
	struct isim_wa_auth_result ar = { 0 };
	const cJSON *cred;
	cJSON *doc = NULL, *o = NULL;
	int c, rc;

	pk_expect_init(&x, assertion);
	while ((c = isim_getopt_shared(&g, pk_expect_option, &x, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT) {
			rc = g.rc;
			goto out;
		}
	}
	if (optind < argc) {
		rc = isim_usage_error(prog, "unexpected argument '%.64s'", argv[optind]);
		goto out;
	}
	rc = pk_read_stdin(prog, &doc);
	if (rc)
		goto out;
	rc = split_input(prog, doc, &x, &cred);
	if (rc)
		goto out;
	rc = pk_expect_finish(prog, &x, &e);
	if (rc)
		goto out;
	if (assertion) {
		if (x.key_refusal.reason) {
			rc = pk_print_refusal(prog, &x.key_refusal);
			goto out;
		}
		if (!isim_wa_assertion_from_json(cred, &a, &st) || !isim_wa_verify_assertion(&a, &e, &ar, &st)) {
			rc = pk_print_refusal(prog, &st);
			goto out;
		}
		o = cJSON_CreateObject();
		if (!o)
			goto oom;
		cJSON_AddTrueToObject(o, "ok");
		cJSON_AddNullToObject(o, "reason");
		cJSON_AddNullToObject(o, "message");
		if (!pk_add_b64(o, "credential_id", a.raw_id, a.raw_id_len))
			goto oom;
		cJSON_AddNumberToObject(o, "sign_count", ar.sign_count);
		pk_add_flags(o, ar.flags);
		if (!pk_add_b64(o, "user_handle", a.user_handle, a.user_handle_len))
			goto oom;
	} else {
		if (!isim_wa_registration_from_json(cred, &r, &st) || !isim_wa_verify_registration(&r, &e, &rr, &st)) {
			rc = pk_print_refusal(prog, &st);
			goto out;
		}
		o = cJSON_CreateObject();
		if (!o)
			goto oom;
		cJSON_AddTrueToObject(o, "ok");
		cJSON_AddNullToObject(o, "reason");
		cJSON_AddNullToObject(o, "message");
		if (!pk_add_registered(o, &rr, &r) || !pk_add_b64(o, "public_key", rr.cose_key, rr.cose_key_len))
			goto oom;
	}
	rc = pk_print(prog, o);
	o = NULL;
	goto out;
oom:
	fprintf(stderr, "%s: out of memory\n", prog);
	rc = ISIM_EXIT_SOFTWARE;
out:
	cJSON_Delete(o);
	cJSON_Delete(doc);
	isim_wa_registration_free(&r);
	isim_wa_assertion_free(&a);
	isim_wa_reg_result_free(&rr);
	pk_expect_free(&x);
	return rc;
}

int pk_check_registration_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_EXPECT,
		PK_LONGOPTS_REGISTRATION,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};

	return run(PROG_REG, false, opts, pk_check_registration_usage, argc, argv);
}

int pk_check_assertion_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		PK_LONGOPTS_EXPECT,
		PK_LONGOPTS_ASSERTION,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};

	return run(PROG_ASSERT, true, opts, pk_check_assertion_usage, argc, argv);
}
