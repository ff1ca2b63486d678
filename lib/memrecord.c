/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/descriptor.h"
#include "isim/dsse.h"
#include "isim/jcs.h"
#include "isim/json.h"
#include "isim/memrecord.h"
#include "isim/schemas.h"

int isim_memrecord_schema_load(struct isim_memrecord_schema *out, struct isim_error *err)
{
	memset(out, 0, sizeof(*out));
	/* Only the built-in schema: what a record must be cannot depend on
	 * files beside the tool. */
	if (isim_schema_load(NULL, ISIM_MEMRECORD_SCHEMA, &out->doc, err) < 0)
		return -1;
	if (isim_schema_compile(out->doc, &out->schema, err) < 0) {
		if (err)
			err->kind = ISIM_ERR_CONFIG;
		isim_memrecord_schema_free(out);
		return -1;
	}
	return 0;
}

void isim_memrecord_schema_free(struct isim_memrecord_schema *s)
{
	isim_schema_free(s->schema);
	cJSON_Delete(s->doc);
	s->schema = NULL;
	s->doc = NULL;
}

int isim_memrecord_parse(const struct isim_memrecord_schema *s, const char *text, size_t len, const char *name,
			 cJSON **out, struct isim_error *err)
{
	cJSON *rec = NULL;

	*out = NULL;
	if (len > ISIM_MEMRECORD_MAX) {
		isim_error_at(err, name, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA, "%zu bytes is too large for a record (at most %u)", len,
				      ISIM_MEMRECORD_MAX);
	}
	if (isim_json_parse(text, len, name, &rec, err) < 0)
		return -1;
	if (isim_schema_check(s->schema, rec, err) < 0) {
		isim_error_at(err, name, 0, 0);
		cJSON_Delete(rec);
		return -1;
	}
	*out = rec;
	return 0;
}

int isim_memrecord_sign(cJSON *rec, const struct isim_ms_seckey *sk, struct isim_error *err)
{
	if (sk->locked)
		return isim_error_set(err, ISIM_ERR_USAGE, "the key is still locked");
	return isim_descriptor_sign(rec, sk->sk, sk->keyid, err);
}

int isim_memrecord_digest(const cJSON *rec, char out[static ISIM_SHA256_HEX], struct isim_error *err)
{
	struct isim_buf b = { 0 };
	int r;

	if (isim_jcs_from_cjson(rec, &b, err) < 0)
		return -1;
	if (b.oom) {
		isim_buf_free(&b);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	r = isim_sha256_hex(b.s, b.len, out);
	isim_buf_free(&b);
	if (r < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
	return 0;
}

static const char *text_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int isim_memrecord_verify(const cJSON *rec, const struct isim_trust *t, struct isim_verdict *v, struct isim_error *err)
{
	const char *id = text_at(rec, "attestation", "key_id"), *sig64 = text_at(rec, "attestation", "signature");
	const char *op = text_at(rec, "operator", "key_id"), *end;
	uint8_t keyid[ISIM_MS_KEYID_BYTES], sig[crypto_sign_BYTES];
	const struct isim_trust_key *key;
	struct isim_buf payload = { 0 };
	struct isim_error why;
	size_t siglen;
	int ok;

	isim_verdict_init(v);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "attestation")))
		return isim_verdict_refuse(v, "/attestation", "the record is not signed");
	if (!id || !isim_ms_keyid_parse(id, keyid))
		return isim_verdict_refuse(v, "/attestation/key_id", "expected 16 hexadecimal digits");
	isim_ms_keyid_hex(keyid, v->key_id);
	if (!sig64 ||
	    sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &siglen, &end,
			      sodium_base64_VARIANT_ORIGINAL) < 0 ||
	    *end || siglen != sizeof(sig))
		return isim_verdict_refuse(v, "/attestation/signature",
					   "expected the base64 text of a 64-byte Ed25519 signature");
	/* The operator the record names is who signed it, or the record
	 * claims an identity its signer does not have. */
	if (!op || strcmp(op, v->key_id))
		return isim_verdict_refuse(v, "/operator/key_id", "the operator's key id %s is not the signer's %s",
					   op ? op : "(none)", v->key_id);
	isim_error_clear(&why);
	if (isim_trust_signer(t, keyid, &key, &why) < 0) {
		if (why.kind != ISIM_ERR_REFUSED) {
			if (err)
				*err = why;
			return -1;
		}
		isim_error_pointer(&why, "/attestation/key_id");
		return isim_verdict_refuse_error(v, &why);
	}
	snprintf(v->signer, sizeof(v->signer), "%s", key->path);
	if (isim_descriptor_payload(rec, &payload, err) < 0)
		return -1;
	if (payload.oom) {
		isim_buf_free(&payload);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	ok = crypto_sign_verify_detached(sig, (const uint8_t *)payload.s, payload.len, key->pk.pk) == 0;
	isim_buf_free(&payload);
	if (!ok)
		return isim_verdict_refuse(v, "/attestation/signature", "signature by %s does not verify", v->key_id);
	isim_verdict_accept(v);
	return 0;
}

int isim_memrecord_dsse(const cJSON *rec, const struct isim_ms_seckey *sk, char **out, struct isim_error *err)
{
	struct isim_buf payload = { 0 };
	char id[ISIM_MS_KEYID_HEX];
	int r;

	*out = NULL;
	if (isim_descriptor_payload(rec, &payload, err) < 0)
		return -1;
	if (payload.oom) {
		isim_buf_free(&payload);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	isim_ms_keyid_hex(sk->keyid, id);
	r = isim_dsse_sign(ISIM_MEMRECORD_DSSE_TYPE, (const uint8_t *)payload.s, payload.len, sk->sk, id, out, err);
	isim_buf_free(&payload);
	return r;
}

int isim_memrecord_dump(const cJSON *rec, uint64_t *size, char sha256[static ISIM_SHA256_HEX], struct isim_error *err)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "dump");
	const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");
	const char *h = text_at(rec, "dump", "sha256");

	if (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > 9007199254740992.0 || !h ||
	    strlen(h) != ISIM_SHA256_HEX - 1) {
		isim_error_pointer(err, "/dump");
		return isim_error_set(err, ISIM_ERR_DATA, "the record states no dump size and SHA-256");
	}
	*size = (uint64_t)sz->valuedouble;
	memcpy(sha256, h, ISIM_SHA256_HEX);
	return 0;
}
