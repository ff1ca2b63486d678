/* SPDX-License-Identifier: MIT */
/* rtnetlink against the running kernel, in a network namespace of the
 * test's own: a link by name, an IPv6 address added, listed, seen by
 * ip(8), added again and deleted twice; an address ip(8) added, listed
 * and deleted; a missing interface; and the events of a link going down,
 * renamed and deleted, and of an overrun. Root only: skipped otherwise. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/if_addr.h>

#include "isim/rtnl.h"
#include "testutil.h"

/* ip(8) is in sbin. */
#define SBIN_PATH "PATH=$PATH:/usr/sbin:/sbin; "
#define ADDR "fe80::1234:5678:9abc:def0"
#define PROTO 0x5a
/* How long an event may take to come. */
#define EVENT_MS 3000

/* Why the tests cannot run here, or NULL once the process is in a network
 * namespace of its own, the only place ip(8) is run. */
static const char *no_netns = "the group setup did not run";
/* The ip-link(8) command that makes d0, found by the group setup: a
 * dummy, or where the kernel has no dummy driver (CONFIG_DUMMY), one end
 * of a veth pair with both ends up, so that d0 has a carrier as a dummy
 * does. NULL when the kernel can make neither. */
static const char *make_d0;

static void need_netns(void)
{
	if (no_netns) {
		print_message("# %s: skipped\n", no_netns);
		skip();
	}
}

/* Run an ip(8) command line in the test's namespace: its exit status. */
static int sh(const char *cmd)
{
	char line[512];

	assert_null(no_netns);
	assert_true(snprintf(line, sizeof(line), SBIN_PATH "%s", cmd) < (int)sizeof(line));
	return system(line);
}

/* What it prints; free() it. */
static char *sh_out(const char *cmd)
{
	char line[512], *text = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *f;

	assert_null(no_netns);
	assert_true(snprintf(line, sizeof(line), SBIN_PATH "%s", cmd) < (int)sizeof(line));
	f = popen(line, "r");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *more = realloc(text, len + n + 1);

		assert_non_null(more);
		text = more;
		memcpy(text + len, chunk, n);
		len += n;
	}
	assert_int_equal(pclose(f), 0);
	if (!text)
		text = calloc(1, 1);
	assert_non_null(text);
	text[len] = '\0';
	return text;
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		no_netns = "not root";
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM) {
			no_netns = "unshare(CLONE_NEWNET) is not permitted";
			return 0;
		}
		print_error("unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	no_netns = NULL;
	if (sh("command -v ip >/dev/null 2>&1") != 0) {
		no_netns = "ip (iproute2) is not installed";
		return 0;
	}
	if (sh("ip link add d0 type dummy 2>/dev/null && ip link del d0") == 0)
		make_d0 = "ip link add d0 type dummy";
	else if (sh("ip link add d0 type veth peer name d0p && ip link del d0") == 0)
		make_d0 = "ip link add d0 type veth peer name d0p && ip link set d0p up";
	return 0;
}

/* A fresh interface d0, up: its index. */
static unsigned d0_make(void)
{
	unsigned ifindex;

	need_netns();
	if (!make_d0) {
		print_message("# the kernel can make neither a dummy nor a veth interface: skipped\n");
		skip();
	}
	assert_int_equal(sh(make_d0), 0);
	assert_int_equal(sh("ip link set d0 up"), 0);
	ifindex = if_nametoindex("d0");
	assert_true(ifindex > 0);
	return ifindex;
}

/* Whatever a test left, so that the next one starts with no d0. */
static int links_teardown(void **state)
{
	(void)state;
	if (!no_netns)
		(void)sh("for l in d0 d1 d0p; do ip link del $l 2>/dev/null; done; true");
	return 0;
}

static void parse6(const char *text, uint8_t addr[static 16])
{
	assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
}

/* The address in the list, or NULL. */
static const struct isim_rtnl_addr *find(const struct isim_rtnl_addr *v, size_t n, const uint8_t addr[static 16],
					 uint8_t prefixlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(v[i].addr, addr, 16) && v[i].prefixlen == prefixlen)
			return &v[i];
	return NULL;
}

/* Whether the kernel lists the address on ifindex; *got a copy of it. */
static bool listed(struct isim_rtnl *r, unsigned ifindex, const uint8_t addr[static 16], uint8_t prefixlen,
		   struct isim_rtnl_addr *got)
{
	struct isim_rtnl_addr *v = NULL;
	const struct isim_rtnl_addr *a;
	struct isim_error err;
	size_t n = 0;

	isim_error_clear(&err);
	if (isim_rtnl_addr6_list(r, ifindex, &v, &n, &err) < 0)
		fail_msg("%s", tu_msg(&err));
	a = find(v, n, addr, prefixlen);
	if (a && got)
		*got = *a;
	free(v);
	return a != NULL;
}

