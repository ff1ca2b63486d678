/* SPDX-License-Identifier: MIT */
/* The catalog: where its folders are looked for, features and profiles
 * loaded from a scratch tree, and the message for each thing that can be
 * wrong with them. The schemas here accept anything, so what is tested is
 * the catalog's own checking, whatever the validator does. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/catalog.h"
#include "isim/hash.h"
#include "testutil.h"

static const char base_yaml[] = "name: base\n"
				"version: 1.0.0\n"
				"description: Base system\n"
				"packages: [openssh]\n"
				"config_schema:\n"
				"  type: object\n"
				"  properties:\n"
				"    port: {type: integer, default: 22}\n"
				"    motd: {type: string}\n";
static const char vpn_yaml[] = "name: vpn\nversion: 2.0.0\ndescription: Mesh\nrequires: [base]\n";
static const char web_yaml[] = "name: web\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n";

struct tree {
	char *root;
	char features[PATH_MAX], profiles[PATH_MAX], schemas[PATH_MAX];
	char origin[PATH_MAX];
};

static int make_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->root = tu_tmpdir();
	snprintf(t->features, sizeof(t->features), "%s/features", t->root);
	snprintf(t->profiles, sizeof(t->profiles), "%s/profiles", t->root);
	snprintf(t->schemas, sizeof(t->schemas), "%s/schemas", t->root);
	tu_write(t->root, "features/base/feature.yaml", base_yaml);
	tu_write(t->root, "features/base/files/motd", "hello\n");
	tu_write(t->root, "features/vpn/feature.yaml", vpn_yaml);
	/* Not features: no feature.yaml, hidden, a plain file. */
	tu_write(t->root, "features/empty/README", "nothing here\n");
	tu_write(t->root, "features/.hidden/feature.yaml", "name: .hidden\n");
	tu_write(t->root, "features/NOTES", "notes\n");
	tu_write(t->root, "profiles/web.yaml", web_yaml);
	tu_write(t->root, "profiles/notes.txt", "not a profile\n");
	tu_write(t->root, "schemas/feature.schema.json", "{}\n");
	tu_write(t->root, "schemas/profile.schema.json", "{}\n");
	tu_write(t->root, "schemas/manifest.schema.json", "{}\n");
	assert_non_null(getcwd(t->origin, sizeof(t->origin)));
	*state = t;
	return 0;
}

static int remove_tree(void **state)
{
	struct tree *t = *state;

	assert_int_equal(chdir(t->origin), 0);
	unsetenv("ISIM_FEATURES_DIR");
	assert_int_equal(isim_rmtree(t->root), 0);
	free(t->root);
	free(t);
	return 0;
}

static struct isim_catalog *open_tree(const struct tree *t)
{
	struct isim_catalog *cat = NULL;
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_catalog_open(&cat, t->features, t->profiles, t->schemas, &err) < 0)
		fail_msg("%s", tu_msg(&err));
	return cat;
}

static void sha_of(const char *text, char hex[static ISIM_SHA256_HEX])
{
	assert_int_equal(isim_sha256_hex(text, strlen(text), hex), 0);
}

/* ---- opening -------------------------------------------------------------- */

static void test_open(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);

	assert_string_equal(cat->features_dir, t->features);
	assert_string_equal(cat->profiles_dir, t->profiles);
	assert_non_null(cat->feature_schema);
	assert_non_null(cat->profile_schema);
	assert_non_null(cat->manifest_schema);
	assert_int_equal(cat->nfeatures, 0);
	isim_catalog_free(cat);
	isim_catalog_free(NULL);
}

static void test_open_missing_features(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = (struct isim_catalog *)t;
	struct isim_error err;
	char dir[PATH_MAX + 16], expected[PATH_MAX + 100];

	snprintf(dir, sizeof(dir), "%s/nowhere", t->root);
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_open(&cat, dir, t->profiles, t->schemas, &err), -1);
	assert_null(cat);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s: features directory not found", dir);
	assert_string_equal(tu_msg(&err), expected);

	/* A file is not a folder. */
	snprintf(dir, sizeof(dir), "%s/NOTES", t->features);
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_open(&cat, dir, t->profiles, t->schemas, &err), -1);
	snprintf(expected, sizeof(expected), "%s: features directory not found", dir);
	assert_string_equal(tu_msg(&err), expected);
}

