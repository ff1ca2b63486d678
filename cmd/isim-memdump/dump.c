/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "dump.h"
#include "isim/audit.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/json.h"
#include "isim/memrecord.h"
#include "isim/provenance.h"
#include "isim/qemu.h"

#define PROG "isim-memdump"
/* As messages name the command: "isim-memdump dump" when it is called so. */
static const char *prog = PROG;
/* QMP answers a command within this long, or QEMU is stuck. */
#define QMP_TIMEOUT_MS 30000
/* After the last byte, QEMU's DUMP_COMPLETED comes at once; after a
 * cancel, once QEMU noticed the broken pipe. */
#define DONE_TIMEOUT_MS 60000
#define FDNAME "isim-memdump"
#define CHUNK (1u << 20)
/* How long a read waits for more of a buffer (QEMU writes about 1 GB/s). */
#define GATHER_NS 200000
/* The exit status of a dump cancelled by SIGINT, SIGTERM or SIGHUP. */
#define EXIT_CANCELLED 130

enum {
	OPT_OPERATOR = ISIM_OPT_LOCAL,
	OPT_FORMAT,
	OPT_LIVE,
	OPT_DSSE,
	OPT_FORCE,
	OPT_STATE_DIR,
	OPT_QMP,
};

void memdump_dump_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " VM -o DUMP -k KEY [--operator NAME] [--format FORMAT] [--dsse]\n"
		   "       [--force] [--state-dir DIR] [--password-fd N]\n"
		   "       " PROG " --qmp SOCKET -o DUMP -k KEY [options]\n"
		   "\n"
		   "Dump the memory of the running VM (a name in isim-vm's state, or the QEMU\n"
		   "whose QMP socket --qmp names) into DUMP: QEMU writes into a pipe and the\n"
		   "bytes are hashed (SHA-256) as they arrive and written to DUMP atomically in\n"
		   "the same pass. The signed attestation record goes to DUMP.record.json and\n"
		   "into the audit log (STATE/audit.db), and is printed on stdout.\n"
		   "\n"
		   "  -o, --output DUMP      the dump's file (refused if it exists, unless --force)\n"
		   "  -k, --sign-key KEY     the operator's secret key (minisign format; default\n"
		   "                         $ISIM_SIGN_KEY; --key is the same)\n"
		   "      --password-fd N    read the key's password from descriptor N\n"
		   "      --operator NAME    who takes the dump (default $ISIM_OPERATOR, else the\n"
		   "                         login name)\n"
		   "      --format FORMAT    elf (default), kdump-zlib, kdump-lzo, kdump-snappy or\n"
		   "                         win-dmp, as QEMU offers them\n"
		   "      --live             refused: QEMU stops the guest for every dump\n"
		   "      --dsse             also write DUMP.record.dsse.json, a DSSE envelope\n"
		   "      --force            replace DUMP and its record\n"
		   "      --state-dir DIR    isim-vm's state and the audit log (ISIM_STATE_DIR;\n"
		   "                         default " MEMDUMP_STATE_DIR_DEFAULT ")\n"
		   "      --qmp SOCKET       the QMP socket of a QEMU isim-vm did not start\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 dumped, 64 usage, 66 no such VM or key, 69 the VM is not\n"
		   "running, QEMU cannot be reached, does not offer the format, refuses or fails\n"
		   "the dump or ends during it, 73 DUMP exists or cannot be created, 74 I/O\n"
		   "error (a full disk), 77 key not readable or wrong password, 130 cancelled.\n");
}

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	cancelled = sig;
}

/* One attempt at a dump: what it was asked, what it found, how it went. */
struct md {
	/* asked */
	const char *vm_arg, *out, *operator, * format, *qmp_arg, *state_dir;
	bool dsse, force, live;
	struct isim_key_opt key;
	/* found */
	struct isim_audit *audit;
	struct isim_ms_seckey *sk;
	char key_id[ISIM_MS_KEYID_HEX];
	struct memdump_vm vm;
	bool from_state;
	const char *qmp_path;
	char qmp_abs[4096];
	struct isim_qmp *q;
	char qemu_version[48], machine[128], status_before[40];
	char qemu_name[256], qemu_uuid[37];
	double memory_bytes;
	char image_sha256[ISIM_SHA256_HEX], prov_sha256[ISIM_SHA256_HEX];
	char host[256];
	char started_at[40], ended_at[40];
	/* the dump */
	bool in_flight;
	struct isim_staged_file dump, rec, env;
	int fd;
	uint64_t size;
	char sha256[ISIM_SHA256_HEX];
	bool dump_started;
	/* the outcome */
	bool quiet; /* failures after the first are the first's consequence */
	char reason[1200];
	int rc;
};

static int fail_err(struct md *m, const struct isim_error *err)
{
	char buf[sizeof(m->reason)];

	isim_error_format(err, buf, sizeof(buf));
	snprintf(m->reason, sizeof(m->reason), "%s", buf);
	m->rc = m->quiet ? isim_exit_code(err->kind) : isim_fail(prog, err);
	return m->rc;
}

static int fail(struct md *m, int rc, const char *fmt, ...) ISIM_PRINTF(3, 4);

