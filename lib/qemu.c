/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isim/json.h"
#include "isim/qemu.h"
#include "isim/run.h"

/* The longest QMP message taken: query-qmp-schema is one 207 KB line. */
#define QMP_LINE_MAX (64u << 20)

static int oom(struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none), at least 0. */
static int left_ms(int64_t deadline)
{
	int64_t n;

	if (deadline < 0)
		return -1;
	n = deadline - now_ms();
	return n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : (int)n;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* ---- the command line ------------------------------------------------------ */

struct argvec {
	char **v;
	size_t n, cap;
	bool oom;
};

static void push(struct argvec *a, const char *fmt, ...) ISIM_PRINTF(2, 3);

static void push(struct argvec *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		a->oom = true;
	}
	va_end(ap);
	if (s) {
		a->v[a->n++] = s;
		a->v[a->n] = NULL;
	}
}

/* A value going inside a QEMU option (key=value,key=value), where a ','
 * would start the next key. */
static int plain(const char *what, const char *value, struct isim_error *err)
{
	if (!value || !*value)
		return isim_error_set(err, ISIM_ERR_USAGE, "QEMU needs a %s", what);
	if (strchr(value, ','))
		return isim_error_set(err, ISIM_ERR_USAGE, "QEMU cannot take a %s with a comma: '%s'", what, value);
	return 0;
}

static int add_drive(struct argvec *a, const struct isim_qemu_drive *d, struct isim_error *err)
{
	const char *iface = d->interface ? d->interface : "virtio";

	if (plain("path", d->path, err) < 0 || plain("drive interface", iface, err) < 0 ||
	    (d->format && plain("drive format", d->format, err) < 0) ||
	    (d->node_name && plain("node name", d->node_name, err) < 0))
		return -1;
	push(a, "-drive");
	push(a, "file=%s,if=%s%s%s%s%s%s%s", d->path, iface, d->format ? ",format=" : "", d->format ? d->format : "",
	     d->readonly ? ",readonly=on" : "", d->snapshot ? ",snapshot=on" : "", d->node_name ? ",node-name=" : "",
	     d->node_name ? d->node_name : "");
	return 0;
}

/* A user-mode NIC as a backend (-netdev, id netN) and a device, so that
 * the device's own properties (its option ROM) can be set. */
static int add_nic(struct argvec *a, size_t n, const struct isim_qemu_nic *nic, struct isim_error *err)
{
	const char *model = nic->model ? nic->model : "virtio-net-pci";
	char *opt = NULL;
	size_t i;
	int ret = -1;

	if (plain("NIC model", model, err) < 0)
		return -1;
	if (asprintf(&opt, "user,id=net%zu%s", n, nic->restrict_ ? ",restrict=on" : "") < 0)
		return oom(err);
	for (i = 0; i < nic->nforwards; i++) {
		const struct isim_qemu_forward *f = &nic->forwards[i];
		const char *addr = f->host_addr ? f->host_addr : "127.0.0.1";
		char *more = NULL;

		if (!*addr || strpbrk(addr, ",:-")) {
			isim_error_set(err, ISIM_ERR_USAGE, "a forward's host address is an IPv4 address: '%s'", addr);
			goto out;
		}
		if (!f->guest_port) {
			isim_error_set(err, ISIM_ERR_USAGE, "forward %zu has no guest port", i);
			goto out;
		}
		if (asprintf(&more, "%s,hostfwd=%s:%s:%u-:%u", opt, f->udp ? "udp" : "tcp", addr,
			     (unsigned)f->host_port, (unsigned)f->guest_port) < 0) {
			oom(err);
			goto out;
		}
		free(opt);
		opt = more;
	}
	push(a, "-netdev");
	push(a, "%s", opt);
	push(a, "-device");
	push(a, "%s,netdev=net%zu%s", model, n, nic->no_rom ? ",romfile=" : "");
	ret = 0;
out:
	free(opt);
	return ret;
}

