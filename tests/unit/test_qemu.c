/* SPDX-License-Identifier: MIT */
/* QEMU: the command line made from one machine description (the two ends
 * of a migration differ only by -incoming), values QEMU's option syntax
 * cannot carry refused; QMP messages told apart; the serial console read
 * line by line as it grows; and a real QEMU (-machine none, no guest)
 * driven over QMP: its version, query-status, stop and cont with their
 * events, a pipe handed over with getfd, errors named, quit, and a QEMU
 * killed under the client noticed as its end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/qemu.h"
#include "testutil.h"

static char *joined(char **argv)
{
	size_t n = 0, i;
	char *s;

	for (i = 0; argv[i]; i++)
		n += strlen(argv[i]) + 1;
	s = calloc(1, n + 1);
	assert_non_null(s);
	for (i = 0; argv[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static char *argv_of(const struct isim_qemu_machine *m)
{
	struct isim_error err;
	char **argv = NULL, *s;

	isim_error_clear(&err);
	assert_int_equal(isim_qemu_argv(m, &argv, &err), 0);
	s = joined(argv);
	isim_qemu_argv_free(argv);
	return s;
}

static void test_argv(void **state)
{
	const struct isim_qemu_drive drives[] = {
		{ .path = "/img/x.qcow2", .format = "qcow2", .snapshot = true },
		{ .path = "/img/seed.iso", .format = "raw", .interface = "virtio", .readonly = true },
	};
	const struct isim_qemu_forward fwd[] = {
		{ .host_port = 2222, .guest_port = 22 },
		{ .udp = true, .host_addr = "0.0.0.0", .host_port = 5353, .guest_port = 53 }
	};
	const struct isim_qemu_nic nic = { .restrict_ = true, .forwards = fwd, .nforwards = 2 };
	static const char *const extra[] = { "-vga", "none", NULL };
	struct isim_qemu_machine m = { .memory_mib = 512,
				       .cpus = 2,
				       .drives = drives,
				       .ndrives = 2,
				       .nics = &nic,
				       .nnics = 1,
				       .serial = ISIM_QEMU_SERIAL_FILE,
				       .serial_path = "/run/x/console.log",
				       .qmp = "/run/x/qmp.sock",
				       .extra = extra };
	char *src, *dst;

	(void)state;
	src = argv_of(&m);
	assert_string_equal(src, "qemu-system-x86_64 -machine q35,accel=tcg -m 512 -smp 2 -display none "
				 "-serial file:/run/x/console.log "
				 "-drive file=/img/x.qcow2,if=virtio,format=qcow2,snapshot=on "
				 "-drive file=/img/seed.iso,if=virtio,format=raw,readonly=on "
				 "-netdev user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,"
				 "hostfwd=udp:0.0.0.0:5353-:53 -device virtio-net-pci,netdev=net0 "
				 "-qmp unix:/run/x/qmp.sock,server=on,wait=off -vga none");
	/* A migration's destination: the same machine, waiting for its state. */
	m.incoming = "defer";
	dst = argv_of(&m);
	assert_int_equal(strncmp(dst, src, strlen(src) - strlen(" -vga none")), 0);
	assert_non_null(strstr(dst, " -incoming defer -vga none"));
	free(src);
	free(dst);

	/* Two NICs: a backend and a device each, the second without its ROM. */
	{
		const struct isim_qemu_nic nics[] = { { .model = "virtio-net-pci" },
						      { .model = "e1000", .no_rom = true } };
		struct isim_qemu_machine two = { .nics = nics, .nnics = 2 };

		src = argv_of(&two);
		assert_non_null(strstr(src, " -netdev user,id=net0 -device virtio-net-pci,netdev=net0 "
					    "-netdev user,id=net1 -device e1000,netdev=net1,romfile="));
		free(src);
	}

	/* The other consoles, no network, a paused machine of another type. */
	{
		struct isim_qemu_machine n = { .binary = "/opt/qemu",
					       .machine = "none",
					       .accel = "tcg",
					       .nodefaults = true,
					       .paused = true,
					       .no_reboot = true,
					       .no_shutdown = true,
					       .no_network = true,
					       .serial = ISIM_QEMU_SERIAL_SOCKET,
					       .serial_path = "/s" };

		src = argv_of(&n);
		assert_string_equal(src, "/opt/qemu -machine none,accel=tcg -nodefaults -display none "
					 "-serial unix:/s,server=on,wait=off -S -no-reboot -no-shutdown -nic none");
		free(src);
		n.serial = ISIM_QEMU_SERIAL_PIPE;
		src = argv_of(&n);
		assert_non_null(strstr(src, " -serial pipe:/s "));
		free(src);
		n.serial = ISIM_QEMU_SERIAL_STDIO;
		src = argv_of(&n);
		/* Without defaults there is no serial port for -nographic. */
		assert_non_null(strstr(src, " -nographic -serial stdio "));
		free(src);
		n.nodefaults = false;
		src = argv_of(&n);
		assert_non_null(strstr(src, " -nographic "));
		assert_null(strstr(src, "-serial"));
		free(src);
		n.nodefaults = true;
		n.serial = ISIM_QEMU_SERIAL_NONE;
		src = argv_of(&n);
		assert_non_null(strstr(src, " -display none -serial none "));
		free(src);
	}
}

