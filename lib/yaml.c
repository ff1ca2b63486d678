/* SPDX-License-Identifier: MIT */
/* YAML to cJSON, event by event, so that what the text said (an explicit
 * tag, quotes, an anchor) decides each value, and so that aliases are
 * copied under a budget rather than expanded without bound. */
#include <errno.h>
#include <math.h>
#include <search.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "isim/file.h"
#include "isim/json.h"
#include "isim/yaml.h"

struct isim_yaml_pos {
	char *pointer;
	int line, column;
};

/* An anchored node, for its aliases to copy. */
struct anchor {
	char *name;
	cJSON *value; /* NULL while the node is still being read */
	char *text;   /* a scalar's text, for an alias used as a key */
	bool owned;   /* value is not in the tree: the anchor was on a key */
	size_t nodes, bytes;
	int height;
};

/* A key of the mapping being read, to find the first of a duplicate. */
struct key {
	char *text;
	int line, column;
};

struct conv {
	yaml_parser_t parser;
	struct isim_doc *doc;
	struct isim_error *err;
	const char *text;
	size_t len;
	void *anchors; /* tsearch tree of struct anchor by name */
	struct anchor **all;
	size_t nall, capall;
	size_t nodes, bytes;
	char ptr[2048];
};

enum kind {
	K_NULL,
	K_BOOL,
	K_INT,
	K_FLOAT,
	K_STR
};

static int fail_at(struct conv *c, yaml_mark_t m, const char *fmt, ...) ISIM_PRINTF(3, 4);
static int fail_at(struct conv *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	isim_error_at(c->err, c->doc->path, (int)m.line + 1, (int)m.column + 1);
	va_start(ap, fmt);
	isim_error_setv(c->err, ISIM_ERR_DATA, fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct conv *c)
{
	return isim_error_set(c->err, ISIM_ERR_INTERNAL, "out of memory");
}

/* The byte at a mark, whose column counts characters, not bytes. */
static char char_at(const struct conv *c, yaml_mark_t m)
{
	const char *p = c->text, *end = c->text + c->len;
	size_t line = 0, col = 0;

	while (p < end && line < m.line)
		if (*p++ == '\n')
			line++;
	while (p < end && col < m.column && *p != '\n') {
		p++;
		while (p < end && ((unsigned char)*p & 0xc0) == 0x80)
			p++;
		col++;
	}
	return p < end ? *p : '\0';
}

static int parse_error(struct conv *c)
{
	const yaml_parser_t *p = &c->parser;

	if (p->error == YAML_MEMORY_ERROR)
		return oom(c);
	return fail_at(c, p->problem_mark, "invalid YAML: %s%s%s%s", p->problem ? p->problem : "error",
		       p->context ? " " : "", p->context ? p->context : "",
		       char_at(c, p->problem_mark) == '\t' && !(p->problem && strstr(p->problem, "tab"))
			       ? " (a tab: YAML indents with spaces only)"
			       : "");
}

static int next(struct conv *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return parse_error(c);
	return 0;
}

/* Count what the converted document holds, so that neither aliases nor
 * long keys can make it grow past the limits. */
static int spend(struct conv *c, yaml_mark_t m, size_t nodes, size_t bytes)
{
	if (nodes > ISIM_YAML_MAX_NODES - c->nodes)
		return fail_at(c, m, "more than %d nodes after alias expansion", ISIM_YAML_MAX_NODES);
	if (bytes > ISIM_YAML_MAX_BYTES - c->bytes)
		return fail_at(c, m, "more than %u bytes of text after alias expansion", ISIM_YAML_MAX_BYTES);
	c->nodes += nodes;
	c->bytes += bytes;
	return 0;
}

/* Remember where the value at the current pointer starts. */
static int record(struct conv *c, yaml_mark_t m)
{
	struct isim_doc *doc = c->doc;
	size_t n = strlen(c->ptr);

	if (spend(c, m, 0, n) < 0)
		return -1;
	if (doc->npos == doc->cap) {
		size_t ncap = doc->cap ? doc->cap * 2 : 64;
		struct isim_yaml_pos *p = realloc(doc->pos, ncap * sizeof(*p));

		if (!p)
			return oom(c);
		doc->pos = p;
		doc->cap = ncap;
	}
	doc->pos[doc->npos].pointer = strdup(c->ptr);
	if (!doc->pos[doc->npos].pointer)
		return oom(c);
	doc->pos[doc->npos].line = (int)m.line + 1;
	doc->pos[doc->npos].column = (int)m.column + 1;
	doc->npos++;
	return 0;
}

/* "tag:yaml.org,2002:int" as written, "!!int". */
static void tag_name(const char *tag, char *buf, size_t size)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	if (!strncmp(tag, prefix, sizeof(prefix) - 1))
		snprintf(buf, size, "!!%.60s", tag + sizeof(prefix) - 1);
	else
		snprintf(buf, size, "%.60s", tag);
}

