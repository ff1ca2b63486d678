/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "common/cli.h"
#include "log.h"

#define PROG "isim-memdump log show"

void log_show_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--state-dir DIR] SEQ\n"
		   "\n"
		   "Print entry SEQ as a JSON object, every field as an export line has it:\n"
		   "{\"seq\", \"at\", \"kind\", \"record\" (the record itself), \"record_sha256\",\n"
		   "\"prev\", \"hash\"} (isim-formats(5), \"Audit log\").\n"
		   "\n" LOG_USAGE_STATE LOG_USAGE_HELP "\n"
		   "Exit status: 0, 64 usage, 66 no log or no such entry, 78 the log is corrupt.\n");
}

int log_show_main(int argc, char *argv[])
{
	static const struct option opts[] = { LOG_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = log_show_usage };
	struct log_opts o = { 0 };
	struct isim_audit *a = NULL;
	struct isim_audit_entry e;
	struct isim_error err;
	char path[4200];
	int64_t seq;
	int c, rc;

	isim_error_clear(&err);
	while ((c = isim_getopt_shared(&g, log_option, &o, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g.rc;
	}
	if (optind >= argc)
		return isim_usage_error(PROG, "SEQ is required");
	if (optind + 1 < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind + 1]);
	if (!log_parse_seq(argv[optind], &seq))
		return isim_bad_value(PROG, "SEQ", argv[optind], "an entry number (1 or more)");
	if ((rc = log_paths(PROG, &o, path, sizeof(path), NULL, 0)) || (rc = log_open(PROG, path, &a)))
		return rc;
	rc = isim_audit_get(a, seq, &e, &err);
	isim_audit_close(a);
	if (rc < 0) {
		isim_error_at(&err, path, 0, 0);
		return isim_fail(PROG, &err);
	}
	if (rc == 0) {
		isim_error_at(&err, path, 0, 0);
		isim_error_set(&err, ISIM_ERR_NOINPUT, "no entry %" PRId64, seq);
		return isim_fail(PROG, &err);
	}
	rc = log_print(PROG, isim_audit_entry_json(&e), false);
	isim_audit_entry_free(&e);
	return rc;
}
