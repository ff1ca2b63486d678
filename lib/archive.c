/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/archive.h"
#include "isim/hash.h"

struct isim_cpio {
	struct archive *a;
	char *path;
	time_t mtime;
	la_int64_t ino;
};

static int archive_fail(struct archive *a, const char *path, enum isim_err kind, const char *what,
			struct isim_error *err)
{
	const char *s = archive_error_string(a);

	isim_error_at(err, path, 0, 0);
	return isim_error_set(err, kind, "%s: %s", what, s ? s : "unknown libarchive error");
}

/* A file that opens but is not an archive is bad data, not a missing one. */
static enum isim_err open_code(struct archive *a)
{
	int e = archive_errno(a);

	return e == ENOENT || e == EACCES || e == ENOTDIR || e == EISDIR ? ISIM_ERR_NOINPUT : ISIM_ERR_DATA;
}

/* A new archive handle (for reading or writing) and a copy of the path
 * messages name it by; false, with neither, when out of memory. */
static bool handle_init(struct archive **a, char **name, const char *path, bool reading)
{
	*name = strdup(path);
	*a = *name ? (reading ? archive_read_new() : archive_write_new()) : NULL;
	if (*a)
		return true;
	free(*name);
	*name = NULL;
	return false;
}

int isim_cpio_open(struct isim_cpio **out, const char *path, time_t mtime, struct isim_error *err)
{
	struct isim_cpio *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !handle_init(&c->a, &c->path, path, false)) {
		free(c);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	c->mtime = mtime;
	if (archive_write_set_format_cpio_newc(c->a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(c->a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(c->a, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	    /* No time in the gzip header (RFC 1952 MTIME 0). */
	    archive_write_set_filter_option(c->a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(c->a, 1) != ARCHIVE_OK) {
		archive_fail(c->a, path, ISIM_ERR_INTERNAL, "cannot set up the archive", err);
		isim_cpio_abort(c);
		return -1;
	}
	if (archive_write_open_filename(c->a, path) != ARCHIVE_OK) {
		archive_fail(c->a, path, ISIM_ERR_CANTCREATE, "cannot create", err);
		isim_cpio_abort(c);
		return -1;
	}
	*out = c;
	return 0;
}

static struct archive_entry *new_entry(struct isim_cpio *c, const char *name, mode_t type, mode_t mode)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		return NULL;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, c->mtime, 0);
	archive_entry_set_nlink(e, type == AE_IFDIR ? 2 : 1);
	archive_entry_set_ino64(e, ++c->ino);
	archive_entry_set_dev(e, 0);
	return e;
}

static int put(struct isim_cpio *c, struct archive_entry *e, const void *data, size_t len, struct isim_error *err)
{
	int ret = -1;

	if (!e)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(c->a, e) != ARCHIVE_OK) {
		archive_fail(c->a, c->path, ISIM_ERR_IO, archive_entry_pathname(e), err);
		goto out;
	}
	if (len && archive_write_data(c->a, data, len) != (la_ssize_t)len) {
		archive_fail(c->a, c->path, ISIM_ERR_IO, archive_entry_pathname(e), err);
		goto out;
	}
	ret = 0;
out:
	archive_entry_free(e);
	return ret;
}

int isim_cpio_dir(struct isim_cpio *c, const char *name, mode_t mode, struct isim_error *err)
{
	return put(c, new_entry(c, name, AE_IFDIR, mode), NULL, 0, err);
}

int isim_cpio_data(struct isim_cpio *c, const char *name, mode_t mode, const void *data, size_t len,
		   struct isim_error *err)
{
	return put(c, new_entry(c, name, AE_IFREG, mode), data, len, err);
}

int isim_cpio_symlink(struct isim_cpio *c, const char *name, const char *target, struct isim_error *err)
{
	struct archive_entry *e = new_entry(c, name, AE_IFLNK, 0777);

	if (e)
		archive_entry_set_symlink(e, target);
	return put(c, e, NULL, 0, err);
}

int isim_cpio_chardev(struct isim_cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor,
		      struct isim_error *err)
{
	struct archive_entry *e = new_entry(c, name, AE_IFCHR, mode);

	if (e) {
		archive_entry_set_rdevmajor(e, major);
		archive_entry_set_rdevminor(e, minor);
	}
	return put(c, e, NULL, 0, err);
}

/* The data of r's current entry (at most max bytes) into a malloc'd
 * buffer, NUL-terminated. */
static int read_entry(struct archive *r, const char *path, const char *name, size_t max, char **out, size_t *len,
		      struct isim_error *err)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	la_ssize_t got;

	for (;;) {
		if (cap - n < (1 << 16)) {
			if (!(nb = realloc(buf, cap ? cap * 2 : (1 << 17)))) {
				free(buf);
				return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			}
			buf = nb;
			cap = cap ? cap * 2 : (1 << 17);
		}
		got = archive_read_data(r, buf + n, cap - n - 1);
		if (got < 0) {
			free(buf);
			return archive_fail(r, path, ISIM_ERR_IO, "cannot read", err);
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			free(buf);
			isim_error_at(err, path, 0, 0);
			return isim_error_set(err, ISIM_ERR_DATA, "'%s' is larger than %zu bytes", name, max);
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Read src whole, through any compression libarchive knows. */
static int slurp(const char *src, char **out, size_t *len, struct isim_error *err)
{
	struct archive *r = archive_read_new();
	struct archive_entry *e;
	int ret = -1;

	*out = NULL;
	if (!r)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	archive_read_support_filter_all(r);
	archive_read_support_format_raw(r);
	if (archive_read_open_filename(r, src, 1 << 16) != ARCHIVE_OK)
		archive_fail(r, src, open_code(r), "cannot open", err);
	else if (archive_read_next_header(r, &e) != ARCHIVE_OK)
		archive_fail(r, src, ISIM_ERR_IO, "cannot read", err);
	else
		ret = read_entry(r, src, src, SIZE_MAX - 1, out, len, err);
	archive_read_free(r);
	return ret;
}

int isim_cpio_file(struct isim_cpio *c, const char *name, mode_t mode, const char *src, struct isim_error *err)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	int ret;

	/* libarchive's raw reader takes no empty input: an empty file is
	 * an empty entry. */
	if (stat(src, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return isim_cpio_data(c, name, mode, "", 0, err);
	if (slurp(src, &data, &len, err) < 0)
		return -1;
	ret = isim_cpio_data(c, name, mode, data, len, err);
	free(data);
	return ret;
}

int isim_cpio_close(struct isim_cpio *c, struct isim_error *err)
{
	int ret = 0;

	if (archive_write_close(c->a) != ARCHIVE_OK)
		ret = archive_fail(c->a, c->path, ISIM_ERR_IO, "cannot write", err);
	archive_write_free(c->a);
	c->a = NULL;
	isim_cpio_abort(c);
	return ret;
}

void isim_cpio_abort(struct isim_cpio *c)
{
	if (!c)
		return;
	if (c->a)
		archive_write_free(c->a);
	free(c->path);
	free(c);
}

int isim_iso_write(const char *path, const char *volume_id, const struct isim_iso_file *files, size_t nfiles,
		   struct isim_error *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	size_t i;
	int ret = -1;

	if (!a)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "volume-id", volume_id) != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "rockridge", "1") != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "iso9660", "joliet", "1") != ARCHIVE_OK) {
		archive_fail(a, path, ISIM_ERR_INTERNAL, "cannot set up the ISO 9660 volume", err);
		goto out;
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_fail(a, path, ISIM_ERR_CANTCREATE, "cannot create", err);
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		e = archive_entry_new();
		if (!e) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)files[i].len);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (files[i].len && archive_write_data(a, files[i].data, files[i].len) != (la_ssize_t)files[i].len)) {
			archive_fail(a, path, ISIM_ERR_IO, files[i].name, err);
			goto out;
		}
		archive_entry_free(e);
		e = NULL;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		archive_fail(a, path, ISIM_ERR_IO, "cannot write", err);
		goto out;
	}
	ret = 0;
