/* SPDX-License-Identifier: MIT */
/* MBR partition tables byte by byte and as sfdisk reads them, the layouts
 * refused with their messages, and sparse copies that land at their offset
 * and leave zeros as holes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/disk.h"
#include "testutil.h"

#define MIB (1u << 20)

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- MBR -------------------------------------------------------------- */

static void test_mbr_layout(void **state)
{
	static const struct isim_mbr_part parts[] = {
		{ .start = 2048, .sectors = 4096, .type = 0x06, .bootable = true },
		{ .start = 6144, .sectors = 0x01020304, .type = 0x83 },
	};
	uint8_t sector[ISIM_SECTOR], code[ISIM_MBR_BOOTCODE];
	const uint8_t *e;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 7 + 1);
	memset(sector, 0xee, sizeof(sector));
	isim_error_clear(&err);
	assert_int_equal(isim_mbr_build(sector, code, sizeof(code), 0x12345678, parts, 2, &err), 0);
	/* The whole 440 bytes of boot code, then the disk signature
	 * little-endian and two zero bytes. */
	assert_memory_equal(sector, code, sizeof(code));
	assert_int_equal(sector[440], 0x78);
	assert_int_equal(sector[441], 0x56);
	assert_int_equal(sector[442], 0x34);
	assert_int_equal(sector[443], 0x12);
	assert_int_equal(sector[444], 0);
	assert_int_equal(sector[445], 0);
	/* First entry: active, type FAT16, LBA start and size. */
	e = sector + 446;
	assert_int_equal(e[0], 0x80);
	assert_int_equal(e[4], 0x06);
	assert_int_equal(le32_at(e + 8), 2048);
	assert_int_equal(le32_at(e + 12), 4096);
	/* Second: not active, Linux, the size's bytes in little-endian order. */
	e = sector + 446 + 16;
	assert_int_equal(e[0], 0x00);
	assert_int_equal(e[4], 0x83);
	assert_int_equal(le32_at(e + 8), 6144);
	assert_int_equal(e[12], 0x04);
	assert_int_equal(e[15], 0x01);
	/* Unused slots are all zero, whatever was in the buffer. */
	for (i = 446 + 32; i < 510; i++)
		assert_int_equal(sector[i], 0);
	assert_int_equal(sector[510], 0x55);
	assert_int_equal(sector[511], 0xaa);
}

static void test_mbr_round_trip(void **state)
{
	static const struct isim_mbr_part parts[] = {
		{ .start = 1, .sectors = 2047, .type = 0x0c },
		{ .start = 2048, .sectors = 204800, .type = 0x06, .bootable = true },
		{ .start = 206848, .sectors = 1000000, .type = 0x83 },
		{ .start = 0xfffff000u, .sectors = 0xfff, .type = 0x83 },
	};
	struct isim_mbr_part back[ISIM_MBR_PARTS];
	uint8_t sector[ISIM_SECTOR];
	struct isim_error err;
	uint32_t id = 0;
	int i;

	(void)state;
	isim_error_clear(&err);
	/* No boot code: zeros. */
	assert_int_equal(isim_mbr_build(sector, NULL, 0, 0xdeadbeef, parts, 4, &err), 0);
	for (i = 0; i < (int)ISIM_MBR_BOOTCODE; i++)
		assert_int_equal(sector[i], 0);
	assert_int_equal(isim_mbr_parse(sector, &id, back), 4);
	assert_int_equal(id, 0xdeadbeef);
	for (i = 0; i < 4; i++) {
		assert_int_equal(back[i].start, parts[i].start);
		assert_int_equal(back[i].sectors, parts[i].sectors);
		assert_int_equal(back[i].type, parts[i].type);
		assert_int_equal(back[i].bootable, parts[i].bootable);
	}

	/* No partitions: a valid, empty table. */
	assert_int_equal(isim_mbr_build(sector, NULL, 0, 7, NULL, 0, &err), 0);
	assert_int_equal(isim_mbr_parse(sector, &id, back), 0);
	assert_int_equal(id, 7);
}

static void test_mbr_parse(void **state)
{
	static const struct isim_mbr_part one = { .start = 63, .sectors = 100, .type = 0x83 };
	struct isim_mbr_part back[ISIM_MBR_PARTS];
	uint8_t sector[ISIM_SECTOR];
	struct isim_error err;
	uint32_t id = 0;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_mbr_build(sector, NULL, 0, 1, &one, 1, &err), 0);
	/* The entry moved to slot 3: the empty slots before it are skipped. */
	memcpy(sector + 446 + 3 * 16, sector + 446, 16);
	memset(sector + 446, 0, 16);
	assert_int_equal(isim_mbr_parse(sector, &id, back), 1);
	assert_int_equal(back[0].start, 63);
	assert_int_equal(back[0].sectors, 100);
	assert_int_equal(back[0].type, 0x83);
	assert_false(back[0].bootable);

	/* Without 0x55AA there is no table. */
	sector[511] = 0x55;
	sector[510] = 0xaa;
	assert_int_equal(isim_mbr_parse(sector, &id, back), -1);
	memset(sector, 0, sizeof(sector));
	assert_int_equal(isim_mbr_parse(sector, &id, back), -1);
}

