/* SPDX-License-Identifier: MIT */
/* The JSON module: strict parsing with the place of each fault, JSON Lines
 * read record by record, output forms, and RFC 6901 pointers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/buf.h"
#include "isim/json.h"
#include "isim/utf8.h"
#include "testutil.h"

struct parse_case {
	const char *text;
	size_t len;	   /* 0: strlen(text) */
	const char *error; /* NULL: accepted */
};

/* Each refused text gets one message naming line and column, and the
 * JSON pointer of the value when it is inside an array or object. */
static const struct parse_case parse_cases[] = {
	{ "{\"a\": [1, 2.5, -3e2, true, false, null, \"x\"]}", 0, NULL },
	{ "\"just a string\"", 0, NULL },
	{ "{\"a\":1}\n\n  \t\r\n", 0, NULL },
	{ "[{\"a\":1},{\"a\":2}]", 0, NULL },
	{ "{\"a\\\\u0000\":1}", 0, NULL },
	{ "", 0, "t.json:1:1: unexpected end of input, expected a value" },
	{ "   ", 0, "t.json:1:4: unexpected end of input, expected a value" },
	{ "{\"a\": }", 0, "t.json:1:7: /a: unexpected '}', expected a value" },
	{ "{\"a\": 1,\n \"b\": tru}", 0, "t.json:2:10: /b: unexpected '}', expected 'true'" },
	{ "{\"a\":1} x", 0, "t.json:1:9: unexpected 'x' after the JSON value" },
	{ "[1] [2]", 0, "t.json:1:5: unexpected '[' after the JSON value" },
	{ "{\"a\":1,}", 0, "t.json:1:8: unexpected '}', expected a member name" },
	{ "{\"a\":\"b", 0, "t.json:1:6: /a: unterminated string" },
	/* Where cJSON alone is lax. */
	{ "01", 0, "t.json:1:2: invalid number: leading zero" },
	{ "1.", 0, "t.json:1:3: unexpected end of input, expected a digit after '.'" },
	{ "[1e999]", 0, "t.json:1:2: /0: number out of range: 1e999" },
	{ "[\"a\x01\"]", 0, "t.json:1:4: /0: unescaped control character 0x01 in string" },
	{ "[\"\\u0000\"]", 0, "t.json:1:3: /0: \\u0000 in a string is not supported here" },
	{ "[\"\xff\"]", 0, "t.json:1:3: /0: invalid UTF-8 byte 0xFF (never used in UTF-8)" },
	{ "[\"\xc0\x80\"]", 0, "t.json:1:3: /0: invalid UTF-8 byte 0xC0 (overlong encoding)" },
	{ "\xef\xbb\xbf{}", 0, "t.json:1:1: byte order mark at start of input" },
	/* Duplicate keys, also when only escaping tells them apart. */
	{ "{\"a\":1,\"a\":2}", 0, "t.json:1:8: /a: duplicate member name \"a\"" },
	{ "{\"x\":[0,{\"a\":1,\n\"\\u0061\":2}]}", 0, "t.json:2:1: /x/1/a: duplicate member name \"a\"" },
	/* A NUL byte in the text, however long it claims to be. */
	{ "{\"a\":1}\0", 8, "t.json:1:8: unexpected byte 0x00 after the JSON value" },
};

static void test_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct isim_error err;
		cJSON *doc = (cJSON *)&err;
		int r;

		isim_error_clear(&err);
		r = isim_json_parse(c->text, len, "t.json", &doc, &err);
		if (!c->error) {
			if (r != 0)
				print_message("case %zu: %s\n", i, tu_msg(&err));
			assert_int_equal(r, 0);
			assert_non_null(doc);
			cJSON_Delete(doc);
			continue;
		}
		if (r == 0 || strcmp(tu_msg(&err), c->error))
			print_message("case %zu: got '%s'\n", i, r == 0 ? "success" : tu_msg(&err));
		assert_int_equal(r, -1);
		assert_null(doc);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(tu_msg(&err), c->error);
	}
}

/* The tree keeps what cJSON cannot: U+0000 inside strings and names, with
 * exact lengths, and where each value starts; the same faults are refused. */
