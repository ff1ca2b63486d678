/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/file.h"

int isim_pathf(char *buf, size_t size, struct isim_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < size)
		return 0;
	if (n < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot format a path from '%.200s'", fmt);
	isim_error_set(err, ISIM_ERR_DATA, "path too long (%d bytes, at most %zu): %.200s...", n, size ? size - 1 : 0,
		       size ? buf : "");
	if (size)
		buf[0] = '\0';
	return -1;
}

const char *isim_file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

int isim_file_open_input(const char *path, const char *what, struct isim_error *err)
{
	struct stat st;
	int fd, e, fl;

	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	/* O_NONBLOCK: opening a FIFO with no writer returns at once instead
	 * of waiting for one; the fstat below then refuses it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, e, "cannot open%s%s",
					what ? " " : "", what ? what : "");
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_IO, e, "cannot stat%s%s", what ? " " : "", what ? what : "");
	}
	/* A directory is left to read(2), whose EISDIR says the same. */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(fd);
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_NOINPUT, "is %s, not a regular file",
				      isim_file_type_name(st.st_mode));
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

ssize_t isim_read(int fd, const char *path, const char *what, void *buf, size_t size, struct isim_error *err)
{
	ssize_t r;

	do
		r = read(fd, buf, size);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;

		isim_error_at(err, path, 0, 0);
		isim_error_errno(err, e == EISDIR ? ISIM_ERR_NOINPUT : ISIM_ERR_IO, e, "cannot read%s%s",
				 what ? " " : "", what ? what : "");
	}
	return r;
}

int isim_file_read(const char *path, size_t max, char **out, size_t *len, struct isim_error *err)
{
	int fd = -1, ret = -1;
	char *buf = NULL, *nbuf;
	size_t cap = 0, n = 0;
	ssize_t r;

	*out = NULL;
	*len = 0;
	fd = isim_file_open_input(path, NULL, err);
	if (fd < 0)
		return -1;
	for (;;) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 8192;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				isim_error_at(err, path, 0, 0);
				isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
				goto out;
			}
			buf = nbuf;
		}
		r = isim_read(fd, path, NULL, buf + n, cap - n - 1, err);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "file is larger than %zu bytes", max);
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	if (fd >= 0 && fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return ret;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/* An output replaces only what the tool would have written there: a
 * regular file (or a symlink, which rename replaces, not its target). A
 * device node, FIFO or socket at the name is someone else's, and a rename
 * would put a regular file in its place. A directory is left to rename(2),
 * which fails on it. */
static int target_ok(const char *path, struct isim_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
		return 0;
	isim_error_at(err, path, 0, 0);
	return isim_error_set(err, ISIM_ERR_CANTCREATE, "is %s, not a regular file; refusing to replace it",
			      isim_file_type_name(st.st_mode));
}

int isim_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct isim_error *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd = -1, saved;

	if (target_ok(path, err) < 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_CANTCREATE, "path too long");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, errno,
					"cannot create");
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (target_ok(path, err) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0)
		goto fail;
	dir_of(path, dir, sizeof(dir));
	fsync_dir(dir);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	isim_error_at(err, path, 0, 0);
	return isim_error_errno(err, ISIM_ERR_IO, saved, "cannot write");
}