out:
	archive_entry_free(e);
	archive_write_free(a);
	if (ret < 0)
		unlink(path);
	return ret;
}

/* 0, or -1 when reading failed, -2 when writing did. */
static int copy_data(struct archive *r, struct archive *w)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int s;

	for (;;) {
		s = archive_read_data_block(r, &buf, &size, &off);
		if (s == ARCHIVE_EOF)
			return 0;
		if (s != ARCHIVE_OK)
			return -1;
		if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
			return -2;
	}
}

int isim_tar_extract(const char *path, const char *dir, struct isim_error *err)
{
	struct archive *r = archive_read_new(), *w = archive_write_disk_new();
	struct archive_entry *e;
	int cwd = -1, ret = -1, s;

	if (!r || !w) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(r);
	archive_read_support_format_tar(r);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
						  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
						  ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	archive_write_disk_set_standard_lookup(w);
	if (archive_read_open_filename(r, path, 1 << 16) != ARCHIVE_OK) {
		archive_fail(r, path, open_code(r), "cannot open", err);
		goto out;
	}
	/* libarchive extracts relative to the working directory. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0) {
		isim_error_at(err, dir, 0, 0);
		isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot enter");
		goto out;
	}
	while ((s = archive_read_next_header(r, &e)) == ARCHIVE_OK) {
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			/* Refused entries (.., absolute, through a symlink) are
			 * the archive's fault; the rest is ours. */
			int e2 = archive_errno(w);

			archive_fail(w, path, e2 == ENOSPC || e2 == EIO || e2 == EDQUOT ? ISIM_ERR_IO : ISIM_ERR_DATA,
				     archive_entry_pathname(e), err);
			goto out;
		}
		if (archive_entry_size(e) > 0 && (s = copy_data(r, w)) < 0) {
			if (s == -1)
				archive_fail(r, path, ISIM_ERR_DATA, archive_entry_pathname(e), err);
			else
				archive_fail(w, path, ISIM_ERR_IO, archive_entry_pathname(e), err);
			goto out;
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			archive_fail(w, path, ISIM_ERR_IO, archive_entry_pathname(e), err);
			goto out;
		}
	}
	if (s != ARCHIVE_EOF) {
		archive_fail(r, path, ISIM_ERR_DATA, "not a readable tar archive", err);
		goto out;
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		archive_fail(w, path, ISIM_ERR_IO, "cannot finish extracting", err);
		goto out;
	}
	ret = 0;
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && ret == 0)
			ret = isim_error_errno(err, ISIM_ERR_INTERNAL, errno, "cannot return to the working directory");
		close(cwd);
	}
	archive_read_free(r);
	archive_write_free(w);
	return ret;
}

