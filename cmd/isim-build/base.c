/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "common/exit.h"
#include "isim/buf.h"
#include "isim/catalog.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/run.h"

/* 'text' for sh -c, whatever text holds. */
static void shell_quote(struct isim_buf *out, const char *text)
{
	const char *p;

	isim_buf_putn(out, "'", 1);
	for (p = text; *p; p++) {
		if (*p == '\'')
			isim_buf_puts(out, "'\\''");
		else
			isim_buf_putn(out, p, 1);
	}
	isim_buf_putn(out, "'", 1);
}

/* Which of the profile's features asked for the package: for the message. */
static void feature_of(struct build *b, const char *package, char *buf, size_t size)
{
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(b->manifest, "features"), *f;
	struct isim_catalog *cat = NULL;
	struct isim_error ignore;

	snprintf(buf, size, "?");
	if (!package || isim_catalog_open(&cat, b->features_dir, b->features_dir, b->schemas_dir, &ignore) < 0)
		return;
	cJSON_ArrayForEach (f, features) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name"), *p;
		struct isim_feature *feat;

		if (!cJSON_IsString(name) || isim_catalog_feature(cat, name->valuestring, &feat, &ignore) < 0)
			continue;
		cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(feat->doc->root, "packages")) {
			if (cJSON_IsString(p) && strcmp(p->valuestring, package) == 0) {
				snprintf(buf, size, "%s", name->valuestring);
				goto out;
			}
		}
	}
out:
	isim_catalog_free(cat);
}

static const char *mirror_of(const struct build *b)
{
	return b->mirror ? b->mirror : b->base->mirror;
}

/* Every file under dir (the base's scripts and the files they install),
 * by path and SHA-256, sorted, into k. */
static int hash_tree(struct isim_buf *k, const char *dir, const char *rel, struct isim_error *err)
{
	struct dirent **list = NULL;
	char path[PATH_MAX], sub[PATH_MAX];
	int n, i, ret = 0;

	if (isim_pathf(path, sizeof(path), err, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		return -1;
	n = scandir(path, &list, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0
				       : (isim_error_at(err, path, 0, 0),
					  isim_error_errno(err, ISIM_ERR_CONFIG, errno, "cannot read"));
	for (i = 0; i < n; i++) {
		struct stat st;
		uint8_t d[ISIM_SHA256_BYTES];
		char hex[ISIM_SHA256_HEX];

		if (ret == 0 && list[i]->d_name[0] != '.') {
			if (isim_pathf(sub, sizeof(sub), err, "%s%s%s", rel, *rel ? "/" : "", list[i]->d_name) < 0 ||
			    isim_pathf(path, sizeof(path), err, "%s/%s", dir, sub) < 0) {
				ret = -1;
			} else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
				ret = hash_tree(k, dir, sub, err);
			} else if (isim_sha256_file(path, d, err) < 0) {
				ret = -1;
			} else {
				isim_hex(d, sizeof(d), hex);
				isim_buf_printf(k, "file %s %s\n", sub, hex);
			}
		}
		free(list[i]);
	}
	free(list);
	return ret;
}

/* The cache key: everything that decides what the base tar holds. */
static int cache_key(struct build *b, struct isim_error *err)
{
	struct isim_buf k = { 0 };
	const cJSON *p;
	char dir[PATH_MAX];
	int ret = 0;

	isim_buf_printf(&k, "infrasim base v1\nbase %s:%s\nbase.yaml %s\nmirror %s\nrepo %s\nepoch %lld\n",
			b->base->name, b->base->version, b->base->sha256, mirror_of(b), b->repo ? b->repo : "",
			(long long)b->epoch);
	if (isim_pathf(dir, sizeof(dir), err, "%s/%s", b->bases_dir, b->base->name) < 0 ||
	    hash_tree(&k, dir, "", err) < 0) {
		isim_buf_free(&k);
		return -1;
	}
	cJSON_ArrayForEach (p, b->packages) {
		isim_buf_printf(&k, "package %s\n", p->valuestring);
	}
	if (k.oom || isim_sha256_hex(k.s, k.len, b->base_key) < 0)
		ret = isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	isim_buf_free(&k);
	return ret;
}

/* installed.tsv: NAME TAB VERSION TAB ARCH TAB SHA256, one package a line,
 * as the bootstrap hook writes it. */
static int read_installed(struct build *b, const char *path, struct isim_error *err)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int lineno = 0, ret = -1;

	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0)
		return -1;
	cJSON_Delete(b->installed);
	b->installed = cJSON_CreateArray();
	if (!b->installed)
		goto oom;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *s = line;
		cJSON *o;
		int i;

		lineno++;
		for (i = 0; i < 4; i++) {
			f[i] = strsep(&s, "\t");
			if (!f[i] || !*f[i]) {
				isim_error_at(err, path, lineno, 0);
				isim_error_set(err, ISIM_ERR_INTERNAL, "expected NAME, VERSION, ARCH and SHA256");
				goto out;
			}
		}
		if (s || strlen(f[3]) != 64) {
			isim_error_at(err, path, lineno, 0);
			isim_error_set(err, ISIM_ERR_INTERNAL, "expected NAME, VERSION, ARCH and a SHA-256");
			goto out;
		}
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(b->installed, o) || !cJSON_AddStringToObject(o, "name", f[0]) ||
		    !cJSON_AddStringToObject(o, "version", f[1]) || !cJSON_AddStringToObject(o, "architecture", f[2]) ||
		    !cJSON_AddStringToObject(o, "sha256", f[3]))
			goto oom;
	}
	if (lineno == 0) {
		isim_error_at(err, path, 0, 0);
		isim_error_set(err, ISIM_ERR_INTERNAL, "no installed packages listed");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
out:
	free(text);
	return ret;
}

