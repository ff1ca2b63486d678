/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "isim/secbuf.h"
#include "wg-int.h"

/*
 * The cross-platform UAPI (wireguard.com/xplatform): a request is
 * "get=1\n\n" or "set=1\n" and key=value lines ended by a blank line; the
 * reply is key=value lines, then "errno=N" and a blank line. Keys are hex.
 */

/* A device that does not answer within this long is a failure, not a hang. */
#define UAPI_TIMEOUT_S 30

int isim_wg_uapi_open(struct isim_wg *wg, const char *uapi_dir, struct isim_error *err)
{
	struct stat st;
	int n;

	n = snprintf(wg->sock_path, sizeof(wg->sock_path), "%s/%s.sock", uapi_dir, wg->name);
	if (n < 0 || (size_t)n >= sizeof(wg->sock_path))
		return isim_error_set(err, ISIM_ERR_USAGE, "%s/%s.sock: the path is too long for a socket", uapi_dir,
				      wg->name);
	if (stat(wg->sock_path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return isim_error_set(err, ISIM_ERR_NOINPUT, "%s: no such socket", wg->sock_path);
		return isim_error_errno(err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO, errno, "%s", wg->sock_path);
	}
	if (!S_ISSOCK(st.st_mode))
		return isim_error_set(err, ISIM_ERR_DATA, "%s is not a socket, so %s is not a WireGuard device",
				      wg->sock_path, wg->name);
	return 0;
}

static int uapi_connect(const struct isim_wg *wg, struct isim_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = UAPI_TIMEOUT_S };
	int fd, e;

	memcpy(sa.sun_path, wg->sock_path, strlen(wg->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return isim_error_errno(err, ISIM_ERR_IO, errno, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		if (e == ECONNREFUSED || e == ENOENT)
			return isim_error_set(err, ISIM_ERR_NOINPUT, "%s: no WireGuard device answers there",
					      wg->sock_path);
		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_IO, e, "%s", wg->sock_path);
	}
	return fd;
}

static int send_all(int fd, const char *path, const char *s, size_t len, struct isim_error *err)
{
	ssize_t w;

	while (len) {
		w = send(fd, s, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return isim_error_errno(err, ISIM_ERR_IO, errno == EAGAIN ? ETIMEDOUT : errno,
						"%s: cannot send the request", path);
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until the blank line that ends a reply, into b (a secret buffer:
 * a "get" reply holds the private key). */
static int recv_reply(int fd, const char *path, struct isim_secbuf *b, struct isim_error *err)
{
	size_t from = 0;
	ssize_t r;

	for (;;) {
		if (isim_secbuf_reserve(b, 65536, err) < 0)
			return -1;
		r = recv(fd, b->p + b->len, b->cap - b->len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return isim_error_errno(err, ISIM_ERR_IO, errno == EAGAIN ? ETIMEDOUT : errno,
						"%s: cannot read the reply", path);
		if (r == 0)
			return isim_error_set(err, ISIM_ERR_DATA, "%s: the reply ends before its blank line", path);
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		if (b->len >= 2 && memmem(b->p + from, b->len - from, "\n\n", 2))
			return 0;
		if (b->len == 1 && b->p[0] == '\n')
			return 0;
		from = b->len - 1;
	}
}

/* ---- the set request ---------------------------------------------------- */

static void put_hex(struct isim_buf *out, const char *key, const uint8_t *bin)
{
	char hex[2 * ISIM_WG_KEY_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), bin, ISIM_WG_KEY_LEN);
	isim_buf_printf(out, "%s=%s\n", key, hex);
}

static void put_endpoint(struct isim_buf *out, const union isim_wg_endpoint *e)
{
	char host[INET6_ADDRSTRLEN];

	if (e->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &e->in.sin_addr, host, sizeof(host));
		isim_buf_printf(out, "endpoint=%s:%u\n", host, ntohs(e->in.sin_port));
	} else if (e->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &e->in6.sin6_addr, host, sizeof(host));
		isim_buf_printf(out, "endpoint=[%s]:%u\n", host, ntohs(e->in6.sin6_port));
	}
}

int isim_wg_uapi_format_set(const struct isim_wg_peer *changes, size_t n, struct isim_buf *out, struct isim_error *err)
{
	char text[ISIM_PREFIX_STRLEN];
	size_t i, j;

	isim_buf_puts(out, "set=1\n");
	for (i = 0; i < n; i++) {
		const struct isim_wg_peer *c = &changes[i];

		put_hex(out, "public_key", c->public_key);
		if (c->flags & ISIM_WG_PEER_REMOVE) {
			isim_buf_puts(out, "remove=true\n");
			continue;
		}
		if (c->flags & ISIM_WG_PEER_UPDATE_ONLY)
			isim_buf_puts(out, "update_only=true\n");
		if (c->flags & ISIM_WG_PEER_REPLACE_ALLOWED)
			isim_buf_puts(out, "replace_allowed_ips=true\n");
		put_endpoint(out, &c->endpoint);
		if (c->flags & ISIM_WG_PEER_HAS_KEEPALIVE)
			isim_buf_printf(out, "persistent_keepalive_interval=%u\n", c->keepalive);
		for (j = 0; j < c->nallowed; j++) {
			isim_prefix_format(&c->allowed[j], text);
			isim_buf_printf(out, "allowed_ip=%s\n", text);
		}
	}
	isim_buf_puts(out, "\n");
	return out->oom ? isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory") : 0;
}

/* ---- the get reply -------------------------------------------------------- */

static int parse_key(const char *v, size_t n, uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t got;
	const char *end;

	if (n != 2 * ISIM_WG_KEY_LEN)
		return -1;
	return sodium_hex2bin(key, ISIM_WG_KEY_LEN, v, n, NULL, &got, &end) == 0 && got == ISIM_WG_KEY_LEN &&
			       end == v + n
		       ? 0
		       : -1;
}

static int parse_u64(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 20 || (v[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = 10 * x + (uint64_t)(v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

static int parse_endpoint(const char *v, size_t n, union isim_wg_endpoint *e)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	uint64_t port;
	size_t hn;

	memset(e, 0, sizeof(*e));
	if (n && v[0] == '[') {
		const char *close = memchr(v, ']', n);

		if (!close || close + 1 >= v + n || close[1] != ':')
			return -1;
		hn = (size_t)(close - v - 1);
		if (hn >= sizeof(host))
			return -1;
		memcpy(host, v + 1, hn);
		host[hn] = '\0';
		/* A scope (fe80::1%eth0) is not kept. */
		if (strchr(host, '%'))
			*strchr(host, '%') = '\0';
		if (inet_pton(AF_INET6, host, &e->in6.sin6_addr) != 1)
			return -1;
		colon = close + 1;
		e->in6.sin6_family = AF_INET6;
	} else {
		colon = NULL;
		for (hn = n; hn > 0; hn--) {
			if (v[hn - 1] == ':') {
				colon = v + hn - 1;
				break;
			}
		}
		if (!colon || (size_t)(colon - v) >= sizeof(host))
			return -1;
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = '\0';
		if (inet_pton(AF_INET, host, &e->in.sin_addr) != 1)
			return -1;
		e->in.sin_family = AF_INET;
	}
	if (parse_u64(colon + 1, (size_t)(v + n - colon - 1), 65535, &port) < 0)
		return -1;
	if (e->sa.sa_family == AF_INET)
		e->in.sin_port = htons((uint16_t)port);
	else
		e->in6.sin6_port = htons((uint16_t)port);
	return 0;
}

static int keycmp(const void *a, const void *b)
{
	const struct isim_wg_peer *const *x = a, *const *y = b;

	return memcmp((*x)->public_key, (*y)->public_key, ISIM_WG_KEY_LEN);
}

/* Two peers with one key: the reply is not a device's. */
static int duplicate_peer(const struct isim_wg_device *d, struct isim_error *err)
{
	const struct isim_wg_peer **idx;
	char b64[ISIM_WG_KEY_B64LEN];
	size_t i;

	if (d->npeers < 2)
		return 0;
	idx = malloc(d->npeers * sizeof(*idx));
	if (!idx)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	for (i = 0; i < d->npeers; i++)
		idx[i] = &d->peers[i];
	qsort(idx, d->npeers, sizeof(*idx), keycmp);
	for (i = 1; i < d->npeers; i++) {
		if (!memcmp(idx[i - 1]->public_key, idx[i]->public_key, ISIM_WG_KEY_LEN)) {
			isim_wg_key_b64(idx[i]->public_key, b64);
			free(idx);
			return isim_error_set(err, ISIM_ERR_DATA, "the reply names peer %s twice", b64);
		}
	}
	free(idx);
	return 0;
}

static int bad_line(struct isim_error *err, int line, const char *what)
{
	return isim_error_set(err, ISIM_ERR_DATA, "line %d of the device's reply: %s", line, what);
}

int isim_wg_uapi_parse_get(const char *text, size_t len, struct isim_wg_device **out, struct isim_error *err)
{
	struct isim_wg_device *d = calloc(1, sizeof(*d));
	struct isim_wg_peer *p = NULL;
	const char *s = text, *end = text + len;
	uint8_t priv[ISIM_WG_KEY_LEN];
	uint64_t u;
	int line = 0;
	bool seen_errno = false;

	*out = NULL;
	if (!d)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *eq, *v;
		size_t kn, vn;

		line++;
		if (!nl) {
			bad_line(err, line, "the reply ends inside a line");
			goto fail;
		}
		if (nl == s) {
			/* The blank line: the end, right after errno. */
			if (!seen_errno || nl + 1 != end) {
				bad_line(err, line,
					 seen_errno ? "something follows the blank line" : "a blank line before errno");
				goto fail;
			}
			*out = d;
			return duplicate_peer(d, err) < 0 ? (*out = NULL, isim_wg_device_free(d), -1) : 0;
		}
		if (seen_errno) {
			bad_line(err, line, "a line after errno");
			goto fail;
		}
		eq = memchr(s, '=', (size_t)(nl - s));
		if (!eq || eq == s) {
			bad_line(err, line, "not key=value");
			goto fail;
		}
		kn = (size_t)(eq - s);
		v = eq + 1;
		vn = (size_t)(nl - v);
#define KEY(k) (kn == sizeof(k) - 1 && !memcmp(s, k, kn))
		if (KEY("errno")) {
			if (parse_u64(v + (vn && v[0] == '-'), vn - (vn && v[0] == '-'), 4095, &u) < 0) {
				bad_line(err, line, "errno is not a number");
				goto fail;
			}
			if (u) {
				isim_wg_device_free(d);
				return isim_error_errno(err, ISIM_ERR_IO, (int)u, "the device refused the request");
			}
			seen_errno = true;
		} else if (KEY("public_key")) {
			p = isim_wg_device_add_peer(d);
			if (!p) {
				isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
				goto fail;
			}
			if (parse_key(v, vn, p->public_key) < 0) {
				bad_line(err, line, "public_key is not 64 hex digits");
				goto fail;
			}
		} else if (!p && KEY("private_key")) {
			if (parse_key(v, vn, priv) < 0) {
				sodium_memzero(priv, sizeof(priv));
				bad_line(err, line, "private_key is not 64 hex digits");
				goto fail;
			}
			d->has_public_key = crypto_scalarmult_base(d->public_key, priv) == 0;
			sodium_memzero(priv, sizeof(priv));
		} else if (!p && KEY("listen_port")) {
			if (parse_u64(v, vn, 65535, &u) < 0) {
				bad_line(err, line, "listen_port is not a port");
				goto fail;
			}
			d->listen_port = (uint16_t)u;
		} else if (!p && KEY("fwmark")) {
			if (parse_u64(v, vn, UINT32_MAX, &u) < 0) {
				bad_line(err, line, "fwmark is not a 32-bit number");
				goto fail;
			}
			d->fwmark = (uint32_t)u;
		} else if (p && KEY("preshared_key")) {
			uint8_t psk[ISIM_WG_KEY_LEN];
			int rc = parse_key(v, vn, psk);

			sodium_memzero(psk, sizeof(psk));
			if (rc < 0) {
				bad_line(err, line, "preshared_key is not 64 hex digits");
				goto fail;
			}
		} else if (p && KEY("endpoint")) {
			if (parse_endpoint(v, vn, &p->endpoint) < 0) {
				bad_line(err, line, "endpoint is not IP:PORT");
				goto fail;
			}
		} else if (p && KEY("allowed_ip")) {
			struct isim_prefix pr;
			char cidr[ISIM_PREFIX_STRLEN];
			const char *why;

			if (vn >= sizeof(cidr)) {
				bad_line(err, line, "allowed_ip is not a prefix");
				goto fail;
			}
			memcpy(cidr, v, vn);
			cidr[vn] = '\0';
			if (isim_prefix_parse(cidr, true, &pr, &why) < 0) {
				bad_line(err, line, "allowed_ip is not a prefix");
				goto fail;
			}
			if (isim_wg_peer_add_allowed(p, &pr) < 0) {
				isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
				goto fail;
			}
		} else if (p && (KEY("last_handshake_time_sec") || KEY("last_handshake_time_nsec") || KEY("rx_bytes") ||
				 KEY("tx_bytes") || KEY("persistent_keepalive_interval") || KEY("protocol_version"))) {
			if (parse_u64(v, vn, KEY("persistent_keepalive_interval") ? 65535 : INT64_MAX, &u) < 0) {
				bad_line(err, line, "not a number where one belongs");
				goto fail;
			}
			if (KEY("last_handshake_time_sec"))
				p->last_handshake = (int64_t)u;
			else if (KEY("rx_bytes"))
				p->rx_bytes = u;
			else if (KEY("tx_bytes"))
				p->tx_bytes = u;
			else if (KEY("persistent_keepalive_interval"))
				p->keepalive = (uint16_t)u;
		}
		/* Other keys are of later versions of the protocol. */
#undef KEY
		s = nl + 1;
	}
	bad_line(err, line + 1, "the reply ends without errno and its blank line");
fail:
	isim_wg_device_free(d);
	return -1;
}

int isim_wg_uapi_parse_errno(const char *text, size_t len, int *errnum)
{
	uint64_t u;
	size_t n, neg;

	if (len < 9 || memcmp(text, "errno=", 6) || text[len - 1] != '\n' || text[len - 2] != '\n')
		return -1;
	n = len - 8;
	neg = text[6] == '-';
	if (parse_u64(text + 6 + neg, n - neg, 4095, &u) < 0)
		return -1;
	*errnum = (int)u;
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

int isim_wg_uapi_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	struct isim_secbuf b = { 0 };
	int fd, ret = -1;

	*out = NULL;
	fd = uapi_connect(wg, err);
	if (fd < 0)
		return -1;
	if (send_all(fd, wg->sock_path, "get=1\n\n", 7, err) == 0 && recv_reply(fd, wg->sock_path, &b, err) == 0)
		ret = isim_wg_uapi_parse_get((const char *)b.p, b.len, out, err);
	close(fd);
	isim_secbuf_free(&b);
	if (ret < 0 && err->kind == ISIM_ERR_DATA && !strstr(err->msg, wg->sock_path)) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		isim_error_set(err, ISIM_ERR_DATA, "%s: %s", wg->sock_path, msg);
	}
	return ret;
}

int isim_wg_uapi_set_send(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n,
			  struct isim_error *err)
{
	struct isim_buf req = { 0 };
	int fd;

	if (isim_wg_uapi_format_set(changes, n, &req, err) < 0) {
		isim_buf_free(&req);
		return -1;
	}
	fd = uapi_connect(wg, err);
	if (fd >= 0 && send_all(fd, wg->sock_path, req.s, req.len, err) < 0) {
		close(fd);
		fd = -1;
	}
	isim_buf_free(&req);
	if (fd < 0)
		return -1;
	wg->pending_fd = fd;
	return 0;
}

int isim_wg_uapi_set_wait(struct isim_wg *wg, struct isim_error *err)
{
	struct isim_secbuf b = { 0 };
	int errnum = 0, ret = -1;

	if (recv_reply(wg->pending_fd, wg->sock_path, &b, err) == 0) {
		if (isim_wg_uapi_parse_errno((const char *)b.p, b.len, &errnum) < 0)
			isim_error_set(err, ISIM_ERR_DATA, "%s: the reply to set is not errno=N", wg->sock_path);
		else if (errnum)
			isim_error_errno(err, ISIM_ERR_IO, errnum, "%s refused the change", wg->name);
		else
			ret = 0;
	}
	close(wg->pending_fd);
	wg->pending_fd = -1;
	isim_secbuf_free(&b);
	return ret;
}
