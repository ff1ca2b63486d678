/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "isim/provenance.h"

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static bool is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static int check_slsa(const cJSON *pred, struct isim_error *err)
{
	const cJSON *def = member(pred, "buildDefinition"), *run = member(pred, "runDetails");
	const cJSON *builder = member(run, "builder");

	if (!cJSON_IsObject(def))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate/buildDefinition",
					     "expected an object (SLSA Provenance v1)");
	if (!cJSON_IsString(member(def, "buildType")))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate/buildDefinition/buildType",
					     "expected a string");
	if (!cJSON_IsObject(run))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate/runDetails",
					     "expected an object (SLSA Provenance v1)");
	if (!cJSON_IsObject(builder) || !cJSON_IsString(member(builder, "id")))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate/runDetails/builder/id",
					     "expected a string");
	return 0;
}

int isim_provenance_match(const cJSON *stmt, const uint8_t digest[static ISIM_SHA256_BYTES], struct isim_verdict *v,
			  struct isim_error *err)
{
	const cJSON *type, *subjects, *s, *ptype, *pred;
	char want[ISIM_SHA256_HEX], ptr[64], first[ISIM_SHA256_HEX] = "";
	int i = 0;
	bool found = false;

	isim_verdict_init(v);
	if (!cJSON_IsObject(stmt))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "", "expected an in-toto Statement object");
	type = member(stmt, "_type");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, ISIM_INTOTO_STATEMENT_V1) != 0)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/_type", "expected \"%s\"", ISIM_INTOTO_STATEMENT_V1);
	ptype = member(stmt, "predicateType");
	if (!cJSON_IsString(ptype) || !*ptype->valuestring)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicateType", "expected a non-empty string");
	pred = member(stmt, "predicate");
	if (pred && !cJSON_IsObject(pred))
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate", "expected an object");
	if (strcmp(ptype->valuestring, ISIM_SLSA_PROVENANCE_V1) == 0 && check_slsa(pred, err) < 0)
		return -1;
	subjects = member(stmt, "subject");
	if (!cJSON_IsArray(subjects) || cJSON_GetArraySize(subjects) == 0)
		return isim_error_at_pointer(err, ISIM_ERR_DATA, "/subject", "expected a non-empty list");
	isim_hex(digest, ISIM_SHA256_BYTES, want);
	cJSON_ArrayForEach (s, subjects) {
		const cJSON *d = member(s, "digest"), *sha;

		snprintf(ptr, sizeof(ptr), "/subject/%d/digest", i);
		if (!cJSON_IsObject(s) || !cJSON_IsObject(d) || cJSON_GetArraySize(d) == 0)
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "expected an object of digests");
		sha = member(d, "sha256");
		snprintf(ptr, sizeof(ptr), "/subject/%d/digest/sha256", i);
		if (sha && (!cJSON_IsString(sha) || !is_sha256_hex(sha->valuestring)))
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr,
						     "expected 64 lowercase hexadecimal digits");
		if (sha && !*first)
			memcpy(first, sha->valuestring, sizeof(first));
		if (sha && strcmp(sha->valuestring, want) == 0)
			found = true;
		i++;
	}
	if (found) {
		isim_verdict_accept(v);
		return 0;
	}
	if (!*first)
		return isim_verdict_refuse(v, "/subject", "no subject has a sha256 digest");
	return isim_verdict_refuse(v, "/subject", "subject sha256 %s does not match the image's sha256 %s", first,
				   want);
}
