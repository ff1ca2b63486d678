/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/descriptor.h"
#include "isim/file.h"
#include "isim/jcs.h"
#include "isim/json.h"
#include "isim/trust.h"
#include "rendezvous.h"

#define PROG "isim-rendezvous run"
#define DESCRIPTOR_FILE_MAX 65536
/* Nodes remembered, so that one that floods new descriptors cannot take
 * all memory: beyond it the oldest is forgotten (and printed again when
 * it comes back). */
#define PEERS_MAX 65536
#define SEEN_MAX 8192

void rendezvous_run_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --dev IF --descriptor FILE [--port N] [--once]\n"
		   "       [--trust DIR | --pub KEY.pub] [--secret FILE] [--epoch-seconds N]\n"
		   "       [--slots N] [--slot-ms N] [--clock-offset MS]\n"
		   "\n"
		   "Discover the nodes of the mesh on IF's link. Around each slot this node holds\n"
		   "the slot's rendezvous address (from 1.5 slots before it to 1.5 after), at\n"
		   "its start sends its signed descriptor to the address's solicited-node group,\n"
		   "and answers by unicast the nodes that are new to it there, or new to the\n"
		   "link. Each node newly found, or whose descriptor changed, is printed as one\n"
		   "JSON line: {\"node_id\", \"source\", \"epoch\", \"slot\", \"verified\", \"key_id\",\n"
		   "\"reason\", \"descriptor\"}; verified is true when the descriptor's attestation\n"
		   "holds under the trusted signers (a refused one is printed again once it\n"
		   "verifies, checked at most once an epoch, and after SIGHUP).\n"
		   "isim-wgadmit admit reads these lines as they are. Counters go to stderr as\n"
		   "JSON on SIGUSR1 and at exit.\n"
		   "\n"
		   "      --dev IF            the interface whose link to meet on (required)\n"
		   "  -D, --descriptor FILE   this node's signed descriptor (isim-sign descriptor)\n"
		   "      --port N            UDP port (default 51871)\n"
		   "      --once              stop after one epoch (and a slot for late clocks)\n"
		   "  -d, --trust DIR         trusted signers (default $ISIM_TRUST_DIR, else\n"
		   "                          /etc/infrasim/trusted-signers)\n"
		   "  -p, --pub KEY.pub       trust this one public key instead\n" RV_USAGE_COMMON
		   "  -h, --help              this text\n"
		   "  -V, --version           print the version\n"
		   "\n"
		   "Exit status: 0 on SIGTERM, SIGINT or the end of --once, 64 usage, 65 the\n"
		   "descriptor is invalid, unsigned or too long for a datagram (or the secret\n"
		   "file over 4096 bytes), 66 no such interface, descriptor, secret or trusted\n"
		   "signers, 69 the port is taken, 70 internal error, 74 stdout closed or the\n"
		   "link's events unreadable, 77 not allowed to change addresses or bind the\n"
		   "port, or the secret is accessible to others, 78 the secret is too short\n"
		   "or the trusted signers are unusable.\n");
}

/* A node this one has found. */
struct peer {
	char node_id[64];
	uint8_t digest[32]; /* of the descriptor's text */
	uint64_t reply_epoch, reply_slot;
	bool replied;
	bool verified;	    /* printed as verified; else it is checked again */
	int64_t checked_at; /* when its descriptor was last verified */
};

/* A slot whose address is held (or to be). */
struct held {
	struct isim_rv_slot sl;
	uint8_t addr[16];
	bool present; /* on the interface */
};

struct counters {
	uint64_t announce, beacon, reply, send_failed;
	uint64_t received, discovered, verified, refused;
	uint64_t dropped[ISIM_RV_DROP_NDROPS];
	uint64_t dropped_source, dropped_self, dropped_descriptor;
};

