/* SPDX-License-Identifier: MIT */
/* Canonical JSON from untrusted input. Whatever is accepted must be a fixed
 * point (its canonical form canonicalizes to the same bytes), and the cJSON
 * route must accept the same documents and give the same bytes. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/jcs.h"
#include "isim/number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first 8 bytes as a double: its text must read back as it and be
 * canonical already. */
static void check_number(const uint8_t *data, size_t size)
{
	char text[ISIM_NUMBER_MAX];
	struct isim_buf b = { 0 };
	struct isim_error err;
	double v;
	int n;

	if (size < sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));
	n = isim_number_format(v, text);
	if (n < 0) {
		if (isfinite(v))
			abort();
		return;
	}
	if ((size_t)n != strlen(text) || strtod(text, NULL) != v)
		abort();
	if (isim_jcs_canonicalize(text, (size_t)n, "fuzz", &b, &err) < 0 || b.len != (size_t)n ||
	    memcmp(b.s, text, (size_t)n) != 0)
		abort();
	isim_buf_free(&b);
}

static void same_or_abort(const struct isim_buf *a, const struct isim_buf *b)
{
	if (a->len != b->len || memcmp(a->s, b->s, a->len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct isim_buf once = { 0 }, twice = { 0 }, tree = { 0 };
	struct isim_error err, perr;
	cJSON *doc;
	int ok;

	ok = isim_jcs_canonicalize(in, size, "fuzz", &once, &err) == 0;
	if (isim_json_parse(in, size, "fuzz", &doc, &perr) < 0)
		doc = NULL;
	if (ok) {
		if (isim_jcs_canonicalize(once.s, once.len, "fuzz", &twice, &err) < 0)
			abort();
		same_or_abort(&once, &twice);
		/* The one refusal of the cJSON route alone: cJSON cannot
		 * hold U+0000 (a string cut short there would differ below). */
		if (!doc && strcmp(perr.msg, "\\u0000 in a string is not supported here") != 0)
			abort();
	} else if (doc) {
		abort();
	}
	if (doc) {
		if (isim_jcs_from_cjson(doc, &tree, &err) < 0)
			abort();
		same_or_abort(&once, &tree);
	}
	cJSON_Delete(doc);
	check_number(data, size);
	isim_buf_free(&once);
	isim_buf_free(&twice);
	isim_buf_free(&tree);
	return 0;
}
