/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/db.h"
#include "isim/descriptor.h"
#include "isim/endpoint.h"
#include "isim/hash.h"
#include "isim/jcs.h"
#include "isim/json.h"
#include "isim/schema.h"
#include "isim/trust.h"
#include "wgadmit.h"

#define PROG "isim-wgadmit admit"
#define BATCH_DEFAULT 256
#define NETWORKS_MAX 16
#define DEFAULT_NETWORK "10.100.0.0/16"

void wa_admit_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --dev DEV [--trust DIR | --pub KEY.pub] [--network CIDR]...\n"
		   "       [--keepalive N] [--at TIME] [--narrow-only | --no-narrow] [--batch N] [FILE...]\n"
		   "\n"
		   "Admit peers to the WireGuard device DEV from their signed node descriptors,\n"
		   "one a line (JSON Lines; FILE, or standard input; a line of isim-rendezvous\n"
		   "run is taken for its descriptor): each new peer is added\n"
		   "with its host routes (/32, /128) only, its descriptor is verified against\n"
		   "the trusted signers, and then it gets every range it declares, or is\n"
		   "removed. Prints one JSON verdict a line, in input order: {\"node_id\",\n"
		   "\"wg_public_key\", \"admitted\", \"state\", \"allowed_ips\", \"key_id\", \"reason\",\n"
		   "\"line\"}.\n"
		   "\n" WA_USAGE_COMMON "  -d, --trust DIR        trusted signers (default $ISIM_TRUST_DIR, else\n"
		   "                         /etc/infrasim/trusted-signers)\n"
		   "  -p, --pub KEY.pub      trust this one public key instead\n"
		   "  -n, --network CIDR     the mesh's network_cidr: every range a peer declares\n"
		   "                         must lie inside one (repeatable; default " DEFAULT_NETWORK ")\n"
		   "  -k, --keepalive N      persistent keepalive of the peers, seconds (default 25,\n"
		   "                         0 off)\n"
		   "  -t, --at TIME          check validity at TIME (RFC 3339, or @SECONDS)\n"
		   "      --narrow-only      add new peers with their host routes and stop: they stay\n"
		   "                         \"narrow\" until a later admit verifies them\n"
		   "      --no-narrow        add a peer only once it verified, with all its ranges\n"
		   "  -b, --batch N          descriptors per change of the device (default 256)\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 all admitted, 1 one or more refused, 65 one or more\n"
		   "malformed (or DEV is not a WireGuard device), 64 usage, 66 no such device\n"
		   "or FILE, 73 state not writable, 74 the device refused a change, 77\n"
		   "permission denied, 78 the state or the trusted signers are unusable;\n"
		   "see isim-wgadmit(1).\n");
}

struct owner {
	struct isim_prefix p;
	uint8_t key[ISIM_WG_KEY_LEN];
};

enum kind {
	K_REFUSED,
	K_SAME,	   /* this very descriptor admitted this node before */
	K_NEW,	   /* a node (or a narrow one) with a key new to the device */
	K_ROTATE,  /* an admitted node, with a new key */
	K_REGRANT, /* an admitted node, its key unchanged */
};

struct cand {
	int line;
	enum kind kind;
	cJSON *doc;
	char *jcs;
	char node_id[64];
	uint32_t id_hash; /* of node_id (FNV-1a), set by read_cand */
	uint8_t key[ISIM_WG_KEY_LEN];
	struct isim_prefix *ranges, *narrow;
	size_t nranges, nnarrow;
	/* The first and last addresses its ranges span, IPv4 ([0]) and IPv6
	 * ([1]), big-endian: two descriptors whose spans are apart cannot
	 * overlap. */
	struct span {
		uint8_t lo[16], hi[16];
		bool any;
	} span[2];
	union isim_wg_endpoint ep;
	int64_t issued, expires;
	char digest[ISIM_SHA256_HEX];
	uint8_t old_key[ISIM_WG_KEY_LEN];
	struct isim_verdict v;
	bool pending; /* its key recorded as pending by start */
	bool admitted;
	enum wa_state state;
	const struct isim_prefix *now; /* what it has on the device at the end */
	size_t nnow;
};

struct run {
	struct wa_ctx *c;
	const struct isim_schema *schema;
	struct isim_trust *trust;
	struct isim_prefix nets[NETWORKS_MAX];
	size_t nnets;
	time_t at;
	uint16_t keepalive;
	bool narrow, narrow_only;
	size_t batch;
	int worst;
	const char *input; /* the input's name, for messages */
	FILE *in;
	struct isim_jsonl rd; /* of in */
	struct ahead {
		struct cand *q; /* a ring of batch entries */
		size_t head, n;
		bool end; /* what follows the queue: the end (got 0), or */
		int got;  /* a read error (got -1, err) */
		struct isim_error err;
	} ahead;
	/* The descriptor read after the last batch: it waits for the next
	 * one (carry) when it conflicts with one of the batch. */
	struct cand next;
	bool carry, eof;
	bool pended; /* keys were recorded as pending */
	/* Every AllowedIP on the device, by owner, sorted. */
	struct owner *owners;
	size_t nowners, capowners;
	size_t nsorted; /* owners[0, nsorted) are in order; the rest new */
};

static void cand_free(struct cand *k)
{
	cJSON_Delete(k->doc);
	free(k->jcs);
	free(k->ranges);
	free(k->narrow);
	memset(k, 0, sizeof(*k));
}

/* ---- who owns which address ------------------------------------------- */

static int owner_cmp(const void *a, const void *b)
{
	return isim_prefix_cmp(&((const struct owner *)a)->p, &((const struct owner *)b)->p);
}

static int owners_add(struct run *r, const struct isim_prefix *p, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	struct owner *o;

	if (r->nowners == r->capowners) {
		size_t cap = r->capowners ? 2 * r->capowners : 256;

		o = realloc(r->owners, cap * sizeof(*o));
		if (!o)
			return -1;
		r->owners = o;
		r->capowners = cap;
	}
	o = &r->owners[r->nowners++];
	o->p = *p;
	memcpy(o->key, key, ISIM_WG_KEY_LEN);
	return 0;
}

