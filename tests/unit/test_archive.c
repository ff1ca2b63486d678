/* SPDX-License-Identifier: MIT */
/* Archives: the initramfs cpio read back by libarchive's own reader, the
 * same bytes from the same calls, compressed inputs unpacked; the NoCloud
 * ISO and its volume label where ISO 9660 puts it; tar extraction that
 * keeps what it holds and refuses entries leaving the folder. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/archive.h"
#include "testutil.h"

#define MTIME 1700000000

/* Programs run by the tests: util-linux's may be in sbin. */
#define SBIN_PATH "PATH=$PATH:/usr/sbin:/sbin "

/* Whether the program is installed (tests that need it skip when not). */
static bool have(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), SBIN_PATH "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static bool empty_dir(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	return n == 0;
}

/* ---- reading back with libarchive ---------------------------------------- */

/* One entry as libarchive's reader gives it. */
struct entry {
	char name[256];
	mode_t type, perm;
	la_int64_t uid, gid, ino;
	time_t mtime;
	char link[256];
	unsigned major, minor;
	char data[256];
	size_t len;
};

/* Every entry of the archive at path (any format and filter libarchive
 * reads); returns how many, up to max. */
static size_t read_all(const char *path, struct entry *out, size_t max, int *format, int *filter)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;
	int r;

	assert_non_null(a);
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK)
		fail_msg("%s: %s", path, archive_error_string(a));
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		struct entry *x = &out[n];
		la_ssize_t got;

		assert_true(n < max);
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", archive_entry_pathname(e));
		x->type = archive_entry_filetype(e);
		x->perm = archive_entry_perm(e);
		x->uid = archive_entry_uid(e);
		x->gid = archive_entry_gid(e);
		x->ino = archive_entry_ino64(e);
		x->mtime = archive_entry_mtime(e);
		if (archive_entry_symlink(e))
			snprintf(x->link, sizeof(x->link), "%s", archive_entry_symlink(e));
		x->major = archive_entry_rdevmajor(e);
		x->minor = archive_entry_rdevminor(e);
		got = archive_read_data(a, x->data, sizeof(x->data) - 1);
		assert_true(got >= 0);
		x->len = (size_t)got;
		n++;
	}
	if (r != ARCHIVE_EOF)
		fail_msg("%s: %s", path, archive_error_string(a));
	if (format)
		*format = archive_format(a);
	if (filter)
		*filter = archive_filter_code(a, 0);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	return n;
}

static const struct entry *find(const struct entry *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	fail_msg("no entry '%s'", name);
	return NULL;
}

/* ---- cpio ----------------------------------------------------------------- */

/* The same small initramfs every time. */
static void write_initramfs(const char *path, time_t mtime)
{
	struct isim_cpio *c = NULL;
	struct isim_error err;

	isim_error_clear(&err);
	assert_int_equal(isim_cpio_open(&c, path, mtime, &err), 0);
	assert_int_equal(isim_cpio_dir(c, "dev", 0755, &err), 0);
	assert_int_equal(isim_cpio_chardev(c, "dev/console", 0600, 5, 1, &err), 0);
	assert_int_equal(isim_cpio_dir(c, "bin", 0755, &err), 0);
	assert_int_equal(isim_cpio_data(c, "init", 0755, "#!/bin/busybox sh\n", 18, &err), 0);
	assert_int_equal(isim_cpio_symlink(c, "bin/sh", "busybox", &err), 0);
	/* Type bits in the mode are not taken for the entry's type. */
	assert_int_equal(isim_cpio_data(c, "etc-caf\xc3\xa9.conf", S_IFDIR | 0640, "x=1\n", 4, &err), 0);
	assert_int_equal(isim_cpio_data(c, "empty", 0644, NULL, 0, &err), 0);
	assert_int_equal(isim_cpio_close(c, &err), 0);
}

