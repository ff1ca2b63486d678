/* SPDX-License-Identifier: MIT */
/* UAPI replies from a device socket: whatever is accepted must hold
 * together (every prefix without host bits, every endpoint IPv4 or IPv6),
 * and the parse must never read past the reply it was given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/wg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_wg_device *d = NULL;
	struct isim_error err;
	char *copy;
	size_t i, j;
	int e;

	/* An exact-size copy, so that a read past the end is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	isim_error_clear(&err);
	if (isim_wg_uapi_parse_get(copy, size, &d, &err) == 0) {
		for (i = 0; i < d->npeers; i++) {
			const struct isim_wg_peer *p = &d->peers[i];
			int fam = p->endpoint.sa.sa_family;

			if (fam != AF_UNSPEC && fam != AF_INET && fam != AF_INET6)
				abort();
			for (j = 0; j < p->nallowed; j++) {
				char text[ISIM_PREFIX_STRLEN];
				struct isim_prefix back;
				const char *why;

				isim_prefix_format(&p->allowed[j], text);
				if (isim_prefix_parse(text, false, &back, &why) != 0 ||
				    !isim_prefix_equal(&back, &p->allowed[j]))
					abort();
			}
		}
		isim_wg_device_free(d);
	} else if (d || err.kind == ISIM_ERR_NONE) {
		abort();
	}
	if (isim_wg_uapi_parse_errno(copy, size, &e) == 0 && (e < 0 || e > 4095))
		abort();
	free(copy);
	return 0;
}
