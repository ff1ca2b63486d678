/* SPDX-License-Identifier: MIT */
/* Files: whole reads with their limits and errors, atomic writes that leave
 * the old file whole when they fail, modes, staged output folders, mkdir -p
 * and rm -r. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/file.h"
#include "testutil.h"

/* The names in dir, sorted and joined with spaces ("" when empty). */
static const char *listing(const char *dir)
{
	static char out[4096];
	struct dirent **names;
	int i, n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (out[0])
				strcat(out, " ");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* "path: what: strerror(errnum)" */
static char *expect_error(const char *path, const char *what, int errnum)
{
	static char buf[PATH_MAX + 200];

	snprintf(buf, sizeof(buf), "%s: %s: %s", path, what, strerror(errnum));
	return buf;
}

/* ---- reading ---------------------------------------------------------- */

static void test_read_whole(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char *text = NULL, path[PATH_MAX];
	size_t len = 99;
	FILE *f;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/bin", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite("a\0b\nc", 1, 5, f), 5);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "a\0b\nc", 6);
	free(text);

	tu_write(dir, "empty", "");
	assert_int_equal(isim_file_read(tu_path(dir, "empty"), ISIM_FILE_MAX, &text, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
}

static void test_read_limit(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char *text = (char *)"unchanged", path[PATH_MAX];
	size_t len = 1;
	int saved, zero, r;

	tu_write(dir, "ten", "0123456789");
	snprintf(path, sizeof(path), "%s/ten", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, 10, &text, &len, &err), 0);
	assert_string_equal(text, "0123456789");
	free(text);

	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, 9, &text, &len, &err), -1);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	snprintf(path, sizeof(path), "%s/ten: file is larger than 9 bytes", dir);
	assert_string_equal(tu_msg(&err), path);

	/* An endless input stops at the limit: stdin, as a stream. */
	saved = dup(STDIN_FILENO);
	zero = open("/dev/zero", O_RDONLY);
	assert_true(saved >= 0 && zero >= 0);
	assert_int_equal(dup2(zero, STDIN_FILENO), STDIN_FILENO);
	close(zero);
	isim_error_clear(&err);
	r = isim_file_read("-", 100000, &text, &len, &err);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_int_equal(r, -1);
	assert_string_equal(tu_msg(&err), "-: file is larger than 100000 bytes");
}

/* Named inputs are regular files: a device, a FIFO with no writer (which
 * would block an open without O_NONBLOCK) or a socket is refused at once.
 * The alarm turns a hang into a failure. */
