/* SPDX-License-Identifier: MIT */
/* The JSON Schema validator: the official JSON-Schema-Test-Suite for draft
 * 2020-12 (tests/vectors/json-schema-test-suite), then the exact pointer and
 * message a user sees for each kind of failure, then the schemas that must
 * be refused as unusable. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/file.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "testutil.h"

/* Suite files (relative to tests/draft2020-12/), groups in them or single
 * cases that are not run, and why in one word. Everything else is run. */
static const struct skip {
	const char *file;
	const char *group; /* NULL: the whole file */
	const char *test;  /* NULL: the whole group */
	const char *why;
} skips[] = {
	/* Schemas served at http://localhost:1234/, or the draft's own
	 * metaschemas: only references within a document are resolved. */
	{ "refRemote.json", NULL, NULL, "remote" },
	{ "vocabulary.json", NULL, NULL, "vocabulary" },
	{ "defs.json", NULL, NULL, "metaschema" },
	{ "ref.json", "remote ref, containing refs itself", NULL, "metaschema" },
	{ "dynamicRef.json", "strict-tree schema, guards against misspelled properties", NULL, "remote" },
	{ "dynamicRef.json", "tests for implementation dynamic anchor and reference link", NULL, "remote" },
	{ "dynamicRef.json", "$ref and $dynamicAnchor are independent of order - $defs first", NULL, "remote" },
	{ "dynamicRef.json", "$ref and $dynamicAnchor are independent of order - $ref first", NULL, "remote" },
	{ "dynamicRef.json", "$ref to $dynamicRef finds detached $dynamicAnchor", NULL, "remote" },
	{ "optional/cross-draft.json", NULL, NULL, "remote" },
	{ "optional/format-assertion.json", NULL, NULL, "vocabulary" },
	{ "optional/dependencies-compatibility.json", NULL, NULL, "draft7" },
	/* ipv4, ipv6, date-time and cidr are asserted, as the format-assertion
	 * vocabulary does (optional/format/ holds those tests), not merely
	 * annotated. */
	{ "format.json", "ipv4 format", "invalid ipv4 string is only an annotation by default", "assertion" },
	{ "format.json", "ipv6 format", "invalid ipv6 string is only an annotation by default", "assertion" },
	{ "format.json", "date-time format", "invalid date-time string is only an annotation by default", "assertion" },
	/* A cJSON string ends at its first NUL, and our JSON reader refuses
	 * \u0000: such strings never reach the validator. */
	{ "const.json", "nul characters in strings", NULL, "nul" },
	{ "enum.json", "nul characters in strings", NULL, "nul" },
	{ "optional/format/ipv4.json", "validation of IP addresses", "additional content after an embedded NUL byte",
	  "nul" },
	{ "optional/format/date.json", NULL, NULL, "format" },
	{ "optional/format/duration.json", NULL, NULL, "format" },
	{ "optional/format/ecmascript-regex.json", NULL, NULL, "format" },
	{ "optional/format/email.json", NULL, NULL, "format" },
	{ "optional/format/hostname.json", NULL, NULL, "format" },
	{ "optional/format/idn-email.json", NULL, NULL, "format" },
	{ "optional/format/idn-hostname.json", NULL, NULL, "format" },
	{ "optional/format/iri-reference.json", NULL, NULL, "format" },
	{ "optional/format/iri.json", NULL, NULL, "format" },
	{ "optional/format/json-pointer.json", NULL, NULL, "format" },
	{ "optional/format/regex.json", NULL, NULL, "format" },
	{ "optional/format/relative-json-pointer.json", NULL, NULL, "format" },
	{ "optional/format/time.json", NULL, NULL, "format" },
	{ "optional/format/uri-reference.json", NULL, NULL, "format" },
	{ "optional/format/uri-template.json", NULL, NULL, "format" },
	{ "optional/format/uri.json", NULL, NULL, "format" },
	{ "optional/format/uuid.json", NULL, NULL, "format" },
};

