/* SPDX-License-Identifier: MIT */
/* WireGuard devices over UAPI: the exact "set=1" text for each kind of
 * change, a "get=1" reply read back (the private key turned into the
 * public key), every refusal of a malformed reply, the checks made before
 * a change is sent, and the socket exchange against a canned device. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "isim/wg.h"
#include "wg-int.h"
#include "testutil.h"

/* RFC 7748 section 6.1: Alice's X25519 private key and its public key. */
#define SK_HEX "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define PK_HEX "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define K1_HEX "0101010101010101010101010101010101010101010101010101010101010101"
#define K2_HEX "0202020202020202020202020202020202020202020202020202020202020202"
#define K3_HEX "0303030303030303030303030303030303030303030303030303030303030303"
#define PSK_HEX "abababababababababababababababababababababababababababababababab"

static void key_fill(uint8_t key[static ISIM_WG_KEY_LEN], uint8_t v)
{
	memset(key, v, ISIM_WG_KEY_LEN);
}

#define P tu_prefix

static void set_v4(union isim_wg_endpoint *ep, const char *a, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->in.sin_family = AF_INET;
	ep->in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &ep->in.sin_addr), 1);
}

static void set_v6(union isim_wg_endpoint *ep, const char *a, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->in6.sin6_family = AF_INET6;
	ep->in6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &ep->in6.sin6_addr), 1);
}

static void test_format_set(void **state)
{
	struct isim_prefix a1[2], a2[1], a3[1];
	struct isim_wg_peer c[3];
	struct isim_buf b = { 0 };
	struct isim_error err = { 0 };

	(void)state;
	memset(c, 0, sizeof(c));
	a1[0] = P("10.100.0.2/32");
	a1[1] = P("fd10:100::2/128");
	a2[0] = P("10.200.0.0/16");
	a3[0] = P("10.0.0.0/8");
	key_fill(c[0].public_key, 1);
	set_v4(&c[0].endpoint, "10.99.0.2", 51820);
	c[0].flags = ISIM_WG_PEER_HAS_KEEPALIVE;
	c[0].keepalive = 25;
	c[0].allowed = a1;
	c[0].nallowed = 2;
	key_fill(c[1].public_key, 2);
	set_v6(&c[1].endpoint, "fd10:99::2", 443);
	c[1].flags = ISIM_WG_PEER_REPLACE_ALLOWED | ISIM_WG_PEER_UPDATE_ONLY;
	c[1].allowed = a2;
	c[1].nallowed = 1;
	key_fill(c[2].public_key, 3);
	c[2].flags = ISIM_WG_PEER_REMOVE | ISIM_WG_PEER_HAS_KEEPALIVE; /* remove: nothing else is sent */
	set_v4(&c[2].endpoint, "10.99.0.3", 1);
	c[2].allowed = a3;
	c[2].nallowed = 1;
	assert_int_equal(isim_wg_uapi_format_set(c, 3, &b, &err), 0);
	assert_string_equal(b.s, "set=1\n"
				 "public_key=" K1_HEX "\n"
				 "endpoint=10.99.0.2:51820\n"
				 "persistent_keepalive_interval=25\n"
				 "allowed_ip=10.100.0.2/32\n"
				 "allowed_ip=fd10:100::2/128\n"
				 "public_key=" K2_HEX "\n"
				 "update_only=true\n"
				 "replace_allowed_ips=true\n"
				 "endpoint=[fd10:99::2]:443\n"
				 "allowed_ip=10.200.0.0/16\n"
				 "public_key=" K3_HEX "\n"
				 "remove=true\n"
				 "\n");
	isim_buf_free(&b);

	/* keepalive 0 turns it off; replace with no prefixes empties them */
	memset(c, 0, sizeof(c));
	key_fill(c[0].public_key, 1);
	c[0].flags = ISIM_WG_PEER_HAS_KEEPALIVE | ISIM_WG_PEER_REPLACE_ALLOWED;
	assert_int_equal(isim_wg_uapi_format_set(c, 1, &b, &err), 0);
	assert_string_equal(b.s, "set=1\npublic_key=" K1_HEX "\nreplace_allowed_ips=true\n"
				 "persistent_keepalive_interval=0\n\n");
	isim_buf_free(&b);

	/* appends to what is already there */
	isim_buf_puts(&b, "X");
	assert_int_equal(isim_wg_uapi_format_set(c, 0, &b, &err), 0);
	assert_string_equal(b.s, "Xset=1\n\n");
	isim_buf_free(&b);
}

