/* SPDX-License-Identifier: MIT */
#ifndef ISIM_VERDICT_H
#define ISIM_VERDICT_H

#include <stdbool.h>

#include "isim/error.h"
#include "isim/minisign.h"

/*
 * The result of a check that could be made: the signature holds and the
 * signer is trusted (ok), or it is refused, with a reason a script can match
 * on. A check function returns 0 with its verdict filled either way, and -1
 * with err filled only when it could not check (a missing file, malformed
 * data, no memory): "refused" is an answer, "could not check" is not.
 */

#define ISIM_VERDICT_REASON_MAX 1600
#define ISIM_VERDICT_SIGNER_MAX 4096

struct isim_verdict {
	bool ok;
	char reason[ISIM_VERDICT_REASON_MAX]; /* "" when ok; "POINTER: message" when known */
	char signer[ISIM_VERDICT_SIGNER_MAX]; /* the trusted key's .pub file, "" when none was found */
	char key_id[ISIM_MS_KEYID_HEX];	      /* the key id the signature names, "" when none */
};

/* Empty and not ok: nothing is known yet. */
void isim_verdict_init(struct isim_verdict *v);
/* ok, with no reason. */
void isim_verdict_accept(struct isim_verdict *v);
/* Refused for the reason, after "pointer: " when pointer is not NULL or "".
 * Returns 0, so that a check can end with `return isim_verdict_refuse(...)`. */
int isim_verdict_refuse(struct isim_verdict *v, const char *pointer, const char *fmt, ...) ISIM_PRINTF(3, 4);
/* Refused for the reason err gives ("pointer: message"). Returns 0. */
int isim_verdict_refuse_error(struct isim_verdict *v, const struct isim_error *err);
/* The reason an error gives, as a verdict puts it, into buf. */
void isim_verdict_reason_of(const struct isim_error *err, char *buf, size_t size);

#endif
