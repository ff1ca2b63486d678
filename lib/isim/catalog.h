/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CATALOG_H
#define ISIM_CATALOG_H

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/hash.h"
#include "isim/yaml.h"

/* One features/<name>/feature.yaml, validated against
 * schemas/feature.schema.json. */
struct isim_feature {
	char *name;
	char *dir;		      /* <features dir>/<name> */
	char *yaml_path;	      /* <dir>/feature.yaml */
	struct isim_doc *doc;	      /* doc->root is the feature object */
	char sha256[ISIM_SHA256_HEX]; /* of feature.yaml */
	/* Scratch for isim_compose(): resolution state and the feature that
	 * first required this one (NULL: named by the profile). */
	int mark;
	const struct isim_feature *via;
};

/* A profiles/<name>.yaml, validated against schemas/profile.schema.json. */
struct isim_profile {
	char *name;
	char *source; /* file name, e.g. "wg-mesh-ipv6.yaml" */
	struct isim_doc *doc;
	char sha256[ISIM_SHA256_HEX];
};

struct isim_catalog {
	char *features_dir;
	char *profiles_dir;
	char *schemas_dir; /* NULL: the built-in schemas */
	cJSON *feature_schema;
	cJSON *profile_schema;
	cJSON *manifest_schema;
	struct isim_feature **features; /* loaded so far, sorted by name */
	size_t nfeatures, cap;
};

/* schemas_dir: where the feature, profile and manifest schemas are, or NULL
 * for the ones built into the program (isim/schemas.h). */
int isim_catalog_open(struct isim_catalog **out, const char *features_dir, const char *profiles_dir,
		      const char *schemas_dir, struct isim_error *err) ISIM_MUST_CHECK;
void isim_catalog_free(struct isim_catalog *cat);

/* The feature called name, loaded and validated on first use. A name with no
 * folder is ISIM_ERR_DATA with message "feature 'x' is not defined
 * (known: ...)"; the caller adds where it was named. */
int isim_catalog_feature(struct isim_catalog *cat, const char *name, struct isim_feature **out,
			 struct isim_error *err) ISIM_MUST_CHECK;

/* Names of the folders under features_dir holding a feature.yaml, sorted,
 * comma-separated ("a, b, c"); free() it. NULL when there are none. */
char *isim_catalog_known(const struct isim_catalog *cat);

/* A profile by name (profiles_dir/NAME.yaml) or by path (containing '/' or
 * ending in .yaml). */
int isim_profile_load(struct isim_catalog *cat, const char *name_or_path, struct isim_profile **out,
		      struct isim_error *err) ISIM_MUST_CHECK;
void isim_profile_free(struct isim_profile *p);

/* The whole catalog as JSON: {"features": [...], "profiles": [...]}, every
 * file loaded and validated. */
int isim_catalog_list(struct isim_catalog *cat, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* Validate doc->root against schema; on failure err carries the file, line
 * and column of the failing value and its JSON pointer. */
int isim_doc_validate(const struct isim_doc *doc, const cJSON *schema, struct isim_error *err) ISIM_MUST_CHECK;

#endif