static void b64(const uint8_t key[static ISIM_WG_KEY_LEN], char out[static 45])
{
	sodium_bin2base64(out, 45, key, ISIM_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

static void expect_usage(const struct isim_wg_peer *c, size_t n, const char *msg)
{
	struct isim_buf b = { 0 };
	struct isim_error err = { 0 };

	assert_int_equal(isim_wg_uapi_format_set(c, n, &b, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_string_equal(err.msg, msg);
	assert_null(b.s); /* nothing formatted */
	isim_buf_free(&b);
}

static void test_check_changes(void **state)
{
	struct isim_wg_peer c[3];
	struct isim_prefix pr;
	char k[45], msg[256];

	(void)state;
	memset(c, 0, sizeof(c));
	key_fill(c[0].public_key, 1);
	key_fill(c[1].public_key, 2);
	key_fill(c[2].public_key, 1);
	b64(c[0].public_key, k);
	snprintf(msg, sizeof(msg), "peer %s: changed twice in one set", k);
	expect_usage(c, 3, msg);

	memset(c, 0, sizeof(c));
	key_fill(c[0].public_key, 1);
	pr = P("10.0.0.0/8");
	pr.addr[3] = 1;
	c[0].allowed = &pr;
	c[0].nallowed = 1;
	snprintf(msg, sizeof(msg), "peer %s: allowed IP '10.0.0.1/8' has address bits set past its length", k);
	expect_usage(c, 1, msg);

	pr = P("10.0.0.0/8");
	pr.len = 33;
	snprintf(msg, sizeof(msg), "peer %s: allowed IP with prefix length 33", k);
	expect_usage(c, 1, msg);

	pr = P("::/0");
	pr.len = 129;
	snprintf(msg, sizeof(msg), "peer %s: allowed IP with prefix length 129", k);
	expect_usage(c, 1, msg);

	pr.family = AF_UNIX;
	snprintf(msg, sizeof(msg), "peer %s: allowed IP of address family %u, neither IPv4 nor IPv6", k, AF_UNIX);
	expect_usage(c, 1, msg);

	c[0].nallowed = 0;
	c[0].endpoint.sa.sa_family = AF_UNIX;
	snprintf(msg, sizeof(msg), "peer %s: endpoint of address family %u, neither IPv4 nor IPv6", k, AF_UNIX);
	expect_usage(c, 1, msg);
}

/* A reply as wireguard-go writes it. */
static const char reply[] = "private_key=" SK_HEX "\n"
			    "listen_port=51820\n"
			    "fwmark=0\n"
			    "public_key=" K1_HEX "\n"
			    "preshared_key=" PSK_HEX "\n"
			    "protocol_version=1\n"
			    "endpoint=10.99.0.2:51820\n"
			    "last_handshake_time_sec=1764800000\n"
			    "last_handshake_time_nsec=123456789\n"
			    "tx_bytes=1234\n"
			    "rx_bytes=18446744073709551615\n"
			    "persistent_keepalive_interval=25\n"
			    "allowed_ip=10.100.0.2/32\n"
			    "allowed_ip=fd10:100::/64\n"
			    "public_key=" K2_HEX "\n"
			    "protocol_version=1\n"
			    "endpoint=[fd10:99::2]:443\n"
			    "last_handshake_time_sec=0\n"
			    "last_handshake_time_nsec=0\n"
			    "tx_bytes=0\n"
			    "rx_bytes=0\n"
			    "persistent_keepalive_interval=0\n"
			    "some_future_key=whatever it says\n"
			    "public_key=" K3_HEX "\n"
			    "errno=0\n"
			    "\n";

static void test_parse_get(void **state)
{
	struct isim_wg_device *d = NULL;
	struct isim_error err = { 0 };
	uint8_t pk[ISIM_WG_KEY_LEN], k[ISIM_WG_KEY_LEN];
	char text[ISIM_PREFIX_STRLEN], a[INET6_ADDRSTRLEN];
	struct isim_wg_peer *p;

	(void)state;
	assert_int_equal(sodium_hex2bin(pk, sizeof(pk), PK_HEX, 64, NULL, NULL, NULL), 0);
	assert_int_equal(isim_wg_uapi_parse_get(reply, sizeof(reply) - 1, &d, &err), 0);
	assert_true(d->has_public_key);
	assert_memory_equal(d->public_key, pk, ISIM_WG_KEY_LEN);
	assert_int_equal(d->listen_port, 51820);
	assert_int_equal(d->fwmark, 0);
	assert_int_equal(d->npeers, 3);

	p = &d->peers[0];
	key_fill(k, 1);
	assert_memory_equal(p->public_key, k, ISIM_WG_KEY_LEN);
	assert_ptr_equal(isim_wg_device_peer(d, k), p);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(p->endpoint.in.sin_port), 51820);
	assert_string_equal(inet_ntop(AF_INET, &p->endpoint.in.sin_addr, a, sizeof(a)), "10.99.0.2");
	assert_int_equal(p->last_handshake, 1764800000);
	assert_int_equal(p->tx_bytes, 1234);
	assert_true(p->rx_bytes == UINT64_MAX);
	assert_int_equal(p->keepalive, 25);
	assert_int_equal(p->nallowed, 2);
	isim_prefix_format(&p->allowed[0], text);
	assert_string_equal(text, "10.100.0.2/32");
	isim_prefix_format(&p->allowed[1], text);
	assert_string_equal(text, "fd10:100::/64");

	p = &d->peers[1];
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(p->endpoint.in6.sin6_port), 443);
	assert_string_equal(inet_ntop(AF_INET6, &p->endpoint.in6.sin6_addr, a, sizeof(a)), "fd10:99::2");
	assert_int_equal(p->nallowed, 0);
	assert_int_equal(p->last_handshake, 0);

	p = &d->peers[2];
	assert_int_equal(p->endpoint.sa.sa_family, AF_UNSPEC);
	key_fill(k, 4);
	assert_null(isim_wg_device_peer(d, k));
	isim_wg_device_free(d);

	/* a device without a key or peers */
	assert_int_equal(isim_wg_uapi_parse_get("listen_port=0\nerrno=0\n\n", 23, &d, &err), 0);
	assert_false(d->has_public_key);
	assert_int_equal(d->npeers, 0);
	isim_wg_device_free(d);
	isim_wg_device_free(NULL);
}

static void test_parse_get_errno(void **state)
{
	struct isim_wg_device *d = (struct isim_wg_device *)&d;
	struct isim_error err = { 0 };
	char msg[128];

	(void)state;
	assert_int_equal(isim_wg_uapi_parse_get("errno=-22\n\n", 11, &d, &err), -1);
	assert_null(d);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	snprintf(msg, sizeof(msg), "the device refused the get: %s", strerror(EINVAL));
	assert_string_equal(err.msg, msg);
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_wg_uapi_parse_get("errno=13\n\n", 10, &d, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	snprintf(msg, sizeof(msg), "the device refused the get: %s", strerror(EACCES));
	assert_string_equal(err.msg, msg);
}

static const struct {
	const char *in;
	int line;
	const char *msg;
} malformed[] = {
	{ "", 0, "the reply ends without \"errno=\" and a blank line" },
	{ "listen_port=1\n", 1, "the reply ends without \"errno=\" and a blank line" },
	{ "errno=0\n", 1, "the reply ends without \"errno=\" and a blank line" },
	{ "errno=0\n\nx=1\n", 2, "line 2: a blank line with more after it" },
	{ "errno=0\nx=1\n\n", 2, "line 2: more after \"errno=\" than the blank line" },
	{ "errno=0\n\n\n", 2, "line 2: a blank line with more after it" },
	{ "errno=0", 1, "line 1: no newline at the end of the reply" },
	{ "\nerrno=0\n\n", 1, "line 1: a blank line before \"errno=\"" },
	{ "listen_port\nerrno=0\n\n", 1, "line 1: not key=value" },
	{ "=1\nerrno=0\n\n", 1, "line 1: not key=value" },
	{ "errno=x\n\n", 1, "line 1: 'errno' has a malformed value" },
	{ "errno=\n\n", 1, "line 1: 'errno' has a malformed value" },
	{ "listen_port=65536\nerrno=0\n\n", 1, "line 1: 'listen_port' has a malformed value" },
	{ "listen_port=051820\nerrno=0\n\n", 1, "line 1: 'listen_port' has a malformed value" },
	{ "listen_port=-1\nerrno=0\n\n", 1, "line 1: 'listen_port' has a malformed value" },
	{ "listen_port=1\nlisten_port=2\nerrno=0\n\n", 2, "line 2: 'listen_port' given twice" },
	{ "fwmark=4294967296\nerrno=0\n\n", 1, "line 1: 'fwmark' has a malformed value" },
	{ "private_key=" K1_HEX "0\nerrno=0\n\n", 1, "line 1: 'private_key' has a malformed value" },
	{ "private_key=0101010101010101010101010101010101010101010101010101010101010g01\nerrno=0\n\n", 1,
	  "line 1: 'private_key' has a malformed value" },
	{ "private_key=\nerrno=0\n\n", 1, "line 1: 'private_key' has a malformed value" },
	{ "endpoint=10.0.0.1:1\nerrno=0\n\n", 1, "line 1: 'endpoint' before any public_key" },
	{ "allowed_ip=10.0.0.1/32\nerrno=0\n\n", 1, "line 1: 'allowed_ip' before any public_key" },
	{ "public_key=" K1_HEX "\nlisten_port=1\nerrno=0\n\n", 2, "line 2: device key 'listen_port' after a peer" },
	{ "public_key=" K1_HEX "x\nerrno=0\n\n", 1, "line 1: 'public_key' has a malformed value" },
	{ "public_key=" K1_HEX "\nallowed_ip=10.0.0.1/8\nerrno=0\n\n", 2,
	  "line 2: 'allowed_ip' has a malformed value" },
	{ "public_key=" K1_HEX "\nallowed_ip=10.0.0.0/08\nerrno=0\n\n", 2,
	  "line 2: 'allowed_ip' has a malformed value" },
	{ "public_key=" K1_HEX "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n", 2,
	  "line 2: 'allowed_ip' has a malformed value" },
	{ "public_key=" K1_HEX "\nallowed_ip=10.0.0.0\nerrno=0\n\n", 2, "line 2: 'allowed_ip' has a malformed value" },
	{ "public_key=" K1_HEX "\nendpoint=10.0.0.1\nerrno=0\n\n", 2, "line 2: 'endpoint' has a malformed value" },
	{ "public_key=" K1_HEX "\nendpoint=fd10::1:80\nerrno=0\n\n", 2, "line 2: 'endpoint' has a malformed value" },
	{ "public_key=" K1_HEX "\nendpoint=example.org:80\nerrno=0\n\n", 2,
	  "line 2: 'endpoint' has a malformed value" },
	{ "public_key=" K1_HEX "\nendpoint=10.0.0.1:65536\nerrno=0\n\n", 2,
	  "line 2: 'endpoint' has a malformed value" },
	{ "public_key=" K1_HEX "\nrx_bytes=18446744073709551616\nerrno=0\n\n", 2,
	  "line 2: 'rx_bytes' has a malformed value" },
	{ "public_key=" K1_HEX "\ntx_bytes=1 \nerrno=0\n\n", 2, "line 2: 'tx_bytes' has a malformed value" },
	{ "public_key=" K1_HEX "\ntx_bytes=1\ntx_bytes=1\nerrno=0\n\n", 3, "line 3: 'tx_bytes' given twice" },
	{ "public_key=" K1_HEX "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n", 2,
	  "line 2: 'last_handshake_time_nsec' has a malformed value" },
	{ "public_key=" K1_HEX "\npersistent_keepalive_interval=65536\nerrno=0\n\n", 2,
	  "line 2: 'persistent_keepalive_interval' has a malformed value" },
	{ "public_key=" K1_HEX "\npreshared_key=xyz\nerrno=0\n\n", 2, "line 2: 'preshared_key' has a malformed value" },
	{ "public_key=" K1_HEX "\nprotocol_version=one\nerrno=0\n\n", 2,
	  "line 2: 'protocol_version' has a malformed value" },
	{ "public_key=" K1_HEX "\npublic_key=" K2_HEX "\npublic_key=" K1_HEX "\nerrno=0\n\n", 3,
	  "line 3: peer AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= given twice (first on line 1)" },
};

static void test_parse_get_malformed(void **state)
{
	struct isim_wg_device *d;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		memset(&err, 0, sizeof(err));
		d = (struct isim_wg_device *)&d;
		if (isim_wg_uapi_parse_get(malformed[i].in, strlen(malformed[i].in), &d, &err) != -1)
			fail_msg("accepted: %s", malformed[i].in);
		assert_null(d);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(err.msg, malformed[i].msg);
		assert_int_equal(err.line, malformed[i].line);
	}
	/* a NUL inside a value */
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_wg_uapi_parse_get("public_key=" K1_HEX "\nallowed_ip=10.0.0.0/8\0\nerrno=0\n\n",
						11 + 64 + 1 + 23 + 1 + 10, &d, &err),
			 -1);
	assert_string_equal(err.msg, "line 2: 'allowed_ip' has a malformed value");
}

/* Ten thousand peers: the duplicate check must stay a sort. */
static void test_parse_get_many(void **state)
{
	struct isim_buf b = { 0 };
	struct isim_wg_device *d = NULL;
	struct isim_error err = { 0 };
	uint8_t key[ISIM_WG_KEY_LEN] = { 0 };
	char hex[65];
	unsigned i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		memcpy(key, &i, sizeof(i));
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		isim_buf_printf(&b, "public_key=%s\nallowed_ip=10.%u.%u.%u/32\nrx_bytes=%u\n", hex, i >> 16,
				(i >> 8) & 255, i & 255, i);
	}
	isim_buf_puts(&b, "errno=0\n\n");
	assert_false(b.oom);
	assert_int_equal(isim_wg_uapi_parse_get(b.s, b.len, &d, &err), 0);
	assert_int_equal(d->npeers, 10000);
	assert_int_equal(d->peers[9999].rx_bytes, 9999);
	assert_int_equal(d->peers[9999].nallowed, 1);
	/* Sorted by key, every peer is still found, with what it had, and a
	 * key that is not there is not. */
	isim_wg_device_sort(d);
	assert_true(d->sorted);
	for (i = 0; i < 10000; i += 7) {
		const struct isim_wg_peer *p;

		memcpy(key, &i, sizeof(i));
		p = isim_wg_device_peer(d, key);
		assert_non_null(p);
		assert_memory_equal(p->public_key, key, ISIM_WG_KEY_LEN);
		assert_int_equal(p->rx_bytes, i);
	}
	for (i = 1; i < d->npeers; i++)
		assert_true(memcmp(d->peers[i - 1].public_key, d->peers[i].public_key, ISIM_WG_KEY_LEN) < 0);
	i = 10000;
	memcpy(key, &i, sizeof(i));
	assert_null(isim_wg_device_peer(d, key));
	memset(key, 0xff, sizeof(key));
	assert_null(isim_wg_device_peer(d, key));
	/* Adding a peer undoes the order, and it is found too. */
	assert_non_null(isim_wg_device_add_peer(d));
	assert_false(d->sorted);
	memcpy(d->peers[d->npeers - 1].public_key, key, ISIM_WG_KEY_LEN);
	assert_ptr_equal(isim_wg_device_peer(d, key), &d->peers[d->npeers - 1]);
	isim_wg_device_free(d);
	isim_buf_free(&b);
}