/* Both NULL, or the same text. */
static bool same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static const struct skip *find_skip(const char *file, const char *group, const char *test)
{
	size_t i;

	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		if (same(skips[i].file, file) && same(skips[i].group, group) && same(skips[i].test, test))
			return &skips[i];
	return NULL;
}

struct tally {
	int passed, failed, groups_skipped, cases_skipped;
	char files_skipped[2048];
	int nfiles_skipped;
};

static void run_group(const char *file, const cJSON *g, struct tally *t)
{
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(g, "description");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(g, "schema");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(g, "tests"), *c;
	struct isim_schema *s = NULL;
	struct isim_error err;
	bool want, got;

	if (find_skip(file, desc->valuestring, NULL)) {
		t->groups_skipped++;
		return;
	}
	memset(&err, 0, sizeof(err));
	if (isim_schema_compile(schema, &s, &err) < 0) {
		printf("# %s: %s: schema refused: %s\n", file, desc->valuestring, err.msg);
		t->failed += cJSON_GetArraySize(tests);
		return;
	}
	cJSON_ArrayForEach (c, tests) {
		if (find_skip(file, desc->valuestring,
			      cJSON_GetObjectItemCaseSensitive(c, "description")->valuestring)) {
			t->cases_skipped++;
			continue;
		}
		want = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "valid"));
		memset(&err, 0, sizeof(err));
		got = isim_schema_check(s, cJSON_GetObjectItemCaseSensitive(c, "data"), &err) == 0;
		if (got == want && (got || err.kind == ISIM_ERR_DATA)) {
			t->passed++;
			continue;
		}
		t->failed++;
		printf("# %s: %s: %s: expected %s, got %s%s%s (kind %s)\n", file, desc->valuestring,
		       cJSON_GetObjectItemCaseSensitive(c, "description")->valuestring, want ? "valid" : "invalid",
		       got ? "valid" : "invalid", got ? "" : ": ", got ? "" : err.msg, isim_err_name(err.kind));
	}
	isim_schema_free(s);
}

static void run_file(const char *dir, const char *rel, struct tally *t)
{
	char path[1600], *text = NULL;
	struct isim_error err;
	cJSON *doc = NULL;
	size_t len;
	const cJSON *g;

	if (find_skip(rel, NULL, NULL)) {
		snprintf(t->files_skipped + strlen(t->files_skipped),
			 sizeof(t->files_skipped) - strlen(t->files_skipped), " %s", rel);
		t->nfiles_skipped++;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	memset(&err, 0, sizeof(err));
	/* Plain cJSON: isim_json_parse refuses the suite's \u0000 strings. */
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err) < 0 || !(doc = cJSON_ParseWithLength(text, len))) {
		printf("# %s: cannot load: %s\n", path, err.msg);
		t->failed++;
		free(text);
		return;
	}
	for (g = doc->child; g; g = g->next)
		run_group(rel, g, t);
	cJSON_Delete(doc);
	free(text);
}

static int json_name(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 5 && !strcmp(de->d_name + n - 5, ".json");
}

static void run_dir(const char *top, const char *sub, struct tally *t)
{
	struct dirent **list;
	char dir[1600], rel[512];
	int n, i;

	snprintf(dir, sizeof(dir), "%s/%s", top, sub);
	n = scandir(dir, &list, json_name, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "", list[i]->d_name);
		run_file(top, rel, t);
		free(list[i]);
	}
	free(list);
}

