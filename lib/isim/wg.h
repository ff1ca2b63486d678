/* SPDX-License-Identifier: MIT */
#ifndef ISIM_WG_H
#define ISIM_WG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "isim/buf.h"
#include "isim/error.h"
#include "isim/prefix.h"

/*
 * WireGuard devices, the one seam between the tools and WireGuard: the
 * cross-platform UAPI socket (DIR/DEV.sock, as wireguard-go and boringtun
 * serve it; wireguard.com/xplatform) and the Linux kernel's generic netlink
 * family "wireguard" (linux/wireguard.h), behind one interface. A change
 * set is applied as one transaction on the device: one UAPI "set=1"
 * request, or the fewest netlink messages that hold it; never a restart
 * or a replace_peers, so that the other peers' tunnels do not notice.
 *
 * Private keys never cross this interface: a UAPI "get" carries the
 * device's private key; it is turned into the public key and wiped.
 */

#define ISIM_WG_KEY_LEN 32
/* A key as base64, WireGuard's spelling: 44 characters and the NUL. */
#define ISIM_WG_KEY_B64LEN 45
#define ISIM_WG_IFNAMSIZ 16
#define ISIM_WG_UAPI_DIR "/var/run/wireguard"

/* What a change does to a peer (struct isim_wg_peer.flags). */
enum {
	ISIM_WG_PEER_REMOVE = 1 << 0,	       /* remove the peer (nothing else is read) */
	ISIM_WG_PEER_REPLACE_ALLOWED = 1 << 1, /* allowed replaces its AllowedIPs, else adds to them */
	ISIM_WG_PEER_UPDATE_ONLY = 1 << 2,     /* change the peer only if it exists */
	ISIM_WG_PEER_HAS_KEEPALIVE = 1 << 3,   /* set keepalive */
};

union isim_wg_endpoint {
	struct sockaddr sa; /* sa_family AF_UNSPEC: none */
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct isim_wg_peer {
	uint8_t public_key[ISIM_WG_KEY_LEN];
	unsigned flags;			 /* ISIM_WG_PEER_*, for a change */
	union isim_wg_endpoint endpoint; /* AF_UNSPEC: none (or unchanged) */
	uint16_t keepalive;		 /* seconds, 0 off */
	struct isim_prefix *allowed;
	size_t nallowed;
	/* As read from the device; ignored in a change. */
	int64_t last_handshake; /* seconds since the epoch, 0 never */
	uint64_t rx_bytes, tx_bytes;
};

struct isim_wg_device {
	char name[ISIM_WG_IFNAMSIZ];
	bool has_public_key;
	uint8_t public_key[ISIM_WG_KEY_LEN]; /* derived from the private key */
	uint16_t listen_port;
	uint32_t fwmark;
	struct isim_wg_peer *peers;
	size_t npeers;
	bool sorted; /* peers in the order of their keys (isim_wg_device_sort) */
};

void isim_wg_device_free(struct isim_wg_device *d);
/* Peers put in the order of their keys, so that isim_wg_device_peer
 * finds one in O(log n) rather than O(n) (a device of 10,000 peers looked
 * up for each of its nodes); adding a peer undoes it. */
void isim_wg_device_sort(struct isim_wg_device *d);
/* The peer with that key, or NULL. */
struct isim_wg_peer *isim_wg_device_peer(const struct isim_wg_device *d, const uint8_t key[static ISIM_WG_KEY_LEN]);

enum isim_wg_backend {
	ISIM_WG_UAPI = 1,
	ISIM_WG_NETLINK,
};

struct isim_wg;

/* dev can name a network interface: 1 to 15 bytes, none of them '/', ':',
 * white space or control characters, and not "." or "..". */
#define ISIM_WG_IFNAME_RULE "an interface name (1 to 15 bytes, no '/', ':' or white space)"
bool isim_wg_ifname_valid(const char *dev);

/*
 * The device dev: its UAPI socket uapi_dir/dev.sock when there is one
 * (uapi_dir NULL: ISIM_WG_UAPI_DIR), else the kernel's netlink family.
 * ISIM_ERR_USAGE for a name that is no interface name, ISIM_ERR_NOINPUT
 * when no such device exists, ISIM_ERR_DATA when dev exists but is not a
 * WireGuard device, ISIM_ERR_PERM without the right to its socket.
 */
int isim_wg_open(const char *dev, const char *uapi_dir, struct isim_wg **out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_wg_close(struct isim_wg *wg);
enum isim_wg_backend isim_wg_backend_of(const struct isim_wg *wg);
/* "uapi" or "netlink". */
const char *isim_wg_backend_name(enum isim_wg_backend b);

/* The device's configuration and its peers, in the device's order. */
int isim_wg_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err) ISIM_MUST_CHECK;
/* Apply changes to n peers as one transaction. The whole set is checked
 * before anything is sent (ISIM_ERR_USAGE for a change that cannot be
 * expressed: an endpoint of another family, a prefix with host bits). The
 * device's refusal is ISIM_ERR_IO with its errno. */
int isim_wg_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n,
		struct isim_error *err) ISIM_MUST_CHECK;

