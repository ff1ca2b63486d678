/* SPDX-License-Identifier: MIT */
#ifndef ISIM_RENDEZVOUS_H
#define ISIM_RENDEZVOUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "isim/error.h"

/*
 * The IPv6 link-local rendezvous (isim-formats(5)). Nodes that share a mesh
 * secret cut time into epochs of epoch_ms, the first slots of each into
 * slots of slot_ms, and in each slot hold the address
 *
 *     fe80:: + HMAC-SHA256(secret, epoch || slot)[0:8]
 *
 * (epoch and slot 8-byte big-endian), whose solicited-node multicast group
 * only they listen on. A datagram there carries a signed node descriptor,
 * authenticated under a key derived from the secret:
 *
 *     0   4  magic "iSRV"
 *     4   1  version (1)
 *     5   1  type: 1 announce (to the slot's group, asking every node for
 *              a reply), 2 reply (unicast), 3 beacon (to the group; a reply
 *              only from those to whom the descriptor is new)
 *     6   2  descriptor length L, big-endian
 *     8   8  epoch, big-endian
 *    16   8  slot, big-endian
 *    24  16  nonce: random, so that no two datagrams are alike
 *    40   L  the descriptor, its RFC 8785 text
 *  40+L  16  tag: HMAC-SHA256(auth key, bytes 0 to 40+L)[0:16]
 *
 * auth key = HMAC-SHA256(secret, "infrasim rendezvous v1 datagram"). The
 * whole datagram fits the IPv6 minimum MTU (1280 bytes, less the IPv6 and
 * UDP headers).
 */

#define ISIM_RV_PORT 51871
#define ISIM_RV_VERSION 1
#define ISIM_RV_HEADER 40
#define ISIM_RV_TAG 16
#define ISIM_RV_NONCE 16
/* 1280 - 40 (IPv6) - 8 (UDP). */
#define ISIM_RV_DATAGRAM_MAX 1232
#define ISIM_RV_DESCRIPTOR_MAX (ISIM_RV_DATAGRAM_MAX - ISIM_RV_HEADER - ISIM_RV_TAG)
/* A mesh secret is at least this long (trailing CR and LF not counted). */
#define ISIM_RV_SECRET_MIN 32
#define ISIM_RV_SECRET_MAX 4096

enum isim_rv_type {
	ISIM_RV_ANNOUNCE = 1,
	ISIM_RV_REPLY = 2,
	ISIM_RV_BEACON = 3,
};

/* The keys a node derives from the mesh secret, in sodium_malloc memory
 * (isim_rv_keys_new), wiped by isim_rv_keys_free. */
struct isim_rv_keys {
	crypto_auth_hmacsha256_state addr; /* keyed with the secret, ready to absorb */
	crypto_auth_hmacsha256_state auth; /* keyed with the auth key */
};

/* The keys of a secret file's content (len bytes): its trailing CR and LF
 * are not part of the secret. NULL when out of memory. No length rule:
 * the caller refuses secrets shorter than ISIM_RV_SECRET_MIN. */
struct isim_rv_keys *isim_rv_keys_new(const uint8_t *secret, size_t len);
void isim_rv_keys_free(struct isim_rv_keys *k);
/* The secret's length once trailing CR and LF are dropped. */
size_t isim_rv_secret_len(const uint8_t *secret, size_t len);

/* The address of (epoch, slot). */
void isim_rv_address(const struct isim_rv_keys *k, uint64_t epoch, uint64_t slot, uint8_t addr[static 16]);
/* Its solicited-node multicast group, ff02::1:ff + the last 24 bits
 * (RFC 4291, section 2.7.1). */
void isim_rv_group(const uint8_t addr[static 16], uint8_t group[static 16]);

/* The schedule: epochs of epoch_ms, slots of slot_ms at their start. */
struct isim_rv_sched {
	uint64_t epoch_ms, slot_ms;
	uint32_t slots;
};

/* The rule isim_rv_sched_check applies, for messages. */
int isim_rv_sched_check(const struct isim_rv_sched *s, struct isim_error *err) ISIM_MUST_CHECK;

