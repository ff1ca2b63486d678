/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/secret.h"
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
