/* SPDX-License-Identifier: MIT */
/* Appliance archives: member paths; an archive written and checked back
 * (unsigned, signed by a trusted key, by another key), the same bytes from
 * the same inputs, and refusals of archives changed afterwards: a member
 * missing, added, changed, a link, an unsafe path, a truncated file, a
 * plain tar; the manifest's own rules; a writer that leaves nothing behind. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/appliance.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/minisign.h"
#include "isim/trust.h"
#include "testutil.h"

#define MTIME 1700000000
#define DISK_SIZE (300 * 1024)

static void test_paths(void **state)
{
	static const char *const good[] = { "a", "disk.qcow2", "cloud-init/user-data", "a-b_c.d/E9",
					    "1/2/3/4/5/6/7/8" };
	static const char *const bad[] = { "",	     "/a",   "a/",	"a//b",	      "..",
					   "a/../b", "./a",  ".hidden", "a/.b",	      "1/2/3/4/5/6/7/8/9",
					   "a b",    "a\\b", "a\nb",	"caf\xc3\xa9" };
	char longc[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(isim_appliance_path_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (isim_appliance_path_ok(bad[i]))
			print_error("accepted '%s'\n", bad[i]);
		assert_false(isim_appliance_path_ok(bad[i]));
	}
	memset(longc, 'x', 128);
	longc[128] = '\0';
	assert_true(isim_appliance_path_ok(longc));
	longc[128] = 'x';
	longc[129] = '\0';
	assert_false(isim_appliance_path_ok(longc));
}

/* A disk-like file of pseudo-random bytes (so gzip cannot shrink it and a
 * truncation lands in its data). */
static void make_disk(const char *path)
{
	uint8_t *b = malloc(DISK_SIZE);
	uint32_t x = 12345;
	size_t i;
	FILE *f;

	assert_non_null(b);
	for (i = 0; i < DISK_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, DISK_SIZE, f), DISK_SIZE);
	assert_int_equal(fclose(f), 0);
	free(b);
}

static cJSON *base_manifest(void)
{
	static const char text[] = "{\"format\":\"infrasim-appliance/1\",\"name\":\"web1\","
				   "\"id\":\"0b8d3c3e-9a6f-4c1e-8f5e-3b9d2a7c6e10\","
				   "\"created_at\":\"2023-11-14T22:13:20Z\","
				   "\"machine\":{\"memory_mib\":512,\"cpus\":1,\"disk_size\":1073741824},"
				   "\"secrets\":false}";
	struct isim_error err;
	cJSON *doc = NULL;

	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, sizeof(text) - 1, "base", &doc, &err), 0);
	return doc;
}

/* Write dir/name with the usual members; 0 or -1 with err. */
static int write_one(const char *dir, const char *name, const struct isim_ms_seckey *sk, bool replace,
		     struct isim_appliance_result *res, struct isim_error *err)
{
	static const char ud[] = "#cloud-config\n", md[] = "instance-id: web1\n", tf[] = "terraform {}\n";
	char disk[PATH_MAX], out[PATH_MAX];
	struct isim_appliance_member m[4] = {
		{ "terraform/main.tf", tf, sizeof(tf) - 1, NULL, 0644 },
		{ "disk.qcow2", NULL, 0, disk, 0644 },
		{ "cloud-init/user-data", ud, sizeof(ud) - 1, NULL, 0644 },
		{ "cloud-init/meta-data", md, sizeof(md) - 1, NULL, 0644 },
	};
	cJSON *base = base_manifest();
	struct isim_appliance_out o = {
		.path = out, .replace = replace, .mode = 0644, .mtime = MTIME, .manifest = base, .key = sk
	};
	int ret;

	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	if (access(disk, F_OK) < 0)
		make_disk(disk);
	isim_error_clear(err);
	ret = isim_appliance_write(&o, m, 4, res, err);
	cJSON_Delete(base);
	return ret;
}

static void check(const char *path, const struct isim_trust *t, bool allow_unsigned, bool ok, const char *reason)
{
	struct isim_appliance_report *r = malloc(sizeof(*r));
	struct isim_error err;

	assert_non_null(r);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_check(path, t, allow_unsigned, r, &err), 0);
	if (r->v.ok != ok || (reason && strcmp(r->v.reason, reason)))
		print_error("%s: ok %d, reason '%s'\n", path, r->v.ok, r->v.reason);
	assert_int_equal(r->v.ok, ok);
	if (reason)
		assert_string_equal(r->v.reason, reason);
	free(r);
}

