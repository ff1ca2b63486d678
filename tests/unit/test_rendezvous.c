/* SPDX-License-Identifier: MIT */
/* The rendezvous: the known-answer table shared with the shell script the
 * images carried before (tests/vectors/rendezvous), the schedule's slots
 * and windows, and datagrams: sealed, opened, and each kind of forgery
 * dropped for its reason. Then isim-rendezvous in-process: addr's known
 * answers and JSON, and command lines refused before anything is opened.
 * The daemon against the kernel is tests/integration/rendezvous.sh; every
 * bad input, rendezvous-errors.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>

#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "isim-rendezvous/rendezvous.h"
#include "isim/rendezvous.h"
#include "testutil.h"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

static void test_known_answers(void **state)
{
	char path[PATH_MAX + 32], line[1024], secret_hex[600], want[64], got[INET6_ADDRSTRLEN];
	uint8_t secret[300], a[16];
	uint64_t epoch, slot;
	int rows = 0;
	FILE *f;

	(void)state;
	assert_true(snprintf(path, sizeof(path), "%s/rendezvous/kat.tsv", tu_vectors()) < (int)sizeof(path));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct isim_rv_keys *k;
		size_t n;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%" SCNu64 "\t%" SCNu64 "\t%599s\t%63s", &epoch, &slot, secret_hex, want),
				 4);
		n = unhex(secret_hex, secret, sizeof(secret));
		assert_int_equal(n * 2, strlen(secret_hex));
		k = isim_rv_keys_new(secret, n);
		assert_non_null(k);
		isim_rv_address(k, epoch, slot, a);
		inet_ntop(AF_INET6, a, got, sizeof(got));
		assert_string_equal(got, want);
		isim_rv_keys_free(k);
		rows++;
	}
	fclose(f);
	assert_true(rows >= 12);
}

static void test_group(void **state)
{
	uint8_t a[16], g[16];
	char text[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "fe80::1234:5678:9abc:def0", a), 1);
	isim_rv_group(a, g);
	inet_ntop(AF_INET6, g, text, sizeof(text));
	/* ipv6-link-local notes: what `ip -6 maddr` lists for that address. */
	assert_string_equal(text, "ff02::1:ffbc:def0");
}

static const struct isim_rv_sched sched = { .epoch_ms = 10000, .slot_ms = 500, .slots = 4 };

static void test_schedule(void **state)
{
	struct isim_rv_slot sl, h[ISIM_RV_HELD_MAX];
	struct isim_rv_sched bad = { .epoch_ms = 1000, .slot_ms = 300, .slots = 4 };
	struct isim_error err;
	size_t n;

	(void)state;
	assert_int_equal(isim_rv_sched_check(&sched, &err), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_rv_sched_check(&bad, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "4 slots of 300 ms do not fit in an epoch of 1000 ms");

	/* 100 s: epoch 10, slot 0; 101.6 s: slot 3; 102.0 s: after the slots. */
	assert_true(isim_rv_slot_at(&sched, 100000, &sl));
	assert_int_equal(sl.epoch, 10);
	assert_int_equal(sl.slot, 0);
	assert_int_equal(sl.start, 100000);
	assert_int_equal(sl.end, 100500);
	assert_true(isim_rv_slot_at(&sched, 101999, &sl));
	assert_int_equal(sl.slot, 3);
	assert_false(isim_rv_slot_at(&sched, 102000, &sl));
	assert_false(isim_rv_slot_at(&sched, -1, &sl));

	/* In slot 1: slots 0, 1 and 2 held. */
	n = isim_rv_slots_held(&sched, 100700, h);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].slot, 0);
	assert_int_equal(h[1].slot, 1);
	assert_int_equal(h[2].slot, 2);
	/* 0.6 slots before the epoch's slots: slot 0 is there already. */
	n = isim_rv_slots_held(&sched, 99400, h);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].epoch, 10);
	assert_int_equal(h[0].slot, 0);
	/* Just after the last slot, it is still held a slot's length. */
	n = isim_rv_slots_held(&sched, 102400, h);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].slot, 3);
	assert_int_equal(isim_rv_slots_held(&sched, 105000, h), 0);

	/* What changes next: slot 2 is added at 100250 (1.5 slots ahead),
	 * slot 3 removed at 102750, epoch 11's slot 0 added at 109250. */
	assert_int_equal(isim_rv_next_change(&sched, 100000), 100250);
	assert_int_equal(isim_rv_next_change(&sched, 102400), 102750);
	assert_int_equal(isim_rv_next_change(&sched, 105000), 109250);
	/* A slot starts: the time to send. */
	assert_int_equal(isim_rv_next_change(&sched, 100260), 100500);

	/* The window: one slot either side, across an epoch boundary too. */
	assert_true(isim_rv_in_window(&sched, 100700, 10, 2));
	assert_false(isim_rv_in_window(&sched, 100700, 10, 3));
	assert_true(isim_rv_in_window(&sched, 99600, 10, 0));
	assert_false(isim_rv_in_window(&sched, 100700, 9, 3));
	assert_false(isim_rv_in_window(&sched, 100700, 10, 4));
	assert_false(isim_rv_in_window(&sched, 100700, UINT64_MAX, 0));
}