static void test_parse_tree(void **state)
{
	static const char text[] = "{\"a\\u0000b\": [\"x\\u0000\", 2]}";
	struct isim_error err;
	struct isim_jv root;
	const struct isim_jmember *m;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse_tree(text, strlen(text), "t.json", &root, &err), 0);
	assert_int_equal(root.type, ISIM_JV_OBJECT);
	assert_int_equal(root.u.obj.n, 1);
	m = &root.u.obj.m[0];
	assert_int_equal(m->len, 3);
	assert_memory_equal(m->name, "a\0b", 3);
	assert_int_equal(m->off, 1);
	assert_int_equal(m->val.type, ISIM_JV_ARRAY);
	assert_int_equal(m->val.u.arr.n, 2);
	assert_int_equal(m->val.u.arr.v[0].type, ISIM_JV_STRING);
	assert_int_equal(m->val.u.arr.v[0].u.str.len, 2);
	assert_memory_equal(m->val.u.arr.v[0].u.str.s, "x\0", 3);
	assert_true(m->val.u.arr.v[1].u.num == 2);
	assert_int_equal(m->val.u.arr.v[1].off, strlen(text) - 3);
	isim_jv_free(&root);
	assert_int_equal(root.type, ISIM_JV_NULL);

	assert_int_equal(isim_json_parse_tree("{\"k\":[1,\"\xc0\"]}", 12, "t.json", &root, &err), -1);
	assert_string_equal(tu_msg(&err), "t.json:1:10: /k/1: invalid UTF-8 byte 0xC0 (overlong encoding)");
}

static void test_parse_values(void **state)
{
	static const char text[] = "{\"n\": -12.5, \"s\": \"caf\\u00e9 \\\"q\\\"\", \"l\": [true, null], \"o\": {}}";
	struct isim_error err;
	cJSON *doc;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	assert_true(cJSON_GetObjectItemCaseSensitive(doc, "n")->valuedouble == -12.5);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "s")->valuestring, "caf\xc3\xa9 \"q\"");
	assert_true(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "l"), 0)));
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "l"), 1)));
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "o")));
	/* Members keep their order. */
	assert_string_equal(doc->child->string, "n");
	assert_string_equal(doc->child->next->next->next->string, "o");
	cJSON_Delete(doc);
	/* Text need not end in NUL: only len bytes are read. */
	assert_int_equal(isim_json_parse("[1]]]]", 3, "t.json", &doc, &err), 0);
	assert_int_equal(cJSON_GetArraySize(doc), 1);
	cJSON_Delete(doc);
	/* err may be NULL. */
	assert_int_equal(isim_json_parse("[", 1, "t.json", &doc, NULL), -1);
}

static void test_deep_nesting(void **state)
{
	struct isim_error err;
	char text[2 * 300 + 1];
	cJSON *doc;

	(void)state;
	memset(text, '[', 300);
	memset(text + 300, ']', 300);
	text[600] = '\0';
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, 600, "t.json", &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(err.line, 1);
	assert_int_equal(isim_json_parse(text + 300 - 200, 400, "t.json", &doc, &err), 0);
	cJSON_Delete(doc);
}

/* A large object is checked for duplicate keys in good time. */
static void test_many_keys(void **state)
{
	const int n = 200000;
	struct isim_buf b = { 0 };
	struct isim_error err;
	cJSON *doc;
	char *text;
	int i;

	(void)state;
	isim_buf_puts(&b, "{");
	for (i = 0; i < n; i++)
		isim_buf_printf(&b, "%s\"key%d\":%d", i ? "," : "", i, i);
	isim_buf_printf(&b, ",\"key%d\":0}", n / 2);
	text = isim_buf_take(&b);
	assert_non_null(text);
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, strlen(text), "big.json", &doc, &err), -1);
	assert_non_null(strstr(tu_msg(&err), "duplicate member name \"key100000\""));
	free(text);
}

