/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/verdict.h"
#include "dump.h"
#include "isim/audit.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/memrecord.h"
#include "isim/trust.h"

#define PROG "isim-memdump verify"
/* More --pub keys than anyone passes on a command line. */
#define PUB_MAX 32

enum {
	OPT_RECORD = ISIM_OPT_LOCAL,
	OPT_STATE_DIR,
	OPT_NO_AUDIT,
};

void memdump_verify_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " DUMP [--record RECORD] [--pub KEY.pub ...] [--trust DIR]\n"
		   "       [--state-dir DIR] [--no-audit]\n"
		   "\n"
		   "Check a dump against its attestation record (default DUMP.record.json): the\n"
		   "record's signature by a trusted signer who is the record's operator, the\n"
		   "dump's size and SHA-256, and that the audit log (STATE/audit.db) holds the\n"
		   "record. Prints one JSON verdict line.\n"
		   "\n"
		   "  -r, --record RECORD    the record (default DUMP.record.json)\n"
		   "  -p, --pub KEY.pub      trust this public key (again for more keys)\n"
		   "  -d, --trust DIR        the trusted signers (default $ISIM_TRUST_DIR, else\n"
		   "                         " ISIM_TRUST_DIR_DEFAULT ")\n"
		   "      --state-dir DIR    where audit.db is (ISIM_STATE_DIR; default\n"
		   "                         " MEMDUMP_STATE_DIR_DEFAULT ")\n"
		   "      --no-audit         do not look for the record in the audit log (a dump\n"
		   "                         checked away from the host that took it)\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 the dump is what the record says and the record holds, 1\n"
		   "it is not (the reason is printed), 64 usage, 65 the record is malformed,\n"
		   "66 the dump, record, key or audit log is missing, 74 I/O error, 78 bad\n"
		   "trusted signers.\n");
}

/* The trusted keys of every --pub, as one trust. */
static int trust_of_pubs(const char **pubs, size_t n, struct isim_trust **out, struct isim_error *err)
{
	struct isim_trust *all = NULL, *one = NULL;
	size_t i;

	*out = NULL;
	for (i = 0; i < n; i++) {
		struct isim_trust_key *k;

		if (isim_trust_from_pubkey(pubs[i], &one, err) < 0)
			goto fail;
		if (!all) {
			all = one;
			one = NULL;
			continue;
		}
		k = realloc(all->keys, (all->nkeys + one->nkeys) * sizeof(*k));
		if (!k) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		memcpy(k + all->nkeys, one->keys, one->nkeys * sizeof(*k));
		all->keys = k;
		all->nkeys += one->nkeys;
		isim_trust_free(one);
		one = NULL;
	}
	*out = all;
	return 0;
fail:
	isim_trust_free(one);
	isim_trust_free(all);
	return -1;
}

/* The dump's size and digest against the record's: 0 with v filled, -1
 * when the dump cannot be read. */
static int check_dump(const char *path, uint64_t size, const char *sha256, struct isim_verdict *v,
		      struct isim_error *err)
{
	uint8_t md[ISIM_SHA256_BYTES];
	char hex[ISIM_SHA256_HEX];
	struct stat st;

	if (stat(path, &st) < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_NOINPUT, errno, "cannot read the dump");
	}
	if (!S_ISREG(st.st_mode)) {
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_NOINPUT, "is %s, not a regular file",
				      isim_file_type_name(st.st_mode));
	}
	if ((uint64_t)st.st_size != size)
		return isim_verdict_refuse(v, "/dump/size", "the dump has %llu bytes, the record says %llu",
					   (unsigned long long)st.st_size, (unsigned long long)size);
	if (isim_sha256_file(path, md, err) < 0)
		return -1;
	isim_hex(md, sizeof(md), hex);
	if (strcmp(hex, sha256))
		return isim_verdict_refuse(v, "/dump/sha256", "the dump's SHA-256 is %s, the record says %s", hex,
					   sha256);
	isim_verdict_accept(v);
	return 0;
}

