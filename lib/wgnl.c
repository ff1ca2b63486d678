/* stub until the netlink backend lands */
/* SPDX-License-Identifier: MIT */
#include "wg-int.h"

int isim_wg_nl_open(struct isim_wg *wg, struct isim_error *err)
{
	return isim_error_set(err, ISIM_ERR_NOINPUT, "no WireGuard device named %s", wg->name);
}

int isim_wg_nl_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	(void)wg;
	*out = NULL;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the netlink backend is not built");
}

int isim_wg_nl_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	(void)wg;
	(void)changes;
	(void)n;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the netlink backend is not built");
}

void isim_wg_nl_close(struct isim_wg *wg)
{
	(void)wg;
}

int isim_wg_nl_build_set(uint16_t family, const char *ifname, uint32_t seq, const struct isim_wg_peer *changes,
			 size_t n, size_t max_size, struct isim_buf *out, size_t *count, struct isim_error *err)
{
	(void)family;
	(void)ifname;
	(void)seq;
	(void)changes;
	(void)n;
	(void)max_size;
	(void)out;
	*count = 0;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the netlink backend is not built");
}

int isim_wg_nl_build_get(uint16_t family, const char *ifname, uint32_t seq, struct isim_buf *out,
			 struct isim_error *err)
{
	(void)family;
	(void)ifname;
	(void)seq;
	(void)out;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the netlink backend is not built");
}

int isim_wg_nl_parse_get(const void *msg, size_t len, struct isim_wg_device *d, struct isim_error *err)
{
	(void)msg;
	(void)len;
	(void)d;
	return isim_error_set(err, ISIM_ERR_UNAVAILABLE, "the netlink backend is not built");
}
