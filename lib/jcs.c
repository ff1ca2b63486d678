/* SPDX-License-Identifier: MIT */
/* RFC 8785 JSON Canonicalization Scheme: the serialiser, over the strict
 * reader of json.c for text and over cJSON trees built in memory. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/jcs.h"
#include "isim/json.h"
#include "isim/number.h"
#include "isim/utf8.h"

static int nomem(struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
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
		i += isim_utf8_next(a + i, alen - i, &ca);
		j += isim_utf8_next(b + j, blen - j, &cb);
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
	const struct isim_jmember *a = *(const struct isim_jmember *const *)pa;
	const struct isim_jmember *b = *(const struct isim_jmember *const *)pb;
	int c = cmp_utf16(a->name, a->len, b->name, b->len);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* Sort an object's members into o->u.obj.sorted. Returns the member that
 * repeats an earlier name (the first such in document order), or NULL. On
 * no memory returns NULL with *oom set. */
static const struct isim_jmember *sort_members(struct isim_jv *o, bool *oom)
{
	const struct isim_jmember *dup = NULL, *a, *b;
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

static void put_value(struct isim_buf *b, const struct isim_jv *v)
{
	char num[ISIM_NUMBER_MAX];
	size_t i;

	switch (v->type) {
	case ISIM_JV_NULL:
		isim_buf_putn(b, "null", 4);
		break;
	case ISIM_JV_FALSE:
		isim_buf_putn(b, "false", 5);
		break;
	case ISIM_JV_TRUE:
		isim_buf_putn(b, "true", 4);
		break;
	case ISIM_JV_NUMBER:
		/* finite by construction */
		if (isim_number_format(v->u.num, num) > 0)
			isim_buf_puts(b, num);
		break;
	case ISIM_JV_STRING:
		isim_json_quote(b, v->u.str.s, v->u.str.len);
		break;
	case ISIM_JV_ARRAY:
		isim_buf_putn(b, "[", 1);
		for (i = 0; i < v->u.arr.n; i++) {
			if (i)
				isim_buf_putn(b, ",", 1);
			put_value(b, &v->u.arr.v[i]);
		}
		isim_buf_putn(b, "]", 1);
		break;
	case ISIM_JV_OBJECT:
		isim_buf_putn(b, "{", 1);
		for (i = 0; i < v->u.obj.n; i++) {
			const struct isim_jmember *m = v->u.obj.sorted[i];

			if (i)
				isim_buf_putn(b, ",", 1);
			isim_json_quote(b, m->name, m->len);
			isim_buf_putn(b, ":", 1);
			put_value(b, &m->val);
		}
		isim_buf_putn(b, "}", 1);
		break;
	}
}

/* Serialize v after what out holds; on no memory restore out and fail. */
static int emit(const struct isim_jv *v, struct isim_buf *out, struct isim_error *err)
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

/* Put the members of every object below v in canonical order. The reader
 * has refused duplicate names already. */
static int sort_tree(struct isim_jv *v)
{
	bool oom;
	size_t i;

	if (v->type == ISIM_JV_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			if (sort_tree(&v->u.arr.v[i]) < 0)
				return -1;
	} else if (v->type == ISIM_JV_OBJECT) {
		for (i = 0; i < v->u.obj.n; i++)
			if (sort_tree(&v->u.obj.m[i].val) < 0)
				return -1;
		sort_members(v, &oom);
		if (oom)
			return -1;
	}
	return 0;
}

int isim_jcs_canonicalize(const char *in, size_t len, const char *name, struct isim_buf *out, struct isim_error *err)
{
	struct isim_jv root;
	int ret;

	if (isim_json_parse_tree(in, len, name, &root, err) < 0)
		return -1;
	ret = sort_tree(&root) < 0 ? nomem(err) : emit(&root, out, err);
	isim_jv_free(&root);
	return ret;
}

/* Reading a cJSON tree: the items from the root down to the current one,
 * so that an error can name its JSON pointer. */
struct conv {
	const cJSON *stack[ISIM_JCS_MAX_DEPTH + 2];
	struct isim_error *err;
	const cJSON *skip; /* a member of the root left out, or NULL */
};

static int conv_value(struct conv *c, const cJSON *item, struct isim_jv *v, int depth);

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
	if (isim_utf8_check(s, n, why, sizeof(why)) >= 0)
		return conv_fail(c, depth, "%s in %s", why, what);
	*out = strdup(s);
	if (!*out)
		return nomem(c->err);
	*outlen = n;
	return 0;
}