static void test_read_special_files(void **state)
{
	const char *dir = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct isim_error err;
	char path[PATH_MAX], msg[PATH_MAX + 100], *text;
	size_t len;
	int s;

	isim_error_clear(&err);
	assert_int_equal(isim_file_read("/dev/zero", 100000, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(tu_msg(&err), "/dev/zero: is a character device, not a regular file");

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err), -1);
	alarm(0);
	assert_null(text);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(msg, sizeof(msg), "%s: is a FIFO, not a regular file", path);
	assert_string_equal(tu_msg(&err), msg);

	snprintf(path, sizeof(path), "%s/sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err), -1);
	close(s);
	/* open(2) of a socket fails with ENXIO before any fstat. */
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
}

static void test_read_errors(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char path[PATH_MAX], *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot open", ENOENT));

	isim_error_clear(&err);
	assert_int_equal(isim_file_read(dir, ISIM_FILE_MAX, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(tu_msg(&err), expect_error(dir, "cannot read", EISDIR));
}

static void test_read_unreadable(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char path[PATH_MAX], *text;
	size_t len;

	if (geteuid() == 0)
		skip(); /* root reads mode 0000 files */
	tu_write(dir, "secret", "x");
	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(chmod(path, 0), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_PERM);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot open", EACCES));
}

static void test_read_stdin(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	int fd, saved;
	char *text;
	size_t len;

	tu_write(dir, "in", "from stdin\n");
	fd = open(tu_path(dir, "in"), O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	isim_error_clear(&err);
	assert_int_equal(isim_file_read("-", ISIM_FILE_MAX, &text, &len, &err), 0);
	/* stdin is left open for the caller. */
	assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_string_equal(text, "from stdin\n");
	assert_int_equal(len, 11);
	free(text);
}

/* ---- atomic writes ------------------------------------------------------ */

static void test_write_new_and_replace(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char path[PATH_MAX], *text;
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s/out.json", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "{\"a\": 1}\n", 9, 0644, &err), 0);
	/* The mode asked for, whatever the umask. */
	assert_int_equal(mode_of(path), 0644);
	text = tu_read(path);
	assert_string_equal(text, "{\"a\": 1}\n");
	free(text);

	/* A shorter replacement leaves nothing of the old text, and takes the
	 * new mode. */
	assert_int_equal(isim_file_write_atomic(path, "{}\n", 3, 0600, &err), 0);
	assert_int_equal(mode_of(path), 0600);
	text = tu_read(path);
	assert_string_equal(text, "{}\n");
	free(text);

	assert_int_equal(isim_file_write_atomic(path, "", 0, 0755, &err), 0);
	assert_int_equal(mode_of(path), 0755);
	text = tu_read(path);
	assert_string_equal(text, "");
	free(text);
	umask(old);
	assert_string_equal(listing(dir), "out.json");
}

/* Writing fails part way (the file size limit stands for a full disk):
 * the old file is whole and no temporary file is left. */
static void test_write_fails_midway(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	struct rlimit saved, small;
	void (*old_handler)(int);
	char path[PATH_MAX], *text, *big;
	const size_t n = 1 << 20;
	int r;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	tu_write(dir, "state.json", "old state\n");
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'n', n);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 4096;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	isim_error_clear(&err);
	r = isim_file_write_atomic(path, big, n, 0644, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, old_handler);
	free(big);

	assert_int_equal(r, -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot write", EFBIG));
	text = tu_read(path);
	assert_string_equal(text, "old state\n");
	free(text);
	assert_string_equal(listing(dir), "state.json");
}

/* No file descriptor left for the temporary file. */
static void test_write_no_fd(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	struct rlimit saved, small;
	char path[PATH_MAX], *text;
	int fd, r;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	tu_write(dir, "state.json", "old state\n");
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	small = saved;
	small.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &small), 0);
	isim_error_clear(&err);
	r = isim_file_write_atomic(path, "new\n", 4, 0644, &err);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

	assert_int_equal(r, -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot create", EMFILE));
	text = tu_read(path);
	assert_string_equal(text, "old state\n");
	free(text);
	assert_string_equal(listing(dir), "state.json");
}

static void test_write_missing_dir(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nosuch/out.json", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot create", ENOENT));
	assert_string_equal(listing(dir), "");
}

/* A folder where the file should go is not replaced, and the temporary
 * file is removed. */
static void test_write_over_directory(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char path[PATH_MAX];

	tu_write(dir, "out.json/keep", "kept\n");
	snprintf(path, sizeof(path), "%s/out.json", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot write", EISDIR));
	assert_string_equal(listing(dir), "out.json");
	assert_string_equal(listing(path), "keep");
}

/* Only what the tool would write is replaced: a FIFO or a device node at
 * the output's name stays what it is, and no temporary file is left. */
static void test_write_over_special_files(void **state)
{
	const char *dir = *state;
	struct isim_staged_file sf;
	struct isim_error err;
	char path[PATH_MAX], msg[PATH_MAX + 100];
	struct stat st;

	snprintf(path, sizeof(path), "%s/out.sig", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	snprintf(msg, sizeof(msg), "%s: is a FIFO, not a regular file; refusing to replace it", path);
	assert_string_equal(tu_msg(&err), msg);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	isim_error_clear(&err);
	assert_int_equal(isim_file_stage(&sf, path, "x", 1, 0600, &err), -1);
	assert_string_equal(tu_msg(&err), msg);
	assert_string_equal(listing(dir), "out.sig");

	/* Staged while the name was free, then a FIFO appeared: the commit
	 * refuses, even with replace. */
	assert_int_equal(unlink(path), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_stage(&sf, path, "x", 1, 0600, &err), 0);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(isim_file_commit(&sf, true, &err), -1);
	assert_string_equal(tu_msg(&err), msg);
	assert_string_equal(listing(dir), "out.sig");
	assert_int_equal(unlink(path), 0);

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "x", 1, 0644, &err), -1);
	snprintf(msg, sizeof(msg), "%s: is a character device, not a regular file; refusing to replace it", path);
	assert_string_equal(tu_msg(&err), msg);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_string_equal(listing(dir), "out.sig");
}

static void test_write_unwritable_dir(void **state)
{
	const char *dir = *state;
	struct isim_error err;
	char sub[PATH_MAX], path[PATH_MAX + 16], *text;

	if (geteuid() == 0)
		skip(); /* root writes anywhere; the cases above cover failure */
	snprintf(sub, sizeof(sub), "%s/ro", dir);
	tu_write(dir, "ro/out.json", "old\n");
	snprintf(path, sizeof(path), "%s/out.json", sub);
	assert_int_equal(chmod(sub, 0555), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_file_write_atomic(path, "new\n", 4, 0644, &err), -1);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(err.kind, ISIM_ERR_PERM);
	assert_string_equal(tu_msg(&err), expect_error(path, "cannot create", EACCES));
	text = tu_read(path);
	assert_string_equal(text, "old\n");
	free(text);
	assert_string_equal(listing(sub), "out.json");
}

