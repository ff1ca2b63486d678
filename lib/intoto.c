/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/dsse.h"
#include "isim/file.h"
#include "isim/intoto.h"
#include "isim/json.h"

static int oom(struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

/* {name, digest: {sha256}}, added to the array. */
static bool add_descriptor(cJSON *array, const struct isim_intoto_subject *s)
{
	cJSON *o = cJSON_CreateObject(), *digest;

	if (!o || !cJSON_AddItemToArray(array, o))
		goto fail;
	return cJSON_AddStringToObject(o, "name", s->name) && (digest = cJSON_AddObjectToObject(o, "digest")) &&
	       cJSON_AddStringToObject(digest, "sha256", s->sha256);
fail:
	cJSON_Delete(o);
	return false;
}

int isim_intoto_statement(const struct isim_intoto_subject *subjects, size_t nsubjects, const char *predicate_type,
			  cJSON *predicate, cJSON **out, struct isim_error *err)
{
	cJSON *st = cJSON_CreateObject(), *subj;
	size_t i;

	*out = NULL;
	if (!nsubjects) {
		cJSON_Delete(st);
		cJSON_Delete(predicate);
		return isim_error_set(err, ISIM_ERR_USAGE, "an in-toto statement needs a subject");
	}
	for (i = 0; i < nsubjects; i++) {
		if (!subjects[i].name || !subjects[i].sha256 || strlen(subjects[i].sha256) != 2 * ISIM_SHA256_BYTES ||
		    strspn(subjects[i].sha256, "0123456789abcdef") != 2 * ISIM_SHA256_BYTES) {
			cJSON_Delete(st);
			cJSON_Delete(predicate);
			return isim_error_set(err, ISIM_ERR_USAGE,
					      "subject %zu: expected a name and a lower-case hex SHA-256", i);
		}
	}
	if (!st || !cJSON_AddStringToObject(st, "_type", ISIM_INTOTO_STATEMENT_V1) ||
	    !(subj = cJSON_AddArrayToObject(st, "subject")))
		goto fail;
	for (i = 0; i < nsubjects; i++)
		if (!add_descriptor(subj, &subjects[i]))
			goto fail;
	if (!cJSON_AddStringToObject(st, "predicateType", predicate_type) || !predicate ||
	    !cJSON_AddItemToObject(st, "predicate", predicate))
		goto fail;
	*out = st;
	return 0;
fail:
	cJSON_Delete(st);
	cJSON_Delete(predicate);
	return oom(err);
}

int isim_intoto_test_result(bool passed, const struct isim_intoto_subject *configuration, size_t nconfiguration,
			    const cJSON *report, cJSON **out, struct isim_error *err)
{
	cJSON *pred = cJSON_CreateObject(), *conf, *lists[3];
	const cJSON *s;
	size_t i;

	*out = NULL;
	if (!pred || !cJSON_AddStringToObject(pred, "result", passed ? "PASSED" : "FAILED") ||
	    !(conf = cJSON_AddArrayToObject(pred, "configuration")))
		goto fail;
	for (i = 0; i < nconfiguration; i++)
		if (!add_descriptor(conf, &configuration[i]))
			goto fail;
	if (!(lists[0] = cJSON_AddArrayToObject(pred, "passedTests")) ||
	    !(lists[1] = cJSON_AddArrayToObject(pred, "warnedTests")) ||
	    !(lists[2] = cJSON_AddArrayToObject(pred, "failedTests")))
		goto fail;
	cJSON_ArrayForEach (s, cJSON_GetObjectItemCaseSensitive(report, "selftests")) {
		const cJSON *feature = cJSON_GetObjectItemCaseSensitive(s, "feature");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
		cJSON *item;
		char *full = NULL;

		if (!cJSON_IsString(feature) || !cJSON_IsString(name)) {
			cJSON_Delete(pred);
			return isim_error_set(err, ISIM_ERR_DATA, "a selftest of the report has no feature or name");
		}
		if (asprintf(&full, "%s/%s", feature->valuestring, name->valuestring) < 0)
			goto fail;
		item = cJSON_CreateString(full);
		free(full);
		if (!cJSON_AddItemToArray(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "ok")) ? lists[0] : lists[2],
					  item)) {
			cJSON_Delete(item);
			goto fail;
		}
	}
	*out = pred;
	return 0;
fail:
	cJSON_Delete(pred);
	return oom(err);
}

char *isim_intoto_text(const cJSON *stmt)
{
	return isim_json_text(stmt);
}

int isim_intoto_sign(const struct isim_intoto_out *o, const char *text, struct isim_error *err)
{
	struct isim_ms_sig *sig = NULL;
	char trusted[ISIM_MS_TRUSTED_MAX + 1], hex[ISIM_MS_KEYID_HEX];
	char *sig_text = NULL, *env = NULL;
	size_t len = 0;
	int ret = -1;

	if (!o->sk || !o->path || !o->sig_path || !o->dsse_path)
		return isim_error_set(err, ISIM_ERR_USAGE, "signing a statement needs a key and three paths");
	sig = malloc(sizeof(*sig));
	if (!sig)
		return oom(err);
	if (isim_ms_default_trusted_comment(o->when, o->path, trusted, sizeof(trusted), err) < 0 ||
	    isim_ms_sign_data(o->sk, text, strlen(text), trusted, o->comment, sig, err) < 0)
		goto out;
	sig_text = isim_ms_sig_format(sig, &len);
	if (!sig_text) {
		oom(err);
		goto out;
	}
	if (isim_file_write_atomic(o->sig_path, sig_text, len, 0644, err) < 0)
		goto out;
	isim_ms_keyid_hex(o->sk->keyid, hex);
	if (isim_dsse_sign(ISIM_INTOTO_PAYLOAD_TYPE, (const uint8_t *)text, strlen(text), o->sk->sk, hex, &env, err) <
		    0 ||
	    isim_file_write_atomic(o->dsse_path, env, strlen(env), 0644, err) < 0)
		goto out;
	ret = 0;
out:
	free(sig);
	free(sig_text);
	free(env);
	return ret;
}

int isim_intoto_write(const struct isim_intoto_out *o, const char *text, struct isim_error *err)
{
	if (o->sk && isim_intoto_sign(o, text, err) < 0)
		return -1;
	return isim_file_write_atomic(o->path, text, strlen(text), 0644, err);
}
