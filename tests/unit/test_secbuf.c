/* SPDX-License-Identifier: MIT */
/* Secret buffers keep their content as they grow and hand back only wiped
 * memory; secret files are regular files or refused at once. */
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

#include "isim/minisign.h"
#include "isim/secbuf.h"
#include "testutil.h"

/* An allocator that records what it is given back. */
struct ledger {
	size_t gets, puts, dirty;
	size_t bytes_out;
};

static void *ledger_get(size_t size, void *ctx)
{
	struct ledger *l = ctx;
	void *p = malloc(size);

	if (p) {
		memset(p, 0xA5, size);
		l->gets++;
		l->bytes_out += size;
	}
	return p;
}

static void ledger_put(void *p, size_t size, void *ctx)
{
	struct ledger *l = ctx;
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < size; i++)
		if (c[i]) {
			l->dirty++;
			break;
		}
	l->puts++;
	l->bytes_out -= size;
	free(p);
}

static void expect_error(const struct isim_error *err, enum isim_err kind, const char *msg)
{
	char buf[2400];

	isim_error_format(err, buf, sizeof(buf));
	if (strcmp(buf, msg) != 0 || err->kind != kind)
		print_error("got kind %d, '%s'\n", err->kind, buf);
	assert_string_equal(buf, msg);
	assert_int_equal(err->kind, kind);
}

/* Growth by the default (sodium_malloc) allocator keeps every byte. */
static void test_growth_keeps_content(void **state)
{
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	unsigned char expected[10000];
	size_t i;

	(void)state;
	isim_error_clear(&err);
	for (i = 0; i < sizeof(expected); i++) {
		unsigned char c = (unsigned char)(i * 7 + 3);

		expected[i] = c;
		assert_int_equal(isim_secbuf_append(&b, &c, 1, &err), 0);
		assert_int_equal(b.p[b.len], '\0');
	}
	assert_int_equal(b.len, sizeof(expected));
	assert_true(b.cap > b.len);
	assert_memory_equal(b.p, expected, sizeof(expected));
	isim_secbuf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	isim_secbuf_free(&b);
}

/* Every block given back, on growth and on free, has been zeroed first. */
static void test_released_memory_is_wiped(void **state)
{
	struct ledger l = { 0 };
	const struct isim_secbuf_alloc a = { ledger_get, ledger_put, &l };
	struct isim_secbuf b = { .alloc = &a };
	struct isim_error err;
	char chunk[100];
	size_t i;

	(void)state;
	isim_error_clear(&err);
	memset(chunk, 'k', sizeof(chunk));
	for (i = 0; i < 50; i++)
		assert_int_equal(isim_secbuf_append(&b, chunk, sizeof(chunk), &err), 0);
	assert_int_equal(b.len, 5000);
	assert_true(l.gets >= 5); /* 256 -> 8192 is five growths */
	assert_int_equal(l.puts, l.gets - 1);
	for (i = 0; i < b.len; i++)
		assert_int_equal(b.p[i], 'k');
	isim_secbuf_free(&b);
	assert_int_equal(l.puts, l.gets);
	assert_int_equal(l.bytes_out, 0);
	assert_int_equal(l.dirty, 0);
	assert_ptr_equal(b.alloc, &a);
}

static void *refuse_get(size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	return NULL;
}

