/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/dsse.h"
#include "isim/json.h"
#include "isim/utf8.h"

void isim_dsse_pae(const char *type, const uint8_t *payload, size_t len, struct isim_buf *out)
{
	isim_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	isim_buf_putn(out, (const char *)payload, len);
}

/* Decode base64 in either alphabet, with or without padding. */
static int b64_decode(const char *in, uint8_t **out, size_t *outlen, size_t max)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING,
	};
	size_t n = strlen(in), cap = n / 4 * 3 + 3, i;
	const char *end;
	uint8_t *buf;

	if (n > (max / 3 + 2) * 4)
		return -1;
	buf = malloc(cap + 1);
	if (!buf)
		return -1;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (sodium_base642bin(buf, cap, in, n, NULL, outlen, &end, variants[i]) == 0 && end == in + n &&
		    *outlen <= max) {
			buf[*outlen] = '\0';
			*out = buf;
			return 0;
		}
	}
	free(buf);
	return -1;
}

static bool only_members(const cJSON *o, const char *const *names, const char **extra)
{
	const cJSON *m;
	const char *const *n;

	cJSON_ArrayForEach (m, o) {
		for (n = names; *n; n++)
			if (strcmp(m->string, *n) == 0)
				break;
		if (!*n) {
			*extra = m->string;
			return false;
		}
	}
	return true;
}

static int parse_sig(const cJSON *s, size_t i, struct isim_dsse_sig *out, struct isim_error *err)
{
	static const char *const names[] = { "keyid", "sig", NULL };
	const cJSON *keyid = cJSON_GetObjectItemCaseSensitive(s, "keyid");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(s, "sig");
	char ptr[64];
	const char *extra;
	uint8_t *raw = NULL;
	size_t len;

	snprintf(ptr, sizeof(ptr), "/signatures/%zu", i);
	if (!cJSON_IsObject(s))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "%s", "expected an object with keyid and sig");
	if (!only_members(s, names, &extra))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "unknown member '%s' (expected keyid, sig)",
					     extra);
	memset(out, 0, sizeof(*out));
	if (keyid) {
		snprintf(ptr, sizeof(ptr), "/signatures/%zu/keyid", i);
		if (!cJSON_IsString(keyid))
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "%s", "expected a string");
		if (strlen(keyid->valuestring) >= sizeof(out->keyid))
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "%s", "key id is longer than 127 bytes");
		memcpy(out->keyid, keyid->valuestring, strlen(keyid->valuestring) + 1);
	}
	snprintf(ptr, sizeof(ptr), "/signatures/%zu/sig", i);
	if (!cJSON_IsString(sig))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "%s",
					     sig ? "expected a base64 string" : "missing signature");
	if (b64_decode(sig->valuestring, &raw, &len, 64) < 0 || len != 64) {
		free(raw);
		return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "%s",
					     "expected the base64 text of a 64-byte Ed25519 signature");
	}
	memcpy(out->sig, raw, 64);
	free(raw);
	return 0;
}

int isim_dsse_parse(const char *text, size_t len, const char *name, struct isim_dsse *env, struct isim_error *err)
{
	static const char *const names[] = { "payloadType", "payload", "signatures", NULL };
	const cJSON *type, *payload, *sigs, *s;
	cJSON *doc = NULL;
	const char *extra;
	int ret = -1;

	memset(env, 0, sizeof(*env));
	if (isim_json_parse(text, len, name, &doc, err) < 0)
		return -1;
	isim_error_at(err, name, 0, 0);
	if (!cJSON_IsObject(doc)) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "", "%s", "expected a DSSE envelope object");
		goto out;
	}
	if (!only_members(doc, names, &extra)) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "",
				      "unknown member '%s' (expected payloadType, payload, signatures)", extra);
		goto out;
	}
	type = cJSON_GetObjectItemCaseSensitive(doc, "payloadType");
	payload = cJSON_GetObjectItemCaseSensitive(doc, "payload");
	sigs = cJSON_GetObjectItemCaseSensitive(doc, "signatures");
	if (!cJSON_IsString(type) || !*type->valuestring) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/payloadType", "%s",
				      type ? "expected a non-empty string" : "missing payloadType");
		goto out;
	}
	if (!cJSON_IsString(payload)) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/payload", "%s",
				      payload ? "expected a base64 string" : "missing payload");
		goto out;
	}
	if (!cJSON_IsArray(sigs) || cJSON_GetArraySize(sigs) == 0) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/signatures", "%s",
				      sigs ? "expected a non-empty list" : "missing signatures");
		goto out;
	}
	if (cJSON_GetArraySize(sigs) > ISIM_DSSE_MAX_SIGS) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/signatures", "%s", "more than 16 signatures");
		goto out;
	}
	env->payload_type = strdup(type->valuestring);
	if (!env->payload_type) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (b64_decode(payload->valuestring, &env->payload, &env->payload_len, ISIM_DSSE_PAYLOAD_MAX) < 0) {
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/payload", "%s", "not valid base64 (or larger than 64 MiB)");
		goto out;
	}
	cJSON_ArrayForEach (s, sigs) {
		if (parse_sig(s, env->nsigs, &env->sigs[env->nsigs], err) < 0)
			goto out;
		env->nsigs++;
	}
	ret = 0;
out:
	cJSON_Delete(doc);
	if (ret < 0)
		isim_dsse_free(env);
	return ret;
}

