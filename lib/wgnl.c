/* SPDX-License-Identifier: MIT */
/* WireGuard through the Linux kernel's generic netlink family "wireguard"
 * (linux/wireguard.h), with libmnl: the messages that read and change a
 * device, and the socket that carries them. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <sodium.h>

#include "wg-int.h"

_Static_assert(ISIM_WG_KEY_LEN == WG_KEY_LEN, "key length");
_Static_assert(ISIM_WG_IFNAMSIZ == IFNAMSIZ, "interface name size");

/* A netlink attribute's length is 16 bits, so a nest, and with it a
 * message built of one, stays below 64 KiB. */
#define MSG_MAX 65532u
/* What the kernel sends a dump in: it sizes its messages after the
 * largest buffer recvmsg(2) was given, up to 32 KiB (netlink_recvmsg). */
#define RECV_SIZE 32768u
/* An interrupted dump (NLM_F_DUMP_INTR: the peers changed while it ran)
 * is asked for again, as wg(8) does, this many times at most. */
#define DUMP_TRIES 10

/* ---- building requests ---------------------------------------------------- */

struct set_ctx {
	uint16_t family;
	const char *ifname;
	uint32_t seq;
	size_t max;
	char *msg; /* max bytes */
	struct nlmsghdr *nlh;
	struct nlattr *peers;
	size_t parts; /* peers, or parts of a peer, in the message */
	struct isim_buf *out;
	size_t count;
};

