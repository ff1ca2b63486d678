/* SPDX-License-Identifier: MIT */
/* The kernel's WireGuard netlink messages: change sets read back with
 * libmnl (flags, keys, prefixes, endpoints, keepalive), split over
 * messages of a size without losing an allowed IP; dump replies built by
 * hand, a peer split over two of them merged, and malformed replies
 * refused; and the socket's answers where no WireGuard module is. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <sodium.h>

#include "wg-int.h"

#define FAMILY 0x1d
#define SEQ 1000

/* ---- what a set message holds, read back with libmnl ---------------------- */

/* libmnl's walks, as functions (its mnl_attr_for_each* macros hide a
 * for loop from the linters). */
static bool attr_in(const struct nlattr *a, const void *end)
{
	return mnl_attr_ok(a, (int)((const char *)end - (const char *)a));
}

static const void *nest_end(const struct nlattr *nest)
{
	return (const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest);
}

struct dpeer {
	uint8_t key[WG_KEY_LEN];
	bool has_flags;
	uint32_t flags;
	size_t eplen;
	union isim_wg_endpoint ep;
	bool has_keepalive;
	uint16_t keepalive;
	struct isim_prefix *allowed;
	size_t nallowed;
	size_t msg; /* which message it is in */
};

struct decoded {
	size_t nmsgs;
	struct dpeer *peers;
	size_t npeers;
};

static void decoded_free(struct decoded *d)
{
	size_t i;

	for (i = 0; i < d->npeers; i++)
		free(d->peers[i].allowed);
	free(d->peers);
	memset(d, 0, sizeof(*d));
}

static void decode_allowed(const struct nlattr *nest, struct dpeer *p)
{
	const struct nlattr *ip, *a;

	for (ip = mnl_attr_get_payload(nest); attr_in(ip, nest_end(nest)); ip = mnl_attr_next(ip)) {
		struct isim_prefix pr;
		bool fam = false, addr = false, cidr = false;

		memset(&pr, 0, sizeof(pr));
		assert_int_equal(mnl_attr_get_type(ip), 0);
		for (a = mnl_attr_get_payload(ip); attr_in(a, nest_end(ip)); a = mnl_attr_next(a)) {
			switch (mnl_attr_get_type(a)) {
			case WGALLOWEDIP_A_FAMILY:
				assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U16), 0);
				pr.family = (uint8_t)mnl_attr_get_u16(a);
				fam = true;
				break;
			case WGALLOWEDIP_A_IPADDR:
				assert_true(mnl_attr_get_payload_len(a) == 4 || mnl_attr_get_payload_len(a) == 16);
				memcpy(pr.addr, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
				addr = true;
				break;
			case WGALLOWEDIP_A_CIDR_MASK:
				assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U8), 0);
				pr.len = mnl_attr_get_u8(a);
				cidr = true;
				break;
			default:
				fail_msg("allowed IP attribute %u", mnl_attr_get_type(a));
			}
		}
		assert_true(fam && addr && cidr);
		p->allowed = realloc(p->allowed, (p->nallowed + 1) * sizeof(*p->allowed));
		assert_non_null(p->allowed);
		p->allowed[p->nallowed++] = pr;
	}
}

static void decode_peer(const struct nlattr *nest, struct decoded *d)
{
	const struct nlattr *a;
	struct dpeer *p;
	bool key = false;

	d->peers = realloc(d->peers, (d->npeers + 1) * sizeof(*d->peers));
	assert_non_null(d->peers);
	p = &d->peers[d->npeers++];
	memset(p, 0, sizeof(*p));
	p->msg = d->nmsgs;
	assert_int_equal(mnl_attr_get_type(nest), 0);
	for (a = mnl_attr_get_payload(nest); attr_in(a, nest_end(nest)); a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case WGPEER_A_PUBLIC_KEY:
			assert_int_equal(mnl_attr_validate2(a, MNL_TYPE_BINARY, WG_KEY_LEN), 0);
			memcpy(p->key, mnl_attr_get_payload(a), WG_KEY_LEN);
			key = true;
			break;
		case WGPEER_A_FLAGS:
			assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
			p->flags = mnl_attr_get_u32(a);
			p->has_flags = true;
			break;
		case WGPEER_A_ENDPOINT:
			p->eplen = mnl_attr_get_payload_len(a);
			assert_true(p->eplen == sizeof(struct sockaddr_in) || p->eplen == sizeof(struct sockaddr_in6));
			memcpy(&p->ep, mnl_attr_get_payload(a), p->eplen);
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U16), 0);
			p->keepalive = mnl_attr_get_u16(a);
			p->has_keepalive = true;
			break;
		case WGPEER_A_ALLOWEDIPS:
			decode_allowed(a, p);
			break;
		default:
			fail_msg("peer attribute %u", mnl_attr_get_type(a));
		}
	}
	assert_true(key);
}