static void test_cpio_read_back(void **state)
{
	const char *dir = *state;
	struct entry list[16];
	const struct entry *x;
	char path[PATH_MAX];
	int format, filter;
	size_t n, i;

	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	write_initramfs(path, MTIME);
	n = read_all(path, list, 16, &format, &filter);
	assert_int_equal(n, 7);
	assert_int_equal(format, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
	assert_int_equal(filter, ARCHIVE_FILTER_GZIP);
	for (i = 0; i < n; i++) {
		assert_int_equal(list[i].uid, 0);
		assert_int_equal(list[i].gid, 0);
		assert_int_equal(list[i].mtime, MTIME);
		/* Inode numbers count up from 1, in the order of the calls. */
		assert_int_equal(list[i].ino, (la_int64_t)i + 1);
	}
	/* In the order written: the kernel makes dev before dev/console. */
	assert_string_equal(list[0].name, "dev");
	assert_string_equal(list[1].name, "dev/console");

	x = find(list, n, "dev");
	assert_int_equal(x->type, AE_IFDIR);
	assert_int_equal(x->perm, 0755);
	x = find(list, n, "dev/console");
	assert_int_equal(x->type, AE_IFCHR);
	assert_int_equal(x->perm, 0600);
	assert_int_equal(x->major, 5);
	assert_int_equal(x->minor, 1);
	assert_int_equal(x->len, 0);
	x = find(list, n, "init");
	assert_int_equal(x->type, AE_IFREG);
	assert_int_equal(x->perm, 0755);
	assert_int_equal(x->len, 18);
	assert_string_equal(x->data, "#!/bin/busybox sh\n");
	x = find(list, n, "bin/sh");
	assert_int_equal(x->type, AE_IFLNK);
	assert_string_equal(x->link, "busybox");
	x = find(list, n, "etc-caf\xc3\xa9.conf");
	assert_int_equal(x->type, AE_IFREG);
	assert_int_equal(x->perm, 0640);
	assert_string_equal(x->data, "x=1\n");
	x = find(list, n, "empty");
	assert_int_equal(x->type, AE_IFREG);
	assert_int_equal(x->len, 0);
}

static void test_cpio_reproducible(void **state)
{
	const char *dir = *state;
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	struct isim_error err;
	char *ta, *tb, *tc;
	size_t la, lb, lc;

	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(b, sizeof(b), "%s/b.img", dir);
	snprintf(c, sizeof(c), "%s/c.img", dir);
	write_initramfs(a, MTIME);
	sleep(1); /* a time taken from the clock would differ */
	write_initramfs(b, MTIME);
	write_initramfs(c, MTIME + 1);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(a, ISIM_FILE_MAX, &ta, &la, &err), 0);
	assert_int_equal(isim_file_read(b, ISIM_FILE_MAX, &tb, &lb, &err), 0);
	assert_int_equal(isim_file_read(c, ISIM_FILE_MAX, &tc, &lc, &err), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(ta, tb, la);
	/* The entries' time is in the archive. */
	assert_false(la == lc && memcmp(ta, tc, la) == 0);
	/* RFC 1952: ID1 ID2 CM FLG, then MTIME (bytes 4..7), zero for "no
	 * time stamp". */
	assert_true(la > 10);
	assert_int_equal((uint8_t)ta[0], 0x1f);
	assert_int_equal((uint8_t)ta[1], 0x8b);
	assert_int_equal((uint8_t)ta[2], 8);
	assert_int_equal(ta[4], 0);
	assert_int_equal(ta[5], 0);
	assert_int_equal(ta[6], 0);
	assert_int_equal(ta[7], 0);
	free(ta);
	free(tb);
	free(tc);
}

/* Kernel modules come as .ko.xz; the initramfs holds them unpacked. Plain
 * and gzip'ed files too. */
static void test_cpio_file(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], cmd[PATH_MAX * 2];
	struct isim_cpio *c = NULL;
	struct isim_error err;
	struct entry list[8];
	char big[200];
	size_t n;

	if (!have("xz") || !have("gzip")) {
		print_message("# xz or gzip is not installed: skipped\n");
		skip();
	}
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tu_write(dir, "virtio_net.ko", big);
	tu_write(dir, "plain.txt", "plain text\n");
	tu_write(dir, "notes.txt", "gzip'ed text\n");
	snprintf(cmd, sizeof(cmd), "cd '%s' && xz -k virtio_net.ko && gzip notes.txt", dir);
	assert_int_equal(system(cmd), 0);

	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_cpio_open(&c, path, MTIME, &err), 0);
	assert_int_equal(isim_cpio_file(c, "lib/virtio_net.ko", 0644, tu_path(dir, "virtio_net.ko.xz"), &err), 0);
	assert_int_equal(isim_cpio_file(c, "plain.txt", 0600, tu_path(dir, "plain.txt"), &err), 0);
	assert_int_equal(isim_cpio_file(c, "notes.txt", 0644, tu_path(dir, "notes.txt.gz"), &err), 0);
	assert_int_equal(isim_cpio_close(c, &err), 0);

	n = read_all(path, list, 8, NULL, NULL);
	assert_int_equal(n, 3);
	assert_string_equal(find(list, n, "lib/virtio_net.ko")->data, big);
	assert_string_equal(find(list, n, "plain.txt")->data, "plain text\n");
	assert_int_equal(find(list, n, "plain.txt")->perm, 0600);
	assert_string_equal(find(list, n, "notes.txt")->data, "gzip'ed text\n");
}

