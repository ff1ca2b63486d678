/* SPDX-License-Identifier: MIT */
/* A test helper for the audit log (tests/integration/memdump-log.sh):
 *   audit-append DB N [KIND]            append N entries, printing each seq
 *                                       once its append has returned
 *   audit-append crash DB RUNS MAX_US   RUNS times: a child appends without
 *                                       end and is killed with SIGKILL after
 *                                       a random 0..MAX_US microseconds; the
 *                                       seqs whose appends returned go to
 *                                       stdout
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isim/audit.h"

static int append_loop(const char *db, long n, const char *kind)
{
	struct isim_audit *a = NULL;
	struct isim_audit_entry e;
	struct isim_error err;
	char line[32];
	cJSON *rec;
	int len;

	isim_error_clear(&err);
	if (isim_audit_open(db, true, &a, &err) < 0) {
		fprintf(stderr, "audit-append: %s: %s\n", db, err.msg);
		return 1;
	}
	rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "pid", getpid());
	cJSON_AddStringToObject(rec, "note", "appended by tests/tools/audit-append");
	for (long i = 0; n < 0 || i < n; i++) {
		cJSON_DeleteItemFromObject(rec, "i");
		cJSON_AddNumberToObject(rec, "i", (double)i);
		if (isim_audit_append(a, kind, rec, &e, &err) < 0) {
			fprintf(stderr, "audit-append: %s: %s\n", db, err.msg);
			return 1;
		}
		/* write(2), not stdio: what is written is there even if the
		 * process is killed the next instant. */
		len = snprintf(line, sizeof(line), "%lld\n", (long long)e.seq);
		if (write(STDOUT_FILENO, line, (size_t)len) != len)
			return 1;
		isim_audit_entry_free(&e);
	}
	cJSON_Delete(rec);
	isim_audit_close(a);
	return 0;
}

static int crash(const char *db, long runs, long max_us)
{
	struct timespec ts;
	int status;
	pid_t pid;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (long r = 0; r < runs; r++) {
		long us = max_us > 0 ? rand() % (max_us + 1) : 0;

		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(append_loop(db, -1, "crash test"));
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (us % 1000000) * 1000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid)
			return 1;
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			return 1; /* an append failed rather than was killed */
	}
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 5 && !strcmp(argv[1], "crash"))
		return crash(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 3 || argc == 4)
		return append_loop(argv[1], atol(argv[2]), argc == 4 ? argv[3] : "test");
	fprintf(stderr, "usage: audit-append DB N [KIND] | audit-append crash DB RUNS MAX_US\n");
	return 64;
}
