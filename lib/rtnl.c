/* SPDX-License-Identifier: MIT */
/* rtnetlink (RFC 3549; linux/rtnetlink.h) with libmnl: a link by name,
 * the IPv6 addresses of a link added, deleted and listed, and the
 * kernel's link and IPv6 address notifications. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "isim/rtnl.h"

_Static_assert(ISIM_RTNL_IFNAMSIZ == IFNAMSIZ, "interface name size");

/* What the kernel sends a dump in: it sizes its messages after the
 * largest buffer recvmsg(2) was given, up to 32 KiB (netlink_recvmsg). */
#define RECV_SIZE 32768u
/* Room for the notifications that come while the caller is busy, as
 * ip-monitor(8) asks for; more than net.core.rmem_max needs
 * CAP_NET_ADMIN (SO_RCVBUFFORCE). */
#define EVENTS_RCVBUF (1 << 20)
/* A dump interrupted by a change (NLM_F_DUMP_INTR) is asked for again,
 * this many times at most. */
#define DUMP_TRIES 10
/* A request for one address: the header, then IFA_LOCAL and IFA_ADDRESS
 * (16 bytes each), IFA_FLAGS (u32) and IFA_PROTO (u8). */
#define ADDR_REQ_SIZE                                                                          \
	(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifaddrmsg)) + 2 * (MNL_ATTR_HDRLEN + 16) + \
	 2 * (MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t))))
/* RTM_GETLINK: the header, then IFLA_IFNAME. */
#define LINK_REQ_SIZE (MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)) + MNL_ATTR_HDRLEN + MNL_ALIGN(IFNAMSIZ))

struct isim_rtnl {
	struct mnl_socket *req;
	struct mnl_socket *ev; /* NULL without events */
	uint32_t portid;       /* of req */
	uint32_t seq;
	char *buf;   /* RECV_SIZE bytes for replies */
	char *evbuf; /* RECV_SIZE bytes for events, so that fn may make requests */
};

/* ---- the sockets ------------------------------------------------------------- */

static enum isim_err refusal_kind(int errnum)
{
	switch (errnum) {
	case EPERM:
	case EACCES:
		return ISIM_ERR_PERM;
	case ENODEV:
		return ISIM_ERR_NOINPUT;
	default:
		return ISIM_ERR_IO;
	}
}

static struct mnl_socket *sock_open(int flags, unsigned groups, struct isim_error *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | flags);
	int e;

	if (!nl) {
		e = errno;
		isim_error_errno(err, e == EPERM || e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_UNAVAILABLE, e,
				 "cannot open a NETLINK_ROUTE socket");
		return NULL;
	}
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(nl);
		isim_error_errno(err, e == EPERM || e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO, e,
				 groups ? "cannot bind a NETLINK_ROUTE socket to the link and IPv6 address groups"
					: "cannot bind a NETLINK_ROUTE socket");
		return NULL;
	}
	return nl;
}