struct daemon {
	struct rv_opts *o;
	const char *descriptor_path;
	struct isim_rv_keys *k;
	struct isim_rtnl *nl;
	struct isim_rtnl_link link; /* ifindex 0 while the interface is gone */
	uint8_t src[16];	    /* this node's own link-local address */
	bool have_src, resync, src_again;
	int sock, sigfd;
	uint16_t port;
	struct held held[ISIM_RV_HELD_MAX];
	size_t nheld;
	struct isim_rv_slot announced;
	bool have_announced;
	int64_t hello_until; /* announce (asking for replies) until then */
	struct isim_rv_seen seen;
	struct peer *peers;
	size_t npeers, cappeers, oldest;
	uint8_t *desc; /* this node's descriptor, RFC 8785 text */
	size_t desc_len;
	struct isim_descriptor_schema schema;
	struct isim_trust *trust;
	struct isim_trust_opt *trust_opt;
	struct counters n;
	bool warned_send, warned_add, warned_src, running;
	int64_t started;
	int rc; /* the exit code once stopping; -1 while running */
};

static void say(const char *fmt, ...) ISIM_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_counters(const struct daemon *d)
{
	const struct counters *n = &d->n;
	int i;

	fprintf(stderr,
		"{\"sent\":{\"announce\":%llu,\"beacon\":%llu,\"reply\":%llu,\"failed\":%llu},\"received\":%llu,"
		"\"discovered\":%llu,\"verified\":%llu,\"refused\":%llu,\"dropped\":{",
		(unsigned long long)n->announce, (unsigned long long)n->beacon, (unsigned long long)n->reply,
		(unsigned long long)n->send_failed, (unsigned long long)n->received, (unsigned long long)n->discovered,
		(unsigned long long)n->verified, (unsigned long long)n->refused);
	for (i = ISIM_RV_DROP_SIZE; i < ISIM_RV_DROP_NDROPS; i++)
		fprintf(stderr, "\"%s\":%llu,", isim_rv_drop_name(i), (unsigned long long)n->dropped[i]);
	fprintf(stderr, "\"source\":%llu,\"self\":%llu,\"descriptor\":%llu}}\n", (unsigned long long)n->dropped_source,
		(unsigned long long)n->dropped_self, (unsigned long long)n->dropped_descriptor);
	fflush(stderr);
}

/* ---- this node's descriptor ------------------------------------------------- */

static int load_descriptor(struct daemon *d)
{
	struct isim_error err;
	struct isim_buf canon = { 0 };
	char *text = NULL;
	size_t len;
	cJSON *doc = NULL;
	int rc;

	isim_error_clear(&err);
	if (isim_file_read(d->descriptor_path, DESCRIPTOR_FILE_MAX, &text, &len, &err) < 0 ||
	    isim_json_parse(text, len, d->descriptor_path, &doc, &err) < 0)
		goto fail;
	isim_error_at(&err, d->descriptor_path, 0, 0);
	if (isim_schema_check(d->schema.schema, doc, &err) < 0)
		goto fail;
	if (!cJSON_GetObjectItemCaseSensitive(doc, "attestation")) {
		isim_error_set(&err, ISIM_ERR_DATA, "the descriptor is not signed (isim-sign descriptor signs it)");
		goto fail;
	}
	if (isim_jcs_from_cjson(doc, &canon, &err) < 0)
		goto fail;
	if (canon.len > ISIM_RV_DESCRIPTOR_MAX) {
		isim_error_set(&err, ISIM_ERR_DATA,
			       "the descriptor is %zu bytes in its RFC 8785 form; a datagram carries at most %d",
			       canon.len, ISIM_RV_DESCRIPTOR_MAX);
		goto fail;
	}
	free(d->desc);
	d->desc = (uint8_t *)canon.s;
	d->desc_len = canon.len;
	canon.s = NULL;
	rc = 0;
	goto out;
fail:
	if (!err.path[0])
		isim_error_at(&err, d->descriptor_path, 0, 0);
	rc = isim_fail(PROG, &err);
out:
	isim_buf_free(&canon);
	cJSON_Delete(doc);
	free(text);
	return rc;
}