static void owners_drop_key(struct run *r, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	size_t i, j = 0, sorted = 0;

	for (i = 0; i < r->nowners; i++) {
		if (memcmp(r->owners[i].key, key, ISIM_WG_KEY_LEN)) {
			sorted += i < r->nsorted;
			r->owners[j++] = r->owners[i];
		}
	}
	r->nowners = j;
	r->nsorted = sorted;
}

/* The new owners sorted and merged into the sorted ones: a batch adds
 * few to many. -1 when out of memory (the owners are as they were). */
static int owners_sort(struct run *r)
{
	struct owner *o = r->owners, *m;
	size_t a = 0, b = r->nsorted, i = 0, n = r->nowners;

	qsort(o + r->nsorted, n - r->nsorted, sizeof(*o), owner_cmp);
	if (r->nsorted && r->nsorted < n && owner_cmp(&o[r->nsorted - 1], &o[r->nsorted]) > 0) {
		m = malloc(n * sizeof(*m));
		if (!m)
			return -1;
		while (a < r->nsorted && b < n)
			m[i++] = owner_cmp(&o[a], &o[b]) <= 0 ? o[a++] : o[b++];
		while (a < r->nsorted)
			m[i++] = o[a++];
		while (b < n)
			m[i++] = o[b++];
		memcpy(o, m, n * sizeof(*m));
		free(m);
	}
	r->nsorted = n;
	return 0;
}

static bool owned_by(const struct owner *o, const uint8_t *k1, const uint8_t *k2)
{
	return (k1 && !memcmp(o->key, k1, ISIM_WG_KEY_LEN)) || (k2 && !memcmp(o->key, k2, ISIM_WG_KEY_LEN));
}

static void mask(struct isim_prefix *p, unsigned len)
{
	unsigned bytes = p->family == AF_INET ? 4 : 16, i;

	for (i = 0; i < bytes; i++) {
		if (len >= 8 * (i + 1))
			continue;
		if (len <= 8 * i)
			p->addr[i] = 0;
		else
			p->addr[i] &= (uint8_t)(0xff << (8 - (len - 8 * i)));
	}
	p->len = (uint8_t)len;
}

/* An entry of the sorted owners that overlaps p and is not the node's own
 * (keys k1, k2), or NULL. An entry containing p has p's address cut to its
 * length; one inside p sorts after p, before p's end. */
static const struct owner *owners_overlap(const struct run *r, const struct isim_prefix *p, const uint8_t *k1,
					  const uint8_t *k2)
{
	struct owner probe;
	size_t lo, hi, mid;
	unsigned len;

	for (len = 0; len <= p->len; len++) {
		probe.p = *p;
		mask(&probe.p, len);
		lo = 0;
		hi = r->nowners;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (owner_cmp(&r->owners[mid], &probe) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < r->nowners && isim_prefix_equal(&r->owners[lo].p, &probe.p); lo++) {
			if (!owned_by(&r->owners[lo], k1, k2))
				return &r->owners[lo];
		}
		if (len == p->len) {
			/* Now lo is where p would be: what follows inside p. */
			for (; lo < r->nowners && isim_prefix_contains(p, &r->owners[lo].p); lo++) {
				if (!owned_by(&r->owners[lo], k1, k2))
					return &r->owners[lo];
			}
		}
	}
	return NULL;
}

static const char *owner_name(const struct run *r, const uint8_t key[static ISIM_WG_KEY_LEN])
{
	const struct wa_node *n = wa_node_by_key(r->c, key);

	return n ? n->node_id : NULL;
}

/* ---- reading a descriptor ---------------------------------------------- */

