/* SPDX-License-Identifier: MIT */
#ifndef ISIM_DISK_H
#define ISIM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isim/error.h"

#define ISIM_SECTOR 512u
#define ISIM_MBR_BOOTCODE 440u
#define ISIM_MBR_PARTS 4

/* One primary partition of an MBR (DOS) partition table, in sectors. */
struct isim_mbr_part {
	uint32_t start;
	uint32_t sectors;
	uint8_t type; /* 0x06 FAT16, 0x0c FAT32 LBA, 0x83 Linux */
	bool bootable;
};

/* The first sector of a disk: bootcode (up to 440 bytes, or NULL for
 * zeros), the 32-bit disk signature, up to four partitions, 0x55AA. CHS
 * fields say "use LBA" (1023/254/63) as every partitioner does for disks
 * past 8 GiB, so the table reads the same whatever the geometry. Fails
 * (ISIM_ERR_DATA) when partitions overlap or start at sector 0. */
int isim_mbr_build(uint8_t sector[static ISIM_SECTOR], const uint8_t *bootcode, size_t bootcode_len, uint32_t disk_id,
		   const struct isim_mbr_part *parts, size_t nparts, struct isim_error *err) ISIM_MUST_CHECK;

/* Parse a first sector back (for tests and checks): the partitions that
 * are not empty, in slot order. Returns how many, or -1 (no 0x55AA). */
int isim_mbr_parse(const uint8_t sector[static ISIM_SECTOR], uint32_t *disk_id,
		   struct isim_mbr_part parts[static ISIM_MBR_PARTS]);

/* Copy the file src into the open file dst at byte offset, leaving holes
 * where src has blocks of zeros (dst is expected to be zero there: a new
 * sparse file). Errors name src or dst_name. */
int isim_copy_sparse(int dst, const char *dst_name, uint64_t offset, const char *src,
		     struct isim_error *err) ISIM_MUST_CHECK;

#endif
