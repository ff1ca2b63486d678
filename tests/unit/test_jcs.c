/* SPDX-License-Identifier: MIT */
/* RFC 8785 canonical JSON: the reference vectors byte for byte, ECMAScript
 * number forms, the exact message and place of every refusal, and that
 * canonical text is a fixed point. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/file.h"
#include "isim/jcs.h"
#include "isim/number.h"

/* The strict reader's tree, or NULL with err filled. */
static cJSON *parse(const char *in, size_t len, const char *name, struct isim_error *err)
{
	cJSON *doc;

	return isim_json_parse(in, len, name, &doc, err) == 0 ? doc : NULL;
}
#include "testutil.h"

static const char *vectors_dir(void)
{
	return tu_vectors();
}

/* vectors/jcs/DIR/NAME.EXT */
static char *read_vector(const char *dir, const char *name, const char *ext, size_t *len)
{
	struct isim_error err;
	char path[1024];
	char *text = NULL;

	assert_true(snprintf(path, sizeof(path), "%s/jcs/%s/%s.%s", vectors_dir(), dir, name, ext) < (int)sizeof(path));
	if (isim_file_read(path, ISIM_FILE_MAX, &text, len, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return text;
}

/* Canonicalize in[0..len) expecting success; returns the text (free it). */
static char *canon_n(const char *in, size_t len, size_t *outlen)
{
	struct isim_buf b = { 0 };
	struct isim_error err;

	if (isim_jcs_canonicalize(in, len, "t.json", &b, &err) < 0)
		fail_msg("canonicalize '%s': %d:%d: %s", in, err.line, err.column, err.msg);
	if (outlen)
		*outlen = b.len;
	return isim_buf_take(&b);
}

static char *canon(const char *in)
{
	return canon_n(in, strlen(in), NULL);
}

static void assert_fixed_point(const char *c, size_t len)
{
	size_t len2;
	char *again = canon_n(c, len, &len2);

	assert_int_equal(len2, len);
	assert_memory_equal(again, c, len);
	free(again);
}

/* Canonical form of a cJSON tree, or NULL with err filled. */
static char *from_tree(const cJSON *v, struct isim_error *err)
{
	struct isim_buf b = { 0 };

	if (isim_jcs_from_cjson(v, &b, err) < 0) {
		assert_null(b.s);
		return NULL;
	}
	return isim_buf_take(&b);
}

static void hex_decode(const char *hex, char *out, size_t *n)
{
	unsigned int byte;
	int used;

	*n = 0;
	while (sscanf(hex, " %2x%n", &byte, &used) == 1) {
		out[(*n)++] = (char)byte;
		hex += used;
	}
}

static void test_vectors(void **state)
{
	static const char *const names[] = { "arrays", "french", "structures", "unicode", "values", "weird" };
	size_t i, inlen, outlen, hexlen, gotlen, binlen;
	struct isim_error err;
	char bin[4096];

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *in = read_vector("input", names[i], "json", &inlen);
		char *want = read_vector("output", names[i], "json", &outlen);
		char *hex = read_vector("outhex", names[i], "txt", &hexlen);
		char *got = canon_n(in, inlen, &gotlen);
		cJSON *tree;
		char *again;

		print_message("# vector %s: %zu bytes\n", names[i], gotlen);
		assert_int_equal(gotlen, outlen);
		assert_memory_equal(got, want, outlen);
		hex_decode(hex, bin, &binlen);
		assert_int_equal(binlen, gotlen);
		assert_memory_equal(bin, got, binlen);
		assert_fixed_point(got, gotlen);

		/* The cJSON route gives the same bytes. */
		tree = parse(in, inlen, "v.json", &err);
		assert_non_null(tree);
		again = from_tree(tree, &err);
		assert_non_null(again);
		assert_string_equal(again, want);
		cJSON_Delete(tree);
		free(again);
		free(in);
		free(want);
		free(hex);
		free(got);
	}
}

/* JSON number text and the form ECMAScript's Number.prototype.toString
 * gives the double it reads as. */
static const struct {
	const char *in, *want;
} numbers[] = {
	{ "0", "0" },
	{ "-0", "0" },
	{ "0.0", "0" },
	{ "-0.0e-5", "0" },
	{ "1", "1" },
	{ "-1", "-1" },
	{ "1e+0", "1" },
	{ "0.1e1", "1" },
	{ "100", "100" },
	{ "1e2", "100" },
	{ "1E30", "1e+30" },
	{ "1e21", "1e+21" },
	{ "1e20", "100000000000000000000" },
	{ "1000000000000000000000", "1e+21" },
	{ "100000000000000000000.5", "100000000000000000000" },
	{ "123456789012345680000", "123456789012345680000" },
	{ "123456789012345678901", "123456789012345680000" },
	{ "295147905179352825856", "295147905179352830000" },
	{ "999999999999999700000", "999999999999999700000" },
	{ "999999999999999900000", "999999999999999900000" },
	{ "999999999999999999999", "1e+21" },
	{ "9.999999999999997e22", "9.999999999999997e+22" },
	{ "1e23", "1e+23" },
	{ "1.0000000000000001e23", "1.0000000000000001e+23" },
	{ "1.5e300", "1.5e+300" },
	{ "1e-7", "1e-7" },
	{ "-1e-7", "-1e-7" },
	{ "0.0000001", "1e-7" },
	{ "0.000001", "0.000001" },
	{ "1e-6", "0.000001" },
	{ "1.2e-6", "0.0000012" },
	{ "0.00001234", "0.00001234" },
	{ "9.999999999999997e-7", "9.999999999999997e-7" },
	{ "-0.0000033333333333333333", "-0.0000033333333333333333" },
	{ "123e-20", "1.23e-18" },
	{ "0.000000000000000000000000001", "1e-27" },
	{ "2e-3", "0.002" },
	{ "5e-324", "5e-324" },
	{ "-5e-324", "-5e-324" },
	{ "3e-324", "5e-324" },
	{ "4.9406564584124654e-324", "5e-324" },
	{ "2e-323", "2e-323" },
	{ "2.225073858507201e-308", "2.225073858507201e-308" },
	{ "2.2250738585072014e-308", "2.2250738585072014e-308" },
	{ "1.7976931348623157e308", "1.7976931348623157e+308" },
	{ "-1.7976931348623157e308", "-1.7976931348623157e+308" },
	{ "0.1", "0.1" },
	{ "0.3", "0.3" },
	{ "0.30000000000000004", "0.30000000000000004" },
	{ "4.35", "4.35" },
	{ "4.50", "4.5" },
	{ "12.5e-1", "1.25" },
	{ "123.456", "123.456" },
	{ "56.0", "56" },
	{ "9007199254740992", "9007199254740992" },
	{ "9007199254740993", "9007199254740992" },
	{ "-9007199254740992", "-9007199254740992" },
	{ "333333333.33333329", "333333333.3333333" },
	{ "333333333.3333332", "333333333.3333332" },
	{ "333333333.33333343", "333333333.33333343" },
	{ "1424953923781206.2", "1424953923781206.2" },
	/* Powers of two whose nearest 16-digit decimal lies outside their
	 * rounding interval, while the next one up lies inside. */
	{ "618970019642690137449562112", "6.189700196426902e+26" },
	{ "5.316911983139664e36", "5.316911983139664e+36" },
	{ "7.120236347223045e-307", "7.120236347223045e-307" },
	{ "0e999999999999", "0" },
};

static void test_numbers(void **state)
{
	char in[128], want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		char *got;

		snprintf(in, sizeof(in), "[%s]", numbers[i].in);
		snprintf(want, sizeof(want), "[%s]", numbers[i].want);
		got = canon(in);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got %s, want %s", numbers[i].in, got, want);
		assert_fixed_point(got, strlen(got));
		free(got);
	}
	print_message("# %zu number cases\n", i);
}