static void test_parse_errno(void **state)
{
	int e = -1;

	(void)state;
	assert_int_equal(isim_wg_uapi_parse_errno("errno=0\n\n", 9, &e), 0);
	assert_int_equal(e, 0);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=-22\n\n", 11, &e), 0);
	assert_int_equal(e, 22);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=71\n\n", 10, &e), 0);
	assert_int_equal(e, 71);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=0\n", 8, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=\n\n", 8, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=-\n\n", 9, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=01\n\n", 10, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=99999\n\n", 13, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("x=1\nerrno=0\n\n", 13, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("errno=0\n\n\n", 10, &e), -1);
	assert_int_equal(isim_wg_uapi_parse_errno("", 0, &e), -1);
}

static void test_open_names(void **state)
{
	static const char *names[] = { "", ".", "..", "a/b", "0123456789abcdef", "wg 0", "wg:0" };
	struct isim_wg *wg = (struct isim_wg *)&wg;
	struct isim_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(isim_wg_open(names[i], "/nonexistent", &wg, &err), -1);
		assert_int_equal(err.kind, ISIM_ERR_USAGE);
		assert_null(wg);
		assert_false(isim_wg_ifname_valid(names[i]));
	}
	assert_true(isim_wg_ifname_valid("wg0"));
	assert_true(isim_wg_ifname_valid("0123456789abcde"));
	assert_string_equal(isim_wg_backend_name(ISIM_WG_UAPI), "uapi");
	assert_string_equal(isim_wg_backend_name(ISIM_WG_NETLINK), "netlink");
}

