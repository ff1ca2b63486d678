/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/json.h"
#include "isim/schemas.h"

const struct isim_schema_file *isim_schema_builtin(const char *name)
{
	const struct isim_schema_file *f;

	for (f = isim_schema_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int isim_schema_load(const char *dir, const char *name, cJSON **out, struct isim_error *err)
{
	const struct isim_schema_file *f;
	char where[64], *path = NULL;
	int ret;

	*out = NULL;
	if (dir) {
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		ret = isim_json_load_file(path, out, err);
		free(path);
	} else {
		f = isim_schema_builtin(name);
		if (!f)
			return isim_error_set(err, ISIM_ERR_INTERNAL, "no built-in schema '%s'", name);
		snprintf(where, sizeof(where), "(built-in) %s", name);
		ret = isim_json_parse((const char *)f->text, f->len, where, out, err);
	}
	if (ret < 0 && err->kind == ISIM_ERR_DATA)
		err->kind = ISIM_ERR_CONFIG;
	return ret;
}
