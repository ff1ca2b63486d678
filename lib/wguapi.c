/* SPDX-License-Identifier: MIT */
/* The cross-platform UAPI socket (wireguard.com/xplatform), as
 * wireguard-go and boringtun serve it: "get=1" and "set=1" requests of
 * key=value lines, keys in hex, each reply ending in "errno=N" and a blank
 * line. One request per connection, as wg(8) does: a second request on the
 * same connection is not answered by every implementation. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "isim/endpoint.h"
#include "isim/file.h"
#include "isim/secbuf.h"
#include "wg-int.h"

/* A device that does not answer within this long is taken for hung. */
#define UAPI_TIMEOUT_SEC 60
#define READ_CHUNK 65536

int isim_wg_uapi_open(struct isim_wg *wg, const char *uapi_dir, struct isim_error *err)
{
	struct stat st;
	int e;

	if (isim_pathf(wg->sock_path, sizeof(wg->sock_path), err, "%s/%s.sock", uapi_dir, wg->name) < 0)
		return -1;
	if (stat(wg->sock_path, &st) < 0) {
		e = errno;
		isim_error_at(err, wg->sock_path, 0, 0);
		if (e == ENOENT || e == ENOTDIR)
			return isim_error_errno(err, ISIM_ERR_NOINPUT, e, "no UAPI socket for %s", wg->name);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO, e,
					"cannot stat the UAPI socket of %s", wg->name);
	}
	if (!S_ISSOCK(st.st_mode)) {
		isim_error_at(err, wg->sock_path, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA, "is %s, not the UAPI socket of %s",
				      isim_file_type_name(st.st_mode), wg->name);
	}
	return 0;
}

static int uapi_connect(const struct isim_wg *wg, struct isim_error *err)
{
	struct sockaddr_un sun;
	struct timeval tv = { .tv_sec = UAPI_TIMEOUT_SEC };
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(wg->sock_path) >= sizeof(sun.sun_path)) {
		isim_error_at(err, wg->sock_path, 0, 0);
		return isim_error_set(err, ISIM_ERR_USAGE, "socket path too long for AF_UNIX");
	}
	memcpy(sun.sun_path, wg->sock_path, strlen(wg->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot create a socket for %s", wg->name);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		e = errno;
		close(fd);
		return isim_error_errno(err, ISIM_ERR_IO, e, "cannot set timeouts on the socket of %s", wg->name);
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		if (e == EINTR)
			continue;
		close(fd);
		isim_error_at(err, wg->sock_path, 0, 0);
		if (e == ENOENT || e == ECONNREFUSED)
			return isim_error_errno(err, ISIM_ERR_NOINPUT, e, "cannot connect to the UAPI socket of %s",
						wg->name);
		return isim_error_errno(err, e == EACCES || e == EPERM ? ISIM_ERR_PERM : ISIM_ERR_IO, e,
					"cannot connect to the UAPI socket of %s", wg->name);
	}
	return fd;
}

/* Whether the reply is complete: a blank line ends it. */
static bool reply_done(const unsigned char *p, size_t len)
{
	return len == 1 ? p[0] == '\n' : len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\n';
}

/* Connect and send req whole: the connection, or -1. */
static int uapi_send(const struct isim_wg *wg, const char *req, size_t len, struct isim_error *err)
{
	size_t off = 0;
	ssize_t r;
	int fd;

	fd = uapi_connect(wg, err);
	if (fd < 0)
		return -1;
	while (off < len) {
		r = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot send to the UAPI socket of %s", wg->name);
			close(fd);
			return -1;
		}
		off += (size_t)r;
	}
	return fd;
}

/* Read the reply into *reply (secret memory: a get reply holds the
 * private key), and close fd. */
