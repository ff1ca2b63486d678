/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/verdict.h"
#include "isim/catalog.h"
#include "isim/descriptor.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/trust.h"
#include "verify.h"

#define PROG "isim-verify descriptor"
#define SCHEMA_FILE "node-descriptor.schema.json"

void verify_descriptor_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--trust DIR | --pub KEY.pub] [--at TIME] [--stream] [FILE]\n"
		   "\n"
		   "Check a node descriptor (FILE, or standard input): its schema, that its\n"
		   "attestation names a trusted signer that is not revoked, that the signature\n"
		   "over its RFC 8785 form verifies, and that it is valid now (or at TIME).\n"
		   "Prints a JSON verdict {\"ok\", \"node_id\", \"key_id\", \"reason\"}.\n"
		   "\n"
		   "  -d, --trust DIR        trusted signers: DIR/*.pub and DIR/revoked (default\n"
		   "                         $ISIM_TRUST_DIR, else " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "  -p, --pub KEY.pub      trust this one public key instead\n"
		   "  -t, --at TIME          check validity at TIME (RFC 3339, or @SECONDS)\n"
		   "  -s, --stream           JSON Lines in and out: one descriptor a line, one\n"
		   "                         verdict a line, in order; a malformed line gets a\n"
		   "                         verdict too, with \"line\"\n"
		   "      --schemas-dir DIR  where " SCHEMA_FILE " is (ISIM_SCHEMAS_DIR;\n"
		   "                         default: built into the program)\n"
		   "  -h, --help             this text\n"
		   "\n"
		   "Exit status: 0 valid (with --stream: all valid), 1 refused (see \"reason\"),\n"
		   "64 usage, 65 malformed descriptor, 66 missing file, 78 bad trusted signers\n"
		   "directory or schema; see isim(7).\n");
}

struct run {
	const struct isim_schema *schema;
	struct isim_trust *trust;
	time_t at;
};

static const char *node_id_of(const cJSON *doc)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "node_id");

	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* The verdict's line: {"ok", "node_id", "key_id", "reason"}, and "line"
 * in a stream. */
static void fields_of(struct isim_vfield f[static 5], const char *node, int line)
{
	const struct isim_vfield base[] = {
		ISIM_VF_STR_OR_NULL("node_id", node),
		ISIM_VF_OWN(ISIM_VF_KEY_ID),
		ISIM_VF_OWN(ISIM_VF_REASON),
		ISIM_VF_NUM("line", line),
		ISIM_VF_LAST,
	};

	memcpy(f, base, sizeof(base));
	if (!line)
		f[3] = f[4];
}

/* 0 valid, 1 refused, 65 malformed (in which case err says why), other
 * codes for errors that stop the run. */
static int check(const struct run *r, const cJSON *doc, int line, struct isim_error *err)
{
	struct isim_verdict v;
	struct isim_vfield f[5];

	isim_error_clear(err);
	fields_of(f, node_id_of(doc), line);
	if (isim_descriptor_verify(r->schema, doc, r->at, isim_trust_lookup, r->trust, &v, err) == 0)
		return isim_verdict_print(PROG, &v, f);
	if (err->kind != ISIM_ERR_DATA)
		return isim_exit_code(err->kind);
	return isim_verdict_print_error(PROG, &v, err, f);
}

