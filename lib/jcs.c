/* SPDX-License-Identifier: MIT */
/* RFC 8785 JSON Canonicalization Scheme over a strict I-JSON (RFC 7493)
 * reader of our own: a lenient parser would silently normalise exactly the
 * inputs that make two parties disagree about what was signed. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/jcs.h"
#include "isim/json.h"

enum jv_type {
	JV_NULL,
	JV_FALSE,
	JV_TRUE,
	JV_NUMBER,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT
};

struct jmember;

/* A parsed value; strings are UTF-8 with an explicit length, as they may
 * hold U+0000. off is where the value starts in the input. */
struct jv {
	enum jv_type type;
	size_t off;
	union {
		double num;
		struct {
			char *s;
			size_t len;
		} str;
		struct {
			struct jv *v;
			size_t n, cap;
		} arr;
		struct {
			struct jmember *m;
			struct jmember **sorted;
			size_t n, cap;
		} obj;
	} u;
};

struct jmember {
	char *name;
	size_t len;
	size_t off;
	struct jv val;
};

struct parser {
	const unsigned char *s;
	size_t len, pos;
	const char *name;
	struct isim_error *err;
	struct isim_buf sb;
	bool refuse_nul;
};

static void jv_free(struct jv *v)
{
	size_t i;

	switch (v->type) {
	case JV_STRING:
		free(v->u.str.s);
		break;
	case JV_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			jv_free(&v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case JV_OBJECT:
		for (i = 0; i < v->u.obj.n; i++) {
			free(v->u.obj.m[i].name);
			jv_free(&v->u.obj.m[i].val);
		}
		free(v->u.obj.m);
		free(v->u.obj.sorted);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof(*v));
}

/* ---- errors ---------------------------------------------------------- */

static int failv(struct parser *p, size_t off, const char *fmt, va_list ap) ISIM_PRINTF(3, 0);
static int fail(struct parser *p, size_t off, const char *fmt, ...) ISIM_PRINTF(3, 4);

static int failv(struct parser *p, size_t off, const char *fmt, va_list ap)
{
	int line = 1, col = 1;
	size_t i;

	for (i = 0; i < off && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	isim_error_at(p->err, p->name ? p->name : "", line, col);
	return isim_error_setv(p->err, ISIM_ERR_DATA, fmt, ap);
}

static int fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(p, off, fmt, ap);
	va_end(ap);
	return -1;
}

static int nomem(struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

/* The byte at p->pos for a message: 'x', or its value when not printable. */
static const char *describe(const struct parser *p, char *buf, size_t size)
{
	unsigned char c = p->s[p->pos];

	if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02X", c);
	return buf;
}

/* "unexpected 'x', expected WHAT" at p->pos. */
static int fail_unexpected(struct parser *p, const char *what)
{
	char c[16];

	if (p->pos >= p->len)
		return fail(p, p->pos, "unexpected end of input, expected %s", what);
	if (p->pos == 0 && p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0)
		return fail(p, 0, "byte order mark at start of input");
	return fail(p, p->pos, "unexpected %s, expected %s", describe(p, c, sizeof(c)), what);
}

/* Append s[0..n) to b for a message: quoted and escaped as JCS writes
 * strings, cut short on a character boundary after about max bytes. */
static void put_string(struct isim_buf *b, const char *s, size_t n);

static void quote_for_message(char *dst, size_t size, const char *s, size_t n, size_t max)
{
	struct isim_buf b = { 0 };
	size_t cut = n;
	char *t;

	if (n > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	put_string(&b, s, cut);
	if (cut < n)
		isim_buf_puts(&b, "...");
	t = isim_buf_take(&b);
	snprintf(dst, size, "%s", t ? t : "\"\"");
	free(t);
}

/* ---- UTF-8 and UTF-16 ---------------------------------------------- */

/* Length of the UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0 when
 * it is not well-formed (RFC 3629 section 4): then *bad is the offset of
 * the offending byte and why says what is wrong. */
static size_t utf8_len(const unsigned char *s, size_t n, size_t *bad, char *why, size_t whysize)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*bad = 0;
	if (c < 0xc0) {
		snprintf(why, whysize, "invalid UTF-8 byte 0x%02X (continuation byte without a lead byte)", c);
		return 0;
	}
	if (c < 0xc2) {
		snprintf(why, whysize, "invalid UTF-8 byte 0x%02X (overlong encoding)", c);
		return 0;
	}
	if (c > 0xf7) {
		snprintf(why, whysize, "invalid UTF-8 byte 0x%02X (never used in UTF-8)", c);
		return 0;
	}
	if (c > 0xf4) {
		snprintf(why, whysize, "invalid UTF-8 byte 0x%02X (code point beyond U+10FFFF)", c);
		return 0;
	}
	need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i <= need; i++) {
		if (i >= n || (s[i] & 0xc0) != 0x80) {
			snprintf(why, whysize, "truncated UTF-8 sequence starting with 0x%02X", c);
			return 0;
		}
		if (i == 1 && (s[1] < lo || s[1] > hi)) {
			*bad = 1;
			snprintf(why, whysize, "invalid UTF-8 byte 0x%02X after 0x%02X (%s)", s[1], c,
				 c == 0xed   ? "surrogate encoded in UTF-8"
				 : c == 0xf4 ? "code point beyond U+10FFFF"
					     : "overlong encoding");
			return 0;
		}
	}
	return need + 1;
}

/* Offset of the first ill-formed byte of s[0..n) and why, or -1 if none. */
static long utf8_check(const char *str, size_t n, char *why, size_t whysize)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, bad;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_len(s + i, n - i, &bad, why, whysize);
		if (!k)
			return (long)(i + bad);
		i += k;
	}
	return -1;
}