static int uapi_recv(const struct isim_wg *wg, int fd, struct isim_secbuf *reply, struct isim_error *err)
{
	ssize_t r;
	int ret = -1;

	for (;;) {
		if (isim_secbuf_reserve(reply, READ_CHUNK, err) < 0)
			goto out;
		r = recv(fd, reply->p + reply->len, READ_CHUNK, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read from the UAPI socket of %s", wg->name);
			goto out;
		}
		if (r == 0)
			break;
		reply->len += (size_t)r;
		reply->p[reply->len] = '\0';
		if (reply_done(reply->p, reply->len))
			break;
	}
	if (!reply_done(reply->p, reply->len)) {
		isim_error_set(err, ISIM_ERR_IO, "the UAPI socket of %s closed before the end of its reply", wg->name);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int uapi_request(const struct isim_wg *wg, const char *req, size_t len, struct isim_secbuf *reply,
			struct isim_error *err)
{
	int fd = uapi_send(wg, req, len, err);

	return fd < 0 ? -1 : uapi_recv(wg, fd, reply, err);
}

int isim_wg_uapi_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	static const char req[] = "get=1\n\n";
	struct isim_secbuf reply = { 0 };
	int ret = -1;

	*out = NULL;
	if (uapi_request(wg, req, sizeof(req) - 1, &reply, err) < 0)
		goto out;
	if (isim_wg_uapi_parse_get((const char *)reply.p, reply.len, out, err) < 0) {
		isim_error_at(err, wg->sock_path, 0, 0);
		goto out;
	}
	memcpy((*out)->name, wg->name, sizeof(wg->name));
	ret = 0;
out:
	isim_secbuf_free(&reply);
	return ret;
}

int isim_wg_uapi_set_send(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, int ticket,
			  struct isim_error *err)
{
	struct isim_buf req = { 0 };
	int fd = -1;

	if (isim_wg_uapi_format_set(changes, n, &req, err) == 0)
		fd = uapi_send(wg, req.s, req.len, err);
	isim_buf_free(&req);
	if (fd < 0)
		return -1;
	wg->pending_fd[ticket] = fd;
	wg->pending_n[ticket] = n;
	return 0;
}

int isim_wg_uapi_set_wait(struct isim_wg *wg, int ticket, struct isim_error *err)
{
	struct isim_secbuf reply = { 0 };
	int ret = -1, e, fd = wg->pending_fd[ticket];

	wg->pending_fd[ticket] = -1;
	if (uapi_recv(wg, fd, &reply, err) < 0)
		goto out;
	if (isim_wg_uapi_parse_errno((const char *)reply.p, reply.len, &e) < 0) {
		isim_error_at(err, wg->sock_path, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "the reply to a set is not \"errno=N\" and a blank line");
		goto out;
	}
	if (e) {
		isim_error_errno(err, ISIM_ERR_IO, e, "%s refused the change of %zu peers", wg->name,
				 wg->pending_n[ticket]);
		goto out;
	}
	ret = 0;
out:
	isim_secbuf_free(&reply);
	return ret;
}

/* ---- set=1 ---------------------------------------------------------------- */

static void put_key(struct isim_buf *b, const char *name, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	char hex[ISIM_WG_KEY_LEN * 2 + 1];

	sodium_bin2hex(hex, sizeof(hex), key, ISIM_WG_KEY_LEN);
	isim_buf_puts(b, name);
	isim_buf_putn(b, hex, ISIM_WG_KEY_LEN * 2);
	isim_buf_putn(b, "\n", 1);
}

/* "IP:PORT", an IPv6 address in brackets, its zone as the interface index
 * (wireguard-go reads either a name or a number there). */
static void put_endpoint(struct isim_buf *b, const union isim_wg_endpoint *ep)
{
	char a[INET6_ADDRSTRLEN];

	if (ep->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ep->in.sin_addr, a, sizeof(a));
		isim_buf_printf(b, "endpoint=%s:%u\n", a, (unsigned)ntohs(ep->in.sin_port));
	} else {
		inet_ntop(AF_INET6, &ep->in6.sin6_addr, a, sizeof(a));
		if (ep->in6.sin6_scope_id)
			isim_buf_printf(b, "endpoint=[%s%%%" PRIu32 "]:%u\n", a, ep->in6.sin6_scope_id,
					(unsigned)ntohs(ep->in6.sin6_port));
		else
			isim_buf_printf(b, "endpoint=[%s]:%u\n", a, (unsigned)ntohs(ep->in6.sin6_port));
	}
}