static int run_stream(const struct run *r, FILE *in, const char *name)
{
	struct isim_jsonl rd;
	struct isim_error err;
	struct isim_verdict none;
	struct isim_vfield f[5];
	cJSON *doc;
	int got, c, worst = 0;

	isim_verdict_init(&none);
	isim_jsonl_init(&rd, in, name);
	for (;;) {
		isim_error_clear(&err);
		got = isim_jsonl_next(&rd, &doc, &err);
		if (got == 0)
			break;
		if (got < 0) {
			if (err.kind != ISIM_ERR_DATA) {
				worst = isim_fail(PROG, &err);
				break;
			}
			/* One bad line does not stop the peers after it. */
			isim_print_error(PROG, &err);
			fields_of(f, NULL, rd.line);
			c = isim_verdict_print_error(PROG, &none, &err, f);
			if (c != ISIM_EXIT_DATAERR) {
				worst = c;
				break;
			}
		} else {
			c = check(r, doc, rd.line, &err);
			cJSON_Delete(doc);
			if (c == ISIM_EXIT_DATAERR) {
				isim_error_at(&err, name, rd.line, 0);
				isim_print_error(PROG, &err);
			} else if (c > ISIM_EXIT_DATAERR) {
				worst = c == ISIM_EXIT_IOERR ? c : isim_fail(PROG, &err);
				break;
			}
		}
		if (c > worst)
			worst = c;
	}
	isim_jsonl_free(&rd);
	return worst;
}

static int run_one(const struct run *r, const char *path)
{
	struct isim_error err;
	cJSON *doc = NULL;
	int c;

	isim_error_clear(&err);
	if (isim_json_load_file(path, &doc, &err) < 0)
		return isim_fail(PROG, &err);
	c = check(r, doc, 0, &err);
	cJSON_Delete(doc);
	if (c >= ISIM_EXIT_DATAERR) {
		isim_error_at(&err, strcmp(path, "-") ? path : "<stdin>", 0, 0);
		return c == ISIM_EXIT_IOERR ? c : isim_fail(PROG, &err);
	}
	return c;
}

static int parse_at(const char *s, time_t *out)
{
	char *end;
	long long v;

	if (s[0] == '@') {
		v = strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end || v < 0)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	return isim_parse_rfc3339(s, out);
}

int verify_descriptor_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		ISIM_LONGOPTS_TRUST,
		{ "at", required_argument, NULL, 't' },
		{ "stream", no_argument, NULL, 's' },
		{ "schemas-dir", required_argument, NULL, 'S' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = { .prog = PROG,
				 .shortopts = "d:p:t:shV",
				 .longopts = opts,
				 .usage = verify_descriptor_usage,
				 .trust = &trust };
	const char *at = NULL, *schemas = NULL, *path;
	struct run r = { 0 };
	struct isim_error err;
	bool stream = false;
	struct isim_descriptor_schema schema = { 0 };
	int c, ret, rc;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 't':
			if (isim_opt_once(PROG, "--at", &at, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 's':
			stream = true;
			break;
		case 'S':
			if (isim_opt_once(PROG, "--schemas-dir", &schemas, optarg))
				return ISIM_EXIT_USAGE;
			break;
		}
	}
	if (argc - optind > 1)
		return isim_usage_error(PROG, "one FILE at most, got %d", argc - optind);
	if (isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	if (at && parse_at(at, &r.at) < 0)
		return isim_usage_error(PROG, "--at '%.64s' is not an RFC 3339 time nor @SECONDS", at);
	if (!at)
		r.at = time(NULL);
	path = optind < argc ? argv[optind] : "-";
	if (isim_descriptor_schema_load(isim_path_schemas(schemas), &schema, &err) < 0)
		return isim_fail(PROG, &err);
	r.schema = schema.schema;
	if (isim_trust_opt_open(&trust, &r.trust, &err) < 0) {
		isim_descriptor_schema_free(&schema);
		return isim_fail(PROG, &err);
	}
	if (stream) {
		FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;

		if (!in) {
			isim_error_at(&err, path, 0, 0);
			isim_error_errno(&err, ISIM_ERR_NOINPUT, errno, "cannot open");
			ret = isim_fail(PROG, &err);
		} else {
			ret = run_stream(&r, in, strcmp(path, "-") ? path : "<stdin>");
			if (in != stdin)
				fclose(in);
		}
	} else {
		ret = run_one(&r, path);
	}
	isim_trust_free(r.trust);
	isim_descriptor_schema_free(&schema);
	rc = isim_close_stdout(PROG);
	return rc ? rc : ret;
}