/* Decode one code point of well-formed UTF-8; returns its length. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 |
	      (s[3] & 0x3f);
	return 4;
}

static size_t utf8_encode(uint32_t cp, char out[4])
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
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The first UTF-16 code unit of cp. */
static uint32_t utf16_lead(uint32_t cp)
{
	return cp < 0x10000 ? cp : 0xd800 + ((cp - 0x10000) >> 10);
}

/* RFC 8785 section 3.2.3: names sort by their UTF-16 code units, which
 * differs from code point order where U+E000..U+FFFF meet supplementary
 * characters (whose high surrogates sort lower). */
static int cmp_utf16(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0, j = 0;
	uint32_t ca, cb, ua, ub;

	while (i < alen && j < blen) {
		if (x[i] == y[j] && x[i] < 0x80) {
			i++;
			j++;
			continue;
		}
		i += utf8_decode(x + i, &ca);
		j += utf8_decode(y + j, &cb);
		if (ca == cb)
			continue;
		ua = utf16_lead(ca);
		ub = utf16_lead(cb);
		if (ua != ub)
			return ua < ub ? -1 : 1;
		return ca < cb ? -1 : 1;
	}
	if (i < alen)
		return 1;
	return j < blen ? -1 : 0;
}

static int cmp_members(const void *pa, const void *pb)
{
	const struct jmember *a = *(const struct jmember *const *)pa;
	const struct jmember *b = *(const struct jmember *const *)pb;
	int c = cmp_utf16(a->name, a->len, b->name, b->len);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* Sort an object's members into o->u.obj.sorted. Returns the member that
 * repeats an earlier name (the first such in document order), or NULL. On
 * no memory returns NULL with *oom set. */
static const struct jmember *sort_members(struct jv *o, bool *oom)
{
	const struct jmember *dup = NULL, *a, *b;
	size_t i, n = o->u.obj.n;

	*oom = false;
	if (!n)
		return NULL;
	o->u.obj.sorted = calloc(n, sizeof(*o->u.obj.sorted));
	if (!o->u.obj.sorted) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		o->u.obj.sorted[i] = &o->u.obj.m[i];
	qsort(o->u.obj.sorted, n, sizeof(*o->u.obj.sorted), cmp_members);
	for (i = 1; i < n; i++) {
		a = o->u.obj.sorted[i - 1];
		b = o->u.obj.sorted[i];
		if (a->len == b->len && memcmp(a->name, b->name, a->len) == 0 && (!dup || b < dup))
			dup = b;
	}
	return dup;
}

/* ---- serialization ------------------------------------------------- */

/* RFC 8785 section 3.2.2.2: escape only '"', '\\' and controls, the
 * controls that have one by their short form, the rest as \u00xx. */
static void put_string(struct isim_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char esc[7];

	isim_buf_putn(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		isim_buf_putn(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			e = esc;
			break;
		}
		isim_buf_puts(b, e);
	}
	isim_buf_putn(b, s + run, n - run);
	isim_buf_putn(b, "\"", 1);
}

static void put_value(struct isim_buf *b, const struct jv *v)
{
	char num[ISIM_JCS_NUMBER_MAX];
	size_t i;

	switch (v->type) {
	case JV_NULL:
		isim_buf_putn(b, "null", 4);
		break;
	case JV_FALSE:
		isim_buf_putn(b, "false", 5);
		break;
	case JV_TRUE:
		isim_buf_putn(b, "true", 4);
		break;
	case JV_NUMBER:
		/* finite by construction */
		if (isim_jcs_format_number(v->u.num, num) > 0)
			isim_buf_puts(b, num);
		break;
	case JV_STRING:
		put_string(b, v->u.str.s, v->u.str.len);
		break;
	case JV_ARRAY:
		isim_buf_putn(b, "[", 1);
		for (i = 0; i < v->u.arr.n; i++) {
			if (i)
				isim_buf_putn(b, ",", 1);
			put_value(b, &v->u.arr.v[i]);
		}
		isim_buf_putn(b, "]", 1);
		break;
	case JV_OBJECT:
		isim_buf_putn(b, "{", 1);
		for (i = 0; i < v->u.obj.n; i++) {
			const struct jmember *m = v->u.obj.sorted[i];

			if (i)
				isim_buf_putn(b, ",", 1);
			put_string(b, m->name, m->len);
			isim_buf_putn(b, ":", 1);
			put_value(b, &m->val);
		}
		isim_buf_putn(b, "}", 1);
		break;
	}
}

/* Serialize v after what out holds; on no memory restore out and fail. */
static int emit(const struct jv *v, struct isim_buf *out, struct isim_error *err)
{
	size_t start = out->len;

	if (out->oom)
		return nomem(err);
	put_value(out, v);
	if (out->oom) {
		out->oom = false;
		out->len = start;
		if (out->s)
			out->s[start] = '\0';
		return nomem(err);
	}
	return 0;
}

/* ---- numbers ------------------------------------------------------- */

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

int isim_jcs_format_number(double v, char buf[static ISIM_JCS_NUMBER_MAX])
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

/* ---- parser -------------------------------------------------------- */

static int parse_value(struct parser *p, struct jv *v, int depth);

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int hex4(const unsigned char *s, size_t avail, uint32_t *cp, size_t *bad)
{
	size_t i;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = i < avail ? s[i] : 0;
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else {
			*bad = i;
			return -1;
		}
		*cp = *cp << 4 | d;
	}
	return 0;
}

