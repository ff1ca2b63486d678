/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SDE_H
#define ISIM_SDE_H

#include <stdbool.h>
#include <time.h>

#include "isim/error.h"

/* The time that goes into artifacts: sde, the value of SOURCE_DATE_EPOCH
 * the caller read (see reproducible-builds.org/specs/source-date-epoch),
 * when not NULL, else the clock; *from_env tells which. A malformed value
 * is an error (ISIM_ERR_CONFIG), never ignored. */
int isim_sde_now(const char *sde, time_t *out, bool *from_env, struct isim_error *err) ISIM_MUST_CHECK;
/* RFC 3339 UTC text, "YYYY-MM-DDTHH:MM:SSZ"; buf needs 21 bytes. */
int isim_rfc3339(time_t t, char *buf, size_t size) ISIM_MUST_CHECK;

#endif
