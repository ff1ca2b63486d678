/* SPDX-License-Identifier: MIT */
/* IP prefixes, read strictly: "10.0.0.1/8" or "10.0.0.0/08" says one thing
 * and may be read as another, so both are refused rather than guessed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "isim/prefix.h"

static size_t addr_bytes(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* Whether the bits of addr past len are all zero; with clear, they are
 * made so. */
static bool host_bits(uint8_t *addr, size_t bytes, unsigned len, bool clear)
{
	bool any = false;
	size_t i;

	for (i = len / 8; i < bytes; i++) {
		uint8_t keep = i == len / 8 ? (uint8_t)(0xff00u >> (len % 8)) : 0;

		if (addr[i] & (uint8_t)~keep)
			any = true;
		if (clear)
			addr[i] &= keep;
	}
	return any;
}

int isim_prefix_parse(const char *s, bool host_bits_ok, struct isim_prefix *out, const char **why)
{
	char text[INET6_ADDRSTRLEN];
	struct isim_prefix p;
	const char *slash, *d;
	unsigned len = 0, max;
	size_t n;

	memset(&p, 0, sizeof(p));
	slash = strchr(s, '/');
	if (!slash) {
		*why = "has no '/' and prefix length";
		return -1;
	}
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(text)) {
		*why = "is not an IPv4 or IPv6 address before the '/'";
		return -1;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, text, p.addr) == 1)
		p.family = AF_INET6;
	else {
		*why = "is not an IPv4 or IPv6 address before the '/'";
		return -1;
	}
	max = p.family == AF_INET ? 32 : 128;
	d = slash + 1;
	if (*d < '0' || *d > '9') {
		*why = "has no decimal prefix length after the '/'";
		return -1;
	}
	if (d[0] == '0' && d[1] != '\0') {
		*why = "has a prefix length with a leading zero";
		return -1;
	}
	for (; *d >= '0' && *d <= '9'; d++) {
		len = len * 10 + (unsigned)(*d - '0');
		if (len > max) {
			*why = p.family == AF_INET ? "has a prefix length over 32" : "has a prefix length over 128";
			return -1;
		}
	}
	if (*d != '\0') {
		*why = "has something other than digits after the prefix length";
		return -1;
	}
	p.len = (uint8_t)len;
	if (host_bits(p.addr, addr_bytes(p.family), len, host_bits_ok) && !host_bits_ok) {
		*why = "has address bits set past the prefix length";
		return -1;
	}
	*out = p;
	return 0;
}

void isim_prefix_format(const struct isim_prefix *p, char buf[static ISIM_PREFIX_STRLEN])
{
	char a[INET6_ADDRSTRLEN];

	if ((p->family != AF_INET && p->family != AF_INET6) || !inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, ISIM_PREFIX_STRLEN, "%s/%u", a, (unsigned)p->len);
}

bool isim_prefix_is_host(const struct isim_prefix *p)
{
	return p->len == (p->family == AF_INET ? 32 : 128);
}

bool isim_prefix_contains(const struct isim_prefix *a, const struct isim_prefix *b)
{
	unsigned full, rest;

	if (a->family != b->family || a->len > b->len)
		return false;
	full = a->len / 8;
	rest = a->len % 8;
	if (memcmp(a->addr, b->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		return (a->addr[full] & mask) == (b->addr[full] & mask);
	}
	return true;
}

bool isim_prefix_overlaps(const struct isim_prefix *a, const struct isim_prefix *b)
{
	return isim_prefix_contains(a, b) || isim_prefix_contains(b, a);
}

bool isim_prefix_equal(const struct isim_prefix *a, const struct isim_prefix *b)
{
	return isim_prefix_cmp(a, b) == 0;
}

int isim_prefix_cmp(const struct isim_prefix *a, const struct isim_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, addr_bytes(a->family));
	if (c)
		return c < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}
