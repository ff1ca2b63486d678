/* SPDX-License-Identifier: MIT */
#ifndef ISIM_RUN_H
#define ISIM_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "isim/buf.h"
#include "isim/error.h"

/* The one seam to other programs: fork and exec with an argument vector
 * (never a shell), stdin from a file or /dev/null, stdout to a file, a
 * buffer or our stderr, stderr kept (its last lines go into the error) or
 * passed through. The child runs in its own process group, so that
 * isim_run_interrupt() can stop it and everything it started. */
struct isim_run {
	const char *const *argv;   /* argv[0] is looked up in PATH */
	const char *const *env;	   /* extra NAME=VALUE strings, NULL-terminated, or NULL */
	const char *cwd;	   /* or NULL */
	const char *in_path;	   /* stdin; NULL: /dev/null */
	const struct isim_buf *in; /* else stdin is these bytes (kept in a memfd) */
	const char *out_path;	   /* stdout into this file (created 0644, truncated) */
	struct isim_buf *out;	   /* else stdout captured here, when not NULL */
	bool out_to_stderr;	   /* else stdout goes to our stderr (or /dev/null) */
	bool show_stderr;	   /* pass the child's stderr through instead of keeping it */
	bool err_to_out;	   /* stderr goes where stdout goes (isim_run_start) */
	/* isim_run_start: the program in a session of its own, not our child
	 * (a daemon that outlives us; nobody reaps it but init), the leader
	 * of its own process group. */
	bool detach;
};

/* Run and wait. 0 when the program exited 0. -1 otherwise, with err saying
 * which program failed and how: ISIM_ERR_UNAVAILABLE when it is not
 * installed, ISIM_ERR_INTERNAL when it exited non-zero or was killed (its
 * last line on stderr quoted), ISIM_ERR_IO for our own failures; *status
 * (when not NULL) has the exit status, or 128 + signal. */
int isim_run(const struct isim_run *r, int *status, struct isim_error *err) ISIM_MUST_CHECK;

/* Start without waiting; *pid is the child (and its process group). */
int isim_run_start(const struct isim_run *r, pid_t *pid, struct isim_error *err) ISIM_MUST_CHECK;

/* Whether argv0 is an executable in PATH (or a path to one). */
bool isim_run_found(const char *argv0);

/* Set from a signal handler: the signal that asks the running build to stop,
 * 0 while none came. isim_run() then stops its child and fails with
 * ISIM_ERR_INTERNAL ("interrupted"). */
extern volatile sig_atomic_t isim_run_interrupted;

/* Install handlers for SIGINT, SIGTERM and SIGHUP that set
 * isim_run_interrupted (no SA_RESTART, so blocking calls return EINTR). */
int isim_run_catch_signals(void) ISIM_MUST_CHECK;

#endif