/* RFC 8785 appendix B: IEEE-754 bit patterns and their serialization. */
static void test_number_bits(void **state)
{
	static const struct {
		uint64_t bits;
		const char *want;
	} cases[] = {
		{ 0x0000000000000000, "0" },
		{ 0x8000000000000000, "0" },
		{ 0x0000000000000001, "5e-324" },
		{ 0x8000000000000001, "-5e-324" },
		{ 0x7fefffffffffffff, "1.7976931348623157e+308" },
		{ 0xffefffffffffffff, "-1.7976931348623157e+308" },
		{ 0x4340000000000000, "9007199254740992" },
		{ 0xc340000000000000, "-9007199254740992" },
		{ 0x4430000000000000, "295147905179352830000" },
		{ 0x44b52d02c7e14af5, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6, "1e+23" },
		{ 0x44b52d02c7e14af7, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4e, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4f, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8d, "0.000001" },
		{ 0x41b3de4355555553, "333333333.3333332" },
		{ 0x41b3de4355555554, "333333333.33333325" },
		{ 0x41b3de4355555555, "333333333.3333333" },
		{ 0x41b3de4355555556, "333333333.3333334" },
		{ 0x41b3de4355555557, "333333333.33333343" },
		{ 0xbecbf647612f3696, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959, "1424953923781206.2" },
	};
	static const uint64_t refused[] = { 0x7fffffffffffffff, 0x7ff0000000000000, 0xfff0000000000000 };
	char buf[ISIM_NUMBER_MAX];
	size_t i;
	double d;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(&d, &cases[i].bits, sizeof(d));
		assert_int_equal(isim_number_format(d, buf), strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memcpy(&d, &refused[i], sizeof(d));
		assert_int_equal(isim_number_format(d, buf), -1);
	}
}

