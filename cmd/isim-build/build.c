/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/secret.h"
#include "isim/catalog.h"
#include "isim/compose.h"
#include "isim/file.h"
#include "isim/intoto.h"
#include "isim/json.h"
#include "isim/provenance.h"
#include "isim/run.h"
#include "isim/sde.h"

void build_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [options] PROFILE|DIR\n"
		   "       " PROG " test [options] IMAGE      (or " PROG " --test [options] IMAGE)\n"
		   "\n"
		   "Build a bootable qcow2 image from a composed profile (DIR, as isim-compose\n"
		   "writes it), or from PROFILE, composed first into build/PROFILE. Writes\n"
		   "OUT/PROFILE.qcow2 and OUT/PROFILE.provenance.json (in-toto Statement v1,\n"
		   "SLSA Provenance v1), with --sign-key also its minisign signature\n"
		   "PROFILE.provenance.json.sig and DSSE envelope PROFILE.provenance.dsse.json,\n"
		   "and prints a JSON summary. " PROG " test boots IMAGE and runs its selftests\n"
		   "(see " PROG " test --help). A profile called test is given as a path.\n"
		   "\n"
		   "  -o, --out DIR          output folder (default output)\n"
		   "  -b, --base BASE        build on BASE (debian:bookworm, alpine:3.19) instead of\n"
		   "                         the profile's\n"
		   "  -k, --sign-key KEY     sign the provenance with this minisign secret key\n"
		   "                         (default $ISIM_SIGN_KEY; --key is the same)\n"
		   "      --password-fd N    read the key's password from descriptor N\n"
		   "  -m, --mirror URL|DIR   package mirror (default: the base's)\n"
		   "      --repo LINE        one more package repository (a sources.list line for\n"
		   "                         debian, a repository URL for alpine); packages the\n"
		   "                         base lacks are then looked for there\n"
		   "  -s, --size SIZE        disk size, in bytes or with K, M, G (default: what the\n"
		   "                         files need and a quarter more)\n"
		   "      --cache DIR        base root filesystems (ISIM_CACHE_DIR; default\n"
		   "                         /var/cache/infrasim for root, else\n"
		   "                         ${XDG_CACHE_HOME:-~/.cache}/infrasim); also\n"
		   "                         --cache-dir DIR\n"
		   "  -t, --test             boot the image after building it (as test IMAGE)\n"
		   "  -q, --quiet            print no summary\n"
		   "      --bases-dir DIR    base definitions (ISIM_BASES_DIR)\n"
		   "      --features-dir DIR features folder (ISIM_FEATURES_DIR)\n"
		   "      --profiles-dir DIR profiles folder (ISIM_PROFILES_DIR)\n"
		   "      --schemas-dir DIR  JSON Schemas folder (ISIM_SCHEMAS_DIR; default: built in)\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 built, 1 a selftest failed (--test), 64 usage, 65 bad input,\n"
		   "66 missing input, 69 a program or the mirror is unavailable, 73/74 cannot\n"
		   "write the output, 77 permission denied, 78 bad configuration, 128+N\n"
		   "interrupted by signal N (129, 130, 143); see isim-build(1).\n");
}

