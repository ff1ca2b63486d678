/* SPDX-License-Identifier: MIT */
#ifndef ISIM_VM_H
#define ISIM_VM_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "isim/audit.h"
#include "isim/error.h"
#include "isim/qemu.h"

/* The whole isim-vm command, callable in-process by tests. */
int isim_vm_main(int argc, char *argv[]);

int vm_create_main(int argc, char *argv[]);
int vm_start_main(int argc, char *argv[]);
int vm_stop_main(int argc, char *argv[]);
int vm_kill_main(int argc, char *argv[]);
int vm_pause_main(int argc, char *argv[]);
int vm_resume_main(int argc, char *argv[]);
int vm_restart_main(int argc, char *argv[]);
int vm_list_main(int argc, char *argv[]);
int vm_show_main(int argc, char *argv[]);
int vm_console_main(int argc, char *argv[]);
int vm_wait_main(int argc, char *argv[]);
int vm_destroy_main(int argc, char *argv[]);
int vm_qmp_main(int argc, char *argv[]);
int vm_snapshot_main(int argc, char *argv[]);
int vm_migrate_main(int argc, char *argv[]);
int vm_receive_main(int argc, char *argv[]);
int vm_appliance_main(int argc, char *argv[]);
void vm_create_usage(FILE *f);
void vm_start_usage(FILE *f);
void vm_stop_usage(FILE *f);
void vm_kill_usage(FILE *f);
void vm_pause_usage(FILE *f);
void vm_resume_usage(FILE *f);
void vm_restart_usage(FILE *f);
void vm_list_usage(FILE *f);
void vm_show_usage(FILE *f);
void vm_console_usage(FILE *f);
void vm_wait_usage(FILE *f);
void vm_destroy_usage(FILE *f);
void vm_qmp_usage(FILE *f);
void vm_snapshot_usage(FILE *f);
void vm_migrate_usage(FILE *f);
void vm_receive_usage(FILE *f);
void vm_appliance_usage(FILE *f);

/* ---- what the commands share: the state folder and a VM's record ---- */

#define VM_STATE_DIR_DEFAULT "/var/lib/infrasim"
#define VM_DB_NAME "vm.db"
/* A VM's files: STATE/vms/NAME/; its lock STATE/vms/NAME.lock. */
#define VM_DIR "vms"
#define VM_TEMPLATES "templates"
/* Beside the seed: the boot-time inputs it carries, [{"name",
 * "destination", "secret", "value" (not for a secret one)}]. */
#define VM_INPUTS "inputs.json"
#define VM_NAME_RULE "a VM name (1 to 63 of a-z, 0-9, '.' and '-', starting with a letter or digit)"
/* The disk's format node, as QMP names it. */
#define VM_DISK_NODE "disk0"
/* The disk's device (the first -drive if=virtio), whose root node is the
 * disk's top layer: disk0 until an external snapshot puts another over. */
#define VM_DISK_DEVICE "virtio0"
/* QMP answers within this long, or QEMU is stuck. */
#define VM_QMP_TIMEOUT_MS 30000
/* A snapshot or stream job of a booted guest takes seconds under TCG. */
#define VM_JOB_TIMEOUT_MS 600000
/* QEMU's node names are at most 31 characters. */
#define VM_NODE_MAX 32
/* External snapshots one VM may have: layers of its disk. */
#define VM_LAYERS_MAX 64

enum {
	VM_OPT_STATE_DIR = 0x1100,
	VM_OPT_LOCAL,
};

/* clang-format off */
#define VM_LONGOPTS \
	{ "state-dir", required_argument, NULL, VM_OPT_STATE_DIR }
#define VM_USAGE_COMMON \
	"      --state-dir DIR    where " VM_DB_NAME " and the VMs are (ISIM_STATE_DIR;\n" \
	"                         default " VM_STATE_DIR_DEFAULT ")\n"
/* clang-format on */

struct vm_opts {
	const char *state_dir;
};

/* An isim_shared_option_fn (options.h) for VM_LONGOPTS. */
int vm_option(const char *prog, void *opts, int c, const char *arg);
bool vm_name_valid(const char *name);

enum vm_state {
	VM_STOPPED,
	VM_RUNNING,
	VM_PAUSED,
};

const char *vm_state_name(enum vm_state s);

/* How the VM reaches a network. */
struct vm_forward {
	bool udp;
	char host_addr[64];
	uint16_t host_port, guest_port;
};

#define VM_FORWARDS_MAX 16

/* A VM as its row holds it. */
struct vm {
	char name[64];
	char uuid[37];
	char image[4096]; /* the image the disk is an overlay on */
	unsigned memory_mib, cpus;
	uint64_t disk_size; /* the overlay's virtual size */
	char accel[8];	    /* "auto", "tcg" or "kvm", as configured */
	char top[64];	    /* the disk's top layer, "" for disk.qcow2 (layer.c) */
	char net[8];	    /* "user", "none", "tap" */
	char tap[16];	    /* for "tap" */
	struct vm_forward forwards[VM_FORWARDS_MAX];
	size_t nforwards;
	enum vm_state state;
	pid_t pid; /* QEMU's, 0 when stopped */
	int64_t created_at, started_at;
	/* Its files, under the state folder. */
	char dir[4096], disk[4200], seed[4200], qmp[4200], serial[4200], console[4200], log[4200];
};

