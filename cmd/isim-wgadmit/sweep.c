/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/db.h"
#include "isim/descriptor.h"
#include "isim/sde.h"
#include "isim/trust.h"
#include "wgadmit.h"

#define PROG "isim-wgadmit sweep"

void wa_sweep_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --dev DEV [--trust DIR | --pub KEY.pub] [--at TIME]\n"
		   "\n"
		   "Check every node on DEV again: the descriptor that admitted it is verified\n"
		   "anew against the trusted signers as they are now, at TIME (default now),\n"
		   "and a node whose descriptor expired, whose signer's key was revoked or is\n"
		   "no longer trusted, is removed from the device. A node still narrow is\n"
		   "removed once its descriptor expired. Prints one JSON line per removed\n"
		   "node: {\"node_id\", \"wg_public_key\", \"removed\": true, \"reason\"}, the\n"
		   "reason starting with a word: expired, revoked, untrusted, signature,\n"
		   "not yet valid, unsigned, refused. Meant for cron.\n"
		   "\n" WA_USAGE_COMMON "  -d, --trust DIR        trusted signers (default $ISIM_TRUST_DIR, else\n"
		   "                         /etc/infrasim/trusted-signers)\n"
		   "  -p, --pub KEY.pub      trust this one public key instead\n"
		   "  -t, --at TIME          check at TIME (RFC 3339, or @SECONDS)\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 (whether or not anything was removed), 64 usage, 65 DEV is\n"
		   "not a WireGuard device, 66 no such device, 74 the device refused a change,\n"
		   "78 the trusted signers or the state are not usable.\n");
}

/* Why n must go at t, into reason; "" when it stays. 0, or -1 with err
 * when it could not be checked. */
static int judge(struct wa_ctx *c, const struct wa_node *n, time_t at, struct isim_trust *trust, char *reason,
		 size_t size, struct isim_error *err)
{
	struct isim_verdict v;
	char *text = NULL, when[32];
	cJSON *doc;
	int ret = -1;

	reason[0] = '\0';
	if (n->expires_at <= (int64_t)at) {
		if (isim_rfc3339((time_t)n->expires_at, when, sizeof(when)) < 0)
			snprintf(when, sizeof(when), "@%lld", (long long)n->expires_at);
		snprintf(reason, size, "expired: /expires_at: the descriptor expired at %s", when);
		return 0;
	}
	if (n->state != WA_ADMITTED)
		return 0;
	if (wa_db_descriptor(c, n->node_id, &text, err) < 0)
		return -1;
	doc = text ? cJSON_Parse(text) : NULL;
	if (!doc) {
		snprintf(reason, size, "refused: the recorded descriptor of node '%s' cannot be read", n->node_id);
		free(text);
		return 0;
	}
	isim_verdict_init(&v);
	if (isim_descriptor_verify(NULL, doc, at, isim_trust_lookup, trust, &v, err) < 0)
		goto out;
	if (!v.ok) {
		wa_reason_word(v.reason, sizeof(v.reason));
		snprintf(reason, size, "%s", v.reason);
	}
	ret = 0;
out:
	cJSON_Delete(doc);
	free(text);
	return ret;
}

static int print_removed(const struct wa_node *n, const char *reason)
{
	char key[45];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return wa_print_line(PROG, NULL);
	isim_wg_key_b64(n->key, key);
	cJSON_AddStringToObject(o, "node_id", n->node_id);
	cJSON_AddStringToObject(o, "wg_public_key", key);
	cJSON_AddBoolToObject(o, "removed", true);
	cJSON_AddStringToObject(o, "reason", reason);
	return wa_print_line(PROG, o);
}

int wa_sweep_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		WA_LONGOPTS,	   ISIM_LONGOPTS_TRUST,	 { "at", required_argument, NULL, 't' },
		ISIM_LONGOPT_HELP, { NULL, 0, NULL, 0 },
	};
	struct isim_trust_opt topt = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "d:p:t:hV", .longopts = opts, .usage = wa_sweep_usage, .trust = &topt
	};
	struct wa_opts o = { 0 };
	struct wa_ctx c;
	struct isim_trust *trust = NULL;
	struct isim_error err;
	struct isim_wg_peer *ch = NULL;
	char(*why)[ISIM_VERDICT_REASON_MAX + 32] = NULL;
	size_t *which = NULL, i, nch = 0;
	const char *at_text = NULL;
	time_t at;
	int opt, rc, ret = 0;

	isim_error_clear(&err);
	while ((opt = wa_getopt(&g, &o, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
		if (opt == 't' && isim_opt_once(PROG, "--at", &at_text, optarg))
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (wa_options_finish(PROG, &o) || isim_trust_finish(PROG, &topt))
		return ISIM_EXIT_USAGE;
	if (at_text && wa_parse_at(at_text, &at) < 0)
		return isim_usage_error(PROG, "--at '%.64s' is not an RFC 3339 time nor @SECONDS", at_text);
	if (!at_text)
		at = time(NULL);
	if (isim_trust_opt_open(&topt, &trust, &err) < 0)
		return isim_fail(PROG, &err);
	ret = wa_open(&c, PROG, &o, false, true);
	if (ret || !c.db)
		goto out;
	ch = calloc(c.nnodes + 1, sizeof(*ch));
	why = calloc(c.nnodes + 1, sizeof(*why));
	which = calloc(c.nnodes + 1, sizeof(*which));
	if (!ch || !why || !which) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	for (i = 0; i < c.nnodes; i++) {
		if (c.nodes[i].gone)
			continue;
		if (judge(&c, &c.nodes[i], at, trust, why[nch], sizeof(why[nch]), &err) < 0)
			goto fail;
		if (!why[nch][0])
			continue;
		memcpy(ch[nch].public_key, c.nodes[i].key, ISIM_WG_KEY_LEN);
		ch[nch].flags = ISIM_WG_PEER_REMOVE;
		which[nch++] = i;
	}
	/* The device first: killed before the record, the next run sees
	 * the rows without peers and deletes them. */
	ret = wa_apply(&c, ch, nch);
	if (ret || !nch)
		goto out;
	if (isim_db_begin(c.db, &err) < 0)
		goto fail;
	for (i = 0; i < nch; i++) {
		const struct wa_node *n = &c.nodes[which[i]];

		if (wa_db_delete(&c, n->node_id, &err) < 0 ||
		    wa_db_decide(&c, n->node_id, n->key, "swept", why[i], n->digest, &err) < 0) {
			isim_db_rollback(c.db);
			goto fail;
		}
	}
	if (isim_db_commit(c.db, &err) < 0) {
		isim_db_rollback(c.db);
		goto fail;
	}
	for (i = 0; i < nch && !ret; i++)
		ret = print_removed(&c.nodes[which[i]], why[i]);
	goto out;
fail:
	ret = isim_fail(PROG, &err);
out:
	free(ch);
	free(why);
	free(which);
	wa_close(&c);
	isim_trust_free(trust);
	rc = isim_close_stdout(PROG);
	return ret ? ret : rc;
}