static struct isim_rv_keys *keys_of(const char *secret)
{
	struct isim_rv_keys *k = isim_rv_keys_new((const uint8_t *)secret, strlen(secret));

	assert_non_null(k);
	return k;
}

static void test_datagrams(void **state)
{
	struct isim_rv_keys *k = keys_of("a mesh secret of thirty-two bytes or more\n"),
			    *other = keys_of("another mesh's secret, also long enough"),
			    *same = keys_of("a mesh secret of thirty-two bytes or more");
	const char desc[] = "{\"node_id\":\"n1\"}";
	uint8_t d[ISIM_RV_DATAGRAM_MAX], e[ISIM_RV_DATAGRAM_MAX], big[ISIM_RV_DESCRIPTOR_MAX + 1];
	struct isim_rv_msg m;
	size_t n, n2;

	(void)state;
	n = isim_rv_seal(k, ISIM_RV_ANNOUNCE, 29500000, 2, desc, strlen(desc), d);
	assert_int_equal(n, ISIM_RV_HEADER + strlen(desc) + ISIM_RV_TAG);
	assert_memory_equal(d, "iSRV\x01\x01", 6);
	/* The secret's trailing newline is not part of it. */
	assert_int_equal(isim_rv_open(same, d, n, &m), ISIM_RV_OK);
	assert_int_equal(m.type, ISIM_RV_ANNOUNCE);
	assert_int_equal(m.epoch, 29500000);
	assert_int_equal(m.slot, 2);
	assert_int_equal(m.descriptor_len, strlen(desc));
	assert_memory_equal(m.descriptor, desc, strlen(desc));

	/* Two seals of one descriptor differ (the nonce), so both count. */
	n2 = isim_rv_seal(k, ISIM_RV_ANNOUNCE, 29500000, 2, desc, strlen(desc), e);
	assert_int_equal(n2, n);
	assert_memory_not_equal(d, e, n);

	assert_int_equal(isim_rv_open(other, d, n, &m), ISIM_RV_DROP_TAG);
	memcpy(e, d, n);
	e[ISIM_RV_HEADER] ^= 1; /* one bit of the descriptor */
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_TAG);
	memcpy(e, d, n);
	e[15] ^= 1; /* the epoch */
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_TAG);
	memcpy(e, d, n);
	e[n - 1] ^= 0x80; /* the tag */
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_TAG);
	memcpy(e, d, n);
	e[4] = 2; /* a version this one does not speak */
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_HEADER);
	memcpy(e, d, n);
	e[5] = 9;
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_HEADER);
	memcpy(e, d, n);
	e[0] = 'X';
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_DROP_HEADER);
	/* A length field that disagrees with the datagram. */
	assert_int_equal(isim_rv_open(k, d, n - 1, &m), ISIM_RV_DROP_HEADER);
	assert_int_equal(isim_rv_open(k, d, ISIM_RV_HEADER + ISIM_RV_TAG - 1, &m), ISIM_RV_DROP_SIZE);
	assert_int_equal(isim_rv_open(k, d, ISIM_RV_DATAGRAM_MAX + 1, &m), ISIM_RV_DROP_SIZE);

	/* The largest descriptor fits the IPv6 minimum MTU; one more byte does not. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(isim_rv_seal(k, ISIM_RV_REPLY, 1, 0, big, sizeof(big), e), 0);
	n = isim_rv_seal(k, ISIM_RV_REPLY, 1, 0, big, sizeof(big) - 1, e);
	assert_int_equal(n, ISIM_RV_DATAGRAM_MAX);
	assert_int_equal(isim_rv_open(k, e, n, &m), ISIM_RV_OK);
	assert_int_equal(m.type, ISIM_RV_REPLY);

	assert_string_equal(isim_rv_drop_name(ISIM_RV_DROP_REPLAY), "replay");
	assert_string_equal(isim_rv_drop_name(ISIM_RV_DROP_TAG), "tag");
	isim_rv_keys_free(k);
	isim_rv_keys_free(other);
	isim_rv_keys_free(same);
}

static void test_replays(void **state)
{
	struct isim_rv_keys *k = keys_of("a mesh secret of thirty-two bytes or more");
	uint8_t d[4][ISIM_RV_DATAGRAM_MAX];
	struct isim_rv_msg m[4];
	struct isim_rv_seen seen;
	int64_t t = 100700; /* epoch 10, slot 1 */
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		size_t n = isim_rv_seal(k, ISIM_RV_BEACON, 10, (uint64_t)i, "{}", 2, d[i]);

		assert_int_equal(isim_rv_open(k, d[i], n, &m[i]), ISIM_RV_OK);
	}
	assert_int_equal(isim_rv_seen_init(&seen, 2), 0);
	assert_false(isim_rv_seen_check(&seen, &sched, t, &m[0]));
	assert_true(isim_rv_seen_check(&seen, &sched, t, &m[0]));
	assert_false(isim_rv_seen_check(&seen, &sched, t, &m[1]));
	assert_true(isim_rv_seen_check(&seen, &sched, t, &m[1]));
	/* Full: the oldest goes to make room. */
	assert_false(isim_rv_seen_check(&seen, &sched, t, &m[2]));
	assert_true(isim_rv_seen_check(&seen, &sched, t, &m[2]));
	assert_int_equal(seen.n, 2);
	/* Once slot 1 is out of the window its entry is forgotten, and makes
	 * room for slot 3's without pushing out slot 2's. */
	assert_false(isim_rv_seen_check(&seen, &sched, 101600, &m[3]));
	assert_int_equal(seen.n, 2);
	assert_true(isim_rv_seen_check(&seen, &sched, 101600, &m[2]));
	assert_true(isim_rv_seen_check(&seen, &sched, 101600, &m[3]));
	isim_rv_seen_free(&seen);
	isim_rv_keys_free(k);
}

