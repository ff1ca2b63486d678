/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PREFIX_H
#define ISIM_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IP prefix (CIDR block): AF_INET or AF_INET6, the address in network
 * byte order (4 or 16 bytes used), and the prefix length. Parsed strictly:
 * the address in the form inet_pton(3) reads, a '/', and a decimal length
 * without leading zeros, at most 32 or 128. Bits past the length must be
 * zero ("10.0.0.1/8" is refused: it says one thing and means another). */
struct isim_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;
	uint8_t addr[16];
};

/* "a.b.c.d/nn" or "x:y::z/nnn" + NUL */
#define ISIM_PREFIX_STRLEN (46 + 4)

/* 0 and *out, or -1 with why (a sentence without the value) in *why. With
 * host_bits_ok, bits past the length are allowed and cleared. */
int isim_prefix_parse(const char *s, bool host_bits_ok, struct isim_prefix *out, const char **why);
/* Canonical text: inet_ntop's, "/", the length. */
void isim_prefix_format(const struct isim_prefix *p, char buf[static ISIM_PREFIX_STRLEN]);
/* A host route: /32 for IPv4, /128 for IPv6. */
bool isim_prefix_is_host(const struct isim_prefix *p);
/* b lies inside a (same family, a's length at most b's, same first bits). */
bool isim_prefix_contains(const struct isim_prefix *a, const struct isim_prefix *b);
/* a and b share an address: one contains the other. */
bool isim_prefix_overlaps(const struct isim_prefix *a, const struct isim_prefix *b);
bool isim_prefix_equal(const struct isim_prefix *a, const struct isim_prefix *b);
/* A total order (family, address, length), for qsort and bsearch. */
int isim_prefix_cmp(const struct isim_prefix *a, const struct isim_prefix *b);

#endif
