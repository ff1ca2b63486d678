/* SPDX-License-Identifier: MIT */
#ifndef ISIM_MEMRECORD_H
#define ISIM_MEMRECORD_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/hash.h"
#include "isim/minisign.h"
#include "isim/schema.h"
#include "isim/trust.h"
#include "isim/verdict.h"

/* isim-memdump's attestation records (schemas/memdump-record.schema.json,
 * isim-memdump(1)): what was dumped, from which VM, how and by whom. Signed
 * as node descriptors are: an "attestation" member {key_id, signature}
 * whose Ed25519 signature covers the RFC 8785 form of the record without
 * it; as a DSSE envelope, the payload is that same canonical form. */

#define ISIM_MEMRECORD_SCHEMA "memdump-record.schema.json"
#define ISIM_MEMRECORD_TYPE "isim-memdump-record/v1"
#define ISIM_MEMRECORD_DSSE_TYPE "application/vnd.infrasim.memdump-record+json"
/* A record is small; anything larger is not one. */
#define ISIM_MEMRECORD_MAX (1u << 20)

/* The built-in schema, compiled. */
struct isim_memrecord_schema {
	cJSON *doc;
	struct isim_schema *schema;
};
int isim_memrecord_schema_load(struct isim_memrecord_schema *out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_memrecord_schema_free(struct isim_memrecord_schema *s);

/* Parse text (strict I-JSON) and check it against the schema: 0 and *out,
 * or -1 with ISIM_ERR_DATA and the JSON pointer of what is wrong. name is
 * used in messages. */
int isim_memrecord_parse(const struct isim_memrecord_schema *s, const char *text, size_t len, const char *name,
			 cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* Sign rec in place (its attestation replaced) with sk. */
int isim_memrecord_sign(cJSON *rec, const struct isim_ms_seckey *sk, struct isim_error *err) ISIM_MUST_CHECK;

/* The hex SHA-256 of rec's RFC 8785 form, attestation included: what the
 * audit log knows the record by (isim_audit_find_record). */
int isim_memrecord_digest(const cJSON *rec, char out[static ISIM_SHA256_HEX], struct isim_error *err) ISIM_MUST_CHECK;

/* The verdict on rec's attestation under the trusted signers t: the key is
 * trusted and not revoked, it is the operator's (operator.key_id), and the
 * signature verifies. 0 with v filled (refused: "POINTER: reason"), -1 when
 * the check could not be made. */
int isim_memrecord_verify(const cJSON *rec, const struct isim_trust *t, struct isim_verdict *v,
			  struct isim_error *err) ISIM_MUST_CHECK;

/* A DSSE envelope over rec's signed payload (free()). */
int isim_memrecord_dsse(const cJSON *rec, const struct isim_ms_seckey *sk, char **out,
			struct isim_error *err) ISIM_MUST_CHECK;

/* The dump's size and SHA-256 as rec states them. 0, or -1 (ISIM_ERR_DATA)
 * when rec has none (a record that passed the schema always has them). */
int isim_memrecord_dump(const cJSON *rec, uint64_t *size, char sha256[static ISIM_SHA256_HEX],
			struct isim_error *err) ISIM_MUST_CHECK;

#endif