/* ---- the command ---------------------------------------------------------- */

static int cmd_setup(void **state)
{
	struct tu_where *w = tu_enter_tmpdir();

	/* kat.tsv's first rows: 32 bytes of 'x' (a newline is not part of it). */
	tu_write(".", "secret", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	assert_int_equal(chmod("secret", 0600), 0);
	tu_write(".", "short", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	assert_int_equal(chmod("short", 0600), 0);
	tu_write(".", "open", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	assert_int_equal(chmod("open", 0644), 0);
	tu_write(".", "notjson", "{\"node_id\":\n");
	assert_int_equal(setenv("ISIM_MESH_SECRET", "secret", 1), 0);
	*state = w;
	return 0;
}

static int cmd_teardown(void **state)
{
	unsetenv("ISIM_MESH_SECRET");
	tu_leave_tmpdir(*state);
	return 0;
}

/* isim-rendezvous ARG... (NULL ends them), in-process. */
static struct tu_run rv(const char *first, ...)
{
	char *argv[16] = { "isim-rendezvous" };
	const char *a = first;
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	while (a && argc < 15) {
		argv[argc++] = (char *)a;
		a = va_arg(ap, const char *);
	}
	va_end(ap);
	argv[argc] = NULL;
	return tu_call(isim_rendezvous_main, argc, argv);
}

static const char *slot_text(const cJSON *doc, int i, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "slots"), i), name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_cmd_addr(void **state)
{
	struct tu_run r;
	cJSON *doc;

	(void)state;
	r = rv("addr", "--epoch", "1", "--slot", "0", "--count", "1", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	assert_non_null(doc = cJSON_Parse(r.out));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "slots")), 1);
	assert_string_equal(slot_text(doc, 0, "address"), "fe80::d839:76bd:1a10:ddc6");
	/* RFC 4291's solicited-node group of it. */
	assert_string_equal(slot_text(doc, 0, "group"), "ff02::1:ff10:ddc6");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "at")));
	cJSON_Delete(doc);
	tu_run_free(&r);

	/* 10 s epochs: @10.2 is in epoch 1's slot 0 (of 500 ms), from 10 s. */
	r = rv("addr", "--at", "@10.2", "--epoch-seconds", "10", "--dev", "eth0", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(doc = cJSON_Parse(r.out));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "slots")), 4);
	assert_string_equal(slot_text(doc, 0, "address"), "fe80::d839:76bd:1a10:ddc6%eth0");
	assert_string_equal(slot_text(doc, 0, "start"), "1970-01-01T00:00:10.000Z");
	assert_string_equal(slot_text(doc, 3, "end"), "1970-01-01T00:00:12.000Z");
	assert_string_equal(cJSON_GetObjectItem(doc, "at")->valuestring, "1970-01-01T00:00:10.200Z");
	cJSON_Delete(doc);
	tu_run_free(&r);

	/* After the slots, the next epoch's first. */
	r = rv("addr", "--at", "@3", "--epoch-seconds", "10", "--count", "1", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(doc = cJSON_Parse(r.out));
	assert_string_equal(slot_text(doc, 0, "start"), "1970-01-01T00:00:10.000Z");
	cJSON_Delete(doc);
	tu_run_free(&r);
}