void build_progress(struct build *b, const char *fmt, ...)
{
	va_list ap;

	b->step++;
	if (b->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, PROG ": [%d/%d] ", b->step, b->nsteps);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *build_bindir(void)
{
	static char dir[PATH_MAX];
	const char *e = getenv("ISIM_BIN");
	ssize_t n;
	char *slash;

	if (e && *e)
		return e;
	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return strcpy(dir, ".");
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return dir;
}

int build_dep(struct build *b, const char *name, const char *uri, const char *sha256, const char *version)
{
	cJSON *d = cJSON_CreateObject(), *dg;

	if (!d || !cJSON_AddItemToArray(b->deps, d))
		return cJSON_Delete(d), -1;
	if (!cJSON_AddStringToObject(d, "name", name) || (uri && !cJSON_AddStringToObject(d, "uri", uri)) ||
	    !(dg = cJSON_AddObjectToObject(d, "digest")) || !cJSON_AddStringToObject(dg, "sha256", sha256))
		return -1;
	if (version) {
		cJSON *an = cJSON_AddObjectToObject(d, "annotations");

		if (!an || !cJSON_AddStringToObject(an, "version", version))
			return -1;
	}
	return 0;
}

/* "512M", "2G", "1073741824" */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end) {
		switch (*end) {
		case 'K':
		case 'k':
			mul = 1ULL << 10;
			break;
		case 'M':
		case 'm':
			mul = 1ULL << 20;
			break;
		case 'G':
		case 'g':
			mul = 1ULL << 30;
			break;
		default:
			return false;
		}
		if (end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)
			return false;
	}
	if (v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

/* The composed folder must be what its manifest says: every output's
 * SHA-256 as recorded, or it changed since compose. */
static int check_composition(struct build *b, struct isim_error *err)
{
	static const char *const names[] = { "packages.txt", "files.txt", "firewall.nft", "selftests.txt" };
	const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(b->manifest, "outputs");
	char path[PATH_MAX], ptr[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t d[ISIM_SHA256_BYTES];
		char hex[ISIM_SHA256_HEX];
		const cJSON *want;

		want = cJSON_GetObjectItemCaseSensitive(outputs, names[i]);
		if (isim_pathf(path, sizeof(path), err, "%s/manifest.json", b->comp_dir) < 0)
			return -1;
		if (isim_pathf(ptr, sizeof(ptr), err, "/outputs/%s", names[i]) < 0)
			return -1;
		if (!cJSON_IsString(want)) {
			isim_error_at(err, path, 0, 0);
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "expected the SHA-256 of %s", names[i]);
		}
		if (isim_pathf(path, sizeof(path), err, "%s/%s", b->comp_dir, names[i]) < 0)
			return -1;
		if (isim_sha256_file(path, d, err) < 0)
			return -1;
		isim_hex(d, sizeof(d), hex);
		if (strcmp(hex, want->valuestring) != 0) {
			isim_error_at(err, path, 0, 0);
			return isim_error_set(err, ISIM_ERR_DATA,
					      "changed since it was composed (SHA-256 %s, the manifest says %s); "
					      "compose again",
					      hex, want->valuestring);
		}
	}
	return 0;
}

/* PROFILE (a name or a .yaml path) is composed into build/NAME first; a
 * folder holding manifest.json is used as it is. */
static int load_composition(struct build *b, const char *arg, const char *profiles_dir, struct isim_error *err)
{
	struct isim_composition comp = { 0 };
	struct isim_catalog *cat = NULL;
	struct isim_profile *profile = NULL;
	char path[PATH_MAX];
	struct stat st;
	const cJSON *name;
	char *text = NULL;
	size_t len;
	int ret = -1;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (isim_pathf(b->comp_dir, sizeof(b->comp_dir), err, "%s", arg) < 0)
			goto out;
	} else {
		if (isim_path_need_dir(b->features_dir, "features", "--features-dir", "ISIM_FEATURES_DIR", err) < 0 ||
		    isim_catalog_open(&cat, b->features_dir, profiles_dir, b->schemas_dir, err) < 0 ||
		    isim_profile_load(cat, arg, &profile, err) < 0 || isim_compose(cat, profile, &comp, err) < 0)
			goto out;
		if (isim_pathf(b->comp_dir, sizeof(b->comp_dir), err, "build/%s", profile->name) < 0)
			goto out;
		if (isim_composition_write(&comp, b->comp_dir, err) < 0)
			goto out;
	}
	if (isim_pathf(path, sizeof(path), err, "%s/manifest.json", b->comp_dir) < 0)
		goto out;
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0) {
		if (err->kind == ISIM_ERR_NOINPUT)
			isim_error_set(err, ISIM_ERR_NOINPUT, "no manifest.json: not a folder isim-compose wrote");
		goto out;
	}
	if (isim_sha256_hex(text, len, b->manifest_sha256) < 0 ||
	    isim_json_parse(text, len, path, &b->manifest, err) < 0)
		goto out;
	name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->manifest, "profile"), "name");
	if (!cJSON_IsString(name) || !*name->valuestring || strchr(name->valuestring, '/')) {
		isim_error_at(err, path, 0, 0);
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/profile/name", "expected the profile's name");
		goto out;
	}
	b->profile = strdup(name->valuestring);
	if (!b->profile) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (check_composition(b, err) < 0)
		goto out;
	ret = 0;
