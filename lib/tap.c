/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isim/error.h"
#include "isim/tap.h"

#define LINE_MAX_LEN 4096

struct parser {
	cJSON *report, *selftests;
	cJSON *cur;   /* the selftest being read, or NULL */
	cJSON *tests; /* its tests */
	int passed, failed, skipped, plan;
	bool begun, ended;
	long total_passed, total_failed, total_skipped;
};

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A strict decimal number at *s (no sign), advancing *s; -1 when none. */
static long number(const char **s)
{
	long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**s) && digits < 9) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits && !isdigit((unsigned char)**s) ? v : -1;
}

static bool add_int(cJSON *o, const char *k, long v)
{
	return cJSON_AddNumberToObject(o, k, (double)v) != NULL;
}

static int finish_selftest(struct parser *p, const char *verdict)
{
	bool ok = verdict && strcmp(verdict, "ok") == 0 && p->failed == 0 &&
		  (p->plan < 0 || p->plan == p->passed + p->failed + p->skipped) && p->passed + p->skipped > 0;

	if (!cJSON_AddBoolToObject(p->cur, "ok", ok) ||
	    !(p->plan >= 0 ? add_int(p->cur, "plan", p->plan) : cJSON_AddNullToObject(p->cur, "plan") != NULL) ||
	    !add_int(p->cur, "passed", p->passed) || !add_int(p->cur, "failed", p->failed) ||
	    !add_int(p->cur, "skipped", p->skipped) || !cJSON_AddItemToObject(p->cur, "tests", p->tests))
		return -1;
	p->tests = NULL;
	p->total_passed += p->passed;
	p->total_failed += p->failed;
	p->total_skipped += p->skipped;
	p->cur = NULL;
	return 0;
}

/* "# selftest FEATURE/NAME begin" */
static int begin_selftest(struct parser *p, const char *what)
{
	const char *slash = strchr(what, '/');
	char feature[256], name[256];
	size_t n;

	if (p->cur && finish_selftest(p, NULL) < 0)
		return -1;
	if (!slash || (size_t)(slash - what) >= sizeof(feature))
		return 0;
	n = (size_t)(slash - what);
	memcpy(feature, what, n);
	feature[n] = '\0';
	if (snprintf(name, sizeof(name), "%s", slash + 1) >= (int)sizeof(name))
		return 0;
	p->cur = cJSON_CreateObject();
	p->tests = cJSON_CreateArray();
	if (!p->cur || !p->tests || !cJSON_AddItemToArray(p->selftests, p->cur) ||
	    !cJSON_AddStringToObject(p->cur, "feature", feature) || !cJSON_AddStringToObject(p->cur, "name", name))
		return -1;
	p->passed = p->failed = p->skipped = 0;
	p->plan = -1;
	return 0;
}

/* "ok N - description # SKIP reason" or "not ok N ..." */
static int test_line(struct parser *p, const char *s)
{
	bool ok = true, skip = false;
	const char *hash;
	char desc[LINE_MAX_LEN];
	cJSON *t;
	long num;

	if (starts(s, "not ok")) {
		ok = false;
		s += 6;
	} else {
		s += 2;
	}
	if (*s && *s != ' ')
		return 0;
	while (*s == ' ')
		s++;
	num = number(&s);
	while (*s == ' ')
		s++;
	if (*s == '-') {
		s++;
		while (*s == ' ')
			s++;
	}
	snprintf(desc, sizeof(desc), "%s", s);
	/* The directive: " # SKIP reason" after a description, or "# SKIP"
	 * where the description would be. TODO tests do not count against
	 * the run (TAP 13), as skipped ones do not. */
	hash = strncmp(desc, "# ", 2) == 0 ? desc : strstr(desc, " # ");
	if (hash) {
		const char *d = hash == desc ? desc + 2 : hash + 3;

		if (strncasecmp(d, "skip", 4) == 0 || strncasecmp(d, "todo", 4) == 0)
			skip = true;
		desc[hash - desc] = '\0';
	}
	t = cJSON_CreateObject();
	if (!t || !cJSON_AddItemToArray(p->tests, t))
		return cJSON_Delete(t), -1;
	if (!(num >= 0 ? add_int(t, "number", num) : cJSON_AddNullToObject(t, "number") != NULL) ||
	    !cJSON_AddBoolToObject(t, "ok", ok) || !cJSON_AddBoolToObject(t, "skip", skip) ||
	    !cJSON_AddStringToObject(t, "description", desc))
		return -1;
	if (skip)
		p->skipped++;
	else if (!ok)
		p->failed++;
	else
		p->passed++;
	return 0;
}

