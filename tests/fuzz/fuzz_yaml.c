/* SPDX-License-Identifier: MIT */
/* YAML from untrusted input (feature and profile files). Nothing may crash,
 * leak or run away; what is accepted must come out as JSON that the strict
 * reader takes back unchanged, and every value must have a position. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/json.h"
#include "isim/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every value below v, at the pointer in ptr, can be located. */
static void check_positions(const struct isim_doc *doc, const cJSON *v, char *ptr, size_t cap)
{
	size_t len = strlen(ptr);
	const cJSON *c;
	int line, column, i = 0;

	if (!isim_doc_locate(doc, ptr, &line, &column) || line < 1 || column < 1)
		abort();
	for (c = v->child; c; c = c->next, i++) {
		bool ok = cJSON_IsObject(v) ? isim_json_pointer_push(ptr, cap, c->string)
					    : isim_json_pointer_push_index(ptr, cap, i);

		if (ok)
			check_positions(doc, c, ptr, cap);
		ptr[len] = '\0';
	}
}

static void round_trip(const cJSON *root)
{
	struct isim_error err;
	char *text = isim_json_text(root);
	cJSON *back = NULL;

	if (!text)
		return;
	isim_error_clear(&err);
	if (isim_json_parse(text, strlen(text), "round-trip", &back, &err) < 0 || !cJSON_Compare(root, back, true))
		abort();
	cJSON_Delete(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_error err;
	struct isim_doc *doc;
	char msg[4096], ptr[4096] = "";

	isim_error_clear(&err);
	if (isim_yaml_parse((const char *)data, size, "fuzz.yaml", &doc, &err) < 0) {
		/* A refusal always says what is wrong. */
		if (!err.kind || !err.msg[0])
			abort();
		isim_error_format(&err, msg, sizeof(msg));
		return 0;
	}
	if (!doc->root)
		abort();
	if (doc->npos)
		check_positions(doc, doc->root, ptr, sizeof(ptr));
	round_trip(doc->root);
	isim_doc_free(doc);
	return 0;
}