static void test_load_file(void **state)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], expected[PATH_MAX + 100];
	struct isim_error err;
	cJSON *doc;

	(void)state;
	tu_write(dir, "good.json", "{\"a\": 1}\n");
	tu_write(dir, "bad.json", "{\n  \"a\": 1,\n  \"a\": 2\n}\n");
	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/good.json", dir);
	assert_int_equal(isim_json_load_file(path, &doc, &err), 0);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(doc, "a")->valueint, 1);
	cJSON_Delete(doc);

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	assert_int_equal(isim_json_load_file(path, &doc, &err), -1);
	snprintf(expected, sizeof(expected), "%s:3:3: /a: duplicate member name \"a\"", path);
	assert_string_equal(tu_msg(&err), expected);

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/none.json", dir);
	assert_int_equal(isim_json_load_file(path, &doc, &err), -1);
	assert_null(doc);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);
	isim_rmtree(dir);
	free(dir);
}

/* ---- JSON Lines ----------------------------------------------------------- */

/* A reader over text, as if it came down a pipe. */
static FILE *stream(const char *text, size_t len)
{
	FILE *f = fmemopen((void *)text, len, "r");

	assert_non_null(f);
	return f;
}

static void test_jsonl_records(void **state)
{
	static const char text[] = "{\"n\":1}\n{\"n\":2}\r\n[3]\n\"four\"";
	FILE *f = stream(text, sizeof(text) - 1);
	struct isim_jsonl r;
	struct isim_error err;
	cJSON *doc;

	(void)state;
	isim_error_clear(&err);
	isim_jsonl_init(&r, f, "peers.jsonl");
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 1);
	assert_int_equal(r.line, 1);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(doc, "n")->valueint, 1);
	cJSON_Delete(doc);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 1);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(doc, "n")->valueint, 2);
	cJSON_Delete(doc);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 1);
	assert_true(cJSON_IsArray(doc));
	cJSON_Delete(doc);
	/* The last line needs no newline. */
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 1);
	assert_string_equal(doc->valuestring, "four");
	assert_int_equal(r.line, 4);
	cJSON_Delete(doc);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 0);
	assert_null(doc);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 0);
	assert_int_equal(err.kind, 0);
	isim_jsonl_free(&r);
	fclose(f);
}

static void test_jsonl_empty_input(void **state)
{
	FILE *f = stream("", 0);
	struct isim_jsonl r;
	struct isim_error err;
	cJSON *doc;

	(void)state;
	isim_error_clear(&err);
	isim_jsonl_init(&r, f, "-");
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 0);
	isim_jsonl_free(&r);
	fclose(f);
}

/* Each bad line is reported with its number, and reading goes on with the
 * next line. */
static void test_jsonl_bad_lines(void **state)
{
	static const char text[] = "{\"ok\":1}\n"
				   "{\"ok\": tru}\n"
				   "\n"
				   "  \t\r\n"
				   "{\"a\":1,\"a\":2}\n"
				   "{\"ok\":1} {\"ok\":2}\n"
				   "[\"\x1b[2J\"]\n"
				   "{\"ok\":8}\n";
	static const char *const expected[] = {
		NULL,
		"peers.jsonl:2:11: /ok: unexpected '}', expected 'true'",
		"peers.jsonl:3: empty line (expected one JSON value)",
		"peers.jsonl:4: empty line (expected one JSON value)",
		"peers.jsonl:5:8: /a: duplicate member name \"a\"",
		"peers.jsonl:6:10: unexpected '{' after the JSON value",
		"peers.jsonl:7:3: /0: unescaped control character 0x1B in string",
		NULL,
	};
	FILE *f = stream(text, sizeof(text) - 1);
	struct isim_jsonl r;
	size_t i;

	(void)state;
	isim_jsonl_init(&r, f, "peers.jsonl");
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		struct isim_error err;
		cJSON *doc = NULL;
		int got;

		isim_error_clear(&err);
		got = isim_jsonl_next(&r, &doc, &err);
		assert_int_equal(r.line, (int)i + 1);
		if (!expected[i]) {
			assert_int_equal(got, 1);
			cJSON_Delete(doc);
			continue;
		}
		assert_int_equal(got, -1);
		assert_null(doc);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(tu_msg(&err), expected[i]);
	}
	isim_jsonl_free(&r);
	fclose(f);
}