/* The same in two halves, so that the caller can work while the device
 * applies the change: begin sends it (after the same checks) and gives it
 * a ticket, end waits for the answer to that ticket's change. Up to
 * ISIM_WG_SETS_MAX changes may be outstanding, so that the next is queued
 * at the device while it applies one: the device takes them one at a
 * time, in no promised order. A ticket of -1 (nothing was sent: no
 * changes, or netlink, which is answered at once) ends at once. Every
 * ticket needs its end; isim_wg_get and isim_wg_set wait for none. */
#define ISIM_WG_SETS_MAX 4
int isim_wg_set_begin(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, int *ticket,
		      struct isim_error *err) ISIM_MUST_CHECK;
int isim_wg_set_end(struct isim_wg *wg, int ticket, struct isim_error *err) ISIM_MUST_CHECK;

/* ---- the two wire formats, for tests and fuzzers ---------------------- */

/* The UAPI "set=1" request for changes, ending in the blank line. */
int isim_wg_uapi_format_set(const struct isim_wg_peer *changes, size_t n, struct isim_buf *out,
			    struct isim_error *err) ISIM_MUST_CHECK;
/* A UAPI "get=1" reply (key=value lines up to and including "errno=N" and
 * the blank line). A nonzero errno is ISIM_ERR_IO; anything else that is
 * not the protocol, ISIM_ERR_DATA naming the line. */
int isim_wg_uapi_parse_get(const char *text, size_t len, struct isim_wg_device **out,
			   struct isim_error *err) ISIM_MUST_CHECK;
/* The errno of a UAPI "set" reply ("errno=N\n\n"): 0 and *errnum, or -1
 * for a reply that is not one. */
int isim_wg_uapi_parse_errno(const char *text, size_t len, int *errnum);

/* Netlink messages (libmnl) of generic netlink family id family, one after
 * another in out, each at most max_size bytes: WG_CMD_SET_DEVICE for
 * ifname with the changes, split where a message is full (a peer whose
 * AllowedIPs do not fit continues in the next message without
 * WGPEER_F_REPLACE_ALLOWEDIPS). *count gets the number of messages. */
int isim_wg_nl_build_set(uint16_t family, const char *ifname, uint32_t seq, const struct isim_wg_peer *changes,
			 size_t n, size_t max_size, struct isim_buf *out, size_t *count,
			 struct isim_error *err) ISIM_MUST_CHECK;
/* The WG_CMD_GET_DEVICE dump request for ifname. */
int isim_wg_nl_build_get(uint16_t family, const char *ifname, uint32_t seq, struct isim_buf *out,
			 struct isim_error *err) ISIM_MUST_CHECK;
/* One message of a WG_CMD_GET_DEVICE dump reply (the attribute layout of
 * linux/wireguard.h), merged into d: a peer split over two messages is one
 * peer. NLMSG_DONE is 1, a message added 0, anything malformed -1 with
 * ISIM_ERR_DATA, an NLMSG_ERROR -1 with ISIM_ERR_IO and its errno. */
int isim_wg_nl_parse_get(const void *msg, size_t len, struct isim_wg_device *d, struct isim_error *err) ISIM_MUST_CHECK;

/* key as base64. */
void isim_wg_key_b64(const uint8_t key[static ISIM_WG_KEY_LEN], char out[static ISIM_WG_KEY_B64LEN]);
/* The key s is the base64 of, in its one canonical spelling (what `wg
 * genkey | wg pubkey` prints): true and out, or false. */
bool isim_wg_key_parse(const char *s, uint8_t out[static ISIM_WG_KEY_LEN]);

#endif