int isim_rtnl_open(struct isim_rtnl **out, bool events, struct isim_error *err)
{
	struct isim_rtnl *r = NULL;
	int one = 1, size = EVENTS_RCVBUF, ret = -1;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	r->buf = malloc(RECV_SIZE);
	if (events)
		r->evbuf = malloc(RECV_SIZE);
	if (!r->buf || (events && !r->evbuf)) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	r->req = sock_open(0, 0, err);
	if (!r->req)
		goto out;
	r->portid = mnl_socket_get_portid(r->req);
	/* Sequence numbers tell this socket's replies from a predecessor's; a
	 * clock is as good a start as any (ip(8) uses one too). */
	r->seq = (uint32_t)time(NULL);
	/* An error quotes the request's header only. Kernels before 4.3 lack
	 * the option and quote all of it, which fits RECV_SIZE as well. */
	(void)mnl_socket_setsockopt(r->req, NETLINK_CAP_ACK, &one, sizeof(one));
	if (events) {
		/* Without NETLINK_NO_ENOBUFS an overrun is told as ENOBUFS,
		 * which isim_rtnl_events passes on. */
		r->ev = sock_open(SOCK_NONBLOCK, RTMGRP_LINK | RTMGRP_IPV6_IFADDR, err);
		if (!r->ev)
			goto out;
		if (setsockopt(mnl_socket_get_fd(r->ev), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
		    setsockopt(mnl_socket_get_fd(r->ev), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot size the buffer of the events' socket");
			goto out;
		}
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	isim_rtnl_close(r);
	return ret;
}

void isim_rtnl_close(struct isim_rtnl *r)
{
	if (!r)
		return;
	if (r->req)
		mnl_socket_close(r->req);
	if (r->ev)
		mnl_socket_close(r->ev);
	free(r->buf);
	free(r->evbuf);
	free(r);
}

int isim_rtnl_event_fd(const struct isim_rtnl *r)
{
	return r && r->ev ? mnl_socket_get_fd(r->ev) : -1;
}

/* ---- requests and their replies ---------------------------------------------- */

/* err's message, after what was being done. */
static int rewrap(struct isim_error *err, const char *what)
{
	char inner[sizeof(err->msg)];

	if (!err)
		return -1;
	memcpy(inner, err->msg, sizeof(inner));
	inner[sizeof(inner) - 1] = '\0';
	return isim_error_set(err, err->kind, "%s: %s", what, inner);
}

/* A callback for each message of a reply: 0, or -1 with err set (without
 * saying what was asked). */
typedef int (*reply_fn)(const struct nlmsghdr *nlh, void *data, struct isim_error *err);

/* An errno as the kernel sends it, negated: 0 and *errnum, or -1. */
static int kernel_errno(const struct nlmsghdr *nlh, size_t min, int *errnum)
{
	int e;

	if (mnl_nlmsg_get_payload_len(nlh) < min)
		return -1;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e > 0 || e < -4095)
		return -1;
	*errnum = -e;
	return 0;
}

struct reply {
	bool done;
	bool intr;   /* NLM_F_DUMP_INTR: the dump may have missed a change */
	bool failed; /* fn failed, or a message was malformed: err is set */
	int errnum;  /* the kernel's refusal */
};

/* The messages of one datagram that answer seq. Others are skipped: they
 * are what is left of a reply that was not read to its end. */
static void reply_walk(const char *buf, size_t len, uint32_t seq, uint32_t portid, reply_fn fn, void *data,
		       struct reply *rp, struct isim_error *err)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int rem = (int)len, e;

	for (; !rp->done && mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			rp->intr = true;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			break;
		case NLMSG_ERROR:
			rp->done = true;
			if (kernel_errno(nlh, sizeof(struct nlmsgerr), &e) < 0) {
				if (!rp->failed)
					isim_error_set(err, ISIM_ERR_DATA, "the kernel's NLMSG_ERROR is malformed");
				rp->failed = true;
			} else {
				rp->errnum = e;
			}
			break;
		case NLMSG_DONE:
			/* A dump that failed half way says so here (netlink_dump). */
			rp->done = true;
			if (kernel_errno(nlh, sizeof(int), &e) == 0)
				rp->errnum = e;
			break;
		default:
			/* After a failure the rest of the reply is read, and
			 * dropped, so that the socket is ready for the next. */
			if (!rp->failed && fn && fn(nlh, data, err) < 0)
				rp->failed = true;
			break;
		}
	}
}

/*
 * Send req with the next sequence number and read its reply to the end
 * (the acknowledgement, or NLMSG_DONE of a dump), calling fn for each
 * message of it. 0; the kernel's errno when it refused (EINTR when a dump
 * was interrupted), err untouched; or -1 with err set, after what.
 */
static int transact(struct isim_rtnl *r, struct nlmsghdr *req, reply_fn fn, void *data, const char *what,
		    struct isim_error *err)
{
	struct reply rp = { false, false, false, 0 };
	uint32_t seq = ++r->seq;
	ssize_t n;

	req->nlmsg_seq = seq;
	n = mnl_socket_sendto(r->req, req, req->nlmsg_len);
	if (n < 0 || (size_t)n != req->nlmsg_len)
		return isim_error_errno(err, ISIM_ERR_IO, n < 0 ? errno : EMSGSIZE, "%s", what);
	while (!rp.done) {
		n = mnl_socket_recvfrom(r->req, r->buf, RECV_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The rest of this reply, if any, is skipped by the
			 * next request's walk. */
			return isim_error_errno(err, ISIM_ERR_IO, errno, "%s", what);
		}
		reply_walk(r->buf, (size_t)n, seq, r->portid, fn, data, &rp, err);
	}
	if (rp.failed)
		return rewrap(err, what);
	if (rp.errnum)
		return rp.errnum;
	return rp.intr ? EINTR : 0;
}

static int refused(struct isim_error *err, int errnum, const char *what)
{
	return isim_error_errno(err, refusal_kind(errnum), errnum, "%s", what);
}

