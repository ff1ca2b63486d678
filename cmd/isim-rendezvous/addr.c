/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/json.h"
#include "rendezvous.h"

#define PROG "isim-rendezvous addr"
/* JSON numbers are exact integers up to 2^53. */
#define EXACT_MAX 9007199254740991LL

void rendezvous_addr_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--at TIME | --epoch N [--slot N]] [--count N] [--dev IF]\n"
		   "       [--secret FILE] [--epoch-seconds N] [--slots N] [--slot-ms N]\n"
		   "       [--clock-offset MS]\n"
		   "\n"
		   "Print the rendezvous addresses of the slot that TIME (default now) is in, or\n"
		   "of the next one, and of the slots after it: one JSON object,\n"
		   "{\"epoch_seconds\", \"slots_per_epoch\", \"slot_duration_ms\", \"at\", \"slots\":\n"
		   "[{\"epoch\", \"slot\", \"start\", \"end\", \"address\", \"group\"}]}, the address\n"
		   "with the zone IF when --dev is given. Nothing is changed.\n"
		   "\n"
		   "  -t, --at TIME           RFC 3339, or @SECONDS since 1970 (decimals allowed)\n"
		   "  -e, --epoch N           the slots of epoch N instead, from slot 0 ...\n"
		   "  -s, --slot N            ... or from slot N\n"
		   "  -n, --count N           how many slots (default: an epoch's)\n"
		   "      --dev IF            the interface, as the addresses' zone\n" RV_USAGE_COMMON
		   "  -h, --help              this text\n"
		   "  -V, --version           print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 65 the secret file is over 4096 bytes, 66 no\n"
		   "secret file, 77 the secret file is accessible to others, 78 the secret\n"
		   "is shorter than 32 bytes.\n");
}

static bool parse_u53(const char *s, long long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && !*end && *out <= EXACT_MAX;
}

static cJSON *time_json(const struct isim_rv_sched *s, uint64_t epoch, uint64_t slot, bool end)
{
	char text[32];
	uint64_t off = slot * s->slot_ms + (end ? s->slot_ms : 0);

	/* An epoch too far off for a clock has no time. */
	if (epoch > (uint64_t)(INT64_MAX - (int64_t)s->epoch_ms * 2) / s->epoch_ms)
		return cJSON_CreateNull();
	rv_time_text((int64_t)(epoch * s->epoch_ms + off), text);
	return cJSON_CreateString(text);
}

static cJSON *slot_json(const struct rv_opts *o, const struct isim_rv_keys *k, uint64_t epoch, uint64_t slot)
{
	uint8_t a[16], g[16];
	char text[64];
	cJSON *j = cJSON_CreateObject();

	if (!j)
		return NULL;
	isim_rv_address(k, epoch, slot, a);
	isim_rv_group(a, g);
	cJSON_AddNumberToObject(j, "epoch", (double)epoch);
	cJSON_AddNumberToObject(j, "slot", (double)slot);
	cJSON_AddItemToObject(j, "start", time_json(&o->sched, epoch, slot, false));
	cJSON_AddItemToObject(j, "end", time_json(&o->sched, epoch, slot, true));
	rv_addr_text(a, o->dev, text, sizeof(text));
	cJSON_AddStringToObject(j, "address", text);
	rv_addr_text(g, o->dev, text, sizeof(text));
	cJSON_AddStringToObject(j, "group", text);
	return j;
}