static void test_write_check(void **state)
{
	const char *dir = *state;
	struct isim_appliance_result res, res2;
	struct isim_appliance_report r;
	struct isim_error err;
	char path[PATH_MAX];
	struct stat st;

	assert_int_equal(write_one(dir, "a.tar.gz", NULL, false, &res, &err), 0);
	assert_int_equal(res.members, 4);
	snprintf(path, sizeof(path), "%s/a.tar.gz", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, res.size);
	assert_int_equal(st.st_mode & 07777, 0644);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_check(path, NULL, true, &r, &err), 0);
	assert_true(r.v.ok);
	assert_string_equal(r.name, "web1");
	assert_string_equal(r.id, "0b8d3c3e-9a6f-4c1e-8f5e-3b9d2a7c6e10");
	assert_int_equal(r.members, 4);
	assert_false(r.is_signed);
	/* Unsigned is refused unless allowed. */
	check(path, NULL, false, false, "not signed (no manifest.json.minisig)");
	/* The same inputs, the same bytes; an existing file kept. */
	assert_int_equal(write_one(dir, "b.tar.gz", NULL, false, &res2, &err), 0);
	assert_string_equal(res.sha256, res2.sha256);
	assert_int_equal(write_one(dir, "b.tar.gz", NULL, false, &res2, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_int_equal(write_one(dir, "b.tar.gz", NULL, true, &res2, &err), 0);
}

static struct isim_ms_seckey *key_pair(const char *dir, const char *pubname)
{
	struct isim_ms_seckey *sk = NULL;
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char text[512];

	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_new(&sk, &err), 0);
	isim_ms_seckey_pubkey(sk, &pk);
	assert_true(isim_ms_pubkey_format(&pk, text, sizeof(text)) > 0);
	tu_write(dir, pubname, text);
	return sk;
}

static void test_signed(void **state)
{
	const char *dir = *state;
	struct isim_ms_seckey *sk = key_pair(dir, "k.pub"), *other = key_pair(dir, "other.pub");
	struct isim_trust *t = NULL, *t2 = NULL;
	struct isim_appliance_result res;
	struct isim_appliance_report r;
	struct isim_error err;
	char path[PATH_MAX];

	assert_int_equal(write_one(dir, "s.tar.gz", sk, false, &res, &err), 0);
	snprintf(path, sizeof(path), "%s/k.pub", dir);
	assert_int_equal(isim_trust_from_pubkey(path, &t, &err), 0);
	snprintf(path, sizeof(path), "%s/other.pub", dir);
	assert_int_equal(isim_trust_from_pubkey(path, &t2, &err), 0);
	snprintf(path, sizeof(path), "%s/s.tar.gz", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_check(path, t, false, &r, &err), 0);
	assert_true(r.v.ok);
	assert_true(r.is_signed);
	assert_int_equal(strlen(r.v.key_id), 16);
	assert_int_equal(isim_appliance_check(path, t2, false, &r, &err), 0);
	assert_false(r.v.ok);
	if (!strstr(r.v.reason, "but the public key is"))
		print_error("reason: %s\n", r.v.reason);
	assert_non_null(strstr(r.v.reason, "but the public key is"));
	/* Signed, but nobody to check it against. */
	check(path, NULL, true, false, "signed, but no trusted signers were given");
	isim_trust_free(t);
	isim_trust_free(t2);
	isim_ms_seckey_free(sk);
	isim_ms_seckey_free(other);
}

/* An archive of entries as a tool other than ours could make them:
 * copies of src's entries (all but skip), then one more entry (name, type,
 * data, link target) unless name is NULL. */
static void craft(const char *src, const char *dst, const char *skip, const char *name, mode_t type, const char *data,
		  const char *link, bool gzip)
{
	struct archive *in = archive_read_new(), *out = archive_write_new();
	struct archive_entry *e;
	char buf[65536];
	la_ssize_t n;

	archive_read_support_filter_gzip(in);
	archive_read_support_format_tar(in);
	assert_int_equal(archive_read_open_filename(in, src, 65536), ARCHIVE_OK);
	archive_write_set_format_pax_restricted(out);
	if (gzip)
		archive_write_add_filter_gzip(out);
	assert_int_equal(archive_write_open_filename(out, dst), ARCHIVE_OK);
	while (archive_read_next_header(in, &e) == ARCHIVE_OK) {
		if (skip && !strcmp(archive_entry_pathname(e), skip))
			continue;
		assert_int_equal(archive_write_header(out, e), ARCHIVE_OK);
		while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
			assert_int_equal(archive_write_data(out, buf, (size_t)n), n);
	}
	if (name) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, 0644);
		if (link && type == AE_IFLNK)
			archive_entry_set_symlink(e, link);
		else if (link)
			archive_entry_set_hardlink(e, link);
		archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
		assert_int_equal(archive_write_header(out, e), ARCHIVE_OK);
		if (data)
			assert_int_equal(archive_write_data(out, data, strlen(data)), (la_ssize_t)strlen(data));
		archive_entry_free(e);
	}
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
}

