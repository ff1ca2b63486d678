/* SPDX-License-Identifier: MIT */
/* isim_kvm_usable: a missing device and one that is not KVM are refused
 * naming what failed, and the real /dev/kvm is judged by what its
 * KVM_GET_SUPPORTED_CPUID offers, which the test reads for itself. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>
#include <cpuid.h>
#include <linux/kvm.h>

#include "isim/kvm.h"
#include "testutil.h"

/* How many descriptors this process has open. */
static int open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

static int unset(void **state)
{
	(void)state;
	unsetenv("ISIM_KVM_DEVICE");
	return 0;
}

static void test_missing_device(void **state)
{
	struct isim_error why;

	(void)state;
	setenv("ISIM_KVM_DEVICE", "/nonexistent", 1);
	isim_error_clear(&why);
	assert_false(isim_kvm_usable(&why));
	assert_int_equal(why.kind, ISIM_ERR_UNAVAILABLE);
	assert_string_equal(why.msg, "cannot open /nonexistent: No such file or directory");
}

static void test_not_kvm(void **state)
{
	struct isim_error why;
	int fds = open_fds();

	(void)state;
	setenv("ISIM_KVM_DEVICE", "/dev/null", 1);
	isim_error_clear(&why);
	assert_false(isim_kvm_usable(&why));
	assert_int_equal(open_fds(), fds);
	assert_int_equal(why.kind, ISIM_ERR_UNAVAILABLE);
	assert_string_equal(why.msg, "/dev/null: KVM_GET_API_VERSION failed: Inappropriate ioctl for device");
}

/* A NULL why is allowed. */
static void test_null_why(void **state)
{
	(void)state;
	setenv("ISIM_KVM_DEVICE", "/nonexistent", 1);
	assert_false(isim_kvm_usable(NULL));
}

/* Whether KVM_GET_SUPPORTED_CPUID's leaf 1 offers SSE3 (ECX bit 0); -1 if
 * it cannot be asked. */
static int kvm_offers_sse3(void)
{
	enum {
		N = 512
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + N * sizeof(c->entries[0]));
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), found = -1;
	uint32_t i;

	assert_non_null(c);
	c->nent = N;
	if (fd >= 0 && ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
		for (i = 0, found = 0; i < c->nent; i++) {
			if (c->entries[i].function == 1 && c->entries[i].index == 0)
				found = (int)(c->entries[i].ecx & 1);
		}
	}
	if (fd >= 0)
		close(fd);
	free(c);
	return found;
}

/* The machine's own KVM: where leaf 1 lacks SSE3 (nested virtualization
 * with a crippled CPUID), it must be refused for that reason; where SSE3 is
 * offered, any refusal is for something else. */
static void test_real_device(void **state)
{
	struct isim_error why;
	int sse3 = kvm_offers_sse3();
	bool usable;
	int fds = open_fds();

	(void)state;
	if (sse3 < 0)
		skip();
	isim_error_clear(&why);
	usable = isim_kvm_usable(&why);
	/* Every descriptor closed, the device's and the probe's pipe. */
	assert_int_equal(open_fds(), fds);
	if (sse3 == 0) {
		unsigned a, b, c, d;

		assert_false(usable);
		assert_int_equal(why.kind, ISIM_ERR_UNAVAILABLE);
		/* LM and SSE2 come first; an x86-64 KVM offers them. */
		a = b = c = d = 0;
		assert_true(__get_cpuid(1, &a, &b, &c, &d));
		assert_string_equal(why.msg, (c & 1) ? "KVM does not offer guests SSE3 (CPUID.01H:ECX bit 0), "
						       "which the host has"
						     : "KVM does not offer guests SSE3 (CPUID.01H:ECX bit 0), "
						       "which an x86-64 guest needs");
	} else if (!usable) {
		assert_null(strstr(why.msg, "SSE3 (CPUID.01H:ECX bit 0)"));
		assert_int_not_equal(why.msg[0], '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_missing_device, unset),
		cmocka_unit_test_teardown(test_not_kvm, unset),
		cmocka_unit_test_teardown(test_null_why, unset),
		cmocka_unit_test_setup_teardown(test_real_device, unset, unset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