static const char *text_at(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int endpoint_of(const char *s, union isim_wg_endpoint *ep, char *why, size_t size)
{
	struct isim_endpoint e;
	struct isim_error err;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char port[8];
	int rc;

	isim_error_clear(&err);
	if (isim_endpoint_parse(s, &e, &err) < 0) {
		snprintf(why, size, "%.400s", err.msg);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", e.port);
	/* A host name is resolved once, here, as wg(8) does. */
	hints.ai_flags = e.family == AF_UNSPEC ? 0 : AI_NUMERICHOST;
	rc = getaddrinfo(e.host, port, &hints, &res);
	if (rc || !res || res->ai_addrlen > sizeof(*ep)) {
		snprintf(why, size, "cannot resolve '%.200s': %s", e.host, rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memset(ep, 0, sizeof(*ep));
	memcpy(ep, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int refuse(struct cand *k, const char *fmt, ...) ISIM_PRINTF(2, 3);
static int refuse(struct cand *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->v.reason, sizeof(k->v.reason), fmt, ap);
	va_end(ap);
	k->v.ok = false;
	k->kind = K_REFUSED;
	return 0;
}

static bool inside_network(const struct run *r, const struct isim_prefix *p)
{
	size_t i;

	for (i = 0; i < r->nnets; i++) {
		if (isim_prefix_contains(&r->nets[i], p))
			return true;
	}
	return false;
}

static void span_add(struct cand *k, const struct isim_prefix *p)
{
	struct span *s = &k->span[p->family == AF_INET6];
	struct isim_prefix lo = *p, hi;
	unsigned i, n = p->family == AF_INET6 ? 16 : 4;

	mask(&lo, p->len);
	hi = lo;
	for (i = p->len; i < 8 * n; i++)
		hi.addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	if (!s->any || memcmp(lo.addr, s->lo, n) < 0)
		memcpy(s->lo, lo.addr, n);
	if (!s->any || memcmp(hi.addr, s->hi, n) > 0)
		memcpy(s->hi, hi.addr, n);
	s->any = true;
}

static bool spans_meet(const struct cand *a, const struct cand *b)
{
	unsigned f;

	for (f = 0; f < 2; f++) {
		const struct span *x = &a->span[f], *y = &b->span[f];
		size_t n = f ? 16 : 4;

		if (x->any && y->any && memcmp(x->lo, y->hi, n) <= 0 && memcmp(y->lo, x->hi, n) <= 0)
			return true;
	}
	return false;
}

/* Read what the device change needs from a descriptor that passed the
 * schema: what needs neither the device nor the state, so that it can be
 * done ahead, while the device takes the batch before. Refusals here come
 * before anything touches the device. */
static int read_cand(const struct run *r, struct cand *k, struct isim_error *err)
{
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(k->doc, "allowed_ips"), *it;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(k->doc, "identity");
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(k->doc, "endpoints");
	const char *s, *why;
	char msg[512];
	struct isim_buf jcs = { 0 };
	time_t t;
	size_t i;
	uint8_t hash[ISIM_SHA256_BYTES];

	snprintf(k->node_id, sizeof(k->node_id), "%s", text_at(k->doc, "node_id"));
	k->id_hash = 2166136261u;
	for (s = k->node_id; *s; s++)
		k->id_hash = (k->id_hash ^ (uint8_t)*s) * 16777619u;
	if (!isim_wg_key_parse(text_at(id, "wg_public_key"), k->key))
		return refuse(k, "malformed: /identity/wg_public_key: expected the base64 text of 32 bytes");
	k->nranges = (size_t)cJSON_GetArraySize(ips);
	k->ranges = calloc(k->nranges + 1, sizeof(*k->ranges));
	k->narrow = calloc(k->nranges + 1, sizeof(*k->narrow));
	if (!k->ranges || !k->narrow)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	i = 0;
	cJSON_ArrayForEach (it, ips) {
		if (isim_prefix_parse(it->valuestring, false, &k->ranges[i], &why) < 0)
			return refuse(k, "malformed: /allowed_ips/%zu: '%.64s' %s", i, it->valuestring, why);
		if (!inside_network(r, &k->ranges[i]))
			return refuse(k, "outside network: /allowed_ips/%zu: %.64s is not inside the mesh's network", i,
				      it->valuestring);
		if (isim_prefix_is_host(&k->ranges[i]))
			k->narrow[k->nnarrow++] = k->ranges[i];
		span_add(k, &k->ranges[i]);
		i++;
	}
	s = text_at(eps, "wireguard");
	if (s && endpoint_of(s, &k->ep, msg, sizeof(msg)) < 0)
		return refuse(k, "malformed: /endpoints/wireguard: %s", msg);
	if (isim_parse_rfc3339(text_at(k->doc, "issued_at"), &t) < 0)
		return refuse(k, "malformed: /issued_at: not an RFC 3339 date-time");
	k->issued = t;
	if (isim_parse_rfc3339(text_at(k->doc, "expires_at"), &t) < 0)
		return refuse(k, "malformed: /expires_at: not an RFC 3339 date-time");
	k->expires = t;
	if (isim_jcs_from_cjson(k->doc, &jcs, err) < 0)
		return -1;
	if (jcs.oom) {
		isim_buf_free(&jcs);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	k->jcs = isim_buf_take(&jcs);
	if (isim_sha256(k->jcs, strlen(k->jcs), hash) < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot hash");
	isim_hex(hash, sizeof(hash), k->digest);
	return 0;
}

/* Decide what kind of change a descriptor that read_cand read asks for,
 * against the device and the state as they are now. */
static void classify(struct run *r, struct cand *k)
{
	char text[ISIM_PREFIX_STRLEN], other[ISIM_PREFIX_STRLEN];
	const struct owner *o;
	const struct wa_node *row, *holder;
	const char *s;
	size_t i;

	row = wa_node_by_id(r->c, k->node_id);
	holder = wa_node_by_key(r->c, k->key);
	if (holder && holder != row) {
		refuse(k, "key in use: /identity/wg_public_key is node '%s''s", holder->node_id);
		return;
	}
	if (!holder && !row && isim_wg_device_peer(r->c->device, k->key)) {
		refuse(k, "key in use: /identity/wg_public_key is a peer of %s that isim-wgadmit did not add",
		       r->c->dev);
		return;
	}
	k->kind = K_NEW;
	if (row && row->state == WA_ADMITTED) {
		if (!strcmp(row->digest, k->digest) && !memcmp(row->key, k->key, sizeof(k->key))) {
			k->kind = K_SAME;
			return;
		}
		if (k->issued <= row->issued_at) {
			refuse(k,
			       "replay: /issued_at is not later than that of the descriptor node '%s' was "
			       "admitted with",
			       k->node_id);
			return;
		}
		k->kind = memcmp(row->key, k->key, sizeof(k->key)) ? K_ROTATE : K_REGRANT;
		memcpy(k->old_key, row->key, sizeof(k->old_key));
	} else if (row) {
		memcpy(k->old_key, row->key, sizeof(k->old_key));
	}
	/* AllowedIPs move between peers: a grant overlapping another's
	 * address would take it away from them. */
	for (i = 0; i < k->nranges; i++) {
		o = owners_overlap(r, &k->ranges[i], k->key, row ? row->key : NULL);
		if (!o)
			continue;
		isim_prefix_format(&k->ranges[i], text);
		isim_prefix_format(&o->p, other);
		s = owner_name(r, o->key);
		if (s) {
			refuse(k, "overlap: /allowed_ips/%zu: %s overlaps %s of node '%s'", i, text, other, s);
			return;
		}
		refuse(k, "overlap: /allowed_ips/%zu: %s overlaps %s of a peer of %s that isim-wgadmit did not add", i,
		       text, other, r->c->dev);
		return;
	}
	/* A new key of an admitted node gets nothing before it verifies:
	 * its host routes are the node's old key's. */
	if (k->kind == K_ROTATE)
		k->nnarrow = 0;
}

/* read_cand, then classify unless refused already. */
static int examine(struct run *r, struct cand *k, struct isim_error *err)
{
	if (read_cand(r, k, err) < 0)
		return -1;
	if (!k->v.reason[0])
		classify(r, k);
	return 0;
}

/* Two descriptors of one batch that would touch one node, key or range
 * are not decided together: the later one waits for the next batch. */
static bool conflicts(const struct cand *a, const struct cand *b)
{
	uint64_t x, y;
	size_t i, j;

	/* Every pair of a batch, and of it and the batch before, comes here:
	 * the first word of the keys and the hash of the node ids tell most
	 * apart without a call. */
	memcpy(&x, a->key, sizeof(x));
	memcpy(&y, b->key, sizeof(y));
	if (x == y && !memcmp(a->key, b->key, sizeof(a->key)))
		return true;
	if (a->id_hash == b->id_hash && !strcmp(a->node_id, b->node_id))
		return true;
	if (!spans_meet(a, b))
		return false;
	for (i = 0; i < a->nranges; i++) {
		for (j = 0; j < b->nranges; j++) {
			if (isim_prefix_overlaps(&a->ranges[i], &b->ranges[j]))
				return true;
		}
	}
	return false;
}

static void peer_of(const struct run *r, const struct cand *k, struct isim_wg_peer *p, bool wide)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, k->key, sizeof(p->public_key));
	p->flags = ISIM_WG_PEER_REPLACE_ALLOWED | ISIM_WG_PEER_HAS_KEEPALIVE;
	p->endpoint = k->ep;
	p->keepalive = r->keepalive;
	p->allowed = wide ? k->ranges : k->narrow;
	p->nallowed = wide ? k->nranges : k->nnarrow;
}

static void remove_of(const uint8_t key[static ISIM_WG_KEY_LEN], struct isim_wg_peer *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, key, ISIM_WG_KEY_LEN);
	p->flags = ISIM_WG_PEER_REMOVE;
}

static int print_verdict(const struct cand *k)
{
	char key[45];
	cJSON *o = cJSON_CreateObject();
	const char *state = k->admitted ? "admitted" : k->state == WA_NARROW ? "narrow" : "refused";
	int rc;

	if (!o)
		return wa_print_line(PROG, NULL);
	if (k->node_id[0])
		cJSON_AddStringToObject(o, "node_id", k->node_id);
	else
		cJSON_AddNullToObject(o, "node_id");
	if (k->jcs || k->kind != K_REFUSED || sodium_is_zero(k->key, sizeof(k->key)) == 0) {
		isim_wg_key_b64(k->key, key);
		cJSON_AddStringToObject(o, "wg_public_key", key);
	} else {
		cJSON_AddNullToObject(o, "wg_public_key");
	}
	cJSON_AddBoolToObject(o, "admitted", k->admitted);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddItemToObject(o, "allowed_ips", wa_prefixes_json(k->now, k->nnow));
	if (k->v.key_id[0])
		cJSON_AddStringToObject(o, "key_id", k->v.key_id);
	else
		cJSON_AddNullToObject(o, "key_id");
	if (k->admitted || k->state == WA_NARROW)
		cJSON_AddNullToObject(o, "reason");
	else
		cJSON_AddStringToObject(o, "reason", k->v.reason);
	cJSON_AddNumberToObject(o, "line", k->line);
	/* Flushed by the batch (decide). */
	rc = isim_json_write_line(stdout, o) < 0 ? isim_stdout_error(PROG) : 0;
	cJSON_Delete(o);
	return rc;
}

/* A narrow node, not yet verified, whose new descriptor has another key:
 * its old peer goes once the new one is in. */
static bool replaces_narrow(const struct cand *k)
{
	return k->kind == K_NEW && !sodium_is_zero(k->old_key, sizeof(k->old_key)) &&
	       memcmp(k->old_key, k->key, sizeof(k->key));
}

/* Candidate i of a batch verified (the batch's fields run and ks), on one
 * of wa_parallel's threads, each writing only its own candidates. */
struct verify_job {
	const struct run *r;
	struct cand *ks;
};

static int verify_one(void *arg, size_t i, struct isim_error *err)
{
	struct verify_job *j = arg;
	struct cand *k = &j->ks[i];

	if (k->kind != K_NEW && k->kind != K_ROTATE && k->kind != K_REGRANT)
		return 0;
	return isim_descriptor_verify(NULL, k->doc, j->r->at, isim_trust_lookup, j->r->trust, &k->v, err) < 0 ? -1 : 0;
}

static int verify_batch(const struct run *r, struct cand *ks, size_t n, struct isim_error *err)
{
	struct verify_job j = { .r = r, .ks = ks };

	return wa_parallel(n, verify_one, &j, err);
}

/* What a verdict adds to the exit status: 0 admitted (or narrow), 65 for
 * a descriptor that is malformed (as isim-verify says of one), else 1. */
static int verdict_code(const struct cand *k)
{
	if (k->admitted || k->state == WA_NARROW)
		return 0;
	if (!strncmp(k->v.reason, "malformed:", 10) || !strncmp(k->v.reason, "schema:", 7))
		return ISIM_EXIT_DATAERR;
	return ISIM_EXIT_VERDICT;
}

/* A malformed descriptor is said on stderr too, where its line is. */
static void say_malformed(const struct run *r, const struct cand *k)
{
	char clean[sizeof(k->v.reason)];

	isim_sanitize(clean, sizeof(clean), k->v.reason);
	fprintf(stderr, PROG ": %s:%d: %s\n", r->input, k->line, clean);
}

/* More input is there without waiting: in stdio's buffer (glibc keeps
 * the unread part between _IO_read_ptr and _IO_read_end), or on the fd. */
static bool input_ready(FILE *f)
{
	struct pollfd p = { .fd = fileno(f), .events = POLLIN };

	if (f->_IO_read_ptr < f->_IO_read_end)
		return true;
	return poll(&p, 1, 0) > 0;
}

/* A line that is not JSON: refused in its place in the batch, so that the
 * verdicts keep the input's order (and said on stderr with the others). */
static void bad_line(struct cand *k, const struct isim_error *e, int line)
{
	char msg[sizeof(e->msg) + 600];

	memset(k, 0, sizeof(*k));
	k->line = line;
	if (e->pointer[0])
		snprintf(msg, sizeof(msg), "%s: %s", e->pointer, e->msg);
	else
		snprintf(msg, sizeof(msg), "%s", e->msg);
	refuse(k, "malformed: %s", msg);
}

/* A line of isim-rendezvous run carries the descriptor it found in its
 * member "descriptor", beside where it was found: that descriptor. */
static cJSON *unwrap(cJSON *doc)
{
	cJSON *d = cJSON_GetObjectItemCaseSensitive(doc, "descriptor");

	if (!cJSON_IsObject(d) || cJSON_GetObjectItemCaseSensitive(doc, "identity"))
		return doc;
	cJSON_DetachItemViaPointer(doc, d);
	cJSON_Delete(doc);
	return d;
}

/* One descriptor of the input, read: 1 with *k (refused already when the
 * line is malformed or fails the schema), 0 at the end, or -1 with err
 * when the input cannot be read. */
static int read_one(struct run *r, struct cand *k, struct isim_error *err)
{
	cJSON *doc;
	int got;

	memset(k, 0, sizeof(*k));
	isim_error_clear(err);
	got = isim_jsonl_next(&r->rd, &doc, err);
	if (got == 0)
		return 0;
	if (got < 0) {
		if (err->kind != ISIM_ERR_DATA)
			return -1;
		bad_line(k, err, r->rd.line);
		return 1;
	}
	k->line = r->rd.line;
	k->doc = unwrap(doc);
	doc = k->doc;
	isim_error_clear(err);
	if (isim_schema_check(r->schema, doc, err) < 0) {
		cJSON *nid = cJSON_GetObjectItemCaseSensitive(doc, "node_id");

		if (err->kind != ISIM_ERR_DATA) {
			cand_free(k);
			return -1;
		}
		if (cJSON_IsString(nid) && strlen(nid->valuestring) < sizeof(k->node_id))
			snprintf(k->node_id, sizeof(k->node_id), "%s", nid->valuestring);
		refuse(k, "schema: %s: %s", err->pointer[0] ? err->pointer : "/", err->msg);
		return 1;
	}
	if (read_cand(r, k, err) < 0) {
		cand_free(k);
		return -1;
	}
	return 1;
}

/* While the device takes a batch: read what input is there, up to a
 * batch, so that the next batch is read by then. The end of the input and
 * a read error wait in the queue behind what came before them. */
static void read_ahead(struct run *r)
{
	struct ahead *a = &r->ahead;
	int got;

	while (!a->end && a->n < r->batch && input_ready(r->in)) {
		got = read_one(r, &a->q[(a->head + a->n) % r->batch], &a->err);
		if (got <= 0) {
			a->end = true;
			a->got = got;
			break;
		}
		a->n++;
	}
}

/* The next descriptor: from the queue read_ahead filled, else the input. */
static int next_cand(struct run *r, struct cand *k, struct isim_error *err)
{
	struct ahead *a = &r->ahead;

	if (a->n) {
		*k = a->q[a->head];
		memset(&a->q[a->head], 0, sizeof(a->q[a->head]));
		a->head = (a->head + 1) % r->batch;
		a->n--;
		return 1;
	}
	if (a->end) {
		*err = a->err;
		return a->got;
	}
	return read_one(r, k, err);
}

/* Descriptors decided together: one change of the device, one transaction
 * of the state. */
struct batch {
	struct cand *ks;
	size_t n;
	bool started; /* its new keys recorded as pending, added narrow */
	int ticket;   /* of that change while the device takes it, or -1 */
};

static bool is_new(const struct cand *k)
{
	return k->kind == K_NEW || k->kind == K_ROTATE;
}

/* Whether k conflicts with a candidate of b that changes the device, or
 * has a key b's change removes. */
static bool touches(const struct batch *b, const struct cand *k)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct cand *o = &b->ks[i];

		if ((o->pending || (o->admitted && o->kind != K_SAME)) && conflicts(o, k))
			return true;
		/* A key it rotates away, or whose narrow peer it replaces,
		 * is removed by its change. */
		if (!sodium_is_zero(o->old_key, sizeof(o->old_key)) && !memcmp(o->old_key, k->key, sizeof(k->key)))
			return true;
	}
	return false;
}

/* Fill b with the next descriptors, each read and classified against the
 * state as the batches before it leave it, until the batch is full, one
 * conflicts with one of the batch (it waits for the next), or no more is
 * there without waiting. The first is waited for, unless prev: then
 * only what read_ahead queued is taken, while prev (decided, not yet
 * applied) is at the device, and nothing that conflicts with what prev
 * changes. 0, or an exit code. */
static int collect(struct run *r, struct batch *b, const struct batch *prev)
{
	struct isim_error err;
	size_t i;
	int got;

	b->n = 0;
	b->started = false;
	b->ticket = -1;
	isim_error_clear(&err);
	if (r->carry) {
		/* Decided against the state as it is now. */
		cJSON *d = r->next.doc;
		int line = r->next.line;

		r->next.doc = NULL;
		cand_free(&r->next);
		r->next.doc = d;
		r->next.line = line;
		r->carry = false;
		if (examine(r, &r->next, &err) < 0) {
			cand_free(&r->next);
			return isim_fail(PROG, &err);
		}
		if (prev && r->next.kind != K_REFUSED && touches(prev, &r->next)) {
			r->carry = true;
			return 0;
		}
		b->ks[b->n++] = r->next;
		memset(&r->next, 0, sizeof(r->next));
	}
	while (!r->eof && b->n < r->batch) {
		if (prev ? !r->ahead.n : b->n && !r->ahead.n && !r->ahead.end && !input_ready(r->in))
			break;
		got = next_cand(r, &r->next, &err);
		if (got == 0) {
			r->eof = true;
			break;
		}
		if (got < 0)
			return isim_fail(PROG, &err);
		if (!r->next.v.reason[0])
			classify(r, &r->next);
		for (i = 0; i < b->n; i++) {
			if (r->next.kind != K_REFUSED && b->ks[i].kind != K_REFUSED && conflicts(&b->ks[i], &r->next))
				break;
		}
		if (i < b->n || (prev && r->next.kind != K_REFUSED && touches(prev, &r->next))) {
			r->carry = true;
			break;
		}
		b->ks[b->n++] = r->next;
		memset(&r->next, 0, sizeof(r->next));
	}
	return 0;
}

/* A batch's first steps: its new keys recorded as pending (committed
 * before the device has them, so that a run killed later leaves a trace
 * the next one reconciles), then added narrow. 0, or an exit code. */
static int start(struct run *r, struct batch *b)
{
	struct wa_ctx *c = r->c;
	struct isim_wg_peer *ch = NULL;
	struct isim_error err;
	size_t i, nch = 0, nnew = 0;
	int rc;

	isim_error_clear(&err);
	b->started = true;
	for (i = 0; i < b->n; i++)
		nnew += is_new(&b->ks[i]);
	if (!nnew)
		return 0;
	if (isim_db_begin(c->db, &err) < 0)
		return isim_fail(PROG, &err);
	for (i = 0; i < b->n; i++) {
		if (!is_new(&b->ks[i]))
			continue;
		if (wa_db_pending(c, b->ks[i].key, b->ks[i].node_id, &err) < 0) {
			isim_db_rollback(c->db);
			return isim_fail(PROG, &err);
		}
		b->ks[i].pending = true;
	}
	r->pended = true;
	if (isim_db_commit(c->db, &err) < 0)
		return isim_fail(PROG, &err);
	if (!r->narrow && !r->narrow_only)
		return 0;
	ch = calloc(nnew, sizeof(*ch));
	if (!ch) {
		fprintf(stderr, PROG ": out of memory\n");
		return ISIM_EXIT_SOFTWARE;
	}
	for (i = 0; i < b->n; i++) {
		if (is_new(&b->ks[i]))
			peer_of(r, &b->ks[i], &ch[nch++], false);
	}
	/* The device adds them while the descriptors are verified. */
	rc = wa_apply_begin(c, ch, nch, &b->ticket);
	free(ch);
	return rc;
}

/* The run's picture of the device and the state after a batch's
 * verdicts, which the next batch is classified against. 0, or -1 when out
 * of memory. */
static int picture(struct run *r, const struct batch *b)
{
	struct wa_ctx *c = r->c;
	struct wa_node *row;
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		const struct cand *k = &b->ks[i];

		if (k->kind == K_SAME)
			continue;
		if (!k->admitted && k->state != WA_NARROW)
			continue;
		row = wa_node_by_id(c, k->node_id);
		if (row) {
			owners_drop_key(r, row->key);
			wa_node_clear(row);
		} else {
			row = wa_node_add(c);
			if (!row)
				return -1;
		}
		snprintf(row->node_id, sizeof(row->node_id), "%s", k->node_id);
		memcpy(row->key, k->key, sizeof(row->key));
		row->state = k->state;
		row->allowed = calloc(k->nnow + 1, sizeof(*row->allowed));
		if (!row->allowed)
			return -1;
		memcpy(row->allowed, k->now, k->nnow * sizeof(*row->allowed));
		row->nallowed = k->nnow;
		memcpy(row->digest, k->digest, sizeof(row->digest));
		snprintf(row->key_id, sizeof(row->key_id), "%s", k->admitted ? k->v.key_id : "");
		row->issued_at = k->issued;
		row->expires_at = k->expires;
		if (wa_node_index(c, row) < 0)
			return -1;
		for (j = 0; j < row->nallowed; j++) {
			if (owners_add(r, &row->allowed[j], row->key) < 0)
				return -1;
		}
	}
	return owners_sort(r);
}

/* A started batch decided: verified (while the device adds its new keys
 * narrow), the verified widened and the others removed in one change,
 * recorded. The next batch, when its descriptors are there already, is
 * collected against this one's verdicts and started while this one's are
 * recorded, so that the device always has a change to work on. */
static int decide(struct run *r, struct batch *b, struct batch *next)
{
	struct wa_ctx *c = r->c;
	struct cand *ks = b->ks;
	struct isim_wg_peer *ch = NULL;
	struct isim_error err;
	struct wa_node *row;
	size_t i, n = b->n, nch = 0;
	int ret = ISIM_EXIT_SOFTWARE, rc;
	bool begun = false;

	isim_error_clear(&err);
	ch = calloc(2 * n + 1, sizeof(*ch));
	if (!ch) {
		fprintf(stderr, PROG ": out of memory\n");
		return ISIM_EXIT_SOFTWARE;
	}
	if (!r->narrow_only && verify_batch(r, ks, n, &err) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		struct cand *k = &ks[i];

		if (k->kind == K_REFUSED) {
			k->state = 0;
			continue;
		}
		if (k->kind == K_SAME) {
			row = wa_node_by_id(c, k->node_id);
			k->admitted = true;
			k->now = row->allowed;
			k->nnow = row->nallowed;
			snprintf(k->v.key_id, sizeof(k->v.key_id), "%s", row->key_id);
			continue;
		}
		if (r->narrow_only) {
			if (k->kind == K_NEW) {
				if (replaces_narrow(k))
					remove_of(k->old_key, &ch[nch++]);
				k->state = WA_NARROW;
				k->now = k->narrow;
				k->nnow = k->nnarrow;
				continue;
			}
			/* An admitted node's new descriptor is not narrowed. */
			refuse(k, "refused: node '%s' is admitted; --narrow-only adds new nodes only", k->node_id);
			if (k->kind == K_ROTATE)
				remove_of(k->key, &ch[nch++]);
			k->kind = K_REFUSED;
			continue;
		}
		if (k->v.ok) {
			if (k->kind == K_ROTATE || replaces_narrow(k))
				remove_of(k->old_key, &ch[nch++]);
			/* A node that declares host routes only has its
			 * whole grant already: nothing to widen. */
			if (!(r->narrow && is_new(k) && k->nnarrow == k->nranges))
				peer_of(r, k, &ch[nch++], true);
			k->admitted = true;
			k->state = WA_ADMITTED;
			k->now = k->ranges;
			k->nnow = k->nranges;
			continue;
		}
		wa_reason_word(k->v.reason, sizeof(k->v.reason));
		/* A failed new peer goes; an admitted node keeps what it
		 * was admitted with, so that a forgery cannot evict it. */
		if (is_new(k))
			remove_of(k->key, &ch[nch++]);
		if (k->kind == K_REGRANT) {
			row = wa_node_by_id(c, k->node_id);
			k->now = row->allowed;
			k->nnow = row->nallowed;
		}
		k->kind = K_REFUSED;
	}
	if (picture(r, b) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	/* The next batch goes to the device behind this one: its grants
	 * were checked against this one's, and the two changes touch no
	 * common peer or address, so their order at the device is free. */
	read_ahead(r);
	if (next) {
		rc = collect(r, next, b);
		if (!rc && next->n)
			rc = start(r, next);
		if (rc) {
			ret = rc;
			goto out;
		}
	}
	/* What the state will say is written while the device works; it is
	 * committed once the device has taken the change, and rolled back if
	 * it has not (a run killed in between leaves the device ahead of the
	 * state, which the next run reconciles). */
	if (isim_db_begin(c->db, &err) < 0)
		goto fail;
	begun = true;
	for (i = 0; i < n; i++) {
		struct cand *k = &ks[i];
		struct wa_node node = { 0 };

		if (k->kind == K_SAME)
			continue;
		if (k->admitted || k->state == WA_NARROW) {
			snprintf(node.node_id, sizeof(node.node_id), "%s", k->node_id);
			memcpy(node.key, k->key, sizeof(node.key));
			node.state = k->state;
			node.allowed = (struct isim_prefix *)k->now;
			node.nallowed = k->nnow;
			memcpy(node.digest, k->digest, sizeof(node.digest));
			snprintf(node.key_id, sizeof(node.key_id), "%s", k->admitted ? k->v.key_id : "");
			node.signer = k->admitted && k->v.signer[0] ? k->v.signer : NULL;
			node.issued_at = k->issued;
			node.expires_at = k->expires;
			node.admitted_at = time(NULL);
			if (wa_db_put(c, &node, k->jcs, &err) < 0 ||
			    wa_db_decide(c, k->node_id, k->key, k->admitted ? "admitted" : "narrow", NULL, k->digest,
					 &err) < 0)
				goto fail;
		} else if (verdict_code(k) != ISIM_EXIT_DATAERR &&
			   wa_db_decide(c, k->node_id[0] ? k->node_id : NULL, k->jcs ? k->key : NULL, "refused",
					k->v.reason, k->digest, &err) < 0) {
			/* Malformed input is said, not recorded: it changes
			 * nothing. A refusal on its merits is history. */
			goto fail;
		}
	}
	read_ahead(r);
	rc = wa_apply_end(c, b->ticket);
	b->ticket = -1;
	if (!rc)
		rc = wa_apply(c, ch, nch);
	if (rc) {
		isim_db_rollback(c->db);
		begun = false;
		ret = rc;
		goto out;
	}
	if (isim_db_commit(c->db, &err) < 0)
		goto fail;
	begun = false;
	for (i = 0; i < n; i++) {
		rc = print_verdict(&ks[i]);
		if (rc) {
			ret = rc;
			goto out;
		}
		rc = verdict_code(&ks[i]);
		if (rc == ISIM_EXIT_DATAERR)
			say_malformed(r, &ks[i]);
		if (rc > r->worst)
			r->worst = rc;
	}
	if (fflush(stdout) == EOF) {
		ret = isim_stdout_error(PROG);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	if (begun)
		isim_db_rollback(c->db);
	ret = isim_fail(PROG, &err);
out:
	free(ch);
	return ret;
}

static int clear_pending(struct run *r)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_db_begin(r->c->db, &err) < 0)
		return isim_fail(PROG, &err);
	if (wa_db_clear_pending(r->c, &err) < 0 || isim_db_commit(r->c->db, &err) < 0) {
		isim_db_rollback(r->c->db);
		return isim_fail(PROG, &err);
	}
	r->pended = false;
	return 0;
}

static void batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		cand_free(&b->ks[i]);
	b->n = 0;
}

