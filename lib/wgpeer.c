/* SPDX-License-Identifier: MIT */
/* The WireGuard device as read (its peers, their keys and allowed IPs),
 * keys in their base64 form, interface names, and the checks a change set
 * passes before any backend sends it: what lib/wg.c and both backends
 * (lib/wguapi.c, lib/wgnl.c) share, depending on none of them. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wg-int.h"

void isim_wg_device_free(struct isim_wg_device *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->npeers; i++)
		free(d->peers[i].allowed);
	free(d->peers);
	free(d);
}

static int peer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct isim_wg_peer *)a)->public_key, ((const struct isim_wg_peer *)b)->public_key,
		      ISIM_WG_KEY_LEN);
}

void isim_wg_device_sort(struct isim_wg_device *d)
{
	if (d->npeers > 1)
		qsort(d->peers, d->npeers, sizeof(*d->peers), peer_cmp);
	d->sorted = true;
}

struct isim_wg_peer *isim_wg_device_peer(const struct isim_wg_device *d, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	struct isim_wg_peer want;
	size_t i;

	if (d->sorted && d->npeers) {
		memcpy(want.public_key, key, ISIM_WG_KEY_LEN);
		return bsearch(&want, d->peers, d->npeers, sizeof(*d->peers), peer_cmp);
	}
	for (i = 0; i < d->npeers; i++)
		if (memcmp(d->peers[i].public_key, key, ISIM_WG_KEY_LEN) == 0)
			return &d->peers[i];
	return NULL;
}

/* Arrays grow by doubling without a capacity field: the capacity of an
 * array of n elements is the power of two at or above n, so it is full
 * exactly when n is 0 or a power of two. */
static void *grow(void *p, size_t n, size_t size)
{
	size_t ncap;
	void *q;

	if (n && (n & (n - 1)) != 0)
		return p;
	ncap = n ? n * 2 : 1;
	if (ncap > SIZE_MAX / size)
		return NULL;
	q = realloc(p, ncap * size);
	return q;
}

struct isim_wg_peer *isim_wg_device_add_peer(struct isim_wg_device *d)
{
	struct isim_wg_peer *peers = grow(d->peers, d->npeers, sizeof(*d->peers));

	if (!peers)
		return NULL;
	d->peers = peers;
	d->sorted = false;
	memset(&peers[d->npeers], 0, sizeof(*peers));
	return &peers[d->npeers++];
}

int isim_wg_peer_add_allowed(struct isim_wg_peer *p, const struct isim_prefix *pr)
{
	struct isim_prefix *a = grow(p->allowed, p->nallowed, sizeof(*p->allowed));

	if (!a)
		return -1;
	p->allowed = a;
	a[p->nallowed++] = *pr;
	return 0;
}

void isim_wg_key_b64(const uint8_t key[static ISIM_WG_KEY_LEN], char out[static ISIM_WG_KEY_B64LEN])
{
	sodium_bin2base64(out, ISIM_WG_KEY_B64LEN, key, ISIM_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

bool isim_wg_key_parse(const char *s, uint8_t out[static ISIM_WG_KEY_LEN])
{
	char back[ISIM_WG_KEY_B64LEN];
	const char *end;
	size_t n = 0;

	if (!s || strlen(s) != ISIM_WG_KEY_B64LEN - 1 ||
	    sodium_base642bin(out, ISIM_WG_KEY_LEN, s, ISIM_WG_KEY_B64LEN - 1, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) < 0 ||
	    *end || n != ISIM_WG_KEY_LEN)
		return false;
	isim_wg_key_b64(out, back);
	return !strcmp(back, s);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ISIM_WG_KEY_LEN);
}

static bool prefix_ok(const struct isim_prefix *p)
{
	struct isim_prefix c;
	char text[ISIM_PREFIX_STRLEN];
	const char *why;

	if (p->family != AF_INET && p->family != AF_INET6)
		return false;
	if (p->len > (p->family == AF_INET ? 32 : 128))
		return false;
	/* The text form round-trips only for a prefix without host bits. */
	isim_prefix_format(p, text);
	return isim_prefix_parse(text, false, &c, &why) == 0 && isim_prefix_equal(&c, p);
}

int isim_wg_check_changes(const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	uint8_t(*keys)[ISIM_WG_KEY_LEN] = NULL;
	char b64[ISIM_WG_KEY_B64LEN];
	int ret = -1;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct isim_wg_peer *p = &changes[i];
		sa_family_t fam = p->endpoint.sa.sa_family;

		if (fam != AF_UNSPEC && fam != AF_INET && fam != AF_INET6) {
			isim_wg_key_b64(p->public_key, b64);
			return isim_error_set(err, ISIM_ERR_USAGE,
					      "peer %s: endpoint of address family %u, neither IPv4 nor IPv6", b64,
					      (unsigned)fam);
		}
		for (j = 0; j < p->nallowed; j++) {
			if (!prefix_ok(&p->allowed[j])) {
				char text[ISIM_PREFIX_STRLEN];

				isim_wg_key_b64(p->public_key, b64);
				if (p->allowed[j].family != AF_INET && p->allowed[j].family != AF_INET6)
					return isim_error_set(err, ISIM_ERR_USAGE,
							      "peer %s: allowed IP of address family %u, "
							      "neither IPv4 nor IPv6",
							      b64, (unsigned)p->allowed[j].family);
				if (p->allowed[j].len > (p->allowed[j].family == AF_INET ? 32 : 128))
					return isim_error_set(err, ISIM_ERR_USAGE,
							      "peer %s: allowed IP with prefix length %u", b64,
							      (unsigned)p->allowed[j].len);
				isim_prefix_format(&p->allowed[j], text);
				return isim_error_set(err, ISIM_ERR_USAGE,
						      "peer %s: allowed IP '%s' has address bits set past its length",
						      b64, text);
			}
		}
	}
	if (n < 2)
		return 0;
	/* Sorted, a key given twice is two neighbours: O(n log n) for the
	 * ten thousand peers of a large mesh. */
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory checking %zu peer changes", n);
	for (i = 0; i < n; i++)
		memcpy(keys[i], changes[i].public_key, ISIM_WG_KEY_LEN);
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++) {
		if (memcmp(keys[i - 1], keys[i], ISIM_WG_KEY_LEN) == 0) {
			isim_wg_key_b64(keys[i], b64);
			isim_error_set(err, ISIM_ERR_USAGE, "peer %s: changed twice in one set", b64);
			goto out;
		}
	}
	ret = 0;
out:
	free(keys);
	return ret;
}

/* An interface name as the kernel takes it (dev_valid_name): 1 to 15
 * bytes, no '/', and neither "." nor "..". Whitespace and ':' are refused
 * too, since iproute2 and the UAPI socket's file name cannot carry them. */
bool isim_wg_ifname_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= ISIM_WG_IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}
