/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
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

struct conv {
	yaml_document_t *ydoc;
	struct isim_doc *doc;
	struct isim_error *err;
	size_t nodes;
	char ptr[2048];
};

static int record(struct conv *c, const yaml_node_t *node)
{
	struct isim_doc *doc = c->doc;

	if (doc->npos == doc->cap) {
		size_t ncap = doc->cap ? doc->cap * 2 : 64;
		struct isim_yaml_pos *n = realloc(doc->pos, ncap * sizeof(*n));

		if (!n)
			return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "out of memory");
		doc->pos = n;
		doc->cap = ncap;
	}
	doc->pos[doc->npos].pointer = strdup(c->ptr);
	if (!doc->pos[doc->npos].pointer)
		return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "out of memory");
	doc->pos[doc->npos].line = (int)node->start_mark.line + 1;
	doc->pos[doc->npos].column = (int)node->start_mark.column + 1;
	doc->npos++;
	return 0;
}

static int fail_at(struct conv *c, const yaml_node_t *node, const char *fmt, ...) ISIM_PRINTF(3, 4);
static int fail_at(struct conv *c, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	isim_error_at(c->err, c->doc->path, (int)node->start_mark.line + 1,
		      (int)node->start_mark.column + 1);
	va_start(ap, fmt);
	isim_error_setv(c->err, ISIM_EXIT_DATAERR, fmt, ap);
	va_end(ap);
	return -1;
}

static bool match_all(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static bool is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* YAML 1.2.2 section 10.3.2, the core schema's tag resolution. */
static int scalar(struct conv *c, yaml_node_t *node, cJSON **out)
{
	const char *s = (const char *)node->data.scalar.value;
	const char *tag = (const char *)node->tag;
	const char *digits, *end;
	bool explicit_str = tag && strcmp(tag, YAML_STR_TAG) == 0;
	bool plain = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	double d;

	if (strlen(s) != node->data.scalar.length)
		return fail_at(c, node, "NUL character in scalar");
	if (tag && strcmp(tag, YAML_STR_TAG) && strcmp(tag, YAML_INT_TAG) && strcmp(tag, YAML_FLOAT_TAG) &&
	    strcmp(tag, YAML_BOOL_TAG) && strcmp(tag, YAML_NULL_TAG))
		return fail_at(c, node, "unsupported tag '%.60s'", tag);
	if (!plain || (explicit_str && node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)) {
		*out = cJSON_CreateString(s);
		goto done;
	}
	if (is_null(s)) {
		*out = cJSON_CreateNull();
		goto done;
	}
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = cJSON_CreateTrue();
		goto done;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*out = cJSON_CreateFalse();
		goto done;
	}
	digits = (*s == '-' || *s == '+') ? s + 1 : s;
	if (match_all(digits, "0123456789")) {
		if (digits[0] == '0' && digits[1])
			return fail_at(c, node,
				       "'%.60s' is ambiguous (octal in YAML 1.1, decimal in YAML 1.2): "
				       "quote it, or drop the leading zero",
				       s);
		errno = 0;
		d = strtod(s, NULL);
		if (fabs(d) > 9007199254740992.0)
			return fail_at(c, node, "integer '%.60s' is out of range (more than 2^53)", s);
		*out = cJSON_CreateNumber(d);
		goto done;
	}
	if ((!strncmp(s, "0o", 2) && match_all(s + 2, "01234567")) ||
	    (!strncmp(s, "0x", 2) && match_all(s + 2, "0123456789abcdefABCDEF"))) {
		unsigned long long v;

		errno = 0;
		v = strtoull(s + 2, NULL, s[1] == 'o' ? 8 : 16);
		if (errno || v > 9007199254740992ULL)
			return fail_at(c, node, "integer '%.60s' is out of range (more than 2^53)", s);
		*out = cJSON_CreateNumber((double)v);
		goto done;
	}
	if (!strcmp(digits, ".inf") || !strcmp(digits, ".Inf") || !strcmp(digits, ".INF") ||
	    !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return fail_at(c, node, "'%.60s' has no JSON representation", s);
	if (strpbrk(digits, "0123456789") && match_all(digits, "0123456789.eE+-") &&
	    strchr("0123456789.", *digits)) {
		errno = 0;
		d = strtod(s, (char **)&end);
		if (*end == '\0') {
			if (errno || !isfinite(d))
				return fail_at(c, node, "number '%.60s' is out of range", s);
			*out = cJSON_CreateNumber(d);
			goto done;
		}
	}
	if (tag && strcmp(tag, YAML_STR_TAG))
		return fail_at(c, node, "'%.60s' does not match its tag", s);
	*out = cJSON_CreateString(s);
done:
	if (!*out)
		return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "out of memory");
	return 0;
}

static int convert(struct conv *c, yaml_node_t *node, int depth, cJSON **out);

