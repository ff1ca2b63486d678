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

#define WHY_MAX (ISIM_VERDICT_REASON_MAX + 32)

/* Why n must go at t without looking at its descriptor, into reason ("" when
 * nothing yet says so); true when its descriptor is still to be verified. */
static bool judge_times(const struct wa_node *n, time_t at, char *reason, size_t size)
{
	char when[32];

	reason[0] = '\0';
	if (n->expires_at <= (int64_t)at) {
		if (isim_rfc3339((time_t)n->expires_at, when, sizeof(when)) < 0)
			snprintf(when, sizeof(when), "@%lld", (long long)n->expires_at);
		snprintf(reason, size, "expired: /expires_at: the descriptor expired at %s", when);
		return false;
	}
	return n->state == WA_ADMITTED;
}

/* n's recorded descriptor verified anew at t: why it must go into reason,
 * "" when it stays. 0, or -1 with err when it could not be checked. */
static int judge_descriptor(const struct wa_node *n, const char *text, time_t at, struct isim_trust *trust,
			    char *reason, size_t size, struct isim_error *err)
{
	struct isim_verdict v;
	cJSON *doc = text ? cJSON_Parse(text) : NULL;
	int ret = -1;

	if (!doc) {
		snprintf(reason, size, "refused: the recorded descriptor of node '%s' cannot be read", n->node_id);
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
	return ret;
}

/* Node i's recorded descriptor verified, on one of wa_parallel's
 * threads, each writing only its own nodes' why. */
struct sweep_job {
	const struct wa_ctx *c;
	char *const *text; /* a node's recorded descriptor; NULL: none to verify */
	const bool *check; /* a node whose descriptor is to be verified */
	char (*why)[WHY_MAX];
	struct isim_trust *trust;
	time_t at;
};

static int verify_one(void *arg, size_t i, struct isim_error *err)
{
	struct sweep_job *j = arg;

	if (!j->check[i])
		return 0;
	return judge_descriptor(&j->c->nodes[i], j->text[i], j->at, j->trust, j->why[i], sizeof(j->why[i]), err);
}

/* Every node of c judged at t into why[] (one entry a node). 0, or -1
 * with err. */
static int judge_all(struct wa_ctx *c, time_t at, struct isim_trust *trust, char (*why)[WHY_MAX],
		     struct isim_error *err)
{
	char **text = calloc(c->nnodes + 1, sizeof(*text));
	bool *check = calloc(c->nnodes + 1, sizeof(*check));
	struct sweep_job j = { .c = c, .why = why, .trust = trust, .at = at };
	size_t i;
	int ret = -1;

	if (!text || !check) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* The database is read here, in one transaction, before any thread
	 * starts. */
	if (isim_db_begin(c->db, err) < 0)
		goto out;
	for (i = 0; i < c->nnodes; i++) {
		if (c->nodes[i].gone || !judge_times(&c->nodes[i], at, why[i], sizeof(why[i])))
			continue;
		check[i] = true;
		if (wa_db_descriptor(c, c->nodes[i].node_id, &text[i], err) < 0) {
			isim_db_rollback(c->db);
			goto out;
		}
	}
	if (isim_db_commit(c->db, err) < 0)
		goto out;
	j.text = text;
	j.check = check;
	if (wa_parallel(c->nnodes, verify_one, &j, err) < 0)
		goto out;
	ret = 0;
out:
	if (text) {
		for (i = 0; i < c->nnodes; i++)
			free(text[i]);
	}
	free(text);
	free(check);
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
	char(*why)[WHY_MAX] = NULL;
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
	if (judge_all(&c, at, trust, why, &err) < 0)
		goto fail;
	for (i = 0; i < c.nnodes; i++) {
		if (c.nodes[i].gone || !why[i][0])
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
		    wa_db_decide(&c, n->node_id, n->key, "swept", why[which[i]], n->digest, &err) < 0) {
			isim_db_rollback(c.db);
			goto fail;
		}
	}
	if (isim_db_commit(c.db, &err) < 0) {
		isim_db_rollback(c.db);
		goto fail;
	}
	for (i = 0; i < nch && !ret; i++)
		ret = print_removed(&c.nodes[which[i]], why[which[i]]);
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
