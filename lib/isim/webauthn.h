/* SPDX-License-Identifier: MIT */
#ifndef ISIM_WEBAUTHN_H
#define ISIM_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isim/error.h"

/*
 * The relying party's checks (Web Authentication Level 3, section 7):
 * strict parsers for clientDataJSON, authenticator data, attestation
 * objects and COSE keys, and the verification of a registration and of an
 * assertion against what the relying party expects. CBOR is read by
 * libcbor, and only in its deterministic form (definite lengths, shortest
 * heads, map keys in CTAP2 canonical order, nothing after the item);
 * ECDSA and RSA are OpenSSL's, EdDSA libsodium's.
 *
 * A check that fails says why in a struct isim_wa_status: a reason a
 * script matches on (isim_wa_reason_name) and one sentence.
 */

enum isim_wa_reason {
	ISIM_WA_OK = 0,
	ISIM_WA_MALFORMED,	    /* not what the format says (JSON, base64url, CBOR, lengths) */
	ISIM_WA_TYPE,		    /* clientData type, or credential type, not the ceremony's */
	ISIM_WA_CHALLENGE,	    /* not the challenge the relying party issued */
	ISIM_WA_ORIGIN,		    /* an origin the relying party does not serve */
	ISIM_WA_CROSS_ORIGIN,	    /* made in a cross-origin frame, or under a top origin not allowed */
	ISIM_WA_TOKEN_BINDING,	    /* a token binding status this relying party cannot honour */
	ISIM_WA_RP_ID,		    /* rpIdHash is not SHA-256 of the relying party id */
	ISIM_WA_USER_PRESENCE,	    /* flag UP not set */
	ISIM_WA_USER_VERIFICATION,  /* flag UV not set, and it is required */
	ISIM_WA_ALGORITHM,	    /* a key or signature algorithm not supported or not offered */
	ISIM_WA_SIGNATURE,	    /* the signature does not verify */
	ISIM_WA_COUNTER,	    /* the signature counter did not increase */
	ISIM_WA_ATTESTATION,	    /* the attestation statement is refused */
	ISIM_WA_UNKNOWN_CREDENTIAL, /* not the credential expected, or not a known one */
	ISIM_WA_USER_HANDLE,	    /* the user handle is not the credential's user */
	ISIM_WA_CREDENTIAL_EXISTS,  /* registration of a credential id already registered */
	ISIM_WA_EXPIRED,	    /* a challenge or session past its time */
	ISIM_WA_BACKUP_ELIGIBILITY, /* BE went from 1 to 0, which a credential cannot do */
	ISIM_WA_SESSION,	    /* no such session, or one revoked */
	ISIM_WA_UNKNOWN_USER,	    /* no such user */
	ISIM_WA_USER_EXISTS,	    /* a new user asked for under a name taken */
	ISIM_WA_INTERNAL,	    /* out of memory, or a library failed */
};

struct isim_wa_status {
	enum isim_wa_reason reason;
	char msg[512]; /* one sentence, ending in '.', "" when ok */
};

/* "malformed", "challenge", ... ("ok" for ISIM_WA_OK). */
const char *isim_wa_reason_name(enum isim_wa_reason r);
/* Set st and return false, so that a check can `return isim_wa_fail(...)`. */
bool isim_wa_fail(struct isim_wa_status *st, enum isim_wa_reason r, const char *fmt, ...) ISIM_PRINTF(3, 4);

/* COSE algorithm identifiers (RFC 9053, IANA COSE registry). */
#define ISIM_COSE_ES256 (-7)
#define ISIM_COSE_EDDSA (-8)
#define ISIM_COSE_ES384 (-35)
#define ISIM_COSE_ES512 (-36)
#define ISIM_COSE_RS256 (-257)

/* Whether alg is one this module verifies; its name ("ES256"), or NULL. */
bool isim_wa_alg_supported(int64_t alg);
const char *isim_wa_alg_name(int64_t alg);

/* ---- base64url (RFC 4648 section 5, no padding) ---- */

/* Decode s (the whole string) into a malloc'd buffer; false when it is not
 * unpadded base64url with zero trailing bits, or longer than max bytes. */
bool isim_wa_b64url_decode(const char *s, size_t max, uint8_t **out, size_t *len);
/* malloc'd text, NULL when out of memory. */
char *isim_wa_b64url_encode(const uint8_t *p, size_t len);