/* A \uXXXX escape at p->pos (on the backslash), a surrogate pair taken
 * whole; RFC 7493 section 2.1 refuses lone surrogates. */
static int parse_u_escape(struct parser *p, size_t start, uint32_t *cp)
{
	size_t at = p->pos, bad, rest = p->len - p->pos;
	uint32_t lo;

	if (hex4(p->s + at + 2, rest - 2, cp, &bad) < 0) {
		if (at + 2 + bad >= p->len)
			return fail(p, start, "unterminated string");
		return fail(p, at + 2 + bad, "invalid \\u escape: hex digit expected");
	}
	p->pos += 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(p, at, "lone surrogate \\u%.4s", p->s + at + 2);
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (rest < 12 || p->s[at + 6] != '\\' || p->s[at + 7] != 'u' || hex4(p->s + at + 8, 4, &lo, &bad) < 0 ||
	    lo < 0xdc00 || lo > 0xdfff)
		return fail(p, at, "lone surrogate \\u%.4s", p->s + at + 2);
	p->pos += 6;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int parse_escape(struct parser *p, size_t start)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	char u8[4];
	uint32_t cp;
	unsigned char c;

	if (p->pos + 1 >= p->len)
		return fail(p, start, "unterminated string");
	c = p->s[p->pos + 1];
	if (c == 'u') {
		if (parse_u_escape(p, start, &cp) < 0)
			return -1;
		if (cp == 0 && p->refuse_nul)
			return fail(p, p->pos - 6, "\\u0000 in a string is not supported here");
		isim_buf_putn(&p->sb, u8, utf8_encode(cp, u8));
		return 0;
	}
	k = c ? strchr(from, c) : NULL;
	if (!k) {
		if (c > 0x20 && c < 0x7f)
			return fail(p, p->pos, "invalid escape \\%c", c);
		return fail(p, p->pos, "invalid escape: backslash followed by byte 0x%02X", c);
	}
	isim_buf_putn(&p->sb, &to[k - from], 1);
	p->pos += 2;
	return 0;
}