static struct nlmsghdr *genl_header(void *buf, uint16_t family, uint16_t flags, uint32_t seq, uint8_t cmd,
				    uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static bool set_begin(struct set_ctx *c)
{
	/* libmnl leaves an attribute's padding as it finds it. */
	memset(c->msg, 0, c->max);
	c->nlh = genl_header(c->msg, c->family, NLM_F_REQUEST | NLM_F_ACK, c->seq + (uint32_t)c->count,
			     WG_CMD_SET_DEVICE, WG_GENL_VERSION);
	c->peers = NULL;
	c->parts = 0;
	return mnl_attr_put_strz_check(c->nlh, c->max, WGDEVICE_A_IFNAME, c->ifname);
}

static void set_flush(struct set_ctx *c)
{
	if (c->peers)
		mnl_attr_nest_end(c->nlh, c->peers);
	isim_buf_putn(c->out, (const char *)c->nlh, c->nlh->nlmsg_len);
	c->count++;
}

/* The endpoint as the kernel reads it: a sockaddr_in or sockaddr_in6 and
 * nothing else set; its length, 0 for none. */
static size_t endpoint_wire(const union isim_wg_endpoint *e, union isim_wg_endpoint *w)
{
	memset(w, 0, sizeof(*w));
	switch (e->sa.sa_family) {
	case AF_INET:
		w->in.sin_family = AF_INET;
		w->in.sin_port = e->in.sin_port;
		w->in.sin_addr = e->in.sin_addr;
		return sizeof(w->in);
	case AF_INET6:
		w->in6.sin6_family = AF_INET6;
		w->in6.sin6_port = e->in6.sin6_port;
		w->in6.sin6_flowinfo = e->in6.sin6_flowinfo;
		w->in6.sin6_addr = e->in6.sin6_addr;
		w->in6.sin6_scope_id = e->in6.sin6_scope_id;
		return sizeof(w->in6);
	default:
		return 0;
	}
}

static bool put_allowed(struct set_ctx *c, const struct isim_prefix *pr)
{
	struct nlattr *ip = mnl_attr_nest_start_check(c->nlh, c->max, 0);

	if (!ip)
		return false;
	if (!mnl_attr_put_u16_check(c->nlh, c->max, WGALLOWEDIP_A_FAMILY, pr->family) ||
	    !mnl_attr_put_check(c->nlh, c->max, WGALLOWEDIP_A_IPADDR, pr->family == AF_INET ? 4 : 16, pr->addr) ||
	    !mnl_attr_put_u8_check(c->nlh, c->max, WGALLOWEDIP_A_CIDR_MASK, pr->len)) {
		mnl_attr_nest_cancel(c->nlh, ip);
		return false;
	}
	mnl_attr_nest_end(c->nlh, ip);
	return true;
}

/*
 * Put what fits of peer p into the message: 1 when the rest of it is in,
 * 0 when the message is full. *started says its first part (flags,
 * endpoint, keepalive) has gone out; *next is its first allowed IP not yet
 * out. A continuation carries the key, the flags that say which peer may
 * be changed, and more allowed IPs: never WGPEER_F_REPLACE_ALLOWEDIPS
 * again, which would drop the part already sent.
 */
static int put_peer(struct set_ctx *c, const struct isim_wg_peer *p, bool *started, size_t *next)
{
	struct nlattr *peer, *ips;
	union isim_wg_endpoint ep;
	uint32_t flags = 0;
	size_t eplen, before;

	if (!c->peers && !(c->peers = mnl_attr_nest_start_check(c->nlh, c->max, WGDEVICE_A_PEERS)))
		return 0;
	peer = mnl_attr_nest_start_check(c->nlh, c->max, 0);
	if (!peer)
		return 0;
	if (!mnl_attr_put_check(c->nlh, c->max, WGPEER_A_PUBLIC_KEY, ISIM_WG_KEY_LEN, p->public_key))
		goto cancel;
	if (p->flags & ISIM_WG_PEER_REMOVE)
		flags |= WGPEER_F_REMOVE_ME;
	if (p->flags & ISIM_WG_PEER_UPDATE_ONLY)
		flags |= WGPEER_F_UPDATE_ONLY;
	if (!*started && (p->flags & ISIM_WG_PEER_REPLACE_ALLOWED) && !(p->flags & ISIM_WG_PEER_REMOVE))
		flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
	if (flags && !mnl_attr_put_u32_check(c->nlh, c->max, WGPEER_A_FLAGS, flags))
		goto cancel;
	if (p->flags & ISIM_WG_PEER_REMOVE)
		goto done;
	if (!*started) {
		eplen = endpoint_wire(&p->endpoint, &ep);
		if (eplen && !mnl_attr_put_check(c->nlh, c->max, WGPEER_A_ENDPOINT, eplen, &ep))
			goto cancel;
		if ((p->flags & ISIM_WG_PEER_HAS_KEEPALIVE) &&
		    !mnl_attr_put_u16_check(c->nlh, c->max, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive))
			goto cancel;
	}
	if (*next < p->nallowed) {
		before = *next;
		ips = mnl_attr_nest_start_check(c->nlh, c->max, WGPEER_A_ALLOWEDIPS);
		while (ips && *next < p->nallowed && put_allowed(c, &p->allowed[*next]))
			++*next;
		if (ips && *next > before)
			mnl_attr_nest_end(c->nlh, ips);
		else if (ips)
			mnl_attr_nest_cancel(c->nlh, ips);
		if (*next < p->nallowed) {
			/* Full. A first part is worth sending for its flags
			 * alone; a continuation without an allowed IP is not. */
			if (*started && *next == before)
				goto cancel;
			*started = true;
			mnl_attr_nest_end(c->nlh, peer);
			c->parts++;
			return 0;
		}
	}
done:
	mnl_attr_nest_end(c->nlh, peer);
	c->parts++;
	return 1;
cancel:
	mnl_attr_nest_cancel(c->nlh, peer);
	return 0;
}

/* What the encoding itself needs; isim_wg_check_changes checks the rest
 * before isim_wg_set gets here. */
static int check_change(const struct isim_wg_peer *p, struct isim_error *err)
{
	sa_family_t fam = p->endpoint.sa.sa_family;
	char b64[ISIM_WG_KEY_B64LEN];
	size_t k;

	isim_wg_key_b64(p->public_key, b64);
	if (fam != AF_UNSPEC && fam != AF_INET && fam != AF_INET6)
		return isim_error_set(err, ISIM_ERR_USAGE,
				      "peer %s: endpoint of address family %u, neither IPv4 nor IPv6", b64,
				      (unsigned)fam);
	if (p->nallowed && !p->allowed)
		return isim_error_set(err, ISIM_ERR_USAGE, "peer %s: %zu allowed IPs, but none given", b64,
				      p->nallowed);
	for (k = 0; k < p->nallowed; k++) {
		const struct isim_prefix *pr = &p->allowed[k];

		if (!(pr->family == AF_INET && pr->len <= 32) && !(pr->family == AF_INET6 && pr->len <= 128))
			return isim_error_set(err, ISIM_ERR_USAGE,
					      "peer %s: allowed IP of address family %u with prefix length %u", b64,
					      (unsigned)pr->family, (unsigned)pr->len);
	}
	return 0;
}

static int check_ifname(const char *ifname, struct isim_error *err)
{
	size_t n = ifname ? strnlen(ifname, IFNAMSIZ) : 0;

	if (n == 0 || n >= IFNAMSIZ)
		return isim_error_set(err, ISIM_ERR_USAGE, "'%.*s' is not an interface name (1 to %d bytes)", IFNAMSIZ,
				      ifname ? ifname : "", IFNAMSIZ - 1);
	return 0;
}

int isim_wg_nl_build_set(uint16_t family, const char *ifname, uint32_t seq, const struct isim_wg_peer *changes,
			 size_t n, size_t max_size, struct isim_buf *out, size_t *count, struct isim_error *err)
{
	struct set_ctx c = { .family = family, .ifname = ifname, .seq = seq, .out = out };
	size_t i, next = 0, start_len = out->len;
	bool started = false;
	int ret = -1;

	*count = 0;
	if (check_ifname(ifname, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (check_change(&changes[i], err) < 0)
			return -1;
	c.max = max_size < MSG_MAX ? max_size & ~(size_t)(MNL_ALIGNTO - 1) : MSG_MAX;
	if (c.max < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
		return isim_error_set(err, ISIM_ERR_USAGE, "a netlink message of %zu bytes holds nothing", max_size);
	c.msg = calloc(1, c.max);
	if (!c.msg)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (!set_begin(&c)) {
		isim_error_set(err, ISIM_ERR_USAGE, "a netlink message of %zu bytes cannot hold the interface name",
			       max_size);
		goto out;
	}
	for (i = 0; i < n;) {
		if (put_peer(&c, &changes[i], &started, &next)) {
			i++;
			next = 0;
			started = false;
			continue;
		}
		if (!c.parts) {
			char b64[ISIM_WG_KEY_B64LEN];

			isim_wg_key_b64(changes[i].public_key, b64);
			isim_error_set(err, ISIM_ERR_USAGE, "a netlink message of %zu bytes cannot hold peer %s",
				       max_size, b64);
			goto out;
		}
		set_flush(&c);
		set_begin(&c);
	}
	set_flush(&c);
	if (out->oom) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	*count = c.count;
	ret = 0;
out:
	if (ret < 0 && !out->oom && out->s) {
		out->len = start_len;
		out->s[start_len] = '\0';
	}
	free(c.msg);
	return ret;
}

int isim_wg_nl_build_get(uint16_t family, const char *ifname, uint32_t seq, struct isim_buf *out,
			 struct isim_error *err)
{
	union {
		struct nlmsghdr h;
		char b[MNL_NLMSG_HDRLEN + GENL_HDRLEN + MNL_ATTR_HDRLEN + MNL_ALIGN(IFNAMSIZ)];
	} req;
	struct nlmsghdr *nlh;

	if (check_ifname(ifname, err) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	nlh = genl_header(&req, family, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, seq, WG_CMD_GET_DEVICE,
			  WG_GENL_VERSION);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	isim_buf_putn(out, (const char *)nlh, nlh->nlmsg_len);
	if (out->oom)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	return 0;
}

/* ---- reading replies ------------------------------------------------------- */

/* How one attribute must look: its libmnl type, and for binary data its
 * exact length (0: checked by hand). */
struct spec {
	const char *name;
	enum mnl_attr_data_type type;
	size_t len;
};

static const struct spec device_spec[WGDEVICE_A_MAX + 1] = {
	[WGDEVICE_A_IFINDEX] = { "WGDEVICE_A_IFINDEX", MNL_TYPE_U32, 0 },
	[WGDEVICE_A_IFNAME] = { "WGDEVICE_A_IFNAME", MNL_TYPE_NUL_STRING, 0 },
	[WGDEVICE_A_PRIVATE_KEY] = { "WGDEVICE_A_PRIVATE_KEY", MNL_TYPE_BINARY, WG_KEY_LEN },
	[WGDEVICE_A_PUBLIC_KEY] = { "WGDEVICE_A_PUBLIC_KEY", MNL_TYPE_BINARY, WG_KEY_LEN },
	[WGDEVICE_A_FLAGS] = { "WGDEVICE_A_FLAGS", MNL_TYPE_U32, 0 },
	[WGDEVICE_A_LISTEN_PORT] = { "WGDEVICE_A_LISTEN_PORT", MNL_TYPE_U16, 0 },
	[WGDEVICE_A_FWMARK] = { "WGDEVICE_A_FWMARK", MNL_TYPE_U32, 0 },
	[WGDEVICE_A_PEERS] = { "WGDEVICE_A_PEERS", MNL_TYPE_NESTED, 0 },
};

static const struct spec peer_spec[WGPEER_A_MAX + 1] = {
	[WGPEER_A_PUBLIC_KEY] = { "WGPEER_A_PUBLIC_KEY", MNL_TYPE_BINARY, WG_KEY_LEN },
	[WGPEER_A_PRESHARED_KEY] = { "WGPEER_A_PRESHARED_KEY", MNL_TYPE_BINARY, WG_KEY_LEN },
	[WGPEER_A_FLAGS] = { "WGPEER_A_FLAGS", MNL_TYPE_U32, 0 },
	[WGPEER_A_ENDPOINT] = { "WGPEER_A_ENDPOINT", MNL_TYPE_BINARY, 0 },
	[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] = { "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", MNL_TYPE_U16, 0 },
	[WGPEER_A_LAST_HANDSHAKE_TIME] = { "WGPEER_A_LAST_HANDSHAKE_TIME", MNL_TYPE_BINARY,
					   sizeof(struct __kernel_timespec) },
	[WGPEER_A_RX_BYTES] = { "WGPEER_A_RX_BYTES", MNL_TYPE_U64, 0 },
	[WGPEER_A_TX_BYTES] = { "WGPEER_A_TX_BYTES", MNL_TYPE_U64, 0 },
	[WGPEER_A_ALLOWEDIPS] = { "WGPEER_A_ALLOWEDIPS", MNL_TYPE_NESTED, 0 },
	[WGPEER_A_PROTOCOL_VERSION] = { "WGPEER_A_PROTOCOL_VERSION", MNL_TYPE_U32, 0 },
};

static const struct spec allowed_spec[WGALLOWEDIP_A_MAX + 1] = {
	[WGALLOWEDIP_A_FAMILY] = { "WGALLOWEDIP_A_FAMILY", MNL_TYPE_U16, 0 },
	[WGALLOWEDIP_A_IPADDR] = { "WGALLOWEDIP_A_IPADDR", MNL_TYPE_BINARY, 0 },
	[WGALLOWEDIP_A_CIDR_MASK] = { "WGALLOWEDIP_A_CIDR_MASK", MNL_TYPE_U8, 0 },
};

struct table {
	const struct nlattr **tb;
	uint16_t max;
	uint16_t twice; /* the type seen twice, 0 none */
};

/* Types past the last known one are skipped: a newer kernel may add
 * attributes, and netlink's rule is that a reader ignores those. */
static int table_cb(const struct nlattr *a, void *data)
{
	struct table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == 0 || type > t->max)
		return MNL_CB_OK;
	if (t->tb[type]) {
		t->twice = type;
		return MNL_CB_ERROR;
	}
	t->tb[type] = a;
	return MNL_CB_OK;
}

/* libmnl stops quietly at bytes that are no attribute; a reply must be
 * attributes from end to end (the last one may lack its padding). */
static bool attrs_tile(const void *p, size_t len)
{
	const struct nlattr *a = p;

	while (len > 0) {
		size_t step;

		if (len > INT_MAX || !mnl_attr_ok(a, (int)len))
			return false;
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			return true;
		len -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return true;
}

static int bad_attr(struct isim_error *err, const char *where, const struct spec *s, const struct nlattr *a,
		    const char *what)
{
	return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: %s: %s (%u bytes) %s", where, s->name,
			      mnl_attr_get_payload_len(a), what);
}

/* The attributes in p[0, len) into tb[0, max], each one checked against
 * spec: an attribute twice, of the wrong size or cut short is refused. */
static int parse_table(const void *p, size_t len, const struct spec *spec, uint16_t max, const struct nlattr **tb,
		       const char *where, struct isim_error *err)
{
	struct table t = { tb, max, 0 };
	uint16_t i;

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (!attrs_tile(p, len))
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: %s: an attribute is cut short", where);
	if (mnl_attr_parse_payload(p, len, table_cb, &t) < 0)
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: %s: %s twice", where, spec[t.twice].name);
	for (i = 1; i <= max; i++) {
		int r;

		if (!tb[i])
			continue;
		r = spec[i].len ? mnl_attr_validate2(tb[i], spec[i].type, spec[i].len)
				: mnl_attr_validate(tb[i], spec[i].type);
		if (r < 0)
			return bad_attr(err, where, &spec[i], tb[i], "is malformed");
	}
	return 0;
}

struct parse_ctx {
	struct isim_wg_device *d;
	struct isim_wg_peer *peer;
	struct isim_error *err;
};

static int allowed_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	const struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
	struct isim_prefix pr;
	unsigned bits, i;
	uint16_t family;
	uint8_t cidr;

	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 || mnl_attr_get_payload_len(a) == 0) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: an allowed IP is not a nest of attributes");
		return MNL_CB_ERROR;
	}
	if (parse_table(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), allowed_spec, WGALLOWEDIP_A_MAX, tb,
			"allowed IP", c->err) < 0)
		return MNL_CB_ERROR;
	if (!tb[WGALLOWEDIP_A_FAMILY] || !tb[WGALLOWEDIP_A_IPADDR] || !tb[WGALLOWEDIP_A_CIDR_MASK]) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: an allowed IP lacks its %s",
			       !tb[WGALLOWEDIP_A_FAMILY]   ? "family"
			       : !tb[WGALLOWEDIP_A_IPADDR] ? "address"
							   : "prefix length");
		return MNL_CB_ERROR;
	}
	family = mnl_attr_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	cidr = mnl_attr_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	if (family != AF_INET && family != AF_INET6) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: allowed IP of address family %u", family);
		return MNL_CB_ERROR;
	}
	bits = family == AF_INET ? 32 : 128;
	if (mnl_attr_get_payload_len(tb[WGALLOWEDIP_A_IPADDR]) != bits / 8) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: allowed IP of family %s with a %u-byte address",
			       family == AF_INET ? "AF_INET" : "AF_INET6",
			       mnl_attr_get_payload_len(tb[WGALLOWEDIP_A_IPADDR]));
		return MNL_CB_ERROR;
	}
	if (cidr > bits) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: allowed IP with prefix length %u (at most %u)",
			       cidr, bits);
		return MNL_CB_ERROR;
	}
	memset(&pr, 0, sizeof(pr));
	pr.family = (uint8_t)family;
	pr.len = cidr;
	memcpy(pr.addr, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), bits / 8);
	/* The kernel reads out its routing trie masked (wg_allowedips_read_node),
	 * and a prefix here never has bits past its length. */
	for (i = cidr; i < bits; i++) {
		if (pr.addr[i / 8] & (0x80u >> (i % 8))) {
			char text[INET6_ADDRSTRLEN];

			inet_ntop(family, pr.addr, text, sizeof(text));
			isim_error_set(c->err, ISIM_ERR_DATA,
				       "netlink reply: allowed IP %s/%u has bits set past its length", text, cidr);
			return MNL_CB_ERROR;
		}
	}
	if (isim_wg_peer_add_allowed(c->peer, &pr) < 0) {
		isim_error_set(c->err, ISIM_ERR_INTERNAL, "out of memory");
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int nested_list(const struct nlattr *nest, mnl_attr_cb_t cb, struct parse_ctx *c, const char *what)
{
	if (!attrs_tile(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest)))
		return isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: %s: an attribute is cut short", what);
	if (mnl_attr_parse_nested(nest, cb, c) < 0)
		return -1;
	return 0;
}

