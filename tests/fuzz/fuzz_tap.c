/* SPDX-License-Identifier: MIT */
/* Serial console logs from a guest, read for their selftest report. Nothing
 * may crash or leak; every count must be a whole number of at least zero,
 * and each selftest's counts, and the report's, must add up to the tests
 * listed. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "isim/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The count o[k], or abort when it is not a number >= 0. */
static double count(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || floor(v->valuedouble) != v->valuedouble)
		abort();
	return v->valuedouble;
}

/* passed + failed + skipped of o; abort when it is not the tests given. */
static double sum(const cJSON *o, double tests)
{
	double n = count(o, "passed") + count(o, "failed") + count(o, "skipped");

	if (n != tests)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cJSON *st, *list, *tests, *complete;
	struct isim_error err;
	cJSON *report;
	double total = 0;

	isim_error_clear(&err);
	if (isim_tap_parse((const char *)data, size, &report, &err) < 0) {
		if (report || !err.msg[0])
			abort();
		return 0;
	}
	list = cJSON_GetObjectItemCaseSensitive(report, "selftests");
	complete = cJSON_GetObjectItemCaseSensitive(report, "complete");
	if (!cJSON_IsArray(list) || !cJSON_IsBool(complete))
		abort();
	cJSON_ArrayForEach (st, list) {
		tests = cJSON_GetObjectItemCaseSensitive(st, "tests");
		if (!cJSON_IsArray(tests) || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(st, "ok")))
			abort();
		total += sum(st, cJSON_GetArraySize(tests));
	}
	sum(report, total);
	/* No report passes that is not complete, or that has no selftest. */
	if (isim_tap_passed(report) && (!cJSON_IsTrue(complete) || !cJSON_GetArraySize(list)))
		abort();
	cJSON_Delete(report);
	return 0;
}
