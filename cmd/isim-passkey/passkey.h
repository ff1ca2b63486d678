/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PASSKEY_H
#define ISIM_PASSKEY_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/webauthn.h"

/* The whole isim-passkey command, callable in-process by tests. */
int isim_passkey_main(int argc, char *argv[]);

int pk_check_registration_main(int argc, char *argv[]);
int pk_check_assertion_main(int argc, char *argv[]);
void pk_check_registration_usage(FILE *f);
void pk_check_assertion_usage(FILE *f);

/* ---- what the check commands share: the expectations ---- */

enum {
	PK_OPT_CHALLENGE = 0x1100,
	PK_OPT_ORIGIN,
	PK_OPT_RP_ID,
	PK_OPT_REQUIRE_UV,
	PK_OPT_UP_OPTIONAL,
	PK_OPT_CROSS_ORIGIN,
	PK_OPT_TOP_ORIGIN,
	PK_OPT_ALG,
	PK_OPT_ROOTS,
	PK_OPT_ATT_TIME,
	PK_OPT_REQUIRE_ATT,
	PK_OPT_ACCEPT_UNVERIFIED,
	PK_OPT_PUBLIC_KEY,
	PK_OPT_SIGN_COUNT,
	PK_OPT_CREDENTIAL_ID,
	PK_OPT_USER_HANDLE,
	PK_OPT_EXPECT,
	PK_OPT_STATE_DIR,
	PK_OPT_LOCAL,
};

/* clang-format off */
#define PK_LONGOPTS_EXPECT \
	{ "challenge", required_argument, NULL, PK_OPT_CHALLENGE }, \
	{ "origin", required_argument, NULL, PK_OPT_ORIGIN }, \
	{ "rp-id", required_argument, NULL, PK_OPT_RP_ID }, \
	{ "require-uv", no_argument, NULL, PK_OPT_REQUIRE_UV }, \
	{ "allow-cross-origin", no_argument, NULL, PK_OPT_CROSS_ORIGIN }, \
	{ "top-origin", required_argument, NULL, PK_OPT_TOP_ORIGIN }, \
	{ "expect", required_argument, NULL, PK_OPT_EXPECT }
#define PK_LONGOPTS_REGISTRATION \
	{ "up-optional", no_argument, NULL, PK_OPT_UP_OPTIONAL }, \
	{ "alg", required_argument, NULL, PK_OPT_ALG }, \
	{ "attestation-roots", required_argument, NULL, PK_OPT_ROOTS }, \
	{ "attestation-time", required_argument, NULL, PK_OPT_ATT_TIME }, \
	{ "require-attestation", no_argument, NULL, PK_OPT_REQUIRE_ATT }, \
	{ "accept-unverified-attestation", no_argument, NULL, PK_OPT_ACCEPT_UNVERIFIED }
#define PK_LONGOPTS_ASSERTION \
	{ "public-key", required_argument, NULL, PK_OPT_PUBLIC_KEY }, \
	{ "sign-count", required_argument, NULL, PK_OPT_SIGN_COUNT }, \
	{ "credential-id", required_argument, NULL, PK_OPT_CREDENTIAL_ID }, \
	{ "user-handle", required_argument, NULL, PK_OPT_USER_HANDLE }
#define PK_USAGE_EXPECT \
	"      --challenge B64URL   the challenge issued (required)\n" \
	"      --origin ORIGIN      an origin served (repeatable; WEBAUTHN_RP_ORIGIN)\n" \
	"      --rp-id ID           the relying party id (WEBAUTHN_RP_ID)\n" \
	"      --require-uv         refuse unless the user was verified (UV)\n" \
	"      --allow-cross-origin take ceremonies run in cross-origin frames\n" \
	"      --top-origin ORIGIN  with it, the top origins allowed (repeatable)\n" \
	"      --expect FILE        expectations as a JSON object (see isim-passkey(1))\n"
/* clang-format on */

#define PK_MAX_LIST 16

/* Expectations gathered from options and JSON, and what they point at. */
struct pk_expect {
	uint8_t *challenge;
	size_t challenge_len;
	char *origins[PK_MAX_LIST];
	size_t norigins;
	char *rp_id;
	char *top_origins[PK_MAX_LIST];
	size_t ntop_origins;
	int64_t algs[PK_MAX_LIST];
	size_t nalgs;
	char *roots_pem;
	size_t roots_pem_len;
	int64_t att_time;
	struct isim_wa_key key;
	bool have_key;
	/* A stored key of an algorithm this module cannot verify: every
	 * assertion under it is refused with this. */
	struct isim_wa_status key_refusal;
	uint32_t sign_count;
	uint8_t *cred_id;
	size_t cred_id_len;
	uint8_t *user_handle;
	size_t user_handle_len;
	int require_uv, up_optional, cross_origin, require_att, accept_unverified; /* -1 unset */
	bool have_sign_count, have_att_time;
	const char *expect_path;
	bool assertion;
};

void pk_expect_init(struct pk_expect *x, bool assertion);
void pk_expect_free(struct pk_expect *x);
/* For getopt's c: 1 taken, 0 not an expectation, or ISIM_EXIT_USAGE. */
int pk_expect_option(const char *prog, void *x, int c, const char *arg);
/* Members of a JSON expectations object (isim-passkey(1)); a value given
 * twice (here and as an option) is a usage error. 0 or an exit code. */
int pk_expect_json(const char *prog, struct pk_expect *x, const cJSON *obj, const char *where);
/* After options and JSON: the environment's defaults, the checks that
 * need all of them, and e filled (pointing into x). 0 or an exit code. */
int pk_expect_finish(const char *prog, struct pk_expect *x, struct isim_wa_expect *e);

/* {"ok": false, "reason", "message"} on stdout: 1, or ISIM_EXIT_IOERR. */
int pk_print_refusal(const char *prog, const struct isim_wa_status *st);
/* doc on one line, then stdout closed: 0 or an exit code; doc freed. */
int pk_print(const char *prog, cJSON *doc);
/* A base64url string member: false when out of memory. */
bool pk_add_b64(cJSON *o, const char *name, const uint8_t *p, size_t n);
/* The flags' members: user_present, user_verified, backup_eligible, backed_up. */
void pk_add_flags(cJSON *o, uint8_t flags);
/* A stored key as COSE (starts with a CBOR map) or DER SPKI, base64url. */
bool pk_key_parse(const char *b64, struct isim_wa_key *k, struct isim_wa_status *st);
/* Read stdin (at most 1 MiB) as one JSON document. 0 or an exit code. */
int pk_read_stdin(const char *prog, cJSON **out);

#endif
