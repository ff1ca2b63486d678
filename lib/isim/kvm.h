/* SPDX-License-Identifier: MIT */
#ifndef ISIM_KVM_H
#define ISIM_KVM_H

#include <stdbool.h>

#include "isim/error.h"

/* The KVM device, unless ISIM_KVM_DEVICE names another (tests point it at
 * /dev/null or a missing file). */
#define ISIM_KVM_DEVICE "/dev/kvm"
/* How long the probe's guest has to halt before KVM counts as hung. */
#define ISIM_KVM_PROBE_MS 2000

/* Whether KVM can run an x86-64 Debian guest here, which /dev/kvm's
 * existence does not tell: under nested virtualization it may open and
 * create VMs yet hide CPU features the guest's kernel and libc need. True
 * when the device opens, speaks API version 12, offers guests (in
 * KVM_GET_SUPPORTED_CPUID) LM, SSE2, SSE3, and each of SSSE3, SSE4.1 and
 * SSE4.2 the host's own CPU has, and runs a one-instruction HLT guest to
 * KVM_EXIT_HLT within ISIM_KVM_PROBE_MS (in a child process, killed after
 * that, so a hung KVM cannot hang the caller). Else false, with why (which
 * may be NULL) saying in one sentence what was missing. */
bool isim_kvm_usable(struct isim_error *why) ISIM_MUST_CHECK;

#endif