/* ---- links ------------------------------------------------------------------- */

static void test_link_get(void **state)
{
	struct isim_rtnl *r = NULL;
	struct isim_rtnl_link l;
	struct isim_error err;
	unsigned ifindex;

	(void)state;
	ifindex = d0_make();
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, false, &err), 0);
	assert_int_equal(isim_rtnl_event_fd(r), -1);

	assert_int_equal(isim_rtnl_link_get(r, "d0", &l, &err), 0);
	assert_int_equal(l.ifindex, ifindex);
	assert_string_equal(l.name, "d0");
	assert_true(l.flags & IFF_UP);
	assert_int_equal(isim_rtnl_link_get(r, "lo", &l, &err), 0);
	assert_int_equal(l.ifindex, if_nametoindex("lo"));
	assert_string_equal(l.name, "lo");
	assert_true(l.flags & IFF_LOOPBACK);

	assert_int_equal(isim_rtnl_link_get(r, "nosuch0", &l, &err), -1);
	tu_expect_error(&err, ISIM_ERR_NOINPUT, "no interface 'nosuch0'");
	assert_int_equal(isim_rtnl_link_get(r, "", &l, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "'' is not an interface name (1 to 15 bytes)");
	assert_int_equal(isim_rtnl_link_get(r, "0123456789abcdef", &l, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "'0123456789abcdef' is not an interface name (1 to 15 bytes)");

	/* The socket goes on after a refusal. */
	assert_int_equal(isim_rtnl_link_get(r, "d0", &l, &err), 0);
	assert_int_equal(l.ifindex, ifindex);
	isim_rtnl_close(r);
	isim_rtnl_close(NULL);
}

/* ---- addresses --------------------------------------------------------------- */

static void test_addr6_round_trip(void **state)
{
	struct isim_rtnl *r = NULL;
	struct isim_rtnl_addr got, *v = NULL;
	struct isim_error err;
	uint8_t addr[16], doc[16];
	bool existed = true, missing = true;
	unsigned ifindex;
	char *shown, msg[128];
	size_t n = 0, nall = 0;

	(void)state;
	ifindex = d0_make();
	parse6(ADDR, addr);
	parse6("2001:db8::7", doc);
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, false, &err), 0);

	assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 64, IFA_F_NODAD, PROTO, &existed, &err), 0);
	assert_false(existed);
	assert_true(listed(r, ifindex, addr, 64, &got));
	assert_int_equal(got.scope, 253); /* RT_SCOPE_LINK */
	assert_true(got.flags & IFA_F_NODAD);
	assert_true(got.flags & IFA_F_PERMANENT);
	assert_false(got.flags & IFA_F_TENTATIVE);
	assert_int_equal(got.proto, PROTO);
	/* All interfaces' addresses hold it too. */
	assert_int_equal(isim_rtnl_addr6_list(r, 0, &v, &n, &err), 0);
	assert_non_null(find(v, n, addr, 64));
	nall = n;
	free(v);
	assert_int_equal(isim_rtnl_addr6_list(r, ifindex, &v, &n, &err), 0);
	assert_true(n >= 1 && n <= nall);
	free(v);

	/* ip(8) sees what was added. */
	shown = sh_out("ip -6 addr show dev d0");
	if (!strstr(shown, "inet6 " ADDR "/64 scope link nodad"))
		fail_msg("ip -6 addr show dev d0:\n%s", shown);
	free(shown);

	assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 64, IFA_F_NODAD, PROTO, &existed, &err), 0);
	assert_true(existed);
	assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 64, IFA_F_NODAD, PROTO, NULL, &err), 0);

	assert_int_equal(isim_rtnl_addr6_del(r, ifindex, addr, 64, &missing, &err), 0);
	assert_false(missing);
	assert_false(listed(r, ifindex, addr, 64, NULL));
	shown = sh_out("ip -6 addr show dev d0");
	assert_null(strstr(shown, ADDR));
	free(shown);
	assert_int_equal(isim_rtnl_addr6_del(r, ifindex, addr, 64, &missing, &err), 0);
	assert_true(missing);
	assert_int_equal(isim_rtnl_addr6_del(r, ifindex, addr, 64, NULL, &err), 0);

	/* And the other way: what ip(8) adds is listed, and deleted here. */
	assert_int_equal(sh("ip -6 addr add 2001:db8::7/64 dev d0 nodad"), 0);
	assert_true(listed(r, ifindex, doc, 64, &got));
	assert_int_equal(got.scope, 0); /* RT_SCOPE_UNIVERSE */
	assert_true(got.flags & IFA_F_NODAD);
	assert_true(got.flags & IFA_F_PERMANENT);
	assert_int_equal(got.proto, 0);
	/* Another prefix length is another address. */
	assert_int_equal(isim_rtnl_addr6_del(r, ifindex, doc, 48, &missing, &err), 0);
	assert_true(missing);
	assert_int_equal(isim_rtnl_addr6_del(r, ifindex, doc, 64, &missing, &err), 0);
	assert_false(missing);
	shown = sh_out("ip -6 addr show dev d0");
	assert_null(strstr(shown, "2001:db8::7"));
	free(shown);

	assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 129, 0, 0, NULL, &err), -1);
	snprintf(msg, sizeof(msg), "cannot add " ADDR "/129 to interface %u: the prefix length is more than 128",
		 ifindex);
	tu_expect_error(&err, ISIM_ERR_USAGE, msg);
	isim_rtnl_close(r);
}