static int run_input(struct run *r, FILE *in, const char *name)
{
	struct batch bs[2] = { { 0 } }, *cur = &bs[0], *next = &bs[1], *t;
	size_t i;
	int rc = ISIM_EXIT_SOFTWARE;

	memset(&r->ahead, 0, sizeof(r->ahead));
	memset(&r->next, 0, sizeof(r->next));
	r->carry = r->eof = false;
	bs[0].ks = calloc(r->batch + 1, sizeof(*bs[0].ks));
	bs[1].ks = calloc(r->batch + 1, sizeof(*bs[1].ks));
	r->ahead.q = calloc(r->batch, sizeof(*r->ahead.q));
	if (!bs[0].ks || !bs[1].ks || !r->ahead.q) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	r->input = name;
	r->in = in;
	isim_jsonl_init(&r->rd, in, name);
	rc = collect(r, cur, NULL);
	while (!rc && cur->n) {
		if (!cur->started)
			rc = start(r, cur);
		if (!rc)
			rc = decide(r, cur, next);
		batch_free(cur);
		t = cur;
		cur = next;
		next = t;
		if (!rc && !cur->n)
			rc = collect(r, cur, NULL);
	}
	/* The pending keys stay listed until every batch is recorded: one
	 * that is recorded is not taken for a stray by a later run, and
	 * each batch's would be deleted while the next's are in flight. */
	if (!rc && r->pended)
		rc = clear_pending(r);
out:
	cand_free(&r->next);
	batch_free(&bs[0]);
	batch_free(&bs[1]);
	free(bs[0].ks);
	free(bs[1].ks);
	for (i = 0; r->ahead.q && i < r->ahead.n; i++)
		cand_free(&r->ahead.q[(r->ahead.head + i) % r->batch]);
	free(r->ahead.q);
	memset(&r->ahead, 0, sizeof(r->ahead));
	isim_jsonl_free(&r->rd);
	r->in = NULL;
	return rc;
}