int isim_tar_list(const char *path, int (*fn)(const char *name, long long size, void *ctx), void *ctx,
		  struct isim_error *err)
{
	struct archive *r = archive_read_new();
	struct archive_entry *e;
	int ret = -1, s;

	if (!r)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	archive_read_support_filter_all(r);
	archive_read_support_format_all(r);
	if (archive_read_open_filename(r, path, 1 << 16) != ARCHIVE_OK) {
		archive_fail(r, path, open_code(r), "cannot open", err);
		goto out;
	}
	while ((s = archive_read_next_header(r, &e)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) == AE_IFREG &&
		    fn(archive_entry_pathname(e), (long long)archive_entry_size(e), ctx) < 0) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_INTERNAL, "stopped at %s", archive_entry_pathname(e));
			goto out;
		}
	}
	if (s != ARCHIVE_EOF) {
		archive_fail(r, path, ISIM_ERR_DATA, "not a readable archive", err);
		goto out;
	}
	ret = 0;
out:
	archive_read_free(r);
	return ret;
}

int isim_iso_read(const char *path, const char *name, size_t max, char **out, size_t *len, struct isim_error *err)
{
	struct archive *r = archive_read_new();
	struct archive_entry *e;
	int ret = -1, s;

	*out = NULL;
	*len = 0;
	if (!r)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	archive_read_support_format_iso9660(r);
	if (archive_read_open_filename(r, path, 1 << 16) != ARCHIVE_OK) {
		archive_fail(r, path, open_code(r), "cannot open", err);
		goto out;
	}
	while ((s = archive_read_next_header(r, &e)) == ARCHIVE_OK)
		if (archive_entry_filetype(e) == AE_IFREG && strcmp(archive_entry_pathname(e), name) == 0)
			break;
	if (s == ARCHIVE_EOF) {
		isim_error_at(err, path, 0, 0);
		isim_error_set(err, ISIM_ERR_NOINPUT, "the volume holds no file '%s'", name);
	} else if (s != ARCHIVE_OK) {
		archive_fail(r, path, ISIM_ERR_DATA, "not an ISO 9660 volume", err);
	} else {
		ret = read_entry(r, path, name, max, out, len, err);
	}
out:
	archive_read_free(r);
	return ret;
}

