/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "isim/archive.h"
#include "isim/buf.h"
#include "isim/compose.h"
#include "isim/disk.h"
#include "isim/file.h"
#include "isim/run.h"

#define MIB (1024u * 1024u)
#define MAX_MODULES 1024
#define SYSLINUX_MBR "/usr/lib/syslinux/mbr/mbr.bin"

static int in_root(const struct build *b, const char *abs, char *buf, size_t size, struct isim_error *err)
{
	if (abs[0] != '/' || strstr(abs, "/../") || snprintf(buf, size, "%s%s", b->root, abs) >= (int)size)
		return isim_error_set(err, ISIM_ERR_DATA, "'%s' is not a usable absolute path", abs);
	return 0;
}

static int mkparents(const char *path, struct isim_error *err)
{
	char dir[PATH_MAX];
	char *slash;
	int r;

	if (isim_pathf(dir, sizeof(dir), err, "%s", path) < 0)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	r = isim_mkdirs(dir, 0755);
	if (r < 0) {
		isim_error_at(err, dir, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, -r, "cannot create directory");
	}
	return 0;
}

/* Write data at path inside the tree, owned by root, with mode; an older
 * file (or symlink) there is replaced, never followed. */
static int put_file(const char *path, const void *data, size_t len, mode_t mode, struct isim_error *err)
{
	const char *p = data;
	int fd;

	if (mkparents(path, err) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot replace");
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot create");
	}
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			isim_error_at(err, path, 0, 0);
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write");
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0) {
		isim_error_at(err, path, 0, 0);
		isim_error_errno(err, ISIM_ERR_PERM, errno, "cannot set owner and mode");
		close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write");
	}
	return 0;
}

static int copy_in(const char *src, const char *dst, mode_t mode, char sha256[static ISIM_SHA256_HEX],
		   struct isim_error *err)
{
	char *data = NULL;
	size_t len;
	int ret;

	if (isim_file_read(src, 1u << 30, &data, &len, err) < 0)
		return -1;
	ret = isim_sha256_hex(data, len, sha256);
	if (ret == 0)
		ret = put_file(dst, data, len, mode, err);
	free(data);
	return ret;
}

/* files.txt: "MODE SHA256 DESTINATION SOURCE", SOURCE relative to the
 * features folder (isim-formats(5)). Each source must still have the
 * digest it had when composed. */
static int overlay_files(struct build *b, struct isim_error *err)
{
	char path[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], name[PATH_MAX + 16];
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int lineno = 0, ret = -1;

	if (isim_pathf(path, sizeof(path), err, "%s/files.txt", b->comp_dir) < 0)
		return -1;
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct isim_files_entry f;
		char got[ISIM_SHA256_HEX];

		lineno++;
		if (isim_files_line(line, &f, err) < 0) {
			isim_error_at(err, path, lineno, 1);
			goto out;
		}
		if (isim_pathf(src, sizeof(src), err, "%s/%s", b->features_dir, f.source) < 0)
			goto out;
		if (in_root(b, f.destination, dst, sizeof(dst), err) < 0) {
			isim_error_at(err, path, lineno, 0);
			goto out;
		}
		if (copy_in(src, dst, (mode_t)f.mode, got, err) < 0)
			goto out;
		if (strcmp(got, f.sha256) != 0) {
			isim_error_at(err, src, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA,
				       "changed since it was composed (SHA-256 %s, %s:%d says %s); compose again", got,
				       path, lineno, f.sha256);
			goto out;
		}
		if (isim_pathf(name, sizeof(name), err, "features/%s", f.source) < 0)
			goto out;
		if (build_dep(b, name, NULL, got, NULL) < 0) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	free(text);
	return ret;
}

/* /etc/runlevels/default/S -> /etc/init.d/S for each of the manifest's
 * services, as `rc-update add S default` does. */
