/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "paths.h"

const char *isim_path_resolve(const char *opt, const char *env, const char *def)
{
	const char *v;

	if (opt)
		return opt;
	v = env ? getenv(env) : NULL;
	return v && *v ? v : def;
}

const char *isim_path_trust_dir(const char *opt)
{
	return isim_path_resolve(opt, ISIM_TRUST_DIR_ENV, ISIM_TRUST_DIR_DEFAULT);
}
