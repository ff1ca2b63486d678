/* SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/db.h"
#include "wgadmit.h"

#define PROG "isim-wgadmit remove"

void wa_remove_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " --dev DEV [--uapi-dir DIR] [--state-dir DIR] NODE_ID...\n"
		   "\n"
		   "Remove the named nodes' peers from DEV and their rows from the state, in\n"
		   "one change of the device. Prints one JSON line per NODE_ID: {\"node_id\",\n"
		   "\"wg_public_key\", \"removed\", \"reason\"}; reason is null when it was\n"
		   "removed, \"unknown: ...\" when DEV has no such node.\n"
		   "\n" WA_USAGE_COMMON "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 all removed, 1 one or more unknown, 64 usage, 65 DEV is not a\n"
		   "WireGuard device, 66 no such device, 74 the device refused the change.\n");
}

static int print_line(const char *node_id, const struct wa_node *n, const char *dev)
{
	char key[45], reason[160];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return wa_print_line(PROG, NULL);
	cJSON_AddStringToObject(o, "node_id", node_id);
	if (n) {
		isim_wg_key_b64(n->key, key);
		cJSON_AddStringToObject(o, "wg_public_key", key);
		cJSON_AddTrueToObject(o, "removed");
		cJSON_AddNullToObject(o, "reason");
	} else {
		snprintf(reason, sizeof(reason), "unknown: %s has no node '%.64s'", dev, node_id);
		cJSON_AddNullToObject(o, "wg_public_key");
		cJSON_AddFalseToObject(o, "removed");
		cJSON_AddStringToObject(o, "reason", reason);
	}
	return wa_print_line(PROG, o);
}

int wa_remove_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		WA_LONGOPTS,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "hV", .longopts = opts, .usage = wa_remove_usage };
	struct wa_opts o = { 0 };
	struct wa_ctx c;
	struct isim_error err;
	struct isim_wg_peer *ch = NULL;
	struct wa_node **found = NULL;
	size_t i, n, nch = 0;
	int opt, rc, ret = 0, worst = 0;

	isim_error_clear(&err);
	while ((opt = wa_getopt(&g, &o, argc, argv)) != -1) {
		if (opt == ISIM_GETOPT_EXIT)
			return g.rc;
	}
	if (wa_options_finish(PROG, &o))
		return ISIM_EXIT_USAGE;
	if (optind == argc)
		return isim_usage_error(PROG, "which nodes? NODE_ID is missing");
	n = (size_t)(argc - optind);
	ret = wa_open(&c, PROG, &o, false, true);
	if (ret)
		goto out;
	ch = calloc(n, sizeof(*ch));
	found = calloc(n, sizeof(*found));
	if (!ch || !found) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct wa_node *node = wa_node_by_id(&c, argv[optind + (int)i]);
		size_t j;

		/* A name given twice is removed once. */
		for (j = 0; node && j < i; j++) {
			if (found[j] == node)
				node = NULL;
		}
		found[i] = node;
		if (!node)
			continue;
		memcpy(ch[nch].public_key, node->key, ISIM_WG_KEY_LEN);
		ch[nch++].flags = ISIM_WG_PEER_REMOVE;
	}
	ret = wa_apply(&c, ch, nch);
	if (ret)
		goto out;
	if (nch) {
		if (isim_db_begin(c.db, &err) < 0)
			goto fail;
		for (i = 0; i < n; i++) {
			if (found[i] && (wa_db_delete(&c, found[i]->node_id, &err) < 0 ||
					 wa_db_decide(&c, found[i]->node_id, found[i]->key, "removed",
						      "isim-wgadmit remove", found[i]->digest, &err) < 0)) {
				isim_db_rollback(c.db);
				goto fail;
			}
		}
		if (isim_db_commit(c.db, &err) < 0) {
			isim_db_rollback(c.db);
			goto fail;
		}
	}
	for (i = 0; i < n && !ret; i++) {
		const char *id = argv[optind + (int)i];

		/* A repeated name was removed by its first mention. */
		if (!found[i] && wa_node_by_id(&c, id))
			continue;
		if (!found[i])
			worst = ISIM_EXIT_VERDICT;
		ret = print_line(id, found[i], c.dev);
	}
	goto out;
fail:
	ret = isim_fail(PROG, &err);
out:
	free(ch);
	free(found);
	wa_close(&c);
	rc = isim_close_stdout(PROG);
	return ret ? ret : rc ? rc : worst;
}