/* Every message of a set: header, generic netlink header, the interface
 * name first, then the peers. */
static void decode_set(const struct isim_buf *b, size_t count, size_t max_size, struct decoded *d)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->s;
	int rem = (int)b->len;

	memset(d, 0, sizeof(*d));
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
		const struct nlattr *a;
		bool first = true;

		assert_true(nlh->nlmsg_len <= max_size);
		assert_int_equal(nlh->nlmsg_type, FAMILY);
		assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
		assert_int_equal(nlh->nlmsg_seq, SEQ + d->nmsgs);
		assert_int_equal(g->cmd, WG_CMD_SET_DEVICE);
		assert_int_equal(g->version, WG_GENL_VERSION);
		for (a = mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN); attr_in(a, mnl_nlmsg_get_payload_tail(nlh));
		     a = mnl_attr_next(a)) {
			if (first) {
				assert_int_equal(mnl_attr_get_type(a), WGDEVICE_A_IFNAME);
				assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
				assert_string_equal(mnl_attr_get_str(a), "wg0");
				first = false;
				continue;
			}
			assert_int_equal(mnl_attr_get_type(a), WGDEVICE_A_PEERS);
			{
				const struct nlattr *peer;

				for (peer = mnl_attr_get_payload(a); attr_in(peer, nest_end(a));
				     peer = mnl_attr_next(peer))
					decode_peer(peer, d);
			}
		}
		assert_false(first);
		d->nmsgs++;
	}
	assert_int_equal(rem, 0);
	assert_int_equal(d->nmsgs, count);
}

/* ---- fixtures -------------------------------------------------------------- */

static struct isim_prefix pfx(const char *addr, unsigned len)
{
	struct isim_prefix p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	p.len = (uint8_t)len;
	assert_int_equal(inet_pton(p.family, addr, p.addr), 1);
	return p;
}

static void key_of(uint8_t key[static WG_KEY_LEN], uint8_t seed)
{
	unsigned i;

	for (i = 0; i < WG_KEY_LEN; i++)
		key[i] = (uint8_t)(seed + i * 7);
}

static union isim_wg_endpoint ep4(const char *addr, uint16_t port)
{
	union isim_wg_endpoint e;

	memset(&e, 0, sizeof(e));
	e.in.sin_family = AF_INET;
	e.in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &e.in.sin_addr), 1);
	return e;
}

static union isim_wg_endpoint ep6(const char *addr, uint16_t port)
{
	union isim_wg_endpoint e;

	memset(&e, 0, sizeof(e));
	e.in6.sin6_family = AF_INET6;
	e.in6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &e.in6.sin6_addr), 1);
	return e;
}

/* ---- set ------------------------------------------------------------------- */

