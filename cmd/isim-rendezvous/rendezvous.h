/* SPDX-License-Identifier: MIT */
#ifndef ISIM_RENDEZVOUS_TOOL_H
#define ISIM_RENDEZVOUS_TOOL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "isim/rendezvous.h"
#include "isim/rtnl.h"

/* The whole isim-rendezvous command, callable in-process by tests. */
int isim_rendezvous_main(int argc, char *argv[]);

int rendezvous_addr_main(int argc, char *argv[]);
int rendezvous_run_main(int argc, char *argv[]);
void rendezvous_addr_usage(FILE *f);
void rendezvous_run_usage(FILE *f);

/* ---- what the commands share: the secret and the schedule ---- */

#define RV_SECRET_DEFAULT "/etc/infrasim/secrets/mesh_secret"
#define RV_SECRET_ENV "ISIM_MESH_SECRET"
/* IFA_PROTO of the addresses the daemon adds, so that it knows its own
 * (those a killed run left behind) from every other. */
#define RV_ADDR_PROTO 0x49

enum {
	RV_OPT_SECRET = 0x1100,
	RV_OPT_EPOCH,
	RV_OPT_SLOTS,
	RV_OPT_SLOT_MS,
	RV_OPT_CLOCK_OFFSET,
	RV_OPT_DEV,
	RV_OPT_LOCAL,
};

/* clang-format off */
#define RV_LONGOPTS \
	{ "secret", required_argument, NULL, RV_OPT_SECRET }, \
	{ "epoch-seconds", required_argument, NULL, RV_OPT_EPOCH }, \
	{ "slots", required_argument, NULL, RV_OPT_SLOTS }, \
	{ "slot-ms", required_argument, NULL, RV_OPT_SLOT_MS }, \
	{ "clock-offset", required_argument, NULL, RV_OPT_CLOCK_OFFSET }, \
	{ "dev", required_argument, NULL, RV_OPT_DEV }
#define RV_USAGE_COMMON \
	"      --secret FILE       the mesh secret (ISIM_MESH_SECRET; default\n" \
	"                          " RV_SECRET_DEFAULT ")\n" \
	"      --epoch-seconds N   length of an epoch (default 60)\n" \
	"      --slots N           slots at the start of each epoch (default 4)\n" \
	"      --slot-ms N         length of a slot in milliseconds (default 500)\n" \
	"      --clock-offset MS   add MS (may be negative) to the clock\n"
/* clang-format on */

struct rv_opts {
	const char *secret, *dev;
	const char *epoch_s, *slots, *slot_ms, *offset; /* as given */
	struct isim_rv_sched sched;
	int64_t offset_ms;
	bool once; /* run --once */
};

/* For getopt's c among RV_LONGOPTS: 1 taken, 0 not one of them, or
 * ISIM_EXIT_USAGE (an isim_shared_option_fn of options.h). */
int rv_option(const char *prog, void *opts, int c, const char *arg);
/* After the options: the numbers read and the schedule checked. 0 or
 * ISIM_EXIT_USAGE. */
int rv_options_finish(const char *prog, struct rv_opts *o);
/* The keys of the mesh secret file: 0, or an exit code after saying why
 * (66 missing, 77 readable by others, 78 too short). */
int rv_keys_load(const char *prog, const struct rv_opts *o, struct isim_rv_keys **out);
/* The wall clock with the offset, in milliseconds since the epoch. */
int64_t rv_now(const struct rv_opts *o);
/* "fe80::1%eth0" (or without the zone when dev is NULL or ""). */
void rv_addr_text(const uint8_t a[static 16], const char *dev, char *out, size_t size);
/* RFC 3339 with milliseconds, UTC. */
void rv_time_text(int64_t ms, char out[static 32]);

#endif