/* Input that is not I-JSON: where it is refused and why. */
static const struct {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int line, column;
	const char *msg;
	const char *pointer; /* of the value the fault is in */
} refusals[] = {
	{ "{\"a\":1,\"a\":2}", 0, 1, 8, "duplicate member name \"a\"", "/a" },
	{ "{\"a\":1,\n \"b\":{\"x\":1, \"x\":2}}", 0, 2, 14, "duplicate member name \"x\"", "/b/x" },
	{ "{\"a\":1,\"\\u0061\":2}", 0, 1, 8, "duplicate member name \"a\"", "/a" },
	{ "{\"\xf0\x9f\x98\x82\":1,\"\\ud83d\\ude02\":2}", 0, 1, 11, "duplicate member name \"\xf0\x9f\x98\x82\"",
	  "/\xf0\x9f\x98\x82" },
	{ "{\"b\":0,\"a\":1,\"b\":2,\"a\":3}", 0, 1, 14, "duplicate member name \"b\"", "/b" },
	{ "{\"q\\\"\":0,\"q\\u0022\":1}", 0, 1, 10, "duplicate member name \"q\\\"\"", "/q\"" },
	{ "\"\xc0\x80\"", 0, 1, 2, "invalid UTF-8 byte 0xC0 (overlong encoding)", "" },
	{ "\"\xc1\xbf\"", 0, 1, 2, "invalid UTF-8 byte 0xC1 (overlong encoding)", "" },
	{ "\"\xe0\x80\x80\"", 0, 1, 3, "invalid UTF-8 byte 0x80 after 0xE0 (overlong encoding)", "" },
	{ "\"\xf0\x80\x80\x80\"", 0, 1, 3, "invalid UTF-8 byte 0x80 after 0xF0 (overlong encoding)", "" },
	{ "\"\xed\xa0\x80\"", 0, 1, 3, "invalid UTF-8 byte 0xA0 after 0xED (surrogate encoded in UTF-8)", "" },
	{ "\"\xed\xbf\xbf\"", 0, 1, 3, "invalid UTF-8 byte 0xBF after 0xED (surrogate encoded in UTF-8)", "" },
	{ "\"\xf4\x90\x80\x80\"", 0, 1, 3, "invalid UTF-8 byte 0x90 after 0xF4 (code point beyond U+10FFFF)", "" },
	{ "\"\xf5\x80\x80\x80\"", 0, 1, 2, "invalid UTF-8 byte 0xF5 (code point beyond U+10FFFF)", "" },
	{ "\"\xff\"", 0, 1, 2, "invalid UTF-8 byte 0xFF (never used in UTF-8)", "" },
	{ "\"\x80\"", 0, 1, 2, "invalid UTF-8 byte 0x80 (continuation byte without a lead byte)", "" },
	{ "\"\xe2\x82\"", 0, 1, 2, "truncated UTF-8 sequence starting with 0xE2", "" },
	{ "\"\xe2\x82", 0, 1, 2, "truncated UTF-8 sequence starting with 0xE2", "" },
	{ "[\"ok\",\n\"a\xc3\"]", 0, 2, 3, "truncated UTF-8 sequence starting with 0xC3", "/1" },
	{ "{\"\xc0\":1}", 0, 1, 3, "invalid UTF-8 byte 0xC0 (overlong encoding)", "" },
	{ "\"\\ud800\"", 0, 1, 2, "lone surrogate \\ud800", "" },
	{ "\"\\udc00\"", 0, 1, 2, "lone surrogate \\udc00", "" },
	{ "\"\\ud800\\u0041\"", 0, 1, 2, "lone surrogate \\ud800", "" },
	{ "\"x\\uD800\\uD800\"", 0, 1, 3, "lone surrogate \\uD800", "" },
	{ "\"\\ude02\\ud83d\"", 0, 1, 2, "lone surrogate \\ude02", "" },
	{ "\"\\ud800", 0, 1, 2, "lone surrogate \\ud800", "" },
	{ "{\"k\\udbff\":1}", 0, 1, 4, "lone surrogate \\udbff", "" },
	{ "1e400", 0, 1, 1, "number out of range: 1e400", "" },
	{ "[-1e400]", 0, 1, 2, "number out of range: -1e400", "/0" },
	{ "[1.7976931348623159e308]", 0, 1, 2, "number out of range: 1.7976931348623159e308", "/0" },
	{ "1e-400", 0, 1, 1, "number out of range: 1e-400", "" },
	{ "{\"tiny\":\n  2e-324}", 0, 2, 3, "number out of range: 2e-324", "/tiny" },
	{ "1000000000000000000000000000000000000000000000000000e300", 0, 1, 1,
	  "number out of range: 1000000000000000000000000000000000000000...", "" },
	{ "[1] x", 0, 1, 5, "unexpected 'x' after the JSON value", "" },
	{ "{} {}", 0, 1, 4, "unexpected '{' after the JSON value", "" },
	{ "1 2", 0, 1, 3, "unexpected '2' after the JSON value", "" },
	{ "\"a\"\0", 4, 1, 4, "unexpected byte 0x00 after the JSON value", "" },
	{ "truex", 0, 1, 5, "unexpected 'x' after the JSON value", "" },
	{ "\"a\nb\"", 0, 1, 3, "unescaped control character 0x0A in string", "" },
	{ "\"\t\"", 0, 1, 2, "unescaped control character 0x09 in string", "" },
	{ "\"\x1f\"", 0, 1, 2, "unescaped control character 0x1F in string", "" },
	{ "\"\0\"", 3, 1, 2, "unescaped control character 0x00 in string", "" },
	{ "\"a\xc3\xa9"
	  "b\nc\"",
	  0, 1, 6, "unescaped control character 0x0A in string", "" },
	{ "[1,]", 0, 1, 4, "unexpected ']', expected a value", "/1" },
	{ "{\"a\":1,}", 0, 1, 8, "unexpected '}', expected a member name", "" },
	{ "01", 0, 1, 2, "invalid number: leading zero", "" },
	{ "-01", 0, 1, 3, "invalid number: leading zero", "" },
	{ "1.", 0, 1, 3, "unexpected end of input, expected a digit after '.'", "" },
	{ "1.e5", 0, 1, 3, "unexpected 'e', expected a digit after '.'", "" },
	{ ".5", 0, 1, 1, "unexpected '.', expected a value", "" },
	{ "+1", 0, 1, 1, "unexpected '+', expected a value", "" },
	{ "-", 0, 1, 2, "unexpected end of input, expected a digit", "" },
	{ "-Infinity", 0, 1, 2, "unexpected 'I', expected a digit", "" },
	{ "1e", 0, 1, 3, "unexpected end of input, expected a digit in the exponent", "" },
	{ "1e+", 0, 1, 4, "unexpected end of input, expected a digit in the exponent", "" },
	{ "NaN", 0, 1, 1, "unexpected 'N', expected a value", "" },
	{ "'a'", 0, 1, 1, "unexpected ''', expected a value", "" },
	{ "tru", 0, 1, 4, "unexpected end of input, expected 'true'", "" },
	{ "nul1", 0, 1, 4, "unexpected '1', expected 'null'", "" },
	{ "[fals]", 0, 1, 6, "unexpected ']', expected 'false'", "/0" },
	{ "", 0, 1, 1, "unexpected end of input, expected a value", "" },
	{ " \n ", 0, 2, 2, "unexpected end of input, expected a value", "" },
	{ "\xef\xbb\xbf{}", 0, 1, 1, "byte order mark at start of input", "" },
	{ "\xc2\xa0[]", 0, 1, 1, "unexpected byte 0xC2, expected a value", "" },
	{ "[1,\f2]", 0, 1, 4, "unexpected byte 0x0C, expected a value", "/1" },
	{ "[1,\r\n 2,\r\n x]", 0, 3, 2, "unexpected 'x', expected a value", "/2" },
	{ "\"\\x\"", 0, 1, 2, "invalid escape \\x", "" },
	{ "\"\\'\"", 0, 1, 2, "invalid escape \\'", "" },
	{ "\"\\\x01\"", 0, 1, 2, "invalid escape: backslash followed by byte 0x01", "" },
	{ "\"abc", 0, 1, 1, "unterminated string", "" },
	{ "[\"abc\\", 0, 1, 2, "unterminated string", "/0" },
	{ "\"\\u12", 0, 1, 1, "unterminated string", "" },
	{ "\"\\u12G4\"", 0, 1, 6, "invalid \\u escape: hex digit expected", "" },
	{ "{\"a\" 1}", 0, 1, 6, "unexpected '1', expected ':' after the member name", "" },
	{ "{1:2}", 0, 1, 2, "unexpected '1', expected a member name", "" },
	{ "{", 0, 1, 2, "unexpected end of input, expected a member name", "" },
	{ "[1 2]", 0, 1, 4, "unexpected '2', expected ',' or ']'", "" },
	{ "[1", 0, 1, 3, "unexpected end of input, expected ',' or ']'", "" },
	{ "{\"a\":1 \"b\":2}", 0, 1, 8, "unexpected '\"', expected ',' or '}'", "" },
};