/* The state: the database and the folder, and the VM a command holds. */
struct vm_ctx {
	const char *prog;
	char state_dir[4096];
	sqlite3 *db;
	int lock_fd; /* the VM's lock, -1 when none is held */
	char lock_path[4200];
	sqlite3_stmt *migrated;	  /* vm_json's, prepared once for a whole list */
	struct isim_audit *audit; /* the audit log, opened at the first record */
	bool audit_tried;
};

/* Where the state is, without touching it: 0 or an exit code. */
int vm_init(struct vm_ctx *c, const char *prog, const struct vm_opts *o);
/* Open the state (creating the folder and database when create), 0 or an
 * exit code said on stderr. */
int vm_open(struct vm_ctx *c, const char *prog, const struct vm_opts *o, bool create);
void vm_close(struct vm_ctx *c);
/* Take NAME's lock (waiting for a command that holds it): 0 or an exit
 * code; without a state at all, ISIM_EXIT_NOINPUT "no VM". Released by
 * vm_close or vm_unlock; vm_unlock_remove also removes the lock's file
 * (a VM destroyed, or not made after all), which a command waiting for
 * it notices. */
int vm_lock(struct vm_ctx *c, const char *name);
void vm_unlock(struct vm_ctx *c);
void vm_unlock_remove(struct vm_ctx *c);
/* Whether a VM called name is recorded. */
bool vm_exists(struct vm_ctx *c, const char *name);
/* The name of the VM recorded with uuid, into name: whether there is one. */
bool vm_uuid_taken(struct vm_ctx *c, const char *uuid, char *name, size_t size);

/* The files of a VM called name, into v. 0 or an exit code (a state
 * folder too deep for a unix socket's path, say). */
int vm_paths(const struct vm_ctx *c, const char *name, struct vm *v);
/* Load NAME: 0, or ISIM_EXIT_NOINPUT "no VM 'NAME'" (said), or another
 * exit code. Its QEMU is looked at: a VM recorded running whose QEMU has
 * ended is corrected to stopped (and the correction recorded). */
int vm_load(struct vm_ctx *c, const char *name, struct vm *v);
/* vm_load under NAME's lock (vm_lock): what a command that changes a VM
 * starts with. */
int vm_take(struct vm_ctx *c, const char *name, struct vm *v);
/* Every VM, in name order, each checked as vm_load does. */
int vm_load_all(struct vm_ctx *c, struct vm **out, size_t *n);
/* Insert or update v's row. 0 or an exit code. */
int vm_save(struct vm_ctx *c, const struct vm *v, bool insert);
int vm_delete(struct vm_ctx *c, const char *name);
/* Record an operation on name and how it went: in vm.db's history, and
 * as an entry of kind "vm" in the audit log (STATE/audit.db), when it can
 * be written. */
void vm_record(struct vm_ctx *c, const char *name, const char *op, bool ok, const char *detail);

/* Whether v's QEMU runs: its pid is alive and is the QEMU of this VM
 * (its command line names the VM's QMP socket), not a reused pid. */
bool vm_alive(const struct vm *v);
/* The accelerator v's running QEMU uses ("kvm", "tcg"), from its command
 * line, into out: false when it does not run. */
bool vm_accel_used(const struct vm *v, char *out, size_t size);
/* Send sig to v's QEMU and its process group. */
void vm_signal(const struct vm *v, int sig);

/* The machine v describes, for isim_qemu_argv: drives, network, console,
 * QMP; m points into v and into storage (which must live as long). */
struct vm_machine {
	struct isim_qemu_machine m;
	struct isim_qemu_drive drives[2];
	struct isim_qemu_nic nic;
	struct isim_qemu_forward fw[VM_FORWARDS_MAX];
	char tap_arg[64];
	const char *extra[8];
};
void vm_machine(const struct vm *v, struct vm_machine *vm);

/* Start v's QEMU (it must be stopped): v is updated and saved. With
 * incoming ("defer"), it waits for a migration (QMP migrate-incoming). 0
 * or an exit code said on stderr. */
int vm_start_qemu(struct vm_ctx *c, struct vm *v, const char *incoming);
/* Connect to v's QMP socket: 0, or an exit code said on stderr. */
int vm_qmp(struct vm_ctx *c, const struct vm *v, struct isim_qmp **out);
/* Stop v's QEMU: powerdown, then after timeout_ms quit, SIGTERM, SIGKILL.
 * How it ended: "powerdown", "quit", "SIGTERM", "SIGKILL", "ended". */
const char *vm_stop_qemu(struct vm_ctx *c, struct vm *v, int timeout_ms);

/* stop and kill: the command (kill_it: SIGKILL at once). */
int vm_halt(const char *prog, int argc, char *argv[], bool kill_it);