/* The attributes of a message after its family header, by type up to
 * max (a type past max, a newer kernel's, is skipped, as netlink's rule
 * for a reader is): 0, or -1 when they do not fill the message end to end
 * (libmnl's walk stops quietly at bytes that are no attribute). */
static int parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, uint16_t max)
{
	const struct nlattr *a = mnl_nlmsg_get_payload_offset(nlh, hdrlen);
	size_t len, step;

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(hdrlen))
		return -1;
	len = mnl_nlmsg_get_payload_len(nlh) - MNL_ALIGN(hdrlen);
	while (len > 0) {
		if (len > INT_MAX || !mnl_attr_ok(a, (int)len))
			return -1;
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
		/* The last one may lack its padding. */
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			break;
		len -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return 0;
}

/* ---- links --------------------------------------------------------------------- */

static int parse_link(const struct nlmsghdr *nlh, struct isim_rtnl_link *out, struct isim_error *err)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	memset(out, 0, sizeof(*out));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return isim_error_set(err, ISIM_ERR_DATA, "a link message of %zu bytes has no ifinfomsg",
				      mnl_nlmsg_get_payload_len(nlh));
	if (ifi->ifi_index <= 0)
		return isim_error_set(err, ISIM_ERR_DATA, "a link message for interface index %d", ifi->ifi_index);
	if (parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX) < 0)
		return isim_error_set(err, ISIM_ERR_DATA, "the attributes of interface %d are malformed",
				      ifi->ifi_index);
	out->ifindex = (unsigned)ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME]) {
		size_t len = mnl_attr_get_payload_len(tb[IFLA_IFNAME]);

		if (mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0 || len > IFNAMSIZ ||
		    strlen(mnl_attr_get_str(tb[IFLA_IFNAME])) != len - 1)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "the IFLA_IFNAME of interface %d (%zu bytes) is not a name",
					      ifi->ifi_index, len);
		memcpy(out->name, mnl_attr_get_str(tb[IFLA_IFNAME]), len);
	}
	return 0;
}

struct link_ctx {
	struct isim_rtnl_link *out;
	bool found;
};

static int link_cb(const struct nlmsghdr *nlh, void *data, struct isim_error *err)
{
	struct link_ctx *c = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return isim_error_set(err, ISIM_ERR_DATA, "the kernel answered with message type %u, not RTM_NEWLINK",
				      nlh->nlmsg_type);
	if (parse_link(nlh, c->out, err) < 0)
		return -1;
	c->found = true;
	return 0;
}

int isim_rtnl_link_get(struct isim_rtnl *r, const char *name, struct isim_rtnl_link *out, struct isim_error *err)
{
	union {
		struct nlmsghdr h;
		char b[LINK_REQ_SIZE];
	} req;
	struct link_ctx c;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	size_t len = name ? strnlen(name, IFNAMSIZ) : 0;
	char what[64];
	int e;

	memset(out, 0, sizeof(*out));
	c.out = out;
	c.found = false;
	if (len == 0 || len >= IFNAMSIZ)
		return isim_error_set(err, ISIM_ERR_USAGE, "'%.*s' is not an interface name (1 to %d bytes)", IFNAMSIZ,
				      name ? name : "", IFNAMSIZ - 1);
	snprintf(what, sizeof(what), "cannot read interface '%s'", name);
	memset(&req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(&req);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	e = transact(r, nlh, link_cb, &c, what, err);
	if (e < 0)
		return -1;
	if (e == ENODEV)
		return isim_error_set(err, ISIM_ERR_NOINPUT, "no interface '%s'", name);
	if (e)
		return refused(err, e, what);
	if (!c.found)
		return isim_error_set(err, ISIM_ERR_DATA, "%s: the kernel's reply holds no link", what);
	return 0;
}

/* ---- addresses ----------------------------------------------------------------- */

/* The address of an IPv6 address message, into out: 1, 0 for a message
 * of another family, or -1 with err set. */
static int parse_addr(const struct nlmsghdr *nlh, unsigned *ifindex, struct isim_rtnl_addr *out, struct isim_error *err)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(out, 0, sizeof(*out));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return isim_error_set(err, ISIM_ERR_DATA, "an address message of %zu bytes has no ifaddrmsg",
				      mnl_nlmsg_get_payload_len(nlh));
	if (ifa->ifa_family != AF_INET6)
		return 0;
	if (ifa->ifa_prefixlen > 128)
		return isim_error_set(err, ISIM_ERR_DATA, "an IPv6 address of interface %u with prefix length %u",
				      ifa->ifa_index, ifa->ifa_prefixlen);
	if (parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX) < 0)
		return isim_error_set(err, ISIM_ERR_DATA, "the attributes of an address of interface %u are malformed",
				      ifa->ifa_index);
	/* For IPv6 the two are the same; IFA_LOCAL is there for a
	 * point-to-point peer's prefix only (inet6_fill_ifaddr). */
	a = tb[IFA_ADDRESS] ? tb[IFA_ADDRESS] : tb[IFA_LOCAL];
	if (!a || mnl_attr_get_payload_len(a) != sizeof(out->addr))
		return isim_error_set(err, ISIM_ERR_DATA,
				      "an IPv6 address of interface %u has no IFA_ADDRESS of 16 bytes", ifa->ifa_index);
	memcpy(out->addr, mnl_attr_get_payload(a), sizeof(out->addr));
	out->prefixlen = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	out->flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS]) {
		if (mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) < 0)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "the IFA_FLAGS of an address of interface %u is malformed",
					      ifa->ifa_index);
		out->flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	}
	if (tb[IFA_PROTO]) {
		if (mnl_attr_validate(tb[IFA_PROTO], MNL_TYPE_U8) < 0)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "the IFA_PROTO of an address of interface %u is malformed",
					      ifa->ifa_index);
		out->proto = mnl_attr_get_u8(tb[IFA_PROTO]);
	}
	*ifindex = ifa->ifa_index;
	return 1;
}