static int add_serial(struct argvec *a, const struct isim_qemu_machine *m, struct isim_error *err)
{
	switch (m->serial) {
	case ISIM_QEMU_SERIAL_STDIO:
		push(a, "-nographic");
		/* -nodefaults leaves no serial port for -nographic to use. */
		if (m->nodefaults) {
			push(a, "-serial");
			push(a, "stdio");
		}
		return 0;
	case ISIM_QEMU_SERIAL_NONE:
		push(a, "-display");
		push(a, "none");
		push(a, "-serial");
		push(a, "none");
		return 0;
	case ISIM_QEMU_SERIAL_SOCKET_LOG:
		if (plain("serial console path", m->serial_path, err) < 0 ||
		    plain("serial console log", m->serial_log, err) < 0)
			return -1;
		push(a, "-display");
		push(a, "none");
		push(a, "-chardev");
		push(a, "socket,id=serial0,path=%s,server=on,wait=off,logfile=%s,logappend=on", m->serial_path,
		     m->serial_log);
		push(a, "-serial");
		push(a, "chardev:serial0");
		return 0;
	case ISIM_QEMU_SERIAL_FILE:
	case ISIM_QEMU_SERIAL_SOCKET:
	case ISIM_QEMU_SERIAL_PIPE:
		if (plain("serial console path", m->serial_path, err) < 0)
			return -1;
		push(a, "-display");
		push(a, "none");
		push(a, "-serial");
		if (m->serial == ISIM_QEMU_SERIAL_FILE)
			push(a, "file:%s", m->serial_path);
		else if (m->serial == ISIM_QEMU_SERIAL_SOCKET)
			push(a, "unix:%s,server=on,wait=off", m->serial_path);
		else
			push(a, "pipe:%s", m->serial_path);
		return 0;
	}
	return isim_error_set(err, ISIM_ERR_USAGE, "unknown serial console target %d", (int)m->serial);
}

int isim_qemu_argv(const struct isim_qemu_machine *m, char ***out, struct isim_error *err)
{
	const char *machine = m->machine ? m->machine : "q35", *accel = m->accel ? m->accel : "tcg";
	struct argvec a = { 0 };
	size_t i;

	*out = NULL;
	if (plain("machine type", machine, err) < 0 || plain("accelerator", accel, err) < 0)
		return -1;
	push(&a, "%s", m->binary ? m->binary : "qemu-system-x86_64");
	push(&a, "-machine");
	push(&a, "%s,accel=%s", machine, accel);
	if (m->memory_mib) {
		push(&a, "-m");
		push(&a, "%u", m->memory_mib);
	}
	if (m->cpus) {
		push(&a, "-smp");
		push(&a, "%u", m->cpus);
	}
	if (m->nodefaults)
		push(&a, "-nodefaults");
	if (add_serial(&a, m, err) < 0)
		goto fail;
	if (m->paused)
		push(&a, "-S");
	if (m->no_reboot)
		push(&a, "-no-reboot");
	if (m->no_shutdown)
		push(&a, "-no-shutdown");
	for (i = 0; i < m->ndrives; i++)
		if (add_drive(&a, &m->drives[i], err) < 0)
			goto fail;
	if (m->no_network) {
		push(&a, "-nic");
		push(&a, "none");
	} else {
		for (i = 0; i < m->nnics; i++)
			if (add_nic(&a, i, &m->nics[i], err) < 0)
				goto fail;
	}
	if (m->qmp) {
		if (plain("QMP socket path", m->qmp, err) < 0)
			goto fail;
		push(&a, "-qmp");
		push(&a, "unix:%s,server=on,wait=off", m->qmp);
	}
	if (m->incoming) {
		push(&a, "-incoming");
		push(&a, "%s", m->incoming);
	}
	for (i = 0; m->extra && m->extra[i]; i++)
		push(&a, "%s", m->extra[i]);
	if (a.oom) {
		oom(err);
		goto fail;
	}
	*out = a.v;
	return 0;
fail:
	isim_qemu_argv_free(a.v);
	return -1;
}

void isim_qemu_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* ---- the process ------------------------------------------------------------ */

struct isim_qemu {
	pid_t pid;
	bool reaped;
	int status;
	char *qmp;
};

