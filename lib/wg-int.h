/* SPDX-License-Identifier: MIT */
#ifndef ISIM_WG_INT_H
#define ISIM_WG_INT_H

/* Inside lib/: what lib/wg.c (the interface), lib/wgpeer.c (the device
 * type and the checks), lib/wguapi.c (the UAPI socket) and lib/wgnl.c (the
 * kernel's generic netlink family) share. Nothing outside lib/ includes
 * this, but the unit tests. */

#include <stdint.h>

#include "isim/wg.h"

struct mnl_socket;

struct isim_wg {
	enum isim_wg_backend backend;
	char name[ISIM_WG_IFNAMSIZ];
	/* UAPI: the socket's path; connected afresh for each request, as
	 * wg(8) does. */
	char sock_path[108];
	/* by ticket: a set's connection awaiting its answer, or -1, and
	 * the number of changes it holds */
	int pending_fd[ISIM_WG_SETS_MAX];
	size_t pending_n[ISIM_WG_SETS_MAX];
	/* netlink */
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t seq, portid;
};

/* A new, zeroed peer at the end of d->peers: NULL when out of memory. */
struct isim_wg_peer *isim_wg_device_add_peer(struct isim_wg_device *d);
/* Append one prefix to p->allowed: 0, or -1 when out of memory. */
int isim_wg_peer_add_allowed(struct isim_wg_peer *p, const struct isim_prefix *pr);
/* The checks isim_wg_set promises before anything is sent: a key twice,
 * a prefix with host bits or a bad length, an endpoint that is neither
 * IPv4 nor IPv6. 0 or -1 with ISIM_ERR_USAGE. */
int isim_wg_check_changes(const struct isim_wg_peer *changes, size_t n, struct isim_error *err) ISIM_MUST_CHECK;

/* UAPI backend (lib/wguapi.c). open: the socket path exists and is a
 * socket (ISIM_ERR_NOINPUT when it does not exist: the caller then tries
 * netlink). */
int isim_wg_uapi_open(struct isim_wg *wg, const char *uapi_dir, struct isim_error *err) ISIM_MUST_CHECK;
int isim_wg_uapi_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err) ISIM_MUST_CHECK;
/* The set request sent, its connection kept in wg->pending_fd[ticket] (a
 * free one, which the caller found); then that ticket's answer read. */
int isim_wg_uapi_set_send(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, int ticket,
			  struct isim_error *err) ISIM_MUST_CHECK;
int isim_wg_uapi_set_wait(struct isim_wg *wg, int ticket, struct isim_error *err) ISIM_MUST_CHECK;

/* Netlink backend (lib/wgnl.c). open: the "wireguard" generic netlink
 * family and a device of that name that is a WireGuard device
 * (ISIM_ERR_NOINPUT: no interface of that name; ISIM_ERR_DATA: an
 * interface, but not WireGuard, or no family at all while the interface
 * exists). */
int isim_wg_nl_open(struct isim_wg *wg, struct isim_error *err) ISIM_MUST_CHECK;
int isim_wg_nl_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err) ISIM_MUST_CHECK;
int isim_wg_nl_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n,
		   struct isim_error *err) ISIM_MUST_CHECK;
void isim_wg_nl_close(struct isim_wg *wg);

#endif