/* The mirror as mmdebstrap takes it: a URL as it is, a local folder as
 * file://. */
static int mirror_url(const char *m, char *buf, size_t size, struct isim_error *err)
{
	if (m[0] == '/')
		return isim_pathf(buf, size, err, "file://%s", m);
	return isim_pathf(buf, size, err, "%s", m);
}

/* A failed bootstrap that could not reach its mirror is "unavailable" (69),
 * not a bug. */
static void classify_fetch_error(struct isim_error *err, const char *mirror)
{
	static const char *const signs[] = { "Failed to fetch",
					     "Could not resolve",
					     "Unable to connect",
					     "Temporary failure resolving",
					     "Connection failed",
					     "Could not connect",
					     "does not have a Release file",
					     "unreachable",
					     "cannot download" };
	size_t i;

	for (i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
		if (strstr(err->msg, signs[i])) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "mirror %s is unreachable: %s", mirror, msg);
			return;
		}
	}
}

/* Before minutes of mmdebstrap: does the mirror answer for the suite?
 * Its Release file (Debian's archive layout, dists/SUITE/Release). */
static int probe_mirror(struct build *b, const char *mirror, struct isim_error *err)
{
	char url[PATH_MAX + 64];
	struct stat st;

	if (strncmp(mirror, "file://", 7) == 0) {
		if (isim_pathf(url, sizeof(url), err, "%s/dists/%s/Release", mirror + 7, b->base->version) < 0)
			return -1;
		if (stat(url, &st) < 0)
			return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "mirror %s is unreachable: no %s", mirror,
					      url);
		return 0;
	}
	if (!isim_run_found("curl"))
		return 0;
	if (isim_pathf(url, sizeof(url), err, "%s/dists/%s/Release", mirror, b->base->version) < 0)
		return -1;
	{
		const char *argv[] = { "curl", "-fsS",	     "--retry", "2",  "--connect-timeout",
				       "15",   "--max-time", "60",	"-o", "/dev/null",
				       url,    NULL };
		struct isim_run r = { .argv = argv };
		struct isim_error e;

		isim_error_clear(&e);
		if (isim_run(&r, NULL, &e) < 0) {
			const char *why = strstr(e.msg, "curl: ");

			return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "mirror %s is unreachable: %s", mirror,
					      why ? why + 6 : e.msg);
		}
	}
	return 0;
}