static void test_suite(void **state)
{
	char top[1024];
	struct tally t;
	size_t i;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_true(snprintf(top, sizeof(top), "%s/json-schema-test-suite/tests/draft2020-12", tu_vectors()) <
		    (int)sizeof(top));
	run_dir(top, "", &t);
	run_dir(top, "optional", &t);
	run_dir(top, "optional/format", &t);
	/* Every listed skip must still name a file of the suite. */
	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
		char path[1200];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", top, skips[i].file);
		f = fopen(path, "r");
		if (!f)
			printf("# skip list names a missing file: %s\n", skips[i].file);
		assert_non_null(f);
		fclose(f);
	}
	printf("schema suite: %d cases passed, %d files skipped:%s\n", t.passed, t.nfiles_skipped, t.files_skipped);
	printf("schema suite: %d groups and %d cases skipped:", t.groups_skipped, t.cases_skipped);
	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		if (skips[i].group)
			printf(" %s \"%s\"%s%s%s (%s)", skips[i].file, skips[i].group, skips[i].test ? " \"" : "",
			       skips[i].test ? skips[i].test : "", skips[i].test ? "\"" : "", skips[i].why);
	printf("\n");
	if (t.failed)
		printf("# schema suite: %d cases failed\n", t.failed);
	assert_int_equal(t.failed, 0);
	assert_true(t.passed > 1000);
}