static int fail(struct md *m, int rc, const char *fmt, ...)
{
	char clean[sizeof(m->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
	isim_sanitize(clean, sizeof(clean), m->reason);
	if (!m->quiet)
		fprintf(stderr, "%s: %s\n", prog, clean);
	m->rc = rc;
	return rc;
}

static void rfc3339_now(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool format_known(const char *f)
{
	static const char *const known[] = { "elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp", NULL };
	size_t i;

	for (i = 0; known[i]; i++)
		if (!strcmp(f, known[i]))
			return true;
	return false;
}

static bool operator_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* ---- what the VM is --------------------------------------------------------- */

static const cJSON *member(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The image's digest, and that of the statement isim-build wrote beside it
 * (IMAGE without .qcow2, then .provenance.json) when its subject is this
 * image, as isim-vm appliance finds it. */
static int image_digests(struct md *m)
{
	struct isim_verdict v;
	struct isim_error err;
	uint8_t md[ISIM_SHA256_BYTES];
	char stmt[4200], *dot;
	cJSON *doc = NULL;

	if (!m->vm.image[0])
		return 0;
	isim_error_clear(&err);
	if (isim_sha256_file(m->vm.image, md, &err) < 0)
		return fail_err(m, &err);
	isim_hex(md, sizeof(md), m->image_sha256);
	snprintf(stmt, sizeof(stmt), "%s", m->vm.image);
	dot = strrchr(stmt, '.');
	if (dot && !strcmp(dot, ".qcow2"))
		*dot = '\0';
	strncat(stmt, ".provenance.json", sizeof(stmt) - strlen(stmt) - 1);
	if (access(stmt, F_OK) < 0)
		return 0;
	if (isim_json_load_file(stmt, &doc, &err) < 0 || isim_provenance_match(doc, md, &v, &err) < 0) {
		fprintf(stderr, "%s: note: %s is not recorded: %s\n", prog, stmt, err.msg);
	} else if (!v.ok) {
		fprintf(stderr, "%s: note: %s describes another image than %s\n", prog, stmt, m->vm.image);
	} else if (isim_sha256_file(stmt, md, &err) < 0) {
		fprintf(stderr, "%s: note: %s is not recorded: %s\n", prog, stmt, err.msg);
	} else {
		isim_hex(md, sizeof(md), m->prov_sha256);
	}
	cJSON_Delete(doc);
	return 0;
}

/* QEMU's own account of the machine, over QMP. */
static int query_machine(struct md *m)
{
	struct isim_error err;
	cJSON *r = NULL, *args = NULL;
	const cJSON *x;
	int ret = -1;

	isim_error_clear(&err);
	snprintf(m->qemu_version, sizeof(m->qemu_version), "%s", isim_qmp_version(m->q));
	if (isim_qmp_execute(m->q, "query-status", NULL, &r, QMP_TIMEOUT_MS, &err) < 0)
		goto qfail;
	x = member(r, "status");
	snprintf(m->status_before, sizeof(m->status_before), "%s", cJSON_IsString(x) ? x->valuestring : "unknown");
	cJSON_Delete(r);
	r = NULL;
	if (isim_qmp_execute(m->q, "query-memory-size-summary", NULL, &r, QMP_TIMEOUT_MS, &err) < 0)
		goto qfail;
	x = member(r, "base-memory");
	m->memory_bytes = cJSON_IsNumber(x) ? x->valuedouble : 0;
	x = member(r, "plugged-memory");
	m->memory_bytes += cJSON_IsNumber(x) ? x->valuedouble : 0;
	cJSON_Delete(r);
	r = NULL;
	/* The machine object's QOM type is the versioned machine type with
	 * "-machine" after it ("pc-q35-7.2-machine"). */
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "path", "/machine");
	cJSON_AddStringToObject(args, "property", "type");
	if (isim_qmp_execute(m->q, "qom-get", args, &r, QMP_TIMEOUT_MS, &err) == 0 && cJSON_IsString(r)) {
		size_t n = strlen(r->valuestring);

		if (n > 8 && !strcmp(r->valuestring + n - 8, "-machine"))
			n -= 8;
		snprintf(m->machine, sizeof(m->machine), "%.*s", (int)n, r->valuestring);
	}
	cJSON_Delete(r);
	r = NULL;
	isim_error_clear(&err);
	if (isim_qmp_execute(m->q, "query-name", NULL, &r, QMP_TIMEOUT_MS, &err) == 0 &&
	    cJSON_IsString(member(r, "name")))
		snprintf(m->qemu_name, sizeof(m->qemu_name), "%s", member(r, "name")->valuestring);
	cJSON_Delete(r);
	r = NULL;
	if (isim_qmp_execute(m->q, "query-uuid", NULL, &r, QMP_TIMEOUT_MS, &err) == 0 &&
	    cJSON_IsString(member(r, "UUID")) &&
	    strcmp(member(r, "UUID")->valuestring, "00000000-0000-0000-0000-000000000000"))
		snprintf(m->qemu_uuid, sizeof(m->qemu_uuid), "%s", member(r, "UUID")->valuestring);
	cJSON_Delete(r);
	r = NULL;
	isim_error_clear(&err);
	ret = 0;
	goto out;
qfail:
	fail_err(m, &err);
out:
	cJSON_Delete(args);
	cJSON_Delete(r);
	return ret;
}

/* The formats QEMU offers: kdump-lzo and kdump-snappy are build options
 * of QEMU (Debian's 7.2 has neither). */
static int check_format(struct md *m)
{
	struct isim_error err;
	const cJSON *f;
	cJSON *r = NULL;
	char known[256] = "";
	bool found = false;

	isim_error_clear(&err);
	if (isim_qmp_execute(m->q, "query-dump-guest-memory-capability", NULL, &r, QMP_TIMEOUT_MS, &err) < 0)
		return fail_err(m, &err);
	cJSON_ArrayForEach (f, member(r, "formats")) {
		if (!cJSON_IsString(f))
			continue;
		if (!strcmp(f->valuestring, m->format))
			found = true;
		if (strlen(known) + strlen(f->valuestring) + 3 < sizeof(known))
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", known[0] ? ", " : "",
				 f->valuestring);
	}
	cJSON_Delete(r);
	if (!found)
		return fail(m, ISIM_EXIT_UNAVAILABLE, "--format: this QEMU (%s) does not offer '%s' (it offers: %s)",
			    m->qemu_version, m->format, known);
	return 0;
}

/* ---- the dump ------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void progress(const struct md *m, bool last)
{
	double total = m->memory_bytes;

	if (total > 0)
		fprintf(stderr, "\r%s: %.0f MiB of about %.0f MiB%s", prog, m->size / 1048576.0, total / 1048576.0,
			last ? "\n" : "");
	else
		fprintf(stderr, "\r%s: %.0f MiB%s", prog, m->size / 1048576.0, last ? "\n" : "");
}

/* QEMU's DUMP_COMPLETED: 0 when the dump completed, 1 not yet (within
 * timeout_ms), or an exit code said. */
static int dump_done(struct md *m, int timeout_ms)
{
	struct isim_error err;
	cJSON *ev = NULL;
	const cJSON *data, *e;
	int r;

	isim_error_clear(&err);
	r = isim_qmp_wait_event(m->q, "DUMP_COMPLETED", timeout_ms, &ev, &err);
	if (r < 0 && isim_qmp_gone(m->q))
		return fail(m, ISIM_EXIT_UNAVAILABLE, "%s: QEMU ended during the dump", m->qmp_path);
	if (r < 0 && err.kind == ISIM_ERR_IO && strstr(err.msg, "no QMP event"))
		return 1;
	if (r < 0)
		return fail_err(m, &err);
	/* The dump is over, one way or the other. */
	m->dump_started = false;
	data = member(ev, "data");
	e = member(data, "error");
	if (cJSON_IsString(e)) {
		r = fail(m, ISIM_EXIT_UNAVAILABLE, "%s: QEMU failed the dump: %s", m->qmp_path, e->valuestring);
		cJSON_Delete(ev);
		return r;
	}
	cJSON_Delete(ev);
	return 0;
}

static cJSON *dump_args(const struct md *m)
{
	cJSON *a = cJSON_CreateObject();

	if (!a || !cJSON_AddBoolToObject(a, "paging", false) || !cJSON_AddStringToObject(a, "protocol", "fd:" FDNAME) ||
	    !cJSON_AddStringToObject(a, "format", m->format) || !cJSON_AddBoolToObject(a, "detach", true)) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* Hand QEMU the descriptor it is to write into, and start the dump. */
static int start_dump(struct md *m, int fd)
{
	struct isim_error err;
	cJSON *args = cJSON_CreateObject(), *dargs = dump_args(m);
	int ret = 0;

	isim_error_clear(&err);
	if (!args || !dargs || !cJSON_AddStringToObject(args, "fdname", FDNAME)) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		ret = fail_err(m, &err);
	} else if (isim_qmp_execute_fd(m->q, "getfd", args, fd, NULL, QMP_TIMEOUT_MS, &err) < 0 ||
		   isim_qmp_execute(m->q, "dump-guest-memory", dargs, NULL, QMP_TIMEOUT_MS, &err) < 0) {
		/* QEMU's refusal (an error reply) is its to explain. */
		if (err.kind == ISIM_ERR_USAGE)
			err.kind = ISIM_ERR_UNAVAILABLE;
		ret = fail_err(m, &err);
	} else {
		m->dump_started = true;
	}
	cJSON_Delete(args);
	cJSON_Delete(dargs);
	return ret;
}

/* After a cancel or a failure on our side: QEMU gets EPIPE on the closed
 * pipe and ends the dump; wait for that, so the guest runs again. */
static void settle(struct md *m)
{
	char keep[sizeof(m->reason)];
	int rc = m->rc;

	if (!m->dump_started || !m->q || isim_qmp_gone(m->q))
		return;
	memcpy(keep, m->reason, sizeof(keep));
	m->quiet = true;
	(void)dump_done(m, DONE_TIMEOUT_MS);
	m->quiet = false;
	memcpy(m->reason, keep, sizeof(keep));
	m->rc = rc;
	m->dump_started = false;
}

/* Three stages, each a thread, round a ring of buffers: this one reads the
 * pipe into a free buffer, the hasher hashes it (SHA-256 with SHA-NI,
 * about 1.8 GB/s, is the costliest stage; a thread of its own keeps it
 * busy while reads and writes go on), the writer writes it to the staged
 * file, and it is free again. Where the file system takes O_DIRECT, the
 * writes go to the disk from the buffers themselves, without the copy into
 * the page cache that would take a core's time from QEMU and the hashing
 * (the dump is not read again here, so caching it buys nothing);
 * elsewhere (tmpfs) they are buffered, with writeback started as they go. */
#define NBUF 8
/* How much is written before its writeback is started (buffered). */
#define WRITEBACK (32 << 20)
/* O_DIRECT's alignment of buffers, lengths and offsets: a page is enough
 * for every logical block size Linux has. */
#define DIRECT_ALIGN 4096

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf[NBUF];
	size_t len[NBUF];
	/* Buffers filled, hashed and written so far: written <= hashed <=
	 * filled <= written + NBUF; buffer n is buf[n % NBUF]. */
	uint64_t filled, hashed, written;
	bool done; /* nothing more will be filled */
	int error; /* errno of the first failed write */
	bool bad_hash;
	struct isim_sha256_ctx h;
	int fd;
	bool direct;	   /* O_DIRECT set on fd: every buffer but the last is whole */
	off_t at, flushed; /* bytes written, and handed to writeback */
};

static bool ring_failed(const struct ring *r)
{
	return r->error || r->bad_hash;
}

/* Leave O_DIRECT: for a tail that is not whole blocks, or a file system
 * that took the flag but not the write. */
static int ring_buffered(struct ring *r)
{
	int fl = fcntl(r->fd, F_GETFL);

	if (fl < 0 || fcntl(r->fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return -errno;
	r->direct = false;
	return 0;
}

static int ring_write(struct ring *r, const uint8_t *p, size_t n)
{
	size_t whole = n & ~(size_t)(DIRECT_ALIGN - 1);
	ssize_t w;
	int e;

	while (r->direct && whole) {
		w = write(r->fd, p, whole);
		if (w < 0 && errno == EINTR)
			continue;
		/* EINVAL: the file system took the flag but not the write, and
		 * nothing was written; the rest goes buffered. */
		if (w < 0 && errno == EINVAL)
			break;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
		whole -= (size_t)w;
		if (w % DIRECT_ALIGN)
			break;
	}
	if (r->direct && n && (e = ring_buffered(r)) < 0)
		return e;
	return write_all(r->fd, p, n);
}

/* A stage's loop: wait for the stage before it (*from counts what it has
 * done), take the next buffer, give it on by counting it in *mine. */
static void ring_stage(struct ring *r, uint64_t *mine, const uint64_t *from, bool hashing)
{
	pthread_mutex_lock(&r->mu);
	for (;;) {
		size_t i;
		int e = 0;
		bool ok = true;

		/* Done when the reader is, and the stage before too. */
		while (*mine == *from && !(r->done && *from == r->filled))
			pthread_cond_wait(&r->cv, &r->mu);
		if (*mine == *from)
			break;
		i = (size_t)(*mine % NBUF);
		pthread_mutex_unlock(&r->mu);
		if (hashing) {
			ok = r->bad_hash || isim_sha256_update(&r->h, r->buf[i], r->len[i]) == 0;
		} else if (!r->error) {
			e = ring_write(r, r->buf[i], r->len[i]);
			r->at += (off_t)r->len[i];
			/* Writeback started as the dump goes, so that the fsync
			 * at the end has little left to wait for. */
			if (!e && !r->direct && r->at - r->flushed >= WRITEBACK) {
				(void)sync_file_range(r->fd, r->flushed, r->at - r->flushed, SYNC_FILE_RANGE_WRITE);
				r->flushed = r->at;
			}
		}
		pthread_mutex_lock(&r->mu);
		if (!ok)
			r->bad_hash = true;
		if (e < 0 && !r->error)
			r->error = -e;
		(*mine)++;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

static void *hasher_run(void *arg)
{
	struct ring *r = arg;

	ring_stage(r, &r->hashed, &r->filled, true);
	return NULL;
}

static void *writer_run(void *arg)
{
	struct ring *r = arg;

	ring_stage(r, &r->written, &r->hashed, false);
	return NULL;
}

/* The next free buffer (waiting for the writer), or NULL once a stage
 * failed. */
static uint8_t *ring_free(struct ring *r)
{
	uint8_t *b;

	pthread_mutex_lock(&r->mu);
	while (r->filled - r->written == NBUF && !ring_failed(r))
		pthread_cond_wait(&r->cv, &r->mu);
	b = ring_failed(r) ? NULL : r->buf[r->filled % NBUF];
	pthread_mutex_unlock(&r->mu);
	return b;
}

static void ring_push(struct ring *r, size_t n)
{
	pthread_mutex_lock(&r->mu);
	r->len[r->filled % NBUF] = n;
	r->filled++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* No more buffers: wait for the n stages started to finish what they have. */
static void ring_end(struct ring *r, pthread_t *t, size_t n)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* Into a pipe, hashed as the bytes come and written to the staged file. */
static int dump_stream(struct md *m)
{
	uint8_t md[ISIM_SHA256_BYTES], *buf = NULL;
	int p[2] = { -1, -1 }, ret = -1, e, r, fl;
	bool tty = isatty(STDERR_FILENO), eof = false;
	double shown = 0;
	struct ring ring = { .fd = m->fd };
	pthread_t t[2];
	size_t i, got = 0, nthreads = 0;

	pthread_mutex_init(&ring.mu, NULL);
	pthread_cond_init(&ring.cv, NULL);
	for (i = 0; i < NBUF; i++) {
		if (posix_memalign((void **)&ring.buf[i], DIRECT_ALIGN, CHUNK)) {
			ring.buf[i] = NULL;
			fail(m, ISIM_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
	}
	if (isim_sha256_begin(&ring.h) < 0) {
		fail(m, ISIM_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	fl = fcntl(ring.fd, F_GETFL);
	ring.direct = fl >= 0 && fcntl(ring.fd, F_SETFL, fl | O_DIRECT) == 0;
	for (; nthreads < 2; nthreads++) {
		if ((e = pthread_create(&t[nthreads], NULL, nthreads ? writer_run : hasher_run, &ring))) {
			fail(m, ISIM_EXIT_SOFTWARE, "cannot start a thread: %s", strerror(e));
			goto out;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		fail(m, ISIM_EXIT_SOFTWARE, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	/* Fewer, larger reads; the kernel may give less (pipe-max-size). */
	(void)fcntl(p[0], F_SETPIPE_SZ, CHUNK);
	rfc3339_now(m->started_at, sizeof(m->started_at));
	r = start_dump(m, p[1]);
	close(p[1]);
	p[1] = -1;
	if (r)
		goto out;
	while (!eof) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t n;

		if (cancelled)
			break;
		n = poll(&pf, 1, 200);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(m, ISIM_EXIT_IOERR, "poll: %s", strerror(errno));
			goto out;
		}
		if (n == 0) {
			/* Nothing for a while: has QEMU given up (or ended)? */
			r = dump_done(m, 0);
			if (r == 0)
				fail(m, ISIM_EXIT_UNAVAILABLE, "%s: QEMU ended the dump before its end", m->qmp_path);
			if (r != 1)
				goto out;
			continue;
		}
		if (!buf && !(buf = ring_free(&ring)))
			break;
		/* QEMU writes a page at a time: a buffer is filled from reads a
		 * moment apart, so that each wakeup moves much (tens of
		 * thousands fewer reads for 2 GiB), and goes on whole (O_DIRECT
		 * writes whole blocks), the last one as it is. */
		n = read(p[0], buf + got, CHUNK - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(m, ISIM_EXIT_IOERR, "cannot read the dump from QEMU: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			eof = true;
		got += (size_t)n;
		if (got < CHUNK && !eof) {
			nanosleep(&(struct timespec){ 0, GATHER_NS }, NULL);
			continue;
		}
		if (got)
			ring_push(&ring, got);
		m->size += (uint64_t)got;
		buf = NULL;
		got = 0;
		if (tty && now_s() - shown > 0.25) {
			progress(m, false);
			shown = now_s();
		}
	}
	ring_end(&ring, t, nthreads);
	nthreads = 0;
	if (ring.error) {
		fail(m, ISIM_EXIT_IOERR, "%s: cannot write the dump: %s", m->out, strerror(ring.error));
		goto out;
	}
	if (ring.bad_hash) {
		fail(m, ISIM_EXIT_SOFTWARE, "SHA-256 failed");
		goto out;
	}
	if (cancelled)
		goto out;
	/* Every byte came: QEMU closed its end. Did it complete? */
	r = dump_done(m, DONE_TIMEOUT_MS);
	if (r == 1)
		fail(m, ISIM_EXIT_UNAVAILABLE, "%s: no DUMP_COMPLETED from QEMU in %d ms", m->qmp_path,
		     DONE_TIMEOUT_MS);
	if (r)
		goto out;
	rfc3339_now(m->ended_at, sizeof(m->ended_at));
	if (tty)
		progress(m, true);
	if (isim_sha256_end(&ring.h, md) < 0) {
		fail(m, ISIM_EXIT_SOFTWARE, "SHA-256 failed");
		goto out;
	}
	isim_hex(md, sizeof(md), m->sha256);
	ret = 0;
out:
	if (nthreads)
		ring_end(&ring, t, nthreads);
	if (tty && ret && m->size)
		fputc('\n', stderr);
	isim_sha256_abort(&ring.h);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	for (i = 0; i < NBUF; i++)
		free(ring.buf[i]);
	pthread_cond_destroy(&ring.cv);
	pthread_mutex_destroy(&ring.mu);
	if (ret)
		settle(m);
	return ret;
}

/* A format that seeks (win-dmp) goes into the staged file itself, which is
 * then hashed: the record says "from-file". */
static int dump_to_file(struct md *m)
{
	struct isim_error err;
	uint8_t md[ISIM_SHA256_BYTES];
	struct stat st;
	int r;

	isim_error_clear(&err);
	rfc3339_now(m->started_at, sizeof(m->started_at));
	if (start_dump(m, m->fd))
		return -1;
	for (;;) {
		r = dump_done(m, 200);
		if (r != 1)
			break;
		if (cancelled) {
			/* QEMU cannot be told to stop writing a file: let it end,
			 * then drop what it wrote. */
			settle(m);
			return -1;
		}
	}
	if (r) {
		m->dump_started = false;
		return -1;
	}
	m->dump_started = false;
	rfc3339_now(m->ended_at, sizeof(m->ended_at));
	if (fstat(m->fd, &st) < 0)
		return fail(m, ISIM_EXIT_IOERR, "%s: %s", m->dump.tmp, strerror(errno));
	m->size = (uint64_t)st.st_size;
	if (fsync(m->fd) < 0)
		return fail(m, ISIM_EXIT_IOERR, "%s: cannot write: %s", m->dump.tmp, strerror(errno));
	if (isim_sha256_file(m->dump.tmp, md, &err) < 0)
		return fail_err(m, &err);
	isim_hex(md, sizeof(md), m->sha256);
	return 0;
}

/* ---- the record ------------------------------------------------------------ */

static cJSON *str_or_null(const char *s)
{
	return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* path made absolute through its folder's real path (the file itself is
 * not in place yet). */
static void absolute(const char *path, char *out, size_t size)
{
	char dir[4096], real[PATH_MAX + 1];
	const char *base = strrchr(path, '/');

	if (base) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
		base++;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = path;
	}
	if (!realpath(dir[0] ? dir : "/", real))
		snprintf(out, size, "%s", path);
	else
		snprintf(out, size, "%.3000s%s%.1000s", real, strcmp(real, "/") ? "/" : "", base);
}

static cJSON *make_record(const struct md *m)
{
	cJSON *r = cJSON_CreateObject(), *vm, *qmp, *d, *op;
	const char *name = m->from_state ? m->vm.name : m->qemu_name;
	const char *uuid = m->from_state ? m->vm.uuid : m->qemu_uuid;
	char abs[4096];

	if (!r)
		return NULL;
	absolute(m->out, abs, sizeof(abs));
	cJSON_AddStringToObject(r, "type", ISIM_MEMRECORD_TYPE);
	vm = cJSON_AddObjectToObject(r, "vm");
	if (vm) {
		cJSON_AddItemToObject(vm, "name", str_or_null(name));
		cJSON_AddItemToObject(vm, "uuid", str_or_null(uuid));
		cJSON_AddStringToObject(vm, "qemu_version", m->qemu_version);
		cJSON_AddItemToObject(vm, "machine", str_or_null(m->machine));
		cJSON_AddNumberToObject(vm, "memory_bytes", m->memory_bytes);
		cJSON_AddItemToObject(vm, "image", str_or_null(m->from_state ? m->vm.image : NULL));
		cJSON_AddItemToObject(vm, "image_sha256", str_or_null(m->image_sha256));
		cJSON_AddItemToObject(vm, "provenance_sha256", str_or_null(m->prov_sha256));
	}
	qmp = cJSON_AddObjectToObject(r, "qmp");
	if (qmp) {
		cJSON_AddStringToObject(qmp, "socket", m->qmp_path);
		cJSON_AddStringToObject(qmp, "command", "dump-guest-memory");
		cJSON_AddItemToObject(qmp, "arguments", dump_args(m));
	}
	d = cJSON_AddObjectToObject(r, "dump");
	if (d) {
		cJSON_AddStringToObject(d, "file", abs);
		cJSON_AddStringToObject(d, "format", m->format);
		/* kdump into a pipe is makedumpfile's flattened format
		 * (makedumpfile -R restores the usual one). */
		cJSON_AddBoolToObject(d, "flattened", m->in_flight && !strncmp(m->format, "kdump", 5));
		cJSON_AddNumberToObject(d, "size", (double)m->size);
		cJSON_AddStringToObject(d, "sha256", m->sha256);
		cJSON_AddStringToObject(d, "hashed", m->in_flight ? "in-flight" : "from-file");
		/* QEMU stops a running guest's CPUs for the whole dump and
		 * resumes them after it (dump/dump.c, dump_init); a paused one
		 * stays paused. */
		cJSON_AddBoolToObject(d, "paused", true);
		cJSON_AddStringToObject(d, "status_before", m->status_before);
	}
	cJSON_AddStringToObject(r, "started_at", m->started_at);
	cJSON_AddStringToObject(r, "ended_at", m->ended_at);
	cJSON_AddStringToObject(r, "host", m->host);
	op = cJSON_AddObjectToObject(r, "operator");
	if (op) {
		cJSON_AddStringToObject(op, "name", m->operator);
		cJSON_AddStringToObject(op, "key_id", m->key_id);
	}
	return r;
}

/* The audit entry of an attempt that did not end in a dump. */
static void audit_failure(struct md *m)
{
	struct isim_error err;
	cJSON *r;
	const char *kind = m->rc == EXIT_CANCELLED ? "memdump cancelled" : "memdump failed";

	if (!m->audit)
		return;
	if (!m->started_at[0])
		rfc3339_now(m->started_at, sizeof(m->started_at));
	rfc3339_now(m->ended_at, sizeof(m->ended_at));
	r = cJSON_CreateObject();
	if (!r)
		return;
	cJSON_AddStringToObject(r, "type", "isim-memdump-attempt/v1");
	cJSON_AddItemToObject(r, "vm", str_or_null(m->from_state ? m->vm.name : m->vm_arg));
	cJSON_AddItemToObject(r, "qmp", str_or_null(m->qmp_path));
	cJSON_AddItemToObject(r, "output", str_or_null(m->out));
	cJSON_AddItemToObject(r, "format", str_or_null(m->format));
	cJSON_AddStringToObject(r, "started_at", m->started_at);
	cJSON_AddStringToObject(r, "ended_at", m->ended_at);
	cJSON_AddStringToObject(r, "host", m->host);
	cJSON_AddItemToObject(r, "operator", str_or_null(m->operator));
	cJSON_AddItemToObject(r, "key_id", str_or_null(m->key_id));
	cJSON_AddNumberToObject(r, "bytes_received", (double)m->size);
	cJSON_AddNumberToObject(r, "exit", m->rc);
	cJSON_AddStringToObject(r, "reason", m->reason);
	isim_error_clear(&err);
	if (isim_audit_append(m->audit, kind, r, NULL, &err) < 0) {
		fprintf(stderr, "%s: the audit log does not record this attempt:\n", prog);
		isim_print_error(prog, &err);
	}
	cJSON_Delete(r);
}

/* Sign, stage the record (and envelope), log, then put everything in
 * place. The log comes before the rename: a dump nobody logged never
 * appears; should a rename fail after, the log says so too. */
static int finish(struct md *m)
{
	struct isim_error err;
	struct isim_audit_entry entry = { 0 };
	char rec_path[4200], env_path[4200], digest[ISIM_SHA256_HEX];
	char *text = NULL, *env = NULL;
	cJSON *rec = make_record(m), *out = NULL;
	int ret = -1;

	isim_error_clear(&err);
	if (!rec) {
		fail(m, ISIM_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (isim_memrecord_sign(rec, m->sk, &err) < 0 || isim_memrecord_digest(rec, digest, &err) < 0 ||
	    (m->dsse && isim_memrecord_dsse(rec, m->sk, &env, &err) < 0)) {
		fail_err(m, &err);
		goto out;
	}
	text = cJSON_Print(rec);
	if (!text || isim_pathf(rec_path, sizeof(rec_path), &err, "%s.record.json", m->out) < 0 ||
	    isim_pathf(env_path, sizeof(env_path), &err, "%s.record.dsse.json", m->out) < 0) {
		if (!text)
			isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		fail_err(m, &err);
		goto out;
	}
	{
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);

		if (!t) {
			fail(m, ISIM_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		text = t;
		text[n] = '\n';
		text[n + 1] = '\0';
	}
	if (isim_file_stage(&m->rec, rec_path, text, strlen(text), 0644, &err) < 0 ||
	    (env && isim_file_stage(&m->env, env_path, env, strlen(env), 0644, &err) < 0)) {
		fail_err(m, &err);
		goto out;
	}
	if (isim_audit_append(m->audit, "memdump", rec, &entry, &err) < 0) {
		fail_err(m, &err);
		goto out;
	}
	if (isim_file_commit(&m->dump, m->force, &err) < 0 || isim_file_commit(&m->rec, m->force, &err) < 0 ||
	    (env && isim_file_commit(&m->env, m->force, &err) < 0)) {
		fail_err(m, &err);
		/* The dump was logged; what is left in place is not it. */
		unlink(m->dump.final);
		goto out;
	}
	out = cJSON_CreateObject();
	if (!out || !cJSON_AddStringToObject(out, "dump", m->out) ||
	    !cJSON_AddStringToObject(out, "record_file", rec_path) ||
	    !cJSON_AddItemToObject(out, "dsse_file", str_or_null(env ? env_path : NULL)) ||
	    !cJSON_AddStringToObject(out, "record_sha256", digest) ||
	    !cJSON_AddNumberToObject(out, "audit_seq", (double)entry.seq) ||
	    !cJSON_AddStringToObject(out, "audit_hash", entry.hash)) {
		fail(m, ISIM_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(out, "record", rec);
	rec = NULL;
	if (isim_json_write(stdout, out) < 0) {
		ret = m->rc = isim_stdout_error(prog);
		goto out;
	}
	ret = 0;
out:
	isim_audit_entry_free(&entry);
	cJSON_Delete(out);
	cJSON_Delete(rec);
	free(text);
	free(env);
	return ret;
}

/* ---- the command ------------------------------------------------------------ */

static int parse(struct md *m, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		ISIM_LONGOPTS_KEY,
		{ "operator", required_argument, NULL, OPT_OPERATOR },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "dsse", no_argument, NULL, OPT_DSSE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "qmp", required_argument, NULL, OPT_QMP },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = prog, .shortopts = "o:k:hV", .longopts = opts, .usage = memdump_dump_usage, .key = &m->key
	};
	int c, rc;

	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		rc = 0;
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc ? g.rc : -1;
		case 'o':
			rc = isim_opt_once(prog, "--output", &m->out, optarg);
			break;
		case OPT_OPERATOR:
			rc = isim_opt_once(prog, "--operator", &m->operator, optarg);
			break;
		case OPT_FORMAT:
			rc = isim_opt_once(prog, "--format", &m->format, optarg);
			break;
		case OPT_STATE_DIR:
			rc = isim_opt_once(prog, "--state-dir", &m->state_dir, optarg);
			break;
		case OPT_QMP:
			rc = isim_opt_once(prog, "--qmp", &m->qmp_arg, optarg);
			break;
		case OPT_LIVE:
			m->live = true;
			break;
		case OPT_DSSE:
			m->dsse = true;
			break;
		case OPT_FORCE:
			m->force = true;
			break;
		default:
			return isim_usage_error(prog, "unexpected option");
		}
		if (rc)
			return rc;
	}
	if (argc - optind > 1)
		return isim_usage_error(prog, "one VM at most, got %d", argc - optind);
	m->vm_arg = optind < argc ? argv[optind] : NULL;
	if (!m->vm_arg && !m->qmp_arg)
		return isim_usage_error(prog, "no VM given (a name in isim-vm's state, or --qmp SOCKET)");
	if (m->vm_arg && m->qmp_arg)
		return isim_usage_error(prog, "a VM name or --qmp, not both");
	if (m->vm_arg && (!*m->vm_arg || strlen(m->vm_arg) > 63 ||
			  strspn(m->vm_arg, "abcdefghijklmnopqrstuvwxyz"
					    "0123456789.-") != strlen(m->vm_arg) ||
			  m->vm_arg[0] == '.' || m->vm_arg[0] == '-'))
		return isim_bad_value(prog, "VM", m->vm_arg,
				      "a VM name (1 to 63 of a-z, 0-9, '.' and '-', starting with a letter or digit)");
	if (m->qmp_arg && !*m->qmp_arg)
		return isim_usage_error(prog, "--qmp: empty path");
	if (!m->out)
		return isim_usage_error(prog, "no output: give -o DUMP");
	if (!*m->out || m->out[strlen(m->out) - 1] == '/')
		return isim_bad_value(prog, "--output", m->out, "a file name");
	if (!m->format)
		m->format = "elf";
	if (!format_known(m->format))
		return isim_bad_value(prog, "--format", m->format,
				      "elf, kdump-zlib, kdump-lzo, kdump-snappy or win-dmp");
	if (!m->operator)
		m->operator= getenv("ISIM_OPERATOR");
	if (m->operator&& !* m->operator)
		m->operator= NULL;
	if (m->operator&& !operator_ok(m->operator))
		return isim_bad_value(prog, "--operator", m->operator, "1 to 255 printable characters");
	if (isim_key_finish(prog, &m->key, true))
		return ISIM_EXIT_USAGE;
	return 0;
}

static int run(struct md *m)
{
	struct isim_error err;
	char audit_path[4200];
	struct stat st;
	int r;

	isim_error_clear(&err);
	if (isim_audit_path(m->state_dir, audit_path, sizeof(audit_path), &err) < 0 ||
	    isim_audit_open(audit_path, true, &m->audit, &err) < 0) {
		/* Nowhere to log the attempt: said, not logged. */
		m->audit = NULL;
		return fail_err(m, &err);
	}
	if (!m->operator) {
		struct passwd *pw = getpwuid(getuid());

		m->operator= pw && operator_ok(pw->pw_name) ? pw->pw_name : "uid";
		if (!pw) {
			static char uid[32];

			snprintf(uid, sizeof(uid), "uid %u", (unsigned)getuid());
			m->operator= uid;
		}
	}
	if (isim_secret_protect(&err) < 0 || isim_secret_key_open(m->key.path, m->key.password_fd, &m->sk, &err) < 0)
		return fail_err(m, &err);
	isim_ms_keyid_hex(m->sk->keyid, m->key_id);
	if (m->live)
		return fail(m, ISIM_EXIT_UNAVAILABLE,
			    "--live: QEMU's dump-guest-memory stops the guest's CPUs for every dump (it has no "
			    "live mode); leave --live out for a dump taken while the guest is paused");
	/* Refused before QEMU is touched; the commit is exclusive too. */
	if (!m->force && lstat(m->out, &st) == 0)
		return fail(m, ISIM_EXIT_CANTCREAT, "%s: already exists (--force replaces it)", m->out);
	if (m->vm_arg) {
		if (memdump_vm_find(memdump_state_dir(m->state_dir), m->vm_arg, &m->vm, &err) < 0)
			return fail_err(m, &err);
		m->from_state = true;
		m->qmp_path = m->vm.qmp;
		if (image_digests(m))
			return m->rc;
	} else {
		absolute(m->qmp_arg, m->qmp_abs, sizeof(m->qmp_abs));
		m->qmp_path = m->qmp_abs;
	}
	/* As given: a unix socket's path has 107 bytes at most. */
	if (isim_qmp_connect(m->from_state ? m->qmp_path : m->qmp_arg, QMP_TIMEOUT_MS, &m->q, &err) < 0)
		return fail_err(m, &err);
	if (query_machine(m) < 0 || check_format(m))
		return m->rc;
	m->in_flight = strcmp(m->format, "win-dmp") != 0;
	if (isim_file_stage_open(&m->dump, m->out, 0400, &m->fd, &err) < 0)
		return fail_err(m, &err);
	r = m->in_flight ? dump_stream(m) : dump_to_file(m);
	if (cancelled) {
		if (!m->rc)
			m->rc = EXIT_CANCELLED;
		return fail(m, EXIT_CANCELLED, "cancelled (signal %d) after %llu bytes; no dump was kept",
			    (int)cancelled, (unsigned long long)m->size);
	}
	if (r)
		return m->rc ? m->rc : ISIM_EXIT_SOFTWARE;
	r = isim_file_stage_close(&m->dump, m->fd, &err);
	m->fd = -1;
	if (r < 0)
		return fail_err(m, &err);
	if (finish(m))
		return m->rc ? m->rc : ISIM_EXIT_SOFTWARE;
	return 0;
}

int memdump_dump_main(int argc, char *argv[])
{
	struct md m;
	struct sigaction sa, old_int, old_term, old_hup, old_pipe;
	int rc, c;

	prog = strcmp(argv[0], "dump") == 0 ? PROG " dump" : PROG;
	memset(&m, 0, sizeof(m));
	m.key = (struct isim_key_opt)ISIM_KEY_OPT_INIT;
	m.fd = -1;
	m.vm.lock_fd = -1;
	rc = parse(&m, argc, argv);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (gethostname(m.host, sizeof(m.host) - 1) < 0 || !m.host[0])
		snprintf(m.host, sizeof(m.host), "localhost");
	cancelled = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);

	rc = run(&m);
	if (rc && m.rc == 0)
		m.rc = rc;
	if (m.fd >= 0)
		close(m.fd);
	isim_file_abort(&m.dump);
	isim_file_abort(&m.rec);
	isim_file_abort(&m.env);
	if (rc)
		audit_failure(&m);
	isim_qmp_close(m.q);
	memdump_vm_release(&m.vm);
	isim_audit_close(m.audit);
	isim_ms_seckey_free(m.sk);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	c = isim_close_stdout(prog);
	return rc ? rc : c;
}