static void test_open_files(void **state)
{
	const char *dir = *state;
	struct isim_wg *wg = NULL;
	struct isim_error err = { 0 };

	/* no socket: netlink is asked next, and has no such device either */
	assert_int_equal(isim_wg_open("isimtest0", dir, &wg, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	tu_write(dir, "wgf.sock", "");
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_wg_open("wgf", dir, &wg, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.msg, "is a regular file, not the UAPI socket of wgf");
}

/* A device that answers one request per connection with a canned reply,
 * and writes each request it got to req_path. */
static pid_t fake_device(const char *sock, const char *req_path, const char *const *replies, int n)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd, i;
	pid_t pid;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	for (i = 0; i < n; i++) {
		char buf[65536] = { 0 };
		size_t len = 0;
		ssize_t r;
		int fd = accept(lfd, NULL, NULL);
		FILE *f;

		if (fd < 0)
			_exit(1);
		while (len < 2 || buf[len - 1] != '\n' || buf[len - 2] != '\n') {
			r = read(fd, buf + len, sizeof(buf) - len);
			if (r <= 0)
				_exit(2);
			len += (size_t)r;
		}
		f = fopen(req_path, "a");
		if (!f)
			_exit(3);
		fwrite(buf, 1, len, f);
		fclose(f);
		/* in pieces, as a stream may deliver it */
		for (size_t off = 0, rlen = strlen(replies[i]), m; off < rlen; off += m) {
			m = rlen - off < 7 ? rlen - off : 7;
			if (write(fd, replies[i] + off, m) != (ssize_t)m)
				_exit(4);
			usleep(100);
		}
		close(fd);
	}
	_exit(0);
}

static void test_socket(void **state)
{
	const char *dir = *state;
	static const char *replies[] = { reply, "errno=0\n\n", "errno=-22\n\n", "junk\n\n" };
	char sock[256], reqs[256], msg[256];
	struct isim_wg *wg = NULL;
	struct isim_wg_device *d = NULL;
	struct isim_error err = { 0 };
	struct isim_wg_peer c = { 0 };
	uint8_t pk[ISIM_WG_KEY_LEN];
	char *text;
	int status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/wgt.sock", dir);
	snprintf(reqs, sizeof(reqs), "%s/requests", dir);
	pid = fake_device(sock, reqs, replies, 4);
	assert_int_equal(isim_wg_open("wgt", dir, &wg, &err), 0);
	assert_int_equal(isim_wg_backend_of(wg), ISIM_WG_UAPI);
	assert_int_equal(isim_wg_get(wg, &d, &err), 0);
	assert_string_equal(d->name, "wgt");
	assert_int_equal(sodium_hex2bin(pk, sizeof(pk), PK_HEX, 64, NULL, NULL, NULL), 0);
	assert_memory_equal(d->public_key, pk, ISIM_WG_KEY_LEN);
	assert_int_equal(d->npeers, 3);
	isim_wg_device_free(d);

	assert_int_equal(isim_wg_set(wg, &c, 0, &err), 0); /* nothing sent */
	key_fill(c.public_key, 1);
	c.flags = ISIM_WG_PEER_REMOVE;
	assert_int_equal(isim_wg_set(wg, &c, 1, &err), 0);
	assert_int_equal(isim_wg_set(wg, &c, 1, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_IO);
	snprintf(msg, sizeof(msg), "wgt refused the change of 1 peers: %s", strerror(EINVAL));
	assert_string_equal(err.msg, msg);
	memset(&err, 0, sizeof(err));
	assert_int_equal(isim_wg_set(wg, &c, 1, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	isim_wg_close(wg);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	text = tu_read(reqs);
	assert_string_equal(text, "get=1\n\n"
				  "set=1\npublic_key=" K1_HEX "\nremove=true\n\n"
				  "set=1\npublic_key=" K1_HEX "\nremove=true\n\n"
				  "set=1\npublic_key=" K1_HEX "\nremove=true\n\n");
	free(text);
}

/* Keys as wg(8) prints them, and what is refused: another length, padding
 * missing, a character outside base64, a non-canonical last character
 * (its unused bits set). */
static void test_key_parse(void **state)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true },
		{ "/McIl0E0DHd0HMjTrgIbnrYcof+4CS28svOe++WM4mM=", true },
		{ "/McIl0E0DHd0HMjTrgIbnrYcof+4CS28svOe++WM4mN=", false },
		{ "/McIl0E0DHd0HMjTrgIbnrYcof+4CS28svOe++WM4mM", false },
		{ "/McIl0E0DHd0HMjTrgIbnrYcof+4CS28svOe++WM4m=", false },
		{ "_McIl0E0DHd0HMjTrgIbnrYcof-4CS28svOe--WM4mM=", false },
		{ "", false },
	};
	uint8_t k[ISIM_WG_KEY_LEN];
	char back[ISIM_WG_KEY_B64LEN];
	size_t i;

	(void)state;
	assert_false(isim_wg_key_parse(NULL, k));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(isim_wg_key_parse(cases[i].text, k), cases[i].ok);
		if (cases[i].ok) {
			isim_wg_key_b64(k, back);
			assert_string_equal(back, cases[i].text);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_set),
		cmocka_unit_test(test_check_changes),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_get_errno),
		cmocka_unit_test(test_parse_get_malformed),
		cmocka_unit_test(test_parse_get_many),
		cmocka_unit_test(test_parse_errno),
		cmocka_unit_test(test_open_names),
		cmocka_unit_test_setup_teardown(test_open_files, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_socket, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