static void test_set_peers(void **state)
{
	struct isim_prefix a_ips[] = { pfx("10.0.0.1", 32), pfx("fd00:1::", 64) };
	struct isim_prefix b_ips[] = { pfx("10.9.0.0", 16) };
	struct isim_prefix c_ips[] = { pfx("10.1.0.0", 16) };
	struct isim_wg_peer ch[3];
	struct isim_buf out = { 0 };
	struct isim_error err;
	struct decoded d;
	size_t count = 99;

	(void)state;
	memset(ch, 0, sizeof(ch));
	key_of(ch[0].public_key, 1);
	ch[0].flags = ISIM_WG_PEER_REPLACE_ALLOWED | ISIM_WG_PEER_HAS_KEEPALIVE;
	ch[0].endpoint = ep4("192.0.2.1", 51820);
	ch[0].keepalive = 25;
	ch[0].allowed = a_ips;
	ch[0].nallowed = 2;
	key_of(ch[1].public_key, 2);
	ch[1].flags = ISIM_WG_PEER_REMOVE | ISIM_WG_PEER_REPLACE_ALLOWED;
	ch[1].endpoint = ep4("192.0.2.2", 1);
	ch[1].allowed = b_ips; /* a removal reads nothing else */
	ch[1].nallowed = 1;
	key_of(ch[2].public_key, 3);
	ch[2].flags = ISIM_WG_PEER_UPDATE_ONLY;
	ch[2].endpoint = ep6("2001:db8::1", 51821);
	ch[2].allowed = c_ips;
	ch[2].nallowed = 1;

	isim_error_clear(&err);
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, ch, 3, 8192, &out, &count, &err), 0);
	assert_int_equal(count, 1);
	decode_set(&out, count, 8192, &d);
	assert_int_equal(d.npeers, 3);

	assert_memory_equal(d.peers[0].key, ch[0].public_key, WG_KEY_LEN);
	assert_true(d.peers[0].has_flags);
	assert_int_equal(d.peers[0].flags, WGPEER_F_REPLACE_ALLOWEDIPS);
	assert_int_equal(d.peers[0].eplen, sizeof(struct sockaddr_in));
	assert_int_equal(d.peers[0].ep.in.sin_family, AF_INET);
	assert_int_equal(d.peers[0].ep.in.sin_port, htons(51820));
	assert_memory_equal(&d.peers[0].ep.in.sin_addr, &ch[0].endpoint.in.sin_addr, 4);
	assert_true(d.peers[0].has_keepalive);
	assert_int_equal(d.peers[0].keepalive, 25);
	assert_int_equal(d.peers[0].nallowed, 2);
	assert_true(isim_prefix_equal(&d.peers[0].allowed[0], &a_ips[0]));
	assert_true(isim_prefix_equal(&d.peers[0].allowed[1], &a_ips[1]));

	assert_memory_equal(d.peers[1].key, ch[1].public_key, WG_KEY_LEN);
	assert_int_equal(d.peers[1].flags, WGPEER_F_REMOVE_ME);
	assert_int_equal(d.peers[1].eplen, 0);
	assert_false(d.peers[1].has_keepalive);
	assert_int_equal(d.peers[1].nallowed, 0);

	assert_memory_equal(d.peers[2].key, ch[2].public_key, WG_KEY_LEN);
	assert_int_equal(d.peers[2].flags, WGPEER_F_UPDATE_ONLY);
	assert_int_equal(d.peers[2].eplen, sizeof(struct sockaddr_in6));
	assert_int_equal(d.peers[2].ep.in6.sin6_family, AF_INET6);
	assert_int_equal(d.peers[2].ep.in6.sin6_port, htons(51821));
	assert_memory_equal(&d.peers[2].ep.in6.sin6_addr, &ch[2].endpoint.in6.sin6_addr, 16);
	assert_false(d.peers[2].has_keepalive);
	assert_int_equal(d.peers[2].nallowed, 1);
	assert_true(isim_prefix_equal(&d.peers[2].allowed[0], &c_ips[0]));
	decoded_free(&d);

	/* No change at all is one message naming the device. */
	isim_buf_free(&out);
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, ch, 0, 8192, &out, &count, &err), 0);
	assert_int_equal(count, 1);
	decode_set(&out, count, 8192, &d);
	assert_int_equal(d.npeers, 0);
	decoded_free(&d);
	isim_buf_free(&out);
}

/* The bytes one more allowed IP takes: its nest, family, address, length. */
static size_t allowed_size(const struct isim_prefix *p)
{
	return MNL_ATTR_HDRLEN + MNL_ALIGN(MNL_ATTR_HDRLEN + 2) +
	       MNL_ALIGN(MNL_ATTR_HDRLEN + (p->family == AF_INET ? 4 : 16)) + MNL_ALIGN(MNL_ATTR_HDRLEN + 1);
}