int isim_qemu_start(const struct isim_qemu_machine *m, const char *log, struct isim_qemu **out, struct isim_error *err)
{
	struct isim_run r = { 0 };
	struct isim_qemu *q;
	char **argv = NULL;
	int ret = -1;

	*out = NULL;
	if (isim_qemu_argv(m, &argv, err) < 0)
		return -1;
	q = calloc(1, sizeof(*q));
	if (!q || (m->qmp && !(q->qmp = strdup(m->qmp)))) {
		oom(err);
		goto out;
	}
	r.argv = (const char *const *)argv;
	if (log) {
		r.out_path = log;
		r.err_to_out = true;
	} else {
		r.out_to_stderr = true;
	}
	if (isim_run_start(&r, &q->pid, err) < 0)
		goto out;
	*out = q;
	q = NULL;
	ret = 0;
out:
	if (q)
		free(q->qmp);
	free(q);
	isim_qemu_argv_free(argv);
	return ret;
}

pid_t isim_qemu_pid(const struct isim_qemu *q)
{
	return q->pid;
}

bool isim_qemu_exited(struct isim_qemu *q, int *status)
{
	if (!q->reaped) {
		pid_t r = waitpid(q->pid, &q->status, WNOHANG);

		if (r == q->pid || (r < 0 && errno == ECHILD))
			q->reaped = true;
	}
	if (q->reaped && status)
		*status = q->status;
	return q->reaped;
}

bool isim_qemu_wait(struct isim_qemu *q, int timeout_ms, int *status)
{
	int64_t deadline = deadline_of(timeout_ms);

	while (!isim_qemu_exited(q, status)) {
		if (timeout_ms < 0) {
			if (waitpid(q->pid, &q->status, 0) == q->pid || errno == ECHILD)
				q->reaped = true;
			continue;
		}
		if (!left_ms(deadline))
			return false;
		poll(NULL, 0, left_ms(deadline) < 20 ? left_ms(deadline) : 20);
	}
	return true;
}

static int qmp_dial(const char *path, int *fd);

int isim_qemu_qmp(struct isim_qemu *q, int timeout_ms, struct isim_qmp **out, struct isim_error *err)
{
	int64_t deadline = deadline_of(timeout_ms);
	int fd = -1, r, status;

	*out = NULL;
	if (!q->qmp)
		return isim_error_set(err, ISIM_ERR_USAGE, "the machine has no QMP socket");
	for (;;) {
		if (isim_qemu_exited(q, &status)) {
			isim_error_at(err, q->qmp, 0, 0);
			return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "QEMU ended (%s %d) before QMP answered",
					      WIFSIGNALED(status) ? "signal" : "exit status",
					      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
		r = qmp_dial(q->qmp, &fd);
		if (r == 0)
			break;
		if (r != -ENOENT && r != -ECONNREFUSED) {
			isim_error_at(err, q->qmp, 0, 0);
			return isim_error_errno(err, ISIM_ERR_IO, -r, "cannot connect");
		}
		if (!left_ms(deadline)) {
			isim_error_at(err, q->qmp, 0, 0);
			return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "QEMU's QMP socket did not open in %d ms",
					      timeout_ms);
		}
		poll(NULL, 0, 20);
	}
	return isim_qmp_open_fd(fd, q->qmp, left_ms(deadline), out, err);
}

int isim_qemu_stop(struct isim_qemu *q, struct isim_qmp *qmp, int grace_ms)
{
	struct isim_error ignored;

	if (isim_qemu_exited(q, NULL))
		return 3;
	/* The reply to quit may not come: QEMU can close the socket first. */
	if (qmp && !isim_qmp_gone(qmp) &&
	    (isim_qmp_execute(qmp, "quit", NULL, NULL, grace_ms, &ignored) == 0 || isim_qmp_gone(qmp)) &&
	    isim_qemu_wait(q, grace_ms, NULL))
		return 0;
	kill(-q->pid, SIGTERM);
	if (isim_qemu_wait(q, grace_ms, NULL))
		return 1;
	kill(-q->pid, SIGKILL);
	isim_qemu_wait(q, -1, NULL);
	return 2;
}

