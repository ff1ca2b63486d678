/* SPDX-License-Identifier: MIT */
/* wa_parallel: the verifications of admit and sweep, on two threads. */
#include <pthread.h>
#include <stdbool.h>

#include "wgadmit.h"

/* One half of wa_parallel's work: every step-th i from from. */
struct half {
	int (*fn)(void *arg, size_t i, struct isim_error *err);
	void *arg;
	size_t from, n, step;
	struct isim_error err;
	int rc;
};

static void *half_run(void *arg)
{
	struct half *h = arg;
	size_t i;

	for (i = h->from; i < h->n && !h->rc; i += h->step)
		h->rc = h->fn(h->arg, i, &h->err);
	return NULL;
}

int wa_parallel(size_t n, int (*fn)(void *arg, size_t i, struct isim_error *err), void *arg, struct isim_error *err)
{
	struct half a = { .fn = fn, .arg = arg, .from = 0, .n = n, .step = 2 };
	struct half b = { .fn = fn, .arg = arg, .from = 1, .n = n, .step = 2 };
	pthread_t t;
	bool two = n >= 8 && pthread_create(&t, NULL, half_run, &b) == 0;

	isim_error_clear(&a.err);
	isim_error_clear(&b.err);
	if (!two)
		a.step = 1;
	half_run(&a);
	if (two)
		pthread_join(t, NULL);
	if (a.rc || (two && b.rc)) {
		*err = a.rc ? a.err : b.err;
		return -1;
	}
	return 0;
}