/* A failed growth leaves the old content in place, and says so. */
static void test_growth_failure(void **state)
{
	const struct isim_secbuf_alloc a = { refuse_get, ledger_put, NULL };
	struct isim_secbuf b = { .alloc = &a };
	struct isim_error err;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_secbuf_append(&b, "x", 1, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(isim_file_write_atomic(path, text, strlen(text), mode, NULL), 0);
}

/* A regular file is read whole into the buffer, with its mode. */
static void test_read_regular(void **state)
{
	const char *dir = *state;
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	char path[PATH_MAX], big[5000];
	mode_t mode;

	snprintf(path, sizeof(path), "%s/k", dir);
	write_file(path, "secret\n", 0600);
	isim_error_clear(&err);
	assert_int_equal(isim_secret_file_read(path, "secret key", 4096, &b, &mode, &err), 0);
	assert_int_equal(b.len, 7);
	assert_string_equal((const char *)b.p, "secret\n");
	assert_true(S_ISREG(mode));
	assert_int_equal(mode & 07777, 0600);
	assert_int_equal(isim_secret_file_check_mode(path, mode, &err), 0);

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(path, big, 0600);
	assert_int_equal(isim_secret_file_read(path, "secret key", 4096, &b, &mode, &err), -1);
	assert_null(b.p);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	isim_secbuf_free(&b);
}

/* Through a symlink, the file linked to is what is checked. */
static void test_read_symlink(void **state)
{
	const char *dir = *state;
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	char path[PATH_MAX], link[PATH_MAX], msg[PATH_MAX + 200];
	mode_t mode;

	snprintf(path, sizeof(path), "%s/real.key", dir);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	write_file(path, "secret\n", 0644);
	assert_int_equal(symlink(path, link), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_secret_file_read(link, "secret key", 4096, &b, &mode, &err), 0);
	assert_string_equal((const char *)b.p, "secret\n");
	assert_int_equal(isim_secret_file_check_mode(link, mode, &err), -1);
	snprintf(msg, sizeof(msg),
		 "%s: secret key file is accessible by group or others (mode 0644); refusing it until "
		 "'chmod 600' is run on it",
		 link);
	expect_error(&err, ISIM_ERR_PERM, msg);
	isim_secbuf_free(&b);
}

/* A FIFO with no writer is refused at once (the alarm fails a hang). */
static void test_fifo_refused_without_hanging(void **state)
{
	const char *dir = *state;
	struct isim_ms_seckey *sk = NULL;
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	char path[PATH_MAX], msg[PATH_MAX + 100];
	mode_t mode;

	snprintf(path, sizeof(path), "%s/fifo.key", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	isim_error_clear(&err);
	assert_int_equal(isim_secret_file_read(path, "secret key", 4096, &b, &mode, &err), -1);
	snprintf(msg, sizeof(msg), "%s: is a FIFO, not a secret key file", path);
	expect_error(&err, ISIM_ERR_NOINPUT, msg);
	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_load(path, &sk, &err), -1);
	expect_error(&err, ISIM_ERR_NOINPUT, msg);
	alarm(0);
	assert_null(sk);
	assert_null(b.p);
}

/* Devices and directories are not key files either. */
static void test_device_and_directory_refused(void **state)
{
	const char *dir = *state;
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	char msg[PATH_MAX + 100];

	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_load("/dev/null", &sk, &err), -1);
	expect_error(&err, ISIM_ERR_NOINPUT, "/dev/null: is a character device, not a secret key file");
	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_load(dir, &sk, &err), -1);
	snprintf(msg, sizeof(msg), "%s: is a directory, not a secret key file", dir);
	expect_error(&err, ISIM_ERR_NOINPUT, msg);
	assert_null(sk);
}

/* A group-readable key is refused with its mode named. */
static void test_group_readable_refused(void **state)
{
	const char *dir = *state;
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	char path[PATH_MAX], msg[PATH_MAX + 200];
	mode_t mode;

	snprintf(path, sizeof(path), "%s/g.key", dir);
	write_file(path, "secret\n", 0640);
	isim_error_clear(&err);
	assert_int_equal(isim_secret_file_read(path, "secret key", 4096, &b, &mode, &err), 0);
	assert_int_equal(isim_secret_file_check_mode(path, mode, &err), -1);
	snprintf(msg, sizeof(msg),
		 "%s: secret key file is accessible by group or others (mode 0640); refusing it until "
		 "'chmod 600' is run on it",
		 path);
	expect_error(&err, ISIM_ERR_PERM, msg);
	isim_secbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_released_memory_is_wiped),
		cmocka_unit_test(test_growth_failure),
		cmocka_unit_test_setup_teardown(test_read_regular, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_read_symlink, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_fifo_refused_without_hanging, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_device_and_directory_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_group_readable_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
