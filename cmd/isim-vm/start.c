/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/file.h"
#include "isim/kvm.h"
#include "isim/run.h"
#include "vm.h"

#define PROG "isim-vm start"

void vm_start_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--state-dir DIR]\n"
		   "\n"
		   "Start the VM NAME: QEMU in a session of its own, which outlives this\n"
		   "command, its QMP socket and serial console (a socket, and a log of all the\n"
		   "guest writes) in the VM's folder. Returns once QEMU's QMP answers, and\n"
		   "prints the VM as isim-vm show does. A VM that runs already is left as it is.\n"
		   "Its accelerator is resolved here: --accel auto is KVM if it works (see\n"
		   "isim-vm(1)), else TCG.\n"
		   "\n" VM_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM, 69 QEMU is missing, refused to\n"
		   "start (its last words are quoted), a forwarded port is in use, or the VM\n"
		   "asks for KVM (--accel kvm) and KVM does not work here, 78 the state is\n"
		   "corrupt.\n");
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

/* The last line QEMU wrote to its log: why it ended. */
static void last_words(const struct vm *v, char *out, size_t size)
{
	struct isim_error err;
	char *text = NULL, *end, *start;
	size_t len;

	snprintf(out, size, "see %.400s", v->log);
	isim_error_clear(&err);
	if (isim_file_read(v->log, 1 << 20, &text, &len, &err) < 0)
		return;
	end = text + len;
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	if (*text)
		snprintf(out, size, "%.400s", start ? start + 1 : text);
	free(text);
}

/* pid is there and has not ended (a zombie nobody reaped has). */
static bool running(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Wait for QEMU's QMP greeting, as long as QEMU lives. */
static int ready(struct vm_ctx *c, struct vm *v)
{
	struct timespec tick = { 0, 2 * 1000000L };
	struct isim_error err;
	char why[512];
	int waited;

	for (waited = 0; waited < VM_QMP_TIMEOUT_MS; waited += 2) {
		/* Not vm_alive: reading a process's command line takes its
		 * memory map's lock, which QEMU needs while it sets up. */
		if (!running(v->pid)) {
			last_words(v, why, sizeof(why));
			vm_record(c, v->name, "start", false, why);
			fprintf(stderr, "%s: VM '%s': QEMU did not start: %s\n", c->prog, v->name, why);
			v->pid = 0;
			return ISIM_EXIT_UNAVAILABLE;
		}
		isim_error_clear(&err);
		if (isim_qmp_probe(v->qmp, VM_QMP_TIMEOUT_MS, &err) == 0)
			return 0;
		if (err.kind != ISIM_ERR_UNAVAILABLE)
			break;
		nanosleep(&tick, NULL);
	}
	vm_signal(v, SIGKILL);
	fprintf(stderr, "%s: VM '%s': QEMU's QMP did not answer: %s\n", c->prog, v->name, err.msg);
	vm_record(c, v->name, "start", false, "QMP did not answer");
	v->pid = 0;
	return ISIM_EXIT_UNAVAILABLE;
}

/* The accelerator v's QEMU is to use, into *used: "auto" is KVM if
 * isim_kvm_usable, else TCG. 0, or 69 (said, and recorded) when v asks
 * for KVM and it does not work here. */
static int accel_of(struct vm_ctx *c, const struct vm *v, const char **used)
{
	struct isim_error why;

	*used = "tcg";
	if (strcmp(v->accel, "kvm") && strcmp(v->accel, "auto"))
		return 0;
	isim_error_clear(&why);
	if (isim_kvm_usable(&why)) {
		*used = "kvm";
		return 0;
	}
	if (!strcmp(v->accel, "auto"))
		return 0;
	fprintf(stderr, "%s: VM '%s' asks for KVM, which does not work here: %s (--accel tcg or auto)\n", c->prog,
		v->name, why.msg);
	vm_record(c, v->name, "start", false, why.msg);
	return ISIM_EXIT_UNAVAILABLE;
}

int vm_start_qemu(struct vm_ctx *c, struct vm *v, const char *incoming)
{
	struct vm_machine w;
	struct isim_error err;
	struct isim_run r = { 0 };
	const char *accel;
	char **argv = NULL;
	size_t i;
	int rc;

	/* Refused before anything is touched. */
	if ((rc = accel_of(c, v, &accel)))
		return rc;
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
	vm_machine(v, &w);
	w.m.accel = accel;
	w.m.incoming = incoming;
	isim_error_clear(&err);
	if (isim_qemu_argv(&w.m, &argv, &err) < 0)
		return isim_fail(c->prog, &err);
	/* QEMU in a session of its own, which outlives this command; it is
	 * ready once QMP answers. */
	r.argv = (const char *const *)argv;
	r.out_path = v->log;
	r.err_to_out = true;
	r.detach = true;
	rc = isim_run_start(&r, &v->pid, &err);
	isim_qemu_argv_free(argv);
	if (rc < 0) {
		vm_record(c, v->name, "start", false, err.msg);
		return isim_fail(c->prog, &err);
	}
	if ((rc = ready(c, v)))
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
	if (v->state == VM_STOPPED && (rc = vm_start_qemu(&c, v, NULL)))
		goto out;
	rc = vm_print(PROG, vm_json(&c, v, true));
out:
	vm_close(&c);
	free(v);
	return rc;
}