/* What a user is shown: the pointer of the failing value and the message. */
static const struct msg_case {
	const char *schema, *instance, *pointer, *msg;
} msg_cases[] = {
	{ "{\"type\":\"object\",\"properties\":{\"port\":{\"type\":\"integer\",\"maximum\":65535}}}",
	  "{\"port\":70000}", "/port", "maximum: 70000 is greater than 65535" },
	{ "{\"required\":[\"name\"]}", "{}", "", "required: missing property 'name'" },
	{ "{\"properties\":{\"color\":{}},\"additionalProperties\":false}", "{\"color\":1,\"colour\":\"red\"}",
	  "/colour", "additionalProperties: property 'colour' is not allowed" },
	{ "{\"type\":\"integer\"}", "\"x\"", "", "type: expected integer, got string" },
	{ "{\"type\":\"integer\"}", "1.5", "", "type: expected integer, got number" },
	{ "{\"type\":\"integer\",\"maximum\":1}", "1.0", "", "" },
	{ "{\"type\":[\"string\",\"null\"]}", "5", "", "type: expected string or null, got integer" },
	{ "{\"enum\":[\"tcp\",\"udp6\"]}", "\"udp\"", "", "enum: \"udp\" is not one of \"tcp\", \"udp6\"" },
	{ "{\"enum\":[]}", "1", "", "enum: no value is allowed, the list is empty" },
	{ "{\"const\":\"on\"}", "\"off\"", "", "const: expected \"on\", got \"off\"" },
	{ "{\"pattern\":\"^[a-z]+-[0-9]+$\"}", "\"abc\"", "", "pattern: \"abc\" does not match '^[a-z]+-[0-9]+$'" },
	/* \d is ASCII only in ECMA-262. */
	{ "{\"pattern\":\"^\\\\d+$\"}", "\"\xd9\xa3\"", "", "pattern: \"\xd9\xa3\" does not match '^\\d+$'" },
	{ "{\"format\":\"cidr\"}", "\"10.0.0.0/33\"", "", "format: \"10.0.0.0/33\" is not a valid cidr" },
	{ "{\"format\":\"cidr\"}", "\"fd00::/128\"", "", "" },
	{ "{\"format\":\"cidr\"}", "\"10.0.0.0/08\"", "", "format: \"10.0.0.0/08\" is not a valid cidr" },
	{ "{\"format\":\"ipv4\"}", "\"10.0.0.256\"", "", "format: \"10.0.0.256\" is not a valid ipv4" },
	{ "{\"format\":\"ipv6\"}", "\"::1::\"", "", "format: \"::1::\" is not a valid ipv6" },
	{ "{\"format\":\"date-time\"}", "\"2024-02-30T00:00:00Z\"", "",
	  "format: \"2024-02-30T00:00:00Z\" is not a valid date-time" },
	{ "{\"format\":\"date-time\"}", "\"2024-02-29T23:59:60Z\"", "", "" },
	{ "{\"format\":\"no-such-format\"}", "\"x\"", "", "" },
	{ "{\"minLength\":3}", "\"ab\"", "", "minLength: \"ab\" is 2 characters long, expected at least 3" },
	/* Code points, not bytes. */
	{ "{\"maxLength\":2}", "\"h\xc3\xa9\xc3\xa9\"", "",
	  "maxLength: \"h\xc3\xa9\xc3\xa9\" is 3 characters long, expected at most 2" },
	{ "{\"maxLength\":3}", "\"h\xc3\xa9\xc3\xa9\"", "", "" },
	{ "{\"items\":{\"type\":\"string\"}}", "[\"a\",2]", "/1", "type: expected string, got integer" },
	{ "{\"minItems\":2}", "[1]", "", "minItems: array has 1 item, expected at least 2" },
	{ "{\"maxItems\":1}", "[1,2]", "", "maxItems: array has 2 items, expected at most 1" },
	{ "{\"uniqueItems\":true}", "[1,2,1.0]", "/2", "uniqueItems: item 2 equals item 0" },
	{ "{\"prefixItems\":[true],\"items\":false}", "[1,2]", "/1", "items: item 1 is not allowed" },
	{ "{\"contains\":{\"type\":\"integer\"}}", "[\"a\"]", "", "contains: no item matches {\"type\":\"integer\"}" },
	{ "{\"contains\":{\"type\":\"integer\"},\"maxContains\":1}", "[1,\"a\",2]", "",
	  "maxContains: 2 items match contains, expected at most 1" },
	{ "{\"contains\":{\"type\":\"integer\"},\"minContains\":2}", "[1,\"a\"]", "",
	  "minContains: 1 item matches contains, expected at least 2" },
	{ "{\"multipleOf\":0.5}", "1.25", "", "multipleOf: 1.25 is not a multiple of 0.5" },
	{ "{\"multipleOf\":0.01}", "19.99", "", "" },
	{ "{\"exclusiveMinimum\":0}", "0", "", "exclusiveMinimum: 0 is not greater than 0" },
	{ "{\"minimum\":1}", "-0.5", "", "minimum: -0.5 is less than 1" },
	{ "{\"exclusiveMaximum\":10}", "10", "", "exclusiveMaximum: 10 is not less than 10" },
	{ "{\"maximum\":0.1}", "0.30000000000000004", "", "maximum: 0.30000000000000004 is greater than 0.1" },
	{ "{\"minProperties\":1}", "{}", "", "minProperties: object has 0 properties, expected at least 1" },
	{ "{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "",
	  "maxProperties: object has 2 properties, expected at most 1" },
	{ "{\"dependentRequired\":{\"a\":[\"b\"]}}", "{\"a\":1}", "",
	  "dependentRequired: property 'b' is required when 'a' is present" },
	{ "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}", "{\"ok\":1,\"Foo\":1}", "/Foo",
	  "propertyNames: pattern: \"Foo\" does not match '^[a-z]+$'" },
	{ "{\"properties\":{\"secret\":false}}", "{\"secret\":1}", "/secret",
	  "properties: property 'secret' is not allowed" },
	{ "{\"patternProperties\":{\"^x-\":false}}", "{\"x-a\":1}", "/x-a",
	  "patternProperties: property 'x-a' is not allowed" },
	{ "{\"properties\":{\"a\":true},\"unevaluatedProperties\":false}", "{\"a\":1,\"b\":2}", "/b",
	  "unevaluatedProperties: property 'b' is not allowed" },
	{ "{\"prefixItems\":[true],\"unevaluatedItems\":false}", "[1,2]", "/1",
	  "unevaluatedItems: item 1 is not allowed" },
	{ "{\"not\":{\"type\":\"string\"}}", "\"x\"", "", "not: value must not match {\"type\":\"string\"}" },
	{ "{\"if\":{\"properties\":{\"proto\":{\"const\":\"udp\"}}},\"then\":{\"required\":[\"port\"]}}",
	  "{\"proto\":\"udp\"}", "", "required: missing property 'port'" },
	{ "false", "1", "", "false: no value is allowed here" },
	/* anyOf and oneOf: the alternative that got deepest, else the types
	 * every alternative wanted, else a summary. */
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}]}",
	  "{\"a\":\"x\"}", "/a", "type: expected integer, got string" },
	{ "{\"anyOf\":[{\"type\":\"string\",\"maxLength\":2},{\"type\":\"integer\"}]}", "\"abc\"", "",
	  "maxLength: \"abc\" is 3 characters long, expected at most 2" },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "true", "",
	  "type: expected string or integer, got boolean" },
	{ "{\"anyOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}", "{}", "", "anyOf: no alternative matched" },
	{ "{\"oneOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}", "{}", "", "oneOf: no alternative matched" },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}", "5", "",
	  "oneOf: alternatives 0 and 1 both matched, expected exactly one" },
	/* References: JSON pointers with escapes and percent-encoding, anchors. */
	{ "{\"$defs\":{\"a/b\":{\"maximum\":1}},\"properties\":{\"x\":{\"$ref\":\"#/$defs/a~1b\"}}}", "{\"x\":2}", "/x",
	  "maximum: 2 is greater than 1" },
	{ "{\"$defs\":{\"a b%\":{\"type\":\"null\"}},\"$ref\":\"#/$defs/a%20b%25\"}", "0", "",
	  "type: expected null, got integer" },
	{ "{\"$defs\":{\"p\":{\"$anchor\":\"port\",\"maximum\":9}},\"items\":{\"$ref\":\"#port\"}}", "[1,10]", "/1",
	  "maximum: 10 is greater than 9" },
	{ "{\"$defs\":{\"node\":{\"properties\":{\"next\":{\"$ref\":\"#/$defs/node\"},\"v\":{\"type\":\"integer\"}}}},"
	  "\"$ref\":\"#/$defs/node\"}",
	  "{\"next\":{\"next\":{\"v\":\"x\"}}}", "/next/next/v", "type: expected integer, got string" },
	/* Pointers escape '~' and '/'; values are cut short and control
	 * characters never reach the message. */
	{ "{\"additionalProperties\":{\"type\":\"string\"}}", "{\"a/b~c\":1}", "/a~1b~0c",
	  "type: expected string, got integer" },
	{ "{\"enum\":[\"a\"]}",
	  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
	  "", "enum: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... is not one of \"a\"" },
	{ "{\"const\":1}", "\"a\\nb\\u0007\"", "", "const: expected 1, got \"a\\nb\\u0007\"" },
	{ "{\"required\":[\"a\\u0001b\"]}", "{}", "", "required: missing property 'a?b'" },
	{ "{\"properties\":{\"peers\":{\"items\":{\"properties\":{\"allowed_ips\":{\"items\":{\"format\":\"cidr\"}}}}}}"
	  "}",
	  "{\"peers\":[{\"allowed_ips\":[\"10.0.0.0/8\",\"fd00::/129\"]}]}", "/peers/0/allowed_ips/1",
	  "format: \"fd00::/129\" is not a valid cidr" },
};