static void test_refusals(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	size_t i;

	(void)state;
	isim_buf_puts(&b, "kept");
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		size_t len = refusals[i].len ? refusals[i].len : strlen(refusals[i].in);
		cJSON *tree;

		assert_int_equal(isim_jcs_canonicalize(refusals[i].in, len, "doc.json", &b, &err), -1);
		if (strcmp(err.msg, refusals[i].msg) != 0 || err.line != refusals[i].line ||
		    err.column != refusals[i].column)
			fail_msg("case %zu: got %d:%d: %s, want %d:%d: %s", i, err.line, err.column, err.msg,
				 refusals[i].line, refusals[i].column, refusals[i].msg);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(err.path, "doc.json");
		assert_string_equal(err.pointer, refusals[i].pointer);
		/* A refusal leaves the output as it was. */
		assert_string_equal(b.s, "kept");
		assert_int_equal(b.len, 4);

		/* The parser for untrusted documents refuses the same way. */
		tree = parse(refusals[i].in, len, "doc.json", &err);
		assert_null(tree);
		assert_string_equal(err.msg, refusals[i].msg);
		assert_int_equal(err.line, refusals[i].line);
		assert_int_equal(err.column, refusals[i].column);
	}
	isim_buf_free(&b);
	print_message("# %zu refusal cases\n", i);
}

