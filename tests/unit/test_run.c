/* SPDX-License-Identifier: MIT */
/* Running other programs: real ones, with their exit status, output,
 * input, environment and last words on stderr as the error reports them,
 * and a run stopped by a signal to us. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/run.h"
#include "testutil.h"

/* Run argv; the return value, with *status and the message. */
static int run(const struct isim_run *r, int *status, struct isim_error *err)
{
	isim_error_clear(err);
	*status = -2;
	return isim_run(r, status, err);
}

/* Run argv capturing its stdout, which must come with exit status 0;
 * free() the text. */
static char *output(const char *const *argv, const char *const *env, const char *in_path, const char *cwd)
{
	struct isim_buf out = { 0 };
	struct isim_run r = { .argv = argv, .env = env, .in_path = in_path, .cwd = cwd, .out = &out };
	struct isim_error err;
	int status;
	char *text;

	if (run(&r, &status, &err) < 0)
		fail_msg("%s: %s", argv[0], tu_msg(&err));
	assert_int_equal(status, 0);
	text = isim_buf_take(&out);
	assert_non_null(text);
	return text;
}

static void test_exit_status(void **state)
{
	static const char *const t[] = { "true", NULL }, *const f[] = { "false", NULL };
	static const char *const seven[] = { "sh", "-c", "exit 7", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = t };
	int status;

	(void)state;
	assert_int_equal(run(&r, &status, &err), 0);
	assert_int_equal(status, 0);

	r.argv = f;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 1);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
	assert_string_equal(tu_msg(&err), "'false' exited with status 1");

	r.argv = seven;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 7);
	assert_string_equal(tu_msg(&err), "'sh' exited with status 7");
	/* No status wanted. */
	isim_error_clear(&err);
	assert_int_equal(isim_run(&r, NULL, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
}

static void test_not_installed(void **state)
{
	static const char *const missing[] = { "no-such-prog-x", "--help", NULL };
	static const char *const path[] = { "/nonexistent/bin/tool", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = missing };
	int status;

	(void)state;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_string_equal(tu_msg(&err), "'no-such-prog-x' is not installed (not found in PATH)");
	assert_int_equal(status, -1);
	r.argv = path;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_non_null(strstr(tu_msg(&err), "'/nonexistent/bin/tool' is not installed"));
}

static void test_not_executable(void **state)
{
	const char *dir = *state;
	char prog[PATH_MAX], want[PATH_MAX + 100];
	const char *argv[] = { prog, NULL };
	struct isim_error err;
	struct isim_run r = { .argv = argv };
	int status;

	snprintf(prog, sizeof(prog), "%s/script", dir);
	tu_write(dir, "script", "#!/bin/sh\nexit 0\n");
	assert_int_equal(chmod(prog, 0644), 0);
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_PERM);
	snprintf(want, sizeof(want), "cannot run '%s': %s", prog, strerror(EACCES));
	assert_string_equal(tu_msg(&err), want);
	assert_int_equal(chmod(prog, 0755), 0);
	assert_int_equal(run(&r, &status, &err), 0);
}

static void test_capture(void **state)
{
	static const char *const hello[] = { "printf", "hello", NULL };
	static const char *const big[] = { "head", "-c", "1000000", "/dev/zero", NULL };
	static const char *const nothing[] = { "true", NULL };
	struct isim_buf out = { 0 };
	struct isim_run r = { .argv = big, .out = &out };
	struct isim_error err;
	char *text;
	size_t i;
	int status;

	(void)state;
	text = output(hello, NULL, NULL, NULL);
	assert_string_equal(text, "hello");
	free(text);
	/* More than a pipe holds. */
	assert_int_equal(run(&r, &status, &err), 0);
	assert_int_equal(out.len, 1000000);
	for (i = 0; i < out.len; i++)
		if (out.s[i])
			fail_msg("byte %zu is %d", i, out.s[i]);
	isim_buf_free(&out);
	text = output(nothing, NULL, NULL, NULL);
	assert_string_equal(text, "");
	free(text);
}

static void test_out_path(void **state)
{
	static const char *const argv[] = { "printf", "to a file\\n", NULL };
	const char *dir = *state;
	char path[PATH_MAX], *text;
	struct isim_run r = { .argv = argv, .out_path = path };
	struct isim_error err;
	struct stat st;
	mode_t old = umask(022);
	int status;

	snprintf(path, sizeof(path), "%s/out.txt", dir);
	assert_int_equal(run(&r, &status, &err), 0);
	text = tu_read(path);
	assert_string_equal(text, "to a file\n");
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* A longer file is truncated first. */
	tu_write(dir, "out.txt", "an older and much longer text\n");
	assert_int_equal(run(&r, &status, &err), 0);
	text = tu_read(path);
	assert_string_equal(text, "to a file\n");
	free(text);
	umask(old);

	snprintf(path, sizeof(path), "%s/no/such/out.txt", dir);
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	assert_string_equal(err.path, path);
}

