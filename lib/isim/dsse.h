/* SPDX-License-Identifier: MIT */
#ifndef ISIM_DSSE_H
#define ISIM_DSSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isim/buf.h"
#include "isim/error.h"
#include "isim/trust.h"
#include "isim/verdict.h"

/* DSSE v1 envelopes (secure-systems-lab/dsse, "envelope.md" and
 * "protocol.md") signed with Ed25519. The signature covers the
 * pre-authentication encoding of payloadType and the decoded payload, so a
 * changed type is as fatal as a changed payload. */

#define ISIM_DSSE_MAX_SIGS 16
#define ISIM_DSSE_KEYID_MAX 128
#define ISIM_DSSE_PAYLOAD_MAX (64u << 20)

struct isim_dsse_sig {
	char keyid[ISIM_DSSE_KEYID_MAX];
	uint8_t sig[64];
};

struct isim_dsse {
	char *payload_type;
	uint8_t *payload; /* decoded, NUL-terminated for convenience */
	size_t payload_len;
	struct isim_dsse_sig sigs[ISIM_DSSE_MAX_SIGS];
	size_t nsigs;
};

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * lengths as decimal byte counts. Appends to out. */
void isim_dsse_pae(const char *type, const uint8_t *payload, size_t len, struct isim_buf *out);

/* Parse an envelope: payloadType a non-empty string, payload base64
 * (standard or URL-safe, padded or not), signatures a non-empty list of
 * {keyid (optional string), sig (base64 of 64 bytes)}. Unknown members
 * are refused. name is used in messages. */
int isim_dsse_parse(const char *text, size_t len, const char *name, struct isim_dsse *env,
		    struct isim_error *err) ISIM_MUST_CHECK;
void isim_dsse_free(struct isim_dsse *env);

/* A one-signature envelope as indented JSON ending in a newline (free()). */
int isim_dsse_sign(const char *type, const uint8_t *payload, size_t len, const uint8_t sk[static 64], const char *keyid,
		   char **out, struct isim_error *err) ISIM_MUST_CHECK;

/* True when signature i of env verifies under the Ed25519 key pk. */
bool isim_dsse_verify(const struct isim_dsse *env, size_t i, const uint8_t pk[static 32]) ISIM_MUST_CHECK;

/* The verdict on env against the trusted signers t: ok when its
 * payloadType is type (any when type is NULL) and one of its signatures
 * verifies under a trusted key that is not revoked. A signature's keyid,
 * when it is a minisign key id (16 hex digits), picks the key; an empty
 * keyid is tried with every trusted key; any other keyid is refused. When
 * no signature holds, the reason is that of the last one. v->signer and
 * v->key_id name the key that verified, or the last one tried. 0 with v
 * filled; -1 (err) only when the check could not be made. */
int isim_dsse_verify_trusted(const struct isim_dsse *env, const struct isim_trust *t, const char *type,
			     struct isim_verdict *v, struct isim_error *err) ISIM_MUST_CHECK;

#endif