static void test_jsonl_long_line(void **state)
{
	size_t n = ISIM_JSONL_MAX + 10, i;
	char *text = malloc(n + 32);
	struct isim_jsonl r;
	struct isim_error err;
	cJSON *doc;
	char expected[100];
	FILE *f;

	(void)state;
	assert_non_null(text);
	text[0] = '"';
	for (i = 1; i < n - 1; i++)
		text[i] = 'x';
	text[n - 1] = '"';
	strcpy(text + n, "\n{\"after\":true}\n");
	f = stream(text, strlen(text));
	isim_jsonl_init(&r, f, "big.jsonl");
	isim_error_clear(&err);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), -1);
	snprintf(expected, sizeof(expected), "big.jsonl:1: line is longer than %u bytes", ISIM_JSONL_MAX);
	assert_string_equal(tu_msg(&err), expected);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 1);
	assert_int_equal(r.line, 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "after")));
	cJSON_Delete(doc);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), 0);
	isim_jsonl_free(&r);
	fclose(f);
	free(text);
}

static void test_jsonl_read_error(void **state)
{
	char *dir = tu_tmpdir(), expected[PATH_MAX + 100];
	struct isim_jsonl r;
	struct isim_error err;
	cJSON *doc;
	FILE *f = fopen(dir, "r");

	(void)state;
	assert_non_null(f);
	isim_jsonl_init(&r, f, dir);
	isim_error_clear(&err);
	assert_int_equal(isim_jsonl_next(&r, &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	snprintf(expected, sizeof(expected), "%s:1: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(tu_msg(&err), expected);
	isim_jsonl_free(&r);
	fclose(f);
	isim_rmtree(dir);
	free(dir);
}

/* ---- output --------------------------------------------------------------- */

static cJSON *sample(void)
{
	cJSON *doc = cJSON_CreateObject(), *l = cJSON_CreateArray();

	cJSON_AddStringToObject(doc, "name", "n1");
	cJSON_AddNumberToObject(doc, "port", 51820);
	cJSON_AddItemToArray(l, cJSON_CreateTrue());
	cJSON_AddItemToArray(l, cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "l", l);
	return doc;
}

static void test_write_line(void **state)
{
	cJSON *doc = sample();
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, doc), 0);
	assert_int_equal(isim_json_write_line(f, doc), 0);
	/* Flushed per record: visible before the stream is closed. */
	assert_string_equal(out, "{\"name\":\"n1\",\"port\":51820,\"l\":[true,null]}\n"
				 "{\"name\":\"n1\",\"port\":51820,\"l\":[true,null]}\n");
	fclose(f);
	free(out);
	cJSON_Delete(doc);
}

static void test_write_full_device(void **state)
{
	cJSON *doc = sample();
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, doc), -1);
	fclose(f);
	cJSON_Delete(doc);
}

static void test_text_and_write(void **state)
{
	static const char expected[] = "{\n\t\"name\":\t\"n1\",\n\t\"port\":\t51820,\n\t\"l\":\t[true, null]\n}\n";
	cJSON *doc = sample();
	char *text = isim_json_text(doc), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_string_equal(text, expected);
	assert_non_null(f);
	assert_int_equal(isim_json_write(f, doc), 0);
	fclose(f);
	assert_string_equal(out, expected);
	free(out);
	free(text);
	cJSON_Delete(doc);
}

/* Strings and names that are not UTF-8 (a file name, a key comment) come
 * out as U+FFFD, so that what the tools print is always UTF-8 that reads
 * back; the document itself is left as it was. */