static int bootstrap_debian(struct build *b, const char *tar, const char *installed, struct isim_error *err)
{
	struct isim_buf inc = { 0 }, hook1 = { 0 }, hook2 = { 0 }, repo = { 0 };
	char mirror[PATH_MAX], sde[64], arg_mode[32];
	const char *argv[24];
	const cJSON *p;
	int n = 0, ret = -1;

	if (mirror_url(mirror_of(b), mirror, sizeof(mirror), err) < 0 || probe_mirror(b, mirror, err) < 0)
		return -1;
	isim_buf_puts(&inc, "--include=");
	cJSON_ArrayForEach (p, b->packages) {
		isim_buf_printf(&inc, "%s%s", p == b->packages->child ? "" : ",", p->valuestring);
	}
	if (b->base->customize) {
		isim_buf_puts(&hook1, "--customize-hook=sh ");
		shell_quote(&hook1, b->base->customize);
		isim_buf_puts(&hook1, " \"$1\"");
	}
	/* What was installed, with the archive's SHA-256 of each .deb, while
	 * apt's lists are still there (Debian Policy 5.3: Package, Version,
	 * Architecture, SHA256 fields). */
	isim_buf_puts(&hook2, "--customize-hook=chroot \"$1\" dpkg-query -W -f '${Package}=${Version}\\n' | "
			      "xargs chroot \"$1\" apt-cache show --no-all-versions | "
			      "awk '/^Package:/{p=$2} /^Version:/{v=$2} /^Architecture:/{a=$2} /^SHA256:/{s=$2} "
			      "/^$/{if(p)print p\"\\t\"v\"\\t\"a\"\\t\"s; p=\"\"} "
			      "END{if(p)print p\"\\t\"v\"\\t\"a\"\\t\"s}' | sort -u >");
	shell_quote(&hook2, installed);
	if (isim_pathf(sde, sizeof(sde), err, "SOURCE_DATE_EPOCH=%lld", (long long)b->epoch) < 0 ||
	    isim_pathf(arg_mode, sizeof(arg_mode), err, "--mode=%s", geteuid() == 0 ? "root" : "unshare") < 0)
		goto out;
	argv[n++] = "mmdebstrap";
	argv[n++] = "--quiet";
	argv[n++] = "--variant=minbase";
	argv[n++] = arg_mode;
	argv[n++] = "--format=tar";
	argv[n++] = "--architectures=amd64";
	argv[n++] = inc.s;
	/* Documentation is not what an appliance runs; copyright files stay. */
	argv[n++] = "--dpkgopt=path-exclude=/usr/share/doc/*";
	argv[n++] = "--dpkgopt=path-include=/usr/share/doc/*/copyright";
	argv[n++] = "--dpkgopt=path-exclude=/usr/share/man/*";
	argv[n++] = "--dpkgopt=path-exclude=/usr/share/locale/*";
	argv[n++] = "--dpkgopt=path-exclude=/usr/share/info/*";
	if (hook1.s)
		argv[n++] = hook1.s;
	argv[n++] = hook2.s;
	argv[n++] = b->base->version;
	argv[n++] = tar;
	argv[n++] = mirror;
	if (b->repo) {
		isim_buf_puts(&repo, b->repo);
		argv[n++] = repo.s;
	}
	argv[n] = NULL;
	if (inc.oom || hook1.oom || hook2.oom || repo.oom) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	{
		const char *env[] = { sde, "LC_ALL=C.UTF-8", "TZ=UTC", NULL };
		struct isim_run r = { .argv = argv, .env = env };

		if (isim_run(&r, NULL, err) < 0) {
			classify_fetch_error(err, mirror);
			goto out;
		}
	}
	ret = 0;
out:
	isim_buf_free(&inc);
	isim_buf_free(&hook1);
	isim_buf_free(&hook2);
	isim_buf_free(&repo);
	return ret;
}

static int bootstrap_alpine(struct build *b, const char *tar, const char *installed, struct isim_error *err)
{
	char script[PATH_MAX], sde[64];
	const char **argv;
	const cJSON *p;
	int n = 0, ret;

	if (isim_pathf(script, sizeof(script), err, "%s/alpine/bootstrap.sh", b->bases_dir) < 0 ||
	    isim_pathf(sde, sizeof(sde), err, "SOURCE_DATE_EPOCH=%lld", (long long)b->epoch) < 0)
		return -1;
	argv = calloc((size_t)cJSON_GetArraySize(b->packages) + 12, sizeof(*argv));
	if (!argv)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	argv[n++] = "sh";
	argv[n++] = script;
	argv[n++] = mirror_of(b);
	argv[n++] = b->base->version;
	argv[n++] = tar;
	argv[n++] = installed;
	argv[n++] = b->repo ? b->repo : "";
	argv[n++] = b->base->customize ? b->base->customize : "";
	cJSON_ArrayForEach (p, b->packages) {
		argv[n++] = p->valuestring;
	}
	argv[n] = NULL;
	{
		const char *env[] = { sde, "LC_ALL=C", "TZ=UTC", NULL };
		struct isim_run r = { .argv = argv, .env = env };
		int status = 0;

		ret = isim_run(&r, &status, err);
		/* The script's own exit codes are the contract's. */
		if (ret < 0 && (status == ISIM_EXIT_UNAVAILABLE || status == ISIM_EXIT_DATAERR))
			err->kind = status == ISIM_EXIT_UNAVAILABLE ? ISIM_ERR_UNAVAILABLE : ISIM_ERR_DATA;
	}
	free(argv);
	return ret;
}

