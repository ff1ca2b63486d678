/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/file.h"
#include "vm.h"

#define PROG "isim-vm destroy"

void vm_destroy_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--force] [--state-dir DIR]\n"
		   "\n"
		   "Remove the VM NAME: its record and its folder (overlay disk, seed, logs).\n"
		   "The image it was made from is not touched. A VM that runs is refused\n"
		   "unless --force, which kills it first. Prints {\"name\", \"destroyed\": true}.\n"
		   "\n"
		   "  -f, --force            kill the VM's QEMU if it runs\n" VM_USAGE_COMMON
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 69 it runs (without --force), 78\n"
		   "the state is corrupt.\n");
}

int vm_destroy_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "force", no_argument, NULL, 'f' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "fhV", .longopts = opts, .usage = vm_destroy_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name;
	bool force = false;
	cJSON *doc;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = { VM_ARG_FLAG('f', "--force", &force), VM_ARG_END };

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (vm_alive(v)) {
		if (!force) {
			fprintf(stderr, PROG ": VM '%s' is %s (isim-vm stop %s first, or --force)\n", name,
				vm_state_name(v->state), name);
			rc = ISIM_EXIT_UNAVAILABLE;
			goto out;
		}
		vm_signal(v, SIGKILL);
		vm_stop_qemu(&c, v, 0);
	}
	/* The record first: a folder left behind is only disk space. */
	if ((rc = vm_delete(&c, name)))
		goto out;
	isim_rmtree(v->dir);
	vm_record(&c, name, "destroy", true, NULL);
	vm_unlock_remove(&c);
	doc = cJSON_CreateObject();
	if (doc) {
		cJSON_AddStringToObject(doc, "name", name);
		cJSON_AddBoolToObject(doc, "destroyed", true);
	}
	rc = vm_print(PROG, doc);
out:
	vm_close(&c);
	free(v);
	return rc;
}