/* ---- deterministic CBOR ---- */

/* The encoded length of the one CBOR item at p[0..len), after checking it
 * is deterministic (see above), nested at most 16 deep, without tags,
 * floats or undefined, and its text strings UTF-8. */
bool isim_wa_cbor_check(const uint8_t *p, size_t len, size_t *item_len, struct isim_wa_status *st);

/* ---- clientDataJSON (section 5.8.1) ---- */

#define ISIM_WA_CLIENT_DATA_MAX (64u << 10)

struct isim_wa_client_data {
	char *type;
	uint8_t *challenge; /* decoded */
	size_t challenge_len;
	char *origin;
	char *top_origin; /* NULL when absent */
	bool cross_origin;
	char *token_binding_status; /* NULL when absent */
};

bool isim_wa_client_data_parse(const uint8_t *p, size_t len, struct isim_wa_client_data *cd, struct isim_wa_status *st);
void isim_wa_client_data_free(struct isim_wa_client_data *cd);

/* ---- authenticator data (section 6.1) ---- */

#define ISIM_WA_FLAG_UP 0x01
#define ISIM_WA_FLAG_UV 0x04
#define ISIM_WA_FLAG_BE 0x08
#define ISIM_WA_FLAG_BS 0x10
#define ISIM_WA_FLAG_AT 0x40
#define ISIM_WA_FLAG_ED 0x80
#define ISIM_WA_RP_ID_HASH_BYTES 32
#define ISIM_WA_AAGUID_BYTES 16
/* Section 5.1: a credential id is at most 1023 bytes. */
#define ISIM_WA_CRED_ID_MAX 1023

/* Pointers into the parsed bytes, which the caller keeps. */
struct isim_wa_auth_data {
	const uint8_t *raw;
	size_t len;
	const uint8_t *rp_id_hash;
	uint8_t flags;
	uint32_t sign_count;
	const uint8_t *aaguid; /* with AT, else NULL */
	const uint8_t *cred_id;
	size_t cred_id_len;
	const uint8_t *cose_key;
	size_t cose_key_len;
	const uint8_t *extensions; /* with ED, else NULL */
	size_t extensions_len;
};

bool isim_wa_auth_data_parse(const uint8_t *p, size_t len, struct isim_wa_auth_data *ad, struct isim_wa_status *st);

/* ---- COSE keys (RFC 9052 section 7, RFC 9053) ---- */

struct evp_pkey_st;

struct isim_wa_key {
	int64_t alg;
	struct evp_pkey_st *pkey; /* EC2 and RSA keys */
	uint8_t ed25519[32];	  /* OKP keys (alg EdDSA) */
};

/* A COSE_Key of kty EC2 (P-256, P-384, P-521), OKP (Ed25519) or RSA, its
 * alg matching its curve. The whole of p[0..len) is the key. */
bool isim_wa_cose_key_parse(const uint8_t *p, size_t len, struct isim_wa_key *k, struct isim_wa_status *st);
/* A DER SubjectPublicKeyInfo (what getPublicKey() returns): P-256, P-384,
 * P-521, Ed25519 or RSA, given the COSE alg that goes with it. */
bool isim_wa_spki_key_parse(const uint8_t *p, size_t len, struct isim_wa_key *k, struct isim_wa_status *st);
void isim_wa_key_free(struct isim_wa_key *k);
/* The signature over msg under k with k->alg (ECDSA as DER, RSASSA-PKCS1
 * v1.5, Ed25519's 64 bytes): true when it verifies; false with
 * ISIM_WA_SIGNATURE, or ISIM_WA_INTERNAL. */
bool isim_wa_key_verify(const struct isim_wa_key *k, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
			size_t sig_len, struct isim_wa_status *st);

/* ---- attestation objects (section 6.5.4) ---- */

struct cbor_item_t;

struct isim_wa_att_obj {
	struct cbor_item_t *root;
	char fmt[33];
	struct cbor_item_t *att_stmt; /* in root */
	const uint8_t *auth_data;     /* in root */
	size_t auth_data_len;
};

bool isim_wa_att_obj_parse(const uint8_t *p, size_t len, struct isim_wa_att_obj *ao, struct isim_wa_status *st);
void isim_wa_att_obj_free(struct isim_wa_att_obj *ao);

/* ---- ceremonies ---- */

