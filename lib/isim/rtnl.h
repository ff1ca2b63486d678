/* SPDX-License-Identifier: MIT */
#ifndef ISIM_RTNL_H
#define ISIM_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isim/error.h"

/*
 * rtnetlink (RFC 3549; linux/rtnetlink.h) through libmnl: the IPv6
 * addresses of an interface, and the events of its link. The one place
 * the programs change the kernel's addresses.
 */

#define ISIM_RTNL_IFNAMSIZ 16

struct isim_rtnl;

/* A NETLINK_ROUTE socket. With events, it also receives the kernel's
 * link and IPv6 address notifications (RTMGRP_LINK, RTMGRP_IPV6_IFADDR),
 * read with isim_rtnl_events; requests then go through a second socket, so
 * that an answer is never mistaken for an event. */
int isim_rtnl_open(struct isim_rtnl **out, bool events, struct isim_error *err) ISIM_MUST_CHECK;
void isim_rtnl_close(struct isim_rtnl *r);
/* The descriptor to poll for events (-1 without). */
int isim_rtnl_event_fd(const struct isim_rtnl *r);

struct isim_rtnl_link {
	unsigned ifindex;
	unsigned flags; /* IFF_UP, IFF_RUNNING, IFF_LOWER_UP ... */
	char name[ISIM_RTNL_IFNAMSIZ];
};

/* The link called name: 0, or -1 with ISIM_ERR_NOINPUT when there is none. */
int isim_rtnl_link_get(struct isim_rtnl *r, const char *name, struct isim_rtnl_link *out,
		       struct isim_error *err) ISIM_MUST_CHECK;

struct isim_rtnl_addr {
	uint8_t addr[16];
	uint8_t prefixlen;
	uint8_t scope;
	uint8_t proto;	/* IFA_PROTO: who added it (0 unknown) */
	uint32_t flags; /* IFA_F_* */
};

/* Add an IPv6 address to ifindex with the IFA_F_* flags and the IFA_PROTO
 * proto (0: none). Adding one that is there is EEXIST: 0, with *existed.
 * -1 with err otherwise. */
int isim_rtnl_addr6_add(struct isim_rtnl *r, unsigned ifindex, const uint8_t addr[static 16], uint8_t prefixlen,
			uint32_t flags, uint8_t proto, bool *existed, struct isim_error *err) ISIM_MUST_CHECK;
/* Delete it; one that is not there is 0 with *missing. */
int isim_rtnl_addr6_del(struct isim_rtnl *r, unsigned ifindex, const uint8_t addr[static 16], uint8_t prefixlen,
			bool *missing, struct isim_error *err) ISIM_MUST_CHECK;
/* The IPv6 addresses of ifindex (all interfaces for 0): *out, *n, freed
 * with free(). */
int isim_rtnl_addr6_list(struct isim_rtnl *r, unsigned ifindex, struct isim_rtnl_addr **out, size_t *n,
			 struct isim_error *err) ISIM_MUST_CHECK;

enum isim_rtnl_event_type {
	ISIM_RTNL_LINK_NEW, /* appeared, or changed: flags, name */
	ISIM_RTNL_LINK_DEL,
	ISIM_RTNL_ADDR_NEW,
	ISIM_RTNL_ADDR_DEL,
};

struct isim_rtnl_event {
	enum isim_rtnl_event_type type;
	struct isim_rtnl_link link; /* for a link event; ifindex for both */
	struct isim_rtnl_addr addr; /* for an address event */
};

/* Read the events that are waiting (without blocking) and call fn for
 * each; fn returning non-zero stops and is returned. An overrun (ENOBUFS:
 * events were lost) is reported as ISIM_RTNL_LINK_NEW with ifindex 0, so
 * that the caller reads the state again. -1 with err when reading fails. */
int isim_rtnl_events(struct isim_rtnl *r, int (*fn)(const struct isim_rtnl_event *ev, void *ctx), void *ctx,
		     struct isim_error *err) ISIM_MUST_CHECK;

#endif
