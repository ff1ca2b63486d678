/* SPDX-License-Identifier: MIT */
/* JSON from untrusted input, as one document and as JSON Lines (peer
 * descriptors arrive that way). Nothing may crash or leak; what is accepted
 * must be written out and read back unchanged, and every value must be
 * found again at the JSON pointer built for it. Any bytes at all, as a
 * member name and a string, are written as UTF-8 JSON that reads back. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/json.h"
#include "isim/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pointers(cJSON *root, const cJSON *v, char *ptr, size_t cap)
{
	size_t len = strlen(ptr);
	const cJSON *c;
	int i = 0;

	if (isim_json_pointer_get(root, ptr) != v)
		abort();
	for (c = v->child; c; c = c->next, i++) {
		bool ok = cJSON_IsObject(v) ? isim_json_pointer_push(ptr, cap, c->string)
					    : isim_json_pointer_push_index(ptr, cap, i);

		if (ok)
			check_pointers(root, c, ptr, cap);
		else if (strlen(ptr) != len)
			abort(); /* a token that does not fit leaves the pointer alone */
		ptr[len] = '\0';
	}
}

static void check(cJSON *doc, bool line)
{
	struct isim_error err;
	char ptr[512] = "", *text;
	cJSON *back = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	check_pointers(doc, doc, ptr, sizeof(ptr));
	isim_error_clear(&err);
	if (line) {
		f = open_memstream(&out, &len);
		if (!f)
			return;
		if (isim_json_write_line(f, doc) < 0)
			abort();
		fclose(f);
		text = out;
		if (!len || text[len - 1] != '\n' || memchr(text, '\n', len - 1))
			abort();
	} else {
		text = isim_json_text(doc);
		if (!text)
			return;
	}
	if (isim_json_parse(text, strlen(text), "round-trip", &back, &err) < 0 || !cJSON_Compare(doc, back, true))
		abort();
	cJSON_Delete(back);
	free(text);
}

static void lines(const uint8_t *data, size_t size)
{
	struct isim_jsonl r;
	struct isim_error err;
	cJSON *doc;
	size_t records = 0;
	int got;
	FILE *f;

	if (!size)
		return;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	isim_jsonl_init(&r, f, "fuzz.jsonl");
	for (;;) {
		isim_error_clear(&err);
		got = isim_jsonl_next(&r, &doc, &err);
		if (got == 0)
			break;
		/* Each call consumes a line: never more calls than lines. */
		if (++records > size || r.line != (int)records)
			abort();
		if (got < 0) {
			if (err.line != r.line || !err.msg[0])
				abort();
			continue;
		}
		check(doc, true);
		cJSON_Delete(doc);
	}
	isim_jsonl_free(&r);
	fclose(f);
}

static void raw_strings(const uint8_t *data, size_t size)
{
	struct isim_error err;
	cJSON *doc, *back = NULL;
	char *s, *text;

	s = malloc(size + 1);
	doc = cJSON_CreateObject();
	if (!s || !doc)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!cJSON_AddStringToObject(doc, s, s))
		goto out;
	text = isim_json_print(doc, false);
	if (!text)
		goto out;
	if (!isim_utf8_valid(text, strlen(text)) || isim_json_parse(text, strlen(text), "out", &back, &err) < 0)
		abort();
	/* Well-formed bytes are kept as they are. */
	if (isim_utf8_valid(s, strlen(s)) && strcmp(cJSON_GetObjectItemCaseSensitive(back, s)->valuestring, s) != 0)
		abort();
	cJSON_Delete(back);
	free(text);
out:
	cJSON_Delete(doc);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_error err;
	cJSON *doc;

	isim_error_clear(&err);
	if (isim_json_parse((const char *)data, size, "fuzz.json", &doc, &err) == 0) {
		check(doc, false);
		cJSON_Delete(doc);
	} else if (!err.msg[0] || err.kind != ISIM_ERR_DATA) {
		abort();
	}
	lines(data, size);
	raw_strings(data, size);
	return 0;
}
