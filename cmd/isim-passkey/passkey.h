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
int pk_register_options_main(int argc, char *argv[]);
int pk_register_verify_main(int argc, char *argv[]);
int pk_login_options_main(int argc, char *argv[]);
int pk_login_verify_main(int argc, char *argv[]);
int pk_session_check_main(int argc, char *argv[]);
int pk_session_revoke_main(int argc, char *argv[]);
int pk_credentials_main(int argc, char *argv[]);
void pk_register_options_usage(FILE *f);
void pk_register_verify_usage(FILE *f);
void pk_login_options_usage(FILE *f);
void pk_login_verify_usage(FILE *f);
void pk_session_check_usage(FILE *f);
void pk_session_revoke_usage(FILE *f);
void pk_credentials_usage(FILE *f);
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
	PK_OPT_RP_NAME,
	PK_OPT_USER,
	PK_OPT_DISPLAY_NAME,
	PK_OPT_UV,
	PK_OPT_RESIDENT_KEY,
	PK_OPT_ATTESTATION,
	PK_OPT_ALL,
	PK_OPT_LOCAL,
	PK_OPT_NEW_USER,
	PK_OPT_SESSION,
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
/* What a verified registration made: credential_id, alg, alg_name,
 * sign_count, fmt, attestation_type, attestation_trusted, aaguid, the
 * flags and transports. False when out of memory. */
bool pk_add_registered(cJSON *o, const struct isim_wa_reg_result *res, const struct isim_wa_registration *r);
/* A stored key as COSE (starts with a CBOR map) or DER SPKI, base64url. */
bool pk_key_parse(const char *b64, struct isim_wa_key *k, struct isim_wa_status *st);
/* Read stdin (at most 1 MiB) as one JSON document. 0 or an exit code. */
int pk_read_stdin(const char *prog, cJSON **out);

/* ---- the relying party's state (state.c) ---- */

#define PK_STATE_DIR_DEFAULT "/var/lib/infrasim"
#define PK_DB_NAME "passkey.db"
/* Section 15.4 (ceremony timeouts): 5 minutes for a challenge; the seed's
 * 24 hours for a session. */
#define PK_CHALLENGE_TTL 300
#define PK_SESSION_TTL 86400
#define PK_CHALLENGE_BYTES 32
#define PK_HANDLE_BYTES 16
#define PK_TOKEN_BYTES 32

/* clang-format off */
#define PK_LONGOPTS_RP \
	{ "state-dir", required_argument, NULL, PK_OPT_STATE_DIR }, \
	{ "rp-id", required_argument, NULL, PK_OPT_RP_ID }, \
	{ "origin", required_argument, NULL, PK_OPT_ORIGIN }
#define PK_USAGE_RP \
	"      --state-dir DIR      where " PK_DB_NAME " is (ISIM_STATE_DIR; default\n" \
	"                           " PK_STATE_DIR_DEFAULT ")\n" \
	"      --rp-id ID           the relying party id (WEBAUTHN_RP_ID)\n" \
	"      --origin ORIGIN      an origin served (repeatable; WEBAUTHN_RP_ORIGIN)\n"
/* clang-format on */

struct pk_rp {
	const char *state_dir;
	const char *rp_id;
	const char *origins[PK_MAX_LIST];
	size_t norigins;
};

/* For getopt's c among PK_LONGOPTS_RP: 1, 0, or ISIM_EXIT_USAGE. */
int pk_rp_option(const char *prog, void *rp, int c, const char *arg);

struct sqlite3;

struct isim_audit;

struct pk_ctx {
	const char *prog;
	struct sqlite3 *db;
	struct pk_rp *rp;
	int64_t now;
	cJSON *audit_rec;	  /* the ceremony, for the audit log once committed */
	struct isim_audit *audit; /* opened by the first pk_commit, kept till pk_close */
};

/* The environment's defaults for rp (need_origin: an origin is required),
 * then the state opened (created). 0 or an exit code, said on stderr. */
int pk_open(struct pk_ctx *c, const char *prog, struct pk_rp *rp, bool need_origin);
void pk_close(struct pk_ctx *c);
/* login-verify on an open state, which a process may keep for many: the
 * AuthenticationResponseJSON doc verified, taken and recorded. 0 and *out
 * the result (the session token in it), 1 refused (st says why), or an
 * exit code, said on stderr. */
int pk_login_verify(struct pk_ctx *c, const cJSON *doc, cJSON **out, struct isim_wa_status *st);
/* Inside a transaction: expired challenges, and sessions a day past their
 * end, deleted. 0 or an exit code. */
int pk_sweep(struct pk_ctx *c);
/* An exit code for a failed statement, said on stderr. */
int pk_db_fail(struct pk_ctx *c, const struct isim_error *err);

/* A pending challenge, as issued. */
struct pk_challenge {
	uint8_t value[PK_CHALLENGE_BYTES];
	int64_t user_id; /* 0: any user (discoverable credentials) */
	bool uv_required;
	int64_t algs[PK_MAX_LIST];
	size_t nalgs;
	int64_t expires_at;
};

/* Issue one (kind "register" or "login"): 0 or an exit code. */
int pk_challenge_issue(struct pk_ctx *c, const char *kind, struct pk_challenge *ch);
/* Inside the ceremony's transaction, which commits whether the ceremony is
 * refused or not: take the challenge clientDataJSON names, deleting it, so
 * that it is used once whatever follows. 0 and *ch, 1 refused (st:
 * challenge, expired), or an exit code. */
int pk_challenge_take(struct pk_ctx *c, const char *kind, const uint8_t *client_data, size_t len,
		      struct pk_challenge *ch, struct isim_wa_status *st);
/* The ceremony, ok or refused, in the ceremonies table, and kept for the
 * audit log (pk_commit). Failures to record are said, not fatal. */
void pk_record(struct pk_ctx *c, const char *kind, int64_t user_id, const uint8_t *cred_id, size_t cred_id_len,
	       const struct isim_wa_status *st);
/* [{type, id, transports}] of a user's credentials (excludeCredentials,
 * allowCredentials); NULL on a failure, said. */
cJSON *pk_credential_descriptors(struct pk_ctx *c, int64_t user_id);
/* Commit the ceremony's transaction, then append the ceremony pk_record
 * kept to the audit log (kind "passkey"), which every tool writes to; a
 * log that cannot be written is said on stderr, the ceremony stands. 0 or
 * an exit code. */
int pk_commit(struct pk_ctx *c);
/* A new session of the user's (24 hours), inside the ceremony's
 * transaction: token filled with 32 random bytes, only its SHA-256 stored.
 * 0 or an exit code. */
int pk_session_open(struct pk_ctx *c, int64_t user_id, const uint8_t *cred_id, size_t n,
		    uint8_t token[static PK_TOKEN_BYTES]);
/* RFC 3339 text of t, as a member. */
void pk_add_time(cJSON *o, const char *name, int64_t t);

#endif
