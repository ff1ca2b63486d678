/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/secret.h"
#include "isim/file.h"
#include "isim/json.h"
#include "log.h"

#define PROG "isim-memdump log checkpoint"

void log_checkpoint_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -k KEY [--password-fd N] [--state-dir DIR]\n"
		   "\n"
		   "Sign the chain's head (its seq and hash, and the time) with the operator's\n"
		   "minisign key and append the statement as an entry of kind \"checkpoint\"\n"
		   "(isim-formats(5), \"Audit log\"). The entry is also written, as an export\n"
		   "line, to the log's folder's " ISIM_AUDIT_ANCHOR ", which verify checks that the\n"
		   "log still reaches; keep a copy elsewhere too. Prints the entry as JSON.\n"
		   "The head is signed as it is: run 'log verify' first.\n"
		   "\n"
		   "  -k, --sign-key KEY     secret key (minisign format; default $ISIM_SIGN_KEY;\n"
		   "                         --key is the same)\n"
		   "      --password-fd N    read the key's password from descriptor N\n" LOG_USAGE_STATE LOG_USAGE_HELP
		   "\n"
		   "Exit status: 0, 64 usage, 66 no log or no key, 73/74 the checkpoint file\n"
		   "cannot be written (the entry is appended), 77 key not readable or wrong\n"
		   "password, 78 the log is corrupt.\n");
}

int log_checkpoint_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		LOG_LONGOPTS, ISIM_LONGOPTS_KEY, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 }
	};
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "k:hV", .longopts = opts, .usage = log_checkpoint_usage, .key = &key
	};
	struct log_opts o = { 0 };
	struct isim_ms_seckey *sk = NULL;
	struct isim_audit_entry e = { 0 };
	struct isim_audit *a = NULL;
	struct isim_error err;
	char path[4200], anchor[4200];
	char *line = NULL;
	cJSON *doc = NULL;
	int c, rc;

	isim_error_clear(&err);
	while ((c = isim_getopt_shared(&g, log_option, &o, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g.rc;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (isim_key_finish(PROG, &key, true))
		return ISIM_EXIT_USAGE;
	if ((rc = log_paths(PROG, &o, path, sizeof(path), anchor, sizeof(anchor))))
		return rc;
	if (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if ((rc = log_open(PROG, path, &a)))
		goto out;
	if (isim_audit_checkpoint(a, sk->sk, sk->keyid, &e, &err) < 0) {
		isim_error_at(&err, path, 0, 0);
		rc = isim_fail(PROG, &err);
		goto out;
	}
	isim_ms_seckey_free(sk);
	sk = NULL;
	doc = isim_audit_entry_json(&e);
	line = doc ? isim_json_print(doc, false) : NULL;
	if (!line) {
		rc = log_print(PROG, NULL, false);
		goto out;
	}
	{
		size_t n = strlen(line);
		char *text = malloc(n + 2);

		if (!text) {
			rc = log_print(PROG, NULL, false);
			goto out;
		}
		memcpy(text, line, n);
		text[n] = '\n';
		rc = isim_file_write_atomic(anchor, text, n + 1, 0600, &err);
		free(text);
		if (rc < 0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
	}
	rc = log_print(PROG, doc, false);
	doc = NULL;
out:
	free(line);
	cJSON_Delete(doc);
	isim_audit_entry_free(&e);
	isim_audit_close(a);
	isim_ms_seckey_free(sk);
	return rc;
}