/* ---- addresses ------------------------------------------------------------------- */

static void addr_del(struct daemon *d, struct held *h)
{
	struct isim_error err;
	bool missing;
	char a[64];

	if (!h->present || !d->link.ifindex)
		return;
	h->present = false;
	isim_error_clear(&err);
	if (isim_rtnl_addr6_del(d->nl, d->link.ifindex, h->addr, 64, &missing, &err) < 0) {
		rv_addr_text(h->addr, d->link.name, a, sizeof(a));
		say("cannot remove %s: %s", a, err.msg);
	}
}

static int addr_add(struct daemon *d, struct held *h)
{
	struct isim_error err;
	bool existed;

	isim_error_clear(&err);
	/* NODAD: every node holds the address, and DAD would make it
	 * unusable for a second or more (isim-formats(5)). */
	if (isim_rtnl_addr6_add(d->nl, d->link.ifindex, h->addr, 64, IFA_F_NODAD | IFA_F_NOPREFIXROUTE, RV_ADDR_PROTO,
				&existed, &err) < 0) {
		if (err.kind == ISIM_ERR_PERM)
			return isim_fail(PROG, &err);
		if (!d->warned_add)
			say("%s: %s (tried again at the next slot)", d->link.name, err.msg);
		d->warned_add = true;
		return 0;
	}
	h->present = true;
	return 0;
}

/* Hold the addresses of the slots around now, and only those. */
static int sync_addresses(struct daemon *d, int64_t now)
{
	struct isim_rv_slot want[ISIM_RV_HELD_MAX];
	struct held next[ISIM_RV_HELD_MAX];
	size_t nwant = isim_rv_slots_held(&d->o->sched, now, want), i, j, n = 0;
	bool up = d->link.ifindex && (d->link.flags & IFF_UP);
	int rc;

	for (i = 0; i < d->nheld; i++) {
		for (j = 0; j < nwant; j++) {
			if (want[j].epoch == d->held[i].sl.epoch && want[j].slot == d->held[i].sl.slot)
				break;
		}
		if (j == nwant)
			addr_del(d, &d->held[i]);
	}
	for (j = 0; j < nwant; j++) {
		for (i = 0; i < d->nheld; i++) {
			if (want[j].epoch == d->held[i].sl.epoch && want[j].slot == d->held[i].sl.slot)
				break;
		}
		if (i < d->nheld) {
			next[n] = d->held[i];
		} else {
			next[n].sl = want[j];
			isim_rv_address(d->k, want[j].epoch, want[j].slot, next[n].addr);
			next[n].present = false;
		}
		if (!next[n].present && up && (rc = addr_add(d, &next[n])))
			return rc;
		n++;
	}
	memcpy(d->held, next, n * sizeof(next[0]));
	d->nheld = n;
	d->resync = false;
	return 0;
}

/* Remove what a run killed before it could left on the interface. */
static int remove_stale(struct daemon *d)
{
	struct isim_rtnl_addr *a = NULL;
	struct isim_error err;
	size_t n = 0, i;
	bool missing;
	int rc = 0;

	isim_error_clear(&err);
	if (isim_rtnl_addr6_list(d->nl, d->link.ifindex, &a, &n, &err) < 0)
		return isim_fail(PROG, &err);
	for (i = 0; i < n; i++) {
		if (a[i].proto != RV_ADDR_PROTO)
			continue;
		if (isim_rtnl_addr6_del(d->nl, d->link.ifindex, a[i].addr, a[i].prefixlen, &missing, &err) < 0) {
			rc = isim_fail(PROG, &err);
			break;
		}
	}
	free(a);
	return rc;
}

/* This node's own link-local address, the source of what it sends, so
 * that answers come to it alone and not to every holder of a slot's. */
