/* SPDX-License-Identifier: MIT */
#ifndef ISIM_BUILD_CMD_H
#define ISIM_BUILD_CMD_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "isim/base.h"
#include "isim/error.h"
#include "isim/hash.h"
#include "isim/minisign.h"

#define PROG "isim-build"

/* One build, from a composed folder to the files in the output folder. */
struct build {
	/* options */
	const char *out_dir;
	const char *base_spec; /* NULL: the manifest's */
	const char *mirror;    /* NULL: the base's */
	const char *repo;      /* extra repository, or NULL */
	const char *cache_dir;
	const char *bases_dir, *features_dir, *schemas_dir;
	uint64_t disk_size; /* bytes; 0: what the tree needs */
	bool quiet;

	/* what it works on */
	char comp_dir[PATH_MAX];
	char *profile; /* the manifest's profile name */
	cJSON *manifest;
	char manifest_sha256[ISIM_SHA256_HEX];
	struct isim_base *base;
	char base_spec_buf[64];
	cJSON *packages; /* what the base installs, sorted */
	char base_key[ISIM_SHA256_HEX];
	char base_tar[PATH_MAX]; /* the cached root filesystem */
	char base_tar_sha256[ISIM_SHA256_HEX];
	cJSON *installed; /* [{name, version, architecture, sha256}] */
	time_t epoch;	  /* SOURCE_DATE_EPOCH, else now */
	bool epoch_set;
	time_t started;

	/* its working folder, OUT/.isim-build.XXXXXX, removed at the end */
	char work[PATH_MAX];
	char root[PATH_MAX];
	char kver[128];
	uint64_t root_bytes, root_inodes;

	/* results */
	char image[PATH_MAX];
	char image_sha256[ISIM_SHA256_HEX];
	uint64_t image_size;
	cJSON *deps; /* resolvedDependencies */
	int step, nsteps;
};

int isim_build_main(int argc, char *argv[]);
/* Its default command, building a profile (with --test, testing an image),
 * called with the tool's own argv; and its --help. */
int build_main(int argc, char *argv[]);
void build_usage(FILE *f);

/* base.c: the base root filesystem as a tar file in the cache, made once. */
int build_base(struct build *b, struct isim_error *err);

/* image.c: the root tree in b->root, then the disk image. */
int build_tree(struct build *b, struct isim_error *err);
int build_image(struct build *b, const char *qcow2, struct isim_error *err);

/* provenance.c: the in-toto statement of the build. */
int build_statement(struct build *b, cJSON **out, struct isim_error *err);

/* boot.c: isim-build test (argv[0] "test"), or isim-build --test (the
 * tool's own argv), and its --help. */
int build_test_main(int argc, char *argv[]);
void build_test_usage(FILE *f);
/* The same, in-process after a build, with its key (or NULL). */
int build_test_image(const char *image, const struct isim_ms_seckey *sk, bool quiet);

/* Progress on a terminal: "isim-build: [3/9] what". */
void build_progress(struct build *b, const char *fmt, ...) ISIM_PRINTF(2, 3);
/* Add {name, uri, digest: {sha256}} to b->deps. */
int build_dep(struct build *b, const char *name, const char *uri, const char *sha256, const char *version);
/* The folder this program is in, for the sibling tools it installs. */
const char *build_bindir(void);

#endif
