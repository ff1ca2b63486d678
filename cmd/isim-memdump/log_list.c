/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "log.h"

#define PROG "isim-memdump log list"

enum {
	OPT_KIND = LOG_OPT_LOCAL,
	OPT_FROM,
};

void log_list_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--state-dir DIR] [--kind KIND] [--from SEQ]\n"
		   "\n"
		   "Print the entries as a JSON array, oldest first: [{\"seq\", \"at\" (seconds since\n"
		   "the epoch), \"kind\", \"record_sha256\", \"hash\"}]. 'show SEQ' prints one in full.\n"
		   "\n"
		   "      --kind KIND        only the entries of that kind (\"memdump\", \"checkpoint\")\n"
		   "      --from SEQ         only entry SEQ and those after it\n" LOG_USAGE_STATE LOG_USAGE_HELP "\n"
		   "Exit status: 0, 64 usage, 66 no log, 78 the log is corrupt.\n");
}

struct list_ctx {
	cJSON *array;
	bool oom;
};

static int add(void *ctx, const struct isim_audit_entry *e)
{
	struct list_ctx *l = ctx;
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddNumberToObject(o, "seq", (double)e->seq) ||
	    !cJSON_AddNumberToObject(o, "at", (double)e->at) || !cJSON_AddStringToObject(o, "kind", e->kind) ||
	    !cJSON_AddStringToObject(o, "record_sha256", e->record_sha256) ||
	    !cJSON_AddStringToObject(o, "hash", e->hash) || !cJSON_AddItemToArray(l->array, o)) {
		cJSON_Delete(o);
		l->oom = true;
		return 1;
	}
	return 0;
}

int log_list_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		LOG_LONGOPTS,
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "from", required_argument, NULL, OPT_FROM },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = log_list_usage };
	struct log_opts o = { 0 };
	const char *kind = NULL, *from_arg = NULL;
	struct list_ctx l = { 0 };
	struct isim_audit *a = NULL;
	struct isim_error err;
	char path[4200];
	int64_t from = 1;
	int c, rc;

	isim_error_clear(&err);
	while ((c = isim_getopt_shared(&g, log_option, &o, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case OPT_KIND:
			if (isim_opt_once(PROG, "--kind", &kind, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case OPT_FROM:
			if (isim_opt_once(PROG, "--from", &from_arg, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (kind && !isim_audit_kind_valid(kind))
		return isim_bad_value(PROG, "--kind", kind, "1 to 63 printable characters");
	if (from_arg && !log_parse_seq(from_arg, &from))
		return isim_bad_value(PROG, "--from", from_arg, "an entry number (1 or more)");
	if ((rc = log_paths(PROG, &o, path, sizeof(path), NULL, 0)) || (rc = log_open(PROG, path, &a)))
		return rc;
	l.array = cJSON_CreateArray();
	if (!l.array) {
		isim_audit_close(a);
		return log_print(PROG, NULL, false);
	}
	rc = isim_audit_each(a, from, kind, add, &l, &err);
	isim_audit_close(a);
	if (rc < 0) {
		cJSON_Delete(l.array);
		isim_error_at(&err, path, 0, 0);
		return isim_fail(PROG, &err);
	}
	if (l.oom) {
		cJSON_Delete(l.array);
		l.array = NULL;
	}
	return log_print(PROG, l.array, false);
}
