/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isim/run.h"

extern char **environ;

volatile sig_atomic_t isim_run_interrupted;

static void on_signal(int sig)
{
	isim_run_interrupted = sig;
}

int isim_run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

bool isim_run_found(const char *argv0)
{
	/* lib/ reads no environment but this: PATH, searched as execvp(3)
	 * searches it, to tell "not installed" from a failing program. */
	const char *path = getenv("PATH"), *p, *colon;
	char buf[PATH_MAX];

	if (!*argv0)
		return false;
	if (strchr(argv0, '/'))
		return executable(argv0);
	if (!path)
		path = "/usr/bin:/bin";
	for (p = path; *p; p = colon + 1) {
		size_t n;

		colon = strchr(p, ':');
		if (!colon)
			colon = p + strlen(p);
		n = (size_t)(colon - p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", argv0) < (int)sizeof(buf) &&
		    executable(buf))
			return true;
		if (!*colon)
			break;
	}
	return false;
}

/* The child's environment: ours, with the extra NAME=VALUE pairs replacing
 * any of the same name. */
static char **child_env(const char *const *extra)
{
	size_t n = 0, m = 0, i, j, k = 0;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		bool replaced = false;

		for (j = 0; j < m; j++)
			if (strncmp(environ[i], extra[j], len) == 0)
				replaced = true;
		if (!replaced)
			env[k++] = environ[i];
	}
	for (j = 0; j < m; j++)
		env[k++] = (char *)extra[j];
	return env;
}

/* Runs in the child: set up descriptors and exec; report errno on the
 * close-on-exec pipe when it cannot. */
/* What the child was doing when it failed, for the message. */
enum {
	STAGE_STDIN,
	STAGE_FDS,
	STAGE_CWD,
	STAGE_EXEC,
	STAGE_PID, /* not a failure: the detached program's pid */
};

