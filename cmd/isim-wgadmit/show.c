/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "wgadmit.h"

#define PROG "isim-wgadmit show"

void wa_show_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --dev DEV [--uapi-dir DIR] [--state-dir DIR]\n"
		   "\n"
		   "Print the WireGuard device DEV and its peers, each joined with what\n"
		   "admitted it, as one JSON object: {\"device\", \"backend\", \"public_key\",\n"
		   "\"listen_port\", \"peers\": [{\"public_key\", \"node_id\", \"state\" (admitted,\n"
		   "narrow, or unknown: a peer isim-wgadmit did not add), \"allowed_ips\",\n"
		   "\"endpoint\", \"persistent_keepalive\", \"last_handshake\", \"rx_bytes\",\n"
		   "\"tx_bytes\", \"descriptor_sha256\", \"key_id\", \"issued_at\", \"expires_at\",\n"
		   "\"admitted_at\"}]}. The device says what is configured; the state, why.\n"
		   "Nothing is changed.\n"
		   "\n" WA_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 65 DEV is not a WireGuard device, 66 no such\n"
		   "device, 74 the device could not be read, 78 the state is corrupt.\n");
}

static cJSON *endpoint_json(const union isim_wg_endpoint *e)
{
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];

	if (e->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &e->in.sin_addr, host, sizeof(host));
		snprintf(text, sizeof(text), "%s:%u", host, ntohs(e->in.sin_port));
	} else if (e->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &e->in6.sin6_addr, host, sizeof(host));
		snprintf(text, sizeof(text), "[%s]:%u", host, ntohs(e->in6.sin6_port));
	} else {
		return cJSON_CreateNull();
	}
	return cJSON_CreateString(text);
}

static cJSON *string_or_null(const char *s)
{
	return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *peer_json(const struct wa_ctx *c, const struct isim_wg_peer *p)
{
	const struct wa_node *n = wa_node_by_key(c, p->public_key);
	char key[45];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	isim_wg_key_b64(p->public_key, key);
	cJSON_AddStringToObject(o, "public_key", key);
	cJSON_AddItemToObject(o, "node_id", string_or_null(n ? n->node_id : NULL));
	cJSON_AddStringToObject(o, "state", !n ? "unknown" : n->state == WA_ADMITTED ? "admitted" : "narrow");
	cJSON_AddItemToObject(o, "allowed_ips", wa_prefixes_json(p->allowed, p->nallowed));
	cJSON_AddItemToObject(o, "endpoint", endpoint_json(&p->endpoint));
	cJSON_AddNumberToObject(o, "persistent_keepalive", p->keepalive);
	cJSON_AddItemToObject(o, "last_handshake", wa_time_json(p->last_handshake));
	cJSON_AddNumberToObject(o, "rx_bytes", (double)p->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)p->tx_bytes);
	cJSON_AddItemToObject(o, "descriptor_sha256", string_or_null(n ? n->digest : NULL));
	cJSON_AddItemToObject(o, "key_id", string_or_null(n ? n->key_id : NULL));
	cJSON_AddItemToObject(o, "issued_at", wa_time_json(n ? n->issued_at : 0));
	cJSON_AddItemToObject(o, "expires_at", wa_time_json(n ? n->expires_at : 0));
	cJSON_AddItemToObject(o, "admitted_at", wa_time_json(n && n->state == WA_ADMITTED ? n->admitted_at : 0));
	return o;
}

int wa_show_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		WA_LONGOPTS,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = wa_show_usage };
	struct wa_opts o = { 0 };
	struct wa_ctx c;
	cJSON *doc = NULL, *peers;
	char key[45];
	size_t i;
	int ch, rc;

	while ((ch = wa_getopt(&g, &o, argc, argv)) != -1) {
		if (ch == ISIM_GETOPT_EXIT)
			return g.rc;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (wa_options_finish(PROG, &o))
		return ISIM_EXIT_USAGE;
	rc = wa_open(&c, PROG, &o, false, false);
	if (rc) {
		wa_close(&c);
		return rc;
	}
	doc = cJSON_CreateObject();
	peers = cJSON_CreateArray();
	if (!doc || !peers) {
		cJSON_Delete(peers);
		goto oom;
	}
	cJSON_AddStringToObject(doc, "device", c.dev);
	cJSON_AddStringToObject(doc, "backend", isim_wg_backend_name(isim_wg_backend_of(c.wg)));
	if (c.device->has_public_key) {
		isim_wg_key_b64(c.device->public_key, key);
		cJSON_AddStringToObject(doc, "public_key", key);
	} else {
		cJSON_AddNullToObject(doc, "public_key");
	}
	cJSON_AddNumberToObject(doc, "listen_port", c.device->listen_port);
	cJSON_AddItemToObject(doc, "peers", peers);
	for (i = 0; i < c.device->npeers; i++) {
		if (!cJSON_AddItemToArray(peers, peer_json(&c, &c.device->peers[i])))
			goto oom;
	}
	wa_close(&c);
	rc = wa_print_line(PROG, doc);
	return rc ? rc : isim_close_stdout(PROG);
oom:
	cJSON_Delete(doc);
	wa_close(&c);
	fprintf(stderr, PROG ": out of memory\n");
	return ISIM_EXIT_SOFTWARE;
}
