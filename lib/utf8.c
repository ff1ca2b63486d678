/* SPDX-License-Identifier: MIT */
/* RFC 3629 UTF-8: the one decoder that the JSON reader, the canonical
 * serialiser, the schema validator and message sanitising share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/utf8.h"

/* Why a sequence is ill-formed, for messages. */
enum fault {
	FAULT_NONE,
	FAULT_LONE_CONTINUATION,
	FAULT_OVERLONG_LEAD,
	FAULT_NEVER_USED,
	FAULT_BEYOND_LEAD,
	FAULT_TRUNCATED,
	FAULT_SECOND_BYTE,
};

/* Decode s[0..n) (n >= 1). On a fault, *sub is the maximal subpart and
 * *at the offset of the byte that is wrong. */
static enum fault decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *sub, size_t *at)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*sub = 1;
	*at = 0;
	if (c < 0x80) {
		*cp = c;
		return FAULT_NONE;
	}
	if (c < 0xc0)
		return FAULT_LONE_CONTINUATION;
	if (c < 0xc2)
		return FAULT_OVERLONG_LEAD;
	if (c > 0xf7)
		return FAULT_NEVER_USED;
	if (c > 0xf4)
		return FAULT_BEYOND_LEAD;
	need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	/* Table 3-7: the second byte's range shuts out overlong forms (E0,
	 * F0), surrogates (ED) and code points past U+10FFFF (F4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	*cp = c & (c < 0xe0 ? 0x1f : c < 0xf0 ? 0x0f : 0x07);
	for (i = 1; i <= need; i++) {
		if (i >= n || (s[i] & 0xc0) != 0x80) {
			*sub = i;
			*at = i < n ? i : 0;
			return FAULT_TRUNCATED;
		}
		if (i == 1 && (s[1] < lo || s[1] > hi)) {
			*at = 1;
			return FAULT_SECOND_BYTE;
		}
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	*sub = need + 1;
	return FAULT_NONE;
}

size_t isim_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	size_t sub, at;

	if (!n)
		return 0;
	if (decode((const unsigned char *)s, n, cp, &sub, &at) != FAULT_NONE)
		*cp = ISIM_UTF8_BAD;
	return sub;
}

static void explain(enum fault f, const unsigned char *s, char *why, size_t size)
{
	unsigned char c = s[0];

	switch (f) {
	case FAULT_LONE_CONTINUATION:
		snprintf(why, size, "invalid UTF-8 byte 0x%02X (continuation byte without a lead byte)", c);
		break;
	case FAULT_OVERLONG_LEAD:
		snprintf(why, size, "invalid UTF-8 byte 0x%02X (overlong encoding)", c);
		break;
	case FAULT_NEVER_USED:
		snprintf(why, size, "invalid UTF-8 byte 0x%02X (never used in UTF-8)", c);
		break;
	case FAULT_BEYOND_LEAD:
		snprintf(why, size, "invalid UTF-8 byte 0x%02X (code point beyond U+10FFFF)", c);
		break;
	case FAULT_TRUNCATED:
		snprintf(why, size, "truncated UTF-8 sequence starting with 0x%02X", c);
		break;
	case FAULT_SECOND_BYTE:
		snprintf(why, size, "invalid UTF-8 byte 0x%02X after 0x%02X (%s)", s[1], c,
			 c == 0xed   ? "surrogate encoded in UTF-8"
			 : c == 0xf4 ? "code point beyond U+10FFFF"
				     : "overlong encoding");
		break;
	case FAULT_NONE:
		break;
	}
}

long isim_utf8_check(const char *str, size_t n, char *why, size_t whysize)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, sub, at;
	enum fault f;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		f = decode(s + i, n - i, &cp, &sub, &at);
		if (f != FAULT_NONE) {
			if (why && whysize)
				explain(f, s + i, why, whysize);
			/* A sequence cut short by a byte that cannot continue
			 * it is reported at its lead byte, where it went wrong. */
			return (long)(i + (f == FAULT_SECOND_BYTE ? at : 0));
		}
		i += sub;
	}
	return -1;
}

bool isim_utf8_valid(const char *s, size_t n)
{
	return isim_utf8_check(s, n, NULL, 0) < 0;
}

size_t isim_utf8_count(const char *s, size_t n)
{
	size_t i = 0, count = 0;
	uint32_t cp;

	while (i < n) {
		i += isim_utf8_next(s + i, n - i, &cp);
		count++;
	}
	return count;
}

size_t isim_utf8_encode(uint32_t cp, char out[static 4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return 0;
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t isim_utf8_cut(const char *s, size_t n, size_t max)
{
	size_t cut = n;

	if (n <= max)
		return n;
	cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

char *isim_utf8_repair(const char *s, size_t n, bool *changed)
{
	size_t i = 0, o = 0, k;
	uint32_t cp;
	char *out;

	if (changed)
		*changed = false;
	/* A replacement takes three bytes where the subpart took one. */
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	while (i < n) {
		k = isim_utf8_next(s + i, n - i, &cp);
		if (cp == ISIM_UTF8_BAD) {
			o += isim_utf8_encode(ISIM_UTF8_REPLACEMENT, out + o);
			if (changed)
				*changed = true;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
	return out;
}
