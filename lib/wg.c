/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

struct isim_wg_peer *isim_wg_device_peer(const struct isim_wg_device *d, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t i;

	for (i = 0; d && i < d->npeers; i++) {
		if (!memcmp(d->peers[i].public_key, key, ISIM_WG_KEY_LEN))
			return &d->peers[i];
	}
	return NULL;
}

/* Arrays without a capacity field: room for 16 at first, doubled each
 * time the count reaches a power of two. */
static bool full(size_t n, size_t first)
{
	return n == 0 || (n >= first && (n & (n - 1)) == 0);
}

struct isim_wg_peer *isim_wg_device_add_peer(struct isim_wg_device *d)
{
	struct isim_wg_peer *p;

	if (full(d->npeers, 16)) {
		p = realloc(d->peers, (d->npeers ? 2 * d->npeers : 16) * sizeof(*p));
		if (!p)
			return NULL;
		d->peers = p;
	}
	p = &d->peers[d->npeers++];
	memset(p, 0, sizeof(*p));
	return p;
}

int isim_wg_peer_add_allowed(struct isim_wg_peer *p, const struct isim_prefix *pr)
{
	struct isim_prefix *a;

	if (full(p->nallowed, 4)) {
		a = realloc(p->allowed, (p->nallowed ? 2 * p->nallowed : 4) * sizeof(*a));
		if (!a)
			return -1;
		p->allowed = a;
	}
	p->allowed[p->nallowed++] = *pr;
	return 0;
}

void isim_wg_key_b64(const uint8_t key[static ISIM_WG_KEY_LEN], char out[static ISIM_WG_KEY_B64LEN])
{
	sodium_bin2base64(out, ISIM_WG_KEY_B64LEN, key, ISIM_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ISIM_WG_KEY_LEN);
}

int isim_wg_check_changes(const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	uint8_t(*keys)[ISIM_WG_KEY_LEN];
	char b64[ISIM_WG_KEY_B64LEN];
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct isim_wg_peer *c = &changes[i];
		sa_family_t f = c->endpoint.sa.sa_family;

		isim_wg_key_b64(c->public_key, b64);
		if (c->flags & ISIM_WG_PEER_REMOVE)
			continue;
		if (f != AF_UNSPEC && f != AF_INET && f != AF_INET6)
			return isim_error_set(err, ISIM_ERR_USAGE, "peer %s: the endpoint is neither IPv4 nor IPv6",
					      b64);
		for (j = 0; j < c->nallowed; j++) {
			const struct isim_prefix *p = &c->allowed[j];
			struct isim_prefix t;
			char text[ISIM_PREFIX_STRLEN];
			const char *why;

			if ((p->family != AF_INET && p->family != AF_INET6) ||
			    p->len > (p->family == AF_INET ? 32 : 128))
				return isim_error_set(err, ISIM_ERR_USAGE, "peer %s: allowed IP %zu is not a prefix",
						      b64, j);
			/* Its text says what the device would make of it. */
			isim_prefix_format(p, text);
			if (isim_prefix_parse(text, false, &t, &why) < 0)
				return isim_error_set(err, ISIM_ERR_USAGE, "peer %s: allowed IP %s %s", b64, text, why);
		}
	}
	/* A key twice in one transaction says two things of one peer. */
	keys = malloc((n ? n : 1) * sizeof(*keys));
	if (!keys)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++)
		memcpy(keys[i], changes[i].public_key, ISIM_WG_KEY_LEN);
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++) {
		if (!memcmp(keys[i - 1], keys[i], ISIM_WG_KEY_LEN)) {
			isim_wg_key_b64(keys[i], b64);
			free(keys);
			return isim_error_set(err, ISIM_ERR_USAGE, "peer %s is changed twice in one set", b64);
		}
	}
	free(keys);
	return 0;
}

const char *isim_wg_backend_name(enum isim_wg_backend b)
{
	return b == ISIM_WG_NETLINK ? "netlink" : "uapi";
}

enum isim_wg_backend isim_wg_backend_of(const struct isim_wg *wg)
{
	return wg->backend;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ISIM_WG_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

int isim_wg_open(const char *dev, const char *uapi_dir, struct isim_wg **out, struct isim_error *err)
{
	struct isim_wg *wg;

	*out = NULL;
	if (!valid_ifname(dev))
		return isim_error_set(err, ISIM_ERR_USAGE,
				      "'%.64s' is not an interface name (1 to 15 characters, no '/')", dev);
	wg = calloc(1, sizeof(*wg));
	if (!wg)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	snprintf(wg->name, sizeof(wg->name), "%s", dev);
	wg->pending_fd = -1;
	if (isim_wg_uapi_open(wg, uapi_dir ? uapi_dir : ISIM_WG_UAPI_DIR, err) == 0) {
		wg->backend = ISIM_WG_UAPI;
	} else if (err->kind != ISIM_ERR_NOINPUT) {
		free(wg);
		return -1;
	} else if (isim_wg_nl_open(wg, err) == 0) {
		wg->backend = ISIM_WG_NETLINK;
	} else {
		free(wg);
		return -1;
	}
	*out = wg;
	return 0;
}

void isim_wg_close(struct isim_wg *wg)
{
	if (!wg)
		return;
	if (wg->backend == ISIM_WG_NETLINK)
		isim_wg_nl_close(wg);
	if (wg->pending_fd >= 0)
		close(wg->pending_fd);
	free(wg);
}

int isim_wg_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	*out = NULL;
	return wg->backend == ISIM_WG_NETLINK ? isim_wg_nl_get(wg, out, err) : isim_wg_uapi_get(wg, out, err);
}

int isim_wg_set_begin(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	if (!n)
		return 0;
	if (isim_wg_check_changes(changes, n, err) < 0)
		return -1;
	/* Netlink's messages are acknowledged one by one: all of it now. */
	if (wg->backend == ISIM_WG_NETLINK)
		return isim_wg_nl_set(wg, changes, n, err);
	return isim_wg_uapi_set_send(wg, changes, n, err);
}

int isim_wg_set_end(struct isim_wg *wg, struct isim_error *err)
{
	if (wg->pending_fd < 0)
		return 0;
	return isim_wg_uapi_set_wait(wg, err);
}

int isim_wg_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	if (isim_wg_set_begin(wg, changes, n, err) < 0)
		return -1;
	return isim_wg_set_end(wg, err);
}