/* ---- scalars ---------------------------------------------------------- */

static bool match_all(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static bool is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int number(struct conv *c, double d, enum kind k, cJSON **out, enum kind *kind)
{
	*out = cJSON_CreateNumber(d);
	*kind = k;
	return *out ? 0 : oom(c);
}

/* YAML 1.2.2 section 10.3.2, the core schema's resolution of a plain
 * scalar, with the refusals the header lists. */
static int resolve(struct conv *c, yaml_mark_t m, const char *s, cJSON **out, enum kind *kind)
{
	const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
	unsigned long long v;
	char *end;
	double d;

	*out = NULL;
	*kind = K_STR;
	if (is_null(s)) {
		*kind = K_NULL;
		*out = cJSON_CreateNull();
	} else if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*kind = K_BOOL;
		*out = cJSON_CreateTrue();
	} else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*kind = K_BOOL;
		*out = cJSON_CreateFalse();
	} else if (match_all(digits, "0123456789")) {
		if (digits[0] == '0' && digits[1])
			return fail_at(c, m,
				       "'%.60s' is ambiguous (octal in YAML 1.1, decimal in YAML 1.2): "
				       "quote it, or drop the leading zero",
				       s);
		/* Compared as an integer: as a double, 2^53 + 1 would pass
		 * for 2^53. */
		errno = 0;
		v = strtoull(digits, NULL, 10);
		if (errno || v > 9007199254740992ULL)
			return fail_at(c, m, "integer '%.60s' is out of range (more than 2^53)", s);
		return number(c, *s == '-' ? -(double)v : (double)v, K_INT, out, kind);
	} else if ((!strncmp(s, "0o", 2) && match_all(s + 2, "01234567")) ||
		   (!strncmp(s, "0x", 2) && match_all(s + 2, "0123456789abcdefABCDEF"))) {
		errno = 0;
		v = strtoull(s + 2, NULL, s[1] == 'o' ? 8 : 16);
		if (errno || v > 9007199254740992ULL)
			return fail_at(c, m, "integer '%.60s' is out of range (more than 2^53)", s);
		return number(c, (double)v, K_INT, out, kind);
	} else if (!strcmp(digits, ".inf") || !strcmp(digits, ".Inf") || !strcmp(digits, ".INF") ||
		   !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		return fail_at(c, m, "'%.60s' has no JSON representation", s);
	} else if (strpbrk(digits, "0123456789") && match_all(digits, "0123456789.eE+-") &&
		   strchr("0123456789.", *digits)) {
		errno = 0;
		d = strtod(s, &end);
		if (*end == '\0') {
			if (errno || !isfinite(d))
				return fail_at(c, m, "number '%.60s' is out of range", s);
			return number(c, d, K_FLOAT, out, kind);
		}
		*out = cJSON_CreateString(s);
	} else {
		*out = cJSON_CreateString(s);
	}
	return *out ? 0 : oom(c);
}

/* A scalar: quoted or tagged !!str (or the non-specific "!") is a string;
 * plain is resolved; any other core tag must agree with what the text
 * resolves to (YAML 1.2.2 section 10.3.2). */
