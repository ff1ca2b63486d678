/* SPDX-License-Identifier: MIT */
/* The UAPI socket backend: being written on this branch. */
#include "wg-int.h"

int isim_wg_uapi_open(struct isim_wg *wg, const char *uapi_dir, struct isim_error *err)
{
	(void)wg;
	(void)uapi_dir;
	return isim_error_set(err, ISIM_ERR_NOINPUT, "no UAPI socket");
}

int isim_wg_uapi_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	(void)wg;
	*out = NULL;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the UAPI backend is not built");
}

int isim_wg_uapi_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	(void)wg;
	(void)changes;
	(void)n;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the UAPI backend is not built");
}

int isim_wg_uapi_format_set(const struct isim_wg_peer *changes, size_t n, struct isim_buf *out, struct isim_error *err)
{
	(void)changes;
	(void)n;
	(void)out;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the UAPI backend is not built");
}

int isim_wg_uapi_parse_get(const char *text, size_t len, struct isim_wg_device **out, struct isim_error *err)
{
	(void)text;
	(void)len;
	*out = NULL;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the UAPI backend is not built");
}

int isim_wg_uapi_parse_errno(const char *text, size_t len, int *errnum)
{
	(void)text;
	(void)len;
	(void)errnum;
	return -1;
}
