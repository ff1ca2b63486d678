/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "isim/kvm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* The KVM API that has been stable since Linux 2.6.22 (Documentation/
 * virt/kvm/api.rst, KVM_GET_API_VERSION). */
#define KVM_API 12
/* More entries than any CPU has leaves; KVM says E2BIG if not. */
#define CPUID_ENTRIES_MAX 4096

enum reg {
	EAX,
	EBX,
	ECX,
	EDX
};

/* A CPU feature an x86-64 Debian guest needs: Debian's amd64 baseline is
 * x86-64 with SSE2, and QEMU's CPU models ask for SSE3 and, as the host
 * has them, SSSE3 and SSE4; a KVM that cannot give them makes QEMU warn
 * "host doesn't support requested feature" and the guest fail. */
struct feature {
	const char *name;
	uint32_t leaf;
	enum reg reg;
	unsigned bit;
	bool always; /* needed even if the host lacks it */
};

static const struct feature features[] = {
	{ "LM", 0x80000001, EDX, 29, true }, { "SSE2", 1, EDX, 26, true },    { "SSE3", 1, ECX, 0, true },
	{ "SSSE3", 1, ECX, 9, false },	     { "SSE4.1", 1, ECX, 19, false }, { "SSE4.2", 1, ECX, 20, false },
};

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

static bool host_has(const struct feature *f)
{
	uint32_t r[4] = { 0 };

	if (!__get_cpuid(f->leaf, &r[EAX], &r[EBX], &r[ECX], &r[EDX]))
		return false;
	return r[f->reg] >> f->bit & 1;
}

static bool kvm_offers(const struct kvm_cpuid2 *c, const struct feature *f)
{
	uint32_t i, r[4];

	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != f->leaf || e->index != 0)
			continue;
		r[EAX] = e->eax, r[EBX] = e->ebx, r[ECX] = e->ecx, r[EDX] = e->edx;
		return r[f->reg] >> f->bit & 1;
	}
	return false;
}

/* What KVM offers guests: KVM_GET_SUPPORTED_CPUID, into *out (free()). */
static bool supported_cpuid(int kvm, const char *dev, struct kvm_cpuid2 **out, struct isim_error *why)
{
	struct kvm_cpuid2 *c = NULL, *bigger;
	uint32_t n;

	for (n = 64; n <= CPUID_ENTRIES_MAX; n *= 2) {
		bigger = realloc(c, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!bigger) {
			free(c);
			isim_error_set(why, ISIM_ERR_INTERNAL, "out of memory");
			return false;
		}
		c = bigger;
		memset(c, 0, sizeof(*c) + n * sizeof(c->entries[0]));
		c->nent = n;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return true;
		}
		if (errno != E2BIG)
			break;
	}
	isim_error_errno(why, ISIM_ERR_UNAVAILABLE, errno, "%s: KVM_GET_SUPPORTED_CPUID failed", dev);
	free(c);
	return false;
}

static bool cpu_features(int kvm, const char *dev, struct isim_error *why)
{
	struct kvm_cpuid2 *c = NULL;
	bool ok = true;
	size_t i;

	if (!supported_cpuid(kvm, dev, &c, why))
		return false;
	for (i = 0; ok && i < sizeof(features) / sizeof(features[0]); i++) {
		const struct feature *f = &features[i];
		bool host = host_has(f);

		if ((!f->always && !host) || kvm_offers(c, f))
			continue;
		isim_error_set(why, ISIM_ERR_UNAVAILABLE, "KVM does not offer guests %s (CPUID.%02XH:%s bit %u), %s",
			       f->name, (unsigned)f->leaf, reg_names[f->reg], f->bit,
			       host ? "which the host has" : "which an x86-64 guest needs");
		ok = false;
	}
	free(c);
	return ok;
}

/* In the probe's child: a VM with one page holding HLT, one vCPU in real
 * mode at it, run once. Writes "HLT" to out if it halted, else what
 * failed. */
