/* SPDX-License-Identifier: MIT */
/* WireGuard devices behind one interface: the choice of backend (the UAPI
 * socket when the device has one, else the kernel's netlink family) and
 * the calls that go to it. The device type and the checks a change set
 * passes before it is sent are lib/wgpeer.c's, which both backends use. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wg-int.h"

const char *isim_wg_backend_name(enum isim_wg_backend b)
{
	switch (b) {
	case ISIM_WG_UAPI:
		return "uapi";
	case ISIM_WG_NETLINK:
		return "netlink";
	}
	return "unknown";
}

enum isim_wg_backend isim_wg_backend_of(const struct isim_wg *wg)
{
	return wg->backend;
}

int isim_wg_open(const char *dev, const char *uapi_dir, struct isim_wg **out, struct isim_error *err)
{
	struct isim_error uerr;
	struct isim_wg *wg = NULL;
	int ret = -1, i;

	*out = NULL;
	if (!isim_wg_ifname_valid(dev))
		return isim_error_set(err, ISIM_ERR_USAGE, "'%.64s' is not " ISIM_WG_IFNAME_RULE, dev);
	wg = calloc(1, sizeof(*wg));
	if (!wg)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory opening %s", dev);
	memcpy(wg->name, dev, strlen(dev) + 1);
	for (i = 0; i < ISIM_WG_SETS_MAX; i++)
		wg->pending_fd[i] = -1;
	wg->backend = ISIM_WG_UAPI;
	isim_error_clear(&uerr);
	if (isim_wg_uapi_open(wg, uapi_dir ? uapi_dir : ISIM_WG_UAPI_DIR, &uerr) == 0)
		goto ok;
	if (uerr.kind != ISIM_ERR_NOINPUT) {
		if (err)
			*err = uerr;
		goto out;
	}
	wg->backend = ISIM_WG_NETLINK;
	if (isim_wg_nl_open(wg, err) < 0)
		goto out;
ok:
	*out = wg;
	wg = NULL;
	ret = 0;
out:
	free(wg);
	return ret;
}

void isim_wg_close(struct isim_wg *wg)
{
	int i;

	if (!wg)
		return;
	if (wg->backend == ISIM_WG_NETLINK)
		isim_wg_nl_close(wg);
	for (i = 0; i < ISIM_WG_SETS_MAX; i++) {
		if (wg->pending_fd[i] >= 0)
			close(wg->pending_fd[i]);
	}
	free(wg);
}

int isim_wg_get(struct isim_wg *wg, struct isim_wg_device **out, struct isim_error *err)
{
	*out = NULL;
	if (wg->backend == ISIM_WG_NETLINK)
		return isim_wg_nl_get(wg, out, err);
	return isim_wg_uapi_get(wg, out, err);
}

int isim_wg_set_begin(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, int *ticket,
		      struct isim_error *err)
{
	int t;

	*ticket = -1;
	if (n == 0)
		return 0;
	if (isim_wg_check_changes(changes, n, err) < 0)
		return -1;
	/* Netlink's messages are acknowledged one by one: all of it now. */
	if (wg->backend == ISIM_WG_NETLINK)
		return isim_wg_nl_set(wg, changes, n, err);
	for (t = 0; t < ISIM_WG_SETS_MAX && wg->pending_fd[t] >= 0; t++)
		;
	if (t == ISIM_WG_SETS_MAX)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "%d changes of %s are outstanding already",
				      ISIM_WG_SETS_MAX, wg->name);
	if (isim_wg_uapi_set_send(wg, changes, n, t, err) < 0)
		return -1;
	*ticket = t;
	return 0;
}

int isim_wg_set_end(struct isim_wg *wg, int ticket, struct isim_error *err)
{
	if (ticket < 0 || ticket >= ISIM_WG_SETS_MAX || wg->pending_fd[ticket] < 0)
		return 0;
	return isim_wg_uapi_set_wait(wg, ticket, err);
}

int isim_wg_set(struct isim_wg *wg, const struct isim_wg_peer *changes, size_t n, struct isim_error *err)
{
	int ticket;

	if (isim_wg_set_begin(wg, changes, n, &ticket, err) < 0)
		return -1;
	return isim_wg_set_end(wg, ticket, err);
}
