/* SPDX-License-Identifier: MIT */
/* The IPv6 link-local rendezvous: addresses, schedule and datagrams
 * (isim/rendezvous.h, isim-formats(5)). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "isim/rendezvous.h"

static const uint8_t magic[4] = { 'i', 'S', 'R', 'V' };
static const char auth_label[] = "infrasim rendezvous v1 datagram";

static void store_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

size_t isim_rv_secret_len(const uint8_t *secret, size_t len)
{
	while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
		len--;
	return len;
}

struct isim_rv_keys *isim_rv_keys_new(const uint8_t *secret, size_t len)
{
	struct isim_rv_keys *k;
	crypto_auth_hmacsha256_state st;
	uint8_t key[crypto_auth_hmacsha256_BYTES];

	if (sodium_init() < 0 || !(k = sodium_malloc(sizeof(*k))))
		return NULL;
	len = isim_rv_secret_len(secret, len);
	/* libsodium hashes a key longer than a block first (RFC 2104, 2). */
	crypto_auth_hmacsha256_init(&k->addr, secret, len);
	crypto_auth_hmacsha256_init(&st, secret, len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)auth_label, sizeof(auth_label) - 1);
	crypto_auth_hmacsha256_final(&st, key);
	/* Keyed once: a tag then costs the datagram's blocks only. */
	crypto_auth_hmacsha256_init(&k->auth, key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(key, sizeof(key));
	return k;
}

void isim_rv_keys_free(struct isim_rv_keys *k)
{
	/* sodium_free wipes the block before it unmaps it. */
	sodium_free(k);
}

