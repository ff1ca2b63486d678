/* SPDX-License-Identifier: MIT */
/* YAML to JSON: how each scalar is typed, what is refused and where the
 * message points, hostile documents kept within bounds, and the positions
 * kept for later messages. */
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
#include "isim/yaml.h"
#include "testutil.h"

struct yaml_case {
	const char *yaml;
	const char *json; /* unformatted result */
};

struct error_case {
	const char *yaml;
	const char *error;
};

/* YAML 1.2 core schema typing as yaml.h documents it. */
static const struct yaml_case typing_cases[] = {
	{ "a: yes\nb: no\nc: on\nd: off\ne: y", "{\"a\":\"yes\",\"b\":\"no\",\"c\":\"on\",\"d\":\"off\",\"e\":\"y\"}" },
	{ "[true, True, TRUE, false, False, FALSE, tRUE]", "[true,true,true,false,false,false,\"tRUE\"]" },
	{ "[~, null, Null, NULL, nULL]", "[null,null,null,null,\"nULL\"]" },
	{ "a:\nb: ''", "{\"a\":null,\"b\":\"\"}" },
	{ "[0, 7, -7, +7, -0, 0o17, 0x1F, 0xff]", "[0,7,-7,7,0,15,31,255]" },
	{ "[1.0, 1.5, -2.5e3, .5, 1., 1e3, 6.02E+23, -.5]", "[1,1.5,-2500,0.5,1,1000,6.02e+23,-0.5]" },
	{ "[1_000, 0b101, 1:30, 2024-01-02, 1.2.3, 0x, 0o8, 12e, +, -, .]",
	  "[\"1_000\",\"0b101\",\"1:30\",\"2024-01-02\",\"1.2.3\",\"0x\",\"0o8\",\"12e\",\"+\",\"-\",\".\"]" },
	{ "[9007199254740992, -9007199254740992]", "[9007199254740992,-9007199254740992]" },
	/* Quotes always make strings. */
	{ "[\"0644\", '1.0', \"true\", 'null', \"~\", '']", "[\"0644\",\"1.0\",\"true\",\"null\",\"~\",\"\"]" },
	{ "mode: \"0644\"\nversion: \"1.0\"", "{\"mode\":\"0644\",\"version\":\"1.0\"}" },
	/* Explicit tags. */
	{ "[!!str 123, ! 123, !!str true, !!str , !<tag:yaml.org,2002:str> 5]",
	  "[\"123\",\"123\",\"true\",\"\",\"5\"]" },
	{ "[!!int 12, !!int \"12\", !!float 1, !!float 2.5, !!bool true, !!null ~, !!null ]",
	  "[12,12,1,2.5,true,null,null]" },
	/* Block scalars keep their lines. */
	{ "lit: |\n  a\n  b\nfold: >\n  a\n  b\nkeep: |+\n  x\n\n",
	  "{\"lit\":\"a\\nb\\n\",\"fold\":\"a b\\n\",\"keep\":\"x\\n\\n\"}" },
	{ "s: \"tab\\there\\u00e9\"", "{\"s\":\"tab\\there\xc3\xa9\"}" },
	/* Keys are strings whatever they look like. */
	{ "1: a\ntrue: b\n~: c\n0644: d\n\"x y\": e",
	  "{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\",\"0644\":\"d\",\"x y\":\"e\"}" },
	{ "? complex\n: value", "{\"complex\":\"value\"}" },
};

/* Structure, documents and aliases. */
static const struct yaml_case structure_cases[] = {
	{ "", "null" },
	{ "# only a comment\n", "null" },
	{ "---\n", "null" },
	{ "--- 5\n...\n", "5" },
	{ "%YAML 1.2\n---\nx: 1\n", "{\"x\":1}" },
	{ "a:\n  b:\n    - 1\n    - c: [x, {y: z}]\n  d: {}\ne: []",
	  "{\"a\":{\"b\":[1,{\"c\":[\"x\",{\"y\":\"z\"}]}],\"d\":{}},\"e\":[]}" },
	{ "- - - deep", "[[[\"deep\"]]]" },
	{ "x: 1 # trailing comment\n# between\ny: 2", "{\"x\":1,\"y\":2}" },
	{ "a: \"x\ty\"\nb: [1,\n\t2]", "{\"a\":\"x\\ty\",\"b\":[1,2]}" },
	{ "base: &b {k: 1, l: [2]}\nuse: *b\nagain: *b",
	  "{\"base\":{\"k\":1,\"l\":[2]},\"use\":{\"k\":1,\"l\":[2]},\"again\":{\"k\":1,\"l\":[2]}}" },
	{ "[&x 1, &x 2, *x]", "[1,2,2]" },
	{ "&k name: *k", "{\"name\":\"name\"}" },
	{ "a: &a key\n*a : value", "{\"a\":\"key\",\"key\":\"value\"}" },
	{ "!!map {a: !!seq [1]}", "{\"a\":[1]}" },
	/* A plain "<<" quoted is an ordinary key. */
	{ "\"<<\": 1", "{\"<<\":1}" },
};

