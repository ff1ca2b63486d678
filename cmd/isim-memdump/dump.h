/* SPDX-License-Identifier: MIT */
#ifndef ISIM_MEMDUMP_DUMP_H
#define ISIM_MEMDUMP_DUMP_H

#include <stdio.h>

#include "isim/error.h"

/* isim-memdump VM -o DUMP ...: take a dump (dump.c). */
int memdump_dump_main(int argc, char *argv[]);
void memdump_dump_usage(FILE *f);
/* isim-memdump verify DUMP ... (verify.c). */
int memdump_verify_main(int argc, char *argv[]);
void memdump_verify_usage(FILE *f);

/* The state folder: opt, else $ISIM_STATE_DIR, else /var/lib/infrasim. */
#define MEMDUMP_STATE_DIR_DEFAULT "/var/lib/infrasim"
const char *memdump_state_dir(const char *opt);

/* What isim-vm's state (STATE/vm.db, read only) says of a VM. */
struct memdump_vm {
	char name[64];
	char uuid[37];
	char image[4096];
	char qmp[4200];
	unsigned memory_mib;
	int lock_fd; /* the VM's lock (STATE/vms/NAME.lock), held while dumping; -1 */
};

/* Find the running VM name in state_dir and take its lock, so that no
 * isim-vm command changes it during the dump. 0, or -1 with err:
 * ISIM_ERR_NOINPUT no such VM, ISIM_ERR_UNAVAILABLE it is not running. */
int memdump_vm_find(const char *state_dir, const char *name, struct memdump_vm *vm,
		    struct isim_error *err) ISIM_MUST_CHECK;
void memdump_vm_release(struct memdump_vm *vm);

#endif