static cJSON *parse(const char *text)
{
	struct isim_error err;
	cJSON *doc = NULL;

	memset(&err, 0, sizeof(err));
	if (isim_json_parse(text, strlen(text), "test", &doc, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return doc;
}

static void test_messages(void **state)
{
	struct isim_error err;
	cJSON *schema, *inst;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		const struct msg_case *m = &msg_cases[i];

		schema = parse(m->schema);
		inst = parse(m->instance);
		memset(&err, 0, sizeof(err));
		r = isim_schema_validate(schema, inst, &err);
		if (strcmp(err.msg, m->msg) || strcmp(err.pointer, m->pointer))
			printf("# %s against %s: got '%s' '%s'\n", m->instance, m->schema, err.pointer, err.msg);
		assert_string_equal(err.msg, m->msg);
		assert_string_equal(err.pointer, m->pointer);
		assert_int_equal(r, m->msg[0] ? -1 : 0);
		assert_int_equal(err.kind, m->msg[0] ? ISIM_ERR_DATA : 0);
		cJSON_Delete(schema);
		cJSON_Delete(inst);
	}
}

/* Schemas that cannot be used, whatever the instance: the location in the
 * schema and what is wrong with it. */
static const struct config_case {
	const char *schema, *instance, *msg;
} config_cases[] = {
	{ "{\"properties\":{\"a\":{\"pattern\":\"([\"}}}", "{}",
	  "schema #/properties/a/pattern: '([' is not a valid regular expression "
	  "(missing terminating ] for character class)" },
	{ "{\"patternProperties\":{\"(\":{}}}", "1",
	  "schema #/patternProperties/(: '(' is not a valid regular expression (missing closing parenthesis)" },
	{ "{\"$ref\":\"#/$defs/missing\"}", "1", "schema #/$ref: cannot resolve '#/$defs/missing': no such location" },
	{ "{\"$ref\":\"#/$defs/bad~2\",\"$defs\":{}}", "1",
	  "schema #/$ref: cannot resolve '#/$defs/bad~2': no such location" },
	{ "{\"$ref\":\"#/$defs/%zz\"}", "1", "schema #/$ref: '#/$defs/%zz' has a bad percent-encoding" },
	{ "{\"items\":{\"$ref\":\"#nope\"}}", "1", "schema #/items/$ref: cannot resolve '#nope': no such anchor" },
	{ "{\"$ref\":\"other.json\"}", "1",
	  "schema #/$ref: cannot resolve 'other.json': no schema in this document has that $id" },
	{ "{\"$ref\":\"#\"}", "1",
	  "schema #/$ref: reference loop: '#' leads back to a schema already being applied to the same value" },
	{ "{\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/b\"}]},\"b\":{\"not\":{\"$ref\":\"#/$defs/a\"}}},"
	  "\"$ref\":\"#/$defs/a\"}",
	  "1",
	  "schema #/$defs/b/not/$ref: reference loop: '#/$defs/a' leads back to a schema already being applied to "
	  "the same value" },
	{ "{\"minimum\":\"5\"}", "1", "schema #/minimum: expected a number" },
	{ "{\"maxLength\":-1}", "1", "schema #/maxLength: expected a non-negative integer" },
	{ "{\"minItems\":1.5}", "1", "schema #/minItems: expected a non-negative integer" },
	{ "{\"multipleOf\":0}", "1", "schema #/multipleOf: expected a number greater than 0" },
	{ "{\"type\":\"text\"}", "1",
	  "schema #/type: expected a type name or an array of them (null, boolean, object, array, number, string, "
	  "integer)" },
	{ "{\"required\":\"name\"}", "1", "schema #/required: expected an array of strings" },
	{ "{\"anyOf\":[]}", "1", "schema #/anyOf: expected a non-empty array of schemas" },
	{ "{\"properties\":{\"a\":5}}", "1",
	  "schema #/properties/a: expected a schema (an object or true or false), got integer" },
	{ "{\"$id\":\"http://example.com/a.json#x\"}", "1",
	  "schema #/$id: 'http://example.com/a.json#x' has a fragment" },
	{ "{\"$defs\":{\"a\":{\"$anchor\":\"x\"},\"b\":{\"$anchor\":\"x\"}}}", "1",
	  "schema #/$defs/b/$anchor: 'x' is defined twice" },
	{ "{\"$anchor\":\"1x\"}", "1", "schema #/$anchor: expected a name of letters, digits, '-', '_' and '.'" },
	/* Exponential backtracking is cut off (PCRE2's match limit). */
	{ "{\"not\":{\"pattern\":\"^(a|aa)+$\"}}",
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"",
	  "schema #/not/pattern: the pattern cannot be matched against "
	  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (match limit exceeded)" },
};

static void test_config_errors(void **state)
{
	struct isim_error err;
	cJSON *schema, *inst;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
		const struct config_case *m = &config_cases[i];

		schema = parse(m->schema);
		inst = parse(m->instance);
		memset(&err, 0, sizeof(err));
		assert_int_equal(isim_schema_validate(schema, inst, &err), -1);
		if (strcmp(err.msg, m->msg))
			printf("# %s: got '%s'\n", m->schema, err.msg);
		assert_string_equal(err.msg, m->msg);
		assert_int_equal(err.kind, ISIM_ERR_CONFIG);
		assert_string_equal(err.pointer, "");
		cJSON_Delete(schema);
		cJSON_Delete(inst);
	}
}

/* A schema that applies itself to every nested array: fine for shallow
 * data, refused past the bound instead of exhausting the stack. */
static void test_depth_bound(void **state)
{
	char text[2 * ISIM_SCHEMA_MAX_DEPTH + 8];
	struct isim_error err;
	cJSON *schema, *inst;
	int n;

	(void)state;
	schema = parse("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}");
	for (n = 0; n < 40; n++)
		text[n] = '[';
	for (; n < 80; n++)
		text[n] = ']';
	text[n] = '\0';
	inst = parse(text);
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_schema_validate(schema, inst, &err), 0);
	cJSON_Delete(inst);

	for (n = 0; n < ISIM_SCHEMA_MAX_DEPTH; n++)
		text[n] = '[';
	for (; n < 2 * ISIM_SCHEMA_MAX_DEPTH; n++)
		text[n] = ']';
	text[n] = '\0';
	inst = parse(text);
	assert_int_equal(isim_schema_validate(schema, inst, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	/* Two schemas a level: the root, then items' $ref back to it. */
	assert_string_equal(err.msg, "schema #: validation is nested deeper than 128 schemas");
	cJSON_Delete(inst);
	cJSON_Delete(schema);
}

/* Alternatives of alternatives that all fail: 2^40 paths, cut short. */
static void test_step_bound(void **state)
{
	char text[4096];
	struct isim_error err;
	cJSON *schema, *inst;
	size_t len;
	int n;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "{\"$ref\":\"#/$defs/d0\",\"$defs\":{");
	for (n = 0; n < 40; n++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"\"d%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/d%d\"},{\"$ref\":\"#/$defs/d%d\"}]},",
					n, n + 1, n + 1);
	snprintf(text + len, sizeof(text) - len, "\"d40\":false}}");
	schema = parse(text);
	inst = parse("1");
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_schema_validate(schema, inst, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, ": validation takes more than 8388608 steps"));
	cJSON_Delete(schema);
	cJSON_Delete(inst);
}