void isim_dsse_free(struct isim_dsse *env)
{
	if (!env)
		return;
	free(env->payload_type);
	free(env->payload);
	memset(env, 0, sizeof(*env));
}

static char *b64(const uint8_t *in, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (out)
		sodium_bin2base64(out, n, in, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int isim_dsse_sign(const char *type, const uint8_t *payload, size_t len, const uint8_t sk[static 64], const char *keyid,
		   char **out, struct isim_error *err)
{
	struct isim_buf pae = { 0 };
	uint8_t sig[crypto_sign_BYTES];
	char *payload64 = NULL, *sig64 = NULL;
	cJSON *doc = NULL, *sigs, *s;
	int ret = -1;

	*out = NULL;
	if (!*type)
		return isim_error_set(err, ISIM_ERR_USAGE, "the payload type must not be empty");
	/* The signature covers the type's bytes, so it cannot be repaired for
	 * output as other strings are. */
	if (!isim_utf8_valid(type, strlen(type)))
		return isim_error_set(err, ISIM_ERR_USAGE, "the payload type is not UTF-8");
	if (len > ISIM_DSSE_PAYLOAD_MAX)
		return isim_error_set(err, ISIM_ERR_DATA, "payload is larger than 64 MiB");
	isim_dsse_pae(type, payload, len, &pae);
	if (pae.oom)
		goto oom;
	crypto_sign_detached(sig, NULL, (const uint8_t *)pae.s, pae.len, sk);
	payload64 = b64(payload, len);
	sig64 = b64(sig, sizeof(sig));
	doc = cJSON_CreateObject();
	if (!payload64 || !sig64 || !doc)
		goto oom;
	if (!cJSON_AddStringToObject(doc, "payloadType", type) || !cJSON_AddStringToObject(doc, "payload", payload64))
		goto oom;
	sigs = cJSON_AddArrayToObject(doc, "signatures");
	s = cJSON_CreateObject();
	if (!sigs || !s || !cJSON_AddItemToArray(sigs, s))
		goto oom;
	if (!cJSON_AddStringToObject(s, "keyid", keyid ? keyid : "") || !cJSON_AddStringToObject(s, "sig", sig64))
		goto oom;
	*out = isim_json_text(doc);
	if (!*out)
		goto oom;
	ret = 0;
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
out:
	isim_buf_free(&pae);
	free(payload64);
	free(sig64);
	cJSON_Delete(doc);
	return ret;
}

bool isim_dsse_verify(const struct isim_dsse *env, size_t i, const uint8_t pk[static 32])
{
	struct isim_buf pae = { 0 };
	bool ok;

	if (i >= env->nsigs)
		return false;
	isim_dsse_pae(env->payload_type, env->payload, env->payload_len, &pae);
	ok = !pae.oom && crypto_sign_verify_detached(env->sigs[i].sig, (const uint8_t *)pae.s, pae.len, pk) == 0;
	isim_buf_free(&pae);
	return ok;
}

/* The verdict on signature i of env alone. */
static void check_sig(const struct isim_dsse *env, size_t i, const struct isim_trust *t, struct isim_verdict *v)
{
	const struct isim_dsse_sig *s = &env->sigs[i];
	const struct isim_trust_key *key = NULL;
	uint8_t id[ISIM_MS_KEYID_BYTES];
	struct isim_error why;
	size_t k;

	isim_verdict_init(v);
	if (isim_ms_keyid_parse(s->keyid, id)) {
		isim_ms_keyid_hex(id, v->key_id);
		isim_error_clear(&why);
		if (isim_trust_signer(t, id, &key, &why) < 0) {
			isim_verdict_refuse_error(v, &why);
			return;
		}
		snprintf(v->signer, sizeof(v->signer), "%s", key->path);
		if (isim_dsse_verify(env, i, key->pk.pk))
			isim_verdict_accept(v);
		else
			isim_verdict_refuse(v, NULL, "signature %zu by %s does not verify", i, s->keyid);
		return;
	}
	if (s->keyid[0]) {
		isim_verdict_refuse(v, NULL, "signature %zu: keyid '%.40s' is not a key id", i, s->keyid);
		return;
	}
	/* DSSE leaves keyid optional (envelope.md); an unnamed signature is
	 * tried with every key that may sign. */
	for (k = 0; k < t->nkeys; k++) {
		if (isim_trust_is_revoked(t, t->keys[k].pk.keyid) || !isim_dsse_verify(env, i, t->keys[k].pk.pk))
			continue;
		isim_ms_keyid_hex(t->keys[k].pk.keyid, v->key_id);
		snprintf(v->signer, sizeof(v->signer), "%s", t->keys[k].path);
		isim_verdict_accept(v);
		return;
	}
	isim_verdict_refuse(v, NULL, "signature %zu verifies under no trusted key", i);
}

int isim_dsse_verify_trusted(const struct isim_dsse *env, const struct isim_trust *t, const char *type,
			     struct isim_verdict *v, struct isim_error *err)
{
	size_t i;

	isim_verdict_init(v);
	if (!env->payload_type || env->nsigs == 0)
		return isim_error_set(err, ISIM_ERR_USAGE, "the DSSE envelope is empty");
	if (type && strcmp(type, env->payload_type) != 0)
		return isim_verdict_refuse(v, NULL, "payloadType '%.80s' is not '%.80s'", env->payload_type, type);
	for (i = 0; i < env->nsigs; i++) {
		check_sig(env, i, t, v);
		if (v->ok)
			break;
	}
	return 0;
}