static int find_source(struct daemon *d)
{
	struct isim_rtnl_addr *a = NULL;
	struct isim_error err;
	size_t n = 0, i;

	d->have_src = false;
	d->src_again = false;
	if (!d->link.ifindex)
		return 0;
	isim_error_clear(&err);
	if (isim_rtnl_addr6_list(d->nl, d->link.ifindex, &a, &n, &err) < 0)
		return isim_fail(PROG, &err);
	for (i = 0; i < n; i++) {
		if (a[i].proto == RV_ADDR_PROTO || a[i].addr[0] != 0xfe || (a[i].addr[1] & 0xc0) != 0x80 ||
		    (a[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		memcpy(d->src, a[i].addr, 16);
		d->have_src = true;
		break;
	}
	free(a);
	return 0;
}

/* ---- the link's events -------------------------------------------------------------- */

static void forget_held(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nheld; i++)
		d->held[i].present = false;
	d->resync = true;
}

static int on_event(const struct isim_rtnl_event *ev, void *ctx)
{
	struct daemon *d = ctx;
	const struct isim_rtnl_link *l = &ev->link;
	size_t i;

	switch (ev->type) {
	case ISIM_RTNL_LINK_NEW:
		if (l->ifindex == 0) {
			/* Events were lost: read the state again. */
			forget_held(d);
			d->src_again = true;
		} else if (!d->link.ifindex && !strcmp(l->name, d->o->dev)) {
			d->link = *l;
			say("interface %s is back (index %u)", l->name, l->ifindex);
			d->hello_until = 0;
			d->src_again = true;
			forget_held(d);
		} else if (l->ifindex == d->link.ifindex) {
			bool was_up = d->link.flags & IFF_UP;

			d->link = *l;
			if (!was_up && (l->flags & IFF_UP)) {
				/* Taking the link down deleted the addresses. */
				d->hello_until = 0;
				d->src_again = true;
				forget_held(d);
			} else if (!(l->flags & IFF_UP)) {
				forget_held(d);
				d->have_src = false;
			}
		}
		break;
	case ISIM_RTNL_LINK_DEL:
		if (l->ifindex == d->link.ifindex) {
			say("interface %s was removed; waiting for %s to come back", d->link.name, d->o->dev);
			d->link.ifindex = 0;
			d->have_src = false;
			forget_held(d);
		}
		break;
	case ISIM_RTNL_ADDR_NEW:
		if (l->ifindex == d->link.ifindex && !d->have_src)
			d->src_again = true;
		break;
	case ISIM_RTNL_ADDR_DEL:
		if (l->ifindex != d->link.ifindex)
			break;
		if (d->have_src && !memcmp(ev->addr.addr, d->src, 16))
			d->src_again = true;
		for (i = 0; i < d->nheld; i++) {
			if (!memcmp(ev->addr.addr, d->held[i].addr, 16) && d->held[i].present) {
				d->held[i].present = false;
				d->resync = true;
			}
		}
		break;
	}
	return 0;
}

/* ---- sending ---------------------------------------------------------------------- */

static void send_to(struct daemon *d, uint8_t type, const struct isim_rv_slot *sl, const uint8_t to[static 16])
{
	uint8_t buf[ISIM_RV_DATAGRAM_MAX];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(d->port) };
	struct iovec iov = { .iov_base = buf };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1 };
	struct in6_pktinfo pi = { .ipi6_ifindex = d->link.ifindex };
	struct isim_rv_msg own = { 0 };
	struct cmsghdr *cm;

	if (!d->have_src || !d->link.ifindex)
		return;
	iov.iov_len = isim_rv_seal(d->k, type, sl->epoch, sl->slot, d->desc, d->desc_len, buf);
	/* What this node sends, heard back (a replay), is not news to it. */
	own.epoch = sl->epoch;
	own.slot = sl->slot;
	memcpy(own.tag, buf + iov.iov_len - ISIM_RV_TAG, ISIM_RV_TAG);
	(void)isim_rv_seen_check(&d->seen, &d->o->sched, rv_now(d->o), &own);
	memcpy(&sa.sin6_addr, to, 16);
	sa.sin6_scope_id = d->link.ifindex;
	/* The source is this node's own address, whatever the kernel would
	 * pick among those of the slots (RFC 6724 knows nothing of them). */
	memcpy(&pi.ipi6_addr, d->src, 16);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(d->sock, &mh, 0) < 0) {
		d->n.send_failed++;
		if (!d->warned_send)
			say("%s: cannot send: %s", d->link.name, strerror(errno));
		d->warned_send = true;
		return;
	}
	if (type == ISIM_RV_ANNOUNCE)
		d->n.announce++;
	else if (type == ISIM_RV_BEACON)
		d->n.beacon++;
	else
		d->n.reply++;
}