static int parse_endpoint(const struct nlattr *a, union isim_wg_endpoint *ep, struct isim_error *err)
{
	size_t len = mnl_attr_get_payload_len(a);
	sa_family_t family = AF_UNSPEC;

	memset(ep, 0, sizeof(*ep));
	if (len >= sizeof(family))
		memcpy(&family, mnl_attr_get_payload(a), sizeof(family));
	if (len == sizeof(ep->in) && family == AF_INET) {
		memcpy(&ep->in, mnl_attr_get_payload(a), len);
		memset(ep->in.sin_zero, 0, sizeof(ep->in.sin_zero));
		return 0;
	}
	if (len == sizeof(ep->in6) && family == AF_INET6) {
		memcpy(&ep->in6, mnl_attr_get_payload(a), len);
		return 0;
	}
	return bad_attr(err, "peer", &peer_spec[WGPEER_A_ENDPOINT], a, "is neither a sockaddr_in nor a sockaddr_in6");
}

static int peer_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	const struct nlattr *tb[WGPEER_A_MAX + 1];
	struct isim_wg_peer *p;
	const uint8_t *key;

	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 || mnl_attr_get_payload_len(a) == 0) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: a peer is not a nest of attributes");
		return MNL_CB_ERROR;
	}
	if (parse_table(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), peer_spec, WGPEER_A_MAX, tb, "peer",
			c->err) < 0)
		return MNL_CB_ERROR;
	if (!tb[WGPEER_A_PUBLIC_KEY]) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: a peer without WGPEER_A_PUBLIC_KEY");
		return MNL_CB_ERROR;
	}
	key = mnl_attr_get_payload(tb[WGPEER_A_PUBLIC_KEY]);
	/* A peer whose allowed IPs fill a message goes on in the next one,
	 * under the same key (wg_get_device_dump). */
	if (c->d->npeers && !memcmp(c->d->peers[c->d->npeers - 1].public_key, key, ISIM_WG_KEY_LEN)) {
		p = &c->d->peers[c->d->npeers - 1];
	} else {
		p = isim_wg_device_add_peer(c->d);
		if (!p) {
			isim_error_set(c->err, ISIM_ERR_INTERNAL, "out of memory");
			return MNL_CB_ERROR;
		}
		memcpy(p->public_key, key, ISIM_WG_KEY_LEN);
	}
	if (tb[WGPEER_A_ENDPOINT] && parse_endpoint(tb[WGPEER_A_ENDPOINT], &p->endpoint, c->err) < 0)
		return MNL_CB_ERROR;
	if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL])
		p->keepalive = mnl_attr_get_u16(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME]) {
		struct __kernel_timespec ts;

		memcpy(&ts, mnl_attr_get_payload(tb[WGPEER_A_LAST_HANDSHAKE_TIME]), sizeof(ts));
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) {
			bad_attr(c->err, "peer", &peer_spec[WGPEER_A_LAST_HANDSHAKE_TIME],
				 tb[WGPEER_A_LAST_HANDSHAKE_TIME], "is not a time");
			return MNL_CB_ERROR;
		}
		p->last_handshake = ts.tv_sec;
	}
	if (tb[WGPEER_A_RX_BYTES])
		p->rx_bytes = mnl_attr_get_u64(tb[WGPEER_A_RX_BYTES]);
	if (tb[WGPEER_A_TX_BYTES])
		p->tx_bytes = mnl_attr_get_u64(tb[WGPEER_A_TX_BYTES]);
	if (tb[WGPEER_A_ALLOWEDIPS]) {
		c->peer = p;
		if (nested_list(tb[WGPEER_A_ALLOWEDIPS], allowed_cb, c, "allowed IPs") < 0)
			return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int parse_device(const struct nlmsghdr *nlh, struct isim_wg_device *d, struct isim_error *err)
{
	const struct nlattr *tb[WGDEVICE_A_MAX + 1];
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct parse_ctx c = { d, NULL, err };
	uint8_t derived[ISIM_WG_KEY_LEN];
	bool have_derived = false;

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: no generic netlink header");
	if (g->cmd != WG_CMD_GET_DEVICE)
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: command %u, not WG_CMD_GET_DEVICE", g->cmd);
	if (parse_table(mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN), mnl_nlmsg_get_payload_len(nlh) - GENL_HDRLEN,
			device_spec, WGDEVICE_A_MAX, tb, "device", err) < 0)
		return -1;
	if (tb[WGDEVICE_A_IFNAME]) {
		const char *name = mnl_attr_get_str(tb[WGDEVICE_A_IFNAME]);
		size_t len = mnl_attr_get_payload_len(tb[WGDEVICE_A_IFNAME]);

		if (len > IFNAMSIZ || strlen(name) != len - 1 || len == 1)
			return bad_attr(err, "device", &device_spec[WGDEVICE_A_IFNAME], tb[WGDEVICE_A_IFNAME],
					"is not an interface name");
		if (d->name[0] && strcmp(d->name, name) != 0) {
			char shown[IFNAMSIZ];

			isim_sanitize(shown, sizeof(shown), name);
			return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: for device '%s', not '%s'", shown,
					      d->name);
		}
		memcpy(d->name, name, len);
	}
	if (tb[WGDEVICE_A_PRIVATE_KEY]) {
		uint8_t sk[ISIM_WG_KEY_LEN];
		int r;

		if (sodium_init() < 0)
			return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
		memcpy(sk, mnl_attr_get_payload(tb[WGDEVICE_A_PRIVATE_KEY]), sizeof(sk));
		r = crypto_scalarmult_base(derived, sk);
		sodium_memzero(sk, sizeof(sk));
		if (r != 0)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "netlink reply: the device's private key is unusable");
		have_derived = true;
	}
	if (tb[WGDEVICE_A_PUBLIC_KEY]) {
		const uint8_t *pk = mnl_attr_get_payload(tb[WGDEVICE_A_PUBLIC_KEY]);

		if (have_derived && memcmp(derived, pk, ISIM_WG_KEY_LEN) != 0)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "netlink reply: the device's public key is not that of its private key");
		memcpy(derived, pk, ISIM_WG_KEY_LEN);
		have_derived = true;
	}
	if (have_derived) {
		memcpy(d->public_key, derived, ISIM_WG_KEY_LEN);
		d->has_public_key = true;
	}
	if (tb[WGDEVICE_A_LISTEN_PORT])
		d->listen_port = mnl_attr_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
	if (tb[WGDEVICE_A_FWMARK])
		d->fwmark = mnl_attr_get_u32(tb[WGDEVICE_A_FWMARK]);
	if (tb[WGDEVICE_A_PEERS] && nested_list(tb[WGDEVICE_A_PEERS], peer_cb, &c, "peers") < 0)
		return -1;
	return 0;
}

