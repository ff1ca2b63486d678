/* SPDX-License-Identifier: MIT */
#ifndef ISIM_ARCHIVE_H
#define ISIM_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "isim/error.h"

/* Archives through libarchive: the initramfs (cpio newc, gzip), the
 * cloud-init NoCloud seed (ISO 9660) and the base root filesystems (tar). */

/* A gzip'ed cpio "newc" archive, the format the kernel unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 * Every entry gets owner 0:0 and the time mtime, inode numbers count up
 * from 1 and gzip records no time, so the same calls give the same bytes. */
struct isim_cpio;

int isim_cpio_open(struct isim_cpio **out, const char *path, time_t mtime, struct isim_error *err) ISIM_MUST_CHECK;
int isim_cpio_dir(struct isim_cpio *c, const char *name, mode_t mode, struct isim_error *err) ISIM_MUST_CHECK;
int isim_cpio_data(struct isim_cpio *c, const char *name, mode_t mode, const void *data, size_t len,
		   struct isim_error *err) ISIM_MUST_CHECK;
/* The contents of src, decompressed when it is xz, gzip or zstd (kernel
 * modules shipped as .ko.xz, say). */
int isim_cpio_file(struct isim_cpio *c, const char *name, mode_t mode, const char *src,
		   struct isim_error *err) ISIM_MUST_CHECK;
int isim_cpio_symlink(struct isim_cpio *c, const char *name, const char *target,
		      struct isim_error *err) ISIM_MUST_CHECK;
/* A character device node (the kernel opens /dev/console before /init). */
int isim_cpio_chardev(struct isim_cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor,
		      struct isim_error *err) ISIM_MUST_CHECK;
/* Finish the archive; 0 when every byte reached the file. Frees c. */
int isim_cpio_close(struct isim_cpio *c, struct isim_error *err) ISIM_MUST_CHECK;
/* Free without finishing (after an error). */
void isim_cpio_abort(struct isim_cpio *c);

/* One file of an ISO 9660 volume. */
struct isim_iso_file {
	const char *name;
	const void *data;
	size_t len;
};

/* Write an ISO 9660 volume (Rock Ridge and Joliet) holding files, labelled
 * volume_id: a NoCloud seed is one labelled "cidata". */
int isim_iso_write(const char *path, const char *volume_id, const struct isim_iso_file *files, size_t nfiles,
		   struct isim_error *err) ISIM_MUST_CHECK;

/* The file name (at most max bytes) of the ISO 9660 volume path, into a
 * NUL-terminated malloc'd buffer: a seed's user-data, say. A volume without
 * it is ISIM_ERR_NOINPUT. */
int isim_iso_read(const char *path, const char *name, size_t max, char **out, size_t *len,
		  struct isim_error *err) ISIM_MUST_CHECK;

/* Unpack a tar archive into dir (which exists), keeping modes, owners,
 * times, extended attributes and hard links; entries that would leave dir
 * (absolute paths, "..", through symlinks) are refused. */
int isim_tar_extract(const char *path, const char *dir, struct isim_error *err) ISIM_MUST_CHECK;

/* Every regular file of a tar archive: calls fn(name, size, ctx) for each;
 * for tests and checks. */
int isim_tar_list(const char *path, int (*fn)(const char *name, long long size, void *ctx), void *ctx,
		  struct isim_error *err) ISIM_MUST_CHECK;

/* A gzip'ed tar archive (POSIX ustar, pax headers only where ustar cannot
 * say it) written to fd as it comes: every entry owned by 0:0 (root:root)
 * with the time mtime, so that the same calls give the same bytes. program
 * is the compressor's command line ("pigz -n": gzip on every core), NULL
 * for libarchive's own gzip; path names fd in messages. */
struct isim_tgz;

int isim_tgz_open(struct isim_tgz **out, int fd, const char *path, time_t mtime, const char *program,
		  struct isim_error *err) ISIM_MUST_CHECK;
int isim_tgz_dir(struct isim_tgz *t, const char *name, mode_t mode, struct isim_error *err) ISIM_MUST_CHECK;
/* A regular file of size bytes, then isim_tgz_write its bytes in pieces. */
int isim_tgz_begin(struct isim_tgz *t, const char *name, mode_t mode, uint64_t size,
		   struct isim_error *err) ISIM_MUST_CHECK;
int isim_tgz_write(struct isim_tgz *t, const void *data, size_t len, struct isim_error *err) ISIM_MUST_CHECK;
int isim_tgz_data(struct isim_tgz *t, const char *name, mode_t mode, const void *data, size_t len,
		  struct isim_error *err) ISIM_MUST_CHECK;
/* Finish (the compressor's end awaited); 0 when every byte reached fd,
 * which stays open, with the SHA-256 and the count of those bytes. Frees t. */
int isim_tgz_close(struct isim_tgz *t, uint8_t sha256[static 32], uint64_t *bytes,
		   struct isim_error *err) ISIM_MUST_CHECK;
void isim_tgz_abort(struct isim_tgz *t);

/* Reading one, entry by entry, every byte once (nothing unpacked). */
struct isim_tgz_in;

enum isim_tar_type {
	ISIM_TAR_FILE,
	ISIM_TAR_DIR,
	ISIM_TAR_SYMLINK,
	ISIM_TAR_HARDLINK,
	ISIM_TAR_OTHER, /* a device, a fifo... */
};

struct isim_tar_entry {
	const char *path; /* as the archive spells it; valid until the next call */
	enum isim_tar_type type;
	int64_t size;
	mode_t mode;
};

/* A file that is missing is ISIM_ERR_NOINPUT. */
int isim_tgz_read_open(struct isim_tgz_in **out, const char *path, struct isim_error *err) ISIM_MUST_CHECK;
/* 1 and the next entry, 0 at the end, -1 with ISIM_ERR_DATA: "not a gzip'ed
 * tar archive" at the first entry, "corrupt or truncated" later. */
int isim_tgz_next(struct isim_tgz_in *r, struct isim_tar_entry *e, struct isim_error *err) ISIM_MUST_CHECK;
/* The entry's next bytes; 0 at its end. */
ssize_t isim_tgz_read(struct isim_tgz_in *r, void *buf, size_t size, struct isim_error *err) ISIM_MUST_CHECK;
void isim_tgz_read_close(struct isim_tgz_in *r);

#endif
