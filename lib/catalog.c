/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "isim/catalog.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/schemas.h"

static char *join(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

int isim_catalog_open(struct isim_catalog **out, const char *features_dir, const char *profiles_dir,
		      const char *schemas_dir, struct isim_error *err)
{
	struct isim_catalog *cat;
	struct stat st;

	*out = NULL;
	if (stat(features_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		isim_error_at(err, features_dir, 0, 0);
		return isim_error_set(err, ISIM_ERR_NOINPUT, "features directory not found");
	}
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	cat->features_dir = strdup(features_dir);
	cat->profiles_dir = strdup(profiles_dir);
	cat->schemas_dir = schemas_dir ? strdup(schemas_dir) : NULL;
	if (!cat->features_dir || !cat->profiles_dir || (schemas_dir && !cat->schemas_dir)) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (isim_schema_load(schemas_dir, "feature.schema.json", &cat->feature_schema, err) < 0 ||
	    isim_schema_load(schemas_dir, "profile.schema.json", &cat->profile_schema, err) < 0 ||
	    isim_schema_load(schemas_dir, "manifest.schema.json", &cat->manifest_schema, err) < 0)
		goto fail;
	*out = cat;
	return 0;
fail:
	isim_catalog_free(cat);
	return -1;
}

static void feature_free(struct isim_feature *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->dir);
	free(f->yaml_path);
	isim_doc_free(f->doc);
	free(f);
}

void isim_catalog_free(struct isim_catalog *cat)
{
	size_t i;

	if (!cat)
		return;
	for (i = 0; i < cat->nfeatures; i++)
		feature_free(cat->features[i]);
	free(cat->features);
	cJSON_Delete(cat->feature_schema);
	cJSON_Delete(cat->profile_schema);
	cJSON_Delete(cat->manifest_schema);
	free(cat->features_dir);
	free(cat->profiles_dir);
	free(cat->schemas_dir);
	free(cat);
}

int isim_doc_validate(const struct isim_doc *doc, const cJSON *schema, struct isim_error *err)
{
	if (isim_schema_validate(schema, doc->root, err) == 0)
		return 0;
	if (err->kind == ISIM_ERR_DATA)
		isim_doc_locate_error(doc, err);
	return -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir for which keep() holds. */
static int list_dir(const char *dir, bool (*keep)(const char *dir, const char *name), char ***out, size_t *n,
		    struct isim_error *err)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0, i;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d) {
		isim_error_at(err, dir, 0, 0);
		return isim_error_errno(err, ISIM_ERR_NOINPUT, errno, "cannot open directory");
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !keep(dir, de->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			goto oom;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), name_cmp);
	*out = v;
	*n = cnt;
	return 0;
oom:
	closedir(d);
	for (i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_feature_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s/feature.yaml", dir, name) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_profile_file(const char *dir, const char *name)
{
	size_t n = strlen(name);

	(void)dir;
	return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

char *isim_catalog_known(const struct isim_catalog *cat)
{
	struct isim_error ignored;
	char **names = NULL, *s = NULL;
	size_t n = 0, i, len = 1;

	isim_error_clear(&ignored);
	if (list_dir(cat->features_dir, is_feature_dir, &names, &n, &ignored) < 0 || !n)
		goto out;
	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 2;
	s = malloc(len);
	if (!s)
		goto out;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, names[i]);
	}
out:
	free_names(names, n);
	return s;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 && name[0] >= 'a' && name[0] <= 'z' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static struct isim_feature *find(struct isim_catalog *cat, const char *name, size_t *slot)
{
	size_t lo = 0, hi = cat->nfeatures;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(cat->features[mid]->name, name);

		if (c == 0)
			return cat->features[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*slot = lo;
	return NULL;
}

/* Read a YAML file once, so that its digest is of the very text parsed
 * even if the file changes meanwhile. */
static int load_yaml(const char *path, struct isim_doc **doc, char hex[static ISIM_SHA256_HEX], struct isim_error *err)
{
	char *text = NULL;
	size_t len;
	int ret = -1;

	*doc = NULL;
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0)
		return -1;
	if (isim_sha256_hex(text, len, hex) < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 is unavailable");
		goto out;
	}
	ret = isim_yaml_parse(text, len, path, doc, err);
out:
	free(text);
	return ret;
}

int isim_catalog_feature(struct isim_catalog *cat, const char *name, struct isim_feature **out, struct isim_error *err)
{
	struct isim_feature *f = NULL, **nv;
	const cJSON *jname;
	size_t slot = 0;
	char *known;

	*out = find(cat, name, &slot);
	if (*out)
		return 0;
	if (!valid_name(name) || !is_feature_dir(cat->features_dir, name)) {
		known = isim_catalog_known(cat);
		isim_error_set(err, ISIM_ERR_DATA, "feature '%.64s' is not defined (known: %s)", name,
			       known ? known : "none");
		free(known);
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(name)) || !(f->dir = join(cat->features_dir, name)) ||
	    !(f->yaml_path = join(f->dir, "feature.yaml"))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (load_yaml(f->yaml_path, &f->doc, f->sha256, err) < 0 ||
	    isim_doc_validate(f->doc, cat->feature_schema, err) < 0)
		goto fail;
	/* The schema should have required a string; a catalog given its own
	 * schemas may not, and must not crash for it. */
	jname = cJSON_GetObjectItemCaseSensitive(f->doc->root, "name");
	if (!cJSON_IsString(jname)) {
		isim_error_pointer(err, cJSON_IsObject(f->doc->root) ? "/name" : "");
		isim_error_set(err, ISIM_ERR_DATA, "expected a 'name' string equal to the folder name '%s'", name);
		isim_doc_locate_error(f->doc, err);
		goto fail;
	}
	if (strcmp(jname->valuestring, name) != 0) {
		isim_error_pointer(err, "/name");
		isim_error_set(err, ISIM_ERR_DATA, "name '%.64s' differs from its folder name '%s'", jname->valuestring,
			       name);
		isim_doc_locate_error(f->doc, err);
		goto fail;
	}
	if (cat->nfeatures == cat->cap) {
		size_t ncap = cat->cap ? cat->cap * 2 : 16;

		nv = realloc(cat->features, ncap * sizeof(*nv));
		if (!nv) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		cat->features = nv;
		cat->cap = ncap;
	}
	memmove(cat->features + slot + 1, cat->features + slot, (cat->nfeatures - slot) * sizeof(*cat->features));
	cat->features[slot] = f;
	cat->nfeatures++;
	*out = f;
	return 0;
fail:
	feature_free(f);
	return -1;
}

void isim_profile_free(struct isim_profile *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->source);
	isim_doc_free(p->doc);
	free(p);
}

int isim_profile_load(struct isim_catalog *cat, const char *name_or_path, struct isim_profile **out,
		      struct isim_error *err)
{
	struct isim_profile *p = NULL;
	const cJSON *jname;
	const char *base;
	char *path = NULL;
	size_t n = strlen(name_or_path);
	int ret = -1;

	*out = NULL;
	if (strchr(name_or_path, '/') || (n > 5 && !strcmp(name_or_path + n - 5, ".yaml"))) {
		path = strdup(name_or_path);
	} else {
		if (!valid_name(name_or_path)) {
			isim_error_set(err, ISIM_ERR_USAGE,
				       "'%.64s' is not a profile name ([a-z][a-z0-9-]*) nor a path", name_or_path);
			return -1;
		}
		if (asprintf(&path, "%s/%s.yaml", cat->profiles_dir, name_or_path) < 0)
			path = NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!path || !p) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	p->source = strdup(base);
	if (!p->source) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (load_yaml(path, &p->doc, p->sha256, err) < 0 || isim_doc_validate(p->doc, cat->profile_schema, err) < 0)
		goto out;
	jname = cJSON_GetObjectItemCaseSensitive(p->doc->root, "name");
	n = strlen(p->source);
	if (!cJSON_IsString(jname)) {
		isim_error_pointer(err, cJSON_IsObject(p->doc->root) ? "/name" : "");
		isim_error_set(err, ISIM_ERR_DATA, "expected a 'name' string equal to the file name '%.64s'",
			       p->source);
		isim_doc_locate_error(p->doc, err);
		goto out;
	}
	if (n <= 5 || strcmp(p->source + n - 5, ".yaml") || strlen(jname->valuestring) != n - 5 ||
	    strncmp(jname->valuestring, p->source, n - 5)) {
		isim_error_pointer(err, "/name");
		isim_error_set(err, ISIM_ERR_DATA, "profile name '%.64s' differs from its file name '%.64s'",
			       jname->valuestring, p->source);
		isim_doc_locate_error(p->doc, err);
		goto out;
	}
	p->name = strdup(jname->valuestring);
	if (!p->name) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	*out = p;
	p = NULL;
	ret = 0;
out:
	free(path);
	isim_profile_free(p);
	return ret;
}

static cJSON *pick(const cJSON *from, const char *const *keys)
{
	cJSON *o = cJSON_CreateObject();

	for (; o && *keys; keys++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, *keys);

		if (v)
			cJSON_AddItemToObject(o, *keys, cJSON_Duplicate(v, true));
	}
	return o;
}

