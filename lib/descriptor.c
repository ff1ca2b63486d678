/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/descriptor.h"
#include "isim/jcs.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/schemas.h"

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

static int expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -1;
	(*p)++;
	return 0;
}

int isim_parse_rfc3339(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	struct tm tm = { 0 };
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") || digits(&p, 2, &d) ||
	    expect(&p, "Tt ") || digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) || expect(&p, ":") ||
	    digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && y != 1969)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

int isim_descriptor_payload(const cJSON *desc, struct isim_buf *out, struct isim_error *err)
{
	if (!cJSON_IsObject(desc)) {
		isim_error_pointer(err, "");
		return isim_error_set(err, ISIM_ERR_DATA, "a descriptor is a JSON object");
	}
	return isim_jcs_from_cjson_without(desc, "attestation", out, err);
}

int isim_descriptor_sign(cJSON *desc, const uint8_t sk[static 64], const uint8_t keyid[static ISIM_MS_KEYID_BYTES],
			 struct isim_error *err)
{
	struct isim_buf payload = { 0 };
	uint8_t sig[crypto_sign_BYTES];
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char id[ISIM_MS_KEYID_HEX];
	cJSON *att = NULL;

	if (isim_descriptor_payload(desc, &payload, err) < 0)
		return -1;
	if (payload.oom) {
		isim_buf_free(&payload);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	crypto_sign_detached(sig, NULL, (const uint8_t *)payload.s, payload.len, sk);
	isim_buf_free(&payload);
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	isim_ms_keyid_hex(keyid, id);
	att = cJSON_CreateObject();
	if (!att || !cJSON_AddStringToObject(att, "key_id", id) || !cJSON_AddStringToObject(att, "signature", sig64)) {
		cJSON_Delete(att);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(desc, "attestation");
	cJSON_AddItemToObject(desc, "attestation", att);
	return 0;
}

static const char *text_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The descriptor is valid in [issued_at, expires_at). */
static int check_times(const cJSON *desc, time_t at, struct isim_verdict *v)
{
	const char *issued = text_of(desc, "issued_at"), *expires = text_of(desc, "expires_at");
	time_t t_issued, t_expires;

	if (!issued || isim_parse_rfc3339(issued, &t_issued) < 0)
		return isim_verdict_refuse(v, "/issued_at", "issued_at is not an RFC 3339 date-time");
	if (!expires || isim_parse_rfc3339(expires, &t_expires) < 0)
		return isim_verdict_refuse(v, "/expires_at", "expires_at is not an RFC 3339 date-time");
	if (t_expires <= t_issued)
		return isim_verdict_refuse(v, "/expires_at", "expires_at %s is not after issued_at %s", expires,
					   issued);
	if (at < t_issued)
		return isim_verdict_refuse(v, "/issued_at", "not valid before %s", issued);
	if (at >= t_expires)
		return isim_verdict_refuse(v, "/expires_at", "expired at %s", expires);
	isim_verdict_accept(v);
	return 0;
}

int isim_descriptor_verify(const struct isim_schema *schema, const cJSON *desc, time_t at, isim_signer_lookup_fn lookup,
			   void *ctx, struct isim_verdict *v, struct isim_error *err)
{
	const cJSON *att = cJSON_GetObjectItemCaseSensitive(desc, "attestation");
	const char *id, *sig64;
	struct isim_buf payload = { 0 };
	uint8_t keyid[ISIM_MS_KEYID_BYTES], pk[32], sig[crypto_sign_BYTES];
	struct isim_error why;
	size_t siglen;
	const char *end;
	int ok;

	isim_verdict_init(v);
	if (schema && isim_schema_check(schema, desc, err) < 0)
		return -1;
	if (!cJSON_IsObject(att))
		return isim_verdict_refuse(v, "/attestation", "the descriptor is not attested");
	id = text_of(att, "key_id");
	if (!id || !isim_ms_keyid_parse(id, keyid))
		return isim_verdict_refuse(v, "/attestation/key_id", "expected 16 hexadecimal digits");
	isim_ms_keyid_hex(keyid, v->key_id);
	sig64 = text_of(att, "signature");
	if (!sig64 ||
	    sodium_base642bin(sig, sizeof(sig), sig64, strlen(sig64), NULL, &siglen, &end,
			      sodium_base64_VARIANT_ORIGINAL) < 0 ||
	    *end || siglen != sizeof(sig))
		return isim_verdict_refuse(v, "/attestation/signature",
					   "expected the base64 text of a 64-byte Ed25519 signature");
	isim_error_clear(&why);
	if (lookup(ctx, keyid, pk, &why) < 0) {
		if (why.kind != ISIM_ERR_REFUSED) {
			if (err)
				*err = why;
			return -1;
		}
		isim_error_pointer(&why, "/attestation/key_id");
		return isim_verdict_refuse_error(v, &why);
	}
	if (isim_descriptor_payload(desc, &payload, err) < 0)
		return -1;
	if (payload.oom) {
		isim_buf_free(&payload);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	ok = crypto_sign_verify_detached(sig, (const uint8_t *)payload.s, payload.len, pk) == 0;
	isim_buf_free(&payload);
	if (!ok)
		return isim_verdict_refuse(v, "/attestation/signature", "signature by %s does not verify", v->key_id);
	return check_times(desc, at, v);
}

int isim_descriptor_schema_load(const char *dir, struct isim_descriptor_schema *out, struct isim_error *err)
{
	memset(out, 0, sizeof(*out));
	if (isim_schema_load(dir, "node-descriptor.schema.json", &out->doc, err) < 0)
		return -1;
	if (isim_schema_compile(out->doc, &out->schema, err) < 0) {
		if (err)
			err->kind = ISIM_ERR_CONFIG;
		isim_descriptor_schema_free(out);
		return -1;
	}
	return 0;
}

void isim_descriptor_schema_free(struct isim_descriptor_schema *s)
{
	isim_schema_free(s->schema);
	cJSON_Delete(s->doc);
	s->schema = NULL;
	s->doc = NULL;
}
