/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "isim/file.h"
#include "isim/hash.h"

int isim_sha256(const void *data, size_t len, uint8_t out[static ISIM_SHA256_BYTES])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

void isim_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int isim_sha256_hex(const void *data, size_t len, char out[static ISIM_SHA256_HEX])
{
	uint8_t d[ISIM_SHA256_BYTES];

	if (isim_sha256(data, len, d) < 0)
		return -1;
	isim_hex(d, sizeof(d), out);
	return 0;
}

int isim_sha256_file(const char *path, uint8_t out[static ISIM_SHA256_BYTES], struct isim_error *err)
{
	const size_t size = 1 << 20;
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	unsigned int n = 0;
	int fd, ret = -1;
	ssize_t r;

	fd = isim_file_open_input(path, NULL, err);
	if (fd < 0)
		return -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* A buffer per call, not a static one: callers may hash from several
	 * threads. */
	buf = malloc(size);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 is unavailable");
		goto out;
	}
	for (;;) {
		r = isim_read(fd, path, NULL, buf, size, err);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

int isim_sha256_begin(struct isim_sha256_ctx *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		isim_sha256_abort(h);
		return -1;
	}
	return 0;
}

int isim_sha256_update(struct isim_sha256_ctx *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int isim_sha256_end(struct isim_sha256_ctx *h, uint8_t out[static ISIM_SHA256_BYTES])
{
	unsigned int n = 0;
	int ret = EVP_DigestFinal_ex(h->ctx, out, &n) == 1 ? 0 : -1;

	isim_sha256_abort(h);
	return ret;
}

void isim_sha256_abort(struct isim_sha256_ctx *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}
