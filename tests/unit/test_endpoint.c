/* SPDX-License-Identifier: MIT */
/* host:port endpoints: what is an address, a name and a port, with the
 * message for each refusal; and the node descriptor schema refusing the
 * endpoints its pattern alone let through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isim/endpoint.h"
#include "isim/json.h"
#include "isim/schema.h"

struct good_case {
	const char *in;
	int family;
	const char *host;
	unsigned port;
};

static const struct good_case good[] = {
	{ "192.0.2.1:51820", AF_INET, "192.0.2.1", 51820 },
	{ "0.0.0.0:1", AF_INET, "0.0.0.0", 1 },
	{ "255.255.255.255:65535", AF_INET, "255.255.255.255", 65535 },
	{ "[2001:db8::1]:8443", AF_INET6, "2001:db8::1", 8443 },
	{ "[::]:443", AF_INET6, "::", 443 },
	{ "[::ffff:192.0.2.1]:80", AF_INET6, "::ffff:192.0.2.1", 80 },
	{ "[fe80::1:2:3:4]:51820", AF_INET6, "fe80::1:2:3:4", 51820 },
	{ "node-a.example.org:51820", AF_UNSPEC, "node-a.example.org", 51820 },
	{ "localhost:22", AF_UNSPEC, "localhost", 22 },
	{ "3com.example:80", AF_UNSPEC, "3com.example", 80 }, /* RFC 1123 lets a label start with a digit */
	{ "x:1", AF_UNSPEC, "x", 1 },
	{ "A-B.c0m:9", AF_UNSPEC, "A-B.c0m", 9 },
};

struct bad_case {
	const char *in;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "999.999.999.999:80", "'999.999.999.999' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "256.1.1.1:80", "'256.1.1.1' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "01.2.3.4:80", "'01.2.3.4' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "1.2.3:80", "'1.2.3' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "1.2.3.4.5:80", "'1.2.3.4.5' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "1..2.3:80", "'1..2.3' is not an IPv4 address (four parts 0 to 255, no leading zeros)" },
	{ "[:::::]:80", "':::::' is not an IPv6 address" },
	{ "[2001:db8::g]:80", "'2001:db8::g' is not an IPv6 address" },
	{ "[fe80::1%eth0]:80", "'fe80::1%eth0' is not an IPv6 address" },
	{ "[192.0.2.1]:80", "'192.0.2.1' is not an IPv6 address" },
	{ "[]:80", "'' is not an IPv6 address" },
	{ "[::1:80", "'[' without ']' around an IPv6 address" },
	{ "[::1]80", "expected ':' and a port after ']'" },
	{ "[::1]", "expected ':' and a port after ']'" },
	{ "::1:80", "an IPv6 address must be in brackets: [address]:port" },
	{ "2001:db8::1:51820", "an IPv6 address must be in brackets: [address]:port" },
	{ "example.org", "expected host:port" },
	{ ":80", "no host before ':'" },
	{ "192.0.2.1:", "no port after ':'" },
	{ "192.0.2.1:0", "port 0 is out of range (1 to 65535)" },
	{ "192.0.2.1:65536", "port 65536 is out of range (1 to 65535)" },
	{ "192.0.2.1:99999999999999999999", "port 99999999999999999999 is out of range (1 to 65535)" },
	{ "192.0.2.1:080", "port '080' has a leading zero" },
	{ "192.0.2.1:+80", "port '+80' is not a decimal number" },
	{ "192.0.2.1:8 0", "port '8 0' is not a decimal number" },
	{ "-a.example:80", "host name '-a.example' has a label that starts or ends with '-'" },
	{ "a-.example:80", "host name 'a-.example' has a label that starts or ends with '-'" },
	{ "a..example:80", "host name 'a..example' has an empty label" },
	{ "example.org.:80", "host name 'example.org.' has an empty label" },
	{ "under_score.example:80",
	  "host name 'under_score.example' holds a character other than letters, digits, '-' and '.'" },
	{ "caf\xc3\xa9.example:80",
	  "host name 'caf\xc3\xa9.example' holds a character other than letters, digits, '-' and '.'" },
	{ "example.123:80", "host name 'example.123' ends in an all-numeric label" },
	{ "1.2.3.4a.5:80", "host name '1.2.3.4a.5' ends in an all-numeric label" },
};

