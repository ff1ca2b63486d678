/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PATHS_H
#define ISIM_PATHS_H

/* Where a tool finds its configuration: the command-line option when one
 * was given, else the environment variable when it is set and not empty,
 * else the installed default (DESIGN.md, "Paths"). Only cmd/ reads the
 * environment; lib/ is handed the result. */

#define ISIM_TRUST_DIR_DEFAULT "/etc/infrasim/trusted-signers"
#define ISIM_TRUST_DIR_ENV "ISIM_TRUST_DIR"

/* opt if not NULL, else $env if set and not empty, else def. */
const char *isim_path_resolve(const char *opt, const char *env, const char *def);
/* The trusted signers directory: opt (--trust), else $ISIM_TRUST_DIR,
 * else ISIM_TRUST_DIR_DEFAULT. */
const char *isim_path_trust_dir(const char *opt);

#endif