static void test_addr6_no_link(void **state)
{
	struct isim_rtnl *r = NULL;
	struct isim_rtnl_addr *v = NULL;
	struct isim_error err;
	uint8_t addr[16];
	bool existed = true, missing = true;
	size_t n = 1;

	(void)state;
	need_netns();
	parse6("fe80::1", addr);
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, false, &err), 0);
	assert_int_equal(isim_rtnl_addr6_add(r, 9999, addr, 64, IFA_F_NODAD, 0, &existed, &err), -1);
	tu_expect_error(&err, ISIM_ERR_NOINPUT, "cannot add fe80::1/64 to interface 9999: No such device");
	assert_false(existed);
	/* No interface is an error, not a missing address. */
	assert_int_equal(isim_rtnl_addr6_del(r, 9999, addr, 64, &missing, &err), -1);
	tu_expect_error(&err, ISIM_ERR_NOINPUT, "cannot delete fe80::1/64 from interface 9999: No such device");
	assert_false(missing);
	assert_int_equal(isim_rtnl_addr6_list(r, 9999, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	isim_rtnl_close(r);
}

/* ---- events ------------------------------------------------------------------ */

struct evlog {
	struct isim_rtnl_event *v;
	size_t n;
	int stop_after; /* fn returns 7 after this many events, 0 never */
};

static int log_cb(const struct isim_rtnl_event *ev, void *ctx)
{
	struct evlog *log = ctx;
	struct isim_rtnl_event *v = realloc(log->v, (log->n + 1) * sizeof(*v));

	assert_non_null(v);
	log->v = v;
	log->v[log->n++] = *ev;
	return log->stop_after && log->n >= (size_t)log->stop_after ? 7 : 0;
}

struct want {
	enum isim_rtnl_event_type type;
	unsigned ifindex;
	const char *name;    /* NULL: any */
	unsigned set;	     /* link flags it has */
	unsigned clear;	     /* and has not */
	const uint8_t *addr; /* NULL: any */
};

static bool matches(const struct isim_rtnl_event *ev, const struct want *w)
{
	if (ev->type != w->type || ev->link.ifindex != w->ifindex)
		return false;
	if (w->name && strcmp(ev->link.name, w->name) != 0)
		return false;
	if ((ev->link.flags & w->set) != w->set || (ev->link.flags & w->clear))
		return false;
	return !w->addr || !memcmp(ev->addr.addr, w->addr, 16);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read events into log until one since index from matches w: it. */
static const struct isim_rtnl_event *await(struct isim_rtnl *r, struct evlog *log, size_t from, const struct want *w)
{
	struct pollfd p = { isim_rtnl_event_fd(r), POLLIN, 0 };
	long end = now_ms() + EVENT_MS;
	struct isim_error err;
	size_t i;

	isim_error_clear(&err);
	for (;;) {
		if (isim_rtnl_events(r, log_cb, log, &err) != 0)
			fail_msg("%s", tu_msg(&err));
		for (i = from; i < log->n; i++)
			if (matches(&log->v[i], w))
				return &log->v[i];
		if (now_ms() >= end)
			fail_msg("no event of type %d for interface %u in %d ms", w->type, w->ifindex, EVENT_MS);
		(void)poll(&p, 1, 100);
	}
}

static void test_events(void **state)
{
	struct isim_rtnl *r = NULL;
	struct evlog log = { NULL, 0, 0 };
	struct isim_error err;
	uint8_t addr[16];
	unsigned ifindex;
	size_t mark;

	(void)state;
	ifindex = d0_make();
	parse6(ADDR, addr);
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, true, &err), 0);
	assert_true(isim_rtnl_event_fd(r) >= 0);
	/* Nothing has happened yet. */
	assert_int_equal(isim_rtnl_events(r, log_cb, &log, &err), 0);

	assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 64, IFA_F_NODAD, PROTO, NULL, &err), 0);
	{
		const struct want w = { ISIM_RTNL_ADDR_NEW, ifindex, NULL, 0, 0, addr };
		const struct isim_rtnl_event *ev = await(r, &log, 0, &w);

		assert_int_equal(ev->addr.prefixlen, 64);
		assert_int_equal(ev->addr.scope, 253);
		assert_int_equal(ev->addr.proto, PROTO);
		assert_true(ev->addr.flags & IFA_F_NODAD);
	}

	/* Down: the link says so, and the kernel drops its addresses
	 * (net.ipv6.conf.d0.keep_addr_on_down is 0). */
	mark = log.n;
	assert_int_equal(sh("ip link set d0 down"), 0);
	{
		const struct want w = { ISIM_RTNL_LINK_NEW, ifindex, "d0", 0, IFF_UP, NULL };

		(void)await(r, &log, mark, &w);
	}
	assert_false(listed(r, ifindex, addr, 64, NULL));

	mark = log.n;
	assert_int_equal(sh("ip link set d0 name d1"), 0);
	{
		const struct want w = { ISIM_RTNL_LINK_NEW, ifindex, "d1", 0, 0, NULL };

		(void)await(r, &log, mark, &w);
	}

	mark = log.n;
	assert_int_equal(sh("ip link del d1"), 0);
	{
		const struct want w = { ISIM_RTNL_LINK_DEL, ifindex, "d1", 0, 0, NULL };

		(void)await(r, &log, mark, &w);
	}
	free(log.v);
	isim_rtnl_close(r);
}