/* Subschemas nested past the bound are refused when compiling. */
static void test_nesting_bound(void **state)
{
	char text[16 * (ISIM_SCHEMA_MAX_DEPTH + 2)];
	struct isim_error err;
	struct isim_schema *s = NULL;
	cJSON *schema;
	size_t len = 0;
	int n;

	(void)state;
	for (n = 0; n <= ISIM_SCHEMA_MAX_DEPTH; n++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"not\":");
	len += (size_t)snprintf(text + len, sizeof(text) - len, "true");
	for (n = 0; n <= ISIM_SCHEMA_MAX_DEPTH; n++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "}");
	/* Deeper than isim_json_parse's pointers go: plain cJSON. */
	schema = cJSON_Parse(text);
	assert_non_null(schema);
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_schema_compile(schema, &s, &err), 0);
	isim_schema_free(s);
	cJSON_Delete(schema);

	len = 0;
	for (n = 0; n <= ISIM_SCHEMA_MAX_DEPTH + 1; n++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"not\":");
	len += (size_t)snprintf(text + len, sizeof(text) - len, "true");
	for (n = 0; n <= ISIM_SCHEMA_MAX_DEPTH + 1; n++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "}");
	schema = cJSON_Parse(text);
	assert_non_null(schema);
	assert_int_equal(isim_schema_compile(schema, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, ": subschemas nested deeper than 128 levels"));
	assert_true(!strncmp(err.msg, "schema #/not/not/not/", 21));
	cJSON_Delete(schema);
}

