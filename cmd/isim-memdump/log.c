/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "isim/file.h"
#include "isim/json.h"
#include "log.h"

#define PROG "isim-memdump log"

static const struct isim_cmd cmds[] = {
	{ "list", log_list_main, "the entries, as a JSON array", log_list_usage },
	{ "show", log_show_main, "one entry, every field", log_show_usage },
	{ "verify", log_verify_main, "check the hash chain and the signed checkpoints", log_verify_usage },
	{ "export", log_export_main, "every entry as JSON Lines, to verify elsewhere", log_export_usage },
	{ "checkpoint", log_checkpoint_main, "sign the chain's head and append it", log_checkpoint_usage },
};

static const struct isim_tool tool = {
	.prog = PROG,
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.synopsis = "The append-only, hash-chained audit log, STATE/" ISIM_AUDIT_DB ".",
	.epilog = "Exit status: see isim-memdump(1).",
};

void memdump_log_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " COMMAND [options] [ARG...]\n%s\nCommands:\n", tool.synopsis);
	for (i = 0; i < tool.ncmds; i++)
		fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'" PROG " COMMAND --help' describes a command.\n");
}

int memdump_log_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}

int log_option(const char *prog, void *opts, int c, const char *arg)
{
	struct log_opts *o = opts;

	if (c != LOG_OPT_STATE_DIR)
		return 0;
	if (!*arg)
		return isim_bad_value(prog, "--state-dir", arg, "a folder");
	return isim_opt_once(prog, "--state-dir", &o->state_dir, arg) ? ISIM_EXIT_USAGE : 1;
}

int log_paths(const char *prog, const struct log_opts *o, char *path, size_t size, char *anchor, size_t asize)
{
	struct isim_error err;
	const char *slash;

	isim_error_clear(&err);
	if (isim_audit_path(o->state_dir, path, size, &err) < 0)
		return isim_fail(prog, &err);
	if (!anchor)
		return 0;
	slash = strrchr(path, '/');
	if (isim_pathf(anchor, asize, &err, "%.*s/" ISIM_AUDIT_ANCHOR, slash ? (int)(slash - path) : 1,
		       slash ? path : ".") < 0)
		return isim_fail(prog, &err);
	return 0;
}

int log_open(const char *prog, const char *path, struct isim_audit **a)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_audit_open(path, false, a, &err) < 0) {
		if (err.kind == ISIM_ERR_NOINPUT) {
			char why[sizeof(err.msg)];

			snprintf(why, sizeof(why), "%s", err.msg);
			isim_error_set(&err, ISIM_ERR_NOINPUT, "no audit log (%s)", why);
		}
		return isim_fail(prog, &err);
	}
	return 0;
}

int log_print(const char *prog, cJSON *doc, bool line)
{
	int rc;

	if (!doc) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return ISIM_EXIT_SOFTWARE;
	}
	rc = (line ? isim_json_write_line(stdout, doc) : isim_json_write(stdout, doc)) < 0 ? isim_stdout_error(prog)
											   : isim_close_stdout(prog);
	cJSON_Delete(doc);
	return rc;
}

bool log_parse_seq(const char *s, int64_t *out)
{
	long v;

	/* strtol would take blanks and a sign before the digits. */
	if (s[0] < '0' || s[0] > '9' || !isim_parse_long(s, 1, LONG_MAX, &v) || v > 9007199254740992L)
		return false;
	*out = v;
	return true;
}