static int mapping(struct conv *c, yaml_node_t *node, int depth, cJSON *obj)
{
	yaml_node_pair_t *p;
	size_t len = strlen(c->ptr);

	for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->ydoc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->ydoc, p->value);
		const char *key;
		cJSON *child = NULL;
		yaml_node_pair_t *q;

		if (!k || !v)
			return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "malformed YAML node graph");
		if (k->type != YAML_SCALAR_NODE)
			return fail_at(c, k, "mapping keys must be scalars");
		key = (const char *)k->data.scalar.value;
		if (!strcmp(key, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return fail_at(c, k, "merge keys ('<<') are not supported");
		for (q = node->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *k2 = yaml_document_get_node(c->ydoc, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, key)) {
				return fail_at(c, k, "duplicate key '%.60s' (first at line %d)", key,
					       (int)k2->start_mark.line + 1);
			}
		}
		if (!isim_json_pointer_push(c->ptr, sizeof(c->ptr), key))
			return fail_at(c, k, "document nested too deeply");
		if (convert(c, v, depth + 1, &child) < 0)
			return -1;
		cJSON_AddItemToObject(obj, key, child);
		c->ptr[len] = '\0';
	}
	return 0;
}

static int convert(struct conv *c, yaml_node_t *node, int depth, cJSON **out)
{
	size_t len = strlen(c->ptr);
	yaml_node_item_t *it;
	int i = 0;

	*out = NULL;
	if (depth > ISIM_YAML_MAX_DEPTH)
		return fail_at(c, node, "nesting deeper than %d levels (recursive alias?)", ISIM_YAML_MAX_DEPTH);
	if (++c->nodes > ISIM_YAML_MAX_NODES)
		return fail_at(c, node, "more than %d nodes after alias expansion", ISIM_YAML_MAX_NODES);
	if (record(c, node) < 0)
		return -1;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return scalar(c, node, out);
	case YAML_SEQUENCE_NODE:
		*out = cJSON_CreateArray();
		if (!*out)
			return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "out of memory");
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++, i++) {
			yaml_node_t *v = yaml_document_get_node(c->ydoc, *it);
			cJSON *child = NULL;

			if (!v) {
				isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "malformed YAML node graph");
				goto fail;
			}
			if (!isim_json_pointer_push_index(c->ptr, sizeof(c->ptr), i)) {
				fail_at(c, v, "document nested too deeply");
				goto fail;
			}
			if (convert(c, v, depth + 1, &child) < 0)
				goto fail;
			cJSON_AddItemToArray(*out, child);
			c->ptr[len] = '\0';
		}
		return 0;
	case YAML_MAPPING_NODE:
		*out = cJSON_CreateObject();
		if (!*out)
			return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "out of memory");
		if (mapping(c, node, depth, *out) < 0)
			goto fail;
		return 0;
	case YAML_NO_NODE:
		break;
	}
	return isim_error_set(c->err, ISIM_EXIT_SOFTWARE, "unexpected YAML node");
fail:
	/* What was built so far is not attached anywhere yet. */
	cJSON_Delete(*out);
	*out = NULL;
	return -1;
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

int isim_yaml_parse(const char *text, size_t len, const char *name, struct isim_doc **out,
		    struct isim_error *err)
{
	yaml_parser_t parser;
	yaml_document_t ydoc, extra;
	struct isim_doc *doc = NULL;
	struct conv c;
	yaml_node_t *root;
	bool have_doc = false, have_extra = false;
	int ret = -1;

	*out = NULL;
	if (!yaml_parser_initialize(&parser))
		return isim_error_set(err, ISIM_EXIT_SOFTWARE, "out of memory");
	doc = calloc(1, sizeof(*doc));
	if (!doc || !(doc->path = strdup(name))) {
		isim_error_set(err, ISIM_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (memchr(text, '\0', len)) {
		isim_error_at(err, name, 0, 0);
		isim_error_set(err, ISIM_EXIT_DATAERR, "NUL byte in YAML text");
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &ydoc))
		goto parse_error;
	have_doc = true;
	if (!yaml_parser_load(&parser, &extra))
		goto parse_error;
	have_extra = true;
	if (yaml_document_get_root_node(&extra)) {
		isim_error_at(err, name, (int)extra.start_mark.line + 1, (int)extra.start_mark.column + 1);
		isim_error_set(err, ISIM_EXIT_DATAERR, "more than one YAML document in the file");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.ydoc = &ydoc;
	c.doc = doc;
	c.err = err;
	root = yaml_document_get_root_node(&ydoc);
	if (!root) {
		doc->root = cJSON_CreateNull();
	} else if (convert(&c, root, 0, &doc->root) < 0) {
		goto out;
	}
	*out = doc;
	doc = NULL;
	ret = 0;
	goto out;
parse_error:
	isim_error_at(err, name, (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1);
	isim_error_set(err, ISIM_EXIT_DATAERR, "invalid YAML: %s%s%s", parser.problem ? parser.problem : "error",
		       parser.context ? " " : "", parser.context ? parser.context : "");
out:
	if (have_doc)
		yaml_document_delete(&ydoc);
	if (have_extra)
		yaml_document_delete(&extra);
	yaml_parser_delete(&parser);
	isim_doc_free(doc);
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