static int scalar(struct conv *c, const yaml_event_t *ev, cJSON **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	enum kind kind, want = K_STR;
	char name[80];

	*out = NULL;
	if (strlen(s) != ev->data.scalar.length)
		return fail_at(c, ev->start_mark, "NUL character in scalar");
	if (tag) {
		tag_name(tag, name, sizeof(name));
		if (!strcmp(tag, "!") || !strcmp(tag, YAML_STR_TAG))
			want = K_STR;
		else if (!strcmp(tag, YAML_NULL_TAG))
			want = K_NULL;
		else if (!strcmp(tag, YAML_BOOL_TAG))
			want = K_BOOL;
		else if (!strcmp(tag, YAML_INT_TAG))
			want = K_INT;
		else if (!strcmp(tag, YAML_FLOAT_TAG))
			want = K_FLOAT;
		else
			return fail_at(c, ev->start_mark, "unsupported tag '%s'", name);
	}
	if ((!tag && !plain) || (tag && want == K_STR)) {
		*out = cJSON_CreateString(s);
		return *out ? 0 : oom(c);
	}
	if (resolve(c, ev->start_mark, s, out, &kind) < 0)
		return -1;
	if (tag && kind != want && !(want == K_FLOAT && kind == K_INT)) {
		cJSON_Delete(*out);
		*out = NULL;
		return fail_at(c, ev->start_mark, "'%.60s' is not a valid %s", s, name);
	}
	return 0;
}

/* ---- anchors and aliases ------------------------------------------------ */

static int anchor_cmp(const void *a, const void *b)
{
	return strcmp(((const struct anchor *)a)->name, ((const struct anchor *)b)->name);
}

static struct anchor *find_anchor(struct conv *c, const char *name)
{
	struct anchor key = { .name = (char *)name };
	struct anchor **found = tfind(&key, &c->anchors, anchor_cmp);

	return found ? *found : NULL;
}

/* A new anchor of that name, hiding any earlier one (YAML 1.2.2 section
 * 3.2.2.2: an alias refers to the most recent node so named). */