int memdump_verify_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "record", required_argument, NULL, 'r' },
		{ "pub", required_argument, NULL, 'p' },
		{ "trust", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "no-audit", no_argument, NULL, OPT_NO_AUDIT },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "r:p:d:hV", .longopts = opts, .usage = memdump_verify_usage
	};
	const char *record = NULL, *trust_dir = NULL, *state_dir = NULL, *pubs[PUB_MAX], *dump;
	char rec_path[4200], audit_path[4200], digest[ISIM_SHA256_HEX] = "", sha[ISIM_SHA256_HEX] = "";
	struct isim_memrecord_schema schema = { 0 };
	struct isim_audit_entry entry = { 0 };
	struct isim_audit *audit = NULL;
	struct isim_trust *trust = NULL;
	struct isim_verdict v;
	struct isim_error err;
	cJSON *rec = NULL;
	char *text = NULL;
	size_t npubs = 0, len;
	uint64_t size = 0;
	long long seq = 0;
	bool no_audit = false;
	int c, ret = ISIM_EXIT_SOFTWARE, found;

	isim_error_clear(&err);
	isim_verdict_init(&v);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'r':
			if (isim_opt_once(PROG, "--record", &record, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'd':
			if (isim_opt_once(PROG, "--trust", &trust_dir, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case OPT_STATE_DIR:
			if (isim_opt_once(PROG, "--state-dir", &state_dir, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'p':
			if (npubs == PUB_MAX)
				return isim_usage_error(PROG, "--pub: at most %d keys", PUB_MAX);
			if (!*optarg)
				return isim_usage_error(PROG, "--pub: empty file name");
			pubs[npubs++] = optarg;
			break;
		case OPT_NO_AUDIT:
			no_audit = true;
			break;
		}
	}
	if (argc - optind != 1)
		return isim_usage_error(PROG, "expected one DUMP, got %d", argc - optind);
	dump = argv[optind];
	if (!*dump)
		return isim_usage_error(PROG, "DUMP: empty file name");
	if (npubs && trust_dir)
		return isim_usage_error(PROG, "--pub or --trust, not both");
	if (record && !*record)
		return isim_usage_error(PROG, "--record: empty file name");
	if (isim_pathf(rec_path, sizeof(rec_path), &err, "%s", record ? record : dump) < 0 ||
	    (!record && isim_pathf(rec_path, sizeof(rec_path), &err, "%s.record.json", dump) < 0))
		return isim_fail(PROG, &err);

	if (isim_memrecord_schema_load(&schema, &err) < 0 ||
	    isim_file_read(rec_path, ISIM_MEMRECORD_MAX, &text, &len, &err) < 0)
		goto fail;
	if (isim_memrecord_parse(&schema, text, len, rec_path, &rec, &err) < 0)
		goto fail;
	if (isim_memrecord_digest(rec, digest, &err) < 0 || isim_memrecord_dump(rec, &size, sha, &err) < 0)
		goto fail;
	if (npubs ? trust_of_pubs(pubs, npubs, &trust, &err) < 0
		  : isim_trust_open(isim_path_trust_dir(trust_dir), NULL, &trust, &err) < 0)
		goto fail;
	/* The signature first: nothing a record says counts before it holds. */
	if (isim_memrecord_verify(rec, trust, &v, &err) < 0)
		goto fail;
	if (v.ok) {
		struct isim_verdict d;

		isim_verdict_init(&d);
		if (stat(dump, &(struct stat){ 0 }) < 0) {
			isim_error_at(&err, dump, 0, 0);
			isim_error_errno(&err, ISIM_ERR_NOINPUT, errno, "cannot read the dump");
			goto fail;
		}
		if (!no_audit) {
			if (isim_audit_path(state_dir, audit_path, sizeof(audit_path), &err) < 0 ||
			    isim_audit_open(audit_path, false, &audit, &err) < 0)
				goto fail;
			found = isim_audit_find_record(audit, digest, &entry, &err);
			if (found < 0)
				goto fail;
			if (!found) {
				isim_verdict_refuse(&d, "", "the record (SHA-256 %s) is not in the audit log %s",
						    digest, audit_path);
			} else if (strcmp(entry.kind, "memdump")) {
				isim_verdict_refuse(&d, "", "audit entry %lld holds the record as '%s', not 'memdump'",
						    (long long)entry.seq, entry.kind);
			} else {
				seq = entry.seq;
			}
		}
		if (!d.reason[0] && check_dump(dump, size, sha, &d, &err) < 0)
			goto fail;
		if (!d.ok) {
			v.ok = false;
			snprintf(v.reason, sizeof(v.reason), "%s", d.reason);
		}
	}
	{
		struct isim_vfield f[] = {
			ISIM_VF_STR("dump", dump),
			ISIM_VF_STR("record", rec_path),
			ISIM_VF_STR("record_sha256", digest),
			ISIM_VF_STR("sha256", sha),
			ISIM_VF_NUM("size", (long long)size),
			ISIM_VF_NUM("audit_seq", seq),
			ISIM_VF_OWN(ISIM_VF_KEY_ID),
			ISIM_VF_OWN(ISIM_VF_SIGNER),
			ISIM_VF_OWN(ISIM_VF_REASON),
			ISIM_VF_LAST,
		};

		ret = isim_verdict_print(PROG, &v, f);
		if (ret == ISIM_EXIT_VERDICT)
			(void)isim_verdict_tell(PROG, dump, &v);
	}
	goto out;
fail:
	ret = isim_fail(PROG, &err);
out:
	isim_audit_entry_free(&entry);
	isim_audit_close(audit);
	isim_trust_free(trust);
	isim_memrecord_schema_free(&schema);
	cJSON_Delete(rec);
	free(text);
	c = isim_close_stdout(PROG);
	return c ? c : ret;
}