/* A string at p->pos (on the quote), unescaped into a new NUL-terminated
 * buffer *out of *outlen bytes. */
static int parse_string(struct parser *p, char **out, size_t *outlen)
{
	size_t start = p->pos, k, bad;
	char why[128];

	p->sb.len = 0;
	p->pos++;
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return fail(p, start, "unterminated string");
		c = p->s[p->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			if (parse_escape(p, start) < 0)
				return -1;
			continue;
		}
		if (c < 0x20)
			return fail(p, p->pos, "unescaped control character 0x%02X in string", c);
		k = 1;
		if (c >= 0x80 && !(k = utf8_len(p->s + p->pos, p->len - p->pos, &bad, why, sizeof(why))))
			return fail(p, p->pos + bad, "%s", why);
		isim_buf_putn(&p->sb, (const char *)p->s + p->pos, k);
		p->pos += k;
	}
	p->pos++;
	if (p->sb.oom)
		return nomem(p->err);
	*out = malloc(p->sb.len + 1);
	if (!*out)
		return nomem(p->err);
	if (p->sb.len)
		memcpy(*out, p->sb.s, p->sb.len);
	(*out)[p->sb.len] = '\0';
	*outlen = p->sb.len;
	return 0;
}

static bool is_digit(const struct parser *p, size_t at)
{
	return at < p->len && p->s[at] >= '0' && p->s[at] <= '9';
}

static size_t skip_digits(const struct parser *p, size_t at)
{
	while (is_digit(p, at))
		at++;
	return at;
}

/* The number s[start..end), known to match RFC 8259's grammar, read
 * without a decimal point so that the locale cannot matter. */
static int number_value(struct parser *p, size_t start, size_t end, double *v)
{
	const unsigned char *s = p->s;
	size_t i = start;
	long long exp = 0, frac = 0;
	bool neg = false, nonzero = false, in_frac = false;

	p->sb.len = 0;
	for (; i < end && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '-') {
			isim_buf_putn(&p->sb, "-", 1);
		} else if (s[i] == '.') {
			in_frac = true;
		} else {
			nonzero |= s[i] != '0';
			frac += in_frac;
			isim_buf_putn(&p->sb, (const char *)s + i, 1);
		}
	}
	if (i < end) {
		neg = s[++i] == '-';
		i += s[i] == '-' || s[i] == '+';
		for (; i < end; i++)
			if (exp < 1000000000)
				exp = exp * 10 + (s[i] - '0');
	}
	isim_buf_printf(&p->sb, "e%lld", (neg ? -exp : exp) - frac);
	if (p->sb.oom)
		return nomem(p->err);
	*v = strtod(p->sb.s, NULL);
	return isfinite(*v) && (*v != 0 || !nonzero) ? 0 : 1;
}

static int parse_number(struct parser *p, struct jv *v)
{
	size_t start = p->pos, at = p->pos;
	int r;

	at += p->s[at] == '-';
	if (!is_digit(p, at)) {
		p->pos = at;
		return fail_unexpected(p, "a digit");
	}
	if (p->s[at] == '0' && is_digit(p, at + 1))
		return fail(p, at + 1, "invalid number: leading zero");
	at = skip_digits(p, at);
	if (at < p->len && p->s[at] == '.') {
		if (!is_digit(p, at + 1)) {
			p->pos = at + 1;
			return fail_unexpected(p, "a digit after '.'");
		}
		at = skip_digits(p, at + 1);
	}
	if (at < p->len && (p->s[at] == 'e' || p->s[at] == 'E')) {
		at++;
		at += at < p->len && (p->s[at] == '+' || p->s[at] == '-');
		if (!is_digit(p, at)) {
			p->pos = at;
			return fail_unexpected(p, "a digit in the exponent");
		}
		at = skip_digits(p, at);
	}
	r = number_value(p, start, at, &v->u.num);
	if (r < 0)
		return -1;
	if (r > 0) {
		return fail(p, start, "number out of range: %.*s%s", (int)(at - start > 40 ? 40 : at - start),
			    (const char *)p->s + start, at - start > 40 ? "..." : "");
	}
	v->type = JV_NUMBER;
	p->pos = at;
	return 0;
}