static void test_open_schema_errors(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat;
	struct isim_error err;
	char expected[PATH_MAX + 200];

	assert_int_equal(unlink(tu_path(t->schemas, "profile.schema.json")), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_open(&cat, t->features, t->profiles, t->schemas, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s/profile.schema.json: cannot open: %s", t->schemas, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);

	/* A broken schema is bad configuration, not bad input. */
	tu_write(t->schemas, "profile.schema.json", "{\n  \"type\": \"object\",\n}\n");
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_open(&cat, t->features, t->profiles, t->schemas, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	snprintf(expected, sizeof(expected), "%s/profile.schema.json:3:1: unexpected '}', expected a member name",
		 t->schemas);
	assert_string_equal(tu_msg(&err), expected);
}

/* ---- features --------------------------------------------------------------- */

static void test_feature_load(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	struct isim_feature *base, *vpn, *again;
	struct isim_error err;
	char hex[ISIM_SHA256_HEX];

	isim_error_clear(&err);
	assert_int_equal(isim_catalog_feature(cat, "vpn", &vpn, &err), 0);
	assert_int_equal(isim_catalog_feature(cat, "base", &base, &err), 0);
	assert_string_equal(base->name, "base");
	assert_string_equal(base->dir, tu_path(t->features, "base"));
	assert_string_equal(base->yaml_path, tu_path(t->features, "base/feature.yaml"));
	sha_of(base_yaml, hex);
	assert_string_equal(base->sha256, hex);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(base->doc->root, "version")->valuestring, "1.0.0");
	/* Loaded once, then the same; kept sorted by name. */
	assert_int_equal(isim_catalog_feature(cat, "base", &again, &err), 0);
	assert_ptr_equal(again, base);
	assert_int_equal(cat->nfeatures, 2);
	assert_ptr_equal(cat->features[0], base);
	assert_ptr_equal(cat->features[1], vpn);
	isim_catalog_free(cat);
}

static void test_feature_unknown(void **state)
{
	static const char *const names[] = { "vpn-wireguad", "empty", ".hidden", "../vpn", "Base", "", "NOTES" };
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct isim_feature *f = (struct isim_feature *)t;
		struct isim_error err;
		char expected[200];

		isim_error_clear(&err);
		assert_int_equal(isim_catalog_feature(cat, names[i], &f, &err), -1);
		assert_null(f);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		snprintf(expected, sizeof(expected), "feature '%s' is not defined (known: base, vpn)", names[i]);
		assert_string_equal(tu_msg(&err), expected);
	}
	assert_int_equal(cat->nfeatures, 0);
	isim_catalog_free(cat);
}

struct bad_feature {
	const char *yaml;
	const char *message; /* after "<path>:" */
};

static const struct bad_feature bad_features[] = {
	{ "name: base\nversion: 1\n", "1:7: /name: name 'base' differs from its folder name 'other'" },
	{ "name: other\nname: other\n", "2:1: duplicate key 'name' (first at line 1, column 1)" },
	{ "name: other\n  version: 1\n", "2:10: invalid YAML: mapping values are not allowed in this context" },
	{ "name: [other]\n", "1:7: /name: expected a 'name' string equal to the folder name 'other'" },
	{ "version: 1\n", "1:1: /name: expected a 'name' string equal to the folder name 'other'" },
	{ "- other\n", "1:1: expected a 'name' string equal to the folder name 'other'" },
	{ "", " expected a 'name' string equal to the folder name 'other'" },
};

static void test_feature_bad(void **state)
{
	struct tree *t = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_features) / sizeof(bad_features[0]); i++) {
		struct isim_catalog *cat;
		struct isim_feature *f;
		struct isim_error err;
		char expected[PATH_MAX + 200], *path;

		tu_write(t->features, "other/feature.yaml", bad_features[i].yaml);
		path = strdup(tu_path(t->features, "other/feature.yaml"));
		cat = open_tree(t);
		isim_error_clear(&err);
		assert_int_equal(isim_catalog_feature(cat, "other", &f, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		snprintf(expected, sizeof(expected), "%s:%s", path, bad_features[i].message);
		if (strcmp(tu_msg(&err), expected))
			print_message("case %zu\n", i);
		assert_string_equal(tu_msg(&err), expected);
		/* A failed load is not kept: the next try reads the file again. */
		assert_int_equal(cat->nfeatures, 0);
		isim_catalog_free(cat);
		free(path);
	}
}

static void test_known(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	char *known = isim_catalog_known(cat);

	assert_string_equal(known, "base, vpn");
	free(known);
	tu_write(t->features, "a-first/feature.yaml", "name: a-first\n");
	known = isim_catalog_known(cat);
	assert_string_equal(known, "a-first, base, vpn");
	free(known);
	isim_catalog_free(cat);

	/* No features at all. */
	assert_int_equal(isim_rmtree(t->features), 0);
	assert_int_equal(isim_mkdirs(t->features, 0755), 0);
	cat = open_tree(t);
	assert_null(isim_catalog_known(cat));
	isim_catalog_free(cat);
}

/* ---- profiles ------------------------------------------------------------- */

static void test_profile_load(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	struct isim_profile *p;
	struct isim_error err;
	char hex[ISIM_SHA256_HEX], path[PATH_MAX];

	isim_error_clear(&err);
	assert_int_equal(isim_profile_load(cat, "web", &p, &err), 0);
	assert_string_equal(p->name, "web");
	assert_string_equal(p->source, "web.yaml");
	sha_of(web_yaml, hex);
	assert_string_equal(p->sha256, hex);
	assert_string_equal(p->doc->path, tu_path(t->profiles, "web.yaml"));
	isim_profile_free(p);

	/* By path, from anywhere. */
	tu_write(t->root, "elsewhere/db.yaml", "name: db\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: []\n");
	snprintf(path, sizeof(path), "%s/elsewhere/db.yaml", t->root);
	assert_int_equal(isim_profile_load(cat, path, &p, &err), 0);
	assert_string_equal(p->name, "db");
	assert_string_equal(p->source, "db.yaml");
	isim_profile_free(p);
	isim_profile_free(NULL);
	isim_catalog_free(cat);
}

static void test_profile_errors(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	struct isim_profile *p = (struct isim_profile *)t;
	struct isim_error err;
	char expected[PATH_MAX + 200];

	isim_error_clear(&err);
	assert_int_equal(isim_profile_load(cat, "Web!", &p, &err), -1);
	assert_null(p);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_string_equal(tu_msg(&err), "'Web!' is not a profile name ([a-z][a-z0-9-]*) nor a path");

	isim_error_clear(&err);
	assert_int_equal(isim_profile_load(cat, "nosuch", &p, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s/nosuch.yaml: cannot open: %s", t->profiles, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);

	tu_write(t->profiles, "best.yaml", "# renamed\nname: web\nversion: 1.0.0\n");
	isim_error_clear(&err);
	assert_int_equal(isim_profile_load(cat, "best", &p, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	snprintf(expected, sizeof(expected),
		 "%s/best.yaml:2:7: /name: profile name 'web' differs from its file name 'best.yaml'", t->profiles);
	assert_string_equal(tu_msg(&err), expected);

	tu_write(t->profiles, "odd.yaml", "name: 7\n");
	isim_error_clear(&err);
	assert_int_equal(isim_profile_load(cat, "odd", &p, &err), -1);
	snprintf(expected, sizeof(expected),
		 "%s/odd.yaml:1:7: /name: expected a 'name' string equal to the file name 'odd.yaml'", t->profiles);
	assert_string_equal(tu_msg(&err), expected);
	isim_catalog_free(cat);
}

/* ---- the whole catalog ---------------------------------------------------- */

static void test_list(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	char expected[2048], base_sha[ISIM_SHA256_HEX], vpn_sha[ISIM_SHA256_HEX], web_sha[ISIM_SHA256_HEX];
	struct isim_error err;
	cJSON *list;
	char *s;

	sha_of(base_yaml, base_sha);
	sha_of(vpn_yaml, vpn_sha);
	sha_of(web_yaml, web_sha);
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_list(cat, &list, &err), 0);
	s = cJSON_PrintUnformatted(list);
	snprintf(expected, sizeof(expected),
		 "{\"features\":["
		 "{\"name\":\"base\",\"version\":\"1.0.0\",\"description\":\"Base system\",\"packages\":[\"openssh\"],"
		 "\"config\":{\"port\":22,\"motd\":null},\"sha256\":\"%s\"},"
		 "{\"name\":\"vpn\",\"version\":\"2.0.0\",\"description\":\"Mesh\",\"requires\":[\"base\"],"
		 "\"config\":{},\"sha256\":\"%s\"}],"
		 "\"profiles\":["
		 "{\"name\":\"web\",\"version\":\"1.0.0\",\"base\":\"alpine:3.19\",\"features\":[\"vpn\"],"
		 "\"sha256\":\"%s\"}]}",
		 base_sha, vpn_sha, web_sha);
	assert_string_equal(s, expected);
	free(s);
	cJSON_Delete(list);
	isim_catalog_free(cat);
}

static void test_list_stops_at_bad_profile(void **state)
{
	struct tree *t = *state;
	struct isim_catalog *cat = open_tree(t);
	struct isim_error err;
	char expected[PATH_MAX + 200];
	cJSON *list = (cJSON *)t;

	tu_write(t->profiles, "broken.yaml", "name: broken\nname: again\n");
	isim_error_clear(&err);
	assert_int_equal(isim_catalog_list(cat, &list, &err), -1);
	assert_null(list);
	snprintf(expected, sizeof(expected), "%s/broken.yaml:2:1: duplicate key 'name' (first at line 1, column 1)",
		 t->profiles);
	assert_string_equal(tu_msg(&err), expected);
	isim_catalog_free(cat);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_tree, remove_tree)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open),
		T(test_open_missing_features),
		T(test_open_schema_errors),
		T(test_feature_load),
		T(test_feature_unknown),
		T(test_feature_bad),
		T(test_known),
		T(test_profile_load),
		T(test_profile_errors),
		T(test_list),
		T(test_list_stops_at_bad_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