int isim_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);
	struct stat st;

	if (n == 0)
		return -ENOENT;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0) {
			/* EEXIST says nothing of what exists: a file there
			 * is not the folder asked for. */
			if (errno != EEXIST)
				return -errno;
			if (stat(buf, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

static int rmtree_at(int dfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (unlinkat(dfd, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rmtree_at(dirfd(d), de->d_name);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && !ret)
		ret = -errno;
	return ret;
}

int isim_rmtree(const char *path)
{
	return rmtree_at(AT_FDCWD, path);
}

int isim_dir_stage(struct isim_staged_dir *sd, const char *final, struct isim_error *err)
{
	char parent[PATH_MAX];
	const char *base;
	int r;

	memset(sd, 0, sizeof(*sd));
	if (snprintf(sd->final, sizeof(sd->final), "%s", final) >= (int)sizeof(sd->final)) {
		isim_error_at(err, final, 0, 0);
		return isim_error_set(err, ISIM_ERR_CANTCREATE, "path too long");
	}
	while (strlen(sd->final) > 1 && sd->final[strlen(sd->final) - 1] == '/')
		sd->final[strlen(sd->final) - 1] = '\0';
	dir_of(sd->final, parent, sizeof(parent));
	base = strrchr(sd->final, '/');
	base = base ? base + 1 : sd->final;
	r = isim_mkdirs(parent, 0755);
	if (r < 0) {
		isim_error_at(err, parent, 0, 0);
		return isim_error_errno(err, r == -EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, -r,
					"cannot create directory");
	}
	if (snprintf(sd->tmp, sizeof(sd->tmp), "%s/.%s.tmp.XXXXXX", parent, base) >= (int)sizeof(sd->tmp)) {
		sd->tmp[0] = '\0';
		isim_error_at(err, final, 0, 0);
		return isim_error_set(err, ISIM_ERR_CANTCREATE, "path too long");
	}
	if (!mkdtemp(sd->tmp)) {
		int e = errno;

		sd->tmp[0] = '\0';
		isim_error_at(err, parent, 0, 0);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e,
					"cannot create directory");
	}
	if (chmod(sd->tmp, 0755) < 0) {
		int e = errno;

		isim_dir_abort(sd);
		isim_error_at(err, parent, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, e, "cannot set directory mode");
	}
	return 0;
}

int isim_dir_put(struct isim_staged_dir *sd, const char *name, const void *data, size_t len, mode_t mode,
		 struct isim_error *err)
{
	char path[PATH_MAX];
	int fd, e;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		isim_error_at(err, sd->final, 0, 0);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "'%.64s' is not a plain file name", name);
	}
	if (snprintf(path, sizeof(path), "%s/%s", sd->tmp, name) >= (int)sizeof(path)) {
		e = ENAMETOOLONG;
		goto fail;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	/* Writeback starts now; isim_dir_commit waits for it, for all the
	 * files at once, which costs one journal commit instead of one a file. */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(fd) < 0) {
		e = errno;
		goto fail;
	}
	return 0;
fail:
	isim_error_at(err, sd->final, 0, 0);
	return isim_error_errno(err, e == ENOSPC ? ISIM_ERR_IO : ISIM_ERR_CANTCREATE, e, "cannot write %s", name);
}

/* fsync every file of dir, then dir itself. */
static int sync_tree(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int fd, e = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			e = e ? e : errno;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	if (e) {
		errno = e;
		return -1;
	}
	return fsync_dir(dir);
}

int isim_dir_commit(struct isim_staged_dir *sd, struct isim_error *err)
{
	char parent[PATH_MAX];
	int e;

	if (sync_tree(sd->tmp) < 0) {
		e = errno;
		goto fail;
	}
	if (rename(sd->tmp, sd->final) == 0)
		goto done;
	if (errno != ENOTEMPTY && errno != EEXIST && errno != EISDIR) {
		e = errno;
		goto fail;
	}
	/* An older directory is in the way: swap the two atomically, then
	 * remove the older one from its temporary name. */
	if (renameat2(AT_FDCWD, sd->tmp, AT_FDCWD, sd->final, RENAME_EXCHANGE) < 0) {
		e = errno;
		goto fail;
	}
	isim_rmtree(sd->tmp);
done:
	sd->tmp[0] = '\0';
	dir_of(sd->final, parent, sizeof(parent));
	fsync_dir(parent);
	return 0;
fail:
	isim_error_at(err, sd->final, 0, 0);
	return isim_error_errno(err, ISIM_ERR_CANTCREATE, e, "cannot put output directory in place");
}

void isim_dir_abort(struct isim_staged_dir *sd)
{
	if (sd && sd->tmp[0]) {
		isim_rmtree(sd->tmp);
		sd->tmp[0] = '\0';
	}
}

int isim_file_stage_open(struct isim_staged_file *sf, const char *path, mode_t mode, int *fd, struct isim_error *err)
{
	int e;

	*fd = -1;
	memset(sf, 0, sizeof(*sf));
	if (target_ok(path, err) < 0)
		return -1;
	if (snprintf(sf->final, sizeof(sf->final), "%s", path) >= (int)sizeof(sf->final) ||
	    snprintf(sf->tmp, sizeof(sf->tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(sf->tmp)) {
		sf->tmp[0] = '\0';
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_CANTCREATE, "path too long");
	}
	/* mkostemp creates the file with mode 0600, so a secret is never
	 * readable by others, even before the fchmod. */
	*fd = mkostemp(sf->tmp, O_CLOEXEC);
	if (*fd < 0) {
		e = errno;
		sf->tmp[0] = '\0';
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e, "cannot create");
	}
	if (fchmod(*fd, mode) < 0) {
		e = errno;
		close(*fd);
		*fd = -1;
		isim_file_abort(sf);
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_CANTCREATE, e, "cannot set the mode of");
	}
	return 0;
}

int isim_file_stage_close(struct isim_staged_file *sf, int fd, struct isim_error *err)
{
	int e;

	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		goto fail;
	}
	return 0;
fail:
	isim_file_abort(sf);
	isim_error_at(err, sf->final, 0, 0);
	return isim_error_errno(err, e == ENOSPC ? ISIM_ERR_IO : ISIM_ERR_CANTCREATE, e, "cannot write");
}

int isim_file_stage(struct isim_staged_file *sf, const char *path, const void *data, size_t len, mode_t mode,
		    struct isim_error *err)
{
	int fd, e;

	if (isim_file_stage_open(sf, path, mode, &fd, err) < 0)
		return -1;
	if (write_all(fd, data, len) < 0) {
		e = errno;
		close(fd);
		isim_file_abort(sf);
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, e == ENOSPC ? ISIM_ERR_IO : ISIM_ERR_CANTCREATE, e, "cannot write");
	}
	return isim_file_stage_close(sf, fd, err);
}

/* Put tmp at final unless something is there: RENAME_NOREPLACE, or where
 * the file system lacks it, link(2), which also never replaces. */
static int rename_noreplace(const char *tmp, const char *final)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, final) < 0)
		return -1;
	unlink(tmp);
	return 0;
}

int isim_file_commit(struct isim_staged_file *sf, bool replace, struct isim_error *err)
{
	char dir[PATH_MAX];
	int e;

	if (target_ok(sf->final, err) < 0) {
		isim_file_abort(sf);
		return -1;
	}
	if ((replace ? rename(sf->tmp, sf->final) : rename_noreplace(sf->tmp, sf->final)) < 0) {
		e = errno;
		isim_file_abort(sf);
		isim_error_at(err, sf->final, 0, 0);
		if (e == EEXIST)
			return isim_error_set(err, ISIM_ERR_CANTCREATE, "already exists; not replaced");
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e,
					"cannot put in place");
	}
	sf->tmp[0] = '\0';
	dir_of(sf->final, dir, sizeof(dir));
	fsync_dir(dir);
	return 0;
}

void isim_file_abort(struct isim_staged_file *sf)
{
	if (sf && sf->tmp[0]) {
		unlink(sf->tmp);
		sf->tmp[0] = '\0';
	}
}