int isim_wg_uapi_format_set(const struct isim_wg_peer *changes, size_t n, struct isim_buf *out, struct isim_error *err)
{
	char text[ISIM_PREFIX_STRLEN];
	size_t i, j;

	if (isim_wg_check_changes(changes, n, err) < 0)
		return -1;
	isim_buf_puts(out, "set=1\n");
	for (i = 0; i < n; i++) {
		const struct isim_wg_peer *p = &changes[i];

		put_key(out, "public_key=", p->public_key);
		if (p->flags & ISIM_WG_PEER_REMOVE) {
			isim_buf_puts(out, "remove=true\n");
			continue;
		}
		if (p->flags & ISIM_WG_PEER_UPDATE_ONLY)
			isim_buf_puts(out, "update_only=true\n");
		if (p->flags & ISIM_WG_PEER_REPLACE_ALLOWED)
			isim_buf_puts(out, "replace_allowed_ips=true\n");
		if (p->endpoint.sa.sa_family != AF_UNSPEC)
			put_endpoint(out, &p->endpoint);
		if (p->flags & ISIM_WG_PEER_HAS_KEEPALIVE)
			isim_buf_printf(out, "persistent_keepalive_interval=%u\n", (unsigned)p->keepalive);
		for (j = 0; j < p->nallowed; j++) {
			isim_prefix_format(&p->allowed[j], text);
			isim_buf_puts(out, "allowed_ip=");
			isim_buf_puts(out, text);
			isim_buf_putn(out, "\n", 1);
		}
	}
	isim_buf_putn(out, "\n", 1);
	if (out->oom)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory formatting the change of %zu peers", n);
	return 0;
}

/* ---- get=1 ---------------------------------------------------------------- */

/* A decimal number without sign or leading zeros, at most max. */
static bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Exactly 64 hex digits. sodium_hex2bin runs in constant time, which the
 * private key needs. */
static bool parse_key(const char *s, size_t n, uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (n != ISIM_WG_KEY_LEN * 2)
		return false;
	if (sodium_hex2bin(key, ISIM_WG_KEY_LEN, s, n, NULL, &bin_len, &end) != 0 || bin_len != ISIM_WG_KEY_LEN ||
	    end != s + n) {
		sodium_memzero(key, ISIM_WG_KEY_LEN);
		return false;
	}
	return true;
}

/* Copy a value into a NUL-terminated buffer for the text parsers; false
 * when it does not fit or holds a NUL. */