static int parse_literal(struct parser *p, struct jv *v, const char *word, enum jv_type type)
{
	size_t i;

	for (i = 0; word[i]; i++) {
		if (p->pos + i >= p->len || p->s[p->pos + i] != (unsigned char)word[i]) {
			char what[16];

			p->pos += i;
			snprintf(what, sizeof(what), "'%s'", word);
			return fail_unexpected(p, what);
		}
	}
	p->pos += i;
	v->type = type;
	return 0;
}

static int parse_array(struct parser *p, struct jv *v, int depth)
{
	struct jv *grown;

	v->type = JV_ARRAY;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (v->u.arr.n == v->u.arr.cap) {
			size_t cap = v->u.arr.cap ? 2 * v->u.arr.cap : 4;

			grown = realloc(v->u.arr.v, cap * sizeof(*grown));
			if (!grown)
				return nomem(p->err);
			v->u.arr.v = grown;
			v->u.arr.cap = cap;
		}
		memset(&v->u.arr.v[v->u.arr.n], 0, sizeof(struct jv));
		v->u.arr.n++;
		if (parse_value(p, &v->u.arr.v[v->u.arr.n - 1], depth) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		return fail_unexpected(p, "',' or ']'");
	}
}

static struct jmember *add_member(struct jv *o)
{
	struct jmember *grown;

	if (o->u.obj.n == o->u.obj.cap) {
		size_t cap = o->u.obj.cap ? 2 * o->u.obj.cap : 4;

		grown = realloc(o->u.obj.m, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		o->u.obj.m = grown;
		o->u.obj.cap = cap;
	}
	memset(&o->u.obj.m[o->u.obj.n], 0, sizeof(struct jmember));
	return &o->u.obj.m[o->u.obj.n++];
}

static int parse_member(struct parser *p, struct jv *o, int depth)
{
	struct jmember *m;

	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail_unexpected(p, "a member name");
	m = add_member(o);
	if (!m)
		return nomem(p->err);
	m->off = p->pos;
	if (parse_string(p, &m->name, &m->len) < 0)
		return -1;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail_unexpected(p, "':' after the member name");
	p->pos++;
	return parse_value(p, &m->val, depth);
}

static int finish_object(struct parser *p, struct jv *o)
{
	const struct jmember *dup;
	char q[160];
	bool oom;

	dup = sort_members(o, &oom);
	if (oom)
		return nomem(p->err);
	if (!dup)
		return 0;
	quote_for_message(q, sizeof(q), dup->name, dup->len, 64);
	return fail(p, dup->off, "duplicate member name %s", q);
}

static int parse_object(struct parser *p, struct jv *v, int depth)
{
	v->type = JV_OBJECT;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (parse_member(p, v, depth) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			return finish_object(p, v);
		}
		return fail_unexpected(p, "',' or '}'");
	}
}

static int parse_value(struct parser *p, struct jv *v, int depth)
{
	skip_ws(p);
	v->off = p->pos;
	if (p->pos >= p->len)
		return fail_unexpected(p, "a value");
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if (depth >= ISIM_JCS_MAX_DEPTH)
			return fail(p, p->pos, "nesting deeper than %d levels", ISIM_JCS_MAX_DEPTH);
		if (p->s[p->pos] == '{')
			return parse_object(p, v, depth + 1);
		return parse_array(p, v, depth + 1);
	case '"':
		v->type = JV_STRING;
		return parse_string(p, &v->u.str.s, &v->u.str.len);
	case 't':
		return parse_literal(p, v, "true", JV_TRUE);
	case 'f':
		return parse_literal(p, v, "false", JV_FALSE);
	case 'n':
		return parse_literal(p, v, "null", JV_NULL);
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return parse_number(p, v);
		return fail_unexpected(p, "a value");
	}
}

