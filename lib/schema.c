/* SPDX-License-Identifier: MIT */
/*
 * JSON Schema draft 2020-12 validation (json-schema-core and
 * json-schema-validation of 2022-06-16).
 *
 * A schema is compiled first: every subschema is found and its keywords
 * checked, $id, $anchor and $dynamicAnchor are indexed, $ref and
 * $dynamicRef resolved and patterns compiled, so that a schema that cannot
 * be used is refused whatever the instance. Validation then walks schema and
 * instance together and stops at the first failure; annotations (which
 * members were evaluated) are only tracked below a schema that has
 * unevaluatedProperties or unevaluatedItems.
 */
#include <arpa/inet.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "isim/buf.h"
#include "isim/endpoint.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/utf8.h"

#define MAX_DEPTH ISIM_SCHEMA_MAX_DEPTH
#define SHOW_MAX 60	     /* longest value quoted in a message */
#define LIST_MAX 300	     /* longest list of values in a message */
#define MATCH_LIMIT 100000   /* PCRE2 backtracking steps for one match */
#define MAX_STEPS (1L << 23) /* subschemas one validation may apply */
#define CHUNK 16	     /* subschemas allocated at once */

enum kw {
	KW_ID,
	KW_ANCHOR,
	KW_DYNAMIC_ANCHOR,
	KW_REF,
	KW_DYNAMIC_REF,
	KW_DEFS,
	KW_TYPE,
	KW_ENUM,
	KW_CONST,
	KW_MULTIPLE_OF,
	KW_MAXIMUM,
	KW_EXCLUSIVE_MAXIMUM,
	KW_MINIMUM,
	KW_EXCLUSIVE_MINIMUM,
	KW_MAX_LENGTH,
	KW_MIN_LENGTH,
	KW_PATTERN,
	KW_FORMAT,
	KW_MAX_ITEMS,
	KW_MIN_ITEMS,
	KW_UNIQUE_ITEMS,
	KW_MAX_CONTAINS,
	KW_MIN_CONTAINS,
	KW_MAX_PROPERTIES,
	KW_MIN_PROPERTIES,
	KW_REQUIRED,
	KW_DEPENDENT_REQUIRED,
	KW_ALL_OF,
	KW_ANY_OF,
	KW_ONE_OF,
	KW_NOT,
	KW_IF,
	KW_THEN,
	KW_ELSE,
	KW_DEPENDENT_SCHEMAS,
	KW_PREFIX_ITEMS,
	KW_ITEMS,
	KW_CONTAINS,
	KW_PROPERTIES,
	KW_PATTERN_PROPERTIES,
	KW_ADDITIONAL_PROPERTIES,
	KW_PROPERTY_NAMES,
	KW_UNEVALUATED_ITEMS,
	KW_UNEVALUATED_PROPERTIES,
	KW_N
};

/* What a keyword's value must be. */
enum kind {
	K_ID,	  /* a URI reference without fragment */
	K_ANCHOR, /* a plain name */
	K_STRING,
	K_STRINGS, /* an array of strings */
	K_SCHEMA,
	K_SCHEMAS,     /* a non-empty array of schemas */
	K_SCHEMA_MAP,  /* an object of schemas */
	K_PATTERN_MAP, /* an object of schemas keyed by regular expressions */
	K_NUMBER,
	K_POSITIVE, /* a number greater than 0 */
	K_COUNT,    /* a non-negative integer */
	K_BOOL,
	K_ARRAY,
	K_ANY,
	K_TYPE,
	K_DEPENDENT_REQUIRED,
	K_REGEX,
	K_FORMAT,
};

static const struct {
	const char *name;
	enum kind kind;
} kws[KW_N] = {
	[KW_ID] = { "$id", K_ID },
	[KW_ANCHOR] = { "$anchor", K_ANCHOR },
	[KW_DYNAMIC_ANCHOR] = { "$dynamicAnchor", K_ANCHOR },
	[KW_REF] = { "$ref", K_STRING },
	[KW_DYNAMIC_REF] = { "$dynamicRef", K_STRING },
	[KW_DEFS] = { "$defs", K_SCHEMA_MAP },
	[KW_TYPE] = { "type", K_TYPE },
	[KW_ENUM] = { "enum", K_ARRAY },
	[KW_CONST] = { "const", K_ANY },
	[KW_MULTIPLE_OF] = { "multipleOf", K_POSITIVE },
	[KW_MAXIMUM] = { "maximum", K_NUMBER },
	[KW_EXCLUSIVE_MAXIMUM] = { "exclusiveMaximum", K_NUMBER },
	[KW_MINIMUM] = { "minimum", K_NUMBER },
	[KW_EXCLUSIVE_MINIMUM] = { "exclusiveMinimum", K_NUMBER },
	[KW_MAX_LENGTH] = { "maxLength", K_COUNT },
	[KW_MIN_LENGTH] = { "minLength", K_COUNT },
	[KW_PATTERN] = { "pattern", K_REGEX },
	[KW_FORMAT] = { "format", K_FORMAT },
	[KW_MAX_ITEMS] = { "maxItems", K_COUNT },
	[KW_MIN_ITEMS] = { "minItems", K_COUNT },
	[KW_UNIQUE_ITEMS] = { "uniqueItems", K_BOOL },
	[KW_MAX_CONTAINS] = { "maxContains", K_COUNT },
	[KW_MIN_CONTAINS] = { "minContains", K_COUNT },
	[KW_MAX_PROPERTIES] = { "maxProperties", K_COUNT },
	[KW_MIN_PROPERTIES] = { "minProperties", K_COUNT },
	[KW_REQUIRED] = { "required", K_STRINGS },
	[KW_DEPENDENT_REQUIRED] = { "dependentRequired", K_DEPENDENT_REQUIRED },
	[KW_ALL_OF] = { "allOf", K_SCHEMAS },
	[KW_ANY_OF] = { "anyOf", K_SCHEMAS },
	[KW_ONE_OF] = { "oneOf", K_SCHEMAS },
	[KW_NOT] = { "not", K_SCHEMA },
	[KW_IF] = { "if", K_SCHEMA },
	[KW_THEN] = { "then", K_SCHEMA },
	[KW_ELSE] = { "else", K_SCHEMA },
	[KW_DEPENDENT_SCHEMAS] = { "dependentSchemas", K_SCHEMA_MAP },
	[KW_PREFIX_ITEMS] = { "prefixItems", K_SCHEMAS },
	[KW_ITEMS] = { "items", K_SCHEMA },
	[KW_CONTAINS] = { "contains", K_SCHEMA },
	[KW_PROPERTIES] = { "properties", K_SCHEMA_MAP },
	[KW_PATTERN_PROPERTIES] = { "patternProperties", K_PATTERN_MAP },
	[KW_ADDITIONAL_PROPERTIES] = { "additionalProperties", K_SCHEMA },
	[KW_PROPERTY_NAMES] = { "propertyNames", K_SCHEMA },
	[KW_UNEVALUATED_ITEMS] = { "unevaluatedItems", K_SCHEMA },
	[KW_UNEVALUATED_PROPERTIES] = { "unevaluatedProperties", K_SCHEMA },
};

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_OBJECT = 1 << 2,
	T_ARRAY = 1 << 3,
	T_NUMBER = 1 << 4,
	T_STRING = 1 << 5,
	T_INTEGER = 1 << 6,
};

/* In the order messages list them. */
static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{ "string", T_STRING }, { "integer", T_INTEGER }, { "number", T_NUMBER }, { "boolean", T_BOOLEAN },
	{ "object", T_OBJECT }, { "array", T_ARRAY },	  { "null", T_NULL },
};

enum format {
	F_NONE,
	F_IPV4,
	F_IPV6,
	F_DATE_TIME,
	F_CIDR,
	F_HOST_PORT,
};

static const char *const format_names[] = {
	[F_IPV4] = "ipv4", [F_IPV6] = "ipv6",		[F_DATE_TIME] = "date-time",
	[F_CIDR] = "cidr", [F_HOST_PORT] = "host-port",
};

struct snode {
	const cJSON *json;
	const cJSON *kw[KW_N];
	const cJSON *ref;    /* what $ref resolved to */
	const cJSON *dynref; /* what $dynamicRef resolved to statically */
	const char *dynname; /* its $dynamicAnchor, when the dynamic scope may rebind it */
	pcre2_code *pattern;
	pcre2_code **pp; /* one per patternProperties member, in order */
	size_t npp;
	uint32_t res;	/* the schema resource it belongs to */
	unsigned types; /* T_* bits of "type", 0 when absent */
	enum format format;
};

struct resource {
	char *uri; /* absolute, without fragment; "" for a document without $id */
	const cJSON *root;
	bool listed; /* a real $id, that references may name */
};

struct anchor {
	uint32_t res;
	const char *name;
	const cJSON *node;
	bool dynamic;
};

struct slot {
	const cJSON *key;
	struct snode *node;
};

struct isim_schema {
	const cJSON *root;
	struct snode **chunks;
	size_t nnodes;
	struct slot *map; /* open addressing, keyed by the subschema's address */
	size_t mapcap, mapn;
	struct resource *res;
	size_t nres;
	struct anchor *anchors;
	size_t nanchors;
	pcre2_match_context *mctx;
};

/* An RFC 6901 pointer built one token at a time. When a token does not fit
 * the pointer stays at its parent, which still names a containing value. */
struct ptrbuf {
	char s[512];
	size_t len;
	int depth;
};

static size_t pb_push(struct ptrbuf *p, const char *tok)
{
	size_t old = p->len;

	p->depth++;
	if (isim_json_pointer_push(p->s, sizeof(p->s), tok))
		p->len += strlen(p->s + old);
	return old;
}

static size_t pb_push_index(struct ptrbuf *p, size_t index)
{
	char tok[24];

	snprintf(tok, sizeof(tok), "%zu", index);
	return pb_push(p, tok);
}

