/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/secret.h"
#include "isim/secbuf.h"
#include "isim/wg.h"
#include "rendezvous.h"

int rv_option(const char *prog, void *opts, int c, const char *arg)
{
	struct rv_opts *o = opts;
	static const struct {
		int c;
		const char *name;
		size_t off;
	} map[] = {
		{ RV_OPT_SECRET, "--secret", offsetof(struct rv_opts, secret) },
		{ RV_OPT_EPOCH, "--epoch-seconds", offsetof(struct rv_opts, epoch_s) },
		{ RV_OPT_SLOTS, "--slots", offsetof(struct rv_opts, slots) },
		{ RV_OPT_SLOT_MS, "--slot-ms", offsetof(struct rv_opts, slot_ms) },
		{ RV_OPT_CLOCK_OFFSET, "--clock-offset", offsetof(struct rv_opts, offset) },
		{ RV_OPT_DEV, "--dev", offsetof(struct rv_opts, dev) },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].c == c)
			return isim_opt_once(prog, map[i].name, (const char **)((char *)o + map[i].off), arg)
				       ? ISIM_EXIT_USAGE
				       : 1;
	}
	return 0;
}

static int number(const char *prog, const char *name, const char *s, long lo, long hi, long dflt, long *out)
{
	char expected[96];

	if (!s) {
		*out = dflt;
		return 0;
	}
	if (isim_parse_long(s, lo, hi, out))
		return 0;
	snprintf(expected, sizeof(expected), "a whole number from %ld to %ld", lo, hi);
	return isim_bad_value(prog, name, s, expected);
}

int rv_options_finish(const char *prog, struct rv_opts *o)
{
	struct isim_error err;
	long e, n, ms, off;

	if (number(prog, "--epoch-seconds", o->epoch_s, 1, 86400, 60, &e) ||
	    number(prog, "--slots", o->slots, 1, 1024, 4, &n) ||
	    number(prog, "--slot-ms", o->slot_ms, 10, 3600000, 500, &ms) ||
	    number(prog, "--clock-offset", o->offset, -86400000L, 86400000L, 0, &off))
		return ISIM_EXIT_USAGE;
	if (o->dev && !isim_wg_ifname_valid(o->dev))
		return isim_bad_value(prog, "--dev", o->dev, ISIM_WG_IFNAME_RULE);
	o->sched.epoch_ms = (uint64_t)e * 1000;
	o->sched.slots = (uint32_t)n;
	o->sched.slot_ms = (uint64_t)ms;
	o->offset_ms = off;
	isim_error_clear(&err);
	if (isim_rv_sched_check(&o->sched, &err) < 0)
		return isim_usage_error(prog, "--slots, --slot-ms, --epoch-seconds: %s", err.msg);
	return 0;
}

int rv_keys_load(const char *prog, const struct rv_opts *o, struct isim_rv_keys **out)
{
	const char *path = isim_path_resolve(o->secret, RV_SECRET_ENV, RV_SECRET_DEFAULT);
	struct isim_secbuf b = { 0 };
	struct isim_error err;
	mode_t mode = 0;
	size_t len;
	int rc;

	*out = NULL;
	isim_error_clear(&err);
	if (!*path)
		return isim_usage_error(prog, "--secret: empty file name");
	if (!strcmp(path, "-")) {
		/* The secret is the file's content; stdin is the daemon's. */
		isim_error_set(&err, ISIM_ERR_USAGE, "the mesh secret must be a file, not standard input");
		isim_error_at(&err, path, 0, 0);
		return isim_fail(prog, &err);
	}
	/* No core file or ptrace can read the secret out of this process. */
	if (isim_secret_protect(&err) < 0) {
		rc = isim_fail(prog, &err);
		goto out;
	}
	if (isim_secret_file_read(path, "mesh secret", ISIM_RV_SECRET_MAX, &b, &mode, &err) < 0) {
		rc = isim_fail(prog, &err);
		goto out;
	}
	/* It names the mesh: a node whose secret others could read would let
	 * them in. Group access stays allowed, for a group of operators. */
	if (mode & (S_IROTH | S_IWOTH)) {
		isim_error_set(&err, ISIM_ERR_PERM,
			       "mode %04o: the mesh secret must not be accessible to others (chmod 600)",
			       (unsigned)(mode & 07777));
		isim_error_at(&err, path, 0, 0);
		rc = isim_fail(prog, &err);
		goto out;
	}
	len = b.len ? isim_rv_secret_len(b.p, b.len) : 0;
	if (len < ISIM_RV_SECRET_MIN) {
		isim_error_set(&err, ISIM_ERR_CONFIG, "the mesh secret is %zu bytes; it must be at least %d", len,
			       ISIM_RV_SECRET_MIN);
		isim_error_at(&err, path, 0, 0);
		rc = isim_fail(prog, &err);
		goto out;
	}
	*out = isim_rv_keys_new(b.p, b.len);
	if (!*out) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		rc = isim_fail(prog, &err);
		goto out;
	}
	rc = 0;
out:
	isim_secbuf_free(&b);
	return rc;
}

int64_t rv_now(const struct rv_opts *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + o->offset_ms;
}

void rv_addr_text(const uint8_t a[static 16], const char *dev, char *out, size_t size)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, s, sizeof(s));
	if (dev && *dev)
		snprintf(out, size, "%s%%%s", s, dev);
	else
		snprintf(out, size, "%s", s);
}

void rv_time_text(int64_t ms, char out[static 32])
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	char s[24];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", s, (int)(ms - (int64_t)t * 1000));
}
