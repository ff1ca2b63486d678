/* SPDX-License-Identifier: MIT */
/* Numbers as ECMAScript's Number.prototype.toString writes them (RFC 8785
 * section 3.2.2.3): the shortest digits that read back as the same double.
 * JCS serialises with it, and json.c prints exact numbers with it. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/number.h"

static bool round_trips(const char *dig, int p, int e, double v)
{
	char s[48];

	snprintf(s, sizeof(s), "%.*se%d", p, dig, e - (p - 1));
	return strtod(s, NULL) == v;
}

/* The p digits one unit in the last place above or below dig (e adjusts
 * when the step crosses a power of ten). */
static void step(char *dig, int p, int *e, int dir)
{
	int i = p - 1;

	if (dir > 0) {
		while (i >= 0 && dig[i] == '9')
			dig[i--] = '0';
		if (i < 0) {
			dig[0] = '1';
			(*e)++;
		} else {
			dig[i]++;
		}
		return;
	}
	while (i >= 0 && dig[i] == '0')
		dig[i--] = '9';
	dig[i]--;
	if (dig[0] == '0') {
		memset(dig, '9', (size_t)p);
		(*e)--;
	}
}

/* The p-digit decimal nearest v, as printf rounds it. */
static void nearest(double v, int p, char dig[18], int *e)
{
	char s[40], *t;
	int n = 0;

	snprintf(s, sizeof(s), "%.*e", p - 1, v);
	for (t = s; *t && *t != 'e'; t++)
		if (*t >= '0' && *t <= '9')
			dig[n++] = *t;
	dig[n] = '\0';
	*e = (int)strtol(t + 1, NULL, 10);
}

/* Whether some p-digit decimal reads back as v: the nearest one, or its
 * neighbour on the wider side of a power of two, whose rounding interval
 * is lopsided. On success dig and *e hold it. */
static bool digits_at(double v, int p, char dig[18], int *e)
{
	char alt[18];
	int d, ae;

	nearest(v, p, dig, e);
	if (round_trips(dig, p, *e, v))
		return true;
	for (d = -1; d <= 1; d += 2) {
		memcpy(alt, dig, 18);
		ae = *e;
		step(alt, p, &ae, d);
		if (round_trips(alt, p, ae, v)) {
			memcpy(dig, alt, 18);
			*e = ae;
			return true;
		}
	}
	return false;
}

/* Integers below 2^53 are exact, so their own digits are the shortest. */
static bool integer_digits(double v, char dig[18], int *e)
{
	uint64_t u;
	char tmp[20];
	int n = 0, i;

	if (v >= 9007199254740992.0 || v != floor(v))
		return false;
	for (u = (uint64_t)v; u; u /= 10)
		tmp[n++] = (char)('0' + u % 10);
	*e = n - 1;
	for (i = 0; i < n; i++)
		dig[i] = tmp[n - 1 - i];
	dig[n] = '\0';
	return true;
}

/* ECMA-262 Number::toString step 5: the fewest digits s (k of them, value
 * 0.s * 10^n) that read back as v, the closest to v when several do. A
 * finer grid of decimals contains the coarser one, so whether p digits
 * suffice grows with p and a binary search finds the least p. */
static int shortest(double v, char dig[18], int *n)
{
	char got[18];
	int lo = 1, hi = 17, e = 0, ge = 0, found = 0, k;

	if (integer_digits(v, dig, &e))
		goto trim;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (digits_at(v, mid, got, &ge)) {
			hi = found = mid;
			memcpy(dig, got, 18);
			e = ge;
		} else {
			lo = mid + 1;
		}
	}
	if (found != hi)
		digits_at(v, hi, dig, &e);
trim:
	k = (int)strlen(dig);
	while (k > 1 && dig[k - 1] == '0')
		dig[--k] = '\0';
	*n = e + 1;
	return k;
}

/* Append c n times at o; returns the new end. */
static char *fill(char *o, char c, int n)
{
	while (n-- > 0)
		*o++ = c;
	return o;
}

static char *copy(char *o, const char *s, int n)
{
	memcpy(o, s, (size_t)n);
	return o + n;
}

/* ECMA-262 Number::toString steps 6 to 10 for digits dig (k of them) and
 * decimal exponent n (the value is 0.dig * 10^n). */
static char *layout(char *o, const char *dig, int k, int n)
{
	int e = n - 1;

	if (k <= n && n <= 21)
		return fill(copy(o, dig, k), '0', n - k);
	if (n > 0 && n <= 21) {
		o = copy(o, dig, n);
		*o++ = '.';
		return copy(o, dig + n, k - n);
	}
	if (n > -6 && n <= 0) {
		o = fill(copy(o, "0.", 2), '0', -n);
		return copy(o, dig, k);
	}
	*o++ = dig[0];
	if (k > 1) {
		*o++ = '.';
		o = copy(o, dig + 1, k - 1);
	}
	return o + sprintf(o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

int isim_number_format(double v, char buf[static ISIM_NUMBER_MAX])
{
	char dig[18];
	char *o = buf;
	int k, n;

	if (!isfinite(v))
		return -1;
	if (v == 0) {
		memcpy(buf, "0", 2);
		return 1;
	}
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	k = shortest(v, dig, &n);
	o = layout(o, dig, k, n);
	*o = '\0';
	return (int)(o - buf);
}