/* Refusals, each with the one message the user reads. */
static const struct error_case error_cases[] = {
	{ "mode: 0644", "t.yaml:1:7: '0644' is ambiguous (octal in YAML 1.1, decimal in YAML 1.2): quote it, or drop "
			"the leading zero" },
	{ "n: -007", "t.yaml:1:4: '-007' is ambiguous (octal in YAML 1.1, decimal in YAML 1.2): quote it, or drop the "
		     "leading zero" },
	{ "n: 9007199254740993", "t.yaml:1:4: integer '9007199254740993' is out of range (more than 2^53)" },
	{ "n: 99999999999999999999999",
	  "t.yaml:1:4: integer '99999999999999999999999' is out of range (more than 2^53)" },
	{ "n: 0x20000000000001", "t.yaml:1:4: integer '0x20000000000001' is out of range (more than 2^53)" },
	{ "n: 1e400", "t.yaml:1:4: number '1e400' is out of range" },
	{ "[.inf, 1]", "t.yaml:1:2: '.inf' has no JSON representation" },
	{ "x: -.Inf", "t.yaml:1:4: '-.Inf' has no JSON representation" },
	{ "x: .NaN", "t.yaml:1:4: '.NaN' has no JSON representation" },
	{ "x: !!int 1.5", "t.yaml:1:4: '1.5' is not a valid !!int" },
	{ "x: !!bool yes", "t.yaml:1:4: 'yes' is not a valid !!bool" },
	{ "x: !!float abc", "t.yaml:1:4: 'abc' is not a valid !!float" },
	{ "x: !!null 0", "t.yaml:1:4: '0' is not a valid !!null" },
	{ "x: !!binary aGk=", "t.yaml:1:4: unsupported tag '!!binary'" },
	{ "x: !local v", "t.yaml:1:4: unsupported tag '!local'" },
	{ "x: !!set {a}", "t.yaml:1:4: unsupported tag '!!set'" },
	{ "x: !!map [1]", "t.yaml:1:4: unsupported tag '!!map'" },
	{ "!!int 1: x", "t.yaml:1:1: a key cannot have tag '!!int' (JSON member names are strings)" },
	{ "x: \"a\\0b\"", "t.yaml:1:4: NUL character in scalar" },
	/* Duplicate keys: the second place, and the first. */
	{ "name: a\nversion: 1\nname: b\n", "t.yaml:3:1: duplicate key 'name' (first at line 1, column 1)" },
	{ "outer:\n  k: 1\n  'k': 2\n", "t.yaml:3:3: duplicate key 'k' (first at line 2, column 3)" },
	{ "{a: 1, b: 2, a: 3}", "t.yaml:1:14: duplicate key 'a' (first at line 1, column 2)" },
	{ "a: &k x\nx: 1\n*k : 2", "t.yaml:3:1: duplicate key 'x' (first at line 2, column 1)" },
	{ "? [a]\n: 1", "t.yaml:1:3: mapping keys must be scalars" },
	{ "{a: 1}: 2", "t.yaml:1:1: mapping keys must be scalars" },
	{ "a: &l [1]\n*l : 2", "t.yaml:2:1: mapping keys must be scalars ('*l' is not)" },
	{ "base: &b {a: 1}\nx:\n  <<: *b\n", "t.yaml:3:3: merge keys ('<<') are not supported" },
	/* Aliases. */
	{ "a: *nowhere", "t.yaml:1:4: alias '*nowhere' has no anchor before it" },
	{ "a: *later\nb: &later 1", "t.yaml:1:4: alias '*later' has no anchor before it" },
	{ "a: &self [1, *self]", "t.yaml:1:14: alias '*self' is inside the node it names" },
	{ "&m {a: *m}", "t.yaml:1:8: alias '*m' is inside the node it names" },
	/* Documents. */
	{ "a: 1\n---\nb: 2\n", "t.yaml:2:1: more than one YAML document in the file" },
	{ "a: 1\n---\n", "t.yaml:2:1: more than one YAML document in the file" },
	/* Syntax, at the place libyaml stopped. */
	{ "a:\n\tb: 1\n", "t.yaml:2:1: invalid YAML: found character that cannot start any token while scanning for "
			  "the next token (a tab: YAML indents with spaces only)" },
	{ "name: x\n  version: 1\n", "t.yaml:2:10: invalid YAML: mapping values are not allowed in this context" },
	{ "a: [1, 2\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "a: b: c", "t.yaml:1:5: invalid YAML: mapping values are not allowed in this context" },
	{ "- a\nb: 1",
	  "t.yaml:2:1: invalid YAML: did not find expected '-' indicator while parsing a block collection" },
	{ "a: 'open", "t.yaml:1:9: invalid YAML: found unexpected end of stream while scanning a quoted scalar" },
	{ "a: \"\\q\"", "t.yaml:1:5: invalid YAML: found unknown escape character while parsing a quoted scalar" },
	{ "\xff: 1", "t.yaml:1:1: invalid YAML: invalid leading UTF-8 octet" },
};

/* One line of JSON, as the tools write it. */
static char *compact(const cJSON *v)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(isim_json_write_line(f, v), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(len > 0 && out[len - 1] == '\n');
	out[len - 1] = '\0';
	return out;
}

static void run_cases(const struct yaml_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct isim_error err;
		struct isim_doc *doc;
		char *s;

		isim_error_clear(&err);
		if (isim_yaml_parse(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", &doc, &err) < 0)
			fail_msg("case %zu: %s", i, tu_msg(&err));
		s = compact(doc->root);
		if (strcmp(s, cases[i].json))
			print_message("case %zu: %s\n", i, s);
		assert_string_equal(s, cases[i].json);
		free(s);
		isim_doc_free(doc);
	}
}

static void run_errors(const struct error_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct isim_doc *doc = (struct isim_doc *)&i;
		struct isim_error err;
		int r;

		isim_error_clear(&err);
		r = isim_yaml_parse(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", &doc, &err);
		if (r == 0 || strcmp(tu_msg(&err), cases[i].error))
			print_message("case %zu: got %s\n", i, r == 0 ? "success" : tu_msg(&err));
		assert_int_equal(r, -1);
		assert_null(doc);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(tu_msg(&err), cases[i].error);
	}
}

static void test_typing(void **state)
{
	(void)state;
	run_cases(typing_cases, sizeof(typing_cases) / sizeof(typing_cases[0]));
}

static void test_structure(void **state)
{
	(void)state;
	run_cases(structure_cases, sizeof(structure_cases) / sizeof(structure_cases[0]));
}

static void test_errors(void **state)
{
	(void)state;
	run_errors(error_cases, sizeof(error_cases) / sizeof(error_cases[0]));
}

static void test_nul_byte(void **state)
{
	struct isim_error err;
	struct isim_doc *doc;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse("a: 1\0b: 2", 9, "t.yaml", &doc, &err), -1);
	assert_string_equal(tu_msg(&err), "t.yaml: NUL byte in YAML text");
	/* Only len bytes are read. */
	assert_int_equal(isim_yaml_parse("a: 1\nb: [", 4, "t.yaml", &doc, &err), 0);
	isim_doc_free(doc);
}

/* The classic "billion laughs": nine levels of nine aliases each. */
static void test_alias_bomb(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	struct isim_doc *doc;
	char *text;
	int l, i;

	(void)state;
	isim_buf_puts(&b, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (l = 1; l < 10; l++) {
		isim_buf_printf(&b, "l%d: &l%d [", l, l);
		for (i = 0; i < 9; i++)
			isim_buf_printf(&b, "%s*l%d", i ? ", " : "", l - 1);
		isim_buf_puts(&b, "]\n");
	}
	text = isim_buf_take(&b);
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "t.yaml", &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_non_null(strstr(tu_msg(&err), "more than 200000 nodes after alias expansion"));
	free(text);
}

/* Few nodes, but each a copy of a long scalar. */
static void test_alias_bomb_bytes(void **state)
{
	const size_t n = 1 << 20;
	struct isim_buf b = { 0 };
	struct isim_error err;
	struct isim_doc *doc;
	char *text, *big = malloc(n + 1);
	int l;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	isim_buf_printf(&b, "s: &s %s\n", big);
	isim_buf_puts(&b, "a0: &a0 [*s, *s, *s, *s, *s, *s, *s, *s]\n");
	for (l = 1; l < 4; l++) {
		int k;

		isim_buf_printf(&b, "a%d: &a%d [", l, l);
		for (k = 0; k < 8; k++)
			isim_buf_printf(&b, "%s*a%d", k ? ", " : "", l - 1);
		isim_buf_puts(&b, "]\n");
	}
	text = isim_buf_take(&b);
	free(big);
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "t.yaml", &doc, &err), -1);
	assert_non_null(strstr(tu_msg(&err), "bytes of text after alias expansion"));
	free(text);
}