static void test_set_split(void **state)
{
	enum {
		N = 2000
	};
	struct isim_prefix *ips = calloc(N, sizeof(*ips));
	struct isim_wg_peer ch;
	struct isim_buf out = { 0 };
	struct isim_error err;
	struct decoded d;
	size_t count = 0, i, k = 0;
	const struct nlmsghdr *nlh;
	int rem;

	(void)state;
	assert_non_null(ips);
	for (i = 0; i < N; i++) {
		char text[INET6_ADDRSTRLEN];

		if (i % 4 == 3) {
			snprintf(text, sizeof(text), "fd00::%zx:0", i);
			ips[i] = pfx(text, 112);
		} else {
			snprintf(text, sizeof(text), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
			ips[i] = pfx(text, 32);
		}
	}
	memset(&ch, 0, sizeof(ch));
	key_of(ch.public_key, 9);
	ch.flags = ISIM_WG_PEER_REPLACE_ALLOWED | ISIM_WG_PEER_HAS_KEEPALIVE | ISIM_WG_PEER_UPDATE_ONLY;
	ch.endpoint = ep4("198.51.100.7", 4242);
	ch.keepalive = 15;
	ch.allowed = ips;
	ch.nallowed = N;

	isim_error_clear(&err);
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, &ch, 1, 4096, &out, &count, &err), 0);
	assert_true(count > 1);
	decode_set(&out, count, 4096, &d);
	assert_int_equal(d.npeers, count);
	for (i = 0; i < d.npeers; i++) {
		const struct dpeer *p = &d.peers[i];
		size_t j;

		assert_int_equal(p->msg, i);
		assert_memory_equal(p->key, ch.public_key, WG_KEY_LEN);
		assert_true(p->has_flags);
		if (i == 0) {
			assert_int_equal(p->flags, WGPEER_F_REPLACE_ALLOWEDIPS | WGPEER_F_UPDATE_ONLY);
			assert_int_equal(p->eplen, sizeof(struct sockaddr_in));
			assert_true(p->has_keepalive);
			assert_int_equal(p->keepalive, 15);
		} else {
			/* Replacing again would drop what came before. */
			assert_int_equal(p->flags, WGPEER_F_UPDATE_ONLY);
			assert_int_equal(p->eplen, 0);
			assert_false(p->has_keepalive);
		}
		assert_true(p->nallowed > 0);
		for (j = 0; j < p->nallowed; j++, k++)
			assert_true(isim_prefix_equal(&p->allowed[j], &ips[k]));
	}
	/* Nothing lost, nothing twice. */
	assert_int_equal(k, N);
	/* The fewest messages: each but the last had no room for the next
	 * allowed IP. */
	k = 0;
	rem = (int)out.len;
	for (nlh = (const struct nlmsghdr *)out.s, i = 0; mnl_nlmsg_ok(nlh, rem);
	     nlh = mnl_nlmsg_next(nlh, &rem), i++) {
		k += d.peers[i].nallowed;
		if (i + 1 < count)
			assert_true(nlh->nlmsg_len + allowed_size(&ips[k]) > 4096);
	}
	decoded_free(&d);
	isim_buf_free(&out);

	/* Many small peers pack the same way, each whole where it fits. */
	{
		enum {
			NP = 300
		};
		struct isim_wg_peer *many = calloc(NP, sizeof(*many));

		assert_non_null(many);
		for (i = 0; i < NP; i++) {
			key_of(many[i].public_key, (uint8_t)i);
			many[i].public_key[31] = (uint8_t)(i >> 8);
			many[i].flags = ISIM_WG_PEER_REPLACE_ALLOWED;
			many[i].allowed = &ips[i * 3];
			many[i].nallowed = 3;
		}
		assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, many, NP, 4096, &out, &count, &err), 0);
		assert_true(count > 1);
		decode_set(&out, count, 4096, &d);
		assert_int_equal(d.npeers, NP);
		for (i = 0; i < NP; i++) {
			assert_memory_equal(d.peers[i].key, many[i].public_key, WG_KEY_LEN);
			assert_int_equal(d.peers[i].flags, WGPEER_F_REPLACE_ALLOWEDIPS);
			assert_int_equal(d.peers[i].nallowed, 3);
			assert_true(isim_prefix_equal(&d.peers[i].allowed[2], &ips[i * 3 + 2]));
		}
		decoded_free(&d);
		isim_buf_free(&out);
		free(many);
	}

	/* A message too small for even one peer is refused, and out keeps
	 * what it held. */
	isim_buf_puts(&out, "x");
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, &ch, 1, 64, &out, &count, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(out.len, 1);
	assert_int_equal(count, 0);
	isim_buf_free(&out);
	free(ips);
}

static void test_set_refused(void **state)
{
	struct isim_prefix bad = pfx("10.0.0.0", 8);
	struct isim_wg_peer ch;
	struct isim_buf out = { 0 };
	struct isim_error err;
	size_t count;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	isim_error_clear(&err);
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "", SEQ, &ch, 1, 8192, &out, &count, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "a-name-too-long-x", SEQ, &ch, 1, 8192, &out, &count, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	ch.endpoint.sa.sa_family = AF_UNIX;
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, &ch, 1, 8192, &out, &count, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	ch.endpoint.sa.sa_family = AF_UNSPEC;
	bad.len = 33;
	ch.allowed = &bad;
	ch.nallowed = 1;
	assert_int_equal(isim_wg_nl_build_set(FAMILY, "wg0", SEQ, &ch, 1, 8192, &out, &count, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(out.len, 0);
	isim_buf_free(&out);
}

static void test_get_request(void **state)
{
	struct isim_buf out = { 0 };
	struct isim_error err;
	const struct nlmsghdr *nlh;
	const struct genlmsghdr *g;
	const struct nlattr *a;
	int n = 0;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_wg_nl_build_get(FAMILY, "wg0", SEQ, &out, &err), 0);
	nlh = (const struct nlmsghdr *)out.s;
	assert_true(mnl_nlmsg_ok(nlh, (int)out.len));
	assert_int_equal(nlh->nlmsg_len, out.len);
	assert_int_equal(nlh->nlmsg_type, FAMILY);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, SEQ);
	g = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(g->cmd, WG_CMD_GET_DEVICE);
	assert_int_equal(g->version, WG_GENL_VERSION);
	for (a = mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN); attr_in(a, mnl_nlmsg_get_payload_tail(nlh));
	     a = mnl_attr_next(a)) {
		assert_int_equal(mnl_attr_get_type(a), WGDEVICE_A_IFNAME);
		assert_string_equal(mnl_attr_get_str(a), "wg0");
		n++;
	}
	assert_int_equal(n, 1);
	isim_buf_free(&out);
	assert_int_equal(isim_wg_nl_build_get(FAMILY, "", SEQ, &out, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	isim_buf_free(&out);
}

/* ---- dump replies, built as the kernel builds them ------------------------- */

union msgbuf {
	struct nlmsghdr h;
	char b[8192];
};

static struct nlmsghdr *reply_start(union msgbuf *m)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(m, 0, sizeof(*m));
	nlh = mnl_nlmsg_put_header(m->b);
	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	return nlh;
}

