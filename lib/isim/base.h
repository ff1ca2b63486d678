/* SPDX-License-Identifier: MIT */
#ifndef ISIM_BASE_H
#define ISIM_BASE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "isim/error.h"
#include "isim/hash.h"
#include "isim/yaml.h"

/* A base distribution, bases/NAME.yaml, checked against
 * schemas/base.schema.json; spec "NAME:VERSION" names it and a version. */
struct isim_base {
	char *name;
	char *version;
	char *dir;	 /* the bases folder */
	char *yaml_path; /* dir/NAME.yaml */
	struct isim_doc *doc;
	char sha256[ISIM_SHA256_HEX]; /* of the YAML file */
	const char *bootstrap;	      /* "mmdebstrap" or "alpine" */
	const char *mirror;
	const char *cmdline;
	const char *busybox;  /* in the root file system, "/bin/busybox" by default */
	char *customize;      /* dir/..., or NULL */
	char *initramfs_init; /* dir/... */
	const cJSON *packages, *map, *unavailable, *modules;
};

/* Load the base spec names. An unknown name or version is ISIM_ERR_DATA
 * saying which are known; a malformed base file is ISIM_ERR_CONFIG.
 * schemas_dir: where base.schema.json is, or NULL for the built-in one. */
int isim_base_load(const char *bases_dir, const char *schemas_dir, const char *spec, struct isim_base **out,
		   struct isim_error *err) ISIM_MUST_CHECK;
void isim_base_free(struct isim_base *b);

/* The packages to install for the catalog packages wanted (a JSON array of
 * strings): the base's own, then each wanted one mapped to this base's
 * names, sorted and without duplicates, as a JSON array. A package the base
 * does not have is ISIM_ERR_DATA with err->pointer "/packages/N" and a
 * message naming it and the base, unless allow_unavailable (the user gave
 * a repository that has it), when it is passed on by its own name. */
int isim_base_packages(const struct isim_base *b, const cJSON *wanted, int allow_unavailable, cJSON **out,
		       struct isim_error *err) ISIM_MUST_CHECK;

#endif
