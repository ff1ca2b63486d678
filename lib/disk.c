/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "isim/disk.h"

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The MBR's partition entries start at byte 446, 16 bytes each; the disk
 * signature sits at 440 (followed by two zero bytes) and 0x55AA at 510. */
#define MBR_DISK_ID 440
#define MBR_TABLE 446
#define MBR_ENTRY 16

int isim_mbr_build(uint8_t sector[static ISIM_SECTOR], const uint8_t *bootcode, size_t bootcode_len, uint32_t disk_id,
		   const struct isim_mbr_part *parts, size_t nparts, struct isim_error *err)
{
	static const uint8_t lba_chs[3] = { 0xfe, 0xff, 0xff };
	size_t i, j;

	memset(sector, 0, ISIM_SECTOR);
	if (bootcode_len > ISIM_MBR_BOOTCODE)
		return isim_error_set(err, ISIM_ERR_DATA, "boot code is %zu bytes, more than the %u an MBR holds",
				      bootcode_len, ISIM_MBR_BOOTCODE);
	if (nparts > ISIM_MBR_PARTS)
		return isim_error_set(err, ISIM_ERR_DATA, "%zu partitions, more than the %d an MBR holds", nparts,
				      ISIM_MBR_PARTS);
	for (i = 0; i < nparts; i++) {
		uint64_t end = (uint64_t)parts[i].start + parts[i].sectors;

		if (parts[i].start == 0 || parts[i].sectors == 0 || end > UINT32_MAX)
			return isim_error_set(err, ISIM_ERR_DATA, "partition %zu: start %u, %u sectors is not valid",
					      i + 1, parts[i].start, parts[i].sectors);
		for (j = 0; j < i; j++)
			if (parts[i].start < (uint64_t)parts[j].start + parts[j].sectors && parts[j].start < end)
				return isim_error_set(err, ISIM_ERR_DATA, "partitions %zu and %zu overlap", j + 1,
						      i + 1);
	}
	if (bootcode)
		memcpy(sector, bootcode, bootcode_len);
	store_le32(sector + MBR_DISK_ID, disk_id);
	for (i = 0; i < nparts; i++) {
		uint8_t *e = sector + MBR_TABLE + i * MBR_ENTRY;

		e[0] = parts[i].bootable ? 0x80 : 0x00;
		memcpy(e + 1, lba_chs, 3);
		e[4] = parts[i].type;
		memcpy(e + 5, lba_chs, 3);
		store_le32(e + 8, parts[i].start);
		store_le32(e + 12, parts[i].sectors);
	}
	sector[510] = 0x55;
	sector[511] = 0xaa;
	return 0;
}

int isim_mbr_parse(const uint8_t sector[static ISIM_SECTOR], uint32_t *disk_id,
		   struct isim_mbr_part parts[static ISIM_MBR_PARTS])
{
	int i, n = 0;

	if (sector[510] != 0x55 || sector[511] != 0xaa)
		return -1;
	*disk_id = load_le32(sector + MBR_DISK_ID);
	for (i = 0; i < ISIM_MBR_PARTS; i++) {
		const uint8_t *e = sector + MBR_TABLE + i * MBR_ENTRY;

		if (e[4] == 0)
			continue;
		parts[n].bootable = e[0] == 0x80;
		parts[n].type = e[4];
		parts[n].start = load_le32(e + 8);
		parts[n].sectors = load_le32(e + 12);
		n++;
	}
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int isim_copy_sparse(int dst, const char *dst_name, uint64_t offset, const char *src, struct isim_error *err)
{
	static uint8_t buf[1 << 16];
	int fd, ret = -1;
	uint64_t pos = offset;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		isim_error_at(err, src, 0, 0);
		return isim_error_errno(err, ISIM_ERR_NOINPUT, errno, "cannot open");
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf)), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			isim_error_at(err, src, 0, 0);
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		if (all_zero(buf, (size_t)n)) {
			pos += (uint64_t)n;
			continue;
		}
		while (off < n) {
			ssize_t w = pwrite(dst, buf + off, (size_t)(n - off), (off_t)(pos + (uint64_t)off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				isim_error_at(err, dst_name, 0, 0);
				isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write");
				goto out;
			}
			off += w;
		}
		pos += (uint64_t)n;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