static void test_output_is_utf8(void **state)
{
	static const char expected[] = "{\"file\":\"a\xef\xbf\xbd.img\",\"c\xef\xbf\xbd\xef\xbf\xbd\":"
				       "[\"\xef\xbf\xbd\xef\xbf\xbd\",\"ok \xc3\xa9\"]}\n";
	struct isim_error err;
	cJSON *doc, *arr, *back;
	char *out = NULL, *text;
	size_t len = 0;
	FILE *f;

	(void)state;
	doc = cJSON_CreateObject();
	assert_non_null(doc);
	/* 0xFF never occurs in UTF-8; C0 AF is an overlong '/'; ED A0 80 an
	 * encoded surrogate; F0 9F 98 a truncated sequence. */
	assert_non_null(cJSON_AddStringToObject(doc, "file", "a\xff.img"));
	arr = cJSON_AddArrayToObject(doc, "c\xc0\xaf");
	assert_non_null(arr);
	assert_true(cJSON_AddItemToArray(arr, cJSON_CreateString("\xf0\x9f\x98\xed")));
	assert_true(cJSON_AddItemToArray(arr, cJSON_CreateString("ok \xc3\xa9")));

	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, doc), 0);
	fclose(f);
	assert_string_equal(out, expected);
	assert_int_equal(isim_utf8_check(out, len, NULL, 0), -1);
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(out, len, "out.json", &back, &err), 0);
	cJSON_Delete(back);
	free(out);

	text = isim_json_text(doc);
	assert_non_null(text);
	assert_int_equal(isim_utf8_check(text, strlen(text), NULL, 0), -1);
	assert_non_null(strstr(text, "\"a\xef\xbf\xbd.img\""));
	free(text);

	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "file")->valuestring, "a\xff.img");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "c\xc0\xaf"));
	cJSON_Delete(doc);

	/* A constant name (cJSON does not own it) is replaced, not freed. */
	doc = cJSON_CreateObject();
	assert_non_null(doc);
	assert_true(cJSON_AddItemToObjectCS(doc, "k\x80", cJSON_CreateTrue()));
	out = isim_json_print(doc, false);
	assert_string_equal(out, "{\"k\xef\xbf\xbd\":true}");
	free(out);
	cJSON_Delete(doc);
}

/* Numbers come out as they went in, not rounded to 15 digits. */
static void test_exact_numbers(void **state)
{
	static const char text[] = "[9007199254740992,0.30000000000000004,1e21,1e-7,123456789012345678,-0,"
				   "0.1,100,-1.5,333333333.3333333]";
	static const char expected[] = "[9007199254740992,0.30000000000000004,1e+21,1e-7,123456789012345680,0,"
				       "0.1,100,-1.5,333333333.3333333]\n";
	struct isim_error err;
	cJSON *doc, *odd;
	char *out = NULL, *text_out;
	size_t len = 0;
	FILE *f;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, doc), 0);
	fclose(f);
	assert_string_equal(out, expected);
	free(out);
	/* The indented form too, and the document itself is left as it was. */
	text_out = isim_json_text(doc);
	assert_non_null(strstr(text_out, "9007199254740992,"));
	assert_non_null(strstr(text_out, "0.30000000000000004,"));
	free(text_out);
	assert_true(cJSON_IsNumber(cJSON_GetArrayItem(doc, 0)));
	/* Numbers JSON cannot hold are written as null, as cJSON does. */
	odd = cJSON_CreateArray();
	cJSON_AddItemToArray(odd, cJSON_CreateNumber(1.0 / 0.0));
	cJSON_AddItemToArray(odd, cJSON_CreateNumber(0.0 / 0.0));
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, odd), 0);
	fclose(f);
	assert_string_equal(out, "[null,null]\n");
	free(out);
	cJSON_Delete(odd);
	cJSON_Delete(doc);
}

/* ---- pointers ------------------------------------------------------------- */

static void test_pointer_push(void **state)
{
	char buf[32] = "";
	char small[8] = "/ab";

	(void)state;
	assert_true(isim_json_pointer_push(buf, sizeof(buf), "files"));
	assert_true(isim_json_pointer_push_index(buf, sizeof(buf), 12));
	assert_true(isim_json_pointer_push(buf, sizeof(buf), "a/b~c"));
	assert_true(isim_json_pointer_push(buf, sizeof(buf), ""));
	assert_string_equal(buf, "/files/12/a~1b~0c/");

	/* What does not fit leaves the pointer as it was. */
	assert_false(isim_json_pointer_push(small, sizeof(small), "cdef"));
	assert_string_equal(small, "/ab");
	assert_false(isim_json_pointer_push(small, sizeof(small), "~~"));
	assert_string_equal(small, "/ab");
	assert_true(isim_json_pointer_push(small, sizeof(small), "cd"));
	assert_string_equal(small, "/ab/cd");
	assert_true(isim_json_pointer_push(small, sizeof(small), ""));
	assert_string_equal(small, "/ab/cd/");
	assert_false(isim_json_pointer_push(small, sizeof(small), ""));
	assert_string_equal(small, "/ab/cd/");
}