/* An errno as the kernel sends it, negated: 0 and *errnum, or -1. */
static int kernel_errno(const void *p, int *errnum)
{
	int e;

	memcpy(&e, p, sizeof(e));
	if (e > 0 || e < -4095)
		return -1;
	*errnum = -e;
	return 0;
}

static int ext_msg_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **msg = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*msg = a;
	return MNL_CB_OK;
}

/* The kernel's own words on a refusal (NETLINK_EXT_ACK, kernels from
 * 4.12): " (text)" into why, or "" when it gave none. The attributes
 * follow the quoted request, which is its header alone when capped. */
static void ext_ack_msg(const struct nlmsghdr *nlh, char *why, size_t size)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *msg = NULL;
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off = sizeof(*e);
	char text[200];

	why[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return;
		off += MNL_ALIGN(e->msg.nlmsg_len) - MNL_NLMSG_HDRLEN;
	}
	if (off >= plen || !attrs_tile((const char *)e + off, plen - off))
		return;
	if (mnl_attr_parse_payload((const char *)e + off, plen - off, ext_msg_cb, &msg) < 0 || !msg)
		return;
	isim_sanitize(text, sizeof(text), mnl_attr_get_str(msg));
	snprintf(why, size, " (%s)", text);
}

int isim_wg_nl_parse_get(const void *msg, size_t len, struct isim_wg_device *d, struct isim_error *err)
{
	const struct nlmsghdr *nlh = msg;
	size_t plen;
	int e;

	if ((uintptr_t)msg % MNL_ALIGNTO)
		return isim_error_set(err, ISIM_ERR_USAGE, "netlink message not aligned to %d bytes", MNL_ALIGNTO);
	if (len < MNL_NLMSG_HDRLEN || len > INT_MAX)
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: a message of %zu bytes", len);
	if (nlh->nlmsg_len != len || len % MNL_ALIGNTO)
		return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: a message of %zu bytes says it has %u", len,
				      nlh->nlmsg_len);
	plen = mnl_nlmsg_get_payload_len(nlh);
	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		/* A dump that failed half way says so here (netlink_dump). */
		if (plen == 0)
			return 1;
		if (plen < sizeof(int) || kernel_errno(mnl_nlmsg_get_payload(nlh), &e) < 0)
			return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: malformed NLMSG_DONE");
		if (e == 0)
			return 1;
		isim_error_errno(err, ISIM_ERR_IO, e, "the kernel ended the dump with an error");
		errno = e;
		return -1;
	case NLMSG_ERROR: {
		char why[256];

		if (plen < sizeof(struct nlmsgerr) || kernel_errno(mnl_nlmsg_get_payload(nlh), &e) < 0)
			return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: malformed NLMSG_ERROR");
		/* An acknowledgement adds nothing. */
		if (e == 0)
			return 0;
		ext_ack_msg(nlh, why, sizeof(why));
		isim_error_set(err, ISIM_ERR_IO, "the kernel refused the request: %s%s", strerror(e), why);
		errno = e;
		return -1;
	}
	default:
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			return isim_error_set(err, ISIM_ERR_DATA, "netlink reply: unexpected message type %u",
					      nlh->nlmsg_type);
		return parse_device(nlh, d, err) < 0 ? -1 : 0;
	}
}