static void test_depth(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	struct isim_doc *doc;
	char *text;
	int i;

	(void)state;
	/* 65 levels below the root is one too many... */
	for (i = 0; i < ISIM_YAML_MAX_DEPTH + 2; i++)
		isim_buf_puts(&b, "[");
	for (i = 0; i < ISIM_YAML_MAX_DEPTH + 2; i++)
		isim_buf_puts(&b, "]");
	text = isim_buf_take(&b);
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "t.yaml", &doc, &err), -1);
	assert_string_equal(tu_msg(&err), "t.yaml:1:66: nesting deeper than 64 levels");
	/* ...and 64 is fine. */
	assert_int_equal(isim_yaml_parse(text + 1, strlen(text) - 2, "t.yaml", &doc, &err), 0);
	isim_doc_free(doc);
	free(text);

	/* An alias may not carry a document past the limit either. */
	for (i = 0; i < 40; i++)
		isim_buf_puts(&b, "[");
	isim_buf_puts(&b, "1");
	for (i = 0; i < 40; i++)
		isim_buf_puts(&b, "]");
	text = isim_buf_take(&b);
	isim_buf_printf(&b, "a: &a %s\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]\n", text);
	free(text);
	text = isim_buf_take(&b);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "t.yaml", &doc, &err), -1);
	assert_string_equal(tu_msg(&err), "t.yaml:2:30: nesting deeper than 64 levels");
	free(text);
}