/* pause (run false) and resume (run true): the command. */
int vm_set_running(const char *prog, int argc, char *argv[], bool run);

/* v as JSON: what list shows, and with full, what show does. */
cJSON *vm_json(struct vm_ctx *c, const struct vm *v, bool full);
/* Print doc on stdout and close it: 0 or an exit code. */
int vm_print(const char *prog, cJSON *doc);
/* One common shape of command: NAME and the shared options. The
 * argument parsed into *name; 0, or an exit code. */
int vm_one_name(const char *prog, int argc, char *argv[], const char *shortopts, const struct option *longopts,
		void (*usage)(FILE *), struct vm_opts *o, const char **name);
struct isim_getopt;
/* A command's own option, for vm_parse: getopt's code c, as messages name
 * it, and where it goes: a value given once (text), a flag, or a value a
 * time into list (at most max, *n of them). */
struct vm_arg {
	int c;
	const char *name;
	const char **text;
	bool *flag;
	const char **list;
	size_t *n, max;
};
/* The options of g (the shared ones into o, the command's own as args
 * says; args ends with c 0), then the one NAME argument. 0, or the exit
 * code of what was said (help, a usage error). */
/* clang-format off */
#define VM_ARG_TEXT(c, name, slot) { (c), (name), (slot), NULL, NULL, NULL, 0 }
#define VM_ARG_FLAG(c, name, slot) { (c), (name), NULL, (slot), NULL, NULL, 0 }
#define VM_ARG_LIST(c, name, list, n, max) { (c), (name), NULL, NULL, (list), (n), (max) }
#define VM_ARG_END { 0, NULL, NULL, NULL, NULL, NULL, 0 }
/* clang-format on */
int vm_parse(struct isim_getopt *g, struct vm_opts *o, const struct vm_arg *args, int argc, char *argv[],
	     const char **name);
/* After the options: the one NAME argument, checked. 0 or 64 (said). */
int vm_name_arg(const char *prog, int argc, char *argv[], const char **name);
/* --timeout's SECONDS (text NULL: *secs kept). 0 or 64 (said). */
int vm_timeout_arg(const char *prog, const char *text, long *secs);
/* A size: bytes, or with K, M, G or T (powers of 1024); not 0. */
bool vm_parse_size(const char *s, uint64_t *out);
/* --forward's [tcp|udp:][ADDR:]PORT:GUEST-PORT (ADDR IPv4). */
bool vm_parse_forward(const char *s, struct vm_forward *f);
/* v's disk: a qcow2 overlay on v's image, of v's size. 0 or an exit code. */
int vm_make_disk(const char *prog, const struct vm *v);
/* ---- the disk's layers (layer.c), for external snapshots ---- */

/* The path of the file called name in v's folder: 0, or -1 if too long. */
int vm_layer_path(const struct vm *v, const char *name, char *out, size_t size);
/* The block nodes of v's disk in its QEMU, from the top layer down (then
 * the image's): into nodes, at most max, *n of them. 0 or an exit code. */
int vm_disk_nodes(struct vm_ctx *c, struct isim_qmp *q, char (*nodes)[VM_NODE_MAX], size_t max, size_t *n);
/* The file name of v's top layer, in its folder. */
const char *vm_layer_top(const struct vm *v);
/* Freeze v's top layer: a new, empty layer over it, its name into top;
 * q: the QEMU that runs on the disk, told to write to the new layer from
 * now (NULL for a stopped VM). On failure the disk is as it was. 0 or an
 * exit code said on stderr. The caller records the new top in v. */
int vm_layer_freeze(struct vm_ctx *c, const struct vm *v, struct isim_qmp *q, char *top, size_t size);
/* A new, empty layer over the frozen layer, its name into top: what a
 * stopped VM's disk reverted to it is. The old top is the caller's to
 * remove once the new one is recorded. */
int vm_layer_revert(struct vm_ctx *c, const struct vm *v, const char *layer, char *top, size_t size);
/* Take the frozen layer out of the chain and remove its file: the layer
 * over it (child, a name in the VM's folder; depth layers down from the
 * top, the top 0) takes in what it read through it, so that it shows the
 * same disk. With q, in the running QEMU (a block-stream job). */
int vm_layer_drop(struct vm_ctx *c, const struct vm *v, struct isim_qmp *q, const char *layer, const char *child,
		  size_t depth);
/* How many external snapshots (frozen layers) the VM called name has. */
size_t vm_layer_count(struct vm_ctx *c, const char *name);
/* The bytes the layer's file takes on the host. */
int64_t vm_layer_size(const struct vm *v, const char *layer);
/* Run the QMP job command (id its job-id; args, taken, its arguments) and
 * wait for it to conclude: 0, or an exit code with QEMU's reason said. */
int vm_job(struct vm_ctx *c, struct isim_qmp *q, const char *command, const char *id, cJSON *args);

/* Seconds and milliseconds since the epoch. */
int64_t vm_now(void);

#endif