/* ---- the socket ------------------------------------------------------------ */

static int sock_open(struct isim_wg *wg, struct isim_error *err)
{
	int one = 1;

	wg->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!wg->nl)
		return isim_error_errno(err, errno == EPERM || errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_UNAVAILABLE,
					errno, "a generic netlink socket cannot be opened");
	if (mnl_socket_bind(wg->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(wg->nl);
		wg->nl = NULL;
		return isim_error_errno(err, ISIM_ERR_IO, e, "a generic netlink socket cannot be bound");
	}
	wg->portid = mnl_socket_get_portid(wg->nl);
	/* Errors then quote the request's header only, not all of it, so that
	 * the refusal of a full message fits the reply buffer. Kernels before
	 * 4.3 lack the option; their errors fit RECV_SIZE as well. */
	(void)mnl_socket_setsockopt(wg->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(wg->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
}

/* A socket left with part of a reply unread is replaced before the next
 * request, which would otherwise read the old reply's end. */
static void sock_drop(struct isim_wg *wg)
{
	if (wg->nl)
		mnl_socket_close(wg->nl);
	wg->nl = NULL;
}

static int sock_ready(struct isim_wg *wg, struct isim_error *err)
{
	if (wg->nl)
		return 0;
	return sock_open(wg, err);
}

static int sock_send(struct isim_wg *wg, const void *msg, size_t len, struct isim_error *err)
{
	ssize_t n = mnl_socket_sendto(wg->nl, msg, len);

	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EMSGSIZE;

		sock_drop(wg);
		return isim_error_errno(err, ISIM_ERR_IO, e, "'%s': sending a netlink request", wg->name);
	}
	return 0;
}

struct family_ctx {
	uint16_t id;
};

static int family_attr_cb(const struct nlattr *a, void *data)
{
	struct family_ctx *c = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		c->id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, GENL_HDRLEN, family_attr_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static enum isim_err refusal_kind(int errnum)
{
	return errnum == EPERM || errnum == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO;
}

/* err's message, after the device's name and what was being done. */
static int rewrap(const struct isim_wg *wg, struct isim_error *err, enum isim_err kind, const char *what)
{
	char inner[sizeof(err->msg)];

	memcpy(inner, err->msg, sizeof(inner));
	inner[sizeof(inner) - 1] = '\0';
	return isim_error_set(err, kind, "'%s': %s: %s", wg->name, what, inner);
}

static int not_wireguard(struct isim_wg *wg, struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_DATA, "'%s' is not a WireGuard device", wg->name);
}

static int resolve_family(struct isim_wg *wg, char *buf, struct isim_error *err)
{
	struct family_ctx fc = { 0 };
	struct nlmsghdr *nlh;
	uint32_t seq = ++wg->seq;
	ssize_t n;
	int r;

	memset(buf, 0, MNL_NLMSG_HDRLEN + GENL_HDRLEN + MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(WG_GENL_NAME)));
	nlh = genl_header(buf, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	if (sock_send(wg, nlh, nlh->nlmsg_len, err) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(wg->nl, buf, RECV_SIZE);
		r = n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, seq, wg->portid, family_cb, &fc);
	} while (r > 0);
	if (r < 0) {
		int e = errno;

		sock_drop(wg);
		if (e == ENOENT)
			return isim_error_set(
				err, ISIM_ERR_DATA,
				"'%s' is not a WireGuard device (the kernel has no \"%s\" netlink family)", wg->name,
				WG_GENL_NAME);
		return isim_error_errno(err, e == EPERM || e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO, e,
					"'%s': looking up the \"%s\" netlink family", wg->name, WG_GENL_NAME);
	}
	if (!fc.id) {
		sock_drop(wg);
		return isim_error_set(err, ISIM_ERR_DATA, "'%s': the kernel's reply names no \"%s\" family id",
				      wg->name, WG_GENL_NAME);
	}
	wg->family = fc.id;
	return 0;
}