/* One compiled schema for many instances; success leaves err alone. */
static void test_compiled(void **state)
{
	struct isim_schema *s = NULL;
	struct isim_error err;
	cJSON *schema, *good, *bad;
	int i;

	(void)state;
	schema = parse("{\"$id\":\"https://example.com/peer.json\",\"type\":\"object\",\"required\":[\"endpoint\"],"
		       "\"properties\":{\"endpoint\":{\"$ref\":\"defs.json#/$defs/ep\"},"
		       "\"allowed_ips\":{\"type\":\"array\",\"items\":{\"format\":\"cidr\"}}},"
		       "\"$defs\":{\"d\":{\"$id\":\"defs.json\",\"$defs\":{\"ep\":{\"type\":\"string\","
		       "\"pattern\":\"^\\\\[[0-9a-f:]+\\\\]:[0-9]+$\"}}}}}");
	good = parse("{\"endpoint\":\"[fd00::1]:51820\",\"allowed_ips\":[\"fd00::/64\"]}");
	bad = parse("{\"endpoint\":\"fd00::1:51820\"}");
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_schema_compile(schema, &s, &err), 0);
	strcpy(err.path, "peers.json");
	for (i = 0; i < 3; i++) {
		assert_int_equal(isim_schema_check(s, good, &err), 0);
		assert_int_equal(err.kind, 0);
		assert_string_equal(err.msg, "");
		assert_int_equal(isim_schema_check(s, bad, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(err.pointer, "/endpoint");
		assert_string_equal(err.msg, "pattern: \"fd00::1:51820\" does not match '^\\[[0-9a-f:]+\\]:[0-9]+$'");
		assert_string_equal(err.path, "peers.json");
		memset(&err, 0, sizeof(err));
		strcpy(err.path, "peers.json");
	}
	isim_schema_free(s);
	isim_schema_free(NULL);
	cJSON_Delete(schema);
	cJSON_Delete(good);
	cJSON_Delete(bad);
}

/* The schemas the tools ship compile. */
static void test_shipped_schemas(void **state)
{
	const char *root = getenv("ISIM_ROOT");
	static const char *const names[] = { "manifest.schema.json",
					     "feature.schema.json",
					     "profile.schema.json",
					     "node-descriptor.schema.json",
					     "passkey-authentication-response.schema.json",
					     "passkey-creation-options.schema.json",
					     "passkey-credentials.schema.json",
					     "passkey-expect.schema.json",
					     "passkey-registration-response.schema.json",
					     "passkey-request-options.schema.json",
					     "passkey-verdict.schema.json" };
	struct isim_schema *s;
	struct isim_error err;
	char path[1024];
	cJSON *doc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/schemas/%s", root ? root : ".", names[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		fclose(f);
		memset(&err, 0, sizeof(err));
		assert_int_equal(isim_json_load_file(path, &doc, &err), 0);
		if (isim_schema_compile(doc, &s, &err) < 0)
			fail_msg("%s: %s", path, err.msg);
		isim_schema_free(s);
		cJSON_Delete(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),	      cmocka_unit_test(test_messages),
		cmocka_unit_test(test_config_errors), cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_nesting_bound), cmocka_unit_test(test_compiled),
		cmocka_unit_test(test_step_bound),    cmocka_unit_test(test_shipped_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
