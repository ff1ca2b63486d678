/* SPDX-License-Identifier: MIT */
#ifndef ISIM_ENDPOINT_H
#define ISIM_ENDPOINT_H

#include <stdint.h>
#include <sys/socket.h>

#include "isim/error.h"

/*
 * A network endpoint written host:port, as node descriptors hold them
 * (isim-formats(5)) and as WireGuard and TLS peers are reached. The host is
 * one of: an IPv4 address in dotted-quad form, each part 0 to 255 without
 * leading zeros; an IPv6 address in brackets, as inet_pton(3) reads it
 * (RFC 3986 section 3.2.2), without a zone; a DNS host name (RFC 1123
 * section 2.1: labels of 1 to 63 letters, digits and '-', not starting or
 * ending with '-', at most 253 bytes, its last label not all digits, so
 * that 999.999.999.999 is no name either). The port is 1 to 65535 in
 * decimal without leading zeros.
 */

/* Longest host name, its NUL included. */
#define ISIM_ENDPOINT_HOST_MAX 254

struct isim_endpoint {
	int family;			   /* AF_INET, AF_INET6, or AF_UNSPEC for a host name */
	char host[ISIM_ENDPOINT_HOST_MAX]; /* without brackets */
	uint16_t port;
};

/* Parse s into *out (which may be NULL to check only). 0, or -1 with err
 * (ISIM_ERR_DATA) saying what is wrong with which part, e.g.
 * "port 70000 is out of range (1 to 65535)". */
int isim_endpoint_parse(const char *s, struct isim_endpoint *out, struct isim_error *err) ISIM_MUST_CHECK;

#endif