static void test_tampered(void **state)
{
	const char *dir = *state;
	struct isim_appliance_result res;
	struct isim_error err;
	char good[PATH_MAX], bad[PATH_MAX];

	assert_int_equal(write_one(dir, "a.tar.gz", NULL, false, &res, &err), 0);
	snprintf(good, sizeof(good), "%s/a.tar.gz", dir);
	snprintf(bad, sizeof(bad), "%s/bad.tar.gz", dir);
	/* Copied whole, it still checks: the copier is faithful. */
	craft(good, bad, NULL, NULL, 0, NULL, NULL, true);
	check(bad, NULL, true, true, "");
	craft(good, bad, "cloud-init/user-data", NULL, 0, NULL, NULL, true);
	check(bad, NULL, true, false, "member 'cloud-init/user-data' is missing");
	craft(good, bad, NULL, "extra.sh", AE_IFREG, "#!/bin/sh\n", NULL, true);
	check(bad, NULL, true, false, "member 'extra.sh' is not in the manifest");
	craft(good, bad, NULL, "hidden", AE_IFDIR, NULL, NULL, true);
	check(bad, NULL, true, false, "directory 'hidden' is not in the manifest");
	craft(good, bad, "terraform/main.tf", "terraform/main.tf", AE_IFREG, "terraform {}\n", NULL, true);
	check(bad, NULL, true, true, "");
	craft(good, bad, "terraform/main.tf", "terraform/main.tf", AE_IFREG, "terraform []\n", NULL, true);
	check(bad, NULL, true, false, "member 'terraform/main.tf' changed: its SHA-256 is not the manifest's");
	craft(good, bad, "terraform/main.tf", "terraform/main.tf", AE_IFREG, "terraform { }\n", NULL, true);
	check(bad, NULL, true, false, "member 'terraform/main.tf' changed: 14 bytes, the manifest says 13");
	craft(good, bad, NULL, "../evil", AE_IFREG, "x", NULL, true);
	check(bad, NULL, true, false, "'../evil' leaves the archive ('..')");
	craft(good, bad, NULL, "/etc/evil", AE_IFREG, "x", NULL, true);
	check(bad, NULL, true, false, "'/etc/evil' is an absolute path");
	craft(good, bad, NULL, "link", AE_IFLNK, NULL, "/etc/shadow", true);
	check(bad, NULL, true, false, "'link' is a symbolic link");
	craft(good, bad, NULL, "hard", AE_IFREG, NULL, "disk.qcow2", true);
	check(bad, NULL, true, false, "'hard' is a hard link");
	craft(good, bad, NULL, "fifo", AE_IFIFO, NULL, NULL, true);
	check(bad, NULL, true, false, "'fifo' is not a regular file or a directory");
	craft(good, bad, NULL, "disk.qcow2", AE_IFREG, "x", NULL, true);
	check(bad, NULL, true, false, "'disk.qcow2' is in the archive twice");
	craft(good, bad, "manifest.json", NULL, 0, NULL, NULL, true);
	check(bad, NULL, true, false, "no manifest.json");
	craft(good, bad, "manifest.json", "manifest.json", AE_IFREG, "{\"format\":\"x\"}", NULL, true);
	check(bad, NULL, true, false, "manifest.json: required: missing property 'name'");
}