void isim_qemu_free(struct isim_qemu *q)
{
	if (!q)
		return;
	if (!isim_qemu_exited(q, NULL)) {
		kill(-q->pid, SIGKILL);
		isim_qemu_wait(q, -1, NULL);
	}
	free(q->qmp);
	free(q);
}

/* ---- the console ------------------------------------------------------------ */

int isim_qemu_console_open(struct isim_qemu_console *c, const char *path, struct isim_error *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, ISIM_ERR_NOINPUT, errno, "cannot open the console log");
	}
	return 0;
}

ssize_t isim_qemu_console_read(struct isim_qemu_console *c, void (*fn)(const char *line, void *ctx), void *ctx,
			       struct isim_error *err)
{
	char chunk[4096];
	ssize_t n, i;

	do
		n = read(c->fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read the console log");
	for (i = 0; i < n; i++) {
		if (chunk[i] != '\n') {
			if (c->len < sizeof(c->line) - 1)
				c->line[c->len++] = chunk[i];
			continue;
		}
		while (c->len && c->line[c->len - 1] == '\r')
			c->len--;
		c->line[c->len] = '\0';
		c->len = 0;
		fn(c->line, ctx);
	}
	return n;
}

void isim_qemu_console_close(struct isim_qemu_console *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* ---- QMP messages ------------------------------------------------------------ */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

int isim_qmp_parse(const char *text, size_t len, struct isim_qmp_msg *msg, struct isim_error *err)
{
	const cJSON *id, *v;

	memset(msg, 0, sizeof(*msg));
	if (isim_json_parse(text, len, "QMP", &msg->json, err) < 0)
		return -1;
	if (!cJSON_IsObject(msg->json))
		goto bad;
	id = get(msg->json, "id");
	if (cJSON_IsNumber(id) && isim_json_is_integer(id) && id->valuedouble >= 0 && id->valuedouble < 9.0e15) {
		msg->has_id = true;
		msg->id = (uint64_t)id->valuedouble;
	}
	if ((v = get(msg->json, "QMP"))) {
		if (!cJSON_IsObject(v))
			goto bad;
		msg->kind = ISIM_QMP_GREETING;
		msg->value = v;
	} else if ((v = get(msg->json, "return"))) {
		msg->kind = ISIM_QMP_RETURN;
		msg->value = v;
	} else if ((v = get(msg->json, "error"))) {
		const cJSON *cls = get(v, "class"), *desc = get(v, "desc");

		if (!cJSON_IsString(cls) || !cJSON_IsString(desc))
			goto bad;
		msg->kind = ISIM_QMP_ERROR;
		msg->err_class = cls->valuestring;
		msg->err_desc = desc->valuestring;
	} else if (cJSON_IsString(v = get(msg->json, "event"))) {
		msg->kind = ISIM_QMP_EVENT;
		msg->event = v->valuestring;
		msg->value = get(msg->json, "data");
	} else {
		goto bad;
	}
	return 0;
bad:
	isim_qmp_msg_free(msg);
	return isim_error_set(err, ISIM_ERR_DATA, "not a QMP message (greeting, return, error or event)");
}

void isim_qmp_msg_free(struct isim_qmp_msg *msg)
{
	cJSON_Delete(msg->json);
	memset(msg, 0, sizeof(*msg));
}

/* ---- the QMP client -------------------------------------------------------- */

struct isim_qmp {
	int fd;
	char name[PATH_MAX];
	char *buf;
	size_t len, cap;
	cJSON *events;
	uint64_t next_id;
	bool gone;
	char version[48];
	int major, minor, micro;
};

static int qmp_dial(const char *path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(s);
		return -e;
	}
	*fd = s;
	return 0;
}

static int gone(struct isim_qmp *q, struct isim_error *err)
{
	q->gone = true;
	isim_error_at(err, q->name, 0, 0);
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "QEMU closed its QMP socket (it ended)");
}

/* The next message, waiting until deadline: 0, -1 on error, or
 * -ETIMEDOUT (err untouched) when none came in time. */
