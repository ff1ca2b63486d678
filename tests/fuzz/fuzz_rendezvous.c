/* SPDX-License-Identifier: MIT */
/* Rendezvous datagrams from the network (isim/rendezvous.h): whatever
 * arrives, isim_rv_open says OK exactly when the layout holds and the tag
 * is the one computed here, apart from the library, from the mesh secret;
 * an accepted datagram's fields are its bytes, and changing one byte of
 * it (any of its header or tag, a sample of a long descriptor) makes it
 * refused. An input starting with a 0x00 byte is, past that
 * byte, a descriptor to seal and open again, so that the fuzzer reaches the
 * accepted path without forging a tag. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/rendezvous.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The demo mesh's secret of tests/vectors/rendezvous/kat.tsv. */
static const char secret[] = "mesh secret of the demo mesh, 32+ bytes";
static const char auth_label[] = "infrasim rendezvous v1 datagram";

static struct isim_rv_keys *keys;
static uint8_t auth[crypto_auth_hmacsha256_KEYBYTES];

static void setup(void)
{
	crypto_auth_hmacsha256_state st;

	if (keys)
		return;
	keys = isim_rv_keys_new((const uint8_t *)secret, sizeof(secret) - 1);
	if (!keys)
		abort();
	/* The auth key as the format defines it, computed without the library. */
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, sizeof(secret) - 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)auth_label, sizeof(auth_label) - 1);
	crypto_auth_hmacsha256_final(&st, auth);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* What isim_rv_open must answer for d, by the format. */
static enum isim_rv_drop expected(const uint8_t *d, size_t len)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	size_t dlen;

	if (len < ISIM_RV_HEADER + ISIM_RV_TAG || len > ISIM_RV_DATAGRAM_MAX)
		return ISIM_RV_DROP_SIZE;
	dlen = (size_t)d[6] << 8 | d[7];
	if (memcmp(d, "iSRV", 4) || d[4] != ISIM_RV_VERSION || d[5] < ISIM_RV_ANNOUNCE || d[5] > ISIM_RV_BEACON ||
	    ISIM_RV_HEADER + dlen + ISIM_RV_TAG != len)
		return ISIM_RV_DROP_HEADER;
	crypto_auth_hmacsha256(mac, d, ISIM_RV_HEADER + dlen, auth);
	return memcmp(mac, d + ISIM_RV_HEADER + dlen, ISIM_RV_TAG) ? ISIM_RV_DROP_TAG : ISIM_RV_OK;
}

/* Flip a bit of copy[i] (a copy of d, len bytes, that was accepted): the
 * datagram must then be refused, for its header or for its tag. */
static void flip(const uint8_t *d, uint8_t *copy, size_t len, size_t i)
{
	struct isim_rv_msg m;
	enum isim_rv_drop r;

	copy[i] ^= (uint8_t)(1u << (i % 8));
	r = isim_rv_open(keys, copy, len, &m);
	/* The type may turn into another known one; then the tag fails. */
	if (r == ISIM_RV_OK || r != expected(copy, len) || (i >= 8 && r != ISIM_RV_DROP_TAG) ||
	    ((i < 5 || i == 6 || i == 7) && r != ISIM_RV_DROP_HEADER))
		abort();
	copy[i] = d[i];
}

/* d (len bytes) was accepted into m: its fields are d's bytes, and no
 * datagram one byte away from it is accepted: every byte of the header and
 * the tag is tried, and of a long descriptor 64 spread over it (where
 * depends on the tag), since each open costs an HMAC of the whole. */