struct get_ctx {
	struct isim_wg *wg;
	struct isim_wg_device *d;
	struct isim_error *err;
	bool failed;
	int errnum; /* of a refusal, 0 for anything else */
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *c = data;
	int r;

	if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && nlh->nlmsg_type != c->wg->family) {
		isim_error_set(c->err, ISIM_ERR_DATA, "netlink reply: message type %u, not the WireGuard family's %u",
			       nlh->nlmsg_type, c->wg->family);
		c->failed = true;
		return MNL_CB_ERROR;
	}
	errno = 0;
	r = isim_wg_nl_parse_get(nlh, nlh->nlmsg_len, c->d, c->err);
	if (r < 0) {
		c->failed = true;
		c->errnum = c->err->kind == ISIM_ERR_IO ? errno : 0;
		return MNL_CB_ERROR;
	}
	return r == 1 ? MNL_CB_STOP : MNL_CB_OK;
}

/* One dump of the device into *out: 0, or -1 with err set and *errnum the
 * kernel's refusal (0 when it was something else); EINTR asks again. */
static int dump_once(struct isim_wg *wg, char *buf, struct isim_wg_device **out, int *errnum, struct isim_error *err)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = get_cb, [NLMSG_DONE] = get_cb };
	struct get_ctx c = { wg, NULL, err, false, 0 };
	struct isim_buf req = { 0 };
	uint32_t seq = ++wg->seq;
	ssize_t n;
	int r, ret = -1;

	*errnum = 0;
	c.d = calloc(1, sizeof(*c.d));
	if (!c.d)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	memcpy(c.d->name, wg->name, sizeof(c.d->name));
	if (isim_wg_nl_build_get(wg->family, wg->name, seq, &req, err) < 0)
		goto out;
	if (sock_send(wg, req.s, req.len, err) < 0)
		goto out;
	do {
		n = mnl_socket_recvfrom(wg->nl, buf, RECV_SIZE);
		r = n < 0 ? -1 : mnl_cb_run2(buf, (size_t)n, seq, wg->portid, get_cb, &c, ctl, NLMSG_MIN_TYPE);
	} while (r > 0);
	if (r < 0) {
		int e = errno;

		sock_drop(wg);
		if (c.failed) {
			*errnum = c.errnum;
			if (!c.errnum)
				rewrap(wg, err, err->kind, "reading the WireGuard device");
		} else {
			*errnum = e == EINTR ? EINTR : 0;
			isim_error_errno(err, ISIM_ERR_IO, e, "'%s': reading the device", wg->name);
		}
		goto out;
	}
	*out = c.d;
	c.d = NULL;
	ret = 0;