static void test_cpio_errors(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], src[PATH_MAX];
	struct isim_cpio *c = (struct isim_cpio *)&path;
	struct isim_error err;

	snprintf(path, sizeof(path), "%s/no/such/initrd.img", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_cpio_open(&c, path, MTIME, &err), -1);
	assert_null(c);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(err.path, path);

	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	snprintf(src, sizeof(src), "%s/virtio_net.ko.xz", dir);
	assert_int_equal(isim_cpio_open(&c, path, MTIME, &err), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_cpio_file(c, "lib/virtio_net.ko", 0644, src, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, src);
	isim_cpio_abort(c);
	isim_cpio_abort(NULL);
}

/* ---- ISO 9660 --------------------------------------------------------------- */

static void test_iso_seed(void **state)
{
	static const char user[] = "#cloud-config\nhostname: node1\n", meta[] = "instance-id: node1\n";
	const struct isim_iso_file files[] = {
		{ "user-data", user, sizeof(user) - 1 },
		{ "meta-data", meta, sizeof(meta) - 1 },
	};
	const char *dir = *state;
	char path[PATH_MAX], cmd[PATH_MAX + 64], label[64], *iso;
	struct isim_error err;
	struct entry list[8];
	FILE *p;
	size_t n, len, i;

	snprintf(path, sizeof(path), "%s/seed.iso", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_iso_write(path, "cidata", files, 2, &err), 0);
	n = read_all(path, list, 8, NULL, NULL);
	/* libarchive lists the root folder too when there is one. */
	assert_true(n >= 2);
	assert_int_equal(find(list, n, "user-data")->len, sizeof(user) - 1);
	assert_string_equal(find(list, n, "user-data")->data, user);
	assert_string_equal(find(list, n, "meta-data")->data, meta);

	/* ECMA-119 8.4: the primary volume descriptor is sector 16 (2048-byte
	 * sectors): type 1, "CD001", version 1, and the volume identifier in
	 * bytes 40..71, padded with spaces, in d-characters (7.4.1: upper case
	 * only). cloud-init takes "CIDATA" as it takes "cidata". */
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &iso, &len, &err), 0);
	assert_true(len >= 18 * 2048);
	assert_int_equal(iso[32768], 1);
	assert_memory_equal(iso + 32769, "CD001", 5);
	assert_int_equal(iso[32774], 1);
	assert_memory_equal(iso + 32768 + 40, "CIDATA                          ", 32);
	/* Joliet's supplementary descriptor follows (type 2) with the label as
	 * given, in UCS-2 big-endian padded with spaces; blkid reports it. */
	assert_int_equal(iso[34816], 2);
	assert_memory_equal(iso + 34817, "CD001", 5);
	assert_memory_equal(iso + 34816 + 40, "\0c\0i\0d\0a\0t\0a", 12);
	for (i = 52; i < 72; i += 2) {
		assert_int_equal(iso[34816 + i], 0);
		assert_int_equal(iso[34816 + i + 1], ' ');
	}
	free(iso);

	/* The label util-linux's blkid, and so cloud-init, reads. */
	if (!have("blkid")) {
		print_message("# blkid is not installed: label not read back\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), SBIN_PATH "blkid -p -o value -s LABEL '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(label, sizeof(label), p));
	assert_int_equal(pclose(p), 0);
	assert_string_equal(label, "cidata\n");
}

/* One file read back from a volume: as written, NUL-terminated; a file it
 * does not hold, one too large, and a file that is no volume refused. */
static void test_iso_read(void **state)
{
	static const char user[] = "#cloud-config\nhostname: node1\n", meta[] = "instance-id: node1\n";
	const struct isim_iso_file files[] = {
		{ "user-data", user, sizeof(user) - 1 },
		{ "meta-data", meta, sizeof(meta) - 1 },
	};
	const char *dir = *state;
	char path[PATH_MAX], *text = NULL;
	struct isim_error err;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/seed.iso", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_iso_write(path, "cidata", files, 2, &err), 0);
	assert_int_equal(isim_iso_read(path, "meta-data", 4096, &text, &len, &err), 0);
	assert_int_equal(len, sizeof(meta) - 1);
	assert_string_equal(text, meta);
	free(text);
	assert_int_equal(isim_iso_read(path, "user-data", 4096, &text, &len, &err), 0);
	assert_string_equal(text, user);
	free(text);
	assert_int_equal(isim_iso_read(path, "network-config", 4096, &text, &len, &err), -1);
	assert_null(text);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_non_null(strstr(tu_msg(&err), "the volume holds no file 'network-config'"));
	isim_error_clear(&err);
	assert_int_equal(isim_iso_read(path, "user-data", 8, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_non_null(strstr(tu_msg(&err), "'user-data' is larger than 8 bytes"));
	tu_write(dir, "not.iso", "hello\n");
	isim_error_clear(&err);
	assert_int_equal(isim_iso_read(tu_path(dir, "not.iso"), "user-data", 4096, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	isim_error_clear(&err);
	assert_int_equal(isim_iso_read(tu_path(dir, "none.iso"), "user-data", 4096, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
}

static void test_iso_errors(void **state)
{
	static const struct isim_iso_file one[] = { { "meta-data", "x", 1 } };
	const char *dir = *state;
	char path[PATH_MAX];
	struct isim_error err;

	snprintf(path, sizeof(path), "%s/no/such/seed.iso", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_iso_write(path, "cidata", one, 1, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(err.path, path);
}

/* ---- tar -------------------------------------------------------------------- */

struct tar_entry {
	const char *name;
	mode_t type, perm;
	const char *data; /* contents, or a symlink's target */
	time_t mtime;
	la_int64_t uid, gid;
};

/* A pax tar made with libarchive's writer. */
static void write_tar(const char *path, const struct tar_entry *list, size_t n)
{
	struct archive *a = archive_write_new();
	size_t i;

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = list[i].type == AE_IFREG ? strlen(list[i].data) : 0;

		assert_non_null(e);
		archive_entry_set_pathname(e, list[i].name);
		archive_entry_set_filetype(e, list[i].type);
		archive_entry_set_perm(e, list[i].perm);
		archive_entry_set_mtime(e, list[i].mtime, 0);
		archive_entry_set_uid(e, list[i].uid);
		archive_entry_set_gid(e, list[i].gid);
		if (list[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, list[i].data);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, list[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	assert_int_equal(archive_write_free(a), ARCHIVE_OK);
}

static void test_tar_extract(void **state)
{
	static const struct tar_entry list[] = {
		{ "etc", AE_IFDIR, 0750, NULL, 1600000000, 0, 0 },
		{ "etc/hostname", AE_IFREG, 0640, "node1\n", 1600000001, 1234, 2345 },
		{ "etc/localtime", AE_IFLNK, 0777, "/usr/share/zoneinfo/UTC", 1600000002, 0, 0 },
		{ "etc/motd.d/na\xc3\xafve.txt", AE_IFREG, 0604, "bonjour\n", 1600000003, 0, 0 },
		{ "usr/bin/tool", AE_IFREG, 04755, "#!/bin/sh\n", 1600000004, 0, 0 },
	};
	const char *dir = *state;
	char tar[PATH_MAX], root[PATH_MAX], cwd[PATH_MAX], after[PATH_MAX], link[PATH_MAX], *text;
	struct isim_error err;
	struct stat st;
	ssize_t n;

	snprintf(tar, sizeof(tar), "%s/base.tar", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	write_tar(tar, list, sizeof(list) / sizeof(list[0]));
	assert_int_equal(mkdir(root, 0755), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	isim_error_clear(&err);
	assert_int_equal(isim_tar_extract(tar, root, &err), 0);
	/* The working folder is ours again. */
	assert_non_null(getcwd(after, sizeof(after)));
	assert_string_equal(after, cwd);

	assert_int_equal(lstat(tu_path(root, "etc"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtime, 1600000000);
	assert_int_equal(lstat(tu_path(root, "etc/hostname"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_mtime, 1600000001);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 2345);
	}
	text = tu_read(tu_path(root, "etc/hostname"));
	assert_string_equal(text, "node1\n");
	free(text);
	assert_int_equal(lstat(tu_path(root, "etc/localtime"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(tu_path(root, "etc/localtime"), link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/usr/share/zoneinfo/UTC");
	text = tu_read(tu_path(root, "etc/motd.d/na\xc3\xafve.txt"));
	assert_non_null(text);
	assert_string_equal(text, "bonjour\n");
	free(text);
	assert_int_equal(lstat(tu_path(root, "etc/motd.d/na\xc3\xafve.txt"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	/* Missing parents are made; set-user-ID is kept for root. */
	assert_int_equal(lstat(tu_path(root, "usr/bin/tool"), &st), 0);
	if (geteuid() == 0)
		assert_int_equal(st.st_mode & 07777, 04755);
}

/* Entries that would land outside the folder: refused, and nothing is
 * written there. */
static void test_tar_refuses_escape(void **state)
{
	const char *dir = *state;
	char tar[PATH_MAX], root[PATH_MAX], abs[PATH_MAX], cwd[PATH_MAX], after[PATH_MAX];
	struct tar_entry bad[2] = {
		{ "ok.txt", AE_IFREG, 0644, "fine\n", MTIME, 0, 0 },
		{ NULL, AE_IFREG, 0644, "evil\n", MTIME, 0, 0 },
	};
	struct tar_entry via_link[] = {
		{ "up", AE_IFLNK, 0777, "..", MTIME, 0, 0 },
		{ "up/evil", AE_IFREG, 0644, "evil\n", MTIME, 0, 0 },
	};
	struct isim_error err;
	size_t i;

	snprintf(tar, sizeof(tar), "%s/bad.tar", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	/* An absolute name in our own folder rather than /tmp/evil, so that
	 * "not written" cannot be a file somebody else left there. */
	snprintf(abs, sizeof(abs), "%s/abs-evil", dir);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	for (i = 0; i < 3; i++) {
		const char *name = i == 0 ? "../evil" : i == 1 ? abs : "etc/../../evil";

		bad[1].name = name;
		write_tar(tar, bad, 2);
		isim_error_clear(&err);
		assert_int_equal(isim_tar_extract(tar, root, &err), -1);
		assert_string_equal(err.path, tar);
		if (!strstr(err.msg, name))
			print_error("%s: '%s'\n", name, tu_msg(&err));
		assert_non_null(strstr(err.msg, name));
		assert_int_equal(access(tu_path(dir, "evil"), F_OK), -1);
		assert_int_equal(access(abs, F_OK), -1);
		assert_non_null(getcwd(after, sizeof(after)));
		assert_string_equal(after, cwd);
	}
	/* Through a symlink that points out of the folder. */
	write_tar(tar, via_link, 2);
	isim_error_clear(&err);
	assert_int_equal(isim_tar_extract(tar, root, &err), -1);
	assert_non_null(strstr(err.msg, "up/evil"));
	assert_int_equal(access(tu_path(dir, "evil"), F_OK), -1);
	/* What came before the bad entry is there. */
	assert_int_equal(access(tu_path(root, "ok.txt"), F_OK), 0);
}

static void test_tar_errors(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], root[PATH_MAX], want[PATH_MAX + 100];
	static const struct tar_entry one[] = { { "a", AE_IFREG, 0644, "a\n", MTIME, 0, 0 } };
	struct isim_error err;

	snprintf(root, sizeof(root), "%s/root", dir);
	assert_int_equal(mkdir(root, 0755), 0);
	/* Not a tar archive. */
	tu_write(dir, "notes.txt", "these are not the archives you are looking for\n");
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_tar_extract(path, root, &err), -1);
	assert_string_equal(err.path, path);
	assert_non_null(strstr(err.msg, "Unrecognized archive format"));
	assert_true(empty_dir(root));

	snprintf(path, sizeof(path), "%s/missing.tar", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_tar_extract(path, root, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, path);

	/* The folder to extract into is missing. */
	snprintf(path, sizeof(path), "%s/one.tar", dir);
	write_tar(path, one, 1);
	snprintf(root, sizeof(root), "%s/no-root", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_tar_extract(path, root, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	snprintf(want, sizeof(want), "%s: cannot enter: %s", root, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), want);
}

static int list_one(const char *name, long long size, void *ctx)
{
	char *out = ctx;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%s%s=%lld", len ? " " : "", name, size);
	return 0;
}

static void test_tar_list(void **state)
{
	static const struct tar_entry list[] = {
		{ "etc", AE_IFDIR, 0755, NULL, MTIME, 0, 0 },
		{ "etc/hostname", AE_IFREG, 0644, "node1\n", MTIME, 0, 0 },
		{ "etc/localtime", AE_IFLNK, 0777, "UTC", MTIME, 0, 0 },
		{ "etc/empty", AE_IFREG, 0644, "", MTIME, 0, 0 },
	};
	const char *dir = *state;
	char path[PATH_MAX], out[512] = "";
	struct isim_error err;

	snprintf(path, sizeof(path), "%s/base.tar", dir);
	write_tar(path, list, 4);
	isim_error_clear(&err);
	assert_int_equal(isim_tar_list(path, list_one, out, &err), 0);
	/* Regular files only. */
	assert_string_equal(out, "etc/hostname=6 etc/empty=0");
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cpio_read_back),	    T(test_cpio_reproducible), T(test_cpio_file),  T(test_cpio_errors),
		T(test_iso_seed),	    T(test_iso_read),	       T(test_iso_errors), T(test_tar_extract),
		T(test_tar_refuses_escape), T(test_tar_errors),	       T(test_tar_list),
	};

	/* Names in archives are UTF-8; libarchive converts them through the
	 * locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
