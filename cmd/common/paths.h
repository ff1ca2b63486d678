/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PATHS_H
#define ISIM_PATHS_H

#include <stddef.h>

#include "isim/error.h"

/* Where the programs find their data: the option when given, else the
 * environment variable when set and not empty, else the default. Never the
 * current folder, so that a folder a program happens to run in cannot
 * change what it reads. */
const char *isim_path_resolve(const char *opt, const char *env_name, const char *fallback);

/* A catalog folder (sub is "features", "profiles" or "bases"): opt, else
 * env_name, else ISIM_DATADIR/sub (the installed catalog; for a build that
 * is not installed, the source tree it was built from). buf holds the
 * default; returns opt, the variable's value or buf. */
const char *isim_path_catalog(const char *opt, const char *env_name, const char *sub, char *buf, size_t size);

/* The folder of JSON Schemas to use instead of the built-in ones: opt, else
 * ISIM_SCHEMAS_DIR; NULL (the schemas built into the program) when neither
 * is given. */
const char *isim_path_schemas(const char *opt);

/* The trusted signers folder: opt (--trust), else $ISIM_TRUST_DIR, else
 * ISIM_TRUST_DIR_DEFAULT. */
#define ISIM_TRUST_DIR_DEFAULT "/etc/infrasim/trusted-signers"
#define ISIM_TRUST_DIR_ENV "ISIM_TRUST_DIR"
const char *isim_path_trust_dir(const char *opt);

/* 0 when dir is a folder; else ISIM_ERR_NOINPUT, "WHAT folder DIR does not
 * exist (set OPT or ENV)", naming what points elsewhere. */
int isim_path_need_dir(const char *dir, const char *what, const char *opt, const char *env_name,
		       struct isim_error *err) ISIM_MUST_CHECK;

#endif