/* Boot code sizes and layouts ("START+SECTORS ..."), with the message when
 * refused. */
static const struct mbr_case {
	size_t bootcode;
	const char *layout;
	const char *msg; /* NULL: accepted */
} mbr_cases[] = {
	{ 0, "2048+2048 4096+2048", NULL }, /* adjacent */
	{ 440, "2048+2048", NULL },
	{ 0, "1+4294967294", NULL }, /* up to the last 32-bit sector */
	{ 0, "", NULL },
	{ 441, "2048+2048", "boot code is 441 bytes, more than the 440 an MBR holds" },
	{ 0, "1+1 2+1 3+1 4+1 5+1", "5 partitions, more than the 4 an MBR holds" },
	{ 0, "2048+2048 0+2048", "partition 2: start 0, 2048 sectors is not valid" },
	{ 0, "2048+0", "partition 1: start 2048, 0 sectors is not valid" },
	{ 0, "2+4294967294", "partition 1: start 2, 4294967294 sectors is not valid" },
	{ 0, "2048+2048 4095+2048", "partitions 1 and 2 overlap" },
	{ 0, "4096+2048 2048+2049", "partitions 1 and 2 overlap" },
	{ 0, "100+10 2048+8192 4096+16", "partitions 2 and 3 overlap" },
	{ 0, "2048+2048 2048+2048", "partitions 1 and 2 overlap" },
};

static size_t layout(const char *s, struct isim_mbr_part parts[static 5])
{
	unsigned start, sectors;
	size_t n = 0;
	int used;

	while (sscanf(s, " %u+%u%n", &start, &sectors, &used) == 2) {
		assert_true(n < 5);
		parts[n++] = (struct isim_mbr_part){ .start = start, .sectors = sectors, .type = 0x83 };
		s += used;
	}
	return n;
}

static void test_mbr_refused(void **state)
{
	uint8_t sector[ISIM_SECTOR], code[ISIM_MBR_BOOTCODE + 1];
	struct isim_mbr_part parts[5], back[ISIM_MBR_PARTS];
	struct isim_error err;
	uint32_t id;
	size_t i, n;
	int r;

	(void)state;
	memset(code, 0x90, sizeof(code));
	for (i = 0; i < sizeof(mbr_cases) / sizeof(mbr_cases[0]); i++) {
		const struct mbr_case *c = &mbr_cases[i];

		n = layout(c->layout, parts);
		isim_error_clear(&err);
		r = isim_mbr_build(sector, c->bootcode ? code : NULL, c->bootcode, 1, parts, n, &err);
		if ((r == 0) != (c->msg == NULL) || (c->msg && strcmp(tu_msg(&err), c->msg) != 0))
			print_error("'%s': got %d, '%s'\n", c->layout, r, r ? tu_msg(&err) : "");
		if (!c->msg) {
			assert_int_equal(r, 0);
			assert_int_equal(isim_mbr_parse(sector, &id, back), (int)n);
			continue;
		}
		assert_int_equal(r, -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(tu_msg(&err), c->msg);
	}
	print_message("# %zu layouts\n", i);
}

/* The first sector of a sparse 64 MiB file, as isim_mbr_build wrote it,
 * read by util-linux's sfdisk. */
static void test_mbr_sfdisk(void **state)
{
	static const struct isim_mbr_part parts[] = {
		{ .start = 2048, .sectors = 65536, .type = 0x06, .bootable = true },
		{ .start = 67584, .sectors = 61440, .type = 0x83 },
	};
	static const char *const want[] = {
		"start=2048,size=65536,type=6,bootable",
		"start=67584,size=61440,type=83",
	};
	const char *dir = *state;
	uint8_t sector[ISIM_SECTOR];
	struct isim_error err;
	char path[PATH_MAX], cmd[PATH_MAX + 100], line[512];
	bool label = false, id = false;
	size_t n = 0;
	FILE *p;
	int fd;

	if (system("PATH=$PATH:/usr/sbin:/sbin command -v sfdisk >/dev/null 2>&1") != 0) {
		print_message("# sfdisk is not installed: skipped\n");
		skip();
	}
	isim_error_clear(&err);
	assert_int_equal(isim_mbr_build(sector, NULL, 0, 0x0a1b2c3d, parts, 2, &err), 0);
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * MIB), 0);
	assert_int_equal(pwrite(fd, sector, sizeof(sector), 0), (ssize_t)sizeof(sector));
	assert_int_equal(close(fd), 0);

	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin sfdisk --dump '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *sep = strstr(line, " : "), *s, *d;

		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "label: dos") == 0)
			label = true;
		if (strcmp(line, "label-id: 0x0a1b2c3d") == 0)
			id = true;
		if (!sep)
			continue;
		/* "disk.img1 : start=        2048, size=  65536, type=6, bootable" */
		for (s = d = sep + 3; *s; s++)
			if (*s != ' ')
				*d++ = *s;
		*d = '\0';
		assert_true(n < 2);
		assert_string_equal(sep + 3, want[n]);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(label);
	assert_true(id);
	assert_int_equal(n, 2);
}