/* The kernel marks its nests (nla_nest_start sets NLA_F_NESTED). */
static struct nlattr *nest(struct nlmsghdr *nlh, uint16_t type)
{
	return mnl_attr_nest_start(nlh, type | NLA_F_NESTED);
}

static void put_allowed(struct nlmsghdr *nlh, uint16_t family, const void *addr, size_t alen, uint8_t cidr)
{
	struct nlattr *n = nest(nlh, 0);

	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, family);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, alen, addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, cidr);
	mnl_attr_nest_end(nlh, n);
}

static void put_prefix(struct nlmsghdr *nlh, const char *addr, unsigned len)
{
	struct isim_prefix p = pfx(addr, len);

	put_allowed(nlh, p.family, p.addr, p.family == AF_INET ? 4 : 16, p.len);
}

static const uint8_t sk[WG_KEY_LEN] = { 0x08, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
					16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 0x40 };

static void put_peer_stats(struct nlmsghdr *nlh)
{
	struct __kernel_timespec ts = { 1700000000, 5 };
	uint8_t psk[WG_KEY_LEN] = { 0 };

	mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, sizeof(psk), psk);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), &ts);
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 1234);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 5678);
	mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
}

/* Message 1: the device and peers 1 and 2 (2's allowed IPs begin);
 * message 2: the rest of peer 2, and peer 3. */
static void dump_msgs(union msgbuf *m1, union msgbuf *m2, bool with_public)
{
	struct nlmsghdr *nlh = reply_start(m1);
	struct nlattr *peers, *peer, *ips;
	uint8_t pk[WG_KEY_LEN], key[WG_KEY_LEN];
	union isim_wg_endpoint e;

	assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0x42);
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 7);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg0");
	mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, sk);
	if (with_public)
		mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN, pk);
	peers = nest(nlh, WGDEVICE_A_PEERS);
	peer = nest(nlh, 0);
	key_of(key, 1);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
	put_peer_stats(nlh);
	e = ep4("192.0.2.1", 51820);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(e.in), &e.in);
	ips = nest(nlh, WGPEER_A_ALLOWEDIPS);
	put_prefix(nlh, "10.0.0.0", 24);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = nest(nlh, 0);
	key_of(key, 2);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
	e = ep6("2001:db8::2", 51821);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(e.in6), &e.in6);
	ips = nest(nlh, WGPEER_A_ALLOWEDIPS);
	put_prefix(nlh, "10.2.0.1", 32);
	put_prefix(nlh, "fd00:2::", 64);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);

	nlh = reply_start(m2);
	peers = nest(nlh, WGDEVICE_A_PEERS);
	peer = nest(nlh, 0);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
	ips = nest(nlh, WGPEER_A_ALLOWEDIPS);
	put_prefix(nlh, "10.2.0.2", 32);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = nest(nlh, 0);
	key_of(key, 3);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key);
	/* An attribute from a newer kernel is skipped. */
	mnl_attr_put_u32(nlh, WGPEER_A_MAX + 1, 77);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
}

static struct nlmsghdr *control_msg(union msgbuf *m, uint16_t type, int error)
{
	struct nlmsghdr *nlh;

	memset(m, 0, sizeof(*m));
	nlh = mnl_nlmsg_put_header(m->b);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = SEQ;
	if (type == NLMSG_ERROR) {
		struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

		e->error = error;
	} else {
		int *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

		*e = error;
	}
	return nlh;
}

static int parse(const union msgbuf *m, struct isim_wg_device *d, struct isim_error *err)
{
	return isim_wg_nl_parse_get(m->b, m->h.nlmsg_len, d, err);
}

