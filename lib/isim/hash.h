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

#endif
