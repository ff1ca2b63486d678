/* SPDX-License-Identifier: MIT */
#ifndef ISIM_DESCRIPTOR_H
#define ISIM_DESCRIPTOR_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "isim/buf.h"
#include "isim/error.h"
#include "isim/minisign.h"
#include "isim/schema.h"
#include "isim/verdict.h"

/* Node descriptors (isim-formats(5)): a node's identity and endpoints,
 * attested by a trusted signer. The attestation's Ed25519 signature covers
 * the RFC 8785 canonical form of the descriptor without its "attestation"
 * member; its key_id is the signer's minisign key id. */

/* A signer's public key by key id: 0 and pk filled when trusted; -1 with
 * err->kind ISIM_ERR_REFUSED and a reason ("key ... is revoked", "key ...
 * is not a trusted signer") otherwise. */
typedef int (*isim_signer_lookup_fn)(void *ctx, const uint8_t keyid[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
				     struct isim_error *err);

/* node-descriptor.schema.json from dir (NULL: the one built into the
 * program), compiled; free with isim_descriptor_schema_free. A
 * schema that cannot be read or used is ISIM_ERR_CONFIG (ISIM_ERR_NOINPUT
 * when missing). */
struct isim_descriptor_schema {
	cJSON *doc; /* the compiled form points into it */
	struct isim_schema *schema;
};

int isim_descriptor_schema_load(const char *dir, struct isim_descriptor_schema *out,
				struct isim_error *err) ISIM_MUST_CHECK;
void isim_descriptor_schema_free(struct isim_descriptor_schema *s);

/* The bytes an attestation signs: JCS of desc without "attestation". */
int isim_descriptor_payload(const cJSON *desc, struct isim_buf *out, struct isim_error *err) ISIM_MUST_CHECK;

/* Replace desc's attestation with one by the secret key sk whose key id is
 * keyid. */
int isim_descriptor_sign(cJSON *desc, const uint8_t sk[static 64], const uint8_t keyid[static ISIM_MS_KEYID_BYTES],
			 struct isim_error *err) ISIM_MUST_CHECK;

/* The verdict on desc: its schema (when schema is not NULL), then its
 * signer through lookup (isim_trust_lookup of trust.h, for one), its
 * signature, and that at lies in [issued_at, expires_at). 0 with v filled:
 * ok, or refused with "POINTER: reason" (v->key_id once the attestation
 * names a key). -1 when it could not check: ISIM_ERR_DATA for a descriptor
 * that does not match the schema, or an error of lookup's other than
 * ISIM_ERR_REFUSED. */
int isim_descriptor_verify(const struct isim_schema *schema, const cJSON *desc, time_t at, isim_signer_lookup_fn lookup,
			   void *ctx, struct isim_verdict *v, struct isim_error *err) ISIM_MUST_CHECK;

/* RFC 3339 date-time ("2026-01-01T00:00:00Z", offsets and fractions
 * allowed; fractions are dropped) to seconds since the epoch. */
int isim_parse_rfc3339(const char *s, time_t *out) ISIM_MUST_CHECK;

#endif