static bool value_text(const char *s, size_t n, char *buf, size_t size)
{
	if (n >= size || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static bool parse_endpoint(const char *s, size_t n, union isim_wg_endpoint *out)
{
	char text[ISIM_ENDPOINT_HOST_MAX + 16];
	struct isim_endpoint ep;

	if (!value_text(s, n, text, sizeof(text)) || isim_endpoint_parse(text, &ep, NULL) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	if (ep.family == AF_INET) {
		out->in.sin_family = AF_INET;
		out->in.sin_port = htons(ep.port);
		return inet_pton(AF_INET, ep.host, &out->in.sin_addr) == 1;
	}
	if (ep.family == AF_INET6) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(ep.port);
		return inet_pton(AF_INET6, ep.host, &out->in6.sin6_addr) == 1;
	}
	return false;
}

/* Keys seen, to refuse one given twice. */
enum {
	SEEN_PRIVATE_KEY = 1 << 0,
	SEEN_LISTEN_PORT = 1 << 1,
	SEEN_FWMARK = 1 << 2,
	SEEN_PRESHARED = 1 << 3,
	SEEN_ENDPOINT = 1 << 4,
	SEEN_HS_SEC = 1 << 5,
	SEEN_HS_NSEC = 1 << 6,
	SEEN_RX = 1 << 7,
	SEEN_TX = 1 << 8,
	SEEN_KEEPALIVE = 1 << 9,
	SEEN_PROTOCOL = 1 << 10,
};

struct key_ref {
	const uint8_t *key;
	size_t index;
	int line;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, ISIM_WG_KEY_LEN);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* A peer's key twice in one reply: sorted, the two are neighbours, so
 * ten thousand peers cost a sort and not a hundred million compares. */
static int check_duplicate_peers(const struct isim_wg_device *d, const int *lines, struct isim_error *err)
{
	struct key_ref *refs;
	char b64[ISIM_WG_KEY_B64LEN];
	size_t i;
	int ret = 0;

	if (d->npeers < 2)
		return 0;
	refs = malloc(d->npeers * sizeof(*refs));
	if (!refs)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory checking %zu peers", d->npeers);
	for (i = 0; i < d->npeers; i++) {
		refs[i].key = d->peers[i].public_key;
		refs[i].index = i;
		refs[i].line = lines[i];
	}
	qsort(refs, d->npeers, sizeof(*refs), key_ref_cmp);
	for (i = 1; i < d->npeers; i++) {
		if (memcmp(refs[i - 1].key, refs[i].key, ISIM_WG_KEY_LEN) == 0) {
			isim_wg_key_b64(refs[i].key, b64);
			isim_error_at(err, NULL, refs[i].line, 0);
			ret = isim_error_set(err, ISIM_ERR_DATA, "line %d: peer %s given twice (first on line %d)",
					     refs[i].line, b64, refs[i - 1].line);
			break;
		}
	}
	free(refs);
	return ret;
}

#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(key, lit, sizeof(lit) - 1) == 0)

int isim_wg_uapi_parse_get(const char *text, size_t len, struct isim_wg_device **out, struct isim_error *err)
{
	struct isim_wg_device *d = NULL;
	struct isim_wg_peer *peer = NULL;
	int *lines = NULL, *nl;
	uint8_t sk[ISIM_WG_KEY_LEN], tmp[ISIM_WG_KEY_LEN];
	char buf[ISIM_PREFIX_STRLEN + 8];
	const char *p = text, *end = text + len, *eol, *key, *val, *eq;
	unsigned dev_seen = 0, peer_seen = 0, bit;
	size_t klen, vlen, cap_lines = 0;
	uint64_t v;
	int line = 0, ret = -1, errnum = 0;
	bool got_errno = false, ended = false;

	*out = NULL;
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
	d = calloc(1, sizeof(*d));
	if (!d)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory reading a device");
	while (p < end) {
		struct isim_prefix pr;
		const char *why;

		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol) {
			isim_error_at(err, NULL, line, 0);
			isim_error_set(err, ISIM_ERR_DATA, "line %d: no newline at the end of the reply", line);
			goto out;
		}
		if (eol == p) {
			if (got_errno && eol + 1 == end) {
				ended = true;
				break;
			}
			isim_error_at(err, NULL, line, 0);
			isim_error_set(err, ISIM_ERR_DATA, "line %d: a blank line %s", line,
				       got_errno ? "with more after it" : "before \"errno=\"");
			goto out;
		}
		if (got_errno) {
			isim_error_at(err, NULL, line, 0);
			isim_error_set(err, ISIM_ERR_DATA, "line %d: more after \"errno=\" than the blank line", line);
			goto out;
		}
		eq = memchr(p, '=', (size_t)(eol - p));
		if (!eq || eq == p) {
			isim_error_at(err, NULL, line, 0);
			isim_error_set(err, ISIM_ERR_DATA, "line %d: not key=value", line);
			goto out;
		}
		key = p;
		klen = (size_t)(eq - p);
		val = eq + 1;
		vlen = (size_t)(eol - val);
		p = eol + 1;

		if (KEY_IS("errno")) {
			bool neg = vlen > 0 && val[0] == '-';

			if (!parse_u64(val + neg, vlen - neg, 4095, &v))
				goto bad_value;
			errnum = (int)v;
			got_errno = true;
			continue;
		}
		if (KEY_IS("public_key")) {
			peer = isim_wg_device_add_peer(d);
			if (!peer)
				goto oom;
			if (d->npeers > cap_lines) {
				cap_lines = cap_lines ? cap_lines * 2 : 16;
				nl = realloc(lines, cap_lines * sizeof(*lines));
				if (!nl)
					goto oom;
				lines = nl;
			}
			lines[d->npeers - 1] = line;
			peer_seen = 0;
			if (!parse_key(val, vlen, peer->public_key))
				goto bad_value;
			continue;
		}
		bit = 0;
		if (!peer) {
			if (KEY_IS("private_key")) {
				bit = SEEN_PRIVATE_KEY;
				if (!parse_key(val, vlen, sk))
					goto bad_value;
				v = crypto_scalarmult_base(d->public_key, sk) == 0;
				sodium_memzero(sk, sizeof(sk));
				if (!v)
					goto bad_value;
				d->has_public_key = true;
			} else if (KEY_IS("listen_port")) {
				bit = SEEN_LISTEN_PORT;
				if (!parse_u64(val, vlen, UINT16_MAX, &v))
					goto bad_value;
				d->listen_port = (uint16_t)v;
			} else if (KEY_IS("fwmark")) {
				bit = SEEN_FWMARK;
				if (!parse_u64(val, vlen, UINT32_MAX, &v))
					goto bad_value;
				d->fwmark = (uint32_t)v;
			} else if (KEY_IS("preshared_key") || KEY_IS("endpoint") || KEY_IS("allowed_ip") ||
				   KEY_IS("last_handshake_time_sec") || KEY_IS("last_handshake_time_nsec") ||
				   KEY_IS("rx_bytes") || KEY_IS("tx_bytes") ||
				   KEY_IS("persistent_keepalive_interval") || KEY_IS("protocol_version")) {
				isim_error_at(err, NULL, line, 0);
				isim_error_set(err, ISIM_ERR_DATA, "line %d: '%.*s' before any public_key", line,
					       (int)(klen > 64 ? 64 : klen), key);
				goto out;
			}
			if (bit & dev_seen)
				goto twice;
			dev_seen |= bit;
			continue;
		}
		if (KEY_IS("allowed_ip")) {
			if (!value_text(val, vlen, buf, sizeof(buf)) || isim_prefix_parse(buf, false, &pr, &why) < 0)
				goto bad_value;
			if (isim_wg_peer_add_allowed(peer, &pr) < 0)
				goto oom;
			continue;
		}
		if (KEY_IS("preshared_key")) {
			bit = SEEN_PRESHARED;
			v = parse_key(val, vlen, tmp);
			sodium_memzero(tmp, sizeof(tmp));
			if (!v)
				goto bad_value;
		} else if (KEY_IS("endpoint")) {
			bit = SEEN_ENDPOINT;
			if (!parse_endpoint(val, vlen, &peer->endpoint))
				goto bad_value;
		} else if (KEY_IS("last_handshake_time_sec")) {
			bit = SEEN_HS_SEC;
			if (!parse_u64(val, vlen, INT64_MAX, &v))
				goto bad_value;
			peer->last_handshake = (int64_t)v;
		} else if (KEY_IS("last_handshake_time_nsec")) {
			bit = SEEN_HS_NSEC;
			if (!parse_u64(val, vlen, 999999999, &v))
				goto bad_value;
		} else if (KEY_IS("rx_bytes")) {
			bit = SEEN_RX;
			if (!parse_u64(val, vlen, UINT64_MAX, &peer->rx_bytes))
				goto bad_value;
		} else if (KEY_IS("tx_bytes")) {
			bit = SEEN_TX;
			if (!parse_u64(val, vlen, UINT64_MAX, &peer->tx_bytes))
				goto bad_value;
		} else if (KEY_IS("persistent_keepalive_interval")) {
			bit = SEEN_KEEPALIVE;
			if (!parse_u64(val, vlen, UINT16_MAX, &v))
				goto bad_value;
			peer->keepalive = (uint16_t)v;
		} else if (KEY_IS("protocol_version")) {
			bit = SEEN_PROTOCOL;
			if (!parse_u64(val, vlen, UINT32_MAX, &v))
				goto bad_value;
		} else if (KEY_IS("private_key") || KEY_IS("listen_port") || KEY_IS("fwmark")) {
			isim_error_at(err, NULL, line, 0);
			isim_error_set(err, ISIM_ERR_DATA, "line %d: device key '%.*s' after a peer", line,
				       (int)(klen > 64 ? 64 : klen), key);
			goto out;
		}
		if (bit & peer_seen)
			goto twice;
		peer_seen |= bit;
	}
	if (!ended) {
		isim_error_at(err, NULL, line, 0);
		isim_error_set(err, ISIM_ERR_DATA, "the reply ends without \"errno=\" and a blank line");
		goto out;
	}
	if (errnum) {
		isim_error_errno(err, ISIM_ERR_IO, errnum, "the device refused the get");
		goto out;
	}
	if (check_duplicate_peers(d, lines, err) < 0)
		goto out;
	*out = d;
	d = NULL;
	ret = 0;
	goto out;

bad_value:
	isim_error_at(err, NULL, line, 0);
	isim_error_set(err, ISIM_ERR_DATA, "line %d: '%.*s' has a malformed value", line, (int)(klen > 64 ? 64 : klen),
		       key);
	goto out;
twice:
	isim_error_at(err, NULL, line, 0);
	isim_error_set(err, ISIM_ERR_DATA, "line %d: '%.*s' given twice", line, (int)(klen > 64 ? 64 : klen), key);
	goto out;
oom:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory reading a device");
out:
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(buf, sizeof(buf));
	free(lines);
	isim_wg_device_free(d);
	return ret;
}

int isim_wg_uapi_parse_errno(const char *text, size_t len, int *errnum)
{
	static const char pre[] = "errno=";
	const size_t plen = sizeof(pre) - 1;
	uint64_t v;
	bool neg;

	if (len < plen + 3 || memcmp(text, pre, plen) != 0 || text[len - 1] != '\n' || text[len - 2] != '\n')
		return -1;
	text += plen;
	len -= plen + 2;
	neg = text[0] == '-';
	if (!parse_u64(text + neg, len - neg, 4095, &v))
		return -1;
	*errnum = (int)v;
	return 0;
}