static void test_in_path(void **state)
{
	static const char *const cat[] = { "cat", NULL };
	const char *dir = *state;
	char path[PATH_MAX], *text;

	tu_write(dir, "in.txt", "line one\nline two\n");
	snprintf(path, sizeof(path), "%s/in.txt", dir);
	text = output(cat, NULL, path, NULL);
	assert_string_equal(text, "line one\nline two\n");
	free(text);
	/* Without one, stdin is /dev/null: cat does not wait for ours. */
	text = output(cat, NULL, NULL, NULL);
	assert_string_equal(text, "");
	free(text);
}

static void test_cwd(void **state)
{
	static const char *const pwd[] = { "pwd", "-P", NULL };
	const char *dir = *state;
	char want[PATH_MAX + 2], *real, *text;

	real = realpath(dir, NULL);
	assert_non_null(real);
	snprintf(want, sizeof(want), "%s\n", real);
	free(real);
	text = output(pwd, NULL, NULL, dir);
	assert_string_equal(text, want);
	free(text);
}

static void test_env(void **state)
{
	static const char *const foo[] = { "sh", "-c", "echo \"$FOO\"", NULL };
	static const char *const both[] = { "sh", "-c", "echo \"$ISIM_TEST_VAR $ISIM_TEST_VARIANT $FOO\"", NULL };
	static const char *const env[] = { "env", NULL };
	static const char *const extra[] = { "FOO=bar baz", NULL };
	static const char *const replace[] = { "ISIM_TEST_VAR=new", "FOO=x", NULL };
	char *text;

	(void)state;
	assert_int_equal(unsetenv("FOO"), 0);
	text = output(foo, extra, NULL, NULL);
	assert_string_equal(text, "bar baz\n");
	free(text);
	/* Not in our own environment afterwards. */
	assert_null(getenv("FOO"));

	/* An extra variable replaces ours of the same name, once, and leaves
	 * one whose name merely starts the same. */
	assert_int_equal(setenv("ISIM_TEST_VAR", "old", 1), 0);
	assert_int_equal(setenv("ISIM_TEST_VARIANT", "kept", 1), 0);
	text = output(both, replace, NULL, NULL);
	assert_string_equal(text, "new kept x\n");
	free(text);
	/* env(1) prints the environment as it got it; a shell would have
	 * merged two of the same name. */
	text = output(env, replace, NULL, NULL);
	assert_non_null(strstr(text, "\nISIM_TEST_VAR=new\n"));
	assert_null(strstr(text, "ISIM_TEST_VAR=old"));
	assert_non_null(strstr(text, "\nISIM_TEST_VARIANT=kept\n"));
	free(text);
	/* Without extras, the child has ours. */
	text = output(both, NULL, NULL, NULL);
	assert_string_equal(text, "old kept \n");
	free(text);
	assert_string_equal(getenv("ISIM_TEST_VAR"), "old");
	unsetenv("ISIM_TEST_VAR");
	unsetenv("ISIM_TEST_VARIANT");
}

static void test_stderr_in_error(void **state)
{
	static const char *const reason[] = { "sh", "-c", "echo first >&2; echo \"the reason\" >&2; exit 3", NULL };
	static const char *const flood[] = {
		"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'the last line' >&2; exit 2",
		NULL
	};
	static const char *const blank[] = { "sh", "-c", "echo 'said this' >&2; echo >&2; echo >&2; exit 1", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = reason };
	int status;

	(void)state;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 3);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
	assert_string_equal(tu_msg(&err), "'sh' exited with status 3: the reason");
	/* Much more on stderr than is kept: still its last line. */
	r.argv = flood;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 2);
	assert_string_equal(tu_msg(&err), "'sh' exited with status 2: the last line");
	/* Empty lines at the end are not the last line. */
	r.argv = blank;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_string_equal(tu_msg(&err), "'sh' exited with status 1: said this");
}

static void test_killed(void **state)
{
	static const char *const nine[] = { "sh", "-c", "kill -9 $$", NULL };
	static const char *const term[] = { "sh", "-c", "echo dying >&2; kill -TERM $$", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = nine };
	int status;

	(void)state;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 128 + 9);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
	assert_string_equal(tu_msg(&err), "'sh' was killed by signal 9");
	r.argv = term;
	assert_int_equal(run(&r, &status, &err), -1);
	assert_int_equal(status, 128 + SIGTERM);
	assert_string_equal(tu_msg(&err), "'sh' was killed by signal 15: dying");
}