static const struct tu_cmd_case cases[] = {
	{ { NULL }, 64, "isim-rendezvous: no command given", NULL },
	{ { "--version" }, 0, NULL, "isim-rendezvous 0." },
	{ { "--help" }, 0, NULL, "addr" },
	{ { "run", "--help" }, 0, NULL, "usage: isim-rendezvous run --dev IF --descriptor FILE" },
	{ { "addr", "-h" }, 0, NULL, "usage: isim-rendezvous addr" },
	{ { "addr", "--slots", "0" },
	  64,
	  "isim-rendezvous addr: --slots: '0' is not a whole number from 1 to 1024",
	  NULL },
	{ { "addr", "--slots", "20", "--epoch-seconds", "1", "--slot-ms", "100" },
	  64,
	  "20 slots of 100 ms do not fit in an epoch of 1000 ms",
	  NULL },
	{ { "addr", "--slot", "1" }, 64, "isim-rendezvous addr: --slot needs --epoch", NULL },
	{ { "addr", "--epoch", "1", "--slot", "4" }, 64, "--slot: '4' is not a slot from 0 to 3", NULL },
	{ { "addr", "--at", "@1", "--epoch", "1" }, 64, "--at and --epoch", NULL },
	{ { "addr", "--secret", "" }, 64, "isim-rendezvous addr: --secret: empty file name", NULL },
	{ { "addr", "--secret", "nosuch" }, 66, "isim-rendezvous addr: nosuch: cannot open mesh secret", NULL },
	{ { "addr", "--secret", "short" }, 78, "short: the mesh secret is 31 bytes; it must be at least 32", NULL },
	{ { "addr", "--secret", "open" },
	  77,
	  "open: mode 0644: the mesh secret must not be accessible to others",
	  NULL },
	{ { "run", "--descriptor", "x" }, 64, "isim-rendezvous run: --dev IF is required", NULL },
	{ { "run", "--dev", "eth0" }, 64, "isim-rendezvous run: --descriptor FILE is required", NULL },
	{ { "run", "--dev", "a/b", "--descriptor", "x" }, 64, "--dev: 'a/b' is not an interface name", NULL },
	{ { "run", "--dev", "eth0", "--descriptor", "x", "--port", "0" }, 64, "--port: '0' is not a port", NULL },
	{ { "run", "--dev", "eth0", "--descriptor", "nosuch" }, 66, "nosuch", NULL },
	{ { "run", "--dev", "eth0", "--descriptor", "notjson" }, 65, "notjson:", NULL },
};

static void test_cmd_lines(void **state)
{
	(void)state;
	tu_run_cases(isim_rendezvous_main, "isim-rendezvous", cases, sizeof(cases) / sizeof(cases[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_datagrams),
		cmocka_unit_test(test_replays),
		cmocka_unit_test_setup_teardown(test_cmd_addr, cmd_setup, cmd_teardown),
		cmocka_unit_test_setup_teardown(test_cmd_lines, cmd_setup, cmd_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