static int next_msg(struct isim_qmp *q, int64_t deadline, struct isim_qmp_msg *msg, struct isim_error *err)
{
	for (;;) {
		char *nl = q->buf ? memchr(q->buf, '\n', q->len) : NULL;
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t line = (size_t)(nl - q->buf), end = line;
			int r = 0;

			while (end && (q->buf[end - 1] == '\r' || q->buf[end - 1] == ' '))
				end--;
			if (end)
				r = isim_qmp_parse(q->buf, end, msg, err);
			memmove(q->buf, nl + 1, q->len - line - 1);
			q->len -= line + 1;
			if (r < 0) {
				isim_error_at(err, q->name, 0, 0);
				return -1;
			}
			if (end)
				return 0;
			continue;
		}
		if (q->gone)
			return gone(q, err);
		if (q->len >= QMP_LINE_MAX) {
			isim_error_at(err, q->name, 0, 0);
			return isim_error_set(err, ISIM_ERR_DATA, "a QMP message longer than %u bytes", QMP_LINE_MAX);
		}
		if (q->cap - q->len < 65536) {
			size_t cap = q->cap ? q->cap * 2 : 65536 * 2;
			char *b = realloc(q->buf, cap);

			if (!b)
				return oom(err);
			q->buf = b;
			q->cap = cap;
		}
		n = poll(&p, 1, left_ms(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return isim_error_errno(err, ISIM_ERR_IO, errno, "poll");
		if (n == 0)
			return -ETIMEDOUT;
		n = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			q->gone = true;
			continue;
		}
		if (n < 0) {
			isim_error_at(err, q->name, 0, 0);
			return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read QMP");
		}
		q->len += (size_t)n;
	}
}

static int queue_event(struct isim_qmp *q, struct isim_qmp_msg *msg, struct isim_error *err)
{
	if (!cJSON_AddItemToArray(q->events, msg->json))
		return oom(err);
	msg->json = NULL;
	isim_qmp_msg_free(msg);
	return 0;
}

static int send_all(struct isim_qmp *q, const char *text, size_t len, int fd, struct isim_error *err)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n;

		if (fd >= 0 && off == 0) {
			char ctl[CMSG_SPACE(sizeof(int))];
			struct iovec iov = { .iov_base = (void *)text, .iov_len = len };
			struct msghdr mh = {
				.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
			};
			struct cmsghdr *cm;

			memset(ctl, 0, sizeof(ctl));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
			n = sendmsg(q->fd, &mh, MSG_NOSIGNAL);
		} else {
			n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return gone(q, err);
		if (n < 0) {
			isim_error_at(err, q->name, 0, 0);
			return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot write QMP");
		}
		off += (size_t)n;
	}
	return 0;
}

static int execute(struct isim_qmp *q, const char *command, const cJSON *args, int fd, cJSON **ret, int timeout_ms,
		   struct isim_error *err)
{
	int64_t deadline = deadline_of(timeout_ms);
	cJSON *cmd = cJSON_CreateObject();
	struct isim_qmp_msg msg = { 0 };
	uint64_t id = ++q->next_id;
	char *text = NULL, *line = NULL;
	int r = -1;