static void test_error_format(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	const char *in;
	char msg[2048];

	(void)state;
	in = "{\n\"a\":1,\n\"a\":1}";
	assert_int_equal(isim_jcs_canonicalize(in, strlen(in), "node.json", &b, &err), -1);
	isim_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "node.json:3:1: /a: duplicate member name \"a\"");
	assert_int_equal(isim_jcs_canonicalize("[1e999]", strlen("[1e999]"), NULL, &b, &err), -1);
	assert_string_equal(err.path, "");
	assert_string_equal(err.msg, "number out of range: 1e999");
	assert_null(b.s);
}

static char *nested(const char *open, const char *inner, const char *close, int depth)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	char *s = malloc((lo + lc) * (size_t)depth + li + 1), *p = s;
	int i;

	assert_non_null(s);
	for (i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static void test_depth(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	char *s, *got;

	(void)state;
	s = nested("[", "", "]", ISIM_JCS_MAX_DEPTH);
	got = canon(s);
	assert_string_equal(got, s);
	free(got);
	free(s);

	s = nested("[", "", "]", ISIM_JCS_MAX_DEPTH + 1);
	assert_int_equal(isim_jcs_canonicalize(s, strlen(s), "deep.json", &b, &err), -1);
	assert_string_equal(err.msg, "nesting deeper than 256 levels");
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, ISIM_JCS_MAX_DEPTH + 1);
	assert_null(parse(s, strlen(s), "deep.json", &err));
	assert_string_equal(err.msg, "nesting deeper than 256 levels");
	free(s);

	s = nested("{\"a\":", "1", "}", ISIM_JCS_MAX_DEPTH);
	got = canon(s);
	assert_string_equal(got, s);
	free(got);
	free(s);

	s = nested("{\"a\":[", "{}", "]}", ISIM_JCS_MAX_DEPTH / 2);
	assert_int_equal(isim_jcs_canonicalize(s, strlen(s), "deep.json", &b, &err), -1);
	assert_string_equal(err.msg, "nesting deeper than 256 levels");
	assert_int_equal(err.column, 6 * (ISIM_JCS_MAX_DEPTH / 2) + 1);
	free(s);

	/* Far past the bound: refused, not a stack overflow. */
	s = nested("[", "", "]", 100000);
	assert_int_equal(isim_jcs_canonicalize(s, strlen(s), "deep.json", &b, &err), -1);
	assert_int_equal(err.column, ISIM_JCS_MAX_DEPTH + 1);
	free(s);
	assert_null(b.s);
}

