/* SPDX-License-Identifier: MIT */
/* JSON in and out. The reader is our own and strict I-JSON (RFC 7493):
 * cJSON is lax (leading zeros, "1.", raw control characters, invalid
 * UTF-8, U+0000 that cuts a string, names duplicated once unescaped), and
 * a lenient reader would silently normalise exactly the inputs that make
 * two parties disagree about what was signed. It says at which line,
 * column and JSON pointer each fault is. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/file.h"
#include "isim/number.h"
#include "isim/json.h"
#include "isim/utf8.h"

struct parser {
	const unsigned char *s;
	size_t len, pos;
	const char *name;
	struct isim_error *err;
	struct isim_buf sb;
	bool refuse_nul;
	/* The RFC 6901 pointer of the value being read; a name too long
	 * for it leaves it at the containing value. */
	char ptr[sizeof(((struct isim_error *)0)->pointer)];
};

void isim_jv_free(struct isim_jv *v)
{
	size_t i;

	switch (v->type) {
	case ISIM_JV_STRING:
		free(v->u.str.s);
		break;
	case ISIM_JV_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			isim_jv_free(&v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case ISIM_JV_OBJECT:
		for (i = 0; i < v->u.obj.n; i++) {
			free(v->u.obj.m[i].name);
			isim_jv_free(&v->u.obj.m[i].val);
		}
		free(v->u.obj.m);
		free(v->u.obj.sorted);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof(*v));
}

/* RFC 8785 section 3.2.2.2: escape only '"', '\\' and controls, the
 * controls that have one by their short form, the rest as \u00xx. */
void isim_json_quote(struct isim_buf *b, const char *s, size_t n)
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
	isim_error_pointer(p->err, p->ptr);
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

void isim_json_quote_message(char *dst, size_t size, const char *s, size_t n, size_t max)
{
	struct isim_buf b = { 0 };
	size_t cut = isim_utf8_cut(s, n, max);
	char *t;

	isim_json_quote(&b, s, cut);
	if (cut < n)
		isim_buf_puts(&b, "...");
	t = isim_buf_take(&b);
	snprintf(dst, size, "%s", t ? t : "\"\"");
	free(t);
}

/* ---- parser -------------------------------------------------------- */

static int parse_value(struct parser *p, struct isim_jv *v, int depth);

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
		isim_buf_putn(&p->sb, u8, isim_utf8_encode(cp, u8));
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
	size_t start = p->pos, k;
	char why[128];
	uint32_t cp;
	long bad;

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
		k = isim_utf8_next((const char *)p->s + p->pos, p->len - p->pos, &cp);
		if (cp == ISIM_UTF8_BAD) {
			bad = isim_utf8_check((const char *)p->s + p->pos, p->len - p->pos, why, sizeof(why));
			return fail(p, p->pos + (size_t)bad, "%s", why);
		}
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

static int parse_number(struct parser *p, struct isim_jv *v)
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
	v->type = ISIM_JV_NUMBER;
	p->pos = at;
	return 0;
}

static int parse_literal(struct parser *p, struct isim_jv *v, const char *word, enum isim_jv_type type)
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

