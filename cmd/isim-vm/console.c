/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "vm.h"

#define PROG "isim-vm console"
/* Ctrl-]: what telnet and virsh console take for "leave". */
#define ESCAPE 0x1d

void vm_console_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME [--log] [--state-dir DIR]\n"
		   "\n"
		   "Attach to the VM NAME's serial console: what the guest writes comes to\n"
		   "standard output, what is typed goes to the guest. On a terminal, Ctrl-]\n"
		   "leaves; otherwise the end of standard input does (after what the guest\n"
		   "answers within half a second). One client at a time. With --log, print\n"
		   "everything the guest has written to it since it was started instead.\n"
		   "\n"
		   "  -l, --log              print the console's log and leave\n" VM_USAGE_COMMON
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 66 no such VM or no log yet, 69 it is not running,\n"
		   "74 the console could not be read or written.\n");
}

static int print_log(const struct vm *v)
{
	char buf[65536];
	ssize_t n;
	int fd = open(v->console, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", v->console, strerror(errno));
		return ISIM_EXIT_NOINPUT;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	}
	close(fd);
	if (n < 0) {
		fprintf(stderr, PROG ": %s: %s\n", v->console, strerror(errno));
		return ISIM_EXIT_IOERR;
	}
	return isim_close_stdout(PROG);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static int attach(const struct vm *v)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO), in_open = true;
	char buf[4096];
	int s, rc = 0, linger = -1;

	/* vm_paths made sure it fits. */
	memcpy(sa.sun_path, v->serial, strlen(v->serial) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, PROG ": %s: cannot attach: %s\n", v->serial, strerror(errno));
		if (s >= 0)
			close(s);
		return ISIM_EXIT_UNAVAILABLE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "isim-vm: attached to %s's console; Ctrl-] leaves\r\n", v->name);
	} else {
		tty = false;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = s, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
		ssize_t n;
		int r = poll(p, in_open ? 2 : 1, linger);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			break; /* the guest's answer after the end of input */
		if (p[0].revents) {
			n = read(s, buf, sizeof(buf));
			if (n <= 0)
				break; /* QEMU ended */
			if (!write_all(STDOUT_FILENO, buf, (size_t)n)) {
				rc = ISIM_EXIT_IOERR;
				break;
			}
		}
		if (in_open && p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				linger = 500;
				continue;
			}
			if (tty && memchr(buf, ESCAPE, (size_t)n))
				break;
			if (!write_all(s, buf, (size_t)n)) {
				rc = ISIM_EXIT_IOERR;
				break;
			}
		}
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fprintf(stderr, "\nisim-vm: left %s's console\n", v->name);
	}
	close(s);
	return rc;
}

int vm_console_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "log", no_argument, NULL, 'l' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "lhV", .longopts = opts, .usage = vm_console_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name;
	bool log = false;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = { VM_ARG_FLAG('l', "--log", &log), VM_ARG_END };

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_load(&c, name, v)))
		goto out;
	/* The console is not the VM's state: other commands need not wait. */
	vm_close(&c);
	if (log) {
		rc = print_log(v);
	} else if (v->state == VM_STOPPED) {
		fprintf(stderr, PROG ": VM '%s' is not running (isim-vm console --log %s shows its last boot)\n", name,
			name);
		rc = ISIM_EXIT_UNAVAILABLE;
	} else {
		rc = attach(v);
	}
out:
	vm_close(&c);
	free(v);
	return rc;
}