/* At the start of each slot, the descriptor to the slot's group: as an
 * announce, which every node answers, while this node is new to the link;
 * as a beacon after, which only those to whom it is new answer. */
static void announce(struct daemon *d, int64_t now)
{
	struct isim_rv_slot sl;
	uint8_t a[16], g[16];

	if (!isim_rv_slot_at(&d->o->sched, now, &sl) || !d->have_src || !d->link.ifindex || !(d->link.flags & IFF_UP))
		return;
	if (d->have_announced && sl.epoch == d->announced.epoch && sl.slot == d->announced.slot)
		return;
	if (!d->hello_until)
		d->hello_until = now + (int64_t)d->o->sched.epoch_ms;
	isim_rv_address(d->k, sl.epoch, sl.slot, a);
	isim_rv_group(a, g);
	send_to(d, now < d->hello_until ? ISIM_RV_ANNOUNCE : ISIM_RV_BEACON, &sl, g);
	d->announced = sl;
	d->have_announced = true;
}

/* ---- receiving ------------------------------------------------------------------- */

static struct peer *peer_find(struct daemon *d, const char *node_id)
{
	size_t i;

	for (i = 0; i < d->npeers; i++) {
		if (!strcmp(d->peers[i].node_id, node_id))
			return &d->peers[i];
	}
	return NULL;
}

static struct peer *peer_add(struct daemon *d, const char *node_id)
{
	struct peer *p;

	if (d->npeers == PEERS_MAX) {
		p = &d->peers[d->oldest];
		d->oldest = (d->oldest + 1) % PEERS_MAX;
	} else {
		if (d->npeers == d->cappeers) {
			size_t cap = d->cappeers ? d->cappeers * 2 : 64;
			struct peer *np = realloc(d->peers, cap * sizeof(*np));

			if (!np)
				return NULL;
			d->peers = np;
			d->cappeers = cap;
		}
		p = &d->peers[d->npeers++];
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->node_id, sizeof(p->node_id), "%s", node_id);
	return p;
}

/* Print a descriptor found: 0, or ISIM_EXIT_IOERR when stdout is gone. */
static int print_found(struct daemon *d, struct peer *p, cJSON *doc, const uint8_t src[static 16],
		       const struct isim_rv_msg *m, int64_t now)
{
	const char *node_id = p->node_id;
	struct isim_verdict v;
	struct isim_error err;
	char text[80];
	cJSON *line = cJSON_CreateObject();
	int rc;

	if (!line)
		return 0;
	isim_error_clear(&err);
	if (isim_descriptor_verify(NULL, doc, (time_t)(now / 1000), isim_trust_lookup, d->trust, &v, &err) < 0)
		isim_verdict_refuse_error(&v, &err);
	p->checked_at = now;
	p->verified = v.ok;
	if (v.ok)
		d->n.verified++;
	else
		d->n.refused++;
	cJSON_AddStringToObject(line, "node_id", node_id);
	rv_addr_text(src, d->link.name, text, sizeof(text));
	cJSON_AddStringToObject(line, "source", text);
	cJSON_AddNumberToObject(line, "epoch", (double)m->epoch);
	cJSON_AddNumberToObject(line, "slot", (double)m->slot);
	cJSON_AddBoolToObject(line, "verified", v.ok);
	if (v.key_id[0])
		cJSON_AddStringToObject(line, "key_id", v.key_id);
	else
		cJSON_AddNullToObject(line, "key_id");
	if (v.ok)
		cJSON_AddNullToObject(line, "reason");
	else
		cJSON_AddStringToObject(line, "reason", v.reason);
	cJSON_AddItemReferenceToObject(line, "descriptor", doc);
	rc = isim_json_write_line(stdout, line) < 0 ? isim_stdout_error(PROG) : 0;
	cJSON_Delete(line);
	return rc;
}