static int enable_services(struct build *b, struct isim_error *err)
{
	const cJSON *services = cJSON_GetObjectItemCaseSensitive(b->manifest, "services"), *s;
	char script[PATH_MAX], link[PATH_MAX], target[PATH_MAX + 16];
	int i = 0;

	cJSON_ArrayForEach (s, services) {
		struct stat st;

		if (!cJSON_IsString(s) || !*s->valuestring || strchr(s->valuestring, '/')) {
			char ptr[64];

			snprintf(ptr, sizeof(ptr), "/services/%d", i);
			isim_error_at(err, b->comp_dir, 0, 0);
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "expected a service name");
		}
		if (isim_pathf(script, sizeof(script), err, "%s/etc/init.d/%s", b->root, s->valuestring) < 0)
			return -1;
		if (lstat(script, &st) < 0) {
			char ptr[64];

			snprintf(ptr, sizeof(ptr), "/services/%d", i);
			isim_error_at(err, b->comp_dir, 0, 0);
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr,
						     "service '%s' has no /etc/init.d/%s on base %s", s->valuestring,
						     s->valuestring, b->base_spec_buf);
		}
		if (isim_pathf(link, sizeof(link), err, "%s/etc/runlevels/default/%s", b->root, s->valuestring) < 0)
			return -1;
		if (isim_pathf(target, sizeof(target), err, "/etc/init.d/%s", s->valuestring) < 0)
			return -1;
		if (mkparents(link, err) < 0)
			return -1;
		unlink(link);
		if (symlink(target, link) < 0) {
			isim_error_at(err, link, 0, 0);
			return isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot create");
		}
		i++;
	}
	return 0;
}

static int install_composed(struct build *b, const char *name, const char *dest, struct isim_error *err)
{
	char src[PATH_MAX], dst[PATH_MAX], sha[ISIM_SHA256_HEX], dep[64];

	if (isim_pathf(src, sizeof(src), err, "%s/%s", b->comp_dir, name) < 0)
		return -1;
	if (in_root(b, dest, dst, sizeof(dst), err) < 0 || copy_in(src, dst, 0644, sha, err) < 0)
		return -1;
	if (isim_pathf(dep, sizeof(dep), err, "composed/%s", name) < 0)
		return -1;
	return build_dep(b, dep, NULL, sha, NULL) < 0 ? isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory") : 0;
}

/* The tools the features call inside the guest (isim-verify to check
 * descriptors, isim-wgadmit to admit peers, isim-sign for attestations,
 * isim-rendezvous to find peers). */
static int install_tools(struct build *b, struct isim_error *err)
{
	static const char *const tools[] = { "isim-verify", "isim-sign", "isim-wgadmit", "isim-rendezvous" };
	char src[PATH_MAX], dst[PATH_MAX], sha[ISIM_SHA256_HEX], dep[64];
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (isim_pathf(src, sizeof(src), err, "%s/%s", build_bindir(), tools[i]) < 0)
			return -1;
		if (isim_pathf(dst, sizeof(dst), err, "%s/usr/local/bin/%s", b->root, tools[i]) < 0)
			return -1;
		if (copy_in(src, dst, 0755, sha, err) < 0)
			return -1;
		if (isim_pathf(dep, sizeof(dep), err, "tools/%s", tools[i]) < 0)
			return -1;
		if (build_dep(b, dep, NULL, sha, ISIM_VERSION) < 0)
			return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	return 0;
}

int build_tree(struct build *b, struct isim_error *err)
{
	build_progress(b, "unpack the base into the working folder");
	if (isim_tar_extract(b->base_tar, b->root, err) < 0)
		return -1;
	build_progress(b, "apply the overlay of %s", b->profile);
	if (overlay_files(b, err) < 0 || install_composed(b, "manifest.json", "/etc/infrasim/manifest.json", err) < 0 ||
	    install_composed(b, "firewall.nft", "/etc/infrasim/firewall.nft", err) < 0 ||
	    install_composed(b, "selftests.txt", "/etc/infrasim/selftests.txt", err) < 0 || install_tools(b, err) < 0 ||
	    enable_services(b, err) < 0)
		return -1;
	return 0;
}