static void run_hlt(int kvm, int out)
{
	static const uint8_t code[] = { 0xf4 }; /* hlt */
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_run *run = MAP_FAILED;
	char msg[256];
	void *mem = MAP_FAILED;
	int vm = -1, cpu = -1, size = 0;
	const char *step;
	ssize_t written;

	step = "KVM_CREATE_VM";
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		goto fail;
	step = "mmap";
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		goto fail;
	memcpy(mem, code, sizeof(code));
	region.guest_phys_addr = 0x1000;
	region.memory_size = 4096;
	region.userspace_addr = (uintptr_t)mem;
	step = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto fail;
	step = "KVM_CREATE_VCPU";
	if ((cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		goto fail;
	step = "KVM_GET_VCPU_MMAP_SIZE";
	if ((size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		goto fail;
	step = "mmap of the vCPU";
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		goto fail;
	step = "KVM_GET_SREGS";
	if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	step = "KVM_SET_SREGS";
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0)
		goto fail;
	regs.rip = 0x1000;
	regs.rflags = 0x2; /* bit 1 is reserved, always set */
	step = "KVM_SET_REGS";
	if (ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		goto fail;
	step = "KVM_RUN";
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		goto fail;
	if (run->exit_reason == KVM_EXIT_HLT)
		snprintf(msg, sizeof(msg), "HLT");
	else
		snprintf(msg, sizeof(msg), "a KVM guest's HLT ended KVM_RUN with exit reason %u, not KVM_EXIT_HLT",
			 run->exit_reason);
	goto out;
fail:
	snprintf(msg, sizeof(msg), "a KVM guest could not be run: %s failed: %s", step, strerror(errno));
out:
	/* The parent reads nothing, and says so, if this fails. */
	written = write(out, msg, strlen(msg));
	(void)written;
	if (run != MAP_FAILED)
		munmap(run, (size_t)size);
	if (mem != MAP_FAILED)
		munmap(mem, 4096);
	if (cpu >= 0)
		close(cpu);
	if (vm >= 0)
		close(vm);
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for the child, but not for ever: one stuck in the kernel even after
 * SIGKILL is left behind rather than hanging the caller. */
static void reap(pid_t pid)
{
	struct timespec tick = { 0, 10 * 1000000L };
	int status, i;

	for (i = 0; i < 100; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r != 0 && !(r < 0 && errno == EINTR))
			return;
		nanosleep(&tick, NULL);
	}
}

/* run_hlt in a child, which is killed if it has not answered in time. */
static bool runs_hlt(int kvm, struct isim_error *why)
{
	char msg[512];
	size_t len = 0;
	int64_t deadline;
	int p[2];
	bool timed_out = false;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		isim_error_errno(why, ISIM_ERR_INTERNAL, errno, "cannot check KVM: pipe");
		return false;
	}
	pid = fork();
	if (pid < 0) {
		isim_error_errno(why, ISIM_ERR_INTERNAL, errno, "cannot check KVM: fork");
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		close(p[0]);
		run_hlt(kvm, p[1]);
		close(p[1]);
		close(kvm);
		_exit(0);
	}
	close(p[1]);
	deadline = now_ms() + ISIM_KVM_PROBE_MS;
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;
		int r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			timed_out = r == 0;
			break;
		}
		n = read(p[0], msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(msg) - 1)
			break;
	}
	msg[len] = '\0';
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	reap(pid);
	if (timed_out) {
		isim_error_set(why, ISIM_ERR_UNAVAILABLE, "a KVM guest did not halt within %d ms (KVM_RUN hangs)",
			       ISIM_KVM_PROBE_MS);
		return false;
	}
	if (!strcmp(msg, "HLT"))
		return true;
	if (!len)
		snprintf(msg, sizeof(msg), "a KVM guest could not be run: the process running it died");
	isim_error_set(why, ISIM_ERR_UNAVAILABLE, "%s", msg);
	return false;
}

bool isim_kvm_usable(struct isim_error *why)
{
	const char *dev = getenv("ISIM_KVM_DEVICE");
	bool ok = false;
	int kvm, version;

	if (!dev || !*dev)
		dev = ISIM_KVM_DEVICE;
	kvm = open(dev, O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		isim_error_errno(why, ISIM_ERR_UNAVAILABLE, errno, "cannot open %s", dev);
		return false;
	}
	version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (version < 0)
		isim_error_errno(why, ISIM_ERR_UNAVAILABLE, errno, "%s: KVM_GET_API_VERSION failed", dev);
	else if (version != KVM_API)
		isim_error_set(why, ISIM_ERR_UNAVAILABLE, "%s: KVM API version %d, not %d", dev, version, KVM_API);
	else
		ok = cpu_features(kvm, dev, why) && runs_hlt(kvm, why);
	close(kvm);
	return ok;
}

#else

bool isim_kvm_usable(struct isim_error *why)
{
	isim_error_set(why, ISIM_ERR_UNAVAILABLE, "KVM runs x86-64 guests only on an x86 host");
	return false;
}

#endif