/* RFC 8785 section 3.2.3: members sort by UTF-16 code units, so U+1F600
 * (high surrogate 0xD83D) comes before U+E000, unlike in code point order. */
static void test_sort_order(void **state)
{
	char *got;

	(void)state;
	got = canon("{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"\\uffff\":3,\"\\u00e9\":4,\"z\":5,"
		    "\"\":6,\"aa\":7,\"a\":8,\"e\\u0301\":9,\"A\":10}");
	assert_string_equal(got, "{\"\":6,\"A\":10,\"a\":8,\"aa\":7,\"e\xcc\x81\":9,\"z\":5,"
				 "\"\xc3\xa9\":4,\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1,"
				 "\"\xef\xbf\xbf\":3}");
	free(got);
	/* Nested objects are sorted too; arrays keep their order. */
	got = canon("{\"b\":[3,1,{\"y\":0,\"x\":0}],\"a\":{\"d\":{},\"c\":[]}}");
	assert_string_equal(got, "{\"a\":{\"c\":[],\"d\":{}},\"b\":[3,1,{\"x\":0,\"y\":0}]}");
	free(got);
}

static void test_strings(void **state)
{
	/* Controls escaped, the short forms where JSON has them and lowercase
	 * hex otherwise; DEL, '/', U+2028 and everything else as UTF-8. */
	static const char in[] = "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000B"
				 "\\f\\r\\u000e\\u000F\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
				 "\\u0018\\u0019\\u001a\\u001B\\u001c\\u001d\\u001e\\u001f\x7f\\/\\u2028"
				 "\\\"\\\\\\u00e9\\u20AC\\ud834\\udd1e\"";
	size_t len;
	char *got;

	(void)state;
	got = canon_n(in, sizeof(in) - 1, &len);
	assert_string_equal(got, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t"
				 "\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
				 "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
				 "\\u001e\\u001f\x7f/\xe2\x80\xa8\\\"\\\\\xc3\xa9\xe2\x82\xac"
				 "\xf0\x9d\x84\x9e\"");
	assert_fixed_point(got, len);
	free(got);

	/* U+0000 may appear in a member name. */
	got = canon("{\"a\\u0000b\":\"\",\"a\":[]}");
	assert_string_equal(got, "{\"a\":[],\"a\\u0000b\":\"\"}");
	free(got);

	/* Largest code points, escaped and literal, and whitespace kept. */
	got = canon(" [ \"\\udbff\\udfff\" , \"\xf4\x8f\xbf\xbf\" , \" \\t \" ] \r\n");
	assert_string_equal(got, "[\"\xf4\x8f\xbf\xbf\",\"\xf4\x8f\xbf\xbf\",\" \\t \"]");
	free(got);

	got = canon("[true,false,null,\"\",{},[]]");
	assert_string_equal(got, "[true,false,null,\"\",{},[]]");
	free(got);
}