static void pb_pop(struct ptrbuf *p, size_t old)
{
	p->len = old;
	p->s[old] = '\0';
	p->depth--;
}

/* The path from at down to target, appended to pb. */
static bool find_path(const cJSON *at, const cJSON *target, struct ptrbuf *pb)
{
	const cJSON *ch;
	size_t i = 0, old;

	if (at == target)
		return true;
	if (!cJSON_IsObject(at) && !cJSON_IsArray(at))
		return false;
	for (ch = at->child; ch; ch = ch->next, i++) {
		old = cJSON_IsObject(at) ? pb_push(pb, ch->string) : pb_push_index(pb, i);
		if (find_path(ch, target, pb))
			return true;
		pb_pop(pb, old);
	}
	return false;
}

/* ---- showing values in messages ------------------------------------------ */

struct sink {
	char *p;
	size_t cap, len;
	bool full;
};

static void sk_putn(struct sink *k, const char *s, size_t n)
{
	if (k->full)
		return;
	if (k->len + n >= k->cap) {
		n = k->cap - 1 - k->len;
		k->full = true;
	}
	memcpy(k->p + k->len, s, n);
	k->len += n;
	k->p[k->len] = '\0';
}

static void sk_puts(struct sink *k, const char *s)
{
	sk_putn(k, s, strlen(s));
}

/* End a truncated text with "...", not cutting a UTF-8 sequence. */
static void sk_finish(struct sink *k)
{
	size_t n;

	if (!k->full || k->cap < 8)
		return;
	n = isim_utf8_cut(k->p, k->len, k->cap - 4);
	memcpy(k->p + n, "...", 4);
	k->len = n + 3;
}

static void fmt_num(char *buf, size_t size, double d)
{
	snprintf(buf, size, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, size, "%.17g", d);
}

static void sk_string(struct sink *k, const char *s)
{
	char esc[8];

	sk_putn(k, "\"", 1);
	for (; *s && !k->full; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sk_putn(k, esc, 2);
		} else if (c == '\n') {
			sk_puts(k, "\\n");
		} else if (c == '\t') {
			sk_puts(k, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sk_puts(k, esc);
		} else {
			sk_putn(k, s, 1);
		}
	}
	sk_putn(k, "\"", 1);
}

/* Compact JSON text of v, as far as it fits. */
static void sk_json(struct sink *k, const cJSON *v)
{
	const cJSON *ch;
	char num[32];

	if (cJSON_IsNull(v)) {
		sk_puts(k, "null");
	} else if (cJSON_IsTrue(v)) {
		sk_puts(k, "true");
	} else if (cJSON_IsFalse(v)) {
		sk_puts(k, "false");
	} else if (cJSON_IsNumber(v)) {
		fmt_num(num, sizeof(num), v->valuedouble);
		sk_puts(k, num);
	} else if (cJSON_IsString(v)) {
		sk_string(k, v->valuestring);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		sk_puts(k, cJSON_IsArray(v) ? "[" : "{");
		for (ch = v->child; ch && !k->full; ch = ch->next) {
			if (ch != v->child)
				sk_puts(k, ",");
			if (cJSON_IsObject(v)) {
				sk_string(k, ch->string);
				sk_puts(k, ":");
			}
			sk_json(k, ch);
		}
		sk_puts(k, cJSON_IsArray(v) ? "]" : "}");
	} else {
		sk_puts(k, "?");
	}
}

/* ---- small helpers ---------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_integral(double d)
{
	return isfinite(d) && floor(d) == d;
}

static unsigned json_type(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return T_NULL;
	if (cJSON_IsBool(v))
		return T_BOOLEAN;
	if (cJSON_IsObject(v))
		return T_OBJECT;
	if (cJSON_IsArray(v))
		return T_ARRAY;
	if (cJSON_IsString(v))
		return T_STRING;
	if (cJSON_IsNumber(v))
		return is_integral(v->valuedouble) ? T_NUMBER | T_INTEGER : T_NUMBER;
	return 0;
}

static const char *json_type_name(const cJSON *v)
{
	unsigned t = json_type(v);
	size_t i;

	if (t & T_INTEGER)
		return "integer";
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].bit == t)
			return type_names[i].name;
	return "invalid";
}

static size_t count_children(const cJSON *v)
{
	const cJSON *ch;
	size_t n = 0;

	for (ch = v->child; ch; ch = ch->next)
		n++;
	return n;
}

/* Deep equality; numbers compare by value (1 equals 1.0), object members
 * in any order. */
static bool json_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;
	unsigned ta = json_type(a) & ~T_INTEGER, tb = json_type(b) & ~T_INTEGER;

	if (ta != tb || (ta == T_BOOLEAN && cJSON_IsTrue(a) != cJSON_IsTrue(b)))
		return false;
	switch (ta) {
	case T_NUMBER:
		return a->valuedouble == b->valuedouble;
	case T_STRING:
		return strcmp(a->valuestring, b->valuestring) == 0;
	case T_ARRAY:
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (!json_equal(x, y))
				return false;
		return !x && !y;
	case T_OBJECT:
		if (count_children(a) != count_children(b))
			return false;
		for (x = a->child; x; x = x->next) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y || !json_equal(x, y))
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* ---- formats ------------------------------------------------------------- */

static bool is_ipv4(const char *s)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal parts and refuses leading
	 * zeros, which other parsers read as octal (RFC 6943 section 3.1.1). */
	return inet_pton(AF_INET, s, &a) == 1;
}

static bool is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* An address, "/" and a prefix length of the address's family. */
static bool is_cidr(const char *s)
{
	const char *slash = strrchr(s, '/'), *p;
	char addr[64];
	unsigned bits = 0, max;
	size_t n;

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return false;
	n = (size_t)(slash - s);
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (is_ipv4(addr))
		max = 32;
	else if (is_ipv6(addr))
		max = 128;
	else
		return false;
	p = slash + 1;
	if (!is_digit(*p) || (p[0] == '0' && p[1]))
		return false;
	for (; *p; p++) {
		if (!is_digit(*p))
			return false;
		bits = bits * 10 + (unsigned)(*p - '0');
		if (bits > max)
			return false;
	}
	return true;
}

