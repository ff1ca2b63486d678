/* SPDX-License-Identifier: MIT */
/* host:port endpoints from untrusted text (node descriptors arrive from
 * the network). What is accepted must say why it is, field by field: the
 * host written back with the port reads as the same endpoint, and a port is
 * never 0. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_endpoint ep, back;
	struct isim_error err;
	char *s, again[ISIM_ENDPOINT_HOST_MAX + 16];

	/* A C string ends at its first NUL; the text before it is the input. */
	if (size > 1024 || memchr(data, 0, size))
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	isim_error_clear(&err);
	if (isim_endpoint_parse(s, &ep, &err) == 0) {
		if (ep.port == 0)
			abort();
		snprintf(again, sizeof(again), ep.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ep.host, ep.port);
		if (strcmp(again, s) != 0 || isim_endpoint_parse(again, &back, &err) < 0 || back.port != ep.port ||
		    back.family != ep.family || strcmp(back.host, ep.host) != 0)
			abort();
	} else if (err.kind != ISIM_ERR_DATA || !err.msg[0]) {
		abort();
	}
	free(s);
	return 0;
}