static void test_parse_dump(void **state)
{
	union msgbuf *m1 = malloc(sizeof(*m1)), *m2 = malloc(sizeof(*m2)), *m3 = malloc(sizeof(*m3));
	struct isim_wg_device *d = calloc(1, sizeof(*d));
	struct isim_error err;
	uint8_t pk[WG_KEY_LEN], key[WG_KEY_LEN];
	struct isim_prefix p;
	int pass;

	(void)state;
	assert_true(m1 && m2 && m3 && d);
	assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
	/* With the public key the kernel sends, and without it (derived). */
	for (pass = 0; pass < 2; pass++) {
		isim_error_clear(&err);
		memset(d, 0, sizeof(*d));
		dump_msgs(m1, m2, pass == 0);
		assert_int_equal(parse(m1, d, &err), 0);
		assert_int_equal(parse(m2, d, &err), 0);
		control_msg(m3, NLMSG_DONE, 0);
		assert_int_equal(parse(m3, d, &err), 1);

		assert_string_equal(d->name, "wg0");
		assert_true(d->has_public_key);
		assert_memory_equal(d->public_key, pk, WG_KEY_LEN);
		assert_int_equal(d->listen_port, 51820);
		assert_int_equal(d->fwmark, 0x42);
		assert_int_equal(d->npeers, 3);

		key_of(key, 1);
		assert_memory_equal(d->peers[0].public_key, key, WG_KEY_LEN);
		assert_int_equal(d->peers[0].endpoint.sa.sa_family, AF_INET);
		assert_int_equal(d->peers[0].endpoint.in.sin_port, htons(51820));
		assert_int_equal(d->peers[0].keepalive, 25);
		assert_int_equal(d->peers[0].last_handshake, 1700000000);
		assert_int_equal(d->peers[0].rx_bytes, 5678);
		assert_int_equal(d->peers[0].tx_bytes, 1234);
		assert_int_equal(d->peers[0].nallowed, 1);
		p = pfx("10.0.0.0", 24);
		assert_true(isim_prefix_equal(&d->peers[0].allowed[0], &p));

		/* Peer 2, split over the two messages, is one peer. */
		key_of(key, 2);
		assert_memory_equal(d->peers[1].public_key, key, WG_KEY_LEN);
		assert_int_equal(d->peers[1].endpoint.sa.sa_family, AF_INET6);
		assert_int_equal(d->peers[1].endpoint.in6.sin6_port, htons(51821));
		assert_int_equal(d->peers[1].nallowed, 3);
		p = pfx("10.2.0.1", 32);
		assert_true(isim_prefix_equal(&d->peers[1].allowed[0], &p));
		p = pfx("fd00:2::", 64);
		assert_true(isim_prefix_equal(&d->peers[1].allowed[1], &p));
		p = pfx("10.2.0.2", 32);
		assert_true(isim_prefix_equal(&d->peers[1].allowed[2], &p));

		key_of(key, 3);
		assert_memory_equal(d->peers[2].public_key, key, WG_KEY_LEN);
		assert_int_equal(d->peers[2].endpoint.sa.sa_family, AF_UNSPEC);
		assert_int_equal(d->peers[2].nallowed, 0);
		free(d->peers[0].allowed);
		free(d->peers[1].allowed);
		free(d->peers);
	}

	/* An acknowledgement adds nothing; a refusal is an I/O error with
	 * the kernel's errno, in NLMSG_ERROR or in NLMSG_DONE. */
	memset(d, 0, sizeof(*d));
	control_msg(m3, NLMSG_ERROR, 0);
	assert_int_equal(parse(m3, d, &err), 0);
	control_msg(m3, NLMSG_ERROR, -ENODEV);
	errno = 0;
	assert_int_equal(parse(m3, d, &err), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_non_null(strstr(err.msg, strerror(ENODEV)));
	/* The kernel's own words, when it gives them, with control
	 * characters replaced. */
	{
		struct nlmsghdr *nlh = control_msg(m3, NLMSG_ERROR, -EINVAL);

		nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "peer has no key\x1b[2J");
		assert_int_equal(parse(m3, d, &err), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(err.kind, ISIM_ERR_IO);
		assert_string_equal(err.msg, "the kernel refused the request: Invalid argument (peer has no key?[2J)");
	}
	control_msg(m3, NLMSG_DONE, -EINTR);
	assert_int_equal(parse(m3, d, &err), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_int_equal(d->npeers, 0);
	free(d);
	free(m1);
	free(m2);
	free(m3);
}

/* ---- malformed replies ------------------------------------------------------ */

enum bad {
	BAD_TRUNCATED,
	BAD_KEY_LEN,
	BAD_CIDR,
	BAD_FAMILY_MISMATCH,
	BAD_FAMILY,
	BAD_HOST_BITS,
	BAD_NO_KEY,
	BAD_TWICE,
	BAD_ENDPOINT,
	BAD_PORT_LEN,
	BAD_IFNAME,
	BAD_PUBLIC,
	BAD_CMD,
	BAD_TIME,
	BAD_NO_CIDR,
	BAD_LEN,
	BAD_GARBAGE,
	BAD_DONE,
	BAD_ERROR,
	BAD_TYPE,
	BAD_COUNT
};

static const char *const bad_msg[BAD_COUNT] = {
	[BAD_TRUNCATED] = "cut short",
	[BAD_KEY_LEN] = "WGPEER_A_PUBLIC_KEY (31 bytes) is malformed",
	[BAD_CIDR] = "prefix length 33 (at most 32)",
	[BAD_FAMILY_MISMATCH] = "allowed IP of family AF_INET with a 16-byte address",
	[BAD_FAMILY] = "allowed IP of address family 7",
	[BAD_HOST_BITS] = "allowed IP 10.0.0.1/24 has bits set past its length",
	[BAD_NO_KEY] = "a peer without WGPEER_A_PUBLIC_KEY",
	[BAD_TWICE] = "WGPEER_A_ENDPOINT twice",
	[BAD_ENDPOINT] = "is neither a sockaddr_in nor a sockaddr_in6",
	[BAD_PORT_LEN] = "WGDEVICE_A_LISTEN_PORT (4 bytes) is malformed",
	[BAD_IFNAME] = "is not an interface name",
	[BAD_PUBLIC] = "not that of its private key",
	[BAD_CMD] = "not WG_CMD_GET_DEVICE",
	[BAD_TIME] = "is not a time",
	[BAD_NO_CIDR] = "lacks its prefix length",
	[BAD_LEN] = "says it has",
	[BAD_GARBAGE] = "cut short",
	[BAD_DONE] = "malformed NLMSG_DONE",
	[BAD_ERROR] = "malformed NLMSG_ERROR",
	[BAD_TYPE] = "unexpected message type 1",
};

static size_t bad_reply(union msgbuf *m, enum bad which)
{
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer, *ips;
	uint8_t key[WG_KEY_LEN], addr[16] = { 10 };
	union isim_wg_endpoint e = ep4("192.0.2.1", 1);

	switch (which) {
	case BAD_DONE:
		nlh = control_msg(m, NLMSG_DONE, 5);
		return nlh->nlmsg_len;
	case BAD_ERROR:
		nlh = control_msg(m, NLMSG_ERROR, -ENODEV);
		nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
		return nlh->nlmsg_len;
	case BAD_TYPE:
		nlh = control_msg(m, NLMSG_NOOP, 0);
		return nlh->nlmsg_len;
	default:
		break;
	}
	nlh = reply_start(m);
	if (which == BAD_CMD)
		((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd = WG_CMD_SET_DEVICE;
	if (which == BAD_PORT_LEN)
		mnl_attr_put_u32(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	if (which == BAD_IFNAME)
		mnl_attr_put(nlh, WGDEVICE_A_IFNAME, 4, "w\0g");
	if (which == BAD_PUBLIC) {
		mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, sk);
		mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN, sk);
	}
	peers = nest(nlh, WGDEVICE_A_PEERS);
	peer = nest(nlh, 0);
	key_of(key, 1);
	if (which != BAD_NO_KEY)
		mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, which == BAD_KEY_LEN ? 31 : WG_KEY_LEN, key);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, which == BAD_ENDPOINT ? sizeof(e.in6) : sizeof(e.in), &e);
	if (which == BAD_TWICE)
		mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(e.in), &e);
	if (which == BAD_TIME) {
		struct __kernel_timespec ts = { 1, 1000000000 };

		mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), &ts);
	}
	ips = nest(nlh, WGPEER_A_ALLOWEDIPS);
	put_prefix(nlh, "10.0.0.0", 8);
	switch (which) {
	case BAD_CIDR:
		put_allowed(nlh, AF_INET, addr, 4, 33);
		break;
	case BAD_FAMILY_MISMATCH:
		put_allowed(nlh, AF_INET, addr, 16, 8);
		break;
	case BAD_FAMILY:
		put_allowed(nlh, 7, addr, 4, 8);
		break;
	case BAD_HOST_BITS:
		addr[3] = 1;
		put_allowed(nlh, AF_INET, addr, 4, 24);
		break;
	case BAD_NO_CIDR: {
		struct nlattr *n = nest(nlh, 0);

		mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, addr);
		mnl_attr_nest_end(nlh, n);
		break;
	}
	default:
		break;
	}
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	if (which == BAD_TRUNCATED) {
		/* The allowed IPs' last attribute claims more than is there. */
		struct nlattr *last = (struct nlattr *)((char *)nlh + nlh->nlmsg_len - MNL_ALIGN(MNL_ATTR_HDRLEN + 1));

		last->nla_len += 8;
	}
	if (which == BAD_GARBAGE) {
		/* Three bytes after the last attribute: no attribute at all. */
		peers->nla_len += 3;
		nlh->nlmsg_len += 4;
	}
	if (which == BAD_LEN)
		return nlh->nlmsg_len + 4;
	return nlh->nlmsg_len;
}

