/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests: the vectors folder, scratch folders,
 * whole-file reads and writes, an error as the user would read it, and
 * commands run in-process from a table. */
#ifndef ISIM_TESTUTIL_H
#define ISIM_TESTUTIL_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isim/error.h"
#include "isim/file.h"
#include "isim/prefix.h"

/* The folder of test vectors: $ISIM_VECTORS, else $ISIM_ROOT/tests/vectors,
 * else tests/vectors (static buffer). */
static inline const char *tu_vectors(void)
{
	static char buf[PATH_MAX];
	const char *v = getenv("ISIM_VECTORS"), *root = getenv("ISIM_ROOT");

	if (v && *v)
		snprintf(buf, sizeof(buf), "%s", v);
	else
		snprintf(buf, sizeof(buf), "%s/tests/vectors", root && *root ? root : ".");
	return buf;
}

/* A prefix the test knows to be well formed. */
static inline struct isim_prefix tu_prefix(const char *s)
{
	struct isim_prefix p;
	const char *why;

	assert_int_equal(isim_prefix_parse(s, false, &p, &why), 0);
	return p;
}

/* A fresh folder under /tmp; free() the name, isim_rmtree() the folder. */
static inline char *tu_tmpdir(void)
{
	char tmpl[] = "/tmp/isim-unit.XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	dir = strdup(dir);
	assert_non_null(dir);
	return dir;
}

/* cmocka setup and teardown: *state is a fresh folder, removed after. */
static inline int tu_setup_tmpdir(void **state)
{
	*state = tu_tmpdir();
	return 0;
}

static inline int tu_teardown_tmpdir(void **state)
{
	assert_int_equal(isim_rmtree(*state), 0);
	free(*state);
	return 0;
}

/* A fresh folder a test works in (its current folder until
 * tu_leave_tmpdir), and the folder it came from. */
struct tu_where {
	char *dir;
	char old[PATH_MAX];
};

static inline struct tu_where *tu_enter_tmpdir(void)
{
	struct tu_where *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(getcwd(w->old, sizeof(w->old)));
	w->dir = tu_tmpdir();
	assert_int_equal(chdir(w->dir), 0);
	return w;
}

static inline void tu_leave_tmpdir(struct tu_where *w)
{
	assert_int_equal(chdir(w->old), 0);
	assert_int_equal(isim_rmtree(w->dir), 0);
	free(w->dir);
	free(w);
}

/* dir/rel joined into a static buffer (one at a time). */
static inline const char *tu_path(const char *dir, const char *rel)
{
	static char buf[PATH_MAX];

	assert_true(snprintf(buf, sizeof(buf), "%s/%s", dir, rel) < (int)sizeof(buf));
	return buf;
}

/* Write text to dir/rel, creating the folders on the way. */
static inline void tu_write(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, rel) < (int)sizeof(path));
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(isim_mkdirs(path, 0755), 0);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, or NULL when it cannot be read; free() it. */
static inline char *tu_read(const char *path)
{
	struct isim_error err;
	char *text = NULL;
	size_t len;

	isim_error_clear(&err);
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err) < 0)
		return NULL;
	return text;
}

/* The error as a tool prints it after its name (static buffer). */
static inline const char *tu_msg(const struct isim_error *err)
{
	static char buf[4096];

	isim_error_format(err, buf, sizeof(buf));
	return buf;
}

/* err is of kind and reads msg, as a tool prints it after its name. */
static inline void tu_expect_error(const struct isim_error *err, enum isim_err kind, const char *msg)
{
	const char *got = tu_msg(err);

	if (strcmp(got, msg) != 0 || err->kind != kind)
		print_error("got kind %d, '%s'\n", err->kind, got);
	assert_string_equal(got, msg);
	assert_int_equal(err->kind, kind);
}

/* A command run in-process (isim_NAME_main(argc, argv)) with its stdout
 * and stderr caught in the working folder; tu_run_free() the texts. */
struct tu_run {
	int code;
	char *out;
	char *err;
};

static inline int tu_capture_into(int target, const char *path)
{
	int saved = dup(target), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, target), target);
	close(fd);
	return saved;
}

/* stdin from the file path until tu_restore_stdin(the value returned). */
static inline int tu_capture_stdin(const char *path)
{
	int saved = dup(STDIN_FILENO), fd = open(path, O_RDONLY);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	return saved;
}

static inline void tu_restore_stdin(int saved)
{
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static inline struct tu_run tu_call(int (*fn)(int, char **), int argc, char **argv)
{
	struct tu_run r;
	int so, se;

	fflush(stdout);
	fflush(stderr);
	so = tu_capture_into(STDOUT_FILENO, ".stdout");
	se = tu_capture_into(STDERR_FILENO, ".stderr");
	r.code = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	r.out = tu_read(".stdout");
	r.err = tu_read(".stderr");
	unlink(".stdout");
	unlink(".stderr");
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

/* The same with stdout on /dev/full: every write to it fails (ENOSPC);
 * r.out is empty. */
static inline struct tu_run tu_call_full(int (*fn)(int, char **), int argc, char **argv)
{
	struct tu_run r;
	int so, se, full = open("/dev/full", O_WRONLY);

	assert_true(full >= 0);
	fflush(stdout);
	fflush(stderr);
	so = dup(STDOUT_FILENO);
	assert_true(so >= 0);
	assert_int_equal(dup2(full, STDOUT_FILENO), STDOUT_FILENO);
	close(full);
	se = tu_capture_into(STDERR_FILENO, ".stderr");
	r.code = fn(argc, argv);
	fflush(stdout);
	clearerr(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	r.out = strdup("");
	r.err = tu_read(".stderr");
	unlink(".stderr");
	assert_non_null(r.out);
	assert_non_null(r.err);
	return r;
}

/* How many lines text has. */
static inline int tu_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static inline void tu_run_free(struct tu_run *r)
{
	free(r->out);
	free(r->err);
}

/* One row of a table of command lines run in-process. */
struct tu_cmd_case {
	const char *args[10]; /* after the program's name; NULL ends them */
	int code;	      /* the exit code */
	const char *err;      /* text stderr holds, or NULL */
	const char *out;      /* text stdout holds, or NULL */
};

/* Run each case as `prog args...` through fn and check its exit code and
 * output; a run that fails (exit 64 and above) prints nothing on stdout. */
static inline void tu_run_cases(int (*fn)(int, char **), const char *prog, const struct tu_cmd_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tu_cmd_case *c = &cases[i];
		char *argv[12];
		struct tu_run r;
		int argc = 0;

		argv[argc++] = (char *)prog;
		while (argc < 11 && c->args[argc - 1])
			argv[argc] = (char *)c->args[argc - 1], argc++;
		argv[argc] = NULL;
		r = tu_call(fn, argc, argv);
		if (r.code != c->code || (c->err && !strstr(r.err, c->err)) || (c->out && !strstr(r.out, c->out)))
			print_error("case %zu (%s %s ...): exit %d, stderr '%s'\n", i, prog, argc > 1 ? argv[1] : "",
				    r.code, r.err);
		assert_int_equal(r.code, c->code);
		if (c->err)
			assert_non_null(strstr(r.err, c->err));
		if (c->out)
			assert_non_null(strstr(r.out, c->out));
		if (c->code >= 64)
			assert_string_equal(r.out, "");
		/* A usage error is one line. */
		if (c->code == 64)
			assert_int_equal(tu_lines(r.err), 1);
		tu_run_free(&r);
	}
}

#endif