/* Many keys in one mapping are checked for duplicates in good time. */
static void test_many_keys(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	struct isim_doc *doc;
	char *text;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		isim_buf_printf(&b, "key%d: %d\n", i, i);
	isim_buf_puts(&b, "key4242: again\n");
	text = isim_buf_take(&b);
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "t.yaml", &doc, &err), -1);
	assert_string_equal(tu_msg(&err), "t.yaml:100001:1: duplicate key 'key4242' (first at line 4243, column 1)");
	free(text);
}

/* Where each value was, for messages about the JSON it became. */
static void test_locate(void **state)
{
	static const char text[] = "name: web\n"
				   "files:\n"
				   "  - source: a\n"
				   "    mode: \"0644\"\n"
				   "  - {source: b, mode: x}\n"
				   "base: &b alpine\n"
				   "again: *b\n";
	struct isim_error err;
	struct isim_doc *doc;
	int line = 0, col = 0;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_parse(text, strlen(text), "p.yaml", &doc, &err), 0);
	assert_true(isim_doc_locate(doc, "", &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
	assert_true(isim_doc_locate(doc, "/name", &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 7);
	assert_true(isim_doc_locate(doc, "/files/0/mode", &line, &col));
	assert_int_equal(line, 4);
	assert_int_equal(col, 11);
	assert_true(isim_doc_locate(doc, "/files/1/source", &line, &col));
	assert_int_equal(line, 5);
	assert_int_equal(col, 14);
	/* An alias is found where it is used. */
	assert_true(isim_doc_locate(doc, "/again", &line, &col));
	assert_int_equal(line, 7);
	assert_int_equal(col, 8);
	/* A pointer below any value falls back to its nearest ancestor. */
	assert_true(isim_doc_locate(doc, "/files/1/nothing/here", &line, &col));
	assert_int_equal(line, 5);
	assert_int_equal(col, 5);

	/* A message about /files/1/mode names the file, line and column. */
	isim_error_pointer(&err, "/files/1/mode");
	isim_error_set(&err, ISIM_ERR_DATA, "'x' is not a file mode");
	isim_doc_locate_error(doc, &err);
	assert_string_equal(tu_msg(&err), "p.yaml:5:23: /files/1/mode: 'x' is not a file mode");
	isim_doc_free(doc);
	isim_doc_free(NULL);
}

static void test_load_file(void **state)
{
	char *dir = tu_tmpdir(), path[PATH_MAX], expected[PATH_MAX + 100];
	struct isim_error err;
	struct isim_doc *doc;

	(void)state;
	tu_write(dir, "ok.yaml", "a: [1, 2]\n");
	tu_write(dir, "bad.yaml", "a: 1\na: 2\n");
	snprintf(path, sizeof(path), "%s/ok.yaml", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_yaml_load_file(path, &doc, &err), 0);
	assert_string_equal(doc->path, path);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc->root, "a")), 2);
	isim_doc_free(doc);

	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	assert_int_equal(isim_yaml_load_file(path, &doc, &err), -1);
	snprintf(expected, sizeof(expected), "%s:2:1: duplicate key 'a' (first at line 1, column 1)", path);
	assert_string_equal(tu_msg(&err), expected);

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(isim_yaml_load_file(path, &doc, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	snprintf(expected, sizeof(expected), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(tu_msg(&err), expected);
	isim_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typing),	   cmocka_unit_test(test_structure),
		cmocka_unit_test(test_errors),	   cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_alias_bomb), cmocka_unit_test(test_alias_bomb_bytes),
		cmocka_unit_test(test_depth),	   cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_locate),	   cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