out:
	free(text);
	isim_composition_free(&comp);
	isim_profile_free(profile);
	isim_catalog_free(cat);
	return ret;
}

static int make_workdir(struct build *b, struct isim_error *err)
{
	int r = isim_mkdirs(b->out_dir, 0755);

	if (r < 0) {
		isim_error_at(err, b->out_dir, 0, 0);
		return isim_error_errno(err, r == -EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, -r,
					"cannot create the output folder");
	}
	if (isim_pathf(b->work, sizeof(b->work), err, "%s/.isim-build.XXXXXX", b->out_dir) < 0)
		return -1;
	if (!mkdtemp(b->work)) {
		int e = errno;

		b->work[0] = '\0';
		isim_error_at(err, b->out_dir, 0, 0);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e,
					"cannot create a working folder");
	}
	if (isim_pathf(b->root, sizeof(b->root), err, "%s/root", b->work) < 0)
		return -1;
	if (mkdir(b->root, 0755) < 0) {
		isim_error_at(err, b->root, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot create");
	}
	return 0;
}

static char *format_json(const cJSON *doc)
{
	return isim_json_text(doc);
}

static int write_work(struct build *b, const char *name, const char *text, char *path, size_t size,
		      struct isim_error *err)
{
	if (isim_pathf(path, size, err, "%s/%s", b->work, name) < 0)
		return -1;
	return isim_file_write_atomic(path, text, strlen(text), 0644, err);
}

/* Move the finished files from the working folder to the output folder:
 * the image, its signatures, and the statement last, so that whoever finds
 * a statement finds what it names. An older build's signatures that this
 * build did not make go, lest they sit beside a statement they do not
 * sign. If a move fails, the files this build moved are removed again. */
