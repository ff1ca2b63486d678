/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/json.h"
#include "vm.h"

#define PROG "isim-vm qmp"

void vm_qmp_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME JSON [--state-dir DIR]\n"
		   "\n"
		   "Send one QMP command to the VM NAME's QEMU, JSON being\n"
		   "{\"execute\": COMMAND, \"arguments\": {...}} (arguments optional), and print\n"
		   "what it returns. For experts: isim-vm does not know what it did, so a\n"
		   "command that changes the machine's state (stop, cont, quit) is not\n"
		   "reflected in isim-vm's record until its next look.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 1 QEMU refused the command (its error on stderr), 64 usage,\n"
		   "65 JSON is not a QMP command, 66 no such VM, 69 it is not running.\n");
}

int vm_qmp_main(int argc, char *argv[])
{
	static const struct option opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = vm_qmp_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	struct isim_qmp *q = NULL;
	struct isim_error err;
	const cJSON *cmd, *args;
	cJSON *doc = NULL, *ret = NULL;
	const char *name, *text;
	int ch, rc = ISIM_EXIT_USAGE;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	while ((ch = isim_getopt_shared(&g, vm_option, &o, argc, argv)) != -1) {
		if (ch == ISIM_GETOPT_EXIT) {
			rc = g.rc;
			goto out;
		}
	}
	if (optind + 2 != argc) {
		isim_usage_error(PROG, "NAME and JSON are required");
		goto out;
	}
	name = argv[optind];
	text = argv[optind + 1];
	if (!vm_name_valid(name)) {
		isim_bad_value(PROG, "NAME", name, VM_NAME_RULE);
		goto out;
	}
	isim_error_clear(&err);
	if (isim_json_parse(text, strlen(text), "JSON", &doc, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	cmd = cJSON_GetObjectItemCaseSensitive(doc, "execute");
	args = cJSON_GetObjectItemCaseSensitive(doc, "arguments");
	if (!cJSON_IsObject(doc) || !cJSON_IsString(cmd) || (args && !cJSON_IsObject(args)) ||
	    cJSON_GetArraySize(doc) != (args ? 2 : 1)) {
		fprintf(stderr, PROG ": JSON: expected {\"execute\": COMMAND, \"arguments\": {...}}\n");
		rc = ISIM_EXIT_DATAERR;
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_STOPPED) {
		fprintf(stderr, PROG ": VM '%s' is not running\n", name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if ((rc = vm_qmp(&c, v, &q)))
		goto out;
	if (isim_qmp_execute(q, cmd->valuestring, args, &ret, VM_QMP_TIMEOUT_MS, &err) < 0) {
		isim_print_error(PROG, &err);
		vm_record(&c, name, "qmp", false, cmd->valuestring);
		/* QEMU's answer is a refusal; a QEMU that went away is not. */
		rc = isim_qmp_gone(q) ? ISIM_EXIT_UNAVAILABLE : ISIM_EXIT_VERDICT;
		goto out;
	}
	vm_record(&c, name, "qmp", true, cmd->valuestring);
	rc = vm_print(PROG, ret ? ret : cJSON_CreateObject());
	ret = NULL;
out:
	cJSON_Delete(ret);
	cJSON_Delete(doc);
	isim_qmp_close(q);
	vm_close(&c);
	free(v);
	return rc;
}