/* ---- the pinned tree: times clamped, sizes counted ------------------- */

static struct {
	struct build *b;
	struct isim_buf ctime; /* debugfs commands */
	size_t prefix;
	int error;
} walk;

/* Clamp every time to SOURCE_DATE_EPOCH (reproducible-builds.org's
 * "clamping"), atime too, and note the path for debugfs, which must set
 * ctime: mke2fs -d copies it from the source, and no system call sets it.
 * (crtime it takes from E2FSPROGS_FAKE_TIME; nothing reads the tree
 * between here and mke2fs, which takes each file's atime before reading
 * it.) */
static int pin(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct timespec ts[2];
	const char *rel = path + walk.prefix;

	(void)flag;
	(void)ftw;
	walk.b->root_inodes++;
	walk.b->root_bytes += (uint64_t)st->st_blocks * 512u;
	ts[1] = st->st_mtim;
	if (ts[1].tv_sec > walk.b->epoch || (ts[1].tv_sec == walk.b->epoch && ts[1].tv_nsec)) {
		ts[1].tv_sec = walk.b->epoch;
		ts[1].tv_nsec = 0;
	}
	ts[0] = ts[1];
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0) {
		walk.error = errno;
		return 1;
	}
	if (*rel) {
		/* debugfs reads a path with spaces in double quotes. */
		if (strpbrk(rel, "\"\n")) {
			walk.error = EINVAL;
			return 1;
		}
		isim_buf_printf(&walk.ctime, "set_inode_field \"%s\" ctime @%lld\n", rel, (long long)walk.b->epoch);
	}
	return 0;
}

static int pin_tree(struct build *b, char **script, struct isim_error *err)
{
	memset(&walk, 0, sizeof(walk));
	walk.b = b;
	walk.prefix = strlen(b->root);
	b->root_inodes = 0;
	b->root_bytes = 0;
	/* Depth first, so a directory's time is set after its entries. */
	if (nftw(b->root, pin, 64, FTW_PHYS | FTW_DEPTH) != 0) {
		isim_buf_free(&walk.ctime);
		isim_error_at(err, b->root, 0, 0);
		return isim_error_errno(err, ISIM_ERR_IO, walk.error ? walk.error : errno,
					"cannot pin the tree's times");
	}
	if (walk.ctime.oom) {
		isim_buf_free(&walk.ctime);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	*script = isim_buf_take(&walk.ctime);
	return 0;
}

static int run_quiet(const char *const *argv, const char *const *env, struct isim_error *err)
{
	struct isim_run r = { .argv = argv, .env = env };

	return isim_run(&r, NULL, err);
}

/* ---- kernel and initramfs ------------------------------------------- */

static int find_kernel(struct build *b, char *vmlinuz, size_t size, struct isim_error *err)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (isim_pathf(dir, sizeof(dir), err, "%s/boot", b->root) < 0)
		return -1;
	d = opendir(dir);
	if (!d) {
		isim_error_at(err, dir, 0, 0);
		return isim_error_errno(err, ISIM_ERR_DATA, errno, "the base has no /boot");
	}
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vmlinuz-", 8) != 0)
			continue;
		if (n++ == 0 && (isim_pathf(b->kver, sizeof(b->kver), err, "%s", e->d_name + 8) < 0 ||
				 isim_pathf(vmlinuz, size, err, "%s/%s", dir, e->d_name) < 0)) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (n != 1) {
		isim_error_at(err, dir, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA, "expected one kernel (vmlinuz-*) in the base, found %d", n);
	}
	return 0;
}

/* A module's name as modprobe knows it: the file name without .ko and its
 * compression suffix, '-' read as '_'. */