static int on_datagram(struct daemon *d, const uint8_t *buf, size_t len, const struct sockaddr_in6 *from, int64_t now)
{
	struct isim_rv_msg m;
	enum isim_rv_drop why;
	struct isim_error err;
	const cJSON *nid;
	cJSON *doc = NULL;
	uint8_t digest[32];
	struct peer *p;
	bool changed;
	int rc = 0;

	d->n.received++;
	why = isim_rv_open(d->k, buf, len, &m);
	if (why == ISIM_RV_OK && !isim_rv_in_window(&d->o->sched, now, m.epoch, m.slot))
		why = ISIM_RV_DROP_WINDOW;
	if (why == ISIM_RV_OK && isim_rv_seen_check(&d->seen, &d->o->sched, now, &m))
		why = ISIM_RV_DROP_REPLAY;
	if (why != ISIM_RV_OK) {
		d->n.dropped[why]++;
		return 0;
	}
	if (!IN6_IS_ADDR_LINKLOCAL(&from->sin6_addr)) {
		d->n.dropped_source++;
		return 0;
	}
	if (d->have_src && !memcmp(&from->sin6_addr, d->src, 16)) {
		d->n.dropped_self++;
		return 0;
	}
	isim_error_clear(&err);
	if (isim_json_parse((const char *)m.descriptor, m.descriptor_len, "datagram", &doc, &err) < 0 ||
	    isim_schema_check(d->schema.schema, doc, &err) < 0) {
		d->n.dropped_descriptor++;
		goto out;
	}
	nid = cJSON_GetObjectItemCaseSensitive(doc, "node_id");
	crypto_generichash(digest, sizeof(digest), m.descriptor, m.descriptor_len, NULL, 0);
	p = peer_find(d, nid->valuestring);
	changed = !p || memcmp(p->digest, digest, sizeof(digest));
	/* A reply to an announce, or to a beacon from a node new to this one
	 * (which may not know this one either), once a slot. */
	if ((m.type == ISIM_RV_ANNOUNCE || (m.type == ISIM_RV_BEACON && changed)) &&
	    !(p && p->replied && p->reply_epoch == m.epoch && p->reply_slot == m.slot)) {
		struct isim_rv_slot sl = { .epoch = m.epoch, .slot = m.slot };

		send_to(d, ISIM_RV_REPLY, &sl, from->sin6_addr.s6_addr);
		if (!p && !(p = peer_add(d, nid->valuestring)))
			goto out;
		p->replied = true;
		p->reply_epoch = m.epoch;
		p->reply_slot = m.slot;
	}
	/* A descriptor refused (not yet valid, or its signer not trusted
	 * until the trusted signers change) is checked again, once an epoch. */
	if (!changed && (p->verified || now - p->checked_at < (int64_t)d->o->sched.epoch_ms))
		goto out;
	if (!p && !(p = peer_add(d, nid->valuestring)))
		goto out;
	memcpy(p->digest, digest, sizeof(digest));
	if (changed) {
		d->n.discovered++;
	} else {
		/* Printed again only when it now verifies. */
		struct isim_verdict v;

		isim_error_clear(&err);
		p->checked_at = now;
		if (isim_descriptor_verify(NULL, doc, (time_t)(now / 1000), isim_trust_lookup, d->trust, &v, &err) <
			    0 ||
		    !v.ok)
			goto out;
	}
	rc = print_found(d, p, doc, from->sin6_addr.s6_addr, &m, now);
out:
	cJSON_Delete(doc);
	return rc;
}