/* "fe80::1/64" into buf. */
static void addr_text(const uint8_t addr[static 16], uint8_t prefixlen, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(AF_INET6, addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(buf, size, "%s/%u", text, (unsigned)prefixlen);
}

/* RTM_NEWADDR or RTM_DELADDR of one address: as transact. */
static int addr6_change(struct isim_rtnl *r, uint16_t type, unsigned ifindex, const uint8_t addr[static 16],
			uint8_t prefixlen, uint32_t flags, uint8_t proto, const char *what, struct isim_error *err)
{
	union {
		struct nlmsghdr h;
		char b[ADDR_REQ_SIZE];
	} req;
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;

	memset(&req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(&req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_flags = (uint8_t)(flags & 0xff);
	/* The kernel gives an IPv6 address the scope of its kind
	 * (ipv6_addr_scope): link for fe80::/10. */
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, 16, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, addr);
	if (type == RTM_NEWADDR) {
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
		/* IFA_PROTO came with Linux 5.18; older kernels parse
		 * RTM_NEWADDR leniently and ignore it. */
		if (proto)
			mnl_attr_put_u8(nlh, IFA_PROTO, proto);
	}
	return transact(r, nlh, NULL, NULL, what, err);
}

int isim_rtnl_addr6_add(struct isim_rtnl *r, unsigned ifindex, const uint8_t addr[static 16], uint8_t prefixlen,
			uint32_t flags, uint8_t proto, bool *existed, struct isim_error *err)
{
	char text[INET6_ADDRSTRLEN + 8], what[128];
	int e;

	if (existed)
		*existed = false;
	addr_text(addr, prefixlen, text, sizeof(text));
	snprintf(what, sizeof(what), "cannot add %s to interface %u", text, ifindex);
	if (prefixlen > 128)
		return isim_error_set(err, ISIM_ERR_USAGE, "%s: the prefix length is more than 128", what);
	e = addr6_change(r, RTM_NEWADDR, ifindex, addr, prefixlen, flags, proto, what, err);
	if (e < 0)
		return -1;
	if (e == EEXIST) {
		if (existed)
			*existed = true;
		return 0;
	}
	if (e)
		return refused(err, e, what);
	return 0;
}

int isim_rtnl_addr6_del(struct isim_rtnl *r, unsigned ifindex, const uint8_t addr[static 16], uint8_t prefixlen,
			bool *missing, struct isim_error *err)
{
	char text[INET6_ADDRSTRLEN + 8], what[128];
	int e;

	if (missing)
		*missing = false;
	addr_text(addr, prefixlen, text, sizeof(text));
	snprintf(what, sizeof(what), "cannot delete %s from interface %u", text, ifindex);
	if (prefixlen > 128)
		return isim_error_set(err, ISIM_ERR_USAGE, "%s: the prefix length is more than 128", what);
	e = addr6_change(r, RTM_DELADDR, ifindex, addr, prefixlen, 0, 0, what, err);
	if (e < 0)
		return -1;
	/* inet6_addr_del: the device is there, the address is not. */
	if (e == EADDRNOTAVAIL) {
		if (missing)
			*missing = true;
		return 0;
	}
	if (e)
		return refused(err, e, what);
	return 0;
}

struct list_ctx {
	unsigned ifindex;
	struct isim_rtnl_addr *v;
	size_t n, cap;
};

static int list_cb(const struct nlmsghdr *nlh, void *data, struct isim_error *err)
{
	struct list_ctx *c = data;
	struct isim_rtnl_addr a;
	unsigned ifindex = 0;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return isim_error_set(err, ISIM_ERR_DATA, "the kernel answered with message type %u, not RTM_NEWADDR",
				      nlh->nlmsg_type);
	r = parse_addr(nlh, &ifindex, &a, err);
	if (r <= 0)
		return r;
	/* Without NETLINK_GET_STRICT_CHK the kernel dumps every
	 * interface's addresses; the filter is here. */
	if (c->ifindex && ifindex != c->ifindex)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct isim_rtnl_addr *v;

		if (cap > SIZE_MAX / sizeof(*v) || !(v = realloc(c->v, cap * sizeof(*v))))
			return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = a;
	return 0;
}

int isim_rtnl_addr6_list(struct isim_rtnl *r, unsigned ifindex, struct isim_rtnl_addr **out, size_t *n,
			 struct isim_error *err)
{
	union {
		struct nlmsghdr h;
		char b[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifaddrmsg))];
	} req;
	struct list_ctx c = { ifindex, NULL, 0, 0 };
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	char what[96];
	int tries, e = EINTR, ret = -1;

	*out = NULL;
	*n = 0;
	if (ifindex)
		snprintf(what, sizeof(what), "cannot list the IPv6 addresses of interface %u", ifindex);
	else
		snprintf(what, sizeof(what), "cannot list the IPv6 addresses");
	for (tries = 0; tries < DUMP_TRIES && e == EINTR; tries++) {
		c.n = 0;
		memset(&req, 0, sizeof(req));
		nlh = mnl_nlmsg_put_header(&req);
		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET6;
		e = transact(r, nlh, list_cb, &c, what, err);
		if (e < 0)
			goto out;
	}
	if (e) {
		refused(err, e, what);
		goto out;
	}
	*out = c.v;
	*n = c.n;
	c.v = NULL;
	ret = 0;
out:
	free(c.v);
	return ret;
}

