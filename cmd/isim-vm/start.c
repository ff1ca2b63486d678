/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/file.h"
#include "isim/run.h"
#include "vm.h"

#define PROG "isim-vm start"

void vm_start_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--state-dir DIR]\n"
		   "\n"
		   "Start the VM NAME: QEMU in a session of its own, which outlives this\n"
		   "command, its QMP socket and serial console (a socket, and a log of all the\n"
		   "guest wrote) in the VM's folder. Returns once QEMU is ready for QMP, and\n"
		   "prints the VM as isim-vm show does. A VM that runs already is left as it is.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 69 QEMU is missing, refused to\n"
		   "start (its last words are quoted), or a forwarded port is in use, 78 the\n"
		   "state is corrupt.\n");
}

/* A forward's host port must be free: QEMU's own message for one that is
 * not does not say which. */
static int port_free(const struct vm *v, const struct vm_forward *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->host_port) };
	int s, one = 1, rc = 0;

	if (inet_pton(AF_INET, f->host_addr, &sa.sin_addr) != 1)
		return 0;
	s = socket(AF_INET, (f->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EADDRINUSE) {
		fprintf(stderr, PROG ": VM '%s': --forward %s:%s:%u:%u: the host port is in use\n", v->name,
			f->udp ? "udp" : "tcp", f->host_addr, f->host_port, f->guest_port);
		rc = ISIM_EXIT_UNAVAILABLE;
	}
	close(s);
	return rc;
}

static int read_pid(const struct vm *v, pid_t *pid)
{
	struct isim_error err;
	char *text = NULL;
	size_t len;
	long n;

	isim_error_clear(&err);
	if (isim_file_read(v->pidfile, 64, &text, &len, &err) < 0) {
		isim_print_error(PROG, &err);
		return ISIM_EXIT_SOFTWARE;
	}
	text[strcspn(text, "\n")] = '\0';
	if (!isim_parse_long(text, 1, 1L << 22, &n)) {
		fprintf(stderr, PROG ": %s: not a pid: '%.20s'\n", v->pidfile, text);
		free(text);
		return ISIM_EXIT_SOFTWARE;
	}
	free(text);
	*pid = (pid_t)n;
	return 0;
}

int vm_start_qemu(struct vm_ctx *c, struct vm *v)
{
	struct vm_machine w;
	struct isim_error err;
	struct isim_run r = { 0 };
	char **argv = NULL;
	size_t i;
	int rc;

	for (i = 0; i < v->nforwards; i++) {
		if ((rc = port_free(v, &v->forwards[i]))) {
			vm_record(c, v->name, "start", false, "a forwarded host port is in use");
			return rc;
		}
	}
	/* The console's log is this boot's (QEMU appends to it). */
	unlink(v->console);
	unlink(v->qmp);
	unlink(v->serial);
	unlink(v->pidfile);
	vm_machine(v, &w);
	isim_error_clear(&err);
	if (isim_qemu_argv(&w.m, &argv, &err) < 0)
		return isim_fail(c->prog, &err);
	/* QEMU with -daemonize leaves once it is ready: its exit status is
	 * whether it started, and what it said before is in the log. */
	r.argv = (const char *const *)argv;
	r.out_path = v->log;
	if (isim_run(&r, NULL, &err) < 0) {
		isim_qemu_argv_free(argv);
		vm_record(c, v->name, "start", false, err.msg);
		if (err.kind == ISIM_ERR_UNAVAILABLE)
			return isim_fail(c->prog, &err);
		fprintf(stderr, "%s: VM '%s': QEMU did not start: %s\n", c->prog, v->name, err.msg);
		return ISIM_EXIT_UNAVAILABLE;
	}
	isim_qemu_argv_free(argv);
	if ((rc = read_pid(v, &v->pid)))
		return rc;
	v->state = VM_RUNNING;
	v->started_at = vm_now();
	if ((rc = vm_save(c, v, false)))
		return rc;
	vm_record(c, v->name, "start", true, NULL);
	return 0;
}

int vm_start_main(int argc, char *argv[])
{
	static const struct option opts[] = { VM_LONGOPTS, ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 } };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name;
	int rc;

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_one_name(PROG, argc, argv, "hV", opts, vm_start_usage, &o, &name)))
		goto out;
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, v)))
		goto out;
	if (v->state == VM_STOPPED && (rc = vm_start_qemu(&c, v)))
		goto out;
	rc = vm_print(PROG, vm_json(&c, v, true));
out:
	vm_close(&c);
	free(v);
	return rc;
}