static void child(const struct isim_run *r, int in_mem, int out_fd, int err_fd, int report, char **env)
{
	int in_fd, e[2];

	if (r->detach) {
		pid_t g;

		e[0] = STAGE_FDS;
		/* A session of its own, then a child of that which init adopts
		 * once this one leaves: a daemon (daemon(7)). */
		if (setsid() < 0)
			goto fail;
		g = fork();
		if (g < 0)
			goto fail;
		if (g > 0) {
			e[0] = STAGE_PID;
			e[1] = (int)g;
			_exit(write(report, e, sizeof(e)) == (ssize_t)sizeof(e) ? 0 : 127);
		}
	}
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	e[0] = STAGE_STDIN;
	in_fd = in_mem >= 0 ? in_mem : open(r->in_path ? r->in_path : "/dev/null", O_RDONLY);
	if (in_fd < 0)
		goto fail;
	e[0] = STAGE_FDS;
	if (dup2(in_fd, STDIN_FILENO) < 0)
		goto fail;
	if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
		goto fail;
	if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
		goto fail;
	if (r->err_to_out && dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
		goto fail;
	e[0] = STAGE_CWD;
	if (r->cwd && chdir(r->cwd) < 0)
		goto fail;
	e[0] = STAGE_EXEC;
	execvpe(r->argv[0], (char *const *)r->argv, env);
fail:
	e[1] = errno;
	if (write(report, e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

struct running {
	pid_t pid;
	int out_rd, err_rd; /* pipes we read, -1 when none */
	int out_fd;	    /* file we opened for stdout, -1 when none */
};

static int spawn(const struct isim_run *r, struct running *run, struct isim_error *err)
{
	int report[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int child_out = -1, child_err = -1, in_mem = -1, e[2] = { 0, 0 }, ret = -1;
	char **env = NULL;
	ssize_t n;

	run->pid = -1;
	run->out_rd = run->err_rd = run->out_fd = -1;
	env = child_env(r->env);
	if (!env)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (pipe2(report, O_CLOEXEC) < 0)
		goto sys;
	if (r->out_path) {
		run->out_fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (run->out_fd < 0) {
			isim_error_at(err, r->out_path, 0, 0);
			isim_error_errno(err, ISIM_ERR_CANTCREATE, errno, "cannot create");
			goto out;
		}
		child_out = run->out_fd;
	} else if (r->out) {
		if (pipe2(outp, O_CLOEXEC) < 0)
			goto sys;
		child_out = outp[1];
	} else if (r->out_to_stderr) {
		child_out = STDERR_FILENO;
	} else {
		child_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (child_out < 0)
			goto sys;
		run->out_fd = child_out;
	}
	if (!r->show_stderr) {
		if (pipe2(errp, O_CLOEXEC) < 0)
			goto sys;
		child_err = errp[1];
	}
	if (r->in && !r->in_path) {
		size_t off = 0;

		/* A file in memory rather than a pipe: nothing to feed while
		 * the child's output is read, whatever the sizes. */
		in_mem = memfd_create("stdin", MFD_CLOEXEC);
		if (in_mem < 0)
			goto sys;
		while (off < r->in->len) {
			n = write(in_mem, r->in->s + off, r->in->len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto sys;
			off += (size_t)n;
		}
		if (lseek(in_mem, 0, SEEK_SET) < 0)
			goto sys;
	}
	run->pid = fork();
	if (run->pid < 0)
		goto sys;
	if (run->pid == 0)
		child(r, in_mem, child_out, child_err, report[1], env);
	/* Also here, so that a signal between fork and the child's own
	 * setpgid already finds the group (not for one that makes a session
	 * of its own, which a group leader cannot). */
	if (!r->detach)
		setpgid(run->pid, run->pid);
	close(report[1]);
	report[1] = -1;
	do
		n = read(report[0], e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (r->detach && n == (ssize_t)sizeof(e) && e[0] == STAGE_PID) {
		waitpid(run->pid, NULL, 0);
		run->pid = (pid_t)e[1];
		/* Then the detached one's own report: nothing once it runs. */
		do
			n = read(report[0], e, sizeof(e));
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(e))
			run->pid = -1;
	} else if (r->detach && n != (ssize_t)sizeof(e)) {
		waitpid(run->pid, NULL, 0);
		run->pid = -1;
		isim_error_set(err, ISIM_ERR_IO, "cannot start '%s' in a session of its own", r->argv[0]);
		goto out;
	}
	if (n == (ssize_t)sizeof(e)) {
		if (run->pid > 0)
			waitpid(run->pid, NULL, 0);
		run->pid = -1;
		if (e[0] == STAGE_STDIN) {
			isim_error_at(err, r->in_path, 0, 0);
			isim_error_errno(err, e[1] == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, e[1],
					 "cannot open as the standard input of '%s'", r->argv[0]);
		} else if (e[0] == STAGE_CWD) {
			isim_error_at(err, r->cwd, 0, 0);
			isim_error_errno(err, ISIM_ERR_NOINPUT, e[1], "cannot run '%s' in this folder", r->argv[0]);
		} else if (e[0] == STAGE_FDS) {
			isim_error_errno(err, ISIM_ERR_IO, e[1], "cannot start '%s'", r->argv[0]);
		} else if (e[1] == ENOENT) {
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "'%s' is not installed (not found in PATH)",
				       r->argv[0]);
		} else {
			isim_error_errno(err, e[1] == EACCES ? ISIM_ERR_PERM : ISIM_ERR_UNAVAILABLE, e[1],
					 "cannot run '%s'", r->argv[0]);
		}
		goto out;
	}
	run->out_rd = outp[0];
	outp[0] = -1;
	run->err_rd = errp[0];
	errp[0] = -1;
	ret = 0;
	goto out;
sys:
	isim_error_errno(err, ISIM_ERR_IO, errno, "cannot start '%s'", r->argv[0]);
out:
	if (in_mem >= 0)
		close(in_mem);
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (ret < 0 && run->out_fd >= 0) {
		close(run->out_fd);
		run->out_fd = -1;
	}
	free(env);
	return ret;
}

int isim_run_start(const struct isim_run *r, pid_t *pid, struct isim_error *err)
{
	struct running run;
	struct isim_run copy = *r;

	/* Nobody reads a started child's pipes: its output goes to files or
	 * to our stderr. */
	copy.out = NULL;
	copy.show_stderr = !r->err_to_out;
	if (!copy.out_path)
		copy.out_to_stderr = r->out_to_stderr;
	if (spawn(&copy, &run, err) < 0)
		return -1;
	if (run.out_fd >= 0)
		close(run.out_fd);
	*pid = run.pid;
	return 0;
}

/* Keep the last part of the child's stderr, for the message. */
static void keep_tail(char *tail, size_t size, size_t *len, const char *data, size_t n)
{
	if (n >= size - 1) {
		memcpy(tail, data + n - (size - 1), size - 1);
		*len = size - 1;
	} else {
		if (*len + n > size - 1) {
			size_t drop = *len + n - (size - 1);

			memmove(tail, tail + drop, *len - drop);
			*len -= drop;
		}
		memcpy(tail + *len, data, n);
		*len += n;
	}
	tail[*len] = '\0';
}

/* The last non-empty line of text. */
static const char *last_line(char *text)
{
	char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	return start ? start + 1 : text;
}

int isim_run(const struct isim_run *r, int *status, struct isim_error *err)
{
	struct running run;
	char tail[2048] = "", chunk[8192];
	size_t tail_len = 0;
	int wstatus = 0, st, ret = -1;
	bool stopped = false;

	if (status)
		*status = -1;
	if (spawn(r, &run, err) < 0)
		return -1;
	while (run.out_rd >= 0 || run.err_rd >= 0) {
		struct pollfd p[2];
		int np = 0, i;

		if (isim_run_interrupted && !stopped) {
			kill(-run.pid, SIGTERM);
			stopped = true;
		}
		if (run.out_rd >= 0)
			p[np++] = (struct pollfd){ .fd = run.out_rd, .events = POLLIN };
		if (run.err_rd >= 0)
			p[np++] = (struct pollfd){ .fd = run.err_rd, .events = POLLIN };
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < np; i++) {
			ssize_t n;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(p[i].fd);
				if (p[i].fd == run.out_rd)
					run.out_rd = -1;
				else
					run.err_rd = -1;
				continue;
			}
			if (p[i].fd == run.out_rd)
				isim_buf_putn(r->out, chunk, (size_t)n);
			else
				keep_tail(tail, sizeof(tail), &tail_len, chunk, (size_t)n);
		}
	}
	for (;;) {
		if (isim_run_interrupted && !stopped) {
			kill(-run.pid, SIGTERM);
			stopped = true;
		}
		if (waitpid(run.pid, &wstatus, 0) >= 0)
			break;
		if (errno != EINTR) {
			isim_error_errno(err, ISIM_ERR_INTERNAL, errno, "waiting for '%s'", r->argv[0]);
			goto out;
		}
	}
	st = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (status)
		*status = st;
	if (isim_run_interrupted) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "interrupted by signal %d while '%s' ran",
			       (int)isim_run_interrupted, r->argv[0]);
		goto out;
	}
	if (r->out && r->out->oom) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory reading the output of '%s'", r->argv[0]);
		goto out;
	}
	if (st != 0) {
		const char *line = last_line(tail);

		if (WIFEXITED(wstatus))
			isim_error_set(err, ISIM_ERR_INTERNAL, "'%s' exited with status %d%s%s", r->argv[0], st,
				       *line ? ": " : "", line);
		else
			isim_error_set(err, ISIM_ERR_INTERNAL, "'%s' was killed by signal %d%s%s", r->argv[0],
				       WTERMSIG(wstatus), *line ? ": " : "", line);
		goto out;
	}
	ret = 0;
out:
	if (run.out_rd >= 0)
		close(run.out_rd);
	if (run.err_rd >= 0)
		close(run.err_rd);
	if (run.out_fd >= 0)
		close(run.out_fd);
	return ret;
}