static void test_appends(void **state)
{
	const char *in = "{ \"b\": 1, \"a\": 2 }\n";
	struct isim_buf b = { 0 };
	struct isim_error err;

	(void)state;
	isim_buf_puts(&b, "sig:");
	assert_int_equal(isim_jcs_canonicalize(in, strlen(in), "x", &b, &err), 0);
	assert_string_equal(b.s, "sig:{\"a\":2,\"b\":1}");
	assert_int_equal(b.len, 17);
	isim_buf_free(&b);
}

static void test_parse_tree(void **state)
{
	const char *in = "{\"b\":[1,2.5,\"x\"],\"a\":{\"\\u00e9\":null,\"t\":true},\"n\":-0}";
	struct isim_error err;
	cJSON *tree, *b, *a;

	(void)state;
	tree = parse(in, strlen(in), "d.json", &err);
	assert_non_null(tree);
	/* members keep document order */
	assert_string_equal(tree->child->string, "b");
	b = cJSON_GetObjectItemCaseSensitive(tree, "b");
	assert_int_equal(cJSON_GetArraySize(b), 3);
	assert_true(cJSON_GetArrayItem(b, 1)->valuedouble == 2.5);
	assert_string_equal(cJSON_GetArrayItem(b, 2)->valuestring, "x");
	a = cJSON_GetObjectItemCaseSensitive(tree, "a");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "\xc3\xa9")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "t")));
	cJSON_Delete(tree);

	/* cJSON strings end at U+0000, so that parser refuses it. */
	assert_null(parse("[\"ab\\u0000\"]", 12, "d.json", &err));
	assert_string_equal(err.msg, "\\u0000 in a string is not supported here");
	assert_int_equal(err.column, 5);
	assert_null(parse("{\"\\u0000\":1}", 12, "d.json", &err));
	assert_int_equal(err.column, 3);
	assert_string_equal(err.path, "d.json");
}

static void test_from_cjson(void **state)
{
	struct isim_error err;
	cJSON *d, *r;
	char *got;

	(void)state;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "node_id", "n1");
	r = cJSON_AddArrayToObject(d, "ranges");
	cJSON_AddItemToArray(r, cJSON_CreateString("10.0.0.0/24"));
	cJSON_AddItemToArray(r, cJSON_CreateString("fd00::/64"));
	cJSON_AddNumberToObject(d, "issued", 1700000000);
	cJSON_AddNumberToObject(d, "weight", 0.1 + 0.2);
	cJSON_AddNumberToObject(d, "big", 1e21);
	cJSON_AddNullToObject(d, "z");
	cJSON_AddTrueToObject(d, "a");
	cJSON_AddStringToObject(d, "\xe2\x82\xac", "line\n\"q\"");
	got = from_tree(d, &err);
	assert_non_null(got);
	assert_string_equal(got, "{\"a\":true,\"big\":1e+21,\"issued\":1700000000,\"node_id\":\"n1\","
				 "\"ranges\":[\"10.0.0.0/24\",\"fd00::/64\"],"
				 "\"weight\":0.30000000000000004,\"z\":null,"
				 "\"\xe2\x82\xac\":\"line\\n\\\"q\\\"\"}");
	assert_fixed_point(got, strlen(got));
	free(got);
	cJSON_Delete(d);
}

