/* SPDX-License-Identifier: MIT */
#ifndef ISIM_ARCHIVE_H
#define ISIM_ARCHIVE_H

#include <stddef.h>
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

/* Unpack a tar archive into dir (which exists), keeping modes, owners,
 * times, extended attributes and hard links; entries that would leave dir
 * (absolute paths, "..", through symlinks) are refused. */
int isim_tar_extract(const char *path, const char *dir, struct isim_error *err) ISIM_MUST_CHECK;

/* Every regular file of a tar archive: calls fn(name, size, ctx) for each;
 * for tests and checks. */
int isim_tar_list(const char *path, int (*fn)(const char *name, long long size, void *ctx), void *ctx,
		  struct isim_error *err) ISIM_MUST_CHECK;

#endif