static void test_good(void **state)
{
	struct isim_endpoint ep;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		isim_error_clear(&err);
		if (isim_endpoint_parse(good[i].in, &ep, &err) < 0)
			fail_msg("'%s' refused: %s", good[i].in, err.msg);
		assert_int_equal(ep.family, good[i].family);
		assert_string_equal(ep.host, good[i].host);
		assert_int_equal(ep.port, good[i].port);
	}
	/* Checking only. */
	assert_int_equal(isim_endpoint_parse("192.0.2.1:1", NULL, NULL), 0);
}

static void test_bad(void **state)
{
	struct isim_endpoint ep = { .port = 7 };
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		isim_error_clear(&err);
		if (isim_endpoint_parse(bad[i].in, &ep, &err) == 0)
			fail_msg("'%s' accepted", bad[i].in);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		if (strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("'%s': got \"%s\", expected \"%s\"", bad[i].in, err.msg, bad[i].msg);
		/* A refusal leaves *out alone. */
		assert_int_equal(ep.port, 7);
	}
}

/* Host names at the limits of RFC 1123: 63-byte labels, 253 bytes. */
static void test_name_limits(void **state)
{
	char s[400];
	struct isim_error err;

	(void)state;
	memset(s, 'a', 63);
	strcpy(s + 63, ".example:80");
	assert_int_equal(isim_endpoint_parse(s, NULL, &err), 0);
	memset(s, 'a', 64);
	strcpy(s + 64, ".example:80");
	assert_int_equal(isim_endpoint_parse(s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "has a label longer than 63 bytes"));
	/* 63 * 4 + 1 = 253 bytes: four labels of 63 and a one-byte one. */
	memset(s, 'a', 253);
	s[63] = s[127] = s[191] = s[251] = '.';
	strcpy(s + 253, ":80");
	assert_int_equal(isim_endpoint_parse(s, NULL, &err), 0);
	memmove(s + 254, s + 253, 4);
	s[253] = 'b';
	assert_int_equal(isim_endpoint_parse(s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is longer than 253 bytes"));
}

/* The descriptor schema checks every endpoint with the format. */
static void test_descriptor_schema(void **state)
{
	static const char *const fields[] = { "wireguard", "control_mtls" };
	static const char *const refused[] = { "[2001:db8::1]:70000", "999.999.999.999:51820", "[:::::]:51820",
					       "[2001:db8::1]:0" };
	static const char text[] =
		"{\"node_id\":\"node-a\","
		"\"identity\":{\"wg_public_key\":\"mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=\","
		"\"ed25519_public_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"},"
		"\"endpoints\":{\"wireguard\":\"[2001:db8::1]:51820\",\"control_mtls\":\"node-a.example.org:8443\"},"
		"\"allowed_ips\":[\"10.100.0.5/32\"],"
		"\"issued_at\":\"2026-01-01T00:00:00Z\",\"expires_at\":\"2026-01-02T00:00:00Z\"}";
	const char *root = getenv("ISIM_ROOT");
	struct isim_schema *schema;
	struct isim_error err;
	cJSON *sdoc, *doc, *ep;
	char path[1024], expected[256], ptr[64];
	size_t i, j;

	(void)state;
	snprintf(path, sizeof(path), "%s/schemas/node-descriptor.schema.json", root ? root : ".");
	isim_error_clear(&err);
	if (isim_json_load_file(path, &sdoc, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(isim_schema_compile(sdoc, &schema, &err), 0);
	assert_int_equal(isim_json_parse(text, strlen(text), "d.json", &doc, &err), 0);
	assert_int_equal(isim_schema_check(schema, doc, &err), 0);
	ep = cJSON_GetObjectItemCaseSensitive(doc, "endpoints");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		cJSON *item = cJSON_GetObjectItemCaseSensitive(ep, fields[i]);
		char *keep = strdup(item->valuestring);

		assert_non_null(keep);
		for (j = 0; j < sizeof(refused) / sizeof(refused[0]); j++) {
			assert_non_null(cJSON_SetValuestring(item, refused[j]));
			isim_error_clear(&err);
			assert_int_equal(isim_schema_check(schema, doc, &err), -1);
			assert_int_equal(err.kind, ISIM_ERR_DATA);
			snprintf(ptr, sizeof(ptr), "/endpoints/%s", fields[i]);
			assert_string_equal(err.pointer, ptr);
			snprintf(expected, sizeof(expected), "format: \"%s\" is not a valid host-port", refused[j]);
			assert_string_equal(err.msg, expected);
		}
		assert_non_null(cJSON_SetValuestring(item, keep));
		free(keep);
	}
	assert_int_equal(isim_schema_check(schema, doc, &err), 0);
	cJSON_Delete(doc);
	isim_schema_free(schema);
	cJSON_Delete(sdoc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_descriptor_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