static int load_owners(struct run *r)
{
	const struct isim_wg_device *d = r->c->device;
	size_t i, j;

	for (i = 0; i < d->npeers; i++) {
		for (j = 0; j < d->peers[i].nallowed; j++) {
			if (owners_add(r, &d->peers[i].allowed[j], d->peers[i].public_key) < 0)
				return -1;
		}
	}
	return owners_sort(r);
}

int wa_admit_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		WA_LONGOPTS,
		ISIM_LONGOPTS_TRUST,
		{ "network", required_argument, NULL, 'n' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "at", required_argument, NULL, 't' },
		{ "narrow-only", no_argument, NULL, WA_OPT_LOCAL },
		{ "no-narrow", no_argument, NULL, WA_OPT_LOCAL + 1 },
		{ "batch", required_argument, NULL, 'b' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt trust = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "d:p:n:k:t:b:hV", .longopts = opts, .usage = wa_admit_usage, .trust = &trust
	};
	struct wa_opts o = { 0 };
	struct wa_ctx c;
	struct run r = { .c = &c, .keepalive = 25, .narrow = true, .batch = BATCH_DEFAULT };
	struct isim_descriptor_schema schema = { 0 };
	struct isim_error err;
	const char *at = NULL, *keepalive = NULL, *batch = NULL, *why;
	bool no_narrow = false;
	long v;
	int ch, rc, ret, i;

	isim_error_clear(&err);
	while ((ch = wa_getopt(&g, &o, argc, argv)) != -1) {
		switch (ch) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'n':
			if (r.nnets == NETWORKS_MAX)
				return isim_usage_error(PROG, "--network: at most %d", NETWORKS_MAX);
			if (isim_prefix_parse(optarg, false, &r.nets[r.nnets], &why) < 0)
				return isim_usage_error(PROG, "--network: '%.64s' %s", optarg, why);
			r.nnets++;
			break;
		case 'k':
			if (isim_opt_once(PROG, "--keepalive", &keepalive, optarg))
				return ISIM_EXIT_USAGE;
			if (!isim_parse_long(optarg, 0, 65535, &v))
				return isim_bad_value(PROG, "--keepalive", optarg,
						      "a number of seconds from 0 to 65535");
			r.keepalive = (uint16_t)v;
			break;
		case 't':
			if (isim_opt_once(PROG, "--at", &at, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'b':
			if (isim_opt_once(PROG, "--batch", &batch, optarg))
				return ISIM_EXIT_USAGE;
			if (!isim_parse_long(optarg, 1, 100000, &v))
				return isim_bad_value(PROG, "--batch", optarg, "a number from 1 to 100000");
			r.batch = (size_t)v;
			break;
		case WA_OPT_LOCAL:
			r.narrow_only = true;
			break;
		case WA_OPT_LOCAL + 1:
			no_narrow = true;
			break;
		}
	}
	if (wa_options_finish(PROG, &o) || isim_trust_finish(PROG, &trust))
		return ISIM_EXIT_USAGE;
	if (no_narrow && r.narrow_only)
		return isim_usage_error(PROG, "--narrow-only and --no-narrow exclude each other");
	r.narrow = !no_narrow;
	if (at && wa_parse_at(at, &r.at) < 0)
		return isim_usage_error(PROG, "--at '%.64s' is not an RFC 3339 time nor @SECONDS", at);
	if (!at)
		r.at = time(NULL);
	if (!r.nnets && isim_prefix_parse(DEFAULT_NETWORK, false, &r.nets[r.nnets++], &why) < 0)
		return ISIM_EXIT_SOFTWARE;
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") && access(argv[i], R_OK) < 0) {
			isim_error_at(&err, argv[i], 0, 0);
			isim_error_errno(&err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, errno,
					 "cannot read");
			return isim_fail(PROG, &err);
		}
	}
	if (isim_descriptor_schema_load(NULL, &schema, &err) < 0)
		return isim_fail(PROG, &err);
	r.schema = schema.schema;
	if (!r.narrow_only && isim_trust_opt_open(&trust, &r.trust, &err) < 0) {
		isim_descriptor_schema_free(&schema);
		return isim_fail(PROG, &err);
	}
	ret = wa_open(&c, PROG, &o, true, true);
	if (!ret && load_owners(&r) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		ret = ISIM_EXIT_SOFTWARE;
	}
	for (i = optind; !ret && i <= argc; i++) {
		const char *path = i < argc ? argv[i] : "-";
		FILE *in;

		if (i == argc && optind < argc)
			break;
		in = strcmp(path, "-") ? fopen(path, "r") : stdin;
		if (!in) {
			isim_error_at(&err, path, 0, 0);
			isim_error_errno(&err, ISIM_ERR_NOINPUT, errno, "cannot open");
			ret = isim_fail(PROG, &err);
			break;
		}
		ret = run_input(&r, in, in == stdin ? "<stdin>" : path);
		if (in != stdin)
			fclose(in);
	}
	free(r.owners);
	wa_close(&c);
	isim_trust_free(r.trust);
	isim_descriptor_schema_free(&schema);
	rc = isim_close_stdout(PROG);
	if (rc)
		return rc;
	return ret ? ret : r.worst;
}
