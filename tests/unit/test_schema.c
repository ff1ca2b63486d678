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

#include "isim/json.h"
#include "isim/schema.h"

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
	{ "format.json", "date-time format", "invalid date-time string is only an annotation by default",
	  "assertion" },
	/* A cJSON string ends at its first NUL. */
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

static const struct skip *find_skip(const char *file, const char *group, const char *test)
{
	size_t i;

	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		if (!strcmp(skips[i].file, file) && (skips[i].group ? group && !strcmp(skips[i].group, group) : !group) &&
		    (skips[i].test ? test && !strcmp(skips[i].test, test) : !test))
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
	cJSON_ArrayForEach(c, tests) {
		if (find_skip(file, desc->valuestring,
			      cJSON_GetObjectItemCaseSensitive(c, "description")->valuestring)) {
			t->cases_skipped++;
			continue;
		}
		want = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "valid"));
		memset(&err, 0, sizeof(err));
		got = isim_schema_check(s, cJSON_GetObjectItemCaseSensitive(c, "data"), &err) == 0;
		if (got == want && (got || err.code == 65)) {
			t->passed++;
			continue;
		}
		t->failed++;
		printf("# %s: %s: %s: expected %s, got %s%s%s (code %d)\n", file, desc->valuestring,
		       cJSON_GetObjectItemCaseSensitive(c, "description")->valuestring, want ? "valid" : "invalid",
		       got ? "valid" : "invalid", got ? "" : ": ", got ? "" : err.msg, err.code);
	}
	isim_schema_free(s);
}

static void run_file(const char *dir, const char *rel, struct tally *t)
{
	char path[1600];
	struct isim_error err;
	cJSON *doc = NULL;
	const cJSON *g;

	if (find_skip(rel, NULL, NULL)) {
		snprintf(t->files_skipped + strlen(t->files_skipped), sizeof(t->files_skipped) - strlen(t->files_skipped),
			 " %s", rel);
		t->nfiles_skipped++;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	memset(&err, 0, sizeof(err));
	if (isim_json_load_file(path, &doc, &err) < 0) {
		printf("# %s: %s\n", path, err.msg);
		t->failed++;
		return;
	}
	cJSON_ArrayForEach(g, doc)
		run_group(rel, g, t);
	cJSON_Delete(doc);
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
	const char *vectors = getenv("ISIM_VECTORS");
	char top[1024];
	struct tally t;
	size_t i;

	(void)state;
	memset(&t, 0, sizeof(t));
	snprintf(top, sizeof(top), "%s/json-schema-test-suite/tests/draft2020-12", vectors ? vectors : "tests/vectors");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
