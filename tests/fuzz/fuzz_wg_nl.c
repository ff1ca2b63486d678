/* SPDX-License-Identifier: MIT */
/* A WireGuard device dump as the kernel's netlink socket (or whatever
 * answers on it) might send it: messages one after another, each read by
 * isim_wg_nl_parse_get into one device until the dump ends or a message
 * is refused. Nothing may crash or leak; a refusal has a kind and a
 * reason; what was read holds only what the interface promises: prefixes
 * without host bits, IPv4 or IPv6 endpoints, an interface name, and no
 * peer twice in a row (a split peer is one peer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>

#include "isim/wg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const struct isim_prefix *p)
{
	unsigned bits, i;

	if (p->family != AF_INET && p->family != AF_INET6)
		abort();
	bits = p->family == AF_INET ? 32 : 128;
	if (p->len > bits)
		abort();
	for (i = p->len; i < 128; i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			abort();
}

static void check_device(const struct isim_wg_device *d)
{
	size_t i, k;

	if (memchr(d->name, '\0', sizeof(d->name)) == NULL)
		abort();
	for (i = 0; i < d->npeers; i++) {
		const struct isim_wg_peer *p = &d->peers[i];
		sa_family_t f = p->endpoint.sa.sa_family;

		if (f != AF_UNSPEC && f != AF_INET && f != AF_INET6)
			abort();
		if (i > 0 && !memcmp(p->public_key, d->peers[i - 1].public_key, ISIM_WG_KEY_LEN))
			abort();
		if (p->last_handshake < 0)
			abort();
		for (k = 0; k < p->nallowed; k++)
			check_prefix(&p->allowed[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_wg_device *d;
	struct isim_error err;
	uint32_t *buf;
	size_t off = 0;
	int r = 0;

	if (size > 1 << 20)
		return 0;
	/* Netlink messages are read where they are 4-byte aligned, as a
	 * receive buffer holds them. */
	buf = malloc(size + 4);
	d = calloc(1, sizeof(*d));
	if (!buf || !d) {
		free(buf);
		free(d);
		return 0;
	}
	memcpy(buf, data, size);
	isim_error_clear(&err);
	while (r == 0 && size - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)buf + off);
		size_t len = nlh->nlmsg_len, rem = size - off;

		/* A length the stream cannot hold goes in as the rest of it,
		 * which the parser must refuse. */
		if (len < sizeof(*nlh) || len > rem)
			len = rem;
		r = isim_wg_nl_parse_get(nlh, len, d, &err);
		if (r < 0 && (err.kind == ISIM_ERR_NONE || !err.msg[0]))
			abort();
		if (r > 1)
			abort();
		off += NLMSG_ALIGN(len);
		if (off > size)
			break;
	}
	check_device(d);
	isim_wg_device_free(d);
	free(buf);
	return 0;
}
