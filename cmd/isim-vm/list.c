/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm list"

void vm_list_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--state-dir DIR]\n"
		   "\n"
		   "Print every VM as a JSON array, in name order: [{\"name\", \"state\" (running,\n"
		   "paused or stopped), \"pid\", \"memory_mib\", \"cpus\", \"image\", \"created_at\",\n"
		   "\"started_at\"}]. A VM whose QEMU has ended is shown, and recorded, stopped.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 78 the state is corrupt.\n");
}

int vm_list_main(int argc, char *argv[])
{
	static const struct option opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = vm_list_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *all = NULL;
	size_t n = 0, i;
	cJSON *a;
	int ch, rc;

	while ((ch = isim_getopt_shared(&g, vm_option, &o, argc, argv)) != -1) {
		if (ch == ISIM_GETOPT_EXIT)
			return g.rc;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_load_all(&c, &all, &n)))
		goto out;
	a = cJSON_CreateArray();
	for (i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, vm_json(&c, &all[i], false));
	rc = vm_print(PROG, a);
out:
	free(all);
	vm_close(&c);
	return rc;
}