/* ---- events -------------------------------------------------------------------- */

/* The event of one notification into ev: 1, 0 for one that is none of
 * ours, or -1 with err set. */
static int parse_event(const struct nlmsghdr *nlh, struct isim_rtnl_event *ev, struct isim_error *err)
{
	memset(ev, 0, sizeof(*ev));
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		ev->type = nlh->nlmsg_type == RTM_NEWLINK ? ISIM_RTNL_LINK_NEW : ISIM_RTNL_LINK_DEL;
		return parse_link(nlh, &ev->link, err) < 0 ? -1 : 1;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ev->type = nlh->nlmsg_type == RTM_NEWADDR ? ISIM_RTNL_ADDR_NEW : ISIM_RTNL_ADDR_DEL;
		return parse_addr(nlh, &ev->link.ifindex, &ev->addr, err);
	default:
		return 0;
	}
}

int isim_rtnl_events(struct isim_rtnl *r, int (*fn)(const struct isim_rtnl_event *ev, void *ctx), void *ctx,
		     struct isim_error *err)
{
	const char *what = "cannot read the kernel's link and address events";
	struct isim_rtnl_event ev;
	ssize_t n;
	int rem, ret;

	if (!r->ev)
		return isim_error_set(err, ISIM_ERR_USAGE, "%s: the socket was opened without them", what);
	for (;;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)r->evbuf;

		n = mnl_socket_recvfrom(r->ev, r->evbuf, RECV_SIZE);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		/* A notification cut short (ENOSPC: MSG_TRUNC) is one lost,
		 * as those the full buffer dropped (ENOBUFS). */
		if (n < 0 && (errno == ENOBUFS || errno == ENOSPC)) {
			memset(&ev, 0, sizeof(ev));
			ev.type = ISIM_RTNL_LINK_NEW;
			ret = fn(&ev, ctx);
			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return isim_error_errno(err, ISIM_ERR_IO, errno, "%s", what);
		for (rem = (int)n; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			int p = parse_event(nlh, &ev, err);

			if (p < 0)
				return rewrap(err, what);
			if (p == 0)
				continue;
			ret = fn(&ev, ctx);
			if (ret)
				return ret;
		}
	}
}