	if (ret)
		*ret = NULL;
	if (q->gone) {
		cJSON_Delete(cmd);
		return gone(q, err);
	}
	if (!cmd || !cJSON_AddStringToObject(cmd, "execute", command) ||
	    (args && !cJSON_AddItemToObject(cmd, "arguments", cJSON_Duplicate(args, 1))) ||
	    !cJSON_AddNumberToObject(cmd, "id", (double)id) || !(text = cJSON_PrintUnformatted(cmd)) ||
	    asprintf(&line, "%s\r\n", text) < 0) {
		line = NULL;
		oom(err);
		goto out;
	}
	if (send_all(q, line, strlen(line), fd, err) < 0)
		goto out;
	for (;;) {
		int got = next_msg(q, deadline, &msg, err);

		if (got == -ETIMEDOUT) {
			isim_error_at(err, q->name, 0, 0);
			isim_error_set(err, ISIM_ERR_IO, "QMP %s: no reply in %d ms", command, timeout_ms);
		}
		if (got < 0)
			goto out;
		if (msg.kind == ISIM_QMP_EVENT) {
			if (queue_event(q, &msg, err) < 0)
				goto out;
			continue;
		}
		/* An error without an id answers what QEMU could not read: the
		 * one command in flight. Replies to others (given up on) go. */
		if ((msg.kind == ISIM_QMP_RETURN || msg.kind == ISIM_QMP_ERROR) &&
		    ((msg.has_id && msg.id == id) || (msg.kind == ISIM_QMP_ERROR && !get(msg.json, "id"))))
			break;
		isim_qmp_msg_free(&msg);
	}
	if (msg.kind == ISIM_QMP_ERROR) {
		isim_error_at(err, q->name, 0, 0);
		isim_error_set(err,
			       strcmp(msg.err_class, "CommandNotFound") == 0 ? ISIM_ERR_UNAVAILABLE : ISIM_ERR_USAGE,
			       "QMP %s: %s: %s", command, msg.err_class, msg.err_desc);
		goto out;
	}
	if (ret) {
		*ret = cJSON_DetachItemFromObjectCaseSensitive(msg.json, "return");
		if (!*ret) {
			oom(err);
			goto out;
		}
	}
	r = 0;
out:
	isim_qmp_msg_free(&msg);
	cJSON_Delete(cmd);
	free(text);
	free(line);
	return r;
}

int isim_qmp_execute(struct isim_qmp *q, const char *command, const cJSON *args, cJSON **ret, int timeout_ms,
		     struct isim_error *err)
{
	return execute(q, command, args, -1, ret, timeout_ms, err);
}

int isim_qmp_execute_fd(struct isim_qmp *q, const char *command, const cJSON *args, int fd, cJSON **ret, int timeout_ms,
			struct isim_error *err)
{
	if (fd < 0)
		return isim_error_set(err, ISIM_ERR_USAGE, "QMP %s: no descriptor to pass", command);
	return execute(q, command, args, fd, ret, timeout_ms, err);
}

int isim_qmp_open_fd(int fd, const char *name, int timeout_ms, struct isim_qmp **out, struct isim_error *err)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct isim_qmp_msg msg = { 0 };
	struct isim_qmp *q = calloc(1, sizeof(*q));
	const cJSON *ver;
	int r;

	*out = NULL;
	if (!q || !(q->events = cJSON_CreateArray())) {
		free(q);
		close(fd);
		return oom(err);
	}
	q->fd = fd;
	if (snprintf(q->name, sizeof(q->name), "%s", name ? name : "QMP") >= (int)sizeof(q->name)) {
		isim_error_set(err, ISIM_ERR_USAGE, "a QMP socket name longer than %zu bytes", sizeof(q->name) - 1);
		goto fail;
	}
	r = next_msg(q, deadline, &msg, err);
	if (r == -ETIMEDOUT) {
		isim_error_at(err, q->name, 0, 0);
		isim_error_set(err, ISIM_ERR_IO, "no QMP greeting in %d ms (another client connected?)", timeout_ms);
	}
	if (r < 0)
		goto fail;
	if (msg.kind != ISIM_QMP_GREETING) {
		isim_error_at(err, q->name, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "expected QMP's greeting first");
		goto fail;
	}
	ver = get(get(msg.value, "version"), "qemu");
	{
		const cJSON *mj = get(ver, "major"), *mn = get(ver, "minor"), *mc = get(ver, "micro");

		if (!cJSON_IsNumber(mj) || !cJSON_IsNumber(mn) || !cJSON_IsNumber(mc)) {
			isim_error_at(err, q->name, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "QMP's greeting has no version");
			goto fail;
		}
		q->major = mj->valueint;
		q->minor = mn->valueint;
		q->micro = mc->valueint;
		snprintf(q->version, sizeof(q->version), "%d.%d.%d", q->major, q->minor, q->micro);
	}
	isim_qmp_msg_free(&msg);
	if (isim_qmp_execute(q, "qmp_capabilities", NULL, NULL, left_ms(deadline), err) < 0)
		goto fail;
	*out = q;
	return 0;
