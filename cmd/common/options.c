/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/secret.h"
#include "isim/descriptor.h"
#include "isim/trust.h"

int isim_key_option(const char *prog, struct isim_key_opt *k, int c, const char *arg)
{
	if (c == 'k')
		return isim_opt_once(prog, "--sign-key", &k->path, arg);
	if (k->fd_given)
		return isim_usage_error(prog, "--password-fd given twice");
	if (!isim_parse_fd(arg, &k->password_fd))
		return isim_bad_value(prog, "--password-fd", arg, "a descriptor number (0 to 1023)");
	k->fd_given = true;
	return 0;
}

int isim_key_finish(const char *prog, struct isim_key_opt *k, bool required)
{
	const char *env;

	if (!k->path) {
		env = getenv("ISIM_SIGN_KEY");
		if (env && *env)
			k->path = env;
	}
	if (k->path && !*k->path)
		return isim_usage_error(prog, "--sign-key: empty file name");
	if (!k->path && required)
		return isim_usage_error(prog, "no secret key: give -k KEY or set ISIM_SIGN_KEY");
	if (!k->path && k->fd_given)
		return isim_usage_error(prog, "--password-fd goes with --sign-key (-k) or ISIM_SIGN_KEY");
	return 0;
}

int isim_dir_option(const char *prog, struct isim_dir_opts *d, int c, const char *arg)
{
	switch (c) {
	case 'o':
		return isim_opt_once(prog, "--out", &d->out, arg);
	case ISIM_OPT_FEATURES_DIR:
		return isim_opt_once(prog, "--features-dir", &d->features, arg);
	case ISIM_OPT_PROFILES_DIR:
		return isim_opt_once(prog, "--profiles-dir", &d->profiles, arg);
	case ISIM_OPT_SCHEMAS_DIR:
		return isim_opt_once(prog, "--schemas-dir", &d->schemas, arg);
	case ISIM_OPT_BASES_DIR:
		return isim_opt_once(prog, "--bases-dir", &d->bases, arg);
	case ISIM_OPT_CACHE_DIR:
		return isim_opt_once(prog, "--cache", &d->cache, arg);
	}
	return isim_usage_error(prog, "internal: option %d is not a folder", c);
}

bool isim_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool isim_parse_at_ms(const char *s, int64_t *ms)
{
	const char *p;
	time_t t;
	long long v;
	char *end;
	int frac = 0, scale = 100;

	if (s[0] != '@') {
		if (isim_parse_rfc3339(s, &t) < 0)
			return false;
		*ms = (int64_t)t * 1000;
		return true;
	}
	if (s[1] < '0' || s[1] > '9')
		return false;
	errno = 0;
	v = strtoll(s + 1, &end, 10);
	if (errno || v > INT64_MAX / 1000 - 1)
		return false;
	p = end;
	if (*p == '.') {
		/* Milliseconds: the digits past the third are dropped. */
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += scale > 0 ? (*p - '0') * scale : 0;
		if (p == end + 1)
			return false;
	}
	if (*p)
		return false;
	*ms = (int64_t)v * 1000 + frac;
	return true;
}

int isim_trust_option(const char *prog, struct isim_trust_opt *o, int c, const char *arg)
{
	if (c == 'd')
		return isim_opt_once(prog, "--trust", &o->dir, arg) ? ISIM_EXIT_USAGE : 0;
	return isim_opt_once(prog, "--pub", &o->pub, arg) ? ISIM_EXIT_USAGE : 0;
}

int isim_trust_finish(const char *prog, const struct isim_trust_opt *o)
{
	if (o->dir && o->pub)
		return isim_usage_error(prog, "--trust and --pub exclude each other");
	return 0;
}

int isim_trust_opt_open(const struct isim_trust_opt *o, struct isim_trust **out, struct isim_error *err)
{
	return isim_trust_open(o->pub ? NULL : isim_path_trust_dir(o->dir), o->pub, out, err);
}

int isim_getopt(struct isim_getopt *g, int argc, char *argv[])
{
	int c;

	if (!g->begun) {
		optind = 0;
		opterr = 0;
		g->begun = true;
	}
	/* The shared options are taken here, until one of the command's own. */
	for (;;) {
		c = getopt_long(argc, argv, g->shortopts, g->longopts, NULL);
		if (g->key && (c == 'k' || c == ISIM_OPT_PASSWORD_FD))
			g->rc = isim_key_option(g->prog, g->key, c, optarg);
		else if (g->trust && (c == 'd' || c == 'p'))
			g->rc = isim_trust_option(g->prog, g->trust, c, optarg);
		else if (g->dirs && (c == 'o' || (c >= ISIM_OPT_FEATURES_DIR && c <= ISIM_OPT_CACHE_DIR)))
			g->rc = isim_dir_option(g->prog, g->dirs, c, optarg);
		else
			break;
		if (g->rc)
			return ISIM_GETOPT_EXIT;
	}
	switch (c) {
	case 'h':
		if (g->usage_as)
			g->usage_as(stdout, g->prog);
		else
			g->usage(stdout);
		g->rc = isim_close_stdout(g->prog);
		return ISIM_GETOPT_EXIT;
	case 'V': {
		/* The tool's line, as `TOOL --version` prints it. */
		char tool[64];

		snprintf(tool, sizeof(tool), "%.*s", (int)strcspn(g->prog, " "), g->prog);
		g->rc = isim_print_version(tool);
		return ISIM_GETOPT_EXIT;
	}
	case '?':
	case ':':
		g->rc = isim_bad_option(g->prog, argv, optopt);
		return ISIM_GETOPT_EXIT;
	}
	return c;
}

int isim_getopt_shared(struct isim_getopt *g, isim_shared_option_fn take, void *opts, int argc, char *argv[])
{
	int c, rc;

	while ((c = isim_getopt(g, argc, argv)) != -1) {
		if (c == ISIM_GETOPT_EXIT)
			return c;
		rc = take(g->prog, opts, c, optarg);
		if (rc == ISIM_EXIT_USAGE) {
			g->rc = rc;
			return ISIM_GETOPT_EXIT;
		}
		if (!rc)
			return c;
	}
	return -1;
}