/* Parse the whole of in[0..len) into *root. */
static int parse_document(struct parser *p, struct jv *root)
{
	int ret = -1;

	memset(root, 0, sizeof(*root));
	if (parse_value(p, root, 0) < 0)
		goto out;
	skip_ws(p);
	if (p->pos < p->len) {
		char c[16];

		fail(p, p->pos, "unexpected %s after the JSON value", describe(p, c, sizeof(c)));
		goto out;
	}
	ret = 0;
out:
	isim_buf_free(&p->sb);
	if (ret < 0)
		jv_free(root);
	return ret;
}

int isim_jcs_canonicalize(const char *in, size_t len, const char *name, struct isim_buf *out, struct isim_error *err)
{
	struct parser p = { .s = (const unsigned char *)in, .len = len, .name = name, .err = err };
	struct jv root;
	int ret;

	isim_error_clear(err);
	if (parse_document(&p, &root) < 0)
		return -1;
	ret = emit(&root, out, err);
	jv_free(&root);
	return ret;
}

/* ---- cJSON --------------------------------------------------------- */

static cJSON *to_cjson(const struct jv *v);

static cJSON *add_or_drop(cJSON *c, cJSON *item, const char *name)
{
	bool ok = item && (name ? cJSON_AddItemToObject(c, name, item) : cJSON_AddItemToArray(c, item));

	if (ok)
		return c;
	cJSON_Delete(item);
	cJSON_Delete(c);
	return NULL;
}

static cJSON *to_cjson_container(const struct jv *v)
{
	cJSON *c;
	size_t i;

	if (v->type == JV_ARRAY) {
		c = cJSON_CreateArray();
		for (i = 0; c && i < v->u.arr.n; i++)
			c = add_or_drop(c, to_cjson(&v->u.arr.v[i]), NULL);
		return c;
	}
	c = cJSON_CreateObject();
	for (i = 0; c && i < v->u.obj.n; i++)
		c = add_or_drop(c, to_cjson(&v->u.obj.m[i].val), v->u.obj.m[i].name);
	return c;
}

static cJSON *to_cjson(const struct jv *v)
{
	switch (v->type) {
	case JV_NULL:
		return cJSON_CreateNull();
	case JV_FALSE:
		return cJSON_CreateFalse();
	case JV_TRUE:
		return cJSON_CreateTrue();
	case JV_NUMBER:
		return cJSON_CreateNumber(v->u.num);
	case JV_STRING:
		return cJSON_CreateString(v->u.str.s);
	default:
		return to_cjson_container(v);
	}
}

cJSON *isim_jcs_parse(const char *in, size_t len, const char *name, struct isim_error *err)
{
	struct parser p = { .s = (const unsigned char *)in, .len = len, .name = name, .err = err, .refuse_nul = true };
	struct jv root;
	cJSON *doc;

	isim_error_clear(err);
	if (parse_document(&p, &root) < 0)
		return NULL;
	doc = to_cjson(&root);
	jv_free(&root);
	if (!doc)
		nomem(err);
	return doc;
}

/* Reading a cJSON tree: the items from the root down to the current one,
 * so that an error can name its JSON pointer. */
struct conv {
	const cJSON *stack[ISIM_JCS_MAX_DEPTH + 2];
	struct isim_error *err;
};

static int conv_value(struct conv *c, const cJSON *item, struct jv *v, int depth);

static int conv_fail(struct conv *c, int depth, const char *fmt, ...) ISIM_PRINTF(3, 4);

static int conv_fail(struct conv *c, int depth, const char *fmt, ...)
{
	char ptr[sizeof(c->err->pointer)] = "", next[sizeof(ptr)];
	const cJSON *it;
	bool ok = true;
	va_list ap;
	int l, i;

	if (!c->err)
		return -1;
	/* A pointer too long for err keeps its first tokens. */
	for (l = 1; l <= depth && ok; l++) {
		memcpy(next, ptr, sizeof(ptr));
		if (cJSON_IsObject(c->stack[l - 1])) {
			ok = isim_json_pointer_push(next, sizeof(next), c->stack[l]->string);
		} else {
			for (i = 0, it = c->stack[l - 1]->child; it && it != c->stack[l]; it = it->next)
				i++;
			ok = isim_json_pointer_push_index(next, sizeof(next), i);
		}
		if (ok)
			memcpy(ptr, next, sizeof(ptr));
	}
	isim_error_pointer(c->err, ptr);
	va_start(ap, fmt);
	isim_error_setv(c->err, ISIM_ERR_DATA, fmt, ap);
	va_end(ap);
	return -1;
}