static int anchor_open(struct conv *c, const char *name, struct anchor **out)
{
	struct anchor *a, **slot;

	*out = NULL;
	if (c->nall == c->capall) {
		size_t ncap = c->capall ? c->capall * 2 : 16;
		struct anchor **n = realloc(c->all, ncap * sizeof(*n));

		if (!n)
			return oom(c);
		c->all = n;
		c->capall = ncap;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return oom(c);
	c->all[c->nall++] = a;
	a->name = strdup(name);
	if (!a->name)
		return oom(c);
	slot = tsearch(a, &c->anchors, anchor_cmp);
	if (!slot)
		return oom(c);
	*slot = a;
	*out = a;
	return 0;
}

static void keep(void *p)
{
	(void)p;
}

static void anchors_free(struct conv *c)
{
	size_t i;

	tdestroy(c->anchors, keep);
	for (i = 0; i < c->nall; i++) {
		free(c->all[i]->name);
		free(c->all[i]->text);
		if (c->all[i]->owned)
			cJSON_Delete(c->all[i]->value);
		free(c->all[i]);
	}
	free(c->all);
}

/* The complete node an alias event names. */
static int alias_target(struct conv *c, const yaml_event_t *ev, struct anchor **out)
{
	const char *name = (const char *)ev->data.alias.anchor;

	*out = find_anchor(c, name);
	if (!*out)
		return fail_at(c, ev->start_mark, "alias '*%.60s' has no anchor before it", name);
	if (!(*out)->value)
		return fail_at(c, ev->start_mark, "alias '*%.60s' is inside the node it names", name);
	return 0;
}

static int alias(struct conv *c, const yaml_event_t *ev, int depth, cJSON **out, int *height)
{
	struct anchor *a;

	if (alias_target(c, ev, &a) < 0)
		return -1;
	if (depth + a->height > ISIM_YAML_MAX_DEPTH)
		return fail_at(c, ev->start_mark, "nesting deeper than %d levels", ISIM_YAML_MAX_DEPTH);
	if (spend(c, ev->start_mark, a->nodes, a->bytes) < 0 || record(c, ev->start_mark) < 0)
		return -1;
	*out = cJSON_Duplicate(a->value, true);
	if (!*out)
		return oom(c);
	*height = a->height;
	return 0;
}

/* ---- nodes -------------------------------------------------------------- */

static int node(struct conv *c, yaml_event_t *ev, int depth, cJSON **out, int *height);

static int check_tag(struct conv *c, yaml_mark_t m, const yaml_char_t *tag, const char *expected)
{
	char name[80];

	if (!tag || !strcmp((const char *)tag, "!") || !strcmp((const char *)tag, expected))
		return 0;
	tag_name((const char *)tag, name, sizeof(name));
	return fail_at(c, m, "unsupported tag '%s'", name);
}

static int sequence(struct conv *c, const yaml_event_t *start, int depth, cJSON **out, int *height)
{
	size_t len = strlen(c->ptr);
	yaml_event_t ev;
	cJSON *child;
	int i, h;

	if (check_tag(c, start->start_mark, start->data.sequence_start.tag, YAML_SEQ_TAG) < 0)
		return -1;
	*out = cJSON_CreateArray();
	if (!*out)
		return oom(c);
	for (i = 0;; i++) {
		if (next(c, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (!isim_json_pointer_push_index(c->ptr, sizeof(c->ptr), i)) {
			fail_at(c, ev.start_mark, "JSON pointer to this value is longer than %zu bytes",
				sizeof(c->ptr) - 1);
			yaml_event_delete(&ev);
			return -1;
		}
		if (node(c, &ev, depth + 1, &child, &h) < 0)
			return -1;
		c->ptr[len] = '\0';
		cJSON_AddItemToArray(*out, child);
		if (h + 1 > *height)
			*height = h + 1;
	}
	yaml_event_delete(&ev);
	return 0;
}

/* The text of a key (malloc'd), which must be a scalar or an alias of
 * one; a key is always a JSON member name, so only string tags are taken.
 * Takes ev. */
static int key_text(struct conv *c, yaml_event_t *ev, char **text)
{
	const char *s = NULL, *tag = NULL;
	struct anchor *a = NULL;
	char name[80];
	int ret = -1;

	*text = NULL;
	if (ev->type == YAML_ALIAS_EVENT) {
		if (alias_target(c, ev, &a) < 0)
			goto out;
		if (!a->text) {
			fail_at(c, ev->start_mark, "mapping keys must be scalars ('*%.60s' is not)",
				(const char *)ev->data.alias.anchor);
			goto out;
		}
		s = a->text;
		a = NULL;
	} else if (ev->type == YAML_SCALAR_EVENT) {
		s = (const char *)ev->data.scalar.value;
		tag = (const char *)ev->data.scalar.tag;
		if (strlen(s) != ev->data.scalar.length) {
			fail_at(c, ev->start_mark, "NUL character in scalar");
			goto out;
		}
		if (tag && strcmp(tag, "!") && strcmp(tag, YAML_STR_TAG)) {
			tag_name(tag, name, sizeof(name));
			fail_at(c, ev->start_mark, "a key cannot have tag '%s' (JSON member names are strings)", name);
			goto out;
		}
		if (!strcmp(s, "<<") && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			fail_at(c, ev->start_mark, "merge keys ('<<') are not supported");
			goto out;
		}
		if (ev->data.scalar.anchor && anchor_open(c, (const char *)ev->data.scalar.anchor, &a) < 0)
			goto out;
	} else {
		fail_at(c, ev->start_mark, "mapping keys must be scalars");
		goto out;
	}
	if (spend(c, ev->start_mark, 0, strlen(s)) < 0)
		goto out;
	*text = strdup(s);
	if (!*text) {
		oom(c);
		goto out;
	}
	if (a) {
		/* An anchored key, should an alias use it as a value. */
		a->owned = true;
		a->text = strdup(s);
		a->value = cJSON_CreateString(s);
		a->nodes = 1;
		a->bytes = strlen(s);
		if (!a->text || !a->value) {
			oom(c);
			goto out;
		}
	}
	ret = 0;
out:
	yaml_event_delete(ev);
	if (ret < 0) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->text, ((const struct key *)b)->text);
}

static void key_free(void *p)
{
	struct key *k = p;

	free(k->text);
	free(k);
}

/* Read one key of a mapping and refuse it if an earlier key had the same
 * text. *k stays owned by the tree of keys. */
static int mapping_key(struct conv *c, yaml_event_t *ev, void **keys, struct key **k)
{
	yaml_mark_t m = ev->start_mark;
	struct key *nk, **found;

	*k = NULL;
	nk = calloc(1, sizeof(*nk));
	if (!nk) {
		yaml_event_delete(ev);
		return oom(c);
	}
	if (key_text(c, ev, &nk->text) < 0) {
		free(nk);
		return -1;
	}
	nk->line = (int)m.line + 1;
	nk->column = (int)m.column + 1;
	found = tsearch(nk, keys, key_cmp);
	if (!found) {
		key_free(nk);
		return oom(c);
	}
	if (*found != nk) {
		fail_at(c, m, "duplicate key '%.60s' (first at line %d, column %d)", nk->text, (*found)->line,
			(*found)->column);
		key_free(nk);
		return -1;
	}
	*k = nk;
	return 0;
}

static int mapping(struct conv *c, const yaml_event_t *start, int depth, cJSON **out, int *height)
{
	size_t len = strlen(c->ptr);
	void *keys = NULL;
	yaml_event_t ev;
	struct key *k;
	cJSON *child;
	int h, ret = -1;

	if (check_tag(c, start->start_mark, start->data.mapping_start.tag, YAML_MAP_TAG) < 0)
		return -1;
	*out = cJSON_CreateObject();
	if (!*out)
		return oom(c);
	for (;;) {
		if (next(c, &ev) < 0)
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (mapping_key(c, &ev, &keys, &k) < 0)
			goto out;
		if (next(c, &ev) < 0)
			goto out;
		if (!isim_json_pointer_push(c->ptr, sizeof(c->ptr), k->text)) {
			fail_at(c, ev.start_mark, "JSON pointer to this value is longer than %zu bytes",
				sizeof(c->ptr) - 1);
			yaml_event_delete(&ev);
			goto out;
		}
		if (node(c, &ev, depth + 1, &child, &h) < 0)
			goto out;
		c->ptr[len] = '\0';
		if (!cJSON_AddItemToObject(*out, k->text, child)) {
			cJSON_Delete(child);
			oom(c);
			goto out;
		}
		if (h + 1 > *height)
			*height = h + 1;
	}
	yaml_event_delete(&ev);
	ret = 0;
out:
	tdestroy(keys, key_free);
	return ret;
}

/* Convert the node that ev starts (taking ev), at depth levels below the
 * root; *height is how many levels it has below itself. */
static int node(struct conv *c, yaml_event_t *ev, int depth, cJSON **out, int *height)
{
	size_t nodes0 = c->nodes, bytes0 = c->bytes;
	const yaml_char_t *aname = NULL;
	struct anchor *a = NULL;
	int ret = -1;

	*out = NULL;
	*height = 0;
	if (depth > ISIM_YAML_MAX_DEPTH) {
		fail_at(c, ev->start_mark, "nesting deeper than %d levels", ISIM_YAML_MAX_DEPTH);
		goto out;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		ret = alias(c, ev, depth, out, height);
		goto out;
	case YAML_SCALAR_EVENT:
		aname = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		aname = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		aname = ev->data.mapping_start.anchor;
		break;
	default:
		isim_error_set(c->err, ISIM_ERR_INTERNAL, "unexpected YAML event %d", (int)ev->type);
		goto out;
	}
	if (spend(c, ev->start_mark, 1, 0) < 0 || record(c, ev->start_mark) < 0)
		goto out;
	if (aname && anchor_open(c, (const char *)aname, &a) < 0)
		goto out;
	if (ev->type == YAML_SCALAR_EVENT)
		ret = spend(c, ev->start_mark, 0, ev->data.scalar.length) < 0 ? -1 : scalar(c, ev, out);
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		ret = sequence(c, ev, depth, out, height);
	else
		ret = mapping(c, ev, depth, out, height);
	if (ret == 0 && a) {
		a->value = *out;
		a->nodes = c->nodes - nodes0;
		a->bytes = c->bytes - bytes0;
		a->height = *height;
		if (ev->type == YAML_SCALAR_EVENT && !(a->text = strdup((const char *)ev->data.scalar.value)))
			ret = oom(c);
	}
out:
	yaml_event_delete(ev);
	if (ret < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return ret;
}

void isim_doc_free(struct isim_doc *doc)
{
	size_t i;

	if (!doc)
		return;
	cJSON_Delete(doc->root);
	for (i = 0; i < doc->npos; i++)
		free(doc->pos[i].pointer);
	free(doc->pos);
	free(doc->path);
	free(doc);
}

/* The stream holds at most one document: its root, or null when empty. */
static int document(struct conv *c)
{
	yaml_event_t ev;
	int h;

	if (next(c, &ev) < 0)
		return -1;
	yaml_event_delete(&ev); /* stream start */
	if (next(c, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		c->doc->root = cJSON_CreateNull();
		return c->doc->root ? 0 : oom(c);
	}
	yaml_event_delete(&ev); /* document start */
	if (next(c, &ev) < 0 || node(c, &ev, 0, &c->doc->root, &h) < 0)
		return -1;
	if (next(c, &ev) < 0)
		return -1;
	yaml_event_delete(&ev); /* document end */
	if (next(c, &ev) < 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		fail_at(c, ev.start_mark, "more than one YAML document in the file");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	return 0;
}

int isim_yaml_parse(const char *text, size_t len, const char *name, struct isim_doc **out, struct isim_error *err)
{
	struct conv c;
	int ret = -1;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.err = err;
	if (!yaml_parser_initialize(&c.parser))
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	c.doc = calloc(1, sizeof(*c.doc));
	if (!c.doc || !(c.doc->path = strdup(name))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (memchr(text, '\0', len)) {
		isim_error_at(err, name, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "NUL byte in YAML text");
		goto out;
	}
	c.text = text;
	c.len = len;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
	if (document(&c) < 0)
		goto out;
	*out = c.doc;
	c.doc = NULL;
	ret = 0;
out:
	anchors_free(&c);
	yaml_parser_delete(&c.parser);
	isim_doc_free(c.doc);
	return ret;
}

int isim_yaml_load_file(const char *path, struct isim_doc **out, struct isim_error *err)
{
	char *text = NULL;
	size_t len;
	int ret;

	*out = NULL;
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, err) < 0)
		return -1;
	ret = isim_yaml_parse(text, len, path, out, err);
	free(text);
	return ret;
}

bool isim_doc_locate(const struct isim_doc *doc, const char *pointer, int *line, int *column)
{
	char buf[2048];
	size_t i;

	if (!doc || snprintf(buf, sizeof(buf), "%s", pointer) >= (int)sizeof(buf))
		return false;
	for (;;) {
		for (i = 0; i < doc->npos; i++) {
			if (!strcmp(doc->pos[i].pointer, buf)) {
				*line = doc->pos[i].line;
				*column = doc->pos[i].column;
				return true;
			}
		}
		if (!buf[0])
			return false;
		*strrchr(buf, '/') = '\0';
	}
}

void isim_doc_locate_error(const struct isim_doc *doc, struct isim_error *err)
{
	int line, column;

	if (!doc || !err)
		return;
	if (isim_doc_locate(doc, err->pointer, &line, &column)) {
		isim_error_at(err, doc->path, line, column);
	} else {
		isim_error_at(err, doc->path, 0, 0);
	}
}
