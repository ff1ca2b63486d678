/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isim/file.h"
#include "isim/json.h"

static void offset_to_position(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int check_duplicates(const cJSON *item, char *ptr, size_t size, const char *name,
			    struct isim_error *err)
{
	const cJSON *a, *b;
	size_t len = strlen(ptr);
	int i = 0;

	if (cJSON_IsObject(item)) {
		for (a = item->child; a; a = a->next) {
			for (b = a->next; b; b = b->next) {
				if (strcmp(a->string, b->string) == 0) {
					isim_error_at(err, name, 0, 0);
					isim_error_pointer(err, ptr[0] ? ptr : "/");
					return isim_error_set(err, ISIM_EXIT_DATAERR,
							      "duplicate object key '%s'", a->string);
				}
			}
		}
	}
	for (a = item->child; a; a = a->next, i++) {
		bool ok = cJSON_IsObject(item) ? isim_json_pointer_push(ptr, size, a->string)
					       : isim_json_pointer_push_index(ptr, size, i);
		if (!ok) {
			isim_error_at(err, name, 0, 0);
			return isim_error_set(err, ISIM_EXIT_DATAERR, "document nested too deeply");
		}
		if (check_duplicates(a, ptr, size, name, err) < 0)
			return -1;
		ptr[len] = '\0';
	}
	return 0;
}

int isim_json_parse(const char *text, size_t len, const char *name, cJSON **out,
		    struct isim_error *err)
{
	const char *end = NULL;
	char ptr[512] = "";
	cJSON *doc;
	int line, col;

	*out = NULL;
	if (memchr(text, '\0', len)) {
		isim_error_at(err, name, 0, 0);
		return isim_error_set(err, ISIM_EXIT_DATAERR, "NUL byte in JSON text");
	}
	doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!doc) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = (at && at >= text && at <= text + len) ? (size_t)(at - text) : 0;

		offset_to_position(text, off, &line, &col);
		isim_error_at(err, name, line, col);
		return isim_error_set(err, ISIM_EXIT_DATAERR, "invalid JSON");
	}
	while (end && end < text + len && strchr(" \t\r\n", *end))
		end++;
	if (end && end < text + len) {
		offset_to_position(text, (size_t)(end - text), &line, &col);
		isim_error_at(err, name, line, col);
		cJSON_Delete(doc);
		return isim_error_set(err, ISIM_EXIT_DATAERR, "trailing data after JSON document");
	}
	if (check_duplicates(doc, ptr, sizeof(ptr), name, err) < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	*out = doc;
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
	ret = isim_json_parse(text, len, path, out, err);
	free(text);
	return ret;
}

char *isim_json_text(const cJSON *doc)
{
	char *s = cJSON_Print(doc), *t;
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
	char *s = cJSON_PrintUnformatted(doc);
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
	size_t n = strlen(buf);

	if (n + 1 >= size)
		return false;
	buf[n++] = '/';
	for (; *token; token++) {
		const char *rep = *token == '~' ? "~0" : *token == '/' ? "~1" : NULL;
		size_t k = rep ? 2 : 1;

		if (n + k >= size) {
			buf[0] = '\0';
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

cJSON *isim_json_pointer_get(cJSON *doc, const char *pointer)
{
	char tok[512];
	cJSON *cur = doc;

	if (*pointer == '\0')
		return doc;
	while (cur && *pointer == '/') {
		size_t n = 0;

		pointer++;
		while (*pointer && *pointer != '/' && n + 1 < sizeof(tok)) {
			if (pointer[0] == '~' && pointer[1] == '0') {
				tok[n++] = '~';
				pointer += 2;
			} else if (pointer[0] == '~' && pointer[1] == '1') {
				tok[n++] = '/';
				pointer += 2;
			} else {
				tok[n++] = *pointer++;
			}
		}
		tok[n] = '\0';
		if (cJSON_IsArray(cur)) {
			char *end;
			long i;

			errno = 0;
			i = strtol(tok, &end, 10);
			if (!n || *end || errno || i < 0 || (n > 1 && tok[0] == '0'))
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)i);
		} else if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		} else {
			return NULL;
		}
	}
	return *pointer ? NULL : cur;
}

bool isim_json_is_integer(const cJSON *item)
{
	double d;

	if (!cJSON_IsNumber(item))
		return false;
	d = item->valuedouble;
	return isfinite(d) && floor(d) == d && fabs(d) <= 9007199254740992.0;
}
