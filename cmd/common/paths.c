/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/paths.h"

const char *isim_path_resolve(const char *opt, const char *env_name, const char *fallback)
{
	const char *e;

	if (opt)
		return opt;
	e = env_name ? getenv(env_name) : NULL;
	if (e && *e)
		return e;
	return fallback;
}

const char *isim_path_catalog(const char *opt, const char *env_name, const char *sub, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", ISIM_DATADIR, sub);
	return isim_path_resolve(opt, env_name, buf);
}

const char *isim_path_schemas(const char *opt)
{
	return isim_path_resolve(opt, "ISIM_SCHEMAS_DIR", NULL);
}

const char *isim_path_trust_dir(const char *opt)
{
	return isim_path_resolve(opt, ISIM_TRUST_DIR_ENV, ISIM_TRUST_DIR_DEFAULT);
}

int isim_path_need_dir(const char *dir, const char *what, const char *opt, const char *env_name, struct isim_error *err)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return isim_error_set(err, ISIM_ERR_NOINPUT, "%s folder %s does not exist (set %s or %s)", what,
					      dir, opt, env_name);
		return isim_error_errno(err, ISIM_ERR_NOINPUT, errno, "%s folder %s cannot be read (set %s or %s)",
					what, dir, opt, env_name);
	}
	if (!S_ISDIR(st.st_mode))
		return isim_error_set(err, ISIM_ERR_NOINPUT, "%s folder %s is not a folder (set %s or %s)", what, dir,
				      opt, env_name);
	return 0;
}
