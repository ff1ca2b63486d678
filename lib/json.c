/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isim/file.h"
#include "isim/jcs.h"
#include "isim/json.h"

/* The I-JSON reader behind canonical JSON is strict where cJSON is lax
 * (leading zeros, "1.", raw control characters, invalid UTF-8, U+0000 that
 * cJSON would cut a string at, names duplicated once unescaped), and it
 * says at which line and column each fault is. */
int isim_json_parse(const char *text, size_t len, const char *name, cJSON **out, struct isim_error *err)
{
	*out = isim_jcs_parse(text, len, name, err);
	return *out ? 0 : -1;
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
 * been read to its end all the same. */
static int read_line(struct isim_jsonl *r, size_t *len, bool *too_long)
{
	size_t n = 0;
	int ch;

	*too_long = false;
	while ((ch = getc(r->f)) != EOF && ch != '\n') {
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
	char num[ISIM_JCS_NUMBER_MAX];

	for (; item; item = item->next) {
		if (cJSON_IsNumber(item)) {
			char *raw;

			if (isim_jcs_format_number(item->valuedouble, num) < 0)
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

/* cJSON prints numbers with 15 significant digits whenever that reads back
 * nearly equal, so 9007199254740992 would come out as 9.00719925474099e+15
 * and 0.1 + 0.2 as 0.3. Print a copy with exact numbers instead. */
static char *print(const cJSON *doc, bool formatted)
{
	cJSON *copy = cJSON_Duplicate(doc, true);
	char *s = NULL;

	if (copy && exact_numbers(copy) == 0)
		s = formatted ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return s;
}

char *isim_json_text(const cJSON *doc)
{
	char *s = print(doc, true), *t;
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
	char *s = print(doc, false);
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