void isim_rv_address(const struct isim_rv_keys *k, uint64_t epoch, uint64_t slot, uint8_t addr[static 16])
{
	crypto_auth_hmacsha256_state st = k->addr;
	uint8_t msg[16], mac[crypto_auth_hmacsha256_BYTES];

	store_be64(msg, epoch);
	store_be64(msg + 8, slot);
	crypto_auth_hmacsha256_update(&st, msg, sizeof(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	memset(addr, 0, 16);
	addr[0] = 0xfe;
	addr[1] = 0x80;
	memcpy(addr + 8, mac, 8);
	sodium_memzero(&st, sizeof(st));
}

void isim_rv_group(const uint8_t addr[static 16], uint8_t group[static 16])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(group, prefix, sizeof(prefix));
	memcpy(group + 13, addr + 13, 3);
}

/* ---- the schedule ---------------------------------------------------------- */

int isim_rv_sched_check(const struct isim_rv_sched *s, struct isim_error *err)
{
	if (s->epoch_ms == 0 || s->slot_ms == 0 || s->slots == 0)
		return isim_error_set(err, ISIM_ERR_USAGE, "epochs, slots and their number must not be 0");
	if (s->epoch_ms > INT32_MAX || s->slot_ms > s->epoch_ms || (uint64_t)s->slots * s->slot_ms > s->epoch_ms)
		return isim_error_set(err, ISIM_ERR_USAGE, "%u slots of %llu ms do not fit in an epoch of %llu ms",
				      s->slots, (unsigned long long)s->slot_ms, (unsigned long long)s->epoch_ms);
	return 0;
}

static void slot_of(const struct isim_rv_sched *s, uint64_t epoch, uint64_t slot, struct isim_rv_slot *out)
{
	out->epoch = epoch;
	out->slot = slot;
	out->start = (int64_t)(epoch * s->epoch_ms + slot * s->slot_ms);
	out->end = out->start + (int64_t)s->slot_ms;
}

bool isim_rv_slot_at(const struct isim_rv_sched *s, int64_t t, struct isim_rv_slot *out)
{
	uint64_t into;

	if (t < 0)
		return false;
	into = (uint64_t)t % s->epoch_ms;
	if (into / s->slot_ms >= s->slots)
		return false;
	slot_of(s, (uint64_t)t / s->epoch_ms, into / s->slot_ms, out);
	return true;
}

/* Whether t is within reach of sl: a slot's length either side of it,
 * and extra beyond that. */
static bool near(const struct isim_rv_slot *sl, int64_t reach, int64_t t)
{
	return t >= sl->start - reach && t < sl->end + reach;
}

/* An address is held half a slot longer either side than the window, so
 * that one whose clock is a whole slot ahead finds it there already. */
static int64_t hold_reach(const struct isim_rv_sched *s)
{
	return (int64_t)(s->slot_ms + s->slot_ms / 2);
}

/* The slots of the epochs around t (the one before, t's, and the one
 * after), in time order, to fn: they are all that can be within a slot
 * length of t, since a slot is no longer than an epoch. */
static void near_slots(const struct isim_rv_sched *s, int64_t t,
		       void (*fn)(const struct isim_rv_sched *s, const struct isim_rv_slot *sl, int64_t t, void *ctx),
		       void *ctx)
{
	uint64_t e0 = t >= 0 ? (uint64_t)t / s->epoch_ms : 0, e, k;
	struct isim_rv_slot sl;

	for (e = e0 > 0 ? e0 - 1 : 0; e <= e0 + 1; e++) {
		for (k = 0; k < s->slots; k++) {
			slot_of(s, e, k, &sl);
			fn(s, &sl, t, ctx);
		}
	}
}

struct held_ctx {
	struct isim_rv_slot *out;
	size_t n;
};

static void add_held(const struct isim_rv_sched *s, const struct isim_rv_slot *sl, int64_t t, void *ctx)
{
	struct held_ctx *h = ctx;

	if (near(sl, hold_reach(s), t) && h->n < ISIM_RV_HELD_MAX)
		h->out[h->n++] = *sl;
}

size_t isim_rv_slots_held(const struct isim_rv_sched *s, int64_t t, struct isim_rv_slot out[static ISIM_RV_HELD_MAX])
{
	struct held_ctx h = { .out = out };

	near_slots(s, t, add_held, &h);
	return h.n;
}

static void earliest(const struct isim_rv_sched *s, const struct isim_rv_slot *sl, int64_t t, void *ctx)
{
	int64_t *next = ctx, r = hold_reach(s);
	const int64_t when[3] = { sl->start - r, sl->start, sl->end + r };
	int i;

	for (i = 0; i < 3; i++) {
		if (when[i] > t && when[i] < *next)
			*next = when[i];
	}
}

int64_t isim_rv_next_change(const struct isim_rv_sched *s, int64_t t)
{
	int64_t next = t + (int64_t)s->epoch_ms;

	near_slots(s, t, earliest, &next);
	return next;
}

bool isim_rv_in_window(const struct isim_rv_sched *s, int64_t t, uint64_t epoch, uint64_t slot)
{
	struct isim_rv_slot sl;

	/* Epochs past what a clock counts in milliseconds are never near. */
	if (slot >= s->slots || epoch > (uint64_t)INT64_MAX / s->epoch_ms - 2)
		return false;
	slot_of(s, epoch, slot, &sl);
	return near(&sl, (int64_t)s->slot_ms, t);
}

/* ---- datagrams --------------------------------------------------------------- */

const char *isim_rv_drop_name(enum isim_rv_drop d)
{
	static const char *const names[ISIM_RV_DROP_NDROPS] = {
		[ISIM_RV_OK] = "ok",	    [ISIM_RV_DROP_SIZE] = "size",     [ISIM_RV_DROP_HEADER] = "header",
		[ISIM_RV_DROP_TAG] = "tag", [ISIM_RV_DROP_WINDOW] = "window", [ISIM_RV_DROP_REPLAY] = "replay",
	};

	return (unsigned)d < ISIM_RV_DROP_NDROPS ? names[d] : "unknown";
}

static void tag_of(const struct isim_rv_keys *k, const uint8_t *d, size_t len, uint8_t tag[static ISIM_RV_TAG])
{
	crypto_auth_hmacsha256_state st = k->auth;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_update(&st, d, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(tag, mac, ISIM_RV_TAG);
	sodium_memzero(&st, sizeof(st));
}

size_t isim_rv_seal(const struct isim_rv_keys *k, uint8_t type, uint64_t epoch, uint64_t slot, const void *descriptor,
		    size_t len, uint8_t out[static ISIM_RV_DATAGRAM_MAX])
{
	if (len > ISIM_RV_DESCRIPTOR_MAX)
		return 0;
	memcpy(out, magic, sizeof(magic));
	out[4] = ISIM_RV_VERSION;
	out[5] = type;
	out[6] = (uint8_t)(len >> 8);
	out[7] = (uint8_t)len;
	store_be64(out + 8, epoch);
	store_be64(out + 16, slot);
	randombytes_buf(out + 24, ISIM_RV_NONCE);
	memcpy(out + ISIM_RV_HEADER, descriptor, len);
	tag_of(k, out, ISIM_RV_HEADER + len, out + ISIM_RV_HEADER + len);
	return ISIM_RV_HEADER + len + ISIM_RV_TAG;
}

enum isim_rv_drop isim_rv_open(const struct isim_rv_keys *k, const uint8_t *d, size_t len, struct isim_rv_msg *m)
{
	uint8_t tag[ISIM_RV_TAG];
	size_t dlen;

	if (len < ISIM_RV_HEADER + ISIM_RV_TAG || len > ISIM_RV_DATAGRAM_MAX)
		return ISIM_RV_DROP_SIZE;
	dlen = (size_t)d[6] << 8 | d[7];
	if (memcmp(d, magic, sizeof(magic)) || d[4] != ISIM_RV_VERSION || d[5] < ISIM_RV_ANNOUNCE ||
	    d[5] > ISIM_RV_BEACON || ISIM_RV_HEADER + dlen + ISIM_RV_TAG != len)
		return ISIM_RV_DROP_HEADER;
	tag_of(k, d, ISIM_RV_HEADER + dlen, tag);
	if (crypto_verify_16(tag, d + ISIM_RV_HEADER + dlen))
		return ISIM_RV_DROP_TAG;
	m->type = d[5];
	m->epoch = load_be64(d + 8);
	m->slot = load_be64(d + 16);
	memcpy(m->nonce, d + 24, ISIM_RV_NONCE);
	m->descriptor = d + ISIM_RV_HEADER;
	m->descriptor_len = dlen;
	memcpy(m->tag, tag, ISIM_RV_TAG);
	return ISIM_RV_OK;
}

/* ---- replays ------------------------------------------------------------------- */

int isim_rv_seen_init(struct isim_rv_seen *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->e = calloc(cap ? cap : 1, sizeof(*s->e));
	if (!s->e)
		return -1;
	s->cap = cap ? cap : 1;
	return 0;
}

void isim_rv_seen_free(struct isim_rv_seen *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

bool isim_rv_seen_check(struct isim_rv_seen *s, const struct isim_rv_sched *sch, int64_t t, const struct isim_rv_msg *m)
{
	size_t i, free_at = s->cap;

	/* A window holds a few slots' datagrams, so a scan is what a set
	 * would cost at this size; entries out of the window go as it runs. */
	for (i = 0; i < s->cap; i++) {
		struct isim_rv_seen_entry *e = &s->e[i];

		if (e->used && !isim_rv_in_window(sch, t, e->epoch, e->slot)) {
			e->used = false;
			s->n--;
		}
		if (!e->used) {
			if (free_at == s->cap)
				free_at = i;
			continue;
		}
		if (!memcmp(e->tag, m->tag, ISIM_RV_TAG))
			return true;
	}
	if (free_at == s->cap) {
		/* Full: the oldest goes. */
		free_at = s->next;
		s->next = (s->next + 1) % s->cap;
		s->n--;
	}
	memcpy(s->e[free_at].tag, m->tag, ISIM_RV_TAG);
	s->e[free_at].epoch = m->epoch;
	s->e[free_at].slot = m->slot;
	s->e[free_at].used = true;
	s->n++;
	return false;
}
