/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/cli.h"
#include "common/verdict.h"
#include "isim/json.h"

static const struct isim_vfield default_fields[] = {
	ISIM_VF_OWN(ISIM_VF_KEY_ID),
	ISIM_VF_OWN(ISIM_VF_SIGNER),
	ISIM_VF_OWN(ISIM_VF_REASON),
	ISIM_VF_LAST,
};

static const char *own_name(enum isim_vfield_type t)
{
	switch (t) {
	case ISIM_VF_KEY_ID:
		return "key_id";
	case ISIM_VF_SIGNER:
		return "signer";
	default:
		return "reason";
	}
}

static cJSON *add_text(cJSON *o, const char *name, const char *s)
{
	return s && *s ? cJSON_AddStringToObject(o, name, s) : cJSON_AddNullToObject(o, name);
}

static cJSON *add_field(cJSON *o, const struct isim_vfield *f, bool ok, const struct isim_verdict *v,
			const char *reason)
{
	switch (f->type) {
	case ISIM_VF_TEXT:
		return f->text ? cJSON_AddStringToObject(o, f->name, f->text) : cJSON_AddNullToObject(o, f->name);
	case ISIM_VF_SOME:
		return add_text(o, f->name, f->text);
	case ISIM_VF_NUMBER:
		return cJSON_AddNumberToObject(o, f->name, (double)f->number);
	case ISIM_VF_BOOL:
		return cJSON_AddBoolToObject(o, f->name, f->number != 0);
	case ISIM_VF_KEY_ID:
		return add_text(o, f->name ? f->name : own_name(f->type), v->key_id);
	case ISIM_VF_SIGNER:
		return add_text(o, f->name ? f->name : own_name(f->type), v->signer);
	case ISIM_VF_REASON:
		return add_text(o, f->name ? f->name : own_name(f->type), ok ? NULL : reason);
	case ISIM_VF_END:
		break;
	}
	return NULL;
}

static int print(const char *prog, bool ok, const struct isim_verdict *v, const char *reason,
		 const struct isim_vfield *fields)
{
	const struct isim_vfield *f;
	struct isim_error err;
	cJSON *o = cJSON_CreateObject();
	bool built = false;
	int ret = -1;

	if (o && cJSON_AddBoolToObject(o, "ok", ok)) {
		for (f = fields ? fields : default_fields; f->type != ISIM_VF_END; f++)
			if (!add_field(o, f, ok, v, reason))
				break;
		built = f->type == ISIM_VF_END;
		if (built)
			ret = isim_json_write_line(stdout, o);
	}
	cJSON_Delete(o);
	if (ret == 0)
		return 0;
	if (built)
		return isim_stdout_error(prog);
	isim_error_clear(&err);
	isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
	isim_print_error(prog, &err);
	return ISIM_EXIT_SOFTWARE;
}

int isim_verdict_print(const char *prog, const struct isim_verdict *v, const struct isim_vfield *fields)
{
	int rc = print(prog, v->ok, v, v->reason, fields);

	if (rc)
		return rc;
	return v->ok ? ISIM_EXIT_OK : ISIM_EXIT_VERDICT;
}

int isim_verdict_print_error(const char *prog, const struct isim_verdict *v, const struct isim_error *err,
			     const struct isim_vfield *fields)
{
	char reason[ISIM_VERDICT_REASON_MAX];
	int rc;

	isim_verdict_reason_of(err, reason, sizeof(reason));
	rc = print(prog, false, v, reason, fields);
	return rc ? rc : isim_exit_code(err->kind);
}

int isim_verdict_tell(const char *prog, const char *path, const struct isim_verdict *v)
{
	struct isim_error err;

	if (v->ok)
		return ISIM_EXIT_OK;
	isim_error_clear(&err);
	isim_error_at(&err, path, 0, 0);
	isim_error_set(&err, ISIM_ERR_REFUSED, "%s", v->reason);
	isim_print_error(prog, &err);
	return ISIM_EXIT_VERDICT;
}

int isim_exit_worse(int so_far, int next)
{
	if (next > ISIM_EXIT_VERDICT && so_far <= ISIM_EXIT_VERDICT)
		return next;
	if (next == ISIM_EXIT_VERDICT && so_far == 0)
		return next;
	return so_far;
}
