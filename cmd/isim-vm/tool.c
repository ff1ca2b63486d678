/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "vm.h"

static const struct isim_cmd cmds[] = {
	{ "create", vm_create_main, "make a VM: an overlay on an image, and its cloud-init seed", vm_create_usage },
	{ "start", vm_start_main, "start a VM's QEMU, which outlives the command", vm_start_usage },
	{ "stop", vm_stop_main, "power a VM off (ACPI, then quit, SIGTERM, SIGKILL)", vm_stop_usage },
	{ "kill", vm_kill_main, "end a VM's QEMU at once", vm_kill_usage },
	{ "pause", vm_pause_main, "stop a VM's CPUs", vm_pause_usage },
	{ "resume", vm_resume_main, "run a paused VM's CPUs again", vm_resume_usage },
	{ "restart", vm_restart_main, "stop a VM and start it again", vm_restart_usage },
	{ "list", vm_list_main, "every VM and its state, as JSON", vm_list_usage },
	{ "show", vm_show_main, "one VM: configuration, state, files, operations", vm_show_usage },
	{ "console", vm_console_main, "attach to a VM's serial console, or print its log", vm_console_usage },
	{ "wait", vm_wait_main, "wait until a VM runs, stops, or prints a line", vm_wait_usage },
	{ "snapshot", vm_snapshot_main, "internal snapshots of a VM: create, list, revert, delete", vm_snapshot_usage },
	{ "migrate", vm_migrate_main, "move a running VM to a QEMU that isim-vm receive started", vm_migrate_usage },
	{ "receive", vm_receive_main, "make a VM from another host's description, waiting for its migration",
	  vm_receive_usage },
	{ "appliance", vm_appliance_main, "write a stopped VM as a signed, deployable archive", vm_appliance_usage },
	{ "destroy", vm_destroy_main, "remove a VM and its files", vm_destroy_usage },
	{ "qmp", vm_qmp_main, "send a QMP command to a VM's QEMU", vm_qmp_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-vm",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "State: $ISIM_STATE_DIR/" VM_DB_NAME " and " VM_DIR "/ (default " VM_STATE_DIR_DEFAULT
		  "). Exit status: see isim-vm(1).",
};

int isim_vm_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
