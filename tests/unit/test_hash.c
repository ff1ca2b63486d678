/* SPDX-License-Identifier: MIT */
/* SHA-256: the FIPS 180-2 example vectors, files and pipes hashed in
 * pieces agreeing with the one-shot digest, and the errors for files that
 * cannot be read. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/hash.h"
#include "testutil.h"

struct vector {
	const char *text;
	const char *hex;
};

/* FIPS 180-2 appendix B and the NIST example values. */
static const struct vector vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
	  "mnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

static const char million_a_hex[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

static void test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char hex[ISIM_SHA256_HEX];

		assert_int_equal(isim_sha256_hex(vectors[i].text, strlen(vectors[i].text), hex), 0);
		assert_string_equal(hex, vectors[i].hex);
	}
}

static void test_million_a(void **state)
{
	char hex[ISIM_SHA256_HEX], *a = malloc(1000000);

	(void)state;
	assert_non_null(a);
	memset(a, 'a', 1000000);
	assert_int_equal(isim_sha256_hex(a, 1000000, hex), 0);
	assert_string_equal(hex, million_a_hex);
	free(a);
}

static void test_hex(void **state)
{
	static const uint8_t in[] = { 0x00, 0x0f, 0xf0, 0xff, 0x5a };
	char out[2 * sizeof(in) + 1];

	(void)state;
	memset(out, 'Z', sizeof(out));
	isim_hex(in, sizeof(in), out);
	assert_string_equal(out, "000ff0ff5a");
	isim_hex(in, 0, out);
	assert_string_equal(out, "");
}

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 11));
	return p;
}

static void write_bytes(const char *path, const uint8_t *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Sizes around the 64-byte block, the padding boundary at 56 and the 1 MiB
 * read buffer. */
static const size_t file_sizes[] = {
	0, 1, 55, 56, 63, 64, 65, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7
};

static void test_file_equals_one_shot(void **state)
{
	char *dir = tu_tmpdir();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(file_sizes) / sizeof(file_sizes[0]); i++) {
		uint8_t one[ISIM_SHA256_BYTES], streamed[ISIM_SHA256_BYTES];
		uint8_t *data = pattern(file_sizes[i]);
		struct isim_error err;

		isim_error_clear(&err);
		write_bytes(tu_path(dir, "f"), data, file_sizes[i]);
		assert_int_equal(isim_sha256(data, file_sizes[i], one), 0);
		assert_int_equal(isim_sha256_file(tu_path(dir, "f"), streamed, &err), 0);
		assert_memory_equal(one, streamed, sizeof(one));
		free(data);
	}
	isim_rmtree(dir);
	free(dir);
}

/* A writer that sends data down a pipe in pieces of awkward sizes, so the
 * reader gets short reads that do not line up with blocks. */
static pid_t pipe_writer(const uint8_t *data, size_t n, int *rfd)
{
	static const size_t chunks[] = { 1, 3, 7, 63, 64, 65, 127, 4095, 4097, 65537 };
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t off = 0, k = 0;

		close(fds[0]);
		while (off < n) {
			size_t c = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];

			if (c > n - off)
				c = n - off;
			if (write(fds[1], data + off, c) != (ssize_t)c)
				_exit(1);
			off += c;
			if (k % 5 == 0)
				usleep(100);
		}
		_exit(0);
	}
	close(fds[1]);
	*rfd = fds[0];
	return pid;
}

static void test_stdin_in_odd_chunks(void **state)
{
	const size_t n = 2 * (1 << 20) + 12345;
	uint8_t one[ISIM_SHA256_BYTES], streamed[ISIM_SHA256_BYTES];
	uint8_t *data = pattern(n);
	struct isim_error err;
	int rfd, saved, status;
	pid_t pid;

	(void)state;
	isim_error_clear(&err);
	pid = pipe_writer(data, n, &rfd);
	saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(rfd, STDIN_FILENO), STDIN_FILENO);
	close(rfd);
	assert_int_equal(isim_sha256_file("-", streamed, &err), 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(isim_sha256(data, n, one), 0);
	assert_memory_equal(one, streamed, sizeof(one));
	free(data);
}

struct job {
	const char *path;
	uint8_t digest[ISIM_SHA256_BYTES];
	int ret;
};

static void *hash_job(void *arg)
{
	struct job *j = arg;
	struct isim_error err;
	int i;

	isim_error_clear(&err);
	for (i = 0; i < 4 && j->ret == 0; i++)
		j->ret = isim_sha256_file(j->path, j->digest, &err);
	return NULL;
}

/* Two threads hashing different files get each their own digest. */
static void test_threads(void **state)
{
	const size_t n = 4 * (1 << 20) + 3;
	char *dir = tu_tmpdir(), a[PATH_MAX], b[PATH_MAX];
	uint8_t *da = pattern(n), *db = pattern(n), ea[ISIM_SHA256_BYTES], eb[ISIM_SHA256_BYTES];
	struct job ja = { .path = a }, jb = { .path = b };
	pthread_t ta, tb;
	size_t i;

	(void)state;
	for (i = 0; i < n; i++)
		db[i] ^= 0x55;
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	write_bytes(a, da, n);
	write_bytes(b, db, n);
	assert_int_equal(isim_sha256(da, n, ea), 0);
	assert_int_equal(isim_sha256(db, n, eb), 0);
	assert_int_equal(pthread_create(&ta, NULL, hash_job, &ja), 0);
	assert_int_equal(pthread_create(&tb, NULL, hash_job, &jb), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(ja.ret, 0);
	assert_int_equal(jb.ret, 0);
	assert_memory_equal(ja.digest, ea, sizeof(ea));
	assert_memory_equal(jb.digest, eb, sizeof(eb));
	free(da);
	free(db);
	isim_rmtree(dir);
	free(dir);
}

static void test_file_errors(void **state)
{
	uint8_t d[ISIM_SHA256_BYTES];
	struct isim_error err;
	char *dir = tu_tmpdir(), expected[PATH_MAX + 100];

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_sha256_file(tu_path(dir, "missing"), d, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s/missing: cannot open: %s", dir, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);

	isim_error_clear(&err);
	assert_int_equal(isim_sha256_file(dir, d, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(tu_msg(&err), expected);
	isim_rmtree(dir);
	free(dir);
}

/* In pieces, the same digest as at once; abort is safe twice. */
static void test_streamed(void **state)
{
	static const char text[] = "The quick brown fox jumps over the lazy dog";
	uint8_t one[ISIM_SHA256_BYTES], pieces[ISIM_SHA256_BYTES];
	struct isim_sha256_ctx h = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(isim_sha256(text, sizeof(text) - 1, one), 0);
	assert_int_equal(isim_sha256_begin(&h), 0);
	for (i = 0; i < sizeof(text) - 1; i += 7)
		assert_int_equal(isim_sha256_update(&h, text + i, sizeof(text) - 1 - i < 7 ? sizeof(text) - 1 - i : 7),
				 0);
	assert_int_equal(isim_sha256_end(&h, pieces), 0);
	assert_memory_equal(one, pieces, sizeof(one));
	isim_sha256_abort(&h);
	assert_int_equal(isim_sha256_begin(&h), 0);
	isim_sha256_abort(&h);
	isim_sha256_abort(&h);
	assert_null(h.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_file_equals_one_shot),
		cmocka_unit_test(test_stdin_in_odd_chunks),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_streamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