static void expect_tree_refused(cJSON *d, const char *pointer, const char *msg)
{
	struct isim_buf b = { 0 };
	struct isim_error err;

	isim_buf_puts(&b, "kept");
	assert_int_equal(isim_jcs_from_cjson(d, &b, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_string_equal(err.pointer, pointer);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(b.s, "kept");
	isim_buf_free(&b);
	cJSON_Delete(d);
}

static void test_from_cjson_refusals(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_error err;
	cJSON *d, *a, *o;
	int i;

	(void)state;
	d = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(d, "a");
	cJSON_AddItemToArray(a, cJSON_CreateNumber(1));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	expect_tree_refused(d, "/a/1", "number is not finite: NaN");

	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "a/b~", INFINITY);
	expect_tree_refused(d, "/a~1b~0", "number is not finite: Infinity");

	d = cJSON_CreateArray();
	cJSON_AddItemToArray(d, cJSON_CreateNumber(-INFINITY));
	expect_tree_refused(d, "/0", "number is not finite: -Infinity");

	d = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(d, "o");
	cJSON_AddNumberToObject(o, "k", 1);
	cJSON_AddNumberToObject(o, "j", 1);
	cJSON_AddNumberToObject(o, "k", 2);
	expect_tree_refused(d, "/o/k", "duplicate member name \"k\"");

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "s", "\xc0\xaf");
	expect_tree_refused(d, "/s", "invalid UTF-8 byte 0xC0 (overlong encoding) in string");

	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "ok\xed\xa0\x80", "x");
	expect_tree_refused(d, "/ok\xed\xa0\x80",
			    "invalid UTF-8 byte 0xA0 after 0xED (surrogate encoded in UTF-8) "
			    "in member name");

	d = cJSON_CreateObject();
	cJSON_AddRawToObject(d, "r", "1");
	expect_tree_refused(d, "/r", "raw JSON text cannot be canonicalized");

	/* A member replaced through a pointer has no name. */
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "a", 1);
	assert_true(cJSON_ReplaceItemViaPointer(d, d->child, cJSON_CreateNumber(2)));
	expect_tree_refused(d, "/", "member name without a value");

	d = cJSON_CreateArray();
	for (o = d, i = 0; i < ISIM_JCS_MAX_DEPTH; i++) {
		a = cJSON_CreateArray();
		cJSON_AddItemToArray(o, a);
		o = a;
	}
	/* 257 levels: the innermost array is refused. */
	assert_int_equal(isim_jcs_from_cjson(d, &b, &err), -1);
	assert_string_equal(err.msg, "nesting deeper than 256 levels");
	assert_memory_equal(err.pointer, "/0/0/0/0", 8);
	/* 256 levels are accepted. */
	assert_int_equal(isim_jcs_from_cjson(d->child, &b, &err), 0);
	assert_int_equal(b.len, 2 * ISIM_JCS_MAX_DEPTH);
	isim_buf_free(&b);
	cJSON_Delete(d);

	assert_int_equal(isim_jcs_from_cjson(NULL, &b, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_INTERNAL);
}

static char *without(const cJSON *d, const char *name, struct isim_error *err)
{
	struct isim_buf b = { 0 };

	if (isim_jcs_from_cjson_without(d, name, &b, err) < 0) {
		isim_buf_free(&b);
		return NULL;
	}
	return isim_buf_take(&b);
}

static void same_text(char *got, char *want)
{
	assert_non_null(got);
	assert_non_null(want);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* Left out, a member is as if deleted: its first occurrence only, a
 * name it does not have leaves the whole, and the members after it are
 * still checked (a duplicate is named by its own pointer). */
static void test_from_cjson_without(void **state)
{
	struct isim_error err;
	cJSON *d, *att;
	char *got;

	(void)state;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "node_id", "n1");
	att = cJSON_AddObjectToObject(d, "attestation");
	cJSON_AddStringToObject(att, "signature", "c2ln");
	cJSON_AddNumberToObject(d, "issued", 1);
	got = without(d, "attestation", &err);
	assert_non_null(got);
	assert_string_equal(got, "{\"issued\":1,\"node_id\":\"n1\"}");
	free(got);
	got = without(d, "absent", &err);
	same_text(got, from_tree(d, &err));
	/* The same tree with the member deleted gives the same text. */
	got = without(d, "node_id", &err);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "node_id");
	same_text(got, from_tree(d, &err));
	cJSON_AddNumberToObject(d, "issued", 2);
	assert_null(without(d, "attestation", &err));
	assert_string_equal(err.msg, "duplicate member name \"issued\"");
	assert_string_equal(err.pointer, "/issued");
	/* Two of the left-out name: the second stays. */
	cJSON_DeleteItemFromObjectCaseSensitive(d, "issued");
	cJSON_DeleteItemFromObjectCaseSensitive(d, "issued");
	cJSON_AddNumberToObject(d, "attestation", 3);
	got = without(d, "attestation", &err);
	assert_non_null(got);
	assert_string_equal(got, "{\"attestation\":3}");
	free(got);
	cJSON_Delete(d);
	/* Not an object: the whole. */
	d = cJSON_CreateArray();
	cJSON_AddItemToArray(d, cJSON_CreateNumber(1));
	got = without(d, "attestation", &err);
	assert_non_null(got);
	assert_string_equal(got, "[1]");
	free(got);
	cJSON_Delete(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_number_bits),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_sort_order),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_parse_tree),
		cmocka_unit_test(test_from_cjson),
		cmocka_unit_test(test_from_cjson_refusals),
		cmocka_unit_test(test_from_cjson_without),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