static void test_found(void **state)
{
	const char *dir = *state;
	char prog[PATH_MAX];

	assert_true(isim_run_found("sh"));
	assert_true(isim_run_found("true"));
	assert_false(isim_run_found("no-such-prog-x"));
	assert_true(isim_run_found("/bin/sh"));
	assert_false(isim_run_found("/nonexistent/sh"));
	/* A path names a file; one with no execute bit is not found, even by
	 * root. */
	snprintf(prog, sizeof(prog), "%s/tool", dir);
	tu_write(dir, "tool", "#!/bin/sh\n");
	assert_int_equal(chmod(prog, 0644), 0);
	assert_false(isim_run_found(prog));
	assert_int_equal(chmod(prog, 0755), 0);
	assert_true(isim_run_found(prog));
}

static double seconds(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A signal came (the handler set isim_run_interrupted): the child is
 * stopped at once and the run fails saying so. */
static void test_interrupted(void **state)
{
	static const char *const argv[] = { "sleep", "5", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = argv };
	double t0;
	int status, ret;

	(void)state;
	isim_run_interrupted = SIGTERM;
	t0 = seconds();
	ret = run(&r, &status, &err);
	isim_run_interrupted = 0;
	assert_int_equal(ret, -1);
	assert_true(seconds() - t0 < 3);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
	assert_int_equal(status, 128 + SIGTERM);
	assert_string_equal(tu_msg(&err), "interrupted by signal 15 while 'sleep' ran");
	/* Once it is reset, programs run again. */
	r.argv = (const char *const[]){ "true", NULL };
	assert_int_equal(run(&r, &status, &err), 0);
}

/* The handlers set the flag, and a real signal stops a running child. */
static void test_catch_signals(void **state)
{
	static const char *const argv[] = { "sh", "-c", "kill -HUP $PPID; sleep 5", NULL };
	struct sigaction old[3];
	struct isim_error err;
	struct isim_run r = { .argv = argv };
	double t0;
	int status, ret;

	(void)state;
	assert_int_equal(sigaction(SIGINT, NULL, &old[0]), 0);
	assert_int_equal(sigaction(SIGTERM, NULL, &old[1]), 0);
	assert_int_equal(sigaction(SIGHUP, NULL, &old[2]), 0);
	assert_int_equal(isim_run_catch_signals(), 0);
	t0 = seconds();
	ret = run(&r, &status, &err);
	assert_int_equal(isim_run_interrupted, SIGHUP);
	isim_run_interrupted = 0;
	assert_int_equal(sigaction(SIGINT, &old[0], NULL), 0);
	assert_int_equal(sigaction(SIGTERM, &old[1], NULL), 0);
	assert_int_equal(sigaction(SIGHUP, &old[2], NULL), 0);
	assert_int_equal(ret, -1);
	assert_true(seconds() - t0 < 3);
	assert_string_equal(tu_msg(&err), "interrupted by signal 1 while 'sh' ran");
}

static void test_start(void **state)
{
	static const char *const argv[] = { "sh", "-c", "exit 4", NULL };
	static const char *const missing[] = { "no-such-prog-x", NULL };
	struct isim_error err;
	struct isim_run r = { .argv = argv };
	pid_t pid = -1;
	int ws;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_run_start(&r, &pid, &err), 0);
	assert_true(pid > 0);
	/* Its own process group, which an interrupt stops whole. */
	assert_int_equal(getpgid(pid), pid);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 4);

	r.argv = missing;
	isim_error_clear(&err);
	assert_int_equal(isim_run_start(&r, &pid, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

/* A detached program: its own session and process group, not our child
 * (init adopts it), and a program that is missing still said so. */
static void test_detached(void **state)
{
	const char *argv[] = { "sleep", "30", NULL }, *missing[] = { "isim-no-such-program", NULL };
	struct isim_run r = { .argv = argv, .detach = true };
	struct isim_error err;
	pid_t pid = 0;
	int i;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_run_start(&r, &pid, &err), 0);
	assert_true(pid > 0);
	assert_int_equal(getpgid(pid), pid);
	assert_true(getsid(pid) != getsid(0));
	/* Not ours to wait for. */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++) {
		kill(pid, SIGKILL);
		usleep(10000);
	}
	r.argv = missing;
	isim_error_clear(&err);
	assert_int_equal(isim_run_start(&r, &pid, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "isim-no-such-program"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_not_installed),
		cmocka_unit_test(test_detached),
		T(test_not_executable),
		cmocka_unit_test(test_capture),
		T(test_out_path),
		T(test_in_path),
		T(test_cwd),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_stderr_in_error),
		cmocka_unit_test(test_killed),
		T(test_found),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_catch_signals),
		cmocka_unit_test(test_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