/* fn's answer stops the reading, and the rest waits for the next call. */
static void test_events_stop(void **state)
{
	struct isim_rtnl *r = NULL;
	struct evlog log = { NULL, 0, 1 };
	struct isim_error err;
	unsigned ifindex;

	(void)state;
	ifindex = d0_make();
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, true, &err), 0);
	/* Two link events at least, there before ip(8) is answered. */
	assert_int_equal(sh("ip link set d0 down && ip link set d0 up"), 0);
	assert_int_equal(isim_rtnl_events(r, log_cb, &log, &err), 7);
	assert_int_equal(log.n, 1);
	log.stop_after = 0;
	assert_int_equal(isim_rtnl_events(r, log_cb, &log, &err), 0);
	assert_true(log.n >= 2);
	{
		const struct want down = { ISIM_RTNL_LINK_NEW, ifindex, "d0", 0, IFF_UP, NULL };
		const struct want up = { ISIM_RTNL_LINK_NEW, ifindex, "d0", IFF_UP, 0, NULL };

		(void)await(r, &log, 0, &down);
		(void)await(r, &log, 0, &up);
	}
	free(log.v);
	isim_rtnl_close(r);

	/* Without events there is nothing to read. */
	assert_int_equal(isim_rtnl_open(&r, false, &err), 0);
	assert_int_equal(isim_rtnl_events(r, log_cb, &log, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE,
			"cannot read the kernel's link and address events: the socket was opened without them");
	isim_rtnl_close(r);
}

/* Events the socket had no room for are a LINK_NEW of interface 0, and
 * the events after them come as before. */
static void test_events_overrun(void **state)
{
	const struct want overrun = { ISIM_RTNL_LINK_NEW, 0, NULL, 0, 0, NULL };
	struct isim_rtnl *r = NULL;
	struct evlog log = { NULL, 0, 0 };
	struct isim_error err;
	uint8_t addr[16];
	unsigned ifindex, i;
	int small = 1;
	size_t mark;

	(void)state;
	ifindex = d0_make();
	isim_error_clear(&err);
	assert_int_equal(isim_rtnl_open(&r, true, &err), 0);
	/* The kernel's least (SOCK_MIN_RCVBUF): a few messages. */
	assert_int_equal(setsockopt(isim_rtnl_event_fd(r), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	/* Without IFA_F_NODAD the kernel tells of each address before the
	 * request is answered (inet6_addr_add); with it, only once its DAD
	 * work has run. */
	parse6("2001:db8::", addr);
	for (i = 1; i <= 64; i++) {
		addr[15] = (uint8_t)i;
		assert_int_equal(isim_rtnl_addr6_add(r, ifindex, addr, 64, 0, 0, NULL, &err), 0);
	}
	(void)await(r, &log, 0, &overrun);

	mark = log.n;
	assert_int_equal(sh("ip link set d0 down"), 0);
	{
		const struct want w = { ISIM_RTNL_LINK_NEW, ifindex, "d0", 0, IFF_UP, NULL };

		(void)await(r, &log, mark, &w);
	}
	free(log.v);
	isim_rtnl_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_link_get, links_teardown),
		cmocka_unit_test_teardown(test_addr6_round_trip, links_teardown),
		cmocka_unit_test_teardown(test_addr6_no_link, links_teardown),
		cmocka_unit_test_teardown(test_events, links_teardown),
		cmocka_unit_test_teardown(test_events_stop, links_teardown),
		cmocka_unit_test_teardown(test_events_overrun, links_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