int isim_catalog_list(struct isim_catalog *cat, cJSON **out, struct isim_error *err)
{
	static const char *const fkeys[] = { "name",	 "version",  "description", "requires", "conflicts",
					     "packages", "services", "selftest",    "inputs",	NULL };
	static const char *const pkeys[] = { "name",	 "version",	      "description", "base",
					     "features", "test_requirements", NULL };
	char **names = NULL;
	size_t n = 0, i;
	cJSON *doc, *arr;
	int ret = -1;

	*out = NULL;
	doc = cJSON_CreateObject();
	if (!doc)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (list_dir(cat->features_dir, is_feature_dir, &names, &n, err) < 0)
		goto out;
	arr = cJSON_AddArrayToObject(doc, "features");
	for (i = 0; i < n; i++) {
		struct isim_feature *f;
		cJSON *o, *schema, *props, *cfg;

		if (isim_catalog_feature(cat, names[i], &f, err) < 0)
			goto out;
		o = pick(f->doc->root, fkeys);
		schema = cJSON_GetObjectItemCaseSensitive(f->doc->root, "config_schema");
		props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
		cfg = cJSON_AddObjectToObject(o, "config");
		for (props = cJSON_IsObject(props) ? props->child : NULL; props; props = props->next) {
			const cJSON *def = cJSON_GetObjectItemCaseSensitive(props, "default");

			cJSON_AddItemToObject(cfg, props->string,
					      def ? cJSON_Duplicate(def, true) : cJSON_CreateNull());
		}
		cJSON_AddStringToObject(o, "sha256", f->sha256);
		cJSON_AddItemToArray(arr, o);
	}
	free_names(names, n);
	names = NULL;
	n = 0;
	arr = cJSON_AddArrayToObject(doc, "profiles");
	if (list_dir(cat->profiles_dir, is_profile_file, &names, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct isim_profile *p = NULL;
		char *path = join(cat->profiles_dir, names[i]);
		cJSON *o;

		if (!path || isim_profile_load(cat, path, &p, err) < 0) {
			free(path);
			goto out;
		}
		free(path);
		o = pick(p->doc->root, pkeys);
		cJSON_AddStringToObject(o, "sha256", p->sha256);
		cJSON_AddItemToArray(arr, o);
		isim_profile_free(p);
	}
	*out = doc;
	doc = NULL;
	ret = 0;
out:
	free_names(names, n);
	cJSON_Delete(doc);
	return ret;
}