static int line(struct parser *p, char *s)
{
	size_t n = strlen(s);
	const char *m;

	/* The serial console ends lines with CR LF, and may start one with
	 * what an earlier program left without a newline. */
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (!p->begun) {
		if (strstr(s, "SELFTEST BEGIN"))
			p->begun = true;
		return 0;
	}
	if (p->ended)
		return 0;
	if ((m = strstr(s, "SELFTEST END"))) {
		const char *st = strstr(m, "status=");
		long v = -1;

		if (st) {
			st += 7;
			v = number(&st);
		}
		if (p->cur && finish_selftest(p, NULL) < 0)
			return -1;
		p->ended = true;
		return v >= 0 ? (add_int(p->report, "status", v) ? 0 : -1)
			      : (cJSON_AddNullToObject(p->report, "status") ? 0 : -1);
	}
	if (starts(s, "# selftest ")) {
		const char *rest = s + 11;
		size_t len = strlen(rest);

		if (len > 6 && strcmp(rest + len - 6, " begin") == 0) {
			s[11 + len - 6] = '\0';
			return begin_selftest(p, rest);
		}
		if (p->cur && (m = strstr(rest, " end "))) {
			const char *verdict = m + 5;

			return finish_selftest(p, verdict);
		}
		return 0;
	}
	if (!p->cur)
		return 0;
	if (starts(s, "ok") || starts(s, "not ok"))
		return test_line(p, s);
	if (starts(s, "1..")) {
		const char *q = s + 3;
		long v = number(&q);

		if (v >= 0 && *q == '\0')
			p->plan = (int)v;
	}
	return 0;
}

int isim_tap_parse(const char *text, size_t len, cJSON **out, struct isim_error *err)
{
	struct parser p = { 0 };
	char buf[LINE_MAX_LEN];
	size_t i = 0, n = 0;

	*out = NULL;
	p.report = cJSON_CreateObject();
	p.selftests = cJSON_CreateArray();
	if (!p.report || !p.selftests)
		goto oom;
	for (i = 0; i <= len; i++) {
		char c = i < len ? text[i] : '\n';

		if (c == '\n') {
			buf[n] = '\0';
			if (line(&p, buf) < 0)
				goto oom;
			n = 0;
			continue;
		}
		/* NUL and overlong lines: keep the start, as a terminal would
		 * show it. */
		if (c == '\0')
			c = '?';
		if (n < sizeof(buf) - 1)
			buf[n++] = c;
	}
	if (p.cur && finish_selftest(&p, NULL) < 0)
		goto oom;
	if (!p.ended && !cJSON_AddNullToObject(p.report, "status"))
		goto oom;
	if (!cJSON_AddBoolToObject(p.report, "complete", p.ended) || !add_int(p.report, "passed", p.total_passed) ||
	    !add_int(p.report, "failed", p.total_failed) || !add_int(p.report, "skipped", p.total_skipped) ||
	    !cJSON_AddItemToObject(p.report, "selftests", p.selftests))
		goto oom;
	*out = p.report;
	return 0;
oom:
	cJSON_Delete(p.tests);
	if (!p.report || !cJSON_GetObjectItemCaseSensitive(p.report, "selftests"))
		cJSON_Delete(p.selftests);
	cJSON_Delete(p.report);
	return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
}

int isim_tap_passed(const cJSON *report)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(report, "status"), *s;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(report, "selftests");
	int n = 0;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(report, "complete")) || !cJSON_IsNumber(st) ||
	    st->valuedouble != 0)
		return 0;
	cJSON_ArrayForEach (s, list) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "ok")))
			return 0;
		n++;
	}
	return n > 0;
}
