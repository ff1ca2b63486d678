/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/trust.h"
#include "log.h"

#define PROG "isim-memdump log verify"

enum {
	OPT_FROM = LOG_OPT_LOCAL,
	OPT_CHECKPOINT,
};

void log_verify_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--state-dir DIR | --from FILE.jsonl] [--trust DIR | --pub KEY.pub]\n"
		   "       [--checkpoint FILE]\n"
		   "\n"
		   "Walk the hash chain from entry 1 and check every checkpoint's signature against\n"
		   "the trusted signers; name the first entry that was changed, removed, reordered\n"
		   "or inserted, and entries missing behind the last checkpoint. Prints one JSON\n"
		   "line: {\"ok\", \"entries\", \"checkpoints\", \"head_seq\", \"head_hash\",\n"
		   "\"checkpoint\" ({\"seq\", \"at\", \"key_id\"} of the last, or null), \"seq\" and\n"
		   "\"reason\" (of a finding, else null)}; a finding is also said on stderr.\n"
		   "\n"
		   "      --from FILE.jsonl  verify an export (log export) instead of the database\n"
		   "      --checkpoint FILE  a checkpoint saved elsewhere (an export line) the log\n"
		   "                         must reach and hold; default, for the database, its\n"
		   "                         folder's " ISIM_AUDIT_ANCHOR " when there is one\n"
		   "  -d, --trust DIR        trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                         $ISIM_TRUST_DIR, else /etc/infrasim/trusted-signers)\n"
		   "  -p, --pub KEY.pub      trust this one public key instead\n" LOG_USAGE_STATE LOG_USAGE_HELP "\n"
		   "Exit status: 0 the log holds, 1 a finding, 64 usage, 65 a malformed export\n"
		   "line or checkpoint file, 66 no log (or a file named is missing), 78 the\n"
		   "database or the trusted signers are corrupt.\n");
}

/* The trusted signers, loaded at the first checkpoint: a log without any
 * verifies where no signers are installed. */
struct lazy_trust {
	const struct isim_trust_opt *opt;
	struct isim_trust *t;
};

static int lookup(void *ctx, const uint8_t keyid[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		  struct isim_error *err)
{
	struct lazy_trust *l = ctx;

	if (!l->t && isim_trust_opt_open(l->opt, &l->t, err) < 0)
		return -1;
	return isim_trust_lookup(l->t, keyid, pk, err);
}

static int load_anchor(const char *path, struct isim_audit_entry *e, struct isim_error *err)
{
	char *text = NULL;
	size_t len;
	int r;

	if (isim_file_read(path, ISIM_JSONL_MAX, &text, &len, err) < 0)
		return -1;
	/* One export line, its newline optional. */
	if (len && text[len - 1] == '\n')
		len--;
	r = isim_audit_entry_parse(text, len, path, e, err);
	free(text);
	return r;
}

static cJSON *verdict(const struct isim_audit_report *r)
{
	cJSON *o = cJSON_CreateObject(), *cp;

	if (!o || !cJSON_AddBoolToObject(o, "ok", r->ok) ||
	    !cJSON_AddNumberToObject(o, "entries", (double)r->entries) ||
	    !cJSON_AddNumberToObject(o, "checkpoints", (double)r->checkpoints) ||
	    !cJSON_AddNumberToObject(o, "head_seq", (double)r->head_seq) ||
	    !cJSON_AddStringToObject(o, "head_hash", r->head_hash))
		goto oom;
	if (r->checkpoint_seq) {
		cp = cJSON_AddObjectToObject(o, "checkpoint");
		if (!cp || !cJSON_AddNumberToObject(cp, "seq", (double)r->checkpoint_seq) ||
		    !cJSON_AddNumberToObject(cp, "at", (double)r->checkpoint_at) ||
		    !cJSON_AddStringToObject(cp, "key_id", r->checkpoint_key))
			goto oom;
	} else if (!cJSON_AddNullToObject(o, "checkpoint")) {
		goto oom;
	}
	if (r->ok ? !cJSON_AddNullToObject(o, "seq") || !cJSON_AddNullToObject(o, "reason")
		  : !cJSON_AddNumberToObject(o, "seq", (double)r->seq) ||
			    !cJSON_AddStringToObject(o, "reason", r->what))
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}

int log_verify_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		LOG_LONGOPTS,
		ISIM_LONGOPTS_TRUST,
		{ "from", required_argument, NULL, OPT_FROM },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "d:p:hV", .longopts = opts, .usage = log_verify_usage, .trust = &trust
	};
	struct log_opts o = { 0 };
	struct lazy_trust lt = { .opt = &trust };
	struct isim_audit_entry anchor = { 0 };
	struct isim_audit_report report;
	struct isim_audit *a = NULL;
	struct isim_error err;
	const char *from = NULL, *cp_path = NULL, *name;
	char path[4200], anchor_path[4200], msg[1200];
	bool have_anchor = false;
	struct stat st;
	FILE *in = NULL;
	int c, rc, r;

	isim_error_clear(&err);
	while ((c = isim_getopt_shared(&g, log_option, &o, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case OPT_FROM:
			if (isim_opt_once(PROG, "--from", &from, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case OPT_CHECKPOINT:
			if (isim_opt_once(PROG, "--checkpoint", &cp_path, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	if (from && o.state_dir)
		return isim_usage_error(PROG, "--from and --state-dir name two logs; give one");
	if (from && !*from)
		return isim_bad_value(PROG, "--from", from, "a file");
	if ((rc = log_paths(PROG, &o, path, sizeof(path), anchor_path, sizeof(anchor_path))))
		return rc;
	if (!cp_path && !from && stat(anchor_path, &st) == 0)
		cp_path = anchor_path;
	if (cp_path) {
		if (load_anchor(cp_path, &anchor, &err) < 0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
		have_anchor = true;
	}
	if (from) {
		name = strcmp(from, "-") ? from : "<stdin>";
		in = strcmp(from, "-") ? fopen(from, "r") : stdin;
		if (!in) {
			isim_error_at(&err, from, 0, 0);
			isim_error_errno(&err, errno == ENOENT || errno == EACCES ? ISIM_ERR_NOINPUT : ISIM_ERR_IO,
					 errno, "cannot open the export");
			rc = isim_fail(PROG, &err);
			goto out;
		}
		r = isim_audit_verify_export(in, name, have_anchor ? &anchor : NULL, lookup, &lt, &report, &err);
	} else {
		name = path;
		if ((rc = log_open(PROG, path, &a)))
			goto out;
		r = isim_audit_verify(a, have_anchor ? &anchor : NULL, lookup, &lt, &report, &err);
	}
	if (r < 0) {
		if (!err.path[0])
			isim_error_at(&err, name, 0, 0);
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (!report.ok) {
		isim_sanitize(msg, sizeof(msg), report.what);
		fprintf(stderr, PROG ": %s: %s\n", name, msg);
	}
	rc = log_print(PROG, verdict(&report), true);
	if (rc == 0 && !report.ok)
		rc = ISIM_EXIT_VERDICT;
out:
	if (in && in != stdin)
		fclose(in);
	isim_audit_entry_free(&anchor);
	isim_audit_close(a);
	isim_trust_free(lt.t);
	return rc;
}
