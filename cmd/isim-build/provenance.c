/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "isim/file.h"
#include "isim/intoto.h"
#include "isim/sde.h"

/* URIs naming what built the image and how (SLSA Provenance v1
 * "buildType" and "builder.id"). */
#define BUILD_TYPE "urn:infrasim:isim-build:image:v1"
#define BUILDER_ID "urn:infrasim:isim-build"

static int file_dep(struct build *b, const char *name, const char *path, struct isim_error *err)
{
	uint8_t d[ISIM_SHA256_BYTES];
	char hex[ISIM_SHA256_HEX];

	if (isim_sha256_file(path, d, err) < 0)
		return -1;
	isim_hex(d, sizeof(d), hex);
	return build_dep(b, name, NULL, hex, NULL) < 0 ? isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory") : 0;
}

/* Every input by digest: the profile and the composed manifest, the base's
 * definition and root file system, each installed package (as a package
 * URL, purl-spec), and what was added on top (recorded while building). */
static int dependencies(struct build *b, cJSON **out, struct isim_error *err)
{
	const cJSON *profile = cJSON_GetObjectItemCaseSensitive(b->manifest, "profile"), *p;
	cJSON *deps = cJSON_CreateArray(), *recorded = b->deps;
	char name[PATH_MAX], uri[1024];
	int ret = -1;

	if (!deps)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	b->deps = deps;
	{
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(profile, "source");
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(profile, "sha256");

		if (cJSON_IsString(src) && cJSON_IsString(sha)) {
			if (isim_pathf(name, sizeof(name), err, "profiles/%s", src->valuestring) < 0)
				goto out;
			if (build_dep(b, name, NULL, sha->valuestring, NULL) < 0)
				goto oom;
		}
	}
	if (isim_pathf(name, sizeof(name), err, "bases/%s.yaml", b->base->name) < 0)
		goto out;
	if (build_dep(b, name, NULL, b->base->sha256, NULL) < 0)
		goto oom;
	if (b->base->customize) {
		if (isim_pathf(name, sizeof(name), err, "bases/%s", b->base->customize + strlen(b->base->dir) + 1) < 0)
			goto out;
		if (file_dep(b, name, b->base->customize, err) < 0)
			goto out;
	}
	if (isim_pathf(name, sizeof(name), err, "bases/%s", b->base->initramfs_init + strlen(b->base->dir) + 1) < 0)
		goto out;
	if (file_dep(b, name, b->base->initramfs_init, err) < 0)
		goto out;
	if (isim_pathf(name, sizeof(name), err, "base-rootfs/%s-%s.tar", b->base->name, b->base->version) < 0)
		goto out;
	if (build_dep(b, name, NULL, b->base_tar_sha256, NULL) < 0)
		goto oom;
	cJSON_ArrayForEach (p, b->installed) {
		const char *pn = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
		const char *pv = cJSON_GetObjectItemCaseSensitive(p, "version")->valuestring;
		const char *pa = cJSON_GetObjectItemCaseSensitive(p, "architecture")->valuestring;
		const char *ps = cJSON_GetObjectItemCaseSensitive(p, "sha256")->valuestring;
		const char *type = strcmp(b->base->bootstrap, "mmdebstrap") == 0 ? "deb" : "apk";

		/* purl: a ':' in a Debian version (its epoch) is %-encoded. */
		char ver[256], *q = ver;
		const char *c;

		for (c = pv; *c && q < ver + sizeof(ver) - 4; c++) {
			if (*c == ':') {
				memcpy(q, "%3A", 3);
				q += 3;
			} else {
				*q++ = *c;
			}
		}
		*q = '\0';
		if (isim_pathf(uri, sizeof(uri), err, "pkg:%s/%s/%s@%s?arch=%s", type, b->base->name, pn, ver, pa) < 0)
			goto out;
		if (build_dep(b, pn, uri, ps, pv) < 0)
			goto oom;
	}
	{
		cJSON *r;

		while ((r = cJSON_DetachItemFromArray(recorded, 0)))
			cJSON_AddItemToArray(deps, r);
	}
	*out = deps;
	b->deps = NULL;
	deps = NULL;
	ret = 0;
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
out:
	if (deps) {
		b->deps = recorded;
		cJSON_Delete(deps);
	} else {
		b->deps = recorded;
	}
	return ret;
}

int build_statement(struct build *b, cJSON **out, struct isim_error *err)
{
	cJSON *pred = cJSON_CreateObject(), *def, *ext, *in, *run, *bld, *meta, *deps = NULL;
	char name[PATH_MAX], started[32], finished[32];
	time_t t0 = b->epoch_set ? b->epoch : b->started, t1 = b->epoch_set ? b->epoch : time(NULL);
	struct isim_intoto_subject subject = { name, b->image_sha256 };
	int ret = -1;

	*out = NULL;
	if (dependencies(b, &deps, err) < 0)
		goto out;
	if (isim_rfc3339(t0, started, sizeof(started)) < 0 || isim_rfc3339(t1, finished, sizeof(finished)) < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "time out of range");
		goto out;
	}
	if (isim_pathf(name, sizeof(name), err, "%s.qcow2", b->profile) < 0)
		goto out;
	if (!pred || !(def = cJSON_AddObjectToObject(pred, "buildDefinition")) ||
	    !cJSON_AddStringToObject(def, "buildType", BUILD_TYPE) ||
	    !(ext = cJSON_AddObjectToObject(def, "externalParameters")) ||
	    !cJSON_AddStringToObject(ext, "profile", b->profile) ||
	    !cJSON_AddStringToObject(ext, "base", b->base_spec_buf) ||
	    !cJSON_AddStringToObject(ext, "mirror", b->mirror ? b->mirror : b->base->mirror) ||
	    !(b->repo ? cJSON_AddStringToObject(ext, "repo", b->repo) : cJSON_AddNullToObject(ext, "repo")) ||
	    !(b->disk_size ? cJSON_AddNumberToObject(ext, "size", (double)b->disk_size)
			   : cJSON_AddNullToObject(ext, "size")) ||
	    !cJSON_AddItemToObject(ext, "manifest", cJSON_Duplicate(b->manifest, 1)) ||
	    !(in = cJSON_AddObjectToObject(def, "internalParameters")) ||
	    !cJSON_AddNumberToObject(in, "source_date_epoch", (double)b->epoch) ||
	    !cJSON_AddStringToObject(in, "kernel", b->kver) ||
	    !cJSON_AddStringToObject(in, "cmdline", b->base->cmdline) ||
	    !cJSON_AddItemToObject(def, "resolvedDependencies", deps))
		goto oom;
	deps = NULL;
	if (!(run = cJSON_AddObjectToObject(pred, "runDetails")) || !(bld = cJSON_AddObjectToObject(run, "builder")) ||
	    !cJSON_AddStringToObject(bld, "id", BUILDER_ID) ||
	    !cJSON_AddStringToObject(cJSON_AddObjectToObject(bld, "version"), "isim-build", ISIM_VERSION) ||
	    !(meta = cJSON_AddObjectToObject(run, "metadata")) ||
	    !cJSON_AddStringToObject(meta, "startedOn", started) ||
	    !cJSON_AddStringToObject(meta, "finishedOn", finished))
		goto oom;
	ret = isim_intoto_statement(&subject, 1, ISIM_SLSA_PROVENANCE_V1, pred, out, err);
	pred = NULL;
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
out:
	cJSON_Delete(deps);
	cJSON_Delete(pred);
	return ret;
}