static void module_name(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	char *ko, *p;

	/* A name too long for buf matches no module, rather than a shorter one. */
	if (snprintf(buf, size, "%s", base ? base + 1 : path) >= (int)size) {
		buf[0] = '\0';
		return;
	}
	ko = strstr(buf, ".ko");
	if (ko)
		*ko = '\0';
	for (p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

struct moddb {
	char *text;  /* modules.dep, cut into lines */
	char **line; /* "path: dep dep" */
	size_t n;
	char *builtin;
	char **order; /* paths to load, in order */
	size_t norder;
};

static const char *mod_line(const struct moddb *db, const char *name)
{
	char nm[256];
	size_t i;

	for (i = 0; i < db->n; i++) {
		const char *colon = strchr(db->line[i], ':');
		char path[PATH_MAX];

		if (!colon || isim_pathf(path, sizeof(path), NULL, "%.*s", (int)(colon - db->line[i]), db->line[i]) < 0)
			continue;
		module_name(path, nm, sizeof(nm));
		if (strcmp(nm, name) == 0)
			return db->line[i];
	}
	return NULL;
}

static bool is_builtin(const struct moddb *db, const char *name)
{
	const char *p = db->builtin;
	char nm[256];

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		char path[PATH_MAX];

		if (isim_pathf(path, sizeof(path), NULL, "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p) < 0)
			path[0] = '\0';
		module_name(path, nm, sizeof(nm));
		if (strcmp(nm, name) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static bool ordered(const struct moddb *db, const char *path)
{
	size_t i;

	for (i = 0; i < db->norder; i++)
		if (strcmp(db->order[i], path) == 0)
			return true;
	return false;
}

/* Dependencies before what needs them: modules.dep lists a module's whole
 * closure, the ones to load first last (modprobe loads them in reverse). */
static int mod_add(struct moddb *db, const char *name, struct isim_error *err)
{
	const char *line;
	char *copy, *colon, *tok, *save = NULL, *deps[256];
	size_t nd = 0;

	if (is_builtin(db, name))
		return 0;
	line = mod_line(db, name);
	if (!line)
		return isim_error_set(err, ISIM_ERR_DATA, "kernel module '%s' is not in modules.dep", name);
	copy = strdup(line);
	if (!copy)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	colon = strchr(copy, ':');
	*colon = '\0';
	for (tok = strtok_r(colon + 1, " ", &save); tok && nd < 256; tok = strtok_r(NULL, " ", &save))
		deps[nd++] = tok;
	if (db->norder + nd + 1 > MAX_MODULES) {
		free(copy);
		return isim_error_set(err, ISIM_ERR_DATA, "more than %d kernel modules for the initramfs", MAX_MODULES);
	}
	while (nd--) {
		if (!ordered(db, deps[nd]) && !(db->order[db->norder++] = strdup(deps[nd])))
			goto oom;
	}
	if (!ordered(db, copy) && !(db->order[db->norder++] = strdup(copy)))
		goto oom;
	free(copy);
	return 0;
oom:
	free(copy);
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

static void moddb_free(struct moddb *db)
{
	size_t i;

	for (i = 0; i < db->norder; i++)
		free(db->order[i]);
	free(db->order);
	free(db->line);
	free(db->text);
	free(db->builtin);
}

/* A static busybox: an ELF with no program interpreter. */
static int check_static(const char *path, struct isim_error *err)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), i, ret = -1;

	if (fd < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_DATA, errno, "the base has no busybox for the initramfs");
	}
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		isim_error_at(err, path, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "not a 64-bit ELF program");
		goto out;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph)) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "truncated ELF program headers");
			goto out;
		}
		if (ph.p_type == PT_INTERP) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA,
				       "busybox is dynamically linked; the initramfs needs a static one "
				       "(busybox-static)");
			goto out;
		}
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int make_initramfs(struct build *b, const char *out, struct isim_error *err)
{
	struct moddb db = { 0 };
	struct isim_cpio *c = NULL;
	struct isim_buf order = { 0 };
	char path[PATH_MAX], name[PATH_MAX], nm[256];
	const cJSON *m;
	size_t len, i;
	int ret = -1;

	if (isim_pathf(path, sizeof(path), err, "%s/lib/modules/%s/modules.dep", b->root, b->kver) < 0)
		goto out;
	if (isim_file_read(path, 64u << 20, &db.text, &len, err) < 0)
		goto out;
	for (i = 0; i < len; i++)
		if (db.text[i] == '\n')
			db.n++;
	db.line = calloc(db.n + 1, sizeof(*db.line));
	db.order = calloc(MAX_MODULES, sizeof(*db.order));
	if (!db.line || !db.order) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	{
		char *save = NULL, *l;

		db.n = 0;
		for (l = strtok_r(db.text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			db.line[db.n++] = l;
	}
	if (isim_pathf(path, sizeof(path), err, "%s/lib/modules/%s/modules.builtin", b->root, b->kver) < 0)
		goto out;
	if (isim_file_read(path, 16u << 20, &db.builtin, &len, err) < 0)
		goto out;
	cJSON_ArrayForEach (m, b->base->modules) {
		if (mod_add(&db, m->valuestring, err) < 0) {
			isim_error_at(err, b->base->yaml_path, 0, 0);
			goto out;
		}
	}
	if (isim_pathf(path, sizeof(path), err, "%s%s", b->root, b->base->busybox) < 0)
		goto out;
	if (check_static(path, err) < 0)
		goto out;
	if (isim_cpio_open(&c, out, b->epoch, err) < 0)
		goto out;
	{
		static const char *const dirs[] = {
			"bin", "dev", "proc", "sys", "run", "newroot", "lib", "lib/modules"
		};

		for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			if (isim_cpio_dir(c, dirs[i], 0755, err) < 0)
				goto out;
	}
	if (isim_cpio_file(c, "bin/busybox", 0755, path, err) < 0)
		goto out;
	if (isim_cpio_chardev(c, "dev/console", 0600, 5, 1, err) < 0)
		goto out;
	if (isim_cpio_file(c, "init", 0755, b->base->initramfs_init, err) < 0)
		goto out;
	for (i = 0; i < db.norder; i++) {
		module_name(db.order[i], nm, sizeof(nm));
		if (isim_pathf(path, sizeof(path), err, "%s/lib/modules/%s/%s", b->root, b->kver, db.order[i]) < 0)
			goto out;
		if (isim_pathf(name, sizeof(name), err, "lib/modules/%s.ko", nm) < 0)
			goto out;
		if (isim_cpio_file(c, name, 0644, path, err) < 0)
			goto out;
		isim_buf_printf(&order, "%s.ko\n", nm);
	}
	if (order.oom) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (isim_cpio_data(c, "lib/modules/load.order", 0644, order.s ? order.s : "", order.len, err) < 0)
		goto out;
	ret = isim_cpio_close(c, err);
	c = NULL;
out:
	isim_cpio_abort(c);
	isim_buf_free(&order);
	moddb_free(&db);
	return ret;
}

/* ---- file systems and the disk ---------------------------------------- */

/* A UUID (RFC 9562 version 8, custom) made from the build's inputs, so
 * that the same inputs give the same file system identity. */
static void derived_uuid(const struct build *b, const char *what, char out[37])
{
	char text[512], hex[ISIM_SHA256_HEX];
	uint8_t d[ISIM_SHA256_BYTES];

	snprintf(text, sizeof(text), "%s %s %s", what, b->manifest_sha256, b->base_key);
	if (isim_sha256(text, strlen(text), d) < 0)
		memset(d, 0, sizeof(d));
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x80);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	isim_hex(d, 16, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static int make_rootfs(struct build *b, const char *img, uint64_t size, const char *script, struct isim_error *err)
{
	char uuid[37], seed[37], ext[128], nino[32], sz[32], fake[64], sde[64], cmds[PATH_MAX];
	const char *env[4];

	derived_uuid(b, "root", uuid);
	derived_uuid(b, "hash_seed", seed);
	if (isim_pathf(ext, sizeof(ext), err, "hash_seed=%s,root_owner=0:0", seed) < 0)
		return -1;
	if (isim_pathf(nino, sizeof(nino), err, "%llu",
		       (unsigned long long)(b->root_inodes + b->root_inodes / 4 + 4096)) < 0)
		return -1;
	if (isim_pathf(sz, sizeof(sz), err, "%lluk", (unsigned long long)(size / 1024)) < 0)
		return -1;
	if (isim_pathf(fake, sizeof(fake), err, "E2FSPROGS_FAKE_TIME=%lld", (long long)b->epoch) < 0)
		return -1;
	if (isim_pathf(sde, sizeof(sde), err, "SOURCE_DATE_EPOCH=%lld", (long long)b->epoch) < 0)
		return -1;
	env[0] = fake;
	env[1] = sde;
	env[2] = "MKE2FS_CONFIG=/etc/mke2fs.conf";
	env[3] = NULL;
	{
		const char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-L", "root",  "-U", uuid, "-E",
				       ext,	 "-m", "0",  "-N", nino,   "-d", b->root, img,	sz,   NULL };

		if (run_quiet(argv, env, err) < 0)
			return -1;
	}
	if (isim_pathf(cmds, sizeof(cmds), err, "%s/ctime.debugfs", b->work) < 0)
		return -1;
	if (isim_file_write_atomic(cmds, script, strlen(script), 0644, err) < 0)
		return -1;
	{
		const char *argv[] = { "debugfs", "-w", "-f", cmds, img, NULL };

		if (run_quiet(argv, env, err) < 0)
			return -1;
	}
	{
		const char *argv[] = { "e2fsck", "-fn", img, NULL };

		if (run_quiet(argv, env, err) < 0)
			return -1;
	}
	return 0;
}

static int make_boot(struct build *b, const char *img, uint64_t size, const char *vmlinuz, const char *initrd,
		     struct isim_error *err)
{
	char cfg_path[PATH_MAX], kernel[PATH_MAX], sde[64], serial[16], *cfg = NULL;
	const char *env[3];
	struct timespec ts[2] = { { .tv_sec = b->epoch }, { .tv_sec = b->epoch } };
	uint8_t d[ISIM_SHA256_BYTES];
	int fd, ret = -1;

	/* syslinux.cfg(5): the serial console first, no prompt, no wait. */
	if (asprintf(&cfg,
		     "SERIAL 0 115200\nPROMPT 0\nTIMEOUT 0\nDEFAULT infrasim\nLABEL infrasim\n"
		     "  KERNEL /vmlinuz\n  INITRD /initrd.gz\n  APPEND %s\n",
		     b->base->cmdline) < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_pathf(cfg_path, sizeof(cfg_path), err, "%s/syslinux.cfg", b->work) < 0)
		goto out;
	if (isim_pathf(kernel, sizeof(kernel), err, "%s", vmlinuz) < 0)
		goto out;
	if (isim_file_write_atomic(cfg_path, cfg, strlen(cfg), 0644, err) < 0)
		goto out;
	if (utimensat(AT_FDCWD, cfg_path, ts, 0) < 0 || utimensat(AT_FDCWD, kernel, ts, 0) < 0 ||
	    utimensat(AT_FDCWD, initrd, ts, 0) < 0) {
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot set the boot files' times");
		goto out;
	}
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		isim_error_at(err, img, 0, 0);
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot create");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (isim_sha256(b->base_key, strlen(b->base_key), d) < 0)
		goto out;
	snprintf(serial, sizeof(serial), "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
	if (isim_pathf(sde, sizeof(sde), err, "SOURCE_DATE_EPOCH=%lld", (long long)b->epoch) < 0)
		goto out;
	env[0] = sde;
	env[1] = "MTOOLS_SKIP_CHECK=1";
	env[2] = NULL;
	{
		const char *argv[] = { "mformat", "-i", img, "-N", serial, "-v", "BOOT", "::", NULL };

		if (run_quiet(argv, env, err) < 0)
			goto out;
	}
	{
		const char *argv[] = { "mcopy", "-m", "-i", img, kernel, initrd, cfg_path, "::/", NULL };

		if (run_quiet(argv, env, err) < 0)
			goto out;
	}
	{
		const char *argv[] = { "syslinux", "--install", img, NULL };

		if (run_quiet(argv, env, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(cfg);
	return ret;
}

static int make_disk(struct build *b, const char *raw, const char *boot, uint64_t boot_size, const char *root,
		     uint64_t root_size, struct isim_error *err)
{
	uint8_t mbr[ISIM_SECTOR], code[ISIM_MBR_BOOTCODE];
	struct isim_mbr_part parts[2];
	uint8_t d[ISIM_SHA256_BYTES];
	uint64_t total = MIB + boot_size + root_size;
	char sha[ISIM_SHA256_HEX];
	int fd = -1, cfd, ret = -1;
	ssize_t n;

	cfd = open(SYSLINUX_MBR, O_RDONLY | O_CLOEXEC);
	if (cfd < 0) {
		isim_error_at(err, SYSLINUX_MBR, 0, 0);
		return isim_error_errno(err, ISIM_ERR_UNAVAILABLE, errno,
					"syslinux's boot record is missing (install syslinux-common)");
	}
	n = read(cfd, code, sizeof(code));
	close(cfd);
	if (n <= 0) {
		isim_error_at(err, SYSLINUX_MBR, 0, 0);
		return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "cannot read syslinux's boot record");
	}
	if (isim_sha256(code, (size_t)n, d) < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "hashing failed");
	isim_hex(d, sizeof(d), sha);
	if (build_dep(b, "syslinux/mbr.bin", "file://" SYSLINUX_MBR, sha, NULL) < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	parts[0] = (struct isim_mbr_part){ .start = MIB / ISIM_SECTOR,
					   .sectors = (uint32_t)(boot_size / ISIM_SECTOR),
					   .type = 0x06,
					   .bootable = true };
	parts[1] = (struct isim_mbr_part){ .start = (uint32_t)((MIB + boot_size) / ISIM_SECTOR),
					   .sectors = (uint32_t)(root_size / ISIM_SECTOR),
					   .type = 0x83 };
	if (isim_mbr_build(mbr, code, (size_t)n, (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | d[2] << 8 | d[3] | 1u,
			   parts, 2, err) < 0)
		return -1;
	fd = open(raw, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		isim_error_at(err, raw, 0, 0);
		return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot create");
	}
	if (ftruncate(fd, (off_t)total) < 0 || pwrite(fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr)) {
		isim_error_at(err, raw, 0, 0);
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write");
		goto out;
	}
	if (isim_copy_sparse(fd, raw, MIB, boot, err) < 0 || isim_copy_sparse(fd, raw, MIB + boot_size, root, err) < 0)
		goto out;
	if (fsync(fd) < 0) {
		isim_error_at(err, raw, 0, 0);
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write");
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static uint64_t round_mib(uint64_t v)
{
	return (v + MIB - 1) / MIB * MIB;
}

int build_image(struct build *b, const char *qcow2, struct isim_error *err)
{
	char vmlinuz[PATH_MAX], initrd[PATH_MAX], rootimg[PATH_MAX], bootimg[PATH_MAX], raw[PATH_MAX];
	char *script = NULL;
	struct stat sk, si;
	uint64_t boot_size, root_size, need;
	int ret = -1;

	build_progress(b, "initramfs");
	if (find_kernel(b, vmlinuz, sizeof(vmlinuz), err) < 0)
		goto out;
	if (isim_pathf(initrd, sizeof(initrd), err, "%s/initrd.gz", b->work) < 0)
		goto out;
	if (make_initramfs(b, initrd, err) < 0)
		goto out;
	{
		/* The boot partition's copy: the tree goes once in root.img. */
		char copy[PATH_MAX];
		const char *argv[] = { "cp", vmlinuz, copy, NULL };

		if (isim_pathf(copy, sizeof(copy), err, "%s/vmlinuz", b->work) < 0)
			goto out;
		if (run_quiet(argv, NULL, err) < 0)
			goto out;
		if (isim_pathf(vmlinuz, sizeof(vmlinuz), err, "%s", copy) < 0)
			goto out;
	}
	build_progress(b, "root file system (ext4, mke2fs -d)");
	if (pin_tree(b, &script, err) < 0)
		goto out;
	if (stat(vmlinuz, &sk) < 0 || stat(initrd, &si) < 0) {
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read the kernel and initramfs");
		goto out;
	}
	/* FAT16 wants at least 16 MiB; leave room for a kernel update. */
	boot_size = round_mib(((uint64_t)sk.st_size + (uint64_t)si.st_size) * 2 + 4 * MIB);
	if (boot_size < 32 * MIB)
		boot_size = 32 * MIB;
	/* ext4's own metadata (inode tables, 256 bytes an inode, bitmaps)
	 * and a quarter free. */
	root_size = round_mib(b->root_bytes + b->root_bytes / 4 + (b->root_inodes + 4096) * 320 + 32 * MIB);
	need = MIB + boot_size + root_size;
	if (b->disk_size) {
		if (b->disk_size < need) {
			isim_error_set(err, ISIM_ERR_DATA,
				       "--size %llu MiB is too small: the image needs at least %llu MiB",
				       (unsigned long long)(b->disk_size / MIB), (unsigned long long)(need / MIB));
			goto out;
		}
		root_size = (b->disk_size - MIB - boot_size) / MIB * MIB;
	}
	if (isim_pathf(rootimg, sizeof(rootimg), err, "%s/root.img", b->work) < 0)
		goto out;
	if (make_rootfs(b, rootimg, root_size, script, err) < 0)
		goto out;
	/* The tree is in root.img now; its space is better free. */
	if (isim_rmtree(b->root) < 0) {
		isim_error_at(err, b->root, 0, 0);
		isim_error_set(err, ISIM_ERR_IO, "cannot remove the working tree");
		goto out;
	}
	build_progress(b, "boot partition (FAT, syslinux)");
	if (isim_pathf(bootimg, sizeof(bootimg), err, "%s/boot.img", b->work) < 0)
		goto out;
	if (make_boot(b, bootimg, boot_size, vmlinuz, initrd, err) < 0)
		goto out;
	build_progress(b, "disk (MBR) and qcow2");
	if (isim_pathf(raw, sizeof(raw), err, "%s/disk.raw", b->work) < 0)
		goto out;
	if (make_disk(b, raw, bootimg, boot_size, rootimg, root_size, err) < 0)
		goto out;
	unlink(rootimg);
	unlink(bootimg);
	{
		const char *argv[] = {
			"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", "-c", raw, qcow2, NULL
		};

		if (run_quiet(argv, NULL, err) < 0)
			goto out;
	}
	unlink(raw);
	{
		const char *argv[] = { "qemu-img", "check", "-q", "-f", "qcow2", qcow2, NULL };

		if (run_quiet(argv, NULL, err) < 0)
			goto out;
	}
	{
		uint8_t d[ISIM_SHA256_BYTES];
		struct stat st;

		if (isim_sha256_file(qcow2, d, err) < 0 || stat(qcow2, &st) < 0)
			goto out;
		isim_hex(d, sizeof(d), b->image_sha256);
		b->image_size = (uint64_t)st.st_size;
	}
	ret = 0;
out:
	free(script);
	return ret;
}