/* ---- sparse copies ------------------------------------------------------ */

static void write_at(const char *path, off_t size, off_t at, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	if (len)
		assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void test_copy_sparse(void **state)
{
	const char *dir = *state;
	const uint64_t size = 8 * MIB, offset = MIB;
	static uint8_t block[3 * 65536 + 5];
	char src[PATH_MAX], dst[PATH_MAX];
	struct isim_error err;
	uint8_t *back;
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i % 251 + 1);
	/* 8 MiB of zeros but for 196613 bytes that start mid-block at 3 MiB
	 * + 17 and a last byte. */
	snprintf(src, sizeof(src), "%s/root.img", dir);
	write_at(src, (off_t)size, 3 * MIB + 17, block, sizeof(block));
	fd = open(src, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Z", 1, (off_t)size - 1), 1);
	assert_int_equal(close(fd), 0);

	/* The caller sizes the new disk first, as isim-build does. */
	snprintf(dst, sizeof(dst), "%s/disk.raw", dir);
	write_at(dst, (off_t)(offset + size), 0, NULL, 0);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	isim_error_clear(&err);
	assert_int_equal(isim_copy_sparse(fd, dst, offset, src, &err), 0);
	assert_int_equal(close(fd), 0);

	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, (off_t)(offset + size));
	/* Most of the 8 MiB copied stayed holes. */
	assert_true((uint64_t)st.st_blocks * 512 < size / 4);
	back = (uint8_t *)tu_read(dst);
	assert_non_null(back);
	for (i = 0; i < offset + 3 * MIB + 17; i++)
		if (back[i])
			fail_msg("byte %zu is %u before the data", i, back[i]);
	assert_memory_equal(back + offset + 3 * MIB + 17, block, sizeof(block));
	for (i = offset + 3 * MIB + 17 + sizeof(block); i < offset + size - 1; i++)
		if (back[i])
			fail_msg("byte %zu is %u after the data", i, back[i]);
	assert_int_equal(back[offset + size - 1], 'Z');
	free(back);
}

/* Whatever the source holds lands at the offset, the blocks around it kept. */
static void test_copy_sparse_keeps_rest(void **state)
{
	const char *dir = *state;
	char src[PATH_MAX], dst[PATH_MAX], *back;
	struct isim_error err;
	int fd;

	snprintf(src, sizeof(src), "%s/small", dir);
	write_at(src, 5, 0, "hello", 5);
	snprintf(dst, sizeof(dst), "%s/disk", dir);
	write_at(dst, 20, 0, "AAAAAAAAAAAAAAAAAAA", 19);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	isim_error_clear(&err);
	assert_int_equal(isim_copy_sparse(fd, dst, 7, src, &err), 0);
	assert_int_equal(close(fd), 0);
	back = tu_read(dst);
	assert_memory_equal(back, "AAAAAAAhelloAAAAAAA", 20);
	free(back);

	/* An empty source copies nothing. */
	write_at(src, 0, 0, NULL, 0);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(isim_copy_sparse(fd, dst, 0, src, &err), 0);
	assert_int_equal(close(fd), 0);
	back = tu_read(dst);
	assert_memory_equal(back, "AAAAAAAhelloAAAAAAA", 20);
	free(back);
}

static void test_copy_sparse_errors(void **state)
{
	const char *dir = *state;
	char src[PATH_MAX], dst[PATH_MAX], want[PATH_MAX + 100];
	struct isim_error err;
	int fd;

	snprintf(src, sizeof(src), "%s/missing.img", dir);
	snprintf(dst, sizeof(dst), "%s/disk", dir);
	write_at(dst, 4096, 0, NULL, 0);
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	isim_error_clear(&err);
	assert_int_equal(isim_copy_sparse(fd, dst, 0, src, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, src);
	snprintf(want, sizeof(want), "%s: cannot open: %s", src, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), want);
	assert_int_equal(close(fd), 0);

	/* A destination open for reading only: the error names it. */
	snprintf(src, sizeof(src), "%s/data", dir);
	write_at(src, 4, 0, "data", 4);
	fd = open(dst, O_RDONLY);
	assert_true(fd >= 0);
	isim_error_clear(&err);
	assert_int_equal(isim_copy_sparse(fd, dst, 0, src, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_string_equal(err.path, dst);
	snprintf(want, sizeof(want), "%s: cannot write: %s", dst, strerror(EBADF));
	assert_string_equal(tu_msg(&err), want);
	assert_int_equal(close(fd), 0);

	/* A folder as the source. */
	fd = open(dst, O_RDWR);
	assert_true(fd >= 0);
	isim_error_clear(&err);
	assert_int_equal(isim_copy_sparse(fd, dst, 0, dir, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(tu_msg(&err), want);
	assert_int_equal(close(fd), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbr_layout),
		cmocka_unit_test(test_mbr_round_trip),
		cmocka_unit_test(test_mbr_parse),
		cmocka_unit_test(test_mbr_refused),
		T(test_mbr_sfdisk),
		T(test_copy_sparse),
		T(test_copy_sparse_keeps_rest),
		T(test_copy_sparse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