static int receive(struct daemon *d)
{
	uint8_t buf[ISIM_RV_DATAGRAM_MAX + 1];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct sockaddr_in6 from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *cm;
	unsigned ifindex;
	ssize_t n;
	int rc, i;

	/* A bounded batch, so that a flood cannot starve the clock. */
	for (i = 0; i < 256; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		n = recvmsg(d->sock, &mh, MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			say("cannot receive: %s", strerror(errno));
			return 0;
		}
		ifindex = 0;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				ifindex = pi.ipi6_ifindex;
			}
		}
		/* Another link's datagrams are not this run's. */
		if (!d->link.ifindex || ifindex != d->link.ifindex)
			continue;
		rc = on_datagram(d, buf, (size_t)n, &from, rv_now(d->o));
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- setting up ----------------------------------------------------------------------- */

static int open_socket(struct daemon *d)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(d->port) };
	int one = 1, zero = 0, rcvbuf = 1 << 20;

	d->sock = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->sock < 0) {
		say("cannot open a UDP socket: %s", strerror(errno));
		return ISIM_EXIT_UNAVAILABLE;
	}
	if (setsockopt(d->sock, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(d->sock, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    setsockopt(d->sock, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) ||
	    setsockopt(d->sock, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one, sizeof(one)) ||
	    setsockopt(d->sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf))) {
		say("cannot set up the UDP socket: %s", strerror(errno));
		return ISIM_EXIT_SOFTWARE;
	}
	if (bind(d->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say("cannot bind UDP port %u: %s", d->port, strerror(errno));
		return errno == EADDRINUSE ? ISIM_EXIT_UNAVAILABLE
		       : errno == EACCES   ? ISIM_EXIT_NOPERM
					   : ISIM_EXIT_SOFTWARE;
	}
	return 0;
}

static int open_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		say("cannot take signals: %s", strerror(errno));
		return ISIM_EXIT_SOFTWARE;
	}
	/* A reader that goes away is an error on write, not a death. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* SIGHUP: this node's descriptor and the trusted signers again; what
 * cannot be read keeps what was. Every refused node is checked again. */
static void reload(struct daemon *d)
{
	struct isim_trust *t = NULL;
	struct isim_error err;
	size_t i;

	(void)load_descriptor(d);
	isim_error_clear(&err);
	if (isim_trust_opt_open(d->trust_opt, &t, &err) < 0) {
		isim_print_error(PROG, &err);
		return;
	}
	isim_trust_free(d->trust);
	d->trust = t;
	for (i = 0; i < d->npeers; i++)
		d->peers[i].checked_at = INT64_MIN / 2;
}

static void on_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			print_counters(d);
		else if (si.ssi_signo == SIGHUP)
			reload(d);
		else
			d->rc = 0;
	}
}

static int loop(struct daemon *d)
{
	struct isim_error err;
	int64_t now = rv_now(d->o), end = -1, wake;
	struct pollfd p[3];
	int rc;

	if (d->o->once)
		end = now + (int64_t)d->o->sched.epoch_ms + (int64_t)d->o->sched.slot_ms;
	d->rc = -1;
	while (d->rc < 0) {
		now = rv_now(d->o);
		if (end >= 0 && now >= end)
			return 0;
		if (d->src_again && (rc = find_source(d)))
			return rc;
		if ((rc = sync_addresses(d, now)))
			return rc;
		announce(d, now);
		if (!d->have_src && !d->warned_src && d->link.ifindex && now - d->started > 3000) {
			say("%s has no usable link-local address of its own: nothing is sent until it has",
			    d->link.name);
			d->warned_src = true;
		}
		wake = isim_rv_next_change(&d->o->sched, now);
		if (end >= 0 && end < wake)
			wake = end;
		/* Without a source address yet (DAD on this node's own), look
		 * again soon rather than at the next slot. */
		if ((!d->have_src || d->resync) && wake > now + 100)
			wake = now + 100;
		p[0] = (struct pollfd){ .fd = d->sock, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = isim_rtnl_event_fd(d->nl), .events = POLLIN };
		p[2] = (struct pollfd){ .fd = d->sigfd, .events = POLLIN };
		if (poll(p, 3, (int)(wake - now > 0 ? wake - now : 0)) < 0 && errno != EINTR) {
			say("poll: %s", strerror(errno));
			return ISIM_EXIT_SOFTWARE;
		}
		if (p[2].revents)
			on_signals(d);
		if (p[1].revents) {
			isim_error_clear(&err);
			if (isim_rtnl_events(d->nl, on_event, d, &err) < 0) {
				say("cannot read the link's events: %s", err.msg);
				return ISIM_EXIT_IOERR;
			}
		}
		if (p[0].revents && (rc = receive(d)))
			return rc;
	}
	return d->rc;
}

