/* SPDX-License-Identifier: MIT */
/* The NoCloud seed: an ISO 9660 volume labelled cidata whose meta-data
 * and user-data cloud-init reads, each input delivered at its destination
 * with its mode and exact bytes (base64 in write_files), and nothing of
 * the inputs kept once the seed is written. */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/nocloud.h"
#include "testutil.h"

struct seed {
	char meta[512];
	char user[4096];
	char volume[64];
	int nfiles;
};

static void read_seed(const char *iso, struct seed *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	memset(out, 0, sizeof(*out));
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_iso9660(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, iso, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char *dst = NULL;
		size_t cap = 0;

		if (strcmp(archive_entry_pathname(e), "meta-data") == 0)
			dst = out->meta, cap = sizeof(out->meta);
		else if (strcmp(archive_entry_pathname(e), "user-data") == 0)
			dst = out->user, cap = sizeof(out->user);
		if (archive_entry_filetype(e) == AE_IFREG)
			out->nfiles++;
		if (dst)
			assert_true(archive_read_data(a, dst, cap - 1) >= 0);
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	{
		/* The volume identifier: 32 bytes at offset 40 of the primary
		 * volume descriptor, sector 16 (ECMA-119 8.4.6). */
		FILE *f = fopen(iso, "rb");
		char vd[2048];

		assert_non_null(f);
		assert_int_equal(fseek(f, 16 * 2048, SEEK_SET), 0);
		assert_int_equal(fread(vd, 1, sizeof(vd), f), sizeof(vd));
		fclose(f);
		memcpy(out->volume, vd + 40, 32);
		out->volume[strcspn(out->volume, " ")] = '\0';
	}
}

/* The decoded content of the write_files entry for dest, and its mode. */
static size_t content_of(const char *user, const char *dest, char *perm, unsigned char *out, size_t cap)
{
	char key[256], *at, b64[2048];
	size_t bin = 0;

	snprintf(key, sizeof(key), "  - path: '%s'\n    owner: root:root\n    permissions: '", dest);
	at = strstr(user, key);
	assert_non_null(at);
	at += strlen(key);
	memcpy(perm, at, 4);
	perm[4] = '\0';
	at = strstr(at, "    encoding: b64\n    content: ");
	assert_non_null(at);
	at += strlen("    encoding: b64\n    content: ");
	memcpy(b64, at, strcspn(at, "\n"));
	b64[strcspn(at, "\n")] = '\0';
	assert_int_equal(
		sodium_base642bin(out, cap, b64, strlen(b64), NULL, &bin, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return bin;
}

static void test_seed(void **state)
{
	const char *dir = *state;
	static const unsigned char binary[] = { 0, 1, 2, '\n', '\'', 0xff, 0xfe };
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct seed got;
	unsigned char buf[256];
	char perm[8], iso[PATH_MAX], src[PATH_MAX];

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	snprintf(src, sizeof(src), "%s/key.txt", dir);
	tu_write(dir, "key.txt", "secret key text\n");

	assert_int_equal(isim_nocloud_new("isim-test-0123456789abcdef", "wg-mesh", "test values", &s, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/addr", "10.0.0.2/16\n", 12, false, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/blob", binary, sizeof(binary), true, &err), 0);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/infrasim/key", src, 1024, true, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/empty", "", 0, false, &err), 0);
	assert_int_equal(isim_nocloud_held(s), 12 + sizeof(binary) + 16);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	/* The inputs are gone from memory once written. */
	assert_int_equal(isim_nocloud_held(s), 0);
	isim_nocloud_free(s);

	read_seed(iso, &got);
	assert_int_equal(got.nfiles, 2);
	assert_string_equal(got.volume, "CIDATA");
	assert_string_equal(got.meta, "instance-id: isim-test-0123456789abcdef\nlocal-hostname: wg-mesh\n");
	assert_true(strncmp(got.user, "#cloud-config\n# test values\nwrite_files:\n", 41) == 0);

	assert_int_equal(content_of(got.user, "/etc/infrasim/addr", perm, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "10.0.0.2/16\n", 12);
	assert_string_equal(perm, "0644");
	assert_int_equal(content_of(got.user, "/etc/infrasim/blob", perm, buf, sizeof(buf)), sizeof(binary));
	assert_memory_equal(buf, binary, sizeof(binary));
	assert_string_equal(perm, "0600");
	assert_int_equal(content_of(got.user, "/etc/infrasim/key", perm, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "secret key text\n", 16);
	assert_string_equal(perm, "0600");
	assert_int_equal(content_of(got.user, "/etc/empty", perm, buf, sizeof(buf)), 0);
	/* Nothing after the last entry but its newline. */
	assert_int_equal(got.user[strlen(got.user) - 1], '\n');
	assert_null(strstr(got.user, "secret key text"));
}

static void test_refused(void **state)
{
	const char *dir = *state;
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	char src[PATH_MAX];

	isim_error_clear(&err);
	assert_int_equal(isim_nocloud_new("a\nb", "h", NULL, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_nocloud_new("id", "h", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "relative/path", "x", 1, false, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_nocloud_add(s, "/etc/it's", "x", 1, false, &err), -1);
	snprintf(src, sizeof(src), "%s/missing", dir);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/x", src, 1024, true, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, src);
	tu_write(dir, "big", "0123456789");
	snprintf(src, sizeof(src), "%s/big", dir);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/x", src, 4, true, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(isim_nocloud_held(s), 0);
	/* A seed that cannot be created leaves no file. */
	snprintf(src, sizeof(src), "%s/no/such/dir/seed.iso", dir);
	assert_int_equal(isim_nocloud_write(s, src, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	isim_nocloud_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
