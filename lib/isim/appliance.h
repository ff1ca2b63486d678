/* SPDX-License-Identifier: MIT */
#ifndef ISIM_APPLIANCE_H
#define ISIM_APPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/hash.h"
#include "isim/minisign.h"
#include "isim/trust.h"
#include "isim/verdict.h"

/*
 * An appliance archive (isim-formats(5)): a gzip'ed tar of a VM's flattened
 * disk and what deploys it, with manifest.json listing every other regular
 * member (path, size, SHA-256) and, when signed, manifest.json.minisig
 * beside it. Members come in byte order of their paths, each directory
 * before what it holds, every one owned by root with one time, so that the
 * same inputs make the same bytes.
 */

#define ISIM_APPLIANCE_FORMAT "infrasim-appliance/1"
#define ISIM_APPLIANCE_MANIFEST "manifest.json"
#define ISIM_APPLIANCE_SIGNATURE "manifest.json.minisig"
#define ISIM_APPLIANCE_SCHEMA "appliance-manifest.schema.json"
/* What a reader takes at most: entries, and the manifest's and
 * signature's sizes. */
#define ISIM_APPLIANCE_ENTRIES_MAX 1024
#define ISIM_APPLIANCE_MANIFEST_MAX (1 << 20)
#define ISIM_APPLIANCE_SIG_MAX 4096

/* A member path: relative, '/'-separated, at most 8 components of 1 to 128
 * of A-Z a-z 0-9 '.' '_' '-', none starting with '.'. So no "..", no
 * absolute path, nothing hidden. */
bool isim_appliance_path_ok(const char *path);

/* One member to write: its bytes in memory, or (data NULL) the file at
 * file, streamed. */
struct isim_appliance_member {
	const char *path;
	const void *data;
	size_t len;
	const char *file;
	mode_t mode;
};

struct isim_appliance_out {
	const char *path; /* the archive, written atomically */
	bool replace;	  /* else an existing path is ISIM_ERR_CANTCREATE */
	mode_t mode;
	time_t mtime;			  /* of every entry, and the signature's timestamp */
	const cJSON *manifest;		  /* the manifest without "members" */
	const struct isim_ms_seckey *key; /* unlocked; NULL: unsigned */
	const char *compressor;		  /* "pigz -n", or NULL: libarchive's gzip */
	/* Called as file members stream (bytes done of total); may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};

struct isim_appliance_result {
	uint64_t size;		      /* of the archive */
	char sha256[ISIM_SHA256_HEX]; /* of the archive */
	char manifest_sha256[ISIM_SHA256_HEX];
	size_t members; /* listed in the manifest */
};

/* Write the archive of members (paths checked, unique, none the manifest's
 * or the signature's). Nothing is left at o->path on failure; an interrupt
 * (isim_run_interrupted) stops it as a failure. */
int isim_appliance_write(const struct isim_appliance_out *o, const struct isim_appliance_member *members, size_t n,
			 struct isim_appliance_result *res, struct isim_error *err) ISIM_MUST_CHECK;

/* A manifest read. */
struct isim_appliance_listed {
	const char *path; /* into doc */
	uint64_t size;
	const char *sha256;
};

struct isim_appliance_manifest {
	cJSON *doc;
	const char *name, *id;
	bool secrets;
	struct isim_appliance_listed *members;
	size_t n;
};

/* Parse and check a manifest (named name in messages): JSON, the schema,
 * then unique paths that are safe and none the manifest's or signature's.
 * ISIM_ERR_DATA with the pointer of what is wrong. */
int isim_appliance_manifest_parse(const char *text, size_t len, const char *name, struct isim_appliance_manifest *m,
				  struct isim_error *err) ISIM_MUST_CHECK;
void isim_appliance_manifest_free(struct isim_appliance_manifest *m);

struct isim_appliance_report {
	struct isim_verdict v;
	char name[64];
	char id[40];
	size_t members;
	bool is_signed;
	bool secrets;
};

/* Check the archive at path: each entry a regular file or directory at a
 * safe path, once; the signature by a signer of trust (an unsigned archive,
 * or trust NULL, refused unless allow_unsigned); then every listed member
 * there with its size and SHA-256, and nothing else. 0 with r->v ok or
 * refused (the reason names the member); -1 with err when it cannot be
 * checked: ISIM_ERR_NOINPUT for a missing file, ISIM_ERR_DATA for a file
 * that is no gzip'ed tar at all. */
int isim_appliance_check(const char *path, const struct isim_trust *trust, bool allow_unsigned,
			 struct isim_appliance_report *r, struct isim_error *err) ISIM_MUST_CHECK;

#endif