static int conv_string(struct conv *c, int depth, const char *s, const char *what, char **out, size_t *outlen)
{
	char why[128];
	size_t n;

	if (!s)
		return conv_fail(c, depth, "%s without a value", what);
	n = strlen(s);
	if (utf8_check(s, n, why, sizeof(why)) >= 0)
		return conv_fail(c, depth, "%s in %s", why, what);
	*out = strdup(s);
	if (!*out)
		return nomem(c->err);
	*outlen = n;
	return 0;
}

static int conv_object(struct conv *c, const cJSON *item, struct jv *v, int depth)
{
	const struct jmember *dup;
	struct jmember *m;
	const cJSON *ch;
	char q[160];
	bool oom;

	v->type = JV_OBJECT;
	for (ch = item->child; ch; ch = ch->next) {
		c->stack[depth + 1] = ch;
		m = add_member(v);
		if (!m)
			return nomem(c->err);
		if (conv_string(c, depth + 1, ch->string, "member name", &m->name, &m->len) < 0 ||
		    conv_value(c, ch, &m->val, depth + 1) < 0)
			return -1;
	}
	dup = sort_members(v, &oom);
	if (oom)
		return nomem(c->err);
	if (!dup)
		return 0;
	for (ch = item->child; dup != v->u.obj.m; dup--)
		ch = ch->next;
	c->stack[depth + 1] = ch;
	quote_for_message(q, sizeof(q), ch->string, strlen(ch->string), 64);
	return conv_fail(c, depth + 1, "duplicate member name %s", q);
}

static int conv_array(struct conv *c, const cJSON *item, struct jv *v, int depth)
{
	const cJSON *ch;
	struct jv *grown;
	size_t n = 0;

	v->type = JV_ARRAY;
	for (ch = item->child; ch; ch = ch->next)
		n++;
	if (!n)
		return 0;
	grown = calloc(n, sizeof(*grown));
	if (!grown)
		return nomem(c->err);
	v->u.arr.v = grown;
	v->u.arr.cap = n;
	for (ch = item->child; ch; ch = ch->next) {
		c->stack[depth + 1] = ch;
		v->u.arr.n++;
		if (conv_value(c, ch, &v->u.arr.v[v->u.arr.n - 1], depth + 1) < 0)
			return -1;
	}
	return 0;
}

static int conv_value(struct conv *c, const cJSON *item, struct jv *v, int depth)
{
	double d;

	c->stack[depth] = item;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		v->type = JV_NULL;
		return 0;
	case cJSON_False:
		v->type = JV_FALSE;
		return 0;
	case cJSON_True:
		v->type = JV_TRUE;
		return 0;
	case cJSON_Number:
		d = item->valuedouble;
		if (!isfinite(d))
			return conv_fail(c, depth, "number is not finite: %s",
					 isnan(d) ? "NaN"
					 : d < 0  ? "-Infinity"
						  : "Infinity");
		v->type = JV_NUMBER;
		v->u.num = d;
		return 0;
	case cJSON_String:
		v->type = JV_STRING;
		return conv_string(c, depth, item->valuestring, "string", &v->u.str.s, &v->u.str.len);
	case cJSON_Array:
	case cJSON_Object:
		if (depth >= ISIM_JCS_MAX_DEPTH)
			return conv_fail(c, depth, "nesting deeper than %d levels", ISIM_JCS_MAX_DEPTH);
		if (item->type & cJSON_Array)
			return conv_array(c, item, v, depth);
		return conv_object(c, item, v, depth);
	case cJSON_Raw:
		return conv_fail(c, depth, "raw JSON text cannot be canonicalized");
	default:
		return conv_fail(c, depth, "invalid cJSON item of type %d", item->type & 0xff);
	}
}

int isim_jcs_from_cjson(const cJSON *v, struct isim_buf *out, struct isim_error *err)
{
	struct conv *c;
	struct jv root;
	int ret = -1;

	isim_error_clear(err);
	memset(&root, 0, sizeof(root));
	if (!v)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "no JSON value to canonicalize");
	c = calloc(1, sizeof(*c));
	if (!c)
		return nomem(err);
	c->err = err;
	if (conv_value(c, v, &root, 0) == 0)
		ret = emit(&root, out, err);
	jv_free(&root);
	free(c);
	return ret;
}