static void check_accepted(const uint8_t *d, size_t len, const struct isim_rv_msg *m)
{
	struct isim_rv_msg again;
	enum isim_rv_drop r;
	uint8_t *copy;
	size_t i, j, dlen = len - ISIM_RV_HEADER - ISIM_RV_TAG;

	if (m->descriptor != d + ISIM_RV_HEADER || m->descriptor_len + ISIM_RV_HEADER + ISIM_RV_TAG != len ||
	    m->type != d[5] || m->epoch != be64(d + 8) || m->slot != be64(d + 16) ||
	    memcmp(m->nonce, d + 24, ISIM_RV_NONCE) || memcmp(m->tag, d + len - ISIM_RV_TAG, ISIM_RV_TAG))
		abort();
	copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, d, len);
	if (isim_rv_open(keys, copy, len, &again) != ISIM_RV_OK || again.descriptor != copy + ISIM_RV_HEADER ||
	    memcmp(again.tag, m->tag, ISIM_RV_TAG))
		abort();
	/* One byte short: the length no longer agrees. */
	r = isim_rv_open(keys, copy, len - 1, &again);
	if (r != ISIM_RV_DROP_SIZE && r != ISIM_RV_DROP_HEADER)
		abort();
	for (i = 0; i < ISIM_RV_HEADER; i++)
		flip(d, copy, len, i);
	for (i = len - ISIM_RV_TAG; i < len; i++)
		flip(d, copy, len, i);
	if (dlen <= 64) {
		for (i = 0; i < dlen; i++)
			flip(d, copy, len, ISIM_RV_HEADER + i);
	} else {
		for (j = 0; j < 64; j++)
			flip(d, copy, len, ISIM_RV_HEADER + (j * dlen / 64 + m->tag[j % ISIM_RV_TAG]) % dlen);
		flip(d, copy, len, ISIM_RV_HEADER + dlen - 1);
	}
	free(copy);
}

/* Seal desc (len bytes, at most the maximum) and open it again. */
static void round_trip(const uint8_t *desc, size_t len, uint8_t type, uint64_t epoch, uint64_t slot)
{
	uint8_t out[ISIM_RV_DATAGRAM_MAX];
	struct isim_rv_msg m;
	size_t n;

	n = isim_rv_seal(keys, type, epoch, slot, desc, len, out);
	if (n != ISIM_RV_HEADER + len + ISIM_RV_TAG || memcmp(out, "iSRV", 4) || out[4] != ISIM_RV_VERSION ||
	    out[5] != type)
		abort();
	if (isim_rv_open(keys, out, n, &m) != ISIM_RV_OK || expected(out, n) != ISIM_RV_OK || m.type != type ||
	    m.epoch != epoch || m.slot != slot || m.descriptor_len != len || memcmp(m.descriptor, desc, len))
		abort();
	check_accepted(out, n, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[ISIM_RV_DATAGRAM_MAX];
	struct isim_rv_msg m;
	enum isim_rv_drop r;
	size_t len;

	setup();
	memset(&m, 0, sizeof(m));
	r = isim_rv_open(keys, data, size, &m);
	/* Window and replay are the receiver's verdicts, never the parser's. */
	if (r != ISIM_RV_OK && r != ISIM_RV_DROP_SIZE && r != ISIM_RV_DROP_HEADER && r != ISIM_RV_DROP_TAG)
		abort();
	if (r != expected(data, size) || strcmp(isim_rv_drop_name(r), "unknown") == 0)
		abort();
	if (r == ISIM_RV_OK)
		check_accepted(data, size, &m);

	if (size >= 1 && data[0] == 0x00) {
		len = size - 1;
		if (len > ISIM_RV_DESCRIPTOR_MAX) {
			if (isim_rv_seal(keys, ISIM_RV_ANNOUNCE, 0, 0, data + 1, len, out) != 0)
				abort();
			len = ISIM_RV_DESCRIPTOR_MAX;
		}
		/* The type, epoch and slot vary with the input too. */
		round_trip(data + 1, len, (uint8_t)(ISIM_RV_ANNOUNCE + len % 3), len > 8 ? be64(data + 1) : len,
			   len > 16 ? be64(data + 9) : 3);
	}
	return 0;
}