/* A slot, and when it is: [start, end) in milliseconds since the epoch. */
struct isim_rv_slot {
	uint64_t epoch, slot;
	int64_t start, end;
};

/* The slot that time t is in: true, or false when t is in the part of an
 * epoch after its slots (t < 0 is never in one). */
bool isim_rv_slot_at(const struct isim_rv_sched *s, int64_t t, struct isim_rv_slot *out);
/* The slots whose addresses a node holds at t: each from one and a half
 * slot lengths before it starts to as long after it ends, so that clocks
 * up to a slot apart lose nothing and an address is there before any
 * node's slot begins. At most
 * ISIM_RV_HELD_MAX, in time order; returns how many. */
#define ISIM_RV_HELD_MAX 4
size_t isim_rv_slots_held(const struct isim_rv_sched *s, int64_t t, struct isim_rv_slot out[static ISIM_RV_HELD_MAX]);
/* The first time after t at which the held set changes or a slot starts. */
int64_t isim_rv_next_change(const struct isim_rv_sched *s, int64_t t);
/* Whether (epoch, slot) is within one slot of the slot held at t by the
 * receiver's clock: one of the slots it holds. */
bool isim_rv_in_window(const struct isim_rv_sched *s, int64_t t, uint64_t epoch, uint64_t slot);

/* A datagram, as parsed. descriptor points into the datagram. */
struct isim_rv_msg {
	uint8_t type;
	uint64_t epoch, slot;
	uint8_t nonce[ISIM_RV_NONCE];
	const uint8_t *descriptor;
	size_t descriptor_len;
	uint8_t tag[ISIM_RV_TAG];
};

/* Why a datagram was dropped before any signature work. */
enum isim_rv_drop {
	ISIM_RV_OK = 0,
	ISIM_RV_DROP_SIZE,   /* shorter than a header and tag, or over the maximum */
	ISIM_RV_DROP_HEADER, /* not the magic, an unknown version or type, a length that disagrees */
	ISIM_RV_DROP_TAG,    /* the tag does not hold: not of this mesh */
	ISIM_RV_DROP_WINDOW, /* an epoch and slot more than one slot away */
	ISIM_RV_DROP_REPLAY, /* seen before */
	ISIM_RV_DROP_NDROPS
};

/* The word for a reason, as counters name it: "size", "header", ... */
const char *isim_rv_drop_name(enum isim_rv_drop d);

/* Build a datagram of type carrying descriptor (len bytes) for (epoch,
 * slot), with a fresh random nonce: its length, or 0 when the descriptor is
 * longer than ISIM_RV_DESCRIPTOR_MAX. out holds ISIM_RV_DATAGRAM_MAX. */
size_t isim_rv_seal(const struct isim_rv_keys *k, uint8_t type, uint64_t epoch, uint64_t slot, const void *descriptor,
		    size_t len, uint8_t out[static ISIM_RV_DATAGRAM_MAX]);
/* Parse and authenticate a datagram of len bytes (len may exceed
 * ISIM_RV_DATAGRAM_MAX when the receiver saw it truncated): ISIM_RV_OK with
 * m filled, or why it is dropped. The tag is checked in constant time
 * before anything inside is believed. */
enum isim_rv_drop isim_rv_open(const struct isim_rv_keys *k, const uint8_t *d, size_t len, struct isim_rv_msg *m);

/* The tags of the datagrams accepted lately, to refuse a replay. An entry
 * is forgotten once its slot is outside the window; at most cap entries
 * (the oldest go first). */
struct isim_rv_seen {
	struct isim_rv_seen_entry {
		uint8_t tag[ISIM_RV_TAG];
		uint64_t epoch, slot;
		bool used;
	} * e;
	size_t cap, n, next;
};

int isim_rv_seen_init(struct isim_rv_seen *s, size_t cap) ISIM_MUST_CHECK;
void isim_rv_seen_free(struct isim_rv_seen *s);
/* True when m's tag was seen; else remembers it and returns false. Before
 * that, entries whose slot is outside the window at t are forgotten. */
bool isim_rv_seen_check(struct isim_rv_seen *s, const struct isim_rv_sched *sch, int64_t t,
			const struct isim_rv_msg *m);

#endif