static void test_not_archives(void **state)
{
	const char *dir = *state;
	struct isim_appliance_report r;
	struct isim_appliance_result res;
	struct isim_error err;
	char good[PATH_MAX], bad[PATH_MAX];
	struct stat st;

	assert_int_equal(write_one(dir, "a.tar.gz", NULL, false, &res, &err), 0);
	snprintf(good, sizeof(good), "%s/a.tar.gz", dir);
	snprintf(bad, sizeof(bad), "%s/plain.tar", dir);
	craft(good, bad, NULL, NULL, 0, NULL, NULL, false);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_check(bad, NULL, true, &r, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_non_null(strstr(tu_msg(&err), "not a gzip'ed tar archive"));
	tu_write(dir, "text", "hello\n");
	assert_int_equal(isim_appliance_check(tu_path(dir, "text"), NULL, true, &r, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(isim_appliance_check(tu_path(dir, "none.tar.gz"), NULL, true, &r, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	/* Cut in the middle of the disk: a verdict, not a failure. */
	assert_int_equal(stat(good, &st), 0);
	assert_int_equal(truncate(good, st.st_size / 2), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_check(good, NULL, true, &r, &err), 0);
	assert_false(r.v.ok);
	assert_non_null(strstr(r.v.reason, "disk.qcow2"));
}

static void test_writer_refuses(void **state)
{
	const char *dir = *state;
	static const char x[] = "x";
	cJSON *base = base_manifest();
	char out[PATH_MAX];
	struct isim_appliance_out o = { .path = out, .mode = 0644, .mtime = MTIME, .manifest = base };
	struct isim_appliance_member m[2] = { { "a", x, 1, NULL, 0644 }, { "a", x, 1, NULL, 0644 } };
	struct isim_appliance_result res;
	struct isim_error err;
	struct dirent *d;
	DIR *dd;

	snprintf(out, sizeof(out), "%s/out.tar.gz", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_write(&o, m, 2, &res, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "member 'a' is given twice");
	m[1].path = "../b";
	assert_int_equal(isim_appliance_write(&o, m, 2, &res, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "'../b' is not a member path");
	m[1].path = "manifest.json";
	assert_int_equal(isim_appliance_write(&o, m, 2, &res, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "'manifest.json' is not a member path");
	m[1].path = "a/b";
	assert_int_equal(isim_appliance_write(&o, m, 2, &res, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "'a' is both a member and a directory");
	m[1] = (struct isim_appliance_member){ "disk", NULL, 0, tu_path(dir, "missing"), 0644 };
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_write(&o, m, 2, &res, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	/* Nothing was left in the folder. */
	dd = opendir(dir);
	assert_non_null(dd);
	while ((d = readdir(dd)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			fail_msg("left behind: %s", d->d_name);
	closedir(dd);
	cJSON_Delete(base);
}

static void test_manifest_rules(void **state)
{
	static const char head[] =
		"{\"format\":\"infrasim-appliance/1\",\"name\":\"a\","
		"\"id\":\"0b8d3c3e-9a6f-4c1e-8f5e-3b9d2a7c6e10\",\"created_at\":\"2023-11-14T22:13:20Z\","
		"\"machine\":{\"memory_mib\":1,\"cpus\":1,\"disk_size\":1},\"secrets\":true,\"members\":[";
	static const char sha[] = "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"";
	struct isim_appliance_manifest m;
	struct isim_error err;
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), "%s{\"path\":\"a\",\"size\":1,%s},{\"path\":\"b/c\",\"size\":2,%s}]}", head, sha,
		 sha);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_manifest_parse(text, strlen(text), "m.json", &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.members[1].path, "b/c");
	assert_int_equal(m.members[1].size, 2);
	assert_true(m.secrets);
	isim_appliance_manifest_free(&m);
	snprintf(text, sizeof(text), "%s{\"path\":\"a\",\"size\":1,%s},{\"path\":\"a\",\"size\":2,%s}]}", head, sha,
		 sha);
	assert_int_equal(isim_appliance_manifest_parse(text, strlen(text), "m.json", &m, &err), -1);
	tu_expect_error(&err, ISIM_ERR_DATA, "m.json: /members/1/path: 'a' is listed twice");
	snprintf(text, sizeof(text), "%s{\"path\":\"manifest.json\",\"size\":1,%s}]}", head, sha);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_manifest_parse(text, strlen(text), "m.json", &m, &err), -1);
	tu_expect_error(&err, ISIM_ERR_DATA, "m.json: /members/0/path: 'manifest.json' is not a member path");
	snprintf(text, sizeof(text), "%s{\"path\":\"../a\",\"size\":1,%s}]}", head, sha);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_manifest_parse(text, strlen(text), "m.json", &m, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.pointer, "/members/0/path");
	snprintf(text, sizeof(text), "%s{\"path\":\"a\",\"size\":-1,%s}]}", head, sha);
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_manifest_parse(text, strlen(text), "m.json", &m, &err), -1);
	assert_string_equal(err.pointer, "/members/0/size");
	isim_error_clear(&err);
	assert_int_equal(isim_appliance_manifest_parse("[]", 2, "m.json", &m, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_write_check, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_signed, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_tampered, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_not_archives, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_writer_refuses, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test(test_manifest_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