/* ---- staged folders ------------------------------------------------------ */

static void test_stage_new(void **state)
{
	const char *dir = *state;
	struct isim_staged_dir sd;
	struct isim_error err;
	char final[PATH_MAX], *text;

	/* Missing parents are made. */
	snprintf(final, sizeof(final), "%s/build/p", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_dir_stage(&sd, final, &err), 0);
	assert_int_equal(isim_dir_put(&sd, "manifest.json", "{}\n", 3, 0644, &err), 0);
	assert_int_equal(isim_dir_put(&sd, "run.sh", "#!/bin/sh\n", 10, 0755, &err), 0);
	/* Nothing is at the final place before commit. */
	assert_int_equal(access(final, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(isim_dir_commit(&sd, &err), 0);
	assert_string_equal(listing(tu_path(dir, "build")), "p");
	assert_string_equal(listing(final), "manifest.json run.sh");
	assert_int_equal(mode_of(tu_path(final, "run.sh")), 0755);
	assert_int_equal(mode_of(tu_path(final, "manifest.json")), 0644);
	assert_int_equal(mode_of(final), 0755);
	text = tu_read(tu_path(final, "manifest.json"));
	assert_string_equal(text, "{}\n");
	free(text);
	/* Abort after commit does nothing. */
	isim_dir_abort(&sd);
	assert_string_equal(listing(final), "manifest.json run.sh");
}

static void test_stage_replaces_old(void **state)
{
	const char *dir = *state;
	struct isim_staged_dir sd;
	struct isim_error err;
	char final[PATH_MAX], *text;

	tu_write(dir, "out/old.txt", "old\n");
	tu_write(dir, "out/sub/deep.txt", "old\n");
	snprintf(final, sizeof(final), "%s/out/", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_dir_stage(&sd, final, &err), 0);
	assert_int_equal(isim_dir_put(&sd, "new.txt", "new\n", 4, 0600, &err), 0);
	assert_int_equal(isim_dir_commit(&sd, &err), 0);
	assert_string_equal(listing(dir), "out");
	assert_string_equal(listing(tu_path(dir, "out")), "new.txt");
	text = tu_read(tu_path(dir, "out/new.txt"));
	assert_string_equal(text, "new\n");
	free(text);
}

static void test_stage_abort(void **state)
{
	const char *dir = *state;
	struct isim_staged_dir sd, zero;
	struct isim_error err;
	char final[PATH_MAX];

	memset(&zero, 0, sizeof(zero));
	isim_dir_abort(&zero);
	isim_dir_abort(NULL);
	tu_write(dir, "out/old.txt", "old\n");
	snprintf(final, sizeof(final), "%s/out", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_dir_stage(&sd, final, &err), 0);
	assert_int_equal(isim_dir_put(&sd, "new.txt", "new\n", 4, 0644, &err), 0);
	isim_dir_abort(&sd);
	isim_dir_abort(&sd);
	assert_string_equal(listing(dir), "out");
	assert_string_equal(listing(final), "old.txt");
}

static void test_stage_put_refuses_paths(void **state)
{
	static const char *const bad[] = { "", ".", "..", "../escape", "a/b", "/etc/passwd" };
	const char *dir = *state;
	struct isim_staged_dir sd;
	struct isim_error err;
	char final[PATH_MAX], expected[PATH_MAX + 100];
	size_t i;

	snprintf(final, sizeof(final), "%s/out", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_dir_stage(&sd, final, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		isim_error_clear(&err);
		assert_int_equal(isim_dir_put(&sd, bad[i], "x", 1, 0644, &err), -1);
		snprintf(expected, sizeof(expected), "%s: '%s' is not a plain file name", final, bad[i]);
		assert_string_equal(tu_msg(&err), expected);
	}
	/* Both the same name twice and the names above left nothing behind. */
	assert_int_equal(isim_dir_put(&sd, "a", "x", 1, 0644, &err), 0);
	assert_int_equal(isim_dir_put(&sd, "a", "y", 1, 0644, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	isim_dir_abort(&sd);
	assert_string_equal(listing(dir), "");
}

static void test_stage_parent_is_file(void **state)
{
	const char *dir = *state;
	struct isim_staged_dir sd;
	struct isim_error err;
	char final[PATH_MAX], parent[PATH_MAX];

	tu_write(dir, "build", "a file\n");
	snprintf(final, sizeof(final), "%s/build/p", dir);
	snprintf(parent, sizeof(parent), "%s/build", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_dir_stage(&sd, final, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(tu_msg(&err), expect_error(parent, "cannot create directory", ENOTDIR));
	isim_dir_abort(&sd);
	assert_string_equal(listing(dir), "build");
}

/* ---- mkdir -p, rm -r ------------------------------------------------------ */

static void test_mkdirs(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b//c/", dir);
	assert_int_equal(isim_mkdirs(path, 0755), 0);
	assert_int_equal(stat(tu_path(dir, "a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Again: already there is fine. */
	assert_int_equal(isim_mkdirs(path, 0755), 0);

	tu_write(dir, "file", "x");
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_int_equal(isim_mkdirs(path, 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	assert_int_equal(isim_mkdirs(path, 0755), -ENOTDIR);
	assert_int_equal(isim_mkdirs("", 0755), -ENOENT);
}

static void test_rmtree(void **state)
{
	const char *dir = *state;
	char target[PATH_MAX], link[PATH_MAX], *text;

	tu_write(dir, "outside/precious", "keep me\n");
	tu_write(dir, "tree/a/b/c.txt", "x");
	tu_write(dir, "tree/d.txt", "y");
	snprintf(target, sizeof(target), "%s/outside", dir);
	snprintf(link, sizeof(link), "%s/tree/a/link", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(isim_rmtree(tu_path(dir, "tree")), 0);
	/* The link went, not what it pointed to. */
	assert_string_equal(listing(dir), "outside");
	text = tu_read(tu_path(dir, "outside/precious"));
	assert_string_equal(text, "keep me\n");
	free(text);
	assert_int_equal(isim_rmtree(tu_path(dir, "tree")), 0);
	assert_int_equal(isim_rmtree(tu_path(dir, "outside/precious")), 0);
	assert_string_equal(listing(tu_path(dir, "outside")), "");
}

/* Paths that fit are written whole; one that does not is an error naming
 * its start, and leaves no shortened path behind. */
static void test_pathf(void **state)
{
	struct isim_error err;
	char buf[16], big[PATH_MAX], out[PATH_MAX];

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_pathf(buf, sizeof(buf), &err, "%s/%s", "build", "a.txt"), 0);
	assert_string_equal(buf, "build/a.txt");
	assert_int_equal(isim_pathf(buf, sizeof(buf), &err, "%s/%s", "12345678", "123456"), 0);
	assert_string_equal(buf, "12345678/123456");
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_int_equal(isim_pathf(buf, sizeof(buf), &err, "%s/%s", "12345678", "1234567"), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.msg, "path too long (16 bytes, at most 15): 12345678/123456...");
	assert_string_equal(buf, "");

	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	isim_error_clear(&err);
	assert_int_equal(isim_pathf(out, sizeof(out), &err, "%s/x", big), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(strncmp(err.msg, "path too long (4097 bytes, at most 4095): ddd", 45), 0);
}

/* isim_read: what a pipe holds, 0 at its end, and a folder refused as
 * no input with the file and the reading named. */
static void test_read(void **state)
{
	struct isim_error err;
	char buf[16];
	int p[2], fd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	close(p[1]);
	isim_error_clear(&err);
	assert_int_equal(isim_read(p[0], "pipe", NULL, buf, sizeof(buf), &err), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(isim_read(p[0], "pipe", NULL, buf, sizeof(buf), &err), 0);
	close(p[0]);
	fd = open(".", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(isim_read(fd, "dir", "signature", buf, sizeof(buf), &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, "dir");
	assert_non_null(strstr(err.msg, "cannot read signature: "));
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_whole),
		T(test_read_limit),
		T(test_read_errors),
		T(test_read_special_files),
		T(test_read_unreadable),
		T(test_read_stdin),
		T(test_write_new_and_replace),
		T(test_write_fails_midway),
		T(test_write_no_fd),
		T(test_write_missing_dir),
		T(test_write_over_directory),
		T(test_write_over_special_files),
		T(test_write_unwritable_dir),
		T(test_stage_new),
		T(test_stage_replaces_old),
		T(test_stage_abort),
		T(test_stage_put_refuses_paths),
		T(test_stage_parent_is_file),
		T(test_mkdirs),
		cmocka_unit_test(test_pathf),
		cmocka_unit_test(test_read),
		T(test_rmtree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