static int conv_object(struct conv *c, const cJSON *item, struct isim_jv *v, int depth)
{
	const struct isim_jmember *dup;
	struct isim_jmember *m;
	const cJSON *ch;
	size_t n = 0;
	char q[160];
	bool oom;

	v->type = ISIM_JV_OBJECT;
	for (ch = item->child; ch; ch = ch->next)
		n += ch != c->skip;
	if (!n)
		return 0;
	v->u.obj.m = calloc(n, sizeof(*v->u.obj.m));
	if (!v->u.obj.m)
		return nomem(c->err);
	v->u.obj.cap = n;
	for (ch = item->child; ch; ch = ch->next) {
		if (ch == c->skip)
			continue;
		c->stack[depth + 1] = ch;
		m = &v->u.obj.m[v->u.obj.n++];
		if (conv_string(c, depth + 1, ch->string, "member name", &m->name, &m->len) < 0 ||
		    conv_value(c, ch, &m->val, depth + 1) < 0)
			return -1;
	}
	dup = sort_members(v, &oom);
	if (oom)
		return nomem(c->err);
	if (!dup)
		return 0;
	for (ch = item->child; ch == c->skip; ch = ch->next)
		;
	for (; dup != v->u.obj.m; dup--) {
		ch = ch->next;
		if (ch == c->skip)
			ch = ch->next;
	}
	c->stack[depth + 1] = ch;
	isim_json_quote_message(q, sizeof(q), ch->string, strlen(ch->string), 64);
	return conv_fail(c, depth + 1, "duplicate member name %s", q);
}

static int conv_array(struct conv *c, const cJSON *item, struct isim_jv *v, int depth)
{
	const cJSON *ch;
	struct isim_jv *grown;
	size_t n = 0;

	v->type = ISIM_JV_ARRAY;
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

static int conv_value(struct conv *c, const cJSON *item, struct isim_jv *v, int depth)
{
	double d;

	c->stack[depth] = item;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		v->type = ISIM_JV_NULL;
		return 0;
	case cJSON_False:
		v->type = ISIM_JV_FALSE;
		return 0;
	case cJSON_True:
		v->type = ISIM_JV_TRUE;
		return 0;
	case cJSON_Number:
		d = item->valuedouble;
		if (!isfinite(d))
			return conv_fail(c, depth, "number is not finite: %s",
					 isnan(d) ? "NaN"
					 : d < 0  ? "-Infinity"
						  : "Infinity");
		v->type = ISIM_JV_NUMBER;
		v->u.num = d;
		return 0;
	case cJSON_String:
		v->type = ISIM_JV_STRING;
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

static int from_cjson(const cJSON *v, const char *without, struct isim_buf *out, struct isim_error *err)
{
	struct conv *c;
	struct isim_jv root;
	int ret = -1;

	isim_error_clear(err);
	memset(&root, 0, sizeof(root));
	if (!v)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "no JSON value to canonicalize");
	c = calloc(1, sizeof(*c));
	if (!c)
		return nomem(err);
	c->err = err;
	if (without && cJSON_IsObject(v))
		c->skip = cJSON_GetObjectItemCaseSensitive(v, without);
	if (conv_value(c, v, &root, 0) == 0)
		ret = emit(&root, out, err);
	isim_jv_free(&root);
	free(c);
	return ret;
}

int isim_jcs_from_cjson(const cJSON *v, struct isim_buf *out, struct isim_error *err)
{
	return from_cjson(v, NULL, out, err);
}

int isim_jcs_from_cjson_without(const cJSON *v, const char *name, struct isim_buf *out, struct isim_error *err)
{
	return from_cjson(v, name, out, err);
}