static void test_argv_refused(void **state)
{
	const struct isim_qemu_drive comma = { .path = "/img/a,b.qcow2" };
	const struct isim_qemu_forward bad = { .host_addr = "::1", .guest_port = 22 };
	const struct isim_qemu_nic nic = { .forwards = &bad, .nforwards = 1 };
	struct isim_qemu_machine m = { .drives = &comma, .ndrives = 1 };
	struct isim_error err;
	char **argv = (char **)1;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_qemu_argv(&m, &argv, &err), -1);
	assert_null(argv);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_string_equal(err.msg, "QEMU cannot take a path with a comma: '/img/a,b.qcow2'");
	m.ndrives = 0;
	m.nics = &nic;
	m.nnics = 1;
	assert_int_equal(isim_qemu_argv(&m, &argv, &err), -1);
	assert_non_null(strstr(err.msg, "'::1'"));
	m.nnics = 0;
	m.serial = ISIM_QEMU_SERIAL_FILE;
	assert_int_equal(isim_qemu_argv(&m, &argv, &err), -1);
	assert_string_equal(err.msg, "QEMU needs a serial console path");
	m.serial = ISIM_QEMU_SERIAL_NONE;
	m.accel = "kvm,x=y";
	assert_int_equal(isim_qemu_argv(&m, &argv, &err), -1);
}

/* ---- messages ---------------------------------------------------------------- */

static void test_parse(void **state)
{
	static const struct {
		const char *text;
		int kind; /* -1: refused */
		const char *what;
	} cases[] = {
		{ "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, "
		  "\"capabilities\": [\"oob\"]}}",
		  ISIM_QMP_GREETING, NULL },
		{ "{\"return\": {}, \"id\": 7}", ISIM_QMP_RETURN, NULL },
		{ "{\"return\": {\"status\": \"running\"}, \"id\": \"x\"}", ISIM_QMP_RETURN, NULL },
		{ "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": 3}", ISIM_QMP_ERROR,
		  "GenericError" },
		{ "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}", ISIM_QMP_EVENT,
		  "STOP" },
		{ "{\"event\": \"SHUTDOWN\", \"data\": {\"reason\": \"host-qmp-quit\"}}", ISIM_QMP_EVENT, "SHUTDOWN" },
		{ "{\"error\": {\"class\": \"GenericError\"}}", -1, NULL },
		{ "{\"event\": 5}", -1, NULL },
		{ "{\"id\": 1}", -1, NULL },
		{ "[1, 2]", -1, NULL },
		{ "{\"return\": {}", -1, NULL },
		{ "{\"return\": {}, \"return\": 1}", -1, NULL },
	};
	struct isim_qmp_msg msg;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		isim_error_clear(&err);
		r = isim_qmp_parse(cases[i].text, strlen(cases[i].text), &msg, &err);
		if (cases[i].kind < 0) {
			assert_int_equal(r, -1);
			assert_null(msg.json);
			assert_int_equal(err.kind, ISIM_ERR_DATA);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(msg.kind, cases[i].kind);
		if (msg.kind == ISIM_QMP_ERROR)
			assert_string_equal(msg.err_class, cases[i].what);
		if (msg.kind == ISIM_QMP_EVENT)
			assert_string_equal(msg.event, cases[i].what);
		isim_qmp_msg_free(&msg);
	}
	assert_int_equal(isim_qmp_parse("{\"return\": 1, \"id\": 42}", 23, &msg, &err), 0);
	assert_true(msg.has_id);
	assert_int_equal(msg.id, 42);
	assert_int_equal(msg.value->valueint, 1);
	isim_qmp_msg_free(&msg);
	assert_int_equal(isim_qmp_parse("{\"return\": 1, \"id\": \"a\"}", 24, &msg, &err), 0);
	assert_false(msg.has_id);
	isim_qmp_msg_free(&msg);
}

