/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/base.h"
#include "isim/buf.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/schemas.h"

static char *join(const char *dir, const char *name)
{
	char *s = NULL;

	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

void isim_base_free(struct isim_base *b)
{
	if (!b)
		return;
	free(b->name);
	free(b->version);
	free(b->dir);
	free(b->yaml_path);
	free(b->customize);
	free(b->initramfs_init);
	isim_doc_free(b->doc);
	free(b);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "alpine, debian": the NAME.yaml files of the bases folder. */
static char *known_bases(const char *dir)
{
	struct isim_buf out = { 0 };
	char *names[64];
	size_t n = 0, i;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return NULL;
	while ((e = readdir(d)) && n < 64) {
		size_t len = strlen(e->d_name);

		if (len > 5 && e->d_name[0] != '.' && strcmp(e->d_name + len - 5, ".yaml") == 0)
			names[n++] = strndup(e->d_name, len - 5);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n; i++) {
		if (names[i])
			isim_buf_printf(&out, "%s%s", out.len ? ", " : "", names[i]);
		free(names[i]);
	}
	return out.oom ? (isim_buf_free(&out), NULL) : isim_buf_take(&out);
}

static bool name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return s[0] != '.' && s[0] != '-';
}

int isim_base_load(const char *bases_dir, const char *schemas_dir, const char *spec, struct isim_base **out,
		   struct isim_error *err)
{
	const char *colon = strchr(spec, ':');
	struct isim_base *b = NULL;
	struct isim_buf known = { 0 };
	cJSON *schema = NULL;
	char *text = NULL, *yaml = NULL;
	const cJSON *v, *versions;
	bool found = false;
	int ret = -1;

	*out = NULL;
	if (!colon || !name_ok(spec, (size_t)(colon - spec)) || !name_ok(colon + 1, strlen(colon + 1)))
		return isim_error_set(err, ISIM_ERR_DATA, "base '%s' is not NAME:VERSION (debian:bookworm, say)", spec);
	b = calloc(1, sizeof(*b));
	if (!b || !(b->name = strndup(spec, (size_t)(colon - spec))) || !(b->version = strdup(colon + 1)) ||
	    !(b->dir = strdup(bases_dir)) || asprintf(&yaml, "%s.yaml", b->name) < 0 ||
	    !(b->yaml_path = join(bases_dir, yaml))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (isim_yaml_load_file(b->yaml_path, &b->doc, err) < 0) {
		if (err->kind == ISIM_ERR_NOINPUT) {
			char *names = known_bases(bases_dir);

			isim_error_clear(err);
			isim_error_set(err, ISIM_ERR_DATA, "base '%s' is not defined in %s (known: %s)", b->name,
				       bases_dir, names ? names : "none");
			free(names);
		} else {
			err->kind = ISIM_ERR_CONFIG;
		}
		goto out;
	}
	if (isim_schema_load(schemas_dir, "base.schema.json", &schema, err) < 0)
		goto out;
	if (isim_schema_validate(schema, b->doc->root, err) < 0) {
		isim_error_at(err, b->yaml_path, 0, 0);
		isim_doc_locate_error(b->doc, err);
		if (err->kind == ISIM_ERR_DATA)
			err->kind = ISIM_ERR_CONFIG;
		goto out;
	}
	if (strcmp(str(b->doc->root, "name"), b->name) != 0) {
		isim_error_at(err, b->yaml_path, 0, 0);
		isim_error_at_pointer(err, ISIM_ERR_CONFIG, "/name", "'%s' does not match the file name",
				      str(b->doc->root, "name"));
		isim_doc_locate_error(b->doc, err);
		goto out;
	}
	versions = cJSON_GetObjectItemCaseSensitive(b->doc->root, "versions");
	cJSON_ArrayForEach (v, versions) {
		isim_buf_printf(&known, "%s%s:%s", known.len ? ", " : "", b->name, v->valuestring);
		if (strcmp(v->valuestring, b->version) == 0)
			found = true;
	}
	if (!found) {
		isim_error_set(err, ISIM_ERR_DATA, "base '%s' is not supported (known: %s)", spec,
			       known.s ? known.s : "none");
		goto out;
	}
	b->bootstrap = str(b->doc->root, "bootstrap");
	b->mirror = str(b->doc->root, "mirror");
	b->cmdline = str(b->doc->root, "cmdline");
	b->busybox = str(b->doc->root, "busybox") ? str(b->doc->root, "busybox") : "/bin/busybox";
	b->packages = cJSON_GetObjectItemCaseSensitive(b->doc->root, "packages");
	b->map = cJSON_GetObjectItemCaseSensitive(b->doc->root, "map");
	b->unavailable = cJSON_GetObjectItemCaseSensitive(b->doc->root, "unavailable");
	b->modules = cJSON_GetObjectItemCaseSensitive(b->doc->root, "modules");
	if (!(b->initramfs_init = join(bases_dir, str(b->doc->root, "initramfs_init"))) ||
	    (str(b->doc->root, "customize") && !(b->customize = join(bases_dir, str(b->doc->root, "customize"))))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (isim_file_read(b->yaml_path, ISIM_FILE_MAX, &text, &(size_t){ 0 }, err) < 0 ||
	    isim_sha256_hex(text, strlen(text), b->sha256) < 0)
		goto out;
	*out = b;
	b = NULL;
	ret = 0;
out:
	isim_buf_free(&known);
	cJSON_Delete(schema);
	free(text);
	free(yaml);
	isim_base_free(b);
	return ret;
}

static bool in_list(const cJSON *list, const char *s)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, list) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int isim_base_packages(const struct isim_base *b, const cJSON *wanted, int allow_unavailable, cJSON **out,
		       struct isim_error *err)
{
	const char **names = NULL;
	size_t n = 0, cap, i;
	const cJSON *v, *m;
	cJSON *res = NULL;
	int idx = 0, ret = -1;

	*out = NULL;
	cap = (size_t)cJSON_GetArraySize(b->packages) + 1;
	cJSON_ArrayForEach (v, wanted) {
		m = cJSON_GetObjectItemCaseSensitive(b->map, v->valuestring);
		cap += m ? (size_t)cJSON_GetArraySize(m) : 1;
	}
	names = calloc(cap, sizeof(*names));
	if (!names)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	cJSON_ArrayForEach (v, b->packages) {
		names[n++] = v->valuestring;
	}
	cJSON_ArrayForEach (v, wanted) {
		char ptr[64];

		if (!cJSON_IsString(v)) {
			snprintf(ptr, sizeof(ptr), "/packages/%d", idx);
			isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "expected a package name");
			goto out;
		}
		m = cJSON_GetObjectItemCaseSensitive(b->map, v->valuestring);
		if (m) {
			const cJSON *x;

			cJSON_ArrayForEach (x, m) {
				names[n++] = x->valuestring;
			}
		} else if (in_list(b->unavailable, v->valuestring) && !allow_unavailable) {
			snprintf(ptr, sizeof(ptr), "/packages/%d", idx);
			isim_error_at_pointer(err, ISIM_ERR_DATA, ptr,
					      "package '%s' has no equivalent in %s:%s's archive (give a repository "
					      "that has it with --repo)",
					      v->valuestring, b->name, b->version);
			goto out;
		} else {
			names[n++] = v->valuestring;
		}
		idx++;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	res = cJSON_CreateArray();
	if (!res)
		goto oom;
	for (i = 0; i < n; i++) {
		if (i && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (!cJSON_AddItemToArray(res, cJSON_CreateString(names[i])))
			goto oom;
	}
	*out = res;
	res = NULL;
	ret = 0;
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
out:
	cJSON_Delete(res);
	free(names);
	return ret;
}