struct isim_tgz {
	struct archive *a;
	char *path;
	time_t mtime;
	int64_t left; /* of the member begun */
	int fd;
	struct isim_sha256_ctx hash; /* of the bytes that reach fd */
	uint64_t bytes;
};

/* libarchive's write callback: the bytes to fd, and into the hash. */
static la_ssize_t tgz_out(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct isim_tgz *t = ctx;
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(t->fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "%s", strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	if (isim_sha256_update(&t->hash, buf, len) < 0) {
		archive_set_error(a, EINVAL, "SHA-256 failed");
		return -1;
	}
	t->bytes += len;
	return (la_ssize_t)len;
}

int isim_tgz_open(struct isim_tgz **out, int fd, const char *path, time_t mtime, const char *program,
		  struct isim_error *err)
{
	struct isim_tgz *t;
	int r;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !handle_init(&t->a, &t->path, path, false)) {
		free(t);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	t->mtime = mtime;
	t->fd = fd;
	if (isim_sha256_begin(&t->hash) < 0) {
		isim_tgz_abort(t);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 is unavailable");
	}
	if (program)
		r = archive_write_add_filter_program(t->a, program);
	else if ((r = archive_write_add_filter_gzip(t->a)) == ARCHIVE_OK)
		r = archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL);
	if (r != ARCHIVE_OK || archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK) {
		archive_fail(t->a, path, ISIM_ERR_INTERNAL, "cannot set up the archive", err);
		isim_tgz_abort(t);
		return -1;
	}
	if (archive_write_open2(t->a, t, NULL, tgz_out, NULL, NULL) != ARCHIVE_OK) {
		archive_fail(t->a, path, ISIM_ERR_CANTCREATE, "cannot write", err);
		isim_tgz_abort(t);
		return -1;
	}
	*out = t;
	return 0;
}

static int tgz_header(struct isim_tgz *t, const char *name, mode_t type, mode_t mode, int64_t size,
		      struct isim_error *err)
{
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	if (!e)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, t->mtime, 0);
	archive_entry_set_size(e, size);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		ret = archive_fail(t->a, t->path, ISIM_ERR_IO, name, err);
	archive_entry_free(e);
	t->left = size;
	return ret;
}

int isim_tgz_dir(struct isim_tgz *t, const char *name, mode_t mode, struct isim_error *err)
{
	return tgz_header(t, name, AE_IFDIR, mode, 0, err);
}

int isim_tgz_begin(struct isim_tgz *t, const char *name, mode_t mode, uint64_t size, struct isim_error *err)
{
	if (size > INT64_MAX)
		return isim_error_set(err, ISIM_ERR_DATA, "%s: too large", name);
	return tgz_header(t, name, AE_IFREG, mode, (int64_t)size, err);
}