int rendezvous_addr_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		RV_LONGOPTS,
		{ "at", required_argument, NULL, 't' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "slot", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "t:e:s:n:hV", .longopts = opts, .usage = rendezvous_addr_usage
	};
	struct rv_opts o = { 0 };
	const char *at = NULL, *epoch_s = NULL, *slot_s = NULL, *count_s = NULL;
	struct isim_rv_keys *k = NULL;
	struct isim_rv_slot sl;
	cJSON *doc = NULL, *slots;
	long long epoch = 0, slot = 0;
	long count;
	int64_t t;
	char text[32];
	int c, rc;

	while ((c = isim_getopt_shared(&g, rv_option, &o, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return g.rc;
		if ((c == 't' && isim_opt_once(PROG, "--at", &at, optarg)) ||
		    (c == 'e' && isim_opt_once(PROG, "--epoch", &epoch_s, optarg)) ||
		    (c == 's' && isim_opt_once(PROG, "--slot", &slot_s, optarg)) ||
		    (c == 'n' && isim_opt_once(PROG, "--count", &count_s, optarg)))
			return ISIM_EXIT_USAGE;
	}
	if (optind < argc)
		return isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind]);
	if (rv_options_finish(PROG, &o))
		return ISIM_EXIT_USAGE;
	if (at && epoch_s)
		return isim_usage_error(PROG, "--at and --epoch are two ways to say when: give one");
	if (slot_s && !epoch_s)
		return isim_usage_error(PROG, "--slot needs --epoch");
	if (epoch_s && !parse_u53(epoch_s, &epoch))
		return isim_bad_value(PROG, "--epoch", epoch_s, "a whole number from 0 to 2^53 - 1");
	if (slot_s && (!parse_u53(slot_s, &slot) || slot >= o.sched.slots)) {
		snprintf(text, sizeof(text), "a slot from 0 to %u", o.sched.slots - 1);
		return isim_bad_value(PROG, "--slot", slot_s, text);
	}
	count = o.sched.slots;
	if (count_s && !isim_parse_long(count_s, 1, 100000, &count))
		return isim_bad_value(PROG, "--count", count_s, "a whole number from 1 to 100000");
	if (at && (!isim_parse_at_ms(at, &t) || t < 0))
		return isim_bad_value(PROG, "--at", at, "an RFC 3339 time or @SECONDS, from 1970 on");
	if (!at)
		t = rv_now(&o);
	if (!epoch_s) {
		/* The slot t is in, else the first of the next epoch. */
		if (!isim_rv_slot_at(&o.sched, t, &sl)) {
			sl.epoch = (uint64_t)t / o.sched.epoch_ms + 1;
			sl.slot = 0;
		}
		epoch = (long long)sl.epoch;
		slot = (long long)sl.slot;
	}
	rc = rv_keys_load(PROG, &o, &k);
	if (rc)
		return rc;
	doc = cJSON_CreateObject();
	slots = cJSON_CreateArray();
	if (!doc || !slots) {
		cJSON_Delete(slots);
		goto oom;
	}
	cJSON_AddNumberToObject(doc, "epoch_seconds", (double)(o.sched.epoch_ms / 1000));
	cJSON_AddNumberToObject(doc, "slots_per_epoch", o.sched.slots);
	cJSON_AddNumberToObject(doc, "slot_duration_ms", (double)o.sched.slot_ms);
	if (epoch_s) {
		cJSON_AddNullToObject(doc, "at");
	} else {
		rv_time_text(t, text);
		cJSON_AddStringToObject(doc, "at", text);
	}
	cJSON_AddItemToObject(doc, "slots", slots);
	for (; count > 0; count--) {
		cJSON *j = slot_json(&o, k, (uint64_t)epoch, (uint64_t)slot);

		if (!j)
			goto oom;
		cJSON_AddItemToArray(slots, j);
		if ((uint32_t)++slot == o.sched.slots) {
			slot = 0;
			if (epoch == EXACT_MAX)
				break;
			epoch++;
		}
	}
	isim_rv_keys_free(k);
	rc = isim_json_write(stdout, doc) < 0 ? isim_stdout_error(PROG) : isim_close_stdout(PROG);
	cJSON_Delete(doc);
	return rc;
oom:
	isim_rv_keys_free(k);
	cJSON_Delete(doc);
	fprintf(stderr, PROG ": out of memory\n");
	return ISIM_EXIT_SOFTWARE;
}
