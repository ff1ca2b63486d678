/* SPDX-License-Identifier: MIT */
#ifndef ISIM_HASH_H
#define ISIM_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "isim/error.h"

#define ISIM_SHA256_BYTES 32
#define ISIM_SHA256_HEX (2 * ISIM_SHA256_BYTES + 1)

/* SHA-256 through OpenSSL (SHA-NI where the CPU has it). */
int isim_sha256(const void *data, size_t len, uint8_t out[static ISIM_SHA256_BYTES]) ISIM_MUST_CHECK;
/* Stream a file once; "-" is stdin. */
int isim_sha256_file(const char *path, uint8_t out[static ISIM_SHA256_BYTES], struct isim_error *err) ISIM_MUST_CHECK;
void isim_hex(const uint8_t *in, size_t len, char *out);
int isim_sha256_hex(const void *data, size_t len, char out[static ISIM_SHA256_HEX]) ISIM_MUST_CHECK;

/* SHA-256 of data that comes in pieces (a member of an archive as it is
 * written or read). end and abort free what begin took; abort is safe on a
 * context already ended or never begun (zeroed). */
struct isim_sha256_ctx {
	struct evp_md_ctx_st *ctx;
};
int isim_sha256_begin(struct isim_sha256_ctx *h) ISIM_MUST_CHECK;
int isim_sha256_update(struct isim_sha256_ctx *h, const void *data, size_t len) ISIM_MUST_CHECK;
int isim_sha256_end(struct isim_sha256_ctx *h, uint8_t out[static ISIM_SHA256_BYTES]) ISIM_MUST_CHECK;
void isim_sha256_abort(struct isim_sha256_ctx *h);

#endif