fail:
	isim_qmp_msg_free(&msg);
	isim_qmp_close(q);
	return -1;
}

int isim_qmp_connect(const char *path, int timeout_ms, struct isim_qmp **out, struct isim_error *err)
{
	int fd = -1, r = qmp_dial(path, &fd);

	*out = NULL;
	if (r < 0) {
		isim_error_at(err, path, 0, 0);
		return isim_error_errno(err, r == -ENOENT || r == -ECONNREFUSED ? ISIM_ERR_UNAVAILABLE : ISIM_ERR_IO,
					-r, "cannot connect to QMP");
	}
	return isim_qmp_open_fd(fd, path, timeout_ms, out, err);
}

int isim_qmp_probe(const char *path, int timeout_ms, struct isim_error *err)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct isim_qmp_msg msg;
	char buf[4096];
	size_t len = 0;
	char *nl = NULL;
	int fd = -1, r, ret = -1;

	isim_error_at(err, path, 0, 0);
	r = qmp_dial(path, &fd);
	if (r < 0)
		return isim_error_errno(err, r == -ENOENT || r == -ECONNREFUSED ? ISIM_ERR_UNAVAILABLE : ISIM_ERR_IO,
					-r, "cannot connect to QMP");
	while (!nl) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (len == sizeof(buf) - 1) {
			isim_error_set(err, ISIM_ERR_DATA, "no QMP greeting in its first %zu bytes", len);
			goto out;
		}
		if (poll(&p, 1, left_ms(deadline)) <= 0) {
			isim_error_set(err, ISIM_ERR_IO, "no QMP greeting within %d ms", timeout_ms);
			goto out;
		}
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0) {
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "QMP closed before its greeting");
			goto out;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
	}
	if (isim_qmp_parse(buf, (size_t)(nl - buf), &msg, err) < 0)
		goto out;
	if (msg.kind == ISIM_QMP_GREETING)
		ret = 0;
	else
		isim_error_set(err, ISIM_ERR_DATA, "the first message is not QMP's greeting");
	isim_qmp_msg_free(&msg);
out:
	close(fd);
	return ret;
}

void isim_qmp_close(struct isim_qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	cJSON_Delete(q->events);
	free(q->buf);
	free(q);
}

const char *isim_qmp_version(const struct isim_qmp *q)
{
	return q->version;
}

void isim_qmp_version_numbers(const struct isim_qmp *q, int *major, int *minor, int *micro)
{
	*major = q->major;
	*minor = q->minor;
	*micro = q->micro;
}

bool isim_qmp_gone(const struct isim_qmp *q)
{
	return q->gone;
}

cJSON *isim_qmp_event(struct isim_qmp *q)
{
	return cJSON_DetachItemFromArray(q->events, 0);
}

int isim_qmp_wait_event(struct isim_qmp *q, const char *name, int timeout_ms, cJSON **event, struct isim_error *err)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct isim_qmp_msg msg = { 0 };
	cJSON *e;
	int i = 0;

	if (event)
		*event = NULL;
	cJSON_ArrayForEach (e, q->events) {
		const cJSON *n = get(e, "event");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
			e = cJSON_DetachItemFromArray(q->events, i);
			if (event)
				*event = e;
			else
				cJSON_Delete(e);
			return 0;
		}
		i++;
	}
	for (;;) {
		int r = next_msg(q, deadline, &msg, err);

		if (r == -ETIMEDOUT) {
			isim_error_at(err, q->name, 0, 0);
			return isim_error_set(err, ISIM_ERR_IO, "no QMP event %s in %d ms", name, timeout_ms);
		}
		if (r < 0)
			return -1;
		if (msg.kind == ISIM_QMP_EVENT && strcmp(msg.event, name) == 0)
			break;
		if (msg.kind == ISIM_QMP_EVENT && queue_event(q, &msg, err) < 0)
			return -1;
		isim_qmp_msg_free(&msg);
	}
	if (event) {
		*event = msg.json;
		msg.json = NULL;
	}
	isim_qmp_msg_free(&msg);
	return 0;
}