static int parse_array(struct parser *p, struct isim_jv *v, int depth)
{
	struct isim_jv *grown;
	size_t old;

	v->type = ISIM_JV_ARRAY;
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
		memset(&v->u.arr.v[v->u.arr.n], 0, sizeof(struct isim_jv));
		v->u.arr.n++;
		old = strlen(p->ptr);
		isim_json_pointer_push_index(p->ptr, sizeof(p->ptr), (int)(v->u.arr.n - 1));
		if (parse_value(p, &v->u.arr.v[v->u.arr.n - 1], depth) < 0)
			return -1;
		p->ptr[old] = '\0';
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

static struct isim_jmember *add_member(struct isim_jv *o)
{
	struct isim_jmember *grown;

	if (o->u.obj.n == o->u.obj.cap) {
		size_t cap = o->u.obj.cap ? 2 * o->u.obj.cap : 4;

		grown = realloc(o->u.obj.m, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		o->u.obj.m = grown;
		o->u.obj.cap = cap;
	}
	memset(&o->u.obj.m[o->u.obj.n], 0, sizeof(struct isim_jmember));
	return &o->u.obj.m[o->u.obj.n++];
}

static int parse_member(struct parser *p, struct isim_jv *o, int depth)
{
	struct isim_jmember *m;
	size_t old = strlen(p->ptr);

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
	isim_json_pointer_push(p->ptr, sizeof(p->ptr), m->name);
	if (parse_value(p, &m->val, depth) < 0)
		return -1;
	p->ptr[old] = '\0';
	return 0;
}

static int cmp_names(const void *pa, const void *pb)
{
	const struct isim_jmember *a = *(const struct isim_jmember *const *)pa;
	const struct isim_jmember *b = *(const struct isim_jmember *const *)pb;
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* The member that repeats an earlier name, the first such in document
 * order, or NULL; *oom when there was no memory to look. */
static const struct isim_jmember *find_duplicate(const struct isim_jv *o, bool *oom)
{
	const struct isim_jmember **by_name, *dup = NULL, *a, *b;
	size_t i, n = o->u.obj.n;

	*oom = false;
	if (n < 2)
		return NULL;
	by_name = calloc(n, sizeof(*by_name));
	if (!by_name) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		by_name[i] = &o->u.obj.m[i];
	qsort(by_name, n, sizeof(*by_name), cmp_names);
	for (i = 1; i < n; i++) {
		a = by_name[i - 1];
		b = by_name[i];
		if (a->len == b->len && memcmp(a->name, b->name, a->len) == 0 && (!dup || b < dup))
			dup = b;
	}
	free(by_name);
	return dup;
}

static int finish_object(struct parser *p, struct isim_jv *o)
{
	const struct isim_jmember *dup;
	char q[160];
	bool oom;

	dup = find_duplicate(o, &oom);
	if (oom)
		return nomem(p->err);
	if (!dup)
		return 0;
	isim_json_quote_message(q, sizeof(q), dup->name, dup->len, 64);
	isim_json_pointer_push(p->ptr, sizeof(p->ptr), dup->name);
	return fail(p, dup->off, "duplicate member name %s", q);
}

static int parse_object(struct parser *p, struct isim_jv *v, int depth)
{
	v->type = ISIM_JV_OBJECT;
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

static int parse_value(struct parser *p, struct isim_jv *v, int depth)
{
	skip_ws(p);
	v->off = p->pos;
	if (p->pos >= p->len)
		return fail_unexpected(p, "a value");
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if (depth >= ISIM_JSON_MAX_DEPTH)
			return fail(p, p->pos, "nesting deeper than %d levels", ISIM_JSON_MAX_DEPTH);
		if (p->s[p->pos] == '{')
			return parse_object(p, v, depth + 1);
		return parse_array(p, v, depth + 1);
	case '"':
		v->type = ISIM_JV_STRING;
		return parse_string(p, &v->u.str.s, &v->u.str.len);
	case 't':
		return parse_literal(p, v, "true", ISIM_JV_TRUE);
	case 'f':
		return parse_literal(p, v, "false", ISIM_JV_FALSE);
	case 'n':
		return parse_literal(p, v, "null", ISIM_JV_NULL);
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return parse_number(p, v);
		return fail_unexpected(p, "a value");
	}
}

/* Parse the whole of in[0..len) into *root. */
static int parse_document(struct parser *p, struct isim_jv *root)
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
		isim_jv_free(root);
	return ret;
}

int isim_json_parse_tree(const char *text, size_t len, const char *name, struct isim_jv *root, struct isim_error *err)
{
	struct parser p = { .s = (const unsigned char *)text, .len = len, .name = name, .err = err };

	isim_error_clear(err);
	return parse_document(&p, root);
}

/* ---- into cJSON ---------------------------------------------------- */

static cJSON *to_cjson(const struct isim_jv *v);

static cJSON *add_or_drop(cJSON *c, cJSON *item, const char *name)
{
	bool ok = item && (name ? cJSON_AddItemToObject(c, name, item) : cJSON_AddItemToArray(c, item));

	if (ok)
		return c;
	cJSON_Delete(item);
	cJSON_Delete(c);
	return NULL;
}

static cJSON *to_cjson_container(const struct isim_jv *v)
{
	cJSON *c;
	size_t i;

	if (v->type == ISIM_JV_ARRAY) {
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

static cJSON *to_cjson(const struct isim_jv *v)
{
	switch (v->type) {
	case ISIM_JV_NULL:
		return cJSON_CreateNull();
	case ISIM_JV_FALSE:
		return cJSON_CreateFalse();
	case ISIM_JV_TRUE:
		return cJSON_CreateTrue();
	case ISIM_JV_NUMBER:
		return cJSON_CreateNumber(v->u.num);
	case ISIM_JV_STRING:
		return cJSON_CreateString(v->u.str.s);
	default:
		return to_cjson_container(v);
	}
}

int isim_json_parse(const char *text, size_t len, const char *name, cJSON **out, struct isim_error *err)
{
	struct parser p = {
		.s = (const unsigned char *)text, .len = len, .name = name, .err = err, .refuse_nul = true
	};
	struct isim_jv root;

	*out = NULL;
	isim_error_clear(err);
	if (parse_document(&p, &root) < 0)
		return -1;
	*out = to_cjson(&root);
	isim_jv_free(&root);
	if (!*out)
		return nomem(err);
	return 0;
}

int isim_json_load_file(const char *path, cJSON **out, struct isim_error *err)
{
	char *text = NULL;
	size_t len;
	int ret;

	*out = NULL;
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0)
		return -1;
	ret = isim_json_parse(text, len, strcmp(path, "-") ? path : "<stdin>", out, err);
	free(text);
	return ret;
}

void isim_jsonl_init(struct isim_jsonl *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->name = name;
}

void isim_jsonl_free(struct isim_jsonl *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

/* Read one line without its '\n' into r->buf. 1 when there is one, 0 at
 * the end, -1 on a read error; *too_long when the line was cut, having
 * been read to its end all the same. A reader is one thread's: getc_unlocked
 * spares a lock a character. */
static int read_line(struct isim_jsonl *r, size_t *len, bool *too_long)
{
	size_t n = 0;
	int ch;

	*too_long = false;
	while ((ch = getc_unlocked(r->f)) != EOF && ch != '\n') {
		if (n >= ISIM_JSONL_MAX) {
			*too_long = true;
			continue;
		}
		if (n + 1 >= r->cap) {
			size_t ncap = r->cap ? r->cap * 2 : 4096;
			char *nbuf = realloc(r->buf, ncap);

			if (!nbuf)
				return -2;
			r->buf = nbuf;
			r->cap = ncap;
		}
		r->buf[n++] = (char)ch;
	}
	if (r->buf)
		r->buf[n] = '\0';
	if (ch == EOF && ferror(r->f))
		return -1;
	if (ch == EOF && n == 0 && !*too_long)
		return 0;
	*len = n;
	return 1;
}

int isim_jsonl_next(struct isim_jsonl *r, cJSON **out, struct isim_error *err)
{
	bool too_long;
	size_t len = 0;
	int got;

	*out = NULL;
	errno = 0;
	got = read_line(r, &len, &too_long);
	if (got == 0)
		return 0;
	if (got == -2)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	r->line++;
	isim_error_at(err, r->name, r->line, 0);
	isim_error_pointer(err, "");
	if (got < 0)
		return isim_error_errno(err, ISIM_ERR_IO, errno ? errno : EIO, "cannot read");
	if (too_long)
		return isim_error_set(err, ISIM_ERR_DATA, "line is longer than %u bytes", ISIM_JSONL_MAX);
	if (len == 0 || strspn(r->buf, " \t\r") == len)
		return isim_error_set(err, ISIM_ERR_DATA, "empty line (expected one JSON value)");
	if (isim_json_parse(r->buf, len, r->name, out, err) < 0) {
		/* The parser counted within the line. */
		if (err)
			isim_error_at(err, r->name, r->line, err->column);
		return -1;
	}
	return 1;
}

/* Turn each number below item into raw text in the shortest form that
 * reads back to the same double, as ECMAScript writes numbers (RFC 8785
 * section 3.2.2.3); a number that has none (NaN, infinities) becomes null,
 * as cJSON would print it. */
static int exact_numbers(cJSON *item)
{
	char num[ISIM_NUMBER_MAX];

	for (; item; item = item->next) {
		if (cJSON_IsNumber(item)) {
			char *raw;

			if (isim_number_format(item->valuedouble, num) < 0)
				memcpy(num, "null", 5);
			raw = strdup(num);
			if (!raw)
				return -1;
			item->type = cJSON_Raw;
			item->valuestring = raw;
		} else if (item->child && exact_numbers(item->child) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Replace *s, when it is not UTF-8, by its repair. 0, or -1 on no memory. */
static int repair(char **s, bool *was_const)
{
	char *fixed;

	if (!*s || isim_utf8_valid(*s, strlen(*s)))
		return 0;
	fixed = isim_utf8_repair(*s, strlen(*s), NULL);
	if (!fixed)
		return -1;
	if (!*was_const)
		free(*s);
	*s = fixed;
	*was_const = false;
	return 0;
}

/* RFC 8259 section 8.1: JSON exchanged between systems is UTF-8. Member
 * names and strings below item that are not (a file name, a comment, taken
 * from input) get U+FFFD for each ill-formed subpart. */
static int repair_strings(cJSON *item)
{
	bool is_const, never = false;

	for (; item; item = item->next) {
		is_const = item->type & cJSON_StringIsConst;
		if (repair(&item->string, &is_const) < 0)
			return -1;
		if (!is_const)
			item->type &= ~cJSON_StringIsConst;
		if ((cJSON_IsString(item) || cJSON_IsRaw(item)) && repair(&item->valuestring, &never) < 0)
			return -1;
		if (item->child && repair_strings(item->child) < 0)
			return -1;
	}
	return 0;
}

/* cJSON prints numbers with 15 significant digits whenever that reads back
 * nearly equal, so 9007199254740992 would come out as 9.00719925474099e+15
 * and 0.1 + 0.2 as 0.3. Print a copy with exact numbers, and with strings
 * made UTF-8, instead. */
char *isim_json_print(const cJSON *doc, bool formatted)
{
	cJSON *copy = cJSON_Duplicate(doc, true);
	char *s = NULL;

	if (copy && repair_strings(copy) == 0 && exact_numbers(copy) == 0)
		s = formatted ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return s;
}

char *isim_json_text(const cJSON *doc)
{
	char *s = isim_json_print(doc, true), *t;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

int isim_json_write(FILE *f, const cJSON *doc)
{
	char *s = isim_json_text(doc);
	int ret = -1;

	if (!s)
		return -1;
	if (fputs(s, f) >= 0)
		ret = 0;
	free(s);
	return ret;
}

int isim_json_write_line(FILE *f, const cJSON *doc)
{
	char *s = isim_json_print(doc, false);
	int ret = -1;

	if (!s)
		return -1;
	if (fputs(s, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0)
		ret = 0;
	free(s);
	return ret;
}

bool isim_json_pointer_push(char *buf, size_t size, const char *token)
{
	size_t start = strlen(buf), n = start;

	/* A member built without a name (cJSON_ReplaceItemViaPointer makes
	 * them) is pointed at as the empty name, which the error then says. */
	if (!token)
		token = "";
	if (n + 1 >= size)
		return false;
	buf[n++] = '/';
	for (; *token; token++) {
		const char *rep = *token == '~' ? "~0" : *token == '/' ? "~1" : NULL;
		size_t k = rep ? 2 : 1;

		if (n + k >= size) {
			buf[start] = '\0';
			return false;
		}
		if (rep) {
			memcpy(buf + n, rep, 2);
		} else {
			buf[n] = *token;
		}
		n += k;
	}
	buf[n] = '\0';
	return true;
}

bool isim_json_pointer_push_index(char *buf, size_t size, int index)
{
	char tok[16];

	snprintf(tok, sizeof(tok), "%d", index);
	return isim_json_pointer_push(buf, size, tok);
}

/* An RFC 6901 array index: "0", or digits without a leading zero. */
static bool array_index(const char *tok, int *out)
{
	long v = 0;

	if (!*tok || (tok[0] == '0' && tok[1]))
		return false;
	for (; *tok; tok++) {
		if (*tok < '0' || *tok > '9')
			return false;
		v = v * 10 + (*tok - '0');
		if (v > INT_MAX)
			return false;
	}
	*out = (int)v;
	return true;
}

cJSON *isim_json_pointer_get(const cJSON *doc, const char *pointer)
{
	const cJSON *cur = doc;
	char *tok, *w;
	int index;

	if (!pointer)
		return NULL;
	tok = malloc(strlen(pointer) + 1);
	if (!tok)
		return NULL;
	while (cur && *pointer == '/') {
		/* Section 4: "~1" is '/', "~0" is '~', and '~' before any
		 * other character is no pointer at all. */
		for (pointer++, w = tok; cur && *pointer && *pointer != '/'; pointer++) {
			if (*pointer != '~')
				*w++ = *pointer;
			else if (pointer[1] == '0' || pointer[1] == '1')
				*w++ = *++pointer == '0' ? '~' : '/';
			else
				cur = NULL;
		}
		*w = '\0';
		if (!cur)
			break;
		if (cJSON_IsArray(cur))
			cur = array_index(tok, &index) ? cJSON_GetArrayItem(cur, index) : NULL;
		else if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		else
			cur = NULL;
	}
	free(tok);
	/* cJSON's own getters hand out what a const tree holds the same way. */
	return *pointer ? NULL : (cJSON *)cur;
}

bool isim_json_is_integer(const cJSON *item)
{
	double d;

	if (!cJSON_IsNumber(item))
		return false;
	d = item->valuedouble;
	return isfinite(d) && floor(d) == d && fabs(d) <= 9007199254740992.0;
}