struct get_case {
	const char *pointer;
	const char *expected; /* printed value, NULL: not found */
};

static const struct get_case get_cases[] = {
	{ "", "{\"a\":[10,20,{\"b/c\":1,\"d~e\":2,\"\":3}],\"01\":4}" },
	{ "/a", "[10,20,{\"b/c\":1,\"d~e\":2,\"\":3}]" },
	{ "/a/0", "10" },
	{ "/a/2/b~1c", "1" },
	{ "/a/2/d~0e", "2" },
	{ "/a/2/", "3" },
	{ "/01", "4" },
	{ "/a/01", NULL },
	{ "/a/-", NULL },
	{ "/a/3", NULL },
	{ "/a/-1", NULL },
	{ "/a/1x", NULL },
	{ "/a/0/x", NULL },
	{ "/nope", NULL },
	{ "a", NULL },
	{ "/a/2/b/c", NULL },
	/* RFC 6901 section 4: '~' only as "~0" or "~1"; indexes are digits. */
	{ "/a/2/d~2e", NULL },
	{ "/a/2/d~", NULL },
	{ "/a/+1", NULL },
	{ "/a/ 1", NULL },
	{ "/a/99999999999", NULL },
};

static void test_pointer_get(void **state)
{
	static const char text[] = "{\"a\":[10,20,{\"b/c\":1,\"d~e\":2,\"\":3}],\"01\":4}";
	struct isim_error err;
	cJSON *doc;
	size_t i;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_json_parse(text, strlen(text), "t.json", &doc, &err), 0);
	for (i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
		cJSON *v = isim_json_pointer_get(doc, get_cases[i].pointer);
		char *s;

		if (!get_cases[i].expected) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		s = cJSON_PrintUnformatted(v);
		assert_string_equal(s, get_cases[i].expected);
		free(s);
	}
	cJSON_Delete(doc);
}

static void test_is_integer(void **state)
{
	cJSON *v;

	(void)state;
	v = cJSON_CreateNumber(42);
	assert_true(isim_json_is_integer(v));
	v->valuedouble = -0.0;
	assert_true(isim_json_is_integer(v));
	v->valuedouble = 9007199254740992.0;
	assert_true(isim_json_is_integer(v));
	v->valuedouble = -9007199254740992.0;
	assert_true(isim_json_is_integer(v));
	v->valuedouble = 9007199254740994.0;
	assert_false(isim_json_is_integer(v));
	v->valuedouble = 1.5;
	assert_false(isim_json_is_integer(v));
	v->valuedouble = 1e300;
	assert_false(isim_json_is_integer(v));
	cJSON_Delete(v);
	v = cJSON_CreateString("42");
	assert_false(isim_json_is_integer(v));
	cJSON_Delete(v);
	assert_false(isim_json_is_integer(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_jsonl_records),
		cmocka_unit_test(test_jsonl_empty_input),
		cmocka_unit_test(test_jsonl_bad_lines),
		cmocka_unit_test(test_jsonl_long_line),
		cmocka_unit_test(test_jsonl_read_error),
		cmocka_unit_test(test_write_line),
		cmocka_unit_test(test_write_full_device),
		cmocka_unit_test(test_text_and_write),
		cmocka_unit_test(test_exact_numbers),
		cmocka_unit_test(test_parse_tree),
		cmocka_unit_test(test_output_is_utf8),
		cmocka_unit_test(test_pointer_push),
		cmocka_unit_test(test_pointer_get),
		cmocka_unit_test(test_is_integer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