int rendezvous_run_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		RV_LONGOPTS,
		ISIM_LONGOPTS_TRUST,
		{ "descriptor", required_argument, NULL, 'D' },
		{ "port", required_argument, NULL, 'P' },
		{ "once", no_argument, NULL, '1' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "D:d:p:hV", .longopts = opts, .usage = rendezvous_run_usage, .trust = &trust
	};
	struct rv_opts o = { 0 };
	struct daemon d = { .o = &o, .sock = -1, .sigfd = -1, .trust_opt = &trust };
	struct isim_error err;
	const char *port = NULL;
	long portn = ISIM_RV_PORT;
	size_t i;
	int c, rc;

	while ((c = isim_getopt_shared(&g, rv_option, &o, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g.rc;
		if ((c == 'D' && isim_opt_once(PROG, "--descriptor", &d.descriptor_path, optarg)) ||
		    (c == 'P' && isim_opt_once(PROG, "--port", &port, optarg)))
			return ISIM_EXIT_USAGE;
		if (c == '1')
			o.once = true;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (rv_options_finish(PROG, &o) || isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	if (!o.dev)
		return isim_usage_error(PROG, "--dev IF is required");
	if (!d.descriptor_path)
		return isim_usage_error(PROG, "--descriptor FILE is required");
	if (port && !isim_parse_long(port, 1, 65535, &portn))
		return isim_bad_value(PROG, "--port", port, "a port from 1 to 65535");
	d.port = (uint16_t)portn;

	isim_error_clear(&err);
	if (isim_descriptor_schema_load(NULL, &d.schema, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if ((rc = load_descriptor(&d)) || (rc = rv_keys_load(PROG, &o, &d.k)))
		goto out;
	if (isim_trust_opt_open(&trust, &d.trust, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_rv_seen_init(&d.seen, SEEN_MAX) < 0) {
		say("out of memory");
		rc = ISIM_EXIT_SOFTWARE;
		goto out;
	}
	if (isim_rtnl_open(&d.nl, true, &err) < 0 || isim_rtnl_link_get(d.nl, o.dev, &d.link, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	/* The port first: a second run on this link must not take the
	 * addresses of the one that holds it. */
	if ((rc = open_socket(&d)) || (rc = remove_stale(&d)) || (rc = open_signals(&d)))
		goto out;
	d.src_again = true;
	d.running = true;
	d.started = rv_now(&o);
	rc = loop(&d);
out:
	for (i = 0; i < d.nheld; i++)
		addr_del(&d, &d.held[i]);
	if (d.running)
		print_counters(&d);
	if (!rc)
		rc = isim_close_stdout(PROG);
	if (d.sock >= 0)
		close(d.sock);
	if (d.sigfd >= 0)
		close(d.sigfd);
	isim_rtnl_close(d.nl);
	isim_rv_seen_free(&d.seen);
	isim_rv_keys_free(d.k);
	isim_trust_free(d.trust);
	isim_descriptor_schema_free(&d.schema);
	free(d.peers);
	free(d.desc);
	return rc;
}
