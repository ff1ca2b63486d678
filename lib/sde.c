/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "isim/sde.h"

int isim_sde_now(const char *s, time_t *out, bool *from_env, struct isim_error *err)
{
	unsigned long long v;
	char *end;

	if (from_env)
		*from_env = false;
	if (!s) {
		*out = time(NULL);
		return 0;
	}
	/* Digits only: strtoull alone would take a sign and leading white
	 * space. */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || strspn(s, "0123456789") != strlen(s) || *end || errno || v > 253402300799ULL) {
		isim_error_pointer(err, "");
		return isim_error_set(err, ISIM_ERR_CONFIG,
				      "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds "
				      "from 0 to 253402300799",
				      s);
	}
	*out = (time_t)v;
	if (from_env)
		*from_env = true;
	return 0;
}

int isim_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -1;
	return strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}