/* ---- the console ----------------------------------------------------------------- */

struct lines {
	char got[8][64];
	int n;
};

static void collect(const char *line, void *ctx)
{
	struct lines *l = ctx;

	assert_true(l->n < 8);
	snprintf(l->got[l->n++], sizeof(l->got[0]), "%s", line);
}

static void test_console(void **state)
{
	const char *dir = *state;
	struct isim_qemu_console c;
	struct isim_error err;
	struct lines l = { 0 };
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/console.log", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(isim_qemu_console_open(&c, path, &err), 0);
	assert_int_equal(isim_qemu_console_read(&c, collect, &l, &err), 0);
	fputs("SeaBIOS\r\r\nok 1 - up\nSELFTEST", f);
	fflush(f);
	assert_int_equal(isim_qemu_console_read(&c, collect, &l, &err), 28);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.got[0], "SeaBIOS");
	assert_string_equal(l.got[1], "ok 1 - up");
	/* The line in progress comes once it is whole. */
	fputs(" END status=0\n", f);
	fflush(f);
	assert_true(isim_qemu_console_read(&c, collect, &l, &err) > 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.got[2], "SELFTEST END status=0");
	fclose(f);
	isim_qemu_console_close(&c);
	assert_int_equal(isim_qemu_console_open(&c, tu_path(dir, "missing"), &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
}

/* ---- a real QEMU ------------------------------------------------------------------- */

struct vm {
	char *dir;
	char sock[PATH_MAX], log[PATH_MAX];
	struct isim_qemu *q;
	struct isim_qmp *qmp;
};

static bool have_qemu(void)
{
	return system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

static void vm_start(struct vm *v, bool paused)
{
	const struct isim_qemu_machine m = {
		.machine = "none", .nodefaults = true, .paused = paused, .serial = ISIM_QEMU_SERIAL_NONE, .qmp = v->sock
	};
	struct isim_error err;

	isim_error_clear(&err);
	assert_int_equal(isim_qemu_start(&m, v->log, &v->q, &err), 0);
	if (isim_qemu_qmp(v->q, 10000, &v->qmp, &err) < 0)
		fail_msg("%s: %s", err.path, err.msg);
}

static int vm_setup(void **state)
{
	struct vm *v = calloc(1, sizeof(*v));

	if (!have_qemu())
		skip();
	assert_non_null(v);
	v->dir = tu_tmpdir();
	snprintf(v->sock, sizeof(v->sock), "%s/qmp.sock", v->dir);
	snprintf(v->log, sizeof(v->log), "%s/qemu.log", v->dir);
	*state = v;
	return 0;
}

static int vm_teardown(void **state)
{
	struct vm *v = *state;

	isim_qmp_close(v->qmp);
	isim_qemu_free(v->q);
	assert_int_equal(isim_rmtree(v->dir), 0);
	free(v->dir);
	free(v);
	return 0;
}

static const char *status_of(struct isim_qmp *qmp, char *buf, size_t size)
{
	struct isim_error err;
	cJSON *ret = NULL;
	const cJSON *s;

	assert_int_equal(isim_qmp_execute(qmp, "query-status", NULL, &ret, 5000, &err), 0);
	s = cJSON_GetObjectItemCaseSensitive(ret, "status");
	assert_true(cJSON_IsString(s));
	snprintf(buf, size, "%s", s->valuestring);
	cJSON_Delete(ret);
	return buf;
}

static void test_qmp_session(void **state)
{
	struct vm *v = *state;
	struct isim_error err;
	cJSON *ret = NULL, *ev = NULL, *args;
	char st[32], want[64], line[256];
	FILE *p;

	vm_start(v, true);
	/* The version in the greeting is the binary's. */
	p = popen("qemu-system-x86_64 --version", "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	snprintf(want, sizeof(want), "QEMU emulator version %s", isim_qmp_version(v->qmp));
	assert_int_equal(strncmp(line, want, strlen(want)), 0);
	assert_true(line[strlen(want)] == ' ' || line[strlen(want)] == '\n');

	assert_int_equal(isim_qmp_execute(v->qmp, "query-version", NULL, &ret, 5000, &err), 0);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(ret, "qemu"));
	cJSON_Delete(ret);

	assert_string_equal(status_of(v->qmp, st, sizeof(st)), "prelaunch");
	assert_int_equal(isim_qmp_execute(v->qmp, "cont", NULL, NULL, 5000, &err), 0);
	assert_int_equal(isim_qmp_wait_event(v->qmp, "RESUME", 5000, &ev, &err), 0);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(ev, "timestamp"));
	cJSON_Delete(ev);
	assert_string_equal(status_of(v->qmp, st, sizeof(st)), "running");
	assert_int_equal(isim_qmp_execute(v->qmp, "stop", NULL, NULL, 5000, &err), 0);
	assert_string_equal(status_of(v->qmp, st, sizeof(st)), "paused");
	/* STOP came while waiting for a reply: it was queued. */
	assert_int_equal(isim_qmp_wait_event(v->qmp, "STOP", 0, NULL, &err), 0);
	assert_int_equal(isim_qmp_wait_event(v->qmp, "STOP", 100, NULL, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_string_equal(err.msg, "no QMP event STOP in 100 ms");
	assert_int_equal(isim_qmp_execute(v->qmp, "cont", NULL, NULL, 5000, &err), 0);
	ev = isim_qmp_event(v->qmp);
	if (!ev)
		assert_int_equal(isim_qmp_wait_event(v->qmp, "RESUME", 5000, &ev, &err), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(ev, "event")->valuestring, "RESUME");
	cJSON_Delete(ev);

	/* QEMU's errors, named. */
	isim_error_clear(&err);
	assert_int_equal(isim_qmp_execute(v->qmp, "no-such-command", NULL, NULL, 5000, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_string_equal(err.path, v->sock);
	assert_non_null(strstr(err.msg, "QMP no-such-command: CommandNotFound: "));
	args = cJSON_Parse("{\"fdname\": 5}");
	assert_int_equal(isim_qmp_execute(v->qmp, "closefd", args, NULL, 5000, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_non_null(strstr(err.msg, "QMP closefd: GenericError: "));
	cJSON_Delete(args);
	/* ... and the session goes on. */
	assert_string_equal(status_of(v->qmp, st, sizeof(st)), "running");

	/* One client at a time: a second gets no greeting. */
	{
		struct isim_qmp *second = NULL;

		assert_int_equal(isim_qmp_connect(v->sock, 300, &second, &err), -1);
		assert_null(second);
		assert_int_equal(err.kind, ISIM_ERR_IO);
		assert_string_equal(err.msg, "no QMP greeting in 300 ms (another client connected?)");
	}
}

static bool hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 2000) == 1 && (p.revents & POLLHUP);
}

static void test_qmp_getfd(void **state)
{
	struct vm *v = *state;
	struct isim_error err;
	cJSON *args = cJSON_Parse("{\"fdname\": \"p\"}");
	struct pollfd pf;
	int fds[2];

	vm_start(v, false);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(isim_qmp_execute_fd(v->qmp, "getfd", args, fds[1], NULL, 5000, &err), 0);
	close(fds[1]);
	/* QEMU holds the write end now: no end of file yet. */
	pf = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 200), 0);
	assert_int_equal(isim_qmp_execute(v->qmp, "closefd", args, NULL, 5000, &err), 0);
	assert_true(hung_up(fds[0]));
	close(fds[0]);
	/* A name is used once. */
	assert_int_equal(isim_qmp_execute(v->qmp, "closefd", args, NULL, 5000, &err), -1);
	assert_int_equal(isim_qmp_execute_fd(v->qmp, "getfd", args, -1, NULL, 5000, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	cJSON_Delete(args);
}

static void test_qmp_quit(void **state)
{
	struct vm *v = *state;
	struct isim_error err;
	int status = -1;

	vm_start(v, false);
	assert_int_equal(isim_qemu_stop(v->q, v->qmp, 5000), 0);
	assert_true(isim_qemu_exited(v->q, &status));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* SHUTDOWN came before the end of the socket. */
	assert_int_equal(isim_qmp_wait_event(v->qmp, "SHUTDOWN", 1000, NULL, &err), 0);
	assert_int_equal(isim_qmp_execute(v->qmp, "query-status", NULL, NULL, 1000, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_true(isim_qmp_gone(v->qmp));
	assert_int_equal(isim_qemu_stop(v->q, v->qmp, 100), 3);
}

static void test_qmp_killed(void **state)
{
	struct vm *v = *state;
	struct isim_error err;

	vm_start(v, false);
	assert_int_equal(kill(isim_qemu_pid(v->q), SIGKILL), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_qmp_execute(v->qmp, "query-status", NULL, NULL, 5000, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_string_equal(err.msg, "QEMU closed its QMP socket (it ended)");
	assert_true(isim_qmp_gone(v->qmp));
	assert_int_equal(isim_qmp_wait_event(v->qmp, "STOP", 1000, NULL, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
}

static void test_sigterm(void **state)
{
	struct vm *v = *state;
	int status = -1;

	vm_start(v, false);
	/* Without QMP, SIGTERM: QEMU ends cleanly on it. */
	assert_int_equal(isim_qemu_stop(v->q, NULL, 5000), 1);
	assert_true(isim_qemu_exited(v->q, &status));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_sigkill(void **state)
{
	struct vm *v = *state;
	int status = -1;

	vm_start(v, false);
	/* A QEMU that does not act on SIGTERM (here: stopped) is killed. */
	assert_int_equal(kill(isim_qemu_pid(v->q), SIGSTOP), 0);
	assert_int_equal(isim_qemu_stop(v->q, NULL, 300), 2);
	assert_true(isim_qemu_exited(v->q, &status));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A live migration between two machines made from one description, the
 * destination's only difference being -incoming. */
static void test_migrate(void **state)
{
	struct vm *v = *state;
	char dsock[PATH_MAX], mig[PATH_MAX], uri[PATH_MAX + 8], st[32];
	struct isim_qemu_machine m = {
		.machine = "none", .nodefaults = true, .memory_mib = 16, .serial = ISIM_QEMU_SERIAL_NONE, .qmp = v->sock
	};
	struct isim_qemu *dst = NULL;
	struct isim_qmp *dqmp = NULL;
	struct isim_error err;
	cJSON *args;
	int i;

	isim_error_clear(&err);
	snprintf(dsock, sizeof(dsock), "%s/dst.sock", v->dir);
	snprintf(mig, sizeof(mig), "%s/mig.sock", v->dir);
	snprintf(uri, sizeof(uri), "unix:%s", mig);
	assert_int_equal(isim_qemu_start(&m, v->log, &v->q, &err), 0);
	assert_int_equal(isim_qemu_qmp(v->q, 10000, &v->qmp, &err), 0);
	m.qmp = dsock;
	m.incoming = "defer";
	assert_int_equal(isim_qemu_start(&m, NULL, &dst, &err), 0);
	assert_int_equal(isim_qemu_qmp(dst, 10000, &dqmp, &err), 0);
	assert_string_equal(status_of(dqmp, st, sizeof(st)), "inmigrate");

	args = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(args, "uri", uri));
	assert_int_equal(isim_qmp_execute(dqmp, "migrate-incoming", args, NULL, 5000, &err), 0);
	assert_int_equal(isim_qmp_execute(v->qmp, "migrate", args, NULL, 5000, &err), 0);
	cJSON_Delete(args);
	for (i = 0; i < 100 && strcmp(status_of(dqmp, st, sizeof(st)), "running") != 0; i++)
		poll(NULL, 0, 50);
	assert_string_equal(st, "running");
	assert_string_equal(status_of(v->qmp, st, sizeof(st)), "postmigrate");

	assert_int_equal(isim_qemu_stop(dst, dqmp, 5000), 0);
	isim_qmp_close(dqmp);
	isim_qemu_free(dst);
}

static void test_start_failures(void **state)
{
	struct vm *v = *state;
	static const char *const bad[] = { "-no-such-option", NULL };
	struct isim_qemu_machine m = { .binary = "isim-no-such-qemu", .machine = "none", .qmp = v->sock };
	struct isim_error err;

	isim_error_clear(&err);
	assert_int_equal(isim_qemu_start(&m, v->log, &v->q, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	/* A QEMU that refuses its command line ends before QMP answers. */
	m.binary = NULL;
	m.extra = bad;
	m.serial = ISIM_QEMU_SERIAL_NONE;
	assert_int_equal(isim_qemu_start(&m, v->log, &v->q, &err), 0);
	assert_int_equal(isim_qemu_qmp(v->q, 10000, &v->qmp, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "QEMU ended (exit status 1) before QMP answered"));
	assert_null(v->qmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_argv_refused),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_console, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_qmp_session, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_qmp_getfd, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_qmp_quit, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_qmp_killed, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_sigterm, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_migrate, vm_setup, vm_teardown),
		cmocka_unit_test_setup_teardown(test_start_failures, vm_setup, vm_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
