/* SPDX-License-Identifier: MIT */
#ifndef ISIM_QEMU_H
#define ISIM_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "isim/error.h"

/* QEMU: one description of a machine turned into its command line (so
 * that the two ends of a migration come from the same source), the
 * process and its serial console, and the QMP client (QEMU's docs,
 * interop/qmp-spec) that drives it. */

/* ---- the machine ---------------------------------------------------------- */

struct isim_qemu_drive {
	const char *path;      /* no ',' (QEMU's option syntax cannot take one) */
	const char *format;    /* "qcow2", "raw"; NULL lets QEMU probe, which it warns about */
	const char *interface; /* "virtio", "ide", "none" (then -device adds it); NULL: virtio */
	bool readonly;
	bool snapshot;	       /* writes go to a temporary overlay, dropped at exit */
	const char *node_name; /* the format node's name for QMP (snapshots), or NULL */
};

/* A user-mode (slirp) forward: host_addr:host_port on the host to the
 * guest's guest_port. */
struct isim_qemu_forward {
	bool udp;
	const char *host_addr; /* NULL: 127.0.0.1 */
	uint16_t host_port;
	uint16_t guest_port;
};

struct isim_qemu_nic {
	const char *model; /* NULL: virtio-net-pci */
	bool restrict_;	   /* restrict=on: the guest reaches nothing but the forwards */
	bool no_rom;	   /* romfile=: no option ROM (iPXE only slows the firmware) */
	const struct isim_qemu_forward *forwards;
	size_t nforwards;
};

enum isim_qemu_serial {
	ISIM_QEMU_SERIAL_NONE,	 /* -serial none */
	ISIM_QEMU_SERIAL_STDIO,	 /* -nographic: the console on stdout (and the monitor muxed on it;
				  * with nodefaults, -serial stdio and no monitor) */
	ISIM_QEMU_SERIAL_FILE,	 /* -serial file:PATH */
	ISIM_QEMU_SERIAL_SOCKET, /* -serial unix:PATH,server=on,wait=off */
	ISIM_QEMU_SERIAL_PIPE,	 /* -serial pipe:PATH (PATH.in and PATH.out, or the FIFO PATH) */
	/* A unix socket to attach to (server, not waiting), everything the
	 * guest writes appended to serial_log as well. */
	ISIM_QEMU_SERIAL_SOCKET_LOG,
};

struct isim_qemu_machine {
	const char *binary;  /* NULL: qemu-system-x86_64 */
	const char *machine; /* NULL: q35 */
	const char *accel;   /* NULL: tcg (never kvm by default: /dev/kvm may exist yet not work) */
	unsigned memory_mib; /* 0: QEMU's default */
	unsigned cpus;	     /* 0: QEMU's default */
	bool nodefaults;     /* -nodefaults: no default devices */
	bool paused;	     /* -S: start in "prelaunch", run on QMP cont */
	bool no_reboot;	     /* a guest reboot ends QEMU (with panic=-1, a panic too) */
	bool no_shutdown;    /* a guest poweroff stops the machine instead of ending QEMU */
	const struct isim_qemu_drive *drives;
	size_t ndrives;
	bool no_network; /* -nic none; else nics, and none given means QEMU's default */
	const struct isim_qemu_nic *nics;
	size_t nnics;
	enum isim_qemu_serial serial;
	const char *serial_path;  /* for FILE, SOCKET, PIPE, SOCKET_LOG */
	const char *serial_log;	  /* for SOCKET_LOG */
	const char *qmp;	  /* the QMP unix socket's path, or NULL */
	const char *incoming;	  /* -incoming: "defer", "tcp:HOST:PORT", ... or NULL */
	const char *const *extra; /* more arguments, NULL-terminated, or NULL */
};

/* The argument vector (argv[0] the binary, NULL-terminated), free with
 * isim_qemu_argv_free. A value QEMU's option syntax cannot carry (a ','
 * in a path, say) is ISIM_ERR_USAGE naming it. */