static int publish(struct build *b, char names[][PATH_MAX], size_t n, struct isim_error *err)
{
	static const char *const signed_suffixes[] = { ".provenance.json.sig", ".provenance.dsse.json" };
	char from[PATH_MAX], to[PATH_MAX];
	size_t order[4], i, j, k = 0;
	int dfd;

	order[k++] = 0;
	for (i = 2; i < n; i++)
		order[k++] = i;
	order[k++] = 1;
	if (n == 2) {
		for (i = 0; i < 2; i++) {
			if (isim_pathf(to, sizeof(to), err, "%s/%s%s", b->out_dir, b->profile, signed_suffixes[i]) < 0)
				return -1;
			if (unlink(to) < 0 && errno != ENOENT) {
				isim_error_at(err, to, 0, 0);
				return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno,
							"cannot remove an older build's signature");
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (isim_pathf(from, sizeof(from), err, "%s/%s", b->work, names[order[i]]) < 0)
			return -1;
		if (isim_pathf(to, sizeof(to), err, "%s/%s", b->out_dir, names[order[i]]) < 0)
			return -1;
		if (rename(from, to) < 0) {
			int e = errno;

			for (j = 0; j < i; j++) {
				if (isim_pathf(to, sizeof(to), NULL, "%s/%s", b->out_dir, names[order[j]]) < 0)
					continue;
				unlink(to);
			}
			isim_error_at(err, to, 0, 0);
			return isim_error_errno(err, ISIM_ERR_CANTCREATE, e, "cannot put in place");
		}
	}
	dfd = open(b->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int summary(struct build *b, char names[][PATH_MAX], size_t n, const char *stmt_sha256)
{
	cJSON *o = cJSON_CreateObject(), *outs, *pk, *it;
	char path[PATH_MAX];
	size_t i;
	int ret = -1;
	double secs = difftime(time(NULL), b->started);

	if (!o || !cJSON_AddStringToObject(o, "profile", b->profile) ||
	    !cJSON_AddStringToObject(o, "base", b->base_spec_buf) || !(outs = cJSON_AddObjectToObject(o, "outputs")))
		goto out;
	for (i = 0; i < n; i++) {
		cJSON *f = cJSON_AddObjectToObject(outs, names[i]);

		if (isim_pathf(path, sizeof(path), NULL, "%s/%s", b->out_dir, names[i]) < 0)
			goto out;
		if (!f || !cJSON_AddStringToObject(f, "path", path))
			goto out;
		if (i == 0 && (!cJSON_AddStringToObject(f, "sha256", b->image_sha256) ||
			       !cJSON_AddNumberToObject(f, "size", (double)b->image_size)))
			goto out;
		if (i == 1 && !cJSON_AddStringToObject(f, "sha256", stmt_sha256))
			goto out;
	}
	if (!cJSON_AddStringToObject(o, "kernel", b->kver) || !cJSON_AddStringToObject(o, "base_rootfs", b->base_tar) ||
	    !cJSON_AddStringToObject(o, "base_rootfs_sha256", b->base_tar_sha256) ||
	    !(pk = cJSON_AddObjectToObject(o, "packages")))
		goto out;
	cJSON_ArrayForEach (it, b->installed) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(it, "version");

		if (!cJSON_AddStringToObject(pk, nm->valuestring, ver->valuestring))
			goto out;
	}
	if (!cJSON_AddNumberToObject(o, "duration_seconds", secs))
		goto out;
	ret = isim_json_write(stdout, o);
out:
	cJSON_Delete(o);
	return ret;
}

static int run_build(struct build *b, const struct isim_ms_seckey *sk, struct isim_error *err)
{
	char names[4][PATH_MAX], qcow2[PATH_MAX], stmt_path[PATH_MAX], sig_path[PATH_MAX], dsse_path[PATH_MAX];
	char stmt_sha256[ISIM_SHA256_HEX];
	cJSON *stmt = NULL;
	char *text = NULL;
	size_t n = 0;
	int ret = -1;

	b->deps = cJSON_CreateArray();
	if (!b->deps) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (make_workdir(b, err) < 0 || build_base(b, err) < 0 || build_tree(b, err) < 0)
		goto out;
	if (isim_pathf(names[n++], PATH_MAX, err, "%s.qcow2", b->profile) < 0)
		goto out;
	if (isim_pathf(qcow2, sizeof(qcow2), err, "%s/%s", b->work, names[0]) < 0)
		goto out;
	if (build_image(b, qcow2, err) < 0)
		goto out;
	build_progress(b, "provenance");
	if (build_statement(b, &stmt, err) < 0)
		goto out;
	text = format_json(stmt);
	if (!text) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (isim_sha256_hex(text, strlen(text), stmt_sha256) < 0)
		goto out;
	if (isim_pathf(names[n++], PATH_MAX, err, "%s.provenance.json", b->profile) < 0)
		goto out;
	if (write_work(b, names[1], text, stmt_path, sizeof(stmt_path), err) < 0)
		goto out;
	if (sk) {
		const struct isim_intoto_out o = { .path = stmt_path,
						   .sk = sk,
						   .sig_path = sig_path,
						   .dsse_path = dsse_path,
						   .when = b->epoch,
						   .comment = "signature from isim-build" };

		if (isim_pathf(names[n++], PATH_MAX, err, "%s.provenance.json.sig", b->profile) < 0)
			goto out;
		if (isim_pathf(names[n++], PATH_MAX, err, "%s.provenance.dsse.json", b->profile) < 0)
			goto out;
		if (isim_pathf(sig_path, sizeof(sig_path), err, "%s/%s", b->work, names[2]) < 0)
			goto out;
		if (isim_pathf(dsse_path, sizeof(dsse_path), err, "%s/%s", b->work, names[3]) < 0)
			goto out;
		if (isim_intoto_sign(&o, text, err) < 0)
			goto out;
	}
	if (isim_run_interrupted) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "interrupted by signal %d", (int)isim_run_interrupted);
		goto out;
	}
	if (publish(b, names, n, err) < 0)
		goto out;
	if (isim_pathf(b->image, sizeof(b->image), err, "%s/%s", b->out_dir, names[0]) < 0)
		goto out;
	if (!b->quiet && summary(b, names, n, stmt_sha256) < 0) {
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write to stdout");
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(stmt);
	free(text);
	return ret;
}

static void build_free(struct build *b)
{
	if (b->work[0]) {
		/* The tree is root's files: remove it whatever happened. */
		isim_rmtree(b->work);
		b->work[0] = '\0';
	}
	free(b->profile);
	cJSON_Delete(b->manifest);
	cJSON_Delete(b->packages);
	cJSON_Delete(b->installed);
	cJSON_Delete(b->deps);
	isim_base_free(b->base);
}

/* A step that failed because the output's file system filled up (mke2fs,
 * say, failing to write) is an I/O error of ours, not a program's bug. */
static void classify_space(const struct build *b, struct isim_error *err)
{
	struct statvfs sv;
	char msg[sizeof(err->msg)];

	if (isim_run_interrupted || !b->out_dir || statvfs(b->out_dir, &sv) < 0 ||
	    (uint64_t)sv.f_bavail * sv.f_frsize >= 8u << 20)
		return;
	memcpy(msg, err->msg, sizeof(msg));
	isim_error_set(err, ISIM_ERR_IO, "%s (no space left in %s)", msg, b->out_dir);
}

/* The exit status of an interrupted build: 128 + the signal, as a shell
 * reports it. */
static int exit_code(const struct isim_error *err)
{
	if (isim_run_interrupted)
		return 128 + isim_run_interrupted;
	return isim_exit_code(err->kind);
}

/* isim-build [options] PROFILE|DIR, the tool's default command; also
 * isim-build --test, the older spelling of isim-build test. */
int build_main(int argc, char *argv[])
{
	enum {
		OPT_REPO = ISIM_OPT_LOCAL,
	};
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "base", required_argument, NULL, 'b' },
		ISIM_LONGOPTS_KEY,
		{ "mirror", required_argument, NULL, 'm' },
		{ "repo", required_argument, NULL, OPT_REPO },
		{ "size", required_argument, NULL, 's' },
		{ "cache", required_argument, NULL, ISIM_OPT_CACHE_DIR },
		{ "cache-dir", required_argument, NULL, ISIM_OPT_CACHE_DIR },
		{ "test", no_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "bases-dir", required_argument, NULL, ISIM_OPT_BASES_DIR },
		ISIM_LONGOPTS_CATALOG,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_dir_opts dirs = { 0 };
	struct isim_getopt g = { .prog = PROG,
				 .shortopts = "o:b:k:m:s:tqhV",
				 .longopts = opts,
				 .usage = build_usage,
				 .key = &key,
				 .dirs = &dirs };
	struct build b = { 0 };
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	const char *size = NULL, *pdir;
	char bbuf[PATH_MAX], fbuf[PATH_MAX], pbuf[PATH_MAX], cbuf[PATH_MAX];
	int c, i, ret;
	bool test = false;

	isim_error_clear(&err);
	/* --test IMAGE is the test command, with its own options. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--test") == 0 || strcmp(argv[i], "-t") == 0)
			test = true;
	if (test) {
		/* A .qcow2 file is tested (and --help is the test's); a profile
		 * or a composed folder is built first, then its image tested. */
		for (i = 1; i < argc; i++) {
			size_t n = strlen(argv[i]);

			if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
			    (argv[i][0] != '-' && n > 6 && strcmp(argv[i] + n - 6, ".qcow2") == 0))
				return build_test_main(argc, argv);
		}
	}
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'b':
			if (isim_opt_once(PROG, "--base", &b.base_spec, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'm':
			if (isim_opt_once(PROG, "--mirror", &b.mirror, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case OPT_REPO:
			if (isim_opt_once(PROG, "--repo", &b.repo, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 's':
			if (isim_opt_once(PROG, "--size", &size, optarg))
				return ISIM_EXIT_USAGE;
			if (!parse_size(optarg, &b.disk_size) || b.disk_size == 0)
				return isim_bad_value(PROG, "--size", optarg, "a size (512M, 2G, bytes)");
			break;
		case 't':
			test = true;
			break;
		case 'q':
			b.quiet = true;
			break;
		}
	}
	if (optind + 1 != argc)
		return isim_usage_error(
			PROG, optind == argc ? "no PROFILE or DIR given" : "one PROFILE or DIR only, got '%s' too",
			optind < argc ? argv[optind + 1] : "");
	if (isim_key_finish(PROG, &key, false))
		return ISIM_EXIT_USAGE;
	b.out_dir = dirs.out ? dirs.out : "output";
	b.bases_dir = dirs.bases;
	b.features_dir = dirs.features;
	b.schemas_dir = dirs.schemas;
	b.cache_dir = dirs.cache;
	pdir = dirs.profiles;
	b.bases_dir = isim_path_catalog(b.bases_dir, "ISIM_BASES_DIR", "bases", bbuf, sizeof(bbuf));
	b.features_dir = isim_path_catalog(b.features_dir, "ISIM_FEATURES_DIR", "features", fbuf, sizeof(fbuf));
	pdir = isim_path_catalog(pdir, "ISIM_PROFILES_DIR", "profiles", pbuf, sizeof(pbuf));
	b.schemas_dir = isim_path_schemas(b.schemas_dir);
	if (!b.cache_dir) {
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

		int r;

		if (geteuid() == 0)
			r = isim_pathf(cbuf, sizeof(cbuf), &err, "/var/cache/infrasim");
		else if (xdg && *xdg)
			r = isim_pathf(cbuf, sizeof(cbuf), &err, "%s/infrasim", xdg);
		else
			r = isim_pathf(cbuf, sizeof(cbuf), &err, "%s/.cache/infrasim", home ? home : "/tmp");
		if (r < 0)
			goto fail;
		b.cache_dir = isim_path_resolve(NULL, "ISIM_CACHE_DIR", cbuf);
	}
	if (isim_path_need_dir(b.bases_dir, "bases", "--bases-dir", "ISIM_BASES_DIR", &err) < 0)
		goto fail;
	if (geteuid() != 0) {
		isim_error_set(&err, ISIM_ERR_PERM,
			       "building an image needs root: its files keep their owners (root and the "
			       "system's users); run it as root");
		goto fail;
	}
	if (isim_run_catch_signals() < 0) {
		isim_error_errno(&err, ISIM_ERR_INTERNAL, errno, "cannot handle signals");
		goto fail;
	}
	b.started = time(NULL);
	if (isim_sde_now(getenv("SOURCE_DATE_EPOCH"), &b.epoch, &b.epoch_set, &err) < 0)
		goto fail;
	b.nsteps = 8;
	if (load_composition(&b, argv[optind], pdir, &err) < 0)
		goto fail;
	if (!b.base_spec) {
		const cJSON *base = cJSON_GetObjectItemCaseSensitive(b.manifest, "base");

		if (!cJSON_IsString(base)) {
			isim_error_at(&err, b.comp_dir, 0, 0);
			isim_error_at_pointer(&err, ISIM_ERR_DATA, "/base", "expected the base's name");
			goto fail;
		}
		b.base_spec = base->valuestring;
	}
	if (snprintf(b.base_spec_buf, sizeof(b.base_spec_buf), "%s", b.base_spec) >= (int)sizeof(b.base_spec_buf)) {
		isim_error_set(&err, ISIM_ERR_USAGE, "base '%.64s...' is too long", b.base_spec);
		goto fail;
	}
	if (isim_base_load(b.bases_dir, b.schemas_dir, b.base_spec, &b.base, &err) < 0)
		goto fail;
	/* The key before the build: a wrong password should not cost one. */
	if (key.path &&
	    (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0))
		goto fail;
	if (run_build(&b, sk, &err) < 0)
		goto fail;
	build_free(&b);
	ret = isim_close_stdout(PROG);
	if (ret == 0 && test)
		ret = build_test_image(b.image, sk, b.quiet);
	isim_ms_seckey_free(sk);
	return ret;
fail:
	classify_space(&b, &err);
	isim_print_error(PROG, &err);
	build_free(&b);
	isim_ms_seckey_free(sk);
	return exit_code(&err);
}
