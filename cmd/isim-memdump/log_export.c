/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "isim/file.h"
#include "isim/json.h"
#include "log.h"

#define PROG "isim-memdump log export"

enum {
	OPT_FORCE = LOG_OPT_LOCAL,
};

void log_export_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--state-dir DIR] [-o FILE [--force]]\n"
		   "\n"
		   "Write every entry as JSON Lines, oldest first, one object a line with every\n"
		   "field: {\"seq\", \"at\", \"kind\", \"record\", \"record_sha256\", \"prev\", \"hash\"}.\n"
		   "'isim-memdump log verify --from FILE --pub KEY.pub' verifies it anywhere,\n"
		   "without the database.\n"
		   "\n"
		   "  -o, --output FILE      write FILE atomically (mode 0600) instead of stdout\n"
		   "      --force            replace FILE when it exists\n" LOG_USAGE_STATE LOG_USAGE_HELP "\n"
		   "Exit status: 0, 64 usage, 66 no log, 73 FILE exists (without --force) or\n"
		   "cannot be made, 74 write error, 78 the log is corrupt.\n");
}

struct export_ctx {
	FILE *f;
	int fd;
	bool failed;
	int errnum;
};

static int line(void *ctx, const struct isim_audit_entry *e)
{
	struct export_ctx *x = ctx;
	cJSON *o = isim_audit_entry_json(e);
	int r;

	if (!o) {
		x->errnum = ENOMEM;
		x->failed = true;
		return 1;
	}
	errno = 0;
	r = isim_json_write_line(x->f, o);
	cJSON_Delete(o);
	if (r < 0) {
		x->errnum = errno ? errno : EIO;
		x->failed = true;
		return 1;
	}
	return 0;
}

int log_export_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		LOG_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, OPT_FORCE },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "o:hV", .longopts = opts, .usage = log_export_usage };
	struct log_opts o = { 0 };
	struct isim_staged_file sf = { 0 };
	struct export_ctx x = { .fd = -1 };
	struct isim_audit *a = NULL;
	struct isim_error err;
	const char *out = NULL;
	bool force = false;
	char path[4200];
	int c, rc, fd = -1;

	isim_error_clear(&err);
	while ((c = isim_getopt_shared(&g, log_option, &o, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'o':
			if (isim_opt_once(PROG, "--output", &out, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case OPT_FORCE:
			force = true;
			break;
		}
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (force && !out)
		return isim_usage_error(PROG, "--force is for -o FILE");
	if (out && (!*out || !strcmp(out, "-")))
		return isim_bad_value(PROG, "--output", out, "a file name (leave -o out for stdout)");
	if ((rc = log_paths(PROG, &o, path, sizeof(path), NULL, 0)) || (rc = log_open(PROG, path, &a)))
		return rc;
	/* Refused before anything is written; the commit refuses again
	 * should the file appear meanwhile. */
	if (out && !force && access(out, F_OK) == 0) {
		isim_error_at(&err, out, 0, 0);
		isim_error_set(&err, ISIM_ERR_CANTCREATE, "already exists (--force replaces it)");
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (out) {
		if (isim_file_stage_open(&sf, out, 0600, &fd, &err) < 0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
		x.f = fdopen(fd, "w");
		if (!x.f) {
			close(fd);
			isim_error_at(&err, out, 0, 0);
			isim_error_errno(&err, ISIM_ERR_CANTCREATE, errno, "cannot write");
			rc = isim_fail(PROG, &err);
			goto out;
		}
	} else {
		x.f = stdout;
	}
	if (isim_audit_each(a, 1, NULL, line, &x, &err) < 0 && !x.failed) {
		isim_error_at(&err, path, 0, 0);
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (!out) {
		rc = x.failed ? (errno = x.errnum, isim_stdout_error(PROG)) : isim_close_stdout(PROG);
		goto out;
	}
	if (x.failed || fflush(x.f) != 0) {
		isim_error_at(&err, out, 0, 0);
		isim_error_errno(&err, ISIM_ERR_IO, x.failed ? x.errnum : errno, "cannot write");
		rc = isim_fail(PROG, &err);
		goto out;
	}
	/* The descriptor goes to isim_file_stage_close, which syncs it. */
	fd = dup(fileno(x.f));
	fclose(x.f);
	x.f = NULL;
	if (fd < 0) {
		isim_error_errno(&err, ISIM_ERR_IO, errno, "cannot write %s", out);
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_file_stage_close(&sf, fd, &err) < 0 || isim_file_commit(&sf, force, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	rc = 0;
out:
	if (x.f && x.f != stdout)
		fclose(x.f);
	isim_file_abort(&sf);
	isim_audit_close(a);
	return rc;
}