int isim_qemu_argv(const struct isim_qemu_machine *m, char ***out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_qemu_argv_free(char **argv);

/* ---- the process -------------------------------------------------------- */

struct isim_qmp;

/* A running QEMU: its own process group, stdin /dev/null, stdout and
 * stderr into log (created 0644, truncated), or to our stderr when log is
 * NULL. Programs that are missing give ISIM_ERR_UNAVAILABLE. */
struct isim_qemu;

int isim_qemu_start(const struct isim_qemu_machine *m, const char *log, struct isim_qemu **out,
		    struct isim_error *err) ISIM_MUST_CHECK;
pid_t isim_qemu_pid(const struct isim_qemu *q);
/* Whether QEMU has ended (reaped); *status (when not NULL) its wait status. */
bool isim_qemu_exited(struct isim_qemu *q, int *status);
/* Wait up to timeout_ms (-1: for ever) for QEMU to end; true if it did. */
bool isim_qemu_wait(struct isim_qemu *q, int timeout_ms, int *status);
/* Connect to the machine's QMP socket, retrying while QEMU creates it, up
 * to timeout_ms; QEMU ending meanwhile is ISIM_ERR_UNAVAILABLE. */
int isim_qemu_qmp(struct isim_qemu *q, int timeout_ms, struct isim_qmp **out, struct isim_error *err) ISIM_MUST_CHECK;
/* Stop QEMU and reap it: QMP quit when qmp is not NULL (waiting up to
 * grace_ms), then SIGTERM to its process group (QEMU ends cleanly on it;
 * waiting grace_ms again), then SIGKILL. Returns how it ended: 0 quit,
 * 1 SIGTERM, 2 SIGKILL, 3 it had ended already. */
int isim_qemu_stop(struct isim_qemu *q, struct isim_qmp *qmp, int grace_ms);
/* Stops it (no grace) if it still runs, and frees. */
void isim_qemu_free(struct isim_qemu *q);

/* ---- the serial console, followed through the file it is written to --- */

struct isim_qemu_console {
	int fd;
	char line[1024];
	size_t len;
};

int isim_qemu_console_open(struct isim_qemu_console *c, const char *path, struct isim_error *err) ISIM_MUST_CHECK;
/* Read what was appended since the last call (one read of up to 4 KiB)
 * and call fn for each whole line, its CRs stripped and cut at
 * sizeof(line) - 1 bytes. Returns the bytes read (0: nothing new), or -1. */
ssize_t isim_qemu_console_read(struct isim_qemu_console *c, void (*fn)(const char *line, void *ctx), void *ctx,
			       struct isim_error *err) ISIM_MUST_CHECK;
void isim_qemu_console_close(struct isim_qemu_console *c);

/* ---- QMP ------------------------------------------------------------------ */

/* One message from QEMU, one JSON object on a line. */
enum isim_qmp_kind {
	ISIM_QMP_GREETING, /* {"QMP": {"version", "capabilities"}} */
	ISIM_QMP_RETURN,   /* {"return": ..., "id"} */
	ISIM_QMP_ERROR,	   /* {"error": {"class", "desc"}, "id"} */
	ISIM_QMP_EVENT,	   /* {"event", "data", "timestamp"} */
};

struct isim_qmp_msg {
	enum isim_qmp_kind kind;
	cJSON *json; /* the whole message, owned */
	bool has_id; /* an id that is a whole number (the client's ids are) */
	uint64_t id;
	const cJSON *value;    /* RETURN: the value; EVENT: data (or NULL); GREETING: the QMP object */
	const char *event;     /* EVENT: its name */
	const char *err_class; /* ERROR: QEMU's class, e.g. "GenericError" */
	const char *err_desc;  /* ERROR: its description */
};

/* Parse one message (without its line break). ISIM_ERR_DATA when it is
 * not JSON or not one of the four kinds. */
int isim_qmp_parse(const char *text, size_t len, struct isim_qmp_msg *msg, struct isim_error *err) ISIM_MUST_CHECK;
void isim_qmp_msg_free(struct isim_qmp_msg *msg);

/* Connect to a QMP unix socket, read the greeting and leave capabilities
 * negotiation (qmp_capabilities). QEMU takes one client at a time: a
 * second waits for the greeting until timeout_ms. */
int isim_qmp_connect(const char *path, int timeout_ms, struct isim_qmp **out, struct isim_error *err) ISIM_MUST_CHECK;
/* Whether QEMU's QMP is up: connect and wait up to timeout_ms for the
 * greeting, then leave without negotiating (which a QEMU still starting
 * answers late). 0, or -1 with ISIM_ERR_UNAVAILABLE while nothing listens
 * (ISIM_ERR_DATA for something that is not QMP, ISIM_ERR_IO no greeting
 * in time). */
int isim_qmp_probe(const char *path, int timeout_ms, struct isim_error *err) ISIM_MUST_CHECK;
/* The same over a connected stream socket (which it then owns). */
int isim_qmp_open_fd(int fd, const char *name, int timeout_ms, struct isim_qmp **out,
		     struct isim_error *err) ISIM_MUST_CHECK;
void isim_qmp_close(struct isim_qmp *q);

/* QEMU's version from the greeting: "7.2.22" and its numbers. */
const char *isim_qmp_version(const struct isim_qmp *q);
void isim_qmp_version_numbers(const struct isim_qmp *q, int *major, int *minor, int *micro);
/* Whether QEMU closed the socket (it ended): every call then fails with
 * ISIM_ERR_UNAVAILABLE. */
bool isim_qmp_gone(const struct isim_qmp *q);

/* Run a command with arguments (an object, or NULL; not taken over) and
 * wait up to timeout_ms for the reply with its id. *ret (when ret is not
 * NULL) gets the return value (free with cJSON_Delete). Events that arrive
 * meanwhile are queued. QEMU's error reply is ISIM_ERR_USAGE ("CMD:
 * CLASS: DESC"; ISIM_ERR_UNAVAILABLE for CommandNotFound), no reply in
 * time ISIM_ERR_IO, the socket closed ISIM_ERR_UNAVAILABLE. */
int isim_qmp_execute(struct isim_qmp *q, const char *command, const cJSON *args, cJSON **ret, int timeout_ms,
		     struct isim_error *err) ISIM_MUST_CHECK;
/* The same, passing fd to QEMU (SCM_RIGHTS) in the same sendmsg as the
 * command, as getfd and add-fd need. The caller keeps (and closes) fd.
 * QEMU runs a synchronous command in its main loop: one that writes into
 * a pipe (dump-guest-memory to "fd:NAME") answers only once the pipe has
 * been read to its end, so read it concurrently or ask for "detach" and
 * wait for the event (DUMP_COMPLETED). */
int isim_qmp_execute_fd(struct isim_qmp *q, const char *command, const cJSON *args, int fd, cJSON **ret, int timeout_ms,
			struct isim_error *err) ISIM_MUST_CHECK;

/* The oldest queued event, or NULL: free with cJSON_Delete. Reads nothing. */
cJSON *isim_qmp_event(struct isim_qmp *q);
/* Wait up to timeout_ms for the event named name (queued or arriving),
 * taking it out of the queue; events of other names stay queued.
 * *event gets it when event is not NULL. Timeout is ISIM_ERR_IO. */
int isim_qmp_wait_event(struct isim_qmp *q, const char *name, int timeout_ms, cJSON **event,
			struct isim_error *err) ISIM_MUST_CHECK;

#endif