/* What the relying party expects. Zeroed: nothing optional allowed. */
struct isim_wa_expect {
	const uint8_t *challenge;
	size_t challenge_len;
	const char *const *origins;
	size_t norigins;
	const char *rp_id;
	bool require_uv;
	bool up_optional; /* registration only: UP may be 0 (section 7.1 step 14) */
	bool allow_cross_origin;
	const char *const *top_origins; /* with allow_cross_origin: NULL any */
	size_t ntop_origins;
	const int64_t *algs; /* registration: those offered; NULL every supported one */
	size_t nalgs;
	/* Registration: attestation policy. Roots (PEM text) make x5c chains
	 * checked; require_trusted refuses what no root vouches for;
	 * accept_unverified takes formats this module cannot check. */
	const char *roots_pem;
	size_t roots_pem_len;
	int64_t att_time; /* seconds since the epoch for the chain; 0 now */
	bool require_trusted;
	bool accept_unverified;
	/* Assertion: the stored credential. */
	const struct isim_wa_key *key;
	uint32_t sign_count;
	const uint8_t *cred_id; /* NULL: whatever rawId says */
	size_t cred_id_len;
	const uint8_t *user_handle; /* NULL: not checked */
	size_t user_handle_len;
};

struct isim_wa_registration {
	uint8_t *raw_id;
	size_t raw_id_len;
	uint8_t *client_data;
	size_t client_data_len;
	uint8_t *att_obj;
	size_t att_obj_len;
	char **transports; /* response.transports, may be NULL */
	size_t ntransports;
};

struct isim_wa_assertion {
	uint8_t *raw_id;
	size_t raw_id_len;
	uint8_t *client_data;
	size_t client_data_len;
	uint8_t *auth_data;
	size_t auth_data_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *user_handle; /* NULL when absent or null */
	size_t user_handle_len;
};

/* The JSON shapes of PublicKeyCredential.toJSON() (RegistrationResponseJSON,
 * AuthenticationResponseJSON): id equal to rawId, type "public-key",
 * base64url fields. Failures are ISIM_WA_MALFORMED or ISIM_WA_TYPE. */
struct cJSON;
bool isim_wa_registration_from_json(const struct cJSON *cred, struct isim_wa_registration *r,
				    struct isim_wa_status *st);
bool isim_wa_assertion_from_json(const struct cJSON *cred, struct isim_wa_assertion *a, struct isim_wa_status *st);
void isim_wa_registration_free(struct isim_wa_registration *r);
void isim_wa_assertion_free(struct isim_wa_assertion *a);

enum isim_wa_att_type {
	ISIM_WA_ATT_NONE,
	ISIM_WA_ATT_SELF,
	ISIM_WA_ATT_BASIC,	/* x5c, its signature checked */
	ISIM_WA_ATT_UNVERIFIED, /* a format taken unchecked (accept_unverified) */
};
const char *isim_wa_att_type_name(enum isim_wa_att_type t);

struct isim_wa_reg_result {
	char fmt[33];
	enum isim_wa_att_type att_type;
	bool att_trusted; /* the x5c chain ends at a configured root */
	uint8_t *cred_id;
	size_t cred_id_len;
	uint8_t *cose_key;
	size_t cose_key_len;
	int64_t alg;
	uint32_t sign_count;
	uint8_t flags;
	uint8_t aaguid[ISIM_WA_AAGUID_BYTES];
};

struct isim_wa_auth_result {
	uint32_t sign_count;
	uint8_t flags;
};

/* Section 7.1, steps 5 to 27 (those that need no state): true when the
 * registration holds; false with st. */
bool isim_wa_verify_registration(const struct isim_wa_registration *r, const struct isim_wa_expect *e,
				 struct isim_wa_reg_result *res, struct isim_wa_status *st);
void isim_wa_reg_result_free(struct isim_wa_reg_result *res);
/* Section 7.2, steps 5 to 24, against e->key and e->sign_count: a
 * counter that is not 0 and does not increase is ISIM_WA_COUNTER. */
bool isim_wa_verify_assertion(const struct isim_wa_assertion *a, const struct isim_wa_expect *e,
			      struct isim_wa_auth_result *res, struct isim_wa_status *st);

/* An AAGUID as text, 8-4-4-4-12 lowercase hex (37 bytes with the NUL). */
void isim_wa_aaguid_text(const uint8_t aaguid[static ISIM_WA_AAGUID_BYTES], char out[static 37]);

#endif