static void test_parse_malformed(void **state)
{
	union msgbuf *m = malloc(sizeof(*m));
	int which;

	(void)state;
	assert_non_null(m);
	/* The fixture is good but for the fault put into it. */
	{
		struct isim_wg_device d;
		struct isim_error err;

		memset(&d, 0, sizeof(d));
		isim_error_clear(&err);
		reply_start(m);
		m->h.nlmsg_len = (uint32_t)bad_reply(m, BAD_COUNT);
		assert_int_equal(isim_wg_nl_parse_get(m->b, m->h.nlmsg_len, &d, &err), 0);
		assert_int_equal(d.npeers, 1);
		assert_int_equal(d.peers[0].nallowed, 1);
		free(d.peers[0].allowed);
		free(d.peers);
	}
	for (which = 0; which < BAD_COUNT; which++) {
		struct isim_wg_device d;
		struct isim_error err;
		size_t len = bad_reply(m, (enum bad)which);
		int r;

		memset(&d, 0, sizeof(d));
		isim_error_clear(&err);
		r = isim_wg_nl_parse_get(m->b, len, &d, &err);
		if (r != -1 || err.kind != ISIM_ERR_DATA || !strstr(err.msg, bad_msg[which]))
			print_error("case %d: %d, kind %d, '%s'\n", which, r, err.kind, err.msg);
		assert_int_equal(r, -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_non_null(strstr(err.msg, bad_msg[which]));
		if (d.peers) {
			size_t i;

			for (i = 0; i < d.npeers; i++)
				free(d.peers[i].allowed);
			free(d.peers);
		}
	}
	free(m);
}

/* ---- the socket --------------------------------------------------------------- */

static void test_open(void **state)
{
	struct isim_wg wg;
	struct isim_error err;
	int r;

	(void)state;
	memset(&wg, 0, sizeof(wg));
	isim_error_clear(&err);
	snprintf(wg.name, sizeof(wg.name), "isim-none0");
	assert_int_equal(isim_wg_nl_open(&wg, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.msg, "no interface 'isim-none0'");
	assert_null(wg.nl);

	/* lo exists and is no WireGuard device: without the module there is
	 * no family; with it, the dump says so (or, unprivileged, that only
	 * CAP_NET_ADMIN may ask). */
	memset(&wg, 0, sizeof(wg));
	snprintf(wg.name, sizeof(wg.name), "lo");
	r = isim_wg_nl_open(&wg, &err);
	assert_int_equal(r, -1);
	assert_null(wg.nl);
	if (err.kind == ISIM_ERR_UNAVAILABLE)
		skip();
	if (err.kind == ISIM_ERR_PERM)
		return;
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_non_null(strstr(err.msg, "'lo' is not a WireGuard device"));
	isim_wg_nl_close(&wg);
}

/* The socket's requests and replies, against a family the kernel always
 * has: its controller knows neither WireGuard command and refuses both,
 * the dump in its NLMSG_ERROR, the change in its acknowledgement. */
static void test_socket_refusals(void **state)
{
	struct isim_wg_device *d = (struct isim_wg_device *)1;
	struct isim_wg_peer ch;
	struct isim_wg wg;
	struct isim_error err;

	(void)state;
	memset(&wg, 0, sizeof(wg));
	memset(&ch, 0, sizeof(ch));
	snprintf(wg.name, sizeof(wg.name), "lo");
	wg.backend = ISIM_WG_NETLINK;
	wg.family = GENL_ID_CTRL;
	isim_error_clear(&err);
	if (isim_wg_nl_get(&wg, &d, &err) < 0 && err.kind == ISIM_ERR_UNAVAILABLE)
		skip();
	assert_null(d);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.msg, "'lo' is not a WireGuard device");
	assert_null(wg.nl);
	/* A second request opens a fresh socket. */
	isim_error_clear(&err);
	assert_int_equal(isim_wg_nl_set(&wg, &ch, 1, &err), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	assert_non_null(strstr(err.msg, "'lo': change message 1 of 1: the kernel refused the request: "));
	isim_wg_nl_close(&wg);
	assert_null(wg.nl);
}

/* The same through the one interface, where no UAPI socket is. */
static void test_open_dispatch(void **state)
{
	struct isim_wg *wg = (struct isim_wg *)1;
	struct isim_error err;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_wg_open("isim-none0", "/nonexistent/isim-wg", &wg, &err), -1);
	assert_null(wg);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_int_equal(isim_wg_open("lo", "/nonexistent/isim-wg", &wg, &err), -1);
	assert_null(wg);
	if (err.kind == ISIM_ERR_UNAVAILABLE)
		skip();
	assert_true(err.kind == ISIM_ERR_DATA || err.kind == ISIM_ERR_PERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_peers),
		cmocka_unit_test(test_set_split),
		cmocka_unit_test(test_set_refused),
		cmocka_unit_test(test_get_request),
		cmocka_unit_test(test_parse_dump),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_dispatch),
		cmocka_unit_test(test_socket_refusals),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
