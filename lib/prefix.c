/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "isim/prefix.h"

static unsigned addr_bytes(const struct isim_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

/* Whether p->addr has bits set past len; with clear, they are cleared. */
static bool host_bits(struct isim_prefix *p, unsigned len, bool clear)
{
	unsigned i, n = addr_bytes(p);
	bool any = false;

	for (i = 0; i < n; i++) {
		uint8_t keep;

		if (len >= 8 * (i + 1))
			continue;
		keep = len <= 8 * i ? 0 : (uint8_t)(0xff << (8 - (len - 8 * i)));
		if (p->addr[i] & (uint8_t)~keep)
			any = true;
		if (clear)
			p->addr[i] &= keep;
	}
	return any;
}

int isim_prefix_parse(const char *s, bool host_bits_ok, struct isim_prefix *out, const char **why)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/'), *d;
	unsigned len = 0, max;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!slash) {
		*why = "is not a prefix: the '/' and length are missing";
		return -1;
	}
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(addr)) {
		*why = "is not a prefix: the address is missing or too long";
		return -1;
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		*why = "is not a prefix: the address is neither IPv4 nor IPv6";
		return -1;
	}
	d = slash + 1;
	if (!*d || (d[0] == '0' && d[1])) {
		*why = "is not a prefix: the length must be a decimal number without leading zeros";
		return -1;
	}
	for (; *d; d++) {
		if (*d < '0' || *d > '9' || len > max) {
			*why = "is not a prefix: the length must be a decimal number without leading zeros";
			return -1;
		}
		len = 10 * len + (unsigned)(*d - '0');
	}
	if (len > max) {
		*why = out->family == AF_INET ? "is not a prefix: an IPv4 prefix is at most 32 bits long"
					      : "is not a prefix: an IPv6 prefix is at most 128 bits long";
		return -1;
	}
	out->len = (uint8_t)len;
	if (host_bits(out, len, host_bits_ok) && !host_bits_ok) {
		*why = "has bits set past its length (host bits)";
		return -1;
	}
	return 0;
}

void isim_prefix_format(const struct isim_prefix *p, char buf[static ISIM_PREFIX_STRLEN])
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, ISIM_PREFIX_STRLEN, "%s/%u", addr, p->len);
}

bool isim_prefix_is_host(const struct isim_prefix *p)
{
	return p->len == (p->family == AF_INET ? 32 : 128);
}

bool isim_prefix_contains(const struct isim_prefix *a, const struct isim_prefix *b)
{
	struct isim_prefix t;

	if (a->family != b->family || a->len > b->len)
		return false;
	t = *b;
	host_bits(&t, a->len, true);
	return !memcmp(t.addr, a->addr, addr_bytes(a));
}

bool isim_prefix_overlaps(const struct isim_prefix *a, const struct isim_prefix *b)
{
	return isim_prefix_contains(a, b) || isim_prefix_contains(b, a);
}

bool isim_prefix_equal(const struct isim_prefix *a, const struct isim_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, addr_bytes(a));
}

int isim_prefix_cmp(const struct isim_prefix *a, const struct isim_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_bytes(a));
	if (c)
		return c < 0 ? -1 : 1;
	return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}