static bool digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* RFC 3339 section 5.6 date-time: T and Z in either case, any fraction. */
static bool is_date_time(const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, utc;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (s[10] != 'T' && s[10] != 't')
		return false;
	s += 11;
	if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' || !digits(s + 6, 2, &sec))
		return false;
	s += 8;
	if (*s == '.') {
		if (!is_digit(*++s))
			return false;
		while (is_digit(*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om))
			return false;
		s += 6;
	} else {
		return false;
	}
	if (*s || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return false;
	/* Section 5.7: a leap second can only be the last second of a UTC
	 * day, whatever the offset the time is written in. */
	if (sec == 60) {
		utc = ((h * 60 + mi - sign * (oh * 60 + om)) % 1440 + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool format_ok(enum format f, const char *s)
{
	switch (f) {
	case F_IPV4:
		return is_ipv4(s);
	case F_IPV6:
		return is_ipv6(s);
	case F_DATE_TIME:
		return is_date_time(s);
	case F_CIDR:
		return is_cidr(s);
	case F_HOST_PORT:
		return isim_endpoint_parse(s, NULL, NULL) == 0;
	default:
		return true;
	}
}

/* ---- URI references (RFC 3986) --------------------------------------------- */

struct uparts {
	const char *scheme, *auth, *path, *query, *frag;
	size_t nscheme, nauth, npath, nquery, nfrag;
	bool has_scheme, has_auth, has_query, has_frag;
};

static void uri_split(const char *u, struct uparts *r)
{
	const char *p = u, *q;

	memset(r, 0, sizeof(*r));
	if (is_alpha(*p)) {
		for (q = p + 1; is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-' || *q == '.'; q++)
			;
		if (*q == ':') {
			r->has_scheme = true;
			r->scheme = p;
			r->nscheme = (size_t)(q - p);
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		q = p + strcspn(p, "/?#");
		r->has_auth = true;
		r->auth = p;
		r->nauth = (size_t)(q - p);
		p = q;
	}
	q = p + strcspn(p, "?#");
	r->path = p;
	r->npath = (size_t)(q - p);
	p = q;
	if (*p == '?') {
		p++;
		q = p + strcspn(p, "#");
		r->has_query = true;
		r->query = p;
		r->nquery = (size_t)(q - p);
		p = q;
	}
	if (*p == '#') {
		r->has_frag = true;
		r->frag = p + 1;
		r->nfrag = strlen(p + 1);
	}
}

/* RFC 3986 section 5.2.4, appending the result to out. */
static void remove_dots(struct isim_buf *out, const char *path, size_t n)
{
	char *b = malloc(2 * n + 2), *o;
	size_t i = 0, olen = 0, seg, left;
	const char *in;

	if (!b) {
		out->oom = true;
		return;
	}
	memcpy(b, path, n);
	o = b + n + 1;
	while (i < n) {
		in = b + i;
		left = n - i;
		if (left >= 3 && !memcmp(in, "../", 3)) {
			i += 3;
		} else if (left >= 2 && !memcmp(in, "./", 2)) {
			i += 2;
		} else if (left >= 3 && !memcmp(in, "/./", 3)) {
			i += 2;
		} else if (left == 2 && !memcmp(in, "/.", 2)) {
			b[++i] = '/';
		} else if ((left >= 4 && !memcmp(in, "/../", 4)) || (left == 3 && !memcmp(in, "/..", 3))) {
			if (left == 3)
				b[i += 2] = '/';
			else
				i += 3;
			while (olen > 0 && o[olen - 1] != '/')
				olen--;
			if (olen > 0)
				olen--;
		} else if ((left == 1 && in[0] == '.') || (left == 2 && !memcmp(in, "..", 2))) {
			i = n;
		} else {
			seg = in[0] == '/' ? 1 : 0;
			while (seg < left && in[seg] != '/')
				seg++;
			memcpy(o + olen, in, seg);
			olen += seg;
			i += seg;
		}
	}
	isim_buf_putn(out, o, olen);
	free(b);
}

/* The target URI of ref against base (RFC 3986 section 5.2.2); free() it. */
static char *uri_resolve(const char *base, const char *ref)
{
	struct uparts b, r;
	struct isim_buf out = { 0 };
	const struct uparts *sa, *qa;
	const char *slash;
	size_t keep;

	uri_split(base, &b);
	uri_split(ref, &r);
	sa = r.has_scheme ? &r : &b;
	if (sa->has_scheme) {
		isim_buf_putn(&out, sa->scheme, sa->nscheme);
		isim_buf_puts(&out, ":");
	}
	if (r.has_scheme || r.has_auth) {
		if (r.has_auth) {
			isim_buf_puts(&out, "//");
			isim_buf_putn(&out, r.auth, r.nauth);
		}
		remove_dots(&out, r.path, r.npath);
		qa = &r;
	} else {
		if (b.has_auth) {
			isim_buf_puts(&out, "//");
			isim_buf_putn(&out, b.auth, b.nauth);
		}
		if (r.npath == 0) {
			isim_buf_putn(&out, b.path, b.npath);
			qa = r.has_query ? &r : &b;
		} else if (r.path[0] == '/') {
			remove_dots(&out, r.path, r.npath);
			qa = &r;
		} else {
			struct isim_buf merged = { 0 };

			if (b.has_auth && b.npath == 0) {
				isim_buf_puts(&merged, "/");
			} else {
				slash = memrchr(b.path, '/', b.npath);
				keep = slash ? (size_t)(slash - b.path) + 1 : 0;
				isim_buf_putn(&merged, b.path, keep);
			}
			isim_buf_putn(&merged, r.path, r.npath);
			if (merged.oom || !merged.s)
				out.oom = true;
			else
				remove_dots(&out, merged.s, merged.len);
			isim_buf_free(&merged);
			qa = &r;
		}
	}
	if (qa->has_query) {
		isim_buf_puts(&out, "?");
		isim_buf_putn(&out, qa->query, qa->nquery);
	}
	if (r.has_frag) {
		isim_buf_puts(&out, "#");
		isim_buf_putn(&out, r.frag, r.nfrag);
	}
	if (!out.oom && !out.s)
		isim_buf_puts(&out, "");
	return isim_buf_take(&out);
}

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s in place; false on a bad escape or an encoded NUL. */
static bool pct_decode(char *s)
{
	char *o = s;
	int hi, lo;

	for (; *s; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		hi = hexval(s[1]);
		lo = hi < 0 ? -1 : hexval(s[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return false;
		*o++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*o = '\0';
	return true;
}

/* ---- the compiled schema ----------------------------------------------------- */

static size_t slot_of(const void *key, size_t mask)
{
	uint64_t x = (uint64_t)(uintptr_t)key;

	x ^= x >> 29;
	x *= 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 32) & mask;
}

static struct snode *node_get(const struct isim_schema *s, const cJSON *json)
{
	size_t mask = s->mapcap - 1, i;

	if (!s->mapcap)
		return NULL;
	for (i = slot_of(json, mask); s->map[i].key; i = (i + 1) & mask)
		if (s->map[i].key == json)
			return s->map[i].node;
	return NULL;
}

static bool map_put(struct isim_schema *s, struct snode *sn)
{
	struct slot *old = s->map, *nm;
	size_t oldcap = s->mapcap, cap, i, j;

	if ((s->mapn + 1) * 2 > s->mapcap) {
		cap = oldcap ? oldcap * 2 : 32;
		nm = calloc(cap, sizeof(*nm));
		if (!nm)
			return false;
		for (i = 0; i < oldcap; i++) {
			if (!old[i].key)
				continue;
			for (j = slot_of(old[i].key, cap - 1); nm[j].key; j = (j + 1) & (cap - 1))
				;
			nm[j] = old[i];
		}
		free(old);
		s->map = nm;
		s->mapcap = cap;
	}
	for (i = slot_of(sn->json, s->mapcap - 1); s->map[i].key; i = (i + 1) & (s->mapcap - 1))
		;
	s->map[i].key = sn->json;
	s->map[i].node = sn;
	s->mapn++;
	return true;
}

static struct snode *node_at(const struct isim_schema *s, size_t i)
{
	return &s->chunks[i / CHUNK][i % CHUNK];
}

void isim_schema_free(struct isim_schema *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->nnodes; i++) {
		struct snode *sn = node_at(s, i);

		pcre2_code_free(sn->pattern);
		for (j = 0; j < sn->npp; j++)
			pcre2_code_free(sn->pp[j]);
		free(sn->pp);
	}
	for (i = 0; i < (s->nnodes + CHUNK - 1) / CHUNK; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->map);
	for (i = 0; i < s->nres; i++)
		free(s->res[i].uri);
	free(s->res);
	free(s->anchors);
	pcre2_match_context_free(s->mctx);
	free(s);
}

struct comp {
	struct isim_schema *s;
	struct isim_error *err;
	struct ptrbuf path; /* of the value being checked */
	const cJSON *at;    /* when set, path is still to be found: that of at */
	pcre2_compile_context *cctx;
	bool lazy; /* walking a $ref target no keyword leads to */
};

static int oom(struct isim_error *err)
{
	isim_error_pointer(err, "");
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

/* "schema #/properties/a/pattern: ...", the location in the schema being
 * path, then kw when not NULL. */
static int bad_at(struct isim_error *err, const char *path, const char *kw, const char *fmt, va_list ap)
	ISIM_PRINTF(4, 0);
static int bad_at(struct isim_error *err, const char *path, const char *kw, const char *fmt, va_list ap)
{
	char what[700], where[300];

	vsnprintf(what, sizeof(what), fmt, ap);
	isim_sanitize(where, sizeof(where), path);
	isim_error_pointer(err, "");
	return isim_error_set(err, ISIM_ERR_CONFIG, "schema #%s%s%s: %s", where, kw ? "/" : "", kw ? kw : "", what);
}

static int bad(struct comp *cp, const char *kw, const char *fmt, ...) ISIM_PRINTF(3, 4);
static int bad(struct comp *cp, const char *kw, const char *fmt, ...)
{
	va_list ap;

	if (cp->at) {
		find_path(cp->s->root, cp->at, &cp->path);
		cp->at = NULL;
	}
	va_start(ap, fmt);
	bad_at(cp->err, cp->path.s, kw, fmt, ap);
	va_end(ap);
	return -1;
}

/* A quoted, sanitized and shortened copy of s for a message. */
static const char *quote(char *buf, size_t size, const char *s)
{
	struct sink k = { buf, size, 0, false };

	sk_puts(&k, s);
	sk_finish(&k);
	isim_sanitize(buf, size, buf);
	return buf;
}

static struct snode *node_new(struct comp *cp, const cJSON *json)
{
	struct isim_schema *s = cp->s;
	struct snode **nc, *sn;

	if (s->nnodes % CHUNK == 0) {
		nc = realloc(s->chunks, (s->nnodes / CHUNK + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		s->chunks = nc;
		nc[s->nnodes / CHUNK] = calloc(CHUNK, sizeof(**nc));
		if (!nc[s->nnodes / CHUNK])
			return NULL;
	}
	sn = node_at(s, s->nnodes);
	sn->json = json;
	if (!map_put(s, sn))
		return NULL;
	s->nnodes++;
	return sn;
}

static int kw_find(const char *name)
{
	int k;

	for (k = 0; k < KW_N; k++)
		if (kws[k].name[0] == name[0] && !strcmp(kws[k].name, name))
			return k;
	return -1;
}

static int find_resource(const struct isim_schema *s, const char *uri)
{
	size_t i;

	for (i = 0; i < s->nres; i++)
		if (s->res[i].listed && !strcmp(s->res[i].uri, uri))
			return (int)i;
	return -1;
}

static const struct anchor *find_anchor(const struct isim_schema *s, uint32_t res, const char *name, bool dynamic)
{
	size_t i;

	for (i = 0; i < s->nanchors; i++) {
		const struct anchor *a = &s->anchors[i];

		if (a->res == res && (a->dynamic || !dynamic) && !strcmp(a->name, name))
			return a;
	}
	return NULL;
}

static int add_resource(struct comp *cp, char *uri, const cJSON *root, uint32_t *out)
{
	struct isim_schema *s = cp->s;
	struct resource *nr = realloc(s->res, (s->nres + 1) * sizeof(*nr));

	if (!nr) {
		free(uri);
		return oom(cp->err);
	}
	s->res = nr;
	nr[s->nres].uri = uri;
	nr[s->nres].root = root;
	nr[s->nres].listed = !cp->lazy;
	*out = (uint32_t)s->nres++;
	return 0;
}

/* $id: a new base URI for this subschema and the ones inside it. */
static int set_id(struct comp *cp, const cJSON *node, const cJSON *v, uint32_t *res)
{
	char q[SHOW_MAX + 1], *uri, *hash;

	if (!cJSON_IsString(v))
		return bad(cp, "$id", "expected a string");
	uri = uri_resolve(cp->s->res[*res].uri, v->valuestring);
	if (!uri)
		return oom(cp->err);
	/* Core section 8.2.1: no fragment, though an empty one is tolerated. */
	hash = strchr(uri, '#');
	if (hash && hash[1]) {
		free(uri);
		return bad(cp, "$id", "'%s' has a fragment", quote(q, sizeof(q), v->valuestring));
	}
	if (hash)
		*hash = '\0';
	if (!cp->lazy && find_resource(cp->s, uri) >= 0) {
		free(uri);
		return bad(cp, "$id", "'%s' names two schemas", quote(q, sizeof(q), v->valuestring));
	}
	return add_resource(cp, uri, node, res);
}

/* Core section 8.2.2: an anchor is a plain name. */
static bool anchor_name_ok(const char *s)
{
	if (!is_alpha(*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!is_alpha(*s) && !is_digit(*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static int add_anchor(struct comp *cp, const struct snode *sn, int k)
{
	struct isim_schema *s = cp->s;
	const cJSON *v = sn->kw[k];
	struct anchor *na;
	char q[SHOW_MAX + 1];

	if (!cJSON_IsString(v) || !anchor_name_ok(v->valuestring))
		return bad(cp, kws[k].name, "expected a name of letters, digits, '-', '_' and '.'");
	if (cp->lazy)
		return 0;
	if (find_anchor(s, sn->res, v->valuestring, false))
		return bad(cp, kws[k].name, "'%s' is defined twice", quote(q, sizeof(q), v->valuestring));
	na = realloc(s->anchors, (s->nanchors + 1) * sizeof(*na));
	if (!na)
		return oom(cp->err);
	s->anchors = na;
	na[s->nanchors].res = sn->res;
	na[s->nanchors].name = v->valuestring;
	na[s->nanchors].node = sn->json;
	na[s->nanchors].dynamic = k == KW_DYNAMIC_ANCHOR;
	s->nanchors++;
	return 0;
}

/* Patterns are ECMA-262 expressions (validation section 4.3). PCRE2 with
 * PCRE2_UCP would match any Unicode digit, letter or space with \d, \w and
 * \s, so those become ECMA-262's explicit sets; \u is taken care of by
 * PCRE2_ALT_BSUX and PCRE2_EXTRA_ALT_BSUX. */
#define ECMA_SPACE "\\x09-\\x0d\\x20\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
#define ECMA_NOT_SPACE                                                                                \
	"\\x00-\\x08\\x0e-\\x1f\\x21-\\x9f\\xa1-\\u167f\\u1681-\\u1fff\\u200b-\\u2027\\u202a-\\u202e" \
	"\\u2030-\\u205e\\u2060-\\u2fff\\u3001-\\ufefe\\uff00-\\u{10ffff}"

static const char *ecma_class(char c, bool in_class)
{
	switch (c) {
	case 'd':
		return in_class ? "0-9" : "[0-9]";
	case 'D':
		return in_class ? "\\x00-\\x2f\\x3a-\\u{10ffff}" : "[^0-9]";
	case 'w':
		return in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
	case 'W':
		return in_class ? "\\x00-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\u{10ffff}" : "[^A-Za-z0-9_]";
	case 's':
		return in_class ? ECMA_SPACE : "[" ECMA_SPACE "]";
	case 'S':
		return in_class ? ECMA_NOT_SPACE : "[^" ECMA_SPACE "]";
	default:
		return NULL;
	}
}

/* ECMA-262's long General_Category names, which PCRE2 10.42 only knows by
 * their short names (Unicode's PropertyValueAliases.txt). */
static const char *const gc_names[][2] = {
	{ "Cased_Letter", "L&" },
	{ "Close_Punctuation", "Pe" },
	{ "Combining_Mark", "M" },
	{ "Connector_Punctuation", "Pc" },
	{ "Control", "Cc" },
	{ "Currency_Symbol", "Sc" },
	{ "Dash_Punctuation", "Pd" },
	{ "Decimal_Number", "Nd" },
	{ "Enclosing_Mark", "Me" },
	{ "Final_Punctuation", "Pf" },
	{ "Format", "Cf" },
	{ "Initial_Punctuation", "Pi" },
	{ "Letter", "L" },
	{ "Letter_Number", "Nl" },
	{ "Line_Separator", "Zl" },
	{ "Lowercase_Letter", "Ll" },
	{ "Mark", "M" },
	{ "Math_Symbol", "Sm" },
	{ "Modifier_Letter", "Lm" },
	{ "Modifier_Symbol", "Sk" },
	{ "Nonspacing_Mark", "Mn" },
	{ "Number", "N" },
	{ "Open_Punctuation", "Ps" },
	{ "Other", "C" },
	{ "Other_Letter", "Lo" },
	{ "Other_Number", "No" },
	{ "Other_Punctuation", "Po" },
	{ "Other_Symbol", "So" },
	{ "Paragraph_Separator", "Zp" },
	{ "Private_Use", "Co" },
	{ "Punctuation", "P" },
	{ "Separator", "Z" },
	{ "Space_Separator", "Zs" },
	{ "Spacing_Mark", "Mc" },
	{ "Surrogate", "Cs" },
	{ "Symbol", "S" },
	{ "Titlecase_Letter", "Lt" },
	{ "Unassigned", "Cn" },
	{ "Uppercase_Letter", "Lu" },
	{ "cntrl", "Cc" },
	{ "digit", "Nd" },
	{ "punct", "P" },
};

/* \p{...} or \P{...} at src; the length it takes, 0 if it is not one. */
static size_t ecma_property(struct isim_buf *out, const char *src)
{
	const char *name = src + 3, *end;
	size_t i, n;

	if ((src[1] != 'p' && src[1] != 'P') || src[2] != '{' || !(end = strchr(name, '}')))
		return 0;
	if (!strncmp(name, "General_Category=", 17))
		name += 17;
	else if (!strncmp(name, "gc=", 3))
		name += 3;
	n = (size_t)(end - name);
	for (i = 0; i < sizeof(gc_names) / sizeof(gc_names[0]); i++) {
		if (strlen(gc_names[i][0]) != n || strncmp(gc_names[i][0], name, n))
			continue;
		isim_buf_putn(out, src, 3);
		isim_buf_puts(out, gc_names[i][1]);
		isim_buf_puts(out, "}");
		return (size_t)(end - src) + 1;
	}
	isim_buf_putn(out, src, (size_t)(end - src) + 1);
	return (size_t)(end - src) + 1;
}

static char *ecma_translate(const char *src)
{
	struct isim_buf out = { 0 };
	bool in_class = false;
	const char *rep;
	size_t n;

	for (; *src; src++) {
		if (*src == '\\' && (n = ecma_property(&out, src)) > 0) {
			src += n - 1;
		} else if (*src == '\\' && src[1]) {
			rep = ecma_class(src[1], in_class);
			if (rep)
				isim_buf_puts(&out, rep);
			else
				isim_buf_putn(&out, src, 2);
			src++;
		} else if (*src == '[' && in_class) {
			/* A literal in ECMA-262, never a POSIX class. */
			isim_buf_puts(&out, "\\[");
		} else {
			if (*src == '[')
				in_class = true;
			else if (*src == ']')
				in_class = false;
			isim_buf_putn(&out, src, 1);
			if (src[0] == '[' && src[1] == '^')
				isim_buf_putn(&out, ++src, 1);
		}
	}
	if (!out.oom && !out.s)
		isim_buf_puts(&out, "");
	return isim_buf_take(&out);
}

static int regex_compile(struct comp *cp, const char *kw, const char *src, pcre2_code **out)
{
	char *t, q[SHOW_MAX + 1];
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	if (!cp->cctx) {
		cp->cctx = pcre2_compile_context_create(NULL);
		if (!cp->cctx || pcre2_set_compile_extra_options(cp->cctx, PCRE2_EXTRA_ALT_BSUX) < 0)
			return oom(cp->err);
	}
	if (!cp->s->mctx) {
		cp->s->mctx = pcre2_match_context_create(NULL);
		if (!cp->s->mctx || pcre2_set_match_limit(cp->s->mctx, MATCH_LIMIT) < 0)
			return oom(cp->err);
	}
	t = ecma_translate(src);
	if (!t)
		return oom(cp->err);
	*out = pcre2_compile((PCRE2_SPTR)t, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS,
			     &code, &off, cp->cctx);
	free(t);
	if (*out) {
		/* Compiled to machine code where the platform allows it
		 * (matching is several times faster); else interpreted. */
		(void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
		return 0;
	}
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", code);
	return bad(cp, kw, "'%s' is not a valid regular expression (%s)", quote(q, sizeof(q), src), (char *)msg);
}

static int walk(struct comp *cp, const cJSON *node, uint32_t res, int depth);

static int walk_each(struct comp *cp, const struct snode *sn, const cJSON *v, int depth)
{
	const cJSON *ch;
	size_t i = 0, old;
	int r;

	for (ch = v->child; ch; ch = ch->next, i++) {
		old = cJSON_IsArray(v) ? pb_push_index(&cp->path, i) : pb_push(&cp->path, ch->string);
		r = walk(cp, ch, sn->res, depth + 1);
		pb_pop(&cp->path, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int walk_patterns(struct comp *cp, struct snode *sn, const cJSON *v, int depth)
{
	const cJSON *ch;
	size_t old;
	int r;

	if (!cJSON_IsObject(v))
		return bad(cp, NULL, "expected an object of schemas");
	sn->pp = calloc(count_children(v) + 1, sizeof(*sn->pp));
	if (!sn->pp)
		return oom(cp->err);
	for (ch = v->child; ch; ch = ch->next) {
		old = pb_push(&cp->path, ch->string);
		r = regex_compile(cp, NULL, ch->string, &sn->pp[sn->npp]);
		if (r == 0)
			sn->npp++;
		pb_pop(&cp->path, old);
		if (r < 0)
			return -1;
	}
	return walk_each(cp, sn, v, depth);
}

static int set_types(struct comp *cp, struct snode *sn, const cJSON *v)
{
	const cJSON *t = cJSON_IsArray(v) ? v->child : v;
	size_t i;

	for (; t; t = cJSON_IsArray(v) ? t->next : NULL) {
		for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (cJSON_IsString(t) && !strcmp(t->valuestring, type_names[i].name))
				break;
		if (i == sizeof(type_names) / sizeof(type_names[0]))
			return bad(cp, NULL,
				   "expected a type name or an array of them (null, boolean, object, "
				   "array, number, string, integer)");
		sn->types |= type_names[i].bit;
	}
	if (!sn->types)
		return bad(cp, NULL, "expected at least one type");
	return 0;
}

static bool strings_only(const cJSON *v)
{
	const cJSON *ch;

	if (!cJSON_IsArray(v))
		return false;
	for (ch = v->child; ch; ch = ch->next)
		if (!cJSON_IsString(ch))
			return false;
	return true;
}

/* Check one keyword's value; the path is at the keyword. */
static int walk_kw(struct comp *cp, struct snode *sn, int k, const cJSON *v, int depth)
{
	const cJSON *ch;
	size_t i;

	switch (kws[k].kind) {
	case K_ID:
	case K_ANCHOR:
		return 0; /* done before the other keywords */
	case K_STRING:
		return cJSON_IsString(v) ? 0 : bad(cp, NULL, "expected a string");
	case K_STRINGS:
		return strings_only(v) ? 0 : bad(cp, NULL, "expected an array of strings");
	case K_SCHEMA:
		return walk(cp, v, sn->res, depth + 1);
	case K_SCHEMAS:
		if (!cJSON_IsArray(v) || !v->child)
			return bad(cp, NULL, "expected a non-empty array of schemas");
		return walk_each(cp, sn, v, depth);
	case K_SCHEMA_MAP:
		if (!cJSON_IsObject(v))
			return bad(cp, NULL, "expected an object of schemas");
		return walk_each(cp, sn, v, depth);
	case K_PATTERN_MAP:
		return walk_patterns(cp, sn, v, depth);
	case K_NUMBER:
		return cJSON_IsNumber(v) ? 0 : bad(cp, NULL, "expected a number");
	case K_POSITIVE:
		return cJSON_IsNumber(v) && v->valuedouble > 0 ? 0 : bad(cp, NULL, "expected a number greater than 0");
	case K_COUNT:
		if (cJSON_IsNumber(v) && is_integral(v->valuedouble) && v->valuedouble >= 0)
			return 0;
		return bad(cp, NULL, "expected a non-negative integer");
	case K_BOOL:
		return cJSON_IsBool(v) ? 0 : bad(cp, NULL, "expected true or false");
	case K_ARRAY:
		return cJSON_IsArray(v) ? 0 : bad(cp, NULL, "expected an array");
	case K_ANY:
		return 0;
	case K_TYPE:
		return set_types(cp, sn, v);
	case K_DEPENDENT_REQUIRED:
		if (!cJSON_IsObject(v))
			return bad(cp, NULL, "expected an object of arrays of strings");
		for (ch = v->child; ch; ch = ch->next)
			if (!strings_only(ch))
				return bad(cp, NULL, "expected an object of arrays of strings");
		return 0;
	case K_REGEX:
		if (!cJSON_IsString(v))
			return bad(cp, NULL, "expected a string");
		return regex_compile(cp, NULL, v->valuestring, &sn->pattern);
	case K_FORMAT:
		if (!cJSON_IsString(v))
			return bad(cp, NULL, "expected a string");
		/* Unknown formats are annotations only (validation section 7.2). */
		for (i = 1; i < sizeof(format_names) / sizeof(format_names[0]); i++)
			if (!strcmp(v->valuestring, format_names[i]))
				sn->format = (enum format)i;
		return 0;
	}
	return 0;
}

static int walk(struct comp *cp, const cJSON *node, uint32_t res, int depth)
{
	struct snode *sn;
	const cJSON *m;
	size_t old;
	int k;

	if (cJSON_IsBool(node) || node_get(cp->s, node))
		return 0;
	if (!cJSON_IsObject(node))
		return bad(cp, NULL, "expected a schema (an object or true or false), got %s", json_type_name(node));
	if (depth > MAX_DEPTH)
		return bad(cp, NULL, "subschemas nested deeper than %d levels", MAX_DEPTH);
	sn = node_new(cp, node);
	if (!sn)
		return oom(cp->err);
	for (m = node->child; m; m = m->next) {
		k = kw_find(m->string);
		if (k >= 0 && !sn->kw[k])
			sn->kw[k] = m;
	}
	if (sn->kw[KW_ID] && set_id(cp, node, sn->kw[KW_ID], &res) < 0)
		return -1;
	sn->res = res;
	if ((sn->kw[KW_ANCHOR] && add_anchor(cp, sn, KW_ANCHOR) < 0) ||
	    (sn->kw[KW_DYNAMIC_ANCHOR] && add_anchor(cp, sn, KW_DYNAMIC_ANCHOR) < 0))
		return -1;
	for (m = node->child; m; m = m->next) {
		k = kw_find(m->string);
		if (k < 0 || sn->kw[k] != m)
			continue;
		old = pb_push(&cp->path, m->string);
		if (walk_kw(cp, sn, k, m, depth) < 0)
			return -1;
		pb_pop(&cp->path, old);
	}
	return 0;
}

/* Where a reference leads: its resource and the value there. */
static int resolve(struct comp *cp, const struct snode *sn, int k, const cJSON **target, uint32_t *tres,
		   const struct anchor **anc)
{
	const char *ref = sn->kw[k]->valuestring;
	char *uri, *frag, q[SHOW_MAX + 1];
	int ri, ret = -1;

	*anc = NULL;
	*target = NULL;
	uri = uri_resolve(cp->s->res[sn->res].uri, ref);
	if (!uri)
		return oom(cp->err);
	frag = strchr(uri, '#');
	if (frag)
		*frag++ = '\0';
	else
		frag = uri + strlen(uri);
	ri = find_resource(cp->s, uri);
	if (ri < 0) {
		bad(cp, kws[k].name, "cannot resolve '%s': no schema in this document has that $id",
		    quote(q, sizeof(q), ref));
		goto out;
	}
	*tres = (uint32_t)ri;
	if (!pct_decode(frag)) {
		bad(cp, kws[k].name, "'%s' has a bad percent-encoding", quote(q, sizeof(q), ref));
		goto out;
	}
	if (!*frag) {
		*target = cp->s->res[ri].root;
	} else if (*frag == '/') {
		*target = isim_json_pointer_get(cp->s->res[ri].root, frag);
	} else {
		*anc = find_anchor(cp->s, (uint32_t)ri, frag, false);
		*target = *anc ? (*anc)->node : NULL;
	}
	if (!*target) {
		bad(cp, kws[k].name, "cannot resolve '%s': no such %s", quote(q, sizeof(q), ref),
		    *frag == '/' ? "location" : "anchor");
		goto out;
	}
	ret = 0;
out:
	free(uri);
	return ret;
}

/* A reference may lead where no keyword does (into "examples", or an
 * unknown keyword): that value is then checked as a schema, its $id and
 * anchors not indexed (core section 9.4.2 leaves them unknown). */
static int walk_target(struct comp *cp, const cJSON *target, uint32_t res)
{
	bool lazy = cp->lazy;
	int r;

	if (cJSON_IsBool(target) || node_get(cp->s, target))
		return 0;
	cp->path.len = 0;
	cp->path.s[0] = '\0';
	cp->at = NULL;
	find_path(cp->s->root, target, &cp->path);
	cp->lazy = true;
	r = walk(cp, target, res, 0);
	cp->lazy = lazy;
	return r;
}

static int link_refs(struct comp *cp)
{
	const struct anchor *anc;
	const cJSON *target;
	struct snode *sn;
	uint32_t tres;
	size_t i;

	/* walk_target may add nodes; they are linked in turn. */
	for (i = 0; i < cp->s->nnodes; i++) {
		sn = node_at(cp->s, i);
		cp->path.len = 0;
		cp->path.s[0] = '\0';
		cp->at = sn->json;
		if (sn->kw[KW_REF]) {
			if (resolve(cp, sn, KW_REF, &target, &tres, &anc) < 0 || walk_target(cp, target, tres) < 0)
				return -1;
			sn->ref = target;
		}
		if (sn->kw[KW_DYNAMIC_REF]) {
			cp->path.len = 0;
			cp->path.s[0] = '\0';
			cp->at = sn->json;
			if (resolve(cp, sn, KW_DYNAMIC_REF, &target, &tres, &anc) < 0 ||
			    walk_target(cp, target, tres) < 0)
				return -1;
			sn->dynref = target;
			/* Core section 8.2.3.2: only a fragment naming a
			 * $dynamicAnchor makes the reference dynamic. */
			if (anc && anc->dynamic)
				sn->dynname = anc->name;
		}
	}
	cp->at = NULL;
	return 0;
}

int isim_schema_compile(const cJSON *schema, struct isim_schema **out, struct isim_error *err)
{
	struct comp cp = { 0 };
	uint32_t root;
	char *empty;
	int ret = -1;

	*out = NULL;
	cp.err = err;
	cp.s = calloc(1, sizeof(*cp.s));
	empty = strdup("");
	if (!cp.s || !empty) {
		free(empty);
		oom(err);
		goto out;
	}
	cp.s->root = schema;
	if (add_resource(&cp, empty, schema, &root) < 0 || walk(&cp, schema, root, 0) < 0 || link_refs(&cp) < 0)
		goto out;
	*out = cp.s;
	cp.s = NULL;
	ret = 0;
out:
	pcre2_compile_context_free(cp.cctx);
	isim_schema_free(cp.s);
	return ret;
}

/* ---- validation ------------------------------------------------------------- */

/* Which members of an object, or items of an array, some keyword has
 * evaluated (core section 11, for unevaluatedProperties/Items). */
struct evald {
	size_t n;
	uint64_t *w;
	uint64_t in[2];
};

struct frame {
	const cJSON *schema, *inst;
};

struct vctx {
	const struct isim_schema *s;
	struct isim_error *err;
	pcre2_match_data *md;
	int quiet; /* > 0 below not, if, contains: failures need no message */
	int depth;
	long steps;
	struct frame stk[MAX_DEPTH]; /* the schemas being applied, to stop $ref loops */
	uint32_t scope[MAX_DEPTH];   /* the dynamic scope: resources entered, outermost first */
	int nscope;
	struct ptrbuf ptr;   /* of the instance value */
	int fail_depth;	     /* ptr.depth of the last failure */
	unsigned fail_types; /* what it expected, when it was a type mismatch */
	char scratch[2][LIST_MAX + 8];
};

static int eval(struct vctx *c, const cJSON *schema, const cJSON *inst, struct evald *ev);

static int ev_init(struct vctx *c, struct evald *e, const cJSON *inst)
{
	size_t words;

	e->n = count_children(inst);
	e->in[0] = e->in[1] = 0;
	words = (e->n + 63) / 64;
	if (words <= 2) {
		e->w = e->in;
		return 0;
	}
	e->w = calloc(words, sizeof(*e->w));
	if (e->w)
		return 0;
	return oom(c->err);
}

static void ev_free(struct evald *e)
{
	if (e->w != e->in)
		free(e->w);
	e->w = NULL;
}

static void ev_set(struct evald *e, size_t i)
{
	if (i < e->n)
		e->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool ev_get(const struct evald *e, size_t i)
{
	return i < e->n && (e->w[i / 64] >> (i % 64) & 1);
}

static void ev_merge(struct evald *dst, const struct evald *src)
{
	size_t i;

	for (i = 0; i < (dst->n + 63) / 64; i++)
		dst->w[i] |= src->w[i];
}

static int fail(struct vctx *c, const char *fmt, ...) ISIM_PRINTF(2, 3);
static int fail(struct vctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return 1;
	va_start(ap, fmt);
	isim_error_setv(c->err, ISIM_ERR_DATA, fmt, ap);
	va_end(ap);
	isim_error_pointer(c->err, c->ptr.s);
	c->fail_depth = c->ptr.depth;
	c->fail_types = 0;
	return 1;
}

/* A schema that cannot be used, found only while validating. */
static int eval_bad(struct vctx *c, const cJSON *at, const char *kw, const char *fmt, ...) ISIM_PRINTF(4, 5);
static int eval_bad(struct vctx *c, const cJSON *at, const char *kw, const char *fmt, ...)
{
	struct ptrbuf pb;
	va_list ap;

	pb.len = 0;
	pb.depth = 0;
	pb.s[0] = '\0';
	find_path(c->s->root, at, &pb);
	va_start(ap, fmt);
	bad_at(c->err, pb.s, kw, fmt, ap);
	va_end(ap);
	return -1;
}

/* Message parts, in one of two scratch buffers (nothing when quiet). */
static const char *show(struct vctx *c, int slot, const cJSON *v)
{
	struct sink k = { c->scratch[slot], SHOW_MAX + 1, 0, false };

	k.p[0] = '\0';
	if (!c->quiet) {
		sk_json(&k, v);
		sk_finish(&k);
	}
	return k.p;
}

static const char *show_list(struct vctx *c, int slot, const cJSON *list)
{
	struct sink k = { c->scratch[slot], LIST_MAX + 1, 0, false };
	char one[SHOW_MAX + 1];
	const cJSON *v;

	k.p[0] = '\0';
	for (v = list->child; v && !c->quiet && !k.full; v = v->next) {
		struct sink o = { one, sizeof(one), 0, false };

		one[0] = '\0';
		sk_json(&o, v);
		sk_finish(&o);
		if (v != list->child)
			sk_puts(&k, ", ");
		sk_puts(&k, one);
	}
	sk_finish(&k);
	return k.p;
}

static const char *clip(struct vctx *c, int slot, const char *s, size_t max)
{
	if (c->quiet)
		return "";
	return quote(c->scratch[slot], max + 1, s);
}

static const char *num(struct vctx *c, int slot, double d)
{
	if (c->quiet)
		return "";
	fmt_num(c->scratch[slot], sizeof(c->scratch[slot]), d);
	return c->scratch[slot];
}

static int fail_type(struct vctx *c, unsigned want, const cJSON *inst)
{
	char *b = c->scratch[0];
	size_t i, n = 0, len = 0, total = 0;
	int r;

	if (c->quiet)
		return 1;
	/* "integer" says nothing more when "number" is allowed. */
	if (want & T_NUMBER)
		want &= ~(unsigned)T_INTEGER;
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		total += (want & type_names[i].bit) != 0;
	b[0] = '\0';
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (!(want & type_names[i].bit))
			continue;
		n++;
		len += (size_t)snprintf(b + len, sizeof(c->scratch[0]) - len, "%s%s",
					n == 1	     ? ""
					: n == total ? " or "
						     : ", ",
					type_names[i].name);
	}
	r = fail(c, "type: expected %s, got %s", b, json_type_name(inst));
	c->fail_types = want;
	return r;
}

/* Multiples by division: fmod is exact but 0.0075 is not exactly
 * 75 * 0.0001 in binary, so the quotient is allowed an error of a few
 * units in its last place. When the quotient overflows, fmod decides. */
static bool multiple_of(double x, double m)
{
	double q = x / m;

	if (isfinite(q))
		return fabs(q - nearbyint(q)) <= 8 * DBL_EPSILON * fmax(1.0, fabs(q));
	return fmod(x, m) == 0;
}

static int regex_match(struct vctx *c, const pcre2_code *re, const cJSON *where, const char *s, bool *hit)
{
	char q[SHOW_MAX + 1];
	PCRE2_UCHAR msg[256];
	int rc;

	*hit = false;
	if (!c->md) {
		c->md = pcre2_match_data_create(1, NULL);
		if (!c->md)
			return oom(c->err);
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, c->md, c->s->mctx);
	/* Machine code has a smaller stack than the interpreter's heap. */
	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, PCRE2_NO_JIT, c->md, c->s->mctx);
	if (rc >= 0) {
		*hit = true;
		return 0;
	}
	/* A string that is not UTF-8 matches no pattern. */
	if (rc == PCRE2_ERROR_NOMATCH || (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21))
		return 0;
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", rc);
	return eval_bad(c, where, NULL, "the pattern cannot be matched against '%s' (%s)", quote(q, sizeof(q), s),
			(char *)msg);
}

static int eval_number(struct vctx *c, const struct snode *sn, const cJSON *inst)
{
	double x = inst->valuedouble;
	const cJSON *k;

	if ((k = sn->kw[KW_MINIMUM]) && x < k->valuedouble)
		return fail(c, "minimum: %s is less than %s", num(c, 0, x), num(c, 1, k->valuedouble));
	if ((k = sn->kw[KW_EXCLUSIVE_MINIMUM]) && x <= k->valuedouble)
		return fail(c, "exclusiveMinimum: %s is not greater than %s", num(c, 0, x), num(c, 1, k->valuedouble));
	if ((k = sn->kw[KW_MAXIMUM]) && x > k->valuedouble)
		return fail(c, "maximum: %s is greater than %s", num(c, 0, x), num(c, 1, k->valuedouble));
	if ((k = sn->kw[KW_EXCLUSIVE_MAXIMUM]) && x >= k->valuedouble)
		return fail(c, "exclusiveMaximum: %s is not less than %s", num(c, 0, x), num(c, 1, k->valuedouble));
	if ((k = sn->kw[KW_MULTIPLE_OF]) && !multiple_of(x, k->valuedouble))
		return fail(c, "multipleOf: %s is not a multiple of %s", num(c, 0, x), num(c, 1, k->valuedouble));
	return 0;
}

static int eval_string(struct vctx *c, const struct snode *sn, const cJSON *inst)
{
	const char *s = inst->valuestring;
	const cJSON *k;
	size_t n;
	bool hit;
	int r;

	if (sn->kw[KW_MIN_LENGTH] || sn->kw[KW_MAX_LENGTH]) {
		n = isim_utf8_count(s, strlen(s));
		if ((k = sn->kw[KW_MIN_LENGTH]) && (double)n < k->valuedouble)
			return fail(c, "minLength: %s is %zu character%s long, expected at least %s", show(c, 0, inst),
				    n, n == 1 ? "" : "s", num(c, 1, k->valuedouble));
		if ((k = sn->kw[KW_MAX_LENGTH]) && (double)n > k->valuedouble)
			return fail(c, "maxLength: %s is %zu character%s long, expected at most %s", show(c, 0, inst),
				    n, n == 1 ? "" : "s", num(c, 1, k->valuedouble));
	}
	if (sn->pattern) {
		r = regex_match(c, sn->pattern, sn->kw[KW_PATTERN], s, &hit);
		if (r)
			return r;
		if (!hit)
			return fail(c, "pattern: %s does not match '%s'", show(c, 0, inst),
				    clip(c, 1, sn->kw[KW_PATTERN]->valuestring, 2 * SHOW_MAX));
	}
	if (sn->format && !format_ok(sn->format, s))
		return fail(c, "format: %s is not a valid %s", show(c, 0, inst), format_names[sn->format]);
	return 0;
}

static int eval_items(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *p = sn->kw[KW_PREFIX_ITEMS] ? sn->kw[KW_PREFIX_ITEMS]->child : NULL;
	const cJSON *it, *sub;
	const char *kw;
	size_t i = 0, old;
	int r;

	for (it = inst->child; it; it = it->next, i++) {
		kw = p ? "prefixItems" : "items";
		sub = p ? p : sn->kw[KW_ITEMS];
		if (!sub)
			break;
		if (p)
			p = p->next;
		old = pb_push_index(&c->ptr, i);
		if (cJSON_IsFalse(sub))
			r = fail(c, "%s: item %zu is not allowed", kw, i);
		else
			r = eval(c, sub, it, NULL);
		pb_pop(&c->ptr, old);
		if (r)
			return r;
		if (ev)
			ev_set(ev, i);
	}
	return 0;
}

static int eval_contains(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *sch = sn->kw[KW_CONTAINS], *it;
	double min = sn->kw[KW_MIN_CONTAINS] ? sn->kw[KW_MIN_CONTAINS]->valuedouble : 1;
	double max = sn->kw[KW_MAX_CONTAINS] ? sn->kw[KW_MAX_CONTAINS]->valuedouble : -1;
	size_t n = 0, i = 0, old;
	int r;

	c->quiet++;
	for (it = inst->child; it; it = it->next, i++) {
		old = pb_push_index(&c->ptr, i);
		r = eval(c, sch, it, NULL);
		pb_pop(&c->ptr, old);
		if (r < 0) {
			c->quiet--;
			return r;
		}
		if (r)
			continue;
		n++;
		if (ev)
			ev_set(ev, i);
		else if ((max < 0 && (double)n >= min) || (max >= 0 && (double)n > max))
			break;
	}
	c->quiet--;
	if ((double)n < min && !sn->kw[KW_MIN_CONTAINS])
		return fail(c, "contains: no item matches %s", show(c, 0, sch));
	if ((double)n < min)
		return fail(c, "minContains: %zu item%s contains, expected at least %s", n,
			    n == 1 ? " matches" : "s match", num(c, 0, min));
	if (max >= 0 && (double)n > max)
		return fail(c, "maxContains: %zu item%s contains, expected at most %s", n,
			    n == 1 ? " matches" : "s match", num(c, 0, max));
	return 0;
}

static int eval_unique(struct vctx *c, const cJSON *inst)
{
	const cJSON *a, *b;
	size_t i, j, old;
	int r;

	for (a = inst->child, i = 0; a; a = a->next, i++) {
		for (b = a->next, j = i + 1; b; b = b->next, j++) {
			if (!json_equal(a, b))
				continue;
			old = pb_push_index(&c->ptr, j);
			r = fail(c, "uniqueItems: item %zu equals item %zu", j, i);
			pb_pop(&c->ptr, old);
			return r;
		}
	}
	return 0;
}

static int eval_array(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *k;
	size_t n;
	int r;

	if (sn->kw[KW_MIN_ITEMS] || sn->kw[KW_MAX_ITEMS]) {
		n = count_children(inst);
		if ((k = sn->kw[KW_MIN_ITEMS]) && (double)n < k->valuedouble)
			return fail(c, "minItems: array has %zu item%s, expected at least %s", n, n == 1 ? "" : "s",
				    num(c, 0, k->valuedouble));
		if ((k = sn->kw[KW_MAX_ITEMS]) && (double)n > k->valuedouble)
			return fail(c, "maxItems: array has %zu item%s, expected at most %s", n, n == 1 ? "" : "s",
				    num(c, 0, k->valuedouble));
	}
	if (cJSON_IsTrue(sn->kw[KW_UNIQUE_ITEMS]) && (r = eval_unique(c, inst)) != 0)
		return r;
	if ((sn->kw[KW_PREFIX_ITEMS] || sn->kw[KW_ITEMS]) && (r = eval_items(c, sn, inst, ev)) != 0)
		return r;
	if (sn->kw[KW_CONTAINS])
		return eval_contains(c, sn, inst, ev);
	return 0;
}

/* "propertyNames: " and what the name failed. */
static int eval_name(struct vctx *c, const cJSON *schema, const char *key)
{
	static const char pre[] = "propertyNames: ";
	char *msg = c->err->msg;
	cJSON fake;
	size_t n;
	int r;

	if (cJSON_IsFalse(schema))
		return fail(c, "propertyNames: property '%s' is not allowed", clip(c, 0, key, SHOW_MAX));
	memset(&fake, 0, sizeof(fake));
	fake.type = cJSON_String;
	fake.valuestring = (char *)(uintptr_t)key;
	r = eval(c, schema, &fake, NULL);
	if (r == 1 && !c->quiet) {
		n = strlen(msg);
		if (n + sizeof(pre) > sizeof(c->err->msg))
			n = sizeof(c->err->msg) - sizeof(pre);
		memmove(msg + sizeof(pre) - 1, msg, n);
		memcpy(msg, pre, sizeof(pre) - 1);
		msg[n + sizeof(pre) - 1] = '\0';
	}
	return r;
}

/* properties, patternProperties, additionalProperties and propertyNames
 * for one member m, the i-th. */
static int eval_member(struct vctx *c, const struct snode *sn, const cJSON *m, size_t i, struct evald *ev)
{
	const cJSON *props = sn->kw[KW_PROPERTIES], *ap = sn->kw[KW_ADDITIONAL_PROPERTIES], *sub, *pm;
	bool matched = false, hit;
	size_t j;
	int r;

	if (sn->kw[KW_PROPERTY_NAMES] && (r = eval_name(c, sn->kw[KW_PROPERTY_NAMES], m->string)) != 0)
		return r;
	if (props && (sub = cJSON_GetObjectItemCaseSensitive(props, m->string))) {
		matched = true;
		if (cJSON_IsFalse(sub))
			return fail(c, "properties: property '%s' is not allowed", clip(c, 0, m->string, SHOW_MAX));
		if ((r = eval(c, sub, m, NULL)) != 0)
			return r;
	}
	pm = sn->kw[KW_PATTERN_PROPERTIES] ? sn->kw[KW_PATTERN_PROPERTIES]->child : NULL;
	for (j = 0; pm && j < sn->npp; pm = pm->next, j++) {
		if ((r = regex_match(c, sn->pp[j], pm, m->string, &hit)) != 0)
			return r;
		if (!hit)
			continue;
		matched = true;
		if (cJSON_IsFalse(pm))
			return fail(c, "patternProperties: property '%s' is not allowed",
				    clip(c, 0, m->string, SHOW_MAX));
		if ((r = eval(c, pm, m, NULL)) != 0)
			return r;
	}
	if (!matched && ap) {
		if (cJSON_IsFalse(ap))
			return fail(c, "additionalProperties: property '%s' is not allowed",
				    clip(c, 0, m->string, SHOW_MAX));
		if ((r = eval(c, ap, m, NULL)) != 0)
			return r;
		matched = true;
	}
	if (matched && ev)
		ev_set(ev, i);
	return 0;
}

static int eval_object(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *k, *d, *x, *m;
	size_t n, i, old;
	int r;

	if (sn->kw[KW_MIN_PROPERTIES] || sn->kw[KW_MAX_PROPERTIES]) {
		n = count_children(inst);
		if ((k = sn->kw[KW_MIN_PROPERTIES]) && (double)n < k->valuedouble)
			return fail(c, "minProperties: object has %zu propert%s, expected at least %s", n,
				    n == 1 ? "y" : "ies", num(c, 0, k->valuedouble));
		if ((k = sn->kw[KW_MAX_PROPERTIES]) && (double)n > k->valuedouble)
			return fail(c, "maxProperties: object has %zu propert%s, expected at most %s", n,
				    n == 1 ? "y" : "ies", num(c, 0, k->valuedouble));
	}
	cJSON_ArrayForEach (x, sn->kw[KW_REQUIRED])
		if (!cJSON_GetObjectItemCaseSensitive(inst, x->valuestring))
			return fail(c, "required: missing property '%s'", clip(c, 0, x->valuestring, SHOW_MAX));
	cJSON_ArrayForEach (d, sn->kw[KW_DEPENDENT_REQUIRED]) {
		if (!cJSON_GetObjectItemCaseSensitive(inst, d->string))
			continue;
		cJSON_ArrayForEach (x, d)
			if (!cJSON_GetObjectItemCaseSensitive(inst, x->valuestring))
				return fail(c, "dependentRequired: property '%s' is required when '%s' is present",
					    clip(c, 0, x->valuestring, SHOW_MAX), clip(c, 1, d->string, SHOW_MAX));
	}
	if (!sn->kw[KW_PROPERTIES] && !sn->kw[KW_PATTERN_PROPERTIES] && !sn->kw[KW_ADDITIONAL_PROPERTIES] &&
	    !sn->kw[KW_PROPERTY_NAMES])
		return 0;
	for (m = inst->child, i = 0; m; m = m->next, i++) {
		old = pb_push(&c->ptr, m->string);
		r = eval_member(c, sn, m, i, ev);
		pb_pop(&c->ptr, old);
		if (r)
			return r;
	}
	return 0;
}

static int eval_value(struct vctx *c, const struct snode *sn, const cJSON *inst)
{
	const cJSON *k, *e;

	if ((k = sn->kw[KW_ENUM])) {
		for (e = k->child; e; e = e->next)
			if (json_equal(inst, e))
				break;
		if (!e && !k->child)
			return fail(c, "enum: no value is allowed, the list is empty");
		if (!e)
			return fail(c, "enum: %s is not one of %s", show(c, 0, inst), show_list(c, 1, k));
	}
	if ((k = sn->kw[KW_CONST]) && !json_equal(inst, k))
		return fail(c, "const: expected %s, got %s", show(c, 0, k), show(c, 1, inst));
	return 0;
}

/* Failed alternatives of anyOf or oneOf: the one that got deepest into
 * the instance is most likely the one meant, and a type mismatch at the
 * value itself is the least telling failure. */
struct alts {
	struct isim_error best;
	int score, nbest, best_depth;
	unsigned best_types, types;
	bool only_types;
};

static void alts_note(struct vctx *c, struct alts *a)
{
	bool here = c->fail_types && c->fail_depth == c->ptr.depth;
	int score = 2 * c->fail_depth + (here ? 0 : 1);

	if (c->quiet)
		return;
	if (here)
		a->types |= c->fail_types;
	else
		a->only_types = false;
	if (score > a->score) {
		a->score = score;
		a->nbest = 1;
		a->best = *c->err;
		a->best_depth = c->fail_depth;
		a->best_types = c->fail_types;
	} else if (score == a->score) {
		a->nbest++;
	}
}

static int alts_fail(struct vctx *c, struct alts *a, const char *kw, const cJSON *inst)
{
	if (c->quiet)
		return 1;
	if (a->nbest == 1) {
		*c->err = a->best;
		c->fail_depth = a->best_depth;
		c->fail_types = a->best_types;
		return 1;
	}
	if (a->only_types && a->types)
		return fail_type(c, a->types, inst);
	return fail(c, "%s: no alternative matched", kw);
}

/* One alternative; what it evaluated counts only if it holds. */
static int eval_alt(struct vctx *c, const cJSON *b, const cJSON *inst, struct evald *ev)
{
	struct evald tmp;
	int r;

	if (!ev)
		return eval(c, b, inst, NULL);
	if ((r = ev_init(c, &tmp, inst)) != 0)
		return r;
	r = eval(c, b, inst, &tmp);
	if (r == 0)
		ev_merge(ev, &tmp);
	ev_free(&tmp);
	return r;
}

static __attribute__((noinline)) int eval_any_of(struct vctx *c, const cJSON *list, const cJSON *inst, struct evald *ev)
{
	struct alts a = { .score = -1, .only_types = true };
	const cJSON *b;
	bool ok = false;
	int r;

	for (b = list->child; b; b = b->next) {
		r = eval_alt(c, b, inst, ev);
		if (r < 0)
			return r;
		if (r == 0) {
			ok = true;
			if (!ev)
				break;
		} else if (!ok) {
			alts_note(c, &a);
		}
	}
	return ok ? 0 : alts_fail(c, &a, "anyOf", inst);
}

static __attribute__((noinline)) int eval_one_of(struct vctx *c, const cJSON *list, const cJSON *inst, struct evald *ev)
{
	struct alts a = { .score = -1, .only_types = true };
	const cJSON *b;
	int first = -1, i = 0, r;

	for (b = list->child; b; b = b->next, i++) {
		r = eval_alt(c, b, inst, ev);
		if (r < 0)
			return r;
		if (r == 0 && first >= 0)
			return fail(c, "oneOf: alternatives %d and %d both matched, expected exactly one", first, i);
		if (r == 0)
			first = i;
		else if (first < 0)
			alts_note(c, &a);
	}
	return first >= 0 ? 0 : alts_fail(c, &a, "oneOf", inst);
}

static int eval_not(struct vctx *c, const cJSON *sub, const cJSON *inst)
{
	int r;

	c->quiet++;
	r = eval(c, sub, inst, NULL);
	c->quiet--;
	if (r < 0)
		return r;
	return r == 0 ? fail(c, "not: value must not match %s", show(c, 0, sub)) : 0;
}

static int eval_if(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *next;
	struct evald tmp;
	int r;

	if (ev && (r = ev_init(c, &tmp, inst)) != 0)
		return r;
	c->quiet++;
	r = eval(c, sn->kw[KW_IF], inst, ev ? &tmp : NULL);
	c->quiet--;
	if (ev && r == 0)
		ev_merge(ev, &tmp);
	if (ev)
		ev_free(&tmp);
	if (r < 0)
		return r;
	next = sn->kw[r == 0 ? KW_THEN : KW_ELSE];
	return next ? eval(c, next, inst, ev) : 0;
}

/* $ref and $dynamicRef; a schema already being applied to the same value
 * would be applied again and again. */
static int eval_ref(struct vctx *c, const cJSON *target, const cJSON *inst, struct evald *ev, const cJSON *from)
{
	char q[SHOW_MAX + 1];
	int i;

	for (i = 0; i < c->depth; i++)
		if (c->stk[i].schema == target && c->stk[i].inst == inst)
			return eval_bad(c, from, NULL,
					"reference loop: '%s' leads back to a schema already being "
					"applied to the same value",
					quote(q, sizeof(q), from->valuestring));
	return eval(c, target, inst, ev);
}

/* Core section 8.2.3.2: the outermost resource in the dynamic scope that
 * has the $dynamicAnchor. */
static const cJSON *dynamic_target(const struct vctx *c, const struct snode *sn)
{
	const struct anchor *a;
	int i;

	if (!sn->dynname)
		return sn->dynref;
	for (i = 0; i < c->nscope; i++)
		if ((a = find_anchor(c->s, c->scope[i], sn->dynname, true)))
			return a->node;
	return sn->dynref;
}

static int eval_applicators(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	const cJSON *b;
	int r;

	if (sn->ref && (r = eval_ref(c, sn->ref, inst, ev, sn->kw[KW_REF])) != 0)
		return r;
	if (sn->dynref && (r = eval_ref(c, dynamic_target(c, sn), inst, ev, sn->kw[KW_DYNAMIC_REF])) != 0)
		return r;
	cJSON_ArrayForEach (b, sn->kw[KW_ALL_OF])
		if ((r = eval(c, b, inst, ev)) != 0)
			return r;
	if (sn->kw[KW_ANY_OF] && (r = eval_any_of(c, sn->kw[KW_ANY_OF], inst, ev)) != 0)
		return r;
	if (sn->kw[KW_ONE_OF] && (r = eval_one_of(c, sn->kw[KW_ONE_OF], inst, ev)) != 0)
		return r;
	if (sn->kw[KW_NOT] && (r = eval_not(c, sn->kw[KW_NOT], inst)) != 0)
		return r;
	if (sn->kw[KW_IF] && (r = eval_if(c, sn, inst, ev)) != 0)
		return r;
	if (cJSON_IsObject(inst))
		cJSON_ArrayForEach (b, sn->kw[KW_DEPENDENT_SCHEMAS])
			if (cJSON_GetObjectItemCaseSensitive(inst, b->string) && (r = eval(c, b, inst, ev)) != 0)
				return r;
	return 0;
}

static int eval_keywords(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	unsigned t = json_type(inst);
	int r = 0;

	if (sn->types && !(sn->types & t))
		return fail_type(c, sn->types, inst);
	if ((sn->kw[KW_ENUM] || sn->kw[KW_CONST]) && (r = eval_value(c, sn, inst)) != 0)
		return r;
	if (t & T_NUMBER)
		r = eval_number(c, sn, inst);
	else if (t & T_STRING)
		r = eval_string(c, sn, inst);
	else if (t & T_ARRAY)
		r = eval_array(c, sn, inst, ev);
	else if (t & T_OBJECT)
		r = eval_object(c, sn, inst, ev);
	if (r)
		return r;
	return eval_applicators(c, sn, inst, ev);
}

static int eval_unevaluated(struct vctx *c, const struct snode *sn, const cJSON *inst, struct evald *ev)
{
	bool obj = cJSON_IsObject(inst);
	const cJSON *u = sn->kw[obj ? KW_UNEVALUATED_PROPERTIES : KW_UNEVALUATED_ITEMS], *m;
	size_t i = 0, old;
	int r;

	for (m = inst->child; m; m = m->next, i++) {
		if (ev_get(ev, i))
			continue;
		old = obj ? pb_push(&c->ptr, m->string) : pb_push_index(&c->ptr, i);
		if (cJSON_IsFalse(u) && obj)
			r = fail(c, "unevaluatedProperties: property '%s' is not allowed",
				 clip(c, 0, m->string, SHOW_MAX));
		else if (cJSON_IsFalse(u))
			r = fail(c, "unevaluatedItems: item %zu is not allowed", i);
		else
			r = eval(c, u, m, NULL);
		pb_pop(&c->ptr, old);
		if (r)
			return r;
		ev_set(ev, i);
	}
	return 0;
}

static int eval(struct vctx *c, const cJSON *schema, const cJSON *inst, struct evald *ev)
{
	const struct snode *sn;
	struct evald local, *use = ev;
	bool scoped = false;
	int r;

	if (cJSON_IsTrue(schema))
		return 0;
	if (cJSON_IsFalse(schema))
		return fail(c, "false: no value is allowed here");
	sn = node_get(c->s, schema);
	if (!sn)
		return isim_error_set(c->err, ISIM_ERR_INTERNAL, "schema: subschema was not compiled");
	if (c->depth >= MAX_DEPTH)
		return eval_bad(c, schema, NULL, "validation is nested deeper than %d schemas", MAX_DEPTH);
	/* Alternatives that refer to alternatives can take exponential time
	 * well within the depth bound. */
	if (++c->steps > MAX_STEPS)
		return eval_bad(c, schema, NULL, "validation takes more than %ld steps", MAX_STEPS);
	c->stk[c->depth].schema = schema;
	c->stk[c->depth].inst = inst;
	c->depth++;
	if (c->nscope == 0 || c->scope[c->nscope - 1] != sn->res) {
		c->scope[c->nscope++] = sn->res;
		scoped = true;
	}
	local.w = NULL;
	if ((cJSON_IsObject(inst) && sn->kw[KW_UNEVALUATED_PROPERTIES]) ||
	    (cJSON_IsArray(inst) && sn->kw[KW_UNEVALUATED_ITEMS])) {
		use = &local;
		r = ev_init(c, &local, inst);
		if (r)
			goto out;
	}
	r = eval_keywords(c, sn, inst, use);
	if (r == 0 && use == &local)
		r = eval_unevaluated(c, sn, inst, &local);
	if (r == 0 && ev && use == &local)
		ev_merge(ev, &local);
out:
	ev_free(&local);
	if (scoped)
		c->nscope--;
	c->depth--;
	return r;
}

int isim_schema_check(const struct isim_schema *s, const cJSON *instance, struct isim_error *err)
{
	struct isim_error e;
	struct vctx c;
	int r;

	memset(&e, 0, sizeof(e));
	c.s = s;
	c.err = &e;
	c.md = NULL;
	c.quiet = 0;
	c.depth = 0;
	c.steps = 0;
	c.nscope = 0;
	c.ptr.len = 0;
	c.ptr.depth = 0;
	c.ptr.s[0] = '\0';
	c.fail_depth = 0;
	c.fail_types = 0;
	r = eval(&c, s->root, instance, NULL);
	pcre2_match_data_free(c.md);
	if (r == 0)
		return 0;
	if (err) {
		isim_error_pointer(err, e.pointer);
		isim_error_set(err, e.kind, "%s", e.msg);
	}
	return -1;
}

int isim_schema_validate(const cJSON *schema, const cJSON *instance, struct isim_error *err)
{
	struct isim_schema *s;
	int r;

	if (isim_schema_compile(schema, &s, err) < 0)
		return -1;
	r = isim_schema_check(s, instance, err);
	isim_schema_free(s);
	return r;
}