/* Into the cache in one rename, copied first beside the final name when
 * the cache is on another file system: a cache entry is whole or absent. */
static int cache_put(const char *from, const char *to, struct isim_error *err)
{
	char tmp[PATH_MAX];

	if (rename(from, to) == 0)
		return 0;
	if (errno != EXDEV) {
		isim_error_at(err, to, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot put in the cache");
	}
	if (isim_pathf(tmp, sizeof(tmp), err, "%s.tmp", to) < 0)
		return -1;
	{
		const char *argv[] = { "cp", from, tmp, NULL };
		struct isim_run r = { .argv = argv };

		if (isim_run(&r, NULL, err) < 0) {
			unlink(tmp);
			return -1;
		}
	}
	if (rename(tmp, to) < 0) {
		unlink(tmp);
		isim_error_at(err, to, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot put in the cache");
	}
	return 0;
}

int build_base(struct build *b, struct isim_error *err)
{
	const cJSON *wanted = cJSON_GetObjectItemCaseSensitive(b->manifest, "packages");
	char dir[PATH_MAX], tmp_tar[PATH_MAX], installed[PATH_MAX], cached_installed[PATH_MAX];
	uint8_t d[ISIM_SHA256_BYTES];
	struct stat st;
	int r;

	if (isim_base_packages(b->base, wanted, b->repo != NULL, &b->packages, err) < 0) {
		if (err->pointer[0]) {
			const cJSON *pkg = cJSON_GetArrayItem(wanted, atoi(strrchr(err->pointer, '/') + 1));
			char feature[128];

			if (!cJSON_IsString(pkg))
				return -1;
			feature_of(b, pkg->valuestring, feature, sizeof(feature));
			isim_error_set(err, ISIM_ERR_DATA,
				       "package '%s' of feature '%s' has no equivalent in %s:%s's archive; give "
				       "a repository that has it with --repo",
				       pkg->valuestring, feature, b->base->name, b->base->version);
			err->pointer[0] = '\0';
			isim_error_at(err, b->comp_dir, 0, 0);
		}
		return -1;
	}
	if (cache_key(b, err) < 0)
		return -1;
	if (isim_pathf(dir, sizeof(dir), err, "%s/bases", b->cache_dir) < 0 ||
	    isim_pathf(b->base_tar, sizeof(b->base_tar), err, "%s/%s-%s-%.16s.tar", dir, b->base->name,
		       b->base->version, b->base_key) < 0 ||
	    isim_pathf(cached_installed, sizeof(cached_installed), err, "%s/%s-%s-%.16s.installed.tsv", dir,
		       b->base->name, b->base->version, b->base_key) < 0)
		return -1;
	if (stat(b->base_tar, &st) == 0 && stat(cached_installed, &st) == 0) {
		build_progress(b, "base %s:%s (cached %s)", b->base->name, b->base->version, b->base_tar);
	} else {
		build_progress(b, "base %s:%s from %s (%d packages; this takes a few minutes)", b->base->name,
			       b->base->version, mirror_of(b), cJSON_GetArraySize(b->packages));
		r = isim_mkdirs(dir, 0755);
		if (r < 0) {
			isim_error_at(err, dir, 0, 0);
			return isim_error_errno(err, r == -EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, -r,
						"cannot create the cache folder");
		}
		/* Made in the working folder, moved into the cache when whole:
		 * an interrupted bootstrap leaves no half base behind. */
		if (isim_pathf(tmp_tar, sizeof(tmp_tar), err, "%s/base.tar", b->work) < 0 ||
		    isim_pathf(installed, sizeof(installed), err, "%s/installed.tsv", b->work) < 0)
			return -1;
		if (strcmp(b->base->bootstrap, "mmdebstrap") == 0)
			r = bootstrap_debian(b, tmp_tar, installed, err);
		else
			r = bootstrap_alpine(b, tmp_tar, installed, err);
		if (r < 0)
			return -1;
		if (read_installed(b, installed, err) < 0)
			return -1;
		if (cache_put(tmp_tar, b->base_tar, err) < 0 || cache_put(installed, cached_installed, err) < 0) {
			unlink(b->base_tar);
			return -1;
		}
	}
	if (read_installed(b, cached_installed, err) < 0)
		return -1;
	if (isim_sha256_file(b->base_tar, d, err) < 0)
		return -1;
	isim_hex(d, sizeof(d), b->base_tar_sha256);
	return 0;
}
