/* SPDX-License-Identifier: MIT */
#ifndef ISIM_FILE_H
#define ISIM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "isim/error.h"

/* Largest document file the tools read into memory. */
#define ISIM_FILE_MAX (16u << 20)

/* snprintf for paths: 0, or -1 when the path does not fit in size bytes
 * (ISIM_ERR_DATA, "path too long (N bytes, at most M): <start>..."), buf
 * then being "" so that no shortened path can be used by mistake. */
int isim_pathf(char *buf, size_t size, struct isim_error *err, const char *fmt, ...) ISIM_PRINTF(4, 5) ISIM_MUST_CHECK;

/* "a FIFO", "a character device", ... for messages about a file's type. */
const char *isim_file_type_name(mode_t mode);

/* Open an input file for reading; "-" is stdin (STDIN_FILENO), which may
 * be a pipe. A path is opened without blocking, so that a FIFO with no
 * writer cannot hang the tool, and what was opened must be a regular file:
 * a FIFO, device or socket is ISIM_ERR_NOINPUT ("is a FIFO, not a regular
 * file"); a directory fails on read(2) (EISDIR, ISIM_ERR_NOINPUT). what names the input in "cannot open <what>" (NULL:
 * "cannot open"). Returns the descriptor, or -1. */
int isim_file_open_input(const char *path, const char *what, struct isim_error *err) ISIM_MUST_CHECK;

/* read(2) of fd (the file path), again after a signal: the bytes read, 0 at
 * the end, or -1 with err at path saying "cannot read <what>" (NULL:
 * "cannot read"); a directory is ISIM_ERR_NOINPUT, the rest ISIM_ERR_IO. */
ssize_t isim_read(int fd, const char *path, const char *what, void *buf, size_t size,
		  struct isim_error *err) ISIM_MUST_CHECK;

/* Read a whole file into a NUL-terminated malloc'd buffer; "-" is stdin.
 * The file is opened by isim_file_open_input, so only regular files are
 * read. Files larger than max are refused (ISIM_ERR_DATA); a missing or
 * unreadable file is ISIM_ERR_NOINPUT. */
int isim_file_read(const char *path, size_t max, char **out, size_t *len, struct isim_error *err) ISIM_MUST_CHECK;

/* Write data to path atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory. On failure nothing is left. A
 * device node, FIFO or socket at path is not replaced (ISIM_ERR_CANTCREATE,
 * "is a character device, not a regular file; refusing to replace it");
 * the same holds for isim_file_stage and isim_file_commit. */
int isim_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   struct isim_error *err) ISIM_MUST_CHECK;

/* A file written under a temporary name beside its final place (created
 * mode 0600, then given mode, and fsync'ed), put there by isim_file_commit
 * in one rename. With replace false the commit never replaces an existing
 * file (ISIM_ERR_CANTCREATE, "already exists"): creating the final name is
 * as exclusive as O_EXCL, yet no partial file is ever seen there. */
struct isim_staged_file {
	char final[4096];
	char tmp[4096];
};

int isim_file_stage(struct isim_staged_file *sf, const char *path, const void *data, size_t len, mode_t mode,
		    struct isim_error *err) ISIM_MUST_CHECK;
/* The same for a file written as it comes: *fd is the temporary file, open
 * for writing; isim_file_stage_close fsyncs and closes it (on failure the
 * file is removed). Streamed outputs (an archive of a disk) go this way. */
int isim_file_stage_open(struct isim_staged_file *sf, const char *path, mode_t mode, int *fd,
			 struct isim_error *err) ISIM_MUST_CHECK;
int isim_file_stage_close(struct isim_staged_file *sf, int fd, struct isim_error *err) ISIM_MUST_CHECK;
int isim_file_commit(struct isim_staged_file *sf, bool replace, struct isim_error *err) ISIM_MUST_CHECK;
/* Remove the temporary file; safe after commit and on a zeroed struct. */
void isim_file_abort(struct isim_staged_file *sf);

/* A directory filled under a temporary name beside its final place, then
 * put there in one rename (swapping out any older directory, which is then
 * removed). Until commit, the older directory is untouched. */
struct isim_staged_dir {
	char final[4096];
	char tmp[4096];
};

int isim_dir_stage(struct isim_staged_dir *sd, const char *final, struct isim_error *err) ISIM_MUST_CHECK;
/* Write one file inside the staged directory; name is a plain file name
 * (no '/', not "." or ".."), anything else is refused. */
int isim_dir_put(struct isim_staged_dir *sd, const char *name, const void *data, size_t len, mode_t mode,
		 struct isim_error *err) ISIM_MUST_CHECK;
int isim_dir_commit(struct isim_staged_dir *sd, struct isim_error *err) ISIM_MUST_CHECK;
/* Remove the staged directory; safe after commit and on a zeroed struct. */
void isim_dir_abort(struct isim_staged_dir *sd);

/* Remove a directory tree (no symlinks followed). 0 or -errno. */
int isim_rmtree(const char *path);
/* mkdir -p; 0 or -errno (-ENOTDIR when a file is in the way). */
int isim_mkdirs(const char *path, mode_t mode);

#endif