int isim_tgz_write(struct isim_tgz *t, const void *data, size_t len, struct isim_error *err)
{
	if ((uint64_t)len > (uint64_t)t->left) {
		isim_error_at(err, t->path, 0, 0);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "a member is longer than its header says");
	}
	if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		return archive_fail(t->a, t->path, ISIM_ERR_IO, "cannot write", err);
	t->left -= (int64_t)len;
	return 0;
}

int isim_tgz_data(struct isim_tgz *t, const char *name, mode_t mode, const void *data, size_t len,
		  struct isim_error *err)
{
	if (isim_tgz_begin(t, name, mode, len, err) < 0)
		return -1;
	return isim_tgz_write(t, data, len, err);
}

int isim_tgz_close(struct isim_tgz *t, uint8_t sha256[static ISIM_SHA256_BYTES], uint64_t *bytes,
		   struct isim_error *err)
{
	int ret = 0;

	if (archive_write_close(t->a) != ARCHIVE_OK)
		ret = archive_fail(t->a, t->path, ISIM_ERR_IO, "cannot finish", err);
	else if (isim_sha256_end(&t->hash, sha256) < 0)
		ret = isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
	*bytes = t->bytes;
	isim_tgz_abort(t);
	return ret;
}

void isim_tgz_abort(struct isim_tgz *t)
{
	if (!t)
		return;
	archive_write_free(t->a);
	isim_sha256_abort(&t->hash);
	free(t->path);
	free(t);
}

struct isim_tgz_in {
	struct archive *a;
	char *path;
	bool started;
};

int isim_tgz_read_open(struct isim_tgz_in **out, const char *path, struct isim_error *err)
{
	struct isim_tgz_in *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || !handle_init(&r->a, &r->path, path, true)) {
		free(r);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	archive_read_support_filter_gzip(r->a);
	archive_read_support_format_tar(r->a);
	if (archive_read_open_filename(r->a, path, 1 << 16) != ARCHIVE_OK) {
		if (open_code(r->a) == ISIM_ERR_DATA) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "not a gzip'ed tar archive");
		} else {
			archive_fail(r->a, path, open_code(r->a), "cannot open", err);
		}
		isim_tgz_read_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

int isim_tgz_next(struct isim_tgz_in *r, struct isim_tar_entry *e, struct isim_error *err)
{
	struct archive_entry *ae;
	const char *name;
	int s = archive_read_next_header(r->a, &ae);
	bool first = !r->started;

	r->started = true;
	if (s == ARCHIVE_EOF)
		return 0;
	if (s < ARCHIVE_WARN || (first && archive_filter_code(r->a, 0) != ARCHIVE_FILTER_GZIP)) {
		isim_error_at(err, r->path, 0, 0);
		if (first)
			return isim_error_set(err, ISIM_ERR_DATA, "not a gzip'ed tar archive");
		return archive_fail(r->a, r->path, ISIM_ERR_DATA, "corrupt or truncated", err);
	}
	name = archive_entry_pathname(ae);
	e->path = name ? name : "";
	e->size = archive_entry_size(ae);
	e->mode = archive_entry_perm(ae);
	if (archive_entry_hardlink(ae))
		e->type = ISIM_TAR_HARDLINK;
	else if (archive_entry_filetype(ae) == AE_IFREG)
		e->type = ISIM_TAR_FILE;
	else if (archive_entry_filetype(ae) == AE_IFDIR)
		e->type = ISIM_TAR_DIR;
	else if (archive_entry_filetype(ae) == AE_IFLNK)
		e->type = ISIM_TAR_SYMLINK;
	else
		e->type = ISIM_TAR_OTHER;
	return 1;
}

ssize_t isim_tgz_read(struct isim_tgz_in *r, void *buf, size_t size, struct isim_error *err)
{
	la_ssize_t n = archive_read_data(r->a, buf, size);

	if (n < 0)
		return archive_fail(r->a, r->path, ISIM_ERR_DATA, "corrupt or truncated", err);
	return (ssize_t)n;
}

void isim_tgz_read_close(struct isim_tgz_in *r)
{
	if (!r)
		return;
	archive_read_free(r->a);
	free(r->path);
	free(r);
}
