/* SPDX-License-Identifier: MIT */
/* The audit log's export lines from untrusted input, as `isim-memdump log
 * verify --from` reads them: one line parsed strictly into an entry, and
 * the whole input verified as an export under a fixed signer. Nothing may
 * crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "isim/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const uint8_t id[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		  struct isim_error *err)
{
	(void)ctx;
	if (id[0] != 0x71)
		return isim_error_set(err, ISIM_ERR_REFUSED, "unknown signer");
	memset(pk, 0x42, 32);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_audit_report r;
	struct isim_audit_entry e;
	struct isim_error err;
	size_t line = 0;
	FILE *f;

	isim_error_clear(&err);
	while (line < size && data[line] != '\n')
		line++;
	if (isim_audit_entry_parse((const char *)data, line, "fuzz", &e, &err) == 0)
		isim_audit_entry_free(&e);
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	(void)!isim_audit_verify_export(f, "fuzz", NULL, lookup, NULL, &r, &err);
	fclose(f);
	return 0;
}
