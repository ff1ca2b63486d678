/* SPDX-License-Identifier: MIT */
/* UTF-8 from untrusted bytes. The checker, the decoder, the count and the
 * repair must agree: the decoder walks the bytes in steps that add up, finds
 * a fault exactly where the checker does, counts as many steps as
 * isim_utf8_count, and a repair is well-formed, changes nothing that was,
 * and is a fixed point. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t i = 0, k, steps = 0, cut;
	long first_bad = -1, at;
	bool changed, again;
	char buf[4], why[128];
	uint32_t cp;
	char *r, *r2;

	while (i < size) {
		k = isim_utf8_next(s + i, size - i, &cp);
		if (k < 1 || k > 4 || k > size - i)
			abort();
		if (cp == ISIM_UTF8_BAD) {
			if (first_bad < 0)
				first_bad = (long)i;
		} else if (isim_utf8_encode(cp, buf) != k || memcmp(buf, s + i, k) != 0) {
			abort(); /* only the shortest form is well-formed */
		}
		i += k;
		steps++;
	}
	at = isim_utf8_check(s, size, why, sizeof(why));
	/* The checker may point at the second byte of the faulty sequence. */
	if ((at < 0) != (first_bad < 0) || (at >= 0 && at != first_bad && at != first_bad + 1))
		abort();
	if (at >= 0 && !why[0])
		abort();
	if (isim_utf8_count(s, size) != steps)
		abort();

	r = isim_utf8_repair(s, size, &changed);
	if (!r)
		return 0;
	if (changed != (at >= 0))
		abort();
	if (!isim_utf8_valid(r, strlen(r)) || (!changed && memcmp(r, s, size) != 0))
		abort();
	r2 = isim_utf8_repair(r, strlen(r), &again);
	if (!r2 || again || strcmp(r, r2) != 0)
		abort();
	free(r2);
	free(r);

	cut = isim_utf8_cut(s, size, size / 2);
	if (cut > size / 2 || (at < 0 && !isim_utf8_valid(s, cut)))
		abort();
	return 0;
}