out:
	isim_wg_device_free(c.d);
	isim_buf_free(&req);
	return ret;
}

static int dump(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	struct isim_error scratch;
	char *buf = NULL;
	int tries, errnum = 0, ret = -1;

	/* A refusal is told from malformed data by the error's kind. */
	if (!err)
		err = &scratch;
	*out = NULL;
	/* The reply holds the device's private key. sodium_malloc needs
	 * libsodium initialised, or it aborts. */
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
	buf = sodium_malloc(RECV_SIZE);
	if (!buf)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	for (tries = 0; tries < DUMP_TRIES; tries++) {
		if (sock_ready(wg, err) < 0)
			goto out;
		ret = dump_once(wg, buf, out, &errnum, err);
		if (ret == 0 || errnum != EINTR)
			break;
	}
	if (ret < 0 && errnum) {
		if (errnum == ENODEV || errnum == EOPNOTSUPP)
			not_wireguard(wg, err);
		else
			rewrap(wg, err, refusal_kind(errnum), "reading the WireGuard device");
		errno = errnum;
	}
out:
	sodium_free(buf);
	return ret;
}

int isim_wg_nl_open(struct isim_wg *wg, struct isim_error *err)
{
	struct isim_wg_device *d = NULL;
	char *buf = NULL;
	int ret = -1;

	if (check_ifname(wg->name, err) < 0)
		return -1;
	wg->backend = ISIM_WG_NETLINK;
	wg->nl = NULL;
	if (if_nametoindex(wg->name) == 0) {
		if (errno == ENODEV || errno == ENXIO)
			return isim_error_set(err, ISIM_ERR_NOINPUT, "no interface '%s'", wg->name);
		return isim_error_errno(err, ISIM_ERR_IO, errno, "'%s': looking up the interface", wg->name);
	}
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
	/* Sequence numbers tell this socket's replies from a predecessor's; a
	 * clock is as good a start as any (wg(8) uses one too). */
	wg->seq = (uint32_t)time(NULL);
	buf = malloc(RECV_SIZE);
	if (!buf)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (sock_open(wg, err) < 0 || resolve_family(wg, buf, err) < 0)
		goto out;
	/* The family exists once the module is loaded; whether dev is one of
	 * its devices only the device's dump tells. */
	if (dump(wg, &d, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		sock_drop(wg);
	isim_wg_device_free(d);
	free(buf);
	return ret;
}

int isim_wg_nl_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	return dump(wg, out, err);
}

struct ack_ctx {
	struct isim_error *err;
	bool refused;
	int errnum;
};

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ack_ctx *c = data;
	struct isim_wg_device none;
	int r;

	memset(&none, 0, sizeof(none));
	errno = 0;
	r = isim_wg_nl_parse_get(nlh, nlh->nlmsg_len, &none, c->err);
	if (r < 0) {
		c->refused = true;
		c->errnum = c->err->kind == ISIM_ERR_IO ? errno : 0;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* The acknowledgement of message i (of count), sent with seq. */
static int read_ack(struct isim_wg *wg, char *buf, uint32_t seq, size_t i, size_t count, struct isim_error *err)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	struct ack_ctx c = { err, false, 0 };
	char what[64];
	ssize_t n;
	int r, e;

	do {
		n = mnl_socket_recvfrom(wg->nl, buf, RECV_SIZE);
		r = n < 0 ? -1 : mnl_cb_run2(buf, (size_t)n, seq, wg->portid, NULL, &c, ctl, NLMSG_MIN_TYPE);
	} while (r > 0);
	if (r == 0)
		return 0;
	e = errno;
	sock_drop(wg);
	snprintf(what, sizeof(what), "change message %zu of %zu", i + 1, count);
	if (c.refused && c.errnum) {
		rewrap(wg, err, refusal_kind(c.errnum), what);
		errno = c.errnum;
		return -1;
	}
	if (c.refused)
		return rewrap(wg, err, ISIM_ERR_IO, what);
	errno = e;
	return isim_error_errno(err, ISIM_ERR_IO, e, "'%s': %s", wg->name, what);
}

int isim_wg_nl_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	struct isim_buf msgs = { 0 };
	struct isim_error scratch;
	const struct nlmsghdr *nlh;
	char *buf = NULL;
	size_t count = 0, i;
	uint32_t seq;
	int rem, ret = -1;

	if (!err)
		err = &scratch;
	seq = wg->seq + 1;
	if (isim_wg_nl_build_set(wg->family, wg->name, seq, changes, n, (size_t)MNL_SOCKET_BUFFER_SIZE, &msgs, &count,
				 err) < 0)
		goto out;
	wg->seq += (uint32_t)count;
	if (msgs.len > INT_MAX) {
		isim_error_set(err, ISIM_ERR_USAGE, "'%s': %zu bytes of changes are too many", wg->name, msgs.len);
		goto out;
	}
	buf = malloc(RECV_SIZE);
	if (!buf) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (sock_ready(wg, err) < 0)
		goto out;
	/* One message at a time, each acknowledged before the next goes, as
	 * wg(8) does: a refusal stops the rest. */
	rem = (int)msgs.len;
	for (nlh = (const struct nlmsghdr *)msgs.s, i = 0; mnl_nlmsg_ok(nlh, rem);
	     nlh = mnl_nlmsg_next(nlh, &rem), i++) {
		if (sock_send(wg, nlh, nlh->nlmsg_len, err) < 0 || read_ack(wg, buf, nlh->nlmsg_seq, i, count, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(buf);
	isim_buf_free(&msgs);
	return ret;
}

void isim_wg_nl_close(struct isim_wg *wg)
{
	if (wg)
		sock_drop(wg);
}
